//! A solution as text (for people) or JSON (for programs).
//!
//! JSON keys: `reference_station`, `clock_epoch_utc`, `parameters`
//! ([{name, apriori, estimate, correction, sigma, unit}]), `correlation`
//! ({names, matrix}), `not_estimated` ([{name, apriori, unit, why,
//! involved}]), `chi2_dof`, `dof`, `n_observations`, `n_used`, `n_constraints`
//! (pseudo-observations between piecewise-linear nodes), `n_flagged`,
//! `skipped_subband_rows`, `skipped_undetected_rows`, `iterations`,
//! `reject_sigma`, `observations` ([{scan, baseline, source,
//! geocentre_epoch_utc, residual_s, sigma_s, flagged, observable,
//! source_b, ambiguity_cycles, flag_reason}]: `observable` is
//! `group_delay` or `phase_delay_diff`, the same-beam phase delay source −
//! source_b; `flag_reason` "outlier" or why an ambiguity was refused),
//! `n_phase_delay_diff`, `n_ambiguity_refused`, `derived` (the
//! selenographic latitude, longitude, height and east/north/up corrections
//! of estimated lunar positions, same fields as `parameters`:
//! [`super::derived`]), `derived_notes` (keys added later are appended). Numbers that are not finite (χ²/dof without degrees of
//! freedom) are null.

use super::{Estimate, NotEstimated, Residual, Solution};
use serde::Serialize;

#[derive(Serialize)]
struct Correlation<'a> {
    names: Vec<&'a str>,
    matrix: &'a [Vec<f64>],
}

#[derive(Serialize)]
struct Json<'a> {
    reference_station: &'a str,
    clock_epoch_utc: String,
    parameters: &'a [Estimate],
    correlation: Correlation<'a>,
    not_estimated: &'a [NotEstimated],
    chi2_dof: Option<f64>,
    dof: usize,
    n_observations: usize,
    n_used: usize,
    n_constraints: usize,
    n_flagged: usize,
    skipped_subband_rows: usize,
    skipped_undetected_rows: usize,
    iterations: usize,
    reject_sigma: f64,
    observations: &'a [Residual],
    n_phase_delay_diff: usize,
    n_ambiguity_refused: usize,
    derived: &'a [Estimate],
    derived_notes: &'a [String],
}

pub fn to_json(s: &Solution) -> String {
    let j = Json {
        reference_station: &s.reference_station,
        clock_epoch_utc: s.clock_epoch.to_iso8601(),
        parameters: &s.parameters,
        correlation: Correlation {
            names: s.parameters.iter().map(|p| p.name.as_str()).collect(),
            matrix: &s.correlation,
        },
        not_estimated: &s.not_estimated,
        chi2_dof: Some(s.chi2_dof).filter(|x| x.is_finite()),
        dof: s.dof,
        n_observations: s.residuals.len(),
        n_used: s.n_used,
        n_constraints: s.n_constraints,
        n_flagged: s.n_flagged,
        skipped_subband_rows: s.skipped_subband,
        skipped_undetected_rows: s.skipped_undetected,
        iterations: s.iterations,
        reject_sigma: s.reject_sigma,
        observations: &s.residuals,
        n_phase_delay_diff: s.n_phase_delay_diff,
        n_ambiguity_refused: s.n_ambiguity_refused,
        derived: &s.derived,
        derived_notes: &s.derived_notes,
    };
    serde_json::to_string_pretty(&j).expect("a solution serialises") + "\n"
}

/// A value and σ in a readable unit: clocks in ns (ps/s for rates),
/// positions in m, angles in mas, selenographic latitude and longitude in
/// degrees (their σ in metres are the east/north rows beside them).
fn shown(e: &Estimate) -> (f64, f64, f64, &'static str) {
    let selenographic = e.name.ends_with(":moon_lat_rad") || e.name.ends_with(":moon_lon_rad");
    let k = match e.unit.as_str() {
        "rad" if selenographic => (180.0 / std::f64::consts::PI, "deg"),
        "s" => (1e9, "ns"),
        "s/s" => (1e12, "ps/s"),
        "s/s^2" => (1e12, "ps/s^2"),
        "rad" => (180.0 / std::f64::consts::PI * 3.6e6, "mas"),
        _ => (1.0, "m"),
    };
    (e.estimate * k.0, e.correction * k.0, e.sigma * k.0, k.1)
}

pub fn to_text(s: &Solution) -> String {
    let mut t = String::new();
    t += &format!(
        "reference clock {} (held at its a priori); clock epoch {}\n",
        s.reference_station,
        s.clock_epoch.to_iso8601()
    );
    t += &format!(
        "{} observations: {} used, {} flagged (> {}σ); {} single-subband and {} undetected rows skipped; {} iterations\n",
        s.residuals.len(),
        s.n_used,
        s.n_flagged,
        s.reject_sigma,
        s.skipped_subband,
        s.skipped_undetected,
        s.iterations
    );
    if s.n_phase_delay_diff > 0 {
        t += &format!(
            "{} of them same-beam differential phase delays, {} with their ambiguity refused (flagged)\n",
            s.n_phase_delay_diff, s.n_ambiguity_refused
        );
    }
    t += &format!(
        "chi2/dof {:.3} ({} degrees of freedom)\n\n",
        s.chi2_dof, s.dof
    );
    let w = s
        .parameters
        .iter()
        .chain(&s.derived)
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(9);
    t += &format!(
        "{:<w$}  {:>22}  {:>16}  {:>14}  unit\n",
        "parameter", "estimate", "correction", "sigma"
    );
    for p in &s.parameters {
        let (v, c, sg, u) = shown(p);
        let prec = if u == "m" { 4 } else { 6 };
        t += &format!(
            "{:<w$}  {v:>22.prec$}  {c:>+16.prec$}  {sg:>14.prec$}  {u}\n",
            p.name
        );
    }
    if !s.derived.is_empty() || !s.derived_notes.is_empty() {
        t += "\nderived from the lunar x, y, z (selenographic; east/north/up are corrections at the a priori):\n";
        for p in &s.derived {
            let (v, c, sg, u) = shown(p);
            let prec = match u {
                "m" => 4,
                "deg" => 9,
                _ => 6,
            };
            t += &format!(
                "{:<w$}  {v:>22.prec$}  {c:>+16.prec$}  {sg:>14.prec$}  {u}\n",
                p.name
            );
        }
        for n in &s.derived_notes {
            t += &format!("  {n}\n");
        }
    }
    if !s.not_estimated.is_empty() {
        t += "\nnot estimated (held at the a priori):\n";
        for n in &s.not_estimated {
            t += &format!("  {}\n", n.why);
        }
    }
    if !s.parameters.is_empty() {
        t += "\ncorrelation matrix (rows and columns in the order above):\n";
        for row in &s.correlation {
            let cells: Vec<String> = row.iter().map(|c| format!("{c:+.2}")).collect();
            t += &format!("  {}\n", cells.join(" "));
        }
    }
    t += "\nresiduals (observed − model):\n";
    t += &format!(
        "  {:<10} {:<12} {:<24} {:<30} {:>12} {:>10}  flagged\n",
        "scan", "baseline", "source", "geocentre epoch", "residual_ps", "sigma_ps"
    );
    for r in &s.residuals {
        // A same-beam phase delay shows as "SOURCE−SOURCE_B (φ)".
        let source = match &r.source_b {
            Some(b) => format!("{}−{b} (φ)", r.source),
            None => r.source.clone(),
        };
        t += &format!(
            "  {:<10} {:<12} {:<24} {:<30} {:>12.3} {:>10.3}  {}\n",
            r.scan,
            r.baseline,
            source,
            r.geocentre_epoch_utc,
            r.residual_s * 1e12,
            r.sigma_s * 1e12,
            r.flag_reason.as_deref().unwrap_or("")
        );
    }
    t
}
