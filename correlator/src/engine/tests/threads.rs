//! Threads at every FFT length (issue 14): the output is bitwise the same
//! for any number of worker threads, whether the workers share a chunk by
//! unit (small FFTs) or by stage (large FFTs, a chunk of one or a few
//! blocks); and with large FFTs the work really is shared. Truth is the
//! one-thread run, which takes whole units in block order, as before.

use super::*;
use crate::engine::schedule::cut;

/// Three stations, two bands of two polarisations each in four VDIF
/// threads (so files are read band by band, and a unit leaves two
/// subbands idle).
fn scenario(n: usize, integration_s: f64, duration_s: f64) -> Scenario {
    let mut sc = Scenario::basic();
    sc.stations.push(SimStation {
        name: "C".into(),
        tau0: 0.02,
        rate: 2e-6,
        extra_s: 1.3e-7,
        origin_s: 0,
    });
    sc.subbands = vec![
        (8.4e9, "U", "R", 0),
        (8.4e9, "U", "L", 1),
        (8.5e9, "L", "R", 2),
        (8.5e9, "L", "L", 3),
    ];
    sc.tones = 8;
    sc.n = n;
    sc.integration_s = integration_s;
    sc.duration_s = duration_s;
    sc
}

fn bits(sink: &MemorySink) -> Vec<u32> {
    sink.integrations
        .iter()
        .flat_map(|i| {
            i.vis
                .iter()
                .flat_map(|c| [c.re.to_bits(), c.im.to_bits()])
                .chain(i.weights.iter().map(|w| w.to_bits()))
                .chain([
                    i.inttim_s.to_bits() as u32,
                    (i.inttim_s.to_bits() >> 32) as u32,
                ])
        })
        .collect()
}

/// Runs on 1, 2, 3 and 5 threads (5: more than the stations, and odd
/// against the 3 stations × 2 subbands of a unit) give the same bits.
fn same_bits_for_any_thread_count(sc: &Scenario, integrations: usize) {
    let sig = sc.signals();
    // Station B misses every fourth 100 000 samples: blocks that touch a
    // gap are dropped, so validity takes both paths.
    let mask = |s: usize, _i: usize| {
        (s == 1).then(|| (0..2_000_000).map(|q| (q / 100_000) % 4 != 1).collect())
    };
    let one = sc.run(sc.sources_masked(&sig, &mask), 1);
    assert_eq!(one.integrations.len(), integrations);
    let w = one.layout.as_ref().unwrap().weight_index(0, 1, 0, 0);
    let weights: Vec<f32> = one.integrations.iter().map(|i| i.weights[w]).collect();
    assert!(
        weights.iter().any(|&x| x < 0.99) && weights.iter().any(|&x| x > 0.0),
        "the gaps should cost station B some blocks, not all: {weights:?}"
    );
    for threads in [2, 3, 5] {
        let r = sc.run(sc.sources_masked(&sig, &mask), threads);
        assert_eq!(r.integrations.len(), integrations);
        assert!(
            bits(&r) == bits(&one),
            "fft {}: {threads} threads differ from 1",
            sc.n
        );
    }
}

#[test]
fn output_is_bitwise_identical_for_any_thread_count_at_fft_1024() {
    // 1024 points at 8 MHz: integrations of 79 blocks (units 9 × 8 + 7),
    // chunks of whole units, the workers taking whole units.
    let sc = scenario(1024, 0.01, 0.025);
    for t in [1, 2, 3, 5] {
        assert!(!cut(1024, t, 3).by_stage);
    }
    same_bits_for_any_thread_count(&sc, 3);
}

#[test]
fn output_is_bitwise_identical_for_any_thread_count_at_fft_65536() {
    // 2^16 points at 8 MHz: integrations of 11 blocks (units 8 + 3), 24
    // blocks in all. One thread reads one block per chunk, a unit's sums
    // carried over eight chunks; 2 threads share chunks of 2 blocks by
    // stage, 3 threads chunks of 4, 5 threads chunks of 8.
    let n = 1 << 16;
    let sc = scenario(n, 0.09, 0.2);
    let cuts: Vec<(usize, bool)> = [1, 2, 3, 5]
        .iter()
        .map(|&t| {
            let c = cut(n, t, 3);
            (c.blocks, c.by_stage)
        })
        .collect();
    assert_eq!(cuts, [(1, false), (2, true), (4, true), (8, true)]);
    same_bits_for_any_thread_count(&sc, 3);
}

#[test]
fn with_2_18_point_ffts_both_workers_get_work_in_every_phase() {
    // Two stations, one subband: 2 station-stage inputs per block. Before
    // issue 14 a chunk was one unit here, done by one worker.
    let mut sc = Scenario::basic();
    let n = 1 << 18;
    sc.n = n;
    sc.tones = 8;
    sc.integration_s = 0.2; // 6 blocks of 32.8 ms
    sc.duration_s = 0.4;
    let c = cut(n, 2, 2);
    assert!(c.by_stage);
    assert_eq!(c.blocks, 2);
    let sig = sc.signals();
    let job = sc.job();
    let build = |c: usize, a: UtcTime, b: UtcTime| centre_model(&job, c, a, b);
    let opts = Options {
        threads: 2,
        ..Options::default()
    };
    let mut e = Engine::prepare(&job, sc.sources(&sig), &build, &opts).unwrap();
    let total = e.total_blocks().unwrap();
    assert_eq!((total, e.layout().blocks_per_integration), (12, 6));
    let mut got = Vec::new();
    let mut schedule = InOrder::new(0, vec![vec![0]]);
    e.run(
        &mut schedule,
        &mut |r| {
            got.push(r.integration);
            Ok(Flow::Continue)
        },
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(got.len(), 2);
    // 6 chunks of 2 blocks, each a phase of 4 station tasks (2 blocks × 2
    // stations) and one of baseline tasks; worker w takes task w of each
    // phase first, so each worker did at least one task in each of the 12
    // phases, whatever the timing.
    let tasks = e.worker_tasks().to_vec();
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|&t| t >= 12), "tasks per worker {tasks:?}");
    // And the result is the one-thread result.
    let mut one = MemorySink::default();
    let opts1 = Options {
        threads: 1,
        ..Options::default()
    };
    correlate(&job, sc.sources(&sig), &opts1, &mut one, &mut |_| {}).unwrap();
    assert_eq!(one.integrations.len(), 2);
    for (a, b) in got.iter().zip(&one.integrations) {
        assert!(a.vis == b.vis && a.weights == b.weights && a.inttim_s == b.inttim_s);
    }
}

#[test]
fn every_fft_length_gives_every_thread_work() {
    // The cut, for FFTs of 64 to 2^20 points, 1 to 8 threads and 1 to 4
    // stations: by unit, a chunk holds at least two units per worker; by
    // stage, at least two station tasks per worker (the fewest inputs a
    // unit has: one subband) and, for the baseline stage, at least one
    // channel range per worker from 2048 points on (real data: 1024
    // channels, ranges of ≥ 256).
    for log_n in 6..=20 {
        let n = 1usize << log_n;
        for t in 1..=8 {
            for streams in 1..=4 {
                let c = cut(n, t, streams);
                assert!(c.blocks < 8 && c.blocks.is_power_of_two() || c.blocks.is_multiple_of(8));
                if c.by_stage {
                    assert!(t > 1 && c.blocks * streams >= 2 * t, "n {n} t {t} {c:?}");
                    assert!((n / 2 / 256).clamp(1, 4 * t) >= t, "n {n} t {t}");
                } else {
                    assert!(t == 1 || c.blocks / 8 >= 2 * t, "n {n} t {t} {c:?}");
                }
            }
        }
    }
}
