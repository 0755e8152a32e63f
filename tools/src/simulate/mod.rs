//! `emcorr simulate`: synthetic recordings with known truth.
//!
//! A scenario (a job file plus `[simulation]` keys and injected clock errors)
//! becomes, per station, a VDIF recording of one common band-limited Gaussian
//! sky delayed by the station's true delay, plus its own noise; a `job.toml`
//! that correlates them with the model the correlator knows (without the
//! injected errors); and a `truth.json` with what the correlator should find.
//!
//! Stages, top to bottom: `scenario` (TOML → Scenario) → `signal` (sky,
//! continuous delay, LO phase, noise) → `quantise` (codes) → `faults` →
//! `write` (files or FIFOs, one writer thread per station); `truth` beside.

pub mod detmath;
pub mod faults;
pub mod quantise;
pub mod scenario;
pub mod signal;
pub mod truth;
pub mod write;

#[cfg(test)]
mod tests;

use correlator::job::Sideband;
use correlator::model::{build_tracks, DelayTrack};
use faults::{Fate, FaultPlan};
use formats::UtcTime;
use quantise::Quantiser;
use scenario::Scenario;
use signal::{
    noise_stream, GaussianSky, Interpolator, SkyCache, StationSignal, SubbandSampling, TrueDelay,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use write::FrameLayout;

/// Why a simulation failed: one line naming the file or key.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    #[error("{0}")]
    BadInput(String),
    #[error("{path}: {why}")]
    Io { path: PathBuf, why: String },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> SimError + '_ {
    move |e| SimError::Io {
        path: path.to_path_buf(),
        why: e.to_string(),
    }
}

/// The true delay: the model track (with the clock the job knows) plus the
/// injected clock error, offset + rate·(g − start).
pub struct InjectedDelay {
    pub track: DelayTrack,
    pub offset_s: f64,
    pub rate: f64,
    pub epoch: UtcTime,
}

impl TrueDelay for InjectedDelay {
    fn delay_s(&self, g: UtcTime) -> f64 {
        self.track.eval(g).delay_s + self.offset_s + self.rate * g.seconds_since(self.epoch)
    }
}

/// One station's recording, planned.
pub struct StationPlan {
    pub name: String,
    pub path: PathBuf,
    pub first_sample: UtcTime,
    pub frames: u64,
    pub faults: FaultPlan,
    delay: Arc<InjectedDelay>,
}

/// Everything decided before any sample is made.
pub struct Plan {
    pub layout: FrameLayout,
    pub stations: Vec<StationPlan>,
    pub truth: truth::Truth,
    pub job_toml: String,
}

/// Margin of the delay model beyond the job's span (recordings start and end
/// on frame boundaries around it).
const MODEL_MARGIN_S: f64 = 2.0;

/// Decide frames, delays, job.toml and truth for writing into `out_dir`.
pub fn plan(sc: &Scenario, out_dir: &Path) -> Result<Plan, SimError> {
    let job = &sc.job;
    let start = job.start.expect("validated scenario has a start");
    let duration = job.duration_s.expect("validated scenario has a duration");
    let end = start.add_seconds(duration);
    let tracks = build_tracks(
        job,
        start.add_seconds(-MODEL_MARGIN_S),
        end.add_seconds(MODEL_MARGIN_S),
    )
    .map_err(|e| SimError::BadInput(e.to_string()))?;

    let threads: Vec<(u16, Vec<usize>)> = sc
        .threads()
        .into_iter()
        .map(|(t, n)| {
            let mut sbs = vec![0; n];
            for (i, s) in job.subbands.iter().enumerate() {
                if s.thread == t {
                    sbs[s.channel] = i;
                }
            }
            (t, sbs)
        })
        .collect();
    let vps = if sc.sim.complex { 2 } else { 1 };
    let layout = FrameLayout::new(sc.sample_rate_hz(), sc.sim.bits, vps, threads)
        .map_err(|why| SimError::BadInput(format!("{}: {why}", job.file.display())))?;
    let fps = layout.frames_per_second;
    let efficiency = Quantiser::new(sc.sim.bits)
        .expect("validated bits")
        .efficiency();

    let mut stations = Vec::new();
    let mut st_truth = BTreeMap::new();
    for (i, (st, track)) in job.stations.iter().zip(tracks).enumerate() {
        let sim = &sc.sim.stations[i];
        let model_at_start = track.eval(start);
        let delay = Arc::new(InjectedDelay {
            track,
            offset_s: sim.inject_clock_offset_s,
            rate: sim.inject_clock_rate,
            epoch: start,
        });
        // The recording covers [start + τ(start), end + τ(end)] of station
        // time, plus one frame each side, on frame boundaries.
        let frame_s = 1.0 / fps as f64;
        let first = layout
            .frame_floor(start.add_seconds(delay.delay_s(start)))
            .add_seconds(-frame_s);
        let last = end.add_seconds(delay.delay_s(end));
        let frames = (last.seconds_since(first) * fps as f64).ceil() as u64 + 1;
        let faults = FaultPlan::new(
            &sim.faults,
            sc.sim.seed,
            i,
            layout.threads.len(),
            frames,
            fps,
        );
        st_truth.insert(
            st.name.clone(),
            truth::StationTruth {
                clock_offset_s: sim.inject_clock_offset_s,
                clock_rate: sim.inject_clock_rate,
                correlated_fraction: sim.correlated_fraction,
                quantisation_efficiency: efficiency,
                sample_rate_hz: layout.sample_rate_hz,
                first_sample: first.to_iso8601(),
                frames_per_thread: frames,
                frames_per_second: fps,
                samples_per_frame: layout.samples_per_frame,
                invalid_frames: faults.count(Fate::Invalid),
                missing_frames: faults.count(Fate::Missing),
                truncated_last_frame: faults.truncate_last_frame,
                model_delay_at_start_s: model_at_start.delay_s,
                model_rate_at_start: model_at_start.rate,
                true_delay_at_start_s: delay.delay_s(start),
            },
        );
        stations.push(StationPlan {
            name: st.name.clone(),
            path: out_dir.join(format!("{}.vdif", st.name)),
            first_sample: first,
            frames,
            faults,
            delay,
        });
    }
    let names: Vec<String> = job.stations.iter().map(|s| s.name.clone()).collect();
    let los: Vec<f64> = job.subbands.iter().map(|s| s.sky_freq_hz).collect();
    let baselines = truth::baselines(&names, &st_truth, &los);
    let truth = truth::Truth {
        reference_epoch: start.to_iso8601(),
        seed: sc.sim.seed,
        bits: sc.sim.bits,
        complex: sc.sim.complex,
        stations: st_truth,
        baselines,
    };
    let job_toml = job_toml(sc, &layout, duration)?;
    Ok(Plan {
        layout,
        stations,
        truth,
        job_toml,
    })
}

/// job.toml for the recordings: the scenario's job keys (no simulation keys,
/// so no injected errors), the span simulated, each station's file and
/// sample rate, and every path absolute so the job works from anywhere.
fn job_toml(sc: &Scenario, layout: &FrameLayout, duration: f64) -> Result<String, SimError> {
    let abs = |p: &Path| -> Result<String, SimError> {
        let p = std::path::absolute(p).map_err(io_err(p))?;
        Ok(p.to_string_lossy().into_owned())
    };
    let mut t = sc.job_table.clone();
    let job = &sc.job;
    let jt = t
        .entry("job")
        .or_insert_with(|| toml::Value::Table(Default::default()))
        .as_table_mut()
        .expect("validated [job] is a table");
    jt.insert("name".into(), job.name.clone().into());
    jt.insert("output".into(), format!("{}.fits", job.name).into());
    jt.insert(
        "start".into(),
        job.start.expect("validated").to_iso8601().into(),
    );
    jt.insert("duration_s".into(), duration.into());
    if let (Some(m), Some(toml::Value::Table(mt))) = (&job.model, t.get_mut("model")) {
        let kernels: Result<Vec<toml::Value>, SimError> =
            m.kernels.iter().map(|k| abs(k).map(Into::into)).collect();
        mt.insert("kernels".into(), toml::Value::Array(kernels?));
        if let Some(e) = &m.eop {
            mt.insert("eop".into(), abs(e)?.into());
        }
    }
    // `[source]` is one table, `[[source]]` a list: OEM paths made absolute.
    let tables: Vec<&mut toml::Table> = match t.get_mut("source") {
        Some(toml::Value::Table(src)) => vec![src],
        Some(toml::Value::Array(list)) => {
            list.iter_mut().filter_map(|v| v.as_table_mut()).collect()
        }
        _ => Vec::new(),
    };
    for (src, s) in tables.into_iter().zip(&job.sources) {
        if let correlator::job::SourcePosition::Oem(p) = &s.position {
            src.insert("oem".into(), abs(p)?.into());
        }
    }
    if let Some(toml::Value::Array(sts)) = t.get_mut("station") {
        for (st, s) in sts.iter_mut().zip(&job.stations) {
            let st = st.as_table_mut().expect("validated station is a table");
            st.remove("files");
            st.insert("file".into(), format!("{}.vdif", s.name).into());
            st.insert("sample_rate_hz".into(), layout.sample_rate_hz.into());
        }
    }
    let text = toml::to_string(&t).map_err(|e| SimError::BadInput(e.to_string()))?;
    Ok(format!(
        "# Written by `emcorr simulate` for the recordings beside it. The model is\n\
         # the scenario's, without the injected clock errors (see truth.json).\n{text}"
    ))
}

/// How to write: files, or named pipes (`--fifo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    pub fifo: bool,
}

/// What a run wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    pub job: PathBuf,
    pub truth: PathBuf,
    /// Per station: name, path, first sample, frames per thread.
    pub stations: Vec<(String, PathBuf, UtcTime, u64)>,
}

/// Run a scenario into `out_dir`: job.toml and truth.json first, then every
/// station's recording from its own thread.
pub fn simulate(sc: &Scenario, out_dir: &Path, opts: Options) -> Result<Summary, SimError> {
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let plan = plan(sc, out_dir)?;
    let job_path = out_dir.join("job.toml");
    std::fs::write(&job_path, &plan.job_toml).map_err(io_err(&job_path))?;
    // The job must read back as a valid job (paths resolved from out_dir).
    correlator::Job::from_file(&job_path)
        .map_err(|e| SimError::BadInput(format!("internal: written job is invalid: {e}")))?;
    let truth_path = out_dir.join("truth.json");
    let truth_text =
        serde_json::to_string_pretty(&plan.truth).map_err(|e| SimError::BadInput(e.to_string()))?;
    std::fs::write(&truth_path, truth_text + "\n").map_err(io_err(&truth_path))?;

    for st in &plan.stations {
        if opts.fifo {
            // A FIFO replaces what is there: only a file of ours (a
            // recording, an earlier pipe, a link), never a device node.
            if let Some(what) = not_replaceable(&st.path) {
                return Err(SimError::BadInput(format!(
                    "{}: is {what}; --fifo replaces only a regular file, FIFO or symbolic link there",
                    st.path.display()
                )));
            }
            write::make_fifo(&st.path).map_err(io_err(&st.path))?;
        } else if is_fifo(&st.path) {
            // A pipe left by an earlier --fifo run would block the file write.
            std::fs::remove_file(&st.path).map_err(io_err(&st.path))?;
        }
    }
    let interp = Arc::new(Interpolator::new());
    // Stations move together (at most PACING_BATCHES apart in geocentric
    // time), so each sky needs only the blocks of that window, shared.
    let pacer = write::Pacer::new(plan.stations.len(), PACING_BATCHES);
    let batch_sky = write::batch_frames(&plan.layout) as f64
        * plan.layout.samples_per_frame as f64
        * (2.0 * sc.job.subbands[0].bandwidth_hz / plan.layout.sample_rate_hz);
    let capacity =
        ((PACING_BATCHES + 3) as f64 * batch_sky / signal::SKY_HOP as f64).ceil() as usize + 4;
    let skies: Vec<Arc<SkyCache>> = (0..sc.job.subbands.len())
        .map(|k| Arc::new(SkyCache::new(sc.sim.seed, k, capacity)))
        .collect();
    let quantiser = Quantiser::new(sc.sim.bits).expect("validated bits");
    let results: Vec<Result<(), SimError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .stations
            .iter()
            .enumerate()
            .map(|(si, st)| {
                let interp = interp.clone();
                let (plan, pacer, skies, quantiser) = (&plan, &pacer, &skies, &quantiser);
                scope.spawn(move || {
                    // Finished, failed or panicked: never hold the others back.
                    let _release = write::Release(pacer, si);
                    write_one(sc, plan, si, st, &interp, skies, quantiser, pacer)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SimError::BadInput(
                        "internal: a writer thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    for r in results {
        r?;
    }
    Ok(Summary {
        job: job_path,
        truth: truth_path,
        stations: plan
            .stations
            .iter()
            .map(|s| (s.name.clone(), s.path.clone(), s.first_sample, s.frames))
            .collect(),
    })
}

/// What `path` is when it is something `--fifo` must not remove.
fn not_replaceable(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let ft = std::fs::symlink_metadata(path).ok()?.file_type();
    if ft.is_file() || ft.is_fifo() || ft.is_symlink() {
        None
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_dir() {
        Some("a directory")
    } else {
        Some("a socket")
    }
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Batches a station may run ahead of the slowest.
const PACING_BATCHES: u64 = 4;

/// One station's recording, from its own thread.
#[allow(clippy::too_many_arguments)]
fn write_one(
    sc: &Scenario,
    plan: &Plan,
    si: usize,
    st: &StationPlan,
    interp: &Arc<Interpolator>,
    skies: &[Arc<SkyCache>],
    quantiser: &Quantiser,
    pacer: &write::Pacer,
) -> Result<(), SimError> {
    let mut signals = station_signals(sc, si, st, interp, skies);
    // Opening a FIFO blocks until its reader opens it.
    let file = std::fs::File::create(&st.path).map_err(io_err(&st.path))?;
    let frame_bytes = plan.layout.frame_bytes() as u64;
    let written = (st.frames * plan.layout.threads.len() as u64 - st.faults.count(Fate::Missing))
        * frame_bytes;
    let limit = if st.faults.truncate_last_frame {
        written - frame_bytes / 2
    } else {
        written
    };
    let out = write::Truncate::new(file, limit);
    let mut sink = write::vdif_sink(out, &plan.layout, &st.name, st.first_sample)
        .map_err(|e| SimError::BadInput(format!("station {}: {e}", st.name)))?;
    write::write_station(
        &plan.layout,
        st.frames,
        &mut signals,
        quantiser,
        &st.faults,
        sink.as_mut(),
        pacer,
        si,
    )
    .map_err(io_err(&st.path))?;
    sink.finish().map_err(io_err(&st.path))
}

/// One signal generator per subband for station `si`.
fn station_signals(
    sc: &Scenario,
    si: usize,
    st: &StationPlan,
    interp: &Arc<Interpolator>,
    skies: &[Arc<SkyCache>],
) -> Vec<StationSignal<GaussianSky>> {
    let start = sc.job.start.expect("validated");
    sc.job
        .subbands
        .iter()
        .enumerate()
        .map(|(k, sb)| {
            let sampling = SubbandSampling {
                lo_hz: sb.sky_freq_hz,
                bandwidth_hz: sb.bandwidth_hz,
                upper_sideband: sb.sideband == Sideband::Upper,
                complex: sc.sim.complex,
            };
            StationSignal::new(
                GaussianSky::shared(skies[k].clone()),
                interp.clone(),
                st.delay.clone(),
                sampling,
                st.first_sample,
                start,
                sc.sim.stations[si].correlated_fraction,
                sc.sim.seed,
                noise_stream(si, k),
            )
        })
        .collect()
}
