//! Autocorrelation spectra per station: the time-averaged power spectrum of
//! each parallel-hand polarisation in every subband, one panel per station.
//! Shows the bandpass, dead or saturated channels and RFI at a glance.

use super::{draw_err, register_font, PlotError};
use crate::fringe::idi_subbands;
use formats::fitsidi::IdiFile;
use plotters::prelude::*;
use std::path::Path;

/// One station's time-averaged autocorrelation spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoSpectrum {
    pub station: String,
    /// Polarisation labels ("RR", "LL", ...), parallel hands only.
    pub pols: Vec<String>,
    /// Sky frequency (Hz) of each channel, per subband.
    pub freq_hz: Vec<Vec<f64>>,
    /// `power[pol][subband][chan]`: weighted mean |V| over the file (NaN where
    /// every integration is flagged).
    pub power: Vec<Vec<Vec<f64>>>,
}

/// AIPS polarisation code → label; `None` for cross hands.
fn parallel_label(code: i32) -> Option<&'static str> {
    match code {
        1 => Some("I"),
        -1 => Some("RR"),
        -2 => Some("LL"),
        -5 => Some("XX"),
        -6 => Some("YY"),
        _ => None,
    }
}

/// Average the autocorrelation rows (a1 = a2) of a file, per station.
pub fn autospectra(file: &IdiFile) -> Vec<AutoSpectrum> {
    let h = &file.header;
    let subbands = idi_subbands(h);
    let (nsb, nch, nst) = (subbands.len(), h.n_chan, h.stokes.len());
    let pols: Vec<(usize, &str)> = h
        .stokes
        .iter()
        .enumerate()
        .filter_map(|(i, &c)| parallel_label(c).map(|l| (i, l)))
        .collect();
    let mut out = Vec::new();
    for ant in &h.antennas {
        let mut sum = vec![vec![vec![(0.0f64, 0.0f64); nch]; nsb]; pols.len()];
        let mut any = false;
        for r in file.rows.iter().filter(|r| r.baseline == (ant.id, ant.id)) {
            any = true;
            for (pi, &(s, _)) in pols.iter().enumerate() {
                for (b, sb_sum) in sum[pi].iter_mut().enumerate() {
                    for (k, acc) in sb_sum.iter_mut().enumerate() {
                        let [re, im, w] = r.vis[(b * nch + k) * nst + s];
                        if w > 0.0 && re.is_finite() && im.is_finite() {
                            acc.0 += w as f64 * (re as f64).hypot(im as f64);
                            acc.1 += w as f64;
                        }
                    }
                }
            }
        }
        if !any {
            continue;
        }
        out.push(AutoSpectrum {
            station: ant.name.clone(),
            pols: pols.iter().map(|p| p.1.to_string()).collect(),
            freq_hz: subbands.iter().map(|s| s.chan_freq_hz.clone()).collect(),
            power: sum
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|sb| {
                            sb.iter()
                                .map(|&(s, w)| if w > 0.0 { s / w } else { f64::NAN })
                                .collect()
                        })
                        .collect()
                })
                .collect(),
        });
    }
    out
}

/// Draw one panel per station to a PNG file.
pub fn draw_spectra(path: &Path, title: &str, spectra: &[AutoSpectrum]) -> Result<(), PlotError> {
    if spectra.is_empty() {
        return Err(PlotError::Input(
            "the file has no autocorrelations to plot".into(),
        ));
    }
    register_font()?;
    let e = draw_err(path);
    let panel_h = 300u32;
    let root =
        BitMapBackend::new(path, (1400, 70 + panel_h * spectra.len() as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let root = root
        .titled(title, ("sans-serif", 26).into_font().style(FontStyle::Bold))
        .map_err(&e)?;
    let rows = root.split_evenly((spectra.len(), 1));
    let colours = [
        RGBColor(30, 80, 180),
        RGBColor(200, 60, 40),
        RGBColor(30, 140, 60),
        RGBColor(140, 60, 160),
    ];
    for (row, sp) in rows.iter().zip(spectra) {
        let finite = || {
            sp.power
                .iter()
                .flatten()
                .flatten()
                .cloned()
                .filter(|v| v.is_finite())
        };
        let ymax = finite().fold(0.0, f64::max).max(1e-300) * 1.15;
        let row = row
            .titled(
                &format!("{}: autocorrelation spectrum", sp.station),
                ("sans-serif", 18),
            )
            .map_err(&e)?;
        // One column per subband (the first wider by its axis labels), so that
        // gaps between subbands take no room.
        let n_sb = sp.freq_hz.len();
        let full_w = row.dim_in_pixel().0 as i32;
        let col_w = (full_w - 75) / n_sb as i32;
        let mut rest = row.clone();
        for b in 0..n_sb {
            let first = b == 0;
            let (col, r) = if b + 1 < n_sb {
                rest.split_horizontally(col_w + if first { 75 } else { 0 })
            } else {
                (rest.clone(), rest.clone())
            };
            rest = r;
            let f = &sp.freq_hz[b];
            let fl = f.iter().cloned().fold(f64::INFINITY, f64::min) * 1e-6;
            let fh = f.iter().cloned().fold(f64::NEG_INFINITY, f64::max) * 1e-6;
            let pad = ((fh - fl) * 0.03).max(1e-6);
            let mut chart = ChartBuilder::on(&col)
                .margin(6)
                .x_label_area_size(42)
                .y_label_area_size(if first { 75 } else { 0 })
                .build_cartesian_2d(fl - pad..fh + pad, 0.0..ymax)
                .map_err(&e)?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc("sky frequency (MHz)")
                .x_labels(3)
                .y_labels(6)
                .label_style(("sans-serif", 14))
                .axis_desc_style(("sans-serif", 16))
                .light_line_style(WHITE.mix(0.0));
            if first {
                mesh.y_desc("power (normalised)");
            }
            mesh.draw().map_err(&e)?;
            for (pi, pol) in sp.pols.iter().enumerate() {
                let c = colours[pi % colours.len()];
                // LSB subbands run downwards in frequency: sort for the line.
                let mut pts: Vec<(f64, f64)> = f
                    .iter()
                    .zip(&sp.power[pi][b])
                    .filter(|(_, p)| p.is_finite())
                    .map(|(&f, &p)| (f * 1e-6, p))
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let series = chart
                    .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                    .map_err(&e)?;
                if b + 1 == n_sb {
                    series.label(pol.clone()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                    });
                }
            }
            if b + 1 == n_sb {
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 15))
                    .position(SeriesLabelPosition::LowerRight)
                    .draw()
                    .map_err(&e)?;
            }
        }
    }
    root.present().map_err(&e)?;
    Ok(())
}
