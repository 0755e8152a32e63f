//! The `emcorr` binary: parse the command line, run one subcommand, map its
//! failure to a documented exit code (see `tools::failure`).

use clap::Parser;
use std::process::ExitCode;
use tools::cli::Cli;

fn main() -> ExitCode {
    // A panic is a bug: one line and the documented exit code 1, not Rust's 101.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "emcorr: internal error (a bug, please report it): {}{at}",
            what.replace('\n', " ")
        );
        std::process::exit(1);
    }));
    // Test hook (README, Reliability): prove a panic maps to exit 1.
    if std::env::var_os("EMCORR_TEST_PANIC").is_some() {
        panic!("EMCORR_TEST_PANIC is set");
    }
    let cli = Cli::parse();
    match tools::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // One write(2) for the whole line: under mpirun several ranks
            // share stderr, and eprintln! may write the prefix and the
            // message separately, letting another rank's line in between.
            let line = format!("emcorr: {}\n", failure.message());
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            ExitCode::from(failure.exit_code())
        }
    }
}
