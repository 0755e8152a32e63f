//! Stations that record differently (issue 14): other sample rates, real
//! against complex, LSB against USB, complex double-sideband with an LO
//! offset, oversampled real data. Each station's recording is synthesised
//! here from its definition — sky tones mixed with the station's own LO
//! (on station time) into its sideband, through its ideal filter, plus
//! tones of its own — and the truth is what was injected: the delay error
//! of the data and, per output band, the correlation coefficient
//! Σ common power / √(Σ power at A · Σ power at B) of the tones in it.

use super::*;

/// One subband a test station records.
#[derive(Clone, Debug)]
struct Rec {
    /// Band edge (lower for USB and DSB, upper for LSB), Hz.
    sky_hz: f64,
    bw_hz: f64,
    sideband: &'static str,
    thread: u16,
}

#[derive(Clone, Debug)]
struct HStation {
    sim: SimStation,
    fs: f64,
    /// "real", "complex" or "complex_dsb".
    sampling: &'static str,
    lo_offset_hz: f64,
    recs: Vec<Rec>,
    /// Write the recordings as [[station.subband]] (else they are the job's).
    own: bool,
}

impl HStation {
    fn complex(&self) -> bool {
        self.sampling != "real"
    }
}

/// A job whose stations record differently; output bands are `outputs`.
#[derive(Clone, Debug)]
struct Hetero {
    n: usize,
    integration_s: f64,
    start_s: f64,
    duration_s: f64,
    stations: Vec<HStation>,
    /// (sky_freq_hz, sideband, bandwidth_hz, thread)
    outputs: Vec<(f64, &'static str, f64, u16)>,
    /// Common sky tones over this sky range (Hz), and their count.
    sky: (f64, f64),
    common_tones: usize,
    /// Each station has as many own tones per Hz of recorded band as
    /// there are common ones (equal amplitudes): ρ ≈ 0.5.
    seed: u64,
}

/// A sky tone: frequency, amplitude, phase (cycles).
#[derive(Clone, Copy, Debug)]
struct SkyTone {
    nu: f64,
    amp: f64,
    theta: f64,
}

fn station(name: &str, tau0: f64, rate: f64, extra_s: f64) -> SimStation {
    SimStation {
        name: name.into(),
        tau0,
        rate,
        extra_s,
        origin_s: 0,
    }
}

/// `k` tones stratified over [lo, hi): one per slot of (hi − lo)/k at a
/// random place inside it, so every band receives its exact share.
fn stratified(rng: &mut ChaCha8Rng, k: usize, lo: f64, hi: f64) -> Vec<SkyTone> {
    let slot = (hi - lo) / k as f64;
    (0..k)
        .map(|i| SkyTone {
            nu: lo + (i as f64 + rng.random_range(0.05..0.95)) * slot,
            amp: 1.0,
            theta: rng.random_range(0.0..1.0),
        })
        .collect()
}

impl Hetero {
    fn job(&self) -> Job {
        let mut t = format!(
            "[job]\nname = \"h\"\nstart = \"{}\"\nduration_s = {:?}\n\
             [correlation]\nfft_length = {}\nintegration_s = {:?}\n\
             [source]\nname = \"S\"\nra_deg = 10.0\ndec_deg = 20.0\n",
            epoch().add_seconds(self.start_s).to_iso8601(),
            self.duration_s,
            self.n,
            self.integration_s
        );
        for s in &self.stations {
            t += &format!(
                "[[station]]\nname = \"{}\"\nsample_rate_hz = {:?}\nsampling = \"{}\"\nlo_offset_hz = {:?}\n\
                 delay_poly = {{ epoch = \"{EPOCH}\", coeffs_s = [{:?}, {:?}] }}\n",
                s.sim.name, s.fs, s.sampling, s.lo_offset_hz, s.sim.tau0, s.sim.rate
            );
            if s.own {
                for r in &s.recs {
                    t += &format!(
                        "[[station.subband]]\nsky_freq_hz = {:?}\nbandwidth_hz = {:?}\nsideband = \"{}\"\npol = \"R\"\nthread = {}\n",
                        r.sky_hz, r.bw_hz, r.sideband, r.thread
                    );
                }
            }
        }
        for (f, sb, bw, th) in &self.outputs {
            t += &format!(
                "[[subband]]\nsky_freq_hz = {f:?}\nbandwidth_hz = {bw:?}\nsideband = \"{sb}\"\npol = \"R\"\nthread = {th}\n"
            );
        }
        Job::from_toml_str(&t, Path::new("/tmp/hetero-job.toml")).unwrap()
    }

    /// The nominal LO of a recording (its band edge; DSB: its centre) and
    /// the sign σ with which sky frequency maps to baseband.
    fn lo_and_sign(st: &HStation, r: &Rec) -> (f64, f64) {
        if st.sampling == "complex_dsb" {
            (r.sky_hz + r.bw_hz / 2.0, 1.0)
        } else if r.sideband == "U" {
            (r.sky_hz, 1.0)
        } else {
            (r.sky_hz, -1.0)
        }
    }

    /// Baseband passband of a recording, Hz.
    fn passband(st: &HStation, r: &Rec) -> (f64, f64) {
        if st.sampling == "complex_dsb" {
            (-r.bw_hz / 2.0, r.bw_hz / 2.0)
        } else {
            (0.0, r.bw_hz)
        }
    }

    /// Common tones and, per station and recording, its own tones (as sky
    /// frequencies, so that bands can count them).
    #[allow(clippy::type_complexity)]
    fn tones(&self) -> (Vec<SkyTone>, Vec<Vec<Vec<SkyTone>>>) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let common = stratified(&mut rng, self.common_tones, self.sky.0, self.sky.1);
        let density = self.common_tones as f64 / (self.sky.1 - self.sky.0);
        let own = self
            .stations
            .iter()
            .map(|st| {
                st.recs
                    .iter()
                    .map(|r| {
                        let (lo, sign) = Self::lo_and_sign(st, r);
                        let (a, b) = Self::passband(st, r);
                        let k = ((b - a) * density).round() as usize;
                        stratified(&mut rng, k, a, b)
                            .into_iter()
                            .map(|t| SkyTone {
                                nu: lo + sign * t.nu,
                                ..t
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        (common, own)
    }

    /// Samples of every station's recordings: (first index, per recording
    /// samples), sky tones mixed with the station's actual LO
    /// (nominal + lo_offset_hz) on station time t, where the wavefront of
    /// geocentric g arrives at t = g + τ(g):
    /// phase = σ·[(ν − f_LO)·t − ν·τ + θ] (σ = −1: LSB keeps the
    /// conjugate), only tones whose baseband frequency σ(ν − f_LO) lies in
    /// the passband; own tones likewise, but without delay.
    fn signals(&self) -> Vec<(i64, Vec<Vec<f32>>)> {
        let (common, own) = self.tones();
        self.stations
            .iter()
            .enumerate()
            .map(|(s, st)| {
                let sim = &st.sim;
                let fs = st.fs;
                let t_first = self.start_s + sim.tau0 + sim.extra_s - sim.origin_s as f64;
                let first = ((t_first - 2e-4) * fs).floor() as i64;
                let len = ((self.duration_s * (1.0 + sim.rate.abs()) + 4e-4) * fs) as usize;
                let w = if st.complex() { 2 } else { 1 };
                let data = st
                    .recs
                    .iter()
                    .enumerate()
                    .map(|(ri, r)| {
                        let (lo_nom, sign) = Self::lo_and_sign(st, r);
                        let lo = lo_nom + st.lo_offset_hz;
                        let (pa, pb) = Self::passband(st, r);
                        let mut out = vec![0.0f64; len * w];
                        let t0 = sim.origin_s as f64 + first as f64 / fs;
                        let tau0 = sim.tau0 + sim.extra_s;
                        let g0 = (t0 - tau0) / (1.0 + sim.rate);
                        let dg = 1.0 / (fs * (1.0 + sim.rate));
                        let mut add = |tone: &SkyTone, delayed: bool| {
                            let f = sign * (tone.nu - lo);
                            if !(f > pa && f < pb) {
                                return;
                            }
                            // cycles(n) = σ[(ν − f_LO)·t_n − ν·τ(g_n) + θ], linear in n.
                            let (mut a, mut b) =
                                ((tone.nu - lo) * t0 + tone.theta, (tone.nu - lo) / fs);
                            if delayed {
                                let c = tone.nu * tau0;
                                a -= c - c.floor() + tone.nu * sim.rate * g0;
                                b -= tone.nu * sim.rate * dg;
                            }
                            let (a, b) = (sign * a, sign * b);
                            // Exact phase every 256 samples, a rotation between.
                            let (sb, cb) = (TAU * (b - b.round())).sin_cos();
                            let mut n = 0;
                            while n < len {
                                let c = a + b * n as f64;
                                let (mut sn, mut cs) = (TAU * (c - c.floor())).sin_cos();
                                for k in n..(n + 256).min(len) {
                                    if w == 2 {
                                        out[2 * k] += tone.amp * cs;
                                        out[2 * k + 1] += tone.amp * sn;
                                    } else {
                                        out[k] += tone.amp * cs;
                                    }
                                    (cs, sn) = (cs * cb - sn * sb, cs * sb + sn * cb);
                                }
                                n += 256;
                            }
                        };
                        for t in &common {
                            add(t, true);
                        }
                        for t in &own[s][ri] {
                            add(t, false);
                        }
                        out.iter().map(|&v| v as f32).collect()
                    })
                    .collect();
                (first, data)
            })
            .collect()
    }

    fn sources(&self, signals: &[(i64, Vec<Vec<f32>>)]) -> Vec<Box<dyn SampleSource>> {
        self.stations
            .iter()
            .zip(signals)
            .enumerate()
            .map(|(s, (st, (first, data)))| {
                let info = super::memory_info(
                    s as u16,
                    st.recs.iter().map(|r| r.thread).collect(),
                    32,
                    st.complex(),
                    st.fs,
                );
                let mut src = MemorySource::new(info, epoch(), *first);
                for (r, d) in st.recs.iter().zip(data) {
                    src = src.with_channel(r.thread, 0, d.clone(), None);
                }
                Box::new(src) as Box<dyn SampleSource>
            })
            .collect()
    }

    fn run(&self, threads: usize) -> (MemorySink, Summary) {
        let sig = self.signals();
        let mut sink = MemorySink::default();
        let opts = Options {
            threads,
            ..Options::default()
        };
        let summary = correlate(
            &self.job(),
            self.sources(&sig),
            &opts,
            &mut sink,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{e}"));
        (sink, summary)
    }

    fn error(&self) -> String {
        let sig = self.signals();
        let mut sink = MemorySink::default();
        let e = correlate(
            &self.job(),
            self.sources(&sig),
            &Options::default(),
            &mut sink,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(e, EngineError::BadInput(_)), "{e:?}");
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        text
    }

    /// The injected correlation coefficient of stations a, b in output
    /// band `band`: the tones of its sky range.
    fn expected_rho(&self, a: usize, b: usize, band: usize) -> f64 {
        let (common, own) = self.tones();
        let (o, sb, bw, _) = self.outputs[band];
        let (lo, hi) = if sb == "U" { (o, o + bw) } else { (o - bw, o) };
        let inside = |nu: f64| nu > lo && nu < hi;
        // A station hears a common tone if a recording of it passes it.
        let hears = |s: usize, nu: f64| {
            let st = &self.stations[s];
            st.recs.iter().any(|r| {
                let (l, sign) = Self::lo_and_sign(st, r);
                let f = sign * (nu - l - st.lo_offset_hz);
                let (pa, pb) = Self::passband(st, r);
                f > pa && f < pb
            })
        };
        let pc: f64 = common
            .iter()
            .filter(|t| inside(t.nu) && hears(a, t.nu) && hears(b, t.nu))
            .map(|t| t.amp * t.amp)
            .sum();
        let power = |s: usize| -> f64 {
            let c: f64 = common
                .iter()
                .filter(|t| inside(t.nu) && hears(s, t.nu))
                .map(|t| t.amp * t.amp)
                .sum();
            // Own tones lie at sky frequency ν (their baseband frequency
            // is taken from the actual LO, as the common tones').
            let o: f64 = own[s]
                .iter()
                .flatten()
                .filter(|t| inside(t.nu) && hears(s, t.nu))
                .map(|t| t.amp * t.amp)
                .sum();
            c + o
        };
        pc / (power(a) * power(b)).sqrt()
    }
}

/// Residual delay of baseline `bl`, `band` after removing the expected
/// delay: a least-squares slope of the per-channel phase (summed over
/// integrations) against sky frequency, with its formal error from the
/// scatter of the phases about the line. Also the coherent mean
/// (phase, amplitude) over the band. Edge channels left out.
fn fit(sink: &MemorySink, bl: usize, band: usize, expected_s: f64) -> (f64, f64, f64, f64) {
    let l = sink.layout.as_ref().unwrap();
    let mut pts = Vec::new();
    let mut mean = Complex64::new(0.0, 0.0);
    let mut count = 0.0;
    for j in 2..l.nchan - 2 {
        let mut v = Complex64::new(0.0, 0.0);
        for integ in &sink.integrations {
            let x = integ.vis[l.vis_index(0, bl, band, j, 0)];
            v += Complex64::new(x.re as f64, x.im as f64);
        }
        v /= sink.integrations.len() as f64;
        let nu = l.channel_freq_hz(band, j);
        let rot = Complex64::from_polar(1.0, -TAU * (nu * expected_s).fract());
        mean += v * rot;
        count += 1.0;
        pts.push((
            nu - l.bands[band].sky_freq_hz,
            wrap(v.arg() - TAU * (nu * expected_s).fract()),
        ));
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let slope = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    let res: f64 = pts
        .iter()
        .map(|p| (p.1 - my - slope * (p.0 - mx)).powi(2))
        .sum::<f64>()
        / (n - 2.0);
    let sigma = (res / sxx).sqrt();
    let mean = mean / count;
    (slope / TAU, sigma / TAU, mean.arg(), mean.norm())
}

/// Checks a cross baseline's band against the injection: delay within 3σ,
/// phase within 3σ (σ_φ from the channel scatter), amplitude within 2 %.
fn check_band(h: &Hetero, sink: &MemorySink, a: usize, b: usize, band: usize, label: &str) {
    let l = sink.layout.as_ref().unwrap();
    let bl = l.baselines.iter().position(|&x| x == (a, b)).unwrap();
    let expected = h.stations[b].sim.extra_s - h.stations[a].sim.extra_s;
    let (d, sd, phase, amp) = fit(sink, bl, band, expected);
    let rho = h.expected_rho(a, b, band);
    // σ of the mean phase = per-channel scatter s / √n, and the slope's
    // σ = s / √Σ(x − x̄)², Σ(x − x̄)² ≈ n·span²/12.
    let nch = (l.nchan - 4) as f64;
    let bw = l.chan_width_hz * nch;
    // Adjacent channels are not independent (a tone between two channels
    // lands in both): σ from the channel scatter is inflated by √2.
    let sigma_phase = std::f64::consts::SQRT_2 * TAU * sd * bw / 12f64.sqrt();
    let sd = std::f64::consts::SQRT_2 * sd;
    eprintln!(
        "{label}: band {band}: delay error {:+.3} ns ({:+.2}σ, σ {:.3} ns), phase {phase:+.4} rad (σ {sigma_phase:.4}), amplitude {amp:.4} / expected {rho:.4} = {:.4}",
        d * 1e9,
        d / sd,
        sd * 1e9,
        amp / rho
    );
    assert!(
        (d / sd).abs() < 3.0,
        "{label}: delay error {d} s = {}σ",
        d / sd
    );
    assert!(
        phase.abs() < 3.0 * sigma_phase.max(0.005),
        "{label}: phase {phase} rad"
    );
    assert!(
        (amp / rho - 1.0).abs() < 0.02,
        "{label}: amplitude {amp} vs {rho}"
    );
    for integ in &sink.integrations {
        assert_eq!(
            integ.weights[l.weight_index(0, bl, band, 0)],
            1.0,
            "{label}"
        );
    }
}

/// Two stations on a common timing: A as the scenario's first, B with a
/// residual delay of +0.37 of A's samples.
fn pair(fs_a: f64) -> (SimStation, SimStation) {
    (
        station("A", 0.012_345_678_9, 1.1e-6, 0.0),
        station("B", -0.004_321_987_6, -2.3e-6, 0.37 / fs_a),
    )
}

fn base(stations: Vec<HStation>, outputs: Vec<(f64, &'static str, f64, u16)>) -> Hetero {
    Hetero {
        n: 128,
        integration_s: 4e-3,
        start_s: 0.1,
        duration_s: 16e-3,
        stations,
        outputs,
        sky: (8.396e9, 8.408e9),
        common_tones: 900,
        seed: 14,
    }
}

fn rec(sky_hz: f64, bw_hz: f64, sideband: &'static str, thread: u16) -> Rec {
    Rec {
        sky_hz,
        bw_hz,
        sideband,
        thread,
    }
}

/// 2 × 2 MHz real USB (4 Ms/s) against one 8 MHz complex USB recording
/// (8 Ms/s) covering both: N = 128 and 256, each output band 64 channels
/// taken from the wide spectrum at channel offsets 64 and 128.
fn real_pair_against_wide_complex() -> Hetero {
    let (a, b) = pair(4e6);
    base(
        vec![
            HStation {
                sim: a,
                fs: 4e6,
                sampling: "real",
                lo_offset_hz: 0.0,
                recs: vec![rec(8.400e9, 2e6, "U", 0), rec(8.402e9, 2e6, "U", 1)],
                own: false,
            },
            HStation {
                sim: b,
                fs: 8e6,
                sampling: "complex",
                lo_offset_hz: 0.0,
                recs: vec![rec(8.398e9, 8e6, "U", 0)],
                own: true,
            },
        ],
        vec![(8.400e9, "U", 2e6, 0), (8.402e9, "U", 2e6, 1)],
    )
}

#[test]
fn real_subbands_against_one_wide_complex_recording() {
    let h = real_pair_against_wide_complex();
    let (sink, summary) = h.run(2);
    let l = sink.layout.as_ref().unwrap();
    assert_eq!(l.station_fft_length, vec![128, 256]);
    assert_eq!(l.nchan, 64);
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    for band in 0..2 {
        check_band(&h, &sink, 0, 1, band, "real 2×2 MHz vs complex 8 MHz");
    }
    // The output does not depend on the thread count.
    let (one, _) = h.run(1);
    assert_eq!(one.integrations, sink.integrations);
}

#[test]
fn large_station_ffts_shared_by_stage_give_the_one_thread_bits() {
    // Station FFTs of 4096 and 8192 points: the largest sets the cut, so
    // 2, 3 and 5 threads share chunks by stage, the station tasks per
    // (block, station, recording): B's one 8 MHz recording feeds both
    // output bands from one FFT per block, A's two recordings one each.
    // Integrations of 9 blocks (units 8 + 1), 29 blocks in all.
    let mut h = real_pair_against_wide_complex();
    h.n = 4096;
    h.integration_s = 0.01;
    h.duration_s = 0.03;
    for t in [2, 3, 5] {
        assert!(crate::engine::schedule::cut(8192, t, 2).by_stage);
    }
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
    let (one, _) = h.run(1);
    let l = one.layout.as_ref().unwrap();
    assert_eq!(l.station_fft_length, vec![4096, 8192]);
    assert_eq!(one.integrations.len(), 3);
    for band in 0..2 {
        check_band(&h, &one, 0, 1, band, "FFT 4096/8192, 1 thread");
    }
    for t in [2, 3, 5] {
        let (r, _) = h.run(t);
        assert!(bits(&r) == bits(&one), "{t} threads differ from 1");
    }
}

#[test]
fn lsb_station_against_usb_station_on_one_sky_band() {
    // B records 8.400–8.402 GHz as LSB (upper edge 8.402 GHz). Output as
    // USB (B's spectrum reversed and conjugated) and as LSB (A's).
    for (out_sky, out_sb) in [(8.400e9, "U"), (8.402e9, "L")] {
        let (a, b) = pair(4e6);
        let h = base(
            vec![
                HStation {
                    sim: a,
                    fs: 4e6,
                    sampling: "real",
                    lo_offset_hz: 0.0,
                    recs: vec![rec(8.400e9, 2e6, "U", 0)],
                    own: true,
                },
                HStation {
                    sim: b,
                    fs: 4e6,
                    sampling: "real",
                    lo_offset_hz: 0.0,
                    recs: vec![rec(8.402e9, 2e6, "L", 0)],
                    own: true,
                },
            ],
            vec![(out_sky, out_sb, 2e6, 0)],
        );
        let (sink, _) = h.run(2);
        check_band(
            &h,
            &sink,
            0,
            1,
            0,
            &format!("real USB vs real LSB, {out_sb}SB output"),
        );
    }
}

#[test]
fn complex_dsb_with_an_lo_offset_against_real_usb() {
    // B: complex DSB, 8 Ms/s, 8.398–8.406 GHz, LO at the centre + 2.5 kHz
    // (0.08 channel: not channel-aligned, removed by the rotation).
    let (a, b) = pair(4e6);
    let h = base(
        vec![
            HStation {
                sim: a,
                fs: 4e6,
                sampling: "real",
                lo_offset_hz: 0.0,
                recs: vec![rec(8.400e9, 2e6, "U", 0)],
                own: true,
            },
            HStation {
                sim: b,
                fs: 8e6,
                sampling: "complex_dsb",
                lo_offset_hz: 2.5e3,
                recs: vec![rec(8.398e9, 8e6, "U", 0)],
                own: true,
            },
        ],
        vec![(8.400e9, "U", 2e6, 0), (8.404e9, "U", 2e6, 1)],
    );
    let (sink, summary) = h.run(2);
    check_band(
        &h,
        &sink,
        0,
        1,
        0,
        "real USB vs complex DSB + 2.5 kHz LO offset",
    );
    // 8.404 GHz: only B records it. A takes no part (zero weight, a
    // warning); B's autocorrelation is there.
    let l = sink.layout.as_ref().unwrap();
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains("station A records nothing of the band at 8404000000 Hz")),
        "{:?}",
        summary.warnings
    );
    let bl = l.baselines.iter().position(|&x| x == (0, 1)).unwrap();
    let bb = l.baselines.iter().position(|&x| x == (1, 1)).unwrap();
    for integ in &sink.integrations {
        assert_eq!(integ.weights[l.weight_index(0, bl, 1, 0)], 0.0);
        assert_eq!(integ.weights[l.weight_index(0, bb, 1, 0)], 1.0);
    }
    // An LO offset on B alone must not move the fringe: the same data with
    // the offset recorded but not declared decorrelate (2.5 kHz of fringe
    // rate over 4 ms integrations: sinc(10) ≈ 0).
    let mut wrong = h.clone();
    wrong.stations[1].lo_offset_hz = 0.0;
    let sig = h.signals();
    let mut sink2 = MemorySink::default();
    correlate(
        &wrong.job(),
        h.sources(&sig),
        &Options::default(),
        &mut sink2,
        &mut |_| {},
    )
    .unwrap();
    let expected = h.stations[1].sim.extra_s - h.stations[0].sim.extra_s;
    let (_, _, _, amp) = fit(&sink2, bl, 0, expected);
    eprintln!("LO offset not declared: amplitude {amp:.4}");
    assert!(amp < 0.05, "amplitude {amp} without the LO offset");
}

#[test]
fn oversampled_real_against_critically_sampled_keeps_the_amplitude() {
    // A: 2 MHz band in real samples at 8 Ms/s (×2 oversampled, N = 256,
    // band = its first 64 of 128 channels); B: 2 MHz at 4 Ms/s (N = 128).
    let (a, b) = pair(4e6);
    let h = base(
        vec![
            HStation {
                sim: a,
                fs: 8e6,
                sampling: "real",
                lo_offset_hz: 0.0,
                recs: vec![rec(8.400e9, 2e6, "U", 0)],
                own: false,
            },
            HStation {
                sim: b,
                fs: 4e6,
                sampling: "real",
                lo_offset_hz: 0.0,
                recs: vec![rec(8.400e9, 2e6, "U", 0)],
                own: false,
            },
        ],
        vec![(8.400e9, "U", 2e6, 0)],
    );
    let (sink, _) = h.run(2);
    let l = sink.layout.as_ref().unwrap();
    assert_eq!(l.station_fft_length, vec![256, 128]);
    check_band(&h, &sink, 0, 1, 0, "oversampled real vs critically sampled");
}

#[test]
fn refused_combinations_are_one_line_errors_naming_stations_and_bands() {
    // A sample rate that is no whole multiple of the channel width.
    let mut h = real_pair_against_wide_complex();
    h.duration_s = 2e-3;
    h.common_tones = 20;
    let mut x = h.clone();
    x.stations[1].fs = 8.1e6;
    let e = x.error();
    assert!(
        e.contains("mismatched sample rates (A 4000000 Hz, B 8100000 Hz)")
            && e.contains("station B's FFT would be")
            && e.contains("259.2 points"),
        "{e}"
    );
    // An output band a recording covers only in part.
    let mut x = h.clone();
    x.stations[1].recs[0].sky_hz = 8.401e9;
    let e = x.error();
    assert!(
        e.contains("station B records the band at 8400000000 Hz (subband[0], USBR) only in part"),
        "{e}"
    );
    // Channels that do not line up (10 kHz, 0.32 channel; no LO offset).
    let mut x = h.clone();
    x.stations[1].recs[0].sky_hz = 8.39801e9;
    let e = x.error();
    assert!(
        e.contains("station B records the band at 8400000000 Hz (subband[0], USBR)")
            && e.contains("of a channel off the output's channels"),
        "{e}"
    );
    // Sampling that contradicts the recording.
    let mut x = h.clone();
    x.stations[0].sampling = "complex";
    let job = x.job();
    let sig = h.signals();
    let e = correlate(
        &job,
        h.sources(&sig),
        &Options::default(),
        &mut MemorySink::default(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("station A: sampling = \"complex\" but its recording is real sampled"),
        "{e}"
    );
    // A band wider than the sampling holds.
    let mut x = h.clone();
    x.stations[1].recs[0].bw_hz = 9e6;
    let e = x.error();
    assert!(
        e.contains("station B subband[0]: bandwidth_hz 9000000 is more than complex sampling at 8000000 Hz holds"),
        "{e}"
    );
    // A station that records none of the output bands.
    let mut x = h.clone();
    x.stations[1].recs[0].sky_hz = 8.5e9;
    let e = x.error();
    assert!(
        e.contains("station B records none of the job's output bands"),
        "{e}"
    );
    // Output bands of different widths.
    let mut x = h.clone();
    x.outputs[1].2 = 1e6;
    let e = x.error();
    assert!(
        e.contains("subband[1]: bandwidth_hz 1000000 differs from subband[0]'s 2000000"),
        "{e}"
    );
}
