//! `emcorr simulate --vex`: a session's schedule as a VEX 2.0 file, and a
//! job that correlates from it (`job_vex.toml`).
//!
//! What goes into the VEX: every station (`$SITE` ITRF position for Earth
//! stations; none for a lunar one, which VEX cannot place), `$CLOCK` from
//! the job's known clock, far-field sources (`ra`/`dec`, J2000), one mode
//! (`$FREQ` channels, `$BBC`, `$IF` per polarisation, `$DATASTREAMS` with
//! the VDIF threads and channel slots the recordings use) and the scans
//! (`$SCHED`, data_good 0 and data_stop the scan length for every station
//! recorded). Sources on the Moon are `$SOURCE` defs without a position.
//!
//! What stays in `job_vex.toml`, because VEX has no place for it: the
//! recordings, the lunar station's site and lunar proper-time clock, the
//! lander's site, the correlation and model parameters. The job's station
//! clocks also stay there (the job file wins over `$CLOCK`), as do sample
//! rates. So the job correlates the same session as `job.toml` (tested:
//! the same FITS-IDI rows, bit for bit).

use super::layout_of;
use super::scenario::Scenario;
use super::session::Schedule;
use super::write::FrameLayout;
use super::SimError;
use correlator::job::{Pol, Sideband, SourcePosition, StationPosition};
use formats::vex::{
    self, Antenna, AxisType, BbcAssign, Channel, ClockEntry, Datastream, Exper, GlobalRef, IfDef,
    Mode, Origin, Polarisation, Scan, ScanSource, ScanStation, Setup, Site, Source, Station,
    ThreadSlot, VdifThread, Vex, VexVersion,
};

/// The mode's name in the VEX.
const MODE: &str = "SIM";

fn vex_pol(p: Pol) -> Polarisation {
    match p {
        Pol::R => Polarisation::R,
        Pol::L => Polarisation::L,
        Pol::X => Polarisation::X,
        Pol::Y => Polarisation::Y,
    }
}

fn vex_sideband(s: Sideband) -> vex::Sideband {
    match s {
        Sideband::Upper => vex::Sideband::Upper,
        Sideband::Lower => vex::Sideband::Lower,
    }
}

/// The schedule of `sc` as it was simulated.
pub fn session_vex(sc: &Scenario, schedule: &Schedule, layout: &FrameLayout) -> Vex {
    let job = &sc.job;
    let o = Origin::default;
    let stations = job
        .stations
        .iter()
        .map(|st| {
            let position_m = match st.position {
                StationPosition::Itrf(x) => Some(x),
                _ => None,
            };
            Station {
                code: st.name.clone(),
                site: Site {
                    site_type: Some("fixed".into()),
                    name: Some(st.name.clone()),
                    id: Some(st.name.chars().take(2).collect()),
                    position_m,
                    position_epoch: None,
                    velocity_m_per_yr: None,
                    origin: o(),
                },
                antenna: Some(Antenna {
                    axis_type: Some(AxisType::AzEl),
                    axis_offset_m: Some(0.0),
                    diameter_m: None,
                    origin: o(),
                }),
                das: None,
                clock: vec![ClockEntry {
                    valid_from: None,
                    offset_s: st.clock.offset_s,
                    epoch: Some(st.clock.epoch.unwrap_or(schedule.reference_epoch)),
                    rate_s_per_s: Some(st.clock.rate),
                    origin: o(),
                }],
                origin: o(),
            }
        })
        .collect();
    let sources = job
        .sources
        .iter()
        .map(|s| {
            let (ra, dec) = match s.position {
                SourcePosition::RaDec { ra_rad, dec_rad } => (Some(ra_rad), Some(dec_rad)),
                _ => (None, None),
            };
            Source {
                key: s.name.clone(),
                name: s.name.clone(),
                iau_name: None,
                source_type: if ra.is_some() {
                    vec!["star".into()]
                } else {
                    Vec::new()
                },
                ra_rad: ra,
                dec_rad: dec,
                ref_coord_frame: ra.map(|_| "J2000".into()),
                position_epoch: None,
                bsp_file_name: None,
                bsp_object_id: None,
                origin: o(),
            }
        })
        .collect();

    // One IF per polarisation; its LO is the lowest band edge of that pol.
    let mut ifs: Vec<IfDef> = Vec::new();
    for sb in &job.subbands {
        let id = format!("IF_{}", sb.pol.letter());
        match ifs.iter_mut().find(|i| i.if_id == id) {
            Some(i) => i.lo_freq_hz = i.lo_freq_hz.min(sb.sky_freq_hz),
            None => ifs.push(IfDef {
                if_id: id,
                physical_name: Some(sb.pol.letter().to_string()),
                polarisation: vex_pol(sb.pol),
                lo_freq_hz: sb.sky_freq_hz,
                sideband: vex::Sideband::Upper,
                pcal_interval_hz: None,
                pcal_base_hz: None,
                sample_rate_hz: None,
            }),
        }
    }
    let channels: Vec<Channel> = job
        .subbands
        .iter()
        .enumerate()
        .map(|(i, sb)| {
            let if_def = ifs
                .iter()
                .find(|f| f.if_id == format!("IF_{}", sb.pol.letter()))
                .cloned();
            Channel {
                chan_id: format!("CH{:02}", i + 1),
                band_id: Some("X".into()),
                name: None,
                sky_freq_hz: sb.sky_freq_hz,
                sideband: vex_sideband(sb.sideband),
                bandwidth_hz: sb.bandwidth_hz,
                bbc_id: format!("BBC{:02}", i + 1),
                pcal_id: None,
                bbc: if_def.as_ref().map(|f| BbcAssign {
                    physical: (i + 1).to_string(),
                    if_id: f.if_id.clone(),
                }),
                if_def,
                record: Some(ThreadSlot {
                    thread_id: u32::from(sb.thread),
                    index: sb.channel as u32,
                }),
                origin: o(),
            }
        })
        .collect();
    let threads: Vec<VdifThread> = layout
        .threads
        .iter()
        .map(|(t, sbs)| VdifThread {
            datastream: Some("DS".into()),
            link: Some(format!("t{t}")),
            thread_id: u32::from(*t),
            n_channels: sbs.len() as u32,
            sample_rate_hz: Some(layout.sample_rate_hz),
            bits: layout.bits,
            complex: layout.values_per_sample == 2,
            frame_data_bytes: Some((layout.frame_bytes() - 32) as u32),
            data_rate_bps: None,
        })
        .collect();
    let setups = job
        .stations
        .iter()
        .map(|st| Setup {
            station: st.name.clone(),
            sample_rate_hz: None,
            channels: channels.clone(),
            datastreams: vec![Datastream {
                link: Some("DS".into()),
                format: "VDIF".into(),
                label: None,
                data_rate_bps: None,
            }],
            threads: threads.clone(),
            track_frame_format: None,
            tracks_bits: None,
            origin: o(),
        })
        .collect();

    let scans = schedule
        .scans
        .iter()
        .map(|s| Scan {
            name: s.name.clone(),
            start: s.start,
            mode: MODE.into(),
            sources: s
                .sources
                .iter()
                .map(|k| ScanSource {
                    key: k.clone(),
                    pointing_center: None,
                    correlate: None,
                    stations: Vec::new(),
                    origin: o(),
                })
                .collect(),
            stations: s
                .recordings
                .iter()
                .map(|(st, _)| ScanStation {
                    station: st.clone(),
                    data_good_s: 0.0,
                    data_stop_s: s.duration_s,
                    goto_foot: None,
                    pass: None,
                    pointing_sector: None,
                    drives: Vec::new(),
                    origin: o(),
                })
                .collect(),
            origin: o(),
        })
        .collect();
    let exper = job.name.replace(|c: char| !c.is_ascii_alphanumeric(), "");
    Vex {
        file: format!("{}.vex", job.name),
        version: VexVersion::V2_0,
        exper: Some(Exper {
            def: exper.clone(),
            name: Some(exper.clone()),
            segment: None,
            number: None,
            description: Some(format!("emcorr simulate: {}", job.name)),
            pi_name: None,
            pi_email: None,
            contact_name: None,
            contact_email: None,
            target_correlator: Some("emcorr".into()),
            nominal_start: schedule.scans.first().map(|s| s.start),
            nominal_stop: schedule
                .scans
                .last()
                .map(|s| s.start.add_seconds(s.duration_s)),
            origin: o(),
        }),
        global_refs: vec![GlobalRef {
            block: "EXPER".into(),
            def: exper,
            origin: o(),
        }],
        stations,
        sources,
        modes: vec![Mode {
            name: MODE.into(),
            setups,
            origin: o(),
        }],
        scans,
        eop: Vec::new(),
        notes: Vec::new(),
    }
}

/// The VEX-driven job beside `job.toml`: its tables less what the VEX
/// gives (scans, subbands, Earth positions, far-field sources), plus
/// `[job] vex`.
pub fn vex_job_toml(job_toml: &str, vex_file: &str) -> Result<String, SimError> {
    let bad = |e: String| SimError::BadInput(format!("internal: job.toml: {e}"));
    let mut t: toml::Table = job_toml
        .parse()
        .map_err(|e: toml::de::Error| bad(e.to_string()))?;
    t.remove("scan");
    t.remove("subband");
    if let Some(toml::Value::Table(j)) = t.get_mut("job") {
        j.insert("vex".into(), vex_file.into());
        j.insert("output".into(), "vex-session.fits".into());
    }
    if let Some(toml::Value::Array(sts)) = t.get_mut("station") {
        for st in sts.iter_mut().filter_map(|v| v.as_table_mut()) {
            st.remove("itrf_m");
        }
    }
    if let Some(toml::Value::Array(srcs)) = t.get_mut("source") {
        srcs.retain(|v| {
            v.as_table()
                .is_some_and(|s| !s.contains_key("ra") && !s.contains_key("ra_deg"))
        });
        if srcs.is_empty() {
            t.remove("source");
        }
    }
    let head = "# Written by `emcorr simulate --vex`: the same session as job.toml, with\n\
                # the schedule, stations, sources and frequency setup from the VEX.\n";
    Ok(format!(
        "{head}{}",
        toml::to_string(&t).map_err(|e| bad(e.to_string()))?
    ))
}

/// Write `<name>.vex` and `job_vex.toml` into `out_dir`.
pub fn write(
    sc: &Scenario,
    schedule: &Schedule,
    job_toml: &str,
    out_dir: &std::path::Path,
) -> Result<std::path::PathBuf, SimError> {
    let layout = layout_of(sc)?;
    let v = session_vex(sc, schedule, &layout);
    let vex_path = out_dir.join(&v.file);
    std::fs::write(&vex_path, vex::write_vex2(&v)).map_err(super::io_err(&vex_path))?;
    let jt = vex_job_toml(job_toml, &v.file)?;
    let job_path = out_dir.join("job_vex.toml");
    std::fs::write(&job_path, jt).map_err(super::io_err(&job_path))?;
    // Both must read back: the VEX with emcorr's parser, the job as a job.
    vex::read_vex(&vex_path)
        .map_err(|e| SimError::BadInput(format!("internal: written VEX is invalid: {e}")))?;
    correlator::Job::from_file(&job_path)
        .map_err(|e| SimError::BadInput(format!("internal: written job is invalid: {e}")))?;
    Ok(vex_path)
}
