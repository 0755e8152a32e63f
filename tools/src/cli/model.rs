//! `emcorr model JOB.toml`: the delay model the correlator would use, one row
//! per station and step (see README, "emcorr model").

use crate::failure::Failure;
use correlator::job::Job;
use correlator::model::{build_model, job_range, sample_rows};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    /// The job file (TOML); its `[job]` start and duration_s set the range.
    pub job: PathBuf,
    /// Seconds between rows.
    #[arg(long, default_value_t = 10.0)]
    pub step: f64,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

pub fn run(args: ModelArgs) -> Result<(), Failure> {
    if !(args.step.is_finite() && args.step > 0.0) {
        return Err(Failure::BadInput(format!(
            "--step: must be a positive number of seconds, got {}",
            args.step
        )));
    }
    let job = Job::from_file(&args.job).map_err(|e| Failure::BadInput(e.to_string()))?;
    let (start, end) = job_range(&job).map_err(|e| Failure::BadInput(e.to_string()))?;
    let model = build_model(&job, start, end).map_err(|e| Failure::BadInput(e.to_string()))?;
    for w in &model.warnings {
        eprintln!("emcorr: warning: {w}");
    }
    let rows = sample_rows(&model.delays, &model.skies, start, end, args.step);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let io = |e: std::io::Error| Failure::Io(format!("stdout: {e}"));
    match args.format {
        Format::Csv => {
            writeln!(
                out,
                "time_utc,station,delay_s,rate_s_per_s,accel_s_per_s2,dry_delay_s,wet_delay_s,az_deg,el_deg"
            )
            .map_err(io)?;
            for r in &rows {
                // Stations without a sky (lunar, delay_poly): empty fields.
                let sky = match &r.sky {
                    Some(s) => format!(
                        "{:.6e},{:.6e},{:.6},{:.6}",
                        s.dry_delay_s,
                        s.wet_delay_s,
                        s.az_rad.to_degrees(),
                        s.el_rad.to_degrees()
                    ),
                    None => ",,,".into(),
                };
                writeln!(
                    out,
                    "{},{},{:.15e},{:.15e},{:.15e},{sky}",
                    r.time.to_iso8601(),
                    r.station,
                    r.delay.delay_s,
                    r.delay.rate,
                    r.delay.accel_per_s
                )
                .map_err(io)?;
            }
        }
        Format::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "time_utc": r.time.to_iso8601(),
                        "station": r.station,
                        "delay_s": r.delay.delay_s,
                        "rate_s_per_s": r.delay.rate,
                        "accel_s_per_s2": r.delay.accel_per_s,
                        "dry_delay_s": r.sky.map(|s| s.dry_delay_s),
                        "wet_delay_s": r.sky.map(|s| s.wet_delay_s),
                        "az_deg": r.sky.map(|s| s.az_rad.to_degrees()),
                        "el_deg": r.sky.map(|s| s.el_rad.to_degrees()),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &v)
                .map_err(|e| Failure::Io(format!("stdout: {e}")))?;
            writeln!(out).map_err(io)?;
        }
    }
    out.flush().map_err(io)
}
