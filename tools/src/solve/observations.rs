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
//! `mbd_sigma_s` (its σ, > 0). Read too when present (rows without them
//! give no phase delays): `phase_deg`, `phase_sigma_deg`, `ref_freq_hz`
//! and `mbd_s`, for the same-beam differential phase delays below.
//!
//! Same-beam differential phase delays ([`same_beam_pairs`]): two rows of
//! one fringe file with the same scan and baseline and different sources
//! (two phase centres in one beam, e.g. a lander and its rover) give
//!
//! ```text
//! τ'_k     = (total_delay_s − mbd_s)_k + φ_k / (2π f_ref)    (model + residual phase delay)
//! τ_g,diff = total_1 − total_2,   σ_g = √(σ_mbd,1² + σ_mbd,2²)
//! N        = round((τ_g,diff − (τ'_1 − τ'_2)) · f_ref)
//! τ_φ,diff = τ'_1 − τ'_2 + N / f_ref,   σ = √(σ_φ,1² + σ_φ,2²) / (2π f_ref)
//! ```
//!
//! with φ the fringe phase at `ref_freq_hz` (the residual phase of the
//! row, 2π f_ref × residual delay + instrumental phase, σ_φ its σ in rad:
//! the instrumental phase and the clocks are common to both centres and
//! cancel). No floor is added for the model's numerical resolution: ~1e-15
//! s per delay (geocentric positions, `correlator::model::ephemeris`),
//! against phase σ of ≥ 0.04 ps; the rover's scatter/σ over 20
//! realisations is 0.97 without one (0.62 with the 0.2 ps floor used while
//! the model's positions were barycentric: `samebeam_tests`). The
//! ambiguity N is refused, and the observation flagged and not used,
//! when σ_g · f_ref exceeds `max_cycles` (default
//! [`DEFAULT_AMBIGUITY_MAX_CYCLES`]): at 0.2 cycle a wrong N needs a 2.5σ
//! group-delay error (1 % of pairs), and a wrong N is then 1/f_ref off,
//! hundreds of phase σ, which the outlier rejection flags. Source 2 (the
//! reference of the pair) is, of the scan's sources on that baseline, the
//! one first in the job's `[[source]]` list; every other source is paired
//! with it. Both rows must have the same `ref_freq_hz` (else no pair).
//! The phase and group-delay noise are taken as independent (true for a
//! phase referred to the band's centre; the simulation draws them so).

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
    /// Per observation (same order), its fringe phase when the row has one.
    pub phases: Vec<Option<RowPhase>>,
}

/// A row's fringe phase and what turns it into a phase delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowPhase {
    pub phase_rad: f64,
    pub phase_sigma_rad: f64,
    pub ref_freq_hz: f64,
    /// The a-priori model delay of the row, total_delay_s − mbd_s (s).
    pub model_delay_s: f64,
}

/// Default of `--ambiguity-max-cycles` (see the module docs).
pub const DEFAULT_AMBIGUITY_MAX_CYCLES: f64 = 0.2;

/// One same-beam differential phase delay: observation `first` (source 1)
/// minus observation `second` (source 2), indices into
/// [`ReadSummary::observations`].
#[derive(Debug, Clone, PartialEq)]
pub struct SameBeam {
    pub first: usize,
    pub second: usize,
    /// τ_φ,diff (s) with the ambiguity resolved; without it (refused) the
    /// phase delay difference τ'_1 − τ'_2.
    pub delay_s: f64,
    pub sigma_s: f64,
    pub ref_freq_hz: f64,
    /// N of the module docs; `None` when refused.
    pub ambiguity: Option<i64>,
    /// The group-delay difference and its σ (s).
    pub group_delay_s: f64,
    pub group_sigma_s: f64,
    /// Why the ambiguity was refused (the observation is flagged).
    pub refused: Option<String>,
}

/// Pair the rows of `read` into same-beam differential phase delays (see
/// the module docs). Source order is the job's (`Observation::source`).
pub fn same_beam_pairs(read: &ReadSummary, max_cycles: f64) -> Vec<SameBeam> {
    use std::collections::BTreeMap;
    let obs = &read.observations;
    // (file, scan, baseline) → observations with a phase, by job source.
    let mut groups: BTreeMap<(&Path, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, o) in obs.iter().enumerate() {
        if read.phases.get(i).is_some_and(|p| p.is_some()) {
            groups
                .entry((o.file.as_path(), o.scan.as_str(), o.baseline.as_str()))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for mut idx in groups.into_values() {
        idx.sort_by_key(|&i| (obs[i].source, obs[i].row));
        let second = idx[0];
        for &first in &idx[1..] {
            if obs[first].source == obs[second].source {
                continue;
            }
            let (p1, p2) = (
                read.phases[first].expect("grouped"),
                read.phases[second].expect("grouped"),
            );
            if p1.ref_freq_hz != p2.ref_freq_hz {
                continue;
            }
            let f = p1.ref_freq_hz;
            let tau = |p: RowPhase| p.model_delay_s + p.phase_rad / (std::f64::consts::TAU * f);
            let phase_diff = tau(p1) - tau(p2);
            let group = obs[first].delay_s - obs[second].delay_s;
            let group_sigma = obs[first].sigma_s.hypot(obs[second].sigma_s);
            let sigma = p1.phase_sigma_rad.hypot(p2.phase_sigma_rad) / (std::f64::consts::TAU * f);
            let cycles = group_sigma * f;
            let (delay_s, ambiguity, refused) = if cycles > max_cycles {
                let why = format!(
                    "ambiguity refused: group-delay σ of the difference {:.1} ps is {cycles:.2} cycle of 1/f_ref (> {max_cycles})",
                    group_sigma * 1e12
                );
                (phase_diff, None, Some(why))
            } else {
                let n = ((group - phase_diff) * f).round();
                (phase_diff + n / f, Some(n as i64), None)
            };
            out.push(SameBeam {
                first,
                second,
                delay_s,
                sigma_s: sigma,
                ref_freq_hz: f,
                ambiguity,
                group_delay_s: group,
                group_sigma_s: group_sigma,
                refused,
            });
        }
    }
    out
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
            if let Some((o, phase)) = parse_row(r, file, row, job)? {
                out.observations.push(o);
                out.phases.push(phase);
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
) -> Result<Option<(Observation, Option<RowPhase>)>, SolveError> {
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
    // The phase is optional: absent, null or σ ≤ 0 means no phase delay.
    let optional = |key: &str| o.get(key).and_then(Value::as_f64).filter(|x| x.is_finite());
    let phase = match (
        optional("phase_deg"),
        optional("phase_sigma_deg"),
        optional("ref_freq_hz"),
        optional("mbd_s"),
    ) {
        (Some(p), Some(ps), Some(f), Some(mbd)) if ps > 0.0 && f > 0.0 => Some(RowPhase {
            phase_rad: p.to_radians(),
            phase_sigma_rad: ps.to_radians(),
            ref_freq_hz: f,
            model_delay_s: delay_s - mbd,
        }),
        _ => None,
    };
    Ok(Some((
        Observation {
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
        },
        phase,
    )))
}
