//! `emcorr simulate` end to end: the default and the shipped scenarios run
//! and write what they promise; bad input exits 2 naming the file and key.

use assert_cmd::Command;
use std::path::PathBuf;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/scenarios")
        .join(name)
}

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

#[test]
fn default_and_shipped_scenarios_run() {
    let runs: Vec<(Option<&str>, Vec<&str>)> = vec![
        (None, vec!["T6", "KM", "UR", "LS"]),
        (Some("complex.toml"), vec!["A", "B", "LS"]),
        (Some("threads4_1bit.toml"), vec!["A", "LS"]),
        (Some("faults.toml"), vec!["A", "B"]),
        (Some("dual_pol.toml"), vec!["A", "LS"]),
    ];
    for (file, stations) in runs {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = emcorr();
        cmd.arg("simulate");
        if let Some(f) = file {
            cmd.arg(scenario(f));
        }
        cmd.arg("--out")
            .arg(dir.path())
            .args(["--seconds", "0.1", "--seed", "3"]);
        cmd.assert().success();
        for s in &stations {
            let p = dir.path().join(format!("{s}.vdif"));
            assert!(std::fs::metadata(&p).unwrap().len() > 0, "{file:?}: {s}");
        }
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
                .unwrap();
        assert_eq!(truth["seed"], 3);
        assert_eq!(truth["stations"].as_object().unwrap().len(), stations.len());
        let pairs = stations.len() * (stations.len() - 1) / 2;
        assert_eq!(truth["baselines"].as_object().unwrap().len(), pairs);
        // job.toml is a valid job, runnable from anywhere.
        let job = std::fs::read_to_string(dir.path().join("job.toml")).unwrap();
        assert!(
            !job.contains("inject_"),
            "{file:?}: injected errors leaked into job.toml"
        );
        // `emcorr model` accepts it (the model the correlator will use).
        emcorr()
            .current_dir("/")
            .args(["model"])
            .arg(dir.path().join("job.toml"))
            .assert()
            .success();
    }
}

#[test]
fn bad_scenarios_exit_2_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let expect_bad = |bad_text: &str, key: &str| {
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, bad_text).unwrap();
        let out = emcorr()
            .args(["simulate"])
            .arg(&bad)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let msg = String::from_utf8(out).unwrap();
        assert!(
            msg.contains("bad.toml") && msg.contains(key),
            "{key}: {msg}"
        );
        assert_eq!(msg.trim_end().lines().count(), 1, "{msg}");
    };
    let text = std::fs::read_to_string(scenario("complex.toml")).unwrap();
    for (from, to, key) in [
        ("bits = 2", "bits = 3", "simulation.bits"),
        (
            "correlated_fraction = 0.5",
            "correlated_fraction = 1.5",
            "correlated_fraction",
        ),
        ("seed = 11", "seed = 11\ncolour = 1", "simulation"),
        (
            "inject_clock_rate = 2e-11",
            "inject_clock_rate = \"fast\"",
            "inject_clock_rate",
        ),
    ] {
        expect_bad(&text.replacen(from, to, 1), key);
    }
    // A job may omit its frequency setup (`emcorr model` needs none); a
    // scenario may not.
    expect_bad(&text[..text.find("[[subband]]").unwrap()], "key `subband`");
    emcorr()
        .args(["simulate", "--out"])
        .arg(dir.path().join("o"))
        .args(["--seconds", "-1"])
        .assert()
        .code(2);
}

/// A session: one file per scan and station (the station absent from a
/// scan has none), job.toml in the session form, truth.json per scan.
#[test]
fn a_session_scenario_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = emcorr()
        .arg("simulate")
        .arg(scenario("session.toml"))
        .arg("--out")
        .arg(dir.path())
        .args(["--seconds", "0.05", "--seed", "5"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out).unwrap();
    let scans = ["No0001", "No0002", "No0003", "No0004"];
    for scan in scans {
        for st in ["T6", "KM", "UR", "LS"] {
            let p = dir.path().join(format!("{st}_{scan}.vdif"));
            // LS sits out No0004.
            let want = !(st == "LS" && scan == "No0004");
            assert_eq!(p.exists(), want, "{}", p.display());
            assert_eq!(stdout.contains(&format!("{st}_{scan}.vdif")), want);
        }
    }
    let job = std::fs::read_to_string(dir.path().join("job.toml")).unwrap();
    assert!(!job.contains("inject_") && !job.contains("correlated_fraction"));
    assert!(job.contains(r#"files = ["LS_No0001.vdif", "LS_No0002.vdif", "LS_No0003.vdif"]"#));
    assert_eq!(job.matches("[[scan]]").count(), 4);
    assert_eq!(job.matches("duration_s = 0.05").count(), 4);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    assert_eq!(truth["seed"], 5);
    assert_eq!(truth["scans"].as_array().unwrap().len(), 4);
    assert_eq!(truth["baselines"].as_object().unwrap().len(), 6);
    let no3 = &truth["scans"][2]["residuals"];
    assert_eq!(no3.as_object().unwrap().len(), 2, "same-beam: two sources");
    assert_eq!(no3["CE7LANDER"]["baselines"].as_object().unwrap().len(), 6);
    assert_eq!(
        truth["scans"][3]["residuals"]["NRAO530"]["baselines"]
            .as_object()
            .unwrap()
            .len(),
        3
    );
    // Same seed, same bytes; another seed, other bytes.
    let again = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    for (d, seed) in [(&again, "5"), (&other, "6")] {
        emcorr()
            .arg("simulate")
            .arg(scenario("session.toml"))
            .arg("--out")
            .arg(d.path())
            .args(["--seconds", "0.05", "--seed", seed])
            .assert()
            .success();
    }
    for scan in scans {
        let f = format!("KM_{scan}.vdif");
        let bytes = std::fs::read(dir.path().join(&f)).unwrap();
        assert!(
            bytes == std::fs::read(again.path().join(&f)).unwrap(),
            "{f}"
        );
        assert!(
            bytes != std::fs::read(other.path().join(&f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn bad_sessions_exit_2_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = |text: &str, extra: &[&str]| {
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text).unwrap();
        let out = emcorr()
            .args(["simulate"])
            .arg(&bad)
            .arg("--out")
            .arg(dir.path().join("out"))
            .args(extra)
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let msg = String::from_utf8(out).unwrap();
        assert_eq!(msg.trim_end().lines().count(), 1, "{msg}");
        assert!(msg.contains("bad.toml"), "{msg}");
        msg
    };
    let text = std::fs::read_to_string(scenario("session.toml")).unwrap();
    // The kernels are found relative to the scenario: keep the paths valid.
    let text = text.replace("\"../", &format!("\"{}/../", scenario("").display()));
    for (from, to, key) in [
        (
            "correlated_fraction = 0.1\n",
            "correlated_fraction = 1.5\n",
            "source[2].correlated_fraction",
        ),
        (
            "correlated_fraction = 0.02\n",
            "correlated_fraction = 0.02\ninject_offset_m = [1.0, 0.0, 0.0]\n",
            "source[1].inject_offset_m",
        ),
        (
            "inject_offset_m = [2.0, 5.0, -1.0]",
            "inject_offset_m = [2.0, 5.0]",
            "source[2].inject_offset_m",
        ),
        (
            "{ CE7LANDER = 0.3 }",
            "{ CE7LANDER = 0.99 }",
            "scan[2] (No0003).sources",
        ),
        (
            "{ CE7LANDER = 0.3 }",
            "{ CE8LANDER = 0.3 }",
            "station[3].correlated_fraction_by_source.CE8LANDER",
        ),
        (
            "name = \"earth-moon-session\"",
            "name = \"earth-moon-session\"\nstart = \"2026-03-15T00:30:00Z\"",
            "job.start",
        ),
        ("name = \"No0002\"", "name = \"No/0002\"", "scan[1].name"),
    ] {
        assert!(text.contains(from), "{from}");
        let msg = run(&text.replacen(from, to, 1), &[]);
        assert!(msg.contains(&format!("key `{key}`")), "{key}: {msg}");
    }
    // Scans so close that a station's recordings would overlap.
    let close = text.replacen("00:30:10Z", "00:30:02.001Z", 1);
    let msg = run(&close, &[]);
    assert!(msg.contains("No0001 and No0002 are too close"), "{msg}");
    // Sessions are written as files.
    let msg = run(&text, &["--fifo"]);
    assert!(msg.contains("sessions are written as files"), "{msg}");
}
