//! Same-beam differential phase delays against the injected truth of
//! testdata/scenarios/samebeam_session.toml (lander + rover, the rover
//! 1.05 m off its a priori).

use super::{solve, Solution, SolveOptions};
use crate::simulate::observables::simulate_observables;
use crate::simulate::scenario::Scenario;
use correlator::job::Job;
use serde_json::Value;
use std::path::Path;

fn scenario() -> Scenario {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/samebeam_session.toml");
    Scenario::from_file(&p).unwrap()
}

/// The rover with lander, LS and Earth stations held; clocks estimated.
const ESTIMATE: &str = "-moon_position,-lander:CE7LANDER";
const AXES: [&str; 3] = ["moon_x_m", "moon_y_m", "moon_z_m"];

fn run(dir: &Path, opts: &SolveOptions) -> (Solution, Value) {
    let job = Job::from_file(&dir.join("job.toml")).unwrap();
    let read = super::read_files(&[dir.join("fringe.json")], &job).unwrap();
    let sol = solve(&job, &read, opts).unwrap();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    (sol, truth)
}

fn opts() -> SolveOptions {
    SolveOptions {
        estimate: Some(ESTIMATE.into()),
        ..SolveOptions::default()
    }
}

/// (estimate − truth)/σ, σ (m) and truth − a priori (m) per axis.
fn rover(sol: &Solution, truth: &Value) -> Vec<(f64, f64, f64)> {
    AXES.iter()
        .map(|a| {
            let name = format!("CE7ROVER:{a}");
            let p = sol.get(&name).unwrap_or_else(|| panic!("no {name}"));
            let t = truth["parameters"][&name].as_f64().unwrap();
            ((p.estimate - t) / p.sigma, p.sigma, t - p.apriori)
        })
        .collect()
}

#[test]
fn same_beam_phase_delays_recover_the_rover_within_3_sigma_at_mm_to_cm_level() {
    let started = std::time::Instant::now();
    let d = tempfile::tempdir().unwrap();
    simulate_observables(&scenario(), d.path()).unwrap();
    let (sol, truth) = run(d.path(), &opts());
    let r = rover(&sol, &truth);
    let offset = r.iter().map(|x| x.2 * x.2).sum::<f64>().sqrt();
    assert!(
        (offset - 1.05).abs() < 0.05,
        "the rover's a priori is ~1 m off: {offset}"
    );
    for (a, (z, s, _)) in AXES.iter().zip(&r) {
        eprintln!(
            "CE7ROVER:{a}: (estimate − truth)/σ = {z:+.2}, σ = {:.2} mm",
            s * 1e3
        );
        assert!(z.abs() < 3.0, "{a}: {z}σ");
        assert!(*s < 0.05, "{a}: σ {s} m is not at cm level");
    }
    // 12 same-beam scans × 6 baselines; UR's rover is too weak on its two
    // Earth baselines (σ_g ≈ 0.7 cycle): refused and flagged, not used.
    assert_eq!(sol.n_phase_delay_diff, 72);
    assert_eq!(sol.n_ambiguity_refused, 24);
    for o in sol
        .residuals
        .iter()
        .filter(|o| o.observable == "phase_delay_diff")
    {
        assert_eq!(
            (o.source.as_str(), o.source_b.as_deref()),
            ("CE7ROVER", Some("CE7LANDER"))
        );
        let refused = o.baseline == "T6-UR" || o.baseline == "KM-UR";
        assert_eq!(o.ambiguity_cycles.is_none(), refused, "{o:?}");
        if refused {
            assert!(o.flagged, "{o:?}");
            assert!(o
                .flag_reason
                .as_deref()
                .unwrap()
                .starts_with("ambiguity refused"));
        }
    }
    assert!(sol.chi2_dof < 1.5, "chi2/dof {}", sol.chi2_dof);
    // Without the phase delays the group delays alone do far worse.
    let (g, _) = run(
        d.path(),
        &SolveOptions {
            same_beam: false,
            ..opts()
        },
    );
    let rg = rover(&g, &truth);
    for (a, ((_, s, _), (_, sg, _))) in AXES.iter().zip(r.iter().zip(&rg)) {
        eprintln!("CE7ROVER:{a}: σ group delays only {:.2} mm", sg * 1e3);
        assert!(sg > s, "{a}");
    }
    eprintln!("runtime {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn an_ambiguity_the_group_delay_cannot_fix_is_flagged_and_a_forced_wrong_one_is_an_outlier() {
    let d = tempfile::tempdir().unwrap();
    simulate_observables(&scenario(), d.path()).unwrap();
    let (good, _) = run(d.path(), &opts());
    // The correct ambiguities (resolved at ~0.1 cycle) of T6-KM.
    let right = |sol: &Solution| -> Vec<(String, Option<i64>, bool, Option<String>)> {
        sol.residuals
            .iter()
            .filter(|o| o.observable == "phase_delay_diff" && o.baseline == "T6-KM")
            .map(|o| {
                (
                    o.scan.clone(),
                    o.ambiguity_cycles,
                    o.flagged,
                    o.flag_reason.clone(),
                )
            })
            .collect()
    };
    let truth_n = right(&good);
    assert!(truth_n.iter().all(|x| x.1.is_some() && !x.2));
    // Spoil the rover's T6-KM group delays: σ 40 ps (0.33 cycle of the
    // difference) and 0.6 cycle off.
    let path = d.path().join("fringe.json");
    let mut rows: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let f_ref = rows[0]["ref_freq_hz"].as_f64().unwrap();
    for r in rows.iter_mut() {
        if r["source"] == "CE7ROVER" && r["baseline"] == "T6-KM" {
            let t = r["total_delay_s"].as_f64().unwrap() + 0.6 / f_ref;
            r["total_delay_s"] = t.into();
            r["mbd_s"] = (r["mbd_s"].as_f64().unwrap() + 0.6 / f_ref).into();
            r["mbd_sigma_s"] = 40e-12.into();
        }
    }
    std::fs::write(&path, serde_json::to_string(&rows).unwrap()).unwrap();
    let (sol, truth) = run(d.path(), &opts());
    let spoilt = right(&sol);
    assert_eq!(spoilt.len(), 12);
    for (scan, n, flagged, why) in &spoilt {
        assert!(n.is_none() && *flagged, "{scan}");
        assert!(why.as_deref().unwrap().contains("0.3"), "{why:?}");
    }
    for (a, (z, ..)) in AXES.iter().zip(rover(&sol, &truth)) {
        assert!(z.abs() < 3.0, "{a}: {z}σ");
    }
    // Forced (--ambiguity-max-cycles 1): the wrong ambiguities are 1/f_ref
    // (hundreds of σ) off and flagged as outliers; the right ones used.
    let (forced, truth) = run(
        d.path(),
        &SolveOptions {
            ambiguity_max_cycles: 1.0,
            ..opts()
        },
    );
    let mut wrong = 0;
    for ((scan, n, flagged, why), (_, n0, ..)) in right(&forced).iter().zip(&truth_n) {
        if n != n0 {
            wrong += 1;
            assert!(
                *flagged && why.as_deref() == Some("outlier"),
                "{scan}: {why:?}"
            );
        }
    }
    eprintln!("forced: {wrong} of 12 wrong ambiguities, all flagged as outliers");
    assert!(wrong > 0, "the spoilt group delays should mislead some");
    for (a, (z, ..)) in AXES.iter().zip(rover(&forced, &truth)) {
        assert!(z.abs() < 3.0, "{a}: {z}σ");
    }
}

/// Scatter of the rover's (estimate − truth)/σ over 20 realisations
/// (seeds 100–119: new noise each), x, y and z together (x and z are
/// correlated at −1.00, so the 60 are ~40 independent draws): with the σ
/// right it is ~1 (a standard error of ~0.11). Measured: x 0.993, y 0.919,
/// z 1.003, all 0.973, 7 iterations each at the 0.05σ limit. With the
/// 0.2 ps floor on the phase delays' σ and the 0.5σ limit that the
/// barycentric model's ~1e-13 s rounding needed, it was 0.618 (σ too
/// large by 1.6). Slow (~25 s): `--ignored`.
#[test]
#[ignore]
fn rover_scatter_over_sigma_over_20_realisations() {
    let (mut s, mut n, mut iters) = ([0.0; 3], 0usize, Vec::new());
    for seed in 100..120 {
        let mut sc = scenario();
        sc.set_seed(seed);
        let d = tempfile::tempdir().unwrap();
        simulate_observables(&sc, d.path()).unwrap();
        let (sol, truth) = run(d.path(), &opts());
        for (k, (z, _, _)) in rover(&sol, &truth).iter().enumerate() {
            s[k] += z * z;
        }
        n += 1;
        iters.push(sol.iterations);
    }
    let axis: Vec<f64> = s.iter().map(|v| (v / n as f64).sqrt()).collect();
    let all = (s.iter().sum::<f64>() / (3 * n) as f64).sqrt();
    eprintln!(
        "rover scatter/σ: x {:.3}, y {:.3}, z {:.3}, all {all:.3} over {n}; iterations {iters:?}",
        axis[0], axis[1], axis[2]
    );
    assert!((0.8..1.25).contains(&all), "scatter/σ {all}");
}
