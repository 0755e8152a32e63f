//! Time scales: UTC → TAI → TT → TDB, kept as whole seconds plus a fraction.
//!
//! A TDB instant as one `f64` of seconds since J2000 resolves only ~0.1 µs in
//! 2026, during which the Earth moves 3 mm (10 ps of delay). So every instant in
//! the model is an [`Instant`]: whole seconds since J2000.0 (2000-01-01T12:00:00
//! of its own scale) plus an `f64` fraction, like [`UtcTime`].
//!
//! UTC → TAI uses hifitime's leap-second table; TAI → TT is the fixed 32.184 s;
//! TT → TDB is SOFA's `dtdb` (through sofars), because hifitime's own TDB
//! differs from it by ~23 µs (see /work/shared/DEPENDENCIES.md).

use formats::UtcTime;

/// Seconds from 2000-01-01T00:00:00 to J2000.0 (12:00 of the same day).
const NOON_S: i64 = 43_200;
/// TT − TAI (exact, by definition).
pub const TT_MINUS_TAI_S: f64 = 32.184;
/// Julian date of J2000.0.
pub const JD_J2000: f64 = 2_451_545.0;
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// An instant on some uniform scale (TT, TDB or UT1, as the name of the
/// variable says): whole seconds since J2000.0 of that scale plus `frac` in [0, 1).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Instant {
    sec: i64,
    frac: f64,
}

impl Instant {
    pub fn new(sec: i64, frac: f64) -> Instant {
        Instant { sec, frac: 0.0 }.add_seconds(frac)
    }

    pub fn sec(self) -> i64 {
        self.sec
    }

    pub fn frac(self) -> f64 {
        self.frac
    }

    /// Moved by `dt_s` (any sign); the whole part is carried exactly.
    pub fn add_seconds(self, dt_s: f64) -> Instant {
        let (sec, frac) = formats::time::add_carrying(self.sec, self.frac, dt_s);
        Instant { sec, frac }
    }

    /// `self − earlier` in seconds (integer parts subtracted first).
    pub fn seconds_since(self, earlier: Instant) -> f64 {
        (self.sec - earlier.sec) as f64 + (self.frac - earlier.frac)
    }

    /// Seconds since J2000.0 as one `f64` (loses precision: for slow series only).
    pub fn seconds_f64(self) -> f64 {
        self.sec as f64 + self.frac
    }

    /// Two-part Julian date (J2000.0 + whole days, fraction of day) as SOFA wants it.
    pub fn jd2(self) -> (f64, f64) {
        let day = self.sec.div_euclid(86_400);
        let rem = self.sec.rem_euclid(86_400) as f64 + self.frac;
        (JD_J2000 + day as f64, rem / SECONDS_PER_DAY)
    }

    /// Julian centuries since J2000.0 (for slowly varying series).
    pub fn centuries(self) -> f64 {
        self.seconds_f64() / (36_525.0 * SECONDS_PER_DAY)
    }
}

/// TAI − UTC (leap seconds) at a UTC instant, from hifitime's table.
pub fn tai_minus_utc_s(utc: UtcTime) -> f64 {
    // Leap seconds are inserted only at the end of a UTC day: asking at noon
    // of the day keeps hifitime's lookup away from the step.
    let (y, mo, d, _, _, _, _) = utc.calendar();
    let e = hifitime::Epoch::from_gregorian_utc(y, mo as u8, d as u8, 12, 0, 0, 0);
    e.leap_seconds(true).unwrap_or(0.0)
}

/// The UTC label of `utc` as an instant "since J2000.0 UTC" (for UT1 = UTC + dUT1).
pub fn utc_instant(utc: UtcTime) -> Instant {
    Instant::new(utc.sec() - NOON_S, utc.frac())
}

/// TT of a UTC instant.
pub fn utc_to_tt(utc: UtcTime) -> Instant {
    utc_instant(utc).add_seconds(tai_minus_utc_s(utc) + TT_MINUS_TAI_S)
}

/// TDB − TT at the geocentre (SOFA `dtdb` with the observer at the geocentre:
/// the periodic part of the TCB−TCG relation of IERS Conventions 2010 ch. 10
/// at the geocentre; the location term V⊕·(x − X⊕)/c² is
/// added separately by the caller).
pub fn tdb_minus_tt_s(tt: Instant) -> f64 {
    let (d1, d2) = tt.jd2();
    sofars::ts::dtdb(d1, d2, 0.0, 0.0, 0.0, 0.0)
}

/// TDB of a TT instant (geocentre).
pub fn tt_to_tdb(tt: Instant) -> Instant {
    tt.add_seconds(tdb_minus_tt_s(tt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_seconds_and_tt_offset() {
        // TAI − UTC = 37 s since 2017-01-01 (IERS Bulletin C), 36 s before.
        let t = UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.25);
        assert_eq!(tai_minus_utc_s(t), 37.0);
        assert_eq!(
            tai_minus_utc_s(UtcTime::from_calendar(2016, 12, 31, 23, 59, 59, 0.0)),
            36.0
        );
        let tt = utc_to_tt(t);
        // 2026-03-14T23:45:00.25 UTC = 9569 days + 42300.25 s after J2000.0 UTC.
        let want = 9569.0 * 86400.0 + 42300.25 + 37.0 + 32.184;
        assert!((tt.seconds_since(Instant::new(0, 0.0)) - want).abs() < 1e-9);
    }

    #[test]
    fn tdb_minus_tt_is_the_annual_term() {
        // Closed form of the dominant term (Fairhead & Bretagnon): 1.657 ms sin(g),
        // g = 357.53° + 0.98560028° d; agreement to the next terms (~30 µs).
        for day in [0.0_f64, 50.0, 100.0, 200.0, 300.0] {
            let tt = Instant::new(9496 * 86400 + (day * 86400.0) as i64, 0.0);
            let d = tt.seconds_f64() / 86400.0;
            let g = (357.53 + 0.985_600_28 * d).to_radians();
            let approx = 0.001_657 * g.sin() + 0.000_014 * (2.0 * g).sin();
            assert!((tdb_minus_tt_s(tt) - approx).abs() < 4e-5);
        }
    }

    #[test]
    fn instant_arithmetic_keeps_precision() {
        let t = Instant::new(830_000_000, 0.75);
        let u = t.add_seconds(1.25e-9);
        assert!((u.seconds_since(t) - 1.25e-9).abs() < 2e-16);
        let (a, b) = Instant::new(-43_200, 0.0).jd2();
        assert_eq!(a + b, 2_451_544.5);
    }
}
