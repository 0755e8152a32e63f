//! Where a finished output file goes, decided once from the path the user
//! gave, so that every writer (the FITS-IDI writer, `emcorr correlate` with
//! or without `--mpi`) treats a path the same way.
//!
//! An output is assembled somewhere else and put in place only when it is
//! complete, so nothing under the output name ever looks finished before it
//! is. What the path holds decides where it is assembled and how it is put
//! in place ([`OutputTarget::resolve`]):
//!
//! | the path is | assembled in | put in place at the end |
//! |-------------|--------------|-------------------------|
//! | nothing yet | `<path>.partial` | renamed to `<path>` (never over a file that appeared meanwhile) |
//! | a regular file | refused ([`TargetError::Exists`]) unless replacing was asked for; then `<path>.partial` | renamed over it: the old file stays whole until then |
//! | a symbolic link to a file or to nothing | as above, beside the link's *target* | the target is made or replaced; the link stays a link |
//! | a character device (`/dev/null`) or a FIFO, or a link to one (`/dev/stdout` onto a pipe or terminal) | a temporary file in the system's temporary directory, unlinked as soon as it is open (nothing is left there whatever ends the process) | copied into the device or FIFO, opened for writing without creating or truncating anything |
//! | a directory, block device or socket | refused ([`TargetError::NotAFile`]) | |
//!
//! Renaming over a path replaces whatever the path held, device nodes
//! included (as root), which is why a device or FIFO is never renamed over
//! and a file is replaced only on request. Opening a FIFO for writing
//! blocks until a reader opens it, and writing blocks while the pipe is
//! full: both are done non-blocking, polling a cancellation check
//! ([`OutputTarget::with_cancel`]) so that a signal can still end the wait.

mod error;
#[cfg(test)]
mod tests;

pub use error::TargetError;

use std::fs;
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Symbolic links followed before giving up (Linux's own limit, MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// How long a wait for a FIFO's reader (or for room in the pipe) sleeps
/// between cancellation checks.
const POLL_MS: u64 = 20;

/// Where the output ends up, symbolic links followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A regular file at `path`, which does not exist yet or may be
    /// replaced (`replace`).
    File { path: PathBuf, replace: bool },
    /// A character device (`fifo` false) or a FIFO at `path`, written into.
    Stream { path: PathBuf, fifo: bool },
}

/// An output path, resolved: what it is, and so how it is written.
#[derive(Debug, Clone)]
pub struct OutputTarget {
    given: PathBuf,
    dest: Destination,
    cancelled: fn() -> bool,
}

fn never() -> bool {
    false
}

impl OutputTarget {
    /// Decide what `given` is. `replace`: an existing regular file under the
    /// name (or a link's target) may be replaced at the end; without it
    /// such a file is refused with [`TargetError::Exists`].
    ///
    /// Nothing is created or changed here. A path whose directory is missing
    /// or not a directory resolves as a new file: the error comes, naming
    /// the directory, when the first file is created beside it.
    pub fn resolve(given: &Path, replace: bool) -> Result<OutputTarget, TargetError> {
        let target = |dest| OutputTarget {
            given: given.to_path_buf(),
            dest,
            cancelled: never,
        };
        let refuse = |what| TargetError::NotAFile {
            given: given.to_path_buf(),
            path: given.to_path_buf(),
            what,
        };
        // What the path finally names, as the kernel follows it: this also
        // sees through links that name no path, such as /dev/stdout onto a
        // pipe (/proc/self/fd/1 -> "pipe:[…]"), which are opened as given.
        match fs::metadata(given) {
            Ok(m) => {
                let ft = m.file_type();
                if ft.is_char_device() {
                    return Ok(target(Destination::Stream {
                        path: given.to_path_buf(),
                        fifo: false,
                    }));
                } else if ft.is_fifo() {
                    return Ok(target(Destination::Stream {
                        path: given.to_path_buf(),
                        fifo: true,
                    }));
                } else if !ft.is_file() {
                    return Err(refuse(file_kind(&ft)));
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(TargetError::LinkLoop {
                    given: given.to_path_buf(),
                })
            }
            // Nothing there (perhaps a dangling link), or a directory
            // problem: found below, or where the first file is made.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => return Err(TargetError::io(given, "cannot examine the output path", e)),
        }
        // A regular file or nothing: follow the links one by one to the
        // path that is (or will be) the file, beside which the partial file
        // goes and onto which it is renamed.
        let mut path = given.to_path_buf();
        for _ in 0..=MAX_LINKS {
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                // Nothing there yet (or a parent that is missing or not a
                // directory: found, with its own message, where the first
                // file is created beside it).
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    return Ok(target(Destination::File { path, replace }))
                }
                Err(e) => return Err(TargetError::io(&path, "cannot examine the output path", e)),
            };
            let ft = meta.file_type();
            if ft.is_symlink() {
                let to = fs::read_link(&path)
                    .map_err(|e| TargetError::io(&path, "cannot read the symbolic link", e))?;
                // A relative link is relative to the directory holding it.
                path = match path.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            } else if ft.is_file() {
                if !replace {
                    return Err(TargetError::Exists {
                        given: given.to_path_buf(),
                        path,
                    });
                }
                return Ok(target(Destination::File { path, replace }));
            } else {
                // Changed between the two looks.
                return Err(TargetError::NotAFile {
                    given: given.to_path_buf(),
                    path,
                    what: file_kind(&ft),
                });
            }
        }
        Err(TargetError::LinkLoop {
            given: given.to_path_buf(),
        })
    }

    /// Check `cancelled` while waiting for a FIFO's reader or for room in
    /// a pipe (e.g. "has a signal arrived?"); when it says true the wait
    /// ends with [`TargetError::Cancelled`].
    pub fn with_cancel(mut self, cancelled: fn() -> bool) -> Self {
        self.cancelled = cancelled;
        self
    }

    /// The path as given.
    pub fn given(&self) -> &Path {
        &self.given
    }

    /// Where the output ends up (symbolic links followed).
    pub fn path(&self) -> &Path {
        match &self.dest {
            Destination::File { path, .. } | Destination::Stream { path, .. } => path,
        }
    }

    pub fn destination(&self) -> &Destination {
        &self.dest
    }

    /// A character device or FIFO: written once at the end, so no partial
    /// file or checkpoint sits beside it.
    pub fn is_stream(&self) -> bool {
        matches!(self.dest, Destination::Stream { .. })
    }

    /// What the destination is, for messages ("a character device").
    pub fn kind(&self) -> &'static str {
        match self.dest {
            Destination::File { .. } => "a regular file",
            Destination::Stream { fifo: false, .. } => "a character device",
            Destination::Stream { fifo: true, .. } => "a FIFO",
        }
    }

    /// `<destination><suffix>` beside a file destination (the partial file,
    /// a checkpoint); `None` for a device or FIFO, beside which nothing of
    /// ours belongs.
    pub fn beside(&self, suffix: &str) -> Option<PathBuf> {
        match &self.dest {
            Destination::File { path, .. } => {
                let mut s = path.as_os_str().to_owned();
                s.push(suffix);
                Some(PathBuf::from(s))
            }
            Destination::Stream { .. } => None,
        }
    }

    /// `<destination>.partial`, where a file destination is assembled.
    pub fn partial_path(&self) -> Option<PathBuf> {
        self.beside(".partial")
    }

    /// Make room to assemble the output: for a file, a stale `.partial` is
    /// removed; for a device or FIFO a private temporary directory is made.
    /// The writer then creates its file at [`Stage::work_path`].
    pub fn stage(&self) -> Result<Stage, TargetError> {
        match &self.dest {
            Destination::File { .. } => {
                let partial = self.partial_path().unwrap_or_default();
                match fs::symlink_metadata(&partial) {
                    // Ours from an earlier run (or a link, of which only
                    // the link goes).
                    Ok(m) if m.is_file() || m.is_symlink() => {
                        fs::remove_file(&partial).map_err(|e| {
                            TargetError::io(&partial, "removing a stale partial file", e)
                        })?
                    }
                    Ok(m) => {
                        return Err(TargetError::NotAFile {
                            given: partial.clone(),
                            path: partial,
                            what: file_kind(&m.file_type()),
                        })
                    }
                    // Nothing there, or a directory problem that creating
                    // the file reports.
                    Err(_) => {}
                }
                Ok(Stage {
                    target: self.clone(),
                    work: partial,
                    temp_dir: None,
                    held: None,
                    keep: false,
                    done: false,
                })
            }
            Destination::Stream { path, .. } => {
                let dir = private_temp_dir().map_err(|(base, e)| {
                    TargetError::io(
                        &base,
                        &format!(
                            "cannot make a temporary directory there to assemble the output for {}",
                            path.display()
                        ),
                        e,
                    )
                })?;
                Ok(Stage {
                    target: self.clone(),
                    work: dir.join("output"),
                    temp_dir: Some(dir),
                    held: None,
                    keep: false,
                    done: false,
                })
            }
        }
    }
}

fn file_kind(ft: &fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// A new directory only this user can enter, in the system's temporary
/// directory (`$TMPDIR`, else /tmp); on failure, that directory and why.
fn private_temp_dir() -> Result<PathBuf, (PathBuf, io::Error)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("emcorr-{}-{nanos:08x}-{n}", std::process::id()));
        // create() fails if anything is there, so the directory is ours.
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err((base, e)),
        }
    }
    Err((base, last))
}

/// An output being assembled: created by [`OutputTarget::stage`], finished
/// by [`Stage::commit`]. Dropped unfinished, it removes what it made (a
/// file's `.partial` stays if [`Stage::keep_on_drop`] asked for it).
#[derive(Debug)]
pub struct Stage {
    target: OutputTarget,
    /// Where the writer creates its file.
    work: PathBuf,
    /// A device's or FIFO's private temporary directory, until the
    /// temporary file in it is unlinked.
    temp_dir: Option<PathBuf>,
    /// A device's or FIFO's temporary file, open, after it was unlinked.
    held: Option<fs::File>,
    keep: bool,
    done: bool,
}

impl Stage {
    /// Where the writer must create its file (it does not exist yet).
    pub fn work_path(&self) -> &Path {
        &self.work
    }

    /// The target being assembled for.
    pub fn target(&self) -> &OutputTarget {
        &self.target
    }

    /// What to call the file being written in a message: the `.partial`
    /// file, or the device with its temporary.
    pub fn label(&self) -> PathBuf {
        match &self.target.dest {
            Destination::File { .. } => self.work.clone(),
            Destination::Stream { path, .. } => PathBuf::from(format!(
                "{} (assembled in a temporary file in {})",
                path.display(),
                std::env::temp_dir().display()
            )),
        }
    }

    /// Tell the stage the writer has created its file. A device's or FIFO's
    /// temporary is opened and unlinked now (with its directory): the
    /// writer keeps writing through its own handle, and nothing is left in
    /// the temporary directory however the process ends.
    pub fn created(&mut self) -> Result<(), TargetError> {
        let Some(dir) = self.temp_dir.clone() else {
            return Ok(());
        };
        let f = fs::File::open(&self.work)
            .map_err(|e| TargetError::io(&self.work, "cannot open the temporary file", e))?;
        fs::remove_file(&self.work)
            .map_err(|e| TargetError::io(&self.work, "cannot unlink the temporary file", e))?;
        fs::remove_dir(&dir)
            .map_err(|e| TargetError::io(&dir, "cannot remove the temporary directory", e))?;
        self.held = Some(f);
        self.temp_dir = None;
        Ok(())
    }

    /// Keep (`true`) or remove (`false`, the default) a file destination's
    /// `.partial` when the stage is dropped unfinished (an interrupted run
    /// that may be resumed). A device's or FIFO's temporary never stays.
    pub fn keep_on_drop(&mut self, keep: bool) {
        self.keep = keep;
    }

    /// Put the finished output in place; the writer must have closed its
    /// file. Returns where it went.
    pub fn commit(mut self) -> Result<PathBuf, TargetError> {
        let out = match self.target.dest.clone() {
            Destination::File { path, replace } => self.commit_file(&path, replace),
            Destination::Stream { path, fifo } => self.commit_stream(&path, fifo),
        };
        if out.is_ok() {
            self.done = true;
        }
        out
    }

    fn commit_file(&mut self, path: &Path, replace: bool) -> Result<PathBuf, TargetError> {
        fs::File::open(&self.work)
            .and_then(|f| f.sync_all())
            .map_err(|e| TargetError::io(&self.work, "syncing to disk", e))?;
        let appeared = |s: &mut Stage| {
            // The finished output must not be lost to the name's clash.
            s.keep = true;
            TargetError::Appeared {
                path: path.to_path_buf(),
                partial: s.work.clone(),
            }
        };
        // What is under the name now: a device node or directory that
        // appeared since `resolve` must not be renamed over either.
        match fs::symlink_metadata(path) {
            Ok(m) if !(m.is_file() || m.is_symlink()) => return Err(appeared(self)),
            _ => {}
        }
        let renamed = if replace {
            fs::rename(&self.work, path)
        } else {
            rename_noreplace(&self.work, path)
        };
        match renamed {
            Ok(()) => Ok(path.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(appeared(self)),
            Err(e) => Err(TargetError::io(
                path,
                "renaming the finished .partial file",
                e,
            )),
        }
    }

    fn commit_stream(&mut self, path: &Path, fifo: bool) -> Result<PathBuf, TargetError> {
        let mut src = match self.held.take() {
            Some(f) => f,
            None => fs::File::open(&self.work)
                .map_err(|e| TargetError::io(&self.work, "cannot open the temporary file", e))?,
        };
        src.seek(io::SeekFrom::Start(0))
            .map_err(|e| TargetError::io(path, "rereading the temporary file", e))?;
        let mut dest = self.open_stream(path, fifo)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(TargetError::io(path, "rereading the temporary file", e)),
            };
            self.write_all_polling(&mut dest, &buf[..n], path)?;
        }
        // A FIFO's reader sees end of file once this is closed.
        drop(dest);
        Ok(path.to_path_buf())
    }

    /// The device or FIFO, opened for writing: never created, never
    /// truncated, non-blocking so that waiting can be cancelled.
    fn open_stream(&self, path: &Path, fifo: bool) -> Result<fs::File, TargetError> {
        let dest = loop {
            let r = fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
                .open(path);
            match r {
                Ok(f) => break f,
                // A FIFO with no reader yet: wait for one.
                Err(e) if fifo && e.raw_os_error() == Some(libc::ENXIO) => {
                    self.check_cancel(path)?;
                    std::thread::sleep(Duration::from_millis(POLL_MS));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.check_cancel(path)?,
                Err(e) => return Err(TargetError::io(path, "cannot open it for writing", e)),
            }
        };
        // Still what `resolve` saw (it may have been replaced meanwhile; a
        // regular file here would be written into, not truncated).
        let ft = dest
            .metadata()
            .map_err(|e| TargetError::io(path, "cannot examine it", e))?
            .file_type();
        if !(ft.is_char_device() || ft.is_fifo()) {
            return Err(TargetError::NotAFile {
                given: self.target.given.clone(),
                path: path.to_path_buf(),
                what: if ft.is_file() {
                    "now a regular file"
                } else {
                    file_kind(&ft)
                },
            });
        }
        Ok(dest)
    }

    fn check_cancel(&self, path: &Path) -> Result<(), TargetError> {
        if (self.target.cancelled)() {
            Err(TargetError::Cancelled {
                path: path.to_path_buf(),
            })
        } else {
            Ok(())
        }
    }

    /// Write all of `bytes` to a non-blocking descriptor, waiting in poll(2)
    /// for room (a FIFO whose reader is slow) and checking for cancellation
    /// between waits.
    fn write_all_polling(
        &self,
        dest: &mut fs::File,
        mut bytes: &[u8],
        path: &Path,
    ) -> Result<(), TargetError> {
        use std::os::fd::AsRawFd;
        self.check_cancel(path)?;
        while !bytes.is_empty() {
            match dest.write(bytes) {
                Ok(0) => {
                    return Err(TargetError::io(
                        path,
                        "writing the finished output to it",
                        io::ErrorKind::WriteZero.into(),
                    ))
                }
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.check_cancel(path)?;
                    let mut p = libc::pollfd {
                        fd: dest.as_raw_fd(),
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd; the result only decides
                    // whether to retry, and write() reports any error.
                    unsafe { libc::poll(&mut p, 1, POLL_MS as libc::c_int) };
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.check_cancel(path)?,
                Err(e) => {
                    return Err(TargetError::io(
                        path,
                        "writing the finished output to it",
                        e,
                    ))
                }
            }
        }
        Ok(())
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match (&self.target.dest, &self.temp_dir) {
            (Destination::File { .. }, _) => {
                if !self.keep {
                    let _ = fs::remove_file(&self.work);
                }
            }
            // Not yet unlinked (the writer failed to create it, or failed
            // before `created`).
            (Destination::Stream { .. }, Some(dir)) => {
                let _ = fs::remove_file(&self.work);
                let _ = fs::remove_dir(dir);
            }
            // Unlinked: closing `held` frees it.
            (Destination::Stream { .. }, None) => {}
        }
    }
}

/// rename(2) that fails with `AlreadyExists` instead of replacing a file
/// that is there (one that appeared while the output was being written).
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte")
            })
        };
        let (a, b) = (c(from)?, c(to)?);
        // SAFETY: two NUL-terminated paths, relative to the working directory.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        // Filesystems without RENAME_NOREPLACE say EINVAL: check, then rename.
        if !matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
            return Err(e);
        }
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::ErrorKind::AlreadyExists.into());
    }
    fs::rename(from, to)
}
