//! A session from a VEX schedule, completed by the job file.
//!
//! What comes from where (the job file wins where both give something):
//! - stations: VEX `$STATION` codes (`[job] stations` may pick some);
//!   position from `$SITE` `site_position` (ITRF), with its
//!   `site_position_epoch` and `site_velocity`, unless the job's
//!   `[[station]]` of that code gives one (a lunar station must: VEX cannot
//!   place it); mount and axis offset from `$ANTENNA` `axis_type` and
//!   `axis_offset` for an Earth station whose job table gives no
//!   `axis_type`; clock from `$CLOCK` `clock_early` unless the job gives one;
//!   recordings and sample rate from the job (the rate also from the mode).
//! - sources: VEX `$SOURCE` (`ra`/`dec`; VEX 2.0 `bsp_file_name` +
//!   `bsp_object_id` as an SPK body, the file added to the model's kernels);
//!   a job `[[source]]` of the same name (def name or `source_name`)
//!   replaces the position (a lander's site, an OEM).
//! - frequency setup: the job's `[[subband]]` tables if any, else the mode
//!   of the first scan: the channels of its first station's `$FREQ`, with
//!   polarisation from `$IF` and where each is recorded (VDIF thread and
//!   channel) from `$DATASTREAMS` (VEX 2.0) or `$THREADS` (VEX 1.5); other
//!   stations' channels are matched by sky frequency, sideband, bandwidth and
//!   polarisation, each with its own recording slot.
//! - scans: `$SCHED`, with each station's `data_good`/`data_stop`.
//!
//! `clock_early` (VEX): the station clock is ahead of UTC by e, so a
//! wavefront that reaches it at UTC t is stamped t + e: a delay of +e, which
//! is the job's clock convention (added to the model delay).

use super::{Scan, ScanSource, ScanStation, Session, SessionError};
use crate::job::{
    ClockModel, Job, Pol, Sideband, Source, SourcePosition, Station, StationPosition, Subband,
};
use formats::vex::{self, Polarisation, Vex};
use std::path::{Path, PathBuf};

/// `mode`: the mode whose frequency setup the session takes (default: that
/// of the first selected scan); scans of other modes are skipped by
/// [`Session::load`]'s caller.
pub(super) fn load(job: &Job, path: &Path, mode: Option<&str>) -> Result<Session, SessionError> {
    let v = vex::read_vex(path)?;
    let job_file = job.file.display().to_string();
    let key = |k: &str, why: String| SessionError::Key {
        file: job_file.clone(),
        key: k.to_string(),
        why,
    };
    let mut notes: Vec<String> = v.notes.iter().map(|n| n.to_string()).collect();
    let first_start = v.scans.first().map(|s| s.start);

    // --- stations
    let codes: Vec<&str> = v.stations.iter().map(|s| s.code.as_str()).collect();
    if let Some(sel) = &job.select_stations {
        for n in sel {
            if !codes.contains(&n.as_str()) {
                return Err(key(
                    "job.stations",
                    format!(
                        "{n:?} is not a station of {} ({})",
                        v.file,
                        codes.join(", ")
                    ),
                ));
            }
        }
    }
    for (i, st) in job.stations.iter().enumerate() {
        if !codes.contains(&st.name.as_str()) {
            return Err(key(
                &format!("station[{i}].name"),
                format!(
                    "{:?} is not a station of {} ({})",
                    st.name,
                    v.file,
                    codes.join(", ")
                ),
            ));
        }
    }
    let mut stations: Vec<Station> = Vec::new();
    // Per session station: its `$CLOCK` entries when there are several and
    // the job gives no clock (each scan takes the one in force at its start).
    let mut vex_clocks: Vec<Option<Vec<vex::ClockEntry>>> = Vec::new();
    for vs in &v.stations {
        if job
            .select_stations
            .as_ref()
            .is_some_and(|sel| !sel.contains(&vs.code))
        {
            continue;
        }
        let given = job.stations.iter().find(|s| s.name == vs.code);
        let mut st = match given {
            Some(s) => s.clone(),
            None => Station {
                name: vs.code.clone(),
                position: StationPosition::None,
                itrf_epoch: None,
                velocity_m_per_yr: None,
                axis: None,
                blq: None,
                files: Vec::new(),
                sample_rate_hz: None,
                clock: ClockModel {
                    offset_s: 0.0,
                    rate: 0.0,
                    epoch: None,
                    lunar_proper_time: false,
                },
                clock_given: false,
                delay_poly: None,
                slots: None,
                sampling: None,
                lo_offset_hz: 0.0,
                subbands: Vec::new(),
                pcal: None,
                weather: Default::default(),
            },
        };
        if st.position == StationPosition::None && st.delay_poly.is_none() {
            if let Some(p) = vs.site.position_m {
                st.position = StationPosition::Itrf(p);
                // The position's epoch and velocity go with it (a job
                // position keeps the job's own, or none).
                st.itrf_epoch = vs.site.position_epoch;
                st.velocity_m_per_yr = vs.site.velocity_m_per_yr;
                if st.velocity_m_per_yr.is_some() && st.itrf_epoch.is_none() {
                    notes.push(format!(
                        "station {}: $SITE site_velocity without site_position_epoch: the velocity is not applied",
                        vs.code
                    ));
                    st.velocity_m_per_yr = None;
                }
            }
        }
        // The mount and axis offset from $ANTENNA, for an Earth station
        // whose job table gives none (the model applies it to Earth
        // stations only).
        if st.axis.is_none() && matches!(st.position, StationPosition::Itrf(_)) {
            if let Some(a) = &vs.antenna {
                use crate::model::axis_offset::{AxisOffset, AxisType};
                let axis = match &a.axis_type {
                    Some(vex::AxisType::AzEl) => Some(AxisType::AzEl),
                    Some(vex::AxisType::HaDec) => Some(AxisType::Equatorial),
                    Some(vex::AxisType::XYew) => Some(AxisType::XyEw),
                    Some(vex::AxisType::XYns) => Some(AxisType::XyNs),
                    Some(vex::AxisType::Other(t)) => {
                        notes.push(format!(
                            "station {}: $ANTENNA axis_type {t:?} is not a mount the model knows: no axis offset applied",
                            vs.code
                        ));
                        None
                    }
                    None => None,
                };
                if let Some(axis) = axis {
                    st.axis = Some(AxisOffset {
                        axis,
                        offset_m: a.axis_offset_m.unwrap_or(0.0),
                    });
                }
            }
        }
        if !st.clock_given {
            if let Some(c) = first_start.and_then(|t| vs.clock_at(t)) {
                st.clock.offset_s = c.offset_s;
                st.clock.rate = c.rate_s_per_s.unwrap_or(0.0);
                st.clock.epoch = c.epoch;
                if vs.clock.len() > 1 {
                    notes.push(format!(
                        "station {}: {} clock_early entries in $CLOCK; each scan uses the one in force at its start",
                        vs.code,
                        vs.clock.len(),
                    ));
                }
            }
        }
        vex_clocks.push((!st.clock_given && vs.clock.len() > 1).then(|| vs.clock.clone()));
        stations.push(st);
    }

    // --- sources
    let mut sources: Vec<Source> = Vec::new();
    let mut extra_kernels: Vec<PathBuf> = Vec::new();
    // Index in `sources` of each VEX source (by def key), or None without position.
    let mut by_key: Vec<(String, Option<usize>)> = Vec::new();
    let vex_dir = path.parent().unwrap_or(Path::new("."));
    for (i, js) in job.sources.iter().enumerate() {
        if !v
            .sources
            .iter()
            .any(|s| s.key == js.name || s.name == js.name)
        {
            return Err(key(
                &format!("source[{i}].name"),
                format!("{:?} is not a source of {}", js.name, v.file),
            ));
        }
    }
    for vs in &v.sources {
        let given = job
            .sources
            .iter()
            .find(|s| s.name == vs.key || s.name == vs.name);
        let position = match (given, vs.ra_rad, vs.dec_rad, &vs.bsp_object_id) {
            (Some(g), ..) => Some(g.position.clone()),
            (None, Some(ra), Some(dec), _) => Some(SourcePosition::RaDec {
                ra_rad: ra,
                dec_rad: dec,
            }),
            (None, _, _, Some(id)) => match id.trim().parse::<i32>() {
                Ok(id) => {
                    if let Some(f) = &vs.bsp_file_name {
                        let p = vex_dir.join(f);
                        if !extra_kernels.contains(&p) {
                            extra_kernels.push(p);
                        }
                    }
                    Some(SourcePosition::SpkBody(id))
                }
                Err(_) => {
                    return Err(v
                        .missing(&vs.origin, Some("bsp_object_id"), "a numeric NAIF ID")
                        .into())
                }
            },
            _ => None,
        };
        let idx = position.map(|position| {
            sources.push(Source {
                name: vs.name.clone(),
                position,
            });
            sources.len() - 1
        });
        by_key.push((vs.key.clone(), idx));
    }

    // --- frequency setup
    let mode_name = mode.map(str::to_string).or_else(|| {
        v.scans
            .iter()
            .find(|s| {
                job.select_scans
                    .as_ref()
                    .is_none_or(|sel| sel.contains(&s.name))
            })
            .map(|s| s.mode.clone())
    });
    let mut subbands = job.subbands.clone();
    if subbands.is_empty() {
        if let Some(m) = mode_name.as_deref().and_then(|m| v.mode(m)) {
            subbands = subbands_from_mode(&v, m, &mut stations, &mut notes)?;
        }
    }

    let mut model = job.model.clone();
    if let Some(m) = &mut model {
        for k in extra_kernels {
            if !m.kernels.contains(&k) {
                m.kernels.push(k);
            }
        }
    }
    // $EOP (see `super::eop`).
    let eop = super::eop::choose(&v, &mut model)?;

    let effective = Job {
        sources,
        stations,
        subbands,
        model,
        scans: Vec::new(),
        ..job.clone()
    };

    // --- scans
    let scans = v
        .scans
        .iter()
        .map(|s| {
            let stations: Vec<ScanStation> = s
                .stations
                .iter()
                .map(|ss| ScanStation {
                    name: ss.station.clone(),
                    station: effective
                        .stations
                        .iter()
                        .position(|st| st.name == ss.station),
                    good_s: ss.data_good_s,
                    stop_s: ss.data_stop_s,
                })
                .collect();
            let duration_s = stations.iter().map(|x| x.stop_s).fold(0.0, f64::max);
            let srcs: Vec<ScanSource> = s
                .sources
                .iter()
                .filter(|x| x.correlate != Some(false))
                .map(|x| {
                    let idx = by_key.iter().find(|(k, _)| k == &x.key).and_then(|k| k.1);
                    let name = idx
                        .map(|i| effective.sources[i].name.clone())
                        .unwrap_or_else(|| x.key.clone());
                    ScanSource { name, source: idx }
                })
                .collect();
            // A scan of another mode is skipped by `Session::load` (after
            // `[job] scans`, which is the better reason when both apply).
            let skip = if let Some(x) = srcs.iter().find(|x| x.source.is_none()) {
                Some(format!(
                    "source {} has no position (no ra/dec, no bsp_object_id in {}, no [[source]] in the job)",
                    x.name, v.file
                ))
            } else if srcs.is_empty() {
                Some("no source to correlate (every source= has correlate = false)".into())
            } else if duration_s <= 0.0 {
                Some("no station has good data (data_stop 0)".into())
            } else {
                None
            };
            Scan {
                name: s.name.clone(),
                start: s.start,
                duration_s,
                mode: Some(s.mode.clone()),
                sources: srcs,
                stations,
                line: s.origin.line,
                skip,
            }
        })
        .collect();

    Ok(Session {
        job: effective,
        scans,
        schedule_file: v.file.clone(),
        notes,
        mode: mode_name,
        eop,
        vex_clocks,
    })
}

fn pol_of(p: Option<Polarisation>) -> Option<Pol> {
    match p? {
        Polarisation::R => Some(Pol::R),
        Polarisation::L => Some(Pol::L),
        Polarisation::X | Polarisation::H => Some(Pol::X),
        Polarisation::Y | Polarisation::V => Some(Pol::Y),
    }
}

fn sideband_of(s: vex::Sideband) -> Sideband {
    match s {
        vex::Sideband::Upper => Sideband::Upper,
        vex::Sideband::Lower => Sideband::Lower,
    }
}

/// The job subbands of a mode: the channels of its first station (among the
/// session's) in `$FREQ` order, and every station's slot for each.
fn subbands_from_mode(
    v: &Vex,
    mode: &vex::Mode,
    stations: &mut [Station],
    notes: &mut Vec<String>,
) -> Result<Vec<Subband>, SessionError> {
    let Some(reference) = stations.iter().find_map(|st| mode.setup(&st.name)).cloned() else {
        return Err(v
            .missing(
                &mode.origin,
                Some("ref $FREQ"),
                "a $FREQ for any station of the session",
            )
            .into());
    };
    let mut subbands = Vec::new();
    for ch in &reference.channels {
        let Some(slot) = ch.record else {
            return Err(v
                .missing(
                    &ch.origin,
                    Some("chan_def"),
                    format!(
                        "where channel {} is recorded ($DATASTREAMS or $THREADS), or give [[subband]] tables in the job",
                        ch.chan_id
                    ),
                )
                .into());
        };
        let pol = pol_of(ch.polarisation()).unwrap_or_else(|| {
            notes.push(format!(
                "mode {}: channel {} has no $IF polarisation; taken as R",
                mode.name, ch.chan_id
            ));
            Pol::R
        });
        subbands.push(Subband {
            sky_freq_hz: ch.sky_freq_hz,
            bandwidth_hz: ch.bandwidth_hz,
            sideband: sideband_of(ch.sideband),
            pol,
            thread: slot.thread_id as u16,
            channel: slot.index as usize,
        });
    }
    for st in stations.iter_mut() {
        let Some(setup) = mode.setup(&st.name) else {
            // Not in this mode at all: it records nothing of it.
            st.slots = Some(vec![None; subbands.len()]);
            continue;
        };
        if st.sample_rate_hz.is_none() {
            st.sample_rate_hz = setup.sample_rate_hz.or_else(|| {
                setup
                    .channels
                    .first()
                    .and_then(|c| setup.channel_sample_rate_hz(c))
            });
        }
        let slots: Vec<Option<(u16, usize)>> = subbands
            .iter()
            .map(|sb| {
                setup
                    .channels
                    .iter()
                    .find(|c| {
                        c.sky_freq_hz == sb.sky_freq_hz
                            && c.bandwidth_hz == sb.bandwidth_hz
                            && sideband_of(c.sideband) == sb.sideband
                            && pol_of(c.polarisation()).unwrap_or(Pol::R) == sb.pol
                    })
                    .and_then(|c| c.record)
                    .map(|r| (r.thread_id as u16, r.index as usize))
            })
            .collect();
        let missing = slots.iter().filter(|s| s.is_none()).count();
        // A station whose own $FREQ differs (other frequencies, widths or
        // sidebands): its channels become its own recording setup, and the
        // engine takes each output band from the channel that contains it.
        let own: Vec<Subband> = setup
            .channels
            .iter()
            .filter_map(|c| {
                c.record.map(|r| Subband {
                    sky_freq_hz: c.sky_freq_hz,
                    bandwidth_hz: c.bandwidth_hz,
                    sideband: sideband_of(c.sideband),
                    pol: pol_of(c.polarisation()).unwrap_or(Pol::R),
                    thread: r.thread_id as u16,
                    channel: r.index as usize,
                })
            })
            .collect();
        // Only a station with channels the output bands lack has a setup
        // of its own; one that records some of them keeps its slots.
        let differs = own.iter().any(|c| {
            !subbands.iter().any(|sb| {
                sb.sky_freq_hz == c.sky_freq_hz
                    && sb.bandwidth_hz == c.bandwidth_hz
                    && sb.sideband == c.sideband
                    && sb.pol == c.pol
            })
        });
        if missing > 0 && differs && st.subbands.is_empty() {
            notes.push(format!(
                "station {}: its $FREQ in mode {} differs from the output bands; its {} recorded channels are its own recording setup",
                st.name,
                mode.name,
                own.len()
            ));
            st.subbands = own;
            st.slots = None;
            continue;
        }
        if missing > 0 {
            notes.push(format!(
                "station {}: records {} of the {} channels of mode {} (the others have no data from it)",
                st.name,
                subbands.len() - missing,
                subbands.len(),
                mode.name
            ));
        }
        let same = slots
            .iter()
            .zip(&subbands)
            .all(|(s, sb)| *s == Some((sb.thread, sb.channel)));
        st.slots = (!same).then_some(slots);
    }
    Ok(subbands)
}
