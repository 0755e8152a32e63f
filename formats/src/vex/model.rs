//! The typed VEX model: refs resolved, values in SI units, every element
//! carrying the [`Origin`] it was read from.
//!
//! Names follow the VEX parameter they come from; units are in the field
//! names (`_hz`, `_s`, `_m`, `_rad`, `_m_per_yr`, `_s_per_s`). Link words are
//! stored without their `&`.

use super::error::{Note, Origin, VexError};
use crate::time::UtcTime;

/// Which VEX revision the file declared (`VEX_rev`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexVersion {
    /// VEX 1.x (1.5 as sched, pySCHED and the Field System write it).
    V1_5,
    /// VEX 2.0.
    V2_0,
}

/// A whole VEX file, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Vex {
    /// The file name used in messages.
    pub file: String,
    pub version: VexVersion,
    /// `$EXPER`, through `ref $EXPER` in `$GLOBAL` (or the only def).
    pub exper: Option<Exper>,
    /// The refs of `$GLOBAL`, as written.
    pub global_refs: Vec<GlobalRef>,
    /// `$STATION` defs in file order; each resolved through its refs.
    pub stations: Vec<Station>,
    /// `$SOURCE` defs in file order.
    pub sources: Vec<Source>,
    /// `$MODE` defs in file order, each with the setup of every station it
    /// configures.
    pub modes: Vec<Mode>,
    /// `$SCHED` scans in file order.
    pub scans: Vec<Scan>,
    /// `$EOP` defs referenced from `$GLOBAL`, in ref order.
    pub eop: Vec<Eop>,
    /// What was skipped while reading (unknown blocks and statements,
    /// external refs, repeated statements).
    pub notes: Vec<Note>,
}

/// One `ref $BLOCK = def : qualifier...;` of `$GLOBAL`.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalRef {
    /// Without the `$`.
    pub block: String,
    pub def: String,
    pub origin: Origin,
}

/// `$EXPER`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exper {
    /// The def name.
    pub def: String,
    /// `exper_name` (first field).
    pub name: Option<String>,
    /// `exper_name` second field (VEX 2.0: segment).
    pub segment: Option<String>,
    pub number: Option<String>,
    /// `exper_description`.
    pub description: Option<String>,
    pub pi_name: Option<String>,
    pub pi_email: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub target_correlator: Option<String>,
    /// `exper_nominal_start`.
    pub nominal_start: Option<UtcTime>,
    /// `exper_nominal_stop`.
    pub nominal_stop: Option<UtcTime>,
    pub origin: Origin,
}

/// A station: a `$STATION` def (its name is the station code) and what its
/// refs (and those of `$GLOBAL`) give.
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    /// The def name, e.g. `T6`.
    pub code: String,
    pub site: Site,
    pub antenna: Option<Antenna>,
    pub das: Option<Das>,
    /// `clock_early` entries in file order.
    pub clock: Vec<ClockEntry>,
    pub origin: Origin,
}

/// `$SITE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// `site_type` (`fixed`, `earth_orbit`).
    pub site_type: Option<String>,
    pub name: Option<String>,
    /// `site_ID` (2-character code).
    pub id: Option<String>,
    /// `site_position` x, y, z (m). `None` for a site with no Earth-fixed
    /// position (an orbiting or lunar station).
    pub position_m: Option<[f64; 3]>,
    /// `site_position_epoch`.
    pub position_epoch: Option<UtcTime>,
    /// `site_velocity` (m/yr).
    pub velocity_m_per_yr: Option<[f64; 3]>,
    pub origin: Origin,
}

/// `axis_type` of `$ANTENNA`.
#[derive(Debug, Clone, PartialEq)]
pub enum AxisType {
    /// `az : el`
    AzEl,
    /// `ha : dec` (equatorial)
    HaDec,
    /// `x : yew`
    XYew,
    /// `x : yns`
    XYns,
    /// Anything else, as written with `:` between the fields.
    Other(String),
}

/// `$ANTENNA`.
#[derive(Debug, Clone, PartialEq)]
pub struct Antenna {
    pub axis_type: Option<AxisType>,
    /// `axis_offset` (m).
    pub axis_offset_m: Option<f64>,
    /// `antenna_diam` (m).
    pub diameter_m: Option<f64>,
    pub origin: Origin,
}

/// One VEX 2.0 `equip = type : device : &link : label;` of `$DAS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Equipment {
    /// `rack`, `recorder`, ...
    pub kind: String,
    pub device: String,
    pub link: Option<String>,
    pub label: Option<String>,
}

/// `$DAS` (recording and electronics).
#[derive(Debug, Clone, PartialEq)]
pub struct Das {
    /// VEX 1.5 `record_transport_type` (e.g. `Mark6`).
    pub record_transport_type: Option<String>,
    /// VEX 1.5 `electronics_rack_type` (e.g. `DBBC3`).
    pub electronics_rack_type: Option<String>,
    pub recording_system_id: Option<String>,
    /// VEX 2.0 `equip` statements.
    pub equipment: Vec<Equipment>,
    pub origin: Origin,
}

impl Das {
    /// The recorder: VEX 1.5 `record_transport_type`, or the device of the
    /// first VEX 2.0 `equip = recorder : ...`.
    pub fn recorder(&self) -> Option<&str> {
        self.record_transport_type.as_deref().or_else(|| {
            self.equipment
                .iter()
                .find(|e| e.kind == "recorder")
                .map(|e| e.device.as_str())
        })
    }

    /// The electronics rack: VEX 1.5 `electronics_rack_type`, or the device of
    /// the first VEX 2.0 `equip = rack : ...`.
    pub fn rack(&self) -> Option<&str> {
        self.electronics_rack_type.as_deref().or_else(|| {
            self.equipment
                .iter()
                .find(|e| e.kind == "rack")
                .map(|e| e.device.as_str())
        })
    }
}

/// One `clock_early = valid_from : offset : epoch : rate;` of `$CLOCK`: the
/// station clock is early (ahead) by `offset_s + rate_s_per_s · (t − epoch)`
/// from `valid_from` on.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockEntry {
    /// Start of validity; `None` (empty field): the whole experiment.
    pub valid_from: Option<UtcTime>,
    pub offset_s: f64,
    /// Epoch of `offset_s`.
    pub epoch: Option<UtcTime>,
    /// Rate (s/s); `None` when not given.
    pub rate_s_per_s: Option<f64>,
    pub origin: Origin,
}

impl ClockEntry {
    /// The clock offset at `t` (s): `offset_s + rate · (t − epoch)`; the rate
    /// term only when both rate and epoch are given.
    pub fn offset_at_s(&self, t: UtcTime) -> f64 {
        match (self.rate_s_per_s, self.epoch) {
            (Some(r), Some(e)) => self.offset_s + r * t.seconds_since(e),
            _ => self.offset_s,
        }
    }
}

impl Station {
    /// The `clock_early` entry in force at `t`: the one with the latest
    /// `valid_from` not after `t` (an entry without `valid_from` is in force
    /// from the start; of equal starts the later in the file wins).
    pub fn clock_at(&self, t: UtcTime) -> Option<&ClockEntry> {
        // Option's order puts None (valid from the start) before any epoch.
        let mut best: Option<&ClockEntry> = None;
        for c in &self.clock {
            let in_force = c.valid_from.is_none_or(|v| v <= t);
            if in_force && best.is_none_or(|b| c.valid_from >= b.valid_from) {
                best = Some(c);
            }
        }
        best
    }
}

/// `$SOURCE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The def name (what `source =` in `$SCHED` refers to).
    pub key: String,
    /// `source_name` (the def name when absent).
    pub name: String,
    /// `IAU_name`.
    pub iau_name: Option<String>,
    /// VEX 2.0 `source_type` fields as written: the generic type (`star`,
    /// `bsp`, `tle`, `ephemeris`, `earth_satellite`, `dummy`, ...), then
    /// optional qualifiers (e.g. `calibrator`, `target`). Empty when absent.
    pub source_type: Vec<String>,
    /// `ra` (rad).
    pub ra_rad: Option<f64>,
    /// `dec` (rad).
    pub dec_rad: Option<f64>,
    /// `ref_coord_frame` (`J2000`, `ICRF`, ...).
    pub ref_coord_frame: Option<String>,
    /// `source_position_epoch`.
    pub position_epoch: Option<UtcTime>,
    /// VEX 2.0 `bsp_file_name` (SPICE SPK of a spacecraft).
    pub bsp_file_name: Option<String>,
    /// VEX 2.0 `bsp_object_id` (NAIF ID, as written).
    pub bsp_object_id: Option<String>,
    pub origin: Origin,
}

impl Source {
    /// True for a source whose position comes from an ephemeris (VEX 2.0
    /// `source_type` `bsp`, `tle`, `ephemeris` or `earth_satellite`, or
    /// `bsp_file_name` given) rather than from `ra`/`dec`.
    pub fn is_spacecraft(&self) -> bool {
        self.bsp_file_name.is_some()
            || matches!(
                self.source_type.first().map(String::as_str),
                Some("bsp" | "tle" | "ephemeris" | "earth_satellite")
            )
    }
}

/// Sideband of a channel or IF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sideband {
    /// `U`: the band extends upward from the frequency given.
    Upper,
    /// `L`: the band extends downward.
    Lower,
}

/// Polarisation of an IF (`$IF` `if_def` field 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarisation {
    R,
    L,
    X,
    Y,
    H,
    V,
}

/// A `$MODE` def and the setup it gives each station.
#[derive(Debug, Clone, PartialEq)]
pub struct Mode {
    pub name: String,
    /// One per station with a `$FREQ` in this mode, in `$STATION` order.
    pub setups: Vec<Setup>,
    pub origin: Origin,
}

impl Mode {
    /// The setup of one station.
    pub fn setup(&self, station: &str) -> Option<&Setup> {
        self.setups.iter().find(|s| s.station == station)
    }
}

/// What one station records in one mode: its channels with their IF and
/// BBC, and where each is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub station: String,
    /// `$FREQ` `sample_rate` (samples/s per channel), when given (VEX 1.5;
    /// VEX 2.0 gives it per thread, see [`Setup::channel_sample_rate_hz`]).
    pub sample_rate_hz: Option<f64>,
    /// `chan_def`s in file order.
    pub channels: Vec<Channel>,
    /// VEX 2.0 `$DATASTREAMS` `datastream`s, or the VEX 1.5 `$THREADS`
    /// `format` (then `link` is `None`).
    pub datastreams: Vec<Datastream>,
    /// VEX 2.0 `$DATASTREAMS` or VEX 1.5 `$THREADS` `thread`s, in file order.
    pub threads: Vec<VdifThread>,
    /// VEX 1.5 `$TRACKS` `track_frame_format` (e.g. `VDIF5032`, `MARK5B`).
    pub track_frame_format: Option<String>,
    /// Bits per sample from the `sign`/`mag` bit streams of VEX 1.5 `$TRACKS`
    /// `fanout_def` or VEX 2.0 `$BITSTREAMS` `stream_def` (2 when any `mag`).
    pub tracks_bits: Option<u32>,
    pub origin: Origin,
}

impl Setup {
    /// The channel with that `chan_id`.
    pub fn channel(&self, chan_id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.chan_id == chan_id)
    }

    /// The thread with that VDIF thread ID.
    pub fn thread(&self, thread_id: u32) -> Option<&VdifThread> {
        self.threads.iter().find(|t| t.thread_id == thread_id)
    }

    /// Samples/s of a channel: its thread's sample rate (VEX 2.0), else the
    /// `$FREQ` `sample_rate`.
    pub fn channel_sample_rate_hz(&self, ch: &Channel) -> Option<f64> {
        ch.record
            .and_then(|r| self.thread(r.thread_id))
            .and_then(|t| t.sample_rate_hz)
            .or(self.sample_rate_hz)
    }

    /// Bits per sample of a channel: its thread's, else from `$TRACKS` /
    /// `$BITSTREAMS`.
    pub fn channel_bits(&self, ch: &Channel) -> Option<u32> {
        ch.record
            .and_then(|r| self.thread(r.thread_id))
            .map(|t| t.bits)
            .or(self.tracks_bits)
    }
}

/// One `chan_def` of `$FREQ`, with what `$BBC`, `$IF` and the stream block
/// say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// Field 5 (`&CH01` → `CH01`); empty when a VEX 2.0 file leaves it out.
    pub chan_id: String,
    /// Field 1 (`&X`), when given.
    pub band_id: Option<String>,
    /// VEX 2.0 field 8, the channel name, when given.
    pub name: Option<String>,
    /// Field 2: the sky frequency of the band edge at 0 Hz BBC frequency (Hz).
    pub sky_freq_hz: f64,
    /// Field 3: net sideband.
    pub sideband: Sideband,
    /// Field 4 (Hz).
    pub bandwidth_hz: f64,
    /// Field 6 (`&BBC01` → `BBC01`).
    pub bbc_id: String,
    /// Field 7 (`&L_cal` → `L_cal`), when given.
    pub pcal_id: Option<String>,
    /// The `$BBC` `BBC_assign` of `bbc_id`, when the mode has a `$BBC`.
    pub bbc: Option<BbcAssign>,
    /// The `$IF` `if_def` that BBC is fed from, when the mode has an `$IF`.
    pub if_def: Option<IfDef>,
    /// Where the channel is recorded, when the stream block says so.
    pub record: Option<ThreadSlot>,
    pub origin: Origin,
}

impl Channel {
    /// Polarisation, from the channel's IF.
    pub fn polarisation(&self) -> Option<Polarisation> {
        self.if_def.as_ref().map(|i| i.polarisation)
    }

    /// Total LO of the channel's IF (Hz).
    pub fn lo_freq_hz(&self) -> Option<f64> {
        self.if_def.as_ref().map(|i| i.lo_freq_hz)
    }

    /// Phase-cal tone interval of the channel's IF (Hz); `None` when off or
    /// no IF is known.
    pub fn pcal_interval_hz(&self) -> Option<f64> {
        self.if_def.as_ref().and_then(|i| i.pcal_interval_hz)
    }
}

/// `BBC_assign = &bbc_id : physical_bbc : &if_id;`
#[derive(Debug, Clone, PartialEq)]
pub struct BbcAssign {
    /// Physical BBC number (as written).
    pub physical: String,
    pub if_id: String,
}

/// `if_def = &if_id : physical_name : polarisation : lo : sideband :
/// pcal_interval : pcal_base [: sample_rate (VEX 2.0)];`
#[derive(Debug, Clone, PartialEq)]
pub struct IfDef {
    pub if_id: String,
    /// Physical IF name (`A`, `1N`, ...); VEX 2.0 may leave it empty.
    pub physical_name: Option<String>,
    pub polarisation: Polarisation,
    /// Total LO (Hz).
    pub lo_freq_hz: f64,
    /// Net sideband of the IF.
    pub sideband: Sideband,
    /// Phase-cal tone interval (Hz); `None` when `off`, 0 or not given.
    pub pcal_interval_hz: Option<f64>,
    /// Phase-cal base frequency (Hz).
    pub pcal_base_hz: Option<f64>,
    /// VEX 2.0 field 8: sample rate of IF sampling (samples/s).
    pub sample_rate_hz: Option<f64>,
}

/// Where a channel is recorded: VDIF thread and channel index within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadSlot {
    pub thread_id: u32,
    /// 0-based index of the channel within the thread's frames.
    pub index: u32,
}

/// A VEX 2.0 `datastream = &link : format : label;` or the VEX 1.5
/// `$THREADS` `format = name : extended : rate;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Datastream {
    /// VEX 2.0 link; `None` for VEX 1.5 `$THREADS`.
    pub link: Option<String>,
    /// `VDIF`, ...
    pub format: String,
    /// VEX 2.0 label, or the VEX 1.5 extended-format field.
    pub label: Option<String>,
    /// VEX 1.5 `$THREADS` aggregate data rate (bit/s).
    pub data_rate_bps: Option<f64>,
}

/// One VDIF thread: VEX 2.0 `thread = &ds : &thread : id : nchan : rate :
/// bits : real|complex : bytes;` or VEX 1.5 `$THREADS`
/// `thread = id : backend : recorder : Mbps : nchan : bits : type : ext : bytes;`.
#[derive(Debug, Clone, PartialEq)]
pub struct VdifThread {
    /// VEX 2.0 datastream link.
    pub datastream: Option<String>,
    /// VEX 2.0 thread link.
    pub link: Option<String>,
    /// VDIF thread ID.
    pub thread_id: u32,
    pub n_channels: u32,
    /// Samples/s per channel (VEX 2.0).
    pub sample_rate_hz: Option<f64>,
    pub bits: u32,
    pub complex: bool,
    /// Data bytes per VDIF frame (without header).
    pub frame_data_bytes: Option<u32>,
    /// VEX 1.5 `$THREADS` thread data rate (bit/s).
    pub data_rate_bps: Option<f64>,
}

/// One `$SCHED` scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub name: String,
    /// `start`.
    pub start: UtcTime,
    /// `mode` (a `$MODE` def name).
    pub mode: String,
    /// `source =` statements in order (two or more: sources in one beam).
    pub sources: Vec<ScanSource>,
    /// `station =` statements in order.
    pub stations: Vec<ScanStation>,
    pub origin: Origin,
}

/// `source = key [: pointing_center : correlate : station...];` (the extra
/// fields are VEX 2.0).
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSource {
    /// The `$SOURCE` def name.
    pub key: String,
    /// VEX 2.0 field 2: the antennas point at this source.
    pub pointing_center: Option<bool>,
    /// VEX 2.0 field 3: correlate on this source.
    pub correlate: Option<bool>,
    /// VEX 2.0 fields 4...: the stations this applies to (all when empty).
    pub stations: Vec<String>,
    pub origin: Origin,
}

/// `station = XX : data_good : data_stop : goto_foot : pass : pointsectr : drive;`
#[derive(Debug, Clone, PartialEq)]
pub struct ScanStation {
    pub station: String,
    /// First good data, seconds after the scan's `start`.
    pub data_good_s: f64,
    /// End of good data, seconds after `start`.
    pub data_stop_s: f64,
    /// Field 4 as written (tape footage or disk position, e.g. `0 ft`, `0.000 GB`).
    pub goto_foot: Option<String>,
    pub pass: Option<String>,
    /// Field 6: pointing sector (cable wrap) link.
    pub pointing_sector: Option<String>,
    /// Fields 7...: drive(s).
    pub drives: Vec<String>,
    pub origin: Origin,
}

impl Scan {
    /// This scan's `station =` of one station.
    pub fn station(&self, code: &str) -> Option<&ScanStation> {
        self.stations.iter().find(|s| s.station == code)
    }

    /// When a station's good data starts.
    pub fn data_good(&self, st: &ScanStation) -> UtcTime {
        self.start.add_seconds(st.data_good_s)
    }

    /// When a station's good data stops.
    pub fn data_stop(&self, st: &ScanStation) -> UtcTime {
        self.start.add_seconds(st.data_stop_s)
    }
}

/// `$EOP`.
#[derive(Debug, Clone, PartialEq)]
pub struct Eop {
    pub def: String,
    /// `TAI-UTC` (s).
    pub tai_utc_s: Option<f64>,
    /// `eop_ref_epoch`: epoch of the first point.
    pub ref_epoch: Option<UtcTime>,
    /// `eop_interval` (s) between points.
    pub interval_s: Option<f64>,
    /// `ut1-utc` (s), one per point.
    pub ut1_utc_s: Vec<f64>,
    /// `x_wobble` (rad).
    pub x_wobble_rad: Vec<f64>,
    /// `y_wobble` (rad).
    pub y_wobble_rad: Vec<f64>,
    pub origin: Origin,
}

impl Vex {
    pub fn station(&self, code: &str) -> Option<&Station> {
        self.stations.iter().find(|s| s.code == code)
    }

    /// The `$SOURCE` def of that name (what a scan's `source =` names).
    pub fn source(&self, key: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.key == key)
    }

    pub fn mode(&self, name: &str) -> Option<&Mode> {
        self.modes.iter().find(|m| m.name == name)
    }

    pub fn scan(&self, name: &str) -> Option<&Scan> {
        self.scans.iter().find(|s| s.name == name)
    }

    /// The setup of `station` in `mode`.
    pub fn setup(&self, mode: &str, station: &str) -> Option<&Setup> {
        self.mode(mode).and_then(|m| m.setup(station))
    }

    /// An error saying this VEX lacks `what`, placed at `at`; see
    /// [`VexError::missing`].
    pub fn missing(
        &self,
        at: &Origin,
        statement: Option<&str>,
        what: impl std::fmt::Display,
    ) -> VexError {
        VexError::missing(&self.file, at, statement, what)
    }

    /// The setup of `station` in the mode of `scan`, or an error naming the
    /// scan's `mode` line.
    pub fn scan_setup(&self, scan: &Scan, station: &str) -> Result<&Setup, VexError> {
        self.setup(&scan.mode, station).ok_or_else(|| {
            self.missing(
                &scan.origin,
                Some("mode"),
                format_args!("a $FREQ setup of mode {} for station {station}", scan.mode),
            )
        })
    }
}
