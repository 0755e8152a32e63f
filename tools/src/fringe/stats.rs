//! Detection statistics and formal errors of a fringe fit.
//!
//! With inverse-variance weights W_i = 1/σ_i² (σ_i per real/imaginary part,
//! see [`super::data`]), the coherent sum S = Σ W_i V_i e^{−iψ_i} has noise of
//! variance ΣW per component, so
//!
//! - SNR = |S| / sqrt(ΣW) = A·sqrt(ΣW), A = |S|/ΣW the fringe amplitude. For a
//!   correlation coefficient ρ over total bandwidth B and time T with uniform
//!   weights, ΣW = Σ 2·Δν·t = 2·B·T: SNR = ρ·sqrt(2·B·T) (Thompson, Moran &
//!   Swenson, 3rd ed., §9.3, for Nyquist-sampled real signals, no quantisation
//!   loss).
//! - Each visibility's phase has noise σ_i/A, so weighted least squares of
//!   phase on 2π(ν−ν_c)·τ gives σ_τ = 1/(2π·SNR·B_rms), B_rms² = ΣW(ν−ν_c)²/ΣW;
//!   on 2π·ν·(t−t_c)·ṫ it gives σ_ṫ = 1/(2π·SNR·(νt)_rms),
//!   (νt)_rms² = ΣW·ν²(t−t_c)²/ΣW; the phase at the centroid has σ_φ = 1/SNR.
//! - With no signal, SNR(τ, ṫ) = |S|/sqrt(ΣW) is a Rayleigh field (a χ² field
//!   of 2 degrees of freedom in SNR²) over the searched window. One cell alone
//!   exceeds x with probability exp(−x²/2), but the field is continuous and
//!   searched over a plane, so the expected number of excursions above x (its
//!   Euler characteristic, Worsley 1994, Adv. Appl. Prob. 26, 13; Adler &
//!   Taylor 2007, "Random Fields and Geometry", §15.10) is
//!
//!   E(x) = exp(−x²/2)·[1 + (L_τ + L_ṫ)·x/sqrt(2π) + L_τ·L_ṫ·(x² − 1)/(2π)],
//!
//!   L_τ = W_τ·2π·B_rms and L_ṫ = W_ṫ·2π·(νt)_rms, W the window widths (the
//!   field's correlation lengths are 1/(2π·B_rms) and 1/(2π·(νt)_rms)). The
//!   probability of false detection is PFD = 1 − exp(−E(x)). For one filled
//!   band of N_ch channels and N_t periods searched over the whole unambiguous
//!   range, L_τ·L_ṫ/(2π) = (π/6)·N_ch·N_t: the usual "N independent cells"
//!   formula 1 − (1 − exp(−x²/2))^N is too optimistic by a factor
//!   ~(π/6)(x² − 1) ≈ 20 at x = 6.5 (the tests check PFD is calibrated).

use std::f64::consts::PI;

/// Expected SNR of a correlation coefficient `rho` over `bandwidth_hz` and
/// `time_s` (module docs).
pub fn expected_snr(rho: f64, bandwidth_hz: f64, time_s: f64) -> f64 {
    rho * (2.0 * bandwidth_hz * time_s).sqrt()
}

/// σ_τ = 1/(2π·SNR·B_rms).
pub fn delay_sigma(snr: f64, b_rms_hz: f64) -> f64 {
    1.0 / (2.0 * PI * snr * b_rms_hz)
}

/// σ_ṫ = 1/(2π·SNR·(νt)_rms).
pub fn rate_sigma(snr: f64, nu_t_rms: f64) -> f64 {
    1.0 / (2.0 * PI * snr * nu_t_rms)
}

/// The searched window in units of the field's correlation lengths:
/// L_τ = W_τ·2π·B_rms and L_ṫ = W_ṫ·2π·(νt)_rms (module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchExtent {
    pub l_delay: f64,
    pub l_rate: f64,
}

impl SearchExtent {
    pub fn new(delay_width_s: f64, b_rms_hz: f64, rate_width: f64, nu_t_rms: f64) -> Self {
        SearchExtent {
            l_delay: delay_width_s * 2.0 * PI * b_rms_hz,
            l_rate: rate_width * 2.0 * PI * nu_t_rms,
        }
    }

    /// Expected Euler characteristic of the excursion set above `x` (module
    /// docs); for large x, the expected number of noise peaks above x.
    pub fn expected_excursions(&self, x: f64) -> f64 {
        let (a, b) = (self.l_delay, self.l_rate);
        (-0.5 * x * x).exp()
            * (1.0 + (a + b) * x / (2.0 * PI).sqrt() + a * b * (x * x - 1.0).max(0.0) / (2.0 * PI))
    }

    /// Probability that noise alone reaches an SNR of `snr` in the window.
    pub fn pfd(&self, snr: f64) -> f64 {
        (-(-self.expected_excursions(snr)).exp_m1()).clamp(0.0, 1.0)
    }

    /// The SNR at which [`SearchExtent::pfd`] equals `pfd_threshold`.
    pub fn snr_threshold(&self, pfd_threshold: f64) -> f64 {
        // pfd decreases monotonically for x >= 1: bisect.
        let (mut lo, mut hi) = (1.0, 40.0);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if self.pfd(mid) > pfd_threshold {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_inverts_pfd() {
        for (a, b) in [(0.0, 0.0), (50.0, 3.0), (800.0, 400.0)] {
            let e = SearchExtent {
                l_delay: a,
                l_rate: b,
            };
            for p in [1e-2, 1e-4, 1e-9] {
                let x = e.snr_threshold(p);
                assert!((e.pfd(x) / p - 1.0).abs() < 1e-6, "{a} {b} {p}");
            }
        }
        // A single cell: P = 1 − exp(−exp(−x²/2)) ≈ exp(−x²/2).
        let one = SearchExtent {
            l_delay: 0.0,
            l_rate: 0.0,
        };
        assert!((one.pfd(5.0) / (-12.5f64).exp() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn sigmas_are_the_closed_forms() {
        assert!((delay_sigma(10.0, 1e6) - 1.0 / (2.0 * PI * 1e7)).abs() < 1e-20);
        assert!((expected_snr(1e-3, 16e6, 100.0) - 1e-3 * 3.2e9f64.sqrt()).abs() < 1e-12);
    }
}
