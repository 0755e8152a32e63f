//! One output row per baseline × scan (× subband): JSON objects and CSV lines
//! with the same columns, in the order of [`CSV_HEADER`].

use super::fit::FringeSolution;
use serde::Serialize;

/// The a-priori model added to a residual, and where it was evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    /// Station whose arrival time labels the reference epoch.
    pub ref_station: String,
    /// Arrival time at `ref_station` of the wavefront that passes the
    /// geocentre at the solution's reference epoch (UTC, ISO 8601).
    pub ref_epoch_utc: String,
    /// Model delay τ_B − τ_A (TT s) and its rate at that wavefront.
    pub model_delay_s: f64,
    pub model_rate: f64,
}

/// One row of `emcorr fringe` output. Keys and CSV columns are the field
/// names, in this order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FringeRow {
    /// "A-B", stations in job order.
    pub baseline: String,
    /// 1-based scan (or solution interval) number, in time order.
    pub scan: usize,
    /// 1-based subband for `--subbands each`; null when all are combined.
    pub subband: Option<usize>,
    pub source: String,
    /// Reference epoch (UTC): arrival at `ref_station` of the reference
    /// wavefront (the geocentre epoch when there is no model).
    pub ref_epoch_utc: String,
    pub ref_station: String,
    /// Geocentre time of the reference wavefront (UTC).
    pub geocentre_epoch_utc: String,
    pub ref_freq_hz: f64,
    pub mbd_s: f64,
    pub mbd_sigma_s: f64,
    pub sbd_s: f64,
    pub sbd_sigma_s: f64,
    pub rate_s_per_s: f64,
    pub rate_sigma: f64,
    pub phase_deg: f64,
    pub phase_sigma_deg: f64,
    pub amplitude: f64,
    pub smearing_loss: f64,
    pub snr: f64,
    pub noise_ratio: f64,
    pub pfd: f64,
    pub snr_threshold: f64,
    pub detected: bool,
    /// Model + residual (TT s, s/s); null without a model table.
    pub total_delay_s: Option<f64>,
    pub total_rate_s_per_s: Option<f64>,
    pub n_periods: usize,
    pub duration_s: f64,
}

/// The CSV header line (no trailing newline).
pub const CSV_HEADER: &str = "baseline,scan,subband,source,ref_epoch_utc,ref_station,\
geocentre_epoch_utc,ref_freq_hz,mbd_s,mbd_sigma_s,sbd_s,sbd_sigma_s,rate_s_per_s,rate_sigma,\
phase_deg,phase_sigma_deg,amplitude,smearing_loss,snr,noise_ratio,pfd,snr_threshold,detected,total_delay_s,\
total_rate_s_per_s,n_periods,duration_s";

impl FringeRow {
    /// A row from a solution; `totals` adds the a-priori model.
    pub fn new(
        sol: &FringeSolution,
        scan: usize,
        subband: Option<usize>,
        source: &str,
        totals: Option<&Totals>,
    ) -> FringeRow {
        let geo = sol.ref_epoch.to_iso8601();
        FringeRow {
            baseline: sol.baseline.clone(),
            scan,
            subband,
            source: source.to_string(),
            ref_epoch_utc: totals.map_or_else(|| geo.clone(), |t| t.ref_epoch_utc.clone()),
            ref_station: totals.map_or_else(|| "geocentre".to_string(), |t| t.ref_station.clone()),
            geocentre_epoch_utc: geo,
            ref_freq_hz: sol.ref_freq_hz,
            mbd_s: sol.mbd_s,
            mbd_sigma_s: sol.mbd_sigma_s,
            sbd_s: sol.sbd_s,
            sbd_sigma_s: sol.sbd_sigma_s,
            rate_s_per_s: sol.rate,
            rate_sigma: sol.rate_sigma,
            phase_deg: sol.phase_rad.to_degrees(),
            phase_sigma_deg: sol.phase_sigma_rad.to_degrees(),
            amplitude: sol.amplitude,
            smearing_loss: sol.smearing_loss,
            snr: sol.snr,
            noise_ratio: sol.noise_ratio,
            pfd: sol.pfd,
            snr_threshold: sol.snr_threshold,
            detected: sol.detected,
            total_delay_s: totals.map(|t| t.model_delay_s + sol.mbd_s),
            total_rate_s_per_s: totals.map(|t| t.model_rate + sol.rate),
            n_periods: sol.n_periods,
            duration_s: sol.duration_s,
        }
    }

    /// One CSV line (no newline). Floats in Rust's shortest round-trip form,
    /// absent or unconstrained values (a rate σ from a single integration
    /// is infinite) empty, as JSON has null; text fields never contain
    /// commas (station and source names are FITS strings without them; any
    /// are replaced by ';').
    pub fn to_csv(&self) -> String {
        let num = |v: f64| {
            if v.is_finite() {
                v.to_string()
            } else {
                String::new()
            }
        };
        let opt = |x: Option<f64>| x.map_or(String::new(), num);
        let text = |s: &str| s.replace(',', ";");
        [
            text(&self.baseline),
            self.scan.to_string(),
            self.subband.map_or(String::new(), |b| b.to_string()),
            text(&self.source),
            self.ref_epoch_utc.clone(),
            text(&self.ref_station),
            self.geocentre_epoch_utc.clone(),
            num(self.ref_freq_hz),
            num(self.mbd_s),
            num(self.mbd_sigma_s),
            num(self.sbd_s),
            num(self.sbd_sigma_s),
            num(self.rate_s_per_s),
            num(self.rate_sigma),
            num(self.phase_deg),
            num(self.phase_sigma_deg),
            num(self.amplitude),
            num(self.smearing_loss),
            num(self.snr),
            num(self.noise_ratio),
            num(self.pfd),
            num(self.snr_threshold),
            self.detected.to_string(),
            opt(self.total_delay_s),
            opt(self.total_rate_s_per_s),
            self.n_periods.to_string(),
            num(self.duration_s),
        ]
        .join(",")
    }
}

/// Rows as CSV text: header, then one line per row.
pub fn to_csv(rows: &[FringeRow]) -> String {
    let mut s = String::from(CSV_HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(&r.to_csv());
        s.push('\n');
    }
    s
}

/// Rows as a pretty-printed JSON array.
pub fn to_json(rows: &[FringeRow]) -> String {
    serde_json::to_string_pretty(rows).expect("rows serialise") + "\n"
}
