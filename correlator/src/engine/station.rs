//! Station stage, once per station, subband and block:
//! align (done by the caller: the block's samples start at `BlockGeom::n0`)
//! → rotate (fringe phase, per sample, before the FFT) → FFT → fractional
//! sample correction → spectrum.
//!
//! Sign conventions (see README, "emcorr correlate"). A wavefront at the
//! geocentre at g reaches the station at t = g + τ(g). Mixing with an LO at
//! f_LO that runs on station time leaves the USB baseband signal as
//! x(t) = s(g) · exp(−2πi f_LO τ(g)), s being the geocentric baseband
//! signal. So the fringe rotation multiplies by exp(+2πi f_LO τ) for USB.
//! For LSB the positive-frequency baseband content is the conjugate of the
//! sky's (x(t) = conj(s_L(g)) · exp(+2πi f_LO τ)), so the rotation is
//! exp(−2πi f_LO τ) and the product spectra are conjugated at the end
//! (`accumulate`). Either way a block taken δ samples early holds
//! s(t − δ/fs), whose spectrum is S(f)·exp(−2πi f δ/fs): the fractional
//! correction multiplies channel j (baseband frequency f_j = j·fs/N, for
//! complex data too, where the stream covers [0, fs) above the LO) by
//! exp(+2πi j δ / N).
//!
//! Real data: rotating a real block makes it complex. Two formulations are
//! implemented: one complex FFT of x·e^{iφ} (keeping its N/2 positive
//! channels), or two real FFTs A = rfft(x cosφ), B = rfft(x sinφ) combined
//! as Z_j = A_j + i·B_j. Measured on this project's machines
//! (`benches/engine.rs`, per CPU second), a 1024-point complex FFT from
//! rustfft costs about the same per sample as realfft's 1024-point real FFT
//! (0.94–1.08×: realfft's pre/post-processing is a large part of its cost),
//! so one complex FFT beats two real ones and is the default; the engine as
//! a whole ran ~35% faster with it.

use super::plan::BlockGeom;
use super::simd::multiversion;
use crate::job::Window;
use num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};
use std::f64::consts::TAU;
use std::sync::Arc;

/// How a real-sampled block is rotated and transformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RealFormulation {
    /// Two real FFTs of x·cosφ and x·sinφ, combined.
    TwoRealFfts,
    /// One complex FFT of x·e^{iφ} (default: fastest here).
    #[default]
    ComplexFft,
}

/// Per-subband constants of the station stage.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SubbandDsp {
    /// The station's LO frequency: the band edge `sky_freq_hz` (DSB: the
    /// band centre) plus `lo_offset_hz`.
    pub lo_hz: f64,
    /// +1 for USB and DSB, −1 for LSB: the sign of the fringe rotation
    /// phase.
    pub sign: f64,
    /// The station's LO offset from the band's LO, removed by a frequency
    /// shift (0: none, and the rotation is exactly the one above).
    pub offset_hz: f64,
    /// Complex double-sideband samples: the spectrum is reordered to run
    /// from −fs/2 to fs/2, and corrected at those baseband frequencies.
    pub dsb: bool,
    /// Track the delay's change inside the block at `track_hz` and to
    /// second order (a zoom pass's long blocks; see [`StationDsp::transform`]).
    pub track: bool,
    /// The spectrum frequency (as the fractional correction counts it:
    /// (k + b)·fs/N for channel k) at which the delay's change inside the
    /// block is removed exactly.
    pub track_hz: f64,
}

/// Whole cycles of `freq_hz` × (t − the time origin) dropped: the phase
/// of an oscillation at `freq_hz` at `t`, in [0, 1), to ~1e-7 cycles after
/// 1e9 s (the integer part of the frequency times whole seconds is whole).
fn cycles_at(freq_hz: f64, t: formats::UtcTime) -> f64 {
    let whole = t.sec() as f64;
    let c = (freq_hz.fract() * whole).rem_euclid(1.0) + freq_hz * t.frac();
    c - c.floor()
}

/// Phasors exp(2πi(φ0 + s·k)) for k in 0..n, as a product of a coarse and a
/// fine table (k = h·L + l) so that a block needs three sin/cos and
/// O(n/L + L) complex multiplies in f64, and one f32 complex multiply per
/// sample.
#[derive(Debug, Clone, Default)]
struct Phasors {
    l: usize,
    hi_re: Vec<f32>,
    hi_im: Vec<f32>,
    lo_re: Vec<f32>,
    lo_im: Vec<f32>,
}

impl Phasors {
    fn new(n: usize) -> Self {
        // L: the largest power of two ≤ 32 that divides n.
        let l = (n & n.wrapping_neg()).clamp(1, 32);
        Phasors {
            l,
            hi_re: vec![0.0; n / l],
            hi_im: vec![0.0; n / l],
            lo_re: vec![0.0; l],
            lo_im: vec![0.0; l],
        }
    }

    /// Fill for the phase φ(k) = `phi0` + `step`·k + `curv`·k² cycles. The
    /// coarse table is evaluated directly at every k = h·L (n/L sin/cos);
    /// the fine table steps at the block centre's slope, off by
    /// 2·curv·|k − n/2|·L cycles at most within a run of L samples
    /// (~1e-6 cycles for an Earth station's 1e-10 s/s² at 8.4 GHz over a
    /// one-second block at 16 MHz).
    fn fill_quadratic(&mut self, phi0: f64, step: f64, curv: f64) {
        let cis = |cycles: f64| {
            let (s, c) = (TAU * (cycles - cycles.round())).sin_cos();
            (c, s)
        };
        let n = (self.hi_re.len() * self.l) as f64;
        let slope = step + curv * n;
        let (sr, si) = cis(slope);
        let (mut r, mut i) = (1.0f64, 0.0f64);
        for (re, im) in self.lo_re.iter_mut().zip(self.lo_im.iter_mut()) {
            *re = r as f32;
            *im = i as f32;
            (r, i) = (r * sr - i * si, r * si + i * sr);
        }
        for (h, (re, im)) in self.hi_re.iter_mut().zip(self.hi_im.iter_mut()).enumerate() {
            let k = (h * self.l) as f64;
            let (c, s) = cis(phi0 + step * k + curv * k * k);
            *re = c as f32;
            *im = s as f32;
        }
    }

    /// Fill for start phase `phi0` and step `step`, both in cycles.
    fn fill(&mut self, phi0: f64, step: f64) {
        let cis = |cycles: f64| {
            let (s, c) = (TAU * (cycles - cycles.round())).sin_cos();
            (c, s)
        };
        // Fine table by recurrence (f64: error ~L·1e-16).
        let (sr, si) = cis(step);
        let (mut r, mut i) = (1.0f64, 0.0f64);
        for (re, im) in self.lo_re.iter_mut().zip(self.lo_im.iter_mut()) {
            *re = r as f32;
            *im = i as f32;
            (r, i) = (r * sr - i * si, r * si + i * sr);
        }
        // Coarse table: exp(2πi(φ0 + s·L·h)), by recurrence from an exact start.
        let (cr, ci) = cis(step * self.l as f64);
        let (mut r, mut i) = cis(phi0);
        for (re, im) in self.hi_re.iter_mut().zip(self.hi_im.iter_mut()) {
            *re = r as f32;
            *im = i as f32;
            (r, i) = (r * cr - i * ci, r * ci + i * cr);
        }
    }
}

/// One worker's station-stage state: FFT plans and scratch, reused for
/// every block (no allocation per block).
pub struct StationDsp {
    n: usize,
    /// The window's w[n] (`None`: no window), applied after the rotation
    /// (both are per-sample factors, so the order does not matter).
    window: Option<Vec<f32>>,
    complex: bool,
    formulation: RealFormulation,
    r2c: Arc<dyn RealToComplex<f32>>,
    c2c: Arc<dyn Fft<f32>>,
    a: Vec<f32>,
    b: Vec<f32>,
    spec_a: Vec<Complex32>,
    spec_b: Vec<Complex32>,
    r2c_scratch: Vec<Complex32>,
    cbuf: Vec<Complex32>,
    c2c_scratch: Vec<Complex32>,
    rot: Phasors,
    frac: Phasors,
    /// Fractional-correction tables of the other lengths [`Self::extract`]
    /// is asked for (an output band narrower than the recording).
    fracs: Vec<(usize, Phasors)>,
    /// The FFT's bins and one more (bin N ≡ bin 0), when an extraction
    /// reaches past the last bin; and a reversed extraction's channels.
    ext: Vec<Complex32>,
    tmp_re: Vec<f32>,
    tmp_im: Vec<f32>,
}

impl StationDsp {
    pub fn new(
        fft_length: usize,
        complex: bool,
        formulation: RealFormulation,
        window: Window,
    ) -> Self {
        let n = fft_length;
        // The two-real-FFT buffers only where that formulation is used (a
        // zoom pass's 2^24-point FFT would otherwise carry ~400 MB unused).
        let two_real = !complex && formulation == RealFormulation::TwoRealFfts;
        let r2c = RealFftPlanner::<f32>::new().plan_fft_forward(if two_real { n } else { 2 });
        let c2c = FftPlanner::<f32>::new().plan_fft_forward(n);
        let nchan = if complex { n } else { n / 2 };
        let real_len = if two_real { n } else { 0 };
        StationDsp {
            n,
            window: window.coefficients(n),
            complex,
            formulation,
            a: vec![0.0; real_len],
            b: vec![0.0; real_len],
            spec_a: r2c.make_output_vec(),
            spec_b: r2c.make_output_vec(),
            r2c_scratch: r2c.make_scratch_vec(),
            cbuf: vec![Complex32::new(0.0, 0.0); n],
            c2c_scratch: vec![Complex32::new(0.0, 0.0); c2c.get_inplace_scratch_len()],
            r2c,
            c2c,
            rot: Phasors::new(n),
            frac: Phasors::new(nchan),
            fracs: Vec::new(),
            ext: Vec::new(),
            tmp_re: Vec::new(),
            tmp_im: Vec::new(),
        }
    }

    /// FFT length.
    pub fn fft_length(&self) -> usize {
        self.n
    }

    /// Whether the stream is complex-sampled.
    pub fn complex(&self) -> bool {
        self.complex
    }

    /// Channels per spectrum.
    pub fn nchan(&self) -> usize {
        if self.complex {
            self.n
        } else {
            self.n / 2
        }
    }

    /// Spectrum of one block: `samples` are the block's N samples (2N
    /// interleaved I,Q for complex data) starting at `geom.n0`. Writes
    /// `nchan` channels to `out_re`/`out_im` and returns Σ|x|² of the block's
    /// samples (for the quantisation correction).
    pub fn spectrum(
        &mut self,
        samples: &[f32],
        geom: &BlockGeom,
        sub: &SubbandDsp,
        sample_rate_hz: f64,
        out_re: &mut [f32],
        out_im: &mut [f32],
    ) -> f64 {
        let n = self.n;
        let power = self.transform(samples, geom, sub, sample_rate_hz);
        if sub.dsb {
            let nchan = self.nchan();
            self.extract(0, nchan, false, geom.delta, sub, out_re, out_im);
            return power;
        }
        // Fractional-sample correction: channel j × exp(+2πi j δ / N).
        let nchan = self.nchan();
        self.frac.fill(0.0, geom.delta / n as f64);
        if self.complex || self.formulation == RealFormulation::ComplexFft {
            correct_complex(&self.cbuf[..nchan], &self.frac, out_re, out_im);
        } else {
            combine_and_correct(
                &self.spec_a[..nchan],
                &self.spec_b[..nchan],
                &self.frac,
                out_re,
                out_im,
            );
        }
        power
    }

    /// Rotate and transform one block (as [`Self::spectrum`]) without
    /// taking channels out: [`Self::extract`] then takes those of each
    /// output band the recording feeds. Returns Σ|x|².
    ///
    /// LO offset. A station whose LO is f_LO = L0 + δ_LO (L0 the band's
    /// LO) records sky frequency ν at baseband f = σ(ν − f_LO) (σ = +1
    /// USB/DSB, −1 LSB), with the sky's phase −2πiσντ(t) (station file
    /// doc): x(t) ∝ exp(2πiσ[(ν − f_LO)·t − ν·τ]). The rotation by
    /// exp(+2πiσ f_LO τ) leaves exp(2πiσ[(ν − f_LO)·t − (ν − f_LO)·τ]) =
    /// exp(2πiσ(ν − f_LO)·g), g = t − τ(t) the sample's geocentric time.
    /// Multiplying by exp(+2πiσ δ_LO g) then gives exp(2πiσ(ν − L0)·g):
    /// exactly what a station with its LO at L0 gives. So an offset needs
    /// no channel alignment, and the fractional-sample correction uses the
    /// channel's frequency σ(ν − L0) as usual. With
    /// g_k = g_c + u_k·(1 − rate_station) (u_k below) the shift is one
    /// more linear phase in k, computed in f64 with whole cycles removed.
    pub fn transform(
        &mut self,
        samples: &[f32],
        geom: &BlockGeom,
        sub: &SubbandDsp,
        sample_rate_hz: f64,
    ) -> f64 {
        let n = self.n;
        // Fringe phase (cycles) of sample k: sign · f_LO · τ(t_k), with
        // τ(t_k) = τ_c + rate_station · u_k and u_k = (k − N/2 − δ)/fs the
        // station time from the model's block centre. Whole cycles of
        // f_LO·τ_c are removed in f64 before anything meets f32.
        let cyc = sub.lo_hz * geom.tau_s;
        let phi_c = sub.sign * (cyc - cyc.floor());
        let mut step = sub.sign * sub.lo_hz * geom.rate_station / sample_rate_hz;
        let mut phi0 = phi_c - step * (n as f64 / 2.0 + geom.delta);
        // Tracking (a zoom pass). Sample k was taken δ(u_k) = δ + ṫ·u_k·fs
        // (+ ½·τ̈·u_k²·fs) samples early, so spectrum frequency f carries
        // −2π f δ(u_k)/fs: the fractional correction removes the constant
        // part, and multiplying by exp(+2πi f_t (ṫ u + ½ τ̈ u²)) removes the
        // rest at f_t, leaving 2π (f − f_t)(ṫ u + ½ τ̈ u²) across the band
        // (and shifting the spectrum by the Doppler f_t·ṫ, which is what
        // the other station's spectrum is shifted by too). The LO term
        // σ f_LO τ(t_k) gains its second-order part ½ σ f_LO τ̈ u² too.
        let mut curv = 0.0;
        if sub.track {
            let t_step = sub.track_hz * geom.rate_station / sample_rate_hz;
            step += t_step;
            phi0 -= t_step * (n as f64 / 2.0 + geom.delta);
            // ½ τ̈ u² with u = (k − N/2 − δ)/fs: c·(k − m)² = c k² − 2cm k + c m².
            let c = 0.5 * (sub.sign * sub.lo_hz + sub.track_hz) * geom.accel_station
                / (sample_rate_hz * sample_rate_hz);
            let m = n as f64 / 2.0 + geom.delta;
            curv = c;
            step -= 2.0 * c * m;
            phi0 += c * m * m;
        }
        if sub.offset_hz != 0.0 {
            // LO offset: + σ·δ_LO·g_k cycles, g_k = g_c + u_k(1 − rate_station).
            let shift = sub.sign * sub.offset_hz;
            let s_step = shift * (1.0 - geom.rate_station) / sample_rate_hz;
            phi0 += cycles_at(shift, geom.g_c) - s_step * (n as f64 / 2.0 + geom.delta);
            step += s_step;
        }
        if curv != 0.0 {
            self.rot.fill_quadratic(phi0, step, curv);
        } else {
            self.rot.fill(phi0, step);
        }
        let power;
        if self.complex {
            power = rotate_complex(samples, &self.rot, &mut self.cbuf);
            if let Some(w) = &self.window {
                apply_window_complex(&mut self.cbuf, w);
            }
            self.c2c
                .process_with_scratch(&mut self.cbuf, &mut self.c2c_scratch);
            if sub.dsb {
                // DSB: baseband [−fs/2, fs/2) in order; channel k is then
                // at baseband frequency (k − N/2)·fs/N.
                self.cbuf.rotate_left(n / 2);
            }
        } else if self.formulation == RealFormulation::ComplexFft {
            power = rotate_real_to_complex(samples, &self.rot, &mut self.cbuf);
            if let Some(w) = &self.window {
                apply_window_complex(&mut self.cbuf, w);
            }
            self.c2c
                .process_with_scratch(&mut self.cbuf, &mut self.c2c_scratch);
        } else {
            power = rotate_real(samples, &self.rot, &mut self.a, &mut self.b);
            if let Some(w) = &self.window {
                apply_window_real(&mut self.a, w);
                apply_window_real(&mut self.b, w);
            }
            // Errors here are length mismatches, impossible by construction.
            self.r2c
                .process_with_scratch(&mut self.a, &mut self.spec_a, &mut self.r2c_scratch)
                .expect("r2c lengths");
            self.r2c
                .process_with_scratch(&mut self.b, &mut self.spec_b, &mut self.r2c_scratch)
                .expect("r2c lengths");
        }
        power
    }

    /// After [`Self::transform`]: `len` channels of the block's spectrum,
    /// fractional-sample corrected, into `out_re`/`out_im`. Not reversed:
    /// output j = spectrum channel `first + j`; reversed: the conjugate of
    /// channel `first − j` (a recording in the other sideband than the
    /// output band: its spectrum holds the conjugate of the sky's, in the
    /// opposite order). Channel k lies at baseband frequency
    /// (k + b)·fs/N (b = −N/2 for DSB, else 0) and is corrected by
    /// exp(+2πi(k + b)δ/N). Channels up to N/2 (real: the Nyquist bin) or
    /// N (complex: bin N ≡ bin 0, the alias of the band's far edge) may be
    /// asked for: the band-edge channel of an output band whose stations
    /// differ in sideband is the edge bin that the other sideband's
    /// spectrum has only there.
    #[allow(clippy::too_many_arguments)]
    pub fn extract(
        &mut self,
        first: usize,
        len: usize,
        reversed: bool,
        delta: f64,
        sub: &SubbandDsp,
        out_re: &mut [f32],
        out_im: &mut [f32],
    ) {
        let n = self.n;
        let k0 = if reversed { first + 1 - len } else { first };
        let base = if sub.dsb { -((n / 2) as f64) } else { 0.0 };
        let fi = match self.fracs.iter().position(|(l, _)| *l == len) {
            Some(i) => i,
            None => {
                self.fracs.push((len, Phasors::new(len)));
                self.fracs.len() - 1
            }
        };
        let frac = &mut self.fracs[fi].1;
        frac.fill((k0 as f64 + base) * delta / n as f64, delta / n as f64);
        if reversed {
            self.tmp_re.resize(len, 0.0);
            self.tmp_im.resize(len, 0.0);
        }
        let (dst_re, dst_im) = if reversed {
            (&mut self.tmp_re[..], &mut self.tmp_im[..])
        } else {
            (&mut out_re[..len], &mut out_im[..len])
        };
        if self.complex || self.formulation == RealFormulation::ComplexFft {
            if k0 + len <= n {
                correct_complex(&self.cbuf[k0..k0 + len], frac, dst_re, dst_im);
            } else {
                // Past the last bin: the DFT is periodic in k.
                self.ext.clear();
                self.ext.extend((k0..k0 + len).map(|k| self.cbuf[k % n]));
                correct_complex(&self.ext, frac, dst_re, dst_im);
            }
        } else {
            combine_and_correct(
                &self.spec_a[k0..k0 + len],
                &self.spec_b[k0..k0 + len],
                frac,
                dst_re,
                dst_im,
            );
        }
        if reversed {
            for j in 0..len {
                out_re[j] = self.tmp_re[len - 1 - j];
                out_im[j] = -self.tmp_im[len - 1 - j];
            }
        }
    }
}

multiversion! {
/// c[k] ×= w[k].
fn apply_window_complex(c: &mut [Complex32], w: &[f32]) {
    for (z, &f) in c.iter_mut().zip(w) {
        *z = Complex32::new(z.re * f, z.im * f);
    }
}
}

multiversion! {
/// a[k] ×= w[k].
fn apply_window_real(a: &mut [f32], w: &[f32]) {
    for (z, &f) in a.iter_mut().zip(w) {
        *z *= f;
    }
}
}

multiversion! {
/// Σx² with eight independent partial sums, so it vectorises (a single f32
/// running sum cannot be reordered by the compiler).
fn block_power(x: &[f32]) -> f64 {
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k] * c[k];
        }
    }
    acc.iter().map(|&v| v as f64).sum::<f64>() + rest as f64
}
}

multiversion! {
/// a = x·Re(rot), b = x·Im(rot); returns Σx².
fn rotate_real(x: &[f32], rot: &Phasors, a: &mut [f32], b: &mut [f32]) -> f64 {
    let l = rot.l;
    // Length-l slices: the inner loops then need no bounds checks and vectorise.
    let (lo_re, lo_im) = (&rot.lo_re[..l], &rot.lo_im[..l]);
    for (h, ((xs, as_), bs)) in x
        .chunks_exact(l)
        .zip(a.chunks_exact_mut(l))
        .zip(b.chunks_exact_mut(l))
        .enumerate()
    {
        let (hr, hi) = (rot.hi_re[h], rot.hi_im[h]);
        for i in 0..l {
            let rr = hr * lo_re[i] - hi * lo_im[i];
            let ri = hr * lo_im[i] + hi * lo_re[i];
            let v = xs[i];
            as_[i] = v * rr;
            bs[i] = v * ri;
        }
    }
    block_power(x)
}
}

multiversion! {
/// c = x·rot for real x; returns Σx².
fn rotate_real_to_complex(x: &[f32], rot: &Phasors, c: &mut [Complex32]) -> f64 {
    let l = rot.l;
    // Length-l slices: the inner loops then need no bounds checks and vectorise.
    let (lo_re, lo_im) = (&rot.lo_re[..l], &rot.lo_im[..l]);
    for (h, (xs, cs)) in x.chunks_exact(l).zip(c.chunks_exact_mut(l)).enumerate() {
        let (hr, hi) = (rot.hi_re[h], rot.hi_im[h]);
        for i in 0..l {
            let rr = hr * lo_re[i] - hi * lo_im[i];
            let ri = hr * lo_im[i] + hi * lo_re[i];
            let v = xs[i];
            cs[i] = Complex32::new(v * rr, v * ri);
        }
    }
    block_power(x)
}
}

multiversion! {
/// c = (I + iQ)·rot for interleaved complex samples; returns Σ|x|².
fn rotate_complex(x: &[f32], rot: &Phasors, c: &mut [Complex32]) -> f64 {
    let l = rot.l;
    // Length-l slices: the inner loops then need no bounds checks and vectorise.
    let (lo_re, lo_im) = (&rot.lo_re[..l], &rot.lo_im[..l]);
    for (h, (xs, cs)) in x.chunks_exact(2 * l).zip(c.chunks_exact_mut(l)).enumerate() {
        let (hr, hi) = (rot.hi_re[h], rot.hi_im[h]);
        for i in 0..l {
            let rr = hr * lo_re[i] - hi * lo_im[i];
            let ri = hr * lo_im[i] + hi * lo_re[i];
            let (xr, xi) = (xs[2 * i], xs[2 * i + 1]);
            cs[i] = Complex32::new(xr * rr - xi * ri, xr * ri + xi * rr);
        }
    }
    block_power(x)
}
}

multiversion! {
/// out = (A + i·B) · frac for the kept channels.
fn combine_and_correct(
    a: &[Complex32],
    b: &[Complex32],
    frac: &Phasors,
    out_re: &mut [f32],
    out_im: &mut [f32],
) {
    let l = frac.l;
    let (lo_re, lo_im) = (&frac.lo_re[..l], &frac.lo_im[..l]);
    for (h, (((ac, bc), ore), oim)) in a
        .chunks_exact(l)
        .zip(b.chunks_exact(l))
        .zip(out_re.chunks_exact_mut(l))
        .zip(out_im.chunks_exact_mut(l))
        .enumerate()
    {
        let (hr, hi) = (frac.hi_re[h], frac.hi_im[h]);
        for i in 0..l {
            let fr = hr * lo_re[i] - hi * lo_im[i];
            let fi = hr * lo_im[i] + hi * lo_re[i];
            let zr = ac[i].re - bc[i].im;
            let zi = ac[i].im + bc[i].re;
            ore[i] = zr * fr - zi * fi;
            oim[i] = zr * fi + zi * fr;
        }
    }
}
}

multiversion! {
/// out = c · frac for the kept channels.
fn correct_complex(c: &[Complex32], frac: &Phasors, out_re: &mut [f32], out_im: &mut [f32]) {
    let l = frac.l;
    let (lo_re, lo_im) = (&frac.lo_re[..l], &frac.lo_im[..l]);
    for (h, ((cc, ore), oim)) in c
        .chunks_exact(l)
        .zip(out_re.chunks_exact_mut(l))
        .zip(out_im.chunks_exact_mut(l))
        .enumerate()
    {
        let (hr, hi) = (frac.hi_re[h], frac.hi_im[h]);
        for i in 0..l {
            let fr = hr * lo_re[i] - hi * lo_im[i];
            let fi = hr * lo_im[i] + hi * lo_re[i];
            ore[i] = cc[i].re * fr - cc[i].im * fi;
            oim[i] = cc[i].re * fi + cc[i].im * fr;
        }
    }
}
}
