//! A simulated Earth–Moon session end to end, against the simulator's truth:
//! testdata/scenarios/session.toml (T6, KM, UR and the lunar LS; scans on
//! PKS 1921−293, the lander CE7LANDER with an injected position offset, a
//! same-beam scan holding both, and NRAO 530 without LS), written as one
//! file per scan and station and as a VEX schedule (`--vex`).
//!
//! - `emcorr correlate` + `emcorr fringe`: every scan × source × baseline
//!   recovers truth.json's residual delay and rate within 3σ;
//! - `--differential CE7LANDER,PKS1921-293` on the same-beam scan recovers
//!   the truth's difference (the lander's offset; the clocks cancel);
//! - the VEX-driven job correlates to the same rows, bit for bit;
//! - the cross-talk: a quasar phase centre on a scan that holds only the
//!   lander's signal finds nothing above the noise.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use formats::fitsidi::IdiReader;
use formats::UtcTime;

fn emcorr() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("emcorr"))
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The simulated session, correlated from job.toml (made once).
struct Sim {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    truth: serde_json::Value,
    fits: PathBuf,
}

fn sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_path_buf();
        let scenario =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/session.toml");
        ok(&emcorr()
            .arg("simulate")
            .arg(&scenario)
            .arg("--out")
            .arg(&dir)
            .arg("--vex")
            .stdout(Stdio::null())
            .output()
            .unwrap());
        // The recordings listed in shuffled (reversed) order: files are
        // matched to scans by their VDIF times.
        let job = dir.join("job.toml");
        let mut t: toml::Table = std::fs::read_to_string(&job).unwrap().parse().unwrap();
        for st in t["station"].as_array_mut().unwrap() {
            let files = st["files"].as_array_mut().unwrap();
            files.reverse();
        }
        std::fs::write(&job, toml::to_string(&t).unwrap()).unwrap();
        let fits = dir.join("session.fits");
        ok(&emcorr()
            .arg("correlate")
            .arg(dir.join("job.toml"))
            .arg("--output")
            .arg(&fits)
            .arg("--quiet")
            .output()
            .unwrap());
        let truth = serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap())
            .unwrap();
        Sim {
            _dir: d,
            dir,
            truth,
            fits,
        }
    })
}

fn fringe(fits: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let out = ok(&emcorr()
        .arg("fringe")
        .arg(fits)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .cloned()
        .or_else(|| v["rows"].as_array().cloned())
        .unwrap_or_default()
}

fn time(v: &serde_json::Value) -> UtcTime {
    UtcTime::parse_iso8601(v.as_str().unwrap()).unwrap()
}

/// truth.json's residual of `scan`/`source`/`baseline`, carried from the
/// scan centre to `epoch`: (delay s, rate s/s).
fn truth_at(scan: &str, source: &str, baseline: &str, epoch: UtcTime) -> (f64, f64) {
    let t = &sim().truth;
    let sc = t["scans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == scan)
        .unwrap_or_else(|| panic!("truth has no scan {scan}"));
    let b = &sc["residuals"][source]["baselines"][baseline];
    let d = b["residual_delay_s"].as_f64().unwrap();
    let r = b["residual_rate"].as_f64().unwrap();
    (d + r * epoch.seconds_since(time(&sc["centre"])), r)
}

#[test]
fn every_scan_source_and_baseline_recovers_its_truth() {
    let rows = fringe(&sim().fits, &[]);
    // 6 + 6 + 12 (same beam: both sources) + 3 (no LS).
    assert_eq!(rows.len(), 27, "{rows:#?}");
    let mut zs: Vec<f64> = Vec::new();
    let mut lines = Vec::new();
    for r in &rows {
        let (scan, src, bl) = (
            r["scan_name"].as_str().unwrap(),
            r["source"].as_str().unwrap(),
            r["baseline"].as_str().unwrap(),
        );
        let (d, rate) = truth_at(scan, src, bl, time(&r["geocentre_epoch_utc"]));
        let zd = (r["mbd_s"].as_f64().unwrap() - d) / r["mbd_sigma_s"].as_f64().unwrap();
        let zr = (r["rate_s_per_s"].as_f64().unwrap() - rate) / r["rate_sigma"].as_f64().unwrap();
        assert!(
            r["detected"].as_bool().unwrap(),
            "{scan} {src} {bl} not detected"
        );
        lines.push(format!(
            "{scan} {src:12} {bl}: delay {:+.4} ns vs {:+.4} ns ({zd:+.2}σ), rate {zr:+.2}σ",
            r["mbd_s"].as_f64().unwrap() * 1e9,
            d * 1e9
        ));
        zs.push(zd);
        zs.push(zr);
    }
    eprintln!("{}", lines.join("\n"));
    // 54 normalised errors: with calibrated formal errors their rms is ~1,
    // and the largest of 54 draws of N(0, 1) exceeds 3 in 14 % of
    // sessions but 4 in only 0.3 %. A bias or a wrong σ fails either bound;
    // the rms of 54 has a standard error of 1/√108 ≈ 0.1, so 0.7–1.3 is 3 of
    // them either side.
    //
    // The rates of the baselines to LS used to be over-dispersed (rms z
    // 1.51 terms on, 1.41 off over seeds 2027 and 2–7; the lander's biased
    // by −0.3σ to −1.6σ; seed 2027 failed at a 4.46σ T6-LS rate, seed 5 at
    // −4.14σ KM-LS): the simulator's a priori (one span over the session)
    // and the correlator's (each scan ±10 s) differed at LS by −4.2e-14 s/s,
    // because the model's node values jittered by ~0.1 ps (barycentric
    // coordinates rounded to ~3e-5 m). With positions from the geocentre
    // at the epoch (correlator::model::ephemeris::GeoOrigin) the jitter is
    // ~4e-16 s, and over the same seeds with the terms on every one passes:
    // LS rates rms z 1.13 (84), Earth rates 0.87 (105), delays 0.92 (189),
    // the lander's LS rates −0.20σ on average (42), largest |z| 2.98.
    let rms = (zs.iter().map(|z| z * z).sum::<f64>() / zs.len() as f64).sqrt();
    let worst = zs.iter().fold(0.0f64, |m, z| m.max(z.abs()));
    let within3 = zs.iter().filter(|z| z.abs() < 3.0).count();
    eprintln!(
        "rms z {rms:.2}, largest {worst:.2}, {within3} of {} within 3σ",
        zs.len()
    );
    assert!(
        (0.7..1.3).contains(&rms) && worst < 4.0,
        "rms {rms}, worst {worst}:\n{}",
        lines.join("\n")
    );
}

#[test]
fn the_same_beam_differential_recovers_the_lander_offset() {
    let rows = fringe(&sim().fits, &["--differential", "CE7LANDER,PKS1921-293"]);
    let same_beam: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["scan_name"] == "No0003").collect();
    assert_eq!(same_beam.len(), 6, "{rows:#?}");
    for r in same_beam {
        let bl = r["baseline"].as_str().unwrap();
        let epoch = time(&r["geocentre_epoch_utc"]);
        let a = truth_at("No0003", "CE7LANDER", bl, epoch);
        let b = truth_at("No0003", "PKS1921-293", bl, epoch);
        let diff = a.0 - b.0;
        let z =
            (r["mbd_diff_s"].as_f64().unwrap() - diff) / r["mbd_diff_sigma_s"].as_f64().unwrap();
        eprintln!(
            "No0003 {bl}: lander − quasar {:+.4} ns vs truth {:+.4} ns ({z:+.2}σ)",
            r["mbd_diff_s"].as_f64().unwrap() * 1e9,
            diff * 1e9
        );
        assert!(z.abs() < 3.0, "{bl}: {z}σ");
    }
}

#[test]
fn the_vex_driven_job_correlates_to_the_same_rows() {
    let s = sim();
    let fits = s.dir.join("vex.fits");
    ok(&emcorr()
        .arg("correlate")
        .arg(s.dir.join("job_vex.toml"))
        .arg("--output")
        .arg(&fits)
        .arg("--quiet")
        .output()
        .unwrap());
    let rows = |p: &Path| {
        let mut r = IdiReader::open(p).unwrap();
        (0..r.n_rows())
            .map(|i| {
                let row = r.read_row(i).unwrap();
                (
                    row.time.sec(),
                    row.time.frac().to_bits(),
                    row.baseline,
                    row.source_id,
                    row.vis
                        .iter()
                        .map(|c| c.map(f32::to_bits))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (rows(&s.fits), rows(&fits));
    assert_eq!(a.len(), b.len());
    assert!(a == b, "the VEX-driven session's rows differ");
}

#[test]
fn a_quasar_centre_on_a_lander_only_scan_finds_nothing() {
    // The cross-talk: scan No0002 holds only the lander's signal; correlate
    // it also at PKS 1921−293 (ms of delay and kHz of fringe rate away on
    // the lunar baselines) and fit both.
    let s = sim();
    let job = s.dir.join("crosstalk.toml");
    let mut t: toml::Table = std::fs::read_to_string(s.dir.join("job.toml"))
        .unwrap()
        .parse()
        .unwrap();
    for sc in t["scan"].as_array_mut().unwrap() {
        if sc["name"].as_str() == Some("No0002") {
            sc.as_table_mut().unwrap().insert(
                "sources".into(),
                toml::Value::Array(vec!["CE7LANDER".into(), "PKS1921-293".into()]),
            );
        }
    }
    t["job"]
        .as_table_mut()
        .unwrap()
        .insert("scans".into(), toml::Value::Array(vec!["No0002".into()]));
    std::fs::write(&job, toml::to_string(&t).unwrap()).unwrap();
    let fits = s.dir.join("crosstalk.fits");
    ok(&emcorr()
        .arg("correlate")
        .arg(&job)
        .arg("--output")
        .arg(&fits)
        .arg("--quiet")
        .output()
        .unwrap());
    let rows = fringe(&fits, &[]);
    let amp = |src: &str, bl: &str| -> (f64, f64, bool) {
        let r = rows
            .iter()
            .find(|r| r["source"] == src && r["baseline"] == bl)
            .unwrap();
        (
            r["amplitude"].as_f64().unwrap(),
            r["snr"].as_f64().unwrap(),
            r["detected"].as_bool().unwrap(),
        )
    };
    for bl in ["T6-LS", "KM-LS", "UR-LS"] {
        let (a_l, snr_l, det_l) = amp("CE7LANDER", bl);
        let (a_q, snr_q, det_q) = amp("PKS1921-293", bl);
        eprintln!(
            "No0002 {bl}: lander amplitude {a_l:.4} (SNR {snr_l:.0}); in the quasar's centre {a_q:.5} (SNR {snr_q:.1}, {:.2} % of the lander's)",
            100.0 * a_q / a_l
        );
        assert!(det_l && snr_l > 100.0, "{bl}: lander not found");
        assert!(
            !det_q,
            "{bl}: the quasar centre shows a fringe from the lander"
        );
    }
}
