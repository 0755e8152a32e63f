//! The `--dry-run` plan of a one-span job (a session's is
//! `correlator::session`'s): its stations and the recordings each would
//! read, with their sizes.
//!
//! Why a struct: the plan is computed here, without opening a recording;
//! the CLI only prints it, as text or JSON.

use correlator::Job;
use std::path::PathBuf;

/// What a one-span job would correlate.
pub struct SpanPlan {
    /// The job's name.
    pub job: String,
    /// Where the output would go.
    pub output: PathBuf,
    /// Per station, in job order: its name and recordings.
    pub stations: Vec<(String, Vec<Recording>)>,
}

/// One recording of a station.
pub struct Recording {
    pub file: PathBuf,
    /// Its size, `None` when it is not there (or cannot be examined).
    pub bytes: Option<u64>,
}

impl SpanPlan {
    /// The plan of `job` writing to `output` (looks only at file sizes).
    pub fn of(job: &Job, output: PathBuf) -> SpanPlan {
        let stations = job
            .stations
            .iter()
            .map(|st| {
                let files = st
                    .files
                    .iter()
                    .map(|f| Recording {
                        file: f.clone(),
                        bytes: std::fs::metadata(f).map(|m| m.len()).ok(),
                    })
                    .collect();
                (st.name.clone(), files)
            })
            .collect();
        SpanPlan {
            job: job.name.clone(),
            output,
            stations,
        }
    }
}
