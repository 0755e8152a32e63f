//! Why an export was refused: one line naming the file, the row (1-based,
//! counted over every document in the file) or key, and what is wrong.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The fringe file could not be read at all (exit 2 if missing, else 3).
    #[error("{file}: cannot read: {why}")]
    Read {
        file: PathBuf,
        why: String,
        missing: bool,
    },
    /// Not JSON, or not `emcorr fringe --format json` output.
    #[error("{file}: {why}")]
    Syntax { file: PathBuf, why: String },
    /// One row lacks a key or has a value the format cannot hold.
    #[error("{file}: row {row} ({what}): key `{key}`: {why}")]
    Row {
        file: PathBuf,
        row: usize,
        /// "baseline A-B, scan N" (what of the row could be read).
        what: String,
        key: String,
        why: String,
    },
    /// The job cannot place a station or source the rows name.
    #[error("{file}: {why}")]
    Job { file: PathBuf, why: String },
    /// Nothing to write.
    #[error("{file}: no observation to export: {why}")]
    Empty { file: PathBuf, why: String },
}

impl ExportError {
    /// A read the system refused (not a missing file) is an I/O failure.
    pub fn is_io(&self) -> bool {
        matches!(self, ExportError::Read { missing: false, .. })
    }
}
