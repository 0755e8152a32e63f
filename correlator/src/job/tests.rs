//! Job parsing against hand-written truth: paths, units, angles (closed
//! forms) and one-line errors naming the file and the key.

use super::*;

const GOOD: &str = r#"
[job]
name = "t"
output = "out/t.fits"
start = "2026-03-14T23:45:00Z"
duration_s = 10.0
[correlation]
fft_length = 256
integration_s = 0.5
[model]
kernels = ["k/a.bsp"]
[source]
name = "3C273"
ra = "12h29m06.6997s"
dec = "+02d03m08.598s"
[[station]]
name = "T6"
itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]
file = "T6.vdif"
[[station]]
name = "LS"
moon = { lat_deg = -89.5, lon_deg = 0.0 }
files = ["a.vdif", "b.vdif"]
clock_offset_s = 1e-6
lunar_proper_time = true
[[subband]]
sky_freq_hz = 8.4e9
bandwidth_hz = 8e6
"#;

fn parse(text: &str) -> Result<Job, JobError> {
    Job::from_toml_str(text, Path::new("/data/jobs/j.toml"))
}

#[test]
fn a_good_job_is_typed_and_paths_are_relative_to_it() {
    let j = parse(GOOD).unwrap();
    assert_eq!(j.output, PathBuf::from("/data/jobs/out/t.fits"));
    assert_eq!(
        j.model.as_ref().unwrap().kernels,
        vec![PathBuf::from("/data/jobs/k/a.bsp")]
    );
    assert_eq!(j.model.as_ref().unwrap().order, 5);
    assert_eq!(j.stations[1].files.len(), 2);
    assert_eq!(j.stations[1].files[1], PathBuf::from("/data/jobs/b.vdif"));
    assert_eq!(j.subbands[0].sideband, Sideband::Upper);
    assert_eq!(j.correlation.fft_length, 256);
    // 12h29m06.6997s = 187.2779154° (closed form: (12 + 29/60 + 6.6997/3600) * 15)
    match j.sources[0].position {
        SourcePosition::RaDec { ra_rad, dec_rad } => {
            assert!((ra_rad.to_degrees() - 187.277_915_416_666_7).abs() < 1e-12);
            assert!((dec_rad.to_degrees() - 2.052_388_333_333_3).abs() < 1e-12);
        }
        _ => panic!("far-field source expected"),
    }
}

fn expect_key(text: &str, key: &str) {
    let e = parse(text).unwrap_err().to_string();
    assert!(e.contains(key), "error {e:?} does not name {key}");
    assert!(
        e.starts_with("/data/jobs/j.toml"),
        "error {e:?} does not name the file"
    );
    assert!(!e.contains('\n'), "error is not one line: {e:?}");
}

#[test]
fn errors_name_the_file_and_the_key() {
    expect_key(&GOOD.replace("+02d03m08.598s", "+02d63m08s"), "source.dec");
    expect_key(
        &GOOD.replace("fft_length = 256", "fft_length = 255"),
        "correlation.fft_length",
    );
    expect_key(
        &GOOD.replace(
            "moon = { lat_deg = -89.5, lon_deg = 0.0 }",
            "moon = { lat_deg = -89.5, lon_deg = 0.0 }\nitrf_m = [1.0, 2.0, 3.0]",
        ),
        "station[1] (LS).itrf_m",
    );
    expect_key(
        &GOOD.replace("lat_deg = -89.5", "lat_deg = -91.5"),
        "lat_deg",
    );
    expect_key(
        &GOOD.replace("duration_s = 10.0", "duration_s = 10.0\ncolour = 1"),
        "colour",
    );
    expect_key(
        &GOOD.replace("2026-03-14T23:45:00Z", "2026-03-14T25:45:00Z"),
        "job.start",
    );
    expect_key(
        &GOOD.replace("[model]\nkernels = [\"k/a.bsp\"]", ""),
        "model",
    );
}

#[test]
fn angles_in_several_spellings() {
    let a = parse_ra("12h29m06.6997s").unwrap();
    assert_eq!(parse_ra("12:29:06.6997").unwrap(), a);
    assert_eq!(parse_ra("12 29 06.6997").unwrap(), a);
    let d = parse_dec("-29d33m15.0s").unwrap();
    assert_eq!(parse_dec("−29°33′15.0″").unwrap(), d);
    assert!((d.to_degrees() + (29.0 + 33.0 / 60.0 + 15.0 / 3600.0)).abs() < 1e-12);
    assert!(parse_ra("25h00m00s").is_err());
    assert!(parse_dec("+91d00m00s").is_err());
    assert!(parse_dec("12d").is_err());
}

/// A delay-model job: no [correlation], no [[subband]], no recordings.
fn model_only() -> String {
    let cut = GOOD.find("[[subband]]").unwrap();
    GOOD[..cut]
        .replace("[correlation]\nfft_length = 256\nintegration_s = 0.5\n", "")
        .replace("file = \"T6.vdif\"\n", "")
}

#[test]
fn a_job_without_frequency_setup_parses_and_correlating_names_what_is_missing() {
    let text = model_only();
    assert!(!text.contains("[[subband]]") && !text.contains("[correlation]"));
    let j = parse(&text).unwrap();
    assert!(j.subbands.is_empty());
    assert_eq!(j.stations.len(), 2);
    // What correlating needs is asked for by the command, with a key error.
    for e in [
        j.require_subbands().unwrap_err().to_string(),
        j.require_correlation().unwrap_err().to_string(),
    ] {
        assert!(e.starts_with("/data/jobs/j.toml: key `subband`:"), "{e:?}");
        assert!(!e.contains('\n'), "{e:?}");
    }
}

#[test]
fn correlating_needs_a_recording_per_station() {
    let j = parse(&GOOD.replace("file = \"T6.vdif\"\n", "")).unwrap();
    assert_eq!(j.require_subbands().unwrap().len(), 1);
    let e = j.require_correlation().unwrap_err().to_string();
    assert!(
        e.starts_with("/data/jobs/j.toml: key `station[0] (T6).file`:"),
        "{e:?}"
    );
    assert!(parse(GOOD).unwrap().require_correlation().is_ok());
}

/// GOOD with its `[source]` replaced by `sources_and_scans`.
fn session(sources_and_scans: &str) -> String {
    let i = GOOD.find("[source]").unwrap();
    let j = GOOD.find("[[station]]").unwrap();
    format!("{}{}\n{}", &GOOD[..i], sources_and_scans, &GOOD[j..])
}

const SESSION: &str = r#"
[[source]]
name = "Q1"
ra_deg = 10.0
dec_deg = -20.0
[[source]]
name = "LANDER"
moon = { lat_deg = -89.45, lon_deg = 20.0 }
[[scan]]
name = "No0001"
start = "2026-03-14T23:45:00Z"
duration_s = 60.0
sources = ["Q1"]
[[scan]]
name = "No0002"
start = "2026-03-14T23:47:00Z"
duration_s = 30.0
sources = ["LANDER", "Q1"]
stations = ["LS"]
"#;

#[test]
fn a_session_in_toml_gives_sources_and_scans() {
    let j = parse(&session(SESSION)).unwrap();
    assert_eq!(j.sources.len(), 2);
    assert_eq!(j.sources[1].name, "LANDER");
    assert!(matches!(j.sources[1].position, SourcePosition::Moon(m) if m.lat_deg == -89.45));
    assert_eq!(j.scans.len(), 2);
    assert_eq!(j.scans[1].sources, vec!["LANDER", "Q1"]);
    assert_eq!(j.scans[1].stations, Some(vec!["LS".to_string()]));
    // 23:47:00 is 120 s after 23:45:00.
    assert_eq!(j.scans[1].start.seconds_since(j.scans[0].start), 120.0);
    assert!(j.vex.is_none());
}

#[test]
fn session_mistakes_name_the_scan_or_source_key() {
    let cases = [
        (
            SESSION.replace("sources = [\"Q1\"]", "sources = [\"Q9\"]"),
            "scan[0] (No0001).sources",
            "\"Q9\" is not a [[source]]",
        ),
        (
            SESSION.replace("stations = [\"LS\"]", "stations = [\"XX\"]"),
            "scan (No0002).stations",
            "\"XX\" is not a [[station]]",
        ),
        (
            SESSION.replace("23:47:00Z", "23:45:30Z"),
            "scan (No0002)",
            "before scan No0001 ends",
        ),
        (
            SESSION.replace("name = \"LANDER\"", "name = \"Q1\""),
            "source[1].name",
            "two sources have this name",
        ),
        (
            SESSION.replace("ra_deg = 10.0", "ra_deg = 400.0"),
            "source[0].ra_deg",
            "must be in [0, 360)",
        ),
        (
            SESSION.replace("duration_s = 30.0", "duration_s = -3.0"),
            "scan[1] (No0002).duration_s",
            "positive",
        ),
    ];
    for (text, key, why) in cases {
        let e = parse(&session(&text)).unwrap_err().to_string();
        assert!(
            e.contains(&format!("key `{key}`")) && e.contains(why),
            "{key}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    // No source at all, and a VEX-less job: refused naming `source`.
    let e = parse(&session("")).unwrap_err().to_string();
    assert!(e.contains("key `source`"), "{e}");
}

#[test]
fn stations_may_record_differently() {
    let text = r#"
[job]
name = "h"
[source]
name = "S"
ra_deg = 1.0
dec_deg = 2.0
[[station]]
name = "A"
delay_poly = { epoch = "2026-01-01T00:00:00Z", coeffs_s = [0.0] }
[[station]]
name = "LS"
sample_rate_hz = 128e6
sampling = "complex_dsb"
lo_offset_hz = 2.5e3
delay_poly = { epoch = "2026-01-01T00:00:00Z", coeffs_s = [0.0] }
[[station.subband]]
sky_freq_hz = 8.388e9
bandwidth_hz = 64e6
sideband = "U"
pol = "R"
thread = 0
channel = 0
[[subband]]
sky_freq_hz = 8.4e9
bandwidth_hz = 16e6
"#;
    let j = Job::from_toml_str(text, Path::new("/tmp/h.toml")).unwrap();
    assert_eq!(j.stations[0].sampling, None);
    assert_eq!(j.stations[0].lo_offset_hz, 0.0);
    assert!(j.stations[0].subbands.is_empty());
    let ls = &j.stations[1];
    assert_eq!(ls.sampling, Some(crate::job::Sampling::ComplexDsb));
    assert_eq!(ls.lo_offset_hz, 2.5e3);
    assert_eq!(ls.subbands.len(), 1);
    assert_eq!(ls.subbands[0].bandwidth_hz, 64e6);
    assert_eq!(ls.recorded_threads(&j.subbands), vec![0]);
    let bad = text.replace("complex_dsb", "dsb");
    let e = Job::from_toml_str(&bad, Path::new("/tmp/h.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("station[1] (LS).sampling") && !e.contains('\n'),
        "{e}"
    );
    let bad = text.replace("sideband = \"U\"", "sideband = \"X\"");
    let e = Job::from_toml_str(&bad, Path::new("/tmp/h.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("station[1] (LS).subband[0].sideband"), "{e}");
}

/// `pcal_interval_hz` / `pcal_offset_hz` on a station: parsed into
/// `Station::pcal`; a bad value is one line naming the file and the key.
#[test]
fn a_stations_phase_cal_comb_is_parsed_and_checked() {
    let with =
        |keys: &str| GOOD.replace("file = \"T6.vdif\"", &format!("file = \"T6.vdif\"\n{keys}"));
    let j = parse(&with("pcal_interval_hz = 1e6\npcal_offset_hz = 1e4")).unwrap();
    assert_eq!(
        j.stations[0].pcal,
        Some(PcalSpec {
            interval_hz: 1e6,
            offset_hz: 1e4
        })
    );
    assert_eq!(j.stations[1].pcal, None);
    let j = parse(&with("pcal_interval_hz = 5e6")).unwrap();
    assert_eq!(j.stations[0].pcal.unwrap().offset_hz, 0.0);
    for (keys, key) in [
        ("pcal_interval_hz = 0.0", "station[0] (T6).pcal_interval_hz"),
        (
            "pcal_interval_hz = -1e6",
            "station[0] (T6).pcal_interval_hz",
        ),
        (
            "pcal_interval_hz = 1e6\npcal_offset_hz = 1e6",
            "station[0] (T6).pcal_offset_hz",
        ),
        (
            "pcal_interval_hz = 1e6\npcal_offset_hz = -5.0",
            "station[0] (T6).pcal_offset_hz",
        ),
        ("pcal_offset_hz = 1e4", "station[0] (T6).pcal_offset_hz"),
    ] {
        let e = parse(&with(keys)).unwrap_err().to_string();
        assert!(
            e.starts_with("/data/jobs/j.toml: key `") && e.contains(key) && !e.contains('\n'),
            "{keys}: {e}"
        );
    }
}

#[test]
fn subdaily_eop_is_on_by_default_and_can_be_switched_off() {
    assert!(parse(GOOD).unwrap().model.unwrap().subdaily_eop);
    let with = |v: &str| {
        GOOD.replace(
            "kernels = [\"k/a.bsp\"]",
            &format!("kernels = [\"k/a.bsp\"]\nsubdaily_eop = {v}"),
        )
    };
    assert!(!parse(&with("false")).unwrap().model.unwrap().subdaily_eop);
    expect_key(&with("\"yes\""), "subdaily_eop");
}

#[test]
fn tides_are_on_by_default_and_station_motion_is_parsed_and_checked() {
    let j = parse(GOOD).unwrap();
    let m = j.model.as_ref().unwrap();
    assert!(m.solid_tide && m.pole_tide);
    assert_eq!(j.stations[0].itrf_epoch, None);
    assert_eq!(j.stations[0].velocity_m_per_yr, None);

    let off = GOOD.replace(
        "kernels = [\"k/a.bsp\"]",
        "kernels = [\"k/a.bsp\"]\nsolid_tide = false\npole_tide = false",
    );
    let m = parse(&off).unwrap().model.unwrap();
    assert!(!m.solid_tide && !m.pole_tide);

    let t6 = "itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]";
    let moving = GOOD.replace(
        t6,
        &format!(
            "{t6}\nitrf_epoch = \"2020-01-01T00:00:00Z\"\nvelocity_m_per_yr = [-0.03, -0.01, 0.02]"
        ),
    );
    let j = parse(&moving).unwrap();
    assert_eq!(
        j.stations[0].itrf_epoch,
        Some(UtcTime::from_calendar(2020, 1, 1, 0, 0, 0, 0.0))
    );
    assert_eq!(j.stations[0].velocity_m_per_yr, Some([-0.03, -0.01, 0.02]));

    // Unknown keys are still refused, one line naming them.
    expect_key(
        &GOOD.replace(
            "kernels = [\"k/a.bsp\"]",
            "kernels = [\"k/a.bsp\"]\nsolid_tides = false",
        ),
        "solid_tides",
    );
    expect_key(
        &GOOD.replace(
            "kernels = [\"k/a.bsp\"]",
            "kernels = [\"k/a.bsp\"]\npole_tide = 1",
        ),
        "pole_tide",
    );
    // A velocity needs the epoch it moves the position from.
    expect_key(
        &GOOD.replace(t6, &format!("{t6}\nvelocity_m_per_yr = [0.0, 0.0, 0.01]")),
        "station[0] (T6).velocity_m_per_yr",
    );
    // Only an ITRF position has an ITRF epoch.
    expect_key(
        &GOOD.replace(
            "lon_deg = 0.0 }",
            "lon_deg = 0.0 }\nitrf_epoch = \"2020-01-01T00:00:00Z\"",
        ),
        "station[1] (LS).itrf_epoch",
    );
    expect_key(
        &GOOD.replace(t6, &format!("{t6}\nitrf_epoch = \"2020-13-01T00:00:00Z\"")),
        "station[0] (T6).itrf_epoch",
    );
}

#[test]
fn an_antenna_mount_and_axis_offset_are_parsed_and_checked() {
    use crate::model::axis_offset::{AxisOffset, AxisType};
    let t6 = "itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]";
    let j = parse(&GOOD.replace(
        t6,
        &format!("{t6}\naxis_type = \"XYEW\"\naxis_offset_m = 2.5"),
    ))
    .unwrap();
    assert_eq!(
        j.stations[0].axis,
        Some(AxisOffset {
            axis: AxisType::XyEw,
            offset_m: 2.5
        })
    );
    assert_eq!(parse(GOOD).unwrap().stations[0].axis, None);
    expect_key(
        &GOOD.replace(t6, &format!("{t6}\naxis_type = \"ALTAZIMUTH\"")),
        "station[0] (T6).axis_type",
    );
    expect_key(
        &GOOD.replace(t6, &format!("{t6}\naxis_offset_m = 2.5")),
        "station[0] (T6).axis_offset_m",
    );
    expect_key(
        &GOOD.replace(
            t6,
            &format!("{t6}\naxis_type = \"AZEL\"\naxis_offset_m = 1e9"),
        ),
        "station[0] (T6).axis_offset_m",
    );
    expect_key(
        &GOOD.replace("lon_deg = 0.0 }", "lon_deg = 0.0 }\naxis_type = \"AZEL\""),
        "station[1] (LS).axis_type",
    );
}

#[test]
fn troposphere_keys_have_defaults_and_ranges() {
    let j = parse(GOOD).unwrap();
    assert!(j.model.as_ref().unwrap().troposphere);
    assert_eq!(j.stations[0].weather, Default::default());
    let text = GOOD
        .replace("[model]\n", "[model]\ntroposphere = false\n")
        .replace(
            "file = \"T6.vdif\"\n",
            "file = \"T6.vdif\"\npressure_hpa = 870.5\nzwd_m = 0.2\n",
        );
    let j = parse(&text).unwrap();
    assert!(!j.model.as_ref().unwrap().troposphere);
    assert_eq!(j.stations[0].weather.pressure_hpa, Some(870.5));
    assert_eq!(j.stations[0].weather.zwd_m, Some(0.2));
    for (kv, key) in [
        ("pressure_hpa = 50.0", "station[0] (T6).pressure_hpa"),
        ("pressure_hpa = 1200.0", "station[0] (T6).pressure_hpa"),
        ("zwd_m = -0.1", "station[0] (T6).zwd_m"),
        ("zwd_m = 2.0", "station[0] (T6).zwd_m"),
    ] {
        expect_key(
            &GOOD.replace(
                "file = \"T6.vdif\"\n",
                &format!("file = \"T6.vdif\"\n{kv}\n"),
            ),
            key,
        );
    }
}

#[test]
fn lunar_coordinates_is_tdb_by_default_and_refuses_other_scales() {
    let m = parse(GOOD).unwrap().model.unwrap();
    assert_eq!(m.lunar_coordinates, super::LunarScale::Tdb);
    let with = |v: &str| {
        GOOD.replace(
            "kernels = [\"k/a.bsp\"]",
            &format!("kernels = [\"k/a.bsp\"]\nlunar_coordinates = {v}"),
        )
    };
    let m = parse(&with("\"proper\"")).unwrap().model.unwrap();
    assert_eq!(m.lunar_coordinates, super::LunarScale::Proper);
    expect_key(&with("\"tcb\""), "model.lunar_coordinates");
}

#[test]
fn ocean_loading_lunar_tide_and_axis_offset_switches_and_blq_keys_are_parsed_and_checked() {
    let m = parse(GOOD).unwrap().model.unwrap();
    assert!(m.ocean_loading && m.lunar_tide && m.axis_offset);
    let off = GOOD.replace(
        "kernels = [\"k/a.bsp\"]",
        "kernels = [\"k/a.bsp\"]\nocean_loading = false\nlunar_tide = false\naxis_offset = false",
    );
    let m = parse(&off).unwrap().model.unwrap();
    assert!(!m.ocean_loading && !m.lunar_tide && !m.axis_offset);

    // A BLQ path is relative to the job file; the name defaults to the
    // station's.
    let t6 = "itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]";
    let j = parse(&GOOD.replace(t6, &format!("{t6}\nblq = \"ol/sites.blq\""))).unwrap();
    assert_eq!(
        j.stations[0].blq,
        Some(Blq {
            file: PathBuf::from("/data/jobs/ol/sites.blq"),
            name: "T6".into()
        })
    );
    assert_eq!(j.stations[1].blq, None);
    let j = parse(&GOOD.replace(
        t6,
        &format!("{t6}\nblq = \"/abs/s.blq\"\nblq_name = \"TIGO CONC\""),
    ))
    .unwrap();
    let b = j.stations[0].blq.as_ref().unwrap();
    assert_eq!(
        (b.file.to_str(), b.name.as_str()),
        (Some("/abs/s.blq"), "TIGO CONC")
    );

    expect_key(
        &GOOD.replace(t6, &format!("{t6}\nblq_name = \"ONSALA\"")),
        "station[0] (T6).blq_name",
    );
    expect_key(
        &GOOD.replace("lon_deg = 0.0 }", "lon_deg = 0.0 }\nblq = \"s.blq\""),
        "station[1] (LS).blq",
    );
    expect_key(
        &GOOD.replace(
            "kernels = [\"k/a.bsp\"]",
            "kernels = [\"k/a.bsp\"]\nocean_loading = \"yes\"",
        ),
        "ocean_loading",
    );
}
