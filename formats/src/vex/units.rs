//! VEX values to SI and back: numbers with units, epochs, right ascension and
//! declination.
//!
//! Units are those of the VEX 1.5 definition ("Unit Specifications"; the same
//! in VEX 2.0): time `psec nsec usec msec sec min hr yr`, frequency
//! `mHz Hz kHz MHz GHz`, sample rate `ks/sec Ms/sec` (and `Gs/sec`, and the
//! `/s` spellings VEX 2.0 examples use), length `um mm cm m km in ft`, angle
//! `mdeg deg amin asec rad` (and `masec`, which VEX 2.0 examples use, and the
//! spellings `arcmin arcsec mas`), velocity `<length>/<time>`, and rates
//! `<time>/<time>`. Units are case-sensitive (`Mhz` is refused).
//!
//! A number scaled by a power of ten (`8212.99 MHz`, `2.5 usec`, `12 cm`) is
//! converted by moving the decimal point in the text before one correctly
//! rounded conversion, so `8212.99 MHz` is exactly the `f64` nearest to
//! 8 212 990 000 Hz. Other factors (`deg`, `asec`, `ft`, `hr`, `yr`) are one
//! `f64` multiplication. `yr` is the Julian year, 365.25 days (VEX does not
//! define it; astronomy's convention).
//!
//! The writer's formatting is the inverse: every value it writes reads back
//! to the same `f64`, except right ascension and declination whose
//! sexagesimal text cannot reach every `f64` (see `fmt_ra`).

use std::f64::consts::PI;

use crate::time::UtcTime;

/// The kind of quantity a field holds, which decides the units allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dim {
    /// seconds
    Time,
    /// hertz
    Freq,
    /// samples per second
    SampleRate,
    /// metres
    Length,
    /// radians
    Angle,
}

impl Dim {
    fn name(self) -> &'static str {
        match self {
            Dim::Time => "time",
            Dim::Freq => "frequency",
            Dim::SampleRate => "sample-rate",
            Dim::Length => "length",
            Dim::Angle => "angle",
        }
    }

    fn unit_list(self) -> &'static str {
        match self {
            Dim::Time => "psec, nsec, usec, msec, sec, min, hr, yr",
            Dim::Freq => "mHz, Hz, kHz, MHz, GHz",
            Dim::SampleRate => "ks/sec, Ms/sec, Gs/sec",
            Dim::Length => "um, mm, cm, m, km, in, ft",
            Dim::Angle => "mdeg, deg, amin, asec, masec, rad",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Factor {
    /// × 10^k, applied exactly to the decimal text.
    Pow10(i32),
    /// × f, one rounding.
    Mul(f64),
}

const JULIAN_YEAR_S: f64 = 365.25 * 86_400.0;

fn unit_factor(dim: Dim, unit: &str) -> Option<Factor> {
    use Factor::*;
    Some(match (dim, unit) {
        (Dim::Time, "psec") => Pow10(-12),
        (Dim::Time, "nsec") => Pow10(-9),
        (Dim::Time, "usec") => Pow10(-6),
        (Dim::Time, "msec") => Pow10(-3),
        (Dim::Time, "sec") => Pow10(0),
        (Dim::Time, "min") => Mul(60.0),
        (Dim::Time, "hr") => Mul(3600.0),
        (Dim::Time, "yr") => Mul(JULIAN_YEAR_S),
        (Dim::Freq, "mHz") => Pow10(-3),
        (Dim::Freq, "Hz") => Pow10(0),
        (Dim::Freq, "kHz") => Pow10(3),
        (Dim::Freq, "MHz") => Pow10(6),
        (Dim::Freq, "GHz") => Pow10(9),
        (Dim::SampleRate, "ks/sec" | "ks/s") => Pow10(3),
        (Dim::SampleRate, "Ms/sec" | "Ms/s") => Pow10(6),
        (Dim::SampleRate, "Gs/sec" | "Gs/s") => Pow10(9),
        (Dim::Length, "um") => Pow10(-6),
        (Dim::Length, "mm") => Pow10(-3),
        (Dim::Length, "cm") => Pow10(-2),
        (Dim::Length, "m") => Pow10(0),
        (Dim::Length, "km") => Pow10(3),
        (Dim::Length, "in") => Mul(0.0254),
        (Dim::Length, "ft") => Mul(0.3048),
        (Dim::Angle, "rad") => Pow10(0),
        (Dim::Angle, "deg") => Mul(PI / 180.0),
        (Dim::Angle, "mdeg") => Mul(PI / 180_000.0),
        (Dim::Angle, "amin" | "arcmin") => Mul(PI / 10_800.0),
        (Dim::Angle, "asec" | "arcsec") => Mul(PI / 648_000.0),
        (Dim::Angle, "masec" | "mas") => Mul(PI / 648_000_000.0),
        _ => return None,
    })
}

/// A decimal number as written: ±digits × 10^exp, so that scaling by powers
/// of ten is exact.
#[derive(Debug, Clone)]
struct Decimal {
    neg: bool,
    digits: String,
    exp: i64,
}

impl Decimal {
    /// `[+-]` digits `[.digits]` `[(e|E)[+-]digits]`, or with the integer
    /// part or the fraction omitted (`.5`, `5.`), as the VEX definition allows.
    fn parse(s: &str) -> Option<Decimal> {
        let b = s.as_bytes();
        let mut i = 0;
        let neg = match b.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let mut digits = String::new();
        let mut frac_digits: i64 = 0;
        let mut any = false;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i] as char);
            i += 1;
            any = true;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                digits.push(b[i] as char);
                frac_digits += 1;
                i += 1;
                any = true;
            }
        }
        if !any {
            return None;
        }
        let mut exp: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let eneg = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let from = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == from || i - from > 6 {
                return None;
            }
            let e: i64 = s[from..i].parse().ok()?;
            exp = if eneg { -e } else { e };
        }
        if i != b.len() {
            return None;
        }
        Some(Decimal {
            neg,
            digits,
            exp: exp - frac_digits,
        })
    }

    /// The value × 10^shift, correctly rounded once.
    fn to_f64(&self, shift: i32) -> f64 {
        let s = format!(
            "{}{}e{}",
            if self.neg { "-" } else { "" },
            self.digits,
            self.exp + i64::from(shift)
        );
        s.parse().unwrap_or(f64::NAN)
    }
}

fn finite(v: f64) -> Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err("number out of range".into())
    }
}

/// A number without unit × 10^k, exactly (e.g. the Mbps of `$THREADS`).
pub(crate) fn number_scaled(text: &str, k: i32) -> Result<f64, String> {
    let d = Decimal::parse(text.trim()).ok_or_else(|| "not a number".to_string())?;
    finite(d.to_f64(k))
}

/// A non-negative integer that fits `u32`.
pub(crate) fn count(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
        return Err("not a whole number".into());
    }
    t.parse().map_err(|_| "whole number too large".to_string())
}

fn split_value(text: &str) -> Result<(&str, Option<&str>), String> {
    let mut it = text.split_whitespace();
    let num = it.next().ok_or_else(|| "empty value".to_string())?;
    let unit = it.next();
    if it.next().is_some() {
        return Err("expected a number and one unit".into());
    }
    Ok((num, unit))
}

fn apply(d: &Decimal, f: Factor) -> f64 {
    match f {
        Factor::Pow10(k) => d.to_f64(k),
        Factor::Mul(m) => d.to_f64(0) * m,
    }
}

/// A number with a unit of `dim`, in SI. The unit is required.
pub(crate) fn quantity(text: &str, dim: Dim) -> Result<f64, String> {
    quantity_default(text, dim, None).map(|(v, _)| v)
}

/// A number with a unit of `dim`, in SI; without a unit, `default` is used
/// (the unit of the previous value of a list). Returns the unit used.
pub(crate) fn quantity_default<'a>(
    text: &'a str,
    dim: Dim,
    default: Option<&'a str>,
) -> Result<(f64, &'a str), String> {
    let (num, unit) = split_value(text)?;
    let d = Decimal::parse(num).ok_or_else(|| format!("{num:?} is not a number"))?;
    let unit = match unit.or(default) {
        Some(u) => u,
        None => {
            return Err(format!(
                "missing unit (a {} unit: {})",
                dim.name(),
                dim.unit_list()
            ))
        }
    };
    let f = unit_factor(dim, unit).ok_or_else(|| {
        format!(
            "unknown unit {unit:?} (expected a {} unit: {})",
            dim.name(),
            dim.unit_list()
        )
    })?;
    Ok((finite(apply(&d, f))?, unit))
}

/// A list of quantities where, as the VEX definition allows for lists of
/// variable length, only the first must carry a unit and later ones without a
/// unit take the unit before them.
pub(crate) fn quantity_list(texts: &[&str], dim: Dim) -> Result<Vec<f64>, (usize, String)> {
    let mut out = Vec::with_capacity(texts.len());
    let mut unit: Option<&str> = None;
    for (i, t) in texts.iter().enumerate() {
        let (v, u) = quantity_default(t, dim, unit).map_err(|e| (i, e))?;
        unit = Some(u);
        out.push(v);
    }
    Ok(out)
}

fn split_ratio(unit: &str) -> Option<(&str, &str)> {
    // `sec/sec` but also `Ms/sec`: split at the last '/'.
    let at = unit.rfind('/')?;
    Some((&unit[..at], &unit[at + 1..]))
}

/// A velocity `<length>/<time>` (e.g. `-0.0149 m/yr`, `0.17 cm/yr`) in m/yr.
/// The unit is required.
pub(crate) fn velocity_m_per_yr(text: &str) -> Result<f64, String> {
    let (num, unit) = split_value(text)?;
    let d = Decimal::parse(num).ok_or_else(|| format!("{num:?} is not a number"))?;
    let unit = unit.ok_or_else(|| "missing unit (a velocity unit such as m/yr)".to_string())?;
    let bad = || format!("unknown unit {unit:?} (expected <length>/<time>, e.g. m/yr, mm/yr)");
    let (l, t) = split_ratio(unit).ok_or_else(bad)?;
    let lf = unit_factor(Dim::Length, l).ok_or_else(bad)?;
    let tf = unit_factor(Dim::Time, t).ok_or_else(bad)?;
    let v = apply(&d, lf);
    let v = match tf {
        Factor::Mul(y) if y == JULIAN_YEAR_S => v,
        Factor::Mul(s) => v / s * JULIAN_YEAR_S,
        Factor::Pow10(k) => v / 10f64.powi(k) * JULIAN_YEAR_S,
    };
    finite(v)
}

/// A dimensionless rate in s/s: a bare number, or `<time>/<time>` such as
/// `psec/sec` (a clock rate).
pub(crate) fn time_rate(text: &str) -> Result<f64, String> {
    let (num, unit) = split_value(text)?;
    let d = Decimal::parse(num).ok_or_else(|| format!("{num:?} is not a number"))?;
    let Some(unit) = unit else {
        return finite(d.to_f64(0));
    };
    let bad = || format!("unknown unit {unit:?} (expected <time>/<time>, e.g. sec/sec, psec/sec)");
    let (a, b) = split_ratio(unit).ok_or_else(bad)?;
    let af = unit_factor(Dim::Time, a).ok_or_else(bad)?;
    let bf = unit_factor(Dim::Time, b).ok_or_else(bad)?;
    let v = match (af, bf) {
        (Factor::Pow10(x), Factor::Pow10(y)) => d.to_f64(x - y),
        (a, b) => {
            let f = |f: Factor| match f {
                Factor::Pow10(k) => 10f64.powi(k),
                Factor::Mul(m) => m,
            };
            d.to_f64(0) * f(a) / f(b)
        }
    };
    finite(v)
}

fn days_in_year(y: i64) -> u32 {
    if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
        366
    } else {
        365
    }
}

/// A VEX epoch `2026y061d12h00m00s` (UTC; day of year 1–366; fields may be
/// cut from the right: `2026y061d`; a 2-digit year is 1950–2049), or a bare
/// number, taken as an MJD (sched writes `site_position_epoch = 56658;`).
pub(crate) fn epoch(text: &str) -> Result<UtcTime, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty epoch".into());
    }
    if t.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        let d = Decimal::parse(t).ok_or_else(|| "not an epoch".to_string())?;
        let mjd = d.to_f64(0);
        if !(0.0..1.0e6).contains(&mjd) {
            return Err("MJD out of range".into());
        }
        let day = mjd.floor();
        return Ok(UtcTime::from_mjd(day as i64, (mjd - day) * 86_400.0));
    }
    let expect = "expected an epoch like 2026y061d12h00m00s";
    let mut rest = t;
    let mut take =
        |letter: char, allow_frac: bool| -> Result<Option<(u64, Option<&str>)>, String> {
            if rest.is_empty() {
                return Ok(None);
            }
            let end = rest.find(letter).ok_or_else(|| expect.to_string())?;
            let num = &rest[..end];
            rest = &rest[end + letter.len_utf8()..];
            let (int, frac) = match num.split_once('.') {
                Some((i, f)) if allow_frac => (i, Some(f)),
                Some(_) => return Err("only the seconds may have a fraction".into()),
                None => (num, None),
            };
            if int.is_empty() || int.len() > 4 || !int.bytes().all(|c| c.is_ascii_digit()) {
                return Err(expect.to_string());
            }
            if let Some(f) = frac {
                if !f.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(expect.to_string());
                }
            }
            Ok(Some((int.parse().map_err(|_| expect.to_string())?, frac)))
        };
    let (y, _) = take('y', false)?.ok_or_else(|| expect.to_string())?;
    let doy = take('d', false)?.map_or(1, |v| v.0);
    let h = take('h', false)?.map_or(0, |v| v.0);
    let m = take('m', false)?.map_or(0, |v| v.0);
    let (s, frac) = take('s', true)?.unwrap_or((0, None));
    if !rest.is_empty() {
        return Err(format!("unexpected {rest:?} at the end ({expect})"));
    }
    let year = match (y, t.find('y')) {
        (y, Some(2)) if y < 50 => 2000 + y as i64,
        (y, Some(2)) => 1900 + y as i64,
        (y, _) => y as i64,
    };
    if doy < 1 || doy > u64::from(days_in_year(year)) {
        return Err(format!("day of year {doy} out of range for {year}"));
    }
    if h > 23 || m > 59 || s > 59 {
        return Err("hour, minute or second out of range".into());
    }
    let frac = match frac {
        None | Some("") => 0.0,
        Some(f) => format!("0.{f}")
            .parse::<f64>()
            .map_err(|_| expect.to_string())?,
    };
    let jan1 = UtcTime::from_calendar(year as i32, 1, 1, h as u32, m as u32, s as u32, 0.0);
    Ok(UtcTime::new(jan1.sec() + (doy as i64 - 1) * 86_400, frac))
}

/// Right ascension `19h24m51.0559s` in radians:
/// (h·3600 + m·60 + s)·π/43200.
pub(crate) fn ra(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let bad = || "expected a right ascension like 19h24m51.0559s".to_string();
    let (h, rest) = t.split_once('h').ok_or_else(bad)?;
    let (m, rest) = rest.split_once('m').ok_or_else(bad)?;
    let s = rest.strip_suffix('s').ok_or_else(bad)?;
    let h = count(h).map_err(|_| bad())?;
    let m = count(m).map_err(|_| bad())?;
    let sd = Decimal::parse(s)
        .filter(|d| !d.neg && !s.starts_with('+'))
        .ok_or_else(bad)?;
    let s = sd.to_f64(0);
    if h > 23 || m > 59 || !(0.0..60.0).contains(&s) {
        return Err("hours, minutes or seconds out of range".into());
    }
    Ok(ra_rad_from_hms(h, m, s))
}

/// Declination `-29d14'30.121"` in radians: ±(d + m/60 + s/3600)·π/180, the
/// sign taken from the text (so `-00d30'00"` is negative).
pub(crate) fn dec(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let bad = || "expected a declination like -29d14'30.121\"".to_string();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (d, rest) = body.split_once('d').ok_or_else(bad)?;
    let (m, rest) = rest.split_once('\'').ok_or_else(bad)?;
    let s = rest.strip_suffix('"').unwrap_or(rest);
    let d = count(d).map_err(|_| bad())?;
    let m = count(m).map_err(|_| bad())?;
    let sd = Decimal::parse(s)
        .filter(|d| !d.neg && !s.starts_with('+'))
        .ok_or_else(bad)?;
    let s = sd.to_f64(0);
    if m > 59 || !(0.0..60.0).contains(&s) || (d > 90) || (d == 90 && (m > 0 || s > 0.0)) {
        return Err("degrees, minutes or seconds out of range".into());
    }
    Ok(dec_rad_from_dms(neg, d, m, s))
}

/// (h·3600 + m·60 + s)·π/43200: the conversion `ra` uses, for building
/// models in code that compare equal to parsed ones.
pub fn ra_rad_from_hms(h: u32, m: u32, s: f64) -> f64 {
    (f64::from(h) * 3600.0 + f64::from(m) * 60.0 + s) * (PI / 43_200.0)
}

/// ±(d·3600 + m·60 + s)·π/648000: the conversion `dec` uses.
pub fn dec_rad_from_dms(negative: bool, d: u32, m: u32, s: f64) -> f64 {
    let v = (f64::from(d) * 3600.0 + f64::from(m) * 60.0 + s) * (PI / 648_000.0);
    if negative {
        -v
    } else {
        v
    }
}

// ---- formatting (the writer) ----

/// The shortest decimal text of `v` (which reads back to `v`), × 10^-k.
fn shifted(v: f64, k: i32) -> String {
    // `{:e}` gives the shortest round-trip digits: d.ddddde±x.
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let sign = if neg { "-" } else { "" };
    if digits.is_empty() {
        return "0".to_string();
    }
    // value = 0.digits × 10^(exp+1) / 10^k → point after (exp + 1 - k) digits.
    let point = exp + 1 - i64::from(k);
    let n = digits.len() as i64;
    let body = if point <= -6 || point > 21 {
        format!("{}e{}", spaced(digits), point - 1)
    } else if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point >= n {
        format!("{}{}", digits, "0".repeat((point - n) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    format!("{sign}{body}")
}

/// `d.ddd` from a digit string (for exponent notation).
fn spaced(digits: &str) -> String {
    if digits.len() == 1 {
        digits.to_string()
    } else {
        format!("{}.{}", &digits[..1], &digits[1..])
    }
}

/// A number without unit that reads back to the same `f64`.
pub(crate) fn fmt_number(v: f64) -> String {
    shifted(v, 0)
}

/// `v` (SI) in `unit` of `dim`, such that [`quantity`] reads it back to the
/// same `f64`; falls back to the SI unit when `unit` cannot (a non-decimal
/// factor whose quotient does not round-trip).
pub(crate) fn fmt_quantity(v: f64, dim: Dim, unit: &str) -> String {
    match unit_factor(dim, unit) {
        Some(Factor::Pow10(k)) => return format!("{} {unit}", shifted(v, k)),
        Some(Factor::Mul(m)) => {
            // The fewest significant digits of v / m that read back to v.
            let q = v / m;
            for prec in 0..17 {
                let s = format!(
                    "{} {unit}",
                    shifted(format!("{q:.prec$e}").parse().unwrap_or(q), 0)
                );
                if quantity(&s, dim).is_ok_and(|back| back.to_bits() == v.to_bits()) {
                    return s;
                }
            }
            for cand in [
                q,
                next_toward(q, f64::INFINITY),
                next_toward(q, f64::NEG_INFINITY),
            ] {
                let s = format!("{} {unit}", shifted(cand, 0));
                if quantity(&s, dim).is_ok_and(|back| back.to_bits() == v.to_bits()) {
                    return s;
                }
            }
        }
        None => {}
    }
    let base = match dim {
        Dim::Time => "sec",
        Dim::Freq => "Hz",
        Dim::SampleRate => "ks/sec",
        Dim::Length => "m",
        Dim::Angle => "rad",
    };
    let k = if dim == Dim::SampleRate { 3 } else { 0 };
    format!("{} {base}", shifted(v, k))
}

fn next_toward(x: f64, to: f64) -> f64 {
    if !x.is_finite() || x == to {
        return x;
    }
    if x == 0.0 {
        let tiny = f64::from_bits(1);
        return if to > 0.0 { tiny } else { -tiny };
    }
    let bits = x.to_bits();
    let up = (to > x) == (x > 0.0);
    f64::from_bits(if up { bits + 1 } else { bits - 1 })
}

/// A velocity in m/yr as `v m/yr` (exact).
pub(crate) fn fmt_velocity(v_m_per_yr: f64) -> String {
    format!("{} m/yr", shifted(v_m_per_yr, 0))
}

/// `2026y061d12h00m00s`, with the fraction of the second when there is one
/// (read back exactly).
pub(crate) fn fmt_epoch(t: UtcTime) -> String {
    let (y, mo, d, h, mi, s, frac) = t.calendar();
    let doy = UtcTime::from_calendar(y, mo, d, 0, 0, 0, 0.0).sec() / 86_400
        - UtcTime::from_calendar(y, 1, 1, 0, 0, 0, 0.0).sec() / 86_400
        + 1;
    let frac_text = if frac > 0.0 {
        let f = format!("{frac}");
        f.strip_prefix('0').unwrap_or(&f).to_string()
    } else {
        String::new()
    };
    format!("{y:04}y{doy:03}d{h:02}h{mi:02}m{s:02}{frac_text}s")
}

/// Sexagesimal text for an angle `x` (rad): `render(whole units, minutes,
/// seconds text)` for `secs_per_rad` seconds of those units per radian
/// (hours: 43200/π, degrees: 648000/π). Tries 0–12 decimals of the seconds
/// and keeps the first text that `read` gives back as exactly `x`; if none
/// does (the text cannot reach every `f64`), the closest one `read` accepts.
fn sexagesimal(
    x: f64,
    secs_per_rad: f64,
    render: impl Fn(u32, u32, &str) -> String,
    read: impl Fn(&str) -> Result<f64, String>,
) -> String {
    let total = x.abs() * secs_per_rad;
    let mut best: Option<(f64, String)> = None;
    for digits in 0..=12usize {
        // Round the total seconds to `digits` decimals, then split, so that a
        // carry (59.99995 → 60.0000) moves into the minutes.
        let scale = 10f64.powi(digits as i32);
        let rounded = (total * scale).round() / scale;
        let whole = rounded.floor();
        let mut u = (whole / 3600.0).floor();
        let mut m = ((whole - u * 3600.0) / 60.0).floor();
        let mut s = rounded - u * 3600.0 - m * 60.0;
        if s >= 60.0 {
            s -= 60.0;
            m += 1.0;
        }
        if m >= 60.0 {
            m -= 60.0;
            u += 1.0;
        }
        let s = s.max(0.0);
        let secs = format!(
            "{s:0w$.digits$}",
            w = if digits == 0 { 2 } else { digits + 3 }
        );
        let text = render(u as u32, m as u32, &secs);
        // Out of range (24h, 60 s after rounding, beyond a pole): not a candidate.
        let Ok(back) = read(&text) else { continue };
        if back.to_bits() == x.to_bits() {
            return text;
        }
        let err = (back - x).abs();
        if best.as_ref().is_none_or(|b| err < b.0) {
            best = Some((err, text));
        }
    }
    best.map_or_else(|| render(0, 0, "00"), |b| b.1)
}

/// Right ascension in the VEX form `19h24m51.0559s`. Reads back to `ra_rad`
/// exactly when some text of ≤ 12 decimals does (always for values that
/// came from VEX text or [`ra_rad_from_hms`]); otherwise to within an ulp.
pub(crate) fn fmt_ra(ra_rad: f64) -> String {
    let x = ra_rad.rem_euclid(2.0 * PI);
    sexagesimal(
        x,
        43_200.0 / PI,
        |h, m, s| format!("{h:02}h{m:02}m{s}s"),
        ra,
    )
}

/// Declination in the VEX form `-29d14'30.121"`; exactness as [`fmt_ra`].
pub(crate) fn fmt_dec(dec_rad: f64) -> String {
    let sign = if dec_rad.is_sign_negative() && dec_rad != 0.0 {
        "-"
    } else {
        "+"
    };
    sexagesimal(
        dec_rad,
        648_000.0 / PI,
        |d, m, s| format!("{sign}{d:02}d{m:02}'{s}\""),
        dec,
    )
}
