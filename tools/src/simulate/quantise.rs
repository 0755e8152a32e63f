//! Quantisation to VDIF sample codes, with the thresholds that maximise the
//! signal-to-noise ratio for a Gaussian input of unit variance.
//!
//! Codes are VDIF's offset binary: 0 is the most negative level.
//! - 1 bit: sign (threshold 0); decoded levels ±1.
//! - 2 bit: thresholds 0, ±0.9816σ (Max 1960, the optimum 4-level quantiser;
//!   the decoded levels ±1, ±3.3359 are in the same 1 : 3.336 ratio as Max's
//!   optimum levels ±0.4528σ, ±1.510σ).
//! - 4 and 8 bit: uniform, step Δ minimising the mean-square error for a unit
//!   Gaussian (Max 1960: 0.3352σ for 16 levels; 0.030762σ for 256 levels,
//!   computed by the same criterion), decoded levels (code − (2^b − 1)/2)·Δ.

/// A quantiser for one bit width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantiser {
    pub bits: u32,
    /// Uniform step (4, 8 bit) or the outer threshold (2 bit), in σ.
    pub step: f32,
}

/// Max's optimum 2-bit threshold, σ.
pub const TWO_BIT_THRESHOLD: f32 = 0.9816;
/// Decoded magnitude of the outer 2-bit levels (the inner ones are 1).
pub const TWO_BIT_OUTER_LEVEL: f64 = 3.3359;
/// MSE-optimal uniform steps for 16 and 256 levels, σ.
pub const FOUR_BIT_STEP: f32 = 0.3352;
pub const EIGHT_BIT_STEP: f32 = 0.030_762;

impl Quantiser {
    /// The quantiser for `bits` ∈ {1, 2, 4, 8}.
    pub fn new(bits: u32) -> Option<Quantiser> {
        let step = match bits {
            1 => 0.0,
            2 => TWO_BIT_THRESHOLD,
            4 => FOUR_BIT_STEP,
            8 => EIGHT_BIT_STEP,
            _ => return None,
        };
        Some(Quantiser { bits, step })
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
                let t = self.step;
                for (c, &v) in codes.iter_mut().zip(x) {
                    *c = (v >= -t) as u8 + (v >= 0.0) as u8 + (v >= t) as u8;
                }
            }
            _ => {
                let half = (1u32 << (self.bits - 1)) as f32;
                let max = ((1u32 << self.bits) - 1) as f32;
                let inv = 1.0 / self.step;
                for (c, &v) in codes.iter_mut().zip(x) {
                    *c = (v * inv + half).floor().clamp(0.0, max) as u8;
                }
            }
        }
    }

    /// Decoded value of each code (what a VDIF decoder returns), in the
    /// conventional units (2-bit ±1, ±3.3359; others in σ).
    pub fn levels(&self) -> Vec<f64> {
        match self.bits {
            1 => vec![-1.0, 1.0],
            2 => vec![-TWO_BIT_OUTER_LEVEL, -1.0, 1.0, TWO_BIT_OUTER_LEVEL],
            b => {
                let n = 1usize << b;
                (0..n)
                    .map(|i| (i as f64 - (n as f64 - 1.0) / 2.0) * self.step as f64)
                    .collect()
            }
        }
    }

    /// Thresholds between codes i and i+1, in σ.
    pub fn thresholds(&self) -> Vec<f64> {
        match self.bits {
            1 => vec![0.0],
            2 => vec![-(self.step as f64), 0.0, self.step as f64],
            b => {
                let n = 1i64 << b;
                (1..n)
                    .map(|i| (i - n / 2) as f64 * self.step as f64)
                    .collect()
            }
        }
    }

    /// Correlation efficiency η = E[x·q(x)] / √E[q(x)²] for unit Gaussian x.
    ///
    /// For two stations with small correlation ρ of their unquantised
    /// voltages, the correlation coefficient of the decoded samples is
    /// ρ·η_A·η_B + O(ρ³) (first Hermite term of the bivariate Gaussian;
    /// Price's theorem). η = √(2/π) = 0.7979 for 1 bit, 0.9395 for 2 bit.
    pub fn efficiency(&self) -> f64 {
        let levels = self.levels();
        let mut edges = vec![f64::NEG_INFINITY];
        edges.extend(self.thresholds());
        edges.push(f64::INFINITY);
        let (mut xq, mut qq) = (0.0, 0.0);
        for (i, l) in levels.iter().enumerate() {
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
        // Uniform MSE-optimal quantisers: η² = 1 − D/σ² with D Max's distortion
        // (16 levels: 0.01154; 256: ≈ 8.8e-5).
        let e4 = Quantiser::new(4).unwrap().efficiency();
        assert!((e4 * e4 - (1.0 - 0.01154)).abs() < 2e-4, "{}", e4 * e4);
        let e8 = Quantiser::new(8).unwrap().efficiency();
        assert!((e8 * e8 - (1.0 - 8.77e-5)).abs() < 1e-5, "{}", e8 * e8);
    }

    #[test]
    fn codes_follow_the_thresholds() {
        let q = Quantiser::new(2).unwrap();
        let x = [-2.0, -0.9817, -0.9815, -1e-9, 0.0, 0.98, 0.9816, 5.0];
        let mut c = [0u8; 8];
        q.quantise(&x, &mut c);
        assert_eq!(c, [0, 0, 1, 1, 2, 2, 3, 3]);
        let q = Quantiser::new(4).unwrap();
        let x = [-100.0, -0.1, 0.1, 0.34, 100.0];
        let mut c = [0u8; 5];
        q.quantise(&x, &mut c);
        assert_eq!(c, [0, 7, 8, 9, 15]);
        let q = Quantiser::new(8).unwrap();
        let mut c = [0u8; 3];
        q.quantise(&[-10.0, 0.0, 10.0], &mut c);
        assert_eq!(c, [0, 128, 255]);
        assert!(Quantiser::new(3).is_none());
    }

    #[test]
    fn the_cdf_is_right() {
        // Φ(1) = 0.8413447460685429, Φ(−1.96) = 0.024997895148220435.
        assert!((gauss_cdf(1.0) - 0.841_344_746_068_542_9).abs() < 1e-13);
        assert!((gauss_cdf(-1.96) - 0.024_997_895_148_220_435).abs() < 1e-13);
    }
}
