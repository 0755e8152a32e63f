//! `emcorr correlate` on a session (a job with `[job] vex` or `[[scan]]`
//! tables): the plan (`--dry-run`) and the summary, one entry per scan of
//! the schedule in schedule order, as text and JSON. The decisions are
//! `correlator::session`'s; this is how they are shown.

use crate::failure::{print_stdout, Failure};
use correlator::session::{Plan, ScanResult, ScanStatus, Session, SessionError};
use correlator::Job;

/// A session error as the process reports it.
pub(crate) fn failure(e: SessionError) -> Failure {
    if e.is_io() {
        Failure::Io(e.to_string())
    } else {
        Failure::BadInput(e.to_string())
    }
}

/// Load the session of `job` and plan it against the recordings.
pub(crate) fn load(job: &Job) -> Result<(Session, Plan), Failure> {
    let session = Session::load(job).map_err(failure)?;
    let plan = Plan::new(&session);
    Ok((session, plan))
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

/// One scan as JSON: what the schedule says, what the plan decided, and,
/// after a run, what it gave.
fn scan_json(
    session: &Session,
    plan: &Plan,
    k: usize,
    result: Option<&ScanResult>,
    dry_run: bool,
) -> serde_json::Value {
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
    let mut v = serde_json::json!({
        "name": sc.name,
        "start": sc.start.to_iso8601(),
        "stop": sc.stop().to_iso8601(),
        "mode": sc.mode,
        "sources": sc.sources.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "stations": sc.stations.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "status": status,
        "why": why,
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

/// The whole plan or summary as JSON: `{"schedule", "scans": [...], ...}`.
pub(crate) fn json(
    session: &Session,
    plan: &Plan,
    results: Option<&[ScanResult]>,
    output: &std::path::Path,
) -> serde_json::Value {
    let dry_run = results.is_none();
    let scans: Vec<serde_json::Value> = (0..session.scans.len())
        .map(|k| {
            let r = results.and_then(|rs| rs.iter().find(|r| r.scan == k));
            scan_json(session, plan, k, r, dry_run)
        })
        .collect();
    let mut v = serde_json::json!({
        "schedule": session.schedule_file,
        "output": output.display().to_string(),
        "scans": scans,
        "scans_correlated": plan.correlated(),
        "scans_skipped": session.scans.len() - plan.correlated(),
        "notes": session.notes,
        "problems": plan.problems,
    });
    if dry_run {
        v["bytes"] = plan.scans.iter().map(|p| p.bytes).sum::<u64>().into();
        v["cpu_s"] = plan.scans.iter().map(|p| p.cpu_s).sum::<f64>().into();
    } else if let Some(rs) = results {
        v["integrations"] = rs.iter().map(|r| r.integrations).sum::<u64>().into();
        v["wall_s"] = rs.iter().map(|r| r.summary.wall_s).sum::<f64>().into();
    }
    v
}

/// The plan or summary as text lines (stderr): one line per scan.
pub(crate) fn text(session: &Session, plan: &Plan, results: Option<&[ScanResult]>) -> Vec<String> {
    let job = &session.job;
    let mut lines = Vec::new();
    for (k, sc) in session.scans.iter().enumerate() {
        let p = &plan.scans[k];
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
        let line = match (&p.status, results) {
            (ScanStatus::Skipped(why), _) => format!("{head}: skipped: {why}"),
            (ScanStatus::Correlate, None) => format!(
                "{head}: correlate {} ({:.1} MB, ~{:.0} CPU s){}",
                stations.join(" "),
                p.bytes as f64 / 1e6,
                p.cpu_s,
                if p.notes.is_empty() {
                    String::new()
                } else {
                    format!("; {}", p.notes.join("; "))
                }
            ),
            (ScanStatus::Correlate, Some(rs)) => match rs.iter().find(|r| r.scan == k) {
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
                        "{head}: correlated {} ({} integrations{from}){}",
                        stations.join(" "),
                        r.integrations,
                        if p.notes.is_empty() {
                            String::new()
                        } else {
                            format!("; {}", p.notes.join("; "))
                        }
                    )
                }
                None => format!("{head}: not run"),
            },
        };
        lines.push(line);
    }
    for n in session.notes.iter().chain(&plan.problems) {
        lines.push(format!("note: {n}"));
    }
    lines
}

/// `--dry-run`: print the plan and stop.
pub(crate) fn print_plan(
    session: &Session,
    plan: &Plan,
    output: &std::path::Path,
    as_json: bool,
) -> Result<(), Failure> {
    if as_json {
        print_stdout(&format!("{}\n", json(session, plan, None, output)))
    } else {
        for l in text(session, plan, None) {
            print_stdout(&format!("{l}\n"))?;
        }
        print_stdout(&format!(
            "{} of {} scans to correlate, {:.1} MB, ~{:.0} CPU s → {}\n",
            plan.correlated(),
            session.scans.len(),
            plan.scans.iter().map(|p| p.bytes).sum::<u64>() as f64 / 1e6,
            plan.scans.iter().map(|p| p.cpu_s).sum::<f64>(),
            output.display()
        ))
    }
}
