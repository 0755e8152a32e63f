//! The job file: TOML in, a typed and validated [`Job`] out.
//!
//! Keys may come in any order (DiFX's fixed-order control file is a known
//! annoyance); unknown keys are refused so a typo never silently changes a
//! correlation. Every error names the file and the key. Paths inside the file
//! (data files, kernels, output) are relative to the file's own directory.
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
//! [source]
//! name = "3C273"
//! ra = "12h29m06.6997s"
//! dec = "+02d03m08.598s"
//!
//! [[station]]
//! name = "T6"
//! itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]
//! file = "T6.vdif"
//! sample_rate_hz = 16e6
//!
//! [[subband]]
//! sky_freq_hz = 8.4e9
//! bandwidth_hz = 8e6
//! sideband = "U"
//! pol = "R"
//! thread = 0
//! channel = 0
//! ```

use formats::UtcTime;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A job file that could not be read or is not valid. Display is one line
/// naming the file, the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{file}: cannot read: {why}")]
    Read { file: PathBuf, why: String },
    #[error("{file}: {why}")]
    Syntax { file: PathBuf, why: String },
    #[error("{file}: key `{key}`: {why}")]
    Key {
        file: PathBuf,
        key: String,
        why: String,
    },
}

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
    pub source: Source,
    pub stations: Vec<Station>,
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
    pub delay_poly: Option<DelayPolySpec>,
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

// ---------------------------------------------------------------------------
// Raw TOML shape (serde), turned into the typed job by `validate`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    job: RawJobSection,
    #[serde(default)]
    correlation: Option<RawCorrelation>,
    model: Option<RawModel>,
    source: RawSource,
    #[serde(default)]
    station: Vec<RawStation>,
    #[serde(default)]
    subband: Vec<RawSubband>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJobSection {
    name: Option<String>,
    output: Option<String>,
    start: Option<String>,
    duration_s: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCorrelation {
    fft_length: Option<i64>,
    integration_s: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    #[serde(default)]
    kernels: Vec<String>,
    eop: Option<String>,
    interval_s: Option<f64>,
    order: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: String,
    ra: Option<String>,
    dec: Option<String>,
    ra_deg: Option<f64>,
    dec_deg: Option<f64>,
    moon: Option<MoonSite>,
    spk_body: Option<i32>,
    oem: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelayPoly {
    epoch: String,
    coeffs_s: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStation {
    name: String,
    itrf_m: Option<[f64; 3]>,
    moon: Option<MoonSite>,
    moon_xyz_m: Option<[f64; 3]>,
    file: Option<String>,
    files: Option<Vec<String>>,
    sample_rate_hz: Option<f64>,
    clock_offset_s: Option<f64>,
    clock_rate: Option<f64>,
    clock_epoch: Option<String>,
    #[serde(default)]
    lunar_proper_time: bool,
    delay_poly: Option<RawDelayPoly>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubband {
    sky_freq_hz: f64,
    bandwidth_hz: f64,
    sideband: Option<String>,
    pol: Option<String>,
    thread: Option<i64>,
    channel: Option<i64>,
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
        let raw: RawJob =
            RawJob::deserialize(toml::Value::Table(table)).map_err(|e| syntax(path, e))?;
        validate(raw, path)
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

fn validate(raw: RawJob, path: &Path) -> Result<Job, JobError> {
    let dir = base_dir(path);
    let key_err = |key: &str, why: String| JobError::Key {
        file: path.to_path_buf(),
        key: key.to_string(),
        why,
    };
    let resolve = |p: &str| -> PathBuf {
        if p == "-" {
            PathBuf::from("-")
        } else {
            dir.join(p)
        }
    };
    let time =
        |key: &str, s: &str| UtcTime::parse_iso8601(s).map_err(|e| key_err(key, e.to_string()));

    let name = raw.job.name.unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "job".into())
    });
    let output = resolve(raw.job.output.as_deref().unwrap_or(&format!("{name}.fits")));
    let start = raw
        .job
        .start
        .as_deref()
        .map(|s| time("job.start", s))
        .transpose()?;
    if let Some(d) = raw.job.duration_s {
        if !(d.is_finite() && d > 0.0) {
            return Err(key_err(
                "job.duration_s",
                format!("must be a positive number of seconds, got {d}"),
            ));
        }
    }

    let corr = raw.correlation.unwrap_or(RawCorrelation {
        fft_length: None,
        integration_s: None,
    });
    let fft_length = corr.fft_length.unwrap_or(1024);
    if !(4..=1 << 24).contains(&fft_length) || fft_length % 2 != 0 {
        return Err(key_err(
            "correlation.fft_length",
            format!("must be an even number of samples from 4 to 16777216, got {fft_length}"),
        ));
    }
    let integration_s = corr.integration_s.unwrap_or(1.0);
    if !(integration_s.is_finite() && integration_s > 0.0) {
        return Err(key_err(
            "correlation.integration_s",
            format!("must be a positive number of seconds, got {integration_s}"),
        ));
    }

    let model = match raw.model {
        None => None,
        Some(m) => {
            let interval_s = m.interval_s.unwrap_or(120.0);
            if !(interval_s.is_finite() && interval_s > 0.0) {
                return Err(key_err(
                    "model.interval_s",
                    format!("must be positive, got {interval_s}"),
                ));
            }
            let order = m.order.unwrap_or(5);
            if !(1..=15).contains(&order) {
                return Err(key_err(
                    "model.order",
                    format!("must be from 1 to 15, got {order}"),
                ));
            }
            Some(ModelConfig {
                kernels: m.kernels.iter().map(|k| resolve(k)).collect(),
                eop: m.eop.as_deref().map(resolve),
                interval_s,
                order: order as usize,
            })
        }
    };

    let source = validate_source(raw.source, &key_err, &resolve)?;

    if raw.station.is_empty() {
        return Err(key_err("station", "the job has no [[station]]".into()));
    }
    let mut stations = Vec::with_capacity(raw.station.len());
    for (i, s) in raw.station.into_iter().enumerate() {
        let k = |field: &str| format!("station[{i}] ({}).{field}", s.name);
        if s.name.is_empty()
            || s.name.len() > 8
            || !s
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(key_err(
                &format!("station[{i}].name"),
                format!("{:?}: use 1 to 8 letters, digits or '_'", s.name),
            ));
        }
        if stations.iter().any(|o: &Station| o.name == s.name) {
            return Err(key_err(&k("name"), "two stations have this name".into()));
        }
        let given = [s.itrf_m.is_some(), s.moon.is_some(), s.moon_xyz_m.is_some()];
        let position = match (s.itrf_m, s.moon, s.moon_xyz_m) {
            _ if given.iter().filter(|g| **g).count() > 1 => {
                return Err(key_err(
                    &k("itrf_m"),
                    "give only one of itrf_m, moon and moon_xyz_m".into(),
                ))
            }
            (Some(x), _, _) => StationPosition::Itrf(x),
            (_, Some(m), _) => StationPosition::Moon(check_moon_site(m, &k("moon"), &key_err)?),
            (_, _, Some(x)) => StationPosition::MoonXyz(x),
            _ => StationPosition::None,
        };
        let delay_poly = match s.delay_poly {
            None => None,
            Some(p) => {
                if p.coeffs_s.is_empty() || p.coeffs_s.iter().any(|c| !c.is_finite()) {
                    return Err(key_err(
                        &k("delay_poly.coeffs_s"),
                        "needs at least one finite coefficient".into(),
                    ));
                }
                Some(DelayPolySpec {
                    epoch: time(&k("delay_poly.epoch"), &p.epoch)?,
                    coeffs_s: p.coeffs_s,
                })
            }
        };
        if position == StationPosition::None && delay_poly.is_none() {
            return Err(key_err(
                &k("itrf_m"),
                "the station needs a position (itrf_m, moon or moon_xyz_m) or a delay_poly".into(),
            ));
        }
        if delay_poly.is_none() && model.is_none() {
            return Err(key_err(
                "model",
                format!(
                    "station {} gives a position but the job has no [model] section",
                    s.name
                ),
            ));
        }
        let files: Vec<PathBuf> = match (s.file, s.files) {
            (Some(_), Some(_)) => {
                return Err(key_err(
                    &k("file"),
                    "give either file or files, not both".into(),
                ))
            }
            (Some(f), None) => vec![resolve(&f)],
            (None, Some(fs)) => fs.iter().map(|f| resolve(f)).collect(),
            (None, None) => Vec::new(),
        };
        if let Some(r) = s.sample_rate_hz {
            if !(r.is_finite() && r > 0.0) {
                return Err(key_err(
                    &k("sample_rate_hz"),
                    format!("must be positive, got {r}"),
                ));
            }
        }
        let clock = ClockModel {
            offset_s: s.clock_offset_s.unwrap_or(0.0),
            rate: s.clock_rate.unwrap_or(0.0),
            epoch: s
                .clock_epoch
                .as_deref()
                .map(|e| time(&k("clock_epoch"), e))
                .transpose()?,
            lunar_proper_time: s.lunar_proper_time,
        };
        if s.lunar_proper_time
            && !matches!(
                position,
                StationPosition::Moon(_) | StationPosition::MoonXyz(_)
            )
        {
            return Err(key_err(
                &k("lunar_proper_time"),
                "only a station on the Moon has a lunar clock".into(),
            ));
        }
        stations.push(Station {
            name: s.name,
            position,
            files,
            sample_rate_hz: s.sample_rate_hz,
            clock,
            delay_poly,
        });
    }

    if raw.subband.is_empty() {
        return Err(key_err("subband", "the job has no [[subband]]".into()));
    }
    let mut subbands = Vec::with_capacity(raw.subband.len());
    for (i, b) in raw.subband.into_iter().enumerate() {
        let k = |field: &str| format!("subband[{i}].{field}");
        if !(b.sky_freq_hz.is_finite() && b.sky_freq_hz > 0.0) {
            return Err(key_err(
                &k("sky_freq_hz"),
                format!("must be positive, got {}", b.sky_freq_hz),
            ));
        }
        if !(b.bandwidth_hz.is_finite() && b.bandwidth_hz > 0.0) {
            return Err(key_err(
                &k("bandwidth_hz"),
                format!("must be positive, got {}", b.bandwidth_hz),
            ));
        }
        let sideband = match b.sideband.as_deref().unwrap_or("U") {
            "U" | "u" | "USB" => Sideband::Upper,
            "L" | "l" | "LSB" => Sideband::Lower,
            other => {
                return Err(key_err(
                    &k("sideband"),
                    format!("{other:?}: expected \"U\" or \"L\""),
                ))
            }
        };
        let pol = match b.pol.as_deref().unwrap_or("R") {
            "R" | "r" => Pol::R,
            "L" | "l" => Pol::L,
            "X" | "x" => Pol::X,
            "Y" | "y" => Pol::Y,
            other => {
                return Err(key_err(
                    &k("pol"),
                    format!("{other:?}: expected R, L, X or Y"),
                ))
            }
        };
        let thread = b.thread.unwrap_or(0);
        if !(0..1024).contains(&thread) {
            return Err(key_err(
                &k("thread"),
                format!("VDIF thread IDs are 0 to 1023, got {thread}"),
            ));
        }
        let channel = b.channel.unwrap_or(0);
        if !(0..=65536).contains(&channel) {
            return Err(key_err(
                &k("channel"),
                format!("must be from 0 to 65536, got {channel}"),
            ));
        }
        let sb = Subband {
            sky_freq_hz: b.sky_freq_hz,
            bandwidth_hz: b.bandwidth_hz,
            sideband,
            pol,
            thread: thread as u16,
            channel: channel as usize,
        };
        if subbands
            .iter()
            .any(|o: &Subband| o.thread == sb.thread && o.channel == sb.channel)
        {
            return Err(key_err(
                &k("thread"),
                format!("thread {thread} channel {channel} is used by two subbands"),
            ));
        }
        subbands.push(sb);
    }

    Ok(Job {
        file: path.to_path_buf(),
        name,
        output,
        start,
        duration_s: raw.job.duration_s,
        correlation: Correlation {
            fft_length: fft_length as usize,
            integration_s,
        },
        model,
        source,
        stations,
        subbands,
    })
}

fn check_moon_site(
    m: MoonSite,
    key: &str,
    key_err: &dyn Fn(&str, String) -> JobError,
) -> Result<MoonSite, JobError> {
    if !(-90.0..=90.0).contains(&m.lat_deg) {
        return Err(key_err(
            &format!("{key}.lat_deg"),
            format!("must be within ±90, got {}", m.lat_deg),
        ));
    }
    if !(-360.0..=360.0).contains(&m.lon_deg) {
        return Err(key_err(
            &format!("{key}.lon_deg"),
            format!("must be within ±360, got {}", m.lon_deg),
        ));
    }
    if !(-20_000.0..=1e6).contains(&m.height_m) {
        return Err(key_err(
            &format!("{key}.height_m"),
            format!("implausible height {}", m.height_m),
        ));
    }
    Ok(m)
}

fn validate_source(
    s: RawSource,
    key_err: &dyn Fn(&str, String) -> JobError,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Source, JobError> {
    let far = s.ra.is_some() || s.dec.is_some() || s.ra_deg.is_some() || s.dec_deg.is_some();
    let kinds = [far, s.moon.is_some(), s.spk_body.is_some(), s.oem.is_some()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(key_err(
            "source",
            "give exactly one of ra/dec (or ra_deg/dec_deg), moon, spk_body or oem".into(),
        ));
    }
    let position = if far {
        let ra_rad = match (s.ra.as_deref(), s.ra_deg) {
            (Some(t), None) => parse_ra(t).map_err(|why| key_err("source.ra", why))?,
            (None, Some(d)) if (0.0..360.0).contains(&d) => d.to_radians(),
            (None, Some(d)) => {
                return Err(key_err(
                    "source.ra_deg",
                    format!("must be in [0, 360), got {d}"),
                ))
            }
            _ => {
                return Err(key_err(
                    "source.ra",
                    "give exactly one of ra and ra_deg".into(),
                ))
            }
        };
        let dec_rad = match (s.dec.as_deref(), s.dec_deg) {
            (Some(t), None) => parse_dec(t).map_err(|why| key_err("source.dec", why))?,
            (None, Some(d)) if (-90.0..=90.0).contains(&d) => d.to_radians(),
            (None, Some(d)) => {
                return Err(key_err(
                    "source.dec_deg",
                    format!("must be within ±90, got {d}"),
                ))
            }
            _ => {
                return Err(key_err(
                    "source.dec",
                    "give exactly one of dec and dec_deg".into(),
                ))
            }
        };
        SourcePosition::RaDec { ra_rad, dec_rad }
    } else if let Some(m) = s.moon {
        SourcePosition::Moon(check_moon_site(m, "source.moon", key_err)?)
    } else if let Some(id) = s.spk_body {
        SourcePosition::SpkBody(id)
    } else {
        SourcePosition::Oem(resolve(s.oem.as_deref().unwrap_or_default()))
    };
    Ok(Source {
        name: s.name,
        position,
    })
}

/// Right ascension: `12h29m06.6997s`, `12:29:06.6997` or `12 29 06.6997`.
pub fn parse_ra(text: &str) -> Result<f64, String> {
    let (sign, [h, m, s]) = sexagesimal(text, ['h', 'm', 's'])?;
    if sign < 0.0 || h >= 24.0 {
        return Err(format!("{text:?}: right ascension must be 0h to 24h"));
    }
    Ok(((h + m / 60.0 + s / 3600.0) * 15.0).to_radians())
}

/// Declination: `+02d03m08.598s`, `-29:33:15.0`, `−29°33′15″`.
pub fn parse_dec(text: &str) -> Result<f64, String> {
    let (sign, [d, m, s]) = sexagesimal(text, ['d', 'm', 's'])?;
    let deg = d + m / 60.0 + s / 3600.0;
    if deg > 90.0 {
        return Err(format!("{text:?}: declination must be within ±90°"));
    }
    Ok(sign * deg.to_radians())
}

/// Split "±A<u1>B<u2>C<u3>" (or colon/space separated) into a sign and three
/// non-negative numbers; minutes and seconds must be below 60.
fn sexagesimal(text: &str, units: [char; 3]) -> Result<(f64, [f64; 3]), String> {
    let bad = |why: &str| {
        format!("{text:?}: {why} (expected e.g. 12h29m06.6997s, +02d03m08.598s or 12:29:06.7)")
    };
    let t = text
        .trim()
        .replace('−', "-")
        .replace(['°', '′', '″', '\''], " ");
    let (sign, body) = match t.strip_prefix('-') {
        Some(b) => (-1.0, b.to_string()),
        None => (1.0, t.strip_prefix('+').unwrap_or(&t).to_string()),
    };
    let mut cleaned = body.to_lowercase();
    for u in units {
        cleaned = cleaned.replace(u, " ");
    }
    let parts: Vec<&str> = cleaned
        .split([' ', ':'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return Err(bad("needs three fields"));
    }
    let mut v = [0.0; 3];
    for (x, p) in v.iter_mut().zip(&parts) {
        *x = p
            .parse::<f64>()
            .map_err(|_| bad(&format!("{p:?} is not a number")))?;
        if !x.is_finite() || *x < 0.0 {
            return Err(bad("fields must be non-negative numbers"));
        }
    }
    if v[1] >= 60.0 || v[2] >= 60.0 {
        return Err(bad("minutes and seconds must be below 60"));
    }
    Ok((sign, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[job]
name = "t"
output = "out/t.fits"
start = "2026-03-14T23:45:00Z"
duration_s = 10.0
[correlation]
fft_length = 256
integration_s = 0.5
[model]
kernels = ["k/a.bsp"]
[source]
name = "3C273"
ra = "12h29m06.6997s"
dec = "+02d03m08.598s"
[[station]]
name = "T6"
itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]
file = "T6.vdif"
[[station]]
name = "LS"
moon = { lat_deg = -89.5, lon_deg = 0.0 }
files = ["a.vdif", "b.vdif"]
clock_offset_s = 1e-6
lunar_proper_time = true
[[subband]]
sky_freq_hz = 8.4e9
bandwidth_hz = 8e6
"#;

    fn parse(text: &str) -> Result<Job, JobError> {
        Job::from_toml_str(text, Path::new("/data/jobs/j.toml"))
    }

    #[test]
    fn a_good_job_is_typed_and_paths_are_relative_to_it() {
        let j = parse(GOOD).unwrap();
        assert_eq!(j.output, PathBuf::from("/data/jobs/out/t.fits"));
        assert_eq!(
            j.model.as_ref().unwrap().kernels,
            vec![PathBuf::from("/data/jobs/k/a.bsp")]
        );
        assert_eq!(j.model.as_ref().unwrap().order, 5);
        assert_eq!(j.stations[1].files.len(), 2);
        assert_eq!(j.stations[1].files[1], PathBuf::from("/data/jobs/b.vdif"));
        assert_eq!(j.subbands[0].sideband, Sideband::Upper);
        assert_eq!(j.correlation.fft_length, 256);
        // 12h29m06.6997s = 187.2779154° (closed form: (12 + 29/60 + 6.6997/3600) * 15)
        match j.source.position {
            SourcePosition::RaDec { ra_rad, dec_rad } => {
                assert!((ra_rad.to_degrees() - 187.277_915_416_666_7).abs() < 1e-12);
                assert!((dec_rad.to_degrees() - 2.052_388_333_333_3).abs() < 1e-12);
            }
            _ => panic!("far-field source expected"),
        }
    }

    fn expect_key(text: &str, key: &str) {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.contains(key), "error {e:?} does not name {key}");
        assert!(
            e.starts_with("/data/jobs/j.toml"),
            "error {e:?} does not name the file"
        );
        assert!(!e.contains('\n'), "error is not one line: {e:?}");
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        expect_key(&GOOD.replace("+02d03m08.598s", "+02d63m08s"), "source.dec");
        expect_key(
            &GOOD.replace("fft_length = 256", "fft_length = 255"),
            "correlation.fft_length",
        );
        expect_key(
            &GOOD.replace(
                "moon = { lat_deg = -89.5, lon_deg = 0.0 }",
                "moon = { lat_deg = -89.5, lon_deg = 0.0 }\nitrf_m = [1.0, 2.0, 3.0]",
            ),
            "station[1] (LS).itrf_m",
        );
        expect_key(
            &GOOD.replace("lat_deg = -89.5", "lat_deg = -91.5"),
            "lat_deg",
        );
        expect_key(
            &GOOD.replace("duration_s = 10.0", "duration_s = 10.0\ncolour = 1"),
            "colour",
        );
        expect_key(
            &GOOD.replace("2026-03-14T23:45:00Z", "2026-03-14T25:45:00Z"),
            "job.start",
        );
        expect_key(
            &GOOD.replace("[model]\nkernels = [\"k/a.bsp\"]", ""),
            "model",
        );
    }

    #[test]
    fn angles_in_several_spellings() {
        let a = parse_ra("12h29m06.6997s").unwrap();
        assert_eq!(parse_ra("12:29:06.6997").unwrap(), a);
        assert_eq!(parse_ra("12 29 06.6997").unwrap(), a);
        let d = parse_dec("-29d33m15.0s").unwrap();
        assert_eq!(parse_dec("−29°33′15.0″").unwrap(), d);
        assert!((d.to_degrees() + (29.0 + 33.0 / 60.0 + 15.0 / 3600.0)).abs() < 1e-12);
        assert!(parse_ra("25h00m00s").is_err());
        assert!(parse_dec("+91d00m00s").is_err());
        assert!(parse_dec("12d").is_err());
    }
}
