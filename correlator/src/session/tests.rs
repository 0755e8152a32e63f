//! Sessions against the schedules written by hand in testdata/vex (their
//! values are the truth: what the file says) and `[[scan]]` tables.

use super::*;
use crate::job::{Pol, Sideband, SourcePosition, StationPosition};
use std::path::{Path, PathBuf};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// A job beside testdata/vex that names em2603.vex.
fn vex_job(extra: &str) -> Job {
    let text = format!(
        "[job]\nname = \"em2603\"\nvex = \"em2603.vex\"\n{extra}\n\
         [model]\nkernels = [\"../de421_2026_excerpt.bsp\"]\n\
         [[station]]\nname = \"LS\"\nmoon = {{ lat_deg = -89.5, lon_deg = 0.0 }}\nfiles = [\"LS_a.vdif\"]\n\
         [[source]]\nname = \"CE7LANDER\"\nmoon = {{ lat_deg = -89.45, lon_deg = 20.0 }}\n"
    );
    Job::from_toml_str(&text, &testdata().join("vex/job.toml")).unwrap()
}

#[test]
fn a_vex_session_takes_stations_sources_setup_and_scans_from_the_schedule() {
    let s = Session::load(&vex_job("")).unwrap();
    let j = &s.job;
    let names: Vec<&str> = j.stations.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["T6", "KM", "UR", "LS"]);
    // $SITE position (m) for an Earth station; the job's lunar site for LS.
    assert_eq!(
        j.stations[0].position,
        StationPosition::Itrf([-2826708.8, 4679236.9, 3274667.4])
    );
    assert!(matches!(j.stations[3].position, StationPosition::Moon(m) if m.lat_deg == -89.5));
    assert_eq!(j.stations[3].files, vec![testdata().join("vex/LS_a.vdif")]);
    // clock_early 1.234 usec, rate 1.5e-13, epoch 12:00 (the entry in force
    // at the first scan, 12:00; the second starts at 12:10).
    let c = &j.stations[0].clock;
    assert!((c.offset_s - 1.234e-6).abs() < 1e-18);
    assert_eq!(c.rate, 1.5e-13);
    assert_eq!(
        c.epoch,
        Some(UtcTime::from_calendar(2026, 3, 2, 12, 0, 0, 0.0))
    );
    // KM: "clock_early = : 0.87 usec;" (no rate, no epoch).
    assert!((j.stations[1].clock.offset_s - 0.87e-6).abs() < 1e-18);
    assert_eq!(j.stations[1].clock.rate, 0.0);
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("station T6: 2 clock_early")));

    // Sources: the quasars from ra/dec, the lander from the job (replacing
    // its bsp position).
    let src = |n: &str| j.sources.iter().find(|s| s.name == n).unwrap();
    assert!(matches!(
        src("PKS1921-293").position,
        SourcePosition::RaDec { .. }
    ));
    assert!(matches!(src("CE7LANDER").position, SourcePosition::Moon(m) if m.lon_deg == 20.0));

    // Frequency setup: T6's X4x16, four channels in $FREQ order, pol from
    // $IF, slots from $DATASTREAMS (CH01 t0/0, CH02 t1/0, CH03 t0/1, CH04 t1/1).
    let sb: Vec<(f64, Pol, u16, usize)> = j
        .subbands
        .iter()
        .map(|b| (b.sky_freq_hz, b.pol, b.thread, b.channel))
        .collect();
    assert_eq!(
        sb,
        [
            (8212.99e6, Pol::R, 0, 0),
            (8212.99e6, Pol::L, 1, 0),
            (8228.99e6, Pol::R, 0, 1),
            (8228.99e6, Pol::L, 1, 1)
        ]
    );
    assert!(j
        .subbands
        .iter()
        .all(|b| b.bandwidth_hz == 16e6 && b.sideband == Sideband::Upper));
    // Earth stations record like T6; LS records CH03 first and CH01
    // second in its one thread, and no L channels.
    assert_eq!(j.stations[1].slots, None);
    assert_eq!(
        j.stations[3].slots,
        Some(vec![Some((0, 1)), None, Some((0, 0)), None])
    );
    assert_eq!(j.stations[3].sample_rate_hz, Some(32e6));
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("station LS: records 2 of the 4")));

    // Scans in schedule order with their windows.
    let names: Vec<&str> = s.scans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["No0001", "No0002", "No0003", "No0004"]);
    let sc2 = &s.scans[1];
    assert_eq!(sc2.sources.len(), 2);
    assert_eq!(sc2.sources[0].name, "CE7LANDER");
    assert_eq!(sc2.sources[1].name, "PKS1921-293");
    assert_eq!(sc2.duration_s, 180.0);
    let ls = sc2.stations.iter().find(|x| x.name == "LS").unwrap();
    assert_eq!((ls.good_s, ls.stop_s), (20.0, 180.0));
    // No0003 has no UR; No0004 starts at 12:15:30.5.
    assert!(!s.scans[2].stations.iter().any(|x| x.name == "UR"));
    assert_eq!(
        s.scans[3].start,
        UtcTime::from_calendar(2026, 3, 2, 12, 15, 30, 0.5)
    );
    assert!(s.scans.iter().all(|x| x.skip.is_none()), "{:?}", s.scans);
}

#[test]
fn selections_and_missing_positions_are_said_not_dropped() {
    // Without the job's lander site the VEX's bsp body stands (and its SPK
    // file joins the kernels); [job] scans and stations pick.
    let text = "[job]\nname = \"x\"\nvex = \"em2603.vex\"\nscans = [\"No0001\", \"No0003\"]\n\
                stations = [\"T6\", \"KM\"]\n[model]\nkernels = []\n";
    let job = Job::from_toml_str(text, &testdata().join("vex/job.toml")).unwrap();
    let s = Session::load(&job).unwrap();
    assert_eq!(s.job.stations.len(), 2);
    let lander = s
        .job
        .sources
        .iter()
        .find(|x| x.name == "CE7LANDER")
        .unwrap();
    assert_eq!(lander.position, SourcePosition::SpkBody(-178));
    assert_eq!(
        s.job.model.as_ref().unwrap().kernels,
        vec![testdata().join("vex/ce7_lander.bsp")]
    );
    assert_eq!(s.scans.len(), 4);
    assert_eq!(
        s.scans[1].skip.as_deref(),
        Some("not selected ([job] scans)")
    );
    assert!(s.scans[0].skip.is_none() && s.scans[2].skip.is_none());
    // UR and LS are in the schedule but not the job.
    assert_eq!(
        s.scans[0]
            .stations
            .iter()
            .filter(|x| x.station.is_none())
            .count(),
        2
    );

    // A job station or source the VEX does not have is an error naming it.
    let bad = "[job]\nvex = \"em2603.vex\"\n[[station]]\nname = \"XX\"\nfile = \"a.vdif\"\n";
    let job = Job::from_toml_str(bad, &testdata().join("vex/job.toml")).unwrap();
    let e = Session::load(&job).unwrap_err().to_string();
    assert!(
        e.contains("key `station[0].name`") && e.contains("\"XX\" is not a station"),
        "{e}"
    );
    let bad = "[job]\nvex = \"em2603.vex\"\nstations = [\"T6\", \"Q\"]\n";
    let job = Job::from_toml_str(bad, &testdata().join("vex/job.toml")).unwrap();
    let e = Session::load(&job).unwrap_err().to_string();
    assert!(e.contains("key `job.stations`"), "{e}");
}

#[test]
fn a_job_with_only_name_and_vex_is_a_session_and_a_missing_vex_is_io() {
    let job = Job::from_toml_str(
        "[job]\nname = \"dry\"\nvex = \"em2603.vex\"\n",
        &testdata().join("vex/job.toml"),
    )
    .unwrap();
    assert!(Session::is_session(&job));
    let s = Session::load(&job).unwrap();
    assert_eq!(s.scans.len(), 4);
    // No recordings: every scan is planned as skipped, saying why.
    let plan = Plan::new(&s);
    assert_eq!(plan.scans.len(), 4);
    for p in &plan.scans {
        match &p.status {
            ScanStatus::Skipped(why) => assert!(why.contains("no station has data"), "{why}"),
            ScanStatus::Correlate => panic!("correlated without data"),
        }
    }
    let job = Job::from_toml_str(
        "[job]\nvex = \"nowhere.vex\"\n",
        &testdata().join("vex/job.toml"),
    )
    .unwrap();
    let e = Session::load(&job).unwrap_err();
    assert!(e.is_io(), "{e}");
    assert!(e.to_string().contains("nowhere.vex"), "{e}");
}
