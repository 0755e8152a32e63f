//! The troposphere and station-frame pieces against published values and an
//! independent tool (astropy, testdata/azel_reference.csv), and the delay
//! term in the model.

use super::gmf::Gmf;
use super::horizon::{Geodetic, GRS80_A_M, GRS80_F};
use super::zenith::{berg_pressure_hpa, saastamoinen_zhd_m};
use super::*;
use crate::job::Job;
use crate::model::geometric::DelayModel;
use crate::model::tests::testdata;
use formats::UtcTime;
use std::f64::consts::FRAC_PI_2;

/// Truth: the test case published in the header of the IERS Conventions
/// 2010 software routine GMF (NRAO Green Bank, MJD 55055, zenith distance
/// 1.278564131 rad): GMFH = 3.425245519339138678, GMFW = 3.449589116182419257
/// (rounded to f64 below).
#[test]
fn gmf_reproduces_the_iers_conventions_test_case() {
    let g = Gmf::new(0.6708665767, -1.393397187, 844.715);
    let m = g.at(55055.0, FRAC_PI_2 - 1.278564131);
    eprintln!(
        "GMF: hydrostatic {:.15} (IERS 3.425245519339139), wet {:.15} (IERS 3.449589116182419)",
        m.hydrostatic, m.wet
    );
    assert!((m.hydrostatic - 3.425_245_519_339_139).abs() < 1e-12);
    assert!((m.wet - 3.449_589_116_182_419).abs() < 1e-12);
    // At the zenith both are 1 but for the height correction (0 there too).
    let z = g.at(55055.0, FRAC_PI_2);
    assert!((z.hydrostatic - 1.0).abs() < 1e-12 && (z.wet - 1.0).abs() < 1e-12);
    // Monotonic and finite down to the floor.
    let mut prev = 0.0;
    for k in (1..=90).rev() {
        let m = g.at(55055.0, (k as f64).to_radians());
        assert!(m.hydrostatic > prev && m.hydrostatic.is_finite());
        prev = m.hydrostatic;
    }
    assert!(prev > 20.0 && prev < 60.0, "m_h(1°) = {prev}");
}

/// Truth: Saastamoinen's formula evaluated by hand (0.0022768 × 1013.25 at
/// 45°, sea level) and the 1976 US Standard Atmosphere's tabulated pressures
/// (1013.25, 898.76, 795.01, 701.21, 540.48 hPa at 0, 1, 2, 3, 5 km), which
/// Berg's formula follows to 0.2 %.
#[test]
fn zenith_hydrostatic_delay_and_standard_pressure() {
    let zhd = saastamoinen_zhd_m(1013.25, 45f64.to_radians(), 0.0);
    assert!((zhd - 2.3069676).abs() < 1e-7, "{zhd}");
    // Gravity at the equator is lower: a longer delay for the same pressure.
    assert!(saastamoinen_zhd_m(1013.25, 0.0, 0.0) > zhd);
    for (h, us76) in [
        (0.0, 1013.25),
        (1000.0, 898.76),
        (2000.0, 795.01),
        (3000.0, 701.21),
        (5000.0, 540.48),
    ] {
        let p = berg_pressure_hpa(h);
        assert!((p / us76 - 1.0).abs() < 2e-3, "{h} m: {p} vs {us76}");
    }
}

/// Truth: the closed-form geodetic → cartesian conversion (a, f of GRS80).
#[test]
fn geodetic_coordinates_invert_the_closed_form() {
    let e2 = GRS80_F * (2.0 - GRS80_F);
    for lat in [
        -90.0, -89.9, -43.0, -0.3, 0.0, 31.1, 60.0, 78.9, 89.99, 90.0,
    ] {
        for lon in [-170.0, -1.0, 0.0, 121.2, 179.9] {
            for h in [-400.0, 0.0, 844.715, 4000.0, 9000.0] {
                let (phi, lam): (f64, f64) = (f64::to_radians(lat), f64::to_radians(lon));
                let n = GRS80_A_M / (1.0 - e2 * phi.sin().powi(2)).sqrt();
                let x = [
                    (n + h) * phi.cos() * lam.cos(),
                    (n + h) * phi.cos() * lam.sin(),
                    (n * (1.0 - e2) + h) * phi.sin(),
                ];
                let g = Geodetic::from_itrf(&x);
                assert!((g.lat_rad - phi).abs() < 1e-12, "{lat} {lon} {h}: {g:?}");
                assert!((g.height_m - h).abs() < 1e-6, "{lat} {lon} {h}: {g:?}");
                if lat.abs() < 90.0 {
                    assert!((g.lon_rad - lam).abs() < 1e-12);
                }
            }
        }
    }
}

const STATIONS: &str = r#"
[[station]]
name = "T6"
itrf_m = [-2826708.8081, 4679236.9722, 3274667.4495]
[[station]]
name = "KM"
itrf_m = [-1281152.8, 5640864.4, 2682653.5]
[[station]]
name = "UR"
itrf_m = [228310.7, 4631922.8, 4367064.1]
[[station]]
name = "HO"
itrf_m = [-3950237.0, 2522347.6, -4311561.8]
[[station]]
name = "NY"
itrf_m = [1202462.8, 252734.4, 6237766.0]
[[station]]
name = "LS"
moon = { lat_deg = -89.5, lon_deg = 0.0 }
"#;

fn job_with(source: &str, start: &str, duration_s: f64, model: &str, stations: &str) -> Job {
    let text = format!(
        r#"
[job]
name = "t"
start = "{start}"
duration_s = {duration_s}
[model]
kernels = ["de421_2026_excerpt.bsp", "moon_pa_de421_1900-2050.bpc", "moon_080317.tf"]
eop = "finals2000A_2025-2026.txt"
{model}
[source]
name = "S"
{source}
{stations}
"#
    );
    Job::from_toml_str(&text, &testdata("job.toml")).unwrap()
}

fn source_keys(name: &str) -> &'static str {
    match name {
        "pks1921" => "ra = \"19h24m51.0559s\"\ndec = \"-29d14m30.121s\"",
        "3c273" => "ra = \"12h29m06.6997s\"\ndec = \"+02d03m08.598s\"",
        "moon" => "spk_body = 301",
        other => panic!("unknown source {other}"),
    }
}

/// Angle (rad) between two unit vectors, accurate when small.
fn separation(a: &V3, b: &V3) -> f64 {
    use super::super::vector::{dot, norm};
    norm(&cross(a, b)).atan2(dot(a, b))
}

/// Azimuth and elevation against astropy (testdata/azel_reference.py: ERFA's
/// apparent place, WGS84 frame, no refraction) for 5 stations × 6 instants ×
/// 3 sources (two quasars and the Moon's centre as a near-field SPK body),
/// above and below the horizon. Measured: worst separation on the sky
/// 4.2e-8 rad for the quasars (of the size of the Sun's light deflection at
/// their elongations, which astropy applies and the station frame leaves
/// out) and 2.5e-9 rad for the Moon.
#[test]
fn azimuth_and_elevation_agree_with_astropy() {
    let text = std::fs::read_to_string(testdata("azel_reference.csv")).unwrap();
    let mut worst: std::collections::BTreeMap<&str, f64> = Default::default();
    let mut n = 0;
    for source in ["pks1921", "3c273", "moon"] {
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f[0] == source)
            .collect();
        let times: Vec<UtcTime> = rows
            .iter()
            .map(|f| UtcTime::parse_iso8601(f[1]).unwrap())
            .collect();
        let (first, last) = (times[0], *times.last().unwrap());
        let j = job_with(
            source_keys(source),
            &first.to_iso8601(),
            last.seconds_since(first),
            "",
            STATIONS,
        );
        let model = DelayModel::new(&j, &j.sources[0], first, last).unwrap();
        for (f, &g) in rows.iter().zip(&times) {
            let i = j.stations.iter().position(|s| s.name == f[2]).unwrap();
            // The sky is the station's at its reception time g + τ(g);
            // astropy's at its obstime: evaluate at g − τ so they coincide
            // (the Earth turns 1.5e-6 rad in the largest τ, 21 ms).
            let tau = model.station(&model.epoch(g).unwrap(), i).unwrap().delay_s;
            let ctx = model.epoch(g.add_seconds(-tau)).unwrap();
            let sky = model.station(&ctx, i).unwrap().sky.unwrap();
            let want = Sky {
                az_rad: f[3].parse::<f64>().unwrap().to_radians(),
                el_rad: f[4].parse::<f64>().unwrap().to_radians(),
                dry_delay_s: 0.0,
                wet_delay_s: 0.0,
            };
            let sep = separation(&sky.enu(), &want.enu());
            let kind = if source == "moon" { "moon" } else { "far" };
            let w = worst.entry(kind).or_default();
            *w = w.max(sep);
            assert!(
                (sky.el_rad - want.el_rad).abs() < 1e-4,
                "{source} {} {}: el {} vs astropy {}",
                f[1],
                f[2],
                sky.el_rad.to_degrees(),
                f[4]
            );
            n += 1;
        }
    }
    eprintln!("{n} rows; worst separation from astropy (rad): {worst:?}");
    assert_eq!(n, 90);
    for (kind, sep) in worst {
        assert!(sep < 2e-7, "{kind}: {sep:e} rad");
    }
}

/// τ with the troposphere on minus off is each Earth station's dry + wet
/// delay; a lunar station's τ is unchanged; the delays are what the zenith
/// delays and GMF give at the reported elevation.
#[test]
fn the_troposphere_adds_dry_and_wet_delays_to_earth_stations_only() {
    let start = UtcTime::parse_iso8601("2026-03-14T23:45:00Z").unwrap();
    let end = start.add_seconds(60.0);
    let src = source_keys("pks1921");
    let weather = STATIONS.replace(
        "name = \"KM\"\n",
        "name = \"KM\"\npressure_hpa = 850.0\nzwd_m = 0.25\n",
    );
    let on = job_with(src, &start.to_iso8601(), 60.0, "", &weather);
    let off = job_with(
        src,
        &start.to_iso8601(),
        60.0,
        "troposphere = false",
        &weather,
    );
    assert!(on.model.as_ref().unwrap().troposphere);
    assert!(!off.model.as_ref().unwrap().troposphere);
    let m_on = DelayModel::new(&on, &on.sources[0], start, end).unwrap();
    let m_off = DelayModel::new(&off, &off.sources[0], start, end).unwrap();
    let ctx = m_on.epoch(start).unwrap();
    for (i, s) in on.stations.iter().enumerate() {
        let a = m_on.station(&ctx, i).unwrap();
        let b = m_off.station(&ctx, i).unwrap();
        if s.name == "LS" {
            assert!(a.sky.is_none() && b.sky.is_none());
            assert_eq!(a.delay_s, b.delay_s);
            continue;
        }
        let (sa, sb) = (a.sky.unwrap(), b.sky.unwrap());
        assert_eq!((sa.az_rad, sa.el_rad), (sb.az_rad, sb.el_rad));
        assert_eq!((sb.dry_delay_s, sb.wet_delay_s), (0.0, 0.0));
        let added = a.delay_s - b.delay_s;
        assert!(
            (added - (sa.dry_delay_s + sa.wet_delay_s)).abs() < 1e-15,
            "{}: {added:e} vs {:e}",
            s.name,
            sa.dry_delay_s + sa.wet_delay_s
        );
        // The same from the pieces.
        let crate::job::StationPosition::Itrf(itrf) = s.position else {
            unreachable!()
        };
        let g = Geodetic::from_itrf(&itrf);
        let (p, zwd) = if s.name == "KM" {
            (850.0, 0.25)
        } else {
            (berg_pressure_hpa(g.height_m), DEFAULT_ZWD_M)
        };
        let mjd = 61113.0 + (23.0 * 3600.0 + 45.0 * 60.0 + 69.184) / 86400.0;
        let m =
            Gmf::new(g.lat_rad, g.lon_rad, g.height_m).at(mjd, sa.el_rad.max(ELEVATION_FLOOR_RAD));
        let dry = saastamoinen_zhd_m(p, g.lat_rad, g.height_m) * m.hydrostatic / C;
        let wet = zwd * m.wet / C;
        assert!((sa.dry_delay_s - dry).abs() < 1e-15, "{}", s.name);
        assert!((sa.wet_delay_s - wet).abs() < 1e-15, "{}", s.name);
        eprintln!(
            "{}: el {:6.2}°, dry {:.3} ns, wet {:.3} ns",
            s.name,
            sa.el_rad.to_degrees(),
            sa.dry_delay_s * 1e9,
            sa.wet_delay_s * 1e9
        );
        // Plausible sizes: ZHD ≥ ~1.9 m → ≥ 6 ns at the zenith; ≤ ~45 at 1°.
        assert!(sa.dry_delay_s > 6e-9 && sa.dry_delay_s < 400e-9);
    }
}

/// A source below the horizon: finite delays held at the 1° values, a
/// warning, and the true (negative) elevation reported.
#[test]
fn below_the_horizon_the_delay_stays_finite_and_the_model_warns() {
    // PKS 1921−293 from Ny-Ålesund (+79°) never rises.
    let start = UtcTime::parse_iso8601("2026-03-14T23:45:00Z").unwrap();
    let j = job_with(
        source_keys("pks1921"),
        &start.to_iso8601(),
        240.0,
        "",
        STATIONS,
    );
    let m = crate::model::build_model(&j, start, start.add_seconds(240.0)).unwrap();
    let ny = j.stations.iter().position(|s| s.name == "NY").unwrap();
    let sky = m.skies[ny].as_ref().unwrap().eval(start.add_seconds(100.0));
    assert!(sky.el_rad < -10f64.to_radians(), "{sky:?}");
    let local = LocalSky::new(&[1202462.8, 252734.4, 6237766.0], &Weather::default(), true).0;
    // Due north at 1° elevation, in ITRS axes.
    let [_, north, up] = local.geodetic.enu_axes();
    let (s, c) = ELEVATION_FLOOR_RAD.sin_cos();
    let dir = [0, 1, 2].map(|k| north[k] * c + up[k] * s);
    let floor = local.sky(&dir, mjd(crate::model::time_scales::utc_to_tt(start)));
    assert!((floor.el_rad - ELEVATION_FLOOR_RAD).abs() < 1e-12);
    assert!(
        (sky.dry_delay_s - floor.dry_delay_s).abs() < 1e-12,
        "{sky:?} vs {floor:?}"
    );
    assert!(m.delays[ny].eval(start).delay_s.is_finite());
    assert!(
        m.warnings
            .iter()
            .any(|w| w.contains("station NY") && w.contains("below 1°")),
        "{:?}",
        m.warnings
    );
    assert!(!m.warnings.iter().any(|w| w.contains("station T6")));
}

/// The sky tracks (polynomials at the delay nodes) follow the direct model.
#[test]
fn sky_tracks_follow_the_model_between_nodes() {
    let start = UtcTime::parse_iso8601("2026-03-07T11:45:30Z").unwrap();
    let end = start.add_seconds(600.0);
    let j = job_with(
        source_keys("3c273"),
        &start.to_iso8601(),
        600.0,
        "",
        STATIONS,
    );
    let m = crate::model::build_model(&j, start, end).unwrap();
    let direct = DelayModel::new(&j, &j.sources[0], start, end).unwrap();
    let mut worst = (0.0f64, 0.0f64);
    for k in 0..60 {
        let g = start.add_seconds(10.0 * k as f64 + 3.7);
        let ctx = direct.epoch(g).unwrap();
        for (i, s) in j.stations.iter().enumerate() {
            let want = direct.station(&ctx, i).unwrap().sky;
            let got = m.skies[i].as_ref().map(|t| t.eval(g));
            match (want, got) {
                (None, None) => assert_eq!(s.name, "LS"),
                (Some(w), Some(h)) => {
                    let sep = separation(&w.enu(), &h.enu());
                    worst.0 = worst.0.max(sep);
                    worst.1 = worst
                        .1
                        .max((w.dry_delay_s + w.wet_delay_s - h.dry_delay_s - h.wet_delay_s).abs());
                }
                other => panic!("{}: {other:?}", s.name),
            }
        }
    }
    eprintln!("sky tracks vs direct: {:e} rad, {:e} s", worst.0, worst.1);
    // Measured 6e-14 rad and 2e-18 s.
    assert!(worst.0 < 1e-10 && worst.1 < 1e-15, "{worst:?}");
}

/// A position far from the ground gets no troposphere, with a warning.
#[test]
fn a_station_off_the_ground_gets_no_troposphere() {
    let (sky, w) = LocalSky::new(&[1.0, 2.0, 3.0], &Weather::default(), true);
    assert!(sky.atmosphere.is_none());
    assert!(w.unwrap().contains("no troposphere"));
    let (sky, w) = LocalSky::new(
        &[-2826708.8081, 4679236.9722, 3274667.4495],
        &Weather::default(),
        true,
    );
    assert!(sky.atmosphere.is_some() && w.is_none());
}

/// Saturation vapour pressure over water (IERS 2010 §9.1, Giacomo 1982)
/// against the CRC Handbook's table (Lide, "Vapor pressure of water from 0
/// to 370 °C": 0.61121, 1.2282, 2.3392, 4.2467, 7.3844 kPa at 0, 10, 20, 30,
/// 40 °C).
#[test]
fn saturation_vapour_pressure_matches_the_crc_table() {
    use super::met::saturation_vapour_pressure_hpa;
    for (t_c, kpa) in [
        (0.0, 0.61121),
        (10.0, 1.2282),
        (20.0, 2.3392),
        (30.0, 4.2467),
        (40.0, 7.3844),
    ] {
        let ours = saturation_vapour_pressure_hpa(t_c + 273.15);
        let rel = ours / (kpa * 10.0) - 1.0;
        assert!(
            rel.abs() < 1e-3,
            "{t_c} °C: {ours} hPa vs {} ({rel:e})",
            kpa * 10.0
        );
    }
}

/// A station's met file drives its dry delay in time (the pressure at the
/// half-way instant gives the same dry delay as a constant `pressure_hpa`
/// of the mean, a different path through the model) and, without `zwd_m`,
/// its wet delay from temperature and humidity: Saastamoinen's ZWD with the
/// vapour pressure from the CRC table's e_s (independent of the formula the
/// code uses for e_s), mapped by GMF.
#[test]
fn a_met_file_gives_the_dry_and_wet_delays_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let met = dir.path().join("km.met");
    std::fs::write(
        &met,
        "# time pressure_hpa temperature_c humidity_pct\n\
         2026-03-14T23:00:00Z 1000.0 20.0 50\n\
         2026-03-15T00:00:00Z  900.0 20.0 50   # a front passes\n",
    )
    .unwrap();
    let start = UtcTime::parse_iso8601("2026-03-14T23:30:00Z").unwrap();
    let end = start.add_seconds(60.0);
    let src = source_keys("pks1921");
    let with_met = STATIONS.replace(
        "name = \"KM\"\n",
        &format!(
            "name = \"KM\"\nmet_file = {:?}\n",
            met.display().to_string()
        ),
    );
    let with_p = STATIONS.replace("name = \"KM\"\n", "name = \"KM\"\npressure_hpa = 950.0\n");
    let a = job_with(src, &start.to_iso8601(), 60.0, "", &with_met);
    let b = job_with(src, &start.to_iso8601(), 60.0, "", &with_p);
    let km = a.stations.iter().position(|s| s.name == "KM").unwrap();
    let ma = DelayModel::new(&a, &a.sources[0], start, end).unwrap();
    let mb = DelayModel::new(&b, &b.sources[0], start, end).unwrap();
    // Half-way between the readings in TT (the file's times are UTC).
    let mid = start.add_seconds(0.0);
    let (sa, sb) = (
        ma.station(&ma.epoch(mid).unwrap(), km)
            .unwrap()
            .sky
            .unwrap(),
        mb.station(&mb.epoch(mid).unwrap(), km)
            .unwrap()
            .sky
            .unwrap(),
    );
    // The station's reception is ~20 ms after g: the pressure then differs
    // from 950 hPa by 100 hPa × 20 ms / 1 h, 6e-7 of itself.
    let rel = sa.dry_delay_s / sb.dry_delay_s - 1.0;
    assert!(
        rel.abs() < 2e-6,
        "dry {:e} vs {:e} ({rel:e})",
        sa.dry_delay_s,
        sb.dry_delay_s
    );
    // Wet: e = 0.5 × f_w × 23.392 hPa (CRC at 20 °C), f_w at 950 hPa, 20 °C.
    let f_w = 1.00062 + 3.14e-6 * 950.0 + 5.6e-7 * 400.0;
    let e = 0.5 * f_w * 23.392;
    let zwd = 0.002277 * (1255.0 / 293.15 + 0.05) * e;
    let crate::job::StationPosition::Itrf(itrf) = a.stations[km].position else {
        unreachable!()
    };
    let g = Geodetic::from_itrf(&itrf);
    let mjd = 61113.0 + (23.5 * 3600.0 + 69.184) / 86400.0;
    let m = Gmf::new(g.lat_rad, g.lon_rad, g.height_m).at(mjd, sa.el_rad.max(ELEVATION_FLOOR_RAD));
    let wet = zwd * m.wet / C;
    eprintln!(
        "KM: ZWD from the met file {zwd:.4} m, wet delay {:.4} ns (expected {:.4})",
        sa.wet_delay_s * 1e9,
        wet * 1e9
    );
    assert!((sa.wet_delay_s / wet - 1.0).abs() < 1e-3);
    // The pressure falls through the hour: the dry delay 20 minutes later
    // is that of 1000 − 100 × 50/60 hPa.
    let later = start.add_seconds(1200.0);
    let ml = DelayModel::new(&a, &a.sources[0], later, later.add_seconds(60.0)).unwrap();
    let dl = ml
        .station(&ml.epoch(later).unwrap(), km)
        .unwrap()
        .sky
        .unwrap();
    let p_later = 1000.0 - 100.0 * 50.0 / 60.0;
    let zhd = saastamoinen_zhd_m(p_later, g.lat_rad, g.height_m);
    let m = Gmf::new(g.lat_rad, g.lon_rad, g.height_m)
        .at(mjd + 1200.0 / 86400.0, dl.el_rad.max(ELEVATION_FLOOR_RAD));
    let rel = dl.dry_delay_s / (zhd * m.hydrostatic / C) - 1.0;
    assert!(rel.abs() < 2e-6, "dry 20 min later: {rel:e}");
}

/// A bad met file: one line naming the key, the file and line, and what is
/// wrong.
#[test]
fn a_bad_met_file_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let met = dir.path().join("km.met");
    for (text, says) in [
        (
            "2026-03-14T23:00:00Z 1000.0\n2026-03-14T22:00:00Z 990.0\n",
            ":2: times are not increasing",
        ),
        (
            "2026-03-14T23:00:00Z 10.0\n",
            ":1: pressure_hpa 10 is outside",
        ),
        ("2026-03-14T23:00:00Z 1000 20\n", ":1: 3 columns"),
        ("# nothing\n", "no met readings"),
    ] {
        std::fs::write(&met, text).unwrap();
        let t = format!(
            "[job]\nname = \"t\"\n[model]\nkernels = [\"k/a.bsp\"]\n[source]\nname = \"S\"\n{}\n[[station]]\nname = \"KM\"\nitrf_m = [-1281152.8, 5640864.4, 2682653.5]\nmet_file = {:?}\n",
            source_keys("pks1921"),
            met.display().to_string()
        );
        let e = Job::from_toml_str(&t, &dir.path().join("job.toml"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(
            e.contains("station[0] (KM).met_file") && e.contains("km.met") && e.contains(says),
            "{e}"
        );
    }
}
