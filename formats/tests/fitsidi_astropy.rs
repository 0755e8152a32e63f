//! Independent check of the FITS-IDI writer: astropy reads a file we write and
//! testdata/check_fitsidi.py asserts Memo 114's tables, keywords and shapes.
//!
//! Runs only where `python3 -c "import astropy"` works (CI installs astropy);
//! elsewhere it prints a skip notice. EMCORR_PYTHON overrides the interpreter.

use std::path::{Path, PathBuf};
use std::process::Command;

use formats::fitsidi::{
    IdiAntenna, IdiBand, IdiEop, IdiHeader, IdiScan, IdiSource, IdiWriter, ModelRow, Mount, UvRow,
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

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/check_fitsidi.py")
}

fn header() -> IdiHeader {
    let ant = |name: &str, id: u32, xyz: [f64; 3], mount: Mount| IdiAntenna {
        name: name.into(),
        id,
        xyz_m: xyz,
        vel_m_s: if mount == Mount::Orbiting {
            [23_000.0, 14_000.0, -950.0]
        } else {
            [0.0; 3]
        },
        mount,
        axis_offset_m: 0.0,
        diameter_m: 25.0,
        n_levels: 4,
    };
    IdiHeader {
        obscode: "EMTEST".into(),
        telescope: "VLBA".into(),
        correlator: "EMCORR".into(),
        correlator_version: "test".into(),
        ref_date: UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0),
        ref_freq_hz: 8.4e9,
        n_chan: 16,
        chan_bw_hz: 1e6,
        ref_pixel: 1.0,
        fx: None,
        bands: (0..2)
            .map(|b| IdiBand {
                freq_offset_hz: 16e6 * b as f64,
                sideband: 1,
                total_bw_hz: 16e6,
                chan_bw_hz: 1e6,
            })
            .collect(),
        stokes: vec![-1, -2, -3, -4],
        antennas: vec![
            ant("PT", 1, [-1640953.9, -5014816.0, 3575411.8], Mount::AltAz),
            ant("LA", 2, [-1449752.6, -4975298.6, 3709123.8], Mount::AltAz),
            ant("MOON1", 3, [2.1e8, -3.2e8, 0.9e8], Mount::Orbiting),
        ],
        sources: vec![
            IdiSource {
                id: 1,
                name: "0552+398".into(),
                calcode: "V".into(),
                ra_deg: 88.878_357_8,
                dec_deg: 39.813_657_2,
            },
            IdiSource {
                id: 2,
                name: "LANDER".into(),
                calcode: String::new(),
                ra_deg: 88.9,
                dec_deg: 39.8,
            },
        ],
        array_xyz_m: [0.0; 3],
        eop: IdiEop::default(),
        scans: Vec::new(),
    }
}

/// Start of the sample's data: 23:59 UTC on RDATE.
const T0_S: f64 = 23.0 * 3600.0 + 59.0 * 60.0;

fn write_sample(path: &Path) {
    let mut h = header();
    let t0 = h.ref_date.add_seconds(T0_S);
    // Two scans; the second a same-beam one of both sources, crossing 0h.
    h.scans = vec![
        IdiScan {
            name: "No0001".into(),
            start: t0,
            duration_s: 40.0,
            source_ids: vec![1],
        },
        IdiScan {
            name: "No0002".into(),
            start: t0.add_seconds(40.0),
            duration_s: 40.0,
            source_ids: vec![1, 2],
        },
    ];
    let models: Vec<ModelRow> = h
        .antennas
        .iter()
        .map(|a| ModelRow {
            time: t0,
            interval_s: 120.0,
            antenna: a.id,
            source_id: 1,
            freq_id: 1,
            pdelay_turns: vec![vec![1.0, 2.0, 3.0]; 2],
            gdelay_s: vec![vec![1.3e0, 1e-6, 0.0]; 2],
            prate_hz: vec![vec![0.0; 3]; 2],
            grate_s_s: vec![vec![0.0; 3]; 2],
            disp_s: 0.0,
            ddisp_s_s: 0.0,
            clock_s: 0.0,
            dclock_s_s: 0.0,
        })
        .collect();
    let mut w = IdiWriter::create(path, &h, &models).unwrap();
    // 40 integrations of 2 s starting 23:59 UTC: the last ones fall on the
    // next day, so DATE changes and TIME wraps to the start of that day.
    for k in 0..40 {
        for (a1, a2) in [(1, 2), (1, 3), (2, 3)] {
            w.write_row(&UvRow {
                time: t0.add_seconds(1.0 + 2.0 * k as f64),
                baseline: (a1, a2),
                source_id: 1,
                freq_id: 1,
                inttim_s: 2.0,
                uvw_s: [0.001, -0.002, if a2 == 3 { 1.29 } else { 0.003 }],
                vis: vec![[1.0, -0.5, 1.0]; 2 * 16 * 4],
            })
            .unwrap();
        }
    }
    w.finish().unwrap();
}

#[test]
fn astropy_accepts_what_we_write() {
    if !astropy_available() {
        // CI sets EMCORR_REQUIRE_PYTHON after installing astropy: there a
        // missing astropy is a failure, not a skip.
        assert!(
            std::env::var_os("EMCORR_REQUIRE_PYTHON").is_none(),
            "EMCORR_REQUIRE_PYTHON is set but astropy cannot be imported"
        );
        println!(
            "SKIPPED astropy_accepts_what_we_write: `{} -c \"import astropy\"` failed",
            python()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("astropy.idifits");
    write_sample(&path);
    let out = Command::new(python())
        .arg(script())
        .arg(&path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    assert!(
        out.status.success(),
        "check_fitsidi.py refused our file:\n{text}"
    );
    assert!(text.contains("check_fitsidi: OK"), "{text}");
    // astropy reads the scan names, starts (days since RDATE), lengths and
    // phase centres that were written.
    let scans: Vec<Vec<&str>> = text
        .lines()
        .filter_map(|l| l.strip_prefix("check_fitsidi: scan "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(scans.len(), 2, "{text}");
    let value = |field: &str, key: &str| -> f64 {
        field
            .strip_prefix(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{field:?} is not {key}NUMBER"))
    };
    for (k, (name, sources)) in [("No0001", "sources=1"), ("No0002", "sources=1,2")]
        .into_iter()
        .enumerate()
    {
        let s = &scans[k];
        assert_eq!((s[0], s[3]), (name, sources), "{text}");
        let start_day = (T0_S + 40.0 * k as f64) / 86400.0;
        assert!(
            (value(s[1], "start_day=") - start_day).abs() < 1e-15,
            "{text}"
        );
        assert!(
            (value(s[2], "days=") - 40.0 / 86400.0).abs() < 1e-15,
            "{text}"
        );
    }

    // The check must be able to fail: spoil MAXIS3 and expect a complaint.
    {
        let mut f = fitsio::FitsFile::edit(&path).unwrap();
        let hdu = f.hdu("UV_DATA").unwrap();
        let name = std::ffi::CString::new("MAXIS3").unwrap();
        let mut status = 0;
        // SAFETY: live handle positioned on UV_DATA; NUL-terminated key name.
        unsafe { fitsio::sys::ffdkey(f.as_raw(), name.as_ptr(), &mut status) };
        assert_eq!(status, 0);
        hdu.write_key(&mut f, "MAXIS3", 17i64).unwrap();
    }
    let out = Command::new(python())
        .arg(script())
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && text.contains("MAXIS3"), "{text}");
}
