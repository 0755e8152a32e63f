//! The parameters of a solve, their names, a-priori values, and the
//! `--estimate` language that picks them.
//!
//! Names (units in the name or in `unit`): `STATION:clock_offset_s` (at
//! the clock epoch), `STATION:clock_rate` (s/s), `STATION:clock_accel_per_s`
//! (s/s², the quadratic term), `STATION:x_m|y_m|z_m` (ITRF, Earth
//! stations), `STATION:moon_x_m|moon_y_m|moon_z_m` (Moon mean-Earth frame,
//! lunar stations), `SOURCE:moon_x_m|…` (landers, ME frame),
//! `SOURCE:ra_rad|dec_rad` (far-field sources, ICRS),
//! `STATION:zwd_m@ISO-TIME` (zenith wet delay of an Earth station at a
//! node), `STATION:clock_offset_s@ISO-TIME` (piecewise-linear clock at a
//! node), `STATION:grad_n_m`, `STATION:grad_e_m` (north and east
//! troposphere gradients of an Earth station, constant over the session),
//! `EOP:ut1_s`, `EOP:xp_rad`, `EOP:yp_rad` (offsets added to the
//! job's Earth orientation over the whole session; a priori 0).
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
//! | `zwd` | `STATION:zwd_m@T` at every node T of Earth stations | none |
//! | `clock_pwl` | `STATION:clock_offset_s@T` at every node T; removes `clock_offset` | none |
//! | `eop` | `EOP:ut1_s`, `EOP:xp_rad`, `EOP:yp_rad` (no `:NAME`) | none |
//! | `gradient` | `STATION:grad_n_m`, `STATION:grad_e_m` of Earth stations | none |
//!
//! Gradients (`gradient`): one north and one east gradient per Earth
//! station over the session, in metres, the delay m_g(e)·(G_N cos a +
//! G_E sin a)/c (IERS Conventions 2010 eq. 9.12; m_g the Chen & Herring
//! 1997 mapping function, C = 0.0032; a, e the a-priori model's azimuth
//! and elevation). The model adds no a-priori gradients: a priori 0.
//!
//! Piecewise-linear parameters (`zwd`, `clock_pwl`): nodes every
//! `--zwd-interval` / `--clock-interval` minutes (default
//! [`DEFAULT_ZWD_INTERVAL_MIN`], [`DEFAULT_CLOCK_INTERVAL_MIN`], as
//! VieVS and νSolve sessions are usually run), on whole multiples of the
//! interval since 1970 (whole hours for 60 min) from the last node at or
//! before the first observation to the first node at or after the last;
//! between nodes the value is linear (Böhm et al. 2012, VieVS, §3: the
//! "continuous piecewise linear offsets"). An observation at t between
//! nodes T_k ≤ t ≤ T_k+1 depends on both with weights (T_k+1 − t)/Δ and
//! (t − T_k)/Δ: for zwd times the GMF wet mapping function m_w(e)/c of the
//! station's elevation (the model's wet delay is ZWD·m_w(e)/c, IERS
//! Conventions 2010 eq. 9.12). Consecutive nodes of one station are tied
//! by pseudo-observations x_k+1 − x_k = 0 ± c·√(Δ / 1 h) (a random walk of
//! c per √hour; for hourly nodes σ = c): `--zwd-constraint` c in m (default
//! [`DEFAULT_ZWD_CONSTRAINT_M_PER_H`], 1.5 cm, the usual VieVS/νSolve
//! value), `--clock-constraint` c in s (default
//! [`DEFAULT_CLOCK_CONSTRAINT_S_PER_H`], 43 ps = 1.3 cm). They keep nodes
//! with few or no observations from being singular; 0 removes them (the
//! rank analysis then names unobserved nodes). They do not fix a station's
//! level: a station whose nodes no observation reaches is still named.
//! `clock_pwl` nodes carry the clock offset, so the group removes the
//! station's `clock_offset` (a common shift of every node); `clock_rate`
//! (default on) and `clock_accel` stay, as in VieVS, where the nodes take
//! what the polynomial leaves and the constraint keeps them from taking
//! the rate. Removing `clock_rate` too makes the nodes the whole clock:
//! then the constraint must allow the rate (rate × 1 h ≪ c biases the
//! nodes).
//!
//! Defaults: `zwd` is off although geodetic solves usually estimate it:
//! the a-priori troposphere of the job is the model's, an Earth–Moon
//! session has two or three Earth stations whose zwd takes geometry
//! strength from the lunar positions, and the standard session's clock and
//! lunar-position results stay comparable run to run; add `+zwd` for
//! geodetic-style sessions. `eop` is off: UT1 and polar motion need a
//! session of hours on several Earth baselines (the standard session, 6 h
//! on three Chinese stations and LS: σ 24 µs in UT1, 1.4 and 3.2e-9 rad
//! in x_p, y_p). With `position` they are a rotation of the network: the
//! rank analysis names its three combinations and holds them (a
//! rank-deficient solution). While the model's positions were barycentric
//! (~1e-13 s of rounding) central differences lifted two of them just
//! above its tolerance and the solve stopped without convergence. Hold the
//! EOP or the positions (no no-net-rotation condition is implemented).
//!
//! A group without `:NAME` means every station (or source) it applies to
//! that the observations reach; for the clock groups, every station but the
//! reference (the job's first station). Naming the reference station
//! (`+clock_offset:T6`) adds its clock anyway: the solve then names the
//! rank deficiency it makes.

use super::error::SolveError;
use correlator::job::{Job, SourcePosition, StationPosition};
use correlator::model::moon::site_me_m;
use correlator::model::troposphere::DEFAULT_ZWD_M;
use formats::UtcTime;
use std::collections::BTreeSet;

/// `--zwd-interval` default (min).
pub const DEFAULT_ZWD_INTERVAL_MIN: f64 = 60.0;
/// `--clock-interval` default (min).
pub const DEFAULT_CLOCK_INTERVAL_MIN: f64 = 60.0;
/// `--zwd-constraint` default: 1.5 cm per √h between nodes.
pub const DEFAULT_ZWD_CONSTRAINT_M_PER_H: f64 = 0.015;
/// `--clock-constraint` default: 43 ps (1.3 cm) per √h between nodes.
pub const DEFAULT_CLOCK_CONSTRAINT_S_PER_H: f64 = 4.3e-11;

/// The node grids of the piecewise-linear groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grids {
    /// First and last observation epoch (`None`: no observations).
    pub span: Option<(UtcTime, UtcTime)>,
    pub zwd_interval_s: f64,
    pub clock_interval_s: f64,
}

impl Grids {
    /// Default intervals over `span`.
    pub fn new(span: Option<(UtcTime, UtcTime)>) -> Grids {
        Grids {
            span,
            zwd_interval_s: DEFAULT_ZWD_INTERVAL_MIN * 60.0,
            clock_interval_s: DEFAULT_CLOCK_INTERVAL_MIN * 60.0,
        }
    }
}

/// Nodes every `interval_s` (whole seconds) covering [first, last]: whole
/// multiples of the interval since 2000-01-01T00:00:00 UTC (whole hours for
/// 60 min), the last at or before `first` to the first at or after `last`
/// (at least two).
pub fn nodes(first: UtcTime, last: UtcTime, interval_s: f64) -> Vec<UtcTime> {
    let d = (interval_s.round() as i64).max(1);
    let k0 = first.sec().div_euclid(d);
    let mut k1 = last.sec().div_euclid(d);
    if UtcTime::new(k1 * d, 0.0) < last {
        k1 += 1;
    }
    (k0..=k1.max(k0 + 1))
        .map(|k| UtcTime::new(k * d, 0.0))
        .collect()
}

/// The weight of the node at `node` for an epoch `t` (linear
/// interpolation between nodes `interval_s` apart): 1 at the node, 0 a
/// node away.
pub fn hat(t: UtcTime, node: UtcTime, interval_s: f64) -> f64 {
    (1.0 - (t.seconds_since(node) / interval_s).abs()).max(0.0)
}

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
    /// Zenith wet delay of an Earth station at node k of the zwd grid.
    Zwd(usize),
    /// Piecewise-linear clock offset at node k of the clock grid.
    ClockPwl(usize),
    /// EOP offset: 0 UT1−UTC, 1 x_p, 2 y_p.
    Eop(usize),
    /// Troposphere gradient of an Earth station: 0 north, 1 east.
    Gradient(usize),
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
            Kind::Zwd(_) => "zwd_m",
            Kind::ClockPwl(_) => "clock_offset_s",
            Kind::Eop(i) => ["ut1_s", "xp_rad", "yp_rad"][i],
            Kind::Gradient(i) => ["grad_n_m", "grad_e_m"][i],
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Kind::ClockOffset | Kind::ClockPwl(_) => "s",
            Kind::ClockRate => "s/s",
            Kind::ClockAccel => "s/s^2",
            Kind::EarthPosition(_)
            | Kind::MoonPosition(_)
            | Kind::LanderPosition(_)
            | Kind::Zwd(_)
            | Kind::Gradient(_) => "m",
            Kind::Ra | Kind::Dec | Kind::Eop(1) | Kind::Eop(2) => "rad",
            Kind::Eop(_) => "s",
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
    /// Piecewise-linear kinds: the node's epoch and the grid's interval (s).
    pub node: Option<(UtcTime, f64)>,
}

/// The groups of `--estimate`.
const GROUPS: [&str; 12] = [
    "clock",
    "clock_offset",
    "clock_rate",
    "clock_accel",
    "position",
    "moon_position",
    "lander",
    "source",
    "zwd",
    "clock_pwl",
    "eop",
    "gradient",
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
        "eop" => (0..3).map(Kind::Eop).collect(),
        "gradient" => (0..2).map(Kind::Gradient).collect(),
        _ => Vec::new(),
    }
}

/// Whether `kind` applies to station or source `owner` at all.
fn applies(job: &Job, kind: Kind, owner: usize) -> bool {
    match kind {
        Kind::ClockOffset | Kind::ClockRate | Kind::ClockAccel | Kind::ClockPwl(_) => true,
        Kind::Eop(_) => true,
        Kind::EarthPosition(_) | Kind::Zwd(_) | Kind::Gradient(_) => {
            matches!(job.stations[owner].position, StationPosition::Itrf(_))
        }
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
        // The model has no a-priori gradients (eq. 9.12 without them).
        Kind::ClockAccel | Kind::Eop(_) | Kind::Gradient(_) => 0.0,
        // Filled in by `select` (the node's epoch).
        Kind::ClockPwl(_) => f64::NAN,
        // The model's a priori: the station's `zwd_m`, none when the job
        // turns the troposphere off.
        Kind::Zwd(_) => {
            if job.model.as_ref().is_some_and(|m| m.troposphere) {
                job.stations[owner].weather.zwd_m.unwrap_or(DEFAULT_ZWD_M)
            } else {
                0.0
            }
        }
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
/// clock epoch (`clock_epoch`) minus station s's own clock epoch; `grids`:
/// the nodes of the piecewise-linear groups.
pub fn select(
    job: &Job,
    estimate: Option<&str>,
    stations: &BTreeSet<usize>,
    sources: &BTreeSet<usize>,
    clock_shift_s: &[f64],
    clock_epoch: UtcTime,
    grids: &Grids,
) -> Result<Vec<Param>, SolveError> {
    let zwd_nodes = grids
        .span
        .map(|(a, b)| nodes(a, b, grids.zwd_interval_s))
        .unwrap_or_default();
    let clock_nodes = grids
        .span
        .map(|(a, b)| nodes(a, b, grids.clock_interval_s))
        .unwrap_or_default();
    // (kind, owner) pairs, kept ordered: clocks, then positions, then sources.
    let mut set: BTreeSet<(Kind, usize)> = BTreeSet::new();
    let reference = 0usize;
    let kinds = |group: &str| -> Vec<Kind> {
        match group {
            "zwd" => (0..zwd_nodes.len()).map(Kind::Zwd).collect(),
            "clock_pwl" => (0..clock_nodes.len()).map(Kind::ClockPwl).collect(),
            g => kinds_of(g),
        }
    };
    let is_clock = |k: Kind| {
        matches!(
            k,
            Kind::ClockOffset | Kind::ClockRate | Kind::ClockAccel | Kind::ClockPwl(_)
        )
    };
    let expand = |group: &str, name: Option<&str>| -> Result<Vec<(Kind, usize)>, SolveError> {
        let mut v = Vec::new();
        if group == "eop" {
            if let Some(n) = name {
                return Err(SolveError::Setup(format!(
                    "--estimate eop:{n}: the eop group takes no station or source name"
                )));
            }
        }
        for kind in kinds(group) {
            let owners: Vec<usize> =
                if matches!(kind, Kind::Eop(_)) {
                    vec![0]
                } else if kind.of_source() {
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
                            .filter(|&s| !is_clock(kind) || s != reference)
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
                            "position" | "zwd" | "gradient" => "not an Earth station",
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
                    // The nodes of a piecewise-linear clock carry its
                    // offset: a separate offset is a common shift of them.
                    if matches!(m.0, Kind::ClockPwl(_)) {
                        set.remove(&(Kind::ClockOffset, m.1));
                    }
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
            let who = if matches!(kind, Kind::Eop(_)) {
                "EOP"
            } else if kind.of_source() {
                &job.sources[owner].name
            } else {
                &job.stations[owner].name
            };
            let node = match kind {
                Kind::Zwd(k) => Some((zwd_nodes[k], grids.zwd_interval_s)),
                Kind::ClockPwl(k) => Some((clock_nodes[k], grids.clock_interval_s)),
                _ => None,
            };
            let mut apriori = apriori(job, kind, owner, clock_shift_s);
            let mut name = format!("{who}:{}", kind.suffix());
            if let Some((t, _)) = node {
                name = format!("{name}@{}", t.to_iso8601_digits(0));
                if matches!(kind, Kind::ClockPwl(_)) {
                    let c = &job.stations[owner].clock;
                    apriori =
                        c.offset_s + c.rate * (clock_shift_s[owner] + t.seconds_since(clock_epoch));
                }
            }
            Param {
                kind,
                owner,
                name,
                apriori,
                node,
            }
        })
        .collect();
    // Group by owner within kind families for readable output: clocks by
    // station, then zenith wet delays, station positions, landers, sources
    // and the EOP.
    params.sort_by_key(|p| {
        let family = match p.kind {
            Kind::ClockOffset | Kind::ClockRate | Kind::ClockAccel | Kind::ClockPwl(_) => 0,
            Kind::Zwd(_) | Kind::Gradient(_) => 1,
            Kind::EarthPosition(_) | Kind::MoonPosition(_) => 2,
            Kind::LanderPosition(_) => 3,
            Kind::Ra | Kind::Dec => 4,
            Kind::Eop(_) => 5,
        };
        (family, p.owner, p.kind)
    });
    Ok(params)
}
