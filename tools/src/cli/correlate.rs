//! `emcorr correlate JOB.toml`: run the FX engine on a job's recordings and
//! write FITS-IDI.
//!
//! The work is `correlator::engine`; this layer opens the recordings, keeps
//! the checkpoint, draws the progress bar (stderr, only on a terminal) and
//! prints the summary. With `--mpi` the same run is driven across MPI ranks
//! ([`crate::cluster`]).

mod output;
pub(crate) mod session;
mod session_run;

use crate::cluster::{ClusterReport, Driver, Local, Stopped};
use crate::failure::{print_stdout, Failure};
use crate::reliability::{self, Journal};
use correlator::engine::{
    self, Engine, EngineError, IdiSink, Integration, Layout, Options, Progress, RunHeader,
    SampleSource, Sink, StreamInfo, Summary, VdifError,
};
use correlator::Job;
use formats::vdif::OpenOptions;
use formats::UtcTime;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(clap::Args, Debug)]
pub struct CorrelateArgs {
    /// The job file (TOML).
    pub job: PathBuf,
    /// FITS-IDI output (default: the job's `output`, relative to the job file).
    /// A new file, or with --overwrite an existing one (replaced only when
    /// the run finishes); a character device or FIFO gets the file when the
    /// run finishes; a directory is refused.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Replace an existing output file (without it, one is refused with
    /// exit code 2).
    #[arg(long)]
    pub overwrite: bool,
    /// Worker threads (default: the available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no summary line.
    #[arg(long)]
    pub quiet: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Finish an interrupted run: the integrations in `<output>.checkpoint`
    /// (same job file) are kept, the rest are computed; the output is
    /// byte-for-byte the one an uninterrupted run writes.
    #[arg(long)]
    pub resume: bool,
    /// Refuse the job up front if its buffers would need more memory than
    /// this (e.g. 512M, 8G). Default: half the physical memory.
    #[arg(long, value_name = "BYTES")]
    pub max_memory: Option<String>,
    /// Run across the ranks of an MPI job (`mpirun -n N emcorr correlate
    /// JOB --mpi`): rank 0 plans and writes, the others correlate. Needs a
    /// build with `--features mpi` and the recordings as files every rank
    /// can read.
    #[arg(long)]
    pub mpi: bool,
    /// Print what would be done and stop: for a session, every scan of the
    /// schedule with its stations, the recordings found for it, bytes and a
    /// CPU-time estimate, or why it is skipped. Needs only the job file and
    /// the VEX (no recordings, kernels or EOP).
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: CorrelateArgs) -> Result<(), Failure> {
    if args.dry_run {
        return dry_run(&args);
    }
    if args.mpi {
        return run_mpi(args);
    }
    run_with(args, &mut Local)
}

#[cfg(feature = "mpi")]
fn run_mpi(args: CorrelateArgs) -> Result<(), Failure> {
    crate::cluster::run(args)
}

#[cfg(not(feature = "mpi"))]
fn run_mpi(_: CorrelateArgs) -> Result<(), Failure> {
    Err(Failure::BadInput(
        "--mpi: this emcorr was built without MPI support (build it with `cargo build --release --features mpi`)".into(),
    ))
}

/// `--dry-run`: the plan of a session; for a one-span job, its stations and
/// recordings.
fn dry_run(args: &CorrelateArgs) -> Result<(), Failure> {
    let job = Job::from_file(&args.job).map_err(|e| Failure::BadInput(e.to_string()))?;
    let output = args.output.clone().unwrap_or_else(|| job.output.clone());
    if correlator::session::Session::is_session(&job) {
        let parts = session::load(&job, &output)?;
        return session::print_plan(&parts, &output, args.json);
    }
    let mut stations = serde_json::Map::new();
    let mut lines = Vec::new();
    for st in &job.stations {
        let files: Vec<serde_json::Value> = st
            .files
            .iter()
            .map(|f| {
                let bytes = std::fs::metadata(f).map(|m| m.len()).ok();
                lines.push(format!(
                    "{}: {} ({})",
                    st.name,
                    f.display(),
                    bytes.map_or("not found".to_string(), |b| format!(
                        "{:.1} MB",
                        b as f64 / 1e6
                    ))
                ));
                serde_json::json!({"file": f.display().to_string(), "bytes": bytes})
            })
            .collect();
        stations.insert(st.name.clone(), files.into());
    }
    if args.json {
        print_stdout(&format!(
            "{}\n",
            serde_json::json!({"job": job.name, "output": output.display().to_string(), "stations": stations})
        ))
    } else {
        for l in lines {
            print_stdout(&format!("{l}\n"))?;
        }
        print_stdout(&format!("one span → {}\n", output.display()))
    }
}

/// The job, checked, with what every rank needs before opening recordings.
pub(crate) struct Loaded {
    /// For a session: its effective job (every station, source, subband).
    pub job: Job,
    /// A session (one part per mode, each with its plan and output), when
    /// the job is one.
    pub session: Option<session::Parts>,
    pub output: PathBuf,
    pub threads: usize,
    /// Delay span between stations at the start (for stream read-ahead).
    pub span_s: f64,
}

/// Read the job, settle the thread count and check the memory budget.
pub(crate) fn load(args: &CorrelateArgs) -> Result<Loaded, Failure> {
    let mut job = Job::from_file(&args.job).map_err(|e| Failure::BadInput(e.to_string()))?;
    let output = args.output.clone().unwrap_or_else(|| job.output.clone());
    let session = if correlator::session::Session::is_session(&job) {
        let parts = session::load(&job, &output)?;
        for p in &parts.parts {
            session::check_correlatable(&p.session)?;
        }
        job = parts.first().job.clone();
        Some(parts)
    } else {
        job.require_correlation()
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        None
    };
    if let Some(0) = args.threads {
        return Err(Failure::BadInput("--threads must be at least 1".into()));
    }
    let threads = args.threads.unwrap_or_else(|| Options::default().threads);
    if args.mpi && session.is_none() && !job.zooms.is_empty() {
        return Err(Failure::BadInput(format!(
            "{}: key `zoom`: --mpi runs the zoom pass of a session only: give the job [[scan]] tables (or a VEX), or run it without --mpi",
            job.file.display()
        )));
    }
    if args.mpi {
        // Ranks read their units wherever they lie in the recordings.
        for st in &job.stations {
            if let Some(f) = st
                .files
                .iter()
                .find(|f| formats::vdif::summary::is_stream(f))
            {
                return Err(Failure::BadInput(format!(
                    "{}: station {}: --mpi needs recordings every rank can read as files, not a stream ({})",
                    job.file.display(),
                    st.name,
                    f.display()
                )));
            }
        }
    }
    let span_s = delay_span(&job).unwrap_or(2.0);
    match &session {
        // Each mode's frequency setup has its own buffers.
        Some(parts) => {
            for p in &parts.parts {
                check_memory(&p.session.job, threads, span_s, args.max_memory.as_deref())?;
            }
        }
        None => check_memory(&job, threads, span_s, args.max_memory.as_deref())?,
    }
    Ok(Loaded {
        job,
        session,
        output,
        threads,
        span_s,
    })
}

/// An engine failure as the process reports it.
pub(crate) fn engine_failure(e: EngineError) -> Failure {
    match e {
        EngineError::BadInput(m) => Failure::BadInput(m),
        EngineError::Io(m) | EngineError::Sink(m) => Failure::Io(m),
    }
}

/// The recordings, each wrapped so that reads stop on a signal and the
/// readers' late warnings are kept; plus where a streamed station ended.
pub(crate) struct Opened {
    pub sources: Vec<Box<dyn SampleSource>>,
    pub ended: Arc<Mutex<Vec<Option<String>>>>,
    pub late_warnings: Arc<Mutex<Vec<String>>>,
}

pub(crate) fn open_guarded(job: &Job, span_s: f64) -> Result<Opened, Failure> {
    let ended = Arc::new(Mutex::new(vec![None; job.stations.len()]));
    let late_warnings = Arc::new(Mutex::new(Vec::new()));
    let sources = open_sources(job, span_s)?
        .into_iter()
        .enumerate()
        .map(|(s, inner)| {
            Box::new(Guarded {
                stream: job.stations[s]
                    .files
                    .iter()
                    .any(|f| formats::vdif::summary::is_stream(f)),
                inner,
                station: s,
                name: job.stations[s].name.clone(),
                ended: ended.clone(),
                warnings: late_warnings.clone(),
            }) as Box<dyn SampleSource>
        })
        .collect();
    Ok(Opened {
        sources,
        ended,
        late_warnings,
    })
}

/// Correlate with `driver` (this process, or rank 0 of an MPI run).
pub(crate) fn run_with(args: CorrelateArgs, driver: &mut dyn Driver) -> Result<(), Failure> {
    reliability::install_handlers();
    let Loaded {
        job,
        session,
        output,
        threads,
        span_s,
    } = load(&args)?;
    if let Some(parts) = session {
        return session_run::run(&args, driver, &parts, &output, threads, span_s);
    }
    // A job with [[zoom]] tables: the job, then its zoom pass into
    // `<output>_zoom`, each with its own checkpoint; the first one's is
    // kept until the second has finished (as a session's modes do), so
    // that `--resume` after a stop in the zoom pass finds both.
    let zoom = job
        .zoom_pass()
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let Some(zoom) = zoom else {
        let (summary, cluster, _) = run_plain(&args, driver, &job, &output, threads, span_s, None)?;
        return report(&args, &[(summary, cluster, output)]);
    };
    let zoom_output = correlator::job::tagged_output(&output, "zoom");
    let main = run_plain(&args, driver, &job, &output, threads, span_s, None)?;
    let z = run_plain(
        &args,
        driver,
        &zoom,
        &zoom_output,
        threads,
        span_s,
        Some("zoom"),
    )?;
    main.2.remove_checkpoint();
    z.2.remove_checkpoint();
    report(&args, &[(main.0, main.1, output), (z.0, z.1, zoom_output)])
}

/// The summary of each output written: one line each, or (`--json`) one
/// object, the first output's, with `outputs` (every file) and `zoom`
/// (the zoom pass's summary) when there are two.
fn report(
    args: &CorrelateArgs,
    done: &[(Summary, Option<ClusterReport>, PathBuf)],
) -> Result<(), Failure> {
    if args.json {
        let mut v: serde_json::Value =
            serde_json::from_str(&summary_json(&done[0].0, done[0].1.as_ref(), &done[0].2))
                .unwrap_or_default();
        if let Some((s, c, o)) = done.get(1) {
            v["zoom"] = serde_json::from_str(&summary_json(s, c.as_ref(), o)).unwrap_or_default();
            v["outputs"] = done
                .iter()
                .map(|d| d.2.display().to_string())
                .collect::<Vec<_>>()
                .into();
        }
        print_stdout(&format!("{v}\n"))
    } else {
        if !args.quiet {
            for (s, _, o) in done {
                eprintln!("{}", summary_line(s, o));
            }
        }
        Ok(())
    }
}

/// One pass of a one-span job into `output` (`tag`: the zoom pass, whose
/// checkpoint is its own and which may replace a finished file of an
/// interrupted run being resumed). Returns the engine's summary and the
/// output, whose checkpoint the caller removes when every pass is done.
#[allow(clippy::too_many_arguments)]
fn run_plain(
    args: &CorrelateArgs,
    driver: &mut dyn Driver,
    job: &Job,
    output: &std::path::Path,
    threads: usize,
    span_s: f64,
    tag: Option<&str>,
) -> Result<(Summary, Option<ClusterReport>, output::Output), Failure> {
    let job = job.clone();
    let several = tag.is_some() || !job.zooms.is_empty();
    // What the output path is (refused ones before anything is created),
    // then the checkpoint: a new one, or the one of the run being resumed.
    let out = if several {
        output::Output::resolve_part(output, args.overwrite, args.resume)?
    } else {
        output::Output::resolve(output, args.overwrite, args.resume)?
    };
    let fingerprint = checkpoint_fingerprint(args, &job, tag)?;
    let (journal, replay) = out.open_journal(fingerprint, args.resume)?;
    let resumed = replay.len() as u64;

    let files: Vec<PathBuf> = job.stations.iter().flat_map(|s| s.files.clone()).collect();
    reliability::register_inputs(&files);
    // A checkpoint this run created goes when the run fails; a resumed one
    // stays (it holds the earlier run's work).
    let drop_checkpoint = |e: Failure| {
        if !args.resume {
            out.remove_checkpoint();
        }
        e
    };
    let Opened {
        sources,
        ended,
        late_warnings,
    } = open_guarded(&job, span_s).map_err(drop_checkpoint)?;
    let opts = Options {
        threads,
        first_integration: resumed,
        ..Options::default()
    };
    let mut sink = CheckedSink {
        inner: IdiSink::to_target(out.target.clone()),
        journal,
        replay,
        replayed: Vec::new(),
        written: resumed,
        last_weight: vec![1.0; job.stations.len()],
        ended: ended.clone(),
        job: &job,
        pause: test_pause(),
    };
    let mut progress = ProgressOut::new(args);
    let mut on_progress = |p: &Progress, detail: Option<&str>| progress.report(p, detail);
    let build = |c: usize, a: UtcTime, b: UtcTime| engine::centre_model(&job, c, a, b);
    let result = Engine::prepare(&job, sources, &build, &opts)
        .map_err(Stopped::Engine)
        .and_then(|e| driver.drive(e, &mut sink, &opts, &mut on_progress));
    progress.finish();
    let (summary, cluster) = match result {
        Ok(s) => {
            if !several {
                out.remove_checkpoint();
            }
            s
        }
        Err(Stopped::Rank {
            rank,
            host,
            failure,
        }) => {
            // Keep what was done, as for a signal: the other ranks finished
            // their units and every integration before the failed one is
            // in the partial output and the checkpoint.
            sink.inner.keep_partial_on_drop(true);
            let done = sink.written;
            drop(sink);
            let m = format!(
                "rank {rank} ({host}) failed: {}; {}",
                failure.message(),
                out.left_behind(&format!(" with {done} integration(s)"))
            );
            return Err(failure.with_message(m));
        }
        Err(Stopped::Engine(e)) => {
            if let Some(sig) = reliability::interrupted() {
                let done = sink.written;
                if done == 0 {
                    // Stopped before the first integration (waiting for a
                    // stream, say): nothing to resume from, nothing kept.
                    drop(sink);
                    return Err(drop_checkpoint(Failure::Interrupted(format!(
                        "interrupted by {} before the first integration; nothing was written",
                        reliability::signal_name(sig)
                    ))));
                }
                // Keep what was done: `<output>.partial` (readable, with the
                // integrations written so far) and the checkpoint.
                sink.inner.keep_partial_on_drop(true);
                drop(sink);
                return Err(Failure::Interrupted(format!(
                    "interrupted by {} after {done} integration(s); {}",
                    reliability::signal_name(sig),
                    out.left_behind("")
                )));
            }
            // Any other failure: the sink is dropped unfinished, which
            // removes `<output>.partial`, and a checkpoint this run created
            // goes too: nothing under the output name ever looks complete.
            drop(sink);
            return Err(drop_checkpoint(engine_failure(e)));
        }
    };
    if !args.quiet {
        // What the readers noticed before the run, then what they found
        // while reading (damage met mid-run).
        let mut all = summary.warnings.clone();
        for w in late_warnings.lock().unwrap().iter() {
            if !all.contains(w) {
                all.push(w.clone());
            }
        }
        for w in &all {
            eprintln!("emcorr: warning: {w}");
        }
    }
    if resumed > 0 && !args.quiet {
        eprintln!("emcorr: resumed after {resumed} integration(s) from the checkpoint");
    }
    Ok((summary, cluster, out))
}

/// What a checkpoint belongs to: the job file, a session's schedule, this
/// build, and for one mode of a session with several, that mode (so that
/// one mode's checkpoint cannot be taken for another's).
pub(crate) fn checkpoint_fingerprint(
    args: &CorrelateArgs,
    job: &Job,
    mode: Option<&str>,
) -> Result<u64, Failure> {
    let job_text = std::fs::read(&args.job)
        .map_err(|e| Failure::Io(format!("{}: cannot read: {e}", args.job.display())))?;
    let vex_text = match &job.vex {
        Some(v) => std::fs::read(v)
            .map_err(|e| Failure::Io(format!("{}: cannot read: {e}", v.display())))?,
        None => Vec::new(),
    };
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    Ok(match mode {
        None => reliability::fnv64(&[&job_text, &vex_text, version]),
        Some(m) => reliability::fnv64(&[&job_text, &vex_text, version, m.as_bytes()]),
    })
}

/// Progress on stderr: a bar on a terminal; under mpirun or srun (stderr a
/// pipe to a log) a line every 10 s instead.
pub(crate) struct ProgressOut {
    bar: Option<indicatif::ProgressBar>,
    next_line: Option<std::time::Instant>,
}

impl ProgressOut {
    pub(crate) fn new(args: &CorrelateArgs) -> ProgressOut {
        let bar = (!args.quiet && std::io::stderr().is_terminal()).then(progress_bar);
        let next_line = (!args.quiet && args.mpi && bar.is_none())
            .then(|| std::time::Instant::now() + std::time::Duration::from_secs(10));
        ProgressOut { bar, next_line }
    }

    pub(crate) fn report(&mut self, p: &Progress, detail: Option<&str>) {
        if let Some(next) = self
            .next_line
            .as_mut()
            .filter(|n| std::time::Instant::now() >= **n)
        {
            *next += std::time::Duration::from_secs(10);
            eprintln!(
                "emcorr: progress: {:.3} s{} of data, {:.2}× real time, {} integrations{}",
                p.data_s,
                p.total_s
                    .map(|t| format!(" of {t:.3} s"))
                    .unwrap_or_default(),
                p.data_s / p.wall_s.max(1e-9),
                p.integrations,
                detail.map(|d| format!("; {d}")).unwrap_or_default()
            );
        }
        if let Some(bar) = &self.bar {
            if let Some(t) = p.total_s {
                bar.set_length((t * 1000.0) as u64);
            }
            bar.set_position((p.data_s * 1000.0) as u64);
            bar.set_message(format!(
                "{:.3} s of data, {:.2}× real time, {} integrations{}",
                p.data_s,
                p.data_s / p.wall_s.max(1e-9),
                p.integrations,
                detail.map(|d| format!("; {d}")).unwrap_or_default()
            ));
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Refuse a job whose buffers would not fit in the memory budget.
fn check_memory(job: &Job, threads: usize, span_s: f64, max: Option<&str>) -> Result<(), Failure> {
    let (budget, from) = match max {
        Some(t) => (
            reliability::parse_bytes(t)
                .map_err(|e| Failure::BadInput(format!("--max-memory: {e}")))?,
            "--max-memory",
        ),
        None => match reliability::physical_memory() {
            Some(m) => (m / 2, "half the physical memory; set --max-memory"),
            None => return Ok(()),
        },
    };
    // Each station's chunk covers every phase centre's blocks.
    let spread_bytes = if job.sources.len() > 1 {
        let rate = job
            .stations
            .iter()
            .map(|st| st.sample_rate_hz.unwrap_or(64e6))
            .fold(0.0, f64::max);
        // Without a start the spread is not known before the run: assume
        // 10 ms (a lander and a quasar one lunar radius apart on the sky,
        // seen from the Earth–Moon baseline).
        engine::centre_spread_bytes(job, centre_spread(job).unwrap_or(0.01), rate)
    } else {
        0
    };
    let engine_bytes = engine::buffer_bytes(job, threads) + spread_bytes;
    let readahead: u64 = job
        .stations
        .iter()
        .filter(|st| {
            st.files
                .iter()
                .any(|f| formats::vdif::summary::is_stream(f))
        })
        .map(|st| engine::readahead_bytes(job, span_s, st.sample_rate_hz.unwrap_or(64e6)) as u64)
        .sum();
    let need = engine_bytes + readahead;
    if need > budget {
        return Err(Failure::BadInput(format!(
            "{}: the job needs about {} of buffers ({} for {} stations × {} subbands at fft_length {} on {} threads, {} of stream read-ahead), more than the memory budget of {} ({from}): lower fft_length or --threads, or raise --max-memory",
            job.file.display(),
            reliability::mib(need),
            reliability::mib(engine_bytes),
            job.stations.len(),
            job.subbands.len(),
            job.correlation.fft_length,
            threads,
            reliability::mib(readahead),
            reliability::mib(budget),
        )));
    }
    Ok(())
}

/// Test hook (documented in the README): after `EMCORR_TEST_PAUSE_AFTER`
/// integrations, say so on stderr and wait while the file
/// `EMCORR_TEST_PAUSE_FILE` exists (or until a signal), so a test can act at
/// a known point (send a signal, truncate an input) without relying on timing.
fn test_pause() -> Option<(u64, PathBuf)> {
    let n = std::env::var("EMCORR_TEST_PAUSE_AFTER")
        .ok()?
        .parse()
        .ok()?;
    let f = std::env::var_os("EMCORR_TEST_PAUSE_FILE")?;
    Some((n, PathBuf::from(f)))
}

/// A station's recording as the engine sees it, plus what reliability needs:
/// reads stop once a signal has arrived, and a stream that ends is noted.
struct Guarded {
    inner: Box<dyn SampleSource>,
    stream: bool,
    station: usize,
    name: String,
    ended: Arc<Mutex<Vec<Option<String>>>>,
    /// The reader's warnings when the engine lets go of it.
    warnings: Arc<Mutex<Vec<String>>>,
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if let Ok(mut w) = self.warnings.lock() {
            w.extend(
                self.inner
                    .warnings()
                    .into_iter()
                    .map(|x| format!("station {}: {x}", self.name)),
            );
        }
    }
}

impl SampleSource for Guarded {
    fn info(&self) -> &StreamInfo {
        self.inner.info()
    }
    fn origin(&self) -> UtcTime {
        self.inner.origin()
    }
    fn read(
        &mut self,
        thread: u16,
        channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError> {
        if let Some(sig) = reliability::interrupted() {
            return Err(VdifError::Invalid {
                context: "emcorr".into(),
                what: format!("interrupted by {}", reliability::signal_name(sig)),
            });
        }
        self.inner.read(thread, channel, first, out, valid)?;
        if self.stream {
            if let Some(end) = self.inner.end_sample() {
                if first + valid.len() as i64 > end {
                    let mut e = self.ended.lock().unwrap();
                    e[self.station].get_or_insert_with(|| {
                        let t = self
                            .inner
                            .origin()
                            .add_seconds(end as f64 / self.inner.info().sample_rate_hz);
                        format!("its stream ended at {t}")
                    });
                }
            }
        }
        Ok(())
    }
    fn discard_before(&mut self, first: i64) {
        self.inner.discard_before(first)
    }
    fn first_sample(&self) -> i64 {
        self.inner.first_sample()
    }
    fn random_access(&self) -> bool {
        self.inner.random_access()
    }
    fn end_sample(&self) -> Option<i64> {
        self.inner.end_sample()
    }
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }
}

/// The FITS-IDI sink plus the checkpoint journal: replays a resumed run's
/// integrations, journals every new one, stops on a signal, and refuses to
/// finish when a streamed station stopped before the job's end.
struct CheckedSink<'a> {
    inner: IdiSink,
    /// `None` for a device or FIFO output (nothing to resume into).
    journal: Option<Journal>,
    replay: Vec<Integration>,
    /// What the last `begin` replayed, without visibilities: the collector
    /// regenerates their phase-cal rows from it ([`Sink::replayed`]).
    replayed: Vec<Integration>,
    /// Integrations in the output so far (replayed ones included).
    written: u64,
    /// Per station: the largest weight of its baselines (its
    /// autocorrelation included) at any phase centre in the last
    /// integration.
    last_weight: Vec<f32>,
    ended: Arc<Mutex<Vec<Option<String>>>>,
    job: &'a Job,
    pause: Option<(u64, PathBuf)>,
}

impl CheckedSink<'_> {
    fn stop_if_interrupted(&self) -> Result<(), EngineError> {
        match reliability::interrupted() {
            Some(sig) => Err(EngineError::Io(format!(
                "interrupted by {}",
                reliability::signal_name(sig)
            ))),
            None => Ok(()),
        }
    }
}

impl Sink for CheckedSink<'_> {
    fn begin(&mut self, h: &RunHeader) -> Result<(), EngineError> {
        self.inner.begin(h)?;
        // The checkpoint's integrations of this run's span, with its
        // layout (a session begins once per scan, each with its stations).
        let (mine, later): (Vec<Integration>, Vec<Integration>) = std::mem::take(&mut self.replay)
            .into_iter()
            .partition(|i| i.time >= h.start && h.data_end.is_none_or(|e| i.time <= e));
        self.replay = later;
        self.replayed.clear();
        for mut i in mine {
            self.inner.write(h.layout, &i)?;
            i.vis = Vec::new();
            i.weights = Vec::new();
            self.replayed.push(i);
        }
        Ok(())
    }

    fn replayed(&self) -> &[Integration] {
        &self.replayed
    }

    fn write(&mut self, layout: &Layout, integ: &Integration) -> Result<(), EngineError> {
        self.stop_if_interrupted()?;
        self.inner.write(layout, integ)?;
        if let Some(j) = &mut self.journal {
            j.append(integ).map_err(|e| {
                EngineError::Io(format!(
                    "{}: writing the checkpoint: {e}",
                    j.path().display()
                ))
            })?;
        }
        self.written += 1;
        self.last_weight.fill(0.0);
        let k = layout.bands.len() * layout.products.len();
        // Autocorrelations count too: a one-station job has nothing else.
        // Weights are [centre][baseline][band][product].
        let rows = integ.weights.chunks_exact(k);
        for (w, &(a, b)) in rows.zip(layout.baselines.iter().cycle()) {
            let w = w.iter().fold(0.0f32, |m, &x| m.max(x));
            self.last_weight[a] = self.last_weight[a].max(w);
            self.last_weight[b] = self.last_weight[b].max(w);
        }
        if let Some((n, file)) = &self.pause {
            if self.written == *n {
                eprintln!("emcorr: test pause after {n} integrations");
                while file.exists() && reliability::interrupted().is_none() {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }
        self.stop_if_interrupted()
    }

    fn pcal(&mut self, rows: Vec<formats::fitsidi::PcalRow>) -> Result<(), EngineError> {
        // Not journalled: the rows are regenerated from the journalled
        // integrations' tones when a resumed run replays them.
        self.inner.pcal(rows)
    }

    fn finish(&mut self) -> Result<(), EngineError> {
        self.stop_if_interrupted()?;
        // A streamed station whose data stopped before the job's end (its
        // writer died): the output would look complete but is not.
        if self.job.duration_s.is_some() {
            let ended = self.ended.lock().unwrap();
            for (s, e) in ended.iter().enumerate() {
                if let (Some(why), true) = (e, self.last_weight[s] == 0.0) {
                    let st = &self.job.stations[s];
                    return Err(EngineError::Io(format!(
                        "station {}: {}: {why}, before the end of the job (the last integration has no data from it): did its writer stop early?",
                        st.name,
                        st.files.last().map(|f| f.display().to_string()).unwrap_or_default()
                    )));
                }
            }
        }
        self.inner.finish()
    }
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {msg}")
            .expect("valid template"),
    );
    bar
}

/// One recording per station, in job order, opened together
/// (`formats::vdif::open_sources`: every stream has its reader before any is
/// waited for, so writers that feed the FIFOs in lock-step cannot deadlock
/// against us). A stream is open after its first frame: the job gives the
/// sample rate and, through its subbands, the threads to read. Streams
/// (FIFOs, stdin) get a read-ahead buffer sized from the model's delay span
/// between stations (the lunar station's data lie ~1.3 s away from the
/// Earth stations'), so that no station's writer is held up while the
/// correlator waits for another's. A signal ends every wait.
pub(crate) fn open_sources(job: &Job, span_s: f64) -> Result<Vec<Box<dyn SampleSource>>, Failure> {
    let mut recordings = Vec::with_capacity(job.stations.len());
    for st in &job.stations {
        if st.files.is_empty() {
            return Err(Failure::BadInput(format!(
                "{}: station {}: no recording (give file or files)",
                job.file.display(),
                st.name
            )));
        }
        let rate = st.sample_rate_hz.unwrap_or(64e6);
        let opts = OpenOptions {
            sample_rate_hz: st.sample_rate_hz,
            // The threads this station records (its own subbands, or the
            // job's at its slots).
            threads: Some(st.recorded_threads(&job.subbands)),
            readahead_bytes: engine::readahead_bytes(job, span_s, rate),
            cancel: reliability::cancel_token(),
        };
        recordings.push((st.files.clone(), opts));
    }
    engine::input::open_sources(&recordings).map_err(|(s, e)| {
        let m = format!("station {}: {e}", job.stations[s].name);
        if let Some(sig) = reliability::interrupted() {
            Failure::Interrupted(format!(
                "interrupted by {} while opening the recordings ({m}); nothing was written",
                reliability::signal_name(sig)
            ))
        } else if e.is_bad_input() {
            Failure::BadInput(m)
        } else {
            Failure::Io(m)
        }
    })
}

/// Largest minus smallest model delay at the job's start (when it has
/// one), over stations and phase centres.
fn delay_span(job: &Job) -> Option<f64> {
    let start = job.start?;
    let mut tracks = Vec::new();
    for c in 0..job.sources.len() {
        let m = engine::centre_model(job, c, start, start.add_seconds(1.0)).ok()?;
        tracks.extend(m.delays);
    }
    Some(engine::delay_span_s(&tracks, start))
}

/// Largest difference between phase centres of one station's model delay
/// at the job's start (when it has one): how far apart the centres'
/// blocks lie in a recording.
fn centre_spread(job: &Job) -> Option<f64> {
    let start = job.start?;
    let mut per_centre = Vec::new();
    for c in 0..job.sources.len() {
        let m = engine::centre_model(job, c, start, start.add_seconds(1.0)).ok()?;
        per_centre.push(m.delays);
    }
    let mut spread = 0.0f64;
    for s in 0..job.stations.len() {
        let d: Vec<f64> = per_centre
            .iter()
            .map(|t| t[s].eval(start).delay_s)
            .collect();
        let max = d.iter().cloned().fold(f64::MIN, f64::max);
        let min = d.iter().cloned().fold(f64::MAX, f64::min);
        spread = spread.max(max - min);
    }
    Some(spread)
}

fn summary_line(s: &Summary, output: &std::path::Path) -> String {
    let mean_w = if s.baseline_weights.is_empty() {
        0.0
    } else {
        s.baseline_weights.iter().map(|b| b.1).sum::<f64>() / s.baseline_weights.len() as f64
    };
    let centres = if s.centres.len() > 1 {
        format!(
            " at {} phase centres ({})",
            s.centres.len(),
            s.centres.join(", ")
        )
    } else {
        String::new()
    };
    // Averaging and window, when asked for.
    let mut spectral = Vec::new();
    if s.fft_nchan != s.nchan {
        spectral.push(format!("each of {} averaged", s.fft_nchan / s.nchan.max(1)));
    }
    if s.window != correlator::job::Window::None {
        spectral.push(format!("{} window", s.window.name()));
    }
    // A zoom pass: the FFT emcorr chose for the channel width.
    if s.fft_lengths.iter().any(|&n| n > 1 << 16) {
        let mut n = s.fft_lengths.clone();
        n.dedup();
        let n: Vec<String> = n.iter().map(|n| n.to_string()).collect();
        spectral.push(format!(
            "{} Hz channels from {}-point FFTs",
            s.chan_width_hz,
            n.join("/")
        ));
    }
    let spectral = if spectral.is_empty() {
        String::new()
    } else {
        format!(" ({})", spectral.join(", "))
    };
    format!(
        "correlated {} stations{centres}, {} baselines, {} band(s) × {} channels{spectral} × {}: {} integrations of {:.6} s from {} ({:.3} s of data, mean weight {:.3}) in {:.2} s ({:.2}× real time) → {}",
        s.stations.len(),
        s.baselines,
        s.bands,
        s.nchan,
        s.products.join("/"),
        s.integrations,
        s.integration_s,
        s.start,
        s.data_s,
        mean_w,
        s.wall_s,
        s.speed_x_realtime,
        output.display()
    )
}

fn summary_json(s: &Summary, cluster: Option<&ClusterReport>, output: &std::path::Path) -> String {
    let weights: serde_json::Map<String, serde_json::Value> = s
        .baseline_weights
        .iter()
        .map(|(b, w)| (b.clone(), serde_json::json!(w)))
        .collect();
    let mut v = serde_json::json!({
        "output": output.display().to_string(),
        "sources": s.centres,
        "stations": s.stations,
        "baselines": s.baselines,
        "bands": s.bands,
        "channels": s.nchan,
        "fft_channels": s.fft_nchan,
        "chan_width_hz": s.chan_width_hz,
        "fft_lengths": s.fft_lengths,
        "window": s.window.name(),
        "products": s.products,
        "integrations": s.integrations,
        "integration_s": s.integration_s,
        "start": s.start.to_iso8601(),
        "data_s": s.data_s,
        "weights": weights,
        "wall_s": s.wall_s,
        "speed_x_realtime": s.speed_x_realtime,
    });
    if let Some(c) = cluster {
        v["mpi"] = c.to_json(s.data_s);
    }
    v.to_string()
}
