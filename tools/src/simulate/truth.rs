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

//!
//! A session's truth (`SessionTruth`) gives the same quantities per scan,
//! source and baseline at the scan's centre, with ε = τ_true − τ_model per
//! station including a source's position error (the model at the true
//! position minus at the a-priori one) besides the injected clock; see
//! `baseline_from_residuals`.

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
    /// How the station records, when it has a setup of its own (absent: the
    /// job's subbands as `complex` says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup: Option<SetupTruth>,
    /// The source's carriers as this station records them (absent: none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tones: Vec<StationToneTruth>,
    /// Its instrumental response per band (absent: none, H = 1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instrumental: Vec<InstrumentalTruth>,
    /// Its phase-cal comb (absent: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcal: Option<PcalTruth>,
}

/// One station band's instrumental response as applied (see
/// `scenario::Instrumental`): at sky frequency f and station time t,
/// arg H = phase_rad + phase_rate_rad_per_s·(t − t0) − 2π(f − sky_freq_hz)·delay_s,
/// t0 = `reference_epoch` (on the station's clock). Sky convention: an LSB
/// or real recording's baseband holds the conjugate of the sky component.
#[derive(Debug, Clone, Serialize)]
pub struct InstrumentalTruth {
    /// Index of the station's band (its `setup.subbands` when it has a
    /// setup of its own, else the job's subbands).
    pub subband: usize,
    /// The band's edge f_edge as named (lower: USB, complex DSB; upper:
    /// LSB), without any LO offset.
    pub sky_freq_hz: f64,
    /// φ0: arg H at f_edge at t0.
    pub phase_rad: f64,
    /// φ̇.
    pub phase_rate_rad_per_s: f64,
    /// τ_inst: > 0 delays the signal (adds to the baseline delays as a clock
    /// offset would).
    pub delay_s: f64,
}

/// A station's phase-cal comb: tones at offset + k·interval, strictly
/// inside each band, locked to the station's clock (each tone phase 0 at
/// whole seconds of station time, at the feed), through the band's
/// instrumental response.
#[derive(Debug, Clone, Serialize)]
pub struct PcalTruth {
    pub interval_hz: f64,
    pub offset_hz: f64,
    /// Peak per real component, in σ of the recording.
    pub amplitude: f64,
    /// Every tone of every band, bands in order, ascending sky frequency.
    pub tones: Vec<PcalToneTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PcalToneTruth {
    /// The station band holding it.
    pub subband: usize,
    pub sky_freq_hz: f64,
    /// Its frequency in the recorded baseband: sky − LO (USB; complex DSB,
    /// negative below the LO), LO − sky (LSB); LO with `lo_offset_hz`.
    pub baseband_freq_hz: f64,
    /// What an ideal extractor reads: the tone's phase as recorded relative
    /// to an ideal station's (H = 1) at station time t0, i.e. arg H at the
    /// tone's sky frequency at t0 — in the sky convention, so an LSB band's
    /// baseband phase must be negated (the extractor conjugates), wrapped to
    /// (−π, π].
    pub expected_phase_rad: f64,
    /// d(expected phase)/dt (sky convention): φ̇ of the band.
    pub phase_rate_rad_per_s: f64,
    /// The tone's phase in the recorded baseband at station time t0: the
    /// recording holds A·cos(2π f_bb (t − t0) + θ) (real) or A·e^{i(…)}
    /// (complex), θ this, f_bb `baseband_freq_hz`; LSB: the negated sky
    /// phase. It is `expected_phase_rad` (negated for LSB) plus the ideal
    /// station's 2π f·(t0 − ⌊t0⌋) − 2πν_LO(t0 − g_ref), 0 when t0 is a
    /// whole second (g_ref: the recording's LO phase epoch, t0 for a single
    /// span and a session's first scan; a later scan's LO starts at its own
    /// start, adding 2πν_LO·(scan start − t0), 0 for a whole-Hz LO and
    /// whole-second starts).
    pub baseband_phase_rad: f64,
}

/// The instrumental phase the visibilities of a baseline carry in one
/// output band: V_AB = ⟨X_A conj X_B⟩ gains arg H_A − arg H_B, at sky
/// frequency f and time t: phase_rad + phase_rate_rad_per_s·(t − t0) +
/// 2π(f − sky_freq_hz)·delay_s. Not in `residual_phase_rad` or
/// `residual_delay_s` (those are the clocks' and geometry's alone): a fringe
/// fit without calibration sees their sum.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineInstrumentalTruth {
    /// Index of the job subband (output band).
    pub subband: usize,
    /// Its edge (`sky_freq_hz` of the job subband): the reference frequency.
    pub sky_freq_hz: f64,
    /// arg H_A − arg H_B at the edge at t0, wrapped (null: the stations do
    /// not both record the band).
    pub phase_rad: Option<f64>,
    /// τ_inst,B − τ_inst,A (the phase slope over 2π, as residual_delay_s).
    pub delay_s: Option<f64>,
    /// φ̇_A − φ̇_B.
    pub phase_rate_rad_per_s: Option<f64>,
}

/// A station's recording setup as simulated.
#[derive(Debug, Clone, Serialize)]
pub struct SetupTruth {
    /// "real", "complex" or "complex_dsb".
    pub sampling: String,
    pub lo_offset_hz: f64,
    /// Its bands in recording order (VDIF thread, channel).
    pub subbands: Vec<StationBandTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StationBandTruth {
    /// As in the job: lower edge (USB, complex_dsb) or upper edge (LSB).
    pub sky_freq_hz: f64,
    pub bandwidth_hz: f64,
    pub sideband: String,
    pub pol: String,
    pub thread: u16,
    pub channel: usize,
    /// The station's LO (offset included): the sky frequency of baseband 0.
    pub lo_hz: f64,
    /// The sky frequencies it records, [lo, hi).
    pub sky_range_hz: [f64; 2],
}

/// One carrier as one station records it, at the reference epoch g_e.
#[derive(Debug, Clone, Serialize)]
pub struct StationToneTruth {
    /// Transmitted frequency.
    pub sky_freq_hz: f64,
    /// ν_T/(1 + ρ), ρ = dτ_true/dg at g_e: the frequency this station
    /// receives (its own Doppler).
    pub received_freq_hz: f64,
    /// The station's band holding the tone (index into its subbands; null:
    /// none — the tone is not in its recording).
    pub subband: Option<usize>,
    /// The tone's frequency in that band's recorded baseband at g_e:
    /// received − LO (USB, complex_dsb: may be negative), LO − received (LSB).
    pub baseband_freq_hz: Option<f64>,
    /// Its phase φ_s in that baseband at station time g_e + τ_true(g_e)
    /// (the recording holds A·cos(2π f (t − t_e) + φ_s), or A·e^{i(…)} for
    /// complex): φ + 2π(ν_T − LO)(g_e − g_ref) − 2π·LO·τ(g_e) for USB and
    /// complex_dsb, its negative for LSB; wrapped to (−π, π].
    pub baseband_phase_rad: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BaselineTruth {
    pub residual_delay_s: f64,
    pub residual_rate: f64,
    pub residual_phase_rad: Vec<f64>,
    pub expected_amplitude: f64,
    pub expected_amplitude_quantised: f64,
    /// Per output band (job subband), when stations record differently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subbands: Option<Vec<BaselineBandTruth>>,
    /// The source's carriers on this baseline.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tones: Vec<BaselineToneTruth>,
    /// Per output band, the instrumental phase the visibilities carry on
    /// top of the residuals above (absent: no instrumental terms).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instrumental: Vec<BaselineInstrumentalTruth>,
}

/// One output band on one baseline.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineBandTruth {
    /// Index of the job subband.
    pub subband: usize,
    /// Sky frequencies of the output band both stations record, [lo, hi)
    /// (null: they share none of it).
    pub common_sky_hz: Option<[f64; 2]>,
    /// The correlation coefficient in every channel of `common_sky_hz`:
    /// √(f_A f_B), as the baseline's; quantised: × η_A η_B.
    pub expected_amplitude: Option<f64>,
    pub expected_amplitude_quantised: Option<f64>,
}

/// One carrier on one baseline, at the reference epoch.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineToneTruth {
    pub sky_freq_hz: f64,
    /// Fringe phase of V_AB = ⟨X_A conj X_B⟩ in the channel of the tone
    /// after correlating with job.toml's model: 2πν_T·(ε_B/(1 + ρ_B) −
    /// ε_A/(1 + ρ_A)), wrapped — the continuum's residual phase at ν_T (sky
    /// convention, as `residual_phase_rad`; the transmitted phase cancels).
    pub residual_phase_rad: f64,
    /// The output band holding ν_T (null: none).
    pub subband: Option<usize>,
    /// ν_T − LO (USB) or LO − ν_T (LSB) of that band.
    pub band_freq_hz: Option<f64>,
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
                    subbands: None,
                    tones: Vec::new(),
                    instrumental: Vec::new(),
                },
            );
        }
    }
    out
}

/// truth.json: a single span's or a session's.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TruthFile {
    Span(Truth),
    Session(SessionTruth),
}

/// A session's truth.json. The top level keeps the single-span keys that
/// mean the same here (`reference_epoch`, `seed`, `bits`, `complex`, and per
/// station and baseline the injected clock terms, which every scan shares);
/// what depends on the scan and source is under `scans`.
#[derive(Debug, Clone, Serialize)]
pub struct SessionTruth {
    /// Epoch of the injected clock rates (the first scan's start, geocentric
    /// UTC); also the `clock_epoch` job.toml gives stations with a clock rate.
    pub reference_epoch: String,
    pub seed: u64,
    pub bits: u32,
    pub complex: bool,
    pub stations: BTreeMap<String, SessionStationTruth>,
    /// The clock part of every scan's residuals, at the reference epoch.
    pub baselines: BTreeMap<String, ClockBaselineTruth>,
    /// Per source: its simulated position error, if any.
    pub sources: BTreeMap<String, SourceTruth>,
    pub scans: Vec<ScanTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionStationTruth {
    /// Injected clock offset at the reference epoch (not in job.toml), s.
    pub clock_offset_s: f64,
    /// Injected clock rate (not in job.toml).
    pub clock_rate: f64,
    pub quantisation_efficiency: f64,
    pub sample_rate_hz: f64,
    pub frames_per_second: u64,
    pub samples_per_frame: usize,
    /// How the station records, when it has a setup of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup: Option<SetupTruth>,
    /// As a single span's (t0 = `reference_epoch`): every scan shares them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instrumental: Vec<InstrumentalTruth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcal: Option<PcalTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClockBaselineTruth {
    /// Injected offset of B − that of A, at the reference epoch.
    pub residual_delay_s: f64,
    /// Injected rate of B − that of A.
    pub residual_rate: f64,
    /// As a single span's baseline `instrumental` (every scan's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instrumental: Vec<BaselineInstrumentalTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceTruth {
    /// True − a-priori position (Moon mean-Earth frame, m); `null` = exact.
    pub inject_offset_m: Option<[f64; 3]>,
    /// The true position the recordings were made with, as a `moon` site
    /// (`null` when the a-priori position is the truth).
    pub true_moon: Option<MoonSiteTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MoonSiteTruth {
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub height_m: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanTruth {
    pub name: String,
    /// Geocentric UTC.
    pub start: String,
    pub duration_s: f64,
    /// start + duration_s/2: the epoch of `residuals`.
    pub centre: String,
    /// The scan's sources (phase centres), in the scan's order.
    pub sources: Vec<String>,
    /// The stations that recorded it, in job order.
    pub stations: Vec<String>,
    /// Per station, its recording of the scan.
    pub recordings: BTreeMap<String, RecordingTruth>,
    /// Per source (by name): per station and per baseline at `centre`.
    pub residuals: BTreeMap<String, ScanSourceTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordingTruth {
    /// File name, in the directory of truth.json.
    pub file: String,
    /// Station time of the first sample.
    pub first_sample: String,
    /// Station time just after the last sample.
    pub end: String,
    pub frames_per_thread: u64,
    pub invalid_frames: u64,
    pub missing_frames: u64,
    pub truncated_last_frame: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanSourceTruth {
    pub stations: BTreeMap<String, StationSourceTruth>,
    pub baselines: BTreeMap<String, BaselineTruth>,
}

/// One station, one source, at the scan's centre g_c.
#[derive(Debug, Clone, Serialize)]
pub struct StationSourceTruth {
    /// This source's share of the station's power.
    pub correlated_fraction: f64,
    /// τ(g_c) job.toml's model gives (a-priori position, known clock).
    pub model_delay_s: f64,
    pub model_rate: f64,
    /// τ(g_c) the recording holds (true position, plus the injected clock).
    pub true_delay_s: f64,
    pub true_rate: f64,
    /// The position error's part of true − model (no clock), s.
    pub geometry_error_s: f64,
    /// The source's carriers as this station records them, at the centre.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tones: Vec<StationToneTruth>,
}

/// One station's residual for one source at one epoch: ε = τ_true − τ_model,
/// its rate, and the model rate ρ (for the correlator's frame, ε/(1 + ρ)).
#[derive(Debug, Clone, Copy)]
pub struct Residual {
    pub delay_s: f64,
    pub rate: f64,
    pub model_rate: f64,
}

/// A baseline's truth from its stations' residuals (A before B in job
/// order), with the same definitions as the single span's (module docs):
/// delay and rate the differences ε_B − ε_A, phase 2πν_LO·(ε_B/(1 + ρ_B) −
/// ε_A/(1 + ρ_A)) per subband, amplitudes from the shares f and the
/// quantisers' efficiencies η.
pub fn baseline_from_residuals(
    a: Residual,
    b: Residual,
    lo_hz: &[f64],
    (f_a, f_b): (f64, f64),
    (eta_a, eta_b): (f64, f64),
) -> BaselineTruth {
    let d_corr = b.delay_s / (1.0 + b.model_rate) - a.delay_s / (1.0 + a.model_rate);
    let amp = (f_a * f_b).sqrt();
    BaselineTruth {
        residual_delay_s: b.delay_s - a.delay_s,
        residual_rate: b.rate - a.rate,
        residual_phase_rad: lo_hz
            .iter()
            .map(|lo| {
                // 2πν·d with ν·d reduced to turns first (ν·d ~ 10³ turns).
                let turns = lo * d_corr;
                wrap_phase(2.0 * std::f64::consts::PI * (turns - turns.round()))
            })
            .collect(),
        expected_amplitude: amp,
        expected_amplitude_quantised: amp * eta_a * eta_b,
        subbands: None,
        tones: Vec::new(),
        instrumental: Vec::new(),
    }
}

/// The residual delay in the correlator's frame, ε_B/(1 + ρ_B) − ε_A/(1 + ρ_A).
pub fn corr_frame_delay_s(a: Residual, b: Residual) -> f64 {
    b.delay_s / (1.0 + b.model_rate) - a.delay_s / (1.0 + a.model_rate)
}

/// The carriers' truth on a baseline whose residual in the correlator's
/// frame is `d_corr_s`; `bands`: the output bands as (sky_freq_hz,
/// bandwidth_hz, upper sideband).
pub fn baseline_tones(
    d_corr_s: f64,
    tones: &[f64],
    bands: &[(f64, f64, bool)],
) -> Vec<BaselineToneTruth> {
    tones
        .iter()
        .map(|&nu| {
            let turns = nu * d_corr_s;
            let band = bands.iter().position(|&(edge, bw, usb)| {
                if usb {
                    (edge..edge + bw).contains(&nu)
                } else {
                    nu > edge - bw && nu <= edge
                }
            });
            BaselineToneTruth {
                sky_freq_hz: nu,
                residual_phase_rad: wrap_phase(
                    2.0 * std::f64::consts::PI * (turns - turns.round()),
                ),
                subband: band,
                band_freq_hz: band.map(|k| {
                    let (edge, _, usb) = bands[k];
                    if usb {
                        nu - edge
                    } else {
                        edge - nu
                    }
                }),
            }
        })
        .collect()
}
