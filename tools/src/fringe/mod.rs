//! Fringe fitting: from a baseline's cross-spectra over a scan to its group
//! delay, single-band delays, delay rate, phase, amplitude, SNR, formal errors
//! and probability of false detection.
//!
//! Flow: [`data::BaselineData`] (one baseline, one scan, all subbands) →
//! [`search::coarse_search`] (FFT over frequency and time) →
//! [`fit::fit_baseline`] (interpolation, least squares on phases) with
//! [`stats`] (SNR, σ, PFD) → [`output::FringeRow`] (CSV/JSON).
//! [`synth`] makes data with known truth for tests.

pub mod data;
pub mod fit;
pub mod output;
pub mod search;
pub mod stats;
pub mod synth;

#[cfg(test)]
mod tests;

pub use data::{
    antenna_name, idi_subbands, model_delay, scan_numbers, scans_from_idi, BaselineData, DataError,
    ScanBaseline, Sideband, Subband,
};
pub use fit::{
    counter_rotated, fit_baseline, fit_with_subbands, FitError, FitOptions, FringeSolution,
    NoiseModel,
};
pub use output::{FringeRow, Totals, CSV_HEADER};
pub use search::{coarse_search, CoarsePeak, DelayRateMap, SearchError, SearchWindow};

use formats::fitsidi::IdiFile;

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
}

/// Why a file could not be fringe-fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("reference station {0:?} is not in the file's ANTENNA table")]
    UnknownRefStation(String),
    /// No UV_DATA row between two antennas: autocorrelations only (a
    /// one-station job), or no rows at all.
    #[error("the file has no cross-correlations ({antennas} antenna(s), {rows} UV_DATA row(s), autocorrelations only): there is nothing to fringe-fit (`emcorr plot --spectra` draws the autocorrelations)")]
    NoCrossCorrelations { antennas: usize, rows: usize },
}

/// Fringe-fit every baseline × scan (× solution interval) of a FITS-IDI file
/// into output rows, with total observables where the file has a model.
pub fn fringe_file(file: &IdiFile, opts: &RunOptions) -> Result<Vec<FringeRow>, RunError> {
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
    let pieces = scans_from_idi(file, opts.stokes)?;
    // Solution intervals are numbered in time order within the whole file.
    let mut intervals: Vec<(usize, &ScanBaseline, BaselineData)> = Vec::new();
    let mut interval_no = std::collections::BTreeMap::new();
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
    let mut counters = std::collections::HashMap::new();
    for (no, p, _) in intervals.iter_mut() {
        let j = counters.entry((p.scan, p.antennas)).or_insert(0usize);
        *no = interval_no[&(p.scan, *j)];
        *j += 1;
    }

    let mut rows = Vec::new();
    for (no, p, data) in &intervals {
        let (combined, per) = fit_with_subbands(data, &opts.fit)?;
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
        rows.push(FringeRow::new(
            &combined,
            *no,
            None,
            &p.source,
            totals(&combined).as_ref(),
        ));
        if opts.each_subband {
            for (b, sol) in per.iter().enumerate() {
                if let Some(sol) = sol {
                    rows.push(FringeRow::new(
                        sol,
                        *no,
                        Some(b + 1),
                        &p.source,
                        totals(sol).as_ref(),
                    ));
                }
            }
        }
    }
    Ok(rows)
}
