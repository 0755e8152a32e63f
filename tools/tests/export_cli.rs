//! `emcorr export`: fringe rows of the test FITS file (tests/common: EF, WB
//! and the lunar MOON, lunar delays of ~1.28 s) exported as NGS cards and a
//! VSO file, read back by independent Python readers written from the
//! formats' descriptions (testdata/ngs_reader.py, testdata/vso_reader.py).
//! The checks skip (with a notice) only where python3 is absent.
//!
//! Precision the NGS columns allow and the test asserts: epoch 1e-10 s
//! (asserted 1e-9 s), delay 1e-8 ns in 20 columns (asserted 1e-15 s: f64
//! holds a 1.28 s delay to 2.2e-16 s), its σ 1e-6 ns (1e-15 s), rate 1e-10
//! ps/s (1e-20 s/s), its σ 1e-5 ps/s (1e-17 s/s), correlation coefficient
//! 1e-8.

mod common;

use assert_cmd::Command;
use common::*;
use formats::UtcTime;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

fn python() -> bool {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("export_cli: python3 not found: skipping the independent reader checks");
    }
    ok
}

fn read_with(script: &str, file: &Path) -> Value {
    let out = std::process::Command::new("python3")
        .arg(testdata(script))
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The job of tests/common's file: its stations (MOON on the Moon) and
/// sources, with the model the lunar station's ITRS position needs.
fn write_job(dir: &Path) -> PathBuf {
    let kernels = [
        "de421_2026_excerpt.bsp",
        "moon_pa_de421_1900-2050.bpc",
        "moon_080317.tf",
    ]
    .map(|k| format!("\"{}\"", testdata(k).display()))
    .join(", ");
    let text = format!(
        r#"[job]
name = "export_test"
output = "t.fits"

[correlation]
fft_length = 64
integration_s = 1.0

[model]
kernels = [{kernels}]
eop = "{eop}"
interval_s = 60.0
order = 5

[[source]]
name = "0552+398"
ra = "05h55m30.72s"
dec = "+39d48m50.4s"

[[source]]
name = "1741-038"
ra = "17h43m58.8s"
dec = "-03d50m06.0s"

[[station]]
name = "EF"
itrf_m = [4033947.2, 486990.8, 4900431.0]

[[station]]
name = "WB"
itrf_m = [3828750.7, 442589.2, 5064921.6]

[[station]]
name = "MOON"
moon = {{ lat_deg = 0.67, lon_deg = 23.47 }}
"#,
        eop = testdata("finals2000A_2025-2026.txt").display()
    );
    let p = dir.join("job.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// `emcorr fringe` twice (whole scans, then 20 s solution intervals), the
/// two JSON documents concatenated as one file; returns it and the rows.
fn fringe_file(dir: &Path) -> (PathBuf, Vec<Value>) {
    let fits = dir.join("t.fits");
    write_file(&fits);
    let mut text = String::new();
    let mut rows = Vec::new();
    for extra in [&[][..], &["--solint", "20"][..]] {
        let out = emcorr()
            .arg("fringe")
            .arg(&fits)
            .args(["--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = String::from_utf8(out.stdout).unwrap();
        let v: Value = serde_json::from_str(&s).unwrap();
        rows.extend(v.as_array().unwrap().iter().cloned());
        text += &s;
    }
    let p = dir.join("fringe.json");
    std::fs::write(&p, text).unwrap();
    (p, rows)
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"))
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// The row's epoch at station 1: fringe's default reference station is the
/// baseline's first, so ref_epoch_utc is it.
fn row_epoch(r: &Value) -> UtcTime {
    let bl = s(r, "baseline");
    assert!(bl.starts_with(s(r, "ref_station")), "{bl}");
    UtcTime::parse_iso8601(s(r, "ref_epoch_utc")).unwrap()
}

fn epoch_of(o: &Value) -> UtcTime {
    let sec = f(o, "seconds");
    UtcTime::from_calendar(
        o["year"].as_i64().unwrap() as i32,
        o["month"].as_u64().unwrap() as u32,
        o["day"].as_u64().unwrap() as u32,
        o["hour"].as_u64().unwrap() as u32,
        o["minute"].as_u64().unwrap() as u32,
        sec.floor() as u32,
        sec - sec.floor(),
    )
}

/// Each exported observation matched to its row: the same stations,
/// source and epoch within 1e-9 s; every row used once.
fn match_rows<'a>(obs: &[Value], rows: &'a [Value]) -> Vec<&'a Value> {
    let mut used = vec![false; rows.len()];
    let matched = obs
        .iter()
        .map(|o| {
            let t = epoch_of(o);
            let bl = format!("{}-{}", s(o, "station_1"), s(o, "station_2"));
            let k = (0..rows.len())
                .find(|&k| {
                    !used[k]
                        && s(&rows[k], "baseline") == bl
                        && s(&rows[k], "source") == s(o, "source")
                        && row_epoch(&rows[k]).seconds_since(t).abs() < 1e-9
                })
                .unwrap_or_else(|| panic!("no row for {o}"));
            used[k] = true;
            &rows[k]
        })
        .collect();
    assert!(used.iter().all(|u| *u), "rows not exported");
    matched
}

#[test]
fn ngs_round_trips_every_observation() {
    let dir = tempfile::tempdir().unwrap();
    let job = write_job(dir.path());
    let (fringe, rows) = fringe_file(dir.path());
    let out = dir.path().join("t.ngs");
    let run = emcorr()
        .arg("export")
        .arg(&fringe)
        .args(["--format", "ngs", "--job"])
        .arg(&job)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    if !python() {
        return;
    }
    let ngs = read_with("ngs_reader.py", &out);
    let obs = ngs["observations"].as_array().unwrap();
    assert_eq!(obs.len(), rows.len(), "one observation per row");
    // Serial numbers 1..N, in time order.
    for (k, o) in obs.iter().enumerate() {
        assert_eq!(o["serial"].as_u64().unwrap() as usize, k + 1);
        if k > 0 {
            assert!(epoch_of(o).seconds_since(epoch_of(&obs[k - 1])) >= 0.0);
        }
    }
    let matched = match_rows(obs, &rows);
    for (o, r) in obs.iter().zip(matched) {
        let d = f(o, "delay_ns") * 1e-9 - f(r, "total_delay_s");
        assert!(d.abs() < 1e-15, "delay off by {d:e} s: {o} vs {r}");
        let ds = f(o, "delay_sigma_ns") * 1e-9 - f(r, "mbd_sigma_s");
        assert!(ds.abs() < 1e-15, "delay σ off by {ds:e} s");
        let dr = f(o, "rate_ps_per_s") * 1e-12 - f(r, "total_rate_s_per_s");
        assert!(dr.abs() < 1e-20, "rate off by {dr:e}");
        let drs = f(o, "rate_sigma_ps_per_s") * 1e-12 - f(r, "rate_sigma");
        assert!(drs.abs() < 1e-17, "rate σ off by {drs:e}");
        assert!((f(o, "corr_coef") - f(r, "amplitude")).abs() < 1e-8);
        let snr = f(o, "corr_coef") / f(o, "corr_coef_sigma");
        assert!((snr / f(r, "snr") - 1.0).abs() < 1e-3, "SNR {snr} vs {r}");
        let detected = r["detected"].as_bool().unwrap();
        assert_eq!(o["quality"].as_i64().unwrap(), if detected { 0 } else { 1 });
        assert_eq!(s(o, "delay_type"), "GR");
        assert_eq!(o["cards"], serde_json::json!(["01", "02", "03", "07"]));
        assert!((f(o, "freq_mhz") * 1e6 - f(r, "ref_freq_hz")).abs() < 1e-3);
        assert!((f(o, "duration_s") - f(r, "duration_s")).abs() < 1e-3);
    }
    // Sites: Earth stations as the job gives them; the lunar one at Moon
    // distance (its ITRS position at the first epoch).
    let sites = ngs["sites"].as_array().unwrap();
    let names: Vec<&str> = sites.iter().map(|x| s(x, "name")).collect();
    assert_eq!(names, ["EF", "WB", "MOON"]);
    let xyz = |k: usize| -> Vec<f64> {
        sites[k]["xyz_m"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    for (a, b) in xyz(0).iter().zip([4033947.2, 486990.8, 4900431.0]) {
        assert!((a - b).abs() < 1e-5);
    }
    let r_moon = xyz(2).iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((3.5e8..4.1e8).contains(&r_moon), "MOON at {r_moon} m");
    assert!(s(&ngs, "comment").contains("MOON"));
    // Sources: the job's RA/Dec.
    let src = ngs["sources"].as_array().unwrap();
    let want: [(&str, f64, f64); 2] = [
        (
            "0552+398",
            (5.0 + 55.0 / 60.0 + 30.72 / 3600.0) * 15.0,
            39.0 + 48.0 / 60.0 + 50.4 / 3600.0,
        ),
        (
            "1741-038",
            (17.0 + 43.0 / 60.0 + 58.8 / 3600.0) * 15.0,
            -(3.0 + 50.0 / 60.0 + 6.0 / 3600.0),
        ),
    ];
    assert_eq!(src.len(), 2);
    for (x, (name, ra, dec)) in src.iter().zip(want) {
        assert_eq!(s(x, "name"), name);
        assert!((f(x, "ra_rad") - ra.to_radians()).abs() < 1e-10);
        assert!((f(x, "dec_rad") - dec.to_radians()).abs() < 1e-10);
    }
    assert!((f(&ngs["aux"], "ref_freq_mhz") - ref_freq() * 1e-6).abs() < 1e-9);
}

#[test]
fn vso_round_trips_every_observation() {
    let dir = tempfile::tempdir().unwrap();
    let job = write_job(dir.path());
    let (fringe, rows) = fringe_file(dir.path());
    let out = dir.path().join("t.vso");
    let run = emcorr()
        .arg("export")
        .arg(&fringe)
        .args(["--format", "vso", "--job"])
        .arg(&job)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    if !python() {
        return;
    }
    let vso = read_with("vso_reader.py", &out);
    let obs = vso["observations"].as_array().unwrap();
    assert_eq!(obs.len(), rows.len());
    let matched = match_rows(obs, &rows);
    for (o, r) in obs.iter().zip(matched) {
        assert_eq!(s(o, "type"), "q");
        let d = f(o, "delay_ns") * 1e-9 - f(r, "total_delay_s");
        assert!(d.abs() < 1e-15, "delay off by {d:e} s");
        let ds = f(o, "delay_sigma_ns") * 1e-9 - f(r, "mbd_sigma_s");
        assert!(ds.abs() < 1e-15, "delay σ off by {ds:e} s");
    }
}

#[test]
fn a_row_without_total_delay_is_bad_input_naming_row_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let job = write_job(dir.path());
    let row = |delay: Value| {
        serde_json::json!({
            "baseline": "EF-WB", "scan": 2, "subband": null, "source": "0552+398",
            "ref_epoch_utc": "2026-03-14T13:00:20.012500000Z", "ref_station": "EF",
            "geocentre_epoch_utc": "2026-03-14T13:00:20.000000000Z", "ref_freq_hz": 8.4e9,
            "mbd_sigma_s": 1e-11, "rate_sigma": 1e-14, "amplitude": 0.002, "snr": 40.0,
            "detected": true, "total_delay_s": delay, "total_rate_s_per_s": 1e-7,
            "duration_s": 40.0, "scan_name": null
        })
    };
    let mut second = row(Value::Null);
    second.as_object_mut().unwrap().remove("total_delay_s");
    let fringe = dir.path().join("bad.json");
    std::fs::write(
        &fringe,
        serde_json::to_string(&vec![row(serde_json::json!(-0.0196)), second]).unwrap(),
    )
    .unwrap();
    let out = emcorr()
        .arg("export")
        .arg(&fringe)
        .args(["--format", "ngs", "--job"])
        .arg(&job)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.json: row 2 (baseline EF-WB, scan 2): key `total_delay_s`: missing"),
        "{err}"
    );

    // null (a file without a model table) names the key and why.
    std::fs::write(
        &fringe,
        serde_json::to_string(&vec![row(Value::Null)]).unwrap(),
    )
    .unwrap();
    let out = emcorr()
        .arg("export")
        .arg(&fringe)
        .args(["--format", "vso", "--job"])
        .arg(&job)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 1") && err.contains("`total_delay_s`: null"),
        "{err}"
    );

    // A missing fringe file is bad input too.
    let out = emcorr()
        .arg("export")
        .arg(dir.path().join("none.json"))
        .args(["--format", "ngs", "--job"])
        .arg(&job)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The lander job of testdata/scenarios/lander.toml (T6 and the lunar LS;
/// a quasar and the near-field CE7LANDER), with the model from testdata.
fn write_lander_job(dir: &Path) -> PathBuf {
    let sc = std::fs::read_to_string(testdata("scenarios/lander.toml")).unwrap();
    let mut table: toml::Table = toml::from_str(&sc).unwrap();
    table.remove("simulation");
    table.remove("scan");
    table.remove("zoom");
    for k in ["kernels", "eop"] {
        let v = &mut table["model"][k];
        let fix = |p: &str| testdata(p.trim_start_matches("../")).display().to_string();
        *v = match v {
            toml::Value::Array(a) => toml::Value::Array(
                a.iter()
                    .map(|p| toml::Value::String(fix(p.as_str().unwrap())))
                    .collect(),
            ),
            toml::Value::String(p) => toml::Value::String(fix(p)),
            _ => unreachable!(),
        };
    }
    for s in table["source"].as_array_mut().unwrap() {
        let s = s.as_table_mut().unwrap();
        for k in ["correlated_fraction", "inject_offset_m", "tone"] {
            s.remove(k);
        }
    }
    for s in table["station"].as_array_mut().unwrap() {
        let s = s.as_table_mut().unwrap();
        for k in ["inject_clock_offset_s", "correlated_fraction_by_source"] {
            s.remove(k);
        }
    }
    table["job"]
        .as_table_mut()
        .unwrap()
        .insert("output".into(), toml::Value::String("t.fits".into()));
    let p = dir.join("lander.toml");
    std::fs::write(&p, toml::to_string(&table).unwrap()).unwrap();
    p
}

#[test]
fn lunar_station_near_field_source_and_second_station_reference() {
    let dir = tempfile::tempdir().unwrap();
    let job = write_lander_job(dir.path());
    let delay = 1.2871234567891234;
    let row = |source: &str, ref_station: &str, ref_epoch: &str| {
        serde_json::json!({
            "baseline": "T6-LS", "scan": 1, "subband": null, "source": source,
            "ref_epoch_utc": ref_epoch, "ref_station": ref_station,
            "geocentre_epoch_utc": "2026-03-15T00:30:00Z", "ref_freq_hz": 8.4e9,
            "mbd_sigma_s": 3.2e-11, "rate_sigma": null, "amplitude": 0.05, "snr": 300.0,
            "detected": true, "total_delay_s": delay, "total_rate_s_per_s": -2.1e-6,
            "duration_s": 1.0, "scan_name": "No0001"
        })
    };
    let fringe = dir.path().join("lander.json");
    // Station 2 (LS) labels the second row: its arrival, 1.287… s after T6's.
    let rows = vec![
        row("CE7LANDER", "T6", "2026-03-15T00:30:00.0125Z"),
        row("PKS1921-293", "LS", "2026-03-15T00:30:01.2996234567891234Z"),
    ];
    std::fs::write(&fringe, serde_json::to_string(&rows).unwrap()).unwrap();
    let out = |format: &str| {
        let o = emcorr()
            .arg("export")
            .arg(&fringe)
            .args(["--format", format, "--job"])
            .arg(&job)
            .arg("--out")
            .arg(dir.path().join(format!("t.{format}")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        dir.path().join(format!("t.{format}"))
    };
    let (ngs_file, vso_file) = (out("ngs"), out("vso"));
    if !python() {
        return;
    }
    let ngs = read_with("ngs_reader.py", &ngs_file);
    // The header as GSFC's own NGS files have it (νSolve: "DATA IN NGS
    // FORMAT FROM DATABASE 12JAN26XE_V004"): the database name YYMONDD and
    // a two-letter code, no '$', "_V" and a 3-digit version; the date is the
    // first observation's.
    assert_eq!(
        ngs["header"].as_str().unwrap(),
        "DATA IN NGS FORMAT FROM DATABASE 26MAR15EM_V001"
    );
    let obs = ngs["observations"].as_array().unwrap();
    assert_eq!(obs.len(), 2);
    let t6 = UtcTime::parse_iso8601("2026-03-15T00:30:00.0125Z").unwrap();
    for o in obs {
        // Both rows are labelled with T6's arrival (the second moved back by the delay).
        assert!(epoch_of(o).seconds_since(t6).abs() < 1e-9, "{o}");
        assert!((f(o, "delay_ns") * 1e-9 - delay).abs() < 1e-15);
        assert_eq!(f(o, "rate_sigma_ps_per_s"), 0.0, "a null rate σ is 0 ± 0");
    }
    let sites = ngs["sites"].as_array().unwrap();
    let ls: f64 = sites[1]["xyz_m"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap().powi(2))
        .sum::<f64>()
        .sqrt();
    assert!((3.5e8..4.1e8).contains(&ls), "LS at {ls} m");
    let names: Vec<&str> = ngs["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(x, "name"))
        .collect();
    assert_eq!(names, ["PKS1921-", "CE7LANDE"], "cut to 8 characters");
    let vso = read_with("vso_reader.py", &vso_file);
    let types: Vec<&str> = vso["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| s(o, "type"))
        .collect();
    assert_eq!(types.len(), 2);
    assert!(types.contains(&"s") && types.contains(&"q"));
}
