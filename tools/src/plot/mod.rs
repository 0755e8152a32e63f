//! PNG plots with plotters' bitmap backend and an embedded font (DejaVu Sans,
//! `tools/assets/`, Bitstream Vera licence beside it): no system fonts needed.
//!
//! - [`fringe_plot`]: one baseline over one scan — delay–rate amplitude map,
//!   amplitude and phase against frequency and against time after the fit.
//! - [`spectra`]: autocorrelation spectra per station.
//! - [`pcal_plot`]: phase-cal tone phases per station, against frequency and
//!   time.
//! - [`residual_plot`]: post-fit residuals of `emcorr solve` against time
//!   per baseline.

pub mod fringe_plot;
pub mod pcal_plot;
pub mod residual_plot;
pub mod spectra;

use plotters::style::{FontStyle, RGBColor};
use std::sync::Once;

pub use fringe_plot::{draw_fringe_plot, plot_fringe, FringePlotData};
pub use pcal_plot::draw_pcal;
pub use residual_plot::{draw_residuals, read_residuals};
pub use spectra::{autospectra, draw_spectra, AutoSpectrum};

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Why a plot could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    #[error("{path}: cannot draw the plot: {message}")]
    Draw { path: String, message: String },
    #[error("the embedded font could not be loaded")]
    Font,
    #[error("{0}")]
    Input(String),
}

/// Register the embedded font as "sans-serif" (once per process).
pub fn register_font() -> Result<(), PlotError> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            if plotters::style::register_font("sans-serif", style, DEJAVU_SANS).is_err() {
                result = Err(PlotError::Font);
            }
        }
    });
    result
}

/// Colour of a value in [0, 1]: dark blue through violet and red to pale
/// yellow, brightness increasing monotonically (readable in grey too).
pub fn heat_colour(x: f64) -> RGBColor {
    const STOPS: [(f64, [f64; 3]); 5] = [
        (0.0, [15.0, 15.0, 50.0]),
        (0.3, [70.0, 30.0, 130.0]),
        (0.55, [180.0, 50.0, 110.0]),
        (0.8, [245.0, 130.0, 50.0]),
        (1.0, [252.0, 240.0, 150.0]),
    ];
    let x = if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let i = STOPS
        .iter()
        .rposition(|s| s.0 <= x)
        .unwrap_or(0)
        .min(STOPS.len() - 2);
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let f = (x - a.0) / (b.0 - a.0);
    let c = |k: usize| (a.1[k] + f * (b.1[k] - a.1[k])).round() as u8;
    RGBColor(c(0), c(1), c(2))
}

/// A drawing error with the file it was for.
pub(crate) fn draw_err<E: std::fmt::Display>(
    path: &std::path::Path,
) -> impl Fn(E) -> PlotError + '_ {
    move |e| PlotError::Draw {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}
