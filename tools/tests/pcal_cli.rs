//! `emcorr pcal` and `emcorr plot --pcal` on files written through the
//! formats writer: the tones given come out (CSV and JSON), the plot is a
//! PNG of the documented size, and a file without a PHASE-CAL table is bad
//! input (exit 2, one line naming the file).

use assert_cmd::Command;
use formats::fitsidi::{
    IdiAntenna, IdiBand, IdiEop, IdiHeader, IdiSource, IdiWriter, Mount, PcalRow, UvRow,
};
use formats::UtcTime;
use std::path::Path;

fn header() -> IdiHeader {
    let ant = |name: &str, id: u32| IdiAntenna {
        name: name.into(),
        id,
        xyz_m: [1e6 * id as f64, 0.0, 0.0],
        vel_m_s: [0.0; 3],
        mount: Mount::AltAz,
        axis_offset_m: 0.0,
        diameter_m: 0.0,
        n_levels: 4,
    };
    IdiHeader {
        obscode: "PCALCLI".into(),
        telescope: "VLBA".into(),
        correlator: "EMCORR".into(),
        correlator_version: "t".into(),
        ref_date: UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0),
        ref_freq_hz: 8.4e9,
        n_chan: 4,
        chan_bw_hz: 4e6,
        ref_pixel: 1.0,
        fx: None,
        bands: (0..2)
            .map(|b| IdiBand {
                freq_offset_hz: 100e6 * b as f64,
                sideband: 1,
                total_bw_hz: 16e6,
                chan_bw_hz: 4e6,
            })
            .collect(),
        stokes: vec![-1, -2],
        antennas: vec![ant("EF", 1), ant("MOON", 2)],
        sources: vec![IdiSource {
            id: 1,
            name: "S".into(),
            calcode: String::new(),
            ra_deg: 10.0,
            dec_deg: 20.0,
        }],
        array_xyz_m: [0.0; 3],
        eop: IdiEop::default(),
        scans: vec![],
    }
}

/// Phase of tone (antenna a, interval k, pol p, band b, tone t): distinct
/// and within (−π, π).
fn phase(a: u32, k: usize, p: usize, b: usize, t: usize) -> f64 {
    -2.5 + 0.4 * a as f64 + 0.1 * k as f64 + 0.3 * p as f64 + 0.5 * b as f64 + 0.2 * t as f64
}

/// 5 intervals × 2 stations; band 1 has 3 tones, band 2 two.
fn rows(h: &IdiHeader) -> Vec<PcalRow> {
    let tones = |b: usize| if b == 0 { 3 } else { 2 };
    let mut out = Vec::new();
    for k in 0..5 {
        for a in [1u32, 2] {
            let amp = 0.01 * a as f64;
            let per = |f: &dyn Fn(f64) -> f64| -> Vec<Vec<Vec<f32>>> {
                (0..2)
                    .map(|p| {
                        (0..2)
                            .map(|b| {
                                (0..tones(b))
                                    .map(|t| (amp * f(phase(a, k, p, b, t))) as f32)
                                    .collect()
                            })
                            .collect()
                    })
                    .collect()
            };
            out.push(PcalRow {
                time: h.ref_date.add_seconds(3600.0 + 0.5 + k as f64),
                time_interval_s: 1.0,
                source_id: 1,
                antenna_no: a,
                freq_id: 1,
                cable_cal_s: 0.0,
                freq_hz: vec![
                    (0..2)
                        .map(|b| {
                            (0..tones(b))
                                .map(|t| 8.4e9 + 100e6 * b as f64 + 1e6 + 5e6 * t as f64)
                                .collect()
                        })
                        .collect();
                    2
                ],
                re: per(&f64::cos),
                im: per(&f64::sin),
                rate: vec![vec![vec![1e-13; 3], vec![2e-13; 2]]; 2],
                state: vec![vec![[0.0; 4]; 2]; 2],
            });
        }
    }
    out
}

fn write(path: &Path, pcal: bool) {
    let h = header();
    let mut w = IdiWriter::create(path, &h, &[]).unwrap();
    w.write_row(&UvRow {
        time: h.ref_date.add_seconds(3601.0),
        baseline: (1, 2),
        source_id: 1,
        freq_id: 1,
        inttim_s: 1.0,
        uvw_s: [0.0; 3],
        vis: vec![[1.0, 0.0, 1.0]; 2 * 4 * 2],
    })
    .unwrap();
    if pcal {
        w.add_pcal(rows(&h)).unwrap();
    }
    w.finish().unwrap();
}

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

#[test]
fn pcal_prints_every_tone_as_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tones.fits");
    write(&path, true);
    let f = path.to_str().unwrap();
    let out = emcorr().args(["pcal", f]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "station,time_utc,band,pol,tone,sky_freq_hz,amplitude,phase_rad,rate_s_per_s"
    );
    let body: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 5 intervals × 2 stations × 2 pols × (3 + 2) tones; padding left out.
    assert_eq!(body.len(), 5 * 2 * 2 * 5);
    for l in &body {
        let (a, p) = (
            if l[0] == "EF" { 1 } else { 2 },
            if l[3] == "R" { 0 } else { 1 },
        );
        let band: usize = l[2].parse().unwrap();
        let tone: usize = l[4].parse().unwrap();
        let t = UtcTime::parse_iso8601(l[1]).unwrap();
        let k = (t.seconds_since(header().ref_date) - 3600.5).round() as usize;
        let want = phase(a, k, p, band - 1, tone - 1);
        let got: f64 = l[7].parse().unwrap();
        assert!((got - want).abs() < 1e-6, "{l:?}: phase {got} vs {want}");
        let amp: f64 = l[6].parse().unwrap();
        assert!((amp - 0.01 * a as f64).abs() < 1e-8, "{l:?}");
        let f_hz: f64 = l[5].parse().unwrap();
        assert_eq!(
            f_hz,
            8.4e9 + 100e6 * (band - 1) as f64 + 1e6 + 5e6 * (tone - 1) as f64
        );
        let rate: f64 = l[8].parse().unwrap();
        assert!((rate - band as f64 * 1e-13).abs() < 1e-20, "{l:?}");
    }
    assert!(body.iter().any(|l| l[0] == "MOON" && l[3] == "L"));

    let out = emcorr()
        .args(["pcal", f, "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), body.len());
    let first = &arr[0];
    for key in [
        "station",
        "time_utc",
        "band",
        "pol",
        "tone",
        "sky_freq_hz",
        "amplitude",
        "phase_rad",
        "rate_s_per_s",
    ] {
        assert!(first.get(key).is_some(), "{key} missing: {first}");
    }
    assert_eq!(first["station"], "EF");
    assert!((first["phase_rad"].as_f64().unwrap() - phase(1, 0, 0, 0, 0)).abs() < 1e-6);
}

#[test]
fn a_file_without_phase_cal_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.fits");
    write(&path, false);
    let f = path.to_str().unwrap();
    for args in [vec!["pcal", f], vec!["plot", "--pcal", f, "-o", "x.png"]] {
        let out = emcorr().args(&args).assert().code(2);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains("plain.fits")
                && err.contains("no PHASE-CAL table")
                && err.trim().lines().count() == 1,
            "{err}"
        );
    }
    assert!(!dir.path().join("x.png").exists());
    let missing = dir.path().join("missing.fits");
    emcorr()
        .args(["pcal", missing.to_str().unwrap()])
        .assert()
        .code(2);
}

#[test]
fn plot_pcal_writes_a_png_of_the_documented_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tones.fits");
    write(&path, true);
    let png = match std::env::var_os("EMCORR_KEEP_PLOTS") {
        Some(d) => {
            std::fs::create_dir_all(&d).unwrap();
            Path::new(&d).join("pcal.png")
        }
        None => dir.path().join("pcal.png"),
    };
    emcorr()
        .args([
            "plot",
            "--pcal",
            path.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
        ])
        .assert()
        .success();
    let b = std::fs::read(&png).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    // Two stations: 70 + 2 × 320 pixels high.
    assert_eq!((be(16), be(20)), (1400, 70 + 2 * 320));
    assert!(b.len() > 20_000, "{} bytes: an empty plot?", b.len());
    // Default name beside the input.
    emcorr()
        .args(["plot", "--pcal", path.to_str().unwrap()])
        .assert()
        .success();
    assert!(dir.path().join("tones_pcal.png").exists());
}
