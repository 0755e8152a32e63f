//! From signals to recordings: frames of codes per VDIF thread, faults,
//! and the outputs (files or named pipes), one writer thread per station.

use super::faults::{Fate, FaultPlan};
use super::quantise::Quantiser;
use super::signal::{GaussianSky, StationSignal, NOISE_CHUNK};
use formats::UtcTime;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Condvar, Mutex};

/// Where frames go: the VDIF writer in the program, anything in tests.
pub trait FrameSink {
    /// `thread`'s next frame from codes ordered as stored (per instant:
    /// channel 0 first; complex: I then Q), with the invalid bit if asked.
    fn frame(&mut self, thread: u16, codes: &[u8], invalid: bool) -> io::Result<()>;
    /// Leave out `thread`'s next frame.
    fn skip(&mut self, thread: u16) -> io::Result<()>;
    /// Pass buffered bytes on.
    fn flush(&mut self) -> io::Result<()>;
}

/// The frame layout of one station's recording.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameLayout {
    pub sample_rate_hz: f64,
    pub samples_per_frame: usize,
    pub frames_per_second: u64,
    /// VDIF threads (ascending) and, per thread, the subband of each channel.
    pub threads: Vec<(u16, Vec<usize>)>,
    /// Values per sample: 1 real, 2 complex.
    pub values_per_sample: usize,
    pub bits: u32,
}

impl FrameLayout {
    /// Choose samples per frame: the largest payload of at most 8000 bytes
    /// (the common size) that is a multiple of 8 bytes (VDIF §4) and divides
    /// the second into whole frames.
    pub fn new(
        sample_rate_hz: f64,
        bits: u32,
        values_per_sample: usize,
        threads: Vec<(u16, Vec<usize>)>,
    ) -> Result<FrameLayout, String> {
        if sample_rate_hz.fract() != 0.0 || sample_rate_hz < 1.0 {
            return Err(format!(
                "sample rate {sample_rate_hz} Hz is not a whole number of samples per second"
            ));
        }
        let fs = sample_rate_hz as u64;
        let channels = threads[0].1.len();
        let bits_per_sample = bits as usize * channels * values_per_sample;
        let max = (8000 * 8 / bits_per_sample).max(1) as u64;
        let spf = (1..=max)
            .rev()
            .find(|&n| fs.is_multiple_of(n) && (n as usize * bits_per_sample).is_multiple_of(64))
            .ok_or_else(|| {
                format!("no VDIF frame size fits {fs} samples per second of {bits_per_sample}-bit samples")
            })?;
        Ok(FrameLayout {
            sample_rate_hz,
            samples_per_frame: spf as usize,
            frames_per_second: fs / spf,
            threads,
            values_per_sample,
            bits,
        })
    }

    /// Bytes of one frame (32-byte header + payload).
    pub fn frame_bytes(&self) -> usize {
        32 + self.samples_per_frame
            * self.threads[0].1.len()
            * self.values_per_sample
            * self.bits as usize
            / 8
    }

    /// The frame boundary at or before `t`.
    pub fn frame_floor(&self, t: UtcTime) -> UtcTime {
        let k = (t.frac() * self.frames_per_second as f64).floor();
        UtcTime::new(t.sec(), k / self.frames_per_second as f64)
    }
}

/// Keeps the station writers together: a batch of any station starts only
/// when every station has written up to `window` before the batch's start
/// (in nanoseconds of recording since its first sample).
///
/// Every recording starts one frame before the wavefront of the job start
/// reaches its station, so the same time into every recording is the same
/// geocentric time (within a frame), even though the lunar station's
/// recording is ~1.3 s of station time away from the Earth stations'. Moving
/// together in geocentric time is what a correlator reading all the FIFOs
/// needs, keeps memory bounded, and lets the stations share sky blocks.
/// (Time, not batch counts: stations with different sample rates have
/// batches of different lengths.)
pub struct Pacer {
    done: Mutex<Vec<u64>>,
    cv: Condvar,
    window: u64,
}

impl Pacer {
    /// `window`: nanoseconds a station may run ahead of the slowest.
    pub fn new(stations: usize, window: u64) -> Self {
        Pacer {
            done: Mutex::new(vec![0; stations]),
            cv: Condvar::new(),
            window,
        }
    }

    /// Wait until a batch starting at `from` ns may start.
    pub fn wait(&self, from: u64) {
        let mut g = self.done.lock().unwrap_or_else(|e| e.into_inner());
        while g
            .iter()
            .min()
            .copied()
            .unwrap_or(u64::MAX)
            .saturating_add(self.window)
            < from
        {
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Station `s` has written `upto` ns (u64::MAX: finished or failed).
    pub fn report(&self, s: usize, upto: u64) {
        let mut g = self.done.lock().unwrap_or_else(|e| e.into_inner());
        g[s] = upto;
        self.cv.notify_all();
    }
}

/// Seconds as whole nanoseconds (the pacer's unit).
pub fn nanos(seconds: f64) -> u64 {
    (seconds * 1e9).round() as u64
}

/// Nanoseconds of recording in `frames` frames.
fn frames_ns(layout: &FrameLayout, frames: u64) -> u64 {
    (frames as u128 * 1_000_000_000 / layout.frames_per_second as u128) as u64
}

/// Marks station `.1` as done with the pacer when dropped (also on panic).
pub struct Release<'a>(pub &'a Pacer, pub usize);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.report(self.1, u64::MAX);
    }
}

/// Frames per batch: about one noise chunk of samples.
pub fn batch_frames(layout: &FrameLayout) -> u64 {
    (NOISE_CHUNK as usize / layout.samples_per_frame).max(1) as u64
}

/// Seconds of recording per batch.
pub fn batch_seconds(layout: &FrameLayout) -> f64 {
    batch_frames(layout) as f64 / layout.frames_per_second as f64
}

/// Generate `frames` frames per thread for one station into `sink`.
///
/// Samples are generated in batches of about one noise chunk for every
/// subband, quantised, and interleaved into frames thread by thread; the
/// sink is flushed after every batch (a FIFO reader sees data promptly). A
/// missing frame is still generated (so faults never change other frames).
#[allow(clippy::too_many_arguments)]
pub fn write_station(
    layout: &FrameLayout,
    frames: u64,
    signals: &mut [StationSignal<GaussianSky>],
    quantiser: &Quantiser,
    faults: &FaultPlan,
    sink: &mut dyn FrameSink,
    pacer: &Pacer,
    station_index: usize,
) -> io::Result<()> {
    let spf = layout.samples_per_frame;
    let vps = layout.values_per_sample;
    let batch = batch_frames(layout);
    let mut x = vec![0.0f32; batch as usize * spf * vps];
    let mut codes: Vec<Vec<u8>> = vec![vec![0u8; x.len()]; signals.len()];
    let channels = layout.threads[0].1.len();
    let mut frame = vec![0u8; spf * channels * vps];
    for s in signals.iter_mut() {
        s.seek(0);
    }
    let mut f0 = 0;
    while f0 < frames {
        pacer.wait(frames_ns(layout, f0));
        let nf = batch.min(frames - f0);
        let len = nf as usize * spf * vps;
        for (sig, c) in signals.iter_mut().zip(codes.iter_mut()) {
            sig.fill(&mut x[..len]);
            quantiser.quantise(&x[..len], &mut c[..len]);
        }
        for f in 0..nf {
            for (ti, (thread, subbands)) in layout.threads.iter().enumerate() {
                let fate = faults.fate(ti, f0 + f);
                if fate == Fate::Missing {
                    sink.skip(*thread)?;
                    continue;
                }
                let first = f as usize * spf * vps;
                for (ch, &sb) in subbands.iter().enumerate() {
                    let src = &codes[sb][first..first + spf * vps];
                    // (Element by element: a copy_from_slice of one or two
                    // bytes per sample costs a memmove call each.)
                    if vps == 1 {
                        for (s, &v) in src.iter().enumerate() {
                            frame[s * channels + ch] = v;
                        }
                    } else {
                        for (s, v) in src.chunks_exact(2).enumerate() {
                            let o = (s * channels + ch) * 2;
                            frame[o] = v[0];
                            frame[o + 1] = v[1];
                        }
                    }
                }
                sink.frame(*thread, &frame, fate == Fate::Invalid)?;
            }
        }
        sink.flush()?;
        f0 += nf;
        pacer.report(station_index, frames_ns(layout, f0));
    }
    Ok(())
}

/// Passes at most `limit` bytes on and silently drops the rest: a recording
/// whose last frame is cut short (as when a recorder stops mid-frame).
pub struct Truncate<W: Write> {
    inner: W,
    limit: u64,
}

impl<W: Write> Truncate<W> {
    pub fn new(inner: W, limit: u64) -> Self {
        Truncate { inner, limit }
    }
}

impl<W: Write> Write for Truncate<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let keep = (buf.len() as u64).min(self.limit) as usize;
        if keep > 0 {
            self.inner.write_all(&buf[..keep])?;
            self.limit -= keep as u64;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Create a named pipe at `path` (replacing an old file there; an existing
/// pipe is used as it is).
pub fn make_fifo(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    // A FIFO already there is kept: its reader (a correlator started
    // first) may be waiting in open() on it, and a new one would leave it
    // waiting for ever.
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_fifo())
    {
        return Ok(());
    }
    if path.exists() || path.symlink_metadata().is_ok() {
        std::fs::remove_file(path)?;
    }
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o644) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A frame sink that also finishes the output at the end.
pub trait FinishingSink: FrameSink {
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// VDIF station ID: the first two characters of the name as ASCII (DiFX's
/// convention: first character in the high byte).
pub fn vdif_station_id(name: &str) -> u16 {
    let b = name.as_bytes();
    let c0 = *b.first().unwrap_or(&b' ');
    let c1 = *b.get(1).unwrap_or(&b' ');
    (u16::from(c0) << 8) | u16::from(c1)
}

/// The VDIF writer writes into a batch buffer; `flush` passes the batch on
/// to the output (file or FIFO) and flushes it, so a reader sees every batch
/// as soon as it is made.
struct VdifSink<W: Write> {
    writer: formats::vdif::VdifWriter<BatchBuffer>,
    buffer: BatchBuffer,
    out: W,
}

/// A growable byte buffer shared between the VDIF writer and the sink.
#[derive(Clone, Default)]
struct BatchBuffer(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for BatchBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn vdif_io(e: formats::vdif::VdifError) -> io::Error {
    io::Error::other(e.to_string())
}

impl<W: Write> FrameSink for VdifSink<W> {
    fn frame(&mut self, thread: u16, codes: &[u8], invalid: bool) -> io::Result<()> {
        self.writer
            .write_codes(thread, codes, invalid)
            .map_err(vdif_io)
    }
    fn skip(&mut self, thread: u16) -> io::Result<()> {
        self.writer.skip(thread, 1);
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        let bytes = std::mem::take(&mut *self.buffer.0.borrow_mut());
        self.out.write_all(&bytes)?;
        self.out.flush()
    }
}

impl<W: Write> FinishingSink for VdifSink<W> {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush()
    }
}

/// The VDIF writer for one station's recording into `out`.
pub fn vdif_sink<W: Write + 'static>(
    out: W,
    layout: &FrameLayout,
    name: &str,
    first: UtcTime,
) -> Result<Box<dyn FinishingSink>, formats::vdif::VdifError> {
    let mut cfg = formats::vdif::WriterConfig::new(
        vdif_station_id(name),
        layout.bits as u8,
        layout.values_per_sample == 2,
        layout.samples_per_frame,
        layout.sample_rate_hz,
        first,
    );
    cfg.channels = layout.threads[0].1.len();
    let buffer = BatchBuffer::default();
    let writer = formats::vdif::VdifWriter::new(buffer.clone(), cfg)?;
    Ok(Box::new(VdifSink {
        writer,
        buffer,
        out,
    }))
}
