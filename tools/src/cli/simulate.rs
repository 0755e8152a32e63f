//! `emcorr simulate`: write synthetic recordings, a job and the truth.

use crate::failure::Failure;
use crate::simulate::{self, scenario::Scenario, Options, SimError};
use std::path::PathBuf;

/// Write synthetic VDIF recordings of a scenario with known truth.
///
/// Writes `DIR/<STATION>.vdif` for every station, DIR/job.toml (ready for
/// `emcorr correlate`, its model without the injected clock errors) and
/// DIR/truth.json (injected clock errors, residual delays, rates and phases
/// per baseline, expected correlation amplitudes). A session scenario
/// (`[[scan]]` tables) writes `DIR/<STATION>_<SCAN>.vdif` per scan and station
/// instead, and truth per scan, source and baseline. Without SCENARIO, runs
/// the built-in Earth–Moon scenario (Tianma, Kunming, Urumqi and a lunar
/// south-pole station observing PKS 1921−293 at X band).
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Scenario file (a job file plus `[simulation]` keys); default: built-in.
    pub scenario: Option<PathBuf>,
    /// Output directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Simulated duration in seconds (overrides the scenario's job.duration_s;
    /// in a session, cuts every longer scan to its first S seconds).
    #[arg(long, value_name = "S")]
    pub seconds: Option<f64>,
    /// Random seed (overrides `[simulation]` seed); same seed, same bytes.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Create named pipes instead of files and stream into them (start the
    /// reader, e.g. `emcorr correlate DIR/job.toml`, alongside). Not for
    /// sessions, which are written as files.
    #[arg(long)]
    pub fifo: bool,
    /// For a session: also write its schedule as a VEX 2.0 file
    /// (`<job name>.vex`) and `job_vex.toml`, a job that correlates the same
    /// session from it.
    #[arg(long)]
    pub vex: bool,
    /// For a session: write the fringe rows a perfect correlator would give
    /// (DIR/fringe.json, as `emcorr fringe --format json`), the a-priori
    /// DIR/job.toml and DIR/truth.json (true values under `emcorr solve`'s
    /// parameter names) instead of recordings; σ from the radiometric
    /// closed form, noise from --seed.
    #[arg(long, conflicts_with_all = ["fifo", "vex", "seconds"])]
    pub observables: bool,
    /// Write the default scenario to stdout and exit.
    #[arg(long, conflicts_with = "scenario")]
    pub print_default: bool,
}

pub fn run(args: SimulateArgs) -> Result<(), Failure> {
    if args.print_default {
        print!("{}", simulate::scenario::DEFAULT_SCENARIO);
        return Ok(());
    }
    let mut sc = match &args.scenario {
        Some(p) => Scenario::from_file(p),
        None => Scenario::default_scenario(),
    }
    .map_err(|e| Failure::BadInput(e.to_string()))?;
    if let Some(s) = args.seconds {
        sc.set_seconds(s)
            .map_err(|e| Failure::BadInput(e.to_string()))?;
    }
    if let Some(s) = args.seed {
        sc.set_seed(s);
    }
    if args.observables {
        let sum =
            simulate::observables::simulate_observables(&sc, &args.out).map_err(|e| match e {
                SimError::Io { .. } => Failure::Io(e.to_string()),
                _ => Failure::BadInput(e.to_string()),
            })?;
        println!("{} ({} rows)", sum.fringe.display(), sum.rows);
        println!("{}", sum.job.display());
        println!("{}", sum.truth.display());
        return Ok(());
    }
    let opts = Options {
        fifo: args.fifo,
        vex: args.vex,
    };
    simulate::check_options(&sc, opts).map_err(|e| Failure::BadInput(e.to_string()))?;
    if args.fifo {
        eprintln!(
            "emcorr simulate: writing {} and truth.json, then streaming into one FIFO per \
             station (read them all concurrently)",
            args.out.join("job.toml").display()
        );
    }
    let summary = simulate::simulate(&sc, &args.out, opts).map_err(|e| match e {
        SimError::Io { .. } => Failure::Io(e.to_string()),
        _ => Failure::BadInput(e.to_string()),
    })?;
    for (name, path, first, frames) in &summary.stations {
        println!(
            "{name}: {} ({frames} frames per thread from {first})",
            path.display()
        );
    }
    println!("{}", summary.job.display());
    println!("{}", summary.truth.display());
    Ok(())
}
