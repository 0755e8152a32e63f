//! Where `emcorr correlate` writes: the output path resolved once
//! ([`formats::output::OutputTarget`], the same under `--mpi`, where rank 0
//! writes), the checkpoint beside it, and what a run that stops early
//! leaves behind.
//!
//! Resolved before anything is created, so a path that is refused (a
//! directory, a file that is there without `--overwrite`, `--resume` onto a
//! device) leaves nothing anywhere. A device or FIFO gets the file when the
//! run finishes and has no checkpoint: there is nothing to resume into.

use crate::failure::Failure;
use crate::reliability::{self, Journal};
use correlator::engine::Integration;
use formats::output::{OutputTarget, TargetError};
use std::path::{Path, PathBuf};

/// The output of one run and its checkpoint.
pub(crate) struct Output {
    pub target: OutputTarget,
    /// `<output>.checkpoint` beside a file destination (its link's target,
    /// for a symbolic link); `None` for a device or FIFO.
    pub checkpoint: Option<PathBuf>,
}

impl Output {
    /// Resolve `path` (`--output`, or the job's `output`): exit 2 for a path
    /// that must not be written (see [`formats::output`]), and for
    /// `--resume` onto a device or FIFO.
    pub(crate) fn resolve(path: &Path, overwrite: bool, resume: bool) -> Result<Output, Failure> {
        let target = OutputTarget::resolve(path, overwrite)
            .map_err(target_failure)?
            // A FIFO nobody reads yet must not hold a stopped run forever.
            .with_cancel(|| reliability::interrupted().is_some());
        if target.is_stream() && resume {
            return Err(Failure::BadInput(format!(
                "--resume: {} is {}: a run writing there keeps no checkpoint, so there is nothing to resume",
                path.display(),
                target.kind()
            )));
        }
        let checkpoint = target.beside(".checkpoint");
        Ok(Output { target, checkpoint })
    }

    /// As [`Output::resolve`], for one mode's file of a session with
    /// several: on `--resume`, a finished file whose checkpoint is still
    /// beside it (and no `.partial`) is the interrupted run's own, kept
    /// until the whole session finished; it may be replaced, since the
    /// resumed run writes it again from that checkpoint, to the same bytes.
    pub(crate) fn resolve_part(
        path: &Path,
        overwrite: bool,
        resume: bool,
    ) -> Result<Output, Failure> {
        match Output::resolve(path, overwrite, resume) {
            Err(e) if resume && !overwrite => match Output::resolve(path, true, true) {
                Ok(o)
                    if o.checkpoint.as_ref().is_some_and(|c| c.exists())
                        && o.target.partial_path().is_some_and(|p| !p.exists()) =>
                {
                    Ok(o)
                }
                _ => Err(e),
            },
            r => r,
        }
    }

    /// A new checkpoint (also the first file made beside the output, so a
    /// missing or unwritable directory is found here, before any work), or
    /// the one of the run being resumed with its integrations.
    pub(crate) fn open_journal(
        &self,
        fingerprint: u64,
        resume: bool,
    ) -> Result<(Option<Journal>, Vec<Integration>), Failure> {
        let Some(ck_path) = &self.checkpoint else {
            return Ok((None, Vec::new()));
        };
        if resume {
            let (j, replay) = Journal::resume(ck_path, fingerprint).map_err(Failure::BadInput)?;
            return Ok((Some(j), replay));
        }
        let j = Journal::create(ck_path, fingerprint).map_err(|e| {
            Failure::Io(format!(
                "{}: cannot write the output there (creating {}: {e})",
                ck_path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .display(),
                ck_path.display()
            ))
        })?;
        Ok((Some(j), Vec::new()))
    }

    /// Remove the checkpoint (the run finished, or failed and made it).
    pub(crate) fn remove_checkpoint(&self) {
        if let Some(c) = &self.checkpoint {
            let _ = std::fs::remove_file(c);
        }
    }

    /// The end of a stopped run's message: what was kept for `--resume`
    /// (`with` says how much), or that a device or FIFO got no complete
    /// output.
    pub(crate) fn left_behind(&self, with: &str) -> String {
        match (self.target.partial_path(), &self.checkpoint) {
            (Some(p), Some(c)) => format!(
                "kept {} and {}{with}: run the same command with --resume to finish",
                p.display(),
                c.display()
            ),
            _ => format!(
                "{} did not get a complete output ({} is written only once the run has finished; there is no checkpoint): run the command again",
                self.target.given().display(),
                self.target.kind()
            ),
        }
    }
}

/// A refused or unexaminable output path as the process reports it.
fn target_failure(e: TargetError) -> Failure {
    match e {
        TargetError::Exists { .. } => {
            Failure::BadInput(format!("{e}; give --overwrite to replace it"))
        }
        e if e.is_io() => Failure::Io(e.to_string()),
        e => Failure::BadInput(e.to_string()),
    }
}
