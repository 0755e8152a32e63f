//! Engine tests against independent truth: signals synthesised here from
//! their definition (tones delayed exactly, LO phase included), and a
//! brute-force reference correlator (direct DFT in f64, written separately
//! from the engine).

use super::*;
use crate::job::Job;
use num_complex::Complex64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::TAU;
use std::path::Path;

/// Reference epoch of every test: delays are τ(g) = τ0 + r·(g − E).
const EPOCH: &str = "2026-01-01T00:00:00Z";

/// The StreamInfo of an in-memory test recording: one channel per thread,
/// `bits` (32 for floats), VDIF-like framing the engine never reads.
fn memory_info(station_id: u16, threads: Vec<u16>, bits: u8, complex: bool, fs: f64) -> StreamInfo {
    StreamInfo {
        station_id,
        threads,
        channels: 1,
        bits,
        complex,
        frame_bytes: 8032,
        samples_per_frame: 1000,
        sample_rate_hz: fs,
        sample_rate_inferred: false,
    }
}

fn epoch() -> UtcTime {
    UtcTime::parse_iso8601(EPOCH).unwrap()
}

#[derive(Clone, Copy, Debug)]
struct Tone {
    f_hz: f64,
    amp: f64,
    theta: f64,
}

fn tones(rng: &mut ChaCha8Rng, k: usize, f_max: f64, power: f64) -> Vec<Tone> {
    let amp = (power / k as f64).sqrt();
    (0..k)
        .map(|_| Tone {
            // Inside the band with a 2% margin: a real receiver's filter keeps
            // the signal in its passband however the fringe rate shifts it.
            f_hz: rng.random_range(0.02 * f_max..0.98 * f_max),
            amp,
            theta: rng.random_range(0.0..1.0),
        })
        .collect()
}

/// One station as the tests synthesise it.
#[derive(Clone, Debug)]
struct SimStation {
    name: String,
    /// Model delay τ0 (s) and rate, as given to the correlator.
    tau0: f64,
    rate: f64,
    /// Delay error of the data relative to the model (s): the data are
    /// generated with τ0 + extra.
    extra_s: f64,
    /// Whole seconds from the epoch to the stream's sample 0.
    origin_s: i64,
}

/// Band-edge sampled signal of a set of tones as station `st` records it:
/// a wavefront at the geocentre at g reaches the station at t = g + τ(g),
/// and a sky tone at ν = LO + σ·f becomes, in baseband,
/// cos(2π(f·g − σ·f_LO·τ(g) + σθ)) (σ = +1 USB, −1 LSB: the LSB baseband
/// holds the conjugate), or exp(2πi(…)) for complex sampling. Evaluated
/// exactly (phase linear in n, anchored every 256 samples).
#[allow(clippy::too_many_arguments)]
fn synth(
    out: &mut [f64],
    tones: &[Tone],
    st: &SimStation,
    lo_hz: f64,
    sign: f64,
    complex: bool,
    fs: f64,
    first_index: i64,
) {
    let w = if complex { 2 } else { 1 };
    let len = out.len() / w;
    let tau0 = st.tau0 + st.extra_s;
    let r = st.rate;
    // g_n = (t_n − τ0)/(1 + r), t_n = origin + (first + n)/fs (from E).
    let t0 = st.origin_s as f64 + first_index as f64 / fs;
    let g0 = (t0 - tau0) / (1.0 + r);
    let dg = 1.0 / (fs * (1.0 + r));
    let lo_tau0 = {
        let c = lo_hz * tau0;
        c - c.floor()
    };
    for tone in tones {
        // cycles(n) = a + b·n
        let a = tone.f_hz * g0 - sign * (lo_tau0 + lo_hz * r * g0) + sign * tone.theta;
        let b = dg * (tone.f_hz - sign * lo_hz * r);
        let (sb, cb) = (TAU * (b - b.round())).sin_cos();
        let mut n = 0;
        while n < len {
            let c = a + b * n as f64;
            let (mut s, mut co) = (TAU * (c - c.floor())).sin_cos();
            for k in n..(n + 256).min(len) {
                if complex {
                    out[2 * k] += tone.amp * co;
                    out[2 * k + 1] += tone.amp * s;
                } else {
                    out[k] += tone.amp * co;
                }
                (co, s) = (co * cb - s * sb, co * sb + s * cb);
            }
            n += 256;
        }
    }
}

/// A test scenario: stations, one or more subbands, common and
/// independent tones.
#[derive(Clone, Debug)]
struct Scenario {
    fs: f64,
    complex: bool,
    n: usize,
    integration_s: f64,
    /// Start offset from the epoch (s) and duration.
    start_s: f64,
    duration_s: f64,
    stations: Vec<SimStation>,
    /// (sky_freq_hz, sideband "U"/"L", pol letter, thread)
    subbands: Vec<(f64, &'static str, &'static str, u16)>,
    /// Correlated fraction of the power.
    rho: f64,
    tones: usize,
    seed: u64,
    /// Quantise to this many bits (0: keep floats).
    bits: u8,
    /// `[correlation]` keys beyond fft_length and integration_s (e.g.
    /// `channels = 64`), one per line.
    correlation_extra: String,
}

impl Scenario {
    fn basic() -> Self {
        Scenario {
            fs: 8e6,
            complex: false,
            n: 256,
            integration_s: 2e-3,
            start_s: 0.1,
            duration_s: 8e-3,
            stations: vec![
                SimStation {
                    name: "A".into(),
                    tau0: 0.012_345_678_9,
                    rate: 1.1e-6,
                    extra_s: 0.0,
                    origin_s: 0,
                },
                SimStation {
                    name: "B".into(),
                    tau0: -0.004_321_987_6,
                    rate: -2.3e-6,
                    extra_s: 0.0,
                    origin_s: 0,
                },
            ],
            subbands: vec![(8.4e9, "U", "R", 0)],
            rho: 0.5,
            tones: 600,
            seed: 1,
            bits: 0,
            correlation_extra: String::new(),
        }
    }

    fn job(&self) -> Job {
        let mut t = format!(
            "[job]\nname = \"t\"\nstart = \"{}\"\nduration_s = {:?}\n\
             [correlation]\nfft_length = {}\nintegration_s = {:?}\n{}\
             [source]\nname = \"S\"\nra_deg = 10.0\ndec_deg = 20.0\n",
            epoch().add_seconds(self.start_s).to_iso8601(),
            self.duration_s,
            self.n,
            self.integration_s,
            self.correlation_extra
        );
        for s in &self.stations {
            t += &format!(
                "[[station]]\nname = \"{}\"\ndelay_poly = {{ epoch = \"{EPOCH}\", coeffs_s = [{:?}, {:?}] }}\n",
                s.name, s.tau0, s.rate
            );
        }
        let bw = if self.complex { self.fs } else { self.fs / 2.0 };
        for (f, sb, pol, th) in &self.subbands {
            t += &format!(
                "[[subband]]\nsky_freq_hz = {f:?}\nbandwidth_hz = {bw:?}\nsideband = \"{sb}\"\npol = \"{pol}\"\nthread = {th}\n"
            );
        }
        Job::from_toml_str(&t, Path::new("/tmp/test-job.toml")).unwrap()
    }

    /// First stream index and length that cover the job with margin.
    fn span(&self, st: &SimStation) -> (i64, usize) {
        let t0 = self.start_s + st.tau0 + st.extra_s - st.origin_s as f64;
        let first = ((t0 - 2e-4) * self.fs).floor() as i64;
        let len = ((self.duration_s * (1.0 + st.rate.abs()) + 4e-4) * self.fs) as usize;
        (first, len)
    }

    /// Per station, per subband: the recorded samples (f64, before any
    /// quantisation) and where they begin.
    fn signals(&self) -> Vec<(i64, Vec<Vec<f64>>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let f_max = if self.complex { self.fs } else { self.fs / 2.0 };
        let w = if self.complex { 2 } else { 1 };
        // Common tones per subband; each polarisation gets its own.
        let common: Vec<Vec<Tone>> = self
            .subbands
            .iter()
            .map(|_| tones(&mut rng, self.tones, f_max, self.rho))
            .collect();
        self.stations
            .iter()
            .map(|st| {
                let (first, len) = self.span(st);
                let data = self
                    .subbands
                    .iter()
                    .enumerate()
                    .map(|(i, &(lo, sb, _, _))| {
                        let sign = if sb == "U" { 1.0 } else { -1.0 };
                        let mut out = vec![0.0; len * w];
                        synth(
                            &mut out,
                            &common[i],
                            st,
                            lo,
                            sign,
                            self.complex,
                            self.fs,
                            first,
                        );
                        let own = tones(&mut rng, self.tones, f_max, 1.0 - self.rho);
                        synth(&mut out, &own, st, lo, sign, self.complex, self.fs, first);
                        out
                    })
                    .collect();
                (first, data)
            })
            .collect()
    }

    fn sources(&self, signals: &[(i64, Vec<Vec<f64>>)]) -> Vec<Box<dyn SampleSource>> {
        self.sources_masked(signals, &|_, _| None)
    }

    fn sources_masked(
        &self,
        signals: &[(i64, Vec<Vec<f64>>)],
        mask: &dyn Fn(usize, usize) -> Option<Vec<bool>>,
    ) -> Vec<Box<dyn SampleSource>> {
        self.stations
            .iter()
            .zip(signals)
            .enumerate()
            .map(|(s, (st, (first, data)))| {
                let info = memory_info(
                    s as u16,
                    self.subbands.iter().map(|b| b.3).collect(),
                    if self.bits == 0 { 32 } else { self.bits },
                    self.complex,
                    self.fs,
                );
                let mut src =
                    MemorySource::new(info, epoch().add_seconds(st.origin_s as f64), *first);
                for (i, d) in data.iter().enumerate() {
                    let samples = quantise(d, self.bits);
                    src = src.with_channel(self.subbands[i].3, 0, samples, mask(s, i));
                }
                Box::new(src) as Box<dyn SampleSource>
            })
            .collect()
    }

    fn run(&self, sources: Vec<Box<dyn SampleSource>>, threads: usize) -> MemorySink {
        self.run_with(sources, threads, RealFormulation::default())
    }

    fn run_with(
        &self,
        sources: Vec<Box<dyn SampleSource>>,
        threads: usize,
        formulation: RealFormulation,
    ) -> MemorySink {
        let mut sink = MemorySink::default();
        let opts = Options {
            threads,
            formulation,
            ..Options::default()
        };
        correlate(&self.job(), sources, &opts, &mut sink, &mut |_| {}).unwrap();
        sink
    }
}

/// 2-bit: levels ±1, ±3.3359 with thresholds at ±0.98σ (the optimum);
/// 1-bit: ±1. σ from the data.
fn quantise(x: &[f64], bits: u8) -> Vec<f32> {
    if bits == 0 {
        return x.iter().map(|&v| v as f32).collect();
    }
    let sigma = (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt();
    x.iter()
        .map(|&v| match bits {
            1 => v.signum() as f32,
            _ => quantise_2bit(v, sigma),
        })
        .collect()
}

/// One value of [`quantise`]'s 2-bit quantiser for data of rms `sigma`.
fn quantise_2bit(v: f64, sigma: f64) -> f32 {
    let m = if v.abs() < 0.98 * sigma { 1.0 } else { 3.3359 };
    (v.signum() * m) as f32
}

fn wrap(p: f64) -> f64 {
    (p + std::f64::consts::PI).rem_euclid(TAU) - std::f64::consts::PI
}

/// Vector average of one centre/baseline/band/product over channels and
/// integrations, after removing the expected phase 2πν·(Δ_B − Δ_A).
fn coherent_mean(
    sink: &MemorySink,
    centre: usize,
    bl: usize,
    band: usize,
    prod: usize,
    expected_delay_s: f64,
) -> Complex64 {
    let l = sink.layout.as_ref().unwrap();
    let mut sum = Complex64::new(0.0, 0.0);
    let mut n = 0.0;
    for integ in &sink.integrations {
        for j in 0..l.nchan {
            let v = integ.vis[l.vis_index(centre, bl, band, j, prod)];
            let nu = l.channel_freq_hz(band, j);
            let ph = TAU * (nu * expected_delay_s).fract();
            sum += Complex64::new(v.re as f64, v.im as f64) * Complex64::from_polar(1.0, -ph);
            n += 1.0;
        }
    }
    sum / n
}

/// Least-squares delay from the phase slope across the band (phase after
/// removing the expected delay, so no unwrapping is needed): returns the
/// residual delay in seconds.
fn slope_delay(
    sink: &MemorySink,
    centre: usize,
    bl: usize,
    band: usize,
    expected_delay_s: f64,
) -> f64 {
    let l = sink.layout.as_ref().unwrap();
    let (mut sx, mut sy, mut sxx, mut sxy, mut sw) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for j in 2..l.nchan - 2 {
        let mut v = Complex64::new(0.0, 0.0);
        for integ in &sink.integrations {
            let x = integ.vis[l.vis_index(centre, bl, band, j, 0)];
            v += Complex64::new(x.re as f64, x.im as f64);
        }
        let nu = l.channel_freq_hz(band, j);
        let ph = wrap(v.arg() - TAU * (nu * expected_delay_s).fract());
        let x = nu - l.bands[band].sky_freq_hz;
        let w = v.norm();
        sx += w * x;
        sy += w * ph;
        sxx += w * x * x;
        sxy += w * x * ph;
        sw += w;
    }
    let slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
    slope / TAU
}

// ---------------------------------------------------------------------------
// Brute-force reference: direct DFT per block in f64.

struct Reference {
    /// [baseline][band][chan][product] like the engine's.
    vis: Vec<Vec<Complex64>>,
    weights: Vec<Vec<f64>>,
}

/// Correlate `sc` the slow, obvious way from the same recorded samples
/// (as f32, as the engine sees them) and validity masks.
fn reference(
    sc: &Scenario,
    signals: &[(i64, Vec<Vec<f64>>)],
    mask: &dyn Fn(usize, usize) -> Option<Vec<bool>>,
) -> Reference {
    let n = sc.n;
    let fs = sc.fs;
    let w = if sc.complex { 2 } else { 1 };
    let nchan = if sc.complex { n } else { n / 2 };
    let block_s = n as f64 / fs;
    let m = ((sc.integration_s / block_s).round() as usize).max(1);
    let total = (sc.duration_s / block_s + 1e-9).floor() as usize;
    let nst = sc.stations.len();
    let nsb = sc.subbands.len();
    // Bands: here every test subband is its own band except pol pairs at
    // the same frequency (R then L).
    let mut bands: Vec<Vec<usize>> = Vec::new();
    for (i, sb) in sc.subbands.iter().enumerate() {
        match bands.iter_mut().find(|b| sc.subbands[b[0]].0 == sb.0) {
            Some(b) => b.push(i),
            None => bands.push(vec![i]),
        }
    }
    let prods: Vec<(usize, usize)> = if bands[0].len() == 1 {
        vec![(0, 0)]
    } else {
        vec![(0, 0), (1, 1), (0, 1), (1, 0)]
    };
    let baselines: Vec<(usize, usize)> = (0..nst)
        .flat_map(|a| (a..nst).map(move |b| (a, b)))
        .collect();
    let samples: Vec<Vec<Vec<f32>>> = signals
        .iter()
        .map(|(_, d)| d.iter().map(|x| quantise(x, sc.bits)).collect())
        .collect();
    let masks: Vec<Vec<Option<Vec<bool>>>> = (0..nst)
        .map(|s| (0..nsb).map(|i| mask(s, i)).collect())
        .collect();
    let mut out = Reference {
        vis: Vec::new(),
        weights: Vec::new(),
    };
    let mut b0 = 0;
    while b0 < total {
        let b1 = (b0 + m).min(total);
        // sums[st][sb][chan] spectra products accumulated per (a, sa, b, sb)
        let mut cross = vec![Complex64::new(0.0, 0.0); nst * nsb * nst * nsb * nchan];
        let mut used = vec![0usize; nst * nsb * nst * nsb];
        for blk in b0..b1 {
            let g_c = sc.start_s + (blk as f64 + 0.5) * block_s;
            let mut spec: Vec<Option<Vec<Complex64>>> = vec![None; nst * nsb];
            for (s, st) in sc.stations.iter().enumerate() {
                let tau = st.tau0 + st.rate * g_c;
                let p = (g_c + tau - st.origin_s as f64) * fs;
                let nc = p.round();
                let delta = p - nc;
                let n0 = nc as i64 - (n / 2) as i64;
                for i in 0..nsb {
                    let (lo, sbs, _, _) = sc.subbands[i];
                    let sign = if sbs == "U" { 1.0 } else { -1.0 };
                    let first = signals[s].0;
                    let off = n0 - first;
                    let ok = (0..n).all(|k| {
                        let q = off + k as i64;
                        q >= 0
                            && (q as usize) < samples[s][i].len() / w
                            && masks[s][i].as_ref().is_none_or(|m| m[q as usize])
                    });
                    if !ok {
                        continue;
                    }
                    // Rotated samples: the delay of sample k is that of the
                    // wavefront it holds, g' = g_c + u/(1+r).
                    let z: Vec<Complex64> = (0..n)
                        .map(|k| {
                            let q = (off + k as i64) as usize;
                            let x = if sc.complex {
                                Complex64::new(
                                    samples[s][i][2 * q] as f64,
                                    samples[s][i][2 * q + 1] as f64,
                                )
                            } else {
                                Complex64::new(samples[s][i][q] as f64, 0.0)
                            };
                            let u = (k as f64 - (n / 2) as f64 - delta) / fs;
                            let tau_k = tau + st.rate * u / (1.0 + st.rate);
                            let cyc = lo * tau_k;
                            x * Complex64::from_polar(1.0, sign * TAU * (cyc - cyc.floor()))
                        })
                        .collect();
                    let x: Vec<Complex64> = (0..nchan)
                        .map(|j| {
                            let mut acc = Complex64::new(0.0, 0.0);
                            for (k, zk) in z.iter().enumerate() {
                                let e = ((j * k) % n) as f64 / n as f64;
                                acc += zk * Complex64::from_polar(1.0, -TAU * e);
                            }
                            acc * Complex64::from_polar(1.0, TAU * j as f64 * delta / n as f64)
                        })
                        .collect();
                    spec[s * nsb + i] = Some(x);
                }
            }
            for a in 0..nst * nsb {
                for b in 0..nst * nsb {
                    if let (Some(xa), Some(xb)) = (&spec[a], &spec[b]) {
                        used[a * nst * nsb + b] += 1;
                        for j in 0..nchan {
                            cross[(a * nst * nsb + b) * nchan + j] += xa[j] * xb[j].conj();
                        }
                    }
                }
            }
        }
        let nn = nst * nsb;
        let mut vis = Vec::new();
        let mut weights = Vec::new();
        let auto = |a: usize| -> f64 {
            let k = a * nn + a;
            if used[k] == 0 {
                return 0.0;
            }
            cross[k * nchan..(k + 1) * nchan]
                .iter()
                .map(|c| c.re)
                .sum::<f64>()
                / (nchan * used[k]) as f64
        };
        for &(sa, sb) in &baselines {
            for band in &bands {
                let lsb = sc.subbands[band[0]].1 == "L";
                for j in 0..nchan {
                    for &(pa, pb) in &prods {
                        let ia = sa * nsb + band[pa];
                        let ib = sb * nsb + band[pb];
                        let k = ia * nn + ib;
                        let v = if used[k] == 0 {
                            Complex64::new(0.0, 0.0)
                        } else {
                            cross[k * nchan + j] / (used[k] as f64 * (auto(ia) * auto(ib)).sqrt())
                        };
                        vis.push(if lsb { v.conj() } else { v });
                    }
                }
                for &(pa, pb) in &prods {
                    let k = (sa * nsb + band[pa]) * nn + sb * nsb + band[pb];
                    weights.push(used[k] as f64 / (b1 - b0) as f64);
                }
            }
        }
        out.vis.push(vis);
        out.weights.push(weights);
        b0 = b1;
    }
    out
}

fn compare_with_reference(sc: &Scenario, mask: &dyn Fn(usize, usize) -> Option<Vec<bool>>) {
    let sig = sc.signals();
    let r = reference(sc, &sig, mask);
    for formulation in [RealFormulation::ComplexFft, RealFormulation::TwoRealFfts] {
        let sink = sc.run_with(sc.sources_masked(&sig, mask), 2, formulation);
        compare_sink(&sink, &r, formulation);
    }
}

fn compare_sink(sink: &MemorySink, r: &Reference, formulation: RealFormulation) {
    assert_eq!(sink.integrations.len(), r.vis.len());
    let mut worst = 0.0f64;
    for (integ, (rv, rw)) in sink.integrations.iter().zip(r.vis.iter().zip(&r.weights)) {
        assert_eq!(integ.vis.len(), rv.len());
        let scale = rv.iter().map(|v| v.norm()).fold(0.0, f64::max);
        for (e, v) in integ.vis.iter().zip(rv) {
            let d = (Complex64::new(e.re as f64, e.im as f64) - v).norm() / scale;
            worst = worst.max(d);
        }
        for (e, v) in integ.weights.iter().zip(rw) {
            assert!((*e as f64 - v).abs() < 1e-6, "weight {e} vs reference {v}");
        }
    }
    eprintln!(
        "engine ({formulation:?}) vs brute-force reference: worst relative difference {worst:.2e}"
    );
    assert!(
        worst < 1e-4,
        "engine differs from the reference by {worst:e}"
    );
}

#[test]
fn matches_brute_force_reference_real_usb_lsb_two_pols() {
    let mut sc = Scenario::basic();
    sc.n = 64;
    sc.stations.push(SimStation {
        name: "C".into(),
        tau0: 1.283_456_789_123,
        rate: 3.9e-6,
        extra_s: 0.0,
        origin_s: 1,
    });
    sc.subbands = vec![
        (8.4e9, "U", "R", 0),
        (8.4e9, "U", "L", 1),
        (8.2e9, "L", "R", 2),
        (8.2e9, "L", "L", 3),
    ];
    sc.duration_s = 1.2e-3;
    sc.integration_s = 0.5e-3;
    sc.tones = 100;
    // Station B misses a stretch of subband 1.
    let mask = |s: usize, i: usize| {
        (s == 1 && i == 1).then(|| (0..20_000).map(|q| !(3000..3500).contains(&q)).collect())
    };
    compare_with_reference(&sc, &mask);
}

#[test]
fn matches_brute_force_reference_complex() {
    let mut sc = Scenario::basic();
    sc.n = 64;
    sc.complex = true;
    sc.fs = 4e6;
    sc.subbands = vec![(8.4e9, "U", "R", 0), (8.1e9, "L", "R", 1)];
    sc.duration_s = 1.2e-3;
    sc.integration_s = 0.5e-3;
    sc.tones = 100;
    compare_with_reference(&sc, &|_, _| None);
}

// ---------------------------------------------------------------------------
// Physics: delays, phases, amplitudes, coherence.

/// Correlate `sc` (two stations) and return (residual delay error in
/// samples, phase at the band after removing the expected delay (rad),
/// amplitude).
fn delay_phase_amp(sc: &Scenario) -> (f64, f64, f64) {
    let sig = sc.signals();
    let sink = sc.run(sc.sources(&sig), 2);
    let expected = sc.stations[1].extra_s - sc.stations[0].extra_s;
    // Baseline 1 is (0, 1): (0,0), (0,1), (1,1).
    let err = slope_delay(&sink, 0, 1, 0, expected) * sc.fs;
    let v = coherent_mean(&sink, 0, 1, 0, 0, expected);
    (err, v.arg(), v.norm())
}

fn lunar_pair(sc: &mut Scenario, fringe_rate_hz: f64, residual_samples: f64) {
    let lo = sc.subbands[0].0;
    sc.stations[0].rate = 0.3e-6;
    sc.stations[1] = SimStation {
        name: "MOON".into(),
        tau0: 1.283_456_789_123_4,
        rate: 0.3e-6 + fringe_rate_hz / lo,
        extra_s: residual_samples / sc.fs,
        origin_s: 1,
    };
}

#[test]
fn injected_delay_phase_and_amplitude_are_recovered() {
    let mut results = Vec::new();
    for (label, complex, sideband) in [
        ("real USB", false, "U"),
        ("real LSB", false, "L"),
        ("complex USB", true, "U"),
        ("complex LSB", true, "L"),
    ] {
        let mut sc = Scenario::basic();
        sc.complex = complex;
        sc.subbands = vec![(8.4e9, sideband, "R", 0)];
        // Integer + fractional model delay (~1.28 s), a 0.37-sample
        // residual on the lunar station and a 40 kHz fringe rate.
        lunar_pair(&mut sc, 40e3, 0.37);
        let (err, phase, amp) = delay_phase_amp(&sc);
        eprintln!(
            "{label}: delay error {err:+.4} samples, phase {phase:+.4} rad, amplitude {amp:.4} (ρ = {})",
            sc.rho
        );
        results.push((label, err, phase, amp));
    }
    for (label, err, phase, amp) in results {
        assert!(err.abs() < 0.01, "{label}: delay error {err} samples");
        assert!(phase.abs() < 0.02, "{label}: phase {phase} rad");
        assert!((amp / 0.5 - 1.0).abs() < 0.02, "{label}: amplitude {amp}");
    }
}

#[test]
fn coherence_at_40_and_50_khz_fringe_rate() {
    let amp_at = |rate: f64, complex: bool| {
        let mut sc = Scenario::basic();
        sc.complex = complex;
        sc.duration_s = 16e-3;
        lunar_pair(&mut sc, rate, 0.0);
        delay_phase_amp(&sc).2
    };
    for complex in [false, true] {
        let a0 = amp_at(0.0, complex);
        for rate in [40e3, 50e3] {
            let c = amp_at(rate, complex) / a0;
            eprintln!(
                "{} sampling: coherence at {} kHz = {c:.5}",
                if complex { "complex" } else { "real" },
                rate / 1e3
            );
            assert!(c > 0.99, "coherence {c} at {rate} Hz");
        }
    }
}

#[test]
fn quantised_data_read_back_the_injected_correlation() {
    // Complex too: the quantiser's power is per real value (I and Q
    // counted apart), not per complex sample.
    for (bits, rho, complex) in [
        (2u8, 0.1, false),
        (2, 0.3, false),
        (1, 0.1, false),
        (2, 0.3, true),
    ] {
        let mut sc = Scenario::basic();
        sc.complex = complex;
        sc.bits = bits;
        sc.rho = rho;
        sc.duration_s = 16e-3;
        sc.stations[1].rate = sc.stations[0].rate;
        let (_, _, amp) = delay_phase_amp(&sc);
        eprintln!(
            "{bits}-bit, ρ = {rho}, complex {complex}: amplitude {amp:.4} ({:+.2}%)",
            (amp / rho - 1.0) * 100.0
        );
        assert!((amp / rho - 1.0).abs() < 0.02, "{bits}-bit ρ={rho}: {amp}");
    }
}

#[test]
fn invalid_samples_lower_the_weight_and_do_not_bias_the_amplitude() {
    let mut sc = Scenario::basic();
    sc.duration_s = 16e-3;
    let sig = sc.signals();
    let clean = sc.run(sc.sources(&sig), 2);
    // Every fourth 1000-sample "frame" of station B is missing.
    let mask =
        |s: usize, _i: usize| (s == 1).then(|| (0..200_000).map(|q| (q / 1000) % 4 != 1).collect());
    let holed = sc.run(sc.sources_masked(&sig, &mask), 2);
    let r = reference(&sc, &sig, &mask);
    let mut w = 0.0;
    for (integ, rw) in holed.integrations.iter().zip(&r.weights) {
        // Baseline (0,1): weight index 1 (one band, one product).
        assert!((integ.weights[1] as f64 - rw[1]).abs() < 1e-6);
        w += integ.weights[1] as f64 / holed.integrations.len() as f64;
    }
    // Whole FFT blocks touching a gap are dropped: the weight is the valid
    // fraction (0.75) less at most one block per gap edge.
    let n_gap_edges = 2.0 * sc.duration_s * sc.fs / 4000.0;
    let lost = n_gap_edges * sc.n as f64 / (sc.duration_s * sc.fs);
    eprintln!(
        "weight with 25% missing: {w:.4} (sample fraction 0.75, at least {:.4})",
        0.75 - lost
    );
    assert!(w <= 0.75 + 1e-9 && w >= 0.75 - lost - 1e-9, "weight {w}");
    let a_clean = coherent_mean(&clean, 0, 1, 0, 0, 0.0).norm();
    let a_holed = coherent_mean(&holed, 0, 1, 0, 0, 0.0).norm();
    eprintln!("amplitude clean {a_clean:.4}, with gaps {a_holed:.4}");
    assert!((a_holed / a_clean - 1.0).abs() < 0.01);
}

#[test]
fn output_is_bitwise_identical_for_1_2_and_3_threads() {
    let mut sc = Scenario::basic();
    sc.stations.push(SimStation {
        name: "C".into(),
        tau0: 0.02,
        rate: 2e-6,
        extra_s: 1.3e-7,
        origin_s: 0,
    });
    sc.subbands = vec![(8.4e9, "U", "R", 0), (8.4e9, "U", "L", 1)];
    sc.tones = 60;
    // Integrations of 1563 blocks span two chunks of 1024; the last is short.
    sc.duration_s = 0.11;
    sc.integration_s = 0.05;
    let sig = sc.signals();
    let runs: Vec<MemorySink> = [1, 2, 3]
        .iter()
        .map(|&t| sc.run(sc.sources(&sig), t))
        .collect();
    assert_eq!(runs[0].integrations.len(), 3);
    for r in &runs[1..] {
        assert_eq!(r.integrations.len(), runs[0].integrations.len());
        for (a, b) in r.integrations.iter().zip(&runs[0].integrations) {
            let bits = |i: &Integration| -> Vec<u32> {
                i.vis
                    .iter()
                    .flat_map(|c| [c.re.to_bits(), c.im.to_bits()])
                    .chain(i.weights.iter().map(|w| w.to_bits()))
                    .collect()
            };
            assert!(bits(a) == bits(b), "output depends on the thread count");
            assert_eq!(a.time, b.time);
        }
    }
    let l = runs[0].layout.as_ref().unwrap();
    assert_eq!(l.products.len(), 4);
    assert_eq!(l.blocks_per_integration, 1563);
    assert!((runs[0].integrations[2].inttim_s - (3437 - 3126) as f64 * l.block_s()).abs() < 1e-12);
}

fn expect_bad(sc: &Scenario, sources: Vec<Box<dyn SampleSource>>, needle: &str) {
    let mut sink = MemorySink::default();
    let e = correlate(
        &sc.job(),
        sources,
        &Options::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, EngineError::BadInput(_)), "{e:?}");
    assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    assert!(!text.contains('\n'));
    assert!(!sink.finished);
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let mut sc = Scenario::basic();
    sc.duration_s = 2e-3;
    sc.tones = 10;
    let sig = sc.signals();
    // Mismatched sample rates: B's is no whole multiple of the channel
    // width (8 MHz / 256), so it has no whole FFT length of its own.
    let mut srcs = sc.sources(&sig);
    let mut other = MemorySource::new(
        StreamInfo {
            sample_rate_hz: 12.3e6,
            ..srcs[1].info().clone()
        },
        epoch(),
        0,
    );
    other = other.with_channel(0, 0, vec![0.0; 10], None);
    srcs[1] = Box::new(other);
    expect_bad(
        &sc,
        srcs,
        "mismatched sample rates (A 8000000 Hz, B 12300000 Hz)",
    );
    // A subband no station has.
    let mut sc2 = sc.clone();
    sc2.subbands.push((8.5e9, "U", "R", 7));
    let srcs = sc.sources(&sig);
    expect_bad(
        &sc2,
        srcs,
        "subband[1] (thread 7, channel 0): no station has it",
    );
    // Data that do not cover the job span.
    let mut sc3 = sc.clone();
    sc3.start_s = 50.0;
    expect_bad(
        &sc3,
        sc.sources(&sig),
        "station A: no valid data in the job span",
    );
    // No frequency setup: the job parses (its delay model needs none), the
    // engine names the key it needs.
    let mut sc4 = sc.clone();
    sc4.subbands.clear();
    expect_bad(&sc4, sc.sources(&sig), "key `subband`");
}

/// One station: autocorrelations only, normalised to a band mean of 1, and
/// in the sky (geocentric) frame. A pure tone at sky frequency LO + f, f
/// the centre of channel 40, recorded by a station whose delay runs at
/// 5 µs/s (lunar), reaches the recording at video frequency
/// (f − f_LO·ṫ)/(1 + ṫ): 1.344 channels lower at 8.4 GHz (8 MHz sampling,
/// 256-point FFT). With the station's model the fringe rotation removes
/// f_LO·ṫ and the tone is in channel 40 (value nchan, the band mean being
/// 1, less ~0.2% leaked by its image); with a zero model (`delay_poly =
/// [0]`: the raw recording) it lies between channels 38 and 39. The constant delay and
/// fringe phase cancel in X·conj(X): a one-station job's model moves its
/// spectrum by the station's Doppler and nothing else.
#[test]
fn one_station_gives_autocorrelations_in_the_sky_frame() {
    let mut sc = Scenario::basic();
    sc.stations.truncate(1);
    sc.stations[0].tau0 = 0.0;
    sc.stations[0].rate = 5e-6;
    let chan = 40;
    let width = sc.fs / sc.n as f64;
    let tone = [Tone {
        f_hz: chan as f64 * width,
        amp: 1.0,
        theta: 0.3,
    }];
    let st = sc.stations[0].clone();
    let (first, len) = sc.span(&st);
    let mut x = vec![0.0; len];
    synth(
        &mut x,
        &tone,
        &st,
        sc.subbands[0].0,
        1.0,
        false,
        sc.fs,
        first,
    );
    let signals = vec![(first, vec![x])];
    let spectrum = |sc: &Scenario| -> Vec<f64> {
        let sink = sc.run(sc.sources(&signals), 2);
        let l = sink.layout.as_ref().unwrap();
        assert_eq!(l.baselines, [(0, 0)]);
        assert_eq!(sink.integrations.len(), 4);
        let mut mean = vec![0.0; l.nchan];
        for integ in &sink.integrations {
            assert_eq!(integ.weights, [1.0]);
            for (j, m) in mean.iter_mut().enumerate() {
                let v = integ.vis[l.vis_index(0, 0, 0, j, 0)];
                assert_eq!(v.im, 0.0);
                *m += v.re as f64 / sink.integrations.len() as f64;
            }
        }
        let band_mean = mean.iter().sum::<f64>() / l.nchan as f64;
        assert!((band_mean - 1.0).abs() < 1e-5, "band mean {band_mean}");
        mean
    };
    let nchan = (sc.n / 2) as f64;
    let sky = spectrum(&sc);
    // Not all of it: rotating a real block also shifts the tone's
    // negative-frequency image, by 1.344 channels off the bin grid, and the
    // rectangular window's sidelobes leak it across the band (~0.2% of the
    // power, ~0.002 per channel here).
    let peak = (0..sky.len())
        .max_by(|&a, &b| sky[a].total_cmp(&sky[b]))
        .unwrap();
    assert_eq!(peak, chan);
    assert!((sky[chan] - nchan).abs() < 5e-3 * nchan, "{}", sky[chan]);
    let shift = sc.subbands[0].0 * sc.stations[0].rate / width;
    assert!((shift - 1.344).abs() < 1e-3);
    let mut raw_model = sc.clone();
    raw_model.stations[0].rate = 0.0;
    let raw = spectrum(&raw_model);
    // Raw: the tone at 40 − 1.344 channels, so the rectangular window puts
    // sinc²(0.344) = 0.667 of it in channel 39, sinc²(0.656) = 0.183 in
    // channel 38 and sinc²(1.344) = 0.044 in channel 40 (measured within
    // 3e-4 of nchan: the image's leakage).
    let sinc2 = |x: f64| {
        let p = std::f64::consts::PI * x;
        (p.sin() / p).powi(2)
    };
    for (c, off) in [(39, 0.344), (38, 0.656), (40, 1.344)] {
        let want = sinc2(off) * nchan;
        assert!(
            (raw[c] - want).abs() < 1e-3 * nchan,
            "channel {c}: {} vs {want}",
            raw[c]
        );
    }
}

#[test]
fn default_start_is_where_all_stations_have_data() {
    let mut sc = Scenario::basic();
    sc.tones = 20;
    let sig = sc.signals();
    let mut job = sc.job();
    job.start = None;
    job.duration_s = None;
    let mut sink = MemorySink::default();
    let s = correlate(
        &job,
        sc.sources(&sig),
        &Options::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap();
    // Both streams start 0.2 ms before the scenario's start (plus their
    // delays); the later of the two sets the job start.
    let off = s.start.seconds_since(epoch());
    assert!(off > sc.start_s - 2e-4 && off < sc.start_s, "start {off}");
    // It runs until an integration in which a station has no data: the
    // recordings span ~8.2 ms from the start, so four full 2 ms
    // integrations and a fifth partly covered one.
    assert_eq!(s.integrations, 5);
    for i in &sink.integrations[..4] {
        assert!(i.weights[1] > 0.99, "{}", i.weights[1]);
    }
    let last = sink.integrations[4].weights[1];
    assert!(last > 0.0 && last < 0.2, "{last}");
}

#[test]
fn fits_idi_sink_writes_what_the_engine_computed() {
    let mut sc = Scenario::basic();
    sc.tones = 50;
    sc.subbands = vec![(8.4e9, "U", "R", 0), (8.2e9, "L", "R", 1)];
    let sig = sc.signals();
    let mem = sc.run(sc.sources(&sig), 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.fits");
    let mut idi = IdiSink::new(&path);
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    correlate(&sc.job(), sc.sources(&sig), &opts, &mut idi, &mut |_| {}).unwrap();
    let f = formats::fitsidi::read_idi(&path).unwrap();
    let l = mem.layout.as_ref().unwrap();
    assert_eq!(f.rows.len(), mem.integrations.len() * l.baselines.len());
    assert_eq!(f.header.bands[1].sideband, -1);
    assert_eq!(f.header.stokes, vec![-1]);
    for (r, row) in f.rows.iter().enumerate() {
        let integ = &mem.integrations[r / l.baselines.len()];
        let bl = r % l.baselines.len();
        let (a, b) = l.baselines[bl];
        assert_eq!(row.baseline, (a as u32 + 1, b as u32 + 1));
        assert!((row.time.seconds_since(integ.time)).abs() < 1e-9);
        for band in 0..2 {
            for j in 0..l.nchan {
                let v = integ.vis[l.vis_index(0, bl, band, j, 0)];
                let x = row.vis[band * l.nchan + j];
                assert_eq!((x[0], x[1]), (v.re, v.im));
                assert_eq!(x[2], integ.weights[l.weight_index(0, bl, band, 0)]);
            }
        }
    }
    // The model table holds the delays used: τ_B at the start.
    let m = f.models.iter().find(|m| m.antenna == 2).unwrap();
    let want = sc.stations[1].tau0 + sc.stations[1].rate * m.time.seconds_since(epoch());
    assert!((m.gdelay_s[0][0] - want).abs() < 1e-15);
    assert!((m.gdelay_s[0][1] - sc.stations[1].rate).abs() < 1e-18);
}

#[test]
fn taylor_shift_matches_direct_evaluation() {
    let c = [1.5, -2.0, 0.25, 3.0];
    let t0 = 0.7;
    let s = sink::shift_poly_for_tests(&c, t0);
    let p = |c: &[f64], x: f64| c.iter().rev().fold(0.0, |a, k| a * x + k);
    for x in [-1.0, 0.0, 0.3, 2.0] {
        assert!((p(&s, x) - p(&c, t0 + x)).abs() < 1e-12);
    }
}

#[test]
fn a_run_from_integration_k_reproduces_the_tail_bit_for_bit() {
    // What `emcorr correlate --resume` relies on: skipping the first k
    // integrations changes nothing in the others.
    let mut sc = Scenario::basic();
    sc.duration_s = 0.11;
    sc.integration_s = 0.02;
    let sig = sc.signals();
    let full = sc.run(sc.sources(&sig), 2);
    let n = full.integrations.len();
    assert!(n >= 5);
    for k in [1u64, 3, n as u64] {
        let mut sink = MemorySink::default();
        let opts = Options {
            threads: 3,
            first_integration: k,
            ..Options::default()
        };
        let s = correlate(&sc.job(), sc.sources(&sig), &opts, &mut sink, &mut |_| {}).unwrap();
        assert!(sink.finished);
        assert_eq!(s.integrations as usize, n - k as usize);
        assert_eq!(sink.integrations.len(), n - k as usize);
        for (a, b) in sink
            .integrations
            .iter()
            .zip(&full.integrations[k as usize..])
        {
            assert_eq!(a, b, "integration {} differs when resumed at {k}", b.index);
        }
    }
}

/// Units from a list, in the list's order.
struct Listed(std::collections::VecDeque<WorkUnit>);

impl Schedule for Listed {
    fn next_unit(&mut self) -> Result<Option<WorkUnit>, EngineError> {
        Ok(self.0.pop_front())
    }
}

#[test]
fn band_units_on_separate_engines_in_any_order_reproduce_the_run_bit_for_bit() {
    // What `emcorr correlate --mpi` relies on: each (integration, band)
    // unit computed alone, by another engine, in another order, and put
    // back together by the collector, gives the single-process output.
    let mut sc = Scenario::basic();
    sc.duration_s = 0.03;
    sc.integration_s = 0.01;
    sc.subbands = vec![
        (8.4e9, "U", "R", 0),
        (8.4e9, "U", "L", 1),
        (8.5e9, "L", "R", 2),
        (8.5e9, "L", "L", 3),
    ];
    let sig = sc.signals();
    let full = sc.run(sc.sources(&sig), 2);
    let layout = full.layout.clone().unwrap();
    assert_eq!((layout.bands.len(), layout.products.len()), (2, 4));
    let nint = full.integrations.len() as u64;
    assert_eq!(nint, 3);

    let job = sc.job();
    let build = |c: usize, a: UtcTime, b: UtcTime| centre_model(&job, c, a, b);
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    // Units shuffled and dealt to two "ranks".
    let mut units: Vec<WorkUnit> = (0..nint)
        .flat_map(|i| {
            (0..2).map(move |b| WorkUnit {
                integration: i,
                bands: vec![b],
            })
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for i in (1..units.len()).rev() {
        units.swap(i, rng.random_range(0..=i));
    }
    let mut results = Vec::new();
    for rank in 0..2 {
        let mut e = Engine::prepare(&job, sc.sources(&sig), &build, &opts).unwrap();
        let mut mine = Listed(units.iter().skip(rank).step_by(2).cloned().collect());
        e.run(
            &mut mine,
            &mut |r| {
                results.push(r);
                Ok(Flow::Continue)
            },
            &mut |_, _| {},
        )
        .unwrap();
    }
    assert_eq!(results.len(), units.len());
    // Each unit holds its own band only.
    for r in &results {
        let other = 1 - r.unit.bands[0];
        let w = layout.weight_index(0, 1, other, 0);
        assert_eq!(r.integration.weights[w], 0.0);
        assert!(r.integration.weights[layout.weight_index(0, 1, r.unit.bands[0], 0)] > 0.9);
    }
    results.reverse();
    let mut sink = MemorySink::default();
    let e = Engine::prepare(&job, sc.sources(&sig), &build, &opts).unwrap();
    sink.begin(&e.header()).unwrap();
    let mut c = Collector::new(&mut sink, &layout, 2, true, 0).unwrap();
    for r in results {
        assert_eq!(c.accept(r).unwrap(), Flow::Continue);
    }
    assert_eq!(c.written(), nint);
    let s = c
        .finish(&job, e.start(), e.total_blocks(), vec![], 1.0)
        .unwrap();
    assert_eq!(s.integrations, nint);
    assert!(sink.finished);
    assert_eq!(sink.integrations, full.integrations);
}

mod centres;
mod hetero;
mod pcal;
mod spectral;
mod threads;
mod zoom;
