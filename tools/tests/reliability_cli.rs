//! Faults during `emcorr correlate` and `emcorr inspect`: each ends with one
//! line naming the cause, the documented exit code, no panic, and nothing on
//! disk that looks like a complete output. None of these tests depends on
//! timing for its verdict: where the fault must strike mid-run, the
//! correlator is held at a known point by its test hook
//! (`EMCORR_TEST_PAUSE_AFTER` / `EMCORR_TEST_PAUSE_FILE`, see the README) and
//! the test acts when the correlator says it is there.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};

use assert_cmd::Command;
use formats::vdif::{VdifWriter, WriterConfig};
use formats::UtcTime;

const FS: f64 = 131_072.0;
const SPF: usize = 1024;
const SECONDS: f64 = 2.0;

fn start() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0)
}

fn emcorr_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("emcorr")
}

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

/// VDIF bytes of station `s`: 2-bit noise sharing a common part with the
/// other station (so the output has fringes), `SECONDS` long.
fn station_bytes(s: u16) -> Vec<u8> {
    let n = (SECONDS * FS) as usize;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let common: Vec<f64> = (0..n).map(|_| next()).collect();
    let mut y = 0x1234_5678u64 + u64::from(s);
    let mut own = || {
        y ^= y << 13;
        y ^= y >> 7;
        y ^= y << 17;
        (y >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut w =
        VdifWriter::new(Vec::new(), WriterConfig::new(s, 2, false, SPF, FS, start())).unwrap();
    let v: Vec<f32> = (0..n).map(|i| (4.0 * (common[i] + own())) as f32).collect();
    for f in v.chunks_exact(SPF) {
        w.write(0, f).unwrap();
    }
    w.into_inner().unwrap()
}

/// A directory with A.vdif, B.vdif and job.toml (2 s, 0.1 s integrations).
fn setup(dir: &Path, duration_s: f64, fft_length: usize) -> PathBuf {
    setup_sources(dir, duration_s, fft_length, 1)
}

/// As [`setup`], with `sources` `[[source]]` tables: as many phase
/// centres (their delay_poly stations give every centre the same model).
fn setup_sources(dir: &Path, duration_s: f64, fft_length: usize, sources: usize) -> PathBuf {
    for (s, name) in ["A", "B"].iter().enumerate() {
        std::fs::write(dir.join(format!("{name}.vdif")), station_bytes(s as u16)).unwrap();
    }
    let job = format!(
        "[job]\nname = \"rel\"\noutput = \"out.fits\"\nstart = \"2026-03-14T23:45:00.01Z\"\nduration_s = {duration_s:?}\n\
         [correlation]\nfft_length = {fft_length}\nintegration_s = 0.1\n\
         {}\
         [[station]]\nname = \"A\"\nfile = \"A.vdif\"\nsample_rate_hz = {FS:?}\n\
         delay_poly = {{ epoch = \"2026-03-14T23:45:00Z\", coeffs_s = [0.0] }}\n\
         [[station]]\nname = \"B\"\nfile = \"B.vdif\"\nsample_rate_hz = {FS:?}\n\
         delay_poly = {{ epoch = \"2026-03-14T23:45:00Z\", coeffs_s = [0.0] }}\n\
         [[subband]]\nsky_freq_hz = 8.4e9\nbandwidth_hz = {:?}\nsideband = \"U\"\npol = \"R\"\n",
        if sources == 1 {
            "[source]\nname = \"SRC\"\nra_deg = 10.0\ndec_deg = 20.0\n".to_string()
        } else {
            (0..sources)
                .map(|k| format!("[[source]]\nname = \"SRC{k}\"\nra_deg = {}\ndec_deg = 20.0\n", 10 + k))
                .collect()
        },
        FS / 2.0
    );
    let p = dir.join("job.toml");
    std::fs::write(&p, job).unwrap();
    p
}

/// Exit code, last stderr line; asserts no panic and a single-line message.
fn outcome(out: &std::process::Output) -> (Option<i32>, String) {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    let last = err.lines().last().unwrap_or("").to_string();
    (out.status.code(), last)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("out"))
        .collect();
    v.sort();
    v
}

/// Start the correlator held at the test hook after `after` integrations;
/// returns once it says it is there.
fn start_paused(dir: &Path, job: &Path, after: u64, extra: &[&str]) -> (Child, PathBuf) {
    let hold = dir.join("hold");
    std::fs::write(&hold, b"").unwrap();
    let mut child = StdCommand::new(emcorr_path())
        .arg("correlate")
        .arg(job)
        .args(["--threads", "2"])
        .args(extra)
        .env("EMCORR_TEST_PAUSE_AFTER", after.to_string())
        .env("EMCORR_TEST_PAUSE_FILE", &hold)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "correlator ended before the pause"
        );
        if line.contains("test pause after") {
            break;
        }
    }
    // Keep draining stderr into the child's record.
    let log = dir.join("stderr.log");
    let mut f = std::fs::File::create(&log).unwrap();
    std::thread::spawn(move || {
        let mut rest = String::new();
        while err.read_line(&mut rest).unwrap_or(0) > 0 {
            let _ = f.write_all(rest.as_bytes());
            rest.clear();
        }
    });
    (child, hold)
}

fn wait_output(mut child: Child, dir: &Path) -> (Option<i32>, String) {
    let status = child.wait().unwrap();
    // The drain thread finishes when the pipe closes.
    let mut err = String::new();
    for _ in 0..200 {
        err = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
        if !err.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!err.contains("panicked"), "{err}");
    (status.code(), err.lines().last().unwrap_or("").to_string())
}

#[test]
fn output_directory_missing_or_not_a_directory_exits_3_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 0.5, 256);
    std::fs::write(dir.path().join("afile"), b"x").unwrap();
    for bad in ["missing/out.fits", "afile/out.fits"] {
        let out = emcorr()
            .arg("correlate")
            .arg(&job)
            .arg("--output")
            .arg(dir.path().join(bad))
            .output()
            .unwrap();
        let (code, last) = outcome(&out);
        assert_eq!(code, Some(3), "{bad}: {last}");
        let parent = dir.path().join(bad).parent().unwrap().display().to_string();
        assert!(
            last.contains(&format!("{parent}: cannot write the output there")),
            "{last}"
        );
    }
    assert!(names(dir.path()).is_empty());
    // A directory without write permission (meaningless for root, who may
    // write anyway).
    if unsafe { libc::geteuid() } != 0 {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let out = emcorr()
            .arg("correlate")
            .arg(&job)
            .arg("--output")
            .arg(ro.join("out.fits"))
            .output()
            .unwrap();
        let (code, last) = outcome(&out);
        assert_eq!(code, Some(3), "{last}");
        assert!(last.contains("Permission denied"), "{last}");
        assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
    }
}

#[test]
fn a_full_disk_under_stdout_exits_3() {
    // /dev/full refuses every write with ENOSPC.
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 0.3, 256);
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        eprintln!("no /dev/full: skipped");
        return;
    };
    let out = StdCommand::new(emcorr_path())
        .arg("correlate")
        .arg(&job)
        .arg("--json")
        .stdout(full.try_clone().unwrap())
        .output()
        .unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(3), "{last}");
    assert!(
        last.contains("standard output: write failed: No space left on device"),
        "{last}"
    );
    let out = StdCommand::new(emcorr_path())
        .arg("inspect")
        .arg(dir.path().join("A.vdif"))
        .stdout(full)
        .output()
        .unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(3), "{last}");
    assert!(last.contains("No space left on device"), "{last}");
}

#[test]
fn the_checkpoint_on_dev_full_exits_3() {
    // The checkpoint is written through whatever its path names: a symlink
    // to /dev/full makes every write there fail with ENOSPC.
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 0.5, 256);
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full: skipped");
        return;
    }
    std::os::unix::fs::symlink("/dev/full", dir.path().join("out.fits.checkpoint")).unwrap();
    let out = emcorr().arg("correlate").arg(&job).output().unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(3), "{last}");
    assert!(last.contains("No space left on device"), "{last}");
    assert!(!dir.path().join("out.fits").exists());
    assert!(!dir.path().join("out.fits.partial").exists());
}

#[test]
fn a_full_disk_under_the_output_exits_3_and_leaves_no_output() {
    // The file-size limit (RLIMIT_FSIZE) makes writes beyond 40 kB fail
    // with EFBIG, as a full disk would with ENOSPC, at a known size.
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 2.0, 256);
    let mut cmd = StdCommand::new(emcorr_path());
    cmd.arg("correlate").arg(&job);
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 40_000,
                rlim_max: 40_000,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            // Otherwise SIGXFSZ kills the process; ignored, write() fails.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(3), "{last}");
    assert!(last.contains("out.fits"), "{last}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

fn interrupt_and_resume(signal: i32, name: &str, sources: usize) {
    let dir = tempfile::tempdir().unwrap();
    let full_dir = dir.path().join("full");
    let run_dir = dir.path().join("run");
    std::fs::create_dir_all(&full_dir).unwrap();
    std::fs::create_dir_all(&run_dir).unwrap();
    let job_full = setup_sources(&full_dir, 1.5, 256, sources);
    let job = setup_sources(&run_dir, 1.5, 256, sources);

    // The reference: one uninterrupted run.
    let out = emcorr().arg("correlate").arg(&job_full).output().unwrap();
    assert_eq!(outcome(&out).0, Some(0));
    let reference = std::fs::read(full_dir.join("out.fits")).unwrap();

    // Interrupted after 6 integrations.
    let (child, _hold) = start_paused(&run_dir, &job, 6, &[]);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
    let (code, last) = wait_output(child, &run_dir);
    assert_eq!(code, Some(130), "{last}");
    assert!(
        last.contains(&format!("interrupted by {name} after 6 integration(s)"))
            && last.contains("--resume"),
        "{last}"
    );
    // Nothing looks complete; the partial output and the checkpoint are kept.
    assert_eq!(
        names(&run_dir),
        vec!["out.fits.checkpoint", "out.fits.partial"]
    );
    let partial = formats::fitsidi::read_idi(&run_dir.join("out.fits.partial")).unwrap();
    assert_eq!(
        partial.rows.len(),
        6 * 3 * sources,
        "6 integrations × 3 baselines × centres"
    );
    let ids: Vec<u32> = partial.rows[..3 * sources]
        .iter()
        .map(|r| r.source_id)
        .collect();
    let want: Vec<u32> = (1..=sources as u32).flat_map(|k| [k; 3]).collect();
    assert_eq!(ids, want);

    // Resumed: the same bytes as the uninterrupted run.
    let out = emcorr()
        .arg("correlate")
        .arg(&job)
        .arg("--resume")
        .output()
        .unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(0), "{last}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("resumed after 6 integration(s)"), "{err}");
    assert_eq!(names(&run_dir), vec!["out.fits"]);
    let resumed = std::fs::read(run_dir.join("out.fits")).unwrap();
    assert!(
        resumed == reference,
        "resumed output differs from an uninterrupted run"
    );
}

#[test]
fn sigint_keeps_the_partial_and_resume_gives_identical_bytes() {
    interrupt_and_resume(libc::SIGINT, "SIGINT", 1);
}

#[test]
fn sigterm_keeps_the_partial_and_resume_gives_identical_bytes() {
    interrupt_and_resume(libc::SIGTERM, "SIGTERM", 1);
}

#[test]
fn two_phase_centres_are_kept_and_resumed_to_identical_bytes() {
    // The checkpoint holds every centre of each integration.
    interrupt_and_resume(libc::SIGINT, "SIGINT", 2);
}

#[test]
fn a_corrupted_header_mid_run_is_reported_and_weighted_zero() {
    // Frame 40 of A (0.31 s; integration 3 of 0.1 s) gets a header of noise.
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 0.6, 256);
    let a = dir.path().join("A.vdif");
    let mut bytes = std::fs::read(&a).unwrap();
    let fb = 32 + SPF / 4;
    for b in &mut bytes[40 * fb..40 * fb + 32] {
        *b = 0xa5;
    }
    std::fs::write(&a, &bytes).unwrap();
    let out = emcorr().arg("correlate").arg(&job).output().unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(0), "{last}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "station A: {}: byte {}: bad VDIF header",
            a.display(),
            40 * fb
        )) && err.contains(&format!("skipped {fb} bytes")),
        "{err}"
    );
    // The cross-correlation weight drops in the integration holding frame
    // 40 (by the lost frame's share) and nowhere else.
    let idi = formats::fitsidi::read_idi(&dir.path().join("out.fits")).unwrap();
    let cross: Vec<f32> = idi
        .rows
        .iter()
        .filter(|r| r.baseline.0 != r.baseline.1)
        .map(|r| r.vis.iter().map(|v| v[2]).fold(0.0, f32::max))
        .collect();
    let full = cross[0];
    for (i, w) in cross.iter().enumerate() {
        if i == 3 {
            assert!(
                *w < 0.95 * full && *w > 0.5 * full,
                "integration 3: {w} vs {full}"
            );
        } else {
            assert!((w - full).abs() < 1e-3, "integration {i}: {w} vs {full}");
        }
    }
}

#[test]
fn a_bad_input_leaves_no_checkpoint_behind() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 0.3, 256);
    std::fs::remove_file(dir.path().join("B.vdif")).unwrap();
    let out = emcorr().arg("correlate").arg(&job).output().unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(2), "{last}");
    assert!(last.contains("B.vdif"), "{last}");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn resume_refuses_a_missing_or_foreign_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 0.3, 256);
    let out = emcorr()
        .arg("correlate")
        .arg(&job)
        .arg("--resume")
        .output()
        .unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(2), "{last}");
    assert!(
        last.contains("out.fits.checkpoint: cannot read the checkpoint"),
        "{last}"
    );
    // A checkpoint of another job text.
    let (child, _hold) = start_paused(dir.path(), &job, 1, &[]);
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(wait_output(child, dir.path()).0, Some(130));
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("name = \"rel\"", "name = \"other\"");
    std::fs::write(&job, text).unwrap();
    let out = emcorr()
        .arg("correlate")
        .arg(&job)
        .arg("--resume")
        .output()
        .unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(2), "{last}");
    assert!(last.contains("written for another job file"), "{last}");
}

#[test]
fn a_fifo_writer_that_stops_early_exits_3_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 1.5, 256);
    let fifo = dir.path().join("B.fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    if unsafe { libc::mkfifo(c.as_ptr(), 0o644) } != 0 {
        eprintln!("mkfifo failed: skipped");
        return;
    }
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("file = \"B.vdif\"", "file = \"B.fifo\"");
    std::fs::write(&job, text).unwrap();
    // The writer sends 0.5 s of the 2 s it has, then exits.
    let bytes = station_bytes(1);
    let half = bytes.len() / 4;
    let f = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(f).unwrap();
        let _ = w.write_all(&bytes[..half]);
    });
    let out = emcorr().arg("correlate").arg(&job).output().unwrap();
    writer.join().unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(3), "{last}");
    assert!(
        last.contains("station B") && last.contains("B.fifo") && last.contains("writer stop early"),
        "{last}"
    );
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn an_input_truncated_while_being_read_exits_3_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 1.8, 256);
    let a = dir.path().join("A.vdif");
    let size = std::fs::metadata(&a).unwrap().len();
    let (child, hold) = start_paused(dir.path(), &job, 2, &[]);
    // Cut A to its first 0.5 s while the correlator holds it mapped.
    let cut = size / 4 / 288 * 288;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&a)
        .unwrap()
        .set_len(cut)
        .unwrap();
    std::fs::remove_file(&hold).unwrap();
    let (code, last) = wait_output(child, dir.path());
    assert_eq!(code, Some(3), "{last}");
    assert!(
        last.contains(&format!(
            "{}: input file truncated while being read (was {size} bytes, now {cut})",
            a.display()
        )),
        "{last}"
    );
    // The process ended from the signal handler: what was done is kept.
    assert_eq!(
        names(dir.path()),
        vec!["out.fits.checkpoint", "out.fits.partial"]
    );
}

#[test]
fn a_job_over_the_memory_budget_is_refused_up_front_with_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 1.5, 65536);
    let out = emcorr()
        .arg("correlate")
        .arg(&job)
        .args(["--max-memory", "16M", "--threads", "2"])
        .output()
        .unwrap();
    let (code, last) = outcome(&out);
    assert_eq!(code, Some(2), "{last}");
    assert!(
        last.contains("the job needs about")
            && last.contains("MiB of buffers")
            && last.contains("more than the memory budget of 16 MiB (--max-memory)"),
        "{last}"
    );
    assert!(names(dir.path()).is_empty());
    // The same job fits a larger budget, and the estimate is an upper bound
    // of what the run really uses (peak RSS).
    let need: f64 = last
        .split("needs about ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let (code, rss_kib) = run_measured(
        StdCommand::new(emcorr_path())
            .arg("correlate")
            .arg(&job)
            .args(["--max-memory", "4G", "--threads", "2"]),
    );
    assert_eq!(code, Some(0));
    assert!(
        (rss_kib as f64 / 1024.0) < need + 64.0,
        "peak RSS {} MiB exceeds the estimate {need} MiB + 64 MiB of code and libraries",
        rss_kib / 1024
    );
    for bad in ["lots", "-5M", "0"] {
        let out = emcorr()
            .arg("correlate")
            .arg(&job)
            .arg(format!("--max-memory={bad}"))
            .output()
            .unwrap();
        let (code, last) = outcome(&out);
        assert_eq!(code, Some(2), "{bad}: {last}");
        assert!(last.contains("--max-memory"), "{last}");
    }
}

/// Run to completion; exit code and peak RSS (KiB) of that child alone
/// (reaped here by wait4, which reports its rusage).
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: &mut StdCommand) -> (Option<i32>, i64) {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: waiting for our own child with wait4 to get its rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
    assert_eq!(r, child.id() as i32);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, ru.ru_maxrss)
}

#[test]
fn a_100_gb_sparse_input_is_inspected_and_correlated_in_constant_memory() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 0.5, 256);
    let run = |dir: &Path| {
        let (c1, inspect) = run_measured(
            StdCommand::new(emcorr_path())
                .arg("inspect")
                .arg(dir.join("A.vdif")),
        );
        let (c2, correlate) = run_measured(
            StdCommand::new(emcorr_path())
                .arg("correlate")
                .arg(&job)
                // Run twice (small, then 100 GB input): the second replaces the first.
                .args(["--threads", "2", "--overwrite"]),
        );
        (c1, inspect, c2, correlate)
    };
    let (c1, small_inspect, c2, small_correlate) = run(dir.path());
    assert_eq!((c1, c2), (Some(0), Some(0)));
    let a = dir.path().join("A.vdif");
    let len = 100u64 << 30;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&a)
        .unwrap()
        .set_len(len)
        .unwrap();
    // The readers skip holes they are told about (SEEK_DATA); a file system
    // that does not report them would make this a 100 GB read.
    {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open(&a).unwrap();
        let tail = (len - (1 << 20)) as i64;
        // SAFETY: lseek on our own descriptor.
        let r = unsafe { libc::lseek(f.as_raw_fd(), tail, libc::SEEK_DATA) };
        if r >= 0 {
            eprintln!("this file system does not report holes: skipped");
            return;
        }
    }
    let (c1, big_inspect, c2, big_correlate) = run(dir.path());
    // inspect reports the zeros as one damaged range (exit 2); correlate
    // uses the data before them.
    assert_eq!((c1, c2), (Some(2), Some(0)));
    let out = emcorr()
        .arg("inspect")
        .arg("--json")
        .arg(&a)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["bytes"], len);
    assert_eq!(v["files"][0]["corrupted_count"], 1);
    assert_eq!(v["files"][0]["threads"][0]["frames"], 256);
    for (what, small, big) in [
        ("inspect", small_inspect, big_inspect),
        ("correlate", small_correlate, big_correlate),
    ] {
        assert!(
            big < small + 16 * 1024,
            "{what}: peak RSS {big} KiB with the 100 GB file vs {small} KiB without"
        );
    }
}

#[test]
fn a_panic_is_exit_1_with_one_line() {
    let out = emcorr()
        .args(["inspect", "x"])
        .env("EMCORR_TEST_PANIC", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("emcorr: internal error (a bug, please report it): "),
        "{err}"
    );
}

#[test]
fn inspect_shows_damage_repeats_and_a_thread_that_stops() {
    // Two threads × 8 frames; thread 1 stops after frame 4; thread 0's frame
    // 2 appears twice; 40 stray bytes after frame 5.
    let dir = tempfile::tempdir().unwrap();
    let cfg = WriterConfig::new(7, 2, false, 256, 2048.0, start());
    let mut w = VdifWriter::new(Vec::new(), cfg).unwrap();
    for k in 0..8u64 {
        for t in 0..2u16 {
            if t == 1 && k > 4 {
                continue;
            }
            let codes: Vec<u8> = (0..256).map(|i| ((i as u64 * 7 + k) % 4) as u8).collect();
            w.write_codes(t, &codes, false).unwrap();
        }
    }
    let fb = w.frame_bytes();
    let good = w.into_inner().unwrap();
    let mut bytes = good[..6 * fb].to_vec();
    bytes.extend_from_slice(&good[4 * fb..5 * fb]); // thread 0 frame 2 again
    bytes.extend_from_slice(&good[6 * fb..11 * fb]);
    let stray = bytes.len();
    bytes.extend_from_slice(&[0x77; 40]);
    bytes.extend_from_slice(&good[11 * fb..]);
    let p = dir.path().join("messy.vdif");
    std::fs::write(&p, &bytes).unwrap();
    let out = emcorr()
        .args(["inspect", "--json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["files"][0];
    assert_eq!(f["corrupted_count"], 2, "{f}");
    assert_eq!(f["corrupted"][1]["offset"], stray);
    assert_eq!(f["corrupted"][1]["end"], stray + 40);
    let t0 = &f["threads"][0];
    assert_eq!(t0["duplicate_frames"], 1);
    assert_eq!(t0["overlap_count"], 1);
    assert_eq!(t0["overlaps"][0]["frames"], 1);
    assert_eq!(t0["overlaps"][0]["offset"], 6 * fb);
    let t1 = &f["threads"][1];
    assert_eq!(t1["frames_missing_at_end"], 3);
    assert_eq!(t1["frames_missing_at_start"], 0);
    let text = emcorr().arg("inspect").arg(&p).output().unwrap();
    let s = String::from_utf8_lossy(&text.stdout);
    assert!(s.contains("repeated 1 "), "{s}");
    assert!(s.contains("ends 3 frames before its last"), "{s}");
    assert!(s.contains(&format!("bytes {stray}..{}", stray + 40)), "{s}");
}

/// Make a FIFO at `path`; false (test skipped) where mkfifo is refused.
fn mkfifo(path: &Path) -> bool {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    let ok = unsafe { libc::mkfifo(c.as_ptr(), 0o644) } == 0;
    if !ok {
        eprintln!("mkfifo failed: skipped");
    }
    ok
}

/// Start `emcorr correlate JOB`, SIGTERM it after `after`, and return its
/// exit code, last stderr line, and how long it took to exit after the
/// signal.
fn terminate_after(job: &Path, after: std::time::Duration) -> (Option<i32>, String, f64) {
    let mut child = StdCommand::new(emcorr_path())
        .arg("correlate")
        .arg(job)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    // Still running: it is blocked (the verdict below does not depend on
    // how far it got, only on how it ends).
    assert!(
        child.try_wait().unwrap().is_none(),
        "ended before the signal"
    );
    let t0 = std::time::Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > std::time::Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("still running 10 s after SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let waited = t0.elapsed().as_secs_f64();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!err.contains("panicked"), "{err}");
    (
        status.code(),
        err.lines().last().unwrap_or("").to_string(),
        waited,
    )
}

#[test]
fn sigterm_ends_a_run_blocked_on_a_fifo_nobody_writes() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 1.5, 256);
    let fifo = dir.path().join("B.fifo");
    if !mkfifo(&fifo) {
        return;
    }
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("file = \"B.vdif\"", "file = \"B.fifo\"");
    std::fs::write(&job, text).unwrap();
    // No writer ever opens B.fifo: the correlator waits in open() for ever.
    let (code, last, waited) = terminate_after(&job, std::time::Duration::from_millis(500));
    assert_eq!(code, Some(130), "{last}");
    assert!(waited < 2.0, "exited {waited} s after SIGTERM");
    assert!(last.contains("interrupted by SIGTERM"), "{last}");
    // Nothing was computed: nothing under the output name, no checkpoint.
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

#[test]
fn sigterm_ends_a_run_blocked_on_a_stalled_stream() {
    let dir = tempfile::tempdir().unwrap();
    let job = setup(dir.path(), 1.5, 256);
    let fifo = dir.path().join("B.fifo");
    if !mkfifo(&fifo) {
        return;
    }
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("file = \"B.vdif\"", "file = \"B.fifo\"");
    std::fs::write(&job, text).unwrap();
    // The writer sends a quarter of its 2 s and then stalls with the FIFO
    // still open (no end of stream): the correlator waits for the next frame.
    let bytes = station_bytes(1);
    let part = bytes.len() / 8;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
        let _ = w.write_all(&bytes[..part]);
        let _ = done_rx.recv();
    });
    let (code, last, waited) = terminate_after(&job, std::time::Duration::from_millis(1500));
    done_tx.send(()).unwrap();
    writer.join().unwrap();
    assert_eq!(code, Some(130), "{last}");
    assert!(waited < 2.0, "exited {waited} s after SIGTERM");
    assert!(last.contains("interrupted by SIGTERM"), "{last}");
    // Never the final name; what was finished is kept for --resume.
    let left = names(dir.path());
    assert!(!left.contains(&"out.fits".to_string()), "{left:?}");
}
