//! `emcorr correlate JOB.toml`: run the FX engine on a job's recordings and
//! write FITS-IDI.
//!
//! The work is `correlator::engine`, and the decisions around it (memory
//! budget, opening the recordings, the reliability guards, the checkpoint's
//! fingerprint, the summary) are [`crate::correlate`]'s; this layer reads
//! the arguments, runs the passes, draws the progress bar (stderr, only on a
//! terminal) and prints. With `--mpi` the same run is driven across MPI
//! ranks ([`crate::cluster`]).

mod output;
pub(crate) mod session;
mod session_run;

use crate::cluster::{ClusterReport, Driver, Local, Stopped};
use crate::correlate::{
    check_memory, checkpoint_fingerprint, delay_span, engine_failure, open_guarded, summary_json,
    summary_line, test_pause, CheckedSink, Opened, SpanPlan,
};
use crate::failure::{print_stdout, Failure};
use crate::reliability;
use correlator::engine::{self, Engine, IdiSink, Options, Progress, Summary};
use correlator::Job;
use formats::UtcTime;
use std::io::IsTerminal;
use std::path::PathBuf;

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
    let plan = SpanPlan::of(&job, output);
    if args.json {
        let mut stations = serde_json::Map::new();
        for (name, files) in &plan.stations {
            let files: Vec<serde_json::Value> = files
                .iter()
                .map(
                    |r| serde_json::json!({"file": r.file.display().to_string(), "bytes": r.bytes}),
                )
                .collect();
            stations.insert(name.clone(), files.into());
        }
        print_stdout(&format!(
            "{}\n",
            serde_json::json!({"job": plan.job, "output": plan.output.display().to_string(), "stations": stations})
        ))
    } else {
        for (name, files) in &plan.stations {
            for r in files {
                let size = r.bytes.map_or("not found".to_string(), |b| {
                    format!("{:.1} MB", b as f64 / 1e6)
                });
                print_stdout(&format!("{name}: {} ({size})\n", r.file.display()))?;
            }
        }
        print_stdout(&format!("one span → {}\n", plan.output.display()))
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
    let fingerprint = checkpoint_fingerprint(&args.job, &job, tag)?;
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
    let mut sink = CheckedSink::new(
        IdiSink::to_target(out.target.clone()),
        journal,
        replay,
        &job,
        ended.clone(),
        test_pause(),
    );
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
            sink.keep_partial();
            let done = sink.written();
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
                let done = sink.written();
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
                sink.keep_partial();
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

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {msg}")
            .expect("valid template"),
    );
    bar
}
