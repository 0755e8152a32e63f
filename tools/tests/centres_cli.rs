//! `emcorr correlate` with two `[[source]]`: two phase centres correlated
//! from the same samples. The simulated Earth–Moon observation of
//! PKS 1921−293 (the only source in its sky) is correlated at PKS and at a
//! point 10′ north of it, OFFSET. Truth: the simulation's (PKS's fringes),
//! the one-centre run of PKS (bitwise), and geometry: on the lunar
//! baselines 10′ is ~0.3 ms of delay (the model table says how much),
//! beyond the 64 µs FFT, so OFFSET's centre holds no PKS; on the Earth
//! baselines it is a few µs, so OFFSET's centre finds PKS at the same total
//! (model + residual) delay as PKS's own.

use assert_cmd::Command;
use formats::fitsidi::IdiReader;
use serde_json::Value;
use std::path::Path;

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

/// The simulated job with 0.2 s integrations (5 in the simulated second,
/// all whole) and, when `two`, OFFSET as a second `[[source]]`.
fn job(dir: &Path, two: bool) -> std::path::PathBuf {
    let text = std::fs::read_to_string(dir.join("job.toml")).unwrap();
    let mut text = text
        .replace("[source]", "[[source]]")
        .replace("integration_s = 1.0", "integration_s = 0.2");
    if two {
        text +=
            "\n[[source]]\nname = \"OFFSET\"\nra = \"19h24m51.0559s\"\ndec = \"-29d04m30.121s\"\n";
    }
    let p = dir.join(if two { "two.toml" } else { "one.toml" });
    std::fs::write(&p, text).unwrap();
    p
}

fn rows(path: &Path) -> (IdiReader, Vec<formats::fitsidi::UvRow>) {
    let mut r = IdiReader::open(path).unwrap();
    let rows = (0..r.n_rows()).map(|i| r.read_row(i).unwrap()).collect();
    (r, rows)
}

#[test]
fn two_sources_are_two_phase_centres_with_rows_under_their_source_ids() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    emcorr()
        .args(["simulate", "--out", ds, "--seconds", "1", "--seed", "3"])
        .assert()
        .success();
    let two_fits = d.join("two.fits");
    let out = emcorr()
        .arg("correlate")
        .arg(job(d, true))
        .args(["--output", two_fits.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("same delay model"), "{err}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["sources"],
        serde_json::json!(["PKS1921-293", "OFFSET"])
    );
    let weights = summary["weights"].as_object().unwrap();
    assert_eq!(weights.len(), 12, "6 baselines × 2 centres: {weights:?}");
    assert!(weights["T6-LS@PKS1921-293"].as_f64().unwrap() > 0.99);
    assert!(weights["T6-LS@OFFSET"].as_f64().unwrap() > 0.99);
    let one_fits = d.join("one.fits");
    emcorr()
        .arg("correlate")
        .arg(job(d, false))
        .args(["--output", one_fits.to_str().unwrap(), "--quiet"])
        .assert()
        .success();

    let (two, r2) = rows(&two_fits);
    let (_, r1) = rows(&one_fits);
    let ids: Vec<(u32, &str)> = two
        .header()
        .sources
        .iter()
        .map(|s| (s.id, s.name.as_str()))
        .collect();
    assert_eq!(ids, [(1, "PKS1921-293"), (2, "OFFSET")]);
    // Per integration: the 10 baselines (autocorrelations included) of
    // centre 1, then those of centre 2.
    let nbl = 10;
    assert_eq!(r2.len(), 2 * r1.len());
    assert_eq!(r1.len() % nbl, 0);
    for (k, row) in r2.iter().enumerate() {
        let (int, centre, bl) = (k / (2 * nbl), (k / nbl) % 2, k % nbl);
        assert_eq!(row.source_id, centre as u32 + 1, "row {k}");
        let alone = &r1[int * nbl + bl];
        assert_eq!((row.time, row.baseline), (alone.time, alone.baseline));
        if centre == 0 {
            // PKS's centre is bitwise the one-centre run of PKS.
            assert_eq!(row, alone, "row {k}");
        } else if row.baseline.0 != row.baseline.1 {
            // OFFSET's UVW: w towards OFFSET.
            assert!(row.uvw_s != alone.uvw_s, "row {k}");
        }
    }
    // INTERFEROMETER_MODEL: each station's delays for each source: 10′
    // (2.9e-3 rad) is at most R × 2.9e-3 / c of geocentric delay, R the
    // distance from the geocentre: 62 µs on the Earth, 3.7 ms on LS.
    let model = |source: u32, antenna: u32| {
        two.models()
            .iter()
            .find(|m| m.source_id == source && m.antenna == antenna)
            .unwrap()
            .gdelay_s[0][0]
    };
    let shift: Vec<f64> = (1..=4).map(|a| model(2, a) - model(1, a)).collect();
    eprintln!("OFFSET − PKS model delay per station (s): {shift:?}");
    assert!(shift[..3].iter().all(|d| d.abs() < 6.2e-5), "{shift:?}");
    assert!(shift[3].abs() < 3.7e-3, "{shift:?}");
    // The premise below: on every lunar baseline the centres are more than
    // two FFTs (2 × 1024 samples at 16 Ms/s) apart.
    for d in &shift[..3] {
        assert!((shift[3] - d).abs() > 2.0 * 1024.0 / 16e6, "{shift:?}");
    }

    // Fringe-fit both centres: scans side by side, per source.
    let out = emcorr()
        .arg("fringe")
        .arg(&two_fits)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fits: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let get = |source: &str, bl: &str| -> Vec<&Value> {
        fits.iter()
            .filter(|r| r["source"] == source && r["baseline"] == bl)
            .collect()
    };
    for bl in ["T6-KM", "T6-UR", "T6-LS", "KM-UR", "KM-LS", "UR-LS"] {
        let pks = get("PKS1921-293", bl);
        let off = get("OFFSET", bl);
        assert_eq!((pks.len(), off.len()), (1, 1), "{bl}: one scan each");
        for (p, o) in pks.iter().zip(&off) {
            assert_eq!(p["detected"], true, "{bl}: {p}");
            if bl.ends_with("LS") {
                // Over two FFTs of delay between the centres on the lunar
                // baselines: the FFTs of the two stations share no
                // wavefront of PKS, so nothing is left at OFFSET.
                assert_eq!(o["detected"], false, "{bl}: {o}");
            } else {
                // The same sky delay seen through OFFSET's model.
                let f = |r: &Value, k: &str| r[k].as_f64().unwrap();
                let dz = (f(o, "total_delay_s") - f(p, "total_delay_s"))
                    / f(p, "mbd_sigma_s").hypot(f(o, "mbd_sigma_s"));
                eprintln!(
                    "{bl}: PKS at OFFSET's centre {:+.3} µs residual, total delay {:+.2}σ from PKS's own",
                    f(o, "mbd_s") * 1e6,
                    dz
                );
                assert_eq!(o["detected"], true, "{bl}: {o}");
                assert!(dz.abs() < 5.0, "{bl}: {dz}σ");
            }
        }
    }
}
