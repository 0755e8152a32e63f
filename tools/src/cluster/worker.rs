//! Worker ranks (1 … N−1): prepare the same engine as rank 0 from the same
//! files, say hello with the plan's fingerprint, then ask for units, correlate
//! them and send each back, until rank 0 says stop; finally report what
//! this rank did. Any failure is sent to rank 0 (code and message) before
//! this process exits with the same code.

use super::protocol::{
    self, RankStats, FAILED, HELLO, NEXT, RELEASE, REQUEST, RESULT, STATS, STOP, UNIT,
};
use super::{plan_fingerprint, unit_input_bytes};
use crate::cli::correlate::{self, CorrelateArgs, Loaded};
use crate::correlate::{engine_failure, open_guarded, Opened};
use crate::failure::Failure;
use crate::reliability;
use correlator::engine::{Engine, EngineError, Flow, Options, Schedule, WorkUnit};
use formats::UtcTime;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use std::cell::Cell;
use std::time::Instant;

pub(super) fn serve(world: &SimpleCommunicator, args: &CorrelateArgs) -> Result<(), Failure> {
    let host = mpi::environment::processor_name().unwrap_or_default();
    let result = work(world, &host, args);
    if let Err(f) = &result {
        let root = world.process_at_rank(0);
        let b = protocol::encode_failure(f.exit_code(), f.message());
        root.send_with_tag(&b[..], FAILED);
        // Exit only once rank 0 has kept the work done: mpirun ends the
        // whole job as soon as one process exits non-zero.
        loop {
            let (_, status) = root.receive_vec::<u8>();
            if status.tag() == RELEASE {
                break;
            }
        }
    }
    result
}

/// Test hook (README, MPI): `EMCORR_TEST_MPI_FAIL=K` makes any worker
/// rank about to send a result of integration K fail (an I/O error) instead;
/// `K:abort` makes it die (SIGABRT), as a crashed node would. Which rank
/// that is depends on scheduling, but not what is lost: integration K.
fn injected_failure() -> Option<(u64, bool)> {
    let v = std::env::var("EMCORR_TEST_MPI_FAIL").ok()?;
    let mut it = v.split(':');
    let k: u64 = it.next()?.parse().ok()?;
    Some((k, it.next() == Some("abort")))
}

/// Units from rank 0, one REQUEST each.
struct FromRoot<'a> {
    world: &'a SimpleCommunicator,
    received: &'a Cell<u64>,
}

impl Schedule for FromRoot<'_> {
    fn next_unit(&mut self) -> Result<Option<WorkUnit>, EngineError> {
        if let Some(sig) = reliability::interrupted() {
            return Err(EngineError::Io(format!(
                "interrupted by {}",
                reliability::signal_name(sig)
            )));
        }
        let root = self.world.process_at_rank(0);
        root.send_with_tag(&[0u8; 0][..], REQUEST);
        let (b, status) = root.receive_vec::<u8>();
        self.received.set(self.received.get() + b.len() as u64);
        match status.tag() {
            UNIT => protocol::decode_unit(&b).map(Some).ok_or_else(|| {
                EngineError::Sink("rank 0 sent a unit this rank cannot read".into())
            }),
            STOP => Ok(None),
            t => Err(EngineError::Sink(format!(
                "rank 0 sent an unexpected message (tag {t})"
            ))),
        }
    }
}

fn work(world: &SimpleCommunicator, host: &str, args: &CorrelateArgs) -> Result<(), Failure> {
    reliability::install_handlers();
    let Loaded {
        job,
        session,
        threads,
        span_s,
        ..
    } = correlate::load(args)?;
    let files: Vec<_> = job.stations.iter().flat_map(|s| s.files.clone()).collect();
    reliability::register_inputs(&files);
    let opts = Options {
        threads,
        ..Options::default()
    };
    let Some(parts) = session else {
        let Opened {
            sources,
            late_warnings,
            ..
        } = open_guarded(&job, span_s)?;
        let build =
            |c: usize, a: UtcTime, b: UtcTime| correlator::engine::centre_model(&job, c, a, b);
        let engine = Engine::prepare(&job, sources, &build, &opts).map_err(engine_failure)?;
        return run_units(world, host, &job, engine, &late_warnings);
    };
    // A session: rank 0 drives one engine run per correlated scan of each
    // mode's part in turn (every one, also those a resumed run has), so
    // this rank prepares the same runs in the same order: the same scan
    // jobs, models and SOURCE_IDs; after the first, each only once rank 0
    // says the next run starts.
    let runs = parts.parts.iter().flat_map(|p| {
        correlator::session::Session::correlated(&p.plan)
            .into_iter()
            .map(move |k| (p, k))
    });
    for (i, (part, k)) in runs.enumerate() {
        if i > 0 && !next_run(world)? {
            return Ok(());
        }
        let (session, plan) = (&part.session, &part.plan);
        let scan_job = session.scan_job(k, plan);
        let models = (0..scan_job.sources.len())
            .map(|c| session.scan_model(k, plan, c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        let Opened {
            sources,
            late_warnings,
            ..
        } = open_guarded(&scan_job, span_s)?;
        let sources = session.windowed(k, &scan_job, sources, &models[0]);
        let build = |c: usize, _a: UtcTime, _b: UtcTime| {
            models
                .get(c)
                .cloned()
                .ok_or_else(|| EngineError::Sink(format!("no model for phase centre {c}")))
        };
        let mut engine =
            Engine::prepare(&scan_job, sources, &build, &opts).map_err(engine_failure)?;
        engine
            .set_source_ids(session.source_ids(k))
            .map_err(engine_failure)?;
        run_units(world, host, &scan_job, engine, &late_warnings)?;
    }
    Ok(())
}

/// Wait for rank 0 to say whether a session's next run follows.
fn next_run(world: &SimpleCommunicator) -> Result<bool, Failure> {
    let (b, status) = world.process_at_rank(0).receive_vec::<u8>();
    match (status.tag(), b.as_slice()) {
        (NEXT, [1]) => Ok(true),
        (NEXT, [0]) => Ok(false),
        (t, _) => Err(Failure::Internal(format!(
            "rank 0 sent an unexpected message between scans (tag {t})"
        ))),
    }
}

/// Say hello with `engine`'s plan, correlate the units rank 0 hands out
/// until it says stop, and report this rank's statistics.
fn run_units(
    world: &SimpleCommunicator,
    host: &str,
    job: &correlator::Job,
    mut engine: Engine,
    late_warnings: &std::sync::Mutex<Vec<String>>,
) -> Result<(), Failure> {
    let rank = world.rank() as usize;
    let root = world.process_at_rank(0);
    let hello = protocol::encode_hello(plan_fingerprint(&engine), host);
    root.send_with_tag(&hello[..], HELLO);

    let layout = engine.layout().clone();
    let nbands = layout.bands.len() as f64;
    let infos = engine.stream_infos();
    let mut stats = RankStats {
        rank,
        host: host.to_string(),
        sent_bytes: hello.len() as u64,
        ..RankStats::default()
    };
    let received = Cell::new(0u64);
    let fail = injected_failure();
    let t0 = Instant::now();
    let mut input_bytes = 0.0f64;
    let mut schedule = FromRoot {
        world,
        received: &received,
    };
    let run = engine.run(
        &mut schedule,
        &mut |r| {
            if let Some((k, abort)) = fail {
                if r.unit.integration == k {
                    if abort {
                        eprintln!("emcorr: rank {rank}: EMCORR_TEST_MPI_FAIL: aborting");
                        std::process::abort();
                    }
                    return Err(EngineError::Io(format!(
                        "injected failure (EMCORR_TEST_MPI_FAIL) in integration {k}"
                    )));
                }
            }
            let b = protocol::encode_result(&layout, &r);
            root.send_with_tag(&b[..], RESULT);
            stats.sent_bytes += b.len() as u64;
            stats.units += 1;
            stats.data_s += r.integration.inttim_s * r.unit.bands.len() as f64 / nbands;
            Ok(Flow::Continue)
        },
        &mut |blocks, unit| {
            input_bytes += unit_input_bytes(job, &layout, &infos, &unit.bands, blocks);
        },
    );
    stats.busy_s = t0.elapsed().as_secs_f64();
    // Dropping the recordings hands their late warnings over.
    drop(engine);
    run.map_err(|e| match reliability::interrupted() {
        Some(sig) => Failure::Interrupted(format!(
            "rank {rank}: interrupted by {}",
            reliability::signal_name(sig)
        )),
        None => engine_failure(e),
    })?;
    stats.input_bytes = input_bytes as u64;
    stats.received_bytes = received.get();
    stats.warnings = late_warnings.lock().map(|w| w.clone()).unwrap_or_default();
    // This message counts itself (its length does not depend on the values).
    stats.sent_bytes += protocol::encode_stats(&stats).len() as u64;
    let b = protocol::encode_stats(&stats);
    root.send_with_tag(&b[..], STATS);
    Ok(())
}
