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
    recordings(seconds)
        .into_iter()
        .map(|(info, first, x)| {
            Box::new(MemorySource::new(info, epoch(), first).with_channel(0, 0, x, None))
                as Box<dyn SampleSource>
        })
        .collect()
}

/// What [`sources`] holds: per station, its stream, first sample and
/// samples (kept by a test that correlates them more than once).
fn recordings(seconds: f64) -> Vec<(StreamInfo, i64, Vec<f32>)> {
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
            let info = super::memory_info(s as u16, vec![0], 32, complex, fs);
            (info, first, x)
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

/// Keeps what it is given, and at `begin` puts `done` in the output
/// first, as `emcorr correlate --resume` replays its checkpoint.
struct Replaying {
    done: Vec<Integration>,
    out: MemorySink,
}

impl Sink for Replaying {
    fn begin(&mut self, h: &RunHeader) -> Result<(), EngineError> {
        self.out.begin(h)?;
        for i in &self.done {
            self.out.write(h.layout, i)?;
        }
        Ok(())
    }
    fn write(&mut self, l: &Layout, i: &Integration) -> Result<(), EngineError> {
        self.out.write(l, i)
    }
    fn pcal(&mut self, rows: Vec<formats::fitsidi::PcalRow>) -> Result<(), EngineError> {
        self.out.pcal(rows)
    }
    fn replayed(&self) -> &[Integration] {
        &self.done
    }
    fn finish(&mut self) -> Result<(), EngineError> {
        self.out.finish()
    }
}

/// A run from integration k whose sink replayed the first k gives the
/// phase-cal rows of a run from the start, PC_RATE included: k = 2 of 3
/// (rows of the replayed ones, the second's rate from the first, the
/// third's from the second) and k = 3 (nothing computed, as a session's
/// finished scan).
#[test]
fn a_resumed_run_gives_the_phase_cal_rows_of_a_run_from_the_start() {
    let recs = recordings(0.75);
    let sources = || -> Vec<Box<dyn SampleSource>> {
        recs.iter()
            .map(|(info, first, x)| {
                Box::new(
                    MemorySource::new(info.clone(), epoch(), *first).with_channel(
                        0,
                        0,
                        x.clone(),
                        None,
                    ),
                ) as Box<dyn SampleSource>
            })
            .collect()
    };
    let mut full = MemorySink::default();
    correlate(
        &job(0.75),
        sources(),
        &Options::default(),
        &mut full,
        &mut |_| {},
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let n = full.integrations.len();
    assert_eq!(n, 3);
    assert_eq!(full.pcal.len(), 4 * n);
    // Every row after the first integration's has a rate (the drift).
    assert!(full.pcal[4..].iter().all(|r| r.rate[0][0][0] != 0.0));
    for k in [2, n] {
        let mut sink = Replaying {
            done: full.integrations[..k].to_vec(),
            out: MemorySink::default(),
        };
        let opts = Options {
            first_integration: k as u64,
            ..Options::default()
        };
        correlate(&job(0.75), sources(), &opts, &mut sink, &mut |_| {})
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sink.out.integrations, full.integrations, "resumed at {k}");
        assert_eq!(sink.out.pcal, full.pcal, "resumed at {k}");
    }
}
/// The figure: 1 % tones (A = 0.01 of the noise rms) extracted over
/// 1 s from a VGOS-like 32 MHz real band (64 Ms/s) and from a 64 MHz
/// complex one (64 Ms/s), Gaussian noise 2-bit quantised (the optimum
/// thresholds, as [`quantise`]): every tone's phase against the injected
/// one. A comb every 1 MHz (VGOS's is 5 MHz; more tones make the rms a
/// better estimate, and each tone is still 1 %): 32 and 64 tones.
///
/// The closed form is σ_φ = √(k/N)/A (k = 2 real, 1 complex). The 2-bit
/// quantiser passes a small signal with the gain E[x·q(x)]/(σ_x·σ_q) =
/// 0.9394 (its square, 0.88, is a baseline's efficiency) and its
/// distortion is white for white input, so a tone reads |c| ≈ 0.94·A in
/// rms units and its phase scatters by √(k/N)/|c|: each tone is held to
/// that σ and the rms to 0.7–1.4 of it (both ratios are printed). Per
/// tone: within 4σ, and at most one of a band's tones beyond 3σ (a bare
/// 3σ bound fails by chance one run in four or five over 96 tones: with
/// this seed one complex tone lies at 3.1σ). Seeds 1–5 gave rms ratios
/// 0.84–1.22 (real) and 0.87–1.14 (complex), and 0.75 and 1.06 here.
///
/// Ignored (run with `--ignored`): up to 0.6 GB of samples, 12 s in a
/// release build on a 2-core machine shared with other builds (load 11),
/// most of it the synthesis.
#[test]
#[ignore]
fn one_percent_tones_over_one_second_at_vgos_bandwidths() {
    use rand_distr::StandardNormal;
    const A: f64 = 0.01;
    // The quantiser's small-signal gain (see above): 2(φ(0) − φ(v) +
    // 3.3359·φ(v)) / √(P₁ + 3.3359²·(1 − P₁)), v = 0.98, P₁ = P(|x| < v).
    const GAIN: f64 = 0.9394;
    const LO: f64 = 3.0324e9;
    const COMB: f64 = 1e6;
    const OFFSET: f64 = 1e4;
    let fs = 64e6;
    for (sampling, bw) in [("real", 32e6), ("complex", 64e6)] {
        let t0 = std::time::Instant::now();
        let complex = sampling == "complex";
        let text = format!(
            "[job]\nname = \"p\"\nstart = \"{}\"\nduration_s = 1.0\n\
             [correlation]\nfft_length = 1024\nintegration_s = 1.0\n\
             [source]\nname = \"S\"\nra_deg = 10.0\ndec_deg = 20.0\n\
             [[station]]\nname = \"A\"\nsample_rate_hz = {fs:?}\nsampling = \"{sampling}\"\n\
             delay_poly = {{ epoch = \"{EPOCH}\", coeffs_s = [0.0] }}\n\
             pcal_interval_hz = {COMB:?}\npcal_offset_hz = {OFFSET:?}\n\
             [[subband]]\nsky_freq_hz = {LO:?}\nbandwidth_hz = {bw:?}\nsideband = \"U\"\n",
            epoch().add_seconds(1.0).to_iso8601()
        );
        let job = Job::from_toml_str(&text, Path::new("/tmp/pcal-vgos.toml")).unwrap();
        // Tones strictly inside the band, each with its own phase.
        let tones: Vec<(f64, f64)> = crate::engine::pcal::comb_in(COMB, OFFSET, LO, LO + bw)
            .into_iter()
            .enumerate()
            .map(|(k, f)| (f, wrap(0.7 + 2.3 * k as f64 + 0.11 * (k * k) as f64)))
            .collect();
        // Every baseband frequency is a whole number of 10 kHz: the comb
        // repeats after P samples, so one period is tabulated.
        let fb: Vec<f64> = tones.iter().map(|t| t.0 - LO).collect();
        let p = crate::engine::pcal::fold_period(fs, &fb).unwrap();
        let table: Vec<(f64, f64)> = (0..p)
            .map(|n| {
                tones.iter().fold((0.0, 0.0), |(re, im), &(f, ph)| {
                    let arg = TAU * ((f - LO) * n as f64 / fs).rem_euclid(1.0) + ph;
                    (re + A * arg.cos(), im + A * arg.sin())
                })
            })
            .collect();
        // Noise of rms 1 per component; the tones add A²/2 each.
        let sigma = (1.0 + tones.len() as f64 * A * A / 2.0).sqrt();
        let first = (0.9 * fs) as i64;
        let len = (1.2 * fs) as usize;
        let w = if complex { 2 } else { 1 };
        let mut rng = ChaCha8Rng::seed_from_u64(115);
        let mut x = Vec::with_capacity(len * w);
        for k in 0..len {
            // P divides fs, so whole seconds fall on the table's start.
            let (re, im) = table[(first + k as i64) as usize % p];
            let nr: f64 = rng.sample(StandardNormal);
            x.push(quantise_2bit(re + nr, sigma));
            if complex {
                let ni: f64 = rng.sample(StandardNormal);
                x.push(quantise_2bit(im + ni, sigma));
            }
        }
        let synth_s = t0.elapsed().as_secs_f64();
        let info = super::memory_info(0, vec![0], 2, complex, fs);
        let src = MemorySource::new(info, epoch(), first).with_channel(0, 0, x, None);
        let mut sink = MemorySink::default();
        correlate(
            &job,
            vec![Box::new(src)],
            &Options::default(),
            &mut sink,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let l = sink.layout.as_ref().unwrap();
        assert_eq!(sink.integrations.len(), 1);
        let int = &sink.integrations[0];
        assert_eq!(l.pcal_tones[0][0].len(), tones.len());
        let n = fs * int.inttim_s;
        let closed = (if complex { 1.0 } else { 2.0 } / n).sqrt();
        let (mut sum2, mut sum_amp, mut beyond_3) = (0.0, 0.0, 0usize);
        for (k, &(f, ph)) in tones.iter().enumerate() {
            let c = int.pcal[k];
            let err = wrap(c.arg() as f64 - ph);
            let amp = c.norm() as f64;
            let s = closed / amp;
            beyond_3 += usize::from(err.abs() > 3.0 * s);
            assert!(
                err.abs() < 4.0 * s,
                "{sampling}, {f} Hz: phase error {:+.3}° (σ {:.3}°), |c| {amp:.5}",
                err.to_degrees(),
                s.to_degrees()
            );
            sum2 += err * err;
            sum_amp += amp;
        }
        let rms = (sum2 / tones.len() as f64).sqrt();
        let mean_amp = sum_amp / tones.len() as f64;
        let (s_a, s_c) = (closed / A, closed / mean_amp);
        eprintln!(
            "{sampling} {} MHz band, {} tones of 1 %, 1 s: rms phase error {:.3}° = {:.2} × √(k/N)/A ({:.3}°), {:.2} × √(k/N)/|c| ({:.3}°; mean |c| {mean_amp:.5}); synthesis {synth_s:.1} s, in all {:.1} s",
            bw / 1e6,
            tones.len(),
            rms.to_degrees(),
            rms / s_a,
            s_a.to_degrees(),
            rms / s_c,
            s_c.to_degrees(),
            t0.elapsed().as_secs_f64()
        );
        assert!(
            beyond_3 <= 1,
            "{sampling}: {beyond_3} of {} tones beyond 3σ",
            tones.len()
        );
        assert!((mean_amp / A - GAIN).abs() < 0.015, "mean |c| {mean_amp}");
        assert!((0.7..1.4).contains(&(rms / s_c)), "rms {:.2}σ", rms / s_c);
    }
}
