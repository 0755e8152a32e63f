//! VieVS simple observation files (.vso, "VSO format 2" of VieVS's
//! `read_vso`, A. Hellerschmied 2016): text, one observation per line,
//! columns separated by blanks, comment lines starting with '#':
//!
//! `YYYY MM DD hh mm ss.ssssssssssss  STAT1  STAT2  SOURCE  s|q  delay  σ`
//!
//! epoch (the observation's reference epoch: here, as in NGS, the UTC
//! arrival at station 1), station names (at most 8 characters, matched
//! against VieVS's station catalogue), source name, observation type (`q`
//! quasar, `s` satellite/spacecraft: VieVS then takes its orbit from an
//! orbit file), the baseline delay τ₂ − τ₁ and its formal error, both in
//! ns (`read_vso`'s default unit). The format holds no positions, rates,
//! amplitudes or quality codes: VieVS takes positions from its catalogues
//! and orbit files.

use super::{calendar_rounded, short_names, Export, ExportError};
use correlator::job::SourcePosition;

/// Decimals written: epoch seconds (12, as VieVS's template), delay
/// (1e-8 ns) and its σ (1e-6 ns).
pub const EPOCH_DECIMALS: u32 = 12;
pub const DELAY_DECIMALS_NS: usize = 8;
pub const DELAY_SIGMA_DECIMALS_NS: usize = 6;

pub fn write(x: &Export) -> Result<String, ExportError> {
    let job = x.job;
    let stations = short_names(
        job.stations.iter().map(|s| s.name.as_str()),
        8,
        "station",
        &job.file,
    )?;
    let sources = short_names(
        job.sources.iter().map(|s| s.name.as_str()),
        usize::MAX,
        "source",
        &job.file,
    )?;
    let mut out = String::new();
    out.push_str(&format!(
        "# VieVS simple observation file (VSO format 2) written by emcorr export from {} (job {})\n",
        x.fringe_file.display(),
        job.name
    ));
    out.push_str(
        "# epoch (UTC arrival at station 1) | station 1 | station 2 | source | s/q | delay tau2-tau1 [ns] | formal error [ns]\n",
    );
    for s in &x.catalogue.sources {
        if let Some(g) = s.near_field_epoch {
            out.push_str(&format!(
                "# {} is a near-field source (type s): VieVS needs its orbit; geocentric direction at {}: RA {:.9} rad, Dec {:.9} rad\n",
                job.sources[s.source].name,
                g.to_iso8601(),
                s.ra_rad,
                s.dec_rad
            ));
        }
    }
    for s in &x.catalogue.sites {
        if let Some(g) = s.moon_epoch {
            out.push_str(&format!(
                "# {} is a lunar station: VieVS needs its position; ITRS at {}: {:.3} {:.3} {:.3} m\n",
                job.stations[s.station].name,
                g.to_iso8601(),
                s.itrs_m[0],
                s.itrs_m[1],
                s.itrs_m[2]
            ));
        }
    }
    for o in x.obs {
        let (y, mo, d, h, mi, s, units) = calendar_rounded(o.epoch, EPOCH_DECIMALS);
        let kind = match job.sources[o.source].position {
            SourcePosition::RaDec { .. } => 'q',
            _ => 's',
        };
        out.push_str(&format!(
            "{y:04} {mo:02} {d:02} {h:02} {mi:02} {s:02}.{units:0w$} {:<8} {:<8} {:<8} {kind} {:.dd$} {:.sd$}\n",
            stations[o.station_1],
            stations[o.station_2],
            sources[o.source],
            o.delay_s * 1e9,
            o.delay_sigma_s * 1e9,
            w = EPOCH_DECIMALS as usize,
            dd = DELAY_DECIMALS_NS,
            sd = DELAY_SIGMA_DECIMALS_NS,
        ));
    }
    Ok(out)
}
