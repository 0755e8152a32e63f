//! Where integrations go. FITS-IDI is one implementation (in the CLI layer,
//! through `formats`); [`MemorySink`] keeps them for tests and tools.

use super::accumulate::Integration;
use super::error::EngineError;
use super::plan::Layout;
use crate::job::{Job, Source};
use crate::model::{uvw_m, DelayTrack, PositionTrack};
use formats::fitsidi::PcalRow;
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
    /// Phase-cal tones extracted during the run (the FITS-IDI PHASE-CAL
    /// table): any number of calls between `begin` and `finish`, rows in
    /// any order. Rows number antennas as the run's stations (ANTENNA_NO =
    /// 1 + the station's index in the run's job) and sources as the run's
    /// phase centres (their SOURCE_IDs: [`super::Engine::set_source_ids`]).
    /// A sink without a use for them ignores them (the default); a sink
    /// that wraps another must pass them on.
    fn pcal(&mut self, rows: Vec<PcalRow>) -> Result<(), EngineError> {
        let _ = rows;
        Ok(())
    }
    /// The integrations this sink put in the output at `begin` without the
    /// engine computing them (a resumed run's, replayed from its
    /// checkpoint), in order, ending just before the run's first
    /// ([`super::Options::first_integration`]). The collector asks once,
    /// after `begin`, and gives their phase-cal rows to [`Sink::pcal`] as
    /// for computed ones, the last being the first computed one's
    /// predecessor for PC_RATE: so a resumed run's PHASE-CAL table is the
    /// uninterrupted run's. Only `index`, `time`, `inttim_s`, `pcal` and
    /// `pcal_valid` are read (the visibilities may be dropped). None by
    /// default; a sink that wraps another must pass them on.
    fn replayed(&self) -> &[Integration] {
        &[]
    }
    /// Called once after the last integration (not after an error).
    fn finish(&mut self) -> Result<(), EngineError>;
}

/// Keeps everything in memory.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    pub layout: Option<Layout>,
    pub start: Option<UtcTime>,
    pub integrations: Vec<Integration>,
    /// Phase-cal rows, as given.
    pub pcal: Vec<PcalRow>,
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

    fn pcal(&mut self, rows: Vec<PcalRow>) -> Result<(), EngineError> {
        self.pcal.extend(rows);
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
use crate::model::axis_offset::AxisType;
use formats::fitsidi::{
    IdiAntenna, IdiBand, IdiEop, IdiError, IdiFx, IdiHeader, IdiScan, IdiSource, IdiWriter,
    ModelRow, Mount, UvRow,
};
use formats::output::OutputTarget;
use std::path::{Path, PathBuf};

/// Writes FITS-IDI through `formats::fitsidi`: one UV_DATA row per
/// integration, phase centre and baseline (autocorrelations included; the
/// centre's SOURCE_ID), the delay model of every centre applied in
/// INTERFEROMETER_MODEL (rows with the centre's SOURCE_ID), and the
/// phase-cal rows given to [`Sink::pcal`] as PHASE-CAL: they are checked
/// and kept by the writer ([`IdiWriter::add_pcal`]: rows given before
/// `begin` wait in the sink) and written after UV_DATA at `finish`; in a
/// session their antennas are mapped to the file's like the UV rows'. The file is `<path>.partial` until
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
    /// A session's file: written by one engine run per scan.
    session: Option<SessionOutput>,
    /// Phase-cal rows given before the writer exists.
    pcal: Vec<PcalRow>,
}

/// What a session's FITS-IDI file holds beyond one scan's run: every
/// station and source of the session, and every scan's model (the file's
/// INTERFEROMETER_MODEL is written when it is created, before the first
/// scan is correlated). Each scan's engine run then writes its rows, mapped
/// to the file's antennas and sources by the scan its time lies in.
#[derive(Debug, Clone)]
pub struct SessionOutput {
    /// The session's effective job: ANTENNA and SOURCE tables.
    pub job: Job,
    /// Bits per sample of each station's recordings (NO_LEVELS).
    pub bits: Vec<u8>,
    /// The correlated scans, in time order.
    pub scans: Vec<ScanOutput>,
}

/// One correlated scan in a [`SessionOutput`].
#[derive(Debug, Clone)]
pub struct ScanOutput {
    pub name: String,
    pub start: UtcTime,
    pub stop: UtcTime,
    /// Session station index of each of the scan run's stations.
    pub stations: Vec<usize>,
    /// Session source index of each of its phase centres.
    pub sources: Vec<usize>,
    /// Per phase centre: the model the scan's engine run uses.
    pub models: Vec<crate::model::ModelTracks>,
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
            session: None,
            pcal: Vec::new(),
        }
    }

    /// Write a session: one file for every scan's engine run (see
    /// [`SessionOutput`]). `finish` is then called once, after the last scan.
    pub fn with_session(mut self, session: SessionOutput) -> Self {
        self.session = Some(session);
        self
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

/// The SOURCE table: the given sources with their SOURCE_IDs (a run's
/// phase centres, 1, 2, … in job order unless the engine was told
/// otherwise; a session's every source). A near-field source has no fixed
/// direction: RA/Dec 0 (its geometry is in the model table and UVW).
fn idi_sources<'a>(sources: impl Iterator<Item = (&'a Source, u32)>) -> Vec<IdiSource> {
    sources
        .map(|(src, id)| {
            let (ra_deg, dec_deg) = match src.position {
                SourcePosition::RaDec { ra_rad, dec_rad } => {
                    (ra_rad.to_degrees(), dec_rad.to_degrees())
                }
                _ => (0.0, 0.0),
            };
            IdiSource {
                id,
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

/// Who a set of model rows is for: the ANTENNA_NO of each track's station
/// and the SOURCE_ID of the phase centre.
struct RowIds<'a> {
    antennas: &'a [u32],
    source_id: u32,
}

/// INTERFEROMETER_MODEL rows of one phase centre: per station, intervals
/// of the track's pieces (or of 120 s for a piece without end) over
/// [start, start + span_s]. `npoly`: coefficients per row (the same in the
/// whole table).
fn model_rows(
    tracks: &[DelayTrack],
    start: UtcTime,
    span_s: f64,
    layout: &Layout,
    npoly: usize,
    ids: RowIds,
) -> Vec<ModelRow> {
    let n_band = layout.bands.len();
    let end = start.add_seconds(span_s);
    let mut rows = Vec::new();
    for (s, track) in tracks.iter().enumerate() {
        let source_id = ids.source_id;
        let mut t = start;
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
            let lo = |b: usize| layout.bands[b].sky_freq_hz;
            rows.push(ModelRow {
                time: t,
                interval_s: interval,
                antenna: ids.antennas[s],
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

/// Coefficients per model row: the most any piece has (at least 2).
fn npoly_of<'a>(tracks: impl Iterator<Item = &'a DelayTrack>) -> usize {
    tracks
        .flat_map(|t| t.pieces.iter().map(|p| p.coeffs_s.len()))
        .max()
        .unwrap_or(1)
        .max(2)
}

/// The ANTENNA / ARRAY_GEOMETRY entries of `job`'s stations (ANTENNA_NO
/// 1, 2, … in job order); `bits` per station give NO_LEVELS.
fn idi_antennas(job: &Job, bits: &[u8]) -> Vec<IdiAntenna> {
    job.stations
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
            // The job's mount, when it gives one (FITS-IDI MNTSTA has one
            // X–Y code for both orientations).
            let (mount, axis_offset_m) = match st.axis {
                Some(a) => (
                    match a.axis {
                        AxisType::AzEl => Mount::AltAz,
                        AxisType::Equatorial => Mount::Equatorial,
                        AxisType::XyEw | AxisType::XyNs => Mount::XY,
                    },
                    a.offset_m,
                ),
                None => (mount, 0.0),
            };
            IdiAntenna {
                name: st.name.chars().take(8).collect(),
                id: i as u32 + 1,
                xyz_m,
                vel_m_s: [0.0; 3],
                mount,
                axis_offset_m,
                diameter_m: 0.0,
                n_levels: 1 << bits.get(i).copied().unwrap_or(2).min(16),
            }
        })
        .collect()
}

/// The file's header tables for `job`'s stations and the given SOURCE
/// table, with the frequency setup of `l`, reference day that of `start`.
fn idi_header(
    job: &Job,
    l: &Layout,
    bits: &[u8],
    start: UtcTime,
    sources: Vec<IdiSource>,
) -> IdiHeader {
    // Channel 1 of each band is at the band's first output channel (with
    // averaging, the mean of the FFT channels it holds: Layout).
    let ref_freq = l.channel_freq_hz(0, 0);
    let (mjd, _) = start.mjd();
    IdiHeader {
        obscode: job.name.chars().take(16).collect(),
        telescope: "VLBA".into(),
        correlator: "EMCORR".into(),
        correlator_version: env!("CARGO_PKG_VERSION").into(),
        ref_date: UtcTime::from_mjd(mjd, 0.0),
        ref_freq_hz: ref_freq,
        n_chan: l.nchan,
        chan_bw_hz: l.chan_width_hz,
        ref_pixel: 1.0,
        // What a fringe fitter needs for the amplitude a residual delay
        // costs (the FFT's length and window; see `IdiFx`).
        fx: Some(IdiFx {
            spec_avg: l.chans_averaged() as u32,
            window: l.window.name().into(),
        }),
        bands: l
            .bands
            .iter()
            .enumerate()
            .map(|(i, b)| IdiBand {
                freq_offset_hz: l.channel_freq_hz(i, 0) - ref_freq,
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
        antennas: idi_antennas(job, bits),
        sources,
        array_xyz_m: [0.0; 3],
        eop: IdiEop::default(),
        // A session fills the EMCORR_SCAN table (`begin_session`).
        scans: Vec::new(),
    }
}

impl IdiSink {
    fn create(&mut self, header: &IdiHeader, models: &[ModelRow]) -> Result<(), EngineError> {
        let writer = match &self.target {
            Some(t) => IdiWriter::create_in(t, header, models),
            None => IdiWriter::create(&self.path, header, models),
        };
        let mut writer = writer.map_err(idi_err)?;
        writer
            .add_pcal(std::mem::take(&mut self.pcal))
            .map_err(idi_err)?;
        self.writer = Some(writer);
        Ok(())
    }

    /// In a session, `rows` with the file's ANTENNA_NO (the scan each row's
    /// time lies in maps the run's stations to the session's).
    fn map_pcal_antennas(&self, mut rows: Vec<PcalRow>) -> Result<Vec<PcalRow>, EngineError> {
        let Some(sess) = &self.session else {
            return Ok(rows);
        };
        for r in &mut rows {
            let sc = sess
                .scans
                .iter()
                .find(|sc| r.time >= sc.start && r.time <= sc.stop)
                .ok_or_else(|| {
                    EngineError::Sink(format!(
                        "phase-cal row at {} lies in no scan of the session",
                        r.time
                    ))
                })?;
            let s = (r.antenna_no as usize)
                .checked_sub(1)
                .and_then(|i| sc.stations.get(i))
                .ok_or_else(|| {
                    EngineError::Sink(format!(
                        "phase-cal row at {}: ANTENNA_NO {} is not a station of scan {}",
                        r.time, r.antenna_no, sc.name
                    ))
                })?;
            r.antenna_no = *s as u32 + 1;
        }
        Ok(rows)
    }

    /// Session mode, at a scan's `begin`: the file is created at the first
    /// (every scan's model rows, the whole session's stations and sources);
    /// later scans must have the same frequency setup.
    fn begin_session(&mut self, h: &RunHeader) -> Result<(), EngineError> {
        let l = h.layout;
        if self.writer.is_some() {
            if l.nchan != self.n_chan
                || l.bands.len() != self.n_band
                || l.products.len() != self.n_stokes
            {
                return Err(EngineError::bad(format!(
                    "{}: scan starting {}: its frequency setup ({} bands × {} channels × {} products) differs from the session's ({} × {} × {})",
                    h.job.file.display(),
                    h.start,
                    l.bands.len(),
                    l.nchan,
                    l.products.len(),
                    self.n_band,
                    self.n_chan,
                    self.n_stokes
                )));
            }
            return Ok(());
        }
        let Some(sess) = &self.session else {
            return Ok(());
        };
        let first = sess.scans.first().map_or(h.start, |s| s.start);
        let sources = idi_sources(
            sess.job
                .sources
                .iter()
                .enumerate()
                .map(|(i, s)| (s, i as u32 + 1)),
        );
        let mut header = idi_header(&sess.job, l, &sess.bits, first, sources);
        header.scans = sess
            .scans
            .iter()
            .map(|sc| IdiScan {
                name: sc.name.clone(),
                start: sc.start,
                duration_s: sc.stop.seconds_since(sc.start),
                source_ids: sc.sources.iter().map(|&i| i as u32 + 1).collect(),
            })
            .collect();
        let npoly = npoly_of(
            sess.scans
                .iter()
                .flat_map(|sc| sc.models.iter().flat_map(|m| m.delays.iter())),
        );
        let mut models = Vec::new();
        for sc in &sess.scans {
            let antennas: Vec<u32> = sc.stations.iter().map(|&s| s as u32 + 1).collect();
            for (c, m) in sc.models.iter().enumerate() {
                models.extend(model_rows(
                    &m.delays,
                    sc.start,
                    sc.stop.seconds_since(sc.start),
                    l,
                    npoly,
                    RowIds {
                        antennas: &antennas,
                        source_id: sc.sources[c] as u32 + 1,
                    },
                ));
            }
        }
        // In time order (per antenna), as AIPS and PIMA read the table.
        models.sort_by(|a, b| {
            (a.time, a.antenna, a.source_id)
                .partial_cmp(&(b.time, b.antenna, b.source_id))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        self.n_chan = l.nchan;
        self.n_stokes = l.products.len();
        self.n_band = l.bands.len();
        self.create(&header, &models)
    }
}

impl Sink for IdiSink {
    fn begin(&mut self, h: &RunHeader) -> Result<(), EngineError> {
        if self.session.is_some() {
            return self.begin_session(h);
        }
        let l = h.layout;
        let job = h.job;
        let sources = idi_sources(h.centres.iter().map(|c| (c.source, c.source_id)));
        let header = idi_header(job, l, &h.bits, h.start, sources);
        let span = job
            .duration_s
            .or(h.data_end.map(|e| e.seconds_since(h.start)))
            .unwrap_or(self.model_span_s);
        let antennas: Vec<u32> = (1..=job.stations.len() as u32).collect();
        let npoly = npoly_of(h.centres.iter().flat_map(|c| c.tracks.iter()));
        let models: Vec<ModelRow> = h
            .centres
            .iter()
            .flat_map(|c| {
                model_rows(
                    c.tracks,
                    h.start,
                    span,
                    l,
                    npoly,
                    RowIds {
                        antennas: &antennas,
                        source_id: c.source_id,
                    },
                )
            })
            .collect();
        self.centres = h
            .centres
            .iter()
            .map(|c| (c.source_id, c.positions.to_vec()))
            .collect();
        self.n_chan = l.nchan;
        self.n_stokes = l.products.len();
        self.n_band = l.bands.len();
        self.create(&header, &models)
    }

    fn write(&mut self, layout: &Layout, integ: &Integration) -> Result<(), EngineError> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| EngineError::Sink("FITS-IDI sink written before begin".into()))?;
        let per_bl = self.n_band * self.n_chan * self.n_stokes;
        // Session: the scan this integration lies in (by its time) maps the
        // run's stations and phase centres to the file's antennas and
        // sources, with that scan's model for UVW.
        let scan = match &self.session {
            None => None,
            Some(sess) => Some(
                sess.scans
                    .iter()
                    .find(|sc| integ.time >= sc.start && integ.time <= sc.stop)
                    .ok_or_else(|| {
                        EngineError::Sink(format!(
                            "integration at {} lies in no scan of the session",
                            integ.time
                        ))
                    })?,
            ),
        };
        let centres: Vec<(u32, &[Option<PositionTrack>])> = match scan {
            Some(sc) => sc
                .sources
                .iter()
                .zip(&sc.models)
                .map(|(&i, m)| (i as u32 + 1, m.positions.as_slice()))
                .collect(),
            None => self
                .centres
                .iter()
                .map(|(id, p)| (*id, p.as_slice()))
                .collect(),
        };
        let antenna = |s: usize| -> u32 {
            match scan {
                Some(sc) => sc.stations[s] as u32 + 1,
                None => s as u32 + 1,
            }
        };
        for (c, &(source_id, positions)) in centres.iter().enumerate() {
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
                    baseline: (antenna(a), antenna(b)),
                    source_id,
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

    fn pcal(&mut self, rows: Vec<PcalRow>) -> Result<(), EngineError> {
        let rows = self.map_pcal_antennas(rows)?;
        match &mut self.writer {
            Some(w) => w.add_pcal(rows).map_err(idi_err),
            None => {
                self.pcal.extend(rows);
                Ok(())
            }
        }
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
