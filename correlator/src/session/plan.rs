//! What a session will do with the recordings at hand: for every scan of
//! the schedule, the stations whose recordings cover it (files matched by
//! their VDIF times, in any order), the bytes, a CPU-time estimate, and
//! whether it is correlated or skipped — and why. This is `--dry-run`, and
//! the same plan the correlation follows, so the summary accounts for every
//! scan.
//!
//! Matching needs no delay model: a station's data for a scan lie within
//! the scan's window shifted by its delay, which is under 0.03 s for an
//! Earth station and under 1.5 s for a lunar one; a file counts for a scan
//! when its time span overlaps the window widened by that bound
//! ([`MATCH_MARGIN_EARTH_S`], [`MATCH_MARGIN_MOON_S`]). The engine then
//! places every block exactly.

use super::{Scan, Session};
use crate::job::{Job, StationPosition};
use formats::vdif::{VdifFile, VdifHeader};
use formats::UtcTime;
use std::path::PathBuf;

/// Largest |τ| of an Earth station (Earth radius / c ≈ 0.021 s), with margin.
pub const MATCH_MARGIN_EARTH_S: f64 = 0.05;
/// Largest |τ| of a lunar station (Earth–Moon distance / c ≈ 1.35 s), with margin.
pub const MATCH_MARGIN_MOON_S: f64 = 1.6;

/// Engine throughput assumed for the CPU estimate: station samples (per
/// subband and phase centre) per CPU-second, from the engine benchmark in
/// the README (2-bit real, FFT 1024, 2 stations × 2 subbands × 32 Ms/s at
/// 1.28× real time per CPU-second ≈ 160 M). A rough figure: the estimate
/// tells hours from minutes, not seconds.
pub const SAMPLES_PER_CPU_S: f64 = 150e6;

/// The time span one recording file covers.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSpan {
    pub path: PathBuf,
    /// Station time of the first sample of the first frame.
    pub first: UtcTime,
    /// Station time just after the last frame.
    pub end: UtcTime,
    pub bytes: u64,
    /// Bits per sample of its frames.
    pub bits: u8,
}

/// What happens to a scan.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanStatus {
    Correlate,
    Skipped(String),
}

/// One scan's plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPlan {
    pub status: ScanStatus,
    /// Job stations correlated in the scan, with the files that cover it.
    pub stations: Vec<(usize, Vec<PathBuf>)>,
    pub bytes: u64,
    /// Rough CPU seconds ([`SAMPLES_PER_CPU_S`]).
    pub cpu_s: f64,
    /// Stations of the schedule left out, and why (one line each).
    pub notes: Vec<String>,
}

/// The plan of a whole session, one entry per scan in schedule order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub scans: Vec<ScanPlan>,
    /// Recordings that could not be read or placed in time, one line each.
    pub problems: Vec<String>,
    /// Per job station: bits per sample of its first readable recording.
    pub bits: Vec<Option<u8>>,
}

impl Plan {
    /// Match every station's recordings to the scans.
    pub fn new(session: &Session) -> Plan {
        let job = &session.job;
        let mut problems = Vec::new();
        let spans: Vec<Vec<FileSpan>> = job
            .stations
            .iter()
            .map(|st| {
                st.files
                    .iter()
                    .filter_map(|f| match file_span(f, st.sample_rate_hz) {
                        Ok(s) => Some(s),
                        Err(e) => {
                            problems.push(format!("station {}: {e}", st.name));
                            None
                        }
                    })
                    .collect()
            })
            .collect();
        let scans = session
            .scans
            .iter()
            .map(|sc| plan_scan(job, sc, &spans))
            .collect();
        let bits = spans.iter().map(|v| v.first().map(|f| f.bits)).collect();
        Plan {
            scans,
            problems,
            bits,
        }
    }

    /// Scans to correlate.
    pub fn correlated(&self) -> usize {
        self.scans
            .iter()
            .filter(|s| s.status == ScanStatus::Correlate)
            .count()
    }
}

fn margin_s(job: &Job, station: usize) -> f64 {
    match job.stations[station].position {
        StationPosition::Itrf(_) => MATCH_MARGIN_EARTH_S,
        _ => MATCH_MARGIN_MOON_S,
    }
}

fn plan_scan(job: &Job, sc: &Scan, spans: &[Vec<FileSpan>]) -> ScanPlan {
    let mut notes = Vec::new();
    let mut stations = Vec::new();
    let mut bytes = 0u64;
    for ss in &sc.stations {
        let Some(s) = ss.station else {
            notes.push(format!("station {}: not in the job", ss.name));
            continue;
        };
        let m = margin_s(job, s);
        let a = sc.start.add_seconds(ss.good_s - m);
        let b = sc.start.add_seconds(ss.stop_s + m);
        let files: Vec<&FileSpan> = spans[s]
            .iter()
            .filter(|f| f.first < b && f.end > a)
            .collect();
        if files.is_empty() {
            notes.push(format!(
                "station {}: no data between {} and {}",
                ss.name,
                sc.start.add_seconds(ss.good_s).to_iso8601(),
                sc.start.add_seconds(ss.stop_s).to_iso8601()
            ));
            continue;
        }
        bytes += files.iter().map(|f| f.bytes).sum::<u64>();
        let mut paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
        paths.sort_by_key(|p| {
            spans[s]
                .iter()
                .find(|f| &f.path == p)
                .map(|f| (f.first.sec(), (f.first.frac() * 1e9) as i64))
        });
        stations.push((s, paths));
    }
    let need = if job.stations.len() > 1 { 2 } else { 1 };
    let status = match &sc.skip {
        Some(why) => ScanStatus::Skipped(why.clone()),
        None if stations.len() < need => ScanStatus::Skipped(if stations.is_empty() {
            format!("no station has data ({})", notes.join("; "))
        } else {
            format!(
                "only station {} has data ({})",
                job.stations[stations[0].0].name,
                notes.join("; ")
            )
        }),
        None => ScanStatus::Correlate,
    };
    let samples: f64 = stations
        .iter()
        .map(|(s, _)| job.stations[*s].sample_rate_hz.unwrap_or(0.0) * job.subbands.len() as f64)
        .sum::<f64>()
        * sc.duration_s
        * sc.sources.len().max(1) as f64;
    let cpu_s = if status == ScanStatus::Correlate {
        samples / SAMPLES_PER_CPU_S
    } else {
        0.0
    };
    ScanPlan {
        status,
        stations,
        bytes,
        cpu_s,
        notes,
    }
}

/// The span of one recording file from its first and last frame headers
/// (the last complete frame slot; if that is not a frame of the file, every
/// header is read). `sample_rate_hz` places frame numbers in time; without
/// it the rate is inferred from the file.
pub fn file_span(path: &std::path::Path, sample_rate_hz: Option<f64>) -> Result<FileSpan, String> {
    let file = VdifFile::open(path).map_err(|e| e.to_string())?;
    let f0 = file.first_frame().map_err(|e| e.to_string())?;
    let h0 = f0.header;
    let fb = h0.frame_bytes();
    let base = f0.offset as usize;
    let rate = match sample_rate_hz {
        Some(r) => r,
        None => formats::vdif::summary::scan(path, None)
            .map_err(|e| e.to_string())?
            .threads
            .first()
            .map(|t| t.sample_rate_hz)
            .ok_or_else(|| format!("{}: no thread found", path.display()))?,
    };
    let frame_s = h0.samples_per_frame() as f64 / rate;
    let time = |h: &VdifHeader| -> UtcTime {
        UtcTime::new(h.second(), 0.0).add_seconds(f64::from(h.frame_number) * frame_s)
    };
    let slots = (file.len() as usize).saturating_sub(base) / fb;
    let last = slots
        .checked_sub(1)
        .and_then(|k| file.frame_at(base + k * fb).ok())
        .map(|f| f.header)
        .filter(|h| h.station_id == h0.station_id && h.frame_bytes() == fb);
    let last_t = match last {
        Some(h) => time(&h),
        None => {
            // Damage or a ragged end: the latest frame anywhere.
            file.frames()
                .filter_map(|f| f.ok())
                .filter(|f| f.header.station_id == h0.station_id)
                .map(|f| time(&f.header))
                .fold(time(&h0), |a, b| if b > a { b } else { a })
        }
    };
    Ok(FileSpan {
        path: path.to_path_buf(),
        first: time(&h0),
        end: last_t.add_seconds(frame_s),
        bytes: file.len(),
        bits: h0.bits_per_sample,
    })
}
