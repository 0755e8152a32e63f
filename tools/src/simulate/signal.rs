//! Signal generation: one common band-limited Gaussian sky per subband, seen
//! by each station through its own continuously varying delay, plus the
//! station's own noise.
//!
//! # Conventions and the LO phase (derivation)
//!
//! The wavefront at the geocentre at g reaches station s at g + τ_s(g). Write
//! the sky's electric field at the geocentre, for one subband with LO ν₀, as
//!
//! ```text
//! E(g) = Re{ b(g) · e^{2πi ν₀ (g − g_ref)} }
//! ```
//!
//! where b is a complex baseband signal band-limited to [0, B) for an upper
//! sideband (sky band [ν₀, ν₀ + B)) and to (−B, 0] for a lower sideband (sky
//! band (ν₀ − B, ν₀]). Station s records at its time t the field that passed
//! the geocentre at g(t), with g + τ_s(g) = t. Its LO, locked to its own clock,
//! mixes with e^{−2πi ν₀ (t − g_ref)}, so its complex baseband is
//!
//! ```text
//! d_s(t) = b(g) · e^{2πi ν₀ (g − g_ref)} · e^{−2πi ν₀ (t − g_ref)} = b(g) · e^{−2πi ν₀ τ_s(g)}.
//! ```
//!
//! Check with a sky tone at ν = ν₀ + f: b(g) = e^{2πi f g} gives
//! d_s(t) = e^{2πi f t} · e^{−2πi ν τ}: the station's spectrum at sky frequency
//! ν has phase −2πντ, as for a pure delay of the RF signal. Hence
//! V_AB = ⟨X_A conj(X_B)⟩ has phase 2πν(τ_B − τ_A): the station whose signal
//! arrives later by Δτ gives −2πνΔτ on the baselines where it comes first.
//!
//! What is sampled (video signal):
//! - real, USB: v(t) = Re d_s(t) (video frequency f = ν − ν₀ ∈ [0, B)), rate 2B;
//! - real, LSB: v(t) = Re d_s(t) too, but d_s occupies (−B, 0], so the video
//!   frequency f = ν₀ − ν ∈ [0, B) carries conj of the sky's component;
//! - complex, USB: d_s(t) itself at rate B (covers [ν₀, ν₀ + B));
//! - complex, LSB: conj(d_s(t)) at rate B, so that video frequency f ∈ [0, B)
//!   is sky frequency ν₀ − f, as for real LSB.
//!
//! Visibilities of LSB data are thus conjugated relative to the sky
//! convention; a correlator conjugates them back.
//!
//! # How the sky is made (and why so)
//!
//! b is represented by c(g) = b(g) · e^{∓iπB(g − g_ref)} (− for USB, + for
//! LSB), centred on zero frequency and band-limited to [−B/2, B/2), sampled at
//! R = 2B sky samples per second — twice oversampled, so that a short
//! interpolator (12 taps) can evaluate it at any instant with an error below
//! 2e-4 of the signal (the band fills half its Nyquist range; images start at
//! 3B/2), plus a random timing jitter of at most 1/1024 sky sample from the
//! 512-phase table (rms phase error ≤ 9e-4 rad at the band edge, no bias).
//!
//! c is generated in blocks of N samples as the inverse FFT of random-sign
//! spectra with exactly flat power in [−B/2, B/2) and zero outside (sharp
//! band edges, flat autocorrelation spectra; every time sample is a sum of
//! N/2 independent terms, so Gaussian to the central limit theorem's
//! accuracy, excess kurtosis ~1e-4). Consecutive blocks
//! overlap by V samples and are cross-faded with cos/sin weights (power
//! complementary: cos² + sin² = 1, so the variance stays exactly constant and
//! the sum of two independent Gaussians stays Gaussian). Block b's content
//! depends only on (seed, subband, b), so any station can regenerate any part
//! of the sky and all stations see exactly the same c.
//!
//! Each station then evaluates d_s at its sample instants t_n: g_n from the
//! true delay (solved exactly at the ends of short spans and linear between,
//! error < 1e-15 s for lunar accelerations), c(g_n) by windowed-sinc
//! interpolation, times the phasor e^{2πi φ_n} with
//! φ_n = ±(B/2)(g_n − g_ref) − ν₀ τ_n (turns). The delay is thus applied per
//! sample, never as a fixed shift.

use super::detmath::{bessel_i0, sin_cos_turns, sinc};
use formats::UtcTime;
use num_complex::{Complex32, Complex64};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustfft::{Fft, FftPlannerScalar};
use std::sync::{Arc, Mutex};

/// Sky block length (FFT size), in sky samples.
pub const SKY_BLOCK: usize = 16384;
/// Overlap (cross-fade length) of consecutive sky blocks.
pub const SKY_OVERLAP: usize = 2048;
/// New sky samples per block.
pub const SKY_HOP: usize = SKY_BLOCK - SKY_OVERLAP;

/// Interpolator taps.
pub const TAPS: usize = 12;
/// Interpolator phases (fractional positions resolved to 1/PHASES sky sample).
pub const PHASES: usize = 512;

/// Output samples per noise chunk: the station noise of chunk j comes from its
/// own random stream position, so any batching gives the same samples.
pub const NOISE_CHUNK: u64 = 1 << 16;

/// Output samples per span over which g(t) is taken as linear.
pub const SPAN: usize = 4096;

/// Random stream identifiers: one ChaCha stream per purpose, so streams never overlap.
pub fn sky_stream(sky_id: usize) -> u64 {
    (1 << 48) | sky_id as u64
}
pub fn noise_stream(station: usize, subband: usize) -> u64 {
    (2 << 48) | ((station as u64) << 24) | subband as u64
}
pub fn fault_stream(station: usize) -> u64 {
    (3 << 48) | station as u64
}
/// Station `station`'s random instrumental terms (purpose 0; drawn once per
/// scenario, never per scan).
pub fn instrumental_stream(station: usize) -> u64 {
    station as u64
}

/// Scans a session may have: the scan tag lives in bits 50–63 of a stream.
pub const MAX_SCANS: usize = (1 << 14) - 1;

/// The stream `base` (one of the above) for scan `scan` of a session: the
/// scan's tag (scan + 1) in bits 50–63, above the purpose (bits 48–49) and
/// the station/subband/sky fields, so every scan's skies, noise and faults
/// are independent of every other's; tag 0 is the single-span recording
/// (its streams are those of the functions above, unchanged).
pub fn scan_stream(base: u64, scan: usize) -> u64 {
    debug_assert!(scan < MAX_SCANS);
    base | ((scan as u64 + 1) << 50)
}

/// The sky of source `source` (its index in the job) and subband `subband`:
/// sky ids of a session (a single span uses the subband index alone).
pub fn session_sky_id(source: usize, subband: usize) -> usize {
    (source << 24) | subband
}

/// A ChaCha generator at a given stream and 2^26-word slot: every (stream,
/// slot) is an independent, reproducible sequence.
pub fn rng_at(seed: u64, stream: u64, slot: i64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    // Negative slots (sky before g_ref) are shifted up; 2^36 slots × 2^26 words
    // stays below ChaCha's 2^68-word period.
    let slot = (slot + (1 << 35)) as u128;
    rng.set_word_pos(slot << 26);
    rng
}

/// Fill `out` (even length) with independent N(0, gain²) values: Box–Muller
/// on 24-bit uniforms, with f32 polynomials for ln and sin/cos so that only
/// IEEE +, −, ×, ÷ and √ are used (same bits on every machine; no libm) and
/// the loop vectorises. Accuracy ~1e-7; the tails end at 5.9σ
/// (P = 2e-9 beyond, immaterial for 8-bit levels that end at 3.6σ).
pub fn gaussian_fill(rng: &mut ChaCha8Rng, out: &mut [f32], gain: f32) {
    assert!(out.len().is_multiple_of(2));
    let mut words = vec![0u32; out.len()];
    rng.fill(&mut words[..]);
    for (pair, w) in out.chunks_exact_mut(2).zip(words.chunks_exact(2)) {
        // u1 ∈ (0, 1): the radius r = √(−2 ln u1).
        let u1 = ((w[0] >> 8) as f32 + 0.5) * (1.0 / 16_777_216.0);
        let r = (-2.0 * ln_f32(u1)).sqrt() * gain;
        // A uniform angle as a quadrant q and a ∈ [−π/4, π/4).
        let q = w[1] >> 30;
        let a = (((w[1] >> 8) & 0x3f_ffff) as f32 + 0.5) * (1.0 / 4_194_304.0);
        let a = (a - 0.5) * std::f32::consts::FRAC_PI_2;
        let a2 = a * a;
        let s = a * (1.0 - a2 / 6.0 * (1.0 - a2 / 20.0 * (1.0 - a2 / 42.0 * (1.0 - a2 / 72.0))));
        let c = 1.0 - a2 / 2.0 * (1.0 - a2 / 12.0 * (1.0 - a2 / 30.0 * (1.0 - a2 / 56.0)));
        // Rotate by q quarter turns: (cos, sin)(qπ/2) ∈ {(1,0), (0,1), (−1,0), (0,−1)}.
        let sign = (1 - (q & 2) as i32) as f32;
        let cq = (1 - (q & 1)) as f32 * sign;
        let sq = (q & 1) as f32 * sign;
        pair[0] = r * (c * cq - s * sq);
        pair[1] = r * (c * sq + s * cq);
    }
}

/// Natural log for x ∈ (0, 1] in f32: exponent from the bits, mantissa m
/// folded into [√½, √2), ln m = 2 atanh((m−1)/(m+1)) to s⁹ (error < 3e-9).
#[inline]
fn ln_f32(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x7f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += big as i32;
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 / 9.0))));
    e as f32 * std::f32::consts::LN_2 + ln_m
}

/// Source of the centred sky c_k (k: sky sample index, g = g_ref + k/R).
pub trait Sky: Send {
    /// c_k for k in [k_lo, k_hi), interleaved (re, im): 2·(k_hi − k_lo) values.
    fn window(&mut self, k_lo: i64, k_hi: i64) -> &[f32];
}

/// Cached raw blocks: (use counter, [(block index, last use, block)]).
type BlockStore = (u64, Vec<(i64, u64, Arc<Vec<Complex32>>)>);

/// Which part of the sky a cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkyCut {
    /// The band's own sky (independent of every other band's): bins
    /// −N/4 … N/4 − 1 of N = [`SKY_BLOCK`] at rate 2B.
    Own,
    /// Bins `lo..hi` (absolute: bin m is sky frequency m·Δf) of a sky whose
    /// random coefficients are drawn over the union `union_lo..union_hi` of
    /// every band cut from it, centred on bin `centre`, in blocks of `n`
    /// samples at rate n·Δf: bands cut from one union hold the same sky
    /// where they overlap (see [`SkyCache::cut`]).
    Cut {
        union_lo: i64,
        union_hi: i64,
        lo: i64,
        hi: i64,
        centre: i64,
        n: usize,
    },
}

/// Raw sky blocks of one subband (and polarisation), shared by every station
/// that sees it: block b is a pure function of (seed, sky id, b), so which
/// thread makes it, and whether it is made twice, never changes a bit.
/// Holds the most recently used `capacity` blocks (128 kB each for
/// [`SKY_BLOCK`]); stations that advance together in geocentric time (see
/// `write`) share them.
pub struct SkyCache {
    seed: u64,
    stream: u64,
    ifft: Arc<dyn Fft<f32>>,
    capacity: usize,
    blocks: Mutex<BlockStore>,
    cut: SkyCut,
    n: usize,
}

impl SkyCache {
    pub fn new(seed: u64, sky_id: usize, capacity: usize) -> Self {
        Self::on_stream(seed, sky_stream(sky_id), capacity)
    }

    /// A sky on a given random stream (a session's scan: see [`scan_stream`]).
    pub fn on_stream(seed: u64, stream: u64, capacity: usize) -> Self {
        Self::cut(seed, stream, capacity, SkyCut::Own)
    }

    /// A band cut from a common sky (or the band's own sky, [`SkyCut::Own`]).
    ///
    /// Why bands cut from one union see one sky: block b of the union sky
    /// is s_b(g) = Σ_m A_m(b)·e^{2πi m Δf (g − g_ref)} with random A_m(b)
    /// drawn bin by bin in the union's order, so every band draws the same
    /// A_m. A band centred on bin m_c holds c(g) = Σ_m A_m e^{2πi (m − m_c) Δf (g − g_ref)}:
    /// its sample K = b·hop + j of block b gets bin k = m − m_c the factor
    /// e^{2πi k b hop/n} (hop/n = 7/8, so one of eight exact phasors) on top
    /// of the FFT's e^{2πi k j/n}. Every band's blocks last 1/Δf and are
    /// cross-faded over the same eighth of it, so they match in time too;
    /// the cross-fade (a slow window) leaks only ~8 bins past a band edge.
    /// Each band is scaled to unit variance on its own (a per-band gain,
    /// which no correlation coefficient sees).
    pub fn cut(seed: u64, stream: u64, capacity: usize, cut: SkyCut) -> Self {
        let n = match cut {
            SkyCut::Own => SKY_BLOCK,
            SkyCut::Cut { n, .. } => n,
        };
        SkyCache {
            seed,
            stream,
            // The scalar planner: the same FFT algorithm (and so the same
            // bits) on every CPU, whatever SIMD it has.
            ifft: FftPlannerScalar::new().plan_fft_inverse(n),
            capacity: capacity.max(2),
            blocks: Mutex::new((0, Vec::new())),
            cut,
            n,
        }
    }

    /// Samples per block (the overlap is an eighth of it).
    pub fn block_len(&self) -> usize {
        self.n
    }

    /// Raw block b (made here if no station has made it lately).
    pub fn block(&self, b: i64) -> Arc<Vec<Complex32>> {
        {
            let mut g = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
            g.0 += 1;
            let now = g.0;
            if let Some(e) = g.1.iter_mut().find(|e| e.0 == b) {
                e.1 = now;
                return e.2.clone();
            }
        }
        let made = Arc::new(self.raw_block(b));
        let mut g = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
        let now = g.0;
        if let Some(e) = g.1.iter().find(|e| e.0 == b) {
            return e.2.clone();
        }
        if g.1.len() >= self.capacity {
            let oldest = (0..g.1.len()).min_by_key(|&i| g.1[i].1).expect("not empty");
            g.1.swap_remove(oldest);
        }
        g.1.push((b, now, made.clone()));
        made
    }

    /// Raw block b: inverse FFT of a random-sign spectrum over the bins of
    /// [−B/2, B/2) (signed bins −N/4 … N/4−1 of N at rate 2B), or over the
    /// cut's bins.
    fn raw_block(&self, b: i64) -> Vec<Complex32> {
        let n = self.n;
        let mut rng = rng_at(self.seed, self.stream, b);
        let mut spec = vec![Complex32::default(); n];
        // Random signs (±a ± ia) rather than Gaussian bins: each time sample
        // is a sum of N/2 random-sign terms, Gaussian by the central limit
        // theorem (excess kurtosis ≈ −3/N ≈ −2e-4), the block's spectrum is
        // exactly flat, and 64 bits of ChaCha make 32 bins (the sky was a
        // third of the cost with Gaussian bins).
        let mut bits = 0u64;
        let mut left = 0;
        let mut sign = |rng: &mut ChaCha8Rng| {
            if left == 0 {
                bits = rng.next_u64();
                left = 64;
            }
            left -= 1;
            let s = bits & 1 == 1;
            bits >>= 1;
            s
        };
        match self.cut {
            SkyCut::Own => {
                // E|s|² = (N/2)·E|X|² for the unnormalised inverse FFT; want 2.
                let a = (2.0 / n as f64).sqrt() as f32;
                let quarter = n / 4;
                for i in (0..quarter).chain(n - quarter..n) {
                    let re = if sign(&mut rng) { a } else { -a };
                    let im = if sign(&mut rng) { a } else { -a };
                    spec[i] = Complex32::new(re, im);
                }
            }
            SkyCut::Cut {
                union_lo,
                union_hi,
                lo,
                hi,
                centre,
                ..
            } => {
                // K bins of |X|² = 2a² give E|c|² = 2 for a = 1/√K.
                let a = (1.0 / (hi - lo).max(1) as f64).sqrt() as f32;
                let h = std::f32::consts::FRAC_1_SQRT_2;
                // e^{2πi j/8}, j = 0 … 7.
                let eighth = [
                    (1.0, 0.0),
                    (h, h),
                    (0.0, 1.0),
                    (-h, h),
                    (-1.0, 0.0),
                    (-h, -h),
                    (0.0, -1.0),
                    (h, -h),
                ];
                let b8 = b.rem_euclid(8);
                // Bin i of the union (m = union_lo + i) takes bits 2i and
                // 2i + 1 of the stream of 64-bit words (two ChaCha words
                // each): start at the word holding the band's first bin, so
                // a narrow band of a wide union draws only its own part.
                let skip = (lo - union_lo).max(0) as u128 / 32;
                rng.set_word_pos(rng.get_word_pos() + 2 * skip);
                for m in union_lo + 32 * skip as i64..hi.min(union_hi) {
                    let re = if sign(&mut rng) { a } else { -a };
                    let im = if sign(&mut rng) { a } else { -a };
                    if m < lo {
                        continue;
                    }
                    let k = m - centre;
                    // e^{2πi k b·7/8} (see `cut`).
                    let (c, s) = eighth[(k.rem_euclid(8) * b8 * 7).rem_euclid(8) as usize];
                    spec[k.rem_euclid(n as i64) as usize] =
                        Complex32::new(re * c - im * s, re * s + im * c);
                }
            }
        }
        let mut scratch = vec![Complex32::default(); self.ifft.get_inplace_scratch_len()];
        self.ifft.process_with_scratch(&mut spec, &mut scratch);
        spec
    }
}

/// One station's view of a sky: contiguous samples around its current
/// position, cross-faded from the shared raw blocks. E|c|² = 2.
pub struct GaussianSky {
    cache: Arc<SkyCache>,
    fade: Vec<(f32, f32)>,
    /// New samples per block (block length − overlap).
    hop: usize,
    /// Contiguous samples c_k for k in [base, base + buf.len()/2), interleaved.
    base: i64,
    buf: Vec<f32>,
}

impl GaussianSky {
    /// A sky of its own (tests, benchmarks).
    pub fn new(seed: u64, sky_id: usize) -> Self {
        Self::shared(Arc::new(SkyCache::new(seed, sky_id, 4)))
    }

    /// A view of a shared sky.
    pub fn shared(cache: Arc<SkyCache>) -> Self {
        // SKY_OVERLAP of SKY_BLOCK: an eighth of any block.
        let overlap = cache.block_len() / (SKY_BLOCK / SKY_OVERLAP);
        let fade = (0..overlap)
            .map(|m| {
                let a = 0.25 * (m as f64 + 0.5) / overlap as f64; // turns
                let (s, c) = sin_cos_turns(a);
                (c as f32, s as f32)
            })
            .collect();
        let hop = cache.block_len() - overlap;
        GaussianSky {
            cache,
            fade,
            hop,
            base: 0,
            buf: Vec::new(),
        }
    }

    /// Segment b: sky samples k ∈ [b·hop, (b+1)·hop), the cross-fade of block
    /// b−1's tail into block b followed by block b's exclusive part.
    fn segment(&mut self, b: i64) -> Vec<f32> {
        let prev = self.cache.block(b - 1);
        let cur = self.cache.block(b);
        let (hop, overlap) = (self.hop, self.fade.len());
        let mut seg = Vec::with_capacity(2 * hop);
        for (m, &(c, s)) in self.fade.iter().enumerate() {
            let v = prev[hop + m] * c + cur[m] * s;
            seg.extend([v.re, v.im]);
        }
        seg.extend(cur[overlap..hop].iter().flat_map(|v| [v.re, v.im]));
        seg
    }
}

impl Sky for GaussianSky {
    fn window(&mut self, k_lo: i64, k_hi: i64) -> &[f32] {
        let hop = self.hop as i64;
        let end = self.base + (self.buf.len() / 2) as i64;
        if self.buf.is_empty() || k_lo < self.base || k_lo > end {
            // Start afresh at the segment holding k_lo.
            let b = k_lo.div_euclid(hop);
            self.base = b * hop;
            self.buf = self.segment(b);
        } else {
            // Drop whole segments before k_lo.
            let drop = ((k_lo - self.base) / hop) * hop;
            if drop > 0 {
                self.buf.drain(..2 * drop as usize);
                self.base += drop;
            }
        }
        while self.base + ((self.buf.len() / 2) as i64) < k_hi {
            let b = (self.base + (self.buf.len() / 2) as i64) / hop;
            let seg = self.segment(b);
            self.buf.extend_from_slice(&seg);
        }
        let off = 2 * (k_lo - self.base) as usize;
        &self.buf[off..off + 2 * (k_hi - k_lo) as usize]
    }
}

/// Windowed-sinc interpolator: c at p = i + u is Σ_j `w_q[j]` c_{i−TAPS/2+1+j}.
///
/// Kernel sinc(x)·Kaiser(β=8.3) over 12 taps (Kaiser's formula: ~80 dB for a
/// transition from 0.26 to 0.74 of the sky rate): passes the band |f| < 0.25
/// to within 1.3e-4 (measured with a 8192-phase table on tones at the band
/// edges, see the tone test) and rejects the images beyond 0.75.
/// Weights are stored duplicated (w0 w0 w1 w1 …) to multiply interleaved
/// complex samples lane by lane.
pub struct Interpolator {
    table: Vec<[f32; 2 * TAPS]>,
}

impl Default for Interpolator {
    fn default() -> Self {
        Self::new()
    }
}

impl Interpolator {
    pub fn new() -> Self {
        let beta = 8.3;
        let half = TAPS as f64 / 2.0;
        let i0b = bessel_i0(beta);
        let table = (0..=PHASES)
            .map(|q| {
                let u = q as f64 / PHASES as f64;
                let mut w = [0.0f64; TAPS];
                for (j, wj) in w.iter_mut().enumerate() {
                    let x = u - (j as f64 - half + 1.0);
                    let r = x / half;
                    let win = if r.abs() >= 1.0 {
                        0.0
                    } else {
                        bessel_i0(beta * (1.0 - r * r).sqrt()) / i0b
                    };
                    *wj = sinc(x) * win;
                }
                // Unit gain at zero frequency for every phase.
                let sum: f64 = w.iter().sum();
                let mut d = [0.0f32; 2 * TAPS];
                for (j, wj) in w.iter().enumerate() {
                    d[2 * j] = (wj / sum) as f32;
                    d[2 * j + 1] = (wj / sum) as f32;
                }
                d
            })
            .collect();
        Interpolator { table }
    }

    /// The weights for a fractional position given as a 32-bit binary
    /// fraction (u = frac / 2^32), rounded to the nearest phase. Row PHASES
    /// (u = 1) is row 0 one tap later — both have zero weight on their outer
    /// tap — so rounding up never needs a carry.
    #[inline]
    pub fn weights(&self, frac: u32) -> &[f32; 2 * TAPS] {
        const SHIFT: u32 = 32 - PHASES.trailing_zeros();
        let q = ((frac as u64 + (1 << (SHIFT - 1))) >> SHIFT) as usize;
        &self.table[q.min(PHASES)]
    }

    /// Σ_j `w[j]·c[j]` over interleaved (re, im) samples: 8 lanes, each summed
    /// in tap order, then even (re) and odd (im) lanes pairwise. The SSE path
    /// (x86-64's baseline, always present) does the same IEEE operations in
    /// the same order as the portable one, so results are the same bits.
    #[inline]
    pub fn apply(w: &[f32; 2 * TAPS], c: &[f32]) -> (f32, f32) {
        let c = &c[..2 * TAPS];
        let mut acc = [0.0f32; 8];
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            // SAFETY: SSE is part of the x86-64 baseline; all loads are within
            // the 2·TAPS-long slices `w` and `c` (checked above), stores
            // within `acc`.
            unsafe {
                let (mut a0, mut a1) = (_mm_setzero_ps(), _mm_setzero_ps());
                for blk in 0..(2 * TAPS / 8) {
                    let o = blk * 8;
                    a0 = _mm_add_ps(
                        a0,
                        _mm_mul_ps(
                            _mm_loadu_ps(w.as_ptr().add(o)),
                            _mm_loadu_ps(c.as_ptr().add(o)),
                        ),
                    );
                    a1 = _mm_add_ps(
                        a1,
                        _mm_mul_ps(
                            _mm_loadu_ps(w.as_ptr().add(o + 4)),
                            _mm_loadu_ps(c.as_ptr().add(o + 4)),
                        ),
                    );
                }
                _mm_storeu_ps(acc.as_mut_ptr(), a0);
                _mm_storeu_ps(acc.as_mut_ptr().add(4), a1);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        for blk in 0..(2 * TAPS / 8) {
            for l in 0..8 {
                acc[l] += w[blk * 8 + l] * c[blk * 8 + l];
            }
        }
        (
            (acc[0] + acc[2]) + (acc[4] + acc[6]),
            (acc[1] + acc[3]) + (acc[5] + acc[7]),
        )
    }
}

/// The true delay of one station: model (with the known clock) plus the
/// injected clock error the correlator's model does not know.
pub trait TrueDelay: Send + Sync {
    /// τ(g) in seconds for geocentric arrival time g.
    fn delay_s(&self, g: UtcTime) -> f64;
}

/// How one station samples one subband.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubbandSampling {
    /// The station's LO: the sky frequency of video frequency 0 (USB and
    /// real/complex: the lower band edge; LSB: the upper edge; complex DSB:
    /// the band centre), LO offset included.
    pub lo_hz: f64,
    pub bandwidth_hz: f64,
    /// Upper sideband (or complex DSB): video f is sky LO + f; lower: LO − f.
    pub upper_sideband: bool,
    /// Complex (I, Q at rate B) or real (rate 2B).
    pub complex: bool,
    /// Sample rate of the sky this band is cut from (its [`Sky`] samples per
    /// second), at least twice the band's width.
    pub sky_rate_hz: f64,
    /// The sky's centre frequency (its zero) minus `lo_hz`.
    pub sky_centre_offset_hz: f64,
}

impl SubbandSampling {
    /// A band on its own sky (centred on the band, rate 2B), the LO at the
    /// band edge: real or complex, USB or LSB — every scenario before
    /// stations had setups of their own.
    pub fn band(lo_hz: f64, bandwidth_hz: f64, upper_sideband: bool, complex: bool) -> Self {
        SubbandSampling {
            lo_hz,
            bandwidth_hz,
            upper_sideband,
            complex,
            sky_rate_hz: 2.0 * bandwidth_hz,
            sky_centre_offset_hz: if upper_sideband { 0.5 } else { -0.5 } * bandwidth_hz,
        }
    }

    pub fn sample_rate_hz(&self) -> f64 {
        if self.complex {
            self.bandwidth_hz
        } else {
            2.0 * self.bandwidth_hz
        }
    }
    /// Values per sample (1 real, 2 complex).
    pub fn values_per_sample(&self) -> usize {
        if self.complex {
            2
        } else {
            1
        }
    }
}

/// One source's sky as a station sees it: the sky, the station's true delay
/// for that source, and the amplitude √f of its share f of the power.
pub struct SkyPart<S: Sky> {
    pub sky: S,
    pub delay: Arc<dyn TrueDelay>,
    pub correlated_fraction: f64,
}

/// A carrier (a spacecraft's tone) as one station records it: the sky holds
/// A·e^{i(2π ν_T (g − g_ref) + φ)} at the geocentre (analytic signal), which
/// the station receives at its own delay τ(g) and mixes with its own LO, so
/// its baseband holds A·e^{2πi(φ/2π + (ν_T − ν₀)(g − g_ref) − ν₀ τ)}: the
/// frequency ν_T/(1 + ρ) − ν₀ (ρ = dτ/dg, the station's own Doppler) and the
/// phase −2πν_T τ of any sky signal at ν_T.
pub struct TonePart {
    pub delay: Arc<dyn TrueDelay>,
    pub sky_freq_hz: f64,
    /// Peak amplitude of each real component, in units of the recording's
    /// σ (before the tone was added: the tone comes on top of the unit
    /// variance, adding A²/2 of power).
    pub amplitude: f64,
    /// Transmitted phase at the geocentre at g_ref, turns.
    pub phase_turns: f64,
}

/// A true delay plus a constant: the instrumental delay τ_inst after the
/// feed (a sample at station time t holds what reached the feed at
/// t − τ_inst).
pub struct PlusDelay {
    pub inner: Arc<dyn TrueDelay>,
    pub extra_s: f64,
}

impl TrueDelay for PlusDelay {
    fn delay_s(&self, g: UtcTime) -> f64 {
        self.inner.delay_s(g) + self.extra_s
    }
}

/// The phase part of one band's instrumental response (its delay part is a
/// [`PlusDelay`] of every sky part and carrier): the sky-convention
/// baseband is multiplied by e^{2πi(phase0_turns + rate_turns_per_s·(t − t0))}
/// at station time t, so LSB and real recordings see the conjugate, as for
/// any sky phase. For `scenario::Instrumental` (φ0, φ̇, τ_inst) at band edge
/// f_edge: phase0 = φ0/2π + f_edge·τ_inst, which with the delay's −f·τ_inst
/// makes arg H = φ0 − 2π(f − f_edge)τ_inst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstrumentalPhase {
    pub phase0_turns: f64,
    pub rate_turns_per_s: f64,
    /// t0: the reference epoch, on the station's clock.
    pub t0: UtcTime,
}

impl InstrumentalPhase {
    fn turns_at(&self, t: UtcTime) -> f64 {
        self.phase0_turns + self.rate_turns_per_s * t.seconds_since(self.t0)
    }
}

/// A phase-cal comb in one band: tones at sky frequencies f_k (whole Hz),
/// locked to the station's clock (sky phase 2π f_k·t, 0 at whole seconds of
/// station time t), each through the band's instrumental response, mixed
/// with the band's LO like every other signal (LO phase 0 at g_ref on the
/// station's clock; see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct PcalComb {
    pub sky_freq_hz: Vec<f64>,
    /// Peak per real component, in σ of the recording (as [`TonePart`]).
    pub amplitude: f64,
    /// arg H(f_k, t0) per tone, turns (the constant part of the response).
    pub inst_turns: Vec<f64>,
    /// φ̇/2π of the band's response, and its t0.
    pub rate_turns_per_s: f64,
    pub t0: UtcTime,
}

/// Generates one station's samples of one subband, in time order, as f32
/// values of unit variance (σ = 1 per real component) — the quantiser's input.
///
/// The samples are Σ_k √f_k·sky_k(g_k(t))·LO phase_k + √(1 − Σ f_k)·noise:
/// one part per source the station sees (a same-beam scan has several), each
/// delayed by its own source's geometry; the skies are independent with unit
/// variance, so the total stays at unit variance (the quantiser's levels are
/// optimal for it) and source k alone correlates with coefficient
/// √(f_A,k·f_B,k) between stations A and B, at its own delay.
pub struct StationSignal<S: Sky> {
    parts: Vec<Part<S>>,
    interp: Arc<Interpolator>,
    sampling: SubbandSampling,
    /// Sample 0's station time.
    t0: UtcTime,
    g_ref: UtcTime,
    /// √(1 − Σ f_k).
    noise_gain: f32,
    seed: u64,
    noise_stream: u64,
    /// Next output sample index.
    next: u64,
    noise: Vec<f32>,
    noise_chunk: Option<u64>,
    span_buf: Vec<f32>,
    span_index: Option<u64>,
    tones: Vec<TonePart>,
    /// The band's instrumental phase (its delay is in the parts' delays).
    instrumental: Option<InstrumentalPhase>,
    pcal: Option<PcalComb>,
}

/// A sky part with its gain as the sample loop uses it.
struct Part<S: Sky> {
    sky: S,
    delay: Arc<dyn TrueDelay>,
    /// √f.
    gain: f32,
}

/// Station time of sample `k` counted from `t0` at `fs` samples per second
/// (whole seconds exact when the rate is a whole number of hertz).
pub fn sample_time(t0: UtcTime, k: u64, fs: f64) -> UtcTime {
    if fs.fract() == 0.0 && fs < 9e15 {
        let f = fs as u64;
        t0.add((k / f) as i64, (k % f) as f64 / fs)
    } else {
        t0.add_seconds(k as f64 / fs)
    }
}

/// g with g + τ(g) = t, by fixed-point iteration (|dτ/dg| ≲ 1e-5, so each
/// step gains five digits; four steps reach f64 precision even for 1.3 s).
pub fn solve_arrival(delay: &dyn TrueDelay, t: UtcTime) -> (UtcTime, f64) {
    let mut tau = delay.delay_s(t);
    for _ in 0..4 {
        tau = delay.delay_s(t.add_seconds(-tau));
    }
    (t.add_seconds(-tau), tau)
}

impl<S: Sky> StationSignal<S> {
    /// One source: √f·sky + √(1 − f)·noise.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sky: S,
        interp: Arc<Interpolator>,
        delay: Arc<dyn TrueDelay>,
        sampling: SubbandSampling,
        t0: UtcTime,
        g_ref: UtcTime,
        correlated_fraction: f64,
        seed: u64,
        noise_stream: u64,
    ) -> Self {
        let part = SkyPart {
            sky,
            delay,
            correlated_fraction,
        };
        Self::sum(vec![part], interp, sampling, t0, g_ref, seed, noise_stream)
    }

    /// Several sources (Σ f_k ≤ 1): each part's sky at its own delay, plus
    /// noise for the rest of the power. Sky sample 0 of every part is at
    /// geocentric time `g_ref`.
    pub fn sum(
        parts: Vec<SkyPart<S>>,
        interp: Arc<Interpolator>,
        sampling: SubbandSampling,
        t0: UtcTime,
        g_ref: UtcTime,
        seed: u64,
        noise_stream: u64,
    ) -> Self {
        let total: f64 = parts.iter().map(|p| p.correlated_fraction).sum();
        StationSignal {
            parts: parts
                .into_iter()
                .map(|p| Part {
                    sky: p.sky,
                    delay: p.delay,
                    gain: p.correlated_fraction.sqrt() as f32,
                })
                .collect(),
            interp,
            sampling,
            t0,
            g_ref,
            // max(0): a sum of fractions a rounding above 1 is no noise.
            noise_gain: (1.0 - total).max(0.0).sqrt() as f32,
            seed,
            noise_stream,
            next: 0,
            noise: Vec::new(),
            noise_chunk: None,
            span_buf: Vec::new(),
            span_index: None,
            tones: Vec::new(),
            instrumental: None,
            pcal: None,
        }
    }

    /// Apply the band's instrumental phase to every sky part and carrier
    /// (their delays must already include τ_inst: [`PlusDelay`]).
    pub fn with_instrumental(mut self, phase: Option<InstrumentalPhase>) -> Self {
        self.instrumental = phase;
        self
    }

    /// Inject a phase-cal comb (none when `comb` has no tones).
    pub fn with_pcal(mut self, comb: Option<PcalComb>) -> Self {
        self.pcal = comb.filter(|c| !c.sky_freq_hz.is_empty());
        self
    }

    /// Add carriers (each band gets those within its sky range: see `mod`).
    pub fn with_tones(mut self, tones: Vec<TonePart>) -> Self {
        self.tones = tones;
        self
    }

    pub fn sampling(&self) -> &SubbandSampling {
        &self.sampling
    }

    /// Continue from output sample `n` (the next call to `fill` starts there).
    pub fn seek(&mut self, n: u64) {
        self.next = n;
    }

    /// Fill `out` with the next samples (interleaved I, Q when complex).
    ///
    /// Samples are made a whole span at a time (a span never straddles a
    /// noise chunk), so every sample is a pure function of its index: how
    /// the stream is cut into calls never changes a bit.
    pub fn fill(&mut self, out: &mut [f32]) {
        let vps = self.sampling.values_per_sample();
        assert_eq!(out.len() % vps, 0);
        let mut done = 0;
        while done < out.len() {
            let n = self.next;
            let span = n / SPAN as u64;
            if self.span_index != Some(span) {
                let mut buf = std::mem::take(&mut self.span_buf);
                buf.resize(SPAN * vps, 0.0);
                self.fill_span(span * SPAN as u64, &mut buf);
                self.span_buf = buf;
                self.span_index = Some(span);
            }
            let from = (n - span * SPAN as u64) as usize;
            let count = ((out.len() - done) / vps).min(SPAN - from);
            out[done..done + count * vps]
                .copy_from_slice(&self.span_buf[from * vps..(from + count) * vps]);
            self.next += count as u64;
            done += count * vps;
        }
    }

    fn ensure_noise(&mut self, chunk: u64) {
        if self.noise_chunk == Some(chunk) {
            return;
        }
        let vps = self.sampling.values_per_sample();
        let mut rng = rng_at(self.seed, self.noise_stream, chunk as i64);
        self.noise.resize(NOISE_CHUNK as usize * vps, 0.0);
        gaussian_fill(&mut rng, &mut self.noise, self.noise_gain);
        self.noise_chunk = Some(chunk);
    }

    /// The span of samples a … a + SPAN − 1 (a a multiple of SPAN): the
    /// noise, then each part added in order (for one part the sum is
    /// part + noise, the same bits as ever: IEEE addition commutes).
    fn fill_span(&mut self, a: u64, dst: &mut [f32]) {
        let vps = self.sampling.values_per_sample();
        let count = dst.len() / vps;
        let chunk = a / NOISE_CHUNK;
        self.ensure_noise(chunk);
        let nz0 = (a - chunk * NOISE_CHUNK) as usize * vps;
        dst.copy_from_slice(&self.noise[nz0..nz0 + count * vps]);
        let inst = self.instrumental.as_ref();
        for part in self.parts.iter_mut() {
            add_part(
                part,
                &self.interp,
                self.sampling,
                (self.t0, self.g_ref),
                inst,
                a,
                dst,
            );
        }
        for tone in &self.tones {
            add_tone(tone, self.sampling, (self.t0, self.g_ref), inst, a, dst);
        }
        if let Some(comb) = &self.pcal {
            add_pcal(comb, self.sampling, (self.t0, self.g_ref), a, dst);
        }
    }
}

/// Add one carrier to the span of samples a … a + dst.len()/vps − 1: its
/// phase (turns) φ + (ν_T − ν₀)(g − g_ref) − ν₀ τ from the exact arrival
/// times at the span's ends, linear between (as for the sky).
fn add_tone(
    tone: &TonePart,
    s: SubbandSampling,
    (t0, g_ref): (UtcTime, UtcTime),
    inst: Option<&InstrumentalPhase>,
    a: u64,
    dst: &mut [f32],
) {
    let fs = s.sample_rate_hz();
    let vps = s.values_per_sample();
    let count = dst.len() / vps;
    let b = a + count as u64;
    let at = |k: u64| solve_arrival(tone.delay.as_ref(), sample_time(t0, k, fs));
    let (ga, tau_a) = at(a);
    let (gb, tau_b) = at(b);
    let shift = tone.sky_freq_hz - s.lo_hz;
    let wrap = |x: f64| x - x.floor();
    let mut pha = wrap(
        wrap(tone.phase_turns) + wrap(shift * ga.seconds_since(g_ref)) - wrap(s.lo_hz * tau_a),
    );
    let mut dph = (shift * gb.seconds_since(ga) - s.lo_hz * (tau_b - tau_a)) / count as f64;
    if let Some(i) = inst {
        pha = wrap(pha + wrap(i.turns_at(sample_time(t0, a, fs))));
        dph += i.rate_turns_per_s / fs;
    }
    add_phasor(dst, s, pha, dph, tone.amplitude);
}

/// Add A·e^{2πi(pha + n·dph)} (sky-convention baseband) to samples n = 0 …
/// of `dst`: as is (complex USB), conjugated (complex LSB), its real part
/// (real).
fn add_phasor(dst: &mut [f32], s: SubbandSampling, pha: f64, dph: f64, amplitude: f64) {
    let count = dst.len() / s.values_per_sample();
    let (s0, c0) = sin_cos_turns(pha);
    let (s1, c1) = sin_cos_turns(dph);
    let mut z = Complex64::new(c0, s0) * amplitude;
    let step = Complex64::new(c1, s1);
    let lsb = !s.upper_sideband;
    for i in 0..count {
        if s.complex {
            dst[2 * i] += z.re as f32;
            dst[2 * i + 1] += if lsb { -z.im } else { z.im } as f32;
        } else {
            dst[i] += z.re as f32;
        }
        z *= step;
    }
}

/// Add the phase-cal comb to the span of samples a … a + dst.len()/vps − 1.
/// Tone k's sky-convention baseband phase at station time t (turns):
/// f_k·(t − ⌊t⌋) − ν₀(t − g_ref) + arg H(f_k, t)/2π, exact at the span's
/// first sample (f_k is whole hertz, so f_k·⌊t⌋ is whole turns) and linear
/// after it, (f_k − ν₀ + φ̇/2π)/fs per sample.
fn add_pcal(
    comb: &PcalComb,
    s: SubbandSampling,
    (t0, g_ref): (UtcTime, UtcTime),
    a: u64,
    dst: &mut [f32],
) {
    let fs = s.sample_rate_hz();
    let t = sample_time(t0, a, fs);
    let wrap = |x: f64| x - x.floor();
    let lo = super::turns_between(s.lo_hz, g_ref, t);
    let drift = wrap(comb.rate_turns_per_s * t.seconds_since(comb.t0));
    for (&f, &inst) in comb.sky_freq_hz.iter().zip(&comb.inst_turns) {
        let pha = wrap(wrap(f * t.frac()) - lo + wrap(inst) + drift);
        let dph = (f - s.lo_hz + comb.rate_turns_per_s) / fs;
        add_phasor(dst, s, pha, dph, comb.amplitude);
    }
}

/// Add one sky part to the span of samples a … a + dst.len()/vps − 1.
fn add_part<S: Sky>(
    part: &mut Part<S>,
    interp: &Interpolator,
    s: SubbandSampling,
    (t0, g_ref): (UtcTime, UtcTime),
    inst: Option<&InstrumentalPhase>,
    a: u64,
    dst: &mut [f32],
) {
    let fs = s.sample_rate_hz();
    let vps = s.values_per_sample();
    let count = dst.len() / vps;
    let sky_rate = s.sky_rate_hz;
    let shift = s.sky_centre_offset_hz;

    // Exact arrival times at both ends of the span, linear between.
    let b = a + SPAN as u64;
    let at = |k: u64| solve_arrival(part.delay.as_ref(), sample_time(t0, k, fs));
    let (ga, tau_a) = at(a);
    let (gb, tau_b) = at(b);
    let span = (b - a) as f64;
    let pa = ga.seconds_since(g_ref) * sky_rate;
    let dp = gb.seconds_since(ga) * sky_rate / span;
    // Phase in turns: (ν_c − ν₀)(g − g_ref) − ν₀ τ, each term reduced mod 1
    // before they meet (ν₀τ ~ 1e10 turns).
    let wrap = |x: f64| x - x.floor();
    let mut pha = wrap(wrap(shift * ga.seconds_since(g_ref)) - wrap(s.lo_hz * tau_a));
    let mut dph = (shift * gb.seconds_since(ga) - s.lo_hz * (tau_b - tau_a)) / span;
    if let Some(i) = inst {
        pha = wrap(pha + wrap(i.turns_at(sample_time(t0, a, fs))));
        dph += i.rate_turns_per_s / fs;
    }

    // Positions relative to an integer sky index at or before the span's
    // first sample, so they are ≥ 0 and truncation is floor.
    let base = pa.floor() as i64;
    let rel0 = pa - base as f64;
    let rel_last = rel0 + (count - 1) as f64 * dp;
    let k_first = base - TAPS as i64 / 2 + 1;
    let k_end = base + rel_last as i64 + TAPS as i64 / 2 + 2;
    let window = part.sky.window(k_first, k_end);

    let (s0, c0) = sin_cos_turns(pha);
    let (s1, c1) = sin_cos_turns(dph);
    let mut z = Complex64::new(c0, s0);
    let step = Complex64::new(c1, s1);

    let g = part.gain as f64;
    let lsb = !s.upper_sideband;
    // Position in 32.32 fixed point from `base`: integer steps, no float
    // → int conversions in the loop. dp is rounded to 2^-32 sample; over a
    // span that drifts < 1e-6 sample, and every span restarts exactly.
    let scale = 4_294_967_296.0;
    let pos0 = (rel0 * scale).round() as u64;
    let dpos = (dp * scale).round() as u64;
    for i in 0..count {
        let pos = pos0 + i as u64 * dpos;
        let k = (pos >> 32) as usize;
        let w = interp.weights(pos as u32);
        let (cr, ci) = Interpolator::apply(w, &window[2 * k..]);
        let (zr, zi) = ((z.re * g) as f32, (z.im * g) as f32);
        let dr = cr * zr - ci * zi;
        if s.complex {
            let di = cr * zi + ci * zr;
            dst[2 * i] += dr;
            // conj for LSB: video frequency f is sky ν₀ − f.
            dst[2 * i + 1] += if lsb { -di } else { di };
        } else {
            dst[i] += dr;
        }
        z *= step;
    }
}
