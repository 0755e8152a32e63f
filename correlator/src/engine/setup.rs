//! Setup: everything decided before the first block. The layout (bands,
//! polarisation products, baselines, channels) from the job and the
//! recordings, each station's quantiser, and the span to correlate: where it
//! starts (the job's start, or the first instant every station has data) and
//! where it ends (the job's duration, or the shortest recording).

use super::accumulate::Quantiser;
use super::error::EngineError;
use super::input::SampleSource;
use super::plan::{self, Band, ChannelMap, Layout, Product, Recording};
use crate::job::{Job, Pol, Sampling, Sideband};
use crate::model::DelayTrack;
use formats::UtcTime;

/// The longest FFT a zoom pass may ask for (2^28 points; the memory
/// estimate refuses what does not fit long before).
const MAX_FFT: usize = 1 << 28;

/// The span of a run, in geocentric UTC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Span {
    /// Start of the first block.
    pub start: UtcTime,
    /// Blocks in the job, when its duration is given.
    pub total_blocks: Option<u64>,
    /// Where the data end, when known (the job's duration, or every
    /// recording is a file).
    pub data_end: Option<UtcTime>,
}

impl Span {
    /// Where to start and end. `tracks(a, b)` builds the delay model of
    /// every phase centre over [a, b] (per centre, per station); it is asked
    /// only for a few seconds around the start. Every centre must have
    /// every station's data: the start is the latest over centres, the end
    /// the earliest.
    pub fn new(
        job: &Job,
        sources: &[Box<dyn SampleSource>],
        setup: &Setup,
        tracks: &dyn Fn(UtcTime, UtcTime) -> Result<Vec<Vec<DelayTrack>>, EngineError>,
    ) -> Result<Span, EngineError> {
        let fs = &setup.layout.station_sample_rate_hz;
        let start = match job.start {
            Some(t) => t,
            None => {
                let t0 = sources
                    .iter()
                    .map(|s| s.origin())
                    .fold(sources[0].origin(), |a, b| if b < a { b } else { a });
                let near = tracks(t0.add_seconds(-10.0), t0.add_seconds(10.0))?;
                let mut start = t0;
                for centre in &near {
                    for (s, src) in sources.iter().enumerate() {
                        // One sample of margin so the first block is whole.
                        let t = src
                            .origin()
                            .add_seconds((setup.first_valid[s] + 1) as f64 / fs[s]);
                        let g = plan::geocentric_time_of(&centre[s], t);
                        if g > start {
                            start = g;
                        }
                    }
                }
                // Round up to a whole microsecond for readable labels.
                let us = (start.frac() * 1e6).ceil() / 1e6;
                UtcTime::new(start.sec(), us)
            }
        };
        let block_s = setup.layout.block_s();
        let total_blocks: Option<u64> = match job.duration_s {
            Some(d) => {
                let b = (d / block_s + 1e-9).floor() as u64;
                if b == 0 {
                    return Err(EngineError::bad(format!(
                        "{}: job.duration_s {d} s is shorter than one FFT ({block_s} s)",
                        job.file.display()
                    )));
                }
                Some(b)
            }
            None => None,
        };
        // Where the data end: the job's duration, else the shortest recording
        // (files know their end; a stream without duration_s runs until a
        // station has no data).
        let data_end = match job.duration_s {
            Some(d) => Some(start.add_seconds(d)),
            None => {
                let near = tracks(start.add_seconds(-10.0), start.add_seconds(10.0))?;
                let mut end: Option<UtcTime> = None;
                'stations: for (s, src) in sources.iter().enumerate() {
                    let Some(e) = src.end_sample() else {
                        end = None;
                        break 'stations;
                    };
                    let t = src.origin().add_seconds(e as f64 / fs[s]);
                    for centre in &near {
                        let g = plan::geocentric_time_of(&centre[s], t);
                        end = Some(match end {
                            Some(x) if x < g => x,
                            _ => g,
                        });
                    }
                }
                end
            }
        };
        Ok(Span {
            start,
            total_blocks,
            data_end,
        })
    }
}

/// Everything decided before the first block: layout, quantisers, where
/// each station's data begins.
pub(crate) struct Setup {
    pub layout: Layout,
    pub quant: Vec<Quantiser>,
    /// Per station: the stream index of its first valid sample.
    pub first_valid: Vec<i64>,
    /// What the layout worked around (a station that takes no part in a
    /// band), one line each.
    pub warnings: Vec<String>,
}

fn pol_rank(p: Pol) -> usize {
    p.rank()
}

impl Setup {
    pub fn new(job: &Job, sources: &mut [Box<dyn SampleSource>]) -> Result<Setup, EngineError> {
        let file = job.file.display();
        // The frequency setup is optional in a job (the delay model needs
        // none) but the layout is built from it.
        job.require_subbands()
            .map_err(|e| EngineError::bad(e.to_string()))?;
        // Every source of the job is a phase centre of the run (a session
        // hands the engine a job with its scan's sources only).
        if job.sources.is_empty() {
            return Err(EngineError::bad(format!(
                "{file}: key `source`: the job has no source: correlating needs at least one phase centre"
            )));
        }
        if sources.len() != job.stations.len() {
            return Err(EngineError::bad(format!(
                "{file}: {} stations but {} recordings",
                job.stations.len(),
                sources.len()
            )));
        }
        // Every station's sample rate and sampling (DiFX's rule: one
        // channel width Δf = lowest rate / fft_length for the whole job, so
        // station s's FFT is N_s = fs_s / Δf points and every block lasts
        // 1/Δf).
        let rates: Vec<f64> = sources.iter().map(|s| s.info().sample_rate_hz).collect();
        let fs = rates.iter().cloned().fold(f64::INFINITY, f64::min);
        let n = match job.correlation.chan_width_hz {
            None => job.correlation.fft_length,
            // A zoom pass: the FFT its channel width needs.
            Some(w) => {
                let x = fs / w;
                if (x - x.round()).abs() > 1e-6 * x || x.round() < 2.0 || x > MAX_FFT as f64 {
                    return Err(EngineError::bad(format!(
                        "{file}: zoom channels of {w} Hz need an FFT of {fs} Hz / {w} Hz = {x} points at the lowest sample rate: not a whole number from 2 to {MAX_FFT} (choose bandwidth_hz / channels to divide {fs} Hz)"
                    )));
                }
                x.round() as usize
            }
        };
        let chan_width_hz = fs / n as f64;
        let mut station_fft_length = Vec::with_capacity(job.stations.len());
        let mut samplings = Vec::with_capacity(job.stations.len());
        for (st, src) in job.stations.iter().zip(sources.iter()) {
            let info = src.info();
            let x = info.sample_rate_hz / chan_width_hz;
            let n_s = x.round();
            let real_odd = !info.complex && (n_s as usize) % 2 == 1;
            if (x - n_s).abs() > 1e-6 * x || n_s < 2.0 || real_odd {
                let list: Vec<String> = job
                    .stations
                    .iter()
                    .zip(sources.iter())
                    .map(|(s, r)| format!("{} {} Hz", s.name, r.info().sample_rate_hz))
                    .collect();
                return Err(EngineError::bad(format!(
                    "{file}: mismatched sample rates ({}): station {}'s FFT would be {} Hz / {chan_width_hz} Hz = {x} points, not a whole{} number (the channel width is the lowest rate / fft_length)",
                    list.join(", "),
                    st.name,
                    info.sample_rate_hz,
                    if real_odd { " even" } else { "" }
                )));
            }
            station_fft_length.push(n_s as usize);
            if let Some(r) = st.sample_rate_hz {
                if (r - info.sample_rate_hz).abs() > 1e-9 * r {
                    return Err(EngineError::bad(format!(
                        "{file}: station {}: sample_rate_hz {r} but the recording runs at {} Hz",
                        st.name, info.sample_rate_hz
                    )));
                }
            }
            let header = if info.complex { "complex" } else { "real" };
            let sampling = match st.sampling {
                None if info.complex => Sampling::Complex,
                None => Sampling::Real,
                Some(Sampling::Real) if info.complex => {
                    return Err(EngineError::bad(format!(
                        "{file}: station {}: sampling = \"real\" but its recording is {header} sampled",
                        st.name
                    )))
                }
                Some(x @ (Sampling::Complex | Sampling::ComplexDsb)) if !info.complex => {
                    return Err(EngineError::bad(format!(
                        "{file}: station {}: sampling = \"{}\" but its recording is {header} sampled",
                        st.name,
                        x.name()
                    )))
                }
                Some(x) => x,
            };
            samplings.push(sampling);
        }
        // Every job subband a station records as its own (no
        // [[station.subband]]) must be in its recording.
        for (i, sb) in job.subbands.iter().enumerate() {
            let missing: Vec<&str> = job
                .stations
                .iter()
                .zip(sources.iter())
                .filter(|(st, src)| {
                    st.subbands.is_empty()
                        && st.slot(i, sb).is_some_and(|(t, c)| {
                            !(src.info().threads.contains(&t) && c < src.info().channels)
                        })
                })
                .map(|(st, _)| st.name.as_str())
                .collect();
            if !missing.is_empty() {
                let who = if missing.len() == job.stations.len() {
                    "no station has it".to_string()
                } else {
                    format!("not in the recording of {}", missing.join(", "))
                };
                return Err(EngineError::bad(format!(
                    "{file}: subband[{i}] (thread {}, channel {}): {who}",
                    sb.thread, sb.channel
                )));
            }
        }
        // Output channels: every output band the same whole number of Δf.
        let nchan_f = job.subbands[0].bandwidth_hz / chan_width_hz;
        let nchan = nchan_f.round() as usize;
        for (i, sb) in job.subbands.iter().enumerate() {
            let x = sb.bandwidth_hz / chan_width_hz;
            if (x - x.round()).abs() > 1e-6 * x || x.round() < 1.0 {
                return Err(EngineError::bad(format!(
                    "{file}: subband[{i}]: bandwidth_hz {} is not a whole number of channels of {chan_width_hz} Hz (lowest sample rate {fs} Hz / fft_length {n})",
                    sb.bandwidth_hz
                )));
            }
            if x.round() as usize != nchan {
                return Err(EngineError::bad(format!(
                    "{file}: subband[{i}]: bandwidth_hz {} differs from subband[0]'s {}: every output band needs the same width (one channel count in FITS-IDI)",
                    sb.bandwidth_hz, job.subbands[0].bandwidth_hz
                )));
            }
        }
        let mut warnings = Vec::new();
        let (station_recordings, channel_maps) = recordings(
            job,
            sources,
            &samplings,
            &station_fft_length,
            chan_width_hz,
            nchan,
            &mut warnings,
        )?;
        let complex = samplings.iter().all(|&s| s != Sampling::Real);
        // Bands: subbands that share frequency, bandwidth and sideband.
        let mut bands: Vec<(Band, Vec<Pol>)> = Vec::new();
        for (i, sb) in job.subbands.iter().enumerate() {
            let pos = bands.iter().position(|(b, _)| {
                b.sky_freq_hz == sb.sky_freq_hz
                    && b.bandwidth_hz == sb.bandwidth_hz
                    && b.sideband == sb.sideband
            });
            match pos {
                Some(k) => {
                    if bands[k].1.contains(&sb.pol) {
                        return Err(EngineError::bad(format!(
                            "{file}: subband[{i}]: polarisation {} of the band at {} Hz is given twice",
                            sb.pol.letter(),
                            sb.sky_freq_hz
                        )));
                    }
                    bands[k].0.subbands.push(i);
                    bands[k].1.push(sb.pol);
                }
                None => bands.push((
                    Band {
                        sky_freq_hz: sb.sky_freq_hz,
                        bandwidth_hz: sb.bandwidth_hz,
                        sideband: sb.sideband,
                        subbands: vec![i],
                    },
                    vec![sb.pol],
                )),
            }
        }
        // Order each band's subbands by polarisation, and check all agree.
        for (b, pols) in bands.iter_mut() {
            let mut pairs: Vec<(Pol, usize)> =
                pols.iter().cloned().zip(b.subbands.clone()).collect();
            pairs.sort_by_key(|(p, _)| pol_rank(*p));
            *pols = pairs.iter().map(|p| p.0).collect();
            b.subbands = pairs.iter().map(|p| p.1).collect();
        }
        let pols = bands[0].1.clone();
        for (b, p) in &bands {
            if *p != pols {
                let show = |v: &[Pol]| v.iter().map(|p| p.letter()).collect::<String>();
                return Err(EngineError::bad(format!(
                    "{file}: the band at {} Hz has polarisations {} but the band at {} Hz has {}: every band needs the same",
                    b.sky_freq_hz,
                    show(p),
                    bands[0].0.sky_freq_hz,
                    show(&pols)
                )));
            }
        }
        if pols.len() == 2 && (pol_rank(pols[0]) < 2) != (pol_rank(pols[1]) < 2) {
            return Err(EngineError::bad(format!(
                "{file}: a band mixes circular and linear polarisation"
            )));
        }
        let products = if pols.len() == 1 {
            vec![Product { pol_a: 0, pol_b: 0 }]
        } else {
            vec![
                Product { pol_a: 0, pol_b: 0 },
                Product { pol_a: 1, pol_b: 1 },
                Product { pol_a: 0, pol_b: 1 },
                Product { pol_a: 1, pol_b: 0 },
            ]
        };
        let nst = job.stations.len();
        let baselines = (0..nst)
            .flat_map(|a| (a..nst).map(move |b| (a, b)))
            .collect();
        // `nchan` above: channels of an output band at the FFT's resolution.
        let fft_nchan = nchan;
        let nchan = match job.correlation.channels {
            None => fft_nchan,
            Some(c) if c <= fft_nchan && fft_nchan.is_multiple_of(c) => c,
            Some(c) => {
                return Err(EngineError::bad(format!(
                    "{file}: correlation.channels {c} does not divide the {fft_nchan} channels of a band at the FFT's resolution ({n}-point FFT): give a divisor of {fft_nchan}"
                )))
            }
        };
        let block_s = n as f64 / fs;
        let m = ((job.correlation.integration_s / block_s).round() as usize).max(1);
        // Phase-cal tones: each station's comb inside each output band and
        // the recording that holds it.
        let pcal_tones = job
            .stations
            .iter()
            .enumerate()
            .map(|(s, st)| {
                job.subbands
                    .iter()
                    .enumerate()
                    .map(|(sb, out)| {
                        let (Some(pc), Some(map)) = (st.pcal, channel_maps[s][sb]) else {
                            return Vec::new();
                        };
                        let rec = &station_recordings[s][map.recording];
                        let (lo, hi) = match out.sideband {
                            Sideband::Upper => {
                                (out.sky_freq_hz, out.sky_freq_hz + out.bandwidth_hz)
                            }
                            Sideband::Lower => {
                                (out.sky_freq_hz - out.bandwidth_hz, out.sky_freq_hz)
                            }
                        };
                        super::pcal::comb_in(
                            pc.interval_hz,
                            pc.offset_hz,
                            lo.max(rec.sky_lo_hz),
                            hi.min(rec.sky_hi_hz),
                        )
                    })
                    .collect()
            })
            .collect();
        let layout = Layout {
            centres: job.sources.iter().map(|s| s.name.clone()).collect(),
            stations: job.stations.iter().map(|s| s.name.clone()).collect(),
            baselines,
            bands: bands.into_iter().map(|(b, _)| b).collect(),
            pols,
            products,
            nchan,
            chan_width_hz: chan_width_hz * (fft_nchan / nchan) as f64,
            fft_nchan,
            window: job.correlation.window,
            complex,
            sample_rate_hz: fs,
            fft_length: n,
            blocks_per_integration: m,
            integration_s: m as f64 * block_s,
            station_sample_rate_hz: rates,
            station_fft_length,
            station_recordings,
            channel_maps,
            pcal_tones,
        };

        // Probe each recording: where its data begins, and its 2-bit levels.
        let mut quant = Vec::with_capacity(nst);
        let mut first_valid = Vec::with_capacity(nst);
        for (s, (st, src)) in job.stations.iter().zip(sources.iter_mut()).enumerate() {
            let bits = src.info().bits;
            let sb0 = &layout.station_recordings[s][0];
            let fs = layout.station_sample_rate_hz[s];
            let w = if samplings[s] == Sampling::Real { 1 } else { 2 };
            let probe = 1usize << 16;
            let mut out = vec![0.0f32; probe * w];
            let mut valid = vec![false; probe];
            let mut pos = src.first_sample();
            let limit = pos + (3.0 * fs) as i64;
            let mut found = None;
            while pos < limit {
                src.read(sb0.thread, sb0.channel, pos, &mut out, &mut valid)
                    .map_err(|e| EngineError::Io(format!("station {}: {e}", st.name)))?;
                if let Some(k) = valid.iter().position(|&v| v) {
                    found = Some(pos + k as i64);
                    break;
                }
                pos += probe as i64;
            }
            let Some(first) = found else {
                return Err(EngineError::bad(format!(
                    "station {}: no valid data in the first 3 s of the recording",
                    st.name
                )));
            };
            first_valid.push(first);
            quant.push(match bits {
                1 => Quantiser::OneBit,
                2 => {
                    let mut mags: Vec<f32> = Vec::new();
                    for (k, v) in valid.iter().enumerate() {
                        for q in 0..w {
                            let m = out[k * w + q].abs();
                            if *v && m > 0.0 && !mags.contains(&m) {
                                mags.push(m);
                            }
                        }
                        if mags.len() > 2 {
                            break;
                        }
                    }
                    mags.sort_by(|a, b| a.total_cmp(b));
                    if mags.len() == 2 {
                        Quantiser::TwoBit {
                            low: mags[0],
                            high: mags[1],
                        }
                    } else {
                        Quantiser::None
                    }
                }
                _ => Quantiser::None,
            });
        }
        Ok(Setup {
            layout,
            quant,
            first_valid,
            warnings,
        })
    }
}

/// The sky frequency range a subband holds, for messages: "8388000000–8404000000 Hz".
fn sky_range(lo: f64, hi: f64) -> String {
    format!("{lo}–{hi} Hz")
}

/// [station][recording]
type StationRecordings = Vec<Vec<Recording>>;
/// [station][job subband]
type ChannelMaps = Vec<Vec<Option<ChannelMap>>>;

/// Every station's recordings (what its station stage transforms), and
/// where each output subband's channels lie in them.
///
/// Recording r of a station holds, in its spectrum, channel k at sky
/// frequency F_r + σ_r·k·Δf (F_r = `chan0_sky_hz`, σ_r = +1 USB/DSB, −1
/// LSB; the LO offset is removed by the rotation). Output subband i
/// (sky_freq_hz O, sideband σ_o) has channel j at O + σ_o·j·Δf. So the
/// station's channel is k = σ_r(O − F_r)/Δf + σ_rσ_o·j: a whole-number
/// offset K = σ_r(O − F_r)/Δf (else refused), read forwards (σ_r = σ_o) or
/// backwards and conjugated (σ_r ≠ σ_o: that recording's spectrum holds the
/// conjugate of the sky's relative to the output's orientation). The first
/// recording of the same polarisation that contains the output band feeds
/// it; one that covers only part of it is refused; none: the station takes
/// no part in that band (a warning), as DiFX leaves a station out of the
/// bands it did not record.
fn recordings(
    job: &Job,
    sources: &[Box<dyn SampleSource>],
    samplings: &[Sampling],
    fft_length: &[usize],
    chan_width_hz: f64,
    nchan: usize,
    warnings: &mut Vec<String>,
) -> Result<(StationRecordings, ChannelMaps), EngineError> {
    let file = job.file.display();
    let df = chan_width_hz;
    let mut all_recs = Vec::with_capacity(job.stations.len());
    let mut all_maps = Vec::with_capacity(job.stations.len());
    for (s, (st, src)) in job.stations.iter().zip(sources).enumerate() {
        let info = src.info();
        let fs = info.sample_rate_hz;
        let n = fft_length[s];
        let sampling = samplings[s];
        let own = !st.subbands.is_empty();
        let mut recs = Vec::new();
        for (j, (sb, _)) in st.recorded_subbands(&job.subbands).iter().enumerate() {
            let key = if own {
                format!("station {} subband[{j}]", st.name)
            } else {
                format!("station {} (subband at {} Hz)", st.name, sb.sky_freq_hz)
            };
            if own && !(info.threads.contains(&sb.thread) && sb.channel < info.channels) {
                return Err(EngineError::bad(format!(
                    "{file}: {key} (thread {}, channel {}): not in its recording",
                    sb.thread, sb.channel
                )));
            }
            let (max_bw, nch) = match sampling {
                Sampling::Real => (fs / 2.0, n / 2),
                _ => (fs, n),
            };
            if sb.bandwidth_hz > max_bw * (1.0 + 1e-9) {
                return Err(EngineError::bad(format!(
                    "{file}: {key}: bandwidth_hz {} is more than {} sampling at {fs} Hz holds ({max_bw} Hz)",
                    sb.bandwidth_hz,
                    sampling.name()
                )));
            }
            let (bw, off) = (sb.bandwidth_hz, st.lo_offset_hz);
            // (LO, sky frequency of FFT channel 0, sideband, sky range) by
            // the station file doc's mapping of baseband to sky.
            let edge = sb.sky_freq_hz;
            let (lo_hz, chan0_sky_hz, sideband, sky_lo_hz, sky_hi_hz) =
                match (sampling, sb.sideband) {
                    (Sampling::ComplexDsb, _) => (
                        edge + bw / 2.0 + off,
                        edge + bw / 2.0 - fs / 2.0,
                        Sideband::Upper,
                        edge,
                        edge + bw,
                    ),
                    (_, Sideband::Upper) => (edge + off, edge, Sideband::Upper, edge, edge + bw),
                    (_, Sideband::Lower) => (edge + off, edge, Sideband::Lower, edge - bw, edge),
                };
            let rec = Recording {
                lo_hz,
                chan0_sky_hz,
                sideband,
                sky_lo_hz,
                sky_hi_hz,
                thread: sb.thread,
                channel: sb.channel,
                pol: sb.pol,
                sampling,
                lo_offset_hz: off,
                nchan: nch,
            };
            recs.push(rec);
        }
        let mut maps = Vec::with_capacity(job.subbands.len());
        for (i, out) in job.subbands.iter().enumerate() {
            let so = if out.sideband == Sideband::Upper {
                1.0
            } else {
                -1.0
            };
            let far = out.sky_freq_hz + so * (nchan - 1) as f64 * df;
            let (lo, hi) = (out.sky_freq_hz.min(far), out.sky_freq_hz.max(far));
            let tol = 1e-6 * df;
            let band = format!(
                "the band at {} Hz (subband[{i}], {}{})",
                out.sky_freq_hz,
                if so > 0.0 { "USB" } else { "LSB" },
                out.pol.letter()
            );
            let mut found = None;
            let mut partial = None;
            for (r, rec) in recs.iter().enumerate() {
                if rec.pol != out.pol {
                    continue;
                }
                if lo >= rec.sky_lo_hz - tol && hi <= rec.sky_hi_hz + tol {
                    found = Some(r);
                    break;
                }
                // Output band [O, O ± B) against the recording's [lo, hi].
                let (olo, ohi) = if so > 0.0 {
                    (out.sky_freq_hz, out.sky_freq_hz + out.bandwidth_hz)
                } else {
                    (out.sky_freq_hz - out.bandwidth_hz, out.sky_freq_hz)
                };
                if olo < rec.sky_hi_hz - tol && ohi > rec.sky_lo_hz + tol && partial.is_none() {
                    partial = Some(r);
                }
            }
            let Some(r) = found else {
                if let Some(r) = partial {
                    let rec = &recs[r];
                    return Err(EngineError::bad(format!(
                        "{file}: station {} records {} only in part ({} recorded): an output band must lie inside a station's recorded subband",
                        st.name,
                        band,
                        sky_range(rec.sky_lo_hz, rec.sky_hi_hz)
                    )));
                }
                warnings.push(format!(
                    "station {} records nothing of {band}: it takes no part in that band (zero weight on its baselines there)",
                    st.name
                ));
                maps.push(None);
                continue;
            };
            let rec = &recs[r];
            let sr = if rec.sideband == Sideband::Upper {
                1.0
            } else {
                -1.0
            };
            let x = sr * (out.sky_freq_hz - rec.chan0_sky_hz) / df;
            let k = x.round();
            if (x - k).abs() > 1e-6 {
                return Err(EngineError::bad(format!(
                    "{file}: station {} records {band} {:.4} of a channel off the output's channels ({} recorded, channels of {df} Hz): the offset must be a whole number of channels (an LO offset goes in lo_offset_hz)",
                    st.name,
                    x - k,
                    sky_range(rec.sky_lo_hz, rec.sky_hi_hz)
                )));
            }
            let reversed = sr != so;
            let last = if reversed {
                k - (nchan - 1) as f64
            } else {
                k + (nchan - 1) as f64
            };
            if k.min(last) < 0.0 || k.max(last) > rec.nchan as f64 {
                return Err(EngineError::bad(format!(
                    "{file}: station {}: {band} falls outside the spectrum of its recording ({} recorded)",
                    st.name,
                    sky_range(rec.sky_lo_hz, rec.sky_hi_hz)
                )));
            }
            maps.push(Some(ChannelMap {
                recording: r,
                first_chan: k as usize,
                reversed,
            }));
        }
        if maps.iter().all(|m| m.is_none()) {
            return Err(EngineError::bad(format!(
                "{file}: station {} records none of the job's output bands ([[subband]])",
                st.name
            )));
        }
        all_recs.push(recs);
        all_maps.push(maps);
    }
    Ok((all_recs, all_maps))
}
