//! Why a job file was refused: one line naming the file, the key and what is
//! wrong.

use std::path::PathBuf;

/// A job file that could not be read or is not valid. Display is one line
/// naming the file, the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{file}: cannot read: {why}")]
    Read { file: PathBuf, why: String },
    #[error("{file}: {why}")]
    Syntax { file: PathBuf, why: String },
    #[error("{file}: key `{key}`: {why}")]
    Key {
        file: PathBuf,
        key: String,
        why: String,
    },
}
