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
//! One session correlates one frequency setup (one FITS-IDI file). A
//! schedule whose scans use several `$MODE`s is one session per mode
//! ([`Session::load_modes`], in the order the modes first appear among the
//! selected scans), each with every scan of the schedule and those of the
//! other modes skipped; each writes its own file ([`mode_output`]).
//!
//! Times are geocentric (the wavefront at the geocentre, as the correlator's
//! clock is): a station's data for scan time g lie at g + τ_s(g) on its own
//! clock (~1.3 s earlier for a lunar station).

mod eop;
mod error;
pub mod plan;
mod run;
mod vex;

#[cfg(test)]
mod tests;

pub use eop::{EopUse, TOL_DUT1_S, TOL_POLE_ARCSEC};
pub use error::SessionError;
pub use plan::{FileSpan, Plan, ScanPlan, ScanStatus};
pub use run::ScanResult;

use crate::job::Job;
use formats::UtcTime;
use std::path::{Path, PathBuf};

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
    /// The VEX mode whose frequency setup this session correlates (`None`
    /// for `[[scan]]` tables); its scans of other modes are skipped.
    pub mode: Option<String>,
    /// Where the delay model's Earth orientation comes from.
    pub eop: EopUse,
    /// Per station of `job`: its VEX `$CLOCK` entries when there are
    /// several (valid from different epochs) and the job gives no clock;
    /// [`Session::scan_job`] takes the one in force at each scan's start.
    pub vex_clocks: Vec<Option<Vec<formats::vex::ClockEntry>>>,
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

    /// Build the session a job describes: the frequency setup of the first
    /// selected scan's mode, scans of other modes skipped ([`Session::load_modes`]
    /// gives one session per mode). Needs no recordings, kernels or EOP: a
    /// dry run works from this alone.
    pub fn load(job: &Job) -> Result<Session, SessionError> {
        let mut s = Self::build(job, None)?;
        s.skip_other_modes(|m, own| {
            format!(
                "mode {m} differs from the session's {own} (one frequency setup per output: correlate it in a job with [job] scans)"
            )
        });
        Ok(s)
    }

    /// One session per frequency setup: per VEX mode of the selected scans,
    /// in the order the modes first appear, each with every scan of the
    /// schedule (those of the other modes skipped). One session for
    /// `[[scan]]` tables, a single mode, or a job whose `[[subband]]`
    /// tables fix one frequency setup (the scans of other modes are then
    /// skipped, saying so). A session with one mode is exactly what
    /// [`Session::load`] gives.
    pub fn load_modes(job: &Job) -> Result<Vec<Session>, SessionError> {
        let mut first = Self::build(job, None)?;
        let modes = first.selected_modes(job);
        let Some(path) = job.vex.as_ref().filter(|_| modes.len() > 1) else {
            return Self::load(job).map(|s| vec![s]);
        };
        if !job.subbands.is_empty() {
            first.skip_other_modes(|m, own| {
                format!(
                    "mode {m}: the job's [[subband]] tables give one frequency setup, taken as mode {own}'s (correlate mode {m} in a job without [[subband]] tables, or of its own with [job] scans)"
                )
            });
            return Ok(vec![first]);
        }
        let mut parts = vec![first];
        for m in &modes[1..] {
            let mut s = vex::load(job, path, Some(m))?;
            s.select(job);
            parts.push(s);
        }
        for p in &mut parts {
            p.skip_other_modes(|m, _| format!("mode {m}: correlated into that mode's own output"));
        }
        Ok(parts)
    }

    fn build(job: &Job, mode: Option<&str>) -> Result<Session, SessionError> {
        let mut s = match &job.vex {
            Some(path) => vex::load(job, path, mode)?,
            None => from_tables(job),
        };
        s.select(job);
        Ok(s)
    }

    /// The modes of the scans `[job] scans` selects, in schedule order of
    /// their first scan.
    fn selected_modes(&self, job: &Job) -> Vec<String> {
        let mut modes: Vec<String> = Vec::new();
        for sc in &self.scans {
            let selected = job
                .select_scans
                .as_ref()
                .is_none_or(|n| n.contains(&sc.name));
            if let (true, Some(m)) = (selected, &sc.mode) {
                if !modes.contains(m) {
                    modes.push(m.clone());
                }
            }
        }
        modes
    }

    /// Skip the selected scans of another mode than the session's, saying
    /// `why(their mode, the session's)` (it replaces a reason of their own:
    /// the mode is why this output does not hold them).
    fn skip_other_modes(&mut self, why: impl Fn(&str, &str) -> String) {
        let own = self.mode.clone().unwrap_or_else(|| "?".into());
        for sc in &mut self.scans {
            if let Some(m) = sc
                .mode
                .as_deref()
                .filter(|m| Some(*m) != self.mode.as_deref())
            {
                if sc.skip.as_deref() != Some(NOT_SELECTED) {
                    sc.skip = Some(why(m, &own));
                }
            }
        }
    }

    /// Apply `[job] scans` (others are listed, skipped as not selected).
    fn select(&mut self, job: &Job) {
        if let Some(names) = &job.select_scans {
            for sc in &mut self.scans {
                if !names.contains(&sc.name) && sc.skip.is_none() {
                    sc.skip = Some(NOT_SELECTED.into());
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

const NOT_SELECTED: &str = "not selected ([job] scans)";

/// Where the session of `mode` writes when a schedule has several modes:
/// the job's output with `_<mode>` inserted before its extension
/// (`em2603.fits` → `em2603_MODE2.fits`; no extension: appended). Characters
/// of the mode name that do not belong in a file name (anything but ASCII
/// letters, digits, `.`, `_`, `+`, `-`) become `_`.
pub fn mode_output(base: &Path, mode: &str) -> PathBuf {
    crate::job::tagged_output(base, mode)
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
        mode: None,
        eop: EopUse::of_job(job.model.as_ref()),
        vex_clocks: Vec::new(),
    }
}
