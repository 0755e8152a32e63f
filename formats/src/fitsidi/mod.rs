//! FITS-IDI (AIPS Memo 114, Greisen) output of the correlator, and input of the
//! fringe fitter.
//!
//! # API
//!
//! ```text
//! IdiWriter::create(path: &Path, header: &IdiHeader, models: &[ModelRow]) -> Result<IdiWriter, IdiError>
//! IdiWriter::create_in(target: &OutputTarget, header, models)   // crate::output: what the path is
//! IdiWriter::write_row(&mut self, row: &UvRow) -> Result<(), IdiError>
//! IdiWriter::add_pcal(&mut self, rows: Vec<PcalRow>) -> Result<(), IdiError>  // kept, written by finish
//! IdiWriter::finish(self) -> Result<PathBuf, IdiError>
//! IdiWriter::keep_partial_on_drop(&mut self, keep: bool)
//! read_idi(path: &Path) -> Result<IdiFile { header, rows, models }, IdiError>
//! IdiReader::open(path) / .header() / .models() / .pcal() / .n_rows() / .read_row(i)
//! read_pcal(path: &Path) -> Result<Vec<PcalRow>, IdiError>              // PHASE-CAL; empty = no table
//! IdiHeader.scans: Vec<IdiScan { name, start, duration_s, source_ids }>   // EMCORR_SCAN; empty = no table
//! ```
//!
//! # File layout
//!
//! Empty primary HDU (cfitsio writes it as NAXIS = 1, NAXIS1 = 0 with GROUPS = T,
//! GCOUNT = PCOUNT = 0: a random-groups file of no groups; TELESCOP, CORRELAT,
//! FXCORVER), then binary tables ARRAY_GEOMETRY, ANTENNA, FREQUENCY, SOURCE,
//! INTERFEROMETER_MODEL (only when models are given), EMCORR_SCAN (only when
//! the header lists scans), UV_DATA, and PHASE-CAL after it (only when
//! phase-cal rows were given: [`PcalRow`]). Each table carries Memo 114's
//! common keywords: EXTVER, TABREV, OBSCODE, RDATE, NO_STKD, STK_1, NO_BAND,
//! NO_CHAN, REF_FREQ, CHAN_BW, REF_PIXL. One frequency setup (FREQID 1) and one
//! array (ARRAY 1) per file.
//!
//! **Streaming.** `create` writes all tables but UV_DATA's rows, including the
//! whole delay model (the correlator knows it before it correlates); UV_DATA is
//! the last HDU, so `write_row` appends at the end of the file and memory stays
//! constant however long the run (measured: 4.3 MB peak RSS writing a 12 MB
//! file, 4.5 MB writing 374 MB, ~28,000 rows of 512 cells per second). The file is `<path>.partial` until `finish`
//! renames it; dropping an unfinished writer removes the `.partial` (unless
//! `keep_partial_on_drop(true)`), so no file ever appears under the final name
//! unless it is complete.
//!
//! **UV_DATA.** Columns UU---SIN, VV---SIN, WW---SIN (seconds, 1D), DATE (JD at
//! 0h UTC of the row's day, 1D), TIME (fraction of that day, 1D), BASELINE
//! (256·a1 + a2), FILTER, SOURCE_ID, FREQID, INTTIM (1E: CASA reads it as a
//! float), WEIGHT, GATEID, FLUX. FLUX is a float array with
//! TDIM = (3, NO_STKD, NO_CHAN, NO_BAND, 1, 1) and MAXIS = 6 with CTYPE
//! COMPLEX, STOKES, FREQ, BAND, RA, DEC: (re, im, weight) triplets, Stokes
//! fastest. TIME as a double fraction of a day resolves 86400 s × 2⁻⁵³ ≈ 10 ps,
//! far below any integration; the reader's times agree with the writer's to
//! that level, not bit for bit.
//!
//! **Weights.** The weight of each (band, channel, Stokes) is the third element
//! of its FLUX triplet (MAXIS1 = 3), the classic form: CASA's importfitsidi
//! fills WEIGHT_SPECTRUM from it and flags a weight <= 0. The WEIGHT column
//! (NO_STKD × NO_BAND) holds the channel mean per band and Stokes for readers of
//! the MAXIS1 = 2 form; CASA ignores it when MAXIS1 = 3. WEIGHTYP = 'NORMAL'
//! ('CORRELAT' would make CASA divide the data by the weights).
//!
//! **Lunar station.** ARRAY_GEOMETRY (FRAME 'GEOCENTRIC') has its Earth-fixed
//! (ITRF) position at 0h UTC of RDATE in STABXYZ (~3.9e8 m) and its velocity in
//! that frame in DERXYZ, with MNTSTA = 2 ("orbiting") so that AIPS and CASA do
//! not apply an Earth-based parallactic angle; NUMORB = 0 (ORBPARM empty).
//! This is a first-order description only: the delays the correlator applied
//! are in INTERFEROMETER_MODEL, and the UVW of every row are exact. See
//! [`IdiAntenna`].
//!
//! **INTERFEROMETER_MODEL** (TABREV 2, Memo 114 table 15): per antenna and
//! interval, NPOLY-term polynomials in seconds since TIME, (NPOLY, NO_BAND) per
//! polarisation: PDELAY (turns), GDELAY (s), PRATE (Hz), GRATE (s/s), plus
//! DISP/DDISP, and emcorr's CLOCK_1/DCLOCK_1 (see [`ModelRow`]). Astrometry adds
//! fringe-fit residuals back to GDELAY to get total delays.
//!
//! **EMCORR_SCAN** (emcorr's own; Memo 114 has no scan table): one row per
//! scan of a session ([`IdiScan`]): SCAN_NO 1J (row number), SCAN_NAME 32A
//! (VEX name), TIME 1D and TIME_INTERVAL 1D (start and length, days since
//! RDATE; doubles so that boundaries are exact to ~10 ps), SOURCE_IDS nJ (the
//! phase centres, 0-padded; keyword NO_PHCEN = n). Astrometry needs the scan
//! names, and a same-beam scan (several SOURCE_IDs at the same times) cannot
//! be recovered from UV_DATA alone. A UV_DATA row belongs to the scan whose
//! [TIME, TIME + TIME_INTERVAL) holds its time. CASA's importfitsidi ignores
//! the table with a warning and imports the rest unchanged (checked with CASA
//! 6.7, testdata/casa_scan_check.py); the reader returns no scans for a file
//! without it.
//!
//! **PHASE-CAL** (Memo 114, TABREV 2): one row per antenna and interval
//! ([`PcalRow`]): TIME (centre, days since RDATE, 1D), TIME_INTERVAL (1E),
//! SOURCE_ID, ANTENNA_NO, ARRAY, FREQID, CABLE_CAL (s), and per
//! polarisation STATE_n (4 × NO_BAND), PC_FREQ_n (Hz, doubles), PC_REAL_n,
//! PC_IMAG_n, PC_RATE_n (s/s), each NO_TABS × NO_BAND, tone fastest, without
//! TDIM (CASA 6.7 aborts on it); keywords NO_POL, NO_TABS and NO_TONES (=
//! NO_TABS: the name CASA reads). The rows are only known when the run
//! ends, and UV_DATA must stay last while it grows, so `add_pcal` keeps them
//! and `finish` appends the table after UV_DATA (FITS allows any order;
//! readers, CASA's too, find tables by EXTNAME). No rows: no table, the file
//! byte for byte as without.
//!
//! # Conventions
//!
//! - Visibility: V_AB = ⟨X_A · conj(X_B)⟩ for baseline A–B with A before B
//!   (a1 < a2), BASELINE = 256·a1 + a2. The writer stores V_AB as given, and the
//!   reader returns it as stored. In that form CASA's fringefit sees
//!   V_ij ∝ exp(−2πiν(τ_i − τ_j)) with τ the project's station delay (the
//!   wavefront reaches station s at g + τ_s): a delay injected on station B is
//!   recovered by fringefit with the same sign (checked, testdata/README.md).
//! - UVW: (x_a2 − x_a1) / c projected on the source's (u, v, w) frame, seconds.
//! - Times: UTC. UV_DATA TIME is the centre of the integration; model TIME is
//!   the start of its interval, in days since RDATE.

mod cfits;
mod error;
mod model;
mod read;
mod write;

#[cfg(test)]
mod tests;

pub use error::{FitsFailure, IdiError};
pub use model::{
    IdiAntenna, IdiBand, IdiEop, IdiFile, IdiFx, IdiHeader, IdiScan, IdiSource, ModelRow, Mount,
    PcalRow, UvRow,
};
pub use read::{read_idi, read_pcal, IdiReader};
pub use write::{partial_path, IdiWriter};
