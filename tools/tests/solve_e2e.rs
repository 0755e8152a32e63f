//! correlate → fringe → solve on a short baseband session
//! (testdata/scenarios/session.toml): the solved clock offsets are the
//! injected ones of truth.json within 3σ.

mod cli_util;

use cli_util::{emcorr, ok};
use serde_json::Value;
use std::path::Path;

#[test]
fn baseband_session_through_correlate_fringe_solve_gives_the_injected_clocks() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/session.toml");
    ok(&emcorr()
        .arg("simulate")
        .arg(&scenario)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap());
    let fits = dir.join("session.fits");
    ok(&emcorr()
        .arg("correlate")
        .arg(dir.join("job.toml"))
        .arg("--output")
        .arg(&fits)
        .arg("--quiet")
        .output()
        .unwrap());
    let fringe = ok(&emcorr()
        .arg("fringe")
        .arg(&fits)
        .args(["--format", "json"])
        .output()
        .unwrap());
    // The quasar rows: the lander's true position is off its a priori
    // (inject_offset_m), which this solve does not estimate.
    let mut rows: Vec<Value> = serde_json::from_str(&fringe).unwrap();
    rows.retain(|r| r["source"] != "CE7LANDER");
    let file = dir.join("quasars.json");
    std::fs::write(&file, serde_json::to_string(&rows).unwrap()).unwrap();
    let out = emcorr()
        .arg("solve")
        .arg(&file)
        .arg("--job")
        .arg(dir.join("job.toml"))
        .args(["--format", "json", "--estimate", "-moon_position,-lander"])
        .output()
        .unwrap();
    let sol: Value = serde_json::from_str(&ok(&out)).unwrap();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    assert_eq!(sol["clock_epoch_utc"], truth["reference_epoch"]);
    let t6 = truth["stations"]["T6"]["clock_offset_s"].as_f64().unwrap();
    for st in ["KM", "UR", "LS"] {
        let p = sol["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == format!("{st}:clock_offset_s"))
            .unwrap_or_else(|| panic!("{st}: no clock offset in {sol}"));
        let want = truth["stations"][st]["clock_offset_s"].as_f64().unwrap() - t6;
        let (est, sigma) = (
            p["estimate"].as_f64().unwrap(),
            p["sigma"].as_f64().unwrap(),
        );
        eprintln!("{st}: clock offset {est:e} ± {sigma:e} s, truth {want:e}");
        assert!(
            (est - want).abs() < 3.0 * sigma,
            "{st}: {est} vs {want} (σ {sigma})"
        );
    }
}
