//! `emcorr simulate --observables` + `emcorr solve` end to end: the
//! standard session (testdata/scenarios/solve_session.toml) recovers the
//! truth within 3σ, σ agrees with the scatter over noise realisations, a
//! rank deficiency is named (exit 4), bad input is one line (exit 2/3).

mod cli_util;

use cli_util::{emcorr, ok};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/solve_session.toml")
}

/// Simulate the standard session with `seed` into `dir`; returns truth.json.
fn simulate(dir: &Path, seed: u64) -> Value {
    ok(&emcorr()
        .arg("simulate")
        .arg("--observables")
        .arg(scenario())
        .arg("--out")
        .arg(dir)
        .args(["--seed", &seed.to_string()])
        .output()
        .unwrap());
    serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap()
}

fn solve_json(dir: &Path, extra: &[&str]) -> (Value, std::process::Output) {
    let out = emcorr()
        .arg("solve")
        .arg(dir.join("fringe.json"))
        .arg("--job")
        .arg(dir.join("job.toml"))
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (v, out)
}

/// The truth of the derived selenographic quantities (`derived` in the
/// solve's JSON) from truth.json's ME x, y, z, written out here: spherical
/// latitude, east longitude and height above the 1737.4 km sphere, and the
/// true offset from the a priori along the local east, north and up at the
/// a priori.
fn derived_truth(sol: &Value, truth: &Value, name: &str) -> Option<f64> {
    let (owner, what) = name.split_once(':')?;
    let xyz = |from_truth: bool| -> Option<[f64; 3]> {
        let mut v = [0.0; 3];
        for (k, axis) in ["x", "y", "z"].iter().enumerate() {
            let n = format!("{owner}:moon_{axis}_m");
            v[k] = if from_truth {
                truth["parameters"][&n].as_f64()?
            } else {
                sol["parameters"]
                    .as_array()?
                    .iter()
                    .find(|p| p["name"] == n.as_str())?["apriori"]
                    .as_f64()?
            };
        }
        Some(v)
    };
    let (t, a) = (xyz(true)?, xyz(false)?);
    let rho = t[0].hypot(t[1]);
    let r = (rho * rho + t[2] * t[2]).sqrt();
    let (lat, lon) = (a[2].atan2(a[0].hypot(a[1])), a[1].atan2(a[0]));
    let (sl, cl, so, co) = (lat.sin(), lat.cos(), lon.sin(), lon.cos());
    let d = [t[0] - a[0], t[1] - a[1], t[2] - a[2]];
    let dot = |u: [f64; 3]| u[0] * d[0] + u[1] * d[1] + u[2] * d[2];
    Some(match what {
        "moon_lat_rad" => (t[2] / r).asin(),
        "moon_lon_rad" => t[1].atan2(t[0]),
        "moon_h_m" => r - 1_737_400.0,
        "moon_east_m" => dot([-so, co, 0.0]),
        "moon_north_m" => dot([-sl * co, -sl * so, cl]),
        "moon_up_m" => dot([cl * co, cl * so, sl]),
        _ => return None,
    })
}

/// (name, (estimate − truth)/σ, σ) for every estimated parameter, then
/// every derived selenographic quantity.
fn normalised(sol: &Value, truth: &Value) -> Vec<(String, f64, f64)> {
    let params = sol["parameters"].as_array().unwrap().iter().map(|p| {
        let name = p["name"].as_str().unwrap().to_string();
        let t = truth["parameters"][&name]
            .as_f64()
            .unwrap_or_else(|| panic!("truth.json has no {name}"));
        (p, t)
    });
    let derived = sol["derived"].as_array().unwrap().iter().map(|p| {
        let name = p["name"].as_str().unwrap();
        let t = derived_truth(sol, truth, name).unwrap_or_else(|| panic!("no truth for {name}"));
        (p, t)
    });
    params
        .chain(derived)
        .map(|(p, t)| {
            let sigma = p["sigma"].as_f64().unwrap();
            (
                p["name"].as_str().unwrap().to_string(),
                (p["estimate"].as_f64().unwrap() - t) / sigma,
                sigma,
            )
        })
        .collect()
}

#[test]
fn one_realisation_recovers_every_parameter_within_3_sigma() {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate(dir.path(), 16);
    let (sol, out) = solve_json(dir.path(), &[]);
    ok(&out);
    let names: Vec<&str> = sol["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    // The default set: clocks of all but the reference, LS and the lander.
    for want in [
        "KM:clock_offset_s",
        "KM:clock_rate",
        "UR:clock_offset_s",
        "LS:clock_rate",
        "LS:moon_x_m",
        "LS:moon_z_m",
        "CE7LANDER:moon_y_m",
    ] {
        assert!(names.contains(&want), "{want} not estimated: {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("T6:")), "{names:?}");
    for (name, z, sigma) in normalised(&sol, &truth) {
        eprintln!("{name}: {z:+.2} σ (σ = {sigma:e})");
        assert!(z.abs() < 3.0, "{name}: {z} σ from the truth");
    }
    // Latitude, longitude, height and east/north/up of LS and the lander
    // are derived (checked against the truth above).
    let derived: Vec<&str> = sol["derived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for owner in ["LS", "CE7LANDER"] {
        for q in ["lat_rad", "lon_rad", "h_m", "east_m", "north_m", "up_m"] {
            let n = format!("{owner}:moon_{q}");
            assert!(
                derived.contains(&n.as_str()),
                "{n} not derived: {derived:?}"
            );
        }
    }
    // The text output shows the same numbers: latitude in degrees, the
    // local corrections in metres.
    let text = emcorr()
        .arg("solve")
        .arg(dir.path().join("fringe.json"))
        .arg("--job")
        .arg(dir.path().join("job.toml"))
        .output()
        .unwrap();
    ok(&text);
    let text = String::from_utf8(text.stdout).unwrap();
    let json_of = |name: &str| {
        sol["derived"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    for (name, unit, scale, tol) in [
        ("LS:moon_lat_rad", "deg", 180.0 / std::f64::consts::PI, 1e-9),
        ("LS:moon_north_m", "m", 1.0, 1e-4),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} line in:\n{text}"));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[4], unit, "{line}");
        let j = json_of(name);
        for (k, key) in [(1, "estimate"), (3, "sigma")] {
            let shown: f64 = cells[k].parse().unwrap();
            let want = j[key].as_f64().unwrap() * scale;
            assert!((shown - want).abs() <= tol, "{line}: {key} {want}");
        }
    }
    let chi2 = sol["chi2_dof"].as_f64().unwrap();
    assert!((0.8..1.25).contains(&chi2), "χ²/dof {chi2}");
    assert_eq!(sol["n_flagged"], 0);
    assert_eq!(sol["not_estimated"].as_array().unwrap().len(), 0);
    // The a priori was tens of metres off.
    let ls_x = sol["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "LS:moon_x_m")
        .unwrap();
    assert!(ls_x["correction"].as_f64().unwrap().abs() > 20.0);
    assert_eq!(
        sol["observations"].as_array().unwrap().len(),
        sol["n_observations"].as_u64().unwrap() as usize
    );
}

/// RMS of (estimate − truth)/σ per parameter over `seeds`.
fn scatter_ratios(seeds: std::ops::Range<u64>) -> Vec<(String, f64)> {
    let mut acc: Vec<(String, f64)> = Vec::new();
    let n = (seeds.end - seeds.start) as f64;
    for seed in seeds {
        let dir = tempfile::tempdir().unwrap();
        let truth = simulate(dir.path(), seed);
        let (sol, out) = solve_json(dir.path(), &[]);
        ok(&out);
        for (i, (name, z, _)) in normalised(&sol, &truth).into_iter().enumerate() {
            if acc.len() <= i {
                acc.push((name, 0.0));
            }
            acc[i].1 += z * z;
        }
    }
    acc.into_iter()
        .map(|(n2, s)| (n2, (s / n).sqrt()))
        .collect()
}

/// The suite's version: 6 realisations, the six position components
/// pooled (36 normalised errors: the RMS has a standard error of ~0.12).
#[test]
fn scatter_over_sigma_is_near_one_pooled_over_6_realisations() {
    let r = scatter_ratios(100..106);
    let pos: Vec<f64> = r
        .iter()
        .filter(|(n, _)| {
            ["moon_x_m", "moon_y_m", "moon_z_m"]
                .iter()
                .any(|c| n.ends_with(c))
        })
        .map(|(n, v)| {
            eprintln!("{n}: scatter/σ {v:.3}");
            *v
        })
        .collect();
    assert_eq!(pos.len(), 6);
    let pooled = (pos.iter().map(|v| v * v).sum::<f64>() / pos.len() as f64).sqrt();
    eprintln!("pooled scatter/σ {pooled:.3}");
    assert!((0.7..1.35).contains(&pooled), "pooled scatter/σ {pooled}");
}

/// The criterion: over 20 realisations the scatter of each
/// estimate over its formal σ is within 0.8–1.25 (measured result in the
/// README, `emcorr solve`). The derived selenographic quantities (linear
/// combinations of the same x, y, z) are held to the sampling band of an
/// rms of 20 values instead (standard error ~0.16: 0.65–1.35), since the
/// lander's, dominated by one poorly sampled direction, sit near 0.8.
/// `EMCORR_SCATTER_N` sets the number of realisations (seeds 200…).
/// Slow (~2 min for 20): run with `--ignored`.
#[test]
#[ignore]
fn scatter_over_sigma_of_each_parameter_over_20_realisations() {
    let n: u64 = std::env::var("EMCORR_SCATTER_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let r = scatter_ratios(200..200 + n);
    let mut bad = Vec::new();
    for (name, v) in &r {
        eprintln!("{name}: scatter/σ {v:.3}");
        let estimated = ["moon_x_m", "moon_y_m", "moon_z_m"]
            .iter()
            .any(|c| name.ends_with(c));
        let band = if estimated { 0.8..=1.25 } else { 0.65..=1.35 };
        if name.contains("moon_") && !band.contains(v) {
            bad.push(name.clone());
        }
    }
    assert!(bad.is_empty(), "outside the band: {bad:?}");
}

#[test]
fn estimating_the_reference_clock_is_named_as_a_rank_deficiency() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), 16);
    let (sol, out) = solve_json(dir.path(), &["--estimate", "+clock_offset:T6"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("could not be estimated"), "{stderr}");
    let ne = sol["not_estimated"].as_array().unwrap();
    assert_eq!(ne.len(), 1, "{ne:?}");
    let involved: Vec<&str> = ne[0]["involved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // A common clock offset: every station's offset is in the combination.
    for st in ["T6", "KM", "UR", "LS"] {
        let name = format!("{st}:clock_offset_s");
        assert!(involved.contains(&name.as_str()), "{involved:?}");
    }
    assert!(stderr.contains(ne[0]["name"].as_str().unwrap()), "{stderr}");
    // Whatever was held, every reported value is a number.
    for p in sol["parameters"].as_array().unwrap() {
        assert!(p["sigma"].as_f64().is_some_and(f64::is_finite), "{p}");
    }
}

fn one_line_error(out: &std::process::Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("internal error"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in {stderr}");
    }
}

#[test]
fn bad_input_is_one_line_naming_file_and_row_or_key() {
    let dir = tempfile::tempdir().unwrap();
    simulate(dir.path(), 16);
    let text = std::fs::read_to_string(dir.path().join("fringe.json")).unwrap();
    let mut rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    let run = |file: &Path, extra: &[&str]| {
        emcorr()
            .arg("solve")
            .arg(file)
            .arg("--job")
            .arg(dir.path().join("job.toml"))
            .args(extra)
            .output()
            .unwrap()
    };
    // Two concatenated documents; row 3 of the second lacks its total delay.
    let bad = dir.path().join("bad.json");
    rows[2].as_object_mut().unwrap().remove("total_delay_s");
    let doc2 = serde_json::to_string(&rows[..5]).unwrap();
    std::fs::write(
        &bad,
        format!("{}\n{doc2}\n", serde_json::to_string(&rows[5..]).unwrap()),
    )
    .unwrap();
    let n_first = rows.len() - 5;
    one_line_error(
        &run(&bad, &[]),
        2,
        &[
            "bad.json",
            &format!("row {}", n_first + 3),
            "total_delay_s",
            "missing",
        ],
    );
    // An unknown station in a baseline.
    rows[2]["total_delay_s"] = Value::from(0.0);
    rows[1]["baseline"] = Value::from("T6-XX");
    std::fs::write(&bad, serde_json::to_string(&rows).unwrap()).unwrap();
    one_line_error(
        &run(&bad, &[]),
        2,
        &["bad.json", "row 2", "baseline", "T6-XX"],
    );
    // Not JSON.
    std::fs::write(&bad, "[{\"baseline\": ").unwrap();
    one_line_error(&run(&bad, &[]), 2, &["bad.json", "not JSON"]);
    // A missing file: an I/O failure.
    one_line_error(&run(&dir.path().join("none.json"), &[]), 3, &["none.json"]);
    // An unknown --estimate group and an unknown station.
    let good = dir.path().join("fringe.json");
    one_line_error(
        &run(&good, &["--estimate", "+clocks"]),
        2,
        &["--estimate", "clocks"],
    );
    one_line_error(
        &run(&good, &["--estimate", "+position:XX"]),
        2,
        &["--estimate", "XX"],
    );
}

#[test]
fn estimate_removes_groups_concatenated_files_are_one_session_and_an_outlier_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate(dir.path(), 16);
    // The quasar rows only, split over two files, one row 50σ off; the
    // lander's group removed.
    let text = std::fs::read_to_string(dir.path().join("fringe.json")).unwrap();
    let mut rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    rows.retain(|r| r["source"] != "CE7LANDER");
    let bad = 37;
    let sigma = rows[bad]["mbd_sigma_s"].as_f64().unwrap();
    rows[bad]["total_delay_s"] =
        Value::from(rows[bad]["total_delay_s"].as_f64().unwrap() + 50.0 * sigma);
    let (a, b) = rows.split_at(100);
    let (fa, fb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&fa, serde_json::to_string(a).unwrap()).unwrap();
    std::fs::write(&fb, serde_json::to_string(b).unwrap()).unwrap();
    let out = emcorr()
        .arg("solve")
        .args([&fa, &fb])
        .arg("--job")
        .arg(dir.path().join("job.toml"))
        .args(["--format", "json", "--estimate", "-lander"])
        .output()
        .unwrap();
    let sol: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(sol["n_observations"].as_u64().unwrap() as usize, rows.len());
    assert!(!sol["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"].as_str().unwrap().starts_with("CE7LANDER")));
    let flagged: Vec<usize> = sol["observations"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, o)| o["flagged"] == true)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(flagged, [bad]);
    for (name, z, _) in normalised(&sol, &truth) {
        assert!(z.abs() < 3.0, "{name}: {z} σ");
    }
}
