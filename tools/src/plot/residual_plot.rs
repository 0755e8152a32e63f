//! Post-fit residuals of `emcorr solve --format json` (`emcorr plot
//! --residuals SOLVE.json`): residual (ps) against time (hours after the
//! first observation), one row of panels per baseline, the group delays on
//! the left and, when the solve had any, the same-beam differential phase
//! delays on the right (their σ are ~30 times smaller: one axis would
//! hide them). Used observations are filled circles in the baseline's
//! colour with ±σ error bars; flagged ones (outliers, refused ambiguities)
//! a red × with red error bars, drawn last so that they stay visible.

use super::{draw_err, register_font, PlotError};
use formats::UtcTime;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value;
use std::path::Path;

/// Image width (pixels).
pub const RESIDUAL_WIDTH: u32 = 1400;
/// Height of one baseline's row; the image is 70 + this × baselines high.
pub const RESIDUAL_ROW_HEIGHT: u32 = 260;
/// Colour of a flagged observation (no baseline gets it).
pub const FLAGGED_COLOUR: RGBColor = RGBColor(230, 0, 0);
/// Baseline colours, in order of first appearance (cycled).
pub const BASELINE_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 90, 180),
    RGBColor(20, 140, 60),
    RGBColor(120, 50, 160),
    RGBColor(210, 120, 0),
    RGBColor(0, 130, 140),
    RGBColor(110, 80, 40),
];
/// Radius of a used point's marker, and half-size of a flagged one's ×.
pub const MARKER_PX: i32 = 3;

/// One observation of the solve.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualPoint {
    pub baseline: String,
    pub scan: String,
    pub source: String,
    pub epoch: UtcTime,
    pub residual_s: f64,
    pub sigma_s: f64,
    pub flagged: bool,
    /// A same-beam differential phase delay (else a group delay).
    pub phase_delay_diff: bool,
}

/// Where one panel was drawn: its plotting area in pixels and the data
/// ranges mapped onto it (x hours after `t0`, y ps), so that a reader can
/// find a point's pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelLayout {
    pub baseline: String,
    pub phase_delay_diff: bool,
    pub x_px: (i32, i32),
    pub y_px: (i32, i32),
    pub x_hours: (f64, f64),
    pub y_ps: (f64, f64),
}

/// What was drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualLayout {
    pub t0: UtcTime,
    pub panels: Vec<PanelLayout>,
    pub width: u32,
    pub height: u32,
}

/// The observations of a solve's JSON text (`file` names it in errors).
pub fn read_residuals(text: &str, file: &Path) -> Result<Vec<ResidualPoint>, PlotError> {
    let bad = |why: String| PlotError::Input(format!("{}: {why}", file.display()));
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "not JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Some(rows) = doc.get("observations").and_then(Value::as_array) else {
        return Err(bad(
            "key `observations`: missing or not an array (expected `emcorr solve --format json` output)".into(),
        ));
    };
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let key_err = |key: &str, why: &str| bad(format!("observations[{i}]: key `{key}`: {why}"));
        let text = |key: &str| -> Result<String, PlotError> {
            match r.get(key) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(key_err(key, "missing or not a string")),
            }
        };
        let number = |key: &str| -> Result<f64, PlotError> {
            r.get(key)
                .and_then(Value::as_f64)
                .filter(|x| x.is_finite())
                .ok_or_else(|| key_err(key, "missing or not a finite number"))
        };
        let epoch_text = text("geocentre_epoch_utc")?;
        let epoch = UtcTime::parse_iso8601(&epoch_text)
            .map_err(|e| key_err("geocentre_epoch_utc", &e.to_string()))?;
        let flagged = r
            .get("flagged")
            .and_then(Value::as_bool)
            .ok_or_else(|| key_err("flagged", "missing or not true/false"))?;
        out.push(ResidualPoint {
            baseline: text("baseline")?,
            scan: text("scan")?,
            source: text("source")?,
            epoch,
            residual_s: number("residual_s")?,
            sigma_s: number("sigma_s")?,
            flagged,
            // Solves from before same-beam phase delays have no key.
            phase_delay_diff: r.get("observable").and_then(Value::as_str)
                == Some("phase_delay_diff"),
        });
    }
    if out.is_empty() {
        return Err(bad("key `observations`: empty, nothing to plot".into()));
    }
    Ok(out)
}

/// Baselines in order of first appearance.
fn baselines(points: &[ResidualPoint]) -> Vec<&str> {
    let mut b: Vec<&str> = Vec::new();
    for p in points {
        if !b.contains(&p.baseline.as_str()) {
            b.push(&p.baseline);
        }
    }
    b
}

/// The image size for `points`.
pub fn residual_size(points: &[ResidualPoint]) -> (u32, u32) {
    (
        RESIDUAL_WIDTH,
        70 + RESIDUAL_ROW_HEIGHT * baselines(points).len().max(1) as u32,
    )
}

/// Draw `points` to a PNG file.
pub fn draw_residuals(
    path: &Path,
    title: &str,
    points: &[ResidualPoint],
) -> Result<ResidualLayout, PlotError> {
    register_font()?;
    let root = BitMapBackend::new(path, residual_size(points)).into_drawing_area();
    let layout = draw_on(&root, title, points, path)?;
    root.present().map_err(draw_err(path))?;
    Ok(layout)
}

/// Draw `points` into an RGB buffer of [`residual_size`] (tests read the
/// pixels back).
pub fn draw_residuals_rgb(
    title: &str,
    points: &[ResidualPoint],
) -> Result<(Vec<u8>, ResidualLayout), PlotError> {
    register_font()?;
    let (w, h) = residual_size(points);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    let layout = {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let l = draw_on(&root, title, points, Path::new("<buffer>"))?;
        root.present().map_err(draw_err(Path::new("<buffer>")))?;
        l
    };
    Ok((buf, layout))
}

fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    points: &[ResidualPoint],
    path: &Path,
) -> Result<ResidualLayout, PlotError> {
    if points.is_empty() {
        return Err(PlotError::Input("no residuals to plot".into()));
    }
    let e = draw_err(path);
    let (width, height) = root.dim_in_pixel();
    root.fill(&WHITE).map_err(&e)?;
    let root = root
        .titled(title, ("sans-serif", 26).into_font().style(FontStyle::Bold))
        .map_err(&e)?;
    let t0 = points
        .iter()
        .map(|p| p.epoch)
        .reduce(|a, b| if b < a { b } else { a })
        .expect("not empty");
    let hours = |p: &ResidualPoint| p.epoch.seconds_since(t0) / 3600.0;
    let t_max = points.iter().map(hours).fold(0.0, f64::max).max(1e-3);
    let x_range = (-0.02 * t_max, 1.02 * t_max);
    let bls = baselines(points);
    let kinds: Vec<bool> = if points.iter().any(|p| p.phase_delay_diff) {
        vec![false, true]
    } else {
        vec![false]
    };
    let rows = root.split_evenly((bls.len(), kinds.len()));
    let mut panels = Vec::new();
    for (bi, bl) in bls.iter().enumerate() {
        let colour = BASELINE_COLOURS[bi % BASELINE_COLOURS.len()];
        for (ki, &kind) in kinds.iter().enumerate() {
            let area = &rows[bi * kinds.len() + ki];
            let mine: Vec<&ResidualPoint> = points
                .iter()
                .filter(|p| p.baseline == *bl && p.phase_delay_diff == kind)
                .collect();
            // y: every point with its error bar, symmetric about 0.
            let span = mine
                .iter()
                .map(|p| (p.residual_s.abs() + p.sigma_s) * 1e12)
                .fold(0.0, f64::max)
                .max(1e-3)
                * 1.1;
            let y_range = (-span, span);
            let what = if kind {
                "same-beam phase delay"
            } else {
                "group delay"
            };
            let mut chart = ChartBuilder::on(area)
                .caption(
                    format!("{bl}: {what} residuals ({} points)", mine.len()),
                    ("sans-serif", 17),
                )
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
                .map_err(&e)?;
            chart
                .configure_mesh()
                .x_desc(format!("hours after {}", t0.to_iso8601_digits(0)))
                .y_desc("observed − model (ps)")
                .x_labels(7)
                .y_labels(5)
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 15))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(&e)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x_range.0, 0.0), (x_range.1, 0.0)],
                    BLACK.mix(0.3),
                )))
                .map_err(&e)?;
            let xy = |p: &ResidualPoint| (hours(p), p.residual_s * 1e12);
            let bar = |p: &ResidualPoint, c: RGBColor| {
                let (x, y) = xy(p);
                PathElement::new(
                    vec![(x, y - p.sigma_s * 1e12), (x, y + p.sigma_s * 1e12)],
                    c.mix(0.6),
                )
            };
            let (used, flagged): (Vec<&ResidualPoint>, Vec<&ResidualPoint>) =
                mine.iter().partition(|p| !p.flagged);
            chart
                .draw_series(used.iter().map(|p| bar(p, colour)))
                .map_err(&e)?;
            chart
                .draw_series(flagged.iter().map(|p| bar(p, FLAGGED_COLOUR)))
                .map_err(&e)?;
            chart
                .draw_series(
                    used.iter()
                        .map(|p| Circle::new(xy(p), MARKER_PX as u32, colour.filled())),
                )
                .map_err(&e)?;
            chart
                .draw_series(
                    flagged
                        .iter()
                        .map(|p| Cross::new(xy(p), MARKER_PX + 2, FLAGGED_COLOUR.stroke_width(1))),
                )
                .map_err(&e)?;
            let (xp, yp) = chart.plotting_area().get_pixel_range();
            panels.push(PanelLayout {
                baseline: bl.to_string(),
                phase_delay_diff: kind,
                x_px: (xp.start, xp.end),
                y_px: (yp.start, yp.end),
                x_hours: x_range,
                y_ps: y_range,
            });
        }
    }
    Ok(ResidualLayout {
        t0,
        panels,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on two baselines, some flagged, some phase delays, with known
    /// values; the pixel each should be at computed here from the panel's
    /// reported ranges (the linear map of a plot), and looked up in the
    /// drawn image.
    #[test]
    fn every_point_is_drawn_where_its_residual_is_and_flagged_ones_in_red() {
        let t0 = UtcTime::parse_iso8601("2026-03-14T22:00:00Z").unwrap();
        let mut pts = Vec::new();
        for i in 0..20 {
            for (b, bl) in ["T6-KM", "KM-LS"].iter().enumerate() {
                let phase = i % 4 == 3;
                let s = if phase { 0.4e-12 } else { 20e-12 };
                pts.push(ResidualPoint {
                    baseline: bl.to_string(),
                    scan: format!("No{i:04}"),
                    source: "X".into(),
                    epoch: t0.add_seconds(900.0 * i as f64 + 60.0 * b as f64),
                    residual_s: s * (((i * 7 + b * 3) % 11) as f64 / 5.0 - 1.0),
                    sigma_s: s,
                    flagged: i % 5 == 1,
                    phase_delay_diff: phase,
                });
            }
        }
        let (buf, layout) = draw_residuals_rgb("test", &pts).unwrap();
        let w = layout.width as i32;
        let pixel = |x: i32, y: i32| {
            let k = 3 * (y * w + x) as usize;
            RGBColor(buf[k], buf[k + 1], buf[k + 2])
        };
        assert_eq!(layout.panels.len(), 4, "2 baselines × 2 observables");
        for p in &pts {
            let panel = layout
                .panels
                .iter()
                .find(|l| l.baseline == p.baseline && l.phase_delay_diff == p.phase_delay_diff)
                .unwrap();
            let fx = (p.epoch.seconds_since(t0) / 3600.0 - panel.x_hours.0)
                / (panel.x_hours.1 - panel.x_hours.0);
            let fy = (p.residual_s * 1e12 - panel.y_ps.0) / (panel.y_ps.1 - panel.y_ps.0);
            let x = panel.x_px.0 + (fx * (panel.x_px.1 - panel.x_px.0) as f64).round() as i32;
            // Pixel rows grow downwards.
            let y = panel.y_px.1 - (fy * (panel.y_px.1 - panel.y_px.0) as f64).round() as i32;
            let colour = if p.flagged {
                FLAGGED_COLOUR
            } else {
                BASELINE_COLOURS[if p.baseline == "T6-KM" { 0 } else { 1 }]
            };
            let hit = (-1..=1).any(|dx| (-1..=1).any(|dy| pixel(x + dx, y + dy) == colour));
            assert!(
                hit,
                "{} {} {}: no {colour:?} within a pixel of ({x}, {y})",
                p.baseline, p.scan, p.residual_s
            );
            // Drawn differently: a flagged point has no marker of its
            // baseline's colour there, a used one no red ×.
            let other = if p.flagged {
                BASELINE_COLOURS[if p.baseline == "T6-KM" { 0 } else { 1 }]
            } else {
                FLAGGED_COLOUR
            };
            let near = (-1..=1).any(|dx| (-1..=1).any(|dy| pixel(x + dx, y + dy) == other));
            assert!(!near, "{} {}: drawn as the wrong kind", p.baseline, p.scan);
        }
    }

    #[test]
    fn bad_solve_json_is_one_line_naming_file_and_key() {
        let f = Path::new("sol.json");
        let e = read_residuals("{\"parameters\": []}", f).unwrap_err();
        assert!(
            e.to_string().starts_with("sol.json: key `observations`"),
            "{e}"
        );
        let e = read_residuals(
            "{\"observations\": [{\"baseline\": \"A-B\", \"scan\": \"1\", \"source\": \"S\", \"geocentre_epoch_utc\": \"2026-03-14T22:00:00Z\", \"residual_s\": \"x\", \"sigma_s\": 1e-12, \"flagged\": false}]}",
            f,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("observations[0]: key `residual_s`"),
            "{e}"
        );
        assert!(!e.to_string().contains('\n'));
    }
}
