//! The Moon's solid body tide raised by the Earth and the Sun, for stations
//! and landers on the Moon: the degree-2 displacement of IERS Conventions
//! 2010 eq. 7.5 with the Moon as the deformed body,
//!
//!   Δr = Σ_j (GM_j/GM☾)(R☾⁴/r_j³) { h₂ r̂ [3/2 (R̂_j·r̂)² − 1/2]
//!                                   + 3 l₂ (R̂_j·r̂) [R̂_j − (R̂_j·r̂) r̂] },
//!
//! j the Earth and the Sun, R̂_j their direction from the Moon's centre, r̂
//! the site's, all in the Moon-fixed (ME) frame. The Earth's term is
//! h₂·13 m ≈ 0.5 m at the sub-Earth point; the Sun's is 0.56% of it
//! (GM☉/GM⊕·(r⊕☾/r☉)³), ~3 mm, and is kept. Degree 3 (R☾/r⊕ ≈ 0.45% of
//! degree 2, ~2 mm) and the frequency dependence and dissipation of the
//! lunar Love numbers (a phase lag of ~1/Q ≈ 1/38 rad; Williams & Boggs
//! 2015, JGR Planets 120, "Tides on the Moon: theory and determination of
//! dissipation") are left out: < 3 mm together.
//!
//! Love numbers: h₂ = 0.0387 ± 0.0025 from LRO laser altimetry (Thor et
//! al. 2021, J. Geodesy 95:4, "Determination of the lunar body tide from
//! global laser altimetry data"; Mazarico et al. 2014, GRL 41, 2282, found
//! 0.0371 ± 0.0033), the most direct measurement of the radial tide; the
//! LLR value depends on the assumed l₂ and on the reflector coordinates it
//! is fitted with. l₂ = 0.0107, the value the JPL lunar laser ranging
//! solutions hold fixed for the horizontal tide (the DE421 and DE430 lunar
//! memos, Williams, Boggs & Folkner 2008, IOM 335-JW,DB,WF-20080314-001,
//! and 2013): altimetry does not see horizontal motion, and LLR separates
//! l₂ poorly from the reflector coordinates. (These values are quoted from
//! the literature as remembered, not re-read here: the papers' text was not
//! at hand. The spread of the h₂ estimates, ~7%, is ~7 mm of the ~0.1 m
//! the model adds.)
//!
//! Permanent part: the Earth's tide has a large constant part, because the
//! Moon keeps one face to the Earth: the Earth at its mean distance along
//! the ME frame's +x axis (the mean sub-Earth direction, which defines the
//! ME frame) raises 0.5 m at the sub-Earth point; what varies
//! (eccentricity: ±5.5% in distance, ±16% in the tide; optical libration:
//! ±8° in direction) is ~0.1 m. Lunar site coordinates are of the
//! deformed Moon: a lander's position comes from images and altimetry of
//! the surface as it stands (LROC/LOLA in the ME frame), and in a fit of
//! coordinates together with a tide model a constant displacement cannot be
//! told from the coordinates themselves. So site coordinates are taken as
//! *mean-tide* coordinates: the model adds the tide minus the static tide
//! of the Earth at its mean distance on the +x axis (the Sun's tide, whose
//! mean is ~1 mm, is added whole).

use super::solid_tide::{MOON_EARTH_MASS_RATIO, SUN_EARTH_MASS_RATIO};
use crate::model::moon::MOON_RADIUS_M;
use crate::model::vector::{axpy, dot, norm, scale, V3};

/// Degree-2 radial Love number of the Moon (Thor et al. 2021).
pub const H2: f64 = 0.0387;
/// Degree-2 Shida number of the Moon (JPL LLR analyses).
pub const L2: f64 = 0.0107;

/// The Earth's mean distance for the static tide (m): the orbit mean of
/// 1/r³ is 1/(a³ (1 − e²)^{3/2}), a = 384 399 km, e = 0.0549 (the mean
/// lunar orbit; Simon et al. 1994), i.e. r = a √(1 − e²).
pub fn mean_earth_distance_m() -> f64 {
    384_399e3 * (1.0 - 0.0549_f64 * 0.0549).sqrt()
}

/// Degree-2 displacement (m, frame of the inputs) of the site at `site_m`
/// by a body at `body_m` (both from the Moon's centre) of mass
/// `mass_ratio` × the Moon's (eq. 7.5 with R = R☾, h₂, l₂ of the Moon).
pub fn degree2_m(site_m: &V3, body_m: &V3, mass_ratio: f64) -> V3 {
    let rhat = scale(site_m, 1.0 / norm(site_m));
    let rj = norm(body_m);
    let bhat = scale(body_m, 1.0 / rj);
    let f2 = mass_ratio * MOON_RADIUS_M * (MOON_RADIUS_M / rj).powi(3);
    let c = dot(&bhat, &rhat);
    let across = axpy(&bhat, -c, &rhat);
    let d = scale(&rhat, f2 * H2 * (1.5 * c * c - 0.5));
    axpy(&d, f2 * 3.0 * L2 * c, &across)
}

/// Displacement (m, ME frame) of a lunar site at `site_me_m` with the
/// Earth and the Sun at `earth_me_m`, `sun_me_m` (from the Moon's centre,
/// ME axes): the tide minus the Earth's static tide (module docs).
pub fn displacement_m(site_me_m: &V3, earth_me_m: &V3, sun_me_m: &V3) -> V3 {
    let earth_ratio = 1.0 / MOON_EARTH_MASS_RATIO;
    let sun_ratio = SUN_EARTH_MASS_RATIO / MOON_EARTH_MASS_RATIO;
    let tide = degree2_m(site_me_m, earth_me_m, earth_ratio);
    let tide = axpy(&tide, 1.0, &degree2_m(site_me_m, sun_me_m, sun_ratio));
    let mean = degree2_m(site_me_m, &[mean_earth_distance_m(), 0.0, 0.0], earth_ratio);
    axpy(&tide, -1.0, &mean)
}
