//! Where integrations go. FITS-IDI is one implementation (in the CLI layer,
//! through `formats`); [`MemorySink`] keeps them for tests and tools.

use super::accumulate::Integration;
use super::error::EngineError;
use super::plan::Layout;
use crate::job::{Job, Source};
use crate::model::{uvw_m, DelayTrack, PositionTrack};
use formats::UtcTime;

/// One phase centre of a run, as a sink is told it.
#[derive(Debug, Clone)]
pub struct CentreHeader<'a> {
    pub source: &'a Source,
    /// SOURCE_ID of the centre's rows (by default its 1-based place in
    /// the job's sources: [`super::Engine::set_source_ids`]).
    pub source_id: u32,
    /// The delay model used, per station (for FITS-IDI model tables).
    pub tracks: &'a [DelayTrack],
    /// Geocentric position tracks (stations with a position) with this
    /// centre's direction, for UVW.
    pub positions: &'a [Option<PositionTrack>],
}

/// What a sink is told before the first integration.
#[derive(Debug, Clone)]
pub struct RunHeader<'a> {
    pub job: &'a Job,
    pub layout: &'a Layout,
    /// Geocentric UTC of the first block's start.
    pub start: UtcTime,
    /// Where the data end, when known (the job's duration, or the
    /// shortest recording when every one is a file).
    pub data_end: Option<UtcTime>,
    /// Per phase centre, in [`Layout::centres`] order (the outermost
    /// dimension of every [`Integration`]).
    pub centres: Vec<CentreHeader<'a>>,
    /// Bits per sample of each station's recording.
    pub bits: Vec<u8>,
}

/// A consumer of correlator output.
pub trait Sink {
    fn begin(&mut self, header: &RunHeader) -> Result<(), EngineError>;
    fn write(&mut self, layout: &Layout, integration: &Integration) -> Result<(), EngineError>;
    /// Called once after the last integration (not after an error).
    fn finish(&mut self) -> Result<(), EngineError>;
}

/// Keeps everything in memory.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    pub layout: Option<Layout>,
    pub start: Option<UtcTime>,
    pub integrations: Vec<Integration>,
    pub finished: bool,
}

impl Sink for MemorySink {
    fn begin(&mut self, header: &RunHeader) -> Result<(), EngineError> {
        self.layout = Some(header.layout.clone());
        self.start = Some(header.start);
        Ok(())
    }

    fn write(&mut self, _layout: &Layout, integration: &Integration) -> Result<(), EngineError> {
        self.integrations.push(integration.clone());
        Ok(())
    }

    fn finish(&mut self) -> Result<(), EngineError> {
        self.finished = true;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// FITS-IDI.

use crate::job::{SourcePosition, StationPosition};
use formats::fitsidi::{
    IdiAntenna, IdiBand, IdiEop, IdiError, IdiHeader, IdiSource, IdiWriter, ModelRow, Mount, UvRow,
};
use formats::output::OutputTarget;
use std::path::{Path, PathBuf};

/// Writes FITS-IDI through `formats::fitsidi`: one UV_DATA row per
/// integration, phase centre and baseline (autocorrelations included; the
/// centre's SOURCE_ID), the delay model of every centre applied in
/// INTERFEROMETER_MODEL (rows with the centre's SOURCE_ID). The file is `<path>.partial` until
/// [`Sink::finish`] (or, for a device or FIFO, a temporary copied into it
/// then: [`formats::output`]); dropping the sink before that removes it.
///
/// Frequencies: BANDFREQ of a band is its LO (channel 1, REF_PIXL 1); an LSB
/// band has SIDEBAND −1 and its channels run down from the LO (channel
/// width positive), as [`Layout::channel_freq_hz`] says.
///
/// UVW come from the model's position tracks (zero on baselines with a
/// `delay_poly`-only station). ARRAY_GEOMETRY positions are the job's
/// `itrf_m`; lunar stations and stations without a position get zeros there
/// (their exact geometry is in the model table and UVW).
pub struct IdiSink {
    path: PathBuf,
    /// Where the file goes; `None`: `path`, replacing a regular file there.
    target: Option<OutputTarget>,
    /// Per centre: SOURCE_ID and position tracks (for UVW).
    centres: Vec<(u32, Vec<Option<PositionTrack>>)>,
    writer: Option<IdiWriter>,
    n_chan: usize,
    n_stokes: usize,
    n_band: usize,
    /// Model rows cover this many seconds after the start when the job has
    /// no duration.
    pub model_span_s: f64,
}

impl IdiSink {
    /// Write to `path`, replacing a regular file there at the end (a device
    /// or FIFO is written into, a directory refused).
    pub fn new(path: &Path) -> Self {
        IdiSink {
            path: path.to_path_buf(),
            target: None,
            centres: Vec::new(),
            writer: None,
            n_chan: 0,
            n_stokes: 0,
            n_band: 0,
            model_span_s: 3600.0,
        }
    }

    /// Write where `target` says (resolved by the caller, who decided
    /// whether an existing file may be replaced).
    pub fn to_target(target: OutputTarget) -> Self {
        IdiSink {
            target: Some(target.clone()),
            ..IdiSink::new(target.given())
        }
    }

    /// Keep `<path>.partial` (with the integrations written so far) when the
    /// sink is dropped unfinished, instead of removing it: for a run that was
    /// interrupted and may be resumed.
    pub fn keep_partial_on_drop(&mut self, keep: bool) {
        if let Some(w) = &mut self.writer {
            w.keep_partial_on_drop(keep);
        }
    }
}

fn idi_err(e: IdiError) -> EngineError {
    match e {
        // The output path was wrong (a directory, a file that appeared
        // under the name): the user's to fix, as at the start.
        IdiError::Target(t) if !t.is_io() => EngineError::BadInput(t.to_string()),
        e => EngineError::Sink(e.to_string()),
    }
}

/// The SOURCE table: every phase centre's source with its SOURCE_ID
/// (1, 2, … in job order unless the engine was told otherwise). A
/// near-field source has no fixed direction: RA/Dec 0 (its geometry is in
/// the model table and UVW).
fn idi_sources(centres: &[CentreHeader]) -> Vec<IdiSource> {
    centres
        .iter()
        .map(|c| {
            let src = c.source;
            let (ra_deg, dec_deg) = match src.position {
                SourcePosition::RaDec { ra_rad, dec_rad } => {
                    (ra_rad.to_degrees(), dec_rad.to_degrees())
                }
                _ => (0.0, 0.0),
            };
            IdiSource {
                id: c.source_id,
                name: src.name.chars().take(16).collect(),
                calcode: String::new(),
                ra_deg,
                dec_deg,
            }
        })
        .collect()
}

/// Coefficients of Σ c_m (t0 + x)^m as a polynomial in x (Taylor shift).
fn shift_poly(c: &[f64], t0: f64) -> Vec<f64> {
    let n = c.len();
    let mut out = c.to_vec();
    // Repeated synthetic division (Horner) gives the shifted coefficients.
    for i in 0..n {
        for k in (i..n - 1).rev() {
            out[k] += t0 * out[k + 1];
        }
    }
    out
}

/// INTERFEROMETER_MODEL rows: per phase centre (its SOURCE_ID) and
/// station, intervals of the track's pieces (or of 120 s for a piece
/// without end) over [start, start + span_s].
fn model_rows(header: &RunHeader, span_s: f64, n_band: usize) -> Vec<ModelRow> {
    let end = header.start.add_seconds(span_s);
    let npoly = header
        .centres
        .iter()
        .flat_map(|c| c.tracks)
        .flat_map(|t| t.pieces.iter().map(|p| p.coeffs_s.len()))
        .max()
        .unwrap_or(1)
        .max(2);
    let mut rows = Vec::new();
    let tracks = header.centres.iter().flat_map(|c| {
        c.tracks
            .iter()
            .enumerate()
            .map(|(s, t)| (c.source_id, s, t))
    });
    for (source_id, s, track) in tracks {
        let mut t = header.start;
        while t < end {
            let piece = track.piece(t);
            let piece_end = if piece.span_s.is_finite() {
                piece.epoch.add_seconds(piece.span_s)
            } else {
                t.add_seconds(120.0)
            };
            if piece_end <= t {
                // Past the end of the model (it covers the data, and a
                // stream's span is not known): no rows to write there.
                break;
            }
            let interval = piece_end.seconds_since(t).clamp(1e-3, 120.0);
            let mut c = shift_poly(&piece.coeffs_s, t.seconds_since(piece.epoch));
            c.resize(npoly, 0.0);
            let clock_s =
                track.clock.offset_s + track.clock.rate * t.seconds_since(track.clock.epoch);
            c[0] += clock_s;
            c[1] += track.clock.rate;
            let deriv: Vec<f64> = (0..npoly)
                .map(|k| {
                    if k + 1 < npoly {
                        (k + 1) as f64 * c[k + 1]
                    } else {
                        0.0
                    }
                })
                .collect();
            let per_band = |scale: &dyn Fn(usize) -> f64, p: &[f64]| -> Vec<Vec<f64>> {
                (0..n_band)
                    .map(|b| p.iter().map(|x| x * scale(b)).collect())
                    .collect()
            };
            let lo = |b: usize| header.layout.bands[b].sky_freq_hz;
            rows.push(ModelRow {
                time: t,
                interval_s: interval,
                antenna: s as u32 + 1,
                source_id,
                freq_id: 1,
                pdelay_turns: per_band(&lo, &c),
                gdelay_s: per_band(&|_| 1.0, &c),
                prate_hz: per_band(&lo, &deriv),
                grate_s_s: per_band(&|_| 1.0, &deriv),
                disp_s: 0.0,
                ddisp_s_s: 0.0,
                clock_s,
                dclock_s_s: track.clock.rate,
            });
            t = t.add_seconds(interval);
        }
    }
    rows
}

impl Sink for IdiSink {
    fn begin(&mut self, h: &RunHeader) -> Result<(), EngineError> {
        let l = h.layout;
        let job = h.job;
        let ref_freq = l.bands[0].sky_freq_hz;
        let (mjd, _) = h.start.mjd();
        let antennas = job
            .stations
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let (xyz_m, mount) = match st.position {
                    StationPosition::Itrf(x) => (x, Mount::AltAz),
                    StationPosition::Moon(_) | StationPosition::MoonXyz(_) => {
                        ([0.0; 3], Mount::Orbiting)
                    }
                    StationPosition::None => ([0.0; 3], Mount::AltAz),
                };
                IdiAntenna {
                    name: st.name.chars().take(8).collect(),
                    id: i as u32 + 1,
                    xyz_m,
                    vel_m_s: [0.0; 3],
                    mount,
                    axis_offset_m: 0.0,
                    diameter_m: 0.0,
                    n_levels: 1 << h.bits.get(i).copied().unwrap_or(2).min(16),
                }
            })
            .collect();
        let header = IdiHeader {
            obscode: job.name.chars().take(16).collect(),
            telescope: "VLBA".into(),
            correlator: "EMCORR".into(),
            correlator_version: env!("CARGO_PKG_VERSION").into(),
            ref_date: UtcTime::from_mjd(mjd, 0.0),
            ref_freq_hz: ref_freq,
            n_chan: l.nchan,
            chan_bw_hz: l.chan_width_hz,
            ref_pixel: 1.0,
            bands: l
                .bands
                .iter()
                .map(|b| IdiBand {
                    freq_offset_hz: b.sky_freq_hz - ref_freq,
                    sideband: if b.sideband == crate::job::Sideband::Upper {
                        1
                    } else {
                        -1
                    },
                    total_bw_hz: b.bandwidth_hz,
                    chan_bw_hz: l.chan_width_hz,
                })
                .collect(),
            stokes: (0..l.products.len()).map(|p| l.stokes_code(p)).collect(),
            antennas,
            sources: idi_sources(&h.centres),
            array_xyz_m: [0.0; 3],
            eop: IdiEop::default(),
        };
        let span = job
            .duration_s
            .or(h.data_end.map(|e| e.seconds_since(h.start)))
            .unwrap_or(self.model_span_s);
        let models = model_rows(h, span, l.bands.len());
        self.centres = h
            .centres
            .iter()
            .map(|c| (c.source_id, c.positions.to_vec()))
            .collect();
        self.n_chan = l.nchan;
        self.n_stokes = l.products.len();
        self.n_band = l.bands.len();
        let writer = match &self.target {
            Some(t) => IdiWriter::create_in(t, &header, &models),
            None => IdiWriter::create(&self.path, &header, &models),
        };
        self.writer = Some(writer.map_err(idi_err)?);
        Ok(())
    }

    fn write(&mut self, layout: &Layout, integ: &Integration) -> Result<(), EngineError> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| EngineError::Sink("FITS-IDI sink written before begin".into()))?;
        let per_bl = self.n_band * self.n_chan * self.n_stokes;
        for (c, (source_id, positions)) in self.centres.iter().enumerate() {
            for (bl, &(a, b)) in layout.baselines.iter().enumerate() {
                let first = layout.vis_index(c, bl, 0, 0, 0);
                let vis = (0..per_bl)
                    .map(|i| {
                        let v = integ.vis[first + i];
                        let band = i / (self.n_chan * self.n_stokes);
                        let prod = i % self.n_stokes;
                        [
                            v.re,
                            v.im,
                            integ.weights[layout.weight_index(c, bl, band, prod)],
                        ]
                    })
                    .collect();
                w.write_row(&UvRow {
                    time: integ.time,
                    baseline: (a as u32 + 1, b as u32 + 1),
                    source_id: *source_id,
                    freq_id: 1,
                    inttim_s: integ.inttim_s,
                    uvw_s: match (positions.get(a), positions.get(b)) {
                        (Some(Some(pa)), Some(Some(pb))) if a != b => {
                            uvw_m(pa, pb, integ.time).map(|x| x / crate::model::relativity::C)
                        }
                        _ => [0.0; 3],
                    },
                    vis,
                })
                .map_err(idi_err)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), EngineError> {
        match self.writer.take() {
            Some(w) => w.finish().map(|_| ()).map_err(idi_err),
            None => Err(EngineError::Sink(
                "FITS-IDI sink finished before begin".into(),
            )),
        }
    }
}

#[cfg(test)]
pub(crate) fn shift_poly_for_tests(c: &[f64], t0: f64) -> Vec<f64> {
    shift_poly(c, t0)
}
