//! Calibration against closed forms: the station solution from exact
//! baseline terms, tone fits of exact combs, and the correction of
//! synthetic visibilities.

use super::manual::solve_for_test;
use super::*;
use crate::fringe::data::{BaselineData, Sideband, Subband};
use std::f64::consts::TAU;

fn t0() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 15, 0, 30, 0, 0.0)
}

#[test]
fn station_solution_recovers_exact_terms_with_any_reference() {
    // Station terms (φ, τ); baseline observables P = φ_A − φ_B (wrapped),
    // D = τ_B − τ_A.
    let truth = [(0.3, 1e-9), (-2.9, -2.2e-9), (2.8, 0.7e-9), (1.0, 3e-9)];
    for reference in 0..truth.len() {
        let mut obs = Vec::new();
        for a in 0..truth.len() {
            for b in a + 1..truth.len() {
                obs.push((
                    a,
                    b,
                    wrap_pi(truth[a].0 - truth[b].0),
                    0.01,
                    truth[b].1 - truth[a].1,
                    1e-12,
                ));
            }
        }
        let got = solve_for_test(truth.len(), reference, &obs).unwrap();
        for s in 0..truth.len() {
            let want_p = wrap_pi(truth[s].0 - truth[reference].0);
            let want_d = truth[s].1 - truth[reference].1;
            assert!(wrap_pi(got[s].0 - want_p).abs() < 1e-12, "{reference} {s}");
            assert!((got[s].2 - want_d).abs() < 1e-20, "{reference} {s}");
        }
        // Closed form of a complete graph of n stations, equal weights: the
        // variance of a station's term is 2σ²/n (σ² per baseline).
        let n = truth.len() as f64;
        let s = (reference + 1) % truth.len();
        assert!((got[s].1 - 0.01 * (2.0 / n).sqrt()).abs() < 1e-12);
        assert_eq!(got[reference], (0.0, 0.0, 0.0, 0.0));
    }
    // A station no baseline reaches.
    let obs = [(0, 1, 0.1, 0.01, 1e-9, 1e-12)];
    assert_eq!(solve_for_test(3, 0, &obs), Err(2));
}

#[test]
fn tone_fit_reads_phase_and_delay_through_wraps() {
    // 8 tones 1 MHz apart from 10 kHz above the edge, τ = 3 ns: the phase
    // winds 0.019 rad per tone; φ = 3.0 rad so the tones wrap past ±π.
    let f_ref = 8.204e9;
    for &(phi, tau) in &[(3.0, 3e-9), (-3.1, -2.5e-9), (0.0, 0.0), (1.0, 200e-9)] {
        let tones: Vec<(f64, Complex64)> = (0..8)
            .map(|k| {
                let f = f_ref + 1e4 + k as f64 * 1e6;
                (
                    f,
                    Complex64::from_polar(0.01, phi - TAU * (f - f_ref) * tau),
                )
            })
            .chain([(0.0, Complex64::new(0.0, 0.0))]) // an unused slot
            .collect();
        let term = pcal::tone_fit(&tones, f_ref, 0.0).unwrap();
        assert!(wrap_pi(term.phase_rad - phi).abs() < 1e-9, "{phi} {tau}");
        assert!((term.delay_s - tau).abs() < 1e-18, "{phi} {tau}");
    }
    assert!(pcal::tone_fit(&[(0.0, Complex64::new(0.0, 0.0))], f_ref, 0.0).is_err());
}

#[test]
fn series_interpolates_and_carries_by_rate() {
    let mut cal = StationCal::new();
    let term = |phase: f64, rate: f64| CalTerm {
        phase_rad: phase,
        delay_s: 1e-9,
        phase_rate_rad_per_s: rate,
        ref_freq_hz: 8e9,
        phase_sigma_rad: 0.0,
        delay_sigma_s: 0.0,
        phase_delay_cov: 0.0,
    };
    cal.insert("A", 0, 'R', t0().add_seconds(10.0), term(3.0, 0.01));
    cal.insert("A", 0, 'R', t0(), term(2.8, 0.01));
    let s = cal.get("A", 0, 'R').unwrap();
    let f = 8.001e9;
    let slope = -TAU * 1e6 * 1e-9;
    // Halfway: the mean of the two.
    let mid = s.phase_at(f, t0().add_seconds(5.0)).unwrap();
    assert!((mid - (2.9 + slope)).abs() < 1e-12);
    // Across the ±π wrap: the shorter arc.
    let mut wrapped = StationCal::new();
    wrapped.insert("A", 0, 'R', t0(), term(3.0, 0.0));
    wrapped.insert("A", 0, 'R', t0().add_seconds(2.0), term(-3.0, 0.0));
    let x = wrapped
        .get("A", 0, 'R')
        .unwrap()
        .phase_at(8e9, t0().add_seconds(1.0));
    assert!(wrap_pi(x.unwrap() - std::f64::consts::PI).abs() < 1e-12);
    // After the last sample: carried by its rate.
    let late = s.phase_at(f, t0().add_seconds(20.0)).unwrap();
    assert!((late - (3.0 + 0.1 + slope)).abs() < 1e-12);
}

#[test]
fn apply_removes_station_terms_from_a_baseline() {
    // V_AB = G_A·conj(G_B) for two stations' terms; after apply, 1.
    let sb = vec![
        Subband::from_edge(8.2e9, 16, 0.5e6, Sideband::Upper),
        Subband::from_edge(8.6e9, 16, 0.5e6, Sideband::Lower),
    ];
    let ga = |b: usize| CalTerm {
        phase_rad: [2.0, -1.0][b],
        delay_s: [1e-9, -3e-9][b],
        phase_rate_rad_per_s: 0.02,
        ref_freq_hz: sb[b].chan_freq_hz[0],
        phase_sigma_rad: 0.0,
        delay_sigma_s: 0.0,
        phase_delay_cov: 0.0,
    };
    let gb = |b: usize| CalTerm {
        phase_rad: [-2.5, 3.0][b],
        delay_s: [2e-9, 0.5e-9][b],
        phase_rate_rad_per_s: -0.01,
        ..ga(b)
    };
    let times = vec![0.5, 1.5];
    let mut vis = Vec::new();
    for &t in &times {
        for (b, s) in sb.iter().enumerate() {
            for &f in &s.chan_freq_hz {
                vis.push(Complex64::from_polar(
                    1.0,
                    ga(b).phase_at(f, t) - gb(b).phase_at(f, t),
                ));
            }
        }
    }
    let n = vis.len();
    let mut d = BaselineData::new(
        "A",
        "B",
        t0(),
        times,
        vec![1.0, 1.0],
        sb.clone(),
        8.2e9,
        vis,
        vec![1.0; n],
    )
    .unwrap();
    let mut cal = StationCal::new();
    for b in 0..2 {
        cal.insert("A", b, 'R', t0(), ga(b));
        cal.insert("B", b, 'R', t0(), gb(b));
    }
    assert!(cal.apply(&mut d, ('R', 'R')).is_empty());
    for i in 0..2 {
        for b in 0..2 {
            for k in 0..16 {
                assert!((d.vis(i, b, k) - Complex64::new(1.0, 0.0)).norm() < 1e-9);
            }
        }
    }
    // A station the table lacks is named, its term left at 1.
    let missing = cal.apply(&mut d, ('L', 'R'));
    assert_eq!(
        missing.into_iter().collect::<Vec<_>>(),
        vec![("A".to_string(), 0), ("A".to_string(), 1)]
    );
}

#[test]
fn phase_cal_rows_give_each_station_and_times_terms() {
    use formats::fitsidi::PcalRow;
    // Two readings 2 s apart of antenna 2, two bands of 4 tones (one band
    // padded to NO_TABS = 5), RR only: the band's φ and τ, and halfway
    // between the readings the mean phase.
    let f_ref = [8.204e9, 8.252e9];
    let truth =
        |b: usize, k: usize| -> (f64, f64) { ([1.0 + 0.2 * k as f64, -2.0][b], [2e-9, -1e-9][b]) };
    let row = |k: usize| {
        let mut freq = vec![vec![]; 2];
        let (mut re, mut im) = (vec![vec![]; 2], vec![vec![]; 2]);
        for b in 0..2 {
            let (phi, tau) = truth(b, k);
            for j in 0..5 {
                let f = if b == 1 && j == 4 {
                    0.0
                } else {
                    f_ref[b] + 0.5e6 + 2e6 * j as f64
                };
                let z = if f > 0.0 {
                    Complex64::from_polar(0.01, phi - TAU * (f - f_ref[b]) * tau)
                } else {
                    Complex64::new(0.0, 0.0)
                };
                freq[b].push(f);
                re[b].push(z.re as f32);
                im[b].push(z.im as f32);
            }
        }
        PcalRow {
            time: t0().add_seconds(2.0 * k as f64),
            time_interval_s: 2.0,
            source_id: 1,
            antenna_no: 2,
            freq_id: 1,
            cable_cal_s: 0.0,
            freq_hz: vec![freq],
            re: vec![re],
            im: vec![im],
            rate: vec![vec![vec![0.0; 5]; 2]],
            state: vec![vec![[0.0; 4]; 2]],
        }
    };
    let readings = pcal::readings_from_rows(&[row(0), row(1)], &[-1], &[], |n| {
        ["A", "B"][n as usize - 1].to_string()
    });
    assert_eq!(readings.len(), 4);
    assert!(readings.iter().all(|r| r.station == "B" && r.pol == 'R'));
    let cal = from_tones(&readings, &f_ref).unwrap();
    for b in 0..2 {
        let s = cal.get("B", b, 'R').unwrap();
        for (k, (t, term)) in s.samples().iter().enumerate() {
            let (phi, tau) = truth(b, k);
            assert_eq!(*t, t0().add_seconds(2.0 * k as f64));
            // f32 amplitudes: ~1e-7 rad.
            assert!(wrap_pi(term.phase_rad - phi).abs() < 1e-5, "{b} {k}");
            assert!((term.delay_s - tau).abs() < 1e-14, "{b} {k}");
        }
    }
    let mid = cal
        .get("B", 0, 'R')
        .unwrap()
        .phase_at(f_ref[0], t0().add_seconds(1.0));
    assert!((mid.unwrap() - 1.1).abs() < 1e-5);
}

/// The tone fit's formal errors against the scatter of noisy combs: tones
/// of amplitude 1 % with complex Gaussian noise of 1/√S per component (the
/// extractor's noise for S samples of unit-rms noise) scatter in phase at
/// f_ref, in delay, and in phase at the band's far edge as the reported σ
/// and covariance predict (2000 trials: the ratio's own scatter is 1.6 %).
#[test]
fn tone_fit_errors_match_the_scatter_of_noisy_tones() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let f_ref = 8.204e9;
    let samples: f64 = 4e6;
    let (phi, tau) = (0.7, 2e-9);
    let noise = Normal::new(0.0, samples.powf(-0.5)).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    let far = f_ref + 8e6;
    let (mut e_ref, mut e_tau, mut e_far) = (Vec::new(), Vec::new(), Vec::new());
    let mut reported = None;
    for _ in 0..2000 {
        let tones: Vec<(f64, Complex64)> = (0..8)
            .map(|k| {
                let f = f_ref + 1e4 + k as f64 * 1e6;
                let z = Complex64::from_polar(0.01, phi - TAU * (f - f_ref) * tau)
                    + Complex64::new(noise.sample(&mut rng), noise.sample(&mut rng));
                (f, z)
            })
            .collect();
        let t = pcal::tone_fit(&tones, f_ref, samples).unwrap();
        e_ref.push(wrap_pi(t.phase_rad - phi));
        e_tau.push(t.delay_s - tau);
        e_far.push(wrap_pi(
            t.phase_at(far, 0.0) - (phi - TAU * (far - f_ref) * tau),
        ));
        reported.get_or_insert(t);
    }
    let rms = |v: &[f64]| (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
    let t = reported.unwrap();
    // σ_k = 1/(0.01·√S) = 0.05 rad per tone.
    for (what, measured, predicted) in [
        ("phase at f_ref", rms(&e_ref), t.phase_sigma_rad),
        ("delay", rms(&e_tau), t.delay_sigma_s),
        (
            "phase at the far edge",
            rms(&e_far),
            t.phase_var_at(far).sqrt(),
        ),
    ] {
        let ratio = measured / predicted;
        eprintln!("{what}: scatter {measured:.4e}, formal {predicted:.4e}, ratio {ratio:.3}");
        assert!((0.94..1.06).contains(&ratio), "{what}: {ratio}");
    }
}
