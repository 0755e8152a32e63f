//! `emcorr correlate --mpi` under `mpirun` (feature `mpi`; CI installs
//! Debian's OpenMPI). The verdicts are the bytes of the output against a
//! single-process run of the same job, the exit codes, and what is on disk:
//! none depends on timing (a failing rank is made to fail in a known
//! integration by the `EMCORR_TEST_MPI_FAIL` hook, see the README).

#![cfg(feature = "mpi")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn emcorr() -> PathBuf {
    assert_cmd::cargo::cargo_bin("emcorr")
}

/// `mpirun -n N emcorr ARGS`, oversubscribed (CI has 2 cores) and allowed
/// to run as root (CI's containers are root).
fn mpirun(n: usize, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new("mpirun");
    c.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "-n",
        &n.to_string(),
    ]);
    for (k, v) in envs {
        // `-x NAME` passes the variable on to every rank.
        c.env(k, v).args(["-x", k]);
    }
    c.arg(emcorr()).args(args);
    c.output().expect("mpirun runs (install openmpi-bin)")
}

/// Assert a run succeeded, showing its stderr if not.
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `mpirun -n N emcorr correlate JOB --mpi --threads 1 --output OUT EXTRA…`.
fn correlate_mpi(
    n: usize,
    job: &Path,
    output: &Path,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> Output {
    let mut args = vec![
        "correlate",
        s(job),
        "--mpi",
        "--threads",
        "1",
        "--output",
        s(output),
    ];
    args.extend_from_slice(extra);
    mpirun(n, &args, envs)
}

/// A simulated job: `scenario` (None: the default Earth–Moon scenario, 4
/// stations, 2 bands in the channels of one VDIF thread), `seconds` long.
fn simulate(dir: &Path, scenario: Option<&str>, seconds: f64) -> PathBuf {
    let mut c = Command::new(emcorr());
    c.arg("simulate");
    if let Some(name) = scenario {
        c.arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/scenarios")
                .join(name),
        );
    }
    let out = c
        .args(["--seconds", &seconds.to_string(), "--out"])
        .arg(dir)
        .output()
        .unwrap();
    succeeded(&out);
    dir.join("job.toml")
}

fn single(job: &Path, output: &Path) -> Vec<u8> {
    let out = Command::new(emcorr())
        .args(["correlate", "--quiet", "--threads", "1", "--output"])
        .arg(output)
        .arg(job)
        .output()
        .unwrap();
    succeeded(&out);
    std::fs::read(output).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn three_ranks_write_the_same_bytes_as_one_process_and_report_per_rank() {
    let dir = tempfile::tempdir().unwrap();
    let job = simulate(dir.path(), None, 3.0);
    let reference = single(&job, &dir.path().join("single.fits"));

    let out_path = dir.path().join("mpi.fits");
    let out = correlate_mpi(3, &job, &out_path, &["--json"], &[]);
    succeeded(&out);
    assert!(
        std::fs::read(&out_path).unwrap() == reference,
        "MPI output differs"
    );

    // The summary: both bands are channels of one VDIF thread, so a unit is
    // a whole integration (splitting the thread's channels would make every
    // rank read every frame): 3 units over 2 worker ranks, and every byte of
    // visibilities crossed MPI once.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mpi = &v["mpi"];
    assert_eq!(mpi["ranks"], 3);
    let per = mpi["per_rank"].as_array().unwrap();
    assert_eq!(per.len(), 2);
    let units: u64 = per.iter().map(|r| r["units"].as_u64().unwrap()).sum();
    assert_eq!(units, 3);
    let data_s: f64 = per.iter().map(|r| r["data_s"].as_f64().unwrap()).sum();
    assert!((data_s - 3.0).abs() < 1e-9, "{data_s}");
    // Per result: a header of < 100 bytes, then 10 baselines (autocorrelations
    // included) × 2 bands × (512 channels × 1 product × 8 bytes + 1 weight).
    let payload = 10 * 2 * (512 * 8 + 4);
    let sent: u64 = per.iter().map(|r| r["sent_bytes"].as_u64().unwrap()).sum();
    assert!(
        sent >= 3 * payload && sent < 3 * (payload + 100) + 2 * 200,
        "{sent}"
    );
    assert_eq!(mpi["rank0_received_bytes"].as_u64().unwrap(), sent);
    let received: u64 = per
        .iter()
        .map(|r| r["received_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(mpi["rank0_sent_bytes"].as_u64().unwrap(), received);
    assert_eq!(received, 3 * (8 + 4 + 2 * 4), "3 units of two bands");
    for r in per {
        assert!(r["speed_x_realtime"].as_f64().unwrap() > 0.0);
        // Recordings read: whole frames of 4 stations, 2 channels × 2 bits
        // at 16 MS/s = 8 MB/s each, plus headers (< 2 %).
        let want = r["data_s"].as_f64().unwrap() * 4.0 * 8e6;
        let got = r["input_bytes"].as_f64().unwrap();
        assert!(got >= want && got < 1.02 * want, "{got} vs {want}");
    }

    // Many short integrations (15, more than rank 0's window of 6 ahead of
    // the output): ranks wait for the output to catch up, same bytes.
    let short = dir.path().join("short.toml");
    let text = std::fs::read_to_string(&job).unwrap();
    assert!(text.contains("integration_s = 1.0"));
    std::fs::write(
        &short,
        text.replace("integration_s = 1.0", "integration_s = 0.2"),
    )
    .unwrap();
    let short_ref = single(&short, &dir.path().join("short1.fits"));
    let short_out = dir.path().join("short3.fits");
    let out = correlate_mpi(3, &short, &short_out, &["--json"], &[]);
    succeeded(&out);
    assert!(std::fs::read(&short_out).unwrap() == short_ref);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["integrations"], 15);

    // One rank is the plain command.
    let one = dir.path().join("one.fits");
    let out = correlate_mpi(1, &job, &one, &["--quiet"], &[]);
    succeeded(&out);
    assert!(std::fs::read(&one).unwrap() == reference);
}

#[test]
fn two_phase_centres_in_band_units_cross_mpi_bit_for_bit() {
    // Four bands in four VDIF threads (four units per integration, put back
    // together by rank 0), and a second [[source]]: every unit carries both
    // centres.
    let dir = tempfile::tempdir().unwrap();
    let job = simulate(dir.path(), Some("threads4_1bit.toml"), 1.0);
    let text = std::fs::read_to_string(&job).unwrap();
    let two = text.replace("[source]", "[[source]]")
        + "\n[[source]]\nname = \"OFFSET\"\nra_deg = 291.3\ndec_deg = -29.1\n";
    std::fs::write(&job, two).unwrap();
    let reference = single(&job, &dir.path().join("single.fits"));
    let idi = formats::fitsidi::read_idi(&dir.path().join("single.fits")).unwrap();
    let ids: std::collections::BTreeSet<u32> = idi.rows.iter().map(|r| r.source_id).collect();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), [1, 2]);
    let out_path = dir.path().join("mpi.fits");
    let out = correlate_mpi(3, &job, &out_path, &["--quiet"], &[]);
    succeeded(&out);
    assert!(
        std::fs::read(&out_path).unwrap() == reference,
        "MPI output of two centres differs"
    );
}

#[test]
fn a_failed_rank_ends_the_job_and_resume_finishes_it_without_redoing_work() {
    // Four bands in four VDIF threads: four units per integration.
    let dir = tempfile::tempdir().unwrap();
    let job = simulate(dir.path(), Some("threads4_1bit.toml"), 2.0);
    let text = std::fs::read_to_string(&job).unwrap();
    std::fs::write(&job, text.replace("duration_s = 1.0", "duration_s = 2.0")).unwrap();
    let reference = single(&job, &dir.path().join("single.fits"));
    let integrations = |p: &Path| -> u64 {
        let idi = formats::fitsidi::read_idi(p).unwrap();
        let t: std::collections::BTreeSet<String> =
            idi.rows.iter().map(|r| r.time.to_iso8601()).collect();
        t.len() as u64
    };
    let total = integrations(&dir.path().join("single.fits"));
    assert!(total >= 4, "{total}");
    let out_path = dir.path().join("mpi.fits");
    let partial = dir.path().join("mpi.fits.partial");
    let checkpoint = dir.path().join("mpi.fits.checkpoint");

    // Whichever rank is about to send a result of integration 2 fails (an
    // I/O error): integrations 0 and 1 are complete (the other ranks finish
    // the units in hand), integration 2 is not.
    let out = correlate_mpi(3, &job, &out_path, &[], &[("EMCORR_TEST_MPI_FAIL", "2")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("emcorr: rank ") && l.contains(") failed: "))
        .unwrap_or_else(|| panic!("no line from rank 0 naming the failed rank: {err}"));
    assert!(
        line.contains("injected failure (EMCORR_TEST_MPI_FAIL) in integration 2")
            && line.contains("with 2 integration(s)")
            && line.contains("--resume"),
        "{line}"
    );
    assert!(
        !out_path.exists(),
        "a failed job left a complete-looking output"
    );
    assert!(partial.exists() && checkpoint.exists());
    // The partial output is readable and holds the 2 integrations kept.
    assert_eq!(integrations(&partial), 2);

    let out = correlate_mpi(3, &job, &out_path, &["--json", "--resume"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("resumed after 2 integration(s)"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Only the integrations not kept were computed, 4 units each.
    assert_eq!(v["integrations"].as_u64().unwrap(), total - 2);
    let units: u64 = v["mpi"]["per_rank"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["units"].as_u64().unwrap())
        .sum();
    assert_eq!(units, 4 * (total - 2));
    assert!(
        std::fs::read(&out_path).unwrap() == reference,
        "resumed output differs"
    );
    assert!(!partial.exists() && !checkpoint.exists());
}

#[test]
fn a_rank_that_dies_stops_the_job_and_leaves_no_complete_output() {
    let dir = tempfile::tempdir().unwrap();
    let job = simulate(dir.path(), None, 3.0);
    let reference = single(&job, &dir.path().join("single.fits"));
    let out_path = dir.path().join("mpi.fits");
    // The rank about to send integration 1 aborts (SIGABRT); mpirun then
    // stops every rank.
    let out = correlate_mpi(
        3,
        &job,
        &out_path,
        &[],
        &[("EMCORR_TEST_MPI_FAIL", "1:abort")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        !out_path.exists(),
        "a killed job left a complete-looking output"
    );
    // Whatever rank 0 kept, a resumed run finishes the job exactly (if it
    // was killed before it created the checkpoint, a fresh run).
    let again: &[&str] = if dir.path().join("mpi.fits.checkpoint").exists() {
        &["--resume"]
    } else {
        &[]
    };
    let out = correlate_mpi(3, &job, &out_path, again, &[]);
    succeeded(&out);
    assert!(std::fs::read(&out_path).unwrap() == reference);
}

#[test]
fn a_streamed_recording_is_refused_under_mpi_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let job = simulate(dir.path(), None, 1.0);
    // Station T6 reads a FIFO instead of its file.
    let fifo = dir.path().join("T6.fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("\"T6.vdif\"", "\"T6.fifo\"");
    assert!(text.contains("T6.fifo"));
    std::fs::write(&job, text).unwrap();
    let out = mpirun(2, &["correlate", s(&job), "--mpi"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("emcorr: ") && l.contains("station T6: --mpi needs recordings")),
        "{err}"
    );
    assert!(!dir.path().join("earth-moon.fits").exists());
}

#[test]
fn an_existing_output_is_refused_under_mpi_unless_overwrite_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let job = simulate(dir.path(), None, 1.0);
    let reference = single(&job, &dir.path().join("single.fits"));
    let out_path = dir.path().join("mpi.fits");
    std::fs::write(&out_path, b"last night's correlation").unwrap();
    // Rank 0 decides, as a single process would, before anything is made.
    let out = correlate_mpi(2, &job, &out_path, &[], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.lines().any(|l| l
            == format!(
                "emcorr: {}: exists; give --overwrite to replace it",
                out_path.display()
            )),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&out_path).unwrap(),
        b"last night's correlation"
    );
    assert!(!dir.path().join("mpi.fits.checkpoint").exists());
    assert!(!dir.path().join("mpi.fits.partial").exists());
    let out = correlate_mpi(2, &job, &out_path, &["--overwrite"], &[]);
    succeeded(&out);
    assert!(std::fs::read(&out_path).unwrap() == reference);
}

#[test]
fn a_session_under_mpi_writes_the_single_process_bytes_and_resumes() {
    // The default simulation as a session of two scans, the second
    // without UR; two worker ranks prepare each scan's run in turn.
    let dir = tempfile::tempdir().unwrap();
    let job = simulate(dir.path(), None, 5.0);
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("[source]", "[[source]]");
    let session = dir.path().join("session.toml");
    std::fs::write(
        &session,
        text + r#"
[[scan]]
name = "S1"
start = "2026-03-15T00:30:00.5Z"
duration_s = 2.0
sources = ["PKS1921-293"]
[[scan]]
name = "S2"
start = "2026-03-15T00:30:03Z"
duration_s = 1.5
sources = ["PKS1921-293"]
stations = ["T6", "KM", "LS"]
"#,
    )
    .unwrap();
    let want = single(&session, &dir.path().join("single.fits"));
    let out_path = dir.path().join("mpi.fits");
    succeeded(&correlate_mpi(3, &session, &out_path, &[], &[]));
    assert!(
        std::fs::read(&out_path).unwrap() == want,
        "MPI session bytes differ"
    );

    // A rank fails in integration 1 of a scan's run (the hook counts
    // within the run: S1's second): S1's first is kept; resumed under MPI
    // the rest gives the same bytes.
    let cut = dir.path().join("cut.fits");
    let out = correlate_mpi(3, &session, &cut, &[], &[("EMCORR_TEST_MPI_FAIL", "1")]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!cut.exists());
    succeeded(&correlate_mpi(3, &session, &cut, &["--resume"], &[]));
    assert!(
        std::fs::read(&cut).unwrap() == want,
        "resumed MPI session bytes differ"
    );
}

/// The simulated session (testdata/scenarios/session.toml, `--vex`) with a
/// second mode SIM2 (only the second channel) for scans No0002 and No0004,
/// as in `session_modes_cli.rs`: the job naming that VEX.
fn two_mode_session(dir: &Path) -> PathBuf {
    let out = Command::new(emcorr())
        .arg("simulate")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/session.toml"))
        .arg("--out")
        .arg(dir)
        .arg("--vex")
        .output()
        .unwrap();
    succeeded(&out);
    let job = std::fs::read_to_string(dir.join("job_vex.toml")).unwrap();
    let t: toml::Table = job.parse().unwrap();
    let vex_name = t["job"]["vex"].as_str().unwrap().to_string();
    let mut v = formats::vex::read_vex(&dir.join(&vex_name)).unwrap();
    let mut second = v.modes[0].clone();
    second.name = "SIM2".into();
    for setup in &mut second.setups {
        setup.channels.remove(0);
    }
    v.modes.push(second);
    for sc in &mut v.scans {
        if sc.name == "No0002" || sc.name == "No0004" {
            sc.mode = "SIM2".into();
        }
    }
    std::fs::write(dir.join("two.vex"), formats::vex::write_vex2(&v)).unwrap();
    let p = dir.join("two.toml");
    std::fs::write(&p, job.replace(&format!("\"{vex_name}\""), "\"two.vex\"")).unwrap();
    p
}

#[test]
fn a_two_mode_session_under_mpi_writes_the_single_process_files_and_resumes() {
    // Ranks prepare the runs of mode SIM's scans, then SIM2's, as rank 0
    // drives them: a rank out of step would fail the plan check.
    let dir = tempfile::tempdir().unwrap();
    let job = two_mode_session(dir.path());
    let files = |base: &str| {
        ["SIM", "SIM2"].map(|m| std::fs::read(dir.path().join(format!("{base}_{m}.fits"))).unwrap())
    };
    let out = Command::new(emcorr())
        .args(["correlate", "--quiet", "--threads", "1", "--output"])
        .arg(dir.path().join("single.fits"))
        .arg(&job)
        .output()
        .unwrap();
    succeeded(&out);
    let want = files("single");
    succeeded(&correlate_mpi(
        3,
        &job,
        &dir.path().join("mpi.fits"),
        &[],
        &[],
    ));
    assert!(files("mpi") == want, "MPI two-mode files differ");

    // A rank fails in the first scan's run: mode SIM's partial and both
    // checkpoints are kept; resumed under MPI, both files as one process.
    let cut = dir.path().join("cut.fits");
    let out = correlate_mpi(3, &job, &cut, &[], &[("EMCORR_TEST_MPI_FAIL", "1")]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("cut_SIM2.fits.checkpoint").exists());
    succeeded(&correlate_mpi(3, &job, &cut, &["--resume"], &[]));
    assert!(files("cut") == want, "resumed MPI two-mode files differ");
}
