//! Synthetic cross-spectra with known delay, rate, phase and amplitude plus
//! Gaussian noise of the radiometer σ (see [`super::data`]): the truth the
//! fitter's tests and examples are checked against.

use super::data::{BaselineData, Subband};
use super::fit::{fx_delay_loss, sinc};
use formats::UtcTime;
use num_complex::Complex64;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::f64::consts::PI;

/// What to synthesise. The signal is
/// V(ν, t) = A·exp(i[φ + 2π(ν − ν_ref)·τ + 2π·ν·ṫ·(t − t_ref)])
/// (so τ is the delay at t_ref and φ the phase at ν_ref, t_ref), averaged over
/// each period and reduced as an FX correlator's channels are at residual
/// delay τ (amplitude × sinc(ν·ṫ·t_int)·[`fx_delay_loss`]), plus noise of
/// σ = 1/sqrt(2·Δν·t) per component unless `noise` is false.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    pub station_a: String,
    pub station_b: String,
    pub epoch: UtcTime,
    /// Number of accumulation periods; period i is centred at (i + ½)·inttim.
    pub n_periods: usize,
    pub inttim_s: f64,
    pub subbands: Vec<Subband>,
    pub ref_freq_hz: f64,
    /// t_ref, seconds after `epoch`.
    pub ref_time_s: f64,
    pub amplitude: f64,
    pub delay_s: f64,
    pub rate: f64,
    pub phase_rad: f64,
    pub noise: bool,
    pub seed: u64,
}

impl SynthSpec {
    /// A geodetic-style X-band setup: four 16 MHz USB subbands of 32 channels
    /// at 8.2, 8.25, 8.35 and 8.5 GHz, 60 periods of 1 s, no signal.
    pub fn xband(seed: u64) -> SynthSpec {
        SynthSpec {
            station_a: "A".into(),
            station_b: "B".into(),
            epoch: UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0),
            n_periods: 60,
            inttim_s: 1.0,
            subbands: [8.2e9, 8.25e9, 8.35e9, 8.5e9]
                .iter()
                .map(|&f| Subband::from_edge(f, 32, 0.5e6, super::data::Sideband::Upper))
                .collect(),
            ref_freq_hz: 8.2e9,
            ref_time_s: 30.0,
            amplitude: 0.0,
            delay_s: 0.0,
            rate: 0.0,
            phase_rad: 0.0,
            noise: true,
            seed,
        }
    }

    /// Total bandwidth (Hz): channels × channel width.
    pub fn bandwidth_hz(&self) -> f64 {
        self.subbands
            .iter()
            .map(|s| s.n_chan() as f64 * s.chan_bw_hz)
            .sum()
    }

    /// Total integration time (s).
    pub fn time_s(&self) -> f64 {
        self.n_periods as f64 * self.inttim_s
    }
}

/// Generate the data `spec` describes.
pub fn synthesize(spec: &SynthSpec) -> BaselineData {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let times: Vec<f64> = (0..spec.n_periods)
        .map(|i| (i as f64 + 0.5) * spec.inttim_s)
        .collect();
    let mut vis = Vec::new();
    for &t in &times {
        for sb in &spec.subbands {
            let sigma = 1.0 / (2.0 * sb.chan_bw_hz * spec.inttim_s).sqrt();
            let normal = Normal::new(0.0, sigma).expect("finite sigma");
            for &nu in &sb.chan_freq_hz {
                let psi = spec.phase_rad
                    + 2.0 * PI * (nu - spec.ref_freq_hz) * spec.delay_s
                    + 2.0 * PI * nu * spec.rate * (t - spec.ref_time_s);
                // What an FX correlator accumulates: the value at the
                // centre times the sinc of the phase wound across the period
                // and the FFT blocks' overlap at the residual delay.
                let tau_t = spec.delay_s + spec.rate * (t - spec.ref_time_s);
                let smear = sinc(nu * spec.rate * spec.inttim_s)
                    * fx_delay_loss(tau_t, sb.chan_bw_hz, sb.fx);
                let mut v = Complex64::from_polar(spec.amplitude * smear, psi);
                if spec.noise {
                    v += Complex64::new(normal.sample(&mut rng), normal.sample(&mut rng));
                }
                vis.push(v);
            }
        }
    }
    let n = vis.len();
    BaselineData::new(
        &spec.station_a,
        &spec.station_b,
        spec.epoch,
        times,
        vec![spec.inttim_s; spec.n_periods],
        spec.subbands.clone(),
        spec.ref_freq_hz,
        vis,
        vec![1.0; n],
    )
    .expect("a consistent synthetic spec")
}
