//! What can go wrong reading or writing VDIF, always said in one line that names
//! the file, the byte offset and what is wrong.

use std::path::{Path, PathBuf};

/// A VDIF failure. `Display` is one line: `FILE: byte OFFSET: what is wrong`.
#[derive(Debug, thiserror::Error)]
pub enum VdifError {
    /// The file could not be opened or mapped (missing, unreadable, a directory).
    #[error("{}: cannot open: {source}", show(path))]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file holds no bytes at all.
    #[error("{}: byte 0: empty file, no VDIF frame", show(path))]
    Empty { path: PathBuf },
    /// The first header does not look like VDIF at all.
    #[error("{}: byte {offset}: not a VDIF file: {what}", show(path))]
    NotVdif {
        path: PathBuf,
        offset: u64,
        what: String,
    },
    /// A header with impossible or unsupported values.
    #[error("{}: byte {offset}: bad VDIF header: {what}", show(path))]
    BadHeader {
        path: PathBuf,
        offset: u64,
        what: String,
    },
    /// The file ends inside a frame; the complete frames before it are usable.
    #[error(
        "{}: byte {offset}: truncated frame: {have} of {need} bytes present",
        show(path)
    )]
    Truncated {
        path: PathBuf,
        offset: u64,
        have: u64,
        need: u64,
    },
    /// Bytes that hold no usable frame: a bad header and everything up to the
    /// next frame found (or to the end of the data, `to_end`). Readers report
    /// the range and go on after it; no sample in it is used.
    #[error(
        "{}: byte {offset}: {what}; skipped {} bytes to {}",
        show(path),
        end - offset,
        if *to_end { "the end of the data (no frame follows)".to_string() } else { format!("the next frame at byte {end}") }
    )]
    Corrupted {
        path: PathBuf,
        offset: u64,
        end: u64,
        to_end: bool,
        what: String,
    },
    /// Files or threads that cannot form one station's recording (different
    /// station, format or frame size; overlapping files).
    #[error("{}: byte {offset}: {what}", show(path))]
    Inconsistent {
        path: PathBuf,
        offset: u64,
        what: String,
    },
    /// A read the system refused part way through.
    #[error("{}: byte {offset}: read failed: {source}", show(path))]
    Io {
        path: PathBuf,
        offset: u64,
        source: std::io::Error,
    },
    /// A write the system refused (the writer's sink).
    #[error("VDIF writer: frame {frame}: write failed: {source}")]
    Write { frame: u64, source: std::io::Error },
    /// A streaming source was asked for samples it has already let go of.
    #[error(
        "{}: sample {sample}: already discarded from the stream's window (oldest kept: {oldest})",
        show(path)
    )]
    Discarded {
        path: PathBuf,
        sample: i64,
        oldest: i64,
    },
    /// A wait for a stream (its writer to appear, its next frame) given up
    /// because the run was cancelled (a signal).
    #[error("{}: interrupted while waiting for the stream", show(path))]
    Interrupted { path: PathBuf },
    /// A request the reader or writer cannot honour (bad thread, channel,
    /// sample rate or writer settings).
    #[error("{context}: {what}")]
    Invalid { context: String, what: String },
}

impl VdifError {
    /// True when the fault is in the input (a file, argument or setting), not
    /// the system refusing a read or write nor a caller asking a stream for
    /// samples it already discarded.
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            VdifError::Io { .. }
                | VdifError::Write { .. }
                | VdifError::Discarded { .. }
                | VdifError::Interrupted { .. }
        )
    }

    pub(crate) fn invalid(context: impl Into<String>, what: impl Into<String>) -> Self {
        VdifError::Invalid {
            context: context.into(),
            what: what.into(),
        }
    }
}

/// How a path is named in messages: `-` is standard input.
pub fn show(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}
