//! The job file: TOML in, a typed and validated [`Job`] out.
//!
//! Keys may come in any order (DiFX's fixed-order control file is a known
//! annoyance); unknown keys are refused so a typo never silently changes a
//! correlation. Every error names the file and the key. Paths inside the file
//! (data files, kernels, output) are relative to the file's own directory.
//!
//! Parsing validates what is present (`validate`, on the serde shape
//! of `raw`); what a command needs beyond that — a frequency setup and
//! recordings to correlate, none to print the delay model — the command asks
//! for (`needs`: [`Job::require_subbands`], [`Job::require_correlation`]).
//! Angles are parsed in `angles`, errors are [`JobError`].
//!
//! ```toml
//! [job]
//! name = "demo"
//! output = "demo.fits"
//! start = "2026-03-14T23:45:00Z"   # optional
//! duration_s = 10.0                # optional
//!
//! [correlation]
//! fft_length = 1024
//! integration_s = 1.0
//! channels = 64                   # optional: output channels per band (averaged)
//! window = "hann"                 # optional: none (default), hann, hamming, cosine
//!
//! [model]                          # optional: geometric model
//! kernels = ["de421.bsp", "moon_pa.bpc", "moon_080317.tf"]
//! eop = "finals2000A.txt"          # optional
//! interval_s = 120.0
//! order = 5
//! solid_tide = true                # optional: IERS 2010 §7.1.1 (default true)
//! pole_tide = true                 # optional: IERS 2010 §7.1.4 (default true; needs eop)
//! subdaily_eop = true              # optional: ocean-tide and libration terms in x_p, y_p,
//!                                  #   UT1 (IERS 2010 §8.2, §5.5.1, §5.5.3; default true,
//!                                  #   as CALC/difxcalc apply them; needs eop)
//! celestial_pole_offsets = true    # optional: the EOP file's dX, dY (IERS 2010 §5.5.4;
//!                                  #   default true; CALC/difxcalc apply none)
//! troposphere = true               # optional: a priori dry + wet delays (default true)
//! ocean_loading = true             # optional: IERS 2010 §7.1.2 for stations with a blq (default true)
//! lunar_tide = true                # optional: the Moon's body tide at lunar sites (default true)
//! axis_offset = true               # optional: the antennas' axis offsets (default true)
//!
//! [source]                         # or [[source]] tables: several phase
//! name = "3C273"                   # centres, or a session's catalogue
//! ra = "12h29m06.6997s"
//! dec = "+02d03m08.598s"
//!
//! [[station]]
//! name = "T6"
//! itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]
//! itrf_epoch = "2020-01-01T00:00:00Z"   # optional: epoch of itrf_m (default:
//! velocity_m_per_yr = [-0.03, -0.01, -0.01] #   itrf_m at every epoch)
//! axis_type = "AZEL"               # optional: AZEL, EQUA, XYEW, XYNS
//! axis_offset_m = 0.0              # optional (needs axis_type when not 0)
//! blq = "onsala.blq"               # optional: ocean-loading coefficients (BLQ format)
//! blq_name = "ONSALA"              # optional: the station's name in the BLQ file
//!                                  #   (default: name; case-insensitive)
//! file = "T6.vdif"
//! sample_rate_hz = 16e6
//! sampling = "real"                # optional: "real" | "complex" | "complex_dsb"
//! lo_offset_hz = 0.0               # optional: this station's LO above the band's
//! pcal_interval_hz = 1e6           # optional: its phase-cal comb, tones at sky
//! pcal_offset_hz = 1e4             #   offset + k·interval (offset default 0)
//! pressure_hpa = 1010.0            # optional: surface pressure (default: standard
//!                                  #   atmosphere at the station's height)
//! zwd_m = 0.1                      # optional: a priori zenith wet delay (default: from
//!                                  #   met_file's humidity if it has it, else 0.1)
//! met_file = "T6.met"              # optional: surface pressure (and temperature,
//!                                  #   humidity) in time; see model::troposphere::met
//! # [[station.subband]] tables (the keys of [[subband]]): what this station
//! # records when it differs from the job's [[subband]] (the output bands)
//!
//! [[subband]]                      # needed to correlate, not for `model`
//! sky_freq_hz = 8.4e9
//! bandwidth_hz = 8e6
//! sideband = "U"
//! pol = "R"
//! thread = 0
//! channel = 0
//! ```

mod angles;
mod error;
mod needs;
mod raw;
mod validate;
mod zoom;

pub use zoom::{tagged_output, Zoom};

#[cfg(test)]
mod tests;

pub use angles::{parse_dec, parse_ra};
pub use error::JobError;

use formats::UtcTime;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A validated correlation job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The file the job came from (paths below are already resolved against its directory).
    pub file: PathBuf,
    pub name: String,
    /// FITS-IDI output path.
    pub output: PathBuf,
    /// Start of the correlation (geocentric UTC); `None` = the span all stations cover.
    pub start: Option<UtcTime>,
    pub duration_s: Option<f64>,
    pub correlation: Correlation,
    pub model: Option<ModelConfig>,
    /// `[source]` or `[[source]]`. A job without scans correlates all of
    /// them over its one span, as phase centres of the same samples; a
    /// session's scans pick theirs by name. May be empty only when `vex`
    /// gives them.
    pub sources: Vec<Source>,
    /// `[[scan]]` tables: a session written in TOML (see
    /// [`crate::session`]). Empty for a single-span job.
    pub scans: Vec<ScanSpec>,
    /// `[job] vex`: the VEX schedule the session comes from (resolved path).
    pub vex: Option<PathBuf>,
    /// `[job] scans`: correlate only these scans of the schedule.
    pub select_scans: Option<Vec<String>>,
    /// `[job] stations`: correlate only these stations of the schedule.
    pub select_stations: Option<Vec<String>>,
    pub stations: Vec<Station>,
    /// The frequency setup; empty when the job gives no `[[subband]]` (the
    /// delay model needs none). Commands that correlate ask
    /// [`Job::require_subbands`] / [`Job::require_correlation`].
    pub subbands: Vec<Subband>,
    /// `[[zoom]]`: narrow bands correlated at fine resolution in a pass of
    /// their own ([`Job::zoom_pass`]), written to a file of their own.
    pub zooms: Vec<Zoom>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Samples per FFT and subband (real data gives fft_length/2 channels).
    pub fft_length: usize,
    /// Requested integration time; the engine rounds it to whole FFTs.
    pub integration_s: f64,
    /// Output channels per band (`None`: every channel of the FFT):
    /// groups of adjacent FFT channels are averaged before writing (DiFX's
    /// `specAvg`, SFXC's `number_channels`). Must divide the FFT's
    /// channels (the engine checks, knowing the sampling).
    pub channels: Option<usize>,
    /// Window applied to each block of samples before its FFT.
    pub window: Window,
    /// The channel width instead of `fft_length` (not a job-file key: a
    /// zoom pass sets it): the engine then makes the lowest-rate station's
    /// FFT fs / `chan_width_hz` points.
    pub chan_width_hz: Option<f64>,
    /// Track the delay's change inside a block at each output band's
    /// centre frequency, to second order (not a job-file key: a zoom pass
    /// sets it, whose blocks last up to seconds; see
    /// [`crate::engine::station`]).
    pub track_band_centre: bool,
}

/// A window on the samples of a block before the FFT (SFXC's set; none by
/// default, as DiFX). Periodic (DFT-even) forms, n = 0 … N−1:
/// Hann ½(1 − cos 2πn/N), Hamming 0.54 − 0.46 cos 2πn/N, cosine sin πn/N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    #[default]
    None,
    Hann,
    Hamming,
    Cosine,
}

impl Window {
    /// The name the job file uses.
    pub fn name(self) -> &'static str {
        match self {
            Window::None => "none",
            Window::Hann => "hann",
            Window::Hamming => "hamming",
            Window::Cosine => "cosine",
        }
    }

    /// `w[n]` for a block of `n` samples (`None` for no window).
    pub fn coefficients(self, n: usize) -> Option<Vec<f32>> {
        use std::f64::consts::{PI, TAU};
        let x = |k: usize| k as f64 / n as f64;
        let w: Box<dyn Fn(usize) -> f64> = match self {
            Window::None => return None,
            Window::Hann => Box::new(|k| 0.5 * (1.0 - (TAU * x(k)).cos())),
            Window::Hamming => Box::new(|k| 0.54 - 0.46 * (TAU * x(k)).cos()),
            Window::Cosine => Box::new(|k| (PI * x(k)).sin()),
        };
        Some((0..n).map(|k| w(k) as f32).collect())
    }
}

/// `[model]`: where the geometric model's data comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// SPICE kernels (SPK, binary PCK, text frame kernels), resolved paths.
    pub kernels: Vec<PathBuf>,
    /// IERS finals2000A Earth-orientation file, if given.
    pub eop: Option<PathBuf>,
    /// Earth orientation given with the schedule (a VEX `$EOP`), used when
    /// `eop` names no file (`correlator::session` fills it; a job file
    /// cannot).
    pub eop_table: Option<crate::model::earth::Eop>,
    /// Span of each delay polynomial.
    pub interval_s: f64,
    /// Polynomial order.
    pub order: usize,
    /// `solid_tide`: displace Earth stations by the solid Earth tide (IERS
    /// Conventions 2010 §7.1.1); default on.
    pub solid_tide: bool,
    /// `pole_tide`: displace Earth stations by the pole tide (§7.1.4,
    /// needs EOP); default on.
    pub pole_tide: bool,
    /// `subdaily_eop` (default true): add the diurnal and semidiurnal
    /// ocean-tide and libration variations of polar motion and UT1 (IERS
    /// Conventions 2010 §8.2, §5.5.1, §5.5.3) to the interpolated EOP
    /// ([`crate::model::subdaily_eop`]); without EOP, none.
    pub subdaily_eop: bool,
    /// `celestial_pole_offsets` (default true): add the EOP's δX, δY
    /// (finals2000A Bulletin A) to the CIP's X, Y (IERS Conventions 2010
    /// §5.5.4, eq. 5.26). `false` gives the CIP of the IAU 2006/2000A
    /// precession-nutation alone, as CALC/difxcalc and skyfield use.
    pub celestial_pole_offsets: bool,
    /// `troposphere` (default true): add the a priori dry and wet delays of
    /// Earth stations ([`crate::model::troposphere`]).
    pub troposphere: bool,
    /// `ocean_loading` (default true): displace Earth stations that have a
    /// BLQ by ocean tide loading (§7.1.2).
    pub ocean_loading: bool,
    /// `lunar_tide` (default true): displace lunar stations and lunar
    /// sources by the Moon's body tide
    /// ([`crate::model::geophysics::lunar_tide`]).
    pub lunar_tide: bool,
    /// `axis_offset` (default true): add the antennas' axis-offset delays.
    pub axis_offset: bool,
    /// The length scale of lunar (selenocentric) coordinates.
    pub lunar_coordinates: LunarScale,
    /// Added to the Earth orientation interpolated from `eop` (or
    /// `eop_table`) at every epoch; zero from a job file, which cannot set
    /// it. `emcorr simulate --observables` puts the true EOP's offset here
    /// (`inject_ut1_s`, …) so the truth is computed without editing the EOP
    /// file; `emcorr solve` shifts its trials the same way
    /// ([`crate::model::DelayModel::epoch_with_eop_offset`]).
    pub eop_offset: crate::model::earth::EopValues,
}

/// `[model] lunar_coordinates`: the length unit of the Moon-fixed
/// coordinates of lunar stations and lunar sources.
///
/// - `"tdb"` (default): TDB-compatible, as the JPL DE ephemerides express
///   every length and as lunar coordinates derived from them are —
///   lunar-laser-ranging retroreflector coordinates in the DE PA frame,
///   LRO/LOLA and Chang'E site coordinates in the DE421 ME frame (Folkner et
///   al. 2014, IPN Progress Report 42-196; IERS Conventions 2010 §10.1 and
///   §11.1 on TDB-compatible quantities). Such a vector X enters the
///   TDB-compatible BCRS of the ephemeris as (1 − U/c²)·X − ½(V·X)V/c².
/// - `"proper"`: proper lengths on the Moon (a local survey in SI metres):
///   X_TDB = (1 − L_B)·X, so the factor is (1 − U/c² − L_B). The two differ
///   by L_B = 1.55e-8 of the radius: 27 mm, up to 90 ps on an Earth–Moon
///   baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LunarScale {
    #[default]
    Tdb,
    Proper,
}

/// A site on the Moon in the mean-Earth (ME) frame: selenographic latitude,
/// longitude (east positive) and height above a 1737.4 km sphere.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoonSite {
    pub lat_deg: f64,
    pub lon_deg: f64,
    #[serde(default)]
    pub height_m: f64,
}

/// Where the source is.
#[derive(Debug, Clone, PartialEq)]
pub enum SourcePosition {
    /// Far field: ICRS direction.
    RaDec { ra_rad: f64, dec_rad: f64 },
    /// Near field: a transmitter on the lunar surface (ME frame).
    Moon(MoonSite),
    /// Near field: a body in an SPK kernel of `[model] kernels` (NAIF ID).
    SpkBody(i32),
    /// Near field: a CCSDS OEM text file of state vectors (resolved path).
    Oem(PathBuf),
}

/// A `[[scan]]` table: one scan of a session written in TOML.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSpec {
    pub name: String,
    /// Geocentric UTC: the wavefront at the geocentre (the correlator's clock).
    pub start: UtcTime,
    pub duration_s: f64,
    /// Names of `[[source]]` entries: the scan's phase centres.
    pub sources: Vec<String>,
    /// Names of `[[station]]` entries; `None` = every station of the job.
    pub stations: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub position: SourcePosition,
}

/// Where a station is.
#[derive(Debug, Clone, PartialEq)]
pub enum StationPosition {
    /// On Earth: ITRF cartesian metres.
    Itrf([f64; 3]),
    /// On the Moon: ME-frame selenographic coordinates.
    Moon(MoonSite),
    /// On the Moon: ME-frame cartesian metres.
    MoonXyz([f64; 3]),
    /// No geometry: the station gives `delay_poly` instead.
    None,
}

/// A station's ocean-loading coefficients: a BLQ file and the station's
/// name in it (matched case-insensitively).
#[derive(Debug, Clone, PartialEq)]
pub struct Blq {
    pub file: PathBuf,
    pub name: String,
}

/// An externally computed delay: τ(g) = Σ c_k (g − epoch)^k, g the geocentric
/// arrival time in seconds (same convention as the geometric model).
#[derive(Debug, Clone, PartialEq)]
pub struct DelayPolySpec {
    pub epoch: UtcTime,
    pub coeffs_s: Vec<f64>,
}

/// A station clock: offset and rate added to the model delay,
/// clock(g) = offset_s + rate · (g − epoch) (a station whose clock is late
/// by offset_s records a wavefront's arrival later by offset_s).
#[derive(Debug, Clone, PartialEq)]
pub struct ClockModel {
    pub offset_s: f64,
    pub rate: f64,
    /// Reference epoch of the rate; `None` = the job start.
    pub epoch: Option<UtcTime>,
    /// For a lunar station with a free-running local clock: also apply the
    /// computed rate of lunar proper time relative to TT (~56 µs/day).
    pub lunar_proper_time: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    pub name: String,
    pub position: StationPosition,
    /// `itrf_epoch`: the epoch of `itrf_m`, from which `velocity_m_per_yr`
    /// moves it; `None` = the position holds at every epoch.
    pub itrf_epoch: Option<UtcTime>,
    /// `velocity_m_per_yr`: ITRF velocity (m per Julian year; needs
    /// `itrf_epoch`).
    pub velocity_m_per_yr: Option<[f64; 3]>,
    /// `axis_type` and `axis_offset_m` (default 0): the antenna mount and
    /// its axis offset, for an Earth station; `None` if not given.
    pub axis: Option<crate::model::axis_offset::AxisOffset>,
    /// `blq` (resolved path) and `blq_name` (default: the station's name):
    /// where its ocean-loading coefficients are.
    pub blq: Option<Blq>,
    /// Recording files in time order; `-` means stdin.
    pub files: Vec<PathBuf>,
    /// Samples per second per channel; `None` = from the recording.
    pub sample_rate_hz: Option<f64>,
    pub clock: ClockModel,
    /// Whether the job file gave the clock (any `clock_*` key); if not, a
    /// VEX `$CLOCK` may.
    pub clock_given: bool,
    pub delay_poly: Option<DelayPolySpec>,
    /// Where this station records each job subband, when it differs from
    /// the subband's own `thread`/`channel` (a VEX gives every station its
    /// own mapping): `slots[sb]` = (VDIF thread, channel), or `None` where
    /// the station does not record that subband. `None` = the subbands'.
    pub slots: Option<Vec<Option<(u16, usize)>>>,
    /// `sampling`: how the recording samples its band; `None` = as the
    /// VDIF header says (real, or complex USB with the band edge at the LO).
    pub sampling: Option<Sampling>,
    /// `lo_offset_hz`: the station's LO lies this far above the band's LO
    /// (every sideband; DSB: above the band centre).
    pub lo_offset_hz: f64,
    /// `[[station.subband]]`: what this station records, when it differs
    /// from the job's `[[subband]]` (which are then only the output bands);
    /// empty = the job's.
    pub subbands: Vec<Subband>,
    /// `pcal_interval_hz`, `pcal_offset_hz`: the station's phase-cal comb,
    /// if it has one.
    pub pcal: Option<PcalSpec>,
    /// `pressure_hpa`, `zwd_m`: what the troposphere model takes from the
    /// station (unset: a standard atmosphere, a default wet delay).
    pub weather: crate::model::troposphere::Weather,
}

/// A station's phase-cal comb: tones at sky frequencies
/// `offset_hz + k·interval_hz` (k integer) wherever they fall inside a
/// recorded band, locked to the station's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcalSpec {
    /// Tone spacing (> 0).
    pub interval_hz: f64,
    /// 0 ≤ offset < interval.
    pub offset_hz: f64,
}

/// How a station's recording samples its band (`[[station]] sampling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Real samples at fs: baseband [0, fs/2), the band [0, bandwidth_hz).
    Real,
    /// Complex single-sideband samples at fs: baseband [0, fs) above
    /// (USB) or below (LSB) the LO at the band edge.
    Complex,
    /// Complex double-sideband samples at fs: baseband [−fs/2, fs/2) around
    /// an LO at the band centre (`sky_freq_hz` is the lower edge).
    ComplexDsb,
}

impl Sampling {
    /// The job-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Real => "real",
            Sampling::Complex => "complex",
            Sampling::ComplexDsb => "complex_dsb",
        }
    }

    /// Complex (I, Q) samples, single or double sideband.
    pub fn is_complex(self) -> bool {
        self != Sampling::Real
    }
}

impl Station {
    /// Where this station records job subband `sb` (`subband` is its
    /// definition): (VDIF thread, channel), or `None` if it does not.
    pub fn slot(&self, sb: usize, subband: &Subband) -> Option<(u16, usize)> {
        match &self.slots {
            None => Some((subband.thread, subband.channel)),
            Some(v) => v.get(sb).copied().flatten(),
        }
    }

    /// What this station records: its `[[station.subband]]` tables, else
    /// the job's subbands `job_subbands` at this station's slots (those it
    /// records). The second element is the job subband a recorded one is,
    /// when it is one (`None` for the station's own tables).
    pub fn recorded_subbands(&self, job_subbands: &[Subband]) -> Vec<(Subband, Option<usize>)> {
        if !self.subbands.is_empty() {
            return self.subbands.iter().map(|s| (s.clone(), None)).collect();
        }
        job_subbands
            .iter()
            .enumerate()
            .filter_map(|(i, sb)| {
                self.slot(i, sb).map(|(thread, channel)| {
                    (
                        Subband {
                            thread,
                            channel,
                            ..sb.clone()
                        },
                        Some(i),
                    )
                })
            })
            .collect()
    }

    /// The VDIF threads this station's recording is read from (sorted).
    pub fn recorded_threads(&self, job_subbands: &[Subband]) -> Vec<u16> {
        let mut t: Vec<u16> = self
            .recorded_subbands(job_subbands)
            .iter()
            .map(|(s, _)| s.thread)
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sideband {
    Upper,
    Lower,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pol {
    R,
    L,
    X,
    Y,
}

impl Pol {
    /// Canonical order of polarisations in a band: R before L, X before Y.
    pub fn rank(self) -> usize {
        match self {
            Pol::R => 0,
            Pol::L => 1,
            Pol::X => 2,
            Pol::Y => 3,
        }
    }

    pub fn letter(self) -> char {
        match self {
            Pol::R => 'R',
            Pol::L => 'L',
            Pol::X => 'X',
            Pol::Y => 'Y',
        }
    }
}

/// One subband: a VDIF (thread, channel) holding one polarisation of one band.
#[derive(Debug, Clone, PartialEq)]
pub struct Subband {
    /// Band edge (the LO): the lower edge for USB, the upper edge for LSB.
    pub sky_freq_hz: f64,
    pub bandwidth_hz: f64,
    pub sideband: Sideband,
    pub pol: Pol,
    pub thread: u16,
    pub channel: usize,
}

impl Job {
    /// Read and validate a job file.
    pub fn from_file(path: &Path) -> Result<Job, JobError> {
        let text = std::fs::read_to_string(path).map_err(|e| JobError::Read {
            file: path.to_path_buf(),
            why: e.to_string(),
        })?;
        Job::from_toml_str(&text, path)
    }

    /// Validate job text as if it had been read from `path` (paths inside are
    /// resolved against `path`'s directory).
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Job, JobError> {
        let value: toml::Table = toml::from_str(text).map_err(|e| syntax(path, e))?;
        Job::from_toml_table(value, path)
    }

    /// Validate an already parsed TOML table (the simulator strips its own keys
    /// from a scenario and hands the rest here).
    pub fn from_toml_table(table: toml::Table, path: &Path) -> Result<Job, JobError> {
        let raw: raw::RawJob =
            raw::RawJob::deserialize(toml::Value::Table(table)).map_err(|e| syntax(path, e))?;
        validate::validate(raw, path)
    }

    /// The directory paths in the job are relative to.
    pub fn dir(&self) -> &Path {
        base_dir(&self.file)
    }
}

fn base_dir(file: &Path) -> &Path {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn syntax(path: &Path, e: impl std::fmt::Display) -> JobError {
    // toml's messages span several lines (with a source excerpt); keep one.
    let text = e.to_string();
    let why = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with('^'))
        .collect::<Vec<_>>()
        .join("; ");
    JobError::Syntax {
        file: path.to_path_buf(),
        why,
    }
}
