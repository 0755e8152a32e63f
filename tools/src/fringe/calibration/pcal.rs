//! Station terms from phase-cal tones (`--pcal`): per station, subband,
//! polarisation and time, the phase at the subband's reference frequency
//! and, with two or more tones, the delay from the slope of phase against
//! frequency.
//!
//! Tone phases are taken in the sky-frequency convention (an LSB band's
//! extractor conjugates), as arg G(f_k, t) of [`super`]: a tone at f_k
//! reads φ − 2π(f_k − f_ref)·τ. The phases are unwrapped along frequency
//! (tones in frequency order, each step taken as the shorter arc: right
//! while |τ| < 1/(2·spacing), 500 ns for 1 MHz tones) and a straight line
//! is fitted, weighted by the tones' squared amplitudes: its value at f_ref
//! is φ, its slope −2πτ. With one tone, φ is that tone's phase and τ = 0.
//! In time, [`super::CalSeries`] interpolates linearly between readings.
//!
//! Formal errors: a tone of amplitude |c| (units of the recording's rms per
//! component, `correlator::engine::pcal`) extracted from S complex samples
//! (S = bandwidth × interval: a real band at 2B samples/s gives the same
//! count of independent values) has phase noise σ_k = 1/(|c|·√S) — the
//! tone's SNR in a 1/T-wide bin. So the weights |c_k|² are the inverse
//! variances up to S, and the line's errors follow from weighted least
//! squares. The bandwidth is the output band's (the PHASE-CAL table does
//! not carry the station's own) and every sample is taken as valid.

use super::{CalError, CalTerm, StationCal};
use formats::UtcTime;
use num_complex::Complex64;
use std::f64::consts::PI;

/// One station's tones in one subband and polarisation at one time (the
/// centre of the extraction interval): (sky frequency in Hz, complex
/// amplitude). Tones with frequency ≤ 0 or amplitude 0 are unused slots.
#[derive(Debug, Clone, PartialEq)]
pub struct ToneReading {
    pub station: String,
    /// 0-based subband.
    pub subband: usize,
    pub pol: char,
    pub time: UtcTime,
    pub tones: Vec<(f64, Complex64)>,
    /// S of the module docs: complex samples behind each tone (bandwidth
    /// × interval); 0 when unknown (no formal errors).
    pub samples: f64,
}

/// The terms of every reading; `ref_freq_hz[b]` is subband b's reference
/// frequency (its first channel's sky frequency).
pub fn from_tones(readings: &[ToneReading], ref_freq_hz: &[f64]) -> Result<StationCal, CalError> {
    let mut cal = StationCal::new();
    for r in readings {
        let bad = |why: String| CalError::BadTones {
            station: r.station.clone(),
            subband: r.subband + 1,
            pol: r.pol,
            why,
        };
        let &f_ref = ref_freq_hz
            .get(r.subband)
            .ok_or_else(|| bad(format!("the file has {} subbands", ref_freq_hz.len())))?;
        let term = tone_fit(&r.tones, f_ref, r.samples).map_err(bad)?;
        cal.insert(&r.station, r.subband, r.pol, r.time, term);
    }
    Ok(cal)
}

/// φ and τ of one reading, with their formal errors for `samples` S
/// (module docs; S = 0: errors 0).
pub fn tone_fit(tones: &[(f64, Complex64)], f_ref: f64, samples: f64) -> Result<CalTerm, String> {
    let mut used: Vec<(f64, Complex64)> = tones
        .iter()
        .copied()
        .filter(|(f, z)| *f > 0.0 && f.is_finite() && z.norm() > 0.0 && z.norm().is_finite())
        .collect();
    if used.is_empty() {
        return Err("no tone with a frequency and an amplitude".into());
    }
    used.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Unwrap along frequency: each step the shorter arc.
    let mut phases = Vec::with_capacity(used.len());
    let mut prev = used[0].1.arg();
    phases.push(prev);
    for w in used.windows(2) {
        let step = (w[1].1 * w[0].1.conj()).arg();
        prev += step;
        phases.push(prev);
    }
    let w: Vec<f64> = used.iter().map(|(_, z)| z.norm_sqr()).collect();
    let sw: f64 = w.iter().sum();
    let fm = used.iter().zip(&w).map(|((f, _), w)| w * f).sum::<f64>() / sw;
    let pm = phases.iter().zip(&w).map(|(p, w)| w * p).sum::<f64>() / sw;
    let sxx: f64 = used
        .iter()
        .zip(&w)
        .map(|((f, _), w)| w * (f - fm).powi(2))
        .sum();
    let slope = if used.len() >= 2 && sxx > 0.0 {
        used.iter()
            .zip(&phases)
            .zip(&w)
            .map(|(((f, _), p), w)| w * (f - fm) * (p - pm))
            .sum::<f64>()
            / sxx
    } else {
        0.0
    };
    // Inverse variances S·|c_k|²: var(mean) = 1/(S·Σw), var(slope) =
    // 1/(S·Sxx), uncorrelated at the weighted mean frequency fm; carried to
    // f_ref: φ = mean + slope·(f_ref − fm), τ = −slope/2π.
    let (var_mean, var_slope) = if samples > 0.0 {
        let slope_var = if used.len() >= 2 && sxx > 0.0 {
            1.0 / (samples * sxx)
        } else {
            0.0
        };
        (1.0 / (samples * sw), slope_var)
    } else {
        (0.0, 0.0)
    };
    let lever = f_ref - fm;
    Ok(CalTerm {
        phase_rad: super::wrap_pi(pm + slope * lever),
        delay_s: -slope / (2.0 * PI),
        phase_rate_rad_per_s: 0.0,
        ref_freq_hz: f_ref,
        phase_sigma_rad: (var_mean + lever * lever * var_slope).sqrt(),
        delay_sigma_s: var_slope.sqrt() / (2.0 * PI),
        phase_delay_cov: -lever * var_slope / (2.0 * PI),
    })
}

/// The station polarisations of a file, in the order of the Stokes axis's
/// first appearances (RR, LL → R, L): what a PHASE-CAL row's pol index
/// counts (emcorr writes one pcal pol per recorded polarisation, in that
/// order).
pub fn station_pols(stokes: &[i32]) -> Vec<char> {
    let mut pols = Vec::new();
    for &code in stokes {
        let (a, b) = super::product_pols(code);
        for p in [a, b] {
            if !pols.contains(&p) {
                pols.push(p);
            }
        }
    }
    pols
}

/// FITS-IDI PHASE-CAL rows as tone readings: antenna numbers named by
/// `name` (the ANTENNA table: [`crate::fringe::antenna_name`]), pol index p
/// as [`station_pols`]`(stokes)[p]`, tones of frequency 0 (padding)
/// dropped.
/// `bandwidth_hz[b]` is band b's bandwidth (for the tones' formal errors).
pub fn readings_from_rows(
    rows: &[formats::fitsidi::PcalRow],
    stokes: &[i32],
    bandwidth_hz: &[f64],
    name: impl Fn(u32) -> String,
) -> Vec<ToneReading> {
    let pols = station_pols(stokes);
    let mut out = Vec::new();
    for r in rows {
        let station = name(r.antenna_no);
        for (p, bands) in r.freq_hz.iter().enumerate() {
            let pol = pols.get(p).copied().unwrap_or('?');
            for (b, freqs) in bands.iter().enumerate() {
                let tones = freqs
                    .iter()
                    .enumerate()
                    .filter(|(_, &f)| f > 0.0)
                    .map(|(k, &f)| {
                        let re = r.re.get(p).and_then(|x| x.get(b)).and_then(|x| x.get(k));
                        let im = r.im.get(p).and_then(|x| x.get(b)).and_then(|x| x.get(k));
                        let z = Complex64::new(
                            re.copied().unwrap_or(0.0) as f64,
                            im.copied().unwrap_or(0.0) as f64,
                        );
                        (f, z)
                    })
                    .collect();
                out.push(ToneReading {
                    station: station.clone(),
                    subband: b,
                    pol,
                    time: r.time,
                    tones,
                    samples: bandwidth_hz.get(b).copied().unwrap_or(0.0) * r.time_interval_s,
                });
            }
        }
    }
    out
}
