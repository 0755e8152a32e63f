//! Where an Earth station's reference point is at an instant: its ITRF
//! catalogue position moved by its velocity from the catalogue epoch
//! ([`station_motion`]) and displaced by the solid Earth tide
//! ([`solid_tide`], IERS Conventions 2010 §7.1.1), the pole tide
//! ([`pole_tide`], §7.1.4) and ocean tide loading ([`ocean_loading`],
//! §7.1.2, for stations with BLQ coefficients).
//!
//! All displacements are computed and added in the ITRS, once per
//! geocentric epoch g of the model, before the ITRS → GCRS rotation of
//! [`super::earth`]: a station's reception differs from g by at most
//! ~21 ms, in which tides move it by < 1 µm.
//!
//! Not modelled (IERS Conventions ch. 7): atmospheric loading (§7.1.3)
//! and ocean pole tide loading (§7.1.5). Lunar stations have their own
//! body tide ([`lunar_tide`], applied in the Moon-fixed frame by
//! [`super::sites`]). The antenna axis offset, which depends on the
//! source direction, is a delay term: [`super::axis_offset`].

pub mod lunar_tide;
pub mod ocean_loading;
mod ocean_tide_table;
pub mod pole_tide;
pub mod solid_tide;
pub mod station_motion;

#[cfg(test)]
mod tests;

use super::earth::{EarthOrientation, EopValues};
use super::time_scales::{Instant, SECONDS_PER_DAY};
use super::vector::{add, V3};
pub use ocean_loading::OceanLoading;
pub use solid_tide::TideArguments;
pub use station_motion::StationMotion;
use std::sync::Arc;

/// Which displacements the model applies (`[model] solid_tide`,
/// `pole_tide`, `ocean_loading`; all on by default, as in CALC/difxcalc;
/// ocean loading only moves stations that have BLQ coefficients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switches {
    pub solid_tide: bool,
    pub pole_tide: bool,
    pub ocean_loading: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            solid_tide: true,
            pole_tide: true,
            ocean_loading: true,
        }
    }
}

/// An Earth station as the job gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct EarthStation {
    /// ITRF position (m) at the catalogue epoch.
    pub itrf_m: V3,
    /// Linear motion from the catalogue epoch; `None`: the position holds
    /// at every epoch.
    pub motion: Option<StationMotion>,
    /// Its ocean-loading response (from its BLQ coefficients), if any.
    pub ocean: Option<Arc<OceanLoading>>,
}

/// What the displacements need at one geocentric epoch (computed once for
/// all stations).
#[derive(Debug, Clone, Copy)]
pub struct EpochGeophysics {
    tt: Instant,
    /// Geocentric Sun and Moon (m, ITRS), when the solid tide is on.
    tide: Option<(V3, V3)>,
    /// The tidal arguments, when the solid tide or ocean loading is on.
    args: Option<TideArguments>,
    ocean_loading: bool,
    /// Polar motion (rad) when the pole tide is on and EOP are given.
    polar_motion_rad: Option<(f64, f64)>,
}

/// Julian years of TT since J2000.0 (J2000.0 is the Julian epoch 2000.0).
pub fn julian_years_since_j2000(tt: Instant) -> f64 {
    tt.seconds_f64() / (365.25 * SECONDS_PER_DAY)
}

impl EpochGeophysics {
    /// At TT `tt`: `sun_gcrs_m`, `moon_gcrs_m` are the geocentric Sun and
    /// Moon (ICRS axes) at that instant, `eop` the polar motion if the job
    /// has Earth-orientation data.
    pub fn new(
        switches: Switches,
        tt: Instant,
        orient: &EarthOrientation,
        sun_gcrs_m: &V3,
        moon_gcrs_m: &V3,
        eop: Option<EopValues>,
    ) -> EpochGeophysics {
        let tide = switches.solid_tide.then(|| {
            (
                orient.gcrs_to_itrs(tt, sun_gcrs_m),
                orient.gcrs_to_itrs(tt, moon_gcrs_m),
            )
        });
        let args = (switches.solid_tide || switches.ocean_loading)
            .then(|| TideArguments::new(tt, tt.add_seconds(orient.ut1_minus_tt_s)));
        let polar_motion_rad = match (switches.pole_tide, eop) {
            (true, Some(e)) => Some((e.xp_rad, e.yp_rad)),
            _ => None,
        };
        EpochGeophysics {
            tt,
            tide,
            args,
            ocean_loading: switches.ocean_loading,
            polar_motion_rad,
        }
    }

    /// The station's ITRS position (m) at this epoch.
    pub fn position_m(&self, st: &EarthStation) -> V3 {
        let mut x = match &st.motion {
            Some(m) => m.position_m(&st.itrf_m, self.tt),
            None => st.itrf_m,
        };
        // Displacements are evaluated at the moved position: the tides of a
        // station a few cm away differ by ~1e-8 of themselves.
        let nominal = x;
        if let (Some((sun, moon)), Some(args)) = (&self.tide, &self.args) {
            x = add(&x, &solid_tide::displacement_m(&nominal, sun, moon, args));
        }
        if let (true, Some(ocean), Some(args)) = (self.ocean_loading, &st.ocean, &self.args) {
            x = add(&x, &ocean.displacement_m(&nominal, args));
        }
        if let Some((xp, yp)) = self.polar_motion_rad {
            let year = 2000.0 + julian_years_since_j2000(self.tt);
            x = add(&x, &pole_tide::displacement_m(&nominal, xp, yp, year));
        }
        x
    }
}
