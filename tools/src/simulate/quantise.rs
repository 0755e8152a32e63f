//! Quantisation to VDIF sample codes for a Gaussian input of unit variance,
//! matched to the levels emcorr's VDIF decoder gives back
//! (`formats::vdif::Levels::standard`).
//!
//! Codes are VDIF's offset binary: 0 is the most negative level.
//! - 1 bit: sign (threshold 0); decoded ±1.
//! - 2 bit: thresholds 0, ±0.9816σ, the optimum of four-level sampling with
//!   decoded levels ±1, ±3.3359 (Thompson, Moran & Swenson ch. 8: η² = 0.8825;
//!   Max 1960 gives the same 0.9816σ for the MSE-optimal 4-level quantiser).
//! - 4 and 8 bit: the decoder's levels are in units of σ (mark5access/DiFX:
//!   (code − 8)/2.95 and (code − 127.5)/35.5), so the thresholds are the
//!   midpoints between them (nearest level). Their steps, 0.339σ and 0.0282σ,
//!   are close to the MSE-optimal uniform steps (0.3352σ, 0.0308σ; Max 1960)
//!   and lose < 4e-4 in η² to them; matching the decoder keeps the decoded
//!   samples unbiased and at unit variance.

use formats::vdif::Levels;

/// A quantiser for one bit width.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantiser {
    pub bits: u32,
    /// Decoded value of each code.
    levels: Vec<f64>,
    /// Threshold between codes i and i + 1, in σ.
    thresholds: Vec<f64>,
    /// 4/8 bit: code = floor(x·scale + offset), clamped.
    scale: f32,
    offset: f32,
}

/// The optimum 2-bit threshold, σ.
pub const TWO_BIT_THRESHOLD: f32 = 0.9816;

impl Quantiser {
    /// The quantiser for `bits` ∈ {1, 2, 4, 8}.
    pub fn new(bits: u32) -> Option<Quantiser> {
        if ![1, 2, 4, 8].contains(&bits) {
            return None;
        }
        let levels: Vec<f64> = Levels::standard()
            .table(bits as u8)
            .iter()
            .map(|&l| l as f64)
            .collect();
        let t = TWO_BIT_THRESHOLD as f64;
        let thresholds = match bits {
            1 => vec![0.0],
            2 => vec![-t, 0.0, t],
            _ => levels.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect(),
        };
        // Uniform levels l_c = l_0 + c·Δ: code c from x ≥ l_0 + (c − ½)Δ.
        // (Step from the whole span: the f32 table's rounding then moves the
        // thresholds by < 1e-7σ.)
        let step = (levels[levels.len() - 1] - levels[0]) / (levels.len() - 1) as f64;
        Some(Quantiser {
            bits,
            scale: (1.0 / step) as f32,
            offset: (0.5 - levels[0] / step) as f32,
            levels,
            thresholds,
        })
    }

    /// Codes for `x` (unit-variance values) into `codes`.
    pub fn quantise(&self, x: &[f32], codes: &mut [u8]) {
        assert_eq!(x.len(), codes.len());
        match self.bits {
            1 => {
                for (c, &v) in codes.iter_mut().zip(x) {
                    *c = (v >= 0.0) as u8;
                }
            }
            2 => {
                let t = TWO_BIT_THRESHOLD;
                for (c, &v) in codes.iter_mut().zip(x) {
                    *c = (v >= -t) as u8 + (v >= 0.0) as u8 + (v >= t) as u8;
                }
            }
            _ => {
                let max = ((1u32 << self.bits) - 1) as f32;
                let (scale, offset) = (self.scale, self.offset);
                for (c, &v) in codes.iter_mut().zip(x) {
                    *c = (v * scale + offset).floor().clamp(0.0, max) as u8;
                }
            }
        }
    }

    /// Decoded value of each code (emcorr's VDIF decoder).
    pub fn levels(&self) -> &[f64] {
        &self.levels
    }

    /// Thresholds between codes i and i+1, in σ.
    pub fn thresholds(&self) -> &[f64] {
        &self.thresholds
    }

    /// Correlation efficiency η = E[x·q(x)] / √E[q(x)²] for unit Gaussian x
    /// and the decoded levels q.
    ///
    /// For two stations with small correlation ρ of their unquantised
    /// voltages, the correlation coefficient of the decoded samples is
    /// ρ·η_A·η_B + O(ρ³) (first Hermite term of the bivariate Gaussian;
    /// Price's theorem). η = √(2/π) = 0.7979 for 1 bit, 0.9394 for 2 bit.
    pub fn efficiency(&self) -> f64 {
        let mut edges = vec![f64::NEG_INFINITY];
        edges.extend(self.thresholds.iter().copied());
        edges.push(f64::INFINITY);
        let (mut xq, mut qq) = (0.0, 0.0);
        for (i, l) in self.levels.iter().enumerate() {
            let (a, b) = (edges[i], edges[i + 1]);
            // ∫_a^b x φ(x) dx = φ(a) − φ(b).
            xq += l * (gauss_pdf(a) - gauss_pdf(b));
            qq += l * l * (gauss_cdf(b) - gauss_cdf(a));
        }
        xq / qq.sqrt()
    }
}

/// Standard normal density (0 at ±∞).
pub fn gauss_pdf(x: f64) -> f64 {
    if x.is_finite() {
        (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
    } else {
        0.0
    }
}

/// Standard normal distribution function: 1/2 + ∫₀ˣ φ, composite Simpson with
/// 4000 intervals (error < 1e-14 for |x| ≤ 10; exact limits beyond).
pub fn gauss_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x >= 10.0 {
        return 1.0;
    }
    if x <= -10.0 {
        return 0.0;
    }
    let n = 4000;
    let h = x / n as f64;
    let mut s = gauss_pdf(0.0) + gauss_pdf(x);
    for i in 1..n {
        s += gauss_pdf(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    0.5 + s * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efficiencies_match_the_literature() {
        // 1 bit: √(2/π) (Van Vleck). 2 bit with n = 3.3359, v0 = 0.9816:
        // η² = 0.8825 (Thompson, Moran & Swenson, table 8.1).
        let e1 = Quantiser::new(1).unwrap().efficiency();
        assert!((e1 - (2.0 / std::f64::consts::PI).sqrt()).abs() < 1e-12);
        let e2 = Quantiser::new(2).unwrap().efficiency();
        assert!((e2 * e2 - 0.8825).abs() < 1e-4, "{}", e2 * e2);
        // Uniform quantisers near the MSE optimum: η² ≈ 1 − D with Max's
        // distortion D (16 levels 0.01154, 256 levels 8.8e-5); the decoder's
        // steps lose a little (computed independently with Python's math.erfc:
        // 0.988136 and 0.999896).
        let e4 = Quantiser::new(4).unwrap().efficiency();
        assert!((e4 * e4 - 0.988_136).abs() < 2e-6, "{}", e4 * e4);
        assert!(e4 * e4 < 1.0 - 0.01154 && e4 * e4 > 1.0 - 0.01154 - 4e-4);
        let e8 = Quantiser::new(8).unwrap().efficiency();
        assert!((e8 * e8 - 0.999_896).abs() < 2e-6, "{}", e8 * e8);
    }

    #[test]
    fn codes_follow_the_thresholds() {
        let q = Quantiser::new(2).unwrap();
        let x = [-2.0, -0.9817, -0.9815, -1e-9, 0.0, 0.98, 0.9816, 5.0];
        let mut c = [0u8; 8];
        q.quantise(&x, &mut c);
        assert_eq!(c, [0, 0, 1, 1, 2, 2, 3, 3]);
        // 4 bit: nearest of (c − 8)/2.95.
        let q = Quantiser::new(4).unwrap();
        let x = [-100.0, -0.1, 0.1, 0.2, 0.34, 100.0];
        let mut c = [0u8; 6];
        q.quantise(&x, &mut c);
        assert_eq!(c, [0, 8, 8, 9, 9, 15]);
        // 8 bit: nearest of (c − 127.5)/35.5.
        let q = Quantiser::new(8).unwrap();
        let mut c = [0u8; 4];
        q.quantise(&[-10.0, -0.001, 0.001, 10.0], &mut c);
        assert_eq!(c, [0, 127, 128, 255]);
        assert!(Quantiser::new(3).is_none());
    }

    #[test]
    fn codes_agree_with_the_vdif_encoder() {
        // The decoder's levels are σ units for 4 and 8 bits: the VDIF
        // encoder (nearest level) must give our codes.
        for bits in [4u32, 8] {
            let q = Quantiser::new(bits).unwrap();
            let enc = formats::vdif::Encoder::new(bits as u8, &Levels::standard());
            let x: Vec<f32> = (0..20_000)
                .map(|i| (i as f32 - 10_000.0) * 0.000_61)
                .collect();
            let mut c = vec![0u8; x.len()];
            q.quantise(&x, &mut c);
            for (v, code) in x.iter().zip(&c) {
                // (Values within rounding of a threshold may go either way.)
                if q.thresholds().iter().any(|t| (*v as f64 - t).abs() < 1e-5) {
                    continue;
                }
                assert_eq!(enc.code(*v), *code, "{bits} bits at {v}");
            }
        }
    }

    #[test]
    fn the_cdf_is_right() {
        // Φ(1) = 0.8413447460685429, Φ(−1.96) = 0.024997895148220435.
        assert!((gauss_cdf(1.0) - 0.841_344_746_068_542_9).abs() < 1e-13);
        assert!((gauss_cdf(-1.96) - 0.024_997_895_148_220_435).abs() < 1e-13);
    }
}
