//! The fuzzed entry points, shared by the fuzz targets (`fuzz_targets/*.rs`)
//! and by the regression tests of the main workspace
//! (`tools/tests/fuzz_regressions.rs` includes this file), so a crash input
//! replays through exactly the code the fuzzer ran.
//!
//! Each function takes arbitrary bytes and must return normally: errors are
//! fine, panics, aborts and hangs are bugs. A few `assert!`s check properties
//! that must hold for any input (the memory-mapped and streaming VDIF readers
//! agree); a failing one is a bug too.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

use formats::vdif::{
    reader::Frames, scan, Decoder, FileSource, FrameReader, Levels, SampleSource, StreamSource,
    VdifError, VdifHeader,
};

/// A scratch file for entry points that need a path (mmap, cfitsio). One per
/// thread and process; /dev/shm when there is one.
fn scratch(name: &str, data: &[u8]) -> PathBuf {
    let dir = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let p = dir.join(format!(
        "emcorr-fuzz-{}-{:?}-{name}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&p, data).expect("scratch file");
    p
}

/// A reader that hands out at most `step` bytes per call.
struct Dribble<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

type Walk = Vec<Result<(u64, VdifHeader), String>>;

fn walk_mmap(path: &Path, data: &[u8]) -> Walk {
    Frames::new(path, data)
        .map(|r| r.map(|f| (f.offset, f.header)).map_err(|e| e.to_string()))
        .collect()
}

fn walk_stream(path: &Path, r: impl Read) -> Walk {
    FrameReader::new(path, r)
        .map(|r| r.map(|f| (f.offset, f.header)).map_err(|e| e.to_string()))
        .collect()
}

/// VDIF header parsing and checking, frame walking with resynchronisation,
/// and payload decoding: every frame found is decoded, every channel.
pub fn vdif_frames(data: &[u8]) {
    if let Some(h) = VdifHeader::parse(data) {
        let _ = h.check();
        let _ = h.samples_per_frame();
        let _ = h.to_bytes();
        let _ = formats::vdif::header::is_unsupported(&h);
    }
    let path = Path::new("fuzz.vdif");
    let levels = Levels::standard();
    for f in Frames::new(path, data).flatten() {
        let h = f.header;
        if h.check().is_err() {
            continue;
        }
        let dec = Decoder::new(h.sample_format(), &levels);
        let spf = h.samples_per_frame();
        let m = h.sample_format().components();
        let mut out = vec![0f32; spf * m];
        for ch in 0..h.channels().min(64) {
            dec.decode_channel(f.payload(), ch, 0, &mut out);
            // An arbitrary start and length inside the frame as well.
            let first = (h.frame_number as usize) % spf;
            let len = spf - first;
            dec.decode_channel(f.payload(), ch, first, &mut out[..len * m]);
        }
        let mut all = vec![0f32; spf * h.sample_format().components_per_complete_sample()];
        if all.len() <= 1 << 24 {
            dec.decode_components(f.payload(), 0, &mut all);
        }
    }
}

/// The streaming reader on arbitrary bytes, read whole and in small pieces:
/// it must yield exactly what the memory-mapped reader yields.
pub fn vdif_stream(data: &[u8]) {
    let path = Path::new("fuzz.vdif");
    let mmap = walk_mmap(path, data);
    let whole = walk_stream(path, data);
    assert_eq!(mmap, whole, "stream reader differs from mmap reader");
    let step = 1 + data.first().map_or(0, |&b| b as usize % 13);
    let dribble = walk_stream(path, Dribble { data, step });
    assert_eq!(
        mmap, dribble,
        "stream reader read in {step}-byte pieces differs"
    );
}

/// Reads samples of every thread of a source around its start and end.
fn read_around(src: &mut dyn SampleSource) {
    let info = src.info().clone();
    let spf = info.samples_per_frame.clamp(1, 1 << 16) as i64;
    let m = if info.complex { 2 } else { 1 };
    let n = (3 * spf) as usize;
    let (mut out, mut valid) = (vec![0f32; n * m], vec![false; n]);
    let starts = [
        src.first_sample() - spf / 2,
        src.first_sample() + spf + 1,
        src.end_sample().unwrap_or(0) - 2 * spf,
    ];
    for &t in info.threads.iter().take(8) {
        for &first in &starts {
            let _ = src.read(t, 0, first, &mut out, &mut valid);
            let _ = src.read(t, info.channels - 1, first, &mut out, &mut valid);
        }
    }
    let _ = src.warnings();
}

/// The whole VDIF stack on a file of arbitrary bytes: `scan` (emcorr
/// inspect), the file source (mmap, grid and index) and the stream source,
/// with and without a given sample rate.
pub fn vdif_source(data: &[u8]) {
    let p = scratch("source.vdif", data);
    let _ = scan(&p, None);
    let _ = scan(&p, Some(32e6));
    for rate in [None, Some(32e6)] {
        if let Ok(mut f) = FileSource::open(std::slice::from_ref(&p), rate) {
            read_around(&mut f);
            let _ = f.locate_time(0, f.origin());
        }
        match StreamSource::open(std::slice::from_ref(&p), rate, 1 << 20) {
            Ok(mut s) => read_around(&mut s),
            Err(VdifError::Discarded { .. }) => panic!("discarded at open"),
            Err(_) => {}
        }
    }
    let _ = std::fs::remove_file(&p);
}

/// The job-file parser and validator (`emcorr correlate JOB`, `emcorr model`).
pub fn job_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = correlator::Job::from_toml_str(text, Path::new("/nonexistent/fuzz/job.toml"));
}

/// The FITS-IDI reader used by `emcorr fringe`: the whole file through
/// `read_idi`, and the row-by-row reader.
pub fn fitsidi(data: &[u8]) {
    let p = scratch("fuzz.idifits", data);
    let _ = formats::fitsidi::read_idi(&p);
    if let Ok(mut r) = formats::fitsidi::IdiReader::open(&p) {
        let n = r.n_rows();
        for i in [0, n / 2, n.saturating_sub(1), n, n + 1] {
            let _ = r.read_row(i);
        }
    }
    let _ = std::fs::remove_file(&p);
}

/// The VEX reader (`formats::vex::parse_vex`) on arbitrary text. What it
/// accepts goes through the VEX 2.0 writer: the writer's text must be read
/// back, and a model read from the writer's text must be a fixed point
/// (written and read again, it is unchanged).
pub fn vex(data: &[u8]) {
    use formats::vex::{parse_vex, write_vex2};
    let text = String::from_utf8_lossy(data);
    let Ok(v) = parse_vex(&text, "fuzz.vex") else {
        return;
    };
    let w1 = write_vex2(&v);
    let v2 =
        parse_vex(&w1, "fuzz.vex").unwrap_or_else(|e| panic!("writer output refused: {e}\n{w1}"));
    let w2 = write_vex2(&v2);
    let v3 =
        parse_vex(&w2, "fuzz.vex").unwrap_or_else(|e| panic!("writer output refused: {e}\n{w2}"));
    assert!(v3 == v2, "not a fixed point:\n{w1}\n----\n{w2}");
}
