//! Phase-cal end to end (issue 15): `emcorr simulate` injects each
//! station's instrumental terms and a pcal comb (truth.json says what each
//! tone should read), `emcorr correlate` extracts the tones into the
//! PHASE-CAL table, `emcorr pcal` prints them, `emcorr fringe --pcal`
//! applies them.

mod cli_util;
use cli_util::{emcorr, fringe_rows, ok, simulate_and_correlate, wrap};
use std::path::Path;

/// `[correlation] integration_s` of the written job.
fn integration_s(dir: &Path) -> f64 {
    let t: toml::Table = std::fs::read_to_string(dir.join("job.toml"))
        .unwrap()
        .parse()
        .unwrap();
    t["correlation"]["integration_s"].as_float().unwrap()
}

fn f(v: &serde_json::Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// Station time of an ISO-8601 UTC label, seconds after `t0` (same day).
fn secs_after(t: &str, t0: &str) -> f64 {
    let s = |x: &str| -> f64 {
        let hms = &x[11..x.len() - 1];
        let p: Vec<f64> = hms.split(':').map(|v| v.parse().unwrap()).collect();
        p[0] * 3600.0 + p[1] * 60.0 + p[2]
    };
    s(t) - s(t0)
}

/// Every tone of pcal.toml (A: 16 Ms/s real with 1 MHz tones; B: 8 Ms/s
/// complex, LSB bands, 2 MHz tones; C: none) against truth's expected
/// phase at the row's time (expected_phase_rad + rate × t), in units of
/// the closed-form scatter σ = √(k/N)/|c| (k = 2 real, 1 complex; N the
/// samples of the integration, |c| the tone's measured amplitude, which
/// the 2-bit quantiser lowers).
#[test]
fn extracted_tones_read_truths_instrumental_phase() {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate_and_correlate("pcal.toml", dir.path());
    let out = ok(&emcorr()
        .arg("pcal")
        .arg(dir.path().join("pcal.fits"))
        .args(["--format", "json"])
        .output()
        .unwrap());
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let t0 = truth["reference_epoch"].as_str().unwrap();
    let tint = integration_s(dir.path());
    let (mut n, mut sum_z2, mut worst) = (0usize, 0.0, 0.0f64);
    let mut lsb_checked = false;
    for r in &rows {
        let st = r["station"].as_str().unwrap();
        assert_ne!(st, "C", "C has no comb");
        let s = &truth["stations"][st];
        let tone = s["pcal"]["tones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| f(t, "sky_freq_hz") == f(r, "sky_freq_hz"))
            .unwrap_or_else(|| panic!("no truth for {r}"));
        let t = secs_after(r["time_utc"].as_str().unwrap(), t0);
        let want = f(tone, "expected_phase_rad") + f(tone, "phase_rate_rad_per_s") * t;
        let fs = f(s, "sample_rate_hz");
        let k = if st == "B" { 1.0 } else { 2.0 };
        let sigma = (k / (fs * tint)).sqrt() / f(r, "amplitude");
        let z = wrap(f(r, "phase_rad") - want) / sigma;
        sum_z2 += z * z;
        worst = worst.max(z.abs());
        n += 1;
        lsb_checked |= st == "B";
    }
    let rms = (sum_z2 / n as f64).sqrt();
    eprintln!("{n} tones: rms {rms:.2}σ, worst {worst:.2}σ");
    assert!(n >= 64 && lsb_checked, "{n} tones");
    assert!(worst < 4.5, "worst {worst:.2}σ");
    assert!((0.6..1.5).contains(&rms), "rms {rms:.2}σ");
}

/// pcal_session.toml (A, B with combs, C without; random ±180° and ±3 ns
/// per station and subband over 400 MHz): `fringe --pcal` gives A-B's
/// multiband delay as the injected clocks within 3σ, σ being what fringe
/// reports (the fit's and the tones' in quadrature); without it the delay
/// is thousands of σ off. The tones' part (`mbd_cal_sigma_s`) is checked
/// against a closed form written here: each station's per-subband phase
/// from its tones in the scan, σ_φ/√(tones × rows) with σ_φ = √(k/N)/|c|,
/// through the multiband slope over the subbands' frequencies.
#[test]
fn fringe_pcal_recovers_the_clock_on_the_baseline_with_tones() {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate_and_correlate("pcal_session.toml", dir.path());
    let fits = dir.path().join("pcal_session.fits");
    let tint = integration_s(dir.path());
    let pc: Vec<serde_json::Value> = serde_json::from_str(&ok(&emcorr()
        .arg("pcal")
        .arg(&fits)
        .args(["--format", "json"])
        .output()
        .unwrap()))
    .unwrap();
    let fringe = |extra: &[&str]| fringe_rows(&fits, extra);
    // The tones' share of σ: per station and band, the phase error of the
    // band's mean tone phase; per baseline, the multiband slope's.
    let band_sigma = |st: &str, band: i64, scan: &serde_json::Value| -> f64 {
        let k = if st == "B" { 1.0 } else { 2.0 };
        let fs = f(&truth["stations"][st], "sample_rate_hz");
        let centre = scan["centre"].as_str().unwrap();
        let half = 0.5 * f(scan, "duration_s");
        let w: f64 = pc
            .iter()
            .filter(|r| r["station"] == st && r["band"].as_i64() == Some(band))
            .filter(|r| secs_after(r["time_utc"].as_str().unwrap(), centre).abs() < half)
            .map(|r| {
                let s = (k / (fs * tint)).sqrt() / f(r, "amplitude");
                1.0 / (s * s)
            })
            .sum();
        1.0 / w.sqrt()
    };
    let bands: Vec<(i64, f64)> = {
        let mut b: Vec<(i64, f64)> = pc
            .iter()
            .filter(|r| r["station"] == "A")
            .map(|r| (r["band"].as_i64().unwrap(), f(r, "sky_freq_hz")))
            .collect();
        b.sort_by_key(|x| x.0);
        b.dedup_by_key(|x| x.0);
        b
    };
    let mean_f = bands.iter().map(|b| b.1).sum::<f64>() / bands.len() as f64;
    let sigma_tones = |scan: &serde_json::Value| {
        let num: f64 = bands
            .iter()
            .map(|&(b, fr)| {
                let s2 = band_sigma("A", b, scan).powi(2) + band_sigma("B", b, scan).powi(2);
                (fr - mean_f).powi(2) / s2
            })
            .sum();
        1.0 / (std::f64::consts::TAU * num.sqrt())
    };
    let raw = fringe(&[]);
    let cal = fringe(&["--pcal"]);
    for (rows, with) in [(&raw, false), (&cal, true)] {
        for r in rows.iter().filter(|r| r["baseline"] == "A-B") {
            let scan = &truth["scans"][r["scan"].as_u64().unwrap() as usize - 1];
            let t = &scan["residuals"][r["source"].as_str().unwrap()]["baselines"]["A-B"];
            let sigma = f(r, "mbd_sigma_s");
            let z = (f(r, "mbd_s") - f(t, "residual_delay_s")) / sigma;
            let (tones, closed) = (f(r, "mbd_cal_sigma_s"), sigma_tones(scan));
            eprintln!(
                "{} A-B {}: {:+.4} ns, truth {:+.4} ns, {z:+.2}σ (σ {:.2} ps, of it tones {:.2} ps; closed form {:.2} ps)",
                if with { "--pcal" } else { "raw" },
                scan["name"],
                f(r, "mbd_s") * 1e9,
                f(t, "residual_delay_s") * 1e9,
                sigma * 1e12,
                tones * 1e12,
                closed * 1e12
            );
            if with {
                assert!(z.abs() < 3.0, "{z:+.2}σ");
                // The closed form omits each band's tone-slope error and
                // takes the band's edge for its centre: within 15 %.
                assert!((tones / closed - 1.0).abs() < 0.15, "{tones} vs {closed}");
            } else {
                assert_eq!(tones, 0.0);
                assert!(z.abs() > 100.0, "uncalibrated only {z:+.2}σ off");
            }
        }
    }
}
