//! Phase-cal tones per station (`emcorr plot --pcal`): one row per station,
//! with the phase of every tone against sky frequency (points coloured by
//! time: a slope is an instrumental delay, a jump between bands a phase
//! offset) and against time, one line per tone (coloured by frequency: a
//! slope is a drift).

use super::{draw_err, heat_colour, register_font, PlotError};
use crate::pcal::PcalPoint;
use plotters::prelude::*;
use std::f64::consts::PI;
use std::path::Path;

/// Image width (pixels).
pub const PCAL_WIDTH: u32 = 1400;
/// Height of one station's row; the image is 70 + this × stations high.
pub const PCAL_ROW_HEIGHT: u32 = 320;

/// Draw the tones of `points` (any number of stations) to a PNG file.
pub fn draw_pcal(path: &Path, title: &str, points: &[PcalPoint]) -> Result<(), PlotError> {
    let mut stations: Vec<&str> = Vec::new();
    for p in points {
        if !stations.contains(&p.station.as_str()) {
            stations.push(&p.station);
        }
    }
    if stations.is_empty() {
        return Err(PlotError::Input("no phase-cal tones to plot".into()));
    }
    register_font()?;
    let e = draw_err(path);
    let root = BitMapBackend::new(
        path,
        (PCAL_WIDTH, 70 + PCAL_ROW_HEIGHT * stations.len() as u32),
    )
    .into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let root = root
        .titled(title, ("sans-serif", 26).into_font().style(FontStyle::Bold))
        .map_err(&e)?;
    let t0 = points
        .iter()
        .map(|p| p.time)
        .min_by(|a, b| a.seconds_since(*b).total_cmp(&0.0));
    let t0 = t0.expect("points is not empty");
    let secs = |p: &PcalPoint| p.time.seconds_since(t0);
    let t_max = points.iter().map(secs).fold(0.0, f64::max).max(1e-3);
    let f_lo = points
        .iter()
        .map(|p| p.sky_freq_hz)
        .fold(f64::INFINITY, f64::min);
    let f_hi = points
        .iter()
        .map(|p| p.sky_freq_hz)
        .fold(f64::NEG_INFINITY, f64::max);
    let f_span = (f_hi - f_lo).max(1.0);
    let f_pad = f_span * 0.03;
    let rows = root.split_evenly((stations.len(), 1));
    for (row, st) in rows.iter().zip(&stations) {
        let mine: Vec<&PcalPoint> = points
            .iter()
            .filter(|p| p.station == *st && p.phase_rad.is_finite())
            .collect();
        let (left, right) = row.split_horizontally(PCAL_WIDTH / 2);

        // Phase against frequency, coloured by time.
        let mut chart = ChartBuilder::on(&left)
            .caption(
                format!("{st}: phase against sky frequency (colour: time)"),
                ("sans-serif", 17),
            )
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (f_lo - f_pad) * 1e-6..(f_hi + f_pad) * 1e-6,
                -PI * 1.05..PI * 1.05,
            )
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc("sky frequency (MHz)")
            .y_desc("phase (rad)")
            .x_labels(5)
            .y_labels(7)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(&e)?;
        chart
            .draw_series(mine.iter().map(|p| {
                let c = heat_colour(0.1 + 0.8 * secs(p) / t_max);
                Circle::new((p.sky_freq_hz * 1e-6, p.phase_rad), 3, c.filled())
            }))
            .map_err(&e)?;

        // Phase against time, one line per tone, coloured by frequency.
        let mut chart = ChartBuilder::on(&right)
            .caption(
                format!("{st}: phase against time per tone (colour: frequency)"),
                ("sans-serif", 17),
            )
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-t_max * 0.02..t_max * 1.02, -PI * 1.05..PI * 1.05)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .x_desc(format!("seconds after {}", t0.to_iso8601_digits(3)))
            .y_desc("phase (rad)")
            .x_labels(5)
            .y_labels(7)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(&e)?;
        let mut tones: Vec<(usize, &str, usize)> = Vec::new();
        for p in &mine {
            let k = (p.band, p.pol.as_str(), p.tone);
            if !tones.contains(&k) {
                tones.push(k);
            }
        }
        for (band, pol, tone) in tones {
            let mut pts: Vec<(f64, f64, f64)> = mine
                .iter()
                .filter(|p| p.band == band && p.pol == pol && p.tone == tone)
                .map(|p| (secs(p), p.phase_rad, p.sky_freq_hz))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let c = heat_colour(0.1 + 0.8 * (pts[0].2 - f_lo) / f_span);
            // Break the line where the phase wraps, so that no vertical
            // stroke crosses the panel.
            let mut run: Vec<(f64, f64)> = Vec::new();
            for (t, ph, _) in &pts {
                if let Some(&(_, last)) = run.last() {
                    if (ph - last).abs() > PI {
                        chart
                            .draw_series(LineSeries::new(
                                std::mem::take(&mut run),
                                c.stroke_width(2),
                            ))
                            .map_err(&e)?;
                    }
                }
                run.push((*t, *ph));
            }
            chart
                .draw_series(LineSeries::new(run, c.stroke_width(2)))
                .map_err(&e)?;
            chart
                .draw_series(
                    pts.iter()
                        .map(|&(t, ph, _)| Circle::new((t, ph), 2, c.filled())),
                )
                .map_err(&e)?;
        }
    }
    root.present().map_err(&e)?;
    Ok(())
}
