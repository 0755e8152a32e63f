//! Issue 14's "done when", end to end: `emcorr simulate
//! testdata/scenarios/lander.toml` (a lunar lander transmitting two
//! carriers and a quasar in one beam, recorded by T6 2 × 8 MHz real, KM
//! 16 MHz complex and LS 16 MHz complex double-sideband with its LO 1 kHz
//! high), `emcorr correlate` (the wide bands into lander.fits, two 64 Hz
//! zooms of 1 Hz channels around the carriers into lander_zoom.fits),
//! `emcorr fringe` on the wide bands. Against truth.json: the quasar's
//! group delay on every baseline; each carrier's channel in its zoom (the
//! injected sky frequency) and its fringe phase (truth's per-baseline
//! carrier phase).

mod cli_util;
use cli_util::{emcorr, fringe_rows, ok, wrap};
use formats::fitsidi::{IdiReader, UvRow};
use std::path::Path;

#[test]
fn lander_carriers_in_1_hz_zoom_channels_and_the_quasar_group_delay() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios/lander.toml");
    ok(&emcorr()
        .arg("simulate")
        .arg(&scenario)
        .arg("--out")
        .arg(d)
        .output()
        .unwrap());
    let out = ok(&emcorr()
        .arg("correlate")
        .arg(d.join("job.toml"))
        .arg("--json")
        .output()
        .unwrap());
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    let files: Vec<&str> = summary["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{summary}");
    assert!(files[1].ends_with("lander_zoom.fits"), "{files:?}");
    assert_eq!(summary["scans_correlated"], 1, "{summary}");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("truth.json")).unwrap()).unwrap();
    let res = &truth["scans"][0]["residuals"];
    let f = |r: &serde_json::Value, k: &str| r[k].as_f64().unwrap();

    // The quasar's wide-band group delay.
    let rows = fringe_rows(&d.join("lander.fits"), &[]);
    let quasar: Vec<_> = rows
        .iter()
        .filter(|r| r["source"] == "PKS1921-293")
        .collect();
    assert_eq!(quasar.len(), 3, "every baseline of 3 stations");
    for r in quasar {
        let bl = r["baseline"].as_str().unwrap();
        let t = &res["PKS1921-293"]["baselines"][bl];
        let z = (f(r, "mbd_s") - f(t, "residual_delay_s")) / f(r, "mbd_sigma_s");
        eprintln!(
            "quasar {bl}: group delay {:+.3} ns, truth {:+.3} ns ({z:+.2}σ, σ {:.3} ns)",
            f(r, "mbd_s") * 1e9,
            f(t, "residual_delay_s") * 1e9,
            f(r, "mbd_sigma_s") * 1e9
        );
        assert!(z.abs() < 3.0, "{bl}: {z:+.2}σ");
    }

    // The carriers in the zoom bands, lander centre.
    let mut zr = IdiReader::open(&d.join("lander_zoom.fits")).unwrap();
    let h = zr.header().clone();
    assert_eq!(h.n_chan, 64);
    assert!((h.chan_bw_hz - 1.0).abs() < 1e-9, "{}", h.chan_bw_hz);
    assert_eq!(h.bands.len(), 2);
    let lander = h.sources.iter().find(|s| s.name == "CE7LANDER").unwrap().id;
    let names: Vec<String> = h.antennas.iter().map(|a| a.name.clone()).collect();
    let edges = [8404299968.0, 8411699968.0];
    let mut seen = 0;
    for i in 0..zr.n_rows() {
        let row = zr.read_row(i).unwrap();
        let (a, b) = row.baseline;
        if row.source_id != lander || a == b {
            continue;
        }
        let bl = format!("{}-{}", names[a as usize - 1], names[b as usize - 1]);
        let tones = res["CE7LANDER"]["baselines"][&bl]["tones"]
            .as_array()
            .unwrap();
        for (band, edge) in edges.iter().enumerate() {
            let vis = |k: usize| row.vis[UvRow::index(&h, band, k, 0)];
            let amp: Vec<f64> = (0..64)
                .map(|k| {
                    let v = vis(k);
                    (v[0] as f64).hypot(v[1] as f64)
                })
                .collect();
            let peak = (1..63).max_by(|&x, &y| amp[x].total_cmp(&amp[y])).unwrap();
            let next = if amp[peak + 1] > amp[peak - 1] {
                peak + 1
            } else {
                peak - 1
            };
            // |V_k| ∝ Dirichlet(k − k_tone)² for a line: the two largest
            // channels give its place.
            let r = (amp[next] / amp[peak]).sqrt();
            let at = peak as f64 + (next as f64 - peak as f64) * r / (1.0 + r);
            let t = &tones[band];
            let nu = f(t, "sky_freq_hz");
            let want_chan = nu - edge;
            let v = vis(peak);
            let phase = (v[1] as f64).atan2(v[0] as f64);
            let want = f(t, "residual_phase_rad");
            let err = wrap(phase - want);
            eprintln!(
                "carrier {nu} Hz on {bl}: channel {at:.3} (injected {want_chan:.3}), phase {phase:+.4} rad (truth {want:+.4}, error {err:+.4}), peak/median {:.0}",
                amp[peak] / {
                    let mut s = amp.clone();
                    s.sort_by(f64::total_cmp);
                    s[32]
                }
            );
            assert!(
                (at - want_chan).abs() < 0.02,
                "{bl}: carrier at channel {at:.3}, injected {want_chan:.3}"
            );
            assert!(err.abs() < 0.05, "{bl}: phase error {err:+.4} rad");
            seen += 1;
        }
    }
    assert_eq!(seen, 6, "two carriers on three baselines");
}

/// A one-span job (no scans): its zoom pass is written beside its output,
/// and `--json` reports both.
#[test]
fn a_one_span_job_writes_its_zoom_pass_beside_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&emcorr()
        .args(["simulate", "--seconds", "2", "--out"])
        .arg(d)
        .output()
        .unwrap());
    let job = d.join("job.toml");
    let text = std::fs::read_to_string(&job).unwrap();
    let parsed: toml::Table = text.parse().unwrap();
    let sb0 = parsed["subband"][0]["sky_freq_hz"].as_float().unwrap();
    // 128 Hz in 32 channels: 4 Hz, 0.25 s blocks of 2^22 real samples.
    std::fs::write(
        &job,
        format!(
            "{text}\n[[zoom]]\nsky_freq_hz = {:?}\nbandwidth_hz = 128.0\nchannels = 32\n",
            sb0 + 1e6
        ),
    )
    .unwrap();
    let out = ok(&emcorr()
        .arg("correlate")
        .arg(&job)
        .arg("--json")
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let zoom_file = d.join("earth-moon_zoom.fits");
    assert_eq!(v["outputs"][1], zoom_file.display().to_string(), "{v}");
    assert_eq!(v["zoom"]["channels"], 32, "{v}");
    assert_eq!(v["zoom"]["integrations"], 2, "{v}");
    // The FFT emcorr chose: 16 Ms/s / 4 Hz.
    assert_eq!(v["zoom"]["fft_lengths"][0], 4_000_000, "{v}");
    assert_eq!(v["zoom"]["chan_width_hz"], 4.0, "{v}");
    let r = IdiReader::open(&zoom_file).unwrap();
    let h = r.header();
    assert_eq!((h.n_chan, h.bands.len()), (32, 1));
    assert!((h.chan_bw_hz - 4.0).abs() < 1e-9, "{}", h.chan_bw_hz);
    assert!(
        (h.ref_freq_hz + h.bands[0].freq_offset_hz - (sb0 + 1e6)).abs() < 1e-3,
        "zoom band at {} Hz",
        h.ref_freq_hz + h.bands[0].freq_offset_hz
    );
    // The checkpoints are gone once both passes finished.
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("checkpoint") || n.contains("partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
