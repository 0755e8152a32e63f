//! `emcorr plot`: fringe plot of a baseline, autocorrelation spectra,
//! phase-cal tones, or a solve's residuals, as PNG (library: `tools::plot`).

use crate::cli::fringe::{read_file, search_window};
use crate::failure::Failure;
use crate::fringe::{scans_from_idi, FitOptions};
use crate::plot;
use std::path::{Path, PathBuf};

/// Plot a correlator output: the fringe of one baseline over one scan
/// (delay–rate map, amplitude and phase against frequency and time after the
/// fit), with --spectra the autocorrelation spectrum of every station, or with
/// --pcal the phase-cal tones of every station (phase against frequency and
/// against time), or with --residuals SOLVE.json the post-fit residuals of
/// `emcorr solve --format json` against time, one row per baseline (group
/// delays left, same-beam phase delays right; flagged points red ×, error
/// bars ±σ).
#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// FITS-IDI file written by `emcorr correlate` (not with --residuals).
    #[arg(required_unless_present = "residuals", conflicts_with = "residuals")]
    pub file: Option<PathBuf>,
    /// Plot the residuals of a solve (`emcorr solve --format json` output).
    #[arg(long, value_name = "SOLVE.json", conflicts_with_all = ["spectra", "pcal", "baseline"])]
    pub residuals: Option<PathBuf>,
    /// Baseline to plot, "A-B" (either order).
    #[arg(
        long,
        required_unless_present_any = ["spectra", "pcal", "residuals"],
        conflicts_with_all = ["spectra", "pcal"]
    )]
    pub baseline: Option<String>,
    /// Scan number (1-based, as in `emcorr fringe` output; default: the first
    /// scan of the baseline).
    #[arg(long)]
    pub scan: Option<usize>,
    /// Source (phase centre) to plot, as in the SOURCE table (default: the
    /// scan's first; a same-beam scan has several).
    #[arg(long, conflicts_with = "spectra")]
    pub source: Option<String>,
    /// Plot autocorrelation spectra per station instead of a fringe.
    #[arg(long, conflicts_with = "pcal")]
    pub spectra: bool,
    /// Plot the phase-cal tones (PHASE-CAL table) per station instead of a
    /// fringe: phase against sky frequency (colour: time) and against time
    /// per tone (colour: frequency).
    #[arg(long)]
    pub pcal: bool,
    /// Residual delay window MIN,MAX in seconds, as for `emcorr fringe`.
    #[arg(long, value_name = "MIN,MAX", allow_hyphen_values = true)]
    pub delay_window: Option<String>,
    /// Residual delay-rate window MIN,MAX in s/s.
    #[arg(long, value_name = "MIN,MAX", allow_hyphen_values = true)]
    pub rate_window: Option<String>,
    /// Polarisation product, 1-based index into the file's Stokes axis.
    #[arg(long, default_value_t = 1)]
    pub stokes: usize,
    /// Output PNG (default: beside the input, named after it and the plot).
    #[arg(short = 'o', long, value_name = "FILE.png")]
    pub out: Option<PathBuf>,
}

fn default_out(input: &Path, what: &str) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or("emcorr".into(), |s| s.to_string_lossy().into_owned());
    input.with_file_name(format!("{stem}_{what}.png"))
}

fn plot_err(e: plot::PlotError) -> Failure {
    match e {
        plot::PlotError::Input(m) => Failure::BadInput(m),
        plot::PlotError::Draw { .. } => Failure::Io(e.to_string()),
        plot::PlotError::Font => Failure::Internal(e.to_string()),
    }
}

pub fn run(args: PlotArgs) -> Result<(), Failure> {
    if args.stokes == 0 {
        return Err(Failure::BadInput("--stokes is 1-based".into()));
    }
    if let Some(out) = &args.out {
        // The image encoder picks the format from the name's extension; say
        // so up front rather than after the work, as an unsupported format.
        let png = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if !png {
            return Err(Failure::BadInput(format!(
                "--out {}: plots are PNG files: give a name ending in .png",
                out.display()
            )));
        }
    }
    if let Some(sol) = &args.residuals {
        let text = std::fs::read_to_string(sol)
            .map_err(|e| Failure::Io(format!("{}: {e}", sol.display())))?;
        let points = plot::read_residuals(&text, sol).map_err(plot_err)?;
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| default_out(sol, "residuals"));
        let title = format!("{} — post-fit residuals", sol.display());
        plot::draw_residuals(&out, &title, &points).map_err(plot_err)?;
        eprintln!("wrote {}", out.display());
        return Ok(());
    }
    // clap requires FILE without --residuals.
    let input = args.file.clone().expect("FILE without --residuals");
    if args.pcal {
        // The PHASE-CAL table only: the visibilities are not read.
        let (header, points) = crate::cli::pcal::read_points(&input)?;
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| default_out(&input, "pcal"));
        let title = format!("{} — phase-cal tones", header.obscode);
        plot::draw_pcal(&out, &title, &points).map_err(plot_err)?;
        eprintln!("wrote {}", out.display());
        return Ok(());
    }
    let file = read_file(&input)?;
    let name = input.display().to_string();
    if args.spectra {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| default_out(&input, "spectra"));
        let spectra = plot::autospectra(&file);
        let title = format!("{} — autocorrelation spectra", file.header.obscode);
        plot::draw_spectra(&out, &title, &spectra).map_err(plot_err)?;
        eprintln!("wrote {}", out.display());
        return Ok(());
    }
    let baseline = args.baseline.clone().unwrap_or_default();
    let (a, b) = baseline
        .split_once('-')
        .ok_or_else(|| Failure::BadInput(format!("--baseline {baseline:?}: expected A-B")))?;
    let pieces = scans_from_idi(&file, args.stokes - 1)
        .map_err(|e| Failure::BadInput(format!("{name}: {e}")))?;
    let same = |x: &str, y: &str| x.eq_ignore_ascii_case(y);
    let piece = pieces
        .iter()
        .filter(|p| {
            (same(&p.data.station_a, a) && same(&p.data.station_b, b))
                || (same(&p.data.station_a, b) && same(&p.data.station_b, a))
        })
        .filter(|p| args.source.as_ref().is_none_or(|s| *s == p.source))
        .find(|p| args.scan.is_none_or(|s| s == p.scan))
        .ok_or_else(|| {
            Failure::BadInput(format!(
                "{name}: no data for baseline {baseline}{}{}",
                args.source
                    .as_ref()
                    .map_or(String::new(), |s| format!(" of source {s:?}")),
                args.scan.map_or(String::new(), |s| format!(" in scan {s}"))
            ))
        })?;
    let opts = FitOptions {
        window: search_window(args.delay_window.as_deref(), args.rate_window.as_deref())?,
        ..FitOptions::default()
    };
    let title = format!(
        "{} — {} scan {}{} ({})",
        file.header.obscode,
        piece.data.baseline(),
        piece.scan,
        piece
            .scan_name
            .as_ref()
            .map_or(String::new(), |n| format!(" {n}")),
        piece.source
    );
    let data = plot::plot_fringe(&piece.data, &opts, &title)
        .map_err(|e| Failure::BadInput(format!("{name}: {e}")))?;
    let out = args.out.clone().unwrap_or_else(|| {
        default_out(
            &input,
            &match &args.source {
                // Two phase centres of one scan must not overwrite each other.
                Some(src) => format!("{}_scan{}_{src}", piece.data.baseline(), piece.scan),
                None => format!("{}_scan{}", piece.data.baseline(), piece.scan),
            },
        )
    });
    plot::draw_fringe_plot(&out, &data).map_err(plot_err)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
