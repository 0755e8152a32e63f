//! `emcorr model` end to end: good jobs print the table; bad input exits 2
//! with one line naming the key or file.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn testdata(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
        .display()
        .to_string()
}

fn job_text(source: &str, start: &str, kernels: &str, eop: bool, station2: &str) -> String {
    let eop = if eop {
        format!("eop = \"{}\"", testdata("finals2000A_2025-2026.txt"))
    } else {
        String::new()
    };
    format!(
        r#"
[job]
name = "m"
start = "{start}"
duration_s = 20.0
[model]
kernels = [{kernels}]
{eop}
[source]
name = "S"
{source}
[[station]]
name = "T6"
itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]
[[station]]
name = "LS"
{station2}
[[subband]]
sky_freq_hz = 8.4e9
bandwidth_hz = 8e6
"#
    )
}

fn kernels() -> String {
    [
        "de421_2026_excerpt.bsp",
        "moon_pa_de421_1900-2050.bpc",
        "moon_080317.tf",
    ]
    .iter()
    .map(|k| format!("\"{}\"", testdata(k)))
    .collect::<Vec<_>>()
    .join(", ")
}

const PKS: &str = "ra = \"19h24m51.0559s\"\ndec = \"-29d14m30.121s\"";
const LS: &str = "moon = { lat_deg = -89.5, lon_deg = 0.0 }";

fn write(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("job.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn emcorr() -> Command {
    Command::cargo_bin("emcorr").unwrap()
}

#[test]
fn a_good_job_prints_one_row_per_station_and_step() {
    let dir = tempfile::tempdir().unwrap();
    let job = write(
        dir.path(),
        &job_text(PKS, "2026-03-14T23:45:00Z", &kernels(), true, LS),
    );
    let out = emcorr()
        .args(["model", job.to_str().unwrap(), "--step", "5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "time_utc,station,delay_s,rate_s_per_s,accel_s_per_s2,dry_delay_s,wet_delay_s,az_deg,el_deg"
    );
    assert_eq!(lines.len(), 1 + 5 * 2);
    assert!(lines[1].starts_with("2026-03-14T23:45:00.000000000Z,T6,"));
    assert!(lines[2].starts_with("2026-03-14T23:45:00.000000000Z,LS,"));
    let ls: Vec<&str> = lines[2].split(',').skip(2).collect();
    let ls_delay: Vec<f64> = ls[..3].iter().map(|x| x.parse().unwrap()).collect();
    // Earth–Moon: |τ| ≤ 1.4 s, |rate| ≤ 5 µs/s.
    assert!(ls_delay[0].abs() > 0.9 && ls_delay[0].abs() < 1.4, "{ls:?}");
    assert!(ls_delay[1].abs() < 5e-6);
    // A lunar station has no troposphere and no az/el: empty fields.
    assert_eq!(ls[3..], ["", "", "", ""]);
    // T6 sees PKS 1921−293 near transit, ~30° up to the south, through
    // 2.3 m of dry and 0.1 m of wet zenith delay.
    let t6: Vec<f64> = lines[1]
        .split(',')
        .skip(2)
        .map(|x| x.parse().unwrap())
        .collect();
    let (dry, wet, az, el) = (t6[3], t6[4], t6[5], t6[6]);
    assert!(el > 25.0 && el < 35.0 && az > 150.0 && az < 230.0, "{t6:?}");
    assert!(
        dry > 12e-9 && dry < 18e-9 && wet > 0.4e-9 && wet < 0.8e-9,
        "{t6:?}"
    );

    let out = emcorr()
        .args([
            "model",
            job.to_str().unwrap(),
            "--format",
            "json",
            "--step",
            "10",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3 * 2);
    assert_eq!(v[1]["station"], "LS");
    assert!(v[1]["el_deg"].is_null() && v[1]["dry_delay_s"].is_null());
    assert!(v[0]["el_deg"].as_f64().unwrap() > 25.0);
    assert!(v[0]["wet_delay_s"].as_f64().unwrap() > 0.0);
}

fn expect_bad(text: &str, names: &str) {
    let dir = tempfile::tempdir().unwrap();
    let job = write(dir.path(), text);
    let out = emcorr()
        .args(["model", job.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(names), "{err:?} does not name {names}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
}

#[test]
fn bad_input_exits_2_naming_the_key_or_file() {
    let k = kernels();
    let t = "2026-03-14T23:45:00Z";
    // Unknown body.
    expect_bad(
        &job_text("spk_body = 12345", t, &k, true, LS),
        "source.spk_body",
    );
    // Kernel missing.
    expect_bad(
        &job_text(PKS, t, "\"no_such_kernel.bsp\"", true, LS),
        "no_such_kernel.bsp",
    );
    // Kernel not covering the job (the excerpt ends 2027-01-01).
    expect_bad(
        &job_text(PKS, "2027-06-01T00:00:00Z", &k, false, LS),
        "de421_2026_excerpt.bsp",
    );
    // EOP not covering the job.
    expect_bad(
        &job_text(PKS, "2026-11-01T00:00:00Z", &k, true, LS),
        "finals2000A_2025-2026.txt",
    );
    // Station with both itrf_m and moon.
    expect_bad(
        &job_text(PKS, t, &k, true, &format!("{LS}\nitrf_m = [1.0, 2.0, 3.0]")),
        "station[1] (LS).itrf_m",
    );
    // Malformed angles.
    expect_bad(
        &job_text("ra = \"19h24m51s\"\ndec = \"-29d74m30s\"", t, &k, true, LS),
        "source.dec",
    );
    expect_bad(
        &job_text("ra = \"25h24m51s\"\ndec = \"-29d14m30s\"", t, &k, true, LS),
        "source.ra",
    );
    // No time range.
    expect_bad(
        &job_text(PKS, t, &k, true, LS).replace("start = \"2026-03-14T23:45:00Z\"\n", ""),
        "job.start",
    );
}

/// A frame kernel with the DE440 frame definitions of NAIF's
/// moon_de440_220930.tf: MOON_PA_DE440 (31008, PCK) and MOON_ME_DE440_ME421
/// (31009, TK relative to 31008: 67.8526″, 78.6944″, 0.2785″ about z, y, x).
fn de440_tf(dir: &Path) -> PathBuf {
    let p = dir.join("moon_de440_220930.tf");
    std::fs::write(
        &p,
        "KPL/FK\n\\begindata\n\
         FRAME_MOON_PA_DE440 = 31008\n FRAME_31008_NAME = 'MOON_PA_DE440'\n\
         FRAME_31008_CLASS = 2\n FRAME_31008_CLASS_ID = 31008\n FRAME_31008_CENTER = 301\n\
         FRAME_MOON_ME_DE440_ME421 = 31009\n FRAME_31009_NAME = 'MOON_ME_DE440_ME421'\n\
         FRAME_31009_CLASS = 4\n FRAME_31009_CLASS_ID = 31009\n FRAME_31009_CENTER = 301\n\
         TKFRAME_31009_SPEC = 'ANGLES'\n TKFRAME_31009_RELATIVE = 'MOON_PA_DE440'\n\
         TKFRAME_31009_ANGLES = ( 67.8526 78.6944 0.2785 )\n TKFRAME_31009_AXES = ( 3, 2, 1 )\n\
         TKFRAME_31009_UNITS = 'ARCSECONDS'\n\\begintext\n",
    )
    .unwrap();
    p
}

#[test]
fn a_de440_frame_kernel_over_a_de421_pck_is_not_applied_and_named_in_a_warning() {
    // DE421's PCK with DE440's frame kernel: MOON_ME_DE440_ME421 hangs on
    // MOON_PA_DE440, which no PCK holds. The model runs with DE421's own
    // (built-in) PA→ME angles and says so; the rows are those of the
    // DE421 PCK with moon_080317.tf.
    let dir = tempfile::tempdir().unwrap();
    let tf = de440_tf(dir.path());
    let t = "2026-03-14T23:45:00Z";
    let mixed = format!(
        "\"{}\", \"{}\", \"{}\"",
        testdata("de421_2026_excerpt.bsp"),
        testdata("moon_pa_de421_1900-2050.bpc"),
        tf.display()
    );
    let rows = |kernels: &str| {
        let job = write(dir.path(), &job_text(PKS, t, kernels, true, LS));
        let out = emcorr()
            .args(["model", job.to_str().unwrap(), "--step", "10"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        (String::from_utf8(out.stdout).unwrap(), err)
    };
    let (got, err) = rows(&mixed);
    let (want, err421) = rows(&kernels());
    assert!(
        err.lines().any(|l| l.contains(&tf.display().to_string())
            && l.contains("MOON_ME_DE440_ME421 (31009)")
            && l.contains("MOON_PA_DE440 (31008)")
            && l.contains("not applied")),
        "{err}"
    );
    assert!(err.contains("moon_080317.tf built in"), "{err}");
    assert!(!err421.contains("MOON_"), "{err421}");
    let delays = |text: &str| -> Vec<f64> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
            .collect()
    };
    let (g, w) = (delays(&got), delays(&want));
    assert_eq!(g.len(), w.len());
    for (a, b) in g.iter().zip(&w) {
        assert!((a - b).abs() < 1e-15, "{a} vs {b}");
    }
}

/// The reference rows (station → (delay s, rate)) of testdata/model_reference.csv
/// (skyfield + jplephem, independent of emcorr) for `case` at `time`.
fn reference(case: &str, time: &str) -> std::collections::BTreeMap<String, (f64, f64)> {
    let text = std::fs::read_to_string(testdata("model_reference.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[0] == case && f[1] == time)
        .map(|f| {
            (
                f[2].to_string(),
                (f[3].parse().unwrap(), f[4].parse().unwrap()),
            )
        })
        .collect()
}

/// Issue 12.3: a delay model needs no frequencies. A job with [model],
/// [source] and two stations — no [[subband]], no [correlation], no
/// recordings — gives the delays, and they are skyfield's; `correlate`
/// refuses the same job naming the missing key.
#[test]
fn a_job_without_frequency_setup_gives_its_model_and_cannot_be_correlated() {
    let t = "2026-03-14T23:45:00Z";
    // skyfield's reference is geometry only: no tides, no troposphere, no
    // sub-daily EOP terms.
    let with_troposphere = job_text(PKS, t, &kernels(), true, LS)
        .replace("[[subband]]\nsky_freq_hz = 8.4e9\nbandwidth_hz = 8e6\n", "")
        .replace(
            "[model]\n",
            "[model]\nsolid_tide = false\npole_tide = false\nsubdaily_eop = false\nlunar_tide = false\n",
        );
    let text = with_troposphere.replace("[model]\n", "[model]\ntroposphere = false\n");
    assert!(!text.contains("subband") && !text.contains("[correlation]"));
    let dir = tempfile::tempdir().unwrap();
    let rows_at = |text: &str| {
        let job = write(dir.path(), text);
        let out = emcorr()
            .args(["model", job.to_str().unwrap(), "--step", "10"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = String::from_utf8(out.stdout).unwrap();
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
            .filter(|f| f[0] == "2026-03-14T23:45:00.000000000Z")
            .map(|f| (f[1].clone(), f[2..].to_vec()))
            .collect::<std::collections::BTreeMap<String, Vec<String>>>()
    };
    let tropo = rows_at(&with_troposphere);
    let geometric = rows_at(&text);
    let at: std::collections::BTreeMap<String, (f64, f64)> = geometric
        .iter()
        .map(|(k, f)| (k.clone(), (f[0].parse().unwrap(), f[1].parse().unwrap())))
        .collect();
    // With the troposphere the Earth station's delay grows by its dry + wet
    // columns; the lunar station's does not change.
    for (st, f) in &tropo {
        let d: f64 = f[0].parse::<f64>().unwrap() - at[st].0;
        if st == "LS" {
            assert_eq!(d, 0.0);
            continue;
        }
        let sum = f[3].parse::<f64>().unwrap() + f[4].parse::<f64>().unwrap();
        assert!((d - sum).abs() < 1e-14, "{st}: {d:e} vs dry + wet {sum:e}");
        for k in [3, 4] {
            assert_eq!(geometric[st][k].parse::<f64>().unwrap(), 0.0, "{st}");
        }
    }
    let job = write(dir.path(), &text);
    let want = reference("far", "2026-03-14T23:45:00.000000000Z");
    assert_eq!(at.keys().collect::<Vec<_>>(), ["LS", "T6"]);
    // Tolerances of correlator/src/model/tests.rs: stations 0.5 ns (the
    // Earth's gravitational term is normalised differently), rates 1 ps/s;
    // the Earth–Moon baseline to 50 ps (README: agreement to 25 ps).
    for (st, (d, r)) in &at {
        let (wd, wr) = want[st];
        assert!((d - wd).abs() < 0.5e-9, "{st}: delay {d} vs skyfield {wd}");
        assert!((r - wr).abs() < 1e-12, "{st}: rate {r} vs skyfield {wr}");
    }
    let bl = (at["LS"].0 - at["T6"].0) - (want["LS"].0 - want["T6"].0);
    assert!(bl.abs() < 50e-12, "LS−T6 differs from skyfield by {bl:e} s");

    // Correlating needs the frequency setup: exit 2, one line, the key.
    let out = emcorr()
        .args(["correlate", job.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("key `subband`"), "{err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    // With a frequency setup but no recordings: the station's `file` key.
    let job = write(dir.path(), &job_text(PKS, t, &kernels(), true, LS));
    let out = emcorr()
        .args(["correlate", job.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("key `station[0] (T6).file`"), "{err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    // Nothing was left behind by the refused runs.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["job.toml"]);
}
