//! Tests of the whole model against independent truth: the skyfield/jplephem
//! golden file (testdata/model_reference.csv, made by
//! testdata/model_reference.py), closed forms, and the model itself for the
//! polynomial fits.

use super::*;
use crate::job::Job;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file in the workspace's testdata/.
pub fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

pub const PKS1921: &str = "ra = \"19h24m51.0559s\"\ndec = \"-29d14m30.121s\"";
pub const LANDER: &str = "moon = { lat_deg = -89.0, lon_deg = 30.0 }";

/// A job over [start, start + duration] with T6, KM, UR and LS, kernels and
/// EOP from testdata/.
pub fn job(source: &str, start: &str, duration_s: f64, extra_model: &str) -> Job {
    let text = format!(
        r#"
[job]
name = "t"
start = "{start}"
duration_s = {duration_s}
[model]
kernels = ["de421_2026_excerpt.bsp", "moon_pa_de421_1900-2050.bpc", "moon_080317.tf"]
eop = "finals2000A_2025-2026.txt"
{extra_model}
[source]
name = "S"
{source}
[[station]]
name = "T6"
itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]
[[station]]
name = "KM"
itrf_m = [-1281152.8, 5640864.4, 2682653.5]
[[station]]
name = "UR"
itrf_m = [228310.7, 4631922.8, 4367064.1]
[[station]]
name = "LS"
moon = {{ lat_deg = -89.5, lon_deg = 0.0 }}
[[subband]]
sky_freq_hz = 8.4e9
bandwidth_hz = 8e6
"#
    );
    Job::from_toml_str(&text, &testdata("job.toml")).unwrap()
}

struct RefRow {
    delay_s: f64,
    rate: f64,
}

fn golden() -> BTreeMap<(String, String), BTreeMap<String, RefRow>> {
    let text = std::fs::read_to_string(testdata("model_reference.csv")).unwrap();
    let mut out: BTreeMap<(String, String), BTreeMap<String, RefRow>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        out.entry((f[0].to_string(), f[1].to_string()))
            .or_default()
            .insert(
                f[2].to_string(),
                RefRow {
                    delay_s: f[3].parse().unwrap(),
                    rate: f[4].parse().unwrap(),
                },
            );
    }
    out
}

/// Largest |emcorr − reference| over the golden file, per case and kind
/// (Earth–Earth baselines, Earth–Moon baselines, single stations):
/// (delay s, rate).
fn compare(case: &str) -> BTreeMap<&'static str, (f64, f64)> {
    let mut worst: BTreeMap<&'static str, (f64, f64)> = BTreeMap::new();
    for ((c, time), rows) in golden() {
        if c != case {
            continue;
        }
        let g = formats::UtcTime::parse_iso8601(&time).unwrap();
        let start = g.add_seconds(-60.0);
        let src = if case == "far" { PKS1921 } else { LANDER };
        let j = job(src, &start.to_iso8601(), 120.0, "");
        let tracks = build_model(&j, start, start.add_seconds(120.0)).unwrap();
        let ours: BTreeMap<String, Delay> = tracks
            .delays
            .iter()
            .map(|t| (t.station.clone(), t.eval(g)))
            .collect();
        let names: Vec<&String> = rows.keys().collect();
        for a in &names {
            let d = ours[*a].delay_s - rows[*a].delay_s;
            let r = ours[*a].rate - rows[*a].rate;
            let e = worst.entry("station").or_default();
            *e = (e.0.max(d.abs()), e.1.max(r.abs()));
            for b in &names {
                if a >= b {
                    continue;
                }
                let kind = if *a == "LS" || *b == "LS" {
                    "earth-moon"
                } else {
                    "earth-earth"
                };
                let d =
                    (ours[*b].delay_s - ours[*a].delay_s) - (rows[*b].delay_s - rows[*a].delay_s);
                let r = (ours[*b].rate - ours[*a].rate) - (rows[*b].rate - rows[*a].rate);
                let e = worst.entry(kind).or_default();
                *e = (e.0.max(d.abs()), e.1.max(r.abs()));
            }
        }
    }
    worst
}

#[test]
fn far_field_agrees_with_the_skyfield_reference() {
    let w = compare("far");
    eprintln!("far field, worst |emcorr − skyfield| (delay s, rate): {w:?}");
    for (kind, (d, r)) in &w {
        assert!(*d < 0.5e-9, "{kind}: delay differs by {d:e} s");
        assert!(*r < 1e-12, "{kind}: rate differs by {r:e}");
    }
}

#[test]
fn near_field_agrees_with_the_skyfield_reference() {
    let w = compare("near");
    eprintln!("near field, worst |emcorr − skyfield| (delay s, rate): {w:?}");
    for (kind, (d, r)) in &w {
        assert!(*d < 0.5e-9, "{kind}: delay differs by {d:e} s");
        assert!(*r < 1e-12, "{kind}: rate differs by {r:e}");
    }
}

#[test]
fn data_files_exist() {
    for f in ["de421_2026_excerpt.bsp", "finals2000A_2025-2026.txt"] {
        assert!(Path::new(&testdata(f)).exists());
    }
}

/// IERS Conventions 2010 eq. 11.9 (the consensus model) for an Earth–Earth
/// baseline, written out independently of the model's light-time solution:
/// t2 − t1 for the wavefront reaching station 1 at TT t1.
#[test]
fn earth_baselines_agree_with_the_consensus_formula() {
    use super::ephemeris::{EARTH, MOON, SUN};
    use super::relativity::{C, GM_EARTH, GM_SUN};
    use super::vector::{dot, norm, scale, sub};
    let mut worst: f64 = 0.0;
    for day in [1, 6, 11, 16, 21, 26] {
        let start = formats::UtcTime::from_calendar(2026, 3, day, 5, 0, 0, 0.0);
        let j = job(PKS1921, &start.to_iso8601(), 60.0, "");
        let model = DelayModel::new(&j, start, start.add_seconds(60.0)).unwrap();
        let ctx = model.epoch(start).unwrap();
        let t6 = model.station(&ctx, 0).unwrap();
        let km = model.station(&ctx, 1).unwrap();
        // Geometry at t1 = g + τ_T6.
        let ctx1 = model.epoch(start.add_seconds(t6.delay_s)).unwrap();
        let x1 = model.station(&ctx1, 0).unwrap().geocentric_m;
        let x2 = model.station(&ctx1, 1).unwrap().geocentric_m;
        let x2b = model
            .station(
                &model.epoch(start.add_seconds(t6.delay_s + 0.5)).unwrap(),
                1,
            )
            .unwrap()
            .geocentric_m;
        let x2a = model
            .station(
                &model.epoch(start.add_seconds(t6.delay_s - 0.5)).unwrap(),
                1,
            )
            .unwrap()
            .geocentric_m;
        let w2 = sub(&x2b, &x2a);
        let k = match model.source() {
            geometric::SourceGeometry::Far(k) => *k,
            _ => unreachable!(),
        };
        let body = |id: i32| ctx1.bodies.iter().find(|b| b.naif_id == id).unwrap().state;
        let v = body(EARTH).vel_m_s;
        let u = GM_SUN / norm(&sub(&body(SUN).pos_m, &body(EARTH).pos_m));
        let b = sub(&x2, &x1);
        let c2 = C * C;
        let geom = (-dot(&k, &b) / C
            * (1.0 - 2.0 * u / c2 - dot(&v, &v) / (2.0 * c2) - dot(&v, &w2) / c2)
            - dot(&v, &b) / c2 * (1.0 + dot(&k, &v) / (2.0 * C)))
            / (1.0 + dot(&k, &scale(&[v[0] + w2[0], v[1] + w2[1], v[2] + w2[2]], 1.0)) / C);
        // eq. 11.1 for the Sun, Moon (at t1, bodies barely move in 20 ms) and the Earth (geocentric).
        let grav = |gm: f64, xj: &[f64; 3]| {
            let r1 = sub(&x1, xj);
            let r2 = sub(&x2, xj);
            2.0 * gm / (C * c2) * ((norm(&r1) + dot(&k, &r1)) / (norm(&r2) + dot(&k, &r2))).ln()
        };
        let geo = body(EARTH).pos_m;
        let rel = |id: i32| sub(&body(id).pos_m, &geo);
        let dgrav = grav(GM_SUN, &rel(SUN))
            + grav(super::relativity::GM_MOON, &rel(MOON))
            + grav(GM_EARTH, &[0.0; 3]);
        let consensus = geom + dgrav;
        let ours = km.delay_s - t6.delay_s;
        worst = worst.max((ours - consensus).abs());
    }
    eprintln!("T6–KM: rigorous − consensus (eq. 11.9): worst {worst:e} s");
    assert!(
        worst < 2e-12,
        "rigorous and consensus differ by {worst:e} s"
    );
}

/// Direct model at g for every station with a site.
fn direct(model: &DelayModel, g: formats::UtcTime) -> Vec<f64> {
    let ctx = model.epoch(g).unwrap();
    (0..4)
        .map(|i| model.station(&ctx, i).unwrap().delay_s)
        .collect()
}

#[test]
fn polynomials_fit_the_model_across_the_month_and_join_continuously() {
    let mut worst_fit: f64 = 0.0;
    let mut worst_join: f64 = 0.0;
    let mut worst_join_rate: f64 = 0.0;
    for (src, hours) in [(PKS1921, 0..28), (LANDER, 0..7)] {
        for k in hours {
            // Every ~26 h over the month: all phases of the Moon and of the day.
            let start = formats::UtcTime::from_calendar(2026, 3, 1, 0, 0, 0, 0.0)
                .add_seconds(k as f64 * 26.0 * 3600.0 + 1.0e4 * (k % 3) as f64);
            let j = job(src, &start.to_iso8601(), 240.0, "");
            let m = build_model(&j, start, start.add_seconds(240.0)).unwrap();
            let model = DelayModel::new(&j, start, start.add_seconds(240.0)).unwrap();
            for step in 0..=16 {
                let g = start.add_seconds(step as f64 * 15.0 + 3.7);
                let want = direct(&model, g);
                for (i, t) in m.delays.iter().enumerate() {
                    worst_fit = worst_fit.max((t.eval(g).delay_s - want[i]).abs());
                }
            }
            let boundary = start.add_seconds(120.0);
            for t in &m.delays {
                let a = t.pieces[0].eval(boundary);
                let b = t.pieces[1].eval(boundary);
                worst_join = worst_join.max((a.delay_s - b.delay_s).abs());
                worst_join_rate = worst_join_rate.max((a.rate - b.rate).abs());
            }
        }
    }
    eprintln!(
        "fit error {worst_fit:e} s; jumps at boundaries {worst_join:e} s, rate {worst_join_rate:e}"
    );
    assert!(worst_fit < 1e-12, "fit error {worst_fit:e} s");
    assert!(worst_join < 1e-13, "jump {worst_join:e} s");
    // The model itself is noisy at ~0.1 ps (f64 BCRS coordinates of
    // 1.5e11 m resolve 3e-5 m): rates of neighbouring pieces meet to < 0.2 ps/s.
    assert!(worst_join_rate < 2e-13, "rate jump {worst_join_rate:e}");
}

#[test]
fn ten_minutes_of_four_stations_build_in_well_under_a_second() {
    let j = job(PKS1921, "2026-03-14T23:45:00Z", 600.0, "");
    let start = j.start.unwrap();
    let t0 = std::time::Instant::now();
    let m = build_model(&j, start, start.add_seconds(600.0)).unwrap();
    let el = t0.elapsed().as_secs_f64();
    eprintln!("10 min, 4 stations: {el:.3} s");
    assert_eq!(m.delays[0].pieces.len(), 5);
    assert!(el < 1.0, "took {el} s");
}
