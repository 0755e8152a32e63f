//! Near field: a source at finite distance (lunar lander, orbiter, relay).
//!
//! Two light-time legs from the source's position at emission (Sekido &
//! Fukushima 2006, J. Geod. 80, 137): the signal emitted at t_e would reach
//! the geocentre at t_g,
//!   t_g − t_e = |X⊕(t_g) − x_s(t_e)|/c + Δ_grav(s→⊕),
//! and reaches station i at t_i,
//!   t_i − t_e = |x_i(t_i) − x_s(t_e)|/c + Δ_grav(s→i),
//! both in TDB with the Shapiro terms of [`near_field_grav`]. Each is solved by
//! Newton iteration with the moving source and station.

use super::ephemeris::{Ephemeris, State};
use super::error::ModelError;
use super::oem::Oem;
use super::relativity::{near_field_grav, Body, C};
use super::sites::{Site, SiteFrames, SiteState};
use super::vector::{add, dot, norm, scale, sub, unit, V3};

/// Where a near-field source is.
#[derive(Debug, Clone)]
pub enum NearSource {
    /// A transmitter on the lunar surface.
    Moon(Site),
    /// An SPK body (NAIF ID).
    Spk(i32),
    /// A CCSDS OEM table.
    Oem(Oem),
}

impl NearSource {
    /// BCRS position (from the origin, x − X⊕(t_g)) and velocity at TDB
    /// t_g + dt.
    pub fn state(
        &self,
        frames: &SiteFrames,
        eph: &Ephemeris,
        dt: f64,
    ) -> Result<State, ModelError> {
        let t = frames.tdb_g.add_seconds(dt);
        match self {
            NearSource::Moon(site) => {
                let s = frames.site(site, dt)?;
                Ok(State {
                    pos_m: s.pos_m,
                    vel_m_s: s.parent_vel_m_s,
                })
            }
            NearSource::Spk(id) => eph.state_from(*id, t, frames.origin),
            NearSource::Oem(oem) => {
                let (p, v) = oem.at(t)?;
                let c = match oem.center {
                    // Barycentric: the origin's barycentric position off.
                    0 => State {
                        pos_m: scale(&frames.origin.bary_pos_m, -1.0),
                        vel_m_s: [0.0; 3],
                    },
                    id => eph.state_from(id, t, frames.origin)?,
                };
                Ok(State {
                    pos_m: add(&c.pos_m, &p),
                    vel_m_s: add(&c.vel_m_s, &v),
                })
            }
        }
    }
}

/// Emission: t_e − t_g (TDB s) and the source's state then.
pub fn emission(
    frames: &SiteFrames,
    eph: &Ephemeris,
    src: &NearSource,
    geocentre: &V3,
    bodies: &[Body],
) -> Result<(f64, State), ModelError> {
    let mut te = 0.0;
    let mut s = src.state(frames, eph, te)?;
    for _ in 0..12 {
        let d = sub(geocentre, &s.pos_m);
        let rho = norm(&d);
        let f = -te - rho / C - near_field_grav(bodies, &s.pos_m, te, geocentre, 0.0, true);
        // d f/d te = −1 + n·v_s/c
        let deriv = -1.0 + dot(&unit(&d), &s.vel_m_s) / C;
        let step = f / deriv;
        te -= step;
        s = src.state(frames, eph, te)?;
        if step.abs() < 1e-15 {
            break;
        }
    }
    Ok((te, s))
}

/// Reception at a station: t_i − t_g (TDB s) and the station's state then.
pub fn reception(
    frames: &SiteFrames,
    site: &Site,
    te: f64,
    src: &State,
    bodies: &[Body],
) -> Result<(f64, SiteState), ModelError> {
    let mut dt = 0.0;
    let mut st = frames.site(site, dt)?;
    for _ in 0..12 {
        let d = sub(&st.pos_m, &src.pos_m);
        let f =
            dt - te - norm(&d) / C - near_field_grav(bodies, &src.pos_m, te, &st.pos_m, dt, false);
        let deriv = 1.0 - dot(&unit(&d), &st.parent_vel_m_s) / C;
        let step = f / deriv;
        dt -= step;
        st = frames.site(site, dt)?;
        if step.abs() < 1e-15 {
            break;
        }
    }
    Ok((dt, st))
}
