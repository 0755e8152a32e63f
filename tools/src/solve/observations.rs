//! The observables of a solve: total group delays from `emcorr fringe
//! --format json`.
//!
//! A file holds one JSON document or several concatenated (`cat a.json
//! b.json`): each an array of rows, or an object with `rows` (what
//! `--manual-pcal` writes). Rows are counted from 1 over the whole file.
//! A row is used when it is the all-subband solution (`subband` null or
//! absent) and `detected` is not false; the others are counted as skipped.
//! Keys read: `baseline` ("A-B", job station names), `scan` and `scan_name`
//! (a label), `source` (a job source), `geocentre_epoch_utc`,
//! `total_delay_s` (τ_B − τ_A, TT s, at the geocentre epoch) and
//! `mbd_sigma_s` (its σ, > 0).

use super::error::SolveError;
use correlator::job::Job;
use formats::UtcTime;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One total group delay.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub file: PathBuf,
    /// 1-based row of the file.
    pub row: usize,
    /// The scan's name, else its number in the fringe file.
    pub scan: String,
    pub baseline: String,
    /// Job station indices of A and B.
    pub a: usize,
    pub b: usize,
    /// Job source index.
    pub source: usize,
    /// Geocentre epoch of the wavefront (UTC).
    pub epoch: UtcTime,
    /// τ_B(g) − τ_A(g), TT s.
    pub delay_s: f64,
    pub sigma_s: f64,
}

/// What the files held.
#[derive(Debug, Clone, Default)]
pub struct ReadSummary {
    pub observations: Vec<Observation>,
    /// Rows of single subbands (`subband` not null).
    pub skipped_subband: usize,
    /// Rows with `detected: false`.
    pub skipped_undetected: usize,
}

/// Read every file's rows against `job`'s stations and sources.
pub fn read_files(paths: &[PathBuf], job: &Job) -> Result<ReadSummary, SolveError> {
    let mut out = ReadSummary::default();
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|e| SolveError::Read {
            file: p.clone(),
            why: e.to_string(),
        })?;
        read_text(&text, p, job, &mut out)?;
    }
    if out.observations.is_empty() {
        return Err(SolveError::Setup(format!(
            "{}: no usable rows ({} single-subband, {} undetected skipped)",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            out.skipped_subband,
            out.skipped_undetected
        )));
    }
    Ok(out)
}

/// Parse one file's text (as read from `file`) into `out`.
pub fn read_text(
    text: &str,
    file: &Path,
    job: &Job,
    out: &mut ReadSummary,
) -> Result<(), SolveError> {
    let fmt_err = |why: String| SolveError::Format {
        file: file.to_path_buf(),
        why,
    };
    let mut row = 0usize;
    let mut docs = 0usize;
    for doc in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        docs += 1;
        let doc = doc.map_err(|e| {
            fmt_err(format!(
                "document {docs}: not JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })?;
        let rows = match &doc {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("rows") {
                Some(Value::Array(a)) => a,
                _ => {
                    return Err(fmt_err(format!(
                        "document {docs}: an object without a `rows` array (expected `emcorr fringe --format json` output)"
                    )))
                }
            },
            _ => {
                return Err(fmt_err(format!(
                    "document {docs}: expected an array of fringe rows"
                )))
            }
        };
        for r in rows {
            row += 1;
            if let Some(o) = parse_row(r, file, row, job)? {
                out.observations.push(o);
            } else if r.get("subband").is_some_and(|v| !v.is_null()) {
                out.skipped_subband += 1;
            } else {
                out.skipped_undetected += 1;
            }
        }
    }
    if docs == 0 {
        return Err(fmt_err("empty: no JSON document".into()));
    }
    Ok(())
}

fn parse_row(
    r: &Value,
    file: &Path,
    row: usize,
    job: &Job,
) -> Result<Option<Observation>, SolveError> {
    let err = |key: &str, why: String| SolveError::Row {
        file: file.to_path_buf(),
        row,
        key: key.into(),
        why,
    };
    let Value::Object(o) = r else {
        return Err(err("", "not a JSON object".into()));
    };
    if o.get("subband").is_some_and(|v| !v.is_null()) {
        return Ok(None);
    }
    if o.get("detected") == Some(&Value::Bool(false)) {
        return Ok(None);
    }
    let text = |key: &str| -> Result<&str, SolveError> {
        match o.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(err(key, format!("expected a string, got {v}"))),
            None => Err(err(key, "missing".into())),
        }
    };
    let number = |key: &str| -> Result<f64, SolveError> {
        match o.get(key) {
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| err(key, format!("not a finite number: {n}"))),
            Some(Value::Null) => Err(err(
                key,
                "null (a fringe fit without a model table has no total delay)".into(),
            )),
            Some(v) => Err(err(key, format!("expected a number, got {v}"))),
            None => Err(err(key, "missing".into())),
        }
    };
    let baseline = text("baseline")?;
    let pair = (0..job.stations.len())
        .flat_map(|a| (0..job.stations.len()).map(move |b| (a, b)))
        .find(|&(a, b)| {
            a != b && format!("{}-{}", job.stations[a].name, job.stations[b].name) == baseline
        });
    let Some((a, b)) = pair else {
        return Err(err(
            "baseline",
            format!(
                "{baseline:?} is not two stations of the job {} joined by '-'",
                job.file.display()
            ),
        ));
    };
    let source_name = text("source")?;
    let source = job
        .sources
        .iter()
        .position(|s| s.name == source_name)
        .ok_or_else(|| {
            err(
                "source",
                format!(
                    "{source_name:?} is not a source of the job {}",
                    job.file.display()
                ),
            )
        })?;
    let epoch_text = text("geocentre_epoch_utc")?;
    let epoch = UtcTime::parse_iso8601(epoch_text)
        .map_err(|e| err("geocentre_epoch_utc", e.to_string()))?;
    let delay_s = number("total_delay_s")?;
    let sigma_s = number("mbd_sigma_s")?;
    if sigma_s <= 0.0 {
        return Err(err("mbd_sigma_s", format!("must be > 0, got {sigma_s}")));
    }
    let scan = match o.get("scan_name") {
        Some(Value::String(s)) => s.clone(),
        _ => match o.get("scan") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => return Err(err("scan", format!("expected a number, got {v}"))),
            None => return Err(err("scan", "missing (and no scan_name)".into())),
        },
    };
    Ok(Some(Observation {
        file: file.to_path_buf(),
        row,
        scan,
        baseline: baseline.to_string(),
        a,
        b,
        source,
        epoch,
        delay_s,
        sigma_s,
    }))
}
