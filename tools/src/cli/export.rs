//! `emcorr export FRINGE.json --format ngs|vso --job JOB.toml [--out FILE]`:
//! the total observables of `emcorr fringe --format json` in a geodetic
//! solver's format (library: `tools::export`; see README, "emcorr export").

use crate::export::{self, Export, ExportError};
use crate::failure::Failure;
use correlator::job::Job;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// NGS card file (νSolve, Where, VieVS).
    Ngs,
    /// VieVS simple observation file (.vso).
    Vso,
}

/// Write the total group delays (and, in NGS, rates, correlation
/// coefficients and SNR) of `emcorr fringe --format json` output as an NGS
/// card file or a VieVS VSO file. Station and source positions come from
/// the job; lunar stations and near-field sources are placed at their first
/// observation with the job's `[model]` (see README, "emcorr export").
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Output of `emcorr fringe --format json` (several documents may be
    /// concatenated; `--manual-pcal` objects are read for their rows).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// The job the FITS file was correlated from (stations, sources, model).
    #[arg(long, value_name = "JOB.toml")]
    pub job: PathBuf,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn failure(e: ExportError) -> Failure {
    if e.is_io() {
        Failure::Io(e.to_string())
    } else {
        Failure::BadInput(e.to_string())
    }
}

pub fn run(args: ExportArgs) -> Result<(), Failure> {
    let job = Job::from_file(&args.job).map_err(|e| Failure::BadInput(e.to_string()))?;
    let rows = export::read_rows(&args.file).map_err(failure)?;
    let obs = export::observations(&args.file, &rows, &job).map_err(failure)?;
    if obs.subband_rows_skipped > 0 {
        eprintln!(
            "emcorr: warning: {}: {} single-subband rows left out (the combined rows are the observables)",
            args.file.display(),
            obs.subband_rows_skipped
        );
    }
    let catalogue = export::catalogue(&job, &obs.list).map_err(failure)?;
    let (width, what) = match args.format {
        Format::Ngs => (8, "NGS"),
        Format::Vso => (8, "VSO"),
    };
    let mut long: Vec<String> = export::truncated(
        catalogue
            .sites
            .iter()
            .map(|s| job.stations[s.station].name.as_str()),
        width,
    );
    if args.format == Format::Ngs {
        long.extend(export::truncated(
            catalogue
                .sources
                .iter()
                .map(|s| job.sources[s.source].name.as_str()),
            width,
        ));
    }
    if !long.is_empty() {
        eprintln!(
            "emcorr: warning: {what} names hold {width} characters: {} cut to {width}",
            long.join(", ")
        );
    }
    let x = Export {
        job: &job,
        fringe_file: args.file.clone(),
        obs: &obs.list,
        catalogue: &catalogue,
    };
    let text = match args.format {
        Format::Ngs => export::ngs::write(&x),
        Format::Vso => export::vso::write(&x),
    }
    .map_err(failure)?;
    match &args.out {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| Failure::Io(format!("{}: cannot write: {e}", p.display()))),
        None => crate::failure::print_stdout(&text),
    }
}
