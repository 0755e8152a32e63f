//! Why a session could not be built: one line naming the file (job or VEX),
//! the key or the VEX line, and what is wrong.

use formats::vex::VexError;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The VEX schedule could not be read or lacks something (its message
    /// names the file, line, block, def and statement).
    #[error("{0}")]
    Vex(#[from] VexError),
    /// The job file and the schedule do not fit together.
    #[error("{file}: key `{key}`: {why}")]
    Key {
        file: String,
        key: String,
        why: String,
    },
}

impl SessionError {
    /// A VEX that cannot be read from disk is an I/O failure; everything
    /// else is bad input.
    pub fn is_io(&self) -> bool {
        matches!(self, SessionError::Vex(e) if e.is_io())
    }
}
