//! Surface meteorology from a station's met file (`met_file`): pressure for
//! the zenith hydrostatic delay, and temperature and humidity for a zenith
//! wet delay when the station gives no `zwd_m`.
//!
//! File format (text; one reading per line, `#` starts a comment):
//!
//! ```text
//! # time (UTC, ISO 8601)   pressure_hpa  temperature_c  humidity_pct
//! 2026-03-14T00:00:00Z     1008.2        12.5           71
//! 2026-03-14T00:30:00Z     1008.0        12.1           73
//! ```
//!
//! Two columns (time, pressure) or four; times increasing. Values between
//! readings are interpolated linearly; before the first reading and after
//! the last the end reading holds (a station's log often starts a few
//! minutes into the session), and [`MetSeries::coverage`] lets the caller
//! warn when a job reaches beyond it.
//!
//! The wet delay from surface humidity is Saastamoinen's (1972) formula
//! ZWD = 0.002277 (1255/T + 0.05) e (m; T in K, e in hPa), with the water
//! vapour pressure e = (RH/100) f_w e_s from the saturation pressure e_s and
//! enhancement factor f_w of IERS Conventions 2010 §9.1 (eqs. for the
//! Mendes–Pavlis model, after Giacomo 1982). Surface humidity is a poor
//! proxy for the column's water vapour (errors of several cm are common),
//! which is why a solve estimates the wet delay; it still beats a constant.

use super::super::time_scales::utc_to_tt;
use formats::UtcTime;
use std::path::{Path, PathBuf};

/// One reading of the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetReading {
    /// TT modified Julian date (the troposphere's clock, [`super::mjd`]).
    pub mjd_tt: f64,
    pub pressure_hpa: f64,
    pub temperature_c: Option<f64>,
    pub humidity_pct: Option<f64>,
}

impl MetReading {
    /// Saastamoinen's zenith wet delay (m) from this reading's temperature
    /// and humidity, if it has them.
    pub fn zwd_m(&self) -> Option<f64> {
        let (t_c, rh) = (self.temperature_c?, self.humidity_pct?);
        let e = water_vapour_pressure_hpa(self.pressure_hpa, t_c, rh);
        Some(saastamoinen_zwd_m(e, t_c + 273.15))
    }
}

/// A station's met readings.
#[derive(Debug, Clone, PartialEq)]
pub struct MetSeries {
    file: PathBuf,
    readings: Vec<MetReading>,
}

impl MetSeries {
    pub fn from_file(path: &Path) -> Result<MetSeries, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the met file: {e}", path.display()))?;
        MetSeries::parse(&text, path)
    }

    /// Errors are one line: `FILE:LINE: what is wrong`.
    pub fn parse(text: &str, path: &Path) -> Result<MetSeries, String> {
        let bad = |line: usize, why: String| format!("{}:{line}: {why}", path.display());
        let mut readings: Vec<MetReading> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 2 && f.len() != 4 {
                return Err(bad(
                    i + 1,
                    format!(
                        "{} columns: expected time and pressure_hpa, optionally temperature_c and humidity_pct",
                        f.len()
                    ),
                ));
            }
            let utc = UtcTime::parse_iso8601(f[0])
                .map_err(|e| bad(i + 1, format!("time {:?}: {e}", f[0])))?;
            let num = |s: &str, what: &str, lo: f64, hi: f64| -> Result<f64, String> {
                let v: f64 = s
                    .parse()
                    .map_err(|_| bad(i + 1, format!("{what} {s:?} is not a number")))?;
                if !(lo..=hi).contains(&v) {
                    return Err(bad(i + 1, format!("{what} {v} is outside {lo} to {hi}")));
                }
                Ok(v)
            };
            let pressure_hpa = num(f[1], "pressure_hpa", 100.0, 1100.0)?;
            let (temperature_c, humidity_pct) = if f.len() == 4 {
                (
                    Some(num(f[2], "temperature_c", -90.0, 60.0)?),
                    Some(num(f[3], "humidity_pct", 0.0, 100.0)?),
                )
            } else {
                (None, None)
            };
            let mjd_tt = super::mjd(utc_to_tt(utc));
            if let Some(prev) = readings.last() {
                if mjd_tt <= prev.mjd_tt {
                    return Err(bad(i + 1, "times are not increasing".into()));
                }
            }
            readings.push(MetReading {
                mjd_tt,
                pressure_hpa,
                temperature_c,
                humidity_pct,
            });
        }
        if readings.is_empty() {
            return Err(format!("{}: no met readings", path.display()));
        }
        Ok(MetSeries {
            file: path.to_path_buf(),
            readings,
        })
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// First and last reading (TT MJD).
    pub fn coverage(&self) -> (f64, f64) {
        (
            self.readings[0].mjd_tt,
            self.readings[self.readings.len() - 1].mjd_tt,
        )
    }

    /// Whether every reading has temperature and humidity.
    pub fn has_humidity(&self) -> bool {
        self.readings.iter().all(|r| r.humidity_pct.is_some())
    }

    /// The reading at TT MJD `mjd_tt`: linear between readings, the end
    /// reading outside them.
    pub fn at(&self, mjd_tt: f64) -> MetReading {
        let r = &self.readings;
        let i = r.partition_point(|x| x.mjd_tt <= mjd_tt);
        if i == 0 {
            return MetReading { mjd_tt, ..r[0] };
        }
        if i == r.len() {
            return MetReading {
                mjd_tt,
                ..r[r.len() - 1]
            };
        }
        let (a, b) = (&r[i - 1], &r[i]);
        let w = (mjd_tt - a.mjd_tt) / (b.mjd_tt - a.mjd_tt);
        let lerp = |x: f64, y: f64| x + w * (y - x);
        let opt = |x: Option<f64>, y: Option<f64>| Some(lerp(x?, y?));
        MetReading {
            mjd_tt,
            pressure_hpa: lerp(a.pressure_hpa, b.pressure_hpa),
            temperature_c: opt(a.temperature_c, b.temperature_c),
            humidity_pct: opt(a.humidity_pct, b.humidity_pct),
        }
    }
}

/// Saturation water vapour pressure over water (hPa) at temperature `t_k`
/// (K): IERS Conventions 2010 §9.1 (after Giacomo 1982),
/// e_s = 0.01 exp(1.2378847e-5 T² − 1.9121316e-2 T + 33.93711047 − 6.3431645e3/T).
pub fn saturation_vapour_pressure_hpa(t_k: f64) -> f64 {
    0.01 * (1.2378847e-5 * t_k * t_k - 1.9121316e-2 * t_k + 33.93711047 - 6.3431645e3 / t_k).exp()
}

/// Water vapour pressure (hPa) from total pressure `p_hpa`, temperature
/// `t_c` (°C) and relative humidity `rh_pct`: e = (RH/100) f_w e_s with the
/// enhancement factor f_w = 1.00062 + 3.14e-6 p + 5.6e-7 t² (IERS 2010
/// §9.1).
pub fn water_vapour_pressure_hpa(p_hpa: f64, t_c: f64, rh_pct: f64) -> f64 {
    let f_w = 1.00062 + 3.14e-6 * p_hpa + 5.6e-7 * t_c * t_c;
    rh_pct / 100.0 * f_w * saturation_vapour_pressure_hpa(t_c + 273.15)
}

/// Saastamoinen's (1972) zenith wet delay (m) from the water vapour
/// pressure `e_hpa` and temperature `t_k` at the antenna.
pub fn saastamoinen_zwd_m(e_hpa: f64, t_k: f64) -> f64 {
    0.002277 * (1255.0 / t_k + 0.05) * e_hpa
}
