//! Tests of the VEX reader and writer. The independent truth is the text of
//! the test files (testdata/vex/, written from the VEX 1.5 and 2.0
//! definitions): every parsed value is compared with the number written in
//! the file, converted to SI by hand here (8212.99 MHz → 8.21299e9 Hz), and
//! every line number with the line found by searching the file text.

use std::f64::consts::PI;
use std::path::PathBuf;

use super::lex::{parse_text, Body, Field};
use super::units::{self, Dim};
use super::*;
use crate::time::UtcTime;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/vex")
        .join(name)
}

fn text_of(name: &str) -> String {
    std::fs::read_to_string(testdata(name)).unwrap()
}

/// 1-based line on which `needle` (which must occur exactly once) starts.
fn line_of(text: &str, needle: &str) -> usize {
    assert_eq!(
        text.matches(needle).count(),
        1,
        "{needle:?} must occur once"
    );
    let at = text.find(needle).unwrap();
    1 + text[..at].matches('\n').count()
}

fn em2603() -> (String, Vex) {
    let t = text_of("em2603.vex");
    let v = parse_vex(&t, "em.vex").unwrap();
    (t, v)
}

fn bx101() -> (String, Vex) {
    let t = text_of("bx101_sched.vex");
    let v = parse_vex(&t, "bx.vex").unwrap();
    (t, v)
}

/// 2026 day 61 is 2 March (31 + 28 days before it).
fn mar2(h: u32, m: u32, s: u32, frac: f64) -> UtcTime {
    UtcTime::from_calendar(2026, 3, 2, h, m, s, frac)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

// ---------------------------------------------------------------------------
// The statement level.

#[test]
fn statements_fields_quotes_comments_refs_and_lines() {
    let text = "VEX_rev = 2.0;\n\
                $A; * a comment; with ; and : in it\n\
                \x20 def d1; k = a : \"x : y ; z * w\" : 5 MHz; k2 = -29d14'30.121\" ;\n\
                \x20   multi =\n\
                \x20     1 : * comment inside\n\
                \x20     2;\n\
                \x20   esc = \"a\\\"b\\\\c\\n\" : : &L1;\n\
                \x20 enddef;\n\
                $GLOBAL;\n\
                \x20 ref $SITE = S1 : T6 : KM;\n\
                \x20 ref other.vex:$SITE = S2;\n";
    let t = parse_text(text, "x.vex").unwrap();
    assert_eq!(t.rev, "2.0");
    assert_eq!(t.blocks.len(), 2);
    let a = &t.blocks[0];
    assert_eq!((a.name.as_str(), a.line), ("A", 2));
    let d = &a.defs[0];
    assert_eq!((d.name.as_str(), d.line, d.scan), ("d1", 3, false));
    let f = |s: &str, q: bool| Field {
        text: s.to_string(),
        quoted: q,
    };
    let params: Vec<(usize, String, Vec<Field>)> = d
        .statements
        .iter()
        .map(|s| match &s.body {
            Body::Param { keyword, fields } => (s.line, keyword.clone(), fields.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        params,
        vec![
            (
                3,
                "k".into(),
                vec![f("a", false), f("x : y ; z * w", true), f("5 MHz", false)]
            ),
            // The closing `"` of an angle is not a quote.
            (3, "k2".into(), vec![f("-29d14'30.121\"", false)]),
            // A statement spanning lines starts on its first line.
            (4, "multi".into(), vec![f("1", false), f("2", false)]),
            (
                7,
                "esc".into(),
                vec![f("a\"b\\c\n", true), f("", false), f("&L1", false)]
            ),
        ]
    );
    assert!(params[3].2[1].is_empty());
    let g = &t.blocks[1];
    assert_eq!(g.statements.len(), 2);
    assert_eq!(
        g.statements[0].body,
        Body::Ref {
            block: "SITE".into(),
            def: "S1".into(),
            qualifiers: vec!["T6".into(), "KM".into()],
            external: None
        }
    );
    assert_eq!(g.statements[0].line, 10);
    assert_eq!(
        g.statements[1].body,
        Body::Ref {
            block: "SITE".into(),
            def: "S2".into(),
            qualifiers: vec![],
            external: Some("other.vex".into())
        }
    );
}

#[test]
fn literal_block_is_kept_verbatim() {
    let (text, _) = bx101();
    let t = parse_text(&text, "bx.vex").unwrap();
    let d = t.find_def("SCHEDULING_PARAMS", "SCHED_PARAMS").unwrap();
    assert_eq!(d.statements.len(), 1);
    assert_eq!(
        d.statements[0].line,
        line_of(&text, "start_literal(sched);")
    );
    assert_eq!(
        d.statements[0].body,
        Body::Literal {
            tag: "sched".into(),
            text: "  sched_program = SCHED 11.6\n  * a literal block: its text is kept as written; ; : = are not syntax here"
                .into()
        }
    );
    // What follows the literal block is read normally.
    assert_eq!(t.blocks.iter().filter(|b| b.name == "SCHED").count(), 1);
}

// ---------------------------------------------------------------------------
// The VEX 2.0 Earth–Moon session.

#[test]
fn em2603_exper_global_and_notes() {
    let (text, v) = em2603();
    assert_eq!(v.version, VexVersion::V2_0);
    let e = v.exper.as_ref().unwrap();
    assert_eq!(e.def, "EM2603");
    assert_eq!(e.name.as_deref(), Some("EM2603"));
    // A quoted string keeps its ';' and ':'.
    assert_eq!(
        e.description.as_deref(),
        Some("Earth-Moon VLBI: Chang'e-7 lander; PKS 1921-293 : 3C279")
    );
    assert_eq!(e.pi_name.as_deref(), Some("A. N. Other"));
    assert_eq!(e.pi_email.as_deref(), Some("pi@example.org"));
    assert_eq!(e.target_correlator.as_deref(), Some("emcorr"));
    assert_eq!(e.nominal_start, Some(mar2(12, 0, 0, 0.0)));
    assert_eq!(e.nominal_stop, Some(mar2(12, 20, 0, 0.0)));
    assert_eq!(e.origin.line, line_of(&text, "  def EM2603;"));

    let g: Vec<(&str, &str, usize)> = v
        .global_refs
        .iter()
        .map(|r| (r.block.as_str(), r.def.as_str(), r.origin.line))
        .collect();
    assert_eq!(
        g,
        vec![
            ("EXPER", "EM2603", line_of(&text, "ref $EXPER = EM2603")),
            ("EOP", "EOP61101", line_of(&text, "ref $EOP = EOP61101")),
        ]
    );

    // Unknown block and unknown statement: skipped, noted with their lines.
    let notes: Vec<(usize, &str)> = v.notes.iter().map(|n| (n.line, n.text.as_str())).collect();
    assert_eq!(
        notes,
        vec![
            (
                line_of(&text, "$EMCORR_NOTES;"),
                "unknown block $EMCORR_NOTES; skipped"
            ),
            (
                line_of(&text, "lunar_frame"),
                "$SITE def LUNAR_SP: unknown statement lunar_frame; skipped"
            ),
        ]
    );
}

#[test]
fn em2603_stations_sites_antennas_das() {
    let (text, v) = em2603();
    let codes: Vec<&str> = v.stations.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["T6", "KM", "UR", "LS"]);

    let t6 = v.station("T6").unwrap();
    assert_eq!(t6.origin.line, line_of(&text, "  def T6;\n    ref $SITE"));
    let s = &t6.site;
    assert_eq!(s.site_type.as_deref(), Some("fixed"));
    assert_eq!(s.name.as_deref(), Some("TIANMA65"));
    assert_eq!(s.id.as_deref(), Some("T6"));
    assert_eq!(s.position_m, Some([-2826708.8, 4679236.9, 3274667.4]));
    assert_eq!(s.velocity_m_per_yr, Some([-0.0312, -0.0115, -0.0110]));
    assert_eq!(
        s.position_epoch,
        Some(UtcTime::from_calendar(2020, 1, 1, 0, 0, 0, 0.0))
    );
    assert_eq!(
        s.origin.line,
        line_of(&text, "  def TIANMA65;\n    site_type")
    );

    let km = &v.station("KM").unwrap().site;
    assert_eq!(km.position_m, Some([-1281152.8, 5640864.4, 2682653.5]));
    // -31.4 mm/yr is -0.0314 m/yr.
    assert_eq!(km.velocity_m_per_yr, Some([-0.0314, -0.0052, -0.0119]));

    let ur = &v.station("UR").unwrap().site;
    assert_eq!(ur.position_m, Some([228310.7, 4631922.8, 4367064.1]));
    assert_eq!(ur.velocity_m_per_yr, Some([-0.031, 0.004, 0.008]));
    assert_eq!(
        ur.position_epoch,
        Some(UtcTime::from_calendar(2020, 1, 1, 12, 0, 0, 0.0))
    );

    // The lunar station has no Earth-fixed position.
    let ls = v.station("LS").unwrap();
    assert_eq!(ls.site.name.as_deref(), Some("LUNAR_SP"));
    assert_eq!(ls.site.position_m, None);
    assert_eq!(ls.site.velocity_m_per_yr, None);

    let a = t6.antenna.as_ref().unwrap();
    assert_eq!(a.axis_type, Some(AxisType::AzEl));
    assert_eq!((a.axis_offset_m, a.diameter_m), (Some(0.0), Some(65.0)));
    assert_eq!(
        v.station("UR")
            .unwrap()
            .antenna
            .as_ref()
            .unwrap()
            .axis_offset_m,
        Some(1.5)
    );
    // 120 mm.
    assert_eq!(ls.antenna.as_ref().unwrap().axis_offset_m, Some(0.12));
    assert_eq!(ls.antenna.as_ref().unwrap().diameter_m, Some(4.2));

    let d = t6.das.as_ref().unwrap();
    assert_eq!((d.recorder(), d.rack()), (Some("Mark6"), Some("CDAS")));
    assert_eq!(d.record_transport_type, None);
    let lsd = ls.das.as_ref().unwrap();
    assert_eq!(
        lsd.equipment,
        vec![Equipment {
            kind: "recorder".into(),
            device: "flash".into(),
            link: Some("LSrec".into()),
            label: Some("on-board flash".into()),
        }]
    );
}

#[test]
fn em2603_clocks() {
    let (text, v) = em2603();
    let t6 = v.station("T6").unwrap();
    assert_eq!(t6.clock.len(), 2);
    let c0 = &t6.clock[0];
    assert_eq!(c0.valid_from, Some(mar2(0, 0, 0, 0.0)));
    assert_eq!(c0.offset_s, 1.234e-6);
    assert_eq!(c0.epoch, Some(mar2(12, 0, 0, 0.0)));
    assert_eq!(c0.rate_s_per_s, Some(1.5e-13));
    assert_eq!(
        c0.origin.line,
        line_of(&text, "clock_early = 2026y061d00h00m00s")
    );
    let c1 = &t6.clock[1];
    // `2026y061d12h10m`: seconds left out are zero.
    assert_eq!(c1.valid_from, Some(mar2(12, 10, 0, 0.0)));
    assert_eq!(c1.offset_s, -0.5e-6);
    // -2.0 psec/sec.
    assert_eq!(c1.rate_s_per_s, Some(-2.0e-12));

    // The entry in force: the latest valid_from not after t.
    assert!(std::ptr::eq(t6.clock_at(mar2(12, 5, 0, 0.0)).unwrap(), c0));
    assert!(std::ptr::eq(t6.clock_at(mar2(12, 10, 0, 0.0)).unwrap(), c1));
    assert!(t6
        .clock_at(UtcTime::from_calendar(2026, 3, 1, 23, 59, 59, 0.0))
        .is_none());
    // offset + rate · (t − epoch), 300 s after the epoch.
    let t = mar2(12, 5, 0, 0.0);
    assert!(close(c0.offset_at_s(t), 1.234e-6 + 1.5e-13 * 300.0, 1e-22));

    let km = &v.station("KM").unwrap().clock;
    assert_eq!(km.len(), 1);
    assert_eq!(
        (
            km[0].valid_from,
            km[0].offset_s,
            km[0].epoch,
            km[0].rate_s_per_s
        ),
        (None, 0.87e-6, None, None)
    );
    assert_eq!(km[0].offset_at_s(t), 0.87e-6);

    let ur = &v.station("UR").unwrap().clock[0];
    assert_eq!(ur.valid_from, Some(mar2(0, 0, 0, 0.0)));
    assert_eq!(ur.offset_s, 2.5e-6);
    assert_eq!(ur.rate_s_per_s, Some(3.0e-13));
    let ls = &v.station("LS").unwrap().clock[0];
    assert_eq!((ls.offset_s, ls.rate_s_per_s), (1.0e-8, Some(1.0e-12)));
}

#[test]
fn em2603_sources_radec_by_closed_form_and_spacecraft() {
    let (text, v) = em2603();
    let keys: Vec<&str> = v.sources.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["1921-293", "3C279", "CE7LANDER"]);

    let p = v.source("1921-293").unwrap();
    assert_eq!(p.name, "PKS1921-293");
    assert_eq!(p.iau_name.as_deref(), Some("J1924-2914"));
    assert_eq!(p.source_type, ["star", "calibrator"]);
    assert_eq!(p.ref_coord_frame.as_deref(), Some("J2000"));
    assert!(!p.is_spacecraft());
    // 19h24m51.0559s = (19 + 24/60 + 51.0559/3600) h × 15°/h; -29°14'30.121".
    // (The parser sums seconds first; the two agree to rounding, 1e-15 rad.)
    let ra = (19.0 + 24.0 / 60.0 + 51.0559 / 3600.0) * 15.0 * PI / 180.0;
    let dec = -(29.0 + 14.0 / 60.0 + 30.121 / 3600.0) * PI / 180.0;
    assert!(
        close(p.ra_rad.unwrap(), ra, 1e-15),
        "{:?} vs {ra}",
        p.ra_rad
    );
    assert!(
        close(p.dec_rad.unwrap(), dec, 1e-15),
        "{:?} vs {dec}",
        p.dec_rad
    );
    assert_eq!(p.origin.line, line_of(&text, "  def 1921-293;"));

    // Three statements on one line.
    let q = v.source("3C279").unwrap();
    let ra = (12.0 + 56.0 / 60.0 + 11.1665 / 3600.0) * 15.0 * PI / 180.0;
    let dec = -(5.0 + 47.0 / 60.0 + 21.525 / 3600.0) * PI / 180.0;
    assert!(close(q.ra_rad.unwrap(), ra, 1e-15));
    assert!(close(q.dec_rad.unwrap(), dec, 1e-15));
    assert_eq!(q.ref_coord_frame.as_deref(), Some("ICRF"));

    let c = v.source("CE7LANDER").unwrap();
    assert!(c.is_spacecraft());
    assert_eq!(c.source_type, ["bsp", "target"]);
    assert_eq!(c.bsp_file_name.as_deref(), Some("ce7_lander.bsp"));
    assert_eq!(c.bsp_object_id.as_deref(), Some("-178"));
    assert_eq!((c.ra_rad, c.dec_rad), (None, None));
}

#[test]
fn em2603_mode_channels_ifs_bbcs_threads() {
    let (text, v) = em2603();
    assert_eq!(v.modes.len(), 1);
    let m = v.mode("X4x16").unwrap();
    let st: Vec<&str> = m.setups.iter().map(|s| s.station.as_str()).collect();
    assert_eq!(st, ["T6", "KM", "UR", "LS"]);

    let s = v.setup("X4x16", "T6").unwrap();
    assert_eq!(s.sample_rate_hz, None);
    let ids: Vec<&str> = s.channels.iter().map(|c| c.chan_id.as_str()).collect();
    assert_eq!(ids, ["CH01", "CH02", "CH03", "CH04"]);
    // (chan, sky Hz, pol, pcal id, name, pcal interval, thread, index)
    let expect = [
        (
            "CH01",
            8.21299e9,
            Polarisation::R,
            Some("L_cal"),
            Some("x1r"),
            Some(1e6),
            0,
            0,
        ),
        (
            "CH02",
            8.21299e9,
            Polarisation::L,
            Some("L_cal"),
            Some("x1l"),
            None,
            1,
            0,
        ),
        (
            "CH03",
            8.22899e9,
            Polarisation::R,
            Some("L_cal"),
            None,
            Some(1e6),
            0,
            1,
        ),
        ("CH04", 8.22899e9, Polarisation::L, None, None, None, 1, 1),
    ];
    for (c, e) in s.channels.iter().zip(expect) {
        assert_eq!(c.chan_id, e.0);
        assert_eq!(c.band_id.as_deref(), Some("X"));
        assert_eq!(c.sky_freq_hz, e.1, "{}", c.chan_id);
        assert_eq!(c.sideband, Sideband::Upper);
        assert_eq!(c.bandwidth_hz, 16e6);
        assert_eq!(c.polarisation(), Some(e.2));
        assert_eq!(c.pcal_id.as_deref(), e.3);
        assert_eq!(c.name.as_deref(), e.4);
        assert_eq!(c.pcal_interval_hz(), e.5);
        assert_eq!(c.lo_freq_hz(), Some(7.6e9));
        assert_eq!(
            c.record,
            Some(ThreadSlot {
                thread_id: e.6,
                index: e.7
            })
        );
        assert_eq!(s.channel_sample_rate_hz(c), Some(32e6));
        assert_eq!(s.channel_bits(c), Some(2));
    }
    let c1 = s.channel("CH01").unwrap();
    assert_eq!(c1.bbc_id, "BBC01");
    assert_eq!(
        c1.bbc,
        Some(BbcAssign {
            physical: "1".into(),
            if_id: "IF_XR".into()
        })
    );
    assert_eq!(
        c1.if_def,
        Some(IfDef {
            if_id: "IF_XR".into(),
            physical_name: Some("A".into()),
            polarisation: Polarisation::R,
            lo_freq_hz: 7.6e9,
            sideband: Sideband::Upper,
            pcal_interval_hz: Some(1e6),
            pcal_base_hz: Some(0.0),
            sample_rate_hz: None,
        })
    );
    assert_eq!(
        c1.origin.line,
        line_of(&text, "&CH01 : &BBC01 : &L_cal : x1r;")
    );
    assert_eq!(
        s.channel("CH04").unwrap().bbc.as_ref().unwrap().physical,
        "4"
    );

    assert_eq!(
        s.datastreams,
        vec![Datastream {
            link: Some("DS1".into()),
            format: "VDIF".into(),
            label: Some("X".into()),
            data_rate_bps: None
        }]
    );
    assert_eq!(s.threads.len(), 2);
    for (t, id) in s.threads.iter().zip([0u32, 1]) {
        assert_eq!(
            *t,
            VdifThread {
                datastream: Some("DS1".into()),
                link: Some(format!("thread{id}")),
                thread_id: id,
                n_channels: 2,
                sample_rate_hz: Some(32e6),
                bits: 2,
                complex: false,
                frame_data_bytes: Some(8000),
                data_rate_bps: None,
            }
        );
    }

    // The lunar station: its own $FREQ ("8.22899 GHz", "16000 kHz"), only
    // R, and the channels in the other order in its thread.
    let ls = v.setup("X4x16", "LS").unwrap();
    type Row<'a> = (
        &'a str,
        f64,
        f64,
        Option<Polarisation>,
        Option<ThreadSlot>,
        Option<&'a str>,
    );
    let got: Vec<Row> = ls
        .channels
        .iter()
        .map(|c| {
            (
                c.chan_id.as_str(),
                c.sky_freq_hz,
                c.bandwidth_hz,
                c.polarisation(),
                c.record,
                c.bbc.as_ref().map(|b| b.physical.as_str()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "CH01",
                8.21299e9,
                16e6,
                Some(Polarisation::R),
                Some(ThreadSlot {
                    thread_id: 0,
                    index: 1
                }),
                Some("1")
            ),
            (
                "CH03",
                8.22899e9,
                16e6,
                Some(Polarisation::R),
                Some(ThreadSlot {
                    thread_id: 0,
                    index: 0
                }),
                Some("2")
            ),
        ]
    );
    assert_eq!(ls.threads.len(), 1);
    assert_eq!(ls.threads[0].link.as_deref(), Some("t0"));
    assert_eq!(ls.channels[0].pcal_id, None);
}

#[test]
fn em2603_scans() {
    let (text, v) = em2603();
    let names: Vec<&str> = v.scans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["No0001", "No0002", "No0003", "No0004"]);
    let starts: Vec<UtcTime> = v.scans.iter().map(|s| s.start).collect();
    assert_eq!(
        starts,
        [
            mar2(12, 0, 0, 0.0),
            mar2(12, 5, 0, 0.0),
            mar2(12, 10, 0, 0.0),
            mar2(12, 15, 30, 0.5)
        ]
    );
    assert!(v.scans.iter().all(|s| s.mode == "X4x16"));

    // (station, data_good, data_stop) per scan.
    let table = |s: &Scan| -> Vec<(String, f64, f64)> {
        s.stations
            .iter()
            .map(|x| (x.station.clone(), x.data_good_s, x.data_stop_s))
            .collect()
    };
    let row = |a: &str, g: f64, st: f64| (a.to_string(), g, st);
    let s1 = &v.scans[0];
    assert_eq!(s1.sources.len(), 1);
    assert_eq!(s1.sources[0].key, "1921-293");
    assert_eq!(
        (s1.sources[0].pointing_center, s1.sources[0].correlate),
        (None, None)
    );
    assert_eq!(
        table(s1),
        vec![
            row("T6", 0.0, 120.0),
            row("KM", 10.0, 120.0),
            row("UR", 5.0, 110.0),
            row("LS", 0.0, 120.0)
        ]
    );
    let t6 = s1.station("T6").unwrap();
    assert_eq!(
        (t6.pointing_sector.as_deref(), t6.drives.as_slice()),
        (Some("n"), &["1".to_string()][..])
    );
    assert_eq!(s1.station("UR").unwrap().goto_foot.as_deref(), Some("0 GB"));
    assert!(s1.station("LS").unwrap().drives.is_empty());
    assert_eq!(s1.origin.line, line_of(&text, "scan No0001;"));

    // Two sources in one beam, with the VEX 2.0 flags and station list.
    let s2 = &v.scans[1];
    type Src<'a> = (&'a str, Option<bool>, Option<bool>, Vec<String>);
    let src: Vec<Src> = s2
        .sources
        .iter()
        .map(|x| {
            (
                x.key.as_str(),
                x.pointing_center,
                x.correlate,
                x.stations.clone(),
            )
        })
        .collect();
    assert_eq!(
        src,
        vec![
            ("CE7LANDER", Some(true), Some(true), vec![]),
            (
                "1921-293",
                Some(false),
                Some(true),
                vec!["T6".to_string(), "KM".to_string()]
            ),
        ]
    );
    assert_eq!(
        s2.sources[1].origin.line,
        line_of(&text, "source = 1921-293 : 0 : 1 : T6 : KM;")
    );
    assert_eq!(
        table(s2),
        vec![
            row("T6", 0.0, 180.0),
            row("KM", 0.0, 180.0),
            row("UR", 0.0, 170.0),
            row("LS", 20.0, 180.0)
        ]
    );

    // Urumqi is absent from scan 3; `1 min` is 60 s.
    let s3 = &v.scans[2];
    assert!(s3.station("UR").is_none());
    assert_eq!(
        table(s3),
        vec![
            row("T6", 0.0, 60.0),
            row("KM", 0.0, 60.0),
            row("LS", 0.0, 60.0)
        ]
    );
    assert_eq!(s3.sources[0].key, "3C279");

    // `2500 msec`; start with a fraction of a second; statements sharing a line.
    let s4 = &v.scans[3];
    let km = s4.station("KM").unwrap();
    assert_eq!(km.data_good_s, 2.5);
    assert_eq!(s4.data_good(km), mar2(12, 15, 33, 0.0));
    assert_eq!(s4.data_stop(km), mar2(12, 19, 30, 0.5));
    assert_eq!(km.origin.line, line_of(&text, "station = KM : 2500 msec"));
    assert_eq!(
        s4.sources[0].origin.line,
        line_of(&text, "start = 2026y061d12h15m30.5s")
    );
    assert_eq!(
        table(s4),
        vec![
            row("T6", 0.0, 240.0),
            row("KM", 2.5, 240.0),
            row("UR", 0.0, 200.0),
            row("LS", 0.0, 240.0)
        ]
    );

    // The session layer's way to the setup of a station in a scan.
    assert_eq!(v.scan_setup(s3, "LS").unwrap().channels.len(), 2);
}

#[test]
fn em2603_eop() {
    let (text, v) = em2603();
    assert_eq!(v.eop.len(), 1);
    let e = &v.eop[0];
    assert_eq!(e.def, "EOP61101");
    assert_eq!(e.tai_utc_s, Some(37.0));
    assert_eq!(
        e.ref_epoch,
        Some(UtcTime::from_calendar(2026, 3, 1, 0, 0, 0, 0.0))
    );
    assert_eq!(e.interval_s, Some(86_400.0));
    assert_eq!(e.ut1_utc_s, [0.0451, 0.0443, 0.0436]);
    // arc-seconds to radians: × π/648000. The last two y values carry no unit
    // and take the first one's (VEX: lists of variable length).
    let asec = PI / 648_000.0;
    for (got, want) in e.x_wobble_rad.iter().zip([0.1234, 0.1241, 0.1248]) {
        assert!(close(*got, want * asec, 1e-22), "{got} vs {}", want * asec);
    }
    assert_eq!(e.y_wobble_rad.len(), 3);
    for (got, want) in e.y_wobble_rad.iter().zip([0.3901, 0.3897, 0.3893]) {
        assert!(close(*got, want * asec, 1e-22));
    }
    assert_eq!(e.origin.line, line_of(&text, "  def EOP61101;"));
}

// ---------------------------------------------------------------------------
// The VEX 1.5 file in sched's layout.

#[test]
fn vex15_sched_file() {
    let (text, v) = bx101();
    assert_eq!(v.version, VexVersion::V1_5);
    assert!(v.notes.is_empty(), "{:?}", v.notes);
    let e = v.exper.as_ref().unwrap();
    assert_eq!(e.name.as_deref(), Some("bx101"));
    assert_eq!(e.target_correlator.as_deref(), Some("DIFX"));
    assert_eq!(e.nominal_stop, Some(mar2(12, 10, 0, 0.0)));

    let codes: Vec<&str> = v.stations.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["T6", "KM", "UR"]);
    let t6 = v.station("T6").unwrap();
    assert_eq!(t6.site.position_m, Some([-2826708.8, 4679236.9, 3274667.4]));
    assert_eq!(t6.site.velocity_m_per_yr, Some([-0.0312, -0.0115, -0.011]));
    // sched writes site_position_epoch as an MJD: 56658 is 2014-01-01.
    let y2014 = UtcTime::from_calendar(2014, 1, 1, 0, 0, 0, 0.0);
    assert_eq!(t6.site.position_epoch, Some(y2014));
    assert_eq!(v.station("UR").unwrap().site.position_epoch, Some(y2014));
    let d = t6.das.as_ref().unwrap();
    assert_eq!(d.record_transport_type.as_deref(), Some("Mark6"));
    assert_eq!(d.electronics_rack_type.as_deref(), Some("DBBC3"));
    assert_eq!((d.recorder(), d.rack()), (Some("Mark6"), Some("DBBC3")));
    let ur = v.station("UR").unwrap();
    assert_eq!(
        ur.antenna.as_ref().unwrap().axis_type,
        Some(AxisType::HaDec)
    );
    assert_eq!(ur.antenna.as_ref().unwrap().axis_offset_m, Some(2.1299));
    assert!(ur.clock.is_empty());
    let km = &v.station("KM").unwrap().clock[0];
    assert_eq!(
        (km.valid_from, km.offset_s, km.rate_s_per_s),
        (Some(mar2(12, 0, 0, 0.0)), -0.321e-6, Some(-4.0e-14))
    );
    assert_eq!(km.origin.line, line_of(&text, "-0.321 usec"));

    // ra/dec with 7 decimals; the sign of a declination with 0 degrees comes
    // from the text.
    let p = v.source("1921-293").unwrap();
    let ra = (19.0 + 24.0 / 60.0 + 51.055954 / 3600.0) * 15.0 * PI / 180.0;
    let dec = -(29.0 + 14.0 / 60.0 + 30.12117 / 3600.0) * PI / 180.0;
    assert!(close(p.ra_rad.unwrap(), ra, 1e-15));
    assert!(close(p.dec_rad.unwrap(), dec, 1e-15));
    let n = v.source("0000+001").unwrap();
    let s = v.source("0000-001").unwrap();
    assert!(close(n.dec_rad.unwrap(), 30.0 / 3600.0 * PI / 180.0, 1e-18));
    assert!(close(
        s.dec_rad.unwrap(),
        -30.0 / 3600.0 * PI / 180.0,
        1e-18
    ));
    assert!(close(
        n.ra_rad.unwrap(),
        0.5 / 3600.0 * 15.0 * PI / 180.0,
        1e-18
    ));

    let m = v.mode("Xband").unwrap();
    assert_eq!(m.setups.len(), 3);
    let s = m.setup("UR").unwrap();
    assert_eq!(s.sample_rate_hz, Some(16e6));
    assert_eq!(s.track_frame_format.as_deref(), Some("VDIF5032"));
    assert_eq!(s.tracks_bits, Some(2));
    // (sky, sideband, pol, pcal interval) of CH01..CH04; no band ID in field 1.
    let expect = [
        (8.4e9, Sideband::Upper, Polarisation::R, Some(1e6)),
        (8.4e9, Sideband::Upper, Polarisation::L, None),
        (8.416e9, Sideband::Lower, Polarisation::R, Some(1e6)),
        (8.416e9, Sideband::Lower, Polarisation::L, None),
    ];
    for (i, (c, e)) in s.channels.iter().zip(expect).enumerate() {
        assert_eq!(c.chan_id, format!("CH0{}", i + 1));
        assert_eq!(c.band_id, None);
        assert_eq!(c.name, None);
        assert_eq!((c.sky_freq_hz, c.sideband, c.bandwidth_hz), (e.0, e.1, 8e6));
        assert_eq!(c.polarisation(), Some(e.2));
        // `off` in if_def: no tones.
        assert_eq!(c.pcal_interval_hz(), e.3);
        assert_eq!(c.lo_freq_hz(), Some(7.6e9));
        assert_eq!(
            c.record,
            Some(ThreadSlot {
                thread_id: 0,
                index: i as u32
            })
        );
        assert_eq!(s.channel_sample_rate_hz(c), Some(16e6));
        assert_eq!(s.channel_bits(c), Some(2));
    }
    assert_eq!(
        s.channels[2]
            .if_def
            .as_ref()
            .unwrap()
            .physical_name
            .as_deref(),
        Some("A")
    );
    assert_eq!(
        s.datastreams,
        vec![Datastream {
            link: None,
            format: "VDIF".into(),
            label: None,
            data_rate_bps: Some(128e6)
        }]
    );
    assert_eq!(
        s.threads,
        vec![VdifThread {
            datastream: None,
            link: None,
            thread_id: 0,
            n_channels: 4,
            sample_rate_hz: None,
            bits: 2,
            complex: false,
            frame_data_bytes: Some(5000),
            data_rate_bps: Some(128e6),
        }]
    );

    let e = &v.eop[0];
    assert_eq!((e.tai_utc_s, e.interval_s), (Some(37.0), Some(86_400.0)));
    assert_eq!(e.ut1_utc_s, [0.0451, 0.0443]);
    assert!(close(e.y_wobble_rad[1], 0.3897 * PI / 648_000.0, 1e-22));

    assert_eq!(v.scans.len(), 3);
    let s1 = &v.scans[0];
    assert_eq!(
        (s1.start, s1.mode.as_str(), s1.sources[0].key.as_str()),
        (mar2(12, 0, 0, 0.0), "Xband", "1921-293")
    );
    let t6 = s1.station("T6").unwrap();
    assert_eq!(t6.goto_foot.as_deref(), Some("0.000 GB"));
    assert_eq!(t6.pointing_sector.as_deref(), Some("ccw"));
    assert_eq!(s1.station("UR").unwrap().data_good_s, 12.0);
    assert_eq!(
        s1.sources[0].origin.line,
        line_of(&text, "start=2026y061d12h00m00s; mode")
    );
    assert!(v.scans[1].station("UR").is_none());
}

// ---------------------------------------------------------------------------
// Bad input: one line, the right line, never a panic.

/// The session file with `from` (which must occur once) replaced by `to`;
/// returns the text and the line `to` starts on.
fn broken(from: &str, to: &str) -> (String, usize) {
    let t = text_of("em2603.vex");
    let line = line_of(&t, from);
    (t.replacen(from, to, 1), line)
}

fn err_of(text: &str) -> VexError {
    match parse_vex(text, "em.vex") {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

#[test]
fn error_unterminated_def() {
    let (t, _) = broken("&CH04 : &BBC04;\n  enddef;\n", "&CH04 : &BBC04;\n");
    let def_line = line_of(&t, "  def X4x16;\n*             band");
    let next = line_of(&t, "  def X2x16;");
    let e = err_of(&t);
    assert_eq!(e.kind, VexErrorKind::Syntax);
    assert_eq!(
        e.to_string(),
        format!("em.vex:{def_line}: $FREQ def X4x16: def X4x16 has no enddef (def X2x16 starts on line {next})")
    );

    // A def still open at the end of the file, and a block starting inside a def.
    let t = text_of("em2603.vex");
    let cut = t.rfind("  endscan;").unwrap();
    let e = err_of(&t[..cut]);
    assert_eq!(
        e.to_string(),
        format!(
            "em.vex:{}: $SCHED scan No0004: scan No0004 has no endscan (the file ends inside it)",
            line_of(&t, "scan No0004;")
        )
    );
    let (t, _) = broken(
        "    y_wobble = 0.3901 asec : 0.3897 : 0.3893;\n  enddef;\n",
        "",
    );
    let e = err_of(&t);
    assert_eq!(e.line, line_of(&t, "  def EOP61101;"));
    assert!(
        e.to_string().ends_with(&format!(
            "(${} starts on line {})",
            "PROCEDURES",
            line_of(&t, "$PROCEDURES;")
        )),
        "{e}"
    );
}

#[test]
fn error_missing_semicolon() {
    let (t, line) = broken(
        "&CH02 : &BBC02 : &L_cal : x1l;",
        "&CH02 : &BBC02 : &L_cal : x1l",
    );
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!("em.vex:{line}: $FREQ def X4x16: missing ';' at the end of this line (the next line starts a new statement)")
    );
    // Before `enddef`.
    let (t, line) = broken(
        "    site_position_epoch = 2020y001d;\n  enddef;\n  def KUNMING;",
        "    site_position_epoch = 2020y001d\n  enddef;\n  def KUNMING;",
    );
    let e = err_of(&t);
    assert_eq!(e.line, line);
    assert_eq!(e.def.as_deref(), Some("TIANMA65"));
    // After a block name, and at the end of the file.
    let (t, line) = broken("$BBC;", "$BBC");
    assert_eq!(err_of(&t).line, line);
    let t = text_of("em2603.vex");
    let cut = t.rfind("  endscan;").unwrap() + "  endscan".len();
    let last_line = 1 + t[..cut].matches('\n').count();
    let e = err_of(&t[..cut]);
    assert_eq!(
        (e.line, e.message.as_str()),
        (
            last_line,
            "missing ';': the file ends inside this statement"
        )
    );
}

#[test]
fn error_bad_unit_and_missing_unit() {
    let (t, line) = broken(
        "chan_def = &X : 8228.99 MHz : U : 16 MHz : &CH03 : &BBC03 : &L_cal;",
        "chan_def = &X : 8228.99 MHz : U : 16 Mhz : &CH03 : &BBC03 : &L_cal;",
    );
    let e = err_of(&t);
    assert_eq!(e.kind, VexErrorKind::Value);
    assert_eq!(
        e.to_string(),
        format!(
            "em.vex:{line}: $FREQ def X4x16: chan_def: bandwidth \"16 Mhz\": unknown unit \"Mhz\" \
             (expected a frequency unit: mHz, Hz, kHz, MHz, GHz)"
        )
    );
    let (t, line) = broken(
        "station = KM : 10 sec : 120 sec",
        "station = KM : 10 : 120 sec",
    );
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!(
            "em.vex:{line}: $SCHED scan No0001: station: data_good \"10\": missing unit \
             (a time unit: psec, nsec, usec, msec, sec, min, hr, yr)"
        )
    );
    // A unit of the wrong kind.
    let (t, line) = broken("site_position = 228310.7 m", "site_position = 228310.7 sec");
    let e = err_of(&t);
    assert_eq!(
        (e.line, e.block.as_deref(), e.def.as_deref()),
        (line, Some("SITE"), Some("URUMQI"))
    );
    assert!(
        e.message
            .starts_with("x \"228310.7 sec\": unknown unit \"sec\""),
        "{e}"
    );
}

#[test]
fn error_bad_time_and_angle() {
    let (t, line) = broken("start = 2026y061d12h10m00s;", "start = 2026y061d25h10m00s;");
    assert_eq!(
        err_of(&t).to_string(),
        format!("em.vex:{line}: $SCHED scan No0003: start: start \"2026y061d25h10m00s\": hour, minute or second out of range")
    );
    // 2026 is not a leap year.
    let (t, line) = broken("start = 2026y061d12h10m00s;", "start = 2026y366d12h10m00s;");
    let e = err_of(&t);
    assert_eq!(
        (e.line, e.message.as_str()),
        (
            line,
            "start \"2026y366d12h10m00s\": day of year 366 out of range for 2026"
        )
    );
    let (t, line) = broken(
        "start = 2026y061d12h10m00s;",
        "start = 2026-03-02T12:10:00;",
    );
    let e = err_of(&t);
    // The ':' of an ISO time splits fields; the first is not an epoch.
    assert_eq!(e.line, line);
    let (t, line) = broken("ra = 19h24m51.0559s;", "ra = 19h24m61.0559s;");
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!("em.vex:{line}: $SOURCE def 1921-293: ra: ra \"19h24m61.0559s\": hours, minutes or seconds out of range")
    );
    let (t, line) = broken(
        "clock_early = : 0.87 usec;",
        "clock_early = 2026y061x : 0.87 usec;",
    );
    assert_eq!(err_of(&t).line, line);
}

#[test]
fn error_refs_and_links() {
    let (t, line) = broken("ref $FREQ = X2x16 : LS;", "ref $FREQ = X2x17 : LS;");
    let e = err_of(&t);
    assert_eq!(e.kind, VexErrorKind::Reference);
    assert_eq!(
        e.to_string(),
        format!("em.vex:{line}: $MODE def X4x16: ref $FREQ: no def X2x17 in $FREQ")
    );

    let (t, line) = broken("ref $SITE = KUNMING;", "ref $SITE = KUNMlNG;");
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!("em.vex:{line}: $STATION def KM: ref $SITE: no def KUNMlNG in $SITE")
    );

    let (t, line) = broken("source = 3C279;", "source = 3C273;");
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!("em.vex:{line}: $SCHED scan No0003: source: no def 3C273 in $SOURCE")
    );

    let (t, line) = broken(
        "station = UR : 0 sec : 200 sec",
        "station = XX : 0 sec : 200 sec",
    );
    assert_eq!(
        err_of(&t).to_string(),
        format!("em.vex:{line}: $SCHED scan No0004: station: no def XX in $STATION")
    );

    // A chan_def whose BBC is not assigned: the error is on the chan_def.
    let (t, _) = broken(
        "BBC_assign = &BBC04 : 4 : &IF_XL;",
        "BBC_assign = &BBC05 : 4 : &IF_XL;",
    );
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!(
            "em.vex:{}: $FREQ def X4x16: chan_def: BBC link &BBC04 is not assigned in $BBC def BBC4",
            line_of(&t, "&CH04 : &BBC04;")
        )
    );
    // A BBC fed from an IF that is not defined.
    let (t, line) = broken(
        "BBC_assign = &BBC03 : 2 : &IF_XR;",
        "BBC_assign = &BBC03 : 2 : &IF_XQ;",
    );
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!("em.vex:{line}: $BBC def BBC2: BBC_assign: IF link &IF_XQ is not an if_def of $IF def IF_X")
    );
    // A stream channel in a thread that does not exist.
    let (t, line) = broken(
        "channel = &DSL : &t0 : &CH01 : 1;",
        "channel = &DSL : &t1 : &CH01 : 1;",
    );
    assert_eq!(
        err_of(&t).to_string(),
        format!("em.vex:{line}: $DATASTREAMS def DS2: channel: no thread &t1 of datastream &DSL in this def")
    );
    // Two channels in one slot.
    let (t, line) = broken(
        "channel = &DS1 : &thread1 : &CH04 : 1;",
        "channel = &DS1 : &thread1 : &CH04 : 0;",
    );
    assert_eq!(
        err_of(&t).to_string(),
        format!(
            "em.vex:{line}: $DATASTREAMS def DS4: channel: thread 1 channel 0 already holds &CH02"
        )
    );
}

#[test]
fn error_too_few_fields_and_other_values() {
    let (t, line) = broken(
        "chan_def = &X : 8212.99 MHz : U : 16.000 MHz : &CH01 : &BBC01;",
        "chan_def = &X : 8212.99 MHz : U : 16.000 MHz;",
    );
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!(
            "em.vex:{line}: $FREQ def X2x16: chan_def: needs at least 6 fields \
             (band_id : sky_freq : net_sideband : bandwidth : chan_id : bbc_id), found 4"
        )
    );
    let (t, line) = broken(
        "if_def = &IF_XL : B : L : 7600.00 MHz : U;",
        "if_def = &IF_XL : B : Q : 7600.00 MHz : U;",
    );
    assert_eq!(
        err_of(&t).to_string(),
        format!(
            "em.vex:{line}: $IF def IF_X: if_def: polarisation \"Q\": expected R, L, X, Y, H or V"
        )
    );
    let (t, line) = broken(
        "thread = &DS1 : &thread1 : 1 : 2 : 32 Ms/sec : 2 : real : 8000;",
        "thread = &DS1 : &thread1 : 1 : 2 : 32 Ms/sec : 2 : rael : 8000;",
    );
    assert_eq!(err_of(&t).line, line);
    let (t, line) = broken(
        "station = UR : 5 sec : 110 sec",
        "station = UR : 115 sec : 110 sec",
    );
    let e = err_of(&t);
    assert_eq!((e.line, e.kind), (line, VexErrorKind::Value));
    let (t, line) = broken("num_eop_points = 3;", "num_eop_points = 4;");
    let e = err_of(&t);
    assert_eq!(e.line, line + 2, "{e}");
    assert_eq!(e.message, "3 values, but num_eop_points = 4");
    let (t, line) = broken("    dec = -29d14'30.121\";\n", "");
    let e = err_of(&t);
    assert_eq!(
        (e.line, e.message.as_str()),
        (line - 1, "ra and dec must be given together")
    );
}

#[test]
fn error_syntax_other() {
    // An unterminated quoted string.
    let (t, line) = broken("PI_name = \"A. N. Other\";", "PI_name = \"A. N. Other;");
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!("em.vex:{line}: $EXPER def EM2603: unterminated quoted string")
    );
    // Not VEX at all.
    let e = err_of("* a comment\nfoo = bar;\n");
    assert_eq!(
        e.to_string(),
        "em.vex:2: not a VEX file: the first statement must be VEX_rev = 1.5; or VEX_rev = 2.0;"
    );
    let e = err_of("");
    assert_eq!(e.line, 1);
    // An unsupported revision.
    let e = err_of("VEX_rev = 3.0;\n$GLOBAL;\n");
    assert_eq!(
        e.to_string(),
        "em.vex:1: VEX_rev = 3.0: only VEX 1.x and 2.0 are read"
    );
    // A def named twice in one block.
    let (t, _) = broken("  def DS2;", "  def DS4;");
    let e = err_of(&t);
    assert_eq!(
        e.to_string(),
        format!(
            "em.vex:{}: $DATASTREAMS def DS4: def DS4 is defined twice (first on line {})",
            line_of(&t, "  def DS4;\n    datastream = &DSL"),
            line_of(&t, "  def DS4;\n    datastream = &DS1")
        )
    );
    // Something that is not a statement; a stray enddef.
    let (t, line) = broken(
        "    mode = X4x16;\n    source = 3C279;",
        "    mode X4x16;\n    source = 3C279;",
    );
    assert_eq!(err_of(&t).line, line);
    let (t, line) = broken("$PROCEDURES;", "enddef;\n$PROCEDURES;");
    assert_eq!(
        err_of(&t).to_string(),
        format!("em.vex:{line}: $EOP: enddef without def")
    );
    // A NUL byte.
    let (t, line) = broken(
        "target_correlator = emcorr;",
        "target_correlator = em\0corr;",
    );
    assert_eq!(err_of(&t).line, line);
    // I/O.
    let e = read_vex(&testdata("no_such_file.vex")).unwrap_err();
    assert!(e.is_io());
    assert!(
        e.to_string().contains("no_such_file.vex: cannot read: "),
        "{e}"
    );
}

#[test]
fn missing_things_are_reported_where_asked() {
    let (text, v) = em2603();
    let scan = v.scan("No0003").unwrap();
    let e = v.scan_setup(scan, "XX").unwrap_err();
    assert_eq!(e.kind, VexErrorKind::Missing);
    assert_eq!(
        e.to_string(),
        format!(
            "em.vex:{}: $SCHED scan No0003: mode: the VEX lacks a $FREQ setup of mode X4x16 for station XX",
            line_of(&text, "scan No0003;")
        )
    );
    let ls = v.station("LS").unwrap();
    let e = v.missing(
        &ls.site.origin,
        Some("site_position"),
        "an Earth-fixed position of LS",
    );
    assert_eq!(
        e.to_string(),
        format!(
            "em.vex:{}: $SITE def LUNAR_SP: site_position: the VEX lacks an Earth-fixed position of LS",
            line_of(&text, "  def LUNAR_SP;\n*")
        )
    );
}

#[test]
fn notes_for_external_refs_and_statements_out_of_place() {
    let (t, line) = broken(
        "    ref $DAS = LS_FLASH;",
        "    ref $DAS = LS_FLASH;\n    site_ID = LS;",
    );
    let v = parse_vex(&t, "em.vex").unwrap();
    assert!(
        v.notes.iter().any(|n| n.line == line + 1
            && n.text == "$STATION def LS: site_ID: only refs belong here; skipped"),
        "{:?}",
        v.notes
    );
    let (t, line) = broken(
        "    equip = rack : CDAS : &CDAS;",
        "    ref lib.vex:$DAS = CDAS;",
    );
    let v = parse_vex(&t, "em.vex").unwrap();
    assert!(
        v.notes
            .iter()
            .any(|n| n.line == line && n.text.contains("external ref to lib.vex")),
        "{:?}",
        v.notes
    );
    // The rest of that def is still read.
    assert_eq!(
        v.station("T6").unwrap().das.as_ref().unwrap().recorder(),
        Some("Mark6")
    );
}

// ---------------------------------------------------------------------------
// The writer.

/// A model built in code: two stations (one on the Moon), a quasar and a
/// spacecraft, a mode with two channels, a two-source scan.
fn hand_model() -> Vex {
    let t0 = UtcTime::from_calendar(2026, 3, 14, 23, 40, 0, 0.0);
    let o = Origin::default;
    let if_r = IfDef {
        if_id: "IF_R".into(),
        physical_name: Some("A".into()),
        polarisation: Polarisation::R,
        lo_freq_hz: 7.6e9,
        sideband: Sideband::Upper,
        pcal_interval_hz: Some(5e6),
        pcal_base_hz: Some(10e3),
        sample_rate_hz: Some(2.048e9),
    };
    let if_l = IfDef {
        if_id: "IF_L".into(),
        physical_name: None,
        polarisation: Polarisation::L,
        lo_freq_hz: 7.6e9,
        sideband: Sideband::Lower,
        pcal_interval_hz: None,
        pcal_base_hz: None,
        sample_rate_hz: None,
    };
    let ch = |id: &str,
              sky: f64,
              sb: Sideband,
              bbc: &str,
              phys: &str,
              i: &IfDef,
              slot: u32,
              name: Option<&str>| Channel {
        chan_id: id.into(),
        band_id: Some("X".into()),
        name: name.map(Into::into),
        sky_freq_hz: sky,
        sideband: sb,
        bandwidth_hz: 8e6,
        bbc_id: bbc.into(),
        pcal_id: if i.pcal_interval_hz.is_some() {
            Some("pc".into())
        } else {
            None
        },
        bbc: Some(BbcAssign {
            physical: phys.into(),
            if_id: i.if_id.clone(),
        }),
        if_def: Some(i.clone()),
        record: Some(ThreadSlot {
            thread_id: 3,
            index: slot,
        }),
        origin: o(),
    };
    let setup = |station: &str, complex: bool| Setup {
        station: station.into(),
        sample_rate_hz: None,
        channels: vec![
            ch(
                "C1",
                8.2129912345678e9,
                Sideband::Upper,
                "B1",
                "1",
                &if_r,
                1,
                Some("first"),
            ),
            ch(
                "C2",
                8.4e9 + 0.125,
                Sideband::Lower,
                "B2",
                "2",
                &if_l,
                0,
                None,
            ),
        ],
        datastreams: vec![Datastream {
            link: Some("ds".into()),
            format: "VDIF".into(),
            label: None,
            data_rate_bps: None,
        }],
        threads: vec![VdifThread {
            datastream: Some("ds".into()),
            link: Some("th3".into()),
            thread_id: 3,
            n_channels: 2,
            sample_rate_hz: Some(if complex { 8e6 } else { 16e6 }),
            bits: if complex { 8 } else { 2 },
            complex,
            frame_data_bytes: None,
            data_rate_bps: None,
        }],
        track_frame_format: None,
        tracks_bits: None,
        origin: o(),
    };
    let station = |code: &str, pos: Option<[f64; 3]>| Station {
        code: code.into(),
        site: Site {
            site_type: Some("fixed".into()),
            name: Some(format!("{code}_SITE")),
            id: Some(code.into()),
            position_m: pos,
            position_epoch: pos.map(|_| UtcTime::from_calendar(2020, 1, 1, 0, 0, 0, 0.0)),
            velocity_m_per_yr: pos.map(|_| [-0.0312345, 1.0e-3, 0.0]),
            origin: o(),
        },
        antenna: pos.map(|_| Antenna {
            axis_type: Some(AxisType::AzEl),
            axis_offset_m: Some(0.0123),
            diameter_m: Some(65.0),
            origin: o(),
        }),
        das: Some(Das {
            record_transport_type: None,
            electronics_rack_type: None,
            recording_system_id: None,
            equipment: vec![Equipment {
                kind: "recorder".into(),
                device: "Mark6".into(),
                link: Some(format!("rec_{code}")),
                label: Some("two words".into()),
            }],
            origin: o(),
        }),
        clock: vec![ClockEntry {
            valid_from: pos.map(|_| t0.add_seconds(-3600.0)),
            offset_s: 1.2345678901234e-6,
            epoch: Some(t0),
            rate_s_per_s: Some(-3.21e-13),
            origin: o(),
        }],
        origin: o(),
    };
    Vex {
        file: "sim.vex".into(),
        version: VexVersion::V2_0,
        exper: Some(Exper {
            def: "SIM1".into(),
            name: Some("SIM1".into()),
            segment: None,
            number: None,
            description: Some("simulated: \"T6\" and the Moon; tab\there".into()),
            pi_name: Some("emcorr simulate".into()),
            pi_email: None,
            contact_name: None,
            contact_email: None,
            target_correlator: Some("emcorr".into()),
            nominal_start: Some(t0),
            nominal_stop: Some(t0.add_seconds(600.0)),
            origin: o(),
        }),
        global_refs: vec![
            GlobalRef {
                block: "EXPER".into(),
                def: "SIM1".into(),
                origin: o(),
            },
            GlobalRef {
                block: "EOP".into(),
                def: "EOP1".into(),
                origin: o(),
            },
        ],
        stations: vec![
            station("T6", Some([-2826708.8, 4679236.9, 3274667.4])),
            station("LS", None),
        ],
        sources: vec![
            Source {
                key: "1921-293".into(),
                name: "PKS 1921-293".into(),
                iau_name: None,
                source_type: vec!["star".into(), "calibrator".into()],
                ra_rad: Some(ra_rad_from_hms(19, 24, 51.0559)),
                dec_rad: Some(dec_rad_from_dms(true, 29, 14, 30.121)),
                ref_coord_frame: Some("J2000".into()),
                position_epoch: None,
                bsp_file_name: None,
                bsp_object_id: None,
                origin: o(),
            },
            Source {
                key: "CE7LANDER".into(),
                name: "CE7LANDER".into(),
                iau_name: None,
                source_type: vec!["bsp".into()],
                ra_rad: None,
                dec_rad: None,
                ref_coord_frame: None,
                position_epoch: None,
                bsp_file_name: Some("kernels/ce7 lander.bsp".into()),
                bsp_object_id: Some("-178".into()),
                origin: o(),
            },
        ],
        modes: vec![Mode {
            name: "X2x8".into(),
            setups: vec![setup("T6", false), setup("LS", true)],
            origin: o(),
        }],
        scans: vec![
            Scan {
                name: "s1".into(),
                start: t0,
                mode: "X2x8".into(),
                sources: vec![ScanSource {
                    key: "1921-293".into(),
                    pointing_center: None,
                    correlate: None,
                    stations: vec![],
                    origin: o(),
                }],
                stations: vec![
                    ScanStation {
                        station: "T6".into(),
                        data_good_s: 0.0,
                        data_stop_s: 120.0,
                        goto_foot: None,
                        pass: None,
                        pointing_sector: Some("ccw".into()),
                        drives: vec!["1".into()],
                        origin: o(),
                    },
                    ScanStation {
                        station: "LS".into(),
                        data_good_s: 1.25,
                        data_stop_s: 119.5,
                        goto_foot: None,
                        pass: None,
                        pointing_sector: None,
                        drives: vec![],
                        origin: o(),
                    },
                ],
                origin: o(),
            },
            Scan {
                name: "s2".into(),
                start: t0.add_seconds(300.123456789),
                mode: "X2x8".into(),
                sources: vec![
                    ScanSource {
                        key: "CE7LANDER".into(),
                        pointing_center: Some(true),
                        correlate: Some(true),
                        stations: vec![],
                        origin: o(),
                    },
                    ScanSource {
                        key: "1921-293".into(),
                        pointing_center: Some(false),
                        correlate: Some(true),
                        stations: vec!["T6".into(), "LS".into()],
                        origin: o(),
                    },
                ],
                stations: vec![ScanStation {
                    station: "T6".into(),
                    data_good_s: 10.0,
                    data_stop_s: 200.0,
                    goto_foot: Some("0.000 GB".into()),
                    pass: Some("1A".into()),
                    pointing_sector: None,
                    drives: vec!["1".into(), "2".into()],
                    origin: o(),
                }],
                origin: o(),
            },
        ],
        eop: vec![Eop {
            def: "EOP1".into(),
            tai_utc_s: Some(37.0),
            ref_epoch: Some(UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0)),
            interval_s: Some(86_400.0),
            ut1_utc_s: vec![0.0451, 0.04432109876],
            x_wobble_rad: vec![0.1234 * PI / 648_000.0, 6.0e-7],
            y_wobble_rad: vec![1.9e-6, 1.8912345678e-6],
            origin: o(),
        }],
        notes: vec![],
    }
}

#[test]
fn write_then_parse_gives_the_model_back() {
    let m = hand_model();
    let text = write_vex2(&m);
    let back = parse_vex(&text, "sim.vex").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, m, "\n{text}");
    // Written twice, the text is the same.
    assert_eq!(write_vex2(&back), text);
}

#[test]
fn test_files_survive_a_rewrite() {
    // VEX 2.0: everything but the notes (the writer writes nothing unknown).
    let (_, mut v) = em2603();
    v.notes.clear();
    let back = parse_vex(&write_vex2(&v), "em.vex").unwrap();
    assert_eq!(back, v);

    // VEX 1.5 → 2.0: the same stations, sources, channels, scans and EOP;
    // $TRACKS facts are not carried, threads gain their sample rate.
    let (_, v) = bx101();
    let text = write_vex2(&v);
    let back = parse_vex(&text, "bx.vex").unwrap();
    assert_eq!(back.version, VexVersion::V2_0);
    assert_eq!(back.exper, v.exper);
    assert_eq!(back.sources, v.sources);
    assert_eq!(back.scans, v.scans);
    assert_eq!(back.eop, v.eop);
    for (a, b) in back.stations.iter().zip(&v.stations) {
        assert_eq!(
            (&a.site, &a.antenna, &a.clock),
            (&b.site, &b.antenna, &b.clock)
        );
        let (da, db) = (a.das.as_ref().unwrap(), b.das.as_ref().unwrap());
        assert_eq!((da.recorder(), da.rack()), (db.recorder(), db.rack()));
    }
    for (a, b) in back.modes[0].setups.iter().zip(&v.modes[0].setups) {
        assert_eq!(a.channels, b.channels);
        assert_eq!(a.threads[0].sample_rate_hz, Some(16e6));
        assert_eq!((a.threads[0].bits, a.threads[0].n_channels), (2, 4));
    }
}

// ---------------------------------------------------------------------------
// Units, epochs and angles.

#[test]
fn units_to_si() {
    let q = |t: &str, d: Dim| units::quantity(t, d).unwrap();
    // Powers of ten are exact: the same f64 as the literal.
    assert_eq!(q("8212.99 MHz", Dim::Freq), 8.21299e9);
    assert_eq!(q("1e-3 GHz", Dim::Freq), 1e6);
    assert_eq!(q("5. kHz", Dim::Freq), 5e3);
    assert_eq!(q("250 mHz", Dim::Freq), 0.25);
    assert_eq!(q("-.5 usec", Dim::Time), -5e-7);
    assert_eq!(q("+12 psec", Dim::Time), 12e-12);
    assert_eq!(q("16 Ms/sec", Dim::SampleRate), 16e6);
    assert_eq!(q("64 ks/sec", Dim::SampleRate), 64e3);
    assert_eq!(q("4096 Ms/s", Dim::SampleRate), 4.096e9);
    assert_eq!(q("-1324009432.82 mm", Dim::Length), -1324009.43282);
    assert_eq!(q("3822.84676 km", Dim::Length), 3822846.76);
    assert_eq!(q("17 um", Dim::Length), 1.7e-5);
    // Other factors by definition.
    assert_eq!(q("1 ft", Dim::Length), 0.3048);
    assert_eq!(q("1 in", Dim::Length), 0.0254);
    assert_eq!(q("24 hr", Dim::Time), 86_400.0);
    assert_eq!(q("2 min", Dim::Time), 120.0);
    assert_eq!(q("1 yr", Dim::Time), 365.25 * 86_400.0);
    assert!(close(q("90 deg", Dim::Angle), PI / 2.0, 1e-16));
    assert!(close(q("1 amin", Dim::Angle), PI / 10_800.0, 1e-20));
    assert!(close(q("1000 mdeg", Dim::Angle), PI / 180.0, 1e-17));
    assert!(close(
        q("331 masec", Dim::Angle),
        0.331 * PI / 648_000.0,
        1e-21
    ));
    assert_eq!(q("1.5 rad", Dim::Angle), 1.5);
    // Velocity and rates.
    assert_eq!(units::velocity_m_per_yr("-31.4 mm/yr").unwrap(), -0.0314);
    assert_eq!(units::velocity_m_per_yr("0.17 cm/yr").unwrap(), 0.0017);
    assert_eq!(
        units::velocity_m_per_yr("1 m/sec").unwrap(),
        365.25 * 86_400.0
    );
    assert_eq!(units::time_rate("-2.0 psec/sec").unwrap(), -2.0e-12);
    assert_eq!(units::time_rate("1.2e-12").unwrap(), 1.2e-12);
    assert_eq!(units::time_rate("3.0e-13 sec/sec").unwrap(), 3.0e-13);
    assert!(close(units::time_rate("36 usec/hr").unwrap(), 1e-8, 1e-24));

    for bad in [
        "16 Mhz",
        "16",
        "abc MHz",
        "16 MHz extra",
        "1e MHz",
        "--1 MHz",
        "1e9999999 Hz",
        "",
        "1e400 Hz",
    ] {
        assert!(units::quantity(bad, Dim::Freq).is_err(), "{bad:?} accepted");
    }
    assert!(units::velocity_m_per_yr("1 m").is_err());
    assert!(units::velocity_m_per_yr("1 m/deg").is_err());
    assert!(units::time_rate("1 sec/m").is_err());

    // A list: later values without unit take the unit before them.
    assert_eq!(
        units::quantity_list(&["1 usec", "2", "3 msec", "4"], Dim::Time).unwrap(),
        [1e-6, 2e-6, 3e-3, 4e-3]
    );
    assert_eq!(
        units::quantity_list(&["1", "2 sec"], Dim::Time)
            .unwrap_err()
            .0,
        0
    );
}

#[test]
fn epochs() {
    let e = |t: &str| units::epoch(t).unwrap();
    assert_eq!(e("2026y061d12h00m00s"), mar2(12, 0, 0, 0.0));
    assert_eq!(e("2026y061d"), mar2(0, 0, 0, 0.0));
    assert_eq!(e("2026y061d12h"), mar2(12, 0, 0, 0.0));
    assert_eq!(e("2026y61d7h5m3s"), mar2(7, 5, 3, 0.0));
    assert_eq!(e("2026y061d12h15m30.5s"), mar2(12, 15, 30, 0.5));
    assert_eq!(
        e("2026y061d12h15m30.123456789s"),
        mar2(12, 15, 30, 0.123456789)
    );
    // Leap day of year 366; 2-digit years (1950–2049).
    assert_eq!(
        e("2024y366d23h59m59.999s"),
        UtcTime::from_calendar(2024, 12, 31, 23, 59, 59, 0.999)
    );
    assert_eq!(
        e("97y263d"),
        UtcTime::from_calendar(1997, 9, 20, 0, 0, 0, 0.0)
    );
    assert_eq!(
        e("05y001d"),
        UtcTime::from_calendar(2005, 1, 1, 0, 0, 0, 0.0)
    );
    // A bare number is an MJD (sched's site_position_epoch).
    assert_eq!(e("56658"), UtcTime::from_calendar(2014, 1, 1, 0, 0, 0, 0.0));
    assert_eq!(e("61101.5"), mar2(12, 0, 0, 0.0));
    for bad in [
        "2026y366d",
        "2026y000d",
        "2026y061d24h",
        "2026y061d12h60m",
        "2026y061d12h00m60s",
        "2026y061.5d",
        "2026y061d12h00m00sx",
        "2026-03-02",
        "y061d",
        "",
        "2026y061d12h00m00.s5",
    ] {
        assert!(units::epoch(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn angles() {
    let ra = units::ra("00h00m01s").unwrap();
    assert!(close(ra, PI / 43_200.0, 1e-20));
    let dec = units::dec("-00d00'01\"").unwrap();
    assert!(close(dec, -PI / 648_000.0, 1e-22));
    // Without the closing mark too; +90 is the pole.
    assert_eq!(units::dec("+90d00'00").unwrap(), PI / 2.0);
    for bad in [
        "24h00m00s",
        "12h60m00s",
        "12h00m60s",
        "12h00m-1s",
        "12h00m",
        "12:00:00",
    ] {
        assert!(units::ra(bad).is_err(), "{bad:?} accepted");
    }
    for bad in [
        "90d00'01\"",
        "10d60'00\"",
        "10d00'60\"",
        "10d00'-1\"",
        "10:00:00",
        "-d00'00\"",
    ] {
        assert!(units::dec(bad).is_err(), "{bad:?} accepted");
    }
}

/// A small deterministic generator (xorshift64*), so the property tests need
/// no extra crate and fail reproducibly.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn writer_numbers_read_back_exactly() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let cases = [
        (Dim::Freq, "MHz"),
        (Dim::Freq, "Hz"),
        (Dim::Time, "usec"),
        (Dim::Time, "sec"),
        (Dim::Time, "hr"),
        (Dim::Length, "m"),
        (Dim::Length, "ft"),
        (Dim::Angle, "asec"),
        (Dim::Angle, "deg"),
        (Dim::SampleRate, "Ms/sec"),
    ];
    for _ in 0..2000 {
        for (dim, unit) in cases {
            // Values over many decades, both signs.
            let mag = 10f64.powf(r.unit() * 30.0 - 15.0);
            let v = if r.next() & 1 == 0 { mag } else { -mag };
            let s = units::fmt_quantity(v, dim, unit);
            let back = units::quantity(&s, dim).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(back.to_bits(), v.to_bits(), "{v:e} {unit} written as {s}");
        }
        let v = (r.unit() - 0.5) * 0.1;
        assert_eq!(
            units::velocity_m_per_yr(&units::fmt_velocity(v)).unwrap(),
            v
        );
        let rate = (r.unit() - 0.5) * 1e-11;
        assert_eq!(units::time_rate(&units::fmt_number(rate)).unwrap(), rate);

        // Epochs with any fraction of a second.
        let t = UtcTime::new((r.unit() * 1.0e9) as i64, r.unit());
        assert_eq!(
            units::epoch(&units::fmt_epoch(t)).unwrap(),
            t,
            "{}",
            units::fmt_epoch(t)
        );

        // ra/dec that came from text (4 decimals of seconds) come back exactly.
        let (h, m, s) = (
            (r.unit() * 24.0) as u32,
            (r.unit() * 60.0) as u32,
            (r.unit() * 600_000.0).floor() / 10_000.0,
        );
        let ra = ra_rad_from_hms(h, m, s);
        assert_eq!(
            units::ra(&units::fmt_ra(ra)).unwrap(),
            ra,
            "{h} {m} {s} → {}",
            units::fmt_ra(ra)
        );
        let (d, m, s) = (
            (r.unit() * 90.0) as u32,
            (r.unit() * 60.0) as u32,
            (r.unit() * 600_000.0).floor() / 10_000.0,
        );
        let neg = r.next() & 1 == 0;
        let dec = dec_rad_from_dms(neg, d, m, s);
        assert_eq!(
            units::dec(&units::fmt_dec(dec)).unwrap(),
            dec,
            "{}",
            units::fmt_dec(dec)
        );
        // Any f64 comes back to within an ulp or so (sexagesimal text cannot
        // reach every f64).
        let x = r.unit() * 2.0 * PI;
        assert!(close(units::ra(&units::fmt_ra(x)).unwrap(), x, 4e-15));
        let y = (r.unit() - 0.5) * PI;
        assert!(close(units::dec(&units::fmt_dec(y)).unwrap(), y, 4e-15));
    }
    // The preferred unit is kept when it can be: short and readable.
    assert_eq!(
        units::fmt_quantity(8.21299e9, Dim::Freq, "MHz"),
        "8212.99 MHz"
    );
    let asec = units::quantity("0.1234 asec", Dim::Angle).unwrap();
    assert_eq!(units::fmt_quantity(asec, Dim::Angle, "asec"), "0.1234 asec");
    assert_eq!(units::fmt_quantity(86_400.0, Dim::Time, "hr"), "24 hr");
    assert_eq!(
        units::fmt_quantity(-1.5e-7, Dim::Time, "usec"),
        "-0.15 usec"
    );
    assert_eq!(
        units::fmt_ra(ra_rad_from_hms(19, 24, 51.0559)),
        "19h24m51.0559s"
    );
    assert_eq!(
        units::fmt_dec(dec_rad_from_dms(true, 0, 0, 30.0)),
        "-00d00'30\""
    );
    assert_eq!(
        units::fmt_epoch(mar2(12, 15, 30, 0.5)),
        "2026y061d12h15m30.5s"
    );
}
