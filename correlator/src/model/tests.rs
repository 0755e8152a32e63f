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
