//! The fringe fitter's input: the cross-spectra of one baseline over one scan
//! (or one solution interval), on their sky frequencies.
//!
//! Noise model (documented in README, "emcorr fringe"): visibilities are
//! normalised correlation coefficients, so a channel of width Δν accumulated
//! for t seconds with a fraction w of valid data carries complex Gaussian noise
//! of standard deviation σ = 1/sqrt(2·Δν·t·w) in each of its real and imaginary
//! parts (Nyquist-sampled real data: 2·Δν·t·w independent samples, each product
//! of unit-variance samples, split between two quadratures of equal variance).
//! The fitter weights each visibility by W = 1/σ² = 2·Δν·t·w.

use formats::UtcTime;
use num_complex::Complex64;

/// Sideband of a subband: which way channel frequencies run from the band edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sideband {
    Upper,
    Lower,
}

impl Sideband {
    /// +1 for upper, −1 for lower (FITS-IDI's SIDEBAND).
    pub fn sign(self) -> f64 {
        match self {
            Sideband::Upper => 1.0,
            Sideband::Lower => -1.0,
        }
    }
}

/// One subband (FITS-IDI band, IF): the sky frequency of each channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Subband {
    /// Sky frequency of channel k (Hz), in storage order.
    pub chan_freq_hz: Vec<f64>,
    /// Channel width (Hz, > 0).
    pub chan_bw_hz: f64,
}

impl Subband {
    /// Channels of a subband whose band edge (the LO) is at `edge_hz`: channel
    /// k lies at `edge_hz + k·chan_bw_hz` (upper) or `edge_hz − k·chan_bw_hz`
    /// (lower sideband).
    pub fn from_edge(edge_hz: f64, n_chan: usize, chan_bw_hz: f64, sideband: Sideband) -> Self {
        Subband {
            chan_freq_hz: (0..n_chan)
                .map(|k| edge_hz + sideband.sign() * k as f64 * chan_bw_hz)
                .collect(),
            chan_bw_hz,
        }
    }

    pub fn n_chan(&self) -> usize {
        self.chan_freq_hz.len()
    }
}

/// Cross-spectra of one baseline A–B over one scan or solution interval.
///
/// `vis[(i·n_subbands + b)·n_chan + k]` is accumulation period i, subband b,
/// channel k: V_AB = ⟨X_A·conj(X_B)⟩ ∝ exp(+2πiν·τ_res), τ_res the residual
/// delay of B relative to A (see README, Conventions).
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineData {
    /// First station (earlier in job order).
    pub station_a: String,
    /// Second station.
    pub station_b: String,
    /// Time zero of `times_s` (UTC label of the geocentre wavefront time).
    pub epoch: UtcTime,
    /// Centre of each accumulation period, seconds after `epoch`, increasing.
    pub times_s: Vec<f64>,
    /// Length of each accumulation period (s).
    pub inttim_s: Vec<f64>,
    /// Subbands; all have the same number of channels.
    pub subbands: Vec<Subband>,
    /// Frequency the reported phase refers to (Hz).
    pub ref_freq_hz: f64,
    n_chan: usize,
    vis: Vec<Complex64>,
    weight: Vec<f64>,
}

/// Why a [`BaselineData`] could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("baseline {0}: no subbands or no channels")]
    NoChannels(String),
    #[error("baseline {0}: subbands differ in their number of channels")]
    RaggedSubbands(String),
    #[error("baseline {0}: {1} visibilities given, {2} expected (times × subbands × channels)")]
    WrongLength(String, usize, usize),
    #[error("baseline {0}: times are not strictly increasing or not finite")]
    BadTimes(String),
    #[error("baseline {0}: no accumulation period has valid data")]
    NoValidData(String),
}

impl BaselineData {
    /// Build from vis and weights in `[time][subband][chan]` order. Weights are
    /// the valid fraction of each visibility (0 = flagged, 1 = all data valid).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        station_a: &str,
        station_b: &str,
        epoch: UtcTime,
        times_s: Vec<f64>,
        inttim_s: Vec<f64>,
        subbands: Vec<Subband>,
        ref_freq_hz: f64,
        vis: Vec<Complex64>,
        weight: Vec<f64>,
    ) -> Result<Self, DataError> {
        let name = format!("{station_a}-{station_b}");
        let n_chan = subbands.first().map_or(0, Subband::n_chan);
        if n_chan == 0 {
            return Err(DataError::NoChannels(name));
        }
        if subbands.iter().any(|s| s.n_chan() != n_chan) {
            return Err(DataError::RaggedSubbands(name));
        }
        let want = times_s.len() * subbands.len() * n_chan;
        if vis.len() != want || weight.len() != want || inttim_s.len() != times_s.len() {
            return Err(DataError::WrongLength(name, vis.len(), want));
        }
        if times_s.iter().any(|t| !t.is_finite()) || times_s.windows(2).any(|w| w[1] <= w[0]) {
            return Err(DataError::BadTimes(name));
        }
        let d = BaselineData {
            station_a: station_a.to_string(),
            station_b: station_b.to_string(),
            epoch,
            times_s,
            inttim_s,
            subbands,
            ref_freq_hz,
            n_chan,
            vis,
            weight,
        };
        if d.total_weight() <= 0.0 {
            return Err(DataError::NoValidData(name));
        }
        Ok(d)
    }

    /// "A-B".
    pub fn baseline(&self) -> String {
        format!("{}-{}", self.station_a, self.station_b)
    }

    pub fn n_times(&self) -> usize {
        self.times_s.len()
    }

    pub fn n_subbands(&self) -> usize {
        self.subbands.len()
    }

    pub fn n_chan(&self) -> usize {
        self.n_chan
    }

    fn index(&self, i: usize, b: usize, k: usize) -> usize {
        (i * self.subbands.len() + b) * self.n_chan + k
    }

    /// Visibility of period i, subband b, channel k.
    pub fn vis(&self, i: usize, b: usize, k: usize) -> Complex64 {
        self.vis[self.index(i, b, k)]
    }

    /// Valid fraction of period i, subband b, channel k.
    pub fn valid_fraction(&self, i: usize, b: usize, k: usize) -> f64 {
        self.weight[self.index(i, b, k)]
    }

    /// Inverse noise variance per component, W = 2·Δν·t·w (module docs).
    pub fn inverse_variance(&self, i: usize, b: usize, k: usize) -> f64 {
        let w = self.weight[self.index(i, b, k)];
        if w > 0.0 {
            2.0 * self.subbands[b].chan_bw_hz * self.inttim_s[i] * w
        } else {
            0.0
        }
    }

    /// Σ W over all visibilities.
    pub fn total_weight(&self) -> f64 {
        let mut s = 0.0;
        for i in 0..self.n_times() {
            for b in 0..self.n_subbands() {
                for k in 0..self.n_chan {
                    s += self.inverse_variance(i, b, k);
                }
            }
        }
        s
    }

    /// The same scan restricted to subband `b` (for single-band delays).
    pub fn subband(&self, b: usize) -> BaselineData {
        let mut vis = Vec::with_capacity(self.n_times() * self.n_chan);
        let mut weight = Vec::with_capacity(vis.capacity());
        for i in 0..self.n_times() {
            let s = self.index(i, b, 0);
            vis.extend_from_slice(&self.vis[s..s + self.n_chan]);
            weight.extend_from_slice(&self.weight[s..s + self.n_chan]);
        }
        BaselineData {
            subbands: vec![self.subbands[b].clone()],
            vis,
            weight,
            ..self.clone_header()
        }
    }

    /// Split into solution intervals of about `solint_s` seconds (periods are
    /// assigned by their centre; intervals with no valid data are dropped).
    pub fn split(&self, solint_s: f64) -> Vec<BaselineData> {
        let mut out = Vec::new();
        let Some(&t0) = self.times_s.first() else {
            return out;
        };
        let mut start = 0;
        while start < self.n_times() {
            let slot = ((self.times_s[start] - t0) / solint_s).floor();
            let mut end = start;
            while end < self.n_times() && ((self.times_s[end] - t0) / solint_s).floor() == slot {
                end += 1;
            }
            let per = self.subbands.len() * self.n_chan;
            let part = BaselineData {
                times_s: self.times_s[start..end].to_vec(),
                inttim_s: self.inttim_s[start..end].to_vec(),
                vis: self.vis[start * per..end * per].to_vec(),
                weight: self.weight[start * per..end * per].to_vec(),
                ..self.clone_header()
            };
            if part.total_weight() > 0.0 {
                out.push(part);
            }
            start = end;
        }
        out
    }

    fn clone_header(&self) -> BaselineData {
        BaselineData {
            station_a: self.station_a.clone(),
            station_b: self.station_b.clone(),
            epoch: self.epoch,
            times_s: self.times_s.clone(),
            inttim_s: self.inttim_s.clone(),
            subbands: self.subbands.clone(),
            ref_freq_hz: self.ref_freq_hz,
            n_chan: self.n_chan,
            vis: Vec::new(),
            weight: Vec::new(),
        }
    }

    /// Every visibility with non-zero weight, flattened for the fit: (t_s,
    /// ν_hz, V, W).
    pub(crate) fn points(&self) -> Vec<Point> {
        let mut pts = Vec::with_capacity(self.vis.len());
        for i in 0..self.n_times() {
            for (b, sb) in self.subbands.iter().enumerate() {
                for k in 0..self.n_chan {
                    let w = self.inverse_variance(i, b, k);
                    if w > 0.0 {
                        pts.push(Point {
                            t_s: self.times_s[i],
                            freq_hz: sb.chan_freq_hz[k],
                            vis: self.vis(i, b, k),
                            w,
                        });
                    }
                }
            }
        }
        pts
    }
}

/// One visibility with its coordinates and inverse variance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub t_s: f64,
    pub freq_hz: f64,
    pub vis: Complex64,
    pub w: f64,
}
