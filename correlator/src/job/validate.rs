//! Raw TOML → typed [`Job`]: every key that is present is checked (range,
//! spelling, combinations), and paths are resolved against the job file's
//! directory. What a command additionally *needs* (subbands to correlate,
//! recordings) is not checked here but by that command (`needs`), so that a
//! job without a frequency setup still gives its delay model.

use super::raw::{RawCorrelation, RawJob, RawScan, RawSource, RawSubband};
use super::{
    base_dir, parse_dec, parse_ra, ClockModel, Correlation, DelayPolySpec, Job, JobError,
    ModelConfig, MoonSite, PcalSpec, Pol, Sampling, ScanSpec, Sideband, Source, SourcePosition,
    Station, StationPosition, Subband, Window,
};
use crate::model::axis_offset::{AxisOffset, AxisType};
use formats::UtcTime;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub(super) fn validate(raw: RawJob, path: &Path) -> Result<Job, JobError> {
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
        channels: None,
        window: None,
    });
    let fft_length = corr.fft_length.unwrap_or(1024);
    if !(4..=1 << 24).contains(&fft_length) || fft_length % 2 != 0 {
        return Err(key_err(
            "correlation.fft_length",
            format!("must be an even number of samples from 4 to 16777216, got {fft_length}"),
        ));
    }
    // Whether `channels` divides the FFT's channels depends on the sampling
    // (real: fft_length/2, complex: fft_length): the engine checks that.
    let channels = match corr.channels {
        None => None,
        Some(c) if (1..=1 << 24).contains(&c) => Some(c as usize),
        Some(c) => {
            return Err(key_err(
                "correlation.channels",
                format!("must be a number of output channels from 1 to 16777216, got {c}"),
            ))
        }
    };
    let window = match corr.window.as_deref() {
        None | Some("none") => Window::None,
        Some("hann") => Window::Hann,
        Some("hamming") => Window::Hamming,
        Some("cosine") => Window::Cosine,
        Some(w) => {
            return Err(key_err(
                "correlation.window",
                format!("must be \"none\", \"hann\", \"hamming\" or \"cosine\", got \"{w}\""),
            ))
        }
    };
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
            let lunar_coordinates = match m.lunar_coordinates.as_deref() {
                None | Some("tdb") => super::LunarScale::Tdb,
                Some("proper") => super::LunarScale::Proper,
                Some(other) => {
                    return Err(key_err(
                        "model.lunar_coordinates",
                        format!("must be \"tdb\" or \"proper\", got {other:?}"),
                    ))
                }
            };
            Some(ModelConfig {
                kernels: m.kernels.iter().map(|k| resolve(k)).collect(),
                eop: m.eop.as_deref().map(resolve),
                eop_table: None,
                interval_s,
                order: order as usize,
                lunar_coordinates,
                solid_tide: m.solid_tide.unwrap_or(true),
                pole_tide: m.pole_tide.unwrap_or(true),
                subdaily_eop: m.subdaily_eop.unwrap_or(true),
                celestial_pole_offsets: m.celestial_pole_offsets.unwrap_or(true),
                troposphere: m.troposphere.unwrap_or(true),
                ocean_loading: m.ocean_loading.unwrap_or(true),
                lunar_tide: m.lunar_tide.unwrap_or(true),
                axis_offset: m.axis_offset.unwrap_or(true),
                eop_offset: Default::default(),
            })
        }
    };

    let vex = raw.job.vex.as_deref().map(resolve);
    let sources = validate_sources(raw.source, vex.is_some(), &key_err, &resolve)?;
    let scans = validate_scans(raw.scan, &sources, &key_err, &time)?;
    if vex.is_some() && !scans.is_empty() {
        return Err(key_err(
            "scan",
            "give the scans either in the VEX ([job] vex) or as [[scan]] tables, not both".into(),
        ));
    }

    // A VEX gives the stations (positions, clocks): the job file then only
    // completes them (recordings, lunar sites), and what a command needs is
    // checked when the session is built.
    if raw.station.is_empty() && vex.is_none() {
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
        let itrf_epoch = s
            .itrf_epoch
            .as_deref()
            .map(|e| time(&k("itrf_epoch"), e))
            .transpose()?;
        if let Some(v) = s.velocity_m_per_yr {
            if v.iter().any(|x| !x.is_finite()) {
                return Err(key_err(
                    &k("velocity_m_per_yr"),
                    "must be three finite numbers (m per year)".into(),
                ));
            }
            if itrf_epoch.is_none() {
                return Err(key_err(
                    &k("velocity_m_per_yr"),
                    "needs itrf_epoch, the epoch of itrf_m the velocity moves it from".into(),
                ));
            }
        }
        if (itrf_epoch.is_some() || s.velocity_m_per_yr.is_some())
            && !matches!(position, StationPosition::Itrf(_))
        {
            let which = if itrf_epoch.is_some() {
                "itrf_epoch"
            } else {
                "velocity_m_per_yr"
            };
            return Err(key_err(
                &k(which),
                "only an Earth station given by itrf_m has an ITRF epoch and velocity".into(),
            ));
        }
        let axis_type = match s.axis_type.as_deref() {
            None => None,
            Some(t) => Some(AxisType::parse(t).ok_or_else(|| {
                key_err(
                    &k("axis_type"),
                    format!("{t:?}: expected \"AZEL\", \"EQUA\", \"XYEW\" or \"XYNS\""),
                )
            })?),
        };
        if let Some(l) = s.axis_offset_m {
            if !(l.is_finite() && l.abs() <= 100.0) {
                return Err(key_err(
                    &k("axis_offset_m"),
                    format!("must be a length in metres (|L| ≤ 100), got {l}"),
                ));
            }
            if l != 0.0 && axis_type.is_none() {
                return Err(key_err(
                    &k("axis_offset_m"),
                    "needs axis_type (AZEL, EQUA, XYEW or XYNS): the offset's effect depends on the mount".into(),
                ));
            }
        }
        if (axis_type.is_some() || s.axis_offset_m.is_some())
            && !matches!(position, StationPosition::Itrf(_))
        {
            let which = if axis_type.is_some() {
                "axis_type"
            } else {
                "axis_offset_m"
            };
            return Err(key_err(
                &k(which),
                "only an Earth station given by itrf_m has an antenna mount here".into(),
            ));
        }
        let axis = axis_type.map(|axis| AxisOffset {
            axis,
            offset_m: s.axis_offset_m.unwrap_or(0.0),
        });
        // A VEX may give the position of a station whose job entry gives
        // only its BLQ: refused only for a lunar one.
        let blq = match (s.blq, s.blq_name) {
            (None, Some(_)) => {
                return Err(key_err(
                    &k("blq_name"),
                    "needs blq, the BLQ file the name is looked up in".into(),
                ))
            }
            (None, None) => None,
            (Some(_), _)
                if matches!(
                    position,
                    StationPosition::Moon(_) | StationPosition::MoonXyz(_)
                ) =>
            {
                return Err(key_err(
                    &k("blq"),
                    "ocean loading is for Earth stations: a lunar station has no blq".into(),
                ))
            }
            (Some(f), name) => Some(super::Blq {
                file: resolve(&f),
                name: name.unwrap_or_else(|| s.name.clone()),
            }),
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
        if position == StationPosition::None && delay_poly.is_none() && vex.is_none() {
            return Err(key_err(
                &k("itrf_m"),
                "the station needs a position (itrf_m, moon or moon_xyz_m) or a delay_poly".into(),
            ));
        }
        if delay_poly.is_none() && model.is_none() && vex.is_none() {
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
        let clock_given =
            s.clock_offset_s.is_some() || s.clock_rate.is_some() || s.clock_epoch.is_some();
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
        let sampling = match s.sampling.as_deref() {
            None => None,
            Some("real") => Some(Sampling::Real),
            Some("complex") => Some(Sampling::Complex),
            Some("complex_dsb") => Some(Sampling::ComplexDsb),
            Some(other) => {
                return Err(key_err(
                    &k("sampling"),
                    format!("{other:?}: expected \"real\", \"complex\" or \"complex_dsb\""),
                ))
            }
        };
        let lo_offset_hz = s.lo_offset_hz.unwrap_or(0.0);
        if !lo_offset_hz.is_finite() {
            return Err(key_err(
                &k("lo_offset_hz"),
                format!("must be a finite frequency, got {lo_offset_hz}"),
            ));
        }
        let pcal = match (s.pcal_interval_hz, s.pcal_offset_hz) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(key_err(
                    &k("pcal_offset_hz"),
                    "needs pcal_interval_hz (the tone spacing)".into(),
                ))
            }
            (Some(interval_hz), offset) => {
                if !(interval_hz.is_finite() && interval_hz > 0.0) {
                    return Err(key_err(
                        &k("pcal_interval_hz"),
                        format!("must be a positive frequency, got {interval_hz}"),
                    ));
                }
                let offset_hz = offset.unwrap_or(0.0);
                if !(0.0..interval_hz).contains(&offset_hz) {
                    return Err(key_err(
                        &k("pcal_offset_hz"),
                        format!("must be ≥ 0 and below pcal_interval_hz ({interval_hz}), got {offset_hz}"),
                    ));
                }
                Some(PcalSpec {
                    interval_hz,
                    offset_hz,
                })
            }
        };
        let own_subbands = validate_subbands(s.subband, &k("subband"), &key_err)?;
        let mut weather = validate_weather(s.pressure_hpa, s.zwd_m, &k, &key_err)?;
        if let Some(f) = &s.met_file {
            let met = crate::model::troposphere::met::MetSeries::from_file(&resolve(f))
                .map_err(|why| key_err(&k("met_file"), why))?;
            weather.met = Some(std::sync::Arc::new(met));
        }
        stations.push(Station {
            pcal,
            sampling,
            lo_offset_hz,
            subbands: own_subbands,
            name: s.name,
            position,
            itrf_epoch,
            velocity_m_per_yr: s.velocity_m_per_yr,
            axis,
            blq,
            files,
            sample_rate_hz: s.sample_rate_hz,
            clock,
            clock_given,
            delay_poly,
            slots: None,
            weather,
        });
    }

    let subbands = validate_subbands(raw.subband, "subband", &key_err)?;
    let zooms = super::zoom::validate(raw.zoom, &key_err)?;

    for sc in &scans {
        for name in sc.stations.iter().flatten() {
            if !stations.iter().any(|s| &s.name == name) {
                return Err(key_err(
                    &format!("scan ({}).stations", sc.name),
                    format!("{name:?} is not a [[station]] of the job"),
                ));
            }
        }
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
            channels,
            window,
            chan_width_hz: None,
            track_band_centre: false,
        },
        model,
        sources,
        scans,
        vex,
        select_scans: raw.job.scans,
        select_stations: raw.job.stations,
        stations,
        subbands,
        zooms,
    })
}

/// `pressure_hpa` (100 to 1100 hPa: from the highest antennas to below
/// sea level) and `zwd_m` (0 to 1 m; the wettest atmospheres give ~0.4 m).
fn validate_weather(
    pressure_hpa: Option<f64>,
    zwd_m: Option<f64>,
    k: &dyn Fn(&str) -> String,
    key_err: &dyn Fn(&str, String) -> JobError,
) -> Result<crate::model::troposphere::Weather, JobError> {
    if let Some(p) = pressure_hpa {
        if !(100.0..=1100.0).contains(&p) {
            return Err(key_err(
                &k("pressure_hpa"),
                format!("must be from 100 to 1100 hPa, got {p}"),
            ));
        }
    }
    if let Some(z) = zwd_m {
        if !(0.0..=1.0).contains(&z) {
            return Err(key_err(
                &k("zwd_m"),
                format!("must be from 0 to 1 m, got {z}"),
            ));
        }
    }
    Ok(crate::model::troposphere::Weather {
        pressure_hpa,
        zwd_m,
        met: None,
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

/// `[source]` (one table) or `[[source]]` (a list, names unique). Keys in
/// messages are `source.KEY` or `source[i].KEY`. Absent: an error unless a
/// VEX gives the sources.
fn validate_sources(
    value: Option<toml::Value>,
    vex: bool,
    key_err: &dyn Fn(&str, String) -> JobError,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Vec<Source>, JobError> {
    let one = |v: toml::Value, key: &str| -> Result<Source, JobError> {
        let raw = RawSource::deserialize(v).map_err(|e| key_err(key, e.message().to_string()))?;
        let k = |field: &str| format!("{key}.{field}");
        validate_source(raw, &k, key_err, resolve)
    };
    let sources = match value {
        None if vex => Vec::new(),
        None => return Err(key_err("source", "the job has no [source]".into())),
        Some(v @ toml::Value::Table(_)) => vec![one(v, "source")?],
        Some(toml::Value::Array(list)) => {
            if list.is_empty() && !vex {
                return Err(key_err("source", "the [[source]] list is empty".into()));
            }
            let mut out: Vec<Source> = Vec::with_capacity(list.len());
            for (i, v) in list.into_iter().enumerate() {
                let s = one(v, &format!("source[{i}]"))?;
                if out.iter().any(|o| o.name == s.name) {
                    return Err(key_err(
                        &format!("source[{i}].name"),
                        format!("{:?}: two sources have this name", s.name),
                    ));
                }
                out.push(s);
            }
            out
        }
        Some(_) => {
            return Err(key_err(
                "source",
                "must be a table ([source]) or a list of tables ([[source]])".into(),
            ))
        }
    };
    Ok(sources)
}

/// `[[scan]]` tables: names unique, start a time, duration positive, the
/// sources among the job's. Stations are checked against the job's once
/// those are known (`validate` after the stations).
fn validate_scans(
    raw: Vec<RawScan>,
    sources: &[Source],
    key_err: &dyn Fn(&str, String) -> JobError,
    time: &dyn Fn(&str, &str) -> Result<UtcTime, JobError>,
) -> Result<Vec<ScanSpec>, JobError> {
    let mut out: Vec<ScanSpec> = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        let k = |f: &str| format!("scan[{i}] ({}).{f}", r.name);
        if r.name.is_empty() {
            return Err(key_err(&format!("scan[{i}].name"), "is empty".into()));
        }
        if out.iter().any(|o| o.name == r.name) {
            return Err(key_err(&k("name"), "two scans have this name".into()));
        }
        let start = time(&k("start"), &r.start)?;
        if !(r.duration_s.is_finite() && r.duration_s > 0.0) {
            return Err(key_err(
                &k("duration_s"),
                format!("must be a positive number of seconds, got {}", r.duration_s),
            ));
        }
        if r.sources.is_empty() {
            return Err(key_err(&k("sources"), "names no source".into()));
        }
        for (j, name) in r.sources.iter().enumerate() {
            if !sources.iter().any(|s| &s.name == name) {
                return Err(key_err(
                    &k("sources"),
                    format!("{name:?} is not a [[source]] of the job"),
                ));
            }
            if r.sources[..j].contains(name) {
                return Err(key_err(&k("sources"), format!("{name:?} is named twice")));
            }
        }
        out.push(ScanSpec {
            name: r.name,
            start,
            duration_s: r.duration_s,
            sources: r.sources,
            stations: r.stations,
        });
    }
    // In time order, without overlap: a station records one scan at a time.
    for w in out.windows(2) {
        if w[1].start.seconds_since(w[0].start) < w[0].duration_s - 1e-9 {
            return Err(key_err(
                &format!("scan ({})", w[1].name),
                format!(
                    "starts at {} before scan {} ends (scans must be in time order and not overlap)",
                    w[1].start.to_iso8601(),
                    w[0].name
                ),
            ));
        }
    }
    Ok(out)
}

fn validate_source(
    s: RawSource,
    k: &dyn Fn(&str) -> String,
    key_err: &dyn Fn(&str, String) -> JobError,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Source, JobError> {
    let far = s.ra.is_some() || s.dec.is_some() || s.ra_deg.is_some() || s.dec_deg.is_some();
    let kinds = [far, s.moon.is_some(), s.spk_body.is_some(), s.oem.is_some()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(key_err(
            &k("name").replace(".name", ""),
            "give exactly one of ra/dec (or ra_deg/dec_deg), moon, spk_body or oem".into(),
        ));
    }
    let position = if far {
        let ra_rad = match (s.ra.as_deref(), s.ra_deg) {
            (Some(t), None) => parse_ra(t).map_err(|why| key_err(&k("ra"), why))?,
            (None, Some(d)) if (0.0..360.0).contains(&d) => d.to_radians(),
            (None, Some(d)) => {
                return Err(key_err(
                    &k("ra_deg"),
                    format!("must be in [0, 360), got {d}"),
                ))
            }
            _ => {
                return Err(key_err(
                    &k("ra"),
                    "give exactly one of ra and ra_deg".into(),
                ))
            }
        };
        let dec_rad = match (s.dec.as_deref(), s.dec_deg) {
            (Some(t), None) => parse_dec(t).map_err(|why| key_err(&k("dec"), why))?,
            (None, Some(d)) if (-90.0..=90.0).contains(&d) => d.to_radians(),
            (None, Some(d)) => {
                return Err(key_err(
                    &k("dec_deg"),
                    format!("must be within ±90, got {d}"),
                ))
            }
            _ => {
                return Err(key_err(
                    &k("dec"),
                    "give exactly one of dec and dec_deg".into(),
                ))
            }
        };
        SourcePosition::RaDec { ra_rad, dec_rad }
    } else if let Some(m) = s.moon {
        SourcePosition::Moon(check_moon_site(m, &k("moon"), key_err)?)
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

/// `[[subband]]` tables (the job's output bands, or a station's own
/// `[[station.subband]]` recording setup; `key` names the list in
/// messages): frequencies positive, sideband and polarisation spelt right,
/// each (thread, channel) used once.
fn validate_subbands(
    raw: Vec<RawSubband>,
    key: &str,
    key_err: &dyn Fn(&str, String) -> JobError,
) -> Result<Vec<Subband>, JobError> {
    let mut subbands = Vec::with_capacity(raw.len());
    for (i, b) in raw.into_iter().enumerate() {
        let k = |field: &str| format!("{key}[{i}].{field}");
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
        let pol = parse_pol(b.pol.as_deref().unwrap_or("R"), &k("pol"), key_err)?;
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
    Ok(subbands)
}

/// A polarisation letter (`key` names it in the error).
pub(super) fn parse_pol(
    s: &str,
    key: &str,
    key_err: &dyn Fn(&str, String) -> JobError,
) -> Result<Pol, JobError> {
    Ok(match s {
        "R" | "r" => Pol::R,
        "L" | "l" => Pol::L,
        "X" | "x" => Pol::X,
        "Y" | "y" => Pol::Y,
        other => return Err(key_err(key, format!("{other:?}: expected R, L, X or Y"))),
    })
}
