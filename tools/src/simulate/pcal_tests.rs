//! Instrumental terms and the phase-cal comb against closed forms: the
//! recordings are decoded with the VDIF reader and each tone's phase is
//! measured here with a plain DFT at its baseband frequency, never with the
//! simulator's signal code; truth.json is checked against the closed forms
//! of `scenario::Instrumental` and `scenario::Pcal` written out below.

use super::scenario::Scenario;
use super::tests::scenarios::decode;
use super::{simulate, Options};
use formats::UtcTime;
use num_complex::Complex64;
use std::f64::consts::{PI, TAU};
use std::path::Path;

fn wrap(x: f64) -> f64 {
    (x + PI).rem_euclid(TAU) - PI
}

/// One test station: how it records its one band, its comb and its
/// instrumental terms (as written into the scenario below).
struct St {
    name: &'static str,
    complex: bool,
    lsb: bool,
    lo_offset_hz: f64,
    phase_rad: f64,
    rate_rad_per_s: f64,
    delay_s: f64,
}

const EDGE_HZ: f64 = 8.4e9;

fn stations() -> [St; 4] {
    [
        St {
            name: "R",
            complex: false,
            lsb: false,
            lo_offset_hz: 0.0,
            phase_rad: 2.9,
            rate_rad_per_s: 0.02,
            delay_s: 2.5e-9,
        },
        St {
            name: "C",
            complex: true,
            lsb: false,
            lo_offset_hz: 2.5e3,
            phase_rad: -1.3,
            rate_rad_per_s: 0.0,
            delay_s: -1.7e-9,
        },
        St {
            name: "L",
            complex: false,
            lsb: true,
            lo_offset_hz: 0.0,
            phase_rad: 0.4,
            rate_rad_per_s: -0.03,
            delay_s: 3.1e-9,
        },
        St {
            name: "M",
            complex: true,
            lsb: true,
            lo_offset_hz: 0.0,
            phase_rad: -3.0,
            rate_rad_per_s: 0.01,
            delay_s: -2.9e-9,
        },
    ]
}

/// Four stations, one band of `bw` each (real/complex × USB/LSB; C with its
/// LO 2.5 kHz high), 1 s, combs every bw/4 from 100 kHz (amplitude 1 %) when
/// `comb`, their own delays and clocks (which the comb must not see).
fn scenario_text(bw: f64, bits: u32, comb: bool) -> String {
    let mut t = format!(
        r#"
[job]
name = "p"
start = "2026-03-15T00:30:00Z"
duration_s = 1.0
[source]
name = "Q"
ra_deg = 291.2
dec_deg = -29.2
[simulation]
seed = 21
bits = {bits}
correlated_fraction = 0.3
[[subband]]
sky_freq_hz = {EDGE_HZ:?}
bandwidth_hz = {bw:?}
"#
    );
    let interval = bw / 4.0;
    for (i, s) in stations().iter().enumerate() {
        let edge = if s.lsb { EDGE_HZ + bw } else { EDGE_HZ };
        t += &format!(
            r#"
[[station]]
name = "{}"
delay_poly = {{ epoch = "2026-03-15T00:30:00Z", coeffs_s = [{:?}, {:?}] }}
inject_clock_offset_s = {:?}
sampling = "{}"
lo_offset_hz = {:?}
{}
[[station.instrumental]]
subband = 0
phase_rad = {:?}
phase_rate_rad_per_s = {:?}
delay_s = {:?}
[[station.subband]]
sky_freq_hz = {edge:?}
bandwidth_hz = {bw:?}
sideband = "{}"
"#,
            s.name,
            [0.0, 3.0e-4, -2.0e-4, 1.0e-4][i],
            [0.0, 3.1e-7, -1.2e-7, 2.0e-7][i],
            [0.0, 4.4e-8, -2.9e-8, 1.3e-7][i],
            if s.complex { "complex" } else { "real" },
            s.lo_offset_hz,
            if comb {
                format!(
                    "pcal = {{ interval_hz = {interval:?}, offset_hz = 1e5, amplitude = 0.01 }}"
                )
            } else {
                String::new()
            },
            s.phase_rad,
            s.rate_rad_per_s,
            s.delay_s,
            if s.lsb { "L" } else { "U" },
        );
    }
    t
}

fn run(text: &str, dir: &Path) -> serde_json::Value {
    let sc = Scenario::from_toml_str(text, Path::new("/nonexistent/p.toml")).unwrap();
    simulate(&sc, dir, Options::default()).unwrap();
    serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap()
}

fn t0() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 15, 0, 30, 0, 0.0)
}

/// (1/N)·Σ x_n·e^{−i(2π f (t_n − t0) + w (t_n − t0))} over every sample,
/// t_n = first + n/fs: the tone's complex amplitude at t0 when it is
/// e^{i(2π f (t − t0) + w (t − t0) + θ)}. Phasors restart exactly every 1024
/// samples.
fn dft(x: &[Complex64], first: UtcTime, fs: f64, f: f64, w: f64) -> Complex64 {
    let off = first.seconds_since(t0());
    let mut z = Complex64::default();
    for (c, chunk) in x.chunks(1024).enumerate() {
        let dt = off + (c * 1024) as f64 / fs;
        let mut p = Complex64::from_polar(1.0, -(TAU * (f * dt).fract() + w * dt));
        let step = Complex64::from_polar(1.0, -(TAU * f / fs + w / fs));
        for v in chunk {
            z += v * p;
            p *= step;
        }
    }
    z / x.len() as f64
}

/// Closed forms of one station's comb: tones at 1e5 + k·bw/4 strictly inside
/// its band; arg H(f, t0) = φ0 − 2π(f − f_edge)τ (f_edge its sky_freq_hz);
/// baseband frequency f − LO (USB) or LO − f (LSB), LO = edge + offset.
fn closed_tones(s: &St, bw: f64) -> Vec<(f64, f64, f64)> {
    let edge = if s.lsb { EDGE_HZ + bw } else { EDGE_HZ };
    let lo = edge + s.lo_offset_hz;
    let (l, h) = if s.lsb { (lo - bw, lo) } else { (lo, lo + bw) };
    (0..)
        .map(|k| 1e5 + k as f64 * bw / 4.0 + (EDGE_HZ - bw))
        .skip_while(|&f| f <= l)
        .take_while(|&f| f < h)
        .map(|f| {
            let bb = if s.lsb { lo - f } else { f - lo };
            (f, bb, wrap(s.phase_rad - TAU * (f - edge) * s.delay_s))
        })
        .collect()
}

/// truth.json's comb and instrumental terms against the closed forms, and
/// each tone's phase measured from the recordings. The sky and noise are
/// removed by simulating the same seed without the comb and subtracting
/// (8-bit samples: the difference holds the comb and a little quantisation
/// noise), so the convention is checked far below the 1° the issue asks
/// for: real and complex, USB and LSB, a LO offset, drifts, and the
/// stations' own delays and clocks (which the comb, locked to the station's
/// clock, must not follow).
#[test]
fn pcal_tones_read_the_instrumental_phase_of_truth_json() {
    let bw = 2e6;
    let with = tempfile::tempdir().unwrap();
    let without = tempfile::tempdir().unwrap();
    let truth = run(&scenario_text(bw, 8, true), with.path());
    run(&scenario_text(bw, 8, false), without.path());
    let mut worst: f64 = 0.0;
    for s in stations() {
        let st = &truth["stations"][s.name];
        let inst = &st["instrumental"][0];
        assert_eq!(inst["phase_rad"].as_f64(), Some(s.phase_rad));
        assert_eq!(inst["delay_s"].as_f64(), Some(s.delay_s));
        assert_eq!(
            inst["phase_rate_rad_per_s"].as_f64(),
            Some(s.rate_rad_per_s)
        );
        let tones = st["pcal"]["tones"].as_array().unwrap();
        let want = closed_tones(&s, bw);
        assert_eq!(tones.len(), want.len(), "{}", s.name);
        assert_eq!(want.len(), 4, "{}", s.name);
        let fs = if s.complex { bw } else { 2.0 * bw };
        let file = |d: &Path| d.join(format!("{}.vdif", s.name));
        let (first, x) = decode(&file(with.path()), 0, 0, fs);
        let (first0, y) = decode(&file(without.path()), 0, 0, fs);
        assert_eq!(first, first0);
        let d: Vec<Complex64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        for (t, &(f, bb, psi)) in tones.iter().zip(&want) {
            let g = |k: &str| t[k].as_f64().unwrap();
            assert_eq!(g("sky_freq_hz"), f, "{}", s.name);
            assert!((g("baseband_freq_hz") - bb).abs() < 1e-6, "{}", s.name);
            assert!(
                wrap(g("expected_phase_rad") - psi).abs() < 1e-9,
                "{}",
                s.name
            );
            assert_eq!(g("phase_rate_rad_per_s"), s.rate_rad_per_s);
            // t0 a whole second and LOs of whole hertz: the baseband phase
            // is the sky phase (LSB: negated).
            let theta = if s.lsb { -psi } else { psi };
            assert!(
                wrap(g("baseband_phase_rad") - theta).abs() < 1e-9,
                "{}",
                s.name
            );
            // The recording: the tone at its baseband frequency with phase θ
            // at t0, drifting by ±φ̇ (LSB: the conjugate).
            let w = if s.lsb {
                -s.rate_rad_per_s
            } else {
                s.rate_rad_per_s
            };
            let z = dft(&d, first, fs, bb, w);
            let err = wrap(z.arg() - theta);
            let want_amp = if s.complex { 0.01 } else { 0.005 };
            eprintln!(
                "{} ({}, {}): tone {:.4} MHz at baseband {:+.4} MHz: phase {:+8.3}° (truth {:+8.3}°), error {:+.4}°, amplitude {:.5} ({want_amp})",
                s.name,
                if s.complex { "complex" } else { "real" },
                if s.lsb { "LSB" } else { "USB" },
                f / 1e6,
                bb / 1e6,
                z.arg().to_degrees(),
                theta.to_degrees(),
                err.to_degrees(),
                z.norm()
            );
            worst = worst.max(err.abs());
            assert!(err.abs() < 1f64.to_radians(), "{}: {err}", s.name);
            assert!((z.norm() / want_amp - 1.0).abs() < 0.1, "{}", s.name);
        }
    }
    eprintln!("worst tone phase error {:.4}°", worst.to_degrees());
}

/// The issue's case as recorded: 2-bit samples, 8 MHz bands, tones of 1 %
/// of σ over 1 s, measured from the recordings alone (sky and noise
/// included). The phase noise of one tone is 1/(A·√N·η) for complex and
/// √2/(A·√N·η) for real samples (N samples, η = 0.8825 the 2-bit
/// correlation efficiency): 2.3° here, so the check is each tone within
/// 4σ and the rms within 1.5σ of truth.json.
#[test]
fn one_percent_tones_in_two_bit_recordings_match_truth_json() {
    let bw = 8e6;
    let dir = tempfile::tempdir().unwrap();
    let truth = run(&scenario_text(bw, 2, true), dir.path());
    let (mut sum2, mut n) = (0.0, 0);
    for s in stations() {
        let tones = truth["stations"][s.name]["pcal"]["tones"]
            .as_array()
            .unwrap()
            .clone();
        let fs = if s.complex { bw } else { 2.0 * bw };
        let (first, x) = decode(&dir.path().join(format!("{}.vdif", s.name)), 0, 0, fs);
        let a = 0.01;
        let sigma =
            if s.complex { 1.0 } else { 2f64.sqrt() } / (a * (x.len() as f64).sqrt() * 0.8825);
        for t in &tones {
            let g = |k: &str| t[k].as_f64().unwrap();
            let w = g("phase_rate_rad_per_s") * if s.lsb { -1.0 } else { 1.0 };
            let z = dft(&x, first, fs, g("baseband_freq_hz"), w);
            let err = wrap(z.arg() - g("baseband_phase_rad"));
            eprintln!(
                "{}: tone {:.3} MHz: error {:+.3}° ({:+.2}σ, σ = {:.2}°)",
                s.name,
                g("sky_freq_hz") / 1e6,
                err.to_degrees(),
                err / sigma,
                sigma.to_degrees()
            );
            assert!(err.abs() < 4.0 * sigma, "{}: {err}", s.name);
            sum2 += (err / sigma).powi(2);
            n += 1;
        }
    }
    let rms = (sum2 / n as f64).sqrt();
    eprintln!("{n} tones: rms error {rms:.2}σ");
    assert!(rms < 1.5, "rms {rms}σ");
}

/// Bad instrumental and comb keys: one line naming the key.
#[test]
fn bad_instrumental_and_pcal_keys_name_the_key() {
    let base = scenario_text(2e6, 2, true);
    let cases = [
        (
            base.replacen("subband = 0\nphase_rad", "subband = 1\nphase_rad", 1),
            "station[0] (R).instrumental[0].subband",
        ),
        (
            base.replacen("delay_s = 2.5e-9", "delay_s = 2.5e-3", 1),
            "station[0] (R).instrumental[0].delay_s",
        ),
        (
            base.replacen("offset_hz = 1e5", "offset_hz = 1e6", 1),
            "station[0].pcal.offset_hz",
        ),
        (
            base.replacen("interval_hz = 500000.0", "interval_hz = 0.5", 1),
            "station[0].pcal.interval_hz",
        ),
        (
            base.replacen("amplitude = 0.01", "amplitude = 0.01, phase = 1", 1),
            "station[0].pcal",
        ),
        (
            base.replacen(
                "lo_offset_hz = 0.0\n",
                "lo_offset_hz = 0.0\ninstrumental_random = { phase_deg = 270.0 }\n",
                1,
            ),
            "station[0] (R).instrumental_random.phase_deg",
        ),
        (
            base.replacen(
                "lo_offset_hz = 0.0\n",
                "lo_offset_hz = 0.0\npcal_interval_hz = 1e6\n",
                1,
            ),
            "station[0].pcal_interval_hz",
        ),
    ];
    for (text, key) in cases {
        assert_ne!(text, base, "{key}: the case changed nothing");
        let e = Scenario::from_toml_str(&text, Path::new("/nonexistent/p.toml"))
            .err()
            .unwrap_or_else(|| panic!("{key}: accepted"))
            .to_string();
        eprintln!("{e}");
        assert!(e.contains(&format!("`{key}")), "{key}: {e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}

/// `instrumental_random`: every band drawn within its ranges, the same draw
/// for the same seed, another for another seed, and a given table in place
/// of its band's draw.
#[test]
fn random_instrumental_terms_stay_in_their_ranges() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/pcal.toml"),
    )
    .unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/pcal.toml");
    let sc = Scenario::from_toml_str(&text, &path).unwrap();
    let again = Scenario::from_toml_str(&text, &path).unwrap();
    let other = Scenario::from_toml_str(&text.replace("seed = 15", "seed = 16"), &path).unwrap();
    for (s, st) in sc.sim.stations.iter().enumerate() {
        assert_eq!(st.instrumental.len(), 4);
        assert_eq!(st.instrumental, again.sim.stations[s].instrumental);
        assert_ne!(st.instrumental, other.sim.stations[s].instrumental);
        for (j, i) in st.instrumental.iter().enumerate() {
            if (s, j) == (1, 1) {
                assert_eq!(
                    (i.phase_rad, i.phase_rate_rad_per_s, i.delay_s),
                    (2.5, -0.01, -2.2e-9)
                );
                continue;
            }
            assert!(i.phase_rad.abs() <= PI && i.delay_s.abs() <= 3e-9);
            assert!(i.phase_rate_rad_per_s.abs() <= 0.5f64.to_radians());
        }
    }
    assert!(sc.sim.stations[2].pcal.is_none());
}
