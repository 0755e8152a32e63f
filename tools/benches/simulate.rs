//! Simulated samples per second per core, 2-bit real output: one 8 MHz
//! subband sampled at 16 Ms/s with sky and noise generation, continuous
//! delay, LO phase and quantisation.
//!
//! - `one_station`: a lunar-like station alone (1.28 s, 4.7 µs/s): the sky
//!   is made for this station only (worst case).
//! - `four_stations`: three Earth-like stations and the lunar one advancing
//!   together in geocentric time and sharing the sky (as `emcorr simulate`
//!   runs them); throughput counts the samples of all four.
//!
//! Timed by this thread's CPU clock, not the wall clock: the figure is
//! samples per second per core, whatever else the machine is running.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use formats::UtcTime;
use std::sync::Arc;
use std::time::Duration;
use tools::simulate::quantise::Quantiser;
use tools::simulate::signal::*;

struct Linear(UtcTime, f64, f64);
impl TrueDelay for Linear {
    fn delay_s(&self, g: UtcTime) -> f64 {
        self.1 + self.2 * g.seconds_since(self.0)
    }
}

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn station(
    sky: GaussianSky,
    interp: &Arc<Interpolator>,
    t0: UtcTime,
    tau0: f64,
    rate: f64,
    index: usize,
) -> StationSignal<GaussianSky> {
    let sampling = SubbandSampling::band(8.4e9, 8e6, true, false);
    StationSignal::new(
        sky,
        interp.clone(),
        Arc::new(Linear(t0, tau0, rate)),
        sampling,
        t0.add_seconds(tau0),
        t0,
        0.05,
        1,
        noise_stream(index, 0),
    )
}

fn bench(c: &mut Criterion) {
    let t0 = UtcTime::from_calendar(2026, 3, 15, 0, 30, 0, 0.0);
    let interp = Arc::new(Interpolator::new());
    let q = Quantiser::new(2).unwrap();
    let n = 1 << 16;
    let mut x = vec![0.0f32; n];
    let mut codes = vec![0u8; n];
    let mut g = c.benchmark_group("simulate_2bit_real_per_cpu_second");

    let mut one = station(GaussianSky::new(1, 0), &interp, t0, 1.28, 4.7e-6, 0);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("one_station", |b| {
        b.iter_custom(|iters| {
            let t = thread_cpu_time();
            for _ in 0..iters {
                one.fill(&mut x);
                q.quantise(&x, &mut codes);
                std::hint::black_box(&codes);
            }
            thread_cpu_time() - t
        })
    });

    let sky = Arc::new(SkyCache::new(1, 0, 64));
    let mut four: Vec<_> = [
        (0.012, 1.1e-6),
        (-0.009, -0.4e-6),
        (0.017, 2.0e-6),
        (1.28, 4.7e-6),
    ]
    .iter()
    .enumerate()
    .map(|(i, &(tau, rate))| station(GaussianSky::shared(sky.clone()), &interp, t0, tau, rate, i))
    .collect();
    g.throughput(Throughput::Elements(4 * n as u64));
    g.bench_function("four_stations_shared_sky", |b| {
        b.iter_custom(|iters| {
            let t = thread_cpu_time();
            for _ in 0..iters {
                for st in four.iter_mut() {
                    st.fill(&mut x);
                    q.quantise(&x, &mut codes);
                    std::hint::black_box(&codes);
                }
            }
            thread_cpu_time() - t
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
