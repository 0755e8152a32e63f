//! What can go wrong deciding where an output goes and putting it there: one
//! line naming the path as given (and where its symbolic link leads) and what
//! is wrong.

use std::path::{Path, PathBuf};

/// A failure of [`super::OutputTarget`] or [`super::Stage`].
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The path is (or its link leads to) something an output must never be
    /// written over or into: a directory, a block device, a socket.
    #[error("{}: is {what}; an output must be a regular file (or not exist yet), a character device or a FIFO", shown(given, path))]
    NotAFile {
        given: PathBuf,
        path: PathBuf,
        what: &'static str,
    },

    /// A regular file is there and replacing it was not asked for.
    #[error("{}: exists", shown(given, path))]
    Exists { given: PathBuf, path: PathBuf },

    /// A file (or something else) appeared under the final name while the
    /// output was being written; it was left alone and the finished output
    /// kept in `partial`.
    #[error("{}: appeared while the output was being written and was not replaced; the finished output is in {}", path.display(), partial.display())]
    Appeared { path: PathBuf, partial: PathBuf },

    /// Symbolic links that lead round in a circle (or too many of them).
    #[error("{}: too many levels of symbolic links", given.display())]
    LinkLoop { given: PathBuf },

    /// Asked to stop (a signal) while waiting for a FIFO's reader or for
    /// room in the pipe.
    #[error("{}: interrupted while writing the output to it", path.display())]
    Cancelled { path: PathBuf },

    /// The system refused an operation (a missing directory, a full disk or
    /// device, a reader that closed its end of a FIFO).
    #[error("{}: {context}: {source}", path.display())]
    Io {
        path: PathBuf,
        context: String,
        source: std::io::Error,
    },
}

impl TargetError {
    /// True for failures of the system (exit code 3), false for a path that
    /// is wrong as given (exit code 2) or a cancellation.
    pub fn is_io(&self) -> bool {
        matches!(self, TargetError::Io { .. })
    }

    pub(crate) fn io(path: &Path, context: &str, source: std::io::Error) -> Self {
        TargetError::Io {
            path: path.to_path_buf(),
            context: context.to_string(),
            source,
        }
    }
}

/// `GIVEN`, or `GIVEN (a link to PATH)` when a symbolic link was followed.
pub(crate) fn shown(given: &Path, path: &Path) -> String {
    if given == path {
        given.display().to_string()
    } else {
        format!("{} (a link to {})", given.display(), path.display())
    }
}
