//! A station's recording as samples at known times: the [`SampleSource`]
//! trait the correlator reads through, over memory-mapped files
//! ([`FileSource`], one or several files in time order) or a stream
//! ([`StreamSource`], pipe/FIFO/stdin, bounded read-ahead on its own thread).
//!
//! Time: sample index n of any thread is at `origin + n / sample_rate_hz`,
//! with `origin` a whole UTC second. A frame at (UTC second S, frame number F)
//! holds samples n = ((S − origin) × frames_per_second + F) × samples_per_frame
//! + i, i in 0..samples_per_frame: every position is an exact integer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crossbeam::channel::{bounded, Receiver, Sender};

use super::decode::{Decoder, Levels};
use super::error::VdifError;
use super::header::VdifHeader;
use super::reader::{FrameRef, VdifFile};
use super::resync::{classify, Expect, Step};
use super::stream::{FrameReader, OwnedFrame};
use super::summary::{is_stream, resolve_sample_rate};
use crate::cancel::{self, Cancel, Woken};
use crate::time::UtcTime;

/// What a station's recording holds.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamInfo {
    /// Raw header field.
    pub station_id: u16,
    pub threads: Vec<u16>,
    /// Per thread.
    pub channels: usize,
    pub bits: u8,
    pub complex: bool,
    pub frame_bytes: usize,
    /// Per channel.
    pub samples_per_frame: usize,
    pub sample_rate_hz: f64,
    pub sample_rate_inferred: bool,
}

/// A station's recording as samples at known times: implemented by the mmap
/// reader (one or several files in time order) and by the streaming reader
/// (pipe/FIFO/stdin).
pub trait SampleSource: Send {
    fn info(&self) -> &StreamInfo;
    /// Whole UTC second that sample index 0 belongs to: sample n of any thread
    /// is at origin + n / sample_rate_hz exactly.
    fn origin(&self) -> UtcTime;
    /// Decode samples [first, first + n) of (thread, channel). Real:
    /// out.len() == n; complex: out.len() == 2n as I,Q pairs. `valid[i]` = false
    /// where sample i lies in an invalid, missing, wrong-size or corrupt frame,
    /// or outside the recording (out is 0 there). `first` may be negative or
    /// past the end. A streaming source keeps a bounded window of frames and
    /// may return an error for data already discarded; a file source reads
    /// anywhere.
    fn read(
        &mut self,
        thread: u16,
        channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError>;
    /// Hint: samples before `first` will not be asked for again (streams free
    /// memory).
    fn discard_before(&mut self, first: i64);
    /// Sample index of the recording's first frame (earliest thread).
    fn first_sample(&self) -> i64 {
        0
    }
    /// Whether reads may jump back and forth in time (a file), rather than
    /// move forward only (a stream that lets go of what it has passed).
    fn random_access(&self) -> bool {
        false
    }
    /// Sample index just past the recording's last frame, once known (a file
    /// source knows it at once; a stream when it has reached its end).
    fn end_sample(&self) -> Option<i64> {
        None
    }
    /// Things the reader noticed but could work around (a truncated final
    /// frame, an inferred sample rate that is only a lower bound), one line
    /// each.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// How to open a station's recording.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// From the job or command line; `None` infers it from the largest frame
    /// number seen within one second (`sample_rate_inferred`), which means
    /// reading up to a second of a stream before it is open.
    pub sample_rate_hz: Option<f64>,
    /// The VDIF threads that will be read (a job's subbands name them).
    /// Given, a stream is open after its first frame; `None` learns them
    /// from the frames (files: the first frames; streams: up to a few
    /// hundred frames of read-ahead).
    pub threads: Option<Vec<u16>>,
    /// Bytes a stream reads ahead (bounded channel of frames).
    pub readahead_bytes: usize,
    /// Stops waits on a stream (a FIFO without writer, a stalled pipe).
    pub cancel: Cancel,
}

impl OpenOptions {
    pub fn new(sample_rate_hz: Option<f64>, readahead_bytes: usize) -> Self {
        OpenOptions {
            sample_rate_hz,
            readahead_bytes,
            ..OpenOptions::default()
        }
    }
}

/// Open a station's recording. `paths` in time order (one or several files of
/// one station); `-` is stdin. Regular files are memory-mapped; if any path is
/// a FIFO, pipe or stdin, all are read in turn as one stream by a background
/// thread that reads ahead up to `readahead_bytes` into a bounded channel.
///
/// `sample_rate_hz`: from the job or command line; `None` infers it from the
/// largest frame number seen within one second (`sample_rate_inferred`).
/// To open several stations' streams, use [`open_sources`]: opened one at a
/// time, a stream whose writer waits for another stream's reader would
/// never start.
pub fn open_source(
    paths: &[PathBuf],
    sample_rate_hz: Option<f64>,
    readahead_bytes: usize,
) -> Result<Box<dyn SampleSource>, VdifError> {
    let opts = OpenOptions::new(sample_rate_hz, readahead_bytes);
    let mut v = open_sources(&[(paths.to_vec(), opts)]).map_err(|(_, e)| e)?;
    v.pop()
        .ok_or_else(|| VdifError::invalid("open_source", "no VDIF file given"))
}

/// Open several stations' recordings (paths, options), in the order given,
/// so that no writer can wait for a reader that waits for it: every stream
/// is started first — its own thread opens it (a FIFO's `open` blocks until
/// its writer opens the other end) and reads ahead from then on — and only
/// then is any of them waited for, each only for what its [`OpenOptions`]
/// leave unknown (with the sample rate and threads given: its first frame).
///
/// Writers that feed N FIFOs in lock-step (none more than some frames ahead
/// of the slowest) therefore never block on this reader for longer than the
/// read-ahead takes to drain: every FIFO has a reader from the start, and
/// the reader's wait for one stream's first frame needs only the frames its
/// writer sends before any other.
///
/// On failure: the index of the recording and its error.
pub fn open_sources(
    recordings: &[(Vec<PathBuf>, OpenOptions)],
) -> Result<Vec<Box<dyn SampleSource>>, (usize, VdifError)> {
    enum Opening {
        Stream(PendingStream),
        File,
    }
    let mut opening = Vec::with_capacity(recordings.len());
    for (i, (paths, opts)) in recordings.iter().enumerate() {
        if paths.is_empty() {
            return Err((i, VdifError::invalid("open_source", "no VDIF file given")));
        }
        if paths.iter().any(|p| is_stream(p)) {
            opening.push(Opening::Stream(
                StreamSource::start(paths, opts.clone()).map_err(|e| (i, e))?,
            ));
        } else {
            opening.push(Opening::File);
        }
    }
    let mut out: Vec<Box<dyn SampleSource>> = Vec::with_capacity(recordings.len());
    for (i, (o, (paths, opts))) in opening.into_iter().zip(recordings).enumerate() {
        out.push(match o {
            Opening::Stream(p) => Box::new(p.ready().map_err(|e| (i, e))?),
            Opening::File => {
                Box::new(FileSource::open(paths, opts.sample_rate_hz).map_err(|e| (i, e))?)
            }
        });
    }
    Ok(out)
}

/// Where frame positions are counted from.
#[derive(Clone, Copy, Debug)]
struct Timeline {
    origin_sec: i64,
    frames_per_second: i64,
}

impl Timeline {
    /// Frame index since origin of a frame.
    fn k(&self, h: &VdifHeader) -> i64 {
        (h.second() - self.origin_sec) * self.frames_per_second + i64::from(h.frame_number)
    }
}

/// Is `h` a frame whose samples may be used (valid bit clear, the
/// recording's station, size and sample format)?
fn usable(h: &VdifHeader, info: &StreamInfo) -> bool {
    !h.invalid
        && h.station_id == info.station_id
        && h.frame_bytes() == info.frame_bytes
        && h.bits_per_sample == info.bits
        && h.complex == info.complex
        && h.channels() == info.channels
}

fn check_request(
    info: &StreamInfo,
    context: &Path,
    thread: u16,
    channel: usize,
    out: &[f32],
    valid: &[bool],
) -> Result<usize, VdifError> {
    let bad = |what: String| VdifError::invalid(super::error::show(context), what);
    if channel >= info.channels {
        return Err(bad(format!(
            "channel {channel} does not exist ({} channels)",
            info.channels
        )));
    }
    if !info.threads.contains(&thread) {
        return Err(bad(format!(
            "thread {thread} is not in the recording (threads {:?})",
            info.threads
        )));
    }
    let m = if info.complex { 2 } else { 1 };
    if out.len() != valid.len() * m {
        return Err(bad(format!(
            "output of {} values for {} samples ({} expected)",
            out.len(),
            valid.len(),
            valid.len() * m
        )));
    }
    Ok(m)
}

/// Decode frame by frame: `payload(k)` gives frame k's payload if usable.
fn fill<'a>(
    info: &StreamInfo,
    dec: &Decoder,
    channel: usize,
    first: i64,
    out: &mut [f32],
    valid: &mut [bool],
    payload: impl Fn(i64) -> Option<&'a [u8]>,
) {
    let m = if info.complex { 2 } else { 1 };
    let spf = info.samples_per_frame as i64;
    let n = valid.len();
    let mut s = 0usize;
    while s < n {
        let idx = first + s as i64;
        let k = idx.div_euclid(spf);
        let i = idx.rem_euclid(spf) as usize;
        let take = (info.samples_per_frame - i).min(n - s);
        let dst = &mut out[s * m..(s + take) * m];
        match payload(k) {
            Some(p) => {
                dec.decode_channel(p, channel, i, dst);
                valid[s..s + take].fill(true);
            }
            None => {
                dst.fill(0.0);
                valid[s..s + take].fill(false);
            }
        }
        s += take;
    }
}

/// Frame-index range [lo, hi] covering samples [first, first + n).
fn frame_range(spf: usize, first: i64, n: usize) -> (i64, i64) {
    let spf = spf as i64;
    (
        first.div_euclid(spf),
        first.saturating_add(n as i64 - 1).div_euclid(spf),
    )
}

fn info_from(h: &VdifHeader, threads: Vec<u16>, rate: f64, inferred: bool) -> StreamInfo {
    StreamInfo {
        station_id: h.station_id,
        threads,
        channels: h.channels(),
        bits: h.bits_per_sample,
        complex: h.complex,
        frame_bytes: h.frame_bytes(),
        samples_per_frame: h.samples_per_frame(),
        sample_rate_hz: rate,
        sample_rate_inferred: inferred,
    }
}

/// Refuse a file whose format differs from the recording's first frame.
fn check_same(
    path: &Path,
    offset: u64,
    first: &VdifHeader,
    h: &VdifHeader,
) -> Result<(), VdifError> {
    let what = if h.station_id != first.station_id {
        format!(
            "station ID {} differs from {} in the first file",
            h.station_id, first.station_id
        )
    } else if h.sample_format() != first.sample_format() {
        format!(
            "sample format {:?} differs from {:?} in the first file",
            h.sample_format(),
            first.sample_format()
        )
    } else if h.frame_bytes() != first.frame_bytes() {
        format!(
            "frame size {} bytes differs from {} in the first file",
            h.frame_bytes(),
            first.frame_bytes()
        )
    } else {
        return Ok(());
    };
    Err(VdifError::Inconsistent {
        path: path.to_path_buf(),
        offset,
        what,
    })
}

// ---------------------------------------------------------------------------
// Files

/// One memory-mapped file of a recording.
struct Part {
    file: VdifFile,
    /// Offset of the first frame (0 unless the file starts damaged).
    base: usize,
    /// Complete frame slots after `base` ((file length − base) / frame size).
    slots: usize,
    /// Frame order of the first frames: thread and frame index. Frames are
    /// expected on this grid: slot = (k − k0) × threads + position.
    grid: Vec<(u16, i64)>,
    first_k: i64,
    last_k: i64,
    /// Built (by reading every header once) only if the grid does not hold.
    index: Option<HashMap<(u16, i64), Option<usize>>>,
}

impl Part {
    /// The (thread, frame index) the grid expects in slot `slot`.
    fn grid_frame(&self, slot: usize) -> Option<(u16, i64)> {
        let n = self.grid.len();
        let (thread, k0) = *self.grid.get(slot % n.max(1))?;
        Some((thread, k0 + (slot / n) as i64))
    }

    /// The byte offset the grid expects for (thread, k), if inside the file.
    fn grid_offset(&self, thread: u16, k: i64, frame_bytes: usize) -> Option<usize> {
        let pos = self.grid.iter().position(|g| g.0 == thread)?;
        let k0 = self.grid[pos].1;
        if k < k0 {
            return None;
        }
        let slot = usize::try_from(k - k0)
            .ok()?
            .checked_mul(self.grid.len())?
            .checked_add(pos)?;
        (slot < self.slots).then(|| self.base + slot * frame_bytes)
    }
}

/// A recording in one or more regular files, memory-mapped. Seeks by
/// computing a frame's offset from its time (fixed frame size, regular thread
/// interleave) and checking the header found there; only if that check fails
/// (missing or odd frames) does it index the file's headers once.
pub struct FileSource {
    info: StreamInfo,
    /// The recording's first frame header (its format is the reference).
    h0: VdifHeader,
    tl: Timeline,
    decoder: Decoder,
    parts: Vec<Part>,
    warnings: Vec<String>,
    first_sample: i64,
}

impl FileSource {
    /// Files in time order (they are sorted by their first frame anyway).
    pub fn open(paths: &[PathBuf], sample_rate_hz: Option<f64>) -> Result<FileSource, VdifError> {
        Self::open_with_levels(paths, sample_rate_hz, &Levels::standard())
    }

    /// As [`FileSource::open`], decoding with `levels`.
    pub fn open_with_levels(
        paths: &[PathBuf],
        sample_rate_hz: Option<f64>,
        levels: &Levels,
    ) -> Result<FileSource, VdifError> {
        let mut warnings = Vec::new();
        let mut files = Vec::new();
        let mut first_header: Option<VdifHeader> = None;
        let mut max_fn = 0u32;
        let mut boundary_seen = false;
        let mut late_threads: Vec<u16> = Vec::new();
        for path in paths {
            let file = VdifFile::open(path)?;
            let f0 = file.first_frame()?;
            let h0 = f0.header;
            let base = f0.offset as usize;
            if base > 0 {
                // The damaged start is reported again (with the rest) if the
                // file gets indexed; say it once here in any case.
                if let Some(Err(e)) = file.frames().next() {
                    warnings.push(e.to_string() + UNUSED_NOTE);
                }
            }
            if let Some(first) = &first_header {
                check_same(path, f0.offset, first, &h0)?;
            } else {
                first_header = Some(h0);
            }
            // Threads in the order of the first frames, until one repeats;
            // meanwhile track frame numbers of the first second for the rate.
            let mut grid: Vec<(u16, (i64, u32))> = Vec::new();
            let mut grid_done = false;
            let mut walked = 0usize;
            for f in file.frames() {
                let f = match f {
                    Ok(f) => f,
                    // Damage: the grid (a run of regular frames) ends there,
                    // but the walk goes on to learn threads and the rate.
                    Err(VdifError::Corrupted { .. }) => {
                        grid_done |= !grid.is_empty();
                        continue;
                    }
                    Err(_) => break,
                };
                let h = f.header;
                walked += 1;
                if !grid_done {
                    if grid.iter().any(|g| g.0 == h.thread_id) || grid.len() >= 1024 {
                        grid_done = true;
                    } else {
                        grid.push((h.thread_id, (h.second(), h.frame_number)));
                    }
                }
                // Threads that start a little late are still part of it.
                if h.station_id == h0.station_id
                    && h.frame_bytes() == h0.frame_bytes()
                    && !late_threads.contains(&h.thread_id)
                {
                    late_threads.push(h.thread_id);
                }
                if h.second() != h0.second() {
                    boundary_seen = true;
                }
                if h.second() == h0.second() {
                    max_fn = max_fn.max(h.frame_number);
                }
                if grid_done
                    && (boundary_seen || sample_rate_hz.is_some())
                    && walked >= THREAD_PEEK_FRAMES
                {
                    break;
                }
            }
            let slots = (file.len() as usize - base) / h0.frame_bytes();
            files.push((file, grid, slots, base));
        }
        let h0 = first_header.expect("at least one path");
        let spf = h0.samples_per_frame();
        let (rate, fps, inferred) = resolve_sample_rate(
            &paths[0],
            sample_rate_hz,
            spf,
            max_fn,
            boundary_seen,
            &mut warnings,
        )?;
        let origin_sec = files
            .iter()
            .flat_map(|(_, g, _, _)| g.iter().map(|x| x.1 .0))
            .min()
            .unwrap_or(h0.second());
        let tl = Timeline {
            origin_sec,
            frames_per_second: fps as i64,
        };
        let mut threads: Vec<u16> = Vec::new();
        let mut parts = Vec::new();
        for (file, grid, slots, base) in files {
            let grid: Vec<(u16, i64)> = grid
                .into_iter()
                .map(|(t, (s, f))| (t, (s - origin_sec) * tl.frames_per_second + i64::from(f)))
                .collect();
            for g in &grid {
                if !threads.contains(&g.0) {
                    threads.push(g.0);
                }
            }
            let first_k = grid.iter().map(|g| g.1).min().unwrap_or(0);
            let mut part = Part {
                file,
                base,
                slots,
                grid,
                first_k,
                last_k: first_k,
                index: None,
            };
            // The last complete slot tells where the file ends in time. If it
            // does not hold the frame the grid predicts there (frames missing,
            // damage that shifted them, a clock jump, a truncated tail of
            // zeros) the grid does not hold: index the file.
            let last = slots.saturating_sub(1);
            let on_grid = part.grid_frame(last).and_then(|(thread, k)| {
                let f = part.file.frame_at(base + last * h0.frame_bytes()).ok()?;
                let h = f.header;
                (h.thread_id == thread
                    && tl.k(&h) == k
                    && h.frame_bytes() == h0.frame_bytes()
                    && h.station_id == h0.station_id)
                    .then_some(k)
            });
            match on_grid {
                Some(k) => {
                    part.last_k = k;
                    let rem = (part.file.len() as usize - base) % h0.frame_bytes();
                    if rem != 0 {
                        let e = VdifError::Truncated {
                            path: part.file.path().to_path_buf(),
                            offset: (base + slots * h0.frame_bytes()) as u64,
                            have: rem as u64,
                            need: h0.frame_bytes() as u64,
                        };
                        warnings.push(e.to_string() + TRUNCATED_NOTE);
                    }
                }
                None => {
                    build_index(&mut part, &tl, &h0, &mut warnings);
                }
            }
            parts.push(part);
        }
        for t in late_threads {
            if !threads.contains(&t) {
                threads.push(t);
            }
        }
        threads.sort_unstable();
        parts.sort_by_key(|p| p.first_k);
        for w in parts.windows(2) {
            if w[1].first_k < w[0].last_k {
                return Err(VdifError::Inconsistent {
                    path: w[1].file.path().to_path_buf(),
                    offset: 0,
                    what: format!(
                        "overlaps in time with {}",
                        super::error::show(w[0].file.path())
                    ),
                });
            }
        }
        let first_sample = parts.first().map_or(0, |p| p.first_k * spf as i64);
        let format = h0.sample_format();
        Ok(FileSource {
            info: info_from(&h0, threads, rate, inferred),
            h0,
            tl,
            decoder: Decoder::new(format, levels),
            parts,
            warnings,
            first_sample,
        })
    }

    /// Byte offset of `thread`'s frame `k` (frames since origin) in part `p`,
    /// if present and usable: computed from the grid and checked against the
    /// header found there; on a mismatch the file's headers are indexed once.
    fn locate(&mut self, p: usize, thread: u16, k: i64) -> Option<usize> {
        let info = &self.info;
        let tl = self.tl;
        let part = &mut self.parts[p];
        if k < part.first_k || k > part.last_k {
            return None;
        }
        if part.index.is_none() {
            if let Some(off) = part.grid_offset(thread, k, info.frame_bytes) {
                if let Ok(f) = part.file.frame_at(off) {
                    let h = f.header;
                    // The frame the grid predicts, and what follows it does
                    // not show it damaged (the walk's rule, see resync).
                    let expect = Expect::at_frame(&self.h0, &info.threads, &h);
                    if h.thread_id == thread
                        && tl.k(&h) == k
                        && h.frame_bytes() == info.frame_bytes
                        && matches!(
                            classify(&part.file.bytes()[off..], true, Some(&expect)),
                            Ok(Step::Frame(_))
                        )
                    {
                        return usable(&h, info).then_some(off);
                    }
                }
            }
            let mut w = Vec::new();
            let h0 = self.h0;
            build_index(part, &tl, &h0, &mut w);
            for x in w {
                if !self.warnings.contains(&x) {
                    self.warnings.push(x);
                }
            }
        }
        let part = &self.parts[p];
        part.index
            .as_ref()
            .and_then(|ix| ix.get(&(thread, k)).copied().flatten())
    }

    /// Where `thread`'s frame holding the sample at time `t` is: the file and
    /// byte offset, computed from the time (fixed frame size, regular thread
    /// interleave) and checked against the header found there. `None` if that
    /// frame is missing, invalid or outside the recording.
    pub fn locate_time(&mut self, thread: u16, t: UtcTime) -> Option<(PathBuf, u64)> {
        let dt = t.seconds_since(self.origin());
        let n = (dt * self.info.sample_rate_hz).floor() as i64;
        let k = n.div_euclid(self.info.samples_per_frame as i64);
        (0..self.parts.len()).find_map(|p| {
            self.locate(p, thread, k)
                .map(|off| (self.parts[p].file.path().to_path_buf(), off as u64))
        })
    }

    /// Has any file needed its headers indexed (its frames were not on the
    /// computed grid)?
    pub fn indexed_files(&self) -> usize {
        self.parts.iter().filter(|p| p.index.is_some()).count()
    }
}

/// Frames read at open to learn the threads (one that starts a little after
/// the others is still found).
const THREAD_PEEK_FRAMES: usize = 256;
const TRUNCATED_NOTE: &str = " (ignored; the frames before it are used)";
const UNUSED_NOTE: &str = " (no sample there is used)";

/// Read every header of a part once: (thread, k) → offset of usable frames.
///
/// Damaged ranges are skipped (and reported); frames are placed by their
/// time wherever they are in the file. When two frames claim the same thread
/// and time (a duplicate, a clock that went back), the one at the offset the
/// regular grid predicts is used, else the first in the file: the same
/// answer the grid lookup of [`FileSource::locate`] gives, so what is read
/// does not depend on whether the index was built yet.
fn build_index(part: &mut Part, tl: &Timeline, h0: &VdifHeader, warnings: &mut Vec<String>) {
    let mut ix: HashMap<(u16, i64), Option<usize>> = HashMap::new();
    let mut last_k = part.first_k;
    let mut repeats = 0u64;
    let note = |w: String, warnings: &mut Vec<String>| {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    };
    for f in part.file.frames() {
        match f {
            Ok(FrameRef {
                offset, header: h, ..
            }) => {
                let k = tl.k(&h);
                let ok = !h.invalid
                    && h.frame_bytes() == h0.frame_bytes()
                    && h.sample_format() == h0.sample_format()
                    && h.station_id == h0.station_id;
                if ok {
                    last_k = last_k.max(k);
                }
                let entry = (ok).then_some(offset as usize);
                let on_grid =
                    part.grid_offset(h.thread_id, k, h0.frame_bytes()) == Some(offset as usize);
                match ix.entry((h.thread_id, k)) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(entry);
                    }
                    std::collections::hash_map::Entry::Occupied(mut o) => {
                        repeats += 1;
                        if on_grid {
                            o.insert(entry);
                        }
                    }
                }
            }
            Err(e @ VdifError::Corrupted { .. }) => note(e.to_string() + UNUSED_NOTE, warnings),
            Err(e) => {
                let w = if matches!(e, VdifError::Truncated { .. }) {
                    e.to_string() + TRUNCATED_NOTE
                } else {
                    e.to_string() + " (frames from here on are not used)"
                };
                note(w, warnings);
                break;
            }
        }
    }
    if repeats > 0 {
        note(
            format!(
                "{}: {repeats} frame(s) repeat the thread and time of another (duplicates or a clock that went back); the frame on the file's regular layout, else the first, is used",
                super::error::show(part.file.path())
            ),
            warnings,
        );
    }
    part.last_k = last_k;
    part.index = Some(ix);
}

impl SampleSource for FileSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn origin(&self) -> UtcTime {
        UtcTime::new(self.tl.origin_sec, 0.0)
    }

    fn read(
        &mut self,
        thread: u16,
        channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError> {
        let context = self.parts[0].file.path().to_path_buf();
        check_request(&self.info, &context, thread, channel, out, valid)?;
        if valid.is_empty() {
            return Ok(());
        }
        let (lo, hi) = frame_range(self.info.samples_per_frame, first, valid.len());
        let mut loc = Vec::with_capacity((hi - lo + 1) as usize);
        for k in lo..=hi {
            let mut found = None;
            for p in 0..self.parts.len() {
                if let Some(off) = self.locate(p, thread, k) {
                    found = Some((p, off));
                    break;
                }
            }
            loc.push(found);
        }
        // Each located frame's payload. Its header was checked when located,
        // but the mapping shows the file as it is now: one rewritten in
        // between is an I/O failure, not a reason to decode other bytes.
        let fb = self.info.frame_bytes;
        let mut payloads: Vec<Option<&[u8]>> = Vec::with_capacity(loc.len());
        for l in &loc {
            payloads.push(match *l {
                None => None,
                Some((p, off)) => {
                    let file = &self.parts[p].file;
                    let bytes = file.bytes().get(off..off + fb);
                    match bytes.and_then(|b| VdifHeader::parse(b).map(|h| (b, h))) {
                        Some((b, h)) if h.frame_bytes() == fb => Some(&b[h.header_bytes()..]),
                        _ => {
                            return Err(VdifError::Io {
                                path: file.path().to_path_buf(),
                                offset: off as u64,
                                source: std::io::Error::other(
                                    "the frame header changed while being read (file rewritten?)",
                                ),
                            })
                        }
                    }
                }
            });
        }
        fill(&self.info, &self.decoder, channel, first, out, valid, |k| {
            payloads[(k - lo) as usize]
        });
        Ok(())
    }

    fn discard_before(&mut self, _first: i64) {}

    fn random_access(&self) -> bool {
        true
    }

    fn first_sample(&self) -> i64 {
        self.first_sample
    }

    fn end_sample(&self) -> Option<i64> {
        let last = self.parts.iter().map(|p| p.last_k).max()?;
        Some((last + 1) * self.info.samples_per_frame as i64)
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

// ---------------------------------------------------------------------------
// Streams

type FrameMsg = Result<OwnedFrame, VdifError>;

/// What the read-ahead thread sends once it has the stream's first frame:
/// the damage it skipped before it, the frame, and the channel the rest
/// arrives on (sized in frames, which needs the frame size).
type Hello = Result<(Vec<String>, OwnedFrame, Receiver<FrameMsg>), VdifError>;

/// A recording read from a pipe, FIFO or stdin (several in turn, in time
/// order). A background thread opens and reads it ahead into a bounded
/// channel; the source keeps frames from the last
/// [`SampleSource::discard_before`] on. Every wait for the thread gives up
/// when the [`OpenOptions::cancel`] is set ([`VdifError::Interrupted`]).
pub struct StreamSource {
    path: PathBuf,
    info: StreamInfo,
    tl: Timeline,
    decoder: Decoder,
    rx: Receiver<FrameMsg>,
    cancel: Cancel,
    window: HashMap<(u16, i64), Vec<u8>>,
    newest_k: i64,
    floor_sample: i64,
    eof: bool,
    first_sample: i64,
    warnings: Vec<String>,
    /// Threads a frame was seen of (to report the expected ones that never came).
    seen: Vec<u16>,
    /// Frames dropped because their thread and time were already held.
    duplicates: u64,
    /// Frames dropped because their time was already let go of.
    late: u64,
}

/// A stream whose read-ahead thread is running (opening it, then reading);
/// [`PendingStream::ready`] waits for what is needed to know its format.
pub struct PendingStream {
    path: PathBuf,
    opts: OpenOptions,
    hello: Receiver<Hello>,
}

/// Does this reader result end the stream? (Damage is skipped over.)
fn is_fatal(f: &FrameMsg) -> bool {
    matches!(f, Err(e) if !matches!(e, VdifError::Corrupted { .. }))
}

fn open_read(path: &Path) -> Result<Box<dyn std::io::Read + Send>, VdifError> {
    if path.as_os_str() == "-" {
        Ok(Box::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(path).map_err(|source| VdifError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Box::new(f))
    }
}

/// The read-ahead thread: open each path in turn (a FIFO's open waits for
/// its writer), read its frames, and send them on. Ends when the streams
/// end, at a fatal error, or when the receiving side is dropped.
fn read_ahead(paths: Vec<PathBuf>, readahead_bytes: usize, hello: Sender<Hello>) {
    let mut pre: Vec<String> = Vec::new();
    let mut tx: Option<Sender<FrameMsg>> = None;
    let mut h0: Option<VdifHeader> = None;
    for (i, path) in paths.iter().enumerate() {
        let r = match open_read(path) {
            Ok(r) => r,
            Err(e) => {
                match &tx {
                    Some(tx) => drop(tx.send(Err(e))),
                    None => drop(hello.send(Err(e))),
                }
                return;
            }
        };
        for f in FrameReader::new(path, r) {
            let stop = is_fatal(&f);
            if let (Ok(fr), Some(h0)) = (&f, &h0) {
                if i > 0 {
                    if let Err(e) = check_same(path, fr.offset, h0, &fr.header) {
                        if let Some(tx) = &tx {
                            let _ = tx.send(Err(e));
                        }
                        return;
                    }
                }
            }
            let Some(tx) = &tx else {
                // Before the first frame: damage is noted, anything else ends it.
                match f {
                    Ok(f0) => {
                        h0 = Some(f0.header);
                        let capacity = (readahead_bytes / f0.header.frame_bytes()).max(2);
                        let (t, rx) = bounded::<FrameMsg>(capacity);
                        if hello.send(Ok((std::mem::take(&mut pre), f0, rx))).is_err() {
                            return;
                        }
                        tx = Some(t);
                    }
                    Err(e @ VdifError::Corrupted { .. }) => pre.push(e.to_string() + UNUSED_NOTE),
                    Err(e) => {
                        let _ = hello.send(Err(e));
                        return;
                    }
                }
                continue;
            };
            // Each send blocks only while the channel is full; a dropped
            // receiver ends the thread.
            if tx.send(f).is_err() || stop {
                return;
            }
        }
        if tx.is_none() {
            // The first stream ended without a frame.
            let _ = hello.send(Err(VdifError::Empty { path: path.clone() }));
            return;
        }
    }
}

impl StreamSource {
    /// Open and probe a stream: [`StreamSource::start`] then
    /// [`PendingStream::ready`].
    pub fn open(
        paths: &[PathBuf],
        sample_rate_hz: Option<f64>,
        readahead_bytes: usize,
    ) -> Result<StreamSource, VdifError> {
        Self::start(paths, OpenOptions::new(sample_rate_hz, readahead_bytes))?.ready()
    }

    /// Start the read-ahead thread, which opens the stream(s) itself: this
    /// returns at once, even for a FIFO that has no writer yet.
    pub fn start(paths: &[PathBuf], opts: OpenOptions) -> Result<PendingStream, VdifError> {
        let path = paths
            .first()
            .cloned()
            .ok_or_else(|| VdifError::invalid("VDIF stream", "no stream given"))?;
        let (hello_tx, hello) = bounded::<Hello>(1);
        let list = paths.to_vec();
        let readahead = opts.readahead_bytes;
        std::thread::Builder::new()
            .name("vdif-readahead".into())
            .spawn(move || read_ahead(list, readahead, hello_tx))
            .map_err(|e| {
                VdifError::invalid("VDIF stream", format!("cannot start reader thread: {e}"))
            })?;
        Ok(PendingStream { path, opts, hello })
    }

    fn accept(&mut self, f: OwnedFrame) {
        let k = self.tl.k(&f.header);
        self.newest_k = self.newest_k.max(k);
        self.first_sample = self
            .first_sample
            .min(k * self.info.samples_per_frame as i64);
        if !self.seen.contains(&f.header.thread_id) {
            self.seen.push(f.header.thread_id);
        }
        let floor_k = self
            .floor_sample
            .div_euclid(self.info.samples_per_frame as i64);
        if k < floor_k {
            self.late += 1;
            return;
        }
        let key = (f.header.thread_id, k);
        if self.window.contains_key(&key) {
            // The first frame to claim a thread and time is kept.
            self.duplicates += 1;
            return;
        }
        if usable(&f.header, &self.info) {
            let hb = f.header.header_bytes();
            let mut bytes = f.bytes;
            bytes.drain(..hb);
            self.window.insert(key, bytes);
        }
    }

    /// The next message of the read-ahead thread; `None` once it has ended.
    fn next_msg(&self) -> Result<Option<FrameMsg>, VdifError> {
        match cancel::recv(&self.rx, &self.cancel) {
            Ok(m) => Ok(Some(m)),
            Err(Woken::Disconnected) => Ok(None),
            Err(Woken::Cancelled) => Err(VdifError::Interrupted {
                path: self.path.clone(),
            }),
        }
    }

    /// Frames held in memory now.
    pub fn window_frames(&self) -> usize {
        self.window.len()
    }
}

impl PendingStream {
    /// Wait for the stream's first frame and, only for what the options
    /// leave unknown, read on: the threads (until the first one repeats)
    /// and the sample rate (frame numbers up to a second boundary), within
    /// the read-ahead budget. Every wait gives up on cancel.
    pub fn ready(self) -> Result<StreamSource, VdifError> {
        let PendingStream { path, opts, hello } = self;
        let interrupted = || VdifError::Interrupted { path: path.clone() };
        let (mut warnings, f0, rx) = match cancel::recv(&hello, &opts.cancel) {
            Ok(h) => h?,
            Err(Woken::Cancelled) => return Err(interrupted()),
            Err(Woken::Disconnected) => {
                return Err(VdifError::invalid(
                    super::error::show(&path),
                    "the reader thread ended before the first frame",
                ))
            }
        };
        let h0 = f0.header;
        let mut pending = vec![f0];
        let mut threads = vec![h0.thread_id];
        let learn_threads = opts.threads.is_none();
        let mut threads_done = !learn_threads;
        let mut boundary_seen = false;
        let mut max_fn = h0.frame_number;
        let mut eof = false;
        let mut peeked = h0.frame_bytes();
        let wanted = |threads_done: bool, boundary_seen: bool, n: usize| {
            let rate_known = boundary_seen || opts.sample_rate_hz.is_some();
            // Learning threads: also read far enough that a thread starting
            // a little after the others is still found.
            !(threads_done && rate_known && (!learn_threads || n >= THREAD_PEEK_FRAMES))
        };
        while wanted(threads_done, boundary_seen, pending.len())
            && peeked < opts.readahead_bytes.max(1)
        {
            match cancel::recv(&rx, &opts.cancel) {
                Ok(Ok(f)) => {
                    let h = f.header;
                    if threads.contains(&h.thread_id) {
                        threads_done = true;
                    } else if h.station_id == h0.station_id && h.frame_bytes() == h0.frame_bytes() {
                        // Threads that start a little late are still part of it.
                        threads.push(h.thread_id);
                    }
                    if h.second() == h0.second() {
                        max_fn = max_fn.max(h.frame_number);
                    } else {
                        boundary_seen = true;
                    }
                    peeked += f.bytes.len();
                    pending.push(f);
                }
                Ok(Err(e @ VdifError::Corrupted { .. })) => {
                    warnings.push(e.to_string() + UNUSED_NOTE);
                }
                Ok(Err(e)) => {
                    warnings.push(e.to_string());
                    eof = true;
                    break;
                }
                Err(Woken::Disconnected) => {
                    eof = true;
                    break;
                }
                Err(Woken::Cancelled) => return Err(interrupted()),
            }
        }
        let spf = h0.samples_per_frame();
        let (rate, fps, inferred) = resolve_sample_rate(
            &path,
            opts.sample_rate_hz,
            spf,
            max_fn,
            boundary_seen,
            &mut warnings,
        )?;
        let origin_sec = pending
            .iter()
            .map(|f| f.header.second())
            .min()
            .unwrap_or(h0.second());
        let tl = Timeline {
            origin_sec,
            frames_per_second: fps as i64,
        };
        let mut threads = opts.threads.clone().unwrap_or(threads);
        threads.sort_unstable();
        threads.dedup();
        let info = info_from(&h0, threads, rate, inferred);
        let mut s = StreamSource {
            path,
            tl,
            decoder: Decoder::new(h0.sample_format(), &Levels::standard()),
            rx,
            cancel: opts.cancel,
            window: HashMap::new(),
            newest_k: i64::MIN,
            floor_sample: i64::MIN,
            eof,
            first_sample: i64::MAX,
            warnings,
            seen: Vec::new(),
            duplicates: 0,
            late: 0,
            info,
        };
        for f in pending {
            s.accept(f);
        }
        Ok(s)
    }
}

impl SampleSource for StreamSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn origin(&self) -> UtcTime {
        UtcTime::new(self.tl.origin_sec, 0.0)
    }

    fn read(
        &mut self,
        thread: u16,
        channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError> {
        check_request(&self.info, &self.path, thread, channel, out, valid)?;
        if valid.is_empty() {
            return Ok(());
        }
        let end = first + valid.len() as i64;
        if first < self.floor_sample && end > self.first_sample {
            return Err(VdifError::Discarded {
                path: self.path.clone(),
                sample: first,
                oldest: self.floor_sample,
            });
        }
        let (_, hi) = frame_range(self.info.samples_per_frame, first, valid.len());
        // Pull until a later frame has arrived (all threads of frame `hi` are
        // then in, for interleaved threads) or the stream ends.
        while !self.eof && self.newest_k <= hi {
            match self.next_msg()? {
                Some(Ok(f)) => self.accept(f),
                Some(Err(e @ VdifError::Corrupted { .. })) => {
                    self.warnings.push(e.to_string() + UNUSED_NOTE);
                }
                Some(Err(e)) => {
                    self.warnings.push(e.to_string());
                    self.eof = true;
                }
                None => self.eof = true,
            }
        }
        let window = &self.window;
        fill(&self.info, &self.decoder, channel, first, out, valid, |k| {
            window.get(&(thread, k)).map(|v| v.as_slice())
        });
        Ok(())
    }

    fn discard_before(&mut self, first: i64) {
        if first > self.floor_sample {
            self.floor_sample = first;
            let floor_k = first.div_euclid(self.info.samples_per_frame as i64);
            self.window.retain(|&(_, k), _| k >= floor_k);
        }
    }

    fn first_sample(&self) -> i64 {
        self.first_sample
    }

    fn end_sample(&self) -> Option<i64> {
        self.eof
            .then_some((self.newest_k + 1) * self.info.samples_per_frame as i64)
    }

    fn warnings(&self) -> Vec<String> {
        let mut w = self.warnings.clone();
        let name = super::error::show(&self.path);
        if self.duplicates > 0 {
            w.push(format!(
                "{name}: {} frame(s) repeat the thread and time of an earlier one (duplicates or a clock that went back) and were dropped",
                self.duplicates
            ));
        }
        // Definite only once the stream ended or a second of it went by
        // (a thread may start a little after the others).
        let spf = self.info.samples_per_frame as i64;
        let span_k = self
            .newest_k
            .saturating_sub(self.first_sample.div_euclid(spf));
        let settled = self.eof || span_k >= self.tl.frames_per_second;
        for t in self
            .info
            .threads
            .iter()
            .filter(|t| settled && !self.seen.contains(t))
        {
            w.push(format!(
                "{name}: thread {t}: no frame of it arrived (read as missing data)"
            ));
        }
        if self.late > 0 {
            w.push(format!(
                "{name}: {} frame(s) arrived after their time had been processed (out of order beyond the read-ahead window) and were dropped",
                self.late
            ));
        }
        w
    }
}
