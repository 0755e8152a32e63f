//! Correlating a session: one engine run per scan, into one output.
//!
//! Each correlated scan becomes an ordinary job for the engine
//! ([`Session::scan_job`]): the stations the plan found data for, with only
//! the files that cover the scan; the scan's sources as its phase centres;
//! the scan's start and length. So a scan's output is, bit for bit, what a
//! one-scan job on the same data writes (same integration grid, same model),
//! and integrations never straddle a scan boundary. Stations whose good data
//! start late or stop early (`data_good`/`data_stop`) have the samples
//! outside their window read as invalid ([`Windowed`]).
//!
//! Integrations are numbered across the session (scan k's first is the
//! number of integrations of the scans before it), so the checkpoint and
//! `--resume` work as for one job: a resumed run skips whole scans that are
//! done and resumes inside the one that is not.

use super::{plan::ScanStatus, Plan, Session};
use crate::engine::sink::{ScanOutput, SessionOutput};
use crate::engine::{
    self, Engine, EngineError, Integration, Layout, Options, RunHeader, SampleSource, Sink,
    Summary, VdifError,
};
use crate::job::Job;
use crate::model::{self, ModelTracks};
use formats::UtcTime;

/// Opens a scan job's recordings, one per station in its order.
pub type OpenScan<'a> = dyn FnMut(&Job) -> Result<Vec<Box<dyn SampleSource>>, EngineError> + 'a;
/// Runs a prepared engine into a sink (like [`engine::run_in_order`]).
pub type DriveScan<'a> =
    dyn FnMut(Engine, &mut dyn Sink, &Options) -> Result<Summary, EngineError> + 'a;

/// What one correlated scan gave.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanResult {
    /// Index into the session's scans.
    pub scan: usize,
    /// The engine's summary of the scan's run (its stations, weights …).
    pub summary: Summary,
    /// Integrations of the scan (those replayed from a checkpoint included).
    pub integrations: u64,
}

impl Session {
    /// Indices of the scans the plan correlates, in schedule order.
    pub fn correlated(plan: &Plan) -> Vec<usize> {
        plan.scans
            .iter()
            .enumerate()
            .filter(|(_, p)| p.status == ScanStatus::Correlate)
            .map(|(k, _)| k)
            .collect()
    }

    /// The job the engine runs for scan `k` (see the module doc).
    pub fn scan_job(&self, k: usize, plan: &Plan) -> Job {
        let sc = &self.scans[k];
        let p = &plan.scans[k];
        let mut job = self.job.clone();
        job.stations = p
            .stations
            .iter()
            .map(|(s, files)| {
                let mut st = self.job.stations[*s].clone();
                st.files = files.clone();
                let entries = self.vex_clocks.get(*s).and_then(|c| c.as_ref());
                if let Some(c) = entries.and_then(|c| clock_at(c, sc.start)) {
                    st.clock.offset_s = c.offset_s;
                    st.clock.rate = c.rate_s_per_s.unwrap_or(0.0);
                    st.clock.epoch = c.epoch;
                }
                st
            })
            .collect();
        job.sources = sc
            .sources
            .iter()
            .filter_map(|x| x.source.map(|i| self.job.sources[i].clone()))
            .collect();
        job.start = Some(sc.start);
        job.duration_s = Some(sc.duration_s);
        job.scans = Vec::new();
        job.vex = None;
        job.select_scans = None;
        job.select_stations = None;
        job
    }

    /// The model of scan `k`'s phase centre `c`, over exactly the span the
    /// engine asks for (its start − 10 s to its end + 10 s), so the output's
    /// model table and the correlation use the same polynomials.
    pub fn scan_model(
        &self,
        k: usize,
        plan: &Plan,
        c: usize,
    ) -> Result<ModelTracks, model::ModelError> {
        let job = self.scan_job(k, plan);
        let start = job.start.unwrap_or(self.scans[k].start);
        let end = start.add_seconds(self.scans[k].duration_s);
        model::build_model_for(
            &job,
            &job.sources[c],
            start.add_seconds(-10.0),
            end.add_seconds(10.0),
        )
    }

    /// What the FITS-IDI output of the session holds besides the scans'
    /// rows: its stations and sources, and every correlated scan's model.
    pub fn output(&self, plan: &Plan) -> Result<SessionOutput, EngineError> {
        let mut scans = Vec::new();
        for k in Self::correlated(plan) {
            let sc = &self.scans[k];
            let models = (0..sc.sources.len())
                .map(|c| self.scan_model(k, plan, c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| EngineError::bad(e.to_string()))?;
            scans.push(ScanOutput {
                name: sc.name.clone(),
                start: sc.start,
                stop: sc.stop(),
                stations: plan.scans[k].stations.iter().map(|x| x.0).collect(),
                sources: sc.sources.iter().filter_map(|x| x.source).collect(),
                models,
            });
        }
        Ok(SessionOutput {
            job: self.job.clone(),
            bits: plan.bits.iter().map(|b| b.unwrap_or(2)).collect(),
            scans,
        })
    }

    /// Correlate every scan the plan correlates, in order, into `sink`
    /// (begun by each scan's run, finished once at the end). `open` opens a
    /// scan job's recordings (one per station, in its order); `drive` runs a
    /// prepared engine into a sink, like [`engine::run_in_order`];
    /// `output` is what [`Session::output`] gave (its models are used, not
    /// built again). `opts.first_integration` is where a resumed run
    /// starts, counted over the whole session.
    pub fn run(
        &self,
        plan: &Plan,
        output: &SessionOutput,
        open: &mut OpenScan,
        drive: &mut DriveScan,
        sink: &mut dyn Sink,
        opts: &Options,
    ) -> Result<Vec<ScanResult>, EngineError> {
        let done = opts.first_integration;
        let mut offset = 0u64;
        let mut results = Vec::new();
        for (i, k) in Self::correlated(plan).into_iter().enumerate() {
            let job = self.scan_job(k, plan);
            let models = &output.scans[i].models;
            let sources = open(&job)?;
            let sources = self.windowed(k, &job, sources, &models[0]);
            let build = |c: usize, a: UtcTime, b: UtcTime| -> Result<ModelTracks, EngineError> {
                // The engine asks for exactly the span `scan_model` built.
                let _ = (a, b);
                models
                    .get(c)
                    .cloned()
                    .ok_or_else(|| EngineError::Sink(format!("no model for phase centre {c}")))
            };
            let mut engine = Engine::prepare(&job, sources, &build, opts)?;
            // Rows carry the session's SOURCE_IDs.
            engine.set_source_ids(self.source_ids(k))?;
            let n = engine.integrations().unwrap_or(0);
            // A scan a resumed run already has is still driven, from its
            // end: the sink replays its integrations from the checkpoint
            // with this scan's layout, nothing is computed, and MPI ranks,
            // which prepare every scan's run in turn, stay in step.
            let scan_opts = Options {
                first_integration: done.saturating_sub(offset).min(n),
                ..opts.clone()
            };
            let mut scan_sink = ScanSink {
                inner: &mut *sink,
                offset,
            };
            let summary = drive(engine, &mut scan_sink, &scan_opts)?;
            results.push(ScanResult {
                scan: k,
                summary,
                integrations: n,
            });
            offset += n;
        }
        if results.is_empty() {
            return Err(EngineError::bad(format!(
                "{}: no scan of the session can be correlated (see the plan: --dry-run)",
                self.job.file.display()
            )));
        }
        sink.finish()?;
        Ok(results)
    }
}

/// The `$CLOCK` entry in force at `t` (as `formats::vex::Station::clock_at`:
/// the latest `valid_from` not after `t`; no `valid_from` is from the start).
fn clock_at(entries: &[formats::vex::ClockEntry], t: UtcTime) -> Option<&formats::vex::ClockEntry> {
    let mut best: Option<&formats::vex::ClockEntry> = None;
    for c in entries {
        let in_force = c.valid_from.is_none_or(|v| v <= t);
        if in_force && best.is_none_or(|b| c.valid_from >= b.valid_from) {
            best = Some(c);
        }
    }
    best
}

/// One scan's run as the session's sink sees it: integrations numbered
/// across the session, and `finish` left to the end of the session.
struct ScanSink<'a> {
    inner: &'a mut dyn Sink,
    offset: u64,
}

impl Sink for ScanSink<'_> {
    fn begin(&mut self, header: &RunHeader) -> Result<(), EngineError> {
        self.inner.begin(header)
    }

    fn write(&mut self, layout: &Layout, integration: &Integration) -> Result<(), EngineError> {
        if self.offset == 0 {
            return self.inner.write(layout, integration);
        }
        let mut i = integration.clone();
        i.index += self.offset;
        self.inner.write(layout, &i)
    }

    fn pcal(&mut self, rows: Vec<formats::fitsidi::PcalRow>) -> Result<(), EngineError> {
        self.inner.pcal(rows)
    }

    fn replayed(&self) -> &[Integration] {
        self.inner.replayed()
    }

    fn finish(&mut self) -> Result<(), EngineError> {
        Ok(())
    }
}

impl Session {
    /// The SOURCE_ID (1-based place in the session's sources) of each of
    /// scan `k`'s phase centres.
    pub fn source_ids(&self, k: usize) -> Vec<u32> {
        self.scans[k]
            .sources
            .iter()
            .filter_map(|x| x.source)
            .map(|i| i as u32 + 1)
            .collect()
    }

    /// Scan `k`'s recordings (one per station of `job`, its scan job) with
    /// the samples outside each station's `data_good`…`data_stop` invalid;
    /// `model` (any of the scan's centres) places the window's ends in each
    /// station's stream.
    pub fn windowed(
        &self,
        k: usize,
        job: &Job,
        sources: Vec<Box<dyn SampleSource>>,
        model: &ModelTracks,
    ) -> Vec<Box<dyn SampleSource>> {
        window(self, k, job, sources, model)
    }
}

/// Wrap the recordings of stations whose good data do not span the whole
/// scan, so that samples outside their window read as invalid.
fn window(
    session: &Session,
    k: usize,
    job: &Job,
    sources: Vec<Box<dyn SampleSource>>,
    model: &ModelTracks,
) -> Vec<Box<dyn SampleSource>> {
    let sc = &session.scans[k];
    sources
        .into_iter()
        .enumerate()
        .map(|(s, src)| {
            let name = &job.stations[s].name;
            let Some(ss) = sc.stations.iter().find(|x| &x.name == name) else {
                return src;
            };
            if ss.good_s <= 0.0 && ss.stop_s >= sc.duration_s {
                return src;
            }
            // Station time of the window's ends: g + τ(g) (the clock in
            // the track included).
            let fs = src.info().sample_rate_hz;
            let origin = src.origin();
            let at = |g: UtcTime| -> i64 {
                let tau = model.delays[s].eval(g).delay_s;
                ((g.seconds_since(origin) + tau) * fs).round() as i64
            };
            let lo = at(sc.start.add_seconds(ss.good_s));
            let hi = at(sc.start.add_seconds(ss.stop_s));
            Box::new(Windowed { inner: src, lo, hi }) as Box<dyn SampleSource>
        })
        .collect()
}

/// A recording whose samples outside [lo, hi) (stream indices) are invalid:
/// a station's `data_good` … `data_stop` in a scan.
struct Windowed {
    inner: Box<dyn SampleSource>,
    lo: i64,
    hi: i64,
}

impl SampleSource for Windowed {
    fn info(&self) -> &engine::StreamInfo {
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
        self.inner.read(thread, channel, first, out, valid)?;
        let w = out.len() / valid.len().max(1);
        for (i, v) in valid.iter_mut().enumerate() {
            let n = first + i as i64;
            if n < self.lo || n >= self.hi {
                *v = false;
                out[i * w..(i + 1) * w].fill(0.0);
            }
        }
        Ok(())
    }
    fn discard_before(&mut self, first: i64) {
        self.inner.discard_before(first)
    }
    fn first_sample(&self) -> i64 {
        self.inner.first_sample().max(self.lo)
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
