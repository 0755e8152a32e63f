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
    pub first_sample_time: UtcTime,
    pub last_sample_time: UtcTime,
    /// Frames present (all sizes, valid or not).
    pub frames: u64,
    pub invalid_frames: u64,
    /// Frames whose length differs from this thread's first frame.
    pub wrong_size_frames: u64,
    pub missing_frames: u64,
    /// Frames that go back in time or repeat one already seen.
    pub out_of_order_frames: u64,
    /// The first [`MAX_GAPS`] gaps (all are counted in `missing_frames`).
    pub gaps: Vec<Gap>,
    pub gap_count: u64,
}

/// Gaps listed per thread (the rest are counted).
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
    /// Why the scan stopped early (a truncated last frame, an impossible
    /// header); the frames before it are summarised.
    pub problem: Option<VdifError>,
}

struct Acc {
    first: VdifHeader,
    frames: u64,
    invalid: u64,
    wrong_size: u64,
    first_tick: Tick,
    last_tick: Tick,
    /// Consecutive frames that were not (same second, frame number + 1).
    breaks: Vec<(Tick, Tick)>,
}

/// Accumulates frame headers in file order.
#[derive(Default)]
struct Summariser {
    threads: BTreeMap<u16, Acc>,
    max_frame_number: u32,
    second_boundary_seen: bool,
    frames: u64,
}

impl Summariser {
    fn add(&mut self, h: &VdifHeader) {
        self.frames += 1;
        self.max_frame_number = self.max_frame_number.max(h.frame_number);
        let tick = (h.second(), h.frame_number);
        let acc = self.threads.entry(h.thread_id).or_insert_with(|| Acc {
            first: *h,
            frames: 0,
            invalid: 0,
            wrong_size: 0,
            first_tick: tick,
            last_tick: tick,
            breaks: Vec::new(),
        });
        if acc.frames > 0 {
            let prev = acc.last_tick;
            if tick != (prev.0, prev.1 + 1) {
                if tick.0 == prev.0 + 1 && tick.1 == 0 {
                    self.second_boundary_seen = true;
                }
                acc.breaks.push((prev, tick));
            }
        }
        acc.frames += 1;
        acc.invalid += u64::from(h.invalid);
        acc.wrong_size += u64::from(h.frame_bytes() != acc.first.frame_bytes());
        acc.last_tick = tick;
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
        for (id, acc) in self.threads {
            let spf = acc.first.samples_per_frame();
            let (rate, fps, inferred) = match sample_rate_hz {
                Some(r) => (r, frames_per_second(path, r, spf)?, false),
                None => ((fps_inferred * spf as u64) as f64, fps_inferred, true),
            };
            let fps = fps as i64;
            let time = |t: Tick, i: u64| sample_time(t.0, u64::from(t.1), spf, i, rate);
            let mut missing = 0u64;
            let mut out_of_order = 0u64;
            let mut gaps = Vec::new();
            let mut gap_count = 0u64;
            for (a, b) in acc.breaks {
                let step = (b.0 - a.0) * fps + i64::from(b.1) - i64::from(a.1);
                if step > 1 {
                    missing += (step - 1) as u64;
                    gap_count += 1;
                    if gaps.len() < MAX_GAPS {
                        gaps.push(Gap {
                            start: time(a, spf as u64),
                            end: time(b, 0),
                            frames: (step - 1) as u64,
                        });
                    }
                } else if step < 1 {
                    out_of_order += 1;
                }
            }
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
                first_sample_time: time(acc.first_tick, 0),
                last_sample_time: time(acc.last_tick, spf as u64 - 1),
                frames: acc.frames,
                invalid_frames: acc.invalid,
                wrong_size_frames: acc.wrong_size,
                missing_frames: missing,
                out_of_order_frames: out_of_order,
                gaps,
                gap_count,
            });
        }
        Ok(FileSummary {
            path: path.to_path_buf(),
            bytes,
            frames: self.frames,
            threads,
            sample_rate_lower_bound: sample_rate_hz.is_none() && !self.second_boundary_seen,
            problem,
        })
    }
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
                Ok(f) => s.add(&f.header),
                Err(e) => {
                    problem = Some(e);
                    break;
                }
            }
        }
        bytes = frames.offset() + problem_bytes(&problem);
        if s.frames == 0 {
            return Err(problem.unwrap_or(VdifError::Empty {
                path: path.to_path_buf(),
            }));
        }
    } else {
        let file = VdifFile::open(path)?;
        for f in file.frames() {
            match f {
                Ok(f) => s.add(&f.header),
                Err(e) => {
                    problem = Some(e);
                    break;
                }
            }
        }
        bytes = file.len();
        if s.frames == 0 {
            return Err(problem.expect("a non-empty file yields a frame or an error"));
        }
    }
    s.finish(path, bytes, sample_rate_hz, problem)
}

fn problem_bytes(p: &Option<VdifError>) -> u64 {
    match p {
        Some(VdifError::Truncated { have, .. }) => *have,
        _ => 0,
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
