//! Work distribution: a chunk of consecutive blocks (all stations and
//! subbands read into memory, once for all phase centres) is cut into fixed
//! work units of
//! [`UNIT_BLOCKS`] blocks; crossbeam worker threads, kept for the whole run
//! ([`Crew`]), take units from a shared counter and sum each unit on their
//! own. The caller adds the units' sums in unit order, so the output does
//! not depend on the number of threads or on which thread did what
//! (bitwise).

use super::accumulate::UnitAcc;
use super::baseline::{auto_mac, cmac};
use super::plan::{BlockGeom, ChannelMap, Layout};
use super::station::{RealFormulation, StationDsp, SubbandDsp};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// Consecutive blocks of one integration, with their data.
#[derive(Debug, Clone, Default)]
pub struct Chunk {
    /// Job block index of the first block.
    pub first_block: u64,
    pub nblocks: usize,
    /// [block][centre][station]
    pub geoms: Vec<BlockGeom>,
    /// [station][recording] (flattened: [`Context::recordings`] order; with
    /// one recording setup, [station][job subband])
    pub bufs: Vec<SampleBuf>,
    /// Per recording (as `bufs`): whether this chunk's work unit needs it
    /// (the others are neither read nor transformed).
    pub active: Vec<bool>,
    /// Per layout band: whether the work unit includes it.
    pub bands: Vec<bool>,
}

/// What every worker needs to know, read-only.
pub struct Context<'a> {
    pub layout: &'a Layout,
    /// Per job subband (the output subbands: the inputs of the baseline
    /// stage are [centre][station][job subband]).
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
}

/// One worker's private state, kept across chunks.
pub struct Worker {
    /// One per distinct (FFT length, sampling) of the stations.
    dsps: Vec<StationDsp>,
    /// Per station: its entry of `dsps`.
    dsp_of: Vec<usize>,
    /// [centre][station][job subband][chan]
    spec_re: Vec<f32>,
    spec_im: Vec<f32>,
    /// [centre][station][job subband]
    valid: Vec<bool>,
}

impl Worker {
    pub fn new(ctx: &Context, formulation: RealFormulation) -> Self {
        let l = ctx.layout;
        let n = ctx.ninputs() * l.fft_nchan;
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

    /// Sum blocks [b0, b1) of `chunk` into `unit` (cleared first).
    fn unit(&mut self, ctx: &Context, chunk: &Chunk, b0: usize, b1: usize, unit: &mut UnitAcc) {
        unit.clear(&chunk.bands);
        let l = ctx.layout;
        let (nch, nsub) = (l.fft_nchan, ctx.nsub());
        let (nst, nc) = (ctx.nstations, ctx.ncentres());
        for blk in b0..b1 {
            // Station stage, per (centre, station, recording): each centre
            // takes its own samples from the station's buffer and rotates
            // them with its own model; each recording's spectrum feeds the
            // inputs (centre, station, job subband) it covers.
            for c in 0..nc {
                for s in 0..nst {
                    let g = &chunk.geoms[(blk * nc + c) * nst + s];
                    let n = l.station_fft_length[s];
                    let fs = l.station_sample_rate_hz[s];
                    let dsp = &mut self.dsps[self.dsp_of[s]];
                    let w = if dsp.complex() { 2 } else { 1 };
                    let first = (c * nst + s) * nsub;
                    self.valid[first..first + nsub].fill(false);
                    for q in ctx.rec_base[s]..ctx.rec_base[s + 1] {
                        if !chunk.active[q] {
                            continue;
                        }
                        let rec = &ctx.recordings[q];
                        let buf = &chunk.bufs[q];
                        let off = (g.n0 - buf.n_lo) as usize;
                        if !all_valid(&buf.valid[off..off + n]) {
                            continue;
                        }
                        let samples = &buf.samples[off * w..(off + n) * w];
                        if rec.direct {
                            let i = first + rec.targets[0].0;
                            let p = dsp.spectrum(
                                samples,
                                g,
                                &rec.dsp,
                                fs,
                                &mut self.spec_re[i * nch..(i + 1) * nch],
                                &mut self.spec_im[i * nch..(i + 1) * nch],
                            );
                            self.valid[i] = true;
                            unit.power[i] += p;
                            unit.power_samples[i] += (n * w) as u64;
                            continue;
                        }
                        let p = dsp.transform(samples, g, &rec.dsp, fs);
                        for &(sb, map) in &rec.targets {
                            let i = first + sb;
                            dsp.extract(
                                map.first_chan,
                                nch,
                                map.reversed,
                                g.delta,
                                &rec.dsp,
                                &mut self.spec_re[i * nch..(i + 1) * nch],
                                &mut self.spec_im[i * nch..(i + 1) * nch],
                            );
                            self.valid[i] = true;
                            unit.power[i] += p;
                            unit.power_samples[i] += (n * w) as u64;
                        }
                    }
                }
            }
            // Baseline stage, per centre: [centre][baseline][band][product].
            let mut k = 0;
            for c in 0..nc {
                let input = |s: usize, sb: usize| (c * nst + s) * nsub + sb;
                for &(a, b) in &l.baselines {
                    for band in &l.bands {
                        for prod in &l.products {
                            let ia = input(a, band.subbands[prod.pol_a]);
                            let ib = input(b, band.subbands[prod.pol_b]);
                            if self.valid[ia] && self.valid[ib] && ia == ib {
                                // Parallel-hand autocorrelation: real, imaginary part stays 0.
                                auto_mac(
                                    &mut unit.re[k * nch..(k + 1) * nch],
                                    &self.spec_re[ia * nch..(ia + 1) * nch],
                                    &self.spec_im[ia * nch..(ia + 1) * nch],
                                );
                                unit.used[k] += 1;
                            } else if self.valid[ia] && self.valid[ib] {
                                cmac(
                                    &mut unit.re[k * nch..(k + 1) * nch],
                                    &mut unit.im[k * nch..(k + 1) * nch],
                                    &self.spec_re[ia * nch..(ia + 1) * nch],
                                    &self.spec_im[ia * nch..(ia + 1) * nch],
                                    &self.spec_re[ib * nch..(ib + 1) * nch],
                                    &self.spec_im[ib * nch..(ib + 1) * nch],
                                );
                                unit.used[k] += 1;
                            }
                            k += 1;
                        }
                    }
                }
            }
        }
    }
}

/// Whether every flag is set (bytes compared eight at a time).
fn all_valid(v: &[bool]) -> bool {
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder().iter().all(|&b| b);
    rest && chunks.fold(true, |ok, c| ok & c.iter().fold(true, |a, &b| a & b))
}

/// Number of units in a chunk of `nblocks` blocks.
pub fn units_in(nblocks: usize) -> usize {
    nblocks.div_ceil(UNIT_BLOCKS)
}

/// The worker threads of one run, kept for all its chunks (spawning them
/// anew for every chunk of ~1 ms of work cost ~15% with two threads).
///
/// Each chunk is one phase: [`Crew::process`] publishes which of the two
/// chunk buffers to work on and opens the start barrier; the workers take
/// units from a shared counter, each summing into that unit's own
/// accumulator, while the calling thread fills the other buffer (the
/// reader); everyone meets at the end barrier. Between phases only the
/// calling thread touches the buffers and accumulators.
pub struct Crew<'c> {
    ctx: &'c Context<'c>,
    chunks: [RwLock<Chunk>; 2],
    units: Vec<Mutex<UnitAcc>>,
    current: AtomicUsize,
    nunits: AtomicUsize,
    next_unit: AtomicUsize,
    stop: AtomicBool,
    panicked: AtomicBool,
    start: Barrier,
    end: Barrier,
}

/// Run `body` with a crew of one thread per worker; the crew ends when
/// `body` returns (or unwinds).
pub fn with_crew<R>(
    ctx: &Context,
    workers: Vec<Worker>,
    units: Vec<UnitAcc>,
    chunks: [Chunk; 2],
    body: impl FnOnce(&Crew) -> R,
) -> R {
    let n = workers.len();
    let [c0, c1] = chunks;
    let crew = Crew {
        ctx,
        chunks: [RwLock::new(c0), RwLock::new(c1)],
        units: units.into_iter().map(Mutex::new).collect(),
        current: AtomicUsize::new(0),
        nunits: AtomicUsize::new(0),
        next_unit: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        panicked: AtomicBool::new(false),
        start: Barrier::new(n + 1),
        end: Barrier::new(n + 1),
    };
    crossbeam::scope(|scope| {
        for mut w in workers {
            let crew = &crew;
            scope.spawn(move |_| crew.work(&mut w));
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
        body(&crew)
    })
    .expect("a correlator worker thread failed")
}

impl Crew<'_> {
    fn work(&self, w: &mut Worker) {
        loop {
            self.start.wait();
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            {
                let chunk = self.chunks[self.current.load(Ordering::SeqCst)]
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                let nunits = self.nunits.load(Ordering::SeqCst);
                loop {
                    let u = self.next_unit.fetch_add(1, Ordering::SeqCst);
                    if u >= nunits {
                        break;
                    }
                    let b0 = u * UNIT_BLOCKS;
                    let b1 = (b0 + UNIT_BLOCKS).min(chunk.nblocks);
                    // A panic must not leave the others waiting at the
                    // barrier: note it, and the caller panics after the phase.
                    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let mut unit = self.units[u].lock().unwrap_or_else(|e| e.into_inner());
                        w.unit(self.ctx, &chunk, b0, b1, &mut unit);
                    }));
                    if ok.is_err() {
                        self.panicked.store(true, Ordering::SeqCst);
                    }
                }
            }
            self.end.wait();
        }
    }

    /// Process every unit of chunk buffer `i` while `alongside` runs on the
    /// calling thread with the other buffer (the reader filling it).
    pub fn process<R>(&self, i: usize, alongside: impl FnOnce(&mut Chunk) -> R) -> R {
        let nblocks = self.chunk(i).nblocks;
        self.current.store(i, Ordering::SeqCst);
        self.nunits.store(units_in(nblocks), Ordering::SeqCst);
        self.next_unit.store(0, Ordering::SeqCst);
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

    /// Work unit `u`'s sums (between phases).
    pub fn unit(&self, u: usize) -> MutexGuard<'_, UnitAcc> {
        self.units[u].lock().unwrap_or_else(|e| e.into_inner())
    }
}
