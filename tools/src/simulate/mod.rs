//! `emcorr simulate`: synthetic recordings with known truth.
//!
//! A scenario (a job file plus `[simulation]` keys and injected clock errors)
//! becomes, per station, a VDIF recording of one common band-limited Gaussian
//! sky delayed by the station's true delay, plus its own noise; a `job.toml`
//! that correlates them with the model the correlator knows (without the
//! injected errors); and a `truth.json` with what the correlator should find.
//!
//! A session scenario (`[[scan]]` tables, see `session`) becomes one recording
//! per scan and station, each holding the sum of its scan's sources' skies.
//!
//! Stages, top to bottom: `scenario` (TOML → Scenario) → `plan` (a `Pass` of
//! `Recording`s for the single span, or one per scan: `session`) → `signal`
//! (skies, continuous delays, LO phase, noise) → `quantise` (codes) →
//! `faults` → `write` (files or FIFOs, one writer thread per station);
//! `truth` beside.

pub mod bands;
pub mod detmath;
pub mod faults;
pub mod observables;
pub mod quantise;
pub mod scenario;
pub mod session;
pub mod signal;
pub mod truth;
pub mod vex_out;
pub mod write;

#[cfg(test)]
mod hetero_tests;
#[cfg(test)]
mod pcal_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vex_observables_tests;

use bands::SkyPlan;
use correlator::job::Sideband;
use correlator::model::{build_tracks, DelayTrack};
use faults::{Fate, FaultPlan};
use formats::UtcTime;
use quantise::Quantiser;
use scenario::Scenario;
use signal::{
    noise_stream, GaussianSky, InstrumentalPhase, Interpolator, PcalComb, PlusDelay, SkyCache,
    SkyPart, StationSignal, TonePart, TrueDelay,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use write::FrameLayout;

/// Why a simulation failed: one line naming the file or key.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    #[error("{0}")]
    BadInput(String),
    #[error("{path}: {why}")]
    Io { path: PathBuf, why: String },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> SimError + '_ {
    move |e| SimError::Io {
        path: path.to_path_buf(),
        why: e.to_string(),
    }
}

/// The true delay: the model track (with the clock the job knows) plus the
/// injected clock error, offset + rate·(g − start).
pub struct InjectedDelay {
    pub track: DelayTrack,
    pub offset_s: f64,
    pub rate: f64,
    pub epoch: UtcTime,
}

impl TrueDelay for InjectedDelay {
    fn delay_s(&self, g: UtcTime) -> f64 {
        self.track.eval(g).delay_s + self.offset_s + self.rate * g.seconds_since(self.epoch)
    }
}

impl InjectedDelay {
    /// dτ/dg of the truth.
    pub fn rate_at(&self, g: UtcTime) -> f64 {
        self.track.eval(g).rate + self.rate
    }
}

/// ν·(to − from) in turns, reduced mod 1, exact enough at 10 GHz over days:
/// whole seconds times the integer part of ν are whole turns.
pub(crate) fn turns_between(nu_hz: f64, from: UtcTime, to: UtcTime) -> f64 {
    let whole = (to.sec() - from.sec()) as f64;
    let frac = to.frac() - from.frac();
    let nu_frac = nu_hz - nu_hz.floor();
    let wrap = |x: f64| x - x.floor();
    wrap(wrap(nu_frac * whole) + wrap(nu_hz * frac))
}

/// Source `k`'s carriers with their transmitted phase at `g_ref` (turns):
/// φ at the reference epoch advanced by ν_T·(g_ref − epoch).
fn tones_at(sc: &Scenario, k: usize, epoch: UtcTime, g_ref: UtcTime) -> Vec<(scenario::Tone, f64)> {
    sc.sim
        .sources
        .get(k)
        .map(|s| {
            s.tones
                .iter()
                .map(|t| {
                    let turns = t.phase_rad / std::f64::consts::TAU
                        + turns_between(t.sky_freq_hz, epoch, g_ref);
                    (*t, turns - turns.floor())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Station `s`'s setup for truth.json, when the scenario gave it one.
fn setup_truth(sc: &Scenario, s: usize) -> Option<truth::SetupTruth> {
    let setup = &sc.sim.stations[s].setup;
    if setup.job_keys.is_empty() {
        return None;
    }
    Some(truth::SetupTruth {
        sampling: setup.sampling.name().into(),
        lo_offset_hz: setup.lo_offset_hz,
        subbands: setup
            .bands
            .iter()
            .map(|b| {
                let (lo, hi) = setup.sky_range_hz(b);
                truth::StationBandTruth {
                    sky_freq_hz: b.sky_freq_hz,
                    bandwidth_hz: b.bandwidth_hz,
                    sideband: if b.sideband == Sideband::Upper {
                        "U"
                    } else {
                        "L"
                    }
                    .into(),
                    pol: b.pol.letter().to_string(),
                    thread: b.thread,
                    channel: b.channel,
                    lo_hz: setup.lo_hz(b),
                    sky_range_hz: [lo, hi],
                }
            })
            .collect(),
    })
}

/// Index of station `s`'s band that records sky frequency `nu_hz`.
fn band_holding(sc: &Scenario, s: usize, nu_hz: f64) -> Option<usize> {
    let setup = &sc.sim.stations[s].setup;
    setup.bands.iter().position(|b| {
        let (lo, hi) = setup.sky_range_hz(b);
        (lo..hi).contains(&nu_hz)
    })
}

/// Station `s`'s view of carriers `tones` (phases at `g_ref`) through its
/// true delay, at geocentric epoch `g_e` (see `truth::StationToneTruth`),
/// and through its band's instrumental response (reference epoch `t0`).
fn station_tones(
    sc: &Scenario,
    s: usize,
    tones: &[(scenario::Tone, f64)],
    delay: &InjectedDelay,
    (g_e, g_ref, t0): (UtcTime, UtcTime, UtcTime),
) -> Vec<truth::StationToneTruth> {
    let sim = &sc.sim.stations[s];
    let setup = &sim.setup;
    let tau = delay.delay_s(g_e);
    let rho = delay.rate_at(g_e);
    tones
        .iter()
        .map(|(t, phase_turns)| {
            let nu = t.sky_freq_hz;
            let received = nu / (1.0 + rho);
            let band = band_holding(sc, s, nu);
            let (f, phase) = match band {
                None => (None, None),
                Some(j) => {
                    let b = &setup.bands[j];
                    let lo = setup.lo_hz(b);
                    // The instrumental response at the received frequency,
                    // at the station time t_e = g_e + τ(g_e) the truth is for
                    // (the delay τ_inst makes the wavefront there g_e −
                    // τ_inst/(1 + ρ): −ν_received·τ_inst, which arg H holds).
                    let t_e = g_e.add_seconds(tau);
                    let inst = sim.instrumental_of(j).turns(
                        b.sky_freq_hz,
                        received,
                        t_e.seconds_since(t0),
                    );
                    let turns = phase_turns + ((nu - lo) * g_e.seconds_since(g_ref)).fract()
                        - (lo * tau).fract()
                        + inst.fract();
                    let phase = truth::wrap_phase(std::f64::consts::TAU * (turns - turns.round()));
                    if b.sideband == Sideband::Upper {
                        (Some(received - lo), Some(phase))
                    } else {
                        (Some(lo - received), Some(-phase))
                    }
                }
            };
            truth::StationToneTruth {
                sky_freq_hz: nu,
                received_freq_hz: received,
                subband: band,
                baseband_freq_hz: f,
                baseband_phase_rad: phase,
            }
        })
        .collect()
}

/// Station `s`'s instrumental terms per band, as applied (empty: none).
fn instrumental_truth(sc: &Scenario, s: usize) -> Vec<truth::InstrumentalTruth> {
    let sim = &sc.sim.stations[s];
    sim.instrumental
        .iter()
        .zip(&sim.setup.bands)
        .enumerate()
        .map(|(j, (i, b))| truth::InstrumentalTruth {
            subband: j,
            sky_freq_hz: b.sky_freq_hz,
            phase_rad: i.phase_rad,
            phase_rate_rad_per_s: i.phase_rate_rad_per_s,
            delay_s: i.delay_s,
        })
        .collect()
}

/// Station `s`'s comb as an ideal extractor should read it, at station time
/// `t0` (the reference epoch; the LO phase is 0 at `g_ref` on the station's
/// clock, see `signal`).
fn pcal_truth(sc: &Scenario, s: usize, t0: UtcTime, g_ref: UtcTime) -> Option<truth::PcalTruth> {
    let sim = &sc.sim.stations[s];
    let p = sim.pcal?;
    let setup = &sim.setup;
    let mut tones = Vec::new();
    for (j, b) in setup.bands.iter().enumerate() {
        let lo = setup.lo_hz(b);
        let inst = sim.instrumental_of(j);
        let usb = b.sideband == Sideband::Upper;
        for f in sim.pcal_tones(j) {
            let psi = inst.turns(b.sky_freq_hz, f, 0.0);
            // Sky-convention baseband phase at t0: the comb's f·(t0 − ⌊t0⌋),
            // the LO's −ν₀(t0 − g_ref), and arg H.
            let bb = (f * t0.frac()).fract() - turns_between(lo, g_ref, t0) + psi.fract();
            let bb = truth::wrap_phase(std::f64::consts::TAU * (bb - bb.round()));
            tones.push(truth::PcalToneTruth {
                subband: j,
                sky_freq_hz: f,
                baseband_freq_hz: if usb { f - lo } else { lo - f },
                expected_phase_rad: truth::wrap_phase(std::f64::consts::TAU * (psi - psi.round())),
                phase_rate_rad_per_s: inst.phase_rate_rad_per_s,
                baseband_phase_rad: if usb { bb } else { truth::wrap_phase(-bb) },
            });
        }
    }
    Some(truth::PcalTruth {
        interval_hz: p.interval_hz,
        offset_hz: p.offset_hz,
        amplitude: p.amplitude,
        tones,
    })
}

/// Station `s`'s band that records most of sky range [lo, hi) of
/// polarisation `pol` (the one a correlator takes for an output band).
fn band_covering(
    sc: &Scenario,
    s: usize,
    lo: f64,
    hi: f64,
    pol: correlator::job::Pol,
) -> Option<usize> {
    let setup = &sc.sim.stations[s].setup;
    setup
        .bands
        .iter()
        .enumerate()
        .filter(|(_, x)| x.pol == pol)
        .map(|(j, x)| {
            let (l, h) = setup.sky_range_hz(x);
            (j, h.min(hi) - l.max(lo))
        })
        .filter(|(_, w)| *w > 0.0)
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(j, _)| j)
}

/// Per output band, the instrumental phase the visibilities of baseline
/// a–b carry (empty when neither station has instrumental terms).
fn baseline_instrumental(
    sc: &Scenario,
    a: usize,
    b: usize,
) -> Vec<truth::BaselineInstrumentalTruth> {
    let (sa, sb) = (&sc.sim.stations[a], &sc.sim.stations[b]);
    if sa.instrumental.is_empty() && sb.instrumental.is_empty() {
        return Vec::new();
    }
    sc.job
        .subbands
        .iter()
        .enumerate()
        .map(|(k, ob)| {
            let (lo, hi) = if ob.sideband == Sideband::Upper {
                (ob.sky_freq_hz, ob.sky_freq_hz + ob.bandwidth_hz)
            } else {
                (ob.sky_freq_hz - ob.bandwidth_hz, ob.sky_freq_hz)
            };
            let both =
                band_covering(sc, a, lo, hi, ob.pol).zip(band_covering(sc, b, lo, hi, ob.pol));
            let r = ob.sky_freq_hz;
            let (phase, delay, rate) = match both {
                None => (None, None, None),
                Some((ja, jb)) => {
                    let (ia, ib) = (sa.instrumental_of(ja), sb.instrumental_of(jb));
                    let ea = sa.setup.bands[ja].sky_freq_hz;
                    let eb = sb.setup.bands[jb].sky_freq_hz;
                    // V_AB = ⟨X_A conj X_B⟩ carries arg H_A − arg H_B.
                    let turns = ia.turns(ea, r, 0.0) - ib.turns(eb, r, 0.0);
                    (
                        Some(truth::wrap_phase(
                            std::f64::consts::TAU * (turns - turns.round()),
                        )),
                        Some(ib.delay_s - ia.delay_s),
                        Some(ia.phase_rate_rad_per_s - ib.phase_rate_rad_per_s),
                    )
                }
            };
            truth::BaselineInstrumentalTruth {
                subband: k,
                sky_freq_hz: r,
                phase_rad: phase,
                delay_s: delay,
                phase_rate_rad_per_s: rate,
            }
        })
        .collect()
}

/// Per output band, what stations `a` and `b` both record of it and the
/// coefficient there; `None` when no station has a setup of its own.
fn band_truths(
    sc: &Scenario,
    a: usize,
    b: usize,
    amp: f64,
    amp_quantised: f64,
) -> Option<Vec<truth::BaselineBandTruth>> {
    if sc.sim.stations.iter().all(|s| s.setup.job_keys.is_empty()) {
        return None;
    }
    // The station band overlapping the output band most (a correlator takes
    // one band of a station per output band), as [lo, hi).
    let covered = |s: usize, lo: f64, hi: f64, pol| -> Option<(f64, f64)> {
        let setup = &sc.sim.stations[s].setup;
        setup
            .bands
            .iter()
            .filter(|x| x.pol == pol)
            .map(|x| {
                let (l, h) = setup.sky_range_hz(x);
                (l.max(lo), h.min(hi))
            })
            .filter(|(l, h)| h > l)
            .max_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)))
    };
    Some(
        sc.job
            .subbands
            .iter()
            .enumerate()
            .map(|(k, sb)| {
                let (lo, hi) = if sb.sideband == Sideband::Upper {
                    (sb.sky_freq_hz, sb.sky_freq_hz + sb.bandwidth_hz)
                } else {
                    (sb.sky_freq_hz - sb.bandwidth_hz, sb.sky_freq_hz)
                };
                let common = match (covered(a, lo, hi, sb.pol), covered(b, lo, hi, sb.pol)) {
                    (Some(x), Some(y)) => {
                        let (l, h) = (x.0.max(y.0), x.1.min(y.1));
                        (h > l).then_some([l, h])
                    }
                    _ => None,
                };
                truth::BaselineBandTruth {
                    subband: k,
                    common_sky_hz: common,
                    expected_amplitude: common.map(|_| amp),
                    expected_amplitude_quantised: common.map(|_| amp_quantised),
                }
            })
            .collect(),
    )
}

/// The output bands as (band edge, bandwidth, upper sideband).
fn output_bands(sc: &Scenario) -> Vec<(f64, f64, bool)> {
    sc.job
        .subbands
        .iter()
        .map(|s| (s.sky_freq_hz, s.bandwidth_hz, s.sideband == Sideband::Upper))
        .collect()
}

/// Read job.toml as the correlator reads it (station setup keys included).
pub fn read_job_toml(text: &str, path: &Path) -> Result<correlator::Job, SimError> {
    correlator::Job::from_toml_str(text, path).map_err(|e| SimError::BadInput(e.to_string()))
}

/// One source in a recording: the station's true delay for it and the
/// source's share of the station's power.
pub struct RecordedSource {
    /// Index into the pass's `sources`.
    pub part: usize,
    pub delay: Arc<InjectedDelay>,
    pub correlated_fraction: f64,
    /// The source's carriers, with their phase at the pass's g_ref (turns).
    pub tones: Vec<(scenario::Tone, f64)>,
}

/// One recording (a file, or a FIFO): one station over one span or scan.
pub struct Recording {
    /// The station's index in the job.
    pub station: usize,
    pub name: String,
    pub path: PathBuf,
    pub first_sample: UtcTime,
    pub frames: u64,
    pub faults: FaultPlan,
    pub sources: Vec<RecordedSource>,
}

/// Recordings made together, their stations in lock-step (see
/// `write::Pacer`): the single span, or one scan of a session.
pub struct Pass {
    /// The session's scan index; `None` for a single span.
    pub scan: Option<usize>,
    /// Geocentric time of sky sample 0: the span's or scan's start.
    pub g_ref: UtcTime,
    /// The sources on the sky (job indices), each with its own sky.
    pub sources: Vec<usize>,
    pub recordings: Vec<Recording>,
}

impl Pass {
    /// Random stream of the sky of `part` (an index into `sources`) in
    /// subband `k`. A single span keeps the streams it always had.
    fn sky_stream(&self, part: usize, k: usize) -> u64 {
        match self.scan {
            None => signal::sky_stream(k),
            Some(i) => signal::scan_stream(
                signal::sky_stream(signal::session_sky_id(self.sources[part], k)),
                i,
            ),
        }
    }

    fn noise_stream(&self, station: usize, k: usize) -> u64 {
        match self.scan {
            None => noise_stream(station, k),
            Some(i) => signal::scan_stream(noise_stream(station, k), i),
        }
    }
}

/// Everything decided before any sample is made.
pub struct Plan {
    /// Per station (job order): its recordings' frame layout.
    pub layouts: Vec<FrameLayout>,
    pub skies: SkyPlan,
    pub passes: Vec<Pass>,
    pub truth: truth::TruthFile,
    pub job_toml: String,
    /// A session's schedule as written (what a VEX writer would describe).
    pub schedule: Option<session::Schedule>,
    /// t0 of the instrumental responses: the reference epoch of truth.json.
    pub epoch: UtcTime,
}

impl Plan {
    pub fn recordings(&self) -> impl Iterator<Item = &Recording> {
        self.passes.iter().flat_map(|p| p.recordings.iter())
    }
}

/// Margin of the delay model beyond the job's span (recordings start and end
/// on frame boundaries around it).
const MODEL_MARGIN_S: f64 = 2.0;

/// The scenario's quantiser (its bits were validated with the scenario).
fn quantiser(sc: &Scenario) -> Result<Quantiser, SimError> {
    Quantiser::new(sc.sim.bits).ok_or_else(|| {
        SimError::BadInput(format!(
            "{}: key `simulation.bits`: {} bits is not 1, 2, 4 or 8",
            sc.job.file.display(),
            sc.sim.bits
        ))
    })
}

/// The frame layout of recordings of the job's subbands as `[simulation]`
/// samples them (what a VEX schedule describes).
pub(crate) fn layout_of(sc: &Scenario) -> Result<FrameLayout, SimError> {
    frame_layout(sc)
}

/// The frame layout of station `s`'s recordings: its bands on their VDIF
/// threads and channels, at its sample rate.
pub(crate) fn station_layout(sc: &Scenario, s: usize) -> Result<FrameLayout, SimError> {
    let setup = &sc.sim.stations[s].setup;
    let mut ids: Vec<u16> = setup.bands.iter().map(|b| b.thread).collect();
    ids.sort();
    ids.dedup();
    let threads = ids
        .into_iter()
        .map(|t| {
            let n = setup.bands.iter().filter(|b| b.thread == t).count();
            let mut sbs = vec![0; n];
            for (i, b) in setup.bands.iter().enumerate() {
                if b.thread == t {
                    sbs[b.channel] = i;
                }
            }
            (t, sbs)
        })
        .collect();
    let vps = if setup.sampling.is_complex() { 2 } else { 1 };
    FrameLayout::new(setup.sample_rate_hz(), sc.sim.bits, vps, threads).map_err(|why| {
        SimError::BadInput(format!(
            "{}: station {}: {why}",
            sc.job.file.display(),
            sc.job.stations[s].name
        ))
    })
}

/// Every station's layout, in job order.
pub(crate) fn station_layouts(sc: &Scenario) -> Result<Vec<FrameLayout>, SimError> {
    (0..sc.job.stations.len())
        .map(|s| station_layout(sc, s))
        .collect()
}

fn frame_layout(sc: &Scenario) -> Result<FrameLayout, SimError> {
    let threads: Vec<(u16, Vec<usize>)> = sc
        .threads()
        .into_iter()
        .map(|(t, n)| {
            let mut sbs = vec![0; n];
            for (i, s) in sc.job.subbands.iter().enumerate() {
                if s.thread == t {
                    sbs[s.channel] = i;
                }
            }
            (t, sbs)
        })
        .collect();
    let vps = if sc.sim.complex { 2 } else { 1 };
    FrameLayout::new(sc.sample_rate_hz(), sc.sim.bits, vps, threads)
        .map_err(|why| SimError::BadInput(format!("{}: {why}", sc.job.file.display())))
}

/// The frames of a recording that covers, on the station's clock, the
/// wavefronts of geocentric `start` to `end` of every delay in `delays`
/// (g + τ(g)), plus one frame each side, on frame boundaries: its first
/// sample's time and its frame count per thread.
fn recording_window(
    layout: &FrameLayout,
    delays: &[&InjectedDelay],
    start: UtcTime,
    end: UtcTime,
) -> (UtcTime, u64) {
    let fps = layout.frames_per_second;
    let frame_s = 1.0 / fps as f64;
    let earliest = delays
        .iter()
        .map(|d| start.add_seconds(d.delay_s(start)))
        .fold(None, |m: Option<UtcTime>, t| {
            Some(m.map_or(t, |m| if t < m { t } else { m }))
        })
        .unwrap_or(start);
    let latest = delays
        .iter()
        .map(|d| end.add_seconds(d.delay_s(end)))
        .fold(None, |m: Option<UtcTime>, t| {
            Some(m.map_or(t, |m| if t > m { t } else { m }))
        })
        .unwrap_or(end);
    let first = layout.frame_floor(earliest).add_seconds(-frame_s);
    let frames = (latest.seconds_since(first) * fps as f64).ceil() as u64 + 1;
    (first, frames)
}

/// Decide frames, delays, job.toml and truth for writing into `out_dir`.
pub fn plan(sc: &Scenario, out_dir: &Path) -> Result<Plan, SimError> {
    if sc.is_session() {
        session::plan(sc, out_dir)
    } else {
        plan_span(sc, out_dir)
    }
}

/// A single span: one recording per station of the job's first source.
fn plan_span(sc: &Scenario, out_dir: &Path) -> Result<Plan, SimError> {
    let job = &sc.job;
    let (Some(start), Some(duration)) = (job.start, job.duration_s) else {
        return Err(SimError::BadInput(format!(
            "{}: a single-span scenario needs [job] start and duration_s",
            job.file.display()
        )));
    };
    let end = start.add_seconds(duration);
    let tracks = build_tracks(
        job,
        start.add_seconds(-MODEL_MARGIN_S),
        end.add_seconds(MODEL_MARGIN_S),
    )
    .map_err(|e| SimError::BadInput(e.to_string()))?;

    let layouts = station_layouts(sc)?;
    let efficiency = quantiser(sc)?.efficiency();
    let tones = tones_at(sc, 0, start, start);

    let mut recordings = Vec::new();
    let mut st_truth = BTreeMap::new();
    let mut residuals = Vec::new();
    for (i, (st, track)) in job.stations.iter().zip(tracks).enumerate() {
        let sim = &sc.sim.stations[i];
        let layout = &layouts[i];
        let fps = layout.frames_per_second;
        let model_at_start = track.eval(start);
        let delay = Arc::new(InjectedDelay {
            track,
            offset_s: sim.inject_clock_offset_s,
            rate: sim.inject_clock_rate,
            epoch: start,
        });
        residuals.push(truth::Residual {
            delay_s: sim.inject_clock_offset_s,
            rate: sim.inject_clock_rate,
            model_rate: model_at_start.rate,
        });
        // The recording covers [start + τ(start), end + τ(end)] of station
        // time, plus one frame each side, on frame boundaries.
        let (first, frames) = recording_window(layout, &[&delay], start, end);
        let faults = FaultPlan::new(
            &sim.faults,
            sc.sim.seed,
            signal::fault_stream(i),
            layout.threads.len(),
            frames,
            fps,
        );
        st_truth.insert(
            st.name.clone(),
            truth::StationTruth {
                clock_offset_s: sim.inject_clock_offset_s,
                clock_rate: sim.inject_clock_rate,
                correlated_fraction: sim.correlated_fraction,
                quantisation_efficiency: efficiency,
                sample_rate_hz: layout.sample_rate_hz,
                first_sample: first.to_iso8601(),
                frames_per_thread: frames,
                frames_per_second: fps,
                samples_per_frame: layout.samples_per_frame,
                invalid_frames: faults.count(Fate::Invalid),
                missing_frames: faults.count(Fate::Missing),
                truncated_last_frame: faults.truncate_last_frame,
                model_delay_at_start_s: model_at_start.delay_s,
                model_rate_at_start: model_at_start.rate,
                true_delay_at_start_s: delay.delay_s(start),
                setup: setup_truth(sc, i),
                tones: station_tones(sc, i, &tones, &delay, (start, start, start)),
                instrumental: instrumental_truth(sc, i),
                pcal: pcal_truth(sc, i, start, start),
            },
        );
        recordings.push(Recording {
            station: i,
            name: st.name.clone(),
            path: out_dir.join(format!("{}.vdif", st.name)),
            first_sample: first,
            frames,
            faults,
            sources: vec![RecordedSource {
                part: 0,
                delay,
                correlated_fraction: sim.correlated_fraction,
                tones: tones.clone(),
            }],
        });
    }
    let names: Vec<String> = job.stations.iter().map(|s| s.name.clone()).collect();
    let los: Vec<f64> = job.subbands.iter().map(|s| s.sky_freq_hz).collect();
    let mut baselines = truth::baselines(&names, &st_truth, &los);
    let tone_freqs: Vec<f64> = tones.iter().map(|t| t.0.sky_freq_hz).collect();
    for a in 0..names.len() {
        for b in a + 1..names.len() {
            if let Some(bt) = baselines.get_mut(&format!("{}-{}", names[a], names[b])) {
                let d_corr = truth::corr_frame_delay_s(residuals[a], residuals[b]);
                bt.tones = truth::baseline_tones(d_corr, &tone_freqs, &output_bands(sc));
                bt.subbands = band_truths(
                    sc,
                    a,
                    b,
                    bt.expected_amplitude,
                    bt.expected_amplitude_quantised,
                );
                bt.instrumental = baseline_instrumental(sc, a, b);
            }
        }
    }
    let truth = truth::Truth {
        reference_epoch: start.to_iso8601(),
        seed: sc.sim.seed,
        bits: sc.sim.bits,
        complex: sc.sim.complex,
        stations: st_truth,
        baselines,
    };
    let mut t = job_table(sc)?;
    let jt = job_section(&mut t);
    jt.insert("start".into(), start.to_iso8601().into());
    jt.insert("duration_s".into(), duration.into());
    if let Some(toml::Value::Array(sts)) = t.get_mut("station") {
        for (i, (st, s)) in sts.iter_mut().zip(&job.stations).enumerate() {
            if let Some(st) = st.as_table_mut() {
                st.remove("files");
                st.insert("file".into(), format!("{}.vdif", s.name).into());
                st.insert("sample_rate_hz".into(), layouts[i].sample_rate_hz.into());
            }
        }
    }
    let job_toml = job_text(&t, "clock errors")?;
    Ok(Plan {
        layouts,
        skies: SkyPlan::new(sc),
        passes: vec![Pass {
            scan: None,
            g_ref: start,
            sources: vec![0],
            recordings,
        }],
        truth: truth::TruthFile::Span(truth),
        job_toml,
        schedule: None,
        epoch: start,
    })
}

/// The scenario's job keys (no simulation keys, so no injected errors) for
/// job.toml, with the name and output set and every path made absolute so
/// the job works from anywhere.
fn job_table(sc: &Scenario) -> Result<toml::Table, SimError> {
    let abs = |p: &Path| -> Result<String, SimError> {
        let p = std::path::absolute(p).map_err(io_err(p))?;
        Ok(p.to_string_lossy().into_owned())
    };
    let mut t = sc.job_table.clone();
    let job = &sc.job;
    // The stations' setup keys, as the scenario gave them (the simulator
    // took them out before the job parser saw the scenario).
    if let Some(toml::Value::Array(sts)) = t.get_mut("station") {
        for (st, sim) in sts.iter_mut().zip(&sc.sim.stations) {
            if let Some(st) = st.as_table_mut() {
                st.extend(sim.setup.job_keys.clone());
                // What the correlator needs to extract the comb.
                if let Some(p) = sim.pcal {
                    st.insert("pcal_interval_hz".into(), p.interval_hz.into());
                    st.insert("pcal_offset_hz".into(), p.offset_hz.into());
                }
            }
        }
    }
    let jt = job_section(&mut t);
    jt.insert("name".into(), job.name.clone().into());
    jt.insert("output".into(), format!("{}.fits", job.name).into());
    if let (Some(m), Some(toml::Value::Table(mt))) = (&job.model, t.get_mut("model")) {
        let kernels: Result<Vec<toml::Value>, SimError> =
            m.kernels.iter().map(|k| abs(k).map(Into::into)).collect();
        mt.insert("kernels".into(), toml::Value::Array(kernels?));
        if let Some(e) = &m.eop {
            mt.insert("eop".into(), abs(e)?.into());
        }
    }
    // `[source]` is one table, `[[source]]` a list: OEM paths made absolute.
    let tables: Vec<&mut toml::Table> = match t.get_mut("source") {
        Some(toml::Value::Table(src)) => vec![src],
        Some(toml::Value::Array(list)) => {
            list.iter_mut().filter_map(|v| v.as_table_mut()).collect()
        }
        _ => Vec::new(),
    };
    for (src, s) in tables.into_iter().zip(&job.sources) {
        if let correlator::job::SourcePosition::Oem(p) = &s.position {
            src.insert("oem".into(), abs(p)?.into());
        }
    }
    Ok(t)
}

/// `[job]` of a job table (made if absent).
fn job_section(t: &mut toml::Table) -> &mut toml::Table {
    let v = t
        .entry("job")
        .or_insert_with(|| toml::Value::Table(Default::default()));
    if !v.is_table() {
        *v = toml::Value::Table(Default::default());
    }
    match v {
        toml::Value::Table(jt) => jt,
        _ => unreachable!("made a table just above"),
    }
}

/// job.toml's text: a header saying what it is, then the table.
fn job_text(t: &toml::Table, injected: &str) -> Result<String, SimError> {
    let text = toml::to_string(t).map_err(|e| SimError::BadInput(e.to_string()))?;
    Ok(format!(
        "# Written by `emcorr simulate` for the recordings beside it. The model is\n\
         # the scenario's, without the injected {injected} (see truth.json).\n{text}"
    ))
}

/// How to write: files, or named pipes (`--fifo`); and for a session,
/// whether to write its schedule as VEX too (`--vex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    pub fifo: bool,
    pub vex: bool,
}

/// Whether `opts` suit the scenario (before anything is written).
pub fn check_options(sc: &Scenario, opts: Options) -> Result<(), SimError> {
    // Truth that only the observable-level simulation can carry: a station
    // position, zenith wet delay or gradient unlike the a priori.
    type IsSet = fn(&scenario::StationSim) -> bool;
    let observables_only: [(&str, IsSet); 3] = [
        ("inject_offset_m (a station position error)", |s| {
            s.inject_offset_m.is_some()
        }),
        (
            "inject_zwd_m / inject_zwd_rw_m_per_sqrt_h (a zenith wet delay error)",
            |s| s.inject_zwd_m != 0.0 || s.inject_zwd_rw_m_per_sqrt_h != 0.0,
        ),
        ("inject_gradient_m (a troposphere gradient)", |s| {
            s.inject_gradient_m != [0.0; 2]
        }),
    ];
    for (what, set) in observables_only {
        if let Some((st, _)) = sc
            .job
            .stations
            .iter()
            .zip(&sc.sim.stations)
            .find(|(_, s)| set(s))
        {
            return Err(SimError::BadInput(format!(
                "{}: station {}: {what} is simulated by `emcorr simulate --observables` only, not in recordings",
                sc.job.file.display(),
                st.name
            )));
        }
    }
    let e = sc.sim.inject_eop;
    if e.dut1_s != 0.0 || e.xp_rad != 0.0 || e.yp_rad != 0.0 {
        return Err(SimError::BadInput(format!(
            "{}: simulation.inject_ut1_s / inject_xp_rad / inject_yp_rad (an EOP error) is simulated by `emcorr simulate --observables` only, not in recordings",
            sc.job.file.display()
        )));
    }
    if opts.fifo && sc.is_session() {
        // Each scan's recordings would be their own FIFOs, opened one scan
        // after another: a reader would have to know the order. Files only.
        return Err(SimError::BadInput(format!(
            "{}: sessions are written as files (--fifo streams a single-span scenario)",
            sc.job.file.display()
        )));
    }
    if opts.vex && sc.sim.stations.iter().any(|s| !s.setup.job_keys.is_empty()) {
        return Err(SimError::BadInput(format!(
            "{}: --vex does not yet describe stations with setups of their own (sampling, lo_offset_hz, [[station.subband]])",
            sc.job.file.display()
        )));
    }
    if opts.vex && !sc.is_session() {
        return Err(SimError::BadInput(format!(
            "{}: --vex writes a session's schedule: the scenario has no [[scan]] tables",
            sc.job.file.display()
        )));
    }
    Ok(())
}

/// What a run wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    pub job: PathBuf,
    pub truth: PathBuf,
    /// Per station: name, path, first sample, frames per thread.
    pub stations: Vec<(String, PathBuf, UtcTime, u64)>,
}

/// Run a scenario into `out_dir`: job.toml and truth.json first, then every
/// recording, each station's from its own thread (a session: scan by scan).
pub fn simulate(sc: &Scenario, out_dir: &Path, opts: Options) -> Result<Summary, SimError> {
    check_options(sc, opts)?;
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let plan = plan(sc, out_dir)?;
    let job_path = out_dir.join("job.toml");
    std::fs::write(&job_path, &plan.job_toml).map_err(io_err(&job_path))?;
    // The job must read back as a valid job (paths resolved from out_dir).
    read_job_toml(&plan.job_toml, &job_path)
        .map_err(|e| SimError::BadInput(format!("internal: written job is invalid: {e}")))?;
    if let (true, Some(schedule)) = (opts.vex, &plan.schedule) {
        vex_out::write(sc, schedule, &plan.job_toml, out_dir)?;
    }
    let truth_path = out_dir.join("truth.json");
    let truth_text =
        serde_json::to_string_pretty(&plan.truth).map_err(|e| SimError::BadInput(e.to_string()))?;
    std::fs::write(&truth_path, truth_text + "\n").map_err(io_err(&truth_path))?;

    for rec in plan.recordings() {
        if opts.fifo {
            // A FIFO replaces what is there: only a file of ours (a
            // recording, an earlier pipe, a link), never a device node.
            if let Some(what) = not_replaceable(&rec.path) {
                return Err(SimError::BadInput(format!(
                    "{}: is {what}; --fifo replaces only a regular file, FIFO or symbolic link there",
                    rec.path.display()
                )));
            }
            write::make_fifo(&rec.path).map_err(io_err(&rec.path))?;
        } else if is_fifo(&rec.path) {
            // A pipe left by an earlier --fifo run would block the file write.
            std::fs::remove_file(&rec.path).map_err(io_err(&rec.path))?;
        }
    }
    let interp = Arc::new(Interpolator::new());
    let quantiser = quantiser(sc)?;
    for pass in &plan.passes {
        write_pass(sc, &plan, pass, &interp, &quantiser)?;
    }
    Ok(Summary {
        job: job_path,
        truth: truth_path,
        stations: plan
            .recordings()
            .map(|r| (r.name.clone(), r.path.clone(), r.first_sample, r.frames))
            .collect(),
    })
}

/// The recordings of one pass, each from its own thread, in lock-step.
fn write_pass(
    sc: &Scenario,
    plan: &Plan,
    pass: &Pass,
    interp: &Arc<Interpolator>,
    quantiser: &Quantiser,
) -> Result<(), SimError> {
    // Stations move together (at most PACING_BATCHES batches apart in
    // geocentric time), so each sky needs only the blocks of that window,
    // shared.
    let batch_s = plan
        .layouts
        .iter()
        .map(write::batch_seconds)
        .fold(0.0, f64::max);
    let pacer = write::Pacer::new(
        pass.recordings.len(),
        write::nanos(PACING_BATCHES as f64 * batch_s),
    );
    // skies[part][sky]
    let skies: Vec<Vec<Arc<SkyCache>>> = (0..pass.sources.len())
        .map(|part| {
            plan.skies
                .skies
                .iter()
                .map(|def| {
                    // The blocks of the pacing window (a block lasts n / rate).
                    let hop_s = def.block_len() as f64 / def.sky_rate_hz * 7.0 / 8.0;
                    let capacity =
                        ((PACING_BATCHES + 3) as f64 * batch_s / hop_s).ceil() as usize + 4;
                    Arc::new(SkyCache::cut(
                        sc.sim.seed,
                        pass.sky_stream(part, def.sky_id),
                        capacity,
                        def.cut,
                    ))
                })
                .collect()
        })
        .collect();
    let results: Vec<Result<(), SimError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = pass
            .recordings
            .iter()
            .enumerate()
            .map(|(ri, rec)| {
                let interp = interp.clone();
                let (pacer, skies) = (&pacer, &skies);
                scope.spawn(move || {
                    // Finished, failed or panicked: never hold the others back.
                    let _release = write::Release(pacer, ri);
                    let mut signals = station_signals(sc, plan, pass, rec, &interp, skies);
                    write_one(plan, rec, &mut signals, quantiser, pacer, ri)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SimError::BadInput(
                        "internal: a writer thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    results.into_iter().collect()
}

/// What `path` is when it is something `--fifo` must not remove.
fn not_replaceable(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let ft = std::fs::symlink_metadata(path).ok()?.file_type();
    if ft.is_file() || ft.is_fifo() || ft.is_symlink() {
        None
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_dir() {
        Some("a directory")
    } else {
        Some("a socket")
    }
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Batches a station may run ahead of the slowest.
const PACING_BATCHES: u64 = 4;

/// One recording, from its own thread (`ri`: its index in the pass).
fn write_one(
    plan: &Plan,
    rec: &Recording,
    signals: &mut [StationSignal<GaussianSky>],
    quantiser: &Quantiser,
    pacer: &write::Pacer,
    ri: usize,
) -> Result<(), SimError> {
    // Opening a FIFO blocks until its reader opens it.
    let file = std::fs::File::create(&rec.path).map_err(io_err(&rec.path))?;
    let layout = &plan.layouts[rec.station];
    let frame_bytes = layout.frame_bytes() as u64;
    let written =
        (rec.frames * layout.threads.len() as u64 - rec.faults.count(Fate::Missing)) * frame_bytes;
    let limit = if rec.faults.truncate_last_frame {
        written - frame_bytes / 2
    } else {
        written
    };
    let out = write::Truncate::new(file, limit);
    let mut sink = write::vdif_sink(out, layout, &rec.name, rec.first_sample)
        .map_err(|e| SimError::BadInput(format!("station {}: {e}", rec.name)))?;
    let written = write::write_station(
        layout,
        rec.frames,
        signals,
        quantiser,
        &rec.faults,
        sink.as_mut(),
        pacer,
        ri,
    )
    .and_then(|()| sink.finish());
    match written {
        // A reader that closes its FIFO early has what it wanted: a
        // correlator stops at the end of the job, which in a station
        // recording ahead in station time (the lunar one, ~1.3 s) comes
        // before the stream's end. The stream ends there, as `yes | head`
        // does; whether the reader succeeded is its own exit status.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && is_fifo(&rec.path) => Ok(()),
        r => r.map_err(io_err(&rec.path)),
    }
}

/// One signal generator per band of a recording: the sum of its sources'
/// skies, each at its own delay, plus the station's noise, plus the
/// sources' carriers that fall in the band.
fn station_signals(
    sc: &Scenario,
    plan: &Plan,
    pass: &Pass,
    rec: &Recording,
    interp: &Arc<Interpolator>,
    skies: &[Vec<Arc<SkyCache>>],
) -> Vec<StationSignal<GaussianSky>> {
    let sim = &sc.sim.stations[rec.station];
    let setup = &sim.setup;
    plan.skies.bands[rec.station]
        .iter()
        .zip(&setup.bands)
        .enumerate()
        .map(|(k, (&(sky, sampling), band))| {
            // The band's instrumental response: τ_inst added to every delay,
            // the phase applied by the generator (none: the bits of old).
            let inst = sim.instrumental_of(k);
            let delayed = |d: &Arc<InjectedDelay>| -> Arc<dyn TrueDelay> {
                if inst.is_zero() {
                    d.clone()
                } else {
                    Arc::new(PlusDelay {
                        inner: d.clone(),
                        extra_s: inst.delay_s,
                    })
                }
            };
            let phase = (!inst.is_zero()).then(|| InstrumentalPhase {
                phase0_turns: inst.phase_rad / std::f64::consts::TAU
                    + (band.sky_freq_hz * inst.delay_s).fract(),
                rate_turns_per_s: inst.phase_rate_rad_per_s / std::f64::consts::TAU,
                t0: plan.epoch,
            });
            let comb_freqs = sim.pcal_tones(k);
            let comb = sim.pcal.map(|p| PcalComb {
                inst_turns: comb_freqs
                    .iter()
                    .map(|&f| inst.turns(band.sky_freq_hz, f, 0.0))
                    .collect(),
                sky_freq_hz: comb_freqs.clone(),
                amplitude: p.amplitude,
                rate_turns_per_s: inst.phase_rate_rad_per_s / std::f64::consts::TAU,
                t0: plan.epoch,
            });
            let parts = rec
                .sources
                .iter()
                .map(|p| SkyPart {
                    sky: GaussianSky::shared(skies[p.part][sky].clone()),
                    delay: delayed(&p.delay),
                    correlated_fraction: p.correlated_fraction,
                })
                .collect();
            // A brick-wall band: a carrier is in it when its transmitted
            // frequency is (keep carriers off the edges by more than the
            // Doppler, ν·ρ ≈ 40 kHz at X band for the Moon).
            let (lo, hi) = setup.sky_range_hz(band);
            let tones = rec
                .sources
                .iter()
                .flat_map(|p| {
                    p.tones
                        .iter()
                        .filter(|(t, _)| (lo..hi).contains(&t.sky_freq_hz))
                        .map(|(t, phase_turns)| TonePart {
                            delay: delayed(&p.delay),
                            sky_freq_hz: t.sky_freq_hz,
                            amplitude: t.amplitude,
                            phase_turns: *phase_turns,
                        })
                })
                .collect();
            StationSignal::sum(
                parts,
                interp.clone(),
                sampling,
                rec.first_sample,
                pass.g_ref,
                sc.sim.seed,
                pass.noise_stream(rec.station, k),
            )
            .with_tones(tones)
            .with_instrumental(phase)
            .with_pcal(comb)
        })
        .collect()
}
