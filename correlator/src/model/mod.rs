//! The delay model: for every station and instant, when a wavefront that
//! reaches the geocentre at g reaches the station (τ(g), TT seconds), fitted
//! as polynomials the engine evaluates.
//!
//! Data flow: [`time_scales`] (UTC → TT → TDB) → [`ephemeris`] (JPL SPK/PCK via
//! anise) and [`earth`] (EOP with the [`subdaily_eop`] terms, ITRS → GCRS)
//! and [`moon`] (lunar frames) →
//! [`geophysics`] (Earth stations moved and displaced by tides in the ITRS) →
//! [`sites`] (BCRS station positions at 1PN) → [`far_field`] / [`near_field`]
//! (light-time solutions, [`relativity`] for gravitational delays) →
//! [`geometric`] (τ in TT, plus the antenna [`axis_offset`] and
//! [`troposphere`] at Earth stations) → [`fit`]
//! (polynomials per interval) → tracks.

pub mod axis_offset;
pub mod earth;
pub mod ephemeris;
pub mod error;
pub mod far_field;
pub mod fit;
pub mod geometric;
pub mod geophysics;
pub mod lunar_clock;
pub mod moon;
pub mod near_field;
pub mod oem;
pub mod poly;
pub mod relativity;
pub mod sites;
pub mod subdaily_eop;
pub mod time_scales;
pub mod troposphere;
pub mod uvw;
pub mod vector;

#[cfg(test)]
mod smoothness_tests;
#[cfg(test)]
pub(crate) mod tests;

pub use error::ModelError;
pub use geometric::DelayModel;
pub use poly::{ClockTerm, Delay, DelayPoly, DelayTrack};
pub use troposphere::{Sky, SkyPoly, SkyTrack};
pub use uvw::{uvw_m, PositionPoly, PositionTrack};

use crate::job::{Job, Source, Station};
use formats::UtcTime;

/// The clock term of a station as the job gives it (epoch defaults to `start`).
pub fn clock_term(station: &Station, start: UtcTime) -> ClockTerm {
    ClockTerm {
        epoch: station.clock.epoch.unwrap_or(start),
        offset_s: station.clock.offset_s,
        rate: station.clock.rate,
    }
}

/// Everything the model gives a correlation: per job station (same order as
/// `job.stations`) its delay track and, for stations with a position, its
/// geocentric position track (for UVW) and, for Earth stations, the source
/// in its sky (azimuth, elevation, the troposphere's delays); plus warnings
/// for the user.
#[derive(Debug, Clone)]
pub struct ModelTracks {
    pub delays: Vec<DelayTrack>,
    pub positions: Vec<Option<PositionTrack>>,
    pub skies: Vec<Option<SkyTrack>>,
    pub warnings: Vec<String>,
}

/// Model values at one node: per station delay, position and sky, and the
/// source direction.
type NodeValues = (Vec<f64>, Vec<[f64; 3]>, Vec<Option<Sky>>, [f64; 3]);

/// Default polynomial span and order when the job has no [model] section.
const DEFAULT_INTERVAL_S: f64 = 120.0;
const DEFAULT_ORDER: usize = 5;

/// Delay tracks for every station of `job`, covering [start, end] geocentric
/// UTC. Warnings (no EOP, no lunar PCK) go to stderr; use [`build_model`] to
/// get them (and the position tracks for UVW) instead.
pub fn build_tracks(
    job: &Job,
    start: UtcTime,
    end: UtcTime,
) -> Result<Vec<DelayTrack>, ModelError> {
    let m = build_model(job, start, end)?;
    for w in &m.warnings {
        eprintln!("emcorr: warning: {w}");
    }
    Ok(m.delays)
}

/// Delay and position tracks for every station of `job` over [start, end].
///
/// Stations with `delay_poly` get that polynomial as a single piece; stations
/// with a position get the geometric model, sampled at Chebyshev–Lobatto
/// nodes of each `[model] interval_s` from `start` and interpolated with a
/// polynomial of `[model] order` (pieces join continuously).
///
/// The source is the job's first (`job.sources[0]`); [`build_model_for`]
/// builds the same for another of its sources (a second phase centre, a
/// session's next scan).
pub fn build_model(job: &Job, start: UtcTime, end: UtcTime) -> Result<ModelTracks, ModelError> {
    build_model_for(job, &job.sources[0], start, end)
}

/// As [`build_model`], for `source`.
pub fn build_model_for(
    job: &Job,
    source: &Source,
    start: UtcTime,
    end: UtcTime,
) -> Result<ModelTracks, ModelError> {
    let span = end.seconds_since(start);
    if span.is_nan() || span < 0.0 {
        return Err(ModelError::Input(format!(
            "{}: the model's end {} is before its start {}",
            job.file.display(),
            end.to_iso8601(),
            start.to_iso8601()
        )));
    }
    let (interval, order) = job
        .model
        .as_ref()
        .map(|m| (m.interval_s, m.order))
        .unwrap_or((DEFAULT_INTERVAL_S, DEFAULT_ORDER));
    let geometric = job.stations.iter().any(|s| s.delay_poly.is_none());
    let model = if geometric {
        Some(DelayModel::new(job, source, start, end)?)
    } else {
        None
    };
    let n_st = job.stations.len();
    let n_int = ((span / interval).ceil() as usize).max(1);
    let nodes = fit::lobatto_nodes(order, interval);

    let mut delay_pieces: Vec<Vec<DelayPoly>> = vec![Vec::new(); n_st];
    let mut pos_pieces: Vec<Vec<PositionPoly>> = vec![Vec::new(); n_st];
    let mut sky_pieces: Vec<Vec<SkyPoly>> = vec![Vec::new(); n_st];
    // Per station: the lowest elevation met at a node (for a warning).
    let mut lowest_el: Vec<f64> = vec![f64::INFINITY; n_st];
    if let Some(model) = &model {
        // Lunar clocks: Δ at the start of the current interval.
        let mut clock_at_start: Vec<f64> = vec![0.0; n_st];
        for (i, s) in job.stations.iter().enumerate() {
            if s.clock.lunar_proper_time && model.has_site(i) {
                let epoch = s.clock.epoch.unwrap_or(start);
                clock_at_start[i] = lunar_clock::integral(model, i, epoch, start)?;
            }
        }
        let mut prev_last: Option<NodeValues> = None;
        for k in 0..n_int {
            let epoch = start.add_seconds(k as f64 * interval);
            let mut delays = vec![Vec::with_capacity(nodes.len()); n_st];
            let mut pos = vec![Vec::with_capacity(nodes.len()); n_st];
            let mut skies: Vec<Vec<Option<Sky>>> = vec![Vec::with_capacity(nodes.len()); n_st];
            let mut dirs = Vec::with_capacity(nodes.len());
            for (j, &dt) in nodes.iter().enumerate() {
                if j == 0 {
                    if let Some((d, p, k, s)) = prev_last.take() {
                        for i in 0..n_st {
                            delays[i].push(d[i]);
                            pos[i].push(p[i]);
                            skies[i].push(k[i]);
                        }
                        dirs.push(s);
                        continue;
                    }
                }
                let g = epoch.add_seconds(dt);
                let ctx = model.epoch(g)?;
                for (i, s) in job.stations.iter().enumerate() {
                    if !model.has_site(i) {
                        delays[i].push(0.0);
                        pos[i].push([0.0; 3]);
                        skies[i].push(None);
                        continue;
                    }
                    let geo = model.station(&ctx, i)?;
                    if let Some(sky) = &geo.sky {
                        lowest_el[i] = lowest_el[i].min(sky.el_rad);
                    }
                    skies[i].push(geo.sky);
                    let mut tau = geo.delay_s;
                    if s.clock.lunar_proper_time {
                        // Δ(g + τ) ≈ Δ(g) + rate·τ
                        let rate = model.lunar_clock_rate(&ctx, i)?;
                        tau += clock_at_start[i]
                            + lunar_clock::integral(model, i, epoch, g)?
                            + rate * tau;
                    }
                    delays[i].push(tau);
                    pos[i].push(geo.geocentric_m);
                }
                dirs.push(model.source_direction(&ctx)?);
            }
            let last = nodes.len() - 1;
            prev_last = Some((
                (0..n_st).map(|i| delays[i][last]).collect(),
                (0..n_st).map(|i| pos[i][last]).collect(),
                (0..n_st).map(|i| skies[i][last]).collect(),
                dirs[last],
            ));
            for (i, s) in job.stations.iter().enumerate() {
                if !model.has_site(i) {
                    continue;
                }
                if s.clock.lunar_proper_time {
                    clock_at_start[i] +=
                        lunar_clock::integral(model, i, epoch, epoch.add_seconds(interval))?;
                }
                delay_pieces[i].push(DelayPoly {
                    epoch,
                    span_s: interval,
                    coeffs_s: fit::interpolate(&nodes, &delays[i]),
                });
                let comp = |v: &[[f64; 3]], c: usize| -> Vec<f64> {
                    fit::interpolate(&nodes, &v.iter().map(|x| x[c]).collect::<Vec<_>>())
                };
                pos_pieces[i].push(PositionPoly {
                    epoch,
                    span_s: interval,
                    pos_m: [comp(&pos[i], 0), comp(&pos[i], 1), comp(&pos[i], 2)],
                    dir: [comp(&dirs, 0), comp(&dirs, 1), comp(&dirs, 2)],
                });
                if let Some(sky) = skies[i].iter().copied().collect::<Option<Vec<Sky>>>() {
                    sky_pieces[i].push(SkyPoly::fit(epoch, interval, &nodes, &sky));
                }
            }
        }
    }

    let mut delays = Vec::with_capacity(n_st);
    let mut positions = Vec::with_capacity(n_st);
    let mut skies = Vec::with_capacity(n_st);
    let mut warnings = model
        .as_ref()
        .map(|m| m.warnings().to_vec())
        .unwrap_or_default();
    for (i, s) in job.stations.iter().enumerate() {
        if lowest_el[i] < troposphere::ELEVATION_FLOOR_RAD {
            warnings.push(format!(
                "station {}: the source is at {:.1}° elevation (below 1°): the troposphere's mapping functions are held at their 1° values there",
                s.name,
                lowest_el[i].to_degrees()
            ));
        }
        skies.push(if sky_pieces[i].is_empty() {
            None
        } else {
            Some(SkyTrack {
                station: s.name.clone(),
                pieces: std::mem::take(&mut sky_pieces[i]),
            })
        });
        let pieces = match &s.delay_poly {
            Some(p) => vec![DelayPoly {
                epoch: p.epoch,
                span_s: f64::INFINITY,
                coeffs_s: p.coeffs_s.clone(),
            }],
            None => std::mem::take(&mut delay_pieces[i]),
        };
        delays.push(DelayTrack {
            station: s.name.clone(),
            pieces,
            clock: clock_term(s, start),
        });
        positions.push(if pos_pieces[i].is_empty() {
            None
        } else {
            Some(PositionTrack {
                station: s.name.clone(),
                pieces: std::mem::take(&mut pos_pieces[i]),
            })
        });
    }
    Ok(ModelTracks {
        delays,
        positions,
        skies,
        warnings,
    })
}

/// The job's own time range, `[job]` start to start + duration_s (geocentric
/// UTC), as `emcorr model` uses it.
pub fn job_range(job: &Job) -> Result<(UtcTime, UtcTime), ModelError> {
    match (job.start, job.duration_s) {
        (Some(s), Some(d)) => Ok((s, s.add_seconds(d))),
        _ => Err(ModelError::Key {
            file: job.file.clone(),
            key: if job.start.is_none() {
                "job.start".into()
            } else {
                "job.duration_s".into()
            },
            why: "the model's time range needs both [job] start and duration_s".into(),
        }),
    }
}

/// One station at one instant, as the correlator would evaluate it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    pub time: UtcTime,
    pub station: String,
    /// Model plus the station's clock term (what the engine applies).
    pub delay: Delay,
    /// Earth stations with a position: azimuth, elevation and the
    /// troposphere's dry and wet delays (part of `delay`).
    pub sky: Option<Sky>,
}

/// Rows every `step_s` from `start` to `end` (inclusive), station by station
/// within each instant, evaluated from the tracks (`skies` as
/// [`ModelTracks::skies`], or empty for rows without them).
pub fn sample_rows(
    tracks: &[DelayTrack],
    skies: &[Option<SkyTrack>],
    start: UtcTime,
    end: UtcTime,
    step_s: f64,
) -> Vec<ModelRow> {
    let n = (end.seconds_since(start) / step_s + 1e-9).floor().max(0.0) as usize;
    let mut rows = Vec::with_capacity((n + 1) * tracks.len());
    for k in 0..=n {
        let t = start.add_seconds(k as f64 * step_s);
        for (i, tr) in tracks.iter().enumerate() {
            rows.push(ModelRow {
                time: t,
                station: tr.station.clone(),
                delay: tr.eval(t),
                sky: skies.get(i).and_then(|s| s.as_ref()).map(|s| s.eval(t)),
            });
        }
    }
    rows
}
