//! `emcorr solve`: clocks and positions from fringe rows.

use crate::failure::{print_stdout, Failure};
use crate::solve::{self, output, SolveError, SolveOptions};
use correlator::job::Job;
use std::path::PathBuf;

/// Weighted least squares on the total group delays of `emcorr fringe
/// --format json` rows: by default the clock offset and rate of every
/// station but the job's first (the reference clock) and the position of
/// every lunar station and lander observed. Same-beam rows (two sources of
/// one scan on one baseline) also give differential phase delays, source −
/// source (the first of the job's sources being subtracted), their
/// ambiguity resolved from the group-delay difference:
/// N = round((τ_g,diff − τ_φ,diff)·f_ref), refused (observation flagged)
/// when the group-delay σ exceeds --ambiguity-max-cycles of 1/f_ref.
/// Exit 2 bad input, 3 unreadable file, 4 when some parameter
/// could not be estimated (named in the output, which is still written).
#[derive(clap::Args, Debug)]
pub struct SolveArgs {
    /// Fringe rows (`emcorr fringe --format json`): one or more files, each
    /// one or several concatenated JSON documents.
    #[arg(required = true)]
    pub fringe: Vec<PathBuf>,
    /// The job the fringes come from: stations, sources, model.
    #[arg(long, value_name = "JOB.toml")]
    pub job: PathBuf,
    /// Edit the parameter set: comma-separated `[+|-]GROUP[:NAME]` items,
    /// groups clock, clock_offset, clock_rate, clock_accel, position,
    /// moon_position, lander, source, zwd (zenith wet delay of Earth
    /// stations, piecewise linear: `STATION:zwd_m@TIME`), clock_pwl
    /// (piecewise-linear clocks `STATION:clock_offset_s@TIME`, replacing
    /// clock_offset), eop (`EOP:ut1_s`, `EOP:xp_rad`, `EOP:yp_rad` offsets),
    /// gradient (north and east troposphere gradients of Earth stations
    /// over the session, m: `STATION:grad_n_m`, `STATION:grad_e_m`; Chen &
    /// Herring mapping) (e.g. `-lander,+clock_accel:KM,+zwd,+gradient`).
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub estimate: Option<String>,
    /// Node spacing of the `zwd` group (minutes; nodes on whole multiples).
    #[arg(long, value_name = "MIN", default_value_t = solve::parameters::DEFAULT_ZWD_INTERVAL_MIN)]
    pub zwd_interval: f64,
    /// σ of the difference of consecutive zwd nodes for 1 h (m; scaled by
    /// √(interval/1 h), a random walk); 0: no constraint.
    #[arg(long, value_name = "M_PER_H", default_value_t = solve::parameters::DEFAULT_ZWD_CONSTRAINT_M_PER_H)]
    pub zwd_constraint: f64,
    /// Node spacing of the `clock_pwl` group (minutes).
    #[arg(long, value_name = "MIN", default_value_t = solve::parameters::DEFAULT_CLOCK_INTERVAL_MIN)]
    pub clock_interval: f64,
    /// σ of the difference of consecutive clock nodes for 1 h (s; scaled
    /// by √(interval/1 h)); 0: no constraint.
    #[arg(long, value_name = "S_PER_H", default_value_t = solve::parameters::DEFAULT_CLOCK_CONSTRAINT_S_PER_H)]
    pub clock_constraint: f64,
    /// Flag observations whose |residual| exceeds N σ (one at a time).
    #[arg(long, value_name = "N", default_value_t = solve::DEFAULT_REJECT_SIGMA)]
    pub reject_sigma: f64,
    /// Leave out the same-beam differential phase delays (group delays only).
    #[arg(long)]
    pub no_same_beam: bool,
    /// Refuse a same-beam ambiguity (flag the phase delay) when the
    /// group-delay σ of the difference exceeds this many cycles of 1/f_ref.
    #[arg(long, value_name = "CYCLES", default_value_t = solve::observations::DEFAULT_AMBIGUITY_MAX_CYCLES)]
    pub ambiguity_max_cycles: f64,
    /// Datum conditions on estimated Earth station positions:
    /// comma-separated `nnr` (no net rotation), `nnt` (no net translation),
    /// pseudo-observations of σ 0.1 mm (e.g. with `+eop,+position`).
    #[arg(long, value_name = "LIST", default_value = "")]
    pub datum: String,
    /// text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn failure(e: SolveError) -> Failure {
    match e {
        SolveError::Read { .. } => Failure::Io(e.to_string()),
        SolveError::Numerical(_) => Failure::Internal(e.to_string()),
        _ => Failure::BadInput(e.to_string()),
    }
}

pub fn run(args: SolveArgs) -> Result<(), Failure> {
    let job = Job::from_file(&args.job).map_err(|e| Failure::BadInput(e.to_string()))?;
    let read = solve::read_files(&args.fringe, &job).map_err(failure)?;
    let opts = SolveOptions {
        estimate: args.estimate.clone(),
        reject_sigma: args.reject_sigma,
        zwd_interval_min: args.zwd_interval,
        clock_interval_min: args.clock_interval,
        zwd_constraint_m_per_h: args.zwd_constraint,
        clock_constraint_s_per_h: args.clock_constraint,
        same_beam: !args.no_same_beam,
        ambiguity_max_cycles: args.ambiguity_max_cycles,
        datum: solve::Datum::parse(&args.datum).map_err(failure)?,
    };
    let sol = solve::solve(&job, &read, &opts).map_err(failure)?;
    let text = if args.format == "json" {
        output::to_json(&sol)
    } else {
        output::to_text(&sol)
    };
    match &args.out {
        Some(p) => std::fs::write(p, &text)
            .map_err(|e| Failure::Io(format!("{}: write failed: {e}", p.display())))?,
        None => print_stdout(&text)?,
    }
    if sol.rank_deficient() {
        let names: Vec<&str> = sol.not_estimated.iter().map(|n| n.name.as_str()).collect();
        return Err(Failure::Incomplete(format!(
            "solve: {} parameter(s) could not be estimated and were held at their a priori: {} (see not_estimated)",
            names.len(),
            names.join(", ")
        )));
    }
    Ok(())
}
