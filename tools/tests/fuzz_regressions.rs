//! Replays every fuzz input kept in the repository — the corpus seeds
//! (`fuzz/corpus/<target>/`) and every crash input found so far
//! (`fuzz/regressions/<target>/`) — through the same entry points the fuzz
//! targets call (`fuzz/entries.rs`, included here), on stable Rust. A crash
//! the fuzzer found stays fixed because its input is replayed here by every
//! `cargo test`.

#[path = "../../fuzz/entries.rs"]
mod entries;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Feed every file under fuzz/{corpus,regressions}/`target` to `entry`;
/// returns how many regression inputs there were.
fn replay(target: &str, entry: fn(&[u8])) -> usize {
    let mut regressions = 0;
    let mut seeds = 0;
    for kind in ["corpus", "regressions"] {
        let dir = fuzz_dir().join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let data = std::fs::read(&f).unwrap();
            eprintln!("{target}: {}", f.display());
            entry(&data);
            if kind == "regressions" {
                regressions += 1;
            } else {
                seeds += 1;
            }
        }
    }
    assert!(seeds > 0, "no corpus seeds for {target}");
    regressions
}

#[test]
fn vdif_frames_inputs_replay() {
    replay("vdif_frames", entries::vdif_frames);
}

#[test]
fn vdif_stream_inputs_replay() {
    replay("vdif_stream", entries::vdif_stream);
}

#[test]
fn vdif_source_inputs_replay() {
    replay("vdif_source", entries::vdif_source);
}

#[test]
fn job_file_inputs_replay() {
    replay("job_file", entries::job_file);
}

#[test]
fn fitsidi_inputs_replay() {
    replay("fitsidi", entries::fitsidi);
}

#[test]
fn vex_inputs_replay() {
    replay("vex", entries::vex);
}

/// Writes the FITS-IDI corpus seed (a tiny but complete file: 2 antennas,
/// 1 band of 4 channels, 1 Stokes, 3 rows). Run by hand:
/// `cargo test -p tools --test fuzz_regressions -- --ignored write_fitsidi_seed`.
#[test]
#[ignore]
fn write_fitsidi_seed() {
    use formats::fitsidi::{
        IdiAntenna, IdiBand, IdiEop, IdiHeader, IdiSource, IdiWriter, ModelRow, Mount, UvRow,
    };
    use formats::UtcTime;
    let ref_date = UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0);
    let ant = |name: &str, id: u32, mount: Mount| IdiAntenna {
        name: name.into(),
        id,
        xyz_m: [-1640953.9, -5014816.0, 3575411.8],
        vel_m_s: [0.0; 3],
        mount,
        axis_offset_m: 0.0,
        diameter_m: 25.0,
        n_levels: 4,
    };
    let header = IdiHeader {
        obscode: "FUZZ".into(),
        telescope: "EMCORR".into(),
        correlator: "EMCORR".into(),
        correlator_version: "0".into(),
        ref_date,
        ref_freq_hz: 8.4e9,
        n_chan: 4,
        chan_bw_hz: 1e6,
        ref_pixel: 1.0,
        fx: None,
        bands: vec![IdiBand {
            freq_offset_hz: 0.0,
            sideband: 1,
            total_bw_hz: 4e6,
            chan_bw_hz: 1e6,
        }],
        stokes: vec![-1],
        antennas: vec![ant("AA", 1, Mount::AltAz), ant("MO", 2, Mount::Orbiting)],
        sources: vec![IdiSource {
            id: 1,
            name: "SRC".into(),
            calcode: "V".into(),
            ra_deg: 10.0,
            dec_deg: 20.0,
        }],
        array_xyz_m: [0.0; 3],
        eop: IdiEop::default(),
        scans: Vec::new(),
    };
    let t0 = ref_date.add_seconds(3600.0);
    let models: Vec<ModelRow> = (1..=2)
        .map(|a| ModelRow {
            time: t0,
            interval_s: 60.0,
            antenna: a,
            source_id: 1,
            freq_id: 1,
            pdelay_turns: vec![vec![0.0, 0.0]; 1],
            gdelay_s: vec![vec![0.0, 0.0]; 1],
            prate_hz: vec![vec![0.0, 0.0]; 1],
            grate_s_s: vec![vec![0.0, 0.0]; 1],
            disp_s: 0.0,
            ddisp_s_s: 0.0,
            clock_s: 0.0,
            dclock_s_s: 0.0,
        })
        .collect();
    let out = fuzz_dir().join("corpus/fitsidi/tiny.idifits");
    let mut w = IdiWriter::create(&out, &header, &models).unwrap();
    for (k, baseline) in [(1, 1), (1, 2), (2, 2)].into_iter().enumerate() {
        w.write_row(&UvRow {
            time: t0.add_seconds(k as f64),
            baseline,
            source_id: 1,
            freq_id: 1,
            inttim_s: 1.0,
            uvw_s: [1e-3, 2e-3, 3e-3],
            vis: (0..4).map(|c| [c as f32, -(c as f32), 1.0]).collect(),
        })
        .unwrap();
    }
    w.finish().unwrap();
    assert!(Path::new(&out).exists());
}

/// Overflow is silent in release builds, so the replay alone would not catch
/// this one there: the input must be refused, naming the column.
#[test]
fn implausible_uv_date_is_an_error_not_an_overflow() {
    let p = fuzz_dir().join("regressions/fitsidi/huge-date-time-overflow");
    let e = formats::fitsidi::read_idi(&p).unwrap_err().to_string();
    assert!(e.contains("not a plausible time"), "{e}");
}

/// cfitsio divided by zero (SIGFPE, no panic to catch) reading a string
/// column whose TFORM gives a zero-width field: refused before the read.
#[test]
fn zero_width_string_column_is_an_error_not_sigfpe() {
    let p = fuzz_dir().join("regressions/fitsidi/zero-width-string-column-sigfpe");
    let e = formats::fitsidi::read_idi(&p).unwrap_err().to_string();
    assert!(e.contains("impossible field"), "{e}");
}
