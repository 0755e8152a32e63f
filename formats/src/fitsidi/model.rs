//! The typed, in-memory description of one FITS-IDI file.
//!
//! Units are in the names (`_hz`, `_s`, `_m`, `_deg`); antenna and source
//! numbers are the 1-based numbers FITS-IDI uses (ANTENNA_NO, SOURCE_ID).

use crate::time::UtcTime;

/// Seconds per day of UTC labels.
pub(crate) const DAY_S: f64 = 86_400.0;

/// Everything but the visibilities and the delay model: the content of the
/// primary header and of the ARRAY_GEOMETRY, ANTENNA, FREQUENCY and SOURCE
/// tables, plus the keywords every table repeats (Memo 114 §3.2).
///
/// One frequency setup (FREQID 1) and one array (ARRAY 1) per file.
#[derive(Debug, Clone, PartialEq)]
pub struct IdiHeader {
    /// OBSCODE: the experiment code.
    pub obscode: String,
    /// TELESCOP (primary header) and ARRNAM (ARRAY_GEOMETRY). CASA's `listobs`
    /// refuses names it does not know, so use one it does (e.g. "VLBA", "EVN").
    pub telescope: String,
    /// CORRELAT (primary header). Not "DIFX": CASA would apply DiFX's
    /// quantisation corrections to our data.
    pub correlator: String,
    /// FXCORVER: version of the software that wrote the file.
    pub correlator_version: String,
    /// RDATE: 0h UTC of the reference day. Every TIME column except UV_DATA's
    /// counts days from here. Must be exactly midnight.
    pub ref_date: UtcTime,
    /// REF_FREQ: the file's reference frequency; band frequencies are offsets.
    pub ref_freq_hz: f64,
    /// NO_CHAN: spectral channels per band.
    pub n_chan: usize,
    /// CHAN_BW: channel width of band 1 (Hz).
    pub chan_bw_hz: f64,
    /// REF_PIXL: 1-based channel whose frequency is `ref_freq_hz + freq_offset_hz`.
    pub ref_pixel: f64,
    /// FREQUENCY table: the bands (IFs), NO_BAND of them.
    pub bands: Vec<IdiBand>,
    /// AIPS polarisation codes, consecutive in the FITS sense (STK_1, then
    /// steps of -1 for negative codes or +1 for Stokes I, Q, U, V): e.g.
    /// `[-1, -2, -3, -4]` = RR, LL, RL, LR. NO_STKD = len.
    pub stokes: Vec<i32>,
    /// ARRAY_GEOMETRY and ANTENNA tables.
    pub antennas: Vec<IdiAntenna>,
    /// SOURCE table.
    pub sources: Vec<IdiSource>,
    /// ARRAYX/Y/Z: array centre, geocentric (m). Zero for a VLBI array.
    pub array_xyz_m: [f64; 3],
    /// Earth-orientation keywords of ARRAY_GEOMETRY.
    pub eop: IdiEop,
    /// The session's scans: the EMCORR_SCAN table (emcorr's own, not in Memo
    /// 114; see [`IdiScan`]). Empty: no table is written, and a file
    /// without one reads back empty.
    pub scans: Vec<IdiScan>,
}

/// One scan of a session: a row of the EMCORR_SCAN table.
///
/// FITS-IDI has no scan table (Memo 114 leaves scans to the SOURCE_ID and
/// time of each row), but astrometry reports observables by the VEX scan
/// name, and a same-beam scan has several sources at the same times, so
/// the scan cannot be inferred from the rows. Rows belong to a scan by
/// their time: UV_DATA rows whose TIME (integration centre) lies in
/// [`start`, `start` + `duration_s`). Scans may overlap in time (subarrays
/// observing different sources); a row then belongs to the scan that lists
/// its SOURCE_ID.
///
/// [`start`]: IdiScan::start
#[derive(Debug, Clone, PartialEq)]
pub struct IdiScan {
    /// SCAN_NAME: the VEX scan name (e.g. "No0001"), 1 to
    /// [`IdiScan::MAX_NAME_LEN`] ASCII characters, unique in the file.
    pub name: String,
    /// TIME: start of the scan, geocentre UTC as UV_DATA's TIME (stored as
    /// days since RDATE, ~10 ps resolution).
    pub start: UtcTime,
    /// TIME_INTERVAL (s), > 0; stored in days as a double.
    pub duration_s: f64,
    /// SOURCE_IDS: the scan's phase centres (SOURCE_IDs of the SOURCE
    /// table), at least one; several for a same-beam scan.
    pub source_ids: Vec<u32>,
}

impl IdiScan {
    /// Width of the SCAN_NAME column (VEX scan names are short, "No0001" or
    /// "345-1200", but a schedule may use longer ones).
    pub const MAX_NAME_LEN: usize = 32;

    /// End of the scan (exclusive).
    pub fn end(&self) -> UtcTime {
        self.start.add_seconds(self.duration_s)
    }
}

/// One band (IF) of the frequency setup: a row element of the FREQUENCY table.
#[derive(Debug, Clone, PartialEq)]
pub struct IdiBand {
    /// BANDFREQ: offset of the band's REF_PIXL channel from REF_FREQ (Hz).
    pub freq_offset_hz: f64,
    /// SIDEBAND: +1 upper, -1 lower.
    pub sideband: i32,
    /// TOTAL_BANDWIDTH (Hz).
    pub total_bw_hz: f64,
    /// CH_WIDTH (Hz).
    pub chan_bw_hz: f64,
}

/// MNTSTA: antenna mount codes of AIPS / Memo 114.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    AltAz,
    Equatorial,
    /// Not fixed to the Earth's surface: space VLBI, and emcorr's lunar
    /// station. Tells AIPS and CASA not to compute an Earth-based parallactic
    /// angle for it.
    Orbiting,
    XY,
    NasmythRight,
    NasmythLeft,
    /// Any other code, kept as read.
    Other(i32),
}

impl Mount {
    pub fn code(self) -> i32 {
        match self {
            Mount::AltAz => 0,
            Mount::Equatorial => 1,
            Mount::Orbiting => 2,
            Mount::XY => 3,
            Mount::NasmythRight => 4,
            Mount::NasmythLeft => 5,
            Mount::Other(c) => c,
        }
    }

    pub fn from_code(code: i32) -> Mount {
        match code {
            0 => Mount::AltAz,
            1 => Mount::Equatorial,
            2 => Mount::Orbiting,
            3 => Mount::XY,
            4 => Mount::NasmythRight,
            5 => Mount::NasmythLeft,
            c => Mount::Other(c),
        }
    }
}

/// One station: an ARRAY_GEOMETRY row plus its ANTENNA row.
///
/// Position convention (FRAME = 'GEOCENTRIC'): Earth-fixed geocentric X, Y, Z
/// (ITRF) in metres at 0h UTC of RDATE, with `vel_m_s` its time derivative in
/// the same frame (DERXYZ). Ground stations have velocity ~0 (plate motion).
/// The lunar station is written the same way: its ITRF position at RDATE 0h
/// (~3.9e8 m from the geocentre) and ITRF velocity (~28 km/s, dominated by the
/// Earth's rotation), with `mount = Mount::Orbiting`. That is only a first-order
/// description for displays and u,v plots; the delays the correlator used are
/// in the INTERFEROMETER_MODEL table, and UVW of every row are exact.
#[derive(Debug, Clone, PartialEq)]
pub struct IdiAntenna {
    /// ANNAME (up to 8 characters).
    pub name: String,
    /// NOSTA / ANTENNA_NO: 1-based antenna number, at most 255 (BASELINE code).
    pub id: u32,
    /// STABXYZ (m).
    pub xyz_m: [f64; 3],
    /// DERXYZ (m/s). Stored as 32-bit floats (Memo 114): ~1e-7 relative.
    pub vel_m_s: [f64; 3],
    /// MNTSTA.
    pub mount: Mount,
    /// STAXOF: axis offset (m), along X (the only component AIPS uses).
    pub axis_offset_m: f64,
    /// DIAMETER (m); 0 if unknown.
    pub diameter_m: f64,
    /// NO_LEVELS: digitiser levels (4 for 2-bit samples).
    pub n_levels: i32,
}

impl IdiAntenna {
    /// Whether this station is not fixed to the Earth (MNTSTA = 2).
    pub fn is_orbiting(&self) -> bool {
        self.mount == Mount::Orbiting
    }
}

/// One SOURCE row. Positions are J2000 mean (RAEPO/DECEPO, EQUINOX 'J2000');
/// RAAPP/DECAPP are written with the same values.
#[derive(Debug, Clone, PartialEq)]
pub struct IdiSource {
    /// SOURCE_ID, 1-based.
    pub id: u32,
    /// SOURCE (up to 16 characters).
    pub name: String,
    /// CALCODE (up to 4 characters; empty for a target).
    pub calcode: String,
    pub ra_deg: f64,
    pub dec_deg: f64,
}

/// Earth-orientation keywords of ARRAY_GEOMETRY (Memo 114 table 10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdiEop {
    /// GSTIA0: Greenwich apparent sidereal time at RDATE 0h (deg).
    pub gst_at_0h_deg: f64,
    /// DEGPDY: Earth rotation rate (deg/day).
    pub earth_rot_deg_per_day: f64,
    /// UT1UTC (s).
    pub ut1_utc_s: f64,
    /// IATUTC: TAI − UTC (s).
    pub iat_utc_s: f64,
    /// POLARX / POLARY (arcsec).
    pub polar_x_arcsec: f64,
    pub polar_y_arcsec: f64,
}

impl Default for IdiEop {
    fn default() -> Self {
        IdiEop {
            gst_at_0h_deg: 0.0,
            earth_rot_deg_per_day: 360.985_647_366_29,
            ut1_utc_s: 0.0,
            iat_utc_s: 37.0,
            polar_x_arcsec: 0.0,
            polar_y_arcsec: 0.0,
        }
    }
}

/// One visibility record: a row of UV_DATA.
#[derive(Debug, Clone, PartialEq)]
pub struct UvRow {
    /// Centre of the integration (DATE + TIME).
    pub time: UtcTime,
    /// (a1, a2), 1-based ANTENNA_NO, a1 <= a2; BASELINE = 256·a1 + a2.
    pub baseline: (u32, u32),
    /// SOURCE_ID.
    pub source_id: u32,
    /// FREQID (1: one setup per file).
    pub freq_id: u32,
    /// INTTIM (s). Stored as a 32-bit float, as CASA reads it.
    pub inttim_s: f64,
    /// UU, VV, WW (s): the baseline vector x_a2 − x_a1 in the source's
    /// tangent-plane frame, over c (-SIN projection).
    pub uvw_s: [f64; 3],
    /// (re, im, weight) in FLUX order: `[band][chan][stokes]`, Stokes fastest;
    /// length NO_BAND × NO_CHAN × NO_STKD. A weight <= 0 means flagged.
    pub vis: Vec<[f32; 3]>,
}

impl UvRow {
    /// Index into `vis` of (band, channel, stokes), all 0-based.
    pub fn index(header: &IdiHeader, band: usize, chan: usize, stokes: usize) -> usize {
        (band * header.n_chan + chan) * header.stokes.len() + stokes
    }
}

/// The delay model the correlator applied for one antenna over one interval: a
/// row of INTERFEROMETER_MODEL (Memo 114 table 15).
///
/// Polynomials are in t = seconds since `time`, coefficient k multiplying t^k;
/// every inner vector has NPOLY terms, every outer vector has one entry per
/// band. The model is the same for both polarisations (written to the _1 and
/// _2 columns alike); the reader returns the _1 columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// Start of the interval (TIME, days since RDATE).
    pub time: UtcTime,
    /// TIME_INTERVAL (s). Stored in days as a 32-bit float (Memo 114): ~1e-7 relative.
    pub interval_s: f64,
    /// ANTENNA_NO.
    pub antenna: u32,
    /// SOURCE_ID.
    pub source_id: u32,
    /// FREQID.
    pub freq_id: u32,
    /// PDELAY_1: phase delay (turns), per band.
    pub pdelay_turns: Vec<Vec<f64>>,
    /// GDELAY_1: group delay (s), per band. Includes the clock.
    pub gdelay_s: Vec<Vec<f64>>,
    /// PRATE_1: phase-delay rate (Hz), per band.
    pub prate_hz: Vec<Vec<f64>>,
    /// GRATE_1: group-delay rate (s/s), per band.
    pub grate_s_s: Vec<Vec<f64>>,
    /// DISP_1 (s at 1 m wavelength) and DDISP_1 (s/s): dispersive delay and rate.
    pub disp_s: f64,
    pub ddisp_s_s: f64,
    /// CLOCK_1 and DCLOCK_1 (s, s/s): the clock offset and rate contained in
    /// GDELAY. Memo 114 keeps these in MODEL_COMPS; emcorr adds them as two
    /// extra IM columns (readers look columns up by name and skip unknown ones)
    /// so that astrometry can separate clock from geometry.
    pub clock_s: f64,
    pub dclock_s_s: f64,
}

/// One row of the PHASE-CAL table: one antenna over one interval.
///
/// The table (AIPS Memo 114's PHASE-CAL: the phase-cal tones a station's
/// receiver chain delivered, extracted by the correlator) is written after
/// UV_DATA ([`crate::fitsidi::IdiWriter::add_pcal`]) and read back by
/// [`crate::fitsidi::IdiReader::pcal`] / [`crate::fitsidi::read_pcal`].
///
/// Every row of a file has the same NO_POL (the length of `freq_hz`, `re`,
/// `im`, `rate`, `state`) and NO_BAND (the file's) bands per polarisation.
/// NO_TABS is the most tones any band of any row has; the writer pads
/// shorter bands with tones of frequency 0.0 and value 0, and the reader
/// returns every band with NO_TABS tones, padding included.
///
/// **Conventions.** A tone's phase, atan2(`im`, `re`), is that of the tone
/// at its SKY frequency (`freq_hz`) as the station's chain delivers it, the
/// same for upper and lower sideband; its amplitude, |(`re`, `im`)|, is in
/// units of the recording's rms: a tone A·cos(2πνt + φ) (peak A, in σ)
/// reads A·(cos φ, sin φ) for real and complex sampling alike.
#[derive(Debug, Clone, PartialEq)]
pub struct PcalRow {
    /// Centre of the interval. TIME: days since RDATE as a double (~10 ps).
    pub time: UtcTime,
    /// TIME_INTERVAL. Stored in days as a 32-bit float (Memo 114): ~1e-7
    /// relative.
    pub time_interval_s: f64,
    /// SOURCE_ID.
    pub source_id: u32,
    /// 1-based ANTENNA_NO.
    pub antenna_no: u32,
    /// FREQID.
    pub freq_id: u32,
    /// CABLE_CAL (s): the measured cable delay, 0 when not measured.
    pub cable_cal_s: f64,
    /// [pol][band][tone] (NO_POL × NO_BAND × NO_TABS): tone sky frequency, Hz
    /// (a band with fewer tones than NO_TABS pads with 0.0 frequency and 0 values).
    /// PC_FREQ_n, doubles.
    pub freq_hz: Vec<Vec<Vec<f64>>>,
    /// [pol][band][tone]: the tone's complex amplitude (real, imaginary).
    /// PC_REAL_n, PC_IMAG_n.
    pub re: Vec<Vec<Vec<f32>>>,
    pub im: Vec<Vec<Vec<f32>>>,
    /// [pol][band][tone]: PC_RATE_n, whose Memo 114 unit is SEC/SEC: the
    /// rate of the tone's phase expressed as a delay rate,
    /// (dφ/dt) / (2π·`freq_hz`), in s/s (not rad/s or Hz).
    pub rate: Vec<Vec<Vec<f32>>>,
    /// [pol][band]: STATE_n (4 state counts; write 0 when not measured).
    pub state: Vec<Vec<[f32; 4]>>,
}

impl PcalRow {
    /// NO_POL of this row.
    pub fn n_pol(&self) -> usize {
        self.freq_hz.len()
    }

    /// The most tones any band of this row has.
    pub fn max_tones(&self) -> usize {
        self.freq_hz
            .iter()
            .flat_map(|p| p.iter().map(|b| b.len()))
            .max()
            .unwrap_or(0)
    }
}

/// A whole file in memory: what [`crate::fitsidi::read_idi`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct IdiFile {
    pub header: IdiHeader,
    pub rows: Vec<UvRow>,
    pub models: Vec<ModelRow>,
}

/// Julian Date at 0h UTC of the day `t` falls in, and the fraction of that day.
pub(crate) fn jd0_and_day_fraction(t: UtcTime) -> (f64, f64) {
    let (mjd, sod) = t.mjd();
    (mjd as f64 + 2_400_000.5, sod / DAY_S)
}

/// Inverse of [`jd0_and_day_fraction`] (also accepts fractions outside [0, 1)).
pub(crate) fn from_jd_and_day_fraction(jd0: f64, frac: f64) -> UtcTime {
    // JD at 0h ends in .5; round to the integer MJD so float noise cannot shift a day.
    let mjd = (jd0 - 2_400_000.5).round() as i64;
    let extra_days = (jd0 - 2_400_000.5) - mjd as f64; // ~0 for a proper JD at 0h
    UtcTime::from_mjd(mjd, 0.0).add_seconds((extra_days + frac) * DAY_S)
}

/// 'YYYY-MM-DD' of a date (RDATE, DATE-OBS).
pub(crate) fn fits_date(t: UtcTime) -> String {
    let (y, m, d, ..) = t.calendar();
    format!("{y:04}-{m:02}-{d:02}")
}
