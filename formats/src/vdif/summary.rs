//! What a VDIF file holds, thread by thread: the scan behind `emcorr inspect`.
//! Reads headers only (one per frame), never payloads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::VdifError;
use super::header::{sample_time, VdifHeader};
use super::reader::VdifFile;
use super::stream::FrameReader;
use crate::time::UtcTime;

/// Frame position in time: (UTC second, frame number).
type Tick = (i64, u32);

/// A run of missing frames in one thread.
#[derive(Clone, Debug, PartialEq)]
pub struct Gap {
    /// Time the first missing frame would have started.
    pub start: UtcTime,
    /// Time the next present frame starts.
    pub end: UtcTime,
    pub frames: u64,
}

/// Frames of one thread whose times were already present in that thread:
/// duplicated frames, or a clock that went back. They are not used.
#[derive(Clone, Debug, PartialEq)]
pub struct Overlap {
    /// Byte offset of the first repeating frame.
    pub offset: u64,
    /// Start of the first repeating frame's time.
    pub start: UtcTime,
    /// End of the last repeating frame's time.
    pub end: UtcTime,
    pub frames: u64,
}

/// A byte range with no usable frame (see [`VdifError::Corrupted`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Damage {
    pub offset: u64,
    pub end: u64,
    pub what: String,
}

/// One thread of one file.
#[derive(Clone, Debug)]
pub struct ThreadSummary {
    pub thread_id: u16,
    pub station_id: u16,
    pub frame_bytes: usize,
    pub legacy: bool,
    pub edv: u8,
    pub bits: u8,
    pub complex: bool,
    pub channels: usize,
    pub samples_per_frame: usize,
    pub sample_rate_hz: f64,
    pub sample_rate_inferred: bool,
    /// Earliest and latest sample of the thread (by time, not file order).
    pub first_sample_time: UtcTime,
    pub last_sample_time: UtcTime,
    /// Frames present (all sizes, valid or not, duplicates included).
    pub frames: u64,
    pub invalid_frames: u64,
    /// Frames whose length differs from this thread's first frame.
    pub wrong_size_frames: u64,
    /// Frames absent between the thread's first and last frame.
    pub missing_frames: u64,
    /// Frames that arrived after a later one of their thread and filled a
    /// hole (placed by their time).
    pub out_of_order_frames: u64,
    /// Frames whose time was already present (all overlaps together).
    pub duplicate_frames: u64,
    /// The first [`MAX_GAPS`] gaps (all are counted in `missing_frames`).
    pub gaps: Vec<Gap>,
    pub gap_count: u64,
    /// The first [`MAX_GAPS`] runs of repeating frames.
    pub overlaps: Vec<Overlap>,
    pub overlap_count: u64,
    /// Frames this thread lacks before its first frame and after its last,
    /// compared with the file's earliest and latest thread (a thread that
    /// starts late or disappears).
    pub frames_missing_at_start: u64,
    pub frames_missing_at_end: u64,
}

/// Gaps, overlaps and damaged ranges listed (the rest are counted).
pub const MAX_GAPS: usize = 100;

/// One file.
#[derive(Debug)]
pub struct FileSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub frames: u64,
    pub threads: Vec<ThreadSummary>,
    /// The sample rate was inferred and no second boundary was seen, so it is
    /// a lower bound (the frames of one whole second were not all seen).
    pub sample_rate_lower_bound: bool,
    /// The first [`MAX_GAPS`] damaged byte ranges (skipped; the scan went on).
    pub corrupted: Vec<Damage>,
    pub corrupted_count: u64,
    pub corrupted_bytes: u64,
    /// The first problem: a damaged range (the scan went on after it) or a
    /// truncated last frame (which ended it). `None` for a clean file.
    pub problem: Option<VdifError>,
}

/// An open run of repeating frames: (offset, first tick, last tick, frames).
type Run = (u64, Tick, Tick, u64);

struct Acc {
    first: VdifHeader,
    frames: u64,
    invalid: u64,
    wrong_size: u64,
    last_tick: Tick,
    max_tick: Tick,
    /// Ticks present, as runs within one second: start → end (inclusive).
    /// Its size grows with the number of gaps and seconds, not of frames.
    present: BTreeMap<Tick, Tick>,
    out_of_order: u64,
    duplicates: u64,
    open_run: Option<Run>,
    overlaps: Vec<Run>,
    overlap_count: u64,
}

impl Acc {
    fn contains(&self, t: Tick) -> bool {
        self.present
            .range(..=t)
            .next_back()
            .is_some_and(|(_, &e)| e >= t)
    }

    fn insert(&mut self, t: Tick) {
        let mut start = t;
        if t.1 > 0 {
            if let Some((&s, &e)) = self.present.range(..t).next_back() {
                if e == (t.0, t.1 - 1) {
                    start = s;
                }
            }
        }
        let mut end = t;
        if let Some(e) = self.present.remove(&(t.0, t.1.wrapping_add(1))) {
            if t.1 < u32::MAX {
                end = e;
            }
        }
        self.present.insert(start, end);
    }

    fn close_run(&mut self) {
        if let Some(r) = self.open_run.take() {
            if self.overlaps.len() < MAX_GAPS {
                self.overlaps.push(r);
            }
        }
    }
}

/// Accumulates frame headers in file order.
#[derive(Default)]
struct Summariser {
    threads: BTreeMap<u16, Acc>,
    max_frame_number: u32,
    second_boundary_seen: bool,
    frames: u64,
    corrupted: Vec<Damage>,
    corrupted_count: u64,
    corrupted_bytes: u64,
}

impl Summariser {
    fn add(&mut self, h: &VdifHeader, offset: u64) {
        self.frames += 1;
        self.max_frame_number = self.max_frame_number.max(h.frame_number);
        let tick = (h.second(), h.frame_number);
        let acc = self.threads.entry(h.thread_id).or_insert_with(|| Acc {
            first: *h,
            frames: 0,
            invalid: 0,
            wrong_size: 0,
            last_tick: tick,
            max_tick: tick,
            present: BTreeMap::new(),
            out_of_order: 0,
            duplicates: 0,
            open_run: None,
            overlaps: Vec::new(),
            overlap_count: 0,
        });
        if acc.frames > 0 {
            let prev = acc.last_tick;
            if tick.0 == prev.0 + 1 && tick.1 == 0 {
                self.second_boundary_seen = true;
            }
        }
        if acc.frames > 0 && acc.contains(tick) {
            acc.duplicates += 1;
            match &mut acc.open_run {
                Some(r) => {
                    r.2 = tick;
                    r.3 += 1;
                }
                None => {
                    acc.overlap_count += 1;
                    acc.open_run = Some((offset, tick, tick, 1));
                }
            }
        } else {
            acc.close_run();
            if acc.frames > 0 && tick < acc.max_tick {
                acc.out_of_order += 1;
            }
            acc.insert(tick);
            acc.max_tick = acc.max_tick.max(tick);
        }
        acc.frames += 1;
        acc.invalid += u64::from(h.invalid);
        acc.wrong_size += u64::from(h.frame_bytes() != acc.first.frame_bytes());
        acc.last_tick = tick;
    }

    fn damaged(&mut self, offset: u64, end: u64, what: &str) {
        self.corrupted_count += 1;
        self.corrupted_bytes += end - offset;
        if self.corrupted.len() < MAX_GAPS {
            self.corrupted.push(Damage {
                offset,
                end,
                what: what.to_string(),
            });
        }
    }

    fn finish(
        self,
        path: &Path,
        bytes: u64,
        sample_rate_hz: Option<f64>,
        problem: Option<VdifError>,
    ) -> Result<FileSummary, VdifError> {
        let fps_inferred = u64::from(self.max_frame_number) + 1;
        let mut threads = Vec::new();
        // (thread start, thread end) in time, to find threads that start
        // late or stop early.
        let mut spans = Vec::new();
        for (id, mut acc) in self.threads {
            acc.close_run();
            let spf = acc.first.samples_per_frame();
            let (rate, fps, inferred) = match sample_rate_hz {
                Some(r) => (r, frames_per_second(path, r, spf)?, false),
                None => ((fps_inferred * spf as u64) as f64, fps_inferred, true),
            };
            let fps = fps as i64;
            let k = |t: Tick| t.0 * fps + i64::from(t.1);
            let time_k = |k: i64, i: u64| {
                sample_time(k.div_euclid(fps), k.rem_euclid(fps) as u64, spf, i, rate)
            };
            // Runs in frame-index space, merged across second boundaries.
            let mut runs: Vec<(i64, i64)> =
                acc.present.iter().map(|(&s, &e)| (k(s), k(e))).collect();
            runs.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::new();
            for (s, e) in runs {
                match merged.last_mut() {
                    Some(m) if s <= m.1 + 1 => m.1 = m.1.max(e),
                    _ => merged.push((s, e)),
                }
            }
            let mut missing = 0u64;
            let mut gaps = Vec::new();
            let mut gap_count = 0u64;
            for w in merged.windows(2) {
                let n = (w[1].0 - w[0].1 - 1) as u64;
                missing += n;
                gap_count += 1;
                if gaps.len() < MAX_GAPS {
                    gaps.push(Gap {
                        start: time_k(w[0].1 + 1, 0),
                        end: time_k(w[1].0, 0),
                        frames: n,
                    });
                }
            }
            let first_k = merged.first().map_or(0, |m| m.0);
            let last_k = merged.last().map_or(0, |m| m.1);
            let overlaps = acc
                .overlaps
                .iter()
                .map(|&(offset, a, b, frames)| Overlap {
                    offset,
                    start: time_k(k(a), 0),
                    end: time_k(k(b) + 1, 0),
                    frames,
                })
                .collect();
            spans.push((time_k(first_k, 0), time_k(last_k + 1, 0), fps));
            let h = acc.first;
            threads.push(ThreadSummary {
                thread_id: id,
                station_id: h.station_id,
                frame_bytes: h.frame_bytes(),
                legacy: h.legacy,
                edv: h.edv(),
                bits: h.bits_per_sample,
                complex: h.complex,
                channels: h.channels(),
                samples_per_frame: spf,
                sample_rate_hz: rate,
                sample_rate_inferred: inferred,
                first_sample_time: time_k(first_k, 0),
                last_sample_time: time_k(last_k, spf as u64 - 1),
                frames: acc.frames,
                invalid_frames: acc.invalid,
                wrong_size_frames: acc.wrong_size,
                missing_frames: missing,
                out_of_order_frames: acc.out_of_order,
                duplicate_frames: acc.duplicates,
                gaps,
                gap_count,
                overlaps,
                overlap_count: acc.overlap_count,
                frames_missing_at_start: 0,
                frames_missing_at_end: 0,
            });
        }
        if let (Some(start), Some(end)) = (
            spans
                .iter()
                .map(|s| s.0)
                .min_by(|a, b| a.seconds_since(*b).total_cmp(&0.0)),
            spans
                .iter()
                .map(|s| s.1)
                .max_by(|a, b| a.seconds_since(*b).total_cmp(&0.0)),
        ) {
            for (t, (s, e, fps)) in threads.iter_mut().zip(&spans) {
                let frames = |dt: f64| (dt * *fps as f64).round().max(0.0) as u64;
                t.frames_missing_at_start = frames(s.seconds_since(start));
                t.frames_missing_at_end = frames(end.seconds_since(*e));
            }
        }
        Ok(FileSummary {
            path: path.to_path_buf(),
            bytes,
            frames: self.frames,
            threads,
            sample_rate_lower_bound: sample_rate_hz.is_none() && !self.second_boundary_seen,
            corrupted: self.corrupted,
            corrupted_count: self.corrupted_count,
            corrupted_bytes: self.corrupted_bytes,
            problem,
        })
    }
}

/// The sample rate a source uses: the one given (checked against the frame
/// size), else inferred from the largest frame number seen within a second —
/// a lower bound, with a warning, when no second boundary was seen.
/// Returns (rate in Hz, frames per second, whether inferred).
pub(crate) fn resolve_sample_rate(
    path: &Path,
    sample_rate_hz: Option<f64>,
    samples_per_frame: usize,
    max_frame_number: u32,
    boundary_seen: bool,
    warnings: &mut Vec<String>,
) -> Result<(f64, u64, bool), VdifError> {
    if let Some(r) = sample_rate_hz {
        return Ok((r, frames_per_second(path, r, samples_per_frame)?, false));
    }
    let fps = u64::from(max_frame_number) + 1;
    let rate = fps * samples_per_frame as u64;
    if !boundary_seen {
        warnings.push(format!(
            "{}: sample rate inferred as {rate} Hz from frame numbers up to {max_frame_number} without seeing a whole second: a lower bound; give the sample rate",
            super::error::show(path),
        ));
    }
    Ok((rate as f64, fps, true))
}

/// Frames per second at `rate` with `spf` samples per frame, which must be a
/// whole number (VDIF frames tile each second, §4 word 1).
pub fn frames_per_second(path: &Path, rate: f64, spf: usize) -> Result<u64, VdifError> {
    let fps = rate / spf as f64;
    if fps.is_nan()
        || fps < 1.0
        || (fps - fps.round()).abs() > 1e-9 * fps
        || fps.round() > f64::from(1u32 << 24)
    {
        return Err(VdifError::Inconsistent {
            path: path.to_path_buf(),
            offset: 0,
            what: format!(
                "sample rate {rate} Hz is not a whole number of {spf}-sample frames per second"
            ),
        });
    }
    Ok(fps.round() as u64)
}

/// Summarise a VDIF file (or `-` for stdin, or a FIFO, read as a stream).
///
/// Errors only when nothing can be summarised (cannot open, empty, not VDIF, a
/// truncated or bad first frame); later problems stop the scan and are kept in
/// [`FileSummary::problem`] with the frames before them summarised.
pub fn scan(path: &Path, sample_rate_hz: Option<f64>) -> Result<FileSummary, VdifError> {
    let mut s = Summariser::default();
    let mut problem = None;
    let bytes;
    if is_stream(path) {
        let reader: Box<dyn std::io::Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::fs::File::open(path).map_err(|source| VdifError::Open {
                path: path.to_path_buf(),
                source,
            })?)
        };
        let mut frames = FrameReader::new(path, std::io::BufReader::with_capacity(1 << 20, reader));
        for f in frames.by_ref() {
            match f {
                Ok(f) => s.add(&f.header, f.offset),
                Err(e) => note_problem(&mut s, &mut problem, e),
            }
        }
        bytes = frames.offset() + problem_bytes(&problem);
        if s.frames == 0 {
            return Err(first_error(path, problem));
        }
    } else {
        let file = VdifFile::open(path)?;
        for f in file.frames() {
            match f {
                Ok(f) => s.add(&f.header, f.offset),
                Err(e) => note_problem(&mut s, &mut problem, e),
            }
        }
        bytes = file.len();
        if s.frames == 0 {
            return Err(first_error(path, problem));
        }
    }
    s.finish(path, bytes, sample_rate_hz, problem)
}

/// Record a reader error: damaged ranges are listed (the reader goes on after
/// them); the first problem of any kind is kept.
fn note_problem(s: &mut Summariser, problem: &mut Option<VdifError>, e: VdifError) {
    if let VdifError::Corrupted {
        offset, end, what, ..
    } = &e
    {
        s.damaged(*offset, *end, what);
    }
    problem.get_or_insert(e);
}

fn problem_bytes(p: &Option<VdifError>) -> u64 {
    match p {
        Some(VdifError::Truncated { have, .. }) => *have,
        _ => 0,
    }
}

/// Why a file without a single frame cannot be summarised.
fn first_error(path: &Path, problem: Option<VdifError>) -> VdifError {
    match problem {
        None => VdifError::Empty {
            path: path.to_path_buf(),
        },
        Some(VdifError::Corrupted { offset, what, .. }) => VdifError::NotVdif {
            path: path.to_path_buf(),
            offset,
            what: format!("{what}; no usable VDIF frame follows"),
        },
        Some(e) => e,
    }
}

/// True for `-` (stdin) and anything that is not a regular file (FIFOs, pipes,
/// character devices): these are read as streams, never mapped.
pub fn is_stream(path: &Path) -> bool {
    path.as_os_str() == "-"
        || std::fs::metadata(path)
            .map(|m| !m.is_file() && !m.is_dir())
            .unwrap_or(false)
}
