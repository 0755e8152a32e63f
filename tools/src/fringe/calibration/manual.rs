//! Manual phase-cal (AIPS FRING on a calibrator scan per IF, CASA
//! fringefit with `combine` off): per station and subband, the phase and
//! single-band delay a strong calibrator scan shows, relative to a
//! reference station, solved from all baselines at once.
//!
//! Each baseline A–B and subband b is fitted alone (phase at the subband's
//! reference frequency f_ref, delay, rate); with the station terms of
//! [`super`] the fit measures P_AB = φ_A − φ_B and D_AB = τ_B − τ_A. The
//! station terms follow by weighted least squares over the baselines with
//! the reference station's held at 0 (a station-based solution: with three
//! or more stations closure makes it overdetermined); phases by
//! Gauss–Newton on the wrapped residuals, starting from a spanning tree.
//! Only detected fringes (pfd below the threshold) count.
//!
//! What the terms hold: everything that differs between subbands *and*
//! everything common to them at the calibrator's epoch — the instrumental
//! phase and delay, but also the calibrator's clock and geometry residual.
//! One scan cannot tell a clock from a delay common to a station's
//! subbands (any common delay can move between the clock and the subbands'
//! delays and phases), so after correction another scan's delays are
//! relative to the calibrator's: the clocks' change since then (and any
//! difference in the geometric residuals). No rate is kept: instrumental
//! drifts between scans stay in the data.

use super::{CalError, CalTerm, StationCal};
use crate::fringe::data::ScanBaseline;
use crate::fringe::fit::{fit_baseline, wrap_pi, FitOptions};
use formats::UtcTime;
use std::collections::BTreeMap;

/// The terms derived from one calibrator scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualPcal {
    /// The scan as named in the file (EMCORR_SCAN), or its number.
    pub scan: String,
    pub source: String,
    pub ref_station: String,
    /// Stations in antenna-number order.
    pub stations: Vec<String>,
    /// Reference epoch of the calibrator fits.
    pub epoch: UtcTime,
    pub cal: StationCal,
    /// Polarisation the terms are for.
    pub pol: char,
    /// (station, 0-based subband) whose terms come from phase-cal tones
    /// (`--pcal` with `--manual-pcal`): their manual terms are 0, see
    /// [`ManualPcal::defer_to_tones`].
    pub by_tones: Vec<(String, usize)>,
}

impl ManualPcal {
    /// With `--pcal` and `--manual-pcal` together (AIPS: PCCOR, then
    /// manual phase-cal for the antennas without tones): the visibilities
    /// were corrected by the tones first, so a toned station's manual term
    /// is its clock (and geometry residual) at the calibrator, relative to
    /// the reference. Dropping it (term 0) keeps the clock in the data, so
    /// baselines between toned stations give absolute multiband delays,
    /// while a station without tones keeps the term that also holds its
    /// instrumental part; its baselines then give delays relative to the
    /// calibrator's. Closure stays exact: every term was solved together.
    /// The reference must itself have tones (else its untoned instrumental
    /// part would stay in every toned station's baselines).
    pub fn defer_to_tones(&mut self, tones: &StationCal) {
        let mut zeroed = StationCal::new();
        for ((station, b, pol), series) in self.cal.entries() {
            let toned = tones.get(station, *b, *pol).is_some();
            for (t, term) in series.samples() {
                let term = if toned {
                    CalTerm {
                        phase_rad: 0.0,
                        delay_s: 0.0,
                        phase_sigma_rad: 0.0,
                        delay_sigma_s: 0.0,
                        phase_delay_cov: 0.0,
                        ..*term
                    }
                } else {
                    *term
                };
                zeroed.insert(station, *b, *pol, *t, term);
            }
            if toned {
                self.by_tones.push((station.clone(), *b));
            }
        }
        self.cal = zeroed;
    }
}

/// One baseline's fit in one subband.
struct Obs {
    a: usize,
    b: usize,
    phase_rad: f64,
    phase_sigma_rad: f64,
    delay_s: f64,
    delay_sigma_s: f64,
}

/// Derive the terms from scan `scan` (its EMCORR_SCAN name, or its 1-based
/// number) of `pieces` (as [`crate::fringe::scans_from_idi`] cuts a file),
/// polarisation product `pols` (parallel hands only), reference station
/// `ref_station` (default: the scan's lowest-numbered antenna). In a scan of
/// several sources the first SOURCE_ID is used.
pub fn manual_pcal(
    pieces: &[ScanBaseline],
    scan: &str,
    ref_station: Option<&str>,
    pols: (char, char),
    opts: &FitOptions,
) -> Result<ManualPcal, CalError> {
    let number: Option<usize> = scan.trim().parse().ok();
    let chosen: Vec<&ScanBaseline> = pieces
        .iter()
        .filter(|p| {
            p.scan_name.as_deref() == Some(scan)
                || (p.scan_name.is_none() && Some(p.scan) == number)
        })
        .collect();
    let Some(&first) = chosen.first() else {
        let mut known: Vec<String> = pieces
            .iter()
            .map(|p| p.scan_name.clone().unwrap_or_else(|| p.scan.to_string()))
            .collect();
        known.dedup();
        return Err(CalError::NoSuchScan {
            scan: scan.to_string(),
            known: known.join(", "),
        });
    };
    if pols.0 != pols.1 {
        return Err(CalError::CrossHand {
            scan: scan.to_string(),
            pols: format!("{}{}", pols.0, pols.1),
        });
    }
    let chosen: Vec<&ScanBaseline> = chosen
        .into_iter()
        .filter(|p| p.source_id == first.source_id)
        .collect();
    // Stations by antenna number.
    let mut by_id: BTreeMap<u32, String> = BTreeMap::new();
    for p in &chosen {
        by_id.insert(p.antennas.0, p.data.station_a.clone());
        by_id.insert(p.antennas.1, p.data.station_b.clone());
    }
    let stations: Vec<String> = by_id.into_values().collect();
    let index = |name: &str| stations.iter().position(|s| s == name);
    let reference = match ref_station {
        Some(r) => stations
            .iter()
            .position(|s| s.eq_ignore_ascii_case(r))
            .ok_or_else(|| CalError::RefNotInScan {
                scan: scan.to_string(),
                station: r.to_string(),
            })?,
        None => 0,
    };
    let n_sb = first.data.n_subbands();
    let mut cal = StationCal::new();
    let mut epoch = None;
    for b in 0..n_sb {
        let mut obs = Vec::new();
        let mut f_ref = None;
        for p in &chosen {
            let mut sub = p.data.subband(b);
            if sub.total_weight() <= 0.0 {
                continue;
            }
            let f0 = sub.subbands[0].chan_freq_hz[0];
            sub.ref_freq_hz = f0;
            f_ref = Some(f0);
            let sol = fit_baseline(&sub, opts).map_err(|e| CalError::Fit {
                scan: scan.to_string(),
                source: e,
            })?;
            epoch.get_or_insert(sol.ref_epoch);
            if !(sol.detected && sol.phase_sigma_rad.is_finite() && sol.mbd_sigma_s.is_finite()) {
                continue;
            }
            let (Some(a), Some(bb)) = (index(&p.data.station_a), index(&p.data.station_b)) else {
                continue;
            };
            obs.push(Obs {
                a,
                b: bb,
                phase_rad: sol.phase_rad,
                phase_sigma_rad: sol.phase_sigma_rad,
                delay_s: sol.mbd_s,
                delay_sigma_s: sol.mbd_sigma_s,
            });
        }
        let (Some(f_ref), false) = (f_ref, obs.is_empty()) else {
            return Err(CalError::NoFringes {
                scan: scan.to_string(),
                subband: b + 1,
            });
        };
        let solved = solve_stations(stations.len(), reference, &obs).map_err(|s| {
            CalError::NotConnected {
                scan: scan.to_string(),
                subband: b + 1,
                station: stations[s].clone(),
                reference: stations[reference].clone(),
            }
        })?;
        let t = epoch.unwrap_or(first.data.epoch);
        for (s, name) in stations.iter().enumerate() {
            let (phase, phase_sigma, delay, delay_sigma) = solved[s];
            cal.insert(
                name,
                b,
                pols.0,
                t,
                CalTerm {
                    phase_rad: phase,
                    delay_s: delay,
                    phase_rate_rad_per_s: 0.0,
                    ref_freq_hz: f_ref,
                    phase_sigma_rad: phase_sigma,
                    delay_sigma_s: delay_sigma,
                    phase_delay_cov: 0.0,
                },
            );
        }
    }
    Ok(ManualPcal {
        scan: first
            .scan_name
            .clone()
            .unwrap_or_else(|| first.scan.to_string()),
        source: first.source.clone(),
        ref_station: stations[reference].clone(),
        epoch: epoch.unwrap_or(first.data.epoch),
        stations,
        cal,
        pol: pols.0,
        by_tones: Vec::new(),
    })
}

/// Station terms (φ, σ_φ, τ, σ_τ) from baseline observations P_AB = φ_A −
/// φ_B, D_AB = τ_B − τ_A, the reference's held at 0. Err(station) names a
/// station no chain of observations ties to the reference.
fn solve_stations(
    n: usize,
    reference: usize,
    obs: &[Obs],
) -> Result<Vec<(f64, f64, f64, f64)>, usize> {
    // Spanning tree from the reference: connectivity and starting phases.
    let mut phase = vec![f64::NAN; n];
    phase[reference] = 0.0;
    loop {
        let mut grew = false;
        for o in obs {
            if phase[o.a].is_finite() && !phase[o.b].is_finite() {
                phase[o.b] = phase[o.a] - o.phase_rad;
                grew = true;
            } else if phase[o.b].is_finite() && !phase[o.a].is_finite() {
                phase[o.a] = o.phase_rad + phase[o.b];
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    if let Some(s) = phase.iter().position(|p| !p.is_finite()) {
        return Err(s);
    }
    // Unknowns: every station but the reference.
    let col = |s: usize| -> Option<usize> {
        match s.cmp(&reference) {
            std::cmp::Ordering::Less => Some(s),
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(s - 1),
        }
    };
    let m = n - 1;
    // Normal matrix of a difference x_A − x_B (the sign does not matter
    // for it), weights 1/σ².
    let normal = |sigma: &dyn Fn(&Obs) -> f64| -> Vec<Vec<f64>> {
        let mut nm = vec![vec![0.0; m]; m];
        for o in obs {
            let w = sigma(o).powi(-2);
            let terms = [(col(o.a), 1.0), (col(o.b), -1.0)];
            for &(i, si) in &terms {
                for &(j, sj) in &terms {
                    if let (Some(i), Some(j)) = (i, j) {
                        nm[i][j] += w * si * sj;
                    }
                }
            }
        }
        nm
    };
    let rhs = |sigma: &dyn Fn(&Obs) -> f64, resid: &dyn Fn(&Obs) -> f64| -> Vec<f64> {
        let mut r = vec![0.0; m];
        for o in obs {
            let w = sigma(o).powi(-2) * resid(o);
            if let Some(i) = col(o.a) {
                r[i] += w;
            }
            if let Some(j) = col(o.b) {
                r[j] -= w;
            }
        }
        r
    };
    let mut out = vec![(0.0, 0.0, 0.0, 0.0); n];
    if m == 0 {
        return Ok(out);
    }
    let phase_sigma = |o: &Obs| o.phase_sigma_rad;
    let delay_sigma = |o: &Obs| o.delay_sigma_s;
    let inv_p = invert(normal(&phase_sigma)).ok_or(reference)?;
    let inv_d = invert(normal(&delay_sigma)).ok_or(reference)?;
    // Phases: x_A − x_B = P_AB, wrapped residuals, a few Gauss–Newton steps.
    for _ in 0..8 {
        let r = rhs(&phase_sigma, &|o: &Obs| {
            wrap_pi(o.phase_rad - (phase[o.a] - phase[o.b]))
        });
        for (s, p) in phase.iter_mut().enumerate() {
            if let Some(i) = col(s) {
                *p += (0..m).map(|j| inv_p[i][j] * r[j]).sum::<f64>();
            }
        }
    }
    // Delays: x_A − x_B = −D_AB.
    let r = rhs(&delay_sigma, &|o: &Obs| -o.delay_s);
    for s in 0..n {
        if let Some(i) = col(s) {
            let delay = (0..m).map(|j| inv_d[i][j] * r[j]).sum::<f64>();
            out[s] = (
                wrap_pi(phase[s]),
                inv_p[i][i].sqrt(),
                delay,
                inv_d[i][i].sqrt(),
            );
        }
    }
    Ok(out)
}

/// Inverse of a small symmetric positive-definite matrix (Gauss–Jordan with
/// partial pivoting); `None` if singular.
fn invert(mut a: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let m = a.len();
    let mut inv: Vec<Vec<f64>> = (0..m)
        .map(|i| (0..m).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    let scale = (0..m).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    for c in 0..m {
        let piv = (c..m).max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs()))?;
        if a[piv][c].abs() <= 1e-12 * scale || a[piv][c].is_nan() {
            return None;
        }
        a.swap(c, piv);
        inv.swap(c, piv);
        let d = a[c][c];
        for j in 0..m {
            a[c][j] /= d;
            inv[c][j] /= d;
        }
        for r in 0..m {
            if r != c {
                let f = a[r][c];
                if f != 0.0 {
                    for j in 0..m {
                        a[r][j] -= f * a[c][j];
                        inv[r][j] -= f * inv[c][j];
                    }
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
pub(super) fn solve_for_test(
    n: usize,
    reference: usize,
    obs: &[(usize, usize, f64, f64, f64, f64)],
) -> Result<Vec<(f64, f64, f64, f64)>, usize> {
    let obs: Vec<Obs> = obs
        .iter()
        .map(|&(a, b, p, ps, d, ds)| Obs {
            a,
            b,
            phase_rad: p,
            phase_sigma_rad: ps,
            delay_s: d,
            delay_sigma_s: ds,
        })
        .collect();
    solve_stations(n, reference, &obs)
}
