//! `emcorr pcal OUT.fits`: the phase-cal tones of a correlator output (its
//! PHASE-CAL table), one line or object per station, time, band,
//! polarisation and tone (library: `tools::pcal`).

use crate::failure::Failure;
use crate::pcal;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// Print the PHASE-CAL table: station, time (ISO 8601 UTC), band, pol,
/// tone, sky frequency (Hz), amplitude (rms units), phase (rad, atan2(im,
/// re)) and rate (s/s).
#[derive(clap::Args, Debug)]
pub struct PcalArgs {
    /// FITS-IDI file written by `emcorr correlate`.
    pub file: PathBuf,
    /// Output format on stdout: CSV with a header line, or a JSON array.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

/// The file's header and tones; a missing file or one without PHASE-CAL is
/// bad input (exit 2), an unreadable one an I/O failure (3).
pub(crate) fn read_points(
    path: &std::path::Path,
) -> Result<(formats::fitsidi::IdiHeader, Vec<pcal::PcalPoint>), Failure> {
    if let Err(e) = std::fs::File::open(path) {
        let m = format!("{}: cannot open: {e}", path.display());
        return Err(match e.kind() {
            std::io::ErrorKind::NotFound => Failure::BadInput(m),
            _ => Failure::Io(m),
        });
    }
    pcal::read(path).map_err(|e| {
        if e.is_io() {
            Failure::Io(e.to_string())
        } else {
            Failure::BadInput(e.to_string())
        }
    })
}

pub fn run(args: PcalArgs) -> Result<(), Failure> {
    let (_, points) = read_points(&args.file)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let io = |e: std::io::Error| Failure::Io(format!("stdout: {e}"));
    match args.format {
        Format::Csv => pcal::write_csv(&mut out, &points).map_err(io)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &pcal::to_json(&points))
                .map_err(|e| Failure::Io(format!("stdout: {e}")))?;
            writeln!(out).map_err(io)?;
        }
    }
    out.flush().map_err(io)
}
