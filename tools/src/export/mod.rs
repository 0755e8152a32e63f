//! `emcorr export`: the observables of `emcorr fringe --format json` in the
//! formats geodetic solvers read — NGS cards ([`ngs`]; νSolve, Where,
//! VieVS) and VieVS's simple observation text ([`vso`]).
//!
//! Data flow: [`read_rows`] (the JSON file: one or more concatenated
//! documents, each an array of rows or a `--manual-pcal` object with
//! `rows`) → [`observations`] (one [`Observation`] per combined row,
//! stations and sources checked against the job, epochs moved to the
//! arrival at the first station, time order) → [`catalogue`] (positions
//! from the job: ITRF for Earth stations, ITRS at the first epoch for lunar
//! ones, RA/Dec for quasars, the geocentric direction at the first epoch
//! for near-field sources) → a writer. Errors are [`ExportError`].

pub mod error;
pub mod ngs;
pub mod vso;

pub use error::ExportError;

use correlator::job::{Job, SourcePosition, StationPosition};
use correlator::model::DelayModel;
use formats::UtcTime;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One row of `emcorr fringe` output, as JSON, with its 1-based number in
/// the file (counted over every document).
#[derive(Debug, Clone)]
pub struct Row {
    pub number: usize,
    pub value: Value,
}

/// Read a fringe JSON file: concatenated documents, each an array of rows or
/// an object with a `rows` array (`--manual-pcal`).
pub fn read_rows(path: &Path) -> Result<Vec<Row>, ExportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ExportError::Read {
        file: path.to_path_buf(),
        why: e.to_string(),
        missing: e.kind() == std::io::ErrorKind::NotFound,
    })?;
    let syntax = |why: String| ExportError::Syntax {
        file: path.to_path_buf(),
        why,
    };
    let mut rows = Vec::new();
    for (k, doc) in serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .enumerate()
    {
        let doc = doc.map_err(|e| syntax(format!("document {}: not JSON: {e}", k + 1)))?;
        let list = match &doc {
            Value::Array(a) => a.clone(),
            Value::Object(o) => match o.get("rows") {
                Some(Value::Array(a)) => a.clone(),
                _ => {
                    return Err(syntax(format!(
                        "document {}: an object without a `rows` array (not `emcorr fringe --format json` output)",
                        k + 1
                    )))
                }
            },
            _ => {
                return Err(syntax(format!(
                    "document {}: neither an array of rows nor an object with `rows`",
                    k + 1
                )))
            }
        };
        for value in list {
            rows.push(Row {
                number: rows.len() + 1,
                value,
            });
        }
    }
    Ok(rows)
}

/// One observation: a baseline's total group delay and rate at one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// 1-based row of the fringe file it came from.
    pub row: usize,
    /// Job stations (indices into `job.stations`): the delay is
    /// τ₂ − τ₁, arrival at 2 minus arrival at 1 (NGS note 7).
    pub station_1: usize,
    pub station_2: usize,
    /// Index into `job.sources`.
    pub source: usize,
    pub scan: usize,
    pub scan_name: Option<String>,
    /// UTC arrival of the reference wavefront at station 1 (NGS note 5).
    pub epoch: UtcTime,
    /// Geocentre time of the same wavefront.
    pub geocentre_epoch: UtcTime,
    /// `total_delay_s` and `mbd_sigma_s` (s).
    pub delay_s: f64,
    pub delay_sigma_s: f64,
    /// `total_rate_s_per_s` and `rate_sigma` (s/s); `None` when the rate is
    /// unconstrained (one integration: `rate_sigma` null).
    pub rate: Option<(f64, f64)>,
    pub ref_freq_hz: f64,
    pub amplitude: f64,
    pub snr: f64,
    pub detected: bool,
    pub duration_s: f64,
}

/// What [`observations`] made of the rows, and what it left out.
#[derive(Debug, Clone)]
pub struct Observations {
    /// In time order (epoch at station 1), then row order.
    pub list: Vec<Observation>,
    /// Rows of single subbands (`--subbands each`) left out: the combined
    /// row of the same scan and baseline is the observable.
    pub subband_rows_skipped: usize,
}

/// Check every row against the job and turn it into an [`Observation`].
pub fn observations(file: &Path, rows: &[Row], job: &Job) -> Result<Observations, ExportError> {
    let mut list = Vec::new();
    let mut skipped = 0;
    for row in rows {
        let r = RowReader { file, row };
        if !row.value.is_object() {
            return Err(r.err("", "not an object"));
        }
        if !row.value.get("subband").is_none_or(Value::is_null) {
            skipped += 1;
            continue;
        }
        let baseline = r.text("baseline")?;
        let (s1, s2) = split_baseline(&baseline, job).ok_or_else(|| {
            r.err(
                "baseline",
                &format!(
                    "\"{baseline}\" is not two stations of job {} joined by '-'",
                    job.file.display()
                ),
            )
        })?;
        let source_name = r.text("source")?;
        let source = job
            .sources
            .iter()
            .position(|s| s.name == source_name)
            .ok_or_else(|| {
                r.err(
                    "source",
                    &format!(
                        "\"{source_name}\" is not a source of job {}",
                        job.file.display()
                    ),
                )
            })?;
        let ref_epoch = r.time("ref_epoch_utc")?;
        let geocentre_epoch = r.time("geocentre_epoch_utc")?;
        let ref_station = r.text("ref_station")?;
        let delay_s = r.number("total_delay_s")?;
        let delay_sigma_s = r.number("mbd_sigma_s")?;
        let rate_s = r.number("total_rate_s_per_s")?;
        let rate = match row.value.get("rate_sigma") {
            Some(Value::Null) => None,
            _ => Some((rate_s, r.number("rate_sigma")?)),
        };
        // NGS and VSO label an observation with its arrival at the first
        // station. The delay belongs to the wavefront, not to the label, so
        // moving the label from station 2 to station 1 (t₁ = t₂ − delay)
        // leaves it unchanged; a third station's time cannot be moved
        // without its own model delay.
        let epoch = if ref_station == job.stations[s1].name {
            ref_epoch
        } else if ref_station == job.stations[s2].name {
            ref_epoch.add_seconds(-delay_s)
        } else {
            return Err(r.err(
                "ref_station",
                &format!(
                    "\"{ref_station}\" is neither station of baseline {baseline}: run `emcorr fringe` without --ref (the epoch must be the arrival at {})",
                    job.stations[s1].name
                ),
            ));
        };
        let detected = match row.value.get("detected") {
            Some(Value::Bool(b)) => *b,
            _ => return Err(r.err("detected", "missing or not true/false")),
        };
        let scan = match row.value.get("scan").and_then(Value::as_u64) {
            Some(n) => n as usize,
            None => return Err(r.err("scan", "missing or not a whole number")),
        };
        let scan_name = row
            .value
            .get("scan_name")
            .and_then(Value::as_str)
            .map(str::to_string);
        list.push(Observation {
            row: row.number,
            station_1: s1,
            station_2: s2,
            source,
            scan,
            scan_name,
            epoch,
            geocentre_epoch,
            delay_s,
            delay_sigma_s,
            rate,
            ref_freq_hz: r.number("ref_freq_hz")?,
            amplitude: r.number("amplitude")?,
            snr: r.number("snr")?,
            detected,
            duration_s: r.number("duration_s")?,
        });
    }
    if list.is_empty() {
        return Err(ExportError::Empty {
            file: file.to_path_buf(),
            why: if skipped > 0 {
                "only single-subband rows (--subbands each without combined rows)".into()
            } else {
                "the file holds no rows".into()
            },
        });
    }
    // NGS note 13: data in time order.
    list.sort_by(|a, b| {
        a.epoch
            .seconds_since(b.epoch)
            .partial_cmp(&0.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.row.cmp(&b.row))
    });
    Ok(Observations {
        list,
        subband_rows_skipped: skipped,
    })
}

/// "A-B" → the two job stations, trying every '-' (names may hold one).
fn split_baseline(baseline: &str, job: &Job) -> Option<(usize, usize)> {
    let find = |n: &str| job.stations.iter().position(|s| s.name == n);
    baseline
        .match_indices('-')
        .find_map(|(i, _)| Some((find(&baseline[..i])?, find(&baseline[i + 1..])?)))
}

/// Reads the keys of one row, with errors naming the row and key.
struct RowReader<'a> {
    file: &'a Path,
    row: &'a Row,
}

impl RowReader<'_> {
    fn what(&self) -> String {
        let v = &self.row.value;
        match (
            v.get("baseline").and_then(Value::as_str),
            v.get("scan").and_then(Value::as_u64),
        ) {
            (Some(b), Some(s)) => format!("baseline {b}, scan {s}"),
            (Some(b), None) => format!("baseline {b}"),
            _ => "unnamed".into(),
        }
    }

    fn err(&self, key: &str, why: &str) -> ExportError {
        ExportError::Row {
            file: self.file.to_path_buf(),
            row: self.row.number,
            what: self.what(),
            key: key.to_string(),
            why: why.to_string(),
        }
    }

    fn number(&self, key: &str) -> Result<f64, ExportError> {
        match self.row.value.get(key) {
            None => Err(self.err(key, "missing")),
            Some(Value::Null) => Err(self.err(
                key,
                match key {
                    "total_delay_s" | "total_rate_s_per_s" => {
                        "null: the FITS file had no model table, so there is no total observable"
                    }
                    _ => "null",
                },
            )),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| self.err(key, &format!("not a number: {v}"))),
        }
    }

    fn text(&self, key: &str) -> Result<String, ExportError> {
        match self.row.value.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            None => Err(self.err(key, "missing")),
            Some(v) => Err(self.err(key, &format!("not a string: {v}"))),
        }
    }

    fn time(&self, key: &str) -> Result<UtcTime, ExportError> {
        let t = self.text(key)?;
        UtcTime::parse_iso8601(&t).map_err(|e| self.err(key, &e.to_string()))
    }
}

/// Where a station is, as the formats carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Index into `job.stations`.
    pub station: usize,
    /// ITRS (m): the job's ITRF position for an Earth station; for a lunar
    /// station its ITRS position at `moon_epoch`; zeros for a station
    /// without a position (`delay_poly`).
    pub itrs_m: [f64; 3],
    /// Lunar station: the geocentre epoch `itrs_m` holds at (its first
    /// observation's).
    pub moon_epoch: Option<UtcTime>,
    /// The job gives no position (a `delay_poly` station).
    pub no_position: bool,
}

/// Where a source is, as the formats carry it (ICRS).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceEntry {
    /// Index into `job.sources`.
    pub source: usize,
    pub ra_rad: f64,
    pub dec_rad: f64,
    /// Near-field source: the geocentre epoch of its first observation, at
    /// which `ra_rad`, `dec_rad` are its geocentric direction.
    pub near_field_epoch: Option<UtcTime>,
}

/// The stations and sources the observations use, in job order.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub sites: Vec<Site>,
    pub sources: Vec<SourceEntry>,
}

impl Catalogue {
    pub fn site(&self, station: usize) -> Option<&Site> {
        self.sites.iter().find(|s| s.station == station)
    }
    pub fn source(&self, source: usize) -> Option<&SourceEntry> {
        self.sources.iter().find(|s| s.source == source)
    }
}

/// Positions of the stations and sources `obs` uses, from the job. Lunar
/// stations and near-field sources need the job's `[model]` (kernels, EOP):
/// they are placed at the geocentre epoch of their first observation.
pub fn catalogue(job: &Job, obs: &[Observation]) -> Result<Catalogue, ExportError> {
    let job_err = |why: String| ExportError::Job {
        file: job.file.clone(),
        why,
    };
    let first = |pred: &dyn Fn(&Observation) -> bool| {
        obs.iter()
            .filter(|o| pred(o))
            .map(|o| o.geocentre_epoch)
            .min_by(|a, b| a.seconds_since(*b).total_cmp(&0.0))
    };
    let mut sites = Vec::new();
    for (i, st) in job.stations.iter().enumerate() {
        let Some(g) = first(&|o: &Observation| o.station_1 == i || o.station_2 == i) else {
            continue;
        };
        let site = match &st.position {
            StationPosition::Itrf(x) => Site {
                station: i,
                itrs_m: *x,
                moon_epoch: None,
                no_position: false,
            },
            StationPosition::Moon(_) | StationPosition::MoonXyz(_) => {
                let source = job.sources.first().ok_or_else(|| {
                    job_err("key `source`: the job has no source to build its model with".into())
                })?;
                let model = DelayModel::new(job, source, g, g).map_err(|e| {
                    job_err(format!(
                        "station {}: its ITRS position at {} needs the model: {e}",
                        st.name,
                        g.to_iso8601()
                    ))
                })?;
                let geo = model
                    .epoch(g)
                    .and_then(|ctx| {
                        let s = model.station(&ctx, i)?;
                        Ok(ctx.orient.gcrs_to_itrs(ctx.tt, &s.geocentric_m))
                    })
                    .map_err(|e| job_err(format!("station {}: {e}", st.name)))?;
                Site {
                    station: i,
                    itrs_m: geo,
                    moon_epoch: Some(g),
                    no_position: false,
                }
            }
            StationPosition::None => Site {
                station: i,
                itrs_m: [0.0; 3],
                moon_epoch: None,
                no_position: true,
            },
        };
        sites.push(site);
    }
    let mut sources = Vec::new();
    for (k, src) in job.sources.iter().enumerate() {
        let Some(g) = first(&|o: &Observation| o.source == k) else {
            continue;
        };
        let entry = match &src.position {
            SourcePosition::RaDec { ra_rad, dec_rad } => SourceEntry {
                source: k,
                ra_rad: *ra_rad,
                dec_rad: *dec_rad,
                near_field_epoch: None,
            },
            _ => {
                let model = DelayModel::new(job, src, g, g).map_err(|e| {
                    job_err(format!(
                        "source {}: its direction at {} needs the model: {e}",
                        src.name,
                        g.to_iso8601()
                    ))
                })?;
                let k_icrs = model
                    .epoch(g)
                    .and_then(|ctx| model.source_direction(&ctx))
                    .map_err(|e| job_err(format!("source {}: {e}", src.name)))?;
                SourceEntry {
                    source: k,
                    ra_rad: k_icrs[1].atan2(k_icrs[0]).rem_euclid(std::f64::consts::TAU),
                    dec_rad: k_icrs[2].clamp(-1.0, 1.0).asin(),
                    near_field_epoch: Some(g),
                }
            }
        };
        sources.push(entry);
    }
    Ok(Catalogue { sites, sources })
}

/// Names as the formats hold them: at most `width` characters, blanks
/// turned into '_' (both formats separate or pad with blanks). Refuses two
/// job names that become the same.
pub fn short_names<'a>(
    names: impl Iterator<Item = &'a str>,
    width: usize,
    what: &str,
    job: &Path,
) -> Result<Vec<String>, ExportError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for n in names {
        let s: String = n
            .chars()
            .map(|c| if c.is_whitespace() { '_' } else { c })
            .take(width)
            .collect();
        if let Some((other, _)) = out.iter().find(|(_, t)| *t == s) {
            return Err(ExportError::Job {
                file: job.to_path_buf(),
                why: format!(
                    "{what}s \"{other}\" and \"{n}\" both become \"{s}\" in {width} characters: rename one"
                ),
            });
        }
        out.push((n.to_string(), s));
    }
    Ok(out.into_iter().map(|(_, s)| s).collect())
}

/// Names longer than the format allows, for a warning.
pub fn truncated<'a>(names: impl Iterator<Item = &'a str>, width: usize) -> Vec<String> {
    names
        .filter(|n| n.chars().count() > width)
        .map(str::to_string)
        .collect()
}

/// What the writers need besides observations and positions.
#[derive(Debug, Clone)]
pub struct Export<'a> {
    pub job: &'a Job,
    pub fringe_file: PathBuf,
    pub obs: &'a [Observation],
    pub catalogue: &'a Catalogue,
}

/// `t` rounded to `digits` decimals of the second, as calendar fields
/// (year, month, day, hour, minute, second) and the rounded fraction in
/// units of 10^-digits s (a carry into the next second handled).
pub fn calendar_rounded(t: UtcTime, digits: u32) -> (i32, u32, u32, u32, u32, u32, u64) {
    let scale = 10u64.pow(digits);
    let mut units = (t.frac() * scale as f64).round() as u64;
    let mut t = t;
    if units >= scale {
        units -= scale;
        t = UtcTime::new(t.sec() + 1, 0.0);
    }
    let (y, mo, d, h, mi, s, _) = t.calendar();
    (y, mo, d, h, mi, s, units)
}
