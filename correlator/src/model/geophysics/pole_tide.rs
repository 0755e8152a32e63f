//! Solid Earth pole tide: IERS Conventions 2010 §7.1.4 (as updated on
//! 1 February 2018), eqs. 7.24–7.26.
//!
//! The centrifugal potential of the wobble (polar motion minus its secular
//! drift) deforms the Earth by up to ~25 mm radially. The wobble is
//! m₁ = x_p − x̄_s, m₂ = −(y_p − ȳ_s) (eq. 7.24, arcsec), and the
//! displacement, with θ the colatitude and λ the east longitude, is
//! (eq. 7.26, mm):
//!   S_r = −33 sin 2θ (m₁ cos λ + m₂ sin λ)
//!   S_θ =  −9 cos 2θ (m₁ cos λ + m₂ sin λ)   (towards increasing θ: south)
//!   S_λ =   9 cos θ  (m₁ sin λ − m₂ cos λ)
//!
//! The reference pole is the 2018 *secular pole* (eq. 7.25 as updated),
//! x̄_s = 55.0 + 1.677 (t − 2000), ȳ_s = 320.5 + 3.460 (t − 2000) mas, t in
//! years, not the 2010 cubic/linear "conventional mean pole": the IERS
//! replaced the latter in 2018 (and withdrew its software, IERS_CMP_2015,
//! in December 2018) because the cubic fit to 2010 data diverges after
//! 2010, and the ITRF2014 and later realisations use the secular pole.
//! The two differ by tens of mas in the 2020s, ~1 mm here.

use super::super::vector::{norm, V3};

/// ARCSEC per radian.
const ARCSEC_PER_RAD: f64 = 180.0 * 3600.0 / std::f64::consts::PI;

/// The secular pole (x̄_s, ȳ_s) in arcsec at `year` (Julian years, e.g.
/// 2026.2): Conventions eq. 7.25 (2018 update).
pub fn secular_pole_arcsec(year: f64) -> (f64, f64) {
    let dt = year - 2000.0;
    ((55.0 + 1.677 * dt) * 1e-3, (320.5 + 3.460 * dt) * 1e-3)
}

/// Displacement (m, ITRS) of the station at `station_m` (ITRS) for polar
/// motion (x_p, y_p) in radians at `year`.
pub fn displacement_m(station_m: &V3, xp_rad: f64, yp_rad: f64, year: f64) -> V3 {
    let (xs, ys) = secular_pole_arcsec(year);
    // Eq. 7.24.
    let m1 = xp_rad * ARCSEC_PER_RAD - xs;
    let m2 = -(yp_rad * ARCSEC_PER_RAD - ys);
    let r = norm(station_m);
    // Colatitude θ (geocentric) and longitude λ.
    let (cth, sth) = (station_m[2] / r, station_m[0].hypot(station_m[1]) / r);
    let (slam, clam) = station_m[1].atan2(station_m[0]).sin_cos();
    let a = m1 * clam + m2 * slam;
    // Eq. 7.26 (mm → m).
    let s_r = -33e-3 * 2.0 * sth * cth * a;
    let s_theta = -9e-3 * (cth * cth - sth * sth) * a;
    let s_lam = 9e-3 * cth * (m1 * slam - m2 * clam);
    let up = [sth * clam, sth * slam, cth];
    let south = [cth * clam, cth * slam, -sth];
    let east = [-slam, clam, 0.0];
    std::array::from_fn(|k| s_r * up[k] + s_theta * south[k] + s_lam * east[k])
}
