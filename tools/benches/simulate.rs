//! Simulated samples per second per core: one station, one 8 MHz subband,
//! real sampling at 16 Ms/s, lunar-like delay (1.28 s, 4.7 µs/s), sky and
//! noise generation, continuous delay, LO phase, 2-bit quantisation.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use formats::UtcTime;
use std::sync::Arc;
use std::time::Duration;
use tools::simulate::quantise::Quantiser;
use tools::simulate::signal::*;

struct Linear(UtcTime);
impl TrueDelay for Linear {
    fn delay_s(&self, g: UtcTime) -> f64 {
        1.28 + 4.7e-6 * g.seconds_since(self.0)
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

fn bench(c: &mut Criterion) {
    let t0 = UtcTime::from_calendar(2026, 3, 15, 0, 30, 0, 0.0);
    let sampling = SubbandSampling {
        lo_hz: 8.4e9,
        bandwidth_hz: 8e6,
        upper_sideband: true,
        complex: false,
    };
    let mut st = StationSignal::new(
        GaussianSky::new(1, 0),
        Arc::new(Interpolator::new()),
        Arc::new(Linear(t0)),
        sampling,
        t0.add_seconds(1.28),
        t0,
        0.05,
        1,
        noise_stream(0, 0),
    );
    let q = Quantiser::new(2).unwrap();
    let n = 1 << 18;
    let mut x = vec![0.0f32; n];
    let mut codes = vec![0u8; n];
    let mut g = c.benchmark_group("simulate");
    g.throughput(Throughput::Elements(n as u64));
    // Timed by this thread's CPU clock, not the wall clock: the figure is
    // samples per second per core, whatever else the machine is running.
    g.bench_function("station_2bit_real_samples_per_cpu_second", |b| {
        b.iter_custom(|iters| {
            let t0 = thread_cpu_time();
            for _ in 0..iters {
                st.fill(&mut x);
                q.quantise(&x, &mut codes);
                std::hint::black_box(&codes);
            }
            thread_cpu_time() - t0
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
