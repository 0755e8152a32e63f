//! The command line: one module per subcommand, each a thin layer that parses
//! arguments and calls library code.

use crate::failure::Failure;
use clap::{Parser, Subcommand};

pub mod correlate;
pub mod demo;
pub mod dump;
pub mod export;
pub mod fringe;
pub mod inspect;
pub mod model;
pub mod pcal;
pub mod plot;
pub mod simulate;
pub mod solve;

/// emcorr: an Earth–Moon VLBI correlator.
#[derive(Parser, Debug)]
#[command(name = "emcorr", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate, correlate and fringe-fit the built-in Earth–Moon scenario.
    Demo(demo::DemoArgs),
    /// Summarise VDIF files: stations, threads, formats, time span, gaps.
    Inspect(inspect::InspectArgs),
    /// Print decoded samples of one VDIF thread and channel.
    Dump(dump::DumpArgs),
    /// Print the delay model of a job, station by station.
    Model(model::ModelArgs),
    /// Write synthetic recordings with known truth.
    Simulate(simulate::SimulateArgs),
    /// Correlate a job's recordings into FITS-IDI.
    Correlate(correlate::CorrelateArgs),
    /// Fringe-fit a correlator output: delays, rates, phases, SNR.
    Fringe(fringe::FringeArgs),
    /// Write fringe-fit observables as NGS cards or a VieVS VSO file.
    Export(export::ExportArgs),
    /// Print the phase-cal tones of a correlator output (its PHASE-CAL table).
    Pcal(pcal::PcalArgs),
    /// Estimate clocks and positions from fringe rows (weighted least squares).
    Solve(solve::SolveArgs),
    /// Plot fringes, spectra or phase-cal tones of a correlator output as PNG.
    Plot(plot::PlotArgs),
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Dump(a) => dump::run(a),
        Command::Model(a) => model::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Correlate(a) => correlate::run(a),
        Command::Fringe(a) => fringe::run(a),
        Command::Export(a) => export::run(a),
        Command::Pcal(a) => pcal::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Solve(a) => solve::run(a),
    }
}
