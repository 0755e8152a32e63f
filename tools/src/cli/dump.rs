//! `emcorr dump`: decoded samples of one thread and channel, one per line.

use std::io::{BufWriter, ErrorKind, Write};
use std::path::PathBuf;

use formats::vdif::open_source;

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct DumpArgs {
    /// VDIF file (`-` reads standard input; a FIFO is read as a stream).
    pub file: PathBuf,
    /// Thread ID (default: the lowest in the file).
    #[arg(long, value_name = "T")]
    pub thread: Option<u16>,
    /// Channel within the thread.
    #[arg(long, value_name = "C", default_value_t = 0)]
    pub channel: usize,
    /// Samples to skip from the first frame of the recording.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip: u64,
    /// Samples to print (default: one frame's worth).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Sample rate in Hz (default: inferred from frame numbers).
    #[arg(long, value_name = "HZ")]
    pub sample_rate: Option<f64>,
}

/// Read-ahead for streams: plenty for sequential dumping.
const READAHEAD_BYTES: usize = 64 << 20;
const BLOCK: usize = 1 << 16;

/// Prints `value` (real) or `re im` (complex) per sample, as f32 shortest
/// round-trip decimals; `nan` (or `nan nan`) where the sample is not valid
/// (invalid or missing frame). Stops at the end of the recording.
pub fn run(args: DumpArgs) -> Result<(), Failure> {
    let mut src = open_source(
        std::slice::from_ref(&args.file),
        args.sample_rate,
        READAHEAD_BYTES,
    )?;
    let warned = src.warnings().len();
    for w in src.warnings() {
        eprintln!("emcorr: warning: {w}");
    }
    let info = src.info().clone();
    let thread = args.thread.unwrap_or(info.threads[0]);
    let count = args.count.unwrap_or(info.samples_per_frame as u64);
    let m = if info.complex { 2 } else { 1 };
    let mut first = src.first_sample() + args.skip as i64;
    let mut left = count;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut values = vec![0f32; BLOCK * m];
    let mut valid = vec![false; BLOCK];
    let io = |e: std::io::Error| Failure::Io(format!("<stdout>: write failed: {e}"));
    while left > 0 {
        if let Some(end) = src.end_sample() {
            if first >= end {
                break;
            }
            left = left.min((end - first) as u64);
        }
        let n = (left as usize).min(BLOCK);
        src.read(
            thread,
            args.channel,
            first,
            &mut values[..n * m],
            &mut valid[..n],
        )?;
        // A stream learns where it ends only when it gets there.
        let n = match src.end_sample() {
            Some(end) => n.min((end - first).max(0) as usize),
            None => n,
        };
        let mut text = String::with_capacity(n * 12);
        for (s, &ok) in valid[..n].iter().enumerate() {
            match (ok, m) {
                (true, 1) => text += &format!("{}\n", values[s]),
                (true, _) => text += &format!("{} {}\n", values[2 * s], values[2 * s + 1]),
                (false, 1) => text += "nan\n",
                (false, _) => text += "nan nan\n",
            }
        }
        match out.write_all(text.as_bytes()) {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
            r => r.map_err(io)?,
        }
        if n == 0 {
            break;
        }
        first += n as i64;
        left -= n as u64;
        src.discard_before(first);
    }
    // Problems met while streaming (e.g. a truncated last frame).
    for w in src.warnings().iter().skip(warned) {
        eprintln!("emcorr: warning: {w}");
    }
    match out.flush() {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(io),
    }
}
