//! Selenographic coordinates of the estimated lunar positions, derived from
//! their ME cartesian estimates with the covariance propagated.
//!
//! A lunar station or lander is estimated as x, y, z in the Moon's
//! mean-Earth frame (`STATION:moon_x_m`, …; `SOURCE:moon_x_m`, … for
//! landers). What people quote is latitude, longitude and height, and the
//! error along the local east, north and up; these are functions of the
//! three estimates, so they are derived after the solve (linear propagation,
//! C' = J C Jᵀ), not estimated separately:
//!
//! - `moon_lat_rad`, `moon_lon_rad` (east), `moon_h_m`: spherical
//!   selenographic coordinates, the height above the sphere of radius
//!   [`MOON_RADIUS_M`] (the IAU/LOLA mean radius), the convention of a job's
//!   `moon = { lat_deg, lon_deg, height_m }`;
//! - `moon_east_m`, `moon_north_m`, `moon_up_m`: the correction
//!   (estimate − a priori) along the local axes at the a-priori position
//!   (a priori 0), whose σ say which direction the session constrains.
//!
//! At the poles longitude and east are undefined; within 1 m of the polar
//! axis they are left out (a note says so) rather than given as NaN.

use super::{Estimate, Solution};
use correlator::model::moon::MOON_RADIUS_M;

/// Derived quantities of every lunar position whose x, y, z were all
/// estimated, in the order of the parameters; plus notes on what could
/// not be derived.
pub fn selenographic(s: &Solution) -> (Vec<Estimate>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (i, p) in s.parameters.iter().enumerate() {
        let Some(owner) = p.name.strip_suffix(":moon_x_m") else {
            continue;
        };
        let idx: Vec<usize> = ["moon_x_m", "moon_y_m", "moon_z_m"]
            .iter()
            .map(|c| {
                let name = format!("{owner}:{c}");
                s.parameters.iter().position(|q| q.name == name)
            })
            .collect::<Option<Vec<usize>>>()
            .unwrap_or_default();
        if idx.len() != 3 || idx[0] != i {
            notes.push(format!(
                "{owner}: not every one of moon_x_m, moon_y_m, moon_z_m was estimated: no latitude, longitude or height derived"
            ));
            continue;
        }
        let apriori: [f64; 3] = std::array::from_fn(|k| s.parameters[idx[k]].apriori);
        let est: [f64; 3] = std::array::from_fn(|k| s.parameters[idx[k]].estimate);
        let cov: [[f64; 3]; 3] = std::array::from_fn(|a| {
            std::array::from_fn(|b| {
                s.correlation[idx[a]][idx[b]]
                    * s.parameters[idx[a]].sigma
                    * s.parameters[idx[b]].sigma
            })
        });
        let rho = |x: &[f64; 3]| x[0].hypot(x[1]);
        let polar = rho(&apriori) < 1.0 || rho(&est) < 1.0;
        let (sph_a, sph_e) = (spherical(&apriori), spherical(&est));
        let j = jacobian(&est);
        let mut push = |name: &str, a: f64, e: f64, row: [f64; 3], unit: &str| {
            out.push(Estimate {
                name: format!("{owner}:{name}"),
                apriori: a,
                estimate: e,
                correction: e - a,
                sigma: quadratic(&row, &cov).sqrt(),
                unit: unit.to_string(),
            })
        };
        push("moon_lat_rad", sph_a[0], sph_e[0], j[0], "rad");
        if !polar {
            // The longitude correction is taken in (−π, π].
            let dlon = (sph_e[1] - sph_a[1] + std::f64::consts::PI)
                .rem_euclid(2.0 * std::f64::consts::PI)
                - std::f64::consts::PI;
            push("moon_lon_rad", sph_a[1], sph_a[1] + dlon, j[1], "rad");
        }
        push("moon_h_m", sph_a[2], sph_e[2], j[2], "m");
        let d: [f64; 3] = std::array::from_fn(|k| est[k] - apriori[k]);
        let axes = local_axes(&apriori);
        for (k, name) in ["moon_east_m", "moon_north_m", "moon_up_m"]
            .iter()
            .enumerate()
        {
            if polar && k < 2 {
                continue;
            }
            let u = axes[k];
            let c = u[0] * d[0] + u[1] * d[1] + u[2] * d[2];
            push(name, 0.0, c, u, "m");
        }
        if polar {
            notes.push(format!(
                "{owner}: within 1 m of the lunar polar axis: longitude, east and north are undefined and not derived"
            ));
        }
    }
    (out, notes)
}

/// (latitude, east longitude, height above [`MOON_RADIUS_M`]) of ME x, y, z.
fn spherical(x: &[f64; 3]) -> [f64; 3] {
    let r = (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt();
    [
        x[2].atan2(x[0].hypot(x[1])),
        x[1].atan2(x[0]),
        r - MOON_RADIUS_M,
    ]
}

/// Rows ∂(lat, lon, h)/∂(x, y, z) of the spherical coordinates.
fn jacobian(x: &[f64; 3]) -> [[f64; 3]; 3] {
    let rho2 = x[0] * x[0] + x[1] * x[1];
    let rho = rho2.sqrt();
    let r2 = rho2 + x[2] * x[2];
    let r = r2.sqrt();
    [
        [
            -x[2] * x[0] / (r2 * rho),
            -x[2] * x[1] / (r2 * rho),
            rho / r2,
        ],
        [-x[1] / rho2, x[0] / rho2, 0.0],
        [x[0] / r, x[1] / r, x[2] / r],
    ]
}

/// Unit vectors east, north, up at ME position `x` (spherical).
fn local_axes(x: &[f64; 3]) -> [[f64; 3]; 3] {
    let [lat, lon, _] = spherical(x);
    let (sl, cl) = lat.sin_cos();
    let (so, co) = lon.sin_cos();
    [
        [-so, co, 0.0],
        [-sl * co, -sl * so, cl],
        [cl * co, cl * so, sl],
    ]
}

/// rᵀ C r.
fn quadratic(r: &[f64; 3], c: &[[f64; 3]; 3]) -> f64 {
    (0..3)
        .map(|a| (0..3).map(|b| r[a] * c[a][b] * r[b]).sum::<f64>())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Jacobian against central differences of the conversion, and the
    /// local axes orthonormal with up along the radius and north towards +z
    /// (closed-form properties, not a second implementation).
    #[test]
    fn jacobian_and_axes_of_a_south_polar_site() {
        let lat = (-89.45f64).to_radians();
        let lon = 20f64.to_radians();
        let r = MOON_RADIUS_M + 1200.0;
        let x = [
            r * lat.cos() * lon.cos(),
            r * lat.cos() * lon.sin(),
            r * lat.sin(),
        ];
        let s = spherical(&x);
        assert!((s[0] - lat).abs() < 1e-15 && (s[1] - lon).abs() < 1e-15);
        assert!((s[2] - 1200.0).abs() < 1e-8);
        let j = jacobian(&x);
        for c in 0..3 {
            let h = 0.5;
            let (mut p, mut m) = (x, x);
            p[c] += h;
            m[c] -= h;
            let (sp, sm) = (spherical(&p), spherical(&m));
            for k in 0..3 {
                let fd = (sp[k] - sm[k]) / (2.0 * h);
                assert!(
                    (fd - j[k][c]).abs() < 1e-6 * j[k].iter().map(|v| v.abs()).fold(0.0, f64::max),
                    "d{k}/dx{c}: {fd:e} vs {:e}",
                    j[k][c]
                );
            }
        }
        let a = local_axes(&x);
        for u in 0..3 {
            for v in 0..3 {
                let d: f64 = (0..3).map(|k| a[u][k] * a[v][k]).sum();
                assert!((d - if u == v { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
        let rhat: Vec<f64> = x.iter().map(|v| v / r).collect();
        assert!((0..3).all(|k| (a[2][k] - rhat[k]).abs() < 1e-14));
        // North has a positive z component everywhere but at the pole.
        assert!(a[1][2] > 0.0);
        // East × north = up (a right-handed local frame).
        let cross = [
            a[0][1] * a[1][2] - a[0][2] * a[1][1],
            a[0][2] * a[1][0] - a[0][0] * a[1][2],
            a[0][0] * a[1][1] - a[0][1] * a[1][0],
        ];
        assert!((0..3).all(|k| (cross[k] - a[2][k]).abs() < 1e-14));
    }
}
