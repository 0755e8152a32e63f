//! The fringe plot of one baseline over one scan: the delay–rate amplitude
//! map of the coarse search with the fitted peak marked, the solution in
//! numbers, and the data counter-rotated by the fit — amplitude and phase
//! against frequency (averaged over time) and against time (averaged over
//! frequency). A flat phase at 0° in both means the fit took out all the
//! delay and rate.

use super::{draw_err, heat_colour, register_font, PlotError};
use crate::fringe::{
    coarse_search, counter_rotated, fit_with_subbands, BaselineData, DelayRateMap, FitError,
    FitOptions, FringeSolution,
};
use plotters::prelude::*;
use std::path::Path;

/// Points are binned so that each has an SNR of about this, where the data allow.
const BIN_SNR: f64 = 5.0;

/// Everything the fringe plot shows.
#[derive(Debug, Clone, PartialEq)]
pub struct FringePlotData {
    pub title: String,
    pub sol: FringeSolution,
    pub map: DelayRateMap,
    /// |S|/ΣW on a fine grid around the fitted peak.
    pub zoom: DelayRateMap,
    /// Per subband: (sky frequency MHz, amplitude, phase deg) of channel bins.
    pub spectrum: Vec<Vec<(f64, f64, f64)>>,
    /// (seconds since the first period, amplitude, phase deg) of time bins.
    pub series: Vec<(f64, f64, f64)>,
}

/// Weighted mean of counter-rotated visibilities → (x, amplitude, phase deg).
fn bin_mean(
    items: impl Iterator<Item = (f64, num_complex::Complex64, f64)>,
) -> Option<(f64, f64, f64)> {
    let (mut sx, mut sz, mut sw) = (0.0, num_complex::Complex64::new(0.0, 0.0), 0.0);
    for (x, z, w) in items {
        sx += w * x;
        sz += z * w;
        sw += w;
    }
    (sw > 0.0).then(|| {
        let z = sz / sw;
        (sx / sw, z.norm(), z.arg().to_degrees())
    })
}

/// Fit `data` and prepare the plot.
pub fn plot_fringe(
    data: &BaselineData,
    opts: &FitOptions,
    title: &str,
) -> Result<FringePlotData, FitError> {
    let (sol, _) = fit_with_subbands(data, opts)?;
    let (_, map) = coarse_search(data, &opts.window, true)?;
    let map = map.expect("map asked for");
    let rot = counter_rotated(data, &sol);
    let (nt, nsb, nch) = (data.n_times(), data.n_subbands(), data.n_chan());
    let at = |i: usize, b: usize, k: usize| (i * nsb + b) * nch + k;

    let snr = sol.snr.max(1.0);
    let per_sb = ((snr / (nsb as f64).sqrt() / BIN_SNR).powi(2).round() as usize)
        .clamp(2, 64)
        .min(nch);
    let spectrum = (0..nsb)
        .map(|b| {
            let sb = &data.subbands[b];
            (0..per_sb)
                .filter_map(|j| {
                    let (k0, k1) = (j * nch / per_sb, (j + 1) * nch / per_sb);
                    bin_mean(
                        (0..nt)
                            .flat_map(|i| (k0..k1).map(move |k| (sb.chan_freq_hz[k] * 1e-6, i, k)))
                            .map(|(f, i, k)| (f, rot[at(i, b, k)], data.inverse_variance(i, b, k))),
                    )
                })
                .collect()
        })
        .collect();
    let n_tbins = ((snr / BIN_SNR).powi(2).round() as usize)
        .clamp(2, 200)
        .min(nt);
    let t0 = data.times_s[0];
    let series = (0..n_tbins)
        .filter_map(|j| {
            let (i0, i1) = (j * nt / n_tbins, (j + 1) * nt / n_tbins);
            bin_mean(
                (i0..i1)
                    .flat_map(|i| (0..nsb).flat_map(move |b| (0..nch).map(move |k| (i, b, k))))
                    .map(|(i, b, k)| {
                        (
                            data.times_s[i] - t0,
                            rot[at(i, b, k)],
                            data.inverse_variance(i, b, k),
                        )
                    }),
            )
        })
        .collect();
    let zoom = zoom_map(data, &sol, &rot, 61);
    Ok(FringePlotData {
        title: title.to_string(),
        sol,
        map,
        zoom,
        spectrum,
        series,
    })
}

/// The amplitude |Σ W·z·e^{−iψ}|/ΣW on an n × n grid of delay and rate
/// offsets from the fit, z the counter-rotated data, over ±3 correlation
/// lengths (1/(2π·B_rms), 1/(2π·(νt)_rms)) each way. The rate offset's phase
/// is taken at the mean frequency (the offsets are small).
fn zoom_map(
    data: &BaselineData,
    sol: &FringeSolution,
    rot: &[num_complex::Complex64],
    n: usize,
) -> DelayRateMap {
    use num_complex::Complex64;
    use std::f64::consts::PI;
    let (nt, nsb, nch) = (data.n_times(), data.n_subbands(), data.n_chan());
    let hd = 3.0 / (2.0 * PI * sol.b_rms_hz.max(1e-300));
    let hr = 3.0 / (2.0 * PI * sol.nu_t_rms.max(1e-300));
    let axis = |h: f64, c: f64| -> Vec<f64> {
        (0..n)
            .map(|j| c - h + 2.0 * h * j as f64 / (n - 1) as f64)
            .collect()
    };
    let delays_s = axis(hd, sol.mbd_s);
    let rates = axis(hr, sol.rate);
    let t_ref = sol.ref_epoch.seconds_since(data.epoch);
    let mut w_sum = 0.0;
    let mut amp = vec![0.0; n * n];
    // Per delay offset: the per-period sums over frequency.
    let mut per_t = vec![Complex64::new(0.0, 0.0); nt];
    for (jd, &d) in delays_s.iter().enumerate() {
        let dd = d - sol.mbd_s;
        per_t.iter_mut().for_each(|z| *z = Complex64::new(0.0, 0.0));
        for (i, acc) in per_t.iter_mut().enumerate() {
            for b in 0..nsb {
                for k in 0..nch {
                    let w = data.inverse_variance(i, b, k);
                    if w > 0.0 {
                        let nu = data.subbands[b].chan_freq_hz[k];
                        *acc += rot[(i * nsb + b) * nch + k]
                            * Complex64::from_polar(w, -2.0 * PI * (nu - sol.ref_freq_hz) * dd);
                        if jd == 0 {
                            w_sum += w;
                        }
                    }
                }
            }
        }
        for (jr, &r) in rates.iter().enumerate() {
            let dr = r - sol.rate;
            let s: Complex64 = per_t
                .iter()
                .enumerate()
                .map(|(i, z)| {
                    z * Complex64::from_polar(
                        1.0,
                        -2.0 * PI * sol.coarse.centre_freq_hz * dr * (data.times_s[i] - t_ref),
                    )
                })
                .sum();
            amp[jr * n + jd] = s.norm();
        }
    }
    amp.iter_mut().for_each(|a| *a /= w_sum.max(1e-300));
    DelayRateMap {
        delays_s,
        rates,
        amp,
    }
}

/// Pick a unit for a span of seconds: (scale to multiply by, label).
fn delay_unit(span_s: f64) -> (f64, &'static str) {
    if span_s > 5e-6 {
        (1e6, "µs")
    } else {
        (1e9, "ns")
    }
}

/// Draw the plot to a PNG file.
pub fn draw_fringe_plot(path: &Path, p: &FringePlotData) -> Result<(), PlotError> {
    register_font()?;
    let e = draw_err(path);
    let root = BitMapBackend::new(path, (1700, 1100)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let root = root
        .titled(
            &p.title,
            ("sans-serif", 26).into_font().style(FontStyle::Bold),
        )
        .map_err(&e)?;
    let (upper, lower) = root.split_vertically(540);
    let (map_area, rest) = upper.split_horizontally(640);
    let (zoom_area, text_area) = rest.split_horizontally(560);
    let sol = &p.sol;

    // Delay–rate maps: the whole search, and a zoom on the peak.
    let m = &p.map;
    let d_span = m.delays_s.last().unwrap_or(&0.0) - m.delays_s.first().unwrap_or(&0.0);
    let (ds, du) = delay_unit(d_span.abs());
    let rs = 1e12; // ps/s
    draw_map(
        &map_area,
        path,
        "coarse search (amplitude, linear)",
        m,
        (ds, du),
        (sol.mbd_s, sol.rate),
    )?;
    draw_map(
        &zoom_area,
        path,
        "around the peak (±3 correlation lengths)",
        &p.zoom,
        (1e9, "ns"),
        (sol.mbd_s, sol.rate),
    )?;

    // The solution in numbers.
    let detected = if sol.detected { "yes" } else { "NO" };
    let lines = [
        format!("reference epoch {}", sol.ref_epoch.to_iso8601_digits(3)),
        format!("reference frequency {:.6} GHz", sol.ref_freq_hz * 1e-9),
        String::new(),
        format!(
            "group delay  {:.4} ± {:.4} ns",
            sol.mbd_s * 1e9,
            sol.mbd_sigma_s * 1e9
        ),
        format!(
            "single-band delay  {:.4} ± {:.4} ns",
            sol.sbd_s * 1e9,
            sol.sbd_sigma_s * 1e9
        ),
        format!(
            "delay rate  {:.4} ± {:.4} ps/s",
            sol.rate * 1e12,
            sol.rate_sigma * 1e12
        ),
        format!(
            "phase  {:.2} ± {:.2}°",
            sol.phase_rad.to_degrees(),
            sol.phase_sigma_rad.to_degrees()
        ),
        format!(
            "amplitude  {:.4e}  (smearing {:.3} divided out)",
            sol.amplitude, sol.smearing_loss
        ),
        format!("SNR  {:.1}   (threshold {:.2})", sol.snr, sol.snr_threshold),
        format!("P(false detection)  {:.2e}", sol.pfd),
        format!("detected  {detected}"),
        format!("residual rms / radiometer σ  {:.3}", sol.noise_ratio),
        String::new(),
        format!(
            "searched: delay {:.4} … {:.4} {du}",
            sol.coarse.delay_range_s.0 * ds,
            sol.coarse.delay_range_s.1 * ds
        ),
        format!(
            "          rate {:.3} … {:.3} ps/s",
            sol.coarse.rate_range.0 * rs,
            sol.coarse.rate_range.1 * rs
        ),
        format!("{} periods, {:.1} s", sol.n_periods, sol.duration_s),
    ];
    for (i, line) in lines.iter().enumerate() {
        text_area
            .draw_text(
                line,
                &("sans-serif", 18).into_text_style(&text_area),
                (15, 40 + 28 * i as i32),
            )
            .map_err(&e)?;
    }

    // Amplitude and phase against frequency and time, after the fit. One
    // column per subband, so that gaps between subbands take no room.
    let (left, right) = lower.split_horizontally(900);
    let amax = p
        .spectrum
        .iter()
        .flatten()
        .chain(&p.series)
        .map(|q| q.1)
        .fold(0.0, f64::max)
        .max(1e-300)
        * 1.25;
    let left = left
        .titled(
            "after the fit, against frequency (time-averaged)",
            ("sans-serif", 18),
        )
        .map_err(&e)?;
    let widths: Vec<usize> = p.spectrum.iter().map(|g| g.len().max(1)).collect();
    let total: usize = widths.iter().sum();
    let mut rest = left;
    let full_w = rest.dim_in_pixel().0 as usize;
    for (b, group) in p.spectrum.iter().enumerate() {
        let first = b == 0;
        // Columns share the width in proportion to their points, plus the
        // axis labels of the first.
        let y_area = if first { 75 } else { 0 };
        let w = y_area + (full_w - 75) * widths[b] / total;
        let (col, r) = if b + 1 < p.spectrum.len() {
            rest.split_horizontally(w as i32)
        } else {
            (rest.clone(), rest.clone())
        };
        draw_amp_phase(&col, path, first, amax, "sky frequency (MHz)", group)?;
        rest = r;
    }
    let right = right
        .titled(
            "after the fit, against time (frequency-averaged)",
            ("sans-serif", 18),
        )
        .map_err(&e)?;
    draw_amp_phase(
        &right,
        path,
        true,
        amax,
        "seconds from scan start",
        &p.series,
    )?;
    root.present().map_err(&e)?;
    Ok(())
}

/// A delay–rate amplitude map with the fitted peak circled; `unit` is the
/// delay scale and label.
fn draw_map(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    path: &Path,
    caption: &str,
    m: &DelayRateMap,
    unit: (f64, &str),
    fit: (f64, f64),
) -> Result<(), PlotError> {
    let e = draw_err(path);
    let (ds, du) = unit;
    let rs = 1e12;
    let half = |v: &[f64]| {
        if v.len() > 1 {
            0.5 * (v[1] - v[0])
        } else {
            0.5e-12
        }
    };
    let (hd, hr) = (half(&m.delays_s), half(&m.rates));
    let x_range = (m.delays_s[0] - hd) * ds..(m.delays_s[m.delays_s.len() - 1] + hd) * ds;
    let y_range = (m.rates[0] - hr) * rs..(m.rates[m.rates.len() - 1] + hr) * rs;
    let peak = m.amp.iter().cloned().fold(0.0, f64::max).max(1e-300);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, y_range)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(format!("residual delay ({du})"))
        .y_desc("residual delay rate (ps/s)")
        .x_labels(6)
        .y_labels(8)
        .x_label_formatter(&|v| trim_float(*v))
        .y_label_formatter(&|v| trim_float(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(&e)?;
    let nd = m.delays_s.len();
    chart
        .draw_series(m.amp.iter().enumerate().map(|(idx, &a)| {
            let (d, r) = (m.delays_s[idx % nd], m.rates[idx / nd]);
            Rectangle::new(
                [
                    ((d - hd) * ds, (r - hr) * rs),
                    ((d + hd) * ds, (r + hr) * rs),
                ],
                heat_colour(a / peak).filled(),
            )
        }))
        .map_err(&e)?;
    chart
        .draw_series(std::iter::once(Circle::new(
            (fit.0 * ds, fit.1 * rs),
            11,
            ShapeStyle::from(&WHITE).stroke_width(2),
        )))
        .map_err(&e)?;
    Ok(())
}

/// Two stacked panels, amplitude above phase, sharing the x axis; y axis
/// labels only when `y_labels`.
fn draw_amp_phase(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    path: &Path,
    y_labels: bool,
    amax: f64,
    x_desc: &str,
    pts: &[(f64, f64, f64)],
) -> Result<(), PlotError> {
    let e = draw_err(path);
    if pts.is_empty() {
        return Ok(());
    }
    let xmin = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let xmax = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((xmax - xmin) * 0.05).max(1e-6);
    let y_area = if y_labels { 75 } else { 0 };
    let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 as i32 * 47 / 100);
    let mut amp = ChartBuilder::on(&top)
        .margin(6)
        .x_label_area_size(6)
        .y_label_area_size(y_area)
        .build_cartesian_2d(xmin - pad..xmax + pad, 0.0..amax)
        .map_err(&e)?;
    let mut mesh = amp.configure_mesh();
    mesh.x_labels(0)
        .y_labels(6)
        .y_label_formatter(&|v| format!("{v:.2e}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0));
    if y_labels {
        mesh.y_desc("amplitude");
    }
    mesh.draw().map_err(&e)?;
    let blue = RGBColor(30, 80, 180);
    let mut sorted = pts.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    amp.draw_series(LineSeries::new(
        sorted.iter().map(|p| (p.0, p.1)),
        blue.stroke_width(2),
    ))
    .map_err(&e)?;
    amp.draw_series(
        sorted
            .iter()
            .map(|p| Circle::new((p.0, p.1), 3, blue.filled())),
    )
    .map_err(&e)?;
    let mut ph = ChartBuilder::on(&bottom)
        .margin(6)
        .x_label_area_size(45)
        .y_label_area_size(y_area)
        .build_cartesian_2d(xmin - pad..xmax + pad, -180.0..180.0)
        .map_err(&e)?;
    let mut mesh = ph.configure_mesh();
    mesh.x_desc(x_desc)
        .x_labels(4)
        .x_label_formatter(&|v| trim_float(*v))
        .x_label_style(("sans-serif", 13))
        .y_labels(5)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0));
    if y_labels {
        mesh.y_desc("phase (°)");
    }
    mesh.draw().map_err(&e)?;
    let red = RGBColor(190, 40, 40);
    ph.draw_series(
        sorted
            .iter()
            .map(|p| Circle::new((p.0, p.2), 3, red.filled())),
    )
    .map_err(&e)?;
    Ok(())
}

/// A tick label without trailing zeros ("8.41", "20", "-1000").
fn trim_float(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}
