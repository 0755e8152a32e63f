//! truth.json: what a correct correlator and fringe fitter must find.
//!
//! Baseline "A-B" is in the job's station order (A before B). With the
//! convention that station s records the geocentre's wavefront of time g at
//! g + τ_s(g), and V_AB = ⟨X_A conj(X_B)⟩:
//!
//! - `residual_delay_s` = (τ_B − τ_A)_true − (τ_B − τ_A)_model at the job start
//!   = injected offset of B − injected offset of A;
//! - `residual_rate` = injected rate of B − injected rate of A (dimensionless);
//! - `residual_phase_rad` (per subband) = 2π ν_LO · (ε_B/(1 + ρ_B) − ε_A/(1 + ρ_A))
//!   wrapped to (−π, π], ε the injected offsets and ρ = dτ_model/dg the model
//!   rates at the job start: the residual fringe phase at the subband's LO,
//!   in the sky frequency convention (an LSB subband's raw video-domain
//!   visibility is the conjugate; see `signal`), at the reference epoch.
//!   Why 1 + ρ: a correlator rotates a station's sample at station time t by
//!   the model phase of the wavefront the model puts there, g_m with
//!   g_m + τ_m(g_m) = t, but the sample holds g_t = g_m − ε/(1 + ρ); the
//!   residual is τ_true(g_t) − τ_m(g_m) = ε/(1 + ρ). For the lunar station
//!   (ρ ≈ 5e-6) that is 0.5 ps per 100 ns of offset, 0.03 rad at X band —
//!   negligible in delay, not in phase. (The delays here are the plain
//!   offset differences, as the issue defines them.)
//! - `expected_amplitude` = √(f_A f_B), f the correlated (sky) fraction of each
//!   station's power: the correlation coefficient of the unquantised voltages
//!   (x_s = √f_s·sky + √(1−f_s)·noise_s with unit-variance parts), i.e. what a
//!   correlator that corrects for quantisation should measure in every
//!   channel (the sky and the noise are both flat across the band);
//! - `expected_amplitude_quantised` = √(f_A f_B)·η_A·η_B, the coefficient of
//!   the decoded samples without that correction (η the quantiser's
//!   correlation efficiency, see `quantise`; first order in ρ, error O(ρ³)).

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct StationTruth {
    /// Injected clock offset at the job start (not in job.toml), seconds.
    pub clock_offset_s: f64,
    /// Injected clock rate (not in job.toml).
    pub clock_rate: f64,
    pub correlated_fraction: f64,
    pub quantisation_efficiency: f64,
    pub sample_rate_hz: f64,
    /// Station time of the recording's first sample.
    pub first_sample: String,
    pub frames_per_thread: u64,
    pub frames_per_second: u64,
    pub samples_per_frame: usize,
    pub invalid_frames: u64,
    pub missing_frames: u64,
    pub truncated_last_frame: bool,
    /// τ at the job start: the model the correlator knows, and the truth.
    pub model_delay_at_start_s: f64,
    pub true_delay_at_start_s: f64,
    /// dτ_model/dg at the job start.
    pub model_rate_at_start: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineTruth {
    pub residual_delay_s: f64,
    pub residual_rate: f64,
    pub residual_phase_rad: Vec<f64>,
    pub expected_amplitude: f64,
    pub expected_amplitude_quantised: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// Epoch of the residuals (the job start, geocentric UTC).
    pub reference_epoch: String,
    pub seed: u64,
    pub bits: u32,
    pub complex: bool,
    pub stations: BTreeMap<String, StationTruth>,
    pub baselines: BTreeMap<String, BaselineTruth>,
}

/// Phase wrapped to (−π, π].
pub fn wrap_phase(x: f64) -> f64 {
    let two_pi = 2.0 * std::f64::consts::PI;
    let w = x - two_pi * (x / two_pi).round();
    if w <= -std::f64::consts::PI {
        w + two_pi
    } else {
        w
    }
}

/// Baselines of `names` (job order) with their truth from per-station
/// (offset, rate, fraction, efficiency) and the subbands' LO frequencies.
pub fn baselines(
    names: &[String],
    stations: &BTreeMap<String, StationTruth>,
    lo_hz: &[f64],
) -> BTreeMap<String, BaselineTruth> {
    let mut out = BTreeMap::new();
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            let (sa, sb) = (&stations[a], &stations[b]);
            let d = sb.clock_offset_s - sa.clock_offset_s;
            // Residual in the correlator's frame (see the module docs).
            let d_corr = sb.clock_offset_s / (1.0 + sb.model_rate_at_start)
                - sa.clock_offset_s / (1.0 + sa.model_rate_at_start);
            let amp = (sa.correlated_fraction * sb.correlated_fraction).sqrt();
            out.insert(
                format!("{a}-{b}"),
                BaselineTruth {
                    residual_delay_s: d,
                    residual_rate: sb.clock_rate - sa.clock_rate,
                    residual_phase_rad: lo_hz
                        .iter()
                        .map(|lo| {
                            // 2πν·d with ν·d reduced to turns first (ν·d ~ 10³ turns).
                            let turns = lo * d_corr;
                            wrap_phase(2.0 * std::f64::consts::PI * (turns - turns.round()))
                        })
                        .collect(),
                    expected_amplitude: amp,
                    expected_amplitude_quantised: amp
                        * sa.quantisation_efficiency
                        * sb.quantisation_efficiency,
                },
            );
        }
    }
    out
}
