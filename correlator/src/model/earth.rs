//! The Earth: IERS finals2000A Earth-orientation data and ITRS → GCRS.
//!
//! GCRS = RC2I(TT)ᵀ · R3(ERA(UT1))ᵀ · W(TT)ᵀ · ITRS (IERS Conventions 2010
//! ch. 5, eq. 5.1, CIO based): RC2I is the celestial-to-intermediate matrix
//! of the IAU 2006/2000A CIP coordinates X, Y plus the observed celestial
//! pole offsets δX, δY (§5.5.4, eq. 5.26; SOFA `xys06a`, `c2ixys`), ERA the Earth rotation
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
    /// Celestial pole offsets δX, δY w.r.t. IAU 2006/2000A (mas; Bulletin
    /// A). A day the file gives none for holds the last published value
    /// ([`Eop::parse`]); 0 for a VEX `$EOP`, which has none.
    pub dx_mas: f64,
    pub dy_mas: f64,
}

/// Earth orientation parameters from an IERS finals2000A file (Bulletin A
/// columns: polar motion x, y, UT1−UTC and the celestial pole offsets dX,
/// dY; observed and predicted rows), or from the points a schedule gives
/// (VEX `$EOP`, [`Eop::from_rows`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Eop {
    /// The file, or for in-memory points a description of where they come
    /// from (shown in messages).
    file: PathBuf,
    rows: Vec<EopRow>,
}

/// Polar motion, UT1−UTC and the celestial pole offsets at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EopValues {
    pub xp_rad: f64,
    pub yp_rad: f64,
    pub dut1_s: f64,
    /// Celestial pole offsets δX, δY (rad), added to the IAU 2006/2000A
    /// CIP coordinates X, Y (IERS Conventions 2010 eq. 5.26).
    pub dx_rad: f64,
    pub dy_rad: f64,
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
    /// PM-y 38–46, UT1−UTC 59–68, Bulletin A dX 98–106 and dY 117–125 (mas,
    /// 1-based). Rows without UT1−UTC end the table.
    ///
    /// Only Bulletin A is read, for all five quantities: it is one series
    /// through the last observed day, whereas Bulletin B (columns 135–185)
    /// stops months earlier (four in testdata's file) and its dX, dY differ
    /// from A's by up to 0.25 mas there: mixing them would step the pole at
    /// the switch. The predicted rows have no dX, dY: a day without them holds
    /// the last published value (persistence, the best short-range
    /// prediction of a quantity drifting ~0.01 mas/day; it also keeps the
    /// series continuous where a fall to 0 would move Earth stations by ~1 cm
    /// within a day). CALC/difxcalc apply no celestial pole offsets at all,
    /// which is 0 throughout: the two differ by δ·R⊕, ~1 cm (≲ 40 ps) for
    /// 0.3 mas.
    pub fn parse(text: &str, path: &Path) -> Result<Eop, ModelError> {
        let bad = |line: usize, why: &str| ModelError::File {
            file: path.to_path_buf(),
            why: format!("line {line}: {why} (expected IERS finals2000A format)"),
        };
        let mut rows: Vec<EopRow> = Vec::new();
        let mut offsets: Vec<Option<(f64, f64)>> = Vec::new();
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
            let cpo = match (num(98, 106, "dX")?, num(117, 125, "dY")?) {
                (Some(dx), Some(dy)) => Some((dx, dy)),
                (None, None) => None,
                _ => return Err(bad(i + 1, "dX without dY or dY without dX")),
            };
            if let Some(prev) = rows.last() {
                if mjd <= prev.mjd {
                    return Err(bad(i + 1, "MJDs are not increasing"));
                }
            }
            offsets.push(cpo);
            rows.push(EopRow {
                mjd,
                xp_arcsec: x,
                yp_arcsec: y,
                dut1_s: dut1,
                dx_mas: 0.0,
                dy_mas: 0.0,
            });
        }
        if rows.len() < 4 {
            return Err(bad(text.lines().count(), "fewer than 4 days of EOP data"));
        }
        // Days without dX, dY hold the last value (the first one before it;
        // 0 in a file that has none): see above.
        let mut held = offsets
            .iter()
            .flatten()
            .next()
            .copied()
            .unwrap_or((0.0, 0.0));
        for (row, cpo) in rows.iter_mut().zip(&offsets) {
            if let Some(v) = cpo {
                held = *v;
            }
            (row.dx_mas, row.dy_mas) = held;
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
    /// interpolation; the sub-daily terms of §5.5.1 and §8.2 are added by the
    /// caller, [`super::subdaily_eop`]); a
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
            out.dx_rad += w * pj.dx_mas * 1e-3 * ARCSEC;
            out.dy_rad += w * pj.dy_mas * 1e-3 * ARCSEC;
        }
        Ok(out)
    }
}

/// Earth orientation at one geocentric epoch: the slowly varying matrices,
/// plus what is needed to compute ERA at nearby instants.
#[derive(Debug, Clone, Copy)]
pub struct EarthOrientation {
    /// Celestial-to-intermediate matrix (IAU 2006/2000A X, Y plus the
    /// celestial pole offsets), at TT of the epoch.
    pub rc2i: M3,
    /// Polar-motion matrix W (ITRS ← TIRS), at the epoch.
    pub rpom: M3,
    /// UT1 − TT (s) at the epoch.
    pub ut1_minus_tt_s: f64,
}

impl EarthOrientation {
    pub fn new(tt: Instant, eop: EopValues, tai_minus_utc_s: f64) -> EarthOrientation {
        let (t1, t2) = tt.jd2();
        // eq. 5.26: X = X_IAU2006/2000A + δX, Y likewise; s is not changed
        // (its δX, δY dependence is below 1 µas).
        let (x, y, s) = sofars::pnp::xys06a(t1, t2);
        let rc2i = sofars::pnp::c2ixys(x + eop.dx_rad, y + eop.dy_rad, s);
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
        // c2t06a knows no celestial pole offsets (those are checked against
        // pyerfa below).
        let v = EopValues {
            dx_rad: 0.0,
            dy_rad: 0.0,
            ..eop().at(utc).unwrap()
        };
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
        // c2t06a knows no celestial pole offsets (those are checked against
        // pyerfa below).
        let v = EopValues {
            dx_rad: 0.0,
            dy_rad: 0.0,
            ..eop().at(utc).unwrap()
        };
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

    /// ITRS → GCRS with δX, δY against pyerfa (xys06a + δX, δY, c2ixys,
    /// era00, pom00, sp00: testdata/celestial_pole_reference.py, at table
    /// days so the EOP are the file's own values): the station vector to
    /// 0.1 mm (measured 0.4 µm), and the offsets' own effect (~1 cm) to
    /// 2 µm (measured 0.9 µm, the CSV's rounding).
    #[test]
    fn celestial_pole_offsets_match_pyerfa() {
        let text = std::fs::read_to_string(crate::model::tests::testdata(
            "celestial_pole_reference.csv",
        ))
        .unwrap();
        let e = eop();
        let x = [-2826708.8081, 4679236.9722, 3274667.4495];
        let (mut worst, mut worst_delta, mut smallest_effect) = (0.0_f64, 0.0_f64, f64::MAX);
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let num = |k: usize| f[k].parse::<f64>().unwrap();
            let utc = UtcTime::parse_iso8601(f[0]).unwrap();
            let v = e.at(utc).unwrap();
            // The reader's values are the row's (a table day).
            assert!((v.dx_rad / ARCSEC * 1e3 - num(4)).abs() < 1e-9, "{line}");
            assert!((v.dy_rad / ARCSEC * 1e3 - num(5)).abs() < 1e-9, "{line}");
            let tt = utc_to_tt(utc);
            let g = EarthOrientation::new(tt, v, tai_minus_utc_s(utc)).itrs_to_gcrs(tt, &x);
            let no = EopValues {
                dx_rad: 0.0,
                dy_rad: 0.0,
                ..v
            };
            let g0 = EarthOrientation::new(tt, no, tai_minus_utc_s(utc)).itrs_to_gcrs(tt, &x);
            let mut effect = 0.0_f64;
            for k in 0..3 {
                worst = worst.max((g[k] - num(6 + k)).abs());
                let d_ref = num(6 + k) - num(9 + k);
                worst_delta = worst_delta.max(((g[k] - g0[k]) - d_ref).abs());
                effect += d_ref * d_ref;
            }
            smallest_effect = smallest_effect.min(effect.sqrt());
        }
        eprintln!(
            "T6 GCRS vs pyerfa: worst {worst:e} m; δX,δY effect ≥ {smallest_effect:e} m, reproduced to {worst_delta:e} m"
        );
        assert!(smallest_effect > 5e-3, "{smallest_effect}");
        assert!(worst < 1e-4, "{worst} m");
        // The CSV has µm digits: each difference carries up to 1 µm of rounding.
        assert!(worst_delta < 2e-6, "{worst_delta} m");
    }

    /// Days without dX, dY (the predictions) hold the last published value;
    /// before the first one, the first.
    #[test]
    fn days_without_pole_offsets_hold_the_last_value() {
        let e = eop();
        let rows = e.rows();
        let last = rows.iter().rposition(|r| r.mjd == 60985.0).unwrap();
        // MJD 60985 (2025-11-06) is the last day with dX, dY (0.379, 0.109 mas).
        let (dx, dy) = (rows[last].dx_mas, rows[last].dy_mas);
        assert_eq!(dx, 0.379);
        for r in &rows[last..] {
            assert_eq!((r.dx_mas, r.dy_mas), (dx, dy));
        }
        let v = e
            .at(UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0))
            .unwrap();
        assert!((v.dx_rad / ARCSEC * 1e3 - dx).abs() < 1e-12);
        assert!((v.dy_rad / ARCSEC * 1e3 - dy).abs() < 1e-12);
        // dX without dY is refused, naming the line.
        let mut text =
            std::fs::read_to_string(crate::model::tests::testdata("finals2000A_2025-2026.txt"))
                .unwrap();
        text.replace_range(116..125, "         ");
        let err = Eop::parse(&text, Path::new("f.txt"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("f.txt") && err.contains("line 1"), "{err}");
    }
}
