//! What can stop a correlation. Display is one line naming the station,
//! subband or file and what is wrong.

/// Why the engine could not correlate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The job and the recordings do not fit together (wrong rates, missing
    /// subbands, no data in the job span, ...): the user's input is wrong.
    #[error("{0}")]
    BadInput(String),
    /// A read or write failed underneath the engine.
    #[error("{0}")]
    Io(String),
    /// The output sink refused a row.
    #[error("{0}")]
    Sink(String),
}

impl EngineError {
    pub fn bad(why: impl Into<String>) -> Self {
        EngineError::BadInput(why.into())
    }
}
