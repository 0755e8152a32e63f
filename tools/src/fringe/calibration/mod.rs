//! Station-based calibration of visibilities before fringe fitting: per
//! station, subband and polarisation, the receiver chain's phase and delay
//! (and optionally their drift and a time series), removed from every
//! baseline the station is on.
//!
//! Convention: station s's term in subband b is, at sky frequency f and time t,
//!
//! G(f, t) = exp(i[φ + φ̇·(t − t_s) − 2π(f − f_ref)·τ])
//!
//! with f_ref the subband's reference frequency (its first channel's sky
//! frequency, the band edge of the FITS-IDI FREQUENCY table) and t_s the
//! epoch of the sample. It is the simulator's instrumental response H (τ > 0
//! delays like a cable) and what an ideal phase-cal extractor reads in the
//! sky-frequency convention. The station records G·X, so
//! V_AB = ⟨X_A·conj(X_B)⟩ gains G_A·conj(G_B): a phase
//! (φ_A − φ_B) + 2π(f − f_ref)·(τ_B − τ_A) (+ (φ̇_A − φ̇_B)·(t − t_s)), and
//! [`StationCal::apply`] multiplies V_AB by conj(G_A)·G_B, i.e. by
//! exp(−i[(φ_A − φ_B) + 2π(f − f_ref)·(τ_B − τ_A) + …]).
//!
//! Sources of the table: [`manual::manual_pcal`] (a calibrator scan, AIPS
//! and CASA "manual phase-cal") and [`pcal::from_tones`] (phase-cal tones).

pub mod error;
pub mod manual;
pub mod pcal;

#[cfg(test)]
mod tests;

pub use error::CalError;
pub use manual::{manual_pcal, ManualPcal};
pub use pcal::{from_tones, ToneReading};

use super::data::BaselineData;
use super::fit::wrap_pi;
use formats::UtcTime;
use num_complex::Complex64;
use std::collections::{BTreeMap, BTreeSet};
use std::f64::consts::PI;

/// One station's term in one subband and polarisation at one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalTerm {
    /// φ: phase at `ref_freq_hz` and the sample's epoch (rad).
    pub phase_rad: f64,
    /// τ: delay (s); > 0 delays the station's signal.
    pub delay_s: f64,
    /// φ̇ (rad/s), used away from the sample (0 when unknown).
    pub phase_rate_rad_per_s: f64,
    /// f_ref (Hz, sky).
    pub ref_freq_hz: f64,
    /// Formal errors (0 when unknown) and the covariance of φ and τ
    /// (rad·s): a line fitted to tones has correlated intercept and slope
    /// away from the tones' mean frequency.
    pub phase_sigma_rad: f64,
    pub delay_sigma_s: f64,
    pub phase_delay_cov: f64,
}

impl CalTerm {
    /// arg G at sky frequency `f_hz`, `dt_s` after the term's epoch.
    pub fn phase_at(&self, f_hz: f64, dt_s: f64) -> f64 {
        self.phase_rad + self.phase_rate_rad_per_s * dt_s
            - 2.0 * PI * (f_hz - self.ref_freq_hz) * self.delay_s
    }

    /// Variance of [`CalTerm::phase_at`] at `f_hz` from the formal errors:
    /// φ(f) = φ − 2π(f − f_ref)·τ.
    pub fn phase_var_at(&self, f_hz: f64) -> f64 {
        let k = 2.0 * PI * (f_hz - self.ref_freq_hz);
        (self.phase_sigma_rad.powi(2) + (k * self.delay_sigma_s).powi(2)
            - 2.0 * k * self.phase_delay_cov)
            .max(0.0)
    }
}

/// A station's terms over time, in time order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CalSeries {
    samples: Vec<(UtcTime, CalTerm)>,
}

impl CalSeries {
    pub fn samples(&self) -> &[(UtcTime, CalTerm)] {
        &self.samples
    }

    fn insert(&mut self, t: UtcTime, term: CalTerm) {
        let at = self
            .samples
            .partition_point(|(s, _)| s.seconds_since(t) <= 0.0);
        self.samples.insert(at, (t, term));
    }

    /// arg G(f, t): between two samples, linear interpolation of the phase
    /// (along the shorter arc) and of the delay, each evaluated at f; before
    /// the first or after the last sample, that sample carried by its rate.
    pub fn phase_at(&self, f_hz: f64, t: UtcTime) -> Option<f64> {
        let n = self.samples.len();
        let after = self
            .samples
            .partition_point(|(s, _)| s.seconds_since(t) <= 0.0);
        let (t0, a) = match after {
            0 => self.samples.first()?,
            k if k == n => &self.samples[n - 1],
            k => {
                let (ta, a) = &self.samples[k - 1];
                let (tb, b) = &self.samples[k];
                let span = tb.seconds_since(*ta);
                let x = if span > 0.0 {
                    t.seconds_since(*ta) / span
                } else {
                    0.0
                };
                let pa = a.phase_at(f_hz, 0.0);
                let pb = b.phase_at(f_hz, 0.0);
                return Some(pa + x * wrap_pi(pb - pa));
            }
        };
        Some(a.phase_at(f_hz, t.seconds_since(*t0)))
    }
}

/// Per (station, 0-based subband, polarisation) a [`CalSeries`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StationCal {
    table: BTreeMap<(String, usize, char), CalSeries>,
}

impl StationCal {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, station: &str, subband: usize, pol: char, t: UtcTime, term: CalTerm) {
        self.table
            .entry((station.to_string(), subband, pol))
            .or_default()
            .insert(t, term);
    }

    pub fn get(&self, station: &str, subband: usize, pol: char) -> Option<&CalSeries> {
        self.table.get(&(station.to_string(), subband, pol))
    }

    /// Every entry, by station, subband, polarisation.
    pub fn entries(&self) -> impl Iterator<Item = (&(String, usize, char), &CalSeries)> {
        self.table.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Stations with at least one term, by name.
    pub fn stations(&self) -> BTreeSet<&str> {
        self.table.keys().map(|(s, _, _)| s.as_str()).collect()
    }

    /// Correct one baseline's visibilities (polarisations `pols` of its two
    /// stations): V_AB·conj(G_A)·G_B per period, subband and channel (module
    /// docs). A station or subband the table lacks is left as it is (G = 1)
    /// and named in the returned set, as (station, 0-based subband).
    pub fn apply(&self, data: &mut BaselineData, pols: (char, char)) -> BTreeSet<(String, usize)> {
        let mut missing = BTreeSet::new();
        let (sa, sb) = (data.station_a.clone(), data.station_b.clone());
        let series: Vec<(Option<&CalSeries>, Option<&CalSeries>)> = (0..data.n_subbands())
            .map(|b| {
                let a = self.get(&sa, b, pols.0);
                let bb = self.get(&sb, b, pols.1);
                if a.is_none() {
                    missing.insert((sa.clone(), b));
                }
                if bb.is_none() {
                    missing.insert((sb.clone(), b));
                }
                (a, bb)
            })
            .collect();
        let epoch = data.epoch;
        let times: Vec<UtcTime> = data.times_s.iter().map(|&t| epoch.add_seconds(t)).collect();
        data.rotate(|i, b, f_hz| {
            let (a, bb) = series[b];
            let ga = a.and_then(|s| s.phase_at(f_hz, times[i])).unwrap_or(0.0);
            let gb = bb.and_then(|s| s.phase_at(f_hz, times[i])).unwrap_or(0.0);
            Complex64::from_polar(1.0, gb - ga)
        });
        missing
    }
}

/// The two stations' polarisations of a FITS-IDI Stokes code (−1 RR, −2 LL,
/// −3 RL, −4 LR, −5 XX, −6 YY, −7 XY, −8 YX); anything else (true Stokes,
/// 1–4) is taken as the same unnamed polarisation at both ('I').
pub fn product_pols(stokes_code: i32) -> (char, char) {
    match stokes_code {
        -1 => ('R', 'R'),
        -2 => ('L', 'L'),
        -3 => ('R', 'L'),
        -4 => ('L', 'R'),
        -5 => ('X', 'X'),
        -6 => ('Y', 'Y'),
        -7 => ('X', 'Y'),
        -8 => ('Y', 'X'),
        _ => ('I', 'I'),
    }
}

/// The group delay's error from the terms' own errors (phase-cal tones'
/// noise), for `data` corrected by `cal` with station polarisations
/// `pols`. The group delay is the slope of phase against frequency over
/// every channel (uniform weights here), so an error δφ(f) = δφ_ref −
/// 2π(f − f_ref)·δτ of a station's term in subband b moves it by
/// (S1·δφ_ref − 2π·S2·δτ) / (2π·Σ_c (f_c − f̄)²), with S1 = Σ_{c∈b}(f_c − f̄)
/// and S2 = Σ_{c∈b}(f_c − f̄)(f_c − f_ref); its variance follows from σ_φ,
/// σ_τ and their covariance. Stations, subbands and readings are
/// independent: a span holding K readings averages K errors (the
/// interpolated term follows each); a span between two readings takes the
/// nearer's. 0 when no term has errors.
pub fn mbd_sigma_from_terms(cal: &StationCal, data: &BaselineData, pols: (char, char)) -> f64 {
    let freqs: Vec<f64> = data
        .subbands
        .iter()
        .flat_map(|s| s.chan_freq_hz.iter().copied())
        .collect();
    if freqs.len() < 2 || data.n_times() == 0 {
        return 0.0;
    }
    let mean = freqs.iter().sum::<f64>() / freqs.len() as f64;
    let sxx: f64 = freqs.iter().map(|f| (f - mean).powi(2)).sum();
    let n = data.n_times();
    let first = data
        .epoch
        .add_seconds(data.times_s[0] - 0.5 * data.inttim_s[0]);
    let last = data
        .epoch
        .add_seconds(data.times_s[n - 1] + 0.5 * data.inttim_s[n - 1]);
    let centre = data
        .epoch
        .add_seconds(0.5 * (data.times_s[0] + data.times_s[n - 1]));
    let mut var = 0.0;
    for (station, pol) in [(&data.station_a, pols.0), (&data.station_b, pols.1)] {
        for (b, sub) in data.subbands.iter().enumerate() {
            let Some(series) = cal.get(station, b, pol) else {
                continue;
            };
            let inside: Vec<&CalTerm> = series
                .samples()
                .iter()
                .filter(|(t, _)| t.seconds_since(first) >= 0.0 && last.seconds_since(*t) >= 0.0)
                .map(|(_, term)| term)
                .collect();
            let used: Vec<&CalTerm> = if inside.is_empty() {
                series
                    .samples()
                    .iter()
                    .min_by(|x, y| {
                        x.0.seconds_since(centre)
                            .abs()
                            .total_cmp(&y.0.seconds_since(centre).abs())
                    })
                    .map(|(_, term)| term)
                    .into_iter()
                    .collect()
            } else {
                inside
            };
            let k = used.len() as f64;
            let s1: f64 = sub.chan_freq_hz.iter().map(|f| f - mean).sum();
            for term in used {
                let s2: f64 = sub
                    .chan_freq_hz
                    .iter()
                    .map(|f| (f - mean) * (f - term.ref_freq_hz))
                    .sum();
                let two_pi_s2 = 2.0 * PI * s2;
                let v = (s1 * term.phase_sigma_rad).powi(2)
                    + (two_pi_s2 * term.delay_sigma_s).powi(2)
                    - 2.0 * s1 * two_pi_s2 * term.phase_delay_cov;
                // Mean of K readings' errors: each counts 1/K², K of them.
                var += v.max(0.0) / (k * k);
            }
        }
    }
    var.sqrt() / (2.0 * PI * sxx)
}
