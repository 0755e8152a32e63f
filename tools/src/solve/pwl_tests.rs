//! The zwd, clock_pwl and eop groups against injected truth
//! (`emcorr simulate --observables` with `inject_zwd_m`, … on the standard
//! session), their partials against the model, and their rank analysis.

use super::observations::ReadSummary;
use super::parameters::{select, Grids, Kind};
use super::partials::{step_of, Geometry};
use super::{solve, Solution, SolveOptions};
use crate::simulate::observables::simulate_observables;
use crate::simulate::scenario::Scenario;
use correlator::job::{Job, StationPosition};
use correlator::model::geometric::{DelayModel, SourceGeometry};
use correlator::model::relativity::C;
use correlator::model::vector::{cross, dot, mul_t, sub, V3};
use formats::UtcTime;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub(super) fn scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/solve_session.toml")
}

/// The standard session with zwd errors at the Earth stations (a few cm,
/// plus a random walk of 3 mm/√h, stepped hourly: see
/// `observables::ZWD_TRUTH_STEP_S`) and EOP offsets when `eop`.
fn scenario(seed: u64, zwd: bool, eop: bool) -> Scenario {
    let mut text = std::fs::read_to_string(scenario_path()).unwrap();
    if zwd {
        for (st, z) in [("T6", 0.04), ("KM", -0.03), ("UR", 0.025)] {
            text = text.replace(
                &format!("name = \"{st}\"\n"),
                &format!(
                    "name = \"{st}\"\ninject_zwd_m = {z}\ninject_zwd_rw_m_per_sqrt_h = 0.003\n"
                ),
            );
        }
    }
    if eop {
        // 150 µs of UT1 (2.3 mas of rotation: a rapid-service
        // prediction's error after a few days), 2 and −3 mas of polar
        // motion.
        text = text.replace(
            "[simulation]\n",
            "[simulation]\ninject_ut1_s = 1.5e-4\ninject_xp_rad = 1e-8\ninject_yp_rad = -1.5e-8\n",
        );
    }
    let mut sc = Scenario::from_toml_str(&text, &scenario_path()).unwrap();
    sc.set_seed(seed);
    sc
}

pub(super) struct Run {
    pub(super) _dir: tempfile::TempDir,
    pub(super) job: Job,
    pub(super) read: ReadSummary,
    pub(super) truth: Value,
}

pub(super) fn simulate(sc: &Scenario) -> Run {
    let dir = tempfile::tempdir().unwrap();
    simulate_observables(sc, dir.path()).unwrap();
    let job = Job::from_file(&dir.path().join("job.toml")).unwrap();
    let read = super::read_files(&[dir.path().join("fringe.json")], &job).unwrap();
    let truth =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    Run {
        _dir: dir,
        job,
        read,
        truth,
    }
}

pub(super) fn opts(estimate: &str) -> SolveOptions {
    SolveOptions {
        estimate: Some(estimate.into()),
        ..SolveOptions::default()
    }
}

/// (name, (estimate − truth)/σ, σ) of every estimate.
fn normalised(sol: &Solution, truth: &Value) -> Vec<(String, f64, f64)> {
    sol.parameters
        .iter()
        .map(|p| {
            let t = truth["parameters"][&p.name]
                .as_f64()
                .unwrap_or_else(|| panic!("truth.json has no {}", p.name));
            (p.name.clone(), (p.estimate - t) / p.sigma, p.sigma)
        })
        .collect()
}

pub(super) fn assert_within_3_sigma(sol: &Solution, truth: &Value) {
    let z = normalised(sol, truth);
    for (name, z, sigma) in &z {
        eprintln!("{name}: {z:+.2} σ (σ = {sigma:.3e})");
    }
    for (name, z, _) in &z {
        assert!(z.abs() < 3.0, "{name}: {z} σ from the truth");
    }
}

/// ∂(wet delay)/∂ZWD the solve uses, m_w(e)/c, against the model itself
/// with the station's `zwd_m` changed by 5 cm (the model's wet delay is
/// linear in it; both models share every other input, so the difference
/// is exact to the delay's last bits).
#[test]
fn zwd_partial_is_the_model_change_with_the_station_zwd() {
    let run = simulate(&scenario(16, false, false));
    let (job, obs) = (&run.job, &run.read.observations);
    let epoch = super::clock_epoch(job, obs);
    let g = Geometry::new(job, obs, epoch).unwrap();
    let dz = 0.05;
    let mut checked = 0;
    for (i, o) in obs.iter().enumerate().step_by(23) {
        let src = &job.sources[o.source];
        let (from, to) = (o.epoch.add_seconds(-60.0), o.epoch.add_seconds(60.0));
        for s in [o.a, o.b] {
            if !matches!(job.stations[s].position, StationPosition::Itrf(_)) {
                assert_eq!(g.wet_mapping_per_c(i, o, s), 0.0);
                continue;
            }
            let mut wet = job.clone();
            let w = &mut wet.stations[s].weather;
            w.zwd_m = Some(w.zwd_m.unwrap_or(0.1) + dz);
            let m0 = DelayModel::new(job, src, from, to).unwrap();
            let m1 = DelayModel::new(&wet, src, from, to).unwrap();
            let d0 = m0.station(&m0.epoch(o.epoch).unwrap(), s).unwrap().delay_s;
            let d1 = m1.station(&m1.epoch(o.epoch).unwrap(), s).unwrap().delay_s;
            let fd = (d1 - d0) / dz;
            let an = g.wet_mapping_per_c(i, o, s);
            let rel = (an - fd).abs() / fd;
            eprintln!(
                "obs {i} {} station {s}: m_w/c {an:.6e} vs {fd:.6e} ({rel:.1e})",
                o.baseline
            );
            assert!(rel < 1e-6, "obs {i}: {an:e} vs {fd:e}");
            // At least the zenith value 1/c (m_w ≥ 1).
            assert!(an * C >= 1.0);
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}

/// The EOP partials (central differences of the whole model) against the
/// first-order geometric delay −k·(δx_B − δx_A)/c of the stations' GCRS
/// displacement: for UT1 the rotation about the CIP, δx = ω × x with
/// ω = dERA/dUT1 = 2π·1.00273781191135448/86400 rad/s (IERS Conventions
/// 2010 eq. 5.15), analytic; for x_p, y_p the change of SOFA's GCRS
/// position with the pole shifted by 1e-7 rad. Agreement to 1e-3 of the
/// stations' own partials (the model's aberration and retarded-baseline
/// terms are ~1e-4).
#[test]
fn eop_partials_agree_with_the_rotation_of_the_stations() {
    let run = simulate(&scenario(16, false, false));
    let (job, obs) = (&run.job, &run.read.observations);
    let epoch = super::clock_epoch(job, obs);
    let stations: BTreeSet<usize> = (0..4).collect();
    let sources: BTreeSet<usize> = (0..job.sources.len()).collect();
    let params = select(
        job,
        Some("+eop"),
        &stations,
        &sources,
        &[0.0; 4],
        epoch,
        &Grids::new(None),
    )
    .unwrap();
    let g = Geometry::new(job, obs, epoch).unwrap();
    let trial = g.apriori().clone();
    let itrf = |s: usize| match job.stations[s].position {
        StationPosition::Itrf(x) => Some(x),
        _ => None,
    };
    let omega = std::f64::consts::TAU * 1.002_737_811_911_354_5 / 86_400.0;
    let mut checked = 0;
    for (i, o) in obs.iter().enumerate().step_by(5) {
        let (Some(xa), Some(xb)) = (itrf(o.a), itrf(o.b)) else {
            continue;
        };
        let model = DelayModel::new(
            job,
            &job.sources[o.source],
            o.epoch.add_seconds(-60.0),
            o.epoch.add_seconds(60.0),
        )
        .unwrap();
        let SourceGeometry::Far(k) = model.source().clone() else {
            continue;
        };
        let ctx = model.epoch(o.epoch).unwrap();
        let pole = mul_t(&ctx.orient.rc2i, &[0.0, 0.0, 1.0]);
        let gcrs = |x: &V3, d: correlator::model::earth::EopValues| {
            let ctx = model.epoch_with_eop_offset(o.epoch, d).unwrap();
            ctx.orient.itrs_to_gcrs(ctx.tt, x)
        };
        let zero = correlator::model::earth::EopValues::default();
        for p in params.iter().filter(|p| matches!(p.kind, Kind::Eop(_))) {
            let Kind::Eop(axis) = p.kind else {
                unreachable!()
            };
            let num = g.partial(i, o, &trial, p, step_of(p.kind)).unwrap();
            let dx = |x: &V3| -> V3 {
                if axis == 0 {
                    let r = gcrs(x, zero);
                    let w = cross(&pole, &r);
                    [w[0] * omega, w[1] * omega, w[2] * omega]
                } else {
                    let h = 1e-7;
                    let mut d = zero;
                    if axis == 1 {
                        d.xp_rad = h;
                    } else {
                        d.yp_rad = h;
                    }
                    let v = sub(&gcrs(x, d), &gcrs(x, zero));
                    [v[0] / h, v[1] / h, v[2] / h]
                }
            };
            let (ab, aa) = (-dot(&k, &dx(&xb)) / C, -dot(&k, &dx(&xa)) / C);
            let an = ab - aa;
            // Relative to the stations' own partials: on a short or
            // aligned baseline the difference is a small remainder.
            let rel = (num - an).abs() / (ab.abs() + aa.abs());
            eprintln!(
                "obs {i} {} {}: {num:.6e} vs {an:.6e} ({rel:.1e})",
                o.baseline, p.name
            );
            assert!(rel < 1e-3, "{} obs {i}: {num:e} vs {an:e}", p.name);
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked}");
}

/// 6 h with the Earth stations' zwd off by centimetres and wandering: the
/// hourly nodes recover the truth within 3σ, and every other estimate (clocks,
/// LS and lander positions) too; without `zwd` the same data miss the
/// lunar positions or clocks by more.
#[test]
fn hourly_zwd_recovers_the_injected_troposphere_and_the_positions() {
    let run = simulate(&scenario(16, true, false));
    let sol = solve(&run.job, &run.read, &opts("+zwd")).unwrap();
    assert!(!sol.rank_deficient(), "{:?}", sol.not_estimated);
    let nodes: Vec<_> = sol
        .parameters
        .iter()
        .filter(|p| p.name.contains(":zwd_m@"))
        .collect();
    // 3 Earth stations × 7 nodes (22:00 … 04:00).
    assert_eq!(
        nodes.len(),
        21,
        "{:?}",
        nodes.iter().map(|p| &p.name).collect::<Vec<_>>()
    );
    assert!(nodes
        .iter()
        .any(|p| p.name == "KM:zwd_m@2026-03-15T01:00:00Z"));
    assert_within_3_sigma(&sol, &run.truth);
    eprintln!(
        "χ²/dof {:.3}, {} constraints",
        sol.chi2_dof, sol.n_constraints
    );
    assert!((0.75..1.3).contains(&sol.chi2_dof), "{}", sol.chi2_dof);
    assert_eq!(sol.n_constraints, 18);
    // The injection is seen: the corrections are ≥ 2 cm where ≥ 2.5 cm was put.
    let km = sol.get("KM:zwd_m@2026-03-15T01:00:00Z").unwrap();
    assert!(km.correction < -0.015, "{km:?}");
    // Not estimating zwd leaves the injection in the residuals.
    let without = solve(&run.job, &run.read, &SolveOptions::default()).unwrap();
    eprintln!("without zwd: χ²/dof {:.2}", without.chi2_dof);
    assert!(without.chi2_dof > 2.0 * sol.chi2_dof);
}

/// UT1 and polar motion offsets on the standard session (three Earth
/// stations and LS, 6 h): recovered within 3σ with the default set.
#[test]
fn eop_offsets_are_recovered_on_the_standard_session() {
    let run = simulate(&scenario(16, false, true));
    let sol = solve(&run.job, &run.read, &opts("+eop")).unwrap();
    assert!(!sol.rank_deficient(), "{:?}", sol.not_estimated);
    assert_within_3_sigma(&sol, &run.truth);
    for n in ["EOP:ut1_s", "EOP:xp_rad", "EOP:yp_rad"] {
        let e = sol.get(n).unwrap();
        eprintln!(
            "{n}: {:.4e} ± {:.2e} (truth {})",
            e.estimate, e.sigma, run.truth["parameters"][n]
        );
    }
    // The injection is seen: the 150 µs of UT1 and 2 mas of x_p at > 3σ.
    for n in ["EOP:ut1_s", "EOP:xp_rad"] {
        let e = sol.get(n).unwrap();
        assert!(e.estimate / e.sigma > 3.0, "{e:?}");
    }
}

/// `--datum nnr` removes that rotation: the corrections of the three Earth
/// stations satisfy Σ x̂ × Δx = 0, so `+eop,+position` is estimable. On
/// the standard session with the injected EOP offsets every parameter (the
/// EOP, the Earth positions whose truth is the a priori, clocks, lunar
/// positions) is within 3σ of truth.json, nothing is named as
/// not estimated, and the net rotation of the corrections, computed here
/// from the estimates, is below 3× the conditions' σ. Without
/// the datum the same setup is rank-deficient (the test above).
#[test]
fn a_no_net_rotation_datum_makes_eop_and_positions_estimable_together() {
    let run = simulate(&scenario(16, false, true));
    let opts = SolveOptions {
        datum: super::Datum::parse("nnr").unwrap(),
        ..opts("+eop,+position")
    };
    let sol = solve(&run.job, &run.read, &opts).unwrap();
    assert!(!sol.rank_deficient(), "{:?}", sol.not_estimated);
    assert_within_3_sigma(&sol, &run.truth);
    assert_eq!(sol.n_constraints, 3);
    let mut rotation = [0.0f64; 3];
    for st in ["T6", "KM", "UR"] {
        let e: Vec<&super::Estimate> = ["x_m", "y_m", "z_m"]
            .iter()
            .map(|c| sol.get(&format!("{st}:{c}")).unwrap())
            .collect();
        let x: Vec<f64> = e.iter().map(|p| p.apriori).collect();
        let r = (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt();
        let d: Vec<f64> = e.iter().map(|p| p.correction).collect();
        rotation[0] += (x[1] * d[2] - x[2] * d[1]) / r;
        rotation[1] += (x[2] * d[0] - x[0] * d[2]) / r;
        rotation[2] += (x[0] * d[1] - x[1] * d[0]) / r;
    }
    eprintln!("net rotation of the corrections (m): {rotation:?}");
    assert!(
        rotation
            .iter()
            .all(|v| v.abs() < 3.0 * super::DATUM_SIGMA_M),
        "{rotation:?}"
    );
    for n in ["EOP:ut1_s", "EOP:xp_rad", "EOP:yp_rad"] {
        let e = sol.get(n).unwrap();
        eprintln!(
            "{n}: {:.4e} ± {:.2e} (truth {})",
            e.estimate, e.sigma, run.truth["parameters"][n]
        );
    }
    // A bad --datum item is a one-line error naming it.
    let e = super::Datum::parse("nnr,nns").unwrap_err().to_string();
    assert!(e.contains("nns") && !e.contains('\n'), "{e}");
    // A datum with no Earth positions estimated is refused, not ignored.
    let no_positions = SolveOptions {
        estimate: Some("+eop".into()),
        datum: super::Datum::parse("nnr").unwrap(),
        ..SolveOptions::default()
    };
    let e = solve(&run.job, &run.read, &no_positions)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--datum") && e.contains("+position"), "{e}");
}

/// With the Earth stations' positions, the EOP are a rotation of the
/// network (three null directions, up to the troposphere's and axis
/// offsets' elevation dependence, 1e-5 of the rotation's signature). The
/// rank analysis at the a priori names combinations of EOP offsets and
/// Earth station coordinates: all three (measured) since the model's
/// positions are geocentric, and the solve returns a rank-deficient
/// solution holding them; while they were barycentric, two had pivots
/// lifted above `RANK_TOL` by the central differences' rounding (2e-5
/// relative) and the solve did not converge. What this test pins down
/// holds either way: a solution with every parameter estimated is never
/// returned.
#[test]
fn eop_with_earth_positions_is_not_silently_estimated() {
    let run = simulate(&scenario(16, false, false));
    let (job, obs) = (&run.job, &run.read.observations);
    let epoch = super::clock_epoch(job, obs);
    let stations: BTreeSet<usize> = (0..4).collect();
    let sources: BTreeSet<usize> = obs.iter().map(|o| o.source).collect();
    let params = select(
        job,
        Some("+eop,+position"),
        &stations,
        &sources,
        &[0.0; 4],
        epoch,
        &Grids::new(None),
    )
    .unwrap();
    let g = Geometry::new(job, obs, epoch).unwrap();
    let trial = g.apriori().clone();
    let mut a = nalgebra::DMatrix::zeros(obs.len(), params.len());
    for (i, o) in obs.iter().enumerate() {
        for (j, p) in params.iter().enumerate() {
            a[(i, j)] = g.partial(i, o, &trial, p, step_of(p.kind)).unwrap();
        }
    }
    let sigma: Vec<f64> = obs.iter().map(|o| o.sigma_s).collect();
    let r = vec![0.0; obs.len()];
    let (n, _) = super::lsq::normal_equations(&a, &r, &sigma, &vec![true; obs.len()]);
    let rank = super::lsq::rank(&n);
    for d in &rank.deficiencies {
        let terms: Vec<String> = d
            .combination
            .iter()
            .map(|(j, c)| format!("{c:+.3}·{}", params[*j].name))
            .collect();
        eprintln!("{}: {}", params[d.fixed].name, terms.join(" "));
    }
    assert!(!rank.deficiencies.is_empty());
    for d in &rank.deficiencies {
        let names: Vec<&str> = d
            .combination
            .iter()
            .map(|(j, _)| params[*j].name.as_str())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("EOP:"))
                && names
                    .iter()
                    .any(|n| n.ends_with("_m") && !n.contains("moon") && !n.starts_with("EOP")),
            "{names:?}"
        );
    }
    match solve(job, &run.read, &opts("+eop,+position")) {
        Ok(sol) => assert!(sol.rank_deficient()),
        Err(e) => assert!(e.to_string().contains("no convergence"), "{e}"),
    }
}

/// zwd nodes no observation reaches (3 h of the session removed): without
/// constraints they are named as unobserved; with the default 1.5 cm/√h
/// they are estimated (with σ larger than their observed neighbours').
#[test]
fn zwd_nodes_without_observations_are_named_unless_constrained() {
    let mut run = simulate(&scenario(16, false, false));
    let (from, to) = (
        UtcTime::from_calendar(2026, 3, 14, 23, 59, 0, 0.0),
        UtcTime::from_calendar(2026, 3, 15, 3, 1, 0, 0.0),
    );
    run.read
        .observations
        .retain(|o| o.epoch < from || o.epoch >= to);
    let free = SolveOptions {
        zwd_constraint_m_per_h: 0.0,
        ..opts("+zwd")
    };
    let sol = solve(&run.job, &run.read, &free).unwrap();
    let named: Vec<&str> = sol.not_estimated.iter().map(|d| d.name.as_str()).collect();
    eprintln!("{named:?}");
    let mut want = Vec::new();
    for st in ["T6", "KM", "UR"] {
        for h in ["01", "02"] {
            want.push(format!("{st}:zwd_m@2026-03-15T{h}:00:00Z"));
        }
    }
    for w in &want {
        let d = sol
            .not_estimated
            .iter()
            .find(|d| &d.name == w)
            .unwrap_or_else(|| panic!("{w} not named: {named:?}"));
        assert!(d.why.contains("no observation depends on it"), "{}", d.why);
    }
    assert_eq!(sol.not_estimated.len(), want.len(), "{named:?}");
    let tied = solve(&run.job, &run.read, &opts("+zwd")).unwrap();
    assert!(!tied.rank_deficient(), "{:?}", tied.not_estimated);
    let gap = tied.get("KM:zwd_m@2026-03-15T01:00:00Z").unwrap().sigma;
    let seen = tied.get("KM:zwd_m@2026-03-14T23:00:00Z").unwrap().sigma;
    eprintln!("σ at a node in the gap {gap:.2e} m, observed {seen:.2e} m");
    assert!(gap > seen);
    assert_within_3_sigma(&tied, &run.truth);
}

/// Piecewise-linear clocks alone (no rate; a constraint of 1 µs/√h, loose
/// against the 5 ns/h of LS's rate) recover the injected linear clocks at
/// every node within 3σ; `clock_pwl` replaces `clock_offset`.
#[test]
fn piecewise_linear_clocks_recover_the_injected_clocks() {
    let run = simulate(&scenario(16, false, false));
    let o = SolveOptions {
        clock_constraint_s_per_h: 1e-6,
        ..opts("+clock_pwl,-clock_rate")
    };
    let sol = solve(&run.job, &run.read, &o).unwrap();
    assert!(!sol.rank_deficient(), "{:?}", sol.not_estimated);
    assert!(sol.get("KM:clock_offset_s").is_none());
    assert_eq!(
        sol.parameters
            .iter()
            .filter(|p| p.name.contains(":clock_offset_s@"))
            .count(),
        21
    );
    assert_within_3_sigma(&sol, &run.truth);
}

/// One-line errors naming the flag.
#[test]
fn bad_node_flags_are_refused_naming_the_flag() {
    let run = simulate(&scenario(16, false, false));
    for (o, flag) in [
        (
            SolveOptions {
                zwd_interval_min: 0.0,
                ..opts("+zwd")
            },
            "--zwd-interval",
        ),
        (
            SolveOptions {
                clock_constraint_s_per_h: -1.0,
                ..opts("+clock_pwl")
            },
            "--clock-constraint",
        ),
    ] {
        let e = solve(&run.job, &run.read, &o).unwrap_err().to_string();
        assert!(e.contains(flag) && !e.contains('\n'), "{e}");
    }
    let e = solve(&run.job, &run.read, &opts("+eop:T6"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--estimate eop:T6"), "{e}");
}

/// Scatter of (estimate − truth)/σ over 20 realisations (new noise and
/// new random walks each), per group, for `+zwd,+eop`; within 3 standard
/// errors of 1. Measured (seeds 300–319, 113 s): zwd 0.947 (420 nodes),
/// clocks 0.867 (120), lunar positions 1.073 (120), polar motion 0.991
/// (40), UT1 0.675 (20: 2σ low). Slow: `--ignored`.
#[test]
#[ignore]
fn scatter_over_sigma_of_zwd_and_eop_over_20_realisations() {
    let mut groups: std::collections::BTreeMap<&str, (f64, usize)> = Default::default();
    for seed in 300..320 {
        let mut sc = scenario(seed, true, true);
        sc.set_seed(seed);
        let run = simulate(&sc);
        let sol = solve(&run.job, &run.read, &opts("+zwd,+eop")).unwrap();
        for (name, z, _) in normalised(&sol, &run.truth) {
            let g = if name.contains(":zwd_m@") {
                "zwd"
            } else if name.starts_with("EOP:ut1") {
                "ut1"
            } else if name.starts_with("EOP:") {
                "polar motion"
            } else if name.contains("moon_") {
                "lunar positions"
            } else {
                "clocks"
            };
            let e = groups.entry(g).or_default();
            e.0 += z * z;
            e.1 += 1;
        }
    }
    for (g, (s, n)) in &groups {
        eprintln!("{g}: scatter/σ {:.3} over {n}", (s / *n as f64).sqrt());
    }
    // The rms of n normalised errors has a standard error of ~1/√(2n):
    // 0.035 for the 420 zwd nodes, 0.16 for the 20 UT1 estimates.
    for (g, (s, n)) in &groups {
        let r = (s / *n as f64).sqrt();
        let tol = 3.0 / (2.0 * *n as f64).sqrt();
        assert!((r - 1.0).abs() < tol.max(0.15), "{g}: {r} over {n}");
    }
}
