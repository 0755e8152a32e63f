//! Golden tests: emcorr's decode against Python baseband's (an independent
//! decoder), on baseband's sample files and files written by baseband's
//! writer. See testdata/vdif/make_golden.py and testdata/README.md.

use std::path::PathBuf;

use formats::vdif::{FileSource, Levels, SampleSource, VdifFile};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/vdif")
        .join(name)
}

struct Line {
    frame: usize,
    thread: u16,
    channel: usize,
    first: usize,
    count: usize,
    codes: Vec<u8>,
}

fn golden(name: &str) -> Vec<Line> {
    let text = std::fs::read_to_string(testdata(&format!("{name}.golden"))).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<usize> = l.split(' ').map(|x| x.parse().unwrap()).collect();
            Line {
                frame: v[0],
                thread: v[1] as u16,
                channel: v[2],
                first: v[3],
                count: v[4],
                codes: v[5..].iter().map(|&c| c as u8).collect(),
            }
        })
        .collect()
}

const FILES: [&str; 6] = [
    "sample.vdif",
    "sample_mwa.vdif",
    "sample_bps1.vdif",
    "sample_arochime.vdif",
    "bb_complex2bit_4ch_2thread.vdif",
    "bb_real4bit_2ch_legacy.vdif",
];

/// Frame by frame: every golden code decodes to its level, exactly.
#[test]
fn frames_decode_as_baseband_decodes_them() {
    let levels = Levels::standard();
    for name in FILES {
        let file = VdifFile::open(&testdata(name)).unwrap();
        let frames: Vec<_> = file.frames().map(|f| f.unwrap()).collect();
        let lines = golden(name);
        assert!(!lines.is_empty());
        for l in &lines {
            let f = &frames[l.frame];
            assert_eq!(f.header.thread_id, l.thread, "{name} frame {}", l.frame);
            let fmt = f.header.sample_format();
            let dec = formats::vdif::Decoder::new(fmt, &levels);
            let m = fmt.components();
            let mut out = vec![0f32; l.count * m];
            dec.decode_channel(f.payload(), l.channel, l.first, &mut out);
            let table = levels.table(fmt.bits);
            for (j, (&v, &c)) in out.iter().zip(&l.codes).enumerate() {
                assert_eq!(
                    v, table[c as usize],
                    "{name} frame {} ch {} component {j}",
                    l.frame, l.channel
                );
            }
        }
    }
}

/// Through the SampleSource (computed seeks, thread and channel selection):
/// sample k × samples_per_frame + i of a thread is golden frame k's sample i.
#[test]
fn sample_source_reads_what_baseband_decodes() {
    let levels = Levels::standard();
    for name in FILES {
        let path = testdata(name);
        let file = VdifFile::open(&path).unwrap();
        let headers: Vec<_> = file.frames().map(|f| f.unwrap().header).collect();
        // sample.vdif is 32 Msamples/s (its EDV 3 headers say 16 MHz
        // bandwidth); the others are given the rate their frame numbers imply.
        let rate = if name == "sample.vdif" {
            Some(32e6)
        } else {
            None
        };
        let mut src = FileSource::open(std::slice::from_ref(&path), rate).unwrap();
        let info = src.info().clone();
        let fps = (info.sample_rate_hz / info.samples_per_frame as f64).round() as i64;
        let origin = src.origin().sec();
        let m = if info.complex { 2 } else { 1 };
        for l in golden(name) {
            let h = &headers[l.frame];
            let k = (h.second() - origin) * fps + i64::from(h.frame_number);
            let first = k * info.samples_per_frame as i64 + l.first as i64;
            let mut out = vec![0f32; l.count * m];
            let mut valid = vec![false; l.count];
            src.read(l.thread, l.channel, first, &mut out, &mut valid)
                .unwrap();
            assert!(valid.iter().all(|&v| v), "{name} frame {}", l.frame);
            let table = levels.table(info.bits);
            let want: Vec<f32> = l.codes.iter().map(|&c| table[c as usize]).collect();
            assert_eq!(
                out, want,
                "{name} frame {} thread {} ch {}",
                l.frame, l.thread, l.channel
            );
        }
        assert_eq!(src.indexed_files(), 0, "{name}: seeks were computed");
    }
}

/// Under baseband's own 2-bit table (high level 3.316505) our values equal
/// baseband's level for each golden code, bit for bit.
#[test]
fn values_match_under_basebands_level_table() {
    let bb = Levels::with_2bit_high(3.316_505);
    let bb_two: [f32; 4] = [-3.316_505, -1.0, 1.0, 3.316_505];
    let path = testdata("sample.vdif");
    let mut src =
        FileSource::open_with_levels(std::slice::from_ref(&path), Some(32e6), &bb).unwrap();
    let l = &golden("sample.vdif")[0];
    let mut out = vec![0f32; l.count];
    let mut valid = vec![false; l.count];
    // Golden line 0 is thread 1's first frame, which starts at sample 0.
    src.read(l.thread, 0, l.first as i64, &mut out, &mut valid)
        .unwrap();
    let want: Vec<f32> = l.codes.iter().map(|&c| bb_two[c as usize]).collect();
    assert_eq!(out, want);
}

/// Header fields as baseband reads them (values printed by baseband 4.3.0's
/// `VDIFHeader` for the first frame of each sample).
#[test]
fn headers_read_as_baseband_reads_them() {
    let h = VdifFile::open(&testdata("sample.vdif"))
        .unwrap()
        .frame_at(0)
        .unwrap()
        .header;
    assert_eq!(
        (
            h.invalid,
            h.legacy,
            h.seconds,
            h.ref_epoch,
            h.frame_number,
            h.version
        ),
        (false, false, 14_363_767, 28, 0, 1)
    );
    assert_eq!(
        (
            h.log2_channels,
            h.frame_length_8,
            h.complex,
            h.bits_per_sample
        ),
        (0, 629, false, 2)
    );
    assert_eq!(
        (h.thread_id, h.station_id, h.edv(), h.samples_per_frame()),
        (1, 65_532, 3, 20_000)
    );
    let h = VdifFile::open(&testdata("sample_mwa.vdif"))
        .unwrap()
        .frame_at(0)
        .unwrap()
        .header;
    assert_eq!(
        (
            h.seconds,
            h.ref_epoch,
            h.frame_length_8,
            h.complex,
            h.bits_per_sample
        ),
        (8_196_585, 31, 68, true, 8)
    );
    assert_eq!(
        (h.channels(), h.station_id, h.edv(), h.samples_per_frame()),
        (2, 28_023, 0, 128)
    );
    let h = VdifFile::open(&testdata("sample_arochime.vdif"))
        .unwrap()
        .frame_at(0)
        .unwrap()
        .header;
    assert_eq!(
        (
            h.seconds,
            h.ref_epoch,
            h.frame_number,
            h.channels(),
            h.bits_per_sample
        ),
        (514_629_935, 0, 308_109, 1024, 4)
    );
    let h = VdifFile::open(&testdata("bb_real4bit_2ch_legacy.vdif"))
        .unwrap()
        .frame_at(0)
        .unwrap()
        .header;
    assert!(h.legacy);
    assert_eq!(
        (h.header_bytes(), h.frame_bytes(), h.station_id),
        (16, 272, 0x454d)
    );
    // baseband's writer put 2026-03-14T23:45:00 UTC in the headers.
    assert_eq!(
        h.sample_time(0, 1024.0).to_iso8601(),
        "2026-03-14T23:45:00.000000000Z"
    );
}
