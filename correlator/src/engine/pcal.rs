//! Phase-cal extraction (issue 15): the complex amplitude of every
//! pulse-cal tone in every recorded band, per station and integration, from
//! the samples as recorded (before any fringe rotation).
//!
//! A phase-cal generator injects a comb at the feed: tones at sky
//! frequencies f_k = offset + k·interval, locked to the station's clock, so
//! they carry the receiver chain's phase and delay but not the source's
//! geometry. In a recording with its LO at f_LO (the band's LO plus
//! `lo_offset_hz`) tone k lies at baseband frequency f_b = σ(f_k − f_LO)
//! (σ = −1 for LSB; complex DSB: f_k − f_LO with the LO at the band
//! centre), a whole number of Hz, so every tone repeats after
//! P = fs / gcd(fs, every f_b) samples. The samples are therefore folded
//! modulo P (one addition per sample: the time-domain method of DiFX,
//! without a phasor per sample and tone), counting the valid ones per bin,
//! and at the end of the integration each tone is the DFT of the bins'
//! means at its frequency:
//!
//! c_k = (1/P) Σ_p m_p · exp(−2πi f_b (p/fs + t0)),
//!
//! p counting samples from the stream's first (at station time t0 from a
//! whole second; f_b being whole Hz, whole seconds do not matter), so c_k
//! is the tone's phase at the whole seconds of station time.
//!
//! Conventions of the output (the FITS-IDI PHASE-CAL table): the phase is
//! that of the tone at its SKY frequency as the station's chain delivers it,
//! for every sideband: an LSB recording holds the conjugate of the sky's
//! baseband, so c is conjugated. The amplitude is in units of the
//! recording's rms per real component: a tone A·cos(2π f t + φ) (real) or
//! A·exp(i(2π f t + φ)) (complex) in noise of unit rms per component reads
//! A·exp(iφ) (real sampling: × 2, since the cosine puts A/2 at +f).

use num_complex::Complex64;

/// The largest fold period allowed (samples): a comb whose baseband
/// frequencies share only a small common divisor with the sample rate
/// would need a longer one.
pub const MAX_PERIOD: usize = 1 << 22;

/// Greatest common divisor of two whole numbers of Hz.
fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The fold period of a recording at `fs_hz` whose tones lie at baseband
/// frequencies `freqs_hz` (whole Hz): fs / gcd(fs, |f_b|…). `None` when the
/// sample rate or a frequency is not whole Hz, or the period exceeds
/// [`MAX_PERIOD`].
pub fn fold_period(fs_hz: f64, freqs_hz: &[f64]) -> Option<usize> {
    let whole = |x: f64| (x - x.round()).abs() < 1e-6 && x.round().abs() < 1e15;
    if !whole(fs_hz) || fs_hz < 1.0 || freqs_hz.iter().any(|&f| !whole(f)) {
        return None;
    }
    let fs = fs_hz.round() as u64;
    let g = freqs_hz
        .iter()
        .fold(fs, |g, &f| gcd(g, f.round().abs() as u64));
    let p = (fs / g.max(1)) as usize;
    (p <= MAX_PERIOD).then_some(p)
}

/// Folded samples of one recording over an accumulation period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fold {
    period: usize,
    complex: bool,
    /// Per bin: Σ of the samples (complex: I, Q interleaved); invalid
    /// samples are zero (the reader zeroes them), so they add nothing.
    sum: Vec<f64>,
    /// Per bin: valid samples, beyond `full` (whole periods all valid).
    count: Vec<u64>,
    full: u64,
    /// Σ|x|² of the samples.
    power: f64,
    /// Samples seen, valid or not.
    seen: u64,
    /// f32 partial sums of one call (kept to avoid an allocation per call).
    scratch: Vec<f32>,
}

impl Fold {
    pub fn new(period: usize, complex: bool) -> Fold {
        let w = if complex { 2 } else { 1 };
        Fold {
            period,
            complex,
            sum: vec![0.0; period * w],
            count: vec![0; period],
            full: 0,
            power: 0.0,
            seen: 0,
            scratch: vec![0.0; period * w],
        }
    }

    pub fn clear(&mut self) {
        self.sum.iter_mut().for_each(|x| *x = 0.0);
        self.count.iter_mut().for_each(|x| *x = 0);
        self.full = 0;
        self.power = 0.0;
        self.seen = 0;
    }

    /// Add samples `samples` (interleaved I, Q for complex data) whose
    /// first is stream sample `first` (counted from the stream's origin),
    /// with their validity (invalid samples are zero and not counted).
    /// The values are added without a branch, whole periods at a time
    /// (vectorised); only the counts look at the validity, a period at a
    /// time when all of it is valid.
    pub fn add(&mut self, samples: &[f32], valid: &[bool], first: i64) {
        let w = if self.complex { 2 } else { 1 };
        let pl = self.period;
        let n = valid.len().min(samples.len() / w);
        let p0 = first.rem_euclid(pl as i64) as usize;
        // Head: up to the first bin-0 sample.
        let head = ((pl - p0) % pl).min(n);
        self.scratch.iter_mut().for_each(|x| *x = 0.0);
        for k in 0..head {
            let p = p0 + k;
            for c in 0..w {
                self.scratch[p * w + c] += samples[k * w + c];
            }
            self.count[p] += valid[k] as u64;
        }
        // Body: whole periods.
        let body = (n - head) / pl * pl;
        let vals = &samples[head * w..(head + body) * w];
        let flags = &valid[head..head + body];
        fold_periods(vals, &mut self.scratch);
        for f in flags.chunks_exact(pl) {
            if all_set(f) {
                self.full += 1;
            } else {
                for (c, &v) in self.count.iter_mut().zip(f) {
                    *c += v as u64;
                }
            }
        }
        // Tail.
        for k in head + body..n {
            let p = k - head - body;
            for c in 0..w {
                self.scratch[p * w + c] += samples[k * w + c];
            }
            self.count[p] += valid[k] as u64;
        }
        for (s, x) in self.sum.iter_mut().zip(&self.scratch) {
            *s += *x as f64;
        }
        self.power += sum_squares(&samples[..n * w]);
        self.seen += n as u64;
    }

    /// Add another fold of the same recording (same period and sampling).
    pub fn merge(&mut self, o: &Fold) {
        for (a, b) in self.sum.iter_mut().zip(&o.sum) {
            *a += b;
        }
        for (a, b) in self.count.iter_mut().zip(&o.count) {
            *a += b;
        }
        self.full += o.full;
        self.power += o.power;
        self.seen += o.seen;
    }

    /// Valid samples in bin p.
    fn valid_in(&self, p: usize) -> u64 {
        self.count[p] + self.full
    }

    /// Valid samples over samples seen.
    pub fn valid_fraction(&self) -> f64 {
        if self.seen == 0 {
            0.0
        } else {
            (0..self.period).map(|p| self.valid_in(p)).sum::<u64>() as f64 / self.seen as f64
        }
    }

    /// The tone at baseband frequency `f_b_hz` (as recorded, before any
    /// sky-convention conjugation), normalised as the module says; the
    /// stream's sample 0 lies `t0_frac_s` after a whole second. `None`
    /// without valid samples in every bin.
    pub fn tone(&self, f_b_hz: f64, fs_hz: f64, t0_frac_s: f64) -> Option<Complex64> {
        if (0..self.period).any(|p| self.valid_in(p) == 0) {
            return None;
        }
        let n: u64 = (0..self.period).map(|p| self.valid_in(p)).sum();
        let rms = if self.complex {
            (self.power / (2.0 * n as f64)).sqrt()
        } else {
            (self.power / n as f64).sqrt()
        };
        if rms <= 0.0 {
            return None;
        }
        // Cycles of f_b over one sample and at sample 0 (whole cycles out).
        let step = f_b_hz / fs_hz;
        let c0 = (f_b_hz * t0_frac_s).rem_euclid(1.0);
        let mut acc = Complex64::new(0.0, 0.0);
        for p in 0..self.period {
            let k = self.valid_in(p) as f64;
            let m = if self.complex {
                Complex64::new(self.sum[2 * p] / k, self.sum[2 * p + 1] / k)
            } else {
                Complex64::new(self.sum[p] / k, 0.0)
            };
            let cyc = (step * p as f64 + c0).rem_euclid(1.0);
            acc += m * Complex64::from_polar(1.0, -std::f64::consts::TAU * cyc);
        }
        let scale = if self.complex { 1.0 } else { 2.0 };
        Some(acc * (scale / (self.period as f64 * rms)))
    }
}

/// Where each station's tones are and how each is extracted: built once
/// per run from the layout.
#[derive(Debug, Clone, Default)]
pub struct PcalPlan {
    /// Per recording (flat, as the station stage's): the fold period, if
    /// the recording holds tones.
    pub period: Vec<Option<usize>>,
    pub complex: Vec<bool>,
    /// Per recording: its station's sample rate and the fraction of a
    /// second at which its stream's sample 0 lies.
    pub fs_hz: Vec<f64>,
    pub t0_frac_s: Vec<f64>,
    /// `[station][job subband][tone]`: (recording, baseband frequency,
    /// conjugate for the sky convention), tones as
    /// [`super::Layout::pcal_tones`].
    pub tones: Vec<Vec<Vec<(usize, f64, bool)>>>,
    /// Tone slots per (station, subband) in [`super::Integration::pcal`].
    pub slots: usize,
}

impl PcalPlan {
    /// `rec_base[s]..rec_base[s + 1]` are station s's recordings;
    /// `origins_frac[s]` the fraction of a second of its stream's sample 0.
    pub fn new(
        layout: &super::Layout,
        rec_base: &[usize],
        origins_frac: &[f64],
        names: &[String],
    ) -> Result<PcalPlan, super::EngineError> {
        use crate::job::{Sampling, Sideband};
        let nrec = *rec_base.last().unwrap_or(&0);
        let mut plan = PcalPlan {
            period: vec![None; nrec],
            complex: vec![false; nrec],
            fs_hz: vec![0.0; nrec],
            t0_frac_s: vec![0.0; nrec],
            tones: Vec::new(),
            slots: layout.pcal_slots(),
        };
        let mut per_rec: Vec<Vec<f64>> = vec![Vec::new(); nrec];
        for (s, subs) in layout.pcal_tones.iter().enumerate() {
            let mut st = Vec::new();
            for (sb, tones) in subs.iter().enumerate() {
                let mut v = Vec::new();
                if let Some(m) = layout.channel_maps[s][sb] {
                    let rec = &layout.station_recordings[s][m.recording];
                    let q = rec_base[s] + m.recording;
                    plan.complex[q] = rec.sampling != Sampling::Real;
                    plan.fs_hz[q] = layout.station_sample_rate_hz[s];
                    plan.t0_frac_s[q] = origins_frac[s];
                    for &f in tones {
                        let (fb, conj) = match (rec.sampling, rec.sideband) {
                            (Sampling::ComplexDsb, _) | (_, Sideband::Upper) => {
                                (f - rec.lo_hz, false)
                            }
                            (_, Sideband::Lower) => (rec.lo_hz - f, true),
                        };
                        per_rec[q].push(fb);
                        v.push((q, fb, conj));
                    }
                }
                st.push(v);
            }
            plan.tones.push(st);
        }
        for (q, f) in per_rec.iter().enumerate() {
            if f.is_empty() {
                continue;
            }
            let s = rec_base.partition_point(|&b| b <= q) - 1;
            plan.period[q] = Some(fold_period(plan.fs_hz[q], f).ok_or_else(|| {
                super::EngineError::bad(format!(
                    "station {}: its phase-cal tones lie at baseband frequencies ({} … {} Hz) that share no divisor of the sample rate {} Hz above {} Hz: tones, LO and lo_offset_hz must be whole Hz with a common step",
                    names[s],
                    f[0],
                    f[f.len() - 1],
                    plan.fs_hz[q],
                    (plan.fs_hz[q] / MAX_PERIOD as f64).ceil()
                ))
            })?);
        }
        Ok(plan)
    }

    /// Whether any recording holds tones.
    pub fn any(&self) -> bool {
        self.period.iter().any(|p| p.is_some())
    }

    /// Each (station, subband)'s tones from the integration's folds (per
    /// recording), sky convention: `[station][subband][slot]` values and
    /// `[station][subband]` valid fractions (0: no tones or no data).
    pub fn extract(&self, folds: &[Option<Fold>]) -> (Vec<num_complex::Complex32>, Vec<f32>) {
        let nst = self.tones.len();
        let nsub = self.tones.first().map_or(0, |t| t.len());
        let mut vals = vec![num_complex::Complex32::new(0.0, 0.0); nst * nsub * self.slots];
        let mut valid = vec![0.0f32; nst * nsub];
        for (s, subs) in self.tones.iter().enumerate() {
            for (sb, tones) in subs.iter().enumerate() {
                for (k, &(q, fb, conj)) in tones.iter().enumerate() {
                    let Some(fold) = folds.get(q).and_then(|f| f.as_ref()) else {
                        continue;
                    };
                    valid[s * nsub + sb] = fold.valid_fraction() as f32;
                    if let Some(c) = fold.tone(fb, self.fs_hz[q], self.t0_frac_s[q]) {
                        let c = if conj { c.conj() } else { c };
                        vals[(s * nsub + sb) * self.slots + k] =
                            num_complex::Complex32::new(c.re as f32, c.im as f32);
                    }
                }
            }
        }
        (vals, valid)
    }
}

/// The PHASE-CAL rows of one integration: one per station with tones,
/// `[pol][band][tone]` as the output's bands and polarisations (tones padded
/// with 0 Hz to the most any band has). SOURCE_ID 0: the tones are the
/// station's, whatever the phase centres. PC_RATE (Memo 114: s/s, the
/// phase rate as a delay rate) from the previous integration `prev`:
/// wrap(φ − φ_prev) / (2π·ν·Δt), so a drift must change the phase by less
/// than π between integrations; 0 without one (the first integration of a
/// run) or where either tone is missing.
pub fn rows(
    layout: &super::Layout,
    integ: &super::Integration,
    prev: Option<&super::Integration>,
) -> Vec<formats::fitsidi::PcalRow> {
    let nst = layout.stations.len();
    if integ.pcal_valid.is_empty() || nst == 0 {
        return Vec::new();
    }
    let nsub = integ.pcal_valid.len() / nst;
    let slots = layout.pcal_slots();
    let npol = layout.pols.len();
    let mut out = Vec::new();
    for s in 0..nst {
        if layout.pcal_tones[s].iter().all(|t| t.is_empty()) {
            continue;
        }
        let grid = |f: &dyn Fn(usize, usize) -> f64| -> Vec<Vec<Vec<f64>>> {
            (0..npol)
                .map(|p| {
                    layout
                        .bands
                        .iter()
                        .map(|b| (0..slots).map(|k| f(b.subbands[p], k)).collect())
                        .collect()
                })
                .collect()
        };
        let tone = |sb: usize, k: usize| layout.pcal_tones[s][sb].get(k).copied();
        let value =
            |sb: usize, k: usize| tone(sb, k).map(|_| integ.pcal[(s * nsub + sb) * slots + k]);
        let to32 = |g: Vec<Vec<Vec<f64>>>| -> Vec<Vec<Vec<f32>>> {
            g.into_iter()
                .map(|b| {
                    b.into_iter()
                        .map(|t| t.into_iter().map(|x| x as f32).collect())
                        .collect()
                })
                .collect()
        };
        out.push(formats::fitsidi::PcalRow {
            time: integ.time,
            time_interval_s: integ.inttim_s,
            source_id: 0,
            antenna_no: s as u32 + 1,
            freq_id: 1,
            cable_cal_s: 0.0,
            freq_hz: grid(&|sb, k| tone(sb, k).unwrap_or(0.0)),
            re: to32(grid(&|sb, k| value(sb, k).map_or(0.0, |c| c.re as f64))),
            im: to32(grid(&|sb, k| value(sb, k).map_or(0.0, |c| c.im as f64))),
            rate: to32(grid(&|sb, k| {
                let i = (s * nsub + sb) * slots + k;
                let (Some(nu), Some(p)) = (tone(sb, k), prev) else {
                    return 0.0;
                };
                let dt = integ.time.seconds_since(p.time);
                match (integ.pcal.get(i), p.pcal.get(i)) {
                    (Some(a), Some(b)) if dt > 0.0 && a.norm() > 0.0 && b.norm() > 0.0 => {
                        let d = (a.arg() - b.arg()) as f64;
                        let d = d - std::f64::consts::TAU * (d / std::f64::consts::TAU).round();
                        d / (std::f64::consts::TAU * nu * dt)
                    }
                    _ => 0.0,
                }
            })),
            state: (0..npol)
                .map(|_| vec![[0.0f32; 4]; layout.bands.len()])
                .collect(),
        });
    }
    out
}

/// The tones of a comb (`offset + k·interval`) strictly inside (lo, hi).
pub fn comb_in(interval_hz: f64, offset_hz: f64, lo: f64, hi: f64) -> Vec<f64> {
    let mut k = ((lo - offset_hz) / interval_hz).floor();
    let mut out = Vec::new();
    loop {
        let f = offset_hz + k * interval_hz;
        if f >= hi {
            break;
        }
        if f > lo {
            out.push(f);
        }
        k += 1.0;
    }
    out
}

/// acc[i] += Σ over whole periods of x[i + k·len(acc)] (f32: the caller
/// adds a call's sums into f64).
fn fold_periods(x: &[f32], acc: &mut [f32]) {
    for chunk in x.chunks_exact(acc.len()) {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
}

/// Whether every flag is set (eight at a time).
fn all_set(v: &[bool]) -> bool {
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder().iter().all(|&b| b);
    rest && chunks.fold(true, |ok, c| ok & c.iter().fold(true, |a, &b| a & b))
}

/// Σx² with eight partial sums (so it vectorises).
fn sum_squares(x: &[f32]) -> f64 {
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().map(|&v| (v * v) as f64).sum();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k] * c[k];
        }
    }
    acc.iter().map(|&v| v as f64).sum::<f64>() + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tone A·cos(2π f t + φ) in white noise, folded and extracted,
    /// reads A·e^{iφ}: closed form, with the noise's scatter
    /// σ ≈ √(2/N) per component (real) as the bound.
    #[test]
    fn a_tone_in_noise_reads_its_injected_amplitude_and_phase() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let fs = 4_000_000.0;
        // Below fs/2: real samples alias what lies above.
        let tones = [(500_000.0, 0.05, 0.7), (1_500_000.0, 0.03, -2.2)];
        let p = fold_period(fs, &[5e5, 1.5e6]).unwrap();
        assert_eq!(p, 8);
        let n = 400_000usize;
        for complex in [false, true] {
            let mut fold = Fold::new(p, complex);
            let first = 123_457i64;
            let mut x = Vec::new();
            let mut valid = Vec::new();
            for k in 0..n {
                let t = (first + k as i64) as f64 / fs;
                let mut re: f64 = rng.random_range(-1.732..1.732);
                let mut im: f64 = rng.random_range(-1.732..1.732);
                for &(f, a, ph) in &tones {
                    let arg = std::f64::consts::TAU * (f * t).fract() + ph;
                    re += a * arg.cos();
                    im += a * arg.sin();
                }
                x.push(re as f32);
                if complex {
                    x.push(im as f32);
                }
                // Every 7th sample invalid (zeroed, as the reader does).
                let v = k % 7 != 3;
                valid.push(v);
                if !v {
                    let w = if complex { 2 } else { 1 };
                    let at = x.len() - w;
                    x[at..].iter_mut().for_each(|s| *s = 0.0);
                }
            }
            fold.add(&x, &valid, first);
            assert!((fold.valid_fraction() - 6.0 / 7.0).abs() < 1e-3);
            for &(f, a, ph) in &tones {
                let c = fold.tone(f, fs, 0.0).unwrap();
                let sigma = (2.0 / n as f64).sqrt() * if complex { 0.71 } else { 1.0 };
                let err = (c - Complex64::from_polar(a, ph)).norm();
                assert!(
                    err < 5.0 * sigma,
                    "complex {complex}, {f} Hz: {c} against {a}∠{ph} (σ {sigma:.2e})"
                );
            }
        }
    }

    #[test]
    fn fold_periods_follow_the_common_divisor() {
        assert_eq!(fold_period(32e6, &[1e6, 5e6, 9e6]), Some(32));
        // An LO offset of 2.5 kHz: gcd(32 MHz, 997.5 kHz, …) = 2.5 kHz.
        assert_eq!(fold_period(32e6, &[997_500.0, 1_997_500.0]), Some(12_800));
        assert_eq!(fold_period(32e6, &[1e6 + 0.5]), None);
        assert_eq!(fold_period(32e6, &[1.0]), None);
    }
}
