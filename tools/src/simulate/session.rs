//! Sessions: a scenario with `[[scan]]` tables becomes one recording per scan
//! and station, `<STATION>_<SCAN>.vdif`, and nothing between the scans.
//!
//! Scan times are geocentric (the wavefront at the geocentre, as the
//! correlator's clock is). Station s records the wavefronts of geocentric g
//! at g + τ_s(g), so its recording of a scan covers g + τ_s(g) for g over
//! [start, start + duration] — for every source of the scan, a same-beam
//! scan's union — plus one frame each side, on frame boundaries: the lunar
//! station's recordings start and end ~1.3 s earlier on its own clock than
//! the Earth stations' of the same scan.
//!
//! The sky of a scan: one independent Gaussian sky per source (its own random
//! stream per scan and source), each delayed at every station by that
//! source's true geometry; a same-beam scan's recordings hold the sum (see
//! `signal::StationSignal`). The true geometry is the job's, except for a
//! source with `inject_offset_m`, whose true position is moved by that much
//! in the Moon's mean-Earth frame; the injected clock errors (epoch: the first
//! scan's start) apply to every scan.
//!
//! [`Schedule`] is the session as written — scans, their sources and
//! stations, and each station's file per scan — from which job.toml is made
//! here and from which a VEX 2.0 writer can make `$SCHED` (a function of the
//! schedule and the scenario's job).

use super::faults::{Fate, FaultPlan};
use super::scenario::Scenario;
use super::signal::{fault_stream, scan_stream};
use super::truth::{self, Residual};
use super::{
    band_truths, baseline_instrumental, instrumental_truth, job_section, job_table, job_text,
    output_bands, pcal_truth, quantiser, recording_window, setup_truth, station_layouts,
    station_tones, tones_at, InjectedDelay, Pass, Plan, RecordedSource, Recording, SimError,
    SkyPlan, MODEL_MARGIN_S,
};
use correlator::job::{MoonSite, Source, SourcePosition};
use correlator::model::moon::{site_me_m, MOON_RADIUS_M};
use correlator::model::{build_model_for, DelayTrack};
use formats::UtcTime;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// The session as simulated and written.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Epoch of the injected clock rates and of every known clock rate
    /// without its own `clock_epoch`: the first scan's start.
    pub reference_epoch: UtcTime,
    pub scans: Vec<ScheduledScan>,
}

/// One scan as simulated (its duration after `--seconds`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledScan {
    pub name: String,
    /// Geocentric UTC.
    pub start: UtcTime,
    pub duration_s: f64,
    /// Source names, in the scan's order.
    pub sources: Vec<String>,
    /// The scenario's `stations` key (`None`: every station).
    pub stations: Option<Vec<String>>,
    /// (station, file name) of each recording, stations in job order.
    pub recordings: Vec<(String, String)>,
}

impl Schedule {
    /// The files of `station`, in time order.
    pub fn files_of(&self, station: &str) -> Vec<String> {
        self.scans
            .iter()
            .flat_map(|s| s.recordings.iter())
            .filter(|(st, _)| st == station)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// The recording of station `station` of scan `scan`.
pub fn file_name(station: &str, scan: &str) -> String {
    format!("{station}_{scan}.vdif")
}

/// `source` moved by `offset_m` in the Moon's mean-Earth frame, as a `moon`
/// site again (spherical coordinates of the moved point: exact, no
/// approximation of small offsets).
pub fn moved_source(source: &Source, offset_m: [f64; 3]) -> Option<Source> {
    let SourcePosition::Moon(site) = &source.position else {
        return None;
    };
    let p = site_me_m(site);
    let [x, y, z] = [p[0] + offset_m[0], p[1] + offset_m[1], p[2] + offset_m[2]];
    let r = (x * x + y * y + z * z).sqrt();
    Some(Source {
        name: source.name.clone(),
        position: SourcePosition::Moon(MoonSite {
            lat_deg: z.atan2(x.hypot(y)).to_degrees(),
            lon_deg: y.atan2(x).to_degrees(),
            height_m: r - MOON_RADIUS_M,
        }),
    })
}

/// Per job source, the a-priori (job.toml's) and true delay tracks of every
/// station, for the sources the session uses.
struct Tracks {
    apriori: Vec<Option<Vec<DelayTrack>>>,
    truth: Vec<Option<Vec<DelayTrack>>>,
    true_sources: Vec<Option<Source>>,
}

fn build_tracks(
    sc: &Scenario,
    reference: UtcTime,
    from: UtcTime,
    to: UtcTime,
) -> Result<Tracks, SimError> {
    let job = &sc.job;
    // The known clocks' rates (and lunar proper time) run from the
    // reference epoch, written into job.toml too, so the truth and any
    // correlator agree on it whatever span each builds its model over.
    let mut model_job = job.clone();
    for st in model_job.stations.iter_mut() {
        st.clock.epoch.get_or_insert(reference);
    }
    let used: BTreeSet<usize> = (0..job.scans.len())
        .flat_map(|i| sc.scan_sources(i))
        .collect();
    let n = job.sources.len();
    let mut t = Tracks {
        apriori: vec![None; n],
        truth: vec![None; n],
        true_sources: vec![None; n],
    };
    let mut warnings = BTreeSet::new();
    let model = |src: &Source| -> Result<_, SimError> {
        build_model_for(&model_job, src, from, to).map_err(|e| SimError::BadInput(e.to_string()))
    };
    for k in used {
        let src = &job.sources[k];
        let m = model(src)?;
        warnings.extend(m.warnings);
        let offset = sc.sim.sources.get(k).and_then(|s| s.inject_offset_m);
        let truth = match offset {
            None => m.delays.clone(),
            Some(off) => {
                let moved = moved_source(src, off).ok_or_else(|| {
                    SimError::BadInput(format!(
                        "{}: source {}: only a source on the Moon takes inject_offset_m",
                        job.file.display(),
                        src.name
                    ))
                })?;
                let tm = model(&moved)?;
                t.true_sources[k] = Some(moved);
                tm.delays
            }
        };
        t.apriori[k] = Some(m.delays);
        t.truth[k] = Some(truth);
    }
    for w in warnings {
        eprintln!("emcorr: warning: {w}");
    }
    Ok(t)
}

/// Decide a session's recordings, job.toml and truth for `out_dir`.
pub fn plan(sc: &Scenario, out_dir: &Path) -> Result<Plan, SimError> {
    let job = &sc.job;
    let scans = &job.scans;
    let bad = |why: String| SimError::BadInput(format!("{}: {why}", job.file.display()));
    let Some(first_scan) = scans.first() else {
        return Err(bad("a session needs [[scan]] tables".into()));
    };
    let reference = first_scan.start;
    let last_end = scans
        .iter()
        .map(|s| s.start.add_seconds(s.duration_s))
        .fold(reference, |m, e| if e > m { e } else { m });
    let tracks = build_tracks(
        sc,
        reference,
        reference.add_seconds(-MODEL_MARGIN_S),
        last_end.add_seconds(MODEL_MARGIN_S),
    )?;
    let track =
        |set: &[Option<Vec<DelayTrack>>], k: usize, s: usize| -> Result<DelayTrack, SimError> {
            set[k]
                .as_ref()
                .and_then(|t| t.get(s))
                .cloned()
                .ok_or_else(|| bad(format!("internal: no model for source {k}, station {s}")))
        };

    let layouts = station_layouts(sc)?;
    let efficiency = quantiser(sc)?.efficiency();
    let los: Vec<f64> = job.subbands.iter().map(|s| s.sky_freq_hz).collect();

    let mut passes = Vec::with_capacity(scans.len());
    let mut scheduled = Vec::with_capacity(scans.len());
    let mut scan_truths = Vec::with_capacity(scans.len());
    // Per station, the end of its previous recording (station time) and that scan.
    let mut previous: Vec<Option<(UtcTime, &str)>> = vec![None; job.stations.len()];
    for (i, scan) in scans.iter().enumerate() {
        let stations = sc.scan_stations(i);
        let sources = sc.scan_sources(i);
        let start = scan.start;
        let end = start.add_seconds(scan.duration_s);
        let centre = start.add_seconds(scan.duration_s / 2.0);
        let mut recordings = Vec::with_capacity(stations.len());
        let mut rec_truth = BTreeMap::new();
        for &s in &stations {
            let st = &job.stations[s];
            let sim = &sc.sim.stations[s];
            let layout = &layouts[s];
            let fps = layout.frames_per_second;
            let mut parts = Vec::with_capacity(sources.len());
            for (p, &k) in sources.iter().enumerate() {
                parts.push(RecordedSource {
                    part: p,
                    delay: Arc::new(InjectedDelay {
                        track: track(&tracks.truth, k, s)?,
                        offset_s: sim.inject_clock_offset_s,
                        rate: sim.inject_clock_rate,
                        epoch: reference,
                    }),
                    correlated_fraction: sc.sim.fraction(s, k, &job.sources[k].name),
                    tones: tones_at(sc, k, reference, start),
                });
            }
            let delays: Vec<&InjectedDelay> = parts.iter().map(|p| p.delay.as_ref()).collect();
            let (first, frames) = recording_window(layout, &delays, start, end);
            let rec_end = first.add_seconds(frames as f64 / fps as f64);
            if let Some((prev_end, prev_scan)) = previous[s] {
                if first < prev_end {
                    return Err(bad(format!(
                        "scans {prev_scan} and {} are too close: {}'s recordings of them \
                         would overlap (its recording of {} starts at {}, {:.6} s before the \
                         previous one ends)",
                        scan.name,
                        st.name,
                        scan.name,
                        first.to_iso8601(),
                        prev_end.seconds_since(first)
                    )));
                }
            }
            previous[s] = Some((rec_end, &scan.name));
            let faults = FaultPlan::new(
                &sim.faults,
                sc.sim.seed,
                scan_stream(fault_stream(s), i),
                layout.threads.len(),
                frames,
                fps,
            );
            let file = file_name(&st.name, &scan.name);
            rec_truth.insert(
                st.name.clone(),
                truth::RecordingTruth {
                    file: file.clone(),
                    first_sample: first.to_iso8601(),
                    end: rec_end.to_iso8601(),
                    frames_per_thread: frames,
                    invalid_frames: faults.count(Fate::Invalid),
                    missing_frames: faults.count(Fate::Missing),
                    truncated_last_frame: faults.truncate_last_frame,
                },
            );
            recordings.push(Recording {
                station: s,
                name: st.name.clone(),
                path: out_dir.join(&file),
                first_sample: first,
                frames,
                faults,
                sources: parts,
            });
        }

        // Residuals at the scan's centre, per source, from the model
        // difference: ε = (true geometry − a-priori geometry) + injected clock.
        let mut residuals = BTreeMap::new();
        for &k in &sources {
            let tones = tones_at(sc, k, reference, start);
            let mut st_truth = BTreeMap::new();
            let mut eps = Vec::with_capacity(stations.len());
            for &s in &stations {
                let sim = &sc.sim.stations[s];
                let true_delay = InjectedDelay {
                    track: track(&tracks.truth, k, s)?,
                    offset_s: sim.inject_clock_offset_s,
                    rate: sim.inject_clock_rate,
                    epoch: reference,
                };
                let model = track(&tracks.apriori, k, s)?.eval(centre);
                let geo = track(&tracks.truth, k, s)?.eval(centre);
                let clock_s = sim.inject_clock_offset_s
                    + sim.inject_clock_rate * centre.seconds_since(reference);
                let geometry_error_s = geo.delay_s - model.delay_s;
                let r = Residual {
                    delay_s: geometry_error_s + clock_s,
                    rate: (geo.rate - model.rate) + sim.inject_clock_rate,
                    model_rate: model.rate,
                };
                let f = sc.sim.fraction(s, k, &job.sources[k].name);
                st_truth.insert(
                    job.stations[s].name.clone(),
                    truth::StationSourceTruth {
                        correlated_fraction: f,
                        model_delay_s: model.delay_s,
                        model_rate: model.rate,
                        true_delay_s: geo.delay_s + clock_s,
                        true_rate: geo.rate + sim.inject_clock_rate,
                        geometry_error_s,
                        tones: station_tones(
                            sc,
                            s,
                            &tones,
                            &true_delay,
                            (centre, start, reference),
                        ),
                    },
                );
                eps.push((s, r, f));
            }
            let mut baselines = BTreeMap::new();
            let tone_freqs: Vec<f64> = tones.iter().map(|t| t.0.sky_freq_hz).collect();
            for (ai, &(a, ra, fa)) in eps.iter().enumerate() {
                for &(b, rb, fb) in &eps[ai + 1..] {
                    let mut bt = truth::baseline_from_residuals(
                        ra,
                        rb,
                        &los,
                        (fa, fb),
                        (efficiency, efficiency),
                    );
                    bt.tones = truth::baseline_tones(
                        truth::corr_frame_delay_s(ra, rb),
                        &tone_freqs,
                        &output_bands(sc),
                    );
                    bt.subbands = band_truths(
                        sc,
                        a,
                        b,
                        bt.expected_amplitude,
                        bt.expected_amplitude_quantised,
                    );
                    baselines.insert(
                        format!("{}-{}", job.stations[a].name, job.stations[b].name),
                        bt,
                    );
                }
            }
            residuals.insert(
                job.sources[k].name.clone(),
                truth::ScanSourceTruth {
                    stations: st_truth,
                    baselines,
                },
            );
        }
        let station_names: Vec<String> = stations
            .iter()
            .map(|&s| job.stations[s].name.clone())
            .collect();
        scan_truths.push(truth::ScanTruth {
            name: scan.name.clone(),
            start: start.to_iso8601(),
            duration_s: scan.duration_s,
            centre: centre.to_iso8601(),
            sources: scan.sources.clone(),
            stations: station_names,
            recordings: rec_truth,
            residuals,
        });
        scheduled.push(ScheduledScan {
            name: scan.name.clone(),
            start,
            duration_s: scan.duration_s,
            sources: scan.sources.clone(),
            stations: scan.stations.clone(),
            recordings: recordings
                .iter()
                .map(|r| (r.name.clone(), file_name(&r.name, &scan.name)))
                .collect(),
        });
        passes.push(Pass {
            scan: Some(i),
            g_ref: start,
            sources,
            recordings,
        });
    }

    let mut st_truth = BTreeMap::new();
    for (s, (st, sim)) in job.stations.iter().zip(&sc.sim.stations).enumerate() {
        st_truth.insert(
            st.name.clone(),
            truth::SessionStationTruth {
                clock_offset_s: sim.inject_clock_offset_s,
                clock_rate: sim.inject_clock_rate,
                quantisation_efficiency: efficiency,
                sample_rate_hz: layouts[s].sample_rate_hz,
                frames_per_second: layouts[s].frames_per_second,
                samples_per_frame: layouts[s].samples_per_frame,
                setup: setup_truth(sc, s),
                instrumental: instrumental_truth(sc, s),
                pcal: pcal_truth(sc, s, reference, reference),
            },
        );
    }
    let mut baselines = BTreeMap::new();
    for (i, (a, sa)) in job.stations.iter().zip(&sc.sim.stations).enumerate() {
        for (j, (b, sb)) in job.stations[i + 1..]
            .iter()
            .zip(&sc.sim.stations[i + 1..])
            .enumerate()
        {
            baselines.insert(
                format!("{}-{}", a.name, b.name),
                truth::ClockBaselineTruth {
                    residual_delay_s: sb.inject_clock_offset_s - sa.inject_clock_offset_s,
                    residual_rate: sb.inject_clock_rate - sa.inject_clock_rate,
                    instrumental: baseline_instrumental(sc, i, i + 1 + j),
                },
            );
        }
    }
    let mut sources = BTreeMap::new();
    for (k, src) in job.sources.iter().enumerate() {
        sources.insert(
            src.name.clone(),
            truth::SourceTruth {
                inject_offset_m: sc.sim.sources.get(k).and_then(|s| s.inject_offset_m),
                true_moon: tracks.true_sources[k]
                    .as_ref()
                    .and_then(|t| match t.position {
                        SourcePosition::Moon(m) => Some(truth::MoonSiteTruth {
                            lat_deg: m.lat_deg,
                            lon_deg: m.lon_deg,
                            height_m: m.height_m,
                        }),
                        _ => None,
                    }),
            },
        );
    }
    let truth = truth::SessionTruth {
        reference_epoch: reference.to_iso8601(),
        seed: sc.sim.seed,
        bits: sc.sim.bits,
        complex: sc.sim.complex,
        stations: st_truth,
        baselines,
        sources,
        scans: scan_truths,
    };
    let schedule = Schedule {
        reference_epoch: reference,
        scans: scheduled,
    };
    let rates: Vec<f64> = layouts.iter().map(|l| l.sample_rate_hz).collect();
    let job_toml = job_toml(sc, &schedule, &rates)?;
    Ok(Plan {
        layouts,
        skies: SkyPlan::new(sc),
        passes,
        truth: truth::TruthFile::Session(truth),
        job_toml,
        schedule: Some(schedule),
        epoch: reference,
    })
}

/// job.toml of a session: the scenario's job keys (a-priori positions, no
/// injected errors), the scans as simulated, and each station's recordings
/// listed in time order (`files`; the correlator places them by their VDIF
/// times). A station with a known clock rate or lunar proper time and no
/// `clock_epoch` gets the reference epoch, the one its truth was made with.
fn job_toml(
    sc: &Scenario,
    schedule: &Schedule,
    sample_rate_hz: &[f64],
) -> Result<String, SimError> {
    let mut t = job_table(sc)?;
    let jt = job_section(&mut t);
    jt.remove("start");
    jt.remove("duration_s");
    let scans: Vec<toml::Value> = schedule
        .scans
        .iter()
        .map(|s| {
            let mut st = toml::Table::new();
            st.insert("name".into(), s.name.clone().into());
            st.insert("start".into(), s.start.to_iso8601().into());
            st.insert("duration_s".into(), s.duration_s.into());
            st.insert("sources".into(), s.sources.clone().into());
            if let Some(names) = &s.stations {
                st.insert("stations".into(), names.clone().into());
            }
            toml::Value::Table(st)
        })
        .collect();
    t.insert("scan".into(), toml::Value::Array(scans));
    if let Some(toml::Value::Array(sts)) = t.get_mut("station") {
        for (i, (st, s)) in sts.iter_mut().zip(&sc.job.stations).enumerate() {
            let Some(st) = st.as_table_mut() else {
                continue;
            };
            st.remove("file");
            st.remove("files");
            let files = schedule.files_of(&s.name);
            if !files.is_empty() {
                st.insert("files".into(), files.into());
            }
            st.insert("sample_rate_hz".into(), sample_rate_hz[i].into());
            if s.clock.epoch.is_none() && (s.clock.rate != 0.0 || s.clock.lunar_proper_time) {
                st.insert(
                    "clock_epoch".into(),
                    schedule.reference_epoch.to_iso8601().into(),
                );
            }
        }
    }
    job_text(&t, "clock and position errors")
}
