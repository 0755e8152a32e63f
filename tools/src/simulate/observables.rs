//! `emcorr simulate --observables`: the fringe rows a perfect correlator
//! and fringe fitter would give for a session, without baseband.
//!
//! For every scan, source of the scan and baseline A–B of its stations
//! (job order), at the scan's centre g (geocentric UTC):
//!
//! ```text
//! total_delay_s = T_B(g) − T_A(g) + n,   n ~ N(0, σ_τ²)
//! T_s(g) = true geometry (positions moved by inject_offset_m) + the job's
//!          clock + inject_clock_offset_s + inject_clock_rate·(g − t0)
//! ```
//!
//! with t0 the first scan's start (the baseband simulator's reference
//! epoch), and the job's a-priori T_s as `total − mbd`. σ_τ is the
//! radiometric closed form (Thompson, Moran & Swenson, 3rd ed., eq. 9.179):
//!
//! ```text
//! σ_τ = 1 / (2π · SNR · B_rms)
//! SNR = η_A η_B · √(f_A f_B) · √(2 B T)
//! ```
//!
//! f_A, f_B: the source's correlated fraction at each station (the
//! scenario's keys, as the baseband simulator takes them), η: the
//! quantiser's efficiency for `[simulation] bits` (0.94 for 2 bits),
//! B: the total bandwidth of the job's subbands, T: the scan's duration,
//! B_rms: the rms spread of the subbands' frequencies about their mean
//! (each band uniformly filled: B/√12 for one band). The rate gets
//! σ_rate = √12 / (2π · SNR · T · ν_ref) (a linear phase fit over T),
//! the phase σ = 1/SNR rad. Rows are detected when SNR ≥ 7.
//!
//! The fringe phase at ref_freq_hz (the lowest subband edge, f_ref) is
//! consistent with the noiseless true delay to the integer cycle, as a
//! fringe fitter's phase after the a-priori model is:
//!
//! ```text
//! phase = wrap(2π f_ref (T_B − T_A − model) + ψ_B − ψ_A + n_φ),  n_φ ~ N(0, (1/SNR)²)
//! ```
//!
//! with ψ_s an instrumental phase per station and scan, uniform in
//! [0, 2π), common to every source of the scan (a same-beam pair shares
//! it, and its differential phase delay is free of it and of the clocks).
//! ψ comes from its own random stream (seed + [`INSTRUMENTAL_STREAM`]) so
//! that the delay noise of a seed is what it was before phases were
//! simulated.
//!
//! Tides, the axis offset and the a-priori troposphere are in the
//! correlator's model, so the true and a-priori delays both hold them
//! alike. What differs, when the scenario says so:
//! - the zenith wet delay of an Earth station: T_s gains
//!   z_s(g)·m_w(e_s(g))/c (m_w the GMF wet mapping function at the true
//!   elevation, as the model's wet delay is ZWD·m_w/c), z_s = true − a
//!   priori ZWD: `inject_zwd_m` at the first node (the whole hour at or
//!   before the first scan centre) plus a random walk of
//!   `inject_zwd_rw_m_per_sqrt_h` per √h, drawn every
//!   [`ZWD_TRUTH_STEP_S`] (an hour) from its own stream of the seed (the
//!   noise of the rows is the same with or without it) and linear in
//!   between; the
//!   rate gains nothing (a mm per hour is 1e-15 s/s);
//! - troposphere gradients of an Earth station: T_s gains
//!   m_g(e)·(g_n cos a + g_e sin a)/c (IERS Conventions 2010 eq. 9.12, m_g
//!   Chen & Herring 1997, [`gradient_mapping`]; a, e the true sky's
//!   azimuth and elevation, as for the wet delay), (g_n, g_e) =
//!   `inject_gradient_m`, constant over the session (the a priori has
//!   none);
//! - the Earth orientation: the truth's model adds `[simulation]`
//!   `inject_ut1_s`, `inject_xp_rad`, `inject_yp_rad` to the EOP table
//!   (`model.eop_offset`).
//!
//! Not simulated: the ionosphere, bad fringes (the phases carry their
//! integer-cycle ambiguity, which the solve resolves from the group delays).

use super::scenario::Scenario;
use super::session::moved_source;
use super::{job_section, job_table, job_text, quantiser, SimError};
use crate::fringe::output::{to_json, FringeRow};
use crate::solve::parameters::nodes;
use correlator::job::{Job, SourcePosition, StationPosition};
use correlator::model::build_model_for;
use correlator::model::moon::site_me_m;
use correlator::model::relativity::C;
use correlator::model::time_scales::utc_to_tt;
use correlator::model::troposphere::{gradient_mapping, mjd, wet_mapping, DEFAULT_ZWD_M};
use formats::UtcTime;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Offset of the seed of the instrumental phases' random stream.
pub const INSTRUMENTAL_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;

/// SNR below which a row is written as not detected.
pub const SNR_THRESHOLD: f64 = 7.0;

/// Step of the true zenith wet delay's random walk (s): one hour, the
/// solve's default nodes, so that the truth is piecewise linear on them
/// and a solve with hourly (or 30, 20, … min) nodes can represent it. A
/// finer walk departs from the straight line between nodes by up to
/// σ_rw·√Δ/2 (1.5 mm at mid-hour for 3 mm/√h), which no formal σ holds:
/// with 5-min steps the scatter of hourly nodes over their σ was 2.7 over
/// 20 realisations of the standard session (UR's nodes have σ of 0.3–0.6
/// mm: its low elevations give m_w up to 13).
pub const ZWD_TRUTH_STEP_S: f64 = 3600.0;

/// Truth nodes (`STATION:zwd_m@T`, `STATION:clock_offset_s@T`) every hour,
/// as `emcorr solve`'s default `--zwd-interval` and `--clock-interval`.
pub const TRUTH_NODE_INTERVAL_S: f64 = 3600.0;

/// What `--observables` wrote.
#[derive(Debug, Clone)]
pub struct ObservablesSummary {
    pub job: PathBuf,
    pub fringe: PathBuf,
    pub truth: PathBuf,
    pub rows: usize,
}

/// truth.json of an observable simulation.
#[derive(Debug, Clone, Serialize)]
pub struct ObservablesTruth {
    pub reference_epoch: String,
    pub seed: u64,
    /// What `parameters` means.
    pub note: String,
    /// True values under `emcorr solve`'s names and datum (clocks relative
    /// to the first station's, which keeps its a priori; clock offsets at
    /// `reference_epoch`).
    pub parameters: BTreeMap<String, f64>,
    /// The injected errors as the scenario gave them.
    pub stations: BTreeMap<String, StationInjection>,
    pub sources: BTreeMap<String, Option<[f64; 3]>>,
    /// Per Earth station, the true total zenith wet delay every
    /// [`ZWD_TRUTH_STEP_S`]: (UTC, m), linear in between.
    pub zwd_m: BTreeMap<String, Vec<(String, f64)>>,
    /// True − a-priori EOP over the session.
    pub eop_offset: EopOffset,
}

#[derive(Debug, Clone, Serialize)]
pub struct EopOffset {
    pub ut1_s: f64,
    pub xp_rad: f64,
    pub yp_rad: f64,
}

/// The true − a-priori zenith wet delay of a station: a random walk
/// sampled at `t0 + k·ZWD_TRUTH_STEP_S`.
#[derive(Debug, Clone)]
pub struct ZwdWalk {
    pub t0: UtcTime,
    pub z_m: Vec<f64>,
}

impl ZwdWalk {
    /// Linear between samples, held beyond the ends.
    pub fn at(&self, g: UtcTime) -> f64 {
        let x = g.seconds_since(self.t0) / ZWD_TRUTH_STEP_S;
        let n = self.z_m.len();
        if n == 1 || x <= 0.0 {
            return self.z_m[0];
        }
        let k = (x.floor() as usize).min(n - 2);
        let f = (x - k as f64).min(1.0);
        self.z_m[k] * (1.0 - f) + self.z_m[k + 1] * f
    }
}

/// Every station's true − a-priori zwd over [first, last] (zero for a
/// station without injection; random walks from stream 1000 + station
/// index of the seed).
fn zwd_walks(sc: &Scenario, first: UtcTime, last: UtcTime) -> Vec<ZwdWalk> {
    let grid = nodes(first, last, TRUTH_NODE_INTERVAL_S);
    let t0 = grid[0];
    let steps = (grid[grid.len() - 1].seconds_since(t0) / ZWD_TRUTH_STEP_S).round() as usize;
    sc.sim
        .stations
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let mut rng = ChaCha8Rng::seed_from_u64(sc.sim.seed);
            rng.set_stream(1000 + i as u64);
            let step = st.inject_zwd_rw_m_per_sqrt_h * (ZWD_TRUTH_STEP_S / 3600.0).sqrt();
            let mut z = vec![st.inject_zwd_m];
            for _ in 0..steps {
                let n: f64 = StandardNormal.sample(&mut rng);
                z.push(z[z.len() - 1] + step * n);
            }
            ZwdWalk { t0, z_m: z }
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct StationInjection {
    pub clock_offset_s: f64,
    pub clock_rate: f64,
    pub inject_offset_m: Option<[f64; 3]>,
    pub inject_zwd_m: f64,
    pub inject_zwd_rw_m_per_sqrt_h: f64,
    pub inject_gradient_m: [f64; 2],
}

/// Root-mean-square spread of the subbands' frequencies (each band
/// uniformly filled) and their total width, Hz.
pub fn bandwidths(job: &Job) -> (f64, f64) {
    let bands: Vec<(f64, f64)> = job
        .subbands
        .iter()
        .map(|s| {
            let c = match s.sideband {
                correlator::job::Sideband::Upper => s.sky_freq_hz + s.bandwidth_hz / 2.0,
                correlator::job::Sideband::Lower => s.sky_freq_hz - s.bandwidth_hz / 2.0,
            };
            (c, s.bandwidth_hz)
        })
        .collect();
    let total: f64 = bands.iter().map(|b| b.1).sum();
    let mean = bands.iter().map(|b| b.0 * b.1).sum::<f64>() / total;
    let var = bands
        .iter()
        .map(|(c, w)| w * ((c - mean).powi(2) + w * w / 12.0))
        .sum::<f64>()
        / total;
    (var.sqrt(), total)
}

/// The job with every station's position moved by its `inject_offset_m`
/// and the EOP by `inject_ut1_s`, ….
fn true_job(sc: &Scenario, model_job: &Job) -> Job {
    let mut j = model_job.clone();
    if let Some(m) = j.model.as_mut() {
        m.eop_offset = sc.sim.inject_eop;
    }
    for (st, sim) in j.stations.iter_mut().zip(&sc.sim.stations) {
        let Some(d) = sim.inject_offset_m else {
            continue;
        };
        st.position = match &st.position {
            StationPosition::Itrf(x) => {
                StationPosition::Itrf([x[0] + d[0], x[1] + d[1], x[2] + d[2]])
            }
            StationPosition::Moon(m) => {
                let x = site_me_m(m);
                StationPosition::MoonXyz([x[0] + d[0], x[1] + d[1], x[2] + d[2]])
            }
            StationPosition::MoonXyz(x) => {
                StationPosition::MoonXyz([x[0] + d[0], x[1] + d[1], x[2] + d[2]])
            }
            StationPosition::None => StationPosition::None,
        };
    }
    j
}

/// Simulate the observables of session `sc` into `out_dir`.
pub fn simulate_observables(sc: &Scenario, out_dir: &Path) -> Result<ObservablesSummary, SimError> {
    let job = &sc.job;
    let bad = |why: String| SimError::BadInput(format!("{}: {why}", job.file.display()));
    let Some(first) = job.scans.first() else {
        return Err(bad(
            "--observables simulates a session: the scenario has no [[scan]] tables".into(),
        ));
    };
    for (st, sim) in job.stations.iter().zip(&sc.sim.stations) {
        if sim.inject_offset_m.is_some() && matches!(st.position, StationPosition::None) {
            return Err(bad(format!(
                "station {}: inject_offset_m needs a position (it has a delay_poly)",
                st.name
            )));
        }
    }
    let reference = job
        .scans
        .iter()
        .map(|s| s.start)
        .fold(first.start, |m, t| if t < m { t } else { m });
    let mut model_job = job.clone();
    for st in model_job.stations.iter_mut() {
        st.clock.epoch.get_or_insert(reference);
    }
    let truth_job = true_job(sc, &model_job);
    let centres: Vec<UtcTime> = job
        .scans
        .iter()
        .map(|s| s.start.add_seconds(s.duration_s / 2.0))
        .collect();
    let (first_g, last_g) = centres.iter().fold((centres[0], centres[0]), |(a, b), &t| {
        (if t < a { t } else { a }, if t > b { t } else { b })
    });
    let walks = zwd_walks(sc, first_g, last_g);
    let eta = quantiser(sc)?.efficiency();
    let (b_rms, b_total) = bandwidths(job);
    let ref_freq = job
        .subbands
        .iter()
        .map(|s| s.sky_freq_hz)
        .fold(f64::INFINITY, f64::min);
    let integration = job.correlation.integration_s;
    let mut rng = ChaCha8Rng::seed_from_u64(sc.sim.seed);
    let mut gauss = || -> f64 { StandardNormal.sample(&mut rng) };
    let mut inst_rng = ChaCha8Rng::seed_from_u64(sc.sim.seed.wrapping_add(INSTRUMENTAL_STREAM));
    let instrumental: Vec<Vec<f64>> = job
        .scans
        .iter()
        .map(|_| {
            job.stations
                .iter()
                .map(|_| inst_rng.random_range(0.0..std::f64::consts::TAU))
                .collect()
        })
        .collect();

    let mut rows = Vec::new();
    for (i, scan) in job.scans.iter().enumerate() {
        let g = scan.start.add_seconds(scan.duration_s / 2.0);
        let (from, to) = (
            scan.start.add_seconds(-1.0),
            scan.start.add_seconds(scan.duration_s + 1.0),
        );
        let stations = sc.scan_stations(i);
        for k in sc.scan_sources(i) {
            let src = &job.sources[k];
            let offset = sc.sim.sources.get(k).and_then(|s| s.inject_offset_m);
            let true_src = match offset {
                Some(off) => moved_source(src, off).ok_or_else(|| {
                    bad(format!(
                        "source {}: only a source on the Moon takes inject_offset_m",
                        src.name
                    ))
                })?,
                None => src.clone(),
            };
            let model_err = |e: correlator::model::ModelError| SimError::BadInput(e.to_string());
            let apriori = build_model_for(&model_job, src, from, to)
                .map_err(model_err)?
                .delays;
            let truth_tracks =
                build_model_for(&truth_job, &true_src, from, to).map_err(model_err)?;
            let truth = &truth_tracks.delays;
            let t = |s: usize| -> (f64, f64) {
                let sim = &sc.sim.stations[s];
                let d = truth[s].eval(g);
                // The true wet delay beyond the a priori's (module docs).
                let wet = match (&truth_job.stations[s].position, &truth_tracks.skies[s]) {
                    (StationPosition::Itrf(x), Some(sky)) => {
                        let sky = sky.eval(g);
                        let el = sky.el_rad;
                        let [gn, ge] = sim.inject_gradient_m;
                        walks[s].at(g) * wet_mapping(x, el, mjd(utc_to_tt(g))) / C
                            + gradient_mapping(el) * (gn * sky.az_rad.cos() + ge * sky.az_rad.sin())
                                / C
                    }
                    _ => 0.0,
                };
                (
                    d.delay_s
                        + wet
                        + sim.inject_clock_offset_s
                        + sim.inject_clock_rate * g.seconds_since(reference),
                    d.rate + sim.inject_clock_rate,
                )
            };
            for (ai, &a) in stations.iter().enumerate() {
                for &b in &stations[ai + 1..] {
                    let fa = sc.sim.fraction(a, k, &src.name);
                    let fb = sc.sim.fraction(b, k, &src.name);
                    let rho = eta * eta * (fa * fb).sqrt();
                    let snr = rho * (2.0 * b_total * scan.duration_s).sqrt();
                    let sigma_tau = 1.0 / (std::f64::consts::TAU * snr * b_rms);
                    let sigma_rate =
                        12f64.sqrt() / (std::f64::consts::TAU * snr * scan.duration_s * ref_freq);
                    let sigma_phase = 1.0 / snr;
                    let (ta, ra) = t(a);
                    let (tb, rb) = t(b);
                    let (ma, mb) = (apriori[a].eval(g), apriori[b].eval(g));
                    let total = tb - ta + sigma_tau * gauss();
                    let total_rate = rb - ra + sigma_rate * gauss();
                    let model = mb.delay_s - ma.delay_s;
                    let model_rate = mb.rate - ma.rate;
                    let phase = crate::fringe::fit::wrap_pi(
                        std::f64::consts::TAU * ref_freq * ((tb - ta) - model) + instrumental[i][b]
                            - instrumental[i][a]
                            + sigma_phase * gauss(),
                    );
                    rows.push(FringeRow {
                        baseline: format!("{}-{}", job.stations[a].name, job.stations[b].name),
                        scan: i + 1,
                        subband: None,
                        source: src.name.clone(),
                        ref_epoch_utc: g.add_seconds(ma.delay_s).to_iso8601(),
                        ref_station: job.stations[a].name.clone(),
                        geocentre_epoch_utc: g.to_iso8601(),
                        ref_freq_hz: ref_freq,
                        mbd_s: total - model,
                        mbd_sigma_s: sigma_tau,
                        sbd_s: total - model,
                        sbd_sigma_s: sigma_tau,
                        rate_s_per_s: total_rate - model_rate,
                        rate_sigma: sigma_rate,
                        phase_deg: phase.to_degrees(),
                        phase_sigma_deg: sigma_phase.to_degrees(),
                        amplitude: rho,
                        smearing_loss: 1.0,
                        snr,
                        noise_ratio: 1.0,
                        pfd: 0.0,
                        snr_threshold: SNR_THRESHOLD,
                        detected: snr >= SNR_THRESHOLD,
                        total_delay_s: Some(total),
                        total_rate_s_per_s: Some(total_rate),
                        n_periods: (scan.duration_s / integration).round().max(1.0) as usize,
                        duration_s: scan.duration_s,
                        scan_name: Some(scan.name.clone()),
                        mbd_cal_sigma_s: 0.0,
                    });
                }
            }
        }
    }

    std::fs::create_dir_all(out_dir).map_err(super::io_err(out_dir))?;
    let job_path = out_dir.join("job.toml");
    let fringe_path = out_dir.join("fringe.json");
    let truth_path = out_dir.join("truth.json");
    let write = |p: &Path, text: &str| std::fs::write(p, text).map_err(super::io_err(p));
    write(&job_path, &job_toml(sc, reference)?)?;
    write(&fringe_path, &to_json(&rows))?;
    let truth = truth_of(sc, &model_job, reference, (first_g, last_g), &walks);
    write(
        &truth_path,
        &(serde_json::to_string_pretty(&truth).expect("truth serialises") + "\n"),
    )?;
    Ok(ObservablesSummary {
        job: job_path,
        fringe: fringe_path,
        truth: truth_path,
        rows: rows.len(),
    })
}

/// job.toml: the scenario's job keys and scans (a-priori positions and
/// clocks), no recordings; clock rates run from `reference`.
fn job_toml(sc: &Scenario, reference: formats::UtcTime) -> Result<String, SimError> {
    let mut t = job_table(sc)?;
    let jt = job_section(&mut t);
    jt.remove("start");
    jt.remove("duration_s");
    if let Some(toml::Value::Array(sts)) = t.get_mut("station") {
        for (st, s) in sts.iter_mut().zip(&sc.job.stations) {
            let Some(st) = st.as_table_mut() else {
                continue;
            };
            st.remove("file");
            st.remove("files");
            if s.clock.epoch.is_none() && (s.clock.rate != 0.0 || s.clock.lunar_proper_time) {
                st.insert("clock_epoch".into(), reference.to_iso8601().into());
            }
        }
    }
    job_text(&t, "clock and position errors")
}

fn truth_of(
    sc: &Scenario,
    model_job: &Job,
    reference: UtcTime,
    span: (UtcTime, UtcTime),
    walks: &[ZwdWalk],
) -> ObservablesTruth {
    let job = &sc.job;
    let mut p = BTreeMap::new();
    let grid = nodes(span.0, span.1, TRUTH_NODE_INTERVAL_S);
    let troposphere = job.model.as_ref().is_some_and(|m| m.troposphere);
    let mut zwd = BTreeMap::new();
    for (i, (st, walk)) in job.stations.iter().zip(walks).enumerate() {
        if !matches!(st.position, StationPosition::Itrf(_)) {
            continue;
        }
        // The solve's a priori (`parameters::apriori`): the model's zwd.
        let apriori = if troposphere {
            st.weather.zwd_m.unwrap_or(DEFAULT_ZWD_M)
        } else {
            0.0
        };
        for t in &grid {
            p.insert(
                format!("{}:zwd_m@{}", st.name, t.to_iso8601_digits(0)),
                apriori + walk.at(*t),
            );
        }
        // The gradients' a priori is 0 (the model has none).
        let g = sc.sim.stations[i].inject_gradient_m;
        p.insert(format!("{}:grad_n_m", st.name), g[0]);
        p.insert(format!("{}:grad_e_m", st.name), g[1]);
        let series = (0..walk.z_m.len())
            .map(|k| {
                let t = walk.t0.add_seconds(k as f64 * ZWD_TRUTH_STEP_S);
                (t.to_iso8601_digits(0), apriori + walk.z_m[k])
            })
            .collect();
        zwd.insert(st.name.clone(), series);
    }
    let e = sc.sim.inject_eop;
    p.insert("EOP:ut1_s".into(), e.dut1_s);
    p.insert("EOP:xp_rad".into(), e.xp_rad);
    p.insert("EOP:yp_rad".into(), e.yp_rad);
    let (off0, rate0) = (
        sc.sim.stations[0].inject_clock_offset_s,
        sc.sim.stations[0].inject_clock_rate,
    );
    let mut stations = BTreeMap::new();
    for ((st, mst), sim) in job
        .stations
        .iter()
        .zip(&model_job.stations)
        .zip(&sc.sim.stations)
    {
        let c = &mst.clock;
        let epoch = c.epoch.unwrap_or(reference);
        let apriori_offset = c.offset_s + c.rate * reference.seconds_since(epoch);
        p.insert(
            format!("{}:clock_offset_s", st.name),
            apriori_offset + sim.inject_clock_offset_s - off0,
        );
        p.insert(
            format!("{}:clock_rate", st.name),
            c.rate + sim.inject_clock_rate - rate0,
        );
        // Piecewise-linear clock nodes (`clock_pwl`): the same clock at T.
        for t in &grid {
            let dt = t.seconds_since(reference);
            p.insert(
                format!("{}:clock_offset_s@{}", st.name, t.to_iso8601_digits(0)),
                apriori_offset + sim.inject_clock_offset_s - off0
                    + (c.rate + sim.inject_clock_rate - rate0) * dt,
            );
        }
        let d = sim.inject_offset_m.unwrap_or([0.0; 3]);
        let (xyz, names) = match &st.position {
            StationPosition::Itrf(x) => (Some(*x), ["x_m", "y_m", "z_m"]),
            StationPosition::Moon(m) => (Some(site_me_m(m)), ["moon_x_m", "moon_y_m", "moon_z_m"]),
            StationPosition::MoonXyz(x) => (Some(*x), ["moon_x_m", "moon_y_m", "moon_z_m"]),
            StationPosition::None => (None, ["", "", ""]),
        };
        if let Some(x) = xyz {
            for i in 0..3 {
                p.insert(format!("{}:{}", st.name, names[i]), x[i] + d[i]);
            }
        }
        stations.insert(
            st.name.clone(),
            StationInjection {
                clock_offset_s: sim.inject_clock_offset_s,
                clock_rate: sim.inject_clock_rate,
                inject_offset_m: sim.inject_offset_m,
                inject_zwd_m: sim.inject_zwd_m,
                inject_zwd_rw_m_per_sqrt_h: sim.inject_zwd_rw_m_per_sqrt_h,
                inject_gradient_m: sim.inject_gradient_m,
            },
        );
    }
    let mut sources = BTreeMap::new();
    for (k, src) in job.sources.iter().enumerate() {
        let off = sc.sim.sources.get(k).and_then(|s| s.inject_offset_m);
        match &src.position {
            SourcePosition::Moon(m) => {
                let x = site_me_m(m);
                let d = off.unwrap_or([0.0; 3]);
                for (i, n) in ["moon_x_m", "moon_y_m", "moon_z_m"].iter().enumerate() {
                    p.insert(format!("{}:{n}", src.name), x[i] + d[i]);
                }
            }
            SourcePosition::RaDec { ra_rad, dec_rad } => {
                p.insert(format!("{}:ra_rad", src.name), *ra_rad);
                p.insert(format!("{}:dec_rad", src.name), *dec_rad);
            }
            _ => {}
        }
        sources.insert(src.name.clone(), off);
    }
    ObservablesTruth {
        reference_epoch: reference.to_iso8601(),
        seed: sc.sim.seed,
        note: format!(
            "parameters: true values under emcorr solve's names; clocks in its datum (the reference station {} keeps its a-priori clock, so every clock here is the true one minus {}'s injected error), offsets at reference_epoch",
            job.stations[0].name, job.stations[0].name
        ),
        parameters: p,
        stations,
        sources,
        zwd_m: zwd,
        eop_offset: EopOffset {
            ut1_s: e.dut1_s,
            xp_rad: e.xp_rad,
            yp_rad: e.yp_rad,
        },
    }
}
