//! Accumulation over an integration, data weights, normalisation and the
//! quantisation (Van Vleck) correction.
//!
//! Weights: a block of a station's subband is used only if every one of its
//! N samples is valid (samples of invalid or missing frames are zeroed and
//! their blocks excluded whole, so a partly missing block cannot bias the
//! amplitude). A product A,p × B,q accumulates the blocks where both are
//! used; its weight is that count over the integration's blocks.
//!
//! Normalisation: V_j = ⟨X_A X_B*⟩_j / √(P_A P_B), P the band-mean of the
//! station's autocorrelation over its own used blocks; so V is a correlation
//! coefficient. Autocorrelations are normalised the same way (mean 1).
//!
//! Quantisation: for Gaussian signals quantised with thresholds ±v₀ (2-bit:
//! levels ±l inside, ±h outside; 1-bit: ±l), the correlation of the
//! quantised signals is, for |ρ| ≪ 1, ρ_q = g_A g_B ρ with
//! g = E[x Q(x)] / (σ `√E[Q²]`) (Bussgang / Price). For 2 bits with a = v₀/σ:
//! `E[xQ]/σ` = √(2/π)·(l + (h − l)·e^{−a²/2}) and `E[Q²]` = (1 − p) l² + p h²,
//! p = erfc(a/√2) the fraction of outer-level samples. p (and so a) is read
//! off the measured ⟨x²⟩ of each station and subband per integration; at the
//! optimum a = 0.98, h/l = 3.336, g² = 0.883. 1 bit: g² = 2/π. More bits or
//! float samples: no correction. Cross-correlations are divided by g_A g_B;
//! autocorrelations are not corrected.

use super::plan::Layout;
use crate::job::Sideband;
use formats::UtcTime;
use num_complex::Complex32;

/// The quantiser a station's samples went through.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Quantiser {
    /// Float or ≥ 3-bit data: no correction.
    #[default]
    None,
    /// 1 bit: g² = 2/π.
    OneBit,
    /// 2 bits decoded to ±low and ±high.
    TwoBit { low: f32, high: f32 },
}

impl Quantiser {
    /// g: the factor by which this station scales the correlation
    /// coefficient, given the mean power ⟨x²⟩ of its valid samples.
    pub fn gain(self, mean_power: f64) -> f64 {
        match self {
            Quantiser::None => 1.0,
            Quantiser::OneBit => (2.0 / std::f64::consts::PI).sqrt(),
            Quantiser::TwoBit { low, high } => {
                let (l, h) = (low as f64, high as f64);
                if !(mean_power.is_finite() && h > l && l > 0.0) {
                    return 1.0;
                }
                let p = ((mean_power - l * l) / (h * h - l * l)).clamp(1e-9, 1.0 - 1e-9);
                let a = threshold_for_outer_fraction(p);
                let exq =
                    (2.0 / std::f64::consts::PI).sqrt() * (l + (h - l) * (-a * a / 2.0).exp());
                let eq2 = (1.0 - p) * l * l + p * h * h;
                exq / eq2.sqrt()
            }
        }
    }
}

/// erfc by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), x ≥ 0.
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    poly * (-x * x).exp()
}

/// a = v₀/σ such that P(|x| > v₀) = erfc(a/√2) = p (bisection; erfc falls).
fn threshold_for_outer_fraction(p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 12.0f64);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if erfc(mid / std::f64::consts::SQRT_2) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Correlation sums over some blocks: per product the cross-power and the
/// blocks used, per station and subband the power, each per phase centre
/// (the centre's blocks are other samples of the recording). In f32 for
/// one work unit ([`UnitAcc`], identical whichever thread computed it), in
/// f64 for an integration ([`IntegrationAcc`]).
#[derive(Debug, Clone)]
pub struct Sums<T, N> {
    /// `[centre][baseline][band][product][chan]`
    pub re: Vec<T>,
    pub im: Vec<T>,
    /// Blocks used per `[centre][baseline][band][product]`.
    pub used: Vec<N>,
    /// Σx² and samples counted per `[centre][station][job subband]` (used
    /// blocks).
    pub power: Vec<f64>,
    pub power_samples: Vec<u64>,
    span: BandSpan,
}

/// Sums of one work unit (a few consecutive blocks).
pub type UnitAcc = Sums<f32, u32>;

/// Where one band of one baseline lies in the accumulators: a work unit
/// touches only its own bands, so clearing and adding go band by band (a
/// unit of one band of eight would otherwise spend most of its time
/// clearing and adding the seven others' zeros).
#[derive(Debug, Clone, Copy)]
struct BandSpan {
    nbands: usize,
    products: usize,
    nchan: usize,
}

impl BandSpan {
    fn new(layout: &Layout) -> Self {
        BandSpan {
            nbands: layout.bands.len(),
            products: layout.products.len(),
            nchan: layout.fft_nchan,
        }
    }

    /// Index ranges in `used` of the (centre and baseline, band) pairs of
    /// the active bands (`re`/`im`: the same × nchan).
    fn ranges<'a>(
        &self,
        len: usize,
        bands: &'a [bool],
    ) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
        let (nb, p) = (self.nbands, self.products);
        let per_bl = nb * p;
        (0..len / per_bl.max(1)).flat_map(move |bl| {
            bands
                .iter()
                .enumerate()
                .filter(|(_, &on)| on)
                .map(move |(b, _)| {
                    let k = (bl * nb + b) * p;
                    k..k + p
                })
        })
    }
}

impl<T: Copy + Default, N: Copy + Default> Sums<T, N> {
    pub fn new(layout: &Layout, nsub: usize) -> Self {
        let nc = layout.centres.len();
        let np = nc * layout.baselines.len() * layout.bands.len() * layout.products.len();
        let ns = nc * layout.stations.len() * nsub;
        Sums {
            re: vec![T::default(); np * layout.fft_nchan],
            im: vec![T::default(); np * layout.fft_nchan],
            used: vec![N::default(); np],
            power: vec![0.0; ns],
            power_samples: vec![0; ns],
            span: BandSpan::new(layout),
        }
    }

    /// Zero the sums of the active `bands` (per layout band) and all the
    /// power sums; the other bands' sums are left as they are (a unit does
    /// not read them; an integration's stay zero until a unit adds them).
    pub fn clear(&mut self, bands: &[bool]) {
        let nch = self.span.nchan;
        for r in self.span.ranges(self.used.len(), bands) {
            self.used[r.clone()].fill(N::default());
            self.re[r.start * nch..r.end * nch].fill(T::default());
            self.im[r.start * nch..r.end * nch].fill(T::default());
        }
        self.power.fill(0.0);
        self.power_samples.fill(0);
    }
}

/// One integration's sums in f64, units added in a fixed order.
#[derive(Debug, Clone)]
pub struct IntegrationAcc {
    sums: Sums<f64, u64>,
    /// Blocks of the integration processed so far.
    pub blocks: u64,
}

/// One integration of correlator output, every phase centre of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    /// 0-based integration number.
    pub index: u64,
    /// Geocentric UTC of the integration's centre.
    pub time: UtcTime,
    /// Integration time (blocks × block duration).
    pub inttim_s: f64,
    /// Correlation coefficients, `[centre][baseline][band][chan][product]`
    /// (see [`Layout::vis_index`]; centres as [`Layout::centres`]);
    /// sky-frequency sign convention for LSB too.
    pub vis: Vec<Complex32>,
    /// Fraction of the integration's data used,
    /// `[centre][baseline][band][product]`.
    pub weights: Vec<f32>,
    /// Phase-cal tones, `[station][job subband][slot]` (slots:
    /// [`Layout::pcal_slots`], tones as [`Layout::pcal_tones`]; see
    /// [`crate::engine::pcal`] for the convention); empty without tones.
    pub pcal: Vec<Complex32>,
    /// Fraction of valid samples behind each (station, subband)'s tones.
    pub pcal_valid: Vec<f32>,
}

impl IntegrationAcc {
    pub fn new(layout: &Layout, nsub: usize) -> Self {
        IntegrationAcc {
            sums: Sums::new(layout, nsub),
            blocks: 0,
        }
    }

    /// Zero the active `bands` and the power sums, for the next integration.
    pub fn clear(&mut self, bands: &[bool]) {
        self.sums.clear(bands);
        self.blocks = 0;
    }

    /// Add one unit of `blocks` blocks, its active `bands` only.
    pub fn add(&mut self, u: &UnitAcc, blocks: u64, bands: &[bool]) {
        let nch = self.sums.span.nchan;
        for r in self.sums.span.ranges(self.sums.used.len(), bands) {
            let c = r.start * nch..r.end * nch;
            for (s, x) in self.sums.re[c.clone()].iter_mut().zip(&u.re[c.clone()]) {
                *s += *x as f64;
            }
            for (s, x) in self.sums.im[c.clone()].iter_mut().zip(&u.im[c]) {
                *s += *x as f64;
            }
            for (s, x) in self.sums.used[r.clone()].iter_mut().zip(&u.used[r]) {
                *s += *x as u64;
            }
        }
        for (s, x) in self.sums.power.iter_mut().zip(&u.power) {
            *s += *x;
        }
        for (s, x) in self.sums.power_samples.iter_mut().zip(&u.power_samples) {
            *s += *x;
        }
        self.blocks += blocks;
    }

    /// Whether station `s` (of `nstations`) had a used block in some
    /// subband for every phase centre: a centre without it has no data
    /// from the station there.
    pub fn station_has_data(&self, s: usize, nstations: usize, nsub: usize) -> bool {
        self.sums
            .power_samples
            .chunks_exact(nstations * nsub)
            .all(|centre| centre[s * nsub..(s + 1) * nsub].iter().any(|&n| n > 0))
    }

    /// Normalised, quantisation-corrected visibilities and weights, every
    /// phase centre normalised by its own autocorrelations and power (so a
    /// centre's output does not depend on the others).
    /// `quant[s]` is station s's quantiser; `nsub` the job's subband count.
    pub fn finish(
        &self,
        layout: &Layout,
        nsub: usize,
        quant: &[Quantiser],
        index: u64,
        time: UtcTime,
    ) -> Integration {
        let nb = layout.bands.len();
        let npr = layout.products.len();
        let nch = layout.fft_nchan;
        // Output channel j is the mean of FFT channels j·m … j·m + m − 1.
        let m = layout.chans_averaged();
        let nbl = layout.baselines.len();
        let nst = layout.stations.len();
        let nc = layout.centres.len();
        let mut vis = vec![Complex32::new(0.0, 0.0); nc * layout.vis_per_centre()];
        let mut weights = vec![0.0f32; nc * layout.weights_per_centre()];
        let acc_index = |c: usize, bl: usize, band: usize, prod: usize| {
            ((c * nbl + bl) * nb + band) * npr + prod
        };
        // Band-mean autocorrelation power per block, centre c, station s
        // and pol p of band.
        let auto_power = |c: usize, s: usize, band: usize, pol: usize| -> f64 {
            let bl = layout
                .baselines
                .iter()
                .position(|&(a, b)| a == s && b == s)
                .expect("autocorrelations are in the layout");
            let prod = layout
                .products
                .iter()
                .position(|p| p.pol_a == pol && p.pol_b == pol)
                .expect("parallel hands are in the layout");
            let k = acc_index(c, bl, band, prod);
            let n = self.sums.used[k];
            if n == 0 {
                return 0.0;
            }
            let sum: f64 = self.sums.re[k * nch..(k + 1) * nch].iter().sum();
            sum / (n as f64 * nch as f64)
        };
        let gain = |c: usize, s: usize, sub: usize| -> f64 {
            let i = (c * nst + s) * nsub + sub;
            let n = self.sums.power_samples[i];
            if n == 0 {
                1.0
            } else {
                quant[s].gain(self.sums.power[i] / n as f64)
            }
        };
        for c in 0..nc {
            for (bl, &(a, b)) in layout.baselines.iter().enumerate() {
                for (band_i, band) in layout.bands.iter().enumerate() {
                    for (pi, prod) in layout.products.iter().enumerate() {
                        let k = acc_index(c, bl, band_i, pi);
                        let n = self.sums.used[k];
                        let pa = auto_power(c, a, band_i, prod.pol_a);
                        let pb = auto_power(c, b, band_i, prod.pol_b);
                        if n == 0 || pa <= 0.0 || pb <= 0.0 {
                            continue;
                        }
                        let mut scale = 1.0 / (n as f64 * (pa * pb).sqrt());
                        if a != b {
                            scale /= gain(c, a, band.subbands[prod.pol_a])
                                * gain(c, b, band.subbands[prod.pol_b]);
                        }
                        // LSB: the baseband spectra hold the conjugate of the sky's.
                        let conj = if band.sideband == Sideband::Lower {
                            -1.0
                        } else {
                            1.0
                        };
                        let (re, im) = (
                            &self.sums.re[k * nch..(k + 1) * nch],
                            &self.sums.im[k * nch..(k + 1) * nch],
                        );
                        if m == 1 {
                            for j in 0..nch {
                                let v = Complex32::new(
                                    (re[j] * scale) as f32,
                                    (conj * im[j] * scale) as f32,
                                );
                                vis[layout.vis_index(c, bl, band_i, j, pi)] = v;
                            }
                        } else {
                            let s = scale / m as f64;
                            for (j, (gr, gi)) in
                                re.chunks_exact(m).zip(im.chunks_exact(m)).enumerate()
                            {
                                let v = Complex32::new(
                                    (gr.iter().sum::<f64>() * s) as f32,
                                    (conj * gi.iter().sum::<f64>() * s) as f32,
                                );
                                vis[layout.vis_index(c, bl, band_i, j, pi)] = v;
                            }
                        }
                        weights[layout.weight_index(c, bl, band_i, pi)] =
                            (n as f64 / self.blocks.max(1) as f64) as f32;
                    }
                }
            }
        }
        Integration {
            index,
            time,
            inttim_s: self.blocks as f64 * layout.block_s(),
            vis,
            weights,
            pcal: Vec::new(),
            pcal_valid: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_bit_gain_at_the_optimum_threshold_is_the_textbook_value() {
        // At v0 = 0.98σ with levels ±1, ±3.3359 the 2-bit efficiency
        // (Thompson, Moran & Swenson, table 8.1) is 0.8825 = g².
        let a: f64 = 0.98;
        let p = erfc(a / std::f64::consts::SQRT_2);
        let h = 3.3359f64;
        let power = (1.0 - p) + p * h * h;
        let g = Quantiser::TwoBit {
            low: 1.0,
            high: h as f32,
        }
        .gain(power);
        assert!((g * g - 0.8825).abs() < 0.001, "g² = {}", g * g);
        assert!((erfc(0.5) - 0.479_500_122).abs() < 2e-7);
    }
}
