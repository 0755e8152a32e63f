//! The summary of a finished one-span run, from the engine's [`Summary`]:
//! the text line and the JSON object `emcorr correlate` prints.
//!
//! Why in the library: what a run reports (which numbers, which keys) is
//! part of its result, kept in one place for the CLI, the demo and tests;
//! the CLI only chooses where it goes.

use crate::cluster::ClusterReport;
use correlator::engine::Summary;

/// The one-line text summary of a finished run into `output`.
pub fn summary_line(s: &Summary, output: &std::path::Path) -> String {
    let mean_w = if s.baseline_weights.is_empty() {
        0.0
    } else {
        s.baseline_weights.iter().map(|b| b.1).sum::<f64>() / s.baseline_weights.len() as f64
    };
    let centres = if s.centres.len() > 1 {
        format!(
            " at {} phase centres ({})",
            s.centres.len(),
            s.centres.join(", ")
        )
    } else {
        String::new()
    };
    // Averaging and window, when asked for.
    let mut spectral = Vec::new();
    if s.fft_nchan != s.nchan {
        spectral.push(format!("each of {} averaged", s.fft_nchan / s.nchan.max(1)));
    }
    if s.window != correlator::job::Window::None {
        spectral.push(format!("{} window", s.window.name()));
    }
    // A zoom pass: the FFT emcorr chose for the channel width.
    if s.fft_lengths.iter().any(|&n| n > 1 << 16) {
        let mut n = s.fft_lengths.clone();
        n.dedup();
        let n: Vec<String> = n.iter().map(|n| n.to_string()).collect();
        spectral.push(format!(
            "{} Hz channels from {}-point FFTs",
            s.chan_width_hz,
            n.join("/")
        ));
    }
    let spectral = if spectral.is_empty() {
        String::new()
    } else {
        format!(" ({})", spectral.join(", "))
    };
    format!(
        "correlated {} stations{centres}, {} baselines, {} band(s) × {} channels{spectral} × {}: {} integrations of {:.6} s from {} ({:.3} s of data, mean weight {:.3}) in {:.2} s ({:.2}× real time) → {}",
        s.stations.len(),
        s.baselines,
        s.bands,
        s.nchan,
        s.products.join("/"),
        s.integrations,
        s.integration_s,
        s.start,
        s.data_s,
        mean_w,
        s.wall_s,
        s.speed_x_realtime,
        output.display()
    )
}

/// The JSON summary of a finished run into `output` (with `mpi` for a
/// run across ranks), as text.
pub fn summary_json(
    s: &Summary,
    cluster: Option<&ClusterReport>,
    output: &std::path::Path,
) -> String {
    let weights: serde_json::Map<String, serde_json::Value> = s
        .baseline_weights
        .iter()
        .map(|(b, w)| (b.clone(), serde_json::json!(w)))
        .collect();
    let mut v = serde_json::json!({
        "output": output.display().to_string(),
        "sources": s.centres,
        "stations": s.stations,
        "baselines": s.baselines,
        "bands": s.bands,
        "channels": s.nchan,
        "fft_channels": s.fft_nchan,
        "chan_width_hz": s.chan_width_hz,
        "fft_lengths": s.fft_lengths,
        "window": s.window.name(),
        "products": s.products,
        "integrations": s.integrations,
        "integration_s": s.integration_s,
        "start": s.start.to_iso8601(),
        "data_s": s.data_s,
        "weights": weights,
        "wall_s": s.wall_s,
        "speed_x_realtime": s.speed_x_realtime,
    });
    if let Some(c) = cluster {
        v["mpi"] = c.to_json(s.data_s);
    }
    v.to_string()
}
