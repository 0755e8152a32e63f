//! What a job's buffers cost before it runs: the model's delay span
//! between stations (sizes the stream read-ahead), the spread between phase
//! centres (sizes each station's chunk), and the memory check that refuses
//! a job that would not fit.
//!
//! Why up front: a job too big for the machine should stop with exit code 2
//! and a hint, not be killed by the kernel half-way through a long run.

use crate::failure::Failure;
use crate::reliability;
use correlator::engine;
use correlator::Job;

/// Refuse a job whose buffers would not fit in the memory budget.
pub fn check_memory(
    job: &Job,
    threads: usize,
    span_s: f64,
    max: Option<&str>,
) -> Result<(), Failure> {
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

/// Largest minus smallest model delay at the job's start (when it has
/// one), over stations and phase centres.
pub fn delay_span(job: &Job) -> Option<f64> {
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
pub fn centre_spread(job: &Job) -> Option<f64> {
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
