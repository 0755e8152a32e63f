//! `emcorr correlate` end to end on VDIF files written here: a correlated
//! pair of stations read back from FITS-IDI, and bad inputs (one-line
//! errors, exit 2, no output file).

use assert_cmd::Command;
use formats::vdif::{VdifWriter, WriterConfig};
use formats::UtcTime;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::path::{Path, PathBuf};

const FS: f64 = 2.048e6;
const SPF: usize = 2048;

fn start() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0)
}

/// Write `seconds` of 2-bit real data for two stations: a common Gaussian
/// signal (correlation `rho`) that reaches B `lag` samples later, plus
/// independent noise. There is no LO phase in these data (a pure baseband
/// delay), so the job's LO (8.192 GHz) is chosen to make f_LO·τ_B a whole
/// number of turns for the lags used: the expected phase is then 0. σ is set so the writer's nearest-level quantiser
/// (levels ±1, ±3.336; threshold 2.168) cuts at 0.98σ, the 2-bit optimum.
fn write_pair(dir: &Path, seconds: f64, rho: f64, lag: usize, rate_b: f64) -> [PathBuf; 2] {
    let n = (seconds * FS) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let common: Vec<f64> = (0..n + lag).map(|_| normal.sample(&mut rng)).collect();
    let sigma = 2.168 / 0.98;
    let mut paths = [PathBuf::new(), PathBuf::new()];
    for (s, path) in paths.iter_mut().enumerate() {
        let rate = if s == 0 { FS } else { rate_b };
        let mut w = VdifWriter::new(
            Vec::new(),
            WriterConfig::new(s as u16, 2, false, SPF, rate, start()),
        )
        .unwrap();
        // B's sample n holds the common signal of A's sample n − lag.
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let c = if s == 0 { common[i + lag] } else { common[i] };
                let own = normal.sample(&mut rng);
                (sigma * (rho.sqrt() * c + (1.0 - rho).sqrt() * own)) as f32
            })
            .collect();
        for frame in x.chunks_exact(SPF) {
            w.write(0, frame).unwrap();
        }
        *path = dir.join(format!("st{s}.vdif"));
        std::fs::write(&*path, w.into_inner().unwrap()).unwrap();
    }
    paths
}

fn write_job(dir: &Path, extra_job: &str, subband_thread: u16, lag: usize, rate_b: f64) -> PathBuf {
    let text = format!(
        "[job]\nname = \"cli\"\noutput = \"out.fits\"\n{extra_job}\n\
         [correlation]\nfft_length = 256\nintegration_s = 0.1\n\
         [source]\nname = \"SRC\"\nra_deg = 10.0\ndec_deg = 20.0\n\
         [[station]]\nname = \"A\"\nfile = \"st0.vdif\"\nsample_rate_hz = {FS:?}\n\
         delay_poly = {{ epoch = \"2026-03-14T23:45:00Z\", coeffs_s = [0.0] }}\n\
         [[station]]\nname = \"B\"\nfile = \"st1.vdif\"\nsample_rate_hz = {rate_b:?}\n\
         delay_poly = {{ epoch = \"2026-03-14T23:45:00Z\", coeffs_s = [{:?}] }}\n\
         [[subband]]\nsky_freq_hz = 8.192e9\nbandwidth_hz = {:?}\nsideband = \"U\"\npol = \"R\"\nthread = {subband_thread}\n",
        lag as f64 / FS,
        FS / 2.0
    );
    let p = dir.join("job.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

#[test]
fn a_correlated_pair_reads_back_its_correlation_from_fits_idi() {
    let dir = tempfile::tempdir().unwrap();
    write_pair(dir.path(), 0.5, 0.2, 3, FS);
    let job = write_job(dir.path(), "", 0, 3, FS);
    let out = emcorr()
        .args([
            "correlate",
            job.to_str().unwrap(),
            "--json",
            "--threads",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["baselines"], 1);
    assert_eq!(summary["stations"][1], "B");
    let n_int = summary["integrations"].as_u64().unwrap();
    assert!((4..=5).contains(&n_int), "{n_int}");
    let w = summary["weights"]["A-B"].as_f64().unwrap();
    assert!(w > 0.8, "weight {w}");
    let path = dir.path().join("out.fits");
    assert!(path.exists() && !dir.path().join("out.fits.partial").exists());
    let f = formats::fitsidi::read_idi(&path).unwrap();
    assert_eq!(f.rows.len() as u64, n_int * 3);
    // Cross baseline rows: the mean visibility over channels and full
    // integrations is the injected ρ = 0.2 (2-bit, Van Vleck corrected), phase 0.
    let (mut re, mut im, mut n) = (0.0, 0.0, 0.0);
    for row in f.rows.iter().filter(|r| r.baseline == (1, 2)) {
        if row.vis[0][2] < 0.99 {
            continue;
        }
        for v in &row.vis {
            re += v[0] as f64;
            im += v[1] as f64;
            n += 1.0;
        }
    }
    let (re, im) = (re / n, im / n);
    let amp = (re * re + im * im).sqrt();
    eprintln!(
        "end-to-end amplitude {amp:.4} (ρ = 0.2), phase {:.4}",
        im.atan2(re)
    );
    assert!((amp / 0.2 - 1.0).abs() < 0.03, "amplitude {amp}");
    assert!(im.atan2(re).abs() < 0.05);
}

fn expect_exit_2(dir: &Path, job: &Path, needle: &str) {
    let out = emcorr()
        .args(["correlate", job.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    assert!(!dir.join("out.fits").exists() && !dir.join("out.fits.partial").exists());
}

#[test]
fn bad_inputs_exit_2_with_one_line_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A missing file.
    let job = write_job(d, "", 0, 0, FS);
    expect_exit_2(d, &job, "st0.vdif");
    // Mismatched sample rates: B's (1001 frames of 2048 a second) is no
    // whole multiple of the 8 kHz channel width, so it has no FFT length.
    write_pair(d, 0.1, 0.2, 0, 1001.0 * SPF as f64);
    let job = write_job(d, "", 0, 0, 1001.0 * SPF as f64);
    expect_exit_2(d, &job, "mismatched sample rates");
    // A subband no station has.
    write_pair(d, 0.1, 0.2, 0, FS);
    let job = write_job(d, "", 5, 0, FS);
    expect_exit_2(d, &job, "no station has it");
    // Data not covering the job span.
    let job = write_job(
        d,
        "start = \"2026-03-14T23:50:00Z\"\nduration_s = 1.0",
        0,
        0,
        FS,
    );
    expect_exit_2(d, &job, "no valid data");
}

#[test]
fn a_job_without_duration_has_model_rows_for_its_data_only() {
    // The data end where the shortest recording ends; the model (and the
    // INTERFEROMETER_MODEL table) covers that span, not an hour of 1-ms
    // rows past the model's end (which once took a minute to write).
    let dir = tempfile::tempdir().unwrap();
    let sim = emcorr()
        .args(["simulate", "--seconds", "2", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(sim.status.success());
    let job = dir.path().join("job.toml");
    let text = std::fs::read_to_string(&job).unwrap();
    assert!(text.contains("duration_s = 2.0"));
    std::fs::write(&job, text.replace("duration_s = 2.0\n", "")).unwrap();
    let out = emcorr()
        .args(["correlate", "--quiet", "--threads", "2"])
        .arg(&job)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = formats::fitsidi::read_idi(&dir.path().join("earth-moon.fits")).unwrap();
    // 4 stations, model pieces of 60 s: one row each covers the 2 s.
    assert_eq!(f.models.len(), 4, "{} model rows", f.models.len());
    // They start with the data (the first integration's centre is 0.5 s in).
    let first = f.rows[0].time;
    for m in &f.models {
        assert!((m.time.seconds_since(first) + 0.5).abs() < 0.01);
    }
}

/// Without the `mpi` feature, `--mpi` is refused up front (exit 2) and says
/// how to get it; with it, tools/tests/mpi_cli.rs tests the real thing.
#[cfg(not(feature = "mpi"))]
#[test]
fn mpi_without_the_feature_is_bad_input_naming_the_build_flag() {
    let dir = tempfile::tempdir().unwrap();
    write_pair(dir.path(), 0.1, 0.2, 3, FS);
    let job = write_job(dir.path(), "", 0, 3, FS);
    let out = emcorr()
        .args(["correlate", job.to_str().unwrap(), "--mpi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--features mpi") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!dir.path().join("out.fits").exists());
}
