//! Streaming FITS-IDI writer.
//!
//! Layout of the file, in HDU order (the order DiFX uses, and the one CASA's
//! importfitsidi is exercised with): empty primary, ARRAY_GEOMETRY, ANTENNA,
//! FREQUENCY, SOURCE, INTERFEROMETER_MODEL (when models are given),
//! EMCORR_SCAN (when the header lists scans), UV_DATA, and PHASE-CAL (when
//! phase-cal rows were given) after it.
//! UV_DATA is last while the run lasts so that each `write_row` only appends
//! at the end of the file: cfitsio buffers a few blocks, and memory does not
//! grow with length. The phase-cal tones are only known once the run is
//! over (and a table cannot grow in front of another without moving it), so
//! their rows are buffered by [`IdiWriter::add_pcal`] and PHASE-CAL is
//! appended behind UV_DATA by `finish`: FITS allows any extension order, and
//! readers (AIPS, CASA, ours) find tables by EXTNAME.

use std::path::{Path, PathBuf};

use super::cfits::{CfError, Fits};
use super::error::IdiError;
use crate::output::{OutputTarget, Stage};

use super::model::{
    fits_date, jd0_and_day_fraction, IdiHeader, IdiScan, ModelRow, PcalRow, UvRow, DAY_S,
};

/// Table revisions written (Memo 114): UV_DATA and INTERFEROMETER_MODEL are at
/// revision 2, the others at 1.
const TABREV_UV: i64 = 2;
const TABREV_IM: i64 = 2;
/// Revision of emcorr's own EMCORR_SCAN table (its layout: [`write_scans`]).
const TABREV_SCAN: i64 = 1;
/// Scan starts accepted, in days from RDATE (as the reader's TIME columns).
const MAX_SCAN_DAYS: f64 = 1e5;
/// PHASE-CAL revision: 2, the one with PC_RATE (Memo 114).
const TABREV_PCAL: i64 = 2;

/// Column numbers of UV_DATA, in creation order.
struct UvCols {
    uu: i32,
    vv: i32,
    ww: i32,
    date: i32,
    time: i32,
    baseline: i32,
    filter: i32,
    source: i32,
    freqid: i32,
    inttim: i32,
    weight: i32,
    gateid: i32,
    flux: i32,
}

/// Writes one FITS-IDI file: header tables and the delay model at `create`,
/// then visibility rows one at a time, then `finish`.
///
/// Where the file goes is an [`OutputTarget`]: a regular file is written as
/// `<path>.partial` and renamed to `path` only by [`IdiWriter::finish`], so a
/// crash or an error never leaves a truncated file under the final name; a
/// character device or FIFO gets the finished file copied into it by
/// `finish`. Dropping a writer that was not finished closes and removes what
/// it wrote, unless [`IdiWriter::keep_partial_on_drop`] was asked for (a
/// `.partial` file then stays, e.g. to resume an interrupted run).
pub struct IdiWriter {
    fits: Option<Fits>,
    /// `None` once finished.
    stage: Option<Stage>,
    /// The file being written, as messages name it.
    label: PathBuf,
    /// For messages about content: the output as the caller named it.
    final_path: PathBuf,
    n_band: usize,
    n_chan: usize,
    n_stokes: usize,
    antenna_known: [bool; 256],
    source_ids: Vec<u32>,
    cols: UvCols,
    next_row: i64,
    flux_buf: Vec<f32>,
    weight_buf: Vec<f32>,
    weight_sum: Vec<f64>,
    /// For the tables written at `finish` (their common keywords, RDATE).
    header: IdiHeader,
    /// PHASE-CAL rows given so far, written after UV_DATA at `finish`.
    pcal: Vec<PcalRow>,
}

/// `<path>.partial`: where a file lives until `finish`.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

impl IdiWriter {
    /// [`IdiWriter::create_in`] for `path`, replacing a regular file there
    /// at `finish` (a device or FIFO is written into; a directory is
    /// refused). A stale `<path>.partial` is replaced.
    pub fn create(path: &Path, header: &IdiHeader, models: &[ModelRow]) -> Result<Self, IdiError> {
        let target = OutputTarget::resolve(path, true)?;
        Self::create_in(&target, header, models)
    }

    /// Validate `header` and `models`, create the file where `target` is
    /// assembled and write every table but the visibilities.
    pub fn create_in(
        target: &OutputTarget,
        header: &IdiHeader,
        models: &[ModelRow],
    ) -> Result<Self, IdiError> {
        let path = target.given();
        let invalid = |why: String| IdiError::Invalid {
            path: path.to_path_buf(),
            why,
        };
        validate_header(header).map_err(invalid)?;
        validate_models(header, models).map_err(invalid)?;
        validate_scans(header).map_err(invalid)?;

        let mut stage = target.stage()?;
        let label = stage.label();
        // On error the stage is dropped, which removes what it made.
        let fits = Fits::create(stage.work_path())
            .map_err(|e| fits_err(&label, "creating the file", e))?;
        stage.created()?;

        let mut antenna_known = [false; 256];
        for a in &header.antennas {
            antenna_known[a.id as usize] = true;
        }
        let n_band = header.bands.len();
        let n_stokes = header.stokes.len();
        let mut w = IdiWriter {
            fits: Some(fits),
            stage: Some(stage),
            label,
            final_path: path.to_path_buf(),
            n_band,
            n_chan: header.n_chan,
            n_stokes,
            antenna_known,
            source_ids: header.sources.iter().map(|s| s.id).collect(),
            cols: UvCols {
                uu: 1,
                vv: 2,
                ww: 3,
                date: 4,
                time: 5,
                baseline: 6,
                filter: 7,
                source: 8,
                freqid: 9,
                inttim: 10,
                weight: 11,
                gateid: 12,
                flux: 13,
            },
            next_row: 1,
            flux_buf: vec![0.0; 3 * n_stokes * header.n_chan * n_band],
            weight_buf: vec![0.0; n_stokes * n_band],
            weight_sum: vec![0.0; n_stokes * n_band],
            header: header.clone(),
            pcal: Vec::new(),
        };
        // On error the writer is dropped here, which removes the partial file.
        w.write_header_tables(header, models)?;
        Ok(w)
    }

    /// Keep (`true`) or remove (`false`, the default) the `.partial` file when
    /// the writer is dropped without `finish`. No effect for a device or
    /// FIFO, whose temporary never stays.
    pub fn keep_partial_on_drop(&mut self, keep: bool) {
        if let Some(s) = &mut self.stage {
            s.keep_on_drop(keep);
        }
    }

    /// The `.partial` file being written (`None` for a device or FIFO).
    pub fn partial_path(&self) -> Option<PathBuf> {
        self.stage.as_ref().and_then(|s| s.target().partial_path())
    }

    /// Number of UV_DATA rows written so far.
    pub fn rows_written(&self) -> u64 {
        (self.next_row - 1) as u64
    }

    /// Append one visibility record to UV_DATA.
    pub fn write_row(&mut self, row: &UvRow) -> Result<(), IdiError> {
        let (a1, a2) = row.baseline;
        let invalid = |why: String| IdiError::Invalid {
            path: self.final_path.clone(),
            why: format!("UV_DATA row {}: {why}", self.next_row),
        };
        if a1 > a2
            || a2 > 255
            || !self.antenna_known[a1 as usize]
            || !self.antenna_known[a2 as usize]
        {
            return Err(invalid(format!(
                "baseline ({a1}, {a2}) is not two known antenna numbers with a1 <= a2"
            )));
        }
        if !self.source_ids.contains(&row.source_id) {
            return Err(invalid(format!(
                "SOURCE_ID {} is not in the SOURCE table",
                row.source_id
            )));
        }
        if row.freq_id != 1 {
            return Err(invalid(format!(
                "FREQID {} (only 1 is written)",
                row.freq_id
            )));
        }
        let n_vis = self.n_band * self.n_chan * self.n_stokes;
        if row.vis.len() != n_vis {
            return Err(invalid(format!(
                "{} visibilities, expected NO_BAND × NO_CHAN × NO_STKD = {} × {} × {} = {n_vis}",
                row.vis.len(),
                self.n_band,
                self.n_chan,
                self.n_stokes
            )));
        }

        // FLUX cell and the per-(band, stokes) mean weight for the WEIGHT column.
        self.weight_sum.iter_mut().for_each(|w| *w = 0.0);
        for (i, v) in row.vis.iter().enumerate() {
            self.flux_buf[3 * i..3 * i + 3].copy_from_slice(v);
            let stokes = i % self.n_stokes;
            let band = i / (self.n_stokes * self.n_chan);
            self.weight_sum[band * self.n_stokes + stokes] += v[2] as f64;
        }
        for (w, s) in self.weight_buf.iter_mut().zip(&self.weight_sum) {
            *w = (*s / self.n_chan as f64) as f32;
        }

        let (jd0, day_frac) = jd0_and_day_fraction(row.time);
        let r = self.next_row;
        let c = &self.cols;
        let fits = self.fits.as_mut().expect("writer used after finish");
        let res: Result<(), CfError> = (|| {
            fits.write_f64(c.uu, r, &[row.uvw_s[0]])?;
            fits.write_f64(c.vv, r, &[row.uvw_s[1]])?;
            fits.write_f64(c.ww, r, &[row.uvw_s[2]])?;
            fits.write_f64(c.date, r, &[jd0])?;
            fits.write_f64(c.time, r, &[day_frac])?;
            fits.write_i32(c.baseline, r, &[(256 * a1 + a2) as i32])?;
            fits.write_i32(c.filter, r, &[0])?;
            fits.write_i32(c.source, r, &[row.source_id as i32])?;
            fits.write_i32(c.freqid, r, &[row.freq_id as i32])?;
            fits.write_f32(c.inttim, r, &[row.inttim_s as f32])?;
            fits.write_f32(c.weight, r, &self.weight_buf)?;
            fits.write_i32(c.gateid, r, &[0])?;
            fits.write_f32(c.flux, r, &self.flux_buf)
        })();
        res.map_err(|e| fits_err(&self.label, &format!("writing UV_DATA row {r}"), e))?;
        self.next_row += 1;
        Ok(())
    }

    /// Number of PHASE-CAL rows given so far (written by `finish`).
    pub fn pcal_rows(&self) -> usize {
        self.pcal.len()
    }

    /// Give PHASE-CAL rows (any number of calls, any order): they are checked
    /// now, kept in memory (~20 bytes per tone, band and polarisation of
    /// each row) and written by [`IdiWriter::finish`] as the PHASE-CAL
    /// table, after UV_DATA, in time order (then antenna). No rows, no
    /// table: the file is then byte for byte what it would be without this
    /// call.
    ///
    /// Every row must name an antenna of the header, a SOURCE_ID of the
    /// SOURCE table (or 0: no particular source), have NO_BAND bands per
    /// polarisation in every per-band field, the same number of
    /// polarisations (1 or 2) as the rows before, as many values as
    /// frequencies per band, finite times near RDATE and finite frequencies.
    /// A refused call adds none of its rows.
    pub fn add_pcal(&mut self, rows: Vec<PcalRow>) -> Result<(), IdiError> {
        let mut n_pol = self.pcal.first().map(|r| r.n_pol());
        for (k, r) in rows.iter().enumerate() {
            let why = validate_pcal_row(&self.header, &self.antenna_known, n_pol, r);
            if let Err(why) = why {
                return Err(IdiError::Invalid {
                    path: self.final_path.clone(),
                    why: format!(
                        "PHASE-CAL row {} of this call (antenna {}, {}): {why}",
                        k + 1,
                        r.antenna_no,
                        r.time
                    ),
                });
            }
            n_pol = Some(r.n_pol());
        }
        self.pcal.extend(rows);
        Ok(())
    }

    /// Write the buffered PHASE-CAL rows (if any), close the file and put
    /// it in place (rename a `.partial`, or copy into a device or FIFO);
    /// returns where it went.
    pub fn finish(mut self) -> Result<PathBuf, IdiError> {
        if !self.pcal.is_empty() {
            let mut rows = std::mem::take(&mut self.pcal);
            // Stable: rows of one antenna and time keep their given order.
            rows.sort_by(|a, b| {
                (a.time, a.antenna_no)
                    .partial_cmp(&(b.time, b.antenna_no))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            let fits = self.fits.as_mut().expect("writer finished twice");
            // On error the writer is dropped with the partial file.
            write_pcal(fits, &self.header, &rows)
                .map_err(|e| fits_err(&self.label, "writing table PHASE-CAL", e))?;
        }
        let fits = self.fits.take().expect("writer finished twice");
        // On error the stage is dropped with the writer: the partial goes.
        fits.close()
            .map_err(|e| fits_err(&self.label, "closing the file", e))?;
        let stage = self.stage.take().expect("writer finished twice");
        Ok(stage.commit()?)
    }

    fn write_header_tables(&mut self, h: &IdiHeader, models: &[ModelRow]) -> Result<(), IdiError> {
        let path = self.label.clone();
        let fits = self.fits.as_mut().expect("fresh writer");
        write_primary(fits, h).map_err(|e| fits_err(&path, "writing the primary header", e))?;
        write_array_geometry(fits, h)
            .map_err(|e| fits_err(&path, "writing table ARRAY_GEOMETRY", e))?;
        write_antenna(fits, h).map_err(|e| fits_err(&path, "writing table ANTENNA", e))?;
        write_frequency(fits, h).map_err(|e| fits_err(&path, "writing table FREQUENCY", e))?;
        write_source(fits, h).map_err(|e| fits_err(&path, "writing table SOURCE", e))?;
        if !models.is_empty() {
            write_model(fits, h, models)
                .map_err(|e| fits_err(&path, "writing table INTERFEROMETER_MODEL", e))?;
        }
        if !h.scans.is_empty() {
            write_scans(fits, h).map_err(|e| fits_err(&path, "writing table EMCORR_SCAN", e))?;
        }
        create_uv_data(fits, h).map_err(|e| fits_err(&path, "writing table UV_DATA", e))?;
        Ok(())
    }
}

impl Drop for IdiWriter {
    fn drop(&mut self) {
        // Closed before the stage (a field, dropped after this) removes or
        // keeps the file.
        drop(self.fits.take());
    }
}

fn fits_err(path: &Path, context: &str, e: CfError) -> IdiError {
    IdiError::Fits {
        path: path.to_path_buf(),
        context: context.to_string(),
        error: e.into(),
    }
}

fn validate_header(h: &IdiHeader) -> Result<(), String> {
    let (_, sod) = h.ref_date.mjd();
    if sod != 0.0 {
        return Err(format!("RDATE {} is not 0h UTC", h.ref_date));
    }
    if !(h.ref_freq_hz.is_finite() && h.ref_freq_hz > 0.0) {
        return Err(format!("REF_FREQ {} Hz", h.ref_freq_hz));
    }
    if h.n_chan == 0 {
        return Err("NO_CHAN is 0".into());
    }
    if h.bands.is_empty() {
        return Err("no bands (NO_BAND 0)".into());
    }
    for (i, b) in h.bands.iter().enumerate() {
        if b.sideband != 1 && b.sideband != -1 {
            return Err(format!(
                "band {}: SIDEBAND {} (must be +1 or -1)",
                i + 1,
                b.sideband
            ));
        }
    }
    if h.stokes.is_empty() {
        return Err("no polarisation products (NO_STKD 0)".into());
    }
    let step = if h.stokes[0] < 0 { -1 } else { 1 };
    for (i, s) in h.stokes.iter().enumerate() {
        if *s != h.stokes[0] + step * i as i32 || *s == 0 || *s < -8 || *s > 4 {
            return Err(format!(
                "Stokes codes {:?} are not consecutive AIPS codes (e.g. -1,-2,-3,-4)",
                h.stokes
            ));
        }
    }
    if h.antennas.is_empty() {
        return Err("no antennas".into());
    }
    for (i, a) in h.antennas.iter().enumerate() {
        if a.id == 0 || a.id > 255 {
            return Err(format!(
                "antenna {:?}: number {} not in 1..=255",
                a.name, a.id
            ));
        }
        if h.antennas[..i].iter().any(|b| b.id == a.id) {
            return Err(format!("antenna number {} used twice", a.id));
        }
        if a.name.is_empty() || a.name.len() > 8 || !a.name.is_ascii() {
            return Err(format!(
                "antenna name {:?} must be 1-8 ASCII characters",
                a.name
            ));
        }
    }
    if h.sources.is_empty() {
        return Err("no sources".into());
    }
    for (i, s) in h.sources.iter().enumerate() {
        if s.id == 0 || h.sources[..i].iter().any(|t| t.id == s.id) {
            return Err(format!(
                "source {:?}: SOURCE_ID {} is 0 or used twice",
                s.name, s.id
            ));
        }
        if s.name.len() > 16 || !s.name.is_ascii() || s.calcode.len() > 4 || !s.calcode.is_ascii() {
            return Err(format!(
                "source {:?}: name must be <= 16 and CALCODE <= 4 ASCII characters",
                s.name
            ));
        }
    }
    for t in [
        &h.obscode,
        &h.telescope,
        &h.correlator,
        &h.correlator_version,
    ] {
        if !t.is_ascii() || t.len() > 68 {
            return Err(format!(
                "keyword value {t:?} must be <= 68 ASCII characters"
            ));
        }
    }
    Ok(())
}

fn validate_models(h: &IdiHeader, models: &[ModelRow]) -> Result<(), String> {
    let Some(first) = models.first() else {
        return Ok(());
    };
    let npoly = first.gdelay_s.first().map_or(0, |p| p.len());
    if npoly == 0 {
        return Err("INTERFEROMETER_MODEL: polynomials have no terms".into());
    }
    for (i, m) in models.iter().enumerate() {
        if !h.antennas.iter().any(|a| a.id == m.antenna) {
            return Err(format!(
                "INTERFEROMETER_MODEL row {}: unknown antenna {}",
                i + 1,
                m.antenna
            ));
        }
        if !h.sources.iter().any(|s| s.id == m.source_id) {
            return Err(format!(
                "INTERFEROMETER_MODEL row {}: unknown SOURCE_ID {}",
                i + 1,
                m.source_id
            ));
        }
        for (name, p) in [
            ("PDELAY", &m.pdelay_turns),
            ("GDELAY", &m.gdelay_s),
            ("PRATE", &m.prate_hz),
            ("GRATE", &m.grate_s_s),
        ] {
            if p.len() != h.bands.len() || p.iter().any(|c| c.len() != npoly) {
                return Err(format!(
                    "INTERFEROMETER_MODEL row {}: {name} must have {} bands × NPOLY {npoly} terms",
                    i + 1,
                    h.bands.len()
                ));
            }
        }
    }
    Ok(())
}

fn validate_scans(h: &IdiHeader) -> Result<(), String> {
    for (i, s) in h.scans.iter().enumerate() {
        let at = || format!("EMCORR_SCAN row {} ({:?})", i + 1, s.name);
        if s.name.is_empty()
            || s.name.len() > IdiScan::MAX_NAME_LEN
            || !s.name.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            || s.name.trim() != s.name
        {
            return Err(format!(
                "{}: a scan name must be 1-{} printable ASCII characters without leading or trailing blanks",
                at(),
                IdiScan::MAX_NAME_LEN
            ));
        }
        if h.scans[..i].iter().any(|t| t.name == s.name) {
            return Err(format!("{}: scan name used twice", at()));
        }
        let days = s.start.seconds_since(h.ref_date) / DAY_S;
        if !(days.is_finite() && days.abs() <= MAX_SCAN_DAYS) {
            return Err(format!("{}: start {} is not near RDATE", at(), s.start));
        }
        if !(s.duration_s.is_finite() && s.duration_s > 0.0) {
            return Err(format!(
                "{}: duration {} s (must be positive)",
                at(),
                s.duration_s
            ));
        }
        if s.source_ids.is_empty() {
            return Err(format!("{}: no SOURCE_IDs (a scan has at least one)", at()));
        }
        for (k, id) in s.source_ids.iter().enumerate() {
            if !h.sources.iter().any(|src| src.id == *id) {
                return Err(format!(
                    "{}: SOURCE_ID {id} is not in the SOURCE table",
                    at()
                ));
            }
            if s.source_ids[..k].contains(id) {
                return Err(format!("{}: SOURCE_ID {id} listed twice", at()));
            }
        }
    }
    Ok(())
}

/// EMCORR_SCAN: emcorr's scan table (not in Memo 114, which has none; AIPS
/// and CASA skip tables they do not know, see README). One row per scan, in
/// the order of `h.scans`:
///
/// | column        | form  | unit | content |
/// |---------------|-------|------|---------|
/// | SCAN_NO       | 1J    |      | 1-based row number |
/// | SCAN_NAME     | 32A   |      | VEX scan name |
/// | TIME          | 1D    | DAYS | scan start, days since RDATE (as INTERFEROMETER_MODEL's TIME) |
/// | TIME_INTERVAL | 1D    | DAYS | scan length |
/// | SOURCE_IDS    | nJ    |      | the scan's phase centres, padded with 0 (no SOURCE_ID is 0); n = the most any scan has |
///
/// Keywords: Memo 114's common ones (EXTVER 1, TABREV 1, OBSCODE, RDATE,
/// NO_STKD, ...) and NO_PHCEN = n. Doubles, not Memo 114's 1E intervals:
/// a float's 1e-7 of a day (9 ms) could move a scan boundary across an
/// integration.
fn write_scans(f: &mut Fits, h: &IdiHeader) -> Result<(), CfError> {
    let width = h
        .scans
        .iter()
        .map(|s| s.source_ids.len())
        .max()
        .unwrap_or(1);
    f.create_bintable(
        "EMCORR_SCAN",
        &[
            ("SCAN_NO", "1J".into(), ""),
            ("SCAN_NAME", format!("{}A", IdiScan::MAX_NAME_LEN), ""),
            ("TIME", "1D".into(), "DAYS"),
            ("TIME_INTERVAL", "1D".into(), "DAYS"),
            ("SOURCE_IDS", format!("{width}J"), ""),
        ],
    )?;
    common_keys(f, h, TABREV_SCAN)?;
    f.key_int(
        "NO_PHCEN",
        width as i64,
        "SOURCE_IDS per row (phase centres), 0-padded",
    )?;
    for (i, s) in h.scans.iter().enumerate() {
        let r = i as i64 + 1;
        let mut ids = vec![0i32; width];
        for (slot, id) in ids.iter_mut().zip(&s.source_ids) {
            *slot = *id as i32;
        }
        f.write_i32(1, r, &[r as i32])?;
        f.write_str(2, r, &s.name)?;
        f.write_f64(3, r, &[s.start.seconds_since(h.ref_date) / DAY_S])?;
        f.write_f64(4, r, &[s.duration_s / DAY_S])?;
        f.write_i32(5, r, &ids)?;
    }
    Ok(())
}

/// Why `r` cannot be a PHASE-CAL row of a file with header `h` (antennas
/// `known`), after rows of `n_pol` polarisations.
fn validate_pcal_row(
    h: &IdiHeader,
    known: &[bool; 256],
    n_pol: Option<usize>,
    r: &PcalRow,
) -> Result<(), String> {
    if r.antenna_no == 0 || r.antenna_no > 255 || !known[r.antenna_no as usize] {
        return Err(format!("ANTENNA_NO {} is not in the header", r.antenna_no));
    }
    if r.source_id != 0 && !h.sources.iter().any(|s| s.id == r.source_id) {
        return Err(format!(
            "SOURCE_ID {} is not in the SOURCE table",
            r.source_id
        ));
    }
    if r.freq_id == 0 || r.freq_id > i32::MAX as u32 {
        return Err(format!("FREQID {} (must be >= 1)", r.freq_id));
    }
    let days = r.time.seconds_since(h.ref_date) / DAY_S;
    if !(days.is_finite() && days.abs() <= MAX_SCAN_DAYS) {
        return Err(format!("TIME {} is not near RDATE", r.time));
    }
    if !(r.time_interval_s.is_finite() && r.time_interval_s >= 0.0) {
        return Err(format!(
            "TIME_INTERVAL {} s (must be >= 0)",
            r.time_interval_s
        ));
    }
    if !r.cable_cal_s.is_finite() {
        return Err(format!("CABLE_CAL {} s is not finite", r.cable_cal_s));
    }
    let np = r.n_pol();
    if !(1..=2).contains(&np) {
        return Err(format!("{np} polarisations (NO_POL must be 1 or 2)"));
    }
    if let Some(n) = n_pol {
        if n != np {
            return Err(format!(
                "{np} polarisations, earlier rows have {n} (one NO_POL per table)"
            ));
        }
    }
    let nb = h.bands.len();
    for (name, len) in [
        ("re", r.re.len()),
        ("im", r.im.len()),
        ("rate", r.rate.len()),
        ("state", r.state.len()),
    ] {
        if len != np {
            return Err(format!("{name} has {len} polarisations, freq_hz has {np}"));
        }
    }
    for p in 0..np {
        if r.state[p].len() != nb {
            return Err(format!(
                "state of polarisation {}: {} bands, NO_BAND is {nb}",
                p + 1,
                r.state[p].len()
            ));
        }
        if r.freq_hz[p].len() != nb {
            return Err(format!(
                "freq_hz of polarisation {}: {} bands, NO_BAND is {nb}",
                p + 1,
                r.freq_hz[p].len()
            ));
        }
        for b in 0..nb {
            let n = r.freq_hz[p][b].len();
            for (name, v) in [("re", &r.re), ("im", &r.im), ("rate", &r.rate)] {
                let m = v[p].get(b).map_or(0, |t| t.len());
                if v[p].len() != nb || m != n {
                    return Err(format!(
                        "polarisation {} band {}: {name} has {m} tones, freq_hz has {n}",
                        p + 1,
                        b + 1
                    ));
                }
            }
            if let Some(f) = r.freq_hz[p][b].iter().find(|f| !f.is_finite()) {
                return Err(format!(
                    "polarisation {} band {}: tone frequency {f} Hz is not finite",
                    p + 1,
                    b + 1
                ));
            }
        }
    }
    Ok(())
}

/// PHASE-CAL (Memo 114; TABREV 2): one row per antenna and interval, in the
/// order given.
///
/// | column        | form         | unit    | content |
/// |---------------|--------------|---------|---------|
/// | TIME          | 1D           | DAYS    | centre of the interval, days since RDATE |
/// | TIME_INTERVAL | 1E           | DAYS    | its length |
/// | SOURCE_ID     | 1J           |         | |
/// | ANTENNA_NO    | 1J           |         | |
/// | ARRAY         | 1J           |         | 1 |
/// | FREQID        | 1J           |         | |
/// | CABLE_CAL     | 1D           | SECONDS | |
/// | STATE_n       | (4·NO_BAND)E |         | state counts, 4 per band |
/// | PC_FREQ_n     | (NO_TABS·NO_BAND)D | HZ | tone sky frequency, tone fastest, 0 = padding |
/// | PC_REAL_n, PC_IMAG_n | (NO_TABS·NO_BAND)E | | the tone's complex amplitude |
/// | PC_RATE_n     | (NO_TABS·NO_BAND)E | SEC/SEC | rate of the tone's phase as a delay rate |
///
/// n = 1 and, with NO_POL = 2, 2 (the four STATE/PC columns per
/// polarisation, STATE_1 … PC_RATE_1 then STATE_2 … PC_RATE_2). Keywords:
/// the common ones, NO_POL and NO_TABS (tones per band, at least 1), and
/// NO_TONES = NO_TABS, the name CASA's importfitsidi reads.
///
/// No TDIM: the arrays are flat, their shape given by NO_TABS and NO_BAND
/// (as DiFX writes them). With TDIM (NO_TABS, NO_BAND) CASA 6.7's
/// importfitsidi aborts the whole process ("ArraySlicerError: Shape
/// IPosition-lengths differ from ndim()"): testdata/casa_pcal_check.py.
fn write_pcal(f: &mut Fits, h: &IdiHeader, rows: &[PcalRow]) -> Result<(), CfError> {
    let nb = h.bands.len();
    let np = rows[0].n_pol();
    let nt = rows.iter().map(|r| r.max_tones()).max().unwrap_or(0).max(1);
    let per_pol = [
        [
            "STATE_1",
            "PC_FREQ_1",
            "PC_REAL_1",
            "PC_IMAG_1",
            "PC_RATE_1",
        ],
        [
            "STATE_2",
            "PC_FREQ_2",
            "PC_REAL_2",
            "PC_IMAG_2",
            "PC_RATE_2",
        ],
    ];
    let tones = nt * nb;
    let mut cols: Vec<(&str, String, &str)> = vec![
        ("TIME", "1D".into(), "DAYS"),
        ("TIME_INTERVAL", "1E".into(), "DAYS"),
        ("SOURCE_ID", "1J".into(), ""),
        ("ANTENNA_NO", "1J".into(), ""),
        ("ARRAY", "1J".into(), ""),
        ("FREQID", "1J".into(), ""),
        ("CABLE_CAL", "1D".into(), "SECONDS"),
    ];
    for names in per_pol.iter().take(np) {
        cols.push((names[0], format!("{}E", 4 * nb), ""));
        cols.push((names[1], format!("{tones}D"), "HZ"));
        cols.push((names[2], format!("{tones}E"), ""));
        cols.push((names[3], format!("{tones}E"), ""));
        cols.push((names[4], format!("{tones}E"), "SEC/SEC"));
    }
    f.create_bintable("PHASE-CAL", &cols)?;
    common_keys(f, h, TABREV_PCAL)?;
    f.key_int("NO_POL", np as i64, "number of polarisations")?;
    f.key_int("NO_TABS", nt as i64, "phase-cal tones per band (max)")?;
    // CASA's importfitsidi takes the tone count from NO_TONES (without it
    // it fills its PHASE_CAL subtable with zero tones).
    f.key_int("NO_TONES", nt as i64, "= NO_TABS, the keyword CASA reads")?;
    let mut freq = vec![0f64; tones];
    let mut vals = vec![0f32; tones];
    let mut state = vec![0f32; 4 * nb];
    for (i, r) in rows.iter().enumerate() {
        let row = i as i64 + 1;
        let days = r.time.seconds_since(h.ref_date) / DAY_S;
        let head = (r.time_interval_s, r.source_id, r.antenna_no, r.freq_id);
        write_antenna_row_head(f, row, days, head)?;
        f.write_f64(7, row, &[r.cable_cal_s])?;
        for p in 0..np {
            let c0 = 8 + 5 * p as i32;
            for (b, s) in r.state[p].iter().enumerate() {
                state[4 * b..4 * b + 4].copy_from_slice(s);
            }
            f.write_f32(c0, row, &state)?;
            // Tone fastest, padded with zeros to NO_TABS per band.
            freq.fill(0.0);
            for (b, band) in r.freq_hz[p].iter().enumerate() {
                freq[b * nt..b * nt + band.len()].copy_from_slice(band);
            }
            f.write_f64(c0 + 1, row, &freq)?;
            for (k, v) in [&r.re, &r.im, &r.rate].into_iter().enumerate() {
                vals.fill(0.0);
                for (b, band) in v[p].iter().enumerate() {
                    vals[b * nt..b * nt + band.len()].copy_from_slice(band);
                }
                f.write_f32(c0 + 2 + k as i32, row, &vals)?;
            }
        }
    }
    Ok(())
}

/// Keywords Memo 114 §3.2 asks every FITS-IDI table to carry.
fn common_keys(f: &mut Fits, h: &IdiHeader, tabrev: i64) -> Result<(), CfError> {
    f.key_int("EXTVER", 1, "array / table version")?;
    f.key_int("TABREV", tabrev, "table revision (AIPS Memo 114)")?;
    f.key_str("OBSCODE", &h.obscode, "observation code")?;
    f.key_str("RDATE", &fits_date(h.ref_date), "reference date")?;
    f.key_int(
        "NO_STKD",
        h.stokes.len() as i64,
        "number of polarisation products",
    )?;
    f.key_int("STK_1", h.stokes[0] as i64, "first polarisation code")?;
    f.key_int("NO_BAND", h.bands.len() as i64, "number of bands")?;
    f.key_int("NO_CHAN", h.n_chan as i64, "channels per band")?;
    f.key_f64("REF_FREQ", h.ref_freq_hz, "reference frequency (Hz)")?;
    f.key_f64("CHAN_BW", h.chan_bw_hz, "channel width of band 1 (Hz)")?;
    f.key_f64("REF_PIXL", h.ref_pixel, "reference channel (1-based)")?;
    Ok(())
}

fn write_primary(f: &mut Fits, h: &IdiHeader) -> Result<(), CfError> {
    // Memo 114 §3.1: no primary data, GROUPS = T with GCOUNT = PCOUNT = 0 so
    // that old random-groups readers see an empty file of groups.
    f.create_empty_primary()?;
    f.key_bool("EXTEND", true, "")?;
    f.key_bool("BLOCKED", true, "")?;
    f.key_str("OBJECT", "BINARYTB", "")?;
    f.key_str("TELESCOP", &h.telescope, "")?;
    f.key_str("OBSERVER", &h.obscode, "")?;
    f.key_str("ORIGIN", "emcorr", "")?;
    f.key_str("CORRELAT", &h.correlator, "correlator")?;
    f.key_str(
        "FXCORVER",
        &h.correlator_version,
        "correlator software version",
    )?;
    f.key_str("DATE-OBS", &fits_date(h.ref_date), "")?;
    f.key_bool("GROUPS", true, "")?;
    f.key_int("GCOUNT", 0, "")?;
    f.key_int("PCOUNT", 0, "")?;
    f.history("written by emcorr formats::fitsidi (AIPS Memo 114 FITS-IDI)")?;
    Ok(())
}

fn write_array_geometry(f: &mut Fits, h: &IdiHeader) -> Result<(), CfError> {
    // Memo 114 table 10. NUMORB = 0: the lunar station has no Keplerian
    // geocentric orbit worth the name, so ORBPARM is an empty (0D) column and
    // its motion is given by DERXYZ (see IdiAntenna).
    f.create_bintable(
        "ARRAY_GEOMETRY",
        &[
            ("ANNAME", "8A".into(), ""),
            ("STABXYZ", "3D".into(), "METERS"),
            ("DERXYZ", "3E".into(), "METERS/SEC"),
            ("ORBPARM", "0D".into(), ""),
            ("NOSTA", "1J".into(), ""),
            ("MNTSTA", "1J".into(), ""),
            ("STAXOF", "3E".into(), "METERS"),
            ("DIAMETER", "1E".into(), "METERS"),
        ],
    )?;
    common_keys(f, h, 1)?;
    f.key_str("ARRNAM", &h.telescope, "array name")?;
    f.key_str("FRAME", "GEOCENTRIC", "coordinate frame")?;
    f.key_f64("ARRAYX", h.array_xyz_m[0], "array centre X (m)")?;
    f.key_f64("ARRAYY", h.array_xyz_m[1], "array centre Y (m)")?;
    f.key_f64("ARRAYZ", h.array_xyz_m[2], "array centre Z (m)")?;
    f.key_int("NUMORB", 0, "number of orbital parameters")?;
    f.key_f64("FREQ", h.ref_freq_hz, "reference frequency (Hz)")?;
    f.key_str("TIMSYS", "UTC", "time system")?;
    f.key_str("TIMESYS", "UTC", "time system")?;
    f.key_f64("GSTIA0", h.eop.gst_at_0h_deg, "GST at 0h on RDATE (deg)")?;
    f.key_f64(
        "DEGPDY",
        h.eop.earth_rot_deg_per_day,
        "Earth rotation rate (deg/day)",
    )?;
    f.key_f64("UT1UTC", h.eop.ut1_utc_s, "UT1 - UTC (s)")?;
    f.key_f64("IATUTC", h.eop.iat_utc_s, "TAI - UTC (s)")?;
    f.key_f64("POLARX", h.eop.polar_x_arcsec, "pole X (arcsec)")?;
    f.key_f64("POLARY", h.eop.polar_y_arcsec, "pole Y (arcsec)")?;
    for (i, a) in h.antennas.iter().enumerate() {
        let r = i as i64 + 1;
        f.write_str(1, r, &a.name)?;
        f.write_f64(2, r, &a.xyz_m)?;
        f.write_f32(3, r, &a.vel_m_s.map(|v| v as f32))?;
        f.write_i32(5, r, &[a.id as i32])?;
        f.write_i32(6, r, &[a.mount.code()])?;
        f.write_f32(7, r, &[a.axis_offset_m as f32, 0.0, 0.0])?;
        f.write_f32(8, r, &[a.diameter_m as f32])?;
    }
    Ok(())
}

/// Feed letters from the polarisation products: X/Y for linear codes -5..-8.
fn feed_letters(h: &IdiHeader) -> (&'static str, &'static str) {
    if h.stokes.iter().any(|s| (-8..=-5).contains(s)) {
        ("X", "Y")
    } else {
        ("R", "L")
    }
}

fn write_antenna(f: &mut Fits, h: &IdiHeader) -> Result<(), CfError> {
    // Memo 114 table 11. NOPCAL = 0 with 0E POLCAL columns: CASA fails on the
    // scalar columns that NOPCAL × NO_BAND = 1 would give (shared/casa/README).
    let nb = h.bands.len();
    f.create_bintable(
        "ANTENNA",
        &[
            ("TIME", "1D".into(), "DAYS"),
            ("TIME_INTERVAL", "1E".into(), "DAYS"),
            ("ANNAME", "8A".into(), ""),
            ("ANTENNA_NO", "1J".into(), ""),
            ("ARRAY", "1J".into(), ""),
            ("FREQID", "1J".into(), ""),
            ("NO_LEVELS", "1J".into(), ""),
            ("POLTYA", "1A".into(), ""),
            ("POLAA", format!("{nb}E"), "DEGREES"),
            ("POLCALA", "0E".into(), ""),
            ("POLTYB", "1A".into(), ""),
            ("POLAB", format!("{nb}E"), "DEGREES"),
            ("POLCALB", "0E".into(), ""),
        ],
    )?;
    common_keys(f, h, 1)?;
    f.key_int("NOPCAL", 0, "polarisation calibration constants")?;
    f.key_str("POLTYPE", "APPROX", "feed polarisation parameterisation")?;
    let (pa, pb) = feed_letters(h);
    let zeros = vec![0f32; nb];
    for (i, a) in h.antennas.iter().enumerate() {
        let r = i as i64 + 1;
        // One record valid for the whole file: centred on RDATE, 1e4 days long.
        f.write_f64(1, r, &[0.0])?;
        f.write_f32(2, r, &[1.0e4])?;
        f.write_str(3, r, &a.name)?;
        f.write_i32(4, r, &[a.id as i32])?;
        f.write_i32(5, r, &[1])?;
        f.write_i32(6, r, &[1])?;
        f.write_i32(7, r, &[a.n_levels])?;
        f.write_str(8, r, pa)?;
        f.write_f32(9, r, &zeros)?;
        f.write_str(11, r, pb)?;
        f.write_f32(12, r, &zeros)?;
    }
    Ok(())
}

fn write_frequency(f: &mut Fits, h: &IdiHeader) -> Result<(), CfError> {
    // Memo 114 table 12: one row, FREQID 1.
    let nb = h.bands.len();
    f.create_bintable(
        "FREQUENCY",
        &[
            ("FREQID", "1J".into(), ""),
            ("BANDFREQ", format!("{nb}D"), "HZ"),
            ("CH_WIDTH", format!("{nb}E"), "HZ"),
            ("TOTAL_BANDWIDTH", format!("{nb}E"), "HZ"),
            ("SIDEBAND", format!("{nb}J"), ""),
        ],
    )?;
    common_keys(f, h, 1)?;
    let offs: Vec<f64> = h.bands.iter().map(|b| b.freq_offset_hz).collect();
    let chw: Vec<f32> = h.bands.iter().map(|b| b.chan_bw_hz as f32).collect();
    let tot: Vec<f32> = h.bands.iter().map(|b| b.total_bw_hz as f32).collect();
    let sb: Vec<i32> = h.bands.iter().map(|b| b.sideband).collect();
    f.write_i32(1, 1, &[1])?;
    f.write_f64(2, 1, &offs)?;
    f.write_f32(3, 1, &chw)?;
    f.write_f32(4, 1, &tot)?;
    f.write_i32(5, 1, &sb)?;
    Ok(())
}

fn write_source(f: &mut Fits, h: &IdiHeader) -> Result<(), CfError> {
    // Memo 114 table 13.
    let nb = h.bands.len();
    f.create_bintable(
        "SOURCE",
        &[
            ("SOURCE_ID", "1J".into(), ""),
            ("SOURCE", "16A".into(), ""),
            ("QUAL", "1J".into(), ""),
            ("CALCODE", "4A".into(), ""),
            ("FREQID", "1J".into(), ""),
            ("IFLUX", format!("{nb}E"), "JY"),
            ("QFLUX", format!("{nb}E"), "JY"),
            ("UFLUX", format!("{nb}E"), "JY"),
            ("VFLUX", format!("{nb}E"), "JY"),
            ("ALPHA", format!("{nb}E"), ""),
            ("FREQOFF", format!("{nb}D"), "HZ"),
            ("RAEPO", "1D".into(), "DEGREES"),
            ("DECEPO", "1D".into(), "DEGREES"),
            ("EQUINOX", "8A".into(), ""),
            ("RAAPP", "1D".into(), "DEGREES"),
            ("DECAPP", "1D".into(), "DEGREES"),
            ("SYSVEL", format!("{nb}D"), "METERS/SEC"),
            ("VELTYP", "8A".into(), ""),
            ("VELDEF", "8A".into(), ""),
            ("RESTFREQ", format!("{nb}D"), "HZ"),
            ("PMRA", "1D".into(), "DEGREES/DAY"),
            ("PMDEC", "1D".into(), "DEGREES/DAY"),
            ("PARALLAX", "1E".into(), "ARCSEC"),
            ("EPOCH", "1D".into(), "YEARS"),
        ],
    )?;
    common_keys(f, h, 1)?;
    let zf = vec![0f32; nb];
    let zd = vec![0f64; nb];
    for (i, s) in h.sources.iter().enumerate() {
        let r = i as i64 + 1;
        f.write_i32(1, r, &[s.id as i32])?;
        f.write_str(2, r, &s.name)?;
        f.write_i32(3, r, &[0])?;
        f.write_str(4, r, &s.calcode)?;
        f.write_i32(5, r, &[1])?;
        for col in 6..=10 {
            f.write_f32(col, r, &zf)?;
        }
        f.write_f64(11, r, &zd)?;
        f.write_f64(12, r, &[s.ra_deg])?;
        f.write_f64(13, r, &[s.dec_deg])?;
        f.write_str(14, r, "J2000")?;
        f.write_f64(15, r, &[s.ra_deg])?;
        f.write_f64(16, r, &[s.dec_deg])?;
        f.write_f64(17, r, &zd)?;
        f.write_str(18, r, "GEOCENTR")?;
        f.write_str(19, r, "OPTICAL")?;
        f.write_f64(20, r, &zd)?;
        f.write_f64(21, r, &[0.0])?;
        f.write_f64(22, r, &[0.0])?;
        f.write_f32(23, r, &[0.0])?;
        f.write_f64(24, r, &[2000.0])?;
    }
    Ok(())
}

/// Number of feeds (1 or 2) the polarisation products use.
fn n_pol(h: &IdiHeader) -> usize {
    // RR alone or LL alone: one feed; anything else involves both.
    if h.stokes.len() == 1 && h.stokes[0] < 0 {
        1
    } else {
        2
    }
}

fn write_model(f: &mut Fits, h: &IdiHeader, models: &[ModelRow]) -> Result<(), CfError> {
    // Memo 114 table 15, TABREV 2: polynomials (NPOLY, NO_BAND) per
    // polarisation; plus CLOCK_1 / DCLOCK_1 (see ModelRow).
    let nb = h.bands.len();
    let npoly = models[0].gdelay_s[0].len();
    let npol = n_pol(h);
    let poly = format!("{}D", npoly * nb);
    let mut cols: Vec<(&str, String, &str)> = vec![
        ("TIME", "1D".into(), "DAYS"),
        ("TIME_INTERVAL", "1E".into(), "DAYS"),
        ("SOURCE_ID", "1J".into(), ""),
        ("ANTENNA_NO", "1J".into(), ""),
        ("ARRAY", "1J".into(), ""),
        ("FREQID", "1J".into(), ""),
        ("I.FAR.ROT", "1E".into(), "RAD/METER**2"),
        ("FREQ.VAR", format!("{nb}E"), "HZ"),
    ];
    let per_pol: [[(&str, &str); 6]; 2] = [
        [
            ("PDELAY_1", "TURNS"),
            ("GDELAY_1", "SECONDS"),
            ("PRATE_1", "HZ"),
            ("GRATE_1", "SEC/SEC"),
            ("DISP_1", "SECONDS"),
            ("DDISP_1", "SEC/SEC"),
        ],
        [
            ("PDELAY_2", "TURNS"),
            ("GDELAY_2", "SECONDS"),
            ("PRATE_2", "HZ"),
            ("GRATE_2", "SEC/SEC"),
            ("DISP_2", "SECONDS"),
            ("DDISP_2", "SEC/SEC"),
        ],
    ];
    for p in per_pol.iter().take(npol) {
        for (k, (name, unit)) in p.iter().enumerate() {
            let form = if k < 4 {
                poly.clone()
            } else {
                "1E".to_string()
            };
            cols.push((name, form, unit));
        }
    }
    cols.push(("CLOCK_1", "1D".into(), "SECONDS"));
    cols.push(("DCLOCK_1", "1D".into(), "SEC/SEC"));
    f.create_bintable("INTERFEROMETER_MODEL", &cols)?;
    common_keys(f, h, TABREV_IM)?;
    f.key_int("NO_POL", npol as i64, "number of polarisations")?;
    f.key_int(
        "NPOLY",
        npoly as i64,
        "polynomial terms (in seconds since TIME)",
    )?;
    for k in 0..(4 * npol) {
        let col = 9 + (k / 4) * 6 + k % 4;
        f.key_str(&format!("TDIM{col}"), &format!("({npoly},{nb})"), "")?;
    }
    let zf = vec![0f32; nb];
    let flat = |p: &Vec<Vec<f64>>| p.iter().flatten().copied().collect::<Vec<f64>>();
    for (i, m) in models.iter().enumerate() {
        let r = i as i64 + 1;
        let days = m.time.seconds_since(h.ref_date) / DAY_S;
        let head = (m.interval_s, m.source_id, m.antenna, m.freq_id);
        write_antenna_row_head(f, r, days, head)?;
        f.write_f32(7, r, &[0.0])?;
        f.write_f32(8, r, &zf)?;
        for pol in 0..npol {
            let c0 = 9 + 6 * pol as i32;
            f.write_f64(c0, r, &flat(&m.pdelay_turns))?;
            f.write_f64(c0 + 1, r, &flat(&m.gdelay_s))?;
            f.write_f64(c0 + 2, r, &flat(&m.prate_hz))?;
            f.write_f64(c0 + 3, r, &flat(&m.grate_s_s))?;
            f.write_f32(c0 + 4, r, &[m.disp_s as f32])?;
            f.write_f32(c0 + 5, r, &[m.ddisp_s_s as f32])?;
        }
        let cc = 9 + 6 * npol as i32;
        f.write_f64(cc, r, &[m.clock_s])?;
        f.write_f64(cc + 1, r, &[m.dclock_s_s])?;
    }
    Ok(())
}

fn create_uv_data(f: &mut Fits, h: &IdiHeader) -> Result<(), CfError> {
    // Memo 114 table 16 (TABREV 2). FLUX holds (re, im, weight) triplets
    // (MAXIS1 = 3): CASA's importfitsidi then fills WEIGHT_SPECTRUM per channel.
    // WEIGHT (NO_STKD, NO_BAND) repeats the channel-mean weight for readers
    // that follow the MAXIS1 = 2 form (CASA ignores it when MAXIS1 = 3).
    let ns = h.stokes.len();
    let nc = h.n_chan;
    let nb = h.bands.len();
    f.create_bintable(
        "UV_DATA",
        &[
            ("UU---SIN", "1D".into(), "SECONDS"),
            ("VV---SIN", "1D".into(), "SECONDS"),
            ("WW---SIN", "1D".into(), "SECONDS"),
            ("DATE", "1D".into(), "DAYS"),
            ("TIME", "1D".into(), "DAYS"),
            ("BASELINE", "1J".into(), ""),
            ("FILTER", "1J".into(), ""),
            ("SOURCE_ID", "1J".into(), ""),
            ("FREQID", "1J".into(), ""),
            ("INTTIM", "1E".into(), "SECONDS"),
            ("WEIGHT", format!("{}E", ns * nb), ""),
            ("GATEID", "1J".into(), ""),
            ("FLUX", format!("{}E", 3 * ns * nc * nb), "UNCALIB"),
        ],
    )?;
    common_keys(f, h, TABREV_UV)?;
    f.key_str("TDIM11", &format!("({ns},{nb})"), "")?;
    f.key_str("TDIM13", &format!("(3,{ns},{nc},{nb},1,1)"), "")?;
    if let Some(fx) = &h.fx {
        f.key_int(
            "SPECAVG",
            fx.spec_avg as i64,
            "FFT channels averaged per channel (emcorr)",
        )?;
        f.key_str("FFTWIN", &fx.window, "window before the FFT (emcorr)")?;
    }
    f.key_int("NMATRIX", 1, "")?;
    f.key_int("MAXIS", 6, "axes of the FLUX matrix")?;
    let axes: [(&str, i64, f64, f64, f64); 6] = [
        ("COMPLEX", 3, 1.0, 1.0, 1.0),
        (
            "STOKES",
            ns as i64,
            h.stokes[0] as f64,
            if h.stokes[0] < 0 { -1.0 } else { 1.0 },
            1.0,
        ),
        ("FREQ", nc as i64, h.ref_freq_hz, h.chan_bw_hz, h.ref_pixel),
        ("BAND", nb as i64, 1.0, 1.0, 1.0),
        ("RA", 1, 0.0, 1.0, 1.0),
        ("DEC", 1, 0.0, 1.0, 1.0),
    ];
    for (i, (name, n, crval, cdelt, crpix)) in axes.iter().enumerate() {
        let m = i + 1;
        f.key_int(&format!("MAXIS{m}"), *n, "")?;
        f.key_str(&format!("CTYPE{m}"), name, "")?;
        f.key_f64(&format!("CDELT{m}"), *cdelt, "")?;
        f.key_f64(&format!("CRPIX{m}"), *crpix, "")?;
        f.key_f64(&format!("CRVAL{m}"), *crval, "")?;
    }
    f.key_bool("TMATX13", true, "FLUX is the visibility matrix")?;
    // The FITS standard reserves EQUINOX as a number; CASA warns about the
    // string 'J2000' some writers use here. The SOURCE table's EQUINOX column
    // keeps the 'J2000' string Memo 114 gives it.
    f.key_f64("EQUINOX", 2000.0, "mean equinox (J2000)")?;
    f.key_str("WEIGHTYP", "NORMAL", "")?;
    f.key_str("DATE-OBS", &fits_date(h.ref_date), "")?;
    f.key_str("TELESCOP", &h.telescope, "")?;
    f.key_str("OBSERVER", &h.obscode, "")?;
    f.key_f64("VIS_SCAL", 1.0, "")?;
    f.key_str("SORT", "T*", "time order")?;
    Ok(())
}

/// Columns 1–6 shared by the per-antenna tables (INTERFEROMETER_MODEL,
/// PHASE-CAL): TIME (days since RDATE), TIME_INTERVAL (days), SOURCE_ID,
/// ANTENNA_NO, ARRAY (1), FREQID; `head` = (interval_s, source, antenna,
/// freq_id).
fn write_antenna_row_head(
    f: &mut Fits,
    row: i64,
    time_days: f64,
    head: (f64, u32, u32, u32),
) -> Result<(), CfError> {
    let (interval_s, source, antenna, freq_id) = head;
    f.write_f64(1, row, &[time_days])?;
    f.write_f32(2, row, &[(interval_s / DAY_S) as f32])?;
    f.write_i32(3, row, &[source as i32])?;
    f.write_i32(4, row, &[antenna as i32])?;
    f.write_i32(5, row, &[1])?;
    f.write_i32(6, row, &[freq_id as i32])
}
