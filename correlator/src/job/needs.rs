//! What each command needs of a job beyond what parsing checks.
//!
//! Parsing validates every key that is present; a job without a frequency
//! setup or recordings is still a valid job (its delay model can be
//! printed). A command asks here for what it uses and gets the same
//! one-line key error when that is missing:
//!
//! - `emcorr model`: stations, a source and a time range (`job.start`,
//!   `job.duration_s`; checked by `model::job_range`);
//! - `emcorr simulate`: also the frequency setup ([`Job::require_subbands`]);
//! - `emcorr correlate` and the engine: the frequency setup and a recording
//!   per station ([`Job::require_correlation`]); `[correlation]` has
//!   defaults.

use super::{Job, JobError, Subband};

impl Job {
    /// The frequency setup: at least one `[[subband]]`.
    pub fn require_subbands(&self) -> Result<&[Subband], JobError> {
        if self.subbands.is_empty() {
            return Err(self.key_error(
                "subband",
                "the job has no [[subband]]: correlating needs the frequency setup \
                 (sky_freq_hz and bandwidth_hz of each recorded VDIF thread and channel)",
            ));
        }
        Ok(&self.subbands)
    }

    /// Everything a correlation needs beyond a valid job: the frequency
    /// setup and a recording for every station.
    pub fn require_correlation(&self) -> Result<(), JobError> {
        self.require_subbands()?;
        for (i, st) in self.stations.iter().enumerate() {
            if st.files.is_empty() {
                return Err(self.key_error(
                    &format!("station[{i}] ({}).file", st.name),
                    "the station has no recording: give file, files or \"-\" (stdin)",
                ));
            }
        }
        Ok(())
    }

    fn key_error(&self, key: &str, why: &str) -> JobError {
        JobError::Key {
            file: self.file.clone(),
            key: key.to_string(),
            why: why.to_string(),
        }
    }
}
