//! The FX correlation engine.
//!
//! Data flow, one stage per module:
//! [`input`] (decoded samples with validity) → [`plan`] (geocentric time →
//! FFT blocks → integrations; the model places each block in each stream) →
//! [`station`] (align → fringe-rotate → FFT → fractional-sample correction)
//! → [`baseline`] (cross-multiply-accumulate, the only O(N²) part) →
//! [`accumulate`] (weights, normalisation, Van Vleck) → [`sink`].
//! [`workers`] spreads fixed work units over threads and the sums are added
//! in a fixed order, so the output is bitwise identical for any thread count.
//!
//! Memory is bounded by the job, not the recording: one chunk of blocks is
//! processed while the next is read, and each stream is told to discard
//! what lies before the chunk being read.

pub mod accumulate;
pub mod baseline;
pub mod error;
pub mod input;
pub mod plan;
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
pub use sink::{IdiSink, MemorySink, RunHeader, Sink};
pub use station::RealFormulation;

use crate::job::{Job, Pol, Sideband};
use crate::model::{self, DelayTrack, ModelTracks};
use accumulate::{IntegrationAcc, UnitAcc};
use formats::UtcTime;
use station::SubbandDsp;
use std::time::Instant;
use workers::{Chunk, Context, SampleBuf, Worker, UNIT_BLOCKS};

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
    pub stations: Vec<String>,
    /// Cross-correlation baselines (autocorrelations not counted).
    pub baselines: usize,
    pub bands: usize,
    pub products: Vec<String>,
    pub nchan: usize,
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
    /// bands and products.
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
/// `threads` workers, before it starts: the integration accumulators, one
/// accumulator per work unit, two chunks of samples (the one processed and
/// the one being read), and the workers' spectra and FFT scratch. Assumes
/// complex data and every subband its own band (the largest layout the job
/// can give). Read-ahead of streamed inputs is not included (see
/// [`readahead_bytes`]).
pub fn buffer_bytes(job: &Job, threads: usize) -> u64 {
    let n = job.correlation.fft_length as u64;
    let nst = job.stations.len() as u64;
    let nsub = job.subbands.len() as u64;
    let nchan = n;
    let baselines = nst * (nst + 1) / 2;
    let np = baselines * nsub * 4;
    let integration = np * nchan * 16 + np * 8 + nst * nsub * 16;
    let blocks = chunk_blocks(job.correlation.fft_length) as u64;
    let units = blocks.div_ceil(UNIT_BLOCKS as u64);
    let unit = np * nchan * 8 + np * 4 + nst * nsub * 16;
    let chunk = nst * nsub * (blocks + 2) * n * (8 + 1) + blocks * nst * 64;
    let worker = nst * nsub * nchan * 9 + n * 64;
    integration + units * unit + 2 * chunk + threads.max(1) as u64 * worker
}

/// Largest minus smallest model delay over stations at `g`.
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
/// `sink`, with the delay model of [`model::build_model`].
pub fn correlate(
    job: &Job,
    sources: Vec<Box<dyn SampleSource>>,
    opts: &Options,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, EngineError> {
    let build = |a: UtcTime, b: UtcTime| {
        model::build_model(job, a, b).map_err(|e| EngineError::bad(e.to_string()))
    };
    correlate_with_model(job, sources, &build, opts, sink, progress)
}

/// As [`correlate`], with the delay model given as a function that builds
/// the model covering [a, b] geocentric UTC.
pub fn correlate_with_model(
    job: &Job,
    mut sources: Vec<Box<dyn SampleSource>>,
    build_model: &dyn Fn(UtcTime, UtcTime) -> Result<ModelTracks, EngineError>,
    opts: &Options,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, EngineError> {
    let wall = Instant::now();
    let build_tracks = |a: UtcTime, b: UtcTime| build_model(a, b).map(|m| m.delays);
    let setup = Setup::new(job, &mut sources)?;
    let layout = &setup.layout;
    let fs = layout.sample_rate_hz;
    let n = layout.fft_length;
    let nsub = job.subbands.len();
    let nst = job.stations.len();

    // Where to start: the job's start, or the first instant every station has data.
    let start = match job.start {
        Some(t) => t,
        None => {
            let t0 = sources
                .iter()
                .map(|s| s.origin())
                .fold(sources[0].origin(), |a, b| if b < a { b } else { a });
            let tracks = build_tracks(t0.add_seconds(-10.0), t0.add_seconds(10.0))?;
            let mut start = t0;
            for (s, src) in sources.iter().enumerate() {
                // One sample of margin so the first block is whole.
                let t = src
                    .origin()
                    .add_seconds((setup.first_valid[s] + 1) as f64 / fs);
                let g = plan::geocentric_time_of(&tracks[s], t);
                if g > start {
                    start = g;
                }
            }
            // Round up to a whole microsecond for readable labels.
            let us = (start.frac() * 1e6).ceil() / 1e6;
            UtcTime::new(start.sec(), us)
        }
    };
    let block_s = layout.block_s();
    let total_blocks: Option<u64> = match job.duration_s {
        Some(d) => {
            let b = (d / block_s + 1e-9).floor() as u64;
            if b == 0 {
                return Err(EngineError::bad(format!(
                    "{}: job.duration_s {d} s is shorter than one FFT ({block_s} s)",
                    job.file.display()
                )));
            }
            Some(b)
        }
        None => None,
    };
    // Where the data end: the job's duration, else the shortest recording
    // (files know their end; a stream without duration_s runs until a
    // station has no data, with a model for a day).
    let data_end = match job.duration_s {
        Some(d) => Some(start.add_seconds(d)),
        None => {
            let near = build_tracks(start.add_seconds(-10.0), start.add_seconds(10.0))?;
            let mut end: Option<UtcTime> = None;
            for (s, src) in sources.iter().enumerate() {
                if let Some(e) = src.end_sample() {
                    let t = src.origin().add_seconds(e as f64 / fs);
                    let g = plan::geocentric_time_of(&near[s], t);
                    end = Some(match end {
                        Some(x) if x < g => x,
                        _ => g,
                    });
                } else {
                    end = None;
                    break;
                }
            }
            end
        }
    };
    let model_end = data_end
        .unwrap_or(start.add_seconds(86_400.0))
        .add_seconds(10.0);
    let model = build_model(start.add_seconds(-10.0), model_end)?;
    let tracks = model.delays.clone();
    let mut warnings = model.warnings.clone();
    for (st, src) in job.stations.iter().zip(&sources) {
        warnings.extend(
            src.warnings()
                .iter()
                .map(|w| format!("station {}: {w}", st.name)),
        );
    }

    sink.begin(&RunHeader {
        job,
        layout,
        start,
        tracks: &tracks,
        positions: &model.positions,
        bits: sources.iter().map(|s| s.info().bits).collect(),
    })?;

    let m = layout.blocks_per_integration as u64;
    let chunk_blocks = chunk_blocks(n);
    let origins: Vec<UtcTime> = sources.iter().map(|s| s.origin()).collect();
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
            })
            .collect(),
        nstations: nst,
    };
    let threads = opts.threads.max(1);
    let mut workers: Vec<Worker> = (0..threads)
        .map(|_| Worker::new(&ctx, opts.formulation))
        .collect();
    let mut units: Vec<UnitAcc> = (0..chunk_blocks.div_ceil(UNIT_BLOCKS))
        .map(|_| UnitAcc::new(layout, nsub))
        .collect();
    let mut iacc = IntegrationAcc::new(layout, nsub);

    // Chunks: consecutive blocks within one integration.
    let mut cursor = ChunkCursor {
        int: opts.first_integration,
        offset: 0,
        m,
        chunk_blocks: chunk_blocks as u64,
        total_blocks,
    };
    let reader = Reader {
        tracks: &tracks,
        origins: &origins,
        job,
        start,
        block_s,
        fs,
        n,
        complex: layout.complex,
        nsub,
    };
    let mut cur = Chunk {
        bufs: vec![SampleBuf::default(); nst * nsub],
        ..Chunk::default()
    };
    let mut next = cur.clone();
    let Some(mut spec) = cursor.next() else {
        // A resumed run that had every integration already.
        sink.finish()?;
        return Ok(Summary {
            stations: layout.stations.clone(),
            baselines: nst * (nst - 1) / 2,
            bands: layout.bands.len(),
            products: (0..layout.products.len())
                .map(|p| layout.product_name(p))
                .collect(),
            nchan: layout.nchan,
            integrations: 0,
            integration_s: layout.integration_s,
            start,
            data_s: 0.0,
            wall_s: wall.elapsed().as_secs_f64(),
            speed_x_realtime: 0.0,
            baseline_weights: Vec::new(),
            warnings,
        });
    };
    reader.read(&mut sources, &spec, &mut cur)?;
    let mut written = 0u64;
    let mut station_blocks = vec![0u64; nst];
    let mut weight_sums = vec![0.0f64; layout.baselines.len()];
    let mut blocks_done = opts.first_integration * m;
    loop {
        let next_spec = cursor.next();
        let srcs = &mut sources;
        let nxt = &mut next;
        let rd = &reader;
        let read_result =
            workers::process_chunk(
                &ctx,
                &cur,
                &mut units,
                &mut workers,
                move || match &next_spec {
                    Some(sp) => rd.read(srcs, sp, nxt).map(|_| next_spec),
                    None => Ok(None),
                },
            );
        let next_spec = read_result?;
        for (u, unit) in units[..workers::units_in(cur.nblocks)].iter().enumerate() {
            let b = (cur.nblocks - u * UNIT_BLOCKS).min(UNIT_BLOCKS);
            iacc.add(unit, b as u64);
        }
        blocks_done += cur.nblocks as u64;
        if spec.last_of_integration {
            let ends_data =
                total_blocks.is_none() && (0..nst).any(|s| !iacc.station_has_data(s, nsub));
            if ends_data {
                break;
            }
            for (s, c) in station_blocks.iter_mut().enumerate() {
                if iacc.station_has_data(s, nsub) {
                    *c += 1;
                }
            }
            let first = spec.int * m;
            let centre = start.add_seconds((first as f64 + iacc.blocks as f64 / 2.0) * block_s);
            let integ = iacc.finish(layout, nsub, &setup.quant, spec.int, centre);
            for (bl, ws) in weight_sums.iter_mut().enumerate() {
                let k = layout.bands.len() * layout.products.len();
                *ws += integ.weights[bl * k..(bl + 1) * k]
                    .iter()
                    .map(|&w| w as f64)
                    .sum::<f64>()
                    / k as f64;
            }
            sink.write(layout, &integ)?;
            written += 1;
            iacc.clear();
        }
        progress(&Progress {
            data_s: blocks_done as f64 * block_s,
            total_s: match total_blocks {
                Some(b) => Some(b as f64 * block_s),
                None => data_end.map(|e| e.seconds_since(start)),
            },
            integrations: written,
            wall_s: wall.elapsed().as_secs_f64(),
        });
        match next_spec {
            Some(sp) => {
                spec = sp;
                std::mem::swap(&mut cur, &mut next);
            }
            None => break,
        }
    }
    if let Some(s) = station_blocks
        .iter()
        .position(|&c| c == 0)
        .filter(|_| opts.first_integration == 0)
    {
        return Err(EngineError::bad(format!(
            "station {}: no valid data in the job span (start {start}{})",
            job.stations[s].name,
            match job.duration_s {
                Some(d) => format!(", {d} s"),
                None => String::new(),
            }
        )));
    }
    sink.finish()?;
    let wall_s = wall.elapsed().as_secs_f64();
    let data_s = written as f64 * layout.integration_s;
    let data_s = match total_blocks {
        Some(b) => (b as f64 * block_s).min(data_s),
        None => data_s,
    };
    let names = &layout.stations;
    let baseline_weights = layout
        .baselines
        .iter()
        .zip(&weight_sums)
        .filter(|((a, b), _)| a != b)
        .map(|(&(a, b), w)| {
            (
                format!("{}-{}", names[a], names[b]),
                w / written.max(1) as f64,
            )
        })
        .collect();
    Ok(Summary {
        stations: names.clone(),
        baselines: nst * (nst - 1) / 2,
        bands: layout.bands.len(),
        products: (0..layout.products.len())
            .map(|p| layout.product_name(p))
            .collect(),
        nchan: layout.nchan,
        integrations: written,
        integration_s: layout.integration_s,
        start,
        data_s,
        wall_s,
        speed_x_realtime: data_s / wall_s.max(1e-9),
        baseline_weights,
        warnings,
    })
}

/// Blocks per chunk: ~64 k samples per station and subband (so a chunk
/// stays in the L2/L3 caches between the reader and the workers), whole units.
fn chunk_blocks(fft_length: usize) -> usize {
    let b = ((1usize << 16) / fft_length).max(1);
    b.div_ceil(UNIT_BLOCKS) * UNIT_BLOCKS
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct ChunkSpec {
    int: u64,
    first_block: u64,
    nblocks: usize,
    last_of_integration: bool,
}

struct ChunkCursor {
    int: u64,
    offset: u64,
    m: u64,
    chunk_blocks: u64,
    total_blocks: Option<u64>,
}

impl Iterator for ChunkCursor {
    type Item = ChunkSpec;
    fn next(&mut self) -> Option<ChunkSpec> {
        let first_of_int = self.int * self.m;
        let in_int = match self.total_blocks {
            Some(t) if first_of_int >= t => return None,
            Some(t) => self.m.min(t - first_of_int),
            None => self.m,
        };
        let nb = self.chunk_blocks.min(in_int - self.offset);
        let spec = ChunkSpec {
            int: self.int,
            first_block: first_of_int + self.offset,
            nblocks: nb as usize,
            last_of_integration: self.offset + nb == in_int,
        };
        self.offset += nb;
        if self.offset == in_int {
            self.int += 1;
            self.offset = 0;
        }
        Some(spec)
    }
}

/// Places blocks in the streams and reads their samples.
struct Reader<'a> {
    tracks: &'a [DelayTrack],
    origins: &'a [UtcTime],
    job: &'a Job,
    start: UtcTime,
    block_s: f64,
    fs: f64,
    n: usize,
    complex: bool,
    nsub: usize,
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
        chunk.geoms.clear();
        for b in 0..spec.nblocks as u64 {
            let g_c = plan::block_centre(self.start, self.block_s, spec.first_block + b);
            for s in 0..nst {
                chunk.geoms.push(plan::block_geom(
                    &self.tracks[s],
                    self.origins[s],
                    self.fs,
                    self.n,
                    g_c,
                ));
            }
        }
        let w = if self.complex { 2 } else { 1 };
        for (s, src) in sources.iter_mut().enumerate() {
            let n0s = chunk.geoms.iter().skip(s).step_by(nst).map(|g| g.n0);
            let (lo, hi) = n0s.fold((i64::MAX, i64::MIN), |(l, h), n0| (l.min(n0), h.max(n0)));
            let len = (hi + self.n as i64 - lo) as usize;
            for (sb, sub) in self.job.subbands.iter().enumerate() {
                let buf = &mut chunk.bufs[s * self.nsub + sb];
                buf.n_lo = lo;
                buf.samples.resize(len * w, 0.0);
                buf.valid.resize(len, false);
                src.read(
                    sub.thread,
                    sub.channel,
                    lo,
                    &mut buf.samples,
                    &mut buf.valid,
                )
                .map_err(|e| {
                    EngineError::Io(format!(
                        "station {}: reading thread {} channel {}: {e}",
                        self.job.stations[s].name, sub.thread, sub.channel
                    ))
                })?;
            }
            src.discard_before(lo);
        }
        Ok(())
    }
}

/// Everything decided before the first block: layout, quantisers, where
/// each station's data begins.
struct Setup {
    layout: Layout,
    quant: Vec<Quantiser>,
    first_valid: Vec<i64>,
}

fn pol_rank(p: Pol) -> usize {
    match p {
        Pol::R => 0,
        Pol::L => 1,
        Pol::X => 2,
        Pol::Y => 3,
    }
}

impl Setup {
    fn new(job: &Job, sources: &mut [Box<dyn SampleSource>]) -> Result<Setup, EngineError> {
        let file = job.file.display();
        if sources.len() != job.stations.len() {
            return Err(EngineError::bad(format!(
                "{file}: {} stations but {} recordings",
                job.stations.len(),
                sources.len()
            )));
        }
        if job.stations.len() < 2 {
            return Err(EngineError::bad(format!(
                "{file}: a correlation needs at least two stations"
            )));
        }
        // One sample rate and one sampling type for the whole job.
        let info0 = sources[0].info().clone();
        let fs = info0.sample_rate_hz;
        for (st, src) in job.stations.iter().zip(sources.iter()) {
            let info = src.info();
            if (info.sample_rate_hz - fs).abs() > 1e-9 * fs {
                let list: Vec<String> = job
                    .stations
                    .iter()
                    .zip(sources.iter())
                    .map(|(s, r)| format!("{} {} Hz", s.name, r.info().sample_rate_hz))
                    .collect();
                return Err(EngineError::bad(format!(
                    "{file}: mismatched sample rates ({}): all stations must share one",
                    list.join(", ")
                )));
            }
            if let Some(r) = st.sample_rate_hz {
                if (r - info.sample_rate_hz).abs() > 1e-9 * r {
                    return Err(EngineError::bad(format!(
                        "{file}: station {}: sample_rate_hz {r} but the recording runs at {} Hz",
                        st.name, info.sample_rate_hz
                    )));
                }
            }
            if info.complex != info0.complex {
                return Err(EngineError::bad(format!(
                    "{file}: station {} is {} sampled but station {} is {}: mixed real and complex sampling is not supported",
                    st.name,
                    if info.complex { "complex" } else { "real" },
                    job.stations[0].name,
                    if info0.complex { "complex" } else { "real" },
                )));
            }
        }
        let complex = info0.complex;
        // Every subband must be in every recording, with a bandwidth that
        // matches the sample rate.
        for (i, sb) in job.subbands.iter().enumerate() {
            let has =
                |info: &StreamInfo| info.threads.contains(&sb.thread) && sb.channel < info.channels;
            let missing: Vec<&str> = job
                .stations
                .iter()
                .zip(sources.iter())
                .filter(|(_, s)| !has(s.info()))
                .map(|(st, _)| st.name.as_str())
                .collect();
            if !missing.is_empty() {
                let who = if missing.len() == job.stations.len() {
                    "no station has it".to_string()
                } else {
                    format!("not in the recording of {}", missing.join(", "))
                };
                return Err(EngineError::bad(format!(
                    "{file}: subband[{i}] (thread {}, channel {}): {who}",
                    sb.thread, sb.channel
                )));
            }
            let want_bw = if complex { fs } else { fs / 2.0 };
            if (sb.bandwidth_hz - want_bw).abs() > 1e-6 * want_bw {
                return Err(EngineError::bad(format!(
                    "{file}: subband[{i}]: bandwidth_hz {} does not match {} sampling at {fs} Hz (expected {want_bw})",
                    sb.bandwidth_hz,
                    if complex { "complex" } else { "real" }
                )));
            }
        }
        // Bands: subbands that share frequency, bandwidth and sideband.
        let mut bands: Vec<(Band, Vec<Pol>)> = Vec::new();
        for (i, sb) in job.subbands.iter().enumerate() {
            let pos = bands.iter().position(|(b, _)| {
                b.sky_freq_hz == sb.sky_freq_hz
                    && b.bandwidth_hz == sb.bandwidth_hz
                    && b.sideband == sb.sideband
            });
            match pos {
                Some(k) => {
                    if bands[k].1.contains(&sb.pol) {
                        return Err(EngineError::bad(format!(
                            "{file}: subband[{i}]: polarisation {} of the band at {} Hz is given twice",
                            sb.pol.letter(),
                            sb.sky_freq_hz
                        )));
                    }
                    bands[k].0.subbands.push(i);
                    bands[k].1.push(sb.pol);
                }
                None => bands.push((
                    Band {
                        sky_freq_hz: sb.sky_freq_hz,
                        bandwidth_hz: sb.bandwidth_hz,
                        sideband: sb.sideband,
                        subbands: vec![i],
                    },
                    vec![sb.pol],
                )),
            }
        }
        // Order each band's subbands by polarisation, and check all agree.
        for (b, pols) in bands.iter_mut() {
            let mut pairs: Vec<(Pol, usize)> =
                pols.iter().cloned().zip(b.subbands.clone()).collect();
            pairs.sort_by_key(|(p, _)| pol_rank(*p));
            *pols = pairs.iter().map(|p| p.0).collect();
            b.subbands = pairs.iter().map(|p| p.1).collect();
        }
        let pols = bands[0].1.clone();
        for (b, p) in &bands {
            if *p != pols {
                let show = |v: &[Pol]| v.iter().map(|p| p.letter()).collect::<String>();
                return Err(EngineError::bad(format!(
                    "{file}: the band at {} Hz has polarisations {} but the band at {} Hz has {}: every band needs the same",
                    b.sky_freq_hz,
                    show(p),
                    bands[0].0.sky_freq_hz,
                    show(&pols)
                )));
            }
        }
        if pols.len() == 2 && (pol_rank(pols[0]) < 2) != (pol_rank(pols[1]) < 2) {
            return Err(EngineError::bad(format!(
                "{file}: a band mixes circular and linear polarisation"
            )));
        }
        let products = if pols.len() == 1 {
            vec![Product { pol_a: 0, pol_b: 0 }]
        } else {
            vec![
                Product { pol_a: 0, pol_b: 0 },
                Product { pol_a: 1, pol_b: 1 },
                Product { pol_a: 0, pol_b: 1 },
                Product { pol_a: 1, pol_b: 0 },
            ]
        };
        let nst = job.stations.len();
        let baselines = (0..nst)
            .flat_map(|a| (a..nst).map(move |b| (a, b)))
            .collect();
        let n = job.correlation.fft_length;
        let nchan = if complex { n } else { n / 2 };
        let block_s = n as f64 / fs;
        let m = ((job.correlation.integration_s / block_s).round() as usize).max(1);
        let layout = Layout {
            stations: job.stations.iter().map(|s| s.name.clone()).collect(),
            baselines,
            bands: bands.into_iter().map(|(b, _)| b).collect(),
            pols,
            products,
            nchan,
            chan_width_hz: fs / n as f64,
            complex,
            sample_rate_hz: fs,
            fft_length: n,
            blocks_per_integration: m,
            integration_s: m as f64 * block_s,
        };

        // Probe each recording: where its data begins, and its 2-bit levels.
        let mut quant = Vec::with_capacity(nst);
        let mut first_valid = Vec::with_capacity(nst);
        let sb0 = &job.subbands[0];
        for (st, src) in job.stations.iter().zip(sources.iter_mut()) {
            let bits = src.info().bits;
            let w = if complex { 2 } else { 1 };
            let probe = 1usize << 16;
            let mut out = vec![0.0f32; probe * w];
            let mut valid = vec![false; probe];
            let mut pos = src.first_sample();
            let limit = pos + (3.0 * fs) as i64;
            let mut found = None;
            while pos < limit {
                src.read(sb0.thread, sb0.channel, pos, &mut out, &mut valid)
                    .map_err(|e| EngineError::Io(format!("station {}: {e}", st.name)))?;
                if let Some(k) = valid.iter().position(|&v| v) {
                    found = Some(pos + k as i64);
                    break;
                }
                pos += probe as i64;
            }
            let Some(first) = found else {
                return Err(EngineError::bad(format!(
                    "station {}: no valid data in the first 3 s of the recording",
                    st.name
                )));
            };
            first_valid.push(first);
            quant.push(match bits {
                1 => Quantiser::OneBit,
                2 => {
                    let mut mags: Vec<f32> = Vec::new();
                    for (k, v) in valid.iter().enumerate() {
                        for q in 0..w {
                            let m = out[k * w + q].abs();
                            if *v && m > 0.0 && !mags.contains(&m) {
                                mags.push(m);
                            }
                        }
                        if mags.len() > 2 {
                            break;
                        }
                    }
                    mags.sort_by(|a, b| a.total_cmp(b));
                    if mags.len() == 2 {
                        Quantiser::TwoBit {
                            low: mags[0],
                            high: mags[1],
                        }
                    } else {
                        Quantiser::None
                    }
                }
                _ => Quantiser::None,
            });
        }
        Ok(Setup {
            layout,
            quant,
            first_valid,
        })
    }
}
