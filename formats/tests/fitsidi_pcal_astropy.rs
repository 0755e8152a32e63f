//! Independent check of the PHASE-CAL table: astropy (not cfitsio, not our
//! reader) reads a file we write, and what it finds is compared with AIPS
//! Memo 114 (EXTNAME, column names, TFORM, TUNIT, keywords) and with the
//! values given to the writer.
//!
//! Runs only where `python3 -c "import astropy"` works (CI installs astropy);
//! elsewhere it prints a skip notice. EMCORR_PYTHON overrides the interpreter.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use formats::fitsidi::{
    IdiAntenna, IdiBand, IdiEop, IdiHeader, IdiSource, IdiWriter, Mount, PcalRow, UvRow,
};
use formats::UtcTime;

fn python() -> String {
    std::env::var("EMCORR_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn astropy_available() -> bool {
    Command::new(python())
        .args(["-c", "import astropy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

const N_BAND: usize = 3;

fn header() -> IdiHeader {
    let ant = |name: &str, id: u32, mount: Mount| IdiAntenna {
        name: name.into(),
        id,
        xyz_m: [1e6 * id as f64, 2e6, 3e6],
        vel_m_s: [0.0; 3],
        mount,
        axis_offset_m: 0.0,
        diameter_m: 25.0,
        n_levels: 4,
    };
    IdiHeader {
        obscode: "EMPCAL".into(),
        telescope: "VLBA".into(),
        correlator: "EMCORR".into(),
        correlator_version: "test".into(),
        ref_date: UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0),
        ref_freq_hz: 8.2e9,
        n_chan: 8,
        chan_bw_hz: 4e6,
        ref_pixel: 1.0,
        fx: None,
        bands: (0..N_BAND)
            .map(|b| IdiBand {
                freq_offset_hz: 100e6 * b as f64,
                // Band 2 is LSB: its tones are still given at sky frequency.
                sideband: if b == 1 { -1 } else { 1 },
                total_bw_hz: 32e6,
                chan_bw_hz: 4e6,
            })
            .collect(),
        stokes: vec![-1, -2],
        antennas: vec![ant("PT", 1, Mount::AltAz), ant("MOON1", 2, Mount::Orbiting)],
        sources: vec![IdiSource {
            id: 1,
            name: "0552+398".into(),
            calcode: "V".into(),
            ra_deg: 88.878_357_8,
            dec_deg: 39.813_657_2,
        }],
        array_xyz_m: [0.0; 3],
        eop: IdiEop::default(),
        scans: vec![],
    }
}

/// Tones of band b: 5 in band 1, 2 in the others (NO_TABS = 5).
fn n_tones(b: usize) -> usize {
    if b == 0 {
        5
    } else {
        2
    }
}

fn tone_freq_hz(b: usize, t: usize) -> f64 {
    8.2e9 + 100e6 * b as f64 + 10e3 + 5e6 * t as f64
}

fn value(a: u32, k: usize, p: usize, b: usize, t: usize, what: usize) -> f32 {
    // Distinct, exactly representable (multiples of 1/64).
    ((1000 * what + 100 * k + 50 * a as usize + 10 * b + 2 * t + p) as f32) / 64.0 - 20.0
}

fn rows(h: &IdiHeader) -> Vec<PcalRow> {
    let mut out = Vec::new();
    for k in 0..2 {
        for a in [1u32, 2] {
            let per = |what: usize| -> Vec<Vec<Vec<f32>>> {
                (0..2)
                    .map(|p| {
                        (0..N_BAND)
                            .map(|b| {
                                (0..n_tones(b))
                                    .map(|t| value(a, k, p, b, t, what))
                                    .collect()
                            })
                            .collect()
                    })
                    .collect()
            };
            out.push(PcalRow {
                time: h.ref_date.add_seconds(43_200.0 + 0.5 + k as f64),
                time_interval_s: 1.0,
                source_id: 1,
                antenna_no: a,
                freq_id: 1,
                cable_cal_s: 1e-9 * a as f64,
                freq_hz: (0..2)
                    .map(|_| {
                        (0..N_BAND)
                            .map(|b| (0..n_tones(b)).map(|t| tone_freq_hz(b, t)).collect())
                            .collect()
                    })
                    .collect(),
                re: per(1),
                im: per(2),
                rate: per(3)
                    .into_iter()
                    .map(|p| {
                        p.into_iter()
                            .map(|b| b.into_iter().map(|x| x * 1e-12).collect())
                            .collect()
                    })
                    .collect(),
                state: (0..2)
                    .map(|p| {
                        (0..N_BAND)
                            .map(|b| [0.25, 0.5, b as f32, p as f32])
                            .collect()
                    })
                    .collect(),
            });
        }
    }
    out
}

fn write(path: &Path, h: &IdiHeader, pcal: Vec<PcalRow>) {
    let mut w = IdiWriter::create(path, h, &[]).unwrap();
    w.write_row(&UvRow {
        time: h.ref_date.add_seconds(43_201.0),
        baseline: (1, 2),
        source_id: 1,
        freq_id: 1,
        inttim_s: 2.0,
        uvw_s: [0.001, 0.002, 1.29],
        vis: vec![[1.0, 0.0, 1.0]; N_BAND * 8 * 2],
    })
    .unwrap();
    w.add_pcal(pcal).unwrap();
    w.finish().unwrap();
}

/// astropy's view of the file, one fact per line.
const DUMP: &str = r#"
import sys
from astropy.io import fits
with fits.open(sys.argv[1]) as f:
    print("hdus " + ",".join(h.name for h in f[1:]))
    tab = f["PHASE-CAL"]
    hdr = tab.header
    for c in tab.columns:
        print("col %s %s %s %s" % (c.name, c.format, c.unit or "-", c.dim or "-"))
    for k in ("EXTNAME", "EXTVER", "TABREV", "NO_POL", "NO_TABS", "NO_TONES", "NO_BAND", "NO_STKD", "STK_1",
              "NO_CHAN", "REF_FREQ", "CHAN_BW", "REF_PIXL", "OBSCODE", "RDATE"):
        print("key %s %s" % (k, hdr[k]))
    d = tab.data
    for i, r in enumerate(d):
        print("row %d %r %r %d %d %d %d %r" % (i, float(r["TIME"]), float(r["TIME_INTERVAL"]),
              r["SOURCE_ID"], r["ANTENNA_NO"], r["ARRAY"], r["FREQID"], float(r["CABLE_CAL"])))
        for p in (1, 2):
            for name in ("PC_FREQ", "PC_REAL", "PC_IMAG", "PC_RATE", "STATE"):
                # Flat (no TDIM), tone (or state) fastest: Memo 114's layout.
                per_band = 4 if name == "STATE" else hdr["NO_TABS"]
                a = r["%s_%d" % (name, p)].reshape(hdr["NO_BAND"], per_band)
                for b in range(a.shape[0]):
                    for t in range(a.shape[1]):
                        print("val %d %s_%d %d %d %r" % (i, name, p, b, t, float(a[b][t])))
"#;

#[test]
fn astropy_reads_the_phase_cal_table_as_memo_114_defines_it() {
    if !astropy_available() {
        assert!(
            std::env::var_os("EMCORR_REQUIRE_PYTHON").is_none(),
            "EMCORR_REQUIRE_PYTHON is set but astropy cannot be imported"
        );
        println!(
            "SKIPPED astropy_reads_the_phase_cal_table_as_memo_114_defines_it: `{} -c \"import astropy\"` failed",
            python()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pcal.idifits");
    let h = header();
    let given = rows(&h);
    write(&path, &h, given.clone());
    let out = Command::new(python())
        .args(["-c", DUMP])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "astropy failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Table order: PHASE-CAL after UV_DATA, last.
    let hdus = text.lines().find_map(|l| l.strip_prefix("hdus ")).unwrap();
    assert_eq!(
        hdus,
        "ARRAY_GEOMETRY,ANTENNA,FREQUENCY,SOURCE,UV_DATA,PHASE-CAL"
    );

    // Columns: Memo 114's names, forms and units, in its order.
    let cols: Vec<Vec<&str>> = text
        .lines()
        .filter_map(|l| l.strip_prefix("col "))
        .map(|l| l.split(' ').collect())
        .collect();
    let tabs = 5 * N_BAND;
    let mut want: Vec<(String, String, &str, String)> = vec![
        ("TIME".into(), "1D".into(), "DAYS", "-".into()),
        ("TIME_INTERVAL".into(), "1E".into(), "DAYS", "-".into()),
        ("SOURCE_ID".into(), "1J".into(), "-", "-".into()),
        ("ANTENNA_NO".into(), "1J".into(), "-", "-".into()),
        ("ARRAY".into(), "1J".into(), "-", "-".into()),
        ("FREQID".into(), "1J".into(), "-", "-".into()),
        ("CABLE_CAL".into(), "1D".into(), "SECONDS", "-".into()),
    ];
    for p in 1..=2 {
        // No TDIM (CASA 6.7 aborts on it): shapes come from the keywords.
        let dim = String::from("-");
        want.push((
            format!("STATE_{p}"),
            format!("{}E", 4 * N_BAND),
            "-",
            dim.clone(),
        ));
        want.push((
            format!("PC_FREQ_{p}"),
            format!("{tabs}D"),
            "HZ",
            dim.clone(),
        ));
        want.push((format!("PC_REAL_{p}"), format!("{tabs}E"), "-", dim.clone()));
        want.push((format!("PC_IMAG_{p}"), format!("{tabs}E"), "-", dim.clone()));
        want.push((format!("PC_RATE_{p}"), format!("{tabs}E"), "SEC/SEC", dim));
    }
    assert_eq!(cols.len(), want.len(), "{text}");
    for (c, w) in cols.iter().zip(&want) {
        assert_eq!(
            (c[0], c[1], c[2], c[3]),
            (w.0.as_str(), w.1.as_str(), w.2, w.3.as_str()),
            "{text}"
        );
    }

    // Keywords: the common ones and NO_POL, NO_TABS (NO_TONES for CASA).
    let keys: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("key "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    for (k, v) in [
        ("EXTNAME", "PHASE-CAL"),
        ("EXTVER", "1"),
        ("TABREV", "2"),
        ("NO_POL", "2"),
        ("NO_TABS", "5"),
        ("NO_TONES", "5"),
        ("NO_BAND", "3"),
        ("NO_STKD", "2"),
        ("STK_1", "-1"),
        ("NO_CHAN", "8"),
        ("REF_FREQ", "8200000000.0"),
        ("CHAN_BW", "4000000.0"),
        ("REF_PIXL", "1.0"),
        ("OBSCODE", "EMPCAL"),
        ("RDATE", "2026-03-14"),
    ] {
        assert_eq!(keys.get(k).copied(), Some(v), "{k}: {text}");
    }

    // Values: every cell as given, padding (frequency 0, value 0) past a
    // band's tones; rows in time order.
    let mut n_row = 0;
    for l in text.lines().filter_map(|l| l.strip_prefix("row ")) {
        let f: Vec<&str> = l.split(' ').collect();
        let i: usize = f[0].parse().unwrap();
        let r = &given[i];
        let time_d: f64 = f[1].parse().unwrap();
        assert!(
            (time_d - (43_200.5 + (i / 2) as f64) / 86_400.0).abs() < 1e-15,
            "{l}"
        );
        let int_d: f64 = f[2].parse().unwrap();
        assert!((int_d - 1.0 / 86_400.0).abs() < 1e-12, "{l}");
        assert_eq!(
            (f[3], f[4], f[5], f[6]),
            ("1", r.antenna_no.to_string().as_str(), "1", "1"),
            "{l}"
        );
        assert_eq!(f[7].parse::<f64>().unwrap(), r.cable_cal_s, "{l}");
        n_row += 1;
    }
    assert_eq!(n_row, given.len());
    let mut n_val = 0;
    for l in text.lines().filter_map(|l| l.strip_prefix("val ")) {
        let f: Vec<&str> = l.split(' ').collect();
        let i: usize = f[0].parse().unwrap();
        let (name, pol) = f[1].rsplit_once('_').unwrap();
        let p: usize = pol.parse::<usize>().unwrap() - 1;
        let (b, t): (usize, usize) = (f[2].parse().unwrap(), f[3].parse().unwrap());
        let got: f64 = f[4].parse().unwrap();
        let r = &given[i];
        let real = t < n_tones(b);
        let want = match name {
            "PC_FREQ" => {
                if real {
                    r.freq_hz[p][b][t]
                } else {
                    0.0
                }
            }
            "PC_REAL" | "PC_IMAG" | "PC_RATE" => {
                let v = match name {
                    "PC_REAL" => &r.re,
                    "PC_IMAG" => &r.im,
                    _ => &r.rate,
                };
                if real {
                    v[p][b][t] as f64
                } else {
                    0.0
                }
            }
            "STATE" => r.state[p][b][t] as f64,
            _ => panic!("{l}"),
        };
        assert_eq!(got, want, "{l}");
        n_val += 1;
    }
    // Per row and polarisation: 4 tone columns of NO_BAND × NO_TABS plus
    // STATE's NO_BAND × 4.
    assert_eq!(n_val, given.len() * 2 * (4 * N_BAND * 5 + N_BAND * 4));
}
