//! Damaged recordings: corrupted headers, inserted and lost bytes, frames out
//! of order, duplicated, a clock that jumps, a thread that stops, a sparse
//! tail. Every reader reports the damage, skips it and never hands out a
//! sample that differs from what was recorded at that time.

use super::*;
use crate::time::UtcTime;
use std::io::Read;
use std::path::{Path, PathBuf};

const SPF: usize = 1024;
const FPS: u64 = 8;
const RATE: f64 = (SPF as u64 * FPS) as f64;
const STATION: u16 = 0x454d;

fn start() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0)
}

/// Deterministic 2-bit codes of thread `t`'s frame `k` (splitmix64).
fn codes(t: u16, k: u64) -> Vec<u8> {
    let mut x = u64::from(t) * 1_000_003 + k;
    (0..SPF)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) & 3) as u8
        })
        .collect()
}

fn level(code: u8) -> f32 {
    [-3.3359, -1.0, 1.0, 3.3359][code as usize]
}

/// `threads` threads interleaved, `frames` frames each; returns the bytes and
/// the frame size.
fn recording(threads: u16, frames: u64) -> (Vec<u8>, usize) {
    let cfg = WriterConfig::new(STATION, 2, false, SPF, RATE, start());
    let mut w = VdifWriter::new(Vec::new(), cfg).unwrap();
    for k in 0..frames {
        for t in 0..threads {
            w.write_codes(t, &codes(t, k), false).unwrap();
        }
    }
    let fb = w.frame_bytes();
    (w.into_inner().unwrap(), fb)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// What a frame walk yields, comparable between readers.
#[derive(Debug, PartialEq)]
enum Item {
    Frame {
        offset: u64,
        thread: u16,
        tick: (i64, u32),
    },
    Damage {
        offset: u64,
        end: u64,
    },
    Error(String),
}

fn item<F>(r: Result<F, VdifError>, get: impl Fn(&F) -> (u64, VdifHeader)) -> Item {
    match r {
        Ok(f) => {
            let (offset, h) = get(&f);
            Item::Frame {
                offset,
                thread: h.thread_id,
                tick: (h.second(), h.frame_number),
            }
        }
        Err(VdifError::Corrupted { offset, end, .. }) => Item::Damage { offset, end },
        Err(e) => Item::Error(e.to_string()),
    }
}

/// A reader that hands out at most 7 bytes per call (a slow pipe).
struct Dribble<'a>(&'a [u8]);
impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(7).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// The walk of the mmap reader, checked identical to the stream reader's
/// (read whole and in 7-byte dribbles).
fn walk(path: &Path, bytes: &[u8]) -> Vec<Item> {
    let mmap: Vec<Item> = reader::Frames::new(path, bytes)
        .map(|r| item(r, |f| (f.offset, f.header)))
        .collect();
    let stream: Vec<Item> = FrameReader::new(path, bytes)
        .map(|r| item(r, |f| (f.offset, f.header)))
        .collect();
    assert_eq!(mmap, stream, "mmap and stream readers disagree");
    let dribble: Vec<Item> = FrameReader::new(path, Dribble(bytes))
        .map(|r| item(r, |f| (f.offset, f.header)))
        .collect();
    assert_eq!(mmap, dribble, "a dribbling stream changes the walk");
    mmap
}

fn damage(items: &[Item]) -> Vec<(u64, u64)> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Damage { offset, end } => Some((*offset, *end)),
            _ => None,
        })
        .collect()
}

/// Read every thread over frames 0..frames through `src`: every valid sample
/// must be the recorded one; returns, per thread, which frames were valid
/// (all of a frame's samples, or none).
fn valid_frames(src: &mut dyn SampleSource, threads: u16, frames: u64) -> Vec<Vec<bool>> {
    let n = frames as usize * SPF;
    let (mut out, mut valid) = (vec![0f32; n], vec![false; n]);
    let mut all = Vec::new();
    for t in 0..threads {
        if !src.info().threads.contains(&t) {
            all.push(vec![false; frames as usize]);
            continue;
        }
        src.read(t, 0, 0, &mut out, &mut valid).unwrap();
        let mut per = Vec::new();
        for k in 0..frames as usize {
            let v = &valid[k * SPF..(k + 1) * SPF];
            assert!(
                v.iter().all(|&x| x) || v.iter().all(|&x| !x),
                "thread {t} frame {k} partly valid"
            );
            if v[0] {
                let c = codes(t, k as u64);
                for i in 0..SPF {
                    assert_eq!(
                        out[k * SPF + i],
                        level(c[i]),
                        "thread {t} frame {k} sample {i}: wrong data"
                    );
                }
            } else {
                assert!(out[k * SPF..(k + 1) * SPF].iter().all(|&x| x == 0.0));
            }
            per.push(v[0]);
        }
        all.push(per);
    }
    all
}

/// File source and stream source over the same file agree and never return
/// wrong data; returns the file source's validity and warnings.
fn read_both(path: &Path, threads: u16, frames: u64) -> (Vec<Vec<bool>>, Vec<String>) {
    let mut file = FileSource::open(&[path.to_path_buf()], Some(RATE)).unwrap();
    assert_eq!(file.origin(), start());
    let a = valid_frames(&mut file, threads, frames);
    let mut stream = StreamSource::open(&[path.to_path_buf()], Some(RATE), 1 << 24).unwrap();
    let b = valid_frames(&mut stream, threads, frames);
    assert_eq!(a, b, "file and stream sources disagree");
    (a, file.warnings())
}

/// Frame `k` of thread `t` valid, all others as given.
fn all_valid_except(threads: u16, frames: u64, bad: &[(u16, u64)]) -> Vec<Vec<bool>> {
    (0..threads)
        .map(|t| {
            (0..frames)
                .map(|k| !bad.contains(&(t, k)))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_corrupted_header_mid_file_is_skipped_reported_and_the_rest_read() {
    let dir = tempfile::tempdir().unwrap();
    let (mut bytes, fb) = recording(4, 16);
    // Slot 22 is thread 2's frame 5: its header becomes noise.
    let at = 22 * fb;
    for (i, b) in bytes[at..at + 32].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    let p = write(dir.path(), "hdr.vdif", &bytes);
    let items = walk(&p, &bytes);
    assert_eq!(damage(&items), vec![(at as u64, (at + fb) as u64)]);
    assert_eq!(items.len(), 64, "63 frames and one damaged range");

    let (valid, warnings) = read_both(&p, 4, 16);
    assert_eq!(valid, all_valid_except(4, 16, &[(2, 5)]));
    assert!(
        warnings.iter().any(|w| w.contains(&format!("byte {at}: "))
            && w.contains(&format!(
                "skipped {fb} bytes to the next frame at byte {}",
                at + fb
            ))),
        "{warnings:?}"
    );

    let sum = scan(&p, Some(RATE)).unwrap();
    assert_eq!(sum.corrupted_count, 1);
    assert_eq!(sum.corrupted[0].offset, at as u64);
    assert_eq!(sum.corrupted[0].end, (at + fb) as u64);
    assert_eq!(sum.corrupted_bytes, fb as u64);
    assert_eq!(sum.frames, 63);
    let t2 = &sum.threads[2];
    assert_eq!((t2.frames, t2.missing_frames, t2.gap_count), (15, 1, 1));
    assert!(matches!(sum.problem, Some(VdifError::Corrupted { .. })));
}

#[test]
fn inserted_bytes_are_skipped_and_the_frame_before_them_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (good, fb) = recording(4, 16);
    // 37 stray bytes after slot 9 (thread 1, frame 2): the frames after it are
    // no longer on the file's grid, and nothing tells whether the bytes went
    // in between frames or into slot 9's payload, so slot 9 is dropped too.
    let at = 10 * fb;
    let mut bytes = good[..at].to_vec();
    bytes.extend((0..37u8).map(|i| i.wrapping_mul(91) ^ 0x5a));
    bytes.extend_from_slice(&good[at..]);
    let p = write(dir.path(), "ins.vdif", &bytes);
    let items = walk(&p, &bytes);
    assert_eq!(
        damage(&items),
        vec![((at - fb) as u64, at as u64), (at as u64, (at + 37) as u64)]
    );
    let (valid, _) = read_both(&p, 4, 16);
    assert_eq!(valid, all_valid_except(4, 16, &[(1, 2)]));
}

#[test]
fn bytes_lost_inside_a_frame_drop_that_frame_only() {
    let dir = tempfile::tempdir().unwrap();
    let (good, fb) = recording(4, 16);
    // 100 bytes lost from the payload of slot 13 (thread 1, frame 3): the
    // next frame's header now starts inside slot 13's 288 bytes.
    let cut = 13 * fb + 150;
    let mut bytes = good[..cut].to_vec();
    bytes.extend_from_slice(&good[cut + 100..]);
    let p = write(dir.path(), "cut.vdif", &bytes);
    let items = walk(&p, &bytes);
    assert_eq!(
        damage(&items),
        vec![((13 * fb) as u64, (14 * fb - 100) as u64)]
    );
    let (valid, _) = read_both(&p, 4, 16);
    assert_eq!(valid, all_valid_except(4, 16, &[(1, 3)]));
}

#[test]
fn a_damaged_start_is_searched_past() {
    let dir = tempfile::tempdir().unwrap();
    let (good, fb) = recording(2, 8);
    // The first header is noise: the first frame is found one frame on.
    let mut bytes = good.clone();
    bytes[..32].copy_from_slice(&[0xa5; 32]);
    let p = write(dir.path(), "head.vdif", &bytes);
    let items = walk(&p, &bytes);
    assert_eq!(damage(&items), vec![(0, fb as u64)]);
    let (valid, warnings) = read_both(&p, 2, 8);
    assert_eq!(valid, all_valid_except(2, 8, &[(0, 0)]));
    assert!(
        warnings[0].contains("byte 0: bad VDIF header"),
        "{warnings:?}"
    );

    // 1000 bytes of junk before a clean recording: nothing lost, and the grid
    // (offset from time) still works, shifted by the junk.
    let mut bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    bytes.extend_from_slice(&good);
    let p = write(dir.path(), "junk.vdif", &bytes);
    let items = walk(&p, &bytes);
    assert_eq!(damage(&items), vec![(0, 1000)]);
    let (valid, _) = read_both(&p, 2, 8);
    assert_eq!(valid, all_valid_except(2, 8, &[]));
    let mut src = FileSource::open(std::slice::from_ref(&p), Some(RATE)).unwrap();
    let (path, off) = src.locate_time(1, start().add_seconds(0.5)).unwrap();
    assert_eq!((path, off), (p.clone(), (1000 + (4 * 2 + 1) * fb) as u64));
    assert_eq!(src.indexed_files(), 0);
}

#[test]
fn basebands_drao_sample_with_mislabelled_headers_is_refused_not_misread() {
    // baseband's sample_drao_corrupted.vdif: all ten headers declare 5-bit
    // complex samples (baseband's docs: the bits field is wrong, and frame
    // numbers are meaningless). No header is decodable, so the search finds
    // no frame and the reader says why instead of decoding 5-bit garbage.
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/vdif/sample_drao_corrupted.vdif");
    let bytes = std::fs::read(&p).unwrap();
    for h in bytes.chunks(5032).map(|c| VdifHeader::parse(c).unwrap()) {
        assert_eq!(
            (h.bits_per_sample, h.complex, h.frame_bytes()),
            (5, true, 5032)
        );
    }
    let items = walk(&p, &bytes);
    assert_eq!(items.len(), 1);
    let e = FileSource::open(std::slice::from_ref(&p), None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("byte 0: bad VDIF header: 5 bits per sample is not supported"),
        "{e}"
    );
    assert!(scan(&p, None).is_err());
    assert!(open_source(std::slice::from_ref(&p), None, 1 << 20).is_err());
}

/// Rewrite the time of the frame at `slot` to frame index `k` (of 8 per s).
fn retime(bytes: &mut [u8], fb: usize, slot: usize, k: u64) {
    let at = slot * fb;
    let mut h = VdifHeader::parse(&bytes[at..]).unwrap();
    let sec0 = start().sec() - ref_epoch_start(h.ref_epoch).sec();
    h.seconds = (sec0 as u64 + k / FPS) as u32;
    h.frame_number = (k % FPS) as u32;
    bytes[at..at + 32].copy_from_slice(&h.to_bytes());
}

#[test]
fn frames_out_of_order_are_placed_by_their_time() {
    let dir = tempfile::tempdir().unwrap();
    let (good, fb) = recording(2, 16);
    // Swap slots 8 and 12 (thread 0 frames 4 and 6) and 9 and 11 (thread 1
    // frames 4 and 5).
    let mut bytes = good.clone();
    for (a, b) in [(8usize, 12usize), (9, 11)] {
        let fa = good[a * fb..(a + 1) * fb].to_vec();
        bytes[a * fb..(a + 1) * fb].copy_from_slice(&good[b * fb..(b + 1) * fb]);
        bytes[b * fb..(b + 1) * fb].copy_from_slice(&fa);
    }
    let p = write(dir.path(), "ooo.vdif", &bytes);
    assert!(damage(&walk(&p, &bytes)).is_empty());
    let (valid, _) = read_both(&p, 2, 16);
    assert_eq!(valid, all_valid_except(2, 16, &[]));
    let sum = scan(&p, Some(RATE)).unwrap();
    // Thread 0 reads 0..3, 6, 5, 4, 7..: two frames come after a later one;
    // thread 1 reads 0..3, 5, 4, 6..: one.
    for (t, late) in sum.threads.iter().zip([2, 1]) {
        assert_eq!(t.missing_frames, 0, "thread {}", t.thread_id);
        assert_eq!(t.duplicate_frames, 0);
        assert_eq!(t.out_of_order_frames, late, "thread {}", t.thread_id);
        assert_eq!(t.first_sample_time, start());
    }
    assert!(sum.problem.is_none());
}

#[test]
fn duplicated_frames_are_dropped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (good, fb) = recording(2, 16);
    // Slot 6 (thread 0 frame 3) again after slot 9, and a conflicting copy of
    // slot 7's header (thread 1 frame 3) with another payload after slot 20.
    let mut bytes = good[..10 * fb].to_vec();
    bytes.extend_from_slice(&good[6 * fb..7 * fb]);
    bytes.extend_from_slice(&good[10 * fb..21 * fb]);
    let mut fake = good[7 * fb..8 * fb].to_vec();
    fake[32..].fill(0x1b);
    bytes.extend_from_slice(&fake);
    bytes.extend_from_slice(&good[21 * fb..]);
    let p = write(dir.path(), "dup.vdif", &bytes);
    assert!(damage(&walk(&p, &bytes)).is_empty());
    let (valid, warnings) = read_both(&p, 2, 16);
    assert_eq!(valid, all_valid_except(2, 16, &[]));
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("2 frame(s) repeat the thread and time")),
        "{warnings:?}"
    );
    let mut s = StreamSource::open(std::slice::from_ref(&p), Some(RATE), 1 << 24).unwrap();
    valid_frames(&mut s, 2, 16);
    assert!(
        s.warnings().iter().any(|w| w.contains("2 frame(s) repeat")),
        "{:?}",
        s.warnings()
    );
    let sum = scan(&p, Some(RATE)).unwrap();
    for t in &sum.threads {
        assert_eq!(t.duplicate_frames, 1);
        assert_eq!(t.overlap_count, 1);
        assert_eq!(t.missing_frames, 0);
        assert_eq!(t.overlaps[0].frames, 1);
        assert_eq!(t.overlaps[0].start, start().add_seconds(3.0 / 8.0));
    }
    assert_eq!(sum.threads[0].overlaps[0].offset, (10 * fb) as u64);
}

#[test]
fn a_clock_jump_is_a_gap_forward_and_an_overlap_back() {
    let dir = tempfile::tempdir().unwrap();
    // One thread, 24 frames. From slot 12 on the clock is 4 frames (0.5 s)
    // behind: frames 12..24 claim 8..20, so 8..11 repeat and 20..23 vanish.
    let (good, fb) = recording(1, 24);
    let mut back = good.clone();
    for slot in 12..24 {
        retime(&mut back, fb, slot, slot as u64 - 4);
    }
    let p = write(dir.path(), "back.vdif", &back);
    assert!(damage(&walk(&p, &back)).is_empty());
    let sum = scan(&p, Some(RATE)).unwrap();
    let t = &sum.threads[0];
    assert_eq!((t.duplicate_frames, t.overlap_count), (4, 1));
    assert_eq!(t.overlaps[0].start, start().add_seconds(1.0));
    assert_eq!(t.overlaps[0].end, start().add_seconds(1.5));
    assert_eq!(t.overlaps[0].offset, (12 * fb) as u64);
    assert_eq!(t.missing_frames, 0);
    assert_eq!(
        t.last_sample_time,
        start().add_seconds(20.0 / 8.0 - 1.0 / RATE)
    );
    // Frames 8..11 keep their first (on-grid) data; 12..19 come from slots
    // 16..23, whose payloads are frames 16..23's: the clock, not the data,
    // is what went wrong, and emcorr cannot know, so those samples are the
    // ones the headers claim. What it must not do is mix the repeated ones.
    let mut src = FileSource::open(std::slice::from_ref(&p), Some(RATE)).unwrap();
    let n = 24 * SPF;
    let (mut o, mut v) = (vec![0f32; n], vec![false; n]);
    src.read(0, 0, 0, &mut o, &mut v).unwrap();
    for k in 0..24usize {
        let slot = match k {
            0..12 => Some(k),
            12..20 => Some(k + 4),
            _ => None,
        };
        assert_eq!(v[k * SPF], slot.is_some(), "frame {k}");
        if let Some(s) = slot {
            assert_eq!(o[k * SPF + 5], level(codes(0, s as u64)[5]), "frame {k}");
        }
    }
    assert!(src
        .warnings()
        .iter()
        .any(|w| w.contains("4 frame(s) repeat")));

    // Forward: from slot 12 on the clock is 1 s ahead: a gap of 8 frames.
    let mut fwd = good.clone();
    for slot in 12..24 {
        retime(&mut fwd, fb, slot, slot as u64 + 8);
    }
    let p = write(dir.path(), "fwd.vdif", &fwd);
    let sum = scan(&p, Some(RATE)).unwrap();
    let t = &sum.threads[0];
    assert_eq!((t.gap_count, t.missing_frames), (1, 8));
    assert_eq!(t.gaps[0].start, start().add_seconds(1.5));
    assert_eq!(t.gaps[0].end, start().add_seconds(2.5));
}

#[test]
fn a_thread_that_stops_is_reported_and_its_absence_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    // Thread 2 of 3 stops after frame 5 (of 16); thread 1 starts at frame 2.
    let cfg = WriterConfig::new(STATION, 2, false, SPF, RATE, start());
    let mut w = VdifWriter::new(Vec::new(), cfg).unwrap();
    w.skip(1, 2);
    for k in 0..16u64 {
        for t in 0..3u16 {
            if (t == 2 && k > 5) || (t == 1 && k < 2) {
                continue;
            }
            w.write_codes(t, &codes(t, k), false).unwrap();
        }
    }
    let bytes = w.into_inner().unwrap();
    let p = write(dir.path(), "stop.vdif", &bytes);
    assert!(damage(&walk(&p, &bytes)).is_empty());
    let sum = scan(&p, Some(RATE)).unwrap();
    let t = |id: usize| &sum.threads[id];
    assert_eq!(
        (t(2).frames_missing_at_start, t(2).frames_missing_at_end),
        (0, 10)
    );
    assert_eq!(
        (t(1).frames_missing_at_start, t(1).frames_missing_at_end),
        (2, 0)
    );
    assert_eq!(
        (t(0).frames_missing_at_start, t(0).frames_missing_at_end),
        (0, 0)
    );
    let bad: Vec<(u16, u64)> = (6..16).map(|k| (2, k)).chain([(1, 0), (1, 1)]).collect();
    let (valid, _) = read_both(&p, 3, 16);
    assert_eq!(valid, all_valid_except(3, 16, &bad));
}

#[test]
fn a_sparse_tail_is_skipped_without_reading_it() {
    // A recording whose file was extended to 1 GiB of holes (a preallocated
    // or cut-short file): the zeros are one damaged range to the end.
    let dir = tempfile::tempdir().unwrap();
    let (good, fb) = recording(2, 8);
    let p = write(dir.path(), "sparse.vdif", &good);
    let len = 1u64 << 30;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(len)
        .unwrap();
    let file = VdifFile::open(&p).unwrap();
    if file.holes().is_empty() {
        eprintln!("this file system reports no holes: skipped");
        return;
    }
    let items: Vec<Item> = file
        .frames()
        .map(|r| item(r, |f| (f.offset, f.header)))
        .collect();
    assert_eq!(items.len(), 17);
    assert_eq!(damage(&items), vec![(good.len() as u64, len)]);
    let (valid, _) = read_both_file_only(&p, 2, 8);
    assert_eq!(valid, all_valid_except(2, 8, &[]));
    let sum = scan(&p, Some(RATE)).unwrap();
    assert_eq!(sum.frames, 16);
    assert_eq!(sum.corrupted_bytes, len - good.len() as u64);
    let _ = fb;
}

fn read_both_file_only(path: &Path, threads: u16, frames: u64) -> (Vec<Vec<bool>>, Vec<String>) {
    let mut file = FileSource::open(&[path.to_path_buf()], Some(RATE)).unwrap();
    let a = valid_frames(&mut file, threads, frames);
    assert_eq!(file.end_sample(), Some((frames as usize * SPF) as i64));
    (a, file.warnings())
}

/// Random structural damage — stray bytes inserted, bytes lost, headers
/// overwritten — never makes a reader panic, the two readers always agree,
/// and no valid sample is ever a wrong one. Not covered, because no reader
/// can tell without checksums: bytes changed inside a payload, and bytes
/// inserted or lost in whole multiples of the frame size inside a frame.
#[test]
fn random_damage_never_yields_wrong_data() {
    let dir = tempfile::tempdir().unwrap();
    let (good, fb) = recording(3, 12);
    let mut x = 0x1234_5678_9abc_def0u64;
    let mut rnd = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for trial in 0..300 {
        let mut bytes = good.clone();
        let mut ops = Vec::new();
        // Header noise first, at true frame starts (noise inside a payload
        // is undetectable: VDIF has no checksum)...
        for _ in 0..rnd(3) {
            let slot = rnd(bytes.len() / fb) * fb;
            for b in bytes.iter_mut().skip(slot + 8).take(8) {
                *b = rnd(256) as u8;
            }
            ops.push((2, slot, 0));
        }
        // ... then stray bytes and lost bytes anywhere.
        for _ in 0..1 + rnd(3) {
            let at = rnd(bytes.len());
            let mut n = 1 + rnd(3 * fb);
            if n % fb == 0 {
                n += 1;
            }
            if rnd(2) == 0 {
                let junk: Vec<u8> = (0..n).map(|_| rnd(256) as u8).collect();
                bytes.splice(at..at, junk);
                ops.push((0, at, n));
            } else {
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
                ops.push((1, at, n));
            }
        }
        let p = write(dir.path(), &format!("r{trial}.vdif"), &bytes);
        eprintln!("trial {trial}: {ops:?}");
        let items = walk(&p, &bytes);
        if std::env::var("EMCORR_TRIAL").ok() == Some(trial.to_string()) {
            for i in &items {
                eprintln!("{i:?}");
            }
        }
        let _ = scan(&p, Some(RATE));
        if let Ok(mut f) = FileSource::open(std::slice::from_ref(&p), Some(RATE)) {
            let ok = f.info().samples_per_frame == SPF && f.origin() == start();
            if ok {
                valid_frames(&mut f, 3, 12);
            }
        }
        if let Ok(mut s) = StreamSource::open(std::slice::from_ref(&p), Some(RATE), 1 << 24) {
            if s.info().samples_per_frame == SPF && s.origin() == start() {
                valid_frames(&mut s, 3, 12);
            }
        }
    }
}

#[test]
fn damage_in_the_first_frames_does_not_hide_threads() {
    // Slot 1 (thread 1's first frame) is noise: the threads after it must
    // still be found, and only that frame is lost.
    let dir = tempfile::tempdir().unwrap();
    let (mut bytes, fb) = recording(4, 8);
    bytes[fb..fb + 32].fill(0x3c);
    let p = write(dir.path(), "early.vdif", &bytes);
    let src = FileSource::open(std::slice::from_ref(&p), Some(RATE)).unwrap();
    assert_eq!(src.info().threads, vec![0, 1, 2, 3]);
    let (valid, _) = read_both(&p, 4, 8);
    assert_eq!(valid, all_valid_except(4, 8, &[(1, 0)]));
}
