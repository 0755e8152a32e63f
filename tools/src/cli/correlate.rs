//! `emcorr correlate JOB.toml`: run the FX engine on a job's recordings and
//! write FITS-IDI.
//!
//! The work is `correlator::engine::correlate`; this layer opens the
//! recordings, draws the progress bar (stderr, only on a terminal) and prints
//! the summary.

use crate::failure::Failure;
use correlator::engine::{self, EngineError, IdiSink, Options, Progress, SampleSource, Summary};
use correlator::Job;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CorrelateArgs {
    /// The job file (TOML).
    pub job: PathBuf,
    /// FITS-IDI output (default: the job's `output`, relative to the job file).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Worker threads (default: the available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar and no summary line.
    #[arg(long)]
    pub quiet: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: CorrelateArgs) -> Result<(), Failure> {
    let job = Job::from_file(&args.job).map_err(|e| Failure::BadInput(e.to_string()))?;
    let output = args.output.clone().unwrap_or_else(|| job.output.clone());
    if let Some(0) = args.threads {
        return Err(Failure::BadInput("--threads must be at least 1".into()));
    }
    let sources = open_sources(&job)?;
    let opts = Options {
        threads: args.threads.unwrap_or_else(|| Options::default().threads),
        ..Options::default()
    };
    let mut sink = IdiSink::new(&output);
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(progress_bar);
    let mut on_progress = |p: &Progress| {
        if let Some(bar) = &bar {
            if let Some(t) = p.total_s {
                bar.set_length((t * 1000.0) as u64);
            }
            bar.set_position((p.data_s * 1000.0) as u64);
            bar.set_message(format!(
                "{:.3} s of data, {:.2}× real time, {} integrations",
                p.data_s,
                p.data_s / p.wall_s.max(1e-9),
                p.integrations
            ));
        }
    };
    let result = engine::correlate(&job, sources, &opts, &mut sink, &mut on_progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    // On error the sink is dropped unfinished, which removes `<output>.partial`:
    // nothing under the output name ever looks complete.
    let summary = result.map_err(|e| match e {
        EngineError::BadInput(m) => Failure::BadInput(m),
        EngineError::Io(m) | EngineError::Sink(m) => Failure::Io(m),
    })?;
    if !args.quiet {
        for w in &summary.warnings {
            eprintln!("emcorr: warning: {w}");
        }
    }
    if args.json {
        println!("{}", summary_json(&summary, &output));
    } else if !args.quiet {
        eprintln!("{}", summary_line(&summary, &output));
    }
    Ok(())
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {msg}")
            .expect("valid template"),
    );
    bar
}

/// One recording per station, in job order. Streams (FIFOs, stdin) get a
/// read-ahead buffer sized from the model's delay span between stations (the
/// lunar station's data lie ~1.3 s away from the Earth stations'), so that no
/// station's writer is held up while the correlator waits for another's.
fn open_sources(job: &Job) -> Result<Vec<Box<dyn SampleSource>>, Failure> {
    let span_s = delay_span(job).unwrap_or(2.0);
    job.stations
        .iter()
        .map(|st| {
            if st.files.is_empty() {
                return Err(Failure::BadInput(format!(
                    "{}: station {}: no recording (give file or files)",
                    job.file.display(),
                    st.name
                )));
            }
            let rate = st.sample_rate_hz.unwrap_or(64e6);
            let readahead = engine::readahead_bytes(job, span_s, rate);
            engine::input::open_source(&st.files, st.sample_rate_hz, readahead).map_err(|e| {
                let m = format!("station {}: {e}", st.name);
                if e.is_bad_input() {
                    Failure::BadInput(m)
                } else {
                    Failure::Io(m)
                }
            })
        })
        .collect()
}

/// Largest minus smallest model delay at the job's start (when it has one).
fn delay_span(job: &Job) -> Option<f64> {
    let start = job.start?;
    let tracks = correlator::model::build_model(job, start, start.add_seconds(1.0)).ok()?;
    Some(engine::delay_span_s(&tracks.delays, start))
}

fn summary_line(s: &Summary, output: &std::path::Path) -> String {
    let mean_w = if s.baseline_weights.is_empty() {
        0.0
    } else {
        s.baseline_weights.iter().map(|b| b.1).sum::<f64>() / s.baseline_weights.len() as f64
    };
    format!(
        "correlated {} stations, {} baselines, {} band(s) × {} channels × {}: {} integrations of {:.6} s from {} ({:.3} s of data, mean weight {:.3}) in {:.2} s ({:.2}× real time) → {}",
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

fn summary_json(s: &Summary, output: &std::path::Path) -> String {
    let weights: serde_json::Map<String, serde_json::Value> = s
        .baseline_weights
        .iter()
        .map(|(b, w)| (b.clone(), serde_json::json!(w)))
        .collect();
    serde_json::json!({
        "output": output.display().to_string(),
        "stations": s.stations,
        "baselines": s.baselines,
        "bands": s.bands,
        "channels": s.nchan,
        "products": s.products,
        "integrations": s.integrations,
        "integration_s": s.integration_s,
        "start": s.start.to_iso8601(),
        "data_s": s.data_s,
        "weights": weights,
        "wall_s": s.wall_s,
        "speed_x_realtime": s.speed_x_realtime,
    })
    .to_string()
}
