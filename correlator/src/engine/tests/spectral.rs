//! Output channels and windows against their definitions: averaged
//! channels are the means of the full-resolution ones (the same data
//! correlated twice), and a tone half-way between two channels leaks into
//! the others as the window's transform says (closed form: sums of
//! Dirichlet kernels), not as the engine computes it.

use super::*;
use num_complex::Complex64;
use std::f64::consts::PI;

/// The scenario of these tests with `extra` `[correlation]` keys.
fn with(sc: &Scenario, extra: &str) -> Scenario {
    let mut s = sc.clone();
    s.correlation_extra = extra.to_string();
    s
}

#[test]
fn averaged_channels_are_the_means_of_the_full_resolution_channels() {
    // A 1024-point FFT of real data (512 channels) averaged to 64, on a USB
    // and an LSB band, two stations.
    let mut sc = Scenario::basic();
    sc.n = 1024;
    sc.subbands = vec![(8.4e9, "U", "R", 0), (8.5e9, "L", "R", 1)];
    let signals = sc.signals();
    let full = sc.run(sc.sources(&signals), 2);
    let avg_sc = with(&sc, "channels = 64\n");
    let avg = avg_sc.run(avg_sc.sources(&signals), 2);
    let (lf, la) = (full.layout.unwrap(), avg.layout.unwrap());
    assert_eq!((lf.nchan, la.nchan), (512, 64));
    assert_eq!((lf.fft_nchan, la.fft_nchan), (512, 512));
    let m = 8;
    assert_eq!(la.chan_width_hz, m as f64 * lf.chan_width_hz);
    assert_eq!(full.integrations.len(), avg.integrations.len());
    assert!(!full.integrations.is_empty());
    for band in 0..2 {
        for j in 0..64 {
            // An averaged channel lies at the mean frequency of its FFT
            // channels (USB: up from the edge, LSB: down).
            let mean_f: f64 = (0..m)
                .map(|g| lf.channel_freq_hz(band, j * m + g))
                .sum::<f64>()
                / m as f64;
            assert!((la.channel_freq_hz(band, j) - mean_f).abs() < 1e-3);
        }
    }
    let mut checked = 0;
    for (fi, ai) in full.integrations.iter().zip(&avg.integrations) {
        assert_eq!(fi.weights, ai.weights);
        for bl in 0..lf.baselines.len() {
            for band in 0..2 {
                for p in 0..lf.products.len() {
                    for j in 0..64 {
                        let group: Vec<Complex64> = (0..m)
                            .map(|g| {
                                let v = fi.vis[lf.vis_index(0, bl, band, j * m + g, p)];
                                Complex64::new(v.re as f64, v.im as f64)
                            })
                            .collect();
                        let mean = group.iter().sum::<Complex64>() / m as f64;
                        let scale = group.iter().map(|z| z.norm()).fold(0.0, f64::max);
                        let v = ai.vis[la.vis_index(0, bl, band, j, p)];
                        let d = Complex64::new(v.re as f64, v.im as f64) - mean;
                        // f32 rounding of the eight full-resolution values
                        // and of the average.
                        assert!(
                            d.norm() <= 1e-6 * scale + 1e-12,
                            "baseline {bl} band {band} channel {j}: {v} vs {mean}"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000);
}

#[test]
fn averaged_windowed_channels_from_large_ffts_shared_by_stage_are_the_one_thread_bits() {
    // An 8192-point FFT (4096 channels) windowed and averaged to 256: with
    // 2 and 3 threads the chunks are shared by stage, whose spectrum store
    // and channel ranges are at the FFT's resolution (fft_nchan).
    let mut sc = Scenario::basic();
    sc.n = 8192;
    sc.subbands = vec![(8.4e9, "U", "R", 0), (8.5e9, "L", "R", 1)];
    let sc = with(&sc, "channels = 256\nwindow = \"hann\"\n");
    for t in [2, 3] {
        assert!(crate::engine::schedule::cut(8192, t, 2).by_stage);
    }
    let signals = sc.signals();
    let one = sc.run(sc.sources(&signals), 1);
    let l = one.layout.as_ref().unwrap();
    assert_eq!((l.nchan, l.fft_nchan), (256, 4096));
    assert!(!one.integrations.is_empty());
    let bits = |s: &MemorySink| -> Vec<u32> {
        s.integrations
            .iter()
            .flat_map(|i| {
                i.vis
                    .iter()
                    .flat_map(|c| [c.re.to_bits(), c.im.to_bits()])
                    .chain(i.weights.iter().map(|w| w.to_bits()))
            })
            .collect()
    };
    for t in [2, 3] {
        let r = sc.run(sc.sources(&signals), t);
        assert!(bits(&r) == bits(&one), "{t} threads differ from 1");
    }
}

#[test]
fn channels_that_do_not_divide_the_fft_and_unknown_windows_are_refused() {
    let sc = with(&Scenario::basic(), "channels = 100\n");
    let signals = sc.signals();
    let mut sink = MemorySink::default();
    let e = correlate(
        &sc.job(),
        sc.sources(&signals),
        &Options::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("correlation.channels 100") && e.contains("divisor of 128"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1);
    let text = "[job]\nname = \"t\"\n[correlation]\nwindow = \"blackman\"\n";
    let e = Job::from_toml_str(text, Path::new("/tmp/w.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("correlation.window") && e.contains("blackman"),
        "{e}"
    );
}

/// D(ν) = Σ_{n<N} exp(−2πi ν n/N): the transform of the rectangular
/// window at ν channels from a tone.
fn dirichlet(nu: f64, n: usize) -> Complex64 {
    let n = n as f64;
    let phase = Complex64::from_polar(1.0, -PI * nu * (n - 1.0) / n);
    let den = (PI * nu / n).sin();
    if den.abs() < 1e-300 {
        return Complex64::new(n, 0.0) * phase;
    }
    phase * ((PI * nu).sin() / den)
}

/// The window's transform W(ν) in closed form: each periodic window is a
/// sum of complex exponentials, each moving D by its frequency.
fn window_transform(window: &str, nu: f64, n: usize) -> Complex64 {
    let d = |x: f64| dirichlet(x, n);
    match window {
        "none" => d(nu),
        // ½ − ¼e^{2πin/N} − ¼e^{−2πin/N}
        "hann" => d(nu) * 0.5 - d(nu - 1.0) * 0.25 - d(nu + 1.0) * 0.25,
        // 0.54 − 0.23e^{2πin/N} − 0.23e^{−2πin/N}
        "hamming" => d(nu) * 0.54 - d(nu - 1.0) * 0.23 - d(nu + 1.0) * 0.23,
        // sin πn/N = (e^{iπn/N} − e^{−iπn/N}) / 2i
        "cosine" => (d(nu - 0.5) - d(nu + 0.5)) / Complex64::new(0.0, 2.0),
        _ => unreachable!(),
    }
}

#[test]
fn a_tone_between_two_channels_leaks_as_the_window_transform_says() {
    // One station, complex sampling (no negative-frequency image), a zero
    // delay model: each block's spectrum is the tone's DFT through the
    // window, and the autocorrelation channel j holds |W(j − k0 − ½)|².
    let mut sc = Scenario::basic();
    sc.complex = true;
    sc.n = 1024;
    sc.stations.truncate(1);
    sc.stations[0].tau0 = 0.0;
    sc.stations[0].rate = 0.0;
    let k0 = 300usize;
    let width = sc.fs / sc.n as f64;
    let tone = [Tone {
        f_hz: (k0 as f64 + 0.5) * width,
        amp: 1.0,
        theta: 0.2,
    }];
    let st = sc.stations[0].clone();
    let (first, len) = sc.span(&st);
    let mut x = vec![0.0; 2 * len];
    synth(
        &mut x,
        &tone,
        &st,
        sc.subbands[0].0,
        1.0,
        true,
        sc.fs,
        first,
    );
    let signals = vec![(first, vec![x])];
    let mut leak_10 = Vec::new();
    for window in ["none", "hann", "hamming", "cosine"] {
        let w = with(&sc, &format!("window = \"{window}\"\n"));
        let sink = w.run(w.sources(&signals), 1);
        let l = sink.layout.as_ref().unwrap();
        let p = |j: usize| sink.integrations[0].vis[l.vis_index(0, 0, 0, j, 0)].re as f64;
        let peak = p(k0);
        assert!((p(k0 + 1) / peak - 1.0).abs() < 1e-4);
        let w_peak = window_transform(window, -0.5, sc.n).norm_sqr();
        for d in [1usize, 2, 5, 10, 30] {
            for j in [k0 + 1 + d, k0 - d] {
                let nu = j as f64 - k0 as f64 - 0.5;
                let want_db =
                    10.0 * (window_transform(window, nu, sc.n).norm_sqr() / w_peak).log10();
                let got_db = 10.0 * (p(j) / peak).log10();
                if want_db < -140.0 {
                    // The cosine window moves a half-channel tone onto the
                    // channel grid of its two exponentials: no leakage but
                    // into the two nearest channels (closed form 0), so f32
                    // rounding is all there is.
                    assert!(got_db < -120.0, "{window}: channel {j}: {got_db:.2} dB");
                    continue;
                }
                assert!(
                    (got_db - want_db).abs() < 1.0,
                    "{window}: channel {j} ({nu} channels from the tone): {got_db:.2} dB, closed form {want_db:.2} dB"
                );
            }
        }
        leak_10.push(10.0 * (p(k0 + 11) / peak).log10());
    }
    // What the windows are for: 10.5 channels from the tone the
    // rectangular window leaves −26.4 dB, Hann −69.7, Hamming −45.7,
    // cosine nothing (the closed forms, checked above).
    assert!(leak_10[0] > -27.0 && leak_10[1] < -69.0, "{leak_10:?}");
    assert!(leak_10[2] < -45.0 && leak_10[3] < -120.0, "{leak_10:?}");
}

#[test]
fn a_window_keeps_the_correlation_coefficient_of_noise() {
    // Normalised by the windowed autocorrelations, a broadband signal's
    // coefficient is unchanged by the window (within the noise: the two
    // runs see the same data through different weights).
    let mut sc = Scenario::basic();
    sc.duration_s = 16e-3;
    sc.integration_s = 16e-3;
    let signals = sc.signals();
    let amp = |sink: &MemorySink| coherent_mean(sink, 0, 1, 0, 0, 0.0).norm();
    let a0 = amp(&sc.run(sc.sources(&signals), 2));
    for window in ["hann", "hamming", "cosine"] {
        let w = with(&sc, &format!("window = \"{window}\"\n"));
        let a = amp(&w.run(w.sources(&signals), 2));
        assert!(
            (a / a0 - 1.0).abs() < 0.02,
            "{window}: amplitude {a} vs {a0} without a window"
        );
        assert!((a - sc.rho).abs() < 0.03, "{window}: {a} vs ρ = {}", sc.rho);
    }
    // Both real-data formulations window the same samples (two code paths
    // of one computation: a consistency check, not truth).
    let w = with(&sc, "window = \"hann\"\n");
    let one = w.run_with(w.sources(&signals), 1, RealFormulation::ComplexFft);
    let two = w.run_with(w.sources(&signals), 1, RealFormulation::TwoRealFfts);
    for (x, y) in one.integrations[0].vis.iter().zip(&two.integrations[0].vis) {
        assert!((x - y).norm() < 1e-4, "{x} vs {y}");
    }
}
