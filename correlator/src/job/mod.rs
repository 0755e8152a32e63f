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
//!
//! [model]                          # optional: geometric model
//! kernels = ["de421.bsp", "moon_pa.bpc", "moon_080317.tf"]
//! eop = "finals2000A.txt"          # optional
//! interval_s = 120.0
//! order = 5
//!
//! [source]                         # or [[source]] tables: several phase
//! name = "3C273"                   # centres, or a session's catalogue
//! ra = "12h29m06.6997s"
//! dec = "+02d03m08.598s"
//!
//! [[station]]
//! name = "T6"
//! itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]
//! file = "T6.vdif"
//! sample_rate_hz = 16e6
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Samples per FFT and subband (real data gives fft_length/2 channels).
    pub fft_length: usize,
    /// Requested integration time; the engine rounds it to whole FFTs.
    pub integration_s: f64,
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
