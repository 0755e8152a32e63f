//! A session: the schedule of an observation — scans, each with its sources
//! (one, or several phase centres in one beam) and its stations and their
//! data windows — resolved against a job file into what to correlate when.
//!
//! Between the job (a file) and the engine (one span of blocks): a job that
//! names a VEX schedule (`[job] vex`) or lists `[[scan]]` tables is a
//! session. [`Session::load`] builds it: from `[[scan]]` tables the job's
//! own stations and sources; from a VEX, the stations (`$SITE` positions,
//! `$CLOCK`), sources (`$SOURCE`), frequency setup (`$MODE` → `$FREQ`,
//! `$BBC`, `$IF`, `$DATASTREAMS`/`$THREADS`) and scans (`$SCHED`), which the
//! job's `[[station]]` and `[[source]]` tables complete or override by name
//! (recordings, a lunar site, a lander's position). The result is an
//! effective [`Job`] (every station, source and subband the session uses)
//! plus the [`Scan`] list in schedule order.
//!
//! Nothing is dropped silently: every scan of the schedule stays in the
//! list, and one that cannot be correlated says why ([`Scan::skip`]);
//! [`plan`] adds what the recordings hold.
//!
//! Times are geocentric (the wavefront at the geocentre, as the correlator's
//! clock is): a station's data for scan time g lie at g + τ_s(g) on its own
//! clock (~1.3 s earlier for a lunar station).

mod error;
pub mod plan;
mod run;
mod vex;

#[cfg(test)]
mod tests;

pub use error::SessionError;
pub use plan::{FileSpan, Plan, ScanPlan, ScanStatus};
pub use run::ScanResult;

use crate::job::Job;
use formats::UtcTime;

/// A resolved session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The effective job: every station, source and subband of the session
    /// (a VEX merged with the job file's tables).
    pub job: Job,
    /// Every scan of the schedule, in schedule order.
    pub scans: Vec<Scan>,
    /// Where the schedule came from: the VEX file, or the job file.
    pub schedule_file: String,
    /// Things worth saying once (a VEX block that was not used, a second
    /// mode), one line each.
    pub notes: Vec<String>,
}

/// One scan of the schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub name: String,
    /// Geocentric UTC.
    pub start: UtcTime,
    /// From `start` to the largest `data_stop` of its stations.
    pub duration_s: f64,
    /// The VEX mode (`None` for `[[scan]]` tables).
    pub mode: Option<String>,
    /// The scan's sources in schedule order: its phase centres.
    pub sources: Vec<ScanSource>,
    /// The stations the schedule puts in the scan, in schedule order.
    pub stations: Vec<ScanStation>,
    /// Line of the scan in the VEX (0 for `[[scan]]` tables).
    pub line: usize,
    /// Why the scan cannot be correlated whatever the recordings hold (not
    /// selected by `[job] scans`, a source without a position, another
    /// mode than the session's); `None` if it can.
    pub skip: Option<String>,
}

/// A source of a scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSource {
    pub name: String,
    /// Index into the effective job's `sources`; `None` when the session
    /// has no position for it.
    pub source: Option<usize>,
}

/// A station of a scan, with its window of good data.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanStation {
    pub name: String,
    /// Index into the effective job's `stations`; `None` when the job does
    /// not correlate it (not in `[job] stations`, or no `[[station]]`).
    pub station: Option<usize>,
    /// Good data from `start + good_s` to `start + stop_s` (geocentric).
    pub good_s: f64,
    pub stop_s: f64,
}

impl Scan {
    /// End of the scan (geocentric UTC).
    pub fn stop(&self) -> UtcTime {
        self.start.add_seconds(self.duration_s)
    }

    /// Indices of the job stations in the scan.
    pub fn job_stations(&self) -> impl Iterator<Item = usize> + '_ {
        self.stations.iter().filter_map(|s| s.station)
    }
}

impl Session {
    /// Whether `job` describes a session (a VEX or `[[scan]]` tables)
    /// rather than one span.
    pub fn is_session(job: &Job) -> bool {
        job.vex.is_some() || !job.scans.is_empty()
    }

    /// Build the session a job describes. Needs no recordings, kernels or
    /// EOP: a dry run works from this alone.
    pub fn load(job: &Job) -> Result<Session, SessionError> {
        let mut s = match &job.vex {
            Some(path) => vex::load(job, path)?,
            None => from_tables(job),
        };
        s.select(job);
        Ok(s)
    }

    /// Apply `[job] scans` (others are listed, skipped as not selected).
    fn select(&mut self, job: &Job) {
        if let Some(names) = &job.select_scans {
            for sc in &mut self.scans {
                if !names.contains(&sc.name) && sc.skip.is_none() {
                    sc.skip = Some("not selected ([job] scans)".into());
                }
            }
            for n in names {
                if !self.scans.iter().any(|s| &s.name == n) {
                    self.notes.push(format!(
                        "[job] scans names {n:?}, which is not a scan of {}",
                        self.schedule_file
                    ));
                }
            }
        }
    }
}

/// A session from the job's own `[[scan]]` tables: every scan on the job's
/// sources and stations (all of them unless it lists some), with good data
/// over the whole scan.
fn from_tables(job: &Job) -> Session {
    // `[job] stations` picks some of the job's stations.
    let mut job = job.clone();
    if let Some(sel) = &job.select_stations {
        let sel = sel.clone();
        job.stations.retain(|s| sel.contains(&s.name));
    }
    let job = &job;
    let scans = job
        .scans
        .iter()
        .map(|sp| {
            let names: Vec<String> = match &sp.stations {
                Some(list) => list.clone(),
                None => job.stations.iter().map(|s| s.name.clone()).collect(),
            };
            let stations = names
                .into_iter()
                .map(|name| ScanStation {
                    station: job.stations.iter().position(|s| s.name == name),
                    name,
                    good_s: 0.0,
                    stop_s: sp.duration_s,
                })
                .collect();
            Scan {
                name: sp.name.clone(),
                start: sp.start,
                duration_s: sp.duration_s,
                mode: None,
                sources: sp
                    .sources
                    .iter()
                    .map(|n| ScanSource {
                        name: n.clone(),
                        source: job.sources.iter().position(|s| &s.name == n),
                    })
                    .collect(),
                stations,
                line: 0,
                skip: None,
            }
        })
        .collect();
    Session {
        job: job.clone(),
        scans,
        schedule_file: job.file.display().to_string(),
        notes: Vec::new(),
    }
}
