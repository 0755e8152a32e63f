//! `emcorr inspect`: what VDIF files hold, per file and thread.

use std::path::PathBuf;

use formats::vdif::{scan, FileSummary, ThreadSummary};
use serde_json::{json, Value};

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// VDIF files (`-` reads standard input; FIFOs are read as streams).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON document (keys documented in the README) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Sample rate in Hz; without it, it is inferred from the largest frame
    /// number seen within one second.
    #[arg(long, value_name = "HZ")]
    pub sample_rate: Option<f64>,
}

pub fn run(args: InspectArgs) -> Result<(), Failure> {
    let mut first_failure: Option<Failure> = None;
    let mut docs = Vec::new();
    for path in &args.files {
        match scan(path, args.sample_rate) {
            Ok(sum) => {
                if let Some(p) = &sum.problem {
                    first_failure.get_or_insert_with(|| Failure::BadInput(p.to_string()));
                }
                if args.json {
                    docs.push(file_json(&sum));
                } else {
                    crate::failure::print_stdout(&file_text(&sum))?;
                }
            }
            Err(e) => {
                if args.json {
                    docs.push(
                        json!({ "path": path.display().to_string(), "error": e.to_string() }),
                    );
                }
                first_failure.get_or_insert_with(|| e.into());
            }
        }
    }
    if args.json {
        let doc = json!({ "files": docs });
        let text =
            serde_json::to_string_pretty(&doc).map_err(|e| Failure::Internal(e.to_string()))?;
        crate::failure::print_stdout(&(text + "\n"))?;
    }
    first_failure.map_or(Ok(()), Err)
}

/// Two ASCII characters when both bytes of the station ID are printable (high
/// byte first, as VLBI station codes are written), else none.
fn station_code(id: u16) -> Option<String> {
    let [hi, lo] = id.to_be_bytes();
    let printable = |b: u8| (0x21..0x7f).contains(&b);
    (printable(hi) && printable(lo)).then(|| String::from_utf8_lossy(&[hi, lo]).into_owned())
}

fn file_text(s: &FileSummary) -> String {
    let mut o = format!(
        "{}: {} bytes, {} frames\n",
        s.path.display(),
        s.bytes,
        s.frames
    );
    for t in &s.threads {
        o += &thread_text(t, s.sample_rate_lower_bound);
    }
    if s.corrupted_count > 0 {
        o += &format!(
            "  corrupted: {} range{}, {} bytes skipped (no sample there is used)\n",
            s.corrupted_count,
            if s.corrupted_count == 1 { "" } else { "s" },
            s.corrupted_bytes
        );
        for d in &s.corrupted {
            o += &format!("    bytes {}..{}: {}\n", d.offset, d.end, d.what);
        }
        if s.corrupted_count > s.corrupted.len() as u64 {
            o += &format!(
                "    ... {} more ranges\n",
                s.corrupted_count - s.corrupted.len() as u64
            );
        }
    }
    if let Some(p) = &s.problem {
        o += &format!("  problem: {p}\n");
    }
    o
}

fn thread_text(t: &ThreadSummary, lower_bound: bool) -> String {
    let station = match station_code(t.station_id) {
        Some(c) => format!("{} ({c})", t.station_id),
        None => t.station_id.to_string(),
    };
    let rate_note = match (t.sample_rate_inferred, lower_bound) {
        (false, _) => "given".to_string(),
        (true, false) => "inferred from frame numbers".to_string(),
        (true, true) => {
            "inferred from frame numbers; a lower bound: no whole second seen".to_string()
        }
    };
    let mut o = format!(
        "  thread {}: station {station}, {}-byte frames ({}-byte header, EDV {}), {}-bit {}, {} channel{}, {} samples/frame\n",
        t.thread_id,
        t.frame_bytes,
        if t.legacy { 16 } else { 32 },
        t.edv,
        t.bits,
        if t.complex { "complex" } else { "real" },
        t.channels,
        if t.channels == 1 { "" } else { "s" },
        t.samples_per_frame,
    );
    o += &format!("    sample rate {} Hz ({rate_note})\n", t.sample_rate_hz);
    o += &format!(
        "    first sample {}, last sample {}\n",
        t.first_sample_time, t.last_sample_time
    );
    o += &format!(
        "    frames {}, invalid {}, missing {}, wrong size {}, out of order {}, gaps {}\n",
        t.frames,
        t.invalid_frames,
        t.missing_frames,
        t.wrong_size_frames,
        t.out_of_order_frames,
        t.gap_count
    );
    if t.duplicate_frames > 0 {
        o += &format!(
            "    repeated {} (frames whose time was already present: duplicates or a clock that went back; not used)\n",
            t.duplicate_frames
        );
    }
    if t.frames_missing_at_start > 0 || t.frames_missing_at_end > 0 {
        o += &format!(
            "    thread starts {} frames after the file's first thread and ends {} frames before its last\n",
            t.frames_missing_at_start, t.frames_missing_at_end
        );
    }
    for g in &t.gaps {
        o += &format!("    gap: {} .. {} ({} frames)\n", g.start, g.end, g.frames);
    }
    if t.gap_count > t.gaps.len() as u64 {
        o += &format!("    ... {} more gaps\n", t.gap_count - t.gaps.len() as u64);
    }
    for v in &t.overlaps {
        o += &format!(
            "    overlap: {} .. {} ({} frames again, from byte {})\n",
            v.start, v.end, v.frames, v.offset
        );
    }
    if t.overlap_count > t.overlaps.len() as u64 {
        o += &format!(
            "    ... {} more overlaps\n",
            t.overlap_count - t.overlaps.len() as u64
        );
    }
    o
}

fn file_json(s: &FileSummary) -> Value {
    let threads: Vec<Value> = s
        .threads
        .iter()
        .map(|t| {
            json!({
                "thread_id": t.thread_id,
                "station_id": t.station_id,
                "station_code": station_code(t.station_id),
                "frame_bytes": t.frame_bytes,
                "header_bytes": if t.legacy { 16 } else { 32 },
                "edv": t.edv,
                "bits": t.bits,
                "complex": t.complex,
                "channels": t.channels,
                "samples_per_frame": t.samples_per_frame,
                "sample_rate_hz": t.sample_rate_hz,
                "sample_rate_inferred": t.sample_rate_inferred,
                "first_sample_time": t.first_sample_time.to_iso8601(),
                "last_sample_time": t.last_sample_time.to_iso8601(),
                "frames": t.frames,
                "invalid_frames": t.invalid_frames,
                "missing_frames": t.missing_frames,
                "wrong_size_frames": t.wrong_size_frames,
                "out_of_order_frames": t.out_of_order_frames,
                "duplicate_frames": t.duplicate_frames,
                "frames_missing_at_start": t.frames_missing_at_start,
                "frames_missing_at_end": t.frames_missing_at_end,
                "gap_count": t.gap_count,
                "gaps": t.gaps.iter().map(|g| json!({
                    "start": g.start.to_iso8601(),
                    "end": g.end.to_iso8601(),
                    "frames": g.frames,
                })).collect::<Vec<_>>(),
                "overlap_count": t.overlap_count,
                "overlaps": t.overlaps.iter().map(|v| json!({
                    "offset": v.offset,
                    "start": v.start.to_iso8601(),
                    "end": v.end.to_iso8601(),
                    "frames": v.frames,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "path": s.path.display().to_string(),
        "bytes": s.bytes,
        "frames": s.frames,
        "sample_rate_lower_bound": s.sample_rate_lower_bound,
        "threads": threads,
        "corrupted_count": s.corrupted_count,
        "corrupted_bytes": s.corrupted_bytes,
        "corrupted": s.corrupted.iter().map(|d| json!({
            "offset": d.offset,
            "end": d.end,
            "what": d.what,
        })).collect::<Vec<_>>(),
        "error": s.problem.as_ref().map(|p| p.to_string()),
    })
}
