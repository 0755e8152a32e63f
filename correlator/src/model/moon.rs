//! Lunar frames: selenographic ME coordinates → Moon-fixed cartesian → ICRF.
//!
//! Lunar stations are given in a mean-Earth frame (ME: +z the mean rotation
//! axis, x the mean Earth direction). The JPL ephemerides give the Moon's
//! principal-axis frame (PA, libration integrated with the orbits) in a
//! binary PCK, and NAIF's frame kernel defines ME as a fixed (TK) rotation
//! of that PA frame. Two such pairs are read ([`super::ephemeris::LUNAR_FRAMES`]):
//!
//! | ephemeris | PCK frame (id) | ME frame (id), relative to the PCK frame | frame kernel |
//! |---|---|---|---|
//! | DE421 | MOON_PA_DE421 (31006) | MOON_ME_DE421 (31007): 67.92″, 78.56″, 0.30″ about z, y, x | moon_080317.tf |
//! | DE440 | MOON_PA_DE440 (31008) | MOON_ME_DE440_ME421 (31009): 67.8526″, 78.6944″, 0.2785″ | moon_de440_220930.tf |
//!
//! ME → ICRF = (PA → ICRF, from the PCK at t) · (ME → PA, the fixed TK
//! rotation). DE440's ME frame is made to match DE421's (its name says
//! "ME421"): NAIF's kernel comments give ≤ 3.1e-7 rad (0.53 m on the
//! surface) between the two over 2000–2040, while the two sets of angles
//! (and so the two PA frames) differ by 0.15″: 1.27 m at the sub-Earth point,
//! 1.15 m at a south-pole lander, whose delay towards PKS 1921−293 then
//! moves by 3.3 ns (2026-03-14). That is the error of DE421's angles put on
//! a DE440 PCK (measured in this module's tests, `moon_tests.rs`).
//!
//! How the pair is chosen ([`MoonOrientation::choose`]), at the job's start:
//! - the PA frames the binary PCKs in `model.kernels` hold at that time, in
//!   the order the PCKs are listed;
//! - an ME frame of a `.tf` is applied only over the PA frame its
//!   `TKFRAME_<id>_RELATIVE` names, when a PCK holds that frame; one whose
//!   PA frame no PCK holds is not applied (warning naming the `.tf` and the
//!   two frames);
//! - with PCKs of both ephemerides, the PCK whose PA frame a `.tf`'s ME frame
//!   is defined on wins; if both or neither have one, the PCK listed first
//!   in `model.kernels` (a warning names both and the one used);
//! - a PCK without a matching `.tf`: its own ephemeris's published PA→ME
//!   angles, built in (warning): DE421's are never applied to DE440's PA
//!   frame nor the reverse;
//! - no lunar PCK: the IAU WGCCRE rotation model (Archinal et al. 2011,
//!   Table 2), which approximates ME to ~100 m on the surface (warning).

use super::ephemeris::{frame_label, lunar_frames_of_pa, show, tdb_label, Ephemeris, DE421};
use super::error::ModelError;
use super::time_scales::Instant;
use super::vector::{mat_mul, rot, M3, V3};
use crate::job::MoonSite;
use std::path::Path;

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

/// The ME→PA matrix of a TK frame given by ANGLES (arcseconds) about AXES
/// 3, 2, 1 relative to PA: R3(a₁)·R2(a₂)·R1(a₃) with SOFA-sense axis
/// rotations (SPICE frames.req: V_relative = `[a₁]₃[a₂]₂[a₃]₁` V_tkframe;
/// checked against anise's reading of moon_080317.tf in the tests).
pub fn me_to_pa(angles_arcsec: [f64; 3]) -> M3 {
    let [a1, a2, a3] = angles_arcsec;
    mat_mul(
        &rot(3, a1 * ARCSEC),
        &mat_mul(&rot(2, a2 * ARCSEC), &rot(1, a3 * ARCSEC)),
    )
}

/// The DE421 ME→PA rotation of moon_080317.tf (TKFRAME_31007, relative to
/// MOON_PA_DE421: angles 67.92″, 78.56″, 0.30″ about axes 3, 2, 1).
pub fn de421_me_to_pa() -> M3 {
    me_to_pa(DE421.me_angles_arcsec)
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
    /// A binary PCK's PA frame and the ME frame `me` a frame kernel defines
    /// relative to it (anise chains the two).
    PckWithFrameKernel { me: i32 },
    /// A binary PCK's PA frame `pa` and the built-in PA→ME angles of the
    /// same ephemeris.
    Pck { pa: i32, me_to_pa: M3 },
    /// IAU WGCCRE model (no PCK).
    Iau,
}

impl MoonOrientation {
    /// Pick what the kernels allow at TDB `tdb` (rules in the module docs);
    /// the warnings say what was not used and when it is not a PCK with its
    /// frame kernel.
    pub fn choose(eph: &Ephemeris, tdb: Instant) -> (MoonOrientation, Vec<String>) {
        let mut warnings = Vec::new();
        // PA frames the PCKs give at `tdb`, first listed PCK first.
        let mut pas: Vec<(i32, &Path)> = Vec::new();
        for (file, ids) in eph.lunar_pcks() {
            for &id in ids {
                if !pas.iter().any(|(p, _)| *p == id) && eph.has_moon_frame(id, tdb) {
                    pas.push((id, file));
                }
            }
        }
        for d in eph.lunar_me_definitions() {
            if !pas.iter().any(|(p, _)| *p == d.relative_to) {
                warnings.push(format!(
                    "{}: defines {} relative to {}, which no binary PCK in model.kernels holds at {} TDB: this ME frame is not applied",
                    show(&d.file),
                    frame_label(d.me),
                    frame_label(d.relative_to),
                    tdb_label(tdb)
                ));
            }
        }
        // The ME frame a frame kernel defines on PA frame `pa`, if usable.
        let me_on = |pa: i32| {
            eph.lunar_me_definitions()
                .iter()
                .find(|d| d.relative_to == pa && eph.has_moon_frame(d.me, tdb))
        };
        let pick = pas
            .iter()
            .find(|(p, _)| me_on(*p).is_some())
            .or(pas.first())
            .copied();
        let Some((pa, pck)) = pick else {
            warnings.push(format!(
                "no lunar binary PCK ({} or {}) covering {} TDB in model.kernels: using the IAU WGCCRE rotation model for the Moon (~100 m off on the surface)",
                frame_label(super::ephemeris::DE421.pa),
                frame_label(super::ephemeris::DE440.pa),
                tdb_label(tdb)
            ));
            return (MoonOrientation::Iau, warnings);
        };
        if pas.len() > 1 {
            let all: Vec<String> = pas
                .iter()
                .map(|(p, f)| format!("{} in {}", frame_label(*p), show(f)))
                .collect();
            warnings.push(format!(
                "model.kernels hold the Moon's PA frame of more than one ephemeris ({}): using {} (the one a frame kernel's ME frame is defined on, else the PCK listed first)",
                all.join(", "),
                frame_label(pa)
            ));
        }
        if let Some(d) = me_on(pa) {
            return (MoonOrientation::PckWithFrameKernel { me: d.me }, warnings);
        }
        match lunar_frames_of_pa(pa) {
            Some(f) => {
                warnings.push(format!(
                    "no frame kernel defines {} relative to {} ({}): using the PA→ME angles of {} built in ({:?}″ about z, y, x)",
                    frame_label(f.me),
                    frame_label(pa),
                    show(pck),
                    f.tf,
                    f.me_angles_arcsec
                ));
                (
                    MoonOrientation::Pck {
                        pa,
                        me_to_pa: me_to_pa(f.me_angles_arcsec),
                    },
                    warnings,
                )
            }
            // `lunar_pcks` holds only frames of LUNAR_FRAMES.
            None => (MoonOrientation::Iau, warnings),
        }
    }

    /// Matrix taking ME vectors to ICRF at TDB `tdb`.
    pub fn me_to_icrf(&self, eph: &Ephemeris, tdb: Instant) -> Result<M3, ModelError> {
        match self {
            MoonOrientation::PckWithFrameKernel { me } => eph.moon_to_icrf(*me, tdb),
            MoonOrientation::Pck { pa, me_to_pa } => {
                Ok(mat_mul(&eph.moon_to_icrf(*pa, tdb)?, me_to_pa))
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

#[cfg(test)]
#[path = "moon_tests.rs"]
mod tests;
