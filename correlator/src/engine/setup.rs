//! Setup: everything decided before the first block. The layout (bands,
//! polarisation products, baselines, channels) from the job and the
//! recordings, each station's quantiser, and the span to correlate: where it
//! starts (the job's start, or the first instant every station has data) and
//! where it ends (the job's duration, or the shortest recording).

use super::accumulate::Quantiser;
use super::error::EngineError;
use super::input::{SampleSource, StreamInfo};
use super::plan::{self, Band, Layout, Product};
use crate::job::{Job, Pol};
use crate::model::DelayTrack;
use formats::UtcTime;

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
        let fs = setup.layout.sample_rate_hz;
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
                            .add_seconds((setup.first_valid[s] + 1) as f64 / fs);
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
                    let t = src.origin().add_seconds(e as f64 / fs);
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
}

fn pol_rank(p: Pol) -> usize {
    match p {
        Pol::R => 0,
        Pol::L => 1,
        Pol::X => 2,
        Pol::Y => 3,
    }
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
        // One sample rate and one sampling type for the whole job.
        let info0 = sources[0].info().clone();
        let fs = info0.sample_rate_hz;
        for (st, src) in job.stations.iter().zip(sources.iter()) {
            let info = src.info();
            if (info.sample_rate_hz - fs).abs() > 1e-9 * fs {
                let list: Vec<String> = job
                    .stations
                    .iter()
                    .zip(sources.iter())
                    .map(|(s, r)| format!("{} {} Hz", s.name, r.info().sample_rate_hz))
                    .collect();
                return Err(EngineError::bad(format!(
                    "{file}: mismatched sample rates ({}): all stations must share one",
                    list.join(", ")
                )));
            }
            if let Some(r) = st.sample_rate_hz {
                if (r - info.sample_rate_hz).abs() > 1e-9 * r {
                    return Err(EngineError::bad(format!(
                        "{file}: station {}: sample_rate_hz {r} but the recording runs at {} Hz",
                        st.name, info.sample_rate_hz
                    )));
                }
            }
            if info.complex != info0.complex {
                return Err(EngineError::bad(format!(
                    "{file}: station {} is {} sampled but station {} is {}: mixed real and complex sampling is not supported",
                    st.name,
                    if info.complex { "complex" } else { "real" },
                    job.stations[0].name,
                    if info0.complex { "complex" } else { "real" },
                )));
            }
        }
        let complex = info0.complex;
        // Every subband must be in every recording, with a bandwidth that
        // matches the sample rate.
        for (i, sb) in job.subbands.iter().enumerate() {
            let has =
                |info: &StreamInfo| info.threads.contains(&sb.thread) && sb.channel < info.channels;
            let missing: Vec<&str> = job
                .stations
                .iter()
                .zip(sources.iter())
                .filter(|(_, s)| !has(s.info()))
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
            let want_bw = if complex { fs } else { fs / 2.0 };
            if (sb.bandwidth_hz - want_bw).abs() > 1e-6 * want_bw {
                return Err(EngineError::bad(format!(
                    "{file}: subband[{i}]: bandwidth_hz {} does not match {} sampling at {fs} Hz (expected {want_bw})",
                    sb.bandwidth_hz,
                    if complex { "complex" } else { "real" }
                )));
            }
        }
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
        let n = job.correlation.fft_length;
        let fft_nchan = if complex { n } else { n / 2 };
        let nchan = match job.correlation.channels {
            None => fft_nchan,
            Some(c) if c <= fft_nchan && fft_nchan % c == 0 => c,
            Some(c) => {
                return Err(EngineError::bad(format!(
                    "{file}: correlation.channels {c} does not divide the {fft_nchan} channels of a {n}-point FFT of {} data: give a divisor of {fft_nchan}",
                    if complex { "complex" } else { "real" }
                )))
            }
        };
        let block_s = n as f64 / fs;
        let m = ((job.correlation.integration_s / block_s).round() as usize).max(1);
        let layout = Layout {
            centres: job.sources.iter().map(|s| s.name.clone()).collect(),
            stations: job.stations.iter().map(|s| s.name.clone()).collect(),
            baselines,
            bands: bands.into_iter().map(|(b, _)| b).collect(),
            pols,
            products,
            nchan,
            chan_width_hz: fs / n as f64 * (fft_nchan / nchan) as f64,
            fft_nchan,
            window: job.correlation.window,
            complex,
            sample_rate_hz: fs,
            fft_length: n,
            blocks_per_integration: m,
            integration_s: m as f64 * block_s,
        };

        // Probe each recording: where its data begins, and its 2-bit levels.
        let mut quant = Vec::with_capacity(nst);
        let mut first_valid = Vec::with_capacity(nst);
        let sb0 = &job.subbands[0];
        for (st, src) in job.stations.iter().zip(sources.iter_mut()) {
            let bits = src.info().bits;
            let w = if complex { 2 } else { 1 };
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
        })
    }
}
