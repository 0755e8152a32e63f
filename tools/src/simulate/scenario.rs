//! Scenario files: a job file plus what only the simulator needs.
//!
//! A scenario has the job file's keys (`[job]`, `[correlation]`, `[model]`,
//! `[source]`, `[[station]]`, `[[subband]]`) and:
//!
//! ```toml
//! [simulation]
//! seed = 42                    # default 1
//! bits = 2                     # 1, 2, 4 or 8 (default 2)
//! complex = false              # complex (I/Q at rate B) or real (rate 2B) sampling
//! threads = 2                  # optional: spread subbands over this many VDIF threads
//! correlated_fraction = 0.05   # sky power / total power at every station (default 0.05)
//! faults = { invalid_fraction = 0.01 }   # default faults for every station
//! inject_ut1_s = 2e-5          # true − a-priori UT1−UTC, x_p, y_p (s, rad):
//! inject_xp_rad = 1e-8         # offsets over the whole session;
//! inject_yp_rad = -1e-8        # `simulate --observables` only (default 0)
//!
//! [[station]]                  # … job keys, plus:
//! inject_clock_offset_s = 2.1e-8   # clock error the job's model does not know
//! inject_clock_rate = 3e-11
//! inject_offset_m = [12.0, -30.0, 8.0]  # true − a-priori position (m): ITRF on
//!                                   # Earth, mean-Earth frame on the Moon;
//!                                   # `simulate --observables` only
//! inject_zwd_m = 0.03              # true − a-priori zenith wet delay at the
//! inject_zwd_rw_m_per_sqrt_h = 0.005  # first scan, then a random walk of
//!                                   # this σ per √h (seeded); Earth stations,
//!                                   # `simulate --observables` only
//! inject_gradient_m = [0.001, -0.0005]  # true north, east troposphere
//!                                   # gradients (m; a priori none): the
//!                                   # delay gains m_g(e)(g_n cos a + g_e sin a)/c
//!                                   # (Chen & Herring 1997); |g| ≤ 1 cm; Earth
//!                                   # stations, `simulate --observables` only
//! correlated_fraction = 0.1        # overrides [simulation]
//! faults = { missing_ranges_s = [[0.5, 0.6]], truncate_last_frame = true }
//! ```
//!
//! Stations that record differently (the job's `[[subband]]` tables are the
//! output bands; these keys go into job.toml as given):
//!
//! ```toml
//! [[station]]
//! sampling = "complex_dsb"     # "real" | "complex" | "complex_dsb" (default: [simulation] complex)
//! lo_offset_hz = 2.5e3         # LO = the band's LO + this, every band (default 0)
//! [[station.subband]]          # what it records instead of the job's subbands
//! sky_freq_hz = 8.4e9          # band edge: lower (USB, complex_dsb) or upper (LSB)
//! bandwidth_hz = 16e6
//! sideband = "U"               # default "U"; complex_dsb: "U" only
//! pol = "R"                    # default "R"
//! thread = 0                   # default 0
//! channel = 0                  # default 0
//! ```
//!
//! Carriers of a source (simulation keys, not in job.toml):
//!
//! ```toml
//! [[source.tone]]
//! sky_freq_hz = 8.4043e9       # transmitted frequency
//! amplitude = 0.2              # peak per real component, in σ of the recording
//! phase_rad = 0.5              # at the geocentre at the reference epoch (default 0)
//! ```
//!
//! Instrumental terms and a phase-cal comb (simulation keys of a
//! `[[station]]`; job.toml gets `pcal_interval_hz` and `pcal_offset_hz`
//! for a station with a comb, nothing of the instrumental terms):
//!
//! ```toml
//! [[station]]
//! pcal = { interval_hz = 1e6, offset_hz = 1e4, amplitude = 0.01 }
//! instrumental_random = { phase_deg = 180.0, delay_s = 2e-9, phase_rate_deg_per_s = 0.0, seed = 7 }
//! [[station.instrumental]]     # one band's terms (replaces its random draw)
//! subband = 2                  # index into the station's recorded bands: its
//!                              # [[station.subband]] list, else the job's [[subband]]
//! phase_rad = 0.3              # φ0 (default 0)
//! phase_rate_rad_per_s = 0.0   # φ̇ (default 0)
//! delay_s = 1.5e-9             # τ_inst (default 0)
//! ```
//!
//! The instrumental response of station band b is (see [`Instrumental`])
//!
//! ```text
//! H_b(f, t) = exp(i[φ0 + φ̇·(t − t0) − 2π (f − f_edge)·τ_inst])
//! ```
//!
//! at sky frequency f and station time t, f_edge the band's `sky_freq_hz`
//! and t0 the reference epoch of truth.json (the job start; a session's
//! first scan start). `instrumental_random` draws φ0, τ_inst and φ̇ of each
//! band uniformly in ±`phase_deg`, ±`delay_s`, ±`phase_rate_deg_per_s`
//! (each default 0) from `seed` (default: the file's `[simulation] seed`;
//! `--seed` does not redraw them).
//!
//! Fault keys (per station, or in `[simulation]` for all): `invalid_fraction`,
//! `missing_fraction` (of frames, chosen at random), `invalid_ranges_s`,
//! `missing_ranges_s` (lists of [from, to) seconds after the station's first
//! sample), `truncate_last_frame` (cut the file inside its last frame).
//!
//! # Sessions
//!
//! A scenario with `[[scan]]` tables is a session (the job file's session
//! keys: `[[source]]` list, scans with `name`, `start`, `duration_s`,
//! `sources`, optional `stations`); its times are the scans', so it has no
//! `[job] start` or `duration_s`. Sessions add, per source and per station:
//!
//! ```toml
//! [[source]]                   # … job keys, plus:
//! name = "CE7LANDER"
//! moon = { lat_deg = -89.45, lon_deg = 20.0 }
//! correlated_fraction = 0.1        # this source's share of every station's power
//! inject_offset_m = [3.0, -2.0, 1.5]   # true − a-priori position, ME frame (moon sources)
//!
//! [[station]]
//! correlated_fraction_by_source = { CE7LANDER = 0.4 }   # this station, this source
//! ```
//!
//! The share f of source k at station s is the most specific key given: the
//! station's `correlated_fraction_by_source.k`, the source's
//! `correlated_fraction`, the station's `correlated_fraction`, then
//! `[simulation] correlated_fraction`. The shares of a scan's sources must
//! add up to at most 1 at each of its stations (the rest is noise).
//!
//! # A session from a VEX schedule
//!
//! `[job] vex = "FILE.vex"` (relative to the scenario) instead of
//! `[[scan]]` tables: the scenario is expanded before anything else reads
//! it, so the rest (job.toml, `--observables`, truth) is as if the tables
//! had been written by hand:
//! - every `$SCHED` scan becomes a `[[scan]]`: `name`, `start`,
//!   `duration_s` = its largest `data_stop`, `sources` (those with
//!   `correlate` not 0, in schedule order: a same-beam scan has several),
//!   `stations` (the scan's `station` lines);
//! - every VEX station without a `[[station]]` table gets one (`name` =
//!   its code, `itrf_m` = `$SITE site_position`); a `[[station]]` of that
//!   code without a position (`itrf_m`, `moon`, `moon_xyz_m`,
//!   `delay_poly`) gets `itrf_m` from `$SITE`. A lunar station has no
//!   `site_position` and must have its table with `moon`;
//! - every `$SOURCE` def a scan names and no `[[source]]` names (by def key
//!   or `source_name`) gets `name` = def key, `ra_deg`/`dec_deg` from
//!   `ra`/`dec`; a lander (no position in VEX) needs its `[[source]]`.
//! - The frequency setup is the scenario's `[[subband]]` tables (required,
//!   as always); `$MODE`, `$CLOCK`, `$EOP` and per-station `data_good` are
//!   not read (a station is taken to record the whole scan).
//!
//! The job part is validated by the job file's own rules, so a scenario can
//! never describe a job `emcorr correlate` would refuse.

use super::signal::MAX_SCANS;
/// How a station samples: the correlator's own type (the job file's
/// `sampling`), so that scenario and job cannot disagree.
pub use correlator::job::Sampling;
use correlator::job::{Job, JobError, Pol, Sideband};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The built-in default scenario (Earth–Moon, PKS 1921−293, X band).
pub const DEFAULT_SCENARIO: &str = include_str!("../../../testdata/scenarios/default.toml");

/// Where the built-in scenario "lives": its relative paths (kernels) resolve
/// against the source tree's testdata/scenarios/.
pub fn default_scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata")
        .join("scenarios")
        .join("default.toml")
}

/// A scenario that could not be read or is not valid: one line naming the
/// file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("{file}: key `{key}`: {why}")]
    Key {
        file: PathBuf,
        key: String,
        why: String,
    },
}

/// Faults written into one station's recording.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub invalid_fraction: f64,
    #[serde(default)]
    pub missing_fraction: f64,
    #[serde(default)]
    pub invalid_ranges_s: Vec<[f64; 2]>,
    #[serde(default)]
    pub missing_ranges_s: Vec<[f64; 2]>,
    #[serde(default)]
    pub truncate_last_frame: bool,
}

/// One station band's instrumental response (filters, cables, samplers):
///
/// ```text
/// H(f, t) = exp(i[φ0 + φ̇·(t − t0) − 2π (f − f_edge)·τ_inst])
/// ```
///
/// at sky frequency f and station time t (the recording's timestamps), with
/// f_edge the band's `sky_freq_hz` (its LO edge as named: the lower edge for
/// USB and complex DSB, the upper for LSB; without `lo_offset_hz`) and t0
/// the reference epoch (truth.json's `reference_epoch`). So φ0 is the phase
/// at the band edge at t0, and τ_inst > 0 delays the signal (a longer
/// cable): the same sign as a geometric delay or clock offset, which make
/// the spectrum's phase −2πfτ (see `signal`). It multiplies the station's
/// signal at sky frequency f — for an LSB or real recording the baseband
/// holds the conjugate of the sky-frequency component, so the video-domain
/// phase there is −arg H. The sky and the sources' carriers pass through it
/// as a true delay τ_inst (their envelope arrives τ_inst later) times
/// e^{i(φ0 + φ̇(t − t0) + 2π f_edge τ_inst)}; the phase-cal comb, made of
/// pure tones, gets H(f_k, t) per tone. The receiver noise does not (white
/// noise through |H| = 1 is the same white noise).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Instrumental {
    /// φ0, rad.
    pub phase_rad: f64,
    /// φ̇, rad/s.
    pub phase_rate_rad_per_s: f64,
    /// τ_inst, s.
    pub delay_s: f64,
}

impl Instrumental {
    pub fn is_zero(&self) -> bool {
        *self == Instrumental::default()
    }

    /// arg H in turns at sky frequency `f_hz`, `dt_s` after t0, for a band
    /// whose edge is `edge_hz`.
    pub fn turns(&self, edge_hz: f64, f_hz: f64, dt_s: f64) -> f64 {
        (self.phase_rad + self.phase_rate_rad_per_s * dt_s) / std::f64::consts::TAU
            - (f_hz - edge_hz) * self.delay_s
    }
}

/// A phase-cal comb injected at a station's feed (`pcal = {...}`): tones
/// at sky frequencies offset + k·interval strictly inside each recorded
/// band, locked to the station's clock — tone k is A·cos(2π f_k t) at
/// station time t (phase 0 at every whole second, as a pulse train of
/// period 1/interval gives; hence whole numbers of Hz), so it follows the
/// station's clock error and not the source's geometry — and then through
/// the instrumental response.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pcal {
    pub interval_hz: f64,
    #[serde(default)]
    pub offset_hz: f64,
    /// Peak amplitude of each real component of each tone, in σ of the
    /// recording (as `[[source.tone]]` amplitudes).
    pub amplitude: f64,
}

impl Pcal {
    /// The comb's sky frequencies strictly inside (lo, hi) (a tone on a band
    /// edge would sit at 0 Hz or Nyquist of a real recording).
    pub fn tones_in(&self, lo_hz: f64, hi_hz: f64) -> Vec<f64> {
        let mut k = ((lo_hz - self.offset_hz) / self.interval_hz).floor();
        let mut out = Vec::new();
        loop {
            let f = self.offset_hz + k * self.interval_hz;
            if f >= hi_hz {
                return out;
            }
            if f > lo_hz {
                out.push(f);
            }
            k += 1.0;
        }
    }
}

/// What the simulator adds to one station.
#[derive(Debug, Clone, PartialEq)]
pub struct StationSim {
    pub inject_clock_offset_s: f64,
    pub inject_clock_rate: f64,
    /// True minus a-priori position (m): ITRF for an Earth station, the
    /// Moon's mean-Earth frame for a lunar one (`emcorr simulate
    /// --observables` only).
    pub inject_offset_m: Option<[f64; 3]>,
    /// True minus a-priori zenith wet delay (m) at the session's first
    /// node (`emcorr simulate --observables` only).
    pub inject_zwd_m: f64,
    /// σ of the true zenith wet delay's random walk per √hour (m).
    pub inject_zwd_rw_m_per_sqrt_h: f64,
    /// True north and east troposphere gradients (m), constant over the
    /// session (the a priori has none; `emcorr simulate --observables`
    /// only).
    pub inject_gradient_m: [f64; 2],
    /// The station's own key, else `[simulation]`'s.
    pub correlated_fraction: f64,
    /// Sessions: `correlated_fraction_by_source`, by source name.
    pub correlated_fraction_by_source: BTreeMap<String, f64>,
    pub faults: Faults,
    /// How the station records (its own bands, sampling, LO offset).
    pub setup: StationSetup,
    /// Per band of `setup.bands`: its instrumental response; empty when the
    /// station has none (every band H = 1).
    pub instrumental: Vec<Instrumental>,
    /// The injected phase-cal comb, if any.
    pub pcal: Option<Pcal>,
}

impl StationSim {
    /// Band `j`'s instrumental response (H = 1 when none was given).
    pub fn instrumental_of(&self, j: usize) -> Instrumental {
        self.instrumental.get(j).copied().unwrap_or_default()
    }

    /// The pcal comb's sky frequencies in band `j` (none without a comb).
    pub fn pcal_tones(&self, j: usize) -> Vec<f64> {
        match (&self.pcal, self.setup.bands.get(j)) {
            (Some(p), Some(b)) => {
                let (lo, hi) = self.setup.sky_range_hz(b);
                p.tones_in(lo, hi)
            }
            _ => Vec::new(),
        }
    }
}

/// `[[station.instrumental]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrumental {
    subband: i64,
    #[serde(default)]
    phase_rad: f64,
    #[serde(default)]
    phase_rate_rad_per_s: f64,
    #[serde(default)]
    delay_s: f64,
}

/// `instrumental_random = {...}` as written.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RandomInstrumental {
    #[serde(default)]
    phase_deg: f64,
    #[serde(default)]
    phase_rate_deg_per_s: f64,
    #[serde(default)]
    delay_s: f64,
    seed: Option<u64>,
}

/// A station's instrumental keys until its bands are known.
struct InstrumentalKeys {
    given: Vec<RawInstrumental>,
    random: Option<RandomInstrumental>,
}

/// Bounds: an instrumental delay of a µs or a drift of a radian per second
/// is a typo, not a receiver.
const MAX_INSTRUMENTAL_DELAY_S: f64 = 1e-6;
const MAX_INSTRUMENTAL_RATE_RAD_PER_S: f64 = 1.0;

/// One band a station records (`[[station.subband]]`, or a job subband).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StationBand {
    /// As in the job: the lower edge for USB, the upper for LSB; complex
    /// DSB: the lower edge.
    pub sky_freq_hz: f64,
    pub bandwidth_hz: f64,
    pub sideband: Sideband,
    pub pol: Pol,
    pub thread: u16,
    pub channel: usize,
}

/// A station's recording setup.
#[derive(Debug, Clone, PartialEq)]
pub struct StationSetup {
    pub sampling: Sampling,
    /// The station's LO is the band's LO plus this (every band).
    pub lo_offset_hz: f64,
    /// What it records: its `[[station.subband]]` tables, else the job's
    /// subbands (as `sampling` records them).
    pub bands: Vec<StationBand>,
    /// Whether `[[station.subband]]` tables gave `bands`.
    pub own_bands: bool,
    /// The setup keys as the scenario gave them (`sampling`, `lo_offset_hz`,
    /// `subband`), written back into job.toml: what the correlator reads.
    pub job_keys: toml::Table,
}

impl StationSetup {
    /// The station's LO for `band` (offset included): the sky frequency of
    /// video frequency 0.
    pub fn lo_hz(&self, band: &StationBand) -> f64 {
        let edge = match self.sampling {
            Sampling::ComplexDsb => band.sky_freq_hz + band.bandwidth_hz / 2.0,
            _ => band.sky_freq_hz,
        };
        edge + self.lo_offset_hz
    }

    /// The sky frequencies `band` holds, [lo, hi) (offset included).
    pub fn sky_range_hz(&self, band: &StationBand) -> (f64, f64) {
        let lo = self.lo_hz(band);
        let b = band.bandwidth_hz;
        match (self.sampling, band.sideband) {
            (Sampling::ComplexDsb, _) => (lo - b / 2.0, lo + b / 2.0),
            (_, Sideband::Upper) => (lo, lo + b),
            (_, Sideband::Lower) => (lo - b, lo),
        }
    }

    /// Samples per second (every band of a station shares one bandwidth).
    pub fn sample_rate_hz(&self) -> f64 {
        let b = self.bands[0].bandwidth_hz;
        if self.sampling.is_complex() {
            b
        } else {
            2.0 * b
        }
    }

    /// Whether the station records other than the job's subbands at their LOs.
    pub fn differs_in_sky(&self) -> bool {
        self.own_bands || self.lo_offset_hz != 0.0
    }
}

/// A carrier of a source (`[[source.tone]]`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tone {
    /// Transmitted (rest) frequency, Hz.
    pub sky_freq_hz: f64,
    /// Peak amplitude of each real component in units of the recording's
    /// σ (the unit-variance sky + noise): power A²/2 of that σ², on top.
    pub amplitude: f64,
    /// Transmitted phase at the geocentre at the reference epoch (the job
    /// start; a session's first scan start), rad.
    #[serde(default)]
    pub phase_rad: f64,
}

/// What the simulator adds to one source (sessions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceSim {
    /// The source's share of every station's power, if given.
    pub correlated_fraction: Option<f64>,
    /// True minus a-priori position in the Moon's mean-Earth frame (metres),
    /// for a `moon = {...}` source: the truth's geometry, not job.toml's.
    pub inject_offset_m: Option<[f64; 3]>,
    /// Carriers (`[[source.tone]]`).
    pub tones: Vec<Tone>,
}

/// `[simulation]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub seed: u64,
    pub bits: u32,
    pub complex: bool,
    /// Per station, in the job's station order.
    pub stations: Vec<StationSim>,
    /// Per source, in the job's source order.
    pub sources: Vec<SourceSim>,
    /// True − a-priori EOP over the session (`inject_ut1_s`,
    /// `inject_xp_rad`, `inject_yp_rad`; `simulate --observables` only).
    pub inject_eop: correlator::model::earth::EopValues,
}

impl Simulation {
    /// Share of station `s`'s power that source `k` (named `name`)
    /// contributes: the most specific key given (see the module docs).
    pub fn fraction(&self, s: usize, k: usize, name: &str) -> f64 {
        let st = &self.stations[s];
        st.correlated_fraction_by_source
            .get(name)
            .copied()
            .or(self.sources.get(k).and_then(|x| x.correlated_fraction))
            .unwrap_or(st.correlated_fraction)
    }
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The job (with `start` and `duration_s` always set, subbands placed on
    /// VDIF threads), paths resolved against the scenario's directory.
    pub job: Job,
    pub sim: Simulation,
    /// The job part as TOML (simulation keys removed), to write job.toml from.
    pub job_table: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSimulation {
    seed: Option<i64>,
    bits: Option<i64>,
    complex: Option<bool>,
    threads: Option<i64>,
    correlated_fraction: Option<f64>,
    faults: Option<Faults>,
    inject_ut1_s: Option<f64>,
    inject_xp_rad: Option<f64>,
    inject_yp_rad: Option<f64>,
}

impl Scenario {
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| JobError::Read {
            file: path.to_path_buf(),
            why: e.to_string(),
        })?;
        Scenario::from_toml_str(&text, path)
    }

    /// The built-in default scenario.
    pub fn default_scenario() -> Result<Scenario, ScenarioError> {
        Scenario::from_toml_str(DEFAULT_SCENARIO, &default_scenario_path())
    }

    /// Parse scenario text as if read from `path` (relative paths resolve
    /// against its directory). `seconds` and `seed` override the file.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let key_err = |key: &str, why: String| ScenarioError::Key {
            file: path.to_path_buf(),
            key: key.to_string(),
            why,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            ScenarioError::Job(JobError::Syntax {
                file: path.to_path_buf(),
                why: e.to_string().lines().next().unwrap_or("").to_string(),
            })
        })?;

        expand_vex(&mut table, path)?;

        let raw_sim: RawSimulation = match table.remove("simulation") {
            None => RawSimulation {
                seed: None,
                bits: None,
                complex: None,
                threads: None,
                correlated_fraction: None,
                faults: None,
                inject_ut1_s: None,
                inject_xp_rad: None,
                inject_yp_rad: None,
            },
            Some(v) => RawSimulation::deserialize(v)
                .map_err(|e| key_err("simulation", one_line(&e.to_string())))?,
        };
        let seed = raw_sim.seed.unwrap_or(1);
        if seed < 0 {
            return Err(key_err(
                "simulation.seed",
                format!("must be ≥ 0, got {seed}"),
            ));
        }
        let bits = raw_sim.bits.unwrap_or(2);
        if ![1, 2, 4, 8].contains(&bits) {
            return Err(key_err(
                "simulation.bits",
                format!("must be 1, 2, 4 or 8, got {bits}"),
            ));
        }
        let complex = raw_sim.complex.unwrap_or(false);
        let default_fraction = raw_sim.correlated_fraction.unwrap_or(0.05);
        check_fraction(default_fraction, "simulation.correlated_fraction", &key_err)?;
        let inject_eop = correlator::model::earth::EopValues {
            dut1_s: raw_sim.inject_ut1_s.unwrap_or(0.0),
            xp_rad: raw_sim.inject_xp_rad.unwrap_or(0.0),
            yp_rad: raw_sim.inject_yp_rad.unwrap_or(0.0),
            ..Default::default()
        };
        // Offsets of more than a second of UT1 or 1e-4 rad (20") of polar
        // motion are typos: the a priori is never that far off.
        for (key, v, max) in [
            ("simulation.inject_ut1_s", inject_eop.dut1_s, 1.0),
            ("simulation.inject_xp_rad", inject_eop.xp_rad, 1e-4),
            ("simulation.inject_yp_rad", inject_eop.yp_rad, 1e-4),
        ] {
            if !(v.is_finite() && v.abs() < max) {
                return Err(key_err(
                    key,
                    format!("implausible offset {v} (|v| < {max})"),
                ));
            }
        }
        let default_faults = raw_sim.faults.unwrap_or_default();
        check_faults(&default_faults, "simulation.faults", &key_err)?;

        // Strip the per-station simulation keys before the job sees them.
        let mut station_sims = Vec::new();
        let mut instrumental_keys = Vec::new();
        if let Some(toml::Value::Array(stations)) = table.get_mut("station") {
            for (i, st) in stations.iter_mut().enumerate() {
                let Some(st) = st.as_table_mut() else {
                    continue;
                };
                let k = |f: &str| format!("station[{i}].{f}");
                let num = |st: &mut toml::Table, f: &str| -> Result<Option<f64>, ScenarioError> {
                    match st.remove(f) {
                        None => Ok(None),
                        Some(toml::Value::Float(x)) => Ok(Some(x)),
                        Some(toml::Value::Integer(x)) => Ok(Some(x as f64)),
                        Some(other) => {
                            Err(key_err(&k(f), format!("expected a number, got {other}")))
                        }
                    }
                };
                let offset = num(st, "inject_clock_offset_s")?.unwrap_or(0.0);
                let rate = num(st, "inject_clock_rate")?.unwrap_or(0.0);
                let inject_offset_m = st
                    .remove("inject_offset_m")
                    .map(|v| offset_m(v, &k("inject_offset_m"), &key_err))
                    .transpose()?;
                let inject_zwd_m = num(st, "inject_zwd_m")?.unwrap_or(0.0);
                let zwd_rw = num(st, "inject_zwd_rw_m_per_sqrt_h")?.unwrap_or(0.0);
                if !(inject_zwd_m.is_finite() && inject_zwd_m.abs() < 1.0) {
                    return Err(key_err(
                        &k("inject_zwd_m"),
                        format!("implausible offset {inject_zwd_m} m (|offset| < 1 m)"),
                    ));
                }
                if !(zwd_rw.is_finite() && (0.0..1.0).contains(&zwd_rw)) {
                    return Err(key_err(
                        &k("inject_zwd_rw_m_per_sqrt_h"),
                        format!("must be ≥ 0 and < 1 m per √h, got {zwd_rw}"),
                    ));
                }
                let inject_gradient_m = st
                    .remove("inject_gradient_m")
                    .map(|v| gradient_m(v, &k("inject_gradient_m"), &key_err))
                    .transpose()?
                    .unwrap_or([0.0; 2]);
                let fraction = num(st, "correlated_fraction")?.unwrap_or(default_fraction);
                check_fraction(fraction, &k("correlated_fraction"), &key_err)?;
                if !(offset.is_finite() && offset.abs() < 1.0) {
                    return Err(key_err(
                        &k("inject_clock_offset_s"),
                        format!("implausible offset {offset}"),
                    ));
                }
                if !(rate.is_finite() && rate.abs() < 1e-3) {
                    return Err(key_err(
                        &k("inject_clock_rate"),
                        format!("implausible rate {rate}"),
                    ));
                }
                let by_source = match st.remove("correlated_fraction_by_source") {
                    None => BTreeMap::new(),
                    Some(v) => BTreeMap::<String, f64>::deserialize(v).map_err(|e| {
                        key_err(
                            &k("correlated_fraction_by_source"),
                            format!(
                                "expected a table of source names and fractions: {}",
                                one_line(&e.to_string())
                            ),
                        )
                    })?,
                };
                for (name, f) in &by_source {
                    check_fraction(
                        *f,
                        &k(&format!("correlated_fraction_by_source.{name}")),
                        &key_err,
                    )?;
                }
                let faults = match st.remove("faults") {
                    None => default_faults.clone(),
                    Some(v) => Faults::deserialize(v)
                        .map_err(|e| key_err(&k("faults"), one_line(&e.to_string())))?,
                };
                check_faults(&faults, &k("faults"), &key_err)?;
                for key in ["pcal_interval_hz", "pcal_offset_hz"] {
                    if st.contains_key(key) {
                        return Err(key_err(
                            &k(key),
                            "a scenario injects a comb with pcal = { interval_hz, offset_hz, amplitude }; job.toml gets this key from it".into(),
                        ));
                    }
                }
                let pcal = match st.remove("pcal") {
                    None => None,
                    Some(v) => {
                        let p = Pcal::deserialize(v).map_err(|e| {
                            key_err(
                                &k("pcal"),
                                format!(
                                    "expected {{ interval_hz, offset_hz, amplitude }}: {}",
                                    one_line(&e.to_string())
                                ),
                            )
                        })?;
                        check_pcal(&p, &k("pcal"), &key_err)?;
                        Some(p)
                    }
                };
                let given = match st.remove("instrumental") {
                    None => Vec::new(),
                    Some(v) => Vec::<RawInstrumental>::deserialize(v).map_err(|e| {
                        key_err(
                            &k("instrumental"),
                            format!(
                                "expected [[station.instrumental]] tables of subband, phase_rad, phase_rate_rad_per_s, delay_s: {}",
                                one_line(&e.to_string())
                            ),
                        )
                    })?,
                };
                let random = match st.remove("instrumental_random") {
                    None => None,
                    Some(v) => Some(RandomInstrumental::deserialize(v).map_err(|e| {
                        key_err(
                            &k("instrumental_random"),
                            format!(
                                "expected {{ phase_deg, delay_s, phase_rate_deg_per_s, seed }}: {}",
                                one_line(&e.to_string())
                            ),
                        )
                    })?),
                };
                instrumental_keys.push(InstrumentalKeys { given, random });
                // Setup keys: the job parser does not know them yet (they are
                // read after it, and written back into job.toml).
                let mut job_keys = toml::Table::new();
                for key in ["sampling", "lo_offset_hz", "subband"] {
                    if let Some(v) = st.remove(key) {
                        job_keys.insert(key.into(), v);
                    }
                }
                station_sims.push(StationSim {
                    inject_clock_offset_s: offset,
                    inject_clock_rate: rate,
                    inject_offset_m,
                    inject_zwd_m,
                    inject_zwd_rw_m_per_sqrt_h: zwd_rw,
                    inject_gradient_m,
                    correlated_fraction: fraction,
                    correlated_fraction_by_source: by_source,
                    faults,
                    setup: StationSetup {
                        sampling: Sampling::Real,
                        lo_offset_hz: 0.0,
                        bands: Vec::new(),
                        own_bands: false,
                        job_keys,
                    },
                    instrumental: Vec::new(),
                    pcal,
                });
            }
        }

        let (source_sims, source_keys) = strip_source_keys(&mut table, &key_err)?;

        // `threads`: place subband i on thread i mod T, channel i div T.
        if let Some(t) = raw_sim.threads {
            if !(1..=1024).contains(&t) {
                return Err(key_err(
                    "simulation.threads",
                    format!("must be 1 to 1024, got {t}"),
                ));
            }
            if let Some(toml::Value::Array(sbs)) = table.get_mut("subband") {
                for (i, sb) in sbs.iter_mut().enumerate() {
                    let Some(sb) = sb.as_table_mut() else {
                        continue;
                    };
                    if sb.contains_key("thread") || sb.contains_key("channel") {
                        return Err(key_err(
                            &format!("subband[{i}].thread"),
                            "give either [simulation] threads or per-subband thread/channel, not both".into(),
                        ));
                    }
                    sb.insert("thread".into(), toml::Value::Integer(i as i64 % t));
                    sb.insert("channel".into(), toml::Value::Integer(i as i64 / t));
                }
            }
        }

        let job = Job::from_toml_table(table.clone(), path)?;
        job.require_subbands()?;
        // `[job] vex` was expanded into tables by expand_vex.
        debug_assert!(job.vex.is_none());
        if job.scans.is_empty() {
            if job.start.is_none() {
                return Err(key_err("job.start", "a scenario needs a start time".into()));
            }
            if job.duration_s.is_none() {
                return Err(key_err(
                    "job.duration_s",
                    "a scenario needs a duration".into(),
                ));
            }
        } else {
            for (key, given) in [
                ("job.start", job.start.is_some()),
                ("job.duration_s", job.duration_s.is_some()),
            ] {
                if given {
                    return Err(key_err(
                        key,
                        "a session's times are its [[scan]] tables; leave out [job] start and duration_s"
                            .into(),
                    ));
                }
            }
            if job.scans.len() > MAX_SCANS {
                return Err(key_err(
                    "scan",
                    format!(
                        "{} scans; the simulator makes at most {MAX_SCANS}",
                        job.scans.len()
                    ),
                ));
            }
        }
        for (i, st) in job.stations.iter().enumerate() {
            let keys = std::mem::take(&mut station_sims[i].setup.job_keys);
            station_sims[i].setup = station_setup(i, &st.name, keys, &job, complex, &key_err)?;
            station_sims[i].instrumental = instrumental(
                i,
                &st.name,
                &instrumental_keys[i],
                station_sims[i].setup.bands.len(),
                seed as u64,
                &key_err,
            )?;
            let setup = &station_sims[i].setup;
            if let Some(p) = &station_sims[i].pcal {
                for b in &setup.bands {
                    let (lo, hi) = setup.sky_range_hz(b);
                    let n = p.tones_in(lo, hi).len();
                    // The comb's peak, n·A, must leave the quantiser room.
                    if n as f64 * p.amplitude > 4.0 {
                        return Err(key_err(
                            &format!("station[{i}] ({}).pcal.amplitude", st.name),
                            format!(
                                "{n} tones of {} σ in a band reach {} σ (at most 4)",
                                p.amplitude,
                                n as f64 * p.amplitude
                            ),
                        ));
                    }
                }
            }
            let rate = setup.sample_rate_hz();
            if let Some(r) = st.sample_rate_hz {
                if r != rate {
                    return Err(key_err(
                        &format!("station[{i}] ({}).sample_rate_hz", st.name),
                        format!(
                            "{r} Hz, but {} sampling of {} Hz subbands is {rate} Hz",
                            setup.sampling.name(),
                            setup.bands[0].bandwidth_hz
                        ),
                    ));
                }
            }
        }
        if station_sims.iter().any(|s| !s.setup.own_bands) {
            let slots: Vec<(u16, usize)> =
                job.subbands.iter().map(|s| (s.thread, s.channel)).collect();
            check_layout(&slots, "subband", &key_err)?;
        }
        let sim = Simulation {
            seed: seed as u64,
            bits: bits as u32,
            complex,
            stations: station_sims,
            sources: source_sims,
            inject_eop,
        };
        check_session_keys(&job, &sim, &source_keys, &key_err)?;
        Ok(Scenario {
            job,
            sim,
            job_table: table,
        })
    }

    /// A session: `[[scan]]` tables, one recording per scan and station.
    pub fn is_session(&self) -> bool {
        !self.job.scans.is_empty()
    }

    /// Indices (job order) of the stations that record scan `i`.
    pub fn scan_stations(&self, i: usize) -> Vec<usize> {
        let scan = &self.job.scans[i];
        (0..self.job.stations.len())
            .filter(|&s| {
                scan.stations
                    .as_ref()
                    .is_none_or(|names| names.contains(&self.job.stations[s].name))
            })
            .collect()
    }

    /// Indices (job order) of the sources of scan `i`, in the scan's order.
    pub fn scan_sources(&self, i: usize) -> Vec<usize> {
        self.job.scans[i]
            .sources
            .iter()
            .filter_map(|n| self.job.sources.iter().position(|s| &s.name == n))
            .collect()
    }

    /// Override the duration (`--seconds`); in a session, cut every scan
    /// longer than that to its first `seconds`.
    pub fn set_seconds(&mut self, seconds: f64) -> Result<(), ScenarioError> {
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(ScenarioError::Key {
                file: self.job.file.clone(),
                key: "--seconds".into(),
                why: format!("must be a positive number of seconds, got {seconds}"),
            });
        }
        if self.is_session() {
            for scan in self.job.scans.iter_mut() {
                scan.duration_s = scan.duration_s.min(seconds);
            }
        } else {
            self.job.duration_s = Some(seconds);
        }
        Ok(())
    }

    /// Override the seed (`--seed`).
    pub fn set_seed(&mut self, seed: u64) {
        self.sim.seed = seed;
    }

    /// Sample rate of every station (samples per second per channel).
    pub fn sample_rate_hz(&self) -> f64 {
        let bw = self.job.subbands[0].bandwidth_hz;
        if self.sim.complex {
            bw
        } else {
            2.0 * bw
        }
    }

    /// VDIF threads in ascending order, each with its channel count.
    pub fn threads(&self) -> Vec<(u16, usize)> {
        let mut t: Vec<(u16, usize)> = Vec::new();
        for s in &self.job.subbands {
            match t.iter_mut().find(|(id, _)| *id == s.thread) {
                Some(e) => e.1 = e.1.max(s.channel + 1),
                None => t.push((s.thread, s.channel + 1)),
            }
        }
        t.sort();
        t
    }
}

/// Take the simulation keys out of `[source]` / `[[source]]` tables (the
/// job's own keys stay), one entry per table in file order, with the key
/// that names the table in messages (`source` or `source[i]`).
fn strip_source_keys(
    table: &mut toml::Table,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(Vec<SourceSim>, Vec<String>), ScenarioError> {
    let tables: Vec<(String, &mut toml::Table)> = match table.get_mut("source") {
        Some(toml::Value::Table(t)) => vec![("source".to_string(), t)],
        Some(toml::Value::Array(list)) => list
            .iter_mut()
            .enumerate()
            .filter_map(|(i, v)| v.as_table_mut().map(|t| (format!("source[{i}]"), t)))
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(tables.len());
    let mut keys = Vec::with_capacity(tables.len());
    for (key, t) in tables {
        let k = |f: &str| format!("{key}.{f}");
        let correlated_fraction = match t.remove("correlated_fraction") {
            None => None,
            Some(toml::Value::Float(x)) => Some(x),
            Some(toml::Value::Integer(x)) => Some(x as f64),
            Some(other) => {
                return Err(key_err(
                    &k("correlated_fraction"),
                    format!("expected a number, got {other}"),
                ))
            }
        };
        if let Some(f) = correlated_fraction {
            check_fraction(f, &k("correlated_fraction"), key_err)?;
        }
        // A lander known to within kilometres is not a lander.
        let inject_offset_m = t
            .remove("inject_offset_m")
            .map(|v| offset_m(v, &k("inject_offset_m"), key_err))
            .transpose()?;
        let tones = match t.remove("tone") {
            None => Vec::new(),
            Some(v) => Vec::<Tone>::deserialize(v).map_err(|e| {
                key_err(
                    &k("tone"),
                    format!(
                        "expected [[{key}.tone]] tables of sky_freq_hz, amplitude, phase_rad: {}",
                        one_line(&e.to_string())
                    ),
                )
            })?,
        };
        for (j, tone) in tones.iter().enumerate() {
            let kt = |f: &str| k(&format!("tone[{j}].{f}"));
            if !(tone.sky_freq_hz.is_finite() && tone.sky_freq_hz > 0.0) {
                return Err(key_err(
                    &kt("sky_freq_hz"),
                    format!("must be a positive frequency, got {}", tone.sky_freq_hz),
                ));
            }
            // A tone above a few σ would clip the quantiser for good.
            if !(tone.amplitude.is_finite() && (0.0..=4.0).contains(&tone.amplitude)) {
                return Err(key_err(
                    &kt("amplitude"),
                    format!(
                        "must be from 0 to 4 (σ of the recording), got {}",
                        tone.amplitude
                    ),
                ));
            }
            if !tone.phase_rad.is_finite() {
                return Err(key_err(
                    &kt("phase_rad"),
                    format!("must be finite, got {}", tone.phase_rad),
                ));
            }
        }
        out.push(SourceSim {
            correlated_fraction,
            inject_offset_m,
            tones,
        });
        keys.push(key);
    }
    Ok((out, keys))
}

/// Per-source keys, and shares that add up within every scan.
fn check_session_keys(
    job: &Job,
    sim: &Simulation,
    source_keys: &[String],
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    let source_key = |i: usize, f: &str| format!("{}.{f}", source_keys[i]);
    if job.scans.is_empty() {
        // A single span records the first source alone, as ever.
        for (i, s) in sim.sources.iter().enumerate().skip(1) {
            if !s.tones.is_empty() {
                return Err(key_err(
                    &source_key(i, "tone"),
                    "a single span simulates its first source only; tones of another source need a session ([[scan]] tables)".into(),
                ));
            }
        }
        for (i, s) in sim.sources.iter().enumerate() {
            for (f, given) in [
                ("correlated_fraction", s.correlated_fraction.is_some()),
                ("inject_offset_m", s.inject_offset_m.is_some()),
            ] {
                if given {
                    return Err(key_err(
                        &source_key(i, f),
                        "per-source simulation keys need a session ([[scan]] tables)".into(),
                    ));
                }
            }
        }
        for (i, st) in sim.stations.iter().enumerate() {
            if !st.correlated_fraction_by_source.is_empty() {
                return Err(key_err(
                    &format!("station[{i}].correlated_fraction_by_source"),
                    "per-source simulation keys need a session ([[scan]] tables)".into(),
                ));
            }
        }
        return Ok(());
    }
    for (i, (src, s)) in job.sources.iter().zip(&sim.sources).enumerate() {
        if s.inject_offset_m.is_some()
            && !matches!(src.position, correlator::job::SourcePosition::Moon(_))
        {
            return Err(key_err(
                &source_key(i, "inject_offset_m"),
                format!(
                    "{}: only a source on the Moon (moon = {{...}}) takes a position error",
                    src.name
                ),
            ));
        }
    }
    for (i, (js, st)) in job.stations.iter().zip(&sim.stations).enumerate() {
        let on_earth = matches!(js.position, correlator::job::StationPosition::Itrf(_));
        for (f, given) in [
            ("inject_zwd_m", st.inject_zwd_m != 0.0),
            (
                "inject_zwd_rw_m_per_sqrt_h",
                st.inject_zwd_rw_m_per_sqrt_h != 0.0,
            ),
            ("inject_gradient_m", st.inject_gradient_m != [0.0; 2]),
        ] {
            if given && !on_earth {
                return Err(key_err(
                    &format!("station[{i}].{f}"),
                    format!(
                        "{}: only an Earth station (itrf_m) has a troposphere",
                        js.name
                    ),
                ));
            }
        }
    }
    for (i, st) in sim.stations.iter().enumerate() {
        for name in st.correlated_fraction_by_source.keys() {
            if !job.sources.iter().any(|s| &s.name == name) {
                return Err(key_err(
                    &format!("station[{i}].correlated_fraction_by_source.{name}"),
                    format!("{name:?} is not a [[source]] of the scenario"),
                ));
            }
        }
    }
    // Recordings are <STATION>_<SCAN>.vdif: a scan name must make a file
    // name, and no two recordings may share one.
    let mut files: BTreeMap<String, &str> = BTreeMap::new();
    for (i, scan) in job.scans.iter().enumerate() {
        if scan.name.starts_with('.')
            || !scan
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-+.".contains(c))
        {
            return Err(key_err(
                &format!("scan[{i}].name"),
                format!(
                    "{:?} names files (<STATION>_<SCAN>.vdif): use letters, digits, '_', '-', '+' or '.' (not first)",
                    scan.name
                ),
            ));
        }
        for st in &job.stations {
            if scan
                .stations
                .as_ref()
                .is_some_and(|n| !n.contains(&st.name))
            {
                continue;
            }
            let f = super::session::file_name(&st.name, &scan.name);
            if let Some(other) = files.insert(f.clone(), &scan.name) {
                return Err(key_err(
                    &format!("scan[{i}] ({}).name", scan.name),
                    format!("{f} would be the recording of two scans ({other} and this one)"),
                ));
            }
        }
    }
    for (i, scan) in job.scans.iter().enumerate() {
        for (s, st) in job.stations.iter().enumerate() {
            if scan
                .stations
                .as_ref()
                .is_some_and(|n| !n.contains(&st.name))
            {
                continue;
            }
            let total: f64 = scan
                .sources
                .iter()
                .filter_map(|n| job.sources.iter().position(|x| &x.name == n))
                .map(|k| sim.fraction(s, k, &job.sources[k].name))
                .sum();
            if total > 1.0 {
                return Err(key_err(
                    &format!("scan[{i}] ({}).sources", scan.name),
                    format!(
                        "the correlated fractions of its sources add up to {total} at station {} (at most 1)",
                        st.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A comb that a station can be locked to: whole hertz (so every tone is
/// phase 0 at whole seconds), 0 ≤ offset < interval, amplitude in (0, 4].
fn check_pcal(
    p: &Pcal,
    key: &str,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    if !(p.interval_hz.is_finite() && p.interval_hz >= 1.0 && p.interval_hz.fract() == 0.0) {
        return Err(key_err(
            &format!("{key}.interval_hz"),
            format!(
                "must be a positive whole number of Hz, got {}",
                p.interval_hz
            ),
        ));
    }
    if !((0.0..p.interval_hz).contains(&p.offset_hz) && p.offset_hz.fract() == 0.0) {
        return Err(key_err(
            &format!("{key}.offset_hz"),
            format!(
                "must be a whole number of Hz from 0 to below interval_hz ({}), got {}",
                p.interval_hz, p.offset_hz
            ),
        ));
    }
    if !(p.amplitude.is_finite() && p.amplitude > 0.0 && p.amplitude <= 4.0) {
        return Err(key_err(
            &format!("{key}.amplitude"),
            format!(
                "must be above 0 and at most 4 (σ of the recording), got {}",
                p.amplitude
            ),
        ));
    }
    Ok(())
}

/// Station `i`'s instrumental terms per band (`n_bands` of them): the random
/// draw, if asked for, with the given tables in place of their bands'
/// draws; empty when neither was given.
fn instrumental(
    i: usize,
    name: &str,
    keys: &InstrumentalKeys,
    n_bands: usize,
    scenario_seed: u64,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<Vec<Instrumental>, ScenarioError> {
    let k = |f: &str| format!("station[{i}] ({name}).{f}");
    if keys.given.is_empty() && keys.random.is_none() {
        return Ok(Vec::new());
    }
    let mut out = vec![Instrumental::default(); n_bands];
    if let Some(r) = keys.random {
        for (f, v, max) in [
            ("phase_deg", r.phase_deg, 180.0),
            ("delay_s", r.delay_s, MAX_INSTRUMENTAL_DELAY_S),
            (
                "phase_rate_deg_per_s",
                r.phase_rate_deg_per_s,
                MAX_INSTRUMENTAL_RATE_RAD_PER_S.to_degrees(),
            ),
        ] {
            if !(v.is_finite() && (0.0..=max).contains(&v)) {
                return Err(key_err(
                    &k(&format!("instrumental_random.{f}")),
                    format!("a range ±x needs 0 ≤ x ≤ {max}, got {v}"),
                ));
            }
        }
        // One stream per station (purpose 0 of `signal`'s stream layout), so
        // stations with the same seed still differ.
        let mut rng = super::signal::rng_at(
            r.seed.unwrap_or(scenario_seed),
            super::signal::instrumental_stream(i),
            0,
        );
        // Uniform in [−1, 1) from 53 random bits (only exact IEEE operations).
        let mut u = || {
            use rand::RngCore;
            (rng.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        };
        for b in out.iter_mut() {
            b.phase_rad = u() * r.phase_deg.to_radians();
            b.delay_s = u() * r.delay_s;
            b.phase_rate_rad_per_s = u() * r.phase_rate_deg_per_s.to_radians();
        }
    }
    let mut seen = vec![false; n_bands];
    for (j, g) in keys.given.iter().enumerate() {
        let kj = |f: &str| k(&format!("instrumental[{j}].{f}"));
        let sb = usize::try_from(g.subband)
            .ok()
            .filter(|&sb| sb < n_bands)
            .ok_or_else(|| {
                key_err(
                    &kj("subband"),
                    format!(
                        "{}: the station records bands 0 to {} (its [[station.subband]] list, else the job's [[subband]])",
                        g.subband,
                        n_bands - 1
                    ),
                )
            })?;
        if std::mem::replace(&mut seen[sb], true) {
            return Err(key_err(
                &kj("subband"),
                format!("band {sb} has two [[station.instrumental]] tables"),
            ));
        }
        if !g.phase_rad.is_finite() {
            return Err(key_err(
                &kj("phase_rad"),
                format!("must be finite, got {}", g.phase_rad),
            ));
        }
        if !(g.phase_rate_rad_per_s.is_finite()
            && g.phase_rate_rad_per_s.abs() <= MAX_INSTRUMENTAL_RATE_RAD_PER_S)
        {
            return Err(key_err(
                &kj("phase_rate_rad_per_s"),
                format!(
                    "must be within ±{MAX_INSTRUMENTAL_RATE_RAD_PER_S} rad/s (a slow drift), got {}",
                    g.phase_rate_rad_per_s
                ),
            ));
        }
        if !(g.delay_s.is_finite() && g.delay_s.abs() < MAX_INSTRUMENTAL_DELAY_S) {
            return Err(key_err(
                &kj("delay_s"),
                format!(
                    "must be within ±{MAX_INSTRUMENTAL_DELAY_S} s, got {}",
                    g.delay_s
                ),
            ));
        }
        out[sb] = Instrumental {
            phase_rad: g.phase_rad,
            phase_rate_rad_per_s: g.phase_rate_rad_per_s,
            delay_s: g.delay_s,
        };
    }
    Ok(out)
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with('^'))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `inject_offset_m = [dx, dy, dz]` (true minus a-priori position, m): each
/// component finite and within ±10 km.
fn offset_m(
    v: toml::Value,
    key: &str,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<[f64; 3], ScenarioError> {
    let xyz = <[f64; 3]>::deserialize(v).map_err(|e| {
        key_err(
            key,
            format!(
                "expected [dx, dy, dz] in metres: {}",
                one_line(&e.to_string())
            ),
        )
    })?;
    if !xyz.iter().all(|x| x.is_finite() && x.abs() <= 1e4) {
        return Err(key_err(
            key,
            format!("implausible offset {xyz:?} (each component within ±10 km)"),
        ));
    }
    Ok(xyz)
}

/// `inject_gradient_m = [g_n, g_e]`: a gradient of more than 1 cm is a
/// typo (observed total gradients are ~1 mm, rarely several mm).
fn gradient_m(
    v: toml::Value,
    key: &str,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<[f64; 2], ScenarioError> {
    let g = <[f64; 2]>::deserialize(v).map_err(|e| {
        key_err(
            key,
            format!(
                "expected [north, east] in metres: {}",
                one_line(&e.to_string())
            ),
        )
    })?;
    if !(g.iter().all(|x| x.is_finite()) && g[0].hypot(g[1]) <= 0.01) {
        return Err(key_err(
            key,
            format!("implausible gradient {g:?} m (|g| ≤ 0.01 m)"),
        ));
    }
    Ok(g)
}

fn check_fraction(
    f: f64,
    key: &str,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    if (0.0..=1.0).contains(&f) {
        Ok(())
    } else {
        Err(key_err(key, format!("must be from 0 to 1, got {f}")))
    }
}

fn check_faults(
    f: &Faults,
    key: &str,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    for (name, v) in [
        ("invalid_fraction", f.invalid_fraction),
        ("missing_fraction", f.missing_fraction),
    ] {
        if !(0.0..1.0).contains(&v) {
            return Err(key_err(
                &format!("{key}.{name}"),
                format!("must be in [0, 1), got {v}"),
            ));
        }
    }
    for (name, ranges) in [
        ("invalid_ranges_s", &f.invalid_ranges_s),
        ("missing_ranges_s", &f.missing_ranges_s),
    ] {
        for r in ranges {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] >= 0.0 && r[1] > r[0]) {
                return Err(key_err(
                    &format!("{key}.{name}"),
                    format!(
                        "[{}, {}] is not a range [from, to) of seconds ≥ 0",
                        r[0], r[1]
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every VDIF thread needs the same number of channels, a power of two, with
/// no channel left empty (the writer writes whole frames of all channels).
/// `slots`: (thread, channel) of each band.
fn check_layout(
    slots: &[(u16, usize)],
    key: &str,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    let mut threads: Vec<u16> = slots.iter().map(|s| s.0).collect();
    threads.sort();
    threads.dedup();
    let per: Vec<usize> = threads
        .iter()
        .map(|t| slots.iter().filter(|s| s.0 == *t).count())
        .collect();
    let n = per[0];
    let ok = per.iter().all(|&p| p == n)
        && n.is_power_of_two()
        && threads.iter().all(|t| {
            let mut ch: Vec<usize> = slots.iter().filter(|s| s.0 == *t).map(|s| s.1).collect();
            ch.sort();
            ch.iter().enumerate().all(|(i, c)| i == *c)
        });
    if ok {
        Ok(())
    } else {
        Err(key_err(
            key,
            "the simulator writes every VDIF thread with the same power-of-two number of channels 0…n−1".into(),
        ))
    }
}

/// One `[[station.subband]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStationBand {
    sky_freq_hz: f64,
    bandwidth_hz: f64,
    sideband: Option<String>,
    pol: Option<String>,
    thread: Option<i64>,
    channel: Option<i64>,
}

/// Station `i`'s setup from its setup keys (`keys`: `sampling`,
/// `lo_offset_hz`, `subband` as given; absent ones take the defaults: the
/// scenario's `[simulation] complex`, no offset, the job's subbands).
fn station_setup(
    i: usize,
    name: &str,
    keys: toml::Table,
    job: &Job,
    complex: bool,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<StationSetup, ScenarioError> {
    let k = |f: &str| format!("station[{i}] ({name}).{f}");
    let sampling = match keys.get("sampling") {
        None if complex => Sampling::Complex,
        None => Sampling::Real,
        Some(toml::Value::String(v)) => match v.as_str() {
            "real" => Sampling::Real,
            "complex" => Sampling::Complex,
            "complex_dsb" => Sampling::ComplexDsb,
            other => {
                return Err(key_err(
                    &k("sampling"),
                    format!("{other:?} is not \"real\", \"complex\" or \"complex_dsb\""),
                ))
            }
        },
        Some(other) => {
            return Err(key_err(
                &k("sampling"),
                format!("expected \"real\", \"complex\" or \"complex_dsb\", got {other}"),
            ))
        }
    };
    let lo_offset_hz = match keys.get("lo_offset_hz") {
        None => 0.0,
        Some(toml::Value::Float(x)) => *x,
        Some(toml::Value::Integer(x)) => *x as f64,
        Some(other) => {
            return Err(key_err(
                &k("lo_offset_hz"),
                format!("expected a number of Hz, got {other}"),
            ))
        }
    };
    let (bands, own_bands) = match keys.get("subband") {
        None => {
            let bw = job.subbands[0].bandwidth_hz;
            if job.subbands.iter().any(|s| s.bandwidth_hz != bw) {
                return Err(key_err(
                    "subband.bandwidth_hz",
                    format!(
                        "station {name} records the job's subbands: the simulator needs one \
                         bandwidth for them (one sample rate per station)"
                    ),
                ));
            }
            let bands = job
                .subbands
                .iter()
                .map(|s| {
                    // complex DSB names a band by its lower edge.
                    let lsb_as_dsb =
                        sampling == Sampling::ComplexDsb && s.sideband == Sideband::Lower;
                    StationBand {
                        sky_freq_hz: if lsb_as_dsb {
                            s.sky_freq_hz - s.bandwidth_hz
                        } else {
                            s.sky_freq_hz
                        },
                        bandwidth_hz: s.bandwidth_hz,
                        sideband: if lsb_as_dsb {
                            Sideband::Upper
                        } else {
                            s.sideband
                        },
                        pol: s.pol,
                        thread: s.thread,
                        channel: s.channel,
                    }
                })
                .collect();
            (bands, false)
        }
        Some(toml::Value::Array(list)) if !list.is_empty() => {
            let mut bands = Vec::with_capacity(list.len());
            for (j, v) in list.iter().enumerate() {
                let kb = |f: &str| k(&format!("subband[{j}].{f}"));
                let raw = RawStationBand::deserialize(v.clone())
                    .map_err(|e| key_err(&k(&format!("subband[{j}]")), one_line(&e.to_string())))?;
                if !(raw.sky_freq_hz.is_finite() && raw.sky_freq_hz > 0.0) {
                    return Err(key_err(
                        &kb("sky_freq_hz"),
                        format!("must be a positive frequency, got {}", raw.sky_freq_hz),
                    ));
                }
                if !(raw.bandwidth_hz.is_finite()
                    && raw.bandwidth_hz > 0.0
                    && raw.bandwidth_hz < raw.sky_freq_hz)
                {
                    return Err(key_err(
                        &kb("bandwidth_hz"),
                        format!(
                            "must be positive and below the sky frequency, got {}",
                            raw.bandwidth_hz
                        ),
                    ));
                }
                let sideband =
                    match raw.sideband.as_deref().unwrap_or("U") {
                        "U" | "u" => Sideband::Upper,
                        "L" | "l" if sampling == Sampling::ComplexDsb => return Err(key_err(
                            &kb("sideband"),
                            "complex_dsb bands are named by their lower edge with sideband \"U\""
                                .into(),
                        )),
                        "L" | "l" => Sideband::Lower,
                        other => {
                            return Err(key_err(
                                &kb("sideband"),
                                format!("{other:?} is not \"U\" or \"L\""),
                            ))
                        }
                    };
                let pol = match raw.pol.as_deref().unwrap_or("R") {
                    "R" | "r" => Pol::R,
                    "L" | "l" => Pol::L,
                    "X" | "x" => Pol::X,
                    "Y" | "y" => Pol::Y,
                    other => {
                        return Err(key_err(
                            &kb("pol"),
                            format!("{other:?} is not R, L, X or Y"),
                        ))
                    }
                };
                let thread = raw.thread.unwrap_or(0);
                if !(0..1024).contains(&thread) {
                    return Err(key_err(
                        &kb("thread"),
                        format!("VDIF thread IDs are 0 to 1023, got {thread}"),
                    ));
                }
                let channel = raw.channel.unwrap_or(0);
                if !(0..=65536).contains(&channel) {
                    return Err(key_err(
                        &kb("channel"),
                        format!("must be from 0 to 65536, got {channel}"),
                    ));
                }
                let band = StationBand {
                    sky_freq_hz: raw.sky_freq_hz,
                    bandwidth_hz: raw.bandwidth_hz,
                    sideband,
                    pol,
                    thread: thread as u16,
                    channel: channel as usize,
                };
                if bands
                    .iter()
                    .any(|o: &StationBand| (o.thread, o.channel) == (band.thread, band.channel))
                {
                    return Err(key_err(
                        &kb("thread"),
                        format!("thread {thread} channel {channel} is used by two subbands"),
                    ));
                }
                if band.bandwidth_hz != list_bw(&bands).unwrap_or(band.bandwidth_hz) {
                    return Err(key_err(
                        &kb("bandwidth_hz"),
                        "the simulator needs one bandwidth per station (one sample rate)".into(),
                    ));
                }
                bands.push(band);
            }
            let slots: Vec<(u16, usize)> = bands.iter().map(|b| (b.thread, b.channel)).collect();
            check_layout(&slots, &k("subband"), key_err)?;
            (bands, true)
        }
        Some(_) => {
            return Err(key_err(
                &k("subband"),
                "expected [[station.subband]] tables".into(),
            ))
        }
    };
    // An offset of a band or more would be another band, not an offset.
    if !(lo_offset_hz.is_finite() && lo_offset_hz.abs() < bands[0].bandwidth_hz) {
        return Err(key_err(
            &k("lo_offset_hz"),
            format!(
                "{lo_offset_hz} Hz: must be smaller than the bandwidth ({} Hz)",
                bands[0].bandwidth_hz
            ),
        ));
    }
    Ok(StationSetup {
        sampling,
        lo_offset_hz,
        bands,
        own_bands,
        job_keys: keys,
    })
}

fn list_bw(bands: &[StationBand]) -> Option<f64> {
    bands.first().map(|b| b.bandwidth_hz)
}

/// `[job] vex` of a scenario: the schedule written into `table` as
/// `[[scan]]`, `[[station]]` and `[[source]]` tables (see the module docs).
fn expand_vex(table: &mut toml::Table, path: &Path) -> Result<(), ScenarioError> {
    use toml::Value;
    let key_err = |key: &str, why: String| ScenarioError::Key {
        file: path.to_path_buf(),
        key: key.to_string(),
        why,
    };
    let Some(name) = table
        .get_mut("job")
        .and_then(Value::as_table_mut)
        .and_then(|j| j.remove("vex"))
    else {
        return Ok(());
    };
    let Some(name) = name.as_str() else {
        return Err(key_err(
            "job.vex",
            format!("expected a file name, got {name}"),
        ));
    };
    if table.contains_key("scan") {
        return Err(key_err(
            "job.vex",
            "give the scans either by a VEX file or by [[scan]] tables, not both".into(),
        ));
    }
    let vex_path = path.parent().unwrap_or(Path::new(".")).join(name);
    let v = formats::vex::read_vex(&vex_path)
        .map_err(|e| key_err("job.vex", one_line(&e.to_string())))?;
    let array = |table: &mut toml::Table, k: &str| -> Vec<Value> {
        match table.remove(k) {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        }
    };
    let name_of = |t: &Value| t.get("name").and_then(Value::as_str).map(str::to_string);

    // Stations.
    let mut stations = array(table, "station");
    for vs in &v.stations {
        let at = stations
            .iter()
            .position(|t| name_of(t).as_deref() == Some(vs.code.as_str()));
        let placed = |t: &Value| {
            ["itrf_m", "moon", "moon_xyz_m", "delay_poly"]
                .iter()
                .any(|k| t.get(k).is_some())
        };
        let itrf = |p: [f64; 3]| Value::Array(p.iter().map(|x| Value::Float(*x)).collect());
        match (at, vs.site.position_m) {
            (Some(i), Some(p)) if !placed(&stations[i]) => {
                if let Some(t) = stations[i].as_table_mut() {
                    t.insert("itrf_m".into(), itrf(p));
                }
            }
            (Some(_), _) => {}
            (None, Some(p)) => {
                let mut t = toml::Table::new();
                t.insert("name".into(), Value::String(vs.code.clone()));
                t.insert("itrf_m".into(), itrf(p));
                stations.push(Value::Table(t));
            }
            (None, None) => {
                return Err(key_err(
                    "job.vex",
                    format!(
                        "station {} of {} has no $SITE site_position: give it a [[station]] table with its position (a lunar station: moon)",
                        vs.code,
                        vex_path.display()
                    ),
                ))
            }
        }
    }
    table.insert("station".into(), Value::Array(stations));

    // Sources: the names the scans will use.
    let mut sources = array(table, "source");
    let mut scan_name_of: BTreeMap<String, String> = BTreeMap::new();
    for vs in &v.sources {
        let given = sources
            .iter()
            .find_map(|t| name_of(t).filter(|n| *n == vs.key || *n == vs.name));
        let name = match given {
            Some(n) => n,
            None => {
                let (Some(ra), Some(dec)) = (vs.ra_rad, vs.dec_rad) else {
                    // Only an error if a scan uses it (below).
                    continue;
                };
                let mut t = toml::Table::new();
                t.insert("name".into(), Value::String(vs.key.clone()));
                t.insert("ra_deg".into(), Value::Float(ra.to_degrees()));
                t.insert("dec_deg".into(), Value::Float(dec.to_degrees()));
                sources.push(Value::Table(t));
                vs.key.clone()
            }
        };
        scan_name_of.insert(vs.key.clone(), name);
    }
    table.insert("source".into(), Value::Array(sources));

    // Scans.
    let mut scans = Vec::new();
    for sc in &v.scans {
        let mut names = Vec::new();
        for src in sc.sources.iter().filter(|s| s.correlate != Some(false)) {
            let n = scan_name_of.get(&src.key).ok_or_else(|| {
                key_err(
                    "job.vex",
                    format!(
                        "scan {}: source {} has no position in {} and no [[source]] table",
                        sc.name,
                        src.key,
                        vex_path.display()
                    ),
                )
            })?;
            names.push(Value::String(n.clone()));
        }
        let duration = sc
            .stations
            .iter()
            .map(|s| s.data_stop_s)
            .fold(0.0, f64::max);
        let mut t = toml::Table::new();
        t.insert("name".into(), Value::String(sc.name.clone()));
        t.insert("start".into(), Value::String(sc.start.to_iso8601()));
        t.insert("duration_s".into(), Value::Float(duration));
        t.insert("sources".into(), Value::Array(names));
        t.insert(
            "stations".into(),
            Value::Array(
                sc.stations
                    .iter()
                    .map(|s| Value::String(s.station.clone()))
                    .collect(),
            ),
        );
        scans.push(Value::Table(t));
    }
    table.insert("scan".into(), Value::Array(scans));
    Ok(())
}
