//! `emcorr plot` on a FITS-IDI file with known truth (tests/common): the PNGs
//! are written, are PNGs of the documented size, and bad requests fail with
//! exit code 2. Set EMCORR_KEEP_PLOTS=DIR to keep the images for a look.

mod common;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("EMCORR_KEEP_PLOTS") {
        Some(d) => {
            std::fs::create_dir_all(&d).unwrap();
            (None, PathBuf::from(d))
        }
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

#[test]
fn fringe_and_spectra_plots_are_written() {
    let (_keep, dir) = out_dir();
    let fits = dir.join("plot_test.fits");
    common::write_file(&fits);
    let f = fits.to_str().unwrap();
    for (bl, scan) in [("EF-MOON", "1"), ("WB-EF", "2")] {
        let out = dir.join(format!("fringe_{bl}_{scan}.png"));
        Command::cargo_bin("emcorr")
            .unwrap()
            .args([
                "plot",
                f,
                "--baseline",
                bl,
                "--scan",
                scan,
                "--out",
                out.to_str().unwrap(),
            ])
            .assert()
            .success();
        assert_eq!(png_size(&out), (1700, 1100));
    }
    let out = dir.join("spectra.png");
    Command::cargo_bin("emcorr")
        .unwrap()
        .args(["plot", f, "--spectra", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(png_size(&out), (1400, 70 + 3 * 300));
    // Default output name: beside the input.
    Command::cargo_bin("emcorr")
        .unwrap()
        .args(["plot", f, "--baseline", "EF-WB"])
        .assert()
        .success();
    assert!(dir.join("plot_test_EF-WB_scan1.png").exists());
    // Unknown baseline or scan: bad input.
    Command::cargo_bin("emcorr")
        .unwrap()
        .args(["plot", f, "--baseline", "EF-XX"])
        .assert()
        .code(2);
    Command::cargo_bin("emcorr")
        .unwrap()
        .args(["plot", f, "--baseline", "EF-WB", "--scan", "9"])
        .assert()
        .code(2);
}

#[test]
fn a_phase_centre_of_a_same_beam_scan_is_chosen_with_source() {
    let (_keep, dir) = out_dir();
    let fits = dir.join("session.fits");
    common::write_session_file(&fits, 5, true);
    let f = fits.to_str().unwrap();
    let args = ["plot", f, "--baseline", "EF-MOON", "--scan", "3"];
    Command::cargo_bin("emcorr")
        .unwrap()
        .args(args)
        .args(["--source", "J0555+3948"])
        .assert()
        .success();
    // Named after the source too, so the scan's other phase centre does
    // not overwrite it.
    assert_eq!(
        png_size(&dir.join("session_EF-MOON_scan3_J0555+3948.png")),
        (1700, 1100)
    );
    // A source not in that scan: bad input.
    Command::cargo_bin("emcorr")
        .unwrap()
        .args(args)
        .args(["--source", "0552+398"])
        .assert()
        .code(2);
}

/// simulate --observables (same-beam session) → solve --format json →
/// plot --residuals: a PNG of the documented size (6 baselines); a file
/// that is not a solve's JSON, or --residuals with a FITS file, is bad
/// input (exit 2). The plotted points themselves are checked against the
/// residuals in tools/src/plot/residual_plot.rs.
#[test]
fn residuals_of_a_solve_are_plotted() {
    let (_keep, dir) = out_dir();
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/samebeam_session.toml");
    let emcorr = || Command::cargo_bin("emcorr").unwrap();
    emcorr()
        .args(["simulate", "--observables"])
        .arg(&scenario)
        .arg("--out")
        .arg(&dir)
        .assert()
        .success();
    let sol = dir.join("sol.json");
    emcorr()
        .arg("solve")
        .arg(dir.join("fringe.json"))
        .arg("--job")
        .arg(dir.join("job.toml"))
        .args([
            "--estimate=-moon_position,-lander:CE7LANDER",
            "--format",
            "json",
            "--out",
        ])
        .arg(&sol)
        .assert()
        .success();
    emcorr()
        .args(["plot", "--residuals"])
        .arg(&sol)
        .assert()
        .success();
    assert_eq!(
        png_size(&dir.join("sol_residuals.png")),
        (1400, 70 + 260 * 6)
    );
    let bad = emcorr()
        .args(["plot", "--residuals"])
        .arg(dir.join("fringe.json"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("fringe.json: key `observations`"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    emcorr()
        .arg("plot")
        .arg(dir.join("fringe.json"))
        .args(["--residuals"])
        .arg(&sol)
        .assert()
        .code(2);
    // --no-same-beam: group delays only.
    let out = emcorr()
        .arg("solve")
        .arg(dir.join("fringe.json"))
        .arg("--job")
        .arg(dir.join("job.toml"))
        .args([
            "--estimate=-moon_position,-lander:CE7LANDER",
            "--format",
            "json",
            "--no-same-beam",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["n_phase_delay_diff"], 0);
}
