//! Tests of the lunar frame choice with DE421 and DE440 kernels.
//!
//! No DE440 lunar PCK is on this machine, so the DE440 PCK here is
//! synthetic: a copy of testdata/moon_pa_de421_1900-2050.bpc whose segment
//! frame id is rewritten from 31006 to 31008 (MOON_PA_DE440) by walking the
//! DAF summary records in the test (independently of anise). Its PA frame is
//! therefore DE421's: the tests check the plumbing (which frame is read,
//! which ME rotation is put on it) and the ME angles, against closed forms
//! and the DE421 path, not DE440's libration itself.

use super::super::ephemeris::{Ephemeris, DE421, DE440};
use super::super::tests::{job, testdata, PKS1921};
use super::super::time_scales::{tt_to_tdb, utc_to_tt, Instant};
use super::super::vector::{mul, norm, sub, M3, V3};
use super::*;
use std::path::{Path, PathBuf};

const ARCSEC_RAD: f64 = std::f64::consts::PI / 648_000.0;

fn tdb(day: u32, hour: u32) -> Instant {
    tt_to_tdb(utc_to_tt(formats::UtcTime::from_calendar(
        2026, 3, day, hour, 0, 0, 0.0,
    )))
}

/// Copy of the DE421 lunar PCK with every segment's frame id (the first
/// integer of a PCK summary: ND = 2 doubles, NI = 5 integers, NASA's DAF
/// Required Reading) set to `frame`. Returns the copy's path.
fn relabelled_pck(dir: &Path, frame: i32) -> PathBuf {
    let mut b = std::fs::read(testdata("moon_pa_de421_1900-2050.bpc")).unwrap();
    assert_eq!(&b[..8], b"DAF/PCK ");
    assert_eq!(&b[88..96], b"LTL-IEEE");
    let i32_at = |b: &[u8], o: usize| i32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let f64_at = |b: &[u8], o: usize| f64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let (nd, ni) = (i32_at(&b, 8) as usize, i32_at(&b, 12) as usize);
    assert_eq!((nd, ni), (2, 5));
    let summary_bytes = 8 * (nd + ni.div_ceil(2));
    let mut record = i32_at(&b, 76) as usize; // FWARD: first summary record
    let mut changed = 0;
    while record != 0 {
        let r = (record - 1) * 1024;
        let n = f64_at(&b, r + 16) as usize;
        for k in 0..n {
            let o = r + 24 + k * summary_bytes + 8 * nd;
            assert_eq!(i32_at(&b, o), DE421.pa, "segment {k}");
            b[o..o + 4].copy_from_slice(&frame.to_le_bytes());
            changed += 1;
        }
        record = f64_at(&b, r) as usize; // NEXT
    }
    assert!(changed > 0);
    let path = dir.join(format!("moon_pa_{frame}.bpc"));
    std::fs::write(&path, b).unwrap();
    path
}

/// A frame kernel with the data section of NAIF's moon_de440_220930.tf (the
/// PCK frame MOON_PA_DE440 and the TK frame MOON_ME_DE440_ME421 relative
/// to it) with the given angles (arcseconds about axes 3, 2, 1).
fn de440_tf(dir: &Path, name: &str, angles: [f64; 3]) -> PathBuf {
    let [a, b, c] = angles;
    let text = format!(
        r"KPL/FK

   Test frame kernel: the frame definitions of moon_de440_220930.tf.

   \begindata

      FRAME_MOON_PA_DE440           = 31008
      FRAME_31008_NAME              = 'MOON_PA_DE440'
      FRAME_31008_CLASS             = 2
      FRAME_31008_CLASS_ID          = 31008
      FRAME_31008_CENTER            = 301

      FRAME_MOON_ME_DE440_ME421     = 31009
      FRAME_31009_NAME              = 'MOON_ME_DE440_ME421'
      FRAME_31009_CLASS             = 4
      FRAME_31009_CLASS_ID          = 31009
      FRAME_31009_CENTER            = 301

      TKFRAME_31009_SPEC            = 'ANGLES'
      TKFRAME_31009_RELATIVE        = 'MOON_PA_DE440'
      TKFRAME_31009_ANGLES          = ( {a} {b} {c} )
      TKFRAME_31009_AXES            = ( 3, 2, 1 )
      TKFRAME_31009_UNITS           = 'ARCSECONDS'

   \begintext
"
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn load(files: &[PathBuf]) -> Ephemeris {
    let mut all = vec![testdata("de421_2026_excerpt.bsp")];
    all.extend_from_slice(files);
    Ephemeris::load(&all).unwrap()
}

fn de421_tf() -> PathBuf {
    testdata("moon_080317.tf")
}

fn de421_pck() -> PathBuf {
    testdata("moon_pa_de421_1900-2050.bpc")
}

/// Surface points (ME, m): the sub-Earth point, a mid-latitude site and
/// the south-pole lander of the scenario.
fn sites() -> Vec<V3> {
    [(0.0, 0.0), (10.0, 40.0), (-89.5, 0.0)]
        .iter()
        .map(|&(lat_deg, lon_deg)| {
            site_me_m(&crate::job::MoonSite {
                lat_deg,
                lon_deg,
                height_m: 0.0,
            })
        })
        .collect()
}

fn max_abs_diff(a: &M3, b: &M3) -> f64 {
    let mut m: f64 = 0.0;
    for i in 0..3 {
        for j in 0..3 {
            m = m.max((a[i][j] - b[i][j]).abs());
        }
    }
    m
}

fn cross(a: &V3, b: &V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[test]
fn the_synthetic_de440_pck_holds_frame_31008_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let pck = relabelled_pck(dir.path(), DE440.pa);
    let e = load(std::slice::from_ref(&pck));
    assert_eq!(e.lunar_pcks(), &[(pck, vec![DE440.pa])]);
    let t = tdb(1, 0);
    assert!(e.has_moon_frame(DE440.pa, t));
    assert!(!e.has_moon_frame(DE421.pa, t));
}

#[test]
fn de440_kernels_with_de421_angles_give_the_de421_positions_exactly() {
    // Plumbing test: DE421's PA data relabelled MOON_PA_DE440 and a DE440
    // frame kernel carrying DE421's angles must reproduce the DE421 path
    // (moon_pa_de421 + moon_080317.tf) bit for bit: same Chebyshev data, same
    // TK rotation, only the frame ids differ.
    let dir = tempfile::tempdir().unwrap();
    let pck = relabelled_pck(dir.path(), DE440.pa);
    let tf = de440_tf(dir.path(), "de440_like.tf", DE421.me_angles_arcsec);
    let e440 = load(&[pck, tf]);
    let e421 = load(&[de421_pck(), de421_tf()]);
    let t = tdb(1, 0);
    let (o440, w440) = MoonOrientation::choose(&e440, t);
    let (o421, w421) = MoonOrientation::choose(&e421, t);
    assert_eq!(o440, MoonOrientation::PckWithFrameKernel { me: DE440.me });
    assert_eq!(o421, MoonOrientation::PckWithFrameKernel { me: DE421.me });
    assert!(w440.is_empty() && w421.is_empty(), "{w440:?} {w421:?}");
    for day in [1, 8, 15, 22, 29] {
        let t = tdb(day, 6);
        let m440 = o440.me_to_icrf(&e440, t).unwrap();
        let m421 = o421.me_to_icrf(&e421, t).unwrap();
        for x in sites() {
            assert_eq!(mul(&m440, &x), mul(&m421, &x), "day {day}");
        }
    }

    // The same through a whole job: the lunar station's delays are equal.
    let start = formats::UtcTime::from_calendar(2026, 3, 1, 0, 0, 0, 0.0);
    let end = start.add_seconds(600.0);
    let mut j440 = job(PKS1921, &start.to_iso8601(), 600.0, "");
    j440.model.as_mut().unwrap().kernels = vec![
        testdata("de421_2026_excerpt.bsp"),
        relabelled_pck(dir.path(), DE440.pa),
        dir.path().join("de440_like.tf"),
    ];
    let j421 = job(PKS1921, &start.to_iso8601(), 600.0, "");
    let m440 = crate::model::build_model(&j440, start, end).unwrap();
    let m421 = crate::model::build_model(&j421, start, end).unwrap();
    assert_eq!(m440.warnings, m421.warnings);
    let ls = 3; // the lunar station of `job`
    for k in 0..=60 {
        let g = start.add_seconds(10.0 * k as f64);
        let (a, b) = (&m440.delays[ls], &m421.delays[ls]);
        assert_eq!(a.eval(g), b.eval(g), "at {k}");
    }
}

#[test]
fn de440_angles_move_a_station_by_the_closed_form_rotation_difference() {
    // Same PA data, ME rotations with DE440's and DE421's published angles:
    // ME→PA = R3(a₁)R2(a₂)R1(a₃) ≈ I − [ω]×, ω = (a₃, a₂, a₁), so the
    // station moves by −Δω × x in the PA frame, Δω = ω440 − ω421 =
    // (−0.0215″, 0.1344″, −0.0674″) (0.152″, 7.4e-7 rad: 1.27 m at the
    // sub-Earth point); second-order terms |ω||Δω||x| < 1 mm.
    let dir = tempfile::tempdir().unwrap();
    let pck = relabelled_pck(dir.path(), DE440.pa);
    let tf = de440_tf(dir.path(), "moon_de440_220930.tf", DE440.me_angles_arcsec);
    let e440 = load(&[pck, tf]);
    let e421 = load(&[de421_pck(), de421_tf()]);
    let d = |i: usize| (DE440.me_angles_arcsec[i] - DE421.me_angles_arcsec[i]) * ARCSEC_RAD;
    let dw = [d(2), d(1), d(0)];
    let mut moved = Vec::new();
    for day in [1, 15, 29] {
        let t = tdb(day, 6);
        let (o440, _) = MoonOrientation::choose(&e440, t);
        let m440 = o440.me_to_icrf(&e440, t).unwrap();
        let m421 = MoonOrientation::choose(&e421, t)
            .0
            .me_to_icrf(&e421, t)
            .unwrap();
        let pa = e421.moon_to_icrf(DE421.pa, t).unwrap();
        for x in sites() {
            let got = sub(&mul(&m440, &x), &mul(&m421, &x));
            let minus_dw_x = cross(&x, &dw);
            let want = mul(&pa, &minus_dw_x);
            assert!(norm(&sub(&got, &want)) < 1e-3, "{got:?} vs {want:?}");
            moved.push(norm(&got));
        }
    }
    eprintln!("DE440 vs DE421 PA→ME angles on the surface: {moved:.3?} m");
    assert!((moved[0] - 1.267).abs() < 0.002, "{}", moved[0]);

    // The built-in DE440 angles (no frame kernel) = anise's reading of the
    // published frame kernel.
    let bare = load(&[relabelled_pck(dir.path(), DE440.pa)]);
    let t = tdb(8, 0);
    let (o, w) = MoonOrientation::choose(&bare, t);
    assert!(matches!(o, MoonOrientation::Pck { pa, .. } if pa == DE440.pa));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("MOON_ME_DE440_ME421 (31009)")
            && w[0].contains("MOON_PA_DE440 (31008)")
            && w[0].contains("moon_de440_220930.tf"),
        "{}",
        w[0]
    );
    let builtin = o.me_to_icrf(&bare, t).unwrap();
    let from_tf = MoonOrientation::PckWithFrameKernel { me: DE440.me }
        .me_to_icrf(&e440, t)
        .unwrap();
    assert!(max_abs_diff(&builtin, &from_tf) < 1e-14);
}

#[test]
fn a_de440_pck_never_gets_the_de421_rotation() {
    // DE440 PCK with DE421's frame kernel: MOON_ME_DE421 hangs on
    // MOON_PA_DE421, which no PCK holds: not applied (warning naming the
    // .tf and both frames); DE440's own angles are used instead.
    let dir = tempfile::tempdir().unwrap();
    let pck = relabelled_pck(dir.path(), DE440.pa);
    let e = load(&[pck.clone(), de421_tf()]);
    let t = tdb(1, 0);
    let (o, w) = MoonOrientation::choose(&e, t);
    assert_eq!(
        o,
        MoonOrientation::Pck {
            pa: DE440.pa,
            me_to_pa: me_to_pa(DE440.me_angles_arcsec)
        }
    );
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with(&de421_tf().display().to_string())
            && w[0].contains("MOON_ME_DE421 (31007)")
            && w[0].contains("MOON_PA_DE421 (31006)")
            && w[0].contains("not applied"),
        "{}",
        w[0]
    );
    assert!(w[1].contains(&pck.display().to_string()), "{}", w[1]);
    for x in w.iter() {
        assert!(!x.contains('\n'), "one line: {x}");
    }
}

#[test]
fn a_de440_frame_kernel_without_its_pck_is_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let tf = de440_tf(dir.path(), "moon_de440_220930.tf", DE440.me_angles_arcsec);
    let e = load(&[de421_pck(), tf.clone()]);
    let t = tdb(1, 0);
    let (o, w) = MoonOrientation::choose(&e, t);
    // DE421's PCK with DE421's built-in angles.
    assert_eq!(
        o,
        MoonOrientation::Pck {
            pa: DE421.pa,
            me_to_pa: de421_me_to_pa()
        }
    );
    assert!(
        w[0].starts_with(&tf.display().to_string())
            && w[0].contains("MOON_ME_DE440_ME421 (31009)")
            && w[0].contains("MOON_PA_DE440 (31008)")
            && w[0].contains("not applied"),
        "{w:?}"
    );
    assert!(w[1].contains("MOON_ME_DE421 (31007)") && w[1].contains("moon_080317.tf"));

    // The warnings reach the model's (what `emcorr model` prints) when a
    // station is on the Moon.
    let start = formats::UtcTime::from_calendar(2026, 3, 1, 0, 0, 0, 0.0);
    let mut j = job(PKS1921, &start.to_iso8601(), 60.0, "");
    j.model.as_mut().unwrap().kernels =
        vec![testdata("de421_2026_excerpt.bsp"), de421_pck(), tf.clone()];
    let m = crate::model::build_model(&j, start, start.add_seconds(60.0)).unwrap();
    assert!(m.warnings.iter().any(|x| x == &w[0]), "{:?}", m.warnings);
}

#[test]
fn with_both_pcks_the_one_a_frame_kernel_is_defined_on_wins_else_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let p440 = relabelled_pck(dir.path(), DE440.pa);
    let tf440 = de440_tf(dir.path(), "moon_de440_220930.tf", DE440.me_angles_arcsec);
    let t = tdb(1, 0);
    let choose = |files: &[PathBuf]| MoonOrientation::choose(&load(files), t);

    let (o, w) = choose(&[p440.clone(), de421_pck(), de421_tf()]);
    assert_eq!(o, MoonOrientation::PckWithFrameKernel { me: DE421.me });
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("MOON_PA_DE440 (31008) in")
            && w[0].contains("MOON_PA_DE421 (31006) in")
            && w[0].contains("using MOON_PA_DE421 (31006)"),
        "{}",
        w[0]
    );

    let (o, _) = choose(&[de421_pck(), p440.clone(), tf440.clone()]);
    assert_eq!(o, MoonOrientation::PckWithFrameKernel { me: DE440.me });

    // Both frame kernels, or none: the PCK listed first.
    let (o, _) = choose(&[p440.clone(), de421_pck(), de421_tf(), tf440.clone()]);
    assert_eq!(o, MoonOrientation::PckWithFrameKernel { me: DE440.me });
    let (o, _) = choose(&[de421_pck(), p440.clone(), tf440, de421_tf()]);
    assert_eq!(o, MoonOrientation::PckWithFrameKernel { me: DE421.me });
    let (o, w) = choose(&[de421_pck(), p440]);
    assert!(matches!(o, MoonOrientation::Pck { pa, .. } if pa == DE421.pa));
    assert_eq!(w.len(), 2, "{w:?}");
}

#[test]
fn without_a_lunar_pck_the_iau_model_is_used_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let tf = de440_tf(dir.path(), "moon_de440_220930.tf", DE440.me_angles_arcsec);
    let (o, w) = MoonOrientation::choose(&load(&[tf]), tdb(1, 0));
    assert_eq!(o, MoonOrientation::Iau);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("not applied"));
    assert!(
        w[1].contains("31006") && w[1].contains("31008") && w[1].contains("IAU"),
        "{}",
        w[1]
    );
}

#[test]
fn a_frame_kernel_whose_relative_frame_is_missing_is_a_one_line_error() {
    // A .tf with the TK frame but not the PCK frame it is relative to:
    // anise cannot resolve TKFRAME_31009_RELATIVE; the error names the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.tf");
    std::fs::write(
        &path,
        "KPL/FK\n\\begindata\n FRAME_MOON_ME_DE440_ME421 = 31009\n FRAME_31009_NAME = 'MOON_ME_DE440_ME421'\n FRAME_31009_CLASS = 4\n FRAME_31009_CLASS_ID = 31009\n FRAME_31009_CENTER = 301\n TKFRAME_31009_SPEC = 'ANGLES'\n TKFRAME_31009_RELATIVE = 'MOON_PA_DE440'\n TKFRAME_31009_ANGLES = ( 67.8526 78.6944 0.2785 )\n TKFRAME_31009_AXES = ( 3, 2, 1 )\n TKFRAME_31009_UNITS = 'ARCSECONDS'\n\\begintext\n",
    )
    .unwrap();
    let err = match Ephemeris::load(&[testdata("de421_2026_excerpt.bsp"), path.clone()]) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("broken.tf") && err.contains("MOON_PA_DE440") && !err.contains('\n'),
        "{err}"
    );
}

#[test]
fn de440_angles_move_the_lunar_delay_by_the_shift_along_the_source() {
    // Whole-job check of the same difference: DE440's published angles on
    // the (synthetic) DE440 PCK against DE421's on DE421's. The lunar
    // station's geocentric delay τ = −k·(x − X⊕)/c moves by −k·Δx/c, k the
    // source's ICRS direction from its RA/Dec, Δx = PA·(−Δω × x) (closed
    // form as above); 1PN scale and the ~1.3 s light time change it by far
    // less than 1 ps. At the south-pole lander, with PKS 1921−293 nearly
    // behind the Earth, that is ~3.3 ns.
    let dir = tempfile::tempdir().unwrap();
    let start = formats::UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0);
    let end = start.add_seconds(600.0);
    let mut j440 = job(PKS1921, &start.to_iso8601(), 600.0, "");
    j440.model.as_mut().unwrap().kernels = vec![
        testdata("de421_2026_excerpt.bsp"),
        relabelled_pck(dir.path(), DE440.pa),
        de440_tf(dir.path(), "moon_de440_220930.tf", DE440.me_angles_arcsec),
    ];
    let j421 = job(PKS1921, &start.to_iso8601(), 600.0, "");
    let m440 = crate::model::build_model(&j440, start, end).unwrap();
    let m421 = crate::model::build_model(&j421, start, end).unwrap();
    let e421 = load(&[de421_pck(), de421_tf()]);
    let (ra, dec) = (
        (19.0_f64 + 24.0 / 60.0 + 51.0559 / 3600.0) * 15.0,
        -(29.0_f64 + 14.0 / 60.0 + 30.121 / 3600.0),
    );
    let (sr, cr) = ra.to_radians().sin_cos();
    let (sd, cd) = dec.to_radians().sin_cos();
    let k = [cd * cr, cd * sr, sd];
    let d = |i: usize| (DE440.me_angles_arcsec[i] - DE421.me_angles_arcsec[i]) * ARCSEC_RAD;
    let dw = [d(2), d(1), d(0)];
    let x = site_me_m(&crate::job::MoonSite {
        lat_deg: -89.5,
        lon_deg: 0.0,
        height_m: 0.0,
    });
    let ls = 3;
    for step in 0..=10 {
        let g = start.add_seconds(60.0 * step as f64);
        let got = m440.delays[ls].eval(g).delay_s - m421.delays[ls].eval(g).delay_s;
        let pa = e421
            .moon_to_icrf(DE421.pa, tt_to_tdb(utc_to_tt(g)))
            .unwrap();
        let dx = mul(&pa, &cross(&x, &dw));
        let want = -super::super::vector::dot(&k, &dx) / super::super::relativity::C;
        assert!((got - want).abs() < 1e-12, "{got:e} vs {want:e} s");
        assert!(want.abs() > 3e-9, "{want:e}");
        // The Earth stations do not move.
        assert_eq!(m440.delays[0].eval(g), m421.delays[0].eval(g));
    }
}
