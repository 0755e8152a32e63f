//! Fringe fitting: from a baseline's cross-spectra over a scan to its group
//! delay, single-band delays, delay rate, phase, amplitude, SNR, formal errors
//! and probability of false detection.
//!
//! Flow: [`data::BaselineData`] (one baseline, one scan, all subbands) →
//! [`search::coarse_search`] (FFT over frequency and time) →
//! [`fit::fit_baseline`] (interpolation, least squares on phases) with
//! [`stats`] (SNR, σ, PFD) → [`output::FringeRow`] (CSV/JSON).
//! [`data::scans_from_idi`] cuts a FITS-IDI file into scan × source ×
//! baseline pieces (by its EMCORR_SCAN table where it has one);
//! [`fringe_file`] fits them all, [`differential_file`] pairs two phase
//! centres of the same scans into same-beam differences
//! ([`output::DifferentialRow`]). [`synth`] makes data with known truth for
//! tests, [`synth_session`] a whole FITS-IDI session of them.

pub mod calibration;
pub mod data;
pub mod fit;
pub mod output;
pub mod search;
pub mod stats;
pub mod synth;
pub mod synth_session;

#[cfg(test)]
mod tests;

pub use calibration::{CalError, ManualPcal, StationCal};
pub use data::{
    antenna_name, idi_subbands, model_delay, scans_from_idi, source_name, BaselineData, DataError,
    FxChannels, ScanBaseline, Sideband, Subband,
};
pub use fit::{
    counter_rotated, fit_baseline, fit_with_subbands, fx_delay_loss, FitError, FitOptions,
    FringeSolution, NoiseModel,
};
pub use output::{DifferentialRow, FringeRow, Totals, CSV_HEADER, DIFF_CSV_HEADER};
pub use search::{coarse_search, CoarsePeak, DelayRateMap, SearchError, SearchWindow};

use fit::wrap_pi;
use formats::fitsidi::IdiFile;
use std::collections::{BTreeMap, HashMap};
use std::f64::consts::PI;

/// What `emcorr fringe` does with a file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunOptions {
    pub fit: FitOptions,
    /// Solution interval (s); `None`: one solution per scan.
    pub solint_s: Option<f64>,
    /// Station whose arrival time labels the reference epoch of the totals;
    /// `None`: the first station of each baseline.
    pub ref_station: Option<String>,
    /// Also one row per subband (`--subbands each`).
    pub each_subband: bool,
    /// Polarisation product (0-based index into the file's Stokes axis).
    pub stokes: usize,
    /// `--manual-pcal SCAN`: derive station terms from this scan (name or
    /// 1-based number) and remove them from every scan before fitting; the
    /// reference station is `ref_station` (default: the scan's first).
    pub manual_pcal: Option<String>,
    /// `--pcal`: station terms from phase-cal tones, removed from every
    /// scan first (before any manual phase-cal).
    pub pcal: Option<StationCal>,
}

/// Why a file could not be fringe-fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Cal(#[from] calibration::CalError),
    #[error("reference station {0:?} is not in the file's ANTENNA table")]
    UnknownRefStation(String),
    /// No UV_DATA row between two antennas: autocorrelations only (a
    /// one-station job), or no rows at all.
    #[error("the file has no cross-correlations ({antennas} antenna(s), {rows} UV_DATA row(s), autocorrelations only): there is nothing to fringe-fit (`emcorr plot --spectra` draws the autocorrelations)")]
    NoCrossCorrelations { antennas: usize, rows: usize },
    /// `--differential` named a source the SOURCE table does not have.
    #[error("--differential: source {name:?} is not in the SOURCE table (it has {known})")]
    UnknownSource { name: String, known: String },
    #[error("--differential: sources A and B are both {0:?}; give two different sources")]
    SameSource(String),
    /// Both sources exist but no scan has fringes of both on any baseline.
    #[error("--differential: no scan has rows of both {a:?} and {b:?} on the same baseline (same-beam scans have both phase centres at the same times)")]
    NoCommonScan { a: String, b: String },
}

/// One fitted piece: a scan (or solution interval) × source × baseline,
/// all subbands combined (`subband` None) or one subband.
#[derive(Debug, Clone)]
struct Solved {
    scan: usize,
    scan_name: Option<String>,
    source: String,
    antennas: (u32, u32),
    subband: Option<usize>,
    sol: FringeSolution,
    totals: Option<Totals>,
}

impl Solved {
    fn row(&self) -> FringeRow {
        FringeRow::new(
            &self.sol,
            self.scan,
            self.scan_name.as_deref(),
            self.subband,
            &self.source,
            self.totals.as_ref(),
        )
    }
}

/// Fringe-fit every scan × source × baseline (× solution interval) of a
/// FITS-IDI file into output rows, with total observables where the file
/// has a model.
pub fn fringe_file(file: &IdiFile, opts: &RunOptions) -> Result<Vec<FringeRow>, RunError> {
    Ok(fringe_file_calibrated(file, opts)?.0)
}

/// As [`fringe_file`], with the manual phase-cal terms it applied (when
/// `opts.manual_pcal` asks for them) and the (station, 0-based subband)
/// pairs the calibration had no terms for.
#[allow(clippy::type_complexity)]
pub fn fringe_file_calibrated(
    file: &IdiFile,
    opts: &RunOptions,
) -> Result<(Vec<FringeRow>, Option<ManualPcal>, Vec<(String, usize)>), RunError> {
    let (solved, cal, missing) = solve_file(file, opts)?;
    Ok((solved.iter().map(Solved::row).collect(), cal, missing))
}

/// Same-beam differential observables, source `a` − source `b` (names as
/// in the SOURCE table), for every scan (or solution interval) and
/// baseline (and subband, with `each_subband`) that has fringes of both.
pub fn differential_file(
    file: &IdiFile,
    opts: &RunOptions,
    a: &str,
    b: &str,
) -> Result<Vec<DifferentialRow>, RunError> {
    for name in [a, b] {
        if !file.header.sources.iter().any(|s| s.name == name) {
            let known: Vec<String> = file
                .header
                .sources
                .iter()
                .map(|s| format!("{:?}", s.name))
                .collect();
            return Err(RunError::UnknownSource {
                name: name.to_string(),
                known: known.join(", "),
            });
        }
    }
    if a == b {
        return Err(RunError::SameSource(a.to_string()));
    }
    let (solved, _, _) = solve_file(file, opts)?;
    // (scan, baseline, subband) → index of A's and of B's piece.
    type Key = (usize, (u32, u32), Option<usize>);
    let mut pairs: BTreeMap<Key, (Option<usize>, Option<usize>)> = BTreeMap::new();
    for (i, p) in solved.iter().enumerate() {
        let slot = pairs.entry((p.scan, p.antennas, p.subband)).or_default();
        if p.source == a {
            slot.0 = Some(i);
        } else if p.source == b {
            slot.1 = Some(i);
        }
    }
    let rows: Vec<DifferentialRow> = pairs
        .values()
        .filter_map(|&(ia, ib)| Some(difference(&solved[ia?], &solved[ib?])))
        .collect();
    if rows.is_empty() {
        return Err(RunError::NoCommonScan {
            a: a.to_string(),
            b: b.to_string(),
        });
    }
    Ok(rows)
}

/// A − B of two solutions of the same baseline and scan, B carried to A's
/// reference epoch by its own rate.
///
/// Errors add in quadrature: the noise of the two fits is taken as
/// independent. Both phase centres are correlated from the same samples,
/// so their thermal noise is the same station noise turned by the two
/// centres' models; the fits' errors stay correlated only where the
/// difference of the applied phases winds by less than a turn across the
/// band and over the scan (centres closer than ~c/(baseline × span)), see
/// README, "Differential".
fn difference(a: &Solved, b: &Solved) -> DifferentialRow {
    let (sa, sb) = (&a.sol, &b.sol);
    let dt = sa.ref_epoch.seconds_since(sb.ref_epoch);
    // Terms carried over dt: none (not 0·∞) when the epochs agree.
    let carried = |x: f64| if dt == 0.0 { 0.0 } else { x * dt };
    let nu = sa.ref_freq_hz;
    let mbd_b = sb.mbd_s + carried(sb.rate);
    let sbd_b = sb.sbd_s + carried(sb.rate);
    let phase_b = sb.phase_rad + 2.0 * PI * nu * carried(sb.rate);
    let delay_sigma_b2 = |s: f64| s * s + carried(sb.rate_sigma).powi(2);
    let phase_sigma_b2 =
        sb.phase_sigma_rad.powi(2) + (2.0 * PI * nu * carried(sb.rate_sigma)).powi(2);
    let ra = a.row();
    let rb = b.row();
    let total_delay_diff_s = match (ra.total_delay_s, rb.total_delay_s, rb.total_rate_s_per_s) {
        (Some(ta), Some(tb), Some(rate_b)) => Some(ta - (tb + carried(rate_b))),
        _ => None,
    };
    let total_rate_diff_s_per_s = match (ra.total_rate_s_per_s, rb.total_rate_s_per_s) {
        (Some(x), Some(y)) => Some(x - y),
        _ => None,
    };
    DifferentialRow {
        baseline: sa.baseline.clone(),
        scan: a.scan,
        scan_name: a.scan_name.clone(),
        subband: a.subband,
        source_a: a.source.clone(),
        source_b: b.source.clone(),
        ref_epoch_utc: ra.ref_epoch_utc,
        ref_station: ra.ref_station,
        geocentre_epoch_utc: ra.geocentre_epoch_utc,
        ref_freq_hz: nu,
        mbd_diff_s: sa.mbd_s - mbd_b,
        mbd_diff_sigma_s: (sa.mbd_sigma_s.powi(2) + delay_sigma_b2(sb.mbd_sigma_s)).sqrt(),
        sbd_diff_s: sa.sbd_s - sbd_b,
        sbd_diff_sigma_s: (sa.sbd_sigma_s.powi(2) + delay_sigma_b2(sb.sbd_sigma_s)).sqrt(),
        rate_diff_s_per_s: sa.rate - sb.rate,
        rate_diff_sigma: (sa.rate_sigma.powi(2) + sb.rate_sigma.powi(2)).sqrt(),
        phase_diff_deg: wrap_pi(sa.phase_rad - phase_b).to_degrees(),
        phase_diff_sigma_deg: (sa.phase_sigma_rad.powi(2) + phase_sigma_b2)
            .sqrt()
            .to_degrees(),
        snr_a: sa.snr,
        snr_b: sb.snr,
        detected: sa.detected && sb.detected,
        total_delay_diff_s,
        total_rate_diff_s_per_s,
        epoch_offset_s: dt,
    }
}

/// Fit every piece of the file, in output order, after the calibration
/// `opts` asks for.
#[allow(clippy::type_complexity)]
fn solve_file(
    file: &IdiFile,
    opts: &RunOptions,
) -> Result<(Vec<Solved>, Option<ManualPcal>, Vec<(String, usize)>), RunError> {
    let ref_id = match &opts.ref_station {
        Some(name) => Some(
            file.header
                .antennas
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
                .map(|a| a.id)
                .ok_or_else(|| RunError::UnknownRefStation(name.clone()))?,
        ),
        None => None,
    };
    // A file of autocorrelations only (a one-station job): an empty table
    // would look like a fit that found nothing.
    if file.rows.iter().all(|r| r.baseline.0 == r.baseline.1) {
        return Err(RunError::NoCrossCorrelations {
            antennas: file.header.antennas.len(),
            rows: file.rows.len(),
        });
    }
    let mut pieces = scans_from_idi(file, opts.stokes)?;
    // scans_from_idi has checked the index.
    let pols = calibration::product_pols(file.header.stokes.get(opts.stokes).copied().unwrap_or(0));
    let mut missing = std::collections::BTreeSet::new();
    if let Some(cal) = &opts.pcal {
        for p in pieces.iter_mut() {
            missing.extend(cal.apply(&mut p.data, pols));
        }
    }
    let manual = match &opts.manual_pcal {
        Some(scan) => {
            // With tones too, the reference is a toned station (see
            // ManualPcal::defer_to_tones).
            let toned = opts.pcal.as_ref().map(|c| c.stations());
            let reference = match (&opts.ref_station, &toned) {
                (Some(r), Some(t))
                    if !t.is_empty() && !t.iter().any(|s| s.eq_ignore_ascii_case(r)) =>
                {
                    return Err(calibration::CalError::RefWithoutTones {
                        scan: scan.clone(),
                        station: r.clone(),
                    }
                    .into());
                }
                (Some(r), _) => Some(r.as_str()),
                (None, Some(t)) => first_in_scan(&pieces, t),
                (None, None) => None,
            };
            let mut m = calibration::manual_pcal(&pieces, scan, reference, pols, &opts.fit)?;
            if let Some(tones) = &opts.pcal {
                m.defer_to_tones(tones);
            }
            for p in pieces.iter_mut() {
                missing.extend(m.cal.apply(&mut p.data, pols));
            }
            Some(m)
        }
        None => None,
    };
    // Solution intervals are numbered in time order within the whole file:
    // interval j of scan s gets one number, whatever the source and
    // baseline (same-beam sources share their intervals).
    let mut intervals: Vec<(usize, &ScanBaseline, BaselineData)> = Vec::new();
    let mut interval_no = BTreeMap::new();
    for p in &pieces {
        let parts = match opts.solint_s {
            Some(s) if s > 0.0 => p.data.split(s),
            _ => vec![p.data.clone()],
        };
        for (j, part) in parts.into_iter().enumerate() {
            intervals.push((0, p, part));
            interval_no.insert((p.scan, j), 0usize);
        }
    }
    for (n, v) in interval_no.values_mut().enumerate() {
        *v = n + 1;
    }
    let mut counters = HashMap::new();
    for (no, p, _) in intervals.iter_mut() {
        let j = counters
            .entry((p.scan, p.source_id, p.antennas))
            .or_insert(0usize);
        *no = interval_no[&(p.scan, *j)];
        *j += 1;
    }

    let mut out = Vec::new();
    for (no, p, data) in &intervals {
        let (mut combined, per) = fit_with_subbands(data, &opts.fit)?;
        if let Some(cal) = &opts.pcal {
            let c = calibration::mbd_sigma_from_terms(cal, data, pols);
            combined.mbd_cal_sigma_s = c;
            combined.mbd_sigma_s = combined.mbd_sigma_s.hypot(c);
        }
        let totals = |sol: &FringeSolution| -> Option<Totals> {
            let g = sol.ref_epoch;
            let (a1, a2) = p.antennas;
            let r = ref_id.unwrap_or(a1);
            let (da, ra) = model_delay(&file.models, a1, p.source_id, g)?;
            let (db, rb) = model_delay(&file.models, a2, p.source_id, g)?;
            let (dr, _) = model_delay(&file.models, r, p.source_id, g)?;
            Some(Totals {
                ref_station: antenna_name(&file.header, r),
                ref_epoch_utc: g.add_seconds(dr).to_iso8601(),
                model_delay_s: db - da,
                model_rate: rb - ra,
            })
        };
        let piece = |sol: FringeSolution, subband: Option<usize>| Solved {
            scan: *no,
            scan_name: p.scan_name.clone(),
            source: p.source.clone(),
            antennas: p.antennas,
            subband,
            totals: totals(&sol),
            sol,
        };
        out.push(piece(combined, None));
        if opts.each_subband {
            for (b, sol) in per.into_iter().enumerate() {
                if let Some(sol) = sol {
                    out.push(piece(sol, Some(b + 1)));
                }
            }
        }
    }
    Ok((out, manual, missing.into_iter().collect()))
}

/// The lowest-numbered antenna of `pieces` among `names` (the default
/// reference of `--manual-pcal` with `--pcal`: a station with tones).
fn first_in_scan<'a>(
    pieces: &'a [ScanBaseline],
    names: &std::collections::BTreeSet<&str>,
) -> Option<&'a str> {
    pieces
        .iter()
        .flat_map(|p| {
            [
                (p.antennas.0, p.data.station_a.as_str()),
                (p.antennas.1, p.data.station_b.as_str()),
            ]
        })
        .filter(|(_, s)| names.contains(s))
        .min_by_key(|(id, _)| *id)
        .map(|(_, s)| s)
}
