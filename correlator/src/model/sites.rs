//! Where a station (or a lunar-surface transmitter) is, in the BCRS, from
//! the origin of [`GeoOrigin`] (the geocentre at t_g: positions
//! x − X⊕(t_g), so that they carry no ~3e-5 m rounding of barycentric
//! coordinates; see [`super::ephemeris`]).

use super::earth::EarthOrientation;
use super::ephemeris::{Ephemeris, GeoOrigin, State, EARTH, MOON, SUN};
use super::error::ModelError;
use super::geophysics::lunar_tide;
use super::moon::{site_me_m, MoonOrientation};
use super::relativity::{local_to_bcrs, potential, Body, L_C};
use super::time_scales::Instant;
use super::vector::{add, mul, mul_t, sub, V3};
use crate::job::StationPosition;

/// A point fixed to the Earth or to the Moon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Site {
    /// ITRF cartesian (m).
    Earth([f64; 3]),
    /// Moon-fixed mean-Earth-frame cartesian (m).
    Moon([f64; 3]),
}

impl Site {
    pub fn from_position(p: &StationPosition) -> Option<Site> {
        match p {
            StationPosition::Itrf(x) => Some(Site::Earth(*x)),
            StationPosition::Moon(m) => Some(Site::Moon(site_me_m(m))),
            StationPosition::MoonXyz(x) => Some(Site::Moon(*x)),
            StationPosition::None => None,
        }
    }

    pub fn on_moon(&self) -> bool {
        matches!(self, Site::Moon(_))
    }
}

/// What a site's position needs besides the time.
pub struct SiteFrames<'a> {
    pub eph: &'a Ephemeris,
    pub moon: MoonOrientation,
    /// 0 for TDB-compatible lunar coordinates, L_B for proper ones
    /// (`crate::job::LunarScale`).
    pub lunar_scale: f64,
    pub earth: &'a EarthOrientation,
    /// `[model] lunar_tide`: displace lunar sites by the Moon's body tide
    /// ([`lunar_tide`]).
    pub lunar_tide: bool,
    pub bodies: &'a [Body],
    /// TT and TDB of the geocentric epoch t_g.
    pub tt_g: Instant,
    pub tdb_g: Instant,
    /// The origin of positions: the geocentre at t_g.
    pub origin: &'a GeoOrigin,
}

/// A site at one instant: BCRS position (from the origin, x − X⊕(t_g)) and
/// its body's state.
#[derive(Debug, Clone, Copy)]
pub struct SiteState {
    pub pos_m: V3,
    /// The velocity of the body it sits on (enough for Newton steps).
    pub parent_vel_m_s: V3,
    /// The body-centred ICRF-axes vector (m) before the 1PN terms.
    pub local_m: V3,
    /// BCRS position of the body's centre (m, from the origin).
    pub parent_pos_m: V3,
}

impl SiteFrames<'_> {
    /// BCRS position of `site` at TDB t_g + dt_s (from the origin): the
    /// body's ephemeris at that exact instant plus the site vector
    /// transformed at 1PN.
    pub fn site(&self, site: &Site, dt_s: f64) -> Result<SiteState, ModelError> {
        let t = self.tdb_g.add_seconds(dt_s);
        match site {
            Site::Earth(itrf) => {
                let earth = self.eph.state_from(EARTH, t, self.origin)?;
                // TT − TDB changes by < 1e-9 s over dt: TT of the event = tt_g + dt.
                let local = self.earth.itrs_to_gcrs(self.tt_g.add_seconds(dt_s), itrf);
                let u = potential(self.bodies, &earth.pos_m, EARTH);
                Ok(SiteState {
                    pos_m: local_to_bcrs(&earth, &local, u, L_C),
                    parent_vel_m_s: earth.vel_m_s,
                    local_m: local,
                    parent_pos_m: earth.pos_m,
                })
            }
            Site::Moon(me) => {
                let moon: State = self.eph.state_from(MOON, t, self.origin)?;
                let r = self.moon.me_to_icrf(self.eph, t)?;
                let me = match self.lunar_tide {
                    true => add(me, &self.lunar_tide_me_m(me, &r)),
                    false => *me,
                };
                let local = mul(&r, &me);
                // Lunar coordinates are TDB-compatible by default (as the
                // ephemeris's own lengths): no scale; proper ones take L_B
                // (crate::job::LunarScale).
                let u = potential(self.bodies, &moon.pos_m, MOON);
                Ok(SiteState {
                    pos_m: local_to_bcrs(&moon, &local, u, self.lunar_scale),
                    parent_vel_m_s: moon.vel_m_s,
                    local_m: local,
                    parent_pos_m: moon.pos_m,
                })
            }
        }
    }

    /// The body tide of a lunar site (m, ME axes). The Earth and the Sun
    /// are taken at t_g (`bodies`): in the ≤ 1.5 s to the event their
    /// direction from the Moon turns by < 1e-5 rad, 5 µm of tide.
    fn lunar_tide_me_m(&self, me: &V3, me_to_icrf: &super::vector::M3) -> V3 {
        let at = |id: i32| {
            self.bodies
                .iter()
                .find(|b| b.naif_id == id)
                .map(|b| b.state.pos_m)
        };
        match (at(MOON), at(EARTH), at(SUN)) {
            (Some(moon), Some(earth), Some(sun)) => lunar_tide::displacement_m(
                me,
                &mul_t(me_to_icrf, &sub(&earth, &moon)),
                &mul_t(me_to_icrf, &sub(&sun, &moon)),
            ),
            // `DelayModel::epoch` always gives the three.
            _ => [0.0; 3],
        }
    }
}
