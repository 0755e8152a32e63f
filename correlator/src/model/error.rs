//! Why a delay model could not be built: one line naming the file or key.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A problem with the job as a whole (message names file and key).
    #[error("{0}")]
    Input(String),
    /// A job key whose value the model cannot use.
    #[error("{file}: key `{key}`: {why}")]
    Key {
        file: PathBuf,
        key: String,
        why: String,
    },
    /// A data file (kernel, EOP, OEM) that is missing, unreadable or malformed.
    #[error("{file}: {why}")]
    File { file: PathBuf, why: String },
    /// The kernels do not give what the model needs (body, frame or time span).
    #[error("model.kernels [{files}]: {why}")]
    Ephemeris { files: String, why: String },
}
