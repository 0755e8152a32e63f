//! Work distribution: a chunk of consecutive blocks (all stations and
//! subbands read into memory) is cut into fixed work units of
//! [`UNIT_BLOCKS`] blocks; crossbeam worker threads take units from a shared
//! queue and sum each unit on their own. The caller adds the units' sums
//! in unit order, so the output does not depend on the number of threads
//! or on which thread did what (bitwise).

use super::accumulate::UnitAcc;
use super::baseline::{auto_mac, cmac};
use super::plan::{BlockGeom, Layout};
use super::station::{RealFormulation, StationDsp, SubbandDsp};
use std::sync::Mutex;

/// Blocks per work unit (fixed: part of what makes the output reproducible).
pub const UNIT_BLOCKS: usize = 8;

/// One station's samples of one subband for a chunk.
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
    /// [block][station]
    pub geoms: Vec<BlockGeom>,
    /// [station][job subband]
    pub bufs: Vec<SampleBuf>,
    /// Per job subband: whether this chunk's work unit includes it (the
    /// others are neither read nor transformed).
    pub active: Vec<bool>,
    /// Per layout band: whether the work unit includes it.
    pub bands: Vec<bool>,
}

/// What every worker needs to know, read-only.
pub struct Context<'a> {
    pub layout: &'a Layout,
    /// Per job subband.
    pub subbands: Vec<SubbandDsp>,
    pub nstations: usize,
}

impl Context<'_> {
    pub fn nsub(&self) -> usize {
        self.subbands.len()
    }
}

/// One worker's private state, kept across chunks.
pub struct Worker {
    dsp: StationDsp,
    /// [station][job subband][chan]
    spec_re: Vec<f32>,
    spec_im: Vec<f32>,
    /// [station][job subband]
    valid: Vec<bool>,
}

impl Worker {
    pub fn new(ctx: &Context, formulation: RealFormulation) -> Self {
        let l = ctx.layout;
        let n = ctx.nstations * ctx.nsub() * l.nchan;
        Worker {
            dsp: StationDsp::new(l.fft_length, l.complex, formulation),
            spec_re: vec![0.0; n],
            spec_im: vec![0.0; n],
            valid: vec![false; ctx.nstations * ctx.nsub()],
        }
    }

    /// Sum blocks [b0, b1) of `chunk` into `unit` (cleared first).
    fn unit(&mut self, ctx: &Context, chunk: &Chunk, b0: usize, b1: usize, unit: &mut UnitAcc) {
        unit.clear(&chunk.bands);
        let l = ctx.layout;
        let (n, nch, nsub) = (l.fft_length, l.nchan, ctx.nsub());
        let w = if l.complex { 2 } else { 1 };
        for blk in b0..b1 {
            for s in 0..ctx.nstations {
                let g = &chunk.geoms[blk * ctx.nstations + s];
                for (sb, sub) in ctx.subbands.iter().enumerate() {
                    let i = s * nsub + sb;
                    if !chunk.active[sb] {
                        self.valid[i] = false;
                        continue;
                    }
                    let buf = &chunk.bufs[i];
                    let off = (g.n0 - buf.n_lo) as usize;
                    let ok = all_valid(&buf.valid[off..off + n]);
                    self.valid[i] = ok;
                    if !ok {
                        continue;
                    }
                    let (re, im) = (
                        &mut self.spec_re[i * nch..(i + 1) * nch],
                        &mut self.spec_im[i * nch..(i + 1) * nch],
                    );
                    let p = self.dsp.spectrum(
                        &buf.samples[off * w..(off + n) * w],
                        g,
                        sub,
                        l.sample_rate_hz,
                        re,
                        im,
                    );
                    unit.power[i] += p;
                    unit.power_samples[i] += n as u64;
                }
            }
            let mut k = 0;
            for &(a, b) in &l.baselines {
                for band in &l.bands {
                    for prod in &l.products {
                        let ia = a * nsub + band.subbands[prod.pol_a];
                        let ib = b * nsub + band.subbands[prod.pol_b];
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

/// Process every unit of `chunk` into `units[..units_in(chunk.nblocks)]`,
/// using one thread per worker, while `alongside` runs on the calling thread
/// (the reader filling the next chunk).
pub fn process_chunk<R: Send>(
    ctx: &Context,
    chunk: &Chunk,
    units: &mut [UnitAcc],
    workers: &mut [Worker],
    alongside: impl FnOnce() -> R + Send,
) -> R {
    let nunits = units_in(chunk.nblocks);
    let queue = Mutex::new(units[..nunits].iter_mut().enumerate());
    let next = || queue.lock().expect("unit queue").next();
    crossbeam::scope(|scope| {
        for w in workers.iter_mut() {
            let next = &next;
            scope.spawn(move |_| {
                while let Some((u, unit)) = next() {
                    let b0 = u * UNIT_BLOCKS;
                    let b1 = (b0 + UNIT_BLOCKS).min(chunk.nblocks);
                    w.unit(ctx, chunk, b0, b1, unit);
                }
            });
        }
        alongside()
    })
    .expect("a correlator worker panicked")
}
