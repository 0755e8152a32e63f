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

/// em2603.vex with `edit` applied, written into `dir`; a job beside it
/// correlating T6 and KM only (no lunar station: the tests below need
/// Earth geometry), with `extra` in `[model]`.
fn edited_vex_job(dir: &Path, edit: impl Fn(String) -> String, model_extra: &str) -> Job {
    let text = std::fs::read_to_string(testdata().join("vex/em2603.vex")).unwrap();
    std::fs::write(dir.join("em.vex"), edit(text)).unwrap();
    let job = format!(
        "[job]\nname = \"em\"\nvex = \"em.vex\"\nstations = [\"T6\", \"KM\"]\n\
         [model]\nkernels = [{:?}]\n{model_extra}\n\
         [[source]]\nname = \"CE7LANDER\"\nmoon = {{ lat_deg = -89.45, lon_deg = 20.0 }}\n",
        testdata()
            .join("de421_2026_excerpt.bsp")
            .display()
            .to_string()
    );
    Job::from_toml_str(&job, &dir.join("job.toml")).unwrap()
}

/// A second mode: every station records the two channels LS records in
/// X4x16 (X2x16, $BBC BBC2, $DATASTREAMS DS2), used by scan No0003.
fn two_modes(text: String) -> String {
    text.replace(
        "$MODE;\n",
        "$MODE;\n  def X2m;\n    ref $FREQ = X2x16 : T6 : KM : UR : LS;\n    ref $BBC = BBC2 : T6 : KM : UR : LS;\n    ref $IF = IF_X;\n    ref $DATASTREAMS = DS2 : T6 : KM : UR : LS;\n  enddef;\n",
    )
    .replace(
        "start = 2026y061d12h10m00s;\n    mode = X4x16;",
        "start = 2026y061d12h10m00s;\n    mode = X2m;",
    )
}

#[test]
fn a_schedule_with_two_modes_is_one_session_per_mode() {
    let dir = tempfile::tempdir().unwrap();
    let job = edited_vex_job(dir.path(), two_modes, "");
    let parts = Session::load_modes(&job).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].mode.as_deref(), Some("X4x16"));
    assert_eq!(parts[1].mode.as_deref(), Some("X2m"));
    // Each with its own frequency setup: X4x16's four channels of T6, and
    // X2m's two (CH01 and CH03 of X2x16, from DS2's one thread).
    assert_eq!(parts[0].job.subbands.len(), 4);
    let sb: Vec<f64> = parts[1]
        .job
        .subbands
        .iter()
        .map(|b| b.sky_freq_hz)
        .collect();
    assert_eq!(sb, [8212.99e6, 8228.99e6]);
    // Every scan in both, each correlated by its own mode's session only.
    fn open(s: &Session) -> Vec<&str> {
        s.scans
            .iter()
            .filter(|x| x.skip.is_none())
            .map(|x| x.name.as_str())
            .collect()
    }
    assert_eq!(open(&parts[0]), ["No0001", "No0002", "No0004"]);
    assert_eq!(open(&parts[1]), ["No0003"]);
    assert!(parts[1].scans[0]
        .skip
        .as_deref()
        .unwrap()
        .contains("mode X4x16: correlated into that mode's own output"));
    // One mode selected: one session, as `load` gives.
    let mut one = job.clone();
    one.select_scans = Some(vec!["No0003".into()]);
    let parts = Session::load_modes(&one).unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].mode.as_deref(), Some("X2m"));
    assert_eq!(parts[0].scans[0].skip.as_deref(), Some(NOT_SELECTED));
    // [[subband]] tables fix one setup: the other mode's scans are skipped,
    // saying why.
    let mut fixed = job.clone();
    fixed.subbands = parts[0].job.subbands.clone();
    let parts = Session::load_modes(&fixed).unwrap();
    assert_eq!(parts.len(), 1);
    assert!(parts[0].scans[2]
        .skip
        .as_deref()
        .unwrap()
        .contains("[[subband]] tables give one frequency setup"));
}

#[test]
fn a_mode_names_its_output() {
    let p = |b: &str, m: &str| mode_output(Path::new(b), m).display().to_string();
    assert_eq!(p("out/em2603.fits", "MODE2"), "out/em2603_MODE2.fits");
    assert_eq!(p("em2603", "X2m"), "em2603_X2m");
    assert_eq!(p("a.b.fits", "X/8 GHz"), "a.b_X_8_GHz.fits");
}

/// `$EOP` of em2603.vex replaced by the IERS finals rows of MJD 61099 to
/// 61103 (2026-02-28 … 03-04, around the scans of 03-02), values copied as
/// the file writes them; `dut1_extra_s` added to each UT1−UTC.
fn eop_from_finals(text: String, dut1_extra_s: f64) -> String {
    let finals = std::fs::read_to_string(testdata().join("finals2000A_2025-2026.txt")).unwrap();
    let (mut x, mut y, mut ut1) = (Vec::new(), Vec::new(), Vec::new());
    for line in finals.lines() {
        let mjd: f64 = line[7..15].trim().parse().unwrap();
        if (61099.0..=61103.0).contains(&mjd) {
            x.push(format!("{} asec", line[18..27].trim()));
            y.push(format!("{} asec", line[37..46].trim()));
            let u = line[58..68].trim();
            ut1.push(if dut1_extra_s == 0.0 {
                format!("{u} sec")
            } else {
                format!("{:.7} sec", u.parse::<f64>().unwrap() + dut1_extra_s)
            });
        }
    }
    assert_eq!(ut1.len(), 5);
    let def = format!(
        "$EOP;\n  def EOP61101;\n    TAI-UTC = 37 sec;\n    eop_ref_epoch = 2026y059d;\n    num_eop_points = 5;\n    eop_interval = 24 hr;\n    ut1-utc = {};\n    x_wobble = {};\n    y_wobble = {};\n  enddef;\n",
        ut1.join(" : "),
        x.join(" : "),
        y.join(" : ")
    );
    let a = text.find("$EOP;").unwrap();
    let b = a + text[a..].find("*---").unwrap();
    format!("{}{def}{}", &text[..a], &text[b..])
}

/// Delay (s) of stations T6 and KM towards PKS 1921−293 at `g`.
fn delays(job: &Job, g: UtcTime) -> [f64; 2] {
    let src = job
        .sources
        .iter()
        .find(|s| s.name == "PKS1921-293")
        .unwrap();
    let m = crate::model::DelayModel::new(job, src, g, g.add_seconds(1.0)).unwrap();
    let ctx = m.epoch(g).unwrap();
    [
        m.station(&ctx, 0).unwrap().delay_s,
        m.station(&ctx, 1).unwrap().delay_s,
    ]
}

#[test]
fn a_vex_eop_is_the_model_s_when_the_job_gives_none() {
    let dir = tempfile::tempdir().unwrap();
    // The truth is the IERS file itself: the job naming it, the VEX
    // carrying five of its days, must give the same delays. A VEX has no
    // celestial pole offsets dX, dY (0), so the file's are blanked
    // (columns 98–125): a file without them gives 0 too.
    let text = std::fs::read_to_string(testdata().join("finals2000A_2025-2026.txt")).unwrap();
    let blanked: String = text
        .lines()
        .map(|l| format!("{}{}{}\n", &l[..97], " ".repeat(28), &l[125..]))
        .collect();
    let finals = dir.path().join("finals_without_dxdy.txt");
    std::fs::write(&finals, blanked).unwrap();
    let from_file = format!("eop = {:?}", finals.display().to_string());
    let file_job = Session::load(&edited_vex_job(dir.path(), |t| t, &from_file)).unwrap();
    let vex = Session::load(&edited_vex_job(dir.path(), |t| eop_from_finals(t, 0.0), "")).unwrap();
    assert_eq!(file_job.eop.from, "job");
    assert_eq!(vex.eop.from, "vex");
    assert!(
        vex.eop.what.as_deref().unwrap().contains("$EOP EOP61101"),
        "{:?}",
        vex.eop
    );
    assert!(vex.job.model.as_ref().unwrap().eop_table.is_some());
    let mut worst = 0.0f64;
    for minute in [0, 7, 15] {
        let g = UtcTime::from_calendar(2026, 3, 2, 12, minute, 0, 0.0);
        let (a, b) = (delays(&file_job.job, g), delays(&vex.job, g));
        for s in 0..2 {
            worst = worst.max((a[s] - b[s]).abs());
        }
    }
    eprintln!(
        "VEX $EOP vs IERS file: largest delay difference {:.3e} s",
        worst
    );
    assert!(worst < 1e-12, "VEX $EOP vs IERS file: {:.3e} s", worst);

    // UT1−UTC 1 ms later turns the Earth by ω⊕·1 ms about the CIP: station
    // x moves by ω⊕·Δ·(p × x), its delay −ŝ·Δx/c (a station towards the
    // source sees the wavefront first).
    let shifted = Session::load(&edited_vex_job(
        dir.path(),
        |t| eop_from_finals(t, 1e-3),
        "",
    ))
    .unwrap();
    let omega = 2.0 * std::f64::consts::PI * 1.002_737_811_911_354_5 / 86_400.0;
    let src = vex
        .job
        .sources
        .iter()
        .find(|s| s.name == "PKS1921-293")
        .unwrap();
    let SourcePosition::RaDec { ra_rad, dec_rad } = src.position else {
        panic!("PKS is far-field")
    };
    let s_hat = [
        dec_rad.cos() * ra_rad.cos(),
        dec_rad.cos() * ra_rad.sin(),
        dec_rad.sin(),
    ];
    let c = 299_792_458.0;
    let mut worst = 0.0f64;
    for minute in [0, 7, 15] {
        let g = UtcTime::from_calendar(2026, 3, 2, 12, minute, 0, 0.0);
        let (a, b) = (delays(&vex.job, g), delays(&shifted.job, g));
        let (t1, t2) = crate::model::time_scales::utc_to_tt(g).jd2();
        let p = sofars::pnp::c2i06a(t1, t2)[2];
        let src = &vex.job.sources[0];
        let m = crate::model::DelayModel::new(&vex.job, src, g, g.add_seconds(1.0)).unwrap();
        let ctx = m.epoch(g).unwrap();
        let x = |i: usize| m.station(&ctx, i).unwrap().geocentric_m;
        let predicted = |x: [f64; 3]| {
            let pxx = [
                p[1] * x[2] - p[2] * x[1],
                p[2] * x[0] - p[0] * x[2],
                p[0] * x[1] - p[1] * x[0],
            ];
            -omega * 1e-3 * (pxx[0] * s_hat[0] + pxx[1] * s_hat[1] + pxx[2] * s_hat[2]) / c
        };
        let (p0, p1) = (predicted(x(0)), predicted(x(1)));
        // The baseline T6–KM: the shift of the delay difference.
        let got = (b[1] - b[0]) - (a[1] - a[0]);
        let want = p1 - p0;
        assert!(
            want.abs() > 1e-11,
            "{want:e}: a baseline that sees the rotation"
        );
        worst = worst.max((got - want).abs());
        eprintln!(
            "12:{minute:02}: T6–KM delay shift {:.4} ps, closed form {:.4} ps",
            got * 1e12,
            want * 1e12
        );
    }
    // The closed form leaves out aberration (the apparent ŝ is v⊕/c ≈ 1e-4
    // rad from the catalogue's: ~0.04 ps of the ~380 ps shift).
    assert!(worst < 0.1e-12, "closed form off by {:.4} ps", worst * 1e12);
}

#[test]
fn a_job_eop_file_wins_and_a_disagreeing_vex_eop_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let finals = testdata().join("finals2000A_2025-2026.txt");
    let from_file = format!("eop = {:?}", finals.display().to_string());
    // The same values: no warning.
    let same = Session::load(&edited_vex_job(
        dir.path(),
        |t| eop_from_finals(t, 0.0),
        &from_file,
    ))
    .unwrap();
    assert_eq!(same.eop.from, "job");
    assert_eq!(same.eop.warning, None);
    assert!(same.job.model.as_ref().unwrap().eop_table.is_none());
    // 20 µs off (tolerance 10 µs): the file is used, and said to disagree.
    let off = Session::load(&edited_vex_job(
        dir.path(),
        |t| eop_from_finals(t, 20e-6),
        &from_file,
    ))
    .unwrap();
    assert_eq!(off.eop.from, "job");
    let w = off.eop.warning.as_deref().unwrap();
    assert!(w.contains("disagrees") && w.contains("20.0 µs"), "{w}");
    // A $EOP without its epoch, when it is needed: an error naming the line.
    let broken = |t: String| eop_from_finals(t, 0.0).replace("eop_ref_epoch = 2026y059d;", "");
    let e = Session::load(&edited_vex_job(dir.path(), broken, ""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("em.vex:") && e.contains("eop_ref_epoch"), "{e}");
    // One point cannot be interpolated.
    let one = |t: String| {
        let t = eop_from_finals(t, 0.0);
        let a = t.find("    num_eop_points").unwrap();
        let b = a + t[a..].find("  enddef;").unwrap();
        format!(
            "{}    ut1-utc = 0.064 sec;\n    x_wobble = 0.05 asec;\n    y_wobble = 0.36 asec;\n{}",
            &t[..a],
            &t[b..]
        )
    };
    let e = Session::load(&edited_vex_job(dir.path(), one, ""))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("two EOP points or more") && e.contains("(1 given)"),
        "{e}"
    );
}

#[test]
fn each_scan_takes_the_clock_in_force_at_its_start() {
    // T6 has two clock_early entries: 1.234 µs from the day's start, and
    // −0.5 µs, −2 ps/s (epoch 12:10) from 12:10; No0003 starts at 12:10.
    let s = Session::load(&vex_job("")).unwrap();
    let plan = Plan {
        scans: s
            .scans
            .iter()
            .map(|_| ScanPlan {
                status: ScanStatus::Correlate,
                stations: vec![(0, Vec::new())],
                bytes: 0,
                cpu_s: 0.0,
                notes: Vec::new(),
            })
            .collect(),
        problems: Vec::new(),
        bits: vec![None; s.job.stations.len()],
    };
    let clock = |k: usize| s.scan_job(k, &plan).stations[0].clock.clone();
    for k in [0, 1] {
        assert!((clock(k).offset_s - 1.234e-6).abs() < 1e-18);
        assert_eq!(clock(k).rate, 1.5e-13);
    }
    for k in [2, 3] {
        let c = clock(k);
        assert!((c.offset_s + 0.5e-6).abs() < 1e-18, "{c:?}");
        assert!((c.rate + 2e-12).abs() < 1e-24, "{c:?}");
        assert_eq!(
            c.epoch,
            Some(UtcTime::from_calendar(2026, 3, 2, 12, 10, 0, 0.0))
        );
    }
    // A clock the job gives stands for every scan.
    let mut job = vex_job("");
    job.stations.push(crate::job::Station {
        name: "T6".into(),
        clock_given: true,
        ..s.job.stations[0].clone()
    });
    let s = Session::load(&job).unwrap();
    assert_eq!(s.vex_clocks[0], None);
}

/// $SITE site_position_epoch and site_velocity, $ANTENNA axis_type and
/// axis_offset reach the session's stations: em2603.vex (VEX 2.0, written
/// by hand) with KM's antenna made an equatorial mount of 1.83 m offset.
#[test]
fn vex_site_velocity_epoch_and_antenna_axis_reach_the_stations() {
    use crate::model::axis_offset::AxisType;
    let dir = tempfile::tempdir().unwrap();
    let job = edited_vex_job(
        dir.path(),
        |t| {
            // KM's $ANTENNA def is the second with "axis_type = az : el;".
            let at = t.match_indices("axis_type = az : el;").nth(1).unwrap().0;
            let (head, tail) = t.split_at(at);
            let tail = tail
                .replacen("axis_type = az : el;", "axis_type = ha : dec;", 1)
                .replacen("axis_offset = 0.0 m;", "axis_offset = 1.83 m;", 1);
            head.to_string() + &tail
        },
        "",
    );
    let s = Session::load(&job).unwrap();
    let st = |n: &str| s.job.stations.iter().find(|x| x.name == n).unwrap().clone();
    let (t6, km) = (st("T6"), st("KM"));
    let epoch = formats::UtcTime::parse_iso8601("2020-01-01T00:00:00Z").unwrap();
    assert_eq!(t6.itrf_epoch, Some(epoch));
    assert_eq!(t6.velocity_m_per_yr, Some([-0.0312, -0.0115, -0.0110]));
    assert_eq!(km.itrf_epoch, Some(epoch));
    let v = km.velocity_m_per_yr.unwrap();
    for (got, want) in v.iter().zip([-0.0314, -0.0052, -0.0119]) {
        assert!((got - want).abs() < 1e-12, "{v:?}");
    }
    let (a6, akm) = (t6.axis.unwrap(), km.axis.unwrap());
    assert_eq!((a6.axis, a6.offset_m), (AxisType::AzEl, 0.0));
    assert_eq!(akm.axis, AxisType::Equatorial);
    assert!((akm.offset_m - 1.83).abs() < 1e-12);
}
