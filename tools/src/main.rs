//! The `emcorr` binary: parse the command line, run one subcommand, map its
//! failure to a documented exit code (see `tools::failure`).

use clap::Parser;
use std::process::ExitCode;
use tools::cli::Cli;

fn main() -> ExitCode {
    // A panic is a bug: one line and the documented exit code 1, not Rust's 101.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("emcorr: internal error (a bug, please report it): {info}");
        std::process::exit(1);
    }));
    let cli = Cli::parse();
    match tools::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("emcorr: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}
