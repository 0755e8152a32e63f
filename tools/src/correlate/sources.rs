//! Opening a job's recordings for a run, each station's as one
//! [`SampleSource`], with the guards a run needs around them.
//!
//! Why here: the order recordings are opened in, the read-ahead a stream
//! gets and which failure is bad input and which is I/O are decisions every
//! run (one process, or every MPI rank) must make the same way.

use super::guards::Guarded;
use crate::failure::Failure;
use crate::reliability;
use correlator::engine::{self, SampleSource};
use correlator::Job;
use formats::vdif::OpenOptions;
use std::sync::{Arc, Mutex};

/// The recordings, each wrapped so that reads stop on a signal and the
/// readers' late warnings are kept; plus where a streamed station ended.
pub struct Opened {
    pub sources: Vec<Box<dyn SampleSource>>,
    pub ended: Arc<Mutex<Vec<Option<String>>>>,
    pub late_warnings: Arc<Mutex<Vec<String>>>,
}

/// Open the job's recordings ([`open_sources`]) and wrap each in the
/// reliability guard (`guards::Guarded`: reads stop on a signal, a stream's
/// end is noted).
pub fn open_guarded(job: &Job, span_s: f64) -> Result<Opened, Failure> {
    let ended = Arc::new(Mutex::new(vec![None; job.stations.len()]));
    let late_warnings = Arc::new(Mutex::new(Vec::new()));
    let sources = open_sources(job, span_s)?
        .into_iter()
        .enumerate()
        .map(|(s, inner)| {
            Box::new(Guarded {
                stream: job.stations[s]
                    .files
                    .iter()
                    .any(|f| formats::vdif::summary::is_stream(f)),
                inner,
                station: s,
                name: job.stations[s].name.clone(),
                ended: ended.clone(),
                warnings: late_warnings.clone(),
            }) as Box<dyn SampleSource>
        })
        .collect();
    Ok(Opened {
        sources,
        ended,
        late_warnings,
    })
}

/// One recording per station, in job order, opened together
/// (`formats::vdif::open_sources`: every stream has its reader before any is
/// waited for, so writers that feed the FIFOs in lock-step cannot deadlock
/// against us). A stream is open after its first frame: the job gives the
/// sample rate and, through its subbands, the threads to read. Streams
/// (FIFOs, stdin) get a read-ahead buffer sized from the model's delay span
/// between stations (the lunar station's data lie ~1.3 s away from the
/// Earth stations'), so that no station's writer is held up while the
/// correlator waits for another's. A signal ends every wait.
pub fn open_sources(job: &Job, span_s: f64) -> Result<Vec<Box<dyn SampleSource>>, Failure> {
    let mut recordings = Vec::with_capacity(job.stations.len());
    for st in &job.stations {
        if st.files.is_empty() {
            return Err(Failure::BadInput(format!(
                "{}: station {}: no recording (give file or files)",
                job.file.display(),
                st.name
            )));
        }
        let rate = st.sample_rate_hz.unwrap_or(64e6);
        let opts = OpenOptions {
            sample_rate_hz: st.sample_rate_hz,
            // The threads this station records (its own subbands, or the
            // job's at its slots).
            threads: Some(st.recorded_threads(&job.subbands)),
            readahead_bytes: engine::readahead_bytes(job, span_s, rate),
            cancel: reliability::cancel_token(),
        };
        recordings.push((st.files.clone(), opts));
    }
    engine::input::open_sources(&recordings).map_err(|(s, e)| {
        let m = format!("station {}: {e}", job.stations[s].name);
        if let Some(sig) = reliability::interrupted() {
            Failure::Interrupted(format!(
                "interrupted by {} while opening the recordings ({m}); nothing was written",
                reliability::signal_name(sig)
            ))
        } else if e.is_bad_input() {
            Failure::BadInput(m)
        } else {
            Failure::Io(m)
        }
    })
}
