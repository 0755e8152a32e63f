//! The `gradient` group against injected truth (`emcorr simulate
//! --observables` with `inject_gradient_m` on the standard session) and
//! its partials against the closed form of IERS Conventions 2010 eq. 9.12
//! with the Chen & Herring (1997) mapping function.

use super::parameters::{select, Grids, Kind};
use super::partials::Geometry;
use super::pwl_tests::{assert_within_3_sigma, opts, scenario_path, simulate};
use super::solve;
use crate::simulate::scenario::Scenario;
use correlator::job::StationPosition;
use correlator::model::geometric::DelayModel;
use std::collections::BTreeSet;

/// The injected north and east gradients (m): ~1 mm, the size of observed
/// total gradients.
const GRADIENTS: [(&str, [f64; 2]); 3] = [
    ("T6", [0.001, -0.0005]),
    ("KM", [-0.0008, 0.0006]),
    ("UR", [0.0005, 0.001]),
];

/// The standard session with `GRADIENTS` injected and, when `zwd`, the zwd
/// errors of `pwl_tests::scenario` (a few cm plus 3 mm/√h).
fn scenario(seed: u64, gradients: bool, zwd: bool) -> Scenario {
    let mut text = std::fs::read_to_string(scenario_path()).unwrap();
    for (i, (st, g)) in GRADIENTS.iter().enumerate() {
        let mut extra = String::new();
        if gradients {
            extra += &format!("inject_gradient_m = [{}, {}]\n", g[0], g[1]);
        }
        if zwd {
            let z = [0.04, -0.03, 0.025][i];
            extra += &format!("inject_zwd_m = {z}\ninject_zwd_rw_m_per_sqrt_h = 0.003\n");
        }
        text = text.replace(
            &format!("name = \"{st}\"\n"),
            &format!("name = \"{st}\"\n{extra}"),
        );
    }
    let mut sc = Scenario::from_toml_str(&text, &scenario_path()).unwrap();
    sc.set_seed(seed);
    sc
}

/// Chen & Herring (1997) gradient mapping function, written out here:
/// 1/(sin e tan e + 0.0032).
fn chen_herring(el: f64) -> f64 {
    1.0 / (el.sin() * el.tan() + 0.0032)
}

const C_M_S: f64 = 299_792_458.0;

/// ∂τ/∂G_N and ∂τ/∂G_E of the solve against m_g(e)·cos a/c and
/// m_g(e)·sin a/c, with a and e the model's own sky (`DelayModel`'s
/// station geometry at the observation's epoch, what its troposphere
/// uses) and m_g written out above: agreement to < 1e-6 relative. The
/// observable is T_B − T_A, so A's partial has the opposite sign.
#[test]
fn gradient_partials_are_the_closed_form_at_the_models_azimuth_and_elevation() {
    let run = simulate(&scenario(16, false, false));
    let (job, obs) = (&run.job, &run.read.observations);
    let epoch = super::clock_epoch(job, obs);
    let stations: BTreeSet<usize> = (0..job.stations.len()).collect();
    let sources: BTreeSet<usize> = (0..job.sources.len()).collect();
    let params = select(
        job,
        Some("+gradient"),
        &stations,
        &sources,
        &vec![0.0; job.stations.len()],
        epoch,
        &Grids::new(None),
    )
    .unwrap();
    let grads: Vec<_> = params
        .iter()
        .filter(|p| matches!(p.kind, Kind::Gradient(_)))
        .collect();
    // North and east for each of the three Earth stations; none for LS.
    assert_eq!(grads.len(), 6, "{:?}", grads);
    assert!(grads.iter().any(|p| p.name == "UR:grad_e_m"));
    assert!(grads.iter().all(|p| p.apriori == 0.0));
    let g = Geometry::new(job, obs, epoch).unwrap();
    let trial = g.apriori().clone();
    let mut checked = 0;
    let mut worst: f64 = 0.0;
    let mut floored = 0;
    for (i, o) in obs.iter().enumerate().step_by(7) {
        let src = &job.sources[o.source];
        let m = DelayModel::new(
            job,
            src,
            o.epoch.add_seconds(-60.0),
            o.epoch.add_seconds(60.0),
        )
        .unwrap();
        let ctx = m.epoch(o.epoch).unwrap();
        for p in &grads {
            let an = g.partial(i, o, &trial, p, 1.0).unwrap();
            let (sign, s) = if p.owner == o.b {
                (1.0, o.b)
            } else if p.owner == o.a {
                (-1.0, o.a)
            } else {
                assert_eq!(an, 0.0, "{} in obs {i}", p.name);
                continue;
            };
            assert!(matches!(job.stations[s].position, StationPosition::Itrf(_)));
            let sky = m
                .station(&ctx, s)
                .unwrap()
                .sky
                .expect("an Earth station's sky");
            // The model holds its mapping functions at their 1° values
            // below 1° (troposphere::ELEVATION_FLOOR_RAD); so does m_g.
            let el = sky.el_rad.max(1f64.to_radians());
            if el != sky.el_rad {
                floored += 1;
            }
            let Kind::Gradient(k) = p.kind else {
                unreachable!()
            };
            let dir = if k == 0 {
                sky.az_rad.cos()
            } else {
                sky.az_rad.sin()
            };
            let closed = sign * chen_herring(el) * dir / C_M_S;
            let rel = (an - closed).abs() / (chen_herring(el) / C_M_S);
            worst = worst.max(rel);
            assert!(
                rel < 1e-6,
                "{} obs {i}: {an:e} vs {closed:e} ({rel:e})",
                p.name
            );
            checked += 1;
        }
    }
    eprintln!(
        "{checked} gradient partials ({floored} below 1° elevation), worst relative difference {worst:.1e}"
    );
    assert!(checked >= 40, "{checked}");
}

/// The simulated rows with and without the injected gradients (same
/// seed, so the same noise) differ by Σ ∂τ/∂G · G_true over both stations:
/// the solve's partials describe the simulator's truth. Tolerance 1e-4 of
/// the change plus 1e-15 s: the rows' total delays reach 1.3 s on the
/// Earth–Moon baselines, whose f64 spacing is 2.2e-16 s (measured: worst
/// 5.9e-16 s against gradient delays up to 1.0e-9 s, 6e-7 of the largest).
#[test]
fn gradient_partials_predict_the_simulated_truth_change() {
    let with = simulate(&scenario(16, true, false));
    let without = simulate(&scenario(16, false, false));
    let (job, obs) = (&with.job, &with.read.observations);
    let obs0 = &without.read.observations;
    assert_eq!(obs.len(), obs0.len());
    let epoch = super::clock_epoch(job, obs);
    let stations: BTreeSet<usize> = (0..job.stations.len()).collect();
    let sources: BTreeSet<usize> = (0..job.sources.len()).collect();
    let params = select(
        job,
        Some("+gradient"),
        &stations,
        &sources,
        &vec![0.0; job.stations.len()],
        epoch,
        &Grids::new(None),
    )
    .unwrap();
    let g = Geometry::new(job, obs, epoch).unwrap();
    let trial = g.apriori().clone();
    let truth = |name: &str| with.truth["parameters"][name].as_f64().unwrap();
    let mut worst: f64 = 0.0;
    let mut largest: f64 = 0.0;
    for (i, (o, o0)) in obs.iter().zip(obs0).enumerate() {
        let change = o.delay_s - o0.delay_s;
        let predicted: f64 = params
            .iter()
            .filter(|p| matches!(p.kind, Kind::Gradient(_)))
            .map(|p| g.partial(i, o, &trial, p, 1.0).unwrap() * truth(&p.name))
            .sum();
        let err = (change - predicted).abs();
        assert!(
            err < 1e-4 * predicted.abs() + 1e-15,
            "obs {i} {}: {change:e} vs {predicted:e}",
            o.baseline
        );
        worst = worst.max(err);
        largest = largest.max(predicted.abs());
    }
    eprintln!(
        "{} rows: largest gradient delay {largest:.3e} s, worst difference {worst:.1e} s",
        obs.len()
    );
    assert!(largest > 1e-11, "{largest}");
}

/// 6 h with ~1 mm gradients and cm-level zwd errors at the three Earth
/// stations: `+gradient,+zwd` recovers every parameter within 3σ of the
/// truth; the same rows without `gradient` fit worse.
#[test]
fn gradients_are_recovered_on_the_standard_session() {
    let run = simulate(&scenario(16, true, true));
    let sol = solve(&run.job, &run.read, &opts("+gradient,+zwd")).unwrap();
    assert!(!sol.rank_deficient(), "{:?}", sol.not_estimated);
    assert_within_3_sigma(&sol, &run.truth);
    for (st, g) in GRADIENTS {
        for (k, n) in ["grad_n_m", "grad_e_m"].iter().enumerate() {
            let e = sol.get(&format!("{st}:{n}")).unwrap();
            eprintln!(
                "{st}:{n}: {:+.3} mm ± {:.3} mm (true {:+.3} mm)",
                e.estimate * 1e3,
                e.sigma * 1e3,
                g[k] * 1e3
            );
        }
    }
    let without = solve(&run.job, &run.read, &opts("+zwd")).unwrap();
    eprintln!(
        "χ²/dof with gradients {:.3} (dof {}), without {:.3} (dof {})",
        sol.chi2_dof, sol.dof, without.chi2_dof, without.dof
    );
    assert!((0.7..1.3).contains(&sol.chi2_dof), "{}", sol.chi2_dof);
    assert!(without.chi2_dof > sol.chi2_dof);
}

/// A gradient of more than 1 cm is refused naming the key.
#[test]
fn implausible_gradients_are_refused() {
    let text = std::fs::read_to_string(scenario_path()).unwrap().replace(
        "name = \"KM\"\n",
        "name = \"KM\"\ninject_gradient_m = [0.02, 0.0]\n",
    );
    let e = Scenario::from_toml_str(&text, &scenario_path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("inject_gradient_m"), "{e}");
    assert!(!e.trim().contains('\n'), "{e}");
}

/// Recordings do not simulate gradients: `emcorr simulate` without
/// `--observables` refuses the key, naming it and the station.
#[test]
fn recordings_refuse_injected_gradients() {
    let mut sc = scenario(16, true, false);
    // The session's LS position error is refused first otherwise.
    for st in sc.sim.stations.iter_mut() {
        st.inject_offset_m = None;
    }
    let e = crate::simulate::check_options(&sc, crate::simulate::Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("inject_gradient_m") && e.contains("T6"), "{e}");
    // 0 when not injected, for every Earth station; none for LS.
    let run = simulate(&scenario(16, false, false));
    for st in ["T6", "KM", "UR"] {
        for n in ["grad_n_m", "grad_e_m"] {
            assert_eq!(
                run.truth["parameters"][format!("{st}:{n}")].as_f64(),
                Some(0.0)
            );
        }
    }
    assert!(run.truth["parameters"].get("LS:grad_n_m").is_none());
}
