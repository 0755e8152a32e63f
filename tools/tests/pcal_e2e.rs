//! Instrumental terms reach the visibilities: `emcorr simulate
//! testdata/scenarios/pcal.toml` (three stations, four subbands over
//! 400 MHz, random instrumental phases ±180°, delays of a few ns and slow
//! drifts per station and subband; one station records two subbands as
//! complex LSB), `emcorr correlate`, then every channel of every baseline
//! and subband against truth.json: the residual clock phase and delay plus
//! the baseline's `instrumental` phase, delay and drift.

mod cli_util;

use cli_util::{simulate_and_correlate, wrap};
use formats::fitsidi::read_idi;
use formats::UtcTime;
use num_complex::Complex64;
use std::f64::consts::TAU;

#[test]
fn instrumental_phases_move_each_subbands_visibility_phase() {
    let dir = tempfile::tempdir().unwrap();
    let truth = simulate_and_correlate("pcal.toml", dir.path());
    let job = std::fs::read_to_string(dir.path().join("job.toml")).unwrap();
    assert!(
        job.contains("pcal_interval_hz = 2000000.0") && job.contains("pcal_offset_hz = 500000.0")
    );
    let t0 = UtcTime::parse_iso8601(truth["reference_epoch"].as_str().unwrap()).unwrap();
    let idi = read_idi(&dir.path().join("pcal.fits")).unwrap();
    let pieces = tools::fringe::scans_from_idi(&idi, 0).unwrap();
    let mut baselines = 0;
    let mut moved = 0;
    for p in &pieces {
        let d = &p.data;
        let bl = format!("{}-{}", d.station_a, d.station_b);
        let t = &truth["baselines"][bl.as_str()];
        let f = |v: &serde_json::Value| v.as_f64().unwrap();
        let (delay, rate) = (f(&t["residual_delay_s"]), f(&t["residual_rate"]));
        baselines += 1;
        for (b, sb) in d.subbands.iter().enumerate() {
            let inst = &t["instrumental"][b];
            let edge = f(&inst["sky_freq_hz"]);
            let clock_phase = f(&t["residual_phase_rad"][b]);
            // Mean of V·e^{−i·prediction} over channels and integrations,
            // with and without the instrumental part.
            let (mut z, mut z_plain) = (Complex64::default(), Complex64::default());
            for (i, ts) in d.times_s.iter().enumerate() {
                let dt = d.epoch.add_seconds(*ts).seconds_since(t0);
                for (k, &nu) in sb.chan_freq_hz.iter().enumerate() {
                    let clock = clock_phase + TAU * (nu - edge) * delay + TAU * nu * rate * dt;
                    let instrumental = f(&inst["phase_rad"])
                        + TAU * (nu - edge) * f(&inst["delay_s"])
                        + f(&inst["phase_rate_rad_per_s"]) * dt;
                    let v = d.vis(i, b, k);
                    z += v * Complex64::from_polar(1.0, -(clock + instrumental));
                    z_plain += v * Complex64::from_polar(1.0, -clock);
                }
            }
            let err = wrap(z.arg());
            eprintln!(
                "{bl} subband {b}: phase error {:+.2}° with the instrumental terms, {:+.1}° without (truth: {:+.1}° at the edge, {:+.2} ns)",
                err.to_degrees(),
                wrap(z_plain.arg()).to_degrees(),
                f(&inst["phase_rad"]).to_degrees(),
                f(&inst["delay_s"]) * 1e9
            );
            assert!(err.abs() < 3f64.to_radians(), "{bl} subband {b}: {err}");
            if wrap(z_plain.arg()).abs() > 20f64.to_radians() {
                moved += 1;
            }
        }
    }
    assert_eq!(baselines, 3);
    // Random phases of ±180°: without them most subbands would be far off.
    assert!(moved >= 8, "only {moved} of 12 subbands moved");
}
