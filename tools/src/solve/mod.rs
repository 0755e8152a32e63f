//! `emcorr solve`: station, lunar-station, lander and source parameters
//! from a session's total group delays and same-beam differential phase
//! delays (`emcorr fringe --format json`).
//!
//! Data flow: [`observations`] (rows of one or several fringe JSON files)
//! → [`parameters`] (what is estimated, from the defaults and
//! `--estimate`) → [`partials`] (the correlator's own delay model at trial
//! positions; partial derivatives) → [`lsq`] (Gauss–Markov normal
//! equations, iterated; rank analysis; outlier rejection) → [`output`].
//!
//! Datum: the job's first station is the reference clock (its clock is
//! held at the job's a priori unless `--estimate` names it, which makes a
//! rank deficiency the solve names); Earth stations sit at their job
//! positions unless `position` is estimated (the terrestrial frame is the
//! job's ITRF positions with the EOP of `[model]`); the Moon's frame is the
//! kernels' mean-Earth frame. Clock offsets are at the clock epoch: the
//! job's `[job] start`, else its first scan's start, else the first
//! observation; rates are per second after it.
//!
//! Piecewise-linear groups (`zwd`, `clock_pwl`): consecutive nodes of a
//! station are tied by pseudo-observations (see [`parameters`]) appended
//! to the observations: they enter N, χ² and the degrees of freedom, never
//! the outlier search or `observations`.
//!
//! Observables: every row's total group delay and, for same-beam rows
//! (two sources of one scan on one baseline: a lander and its rover, or a
//! lander and a quasar), the differential phase delay source 1 − source 2
//! ([`observations`] documents how it is formed and when its ambiguity is
//! refused; `--no-same-beam` leaves them out). Its model is the model of
//! source 1's row minus that of source 2's row, each at its own epoch, so
//! clocks (and the common atmosphere) cancel; its partials are the
//! difference of the two rows' partials. An observation whose ambiguity
//! was refused is reported flagged (with `flag_reason`) and never used.
//!
//! Iteration: Gauss–Newton until every step is below [`CONVERGED_STEP_SIGMA`] of its formal σ
//! (at most [`MAX_ITERATIONS`]). Then outliers: the observation with the
//! largest |residual|/σ above `reject_sigma` (default
//! [`DEFAULT_REJECT_SIGMA`]) is flagged and the solve iterated again, one
//! at a time, until none is above.

pub mod derived;
pub mod error;
pub mod lsq;
pub mod observations;
pub mod output;
pub mod parameters;
pub mod partials;

#[cfg(test)]
mod gradient_tests;
#[cfg(test)]
mod pwl_tests;
#[cfg(test)]
mod samebeam_tests;
#[cfg(test)]
mod tests;

pub use error::SolveError;
pub use observations::{read_files, Observation, ReadSummary, SameBeam};

use correlator::job::Job;
use formats::UtcTime;
use nalgebra::DMatrix;
use parameters::Param;
use partials::{step_of, trial_at, Geometry};
use std::collections::BTreeSet;

/// Outlier threshold: |residual| > 5σ. With Gaussian noise and a few
/// hundred observations a false flag happens once in thousands of solves,
/// while a lost ambiguity or a bad fringe is tens of σ off.
pub const DEFAULT_REJECT_SIGMA: f64 = 5.0;
/// Converged when every step is below this fraction of its formal σ: what
/// is left moves the estimate by a negligible share of its σ. The model's
/// numerical jitter (~1e-15 s per delay since its positions are geocentric,
/// `correlator::model::ephemeris::GeoOrigin`) is far below every σ, same-beam
/// phase delays' (≥ 0.04 ps) included: their solves converge at this limit
/// too (7 iterations in `samebeam_tests`). While positions were barycentric
/// (~1e-13 s of rounding) same-beam solves needed 0.5σ and a 0.2 ps floor.
pub const CONVERGED_STEP_SIGMA: f64 = 0.05;
/// Gauss–Newton iterations per outlier round.
pub const MAX_ITERATIONS: usize = 12;

#[derive(Debug, Clone)]
pub struct SolveOptions {
    /// `--estimate` (see [`parameters`]).
    pub estimate: Option<String>,
    pub reject_sigma: f64,
    /// `--zwd-interval` (min).
    pub zwd_interval_min: f64,
    /// `--clock-interval` (min).
    pub clock_interval_min: f64,
    /// `--zwd-constraint` (m per √h between nodes; 0: none).
    pub zwd_constraint_m_per_h: f64,
    /// `--clock-constraint` (s per √h between nodes; 0: none).
    pub clock_constraint_s_per_h: f64,
    /// Use same-beam differential phase delays (`--no-same-beam`: no).
    pub same_beam: bool,
    /// `--ambiguity-max-cycles`.
    pub ambiguity_max_cycles: f64,
    /// `--datum`: no-net-rotation / no-net-translation conditions on the
    /// estimated Earth station positions.
    pub datum: Datum,
}

/// Datum conditions on estimated Earth station positions (`--datum nnr`,
/// `nnt` or `nnr,nnt`), as geodetic VLBI solvers (νSolve, VieVS) apply
/// them: the corrections Δx_i of the n stations whose x, y, z are all
/// estimated satisfy Σ x̂_i × Δx_i = 0 (no net rotation, x̂_i the unit a
/// priori position) and Σ Δx_i = 0 (no net translation), each component
/// a pseudo-observation of σ [`DATUM_SIGMA_M`]. A network rotation is what
/// `+eop,+position` cannot separate from the EOP offsets; NNR fixes it to
/// the a-priori frame's orientation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Datum {
    pub nnr: bool,
    pub nnt: bool,
}

/// σ of each datum condition (m): tight enough to remove the null
/// directions, loose enough to leave N well conditioned (a 0.1 mm net
/// rotation is 1.6e-11 rad at the Earth's radius).
pub const DATUM_SIGMA_M: f64 = 1e-4;

impl Datum {
    /// `--datum LIST`: comma-separated `nnr`, `nnt` (empty: none).
    pub fn parse(s: &str) -> Result<Datum, SolveError> {
        let mut d = Datum::default();
        for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            match item {
                "nnr" => d.nnr = true,
                "nnt" => d.nnt = true,
                other => {
                    return Err(SolveError::Setup(format!(
                        "--datum: unknown condition \"{other}\" (known: nnr, nnt)"
                    )))
                }
            }
        }
        Ok(d)
    }
}

/// A linear pseudo-observation Σ c_j·x_j = 0 ± σ on the corrections.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub terms: Vec<(usize, f64)>,
    pub sigma: f64,
}

/// The datum conditions of `datum` over `params` (none if fewer than two
/// stations have all of x, y, z estimated: one station's position is not
/// a network). The ITRF a priori of station i is params' apriori values.
pub fn datum_conditions(params: &[Param], datum: Datum) -> Vec<Condition> {
    let mut stations: Vec<(usize, [usize; 3])> = Vec::new();
    for (j, p) in params.iter().enumerate() {
        if let parameters::Kind::EarthPosition(0) = p.kind {
            let find = |axis: usize| {
                params.iter().position(|q| {
                    q.owner == p.owner && q.kind == parameters::Kind::EarthPosition(axis)
                })
            };
            if let (Some(y), Some(z)) = (find(1), find(2)) {
                stations.push((p.owner, [j, y, z]));
            }
        }
    }
    let mut out = Vec::new();
    if stations.len() < 2 {
        return out;
    }
    if datum.nnt {
        for axis in 0..3 {
            out.push(Condition {
                terms: stations.iter().map(|(_, idx)| (idx[axis], 1.0)).collect(),
                sigma: DATUM_SIGMA_M,
            });
        }
    }
    if datum.nnr {
        // (x̂ × Δx)_a = Σ_bc ε_abc x̂_b Δx_c.
        for axis in 0..3 {
            let (b, c) = ((axis + 1) % 3, (axis + 2) % 3);
            let mut terms = Vec::new();
            for (_, idx) in &stations {
                let x: Vec<f64> = idx.iter().map(|&j| params[j].apriori).collect();
                let r = (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt();
                terms.push((idx[c], x[b] / r));
                terms.push((idx[b], -x[c] / r));
            }
            out.push(Condition {
                terms,
                sigma: DATUM_SIGMA_M,
            });
        }
    }
    out
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            estimate: None,
            reject_sigma: DEFAULT_REJECT_SIGMA,
            zwd_interval_min: parameters::DEFAULT_ZWD_INTERVAL_MIN,
            clock_interval_min: parameters::DEFAULT_CLOCK_INTERVAL_MIN,
            zwd_constraint_m_per_h: parameters::DEFAULT_ZWD_CONSTRAINT_M_PER_H,
            clock_constraint_s_per_h: parameters::DEFAULT_CLOCK_CONSTRAINT_S_PER_H,
            same_beam: true,
            ambiguity_max_cycles: observations::DEFAULT_AMBIGUITY_MAX_CYCLES,
            datum: Datum::default(),
        }
    }
}

/// The pseudo-observations tying consecutive nodes of piecewise-linear
/// parameters: (earlier, later, σ) in `params` indices; the row is
/// x_later − x_earlier = 0 ± σ, σ = c·√(Δ/1 h).
pub fn constraints(params: &[Param], opts: &SolveOptions) -> Vec<(usize, usize, f64)> {
    let mut out = Vec::new();
    for (j, p) in params.iter().enumerate() {
        let c = match p.kind {
            parameters::Kind::Zwd(_) => opts.zwd_constraint_m_per_h,
            parameters::Kind::ClockPwl(_) => opts.clock_constraint_s_per_h,
            _ => continue,
        };
        if c <= 0.0 {
            continue;
        }
        let next = params.iter().position(|q| {
            q.owner == p.owner
                && match (p.kind, q.kind) {
                    (parameters::Kind::Zwd(a), parameters::Kind::Zwd(b))
                    | (parameters::Kind::ClockPwl(a), parameters::Kind::ClockPwl(b)) => b == a + 1,
                    _ => false,
                }
        });
        if let (Some(k), Some((_, interval_s))) = (next, p.node) {
            out.push((j, k, c * (interval_s / 3600.0).sqrt()));
        }
    }
    out
}

/// One estimated parameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub name: String,
    pub apriori: f64,
    pub estimate: f64,
    pub correction: f64,
    pub sigma: f64,
    pub unit: String,
}

/// A parameter held at its a priori because the observations cannot
/// separate it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NotEstimated {
    pub name: String,
    pub apriori: f64,
    pub unit: String,
    /// Why, in one sentence naming the parameters involved.
    pub why: String,
    /// The parameters of the unresolvable combination (this one first).
    pub involved: Vec<String>,
}

/// One observation after the solve.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Residual {
    pub scan: String,
    pub baseline: String,
    pub source: String,
    pub geocentre_epoch_utc: String,
    /// Observed − model (s); of a phase delay whose ambiguity was refused,
    /// modulo 1/f_ref in (−½, ½] cycle.
    pub residual_s: f64,
    pub sigma_s: f64,
    pub flagged: bool,
    /// `group_delay`, or `phase_delay_diff` (source − source_b, same beam).
    pub observable: String,
    /// The pair's source 2 (phase_delay_diff), else null.
    pub source_b: Option<String>,
    /// The resolved ambiguity N (cycles of 1/f_ref; phase_delay_diff).
    pub ambiguity_cycles: Option<i64>,
    /// Why flagged: "outlier" or the refused ambiguity; null when used.
    pub flag_reason: Option<String>,
}

/// Everything a solve found.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub reference_station: String,
    pub clock_epoch: UtcTime,
    pub parameters: Vec<Estimate>,
    /// Correlations of `parameters`, same order.
    pub correlation: Vec<Vec<f64>>,
    pub not_estimated: Vec<NotEstimated>,
    pub chi2_dof: f64,
    /// Degrees of freedom: observations used plus pseudo-observations
    /// minus parameters estimated.
    pub dof: usize,
    pub n_used: usize,
    /// Pseudo-observations tying piecewise-linear nodes.
    pub n_constraints: usize,
    pub n_flagged: usize,
    /// Same-beam differential phase delays formed (used or flagged).
    pub n_phase_delay_diff: usize,
    /// Of those, refused for their ambiguity (flagged).
    pub n_ambiguity_refused: usize,
    pub skipped_subband: usize,
    pub skipped_undetected: usize,
    pub iterations: usize,
    pub reject_sigma: f64,
    pub residuals: Vec<Residual>,
    /// Latitude, longitude, height and east/north/up of the estimated
    /// lunar positions ([`derived`]).
    pub derived: Vec<Estimate>,
    /// What could not be derived, and why.
    pub derived_notes: Vec<String>,
}

impl Solution {
    /// The estimate named `name`.
    pub fn get(&self, name: &str) -> Option<&Estimate> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Whether some parameter could not be estimated.
    pub fn rank_deficient(&self) -> bool {
        !self.not_estimated.is_empty()
    }
}

/// The clock epoch of a job's solve (see the module docs).
pub fn clock_epoch(job: &Job, obs: &[Observation]) -> UtcTime {
    job.start
        .or_else(|| earliest(job.scans.iter().map(|s| s.start)))
        .or_else(|| earliest(obs.iter().map(|o| o.epoch)))
        .unwrap_or(UtcTime::new(0, 0.0))
}

fn earliest(t: impl Iterator<Item = UtcTime>) -> Option<UtcTime> {
    t.reduce(|x, y| if y < x { y } else { x })
}

/// Solve for the parameters `opts` selects from `read`'s observations.
pub fn solve(job: &Job, read: &ReadSummary, opts: &SolveOptions) -> Result<Solution, SolveError> {
    let obs = &read.observations;
    if !(opts.reject_sigma.is_finite() && opts.reject_sigma > 0.0) {
        return Err(SolveError::Setup(format!(
            "--reject-sigma must be a positive number, got {}",
            opts.reject_sigma
        )));
    }
    let epoch = clock_epoch(job, obs);
    let stations: BTreeSet<usize> = obs.iter().flat_map(|o| [o.a, o.b]).collect();
    let sources: BTreeSet<usize> = obs.iter().map(|o| o.source).collect();
    let shift: Vec<f64> = job
        .stations
        .iter()
        .map(|s| epoch.seconds_since(s.clock.epoch.unwrap_or(epoch)))
        .collect();
    for (flag, v) in [
        ("--zwd-interval", opts.zwd_interval_min),
        ("--clock-interval", opts.clock_interval_min),
    ] {
        if !(v.is_finite() && v * 60.0 >= 1.0 && (v * 60.0 - (v * 60.0).round()).abs() < 1e-9) {
            return Err(SolveError::Setup(format!(
                "{flag} must be a positive whole number of seconds in minutes, got {v}"
            )));
        }
    }
    for (flag, v) in [
        ("--zwd-constraint", opts.zwd_constraint_m_per_h),
        ("--clock-constraint", opts.clock_constraint_s_per_h),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(SolveError::Setup(format!(
                "{flag} must be ≥ 0 (0: no constraint), got {v}"
            )));
        }
    }
    let span =
        earliest(obs.iter().map(|o| o.epoch)).zip(obs.iter().map(|o| o.epoch).reduce(|x, y| {
            if y > x {
                y
            } else {
                x
            }
        }));
    let grids = parameters::Grids {
        span,
        zwd_interval_s: (opts.zwd_interval_min * 60.0).round(),
        clock_interval_s: (opts.clock_interval_min * 60.0).round(),
    };
    let params = parameters::select(
        job,
        opts.estimate.as_deref(),
        &stations,
        &sources,
        &shift,
        epoch,
        &grids,
    )?;
    for p in &params {
        let no_site = matches!(
            p.kind,
            parameters::Kind::EarthPosition(_) | parameters::Kind::MoonPosition(_)
        ) && job.stations[p.owner].delay_poly.is_some();
        if no_site {
            return Err(SolveError::Setup(format!(
                "{}: station {} has a delay_poly, not a position: its position cannot be estimated",
                job.file.display(),
                job.stations[p.owner].name
            )));
        }
    }
    if params.is_empty() {
        return Err(SolveError::Setup(
            "--estimate leaves no parameter to estimate".into(),
        ));
    }
    let geom = Geometry::new(job, obs, epoch)?;
    let np = params.len();
    // The observables: each row's group delay (leg i, +1), then the
    // same-beam phase delays (leg first − leg second).
    let pairs = if opts.same_beam {
        if !(opts.ambiguity_max_cycles.is_finite() && opts.ambiguity_max_cycles > 0.0) {
            return Err(SolveError::Setup(format!(
                "--ambiguity-max-cycles must be a positive number, got {}",
                opts.ambiguity_max_cycles
            )));
        }
        observations::same_beam_pairs(read, opts.ambiguity_max_cycles)
    } else {
        Vec::new()
    };
    let n_obs = obs.len() + pairs.len();
    let value: Vec<f64> = obs
        .iter()
        .map(|o| o.delay_s)
        .chain(pairs.iter().map(|p| p.delay_s))
        .collect();
    // Rows of the design matrix: the observables, then the ties between
    // consecutive nodes of the piecewise-linear groups and the datum
    // conditions. A datum asked for with nothing to hold is refused rather
    // than ignored: the user expects it to act.
    let datum = datum_conditions(&params, opts.datum);
    if opts.datum != Datum::default() && datum.is_empty() {
        return Err(SolveError::Setup(
            "--datum needs the x, y, z of at least two Earth stations estimated (e.g. --estimate +position)"
                .into(),
        ));
    }
    let ties: Vec<Condition> = constraints(&params, opts)
        .into_iter()
        .map(|(j, k, sigma)| Condition {
            terms: vec![(j, -1.0), (k, 1.0)],
            sigma,
        })
        .chain(datum)
        .collect();
    let nrow = n_obs + ties.len();
    let sigma: Vec<f64> = obs
        .iter()
        .map(|o| o.sigma_s)
        .chain(pairs.iter().map(|p| p.sigma_s))
        .chain(ties.iter().map(|t| t.sigma))
        .collect();
    let legs = |k: usize| -> (usize, Option<usize>) {
        if k < obs.len() {
            (k, None)
        } else {
            let p = &pairs[k - obs.len()];
            (p.first, Some(p.second))
        }
    };
    // Observed − model of every observable at `trial`.
    let residuals_at = |trial: &partials::Trial| -> Result<Vec<f64>, SolveError> {
        let m = obs
            .iter()
            .enumerate()
            .map(|(i, o)| geom.model(i, o, trial))
            .collect::<Result<Vec<f64>, _>>()?;
        Ok((0..n_obs)
            .map(|k| match legs(k) {
                (i, None) => value[k] - m[i],
                (i, Some(j)) => value[k] - (m[i] - m[j]),
            })
            .collect())
    };
    let mut active: Vec<bool> = (0..n_obs)
        .map(|k| k < obs.len() || pairs[k - obs.len()].refused.is_none())
        .collect();
    let tolerance = CONVERGED_STEP_SIGMA;
    let mut dx = vec![0.0; np];
    let mut iterations = 0;
    let (rank, cov) = loop {
        // Gauss–Newton to convergence with the current flags.
        let mut converged = None;
        for _ in 0..MAX_ITERATIONS {
            iterations += 1;
            let trial = trial_at(geom.apriori(), &params, &dx);
            let mut leg = DMatrix::zeros(obs.len(), np);
            for (i, o) in obs.iter().enumerate() {
                for (j, p) in params.iter().enumerate() {
                    leg[(i, j)] = geom.partial(i, o, &trial, p, step_of(p.kind))?;
                }
            }
            let mut a = DMatrix::from_fn(nrow, np, |k, j| match k {
                k if k >= n_obs => 0.0,
                k => match legs(k) {
                    (i, None) => leg[(i, j)],
                    (i, Some(l)) => leg[(i, j)] - leg[(l, j)],
                },
            });
            let mut r = residuals_at(&trial)?;
            r.resize(nrow, 0.0);
            for (t, cond) in ties.iter().enumerate() {
                let row = n_obs + t;
                let mut value = 0.0;
                for &(j, c) in &cond.terms {
                    a[(row, j)] = c;
                    value += c * dx[j];
                }
                r[row] = -value;
            }
            let mut used = active.clone();
            used.resize(nrow, true);
            let (n, b) = lsq::normal_equations(&a, &r, &sigma, &used);
            let rank = lsq::rank(&n);
            if rank.free.is_empty() {
                return Err(SolveError::Numerical(format!(
                    "no parameter is estimable from {} observations",
                    active.iter().filter(|x| **x).count()
                )));
            }
            let (step, cov) = lsq::solve(&n, &b, &rank.free)?;
            let mut worst = 0.0f64;
            for (k, &j) in rank.free.iter().enumerate() {
                dx[j] += step[j];
                worst = worst.max(step[j].abs() / cov[(k, k)].sqrt());
            }
            if worst < tolerance {
                converged = Some((rank, cov));
                break;
            }
        }
        let Some((rank, cov)) = converged else {
            return Err(SolveError::Numerical(format!(
                "no convergence in {MAX_ITERATIONS} iterations"
            )));
        };
        let r = residuals_at(&trial_at(geom.apriori(), &params, &dx))?;
        let mut worst: Option<(usize, f64)> = None;
        for k in 0..n_obs {
            if !active[k] {
                continue;
            }
            let z = (r[k] / sigma[k]).abs();
            if z > opts.reject_sigma && worst.is_none_or(|(_, w)| z > w) {
                worst = Some((k, z));
            }
        }
        match worst {
            Some((k, _)) if active.iter().filter(|x| **x).count() > rank.free.len() + 1 => {
                active[k] = false
            }
            _ => break (rank, cov),
        }
    };

    let r = residuals_at(&trial_at(geom.apriori(), &params, &dx))?;
    let mut residuals = Vec::with_capacity(n_obs);
    let mut chi2 = 0.0;
    for k in 0..n_obs {
        let (i, second) = legs(k);
        let o = &obs[i];
        if active[k] {
            chi2 += (r[k] / sigma[k]).powi(2);
        }
        let pair = second.map(|_| &pairs[k - obs.len()]);
        let flag_reason = match (active[k], pair.and_then(|p| p.refused.clone())) {
            (true, _) => None,
            (false, Some(why)) => Some(why),
            (false, None) => Some("outlier".to_string()),
        };
        // A refused phase delay has no N: its residual is shown modulo
        // 1/f_ref, in (−½, ½] cycle (what the phase says without the group
        // delay), so that it stays on the scale of the others.
        let residual_s = match pair {
            Some(p) if p.ambiguity.is_none() => {
                r[k] - (r[k] * p.ref_freq_hz).round() / p.ref_freq_hz
            }
            _ => r[k],
        };
        residuals.push(Residual {
            scan: o.scan.clone(),
            baseline: o.baseline.clone(),
            source: job.sources[o.source].name.clone(),
            geocentre_epoch_utc: o.epoch.to_iso8601(),
            residual_s,
            sigma_s: sigma[k],
            flagged: !active[k],
            observable: if pair.is_some() {
                "phase_delay_diff"
            } else {
                "group_delay"
            }
            .to_string(),
            source_b: second.map(|j| job.sources[obs[j].source].name.clone()),
            ambiguity_cycles: pair.and_then(|p| p.ambiguity),
            flag_reason,
        });
    }
    for cond in &ties {
        let value: f64 = cond.terms.iter().map(|&(j, c)| c * dx[j]).sum();
        chi2 += (value / cond.sigma).powi(2);
    }
    let n_used = active.iter().filter(|x| **x).count();
    let dof = (n_used + ties.len()).saturating_sub(rank.free.len());
    // Report parameters in their selection order.
    let mut order: Vec<(usize, usize)> =
        rank.free.iter().enumerate().map(|(k, &j)| (j, k)).collect();
    order.sort();
    let parameters: Vec<Estimate> = order
        .iter()
        .map(|&(j, k)| estimate(&params[j], dx[j], cov[(k, k)].sqrt()))
        .collect();
    let correlation: Vec<Vec<f64>> = order
        .iter()
        .map(|&(_, k)| {
            order
                .iter()
                .map(|&(_, l)| cov[(k, l)] / (cov[(k, k)] * cov[(l, l)]).sqrt())
                .collect()
        })
        .collect();
    let not_estimated = rank
        .deficiencies
        .iter()
        .map(|d| not_estimated(&params, d, &job.stations[0].name))
        .collect();
    let mut sol = Solution {
        reference_station: job.stations[0].name.clone(),
        clock_epoch: epoch,
        parameters,
        correlation,
        not_estimated,
        chi2_dof: if dof > 0 { chi2 / dof as f64 } else { f64::NAN },
        dof,
        n_used,
        n_constraints: ties.len(),
        n_flagged: n_obs - n_used,
        n_phase_delay_diff: pairs.len(),
        n_ambiguity_refused: pairs.iter().filter(|p| p.refused.is_some()).count(),
        skipped_subband: read.skipped_subband,
        skipped_undetected: read.skipped_undetected,
        iterations,
        reject_sigma: opts.reject_sigma,
        residuals,
        derived: Vec::new(),
        derived_notes: Vec::new(),
    };
    (sol.derived, sol.derived_notes) = derived::selenographic(&sol);
    Ok(sol)
}

fn estimate(p: &Param, correction: f64, sigma: f64) -> Estimate {
    Estimate {
        name: p.name.clone(),
        apriori: p.apriori,
        estimate: p.apriori + correction,
        correction,
        sigma,
        unit: p.kind.unit().to_string(),
    }
}

fn not_estimated(params: &[Param], d: &lsq::Deficiency, reference: &str) -> NotEstimated {
    let p = &params[d.fixed];
    let involved: Vec<String> = d
        .combination
        .iter()
        .map(|(j, _)| params[*j].name.clone())
        .collect();
    let why = if d.unobserved {
        format!("{}: no observation depends on it", p.name)
    } else if involved.len() == 1 {
        format!(
            "{}: not separable from the datum (reference station {reference})",
            p.name
        )
    } else {
        let terms: Vec<String> = d
            .combination
            .iter()
            .map(|(j, c)| format!("{:+.3}·{}", c, params[*j].name))
            .collect();
        format!(
            "rank deficiency: the observations do not measure the combination {}; {} held at its a priori",
            terms.join(" "),
            p.name
        )
    };
    NotEstimated {
        name: p.name.clone(),
        apriori: p.apriori,
        unit: p.kind.unit().to_string(),
        why,
        involved,
    }
}
