//! Manual phase-cal end to end: `emcorr simulate
//! testdata/scenarios/pcal_session.toml` (three stations, four 8 MHz
//! subbands over 400 MHz, random instrumental phases of ±180° and delays of
//! ±3 ns per station and subband, clock offsets and rates; a strong
//! calibrator scan CAL and a weak target scan TGT 10 s later), `emcorr
//! correlate`, `emcorr fringe` with and without `--manual-pcal CAL`, against
//! truth.json.
//!
//! Truth with calibration: the terms CAL shows hold its clocks as well as
//! the instrumental terms (one scan cannot separate a clock from a delay
//! common to a station's subbands), so TGT's delay after correction is the
//! residual at TGT's epoch minus that at CAL's: the clocks' change.

mod cli_util;

use cli_util::{emcorr, ok, simulate_and_correlate, wrap};
use formats::UtcTime;
use std::f64::consts::{PI, TAU};
use std::path::PathBuf;
use std::sync::OnceLock;

struct Sim {
    _dir: tempfile::TempDir,
    truth: serde_json::Value,
    fits: PathBuf,
}

fn sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let truth = simulate_and_correlate("pcal_session.toml", d.path());
        let fits = d.path().join("pcal_session.fits");
        Sim {
            _dir: d,
            truth,
            fits,
        }
    })
}

fn fringe(extra: &[&str]) -> serde_json::Value {
    let out = ok(&emcorr()
        .arg("fringe")
        .arg(&sim().fits)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap());
    serde_json::from_str(&out).unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn time(v: &serde_json::Value) -> UtcTime {
    UtcTime::parse_iso8601(v.as_str().unwrap()).unwrap()
}

fn scan_truth(scan: &str) -> &'static serde_json::Value {
    sim().truth["scans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == scan)
        .unwrap()
}

/// truth.json's baseline residual of `scan` (its one source), at epoch `g`:
/// (delay s, rate, per-subband phase at the band edge at the scan centre).
fn truth_at(scan: &str, baseline: &str, g: UtcTime) -> (f64, f64, Vec<f64>) {
    let sc = scan_truth(scan);
    let src = sc["sources"][0].as_str().unwrap();
    let b = &sc["residuals"][src]["baselines"][baseline];
    let d = f(&b["residual_delay_s"]);
    let r = f(&b["residual_rate"]);
    let phases = b["residual_phase_rad"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    (d + r * g.seconds_since(time(&sc["centre"])), r, phases)
}

fn rows_of<'a>(rows: &'a [serde_json::Value], scan: &str) -> Vec<&'a serde_json::Value> {
    rows.iter()
        .filter(|r| r["scan_name"] == scan && r["subband"].is_null())
        .collect()
}

/// Rms of the file's channel frequencies about their mean (Hz): B_rms of
/// σ_τ = 1/(2π·SNR·B_rms) for uniform weights.
fn b_rms_hz() -> f64 {
    let idi = formats::fitsidi::read_idi(&sim().fits).unwrap();
    let nu: Vec<f64> = tools::fringe::idi_subbands(&idi.header)
        .iter()
        .flat_map(|s| s.chan_freq_hz.clone())
        .collect();
    let mean = nu.iter().sum::<f64>() / nu.len() as f64;
    (nu.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / nu.len() as f64).sqrt()
}

#[test]
fn target_delay_is_scrambled_without_calibration_and_recovered_with_manual_pcal() {
    let plain = fringe(&[]);
    let plain = plain.as_array().unwrap();
    let cal = fringe(&["--manual-pcal", "CAL"]);
    let rows = cal["rows"].as_array().unwrap();
    let b_rms = b_rms_hz();
    let mut scrambled = 0;
    for r in rows_of(plain, "TGT") {
        let bl = r["baseline"].as_str().unwrap();
        let g = time(&r["geocentre_epoch_utc"]);
        let (want, _, _) = truth_at("TGT", bl, g);
        let z = (f(&r["mbd_s"]) - want) / f(&r["mbd_sigma_s"]);
        eprintln!(
            "uncalibrated {bl}: mbd {:+.4} ns, truth (clock) {:+.4} ns, σ {:.4} ns, z {z:+.1}, snr {:.1}, detected {}",
            f(&r["mbd_s"]) * 1e9,
            want * 1e9,
            f(&r["mbd_sigma_s"]) * 1e9,
            f(&r["snr"]),
            r["detected"]
        );
        if z.abs() > 5.0 || r["detected"] == false {
            scrambled += 1;
        }
    }
    assert_eq!(scrambled, 3, "every baseline's target delay is off");

    let cal_rows = rows_of(rows, "CAL");
    let tgt_rows = rows_of(rows, "TGT");
    assert_eq!((cal_rows.len(), tgt_rows.len()), (3, 3));
    for r in tgt_rows {
        let bl = r["baseline"].as_str().unwrap();
        let g = time(&r["geocentre_epoch_utc"]);
        let c = cal_rows.iter().find(|c| c["baseline"] == bl).unwrap();
        let g_cal = time(&c["geocentre_epoch_utc"]);
        let (now, _, _) = truth_at("TGT", bl, g);
        let (then, _, _) = truth_at("CAL", bl, g_cal);
        let want = now - then;
        let (mbd, sigma, snr) = (f(&r["mbd_s"]), f(&r["mbd_sigma_s"]), f(&r["snr"]));
        let z = (mbd - want) / sigma;
        // The closed form with the SNR the truth predicts:
        // SNR = ρ·η_A·η_B·sqrt(2·B·T) (TMS eq. 9.15 with the 2-bit
        // efficiency; B = 4 × 8 MHz, T = 1 s), and σ_τ = 1/(2π·SNR·B_rms)
        // (Rogers 1970; TMS eq. 9.179), B_rms the rms of the channel
        // frequencies about their mean.
        let src = scan_truth("TGT")["sources"][0].as_str().unwrap();
        let rho_q =
            f(&scan_truth("TGT")["residuals"][src]["baselines"][bl]
                ["expected_amplitude_quantised"]);
        let snr_pred = rho_q * (2.0 * 32e6 * 1.0f64).sqrt();
        let sigma_closed = 1.0 / (2.0 * PI * snr_pred * b_rms);
        eprintln!(
            "manual-pcal {bl}: mbd {:+.4} ns, truth (clock change since CAL) {:+.4} ns, z {z:+.2}; σ {:.2} ps, closed form {:.2} ps (ratio {:.3}); snr {snr:.1}, predicted {snr_pred:.1}; CAL mbd {:+.4} ns",
            mbd * 1e9,
            want * 1e9,
            sigma * 1e12,
            sigma_closed * 1e12,
            sigma / sigma_closed,
            f(&c["mbd_s"]) * 1e9,
        );
        assert!(z.abs() < 3.0, "{bl}: z = {z}");
        assert!(
            (sigma / sigma_closed - 1.0).abs() < 0.3,
            "{bl}: σ {sigma} vs closed form {sigma_closed}"
        );
        // The clocks moved by more than the errors: the comparison is not
        // of two zeros.
        assert!(want.abs() > 3.0 * sigma, "{bl}: {want} vs {sigma}");
    }
}

#[test]
fn manual_pcal_terms_equal_the_injected_instrumental_differences() {
    let cal = fringe(&["--manual-pcal", "CAL"]);
    assert_eq!(cal["manual_pcal_ref_station"], "A");
    let rows = cal["rows"].as_array().unwrap();
    let terms = &cal["manual_pcal"];
    let g_cal = time(&rows_of(rows, "CAL")[0]["geocentre_epoch_utc"]);
    let mut worst: f64 = 0.0;
    for station in ["B", "C"] {
        // Baseline A-s: P = φ_A − φ_s = −φ_s, D = τ_s − τ_A = τ_s.
        let bl = format!("A-{station}");
        let inst = sim().truth["baselines"][bl.as_str()]["instrumental"]
            .as_array()
            .unwrap();
        let (d, rate, clock_phase) = truth_at("CAL", &bl, g_cal);
        let centre = time(&scan_truth("CAL")["centre"]);
        for (b, it) in inst.iter().enumerate() {
            let t = &terms[station][(b + 1).to_string().as_str()];
            let f_ref = f(&t["ref_freq_hz"]);
            let edge = f(&it["sky_freq_hz"]);
            // The baseline's visibility phase at f_ref and CAL's epoch:
            // instrumental (phase at the edge plus its delay's slope) and
            // the clock (phase at the edge at the centre, its delay's slope,
            // carried to the epoch by the rate).
            let want_p = f(&it["phase_rad"])
                + TAU * (f_ref - edge) * f(&it["delay_s"])
                + clock_phase[b]
                + TAU * (f_ref - edge) * d
                + TAU * f_ref * rate * g_cal.seconds_since(centre);
            let want_d = f(&it["delay_s"]) + d;
            let zp = wrap(-f(&t["phase_rad"]) - want_p) / f(&t["phase_sigma_rad"]);
            let zd = (f(&t["delay_s"]) - want_d) / f(&t["delay_sigma_s"]);
            eprintln!(
                "{station} subband {}: phase {:+8.3}° (truth {:+8.3}°, σ {:.3}°, z {zp:+.2}), delay {:+.4} ns (truth {:+.4} ns = instrumental {:+.4} + clock {:+.4}, σ {:.4} ns, z {zd:+.2})",
                b + 1,
                -f(&t["phase_rad"]).to_degrees(),
                wrap(want_p).to_degrees(),
                f(&t["phase_sigma_rad"]).to_degrees(),
                f(&t["delay_s"]) * 1e9,
                want_d * 1e9,
                f(&it["delay_s"]) * 1e9,
                d * 1e9,
                f(&t["delay_sigma_s"]) * 1e9,
            );
            worst = worst.max(zp.abs()).max(zd.abs());
        }
    }
    // 16 terms: all within 3.5σ.
    assert!(worst < 3.5, "largest |z| {worst}");
    // The reference's terms are 0 by definition.
    for b in 1..=4 {
        let t = &terms["A"][b.to_string().as_str()];
        assert_eq!((f(&t["phase_rad"]), f(&t["delay_s"])), (0.0, 0.0));
    }
}

/// `--pcal --manual-pcal CAL` (AIPS: PCCOR, then manual phase-cal for the
/// antennas without tones): A and B inject combs, C has none. The tones
/// remove A's and B's instrumental terms, the calibrator gives C's; so A–B
/// reads the injected clock difference itself in both scans (as with
/// `--pcal` alone), while X–C reads its truth less A–C's at CAL. σ includes
/// the tones' noise (`mbd_cal_sigma_s`), which dominates for this strong
/// calibrator.
#[test]
fn tones_and_manual_pcal_together_keep_absolute_delays_between_toned_stations() {
    let both = fringe(&["--pcal", "--manual-pcal", "CAL"]);
    assert_eq!(both["manual_pcal_ref_station"], "A");
    let by_tones: Vec<&str> = both["manual_pcal_by_tones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        by_tones,
        ["A:1", "A:2", "A:3", "A:4", "B:1", "B:2", "B:3", "B:4"]
    );
    let rows = both["rows"].as_array().unwrap();
    let mut checked = 0;
    for scan in ["CAL", "TGT"] {
        for r in rows_of(rows, scan) {
            let bl = r["baseline"].as_str().unwrap();
            let g = time(&r["geocentre_epoch_utc"]);
            let (now, _, _) = truth_at(scan, bl, g);
            // C's term is (clock_C − clock_A) at CAL plus its instrumental
            // part, so X–C reads its truth now less A–C's at CAL.
            let want = if bl == "A-B" {
                now
            } else {
                let c = rows_of(rows, "CAL")
                    .into_iter()
                    .find(|c| c["baseline"] == "A-C")
                    .unwrap();
                now - truth_at("CAL", "A-C", time(&c["geocentre_epoch_utc"])).0
            };
            let (mbd, sigma) = (f(&r["mbd_s"]), f(&r["mbd_sigma_s"]));
            let z = (mbd - want) / sigma;
            eprintln!(
                "--pcal --manual-pcal {scan} {bl}: mbd {:+.4} ns, truth {:+.4} ns ({}), σ {:.2} ps, z {z:+.2}",
                mbd * 1e9,
                want * 1e9,
                if bl == "A-B" { "injected clock" } else { "less A-C at CAL" },
                sigma * 1e12
            );
            assert!(z.abs() < 3.0, "{scan} {bl}: z = {z}");
            if bl == "A-B" {
                // The absolute clock (43.7 ns) is far outside the errors:
                // the calibrator did not absorb it.
                assert!(want.abs() > 1e3 * sigma, "{want} vs {sigma}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn manual_pcal_with_tones_refuses_an_untoned_reference() {
    let out = emcorr()
        .arg("fringe")
        .arg(&sim().fits)
        .args(["--pcal", "--manual-pcal", "CAL", "--ref", "C"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("\"C\" has no phase-cal tones"), "{err}");
}
