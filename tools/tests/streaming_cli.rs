//! `emcorr simulate --fifo` and `emcorr correlate` as two real processes,
//! started in either order: the correlation from the FIFOs must equal, bit
//! for bit, the correlation of the same simulation written to regular files
//! (same scenario and seed: the simulator writes the same bytes either way).
//!
//! This is the README's streaming example. Before the readers opened all
//! streams together it deadlocked every time: the correlator waited for 256
//! frames of the first station while the simulator's lock-step writers
//! waited for readers on the other FIFOs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use formats::fitsidi::IdiReader;

fn emcorr() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("emcorr"))
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/scenarios")
        .join(name)
}

/// `emcorr simulate [SCENARIO] --out DIR --seconds S [--fifo]`.
fn simulate(sc: Option<&Path>, dir: &Path, seconds: f64, fifo: bool) -> Command {
    let mut c = emcorr();
    c.arg("simulate");
    if let Some(sc) = sc {
        c.arg(sc);
    }
    c.arg("--out")
        .arg(dir)
        .args(["--seconds", &seconds.to_string()]);
    if fifo {
        c.arg("--fifo");
    }
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn correlate(job: &Path, threads: usize) -> Command {
    let mut c = emcorr();
    c.arg("correlate")
        .arg(job)
        .args(["--threads", &threads.to_string(), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// Wait for `child` at most `limit`; a hang is a test failure, not a hung
/// test (both processes are killed).
fn finish(mut child: Child, what: &str, limit: Duration, others: &mut [Child]) {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert!(st.success(), "{what} failed ({st}): {err}");
            return;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            for o in others.iter_mut() {
                let _ = o.kill();
            }
            panic!("{what} still running after {limit:?}: deadlock");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A UV_DATA row as bits: time (s, fraction), baseline, UVW, and (re, im,
/// weight) of every cell.
type RowBits = (i64, u64, (u32, u32), [u64; 3], Vec<[u32; 3]>);

/// Every UV_DATA row, as bits.
fn rows(path: &Path) -> Vec<RowBits> {
    let mut r = IdiReader::open(path).unwrap();
    (0..r.n_rows())
        .map(|i| {
            let row = r.read_row(i).unwrap();
            (
                row.time.sec(),
                row.time.frac().to_bits(),
                row.baseline,
                row.uvw_s.map(f64::to_bits),
                row.vis.iter().map(|c| c.map(f32::to_bits)).collect(),
            )
        })
        .collect()
}

/// The reference: the same simulation as regular files, correlated.
fn from_files(sc: Option<&Path>, seconds: f64, dir: &Path) -> PathBuf {
    let out = simulate(sc, dir, seconds, false).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job = dir.join("job.toml");
    let out = correlate(&job, 2).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    output_of(&job)
}

/// The FITS-IDI output a job names (relative to the job file).
fn output_of(job: &Path) -> PathBuf {
    let text = std::fs::read_to_string(job).unwrap();
    let t: toml::Table = text.parse().unwrap();
    let name = t["job"]["output"].as_str().unwrap();
    job.parent().unwrap().join(name)
}

#[derive(Clone, Copy, Debug)]
enum Order {
    SimulatorFirst,
    CorrelatorFirst,
}

/// The same simulation streamed through FIFOs into the correlator, the two
/// processes started in `order`.
fn through_fifos(
    sc: Option<&Path>,
    seconds: f64,
    reference_dir: &Path,
    dir: &Path,
    order: Order,
    threads: usize,
) -> PathBuf {
    let job = dir.join("job.toml");
    let limit = Duration::from_secs(120);
    match order {
        Order::SimulatorFirst => {
            let sim = simulate(sc, dir, seconds, true).spawn().unwrap();
            // The simulator writes job.toml before it opens the FIFOs.
            let t0 = Instant::now();
            while !(job.exists() && dir.join("truth.json").exists()) {
                assert!(t0.elapsed() < limit, "simulator wrote no job");
                std::thread::sleep(Duration::from_millis(20));
            }
            let cor = correlate(&job, threads).spawn().unwrap();
            let mut others = [sim];
            finish(cor, "correlate", limit, &mut others);
            let [sim] = others;
            finish(sim, "simulate --fifo", limit, &mut []);
        }
        Order::CorrelatorFirst => {
            // The correlator needs its job and FIFOs before the simulator
            // runs: the reference's job (same scenario and seed, same text
            // but for nothing) and FIFOs made here, which the simulator uses
            // as they are.
            std::fs::copy(reference_dir.join("job.toml"), &job).unwrap();
            let t: toml::Table = std::fs::read_to_string(&job).unwrap().parse().unwrap();
            for st in t["station"].as_array().unwrap() {
                let f = dir.join(st["file"].as_str().unwrap());
                let c = std::ffi::CString::new(f.as_os_str().as_encoded_bytes()).unwrap();
                // SAFETY: a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
            }
            let cor = correlate(&job, threads).spawn().unwrap();
            // Give it time to reach its blocking opens (the verdict does
            // not depend on it: either way both must finish).
            std::thread::sleep(Duration::from_millis(300));
            let sim = simulate(sc, dir, seconds, true).spawn().unwrap();
            let mut others = [sim];
            finish(cor, "correlate", limit, &mut others);
            let [sim] = others;
            finish(sim, "simulate --fifo", limit, &mut []);
        }
    }
    output_of(&job)
}

fn check(sc: Option<&Path>, seconds: f64, runs: &[(Order, usize)]) {
    let refdir = tempfile::tempdir().unwrap();
    let reference = rows(&from_files(sc, seconds, refdir.path()));
    assert!(!reference.is_empty());
    // Fringes, not zeros: some cross-correlation cell has weight.
    assert!(reference
        .iter()
        .any(|r| r.2 .0 != r.2 .1 && r.4.iter().any(|c| f32::from_bits(c[2]) > 0.5)));
    for &(order, threads) in runs {
        let dir = tempfile::tempdir().unwrap();
        let got = rows(&through_fifos(
            sc,
            seconds,
            refdir.path(),
            dir.path(),
            order,
            threads,
        ));
        assert_eq!(got.len(), reference.len(), "{order:?}, {threads} threads");
        for (k, (a, b)) in got.iter().zip(&reference).enumerate() {
            assert!(a == b, "{order:?}, {threads} threads: row {k} differs");
        }
    }
}

#[test]
fn default_scenario_through_fifos_equals_files_in_both_start_orders() {
    // 4 stations, the lunar one ~1.3 s of station time away.
    check(
        None,
        2.0,
        &[
            (Order::SimulatorFirst, 2),
            (Order::CorrelatorFirst, 2),
            (Order::SimulatorFirst, 1),
        ],
    );
}

#[test]
fn four_vdif_threads_per_station_through_fifos_equal_files() {
    check(
        Some(&scenario("threads4_1bit.toml")),
        1.0,
        &[(Order::CorrelatorFirst, 1), (Order::SimulatorFirst, 2)],
    );
}
