//! CCSDS Orbit Ephemeris Message (OEM, CCSDS 502.0-B, KVN text): a table of
//! state vectors, interpolated with 8-point Lagrange polynomials.
//!
//! Supported: `CENTER_NAME` EARTH, MOON, SOLAR SYSTEM BARYCENTER (or SSB),
//! EARTH-MOON BARYCENTER; `REF_FRAME` ICRF, GCRF (axes of the ICRS) or
//! EME2000 (the IAU 2006 frame bias is applied); `TIME_SYSTEM` UTC, TT, TDB.
//! Positions in km, velocities in km/s (the standard's units).

use super::error::ModelError;
use super::time_scales::{tt_to_tdb, utc_instant, utc_to_tt, Instant};
use super::vector::{mul_t, M3, V3};
use formats::UtcTime;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Oem {
    pub file: PathBuf,
    /// NAIF ID of the centre (0 = SSB).
    pub center: i32,
    /// TDB instants of the rows.
    times: Vec<Instant>,
    /// ICRF-axes positions (m) and velocities (m/s) relative to the centre.
    pos: Vec<V3>,
    vel: Vec<V3>,
}

impl Oem {
    pub fn from_file(path: &Path) -> Result<Oem, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::File {
            file: path.to_path_buf(),
            why: format!("cannot read the OEM file: {e}"),
        })?;
        Oem::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Oem, ModelError> {
        let bad = |line: usize, why: String| ModelError::File {
            file: path.to_path_buf(),
            why: format!("line {line}: {why}"),
        };
        let mut center = None;
        let mut frame_bias: Option<M3> = None;
        let mut time_system = String::from("UTC");
        let (mut times, mut pos, mut vel) = (Vec::new(), Vec::new(), Vec::new());
        let mut in_meta = false;
        let mut in_cov = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with("COMMENT") {
                continue;
            }
            match line {
                "META_START" => {
                    in_meta = true;
                    continue;
                }
                "META_STOP" => {
                    in_meta = false;
                    continue;
                }
                "COVARIANCE_START" => {
                    in_cov = true;
                    continue;
                }
                "COVARIANCE_STOP" => {
                    in_cov = false;
                    continue;
                }
                _ => {}
            }
            if in_cov {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                let (k, v) = (k.trim(), v.trim());
                if !in_meta {
                    continue; // header keys (CCSDS_OEM_VERS, CREATION_DATE, ORIGINATOR)
                }
                match k {
                    "CENTER_NAME" => {
                        center = Some(match v.to_uppercase().as_str() {
                            "EARTH" => 399,
                            "MOON" => 301,
                            "SOLAR SYSTEM BARYCENTER" | "SSB" => 0,
                            "EARTH-MOON BARYCENTER" | "EARTH MOON BARYCENTER" => 3,
                            other => {
                                return Err(bad(n, format!("CENTER_NAME {other:?} is not supported (EARTH, MOON, SOLAR SYSTEM BARYCENTER, EARTH-MOON BARYCENTER)")))
                            }
                        })
                    }
                    "REF_FRAME" => {
                        frame_bias = match v.to_uppercase().as_str() {
                            "ICRF" | "GCRF" | "ICRF2" | "ICRF3" => None,
                            "EME2000" => Some(sofars::pnp::bp06(2_451_545.0, 0.0).0),
                            other => {
                                return Err(bad(n, format!("REF_FRAME {other:?} is not supported (ICRF, GCRF, EME2000)")))
                            }
                        }
                    }
                    "TIME_SYSTEM" => {
                        let t = v.to_uppercase();
                        if !["UTC", "TT", "TDB"].contains(&t.as_str()) {
                            return Err(bad(n, format!("TIME_SYSTEM {v:?} is not supported (UTC, TT, TDB)")));
                        }
                        time_system = t;
                    }
                    _ => {}
                }
                continue;
            }
            if in_meta {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 7 && f.len() != 10 {
                return Err(bad(
                    n,
                    format!(
                        "expected an epoch and 6 (or 9) numbers, got {} fields",
                        f.len()
                    ),
                ));
            }
            let mut stamp = f[0].to_string();
            if !stamp.ends_with('Z') {
                stamp.push('Z');
            }
            let cal = UtcTime::parse_iso8601(&stamp).map_err(|e| bad(n, e.to_string()))?;
            let t = match time_system.as_str() {
                "UTC" => tt_to_tdb(utc_to_tt(cal)),
                "TT" => tt_to_tdb(utc_instant(cal)),
                _ => utc_instant(cal),
            };
            let mut x = [0.0; 6];
            for (j, s) in f[1..7].iter().enumerate() {
                x[j] = s
                    .parse::<f64>()
                    .map_err(|_| bad(n, format!("{s:?} is not a number")))?
                    * 1e3;
            }
            let (mut p, mut v) = ([x[0], x[1], x[2]], [x[3], x[4], x[5]]);
            if let Some(b) = &frame_bias {
                // rb takes ICRS to mean J2000 (EME2000): ICRS = rbᵀ · EME2000.
                p = mul_t(b, &p);
                v = mul_t(b, &v);
            }
            if let Some(last) = times.last() {
                if t <= *last {
                    return Err(bad(n, "epochs are not increasing".into()));
                }
            }
            times.push(t);
            pos.push(p);
            vel.push(v);
        }
        let center = center.ok_or_else(|| bad(0, "no CENTER_NAME in META".into()))?;
        if times.len() < 8 {
            return Err(bad(
                0,
                format!("needs at least 8 state vectors, has {}", times.len()),
            ));
        }
        Ok(Oem {
            file: path.to_path_buf(),
            center,
            times,
            pos,
            vel,
        })
    }

    /// Position and velocity relative to the centre at TDB `t` (8-point Lagrange).
    pub fn at(&self, t: Instant) -> Result<(V3, V3), ModelError> {
        let n = self.times.len();
        if t < self.times[0] || t > self.times[n - 1] {
            return Err(ModelError::File {
                file: self.file.clone(),
                why: format!(
                    "the table covers {} to {} TDB, not {}",
                    super::ephemeris::tdb_label(self.times[0]),
                    super::ephemeris::tdb_label(self.times[n - 1]),
                    super::ephemeris::tdb_label(t)
                ),
            });
        }
        let k = self.times.partition_point(|x| *x <= t);
        let lo = k.saturating_sub(4).min(n - 8);
        let xs: Vec<f64> = (lo..lo + 8)
            .map(|j| self.times[j].seconds_since(t))
            .collect();
        let (mut p, mut v) = ([0.0; 3], [0.0; 3]);
        for j in 0..8 {
            let mut w = 1.0;
            for m in 0..8 {
                if m != j {
                    w *= (0.0 - xs[m]) / (xs[j] - xs[m]);
                }
            }
            for c in 0..3 {
                p[c] += w * self.pos[lo + j][c];
                v[c] += w * self.vel[lo + j][c];
            }
        }
        Ok((p, v))
    }
}
