//! What the end-to-end tests share: running `emcorr`, insisting on success,
//! simulating a scenario of testdata/scenarios and correlating it, reading
//! `emcorr fringe --format json` rows.

#![allow(dead_code)]

use formats::fitsidi::IdiReader;
use std::path::Path;
use std::process::{Command, Output};

pub fn emcorr() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("emcorr"))
}

/// The command's stdout; its stderr in the panic message if it failed.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A phase in (−π, π].
pub fn wrap(p: f64) -> f64 {
    let t = std::f64::consts::TAU;
    p - t * (p / t).round()
}

/// `emcorr simulate testdata/scenarios/SCENARIO --out DIR`, then
/// `emcorr correlate DIR/job.toml --quiet`; returns truth.json.
pub fn simulate_and_correlate(scenario: &str, dir: &Path) -> serde_json::Value {
    let sc = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/scenarios")
        .join(scenario);
    ok(&emcorr()
        .arg("simulate")
        .arg(&sc)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap());
    ok(&emcorr()
        .arg("correlate")
        .arg(dir.join("job.toml"))
        .arg("--quiet")
        .output()
        .unwrap());
    serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap()
}

/// `emcorr fringe FITS EXTRA… --format json`: its rows (a list, or an
/// object's `rows`).
pub fn fringe_rows(fits: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let out = ok(&emcorr()
        .arg("fringe")
        .arg(fits)
        .args(extra)
        .args(["--format", "json"])
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .cloned()
        .unwrap_or_else(|| v["rows"].as_array().cloned().unwrap_or_default())
}

/// `emcorr correlate JOB --output OUT --threads 2 EXTRA…` (not checked).
pub fn correlate(job: &Path, out: &Path, extra: &[&str]) -> Output {
    emcorr()
        .arg("correlate")
        .arg(job)
        .arg("--output")
        .arg(out)
        .args(["--threads", "2"])
        .args(extra)
        .output()
        .unwrap()
}

/// UV_DATA rows as bits: (baseline, whole seconds, fraction, SOURCE_ID,
/// visibilities, UVW), for bit-for-bit comparisons of files.
pub type Rows = Vec<((u32, u32), i64, u64, u32, Vec<[u32; 3]>, [u64; 3])>;

pub fn rows(path: &Path) -> Rows {
    let mut r = IdiReader::open(path).unwrap();
    (0..r.n_rows())
        .map(|i| {
            let row = r.read_row(i).unwrap();
            (
                row.baseline,
                row.time.sec(),
                row.time.frac().to_bits(),
                row.source_id,
                row.vis.iter().map(|c| c.map(f32::to_bits)).collect(),
                row.uvw_s.map(f64::to_bits),
            )
        })
        .collect()
}
