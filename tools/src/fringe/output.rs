//! One output row per scan × source × baseline (× subband): JSON objects and
//! CSV lines with the same columns, in the order of [`CSV_HEADER`]; with
//! `--differential`, one [`DifferentialRow`] per scan × baseline (×
//! subband), columns in the order of [`DIFF_CSV_HEADER`].
//!
//! Columns added later are appended at the end, so that readers that take
//! columns by position keep working.

use super::fit::FringeSolution;
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// The scan's VEX name from the file's EMCORR_SCAN table; null (empty
    /// in CSV) when the file has none.
    pub scan_name: Option<String>,
    /// The part of `mbd_sigma_s` from the phase-cal tones' noise (`--pcal`;
    /// 0 otherwise): the radiometric part is √(mbd_sigma_s² − this²).
    pub mbd_cal_sigma_s: f64,
}

/// The CSV header line (no trailing newline).
pub const CSV_HEADER: &str = "baseline,scan,subband,source,ref_epoch_utc,ref_station,\
geocentre_epoch_utc,ref_freq_hz,mbd_s,mbd_sigma_s,sbd_s,sbd_sigma_s,rate_s_per_s,rate_sigma,\
phase_deg,phase_sigma_deg,amplitude,smearing_loss,snr,noise_ratio,pfd,snr_threshold,detected,total_delay_s,\
total_rate_s_per_s,n_periods,duration_s,scan_name,mbd_cal_sigma_s";

impl FringeRow {
    /// A row from a solution; `totals` adds the a-priori model.
    pub fn new(
        sol: &FringeSolution,
        scan: usize,
        scan_name: Option<&str>,
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
            scan_name: scan_name.map(str::to_string),
            mbd_cal_sigma_s: sol.mbd_cal_sigma_s,
        }
    }

    /// One CSV line (no newline). Floats in Rust's shortest round-trip form,
    /// absent or unconstrained values (a rate σ from a single integration
    /// is infinite) empty, as JSON has null; text fields never contain
    /// commas (station and source names are FITS strings without them; any
    /// are replaced by ';').
    pub fn to_csv(&self) -> String {
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
            self.scan_name.as_deref().map_or(String::new(), text),
            num(self.mbd_cal_sigma_s),
        ]
        .join(",")
    }
}

/// A CSV number: Rust's shortest round-trip form; empty if not finite.
fn num(v: f64) -> String {
    if v.is_finite() {
        v.to_string()
    } else {
        String::new()
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or(String::new(), num)
}

/// CSV text: names are FITS strings, so a comma is the only character to
/// keep out.
fn text(s: &str) -> String {
    s.replace(',', ";")
}

/// A CSV table: a header line and one line per row.
pub trait CsvRow {
    const HEADER: &'static str;
    fn to_csv(&self) -> String;
}

impl CsvRow for FringeRow {
    const HEADER: &'static str = CSV_HEADER;
    fn to_csv(&self) -> String {
        FringeRow::to_csv(self)
    }
}

/// Rows as CSV text: header, then one line per row.
pub fn to_csv<R: CsvRow>(rows: &[R]) -> String {
    let mut s = String::from(R::HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(&r.to_csv());
        s.push('\n');
    }
    s
}

/// Rows as a pretty-printed JSON array.
pub fn to_json<R: Serialize>(rows: &[R]) -> String {
    serde_json::to_string_pretty(rows).expect("rows serialise") + "\n"
}

/// Same-beam differential observables of one baseline over one scan (or
/// solution interval, or subband): source A minus source B, two phase
/// centres correlated from the same samples. Common station terms (clocks,
/// the atmosphere and ionosphere along nearly the same line of sight, the
/// instrumental phase) cancel in the difference.
///
/// B's solution is carried to A's reference epoch with B's fitted rate
/// first (`epoch_offset_s`; 0 when the two have the same data times and
/// weights, as same-beam scans do). Errors are
/// σ_diff = sqrt(σ_A² + σ_B²): the two fits' noise is taken as independent
/// (see README, "Differential", for when that holds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DifferentialRow {
    /// "A-B", stations in job order.
    pub baseline: String,
    /// 1-based scan (or solution interval) number, as in the fringe rows.
    pub scan: usize,
    /// VEX scan name; null without an EMCORR_SCAN table.
    pub scan_name: Option<String>,
    /// 1-based subband with `--subbands each`; null for all combined.
    pub subband: Option<usize>,
    pub source_a: String,
    pub source_b: String,
    /// A's reference epoch at `ref_station`, as in the fringe rows.
    pub ref_epoch_utc: String,
    pub ref_station: String,
    pub geocentre_epoch_utc: String,
    pub ref_freq_hz: f64,
    /// Group delay A − B (s) and its error.
    pub mbd_diff_s: f64,
    pub mbd_diff_sigma_s: f64,
    pub sbd_diff_s: f64,
    pub sbd_diff_sigma_s: f64,
    /// Delay rate A − B (s/s) and its error.
    pub rate_diff_s_per_s: f64,
    pub rate_diff_sigma: f64,
    /// Phase A − B at the reference epoch and frequency, in (−180°, 180°].
    pub phase_diff_deg: f64,
    pub phase_diff_sigma_deg: f64,
    pub snr_a: f64,
    pub snr_b: f64,
    /// Both fringes detected.
    pub detected: bool,
    /// Total delay (model + residual) A − B (TT s) and rate (s/s); null
    /// without a model table.
    pub total_delay_diff_s: Option<f64>,
    pub total_rate_diff_s_per_s: Option<f64>,
    /// A's geocentre epoch − B's (s): how far B was carried.
    pub epoch_offset_s: f64,
}

/// The CSV header of `--differential` output (no trailing newline).
pub const DIFF_CSV_HEADER: &str = "baseline,scan,scan_name,subband,source_a,source_b,\
ref_epoch_utc,ref_station,geocentre_epoch_utc,ref_freq_hz,mbd_diff_s,mbd_diff_sigma_s,\
sbd_diff_s,sbd_diff_sigma_s,rate_diff_s_per_s,rate_diff_sigma,phase_diff_deg,\
phase_diff_sigma_deg,snr_a,snr_b,detected,total_delay_diff_s,total_rate_diff_s_per_s,\
epoch_offset_s";

impl CsvRow for DifferentialRow {
    const HEADER: &'static str = DIFF_CSV_HEADER;
    fn to_csv(&self) -> String {
        [
            text(&self.baseline),
            self.scan.to_string(),
            self.scan_name.as_deref().map_or(String::new(), text),
            self.subband.map_or(String::new(), |b| b.to_string()),
            text(&self.source_a),
            text(&self.source_b),
            self.ref_epoch_utc.clone(),
            text(&self.ref_station),
            self.geocentre_epoch_utc.clone(),
            num(self.ref_freq_hz),
            num(self.mbd_diff_s),
            num(self.mbd_diff_sigma_s),
            num(self.sbd_diff_s),
            num(self.sbd_diff_sigma_s),
            num(self.rate_diff_s_per_s),
            num(self.rate_diff_sigma),
            num(self.phase_diff_deg),
            num(self.phase_diff_sigma_deg),
            num(self.snr_a),
            num(self.snr_b),
            self.detected.to_string(),
            opt(self.total_delay_diff_s),
            opt(self.total_rate_diff_s_per_s),
            num(self.epoch_offset_s),
        ]
        .join(",")
    }
}

/// One station's manual phase-cal terms in one subband (JSON).
#[derive(Debug, Clone, Serialize)]
pub struct ManualPcalTerm {
    pub phase_rad: f64,
    pub phase_sigma_rad: f64,
    pub delay_s: f64,
    pub delay_sigma_s: f64,
    /// The frequency `phase_rad` refers to (the subband's first channel).
    pub ref_freq_hz: f64,
}

/// Station → 1-based subband → terms.
pub fn manual_pcal_terms(
    m: &super::ManualPcal,
) -> BTreeMap<String, BTreeMap<String, ManualPcalTerm>> {
    let mut out: BTreeMap<String, BTreeMap<String, ManualPcalTerm>> = BTreeMap::new();
    for ((station, b, _), series) in m.cal.entries() {
        if let Some((_, t)) = series.samples().first() {
            out.entry(station.clone()).or_default().insert(
                (b + 1).to_string(),
                ManualPcalTerm {
                    phase_rad: t.phase_rad,
                    phase_sigma_rad: t.phase_sigma_rad,
                    delay_s: t.delay_s,
                    delay_sigma_s: t.delay_sigma_s,
                    ref_freq_hz: t.ref_freq_hz,
                },
            );
        }
    }
    out
}

/// `--format json` with `--manual-pcal`: the terms and the rows in one
/// object.
pub fn manual_pcal_json<R: Serialize>(m: &super::ManualPcal, rows: &[R]) -> String {
    #[derive(Serialize)]
    struct Out<'a, R: Serialize> {
        manual_pcal_scan: &'a str,
        manual_pcal_source: &'a str,
        manual_pcal_ref_station: &'a str,
        manual_pcal_pol: String,
        manual_pcal: BTreeMap<String, BTreeMap<String, ManualPcalTerm>>,
        /// "STATION:subband" whose terms the tones gave (--pcal too).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        manual_pcal_by_tones: Vec<String>,
        rows: &'a [R],
    }
    let out = Out {
        manual_pcal_scan: &m.scan,
        manual_pcal_source: &m.source,
        manual_pcal_ref_station: &m.ref_station,
        manual_pcal_pol: m.pol.to_string(),
        manual_pcal: manual_pcal_terms(m),
        manual_pcal_by_tones: m
            .by_tones
            .iter()
            .map(|(s, b)| format!("{s}:{}", b + 1))
            .collect(),
        rows,
    };
    serde_json::to_string_pretty(&out).expect("rows serialise") + "\n"
}

/// The terms as text (standard error in CSV mode), one line per station
/// and subband.
pub fn manual_pcal_text(m: &super::ManualPcal) -> String {
    let mut s = format!(
        "manual phase-cal from scan {} ({}), reference station {}, pol {}:\n",
        m.scan, m.source, m.ref_station, m.pol
    );
    for (station, bands) in manual_pcal_terms(m) {
        for (b, t) in bands {
            let toned = b
                .parse::<usize>()
                .is_ok_and(|n| m.by_tones.contains(&(station.clone(), n - 1)));
            if toned {
                s += &format!("  {station} subband {b}: from phase-cal tones\n");
                continue;
            }
            s += &format!(
                "  {station} subband {b}: phase {:+8.2}° ± {:.2}° at {:.6} MHz, delay {:+9.4} ns ± {:.4} ns\n",
                t.phase_rad.to_degrees(),
                t.phase_sigma_rad.to_degrees(),
                t.ref_freq_hz * 1e-6,
                t.delay_s * 1e9,
                t.delay_sigma_s * 1e9
            );
        }
    }
    s
}
