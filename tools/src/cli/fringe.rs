//! `emcorr fringe`: fringe-fit a FITS-IDI file (library: `tools::fringe`).

use crate::failure::Failure;
use crate::fringe::{self, output, RunOptions, SearchWindow};
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    Radiometer,
    Empirical,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subbands {
    /// One row per scan × source × baseline, all subbands fitted together.
    All,
    /// That row, then one row per subband fitted alone.
    Each,
}

/// Fringe-fit every scan, source and baseline of a correlator output: group
/// and single-band delays, delay rate, phase, amplitude, SNR, formal errors,
/// probability of false detection, and total delay and rate (residual + the
/// file's a-priori model). Scans are the file's EMCORR_SCAN table (named),
/// else cut at source changes and gaps. Residuals are of the second station
/// relative to the first (see README, "emcorr fringe").
#[derive(clap::Args, Debug)]
pub struct FringeArgs {
    /// FITS-IDI file written by `emcorr correlate`.
    pub file: PathBuf,
    /// Output format: CSV (header line first) or a JSON array.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Solution interval in seconds (default: one solution per scan).
    #[arg(long, value_name = "SECONDS")]
    pub solint: Option<f64>,
    /// Station whose arrival time labels the reference epoch of the total
    /// observables (default: the first station of each baseline); also the
    /// reference station of --manual-pcal, whose terms are held at 0
    /// (default there: the calibrator scan's first station).
    #[arg(long = "ref", value_name = "STATION")]
    pub ref_station: Option<String>,
    /// Fit all subbands together, or also each alone.
    #[arg(long, value_enum, default_value_t = Subbands::All)]
    pub subbands: Subbands,
    /// Residual delay window MIN,MAX in seconds (default: the whole
    /// unambiguous range, at least ±0.5 µs).
    #[arg(long, value_name = "MIN,MAX", allow_hyphen_values = true)]
    pub delay_window: Option<String>,
    /// Residual delay-rate window MIN,MAX in s/s (default: the whole
    /// unambiguous range).
    #[arg(long, value_name = "MIN,MAX", allow_hyphen_values = true)]
    pub rate_window: Option<String>,
    /// Probability of false detection below which a fringe counts as detected.
    #[arg(long, default_value_t = 1e-4)]
    pub pfd_threshold: f64,
    /// Noise level behind SNR and errors: the radiometer equation (data are
    /// correlation coefficients) or the rms of the fit residuals.
    #[arg(long, value_enum, default_value_t = Noise::Radiometer)]
    pub noise: Noise,
    /// Polarisation product, 1-based index into the file's Stokes axis.
    #[arg(long, default_value_t = 1)]
    pub stokes: usize,
    /// Same-beam differential observables instead of the fringe rows:
    /// source A − source B (names as in the SOURCE table) per scan and
    /// baseline where both have fringes: group delay, phase, rate and their
    /// errors.
    #[arg(long, value_name = "A,B")]
    pub differential: Option<String>,
    /// Manual phase-cal: fit each station's phase and single-band delay per
    /// subband on scan SCAN (a strong calibrator; its EMCORR_SCAN name or
    /// 1-based number), relative to the reference station (--ref), and
    /// remove them from every scan before fitting. The terms go to
    /// standard error (CSV) or the `manual_pcal` object (JSON).
    #[arg(long, value_name = "SCAN")]
    pub manual_pcal: Option<String>,
    /// Phase-cal: remove each station's phase and delay per subband, read
    /// from the file's PHASE-CAL tones (phase at the subband's first
    /// channel, delay from the tones' phase slope), interpolated in time.
    /// Stations without tones are left as they are (a warning names them).
    /// With --manual-pcal too, the tones go first and the calibrator scan
    /// gives terms only to stations without tones (the reference must have
    /// tones): baselines between toned stations keep absolute delays,
    /// those with an untoned station give delays relative to the
    /// calibrator's.
    #[arg(long)]
    pub pcal: bool,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// "A,B" → (A, B), two non-empty source names (blanks around them dropped).
fn parse_pair(text: &str) -> Result<(String, String), Failure> {
    let bad = || {
        Failure::BadInput(format!(
            "--differential {text:?}: expected A,B (two source names)"
        ))
    };
    let (a, b) = text.split_once(',').ok_or_else(bad)?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() || b.contains(',') {
        return Err(bad());
    }
    Ok((a.to_string(), b.to_string()))
}

/// The search window of `--delay-window` and `--rate-window` (each
/// "MIN,MAX", or absent for the whole range).
pub(crate) fn search_window(
    delay: Option<&str>,
    rate: Option<&str>,
) -> Result<SearchWindow, Failure> {
    Ok(SearchWindow {
        delay_s: delay.map(|t| parse_range("delay-window", t)).transpose()?,
        rate: rate.map(|t| parse_range("rate-window", t)).transpose()?,
    })
}

/// "MIN,MAX" → (min, max), min < max.
fn parse_range(flag: &str, text: &str) -> Result<(f64, f64), Failure> {
    let bad = || {
        Failure::BadInput(format!(
            "--{flag} {text:?}: expected MIN,MAX (two numbers, MIN < MAX)"
        ))
    };
    let (a, b) = text.split_once(',').ok_or_else(bad)?;
    let a: f64 = a.trim().parse().map_err(|_| bad())?;
    let b: f64 = b.trim().parse().map_err(|_| bad())?;
    if !(a.is_finite() && b.is_finite() && a < b) {
        return Err(bad());
    }
    Ok((a, b))
}

/// Read a correlator output. As for VDIF input, a file that is missing,
/// not FITS-IDI, damaged or truncated is bad input (exit 2); only a file
/// the system will not let us read (permissions, a device error on open)
/// is an I/O failure (exit 3). Once the file opens, whatever cfitsio
/// refuses is taken as the file's content (cfitsio reports a file cut
/// short as a read error).
pub(crate) fn read_file(path: &std::path::Path) -> Result<formats::fitsidi::IdiFile, Failure> {
    if let Err(e) = std::fs::File::open(path) {
        let m = format!("{}: cannot open: {e}", path.display());
        return Err(match e.kind() {
            std::io::ErrorKind::NotFound => Failure::BadInput(m),
            _ => Failure::Io(m),
        });
    }
    formats::fitsidi::read_idi(path).map_err(|e| match e {
        formats::fitsidi::IdiError::Io { .. } => Failure::Io(e.to_string()),
        _ => Failure::BadInput(e.to_string()),
    })
}

/// The station terms of a file's PHASE-CAL table.
fn pcal_table(
    path: &std::path::Path,
    file: &formats::fitsidi::IdiFile,
) -> Result<fringe::StationCal, Failure> {
    let rows = formats::fitsidi::read_pcal(path).map_err(|e| match e {
        formats::fitsidi::IdiError::Io { .. } => Failure::Io(e.to_string()),
        _ => Failure::BadInput(e.to_string()),
    })?;
    if rows.is_empty() {
        return Err(Failure::BadInput(format!(
            "{}: --pcal: the file has no PHASE-CAL table",
            path.display()
        )));
    }
    let h = &file.header;
    let subbands = fringe::idi_subbands(h);
    let bandwidth: Vec<f64> = subbands
        .iter()
        .map(|s| s.n_chan() as f64 * s.chan_bw_hz)
        .collect();
    let readings =
        fringe::calibration::pcal::readings_from_rows(&rows, &h.stokes, &bandwidth, |n| {
            fringe::antenna_name(h, n)
        });
    let ref_freq: Vec<f64> = subbands
        .iter()
        .map(|s| s.chan_freq_hz.first().copied().unwrap_or(0.0))
        .collect();
    fringe::calibration::from_tones(&readings, &ref_freq)
        .map_err(|e| Failure::BadInput(format!("{}: --pcal: {e}", path.display())))
}

pub fn run(args: FringeArgs) -> Result<(), Failure> {
    if args.solint.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        return Err(Failure::BadInput(
            "--solint must be a positive number of seconds".into(),
        ));
    }
    if args.stokes == 0 {
        return Err(Failure::BadInput("--stokes is 1-based".into()));
    }
    if !(args.pfd_threshold > 0.0 && args.pfd_threshold < 1.0) {
        return Err(Failure::BadInput(
            "--pfd-threshold must lie in (0, 1)".into(),
        ));
    }
    let window = search_window(args.delay_window.as_deref(), args.rate_window.as_deref())?;
    let pair = args.differential.as_deref().map(parse_pair).transpose()?;
    let file = read_file(&args.file)?;
    let opts = RunOptions {
        fit: fringe::FitOptions {
            window,
            pfd_threshold: args.pfd_threshold,
            noise: match args.noise {
                Noise::Radiometer => fringe::NoiseModel::Radiometer,
                Noise::Empirical => fringe::NoiseModel::Empirical,
            },
        },
        solint_s: args.solint,
        ref_station: args.ref_station.clone(),
        each_subband: args.subbands == Subbands::Each,
        stokes: args.stokes - 1,
        manual_pcal: args.manual_pcal.clone(),
        pcal: if args.pcal {
            Some(pcal_table(&args.file, &file)?)
        } else {
            None
        },
    };

    let bad = |e: fringe::RunError| Failure::BadInput(format!("{}: {e}", args.file.display()));
    let text = match &pair {
        None => {
            let (rows, manual, missing) =
                fringe::fringe_file_calibrated(&file, &opts).map_err(bad)?;
            for (station, b) in &missing {
                eprintln!(
                    "warning: {}: no calibration for station {station}, subband {}: left uncorrected",
                    args.file.display(),
                    b + 1
                );
            }
            match (args.format, manual) {
                (Format::Csv, manual) => {
                    if let Some(m) = &manual {
                        eprint!("{}", output::manual_pcal_text(m));
                    }
                    output::to_csv(&rows)
                }
                (Format::Json, None) => output::to_json(&rows),
                (Format::Json, Some(m)) => output::manual_pcal_json(&m, &rows),
            }
        }
        Some((a, b)) => {
            let rows = fringe::differential_file(&file, &opts, a, b).map_err(bad)?;
            match args.format {
                Format::Csv => output::to_csv(&rows),
                Format::Json => output::to_json(&rows),
            }
        }
    };
    match &args.out {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| Failure::Io(format!("{}: cannot write: {e}", p.display()))),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .or_else(|e| {
                    // A closed pipe (e.g. `| head`) is not a failure.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| Failure::Io(format!("standard output: {e}")))
        }
    }
}
