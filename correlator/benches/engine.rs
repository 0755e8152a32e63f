//! Engine throughput (run: `cargo bench -p correlator --bench engine`).
//!
//! Prints, for the job's FFT size (1024): the bare realfft r2c throughput on
//! 1 and 2 threads (and the complex FFT's, for the rotation formulation),
//! then the whole correlator on 2 and 4 stations, 2-bit real data, 2
//! subbands of 16 MHz (32 Msamples/s each), EMCORR_BENCH_SECONDS (default
//! 10) s of data generated in memory, on 1 and 2 worker threads, with 1
//! and 2 phase centres (EMCORR_BENCH_CENTRES, default "1,2"; the second
//! centre 1 ms away on the lunar station and 10–30 µs on the others, its
//! rate 1e-7 apart: 840 Hz of fringe rate): samples/s per core per
//! station, multiple of real time, fraction of the bare r2c throughput,
//! peak RSS, and what the second centre costs (CPU seconds per data second,
//! as a ratio to one centre, runs side by side). Not a test: figures depend
//! on the machine.
//!
//! With EMCORR_BENCH_FFTS (e.g. `1024,16384,262144,1048576`) it measures
//! thread scaling instead: for each FFT length and station count
//! (EMCORR_BENCH_STATIONS), EMCORR_BENCH_REPEATS (default 5) pairs of runs
//! on 1 and 2 worker threads, back to back (alternating which goes
//! first), the wall-clock speed-up of each pair, its median and range, the
//! bare r2c FFT's own 2-thread speed-up at that length, and the engine's
//! memory estimate against the peak RSS.

use correlator::engine::baseline::{auto_mac, cmac};
use correlator::engine::station::{StationDsp, SubbandDsp};
use correlator::engine::{
    self, BlockGeom, EngineError, MemorySink, Options, RealFormulation, SampleSource, StreamInfo,
    VdifError,
};
use correlator::model::{self, ModelTracks};
use correlator::Job;
use formats::UtcTime;
use num_complex::Complex32;
use realfft::RealFftPlanner;
use rustfft::FftPlanner;
use std::path::Path;
use std::time::Instant;

const N: usize = 1024;
const FS: f64 = 32e6;

/// CPU seconds this process has used (user + system; /proc, 10 ms ticks).
/// Rates per CPU second are what a core achieves even when other programs
/// share the machine; wall-clock rates are printed beside them.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// (samples per wall second, samples per CPU second) of `threads` threads
/// each running r2c (or c2c) on its own buffer.
fn fft_rate(threads: usize, complex: bool, secs: f64) -> (f64, f64) {
    fft_rate_n(N, threads, complex, secs)
}

/// As [`fft_rate`], at `n` points.
fn fft_rate_n(n: usize, threads: usize, complex: bool, secs: f64) -> (f64, f64) {
    let c0 = cpu_s();
    let t0 = Instant::now();
    let counts: Vec<usize> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut x: Vec<f32> = (0..n).map(|i| ((i * 7 + t) % 13) as f32 - 6.0).collect();
                    let start = Instant::now();
                    let mut done = 0usize;
                    // ~0.25 M samples between looks at the clock.
                    let batch = ((1usize << 18) / n).max(1);
                    if complex {
                        let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
                        let mut buf: Vec<Complex32> =
                            x.iter().map(|&v| Complex32::new(v, -v)).collect();
                        let mut scratch =
                            vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
                        while start.elapsed().as_secs_f64() < secs {
                            for _ in 0..batch {
                                fft.process_with_scratch(&mut buf, &mut scratch);
                                buf[0] = Complex32::new(1.0, 0.0);
                            }
                            done += batch;
                        }
                    } else {
                        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
                        let mut out = fft.make_output_vec();
                        let mut scratch = fft.make_scratch_vec();
                        while start.elapsed().as_secs_f64() < secs {
                            for _ in 0..batch {
                                fft.process_with_scratch(&mut x, &mut out, &mut scratch)
                                    .unwrap();
                                x[0] = out[1].re;
                            }
                            done += batch;
                        }
                    }
                    done
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let samples = counts.iter().sum::<usize>() as f64 * n as f64;
    (
        samples / t0.elapsed().as_secs_f64(),
        samples / (cpu_s() - c0),
    )
}

/// An endless 2-bit recording generated from a table (cheap to read).
struct BenchSource {
    info: StreamInfo,
    table: Vec<f32>,
}

impl BenchSource {
    fn new(seed: u64) -> Self {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let table = (0..(1 << 20) + 4099)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                [-3.3359f32, -1.0, 1.0, 3.3359][(state >> 62) as usize]
            })
            .collect();
        BenchSource {
            info: StreamInfo {
                station_id: seed as u16,
                threads: vec![0, 1],
                channels: 1,
                bits: 2,
                complex: false,
                frame_bytes: 8032,
                samples_per_frame: 32000,
                sample_rate_hz: FS,
                sample_rate_inferred: false,
            },
            table,
        }
    }
}

impl SampleSource for BenchSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }
    fn origin(&self) -> UtcTime {
        UtcTime::new(0, 0.0)
    }
    fn read(
        &mut self,
        thread: u16,
        _channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError> {
        let len = (1usize << 20) as i64;
        let mut pos = 0;
        while pos < out.len() {
            let start = ((first + pos as i64).rem_euclid(len)) as usize + thread as usize;
            let n = (out.len() - pos).min(len as usize - (start - thread as usize));
            out[pos..pos + n].copy_from_slice(&self.table[start..start + n]);
            pos += n;
        }
        valid.fill(true);
        Ok(())
    }
    fn discard_before(&mut self, _first: i64) {}
}

/// The bench job with `centres` phase centres; its stations' delays are
/// those of centre `model_of` (the engine takes each centre's model from
/// the job of that centre).
fn job(stations: usize, seconds: f64, centres: usize, model_of: usize) -> Job {
    job_n(N, stations, seconds, centres, model_of)
}

/// As [`job`], with FFTs of `n` points.
fn job_n(n: usize, stations: usize, seconds: f64, centres: usize, model_of: usize) -> Job {
    let mut t = format!(
        "[job]\nname = \"bench\"\nstart = \"2000-01-01T00:00:02Z\"\nduration_s = {seconds:?}\n\
         [correlation]\nfft_length = {n}\nintegration_s = 1.0\n"
    );
    for c in 0..centres {
        t += &format!(
            "[[source]]\nname = \"S{c}\"\nra_deg = {}\ndec_deg = 2.0\n",
            1.0 + c as f64
        );
    }
    let c = model_of as f64;
    for s in 0..stations {
        // Station 1 is lunar-like: 1.3 s and 4 µs/s (≈ 34 kHz fringe rate at
        // 8.4 GHz). A second centre (a lander beside a quasar) lies 1 ms
        // away on it, 10 µs per station index on the others, and 1e-7 apart
        // in rate.
        let (tau, rate) = if s == 1 {
            (1.3 + c * 1e-3, 4e-6 + c * 1e-7)
        } else {
            (1e-3 * s as f64 + c * 1e-5 * s as f64, 1e-7 + c * 1e-7)
        };
        t += &format!(
            "[[station]]\nname = \"S{s}\"\ndelay_poly = {{ epoch = \"2000-01-01T00:00:00Z\", coeffs_s = [{tau:?}, {rate:?}] }}\n"
        );
        // Phase-cal extraction's cost: EMCORR_BENCH_PCAL_HZ = the comb's
        // interval (1e6: 15 tones per 16 MHz band).
        if let Ok(p) = std::env::var("EMCORR_BENCH_PCAL_HZ") {
            t += &format!("pcal_interval_hz = {p}\n");
        }
    }
    for (i, f) in [8.4e9, 8.416e9].iter().enumerate() {
        t += &format!(
            "[[subband]]\nsky_freq_hz = {f:?}\nbandwidth_hz = 16e6\nsideband = \"U\"\npol = \"R\"\nthread = {i}\n"
        );
    }
    Job::from_toml_str(&t, Path::new("bench.toml")).unwrap()
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() {
    let seconds: f64 = std::env::var("EMCORR_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    if let Ok(ffts) = std::env::var("EMCORR_BENCH_FFTS") {
        let ffts: Vec<usize> = ffts.split(',').filter_map(|x| x.parse().ok()).collect();
        return scaling(&ffts, seconds);
    }
    // Interleaved, best of three: other programs share this machine.
    let best = |v: &[(f64, f64)]| {
        (
            v.iter().map(|x| x.0).fold(0.0, f64::max),
            v.iter().map(|x| x.1).fold(0.0, f64::max),
        )
    };
    let (mut r1, mut r2, mut c1) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        r1.push(fft_rate(1, false, 1.0));
        c1.push(fft_rate(1, true, 1.0));
        r2.push(fft_rate(2, false, 1.0));
    }
    let (r2c1, r2c1_cpu) = best(&r1);
    let (r2c2, _) = best(&r2);
    let (c2c1, c2c1_cpu) = best(&c1);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.trim());
    println!("bare FFT, {N} points (wall-clock rates; per CPU second in brackets):");
    println!(
        "  r2c 1 thread : {:7.1} Msamples/s [{:7.1}]",
        r2c1 / 1e6,
        r2c1_cpu / 1e6
    );
    println!(
        "  r2c 2 threads: {:7.1} Msamples/s (speed-up {:.2})",
        r2c2 / 1e6,
        r2c2 / r2c1
    );
    println!(
        "  c2c 1 thread : {:7.1} Msamples/s [{:7.1}] (per complex sample; {:.2}× the r2c cost per sample)",
        c2c1 / 1e6,
        c2c1_cpu / 1e6,
        r2c1_cpu / c2c1_cpu
    );
    // Phase-cal extraction's cost per sample against the bare FFT's, in
    // the same run (interleaved, best of three): real samples folded with a
    // 32-sample period (1 MHz tones at 32 Ms/s), 64 k samples per call.
    let fold = || {
        let x: Vec<f32> = (0..1 << 16).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
        let valid = vec![true; x.len()];
        let mut f = correlator::engine::pcal::Fold::new(32, false);
        let c0 = cpu_s();
        let t0 = Instant::now();
        let mut n = 0usize;
        while t0.elapsed().as_secs_f64() < 0.5 {
            f.add(&x, &valid, n as i64);
            n += x.len();
        }
        std::hint::black_box(&f);
        n as f64 / (cpu_s() - c0)
    };
    let folds: Vec<f64> = (0..3).map(|_| fold()).collect();
    let fold_rate = folds.iter().cloned().fold(0.0, f64::max);
    println!(
        "  pcal fold    : {:7.1} Msamples/s per CPU second ({:.1}% of the r2c cost per sample)",
        fold_rate / 1e6,
        100.0 * r2c1_cpu / fold_rate
    );
    let formulations: Vec<RealFormulation> = match std::env::var("EMCORR_BENCH_FORMULATIONS") {
        Ok(s) if s == "both" => vec![RealFormulation::TwoRealFfts, RealFormulation::ComplexFft],
        Ok(s) if s == "complex" => vec![RealFormulation::ComplexFft],
        _ => vec![RealFormulation::default()],
    };
    println!("correlator: 2-bit real, 2 subbands × 16 MHz, {seconds} s of data, FFT {N}:");
    let list = |var: &str, default: Vec<usize>| -> Vec<usize> {
        std::env::var(var)
            .ok()
            .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or(default)
    };
    let station_counts = list("EMCORR_BENCH_STATIONS", vec![2, 4]);
    let centre_counts = list("EMCORR_BENCH_CENTRES", vec![1, 2]);
    for formulation in formulations {
        for &stations in &station_counts {
            let mut rate1 = vec![0.0; centre_counts.len()];
            for threads in [1usize, 2] {
                // CPU seconds per data second of each centre count, side by side.
                let mut cost = Vec::new();
                for (ci, &centres) in centre_counts.iter().enumerate() {
                    let job = job(stations, seconds, centres, 0);
                    let models: Vec<Job> =
                        (0..centres).map(|c| job_of(stations, seconds, c)).collect();
                    let build =
                        |c: usize, a: UtcTime, b: UtcTime| -> Result<ModelTracks, EngineError> {
                            model::build_model(&models[c], a, b)
                                .map_err(|e| EngineError::bad(e.to_string()))
                        };
                    let sources: Vec<Box<dyn SampleSource>> = (0..stations)
                        .map(|s| Box::new(BenchSource::new(s as u64 + 1)) as Box<dyn SampleSource>)
                        .collect();
                    let opts = Options {
                        threads,
                        formulation,
                        ..Options::default()
                    };
                    let mut sink = MemorySink::default();
                    let c0 = cpu_s();
                    let t = Instant::now();
                    let sum = engine::correlate_with_model(
                        &job,
                        sources,
                        &build,
                        &opts,
                        &mut sink,
                        &mut |_| {},
                    )
                    .unwrap();
                    let wall = t.elapsed().as_secs_f64();
                    let cpu = cpu_s() - c0;
                    cost.push((cpu / sum.data_s, wall / sum.data_s));
                    let samples = sum.data_s * FS * 2.0 * stations as f64;
                    let per_cpu = samples / cpu;
                    if threads == 1 {
                        rate1[ci] = samples / wall;
                    }
                    println!(
                        "  {formulation:?} {stations} stations, {centres} centre(s), {threads} thread(s): {:5.2}× real time; per CPU second {:6.1} Msamples/s = {:5.1} per station, {:4.1}% of bare r2c{}; peak RSS {:.0} MB",
                        sum.speed_x_realtime,
                        per_cpu / 1e6,
                        per_cpu / stations as f64 / 1e6,
                        100.0 * per_cpu / r2c1_cpu,
                        if threads == 2 {
                            format!(
                                "; wall speed-up {:.2} ({:.0}% of the bare FFT's {:.2})",
                                samples / wall / rate1[ci],
                                100.0 * (samples / wall / rate1[ci]) / (r2c2 / r2c1),
                                r2c2 / r2c1
                            )
                        } else {
                            String::new()
                        },
                        peak_rss_mb()
                    );
                }
                if cost.len() > 1 {
                    let (c1, w1) = cost[0];
                    let ratios: Vec<String> = centre_counts
                        .iter()
                        .zip(&cost)
                        .skip(1)
                        .map(|(n, (c, w))| {
                            format!("{n} centres {:.2}× CPU, {:.2}× wall", c / c1, w / w1)
                        })
                        .collect();
                    // What the centres share (reading the samples, 2
                    // subbands per station) and, for comparison, one
                    // centre's station stage (2 subbands per station) and
                    // baseline stage (2 bands per baseline and
                    // autocorrelation) run alone, hot in cache.
                    let (read_s, spec_s, cmac_s, auto_s) = stage_costs(formulation);
                    let blocks_per_s = FS / N as f64;
                    let nbl = stations * (stations - 1) / 2;
                    let shared = 2.0 * stations as f64 * FS * read_s;
                    let stages = blocks_per_s
                        * 2.0
                        * (stations as f64 * spec_s
                            + nbl as f64 * cmac_s
                            + stations as f64 * auto_s);
                    let extra = (cost[1].0 - c1) / (centre_counts[1] - centre_counts[0]) as f64;
                    println!(
                        "    cost against {} centre(s), {stations} stations, {threads} thread(s): {}; CPU s per data s: one centre {c1:.3}, each added centre {extra:.3} ({:.0}% of one); reading (shared) alone {shared:.3} ({:.0}% of one centre), station and baseline stages alone {stages:.3}",
                        centre_counts[0],
                        ratios.join("; "),
                        100.0 * extra / c1,
                        100.0 * shared / c1,
                    );
                }
            }
        }
    }
}

/// CPU seconds of reading one sample of one subband (as the engine's
/// reader does, a chunk of 64 k samples at a time), of one block's station
/// stage (rotate, FFT, correct: one station, one subband) and of one
/// band's cross and auto multiply-accumulate, each run alone in a loop
/// (best of three).
fn stage_costs(formulation: RealFormulation) -> (f64, f64, f64, f64) {
    let mut src = BenchSource::new(9);
    let chunk = 1 << 16;
    let (mut out, mut valid) = (vec![0.0f32; chunk], vec![false; chunk]);
    let x = src.table[..N].to_vec();
    let x = &x[..];
    let mut dsp = StationDsp::new(N, false, formulation, Default::default());
    let (mut re, mut im) = (vec![0.0f32; N / 2], vec![0.0f32; N / 2]);
    let geom = BlockGeom {
        n0: 0,
        delta: 0.3,
        tau_s: 1.3,
        rate_station: 4e-6,
        ..BlockGeom::default()
    };
    let sub = SubbandDsp {
        lo_hz: 8.4e9,
        sign: 1.0,
        ..SubbandDsp::default()
    };
    // Enough repetitions for ~0.2 s each: /proc counts CPU time in 10 ms.
    let time = |reps: usize, f: &mut dyn FnMut(usize)| {
        (0..3)
            .map(|_| {
                let c0 = cpu_s();
                f(reps);
                (cpu_s() - c0) / reps as f64
            })
            .fold(f64::INFINITY, f64::min)
    };
    let read = time(3000, &mut |reps| {
        for k in 0..reps {
            src.read(k as u16 % 2, 0, (k * chunk) as i64, &mut out, &mut valid)
                .unwrap();
            std::hint::black_box(&out);
        }
    }) / chunk as f64;
    let spec = time(60_000, &mut |reps| {
        for _ in 0..reps {
            std::hint::black_box(dsp.spectrum(x, &geom, &sub, FS, &mut re, &mut im));
        }
    });
    let (mut acc_re, mut acc_im) = (vec![0.0f32; N / 2], vec![0.0f32; N / 2]);
    let cross = time(2_000_000, &mut |reps| {
        for _ in 0..reps {
            cmac(&mut acc_re, &mut acc_im, &re, &im, &im, &re);
        }
        std::hint::black_box(&acc_re);
    });
    let auto = time(4_000_000, &mut |reps| {
        for _ in 0..reps {
            auto_mac(&mut acc_re, &re, &im);
        }
        std::hint::black_box(&acc_re);
    });
    (read, spec, cross, auto)
}

/// The job whose stations carry centre `c`'s delays (for its model).
fn job_of(stations: usize, seconds: f64, c: usize) -> Job {
    job(stations, seconds, 1, c)
}

/// One run of the bench job at `n` points on `threads` threads: wall
/// seconds, CPU seconds, data seconds.
fn run_once(n: usize, stations: usize, seconds: f64, threads: usize) -> (f64, f64, f64) {
    let job = job_n(n, stations, seconds, 1, 0);
    let sources: Vec<Box<dyn SampleSource>> = (0..stations)
        .map(|s| Box::new(BenchSource::new(s as u64 + 1)) as Box<dyn SampleSource>)
        .collect();
    let opts = Options {
        threads,
        ..Options::default()
    };
    let mut sink = MemorySink::default();
    let c0 = cpu_s();
    let t = Instant::now();
    let sum = engine::correlate(&job, sources, &opts, &mut sink, &mut |_| {}).unwrap();
    (t.elapsed().as_secs_f64(), cpu_s() - c0, sum.data_s)
}

/// Thread scaling per FFT length (see the module doc).
fn scaling(ffts: &[usize], seconds: f64) {
    let repeats: usize = std::env::var("EMCORR_BENCH_REPEATS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let stations: Vec<usize> = std::env::var("EMCORR_BENCH_STATIONS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or(vec![2]);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.trim());
    println!(
        "thread scaling: 2-bit real, 2 subbands × 16 MHz, {seconds} s of data, 1 s integrations, {repeats} pairs of runs (1 and 2 threads back to back)"
    );
    for &n in ffts {
        // The bare FFT's own 2-thread speed-up at this length: the ceiling.
        let best = |t: usize| {
            (0..3)
                .map(|_| fft_rate_n(n, t, false, 1.0).0)
                .fold(0.0, f64::max)
        };
        let bare = best(2) / best(1);
        for &st in &stations {
            let mut ratios = Vec::new();
            let mut x1 = Vec::new();
            for r in 0..repeats {
                let order: [usize; 2] = if r % 2 == 0 { [1, 2] } else { [2, 1] };
                let mut wall = [0.0; 3];
                for t in order {
                    let (w, c, d) = run_once(n, st, seconds, t);
                    wall[t] = w;
                    if t == 1 {
                        x1.push((d / w, d / c));
                    }
                }
                ratios.push(wall[1] / wall[2]);
            }
            let mut sorted = ratios.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            let median = sorted[sorted.len() / 2];
            let job = job_n(n, st, seconds, 1, 0);
            println!(
                "  FFT {n:>7}, {st} stations: 2 threads / 1 thread wall speed-up median {median:.2}, range {:.2}–{:.2} (each pair: {}); bare r2c on 2 threads {bare:.2}; 1 thread {:.2}× real time ({:.2}× per CPU s); estimate {:.0} MiB (2 threads), peak RSS so far {:.0} MB",
                sorted[0],
                sorted[sorted.len() - 1],
                ratios.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(" "),
                x1.iter().map(|x| x.0).fold(0.0, f64::max),
                x1.iter().map(|x| x.1).fold(0.0, f64::max),
                engine::buffer_bytes(&job, 2) as f64 / (1u64 << 20) as f64,
                peak_rss_mb(),
            );
        }
    }
}
