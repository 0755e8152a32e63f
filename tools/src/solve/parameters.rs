//! The parameters of a solve, their names, a-priori values, and the
//! `--estimate` language that picks them.
//!
//! Names (units in the name or in `unit`): `STATION:clock_offset_s` (at
//! the clock epoch), `STATION:clock_rate` (s/s), `STATION:clock_accel_per_s`
//! (s/s², the quadratic term), `STATION:x_m|y_m|z_m` (ITRF, Earth
//! stations), `STATION:moon_x_m|moon_y_m|moon_z_m` (Moon mean-Earth frame,
//! lunar stations), `SOURCE:moon_x_m|…` (landers, ME frame),
//! `SOURCE:ra_rad|dec_rad` (far-field sources, ICRS).
//!
//! `--estimate` is a comma-separated list of items `[+|-]GROUP[:NAME]`:
//! `+` (or nothing) adds the group, `-` removes it, `:NAME` restricts the
//! item to one station or source. Items apply left to right on top of the
//! default set. Groups:
//!
//! | group | parameters | default |
//! |---|---|---|
//! | `clock` | `clock_offset` and `clock_rate` | — |
//! | `clock_offset` | `STATION:clock_offset_s` | every station but the reference |
//! | `clock_rate` | `STATION:clock_rate` | every station but the reference |
//! | `clock_accel` | `STATION:clock_accel_per_s` | none |
//! | `position` | `STATION:x_m,y_m,z_m` of Earth stations | none |
//! | `moon_position` | `STATION:moon_x_m,…` of lunar stations | every lunar station |
//! | `lander` | `SOURCE:moon_x_m,…` of sources on the Moon | every lander |
//! | `source` | `SOURCE:ra_rad,dec_rad` of far-field sources | none |
//!
//! A group without `:NAME` means every station (or source) it applies to
//! that the observations reach; for the clock groups, every station but the
//! reference (the job's first station). Naming the reference station
//! (`+clock_offset:T6`) adds its clock anyway: the solve then names the
//! rank deficiency it makes.

use super::error::SolveError;
use correlator::job::{Job, SourcePosition, StationPosition};
use correlator::model::moon::site_me_m;
use std::collections::BTreeSet;

/// What a parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    ClockOffset,
    ClockRate,
    ClockAccel,
    /// ITRF axis 0, 1, 2 of an Earth station.
    EarthPosition(usize),
    /// ME axis of a lunar station.
    MoonPosition(usize),
    /// ME axis of a lander (a source on the Moon).
    LanderPosition(usize),
    Ra,
    Dec,
}

impl Kind {
    /// Whether `owner` is a source index (else a station index).
    pub fn of_source(self) -> bool {
        matches!(self, Kind::LanderPosition(_) | Kind::Ra | Kind::Dec)
    }

    fn suffix(self) -> &'static str {
        match self {
            Kind::ClockOffset => "clock_offset_s",
            Kind::ClockRate => "clock_rate",
            Kind::ClockAccel => "clock_accel_per_s",
            Kind::EarthPosition(i) => ["x_m", "y_m", "z_m"][i],
            Kind::MoonPosition(i) | Kind::LanderPosition(i) => {
                ["moon_x_m", "moon_y_m", "moon_z_m"][i]
            }
            Kind::Ra => "ra_rad",
            Kind::Dec => "dec_rad",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Kind::ClockOffset => "s",
            Kind::ClockRate => "s/s",
            Kind::ClockAccel => "s/s^2",
            Kind::EarthPosition(_) | Kind::MoonPosition(_) | Kind::LanderPosition(_) => "m",
            Kind::Ra | Kind::Dec => "rad",
        }
    }
}

/// One estimated parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub kind: Kind,
    /// Job station index, or job source index for source kinds.
    pub owner: usize,
    pub name: String,
    pub apriori: f64,
}

/// The groups of `--estimate`.
const GROUPS: [&str; 8] = [
    "clock",
    "clock_offset",
    "clock_rate",
    "clock_accel",
    "position",
    "moon_position",
    "lander",
    "source",
];

fn kinds_of(group: &str) -> Vec<Kind> {
    match group {
        "clock" => vec![Kind::ClockOffset, Kind::ClockRate],
        "clock_offset" => vec![Kind::ClockOffset],
        "clock_rate" => vec![Kind::ClockRate],
        "clock_accel" => vec![Kind::ClockAccel],
        "position" => (0..3).map(Kind::EarthPosition).collect(),
        "moon_position" => (0..3).map(Kind::MoonPosition).collect(),
        "lander" => (0..3).map(Kind::LanderPosition).collect(),
        "source" => vec![Kind::Ra, Kind::Dec],
        _ => Vec::new(),
    }
}

/// Whether `kind` applies to station or source `owner` at all.
fn applies(job: &Job, kind: Kind, owner: usize) -> bool {
    match kind {
        Kind::ClockOffset | Kind::ClockRate | Kind::ClockAccel => true,
        Kind::EarthPosition(_) => matches!(job.stations[owner].position, StationPosition::Itrf(_)),
        Kind::MoonPosition(_) => matches!(
            job.stations[owner].position,
            StationPosition::Moon(_) | StationPosition::MoonXyz(_)
        ),
        Kind::LanderPosition(_) => matches!(job.sources[owner].position, SourcePosition::Moon(_)),
        Kind::Ra | Kind::Dec => matches!(job.sources[owner].position, SourcePosition::RaDec { .. }),
    }
}

/// The a-priori value of a parameter: the job's. Clocks at `clock_epoch_offset_s`
/// = clock epoch − the station's own clock epoch.
fn apriori(job: &Job, kind: Kind, owner: usize, clock_shift_s: &[f64]) -> f64 {
    match kind {
        Kind::ClockOffset => {
            let c = &job.stations[owner].clock;
            c.offset_s + c.rate * clock_shift_s[owner]
        }
        Kind::ClockRate => job.stations[owner].clock.rate,
        Kind::ClockAccel => 0.0,
        Kind::EarthPosition(i) => match job.stations[owner].position {
            StationPosition::Itrf(x) => x[i],
            _ => f64::NAN,
        },
        Kind::MoonPosition(i) => match &job.stations[owner].position {
            StationPosition::Moon(m) => site_me_m(m)[i],
            StationPosition::MoonXyz(x) => x[i],
            _ => f64::NAN,
        },
        Kind::LanderPosition(i) => match &job.sources[owner].position {
            SourcePosition::Moon(m) => site_me_m(m)[i],
            _ => f64::NAN,
        },
        Kind::Ra => match job.sources[owner].position {
            SourcePosition::RaDec { ra_rad, .. } => ra_rad,
            _ => f64::NAN,
        },
        Kind::Dec => match job.sources[owner].position {
            SourcePosition::RaDec { dec_rad, .. } => dec_rad,
            _ => f64::NAN,
        },
    }
}

/// The parameter set: the defaults edited by `estimate` (see the module
/// docs), restricted to the stations and sources the observations reach
/// (`stations`, `sources`: job indices). `clock_shift_s[s]`: the solve's
/// clock epoch minus station s's own clock epoch.
pub fn select(
    job: &Job,
    estimate: Option<&str>,
    stations: &BTreeSet<usize>,
    sources: &BTreeSet<usize>,
    clock_shift_s: &[f64],
) -> Result<Vec<Param>, SolveError> {
    // (kind, owner) pairs, kept ordered: clocks, then positions, then sources.
    let mut set: BTreeSet<(Kind, usize)> = BTreeSet::new();
    let reference = 0usize;
    let expand = |group: &str, name: Option<&str>| -> Result<Vec<(Kind, usize)>, SolveError> {
        let mut v = Vec::new();
        for kind in kinds_of(group) {
            let owners: Vec<usize> =
                if kind.of_source() {
                    match name {
                        Some(n) => {
                            vec![job
                                .sources
                                .iter()
                                .position(|s| s.name == n)
                                .ok_or_else(|| {
                                    SolveError::Setup(format!(
                                "--estimate {group}:{n}: {n:?} is not a source of the job {}",
                                job.file.display()
                            ))
                                })?]
                        }
                        None => sources.iter().copied().collect(),
                    }
                } else {
                    match name {
                        Some(n) => vec![job.stations.iter().position(|s| s.name == n).ok_or_else(
                            || {
                                SolveError::Setup(format!(
                                    "--estimate {group}:{n}: {n:?} is not a station of the job {}",
                                    job.file.display()
                                ))
                            },
                        )?],
                        None => stations
                            .iter()
                            .copied()
                            .filter(|&s| {
                                !matches!(
                                    kind,
                                    Kind::ClockOffset | Kind::ClockRate | Kind::ClockAccel
                                ) || s != reference
                            })
                            .collect(),
                    }
                };
            for o in owners {
                if applies(job, kind, o) {
                    v.push((kind, o));
                } else if name.is_some() {
                    return Err(SolveError::Setup(format!(
                        "--estimate {group}:{}: does not apply to it ({})",
                        name.unwrap_or_default(),
                        match group {
                            "position" => "not an Earth station",
                            "moon_position" => "not a lunar station",
                            "lander" => "not a source on the Moon",
                            "source" => "not a far-field source",
                            _ => "wrong kind",
                        }
                    )));
                }
            }
        }
        Ok(v)
    };
    for g in ["clock_offset", "clock_rate", "moon_position", "lander"] {
        set.extend(expand(g, None)?);
    }
    if let Some(spec) = estimate {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (add, rest) = match item.as_bytes()[0] {
                b'+' => (true, &item[1..]),
                b'-' => (false, &item[1..]),
                _ => (true, item),
            };
            let (group, name) = match rest.split_once(':') {
                Some((g, n)) => (g, Some(n)),
                None => (rest, None),
            };
            if !GROUPS.contains(&group) {
                return Err(SolveError::Setup(format!(
                    "--estimate: unknown group {group:?} in {item:?} (groups: {})",
                    GROUPS.join(", ")
                )));
            }
            let members = expand(group, name)?;
            for m in members {
                if add {
                    set.insert(m);
                } else {
                    set.remove(&m);
                }
            }
        }
    }
    let mut params: Vec<Param> = set
        .into_iter()
        .map(|(kind, owner)| {
            let who = if kind.of_source() {
                &job.sources[owner].name
            } else {
                &job.stations[owner].name
            };
            Param {
                kind,
                owner,
                name: format!("{who}:{}", kind.suffix()),
                apriori: apriori(job, kind, owner, clock_shift_s),
            }
        })
        .collect();
    // Group by owner within kind families for readable output: clocks by
    // station, then station positions, then landers, then sources.
    params.sort_by_key(|p| {
        let family = match p.kind {
            Kind::ClockOffset | Kind::ClockRate | Kind::ClockAccel => 0,
            Kind::EarthPosition(_) | Kind::MoonPosition(_) => 1,
            Kind::LanderPosition(_) => 2,
            Kind::Ra | Kind::Dec => 3,
        };
        (family, p.owner, p.kind)
    });
    Ok(params)
}
