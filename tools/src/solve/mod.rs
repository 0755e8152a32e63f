//! `emcorr solve`: station, lunar-station, lander and source parameters
//! from a session's total group delays (`emcorr fringe --format json`).
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
//! job's ITRF positions with the EOP of [model]); the Moon's frame is the
//! kernels' mean-Earth frame. Clock offsets are at the clock epoch: the
//! job's `[job] start`, else its first scan's start, else the first
//! observation; rates are per second after it.
//!
//! Piecewise-linear groups (`zwd`, `clock_pwl`): consecutive nodes of a
//! station are tied by pseudo-observations (see [`parameters`]) appended
//! to the observations: they enter N, χ² and the degrees of freedom, never
//! the outlier search or `observations`.
//!
//! Iteration: Gauss–Newton until every step is below [`CONVERGED_STEP_SIGMA`] of its formal σ
//! (at most [`MAX_ITERATIONS`]). Then outliers: the observation with the
//! largest |residual|/σ above `reject_sigma` (default
//! [`DEFAULT_REJECT_SIGMA`]) is flagged and the solve iterated again, one
//! at a time, until none is above.

pub mod error;
pub mod lsq;
pub mod observations;
pub mod output;
pub mod parameters;
pub mod partials;

#[cfg(test)]
mod pwl_tests;
#[cfg(test)]
mod tests;

pub use error::SolveError;
pub use observations::{read_files, Observation, ReadSummary};

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
/// Converged when every step is below this fraction of its formal σ. The
/// model's own rounding (BCRS coordinates of 1.5e11 m carry ~3e-5 m, so
/// ~1e-13 s in a delay) makes steps jitter at a few 10⁻³ σ in the standard
/// session: a tighter limit would never be met.
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
    /// Observed − model (s).
    pub residual_s: f64,
    pub sigma_s: f64,
    pub flagged: bool,
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
    pub skipped_subband: usize,
    pub skipped_undetected: usize,
    pub iterations: usize,
    pub reject_sigma: f64,
    pub residuals: Vec<Residual>,
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
    let ties = constraints(&params, opts);
    let nrow = obs.len() + ties.len();
    let sigma: Vec<f64> = obs
        .iter()
        .map(|o| o.sigma_s)
        .chain(ties.iter().map(|t| t.2))
        .collect();
    let mut active = vec![true; obs.len()];
    let mut dx = vec![0.0; np];
    let mut iterations = 0;
    let (rank, cov) = loop {
        // Gauss–Newton to convergence with the current flags.
        let mut converged = None;
        for _ in 0..MAX_ITERATIONS {
            iterations += 1;
            let trial = trial_at(geom.apriori(), &params, &dx);
            let mut a = DMatrix::zeros(nrow, np);
            let mut r = vec![0.0; nrow];
            for (i, o) in obs.iter().enumerate() {
                r[i] = o.delay_s - geom.model(i, o, &trial)?;
                for (j, p) in params.iter().enumerate() {
                    a[(i, j)] = geom.partial(i, o, &trial, p, step_of(p.kind))?;
                }
            }
            for (t, &(j, k, _)) in ties.iter().enumerate() {
                let row = obs.len() + t;
                a[(row, j)] = -1.0;
                a[(row, k)] = 1.0;
                r[row] = -(dx[k] - dx[j]);
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
            if worst < CONVERGED_STEP_SIGMA {
                converged = Some((rank, cov));
                break;
            }
        }
        let Some((rank, cov)) = converged else {
            return Err(SolveError::Numerical(format!(
                "no convergence in {MAX_ITERATIONS} iterations"
            )));
        };
        let trial = trial_at(geom.apriori(), &params, &dx);
        let mut worst: Option<(usize, f64)> = None;
        for (i, o) in obs.iter().enumerate() {
            if !active[i] {
                continue;
            }
            let z = ((o.delay_s - geom.model(i, o, &trial)?) / o.sigma_s).abs();
            if z > opts.reject_sigma && worst.is_none_or(|(_, w)| z > w) {
                worst = Some((i, z));
            }
        }
        match worst {
            Some((i, _)) if active.iter().filter(|x| **x).count() > rank.free.len() + 1 => {
                active[i] = false
            }
            _ => break (rank, cov),
        }
    };

    let trial = trial_at(geom.apriori(), &params, &dx);
    let mut residuals = Vec::with_capacity(obs.len());
    let mut chi2 = 0.0;
    for (i, o) in obs.iter().enumerate() {
        let v = o.delay_s - geom.model(i, o, &trial)?;
        if active[i] {
            chi2 += (v / o.sigma_s).powi(2);
        }
        residuals.push(Residual {
            scan: o.scan.clone(),
            baseline: o.baseline.clone(),
            source: job.sources[o.source].name.clone(),
            geocentre_epoch_utc: o.epoch.to_iso8601(),
            residual_s: v,
            sigma_s: o.sigma_s,
            flagged: !active[i],
        });
    }
    for &(j, k, s) in &ties {
        chi2 += ((dx[k] - dx[j]) / s).powi(2);
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
    Ok(Solution {
        reference_station: job.stations[0].name.clone(),
        clock_epoch: epoch,
        parameters,
        correlation,
        not_estimated,
        chi2_dof: if dof > 0 { chi2 / dof as f64 } else { f64::NAN },
        dof,
        n_used,
        n_constraints: ties.len(),
        n_flagged: obs.len() - n_used,
        skipped_subband: read.skipped_subband,
        skipped_undetected: read.skipped_undetected,
        iterations,
        reject_sigma: opts.reject_sigma,
        residuals,
    })
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
