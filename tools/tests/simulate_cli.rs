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
