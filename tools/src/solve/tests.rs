use super::lsq;
use super::observations::{read_text, ReadSummary};
use super::parameters::{select, Grids, Kind};
use super::partials::{step_of, Geometry};
use crate::simulate::observables::simulate_observables;
use crate::simulate::scenario::Scenario;
use correlator::job::Job;
use nalgebra::DMatrix;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn standard() -> Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/solve_session.toml");
    Scenario::from_file(&p).unwrap()
}

fn t0() -> formats::UtcTime {
    formats::UtcTime::from_calendar(2026, 3, 14, 22, 0, 0, 0.0)
}

/// Nodes over the standard session (22:01 to 03:55).
fn grids() -> Grids {
    Grids::new(Some((
        t0().add_seconds(60.0),
        t0().add_seconds(6.0 * 3600.0 - 300.0),
    )))
}

fn names(job: &Job, estimate: Option<&str>) -> Vec<String> {
    let all: BTreeSet<usize> = (0..job.stations.len()).collect();
    let src: BTreeSet<usize> = (0..job.sources.len()).collect();
    let shift = vec![0.0; job.stations.len()];
    select(job, estimate, &all, &src, &shift, t0(), &grids())
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect()
}

#[test]
fn the_default_set_and_estimate_edits() {
    let job = standard().job;
    let d = names(&job, None);
    assert_eq!(
        d,
        [
            "KM:clock_offset_s",
            "KM:clock_rate",
            "UR:clock_offset_s",
            "UR:clock_rate",
            "LS:clock_offset_s",
            "LS:clock_rate",
            "LS:moon_x_m",
            "LS:moon_y_m",
            "LS:moon_z_m",
            "CE7LANDER:moon_x_m",
            "CE7LANDER:moon_y_m",
            "CE7LANDER:moon_z_m"
        ]
    );
    let e = names(
        &job,
        Some("-lander, +clock_accel:KM, position:UR, -clock_rate:LS, +source:3C446"),
    );
    assert!(e.contains(&"KM:clock_accel_per_s".to_string()));
    assert!(e.contains(&"UR:x_m".to_string()) && e.contains(&"UR:z_m".to_string()));
    assert!(!e.contains(&"LS:clock_rate".to_string()));
    assert!(!e.iter().any(|n| n.starts_with("CE7LANDER")));
    assert!(e.contains(&"3C446:ra_rad".to_string()) && e.contains(&"3C446:dec_rad".to_string()));
    // `+clock` without a name leaves the reference alone; naming it adds it.
    assert!(!names(&job, Some("+clock")).contains(&"T6:clock_offset_s".to_string()));
    assert!(names(&job, Some("+clock:T6")).contains(&"T6:clock_rate".to_string()));
    let all: BTreeSet<usize> = (0..4).collect();
    let src: BTreeSet<usize> = (0..job.sources.len()).collect();
    for bad in [
        "+moon_position:T6",
        "+nonsense",
        "+lander:NRAO530",
        "+clock:ZZ",
    ] {
        let e = select(&job, Some(bad), &all, &src, &[0.0; 4], t0(), &grids()).unwrap_err();
        assert!(e.to_string().contains("--estimate"), "{e}");
    }
}

fn simulated() -> (tempfile::TempDir, Job, ReadSummary) {
    let dir = tempfile::tempdir().unwrap();
    simulate_observables(&standard(), dir.path()).unwrap();
    let job = Job::from_file(&dir.path().join("job.toml")).unwrap();
    let files = vec![dir.path().join("fringe.json")];
    let read = super::read_files(&files, &job).unwrap();
    (dir, job, read)
}

/// The central differences at the step the solve uses agree with those at
/// a quarter of it, to 1e-4 relative plus the rounding floor of the
/// smaller step (1e-13 s of model rounding over 2·h/4, the barycentric
/// model's; ~1e-15 s since its positions are geocentric); the clock rate's
/// analytic partial is ±t.
#[test]
fn position_partials_agree_at_a_second_step_size() {
    let (_dir, job, read) = simulated();
    let obs = &read.observations;
    let epoch = super::clock_epoch(&job, obs);
    let stations: BTreeSet<usize> = (0..4).collect();
    let sources: BTreeSet<usize> = (0..job.sources.len()).collect();
    let params = select(
        &job,
        Some("+position:UR,+source"),
        &stations,
        &sources,
        &[0.0; 4],
        epoch,
        &Grids::new(None),
    )
    .unwrap();
    let g = Geometry::new(&job, obs, epoch).unwrap();
    let trial = g.apriori().clone();
    let mut checked = 0;
    for (i, o) in obs.iter().enumerate().step_by(7) {
        for p in &params {
            let h = step_of(p.kind);
            let d1 = g.partial(i, o, &trial, p, h).unwrap();
            if d1 == 0.0 {
                continue;
            }
            let d2 = g.partial(i, o, &trial, p, h / 4.0).unwrap();
            let rel = ((d1 - d2) / d1).abs();
            let tol = 1e-4 + 1e-13 / (2.0 * h / 4.0) / d1.abs();
            assert!(
                rel < tol,
                "{} obs {i} ({}): {d1:e} vs {d2:e} ({rel:e})",
                p.name,
                o.baseline
            );
            if matches!(p.kind, Kind::ClockRate) {
                let t = o.epoch.seconds_since(epoch);
                assert!((d1.abs() - t.abs()).abs() < 1e-9);
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn rank_names_a_common_offset() {
    // Three "clock offsets" seen only as differences b − a: a null vector (1, 1, 1).
    let a = DMatrix::from_row_slice(3, 3, &[-1.0, 1.0, 0.0, 0.0, -1.0, 1.0, -1.0, 0.0, 1.0]);
    let n = a.transpose() * &a;
    let r = lsq::rank(&n);
    assert_eq!(r.free.len(), 2);
    assert_eq!(r.deficiencies.len(), 1);
    let d = &r.deficiencies[0];
    assert!(!d.unobserved);
    assert_eq!(d.combination.len(), 3, "{d:?}");
    // A column of zeros: unobserved.
    let mut n4 = DMatrix::zeros(4, 4);
    n4.view_mut((0, 0), (3, 3))
        .copy_from(&(n + DMatrix::identity(3, 3)));
    let r = lsq::rank(&n4);
    assert_eq!(r.free.len(), 3);
    assert!(r.deficiencies[0].unobserved && r.deficiencies[0].fixed == 3);
}

#[test]
fn rows_of_subbands_and_undetected_rows_are_skipped() {
    let (_dir, job, read) = simulated();
    let n = read.observations.len();
    let text = std::fs::read_to_string(&read.observations[0].file).unwrap();
    let mut rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    rows[0]["subband"] = 1.into();
    rows[1]["detected"] = false.into();
    let doc = serde_json::json!({ "rows": rows });
    let mut out = ReadSummary::default();
    read_text(&doc.to_string(), &PathBuf::from("x.json"), &job, &mut out).unwrap();
    assert_eq!(out.observations.len(), n - 2);
    assert_eq!((out.skipped_subband, out.skipped_undetected), (1, 1));
    assert_eq!(out.observations[0].row, 3);
    // σ ≤ 0 is refused with the row and key.
    rows[4]["mbd_sigma_s"] = 0.0.into();
    let mut out = ReadSummary::default();
    let e = read_text(
        &serde_json::to_string(&rows).unwrap(),
        Path::new("x.json"),
        &job,
        &mut out,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.json: row 5: key `mbd_sigma_s`: must be > 0, got 0"
    );
}
