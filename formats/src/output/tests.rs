//! Each kind of output path, checked against what the filesystem says
//! afterwards (file types from lstat, bytes read back), never against the
//! module's own view of it.

use super::*;
use std::os::unix::fs::FileTypeExt;
use std::sync::atomic::AtomicBool;

fn mkfifo(p: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// The device nodes these tests write into must still be device nodes (the
/// tests run as root, who could replace them).
fn assert_char_device(p: &str) {
    let m = fs::symlink_metadata(p).unwrap();
    assert!(m.file_type().is_char_device(), "{p} is no longer a device");
}

/// Stage, write `bytes` where the writer would, and commit.
fn put(t: &OutputTarget, bytes: &[u8]) -> Result<PathBuf, TargetError> {
    let mut s = t.stage()?;
    fs::write(s.work_path(), bytes).unwrap();
    s.created()?;
    s.commit()
}

#[test]
fn a_new_path_is_a_file_assembled_beside_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("out.fits");
    let t = OutputTarget::resolve(&p, false).unwrap();
    assert_eq!(
        t.destination(),
        &Destination::File {
            path: p.clone(),
            replace: false
        }
    );
    let mut s = t.stage().unwrap();
    assert_eq!(s.work_path(), d.path().join("out.fits.partial"));
    fs::write(s.work_path(), b"abc").unwrap();
    s.created().unwrap();
    assert!(!p.exists(), "nothing under the name before commit");
    assert_eq!(s.commit().unwrap(), p);
    assert_eq!(fs::read(&p).unwrap(), b"abc");
    assert!(!d.path().join("out.fits.partial").exists());
}

#[test]
fn an_existing_file_is_refused_unless_replacing_and_stays_whole_until_commit() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("out.fits");
    fs::write(&p, b"last night").unwrap();
    let e = OutputTarget::resolve(&p, false).unwrap_err();
    assert!(matches!(e, TargetError::Exists { .. }) && !e.is_io(), "{e}");
    assert_eq!(e.to_string(), format!("{}: exists", p.display()));

    let t = OutputTarget::resolve(&p, true).unwrap();
    // Dropped unfinished: the old file is untouched and the partial goes.
    {
        let s = t.stage().unwrap();
        fs::write(s.work_path(), b"half").unwrap();
    }
    assert_eq!(fs::read(&p).unwrap(), b"last night");
    assert!(!d.path().join("out.fits.partial").exists());
    put(&t, b"tonight").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"tonight");
}

#[test]
fn a_symlink_is_followed_and_stays_a_link() {
    let d = tempfile::tempdir().unwrap();
    let real = d.path().join("real.fits");
    fs::write(&real, b"old").unwrap();
    // Relative, as `ln -s real.fits link.fits` makes it.
    let link = d.path().join("link.fits");
    std::os::unix::fs::symlink("real.fits", &link).unwrap();
    let e = OutputTarget::resolve(&link, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: exists",
            error::shown(&link, &d.path().join("real.fits"))
        )
    );
    let t = OutputTarget::resolve(&link, true).unwrap();
    assert_eq!(t.path(), real);
    assert_eq!(
        t.partial_path().unwrap(),
        d.path().join("real.fits.partial")
    );
    put(&t, b"new").unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(fs::read(&real).unwrap(), b"new");
    assert_eq!(fs::read(&link).unwrap(), b"new");

    // Dangling, into an existing directory: the target is created.
    let dangling = d.path().join("dangling.fits");
    std::os::unix::fs::symlink(d.path().join("made.fits"), &dangling).unwrap();
    put(&OutputTarget::resolve(&dangling, false).unwrap(), b"x").unwrap();
    assert_eq!(fs::read(d.path().join("made.fits")).unwrap(), b"x");
    assert!(fs::symlink_metadata(&dangling).unwrap().is_symlink());

    // Dangling into a missing directory: an I/O failure naming it, at stage
    // time for the writer (resolve itself only follows the link).
    let lost = d.path().join("lost.fits");
    std::os::unix::fs::symlink(d.path().join("nodir/x.fits"), &lost).unwrap();
    let t = OutputTarget::resolve(&lost, false).unwrap();
    let mut s = t.stage().unwrap();
    assert!(fs::write(s.work_path(), b"x").is_err());
    assert!(s.created().is_ok());
}

#[test]
fn a_symlink_loop_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let e = OutputTarget::resolve(&a, true).unwrap_err();
    assert!(
        matches!(e, TargetError::LinkLoop { .. }) && !e.is_io(),
        "{e}"
    );
}

#[test]
fn directories_block_devices_and_sockets_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let link = d.path().join("to_dir");
    std::os::unix::fs::symlink(d.path(), &link).unwrap();
    let sock = d.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let mut cases = vec![
        (d.path().to_path_buf(), "a directory"),
        (link, "a directory"),
        (sock, "a socket"),
    ];
    // Any block device the machine has (none in most containers).
    if let Some(b) = fs::read_dir("/dev").ok().and_then(|r| {
        r.filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_block_device()))
    }) {
        cases.push((b, "a block device"));
    }
    for (p, what) in cases {
        for replace in [false, true] {
            let e = OutputTarget::resolve(&p, replace).unwrap_err();
            assert!(!e.is_io(), "{e}");
            assert!(e.to_string().contains(&format!(": is {what};")), "{e}");
        }
    }
}

#[test]
fn dev_null_is_written_into_and_stays_a_device() {
    let t = OutputTarget::resolve(Path::new("/dev/null"), false).unwrap();
    assert!(t.is_stream() && t.partial_path().is_none() && t.beside(".checkpoint").is_none());
    let mut s = t.stage().unwrap();
    let work = s.work_path().to_path_buf();
    assert!(work.starts_with(std::env::temp_dir()));
    fs::write(&work, vec![7u8; 3 << 20]).unwrap();
    s.created().unwrap();
    // Unlinked with its directory as soon as it is open.
    assert!(!work.exists() && !work.parent().unwrap().exists());
    assert_eq!(s.commit().unwrap(), Path::new("/dev/null"));
    assert_char_device("/dev/null");
}

#[test]
fn dev_full_fails_as_io_naming_it_and_leaves_nothing() {
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full: skipped");
        return;
    }
    let t = OutputTarget::resolve(Path::new("/dev/full"), false).unwrap();
    let s = t.stage().unwrap();
    let dir = s.work_path().parent().unwrap().to_path_buf();
    fs::write(s.work_path(), b"SIMPLE").unwrap();
    let e = {
        let mut s = s;
        s.created().unwrap();
        s.commit().unwrap_err()
    };
    assert!(e.is_io(), "{e}");
    assert!(
        e.to_string()
            .starts_with("/dev/full: writing the finished output to it: No space left on device"),
        "{e}"
    );
    assert!(!dir.exists());
    assert_char_device("/dev/full");
    assert_char_device("/dev/null");
}

#[test]
fn an_unfinished_stream_stage_leaves_no_temporary() {
    let t = OutputTarget::resolve(Path::new("/dev/null"), false).unwrap();
    // Dropped before the writer created its file, and after.
    let s = t.stage().unwrap();
    let dir = s.work_path().parent().unwrap().to_path_buf();
    assert!(dir.is_dir());
    drop(s);
    assert!(!dir.exists());
    let s = t.stage().unwrap();
    let dir = s.work_path().parent().unwrap().to_path_buf();
    fs::write(s.work_path(), b"x").unwrap();
    drop(s);
    assert!(!dir.exists());
    assert_char_device("/dev/null");
}

#[test]
fn a_fifo_receives_the_whole_file_once_a_reader_comes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("pipe");
    mkfifo(&p);
    let t = OutputTarget::resolve(&p, false).unwrap();
    assert_eq!(t.kind(), "a FIFO");
    // Larger than a pipe's buffer, so the writer has to wait for room.
    let bytes: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let reader = {
        let p = p.clone();
        std::thread::spawn(move || {
            // Comes late: the writer waits for it.
            std::thread::sleep(Duration::from_millis(150));
            let mut f = fs::File::open(&p).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match f.read(&mut buf).unwrap() {
                    0 => break,
                    n => {
                        got.extend_from_slice(&buf[..n]);
                        // A slow reader.
                        if got.len() % (1 << 20) < 4096 {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
            }
            got
        })
    };
    put(&t, &bytes).unwrap();
    assert!(reader.join().unwrap() == bytes);
    assert!(fs::symlink_metadata(&p).unwrap().file_type().is_fifo());
}

static CANCEL: AtomicBool = AtomicBool::new(false);

#[test]
fn waiting_for_a_fifo_reader_can_be_cancelled() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("pipe");
    mkfifo(&p);
    let t = OutputTarget::resolve(&p, false)
        .unwrap()
        .with_cancel(|| CANCEL.load(Ordering::SeqCst));
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(100));
        CANCEL.store(true, Ordering::SeqCst);
    });
    let t0 = std::time::Instant::now();
    let e = put(&t, b"never read").unwrap_err();
    assert!(matches!(e, TargetError::Cancelled { .. }), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(fs::symlink_metadata(&p).unwrap().file_type().is_fifo());
}

#[test]
fn a_file_that_appears_meanwhile_is_not_replaced_and_the_output_is_kept() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("out.fits");
    let t = OutputTarget::resolve(&p, false).unwrap();
    let mut s = t.stage().unwrap();
    fs::write(s.work_path(), b"ours").unwrap();
    s.created().unwrap();
    fs::write(&p, b"theirs").unwrap();
    let e = s.commit().unwrap_err();
    assert!(
        matches!(e, TargetError::Appeared { .. }) && !e.is_io(),
        "{e}"
    );
    assert_eq!(fs::read(&p).unwrap(), b"theirs");
    assert_eq!(
        fs::read(d.path().join("out.fits.partial")).unwrap(),
        b"ours"
    );
}

#[test]
fn a_stale_partial_is_replaced_but_a_fifo_there_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("out.fits");
    fs::write(d.path().join("out.fits.partial"), b"stale").unwrap();
    put(&OutputTarget::resolve(&p, false).unwrap(), b"fresh").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"fresh");

    let q = d.path().join("q.fits");
    mkfifo(&d.path().join("q.fits.partial"));
    let e = OutputTarget::resolve(&q, false)
        .unwrap()
        .stage()
        .unwrap_err();
    assert!(e.to_string().contains("is a FIFO"), "{e}");
    assert!(fs::symlink_metadata(d.path().join("q.fits.partial"))
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn a_link_that_names_no_path_such_as_dev_stdout_onto_a_pipe_is_written_into() {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: a two-element array for pipe(2).
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fresh descriptors, each owned once.
    let (mut r, w) = unsafe { (fs::File::from_raw_fd(fds[0]), fs::File::from_raw_fd(fds[1])) };
    // What /dev/stdout leads to when stdout is this pipe.
    let link = PathBuf::from(format!("/proc/self/fd/{}", fds[1]));
    assert!(fs::read_link(&link)
        .unwrap()
        .to_string_lossy()
        .starts_with("pipe:["));
    let t = OutputTarget::resolve(&link, false).unwrap();
    assert_eq!(
        t.destination(),
        &Destination::Stream {
            path: link.clone(),
            fifo: true
        }
    );
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        got
    });
    put(&t, b"through stdout").unwrap();
    drop(w);
    assert_eq!(reader.join().unwrap(), b"through stdout");
}
