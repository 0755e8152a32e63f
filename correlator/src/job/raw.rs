//! The job file's TOML shape (serde), before validation: every key the file
//! may hold, unknown keys refused. `validate` turns it into the typed job.

use super::MoonSite;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJob {
    pub(super) job: RawJobSection,
    #[serde(default)]
    pub(super) correlation: Option<RawCorrelation>,
    pub(super) model: Option<RawModel>,
    /// `[source]` (one table) or `[[source]]` (a list): see `validate`.
    pub(super) source: Option<toml::Value>,
    #[serde(default)]
    pub(super) scan: Vec<RawScan>,
    #[serde(default)]
    pub(super) station: Vec<RawStation>,
    #[serde(default)]
    pub(super) subband: Vec<RawSubband>,
    #[serde(default)]
    pub(super) zoom: Vec<RawZoom>,
}

/// `[[zoom]]`: a narrow band cut out of a recorded one at fine resolution.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZoom {
    pub(super) sky_freq_hz: f64,
    pub(super) bandwidth_hz: f64,
    pub(super) channels: i64,
    pub(super) pol: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJobSection {
    pub(super) name: Option<String>,
    pub(super) output: Option<String>,
    pub(super) start: Option<String>,
    pub(super) duration_s: Option<f64>,
    pub(super) vex: Option<String>,
    pub(super) scans: Option<Vec<String>>,
    pub(super) stations: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScan {
    pub(super) name: String,
    pub(super) start: String,
    pub(super) duration_s: f64,
    pub(super) sources: Vec<String>,
    pub(super) stations: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCorrelation {
    pub(super) fft_length: Option<i64>,
    pub(super) integration_s: Option<f64>,
    pub(super) channels: Option<i64>,
    pub(super) window: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModel {
    #[serde(default)]
    pub(super) kernels: Vec<String>,
    pub(super) eop: Option<String>,
    pub(super) interval_s: Option<f64>,
    pub(super) order: Option<i64>,
    pub(super) lunar_coordinates: Option<String>,
    pub(super) solid_tide: Option<bool>,
    pub(super) pole_tide: Option<bool>,
    pub(super) subdaily_eop: Option<bool>,
    pub(super) celestial_pole_offsets: Option<bool>,
    pub(super) troposphere: Option<bool>,
    pub(super) ocean_loading: Option<bool>,
    pub(super) lunar_tide: Option<bool>,
    pub(super) axis_offset: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) name: String,
    pub(super) ra: Option<String>,
    pub(super) dec: Option<String>,
    pub(super) ra_deg: Option<f64>,
    pub(super) dec_deg: Option<f64>,
    pub(super) moon: Option<MoonSite>,
    pub(super) spk_body: Option<i32>,
    pub(super) oem: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDelayPoly {
    pub(super) epoch: String,
    pub(super) coeffs_s: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStation {
    pub(super) name: String,
    pub(super) itrf_m: Option<[f64; 3]>,
    pub(super) itrf_epoch: Option<String>,
    pub(super) velocity_m_per_yr: Option<[f64; 3]>,
    pub(super) axis_type: Option<String>,
    pub(super) axis_offset_m: Option<f64>,
    pub(super) blq: Option<String>,
    pub(super) blq_name: Option<String>,
    pub(super) moon: Option<MoonSite>,
    pub(super) moon_xyz_m: Option<[f64; 3]>,
    pub(super) file: Option<String>,
    pub(super) files: Option<Vec<String>>,
    pub(super) sample_rate_hz: Option<f64>,
    pub(super) clock_offset_s: Option<f64>,
    pub(super) clock_rate: Option<f64>,
    pub(super) clock_epoch: Option<String>,
    #[serde(default)]
    pub(super) lunar_proper_time: bool,
    pub(super) delay_poly: Option<RawDelayPoly>,
    pub(super) sampling: Option<String>,
    pub(super) lo_offset_hz: Option<f64>,
    pub(super) pcal_interval_hz: Option<f64>,
    pub(super) pcal_offset_hz: Option<f64>,
    pub(super) pressure_hpa: Option<f64>,
    pub(super) zwd_m: Option<f64>,
    pub(super) met_file: Option<String>,
    /// `[[station.subband]]`: what this station records, when it differs
    /// from the job's `[[subband]]`.
    #[serde(default)]
    pub(super) subband: Vec<RawSubband>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSubband {
    pub(super) sky_freq_hz: f64,
    pub(super) bandwidth_hz: f64,
    pub(super) sideband: Option<String>,
    pub(super) pol: Option<String>,
    pub(super) thread: Option<i64>,
    pub(super) channel: Option<i64>,
}
