//! Solid Earth tides: IERS Conventions 2010 §7.1.1 (Petit & Luzum 2010,
//! IERS TN 36, ch. 7; Mathews, Dehant & Gipson 1997).
//!
//! Step 1 (time domain, from the geocentric Sun and Moon in the ITRS):
//! degree-2 in-phase displacement with latitude-dependent Love and Shida
//! numbers (eqs. 7.5, 7.2), degree-3 in-phase (eq. 7.6), the l^(1)
//! contributions of the diurnal and semidiurnal bands (eqs. 7.8, 7.9) and
//! the out-of-phase contributions of mantle anelasticity (eqs. 7.10, 7.11).
//! Step 2 (frequency domain): the corrections for the frequency dependence
//! of the Love and Shida numbers in the diurnal band (eq. 7.12, Table 7.3a)
//! and the long-period band (eq. 7.13, Table 7.3b).
//!
//! Permanent tide: the ITRF is conventionally *tide-free* (Conventions
//! §7.1.1, "Permanent deformation"), and these formulas, applied with the
//! nominal Love numbers to the whole tide-generating potential including
//! its zero-frequency part, give exactly the displacement that takes a
//! tide-free ITRF position to the instantaneous one. So the permanent
//! part is *not* removed here (removing it would give "conventional mean
//! tide" positions, which the ITRF is not).
//!
//! Latitude φ and longitude λ are geocentric (the Conventions' formulas use
//! the geocentric latitude of the station and of the bodies), the local
//! frame is r̂ (radial), n̂ (north, towards increasing φ), ê (east).

use super::super::time_scales::Instant;
use super::super::vector::{axpy, dot, norm, scale, V3};
use std::f64::consts::{PI, TAU};

/// Equatorial radius of the Earth used by the tide formulas (m;
/// IERS Conventions 2010 Table 1.1).
pub const RE_M: f64 = 6_378_136.6;
/// GM☉/GM⊕ (IAU 2009 System of Astronomical Constants, Luzum et al. 2011;
/// the IERS software's 332946.0482 differs by 1.5e-9 of it, 1e-10 m here).
pub const SUN_EARTH_MASS_RATIO: f64 = 332_946.048_7;
/// GM☾/GM⊕ (Pitjeva & Standish 2009, IAU 2009 system).
pub const MOON_EARTH_MASS_RATIO: f64 = 0.012_300_037_1;

/// Nominal degree-2 Love and Shida numbers (Conventions Table 7.2 and
/// eq. 7.2): h2 = h(0) + h(2)·(3 sin²φ − 1)/2, l2 = l(0) + l(2)·(3 sin²φ − 1)/2.
const H0: f64 = 0.6078;
const H2_LAT: f64 = -0.0006;
const L0: f64 = 0.0847;
const L2_LAT: f64 = 0.0002;
/// Degree 3 (Table 7.2).
const H3: f64 = 0.292;
const L3: f64 = 0.015;
/// Imaginary parts (out of phase, mantle anelasticity; Table 7.2):
/// diurnal h^I, l^I and semidiurnal h^I, l^I.
const HI_DIURNAL: f64 = -0.0025;
const LI_DIURNAL: f64 = -0.0007;
const HI_SEMIDIURNAL: f64 = -0.0022;
const LI_SEMIDIURNAL: f64 = -0.0007;
/// l^(1) of the diurnal and semidiurnal bands (Table 7.2).
const L1_DIURNAL: f64 = 0.0012;
const L1_SEMIDIURNAL: f64 = 0.0024;

/// One line of Table 7.3a / 7.3b: Doodson multipliers of (τ, s, h, p, N',
/// p_s) and the corrections (mm) ΔR_f(ip), ΔR_f(op), ΔT_f(ip), ΔT_f(op).
struct Term {
    doodson: [f64; 6],
    dr_ip: f64,
    dr_op: f64,
    dt_ip: f64,
    dt_op: f64,
}

const fn t(doodson: [f64; 6], dr_ip: f64, dr_op: f64, dt_ip: f64, dt_op: f64) -> Term {
    Term {
        doodson,
        dr_ip,
        dr_op,
        dt_ip,
        dt_op,
    }
}

/// Diurnal band, Table 7.3a: the eleven terms of the printed table
/// (radial ≥ 0.05 mm) extended, as in the IERS software DEHANTTIDEINEL
/// (STEP2DIU), to all terms with radial ≥ 0.01 mm; K₁'s ΔR(op) there is
/// −0.80 mm (the printed table rounds to −0.78). The line at Doodson
/// 156,564 is kept as the software has it (the multiplier of s may belong
/// to 166,564; either way a 0.01 mm term). Two terms the software lists
/// with all-zero corrections (OO₁ and its nodal neighbour) are left out.
const DIURNAL: [Term; 29] = [
    t([1., -3., 0., 2., 0., 0.], -0.01, 0.0, 0.0, 0.0), // 2Q1
    t([1., -3., 2., 0., 0., 0.], -0.01, 0.0, 0.0, 0.0), // σ1
    t([1., -2., 0., 1., -1., 0.], -0.02, 0.0, 0.0, 0.0),
    t([1., -2., 0., 1., 0., 0.], -0.08, 0.0, -0.01, 0.01), // Q1
    t([1., -2., 2., -1., 0., 0.], -0.02, 0.0, 0.0, 0.0),   // ρ1
    t([1., -1., 0., 0., -1., 0.], -0.10, 0.0, 0.0, 0.0),
    t([1., -1., 0., 0., 0., 0.], -0.51, 0.0, -0.02, 0.03), // O1
    t([1., -1., 2., 0., 0., 0.], 0.01, 0.0, 0.0, 0.0),     // τ1
    t([1., 0., -2., 1., 0., 0.], 0.01, 0.0, 0.0, 0.0),     // Nτ1
    t([1., 0., 0., -1., 0., 0.], 0.02, 0.0, 0.0, 0.0),     // Lk1
    t([1., 0., 0., 1., 0., 0.], 0.06, 0.0, 0.0, 0.0),      // NO1
    t([1., 0., 0., 1., 1., 0.], 0.01, 0.0, 0.0, 0.0),
    t([1., 0., 2., -1., 0., 0.], 0.01, 0.0, 0.0, 0.0), // χ1
    t([1., 1., -3., 0., 0., 1.], -0.06, 0.0, 0.0, 0.0), // π1
    t([1., 1., -2., 0., -1., 0.], 0.01, 0.0, 0.0, 0.0),
    t([1., 1., -2., 0., 0., 0.], -1.23, -0.07, 0.06, 0.01), // P1
    t([1., 1., -1., 0., 0., -1.], 0.02, 0.0, 0.0, 0.0),
    t([1., 1., -1., 0., 0., 1.], 0.04, 0.0, 0.0, 0.0), // S1
    t([1., 1., 0., 0., -1., 0.], -0.22, 0.01, 0.01, 0.0),
    t([1., 1., 0., 0., 0., 0.], 12.00, -0.80, -0.67, -0.03), // K1
    t([1., 1., 0., 0., 1., 0.], 1.73, -0.12, -0.10, 0.0),
    t([1., 1., 0., 0., 2., 0.], -0.04, 0.0, 0.0, 0.0),
    t([1., 1., 1., 0., 0., -1.], -0.50, -0.01, 0.03, 0.0), // ψ1
    t([1., 1., 1., 0., 0., 1.], 0.01, 0.0, 0.0, 0.0),
    t([1., 0., 1., 0., 1., -1.], -0.01, 0.0, 0.0, 0.0),
    t([1., 1., 2., -2., 0., 0.], -0.01, 0.0, 0.0, 0.0),
    t([1., 1., 2., 0., 0., 0.], -0.11, 0.01, 0.01, 0.0), // φ1
    t([1., 2., -2., 1., 0., 0.], -0.01, 0.0, 0.0, 0.0),  // θ1
    t([1., 2., 0., -1., 0., 0.], -0.02, 0.0, 0.0, 0.0),  // J1
];

/// Long-period band, Table 7.3b.
const LONG_PERIOD: [Term; 5] = [
    t([0., 0., 0., 0., 1., 0.], 0.47, 0.16, 0.23, 0.07),
    t([0., 0., 2., 0., 0., 0.], -0.20, -0.11, -0.12, -0.05), // Ssa
    t([0., 1., 0., -1., 0., 0.], -0.11, -0.09, -0.08, -0.04), // Mm
    t([0., 2., 0., 0., 0., 0.], -0.13, -0.15, -0.11, -0.07), // Mf
    t([0., 2., 0., 0., 1., 0.], -0.05, -0.06, -0.05, -0.03),
];

/// The Doodson arguments (τ, s, h, p, N', p_s) in radians at one instant,
/// from the Delaunay arguments of Conventions ch. 5 (eq. 5.43, IERS 2003
/// series as SOFA `fal03` …) and GMST (θ_g; SOFA `gmst06`):
/// s = F + Ω, h = s − D, p = s − l, N' = −Ω, p_s = s − D − l',
/// τ = θ_g + π − s (Conventions ch. 6, the notes to Table 6.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TideArguments {
    pub doodson_rad: [f64; 6],
}

impl TideArguments {
    /// At TT instant `tt`, with `ut1` the same instant in UT1.
    pub fn new(tt: Instant, ut1: Instant) -> TideArguments {
        let t = tt.centuries();
        let l = sofars::fundargs::fal03(t);
        let lp = sofars::fundargs::falp03(t);
        let f = sofars::fundargs::faf03(t);
        let d = sofars::fundargs::fad03(t);
        let om = sofars::fundargs::faom03(t);
        let (u1, u2) = ut1.jd2();
        let (t1, t2) = tt.jd2();
        let gmst = sofars::erst::gmst06(u1, u2, t1, t2);
        let s = f + om;
        TideArguments {
            doodson_rad: [gmst + PI - s, s, s - d, s - l, -om, s - d - lp],
        }
    }

    fn theta(&self, term: &Term) -> f64 {
        let a = &self.doodson_rad;
        (0..6).map(|k| term.doodson[k] * a[k]).sum::<f64>() % TAU
    }
}

/// Geocentric latitude and longitude of a vector: (sin φ, cos φ, λ).
fn lat_lon(x: &V3) -> (f64, f64, f64) {
    let r = norm(x);
    let rho = x[0].hypot(x[1]);
    (x[2] / r, rho / r, x[1].atan2(x[0]))
}

/// Displacement (m, ITRS) of the station at `station_m` (ITRS) by the solid
/// Earth tide, with the geocentric Sun and Moon at `sun_m`, `moon_m` (ITRS).
pub fn displacement_m(station_m: &V3, sun_m: &V3, moon_m: &V3, args: &TideArguments) -> V3 {
    let r = norm(station_m);
    let rhat = scale(station_m, 1.0 / r);
    let (sphi, cphi, lam) = lat_lon(station_m);
    let p2 = 1.5 * sphi * sphi - 0.5;
    // Eq. 7.2: latitude dependence of the degree-2 numbers.
    let h2 = H0 + H2_LAT * p2;
    let l2 = L0 + L2_LAT * p2;

    let mut d = [0.0; 3];
    // Local (radial, north, east) parts, in metres.
    let (mut dr, mut dn, mut de) = (0.0, 0.0, 0.0);
    let (s2phi, c2phi) = (2.0 * sphi * cphi, cphi * cphi - sphi * sphi);
    for (body, ratio) in [
        (moon_m, MOON_EARTH_MASS_RATIO),
        (sun_m, SUN_EARTH_MASS_RATIO),
    ] {
        let rj = norm(body);
        let bhat = scale(body, 1.0 / rj);
        // GM_j R_e⁴ / (GM⊕ R_j³) and GM_j R_e⁵ / (GM⊕ R_j⁴).
        let f2 = ratio * RE_M * (RE_M / rj).powi(3);
        let f3 = f2 * RE_M / rj;
        let c = dot(&bhat, &rhat);
        // The part of R̂_j across r̂.
        let across = axpy(&bhat, -c, &rhat);
        // Eq. 7.5: degree 2, in phase.
        d = axpy(&d, f2 * h2 * (1.5 * c * c - 0.5), &rhat);
        d = axpy(&d, f2 * 3.0 * l2 * c, &across);
        // Eq. 7.6: degree 3, in phase.
        d = axpy(&d, f3 * H3 * (2.5 * c * c * c - 1.5 * c), &rhat);
        d = axpy(&d, f3 * L3 * (7.5 * c * c - 1.5), &across);

        let (sj, cj, lamj) = lat_lon(body);
        let (sdl, cdl) = (lam - lamj).sin_cos();
        let (s2dl, c2dl) = (2.0 * (lam - lamj)).sin_cos();
        // Eq. 7.10: out of phase, diurnal band.
        dr += -1.5 * HI_DIURNAL * f2 * sj * cj * s2phi * sdl;
        dn += -3.0 * LI_DIURNAL * f2 * sj * cj * c2phi * sdl;
        de += -3.0 * LI_DIURNAL * f2 * sj * cj * sphi * cdl;
        // Eq. 7.11: out of phase, semidiurnal band.
        dr += -0.75 * HI_SEMIDIURNAL * f2 * cj * cj * cphi * cphi * s2dl;
        dn += 0.75 * LI_SEMIDIURNAL * f2 * cj * cj * s2phi * s2dl;
        de += -1.5 * LI_SEMIDIURNAL * f2 * cj * cj * cphi * c2dl;
        // Eq. 7.8: l^(1), diurnal band, P₂¹(sin φ_j) = 3 sin φ_j cos φ_j.
        let p21 = 3.0 * sj * cj;
        dn += -L1_DIURNAL * sphi * sphi * f2 * p21 * cdl;
        de += L1_DIURNAL * sphi * c2phi * f2 * p21 * sdl;
        // Eq. 7.9: l^(1), semidiurnal band, P₂²(sin φ_j) = 3 cos² φ_j.
        let p22 = 3.0 * cj * cj;
        dn += -0.5 * L1_SEMIDIURNAL * sphi * cphi * f2 * p22 * c2dl;
        de += -0.5 * L1_SEMIDIURNAL * sphi * sphi * cphi * f2 * p22 * s2dl;
    }

    // Step 2, eq. 7.12: diurnal band (Table 7.3a, mm).
    for term in &DIURNAL {
        let (s, c) = (args.theta(term) + lam).sin_cos();
        dr += 1e-3 * (term.dr_ip * s + term.dr_op * c) * s2phi;
        dn += 1e-3 * (term.dt_ip * s + term.dt_op * c) * c2phi;
        de += 1e-3 * (term.dt_ip * c - term.dt_op * s) * sphi;
    }
    // Eq. 7.13: long-period band (Table 7.3b, mm).
    for term in &LONG_PERIOD {
        let (s, c) = args.theta(term).sin_cos();
        dr += 1e-3 * (term.dr_ip * c + term.dr_op * s) * p2;
        dn += 1e-3 * (term.dt_ip * c + term.dt_op * s) * s2phi;
    }

    let (slam, clam) = lam.sin_cos();
    let north = [-sphi * clam, -sphi * slam, cphi];
    let east = [-slam, clam, 0.0];
    let d = axpy(&d, dr, &rhat);
    let d = axpy(&d, dn, &north);
    axpy(&d, de, &east)
}
