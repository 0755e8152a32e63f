//! Scenario files: a job file plus what only the simulator needs.
//!
//! A scenario has the job file's keys ([job], [correlation], [model],
//! [source], [[station]], [[subband]]) and:
//!
//! ```toml
//! [simulation]
//! seed = 42                    # default 1
//! bits = 2                     # 1, 2, 4 or 8 (default 2)
//! complex = false              # complex (I/Q at rate B) or real (rate 2B) sampling
//! threads = 2                  # optional: spread subbands over this many VDIF threads
//! correlated_fraction = 0.05   # sky power / total power at every station (default 0.05)
//! faults = { invalid_fraction = 0.01 }   # default faults for every station
//!
//! [[station]]                  # … job keys, plus:
//! inject_clock_offset_s = 2.1e-8   # clock error the job's model does not know
//! inject_clock_rate = 3e-11
//! correlated_fraction = 0.1        # overrides [simulation]
//! faults = { missing_ranges_s = [[0.5, 0.6]], truncate_last_frame = true }
//! ```
//!
//! Fault keys (per station, or in [simulation] for all): `invalid_fraction`,
//! `missing_fraction` (of frames, chosen at random), `invalid_ranges_s`,
//! `missing_ranges_s` (lists of [from, to) seconds after the station's first
//! sample), `truncate_last_frame` (cut the file inside its last frame).
//!
//! The job part is validated by the job file's own rules, so a scenario can
//! never describe a job `emcorr correlate` would refuse.

use correlator::job::{Job, JobError, Subband};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The built-in default scenario (Earth–Moon, PKS 1921−293, X band).
pub const DEFAULT_SCENARIO: &str = include_str!("../../../testdata/scenarios/default.toml");

/// Where the built-in scenario "lives": its relative paths (kernels) resolve
/// against the source tree's testdata/scenarios/.
pub fn default_scenario_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata")
        .join("scenarios")
        .join("default.toml")
}

/// A scenario that could not be read or is not valid: one line naming the
/// file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("{file}: key `{key}`: {why}")]
    Key {
        file: PathBuf,
        key: String,
        why: String,
    },
}

/// Faults written into one station's recording.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub invalid_fraction: f64,
    #[serde(default)]
    pub missing_fraction: f64,
    #[serde(default)]
    pub invalid_ranges_s: Vec<[f64; 2]>,
    #[serde(default)]
    pub missing_ranges_s: Vec<[f64; 2]>,
    #[serde(default)]
    pub truncate_last_frame: bool,
}

/// What the simulator adds to one station.
#[derive(Debug, Clone, PartialEq)]
pub struct StationSim {
    pub inject_clock_offset_s: f64,
    pub inject_clock_rate: f64,
    pub correlated_fraction: f64,
    pub faults: Faults,
}

/// `[simulation]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub seed: u64,
    pub bits: u32,
    pub complex: bool,
    /// Per station, in the job's station order.
    pub stations: Vec<StationSim>,
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The job (with `start` and `duration_s` always set, subbands placed on
    /// VDIF threads), paths resolved against the scenario's directory.
    pub job: Job,
    pub sim: Simulation,
    /// The job part as TOML (simulation keys removed), to write job.toml from.
    pub job_table: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSimulation {
    seed: Option<i64>,
    bits: Option<i64>,
    complex: Option<bool>,
    threads: Option<i64>,
    correlated_fraction: Option<f64>,
    faults: Option<Faults>,
}

impl Scenario {
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| JobError::Read {
            file: path.to_path_buf(),
            why: e.to_string(),
        })?;
        Scenario::from_toml_str(&text, path)
    }

    /// The built-in default scenario.
    pub fn default_scenario() -> Result<Scenario, ScenarioError> {
        Scenario::from_toml_str(DEFAULT_SCENARIO, &default_scenario_path())
    }

    /// Parse scenario text as if read from `path` (relative paths resolve
    /// against its directory). `seconds` and `seed` override the file.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let key_err = |key: &str, why: String| ScenarioError::Key {
            file: path.to_path_buf(),
            key: key.to_string(),
            why,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            ScenarioError::Job(JobError::Syntax {
                file: path.to_path_buf(),
                why: e.to_string().lines().next().unwrap_or("").to_string(),
            })
        })?;

        let raw_sim: RawSimulation = match table.remove("simulation") {
            None => RawSimulation {
                seed: None,
                bits: None,
                complex: None,
                threads: None,
                correlated_fraction: None,
                faults: None,
            },
            Some(v) => RawSimulation::deserialize(v)
                .map_err(|e| key_err("simulation", one_line(&e.to_string())))?,
        };
        let seed = raw_sim.seed.unwrap_or(1);
        if seed < 0 {
            return Err(key_err(
                "simulation.seed",
                format!("must be ≥ 0, got {seed}"),
            ));
        }
        let bits = raw_sim.bits.unwrap_or(2);
        if ![1, 2, 4, 8].contains(&bits) {
            return Err(key_err(
                "simulation.bits",
                format!("must be 1, 2, 4 or 8, got {bits}"),
            ));
        }
        let complex = raw_sim.complex.unwrap_or(false);
        let default_fraction = raw_sim.correlated_fraction.unwrap_or(0.05);
        check_fraction(default_fraction, "simulation.correlated_fraction", &key_err)?;
        let default_faults = raw_sim.faults.unwrap_or_default();
        check_faults(&default_faults, "simulation.faults", &key_err)?;

        // Strip the per-station simulation keys before the job sees them.
        let mut station_sims = Vec::new();
        if let Some(toml::Value::Array(stations)) = table.get_mut("station") {
            for (i, st) in stations.iter_mut().enumerate() {
                let Some(st) = st.as_table_mut() else {
                    continue;
                };
                let k = |f: &str| format!("station[{i}].{f}");
                let num = |st: &mut toml::Table, f: &str| -> Result<Option<f64>, ScenarioError> {
                    match st.remove(f) {
                        None => Ok(None),
                        Some(toml::Value::Float(x)) => Ok(Some(x)),
                        Some(toml::Value::Integer(x)) => Ok(Some(x as f64)),
                        Some(other) => {
                            Err(key_err(&k(f), format!("expected a number, got {other}")))
                        }
                    }
                };
                let offset = num(st, "inject_clock_offset_s")?.unwrap_or(0.0);
                let rate = num(st, "inject_clock_rate")?.unwrap_or(0.0);
                let fraction = num(st, "correlated_fraction")?.unwrap_or(default_fraction);
                check_fraction(fraction, &k("correlated_fraction"), &key_err)?;
                if !(offset.is_finite() && offset.abs() < 1.0) {
                    return Err(key_err(
                        &k("inject_clock_offset_s"),
                        format!("implausible offset {offset}"),
                    ));
                }
                if !(rate.is_finite() && rate.abs() < 1e-3) {
                    return Err(key_err(
                        &k("inject_clock_rate"),
                        format!("implausible rate {rate}"),
                    ));
                }
                let faults = match st.remove("faults") {
                    None => default_faults.clone(),
                    Some(v) => Faults::deserialize(v)
                        .map_err(|e| key_err(&k("faults"), one_line(&e.to_string())))?,
                };
                check_faults(&faults, &k("faults"), &key_err)?;
                station_sims.push(StationSim {
                    inject_clock_offset_s: offset,
                    inject_clock_rate: rate,
                    correlated_fraction: fraction,
                    faults,
                });
            }
        }

        // `threads`: place subband i on thread i mod T, channel i div T.
        if let Some(t) = raw_sim.threads {
            if !(1..=1024).contains(&t) {
                return Err(key_err(
                    "simulation.threads",
                    format!("must be 1 to 1024, got {t}"),
                ));
            }
            if let Some(toml::Value::Array(sbs)) = table.get_mut("subband") {
                for (i, sb) in sbs.iter_mut().enumerate() {
                    let Some(sb) = sb.as_table_mut() else {
                        continue;
                    };
                    if sb.contains_key("thread") || sb.contains_key("channel") {
                        return Err(key_err(
                            &format!("subband[{i}].thread"),
                            "give either [simulation] threads or per-subband thread/channel, not both".into(),
                        ));
                    }
                    sb.insert("thread".into(), toml::Value::Integer(i as i64 % t));
                    sb.insert("channel".into(), toml::Value::Integer(i as i64 / t));
                }
            }
        }

        let job = Job::from_toml_table(table.clone(), path)?;
        job.require_subbands()?;
        if job.start.is_none() {
            return Err(key_err("job.start", "a scenario needs a start time".into()));
        }
        if job.duration_s.is_none() {
            return Err(key_err(
                "job.duration_s",
                "a scenario needs a duration".into(),
            ));
        }
        let bw = job.subbands[0].bandwidth_hz;
        if job.subbands.iter().any(|s| s.bandwidth_hz != bw) {
            return Err(key_err(
                "subband.bandwidth_hz",
                "the simulator needs one bandwidth for all subbands (one sample rate per station)"
                    .into(),
            ));
        }
        let rate = if complex { bw } else { 2.0 * bw };
        for (i, s) in job.stations.iter().enumerate() {
            if let Some(r) = s.sample_rate_hz {
                if r != rate {
                    return Err(key_err(
                        &format!("station[{i}] ({}).sample_rate_hz", s.name),
                        format!(
                            "{r} Hz, but {} sampling of {bw} Hz subbands is {rate} Hz",
                            if complex { "complex" } else { "real" }
                        ),
                    ));
                }
            }
        }
        check_layout(&job.subbands, &key_err)?;
        Ok(Scenario {
            job,
            sim: Simulation {
                seed: seed as u64,
                bits: bits as u32,
                complex,
                stations: station_sims,
            },
            job_table: table,
        })
    }

    /// Override the duration (`--seconds`).
    pub fn set_seconds(&mut self, seconds: f64) -> Result<(), ScenarioError> {
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(ScenarioError::Key {
                file: self.job.file.clone(),
                key: "--seconds".into(),
                why: format!("must be a positive number of seconds, got {seconds}"),
            });
        }
        self.job.duration_s = Some(seconds);
        Ok(())
    }

    /// Override the seed (`--seed`).
    pub fn set_seed(&mut self, seed: u64) {
        self.sim.seed = seed;
    }

    /// Sample rate of every station (samples per second per channel).
    pub fn sample_rate_hz(&self) -> f64 {
        let bw = self.job.subbands[0].bandwidth_hz;
        if self.sim.complex {
            bw
        } else {
            2.0 * bw
        }
    }

    /// VDIF threads in ascending order, each with its channel count.
    pub fn threads(&self) -> Vec<(u16, usize)> {
        let mut t: Vec<(u16, usize)> = Vec::new();
        for s in &self.job.subbands {
            match t.iter_mut().find(|(id, _)| *id == s.thread) {
                Some(e) => e.1 = e.1.max(s.channel + 1),
                None => t.push((s.thread, s.channel + 1)),
            }
        }
        t.sort();
        t
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with('^'))
        .collect::<Vec<_>>()
        .join("; ")
}

fn check_fraction(
    f: f64,
    key: &str,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    if (0.0..=1.0).contains(&f) {
        Ok(())
    } else {
        Err(key_err(key, format!("must be from 0 to 1, got {f}")))
    }
}

fn check_faults(
    f: &Faults,
    key: &str,
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    for (name, v) in [
        ("invalid_fraction", f.invalid_fraction),
        ("missing_fraction", f.missing_fraction),
    ] {
        if !(0.0..1.0).contains(&v) {
            return Err(key_err(
                &format!("{key}.{name}"),
                format!("must be in [0, 1), got {v}"),
            ));
        }
    }
    for (name, ranges) in [
        ("invalid_ranges_s", &f.invalid_ranges_s),
        ("missing_ranges_s", &f.missing_ranges_s),
    ] {
        for r in ranges {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] >= 0.0 && r[1] > r[0]) {
                return Err(key_err(
                    &format!("{key}.{name}"),
                    format!(
                        "[{}, {}] is not a range [from, to) of seconds ≥ 0",
                        r[0], r[1]
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every VDIF thread needs the same number of channels, a power of two, with
/// no channel left empty (the writer writes whole frames of all channels).
fn check_layout(
    subbands: &[Subband],
    key_err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    let mut threads: Vec<u16> = subbands.iter().map(|s| s.thread).collect();
    threads.sort();
    threads.dedup();
    let per: Vec<usize> = threads
        .iter()
        .map(|t| subbands.iter().filter(|s| s.thread == *t).count())
        .collect();
    let n = per[0];
    let ok = per.iter().all(|&p| p == n)
        && n.is_power_of_two()
        && threads.iter().all(|t| {
            let mut ch: Vec<usize> = subbands
                .iter()
                .filter(|s| s.thread == *t)
                .map(|s| s.channel)
                .collect();
            ch.sort();
            ch.iter().enumerate().all(|(i, c)| i == *c)
        });
    if ok {
        Ok(())
    } else {
        Err(key_err(
            "subband",
            "the simulator writes every VDIF thread with the same power-of-two number of channels 0…n−1".into(),
        ))
    }
}
