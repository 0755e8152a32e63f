//! One job across MPI ranks (`emcorr correlate JOB --mpi`, cargo feature
//! `mpi`).
//!
//! Rank 0 plans the job exactly as a single process would, writes the
//! output and the checkpoint, and hands out work units (one integration of
//! the bands recorded in one VDIF thread: [`unit_groups`]) to whichever
//! rank asks next; every other rank opens the same
//! recordings (files on a shared filesystem, memory-mapped), prepares the
//! same engine, checks that its plan matches rank 0's, and correlates the
//! units it is given, sending each finished one back. Each unit is
//! computed from the same blocks in the same order as in a single process
//! and rank 0 writes integrations in order, so the output is the same,
//! byte for byte ([`correlator::engine::schedule`]).
//!
//! Failures: a rank that fails says so (exit code and message) and the job
//! ends after the others finish their unit in hand: rank 0 reports which
//! rank failed and why, keeps `<output>.partial` and the checkpoint, and
//! exits with that rank's code; `--resume` then finishes the job without
//! redoing the integrations written. A rank that dies (a crash, a kill)
//! makes mpirun stop the job; rank 0 keeps the partial output and the
//! checkpoint the same way. [`protocol`] is what ranks say to each other.

pub mod dispatch;
pub mod protocol;

#[cfg(feature = "mpi")]
mod coordinator;
#[cfg(feature = "mpi")]
mod worker;
#[cfg(feature = "mpi")]
pub use coordinator::run;

use crate::failure::Failure;
pub use correlator::engine::schedule::band_groups as unit_groups;
use correlator::engine::{Engine, EngineError, Layout, Options, Progress, Sink, Summary};
use correlator::Job;
use protocol::RankStats;

/// What stopped a run before its end.
#[derive(Debug)]
pub enum Stopped {
    /// The engine, the sink or a signal (this process).
    Engine(EngineError),
    /// Another rank failed.
    Rank {
        rank: usize,
        host: String,
        failure: Failure,
    },
}

impl From<EngineError> for Stopped {
    fn from(e: EngineError) -> Self {
        Stopped::Engine(e)
    }
}

/// How the ranks of an MPI run did.
#[derive(Debug, Clone, Default)]
pub struct ClusterReport {
    pub ranks: usize,
    /// Per worker rank (rank 0 plans and writes).
    pub workers: Vec<RankStats>,
    /// Message bytes rank 0 sent and received.
    pub rank0_sent_bytes: u64,
    pub rank0_received_bytes: u64,
    /// Seconds rank 0 spent putting integrations together and writing them
    /// (what limits it once the workers are many).
    pub rank0_write_s: f64,
}

impl ClusterReport {
    /// Every byte that crossed MPI (each message counted once).
    pub fn total_bytes(&self) -> u64 {
        self.rank0_sent_bytes + self.rank0_received_bytes
    }

    pub fn to_json(&self, data_s: f64) -> serde_json::Value {
        let per_rank: Vec<serde_json::Value> = self
            .workers
            .iter()
            .map(|w| {
                serde_json::json!({
                    "rank": w.rank,
                    "host": w.host,
                    "units": w.units,
                    "data_s": w.data_s,
                    "busy_s": w.busy_s,
                    "speed_x_realtime": if w.busy_s > 0.0 { w.data_s / w.busy_s } else { 0.0 },
                    "input_bytes": w.input_bytes,
                    "sent_bytes": w.sent_bytes,
                    "received_bytes": w.received_bytes,
                })
            })
            .collect();
        serde_json::json!({
            "ranks": self.ranks,
            "per_rank": per_rank,
            "rank0_sent_bytes": self.rank0_sent_bytes,
            "rank0_received_bytes": self.rank0_received_bytes,
            "rank0_write_s": self.rank0_write_s,
            "bytes_total": self.total_bytes(),
            "bytes_per_data_s": if data_s > 0.0 { self.total_bytes() as f64 / data_s } else { 0.0 },
        })
    }
}

/// Runs a prepared engine into a sink: a single process in order
/// ([`correlator::engine::run_in_order`]) or rank 0 of an MPI run.
/// `progress` gets the engine's progress and, from an MPI run, a line on
/// the ranks (throughput so far, MPI bytes).
pub trait Driver {
    fn drive(
        &mut self,
        engine: Engine,
        sink: &mut dyn Sink,
        opts: &Options,
        progress: &mut dyn FnMut(&Progress, Option<&str>),
    ) -> Result<(Summary, Option<ClusterReport>), Stopped>;

    /// A session is about to drive `n` runs, one per correlated scan
    /// (MPI workers prepare the same runs in turn and wait between them).
    fn runs(&mut self, _n: usize) {}
}

/// This process alone.
pub struct Local;

impl Driver for Local {
    fn drive(
        &mut self,
        engine: Engine,
        sink: &mut dyn Sink,
        opts: &Options,
        progress: &mut dyn FnMut(&Progress, Option<&str>),
    ) -> Result<(Summary, Option<ClusterReport>), Stopped> {
        let s = correlator::engine::run_in_order(engine, sink, opts, &mut |p| progress(p, None))?;
        Ok((s, None))
    }
}

/// A digest of everything a rank's plan must share with rank 0's: the
/// layout, the span and the delay model at the start. Ranks plan from the
/// same files with the same code, so this only catches a rank that sees
/// other files (a shared filesystem that is not shared) or another build.
pub fn plan_fingerprint(engine: &Engine) -> u64 {
    let l = engine.layout();
    let h = engine.header();
    let mut text = format!(
        "{:?}|{}|{:?}|{:?}|{}|{}|{}",
        l,
        engine.start().to_iso8601(),
        engine.start().frac().to_bits(),
        engine.total_blocks(),
        env!("CARGO_PKG_VERSION"),
        h.bits.iter().map(|b| b.to_string()).collect::<String>(),
        h.centres.len()
    );
    for c in &h.centres {
        text.push_str(&format!("|{}", c.source_id));
        for t in c.tracks {
            let d = t.eval(engine.start());
            text.push_str(&format!(
                "|{:x}|{:x}",
                d.delay_s.to_bits(),
                d.rate.to_bits()
            ));
        }
    }
    crate::reliability::fnv64(&[text.as_bytes()])
}

/// Bytes of recording a unit's chunk of `blocks` FFT blocks spans: whole
/// frames of every thread it reads, at every station (`infos` in job
/// order).
pub fn unit_input_bytes(
    job: &Job,
    layout: &Layout,
    infos: &[correlator::engine::StreamInfo],
    bands: &[usize],
    blocks: usize,
) -> f64 {
    let mut threads: Vec<u16> = bands
        .iter()
        .flat_map(|&b| layout.bands[b].subbands.iter())
        .map(|&sb| job.subbands[sb].thread)
        .collect();
    threads.sort_unstable();
    threads.dedup();
    let samples = (blocks * layout.fft_length) as f64;
    infos
        .iter()
        .map(|i| samples * threads.len() as f64 * i.frame_bytes as f64 / i.samples_per_frame as f64)
        .sum()
}
