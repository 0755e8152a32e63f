//! The Earth: IERS finals2000A Earth-orientation data and ITRS → GCRS.
//!
//! GCRS = RC2I(TT)ᵀ · R3(ERA(UT1))ᵀ · W(TT)ᵀ · ITRS (IERS Conventions 2010
//! ch. 5, eq. 5.1, CIO based): RC2I is the IAU 2006/2000A
//! celestial-to-intermediate matrix (SOFA `c2i06a`), ERA the Earth rotation
//! angle (`era00`, eq. 5.15) and W the polar-motion matrix (`pom00` with s'
//! from `sp00`, eq. 5.3). The slowly varying RC2I and W are computed once per
//! geocentric epoch; ERA at each station event, since a station moves 0.46 mm
//! per microsecond.

use super::error::ModelError;
use super::time_scales::Instant;
use super::vector::{M3, V3};
use formats::UtcTime;
use std::path::{Path, PathBuf};

const ARCSEC: f64 = std::f64::consts::PI / (180.0 * 3600.0);

/// One tabulated epoch of Earth orientation (a day of the IERS file, a
/// point of a VEX `$EOP`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EopRow {
    /// UTC MJD of the point (whole days in the IERS file).
    pub mjd: f64,
    pub xp_arcsec: f64,
    pub yp_arcsec: f64,
    pub dut1_s: f64,
}

/// Earth orientation parameters from an IERS finals2000A file (Bulletin A
/// columns: polar motion x, y and UT1−UTC; observed and predicted rows), or
/// from the points a schedule gives (VEX `$EOP`, [`Eop::from_rows`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Eop {
    /// The file, or for in-memory points a description of where they come
    /// from (shown in messages).
    file: PathBuf,
    rows: Vec<EopRow>,
}

/// Polar motion and UT1−UTC at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EopValues {
    pub xp_rad: f64,
    pub yp_rad: f64,
    pub dut1_s: f64,
}

impl Eop {
    pub fn from_file(path: &Path) -> Result<Eop, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::File {
            file: path.to_path_buf(),
            why: format!("cannot read the EOP file: {e}"),
        })?;
        Eop::parse(&text, path)
    }

    /// Fixed columns of finals2000A (readme.finals2000A): MJD 8–15, PM-x 19–27,
    /// PM-y 38–46, UT1−UTC 59–68 (1-based). Rows without UT1−UTC end the table.
    pub fn parse(text: &str, path: &Path) -> Result<Eop, ModelError> {
        let bad = |line: usize, why: &str| ModelError::File {
            file: path.to_path_buf(),
            why: format!("line {line}: {why} (expected IERS finals2000A format)"),
        };
        let mut rows: Vec<EopRow> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let col = |a: usize, b: usize| line.get(a - 1..b.min(line.len())).unwrap_or("").trim();
            let num = |a: usize, b: usize, what: &str| -> Result<Option<f64>, ModelError> {
                let s = col(a, b);
                if s.is_empty() {
                    return Ok(None);
                }
                s.parse::<f64>()
                    .map(Some)
                    .map_err(|_| bad(i + 1, &format!("{what} {s:?} is not a number")))
            };
            let mjd = num(8, 15, "MJD")?.ok_or_else(|| bad(i + 1, "no MJD"))?;
            let (Some(x), Some(y), Some(dut1)) = (
                num(19, 27, "PM-x")?,
                num(38, 46, "PM-y")?,
                num(59, 68, "UT1-UTC")?,
            ) else {
                break;
            };
            if let Some(prev) = rows.last() {
                if mjd <= prev.mjd {
                    return Err(bad(i + 1, "MJDs are not increasing"));
                }
            }
            rows.push(EopRow {
                mjd,
                xp_arcsec: x,
                yp_arcsec: y,
                dut1_s: dut1,
            });
        }
        if rows.len() < 4 {
            return Err(bad(text.lines().count(), "fewer than 4 days of EOP data"));
        }
        Ok(Eop {
            file: path.to_path_buf(),
            rows,
        })
    }

    /// A table from points given elsewhere (a VEX `$EOP`), interpolated as
    /// the IERS file is; `from` names them in messages. Needs at least two
    /// points in increasing time (schedules often carry only two or three
    /// days: then the interpolation is linear or quadratic, see
    /// [`Eop::at`]).
    pub fn from_rows(from: &str, mut rows: Vec<EopRow>) -> Result<Eop, String> {
        rows.sort_by(|a, b| a.mjd.total_cmp(&b.mjd));
        if rows.len() < 2 {
            return Err(format!(
                "{from}: {} EOP point(s): at least 2 are needed to interpolate",
                rows.len()
            ));
        }
        if let Some(w) = rows.windows(2).find(|w| w[1].mjd <= w[0].mjd) {
            return Err(format!("{from}: two EOP points at MJD {}", w[0].mjd));
        }
        Ok(Eop {
            file: PathBuf::from(from),
            rows,
        })
    }

    /// The tabulated points.
    pub fn rows(&self) -> &[EopRow] {
        &self.rows
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// UTC span covered (the first and last whole days).
    pub fn span(&self) -> (UtcTime, UtcTime) {
        let f = |mjd: f64| UtcTime::from_mjd(mjd as i64, 0.0);
        (f(self.rows[0].mjd), f(self.rows[self.rows.len() - 1].mjd))
    }

    /// Values at a UTC instant by 4-point Lagrange interpolation of the daily
    /// table (IERS Conventions 2010 §5.5.1 recommends Lagrangian
    /// interpolation; the sub-daily tidal terms of §8 are not added); a
    /// table of fewer points (a schedule's `$EOP`) uses all of them.
    /// A leap second between rows is removed from UT1−UTC before interpolating.
    pub fn at(&self, utc: UtcTime) -> Result<EopValues, ModelError> {
        let (mjd_day, sod) = utc.mjd();
        let mjd = mjd_day as f64 + sod / 86_400.0;
        let first = self.rows[0].mjd;
        let last = self.rows[self.rows.len() - 1].mjd;
        if !(first..=last).contains(&mjd) {
            return Err(ModelError::File {
                file: self.file.clone(),
                why: format!(
                    "EOP cover MJD {first} to {last}, not {} (MJD {mjd:.3})",
                    utc.to_iso8601_digits(0)
                ),
            });
        }
        let k = self.rows.partition_point(|r| r.mjd <= mjd);
        let n = self.rows.len().min(4);
        let lo = k.saturating_sub(n / 2).min(self.rows.len() - n);
        let pts = &self.rows[lo..lo + n];
        let mut out = EopValues::default();
        let base_dut1 = pts[1].dut1_s;
        for (j, pj) in pts.iter().enumerate() {
            let mut w = 1.0;
            for (m, pm) in pts.iter().enumerate() {
                if m != j {
                    w *= (mjd - pm.mjd) / (pj.mjd - pm.mjd);
                }
            }
            // Undo leap-second steps relative to the second point.
            let dut1 = pj.dut1_s - (pj.dut1_s - base_dut1).round();
            out.xp_rad += w * pj.xp_arcsec * ARCSEC;
            out.yp_rad += w * pj.yp_arcsec * ARCSEC;
            out.dut1_s += w * dut1;
        }
        Ok(out)
    }
}

/// Earth orientation at one geocentric epoch: the slowly varying matrices,
/// plus what is needed to compute ERA at nearby instants.
#[derive(Debug, Clone, Copy)]
pub struct EarthOrientation {
    /// Celestial-to-intermediate matrix (IAU 2006/2000A), at TT of the epoch.
    pub rc2i: M3,
    /// Polar-motion matrix W (ITRS ← TIRS), at the epoch.
    pub rpom: M3,
    /// UT1 − TT (s) at the epoch.
    pub ut1_minus_tt_s: f64,
}

impl EarthOrientation {
    pub fn new(tt: Instant, eop: EopValues, tai_minus_utc_s: f64) -> EarthOrientation {
        let (t1, t2) = tt.jd2();
        let rc2i = sofars::pnp::c2i06a(t1, t2);
        let sp = sofars::pnp::sp00(t1, t2);
        let rpom = sofars::pnp::pom00(eop.xp_rad, eop.yp_rad, sp);
        EarthOrientation {
            rc2i,
            rpom,
            ut1_minus_tt_s: eop.dut1_s - tai_minus_utc_s - super::time_scales::TT_MINUS_TAI_S,
        }
    }

    /// GCRS position (m) of an ITRS point at TT instant `tt` (near the epoch).
    pub fn itrs_to_gcrs(&self, tt: Instant, itrs_m: &V3) -> V3 {
        let ut1 = tt.add_seconds(self.ut1_minus_tt_s);
        let (u1, u2) = ut1.jd2();
        let era = sofars::erst::era00(u1, u2);
        // TIRS = Wᵀ · ITRS
        let tirs = super::vector::mul_t(&self.rpom, itrs_m);
        // CIRS = R3(ERA)ᵀ · TIRS (R3(θ) rotates axes by θ about z)
        let (s, c) = era.sin_cos();
        let cirs = [
            c * tirs[0] - s * tirs[1],
            s * tirs[0] + c * tirs[1],
            tirs[2],
        ];
        super::vector::mul_t(&self.rc2i, &cirs)
    }

    /// ITRS vector of a GCRS one at TT instant `tt`: the inverse of
    /// [`EarthOrientation::itrs_to_gcrs`] (ITRS = W · R3(ERA) · RC2I · GCRS).
    pub fn gcrs_to_itrs(&self, tt: Instant, gcrs_m: &V3) -> V3 {
        let ut1 = tt.add_seconds(self.ut1_minus_tt_s);
        let (u1, u2) = ut1.jd2();
        let era = sofars::erst::era00(u1, u2);
        let cirs = super::vector::mul(&self.rc2i, gcrs_m);
        let (s, c) = era.sin_cos();
        let tirs = [
            c * cirs[0] + s * cirs[1],
            -s * cirs[0] + c * cirs[1],
            cirs[2],
        ];
        super::vector::mul(&self.rpom, &tirs)
    }
}

#[cfg(test)]
mod tests {
    use super::super::time_scales::{tai_minus_utc_s, utc_to_tt};
    use super::*;

    fn eop() -> Eop {
        Eop::from_file(&crate::model::tests::testdata("finals2000A_2025-2026.txt")).unwrap()
    }

    #[test]
    fn eop_interpolates_the_table() {
        let e = eop();
        // At a table day the value is the table's (2025-01-02: x 0.143032", UT1−UTC 0.0464029 s).
        let v = e
            .at(UtcTime::from_calendar(2025, 1, 2, 0, 0, 0, 0.0))
            .unwrap();
        assert!((v.xp_rad / ARCSEC - 0.143032).abs() < 1e-9);
        assert!((v.dut1_s - 0.0464029).abs() < 1e-12);
        // Half-way it lies between the neighbours.
        let h = e
            .at(UtcTime::from_calendar(2025, 1, 2, 12, 0, 0, 0.0))
            .unwrap();
        assert!(h.dut1_s > 0.0463343_f64.min(0.0464029) - 1e-5 && h.dut1_s < 0.0465);
        assert!(e
            .at(UtcTime::from_calendar(2027, 1, 1, 0, 0, 0, 0.0))
            .is_err());
    }

    #[test]
    fn gcrs_matches_sofa_c2t06a() {
        // Independent route: SOFA's one-call c2t06a matrix (ITRS ← GCRS), transposed.
        let utc = UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0);
        let v = eop().at(utc).unwrap();
        let tt = utc_to_tt(utc);
        let eo = EarthOrientation::new(tt, v, tai_minus_utc_s(utc));
        let x = [-2826708.8081, 4679236.9722, 3274667.4495];
        let g = eo.itrs_to_gcrs(tt, &x);
        let (t1, t2) = tt.jd2();
        let ut1 = tt.add_seconds(eo.ut1_minus_tt_s);
        let (u1, u2) = ut1.jd2();
        let m = sofars::pnp::c2t06a(t1, t2, u1, u2, v.xp_rad, v.yp_rad);
        let want = super::super::vector::mul_t(&m, &x);
        for k in 0..3 {
            assert!((g[k] - want[k]).abs() < 1e-6, "{g:?} vs {want:?}");
        }
    }

    #[test]
    fn gcrs_to_itrs_matches_sofa_c2t06a() {
        // SOFA's c2t06a matrix (ITRS ← GCRS) applied to a point at lunar distance.
        let utc = UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0);
        let v = eop().at(utc).unwrap();
        let tt = utc_to_tt(utc);
        let eo = EarthOrientation::new(tt, v, tai_minus_utc_s(utc));
        let g = [2.1e8, -3.2e8, 0.9e8];
        let x = eo.gcrs_to_itrs(tt, &g);
        let (t1, t2) = tt.jd2();
        let ut1 = tt.add_seconds(eo.ut1_minus_tt_s);
        let (u1, u2) = ut1.jd2();
        let m = sofars::pnp::c2t06a(t1, t2, u1, u2, v.xp_rad, v.yp_rad);
        let want = super::super::vector::mul(&m, &g);
        for k in 0..3 {
            assert!((x[k] - want[k]).abs() < 1e-3, "{x:?} vs {want:?}");
        }
    }
}
