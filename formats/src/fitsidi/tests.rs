use std::path::Path;

use super::*;
use crate::time::UtcTime;

/// Two ground stations and a lunar one (390,000 km), `nb` bands of `nc`
/// channels, the given polarisation products.
pub(crate) fn sample_header(nb: usize, nc: usize, stokes: &[i32]) -> IdiHeader {
    let ground = |name: &str, id: u32, xyz: [f64; 3]| IdiAntenna {
        name: name.into(),
        id,
        xyz_m: xyz,
        vel_m_s: [0.0; 3],
        mount: Mount::AltAz,
        axis_offset_m: 2.5,
        diameter_m: 25.0,
        n_levels: 4,
    };
    IdiHeader {
        obscode: "EM001".into(),
        telescope: "VLBA".into(),
        correlator: "EMCORR".into(),
        correlator_version: "0.1.0".into(),
        ref_date: UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0),
        ref_freq_hz: 8.4e9,
        n_chan: nc,
        chan_bw_hz: 0.5e6,
        ref_pixel: 1.0,
        bands: (0..nb)
            .map(|b| IdiBand {
                freq_offset_hz: b as f64 * 32e6,
                sideband: 1,
                total_bw_hz: nc as f64 * 0.5e6,
                chan_bw_hz: 0.5e6,
            })
            .collect(),
        stokes: stokes.to_vec(),
        antennas: vec![
            ground("PT", 1, [-1640953.9, -5014816.0, 3575411.8]),
            ground("LA", 2, [-1449752.6, -4975298.6, 3709123.8]),
            IdiAntenna {
                name: "MOON1".into(),
                id: 3,
                xyz_m: [2.1e8, -3.2e8, 0.9e8],
                vel_m_s: [23_000.5, 14_000.25, -950.125],
                mount: Mount::Orbiting,
                axis_offset_m: 0.0,
                diameter_m: 10.0,
                n_levels: 4,
            },
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
                name: "MOON-TARGET".into(),
                calcode: String::new(),
                ra_deg: 201.365_063_2,
                dec_deg: -43.019_112_7,
            },
        ],
        array_xyz_m: [0.0; 3],
        eop: IdiEop {
            gst_at_0h_deg: 171.25,
            ut1_utc_s: 0.0625,
            ..IdiEop::default()
        },
        scans: vec![],
    }
}

/// Three scans of a session around `sample_rows`' times: one per source,
/// then a same-beam scan with both phase centres (and a name of the full
/// 32 characters).
fn sample_scans(h: &IdiHeader) -> Vec<IdiScan> {
    let t = |s: f64| h.ref_date.add_seconds(13.0 * 3600.0 + s);
    vec![
        IdiScan {
            name: "No0001".into(),
            start: t(0.0),
            duration_s: 2.0,
            source_ids: vec![1],
        },
        IdiScan {
            name: "No0002".into(),
            start: t(2.0),
            duration_s: 2.0,
            source_ids: vec![2],
        },
        IdiScan {
            name: "r41096-same-beam-lander+qso-0003".into(),
            start: t(4.0),
            duration_s: 1234.5678,
            source_ids: vec![2, 1],
        },
    ]
}

fn sample_rows(h: &IdiHeader, n_int: usize) -> Vec<UvRow> {
    let t0 = h.ref_date.add_seconds(3600.0 * 13.0 + 0.123_456_789);
    let n = h.bands.len() * h.n_chan * h.stokes.len();
    let mut rows = Vec::new();
    for k in 0..n_int {
        for (a1, a2) in [(1, 2), (1, 3), (2, 3), (3, 3)] {
            let vis = (0..n)
                .map(|i| {
                    let x = (i + 7 * k + 3 * a2 as usize) as f32;
                    [
                        x * 0.25 - 1.0,
                        -x * 0.125,
                        if i % 5 == 0 { -1.0 } else { 0.5 + x * 0.001 },
                    ]
                })
                .collect();
            rows.push(UvRow {
                time: t0.add_seconds(k as f64 * 2.0),
                baseline: (a1, a2),
                source_id: 1 + (k % 2) as u32,
                freq_id: 1,
                inttim_s: 2.0,
                uvw_s: [
                    1.25e-3 * a2 as f64,
                    -0.5e-3,
                    if a2 == 3 { 1.2999 } else { 0.01 },
                ],
                vis,
            });
        }
    }
    rows
}

fn sample_models(h: &IdiHeader) -> Vec<ModelRow> {
    let nb = h.bands.len();
    let mut out = Vec::new();
    for k in 0..3 {
        for a in &h.antennas {
            let base = if a.is_orbiting() {
                1.301_234_567_891
            } else {
                0.012_345_678_9
            } + k as f64 * 1e-6;
            let poly = |scale: f64| -> Vec<Vec<f64>> {
                (0..nb)
                    .map(|b| vec![base * scale + b as f64, 1.5e-6 * scale, -2.0e-12 * scale])
                    .collect()
            };
            out.push(ModelRow {
                time: h.ref_date.add_seconds(13.0 * 3600.0 + 120.0 * k as f64),
                interval_s: 120.0,
                antenna: a.id,
                source_id: 1,
                freq_id: 1,
                pdelay_turns: poly(8.4e9),
                gdelay_s: poly(1.0),
                prate_hz: poly(3.0),
                grate_s_s: poly(1e-3),
                disp_s: 0.5,
                ddisp_s_s: -0.25,
                clock_s: 1.5e-7,
                dclock_s_s: 1e-13,
            });
        }
    }
    out
}

fn write_file(
    path: &Path,
    h: &IdiHeader,
    rows: &[UvRow],
    models: &[ModelRow],
) -> std::path::PathBuf {
    let mut w = IdiWriter::create(path, h, models).unwrap();
    for r in rows {
        w.write_row(r).unwrap();
    }
    assert_eq!(w.rows_written(), rows.len() as u64);
    w.finish().unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Equal except for what FITS-IDI stores as 32-bit floats (DERXYZ, INTTIM,
/// TIME_INTERVAL, DISP) or as day fractions (times: ~10 ps).
fn assert_same(a: &IdiFile, b: &IdiFile) {
    let (ha, hb) = (&a.header, &b.header);
    let mut hb_fixed = hb.clone();
    for (x, y) in hb_fixed.antennas.iter_mut().zip(&ha.antennas) {
        for k in 0..3 {
            assert!(close(x.vel_m_s[k], y.vel_m_s[k], 1e-7), "{x:?} vs {y:?}");
        }
        assert!(close(x.axis_offset_m, y.axis_offset_m, 1e-7));
        assert!(close(x.diameter_m, y.diameter_m, 1e-7));
        x.vel_m_s = y.vel_m_s;
        x.axis_offset_m = y.axis_offset_m;
        x.diameter_m = y.diameter_m;
    }
    for (x, y) in hb_fixed.bands.iter_mut().zip(&ha.bands) {
        assert!(
            close(x.chan_bw_hz, y.chan_bw_hz, 1e-7) && close(x.total_bw_hz, y.total_bw_hz, 1e-7)
        );
        x.chan_bw_hz = y.chan_bw_hz;
        x.total_bw_hz = y.total_bw_hz;
    }
    // Scan starts and lengths are stored as days (doubles): ~10 ps.
    assert_eq!(hb_fixed.scans.len(), ha.scans.len());
    for (x, y) in hb_fixed.scans.iter_mut().zip(&ha.scans) {
        assert!(
            x.start.seconds_since(y.start).abs() < 2e-11,
            "{x:?} vs {y:?}"
        );
        assert!(
            (x.duration_s - y.duration_s).abs() < 2e-11,
            "{x:?} vs {y:?}"
        );
        x.start = y.start;
        x.duration_s = y.duration_s;
    }
    assert_eq!(&hb_fixed, ha);

    assert_eq!(a.rows.len(), b.rows.len());
    for (x, y) in a.rows.iter().zip(&b.rows) {
        assert!(
            x.time.seconds_since(y.time).abs() < 2e-11,
            "{} vs {}",
            x.time,
            y.time
        );
        assert!(close(x.inttim_s, y.inttim_s, 1e-7));
        assert_eq!(
            (x.baseline, x.source_id, x.freq_id, x.uvw_s),
            (y.baseline, y.source_id, y.freq_id, y.uvw_s)
        );
        assert_eq!(x.vis, y.vis);
    }
    assert_eq!(a.models.len(), b.models.len());
    for (x, y) in a.models.iter().zip(&b.models) {
        assert!(x.time.seconds_since(y.time).abs() < 2e-11);
        assert!(close(x.interval_s, y.interval_s, 1e-7));
        assert_eq!(
            (x.antenna, x.source_id, x.freq_id),
            (y.antenna, y.source_id, y.freq_id)
        );
        assert_eq!(
            (&x.pdelay_turns, &x.gdelay_s, &x.prate_hz, &x.grate_s_s),
            (&y.pdelay_turns, &y.gdelay_s, &y.prate_hz, &y.grate_s_s)
        );
        assert_eq!(
            (x.disp_s, x.ddisp_s_s, x.clock_s, x.dclock_s_s),
            (y.disp_s, y.ddisp_s_s, y.clock_s, y.dclock_s_s)
        );
    }
}

#[test]
fn round_trip_two_bands_sixteen_channels_four_stokes_with_lunar_station() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.idifits");
    let h = sample_header(2, 16, &[-1, -2, -3, -4]);
    let rows = sample_rows(&h, 5);
    let models = sample_models(&h);
    let out = write_file(&path, &h, &rows, &models);
    assert_eq!(out, path);
    assert!(!partial_path(&path).exists());

    let back = read_idi(&path).unwrap();
    assert_same(
        &IdiFile {
            header: h.clone(),
            rows,
            models,
        },
        &back,
    );
    let moon = &back.header.antennas[2];
    assert!(moon.is_orbiting());
    let r = (moon.xyz_m.iter().map(|x| x * x).sum::<f64>()).sqrt();
    assert!((3.8e8..4.0e8).contains(&r), "lunar station at {r} m");
}

#[test]
fn round_trip_single_band_single_stokes_without_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.fits");
    let h = sample_header(1, 4, &[-2]);
    let rows = sample_rows(&h, 2);
    write_file(&path, &h, &rows, &[]);
    let back = read_idi(&path).unwrap();
    assert!(back.models.is_empty());
    assert_same(
        &IdiFile {
            header: h,
            rows,
            models: vec![],
        },
        &back,
    );
}

#[test]
fn scan_table_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scans.fits");
    let mut h = sample_header(2, 4, &[-1, -2]);
    h.scans = sample_scans(&h);
    let rows = sample_rows(&h, 3);
    let models = sample_models(&h);
    write_file(&path, &h, &rows, &models);
    let back = read_idi(&path).unwrap();
    // Names and phase centres exactly as written; times to ~10 ps.
    let names: Vec<&str> = back.header.scans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["No0001", "No0002", "r41096-same-beam-lander+qso-0003"]
    );
    assert_eq!(back.header.scans[2].source_ids, [2, 1]);
    assert_eq!(back.header.scans[0].source_ids, [1]);
    let want_start = h.ref_date.add_seconds(13.0 * 3600.0 + 4.0);
    assert!(back.header.scans[2].start.seconds_since(want_start).abs() < 2e-11);
    assert!((back.header.scans[2].duration_s - 1234.5678).abs() < 2e-11);
    assert_same(
        &IdiFile {
            header: h,
            rows,
            models,
        },
        &back,
    );
    // Without scans no table is written, and none is read back.
    let plain = dir.path().join("plain.fits");
    let h = sample_header(1, 4, &[-1]);
    write_file(&plain, &h, &sample_rows(&h, 1), &[]);
    assert!(read_idi(&plain).unwrap().header.scans.is_empty());
    let mut f = fitsio::FitsFile::open(&plain).unwrap();
    assert!(f.hdu("EMCORR_SCAN").is_err());
}

#[test]
fn scan_table_sits_before_uv_data_with_the_common_keywords() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layout.fits");
    let mut h = sample_header(2, 4, &[-1, -2]);
    h.scans = sample_scans(&h);
    write_file(&path, &h, &sample_rows(&h, 1), &sample_models(&h));
    let mut f = fitsio::FitsFile::open(&path).unwrap();
    let mut names = Vec::new();
    for i in 1.. {
        let Ok(hdu) = f.hdu(i) else { break };
        names.push(hdu.read_key::<String>(&mut f, "EXTNAME").unwrap());
    }
    assert_eq!(
        names,
        [
            "ARRAY_GEOMETRY",
            "ANTENNA",
            "FREQUENCY",
            "SOURCE",
            "INTERFEROMETER_MODEL",
            "EMCORR_SCAN",
            "UV_DATA"
        ]
    );
    let hdu = f.hdu("EMCORR_SCAN").unwrap();
    for (key, want) in [
        ("EXTVER", 1i64),
        ("TABREV", 1),
        ("NO_STKD", 2),
        ("NO_BAND", 2),
        ("NO_CHAN", 4),
        ("NO_PHCEN", 2),
    ] {
        assert_eq!(hdu.read_key::<i64>(&mut f, key).unwrap(), want, "{key}");
    }
    assert_eq!(
        hdu.read_key::<String>(&mut f, "RDATE").unwrap(),
        "2026-03-14"
    );
    assert_eq!(hdu.read_key::<String>(&mut f, "OBSCODE").unwrap(), "EM001");
    // TIME in days since RDATE; the padding of a one-source row is 0.
    let time: Vec<f64> = hdu.read_col(&mut f, "TIME").unwrap();
    assert!((time[1] - (13.0 * 3600.0 + 2.0) / 86400.0).abs() < 1e-15);
    let ids: Vec<i32> = hdu.read_col(&mut f, "SOURCE_IDS").unwrap();
    assert_eq!(ids, [1, 0, 2, 0, 2, 1]);
    let no: Vec<i32> = hdu.read_col(&mut f, "SCAN_NO").unwrap();
    assert_eq!(no, [1, 2, 3]);
}

#[test]
fn bad_scans_are_refused_before_any_file_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad_scans.fits");
    let h0 = sample_header(1, 4, &[-1]);
    type Spoil = fn(&mut Vec<IdiScan>);
    let cases: [(Spoil, &str); 7] = [
        (|s| s[1].name = "No0001".into(), "used twice"),
        (|s| s[0].name = String::new(), "scan name"),
        (|s| s[0].name = "x".repeat(33), "scan name"),
        (|s| s[0].duration_s = 0.0, "duration"),
        (|s| s[0].duration_s = f64::NAN, "duration"),
        (
            |s| s[2].source_ids = vec![3],
            "SOURCE_ID 3 is not in the SOURCE table",
        ),
        (|s| s[2].source_ids.clear(), "no SOURCE_IDs"),
    ];
    for (spoil, want) in cases {
        let mut h = h0.clone();
        h.scans = sample_scans(&h);
        spoil(&mut h.scans);
        let e = IdiWriter::create(&path, &h, &[]).err().unwrap().to_string();
        assert!(e.contains("EMCORR_SCAN row") && e.contains(want), "{e}");
        assert!(!path.exists() && !partial_path(&path).exists());
    }
}

#[test]
fn a_damaged_scan_table_is_an_error_naming_table_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.fits");
    let mut h = sample_header(1, 4, &[-1]);
    h.scans = sample_scans(&h);
    write_file(&path, &h, &sample_rows(&h, 1), &[]);
    edit(&path, |f| {
        let hdu = f.hdu("EMCORR_SCAN").unwrap();
        hdu.write_col(f, "SOURCE_IDS", &[7i32, 0]).unwrap();
    });
    let e = read_idi(&path).unwrap_err().to_string();
    assert!(
        e.contains("damaged.fits")
            && e.contains("EMCORR_SCAN")
            && e.contains("SOURCE_IDS")
            && e.contains("SOURCE_ID 7")
            && !e.contains('\n'),
        "{e}"
    );
    write_file(&path, &h, &sample_rows(&h, 1), &[]);
    edit(&path, |f| {
        let hdu = f.hdu("EMCORR_SCAN").unwrap();
        hdu.write_col(f, "TIME_INTERVAL", &[-1.0f64]).unwrap();
    });
    let e = read_idi(&path).unwrap_err().to_string();
    assert!(e.contains("EMCORR_SCAN") && e.contains("TIME"), "{e}");
}

#[test]
fn reader_gives_random_access_to_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ra.fits");
    let h = sample_header(2, 8, &[-1, -2]);
    let rows = sample_rows(&h, 3);
    write_file(&path, &h, &rows, &sample_models(&h));
    let mut r = IdiReader::open(&path).unwrap();
    assert_eq!(r.n_rows(), rows.len() as u64);
    assert_eq!(r.models().len(), 9);
    let last = r.read_row(rows.len() as u64 - 1).unwrap();
    assert_eq!(last.vis, rows.last().unwrap().vis);
    let first = r.read_row(0).unwrap();
    assert_eq!(first.baseline, (1, 2));
    assert!(r.read_row(rows.len() as u64).is_err());
}

#[test]
fn unfinished_writer_leaves_no_file_at_the_final_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partial.fits");
    let h = sample_header(1, 4, &[-1]);
    let rows = sample_rows(&h, 2);
    {
        let mut w = IdiWriter::create(&path, &h, &[]).unwrap();
        w.write_row(&rows[0]).unwrap();
        assert!(partial_path(&path).exists());
        assert!(!path.exists());
    }
    assert!(!path.exists(), "final file appeared without finish()");
    assert!(
        !partial_path(&path).exists(),
        ".partial not cleaned up on drop"
    );

    // Asked to keep it: the .partial stays (for inspection), the final name does not appear.
    {
        let mut w = IdiWriter::create(&path, &h, &[]).unwrap();
        w.keep_partial_on_drop(true);
        w.write_row(&rows[0]).unwrap();
    }
    assert!(!path.exists());
    assert!(partial_path(&path).exists());
    // A new writer replaces a stale .partial.
    write_file(&path, &h, &rows, &[]);
    assert!(path.exists() && !partial_path(&path).exists());
}

#[test]
fn a_fifo_receives_the_bytes_a_file_gets_and_a_directory_is_refused() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let h = sample_header(2, 8, &[-1, -2]);
    let rows = sample_rows(&h, 5);
    let models = sample_models(&h);
    let file = dir.path().join("file.fits");
    write_file(&file, &h, &rows, &models);

    let fifo = dir.path().join("pipe.fits");
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            std::fs::File::open(&fifo)
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            got
        })
    };
    assert_eq!(write_file(&fifo, &h, &rows, &models), fifo);
    assert!(reader.join().unwrap() == std::fs::read(&file).unwrap());
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    let e = IdiWriter::create(dir.path(), &h, &[]).err().unwrap();
    assert!(
        !e.is_io() && e.to_string().contains("is a directory"),
        "{e}"
    );
    // A full device is a failure of the system, naming the device.
    if Path::new("/dev/full").exists() {
        let mut w = IdiWriter::create(Path::new("/dev/full"), &h, &models).unwrap();
        w.write_row(&rows[0]).unwrap();
        let e = w.finish().unwrap_err();
        assert!(e.is_io() && e.to_string().starts_with("/dev/full: "), "{e}");
        assert!(std::fs::symlink_metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device());
    }
}

#[test]
fn bad_rows_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.fits");
    let h = sample_header(1, 4, &[-1, -2]);
    let good = sample_rows(&h, 1).remove(0);
    let mut w = IdiWriter::create(&path, &h, &[]).unwrap();
    let mut r = good.clone();
    r.baseline = (2, 1);
    let e = w.write_row(&r).unwrap_err().to_string();
    assert!(
        e.contains("baseline (2, 1)") && e.contains("bad.fits"),
        "{e}"
    );
    let mut r = good.clone();
    r.baseline = (1, 9);
    assert!(w.write_row(&r).is_err());
    let mut r = good.clone();
    r.vis.pop();
    let e = w.write_row(&r).unwrap_err().to_string();
    assert!(e.contains("NO_BAND × NO_CHAN × NO_STKD"), "{e}");
    let mut r = good.clone();
    r.source_id = 7;
    assert!(w
        .write_row(&r)
        .unwrap_err()
        .to_string()
        .contains("SOURCE_ID 7"));
    w.write_row(&good).unwrap();
    assert_eq!(w.rows_written(), 1);
}

#[test]
fn bad_headers_are_refused_before_any_file_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.fits");
    let mut h = sample_header(1, 4, &[-1, -3]);
    let e = IdiWriter::create(&path, &h, &[]).err().unwrap().to_string();
    assert!(e.contains("not consecutive"), "{e}");
    h.stokes = vec![-1, -2];
    h.ref_date = h.ref_date.add_seconds(1.0);
    assert!(IdiWriter::create(&path, &h, &[]).is_err());
    h = sample_header(1, 4, &[-1]);
    h.antennas[1].id = 1;
    assert!(IdiWriter::create(&path, &h, &[])
        .err()
        .unwrap()
        .to_string()
        .contains("used twice"));
    h = sample_header(2, 4, &[-1]);
    let mut m = sample_models(&h);
    m[1].gdelay_s.pop();
    let e = IdiWriter::create(&path, &h, &m).err().unwrap().to_string();
    assert!(e.contains("GDELAY"), "{e}");
    assert!(!path.exists() && !partial_path(&path).exists());
}

/// Edit a written file with cfitsio directly, to make broken files.
fn edit(path: &Path, f: impl FnOnce(&mut fitsio::FitsFile)) {
    let mut file = fitsio::FitsFile::edit(path).unwrap();
    f(&mut file);
}

fn delete_key(file: &mut fitsio::FitsFile, hdu: &str, key: &str) {
    file.hdu(hdu).unwrap();
    let name = std::ffi::CString::new(key).unwrap();
    let mut status = 0;
    // SAFETY: live handle positioned on the HDU; the name is NUL-terminated.
    unsafe { fitsio::sys::ffdkey(file.as_raw(), name.as_ptr(), &mut status) };
    assert_eq!(status, 0);
}

fn written_sample(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("s.fits");
    let h = sample_header(2, 4, &[-1, -2]);
    write_file(&path, &h, &sample_rows(&h, 2), &sample_models(&h));
    path
}

#[test]
fn missing_table_is_an_error_naming_the_table() {
    let dir = tempfile::tempdir().unwrap();
    for table in ["FREQUENCY", "ARRAY_GEOMETRY", "SOURCE", "UV_DATA"] {
        let path = written_sample(dir.path());
        edit(&path, |f| {
            let hdu = f.hdu(table).unwrap();
            hdu.delete(f).unwrap();
        });
        let e = read_idi(&path).unwrap_err();
        assert!(matches!(e, IdiError::MissingTable { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(table) && msg.contains("s.fits") && !msg.contains('\n'),
            "{msg}"
        );
    }
    // The delay model is optional for reading.
    let path = written_sample(dir.path());
    edit(&path, |f| {
        let hdu = f.hdu("INTERFEROMETER_MODEL").unwrap();
        hdu.delete(f).unwrap();
    });
    assert!(read_idi(&path).unwrap().models.is_empty());
}

#[test]
fn missing_or_bad_keywords_are_errors_naming_table_and_keyword() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, Option<&str>); 6] = [
        ("UV_DATA", "NO_CHAN", None),
        ("UV_DATA", "NO_CHAN", Some("many")),
        ("UV_DATA", "MAXIS1", Some("5")),
        ("UV_DATA", "CTYPE3", Some("BAND")),
        ("ARRAY_GEOMETRY", "RDATE", Some("yesterday")),
        ("INTERFEROMETER_MODEL", "NPOLY", None),
    ];
    for (table, key, value) in cases {
        let path = written_sample(dir.path());
        edit(&path, |f| match value {
            None => delete_key(f, table, key),
            Some(v) => {
                delete_key(f, table, key);
                let hdu = f.hdu(table).unwrap();
                match v.parse::<i64>() {
                    Ok(n) => hdu.write_key(f, key, n).unwrap(),
                    Err(_) => hdu.write_key(f, key, v).unwrap(),
                }
            }
        });
        let e = read_idi(&path).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                e,
                IdiError::MissingKeyword { .. } | IdiError::BadKeyword { .. }
            ),
            "{table}/{key}: {e:?}"
        );
        assert!(
            msg.contains(table) && msg.contains(key) && !msg.contains('\n'),
            "{msg}"
        );
    }
}

#[test]
fn wrong_shapes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    // NO_CHAN that disagrees with MAXIS3 and FLUX.
    let path = written_sample(dir.path());
    edit(&path, |f| {
        delete_key(f, "UV_DATA", "NO_CHAN");
        let hdu = f.hdu("UV_DATA").unwrap();
        hdu.write_key(f, "NO_CHAN", 8i64).unwrap();
    });
    let msg = read_idi(&path).unwrap_err().to_string();
    assert!(
        msg.contains("MAXIS3") && msg.contains("NO_CHAN is 8"),
        "{msg}"
    );
    // NO_BAND that disagrees with the FREQUENCY table's arrays and FLUX.
    let path = written_sample(dir.path());
    edit(&path, |f| {
        delete_key(f, "UV_DATA", "NO_BAND");
        delete_key(f, "UV_DATA", "MAXIS4");
        let hdu = f.hdu("UV_DATA").unwrap();
        hdu.write_key(f, "NO_BAND", 3i64).unwrap();
        hdu.write_key(f, "MAXIS4", 3i64).unwrap();
    });
    let e = read_idi(&path).unwrap_err();
    assert!(
        matches!(&e, IdiError::BadColumn { column, .. } if column == "FLUX"),
        "{e}"
    );
}

#[test]
fn not_a_fits_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.fits");
    std::fs::write(&path, b"this is not FITS").unwrap();
    assert!(read_idi(&path).is_err());
    let e = read_idi(&dir.path().join("absent.fits")).unwrap_err();
    assert!(e.is_io(), "{e:?}");
}

#[test]
fn reversed_baselines_are_conjugated_with_cross_hands_swapped() {
    let stokes = [-1, -2, -3, -4];
    // one channel: RR, LL, RL, LR
    let mut vis = vec![
        [1.0, 2.0, 1.0],
        [3.0, 4.0, 1.0],
        [5.0, 6.0, 1.0],
        [7.0, 8.0, 0.5],
    ];
    super::read::swap_baseline_direction_for_tests(&mut vis, &stokes);
    assert_eq!(
        vis,
        vec![
            [1.0, -2.0, 1.0],
            [3.0, -4.0, 1.0],
            [7.0, -8.0, 0.5],
            [5.0, -6.0, 1.0]
        ]
    );
}

#[test]
fn day_fraction_times_are_good_to_tens_of_picoseconds() {
    let t = UtcTime::from_calendar(2026, 3, 14, 23, 59, 59, 0.999_999_999_987);
    let (jd, f) = model::jd0_and_day_fraction(t);
    assert_eq!(jd, 2_461_113.5);
    let back = model::from_jd_and_day_fraction(jd, f);
    assert!(back.seconds_since(t).abs() < 2e-11);
}

/// PHASE-CAL rows of every antenna of `h` at three 1 s intervals from 13h,
/// two polarisations; band 1 has three tones, the others two (padded to
/// NO_TABS 3 in the file). Tone values are distinct so that a misplaced one
/// shows.
fn sample_pcal(h: &IdiHeader, n_pol: usize) -> Vec<PcalRow> {
    let nb = h.bands.len();
    let mut rows = Vec::new();
    for k in 0..3 {
        for a in &h.antennas {
            let tones = |b: usize| if b == 0 { 3 } else { 2 };
            let per = |f: &dyn Fn(usize, usize, usize) -> f32| -> Vec<Vec<Vec<f32>>> {
                (0..n_pol)
                    .map(|p| {
                        (0..nb)
                            .map(|b| (0..tones(b)).map(|t| f(p, b, t)).collect())
                            .collect()
                    })
                    .collect()
            };
            let x =
                |p: usize, b: usize, t: usize| (100 * p + 10 * b + t) as f32 + a.id as f32 * 0.5;
            rows.push(PcalRow {
                time: h.ref_date.add_seconds(13.0 * 3600.0 + 0.5 + k as f64),
                time_interval_s: 1.0,
                source_id: 1,
                antenna_no: a.id,
                freq_id: 1,
                cable_cal_s: 1.25e-9 * a.id as f64,
                freq_hz: (0..n_pol)
                    .map(|_| {
                        (0..nb)
                            .map(|b| {
                                (0..tones(b))
                                    .map(|t| 8.4e9 + b as f64 * 32e6 + 10e3 + t as f64 * 1e6)
                                    .collect()
                            })
                            .collect()
                    })
                    .collect(),
                re: per(&|p, b, t| 0.01 * x(p, b, t)),
                im: per(&|p, b, t| -0.02 * x(p, b, t)),
                rate: per(&|p, b, t| 1e-12 * x(p, b, t)),
                state: (0..n_pol)
                    .map(|p| {
                        (0..nb)
                            .map(|b| [0.1 * b as f32, 0.2, 0.3, p as f32])
                            .collect()
                    })
                    .collect(),
            });
        }
    }
    rows
}

/// `rows` as the reader returns them: every band padded to `nt` tones.
fn padded(rows: &[PcalRow], nt: usize) -> Vec<PcalRow> {
    let mut out = rows.to_vec();
    for r in &mut out {
        for p in 0..r.n_pol() {
            for b in 0..r.freq_hz[p].len() {
                r.freq_hz[p][b].resize(nt, 0.0);
                r.re[p][b].resize(nt, 0.0);
                r.im[p][b].resize(nt, 0.0);
                r.rate[p][b].resize(nt, 0.0);
            }
        }
    }
    out
}

fn write_with_pcal(path: &Path, h: &IdiHeader, pcal: Vec<PcalRow>) -> std::path::PathBuf {
    let mut w = IdiWriter::create(path, h, &sample_models(h)).unwrap();
    for r in sample_rows(h, 2) {
        w.write_row(&r).unwrap();
    }
    w.add_pcal(pcal).unwrap();
    w.finish().unwrap()
}

/// Equal, but for TIME (a day fraction: ~10 ps) and TIME_INTERVAL (a float
/// of days: ~1e-7 relative).
fn assert_same_pcal(got: &[PcalRow], want: &[PcalRow]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.time.seconds_since(w.time).abs() < 1e-9,
            "{} vs {}",
            g.time,
            w.time
        );
        assert!(close(g.time_interval_s, w.time_interval_s, 1e-7));
        let mut g2 = g.clone();
        g2.time = w.time;
        g2.time_interval_s = w.time_interval_s;
        assert_eq!(&g2, w);
    }
}

#[test]
fn pcal_round_trip_two_polarisations_with_padding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pcal.fits");
    let h = sample_header(2, 4, &[-1, -2, -3, -4]);
    let rows = sample_pcal(&h, 2);
    // Given out of time order and in two calls: the file is in time order.
    let (early, late) = rows.split_at(3);
    let mut w = IdiWriter::create(&path, &h, &sample_models(&h)).unwrap();
    for r in sample_rows(&h, 2) {
        w.write_row(&r).unwrap();
    }
    w.add_pcal(late.to_vec()).unwrap();
    w.add_pcal(early.to_vec()).unwrap();
    assert_eq!(w.pcal_rows(), rows.len());
    w.finish().unwrap();
    let want = padded(&rows, 3);
    assert_same_pcal(&read_pcal(&path).unwrap(), &want);
    let r = IdiReader::open(&path).unwrap();
    assert_same_pcal(r.pcal(), &want);
    // The rest of the file reads as before.
    let file = read_idi(&path).unwrap();
    assert_eq!(file.rows.len(), 8);
    assert_eq!(file.models.len(), sample_models(&h).len());
}

#[test]
fn pcal_round_trip_one_polarisation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pcal1.fits");
    let h = sample_header(3, 4, &[-2]);
    let rows = sample_pcal(&h, 1);
    write_with_pcal(&path, &h, rows.clone());
    assert_same_pcal(&read_pcal(&path).unwrap(), &padded(&rows, 3));
}

#[test]
fn pcal_table_comes_after_uv_data_and_no_rows_means_no_table() {
    let dir = tempfile::tempdir().unwrap();
    let h = sample_header(2, 4, &[-1, -2]);
    let with = dir.path().join("with.fits");
    write_with_pcal(&with, &h, sample_pcal(&h, 2));
    let mut f = fitsio::FitsFile::open(&with).unwrap();
    let mut names = Vec::new();
    for i in 1.. {
        let Ok(hdu) = f.hdu(i) else { break };
        names.push(hdu.read_key::<String>(&mut f, "EXTNAME").unwrap());
    }
    assert_eq!(names[names.len() - 2..], ["UV_DATA", "PHASE-CAL"]);
    let hdu = f.hdu("PHASE-CAL").unwrap();
    for (key, want) in [
        ("NO_POL", 2i64),
        ("NO_TABS", 3),
        ("NO_BAND", 2),
        ("TABREV", 2),
    ] {
        assert_eq!(hdu.read_key::<i64>(&mut f, key).unwrap(), want, "{key}");
    }

    // No rows (or an empty call): no table, and the very bytes of a file
    // written without pcal.
    let without = dir.path().join("without.fits");
    write_file(&without, &h, &sample_rows(&h, 2), &sample_models(&h));
    let empty = dir.path().join("empty.fits");
    let mut w = IdiWriter::create(&empty, &h, &sample_models(&h)).unwrap();
    for r in sample_rows(&h, 2) {
        w.write_row(&r).unwrap();
    }
    w.add_pcal(Vec::new()).unwrap();
    w.finish().unwrap();
    assert_eq!(
        std::fs::read(&without).unwrap(),
        std::fs::read(&empty).unwrap()
    );
    assert!(read_pcal(&without).unwrap().is_empty());
    let mut f = fitsio::FitsFile::open(&without).unwrap();
    assert!(f.hdu("PHASE-CAL").is_err());
}

#[test]
fn bad_pcal_rows_are_refused_with_a_reason_and_none_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad_pcal.fits");
    let h = sample_header(2, 4, &[-1, -2]);
    type Spoil = fn(&mut PcalRow);
    let cases: [(Spoil, &str); 9] = [
        (|r| r.antenna_no = 9, "ANTENNA_NO 9"),
        (|r| r.source_id = 5, "SOURCE_ID 5"),
        (|r| r.freq_id = 0, "FREQID 0"),
        (|r| r.time_interval_s = f64::NAN, "TIME_INTERVAL"),
        (|r| r.freq_hz[1].pop().map(|_| ()).unwrap(), "NO_BAND is 2"),
        (|r| r.state[0].truncate(1), "NO_BAND is 2"),
        (|r| r.re[0][1].push(1.0), "re has 3 tones, freq_hz has 2"),
        (|r| r.freq_hz[0][0][1] = f64::INFINITY, "not finite"),
        (
            |r| {
                for v in [&mut r.re, &mut r.im, &mut r.rate] {
                    v.truncate(1);
                }
                r.freq_hz.truncate(1);
                r.state.truncate(1);
            },
            "earlier rows have 2",
        ),
    ];
    let mut w = IdiWriter::create(&path, &h, &[]).unwrap();
    w.add_pcal(sample_pcal(&h, 2)[..1].to_vec()).unwrap();
    for (spoil, want) in cases {
        let mut rows = sample_pcal(&h, 2);
        spoil(&mut rows[4]);
        let e = w.add_pcal(rows).unwrap_err().to_string();
        assert!(
            e.contains("bad_pcal.fits") && e.contains("PHASE-CAL row 5") && e.contains(want),
            "{want}: {e}"
        );
        assert_eq!(w.pcal_rows(), 1);
    }
    // Three polarisations are refused whatever came before.
    let mut w = IdiWriter::create(&path, &h, &[]).unwrap();
    let mut rows = sample_pcal(&h, 2);
    let r = &mut rows[0];
    r.freq_hz.push(r.freq_hz[0].clone());
    r.re.push(r.re[0].clone());
    r.im.push(r.im[0].clone());
    r.rate.push(r.rate[0].clone());
    r.state.push(r.state[0].clone());
    let e = w.add_pcal(rows).unwrap_err().to_string();
    assert!(e.contains("NO_POL must be 1 or 2"), "{e}");
}

#[test]
fn a_damaged_pcal_table_is_an_error_naming_table_column_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged_pcal.fits");
    let h = sample_header(2, 4, &[-1, -2]);
    let spoil_and_read = |f: &dyn Fn(&mut fitsio::FitsFile)| -> String {
        write_with_pcal(&path, &h, sample_pcal(&h, 2));
        edit(&path, f);
        let e = read_pcal(&path).unwrap_err().to_string();
        assert!(
            e.contains("damaged_pcal.fits") && e.contains("PHASE-CAL") && !e.contains('\n'),
            "{e}"
        );
        e
    };
    let e = spoil_and_read(&|f| {
        let hdu = f.hdu("PHASE-CAL").unwrap();
        hdu.write_col(f, "ANTENNA_NO", &[1i32, 9]).unwrap();
    });
    assert!(
        e.contains("ANTENNA_NO") && e.contains("row 2") && e.contains("antenna 9"),
        "{e}"
    );
    let e = spoil_and_read(&|f| delete_key(f, "PHASE-CAL", "NO_POL"));
    assert!(e.contains("NO_POL") && e.contains("missing"), "{e}");
    let e = spoil_and_read(&|f| {
        delete_key(f, "PHASE-CAL", "NO_TABS");
        let hdu = f.hdu("PHASE-CAL").unwrap();
        hdu.write_key(f, "NO_TABS", 4i64).unwrap();
    });
    assert!(
        e.contains("PC_FREQ_1") && e.contains("NO_TABS × NO_BAND = 4 × 2"),
        "{e}"
    );
    let e = spoil_and_read(&|f| {
        delete_key(f, "PHASE-CAL", "NO_TABS");
        let hdu = f.hdu("PHASE-CAL").unwrap();
        hdu.write_key(f, "NO_TABS", 1_000_000i64).unwrap();
    });
    assert!(e.contains("NO_TABS") && e.contains("at most"), "{e}");
    let e = spoil_and_read(&|f| {
        let hdu = f.hdu("PHASE-CAL").unwrap();
        hdu.write_col(f, "TIME", &[f64::NAN]).unwrap();
    });
    assert!(e.contains("TIME") && e.contains("row 1"), "{e}");
    let e = spoil_and_read(&|f| {
        delete_key(f, "PHASE-CAL", "NO_BAND");
        let hdu = f.hdu("PHASE-CAL").unwrap();
        hdu.write_key(f, "NO_BAND", 3i64).unwrap();
    });
    assert!(e.contains("NO_BAND") && e.contains("UV_DATA has 2"), "{e}");
}
