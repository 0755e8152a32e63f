//! Tests of the simulator against independent truth: closed forms from the
//! RF physics and brute-force lag correlation — never against its own output.

use super::quantise::Quantiser;
use super::signal::*;
use formats::UtcTime;
use num_complex::Complex64;
use std::f64::consts::PI;
use std::sync::Arc;

/// τ(g) = tau0 + rate·(g − epoch).
struct LinearDelay {
    epoch: UtcTime,
    tau0: f64,
    rate: f64,
}

impl TrueDelay for LinearDelay {
    fn delay_s(&self, g: UtcTime) -> f64 {
        self.tau0 + self.rate * g.seconds_since(self.epoch)
    }
}

/// A pure tone in the centred sky: c_k = e^{2πi f k} (f in cycles per sky sample).
struct ToneSky {
    f: f64,
    buf: Vec<f32>,
}

impl Sky for ToneSky {
    fn window(&mut self, k_lo: i64, k_hi: i64) -> &[f32] {
        self.buf = (k_lo..k_hi)
            .flat_map(|k| {
                let a = 2.0 * PI * self.f * k as f64;
                [a.cos() as f32, a.sin() as f32]
            })
            .collect();
        &self.buf
    }
}

fn epoch() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 14, 12, 0, 0, 0.0)
}

const B: f64 = 8e6;
const LO: f64 = 8.4e9;

fn sampling(complex: bool, usb: bool) -> SubbandSampling {
    SubbandSampling::band(LO, B, usb, complex)
}

#[allow(clippy::too_many_arguments)]
fn station<S: Sky>(
    sky: S,
    tau0: f64,
    rate: f64,
    s: SubbandSampling,
    t0: UtcTime,
    fraction: f64,
    station_index: usize,
) -> StationSignal<S> {
    StationSignal::new(
        sky,
        Arc::new(Interpolator::new()),
        Arc::new(LinearDelay {
            epoch: epoch(),
            tau0,
            rate,
        }),
        s,
        t0,
        epoch(),
        fraction,
        7,
        noise_stream(station_index, 0),
    )
}

fn take<S: Sky>(st: &mut StationSignal<S>, from: u64, n: usize) -> Vec<f32> {
    let mut v = vec![0.0; n * st.sampling().values_per_sample()];
    st.seek(from);
    st.fill(&mut v);
    v
}

fn as_complex(v: &[f32], complex: bool) -> Vec<Complex64> {
    if complex {
        v.chunks(2)
            .map(|c| Complex64::new(c[0] as f64, c[1] as f64))
            .collect()
    } else {
        v.iter().map(|&x| Complex64::new(x as f64, 0.0)).collect()
    }
}

/// The station sees a sky tone; compare every sample with the RF closed form.
///
/// A sky tone at RF ν, E(g) = cos 2πν(g − g_ref), reaches the station at
/// t = g + τ; mixing with the station's LO cos 2πν₀(t − g_ref) and keeping the
/// difference frequency gives the video signal cos 2π(ν(t − τ − g_ref) − ν₀(t − g_ref)):
/// USB (ν = ν₀ + f): cos 2π(f(t − g_ref) − ντ); LSB (ν = ν₀ − f): cos 2π(f(t − g_ref) + ντ).
/// Complex sampling adds the quadrature (sin) of the same video phase.
#[test]
fn a_sky_tone_has_the_rf_phase_at_every_sample() {
    let cases = [(false, true), (false, false), (true, true), (true, false)];
    // Mid-band and close to both band edges (the interpolator's hardest case).
    for ((complex, usb), f_video) in cases
        .iter()
        .flat_map(|c| [0.05e6, 2.345e6, 7.95e6].map(move |f| (*c, f)))
    {
        // Centred sky frequency: b has its tone at +f (USB) or −f (LSB);
        // c = b·e^{∓iπB(g−g_ref)}.
        let fc_hz = if usb {
            f_video - B / 2.0
        } else {
            -f_video + B / 2.0
        };
        let sky = ToneSky {
            f: fc_hz / (2.0 * B),
            buf: Vec::new(),
        };
        let s = sampling(complex, usb);
        let fs = s.sample_rate_hz();
        // A lunar-like delay: 1.28 s, 4.7 µs/s.
        let (tau0, rate) = (1.28, 4.7e-6);
        let t0 = epoch().add_seconds(1.3);
        let mut st = station(sky, tau0, rate, s, t0, 1.0, 0);
        let from = 1_234_567u64;
        let n = 20_000;
        let got = as_complex(&take(&mut st, from, n), complex);
        let mut worst: f64 = 0.0;
        for (i, y) in got.iter().enumerate() {
            let k = from + i as u64;
            let t_rel = 1.3 + k as f64 / fs; // t − g_ref
                                             // τ at arrival: g + τ(g) = t with τ(g) = τ0 + r·(g − g_ref) ⇒
                                             // τ = (τ0 + r·(t − g_ref)) / (1 + r).
            let tau = (tau0 + rate * t_rel) / (1.0 + rate);
            let nu = if usb { LO + f_video } else { LO - f_video };
            let sign = if usb { -1.0 } else { 1.0 };
            // Phase in turns; keep the huge ν τ term reduced exactly enough.
            let ph = f_video * t_rel + sign * (nu * tau).rem_euclid(1.0);
            let a = 2.0 * PI * ph;
            worst = worst.max((y.re - a.cos()).abs());
            if complex {
                worst = worst.max((y.im - a.sin()).abs());
            }
        }
        eprintln!(
            "tone at {f_video} Hz, complex={complex} usb={usb}: worst sample error {worst:.2e}"
        );
        assert!(
            worst < 2e-3,
            "complex={complex} usb={usb}: worst sample error {worst}"
        );
    }
}

/// The lag-correlation shape of a flat band: complex at rate B,
/// K(x) = e^{iπx} sinc(x); real at rate 2B (analytic part), e^{iπx/2} sinc(x/2).
fn band_shape(x: f64, complex: bool) -> Complex64 {
    let (w, s) = if complex { (x, x) } else { (x / 2.0, x / 2.0) };
    let sinc = if s == 0.0 {
        1.0
    } else {
        (PI * s).sin() / (PI * s)
    };
    Complex64::from_polar(sinc, PI * w)
}

/// Brute force: R(lag) = mean over n of y_b[n]·conj(y_a[n − lag]).
fn lag_correlation(
    a: &[Complex64],
    b: &[Complex64],
    lags: std::ops::RangeInclusive<i64>,
) -> Vec<(i64, Complex64)> {
    let max_lag = lags.start().abs().max(lags.end().abs()) as usize;
    let n0 = max_lag;
    let n1 = a.len() - max_lag;
    lags.map(|lag| {
        let mut acc = Complex64::default();
        for n in n0..n1 {
            acc += b[n] * a[(n as i64 - lag) as usize].conj();
        }
        (lag, acc / (n1 - n0) as f64)
    })
    .collect()
}

/// Fit R(lag) ≈ Re/complex {A·K(lag − δ)}: the δ that explains the most
/// power, and the complex amplitude A there. `real_data`: only Re R is
/// meaningful (both streams real, no fringe stopping).
fn fit_delay(r: &[(i64, Complex64)], complex_shape: bool, real_data: bool) -> (f64, Complex64) {
    let score = |d: f64| -> (f64, Complex64) {
        if real_data {
            // R = A_r·K_r − A_i·K_i: two-parameter least squares.
            let (mut suu, mut svv, mut suv, mut sru, mut srv) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for &(lag, v) in r {
                let k = band_shape(lag as f64 - d, complex_shape);
                let (u, w) = (k.re, -k.im);
                suu += u * u;
                svv += w * w;
                suv += u * w;
                sru += v.re * u;
                srv += v.re * w;
            }
            let det = suu * svv - suv * suv;
            let ar = (sru * svv - srv * suv) / det;
            let ai = (srv * suu - sru * suv) / det;
            (ar * sru + ai * srv, Complex64::new(ar, ai))
        } else {
            let (mut num, mut den) = (Complex64::default(), 0.0);
            for &(lag, v) in r {
                let k = band_shape(lag as f64 - d, complex_shape);
                num += v * k.conj();
                den += k.norm_sqr();
            }
            (num.norm_sqr() / den, num / den)
        }
    };
    let peak = r
        .iter()
        .max_by(|x, y| x.1.norm().total_cmp(&y.1.norm()))
        .unwrap()
        .0 as f64;
    // Golden-section search on [peak − 1.5, peak + 1.5] after a coarse grid.
    let mut best = peak;
    let mut best_s = f64::MIN;
    for i in -150..=150 {
        let d = peak + i as f64 * 0.01;
        let s = score(d).0;
        if s > best_s {
            best_s = s;
            best = d;
        }
    }
    let (mut lo, mut hi) = (best - 0.01, best + 0.01);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..60 {
        let c = hi - g * (hi - lo);
        let d = lo + g * (hi - lo);
        if score(c).0 > score(d).0 {
            hi = d;
        } else {
            lo = c;
        }
    }
    let d = (lo + hi) / 2.0;
    (d, score(d).1)
}

/// Two stations see the same Gaussian sky, B later by an integer + fractional
/// number of samples; brute-force correlation recovers the injected delay and
/// the LO phase −2πν₀τ_B.
#[test]
fn brute_force_correlation_recovers_the_injected_delay() {
    for (complex, usb) in [(true, true), (false, true), (false, false), (true, false)] {
        let s = sampling(complex, usb);
        let fs = s.sample_rate_hz();
        let delta = 37.37; // samples
        let tau_b = delta / fs;
        let t0 = epoch().add_seconds(0.25);
        let n = 1 << 17;
        let mut a = station(GaussianSky::new(11, 0), 0.0, 0.0, s, t0, 1.0, 0);
        let mut b = station(GaussianSky::new(11, 0), tau_b, 0.0, s, t0, 1.0, 1);
        let xa = as_complex(&take(&mut a, 0, n), complex);
        let xb = as_complex(&take(&mut b, 0, n), complex);
        let r = lag_correlation(&xa, &xb, 37 - 40..=37 + 40);
        let (d, amp) = fit_delay(&r, complex, !complex);
        eprintln!(
            "complex={complex} usb={usb}: recovered delay {d:.5} samples, injected {delta} (error {:+.5})",
            d - delta
        );
        assert!((d - delta).abs() < 0.01, "delay {d} vs {delta}");
        // LO phase: y_B(t) = y_A(t − τ_B)·e^{−2πiν₀τ_B} for USB; LSB data is
        // conjugated, so the phase flips sign.
        let want = -2.0 * PI * (LO * tau_b).rem_euclid(1.0) * if usb { 1.0 } else { -1.0 };
        let err = (amp.arg() - want + PI).rem_euclid(2.0 * PI) - PI;
        assert!(err.abs() < 0.02, "phase {} vs {want}: {err}", amp.arg());
    }
}

/// A same-beam signal: two independent skies, each delayed by its own
/// source's delay, summed with noise for the rest of the power. Brute force
/// finds each sky at its own injected delay with coefficient √(f_A f_B) of
/// its own shares and LO phase −2πν₀Δτ, and the total power is 1.
#[test]
fn a_sum_of_two_skies_correlates_at_both_delays() {
    let s = sampling(true, true);
    let fs = s.sample_rate_hz();
    let t0 = epoch().add_seconds(0.25);
    let n = 1 << 17;
    let interp = Arc::new(Interpolator::new());
    let delay = |tau0: f64| -> Arc<dyn TrueDelay> {
        Arc::new(LinearDelay {
            epoch: epoch(),
            tau0,
            rate: 0.0,
        })
    };
    // Source 1 (sky seed 21) is 37.37 samples later at B, source 2 (sky 22)
    // 12.6 samples earlier; shares (A, B): source 1 (0.3, 0.2), source 2
    // (0.1, 0.4).
    let (d1, d2) = (37.37, -12.6);
    let station = |taus: [f64; 2], shares: [f64; 2], index: usize| {
        let parts = [(21, taus[0], shares[0]), (22, taus[1], shares[1])]
            .into_iter()
            .map(|(seed_sky, tau, f)| SkyPart {
                sky: GaussianSky::new(seed_sky, 0),
                delay: delay(tau),
                correlated_fraction: f,
            })
            .collect();
        StationSignal::sum(
            parts,
            interp.clone(),
            s,
            t0,
            epoch(),
            7,
            noise_stream(index, 0),
        )
    };
    let mut a = station([0.0, 0.0], [0.3, 0.1], 0);
    let mut b = station([d1 / fs, d2 / fs], [0.2, 0.4], 1);
    let xa = as_complex(&take(&mut a, 0, n), true);
    let xb = as_complex(&take(&mut b, 0, n), true);
    let power = |x: &[Complex64]| x.iter().map(|v| v.norm_sqr()).sum::<f64>() / x.len() as f64;
    // Unit variance per real component: |x|² = 2.
    assert!((power(&xa) - 2.0).abs() < 0.03, "power {}", power(&xa));
    assert!((power(&xb) - 2.0).abs() < 0.03, "power {}", power(&xb));
    let norm = (power(&xa) * power(&xb)).sqrt();
    for (delta, want) in [(d1, (0.3f64 * 0.2).sqrt()), (d2, (0.1f64 * 0.4).sqrt())] {
        let c = delta.round() as i64;
        let r = lag_correlation(&xa, &xb, c - 20..=c + 20);
        let (d, amp) = fit_delay(&r, true, false);
        let coefficient = amp.norm() / norm;
        eprintln!(
            "sky at {delta} samples: recovered {d:.4} (error {:+.4}), coefficient {coefficient:.4} (want {want:.4})",
            d - delta
        );
        assert!((d - delta).abs() < 0.02, "delay {d} vs {delta}");
        // σ ≈ 1/√n = 0.0028.
        assert!(
            (coefficient - want).abs() < 0.015,
            "{coefficient} vs {want}"
        );
        let phase = -2.0 * PI * (LO * delta / fs).rem_euclid(1.0);
        let err = (amp.arg() - phase + PI).rem_euclid(2.0 * PI) - PI;
        assert!(err.abs() < 0.05, "phase {} vs {phase}", amp.arg());
    }
    // Halfway between the two, nothing.
    let r = lag_correlation(&xa, &xb, 8..=16);
    let worst = r.iter().map(|(_, v)| v.norm() / norm).fold(0.0, f64::max);
    assert!(worst < 0.015, "{worst}");
}

/// Lunar-like rate (5 µs/s, ~80 samples/s of drift): after stopping the
/// fringes with the known truth, the lag peak sits at the true delay at two
/// instants 1 s apart — the delay is applied continuously, not as one shift.
#[test]
fn a_lunar_rate_is_followed_continuously() {
    let s = sampling(true, true);
    let fs = s.sample_rate_hz();
    let (tau0, rate) = (1.2e-6, 5e-6);
    let t0 = epoch();
    let n = 1 << 14;
    let mut worst: f64 = 0.0;
    for start in [0u64, 8_000_000] {
        let mut a = station(GaussianSky::new(5, 0), 0.0, 0.0, s, t0, 1.0, 0);
        let mut b = station(GaussianSky::new(5, 0), tau0, rate, s, t0, 1.0, 1);
        let xa = as_complex(&take(&mut a, start, n), true);
        let mut xb = as_complex(&take(&mut b, start, n), true);
        // Stop B's fringe with the truth: its phase is −2πν₀τ_B(t).
        for (i, y) in xb.iter_mut().enumerate() {
            let t_rel = (start + i as u64) as f64 / fs;
            let tau = (tau0 + rate * t_rel) / (1.0 + rate);
            *y *= Complex64::from_polar(1.0, 2.0 * PI * (LO * tau).rem_euclid(1.0));
        }
        let mid = (start as f64 + n as f64 / 2.0) / fs;
        // The delay in A's samples: y_B(t) = y_A(t − τ) with t − τ = g, so
        // the lag is τ·fs at the span's middle.
        let want = (tau0 + rate * mid) / (1.0 + rate) * fs;
        let c = want.round() as i64;
        let r = lag_correlation(&xa, &xb, c - 24..=c + 24);
        let (d, amp) = fit_delay(&r, true, false);
        eprintln!(
            "span at sample {start}: recovered {d:.5}, true {want:.5} (error {:+.5}), residual phase {:.4} rad",
            d - want,
            amp.arg()
        );
        worst = worst.max((d - want).abs());
        assert!(amp.arg().abs() < 0.05, "residual phase {}", amp.arg());
    }
    assert!(worst < 0.02, "worst delay error {worst} samples");
}

/// Sky alone and sky + noise: autocorrelation spectra are flat at the
/// level of unit variance; the cross-correlation coefficient is √(f_A f_B).
#[test]
fn spectra_are_flat_and_the_correlation_is_the_fraction() {
    use rustfft::FftPlanner;
    let s = sampling(false, true);
    let t0 = epoch();
    let nfft = 256;
    let segs = 2000;
    let (fa, fb) = (0.3, 0.6);
    let mut a = station(GaussianSky::new(3, 0), 0.0, 0.0, s, t0, fa, 0);
    let mut b = station(GaussianSky::new(3, 0), 0.0, 0.0, s, t0, fb, 1);
    let mut sky = station(GaussianSky::new(3, 0), 0.0, 0.0, s, t0, 1.0, 2);
    let xa = take(&mut a, 0, nfft * segs);
    let xb = take(&mut b, 0, nfft * segs);
    let xs = take(&mut sky, 0, nfft * segs);

    let rho: f64 = xa
        .iter()
        .zip(&xb)
        .map(|(p, q)| (*p as f64) * (*q as f64))
        .sum::<f64>()
        / (xa.iter().map(|p| (*p as f64).powi(2)).sum::<f64>()
            * xb.iter().map(|q| (*q as f64).powi(2)).sum::<f64>())
        .sqrt();
    let want = (fa * fb).sqrt();
    // Standard error ~ 1/√N = 0.0014.
    assert!((rho - want).abs() < 0.006, "rho {rho} vs {want}");

    let fft = FftPlanner::<f64>::new().plan_fft_forward(nfft);
    for (name, x) in [("sky", &xs), ("sky+noise", &xa)] {
        let mut power = vec![0.0; nfft / 2];
        for seg in x.chunks(nfft) {
            let mut buf: Vec<Complex64> =
                seg.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect();
            fft.process(&mut buf);
            for (p, v) in power.iter_mut().zip(&buf) {
                *p += v.norm_sqr() / (nfft as f64 * segs as f64);
            }
        }
        // Unit variance spread over the band: each channel (two-sided, so ×2
        // for the folded negative frequencies) holds 2/N·N = … the mean of
        // |X_k|²/N is σ² = 1 for white data.
        let inner = &power[4..nfft / 2 - 4];
        let worst = inner.iter().map(|p| (p - 1.0).abs()).fold(0.0, f64::max);
        // 2000 averages: σ ≈ 2.2 %; 5σ bound.
        assert!(worst < 0.12, "{name}: channel deviates by {worst}");
        let mean = inner.iter().sum::<f64>() / inner.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "{name}: mean level {mean}");
    }
}

/// 2-bit statistics: P(|x| ≥ 0.9816σ) = erfc(0.9816/√2) = 0.3263, half each side.
#[test]
fn two_bit_levels_have_gaussian_occupancy() {
    let s = sampling(false, true);
    let mut a = station(GaussianSky::new(9, 0), 0.0, 0.0, s, epoch(), 0.2, 0);
    let x = take(&mut a, 0, 1 << 20);
    let mut codes = vec![0u8; x.len()];
    Quantiser::new(2).unwrap().quantise(&x, &mut codes);
    let mut counts = [0usize; 4];
    for c in codes {
        counts[c as usize] += 1;
    }
    let n = x.len() as f64;
    let outer = (counts[0] + counts[3]) as f64 / n;
    // σ of a fraction over 1M samples ≈ 5e-4 (samples are independent).
    assert!((outer - 0.3263).abs() < 0.003, "outer fraction {outer}");
    assert!(((counts[0] as f64 - counts[3] as f64) / n).abs() < 0.003);
    assert!(((counts[1] as f64 - counts[2] as f64) / n).abs() < 0.003);
}

/// Same seed ⇒ same samples however the stream is cut into calls.
#[test]
fn output_does_not_depend_on_batching() {
    let s = sampling(false, true);
    let mut a = station(GaussianSky::new(1, 0), 1e-3, 3e-6, s, epoch(), 0.5, 0);
    let whole = take(&mut a, 0, 200_000);
    let mut b = station(GaussianSky::new(1, 0), 1e-3, 3e-6, s, epoch(), 0.5, 0);
    let mut pieces = Vec::new();
    b.seek(0);
    for len in [1usize, 999, 65_536, 3, 70_000, 63_461] {
        let mut v = vec![0.0; len];
        b.fill(&mut v);
        pieces.extend(v);
    }
    assert_eq!(whole, pieces);
    let mut c = station(GaussianSky::new(2, 0), 1e-3, 3e-6, s, epoch(), 0.5, 0);
    assert_ne!(whole, take(&mut c, 0, 200_000));
}

// ---------------------------------------------------------------------------
// Whole scenarios: files on disk, read back with the VDIF reader.

pub(super) mod scenarios {
    use super::super::scenario::Scenario;
    use super::super::{simulate, Options};
    use super::{fit_delay, lag_correlation};
    use formats::vdif::{Decoder, Levels, VdifFile};
    use formats::UtcTime;
    use num_complex::Complex64;
    use std::f64::consts::PI;
    use std::path::{Path, PathBuf};

    fn scenario_path(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/scenarios")
            .join(name)
    }

    fn load(name: &str, seconds: f64) -> Scenario {
        let mut sc = Scenario::from_file(&scenario_path(name)).unwrap();
        sc.set_seconds(seconds).unwrap();
        sc
    }

    fn truth(dir: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap()
    }

    /// All frames of `thread`, `channel` decoded in order (no gaps expected),
    /// with the first sample's time and the samples per second.
    pub(crate) fn decode(
        path: &Path,
        thread: u16,
        channel: usize,
        fs: f64,
    ) -> (UtcTime, Vec<Complex64>) {
        let file = VdifFile::open(path).unwrap();
        let mut first = None;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for f in file.frames() {
            let f = f.unwrap();
            if f.header.thread_id != thread {
                continue;
            }
            let fmt = f.header.sample_format();
            let dec = Decoder::new(fmt, &Levels::standard());
            let n = f.header.samples_per_frame();
            let vps = if fmt.complex { 2 } else { 1 };
            buf.resize(n * vps, 0.0);
            dec.decode_channel(f.payload(), channel, 0, &mut buf);
            first.get_or_insert(f.header.sample_time(0, fs));
            if fmt.complex {
                out.extend(
                    buf.chunks(2)
                        .map(|c| Complex64::new(c[0] as f64, c[1] as f64)),
                );
            } else {
                out.extend(buf.iter().map(|&v| Complex64::new(v as f64, 0.0)));
            }
        }
        (first.unwrap(), out)
    }

    #[test]
    fn every_scenario_runs_and_its_files_match_its_truth() {
        for name in [
            "complex.toml",
            "threads4_1bit.toml",
            "faults.toml",
            "dual_pol.toml",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let sc = load(name, 0.2);
            simulate(&sc, dir.path(), Options::default()).unwrap();
            let job = correlator::Job::from_file(&dir.path().join("job.toml")).unwrap();
            let t = truth(dir.path());
            for st in &job.stations {
                let s = &t["stations"][st.name.as_str()];
                let fs = s["sample_rate_hz"].as_f64().unwrap();
                assert_eq!(st.sample_rate_hz, Some(fs), "{name}");
                assert_eq!(st.files, vec![dir.path().join(format!("{}.vdif", st.name))]);
                let bytes = std::fs::read(&st.files[0]).unwrap();
                let file = VdifFile::open(&st.files[0]).unwrap();
                let first = file.frames().next().unwrap().unwrap();
                let spf = first.header.samples_per_frame() as u64;
                assert_eq!(spf, s["samples_per_frame"].as_u64().unwrap());
                assert_eq!(
                    first.header.sample_time(0, fs).to_iso8601(),
                    s["first_sample"].as_str().unwrap(),
                    "{name} {}",
                    st.name
                );
                let threads = sc.threads().len() as u64;
                let frames = s["frames_per_thread"].as_u64().unwrap() * threads
                    - s["missing_frames"].as_u64().unwrap();
                let fb = first.header.frame_bytes() as u64;
                let want = if s["truncated_last_frame"].as_bool().unwrap() {
                    frames * fb - fb / 2
                } else {
                    frames * fb
                };
                assert_eq!(bytes.len() as u64, want, "{name} {}", st.name);
                let invalid = file
                    .frames()
                    .map_while(Result::ok)
                    .filter(|f| f.header.invalid)
                    .count() as u64;
                let in_truncated = u64::from(s["truncated_last_frame"].as_bool().unwrap());
                assert!(
                    invalid + in_truncated >= s["invalid_frames"].as_u64().unwrap()
                        && invalid <= s["invalid_frames"].as_u64().unwrap(),
                    "{name} {}: {invalid} invalid frames",
                    st.name
                );
            }
        }
    }

    /// A brute-force correlation of two recordings read back from disk.
    pub(crate) struct PairCorrelation {
        /// Lag of the peak (samples of o after a) minus the fractional parts
        /// of the model's alignment: the residual delay in samples.
        pub delay_samples: f64,
        /// R = ⟨y_o conj y_a⟩ at the peak (conj V_ao).
        pub amp: Complex64,
        /// |R| / √(P_a P_o): the correlation coefficient.
        pub coefficient: f64,
    }

    /// Spans of `m` samples of recordings `pa` and `po` around geocentric
    /// time `g_mid`, each fringe-stopped with its station's model track
    /// (what a correlator does; the tracks come from job.toml, not from the
    /// simulator), correlated by brute force over ±20 lags.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn correlate_pair(
        (pa, ta): (&Path, &correlator::model::DelayTrack),
        (po, to): (&Path, &correlator::model::DelayTrack),
        lo: f64,
        fs: f64,
        complex: bool,
        g_mid: UtcTime,
        m: usize,
    ) -> PairCorrelation {
        // A span of one recording, fringe-stopped; and its fractional offset.
        let span = |path: &Path, track: &correlator::model::DelayTrack| -> (Vec<Complex64>, f64) {
            let (first, y) = decode(path, 0, 0, fs);
            let n_mid = (g_mid
                .add_seconds(track.eval(g_mid).delay_s)
                .seconds_since(first))
                * fs;
            let margin = 64;
            let n0 = n_mid.round() as usize - m / 2 - margin;
            let mut raw: Vec<Complex64> = y[n0..n0 + m + 2 * margin].to_vec();
            if !complex {
                // Analytic signal (drop negative frequencies), so stopping the
                // fringe leaves no image.
                use rustfft::FftPlanner;
                let len = raw.len();
                let mut p = FftPlanner::<f64>::new();
                p.plan_fft_forward(len).process(&mut raw);
                for (k, v) in raw.iter_mut().enumerate() {
                    *v *= if k == 0 || 2 * k == len {
                        1.0
                    } else if 2 * k < len {
                        2.0
                    } else {
                        0.0
                    } / len as f64;
                }
                p.plan_fft_inverse(len).process(&mut raw);
            }
            let stopped = raw
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let tt = first.add_seconds((n0 + i) as f64 / fs);
                    let mut g = tt;
                    for _ in 0..5 {
                        g = tt.add_seconds(-track.eval(g).delay_s);
                    }
                    let turns = (lo * track.eval(g).delay_s).rem_euclid(1.0);
                    v * Complex64::from_polar(1.0, 2.0 * PI * turns)
                })
                .collect();
            (stopped, n_mid - n_mid.round())
        };
        let (ya, fa) = span(pa, ta);
        let (yo, fo) = span(po, to);
        // R(lag) = mean y_o[n + lag]·conj(y_a[n]): peak at fo − fa + residual.
        let r = lag_correlation(&ya, &yo, -20..=20);
        let (d, amp) = fit_delay(&r, complex, false);
        let power = |y: &[Complex64]| y.iter().map(|v| v.norm_sqr()).sum::<f64>() / y.len() as f64;
        PairCorrelation {
            delay_samples: d - (fo - fa),
            amp,
            coefficient: amp.norm() / (power(&ya) * power(&yo)).sqrt(),
        }
    }

    /// One baseline read back from the files: brute-force correlation of a
    /// span of `m` samples around geocentric time start + `g_mid_s`, both
    /// stations fringe-stopped with the job's model (what a correlator does;
    /// the model comes from job.toml, not from the simulator). Returns
    /// (residual delay − truth, in samples; phase − truth, rad; amplitude;
    /// truth amplitude).
    fn check_baseline(
        dir: &Path,
        a: &str,
        o: &str,
        g_mid_s: f64,
        m: usize,
    ) -> (f64, f64, f64, f64) {
        let job = correlator::Job::from_file(&dir.join("job.toml")).unwrap();
        let t = truth(dir);
        let start = job.start.unwrap();
        let end = start.add_seconds(job.duration_s.unwrap());
        let tracks =
            correlator::model::build_tracks(&job, start.add_seconds(-2.0), end.add_seconds(2.0))
                .unwrap();
        let lo = job.subbands[0].sky_freq_hz;
        let fs = t["stations"][a]["sample_rate_hz"].as_f64().unwrap();
        let complex = t["complex"].as_bool().unwrap();
        let g_mid = start.add_seconds(g_mid_s);
        let track = |name: &str| &tracks[job.stations.iter().position(|s| s.name == name).unwrap()];
        let c = correlate_pair(
            (&dir.join(format!("{a}.vdif")), track(a)),
            (&dir.join(format!("{o}.vdif")), track(o)),
            lo,
            fs,
            complex,
            g_mid,
            m,
        );
        let b = &t["baselines"][format!("{a}-{o}").as_str()];
        let rate = b["residual_rate"].as_f64().unwrap();
        let res = b["residual_delay_s"].as_f64().unwrap() + rate * g_mid_s;
        let delay_err = c.delay_samples - res * fs;
        // R is ⟨y_o conj y_a⟩ = conj V_ao; the residual rate has turned the
        // phase by 2πν₀·rate·(g − start) since the reference epoch.
        let want = b["residual_phase_rad"][0].as_f64().unwrap() + 2.0 * PI * lo * rate * g_mid_s;
        let phase_err = (-c.amp.arg() - want + PI).rem_euclid(2.0 * PI) - PI;
        let got_amp = c.coefficient;
        let want_amp = b["expected_amplitude_quantised"].as_f64().unwrap();
        eprintln!(
            "{a}-{o}: residual delay error {delay_err:+.4} samples (truth {:+.4}); phase error {phase_err:+.4} rad; amplitude {got_amp:.4} (truth {want_amp:.4})",
            res * fs
        );
        (delay_err, phase_err, got_amp, want_amp)
    }

    /// The recordings, read back and fringe-stopped with the job's model
    /// (what a correlator does), show the residual delay, phase and
    /// amplitude truth.json promises, on an Earth and on the lunar baseline.
    /// Complex sampling, delays from polynomials.
    #[test]
    fn decoded_recordings_carry_the_residuals_of_truth_json() {
        let dir = tempfile::tempdir().unwrap();
        let sc = load("complex.toml", 0.3);
        simulate(&sc, dir.path(), Options::default()).unwrap();
        // Noise: σ_amp ≈ 1/√M, σ_phase ≈ 1/(ρ√M), σ_delay ≈ 0.5/(ρ√M) samples.
        // (The lunar delay drifts 0.3 samples over 2^16 samples: a shorter
        // span keeps that smearing of the lag peak negligible.)
        for (o, m) in [("B", 1 << 16), ("LS", 1 << 14)] {
            let (d, p, amp, want) = check_baseline(dir.path(), "A", o, 0.1, m);
            assert!(d.abs() < 0.03, "A-{o}: delay error {d} samples");
            assert!(p.abs() < 0.1, "A-{o}: phase error {p} rad");
            assert!(
                (amp - want).abs() < 0.03,
                "A-{o}: amplitude {amp} vs {want}"
            );
        }
    }

    /// The built-in Earth–Moon scenario (geometric model from the shipped
    /// kernels, real sampling), with strong correlated fractions so a short
    /// span suffices: the same checks on T6–KM and T6–LS.
    #[test]
    fn the_default_scenario_carries_its_truth() {
        let mut sc = Scenario::default_scenario().unwrap();
        sc.set_seconds(0.25).unwrap();
        for s in sc.sim.stations.iter_mut() {
            s.correlated_fraction = 0.5;
        }
        let dir = tempfile::tempdir().unwrap();
        simulate(&sc, dir.path(), Options::default()).unwrap();
        for o in ["KM", "UR", "LS"] {
            let (d, p, amp, want) = check_baseline(dir.path(), "T6", o, 0.12, 1 << 15);
            assert!(d.abs() < 0.03, "T6-{o}: delay error {d} samples");
            assert!(p.abs() < 0.1, "T6-{o}: phase error {p} rad");
            assert!(
                (amp - want).abs() < 0.03,
                "T6-{o}: amplitude {amp} vs {want}"
            );
        }
    }

    /// Same seed, same bytes; FIFOs carry exactly the bytes of the files.
    #[test]
    fn fifos_stream_the_same_bytes_as_files() {
        let sc = load("complex.toml", 0.2);
        let files = tempfile::tempdir().unwrap();
        simulate(&sc, files.path(), Options::default()).unwrap();
        let again = tempfile::tempdir().unwrap();
        simulate(&sc, again.path(), Options::default()).unwrap();
        let fifo = tempfile::tempdir().unwrap();
        let names: Vec<String> = sc.job.stations.iter().map(|s| s.name.clone()).collect();
        let read: Vec<Vec<u8>> = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                simulate(
                    &sc,
                    fifo.path(),
                    Options {
                        fifo: true,
                        ..Options::default()
                    },
                )
            });
            // job.toml and truth.json come before the pipes are opened.
            let readers: Vec<_> = names
                .iter()
                .map(|n| {
                    let path = fifo.path().join(format!("{n}.vdif"));
                    let truth = fifo.path().join("truth.json");
                    s.spawn(move || {
                        use std::os::unix::fs::FileTypeExt;
                        loop {
                            if let Ok(m) = std::fs::metadata(&path) {
                                if m.file_type().is_fifo() {
                                    break;
                                }
                            }
                            std::thread::sleep(std::time::Duration::from_millis(5));
                        }
                        assert!(truth.exists(), "truth.json written after the FIFOs");
                        std::fs::read(&path).unwrap()
                    })
                })
                .collect();
            let out = readers.into_iter().map(|h| h.join().unwrap()).collect();
            writer.join().unwrap().unwrap();
            out
        });
        for (n, bytes) in names.iter().zip(read) {
            let f = std::fs::read(files.path().join(format!("{n}.vdif"))).unwrap();
            let g = std::fs::read(again.path().join(format!("{n}.vdif"))).unwrap();
            assert!(f == g, "{n}: two runs differ");
            assert!(f == bytes, "{n}: FIFO bytes differ from the file");
        }
        for extra in ["job.toml", "truth.json"] {
            let a = std::fs::read_to_string(files.path().join(extra)).unwrap();
            let b = std::fs::read_to_string(fifo.path().join(extra)).unwrap();
            // Same content except the directory they name.
            assert_eq!(
                a.len()
                    - files.path().to_string_lossy().len()
                        * a.matches(&*files.path().to_string_lossy()).count(),
                b.len()
                    - fifo.path().to_string_lossy().len()
                        * b.matches(&*fifo.path().to_string_lossy()).count()
            );
        }
        let mut other = sc.clone();
        other.set_seed(12);
        let d = tempfile::tempdir().unwrap();
        simulate(&other, d.path(), Options::default()).unwrap();
        assert!(
            std::fs::read(d.path().join("A.vdif")).unwrap()
                != std::fs::read(files.path().join("A.vdif")).unwrap()
        );
    }
}

/// The station noise generator against the normal distribution's closed
/// forms: moments and tail probabilities 2·Q(k) (Q(1) = 0.158655,
/// Q(2) = 0.0227501, Q(3) = 0.00134990, Q(4) = 3.16712e-5).
#[test]
fn station_noise_is_standard_normal() {
    let mut rng = rng_at(5, noise_stream(0, 0), 0);
    let n = 1 << 22;
    let mut x = vec![0.0f32; n];
    gaussian_fill(&mut rng, &mut x, 1.0);
    let nf = n as f64;
    let m1 = x.iter().map(|&v| v as f64).sum::<f64>() / nf;
    let m2 = x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / nf;
    let m4 = x.iter().map(|&v| (v as f64).powi(4)).sum::<f64>() / nf;
    // σ(mean) = 5e-4, σ(m2) = 7e-4, σ(m4) ≈ 0.005.
    assert!(m1.abs() < 0.003, "mean {m1}");
    assert!((m2 - 1.0).abs() < 0.004, "variance {m2}");
    assert!((m4 - 3.0).abs() < 0.03, "fourth moment {m4}");
    for (k, q) in [
        (1.0, 0.158_655),
        (2.0, 0.022_750_1),
        (3.0, 0.001_349_90),
        (4.0, 3.167_12e-5),
    ] {
        let p = x.iter().filter(|v| v.abs() as f64 > k).count() as f64 / nf;
        let sd = (2.0 * q * (1.0 - 2.0 * q) / nf).sqrt();
        assert!(
            (p - 2.0 * q).abs() < 5.0 * sd,
            "P(|x| > {k}) = {p}, want {}",
            2.0 * q
        );
    }
    // Consecutive values (the two of a Box–Muller pair) are uncorrelated.
    let c = x.chunks(2).map(|p| (p[0] * p[1]) as f64).sum::<f64>() / (nf / 2.0);
    assert!(c.abs() < 0.003, "pair correlation {c}");
}
