//! Coarse search of the delay–rate plane by two FFTs.
//!
//! All channels of all subbands are placed on one frequency grid of step δf
//! (the channel width, or a divisor of it when the delay window asks for more
//! than the ±1/(2δf) it allows) starting at the lowest channel, and the
//! accumulation periods on one time grid of step Δt. The weighted visibilities
//! W·V are zero-padded and transformed:
//!
//! S(τ_q, f_p) = Σ_t Σ_ν W V exp(−2πi(ν·τ_q + f_p·t)),
//!
//! first along frequency (delay τ_q = q/(N_f·δf)) for every period, then along
//! time (fringe rate f_p = p/(N_t·Δt)) for each delay inside the window. Since
//! V ∝ exp(+2πiν·τ) (README, Conventions), |S| peaks at the residual delay and
//! at the fringe rate ν_c·ṫ, ν_c the weighted mean frequency. The delay rate
//! reported is f_p/ν_c. The unambiguous range is ±1/(2δf) in delay and
//! ±1/(2Δt·ν_c) in rate; both are the default window.

use super::data::BaselineData;
use num_complex::Complex64;
use rustfft::FftPlanner;

/// Smallest half-width of the delay window the grid must allow (s): the
/// a-priori model of a lunar baseline can be off by ~0.3 µs.
pub const MIN_DELAY_HALF_RANGE_S: f64 = 0.5e-6;

/// Largest delay–rate map kept for plots, per axis (max-pooled to this).
const MAP_MAX_BINS: usize = 400;

/// Bounds of the search, inclusive. `None`: the whole unambiguous range.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SearchWindow {
    /// Residual delay bounds (s).
    pub delay_s: Option<(f64, f64)>,
    /// Residual delay-rate bounds (s/s).
    pub rate: Option<(f64, f64)>,
}

/// The highest cell of the coarse search and what was searched.
#[derive(Debug, Clone, PartialEq)]
pub struct CoarsePeak {
    pub delay_s: f64,
    pub rate: f64,
    /// |S|/ΣW at the peak cell.
    pub amplitude: f64,
    /// Grid steps (after zero padding).
    pub delay_step_s: f64,
    pub rate_step: f64,
    /// Window actually searched (clipped to the unambiguous range).
    pub delay_range_s: (f64, f64),
    pub rate_range: (f64, f64),
    /// Occupied channels × periods, each times the fraction of its
    /// unambiguous range searched: the naive count of independent cells. The
    /// PFD does not use it (see [`super::stats`]); it is kept for comparison.
    pub n_cells: f64,
    /// Weighted mean frequency (Hz) used to turn fringe rate into delay rate.
    pub centre_freq_hz: f64,
}

/// |S|/ΣW on a (max-pooled) delay–rate grid, for plots.
#[derive(Debug, Clone, PartialEq)]
pub struct DelayRateMap {
    /// Delay of each column (s), increasing.
    pub delays_s: Vec<f64>,
    /// Rate of each row (s/s), increasing.
    pub rates: Vec<f64>,
    /// `amp[r * delays_s.len() + d]`.
    pub amp: Vec<f64>,
}

/// Why a search could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error(
        "baseline {0}: the delay window {1:e}..{2:e} s is empty or outside the searchable range"
    )]
    EmptyDelayWindow(String, f64, f64),
    #[error(
        "baseline {0}: the rate window {1:e}..{2:e} s/s is empty or outside the searchable range"
    )]
    EmptyRateWindow(String, f64, f64),
    #[error("baseline {0}: the delay window needs a frequency grid of {1} points, more than {2}")]
    GridTooLarge(String, usize, usize),
}

/// Largest number of complex cells of the first (per-period) FFT stage.
const MAX_STAGE1_CELLS: usize = 1 << 24;

/// Search the delay–rate plane of `data` within `window`; also return the
/// amplitude map when `want_map`.
pub fn coarse_search(
    data: &BaselineData,
    window: &SearchWindow,
    want_map: bool,
) -> Result<(CoarsePeak, Option<DelayRateMap>), SearchError> {
    let name = data.baseline();
    let pts = data.points();
    let w_sum: f64 = pts.iter().map(|p| p.w).sum();
    let centre_freq_hz = pts.iter().map(|p| p.w * p.freq_hz).sum::<f64>() / w_sum;

    // Frequency grid.
    let chan_bw = data
        .subbands
        .iter()
        .map(|s| s.chan_bw_hz)
        .fold(f64::INFINITY, f64::min);
    let want_half = window
        .delay_s
        .map_or(0.0, |(a, b)| a.abs().max(b.abs()))
        .max(MIN_DELAY_HALF_RANGE_S);
    // Refine the grid by an integer factor until ±1/(2δf) covers the window.
    let refine = (2.0 * want_half * chan_bw).ceil().max(1.0) as usize;
    let df = chan_bw / refine as f64;
    let f0 = pts.iter().map(|p| p.freq_hz).fold(f64::INFINITY, f64::min);
    let fbin = |f: f64| ((f - f0) / df).round() as usize;
    let n_f_used = pts.iter().map(|p| fbin(p.freq_hz)).max().unwrap_or(0) + 1;

    // Time grid.
    let t_first = data.times_s[0];
    let dt = data
        .times_s
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min)
        .min(data.inttim_s.iter().cloned().fold(f64::INFINITY, f64::min))
        .max(1e-9);
    let tbin = |t: f64| ((t - t_first) / dt).round() as usize;
    let n_t_used = tbin(*data.times_s.last().unwrap_or(&t_first)) + 1;

    // Zero padding: ×4 where memory allows.
    let mut pad_f = 4;
    while pad_f > 1 && n_t_used * (n_f_used * pad_f).next_power_of_two() > MAX_STAGE1_CELLS {
        pad_f /= 2;
    }
    let nfft_f = (n_f_used * pad_f).next_power_of_two();
    if n_t_used * nfft_f > MAX_STAGE1_CELLS {
        return Err(SearchError::GridTooLarge(
            name,
            n_t_used * nfft_f,
            MAX_STAGE1_CELLS,
        ));
    }
    let nfft_t = (n_t_used * 4).next_power_of_two();
    let delay_step_s = 1.0 / (nfft_f as f64 * df);
    let rate_step = 1.0 / (nfft_t as f64 * dt * centre_freq_hz);

    // Window in bins (signed), clipped to the unambiguous range.
    let half_f = (nfft_f / 2) as i64;
    let half_t = (nfft_t / 2) as i64;
    let (dlo, dhi) = window.delay_s.unwrap_or((-f64::INFINITY, f64::INFINITY));
    let q_lo = ((dlo / delay_step_s).ceil().max(-half_f as f64)) as i64;
    let q_hi = ((dhi / delay_step_s).floor().min((half_f - 1) as f64)) as i64;
    if q_lo > q_hi {
        return Err(SearchError::EmptyDelayWindow(name, dlo, dhi));
    }
    let (rlo, rhi) = window.rate.unwrap_or((-f64::INFINITY, f64::INFINITY));
    let mut p_lo = ((rlo / rate_step).ceil().max(-half_t as f64)) as i64;
    let mut p_hi = ((rhi / rate_step).floor().min((half_t - 1) as f64)) as i64;
    if p_lo > p_hi {
        return Err(SearchError::EmptyRateWindow(name, rlo, rhi));
    }
    // One occupied period: every rate bin has the same amplitude, so the rate
    // axis carries no information. Search only the bin nearest zero rate
    // (rather than let the first, most negative bin win the tie: a rate of
    // −1/(2Δt·ν_c) would then be carried into the phase).
    let n_occupied_t = {
        let mut seen = vec![false; n_t_used];
        for p in &pts {
            seen[tbin(p.t_s)] = true;
        }
        seen.iter().filter(|&&s| s).count()
    };
    if n_occupied_t <= 1 {
        let p0 = 0i64.clamp(p_lo, p_hi);
        (p_lo, p_hi) = (p0, p0);
    }

    // Stage 1: W·V on the frequency grid, one row per occupied period, FFT.
    let mut planner = FftPlanner::<f64>::new();
    let fft_f = planner.plan_fft_forward(nfft_f);
    let mut rows: Vec<(usize, Vec<Complex64>)> = Vec::new();
    for p in &pts {
        let j = tbin(p.t_s);
        if rows.last().is_none_or(|r| r.0 != j) {
            rows.push((j, vec![Complex64::new(0.0, 0.0); nfft_f]));
        }
        let row = &mut rows.last_mut().expect("row just pushed").1;
        row[fbin(p.freq_hz)] += p.vis * p.w;
    }
    let occupied_f = {
        let mut seen = vec![false; n_f_used];
        for p in &pts {
            seen[fbin(p.freq_hz)] = true;
        }
        seen.iter().filter(|&&s| s).count()
    };
    for (_, row) in rows.iter_mut() {
        fft_f.process(row);
    }

    // Stage 2: per delay bin in the window, FFT along time.
    let fft_t = planner.plan_fft_forward(nfft_t);
    let n_q = (q_hi - q_lo + 1) as usize;
    let n_p = (p_hi - p_lo + 1) as usize;
    let pool_q = n_q.div_ceil(MAP_MAX_BINS);
    let pool_p = n_p.div_ceil(MAP_MAX_BINS);
    let (map_nq, map_np) = (n_q.div_ceil(pool_q), n_p.div_ceil(pool_p));
    let mut map = if want_map {
        vec![0.0f64; map_nq * map_np]
    } else {
        Vec::new()
    };
    let mut col = vec![Complex64::new(0.0, 0.0); nfft_t];
    let mut best = (-1.0f64, 0i64, 0i64);
    for (iq, q) in (q_lo..=q_hi).enumerate() {
        let qi = q.rem_euclid(nfft_f as i64) as usize;
        col.iter_mut().for_each(|c| *c = Complex64::new(0.0, 0.0));
        for (j, row) in &rows {
            col[*j] = row[qi];
        }
        fft_t.process(&mut col);
        for (ip, p) in (p_lo..=p_hi).enumerate() {
            let a = col[p.rem_euclid(nfft_t as i64) as usize].norm();
            if a > best.0 {
                best = (a, q, p);
            }
            if want_map {
                let m = &mut map[(ip / pool_p) * map_nq + iq / pool_q];
                *m = m.max(a / w_sum);
            }
        }
    }

    // Independent cells: occupied channels times the fraction of the
    // channel-unambiguous delay range 1/Δν searched, and occupied periods
    // times the fraction of the rate range searched.
    let width_d = (q_hi - q_lo + 1) as f64 * delay_step_s;
    let n_delay = (occupied_f as f64 * (width_d * chan_bw).min(1.0)).max(1.0);
    let n_rate = (rows.len() as f64 * (n_p as f64 / nfft_t as f64).min(1.0)).max(1.0);
    let n_cells = n_delay * n_rate;

    let peak = CoarsePeak {
        delay_s: best.1 as f64 * delay_step_s,
        rate: best.2 as f64 * rate_step,
        amplitude: best.0 / w_sum,
        delay_step_s,
        rate_step,
        delay_range_s: (q_lo as f64 * delay_step_s, q_hi as f64 * delay_step_s),
        rate_range: (p_lo as f64 * rate_step, p_hi as f64 * rate_step),
        n_cells,
        centre_freq_hz,
    };
    let map = want_map.then(|| DelayRateMap {
        delays_s: (0..map_nq)
            .map(|i| {
                (q_lo as f64 + (i * pool_q) as f64 + (pool_q as f64 - 1.0) / 2.0) * delay_step_s
            })
            .collect(),
        rates: (0..map_np)
            .map(|i| (p_lo as f64 + (i * pool_p) as f64 + (pool_p as f64 - 1.0) / 2.0) * rate_step)
            .collect(),
        amp: map,
    });
    Ok((peak, map))
}
