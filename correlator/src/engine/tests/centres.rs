//! Several phase centres from the same samples (issue 13): recordings that
//! hold the sum of two independent sky signals, each reaching each station
//! with its own delay and rate (a quasar and a lander in one beam of an
//! Earth–Moon baseline: milliseconds of delay and a kHz of fringe rate
//! apart), correlated at both phase centres in one run. Truth is what was
//! injected: each source's residual delay and correlated fraction, and the
//! closed form of how much of the other source leaks into a centre.

use super::*;

/// One source in the beam.
#[derive(Clone, Debug)]
struct Sky {
    name: &'static str,
    /// Per station (job order): the source's model delay τ0 + rate·(g − E)
    /// and the delay error of the data against that model (`extra_s`).
    stations: Vec<SimStation>,
    /// Correlated fraction of each station's power.
    rho: f64,
}

impl Sky {
    /// Residual delay of baseline A–B of the data of this source against
    /// the model of `centre` at geocentric `g` (s from the epoch):
    /// (τ_B − τ_A)_true − (τ_B − τ_A)_model of the centre.
    fn residual_s(&self, centre: &Sky, g: f64) -> f64 {
        let true_delay = |st: &SimStation| st.tau0 + st.extra_s + st.rate * g;
        let model_delay = |st: &SimStation| st.tau0 + st.rate * g;
        (true_delay(&self.stations[1]) - true_delay(&self.stations[0]))
            - (model_delay(&centre.stations[1]) - model_delay(&centre.stations[0]))
    }

    /// d(residual)/dg.
    fn residual_rate(&self, centre: &Sky) -> f64 {
        (self.stations[1].rate - self.stations[0].rate)
            - (centre.stations[1].rate - centre.stations[0].rate)
    }
}

/// A beam with several sources: the scenario's timing, frequency setup and
/// tone count, and the skies (the scenario's own stations and ρ unused).
struct Beam {
    sc: Scenario,
    skies: Vec<Sky>,
}

impl Beam {
    /// Two sources one beam apart on an Earth–Moon-like baseline: Q
    /// (ρ = 0.3) with residual +0.37 sample on B; LANDER (ρ = 0.2) with
    /// residuals on both stations (baseline −0.37 sample), whose model
    /// delay differs from Q's by −1.2 ms on the baseline and whose rate by
    /// −1.5e-7 (a fringe rate 1.26 kHz apart at 8.4 GHz).
    fn quasar_and_lander() -> Beam {
        let mut sc = Scenario::basic();
        sc.tones = 600;
        let fs = sc.fs;
        let q = Sky {
            name: "Q",
            stations: vec![
                SimStation {
                    extra_s: 0.0,
                    ..sc.stations[0].clone()
                },
                SimStation {
                    extra_s: 0.37 / fs,
                    ..sc.stations[1].clone()
                },
            ],
            rho: 0.3,
        };
        let lander = Sky {
            name: "LANDER",
            stations: vec![
                SimStation {
                    tau0: q.stations[0].tau0 + 0.35e-3,
                    rate: q.stations[0].rate + 0.6e-7,
                    extra_s: 0.11 / fs,
                    ..q.stations[0].clone()
                },
                SimStation {
                    tau0: q.stations[1].tau0 - 0.85e-3,
                    rate: q.stations[1].rate - 0.9e-7,
                    extra_s: -0.26 / fs,
                    ..q.stations[1].clone()
                },
            ],
            rho: 0.2,
        };
        sc.stations = q.stations.clone();
        Beam {
            sc,
            skies: vec![q, lander],
        }
    }

    /// The job correlating the skies `centres` (indices into `skies`) as
    /// its phase centres, in that order. Its stations' `delay_poly` are
    /// placeholders: the models come from [`Beam::model`].
    fn job(&self, centres: &[usize]) -> Job {
        let mut job = self.sc.job();
        job.sources = centres
            .iter()
            .map(|&k| crate::job::Source {
                name: self.skies[k].name.to_string(),
                position: crate::job::SourcePosition::RaDec {
                    ra_rad: 0.1 * k as f64,
                    dec_rad: 0.2,
                },
            })
            .collect();
        job
    }

    /// The delay model of sky `k`: each station's τ0 + rate·(g − E), as a
    /// job with that source alone would give it.
    fn model_of(&self, k: usize, a: UtcTime, b: UtcTime) -> Result<ModelTracks, EngineError> {
        let mut one = self.sc.clone();
        one.stations = self.skies[k].stations.clone();
        model::build_model(&one.job(), a, b).map_err(|e| EngineError::bad(e.to_string()))
    }

    /// Per station, per subband: the samples, the sum of every sky's
    /// signal (delayed by its own truth) and the station's own noise.
    fn signals(&self) -> Vec<(i64, Vec<Vec<f64>>)> {
        let sc = &self.sc;
        let mut rng = ChaCha8Rng::seed_from_u64(sc.seed);
        let f_max = if sc.complex { sc.fs } else { sc.fs / 2.0 };
        let w = if sc.complex { 2 } else { 1 };
        let common: Vec<Vec<Vec<Tone>>> = self
            .skies
            .iter()
            .map(|sky| {
                sc.subbands
                    .iter()
                    .map(|_| tones(&mut rng, sc.tones, f_max, sky.rho))
                    .collect()
            })
            .collect();
        let own_power = 1.0 - self.skies.iter().map(|s| s.rho).sum::<f64>();
        (0..sc.stations.len())
            .map(|s| {
                // Cover every sky's span of this station.
                let spans: Vec<(i64, usize)> = self
                    .skies
                    .iter()
                    .map(|sky| sc.span(&sky.stations[s]))
                    .collect();
                let first = spans.iter().map(|x| x.0).min().unwrap();
                let end = spans.iter().map(|x| x.0 + x.1 as i64).max().unwrap();
                let len = (end - first) as usize;
                let data = sc
                    .subbands
                    .iter()
                    .enumerate()
                    .map(|(i, &(lo, sb, _, _))| {
                        let sign = if sb == "U" { 1.0 } else { -1.0 };
                        let mut out = vec![0.0; len * w];
                        for (k, sky) in self.skies.iter().enumerate() {
                            synth(
                                &mut out,
                                &common[k][i],
                                &sky.stations[s],
                                lo,
                                sign,
                                sc.complex,
                                sc.fs,
                                first,
                            );
                        }
                        let own = tones(&mut rng, sc.tones, f_max, own_power);
                        let st = &self.skies[0].stations[s];
                        synth(&mut out, &own, st, lo, sign, sc.complex, sc.fs, first);
                        out
                    })
                    .collect();
                (first, data)
            })
            .collect()
    }

    /// Correlate the skies `centres` as phase centres.
    fn run(
        &self,
        centres: &[usize],
        signals: &[(i64, Vec<Vec<f64>>)],
        threads: usize,
        sink: &mut dyn Sink,
    ) -> Summary {
        let job = self.job(centres);
        let build = |c: usize, a: UtcTime, b: UtcTime| self.model_of(centres[c], a, b);
        let opts = Options {
            threads,
            ..Options::default()
        };
        correlate_with_model(
            &job,
            self.sc.sources(signals),
            &build,
            &opts,
            sink,
            &mut |_| {},
        )
        .unwrap()
    }
}

/// Residual delay (samples) from an unweighted least-squares fit of the
/// phase slope across the band of centre `c`, baseline A–B, after removing
/// `truth_s`, with its formal error from the scatter of the phases about
/// the line: (error against the truth, σ).
fn delay_error_and_sigma(sink: &MemorySink, c: usize, truth_s: f64) -> (f64, f64) {
    let l = sink.layout.as_ref().unwrap();
    let pts: Vec<(f64, f64)> = (2..l.nchan - 2)
        .map(|j| {
            let mut v = Complex64::new(0.0, 0.0);
            for integ in &sink.integrations {
                let x = integ.vis[l.vis_index(c, 1, 0, j, 0)];
                v += Complex64::new(x.re as f64, x.im as f64);
            }
            let nu = l.channel_freq_hz(0, j);
            let ph = wrap(v.arg() - TAU * (nu * truth_s).fract());
            // Phase per sample of delay: 2π·(ν − LO)/fs.
            ((nu - l.bands[0].sky_freq_hz) / l.sample_rate_hz * TAU, ph)
        })
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let slope = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    let rss: f64 = pts
        .iter()
        .map(|p| (p.1 - my - slope * (p.0 - mx)).powi(2))
        .sum();
    (slope, (rss / (n - 2.0) / sxx).sqrt())
}

/// |D_M(x)| = |sin(πMx) / (M sin(πx))|: the magnitude of the mean of M
/// unit phasors advancing x turns each (a fringe rate over the M blocks of
/// an integration); → |sinc(M·x)| for small x.
fn dirichlet(m: f64, x: f64) -> f64 {
    if x.abs() < 1e-12 {
        return 1.0;
    }
    let p = std::f64::consts::PI;
    ((p * m * x).sin() / (m * (p * x).sin())).abs()
}

/// How much of sky `o` is in centre `c` of `sink`, measured as the
/// visibilities of centre `c`, counter-rotated by `o`'s residual phase
/// 2πν·τ_res(t) in that centre at each integration's time, averaged
/// over channels and integrations (coherently: what is left of `o`'s fringe
/// within each integration is real and positive). Returns the amplitude,
/// and what the closed form expects for white noise: ρ_o times the overlap
/// of the two stations' blocks, 1 − |τ_res|·fs/N (no overlap: 0), times
/// the fringe-rate smearing over each integration's M blocks, |D_M(ν̄·τ̇·T)|,
/// and within a block, |sinc(ν̄·τ̇·T)| (T the block, ν̄ the band centre).
fn leak(beam: &Beam, sink: &MemorySink, c: usize, o: usize) -> (f64, f64) {
    let l = sink.layout.as_ref().unwrap();
    let (centre, other) = (&beam.skies[c], &beam.skies[o]);
    let block_s = l.block_s();
    let nu_mid = l.bands[0].sky_freq_hz + l.nchan as f64 * l.chan_width_hz / 2.0;
    let fringe_hz = nu_mid * other.residual_rate(centre);
    let x = fringe_hz * block_s;
    let sinc = if x.abs() < 1e-12 {
        1.0
    } else {
        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
    };
    let mut sum = Complex64::new(0.0, 0.0);
    let mut expected = 0.0;
    for integ in &sink.integrations {
        let g = integ.time.seconds_since(epoch());
        let tau = other.residual_s(centre, g);
        let m = (integ.inttim_s / block_s).round();
        let overlap = (1.0 - tau.abs() * l.sample_rate_hz / l.fft_length as f64).max(0.0);
        expected += other.rho * overlap * dirichlet(m, x) * sinc.abs();
        let mut band = Complex64::new(0.0, 0.0);
        for j in 0..l.nchan {
            let v = integ.vis[l.vis_index(c, 1, 0, j, 0)];
            let ph = TAU * (l.channel_freq_hz(0, j) * tau).fract();
            band += Complex64::new(v.re as f64, v.im as f64) * Complex64::from_polar(1.0, -ph);
        }
        sum += band / l.nchan as f64;
    }
    let n = sink.integrations.len() as f64;
    (sum.norm() / n, expected / n)
}

#[test]
fn each_phase_centre_recovers_its_own_source_from_the_same_samples() {
    let beam = Beam::quasar_and_lander();
    let sig = beam.signals();
    let mut sink = MemorySink::default();
    let summary = beam.run(&[0, 1], &sig, 2, &mut sink);
    let l = sink.layout.clone().unwrap();
    assert_eq!(l.centres, ["Q", "LANDER"]);
    assert_eq!(sink.integrations.len(), 4);
    let fs = beam.sc.fs;
    for (c, sky) in beam.skies.iter().enumerate() {
        // Each centre sees its own source at the residual injected for it.
        let truth = sky.residual_s(sky, 0.0);
        let (err, sigma) = delay_error_and_sigma(&sink, c, truth);
        let v = coherent_mean(&sink, c, 1, 0, 0, truth);
        let other = 1 - c;
        let (x, x_expected) = leak(&beam, &sink, c, other);
        eprintln!(
            "centre {}: residual {:+.4} samples injected, error {err:+.4} ± {sigma:.4} samples; phase {:+.4} rad; amplitude {:.4} (ρ = {}); {} leaks {x:.5} (expected {x_expected:.5}: its residual there is {:+.3} ms and {:+.0} Hz)",
            sky.name,
            truth * fs,
            v.arg(),
            v.norm(),
            sky.rho,
            beam.skies[other].name,
            beam.skies[other].residual_s(sky, 0.0) * 1e3,
            l.bands[0].sky_freq_hz * beam.skies[other].residual_rate(sky),
        );
        // The other source and the stations' own signals are the noise:
        // σ ≈ 0.02–0.03 sample over 8 ms (seeds 1–8: |error|/σ at most
        // 2.4, no bias); the error is within 4σ.
        assert!(sigma < 0.03, "centre {c}: σ {sigma} samples");
        assert!(
            err.abs() < 4.0 * sigma,
            "centre {c}: delay error {err} ± {sigma} samples"
        );
        // Radiometer noise of the mean over 128 channels × 250 blocks of
        // unit-power spectra: 1/√(2·128·250) = 0.0040 per component, so
        // σ = 0.004/ρ in phase and relative amplitude (seeds 1–8: rms
        // 0.011 in amplitude/ρ − 1); within 3σ.
        let sigma_rel = 0.004 / sky.rho;
        assert!(
            v.arg().abs() < 3.0 * sigma_rel,
            "centre {c}: phase {} rad",
            v.arg()
        );
        assert!(
            (v.norm() / sky.rho - 1.0).abs() < 3.0 * sigma_rel,
            "centre {c}: amplitude {} for ρ = {}",
            v.norm(),
            sky.rho
        );
        // The other source is 1.2 ms away in delay, far beyond the 32 µs
        // FFT: its blocks at the two stations share no wavefront, so white
        // noise would leave nothing; tones, being periodic, leave a trace
        // of ~ρ/√(tones) across the band, further cut by the fringe rate.
        assert_eq!(x_expected, 0.0);
        assert!(x < 0.01, "centre {c}: the other source leaks {x}");
        // Weights are per centre and baseline.
        assert!(sink
            .integrations
            .iter()
            .all(|i| i.weights[l.weight_index(c, 1, 0, 0)] > 0.99));
    }
    let names: Vec<&str> = summary
        .baseline_weights
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["A-B@Q", "A-B@LANDER"]);
    assert_eq!(summary.centres, ["Q", "LANDER"]);
}

#[test]
fn the_other_source_leaks_by_block_overlap_and_fringe_rate_smearing() {
    // LANDER 48 samples (6 µs, 3/16 of the FFT) and 250 Hz of fringe rate
    // from Q on the baseline: the closed form of `leak` holds the amount of
    // each source in the other's centre to ρ·(13/16)·|D_M(250 Hz·T)|
    // (sinc(0.5) = 0.64 over 2 ms integrations).
    let mut beam = Beam::quasar_and_lander();
    beam.sc.tones = 1500;
    let fs = beam.sc.fs;
    let lo = beam.sc.subbands[0].0;
    let q = beam.skies[0].stations.clone();
    let l = &mut beam.skies[1].stations;
    l[0].tau0 = q[0].tau0 + 2e-6;
    l[0].rate = q[0].rate + 1e-8;
    l[1].tau0 = q[1].tau0 + 2e-6 + (48.0 + 0.37) / fs;
    l[1].rate = q[1].rate + 1e-8 + 250.0 / lo;
    let sig = beam.signals();
    let mut sink = MemorySink::default();
    beam.run(&[0, 1], &sig, 1, &mut sink);
    for (c, o) in [(0, 1), (1, 0)] {
        let (x, expected) = leak(&beam, &sink, c, o);
        eprintln!(
            "{} in centre {}: residual {:+.2} samples, {:+.1} Hz: leaks {x:.4}, closed form {expected:.4} ({:+.1}%)",
            beam.skies[o].name,
            beam.skies[c].name,
            beam.skies[o].residual_s(&beam.skies[c], 0.0) * fs,
            lo * beam.skies[o].residual_rate(&beam.skies[c]),
            (x / expected - 1.0) * 100.0
        );
        assert!(expected > 0.09 && expected < 0.17, "{expected}");
        assert!((x / expected - 1.0).abs() < 0.05, "leak {x} vs {expected}");
    }
}

/// The bits of one centre's part of an integration.
fn centre_bits(l: &Layout, i: &Integration, c: usize) -> Vec<u32> {
    let (v, w) = (l.vis_per_centre(), l.weights_per_centre());
    i.vis[c * v..(c + 1) * v]
        .iter()
        .flat_map(|z| [z.re.to_bits(), z.im.to_bits()])
        .chain(i.weights[c * w..(c + 1) * w].iter().map(|x| x.to_bits()))
        .collect()
}

#[test]
fn each_centre_is_bitwise_the_run_of_that_centre_alone_for_any_thread_count() {
    let mut beam = Beam::quasar_and_lander();
    beam.sc.tones = 60;
    // Two polarisations (cross hands), integrations over two chunks.
    beam.sc.subbands = vec![(8.4e9, "U", "R", 0), (8.4e9, "U", "L", 1)];
    beam.sc.duration_s = 0.07;
    beam.sc.integration_s = 0.03;
    let sig = beam.signals();
    let run = |centres: &[usize], threads: usize| {
        let mut sink = MemorySink::default();
        beam.run(centres, &sig, threads, &mut sink);
        sink
    };
    let both = run(&[0, 1], 2);
    let l = both.layout.clone().unwrap();
    assert_eq!(both.integrations.len(), 3);
    for (c, alone) in [run(&[0], 1), run(&[1], 1)].iter().enumerate() {
        let la = alone.layout.as_ref().unwrap();
        assert_eq!(la.centres.len(), 1);
        assert_eq!(alone.integrations.len(), both.integrations.len());
        for (a, b) in alone.integrations.iter().zip(&both.integrations) {
            assert_eq!((a.index, a.time, a.inttim_s), (b.index, b.time, b.inttim_s));
            assert!(
                centre_bits(la, a, 0) == centre_bits(&l, b, c),
                "centre {c} of a two-centre run differs from its run alone"
            );
        }
    }
    // The centres differ (they are other samples), and the order of the
    // centres is the order of the job's sources.
    let swapped = run(&[1, 0], 1);
    for (a, b) in swapped.integrations.iter().zip(&both.integrations) {
        assert!(centre_bits(&l, a, 0) != centre_bits(&l, b, 0));
        assert!(centre_bits(&l, a, 0) == centre_bits(&l, b, 1));
        assert!(centre_bits(&l, a, 1) == centre_bits(&l, b, 0));
    }
    for threads in [1, 3] {
        assert_eq!(
            run(&[0, 1], threads).integrations,
            both.integrations,
            "the two-centre output depends on the thread count ({threads})"
        );
    }
}

#[test]
fn fits_idi_has_rows_and_model_rows_per_centre_with_its_source_id() {
    let mut beam = Beam::quasar_and_lander();
    beam.sc.tones = 40;
    let sig = beam.signals();
    let mut mem = MemorySink::default();
    beam.run(&[0, 1], &sig, 1, &mut mem);
    let l = mem.layout.clone().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let read = |ids: Option<Vec<u32>>| {
        let path = dir.path().join("out.fits");
        let _ = std::fs::remove_file(&path);
        let mut idi = IdiSink::new(&path);
        let job = beam.job(&[0, 1]);
        let build = |c: usize, a: UtcTime, b: UtcTime| beam.model_of(c, a, b);
        let opts = Options {
            threads: 1,
            ..Options::default()
        };
        let mut e = Engine::prepare(&job, beam.sc.sources(&sig), &build, &opts).unwrap();
        if let Some(ids) = ids {
            e.set_source_ids(ids).unwrap();
        }
        run_in_order(e, &mut idi, &opts, &mut |_| {}).unwrap();
        formats::fitsidi::read_idi(&path).unwrap()
    };
    let f = read(None);
    let nbl = l.baselines.len();
    assert_eq!(f.rows.len(), mem.integrations.len() * 2 * nbl);
    let ids: Vec<(u32, &str)> = f
        .header
        .sources
        .iter()
        .map(|s| (s.id, s.name.as_str()))
        .collect();
    assert_eq!(ids, [(1, "Q"), (2, "LANDER")]);
    for (r, row) in f.rows.iter().enumerate() {
        let integ = &mem.integrations[r / (2 * nbl)];
        let c = (r / nbl) % 2;
        let bl = r % nbl;
        assert_eq!(row.source_id, c as u32 + 1);
        for j in 0..l.nchan {
            let v = integ.vis[l.vis_index(c, bl, 0, j, 0)];
            assert_eq!((row.vis[j][0], row.vis[j][1]), (v.re, v.im));
            assert_eq!(row.vis[j][2], integ.weights[l.weight_index(c, bl, 0, 0)]);
        }
    }
    // INTERFEROMETER_MODEL: each source's own delays, under its id.
    for (c, sky) in beam.skies.iter().enumerate() {
        let m = f
            .models
            .iter()
            .find(|m| m.antenna == 2 && m.source_id == c as u32 + 1)
            .unwrap();
        let st = &sky.stations[1];
        let want = st.tau0 + st.rate * m.time.seconds_since(epoch());
        assert!((m.gdelay_s[0][0] - want).abs() < 1e-15);
    }
    // A session maps the centres onto its catalogue.
    let f = read(Some(vec![7, 3]));
    let ids: Vec<u32> = f.header.sources.iter().map(|s| s.id).collect();
    assert_eq!(ids, [7, 3]);
    assert_eq!(f.rows[0].source_id, 7);
    assert_eq!(f.rows[nbl].source_id, 3);
    assert!(f
        .models
        .iter()
        .all(|m| m.source_id == 7 || m.source_id == 3));
}

#[test]
fn a_job_without_a_source_is_refused_in_one_line() {
    let beam = Beam::quasar_and_lander();
    let sig = beam.signals();
    let mut job = beam.job(&[]);
    job.sources.clear();
    let mut sink = MemorySink::default();
    let e = correlate(
        &job,
        beam.sc.sources(&sig),
        &Options::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, EngineError::BadInput(_)), "{e:?}");
    assert!(e.to_string().contains("key `source`"), "{e}");
}
