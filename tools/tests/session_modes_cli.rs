//! A session whose scans use two `$MODE`s through `emcorr correlate`: one
//! FITS-IDI file per mode (`<output>_<MODE>.fits`), each with its own
//! frequency setup. The truth is independent of the mode splitting: each
//! file must hold, bit for bit, what the same scans give as a one-mode
//! session (`[job] scans` picking that mode's scans); the plan and summary
//! say which file each scan goes to; an interrupted run resumes across the
//! mode boundary to the uninterrupted bytes.
//!
//! The schedule: `emcorr simulate testdata/scenarios/session.toml --vex`
//! (four scans, mode SIM with two channels), with a second mode SIM2 added
//! in which every station records only the second channel, used by scans
//! No0002 and No0004 — a real change of frequency setup the recordings
//! still hold.

mod cli_util;

use cli_util::{correlate, emcorr, ok, rows};
use formats::fitsidi::IdiReader;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

/// The simulated session with the two-mode VEX beside it (made once):
/// its directory and the job text (`job_vex.toml` naming `two.vex`).
fn sim() -> &'static (tempfile::TempDir, String) {
    static SIM: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    SIM.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let scenario =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/session.toml");
        ok(&emcorr()
            .arg("simulate")
            .arg(&scenario)
            .arg("--out")
            .arg(d.path())
            .arg("--vex")
            .stdout(Stdio::null())
            .output()
            .unwrap());
        let job = std::fs::read_to_string(d.path().join("job_vex.toml")).unwrap();
        let t: toml::Table = job.parse().unwrap();
        let vex_name = t["job"]["vex"].as_str().unwrap().to_string();
        let mut v = formats::vex::read_vex(&d.path().join(&vex_name)).unwrap();
        assert_eq!(v.modes.len(), 1);
        let mut second = v.modes[0].clone();
        second.name = "SIM2".into();
        for setup in &mut second.setups {
            assert!(
                setup.channels.len() >= 2,
                "the scenario records two channels"
            );
            setup.channels.remove(0);
        }
        v.modes.push(second);
        for sc in &mut v.scans {
            if sc.name == "No0002" || sc.name == "No0004" {
                sc.mode = "SIM2".into();
            }
        }
        v.file = "two.vex".into();
        std::fs::write(d.path().join("two.vex"), formats::vex::write_vex2(&v)).unwrap();
        let job = job.replace(&format!("\"{vex_name}\""), "\"two.vex\"");
        assert!(job.contains("two.vex"));
        (d, job)
    })
}

/// The two-mode job, with `extra` lines in `[job]`, as `dir/name`.
fn job(name: &str, extra: &str) -> PathBuf {
    let (d, text) = sim();
    let text = text.replacen("[job]\n", &format!("[job]\n{extra}\n"), 1);
    let p = d.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn bands(path: &Path) -> Vec<u64> {
    let r = IdiReader::open(path).unwrap();
    r.header()
        .bands
        .iter()
        .map(|b| b.freq_offset_hz.to_bits())
        .collect()
}

#[test]
fn each_mode_is_a_file_equal_to_its_one_mode_session_and_every_scan_says_where() {
    let (d, _) = sim();
    let dir = tempfile::tempdir().unwrap();
    let two = job("two.toml", "");
    let out = dir.path().join("em.fits");
    let (a, b) = (
        dir.path().join("em_SIM.fits"),
        dir.path().join("em_SIM2.fits"),
    );

    // The plan: every scan, each with the file it goes to.
    let plan: serde_json::Value =
        serde_json::from_str(&ok(&correlate(&two, &out, &["--dry-run", "--json"]))).unwrap();
    assert!(!a.exists() && !b.exists());
    let where_to = |v: &serde_json::Value| -> Vec<(String, String, String)> {
        v["scans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["mode"].as_str().unwrap().to_string(),
                    s["output"].as_str().unwrap_or("-").to_string(),
                )
            })
            .collect()
    };
    let (sa, sb) = (a.display().to_string(), b.display().to_string());
    let want = vec![
        ("No0001".to_string(), "SIM".to_string(), sa.clone()),
        ("No0002".into(), "SIM2".into(), sb.clone()),
        ("No0003".into(), "SIM".into(), sa.clone()),
        ("No0004".into(), "SIM2".into(), sb.clone()),
    ];
    assert_eq!(where_to(&plan), want);
    assert_eq!(
        plan["outputs"],
        serde_json::json!([
            {"file": sa, "mode": "SIM", "scans": ["No0001", "No0003"]},
            {"file": sb, "mode": "SIM2", "scans": ["No0002", "No0004"]},
        ])
    );
    assert_eq!(plan["output"], out.display().to_string());
    assert_eq!(plan["scans_correlated"], 4);

    // The run: both files, the summary as the plan.
    let summary: serde_json::Value =
        serde_json::from_str(&ok(&correlate(&two, &out, &["--json"]))).unwrap();
    assert!(
        !out.exists(),
        "a session with two modes writes no single file"
    );
    assert_eq!(where_to(&summary), want);
    for s in summary["scans"].as_array().unwrap() {
        assert_eq!(s["status"], "correlated", "{s}");
    }
    assert_eq!(summary["outputs"], plan["outputs"]);
    // Their own frequency setups: two bands, and one.
    assert_eq!(bands(&a).len(), 2);
    assert_eq!(bands(&b).len(), 1);

    // Against one-mode sessions of the same scans (one mode selected: one
    // file under the name given, as before this change).
    for (name, scans, file) in [
        ("a.toml", r#"scans = ["No0001", "No0003"]"#, &a),
        ("b.toml", r#"scans = ["No0002", "No0004"]"#, &b),
    ] {
        let one = job(name, scans);
        let o = dir.path().join(format!("{name}.fits"));
        let v: serde_json::Value =
            serde_json::from_str(&ok(&correlate(&one, &o, &["--json"]))).unwrap();
        assert_eq!(v["outputs"].as_array().unwrap().len(), 1);
        let (x, y) = (rows(file), rows(&o));
        assert!(!x.is_empty());
        assert_eq!(x.len(), y.len(), "{}", file.display());
        assert!(
            x == y,
            "{}: rows differ from the one-mode session",
            file.display()
        );
        assert_eq!(bands(file), bands(&o));
        // The whole file, tables and all.
        assert!(
            std::fs::read(file).unwrap() == std::fs::read(&o).unwrap(),
            "{}: bytes differ from the one-mode session's",
            file.display()
        );
    }
    let _ = d;
}

#[test]
fn an_interrupted_two_mode_session_resumes_across_the_mode_boundary() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let two = job("two_resume.toml", "");
    let whole = dir.path().join("whole.fits");
    ok(&correlate(&two, &whole, &[]));
    let (wa, wb) = (
        std::fs::read(dir.path().join("whole_SIM.fits")).unwrap(),
        std::fs::read(dir.path().join("whole_SIM2.fits")).unwrap(),
    );

    // Mode SIM has 4 integrations (two scans of 2 s): held after 5, the
    // first of mode SIM2.
    let out = dir.path().join("cut.fits");
    let (a, b) = (
        dir.path().join("cut_SIM.fits"),
        dir.path().join("cut_SIM2.fits"),
    );
    let hold = dir.path().join("hold");
    std::fs::write(&hold, b"").unwrap();
    let mut child = emcorr()
        .arg("correlate")
        .arg(&two)
        .arg("--output")
        .arg(&out)
        .args(["--threads", "2"])
        .env("EMCORR_TEST_PAUSE_AFTER", "5")
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
    assert!(rest.contains("after 5 integration(s)"), "{rest}");
    // Mode SIM's file is finished, SIM2's partial; both checkpoints kept.
    assert!(std::fs::read(&a).unwrap() == wa, "mode SIM's finished file");
    assert!(!b.exists());
    let partial = dir.path().join("cut_SIM2.fits.partial");
    assert!(partial.exists(), "{rest}");
    assert!(dir.path().join("cut_SIM.fits.checkpoint").exists());
    assert!(dir.path().join("cut_SIM2.fits.checkpoint").exists());

    let resumed = correlate(&two, &out, &["--resume"]);
    ok(&resumed);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(err.contains("resumed after 5 integration(s)"), "{err}");
    assert!(std::fs::read(&a).unwrap() == wa, "mode SIM after --resume");
    assert!(std::fs::read(&b).unwrap() == wb, "mode SIM2 after --resume");
    assert!(!partial.exists());
    assert!(!dir.path().join("cut_SIM.fits.checkpoint").exists());
    assert!(!dir.path().join("cut_SIM2.fits.checkpoint").exists());
}

#[test]
fn two_modes_cannot_go_to_one_device() {
    let two = job("two_dev.toml", "");
    let out = correlate(&two, Path::new("/dev/null"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("one file per mode"), "{err}");
}
