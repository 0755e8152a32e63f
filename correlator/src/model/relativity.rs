//! Constants and the relativistic pieces of the delay: gravitational
//! (Shapiro) delays, BCRS station vectors at 1PN, TDB → TT of an event.

use super::ephemeris::State;
use super::vector::{axpy, dot, norm, scale, sub, V3};

/// Speed of light (m/s).
pub const C: f64 = 299_792_458.0;
/// L_C: the mean rate of TCB − TCG (IERS Conventions 2010 Table 1.1).
pub const L_C: f64 = 1.480_826_867_41e-8;
/// L_G: d(TT)/d(TCG) = 1 − L_G (IAU 2000 Resolution B1.9).
pub const L_G: f64 = 6.969_290_134e-10;
/// L_B: d(TDB)/d(TCB) = 1 − L_B (IAU 2006 Resolution B3).
pub const L_B: f64 = 1.550_519_768e-8;
/// Equatorial radius of the Earth (IERS numerical standards), used only to
/// normalise the Earth's gravitational delay term (see [`far_field_grav`]).
pub const EARTH_RADIUS_M: f64 = 6_378_136.6;

/// GM (m³/s²) of the DE421 ephemeris (its header constants GMS, GM3... in km³/s²).
pub const GM_SUN: f64 = 1.327_124_400_409_44e20;
pub const GM_EARTH: f64 = 3.986_004_362_33e14;
pub const GM_MOON: f64 = 4.902_800_076e12;
pub const GM_JUPITER_SYSTEM: f64 = 1.267_127_648e17;
pub const GM_SATURN_SYSTEM: f64 = 3.794_058_52e16;

/// A gravitating body at the geocentric epoch.
#[derive(Debug, Clone, Copy)]
pub struct Body {
    pub naif_id: i32,
    pub gm: f64,
    /// BCRS state at TDB of the epoch (t_g).
    pub state: State,
    /// True for the Earth: its term is left out at the geocentre (singular there).
    pub is_earth: bool,
}

impl Body {
    /// Position at t_g + dt (linear: the delay's sensitivity to a body's
    /// position is tiny; station positions never use this).
    pub fn pos_at(&self, dt_s: f64) -> V3 {
        axpy(&self.state.pos_m, dt_s, &self.state.vel_m_s)
    }
}

/// Newtonian potential (m²/s²) at `x` of the bodies, leaving out `skip`.
pub fn potential(bodies: &[Body], x: &V3, skip: i32) -> f64 {
    bodies
        .iter()
        .filter(|b| b.naif_id != skip)
        .map(|b| b.gm / norm(&sub(x, &b.state.pos_m)))
        .sum()
}

/// A local (body-centred, proper) vector `r` of a site on a body moving with
/// `parent` into the BCRS at 1PN: r_B = r (1 − U/c² − scale) − ½ (V·r) V / c²
/// (IERS Conventions 2010 §11.1, the transformation used for eq. 11.9; for the
/// Earth `scale` = L_C because ITRF coordinates are TT-compatible).
pub fn local_to_bcrs(parent: &State, r: &V3, u_ext: f64, scale_const: f64) -> V3 {
    let v = &parent.vel_m_s;
    let k = 1.0 - u_ext / (C * C) - scale_const;
    let lorentz = -0.5 * dot(v, r) / (C * C);
    let p = axpy(&scale(r, k), lorentz, v);
    [
        parent.pos_m[0] + p[0],
        parent.pos_m[1] + p[1],
        parent.pos_m[2] + p[2],
    ]
}

/// Far field: the gravitational part of the arrival time of a plane wave
/// from direction `k` at the BCRS point `x` (TDB offset `dt_s` from t_g):
/// T(x) = −Σ_J (2GM_J/c³) ln(|R_J| + k·R_J), R_J = x − X_J(t_J), so that
/// T(x₂) − T(x₁) is IERS Conventions 2010 eq. 11.1 (γ = 1), with the body at
/// the time of closest approach t_J of eq. 11.3. The Earth's term is singular
/// at the geocentre: for a station it is normalised by 2a⊕ (zero at the
/// sub-source point of the surface) and it is left out at the geocentre, a
/// convention that cancels in every baseline (the same g for both stations).
///
/// For the Sun the second-order term is added as −(4G²M²/c⁵)/(|R| + k·R):
/// its difference between two points is, to first order in the baseline b,
/// (4G²M²/c⁵)·b·(N̂ + k)/(|R₁| + k·R₁)² with N̂ = R₁/|R₁| — the higher-order
/// solar term of IERS Conventions 2010 eq. 11.14 (ps within a few degrees of
/// the Sun on Earth baselines; the per-point form keeps it right for a
/// station on the Moon, where b is not small).
pub fn far_field_grav(bodies: &[Body], k: &V3, x: &V3, dt_s: f64, at_geocentre: bool) -> f64 {
    let mut t = 0.0;
    for b in bodies {
        if b.is_earth && at_geocentre {
            continue;
        }
        let xj = b.pos_at(dt_s);
        // eq. 11.3: t_J = min(t, t − k·(X_J(t) − x)/c)
        let back = (dot(k, &sub(&xj, x)) / C).max(0.0);
        let r = sub(x, &b.pos_at(dt_s - back));
        let mut arg = norm(&r) + dot(k, &r);
        if b.is_earth {
            arg /= 2.0 * EARTH_RADIUS_M;
        }
        t -= 2.0 * b.gm / (C * C * C) * arg.max(1e-9).ln();
        if b.naif_id == super::ephemeris::SUN {
            t -= 4.0 * b.gm * b.gm / C.powi(5) / arg.max(1e-9);
        }
    }
    t
}

/// Near field: Shapiro delay (s) of the leg from `xs` (emitted at t_g + te)
/// to `xr` (received at t_g + tr), Σ_J (2GM_J/c³) ln[(r_s + r_r + ρ)/(r_s + r_r − ρ)]
/// (IERS Conventions 2010 §11.2, the one-way light time of ranging, γ = 1), the
/// body at the time the ray passes closest. The Earth is left out when the
/// receiver is the geocentre (see [`far_field_grav`]); a body the source sits
/// inside (r_s < 1 km) is left out.
pub fn near_field_grav(
    bodies: &[Body],
    xs: &V3,
    te: f64,
    xr: &V3,
    tr: f64,
    to_geocentre: bool,
) -> f64 {
    let rho_v = sub(xr, xs);
    let rho = norm(&rho_v);
    let mut t = 0.0;
    for b in bodies {
        if b.is_earth && to_geocentre {
            continue;
        }
        let x0 = b.pos_at(te);
        let lambda = (dot(&sub(&x0, xs), &rho_v) / (rho * rho)).clamp(0.0, 1.0);
        let xj = b.pos_at(te + lambda * (tr - te));
        let rs = norm(&sub(xs, &xj));
        let rr = norm(&sub(xr, &xj));
        if rs < 1e3 {
            continue;
        }
        let den = (rs + rr - rho).max(1e-3);
        t += 2.0 * b.gm / (C * C * C) * ((rs + rr + rho) / den).ln();
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The far-field gravitational delay against astrometric light
    /// deflection, an independent closed form: an observer at distance r
    /// from a body of mass M, the source at angle φ from the body, sees the
    /// source displaced away from the body by δθ = (2GM/(c²r))·(1 + cos φ)/
    /// sin φ (Explanatory Supplement to the Astronomical Almanac 1992,
    /// eq. 3.328-1; SOFA's iauLd). A displaced direction tilts the
    /// wavefront, so the arrival time at a point b away from the observer,
    /// perpendicular to the source direction and away from the body, is
    /// earlier by b·sin δθ/c. Saturn's GM at Saturn's distance, φ from 1' to
    /// 90°: the Shapiro term of [`far_field_grav`] gives that tilt.
    #[test]
    fn a_planets_delay_tilts_the_wavefront_as_light_deflection_says() {
        let r = 1.35e12;
        // Small against the impact parameter (≥ 4e8 m), large enough that
        // |R| + k·R (≈ rφ²/2 at 1', a difference of two 1e12 m numbers)
        // changes by far more than its rounding.
        let b = 1e4;
        for phi_deg in [1.0 / 60.0, 1.0, 10.0, 90.0] {
            let phi = f64::to_radians(phi_deg);
            // Source direction k along +z; the body in the x–z plane at φ.
            let k = [0.0, 0.0, 1.0];
            let body = Body {
                naif_id: 6,
                gm: GM_SATURN_SYSTEM,
                state: State {
                    pos_m: [r * phi.sin(), 0.0, r * phi.cos()],
                    vel_m_s: [0.0; 3],
                },
                is_earth: false,
            };
            let t = |x: &V3| far_field_grav(&[body], &k, x, 0.0, false);
            // Away from the body: −x.
            let dt = t(&[-b, 0.0, 0.0]) - t(&[0.0, 0.0, 0.0]);
            let deflection = 2.0 * GM_SATURN_SYSTEM / (C * C * r) * (1.0 + phi.cos()) / phi.sin();
            let want = -b * deflection.sin() / C;
            let rel = (dt - want) / want;
            assert!(
                rel.abs() < 2e-4,
                "φ = {phi_deg}°: {dt:e} vs {want:e} ({rel:e})"
            );
        }
    }

    /// The Sun's higher-order term against IERS Conventions 2010 eq. 11.14
    /// as published, (4G²M²/c⁵)·b·(N̂ + K̂)/(|R₁| + K̂·R₁)², for a 6000 km
    /// baseline and sources 0.5°–5° from the Sun: the difference of the
    /// per-point form equals it to first order in b (31.3 ps against 31.4 at
    /// 0.5°, 0.03 ps at 5°).
    #[test]
    fn the_suns_higher_order_term_is_iers_eq_11_14() {
        let au = 1.496e11;
        for theta_deg in [0.5, 1.0, 2.0, 5.0] {
            let th = f64::to_radians(theta_deg);
            // The Sun at −z·AU as seen from the origin; the source at θ from it.
            let sun = [0.0, 0.0, -au];
            let k = [th.sin(), 0.0, -th.cos()];
            let body = Body {
                naif_id: super::super::ephemeris::SUN,
                gm: GM_SUN,
                state: State {
                    pos_m: sun,
                    vel_m_s: [0.0; 3],
                },
                is_earth: false,
            };
            let x1 = [0.0; 3];
            let bvec = [4.0e6, 3.0e6, 3.3e6];
            // The higher-order part alone: the whole term less eq. 11.1's.
            let full = |x: &V3| far_field_grav(&[body], &k, x, 0.0, false);
            let first = |x: &V3| {
                let r = sub(x, &sun);
                -2.0 * GM_SUN / (C * C * C) * (norm(&r) + dot(&k, &r)).ln()
            };
            let got = (full(&bvec) - first(&bvec)) - (full(&x1) - first(&x1));
            let r1 = sub(&x1, &sun);
            let n = scale(&r1, 1.0 / norm(&r1));
            let npk = [n[0] + k[0], n[1] + k[1], n[2] + k[2]];
            let d1 = norm(&r1) + dot(&k, &r1);
            let want = 4.0 * GM_SUN * GM_SUN / C.powi(5) * dot(&bvec, &npk) / (d1 * d1);
            let rel = (got - want) / want;
            eprintln!(
                "θ = {theta_deg}°: {:.3} ps (eq. 11.14: {:.3} ps)",
                got * 1e12,
                want * 1e12
            );
            // Eq. 11.14 is first order in b: its error is ~ b over the
            // impact parameter (AU·θ), 5e-3 at 0.5°.
            let first_order = norm(&bvec) / (au * th.sin());
            assert!(
                rel.abs() < 2.0 * first_order,
                "θ = {theta_deg}°: {got:e} vs {want:e}"
            );
        }
    }
}
