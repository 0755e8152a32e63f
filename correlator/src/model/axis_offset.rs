//! The antenna axis offset: a radio telescope whose two axes do not
//! intersect receives the wavefront at its moving axis, a distance L from
//! the fixed (primary) axis that holds the station's reference point.
//! Perpendicular to the fixed axis, towards the source, that point is
//! closer to the source by L·|ŝ × â| = L·√(1 − (ŝ·â)²), so the signal
//! arrives earlier by
//!   Δτ = −(L/c)·√(1 − (ŝ·â)²)
//! with ŝ the apparent direction to the source at the station and â the
//! fixed axis (Nothnagel 2009, J. Geod. 83, 787, eqs. 2–5; IERS Conventions
//! 2010 ch. 7 intro). For the usual mounts this is (E elevation, A azimuth,
//! δ declination):
//!   AZEL (fixed axis vertical):          Δτ = −(L/c) cos E
//!   EQUA (fixed axis the Earth's pole):  Δτ = −(L/c) cos δ
//!   XYEW (fixed axis horizontal E–W):    Δτ = −(L/c) √(1 − cos²E sin²A)
//!   XYNS (fixed axis horizontal N–S):    Δτ = −(L/c) √(1 − cos²E cos²A)
//!
//! The local vertical is the GRS80 ellipsoid normal (the deflection of the
//! vertical, ~10", is left out: < 0.3 mm for L = 5 m); ŝ is corrected for
//! annual aberration (the station's diurnal aberration, 0.3", and
//! atmospheric refraction are left out: the model has no troposphere; at
//! 5° elevation refraction would change Δτ by ~1 mm/c per metre of L).

use super::relativity::C;
use super::vector::{dot, V3};

/// How an antenna's axes are arranged (`[[station]] axis_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisType {
    /// Azimuth–elevation (fixed axis vertical).
    AzEl,
    /// Equatorial (fixed axis parallel to the Earth's rotation axis).
    Equatorial,
    /// X–Y with the fixed axis horizontal, east–west.
    XyEw,
    /// X–Y with the fixed axis horizontal, north–south.
    XyNs,
}

impl AxisType {
    /// From the job file's spelling (CALC/VEX names, any case).
    pub fn parse(s: &str) -> Option<AxisType> {
        match s.to_ascii_uppercase().as_str() {
            "AZEL" | "ALTZ" | "ALTAZ" => Some(AxisType::AzEl),
            "EQUA" | "HADEC" => Some(AxisType::Equatorial),
            "XYEW" => Some(AxisType::XyEw),
            "XYNS" => Some(AxisType::XyNs),
            _ => None,
        }
    }

    /// The fixed axis (unit vector, ITRS) of an antenna at `station_m`.
    pub fn fixed_axis(self, station_m: &V3) -> V3 {
        if self == AxisType::Equatorial {
            return [0.0, 0.0, 1.0];
        }
        // Geodetic latitude φ and longitude λ on GRS80 (SOFA ellipsoid 2).
        let (lam, phi) = match sofars::coords::gc2gd(2, *station_m) {
            Ok((lam, phi, _)) => (lam, phi),
            // Only at the geocentre: no vertical; take the geocentric one.
            Err(_) => (
                station_m[1].atan2(station_m[0]),
                station_m[2].atan2(station_m[0].hypot(station_m[1])),
            ),
        };
        let (sp, cp) = phi.sin_cos();
        let (sl, cl) = lam.sin_cos();
        match self {
            AxisType::AzEl => [cp * cl, cp * sl, sp],
            AxisType::XyEw => [-sl, cl, 0.0],
            _ => [-sp * cl, -sp * sl, cp],
        }
    }
}

/// A station's axis offset (`[[station]] axis_type`, `axis_offset_m`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisOffset {
    pub axis: AxisType,
    /// L (m): from the fixed axis to the moving one.
    pub offset_m: f64,
}

impl AxisOffset {
    /// Δτ (s) for the apparent unit direction `source_itrs` towards the
    /// source at the antenna at `station_m` (both ITRS).
    pub fn delay_s(&self, station_m: &V3, source_itrs: &V3) -> f64 {
        let a = self.axis.fixed_axis(station_m);
        let along = dot(source_itrs, &a);
        -self.offset_m / C * (1.0 - along * along).max(0.0).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mount_gives_its_closed_form() {
        // A station on the equator at λ = 0: up = x̂, east = ŷ, north = ẑ
        // (geodetic and geocentric verticals agree there).
        let x = [6_378_137.0, 0.0, 0.0];
        let (e, a) = (30f64.to_radians(), 60f64.to_radians());
        let (se, ce) = e.sin_cos();
        let (sa, ca) = a.sin_cos();
        let s = [se, ce * sa, ce * ca];
        let l = 5.0;
        let want = |mount: AxisType| -> f64 {
            let f = match mount {
                AxisType::AzEl => ce,
                // sin δ = ŝ·ẑ = cos E cos A here.
                AxisType::Equatorial => (1.0 - (ce * ca).powi(2)).sqrt(),
                AxisType::XyEw => (1.0 - (ce * sa).powi(2)).sqrt(),
                AxisType::XyNs => (1.0 - (ce * ca).powi(2)).sqrt(),
            };
            -l * f / C
        };
        for mount in [
            AxisType::AzEl,
            AxisType::Equatorial,
            AxisType::XyEw,
            AxisType::XyNs,
        ] {
            let got = AxisOffset {
                axis: mount,
                offset_m: l,
            }
            .delay_s(&x, &s);
            assert!((got - want(mount)).abs() < 1e-20, "{mount:?}: {got:e}");
        }
        // AZEL: −(5 m) cos 30° / c = −14.4437 ns.
        assert!((want(AxisType::AzEl) + 14.4437e-9).abs() < 1e-13);
    }

    #[test]
    fn the_vertical_is_the_ellipsoid_normal() {
        // At 45° geodetic latitude the geocentric vertical is 0.19° away:
        // a source at the geodetic zenith has no AZEL offset (the
        // geocentric one would give (5 m) sin 0.19°/c = 56 ps).
        let (lam, phi) = (100f64.to_radians(), 45f64.to_radians());
        let x = sofars::coords::gd2gc(2, lam, phi, 1000.0).unwrap();
        let zenith = [phi.cos() * lam.cos(), phi.cos() * lam.sin(), phi.sin()];
        let ax = AxisOffset {
            axis: AxisType::AzEl,
            offset_m: 5.0,
        };
        assert!(ax.delay_s(&x, &zenith).abs() < 1e-15);
        // The equatorial mount's axis is the pole: a source at the pole has
        // no offset, one on the equator the whole L.
        let eq = AxisOffset {
            axis: AxisType::Equatorial,
            offset_m: 5.0,
        };
        assert!(eq.delay_s(&x, &[0.0, 0.0, 1.0]).abs() < 1e-20);
        assert!((eq.delay_s(&x, &[0.6, 0.8, 0.0]) + 5.0 / C).abs() < 1e-20);
        assert_eq!(AxisType::parse("azel"), Some(AxisType::AzEl));
        assert_eq!(AxisType::parse("XYNS"), Some(AxisType::XyNs));
        assert_eq!(AxisType::parse("XY"), None);
    }
}
