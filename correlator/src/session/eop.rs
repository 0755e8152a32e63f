//! Earth orientation for a session: the job's IERS file (`[model] eop`), or
//! else the points the schedule carries (VEX `$EOP`: `eop_ref_epoch`,
//! `eop_interval`, `ut1-utc`, `x_wobble`, `y_wobble`), interpolated as the
//! file is ([`Eop::at`]: Lagrange over up to four points). When both are
//! given the file wins, and where the schedule's points disagree with it by
//! more than [`TOL_DUT1_S`] or [`TOL_POLE_ARCSEC`] that is a warning: one
//! of them is stale (a schedule's EOP are often Bulletin A predictions made
//! days before the observation).

use crate::job::ModelConfig;
use crate::model::earth::{Eop, EopRow};
use formats::vex::Vex;

use super::SessionError;

/// UT1−UTC difference (s) between a VEX `$EOP` and the job's file above
/// which the two are said to disagree: 10 µs of Earth rotation moves a
/// station by ≤ 4.7 mm, ≤ 16 ps of delay on an Earth baseline.
pub const TOL_DUT1_S: f64 = 10e-6;
/// Polar-motion difference (arcsec) above which they disagree: 1 mas moves
/// a station by ≤ 3.1 cm, ≤ 0.1 ns of delay.
pub const TOL_POLE_ARCSEC: f64 = 1e-3;

const ARCSEC_RAD: f64 = std::f64::consts::PI / (180.0 * 3600.0);

/// Which Earth orientation the session's delay model uses.
#[derive(Debug, Clone, PartialEq)]
pub struct EopUse {
    /// `"job"` (`[model] eop`), `"vex"` (`$EOP`) or `"none"` (UT1 = UTC,
    /// no polar motion: the model warns).
    pub from: &'static str,
    /// The file, or the VEX def and its line.
    pub what: Option<String>,
    /// The VEX's points and the job's file disagree (both given).
    pub warning: Option<String>,
}

impl EopUse {
    /// The job's own choice (a session without a VEX).
    pub(super) fn of_job(model: Option<&ModelConfig>) -> EopUse {
        match model.and_then(|m| m.eop.as_ref()) {
            Some(f) => EopUse {
                from: "job",
                what: Some(f.display().to_string()),
                warning: None,
            },
            None => EopUse {
                from: "none",
                what: None,
                warning: None,
            },
        }
    }

    /// One line for the text summary.
    pub fn describe(&self) -> String {
        let what = self.what.as_deref().unwrap_or("");
        match self.from {
            "job" => format!("EOP from the job's [model] eop ({what})"),
            "vex" => format!("EOP from the schedule ({what}; the job gives no [model] eop)"),
            _ => "no EOP (neither [model] eop nor a VEX $EOP): UT1−UTC = 0, no polar motion"
                .to_string(),
        }
    }
}

/// The points of every `$EOP` def of `v` as one table, or `None` without
/// `$EOP`. A def that lacks what interpolation needs is an error naming its
/// line and statement.
pub(super) fn vex_table(v: &Vex) -> Result<Option<(Eop, String)>, SessionError> {
    let Some(first) = v.eop.first() else {
        return Ok(None);
    };
    let mut rows = Vec::new();
    for e in &v.eop {
        let n = e.ut1_utc_s.len();
        if n == 0 {
            return Err(v
                .missing(&e.origin, Some("ut1-utc"), "UT1−UTC values")
                .into());
        }
        let Some(epoch) = e.ref_epoch else {
            return Err(v
                .missing(
                    &e.origin,
                    Some("eop_ref_epoch"),
                    "the epoch of the first point",
                )
                .into());
        };
        let interval_s = match e.interval_s {
            Some(i) if i > 0.0 => i,
            _ if n == 1 => 0.0,
            _ => {
                return Err(v
                    .missing(
                        &e.origin,
                        Some("eop_interval"),
                        "a positive interval between the points",
                    )
                    .into())
            }
        };
        for (kw, list) in [("x_wobble", &e.x_wobble_rad), ("y_wobble", &e.y_wobble_rad)] {
            if list.len() != n {
                return Err(v
                    .missing(
                        &e.origin,
                        Some(kw),
                        format!("{n} values, one per ut1-utc point (has {})", list.len()),
                    )
                    .into());
            }
        }
        let (day, sod) = epoch.mjd();
        for i in 0..n {
            rows.push(EopRow {
                mjd: day as f64 + (sod + i as f64 * interval_s) / 86_400.0,
                xp_arcsec: e.x_wobble_rad[i] / ARCSEC_RAD,
                yp_arcsec: e.y_wobble_rad[i] / ARCSEC_RAD,
                dut1_s: e.ut1_utc_s[i],
                // VEX `$EOP` has no celestial pole offsets.
                dx_mas: 0.0,
                dy_mas: 0.0,
            });
        }
    }
    let what = format!(
        "{}:{}: $EOP {}{}",
        v.file,
        first.origin.line,
        first.def,
        if v.eop.len() > 1 {
            format!(" and {} more", v.eop.len() - 1)
        } else {
            String::new()
        }
    );
    // Interpolation needs two points or more, at distinct epochs.
    let table = Eop::from_rows(&what, rows).map_err(|_| {
        let n: usize = v.eop.iter().map(|e| e.ut1_utc_s.len()).sum();
        SessionError::from(v.missing(
            &first.origin,
            Some("ut1-utc"),
            format!("two EOP points or more at distinct epochs to interpolate ({n} given)"),
        ))
    })?;
    Ok(Some((table, what)))
}

/// Settle the session's Earth orientation: give `model` the VEX's points
/// when it names no file; say which is used, and warn when both are given
/// and disagree.
pub(super) fn choose(v: &Vex, model: &mut Option<ModelConfig>) -> Result<EopUse, SessionError> {
    let file = model.as_ref().and_then(|m| m.eop.clone());
    let vex = match vex_table(v) {
        Ok(t) => t,
        // The job's file is used anyway: a broken $EOP is only worth a word.
        Err(e) if file.is_some() => {
            return Ok(EopUse {
                warning: Some(format!("{e} (not needed: the job's [model] eop is used)")),
                ..EopUse::of_job(model.as_ref())
            })
        }
        Err(e) => return Err(e),
    };
    let Some((table, what)) = vex else {
        return Ok(EopUse::of_job(model.as_ref()));
    };
    let Some(file) = file else {
        if let Some(m) = model {
            m.eop_table = Some(table.clone());
        }
        return Ok(EopUse {
            from: "vex",
            what: Some(format!("{what}, {} points", table.rows().len())),
            warning: None,
        });
    };
    // Both: compare at the schedule's points the file covers. A file that
    // cannot be read now is the model's to report (a dry run needs none).
    let mut warning = None;
    if let Ok(f) = Eop::from_file(&file) {
        let (mut d_ut1, mut d_pole, mut compared) = (0.0f64, 0.0f64, 0usize);
        for r in table.rows() {
            let t = formats::UtcTime::from_mjd(r.mjd.floor() as i64, r.mjd.fract() * 86_400.0);
            if let Ok(x) = f.at(t) {
                compared += 1;
                d_ut1 = d_ut1.max((x.dut1_s - r.dut1_s).abs());
                d_pole = d_pole
                    .max((x.xp_rad / ARCSEC_RAD - r.xp_arcsec).abs())
                    .max((x.yp_rad / ARCSEC_RAD - r.yp_arcsec).abs());
            }
        }
        if compared > 0 && (d_ut1 > TOL_DUT1_S || d_pole > TOL_POLE_ARCSEC) {
            warning = Some(format!(
                "{what} disagrees with the job's [model] eop {} by up to {:.1} µs in UT1−UTC and {:.2} mas in polar motion (tolerance {:.0} µs, {:.0} mas); the job's file is used",
                file.display(),
                d_ut1 * 1e6,
                d_pole * 1e3,
                TOL_DUT1_S * 1e6,
                TOL_POLE_ARCSEC * 1e3
            ));
        }
    }
    Ok(EopUse {
        warning,
        ..EopUse::of_job(model.as_ref())
    })
}
