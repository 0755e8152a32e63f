//! Lunar frames: selenographic ME coordinates → Moon-fixed cartesian → ICRF.
//!
//! With the DE binary PCK the Moon-fixed frame is the DE421 principal-axis
//! frame (PA, libration integrated with the ephemeris); stations are given in
//! the mean-Earth frame (ME), a fixed rotation of PA (~100″, moon_080317.tf).
//! Without the PCK the IAU WGCCRE rotation model (Archinal et al. 2011, Table
//! 2), which approximates ME to ~100 m on the surface, is used with a warning.

use super::ephemeris::{Ephemeris, MOON_ME, MOON_PA};
use super::error::ModelError;
use super::time_scales::Instant;
use super::vector::{mat_mul, rot, M3, V3};
use crate::job::MoonSite;

/// Radius of the reference sphere of selenographic heights (IAU/LOLA mean radius).
pub const MOON_RADIUS_M: f64 = 1_737_400.0;

const ARCSEC: f64 = std::f64::consts::PI / (180.0 * 3600.0);

/// ME cartesian (m) of a selenographic site (east longitude, height above the sphere).
pub fn site_me_m(site: &MoonSite) -> V3 {
    let r = MOON_RADIUS_M + site.height_m;
    let (slat, clat) = site.lat_deg.to_radians().sin_cos();
    let (slon, clon) = site.lon_deg.to_radians().sin_cos();
    [r * clat * clon, r * clat * slon, r * slat]
}

/// The DE421 ME→PA rotation of moon_080317.tf (TKFRAME_31007, relative to
/// MOON_PA_DE421: angles 67.92″, 78.56″, 0.30″ about axes 3, 2, 1), as the
/// matrix taking ME vectors to PA: R3(67.92″)·R2(78.56″)·R1(0.30″) with
/// SOFA-sense axis rotations (checked against anise's reading of the kernel).
pub fn de421_me_to_pa() -> M3 {
    mat_mul(
        &rot(3, 67.92 * ARCSEC),
        &mat_mul(&rot(2, 78.56 * ARCSEC), &rot(1, 0.30 * ARCSEC)),
    )
}

pub fn transpose(m: &M3) -> M3 {
    [
        [m[0][0], m[1][0], m[2][0]],
        [m[0][1], m[1][1], m[2][1]],
        [m[0][2], m[1][2], m[2][2]],
    ]
}

/// How the Moon's orientation is obtained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MoonOrientation {
    /// Binary PCK (PA) and the frame kernel's ME definition.
    PckWithFrameKernel,
    /// Binary PCK (PA) and the built-in DE421 PA→ME angles.
    Pck { me_to_pa: M3 },
    /// IAU WGCCRE model (no PCK).
    Iau,
}

impl MoonOrientation {
    /// Pick what the kernels allow; a warning says when it is not the PCK.
    pub fn choose(eph: &Ephemeris, tdb: Instant) -> (MoonOrientation, Option<String>) {
        if eph.has_moon_me(tdb) {
            (MoonOrientation::PckWithFrameKernel, None)
        } else if eph.has_moon_pa(tdb) {
            (
                MoonOrientation::Pck {
                    me_to_pa: de421_me_to_pa(),
                },
                Some("no frame kernel defines MOON_ME_DE421 (31007): using the DE421 PA→ME angles built in".into()),
            )
        } else {
            (
                MoonOrientation::Iau,
                Some("no lunar binary PCK (MOON_PA_DE421, 31006) in model.kernels: using the IAU WGCCRE rotation model for the Moon (~100 m off on the surface)".into()),
            )
        }
    }

    /// Matrix taking ME vectors to ICRF at TDB `tdb`.
    pub fn me_to_icrf(&self, eph: &Ephemeris, tdb: Instant) -> Result<M3, ModelError> {
        match self {
            MoonOrientation::PckWithFrameKernel => eph.moon_to_icrf(MOON_ME, tdb),
            MoonOrientation::Pck { me_to_pa } => {
                Ok(mat_mul(&eph.moon_to_icrf(MOON_PA, tdb)?, me_to_pa))
            }
            MoonOrientation::Iau => Ok(iau_moon_to_icrf(tdb)),
        }
    }
}

/// IAU WGCCRE 2009 lunar rotation (Archinal et al. 2011, Table 2): pole α0,
/// δ0 and prime meridian W; body → ICRF = [R3(α0+90°) R1(90°−δ0)... ]ᵀ.
pub fn iau_moon_to_icrf(tdb: Instant) -> M3 {
    let d = tdb.seconds_f64() / 86_400.0;
    let t = d / 36_525.0;
    let e = |a: f64, b: f64| (a + b * d).to_radians();
    let e1 = e(125.045, -0.052_992_1);
    let e2 = e(250.089, -0.105_984_2);
    let e3 = e(260.008, 13.012_000_9);
    let e4 = e(176.625, 13.340_715_4);
    let e5 = e(357.529, 0.985_600_3);
    let e6 = e(311.589, 26.405_708_4);
    let e7 = e(134.963, 13.064_993_0);
    let e8 = e(276.617, 0.328_714_6);
    let e9 = e(34.226, 1.748_487_7);
    let e10 = e(15.134, -0.158_976_3);
    let e11 = e(119.743, 0.003_609_6);
    let e12 = e(239.961, 0.164_357_3);
    let e13 = e(25.053, 12.959_008_8);
    let ra = 269.9949 + 0.0031 * t - 3.8787 * e1.sin() - 0.1204 * e2.sin() + 0.0700 * e3.sin()
        - 0.0172 * e4.sin()
        + 0.0072 * e6.sin()
        - 0.0052 * e10.sin()
        + 0.0043 * e13.sin();
    let dec = 66.5392 + 0.0130 * t + 1.5419 * e1.cos() + 0.0239 * e2.cos() - 0.0278 * e3.cos()
        + 0.0068 * e4.cos()
        - 0.0029 * e6.cos()
        + 0.0009 * e7.cos()
        + 0.0008 * e10.cos()
        - 0.0009 * e13.cos();
    let w = 38.3213 + 13.176_358_15 * d - 1.4e-12 * d * d + 3.5610 * e1.sin() + 0.1208 * e2.sin()
        - 0.0642 * e3.sin()
        + 0.0158 * e4.sin()
        + 0.0252 * e5.sin()
        - 0.0066 * e6.sin()
        - 0.0047 * e7.sin()
        - 0.0046 * e8.sin()
        + 0.0028 * e9.sin()
        + 0.0052 * e10.sin()
        + 0.0040 * e11.sin()
        + 0.0019 * e12.sin()
        - 0.0044 * e13.sin();
    // ICRF → body = R3(W) R1(90° − δ0) R3(90° + α0)
    let icrf_to_body = mat_mul(
        &rot(3, w.to_radians()),
        &mat_mul(
            &rot(1, (90.0 - dec).to_radians()),
            &rot(3, (90.0 + ra).to_radians()),
        ),
    );
    transpose(&icrf_to_body)
}
