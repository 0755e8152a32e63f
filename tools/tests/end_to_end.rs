//! simulate → correlate → fringe, checked against the simulator's truth.json:
//! residual delays, rates and phases of every baseline within 3 formal sigmas,
//! amplitudes and SNR against the expected correlation coefficients.

use assert_cmd::Command;
use formats::UtcTime;
use serde_json::Value;
use std::f64::consts::PI;

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing or not a number in {v}"))
}

fn wrap(x: f64) -> f64 {
    let y = x.rem_euclid(2.0 * PI);
    if y > PI {
        y - 2.0 * PI
    } else {
        y
    }
}

#[test]
fn fringe_fit_of_the_simulated_earth_moon_scenario_matches_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    emcorr()
        .args([
            "simulate",
            "--out",
            d.to_str().unwrap(),
            "--seconds",
            "4",
            "--seed",
            "11",
        ])
        .assert()
        .success();
    let fits = d.join("out.fits");
    emcorr()
        .args([
            "correlate",
            d.join("job.toml").to_str().unwrap(),
            "--output",
            fits.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    let out = emcorr()
        .args([
            "fringe",
            fits.to_str().unwrap(),
            "--format",
            "json",
            "--subbands",
            "each",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let truth: Value =
        serde_json::from_slice(&std::fs::read(d.join("truth.json")).unwrap()).unwrap();
    let t0 = UtcTime::parse_iso8601(truth["reference_epoch"].as_str().unwrap()).unwrap();
    let baselines = truth["baselines"].as_object().unwrap();
    let combined: Vec<&Value> = rows.iter().filter(|r| r["subband"].is_null()).collect();
    assert_eq!(
        combined.len(),
        baselines.len(),
        "one combined row per baseline"
    );
    for r in &combined {
        let name = r["baseline"].as_str().unwrap();
        let t = &baselines[name];
        let g = UtcTime::parse_iso8601(r["geocentre_epoch_utc"].as_str().unwrap()).unwrap();
        let dt = g.seconds_since(t0);
        let rate = num(t, "residual_rate");
        let want = num(t, "residual_delay_s") + rate * dt;
        let zd = (num(r, "mbd_s") - want) / num(r, "mbd_sigma_s");
        let zr = (num(r, "rate_s_per_s") - rate) / num(r, "rate_sigma");
        // Phase at REF_FREQ (band 1's LO) at the reference epoch.
        let nu = num(r, "ref_freq_hz");
        let want_phase = t["residual_phase_rad"][0].as_f64().unwrap() + 2.0 * PI * nu * rate * dt;
        let zp = wrap(num(r, "phase_deg").to_radians() - want_phase)
            / num(r, "phase_sigma_deg").to_radians();
        // Amplitude: the quantisation-corrected correlation coefficient.
        let amp = num(t, "expected_amplitude");
        let snr = num(r, "snr");
        let za = (num(r, "amplitude") - amp) / (amp / snr);
        // SNR = η_A η_B ρ sqrt(2 B T): B = 2 × 8 MHz, T = periods × 1 s.
        let (a, b) = name.split_once('-').unwrap();
        let eta = num(&truth["stations"][a], "quantisation_efficiency")
            * num(&truth["stations"][b], "quantisation_efficiency");
        // Less the fringe winding inside each 1 s period (ν̄ = 8.408 GHz; the
        // 15.6 kHz channels lose nothing at these delays).
        let x = 8.408e9 * rate * 1.0;
        let loss = if x == 0.0 {
            1.0
        } else {
            (PI * x).sin() / (PI * x)
        };
        let expect_snr = eta * amp * loss * (2.0 * 16e6 * num(r, "n_periods")).sqrt();
        eprintln!(
            "{name}: mbd {:.4} ns (truth {:.4}, z {zd:.2}), rate z {zr:.2}, phase z {zp:.2}, \
             amp z {za:.2}, SNR {snr:.1} / expected {expect_snr:.1}, noise ratio {:.3}, smearing {:.4} / {loss:.4}",
            num(r, "mbd_s") * 1e9,
            want * 1e9,
            num(r, "noise_ratio"),
            num(r, "smearing_loss")
        );
        assert!(zd.abs() < 3.0, "{name}: delay off by {zd} sigma");
        assert!(zr.abs() < 3.0, "{name}: rate off by {zr} sigma");
        assert!(zp.abs() < 3.0, "{name}: phase off by {zp} sigma");
        assert!(za.abs() < 4.0, "{name}: amplitude off by {za} sigma");
        assert!(
            (snr / expect_snr - 1.0).abs() < 0.1,
            "{name}: SNR {snr} vs {expect_snr}"
        );
        assert!(r["detected"].as_bool().unwrap());
        assert!(
            r["total_delay_s"].as_f64().is_some(),
            "{name}: no model in the file"
        );
    }
    // Per subband: each subband's phase at the reference epoch and its LO.
    for r in rows.iter().filter(|r| !r["subband"].is_null()) {
        let name = r["baseline"].as_str().unwrap();
        let sb = r["subband"].as_u64().unwrap() as usize - 1;
        let t = &baselines[name];
        let g = UtcTime::parse_iso8601(r["geocentre_epoch_utc"].as_str().unwrap()).unwrap();
        let want = num(t, "residual_delay_s") + num(t, "residual_rate") * g.seconds_since(t0);
        let z = (num(r, "sbd_s") - want) / num(r, "sbd_sigma_s");
        assert!(
            z.abs() < 4.0,
            "{name} subband {}: sbd off by {z} sigma",
            sb + 1
        );
    }
}
