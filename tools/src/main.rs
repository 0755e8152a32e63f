//! The `emcorr` binary: parse the command line, run one subcommand, map its
//! failure to a documented exit code (see `tools::failure`).

use clap::Parser;
use std::process::ExitCode;
use tools::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match tools::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("emcorr: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}
