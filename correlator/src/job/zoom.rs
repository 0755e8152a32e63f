//! `[[zoom]]`: narrow bands at fine resolution cut out of the recorded
//! bands (DiFX's zoom bands), for spacecraft carriers and DOR tones of a
//! few Hz to kHz inside a wide band.
//!
//! A zoom is correlated in a pass of its own ([`Job::zoom_pass`]): the same
//! engine run on the same recordings with the zooms as its output bands and
//! a channel width of the zoom's (`bandwidth_hz / channels`), so the FFT is
//! as long as that width needs (1 Hz: one-second blocks, 2^24 points at
//! 16 MHz complex). Why not the main pass's FFT: over one second an
//! Earth–Moon delay moves by up to 5 µs, 80 samples at 16 MHz, so a block
//! that long smears every channel but those near the frequency at which the
//! delay's change is tracked. The zoom pass tracks it at each zoom's centre,
//! to second order (`Correlation::track_band_centre`, see
//! [`crate::engine::station`]), and keeps only the zoom's channels: the
//! smearing left across a zoom of width B is 2π·(B/2)·|Δτ| (under 0.01 rad
//! for 1 kHz and 2.5 µs).
//!
//! One pass holds every zoom, so every zoom has the same width and channel
//! count (one channel count per FITS-IDI file, as difx2fits asks too); the
//! pass writes `<output>_zoom.fits`. Its integrations are whole FFT blocks,
//! so `integration_s` must be a whole number of 1/Δf.

use super::raw::RawZoom;
use super::validate::parse_pol;
use super::{Job, JobError, Pol, Sideband, Subband};
use std::path::{Path, PathBuf};

/// One `[[zoom]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Zoom {
    /// Lower edge of the zoom band (it is written as a USB band).
    pub sky_freq_hz: f64,
    pub bandwidth_hz: f64,
    /// Channels across `bandwidth_hz` (the channel width is their ratio).
    pub channels: usize,
    /// Only this polarisation (`None`: every one recorded there).
    pub pol: Option<Pol>,
}

impl Zoom {
    pub fn chan_width_hz(&self) -> f64 {
        self.bandwidth_hz / self.channels as f64
    }

    fn upper_hz(&self) -> f64 {
        self.sky_freq_hz + self.bandwidth_hz
    }
}

/// `[[zoom]]` tables: positive edges and widths, a channel count, one
/// width and channel count for all (one pass, one file).
pub(super) fn validate(
    raw: Vec<RawZoom>,
    key_err: &dyn Fn(&str, String) -> JobError,
) -> Result<Vec<Zoom>, JobError> {
    let mut out: Vec<Zoom> = Vec::with_capacity(raw.len());
    for (i, z) in raw.into_iter().enumerate() {
        let k = |field: &str| format!("zoom[{i}].{field}");
        if !(z.sky_freq_hz.is_finite() && z.sky_freq_hz > 0.0) {
            return Err(key_err(
                &k("sky_freq_hz"),
                format!("must be positive, got {}", z.sky_freq_hz),
            ));
        }
        if !(z.bandwidth_hz.is_finite() && z.bandwidth_hz > 0.0) {
            return Err(key_err(
                &k("bandwidth_hz"),
                format!("must be positive, got {}", z.bandwidth_hz),
            ));
        }
        if !(1..=1 << 24).contains(&z.channels) {
            return Err(key_err(
                &k("channels"),
                format!("must be from 1 to 16777216, got {}", z.channels),
            ));
        }
        let pol = z
            .pol
            .as_deref()
            .map(|p| parse_pol(p, &k("pol"), key_err))
            .transpose()?;
        let zoom = Zoom {
            sky_freq_hz: z.sky_freq_hz,
            bandwidth_hz: z.bandwidth_hz,
            channels: z.channels as usize,
            pol,
        };
        if let Some(first) = out.first() {
            if first.channels != zoom.channels || first.bandwidth_hz != zoom.bandwidth_hz {
                return Err(key_err(
                    &k("bandwidth_hz"),
                    format!(
                        "{} Hz in {} channels, but zoom[0] has {} Hz in {}: every zoom needs the same width and channel count (one FITS-IDI channel count)",
                        zoom.bandwidth_hz, zoom.channels, first.bandwidth_hz, first.channels
                    ),
                ));
            }
        }
        out.push(zoom);
    }
    Ok(out)
}

/// `<output>` with `_<tag>` before its extension (`em.fits` →
/// `em_zoom.fits`; no extension: appended). Characters that do not belong
/// in a file name (anything but ASCII letters, digits, `.`, `_`, `+`, `-`)
/// become `_`.
pub fn tagged_output(base: &Path, tag: &str) -> PathBuf {
    let tag: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}_{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}_{tag}"),
    };
    base.with_file_name(name)
}

impl Job {
    /// The zoom pass of this job (`None` without `[[zoom]]`): the same
    /// stations, recordings, sources and span; output bands the zooms (one
    /// per zoom and polarisation); every station recording what it records
    /// in this job, written out as its own subbands; the zooms' channel
    /// width; the delay tracked at each band's centre; output
    /// `<output>_zoom.fits`. Errors name the zoom: one that no station
    /// records whole, or an integration that is not whole blocks.
    pub fn zoom_pass(&self) -> Result<Option<Job>, JobError> {
        let Some(first) = self.zooms.first() else {
            return Ok(None);
        };
        let err = |key: &str, why: String| JobError::Key {
            file: self.file.clone(),
            key: key.to_string(),
            why,
        };
        let df = first.chan_width_hz();
        let blocks = self.correlation.integration_s * df;
        if blocks < 1.0 - 1e-9 || (blocks - blocks.round()).abs() > 1e-6 * blocks.max(1.0) {
            return Err(err(
                "correlation.integration_s",
                format!(
                    "{} s is not a whole number of the zooms' FFT blocks ({} s for channels of {df} Hz): give a multiple of {} s",
                    self.correlation.integration_s,
                    1.0 / df,
                    1.0 / df
                ),
            ));
        }
        // What every station records, with its own thread and channel.
        let recorded: Vec<Vec<Subband>> = self
            .stations
            .iter()
            .map(|st| {
                st.recorded_subbands(&self.subbands)
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect()
            })
            .collect();
        let mut subbands = Vec::new();
        for (i, z) in self.zooms.iter().enumerate() {
            let holds = |r: &Subband| {
                let (lo, hi) = match r.sideband {
                    Sideband::Upper => (r.sky_freq_hz, r.sky_freq_hz + r.bandwidth_hz),
                    Sideband::Lower => (r.sky_freq_hz - r.bandwidth_hz, r.sky_freq_hz),
                };
                let tol = 1e-9 * z.sky_freq_hz;
                z.sky_freq_hz >= lo - tol && z.upper_hz() <= hi + tol
            };
            let mut pols: Vec<Pol> = Vec::new();
            for r in recorded.iter().flatten() {
                if holds(r) && z.pol.is_none_or(|p| p == r.pol) && !pols.contains(&r.pol) {
                    pols.push(r.pol);
                }
            }
            if pols.is_empty() {
                return Err(err(
                    &format!("zoom[{i}]"),
                    format!(
                        "{} – {} Hz{}: no station records a subband that holds it whole",
                        z.sky_freq_hz,
                        z.upper_hz(),
                        z.pol
                            .map(|p| format!(" ({})", p.letter()))
                            .unwrap_or_default()
                    ),
                ));
            }
            pols.sort_by_key(|p| p.rank());
            for p in pols {
                subbands.push(Subband {
                    sky_freq_hz: z.sky_freq_hz,
                    bandwidth_hz: z.bandwidth_hz,
                    sideband: Sideband::Upper,
                    pol: p,
                    thread: 0,
                    channel: subbands.len(),
                });
            }
        }
        let mut job = self.clone();
        for (st, rec) in job.stations.iter_mut().zip(recorded) {
            st.subbands = rec;
            st.slots = None;
        }
        job.subbands = subbands;
        job.zooms = Vec::new();
        job.correlation.channels = None;
        job.correlation.chan_width_hz = Some(df);
        job.correlation.track_band_centre = true;
        job.output = tagged_output(&self.output, "zoom");
        Ok(Some(job))
    }
}
