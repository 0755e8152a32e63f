//! The reliability guards around a run: the recordings wrapped so that a
//! signal stops reads and a streamed station that ends is noticed, and the
//! output sink wrapped with the checkpoint journal.
//!
//! Why here and not in the engine: what a stopped run keeps (the partial
//! output, the checkpoint), and that a stream which ended early must not
//! yield an output that looks complete, are the tool's policy; the engine
//! only sees a [`SampleSource`] and a [`Sink`].

use crate::reliability::{self, Journal};
use correlator::engine::{
    EngineError, IdiSink, Integration, Layout, RunHeader, SampleSource, Sink, StreamInfo, VdifError,
};
use correlator::Job;
use formats::UtcTime;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Test hook (documented in the README): after `EMCORR_TEST_PAUSE_AFTER`
/// integrations, say so on stderr and wait while the file
/// `EMCORR_TEST_PAUSE_FILE` exists (or until a signal), so a test can act at
/// a known point (send a signal, truncate an input) without relying on timing.
pub fn test_pause() -> Option<(u64, PathBuf)> {
    let n = std::env::var("EMCORR_TEST_PAUSE_AFTER")
        .ok()?
        .parse()
        .ok()?;
    let f = std::env::var_os("EMCORR_TEST_PAUSE_FILE")?;
    Some((n, PathBuf::from(f)))
}

/// A station's recording as the engine sees it, plus what reliability needs:
/// reads stop once a signal has arrived, and a stream that ends is noted.
pub(super) struct Guarded {
    pub(super) inner: Box<dyn SampleSource>,
    pub(super) stream: bool,
    pub(super) station: usize,
    pub(super) name: String,
    pub(super) ended: Arc<Mutex<Vec<Option<String>>>>,
    /// The reader's warnings when the engine lets go of it.
    pub(super) warnings: Arc<Mutex<Vec<String>>>,
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if let Ok(mut w) = self.warnings.lock() {
            w.extend(
                self.inner
                    .warnings()
                    .into_iter()
                    .map(|x| format!("station {}: {x}", self.name)),
            );
        }
    }
}

impl SampleSource for Guarded {
    fn info(&self) -> &StreamInfo {
        self.inner.info()
    }
    fn origin(&self) -> UtcTime {
        self.inner.origin()
    }
    fn read(
        &mut self,
        thread: u16,
        channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError> {
        if let Some(sig) = reliability::interrupted() {
            return Err(VdifError::Invalid {
                context: "emcorr".into(),
                what: format!("interrupted by {}", reliability::signal_name(sig)),
            });
        }
        self.inner.read(thread, channel, first, out, valid)?;
        if self.stream {
            if let Some(end) = self.inner.end_sample() {
                if first + valid.len() as i64 > end {
                    let mut e = self.ended.lock().unwrap();
                    e[self.station].get_or_insert_with(|| {
                        let t = self
                            .inner
                            .origin()
                            .add_seconds(end as f64 / self.inner.info().sample_rate_hz);
                        format!("its stream ended at {t}")
                    });
                }
            }
        }
        Ok(())
    }
    fn discard_before(&mut self, first: i64) {
        self.inner.discard_before(first)
    }
    fn first_sample(&self) -> i64 {
        self.inner.first_sample()
    }
    fn random_access(&self) -> bool {
        self.inner.random_access()
    }
    fn end_sample(&self) -> Option<i64> {
        self.inner.end_sample()
    }
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }
}

/// The FITS-IDI sink plus the checkpoint journal: replays a resumed run's
/// integrations, journals every new one, stops on a signal, and refuses to
/// finish when a streamed station stopped before the job's end.
pub struct CheckedSink<'a> {
    inner: IdiSink,
    /// `None` for a device or FIFO output (nothing to resume into).
    journal: Option<Journal>,
    replay: Vec<Integration>,
    /// What the last `begin` replayed, without visibilities: the collector
    /// regenerates their phase-cal rows from it ([`Sink::replayed`]).
    replayed: Vec<Integration>,
    /// Integrations in the output so far (replayed ones included).
    written: u64,
    /// Per station: the largest weight of its baselines (its
    /// autocorrelation included) at any phase centre in the last
    /// integration.
    last_weight: Vec<f32>,
    ended: Arc<Mutex<Vec<Option<String>>>>,
    job: &'a Job,
    pause: Option<(u64, PathBuf)>,
}

impl<'a> CheckedSink<'a> {
    /// A sink writing into `inner` that first replays `replay` (a resumed
    /// run's integrations, counted as written) and journals every new one;
    /// `ended` is where the job's streamed stations note that they stopped
    /// ([`super::Opened::ended`]); `pause` is the [`test_pause`] hook.
    pub fn new(
        inner: IdiSink,
        journal: Option<Journal>,
        replay: Vec<Integration>,
        job: &'a Job,
        ended: Arc<Mutex<Vec<Option<String>>>>,
        pause: Option<(u64, PathBuf)>,
    ) -> CheckedSink<'a> {
        CheckedSink {
            inner,
            journal,
            written: replay.len() as u64,
            replay,
            replayed: Vec::new(),
            // Until the first integration no station counts as missing.
            last_weight: vec![1.0; job.stations.len()],
            ended,
            job,
            pause,
        }
    }

    /// Integrations in the output so far (replayed ones included).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Keep `<output>.partial` when the sink is dropped unfinished (a run
    /// stopped by a signal or a failed rank, to be finished by `--resume`).
    pub fn keep_partial(&mut self) {
        self.inner.keep_partial_on_drop(true);
    }

    fn stop_if_interrupted(&self) -> Result<(), EngineError> {
        match reliability::interrupted() {
            Some(sig) => Err(EngineError::Io(format!(
                "interrupted by {}",
                reliability::signal_name(sig)
            ))),
            None => Ok(()),
        }
    }
}

impl Sink for CheckedSink<'_> {
    fn begin(&mut self, h: &RunHeader) -> Result<(), EngineError> {
        self.inner.begin(h)?;
        // The checkpoint's integrations of this run's span, with its
        // layout (a session begins once per scan, each with its stations).
        let (mine, later): (Vec<Integration>, Vec<Integration>) = std::mem::take(&mut self.replay)
            .into_iter()
            .partition(|i| i.time >= h.start && h.data_end.is_none_or(|e| i.time <= e));
        self.replay = later;
        self.replayed.clear();
        for mut i in mine {
            self.inner.write(h.layout, &i)?;
            i.vis = Vec::new();
            i.weights = Vec::new();
            self.replayed.push(i);
        }
        Ok(())
    }

    fn replayed(&self) -> &[Integration] {
        &self.replayed
    }

    fn write(&mut self, layout: &Layout, integ: &Integration) -> Result<(), EngineError> {
        self.stop_if_interrupted()?;
        self.inner.write(layout, integ)?;
        if let Some(j) = &mut self.journal {
            j.append(integ).map_err(|e| {
                EngineError::Io(format!(
                    "{}: writing the checkpoint: {e}",
                    j.path().display()
                ))
            })?;
        }
        self.written += 1;
        self.last_weight.fill(0.0);
        let k = layout.bands.len() * layout.products.len();
        // Autocorrelations count too: a one-station job has nothing else.
        // Weights are [centre][baseline][band][product].
        let rows = integ.weights.chunks_exact(k);
        for (w, &(a, b)) in rows.zip(layout.baselines.iter().cycle()) {
            let w = w.iter().fold(0.0f32, |m, &x| m.max(x));
            self.last_weight[a] = self.last_weight[a].max(w);
            self.last_weight[b] = self.last_weight[b].max(w);
        }
        if let Some((n, file)) = &self.pause {
            if self.written == *n {
                eprintln!("emcorr: test pause after {n} integrations");
                while file.exists() && reliability::interrupted().is_none() {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }
        self.stop_if_interrupted()
    }

    fn pcal(&mut self, rows: Vec<formats::fitsidi::PcalRow>) -> Result<(), EngineError> {
        // Not journalled: the rows are regenerated from the journalled
        // integrations' tones when a resumed run replays them.
        self.inner.pcal(rows)
    }

    fn finish(&mut self) -> Result<(), EngineError> {
        self.stop_if_interrupted()?;
        // A streamed station whose data stopped before the job's end (its
        // writer died): the output would look complete but is not.
        if self.job.duration_s.is_some() {
            let ended = self.ended.lock().unwrap();
            for (s, e) in ended.iter().enumerate() {
                if let (Some(why), true) = (e, self.last_weight[s] == 0.0) {
                    let st = &self.job.stations[s];
                    return Err(EngineError::Io(format!(
                        "station {}: {}: {why}, before the end of the job (the last integration has no data from it): did its writer stop early?",
                        st.name,
                        st.files.last().map(|f| f.display().to_string()).unwrap_or_default()
                    )));
                }
            }
        }
        self.inner.finish()
    }
}
