//! The typed model back to VEX 2.0 text ([`write_vex2`]), for the simulator's
//! schedules.
//!
//! One def per station in `$SITE`, `$ANTENNA`, `$DAS`, `$CLOCK` (named by
//! the station code), one per (mode, station) setup in `$FREQ`, `$BBC`,
//! `$IF`, `$DATASTREAMS` (named `MODE.STATION`), referenced from `$STATION`
//! and from `$MODE` with the station as qualifier. Numbers are written so
//! that they read back to the same `f64` ([`super::units`]).
//!
//! `parse(write_vex2(v)) == v` holds for a model in VEX 2.0 shape: no VEX 1.5
//! `record_transport_type`/`electronics_rack_type` (written as VEX 2.0
//! `equip` statements instead), no `$TRACKS` facts (`track_frame_format`,
//! `tracks_bits`: VEX 2.0 has no `$TRACKS` for VDIF; not written), every
//! thread with its datastream, setups listed in station order, `global_refs`
//! exactly the `$EXPER` and `$EOP` refs, right ascensions and declinations
//! that sexagesimal text can hold (any value read from VEX), and names that
//! are valid VEX words (no white space or `;:=*"&$`).

use std::fmt::Write as _;

use super::model::*;
use super::units::{self, Dim};

/// A value as a bare VEX word when it can be one, else a quoted string.
fn text(s: &str) -> String {
    let bare = !s.is_empty()
        && !s.starts_with('&')
        && !s.starts_with('$')
        && s.bytes()
            .all(|c| c.is_ascii_graphic() && !b";:=*\"".contains(&c));
    if bare {
        return s.to_string();
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(q, "\\x{:02x}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn link(s: &str) -> String {
    format!("&{s}")
}

fn sb(s: Sideband) -> &'static str {
    match s {
        Sideband::Upper => "U",
        Sideband::Lower => "L",
    }
}

fn pol(p: Polarisation) -> &'static str {
    match p {
        Polarisation::R => "R",
        Polarisation::L => "L",
        Polarisation::X => "X",
        Polarisation::Y => "Y",
        Polarisation::H => "H",
        Polarisation::V => "V",
    }
}

fn freq(v: f64) -> String {
    units::fmt_quantity(v, Dim::Freq, "MHz")
}

/// `keyword = f1 : f2 : ...;` with trailing empty fields dropped.
fn stmt(out: &mut String, keyword: &str, fields: &[String]) {
    let n = fields
        .iter()
        .rposition(|f| !f.is_empty())
        .map_or(0, |i| i + 1);
    stmt_all(out, keyword, &fields[..n]);
}

/// `stmt` without dropping trailing empty fields (an empty field is written
/// as nothing between its colons).
fn stmt_all(out: &mut String, keyword: &str, fields: &[String]) {
    let mut s = format!("    {keyword} =");
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            s.push_str(" :");
        }
        if !f.is_empty() {
            s.push(' ');
            s.push_str(f);
        }
    }
    s.push_str(";\n");
    out.push_str(&s);
}

/// Like [`text`], but a number and its unit (`0.000 GB`) stay unquoted.
fn value_text(s: &str) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    if words.len() == 2 && words.iter().all(|w| text(w) == *w) {
        s.to_string()
    } else {
        text(s)
    }
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> String) -> String {
    v.as_ref().map_or(String::new(), f)
}

fn block(out: &mut String, name: &str) {
    out.push_str(
        "*------------------------------------------------------------------------------\n",
    );
    let _ = writeln!(out, "${name};");
}

fn def_name(mode: &str, station: &str) -> String {
    format!("{mode}.{station}")
}

/// The model as a VEX 2.0 file.
pub fn write_vex2(v: &Vex) -> String {
    let mut o = String::new();
    o.push_str("VEX_rev = 2.0;\n");
    o.push_str("* written by emcorr (formats::vex::write_vex2)\n");

    block(&mut o, "GLOBAL");
    if let Some(e) = &v.exper {
        let _ = writeln!(o, "    ref $EXPER = {};", e.def);
    }
    for e in &v.eop {
        let _ = writeln!(o, "    ref $EOP = {};", e.def);
    }

    if let Some(e) = &v.exper {
        block(&mut o, "EXPER");
        let _ = writeln!(o, "  def {};", e.def);
        if let Some(n) = &e.name {
            stmt(
                &mut o,
                "exper_name",
                &[text(n), opt(&e.segment, |s| text(s))],
            );
        }
        for (kw, val) in [
            ("exper_num", &e.number),
            ("exper_description", &e.description),
            ("PI_name", &e.pi_name),
            ("PI_email", &e.pi_email),
            ("contact_name", &e.contact_name),
            ("contact_email", &e.contact_email),
            ("target_correlator", &e.target_correlator),
        ] {
            if let Some(s) = val {
                stmt(&mut o, kw, &[text(s)]);
            }
        }
        if let Some(t) = e.nominal_start {
            stmt(&mut o, "exper_nominal_start", &[units::fmt_epoch(t)]);
        }
        if let Some(t) = e.nominal_stop {
            stmt(&mut o, "exper_nominal_stop", &[units::fmt_epoch(t)]);
        }
        o.push_str("  enddef;\n");
    }

    block(&mut o, "STATION");
    for s in &v.stations {
        let _ = writeln!(o, "  def {};", s.code);
        let _ = writeln!(o, "    ref $SITE = {};", s.code);
        if s.antenna.is_some() {
            let _ = writeln!(o, "    ref $ANTENNA = {};", s.code);
        }
        if s.das.is_some() {
            let _ = writeln!(o, "    ref $DAS = {};", s.code);
        }
        if !s.clock.is_empty() {
            let _ = writeln!(o, "    ref $CLOCK = {};", s.code);
        }
        o.push_str("  enddef;\n");
    }

    block(&mut o, "SITE");
    for s in &v.stations {
        let site = &s.site;
        let _ = writeln!(o, "  def {};", s.code);
        for (kw, val) in [
            ("site_type", &site.site_type),
            ("site_name", &site.name),
            ("site_ID", &site.id),
        ] {
            if let Some(x) = val {
                stmt(&mut o, kw, &[text(x)]);
            }
        }
        match site.position_m {
            Some(p) => stmt(
                &mut o,
                "site_position",
                &p.map(|x| units::fmt_quantity(x, Dim::Length, "m")),
            ),
            None => o.push_str("*   no Earth-fixed site_position: placed by the job file\n"),
        }
        if let Some(vel) = site.velocity_m_per_yr {
            stmt(&mut o, "site_velocity", &vel.map(units::fmt_velocity));
        }
        if let Some(t) = site.position_epoch {
            stmt(&mut o, "site_position_epoch", &[units::fmt_epoch(t)]);
        }
        o.push_str("  enddef;\n");
    }

    if v.stations.iter().any(|s| s.antenna.is_some()) {
        block(&mut o, "ANTENNA");
        for s in &v.stations {
            let Some(a) = &s.antenna else { continue };
            let _ = writeln!(o, "  def {};", s.code);
            if let Some(ax) = &a.axis_type {
                let f: Vec<String> = match ax {
                    AxisType::AzEl => vec!["az".into(), "el".into()],
                    AxisType::HaDec => vec!["ha".into(), "dec".into()],
                    AxisType::XYew => vec!["x".into(), "yew".into()],
                    AxisType::XYns => vec!["x".into(), "yns".into()],
                    AxisType::Other(s) => s.split(':').map(text).collect(),
                };
                stmt(&mut o, "axis_type", &f);
            }
            if let Some(x) = a.axis_offset_m {
                stmt(
                    &mut o,
                    "axis_offset",
                    &[units::fmt_quantity(x, Dim::Length, "m")],
                );
            }
            if let Some(x) = a.diameter_m {
                stmt(
                    &mut o,
                    "antenna_diam",
                    &[units::fmt_quantity(x, Dim::Length, "m")],
                );
            }
            o.push_str("  enddef;\n");
        }
    }

    if v.stations.iter().any(|s| s.das.is_some()) {
        block(&mut o, "DAS");
        for s in &v.stations {
            let Some(d) = &s.das else { continue };
            let _ = writeln!(o, "  def {};", s.code);
            // VEX 2.0 replaced record_transport_type / electronics_rack_type by `equip`.
            let mut equip = d.equipment.clone();
            if let Some(r) = &d.record_transport_type {
                if !equip.iter().any(|e| e.kind == "recorder") {
                    equip.push(Equipment {
                        kind: "recorder".into(),
                        device: r.clone(),
                        link: Some(format!("{}_recorder", s.code)),
                        label: None,
                    });
                }
            }
            if let Some(r) = &d.electronics_rack_type {
                if !equip.iter().any(|e| e.kind == "rack") {
                    equip.push(Equipment {
                        kind: "rack".into(),
                        device: r.clone(),
                        link: Some(format!("{}_rack", s.code)),
                        label: None,
                    });
                }
            }
            for e in &equip {
                stmt(
                    &mut o,
                    "equip",
                    &[
                        text(&e.kind),
                        text(&e.device),
                        opt(&e.link, |l| link(l)),
                        opt(&e.label, |l| text(l)),
                    ],
                );
            }
            if let Some(id) = &d.recording_system_id {
                stmt(&mut o, "recording_system_ID", &[text(id)]);
            }
            o.push_str("  enddef;\n");
        }
    }

    if v.stations.iter().any(|s| !s.clock.is_empty()) {
        block(&mut o, "CLOCK");
        for s in &v.stations {
            if s.clock.is_empty() {
                continue;
            }
            let _ = writeln!(o, "  def {};", s.code);
            o.push_str(
                "*                 valid from          clock_early    epoch               rate\n",
            );
            for c in &s.clock {
                stmt(
                    &mut o,
                    "clock_early",
                    &[
                        opt(&c.valid_from, |t| units::fmt_epoch(*t)),
                        units::fmt_quantity(c.offset_s, Dim::Time, "usec"),
                        opt(&c.epoch, |t| units::fmt_epoch(*t)),
                        opt(&c.rate_s_per_s, |r| units::fmt_number(*r)),
                    ],
                );
            }
            o.push_str("  enddef;\n");
        }
    }

    if !v.sources.is_empty() {
        block(&mut o, "SOURCE");
        for s in &v.sources {
            let _ = writeln!(o, "  def {};", s.key);
            stmt(&mut o, "source_name", &[text(&s.name)]);
            if let Some(n) = &s.iau_name {
                stmt(&mut o, "IAU_name", &[text(n)]);
            }
            if !s.source_type.is_empty() {
                let f: Vec<String> = s.source_type.iter().map(|t| text(t)).collect();
                stmt(&mut o, "source_type", &f);
            }
            if let (Some(ra), Some(dec)) = (s.ra_rad, s.dec_rad) {
                stmt(&mut o, "ra", &[units::fmt_ra(ra)]);
                stmt(&mut o, "dec", &[units::fmt_dec(dec)]);
            }
            if let Some(f) = &s.ref_coord_frame {
                stmt(&mut o, "ref_coord_frame", &[text(f)]);
            }
            if let Some(t) = s.position_epoch {
                stmt(&mut o, "source_position_epoch", &[units::fmt_epoch(t)]);
            }
            if let Some(f) = &s.bsp_file_name {
                stmt(&mut o, "bsp_file_name", &[text(f)]);
            }
            if let Some(f) = &s.bsp_object_id {
                stmt(&mut o, "bsp_object_id", &[text(f)]);
            }
            o.push_str("  enddef;\n");
        }
    }

    write_modes(&mut o, v);

    if !v.eop.is_empty() {
        block(&mut o, "EOP");
        for e in &v.eop {
            let _ = writeln!(o, "  def {};", e.def);
            if let Some(x) = e.tai_utc_s {
                stmt(
                    &mut o,
                    "TAI-UTC",
                    &[units::fmt_quantity(x, Dim::Time, "sec")],
                );
            }
            if let Some(t) = e.ref_epoch {
                stmt(&mut o, "eop_ref_epoch", &[units::fmt_epoch(t)]);
            }
            let lens: Vec<usize> = [&e.ut1_utc_s, &e.x_wobble_rad, &e.y_wobble_rad]
                .iter()
                .map(|a| a.len())
                .filter(|&n| n > 0)
                .collect();
            if let Some(&n) = lens.first() {
                if lens.iter().all(|&m| m == n) {
                    stmt(&mut o, "num_eop_points", &[n.to_string()]);
                }
            }
            if let Some(x) = e.interval_s {
                stmt(
                    &mut o,
                    "eop_interval",
                    &[units::fmt_quantity(x, Dim::Time, "hr")],
                );
            }
            for (kw, vals, dim, unit) in [
                ("ut1-utc", &e.ut1_utc_s, Dim::Time, "sec"),
                ("x_wobble", &e.x_wobble_rad, Dim::Angle, "asec"),
                ("y_wobble", &e.y_wobble_rad, Dim::Angle, "asec"),
            ] {
                if !vals.is_empty() {
                    let f: Vec<String> = vals
                        .iter()
                        .map(|&x| units::fmt_quantity(x, dim, unit))
                        .collect();
                    stmt(&mut o, kw, &f);
                }
            }
            o.push_str("  enddef;\n");
        }
    }

    if !v.scans.is_empty() {
        block(&mut o, "SCHED");
        for s in &v.scans {
            let _ = writeln!(o, "  scan {};", s.name);
            stmt(&mut o, "start", &[units::fmt_epoch(s.start)]);
            stmt(&mut o, "mode", &[text(&s.mode)]);
            for src in &s.sources {
                let mut f = vec![
                    text(&src.key),
                    opt(&src.pointing_center, |b| {
                        if *b {
                            "1".into()
                        } else {
                            "0".into()
                        }
                    }),
                    opt(&src.correlate, |b| if *b { "1".into() } else { "0".into() }),
                ];
                f.extend(src.stations.iter().map(|s| text(s)));
                stmt(&mut o, "source", &f);
            }
            for st in &s.stations {
                let mut f = vec![
                    text(&st.station),
                    units::fmt_quantity(st.data_good_s, Dim::Time, "sec"),
                    units::fmt_quantity(st.data_stop_s, Dim::Time, "sec"),
                    opt(&st.goto_foot, |s| value_text(s)),
                    opt(&st.pass, |s| text(s)),
                    opt(&st.pointing_sector, |s| link(s)),
                ];
                if st.drives.is_empty() {
                    f.push(String::new());
                }
                f.extend(st.drives.iter().map(|d| text(d)));
                stmt_all(&mut o, "station", &f);
            }
            o.push_str("  endscan;\n");
        }
    }
    o
}

fn write_modes(o: &mut String, v: &Vex) {
    if v.modes.is_empty() {
        return;
    }
    block(o, "MODE");
    for m in &v.modes {
        let _ = writeln!(o, "  def {};", m.name);
        for s in &m.setups {
            let n = def_name(&m.name, &s.station);
            let _ = writeln!(o, "    ref $FREQ = {n} : {};", s.station);
            if s.channels.iter().any(|c| c.bbc.is_some()) {
                let _ = writeln!(o, "    ref $BBC = {n} : {};", s.station);
            }
            if s.channels.iter().any(|c| c.if_def.is_some()) {
                let _ = writeln!(o, "    ref $IF = {n} : {};", s.station);
            }
            if !s.threads.is_empty() {
                let _ = writeln!(o, "    ref $DATASTREAMS = {n} : {};", s.station);
            }
        }
        o.push_str("  enddef;\n");
    }

    block(o, "FREQ");
    for m in &v.modes {
        for s in &m.setups {
            let _ = writeln!(o, "  def {};", def_name(&m.name, &s.station));
            if let Some(r) = s.sample_rate_hz {
                stmt(
                    o,
                    "sample_rate",
                    &[units::fmt_quantity(r, Dim::SampleRate, "Ms/sec")],
                );
            }
            for c in &s.channels {
                stmt(
                    o,
                    "chan_def",
                    &[
                        opt(&c.band_id, |b| link(b)),
                        freq(c.sky_freq_hz),
                        sb(c.sideband).into(),
                        freq(c.bandwidth_hz),
                        if c.chan_id.is_empty() {
                            String::new()
                        } else {
                            link(&c.chan_id)
                        },
                        link(&c.bbc_id),
                        opt(&c.pcal_id, |p| link(p)),
                        opt(&c.name, |n| text(n)),
                    ],
                );
            }
            o.push_str("  enddef;\n");
        }
    }

    if v.modes
        .iter()
        .flat_map(|m| &m.setups)
        .any(|s| s.channels.iter().any(|c| c.bbc.is_some()))
    {
        block(o, "BBC");
        for m in &v.modes {
            for s in &m.setups {
                if !s.channels.iter().any(|c| c.bbc.is_some()) {
                    continue;
                }
                let _ = writeln!(o, "  def {};", def_name(&m.name, &s.station));
                let mut done: Vec<&str> = Vec::new();
                for c in &s.channels {
                    if done.contains(&c.bbc_id.as_str()) {
                        continue;
                    }
                    done.push(&c.bbc_id);
                    let (phys, if_id) = match &c.bbc {
                        Some(b) => (b.physical.clone(), b.if_id.clone()),
                        None => (
                            "0".into(),
                            c.if_def
                                .as_ref()
                                .map_or_else(String::new, |i| i.if_id.clone()),
                        ),
                    };
                    stmt(
                        o,
                        "BBC_assign",
                        &[link(&c.bbc_id), text(&phys), link(&if_id)],
                    );
                }
                o.push_str("  enddef;\n");
            }
        }
    }

    if v.modes
        .iter()
        .flat_map(|m| &m.setups)
        .any(|s| s.channels.iter().any(|c| c.if_def.is_some()))
    {
        block(o, "IF");
        for m in &v.modes {
            for s in &m.setups {
                if !s.channels.iter().any(|c| c.if_def.is_some()) {
                    continue;
                }
                let _ = writeln!(o, "  def {};", def_name(&m.name, &s.station));
                let mut done: Vec<&str> = Vec::new();
                for i in s.channels.iter().filter_map(|c| c.if_def.as_ref()) {
                    if done.contains(&i.if_id.as_str()) {
                        continue;
                    }
                    done.push(&i.if_id);
                    stmt(
                        o,
                        "if_def",
                        &[
                            link(&i.if_id),
                            opt(&i.physical_name, |p| text(p)),
                            pol(i.polarisation).into(),
                            freq(i.lo_freq_hz),
                            sb(i.sideband).into(),
                            opt(&i.pcal_interval_hz, |x| freq(*x)),
                            opt(&i.pcal_base_hz, |x| {
                                units::fmt_quantity(*x, Dim::Freq, "Hz")
                            }),
                            opt(&i.sample_rate_hz, |x| {
                                units::fmt_quantity(*x, Dim::SampleRate, "Ms/sec")
                            }),
                        ],
                    );
                }
                o.push_str("  enddef;\n");
            }
        }
    }

    if v.modes
        .iter()
        .flat_map(|m| &m.setups)
        .any(|s| !s.threads.is_empty())
    {
        block(o, "DATASTREAMS");
        for m in &v.modes {
            for s in &m.setups {
                if s.threads.is_empty() {
                    continue;
                }
                let _ = writeln!(o, "  def {};", def_name(&m.name, &s.station));
                write_datastreams(o, s);
                o.push_str("  enddef;\n");
            }
        }
    }
}

fn write_datastreams(o: &mut String, s: &Setup) {
    let default_ds = s
        .datastreams
        .iter()
        .find_map(|d| d.link.clone())
        .unwrap_or_else(|| "DS".to_string());
    let mut written: Vec<String> = Vec::new();
    for d in &s.datastreams {
        let l = d.link.clone().unwrap_or_else(|| default_ds.clone());
        if written.contains(&l) {
            continue;
        }
        let label = if d.link.is_some() {
            opt(&d.label, |x| text(x))
        } else {
            String::new()
        };
        stmt(o, "datastream", &[link(&l), text(&d.format), label]);
        written.push(l);
    }
    for t in &s.threads {
        let ds = t.datastream.clone().unwrap_or_else(|| default_ds.clone());
        if !written.contains(&ds) {
            stmt(o, "datastream", &[link(&ds), "VDIF".into()]);
            written.push(ds.clone());
        }
    }
    // Links of threads that have none (VEX 1.5 $THREADS): `thread<ID>`, made
    // unique against the links the others have.
    let mut links: Vec<String> = Vec::new();
    for t in &s.threads {
        let l = match &t.link {
            Some(l) => l.clone(),
            None => {
                let mut l = format!("thread{}", t.thread_id);
                while s
                    .threads
                    .iter()
                    .any(|o| o.link.as_deref() == Some(l.as_str()))
                    || links.contains(&l)
                {
                    l.push('_');
                }
                l
            }
        };
        links.push(l);
    }
    let thread_link = |t: &VdifThread| {
        let i = s
            .threads
            .iter()
            .position(|o| std::ptr::eq(o, t))
            .unwrap_or(0);
        links.get(i).cloned().unwrap_or_default()
    };
    for t in &s.threads {
        let rate = t.sample_rate_hz.or(s.sample_rate_hz).unwrap_or_else(|| {
            // Nyquist rate of the thread's first channel when nothing says.
            s.channels
                .iter()
                .find(|c| c.record.is_some_and(|r| r.thread_id == t.thread_id))
                .map_or(0.0, |c| {
                    if t.complex {
                        c.bandwidth_hz
                    } else {
                        2.0 * c.bandwidth_hz
                    }
                })
        });
        stmt(
            o,
            "thread",
            &[
                link(&t.datastream.clone().unwrap_or_else(|| default_ds.clone())),
                link(&thread_link(t)),
                t.thread_id.to_string(),
                t.n_channels.to_string(),
                units::fmt_quantity(rate, Dim::SampleRate, "Ms/sec"),
                t.bits.to_string(),
                if t.complex { "complex" } else { "real" }.into(),
                opt(&t.frame_data_bytes, |b| b.to_string()),
            ],
        );
    }
    for c in &s.channels {
        let Some(r) = c.record else { continue };
        let Some(t) = s.thread(r.thread_id) else {
            continue;
        };
        stmt(
            o,
            "channel",
            &[
                link(&t.datastream.clone().unwrap_or_else(|| default_ds.clone())),
                link(&thread_link(t)),
                link(&c.chan_id),
                r.index.to_string(),
            ],
        );
    }
}
