//! The delay model: for every station and instant, when a wavefront that
//! reaches the geocentre at g reaches the station (τ(g), TT seconds), fitted
//! as polynomials the engine evaluates.

pub mod poly;

pub use poly::{ClockTerm, Delay, DelayPoly, DelayTrack};

use crate::job::{Job, Station};
use formats::UtcTime;

/// Why a delay model could not be built. One line, naming the key or file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{0}")]
    Input(String),
}

/// The clock term of a station as the job gives it (epoch defaults to `start`).
pub fn clock_term(station: &Station, start: UtcTime) -> ClockTerm {
    ClockTerm {
        epoch: station.clock.epoch.unwrap_or(start),
        offset_s: station.clock.offset_s,
        rate: station.clock.rate,
    }
}

/// Delay tracks for every station of `job`, covering [start, end] geocentric UTC.
///
/// Stations with `delay_poly` get that polynomial as a single piece; stations
/// with a position get the geometric model (issue: delay model).
pub fn build_tracks(
    job: &Job,
    start: UtcTime,
    end: UtcTime,
) -> Result<Vec<DelayTrack>, ModelError> {
    let _ = end;
    job.stations
        .iter()
        .map(|s| match &s.delay_poly {
            Some(p) => Ok(DelayTrack {
                station: s.name.clone(),
                pieces: vec![DelayPoly {
                    epoch: p.epoch,
                    span_s: f64::INFINITY,
                    coeffs_s: p.coeffs_s.clone(),
                }],
                clock: clock_term(s, start),
            }),
            None => Err(ModelError::Input(format!(
                "{}: station {}: the geometric delay model is not built yet; give delay_poly",
                job.file.display(),
                s.name
            ))),
        })
        .collect()
}
