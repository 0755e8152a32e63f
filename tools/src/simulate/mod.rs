//! `emcorr simulate`: synthetic recordings with known truth.
//!
//! A scenario (a job file plus `[simulation]` keys and injected clock errors)
//! becomes, per station, a VDIF recording of one common band-limited Gaussian
//! sky delayed by the station's true delay, plus its own noise; a `job.toml`
//! that correlates them with the model the correlator knows (without the
//! injected errors); and a `truth.json` with what the correlator should find.
//!
//! Stages, top to bottom: `scenario` (TOML → Scenario) → `signal` (sky,
//! continuous delay, LO phase, noise) → `quantise` (codes) → `faults` →
//! `write` (files or FIFOs, one writer thread per station); `truth` beside.

pub mod detmath;
pub mod quantise;
pub mod scenario;
pub mod signal;

#[cfg(test)]
mod tests;
