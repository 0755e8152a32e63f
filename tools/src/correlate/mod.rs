//! The decisions behind `emcorr correlate`, kept out of the CLI
//! (`crate::cli::correlate` handles arguments, progress and printing) so
//! that the MPI ranks, the demo and tests make them the same way.
//!
//! One concept per module: [`budget`] (delay spans and the memory check),
//! [`sources`] (opening the recordings), [`guards`] (the reliability guards
//! around the engine's source and sink), [`checkpoint`] (what a checkpoint
//! belongs to), [`plan`] (a one-span job's `--dry-run` plan) and
//! [`summary`] (what a finished run reports).

pub mod budget;
pub mod checkpoint;
pub mod guards;
pub mod plan;
pub mod sources;
pub mod summary;

pub use budget::{centre_spread, check_memory, delay_span};
pub use checkpoint::checkpoint_fingerprint;
pub use guards::{test_pause, CheckedSink};
pub use plan::{Recording, SpanPlan};
pub use sources::{open_guarded, open_sources, Opened};
pub use summary::{summary_json, summary_line};

use crate::failure::Failure;
use correlator::engine::EngineError;

/// An engine failure as the process reports it: bad input is exit code 2,
/// anything else (reading, writing) an I/O failure.
pub fn engine_failure(e: EngineError) -> Failure {
    match e {
        EngineError::BadInput(m) => Failure::BadInput(m),
        EngineError::Io(m) | EngineError::Sink(m) => Failure::Io(m),
    }
}
