//! `emcorr inspect` and `emcorr dump` on good and bad input: exit codes,
//! one-line messages naming file and byte offset, never a panic.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use formats::vdif::{VdifWriter, WriterConfig};
use formats::UtcTime;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/vdif")
        .join(name)
}

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

/// 2 threads × 8 frames of 2-bit real data, 1024-sample frames at 8192 Hz.
fn good_file(dir: &Path) -> (PathBuf, Vec<u8>, usize) {
    let start = UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0);
    let mut w = VdifWriter::new(
        Vec::new(),
        WriterConfig::new(0x454d, 2, false, 1024, 8192.0, start),
    )
    .unwrap();
    for f in 0..8u32 {
        for t in 0..2u16 {
            let codes: Vec<u8> = (0..1024u32)
                .map(|i| ((i * 7 + f * 3 + t as u32) % 4) as u8)
                .collect();
            w.write_codes(t, &codes, false).unwrap();
        }
    }
    let fb = w.frame_bytes();
    let bytes = w.into_inner().unwrap();
    let p = dir.join("good.vdif");
    std::fs::write(&p, &bytes).unwrap();
    (p, bytes, fb)
}

/// Runs and checks: exit `code`, stderr one line containing each needle.
fn fails_with(args: &[&str], code: i32, needles: &[&str]) -> String {
    let out = emcorr().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let last = err.lines().last().unwrap_or("");
    for n in needles {
        assert!(last.contains(n), "{args:?}: {last:?} lacks {n:?}");
    }
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn bad_input_exits_2_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    std::fs::write(d("empty.vdif"), b"").unwrap();
    std::fs::write(
        d("text.vdif"),
        "Not VDIF at all: just a line of text, long enough.\n".repeat(3),
    )
    .unwrap();
    let (_, bytes, fb) = good_file(dir.path());
    // Truncated: the last frame loses half its bytes.
    std::fs::write(d("trunc.vdif"), &bytes[..bytes.len() - fb / 2]).unwrap();
    // Impossible: the third frame's length field is 0.
    let mut bad = bytes.clone();
    bad[2 * fb + 8..2 * fb + 11].fill(0);
    std::fs::write(d("zero.vdif"), &bad).unwrap();
    for cmd in ["inspect", "dump"] {
        fails_with(
            &[cmd, &d("empty.vdif")],
            2,
            &[&d("empty.vdif"), "byte 0", "empty file"],
        );
        fails_with(
            &[cmd, &d("text.vdif")],
            2,
            &[&d("text.vdif"), "byte 0", "not a VDIF file"],
        );
        fails_with(
            &[cmd, &d("missing.vdif")],
            2,
            &[&d("missing.vdif"), "cannot open"],
        );
        fails_with(&[cmd, dir.path().to_str().unwrap()], 2, &["cannot open"]);
    }
    let off = (15 * fb).to_string();
    let out = fails_with(
        &["inspect", &d("trunc.vdif")],
        2,
        &[&d("trunc.vdif"), &format!("byte {off}"), "truncated frame"],
    );
    // The complete frames are still summarised.
    assert!(out.contains("frames 7,"), "{out}");
    let zoff = (2 * fb).to_string();
    fails_with(
        &["inspect", &d("zero.vdif")],
        2,
        &[
            &d("zero.vdif"),
            &format!("byte {zoff}"),
            "frame length 0 bytes",
        ],
    );
    // dump of a truncated file still prints the complete frames (with a warning).
    let out = emcorr()
        .args([
            "dump",
            &d("trunc.vdif"),
            "--thread",
            "1",
            "--count",
            "100000",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("byte {off}: truncated frame")),
        "{err}"
    );
    let lines: Vec<_> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), 8 * 1024);
    assert_eq!(lines.iter().filter(|l| **l == "nan").count(), 1024);
    // Arguments that do not fit the file.
    fails_with(
        &["dump", &d("good.vdif"), "--channel", "3"],
        2,
        &["channel 3 does not exist"],
    );
    fails_with(
        &["dump", &d("good.vdif"), "--thread", "9"],
        2,
        &["thread 9 is not in the recording"],
    );
    fails_with(
        &["dump", &d("good.vdif"), "--sample-rate", "1000"],
        2,
        &["not a whole number"],
    );
}

#[test]
fn inspect_json_has_the_documented_keys_and_values() {
    let out = emcorr()
        .args(["inspect", "--json"])
        .arg(testdata("sample.vdif"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["files"][0];
    assert_eq!(f["frames"], 16);
    assert_eq!(f["bytes"], 80512);
    assert_eq!(f["sample_rate_lower_bound"], true);
    assert!(f["error"].is_null());
    let threads = f["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 8);
    let t = &threads[1];
    for (k, want) in [
        ("thread_id", serde_json::json!(1)),
        ("station_id", serde_json::json!(65532)),
        ("frame_bytes", serde_json::json!(5032)),
        ("header_bytes", serde_json::json!(32)),
        ("edv", serde_json::json!(3)),
        ("bits", serde_json::json!(2)),
        ("complex", serde_json::json!(false)),
        ("channels", serde_json::json!(1)),
        ("samples_per_frame", serde_json::json!(20000)),
        ("sample_rate_inferred", serde_json::json!(true)),
        ("frames", serde_json::json!(2)),
        ("invalid_frames", serde_json::json!(0)),
        ("missing_frames", serde_json::json!(0)),
        ("wrong_size_frames", serde_json::json!(0)),
        ("out_of_order_frames", serde_json::json!(0)),
        ("gap_count", serde_json::json!(0)),
        ("gaps", serde_json::json!([])),
        // baseband: start_time 2014-06-16T05:56:07.000000000.
        (
            "first_sample_time",
            serde_json::json!("2014-06-16T05:56:07.000000000Z"),
        ),
    ] {
        assert_eq!(t[k], want, "key {k}");
    }
    // With the true rate (32 MHz): last sample of frame 1 is at
    // (2 × 20000 − 1) / 32e6 s = 1.24996875 ms.
    let out = emcorr()
        .args(["inspect", "--json", "--sample-rate", "32e6"])
        .arg(testdata("sample.vdif"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["files"][0]["threads"][0];
    assert_eq!(t["last_sample_time"], "2014-06-16T05:56:07.001249969Z");
    assert_eq!(t["sample_rate_hz"], 32e6);
    assert_eq!(t["sample_rate_inferred"], false);
}

#[test]
fn inspect_reports_missing_and_invalid_frames() {
    let dir = tempfile::tempdir().unwrap();
    let start = UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0);
    let mut w = VdifWriter::new(
        Vec::new(),
        WriterConfig::new(1, 2, false, 1024, 8192.0, start),
    )
    .unwrap();
    let codes = vec![1u8; 1024];
    for f in 0..16 {
        if f == 3 {
            w.skip(0, 2);
        }
        w.write_codes(0, &codes, f == 10).unwrap();
    }
    let p = dir.path().join("gappy.vdif");
    std::fs::write(&p, w.into_inner().unwrap()).unwrap();
    let out = emcorr()
        .args(["inspect", "--json"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["files"][0]["threads"][0];
    assert_eq!(t["frames"], 16);
    assert_eq!(t["missing_frames"], 2);
    assert_eq!(t["invalid_frames"], 1);
    // Frames 3 and 4 (of 8 per second) are missing: 0.375 s to 0.625 s.
    assert_eq!(t["gaps"][0]["start"], "2026-03-14T23:45:00.375000000Z");
    assert_eq!(t["gaps"][0]["end"], "2026-03-14T23:45:00.625000000Z");
    assert_eq!(t["sample_rate_hz"], 8192.0);
    assert_eq!(v["files"][0]["sample_rate_lower_bound"], false);
}

#[test]
fn dump_prints_basebands_values_from_files_and_stdin() {
    let golden = std::fs::read_to_string(testdata("sample.vdif.golden")).unwrap();
    // "1 3 0 0 512 ...": file frame 1 is thread 3, channel 0, samples 0..512.
    let line: Vec<u32> = golden
        .lines()
        .find(|l| l.starts_with("1 3 0 0 512 "))
        .unwrap()
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    let levels = ["-3.3359", "-1", "1", "3.3359"];
    let want: String = line[5..]
        .iter()
        .map(|&c| format!("{}\n", levels[c as usize]))
        .collect();
    let out = emcorr()
        .args([
            "dump",
            "--thread",
            "3",
            "--count",
            "512",
            "--sample-rate",
            "32e6",
        ])
        .arg(testdata("sample.vdif"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    let bytes = std::fs::read(testdata("sample.vdif")).unwrap();
    let out = emcorr()
        .args([
            "dump",
            "-",
            "--thread",
            "3",
            "--count",
            "512",
            "--sample-rate",
            "32e6",
        ])
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    // Complex: `re im` per line (MWA sample, 8-bit, channel 1).
    let out = emcorr()
        .args(["dump", "--channel", "1", "--count", "2"])
        .arg(testdata("sample_mwa.vdif"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 2);
    assert!(text.lines().all(|l| l.split(' ').count() == 2), "{text}");
}
