//! A station's linear motion (plate tectonics): ITRF catalogues give a
//! position at an epoch and a velocity, x(t) = x₀ + v·(t − t₀) (IERS
//! Conventions 2010 §4.2.5, eq. 4.11 without the post-seismic terms).

use super::super::time_scales::{utc_to_tt, Instant, SECONDS_PER_DAY};
use super::super::vector::{axpy, V3};
use formats::UtcTime;

/// Velocity from a catalogue epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StationMotion {
    /// The catalogue epoch t₀ (TT).
    pub epoch_tt: Instant,
    /// v (m per Julian year).
    pub vel_m_per_yr: V3,
}

impl StationMotion {
    /// From the job's `itrf_epoch` (UTC) and `velocity_m_per_yr`.
    pub fn new(epoch: UtcTime, vel_m_per_yr: V3) -> StationMotion {
        StationMotion {
            epoch_tt: utc_to_tt(epoch),
            vel_m_per_yr,
        }
    }

    /// x₀ moved to TT `tt`.
    pub fn position_m(&self, x0_m: &V3, tt: Instant) -> V3 {
        let years = tt.seconds_since(self.epoch_tt) / (365.25 * SECONDS_PER_DAY);
        axpy(x0_m, years, &self.vel_m_per_yr)
    }
}
