//! Fine fit around the coarse peak: parabolic interpolation of the amplitude,
//! then linearised weighted least squares on the phases (Gauss–Newton).
//!
//! Model, with ν_c and t_c the weighted mean frequency and time (they make the
//! phase, delay and rate estimates uncorrelated):
//!
//! V(ν, t) = A·exp(i·ψ),  ψ = φ_c + 2π(ν − ν_c)·τ + 2π·ν·ṫ·(t − t_c)
//!
//! i.e. a residual delay τ(t) = τ + ṫ·(t − t_c) seen at every frequency. Each
//! iteration counter-rotates the data by the current (τ, ṫ), takes φ_c from
//! the coherent sum, and solves for (δφ, δτ, δṫ) from the residual phases,
//! Im(V·e^{−iψ})/A, weighted by W·A². Its fixed point is the maximum of the
//! coherent amplitude, the maximum-likelihood estimate for Gaussian noise.

use super::data::{BaselineData, DataError, FxChannels, Point};
use super::search::{coarse_search, CoarsePeak, SearchError, SearchWindow};
use super::stats;
use correlator::job::Window;
use formats::UtcTime;
use num_complex::Complex64;
use std::f64::consts::PI;

/// How to fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    pub window: SearchWindow,
    /// A fringe is "detected" when its probability of false detection is
    /// below this.
    pub pfd_threshold: f64,
    pub noise: NoiseModel,
}

/// Where the noise level behind SNR and formal errors comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoiseModel {
    /// σ = 1/sqrt(2·Δν·t·w) per component: visibilities are correlation
    /// coefficients (see [`super::data`]).
    #[default]
    Radiometer,
    /// The radiometer σ scaled by the rms of the fit residuals
    /// ([`FringeSolution::noise_ratio`]): for data in other units, or with
    /// extra noise. Residual structure (bandpass ripple on a strong source)
    /// counts as noise here.
    Empirical,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            window: SearchWindow::default(),
            pfd_threshold: 1e-4,
            noise: NoiseModel::Radiometer,
        }
    }
}

/// Result of fringe-fitting one baseline over one scan or interval.
///
/// Delays and rates are residuals (true − model) of station B relative to A;
/// they and the phase refer to `ref_epoch` (geocentre time) and, for the
/// phase, to `ref_freq_hz`.
#[derive(Debug, Clone, PartialEq)]
pub struct FringeSolution {
    pub baseline: String,
    pub ref_epoch: UtcTime,
    pub ref_freq_hz: f64,
    /// Group delay from all channels of all subbands (s), and its formal error.
    pub mbd_s: f64,
    pub mbd_sigma_s: f64,
    /// The part of `mbd_sigma_s` that phase-cal tones' noise brings
    /// (`--pcal`; added in quadrature by the caller, 0 otherwise).
    pub mbd_cal_sigma_s: f64,
    /// Single-band delay: for one subband its delay; for several, the
    /// inverse-variance mean of their separate fits (None until combined by
    /// [`fit_with_subbands`]).
    pub sbd_s: f64,
    pub sbd_sigma_s: f64,
    /// Delay rate (s/s) and its formal error.
    pub rate: f64,
    pub rate_sigma: f64,
    /// Fringe phase at `ref_epoch` and `ref_freq_hz` (rad, in (−π, π]).
    pub phase_rad: f64,
    pub phase_sigma_rad: f64,
    /// Fringe amplitude: the coherent mean |S|/ΣW divided by
    /// `smearing_loss`, i.e. the correlation coefficient the source has.
    pub amplitude: f64,
    /// Amplitude lost to the residual rate and delay: the weighted mean over
    /// visibilities of sinc(ν·ṫ·t_int) (sinc x = sin πx/πx; the phase winding
    /// inside each accumulation period) times [`fx_delay_loss`] (the FFT
    /// blocks' partial overlap at the residual delay τ(t), and the phase
    /// slope across averaged FFT channels). Known from the fit, so divided
    /// out of `amplitude`; the SNR is as measured.
    pub smearing_loss: f64,
    pub snr: f64,
    /// rms of the residuals V − model over the radiometer σ (reduced χ² of
    /// the fit, square-rooted): ~1 for correlation coefficients with thermal
    /// noise. SNR and errors are divided/multiplied by it with
    /// [`NoiseModel::Empirical`].
    pub noise_ratio: f64,
    /// Probability of false detection, and the SNR at which it equals the
    /// threshold.
    pub pfd: f64,
    pub snr_threshold: f64,
    pub detected: bool,
    /// Weighted rms frequency spread (Hz) and rms of ν·(t − t_c) (Hz·s).
    pub b_rms_hz: f64,
    pub nu_t_rms: f64,
    /// The searched window in correlation lengths (for the PFD).
    pub extent: stats::SearchExtent,
    /// Time span covered, first period start to last period end (s).
    pub duration_s: f64,
    pub n_periods: usize,
    pub coarse: CoarsePeak,
}

/// Why a fit could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Maximum Gauss–Newton iterations.
const MAX_ITER: usize = 30;

/// Coherent sum Σ W·V·e^{−iψ} with φ_c = 0.
fn coherent_sum(pts: &[Point], nu_c: f64, t_c: f64, tau: f64, rate: f64) -> Complex64 {
    let mut s = Complex64::new(0.0, 0.0);
    for p in pts {
        let psi = 2.0 * PI * ((p.freq_hz - nu_c) * tau + p.freq_hz * rate * (p.t_s - t_c));
        s += p.vis * Complex64::from_polar(p.w, -psi);
    }
    s
}

/// Vertex offset of a parabola through (−1, am), (0, a0), (1, ap), in [−1, 1].
fn parabola_vertex(am: f64, a0: f64, ap: f64) -> f64 {
    let den = am - 2.0 * a0 + ap;
    if den < 0.0 {
        (0.5 * (am - ap) / den).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Solve the 3×3 system `n·x = b` (symmetric, positive definite), with
/// Jacobi scaling since the columns differ by many orders of magnitude.
fn solve3(n: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let d: Vec<f64> = (0..3).map(|i| n[i][i].sqrt()).collect();
    if d.iter().any(|&x| x.is_nan() || x <= 0.0) {
        return None;
    }
    let mut m = [[0.0; 4]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = n[i][j] / (d[i] * d[j]);
        }
        m[i][3] = b[i] / d[i];
    }
    for c in 0..3 {
        let piv = (c..3)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap_or(c);
        m.swap(c, piv);
        if m[c][c].abs() < 1e-14 {
            return None;
        }
        for r in 0..3 {
            if r != c {
                let f = m[r][c] / m[c][c];
                let pivot_row = m[c];
                for (x, p) in m[r].iter_mut().zip(pivot_row).skip(c) {
                    *x -= f * p;
                }
            }
        }
    }
    Some([
        m[0][3] / m[0][0] / d[0],
        m[1][3] / m[1][1] / d[1],
        m[2][3] / m[2][2] / d[2],
    ])
}

/// Fringe-fit one baseline over the whole of `data` (all subbands together).
pub fn fit_baseline(data: &BaselineData, opts: &FitOptions) -> Result<FringeSolution, FitError> {
    let pts = data.points();
    let (peak, _) = coarse_search(data, &opts.window, false)?;
    let w_sum: f64 = pts.iter().map(|p| p.w).sum();
    let nu_c = pts.iter().map(|p| p.w * p.freq_hz).sum::<f64>() / w_sum;
    let t_c = pts.iter().map(|p| p.w * p.t_s).sum::<f64>() / w_sum;
    let amp_at = |tau: f64, rate: f64| coherent_sum(&pts, nu_c, t_c, tau, rate).norm();

    // The coarse delay is referred to the lowest channel and the grid's first
    // period, the fit to (ν_c, t_c): the same τ and ṫ, so no conversion.
    let (mut tau, mut rate) = (peak.delay_s, peak.rate);
    let a0 = amp_at(tau, rate);
    tau += peak.delay_step_s
        * parabola_vertex(
            amp_at(tau - peak.delay_step_s, rate),
            a0,
            amp_at(tau + peak.delay_step_s, rate),
        );
    let b_rms_hz = (pts
        .iter()
        .map(|p| p.w * (p.freq_hz - nu_c).powi(2))
        .sum::<f64>()
        / w_sum)
        .sqrt();
    let nu_t_rms = (pts
        .iter()
        .map(|p| p.w * (p.freq_hz * (p.t_s - t_c)).powi(2))
        .sum::<f64>()
        / w_sum)
        .sqrt();

    // One period (no spread of ν·(t − t_c)): the data say nothing about the
    // rate, which stays at the coarse value (zero unless the window excludes
    // it) and is not carried into the phase or delay (see below).
    let rate_free = (2.0 * PI * nu_t_rms).powi(2) <= 1e-12;
    if !rate_free {
        let a0 = amp_at(tau, rate);
        rate += peak.rate_step
            * parabola_vertex(
                amp_at(tau, rate - peak.rate_step),
                a0,
                amp_at(tau, rate + peak.rate_step),
            );
    }

    // Gauss–Newton on the phases, with step halving if |S| would drop. Steps
    // are at most one coarse cell, and the solution stays within the searched
    // window (widened by one cell), so the fit cannot climb to a fringe
    // outside it.
    let inside = |tau: f64, rate: f64| {
        tau >= peak.delay_range_s.0 - peak.delay_step_s
            && tau <= peak.delay_range_s.1 + peak.delay_step_s
            && rate >= peak.rate_range.0 - peak.rate_step
            && rate <= peak.rate_range.1 + peak.rate_step
    };
    let mut s = coherent_sum(&pts, nu_c, t_c, tau, rate);
    for _ in 0..MAX_ITER {
        let amp = s.norm() / w_sum;
        let rot = Complex64::from_polar(1.0, -s.arg());
        let mut n = [[0.0; 3]; 3];
        let mut b = [0.0; 3];
        for p in &pts {
            let psi = 2.0 * PI * ((p.freq_hz - nu_c) * tau + p.freq_hz * rate * (p.t_s - t_c));
            let y = (p.vis * Complex64::from_polar(1.0, -psi) * rot).im;
            let x = [
                amp,
                amp * 2.0 * PI * (p.freq_hz - nu_c),
                amp * 2.0 * PI * p.freq_hz * (p.t_s - t_c),
            ];
            for i in 0..3 {
                b[i] += p.w * x[i] * y;
                for j in 0..3 {
                    n[i][j] += p.w * x[i] * x[j];
                }
            }
        }
        // A parameter the data cannot constrain (one period: no rate; one
        // channel: no delay) is held fixed.
        for i in 1..3 {
            let constrained = n[i][i] > 1e-12 * n[0][0];
            if !constrained {
                n[i] = [0.0; 3];
                n.iter_mut().for_each(|row| row[i] = 0.0);
                n[i][i] = 1.0;
                b[i] = 0.0;
            }
        }
        let Some(step) = solve3(n, b) else { break };
        let mut scale = (peak.delay_step_s / step[1].abs().max(1e-300))
            .min(peak.rate_step / step[2].abs().max(1e-300))
            .min(1.0);
        let mut improved = false;
        for _ in 0..6 {
            let s_new = coherent_sum(
                &pts,
                nu_c,
                t_c,
                tau + scale * step[1],
                rate + scale * step[2],
            );
            if s_new.norm() >= s.norm() && inside(tau + scale * step[1], rate + scale * step[2]) {
                tau += scale * step[1];
                rate += scale * step[2];
                s = s_new;
                improved = true;
                break;
            }
            scale *= 0.5;
        }
        let small = (step[1] * 2.0 * PI * b_rms_hz).abs() < 1e-9
            && (step[2] * 2.0 * PI * nu_t_rms).abs() < 1e-9;
        if !improved || small {
            break;
        }
    }

    let mean_amp = s.norm() / w_sum;
    let phase_c = s.arg();
    let model_c = Complex64::from_polar(mean_amp, phase_c);
    let chi2: f64 = pts
        .iter()
        .map(|p| {
            let psi = 2.0 * PI * ((p.freq_hz - nu_c) * tau + p.freq_hz * rate * (p.t_s - t_c));
            p.w * (p.vis * Complex64::from_polar(1.0, -psi) - model_c).norm_sqr()
        })
        .sum();
    let dof = (2 * pts.len()).saturating_sub(4).max(1) as f64;
    let smearing_loss = pts
        .iter()
        .map(|p| {
            let tau_p = tau + rate * (p.t_s - t_c);
            p.w * sinc(p.freq_hz * rate * p.inttim_s) * fx_delay_loss(tau_p, p.chan_bw_hz, p.fx)
        })
        .sum::<f64>()
        / w_sum;
    let amplitude = mean_amp / smearing_loss;
    let noise_ratio = (chi2 / dof).sqrt();
    let snr = s.norm()
        / w_sum.sqrt()
        / match opts.noise {
            NoiseModel::Radiometer => 1.0,
            NoiseModel::Empirical => noise_ratio,
        };
    let mbd_sigma_c = stats::delay_sigma(snr, b_rms_hz);
    let rate_sigma = if rate_free {
        f64::INFINITY
    } else {
        stats::rate_sigma(snr, nu_t_rms)
    };

    // Reference epoch: the whole second nearest the weighted mean time, the
    // solution carried there by the fitted rate. Without a rate (one period)
    // nothing can be carried: the weighted mean time itself.
    let centre = data.epoch.add_seconds(t_c);
    let ref_epoch = if rate_free {
        centre
    } else {
        UtcTime::new(centre.sec() + (centre.frac() >= 0.5) as i64, 0.0)
    };
    let dt_ref = if rate_free {
        0.0
    } else {
        ref_epoch.seconds_since(data.epoch) - t_c
    };
    // Terms carried by the rate over dt_ref: none (not 0·∞) when dt_ref = 0.
    let carried = |x: f64| if dt_ref == 0.0 { 0.0 } else { x * dt_ref };
    let nu_ref = data.ref_freq_hz;
    let phase_rad =
        wrap_pi(phase_c + 2.0 * PI * (nu_ref - nu_c) * tau + 2.0 * PI * nu_ref * carried(rate));
    let phase_sigma_rad = ((1.0 / snr).powi(2)
        + (2.0 * PI * (nu_ref - nu_c) * mbd_sigma_c).powi(2)
        + (2.0 * PI * nu_ref * carried(rate_sigma)).powi(2))
    .sqrt();
    let mbd_s = tau + carried(rate);
    let mbd_sigma_s = (mbd_sigma_c.powi(2) + carried(rate_sigma).powi(2)).sqrt();

    let extent = stats::SearchExtent::new(
        peak.delay_range_s.1 - peak.delay_range_s.0 + peak.delay_step_s,
        b_rms_hz,
        peak.rate_range.1 - peak.rate_range.0 + peak.rate_step,
        nu_t_rms,
    );
    let pfd = extent.pfd(snr);
    let first = data.times_s[0] - 0.5 * data.inttim_s[0];
    let last = data.times_s[data.n_times() - 1] + 0.5 * data.inttim_s[data.n_times() - 1];
    Ok(FringeSolution {
        baseline: data.baseline(),
        ref_epoch,
        ref_freq_hz: nu_ref,
        mbd_s,
        mbd_sigma_s,
        mbd_cal_sigma_s: 0.0,
        sbd_s: mbd_s,
        sbd_sigma_s: mbd_sigma_s,
        rate,
        rate_sigma,
        phase_rad,
        phase_sigma_rad,
        amplitude,
        smearing_loss,
        snr,
        noise_ratio,
        pfd,
        snr_threshold: extent.snr_threshold(opts.pfd_threshold),
        detected: pfd < opts.pfd_threshold,
        b_rms_hz,
        nu_t_rms,
        extent,
        duration_s: last - first,
        n_periods: data.n_times(),
        coarse: peak,
    })
}

/// Fit all subbands together (group delay) and each subband alone (single-band
/// delays). The combined solution's `sbd_s` is the inverse-variance mean of
/// the subbands' delays. Subbands with no valid data are `None`.
pub fn fit_with_subbands(
    data: &BaselineData,
    opts: &FitOptions,
) -> Result<(FringeSolution, Vec<Option<FringeSolution>>), FitError> {
    let mut combined = fit_baseline(data, opts)?;
    let mut per = Vec::with_capacity(data.n_subbands());
    let (mut sw, mut swx) = (0.0, 0.0);
    for b in 0..data.n_subbands() {
        let sub = data.subband(b);
        if sub.total_weight() <= 0.0 {
            per.push(None);
            continue;
        }
        let sol = fit_baseline(&sub, opts)?;
        if sol.sbd_sigma_s.is_finite() && sol.sbd_sigma_s > 0.0 {
            let w = sol.sbd_sigma_s.powi(-2);
            sw += w;
            swx += w * sol.sbd_s;
        }
        per.push(Some(sol));
    }
    if sw > 0.0 {
        combined.sbd_s = swx / sw;
        combined.sbd_sigma_s = sw.powf(-0.5);
    }
    // Group-delay ambiguity: the joint fit already weighs every channel, but
    // where it lands on a branch more than half an ambiguity from a precise
    // single-band delay, refit within the branch the single-band delays pick
    // (fourfit's rule: the group delay lies within half an ambiguity of the
    // single-band delay).
    if let Some(amb) = mbd_ambiguity_s(data) {
        let off = combined.mbd_s - combined.sbd_s;
        if off.abs() > 0.5 * amb && 3.0 * combined.sbd_sigma_s < 0.5 * amb {
            let centre = combined.sbd_s;
            let mut o = *opts;
            o.window.delay_s = Some((centre - 0.5 * amb, centre + 0.5 * amb));
            if let Ok(mut resolved) = fit_baseline(data, &o) {
                resolved.sbd_s = combined.sbd_s;
                resolved.sbd_sigma_s = combined.sbd_sigma_s;
                combined = resolved;
            }
        }
    }
    Ok((combined, per))
}

/// Group-delay ambiguity 1/gcd(subband spacings) (s), from the subbands'
/// lowest channels rounded to whole Hz; `None` for a single subband.
pub fn mbd_ambiguity_s(data: &BaselineData) -> Option<f64> {
    let lows: Vec<u64> = data
        .subbands
        .iter()
        .map(|s| {
            s.chan_freq_hz
                .iter()
                .cloned()
                .fold(f64::INFINITY, f64::min)
                .round() as u64
        })
        .collect();
    let base = *lows.iter().min()?;
    let g = lows.iter().map(|&f| f - base).fold(0u64, gcd);
    (g > 0).then(|| 1.0 / g as f64)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Counter-rotate `data` by a solution: per (period, subband, channel) the
/// visibility times e^{−iψ}, ψ the fitted phase model. Used by plots.
pub fn counter_rotated(data: &BaselineData, sol: &FringeSolution) -> Vec<Complex64> {
    let t_ref = sol.ref_epoch.seconds_since(data.epoch);
    let mut out = Vec::with_capacity(data.n_times() * data.n_subbands() * data.n_chan());
    for i in 0..data.n_times() {
        for (b, sb) in data.subbands.iter().enumerate() {
            for (k, &nu) in sb.chan_freq_hz.iter().enumerate() {
                let psi = sol.phase_rad
                    + 2.0 * PI * (nu - sol.ref_freq_hz) * sol.mbd_s
                    + 2.0 * PI * nu * sol.rate * (data.times_s[i] - t_ref);
                out.push(data.vis(i, b, k) * Complex64::from_polar(1.0, -psi));
            }
        }
    }
    out
}

/// sin(πx)/(πx).
/// Amplitude an FX correlator keeps of a broadband (white) correlation at
/// residual delay `tau_s`, in a channel of width `chan_bw_hz` made as `fx`
/// says.
///
/// Each station's FFT block spans T = 1/δν (δν = `chan_bw_hz` / `spec_avg`,
/// the FFT's channel width), and the model aligns the blocks; a wavefront
/// that arrives τ later than the model lies in both blocks only over
/// T − |τ|, so each FFT channel holds ρ·O(|τ|/T) with the window's overlap
/// O(x) = ∫₀^{1−x} w(u)w(u+x)du / ∫₀¹ w² (no window: 1 − x), and its phase
/// 2πν·τ exactly (no slope inside an FFT channel). Averaging m = `spec_avg`
/// FFT channels, whose phases step by 2πδν·τ, keeps
/// |sin(πmδν·τ)/(m·sin(πδν·τ))| of that. (The sinc(Δν·τ) of a channel
/// integrated over a continuous band, as in an XF correlator, is not what
/// an FX correlator loses: for one FFT channel per channel and |τ|·δν ≪ 1
/// it misses almost all of the 1 − |τ|δν.) Closed forms for the windows,
/// w(u) = a − b·cos 2πu (Hann a = b = ½, Hamming 0.54/0.46):
/// O = [a²L + ab·sin(2πx)/π + b²(½L·cos 2πx − sin(2πx)/(4π))]/(a² + b²/2),
/// L = 1 − x; cosine w = sin πu: O = L·cos πx + sin(πx)/π.
pub fn fx_delay_loss(tau_s: f64, chan_bw_hz: f64, fx: FxChannels) -> f64 {
    let m = fx.spec_avg.max(1) as f64;
    let fft_chan_hz = chan_bw_hz / m;
    let x = (tau_s * fft_chan_hz).abs();
    if x >= 1.0 {
        return 0.0;
    }
    let l = 1.0 - x;
    let cos_sum = |a: f64, b: f64| {
        let s2 = (2.0 * PI * x).sin();
        (a * a * l + a * b * s2 / PI + b * b * (0.5 * l * (2.0 * PI * x).cos() - s2 / (4.0 * PI)))
            / (a * a + 0.5 * b * b)
    };
    let overlap = match fx.window {
        Window::None => l,
        Window::Hann => cos_sum(0.5, 0.5),
        Window::Hamming => cos_sum(0.54, 0.46),
        Window::Cosine => l * (PI * x).cos() + (PI * x).sin() / PI,
    };
    let phase_step = PI * fft_chan_hz * tau_s;
    let averaging = if fx.spec_avg <= 1 || phase_step.sin().abs() < 1e-12 {
        1.0
    } else {
        ((m * phase_step).sin() / (m * phase_step.sin())).abs()
    };
    overlap * averaging
}

pub fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-8 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// Wrap an angle into (−π, π].
pub fn wrap_pi(x: f64) -> f64 {
    let y = x.rem_euclid(2.0 * PI);
    if y > PI {
        y - 2.0 * PI
    } else {
        y
    }
}
