//! Round trips, layout and time against the specification's closed forms.

use super::*;
use crate::time::UtcTime;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Deterministic pseudo-random codes (splitmix64), independent of the code
/// under test.
fn codes(seed: u64, n: usize, bits: u8) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) & ((1u64 << bits) - 1)) as u8
        })
        .collect()
}

fn start() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0)
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

/// Level of `code` straight from the documented tables (not via a Decoder).
fn level(bits: u8, code: u8) -> f32 {
    match bits {
        1 => [-1.0, 1.0][code as usize],
        2 => [-3.3359, -1.0, 1.0, 3.3359][code as usize],
        4 => (code as f32 - 8.0) / 2.95,
        _ => (code as f32 - 127.5) / 35.5,
    }
}

#[test]
fn byte_layout_follows_the_spec() {
    // VDIF §5: low bits first. 0b11_10_01_00 holds 2-bit codes 0, 1, 2, 3.
    let fmt = SampleFormat {
        bits: 2,
        complex: false,
        channels: 1,
    };
    let d = Decoder::new(fmt, &Levels::standard());
    let mut out = [0f32; 4];
    d.decode_components(&[0b1110_0100], 0, &mut out);
    assert_eq!(out, [-3.3359, -1.0, 1.0, 3.3359]);
    // 1 bit: 0b0000_0001 is +1 then seven -1.
    let d1 = Decoder::new(SampleFormat { bits: 1, ..fmt }, &Levels::standard());
    let mut o1 = [0f32; 8];
    d1.decode_components(&[1], 0, &mut o1);
    assert_eq!(o1, [1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]);
    // 4 bit complex, 2 channels: byte0 = ch0 I (low nibble), ch0 Q; byte1 = ch1 I, Q.
    let d4 = Decoder::new(
        SampleFormat {
            bits: 4,
            complex: true,
            channels: 2,
        },
        &Levels::standard(),
    );
    let payload = [0x9_8u8, 0xF_0, 0x1_2, 0x3_4];
    let mut o = [0f32; 4];
    d4.decode_channel(&payload, 1, 0, &mut o);
    assert_eq!(o, [level(4, 0), level(4, 15), level(4, 4), level(4, 3)]);
    d4.decode_channel(&payload, 0, 1, &mut o[..2]);
    assert_eq!(o[..2], [level(4, 2), level(4, 1)]);
}

#[test]
fn levels_are_the_documented_ones() {
    let l = Levels::standard();
    for bits in [1u8, 2, 4, 8] {
        for (c, &v) in l.table(bits).iter().enumerate() {
            assert_eq!(v, level(bits, c as u8), "bits {bits} code {c}");
        }
    }
    // The encoder inverts every level exactly.
    for bits in [1u8, 2, 4, 8] {
        let e = Encoder::new(bits, &l);
        for (c, &v) in l.table(bits).iter().enumerate() {
            assert_eq!(e.code(v) as usize, c);
        }
    }
}

#[test]
fn header_fields_round_trip() {
    for (i, legacy) in [false, true].into_iter().enumerate() {
        let h = VdifHeader {
            invalid: true,
            legacy,
            seconds: 0x3fff_fffe,
            ref_epoch: 63,
            frame_number: 0x00ab_cdef,
            unassigned: 2,
            version: 5,
            log2_channels: 7,
            frame_length_8: 0x00f0_0001,
            complex: true,
            bits_per_sample: 32,
            thread_id: 1023 - i as u16,
            station_id: 0x4162,
            extended: if legacy {
                [0; 16]
            } else {
                core::array::from_fn(|j| j as u8 * 7 + 1)
            },
        };
        let b = h.to_bytes();
        assert_eq!(b.len(), if legacy { 16 } else { 32 });
        assert_eq!(VdifHeader::parse(&b), Some(h));
        // Word 0 bit 31 is the invalid flag, bit 30 legacy (§4).
        assert_eq!(b[3] >> 7, 1);
        assert_eq!((b[3] >> 6) & 1, legacy as u8);
        if !legacy {
            assert_eq!(h.edv(), b[19]);
        }
    }
}

#[test]
fn reference_epochs_and_sample_times() {
    assert_eq!(
        ref_epoch_start(0),
        UtcTime::from_calendar(2000, 1, 1, 0, 0, 0, 0.0)
    );
    assert_eq!(
        ref_epoch_start(1),
        UtcTime::from_calendar(2000, 7, 1, 0, 0, 0, 0.0)
    );
    assert_eq!(
        ref_epoch_start(52),
        UtcTime::from_calendar(2026, 1, 1, 0, 0, 0, 0.0)
    );
    assert_eq!(
        ref_epoch_start(53),
        UtcTime::from_calendar(2026, 7, 1, 0, 0, 0, 0.0)
    );
    assert_eq!(
        ref_epoch_for(UtcTime::from_calendar(2026, 6, 30, 23, 59, 59, 0.5)),
        52
    );
    assert_eq!(
        ref_epoch_for(UtcTime::from_calendar(2026, 7, 1, 0, 0, 0, 0.0)),
        53
    );
    // Last sample of the last frame of a second at 32 MHz, 20000 samples per
    // frame: (1599 × 20000 + 19999) / 32e6 s = 0.99999996875 s exactly.
    let t = header::sample_time(1000, 1599, 20_000, 19_999, 32e6);
    assert_eq!(t.sec(), 1000);
    assert!((t.frac() - 0.999_999_968_75).abs() < 1e-15);
    assert_eq!(t.to_iso8601_digits(11), "2000-01-01T00:16:40.99999996875Z");
    // Sub-nanosecond: neighbouring samples at 1 GHz are 1 ns apart to 1e-15 s.
    let a = header::sample_time(0, 123_456, 8000, 7, 1.024e9);
    let b = header::sample_time(0, 123_456, 8000, 8, 1.024e9);
    assert!((b.seconds_since(a) - 1.0 / 1.024e9).abs() < 1e-15);
}

struct Mode {
    bits: u8,
    complex: bool,
    channels: usize,
}

fn all_modes() -> Vec<Mode> {
    let mut v = Vec::new();
    for bits in [1u8, 2, 4, 8] {
        for complex in [false, true] {
            for channels in [1usize, 2, 4, 16] {
                v.push(Mode {
                    bits,
                    complex,
                    channels,
                });
            }
        }
    }
    v
}

#[test]
fn write_read_round_trip_is_exact_for_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let threads = [0u16, 3];
    let frames = 3;
    let spf = 64;
    let rate = 64.0 * 1000.0;
    for (mi, m) in all_modes().iter().enumerate() {
        let mut cfg = WriterConfig::new(0x4d4f, m.bits, m.complex, spf, rate, start());
        cfg.channels = m.channels;
        cfg.legacy = mi % 3 == 0;
        let mut w = VdifWriter::new(Vec::new(), cfg).unwrap();
        let per = w.values_per_frame();
        let mut truth = Vec::new();
        let levels = Levels::standard();
        for f in 0..frames {
            for &t in &threads {
                let c = codes((mi * 100 + f * 10 + t as usize) as u64, per, m.bits);
                // Half the frames from codes, half from the decoded values:
                // both must give the same bytes.
                if f % 2 == 0 {
                    w.write_codes(t, &c, false).unwrap();
                } else {
                    let vals: Vec<f32> = c
                        .iter()
                        .map(|&x| levels.table(m.bits)[x as usize])
                        .collect();
                    w.write(t, &vals).unwrap();
                }
                truth.push((f, t, c));
            }
        }
        let bytes = w.into_inner().unwrap();
        let path = write_file(dir.path(), &format!("m{mi}.vdif"), &bytes);
        let mut src = FileSource::open(std::slice::from_ref(&path), Some(rate)).unwrap();
        let info = src.info().clone();
        assert_eq!(info.threads, threads);
        assert_eq!(
            (info.bits, info.complex, info.channels),
            (m.bits, m.complex, m.channels)
        );
        assert_eq!(info.samples_per_frame, spf);
        assert_eq!(src.origin(), start());
        let comps = if m.complex { 2 } else { 1 };
        for &t in &threads {
            for ch in 0..m.channels {
                let n = frames * spf;
                let mut out = vec![0f32; n * comps];
                let mut valid = vec![false; n];
                src.read(t, ch, 0, &mut out, &mut valid).unwrap();
                assert!(valid.iter().all(|&v| v));
                for s in 0..n {
                    let (f, i) = (s / spf, s % spf);
                    let c = &truth.iter().find(|x| x.0 == f && x.1 == t).unwrap().2;
                    for q in 0..comps {
                        let code = c[i * m.channels * comps + ch * comps + q];
                        assert_eq!(
                            out[s * comps + q],
                            level(m.bits, code),
                            "mode {mi} t{t} ch{ch} s{s} q{q}"
                        );
                    }
                }
            }
        }
        assert_eq!(src.indexed_files(), 0, "seeks were computed, not scanned");
    }
}

fn multi_thread_file(dir: &Path, name: &str, seconds: u64, fault: bool) -> (PathBuf, f64, usize) {
    let spf = 256;
    let rate = 256.0 * 8.0;
    let cfg = WriterConfig::new(7, 2, false, spf, rate, start());
    let mut w = VdifWriter::new(Vec::new(), cfg).unwrap();
    let fps = w.frames_per_second();
    for f in 0..seconds * fps {
        for t in 0..4u16 {
            let c = codes(f * 4 + t as u64, spf, 2);
            if fault && t == 2 && f == 5 {
                w.skip(t, 1);
                continue;
            }
            w.write_codes(t, &c, fault && t == 1 && f == 9).unwrap();
        }
    }
    (write_file(dir, name, &w.into_inner().unwrap()), rate, spf)
}

#[test]
fn multi_thread_seek_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let (clean, rate, spf) = multi_thread_file(dir.path(), "clean.vdif", 3, false);
    let mut src = FileSource::open(std::slice::from_ref(&clean), Some(rate)).unwrap();
    assert_eq!(src.info().threads, vec![0, 1, 2, 3]);
    // Read at an arbitrary place straddling frames, compare to the codes.
    let first = 5 * spf as i64 + 100;
    let mut out = vec![0f32; 600];
    let mut valid = vec![false; 600];
    src.read(2, 0, first, &mut out, &mut valid).unwrap();
    for (j, &v) in out.iter().enumerate() {
        let s = first as usize + j;
        let c = codes((s / spf * 4 + 2) as u64, spf, 2)[s % spf];
        assert_eq!(v, level(2, c));
    }
    assert!(valid.iter().all(|&v| v));
    assert_eq!(src.indexed_files(), 0);
    // Before the start and past the end: zeros, not valid.
    let total = 3 * 8 * spf as i64;
    src.read(0, 0, -10, &mut out[..20], &mut valid[..20])
        .unwrap();
    assert_eq!(valid[..20].iter().filter(|&&v| v).count(), 10);
    assert!(out[..10].iter().all(|&v| v == 0.0));
    src.read(0, 0, total - 5, &mut out[..20], &mut valid[..20])
        .unwrap();
    assert_eq!(valid[..20].iter().filter(|&&v| v).count(), 5);

    let (faulty, ..) = multi_thread_file(dir.path(), "faulty.vdif", 3, true);
    let mut src = FileSource::open(std::slice::from_ref(&faulty), Some(rate)).unwrap();
    let n = 12 * spf;
    let mut out = vec![0f32; n];
    let mut valid = vec![false; n];
    // Thread 2 lacks frame 5; thread 1's frame 9 is invalid.
    src.read(2, 0, 0, &mut out, &mut valid).unwrap();
    for (s, &v) in valid.iter().enumerate() {
        assert_eq!(v, s / spf != 5, "sample {s}");
    }
    src.read(1, 0, 0, &mut out, &mut valid).unwrap();
    for (s, &v) in valid.iter().enumerate() {
        assert_eq!(v, s / spf != 9, "sample {s}");
        if !v {
            assert_eq!(out[s], 0.0);
        }
    }
    // Thread 3 after the gap still decodes the right frames.
    src.read(3, 0, 0, &mut out, &mut valid).unwrap();
    assert!(valid.iter().all(|&v| v));
    for (s, &v) in out.iter().enumerate() {
        assert_eq!(
            v,
            level(2, codes((s / spf * 4 + 3) as u64, spf, 2)[s % spf])
        );
    }

    // The summary sees the same faults.
    let sum = scan(&faulty, Some(rate)).unwrap();
    let t = |id: u16| sum.threads.iter().find(|t| t.thread_id == id).unwrap();
    assert_eq!(t(2).missing_frames, 1);
    assert_eq!(t(2).gaps.len(), 1);
    assert_eq!(t(2).gaps[0].start, start().add_seconds(5.0 / 8.0));
    assert_eq!(t(1).invalid_frames, 1);
    assert_eq!(t(0).missing_frames + t(0).invalid_frames, 0);
    assert_eq!(t(0).first_sample_time, start());
    assert_eq!(t(0).last_sample_time, start().add_seconds(3.0 - 1.0 / rate));
    assert!(sum.problem.is_none());
}

#[test]
fn sample_rate_is_inferred_from_frame_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (p, rate, _) = multi_thread_file(dir.path(), "a.vdif", 2, false);
    let src = FileSource::open(std::slice::from_ref(&p), None).unwrap();
    assert_eq!(src.info().sample_rate_hz, rate);
    assert!(src.info().sample_rate_inferred);
    assert!(src.warnings().is_empty());
    let sum = scan(&p, None).unwrap();
    assert_eq!(sum.threads[0].sample_rate_hz, rate);
    assert!(sum.threads[0].sample_rate_inferred && !sum.sample_rate_lower_bound);
}

#[test]
fn mmap_and_stream_readers_yield_the_same_frames() {
    let dir = tempfile::tempdir().unwrap();
    let (p, ..) = multi_thread_file(dir.path(), "a.vdif", 1, true);
    let file = VdifFile::open(&p).unwrap();
    let a: Vec<_> = file.frames().map(|f| f.unwrap()).collect();
    let b: Vec<_> = FrameReader::new(&p, std::fs::File::open(&p).unwrap())
        .map(|f| f.unwrap())
        .collect();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (x.offset, x.header, x.bytes),
            (y.offset, y.header, &y.bytes[..])
        );
    }
}

#[test]
fn fifo_stream_source_matches_the_file_source() {
    let dir = tempfile::tempdir().unwrap();
    let (p, rate, spf) = multi_thread_file(dir.path(), "a.vdif", 3, true);
    let fifo = dir.path().join("fifo");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("mkfifo unavailable: skipped");
        return;
    }
    let bytes = std::fs::read(&p).unwrap();
    let f2 = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(f2).unwrap();
        // Small writes, so the reader really sees a stream.
        for chunk in bytes.chunks(1000) {
            f.write_all(chunk).unwrap();
        }
    });
    // A tiny read-ahead: the window must still serve sequential reads.
    let mut s = open_source(std::slice::from_ref(&fifo), Some(rate), 4 * 1024).unwrap();
    let mut f = FileSource::open(std::slice::from_ref(&p), Some(rate)).unwrap();
    assert_eq!(s.info(), f.info());
    assert_eq!(s.origin(), f.origin());
    let block = 300;
    let mut first = -50i64;
    while first < 3 * 8 * spf as i64 + 50 {
        for t in 0..4u16 {
            let (mut o1, mut v1) = (vec![0f32; block], vec![false; block]);
            let (mut o2, mut v2) = (vec![0f32; block], vec![false; block]);
            s.read(t, 0, first, &mut o1, &mut v1).unwrap();
            f.read(t, 0, first, &mut o2, &mut v2).unwrap();
            assert_eq!((o1, v1), (o2, v2), "thread {t} at {first}");
        }
        first += block as i64;
        s.discard_before(first);
    }
    // Asking again for discarded samples is an error, not silent zeros.
    let (mut o, mut v) = (vec![0f32; 10], vec![false; 10]);
    assert!(matches!(
        s.read(0, 0, 0, &mut o, &mut v),
        Err(VdifError::Discarded { .. })
    ));
    writer.join().unwrap();
}

#[test]
fn recordings_split_across_files_and_reference_epochs() {
    // One station, two files: the first in reference epoch 51 (2025-07-01)
    // up to 2026-01-01T00:00:00, the second from there in epoch 52.
    let dir = tempfile::tempdir().unwrap();
    let spf = 128;
    let rate = 128.0 * 4.0;
    let t0 = UtcTime::from_calendar(2025, 12, 31, 23, 59, 58, 0.0);
    let mut paths = Vec::new();
    for (i, (begin, epoch)) in [(t0, 51u8), (t0.add_seconds(2.0), 52)]
        .into_iter()
        .enumerate()
    {
        let mut cfg = WriterConfig::new(1, 2, true, spf, rate, begin);
        cfg.ref_epoch = Some(epoch);
        let mut w = VdifWriter::new(Vec::new(), cfg).unwrap();
        for f in 0..8u64 {
            let k = i as u64 * 8 + f;
            w.write_codes(0, &codes(k, 2 * spf, 2), false).unwrap();
        }
        paths.push(write_file(
            dir.path(),
            &format!("part{i}.vdif"),
            &w.into_inner().unwrap(),
        ));
    }
    // Headers: the last second of epoch 51 is 184 days × 86400 s − 1 after it
    // started (2025-07-01 → 2026-01-01 is 184 days).
    let h_last = VdifFile::open(&paths[0])
        .unwrap()
        .frames()
        .last()
        .unwrap()
        .unwrap()
        .header;
    assert_eq!(
        (h_last.ref_epoch, h_last.seconds, h_last.frame_number),
        (51, 184 * 86_400 - 1, 3)
    );
    let h_next = VdifFile::open(&paths[1])
        .unwrap()
        .frame_at(0)
        .unwrap()
        .header;
    assert_eq!(
        (h_next.ref_epoch, h_next.seconds, h_next.frame_number),
        (52, 0, 0)
    );
    assert_eq!(
        h_next.sample_time(0, rate),
        UtcTime::from_calendar(2026, 1, 1, 0, 0, 0, 0.0)
    );
    // Given in reverse order, the files are still put in time order.
    let mut src = FileSource::open(&[paths[1].clone(), paths[0].clone()], Some(rate)).unwrap();
    assert_eq!(src.origin(), t0);
    let n = 16 * spf;
    let mut out = vec![0f32; 2 * n];
    let mut valid = vec![false; n];
    src.read(0, 0, 0, &mut out, &mut valid).unwrap();
    assert!(valid.iter().all(|&v| v));
    for (j, &v) in out.iter().enumerate() {
        let (k, i) = (j / (2 * spf), j % (2 * spf));
        assert_eq!(v, level(2, codes(k as u64, 2 * spf, 2)[i]));
    }
}

#[test]
fn truncated_final_frame_is_reported_and_the_rest_used() {
    let dir = tempfile::tempdir().unwrap();
    let (p, rate, spf) = multi_thread_file(dir.path(), "a.vdif", 1, false);
    let mut bytes = std::fs::read(&p).unwrap();
    let fb = VdifFile::open(&p)
        .unwrap()
        .frame_at(0)
        .unwrap()
        .header
        .frame_bytes();
    bytes.truncate(bytes.len() - fb / 2);
    let t = write_file(dir.path(), "t.vdif", &bytes);
    let mut src = FileSource::open(std::slice::from_ref(&t), Some(rate)).unwrap();
    let w = src.warnings();
    assert_eq!(w.len(), 1);
    let off = 31 * fb;
    assert!(
        w[0].contains(&format!("byte {off}: truncated frame")),
        "{w:?}"
    );
    // Thread 3's last frame is the truncated one; thread 2's is intact.
    let (mut o, mut v) = (vec![0f32; 8 * spf], vec![false; 8 * spf]);
    src.read(2, 0, 0, &mut o, &mut v).unwrap();
    assert!(v.iter().all(|&x| x));
    src.read(3, 0, 0, &mut o, &mut v).unwrap();
    assert_eq!(v.iter().filter(|&&x| !x).count(), spf);
    let sum = scan(&t, Some(rate)).unwrap();
    assert!(
        matches!(sum.problem, Some(VdifError::Truncated { offset, .. }) if offset == off as u64)
    );
    assert_eq!(sum.frames, 31);
}

#[test]
fn bad_inputs_are_errors_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_file(dir.path(), "empty.vdif", &[]);
    let text = write_file(
        dir.path(),
        "text.vdif",
        b"This is certainly not a VDIF file, just some text.\n",
    );
    for (p, needle) in [
        (&empty, "byte 0: empty file"),
        (&text, "byte 0: not a VDIF file"),
    ] {
        let e = FileSource::open(std::slice::from_ref(p), None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(needle) && e.contains(&p.display().to_string()),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
    let missing = dir.path().join("nope.vdif");
    let e = scan(&missing, None).unwrap_err().to_string();
    assert!(e.contains("nope.vdif: cannot open"), "{e}");
    // A header we cannot use in the middle: the second frame says 16 bits.
    let (p, rate, _) = multi_thread_file(dir.path(), "a.vdif", 1, false);
    let mut bytes = std::fs::read(&p).unwrap();
    let fb = VdifFile::open(&p)
        .unwrap()
        .frame_at(0)
        .unwrap()
        .header
        .frame_bytes();
    bytes[fb + 15] = (bytes[fb + 15] & !0x7c) | (15 << 2);
    let b = write_file(dir.path(), "b.vdif", &bytes);
    let sum = scan(&b, Some(rate)).unwrap();
    let e = sum.problem.unwrap().to_string();
    assert!(
        e.contains(&format!("byte {fb}: bad VDIF header: 16 bits per sample")),
        "{e}"
    );
}

#[test]
fn seeking_by_time_computes_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (p, rate, _) = multi_thread_file(dir.path(), "a.vdif", 3, false);
    let fb = VdifFile::open(&p)
        .unwrap()
        .frame_at(0)
        .unwrap()
        .header
        .frame_bytes();
    let mut src = FileSource::open(std::slice::from_ref(&p), Some(rate)).unwrap();
    // Thread 2 at 1.3 s: its frame floor(1.3 × 8) = 10, in slot 10 × 4 + 2.
    let (path, off) = src.locate_time(2, start().add_seconds(1.3)).unwrap();
    assert_eq!((path, off), (p.clone(), (10 * 4 + 2) * fb as u64));
    assert_eq!(src.indexed_files(), 0);
    assert!(src.locate_time(2, start().add_seconds(3.0)).is_none());
    assert!(src.locate_time(2, start().add_seconds(-1e-9)).is_none());
}

#[test]
fn frames_of_another_size_are_reported_and_not_decoded() {
    // Frames 0..5 with 256 samples, then one of 128 samples (same station and
    // thread), then 256 again: the odd one is stepped over by its own length.
    let dir = tempfile::tempdir().unwrap();
    let spf = 256;
    let rate = 256.0 * 8.0;
    let mut w = VdifWriter::new(
        Vec::new(),
        WriterConfig::new(9, 2, false, spf, rate, start()),
    )
    .unwrap();
    for f in 0..8u64 {
        w.write_codes(0, &codes(f, spf, 2), false).unwrap();
    }
    let full = w.into_inner().unwrap();
    let fb = full.len() / 8;
    let small = WriterConfig::new(
        9,
        2,
        false,
        128,
        128.0 * 8.0,
        start().add_seconds(5.0 / 8.0),
    );
    let mut w2 = VdifWriter::new(Vec::new(), small).unwrap();
    w2.write_codes(0, &codes(99, 128, 2), false).unwrap();
    let mut bytes = full[..5 * fb].to_vec();
    bytes.extend_from_slice(&w2.into_inner().unwrap());
    bytes.extend_from_slice(&full[6 * fb..]);
    let p = write_file(dir.path(), "odd.vdif", &bytes);
    let sum = scan(&p, Some(rate)).unwrap();
    assert_eq!(sum.threads[0].wrong_size_frames, 1);
    assert_eq!(sum.threads[0].frames, 8);
    assert_eq!(sum.threads[0].missing_frames, 0);
    assert!(sum.problem.is_none());
    let mut src = FileSource::open(std::slice::from_ref(&p), Some(rate)).unwrap();
    let (mut o, mut v) = (vec![0f32; 8 * spf], vec![false; 8 * spf]);
    src.read(0, 0, 0, &mut o, &mut v).unwrap();
    for s in 0..8 * spf {
        assert_eq!(v[s], s / spf != 5, "sample {s}");
        if v[s] {
            assert_eq!(o[s], level(2, codes((s / spf) as u64, spf, 2)[s % spf]));
        }
    }
    assert_eq!(
        src.indexed_files(),
        1,
        "the grid broke, so the file was indexed"
    );
    assert!(src.warnings().is_empty(), "{:?}", src.warnings());
}

#[test]
fn a_station_split_across_two_fifos_streams_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let spf = 128;
    let rate = 128.0 * 4.0;
    let mut parts = Vec::new();
    for i in 0..2u64 {
        let cfg = WriterConfig::new(1, 4, false, spf, rate, start().add_seconds(2.0 * i as f64));
        let mut w = VdifWriter::new(Vec::new(), cfg).unwrap();
        for f in 0..8u64 {
            for t in [0u16, 1] {
                w.write_codes(t, &codes(100 * t as u64 + i * 8 + f, spf, 4), false)
                    .unwrap();
            }
        }
        parts.push(w.into_inner().unwrap());
    }
    let mut fifos = Vec::new();
    for i in 0..2 {
        let f = dir.path().join(format!("fifo{i}"));
        let ok = std::process::Command::new("mkfifo")
            .arg(&f)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("mkfifo unavailable: skipped");
            return;
        }
        fifos.push(f);
    }
    let writers: Vec<_> = fifos
        .iter()
        .cloned()
        .zip(parts)
        .map(|(f, bytes)| {
            std::thread::spawn(move || {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(f)
                    .unwrap()
                    .write_all(&bytes)
                    .unwrap();
            })
        })
        .collect();
    let mut s = open_source(&fifos, Some(rate), 1 << 20).unwrap();
    assert_eq!(s.info().threads, vec![0, 1]);
    assert_eq!(s.origin(), start());
    let n = 16 * spf;
    let (mut o, mut v) = (vec![0f32; n], vec![false; n]);
    s.read(1, 0, 0, &mut o, &mut v).unwrap();
    assert!(v.iter().all(|&x| x));
    for (j, &x) in o.iter().enumerate() {
        assert_eq!(x, level(4, codes(100 + (j / spf) as u64, spf, 4)[j % spf]));
    }
    s.read(0, 0, 0, &mut o, &mut v).unwrap();
    assert!(v.iter().all(|&x| x));
    assert_eq!(s.end_sample(), Some(n as i64));
    for w in writers {
        w.join().unwrap();
    }
}

#[test]
fn channel_decode_anywhere_matches_plain_code_extraction() {
    // Every multi-channel layout, every start and length in a frame, against
    // decode_codes (shift-and-mask per component) mapped through the table.
    for m in all_modes() {
        let fmt = SampleFormat {
            bits: m.bits,
            complex: m.complex,
            channels: m.channels,
        };
        let comps = fmt.components();
        let cps = fmt.components_per_complete_sample();
        let spf = 64;
        let payload: Vec<u8> = codes(
            m.bits as u64 * 1000 + m.channels as u64,
            spf * cps * m.bits as usize / 8,
            8,
        );
        let dec = Decoder::new(fmt, &Levels::standard());
        let mut all = vec![0u8; spf * cps];
        decode::decode_codes(&payload, m.bits, 0, &mut all);
        for ch in 0..m.channels {
            for first in [0usize, 1, 3, 7, 8, 33] {
                for len in [0usize, 1, 5, 16, spf - first] {
                    let len = len.min(spf - first);
                    let mut out = vec![0f32; len * comps];
                    dec.decode_channel(&payload, ch, first, &mut out);
                    for s in 0..len {
                        for q in 0..comps {
                            let c = all[(first + s) * cps + ch * comps + q];
                            assert_eq!(out[s * comps + q], level(m.bits, c));
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    // A good multi-thread file with bytes overwritten at pseudo-random places
    // (headers included), cut at pseudo-random lengths: every reader either
    // errors or returns samples, never panics.
    let dir = tempfile::tempdir().unwrap();
    let (p, rate, spf) = multi_thread_file(dir.path(), "a.vdif", 1, true);
    let good = std::fs::read(&p).unwrap();
    let noise = codes(4242, 4096, 8);
    for trial in 0..400usize {
        let mut bytes = good.clone();
        for j in 0..(1 + trial % 7) {
            let r = noise[(trial * 7 + j) % 4096] as usize * 131 + trial * 977;
            // Odd trials hit header bytes only (96-byte frames, 32-byte headers).
            let at = if trial % 2 == 1 {
                (r / 32 * 96 + r % 32) % bytes.len()
            } else {
                r % bytes.len()
            };
            bytes[at] = noise[(trial * 13 + j) % 4096];
        }
        let cut = bytes.len() - (trial * 37) % 300;
        bytes.truncate(cut);
        let q = write_file(dir.path(), &format!("c{trial}.vdif"), &bytes);
        let _ = scan(&q, None);
        let _ = scan(&q, Some(rate));
        for r in [None, Some(rate)] {
            if let Ok(mut src) = FileSource::open(std::slice::from_ref(&q), r) {
                let info = src.info().clone();
                let m = if info.complex { 2 } else { 1 };
                for &t in &info.threads {
                    let n = 3 * spf;
                    let (mut o, mut v) = (vec![0f32; n * m], vec![false; n]);
                    let _ = src.read(t, 0, -(spf as i64), &mut o, &mut v);
                    let _ = src.read(t, 0, 5 * spf as i64 + 7, &mut o, &mut v);
                }
                let _ = src.warnings();
            }
        }
    }
}

fn mkfifo_at(path: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn streams_fed_in_lock_step_open_together_without_deadlock() {
    // One writer thread feeds four FIFOs the way a recorder or the
    // simulator does: it opens them in turn (each open waits for a reader)
    // and then writes frame i of every station before frame i + 1 of any.
    // A reader that opened them one at a time, waiting for frames of the
    // first before opening the second, would wait for ever; the threads
    // are learnt from the frames here (no hint), so stream 0 is read far
    // ahead of the others before it counts as open.
    let dir = tempfile::tempdir().unwrap();
    let spf = 64;
    let rate = 64.0 * 512.0;
    let frames = 600u64; // more than the 256 a thread-learning peek reads
    let mut fifos = Vec::new();
    for s in 0..4 {
        let f = dir.path().join(format!("st{s}"));
        if !mkfifo_at(&f) {
            eprintln!("mkfifo unavailable: skipped");
            return;
        }
        fifos.push(f);
    }
    let paths = fifos.clone();
    let writer = std::thread::spawn(move || {
        let mut outs: Vec<_> = paths
            .iter()
            .enumerate()
            .map(|(s, p)| {
                let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
                let cfg = WriterConfig::new(s as u16 + 1, 2, false, spf, rate, start());
                VdifWriter::new(f, cfg).unwrap()
            })
            .collect();
        for i in 0..frames {
            for (s, w) in outs.iter_mut().enumerate() {
                w.write_codes(0, &codes(1000 * s as u64 + i, spf, 2), false)
                    .unwrap();
            }
        }
        for w in outs {
            w.into_inner().unwrap();
        }
    });
    // Read-ahead of a few frames only: what keeps the writer going is that
    // every stream is drained from the start, not a large buffer.
    let recs: Vec<_> = fifos
        .iter()
        .map(|f| (vec![f.clone()], OpenOptions::new(Some(rate), 8 * 1024)))
        .collect();
    let mut srcs = open_sources(&recs).map_err(|(_, e)| e).unwrap();
    // Each stream holds its own station's samples, side by side.
    let n = frames as usize * spf;
    for (s, src) in srcs.iter_mut().enumerate() {
        assert_eq!(src.info().station_id, s as u16 + 1);
        let (mut o, mut v) = (vec![0f32; spf], vec![false; spf]);
        src.read(0, 0, 0, &mut o, &mut v).unwrap();
        assert!(v.iter().all(|&x| x));
        assert_eq!(o[5], level(2, codes(1000 * s as u64, spf, 2)[5]));
    }
    // Then all of it, in steps, every stream in turn.
    let mut first = 0i64;
    while first < n as i64 {
        for (s, src) in srcs.iter_mut().enumerate() {
            let (mut o, mut v) = (vec![0f32; spf], vec![false; spf]);
            src.read(0, 0, first, &mut o, &mut v).unwrap();
            let i = first as u64 / spf as u64;
            assert_eq!(o[7], level(2, codes(1000 * s as u64 + i, spf, 2)[7]));
            src.discard_before(first);
        }
        first += spf as i64;
    }
    writer.join().unwrap();
}

#[test]
fn a_fifo_without_writer_can_be_waited_for_and_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("nobody");
    if !mkfifo_at(&fifo) {
        eprintln!("mkfifo unavailable: skipped");
        return;
    }
    let cancel = crate::Cancel::new();
    let opts = OpenOptions {
        sample_rate_hz: Some(1024.0),
        threads: Some(vec![0]),
        readahead_bytes: 1 << 16,
        cancel: cancel.clone(),
    };
    // Starting does not block, though open(2) on this FIFO never returns.
    let t0 = std::time::Instant::now();
    let pending = StreamSource::start(std::slice::from_ref(&fifo), opts).unwrap();
    assert!(t0.elapsed() < std::time::Duration::from_millis(500));
    let c = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        c.cancel();
    });
    let t1 = std::time::Instant::now();
    let r = pending.ready();
    assert!(
        matches!(r, Err(VdifError::Interrupted { .. })),
        "{:?}",
        r.err()
    );
    let waited = t1.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(200),
        "{waited:?}"
    );
    assert!(waited < std::time::Duration::from_millis(800), "{waited:?}");
    // Release the reader thread still blocked in open(2).
    drop(std::fs::OpenOptions::new().write(true).open(&fifo));
}
