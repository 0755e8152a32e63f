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

/// `emcorr pcal FITS --format json`: one object per tone.
fn pcal_json(fits: &Path) -> Vec<serde_json::Value> {
    serde_json::from_str(&ok(&emcorr()
        .arg("pcal")
        .arg(fits)
        .args(["--format", "json"])
        .output()
        .unwrap()))
    .unwrap()
}

/// Every tone of `rows` (from pcal.toml or a variant of it: A 16 Ms/s
/// real with 1 MHz tones; B 8 Ms/s complex, LSB bands, 2 MHz tones; C
/// none) against truth's expected phase at the row's time
/// (expected_phase_rad + rate × t), in units of the closed-form scatter
/// σ = √(k/N)/|c| (k = 2 real, 1 complex; N the samples of the
/// integration, |c| the tone's measured amplitude, which the 2-bit
/// quantiser lowers). Returns (tones, rms and worst |error|/σ).
fn against_truth(
    rows: &[serde_json::Value],
    truth: &serde_json::Value,
    tint: f64,
) -> (usize, f64, f64) {
    let t0 = truth["reference_epoch"].as_str().unwrap();
    let (mut n, mut sum_z2, mut worst) = (0usize, 0.0, 0.0f64);
    let mut lsb_checked = false;
    for r in rows {
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
    assert!(lsb_checked, "no tone of B (complex LSB) checked");
    (n, (sum_z2 / n as f64).sqrt(), worst)
}

/// pcal.toml's tones against truth.json (see `against_truth`).
#[test]
fn extracted_tones_read_truths_instrumental_phase() {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate_and_correlate("pcal.toml", dir.path());
    let rows = pcal_json(&dir.path().join("pcal.fits"));
    let (n, rms, worst) = against_truth(&rows, &truth, integration_s(dir.path()));
    eprintln!("{n} tones: rms {rms:.2}σ, worst {worst:.2}σ");
    assert!(n >= 64, "{n} tones");
    assert!(worst < 4.5, "worst {worst:.2}σ");
    assert!((0.6..1.5).contains(&rms), "rms {rms:.2}σ");
}

/// `emcorr correlate JOB --output OUT`, held by its test hook (see the
/// README) after `after` integrations and interrupted there by SIGINT:
/// its exit code and stderr.
fn correlate_interrupted(job: &Path, out: &Path, after: u64) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader, Read};
    let hold = out.with_extension("hold");
    std::fs::write(&hold, b"").unwrap();
    let mut child = emcorr()
        .arg("correlate")
        .arg(job)
        .arg("--output")
        .arg(out)
        .env("EMCORR_TEST_PAUSE_AFTER", after.to_string())
        .env("EMCORR_TEST_PAUSE_FILE", &hold)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut text = String::new();
    while !text.contains("test pause after") {
        assert!(
            err.read_line(&mut text).unwrap() > 0,
            "correlator ended before the pause: {text}"
        );
    }
    // SAFETY: signalling our own child, which is waiting at the hook.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    err.read_to_string(&mut text).unwrap();
    (child.wait().unwrap().code(), text)
}

/// A run interrupted after two of its four integrations and finished with
/// `--resume` writes the PHASE-CAL table of an uninterrupted run, row for
/// row and value for value (the replayed integrations' tones, and PC_RATE
/// of the first integration computed after the resume taken from the last
/// replayed one): pcal.toml cut to 0.4 s of 0.1 s integrations (the
/// simulation is most of the test's time). The table is checked against
/// truth.json too, and PC_RATE is 0 exactly in the first integration (no
/// predecessor) and nowhere else.
#[test]
fn a_resumed_run_writes_the_phase_cal_table_of_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/pcal.toml");
    let mut text = std::fs::read_to_string(sc).unwrap();
    for (from, to) in [
        ("duration_s = 1.0\n", "duration_s = 0.4\n"),
        ("integration_s = 0.5\n", "integration_s = 0.1\n"),
    ] {
        assert_eq!(text.matches(from).count(), 1, "pcal.toml: {from}");
        text = text.replace(from, to);
    }
    let scenario = dir.path().join("pcal4.toml");
    std::fs::write(&scenario, text).unwrap();
    ok(&emcorr()
        .arg("simulate")
        .arg(&scenario)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap());
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    let job = dir.path().join("job.toml");
    let tint = integration_s(dir.path());
    assert_eq!(tint, 0.1);

    let reference = dir.path().join("reference.fits");
    ok(&emcorr()
        .arg("correlate")
        .arg(&job)
        .arg("--output")
        .arg(&reference)
        .arg("--quiet")
        .output()
        .unwrap());

    let out = dir.path().join("resumed.fits");
    let (code, err) = correlate_interrupted(&job, &out, 2);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("after 2 integration(s)"), "{err}");
    let resume = emcorr()
        .arg("correlate")
        .arg(&job)
        .arg("--output")
        .arg(&out)
        .arg("--resume")
        .output()
        .unwrap();
    ok(&resume);
    let err = String::from_utf8_lossy(&resume.stderr);
    assert!(err.contains("resumed after 2 integration(s)"), "{err}");

    let want = formats::fitsidi::read_pcal(&reference).unwrap();
    let got = formats::fitsidi::read_pcal(&out).unwrap();
    // Four integrations × the two stations with a comb.
    assert_eq!(want.len(), 8);
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "PHASE-CAL row {k}");
    }
    let first = want
        .iter()
        .map(|r| r.time)
        .fold(want[0].time, |a, t| if t < a { t } else { a });
    for r in &want {
        let rates = r.rate.iter().flatten().flatten();
        let tones = r.freq_hz.iter().flatten().flatten();
        for (&rate, &nu) in rates.zip(tones).filter(|(_, &nu)| nu > 0.0) {
            assert_eq!(
                rate == 0.0,
                r.time == first,
                "antenna {} at {}: {nu} Hz PC_RATE {rate:e}",
                r.antenna_no,
                r.time
            );
        }
    }
    // The whole file too, as for any resumed run.
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(&reference).unwrap(),
        "the resumed file differs from the uninterrupted run's"
    );

    let (n, rms, worst) = against_truth(&pcal_json(&out), &truth, tint);
    eprintln!("resumed: {n} tones: rms {rms:.2}σ, worst {worst:.2}σ");
    assert_eq!(
        n,
        4 * (4 * 8 + 4 * 4),
        "four integrations of A's and B's tones"
    );
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
    let pc = pcal_json(&fits);
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
