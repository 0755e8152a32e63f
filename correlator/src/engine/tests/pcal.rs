//! Phase-cal extraction (issue 15): a comb of tones locked to each
//! station's clock, recorded real USB, real LSB, complex USB and complex
//! double-sideband with an LO offset, in white noise; each tone must read
//! its injected amplitude and sky-frequency phase (the convention of
//! `engine::pcal`), within the closed-form scatter σ_φ = √(2/N)/A (real)
//! or √(1/N)/A (complex) for N valid samples and a tone of A (noise rms 1
//! per component).

use super::*;

const EDGE: f64 = 8.4e9;
const BW: f64 = 2e6;
const INTERVAL: f64 = 500e3;
const AMP: f64 = 0.05;

/// A drift of every tone's phase (rad/s), as a receiver warming up.
const OMEGA: f64 = 1.5;

/// The injected phase of the tone at sky frequency `f` at station time `t`
/// (seconds after the epoch): an instrumental phase that changes with
/// frequency, as a cable's does, and drifts.
fn phase_of(f: f64, t: f64) -> f64 {
    0.3 + 2.2e-6 * (f - EDGE) + OMEGA * t
}

/// (name, sampling, sideband of the recording, sample rate, LO offset).
const STATIONS: [(&str, &str, &str, f64, f64); 4] = [
    ("A", "real", "U", 4e6, 0.0),
    ("B", "real", "L", 4e6, 0.0),
    ("C", "complex", "U", 2e6, 0.0),
    ("D", "complex_dsb", "U", 2e6, 2.5e3),
];

fn job(duration_s: f64) -> Job {
    let mut t = format!(
        "[job]\nname = \"p\"\nstart = \"{}\"\nduration_s = {duration_s:?}\n\
         [correlation]\nfft_length = 256\nintegration_s = 0.25\n\
         [source]\nname = \"S\"\nra_deg = 10.0\ndec_deg = 20.0\n",
        epoch().add_seconds(1.0).to_iso8601()
    );
    for (name, sampling, sb, fs, off) in STATIONS {
        let edge = if sb == "U" { EDGE } else { EDGE + BW };
        t += &format!(
            "[[station]]\nname = \"{name}\"\nsample_rate_hz = {fs:?}\nsampling = \"{sampling}\"\nlo_offset_hz = {off:?}\n\
             delay_poly = {{ epoch = \"{EPOCH}\", coeffs_s = [0.0] }}\n\
             pcal_interval_hz = {INTERVAL:?}\n\
             [[station.subband]]\nsky_freq_hz = {edge:?}\nbandwidth_hz = {BW:?}\nsideband = \"{sb}\"\n"
        );
    }
    t += &format!("[[subband]]\nsky_freq_hz = {EDGE:?}\nbandwidth_hz = {BW:?}\nsideband = \"U\"\n");
    Job::from_toml_str(&t, Path::new("/tmp/pcal-job.toml")).unwrap()
}

/// Station time t = n/fs from the epoch (a whole second). Tone k at sky
/// f_k = k·interval has phase 2π f_k t + φ(f_k) at the feed; the recording
/// holds it mixed with the LO (phase 0 at the epoch): baseband
/// σ(f_k − f_LO) with phase σ(2π(f_k − f_LO) t + φ) (LSB conjugates).
fn sources(seconds: f64) -> Vec<Box<dyn SampleSource>> {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let tones: Vec<f64> = (1..4).map(|k| EDGE + k as f64 * INTERVAL).collect();
    STATIONS
        .iter()
        .enumerate()
        .map(|(s, &(_, sampling, sb, fs, off))| {
            let complex = sampling != "real";
            let lo = match (sampling, sb) {
                ("complex_dsb", _) => EDGE + BW / 2.0 + off,
                (_, "U") => EDGE + off,
                _ => EDGE + BW + off,
            };
            let sign = if sb == "L" { -1.0 } else { 1.0 };
            let first = (0.9 * fs) as i64;
            let len = ((seconds + 0.2) * fs) as usize;
            let w = if complex { 2 } else { 1 };
            let mut x = vec![0.0f32; len * w];
            for k in 0..len {
                let n = first + k as i64;
                let (mut re, mut im) = (
                    rng.random_range(-1.732..1.732f64),
                    rng.random_range(-1.732..1.732f64),
                );
                for &f in &tones {
                    // Whole Hz times whole samples: exact cycles in f64.
                    let cyc = ((f - lo) * n as f64 / fs).rem_euclid(1.0);
                    let arg = sign * (TAU * cyc + phase_of(f, n as f64 / fs));
                    re += AMP * arg.cos();
                    im += AMP * arg.sin();
                }
                x[k * w] = re as f32;
                if complex {
                    x[k * w + 1] = im as f32;
                }
            }
            let info = StreamInfo {
                station_id: s as u16,
                threads: vec![0],
                channels: 1,
                bits: 32,
                complex,
                frame_bytes: 8032,
                samples_per_frame: 1000,
                sample_rate_hz: fs,
                sample_rate_inferred: false,
            };
            Box::new(MemorySource::new(info, epoch(), first).with_channel(0, 0, x, None))
                as Box<dyn SampleSource>
        })
        .collect()
}

#[test]
fn pcal_tones_read_their_injected_sky_phase_for_every_sampling_and_sideband() {
    let mut sink = MemorySink::default();
    correlate(
        &job(0.5),
        sources(0.5),
        &Options::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let l = sink.layout.as_ref().unwrap();
    assert_eq!(l.pcal_slots(), 3);
    assert_eq!(sink.integrations.len(), 2);
    for int in &sink.integrations {
        for (s, &(name, sampling, sb, fs, _)) in STATIONS.iter().enumerate() {
            assert!(
                (int.pcal_valid[s] - 1.0).abs() < 1e-3,
                "{name}: valid {}",
                int.pcal_valid[s]
            );
            let n = fs * int.inttim_s;
            let sigma = if sampling == "real" {
                (2.0 / n).sqrt()
            } else {
                (1.0 / n).sqrt()
            } / AMP;
            // The mean over the integration of a linear drift: the phase at
            // its centre (no delay here: station time = geocentric).
            let t_mid = int.time.seconds_since(epoch());
            for (k, &f) in l.pcal_tones[s][0].iter().enumerate() {
                let c = int.pcal[s * l.pcal_slots() + k];
                let err = wrap(c.arg() as f64 - phase_of(f, t_mid));
                let amp = c.norm() as f64;
                eprintln!(
                    "{name} ({sampling} {sb}) {f} Hz: amplitude {amp:.4} (injected {AMP}), phase error {:+.3}° (σ {:.3}°)",
                    err.to_degrees(),
                    sigma.to_degrees()
                );
                assert!(
                    err.abs() < 4.0 * sigma,
                    "{name} {f}: phase error {err:+.4} rad"
                );
                // A drift of ω over T lowers the mean by sinc(ωT/2).
                let x = OMEGA * int.inttim_s / 2.0;
                let want_amp = AMP * x.sin() / x;
                assert!(
                    (amp / want_amp - 1.0).abs() < 4.0 * sigma + 0.01,
                    "{name} {f}: amplitude {amp}"
                );
            }
        }
    }
    // PC_RATE of the second integration's rows: the drift as a delay rate,
    // ω/(2πν), within 4σ (σ = √2·σ_φ/(2πνΔt)).
    let rows = crate::engine::pcal::rows(l, &sink.integrations[1], Some(&sink.integrations[0]));
    assert_eq!(rows.len(), 4);
    for (row, &(name, sampling, _, fs, _)) in rows.iter().zip(STATIONS.iter()) {
        let k_s = if sampling == "real" { 2.0 } else { 1.0 };
        let sigma_phi = (k_s / (fs * 0.25)).sqrt() / AMP;
        for (k, &nu) in row.freq_hz[0][0].iter().enumerate() {
            let want = OMEGA / (TAU * nu);
            let sigma = 2f64.sqrt() * sigma_phi / (TAU * nu * 0.25);
            let got = row.rate[0][0][k] as f64;
            eprintln!("{name} {nu} Hz: PC_RATE {got:.4e} s/s, drift {want:.4e} (σ {sigma:.1e})");
            assert!(
                (got - want).abs() < 4.0 * sigma,
                "{name} {nu}: rate {got:e}, want {want:e}"
            );
        }
    }
}
