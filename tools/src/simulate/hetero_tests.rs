//! Stations that record differently, and carriers, against closed forms:
//! the files are decoded with the VDIF reader and analysed here with plain
//! FFTs, never with the simulator's own signal code.

use super::scenario::Scenario;
use super::tests::scenarios::decode;
use super::{read_job_toml, simulate, Options};
use formats::UtcTime;
use num_complex::Complex64;
use rustfft::FftPlanner;
use std::f64::consts::PI;
use std::path::Path;

fn start() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 15, 0, 30, 0, 0.0)
}

/// Four stations over the output bands 8400–8416 MHz (see hetero.toml):
/// A the job's 2 × 8 MHz real USB; B 1 × 32 MHz complex (8392–8424 MHz);
/// C 2 × 8 MHz real LSB on threads 1 and 2; D 1 × 16 MHz complex DSB, LO
/// 8408 MHz + 2.5 kHz. Delays τ = c0 + c1·(g − start) (+ B's clock offset).
fn four_setups(rates: bool, bits: u32, extra: &str) -> String {
    let (rb, rc, rd) = if rates {
        (3.1e-7, -1.2e-7, 4.7e-6)
    } else {
        (0.0, 0.0, 0.0)
    };
    format!(
        r#"
[job]
name = "t"
start = "2026-03-15T00:30:00Z"
duration_s = 0.15
[source]
name = "Q"
ra_deg = 291.2
dec_deg = -29.2
{extra}
[simulation]
seed = 5
bits = {bits}
correlated_fraction = 0.3
[[station]]
name = "A"
delay_poly = {{ epoch = "2026-03-15T00:30:00Z", coeffs_s = [0.0] }}
[[station]]
name = "B"
delay_poly = {{ epoch = "2026-03-15T00:30:00Z", coeffs_s = [1.7e-3, {rb}] }}
inject_clock_offset_s = 4.37e-7
sampling = "complex"
[[station.subband]]
sky_freq_hz = 8.392e9
bandwidth_hz = 32e6
[[station]]
name = "C"
delay_poly = {{ epoch = "2026-03-15T00:30:00Z", coeffs_s = [-2.3e-3, {rc}] }}
correlated_fraction = 0.5
[[station.subband]]
sky_freq_hz = 8.408e9
bandwidth_hz = 8e6
sideband = "L"
thread = 1
[[station.subband]]
sky_freq_hz = 8.416e9
bandwidth_hz = 8e6
sideband = "L"
thread = 2
[[station]]
name = "D"
delay_poly = {{ epoch = "2026-03-15T00:30:00Z", coeffs_s = [1.28, {rd}] }}
sampling = "complex_dsb"
lo_offset_hz = 2.5e3
[[station.subband]]
sky_freq_hz = 8.400e9
bandwidth_hz = 16e6
[[subband]]
sky_freq_hz = 8.400e9
bandwidth_hz = 8e6
channel = 0
[[subband]]
sky_freq_hz = 8.408e9
bandwidth_hz = 8e6
channel = 1
"#
    )
}

fn scenario(text: &str) -> Scenario {
    Scenario::from_toml_str(text, Path::new("/nonexistent/t.toml")).unwrap()
}

/// How a station's band maps sky to baseband (the issue's table).
#[derive(Clone, Copy, Debug)]
enum Kind {
    Usb,
    Lsb,
    Dsb,
}

/// One recorded band as the test sees it: what to decode and how it maps.
#[derive(Clone, Copy, Debug)]
struct Band {
    name: &'static str,
    thread: u16,
    fs: f64,
    complex: bool,
    kind: Kind,
    /// The nominal LO (sky frequency of baseband 0 without the offset).
    lo_hz: f64,
    lo_offset_hz: f64,
    /// True delay: c0 + c1·(g − start) + clock offset.
    c0: f64,
    c1: f64,
    fraction: f64,
}

impl Band {
    fn tau(&self, g: UtcTime) -> f64 {
        self.c0 + self.c1 * g.seconds_since(start())
    }
}

fn bands(rates: bool) -> [Band; 4] {
    let r = |x: f64| if rates { x } else { 0.0 };
    [
        Band {
            name: "A",
            thread: 0,
            fs: 16e6,
            complex: false,
            kind: Kind::Usb,
            lo_hz: 8.400e9,
            lo_offset_hz: 0.0,
            c0: 0.0,
            c1: 0.0,
            fraction: 0.3,
        },
        Band {
            name: "B",
            thread: 0,
            fs: 32e6,
            complex: true,
            kind: Kind::Usb,
            lo_hz: 8.392e9,
            lo_offset_hz: 0.0,
            c0: 1.7e-3 + 4.37e-7,
            c1: r(3.1e-7),
            fraction: 0.3,
        },
        Band {
            name: "C",
            thread: 1,
            fs: 16e6,
            complex: false,
            kind: Kind::Lsb,
            lo_hz: 8.408e9,
            lo_offset_hz: 0.0,
            c0: -2.3e-3,
            c1: r(-1.2e-7),
            fraction: 0.5,
        },
        Band {
            name: "D",
            thread: 0,
            fs: 16e6,
            complex: true,
            kind: Kind::Dsb,
            lo_hz: 8.408e9,
            lo_offset_hz: 2.5e3,
            c0: 1.28,
            c1: r(4.7e-6),
            fraction: 0.3,
        },
    ]
}

/// ν·Δt in turns, reduced (ν ~ 1e10 Hz, Δt ~ 1 s: the product is formed
/// from whole seconds and the fraction so no turn is lost).
fn turns(nu: f64, dt: f64) -> f64 {
    let (w, f) = (dt.trunc(), dt - dt.trunc());
    let x = (nu - nu.floor()) * w + nu * f;
    x - x.floor()
}

/// The band's spectra, per segment starting at geocentric g_m, at sky
/// frequencies `nus`, brought to one station-independent convention:
/// a sky component A·e^{2πiν(g − g_ref)} reaches the station at t = g + τ
/// and, mixed with its LO L, sits in its baseband as
/// A·e^{2πi(ν − L)(t − g_ref)}·e^{−2πiντ} (an LSB band holds its conjugate
/// at video frequency L − ν; an LO offset δ shifts it by −δ). Undoing the
/// segment start t0 and the delay: Y = X·e^{−2πi(ν − L)(t0 − g_ref)}·e^{2πiντ}
/// is A (times the window's response), the same at every station.
fn sky_spectra(
    band: &Band,
    dir: &Path,
    segs: &[UtcTime],
    nfft: usize,
    nus: &[f64],
) -> Vec<Vec<Complex64>> {
    let (first, x) = decode(
        &dir.join(format!("{}.vdif", band.name)),
        band.thread,
        0,
        band.fs,
    );
    let fft = FftPlanner::<f64>::new().plan_fft_forward(nfft);
    let df = band.fs / nfft as f64;
    let g_ref = start();
    segs.iter()
        .map(|&g| {
            let tau = band.tau(g);
            let n0 = (g.add_seconds(tau).seconds_since(first) * band.fs).round() as usize;
            let t0 = first.add_seconds(n0 as f64 / band.fs);
            let t0_rel = t0.seconds_since(g_ref);
            // Remove the LO offset first: e^{2πiδ(t − g_ref)} makes the
            // nominal LO the one mixed with.
            let mut buf: Vec<Complex64> = x[n0..n0 + nfft]
                .iter()
                .enumerate()
                .map(|(n, v)| {
                    let ph = turns(band.lo_offset_hz, t0_rel + n as f64 / band.fs);
                    v * Complex64::from_polar(1.0, 2.0 * PI * ph)
                })
                .collect();
            fft.process(&mut buf);
            nus.iter()
                .map(|&nu| {
                    let f = nu - band.lo_hz;
                    let xk = match band.kind {
                        Kind::Usb | Kind::Dsb => {
                            buf[((f / df).round() as i64).rem_euclid(nfft as i64) as usize]
                        }
                        Kind::Lsb => buf[(-f / df).round() as usize].conj(),
                    };
                    let ph = -turns(f, t0_rel) + turns(nu, tau);
                    xk * Complex64::from_polar(1.0, 2.0 * PI * ph)
                })
                .collect()
        })
        .collect()
}

/// A 8 MHz real band, a 32 MHz complex band around it, two real LSB bands
/// and a complex DSB band with an offset LO hold one sky: channelised to
/// one channel width (15.625 kHz) and brought to the sky convention with
/// the known delays, every pair correlates in the common 8400–8408 MHz with
/// the coefficient √(f_A f_B) truth.json promises, at phase 0.
#[test]
fn stations_with_different_bands_see_one_sky() {
    let sc = scenario(&four_setups(false, 8, ""));
    let dir = tempfile::tempdir().unwrap();
    simulate(&sc, dir.path(), Options::default()).unwrap();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    let df = 15_625.0;
    // Channels of output band 0 away from its edges.
    let nus: Vec<f64> = (8..504).map(|j| 8.4e9 + j as f64 * df).collect();
    let segs: Vec<UtcTime> = (0..1500)
        .map(|m| start().add_seconds(0.01 + m as f64 * 64e-6))
        .collect();
    let all = bands(false);
    let spectra: Vec<_> = all
        .iter()
        .map(|b| sky_spectra(b, dir.path(), &segs, (b.fs / df) as usize, &nus))
        .collect();
    for i in 0..all.len() {
        for k in i + 1..all.len() {
            let (a, b) = (&spectra[i], &spectra[k]);
            let mut mean = Complex64::default();
            for j in 0..nus.len() {
                let (mut c, mut pa, mut pb) = (Complex64::default(), 0.0, 0.0);
                for m in 0..segs.len() {
                    c += a[m][j] * b[m][j].conj();
                    pa += a[m][j].norm_sqr();
                    pb += b[m][j].norm_sqr();
                }
                mean += c / (pa * pb).sqrt();
            }
            mean /= nus.len() as f64;
            let name = format!("{}-{}", all[i].name, all[k].name);
            let want = (all[i].fraction * all[k].fraction).sqrt();
            let t = &truth["baselines"][name.as_str()]["subbands"][0];
            assert_eq!(t["expected_amplitude"].as_f64().unwrap(), want, "{name}");
            let common = t["common_sky_hz"].as_array().unwrap();
            let ls_edge = 8.4e9 + 2.5e3;
            let want_lo = if all[k].name == "D" { ls_edge } else { 8.4e9 };
            assert_eq!(common[0].as_f64().unwrap(), want_lo, "{name}");
            // 8-bit: η² = 0.9999; noise σ ≈ 1/√(1500·496) ≈ 0.001.
            eprintln!(
                "{name}: coefficient {:.4} (want {want:.4}, {:+.2} %), phase {:+.4} rad",
                mean.norm(),
                100.0 * (mean.norm() / want - 1.0),
                mean.arg()
            );
            assert!(
                (mean.norm() / want - 1.0).abs() < 0.02,
                "{name}: coefficient {} vs {want}",
                mean.norm()
            );
            assert!(mean.arg().abs() < 0.03, "{name}: phase {}", mean.arg());
        }
    }
}

/// Where and at which phase a station records a carrier (closed form):
/// the wavefront φ + 2πν_T(g − g_ref) reaches it at t = g + τ(g) and is
/// mixed with e^{−2πiL(t − g_ref)}, so at station time t_e = g_e + τ(g_e)
/// its baseband holds the phase θ = φ + 2π(ν_T − L)(g_e − g_ref) − 2πLτ(g_e)
/// and frequency ν_T/(1 + ρ) − L (ρ = dτ/dg); LSB holds the conjugate at
/// L − ν_T/(1 + ρ).
fn tone_closed_form(b: &Band, nu_t: f64, phi: f64, g_e: UtcTime) -> (f64, f64) {
    let lo = b.lo_hz + b.lo_offset_hz;
    let tau = b.tau(g_e);
    let received = nu_t / (1.0 + b.c1);
    let t = phi / (2.0 * PI) + turns(nu_t - lo, g_e.seconds_since(start())) - turns(lo, tau);
    let theta = 2.0 * PI * (t - t.round());
    match b.kind {
        Kind::Lsb => (lo - received, -theta),
        _ => (received - lo, theta),
    }
}

fn wrap(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

/// A carrier through each station's own delay rate (up to the lunar
/// 4.7 µs/s, a 39.5 kHz Doppler at 8.4 GHz) and LO: the FFT peak of the
/// decoded samples sits at ν_T/(1 + ρ) − L (mirrored for LSB, negative in the
/// DSB band below its LO), the samples hold the closed-form phase (so
/// two stations differ by the closed form from their delays), and truth.json
/// says the same.
#[test]
fn a_carrier_arrives_with_each_stations_doppler_and_phase() {
    let (nu_t, amp, phi) = (8.4043e9 + 123.4, 0.3, 0.7);
    let tone =
        format!("[[source.tone]]\nsky_freq_hz = {nu_t}\namplitude = {amp}\nphase_rad = {phi}\n");
    let mut sc = scenario(&four_setups(true, 4, &tone));
    sc.set_seconds(0.12).unwrap();
    let dir = tempfile::tempdir().unwrap();
    simulate(&sc, dir.path(), Options::default()).unwrap();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    let g_e = start().add_seconds(0.06);
    let mut phases = Vec::new();
    for b in bands(true) {
        let (f_want, theta_want) = tone_closed_form(&b, nu_t, phi, g_e);
        let (first, x) = decode(
            &dir.path().join(format!("{}.vdif", b.name)),
            b.thread,
            0,
            b.fs,
        );
        let t_e = g_e.add_seconds(b.tau(g_e));
        let n_e = (t_e.seconds_since(first) * b.fs).round() as usize;
        // FFT peak over 2^18 samples (bins of 61 or 122 Hz).
        let n = 1 << 18;
        let mut buf: Vec<Complex64> = x[n_e - n / 2..n_e + n / 2].to_vec();
        FftPlanner::<f64>::new()
            .plan_fft_forward(n)
            .process(&mut buf);
        let half = if b.complex { n } else { n / 2 };
        let k = (0..half)
            .max_by(|&i, &j| buf[i].norm().total_cmp(&buf[j].norm()))
            .unwrap();
        let k_signed = if k > n / 2 {
            k as f64 - n as f64
        } else {
            k as f64
        };
        let f_peak = k_signed * b.fs / n as f64;
        let bin = b.fs / n as f64;
        // Demodulate with the closed form: the tone then has phase 0.
        let m = 1 << 17;
        let mut z = Complex64::default();
        for i in 0..m {
            let idx = n_e - m / 2 + i;
            let dt = first.add_seconds(idx as f64 / b.fs).seconds_since(t_e);
            z += x[idx] * Complex64::from_polar(1.0, -(2.0 * PI * f_want * dt + theta_want));
        }
        z /= m as f64;
        let want_amp = if b.complex { amp } else { amp / 2.0 };
        let doppler = nu_t - nu_t / (1.0 + b.c1);
        eprintln!(
            "{}: tone at {f_peak:.1} Hz (closed form {f_want:.1}, Doppler {doppler:.1} Hz, bin {bin:.1}); phase error {:+.4} rad, amplitude {:.4} (want {want_amp})",
            b.name,
            z.arg(),
            z.norm()
        );
        assert!(
            (f_peak - f_want).abs() <= bin,
            "{}: peak {f_peak} vs {f_want}",
            b.name
        );
        assert!(z.arg().abs() < 0.03, "{}: phase error {}", b.name, z.arg());
        assert!(
            (z.norm() / want_amp - 1.0).abs() < 0.05,
            "{}: amplitude {}",
            b.name,
            z.norm()
        );
        // truth.json: the same closed forms at its reference epoch (start).
        let (f_want, theta_want) = tone_closed_form(&b, nu_t, phi, start());
        let t = &truth["stations"][b.name]["tones"][0];
        assert_eq!(t["subband"].as_u64(), Some(0), "{}", b.name);
        let f_truth = t["baseband_freq_hz"].as_f64().unwrap();
        let p_truth = t["baseband_phase_rad"].as_f64().unwrap();
        assert!(
            (f_truth - f_want).abs() < 1e-3,
            "{}: truth {f_truth} vs {f_want}",
            b.name
        );
        assert!(
            wrap(p_truth - theta_want).abs() < 1e-4,
            "{}: truth {p_truth} vs {theta_want}",
            b.name
        );
        let theta_e = tone_closed_form(&b, nu_t, phi, g_e).1;
        phases.push((b, theta_e, z.arg() + theta_e));
    }
    // Between two stations: θ_A − θ_D = 2π(L_D − L_A)(g_e − g_ref)
    // − 2π(L_A τ_A − L_D τ_D), from the delays alone.
    let (a, d) = (&phases[0], &phases[3]);
    let (la, ld) = (a.0.lo_hz, d.0.lo_hz + d.0.lo_offset_hz);
    let dt = g_e.seconds_since(start());
    let closed =
        2.0 * PI * (turns(ld - la, dt) - turns(la, a.0.tau(g_e)) + turns(ld, d.0.tau(g_e)));
    eprintln!(
        "A − D tone phase at their t_e: measured {:+.4}, closed form {:+.4} rad",
        wrap(a.2 - d.2),
        wrap(closed)
    );
    assert!(wrap(a.2 - d.2 - closed).abs() < 0.05);
    // Baselines: the tone's fringe phase is 2πν_T·(ε_B/(1+ρ_B) − ε_A/(1+ρ_A));
    // only B has a clock offset (ε_B = 4.37e-7 s, ρ_B = 3.1e-7).
    let t = &truth["baselines"]["A-B"]["tones"][0];
    let d_corr: f64 = 4.37e-7 / (1.0 + 3.1e-7);
    let want = wrap(2.0 * PI * turns(nu_t, d_corr));
    let got = t["residual_phase_rad"].as_f64().unwrap();
    assert!(
        wrap(got - want).abs() < 1e-6,
        "A-B tone phase {got} vs {want}"
    );
    assert_eq!(t["subband"].as_u64(), Some(0));
    assert!((t["band_freq_hz"].as_f64().unwrap() - (nu_t - 8.4e9)).abs() < 1e-3);
}

/// The shipped scenarios run; job.toml carries the agreed station keys and
/// reads back once they are set aside; truth.json has per-band amplitudes
/// and, for the carrier scenario, each station's tones where the files
/// have them.
#[test]
fn the_shipped_hetero_and_carrier_scenarios_run() {
    let dir_of = |n: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/scenarios")
            .join(n)
    };
    let mut sc = Scenario::from_file(&dir_of("hetero.toml")).unwrap();
    sc.set_seconds(0.05).unwrap();
    let dir = tempfile::tempdir().unwrap();
    simulate(&sc, dir.path(), Options::default()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("job.toml")).unwrap();
    let job: toml::Table = toml::from_str(&text).unwrap();
    let ls = &job["station"].as_array().unwrap()[3];
    assert_eq!(ls["sampling"].as_str(), Some("complex_dsb"));
    assert_eq!(ls["lo_offset_hz"].as_float(), Some(2.5e3));
    assert_eq!(ls["subband"][0]["bandwidth_hz"].as_float(), Some(16e6));
    assert_eq!(ls["sample_rate_hz"].as_float(), Some(16e6));
    read_job_toml(&text, &dir.path().join("job.toml")).unwrap();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    let ab = &truth["baselines"]["A-B"]["subbands"];
    assert_eq!(ab.as_array().unwrap().len(), 2);
    assert!((ab[1]["expected_amplitude"].as_f64().unwrap() - 0.3).abs() < 1e-12);

    let mut sc = Scenario::from_file(&dir_of("carrier.toml")).unwrap();
    sc.set_seconds(0.06).unwrap();
    let dir = tempfile::tempdir().unwrap();
    simulate(&sc, dir.path(), Options::default()).unwrap();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    let scan = &truth["scans"][0];
    let st = &scan["residuals"]["CE7LANDER"]["stations"];
    let centre = UtcTime::parse_iso8601(scan["centre"].as_str().unwrap()).unwrap();
    // KM's complex band: the FFT peak of its recording at the stronger
    // tone's truth frequency (the lander's Doppler at KM, ~4.6 kHz).
    let t = &st["KM"]["tones"][0];
    let f = t["baseband_freq_hz"].as_f64().unwrap();
    let fs = 16e6;
    let (first, x) = decode(&dir.path().join("KM_No0001.vdif"), 0, 0, fs);
    let tau = st["KM"]["true_delay_s"].as_f64().unwrap();
    let n_e = (centre.add_seconds(tau).seconds_since(first) * fs) as usize;
    let n = 1 << 18;
    let mut buf: Vec<Complex64> = x[n_e - n / 2..n_e + n / 2].to_vec();
    FftPlanner::<f64>::new()
        .plan_fft_forward(n)
        .process(&mut buf);
    let k = (0..n)
        .max_by(|&i, &j| buf[i].norm().total_cmp(&buf[j].norm()))
        .unwrap();
    let f_peak = k as f64 * fs / n as f64;
    eprintln!("carrier.toml KM: tone peak {f_peak:.1} Hz, truth {f:.1} Hz");
    assert!((f_peak - f).abs() <= fs / n as f64);
    assert!(t["received_freq_hz"].as_f64().unwrap() - 8.4043e9 > 4e3);
}

/// Bad setup or tone keys: one line naming the key.
#[test]
fn bad_setup_and_tone_keys_name_the_key() {
    let base = four_setups(false, 2, "");
    let cases: Vec<(String, &str)> = vec![
        (
            base.replace(r#"sampling = "complex""#, r#"sampling = "iq""#),
            "station[1] (B).sampling",
        ),
        (
            base.replace("lo_offset_hz = 2.5e3", "lo_offset_hz = 2e7"),
            "station[3] (D).lo_offset_hz",
        ),
        (
            base.replace("sky_freq_hz = 8.392e9", "sky_freq_hz = 8.392e9\nwidth = 3"),
            "station[1] (B).subband[0]",
        ),
        (
            base.replace(
                "sky_freq_hz = 8.400e9\nbandwidth_hz = 16e6",
                "sky_freq_hz = 8.400e9\nbandwidth_hz = 16e6\nsideband = \"L\"",
            ),
            "station[3] (D).subband[0].sideband",
        ),
        (
            base.replace(
                "sky_freq_hz = 8.416e9\nbandwidth_hz = 8e6",
                "sky_freq_hz = 8.416e9\nbandwidth_hz = 4e6",
            ),
            "station[2] (C).subband[1].bandwidth_hz",
        ),
        (
            base.replace(
                "sideband = \"L\"\nthread = 2",
                "sideband = \"L\"\nthread = 1",
            ),
            "station[2] (C).subband[1].thread",
        ),
        (
            four_setups(
                false,
                2,
                "[[source.tone]]\nsky_freq_hz = 8.404e9\namplitude = -1\n",
            ),
            "source.tone[0].amplitude",
        ),
        (
            four_setups(
                false,
                2,
                "[[source.tone]]\nsky_freq_hz = 8.404e9\namp = 1\n",
            ),
            "source.tone",
        ),
    ];
    for (text, key) in cases {
        let e = Scenario::from_toml_str(&text, Path::new("/nonexistent/t.toml"))
            .err()
            .unwrap_or_else(|| panic!("{key}: accepted"))
            .to_string();
        eprintln!("{e}");
        assert!(e.contains(&format!("`{key}")), "{key}: {e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}
