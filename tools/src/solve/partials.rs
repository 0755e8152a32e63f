//! The solve's model of each observation and its partial derivatives.
//!
//! Station s's delay for observation i (geocentre epoch g, source k) at
//! trial parameters p:
//!
//! ```text
//! T_s(g; p) = track_s,k(g) + [geo_s(g; p) − geo_s(g; p0)] + Δclock_s(g; p)
//! ```
//!
//! `track` is the correlator's a-priori delay (the polynomials of
//! `build_model_for`, with the job's clock and, where set, lunar proper
//! time): what `emcorr correlate` subtracted. `geo` is the geometric model
//! itself (`DelayModel::station_at`) at the trial site and source position,
//! so the bracket is exactly the change the trial makes; p0 is the job's
//! a priori. Δclock_s = Δoffset + Δrate·t + Δaccel·t², t = g − clock epoch,
//! plus the piecewise-linear clock Σ_k h_k(g)·Δc_k; an Earth station adds
//! its zenith wet delay Σ_k h_k(g)·Δzwd_k·m_w(e)/c, with h_k the hat
//! weights of the nodes ([`super::parameters::hat`]) and m_w the GMF wet
//! mapping function at the a-priori elevation (the model's wet delay is
//! ZWD·m_w(e)/c, IERS Conventions 2010 eq. 9.12; the elevation moves by
//! < 1e-5 rad with any trial, 1e-5 of m_w). EOP offsets move `geo`: the
//! epoch's Earth orientation is recomputed with them
//! (`DelayModel::epoch_with_eop_offset`). An Earth station with the
//! `gradient` group adds m_g(e)·(G_N cos a + G_E sin a)/c (IERS Conventions
//! 2010 eq. 9.12's gradient term; a the azimuth from north through east,
//! e the elevation, both of the a-priori model's sky as for m_w, m_g
//! [`gradient_mapping`]); the a priori has no gradients, so G = 0 there.
//! The observable is T_B − T_A.
//!
//! Partials: clocks, zwd and gradients analytically (1, t, t², h_k,
//! h_k·m_w/c, m_g cos a/c, m_g sin a/c);
//! positions and EOP by central differences of `geo` ([`POSITION_STEP_M`],
//! [`ANGLE_STEP_RAD`], [`UT1_STEP_S`], [`POLAR_STEP_RAD`]).

use super::error::SolveError;
use super::observations::Observation;
use super::parameters::{hat, Kind, Param};
use correlator::job::{Job, SourcePosition};
use correlator::model::earth::EopValues;
use correlator::model::geometric::{EpochContext, SourceGeometry};
use correlator::model::moon::site_me_m;
use correlator::model::near_field::NearSource;
use correlator::model::relativity::C;
use correlator::model::sites::Site;
use correlator::model::troposphere::{gradient_mapping, mjd, wet_mapping};
use correlator::model::{build_model_for, DelayModel, DelayTrack};
use formats::UtcTime;

/// Central-difference step for positions. The delay is smooth in a
/// position on scales of the distance to the nearest other point of the
/// geometry (≥ 6 km: a lander beside a lunar station), so the truncation
/// error of a central difference, ~(h/d)²/6, is ~5e-7 relative at 10 m;
/// the rounding of the model over 2h against a partial of ≥ 3e-10 s/m was
/// ~2e-5 relative while its positions were barycentric (~1e-13 s per
/// delay: 1.5e11 m carry ~3e-5 m), and is ~2e-7 since they are geocentric
/// (~1e-15 s; the figures below are the barycentric ones, which chose the
/// steps). A 2 m step was tried first: its rounding error
/// reached 1e-4 on the weakest partials. Either is far below what a
/// Gauss–Newton step needs (the residual itself is evaluated exactly).
pub const POSITION_STEP_M: f64 = 10.0;
/// Central-difference step for ra and dec: 1e-5 rad (2"). The delay's
/// curvature in angle is on the scale of a radian, so the truncation error,
/// ~h²/6, is ~2e-11 relative; the rounding (~1e-13 s in a delay against a
/// change of ≥ 5e-8 s over 2h on a 1000 km baseline) is ~1e-5 relative. A
/// step of 1e-7 rad was tried first: its rounding error reached 5e-5.
pub const ANGLE_STEP_RAD: f64 = 1e-5;
/// Central-difference step for UT1−UTC: 1 ms (the Earth turns 7.3e-8
/// rad, so the truncation error ~(ωh)²/6 is ~1e-15 relative; the
/// rounding, 1e-13 s over 2h against a partial of ≥ 1e-7 s/s on a 100 km
/// baseline, is 5e-4 relative and 3e-5 on the 6000 km ones).
pub const UT1_STEP_S: f64 = 1e-3;
/// Central-difference step for polar motion: 1e-6 rad (0.2"): truncation
/// ~1e-13, rounding 1e-13/2e-6 s against a partial of ~R⊕/c ≈ 0.02 s/rad
/// times the baseline's share, ~1e-5 relative.
pub const POLAR_STEP_RAD: f64 = 1e-6;

/// The partials of a station's delay in its north and east gradients
/// (s/m) for a source at azimuth `az_rad` (from north through east) and
/// elevation `el_rad`: m_g(e)·(cos a, sin a)/c.
pub fn gradient_partials(az_rad: f64, el_rad: f64) -> [f64; 2] {
    let m = gradient_mapping(el_rad) / C;
    [m * az_rad.cos(), m * az_rad.sin()]
}

/// One source's models: the geometric model and the a-priori tracks.
struct SourceModel {
    model: DelayModel,
    tracks: Vec<DelayTrack>,
}

/// Where everything is at one trial.
#[derive(Clone)]
pub struct Trial {
    /// Per job station: its site (`None`: a `delay_poly` station).
    pub sites: Vec<Option<Site>>,
    /// Per job source: its geometry (`None`: not observed).
    pub sources: Vec<Option<SourceGeometry>>,
    /// Per job station: Δoffset, Δrate, Δaccel.
    pub clocks: Vec<[f64; 3]>,
    /// Nodes of piecewise-linear clocks and zenith wet delays.
    pub pwl: Vec<Pwl>,
    /// Offsets of UT1−UTC (s), x_p, y_p (rad) from the job's EOP.
    pub eop: [f64; 3],
    /// Per job station: north and east troposphere gradients (m).
    pub grad: Vec<[f64; 2]>,
}

/// One node's correction of a piecewise-linear quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pwl {
    pub station: usize,
    pub node: UtcTime,
    pub interval_s: f64,
    pub value: f64,
    /// A zenith wet delay (m; times m_w/c), else a clock (s).
    pub wet: bool,
}

/// The model of a set of observations.
pub struct Geometry {
    models: Vec<Option<SourceModel>>,
    contexts: Vec<EpochContext>,
    /// Per observation, geo of A and B at the a priori.
    base: Vec<[f64; 2]>,
    /// Per observation, track_B − track_A.
    apriori_s: Vec<f64>,
    /// Per observation, m_w(e)/c of A and B (s/m; 0 off the Earth).
    wet: Vec<[f64; 2]>,
    /// Per observation, m_g(e)·(cos a, sin a)/c of A and B (s/m; 0 off
    /// the Earth).
    grad: Vec<[[f64; 2]; 2]>,
    pub clock_epoch: UtcTime,
    apriori: Trial,
}

fn model_err(e: impl std::fmt::Display) -> SolveError {
    SolveError::Model(e.to_string())
}

impl Geometry {
    /// Models for every source the observations use, over their epochs.
    pub fn new(
        job: &Job,
        obs: &[Observation],
        clock_epoch: UtcTime,
    ) -> Result<Geometry, SolveError> {
        let n_src = job.sources.len();
        let mut models: Vec<Option<SourceModel>> = (0..n_src).map(|_| None).collect();
        for (k, slot) in models.iter_mut().enumerate() {
            let epochs: Vec<UtcTime> = obs
                .iter()
                .filter(|o| o.source == k)
                .map(|o| o.epoch)
                .collect();
            let first = epochs
                .iter()
                .copied()
                .reduce(|x, y| if y < x { y } else { x });
            let last = epochs
                .iter()
                .copied()
                .reduce(|x, y| if y > x { y } else { x });
            let (Some(first), Some(last)) = (first, last) else {
                continue;
            };
            let (from, to) = (first.add_seconds(-60.0), last.add_seconds(60.0));
            let src = &job.sources[k];
            let model = DelayModel::new(job, src, from, to).map_err(model_err)?;
            let tracks = build_model_for(job, src, from, to)
                .map_err(model_err)?
                .delays;
            *slot = Some(SourceModel { model, tracks });
        }
        let first_model = models
            .iter()
            .flatten()
            .next()
            .ok_or_else(|| SolveError::Setup("no observations".into()))?;
        let sites: Vec<Option<Site>> = (0..job.stations.len())
            .map(|i| first_model.model.site(i))
            .collect();
        let sources: Vec<Option<SourceGeometry>> = models
            .iter()
            .map(|m| m.as_ref().map(|m| m.model.source().clone()))
            .collect();
        let apriori = Trial {
            sites,
            sources,
            clocks: vec![[0.0; 3]; job.stations.len()],
            pwl: Vec::new(),
            eop: [0.0; 3],
            grad: vec![[0.0; 2]; job.stations.len()],
        };
        let mut g = Geometry {
            models,
            contexts: Vec::with_capacity(obs.len()),
            base: Vec::with_capacity(obs.len()),
            apriori_s: Vec::with_capacity(obs.len()),
            wet: Vec::with_capacity(obs.len()),
            grad: Vec::with_capacity(obs.len()),
            clock_epoch,
            apriori: apriori.clone(),
        };
        for o in obs {
            let m = g.models[o.source]
                .as_ref()
                .expect("model for every observed source");
            let ctx = m.model.epoch(o.epoch).map_err(model_err)?;
            g.contexts.push(ctx);
            let i = g.contexts.len() - 1;
            let ga = g.station(&g.contexts[i], o, o.a, &apriori)?;
            let gb = g.station(&g.contexts[i], o, o.b, &apriori)?;
            // m_w(e)/c and m_g(e)·(cos a, sin a)/c from the model's sky at
            // the a priori (0 off the Earth or without a sky).
            let tropo =
                |s: usize, sg: &Option<correlator::model::geometric::StationGeometry>| match (
                    apriori.sites[s],
                    sg.and_then(|x| x.sky),
                ) {
                    (Some(Site::Earth(x)), Some(sky)) => (
                        wet_mapping(&x, sky.el_rad, mjd(g.contexts[i].tt)) / C,
                        gradient_partials(sky.az_rad, sky.el_rad),
                    ),
                    _ => (0.0, [0.0; 2]),
                };
            let (ta, tb) = (tropo(o.a, &ga), tropo(o.b, &gb));
            g.wet.push([ta.0, tb.0]);
            g.grad.push([ta.1, tb.1]);
            let d = |x: &Option<correlator::model::geometric::StationGeometry>| {
                x.map(|x| x.delay_s).unwrap_or(0.0)
            };
            g.base.push([d(&ga), d(&gb)]);
            let d = m.tracks[o.b].eval(o.epoch).delay_s - m.tracks[o.a].eval(o.epoch).delay_s;
            g.apriori_s.push(d);
        }
        Ok(g)
    }

    /// The a-priori trial (the job's positions, no clock corrections).
    pub fn apriori(&self) -> &Trial {
        &self.apriori
    }

    /// The station's model at `ctx` and `trial` (`None` for a station
    /// without a site).
    fn station(
        &self,
        ctx: &EpochContext,
        o: &Observation,
        s: usize,
        trial: &Trial,
    ) -> Result<Option<correlator::model::geometric::StationGeometry>, SolveError> {
        let Some(site) = &trial.sites[s] else {
            return Ok(None);
        };
        let m = self.models[o.source].as_ref().expect("model");
        let src = trial.sources[o.source].as_ref().expect("source geometry");
        Ok(Some(
            m.model.station_at(ctx, s, site, src).map_err(model_err)?,
        ))
    }

    /// The epoch context of observation `i` with the trial's EOP offsets
    /// (the stored one when they are zero).
    fn context(&self, o: &Observation, eop: [f64; 3]) -> Result<Option<EpochContext>, SolveError> {
        if eop == [0.0; 3] {
            return Ok(None);
        }
        let m = self.models[o.source].as_ref().expect("model");
        let d = EopValues {
            dut1_s: eop[0],
            xp_rad: eop[1],
            yp_rad: eop[2],
            ..Default::default()
        };
        Ok(Some(
            m.model
                .epoch_with_eop_offset(o.epoch, d)
                .map_err(model_err)?,
        ))
    }

    /// geo of station `s` for observation `i` at `trial` (0 for a station
    /// without a site).
    fn geo(&self, i: usize, o: &Observation, s: usize, trial: &Trial) -> Result<f64, SolveError> {
        let own = self.context(o, trial.eop)?;
        let ctx = own.as_ref().unwrap_or(&self.contexts[i]);
        Ok(self
            .station(ctx, o, s, trial)?
            .map(|g| g.delay_s)
            .unwrap_or(0.0))
    }

    /// geo_B − geo_A at `trial`, one epoch context for both.
    fn geo_ab(&self, i: usize, o: &Observation, trial: &Trial) -> Result<[f64; 2], SolveError> {
        let own = self.context(o, trial.eop)?;
        let ctx = own.as_ref().unwrap_or(&self.contexts[i]);
        let d = |s: usize| -> Result<f64, SolveError> {
            Ok(self
                .station(ctx, o, s, trial)?
                .map(|g| g.delay_s)
                .unwrap_or(0.0))
        };
        Ok([d(o.a)?, d(o.b)?])
    }

    fn clock(&self, o: &Observation, s: usize, trial: &Trial) -> f64 {
        let t = o.epoch.seconds_since(self.clock_epoch);
        let c = trial.clocks[s];
        c[0] + c[1] * t + c[2] * t * t
    }

    /// The piecewise-linear clock and zenith wet delay of station `s`
    /// (side 0 = A, 1 = B) for observation `i` at `trial`.
    fn pwl(&self, i: usize, o: &Observation, s: usize, side: usize, trial: &Trial) -> f64 {
        trial
            .pwl
            .iter()
            .filter(|p| p.station == s)
            .map(|p| {
                let w = hat(o.epoch, p.node, p.interval_s);
                if p.wet {
                    w * p.value * self.wet[i][side]
                } else {
                    w * p.value
                }
            })
            .sum()
    }

    /// The gradient delay of station `s` (side 0 = A, 1 = B) in
    /// observation `i` at `trial` (s).
    fn gradient(&self, i: usize, s: usize, side: usize, trial: &Trial) -> f64 {
        let [gn, ge] = trial.grad[s];
        let [pn, pe] = self.grad[i][side];
        gn * pn + ge * pe
    }

    /// The model T_B − T_A of observation `i` at `trial`.
    pub fn model(&self, i: usize, o: &Observation, trial: &Trial) -> Result<f64, SolveError> {
        let [ga, gb] = self.geo_ab(i, o, trial)?;
        let (ga, gb) = (ga - self.base[i][0], gb - self.base[i][1]);
        Ok(self.apriori_s[i]
            + (gb - ga)
            + (self.clock(o, o.b, trial)
                + self.pwl(i, o, o.b, 1, trial)
                + self.gradient(i, o.b, 1, trial))
            - (self.clock(o, o.a, trial)
                + self.pwl(i, o, o.a, 0, trial)
                + self.gradient(i, o.a, 0, trial)))
    }

    /// m_g(e)·(cos a, sin a)/c of station `s` in observation `i` (s/m):
    /// the partials of its delay in its north and east gradients (0 for a
    /// station not in it or off the Earth).
    pub fn gradient_partials_of(&self, i: usize, o: &Observation, s: usize) -> [f64; 2] {
        side(o, s).map_or([0.0; 2], |k| self.grad[i][k])
    }

    /// m_w(e)/c of station `s` in observation `i` (s/m): the partial of its
    /// delay in its zenith wet delay (0 for a station not in it or off the
    /// Earth).
    pub fn wet_mapping_per_c(&self, i: usize, o: &Observation, s: usize) -> f64 {
        side(o, s).map_or(0.0, |k| self.wet[i][k])
    }

    /// ∂(T_B − T_A)/∂p for observation `i` at `trial`, `step` the central
    /// difference step of position and angle parameters (in their units).
    pub fn partial(
        &self,
        i: usize,
        o: &Observation,
        trial: &Trial,
        p: &Param,
        step: f64,
    ) -> Result<f64, SolveError> {
        let t = o.epoch.seconds_since(self.clock_epoch);
        let sign = |s: usize| -> f64 {
            if s == o.b {
                1.0
            } else if s == o.a {
                -1.0
            } else {
                0.0
            }
        };
        match p.kind {
            Kind::ClockOffset => Ok(sign(p.owner)),
            Kind::ClockRate => Ok(sign(p.owner) * t),
            Kind::ClockAccel => Ok(sign(p.owner) * t * t),
            Kind::ClockPwl(_) | Kind::Zwd(_) => {
                let (node, interval) = p.node.expect("a node for a piecewise-linear parameter");
                let w = sign(p.owner) * hat(o.epoch, node, interval);
                Ok(if matches!(p.kind, Kind::Zwd(_)) {
                    w * self.wet_mapping_per_c(i, o, p.owner).abs()
                } else {
                    w
                })
            }
            Kind::Gradient(k) => Ok(sign(p.owner) * self.gradient_partials_of(i, o, p.owner)[k]),
            Kind::Eop(k) => {
                let mut tr = trial.clone();
                let mut at = |d: f64| -> Result<f64, SolveError> {
                    tr.eop[k] = trial.eop[k] + d;
                    let [ga, gb] = self.geo_ab(i, o, &tr)?;
                    Ok(gb - ga)
                };
                let (plus, minus) = (at(step)?, at(-step)?);
                Ok((plus - minus) / (2.0 * step))
            }
            Kind::EarthPosition(axis) | Kind::MoonPosition(axis) => {
                let sg = sign(p.owner);
                if sg == 0.0 {
                    return Ok(0.0);
                }
                let mut tr = trial.clone();
                let mut at = |d: f64| -> Result<f64, SolveError> {
                    tr.sites[p.owner] = trial.sites[p.owner].map(|s| shift_site(s, axis, d));
                    self.geo(i, o, p.owner, &tr)
                };
                let (plus, minus) = (at(step)?, at(-step)?);
                Ok(sg * (plus - minus) / (2.0 * step))
            }
            Kind::LanderPosition(_) | Kind::Ra | Kind::Dec => {
                if p.owner != o.source {
                    return Ok(0.0);
                }
                let mut tr = trial.clone();
                let mut at = |d: f64| -> Result<f64, SolveError> {
                    tr.sources[o.source] = trial.sources[o.source]
                        .as_ref()
                        .map(|g| shift_source(g, p.kind, d));
                    Ok(self.geo(i, o, o.b, &tr)? - self.geo(i, o, o.a, &tr)?)
                };
                let (plus, minus) = (at(step)?, at(-step)?);
                Ok((plus - minus) / (2.0 * step))
            }
        }
    }
}

/// The central-difference step for a parameter kind.
/// Which end of observation `o` station `s` is (0 = A, 1 = B), if either.
fn side(o: &Observation, s: usize) -> Option<usize> {
    if s == o.b {
        Some(1)
    } else if s == o.a {
        Some(0)
    } else {
        None
    }
}

pub fn step_of(kind: Kind) -> f64 {
    match kind {
        Kind::Ra | Kind::Dec => ANGLE_STEP_RAD,
        Kind::Eop(0) => UT1_STEP_S,
        Kind::Eop(_) => POLAR_STEP_RAD,
        _ => POSITION_STEP_M,
    }
}

fn shift_site(s: Site, axis: usize, d: f64) -> Site {
    match s {
        Site::Earth(mut x) => {
            x[axis] += d;
            Site::Earth(x)
        }
        Site::Moon(mut x) => {
            x[axis] += d;
            Site::Moon(x)
        }
    }
}

fn shift_source(g: &SourceGeometry, kind: Kind, d: f64) -> SourceGeometry {
    match (g, kind) {
        (SourceGeometry::Near(NearSource::Moon(Site::Moon(x))), Kind::LanderPosition(axis)) => {
            let mut x = *x;
            x[axis] += d;
            SourceGeometry::Near(NearSource::Moon(Site::Moon(x)))
        }
        (SourceGeometry::Far(k), Kind::Ra | Kind::Dec) => {
            let (mut ra, mut dec) = radec(k);
            if kind == Kind::Ra {
                ra += d;
            } else {
                dec += d;
            }
            SourceGeometry::Far(unit_vector(ra, dec))
        }
        _ => g.clone(),
    }
}

pub fn radec(k: &[f64; 3]) -> (f64, f64) {
    (k[1].atan2(k[0]), k[2].atan2(k[0].hypot(k[1])))
}

pub fn unit_vector(ra: f64, dec: f64) -> [f64; 3] {
    let (sr, cr) = ra.sin_cos();
    let (sd, cd) = dec.sin_cos();
    [cd * cr, cd * sr, sd]
}

/// The trial at a-priori values plus corrections `dx` (in `params` order).
pub fn trial_at(apriori: &Trial, params: &[Param], dx: &[f64]) -> Trial {
    let mut t = apriori.clone();
    for (p, &d) in params.iter().zip(dx) {
        let v = p.apriori + d;
        match p.kind {
            Kind::ClockOffset => t.clocks[p.owner][0] = d,
            Kind::ClockRate => t.clocks[p.owner][1] = d,
            Kind::ClockAccel => t.clocks[p.owner][2] = d,
            Kind::Eop(k) => t.eop[k] = d,
            Kind::Gradient(k) => t.grad[p.owner][k] = v,
            Kind::Zwd(_) | Kind::ClockPwl(_) => {
                let (node, interval_s) = p.node.expect("a node");
                t.pwl.push(Pwl {
                    station: p.owner,
                    node,
                    interval_s,
                    value: d,
                    wet: matches!(p.kind, Kind::Zwd(_)),
                });
            }
            Kind::EarthPosition(axis) | Kind::MoonPosition(axis) => {
                t.sites[p.owner] = t.sites[p.owner].map(|s| set_site(s, axis, v));
            }
            Kind::LanderPosition(axis) => {
                if let Some(SourceGeometry::Near(NearSource::Moon(Site::Moon(x)))) =
                    &t.sources[p.owner]
                {
                    let mut x = *x;
                    x[axis] = v;
                    t.sources[p.owner] =
                        Some(SourceGeometry::Near(NearSource::Moon(Site::Moon(x))));
                }
            }
            Kind::Ra | Kind::Dec => {
                if let Some(SourceGeometry::Far(k)) = &t.sources[p.owner] {
                    let (mut ra, mut dec) = radec(k);
                    if p.kind == Kind::Ra {
                        ra = v;
                    } else {
                        dec = v;
                    }
                    t.sources[p.owner] = Some(SourceGeometry::Far(unit_vector(ra, dec)));
                }
            }
        }
    }
    t
}

fn set_site(s: Site, axis: usize, v: f64) -> Site {
    match s {
        Site::Earth(mut x) => {
            x[axis] = v;
            Site::Earth(x)
        }
        Site::Moon(mut x) => {
            x[axis] = v;
            Site::Moon(x)
        }
    }
}

/// A lander's a-priori ME position (m), for documentation and truth.
pub fn lander_me_m(job: &Job, k: usize) -> Option<[f64; 3]> {
    match &job.sources[k].position {
        SourcePosition::Moon(m) => Some(site_me_m(m)),
        _ => None,
    }
}
