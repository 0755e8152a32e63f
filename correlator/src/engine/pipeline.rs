//! The pipeline: work units → chunks → read → station and baseline stages
//! on the workers → one integration per unit, handed on.
//!
//! [`Engine::prepare`] does everything before the first block (layout,
//! quantisers, span, a delay model per phase centre); [`Engine::run`] takes
//! units from a [`Schedule`] and delivers each finished one. One chunk is
//! processed while the next is read, so the reader and the workers overlap,
//! across unit boundaries too. Every phase centre is correlated from the
//! same chunk: each station's samples are read once, covering what every
//! centre's blocks need.

use super::accumulate::IntegrationAcc;
use super::collect::{Flow, UnitResult};
use super::error::EngineError;
use super::input::SampleSource;
use super::pcal::{Fold, PcalPlan};
use super::plan::{self, Layout};
use super::schedule::{self, ChunkCursor, ChunkSpec, Schedule, WorkUnit};
use super::setup::{Setup, Span};
use super::sink::{CentreHeader, RunHeader};
use super::station::SubbandDsp;
use super::workers::{self, Chunk, Context, RecordingDsp, SampleBuf, Worker};
use super::Options;
use crate::job::{Job, Sampling, Sideband};
use crate::model::{DelayTrack, ModelTracks};
use formats::UtcTime;
use std::cell::RefCell;

/// A job made ready to run: recordings opened and probed, the span and the
/// delay model of every phase centre fixed.
pub struct Engine<'j> {
    job: &'j Job,
    sources: Vec<Box<dyn SampleSource>>,
    setup: Setup,
    span: Span,
    /// Per phase centre (`job.sources` order).
    models: Vec<ModelTracks>,
    /// SOURCE_ID of each centre's output rows.
    source_ids: Vec<u32>,
    warnings: Vec<String>,
    opts: Options,
    /// Tasks each worker thread did in the last [`Engine::run`].
    worker_tasks: Vec<u64>,
}

/// The delay model of phase centre `centre` (an index into `job.sources`)
/// over [a, b] geocentric UTC: what [`Engine::prepare`] is given.
pub type BuildModel<'a> = dyn Fn(usize, UtcTime, UtcTime) -> Result<ModelTracks, EngineError> + 'a;

impl<'j> Engine<'j> {
    /// Probe the recordings (one per station, in job order), choose the
    /// span and build each phase centre's model with
    /// `build_model(centre, a, b)` over it; every source of the job is a
    /// phase centre (centre c is `job.sources[c]`).
    pub fn prepare(
        job: &'j Job,
        mut sources: Vec<Box<dyn SampleSource>>,
        build_model: &BuildModel,
        opts: &Options,
    ) -> Result<Engine<'j>, EngineError> {
        let setup = Setup::new(job, &mut sources)?;
        let ncentres = setup.layout.centres.len();
        let nst = job.stations.len();
        let build = |c: usize, a: UtcTime, b: UtcTime| -> Result<ModelTracks, EngineError> {
            let m = build_model(c, a, b)?;
            if m.delays.len() != nst || m.positions.len() != nst {
                return Err(EngineError::Sink(format!(
                    "the model of source {} has {} stations, the job {nst} (internal error)",
                    job.sources[c].name,
                    m.delays.len()
                )));
            }
            Ok(m)
        };
        let tracks = |a: UtcTime, b: UtcTime| {
            (0..ncentres)
                .map(|c| build(c, a, b).map(|m| m.delays))
                .collect::<Result<Vec<_>, _>>()
        };
        let span = Span::new(job, &sources, &setup, &tracks)?;
        // A stream without a duration: a model for a day.
        let model_end = span
            .data_end
            .unwrap_or(span.start.add_seconds(86_400.0))
            .add_seconds(10.0);
        let models = (0..ncentres)
            .map(|c| build(c, span.start.add_seconds(-10.0), model_end))
            .collect::<Result<Vec<_>, _>>()?;
        let mut warnings: Vec<String> = setup.warnings.clone();
        for w in models.iter().flat_map(|m| &m.warnings) {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
        // Stations given by `delay_poly` have one delay whatever the
        // source: centres whose models are then the same give the same
        // output (a job meant for one source per scan, not phase centres).
        for c in 1..ncentres {
            if let Some(d) = (0..c).find(|&d| models[d].delays == models[c].delays) {
                warnings.push(format!(
                    "sources {} and {} have the same delay model at every station (delay_poly stations?): their outputs are the same",
                    job.sources[d].name, job.sources[c].name
                ));
            }
        }
        for (st, src) in job.stations.iter().zip(&sources) {
            warnings.extend(
                src.warnings()
                    .iter()
                    .map(|w| format!("station {}: {w}", st.name)),
            );
        }
        Ok(Engine {
            job,
            sources,
            setup,
            span,
            models,
            source_ids: (1..=ncentres as u32).collect(),
            warnings,
            opts: opts.clone(),
            worker_tasks: Vec::new(),
        })
    }

    /// The SOURCE_ID each phase centre's rows carry (default: 1, 2, … in
    /// `job.sources` order, as the FITS-IDI SOURCE table numbers them; a
    /// session maps its scans' centres onto its catalogue).
    pub fn set_source_ids(&mut self, ids: Vec<u32>) -> Result<(), EngineError> {
        if ids.len() != self.models.len() || ids.contains(&0) {
            return Err(EngineError::Sink(format!(
                "{} source ids for {} phase centres (internal error)",
                ids.len(),
                self.models.len()
            )));
        }
        self.source_ids = ids;
        Ok(())
    }

    /// The delay model of each phase centre (`job.sources` order).
    pub fn models(&self) -> &[ModelTracks] {
        &self.models
    }

    pub fn job(&self) -> &'j Job {
        self.job
    }

    pub fn layout(&self) -> &Layout {
        &self.setup.layout
    }

    /// Geocentric UTC of the first block's start.
    pub fn start(&self) -> UtcTime {
        self.span.start
    }

    /// Blocks in the job, when its duration is given.
    pub fn total_blocks(&self) -> Option<u64> {
        self.span.total_blocks
    }

    /// Integrations in the job, when its duration is given.
    pub fn integrations(&self) -> Option<u64> {
        let m = self.setup.layout.blocks_per_integration as u64;
        self.span.total_blocks.map(|b| b.div_ceil(m))
    }

    /// Seconds of data the run spans, when known.
    pub fn total_s(&self) -> Option<f64> {
        match self.span.total_blocks {
            Some(b) => Some(b as f64 * self.setup.layout.block_s()),
            None => self.span.data_end.map(|e| e.seconds_since(self.span.start)),
        }
    }

    /// What the model and the readers noticed while preparing.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// What the sink is told before the first integration.
    pub fn header(&self) -> RunHeader<'_> {
        RunHeader {
            job: self.job,
            layout: &self.setup.layout,
            start: self.span.start,
            data_end: self.span.data_end,
            centres: self
                .models
                .iter()
                .zip(&self.source_ids)
                .zip(&self.job.sources)
                .map(|((m, &source_id), source)| CentreHeader {
                    source,
                    source_id,
                    tracks: &m.delays,
                    positions: &m.positions,
                })
                .collect(),
            bits: self.sources.iter().map(|s| s.info().bits).collect(),
        }
    }

    /// Whether every recording can be read at any time in any order (files).
    pub fn random_access(&self) -> bool {
        self.sources.iter().all(|s| s.random_access())
    }

    /// Tasks (work units, or by stage station and baseline tasks) each
    /// worker thread did in the last [`Engine::run`]: how the work was
    /// shared (see [`workers`]).
    pub fn worker_tasks(&self) -> &[u64] {
        &self.worker_tasks
    }

    /// What each station's recording holds (job order).
    pub fn stream_infos(&self) -> Vec<super::input::StreamInfo> {
        self.sources.iter().map(|s| s.info().clone()).collect()
    }

    /// Correlate the units `schedule` gives, handing each finished one to
    /// `deliver`, until the schedule has no more, the job's duration is
    /// reached, or `deliver` says stop. `on_chunk(blocks, unit)` is called
    /// after each chunk.
    pub fn run(
        &mut self,
        schedule: &mut dyn Schedule,
        deliver: &mut dyn FnMut(UnitResult) -> Result<Flow, EngineError>,
        on_chunk: &mut dyn FnMut(usize, &WorkUnit),
    ) -> Result<(), EngineError> {
        let job = self.job;
        let layout = &self.setup.layout;
        let nsub = job.subbands.len();
        let nst = job.stations.len();
        let block_s = layout.block_s();
        let m = layout.blocks_per_integration as u64;
        // The largest station FFT sets the chunk (its samples and spectra
        // are the ones that must fit, and share out).
        let n_max = layout.station_fft_length.iter().copied().max().unwrap_or(0);
        let cut = schedule::cut(n_max, self.opts.threads, layout.centres.len() * nst);
        let origins: Vec<UtcTime> = self.sources.iter().map(|s| s.origin()).collect();
        let (recordings, rec_base) =
            recording_dsps(layout, nsub, job.correlation.track_band_centre);
        let ctx = Context {
            layout,
            subbands: job
                .subbands
                .iter()
                .map(|sb| SubbandDsp {
                    lo_hz: sb.sky_freq_hz,
                    sign: if sb.sideband == Sideband::Upper {
                        1.0
                    } else {
                        -1.0
                    },
                    ..SubbandDsp::default()
                })
                .collect(),
            nstations: nst,
            recordings,
            rec_base,
        };
        let threads = self.opts.threads.max(1);
        let workers: Vec<Worker> = (0..threads)
            .map(|_| Worker::new(&ctx, self.opts.formulation, cut.by_stage))
            .collect();
        let mut iacc = IntegrationAcc::new(layout, nsub);
        let names: Vec<String> = job.stations.iter().map(|s| s.name.clone()).collect();
        let origins_frac: Vec<f64> = origins.iter().map(|o| o.frac()).collect();
        let pcal_plan = PcalPlan::new(layout, &ctx.rec_base, &origins_frac, &names)?;
        let mut pcal_acc: Vec<Option<Fold>> = vec![None; ctx.recordings.len()];
        let mut cursor = ChunkCursor::new(schedule, m, cut.blocks as u64, self.span.total_blocks);
        let tracks: Vec<&[DelayTrack]> = self.models.iter().map(|m| &m.delays[..]).collect();
        let reader = Reader {
            tracks: &tracks,
            origins: &origins,
            job,
            layout,
            start: self.span.start,
            block_s,
            discard: cursor.in_order(),
            ctx: &ctx,
            pcal: &pcal_plan,
            folded_to: RefCell::new(vec![i64::MIN; ctx.recordings.len()]),
        };
        let empty = Chunk {
            bufs: vec![SampleBuf::default(); ctx.recordings.len()],
            ..Chunk::default()
        };
        let Some(mut spec) = cursor.next_chunk()? else {
            self.worker_tasks = vec![0; threads];
            return Ok(());
        };
        let sources = &mut self.sources;
        let (span, quant) = (&self.span, &self.setup.quant);
        let chunks = [empty.clone(), empty];
        let (result, tasks) =
            workers::with_crew(&ctx, workers, cut.blocks, cut.by_stage, chunks, |crew| {
                // `cur` is the buffer the workers process; the reader fills the other.
                let mut cur = 0;
                reader.read(sources, &spec, &mut crew.chunk_mut(cur))?;
                loop {
                    // Ask for what comes after this chunk now, so it can be read
                    // while the workers process this one.
                    let next_spec = cursor.next_chunk()?;
                    let srcs = &mut *sources;
                    let rd = &reader;
                    let next_spec = crew.process(cur, move |other| match next_spec {
                        Some(sp) => rd.read(srcs, &sp, other).map(|_| Some(sp)),
                        None => Ok(None),
                    })?;
                    let chunk = crew.chunk(cur);
                    // Units in order; a unit that goes on in the next chunk
                    // keeps its sums (in slot 0) until it is finished.
                    for run in &chunk.runs {
                        if let Some(blocks) = run.finished {
                            iacc.add(&crew.unit(&chunk, run.slot), blocks as u64, &chunk.bands);
                        }
                    }
                    for (acc, f) in pcal_acc.iter_mut().zip(&chunk.pcal) {
                        if let Some(f) = f {
                            match acc {
                                Some(a) => a.merge(f),
                                None => *acc = Some(f.clone()),
                            }
                        }
                    }
                    on_chunk(chunk.nblocks, &spec.unit);
                    if spec.last_of_integration {
                        let int = spec.unit.integration;
                        let station_has_data = (0..nst)
                            .map(|s| iacc.station_has_data(s, nst, nsub))
                            .collect();
                        let first = int * m;
                        let centre = span
                            .start
                            .add_seconds((first as f64 + iacc.blocks as f64 / 2.0) * block_s);
                        let mut integration = iacc.finish(layout, nsub, quant, int, centre);
                        iacc.clear(&chunk.bands);
                        if pcal_plan.any() {
                            (integration.pcal, integration.pcal_valid) =
                                pcal_plan.extract(&pcal_acc);
                            pcal_acc.iter_mut().for_each(|f| *f = None);
                        }
                        let flow = deliver(UnitResult {
                            unit: spec.unit.clone(),
                            integration,
                            station_has_data,
                        })?;
                        if flow == Flow::Stop {
                            return Ok(());
                        }
                    }
                    drop(chunk);
                    match next_spec {
                        Some(sp) => {
                            spec = sp;
                            cur = 1 - cur;
                        }
                        None => return Ok(()),
                    }
                }
            });
        self.worker_tasks = tasks;
        result
    }
}

/// Places blocks in the streams, for every phase centre, and reads their
/// samples (only the subbands of the chunk's bands): once per station,
/// covering every centre's blocks.
struct Reader<'a> {
    /// [centre][station]
    tracks: &'a [&'a [DelayTrack]],
    origins: &'a [UtcTime],
    job: &'a Job,
    layout: &'a Layout,
    start: UtcTime,
    block_s: f64,
    /// Let the streams drop data before each chunk (in-order schedules).
    discard: bool,
    /// The run's station stage (`ctx.rec_base[s]..ctx.rec_base[s + 1]`
    /// are station s's entries of `chunk.bufs`).
    ctx: &'a Context<'a>,
    /// Phase-cal: which recordings hold tones; per recording, the stream
    /// sample up to which its unit's samples were folded (each sample once
    /// per unit: chunks of a unit overlap where blocks' alignment moves).
    pcal: &'a PcalPlan,
    folded_to: RefCell<Vec<i64>>,
}

impl Reader<'_> {
    fn read(
        &self,
        sources: &mut [Box<dyn SampleSource>],
        spec: &ChunkSpec,
        chunk: &mut Chunk,
    ) -> Result<(), EngineError> {
        let nst = sources.len();
        chunk.first_block = spec.first_block;
        chunk.nblocks = spec.nblocks;
        chunk.active.clear();
        chunk.active.resize(self.ctx.rec_base[nst], false);
        chunk.bands.clear();
        chunk.bands.resize(self.layout.bands.len(), false);
        for &b in &spec.unit.bands {
            chunk.bands[b] = true;
            for &sb in &self.layout.bands[b].subbands {
                for s in 0..nst {
                    if let Some(m) = self.layout.channel_maps[s][sb] {
                        chunk.active[self.ctx.rec_base[s] + m.recording] = true;
                    }
                }
            }
        }
        let m = self.layout.blocks_per_integration as u64;
        let offset = spec.first_block - spec.unit.integration * m;
        chunk.plan(self.ctx, offset, spec.last_of_integration);
        chunk.geoms.clear();
        for b in 0..spec.nblocks as u64 {
            let g_c = plan::block_centre(self.start, self.block_s, spec.first_block + b);
            for centre in self.tracks {
                for s in 0..nst {
                    chunk.geoms.push(plan::block_geom(
                        &centre[s],
                        self.origins[s],
                        self.layout.station_sample_rate_hz[s],
                        self.layout.station_fft_length[s],
                        g_c,
                    ));
                }
            }
        }
        for (s, src) in sources.iter_mut().enumerate() {
            let n = self.layout.station_fft_length[s];
            // The union of every centre's blocks: [block][centre][station].
            let n0s = chunk.geoms.iter().skip(s).step_by(nst).map(|g| g.n0);
            let (lo, hi) = n0s.fold((i64::MAX, i64::MIN), |(l, h), n0| (l.min(n0), h.max(n0)));
            let len = (hi + n as i64 - lo) as usize;
            for (r, rec) in self.layout.station_recordings[s].iter().enumerate() {
                let q = self.ctx.rec_base[s] + r;
                if !chunk.active[q] {
                    continue;
                }
                let w = if rec.sampling == Sampling::Real { 1 } else { 2 };
                let buf = &mut chunk.bufs[q];
                buf.n_lo = lo;
                // Exactly what the chunk needs: `resize` alone may double
                // the capacity when a chunk is a sample longer than the
                // last, which the memory estimate does not allow for.
                buf.samples
                    .reserve_exact((len * w).saturating_sub(buf.samples.len()));
                buf.valid.reserve_exact(len.saturating_sub(buf.valid.len()));
                buf.samples.resize(len * w, 0.0);
                buf.valid.resize(len, false);
                src.read(
                    rec.thread,
                    rec.channel,
                    lo,
                    &mut buf.samples,
                    &mut buf.valid,
                )
                .map_err(|e| {
                    EngineError::Io(format!(
                        "station {}: reading thread {} channel {}: {e}",
                        self.job.stations[s].name, rec.thread, rec.channel
                    ))
                })?;
            }
            if self.discard {
                src.discard_before(lo);
            }
        }
        self.fold_pcal(spec, chunk, offset == 0);
        Ok(())
    }

    /// Fold each active recording's new samples for phase-cal: those of
    /// the first centre's blocks (the integration's own time) not folded
    /// before in this unit (`first`: the unit's first chunk).
    fn fold_pcal(&self, spec: &ChunkSpec, chunk: &mut Chunk, first: bool) {
        let nst = self.layout.stations.len();
        let nc = self.tracks.len();
        chunk.pcal.resize(self.ctx.recordings.len(), None);
        let mut folded_to = self.folded_to.borrow_mut();
        for s in 0..nst {
            let n = self.layout.station_fft_length[s] as i64;
            let n0s = (0..spec.nblocks).map(|b| chunk.geoms[b * nc * nst + s].n0);
            let (lo, hi) = n0s.fold((i64::MAX, i64::MIN), |(l, h), n0| {
                (l.min(n0), h.max(n0 + n))
            });
            for q in self.ctx.rec_base[s]..self.ctx.rec_base[s + 1] {
                let slot = &mut chunk.pcal[q];
                let Some(period) = self.pcal.period[q].filter(|_| chunk.active[q]) else {
                    *slot = None;
                    continue;
                };
                if first {
                    folded_to[q] = i64::MIN;
                }
                let fold = slot.get_or_insert_with(|| Fold::new(period, self.pcal.complex[q]));
                fold.clear();
                let buf = &chunk.bufs[q];
                let from = lo.max(folded_to[q]).max(buf.n_lo);
                let to = hi.min(buf.n_lo + buf.valid.len() as i64);
                if to > from {
                    let w = if self.pcal.complex[q] { 2 } else { 1 };
                    let (a, b) = ((from - buf.n_lo) as usize, (to - buf.n_lo) as usize);
                    fold.add(&buf.samples[a * w..b * w], &buf.valid[a..b], from);
                    folded_to[q] = to;
                }
            }
        }
    }
}

/// The station stage of every station's recordings (station after
/// station), and where each station's begin: `rec_base[s]..rec_base[s + 1]`.
fn recording_dsps(layout: &Layout, nsub: usize, track: bool) -> (Vec<RecordingDsp>, Vec<usize>) {
    let mut out = Vec::new();
    let mut base = vec![0];
    for (s, recs) in layout.station_recordings.iter().enumerate() {
        for (r, rec) in recs.iter().enumerate() {
            let targets: Vec<_> = (0..nsub)
                .filter_map(|sb| {
                    layout.channel_maps[s][sb]
                        .filter(|m| m.recording == r)
                        .map(|m| (sb, m))
                })
                .collect();
            let dsb = rec.sampling == Sampling::ComplexDsb;
            let direct = targets.len() == 1
                && targets[0].1.first_chan == 0
                && !targets[0].1.reversed
                && rec.nchan == layout.fft_nchan
                && !dsb
                && !track;
            out.push(RecordingDsp {
                dsp: SubbandDsp {
                    lo_hz: rec.lo_hz,
                    sign: if rec.sideband == Sideband::Upper {
                        1.0
                    } else {
                        -1.0
                    },
                    offset_hz: rec.lo_offset_hz,
                    dsb,
                    track,
                    track_hz: 0.0,
                },
                targets,
                direct,
            });
        }
        base.push(out.len());
    }
    (out, base)
}
