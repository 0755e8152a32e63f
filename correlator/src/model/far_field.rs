//! Far field: the rigorous BCRS light-time solution for a plane wave.
//!
//! A wavefront from direction K (unit vector, BCRS, from the barycentre to the
//! source) that reaches the geocentre at TDB t_g reaches station i at t_i with
//!   t_i − t_g = −K·(x_i(t_i) − X⊕(t_g))/c + T_grav(x_i) − T_grav(X⊕)
//! (the barycentric form behind IERS Conventions 2010 eq. 11.9; T_grav as in
//! [`far_field_grav`], eq. 11.1), x_i the station's BCRS position at t_i. It is
//! solved by Newton iteration, each step evaluating the ephemeris and the
//! Earth's rotation at the new t_i; the result is turned into TT by the caller.

use super::error::ModelError;
use super::relativity::{far_field_grav, Body, C};
use super::sites::{Site, SiteFrames, SiteState};
use super::vector::{dot, sub, V3};

/// t_i − t_g (TDB s) and the station's state at t_i.
pub fn solve(
    frames: &SiteFrames,
    k: &V3,
    site: &Site,
    geocentre: &V3,
    bodies: &[Body],
) -> Result<(f64, SiteState), ModelError> {
    let grav_geo = far_field_grav(bodies, k, geocentre, 0.0, true);
    let mut dt = 0.0;
    let mut st = frames.site(site, dt)?;
    for _ in 0..12 {
        let f = dt + dot(k, &sub(&st.pos_m, geocentre)) / C
            - (far_field_grav(bodies, k, &st.pos_m, dt, false) - grav_geo);
        let step = f / (1.0 + dot(k, &st.parent_vel_m_s) / C);
        dt -= step;
        st = frames.site(site, dt)?;
        if step.abs() < 1e-15 {
            break;
        }
    }
    Ok((dt, st))
}
