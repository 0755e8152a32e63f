//! `emcorr correlate` on a session: each part (one per mode, see
//! [`Parts`]) in turn, scan after scan, into its own FITS-IDI file with its
//! own checkpoint beside it.
//!
//! Every output path is resolved, and every checkpoint made, before any
//! work, so a refused path leaves nothing anywhere. The checkpoints stay
//! until the whole session has finished: a run stopped in mode 2 (a signal,
//! a failed MPI rank) keeps mode 1's finished file, mode 2's `.partial`
//! and all checkpoints; `--resume` then writes mode 1's file again from its
//! checkpoint (same bytes, nothing computed: its finished file may be
//! replaced, see [`Output::resolve_part`]) and finishes mode 2 where it
//! stopped. Under `--mpi` every scan of every part is one driven run, in
//! the order the workers prepare them (`crate::cluster::worker`).

use super::output::Output;
use super::session::{self, Parts};
use super::{CorrelateArgs, ProgressOut};
use crate::cluster::{Driver, Stopped};
use crate::correlate::{
    checkpoint_fingerprint, engine_failure, open_guarded, test_pause, CheckedSink,
};
use crate::failure::{print_stdout, Failure};
use crate::reliability;
use correlator::engine::{Engine, EngineError, IdiSink, Options, Progress, Sink};
use correlator::session::ScanResult;
use correlator::Job;
use formats::output::OutputTarget;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Correlate every part of `parts` with `driver`; `base` is the output
/// the user gave (the job's or `--output`).
pub(super) fn run(
    args: &CorrelateArgs,
    driver: &mut dyn Driver,
    parts: &Parts,
    base: &Path,
    threads: usize,
    span_s: f64,
) -> Result<(), Failure> {
    let job = &parts.first().job;
    let active: Vec<usize> = (0..parts.parts.len())
        .filter(|&i| parts.parts[i].plan.correlated() > 0)
        .collect();
    if active.is_empty() {
        return Err(Failure::BadInput(format!(
            "{}: no scan of the session can be correlated (see the plan: --dry-run)",
            job.file.display()
        )));
    }
    let several = parts.parts.len() > 1;
    if several {
        // A device or FIFO takes one file; a mode's name cannot be put in it.
        if let Ok(t) = OutputTarget::resolve(base, true) {
            if t.is_stream() {
                return Err(Failure::BadInput(format!(
                    "{}: is {}, but the session has {} modes and writes one file per mode ({}): give a file name",
                    base.display(),
                    t.kind(),
                    parts.parts.len(),
                    session::outputs_text(parts)
                )));
            }
        }
    }

    // Every output resolved and every checkpoint made (or, resuming,
    // read) before any work.
    let mut outs: Vec<Output> = Vec::new();
    for &i in &active {
        outs.push(Output::resolve_part(
            &parts.parts[i].output,
            args.overwrite,
            args.resume,
        )?);
    }
    let drop_checkpoints = |e: Failure| {
        if !args.resume {
            for o in &outs {
                o.remove_checkpoint();
            }
        }
        e
    };
    let mut journals = Vec::new();
    for (n, &i) in active.iter().enumerate() {
        let tag = parts.parts[i].tag(several);
        let fingerprint = checkpoint_fingerprint(&args.job, job, tag.as_deref())?;
        match outs[n].open_journal(fingerprint, args.resume) {
            Ok(j) => journals.push(j),
            Err(e) => {
                if !args.resume {
                    for o in &outs[..n] {
                        o.remove_checkpoint();
                    }
                }
                return Err(e);
            }
        }
    }
    let files: Vec<PathBuf> = job.stations.iter().flat_map(|s| s.files.clone()).collect();
    reliability::register_inputs(&files);
    // Every scan's model, before any correlation: a kernel or EOP that
    // does not cover a scan of mode 2 stops the session before mode 1 runs.
    let mut session_outputs = Vec::new();
    for &i in &active {
        let p = &parts.parts[i];
        session_outputs.push(
            p.session
                .output(&p.plan)
                .map_err(|e| drop_checkpoints(engine_failure(e)))?,
        );
    }

    let late_warnings = Arc::new(Mutex::new(Vec::<String>::new()));
    driver.runs(
        active
            .iter()
            .map(|&i| parts.parts[i].plan.correlated())
            .sum(),
    );
    let mut progress = ProgressOut::new(args);
    let pause = test_pause();
    let mut results: Vec<Vec<ScanResult>> = vec![Vec::new(); parts.parts.len()];
    let mut resumed = 0u64;
    // Integrations in the outputs finished so far, and those outputs.
    let mut written_before = 0u64;
    let mut finished: Vec<PathBuf> = Vec::new();
    for (n, ((&i, out), (journal, replay))) in active.iter().zip(&outs).zip(journals).enumerate() {
        let part = &parts.parts[i];
        let pjob = &part.session.job;
        let first = replay.len() as u64;
        resumed += first;
        let opts = Options {
            threads,
            first_integration: first,
            ..Options::default()
        };
        let mut sink = CheckedSink::new(
            IdiSink::to_target(out.target.clone()).with_session(session_outputs[n].clone()),
            journal,
            replay,
            pjob,
            Arc::new(Mutex::new(vec![None; pjob.stations.len()])),
            // The test hook counts integrations over the whole session.
            pause.as_ref().and_then(|(k, f)| {
                k.checked_sub(written_before)
                    .filter(|&k| k > 0)
                    .map(|k| (k, f.clone()))
            }),
        );
        // A failed MPI rank stops the session as it stops a job (the work
        // done is kept): remembered here, reported below.
        let mut rank_failure: Option<Stopped> = None;
        let r = {
            let mut open = |j: &Job| {
                let opened = open_guarded(j, span_s).map_err(|f| match f {
                    Failure::BadInput(m) => EngineError::BadInput(m),
                    f => EngineError::Io(f.message().to_string()),
                })?;
                late_warnings
                    .lock()
                    .unwrap()
                    .extend(opened.late_warnings.lock().unwrap().drain(..));
                Ok(opened.sources)
            };
            let mut on_progress = |p: &Progress, d: Option<&str>| progress.report(p, d);
            let mut drive = |e: Engine, sk: &mut dyn Sink, o: &Options| {
                driver
                    .drive(e, sk, o, &mut on_progress)
                    .map(|(summary, _)| summary)
                    .map_err(|st| match st {
                        Stopped::Engine(e) => e,
                        Stopped::Rank {
                            rank,
                            host,
                            failure,
                        } => {
                            let e = EngineError::Io(failure.message().to_string());
                            rank_failure = Some(Stopped::Rank {
                                rank,
                                host,
                                failure,
                            });
                            e
                        }
                    })
            };
            part.session.run(
                &part.plan,
                &session_outputs[n],
                &mut open,
                &mut drive,
                &mut sink,
                &opts,
            )
        };
        let r = match (r, rank_failure) {
            (Err(_), Some(rf)) => Err(rf),
            (r, _) => r.map_err(Stopped::Engine),
        };
        match r {
            Ok(rs) => {
                results[i] = rs;
                written_before += sink.written();
                finished.push(out.target.given().to_path_buf());
            }
            Err(stopped) => {
                progress.finish();
                let also = if finished.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (finished before: {}, its checkpoint kept)",
                        list(&finished)
                    )
                };
                return Err(match stopped {
                    Stopped::Rank {
                        rank,
                        host,
                        failure,
                    } => {
                        // Keep what was done, as for a signal.
                        sink.keep_partial();
                        let done = sink.written();
                        drop(sink);
                        failure.with_message(format!(
                            "rank {rank} ({host}) failed: {}; {}{also}",
                            failure.message(),
                            out.left_behind(&format!(" with {done} integration(s)"))
                        ))
                    }
                    Stopped::Engine(e) => {
                        let done = sink.written();
                        match reliability::interrupted() {
                            Some(sig) if done == 0 && written_before == 0 => {
                                // Nothing to resume from, nothing kept.
                                drop(sink);
                                drop_checkpoints(Failure::Interrupted(format!(
                                    "interrupted by {} before the first integration; nothing was written",
                                    reliability::signal_name(sig)
                                )))
                            }
                            Some(sig) => {
                                // Keep `<output>.partial` and every checkpoint.
                                sink.keep_partial();
                                drop(sink);
                                Failure::Interrupted(format!(
                                    "interrupted by {} after {} integration(s); {}{also}",
                                    reliability::signal_name(sig),
                                    written_before + done,
                                    out.left_behind("")
                                ))
                            }
                            None => {
                                // The unfinished output goes (the sink is
                                // dropped unfinished); finished ones are
                                // complete and stay.
                                drop(sink);
                                let f = engine_failure(e);
                                let m = if finished.is_empty() {
                                    f.message().to_string()
                                } else {
                                    format!(
                                        "{} (finished before the failure: {})",
                                        f.message(),
                                        list(&finished)
                                    )
                                };
                                drop_checkpoints(f.with_message(m))
                            }
                        }
                    }
                });
            }
        }
    }
    progress.finish();
    for o in &outs {
        o.remove_checkpoint();
    }

    if !args.quiet {
        let mut all: Vec<String> = Vec::new();
        // The text summary below says it; JSON has it in "eop" too.
        let eop_warning = parts.first().eop.warning.iter().filter(|_| args.json);
        for w in results
            .iter()
            .flatten()
            .flat_map(|r| r.summary.warnings.iter())
            .chain(late_warnings.lock().unwrap().iter())
            .chain(eop_warning)
        {
            if !all.contains(w) {
                all.push(w.clone());
            }
        }
        for w in &all {
            eprintln!("emcorr: warning: {w}");
        }
        if resumed > 0 {
            eprintln!("emcorr: resumed after {resumed} integration(s) from the checkpoint");
        }
    }
    if args.json {
        print_stdout(&format!("{}\n", session::json(parts, Some(&results), base)))?;
    } else if !args.quiet {
        for l in session::text(parts, Some(&results)) {
            eprintln!("{l}");
        }
        eprintln!(
            "correlated {} of {} scans → {}",
            results.iter().map(|r| r.len()).sum::<usize>(),
            parts.first().scans.len(),
            session::outputs_text(parts)
        );
    }
    Ok(())
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
