//! VEX schedules (VLBI Experiment format, VEX 1.5 and 2.0) as sched,
//! pySCHED and the NASA Field System write them: read into a typed model with
//! refs resolved and values in SI units, and written back as VEX 2.0.
//!
//! # API
//!
//! ```text
//! read_vex(path: &Path) -> Result<Vex, VexError>
//! parse_vex(text: &str, file: &str) -> Result<Vex, VexError>
//! write_vex2(v: &Vex) -> String
//! lex::parse_text(text, file) -> Result<VexText, VexError>      the statement level
//! build::build(&VexText) -> Result<Vex, VexError>                statements → model
//!
//! Vex { file, version, exper, global_refs, stations, sources, modes, scans, eop, notes }
//!   .station(code) .source(key) .mode(name) .scan(name) .setup(mode, station)
//!   .scan_setup(&scan, station) -> Result<&Setup, VexError>     "the VEX lacks ..." when absent
//!   .missing(&origin, statement, what) -> VexError               for the session layer's own checks
//! Station { code, site: Site, antenna, das, clock: Vec<ClockEntry>, origin }
//!   .clock_at(t) -> Option<&ClockEntry>;  ClockEntry::offset_at_s(t)
//! Source { key, name, source_type, ra_rad, dec_rad, ref_coord_frame, bsp_file_name, bsp_object_id, .. }
//! Mode { name, setups: Vec<Setup> }.setup(station)
//! Setup { station, sample_rate_hz, channels, datastreams, threads, track_frame_format, tracks_bits }
//!   .channel(chan_id) .thread(id) .channel_sample_rate_hz(&ch) .channel_bits(&ch)
//! Channel { chan_id, band_id, name, sky_freq_hz, sideband, bandwidth_hz, bbc_id, pcal_id,
//!           bbc: Option<BbcAssign>, if_def: Option<IfDef>, record: Option<ThreadSlot>, origin }
//!   .polarisation() .lo_freq_hz() .pcal_interval_hz()
//! Scan { name, start: UtcTime, mode, sources: Vec<ScanSource>, stations: Vec<ScanStation>, origin }
//!   .station(code) .data_good(&st) .data_stop(&st)
//! Eop { def, tai_utc_s, ref_epoch, interval_s, ut1_utc_s, x_wobble_rad, y_wobble_rad }
//! VexError (Deref to VexErrorDetail { file, line, block, def, statement, kind, message }), one line displayed
//! ```
//!
//! # What is read
//!
//! - Structure (VEX 1.5 definition, "Syntax Rules"; [`lex`]): blocks, defs,
//!   scans, `keyword = a : b;` statements, `ref`s with station qualifiers,
//!   quoted strings, `*` comments, literal blocks; every statement keeps its
//!   line. Unknown blocks and statements are skipped with a [`Note`].
//! - `$GLOBAL` refs; `$EXPER`; `$STATION` → `$SITE`, `$ANTENNA`, `$DAS`,
//!   `$CLOCK`; `$SOURCE` (VEX 2.0 `source_type`, `bsp_file_name`,
//!   `bsp_object_id`); `$MODE` → per station `$FREQ` (`chan_def`,
//!   `sample_rate`), `$BBC`, `$IF`, VEX 2.0 `$DATASTREAMS` and `$BITSTREAMS`,
//!   VEX 1.5 `$TRACKS` and DiFX's `$THREADS`; `$SCHED`; `$EOP`.
//! - The VEX 1.5 / 2.0 difference that matters here: in `chan_def`, fields 8
//!   on are frequency-switching states in VEX 1.5, while VEX 2.0 puts the
//!   channel name in field 8 (and allows an empty `chan_id`); `if_def` gains
//!   an IF sample rate in field 8; VDIF threads are `$DATASTREAMS` in VEX 2.0
//!   and DiFX's `$THREADS` in VEX 1.5.
//! - Not followed: external refs (`ref file:$BLOCK = def;`: noted), frequency
//!   switching, orbital elements, TLE and tabulated ephemerides of sources,
//!   `$PHASE_CAL_DETECT`, `$SEFD`, `$PROCEDURES`, `intent`, `pointing_offset`.
//!
//! Errors are one line each: `em2603.vex:123: $FREQ def 8x16MHz: chan_def:
//! bandwidth "16 Mhz": unknown unit "Mhz" (...)`.

pub mod build;
mod error;
pub mod lex;
mod model;
pub mod units;
mod write;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::{Note, Origin, VexError, VexErrorDetail, VexErrorKind};
pub use model::*;
pub use units::{dec_rad_from_dms, ra_rad_from_hms};
pub use write::write_vex2;

/// Reads a VEX file from disk.
pub fn read_vex(path: &Path) -> Result<Vex, VexError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| VexError::io(&name, &e))?;
    // VEX is 7-bit ASCII; comments in the wild carry other bytes, which only
    // matter inside comments, so decode leniently.
    let text = String::from_utf8_lossy(&bytes);
    parse_vex(&text, &name)
}

/// Reads VEX text; `file` names it in messages.
pub fn parse_vex(text: &str, file: &str) -> Result<Vex, VexError> {
    let t = lex::parse_text(text, file)?;
    build::build(&t)
}
