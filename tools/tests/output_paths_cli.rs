//! `emcorr correlate` onto each kind of output path (README, `emcorr
//! correlate`; `formats::output`): a new file, an existing one (refused
//! without `--overwrite`, replaced only at the end with it), a symbolic
//! link (followed; it stays a link), a character device (written into;
//! stays a device), a full device (exit 3), a FIFO (gets the very bytes a
//! file gets), a directory (refused, nothing created), `--resume` onto a
//! device (refused).
//!
//! The truth each output is compared with is an independent run of the same
//! job into a new regular file (runs of one job give identical bytes, which
//! `reliability_cli.rs` relies on too), read back with the FITS-IDI reader.
//!
//! These tests run as root on the project's machines, where renaming over
//! /dev/null would replace it. So, as root, they make their own device nodes
//! (mknod, the same major/minor as /dev/null and /dev/full) in their
//! temporary directory, and a regression can only damage those copies; and
//! every test checks at its end, even when it fails, that /dev/null and
//! /dev/full are still character devices.

mod common;

use common::small_job::write_small_job;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// 0.3 s of 0.1 s integrations: 3 integrations × 3 baselines (A-A, A-B, B-B).
const DURATION_S: f64 = 0.3;
const ROWS: usize = 9;

fn emcorr_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("emcorr")
}

/// Checks, when dropped, that the system's device nodes are still devices.
struct DevicesIntact;

impl Drop for DevicesIntact {
    fn drop(&mut self) {
        for d in ["/dev/null", "/dev/full"] {
            let ok = std::fs::symlink_metadata(d).is_ok_and(|m| m.file_type().is_char_device())
                || !Path::new(d).exists() && d == "/dev/full";
            if std::thread::panicking() {
                if !ok {
                    eprintln!("DAMAGED: {d} is no longer a character device");
                }
            } else {
                assert!(ok, "{d} is no longer a character device");
            }
        }
    }
}

/// One test's directory: the job, and an empty `tmp/` given to emcorr as
/// TMPDIR (so that leftovers there can be seen).
struct Case {
    dir: tempfile::TempDir,
    job: PathBuf,
    _devices: DevicesIntact,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let job = write_small_job(dir.path(), DURATION_S);
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        Case {
            dir,
            job,
            _devices: DevicesIntact,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(emcorr_path());
        c.arg("correlate")
            .arg(&self.job)
            .args(["--threads", "1", "--quiet"])
            .args(args)
            .env("TMPDIR", self.path("tmp"));
        c
    }

    /// Exit code and the last stderr line (no panic, at most one line).
    fn run(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = self.command(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.lines().count() <= 1, "{err}");
        (out.status.code(), err.trim_end().to_string())
    }

    /// Names in the test's directory, sorted (tmp/ and the inputs included).
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn tmp_is_empty(&self) -> bool {
        std::fs::read_dir(self.path("tmp")).unwrap().count() == 0
    }

    /// A character device node like /dev/`name`: as root a private copy
    /// made here (so that a regression cannot damage the system's), else
    /// the system's own (which only root could replace).
    fn device(&self, name: &str) -> Option<PathBuf> {
        let system = Path::new("/dev").join(name);
        let meta = std::fs::metadata(&system).ok()?;
        // SAFETY: no arguments.
        if unsafe { libc::geteuid() } != 0 {
            return Some(system);
        }
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::MetadataExt;
        let own = self.path(name);
        let c = std::ffi::CString::new(own.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid path; the same device numbers as the system's node.
        let r = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, meta.rdev()) };
        assert_eq!(r, 0, "mknod {}", own.display());
        Some(own)
    }
}

fn is_char_device(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device())
}

fn is_fifo(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_fifo())
}

fn mkfifo(p: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// The output of the job run into a new regular file, checked to be
/// readable FITS-IDI with every row.
fn reference() -> &'static [u8] {
    static REF: OnceLock<Vec<u8>> = OnceLock::new();
    REF.get_or_init(|| {
        let c = Case::new();
        let (code, err) = c.run(&[]);
        assert_eq!(code, Some(0), "{err}");
        let f = formats::fitsidi::read_idi(&c.path("out.fits")).unwrap();
        assert_eq!(f.rows.len(), ROWS);
        std::fs::read(c.path("out.fits")).unwrap()
    })
}

/// Assert `p` holds the reference output.
fn assert_is_reference(p: &Path) {
    let got = std::fs::read(p).unwrap();
    assert!(
        got == reference(),
        "{}: not the reference output",
        p.display()
    );
}

const JOB_FILES: [&str; 4] = ["A.vdif", "B.vdif", "job.toml", "tmp"];

fn with_job_files(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = JOB_FILES
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn a_new_file_is_written_readable_with_nothing_beside_it() {
    let c = Case::new();
    let out = c.path("new.fits");
    let (code, err) = c.run(&["--output", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(formats::fitsidi::read_idi(&out).unwrap().rows.len(), ROWS);
    assert_is_reference(&out);
    assert_eq!(c.names(), with_job_files(&["new.fits"]));
    assert!(c.tmp_is_empty());
}

#[test]
fn an_existing_file_is_refused_without_overwrite_and_replaced_with_it() {
    let c = Case::new();
    let out = c.path("out.fits");
    std::fs::write(&out, b"last night's correlation").unwrap();
    // The job's own output name.
    let (code, err) = c.run(&[]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        format!(
            "emcorr: {}: exists; give --overwrite to replace it",
            out.display()
        )
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"last night's correlation");
    assert_eq!(c.names(), with_job_files(&["out.fits"]));

    let (code, err) = c.run(&["--overwrite"]);
    assert_eq!(code, Some(0), "{err}");
    assert_is_reference(&out);
    assert_eq!(c.names(), with_job_files(&["out.fits"]));
}

/// Start the correlator held by its test hook after `after` integrations;
/// returns once it says it is there, with the rest of its stderr.
fn start_paused(
    c: &Case,
    after: u64,
    args: &[&str],
) -> (std::process::Child, BufReader<std::process::ChildStderr>) {
    let hold = c.path("hold");
    std::fs::write(&hold, b"").unwrap();
    let mut child = c
        .command(args)
        .env("EMCORR_TEST_PAUSE_AFTER", after.to_string())
        .env("EMCORR_TEST_PAUSE_FILE", &hold)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let Some(stderr) = child.stderr.take() else {
        let _ = child.wait();
        panic!("no stderr pipe");
    };
    let mut err = BufReader::new(stderr);
    let mut line = String::new();
    loop {
        line.clear();
        if err.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.wait();
            panic!("the correlator ended before the pause");
        }
        if line.contains("test pause after") {
            return (child, err);
        }
    }
}

#[test]
fn with_overwrite_the_old_file_stays_whole_until_the_run_finishes() {
    let c = Case::new();
    let out = c.path("out.fits");
    std::fs::write(&out, b"last night's correlation").unwrap();
    let (mut child, mut err) = start_paused(&c, 1, &["--overwrite"]);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert_eq!(std::fs::read(&out).unwrap(), b"last night's correlation");
    assert_eq!(
        c.names(),
        with_job_files(&[
            "hold",
            "out.fits",
            "out.fits.checkpoint",
            "out.fits.partial"
        ])
    );
    // Resuming must not replace it either unless told to.
    let (code, msg) = c.run(&["--resume"]);
    assert_eq!(code, Some(2), "{msg}");
    assert!(
        msg.ends_with("exists; give --overwrite to replace it"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"last night's correlation");
    let (code, msg) = c.run(&["--resume", "--overwrite"]);
    assert_eq!(code, Some(0), "{msg}");
    assert_is_reference(&out);
    assert_eq!(c.names(), with_job_files(&["hold", "out.fits"]));
}

#[test]
fn a_symlink_is_followed_its_target_replaced_and_it_stays_a_link() {
    let c = Case::new();
    let real = c.path("real.fits");
    let link = c.path("link.fits");
    std::fs::write(&real, b"old").unwrap();
    std::os::unix::fs::symlink("real.fits", &link).unwrap();
    let (code, err) = c.run(&["--output", link.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{} (a link to {}): exists; give --overwrite",
            link.display(),
            c.path("real.fits").display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&real).unwrap(), b"old");

    let (code, err) = c.run(&["--output", link.to_str().unwrap(), "--overwrite"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("real.fits"));
    assert_is_reference(&real);
    assert_eq!(c.names(), with_job_files(&["link.fits", "real.fits"]));

    // Dangling, into an existing directory: the target is made.
    let dangling = c.path("dangling.fits");
    std::os::unix::fs::symlink(c.path("made.fits"), &dangling).unwrap();
    let (code, err) = c.run(&["--output", dangling.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
    assert_is_reference(&c.path("made.fits"));

    // Dangling, into a directory that does not exist: as a missing
    // directory, exit 3 naming it, nothing made.
    let lost = c.path("lost.fits");
    std::os::unix::fs::symlink(c.path("nodir/x.fits"), &lost).unwrap();
    let before = c.names();
    let (code, err) = c.run(&["--output", lost.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "{}: cannot write the output there",
            c.path("nodir").display()
        )),
        "{err}"
    );
    assert_eq!(c.names(), before);
    assert!(c.tmp_is_empty());
}

#[test]
fn a_character_device_is_written_into_and_stays_a_device() {
    let c = Case::new();
    let null = c.device("null").unwrap();
    let (code, err) = c.run(&["--output", null.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(is_char_device(&null));
    // Through a symbolic link to it, the same.
    let link = c.path("to_null");
    std::os::unix::fs::symlink(&null, &link).unwrap();
    let (code, err) = c.run(&["--output", link.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(is_char_device(&null) && std::fs::symlink_metadata(&link).unwrap().is_symlink());
    // No partial file, checkpoint or temporary anywhere.
    assert!(!Path::new(&format!("{}.checkpoint", null.display())).exists());
    assert!(!Path::new(&format!("{}.partial", null.display())).exists());
    assert!(c.tmp_is_empty());
    if null.starts_with(c.dir.path()) {
        assert_eq!(c.names(), with_job_files(&["null", "to_null"]));
    }
}

#[test]
fn a_full_device_exits_3_naming_it_and_stays_a_device_with_no_temporary_left() {
    let c = Case::new();
    let Some(full) = c.device("full") else {
        eprintln!("no /dev/full: skipped");
        return;
    };
    let (code, err) = c.run(&["--output", full.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{err}");
    assert_eq!(
        err,
        format!(
            "emcorr: {}: writing the finished output to it: No space left on device (os error 28)",
            full.display()
        )
    );
    assert!(is_char_device(&full));
    assert!(c.tmp_is_empty());
    if full.starts_with(c.dir.path()) {
        assert_eq!(c.names(), with_job_files(&["full"]));
    }
}

#[test]
fn a_fifo_gets_exactly_the_bytes_a_file_gets() {
    let c = Case::new();
    let pipe = c.path("pipe");
    mkfifo(&pipe);
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            std::fs::File::open(&pipe)
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            got
        })
    };
    let (code, err) = c.run(&["--output", pipe.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let got = reader.join().unwrap();
    assert!(
        got == reference(),
        "the FIFO got {} bytes that differ",
        got.len()
    );
    assert!(is_fifo(&pipe));
    assert!(c.tmp_is_empty());
    assert_eq!(c.names(), with_job_files(&["pipe"]));
}

/// Process CPU time (utime + stime, clock ticks) and state, from /proc.
fn cpu_and_state(pid: u32) -> Option<(u64, char)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let state = f.first()?.chars().next()?;
    let (ut, st): (u64, u64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((ut + st, state))
}

#[test]
fn a_fifo_nobody_reads_does_not_hold_a_signal_off() {
    let c = Case::new();
    let pipe = c.path("pipe");
    mkfifo(&pipe);
    let mut child = c
        .command(&["--output", pipe.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it has done its work and sits waiting for a reader: no CPU
    // time used over half a second, asleep.
    let mut last = None;
    let mut still = 0;
    for _ in 0..300 {
        std::thread::sleep(Duration::from_millis(100));
        let now = cpu_and_state(child.id());
        if now.is_some_and(|(_, s)| s == 'S') && now.map(|n| n.0) == last {
            still += 1;
            if still == 5 {
                break;
            }
        } else {
            still = 0;
        }
        last = now.map(|n| n.0);
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t0 = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted by SIGINT after 3 integration(s)")
            && err.contains(&format!("{} did not get a complete output", pipe.display())),
        "{err}"
    );
    assert!(is_fifo(&pipe));
    assert!(c.tmp_is_empty());
    assert_eq!(c.names(), with_job_files(&["pipe"]));
}

#[test]
fn a_directory_is_refused_and_nothing_is_created() {
    let c = Case::new();
    let d = c.path("outdir");
    std::fs::create_dir(&d).unwrap();
    let link = c.path("to_dir");
    std::os::unix::fs::symlink(&d, &link).unwrap();
    let before = c.names();
    for p in [&d, &link] {
        for extra in [&[][..], &["--overwrite"][..]] {
            let mut args = vec!["--output", p.to_str().unwrap()];
            args.extend_from_slice(extra);
            let (code, err) = c.run(&args);
            assert_eq!(code, Some(2), "{err}");
            assert!(err.contains(": is a directory;"), "{err}");
            assert_eq!(c.names(), before);
            assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
            assert!(c.tmp_is_empty());
        }
    }
}

#[test]
fn resume_onto_a_device_or_fifo_is_refused() {
    let c = Case::new();
    let null = c.device("null").unwrap();
    let pipe = c.path("pipe");
    mkfifo(&pipe);
    let before = c.names();
    for (p, kind) in [(&null, "a character device"), (&pipe, "a FIFO")] {
        let (code, err) = c.run(&["--output", p.to_str().unwrap(), "--resume"]);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(
            err,
            format!(
                "emcorr: --resume: {} is {kind}: a run writing there keeps no checkpoint, so there is nothing to resume",
                p.display()
            )
        );
    }
    assert!(is_char_device(&null) && is_fifo(&pipe));
    assert_eq!(c.names(), before);
}

/// `emcorr fringe --out`, `plot --out` and `simulate --fifo --out DIR` write
/// *into* whatever their paths name (fringe and plot outputs are derived
/// files, cheap to make again, so an existing one is replaced as before);
/// none of them may remove or rename over a device node or FIFO.
#[test]
fn fringe_plot_and_simulate_never_replace_a_device_or_fifo() {
    let c = Case::new();
    let input = c.path("in.fits");
    std::fs::write(&input, reference()).unwrap();
    let null = c.device("null").unwrap();
    let emcorr = |args: &[&str]| {
        let out = Command::new(emcorr_path()).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!err.contains("panicked"), "{err}");
        (out.status.code(), out.stdout, err.trim_end().to_string())
    };
    let inp = input.to_str().unwrap();

    // fringe: into the device, and into a FIFO the same text as on stdout.
    let (code, table, err) = emcorr(&["fringe", inp]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = emcorr(&["fringe", inp, "--out", null.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(is_char_device(&null));
    let pipe = c.path("pipe");
    mkfifo(&pipe);
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::read(&pipe).unwrap())
    };
    let (code, _, err) = emcorr(&["fringe", inp, "--out", pipe.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(reader.join().unwrap(), table);
    assert!(is_fifo(&pipe));

    // plot: the format comes from the name, so a device is refused up front.
    let (code, _, err) = emcorr(&["plot", inp, "--spectra", "--out", null.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.ends_with("plots are PNG files: give a name ending in .png"),
        "{err}"
    );
    assert!(is_char_device(&null));

    // simulate --fifo replaces a station's file with a pipe, but never a
    // device node.
    let sim = c.path("sim");
    std::fs::create_dir(&sim).unwrap();
    // Only with a private device node (as root): the system's are not moved.
    let Some(dev) = c.device("full").filter(|d| d.starts_with(c.dir.path())) else {
        return;
    };
    let t6 = sim.join("T6.vdif");
    std::fs::rename(&dev, &t6).unwrap();
    let (code, _, err) = emcorr(&[
        "simulate",
        "--fifo",
        "--seconds",
        "1",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.ends_with(&format!(
            "{}: is a character device; --fifo replaces only a regular file, FIFO or symbolic link there",
            t6.display()
        )),
        "{err}"
    );
    assert!(is_char_device(&t6));
}
