//! What a run's checkpoint belongs to.
//!
//! Why in the library: `--resume` must refuse a checkpoint of another job,
//! schedule, build or mode, and every rank and every mode of a session has
//! to compute the same fingerprint.

use crate::failure::Failure;
use crate::reliability;
use correlator::Job;
use std::path::Path;

/// What a checkpoint belongs to: the job file, a session's schedule, this
/// build, and for one mode of a session with several, that mode (so that
/// one mode's checkpoint cannot be taken for another's).
///
/// `job_file` is the job file as given (`emcorr correlate JOB`).
pub fn checkpoint_fingerprint(
    job_file: &Path,
    job: &Job,
    mode: Option<&str>,
) -> Result<u64, Failure> {
    let job_text = std::fs::read(job_file)
        .map_err(|e| Failure::Io(format!("{}: cannot read: {e}", job_file.display())))?;
    let vex_text = match &job.vex {
        Some(v) => std::fs::read(v)
            .map_err(|e| Failure::Io(format!("{}: cannot read: {e}", v.display())))?,
        None => Vec::new(),
    };
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    Ok(match mode {
        None => reliability::fnv64(&[&job_text, &vex_text, version]),
        Some(m) => reliability::fnv64(&[&job_text, &vex_text, version, m.as_bytes()]),
    })
}
