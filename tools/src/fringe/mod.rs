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

pub use data::{BaselineData, DataError, Sideband, Subband};
pub use fit::{
    counter_rotated, fit_baseline, fit_with_subbands, FitError, FitOptions, FringeSolution,
};
pub use output::{FringeRow, Totals, CSV_HEADER};
pub use search::{coarse_search, CoarsePeak, DelayRateMap, SearchError, SearchWindow};
