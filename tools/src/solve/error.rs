//! What can go wrong in `emcorr solve`: one line naming the file and the
//! row or key.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    /// A fringe file that cannot be read at all (exit 3).
    #[error("{file}: {why}")]
    Read { file: PathBuf, why: String },
    /// A fringe file that is not what `emcorr fringe --format json` writes.
    #[error("{file}: {why}")]
    Format { file: PathBuf, why: String },
    /// One row of a fringe file (1-based, counted over the file's documents).
    #[error("{file}: row {row}: key `{key}`: {why}")]
    Row {
        file: PathBuf,
        row: usize,
        key: String,
        why: String,
    },
    /// The job (or `--estimate`) cannot describe this solve.
    #[error("{0}")]
    Setup(String),
    /// The delay model failed (kernels, EOP, coverage).
    #[error("delay model: {0}")]
    Model(String),
    /// The iteration does not converge or the normal matrix cannot be inverted.
    #[error("least squares: {0}")]
    Numerical(String),
}
