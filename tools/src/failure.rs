//! How a run ends: every failure maps to one documented exit code.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success |
//! | 1    | internal error (a bug: please report it) |
//! | 2    | bad input: a file, job or argument that is wrong |
//! | 3    | I/O failure: a read or write that the system refused |
//! | 4    | `emcorr solve`: solved, but some parameters could not be estimated (rank deficiency; named in the output, which is written) |
//! | 130  | interrupted (SIGINT/SIGTERM) |

use std::fmt;

/// A failed run: which kind (the exit code) and a one-line message that names
/// the file, offset or key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Internal(String),
    BadInput(String),
    Io(String),
    /// A result was written but is incomplete (`emcorr solve`: parameters
    /// that could not be estimated).
    Incomplete(String),
    Interrupted(String),
}

impl Failure {
    /// The process exit code documented in the README.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Internal(_) => 1,
            Failure::BadInput(_) => 2,
            Failure::Io(_) => 3,
            Failure::Incomplete(_) => 4,
            Failure::Interrupted(_) => 130,
        }
    }

    /// The failure a process reported by exit code (another MPI rank's);
    /// unknown codes are internal errors.
    pub fn from_code(code: u8, message: String) -> Failure {
        match code {
            2 => Failure::BadInput(message),
            3 => Failure::Io(message),
            4 => Failure::Incomplete(message),
            130 => Failure::Interrupted(message),
            _ => Failure::Internal(message),
        }
    }

    /// The same kind of failure (so the same exit code) with another message.
    pub fn with_message(&self, message: String) -> Failure {
        Failure::from_code(self.exit_code(), message)
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Internal(m)
            | Failure::BadInput(m)
            | Failure::Io(m)
            | Failure::Incomplete(m)
            | Failure::Interrupted(m) => m,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Failure {}

impl From<formats::vdif::VdifError> for Failure {
    /// A file that is missing, empty, not VDIF, truncated or impossible is bad
    /// input (2); a read or write the system refused is an I/O failure (3);
    /// asking a stream for samples already discarded is a bug (1).
    fn from(e: formats::vdif::VdifError) -> Self {
        use formats::vdif::VdifError as E;
        match e {
            E::Discarded { .. } => Failure::Internal(e.to_string()),
            E::Io { .. } | E::Write { .. } => Failure::Io(e.to_string()),
            _ => Failure::BadInput(e.to_string()),
        }
    }
}

/// Write `text` to standard output and flush it. A refused write (a full
/// disk, a closed pipe) is an I/O failure (exit 3) with one line naming
/// stdout, never a panic.
pub fn print_stdout(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Io(format!("standard output: write failed: {e}")))
}
