//! `emcorr correlate` on a session (a job with `[job] vex` or `[[scan]]`
//! tables): the plan (`--dry-run`) and the summary, one entry per scan of
//! the schedule in schedule order, as text and JSON. The decisions are
//! `correlator::session`'s; this is how they are shown.
//!
//! A schedule with several modes is several sessions ([`Parts`]), one per
//! mode and output file; the report still has one entry per scan, taken
//! from the part of the scan's mode, with the file it goes to.

use crate::failure::{print_stdout, Failure};
use correlator::session::{self as sess, Plan, ScanResult, ScanStatus, Session, SessionError};
use correlator::Job;
use std::path::{Path, PathBuf};

/// One output of a session: the session of one mode, its plan, its file.
pub(crate) struct Part {
    pub session: Session,
    pub plan: Plan,
    pub output: PathBuf,
    /// The zoom pass of the mode before it ([`Job::zoom_pass`]): its own
    /// output (`<output>_zoom`) and checkpoint.
    pub zoom: bool,
}

impl Part {
    /// What tells this part's checkpoint from the others' (`several`:
    /// the session has more than one part): its mode, and `zoom` for a
    /// zoom pass.
    pub(crate) fn tag(&self, several: bool) -> Option<String> {
        let mode = self.session.mode.clone().filter(|_| several);
        match (self.zoom, mode) {
            (false, m) => m,
            (true, Some(m)) => Some(format!("{m}/zoom")),
            (true, None) => Some("zoom".into()),
        }
    }
}

/// A session as `emcorr correlate` runs it: one [`Part`] per mode (one
/// for a single mode or `[[scan]]` tables, written to the output given).
pub(crate) struct Parts {
    pub parts: Vec<Part>,
}

impl Parts {
    /// The part that owns scan `k` (the one of its mode; the first when no
    /// part has its mode: a scan that is not selected, or of a mode the
    /// job's `[[subband]]` tables leave out).
    pub(crate) fn owner(&self, k: usize) -> usize {
        let mode = &self.parts[0].session.scans[k].mode;
        self.parts
            .iter()
            .position(|p| &p.session.mode == mode)
            .unwrap_or(0)
    }

    /// The first part's session (every part has the same scans and
    /// stations; only the frequency setup and the skipped scans differ).
    pub(crate) fn first(&self) -> &Session {
        &self.parts[0].session
    }

    /// Scans correlated over all parts (a zoom pass correlates its mode's
    /// scans again: they are not counted twice).
    pub(crate) fn correlated(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| !p.zoom)
            .map(|p| p.plan.correlated())
            .sum()
    }

    /// Notes of every part, each once.
    fn notes(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for p in &self.parts {
            for n in &p.session.notes {
                if !all.contains(n) {
                    all.push(n.clone());
                }
            }
            if p.plan.correlated() == 0 && self.parts.len() > 1 {
                all.push(format!(
                    "mode {}: no scan to correlate, so no {}",
                    p.session.mode.as_deref().unwrap_or("?"),
                    p.output.display()
                ));
            }
        }
        all
    }

    /// Recordings that could not be read or placed, each once.
    fn problems(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for n in self.parts.iter().flat_map(|p| &p.plan.problems) {
            if !all.contains(n) {
                all.push(n.clone());
            }
        }
        all
    }
}

/// A session error as the process reports it.
pub(crate) fn failure(e: SessionError) -> Failure {
    if e.is_io() {
        Failure::Io(e.to_string())
    } else {
        Failure::BadInput(e.to_string())
    }
}

/// Load the session of `job`, one part per mode, plan each against the
/// recordings, and name its output: `output` itself for a single part,
/// else `output` with the mode inserted ([`sess::mode_output`]).
pub(crate) fn load(job: &Job, output: &Path) -> Result<Parts, Failure> {
    let sessions = Session::load_modes(job).map_err(failure)?;
    let several = sessions.len() > 1;
    let mut parts: Vec<Part> = Vec::new();
    for session in sessions {
        let output = match (several, &session.mode) {
            (true, Some(m)) => sess::mode_output(output, m),
            _ => output.to_path_buf(),
        };
        if let Some(p) = parts.iter().find(|p| p.output == output) {
            return Err(Failure::BadInput(format!(
                "{}: modes {} and {} would both write {} (their names differ only in characters a file name cannot hold): rename one in the VEX",
                job.file.display(),
                p.session.mode.as_deref().unwrap_or("?"),
                session.mode.as_deref().unwrap_or("?"),
                output.display()
            )));
        }
        let plan = Plan::new(&session);
        let zoom = session
            .job
            .zoom_pass()
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        let zoom_output = correlator::job::tagged_output(&output, "zoom");
        parts.push(Part {
            session: session.clone(),
            plan,
            output,
            zoom: false,
        });
        // The mode's zoom pass: the same scans and recordings, its own
        // output bands, FFT and file.
        if let Some(job) = zoom {
            let session = Session { job, ..session };
            let plan = Plan::new(&session);
            parts.push(Part {
                session,
                plan,
                output: zoom_output,
                zoom: true,
            });
        }
    }
    Ok(Parts { parts })
}

/// What a session correlation needs beyond a dry run: a frequency setup and
/// a delay model for stations with a position.
pub(crate) fn check_correlatable(session: &Session) -> Result<(), Failure> {
    let job = &session.job;
    job.require_subbands()
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    if job.model.is_none() && job.stations.iter().any(|s| s.delay_poly.is_none()) {
        return Err(Failure::BadInput(format!(
            "{}: key `model`: the session's stations need the geometric model ([model] kernels = [...])",
            job.file.display()
        )));
    }
    for st in &job.stations {
        if let Some(f) = st
            .files
            .iter()
            .find(|f| formats::vdif::summary::is_stream(f))
        {
            return Err(Failure::BadInput(format!(
                "{}: station {}: a session reads its recordings as files (found by time for each scan), not a stream ({})",
                job.file.display(),
                st.name,
                f.display()
            )));
        }
    }
    for sc in &session.scans {
        for ss in &sc.stations {
            if let Some(s) = ss.station {
                let st = &job.stations[s];
                if st.position == correlator::job::StationPosition::None && st.delay_poly.is_none()
                {
                    return Err(Failure::BadInput(format!(
                        "{}: station {}: no position (not in the VEX $SITE; give itrf_m, moon or moon_xyz_m in its [[station]])",
                        job.file.display(),
                        st.name
                    )));
                }
            }
        }
    }
    Ok(())
}

/// One scan as JSON: what the schedule says, what the plan decided, where
/// it goes, and, after a run, what it gave.
fn scan_json(
    parts: &Parts,
    k: usize,
    results: Option<&[Vec<ScanResult>]>,
    dry_run: bool,
) -> serde_json::Value {
    let o = parts.owner(k);
    let part = &parts.parts[o];
    let (session, plan) = (&part.session, &part.plan);
    let result = results.and_then(|rs| rs.get(o)?.iter().find(|r| r.scan == k));
    let sc = &session.scans[k];
    let p = &plan.scans[k];
    let job = &session.job;
    let (status, why) = match (&p.status, result) {
        (ScanStatus::Skipped(w), _) => ("skipped", Some(w.clone())),
        (ScanStatus::Correlate, _) if dry_run => ("correlate", None),
        (ScanStatus::Correlate, Some(_)) => ("correlated", None),
        // Not reached by a finished run (every planned scan has a result).
        (ScanStatus::Correlate, None) => ("skipped", Some("not run".to_string())),
    };
    let output = (status != "skipped").then(|| part.output.display().to_string());
    let mut v = serde_json::json!({
        "name": sc.name,
        "start": sc.start.to_iso8601(),
        "stop": sc.stop().to_iso8601(),
        "mode": sc.mode,
        "sources": sc.sources.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "stations": sc.stations.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "status": status,
        "why": why,
        "output": output,
        "correlated_stations": p.stations.iter().map(|(s, _)| job.stations[*s].name.clone()).collect::<Vec<_>>(),
        "notes": p.notes,
    });
    if dry_run {
        let files: serde_json::Map<String, serde_json::Value> = p
            .stations
            .iter()
            .map(|(s, f)| {
                (
                    job.stations[*s].name.clone(),
                    serde_json::json!(f
                        .iter()
                        .map(|x| x.display().to_string())
                        .collect::<Vec<_>>()),
                )
            })
            .collect();
        v["files"] = files.into();
        v["bytes"] = p.bytes.into();
        v["cpu_s"] = p.cpu_s.into();
    }
    if let Some(r) = result {
        let weights: serde_json::Map<String, serde_json::Value> = r
            .summary
            .baseline_weights
            .iter()
            .map(|(b, w)| (b.clone(), serde_json::json!(w)))
            .collect();
        v["integrations"] = r.integrations.into();
        v["integration_s"] = r.summary.integration_s.into();
        v["weights"] = weights.into();
    }
    v
}

/// The whole plan or summary as JSON: `{"schedule", "output", "outputs":
/// [...], "scans": [...], ...}`. `results` holds each part's scans (in
/// part order) after a run, `None` for the plan.
pub(crate) fn json(
    parts: &Parts,
    results: Option<&[Vec<ScanResult>]>,
    output: &Path,
) -> serde_json::Value {
    let dry_run = results.is_none();
    let session = parts.first();
    let scans: Vec<serde_json::Value> = (0..session.scans.len())
        .map(|k| scan_json(parts, k, results, dry_run))
        .collect();
    // The files written (or to be): one per mode with scans to correlate.
    let outputs: Vec<serde_json::Value> = parts
        .parts
        .iter()
        .filter(|p| p.plan.correlated() > 0)
        .map(|p| {
            let names: Vec<&str> = Session::correlated(&p.plan)
                .into_iter()
                .map(|k| p.session.scans[k].name.as_str())
                .collect();
            let mut o = serde_json::json!({
                "file": p.output.display().to_string(),
                "mode": p.session.mode,
                "scans": names,
            });
            // Only for a zoom pass: the object stays as it was otherwise.
            if p.zoom {
                o["zoom"] = true.into();
            }
            o
        })
        .collect();
    let eop = &session.eop;
    let mut v = serde_json::json!({
        "schedule": session.schedule_file,
        "output": output.display().to_string(),
        "outputs": outputs,
        "scans": scans,
        "scans_correlated": parts.correlated(),
        "scans_skipped": session.scans.len() - parts.correlated(),
        "eop": {"from": eop.from, "what": eop.what, "warning": eop.warning},
        "notes": parts.notes(),
        "problems": parts.problems(),
    });
    let plans = || parts.parts.iter().flat_map(|p| p.plan.scans.iter());
    if dry_run {
        v["bytes"] = plans().map(|p| p.bytes).sum::<u64>().into();
        v["cpu_s"] = plans().map(|p| p.cpu_s).sum::<f64>().into();
    } else if let Some(rs) = results {
        let all = || rs.iter().flatten();
        v["integrations"] = all().map(|r| r.integrations).sum::<u64>().into();
        v["wall_s"] = all().map(|r| r.summary.wall_s).sum::<f64>().into();
    }
    v
}

/// The plan or summary as text lines (stderr): one line per scan (with
/// `→ file` when the session writes several).
pub(crate) fn text(parts: &Parts, results: Option<&[Vec<ScanResult>]>) -> Vec<String> {
    let several = parts.parts.len() > 1;
    let mut lines = Vec::new();
    for (k, sc) in parts.first().scans.iter().enumerate() {
        let o = parts.owner(k);
        let part = &parts.parts[o];
        let job = &part.session.job;
        let p = &part.plan.scans[k];
        let head = format!(
            "{} {} {:.1} s {}",
            sc.name,
            sc.start.to_iso8601(),
            sc.duration_s,
            sc.sources
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join("+")
        );
        let stations: Vec<&str> = p
            .stations
            .iter()
            .map(|(s, _)| job.stations[*s].name.as_str())
            .collect();
        let notes = if p.notes.is_empty() {
            String::new()
        } else {
            format!("; {}", p.notes.join("; "))
        };
        let to = if several {
            format!(" → {}", part.output.display())
        } else {
            String::new()
        };
        let line = match (&p.status, results) {
            (ScanStatus::Skipped(why), _) => format!("{head}: skipped: {why}"),
            (ScanStatus::Correlate, None) => format!(
                "{head}: correlate {} ({:.1} MB, ~{:.0} CPU s){to}{notes}",
                stations.join(" "),
                p.bytes as f64 / 1e6,
                p.cpu_s,
            ),
            (ScanStatus::Correlate, Some(rs)) => {
                match rs.get(o).and_then(|r| r.iter().find(|r| r.scan == k)) {
                    Some(r) => {
                        let w = &r.summary.baseline_weights;
                        let mean = if w.is_empty() {
                            0.0
                        } else {
                            w.iter().map(|x| x.1).sum::<f64>() / w.len() as f64
                        };
                        let from = if w.is_empty() {
                            ", from the checkpoint".to_string()
                        } else {
                            format!(", mean weight {mean:.3}")
                        };
                        format!(
                            "{head}: correlated {} ({} integrations{from}){to}{notes}",
                            stations.join(" "),
                            r.integrations,
                        )
                    }
                    None => format!("{head}: not run"),
                }
            }
        };
        lines.push(line);
    }
    let eop = &parts.first().eop;
    lines.push(format!("note: {}", eop.describe()));
    if let Some(w) = &eop.warning {
        lines.push(format!("warning: {w}"));
    }
    for n in parts.notes().iter().chain(&parts.problems()) {
        lines.push(format!("note: {n}"));
    }
    lines
}

/// The files a session writes, for the closing line.
pub(crate) fn outputs_text(parts: &Parts) -> String {
    parts
        .parts
        .iter()
        .filter(|p| p.plan.correlated() > 0)
        .map(|p| {
            let zoom = if p.zoom { ", zoom bands" } else { "" };
            match (&p.session.mode, parts.parts.len() > 1) {
                (Some(m), true) => format!("{} (mode {m}{zoom})", p.output.display()),
                (None, true) if p.zoom => format!("{} (zoom bands)", p.output.display()),
                _ => p.output.display().to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--dry-run`: print the plan and stop.
pub(crate) fn print_plan(parts: &Parts, output: &Path, as_json: bool) -> Result<(), Failure> {
    if as_json {
        return print_stdout(&format!("{}\n", json(parts, None, output)));
    }
    for l in text(parts, None) {
        print_stdout(&format!("{l}\n"))?;
    }
    let plans = || parts.parts.iter().flat_map(|p| p.plan.scans.iter());
    print_stdout(&format!(
        "{} of {} scans to correlate, {:.1} MB, ~{:.0} CPU s → {}\n",
        parts.correlated(),
        parts.first().scans.len(),
        plans().map(|p| p.bytes).sum::<u64>() as f64 / 1e6,
        plans().map(|p| p.cpu_s).sum::<f64>(),
        if parts.correlated() == 0 {
            output.display().to_string()
        } else {
            outputs_text(parts)
        }
    ))
}
