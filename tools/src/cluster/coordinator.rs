//! Rank 0: plan, hand out units, collect, write.
//!
//! Units go out in job order, band group by band group ([`unit_groups`]),
//! to whichever worker asks ([`super::dispatch`]), so a slow rank gets
//! fewer; results come back in
//! any order and the collector writes integrations in order. Rank 0 polls
//! for messages rather than blocking in a receive, so a signal is seen
//! within milliseconds.

use super::dispatch::{Dispatcher, Reply};
use super::protocol::{
    self, RankStats, FAILED, HELLO, NEXT, RELEASE, REQUEST, RESULT, STATS, STOP, UNIT,
};
use super::{plan_fingerprint, unit_groups, worker, ClusterReport, Driver, Local, Stopped};
use crate::cli::correlate::{self, CorrelateArgs};
use crate::failure::Failure;
use crate::reliability;
use correlator::engine::{Collector, Engine, EngineError, Options, Progress, Sink, Summary};
use mpi::point_to_point::MatchedReceiveVec;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use std::time::{Duration, Instant};

/// `emcorr correlate JOB --mpi` on every rank.
pub fn run(args: CorrelateArgs) -> Result<(), Failure> {
    let Some(universe) = mpi::initialize() else {
        return Err(Failure::Internal("MPI was initialised twice".into()));
    };
    let world = universe.world();
    if world.size() == 1 {
        return correlate::run_with(args, &mut Local);
    }
    if world.rank() != 0 {
        return worker::serve(&world, &args);
    }
    let mut coordinator = Coordinator {
        world: &world,
        drained: false,
        failed: Vec::new(),
        runs_left: 0,
        between: false,
    };
    let result = correlate::run_with(args, &mut coordinator);
    // A session stopped between two scan runs: the workers that finished
    // the last one wait to hear whether a next follows. It does not.
    if coordinator.between {
        for r in 1..world.size() as usize {
            if !coordinator.failed.contains(&r) {
                world
                    .process_at_rank(r as i32)
                    .send_with_tag(&[0u8][..], NEXT);
            }
        }
    }
    // Ranks that failed wait for this before they exit (and mpirun ends
    // the job): the partial output and the checkpoint are safe now.
    for &r in &coordinator.failed {
        world
            .process_at_rank(r as i32)
            .send_with_tag(&[0u8; 0][..], RELEASE);
    }
    match result {
        // Every worker has finished or reported its failure: MPI can be
        // finalised normally and the exit code is this failure's.
        Ok(()) => Ok(()),
        Err(f) if coordinator.drained => Err(f),
        // Workers may still be waiting for a unit (rank 0 failed before or
        // while handing out work, or a signal arrived): end them all.
        Err(f) => {
            // One write(2) for the whole line (as main's): mpirun's abort
            // report can otherwise land between eprintln!'s pieces.
            let line = match &f {
                Failure::Interrupted(m) => format!(
                    "emcorr: {m} (under mpirun a SIGTERM can also mean that another rank died: see mpirun's report)\n"
                ),
                _ => format!("emcorr: {}\n", f.message()),
            };
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            world.abort(f.exit_code() as i32)
        }
    }
}

/// Send a dispatcher's answer (nothing for `Wait`); the payload bytes sent.
fn send_reply(world: &SimpleCommunicator, rank: usize, reply: &Reply) -> u64 {
    let dest = world.process_at_rank(rank as i32);
    match reply {
        Reply::Unit(u) => {
            let b = protocol::encode_unit(u);
            dest.send_with_tag(&b[..], UNIT);
            b.len() as u64
        }
        Reply::Stop => {
            dest.send_with_tag(&[0u8; 0][..], STOP);
            0
        }
        Reply::Wait => 0,
    }
}

struct Coordinator<'w> {
    world: &'w SimpleCommunicator,
    /// Whether every worker said it was done (stats or failure).
    drained: bool,
    /// Workers that reported a failure (they wait for a release).
    failed: Vec<usize>,
    /// A session's runs still to drive after the current one.
    runs_left: usize,
    /// Whether the workers finished a session's run and wait to hear (tag
    /// NEXT) whether another follows.
    between: bool,
}

impl Driver for Coordinator<'_> {
    fn drive(
        &mut self,
        engine: Engine,
        sink: &mut dyn Sink,
        opts: &Options,
        progress: &mut dyn FnMut(&Progress, Option<&str>),
    ) -> Result<(Summary, Option<ClusterReport>), Stopped> {
        let wall = Instant::now();
        let world = self.world;
        let size = world.size() as usize;
        // A session drives one run per scan: the workers, done with the
        // last, prepare this one only when told (so that none of this run's
        // hellos arrives while the last run's messages are being read).
        if self.between {
            for r in 1..size {
                world
                    .process_at_rank(r as i32)
                    .send_with_tag(&[1u8][..], NEXT);
            }
            self.between = false;
        }
        self.runs_left = self.runs_left.saturating_sub(1);
        self.drained = false;
        let job = engine.job();
        let fingerprint = plan_fingerprint(&engine);
        sink.begin(&engine.header())?;
        let layout = engine.layout().clone();
        let start = engine.start();
        let total_blocks = engine.total_blocks();
        let total_s = engine.total_s();
        let integrations = engine.integrations();
        let mut warnings = engine.warnings().to_vec();
        // Rank 0 reads no samples: its recordings were only for planning.
        drop(engine);

        let nbands = layout.bands.len();
        let groups = unit_groups(job, &layout);
        let mut collector = Collector::new(
            sink,
            &layout,
            job.stations.len(),
            total_blocks.is_some(),
            opts.first_integration,
        )?;
        // A window of twice the workers' integrations (each works on one
        // and reads the next) plus slack: rank 0 holds at most that many
        // integrations plus one per worker.
        let workers = size - 1;
        let mut dispatch = Dispatcher::new(
            groups,
            opts.first_integration,
            integrations,
            size,
            2 * workers as u64 + 2,
        );
        let mut hosts = vec![String::new(); size];
        let mut done = vec![false; size];
        done[0] = true;
        let mut stats: Vec<RankStats> = Vec::new();
        let mut failure: Option<Stopped> = None;
        let (mut sent, mut received) = (0u64, 0u64);
        let mut data_s = opts.first_integration as f64 * layout.integration_s;
        let mut idle = Duration::from_micros(50);
        // Seconds rank 0 spent assembling and writing integrations.
        let mut write_s = 0.0f64;
        // Per rank, as results arrive: all-band data seconds and when its
        // hello came (for the progress line).
        let mut live: Vec<(f64, Option<Instant>)> = vec![(0.0, None); size];
        while !done.iter().all(|&d| d) {
            if let Some(sig) = reliability::interrupted() {
                return Err(Stopped::Engine(EngineError::Io(format!(
                    "interrupted by {}",
                    reliability::signal_name(sig)
                ))));
            }
            let Some(probed) = world.any_process().immediate_matched_probe() else {
                std::thread::sleep(idle);
                idle = (idle * 2).min(Duration::from_millis(2));
                continue;
            };
            idle = Duration::from_micros(50);
            let (bytes, status) = probed.matched_receive_vec::<u8>();
            received += bytes.len() as u64;
            let rank = status.source_rank() as usize;
            let fail = |failure: Failure, hosts: &[String]| Stopped::Rank {
                rank,
                host: hosts[rank].clone(),
                failure,
            };
            match status.tag() {
                HELLO => match protocol::decode_hello(&bytes) {
                    Some((fp, host)) => {
                        hosts[rank] = host;
                        live[rank].1 = Some(Instant::now());
                        if fp != fingerprint && failure.is_none() {
                            failure = Some(fail(
                                Failure::BadInput(
                                    "its plan of the job differs from rank 0's (not the same recordings at the same paths, or another emcorr build?)".into(),
                                ),
                                &hosts,
                            ));
                        }
                    }
                    None => {
                        failure.get_or_insert(fail(
                            Failure::Internal("unreadable hello".into()),
                            &hosts,
                        ));
                    }
                },
                REQUEST => {
                    let reply = dispatch.request(rank, collector.next_integration());
                    sent += send_reply(world, rank, &reply);
                }
                RESULT => {
                    // After another rank's failure, units still in flight
                    // are kept: each integration they complete is one a
                    // resumed run need not redo.
                    dispatch.returned(rank);
                    if matches!(failure, Some(Stopped::Engine(_))) {
                        continue;
                    }
                    match protocol::decode_result(&layout, &bytes) {
                        Some(r) => {
                            let d =
                                r.integration.inttim_s * r.unit.bands.len() as f64 / nbands as f64;
                            data_s += d;
                            live[rank].0 += d;
                            let t = Instant::now();
                            if let Err(e) = collector.accept(r) {
                                failure = Some(Stopped::Engine(e));
                            }
                            write_s += t.elapsed().as_secs_f64();
                            let ranks: Vec<String> = live
                                .iter()
                                .enumerate()
                                .filter_map(|(r, (d, t0))| {
                                    let t = (*t0)?.elapsed().as_secs_f64();
                                    Some(format!("{r}: {:.2}×", d / t.max(1e-9)))
                                })
                                .collect();
                            let detail = format!(
                                "ranks {}; MPI {:.1} MB",
                                ranks.join(", "),
                                (sent + received) as f64 / 1e6
                            );
                            progress(
                                &Progress {
                                    data_s,
                                    total_s,
                                    integrations: collector.written(),
                                    wall_s: wall.elapsed().as_secs_f64(),
                                },
                                Some(&detail),
                            );
                        }
                        None => {
                            failure.get_or_insert(fail(
                                Failure::Internal(
                                    "sent a result that does not fit the layout".into(),
                                ),
                                &hosts,
                            ));
                        }
                    }
                }
                FAILED => {
                    let (code, m) = protocol::decode_failure(&bytes);
                    done[rank] = true;
                    self.failed.push(rank);
                    // The first failure is the cause; later ones (ranks
                    // interrupted by the same signal) are echoes.
                    if !matches!(failure, Some(Stopped::Rank { .. })) {
                        failure = Some(fail(Failure::from_code(code, m), &hosts));
                    }
                }
                STATS => {
                    done[rank] = true;
                    match protocol::decode_stats(rank, &bytes) {
                        Some(s) => stats.push(s),
                        None => {
                            failure.get_or_insert(fail(
                                Failure::Internal("unreadable statistics".into()),
                                &hosts,
                            ));
                        }
                    }
                }
                t => {
                    failure.get_or_insert(fail(
                        Failure::Internal(format!("unexpected message (tag {t})")),
                        &hosts,
                    ));
                }
            }
            // After a failure or the end of the data no more units go out;
            // a written integration may let waiting workers go on.
            if failure.is_some() || collector.stopped() {
                dispatch.close();
            }
            for (r, reply) in dispatch.ready(collector.next_integration()) {
                sent += send_reply(world, r, &reply);
            }
        }
        self.drained = true;
        self.between = self.runs_left > 0;
        if let Some(f) = failure {
            return Err(f);
        }
        for s in &stats {
            for w in &s.warnings {
                if !warnings.contains(w) {
                    warnings.push(w.clone());
                }
            }
        }
        let t = Instant::now();
        let summary = collector.finish(
            job,
            start,
            total_blocks,
            warnings,
            wall.elapsed().as_secs_f64(),
        )?;
        stats.sort_by_key(|s| s.rank);
        Ok((
            summary,
            Some(ClusterReport {
                ranks: size,
                workers: stats,
                rank0_sent_bytes: sent,
                rank0_received_bytes: received,
                rank0_write_s: write_s + t.elapsed().as_secs_f64(),
            }),
        ))
    }

    fn runs(&mut self, n: usize) {
        self.runs_left = n;
    }
}
