//! `simulate --observables` of a session given by a VEX schedule: the
//! same observations (scans, baselines, sources, epochs) and values as the
//! equivalent `[[scan]]` tables (samebeam_session.toml), and the solve
//! recovers the injected rover position from them.

use super::observables::simulate_observables;
use super::scenario::Scenario;
use crate::solve::{self, SolveOptions};
use correlator::job::Job;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// VEX 2.0 text of `sc`'s session, written here from its scans: Earth
/// stations with their $SITE position, LS without one (VEX cannot place a
/// lunar station), quasars with ra/dec, the landers without a position.
fn vex_text(sc: &Scenario, quasars: &[(&str, &str, &str)]) -> String {
    let mut t = String::from("VEX_rev = 2.0;\n* written by vex_observables_tests.rs\n$STATION;\n");
    for st in &sc.job.stations {
        t += &format!("  def {0};\n    ref $SITE = S{0};\n  enddef;\n", st.name);
    }
    t += "$SITE;\n";
    for st in &sc.job.stations {
        t += &format!(
            "  def S{0};\n    site_type = fixed;\n    site_name = S{0};\n    site_ID = {0};\n",
            st.name
        );
        if let correlator::job::StationPosition::Itrf(x) = st.position {
            t += &format!(
                "    site_position = {} m : {} m : {} m;\n",
                x[0], x[1], x[2]
            );
        }
        t += "  enddef;\n";
    }
    t += "$SOURCE;\n";
    for (name, ra, dec) in quasars {
        t += &format!(
            "  def {name};\n    source_name = {name};\n    ra = {ra};\n    dec = {dec};\n    ref_coord_frame = J2000;\n  enddef;\n"
        );
    }
    for name in ["CE7LANDER", "CE7ROVER"] {
        t += &format!("  def {name};\n    source_name = {name};\n  enddef;\n");
    }
    t += "$MODE;\n  def SIM;\n  enddef;\n$SCHED;\n";
    for scan in &sc.job.scans {
        let s = scan.start;
        let iso = s.to_iso8601();
        // 2026-03-14T22:15:00Z → 2026y073d22h15m00s
        let (date, time) = iso.trim_end_matches('Z').split_once('T').unwrap();
        let jan1 =
            formats::UtcTime::parse_iso8601(&format!("{}-01-01T00:00:00Z", &date[..4])).unwrap();
        let doy = (s.seconds_since(jan1) / 86400.0).floor() as i64 + 1;
        let hms: Vec<&str> = time.split(':').collect();
        t += &format!(
            "  scan {};\n    start = {}y{doy:03}d{}h{}m{}s;\n    mode = SIM;\n",
            scan.name,
            &date[..4],
            hms[0],
            hms[1],
            hms[2]
        );
        for src in &scan.sources {
            t += &format!("    source = {src};\n");
        }
        for st in &sc.job.stations {
            t += &format!(
                "    station = {} : 0 sec : {} sec : : : : ;\n",
                st.name, scan.duration_s
            );
        }
        t += "  endscan;\n";
    }
    t
}

/// samebeam_session.toml without its [[scan]] tables, quasar [[source]]
/// tables and T6's position (all from the VEX), kernels made absolute.
fn vex_scenario_text(quasars: &[(&str, &str, &str)]) -> String {
    let text = std::fs::read_to_string(testdata().join("scenarios/samebeam_session.toml")).unwrap();
    let abs = format!("{}/", testdata().display());
    let mut out = String::new();
    for block in text.split("\n[") {
        let block = if out.is_empty() && !text.starts_with('[') {
            block.to_string()
        } else {
            format!("[{block}")
        };
        let quasar = quasars
            .iter()
            .any(|q| block.starts_with("[[source]]") && block.contains(&format!("\"{}\"", q.0)));
        if block.starts_with("[[scan]]") || quasar {
            continue;
        }
        let block = if block.starts_with("[job]") {
            block.replace("[job]\n", "[job]\nvex = \"s.vex\"\n")
        } else if block.starts_with("[[station]]") && block.contains("\"T6\"") {
            block
                .lines()
                .filter(|l| !l.starts_with("itrf_m"))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        } else {
            block.replace("\"../", &format!("\"{abs}"))
        };
        out += &block;
        out += "\n";
    }
    out
}

fn rows(dir: &Path) -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(dir.join("fringe.json")).unwrap()).unwrap()
}

#[test]
fn a_vex_session_gives_the_observations_of_its_scan_tables_and_the_solve_recovers_truth() {
    let started = std::time::Instant::now();
    let toml_sc = Scenario::from_file(&testdata().join("scenarios/samebeam_session.toml")).unwrap();
    let quasars = [
        ("PKS1921-293", "19h24m51.0560s", "-29d14'30.121\""),
        ("PKS1958-179", "20h00m57.0904s", "-17d48'57.673\""),
        ("PKS2134+004", "21h36m38.5863s", "+00d41'54.213\""),
        ("3C446", "22h25m47.2593s", "-04d57'01.391\""),
    ];
    let d = tempfile::tempdir().unwrap();
    let vex_dir = d.path().join("vex");
    std::fs::create_dir_all(&vex_dir).unwrap();
    std::fs::write(vex_dir.join("s.vex"), vex_text(&toml_sc, &quasars)).unwrap();
    let scenario_path = vex_dir.join("scenario.toml");
    std::fs::write(&scenario_path, vex_scenario_text(&quasars)).unwrap();
    let vex_sc = Scenario::from_file(&scenario_path).unwrap();
    assert_eq!(vex_sc.job.scans.len(), 24);

    let toml_dir = d.path().join("toml");
    let out_dir = d.path().join("out");
    simulate_observables(&toml_sc, &toml_dir).unwrap();
    simulate_observables(&vex_sc, &out_dir).unwrap();
    let (a, b) = (rows(&toml_dir), rows(&out_dir));
    let key = |r: &Value| {
        (
            r["scan_name"].as_str().unwrap().to_string(),
            r["baseline"].as_str().unwrap().to_string(),
            r["source"].as_str().unwrap().to_string(),
            r["geocentre_epoch_utc"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        a.iter().map(key).collect::<Vec<_>>(),
        b.iter().map(key).collect::<Vec<_>>(),
        "the same observation set"
    );
    for (x, y) in a.iter().zip(&b) {
        for k in ["total_delay_s", "mbd_sigma_s", "phase_deg"] {
            let (p, q) = (x[k].as_f64().unwrap(), y[k].as_f64().unwrap());
            // ra/dec through degrees: ~1e-18 s, 5e-6 deg of phase; a delay of
            // 1.25 s (to LS) carries ~1e-15 s of rounding.
            let tol = if k == "phase_deg" { 1e-4 } else { 1e-14 };
            assert!((p - q).abs() <= tol, "{k}: {p} vs {q} in {:?}", key(x));
        }
    }

    let job = Job::from_file(&out_dir.join("job.toml")).unwrap();
    let read = solve::read_files(&[out_dir.join("fringe.json")], &job).unwrap();
    let sol = solve::solve(
        &job,
        &read,
        &SolveOptions {
            estimate: Some("-moon_position,-lander:CE7LANDER".into()),
            ..SolveOptions::default()
        },
    )
    .unwrap();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("truth.json")).unwrap())
            .unwrap();
    for p in &sol.parameters {
        let t = truth["parameters"][&p.name].as_f64().unwrap();
        let z = (p.estimate - t) / p.sigma;
        eprintln!("{}: {z:+.2}σ (σ {:e} {})", p.name, p.sigma, p.unit);
        assert!(z.abs() < 3.0, "{}: {z}σ", p.name);
    }
    eprintln!("runtime {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn a_vex_and_scan_tables_together_or_a_missing_vex_are_one_line_errors_naming_job_vex() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("scenario.toml");
    let with_scans = std::fs::read_to_string(testdata().join("scenarios/samebeam_session.toml"))
        .unwrap()
        .replace("[job]\n", "[job]\nvex = \"s.vex\"\n");
    let e = Scenario::from_toml_str(&with_scans, &path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("job.vex") && e.contains("not both"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    let no_file = "[job]\nname = \"x\"\nvex = \"nowhere.vex\"\n";
    let e = Scenario::from_toml_str(no_file, &path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("job.vex") && e.contains("nowhere.vex"), "{e}");
    assert!(!e.contains('\n'), "{e}");
}
