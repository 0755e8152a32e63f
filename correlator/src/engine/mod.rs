//! The FX correlation engine.
//!
//! Data flow, one stage per module:
//! `setup` (layout, quantisers, span, model) → [`schedule`] (work units:
//! integrations × bands) → [`input`] (decoded samples with validity) →
//! [`plan`] (geocentric time → FFT blocks → integrations; the model places
//! each block in each stream) → [`station`] (align → fringe-rotate → FFT →
//! fractional-sample correction) → [`baseline`] (cross-multiply-accumulate,
//! the only O(N²) part) → [`accumulate`] (weights, normalisation, Van
//! Vleck) → [`collect`] (units back into integrations, in order) → [`sink`].
//!
//! Phase centres: every source of the job is one, correlated from the same
//! samples with its own delay model (a lander and a quasar in one beam of
//! an Earth–Moon baseline differ by milliseconds of delay and kHz of fringe
//! rate, so each needs its own alignment and fringe rotation, not a shift
//! after the FFT). Each station's samples are read once per chunk, covering
//! every centre's blocks; the station stage runs per (centre, station,
//! subband) input, the baseline stage and the accumulation per centre; the
//! centre is the outermost dimension of the output ([`Layout::centres`]).
//! Centres do not mix: each centre's output is bitwise what a run with that
//! centre alone gives.
//! [`pipeline`] drives the stages; [`workers`] spreads fixed work units
//! over threads and the sums are added in a fixed order, so the output is
//! bitwise identical for any thread count, and for any schedule (MPI ranks
//! computing bands of integrations in any order).
//!
//! Memory is bounded by the job, not the recording: one chunk of blocks is
//! processed while the next is read, and each stream is told to discard
//! what lies before the chunk being read.

pub mod accumulate;
pub mod baseline;
pub mod collect;
pub mod error;
pub mod input;
pub mod pcal;
pub mod pipeline;
pub mod plan;
pub mod schedule;
mod setup;
mod simd;
pub mod sink;
pub mod station;
pub mod workers;

#[cfg(test)]
mod tests;

pub use accumulate::{Integration, Quantiser};
pub use error::EngineError;
pub use input::{MemorySource, SampleSource, StreamInfo, VdifError};
pub use plan::{Band, BlockGeom, Layout, Product};
pub use sink::{CentreHeader, IdiSink, MemorySink, RunHeader, Sink};
pub use station::RealFormulation;

pub use collect::{Collector, Flow, UnitResult};
pub use pipeline::{BuildModel, Engine};
pub use schedule::{InOrder, Schedule, WorkUnit};

use crate::job::Job;
use crate::model::{self, DelayTrack, ModelTracks};
use formats::UtcTime;
use std::cell::RefCell;
use std::time::Instant;

/// How to run the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Worker threads for the station and baseline stages (the reader runs
    /// beside them on the calling thread).
    pub threads: usize,
    /// How real-sampled blocks are rotated and transformed.
    pub formulation: RealFormulation,
    /// Integrations before this one are not computed (a resumed run that
    /// already has them). Integration k is computed from the same blocks
    /// and in the same order whatever this is, so its output is bitwise the
    /// same as in a run from the start.
    pub first_integration: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            formulation: RealFormulation::default(),
            first_integration: 0,
        }
    }
}

/// Progress report, after every chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Seconds of data (geocentric time) correlated so far.
    pub data_s: f64,
    /// Seconds the job spans, when known (`duration_s` given).
    pub total_s: Option<f64>,
    pub integrations: u64,
    pub wall_s: f64,
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Phase centres (source names), in output order.
    pub centres: Vec<String>,
    pub stations: Vec<String>,
    /// Cross-correlation baselines (autocorrelations not counted).
    pub baselines: usize,
    pub bands: usize,
    pub products: Vec<String>,
    /// Output channels per band.
    pub nchan: usize,
    /// Channels of the FFT (averaged `fft_nchan / nchan` to one output
    /// channel) and the window before it.
    pub fft_nchan: usize,
    /// Width of an output channel.
    pub chan_width_hz: f64,
    /// Each station's FFT length (job order): what a zoom pass chose.
    pub fft_lengths: Vec<usize>,
    pub window: crate::job::Window,
    pub integrations: u64,
    /// Integration time used (the requested one rounded to whole FFTs).
    pub integration_s: f64,
    pub start: UtcTime,
    /// Seconds of data correlated.
    pub data_s: f64,
    pub wall_s: f64,
    /// data_s / wall_s.
    pub speed_x_realtime: f64,
    /// Mean weight per cross baseline ("A-B", weight), over integrations,
    /// bands and products; for a one-station job, of its autocorrelation
    /// ("A-A"); with several phase centres, per centre and baseline
    /// ("A-B@SOURCE").
    pub baseline_weights: Vec<(String, f64)>,
    /// What the model and the readers noticed but worked around, one line each.
    pub warnings: Vec<String>,
}

/// Bytes of read-ahead a streaming reader needs so that no station's stream
/// blocks another's: the model's delay span across stations plus one
/// second, at up to 2 bytes per sample and subband (enough for 8-bit
/// complex data), at least 64 MiB.
pub fn readahead_bytes(job: &Job, delay_span_s: f64, sample_rate_hz: f64) -> usize {
    let bytes = (delay_span_s.abs() + 1.0) * sample_rate_hz * job.subbands.len() as f64 * 2.0;
    (bytes as usize).max(64 << 20)
}

/// An upper estimate (bytes) of the engine's own buffers for `job` run on
/// `threads` workers, before it starts: the integration accumulators, the
/// work units' accumulators, two chunks of samples (the one processed and
/// the one being read), and the workers' spectra and FFT scratch (shared
/// by unit) or the chunk's spectrum store and the units' per-range sums
/// (shared by stage: [`workers`]), the accumulators and spectra once per
/// phase centre. Assumes complex data and every subband its own band
/// (the largest layout the job can give). Not included: read-ahead of
/// streamed inputs (see [`readahead_bytes`]) and the samples between
/// phase centres ([`centre_spread_bytes`]).
pub fn buffer_bytes(job: &Job, threads: usize) -> u64 {
    // Channels of a band at the FFT's resolution: at most the job's FFT
    // length (the lowest-rate station's). Samples, FFT scratch and the cut
    // follow the largest station FFT.
    // A zoom pass: only the zooms' channels are kept.
    let nchan = match job.correlation.chan_width_hz {
        None => job.correlation.fft_length as u64,
        Some(w) => job
            .subbands
            .iter()
            .map(|sb| (sb.bandwidth_hz / w).ceil() as u64)
            .max()
            .unwrap_or(1),
    };
    let n_max = max_station_fft_length(job);
    let n = n_max as u64;
    let nc = job.sources.len().max(1) as u64;
    let nst = job.stations.len() as u64;
    let nsub = job.subbands.len() as u64;
    let baselines = nst * (nst + 1) / 2;
    let np = nc * baselines * nsub * 4;
    let inputs = nc * nst * nsub;
    let integration = np * nchan * 16 + np * 8 + inputs * 16;
    let cut = schedule::cut(n_max, threads, (nc * nst) as usize);
    let blocks = cut.blocks as u64;
    // One unit's f32 sums; by stage, a slot's sums are split over channel
    // ranges and one more unit is assembled from them when it is finished.
    let unit = np * nchan * 8 + np * 4 + inputs * 16;
    let units = workers::unit_slots(cut.blocks) as u64 + u64::from(cut.by_stage);
    let chunk = nst * nsub * (blocks + 2) * n * (8 + 1) + blocks * nc * nst * 64;
    let (store, worker) = if cut.by_stage {
        (blocks * inputs * (nchan * 8 + 64), n * 64)
    } else {
        (0, inputs * nchan * 9 + n * 64)
    };
    integration + units * unit + 2 * chunk + store + threads.max(1) as u64 * worker
}

/// The largest station FFT of `job` as far as the job says (DiFX's rule,
/// as the engine's setup: station s's FFT is `fft_length` × its sample
/// rate / the lowest); the job's `fft_length` when a station's rate is
/// only known from its recording.
///
/// A zoom pass (`chan_width_hz`): the highest rate / the channel width, or
/// 64 MHz / the width when a rate is only known from its recording.
pub fn max_station_fft_length(job: &Job) -> usize {
    let n = job.correlation.fft_length;
    let rates: Option<Vec<f64>> = job.stations.iter().map(|s| s.sample_rate_hz).collect();
    if let Some(w) = job.correlation.chan_width_hz {
        let hi = rates
            .iter()
            .flatten()
            .copied()
            .fold(0.0, f64::max)
            .max(if rates.is_some() { 0.0 } else { 64e6 });
        return (hi / w).round().max(2.0) as usize;
    }
    let Some(rates) = rates.filter(|r| !r.is_empty()) else {
        return n;
    };
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(0.0, f64::max);
    if lo > 0.0 && hi.is_finite() {
        ((n as f64 * hi / lo).round() as usize).max(n)
    } else {
        n
    }
}

/// Bytes the two chunks of samples grow by when the phase centres' blocks
/// lie up to `spread_s` apart in a recording (each station's chunk covers
/// every centre's blocks), at `sample_rate_hz`: complex data, 8 bytes of
/// sample and 1 of validity per sample, every subband.
pub fn centre_spread_bytes(job: &Job, spread_s: f64, sample_rate_hz: f64) -> u64 {
    let samples = (spread_s.abs() * sample_rate_hz).ceil() as u64;
    2 * job.stations.len() as u64 * job.subbands.len() as u64 * samples * (8 + 1)
}

/// The delay model of phase centre `centre` (`job.sources[centre]`) over
/// [a, b]: [`model::build_model_for`], as [`correlate`] and the CLI give it
/// to [`Engine::prepare`].
pub fn centre_model(
    job: &Job,
    centre: usize,
    a: UtcTime,
    b: UtcTime,
) -> Result<ModelTracks, EngineError> {
    let source = job.sources.get(centre).ok_or_else(|| {
        EngineError::bad(format!(
            "{}: key `source`: the job has no source {}",
            job.file.display(),
            centre + 1
        ))
    })?;
    model::build_model_for(job, source, a, b).map_err(|e| EngineError::bad(e.to_string()))
}

/// Largest minus smallest model delay over stations at `g` (pass every
/// phase centre's tracks for the span over stations and centres).
pub fn delay_span_s(tracks: &[DelayTrack], g: UtcTime) -> f64 {
    let d: Vec<f64> = tracks.iter().map(|t| t.eval(g).delay_s).collect();
    let max = d.iter().cloned().fold(f64::MIN, f64::max);
    let min = d.iter().cloned().fold(f64::MAX, f64::min);
    if d.is_empty() {
        0.0
    } else {
        max - min
    }
}

/// Correlate `job` from `sources` (one per station, in job order) into
/// `sink`, every source of the job a phase centre with the delay model of
/// [`centre_model`].
pub fn correlate(
    job: &Job,
    sources: Vec<Box<dyn SampleSource>>,
    opts: &Options,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, EngineError> {
    let build = |c: usize, a: UtcTime, b: UtcTime| centre_model(job, c, a, b);
    correlate_with_model(job, sources, &build, opts, sink, progress)
}

/// As [`correlate`], with the delay model given as a function that builds
/// the model of phase centre c (`job.sources[c]`) covering [a, b]
/// geocentric UTC.
pub fn correlate_with_model(
    job: &Job,
    sources: Vec<Box<dyn SampleSource>>,
    build_model: &BuildModel,
    opts: &Options,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, EngineError> {
    let engine = Engine::prepare(job, sources, build_model, opts)?;
    run_in_order(engine, sink, opts, progress)
}

/// Run a prepared engine the way a single process does: every
/// integration from `opts.first_integration`, all bands, in order, into
/// `sink` (which this begins and finishes).
pub fn run_in_order(
    mut engine: Engine,
    sink: &mut dyn Sink,
    opts: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, EngineError> {
    let wall = Instant::now();
    let job = engine.job();
    sink.begin(&engine.header())?;
    let layout = engine.layout().clone();
    let start = engine.start();
    let total_blocks = engine.total_blocks();
    let total_s = engine.total_s();
    let warnings = engine.warnings().to_vec();
    let block_s = layout.block_s();
    let collector = RefCell::new(Collector::new(
        sink,
        &layout,
        job.stations.len(),
        total_blocks.is_some(),
        opts.first_integration,
    )?);
    // Files: band group by band group (a unit's working set is smaller and
    // stays in cache: ~20% faster with eight one-channel threads); streams
    // must move forward in time, all bands at once.
    let all: Vec<usize> = (0..layout.bands.len()).collect();
    let groups = if engine.random_access() {
        schedule::band_groups(job, &layout)
    } else {
        vec![all]
    };
    let mut schedule = InOrder::new(opts.first_integration, groups);
    let nbands = layout.bands.len() as f64;
    let mut data_s = opts.first_integration as f64 * layout.integration_s;
    engine.run(
        &mut schedule,
        &mut |r| collector.borrow_mut().accept(r),
        &mut |blocks, unit| {
            data_s += blocks as f64 * block_s * unit.bands.len() as f64 / nbands;
            progress(&Progress {
                data_s,
                total_s,
                integrations: collector.borrow().written(),
                wall_s: wall.elapsed().as_secs_f64(),
            });
        },
    )?;
    drop(engine);
    collector.into_inner().finish(
        job,
        start,
        total_blocks,
        warnings,
        wall.elapsed().as_secs_f64(),
    )
}
