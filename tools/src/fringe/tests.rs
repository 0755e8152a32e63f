//! The fitter against synthetic cross-spectra of known truth (delay, rate,
//! phase, amplitude, noise σ) and against closed forms for SNR and σ.

use super::data::{Sideband, Subband};
use super::fit::{fit_baseline, fit_with_subbands, mbd_ambiguity_s, wrap_pi, FitOptions};
use super::search::SearchWindow;
use super::stats;
use super::synth::{synthesize, SynthSpec};
use std::f64::consts::PI;

/// Closed-form B_rms and (νt)_rms of a uniformly weighted spec.
fn theory_rms(spec: &SynthSpec) -> (f64, f64) {
    let freqs: Vec<f64> = spec
        .subbands
        .iter()
        .flat_map(|s| s.chan_freq_hz.iter().cloned())
        .collect();
    let n = freqs.len() as f64;
    let mean = freqs.iter().sum::<f64>() / n;
    let b_rms = (freqs.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / n).sqrt();
    let nu2 = freqs.iter().map(|f| f * f).sum::<f64>() / n;
    // Uniform periods of length Δt: rms of t − t_c is Δt·sqrt((N² − 1)/12).
    let np = spec.n_periods as f64;
    let t_rms = spec.inttim_s * ((np * np - 1.0) / 12.0).sqrt();
    (b_rms, nu2.sqrt() * t_rms)
}

/// Closed-form amplitude loss of a spec's injected fringe: the mean of
/// sinc(ν·ṫ·t_int)·(1 − |τ(t)|·Δν) (the winding inside each period, and the
/// overlap of FFT blocks of length 1/Δν at residual delay τ: one FFT channel
/// per channel, no window).
fn smearing(spec: &SynthSpec) -> f64 {
    let s = |x: f64| {
        if x == 0.0 {
            1.0
        } else {
            (PI * x).sin() / (PI * x)
        }
    };
    let mut sum = 0.0;
    let mut n = 0.0;
    for i in 0..spec.n_periods {
        let t = (i as f64 + 0.5) * spec.inttim_s;
        let tau = spec.delay_s + spec.rate * (t - spec.ref_time_s);
        for sb in &spec.subbands {
            for &nu in &sb.chan_freq_hz {
                sum += s(nu * spec.rate * spec.inttim_s) * (1.0 - (tau * sb.chan_bw_hz).abs());
                n += 1.0;
            }
        }
    }
    sum / n
}

/// Correlation coefficient that gives `snr` for this spec (before smearing).
fn rho_for(spec: &SynthSpec, snr: f64) -> f64 {
    snr / (2.0 * spec.bandwidth_hz() * spec.time_s()).sqrt()
}

fn signal(seed: u64, snr: f64, delay_s: f64, rate: f64, phase_rad: f64) -> SynthSpec {
    let mut s = SynthSpec::xband(seed);
    s.amplitude = rho_for(&s, snr);
    s.delay_s = delay_s;
    s.rate = rate;
    s.phase_rad = phase_rad;
    s
}

#[test]
fn recovers_injected_delay_rate_phase_amplitude_within_3_sigma() {
    // Includes the lunar case: 0.3 µs off the a-priori model, default window.
    let cases = [
        (1, 12.3e-9, 7.0e-12, 0.4),
        (2, -0.3e-6, -2.2e-11, -2.0),
        (3, 0.31e-6, 3.1e-11, 3.0),
        (4, 0.0, 0.0, 0.0),
        (5, 0.9e-6, -4.5e-11, 1.0),
    ];
    for (seed, tau, rate, phase) in cases {
        let spec = signal(seed, 30.0, tau, rate, phase);
        let sol = fit_baseline(&synthesize(&spec), &FitOptions::default()).unwrap();
        let dt = (sol.mbd_s - tau) / sol.mbd_sigma_s;
        let dr = (sol.rate - rate) / sol.rate_sigma;
        let dp = wrap_pi(sol.phase_rad - phase) / sol.phase_sigma_rad;
        assert!(dt.abs() < 3.0, "seed {seed}: delay off by {dt} sigma");
        assert!(dr.abs() < 3.0, "seed {seed}: rate off by {dr} sigma");
        assert!(dp.abs() < 3.0, "seed {seed}: phase off by {dp} sigma");
        // Amplitude: noise per component of the coherent mean is A/SNR.
        let da = (sol.amplitude - spec.amplitude) / (spec.amplitude / 30.0);
        assert!(da.abs() < 3.0, "seed {seed}: amplitude off by {da} sigma");
        // (0.9 µs is 45 % of the 2 µs FFT blocks behind 0.5 MHz channels:
        // 0.43 of the amplitude is left, SNR 12, pfd ~1e-26.)
        assert!(sol.detected && sol.pfd < 1e-20, "seed {seed}");
        assert_eq!(sol.ref_epoch, spec.epoch.add_seconds(spec.ref_time_s));
    }
}

#[test]
fn errors_are_calibrated_over_many_seeds() {
    let snr_true = 40.0;
    let (mut inside_d, mut inside_r, mut n) = (0usize, 0usize, 0usize);
    let (mut chi2_d, mut chi2_r) = (0.0, 0.0);
    let mut snr_ratios = Vec::new();
    let mut amp_z = Vec::new();
    for seed in 0..40u64 {
        for (j, (tau, rate)) in [(3.3e-9, 1.1e-11), (-0.21e-6, -2.7e-11), (57e-9, 0.0)]
            .into_iter()
            .enumerate()
        {
            let spec = signal(1000 + 3 * seed + j as u64, snr_true, tau, rate, 1.0);
            let sol = fit_baseline(&synthesize(&spec), &FitOptions::default()).unwrap();
            // Formal errors against the closed forms with the injected SNR
            // (less the smearing inside periods and channels).
            let loss = smearing(&spec);
            let (b_rms, nut_rms) = theory_rms(&spec);
            let sd = stats::delay_sigma(snr_true * loss, b_rms);
            let sr = stats::rate_sigma(snr_true * loss, nut_rms);
            assert!(
                (sol.mbd_sigma_s / sd - 1.0).abs() < 0.2,
                "sigma_tau {}",
                sol.mbd_sigma_s / sd
            );
            assert!(
                (sol.rate_sigma / sr - 1.0).abs() < 0.2,
                "sigma_rate {}",
                sol.rate_sigma / sr
            );
            // SNR against ρ·sqrt(2BT), ρ the smeared amplitude.
            let expect =
                stats::expected_snr(spec.amplitude * loss, spec.bandwidth_hz(), spec.time_s());
            assert!((sol.smearing_loss / loss - 1.0).abs() < 0.01);
            assert!(
                (sol.snr / expect - 1.0).abs() < 0.1,
                "snr ratio {}",
                sol.snr / expect
            );
            snr_ratios.push(sol.snr / expect);
            amp_z.push((sol.amplitude - spec.amplitude) / (spec.amplitude / sol.snr));
            let zd = (sol.mbd_s - tau) / sol.mbd_sigma_s;
            let zr = (sol.rate - rate) / sol.rate_sigma;
            assert!(zd.abs() < 4.5 && zr.abs() < 4.5, "seed {seed}: {zd} {zr}");
            inside_d += (zd.abs() < 1.0) as usize;
            inside_r += (zr.abs() < 1.0) as usize;
            chi2_d += zd * zd;
            chi2_r += zr * zr;
            n += 1;
        }
    }
    let (fd, fr) = (inside_d as f64 / n as f64, inside_r as f64 / n as f64);
    let (rd, rr) = ((chi2_d / n as f64).sqrt(), (chi2_r / n as f64).sqrt());
    let mean_snr = snr_ratios.iter().sum::<f64>() / n as f64;
    let mean_za = amp_z.iter().sum::<f64>() / n as f64;
    let rms_za = (amp_z.iter().map(|z| z * z).sum::<f64>() / n as f64).sqrt();
    eprintln!("amplitude z: mean {mean_za:.3}, rms {rms_za:.3}");
    eprintln!(
        "{n} fits: inside 1 sigma delay {fd:.3} rate {fr:.3}; \
         rms(z) delay {rd:.3} rate {rr:.3}; mean SNR/expected {mean_snr:.4}"
    );
    assert!((0.55..=0.80).contains(&fd), "delay inside 1 sigma: {fd}");
    assert!((0.55..=0.80).contains(&fr), "rate inside 1 sigma: {fr}");
    // Scatter of the estimates against the formal sigma.
    assert!((rd - 1.0).abs() < 0.2, "delay scatter / sigma {rd}");
    assert!((rr - 1.0).abs() < 0.2, "rate scatter / sigma {rr}");
    assert!((mean_snr - 1.0).abs() < 0.03, "mean SNR ratio {mean_snr}");
    // Amplitude (smearing divided out) unbiased, scatter A/SNR.
    assert!(mean_za.abs() < 0.3, "amplitude bias {mean_za} sigma");
    assert!((rms_za - 1.0).abs() < 0.2, "amplitude scatter {rms_za}");
}

#[test]
fn no_detection_on_uncorrelated_data() {
    let mut pfds = Vec::new();
    for seed in 0..40u64 {
        let spec = SynthSpec::xband(5000 + seed); // amplitude 0: noise only
        let sol = fit_baseline(&synthesize(&spec), &FitOptions::default()).unwrap();
        assert!(
            !sol.detected,
            "seed {seed}: false detection, SNR {}",
            sol.snr
        );
        assert!(sol.snr < sol.snr_threshold, "seed {seed}");
        assert!(sol.pfd > 1e-4, "seed {seed}: pfd {}", sol.pfd);
        pfds.push(sol.pfd);
    }
    // Calibration: on noise alone the PFD of the highest peak is a p-value.
    // The Euler-characteristic formula is exact in the tail that matters for
    // detection and conservative in the bulk (mean above 1/2), so check the
    // tail: about a quarter below 0.25 (binomial 10 ± 2.7 of 40), never
    // optimistic overall.
    let mean = pfds.iter().sum::<f64>() / pfds.len() as f64;
    let below = pfds.iter().filter(|&&p| p < 0.25).count();
    eprintln!("noise-only PFDs: mean {mean:.3}, {below}/40 below 0.25");
    assert!(mean > 0.4, "PFD optimistic on noise: mean {mean}");
    assert!(
        (3..=17).contains(&below),
        "{below} of 40 noise PFDs below 0.25"
    );
}

#[test]
fn group_delay_ambiguity_is_resolved_by_the_single_band_delays() {
    // Four 16 MHz subbands 100 MHz apart: the group delay repeats every
    // 10 ns. The true delay is 2.37 ambiguities away from zero, so a group
    // delay taken modulo the ambiguity would be off by 2 whole ambiguities.
    let amb = 10e-9;
    for seed in 0..10u64 {
        let mut spec = signal(7000 + seed, 40.0, 23.7e-9, 1.5e-11, -1.0);
        spec.subbands = [8.2e9, 8.3e9, 8.4e9, 8.5e9]
            .iter()
            .map(|&f| Subband::from_edge(f, 32, 0.5e6, Sideband::Upper))
            .collect();
        spec.amplitude = rho_for(&spec, 40.0);
        let data = synthesize(&spec);
        assert!((mbd_ambiguity_s(&data).unwrap() / amb - 1.0).abs() < 1e-9);
        let (sol, per) = fit_with_subbands(&data, &FitOptions::default()).unwrap();
        let z = (sol.mbd_s - spec.delay_s) / sol.mbd_sigma_s;
        assert!(
            z.abs() < 3.0,
            "seed {seed}: mbd {} off by {z} sigma",
            sol.mbd_s
        );
        for (b, p) in per.iter().enumerate() {
            let p = p.as_ref().unwrap();
            let zs = (p.sbd_s - spec.delay_s) / p.sbd_sigma_s;
            assert!(
                zs.abs() < 3.5,
                "seed {seed} subband {b}: sbd off by {zs} sigma"
            );
        }
        assert!((sol.mbd_s - sol.sbd_s).abs() < 0.5 * amb);
        // The neighbouring branch is a real competitor: fitted there alone it
        // keeps most of the amplitude, so choosing between them matters.
        let mut o = FitOptions::default();
        o.window.delay_s = Some((spec.delay_s + 0.5 * amb, spec.delay_s + 1.5 * amb));
        let alias = fit_baseline(&data, &o).unwrap();
        assert!((alias.mbd_s - spec.delay_s - amb).abs() < 0.1 * amb);
        assert!(alias.amplitude > 0.8 * sol.amplitude && alias.amplitude < sol.amplitude);
    }
}

#[test]
fn lower_sideband_and_mixed_subbands_keep_the_sign() {
    let mut spec = signal(11, 40.0, -47e-9, 2.0e-11, 2.5);
    spec.subbands = vec![
        Subband::from_edge(8.216e9, 32, 0.5e6, Sideband::Lower),
        Subband::from_edge(8.216e9, 32, 0.5e6, Sideband::Upper),
        Subband::from_edge(8.416e9, 32, 0.5e6, Sideband::Lower),
    ];
    spec.amplitude = rho_for(&spec, 40.0);
    let sol = fit_baseline(&synthesize(&spec), &FitOptions::default()).unwrap();
    assert!(((sol.mbd_s - spec.delay_s) / sol.mbd_sigma_s).abs() < 3.0);
    assert!(((sol.rate - spec.rate) / sol.rate_sigma).abs() < 3.0);
    assert!((wrap_pi(sol.phase_rad - spec.phase_rad) / sol.phase_sigma_rad).abs() < 3.0);
}

#[test]
fn the_search_window_is_respected() {
    // A fringe outside the window (far beyond its sidelobes) must not be
    // found, and a window around it must find it.
    let spec = signal(21, 30.0, 0.6e-6, 1.0e-11, 0.0);
    let data = synthesize(&spec);
    let mut o = FitOptions {
        window: SearchWindow {
            delay_s: Some((-0.1e-6, 0.1e-6)),
            rate: None,
        },
        ..FitOptions::default()
    };
    let away = fit_baseline(&data, &o).unwrap();
    assert!(!away.detected);
    assert!(away.coarse.delay_range_s.1 <= 0.1e-6 + 1e-15);
    o.window.delay_s = Some((0.55e-6, 0.65e-6));
    o.window.rate = Some((0.0, 2e-11));
    let there = fit_baseline(&data, &o).unwrap();
    assert!(there.detected);
    assert!(((there.mbd_s - spec.delay_s) / there.mbd_sigma_s).abs() < 3.0);
    // A fringe rate window smaller than the unambiguous range reduces the
    // number of cells and so the false-detection probability of a given SNR.
    assert!(there.extent.l_rate < away.extent.l_rate);
    assert!(there.snr_threshold < away.snr_threshold);
}

#[test]
fn solution_intervals_split_the_scan() {
    let spec = signal(31, 60.0, 5e-9, 1e-11, 0.3);
    let data = synthesize(&spec);
    let parts = data.split(20.0);
    assert_eq!(parts.len(), 3);
    for p in &parts {
        assert_eq!(p.n_times(), 20);
        let sol = fit_baseline(p, &FitOptions::default()).unwrap();
        // Each third has SNR 60/sqrt(3); the delay at its own reference epoch
        // is τ + ṫ·(t_ref − t_ref,truth).
        let t_ref = sol.ref_epoch.seconds_since(spec.epoch);
        let want = spec.delay_s + spec.rate * (t_ref - spec.ref_time_s);
        assert!(((sol.mbd_s - want) / sol.mbd_sigma_s).abs() < 3.0);
        assert!((sol.snr / (60.0 / 3f64.sqrt()) - 1.0).abs() < 0.15);
    }
}

#[test]
fn phase_refers_to_the_reference_frequency() {
    // Moving the reference frequency by Δν moves the phase by 2π·Δν·τ.
    let spec = signal(41, 50.0, 31e-9, 0.0, 0.7);
    let mut data = synthesize(&spec);
    let a = fit_baseline(&data, &FitOptions::default()).unwrap();
    data.ref_freq_hz += 10e6;
    let b = fit_baseline(&data, &FitOptions::default()).unwrap();
    let want = wrap_pi(a.phase_rad + 2.0 * PI * 10e6 * a.mbd_s);
    assert!(wrap_pi(b.phase_rad - want).abs() < 1e-9);
}

#[test]
fn weights_flags_and_quantisation_enter_the_snr_as_the_radiometer_equation_says() {
    use super::data::BaselineData;
    use num_complex::Complex64;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    // Valid fraction: period 0..15 flagged, subband 2 at half weight, one
    // channel of subband 0 flagged throughout; noise of 2-bit data after the
    // quantisation correction (σ ∝ 1/0.8825).
    let spec = signal(51, 0.0, 41e-9, -1.3e-11, 0.2);
    let rho = 4e-4;
    let eta = 0.8825;
    let valid = |i: usize, b: usize, k: usize| {
        if i < 15 || (b == 0 && k == 7) {
            0.0
        } else if b == 2 {
            0.5
        } else {
            1.0
        }
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(51);
    let (mut vis, mut weight) = (Vec::new(), Vec::new());
    let mut sum_2bt = 0.0;
    let times: Vec<f64> = (0..spec.n_periods).map(|i| i as f64 + 0.5).collect();
    for (i, &t) in times.iter().enumerate() {
        for (b, sb) in spec.subbands.iter().enumerate() {
            for (k, &nu) in sb.chan_freq_hz.iter().enumerate() {
                let w = valid(i, b, k);
                let psi = spec.phase_rad
                    + 2.0 * PI * (nu - spec.ref_freq_hz) * spec.delay_s
                    + 2.0 * PI * nu * spec.rate * (t - spec.ref_time_s);
                let mut v = Complex64::from_polar(rho, psi);
                if w > 0.0 {
                    let n =
                        Normal::new(0.0, 1.0 / (eta * (2.0 * sb.chan_bw_hz * w).sqrt())).unwrap();
                    v += Complex64::new(n.sample(&mut rng), n.sample(&mut rng));
                    sum_2bt += 2.0 * sb.chan_bw_hz * w;
                }
                vis.push(v);
                weight.push(w);
            }
        }
    }
    let mut data = BaselineData::new(
        "A",
        "B",
        spec.epoch,
        times,
        vec![1.0; spec.n_periods],
        spec.subbands.clone(),
        spec.ref_freq_hz,
        vis,
        weight,
    )
    .unwrap();
    data.noise_scale = 1.0 / eta;
    let sol = fit_baseline(&data, &FitOptions::default()).unwrap();
    let loss = {
        let mut sp = spec.clone();
        sp.amplitude = rho;
        smearing(&sp)
    };
    let expect = eta * rho * loss * sum_2bt.sqrt();
    assert!(
        (sol.snr / expect - 1.0).abs() < 0.1,
        "snr {} vs {expect}",
        sol.snr
    );
    assert!(
        (sol.noise_ratio - 1.0).abs() < 0.05,
        "noise ratio {}",
        sol.noise_ratio
    );
    // The delay at the new reference epoch (the data's weighted centre moved).
    let t_ref = sol.ref_epoch.seconds_since(spec.epoch);
    let want = spec.delay_s + spec.rate * (t_ref - spec.ref_time_s);
    assert!(((sol.mbd_s - want) / sol.mbd_sigma_s).abs() < 3.0);
    assert!(((sol.rate - spec.rate) / sol.rate_sigma).abs() < 3.0);
}

#[test]
fn subbands_off_the_channel_grid_and_a_lunar_delay() {
    // Band edges 123.4 kHz off any common 0.5 MHz grid, delay 0.3 µs: the
    // coarse grid rounds them, the fine fit uses exact frequencies.
    let mut spec = signal(61, 30.0, 0.3e-6, 2.1e-11, -0.4);
    spec.subbands = [8.2e9 + 123.4e3, 8.2607e9, 8.3891e9]
        .iter()
        .map(|&f| Subband::from_edge(f, 32, 0.5e6, Sideband::Upper))
        .collect();
    spec.amplitude = rho_for(&spec, 30.0);
    let sol = fit_baseline(&synthesize(&spec), &FitOptions::default()).unwrap();
    assert!(((sol.mbd_s - spec.delay_s) / sol.mbd_sigma_s).abs() < 3.0);
    assert!(((sol.rate - spec.rate) / sol.rate_sigma).abs() < 3.0);
    // 0.3 µs across a 0.5 MHz channel loses 4 % of the amplitude, the rate
    // inside 1 s another 5 %: SNR and amplitude say so.
    let loss = smearing(&spec);
    assert!(loss < 0.93);
    assert!((sol.snr / (30.0 * loss) - 1.0).abs() < 0.12);
    assert!(((sol.amplitude - spec.amplitude) / (spec.amplitude / sol.snr)).abs() < 3.0);
}

/// PFD calibration over many noise-only trials (slow; run with --ignored).
#[test]
#[ignore]
fn pfd_calibration_survey() {
    let n = 1000u64;
    let mut p = Vec::new();
    for seed in 0..n {
        let spec = SynthSpec::xband(90_000 + seed);
        p.push(
            fit_baseline(&synthesize(&spec), &FitOptions::default())
                .unwrap()
                .pfd,
        );
    }
    // Measured (1000 trials): P(pfd < q) = 0.225, 0.111, 0.046, 0.026, 0.015,
    // 0.008 for q = 0.5, 0.25, 0.1, 0.05, 0.02, 0.01: conservative in the
    // bulk, calibrated within the binomial noise in the tail.
    for q in [0.5, 0.25, 0.1, 0.05, 0.02, 0.01] {
        let frac = p.iter().filter(|&&x| x < q).count() as f64 / n as f64;
        eprintln!("P(pfd < {q}) = {frac:.4}");
        let sigma = (q * (1.0 - q) / n as f64).sqrt();
        assert!(frac < q + 3.0 * sigma, "PFD optimistic at {q}: {frac}");
    }
}

#[test]
fn a_single_period_still_gives_a_delay() {
    // One accumulation period: no rate information (σ infinite), but the
    // delay is as well determined as ever.
    let mut spec = signal(71, 0.0, -77e-9, 0.0, 1.2);
    spec.n_periods = 1;
    spec.ref_time_s = 0.5;
    spec.amplitude = rho_for(&spec, 40.0);
    let sol = fit_baseline(&synthesize(&spec), &FitOptions::default()).unwrap();
    assert!(((sol.mbd_s - spec.delay_s) / sol.mbd_sigma_s).abs() < 3.0);
    assert!(!sol.rate_sigma.is_finite() || sol.rate_sigma > 1e-6);
    assert!((sol.snr / 40.0 - 1.0).abs() < 0.15);
}

#[test]
fn a_single_period_gives_the_phase_at_its_centre_with_the_rate_unconstrained() {
    // One accumulation period with a residual rate in the data: the rate
    // cannot be measured, so it is held at 0 (σ infinite, JSON null), the
    // reference epoch is the period's centre (not a whole second away from
    // it) and the phase is the truth there. Used to come out ~90° off: the
    // coarse search took the first of its equal rate bins, −1/(2Δt·ν_c), and
    // carried it half a period to the whole second.
    for (seed, tau, rate, phase) in [
        (81, -77e-9, 0.0, 1.2),
        (82, 40e-9, 2e-12, -2.5),
        (83, 0.0, -3e-12, 3.0),
    ] {
        let mut spec = signal(seed, 0.0, tau, rate, phase);
        spec.n_periods = 1;
        // The truth's reference time is not the centre: carry it there.
        spec.ref_time_s = 0.2;
        spec.amplitude = rho_for(&spec, 50.0);
        let (sol, per) = fit_with_subbands(&synthesize(&spec), &FitOptions::default()).unwrap();
        let t_ref = sol.ref_epoch.seconds_since(spec.epoch);
        assert!(
            (t_ref - 0.5).abs() < 1e-6,
            "ref epoch {t_ref} s after start"
        );
        assert_eq!(sol.rate, 0.0);
        assert!(sol.rate_sigma.is_infinite());
        let dt = t_ref - spec.ref_time_s;
        let want_phase = wrap_pi(spec.phase_rad + 2.0 * PI * spec.ref_freq_hz * rate * dt);
        let dphi = wrap_pi(sol.phase_rad - want_phase);
        assert!(sol.phase_sigma_rad.is_finite() && sol.phase_sigma_rad < 0.1);
        assert!(
            (dphi / sol.phase_sigma_rad).abs() < 4.0,
            "seed {seed}: phase off by {:.2}° (σ {:.2}°)",
            dphi.to_degrees(),
            sol.phase_sigma_rad.to_degrees()
        );
        let want_tau = tau + rate * dt;
        assert!(sol.mbd_sigma_s.is_finite());
        assert!(((sol.mbd_s - want_tau) / sol.mbd_sigma_s).abs() < 4.0);
        assert!((sol.snr / 50.0 - 1.0).abs() < 0.15);
        for s in per.iter().flatten() {
            assert!((s.ref_epoch.seconds_since(spec.epoch) - 0.5).abs() < 1e-6);
            assert_eq!(s.rate, 0.0);
        }
        // Non-finite values stay valid JSON (null).
        let row = super::output::FringeRow::new(&sol, 1, None, None, "X", None);
        let json = super::output::to_json(std::slice::from_ref(&row));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(v[0]["rate_sigma"].is_null());
        assert!(v[0]["phase_deg"].is_f64());
        // … and CSV leaves them empty, never "inf".
        let csv = super::output::to_csv(&[row]);
        let header: Vec<&str> = super::output::CSV_HEADER.split(',').collect();
        let line: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
        let col = |name: &str| line[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!(col("rate_sigma"), "");
        assert!(col("phase_deg").parse::<f64>().unwrap().is_finite());
        assert!(!csv.contains("inf") && !csv.contains("NaN"), "{csv}");
    }
}

// ---------------------------------------------------------------------------
// Sessions: scans from the EMCORR_SCAN table, several sources per scan, and
// same-beam differences, against synth_session's injected truth.

use super::synth_session as session;
use super::{differential_file, fringe_file, FringeRow, RunError, RunOptions};
use formats::UtcTime;

/// 0-based station indices of a row's "A-B".
fn stations_of(baseline: &str) -> (usize, usize) {
    let (a, b) = baseline.split_once('-').unwrap();
    let idx = |n: &str| session::STATIONS.iter().position(|s| *s == n).unwrap();
    (idx(a), idx(b))
}

fn source_id(name: &str) -> u32 {
    session::SOURCES.iter().position(|s| *s == name).unwrap() as u32 + 1
}

fn epoch(text: &str) -> UtcTime {
    UtcTime::parse_iso8601(text).unwrap()
}

/// z of delay, rate and phase of a fringe row against the injected truth.
fn row_z(r: &FringeRow) -> [f64; 3] {
    let (a, b) = stations_of(&r.baseline);
    let (tau, rate, phase) =
        session::residual(a, b, source_id(&r.source), epoch(&r.geocentre_epoch_utc));
    [
        (r.mbd_s - tau) / r.mbd_sigma_s,
        (r.rate_s_per_s - rate) / r.rate_sigma,
        wrap_pi(r.phase_deg.to_radians() - phase) / r.phase_sigma_deg.to_radians(),
    ]
}

#[test]
fn scan_table_gives_one_row_per_scan_source_and_baseline_with_its_name() {
    let file = session::session_file(7, true);
    let rows = fringe_file(&file, &RunOptions::default()).unwrap();
    let got: Vec<(usize, Option<&str>, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.scan,
                r.scan_name.as_deref(),
                r.source.as_str(),
                r.baseline.as_str(),
            )
        })
        .collect();
    let mut want = Vec::new();
    for (scan, name, source) in [
        (1, "No0001", "0552+398"),
        (2, "No0002", "0552+398"),
        (3, "No0003", "LANDER"),
        (3, "No0003", "J0555+3948"),
    ] {
        for bl in ["EF-WB", "EF-MOON", "WB-MOON"] {
            want.push((scan, Some(name), source, bl));
        }
    }
    assert_eq!(got, want);
    let mut worst: f64 = 0.0;
    for r in &rows {
        assert_eq!((r.n_periods, r.duration_s), (30, 30.0), "{r:?}");
        let z = row_z(r);
        for (what, z) in ["delay", "rate", "phase"].iter().zip(z) {
            assert!(
                z.abs() < 3.0,
                "scan {} {} {}: {what} off by {z:.2} sigma",
                r.scan,
                r.source,
                r.baseline
            );
            worst = worst.max(z.abs());
        }
        // Totals: that source's model B − A + the residual.
        let (a, b) = stations_of(&r.baseline);
        let (g, src) = (epoch(&r.geocentre_epoch_utc), source_id(&r.source));
        let total = session::model(b, src, g).0 - session::model(a, src, g).0 + r.mbd_s;
        assert!((r.total_delay_s.unwrap() - total).abs() < 1e-15);
    }
    eprintln!(
        "session, scan table: largest |z| {worst:.2} over {} rows x 3",
        rows.len()
    );
}

#[test]
fn without_a_scan_table_scans_break_where_the_sources_change() {
    // No0001 and No0002 are back to back on one source: one scan without
    // the table; No0003's two phase centres at the same times: one scan of
    // two sources (not a scan per integration and source).
    let file = session::session_file(7, false);
    let rows = fringe_file(&file, &RunOptions::default()).unwrap();
    let got: Vec<(usize, Option<&str>, &str, usize)> = rows
        .iter()
        .map(|r| {
            (
                r.scan,
                r.scan_name.as_deref(),
                r.source.as_str(),
                r.n_periods,
            )
        })
        .collect();
    let mut want = vec![(1, None, "0552+398", 60); 3];
    want.extend([(2, None, "LANDER", 30); 3]);
    want.extend([(2, None, "J0555+3948", 30); 3]);
    assert_eq!(got, want);
    for r in &rows {
        for z in row_z(r) {
            assert!(z.abs() < 3.0, "{} {}: {z:.2} sigma", r.source, r.baseline);
        }
    }
}

#[test]
fn rows_outside_the_listed_scans_form_scans_of_their_own() {
    let mut file = session::session_file(7, true);
    file.header.scans.remove(1); // No0002 not listed
    let rows = fringe_file(&file, &RunOptions::default()).unwrap();
    let scans: Vec<(usize, Option<&str>, usize)> = rows
        .iter()
        .filter(|r| r.baseline == "EF-MOON")
        .map(|r| (r.scan, r.scan_name.as_deref(), r.n_periods))
        .collect();
    assert_eq!(
        scans,
        [
            (1, Some("No0001"), 30),
            (2, None, 30),
            (3, Some("No0003"), 30),
            (3, Some("No0003"), 30)
        ]
    );
}

/// The differential truth of baseline a-b, LANDER − J0555+3948, at `g`:
/// source terms only (no clock, no instrumental phase), from the injected
/// constants.
fn differential_truth(a: usize, b: usize, g: UtcTime) -> (f64, f64, f64) {
    let dt = g.seconds_since(session::t0());
    let term = |k: usize| {
        let d = |s: usize| session::SRC_DELAY_S[k][s] + session::SRC_RATE[k][s] * dt;
        let r = |s: usize| session::SRC_RATE[k][s];
        let p = |s: usize| session::SRC_PHASE_RAD[k][s];
        (d(b) - d(a), r(b) - r(a), p(b) - p(a))
    };
    let ((da, ra, pa), (db, rb, pb)) = (term(1), term(2));
    let tau = da - db;
    (
        tau,
        ra - rb,
        wrap_pi(2.0 * PI * session::REF_FREQ_HZ * tau + pa - pb),
    )
}

#[test]
fn differential_recovers_the_source_terms_and_the_common_station_terms_cancel() {
    let file = session::session_file(7, true);
    let rows = differential_file(&file, &RunOptions::default(), "LANDER", "J0555+3948").unwrap();
    assert_eq!(
        rows.len(),
        3,
        "one row per baseline of the one same-beam scan"
    );
    for r in &rows {
        assert_eq!((r.scan, r.scan_name.as_deref()), (3, Some("No0003")));
        assert_eq!(
            (r.source_a.as_str(), r.source_b.as_str()),
            ("LANDER", "J0555+3948")
        );
        assert_eq!(r.epoch_offset_s, 0.0, "same times, same reference epoch");
        let (a, b) = stations_of(&r.baseline);
        let g = epoch(&r.geocentre_epoch_utc);
        let (tau, rate, phase) = differential_truth(a, b, g);
        let zd = (r.mbd_diff_s - tau) / r.mbd_diff_sigma_s;
        let zr = (r.rate_diff_s_per_s - rate) / r.rate_diff_sigma;
        let zp =
            wrap_pi(r.phase_diff_deg.to_radians() - phase) / r.phase_diff_sigma_deg.to_radians();
        eprintln!("{}: differential z delay {zd:+.2} rate {zr:+.2} phase {zp:+.2}; sigma {:.3} ns, {:.2} deg", r.baseline, r.mbd_diff_sigma_s * 1e9, r.phase_diff_sigma_deg);
        assert!(
            zd.abs() < 3.0 && zr.abs() < 3.0 && zp.abs() < 3.0,
            "{}: {zd} {zr} {zp}",
            r.baseline
        );
        assert!(r.phase_diff_deg > -180.0 && r.phase_diff_deg <= 180.0);
        // The common station terms are far larger than the errors, yet absent
        // from the difference: clocks of 40 to 180 ns (hundreds to
        // thousands of σ) and phases of radians.
        let clock = (session::CLOCK_S[b] - session::CLOCK_S[a]).abs();
        assert!(clock > 300.0 * r.mbd_diff_sigma_s, "{}", r.baseline);
        // Totals: the two sources' models differ, and that difference is part
        // of the astrometric observable.
        let model_diff = (session::model(b, 2, g).0 - session::model(a, 2, g).0)
            - (session::model(b, 3, g).0 - session::model(a, 3, g).0);
        assert!((r.total_delay_diff_s.unwrap() - (model_diff + r.mbd_diff_s)).abs() < 1e-15);
    }
}

#[test]
fn differential_errors_are_calibrated_over_seeds() {
    // σ_diff = sqrt(σ_A² + σ_B²) for independent noise (as the session's):
    // the z of the differences must scatter with rms ~1.
    let (mut sum2, mut n) = ([0.0f64; 3], 0usize);
    for seed in 100..110 {
        let file = session::session_file(seed, true);
        let rows =
            differential_file(&file, &RunOptions::default(), "LANDER", "J0555+3948").unwrap();
        for r in rows {
            let (a, b) = stations_of(&r.baseline);
            let (tau, rate, phase) = differential_truth(a, b, epoch(&r.geocentre_epoch_utc));
            let z = [
                (r.mbd_diff_s - tau) / r.mbd_diff_sigma_s,
                (r.rate_diff_s_per_s - rate) / r.rate_diff_sigma,
                wrap_pi(r.phase_diff_deg.to_radians() - phase)
                    / r.phase_diff_sigma_deg.to_radians(),
            ];
            for k in 0..3 {
                assert!(z[k].abs() < 4.5, "seed {seed} {}: z {:?}", r.baseline, z);
                sum2[k] += z[k] * z[k];
            }
            n += 1;
        }
    }
    let rms: Vec<f64> = sum2.iter().map(|s| (s / n as f64).sqrt()).collect();
    eprintln!(
        "differential z rms over {n}: delay {:.2} rate {:.2} phase {:.2}",
        rms[0], rms[1], rms[2]
    );
    // 30 samples: the rms of unit normals lies in [0.7, 1.3] with
    // probability > 99 %.
    for r in rms {
        assert!((0.7..1.3).contains(&r), "rms z {r}");
    }
}

#[test]
fn differential_by_interval_and_subband_and_its_errors() {
    let file = session::session_file(7, true);
    // Solution intervals of 10 s: scans 1 and 2 give intervals 1-6, the
    // same-beam scan 7-9, shared by its two sources.
    let opts = RunOptions {
        solint_s: Some(10.0),
        each_subband: true,
        ..RunOptions::default()
    };
    let rows = differential_file(&file, &opts, "J0555+3948", "LANDER").unwrap();
    assert_eq!(
        rows.len(),
        3 * 3 * 3,
        "3 intervals x 3 baselines x (combined + 2 subbands)"
    );
    let scans: std::collections::BTreeSet<usize> = rows.iter().map(|r| r.scan).collect();
    assert_eq!(scans, [7, 8, 9].into());
    for r in &rows {
        let (a, b) = stations_of(&r.baseline);
        // B − A of the truth: the pair the other way round.
        let (tau, ..) = differential_truth(a, b, epoch(&r.geocentre_epoch_utc));
        let z = (r.mbd_diff_s + tau) / r.mbd_diff_sigma_s;
        assert!(
            z.abs() < 4.0,
            "{} interval {} subband {:?}: {z}",
            r.baseline,
            r.scan,
            r.subband
        );
    }
    // Bad pairs.
    let o = RunOptions::default();
    let e = differential_file(&file, &o, "LANDER", "NOPE").unwrap_err();
    assert!(
        matches!(&e, RunError::UnknownSource { name, .. } if name == "NOPE"),
        "{e}"
    );
    assert!(e.to_string().contains("\"NOPE\"") && e.to_string().contains("\"LANDER\""));
    assert!(matches!(
        differential_file(&file, &o, "LANDER", "LANDER"),
        Err(RunError::SameSource(_))
    ));
    // Both exist, never at the same time.
    let e = differential_file(&file, &o, "0552+398", "LANDER").unwrap_err();
    assert!(matches!(e, RunError::NoCommonScan { .. }), "{e}");
}

#[test]
fn overlapping_scans_go_by_the_sources_they_list() {
    // A subarray's scan at the same times as No0003, on another source,
    // listed first: No0003's rows still belong to No0003 (it lists their
    // SOURCE_IDs), and a listed scan without rows takes no number.
    let mut file = session::session_file(7, true);
    file.header.scans.insert(
        0,
        formats::fitsidi::IdiScan {
            name: "Sub0001".into(),
            start: session::t0().add_seconds(75.0),
            duration_s: 60.0,
            source_ids: vec![1],
        },
    );
    let rows = fringe_file(&file, &RunOptions::default()).unwrap();
    let names: Vec<(usize, Option<&str>)> = rows
        .iter()
        .filter(|r| r.baseline == "EF-WB")
        .map(|r| (r.scan, r.scan_name.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            (1, Some("No0001")),
            (2, Some("No0002")),
            (3, Some("No0003")),
            (3, Some("No0003"))
        ]
    );
}

#[test]
fn fx_delay_loss_is_the_windows_overlap_and_the_averaged_channels_phase_slope() {
    use super::data::FxChannels;
    use super::fit::fx_delay_loss;
    use correlator::job::Window;
    // Independent: the discrete overlap Σ w[n]·w[n+d] / Σ w² of the
    // correlator's own window coefficients over N = 4096 samples, at a
    // delay of d samples (x = d/N of the FFT block).
    let n = 4096;
    let chan_bw_hz = 62.5e3; // T = 16 µs
    for window in [Window::None, Window::Hann, Window::Hamming, Window::Cosine] {
        let w: Vec<f64> = match window.coefficients(n) {
            Some(c) => c.iter().map(|&v| v as f64).collect(),
            None => vec![1.0; n],
        };
        let norm: f64 = w.iter().map(|v| v * v).sum();
        for d in [0usize, 41, 175, 410, 1024, 2048, 3500] {
            let want: f64 = (0..n - d).map(|k| w[k] * w[k + d]).sum::<f64>() / norm;
            let tau_s = d as f64 / n as f64 / chan_bw_hz;
            let fx = FxChannels {
                spec_avg: 1,
                window,
            };
            for tau in [tau_s, -tau_s] {
                let got = fx_delay_loss(tau, chan_bw_hz, fx);
                assert!(
                    (got - want).abs() < 1e-3,
                    "{window:?}, d = {d}: {got} vs {want}"
                );
            }
        }
    }
    // m = 4 FFT channels averaged: the mean of 4 unit phasors stepping by
    // 2π·δν·τ, times the overlap at δν = Δν/4.
    let (m, tau) = (4u32, 1.1e-6);
    let fft_bw = chan_bw_hz / m as f64;
    let mean: num_complex::Complex64 = (0..m)
        .map(|j| num_complex::Complex64::from_polar(1.0, 2.0 * PI * j as f64 * fft_bw * tau))
        .sum::<num_complex::Complex64>()
        / m as f64;
    let want = mean.norm() * (1.0 - tau * fft_bw);
    let fx = FxChannels {
        spec_avg: m,
        window: Window::None,
    };
    let got = fx_delay_loss(tau, chan_bw_hz, fx);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}
