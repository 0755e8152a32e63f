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
        h.tracks.len()
    );
    for t in h.tracks {
        let d = t.eval(engine.start());
        text.push_str(&format!(
            "|{:x}|{:x}",
            d.delay_s.to_bits(),
            d.rate.to_bits()
        ));
    }
    crate::reliability::fnv64(&[text.as_bytes()])
}

/// The bands of one work unit, in groups: bands whose subbands lie in the
/// same VDIF threads go together. A thread's frames interleave all its
/// channels, so a rank reading one channel of a frame reads the whole frame;
/// splitting a thread's channels over ranks would make every rank read (and
/// pull over the network) all of it. Bands in different threads (the usual
/// DiFX/SFXC layout of one channel per thread) are separate units.
/// Groups are in order of their first band; bands ascending in each.
pub fn unit_groups(job: &Job, layout: &Layout) -> Vec<Vec<usize>> {
    let threads_of = |b: usize| -> Vec<u16> {
        layout.bands[b]
            .subbands
            .iter()
            .map(|&sb| job.subbands[sb].thread)
            .collect()
    };
    // Merge until no two groups share a thread (few bands: quadratic is fine).
    let mut groups: Vec<(Vec<usize>, Vec<u16>)> = (0..layout.bands.len())
        .map(|b| (vec![b], threads_of(b)))
        .collect();
    let mut merged = true;
    while merged {
        merged = false;
        'outer: for i in 0..groups.len() {
            for j in i + 1..groups.len() {
                if groups[i].1.iter().any(|t| groups[j].1.contains(t)) {
                    let (bands, threads) = groups.remove(j);
                    groups[i].0.extend(bands);
                    groups[i].1.extend(threads);
                    merged = true;
                    break 'outer;
                }
            }
        }
    }
    let mut out: Vec<Vec<usize>> = groups
        .into_iter()
        .map(|(mut b, _)| {
            b.sort_unstable();
            b
        })
        .collect();
    out.sort_by_key(|g| g[0]);
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn job(subbands: &[(f64, &str, u16, usize)]) -> (Job, Layout) {
        let mut t = String::from(
            "[job]\nname = \"t\"\n[correlation]\nfft_length = 64\nintegration_s = 1.0\n\
             [source]\nname = \"S\"\nra_deg = 1.0\ndec_deg = 2.0\n\
             [[station]]\nname = \"A\"\nfile = \"a.vdif\"\ndelay_poly = { epoch = \"2026-01-01T00:00:00Z\", coeffs_s = [0.0] }\n\
             [[station]]\nname = \"B\"\nfile = \"b.vdif\"\ndelay_poly = { epoch = \"2026-01-01T00:00:00Z\", coeffs_s = [0.0] }\n",
        );
        for (f, pol, th, ch) in subbands {
            t += &format!(
                "[[subband]]\nsky_freq_hz = {f:?}\nbandwidth_hz = 8e6\nsideband = \"U\"\npol = \"{pol}\"\nthread = {th}\nchannel = {ch}\n"
            );
        }
        let job = Job::from_toml_str(&t, Path::new("/tmp/j.toml")).unwrap();
        // The layout's bands as the engine groups them: by frequency.
        let mut freqs: Vec<f64> = Vec::new();
        let mut bands: Vec<correlator::engine::Band> = Vec::new();
        for (i, (f, _, _, _)) in subbands.iter().enumerate() {
            match freqs.iter().position(|x| x == f) {
                Some(k) => bands[k].subbands.push(i),
                None => {
                    freqs.push(*f);
                    bands.push(correlator::engine::Band {
                        sky_freq_hz: *f,
                        bandwidth_hz: 8e6,
                        sideband: correlator::job::Sideband::Upper,
                        subbands: vec![i],
                    });
                }
            }
        }
        let layout = Layout {
            stations: vec!["A".into(), "B".into()],
            baselines: vec![(0, 0), (0, 1), (1, 1)],
            bands,
            pols: vec![correlator::job::Pol::R],
            products: vec![correlator::engine::Product { pol_a: 0, pol_b: 0 }],
            nchan: 32,
            chan_width_hz: 0.25e6,
            complex: false,
            sample_rate_hz: 16e6,
            fft_length: 64,
            blocks_per_integration: 10,
            integration_s: 1.0,
        };
        (job, layout)
    }

    #[test]
    fn bands_sharing_a_thread_form_one_unit_and_separate_threads_separate_units() {
        // One channel per thread: every band its own unit.
        let (j, l) = job(&[(8.4e9, "R", 0, 0), (8.5e9, "R", 1, 0), (8.6e9, "R", 2, 0)]);
        assert_eq!(unit_groups(&j, &l), vec![vec![0], vec![1], vec![2]]);
        // Four channels in one thread: one unit.
        let (j, l) = job(&[
            (8.4e9, "R", 0, 0),
            (8.5e9, "R", 0, 1),
            (8.6e9, "R", 0, 2),
            (8.7e9, "R", 0, 3),
        ]);
        assert_eq!(unit_groups(&j, &l), vec![vec![0, 1, 2, 3]]);
        // Threads {0: bands 0, 2}, {1: band 1, and band 3 whose L pol is in
        // thread 1 too}: a band spanning two threads joins them.
        let (j, l) = job(&[
            (8.4e9, "R", 0, 0),
            (8.5e9, "R", 1, 0),
            (8.6e9, "R", 0, 1),
            (8.7e9, "R", 2, 0),
            (8.7e9, "L", 1, 1),
            (8.8e9, "R", 3, 0),
        ]);
        assert_eq!(unit_groups(&j, &l), vec![vec![0, 2], vec![1, 3], vec![4]]);
    }
}
