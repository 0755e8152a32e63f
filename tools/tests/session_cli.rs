//! Sessions through `emcorr correlate`: a schedule of scans over one set of
//! recordings. The truth here is independent of the session code: each
//! scan's rows must equal, bit for bit, those of an ordinary one-scan job on
//! the same data (the integration grid and model are the same); every scan
//! of the schedule is accounted for; resume gives the uninterrupted bytes.

mod cli_util;

use cli_util::{correlate, emcorr, ok, rows, Rows};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

/// The default Earth–Moon simulation, 7 s, as files (made once).
fn simulation() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        ok(&emcorr()
            .args(["simulate", "--seconds", "7", "--out"])
            .arg(d.path())
            .stdout(Stdio::null())
            .output()
            .unwrap());
        d
    })
    .path()
}

/// The simulation's job with `[source]` turned into `[[source]]` and the
/// given scan tables; written to `dir/name`.
fn session_job(dir: &Path, name: &str, scans: &str) -> PathBuf {
    let base = std::fs::read_to_string(simulation().join("job.toml")).unwrap();
    let mut text = base.replace("[source]", "[[source]]");
    // Recordings stay where the simulation wrote them.
    for st in ["T6", "KM", "UR", "LS"] {
        text = text.replace(
            &format!("file = \"{st}.vdif\""),
            &format!(
                "file = \"{}\"",
                simulation().join(format!("{st}.vdif")).display()
            ),
        );
    }
    text.push_str(scans);
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The simulation's own job over [start, start + duration_s] only.
fn one_scan_job(dir: &Path, name: &str, start: &str, duration_s: f64) -> PathBuf {
    let base = std::fs::read_to_string(simulation().join("job.toml")).unwrap();
    let t: toml::Table = base.parse().unwrap();
    let mut text = base
        .replace(
            &format!("start = \"{}\"", t["job"]["start"].as_str().unwrap()),
            &format!("start = \"{start}\""),
        )
        .replace(
            &format!(
                "duration_s = {:?}",
                t["job"]["duration_s"].as_float().unwrap()
            ),
            &format!("duration_s = {duration_s:?}"),
        );
    for st in ["T6", "KM", "UR", "LS"] {
        text = text.replace(
            &format!("file = \"{st}.vdif\""),
            &format!(
                "file = \"{}\"",
                simulation().join(format!("{st}.vdif")).display()
            ),
        );
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const SCANS: &str = r#"
[[scan]]
name = "S1"
start = "2026-03-15T00:30:00.5Z"
duration_s = 2.0
sources = ["PKS1921-293"]

[[scan]]
name = "S2"
start = "2026-03-15T00:30:04Z"
duration_s = 2.0
sources = ["PKS1921-293"]
stations = ["T6", "KM", "LS"]

[[scan]]
name = "S3"
start = "2026-03-15T00:31:00Z"
duration_s = 10.0
sources = ["PKS1921-293"]
"#;

#[test]
fn each_scan_equals_a_one_scan_job_bit_for_bit_and_every_scan_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let job = session_job(dir.path(), "session.toml", SCANS);
    let out = dir.path().join("session.fits");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&correlate(&job, &out, &["--json"]))).unwrap();
    let session = rows(&out);

    // S1 and S2 against one-scan jobs. S2's job has all four stations: its
    // baselines without UR must be the session's, and UR must be absent
    // from the session's S2.
    let s1 = one_scan_job(dir.path(), "s1.toml", "2026-03-15T00:30:00.5Z", 2.0);
    let s2 = one_scan_job(dir.path(), "s2.toml", "2026-03-15T00:30:04Z", 2.0);
    let mut expect: Rows = Vec::new();
    for (j, f) in [(&s1, "s1.fits"), (&s2, "s2.fits")] {
        let o = dir.path().join(f);
        ok(&correlate(j, &o, &[]));
        let ur = 3u32; // ANTENNA_NO of UR in both files
        let scan2 = f == "s2.fits";
        expect.extend(
            rows(&o)
                .into_iter()
                .filter(|r| !(scan2 && (r.0 .0 == ur || r.0 .1 == ur))),
        );
    }
    assert_eq!(session.len(), expect.len());
    for (k, (a, b)) in session.iter().zip(&expect).enumerate() {
        assert!(a == b, "row {k} (baseline {:?}) differs", a.0);
    }

    // The summary lists every scan in schedule order, S3 skipped and why.
    let scans = json["scans"].as_array().unwrap();
    let names: Vec<&str> = scans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["S1", "S2", "S3"]);
    assert_eq!(scans[0]["status"], "correlated");
    assert_eq!(scans[0]["integrations"], 2);
    assert_eq!(scans[1]["stations"], serde_json::json!(["T6", "KM", "LS"]));
    assert_eq!(
        scans[1]["correlated_stations"],
        serde_json::json!(["T6", "KM", "LS"])
    );
    assert_eq!(scans[2]["status"], "skipped");
    assert!(
        scans[2]["why"]
            .as_str()
            .unwrap()
            .contains("no station has data"),
        "{}",
        scans[2]["why"]
    );
    // stop = start + the largest data_stop.
    assert_eq!(scans[2]["stop"], "2026-03-15T00:31:10.000000000Z");
    assert!(scans[0]["weights"]["T6-LS"].as_f64().unwrap() > 0.99);
}

#[test]
fn dry_run_plans_every_scan_without_correlating() {
    let dir = tempfile::tempdir().unwrap();
    let job = session_job(dir.path(), "session.toml", SCANS);
    let out = dir.path().join("never.fits");
    let text = ok(&correlate(&job, &out, &["--dry-run", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(!out.exists());
    let scans = v["scans"].as_array().unwrap();
    assert_eq!(scans.len(), 3);
    assert_eq!(scans[0]["status"], "correlate");
    assert_eq!(scans[2]["status"], "skipped");
    // The recordings found per station and their bytes.
    let files = scans[1]["files"].as_object().unwrap();
    let mut keys: Vec<&String> = files.keys().collect();
    keys.sort();
    assert_eq!(keys, ["KM", "LS", "T6"]);
    let t6 = std::fs::metadata(simulation().join("T6.vdif"))
        .unwrap()
        .len();
    assert!(
        scans[1]["bytes"].as_u64().unwrap() >= 3 * t6 / 2,
        "{}",
        scans[1]["bytes"]
    );
    assert!(scans[0]["cpu_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_vex_job_with_only_name_and_vex_is_a_valid_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let vex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vex/em2603.vex");
    std::fs::copy(&vex, dir.path().join("em2603.vex")).unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(&job, "[job]\nname = \"em2603\"\nvex = \"em2603.vex\"\n").unwrap();
    let out = emcorr()
        .args(["correlate", "--dry-run", "--json"])
        .arg(&job)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let scans = v["scans"].as_array().unwrap();
    let names: Vec<&str> = scans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["No0001", "No0002", "No0003", "No0004"]);
    // As the VEX says: the two-source scan, the scan without UR, the
    // largest data_stop.
    assert_eq!(
        scans[1]["sources"],
        serde_json::json!(["CE7LANDER", "PKS1921-293"])
    );
    assert_eq!(scans[2]["stations"], serde_json::json!(["T6", "KM", "LS"]));
    assert_eq!(scans[0]["stop"], "2026-03-02T12:02:00.000000000Z");
    assert_eq!(scans[1]["mode"], "X4x16");
    for s in scans {
        assert_eq!(s["status"], "skipped");
    }

    // Correlating it needs what a dry run does not: exit 2 naming the key.
    let out = emcorr().arg("correlate").arg(&job).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key `model`"), "{err}");
}

#[test]
fn an_interrupted_session_resumes_to_the_same_bytes() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let job = session_job(dir.path(), "session.toml", SCANS);
    let whole = dir.path().join("whole.fits");
    ok(&correlate(&job, &whole, &[]));

    // Held after 3 integrations: S1 (2 integrations) is done, S2 has begun.
    let out = dir.path().join("cut.fits");
    let hold = dir.path().join("hold");
    std::fs::write(&hold, b"").unwrap();
    let mut child = emcorr()
        .arg("correlate")
        .arg(&job)
        .arg("--output")
        .arg(&out)
        .args(["--threads", "2"])
        .env("EMCORR_TEST_PAUSE_AFTER", "3")
        .env("EMCORR_TEST_PAUSE_FILE", &hold)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("test pause after") {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "ended before the pause"
        );
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("after 3 integration(s)"), "{rest}");
    assert!(!out.exists());

    let resumed = correlate(&job, &out, &["--resume"]);
    ok(&resumed);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(err.contains("resumed after 3 integration(s)"), "{err}");
    // Compared as bytes (not printed: megabytes).
    let (a, b) = (std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
    assert!(a == b, "resumed output differs from the uninterrupted one");
}
