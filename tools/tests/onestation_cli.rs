//! Issue 12.5: a one-station job — a single recording's spectra — correlates
//! to autocorrelations only, written to FITS-IDI like any other job; `emcorr
//! plot --spectra` draws them and `emcorr fringe` says there is nothing to
//! fringe-fit.
//!
//! The data are real: testdata/vdif/sample.vdif (VLBA, EDV 3, 8 threads of
//! 2-bit real samples at 32 Ms/s, 2 frames of 20000 samples per thread),
//! damaged here in two known ways so that dropped blocks are tested too:
//! thread 1's first frame is flagged invalid and thread 6's second frame
//! (the file's last) is cut off. The job starts 5000 samples into the
//! recording with a zero delay model (`delay_poly = [0]`), so block b is
//! samples [5000 + 1024 b, 5000 + 1024 (b + 1)) of every thread; 34 blocks in
//! two integrations of 17.
//!
//! The spectra are checked against Python (testdata/autocorr_reference.py:
//! baseband decodes, numpy transforms, astropy reads our FITS-IDI); that
//! test is skipped with a notice when baseband, numpy or astropy cannot be
//! imported, unless EMCORR_REQUIRE_PYTHON is set (CI). EMCORR_PYTHON
//! overrides the interpreter.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const FS: f64 = 32e6;
const N: usize = 1024;
const START_SAMPLE: usize = 5000;
const M: usize = 17;
const K: usize = 2;
const THREADS: usize = 8;
const FRAME_BYTES: usize = 5032;
const SAMPLES_PER_FRAME: usize = 20_000;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

/// sample.vdif with thread 1's first frame flagged invalid (word 0, bit 31;
/// it is the file's first frame) and thread 6's second frame (the file's
/// last) cut off.
fn damaged_sample(dir: &Path) -> PathBuf {
    let mut b = std::fs::read(testdata("vdif/sample.vdif")).unwrap();
    assert_eq!(b.len(), 16 * FRAME_BYTES);
    // Frame order in the file: threads 1 3 5 7 0 2 4 6, twice (VDIF word
    // 3, bits 16–25).
    let thread = |f: usize| {
        let o = f * FRAME_BYTES + 12;
        (u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) >> 16) & 0x3ff
    };
    assert_eq!((thread(0), thread(15)), (1, 6));
    b[3] |= 0x80;
    b.truncate(15 * FRAME_BYTES);
    let p = dir.join("VLBA.vdif");
    std::fs::write(&p, b).unwrap();
    p
}

/// Blocks used per (integration, thread), from where the damage lies: a
/// block is used only if all its samples are valid (README, "Weights").
fn used_blocks() -> [[usize; THREADS]; K] {
    let mut used = [[0; THREADS]; K];
    for (k, row) in used.iter_mut().enumerate() {
        for (t, u) in row.iter_mut().enumerate() {
            *u = (k * M..(k + 1) * M)
                .filter(|&b| {
                    let (lo, hi) = (START_SAMPLE + b * N, START_SAMPLE + (b + 1) * N);
                    match t {
                        // Frame 0 (samples 0..20000) invalid.
                        1 => lo >= SAMPLES_PER_FRAME,
                        // Frame 1 (samples 20000..40000) absent.
                        6 => hi <= SAMPLES_PER_FRAME,
                        _ => true,
                    }
                })
                .count();
        }
    }
    used
}

/// A one-station job on `vdif`: eight subbands, one per VDIF thread, each
/// its own 16 MHz band; no [model] (the station gives `delay_poly`).
fn write_job(dir: &Path, vdif: &Path) -> PathBuf {
    // 5000 samples at 32 MHz = 156.25 µs after the first frame's second.
    let mut t = format!(
        r#"
[job]
name = "vlba1"
output = "vlba1.fits"
start = "2014-06-16T05:56:07.00015625Z"
duration_s = {duration:?}
[correlation]
fft_length = {N}
integration_s = {integration:?}
[source]
name = "B1957+20"
ra = "19h59m36.77s"
dec = "+20d48m15.1s"
[[station]]
name = "VLBA"
file = "{file}"
sample_rate_hz = {FS:?}
delay_poly = {{ epoch = "2014-06-16T05:56:07Z", coeffs_s = [0.0] }}
"#,
        duration = (K * M * N) as f64 / FS,
        integration = (M * N) as f64 / FS,
        file = vdif.display()
    );
    for th in 0..THREADS {
        t += &format!(
            "[[subband]]\nsky_freq_hz = {:?}\nbandwidth_hz = 16e6\nthread = {th}\n",
            1.4e9 + 16e6 * th as f64
        );
    }
    let p = dir.join("job.toml");
    std::fs::write(&p, t).unwrap();
    p
}

/// Correlate the damaged sample into `dir`; the summary JSON.
fn correlate(dir: &Path) -> (PathBuf, serde_json::Value) {
    let vdif = damaged_sample(dir);
    let job = write_job(dir, &vdif);
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
    let summary = serde_json::from_slice(&out.stdout).unwrap();
    (dir.join("vlba1.fits"), summary)
}

#[test]
fn one_station_correlates_to_autocorrelations_that_plot_and_do_not_fringe_fit() {
    let dir = tempfile::tempdir().unwrap();
    let (fits, s) = correlate(dir.path());
    let used = used_blocks();
    // The damage as the rules place it: thread 1 uses 2 of 17 blocks in the
    // first integration (block 14 straddles its invalid frame), thread 6
    // 14 of 17 then none.
    assert_eq!(used[0], [17, 2, 17, 17, 17, 17, 14, 17]);
    assert_eq!(used[1], [17, 17, 17, 17, 17, 17, 0, 17]);

    assert_eq!(s["stations"], serde_json::json!(["VLBA"]));
    assert_eq!(s["baselines"], 0);
    assert_eq!(s["bands"], THREADS);
    assert_eq!(s["channels"], N / 2);
    assert_eq!(s["integrations"], K);
    // The summary's weight of a one-station job is its autocorrelation's:
    // the mean over integrations and bands of used / M.
    let mean_w: f64 = used
        .iter()
        .flatten()
        .map(|&u| u as f64 / M as f64)
        .sum::<f64>()
        / (K * THREADS) as f64;
    let w = s["weights"]["VLBA-VLBA"].as_f64().unwrap();
    assert!((w - mean_w).abs() < 1e-6, "weight {w}, expected {mean_w}");

    // The file: one antenna, only its autocorrelation, with those weights.
    let file = formats::fitsidi::read_idi(&fits).unwrap();
    assert_eq!(file.header.antennas.len(), 1);
    assert_eq!(file.rows.len(), K);
    let nch = file.header.n_chan;
    for (k, r) in file.rows.iter().enumerate() {
        assert_eq!(r.baseline, (1, 1));
        assert_eq!(r.uvw_s, [0.0; 3]);
        for (t, &u) in used[k].iter().enumerate() {
            let w = r.vis[t * nch][2];
            assert!((w as f64 - u as f64 / M as f64).abs() < 1e-6, "k {k} t {t}");
        }
    }

    // Nothing to fringe-fit: exit 2, one line, no table on stdout.
    let out = emcorr()
        .args(["fringe", fits.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("nothing to fringe-fit"), "{err:?}");
    assert!(err.contains("vlba1.fits"), "{err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    assert!(out.stdout.is_empty());

    // The spectra plot: one station panel (README: 1400 × (70 + 300 per
    // station)).
    let png = dir.path().join("spectra.png");
    emcorr()
        .args([
            "plot",
            fits.to_str().unwrap(),
            "--spectra",
            "--out",
            png.to_str().unwrap(),
        ])
        .assert()
        .success();
    let b = std::fs::read(&png).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    assert_eq!((be(16), be(20)), (1400, 370));
}

fn python() -> String {
    std::env::var("EMCORR_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether Python can import what the reference needs; else skip (or fail
/// under EMCORR_REQUIRE_PYTHON, which CI sets after installing them).
fn python_ready(test: &str) -> bool {
    let ok = std::process::Command::new(python())
        .args(["-c", "import baseband, numpy, astropy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("EMCORR_REQUIRE_PYTHON").is_none(),
            "EMCORR_REQUIRE_PYTHON is set but baseband, numpy or astropy cannot be imported"
        );
        println!(
            "SKIPPED {test}: `{} -c \"import baseband, numpy, astropy\"` failed",
            python()
        );
    }
    ok
}

#[test]
fn autocorrelations_match_numpy_spectra_of_basebands_decoding() {
    if !python_ready("autocorrelations_match_numpy_spectra_of_basebands_decoding") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (fits, _) = correlate(dir.path());
    let vdif = dir.path().join("VLBA.vdif");
    let out = std::process::Command::new(python())
        .arg(testdata("autocorr_reference.py"))
        .arg(&vdif)
        .args(["--sample-rate", &FS.to_string()])
        .args(["--fft-length", &N.to_string()])
        .args(["--start-sample", &START_SAMPLE.to_string()])
        .args(["--blocks-per-integration", &M.to_string()])
        .args(["--integrations", &K.to_string()])
        // emcorr's outer 2-bit level (a convention, TMS table 8.1): the
        // script relabels baseband's ±3.316505 to it.
        .args([
            "--outer-level",
            &formats::vdif::decode::OPTIMAL_2BIT_HIGH.to_string(),
        ])
        .arg("--fits")
        .arg(&fits)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "autocorr_reference.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let floats = |x: &serde_json::Value| -> Vec<f64> {
        x.as_array()
            .unwrap()
            .iter()
            .map(|y| y.as_f64().unwrap())
            .collect()
    };

    // emcorr's output as astropy reads it, integrations in time order.
    let mut rows: Vec<&serde_json::Value> = v["fits"].as_array().unwrap().iter().collect();
    assert_eq!(rows.len(), K);
    rows.sort_by(|a, b| {
        (a["date"].as_f64().unwrap() + a["time"].as_f64().unwrap())
            .total_cmp(&(b["date"].as_f64().unwrap() + b["time"].as_f64().unwrap()))
    });
    // The engine transforms and accumulates in f32 (sums of ≤ 8 blocks in
    // f32, then f64): a relative rounding of a few 1e-7 per channel.
    const TOL: f64 = 1e-5;
    let mut worst: f64 = 0.0;
    let mut compared = 0;
    let used = used_blocks();
    // Per thread: Σ_k w_k P_k and Σ_k w_k, for the plot's weighted mean.
    let mut plot_sum = vec![vec![0.0f64; N / 2]; THREADS];
    let mut plot_w = [0.0f64; THREADS];
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row["baseline"], 256 + 1);
        for t in 0..THREADS {
            let r = &v["threads"][t.to_string()][k];
            let u = r["used"].as_u64().unwrap() as usize;
            assert_eq!(u, used[k][t], "baseband's validity: k {k} thread {t}");
            let re = floats(&row["re"][t]);
            let im = floats(&row["im"][t]);
            let w = floats(&row["weight"][t]);
            assert!(w.iter().all(|&x| (x - u as f64 / M as f64).abs() < 1e-6));
            assert!(im.iter().all(|&x| x == 0.0), "an autocorrelation is real");
            if u == 0 {
                assert!(r["spectrum"].is_null());
                assert!(re.iter().all(|&x| x == 0.0));
                continue;
            }
            let p = floats(&r["spectrum"]);
            assert_eq!(p.len(), N / 2);
            for (j, (&e, &want)) in re.iter().zip(&p).enumerate() {
                let rel = (e - want).abs() / want;
                assert!(
                    rel < TOL,
                    "integration {k} thread {t} channel {j}: emcorr {e}, numpy {want}"
                );
                worst = worst.max(rel);
                compared += 1;
                plot_sum[t][j] += w[j] * want;
            }
            plot_w[t] += w[0];
        }
    }
    println!("{compared} channels: max |emcorr − numpy| / numpy = {worst:.2e} (tolerance {TOL:e})");

    // What `emcorr plot --spectra` draws: the weighted mean over
    // integrations of each channel (flagged integrations left out).
    let file = formats::fitsidi::read_idi(&fits).unwrap();
    let spectra = tools::plot::autospectra(&file);
    assert_eq!(spectra.len(), 1);
    assert_eq!(spectra[0].station, "VLBA");
    assert_eq!(spectra[0].pols, ["RR"]);
    for (t, (sum, w)) in plot_sum.iter().zip(plot_w).enumerate() {
        for (j, s) in sum.iter().enumerate() {
            let want = s / w;
            let got = spectra[0].power[0][t][j];
            assert!(
                (got - want).abs() / want < TOL,
                "plot thread {t} channel {j}: {got} vs {want}"
            );
        }
    }

    // And the file passes the independent Memo 114 check.
    let out = std::process::Command::new(python())
        .arg(testdata("check_fitsidi.py"))
        .arg(&fits)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "check_fitsidi.py: {text}");
    assert!(text.contains("check_fitsidi: OK"), "{text}");
}

/// `emcorr simulate` with one station (the shipped complex scenario without
/// B and LS), then `correlate`: white noise gives a flat autocorrelation
/// whose channels scatter about 1 as the radiometer equation says. |X_j|² of
/// complex Gaussian noise is exponentially distributed, so the mean of M
/// blocks has relative σ = 1/√M (quantisation leaves white noise white).
#[test]
fn a_one_station_simulation_correlates_to_a_flat_spectrum() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(testdata("scenarios/complex.toml")).unwrap();
    let (b, sb) = (
        text.find("[[station]]\nname = \"B\"").unwrap(),
        text.find("[[subband]]").unwrap(),
    );
    let scenario = dir.path().join("one.toml");
    std::fs::write(&scenario, format!("{}{}", &text[..b], &text[sb..])).unwrap();
    let sim = dir.path().join("sim");
    emcorr()
        .args(["simulate", scenario.to_str().unwrap(), "--out"])
        .arg(&sim)
        .assert()
        .success();
    let out = emcorr()
        .arg("correlate")
        .arg(sim.join("job.toml"))
        .args(["--json", "--threads", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["stations"], serde_json::json!(["A"]));
    assert_eq!(s["weights"]["A-A"], 1.0);
    let file =
        formats::fitsidi::read_idi(std::path::Path::new(s["output"].as_str().unwrap())).unwrap();
    let h = &file.header;
    // Complex sampling at 4 MHz, 256-point FFTs, 0.5 s integrations.
    let blocks = (s["integration_s"].as_f64().unwrap() * 4e6 / 256.0).round();
    let sigma = 1.0 / blocks.sqrt();
    assert_eq!(file.rows.len(), 2);
    for r in &file.rows {
        assert_eq!(r.baseline, (1, 1));
        for b in 0..h.bands.len() {
            let x: Vec<f64> = (0..h.n_chan)
                .map(|k| r.vis[b * h.n_chan + k][0] as f64)
                .collect();
            let mean = x.iter().sum::<f64>() / x.len() as f64;
            let sd =
                (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt();
            assert!((mean - 1.0).abs() < 1e-5, "band {b}: mean {mean}");
            // The σ of 256 channels scatters by 1/√510 = 4.4% (seeded: one draw).
            assert!(
                (sd / sigma - 1.0).abs() < 0.15,
                "band {b}: σ {sd} vs {sigma}"
            );
            assert!(x.iter().all(|v| (v - 1.0).abs() < 5.0 * sigma), "band {b}");
        }
    }
}
