//! What can go wrong reading or writing FITS-IDI: one line naming the file, the
//! table, keyword or column, and what is wrong.

use std::path::PathBuf;

use super::cfits::CfError;
use crate::output::TargetError;

#[derive(Debug, thiserror::Error)]
pub enum IdiError {
    /// The header or a row given to the writer is inconsistent.
    #[error("{}: invalid FITS-IDI content: {why}", path.display())]
    Invalid { path: PathBuf, why: String },

    /// A table the reader needs is not in the file.
    #[error("{}: table {table} is missing", path.display())]
    MissingTable { path: PathBuf, table: String },

    #[error("{}: table {table}: keyword {keyword} is missing", path.display())]
    MissingKeyword {
        path: PathBuf,
        table: String,
        keyword: String,
    },

    #[error("{}: table {table}: keyword {keyword}: {why}", path.display())]
    BadKeyword {
        path: PathBuf,
        table: String,
        keyword: String,
        why: String,
    },

    #[error("{}: table {table}: column {column} is missing", path.display())]
    MissingColumn {
        path: PathBuf,
        table: String,
        column: String,
    },

    #[error("{}: table {table}: column {column}: {why}", path.display())]
    BadColumn {
        path: PathBuf,
        table: String,
        column: String,
        why: String,
    },

    /// cfitsio refused an operation (a corrupt file, a full disk, ...).
    #[error("{}: {context}: {error}", path.display())]
    Fits {
        path: PathBuf,
        context: String,
        error: FitsFailure,
    },

    /// Where the output goes was refused or could not be written (see
    /// [`crate::output`]).
    #[error(transparent)]
    Target(#[from] TargetError),

    #[error("{}: {context}: {source}", path.display())]
    Io {
        path: PathBuf,
        context: String,
        source: std::io::Error,
    },
}

/// cfitsio's status code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct FitsFailure {
    pub status: i32,
    pub message: String,
}

impl std::fmt::Display for FitsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (cfitsio status {})", self.message, self.status)
    }
}

impl From<CfError> for FitsFailure {
    fn from(e: CfError) -> Self {
        FitsFailure {
            status: e.status,
            message: e.text,
        }
    }
}

impl IdiError {
    /// True for failures of the system (I/O), false for bad content. The CLI
    /// maps these to exit codes 3 and 2.
    pub fn is_io(&self) -> bool {
        match self {
            IdiError::Io { .. } => true,
            IdiError::Target(e) => e.is_io(),
            // cfitsio's I/O-class codes: 104-114 (open, read, write, seek, ...).
            IdiError::Fits { error, .. } => (101..=114).contains(&error.status),
            _ => false,
        }
    }
}
