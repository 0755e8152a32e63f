//! Precise UTC instants: whole seconds and a fraction kept apart.
//!
//! An `f64` of seconds since 2000 has a resolution of ~100 ns at 2026 — far too
//! coarse for Earth–Moon delays of 1.4 s that must be right to picoseconds. So an
//! instant is an integer count of seconds plus an `f64` fraction in `[0, 1)`
//! (resolution ~1e-16 s).
//!
//! The integer count is "POSIX-style" UTC: 86 400 s per day since
//! 2000-01-01T00:00:00 UTC, leap seconds not counted. That is how VDIF counts
//! (whole seconds within a half-year reference epoch, and leap seconds fall only at
//! epoch boundaries), and it makes calendar arithmetic exact. Conversions to
//! TAI/TT/TDB, which need the leap-second table, live in the delay model.

use std::fmt;
use std::str::FromStr;

/// Seconds in a day of UTC labels (leap seconds are not counted; see module docs).
pub const SECONDS_PER_DAY: i64 = 86_400;
/// Modified Julian Date of 2000-01-01 (our zero).
pub const MJD_2000: i64 = 51_544;

/// An instant in UTC: `sec` whole seconds since 2000-01-01T00:00:00 UTC plus
/// `frac` seconds, with `0 <= frac < 1` always.
#[derive(Clone, Copy, PartialEq, PartialOrd, Debug, Default)]
pub struct UtcTime {
    sec: i64,
    frac: f64,
}

/// Why a time string could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid UTC time {text:?}: {why} (expected e.g. 2026-03-14T23:45:00.123456789Z)")]
pub struct TimeParseError {
    pub text: String,
    pub why: &'static str,
}

impl UtcTime {
    /// From whole seconds since 2000-01-01T00:00:00 UTC and a fraction (any
    /// finite value; it is normalised into `[0, 1)`).
    pub fn new(sec: i64, frac: f64) -> Self {
        let mut t = UtcTime { sec, frac: 0.0 };
        t = t.add_seconds(frac);
        t
    }

    /// Whole seconds since 2000-01-01T00:00:00 UTC.
    pub fn sec(self) -> i64 {
        self.sec
    }

    /// Fraction of a second, in `[0, 1)`.
    pub fn frac(self) -> f64 {
        self.frac
    }

    /// From a calendar date and time of day (proleptic Gregorian).
    pub fn from_calendar(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        min: u32,
        sec: u32,
        frac: f64,
    ) -> Self {
        let days = days_from_civil(year as i64, month, day) - days_from_civil(2000, 1, 1);
        UtcTime::new(
            days * SECONDS_PER_DAY + hour as i64 * 3600 + min as i64 * 60 + sec as i64,
            frac,
        )
    }

    /// From a Modified Julian Date (integer day) and seconds into that day.
    pub fn from_mjd(mjd: i64, sec_of_day: f64) -> Self {
        UtcTime::new((mjd - MJD_2000) * SECONDS_PER_DAY, sec_of_day)
    }

    /// Integer MJD of the day this instant falls in, and the seconds into it.
    pub fn mjd(self) -> (i64, f64) {
        let day = self.sec.div_euclid(SECONDS_PER_DAY);
        let sod = self.sec.rem_euclid(SECONDS_PER_DAY) as f64 + self.frac;
        (day + MJD_2000, sod)
    }

    /// Calendar fields: (year, month, day, hour, minute, second), plus the fraction.
    pub fn calendar(self) -> (i32, u32, u32, u32, u32, u32, f64) {
        let day = self.sec.div_euclid(SECONDS_PER_DAY);
        let sod = self.sec.rem_euclid(SECONDS_PER_DAY);
        let (y, m, d) = civil_from_days(day + days_from_civil(2000, 1, 1));
        (
            y as i32,
            m,
            d,
            (sod / 3600) as u32,
            ((sod / 60) % 60) as u32,
            (sod % 60) as u32,
            self.frac,
        )
    }

    /// This instant moved by `dt_s` seconds (any sign). The integer part of
    /// `dt_s` is carried exactly; only its fraction meets floating point.
    pub fn add_seconds(self, dt_s: f64) -> Self {
        let (sec, frac) = add_carrying(self.sec, self.frac, dt_s);
        UtcTime { sec, frac }
    }

    /// Moved by whole seconds plus a fraction, exactly for the whole part.
    pub fn add(self, whole_s: i64, frac_s: f64) -> Self {
        UtcTime {
            sec: self.sec + whole_s,
            frac: self.frac,
        }
        .add_seconds(frac_s)
    }

    /// `self - earlier` in seconds: integer parts subtracted exactly first.
    pub fn seconds_since(self, earlier: UtcTime) -> f64 {
        (self.sec - earlier.sec) as f64 + (self.frac - earlier.frac)
    }

    /// ISO 8601 with nanoseconds and a `Z`, e.g. `2026-03-14T23:45:00.000000000Z`.
    pub fn to_iso8601(self) -> String {
        self.to_iso8601_digits(9)
    }

    /// ISO 8601 with `digits` (0..=12) fractional digits, rounded to nearest.
    pub fn to_iso8601_digits(self, digits: u32) -> String {
        let digits = digits.min(12);
        let scale = 10u64.pow(digits);
        let mut units = (self.frac * scale as f64).round() as u64;
        let mut t = self;
        if units >= scale {
            units -= scale;
            t = UtcTime {
                sec: t.sec + 1,
                frac: 0.0,
            };
        }
        let (y, mo, d, h, mi, s, _) = t.calendar();
        if digits == 0 {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{units:0width$}Z",
                width = digits as usize
            )
        }
    }

    /// Parse ISO 8601 `YYYY-MM-DDTHH:MM:SS[.fff…][Z]` (UTC; a trailing `Z` is
    /// optional, other zones are refused). The fraction may have any number of
    /// digits; it is read exactly up to 18 digits.
    pub fn parse_iso8601(text: &str) -> Result<Self, TimeParseError> {
        let err = |why| TimeParseError {
            text: text.to_string(),
            why,
        };
        let s = text.trim();
        let s = s
            .strip_suffix('Z')
            .or_else(|| s.strip_suffix('z'))
            .unwrap_or(s);
        let (date, time) = s
            .split_once(['T', 't', ' '])
            .ok_or_else(|| err("no 'T' between date and time"))?;
        let mut dp = date.split('-');
        let year: i32 = num(dp.next()).ok_or_else(|| err("bad year"))?;
        let month: u32 = num(dp.next()).ok_or_else(|| err("bad month"))?;
        let day: u32 = num(dp.next()).ok_or_else(|| err("bad day"))?;
        if dp.next().is_some() {
            return Err(err("date has too many fields"));
        }
        if !(1..=12).contains(&month) {
            return Err(err("month out of range"));
        }
        if day < 1 || day > days_in_month(year as i64, month) {
            return Err(err("day out of range"));
        }
        if time.contains(['+', '-']) {
            return Err(err("only UTC ('Z') is accepted"));
        }
        let (hms, frac_text) = match time.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time, None),
        };
        let mut tp = hms.split(':');
        let hour: u32 = num(tp.next()).ok_or_else(|| err("bad hour"))?;
        let min: u32 = num(tp.next()).ok_or_else(|| err("bad minute"))?;
        let sec: u32 = num(tp.next()).ok_or_else(|| err("bad second"))?;
        if tp.next().is_some() {
            return Err(err("time has too many fields"));
        }
        if hour > 23 || min > 59 || sec > 59 {
            return Err(err("hour, minute or second out of range"));
        }
        let frac = match frac_text {
            None => 0.0,
            Some(f) => {
                if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("bad fraction of a second"));
                }
                // Read up to 18 digits as an integer so the fraction is exact to
                // the f64 rounding of a single division.
                let kept = &f[..f.len().min(18)];
                let n: u64 = kept.parse().map_err(|_| err("bad fraction of a second"))?;
                n as f64 / 10f64.powi(kept.len() as i32)
            }
        };
        Ok(UtcTime::from_calendar(
            year, month, day, hour, min, sec, frac,
        ))
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

impl FromStr for UtcTime {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UtcTime::parse_iso8601(s)
    }
}

/// `(sec, frac) + dt_s` as whole seconds and a fraction in `[0, 1)`: the
/// integer part of `dt_s` is carried exactly, only its fraction meets floating
/// point. Shared by every "seconds + fraction" instant type (UTC here, the
/// uniform time scales of the delay model).
pub fn add_carrying(sec: i64, frac: f64, dt_s: f64) -> (i64, f64) {
    let whole = dt_s.floor();
    let mut sec = sec + whole as i64;
    let mut frac = frac + (dt_s - whole);
    // frac is now in [0, 2); fold the carry back into the integer seconds.
    let carry = frac.floor();
    sec += carry as i64;
    frac -= carry;
    if frac >= 1.0 {
        // (1 - tiny) + tiny can round up to exactly 1.0
        sec += 1;
        frac = 0.0;
    }
    (sec, frac)
}

fn num<T: FromStr>(s: Option<&str>) -> Option<T> {
    let s = s?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap_year(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// "days_from_civil" algorithm, public domain description).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_mjd_agree_with_the_calendar() {
        // MJD 61113 is 2026-03-14 (MJD 51544 = 2000-01-01; 2026-03-14 is 9569 days later).
        let t = UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.25);
        assert_eq!(t.mjd(), (61_113, 85_500.25));
        assert_eq!(UtcTime::from_mjd(61_113, 85_500.25), t);
        assert_eq!(UtcTime::from_calendar(2000, 1, 1, 0, 0, 0, 0.0).sec(), 0);
        // 1999-12-31T23:59:59 is one second before our zero.
        assert_eq!(
            UtcTime::from_calendar(1999, 12, 31, 23, 59, 59, 0.0).sec(),
            -1
        );
    }

    #[test]
    fn iso8601_round_trips_with_nanoseconds() {
        for s in [
            "2026-03-14T23:45:00.000000000Z",
            "2024-02-29T12:00:01.123456789Z",
            "1999-12-31T23:59:59.999999999Z",
            "2026-12-31T23:59:59.000000001Z",
        ] {
            assert_eq!(UtcTime::parse_iso8601(s).unwrap().to_iso8601(), s);
        }
        assert_eq!(
            UtcTime::parse_iso8601("2026-03-14T23:45:00Z")
                .unwrap()
                .to_iso8601_digits(0),
            "2026-03-14T23:45:00Z"
        );
    }

    #[test]
    fn rounding_carries_into_the_next_second_and_day() {
        let t = UtcTime::from_calendar(2026, 12, 31, 23, 59, 59, 0.9999999999);
        assert_eq!(t.to_iso8601(), "2027-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn adding_keeps_integer_seconds_exact() {
        let t0 = UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0);
        // 1e9 steps of 1 ns in f64-since-2000 would drift; here one add of a large
        // offset and its inverse return exactly.
        let t1 = t0.add_seconds(1.3e5 + 0.123_456_789_012);
        assert!((t1.seconds_since(t0) - (1.3e5 + 0.123_456_789_012)).abs() < 1e-11);
        let back = t1.add_seconds(-(1.3e5 + 0.123_456_789_012));
        assert_eq!(back.sec(), t0.sec());
        assert!(back.frac() < 1e-11 || back.frac() > 1.0 - 1e-11);
        // A negative step across a second boundary.
        let t2 = UtcTime::new(10, 0.25).add_seconds(-0.5);
        assert_eq!((t2.sec(), t2.frac()), (9, 0.75));
        // Picosecond steps are resolved at 2026 (an f64 of seconds since 2000 cannot).
        let t3 = t0.add_seconds(1e-12);
        assert!((t3.seconds_since(t0) - 1e-12).abs() < 1e-16);
    }

    #[test]
    fn bad_strings_are_refused_with_a_reason() {
        for s in [
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-03-14 25:00:00",
            "2026-03-14T23:45:00+01:00",
            "yesterday",
            "2026-03-14T23:45:00.Z",
        ] {
            assert!(UtcTime::parse_iso8601(s).is_err(), "{s} accepted");
        }
    }
}
