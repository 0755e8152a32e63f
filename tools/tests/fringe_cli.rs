//! `emcorr fringe` on a FITS-IDI file with known truth (tests/common).

mod common;

use assert_cmd::Command;
use common::*;
use formats::UtcTime;
use serde_json::Value;

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

fn json_rows(args: &[&str]) -> Vec<Value> {
    let out = emcorr().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing or not a number in {v}"))
}

#[test]
fn recovers_residuals_and_totals_from_a_fits_idi_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.fits");
    write_file(&path);
    let p = path.to_str().unwrap();
    let rows = json_rows(&["fringe", p, "--format", "json", "--ref", "MOON"]);
    assert_eq!(rows.len(), 6, "3 baselines × 2 scans");
    let keys = [
        "baseline",
        "scan",
        "subband",
        "ref_epoch_utc",
        "mbd_s",
        "mbd_sigma_s",
        "sbd_s",
        "rate_s_per_s",
        "rate_sigma",
        "phase_deg",
        "amplitude",
        "snr",
        "pfd",
        "total_delay_s",
        "total_rate_s_per_s",
    ];
    let pairs = [(0, 1), (0, 2), (1, 2)];
    for r in &rows {
        for k in keys {
            assert!(r.get(k).is_some(), "key {k} missing");
        }
        assert!(r["subband"].is_null());
        let bl = r["baseline"].as_str().unwrap();
        let (a, b) = *pairs
            .iter()
            .find(|(a, b)| bl == format!("{}-{}", NAMES[*a], NAMES[*b]))
            .unwrap_or_else(|| panic!("baseline {bl}"));
        let scan = r["scan"].as_u64().unwrap() as usize - 1;
        let g = UtcTime::parse_iso8601(r["geocentre_epoch_utc"].as_str().unwrap()).unwrap();
        // Residuals within 3 formal sigmas of the injected ones.
        let want = residual(a, b, scan, g);
        let z = (f(r, "mbd_s") - want) / f(r, "mbd_sigma_s");
        assert!(z.abs() < 3.0, "{bl} scan {scan}: mbd off by {z} sigma");
        let want_rate = RES_RATE[b] - RES_RATE[a];
        let zr = (f(r, "rate_s_per_s") - want_rate) / f(r, "rate_sigma");
        assert!(zr.abs() < 3.0, "{bl}: rate off by {zr} sigma");
        // SNR: η·ρ·sqrt(2BT), B = 32 MHz, T = 40 s, η the 2-bit efficiency.
        let loss = smearing(a, b, 8.44e9, want);
        let expect = TWO_BIT_EFFICIENCY * RHO * loss * (2.0 * 32e6 * 40.0f64).sqrt();
        let za = (f(r, "amplitude") - RHO) / (RHO / f(r, "snr"));
        // 4σ: six rows, and seed 42 puts one near 3σ (other seeds do not;
        // the synthetic survey in fringe::tests finds no amplitude bias).
        assert!(za.abs() < 4.0, "{bl}: amplitude off by {za} sigma");
        assert!(
            (f(r, "noise_ratio") - 1.0).abs() < 0.05,
            "{bl}: noise ratio"
        );
        assert!(
            (f(r, "snr") / expect - 1.0).abs() < 0.1,
            "{bl}: snr {}",
            f(r, "snr")
        );
        assert!(r["detected"].as_bool().unwrap());
        // Totals = model(B) − model(A) + residual, at the same wavefront.
        let total = model(b, g).0 - model(a, g).0 + f(r, "mbd_s");
        assert!((f(r, "total_delay_s") - total).abs() < 1e-15);
        let total_rate = model(b, g).1 - model(a, g).1 + f(r, "rate_s_per_s");
        assert!((f(r, "total_rate_s_per_s") - total_rate).abs() < 1e-18);
        // Reference epoch: arrival at MOON of the wavefront at the geocentre at g.
        let t_ref = UtcTime::parse_iso8601(r["ref_epoch_utc"].as_str().unwrap()).unwrap();
        assert!((t_ref.seconds_since(g) - model(2, g).0).abs() < 1e-9);
        assert_eq!(r["ref_station"], "MOON");
    }
}

#[test]
fn csv_subbands_each_and_solint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.fits");
    write_file(&path);
    let p = path.to_str().unwrap();
    let out = emcorr()
        .args(["fringe", p, "--subbands", "each", "--solint", "20"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), tools::fringe::CSV_HEADER);
    let n_cols = tools::fringe::CSV_HEADER.split(',').count();
    let body: Vec<&str> = lines.collect();
    // 3 baselines × 2 scans × 2 intervals × (combined + 2 subbands).
    assert_eq!(body.len(), 3 * 2 * 2 * 3);
    assert!(body.iter().all(|l| l.split(',').count() == n_cols));
    let scans: std::collections::BTreeSet<&str> =
        body.iter().map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(scans.len(), 4, "4 solution intervals: {scans:?}");
}

#[test]
fn bad_input_gives_documented_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.fits");
    write_file(&path);
    let p = path.to_str().unwrap();
    emcorr()
        .args(["fringe", p, "--ref", "NOPE"])
        .assert()
        .code(2);
    emcorr()
        .args(["fringe", p, "--delay-window", "1e-6,-1e-6"])
        .assert()
        .code(2);
    emcorr()
        .args(["fringe", p, "--solint", "0"])
        .assert()
        .code(2);
    // Missing, not FITS, or cut short: bad input, as for VDIF.
    let missing = dir.path().join("missing.fits");
    let a = emcorr()
        .args(["fringe", missing.to_str().unwrap()])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("missing.fits: cannot open"), "{err}");
    let junk = dir.path().join("junk.fits");
    std::fs::write(&junk, vec![0x5au8; 5000]).unwrap();
    emcorr()
        .args(["fringe", junk.to_str().unwrap()])
        .assert()
        .code(2);
    let cut = dir.path().join("cut.fits");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let a = emcorr()
        .args(["fringe", cut.to_str().unwrap()])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("cut.fits") && err.lines().count() == 1,
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Sessions: the EMCORR_SCAN table, two phase centres per scan, --differential.

use tools::fringe::fit::wrap_pi;
use tools::fringe::synth_session as session;

fn stations_of(baseline: &str) -> (usize, usize) {
    let (a, b) = baseline.split_once('-').unwrap();
    let idx = |n: &str| session::STATIONS.iter().position(|s| *s == n).unwrap();
    (idx(a), idx(b))
}

fn epoch(v: &Value) -> UtcTime {
    UtcTime::parse_iso8601(v["geocentre_epoch_utc"].as_str().unwrap()).unwrap()
}

#[test]
fn a_session_file_gives_rows_per_scan_source_and_baseline_with_scan_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.fits");
    write_session_file(&path, 21, true);
    let rows = json_rows(&["fringe", path.to_str().unwrap(), "--format", "json"]);
    let got: Vec<(u64, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["scan"].as_u64().unwrap(),
                r["scan_name"].as_str().unwrap(),
                r["source"].as_str().unwrap(),
            )
        })
        .collect();
    let mut want = vec![(1, "No0001", "0552+398"); 3];
    want.extend([(2, "No0002", "0552+398"); 3]);
    want.extend([(3, "No0003", "LANDER"); 3]);
    want.extend([(3, "No0003", "J0555+3948"); 3]);
    assert_eq!(got, want);
    for r in &rows {
        let bl = r["baseline"].as_str().unwrap();
        let (a, b) = stations_of(bl);
        let src = session::SOURCES
            .iter()
            .position(|s| *s == r["source"].as_str().unwrap())
            .unwrap() as u32
            + 1;
        let (tau, rate, phase) = session::residual(a, b, src, epoch(r));
        let z = [
            (f(r, "mbd_s") - tau) / f(r, "mbd_sigma_s"),
            (f(r, "rate_s_per_s") - rate) / f(r, "rate_sigma"),
            wrap_pi(f(r, "phase_deg").to_radians() - phase) / f(r, "phase_sigma_deg").to_radians(),
        ];
        assert!(z.iter().all(|z| z.abs() < 3.0), "{bl} {src}: z {z:?}");
    }
    // The same rows without the table: No0001 and No0002 (back to back, one
    // source) are one scan, no names; the same-beam scan stays one scan.
    let plain = dir.path().join("plain.fits");
    write_session_file(&plain, 21, false);
    let out = emcorr()
        .args(["fringe", plain.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header: Vec<&str> = tools::fringe::CSV_HEADER.split(',').collect();
    // Columns are only ever added at the end: scan_name keeps its place.
    assert_eq!(
        header.iter().position(|h| *h == "scan_name"),
        Some(27),
        "new columns go last"
    );
    assert_eq!(header.last(), Some(&"mbd_cal_sigma_s"));
    let col = |line: &str, name: &str| -> String {
        line.split(',')
            .nth(header.iter().position(|h| *h == name).unwrap())
            .unwrap()
            .to_string()
    };
    let body: Vec<&str> = text.lines().skip(1).collect();
    let got: Vec<(String, String, String)> = body
        .iter()
        .map(|l| (col(l, "scan"), col(l, "scan_name"), col(l, "source")))
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    let mut want = vec![s("1", "", "0552+398"); 3];
    want.extend(vec![s("2", "", "LANDER"); 3]);
    want.extend(vec![s("2", "", "J0555+3948"); 3]);
    assert_eq!(got, want);
}

#[test]
fn differential_gives_the_same_beam_difference_with_common_clocks_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.fits");
    write_session_file(&path, 22, true);
    let p = path.to_str().unwrap();
    let rows = json_rows(&[
        "fringe",
        p,
        "--format",
        "json",
        "--differential",
        "LANDER,J0555+3948",
    ]);
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let bl = r["baseline"].as_str().unwrap();
        let (a, b) = stations_of(bl);
        assert_eq!(r["scan_name"], "No0003");
        assert_eq!(
            (r["source_a"].as_str(), r["source_b"].as_str()),
            (Some("LANDER"), Some("J0555+3948"))
        );
        // Truth from the source terms alone: the injected clocks (40 and
        // 180 ns) and instrumental phases must not appear.
        let dt = epoch(r).seconds_since(session::t0());
        let src = |k: usize, s: usize| session::SRC_DELAY_S[k][s] + session::SRC_RATE[k][s] * dt;
        let tau = (src(1, b) - src(1, a)) - (src(2, b) - src(2, a));
        let rate = (session::SRC_RATE[1][b] - session::SRC_RATE[1][a])
            - (session::SRC_RATE[2][b] - session::SRC_RATE[2][a]);
        let phase = 2.0 * std::f64::consts::PI * session::REF_FREQ_HZ * tau
            + (session::SRC_PHASE_RAD[1][b] - session::SRC_PHASE_RAD[1][a])
            - (session::SRC_PHASE_RAD[2][b] - session::SRC_PHASE_RAD[2][a]);
        let z = [
            (f(r, "mbd_diff_s") - tau) / f(r, "mbd_diff_sigma_s"),
            (f(r, "rate_diff_s_per_s") - rate) / f(r, "rate_diff_sigma"),
            wrap_pi(f(r, "phase_diff_deg").to_radians() - phase)
                / f(r, "phase_diff_sigma_deg").to_radians(),
        ];
        assert!(z.iter().all(|z| z.abs() < 3.0), "{bl}: z {z:?}");
        let clock = session::CLOCK_S[b] - session::CLOCK_S[a];
        assert!(clock.abs() > 300.0 * f(r, "mbd_diff_sigma_s"));
    }
    // CSV has its own header; errors are one line, exit 2, naming the cause.
    let out = emcorr()
        .args(["fringe", p, "--differential", "LANDER,J0555+3948"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next(), Some(tools::fringe::DIFF_CSV_HEADER));
    assert_eq!(text.lines().count(), 4);
    for (arg, want) in [
        ("LANDER,NOPE", "source \"NOPE\" is not in the SOURCE table"),
        ("LANDER", "expected A,B"),
        ("LANDER,", "expected A,B"),
        ("0552+398,LANDER", "no scan has rows of both"),
        ("LANDER,LANDER", "both \"LANDER\""),
    ] {
        let a = emcorr()
            .args(["fringe", p, "--differential", arg])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(
            err.contains(want) && err.lines().count() == 1,
            "{arg}: {err}"
        );
    }
}
