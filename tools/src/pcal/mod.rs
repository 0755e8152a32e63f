//! Phase-cal tones of a FITS-IDI file (its PHASE-CAL table) as a flat list:
//! one [`PcalPoint`] per station, time, band, polarisation and tone, for
//! `emcorr pcal` (CSV / JSON) and `emcorr plot --pcal`.
//!
//! Conventions are the table's (formats::fitsidi::PcalRow): a tone's phase
//! is that of the tone at its sky frequency as the station's chain
//! delivers it, the same for USB and LSB; its amplitude is in units of the
//! recording's rms (a tone A·cos, peak A in σ, reads A).

use std::io::Write;
use std::path::{Path, PathBuf};

use formats::fitsidi::{IdiError, IdiHeader, IdiReader, PcalRow};
use formats::UtcTime;

/// One tone of one station at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct PcalPoint {
    /// ANNAME of the row's antenna.
    pub station: String,
    /// Centre of the interval.
    pub time: UtcTime,
    /// 1-based band (FREQUENCY table order).
    pub band: usize,
    /// Feed: "R"/"L" or "X"/"Y" (from the file's polarisation products).
    pub pol: String,
    /// 1-based tone within the band, in the table's order.
    pub tone: usize,
    pub sky_freq_hz: f64,
    /// |re + i·im|, in units of the recording's rms.
    pub amplitude: f64,
    /// atan2(im, re), radians in (−π, π].
    pub phase_rad: f64,
    /// PC_RATE: the rate of the tone's phase as a delay rate (s/s).
    pub rate_s_per_s: f64,
}

/// Why the tones could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PcalError {
    #[error(transparent)]
    Idi(#[from] IdiError),
    /// The file has no PHASE-CAL table (or an empty one).
    #[error("{}: no PHASE-CAL table (the correlator extracted no phase-cal tones into this file)", .0.display())]
    NoTable(PathBuf),
}

impl PcalError {
    /// True for failures of the system (exit code 3), false for bad input.
    pub fn is_io(&self) -> bool {
        match self {
            PcalError::Idi(e) => e.is_io(),
            PcalError::NoTable(_) => false,
        }
    }
}

/// Feed labels of the table's NO_POL polarisations, from the file's
/// polarisation products: one feed is the one its first product uses (RR →
/// R, LL → L, XX → X, YY → Y); two are R, L or X, Y.
pub fn feed_labels(h: &IdiHeader, n_pol: usize) -> Vec<String> {
    let linear = h.stokes.iter().any(|s| (-8..=-5).contains(s));
    let both = if linear { ["X", "Y"] } else { ["R", "L"] };
    if n_pol == 1 {
        let one = match h.stokes.first() {
            Some(-2) => "L",
            Some(-6) => "Y",
            Some(-5) => "X",
            _ => both[0],
        };
        vec![one.to_string()]
    } else {
        both.iter().take(n_pol).map(|s| s.to_string()).collect()
    }
}

/// The tones of `rows` (padding, frequency 0, left out), in row order, then
/// band, polarisation and tone.
pub fn points(h: &IdiHeader, rows: &[PcalRow]) -> Vec<PcalPoint> {
    let mut out = Vec::new();
    for r in rows {
        let station = h
            .antennas
            .iter()
            .find(|a| a.id == r.antenna_no)
            .map_or_else(|| format!("#{}", r.antenna_no), |a| a.name.clone());
        let pols = feed_labels(h, r.n_pol());
        let n_band = r.freq_hz.first().map_or(0, |p| p.len());
        for b in 0..n_band {
            for (p, pol) in pols.iter().enumerate() {
                for (t, &f) in r.freq_hz[p][b].iter().enumerate() {
                    if f == 0.0 {
                        continue;
                    }
                    let (re, im) = (r.re[p][b][t] as f64, r.im[p][b][t] as f64);
                    out.push(PcalPoint {
                        station: station.clone(),
                        time: r.time,
                        band: b + 1,
                        pol: pol.clone(),
                        tone: t + 1,
                        sky_freq_hz: f,
                        amplitude: re.hypot(im),
                        phase_rad: im.atan2(re),
                        rate_s_per_s: r.rate[p][b][t] as f64,
                    });
                }
            }
        }
    }
    out
}

/// The file's header and tones; [`PcalError::NoTable`] if it has none.
pub fn read(path: &Path) -> Result<(IdiHeader, Vec<PcalPoint>), PcalError> {
    let r = IdiReader::open(path)?;
    if r.pcal().is_empty() {
        return Err(PcalError::NoTable(path.to_path_buf()));
    }
    let pts = points(r.header(), r.pcal());
    Ok((r.header().clone(), pts))
}

/// Column names of the CSV, also the JSON keys.
pub const COLUMNS: [&str; 9] = [
    "station",
    "time_utc",
    "band",
    "pol",
    "tone",
    "sky_freq_hz",
    "amplitude",
    "phase_rad",
    "rate_s_per_s",
];

/// A header line, then one line per point.
pub fn write_csv(out: &mut impl Write, points: &[PcalPoint]) -> std::io::Result<()> {
    writeln!(out, "{}", COLUMNS.join(","))?;
    for p in points {
        writeln!(
            out,
            "{},{},{},{},{},{:.3},{:.9e},{:.9},{:.9e}",
            p.station,
            p.time.to_iso8601(),
            p.band,
            p.pol,
            p.tone,
            p.sky_freq_hz,
            p.amplitude,
            p.phase_rad,
            p.rate_s_per_s
        )?;
    }
    Ok(())
}

/// An array of objects with the CSV's columns as keys (non-finite numbers
/// as null).
pub fn to_json(points: &[PcalPoint]) -> serde_json::Value {
    let num = |x: f64| {
        serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
    };
    points
        .iter()
        .map(|p| {
            serde_json::json!({
                "station": p.station,
                "time_utc": p.time.to_iso8601(),
                "band": p.band,
                "pol": p.pol,
                "tone": p.tone,
                "sky_freq_hz": num(p.sky_freq_hz),
                "amplitude": num(p.amplitude),
                "phase_rad": num(p.phase_rad),
                "rate_s_per_s": num(p.rate_s_per_s),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use formats::fitsidi::{IdiAntenna, IdiEop, IdiSource, Mount};

    fn header(stokes: Vec<i32>) -> IdiHeader {
        IdiHeader {
            obscode: "T".into(),
            telescope: "VLBA".into(),
            correlator: "EMCORR".into(),
            correlator_version: "t".into(),
            ref_date: UtcTime::from_mjd(61113, 0.0),
            ref_freq_hz: 8.4e9,
            n_chan: 4,
            chan_bw_hz: 1e6,
            ref_pixel: 1.0,
            fx: None,
            bands: vec![],
            stokes,
            antennas: vec![IdiAntenna {
                name: "EF".into(),
                id: 1,
                xyz_m: [0.0; 3],
                vel_m_s: [0.0; 3],
                mount: Mount::AltAz,
                axis_offset_m: 0.0,
                diameter_m: 0.0,
                n_levels: 4,
            }],
            sources: vec![IdiSource {
                id: 1,
                name: "S".into(),
                calcode: String::new(),
                ra_deg: 0.0,
                dec_deg: 0.0,
            }],
            array_xyz_m: [0.0; 3],
            eop: IdiEop::default(),
            scans: vec![],
        }
    }

    #[test]
    fn padding_is_left_out_and_phase_is_atan2_im_re() {
        let h = header(vec![-2]);
        let row = PcalRow {
            time: h.ref_date.add_seconds(10.0),
            time_interval_s: 1.0,
            source_id: 1,
            antenna_no: 1,
            freq_id: 1,
            cable_cal_s: 0.0,
            freq_hz: vec![vec![vec![8.401e9, 0.0]]],
            re: vec![vec![vec![-0.3, 0.0]]],
            im: vec![vec![vec![0.4, 0.0]]],
            rate: vec![vec![vec![2e-12, 0.0]]],
            state: vec![vec![[0.0; 4]]],
        };
        let p = points(&h, &[row]);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].station.as_str(), p[0].pol.as_str()), ("EF", "L"));
        assert!((p[0].amplitude - 0.5).abs() < 1e-7);
        assert!((p[0].phase_rad - 0.4f64.atan2(-0.3)).abs() < 1e-7);
        let mut csv = Vec::new();
        write_csv(&mut csv, &p).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with("station,time_utc,band,pol,tone,sky_freq_hz"));
    }

    #[test]
    fn feeds_follow_the_polarisation_products() {
        assert_eq!(feed_labels(&header(vec![-1, -2]), 2), ["R", "L"]);
        assert_eq!(feed_labels(&header(vec![-5, -6, -7, -8]), 2), ["X", "Y"]);
        assert_eq!(feed_labels(&header(vec![-1]), 1), ["R"]);
        assert_eq!(feed_labels(&header(vec![-6]), 1), ["Y"]);
    }
}
