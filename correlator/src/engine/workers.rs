//! Work distribution. A chunk of consecutive blocks (all stations and
//! subbands read into memory, once for all phase centres) is processed by
//! crossbeam worker threads kept for the whole run ([`Crew`]), in one of
//! two ways (`super::schedule::cut` chooses):
//!
//! - **By unit** (FFTs up to a few thousand points, or one worker): a task
//!   is the blocks of one work unit of [`UNIT_BLOCKS`] blocks inside the
//!   chunk; the worker runs the station and baseline stages of each block
//!   and sums the unit on its own, its spectra hot in its cache.
//! - **By stage** (larger FFTs, where a chunk holds too few units to share):
//!   station-stage tasks are (block, centre, station, recording), each
//!   one FFT whose channels go to every input (centre, station, job
//!   subband) the recording feeds, written to the chunk's spectrum store
//!   (a recording feeding several inputs is transformed once, as by
//!   unit); after a barrier among the workers,
//!   baseline-stage tasks are (unit, channel range), each summing its
//!   channels of the unit's products over the unit's blocks in block order.
//!
//! Either way each (unit, product, channel) is the same f32 sum over the
//! unit's blocks in block order, each station power the same f64 sum, and
//! the caller adds the units' sums into the integration in unit order: the
//! output does not depend on the number of threads, on which thread did
//! what, or on how the blocks were cut into chunks (bitwise). Splitting by
//! channel keeps that property for free (every channel's arithmetic is
//! its own); splitting a unit's blocks among threads would not (the f32
//! sums would be added in another order).
//!
//! Tasks are taken from a shared counter. By stage, worker w takes task w
//! of each phase first, so every worker provably gets work when a phase
//! has at least as many tasks as workers ([`Crew::tasks_per_worker`]; a
//! test relies on it). By unit, all come from the counter, as before:
//! chunks there are ~1 ms of work, and on a loaded machine a worker the
//! system is slow to wake would hold up the chunk with a unit reserved
//! for it.

use super::accumulate::UnitAcc;
use super::baseline::{auto_mac, cmac};
use super::plan::{BlockGeom, ChannelMap, Layout};
use super::station::{RealFormulation, StationDsp, SubbandDsp};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Blocks per work unit (fixed: part of what makes the output reproducible).
pub const UNIT_BLOCKS: usize = 8;

/// One station's samples of one subband for a chunk: the union of what
/// every phase centre's blocks need.
#[derive(Debug, Clone, Default)]
pub struct SampleBuf {
    /// Stream index of `samples[0]`.
    pub n_lo: i64,
    /// Samples (I,Q interleaved for complex data).
    pub samples: Vec<f32>,
    /// Validity of each sample (as the reader reports it).
    pub valid: Vec<bool>,
}

/// The blocks of one work unit inside a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitRun {
    /// Accumulator slot: the chunk's runs take slots 0, 1, … in order (a
    /// unit continued from the last chunk is the chunk's only run, and
    /// keeps slot 0, where its sums are).
    pub slot: usize,
    /// Chunk blocks [b0, b1).
    pub b0: usize,
    pub b1: usize,
    /// Whether b0 is the unit's first block (its sums start from zero).
    pub fresh: bool,
    /// The whole unit's blocks, when it ends with this chunk.
    pub finished: Option<usize>,
}

/// The runs of units in a chunk of `nblocks` blocks whose first block is
/// block `offset` of its integration; `last` when the chunk ends the
/// integration (whose last unit may be short).
pub fn unit_runs(offset: u64, nblocks: usize, last: bool) -> Vec<UnitRun> {
    let u = UNIT_BLOCKS as u64;
    let mut runs = Vec::new();
    let mut b0 = 0usize;
    while b0 < nblocks {
        let at = offset + b0 as u64;
        let unit_start = at - at % u;
        let b1 = ((unit_start + u - offset) as usize).min(nblocks);
        let ends = (offset + b1 as u64).is_multiple_of(u) || (last && b1 == nblocks);
        runs.push(UnitRun {
            slot: runs.len(),
            b0,
            b1,
            fresh: at == unit_start,
            finished: ends.then(|| (offset + b1 as u64 - unit_start) as usize),
        });
        b0 = b1;
    }
    runs
}

/// Unit accumulator slots a chunk of `chunk_blocks` blocks needs (see
/// `super::schedule::Cut::blocks`: 1, 2, 4 or a multiple of
/// [`UNIT_BLOCKS`]).
pub fn unit_slots(chunk_blocks: usize) -> usize {
    (chunk_blocks / UNIT_BLOCKS).max(1)
}

/// One station-stage task of a block: recording `q` (an index into
/// [`Context::recordings`]) of station `s`, for phase centre `c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StationTask {
    pub c: usize,
    pub s: usize,
    pub q: usize,
}

/// One product of the baseline stage: accumulator index k
/// (`[centre][baseline][band][product]`) and its two inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub k: usize,
    pub a: usize,
    pub b: usize,
}

/// Consecutive blocks of one integration, with their data.
#[derive(Debug, Clone, Default)]
pub struct Chunk {
    /// Job block index of the first block.
    pub first_block: u64,
    pub nblocks: usize,
    /// `[block][centre][station]`
    pub geoms: Vec<BlockGeom>,
    /// `[station][recording]` (flattened: [`Context::recordings`] order; with
    /// one recording setup, [station][job subband])
    pub bufs: Vec<SampleBuf>,
    /// Per recording (as `bufs`): whether this chunk's work unit needs it
    /// (the others are neither read nor transformed).
    pub active: Vec<bool>,
    /// Per layout band: whether the work unit includes it.
    pub bands: Vec<bool>,
    /// The units' blocks in the chunk, in order.
    pub runs: Vec<UnitRun>,
    /// Station-stage tasks of a block: the active recordings, per centre.
    pub stations: Vec<StationTask>,
    /// Inputs those tasks write (the active subbands each station
    /// records), ascending.
    pub inputs: Vec<usize>,
    /// Products of the active bands, in accumulator order.
    pub pairs: Vec<Pair>,
    /// Per recording (as `bufs`): the phase-cal fold of the chunk's samples
    /// not folded before in its unit (`None`: no tones, or not active).
    pub pcal: Vec<Option<super::pcal::Fold>>,
}

impl Chunk {
    /// Derive `runs`, `stations`, `inputs` and `pairs` from `active` and
    /// `bands` (set first) for a chunk starting at block `offset` of its
    /// integration.
    pub fn plan(&mut self, ctx: &Context, offset: u64, last: bool) {
        self.runs = unit_runs(offset, self.nblocks, last);
        let (nst, nsub) = (ctx.nstations, ctx.nsub());
        let l = ctx.layout;
        self.stations.clear();
        self.inputs.clear();
        for c in 0..ctx.ncentres() {
            for s in 0..nst {
                let recs = ctx.rec_base[s]..ctx.rec_base[s + 1];
                let active = recs.filter(|&q| self.active[q]);
                self.stations
                    .extend(active.map(|q| StationTask { c, s, q }));
                for sb in 0..nsub {
                    let fed = l.channel_maps[s][sb]
                        .is_some_and(|m| self.active[ctx.rec_base[s] + m.recording]);
                    if fed {
                        self.inputs.push((c * nst + s) * nsub + sb);
                    }
                }
            }
        }
        self.pairs.clear();
        let mut k = 0;
        for c in 0..ctx.ncentres() {
            let input = |s: usize, sb: usize| (c * nst + s) * nsub + sb;
            for &(a, b) in &l.baselines {
                for (bi, band) in l.bands.iter().enumerate() {
                    for prod in &l.products {
                        if self.bands[bi] {
                            self.pairs.push(Pair {
                                k,
                                a: input(a, band.subbands[prod.pol_a]),
                                b: input(b, band.subbands[prod.pol_b]),
                            });
                        }
                        k += 1;
                    }
                }
            }
        }
    }
}

/// What every worker needs to know, read-only.
pub struct Context<'a> {
    pub layout: &'a Layout,
    /// Per job subband (the output subbands: the inputs of the baseline
    /// stage are `[centre][station][job subband]`).
    pub subbands: Vec<SubbandDsp>,
    pub nstations: usize,
    /// Every station's recordings, station after station: one stream of
    /// samples and one FFT per block each.
    pub recordings: Vec<RecordingDsp>,
    /// Station s's recordings are `recordings[rec_base[s]..rec_base[s + 1]]`.
    pub rec_base: Vec<usize>,
}

/// One recording's station stage: its DSP constants and the output
/// subbands it feeds.
#[derive(Debug, Clone)]
pub struct RecordingDsp {
    pub dsp: SubbandDsp,
    /// (job subband, where its channels lie in this recording's spectrum).
    pub targets: Vec<(usize, ChannelMap)>,
    /// One target whose channels are the spectrum's own, in order (a
    /// recording that is its output subband): the spectrum is written
    /// straight into the input, as with one recording setup.
    pub direct: bool,
}

impl Context<'_> {
    pub fn nsub(&self) -> usize {
        self.subbands.len()
    }

    /// Phase centres.
    pub fn ncentres(&self) -> usize {
        self.layout.centres.len()
    }

    /// Inputs of the station stage: a (centre, station, subband) is one
    /// stream of spectra, as a (station, subband) is with one centre
    /// (DiFX's station stage computes per-phase-centre spectra too).
    pub fn ninputs(&self) -> usize {
        self.ncentres() * self.nstations * self.nsub()
    }

    /// The inputs `task`'s spectrum feeds.
    pub fn targets(&self, task: &StationTask) -> impl Iterator<Item = usize> + '_ {
        let first = (task.c * self.nstations + task.s) * self.nsub();
        self.recordings[task.q]
            .targets
            .iter()
            .map(move |&(sb, _)| first + sb)
    }

    /// The station of input `i`.
    pub fn station_of(&self, i: usize) -> usize {
        (i / self.nsub()) % self.nstations
    }

    /// Sample values in one block of station `s` (its FFT length, twice
    /// that for complex data: Σx² sums I² + Q², so the 2-bit correction
    /// takes power per value).
    pub fn values_per_block(&self, s: usize) -> u64 {
        let l = self.layout;
        let complex = l.station_recordings[s]
            .first()
            .is_some_and(|r| r.sampling != crate::job::Sampling::Real);
        (l.station_fft_length[s] * if complex { 2 } else { 1 }) as u64
    }

    /// Accumulator products: `[centre][baseline][band][product]`.
    pub fn nproducts(&self) -> usize {
        let l = self.layout;
        self.ncentres() * l.baselines.len() * l.bands.len() * l.products.len()
    }
}

/// One worker's private state, kept across chunks.
pub struct Worker {
    /// One per distinct (FFT length, sampling) of the stations.
    dsps: Vec<StationDsp>,
    /// Per station: its entry of `dsps`.
    dsp_of: Vec<usize>,
    /// By unit only: [centre][station][job subband][chan] (`fft_nchan`
    /// channels each).
    spec_re: Vec<f32>,
    spec_im: Vec<f32>,
    /// [centre][station][job subband]
    valid: Vec<bool>,
}

impl Worker {
    /// A worker; `by_stage` workers write their spectra to the chunk's
    /// store and need no spectrum buffers of their own.
    pub fn new(ctx: &Context, formulation: RealFormulation, by_stage: bool) -> Self {
        let l = ctx.layout;
        let n = if by_stage {
            0
        } else {
            ctx.ninputs() * l.fft_nchan
        };
        let mut dsps: Vec<StationDsp> = Vec::new();
        let mut dsp_of = Vec::with_capacity(ctx.nstations);
        for s in 0..ctx.nstations {
            let fft = l.station_fft_length[s];
            let complex = l.station_recordings[s]
                .first()
                .is_some_and(|r| r.sampling != crate::job::Sampling::Real);
            match dsps
                .iter()
                .position(|d| d.fft_length() == fft && d.complex() == complex)
            {
                Some(i) => dsp_of.push(i),
                None => {
                    dsp_of.push(dsps.len());
                    dsps.push(StationDsp::new(fft, complex, formulation, l.window));
                }
            }
        }
        Worker {
            dsps,
            dsp_of,
            spec_re: vec![0.0; n],
            spec_im: vec![0.0; n],
            valid: vec![false; ctx.ninputs()],
        }
    }

    /// Both stages for the blocks of `run` (by unit), summed into `unit`
    /// (cleared first if the run starts the unit).
    fn unit(&mut self, ctx: &Context, chunk: &Chunk, run: &UnitRun, unit: &mut UnitAcc) {
        if run.fresh {
            unit.clear(&chunk.bands);
        }
        let nch = ctx.layout.fft_nchan;
        for blk in run.b0..run.b1 {
            self.valid.fill(false);
            for task in &chunk.stations {
                let dsp = &mut self.dsps[self.dsp_of[task.s]];
                let (re, im) = (&mut self.spec_re, &mut self.spec_im);
                let p = station(dsp, ctx, chunk, blk, task, |i, fill| {
                    fill(
                        &mut re[i * nch..(i + 1) * nch],
                        &mut im[i * nch..(i + 1) * nch],
                    )
                });
                if let Some(p) = p {
                    let n = ctx.values_per_block(task.s);
                    for i in ctx.targets(task) {
                        self.valid[i] = true;
                        unit.power[i] += p;
                        unit.power_samples[i] += n;
                    }
                }
            }
            // Baseline stage: [centre][baseline][band][product].
            for p in &chunk.pairs {
                if !(self.valid[p.a] && self.valid[p.b]) {
                    continue;
                }
                let k = p.k;
                let (ar, ai) = (
                    &self.spec_re[p.a * nch..(p.a + 1) * nch],
                    &self.spec_im[p.a * nch..(p.a + 1) * nch],
                );
                if p.a == p.b {
                    // Parallel-hand autocorrelation: real, imaginary part stays 0.
                    auto_mac(&mut unit.re[k * nch..(k + 1) * nch], ar, ai);
                } else {
                    cmac(
                        &mut unit.re[k * nch..(k + 1) * nch],
                        &mut unit.im[k * nch..(k + 1) * nch],
                        ar,
                        ai,
                        &self.spec_re[p.b * nch..(p.b + 1) * nch],
                        &self.spec_im[p.b * nch..(p.b + 1) * nch],
                    );
                }
                unit.used[k] += 1;
            }
        }
    }
}

/// Station stage of one recording for chunk block `blk` (`task`: which
/// centre, station and recording): one FFT, whose channels go to every
/// input (centre, station, job subband) the recording feeds. `out(i,
/// fill)` hands `fill` input i's spectrum buffers (`fft_nchan` channels)
/// to write. Returns Σx² of the block's samples (the same for each of
/// the recording's inputs), or `None` when one of them is invalid (the
/// block is not used; nothing is written).
fn station(
    dsp: &mut StationDsp,
    ctx: &Context,
    chunk: &Chunk,
    blk: usize,
    task: &StationTask,
    mut out: impl FnMut(usize, &mut dyn FnMut(&mut [f32], &mut [f32])),
) -> Option<f64> {
    let l = ctx.layout;
    let (nst, nsub, nch) = (ctx.nstations, ctx.nsub(), l.fft_nchan);
    let (c, s, q) = (task.c, task.s, task.q);
    let n = l.station_fft_length[s];
    let fs = l.station_sample_rate_hz[s];
    let w = if dsp.complex() { 2 } else { 1 };
    // Each centre takes its own samples from the station's buffer and
    // rotates them with its own model.
    let g = &chunk.geoms[(blk * ctx.ncentres() + c) * nst + s];
    let rec = &ctx.recordings[q];
    let buf = &chunk.bufs[q];
    let off = (g.n0 - buf.n_lo) as usize;
    if !all_valid(&buf.valid[off..off + n]) {
        return None;
    }
    let samples = &buf.samples[off * w..(off + n) * w];
    let first = (c * nst + s) * nsub;
    if rec.dsp.track {
        // A zoom pass: each output band is rotated at its own centre, so
        // each is transformed on its own.
        let base = if rec.dsp.dsb { -((n / 2) as f64) } else { 0.0 };
        let mut p = 0.0;
        for &(sb, map) in &rec.targets {
            let half = (nch - 1) as f64 / 2.0;
            let centre = if map.reversed {
                map.first_chan as f64 - half
            } else {
                map.first_chan as f64 + half
            };
            let sub = super::station::SubbandDsp {
                track_hz: (centre + base) * fs / n as f64,
                ..rec.dsp
            };
            p = dsp.transform(samples, g, &sub, fs);
            out(first + sb, &mut |re, im| {
                dsp.extract(map.first_chan, nch, map.reversed, g.delta, &sub, re, im);
            });
        }
        return Some(p);
    }
    if rec.direct {
        let mut p = 0.0;
        out(first + rec.targets[0].0, &mut |re, im| {
            p = dsp.spectrum(samples, g, &rec.dsp, fs, re, im);
        });
        return Some(p);
    }
    let p = dsp.transform(samples, g, &rec.dsp, fs);
    for &(sb, map) in &rec.targets {
        out(first + sb, &mut |re, im| {
            dsp.extract(map.first_chan, nch, map.reversed, g.delta, &rec.dsp, re, im);
        });
    }
    Some(p)
}

/// Whether every flag is set (bytes compared eight at a time).
fn all_valid(v: &[bool]) -> bool {
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder().iter().all(|&b| b);
    rest && chunks.fold(true, |ok, c| ok & c.iter().fold(true, |a, &b| a & b))
}

/// One (block, input) spectrum of the by-stage store.
#[derive(Debug, Default)]
struct Spectrum {
    re: Vec<f32>,
    im: Vec<f32>,
    /// Σx² of the block's samples; `None` when the block is not used
    /// (an invalid sample, or a subband outside the chunk's unit).
    power: Option<f64>,
}

/// By stage: one unit's sums over one channel range, [product][channel
/// − range start]; the first range's also hold the unit's block counts
/// and station powers (as [`UnitAcc`] lays them out).
#[derive(Debug, Default)]
struct Piece {
    re: Vec<f32>,
    im: Vec<f32>,
    used: Vec<u32>,
    power: Vec<f64>,
    power_samples: Vec<u64>,
}

/// The by-stage state of a crew.
struct Staged {
    /// [chunk block][input]
    spectra: Vec<RwLock<Spectrum>>,
    /// Channel ranges of the baseline-stage tasks.
    ranges: Vec<Range<usize>>,
    /// [slot][range]
    pieces: Vec<Mutex<Piece>>,
    next: AtomicUsize,
    /// The workers meet here between the stages (the caller is reading).
    mid: Barrier,
}

impl Staged {
    fn new(ctx: &Context, chunk_blocks: usize, workers: usize) -> Self {
        let nch = ctx.layout.fft_nchan;
        // At most four ranges per worker (enough to even out), of at
        // least 256 channels (a range's sums and spectra per product,
        // 8 KiB, stay in L1 while its blocks are added).
        let nr = (nch / 256).clamp(1, 4 * workers.max(1));
        let ranges: Vec<Range<usize>> = (0..nr).map(|r| r * nch / nr..(r + 1) * nch / nr).collect();
        let np = ctx.nproducts();
        let ni = ctx.ninputs();
        let pieces = (0..unit_slots(chunk_blocks))
            .flat_map(|_| ranges.iter().enumerate())
            .map(|(r, range)| {
                let meta = if r == 0 { 1 } else { 0 };
                Mutex::new(Piece {
                    re: vec![0.0; np * range.len()],
                    im: vec![0.0; np * range.len()],
                    used: vec![0; np * meta],
                    power: vec![0.0; ni * meta],
                    power_samples: vec![0; ni * meta],
                })
            })
            .collect();
        let spectra = (0..chunk_blocks * ni)
            .map(|_| {
                RwLock::new(Spectrum {
                    re: vec![0.0; nch],
                    im: vec![0.0; nch],
                    power: None,
                })
            })
            .collect();
        Staged {
            spectra,
            ranges,
            pieces,
            next: AtomicUsize::new(0),
            mid: Barrier::new(workers),
        }
    }

    /// Baseline stage of `run`'s blocks over channel range `r`, from the
    /// store into the run's piece.
    fn baseline(&self, ctx: &Context, chunk: &Chunk, run: &UnitRun, r: usize) {
        let ni = ctx.ninputs();
        let range = self.ranges[r].clone();
        let len = range.len();
        let mut piece = self.pieces[run.slot * self.ranges.len() + r]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let piece = &mut *piece;
        if run.fresh {
            for p in &chunk.pairs {
                piece.re[p.k * len..(p.k + 1) * len].fill(0.0);
                piece.im[p.k * len..(p.k + 1) * len].fill(0.0);
            }
            if r == 0 {
                piece.used.fill(0);
                piece.power.fill(0.0);
                piece.power_samples.fill(0);
            }
        }
        let mut specs: Vec<Option<RwLockReadGuard<'_, Spectrum>>> = (0..ni).map(|_| None).collect();
        for blk in run.b0..run.b1 {
            for &i in &chunk.inputs {
                specs[i] = Some(
                    self.spectra[blk * ni + i]
                        .read()
                        .unwrap_or_else(|e| e.into_inner()),
                );
            }
            let spec = |i: usize| specs[i].as_deref().filter(|s| s.power.is_some());
            for p in &chunk.pairs {
                let (Some(a), Some(b)) = (spec(p.a), spec(p.b)) else {
                    continue;
                };
                let k = p.k;
                let (acc_re, acc_im) = (
                    &mut piece.re[k * len..(k + 1) * len],
                    &mut piece.im[k * len..(k + 1) * len],
                );
                let (ar, ai) = (&a.re[range.clone()], &a.im[range.clone()]);
                if p.a == p.b {
                    auto_mac(acc_re, ar, ai);
                } else {
                    cmac(
                        acc_re,
                        acc_im,
                        ar,
                        ai,
                        &b.re[range.clone()],
                        &b.im[range.clone()],
                    );
                }
                if r == 0 {
                    piece.used[k] += 1;
                }
            }
            if r == 0 {
                for &i in &chunk.inputs {
                    if let Some(p) = spec(i).and_then(|s| s.power) {
                        piece.power[i] += p;
                        piece.power_samples[i] += ctx.values_per_block(ctx.station_of(i));
                    }
                }
            }
        }
    }

    /// Station stage of `task` for chunk block `blk`, into the store: the
    /// spectrum of every input the recording feeds, and its power (`None`
    /// for all of them when the block is not used).
    fn station(
        &self,
        w: &mut Worker,
        ctx: &Context,
        chunk: &Chunk,
        blk: usize,
        task: &StationTask,
    ) {
        let ni = ctx.ninputs();
        let dsp = &mut w.dsps[w.dsp_of[task.s]];
        let p = station(dsp, ctx, chunk, blk, task, |i, fill| {
            let mut sp = self.spectra[blk * ni + i]
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let sp = &mut *sp;
            fill(&mut sp.re, &mut sp.im);
        });
        for i in ctx.targets(task) {
            self.spectra[blk * ni + i]
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .power = p;
        }
    }

    /// Copy slot `slot`'s pieces of the chunk's products into `unit`.
    fn assemble(&self, ctx: &Context, chunk: &Chunk, slot: usize, unit: &mut UnitAcc) {
        let nch = ctx.layout.fft_nchan;
        let nr = self.ranges.len();
        for (r, range) in self.ranges.iter().enumerate() {
            let piece = self.pieces[slot * nr + r]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let len = range.len();
            for p in &chunk.pairs {
                let (src, dst) = (
                    p.k * len..(p.k + 1) * len,
                    p.k * nch + range.start..p.k * nch + range.end,
                );
                unit.re[dst.clone()].copy_from_slice(&piece.re[src.clone()]);
                unit.im[dst].copy_from_slice(&piece.im[src]);
                if r == 0 {
                    unit.used[p.k] = piece.used[p.k];
                }
            }
            if r == 0 {
                unit.power.copy_from_slice(&piece.power);
                unit.power_samples.copy_from_slice(&piece.power_samples);
            }
        }
    }
}

/// The worker threads of one run, kept for all its chunks (spawning them
/// anew for every chunk of ~1 ms of work cost ~15% with two threads).
///
/// Each chunk is one phase: [`Crew::process`] publishes which of the two
/// chunk buffers to work on and opens the start barrier; the workers take
/// tasks from shared counters (by unit: each summing into that unit's own
/// accumulator; by stage: the station tasks, a barrier among the workers,
/// the baseline tasks), while the calling thread fills the other buffer
/// (the reader); everyone meets at the end barrier. Between phases only
/// the calling thread touches the buffers and accumulators.
pub struct Crew<'c> {
    ctx: &'c Context<'c>,
    chunks: [RwLock<Chunk>; 2],
    /// By unit: one per slot; by stage: one, the finished unit assembled.
    units: Vec<Mutex<UnitAcc>>,
    staged: Option<Staged>,
    current: AtomicUsize,
    next_task: AtomicUsize,
    workers: usize,
    /// Tasks each worker has done.
    done: Vec<AtomicU64>,
    stop: AtomicBool,
    panicked: AtomicBool,
    start: Barrier,
    end: Barrier,
}

/// Run `body` with a crew of one thread per worker, chunks of up to
/// `chunk_blocks` blocks shared by unit or `by_stage`; the crew ends when
/// `body` returns (or unwinds). Returns what `body` did and the tasks
/// each worker did ([`Crew::tasks_per_worker`]).
pub fn with_crew<R>(
    ctx: &Context,
    workers: Vec<Worker>,
    chunk_blocks: usize,
    by_stage: bool,
    chunks: [Chunk; 2],
    body: impl FnOnce(&Crew) -> R,
) -> (R, Vec<u64>) {
    let n = workers.len();
    let [c0, c1] = chunks;
    let nunits = if by_stage {
        1
    } else {
        unit_slots(chunk_blocks)
    };
    let crew = Crew {
        ctx,
        chunks: [RwLock::new(c0), RwLock::new(c1)],
        units: (0..nunits)
            .map(|_| Mutex::new(UnitAcc::new(ctx.layout, ctx.nsub())))
            .collect(),
        staged: by_stage.then(|| Staged::new(ctx, chunk_blocks, n)),
        current: AtomicUsize::new(0),
        next_task: AtomicUsize::new(0),
        workers: n,
        done: (0..n).map(|_| AtomicU64::new(0)).collect(),
        stop: AtomicBool::new(false),
        panicked: AtomicBool::new(false),
        start: Barrier::new(n + 1),
        end: Barrier::new(n + 1),
    };
    crossbeam::scope(|scope| {
        for (id, mut w) in workers.into_iter().enumerate() {
            let crew = &crew;
            scope.spawn(move |_| crew.work(id, &mut w));
        }
        // Whatever `body` does, the workers are let go at the end.
        struct Release<'a, 'c>(&'a Crew<'c>);
        impl Drop for Release<'_, '_> {
            fn drop(&mut self) {
                self.0.stop.store(true, Ordering::SeqCst);
                self.0.start.wait();
            }
        }
        let _release = Release(&crew);
        let r = body(&crew);
        (r, crew.tasks_per_worker())
    })
    .expect("a correlator worker thread failed")
}

impl Crew<'_> {
    /// Do tasks 0..n of a phase: by stage task `id` first, then whatever
    /// `next` hands out (it starts at the number of workers; by unit at 0).
    fn tasks(&self, id: usize, n: usize, next: &AtomicUsize, mut task: impl FnMut(usize)) {
        let mut t = if self.staged.is_some() {
            id
        } else {
            next.fetch_add(1, Ordering::SeqCst)
        };
        while t < n {
            // A panic must not leave the others waiting at a barrier: note
            // it, and the caller panics after the phase.
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(t)));
            if ok.is_err() {
                self.panicked.store(true, Ordering::SeqCst);
            }
            self.done[id].fetch_add(1, Ordering::Relaxed);
            t = next.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn work(&self, id: usize, w: &mut Worker) {
        loop {
            self.start.wait();
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            {
                let chunk = self.chunks[self.current.load(Ordering::SeqCst)]
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                let chunk = &*chunk;
                match &self.staged {
                    None => self.tasks(id, chunk.runs.len(), &self.next_task, |t| {
                        let run = &chunk.runs[t];
                        let mut unit = self.units[run.slot]
                            .lock()
                            .unwrap_or_else(|e| e.into_inner());
                        w.unit(self.ctx, chunk, run, &mut unit);
                    }),
                    Some(st) => {
                        let tasks = &chunk.stations;
                        let n = chunk.nblocks * tasks.len();
                        self.tasks(id, n, &self.next_task, |t| {
                            let (blk, task) = (t / tasks.len(), &tasks[t % tasks.len()]);
                            st.station(w, self.ctx, chunk, blk, task);
                        });
                        st.mid.wait();
                        let nr = st.ranges.len();
                        self.tasks(id, chunk.runs.len() * nr, &st.next, |t| {
                            st.baseline(self.ctx, chunk, &chunk.runs[t / nr], t % nr);
                        });
                    }
                }
            }
            self.end.wait();
        }
    }

    /// Process chunk buffer `i` while `alongside` runs on the calling
    /// thread with the other buffer (the reader filling it).
    pub fn process<R>(&self, i: usize, alongside: impl FnOnce(&mut Chunk) -> R) -> R {
        self.current.store(i, Ordering::SeqCst);
        // By stage, tasks below `workers` are each worker's own (see `tasks`).
        let first = if self.staged.is_some() {
            self.workers
        } else {
            0
        };
        self.next_task.store(first, Ordering::SeqCst);
        if let Some(st) = &self.staged {
            st.next.store(first, Ordering::SeqCst);
        }
        self.start.wait();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            alongside(&mut self.chunk_mut(1 - i))
        }));
        self.end.wait();
        if self.panicked.load(Ordering::SeqCst) {
            panic!("a correlator worker panicked");
        }
        r.unwrap_or_else(|p| std::panic::resume_unwind(p))
    }

    /// Chunk buffer `i` (between phases, or the one being processed).
    pub fn chunk(&self, i: usize) -> RwLockReadGuard<'_, Chunk> {
        self.chunks[i].read().unwrap_or_else(|e| e.into_inner())
    }

    /// Chunk buffer `i` to fill (between phases, or the one not processed).
    pub fn chunk_mut(&self, i: usize) -> RwLockWriteGuard<'_, Chunk> {
        self.chunks[i].write().unwrap_or_else(|e| e.into_inner())
    }

    /// The sums of the unit in `slot` of `chunk` (between phases; the
    /// chunk just processed).
    pub fn unit(&self, chunk: &Chunk, slot: usize) -> MutexGuard<'_, UnitAcc> {
        match &self.staged {
            None => self.units[slot].lock().unwrap_or_else(|e| e.into_inner()),
            Some(st) => {
                let mut u = self.units[0].lock().unwrap_or_else(|e| e.into_inner());
                st.assemble(self.ctx, chunk, slot, &mut u);
                u
            }
        }
    }

    /// Tasks each worker has done so far (a test checks that the work is
    /// shared).
    pub fn tasks_per_worker(&self) -> Vec<u64> {
        self.done
            .iter()
            .map(|d| d.load(Ordering::Relaxed))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_runs_follow_units_across_chunks() {
        // Chunks of 16 from an integration's start: whole units.
        let r = unit_runs(16, 16, false);
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|u| u.fresh && u.finished == Some(8)));
        assert_eq!((r[1].slot, r[1].b0, r[1].b1), (1, 8, 16));
        // The last chunk of an integration of 21 blocks: a short unit.
        let r = unit_runs(16, 5, true);
        assert_eq!(
            r,
            vec![UnitRun {
                slot: 0,
                b0: 0,
                b1: 5,
                fresh: true,
                finished: Some(5)
            }]
        );
        // Chunks of 2 blocks: a unit is four consecutive pieces in slot 0.
        let pieces: Vec<UnitRun> = (0..4).map(|c| unit_runs(8 + 2 * c, 2, false)[0]).collect();
        assert!(pieces.iter().all(|u| u.slot == 0 && (u.b0, u.b1) == (0, 2)));
        assert_eq!(
            pieces.iter().map(|u| u.fresh).collect::<Vec<_>>(),
            [true, false, false, false]
        );
        assert_eq!(
            pieces.iter().map(|u| u.finished).collect::<Vec<_>>(),
            [None, None, None, Some(8)]
        );
        // An integration of 9 blocks in chunks of 4: 4 + 4 (unit 0), 1 (unit 1).
        assert_eq!(unit_runs(4, 4, false)[0].finished, Some(8));
        assert_eq!(unit_runs(8, 1, true)[0].finished, Some(1));
    }
}
