//! A station's own frame: geodetic coordinates on the GRS80 ellipsoid and the
//! azimuth and elevation of a direction given in ITRS axes.

use super::super::vector::{dot, V3};

/// GRS80 semi-major axis (m) and flattening (Moritz 1980, Geodetic Reference
/// System 1980, the ITRF's ellipsoid; WGS84 differs by 0.1 mm in b).
pub const GRS80_A_M: f64 = 6_378_137.0;
pub const GRS80_F: f64 = 1.0 / 298.257_222_101;

/// Geodetic latitude, east longitude (rad) and ellipsoidal height (m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geodetic {
    pub lat_rad: f64,
    pub lon_rad: f64,
    pub height_m: f64,
}

impl Geodetic {
    /// From ITRF cartesian metres: Bowring's (1976) parametric-latitude start,
    /// then fixed-point iterations of tan φ = (z + e² N sin φ)/p until φ
    /// changes by < 1e-14 rad (three or four for points near the surface).
    pub fn from_itrf(x: &V3) -> Geodetic {
        let a = GRS80_A_M;
        let f = GRS80_F;
        let e2 = f * (2.0 - f);
        let b = a * (1.0 - f);
        let p = x[0].hypot(x[1]);
        let lon_rad = x[1].atan2(x[0]);
        if p < 1e-9 {
            let lat = if x[2] >= 0.0 { 0.5 } else { -0.5 } * std::f64::consts::PI;
            return Geodetic {
                lat_rad: lat,
                lon_rad,
                height_m: x[2].abs() - b,
            };
        }
        // Bowring's first guess through the parametric latitude.
        let ep2 = e2 / (1.0 - e2);
        let u = (x[2] * a).atan2(p * b);
        let (su, cu) = u.sin_cos();
        let mut lat = (x[2] + ep2 * b * su.powi(3)).atan2(p - e2 * a * cu.powi(3));
        for _ in 0..10 {
            let n = a / (1.0 - e2 * lat.sin().powi(2)).sqrt();
            let next = (x[2] + e2 * n * lat.sin()).atan2(p);
            let done = (next - lat).abs() < 1e-14;
            lat = next;
            if done {
                break;
            }
        }
        let (s, c) = lat.sin_cos();
        let n = a / (1.0 - e2 * s * s).sqrt();
        // The better-conditioned height formula of the two, by latitude.
        let height_m = if c.abs() > 0.1 {
            p / c - n
        } else {
            x[2] / s - n * (1.0 - e2)
        };
        Geodetic {
            lat_rad: lat,
            lon_rad,
            height_m,
        }
    }

    /// Unit vectors east, north and up (the ellipsoid normal), ITRS axes.
    pub fn enu_axes(&self) -> [V3; 3] {
        let (sp, cp) = self.lat_rad.sin_cos();
        let (sl, cl) = self.lon_rad.sin_cos();
        [
            [-sl, cl, 0.0],
            [-sp * cl, -sp * sl, cp],
            [cp * cl, cp * sl, sp],
        ]
    }

    /// (azimuth, elevation) in radians of the ITRS unit vector `d`: azimuth
    /// from north through east in [0, 2π), elevation above the plane normal
    /// to the ellipsoid normal (no refraction).
    pub fn az_el(&self, d: &V3) -> (f64, f64) {
        let [e, n, u] = self.enu_axes();
        let (de, dn, du) = (dot(d, &e), dot(d, &n), dot(d, &u));
        let az = de.atan2(dn).rem_euclid(std::f64::consts::TAU);
        let el = du.atan2(de.hypot(dn));
        (az, el)
    }
}
