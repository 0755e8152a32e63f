//! FITS-IDI reader: everything the writer writes, and the parts of any Memo 114
//! file that fringe fitting needs.
//!
//! Tables are found by EXTNAME, columns and keywords by name, so files from
//! other correlators (extra tables, other column orders, FLUX with MAXIS1 = 2
//! and a WEIGHT column, SOURCE instead of SOURCE_ID, INTTIM as 1D) read too.
//! Every problem becomes an [`IdiError`] naming the file, table and keyword or
//! column; nothing here panics on bad input.

use std::path::{Path, PathBuf};

use super::cfits::{CfError, ColInfo, Fits};
use super::error::IdiError;
use super::model::{
    from_jd_and_day_fraction, IdiAntenna, IdiBand, IdiEop, IdiFile, IdiHeader, IdiScan, IdiSource,
    ModelRow, Mount, PcalRow, UvRow, DAY_S,
};
use crate::time::UtcTime;

/// Julian dates accepted in UV_DATA DATE (years ~763 to ~3501).
const JD_RANGE: std::ops::RangeInclusive<f64> = 2_000_000.0..=3_000_000.0;
/// Largest day offset accepted in TIME columns.
const MAX_DAYS: f64 = 1e5;

/// Read a whole file into memory.
pub fn read_idi(path: &Path) -> Result<IdiFile, IdiError> {
    let mut r = IdiReader::open(path)?;
    let rows = (0..r.n_rows())
        .map(|i| r.read_row(i))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(IdiFile {
        header: r.header.clone(),
        models: std::mem::take(&mut r.models),
        rows,
    })
}

/// The PHASE-CAL rows of a file (empty if it has no PHASE-CAL table), in
/// file order; the header tables are read (and checked) too, the
/// visibilities not.
pub fn read_pcal(path: &Path) -> Result<Vec<PcalRow>, IdiError> {
    let mut r = IdiReader::open(path)?;
    Ok(std::mem::take(&mut r.pcal))
}

/// Where the parts of a UV_DATA row are.
struct UvLayout {
    uu: i32,
    vv: i32,
    ww: i32,
    date: i32,
    time: i32,
    baseline: i32,
    source: Option<i32>,
    freqid: Option<i32>,
    inttim: Option<i32>,
    /// WEIGHT column, used when FLUX has no weights (MAXIS1 = 2).
    weight: Option<i32>,
    flux: i32,
    /// 2 (re, im) or 3 (re, im, weight).
    n_complex: usize,
}

/// Random access to the rows of a FITS-IDI file; the header tables and the
/// delay model are read at `open`, visibilities one row at a time.
pub struct IdiReader {
    fits: Fits,
    path: PathBuf,
    header: IdiHeader,
    models: Vec<ModelRow>,
    pcal: Vec<PcalRow>,
    layout: UvLayout,
    n_rows: u64,
}

/// A table being read: the open file positioned on it, for keyword and column
/// helpers whose errors name file and table.
struct Table<'a> {
    fits: &'a mut Fits,
    path: &'a Path,
    name: &'static str,
}

impl<'a> Table<'a> {
    fn open(
        fits: &'a mut Fits,
        path: &'a Path,
        name: &'static str,
    ) -> Result<Option<Self>, IdiError> {
        let found = fits
            .move_to_table(name)
            .map_err(|e| fits_err(path, &format!("looking for table {name}"), e))?;
        Ok(found.then_some(Table { fits, path, name }))
    }

    fn require(fits: &'a mut Fits, path: &'a Path, name: &'static str) -> Result<Self, IdiError> {
        Table::open(fits, path, name)?.ok_or_else(|| IdiError::MissingTable {
            path: path.to_path_buf(),
            table: name.to_string(),
        })
    }

    fn err(&self, context: &str, e: CfError) -> IdiError {
        fits_err(self.path, &format!("table {}: {context}", self.name), e)
    }

    fn bad_key(&self, keyword: &str, why: String) -> IdiError {
        IdiError::BadKeyword {
            path: self.path.to_path_buf(),
            table: self.name.to_string(),
            keyword: keyword.to_string(),
            why,
        }
    }

    fn bad_col(&self, column: &str, why: String) -> IdiError {
        IdiError::BadColumn {
            path: self.path.to_path_buf(),
            table: self.name.to_string(),
            column: column.to_string(),
            why,
        }
    }

    fn opt_str(&mut self, key: &str) -> Result<Option<String>, IdiError> {
        self.fits
            .read_key_str(key)
            .map_err(|e| fits_err(self.path, &format!("table {}: keyword {key}", self.name), e))
    }

    fn req_str(&mut self, key: &str) -> Result<String, IdiError> {
        self.opt_str(key)?.ok_or_else(|| IdiError::MissingKeyword {
            path: self.path.to_path_buf(),
            table: self.name.to_string(),
            keyword: key.to_string(),
        })
    }

    fn opt_f64(&mut self, key: &str) -> Result<Option<f64>, IdiError> {
        let Some(text) = self
            .fits
            .read_key_value(key)
            .map_err(|e| fits_err(self.path, &format!("table {}: keyword {key}", self.name), e))?
        else {
            return Ok(None);
        };
        // FITS allows a D exponent.
        let v: f64 = text
            .replace(['D', 'd'], "E")
            .parse()
            .map_err(|_| self.bad_key(key, format!("{text:?} is not a number")))?;
        if !v.is_finite() {
            return Err(self.bad_key(key, format!("{text:?} is not finite")));
        }
        Ok(Some(v))
    }

    fn req_f64(&mut self, key: &str) -> Result<f64, IdiError> {
        self.opt_f64(key)?.ok_or_else(|| IdiError::MissingKeyword {
            path: self.path.to_path_buf(),
            table: self.name.to_string(),
            keyword: key.to_string(),
        })
    }

    fn req_int(&mut self, key: &str) -> Result<i64, IdiError> {
        let v = self.req_f64(key)?;
        if v.fract() != 0.0 || v.abs() > 1e15 {
            return Err(self.bad_key(key, format!("{v} is not an integer")));
        }
        Ok(v as i64)
    }

    /// A positive count (NO_BAND, NO_CHAN, ...).
    fn req_count(&mut self, key: &str) -> Result<usize, IdiError> {
        let v = self.req_int(key)?;
        if !(1..=1 << 24).contains(&v) {
            return Err(self.bad_key(key, format!("{v} is not a count in 1..=16777216")));
        }
        Ok(v as usize)
    }

    fn opt_col(&mut self, name: &str) -> Result<Option<ColInfo>, IdiError> {
        self.fits
            .column(name)
            .map_err(|e| fits_err(self.path, &format!("table {}: column {name}", self.name), e))
    }

    fn req_col(&mut self, name: &str) -> Result<ColInfo, IdiError> {
        self.opt_col(name)?.ok_or_else(|| IdiError::MissingColumn {
            path: self.path.to_path_buf(),
            table: self.name.to_string(),
            column: name.to_string(),
        })
    }

    /// A required column with exactly `n` elements per row.
    fn req_col_n(&mut self, name: &str, n: usize) -> Result<ColInfo, IdiError> {
        let c = self.req_col(name)?;
        if c.repeat as usize != n {
            return Err(self.bad_col(name, format!("{} elements per row, expected {n}", c.repeat)));
        }
        Ok(c)
    }

    /// The first column whose name starts with `prefix` (UU---SIN, UU--SIN, UU).
    fn col_prefix(&mut self, prefix: &str) -> Result<ColInfo, IdiError> {
        let names = self
            .fits
            .column_names()
            .map_err(|e| self.err("listing columns", e))?;
        match names
            .iter()
            .find(|n| n.to_ascii_uppercase().starts_with(prefix))
        {
            Some(n) => self.req_col(&n.clone()),
            None => Err(IdiError::MissingColumn {
                path: self.path.to_path_buf(),
                table: self.name.to_string(),
                column: format!("{prefix}---SIN"),
            }),
        }
    }

    fn n_rows(&mut self) -> Result<u64, IdiError> {
        let n = self
            .fits
            .num_rows()
            .map_err(|e| self.err("counting rows", e))?;
        Ok(n.max(0) as u64)
    }

    fn f64s(&mut self, c: ColInfo, row: i64) -> Result<Vec<f64>, IdiError> {
        self.fits
            .read_f64(c.num, row, c.repeat as usize)
            .map_err(|e| self.err(&format!("reading row {row}"), e))
    }

    fn f64_1(&mut self, c: ColInfo, row: i64) -> Result<f64, IdiError> {
        Ok(self.f64s(c, row)?.first().copied().unwrap_or(0.0))
    }

    fn int_1(&mut self, c: ColInfo, row: i64) -> Result<i64, IdiError> {
        let v = self
            .fits
            .read_i64(c.num, row, 1)
            .map_err(|e| self.err(&format!("reading row {row}"), e))?;
        Ok(v[0])
    }

    fn string(&mut self, c: ColInfo, row: i64) -> Result<String, IdiError> {
        self.fits
            .read_str(c.num, row, c.repeat as usize)
            .map_err(|e| self.err(&format!("reading row {row}"), e))
    }
}

fn fits_err(path: &Path, context: &str, e: CfError) -> IdiError {
    IdiError::Fits {
        path: path.to_path_buf(),
        context: context.to_string(),
        error: e.into(),
    }
}

/// 'YYYY-MM-DD' (a time part, if any, is ignored) or the old 'DD/MM/YY'.
fn parse_fits_date(text: &str) -> Option<UtcTime> {
    let t = text.trim();
    if let Some((d, m, y)) = t
        .split('/')
        .collect::<Vec<_>>()
        .get(0..3)
        .map(|v| (v[0], v[1], v[2]))
    {
        let y: i32 = y.parse().ok()?;
        let y = if y < 50 { 2000 + y } else { 1900 + y };
        return UtcTime::parse_iso8601(&format!("{y:04}-{m:0>2}-{d:0>2}T00:00:00")).ok();
    }
    let date = t.get(0..10)?;
    UtcTime::parse_iso8601(&format!("{date}T00:00:00")).ok()
}

impl IdiReader {
    /// Open a file and read its header tables and delay model.
    pub fn open(path: &Path) -> Result<Self, IdiError> {
        let mut fits = Fits::open(path).map_err(|e| {
            if e.status == 104 {
                IdiError::Io {
                    path: path.to_path_buf(),
                    context: "opening".into(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()),
                }
            } else {
                fits_err(path, "opening", e)
            }
        })?;

        // Primary header: optional descriptive keywords.
        let (mut telescope, correlator, correlator_version) = {
            let mut p = Table {
                fits: &mut fits,
                path,
                name: "primary",
            };
            (
                p.opt_str("TELESCOP")?.unwrap_or_default(),
                p.opt_str("CORRELAT")?.unwrap_or_default(),
                p.opt_str("FXCORVER")?.unwrap_or_default(),
            )
        };

        // UV_DATA keywords define the shape everything else must match.
        let mut uv = Table::require(&mut fits, path, "UV_DATA")?;
        let obscode = uv.opt_str("OBSCODE")?.unwrap_or_default();
        let n_stokes = uv.req_count("NO_STKD")?;
        let stk_1 = uv.req_int("STK_1")?;
        let n_band = uv.req_count("NO_BAND")?;
        let n_chan = uv.req_count("NO_CHAN")?;
        let ref_freq_hz = uv.req_f64("REF_FREQ")?;
        let chan_bw_hz = uv.req_f64("CHAN_BW")?;
        let ref_pixel = uv.req_f64("REF_PIXL")?;
        if stk_1 == 0 || !(-8..=4).contains(&stk_1) {
            return Err(uv.bad_key("STK_1", format!("{stk_1} is not an AIPS polarisation code")));
        }
        let step = if stk_1 < 0 { -1 } else { 1 };
        let stokes: Vec<i32> = (0..n_stokes as i32)
            .map(|i| stk_1 as i32 + step * i)
            .collect();
        let layout = uv_layout(&mut uv, n_stokes, n_chan, n_band)?;
        let n_rows = uv.n_rows()?;
        if telescope.is_empty() {
            telescope = uv.opt_str("TELESCOP")?.unwrap_or_default();
        }

        let (antennas, array_xyz_m, eop, ref_date, arrnam) = read_array_geometry(&mut fits, path)?;
        if telescope.is_empty() {
            telescope = arrnam;
        }
        let mut antennas = antennas;
        read_antenna_levels(&mut fits, path, &mut antennas)?;
        let bands = read_frequency(&mut fits, path, n_band)?;
        let sources = read_sources(&mut fits, path)?;

        let header = IdiHeader {
            obscode,
            telescope,
            correlator,
            correlator_version,
            ref_date,
            ref_freq_hz,
            n_chan,
            chan_bw_hz,
            ref_pixel,
            bands,
            stokes,
            antennas,
            sources,
            array_xyz_m,
            eop,
            scans: Vec::new(),
        };
        let models = read_models(&mut fits, path, &header)?;
        let scans = read_scans(&mut fits, path, &header)?;
        let header = IdiHeader { scans, ..header };
        let pcal = read_pcal_table(&mut fits, path, &header)?;
        Table::require(&mut fits, path, "UV_DATA")?;
        Ok(IdiReader {
            fits,
            path: path.to_path_buf(),
            header,
            models,
            pcal,
            layout,
            n_rows,
        })
    }

    pub fn header(&self) -> &IdiHeader {
        &self.header
    }

    /// INTERFEROMETER_MODEL rows (empty if the file has none).
    pub fn models(&self) -> &[ModelRow] {
        &self.models
    }

    /// PHASE-CAL rows, in file order (empty if the file has no PHASE-CAL
    /// table). Every band has NO_TABS tones, padding (frequency 0) included.
    pub fn pcal(&self) -> &[PcalRow] {
        &self.pcal
    }

    /// Number of UV_DATA rows.
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }

    /// Read UV_DATA row `index` (0-based). A row stored with a1 > a2 is
    /// returned as a2–a1: conjugated, UVW negated and RL/LR (XY/YX) swapped.
    pub fn read_row(&mut self, index: u64) -> Result<UvRow, IdiError> {
        if index >= self.n_rows {
            return Err(IdiError::Invalid {
                path: self.path.clone(),
                why: format!(
                    "UV_DATA row {index} asked for, the table has {}",
                    self.n_rows
                ),
            });
        }
        let row = index as i64 + 1;
        let l = &self.layout;
        let h = &self.header;
        // open() left the file positioned on UV_DATA.
        let mut t = Table {
            fits: &mut self.fits,
            path: &self.path,
            name: "UV_DATA",
        };
        let u = t.f64_1(
            ColInfo {
                repeat: 1,
                ..col(l.uu)
            },
            row,
        )?;
        let v = t.f64_1(
            ColInfo {
                repeat: 1,
                ..col(l.vv)
            },
            row,
        )?;
        let w = t.f64_1(
            ColInfo {
                repeat: 1,
                ..col(l.ww)
            },
            row,
        )?;
        let date = t.f64_1(col(l.date), row)?;
        let frac = t.f64_1(col(l.time), row)?;
        // BASELINE may be a float in old files, with the array number as a fraction.
        let bl = t.f64_1(col(l.baseline), row)?.floor() as i64;
        let source_id = match l.source {
            Some(c) => t.int_1(col(c), row)?,
            None => 1,
        };
        let freq_id = match l.freqid {
            Some(c) => t.int_1(col(c), row)?,
            None => 1,
        };
        let inttim_s = match l.inttim {
            Some(c) => t.f64_1(col(c), row)?,
            None => 0.0,
        };
        let (ns, nc, nb) = (h.stokes.len(), h.n_chan, h.bands.len());
        let n_vis = ns * nc * nb;
        let flux = t
            .fits
            .read_f32(l.flux, row, n_vis * l.n_complex)
            .map_err(|e| t.err(&format!("reading FLUX of row {row}"), e))?;
        let weights = match (l.n_complex, l.weight) {
            (2, Some(c)) => Some(
                t.fits
                    .read_f32(c, row, ns * nb)
                    .map_err(|e| t.err(&format!("reading WEIGHT of row {row}"), e))?,
            ),
            _ => None,
        };
        let mut vis: Vec<[f32; 3]> = (0..n_vis)
            .map(|i| {
                let f = &flux[i * l.n_complex..];
                let wt = if l.n_complex == 3 {
                    f[2]
                } else if let Some(ws) = &weights {
                    let (s, b) = (i % ns, i / (ns * nc));
                    ws[b * ns + s]
                } else {
                    1.0
                };
                [f[0], f[1], wt]
            })
            .collect();

        // Times far outside any observation (or not finite) would overflow
        // the time arithmetic: refuse them (found by fuzzing).
        if !(JD_RANGE.contains(&date) && frac.is_finite() && frac.abs() <= MAX_DAYS) {
            return Err(t.bad_col(
                "DATE",
                format!("row {row}: DATE {date} + TIME {frac} is not a plausible time"),
            ));
        }
        let (mut a1, mut a2) = (bl / 256, bl % 256);
        if a1 < 1 || a2 < 1 {
            return Err(t.bad_col(
                "BASELINE",
                format!("row {row}: {bl} does not encode two antennas"),
            ));
        }
        let mut uvw_s = [u, v, w];
        if a1 > a2 {
            std::mem::swap(&mut a1, &mut a2);
            uvw_s = [-u, -v, -w];
            swap_baseline_direction(&mut vis, &h.stokes);
        }
        let nonneg = |what: &str, x: i64| -> Result<u32, IdiError> {
            u32::try_from(x).map_err(|_| IdiError::BadColumn {
                path: self.path.clone(),
                table: "UV_DATA".into(),
                column: what.into(),
                why: format!("row {row}: {x} is negative"),
            })
        };
        Ok(UvRow {
            time: from_jd_and_day_fraction(date, frac),
            baseline: (a1 as u32, a2 as u32),
            source_id: nonneg("SOURCE_ID", source_id)?,
            freq_id: nonneg("FREQID", freq_id)?,
            inttim_s,
            uvw_s,
            vis,
        })
    }
}

/// A column handle for a scalar read (repeat is not used by the readers below
/// except where given).
fn col(num: i32) -> ColInfo {
    ColInfo {
        num,
        typecode: 0,
        repeat: 1,
    }
}

/// Turn V_12 into V_21 = conj(V_12): conjugate, and exchange the cross-hand
/// products (RL <-> LR, XY <-> YX) since their feed order flips too.
fn swap_baseline_direction(vis: &mut [[f32; 3]], stokes: &[i32]) {
    let ns = stokes.len();
    let partner = |code: i32| match code {
        -3 => -4,
        -4 => -3,
        -7 => -8,
        -8 => -7,
        c => c,
    };
    let map: Vec<usize> = stokes
        .iter()
        .enumerate()
        .map(|(s, &c)| stokes.iter().position(|&d| d == partner(c)).unwrap_or(s))
        .collect();
    for cell in vis.chunks_mut(ns) {
        let orig: Vec<[f32; 3]> = cell.to_vec();
        for (s, v) in cell.iter_mut().enumerate() {
            let o = orig[map[s]];
            *v = [o[0], -o[1], o[2]];
        }
    }
}

fn uv_layout(t: &mut Table<'_>, ns: usize, nc: usize, nb: usize) -> Result<UvLayout, IdiError> {
    // The FLUX matrix axes (Memo 114 §5.3): COMPLEX, STOKES, FREQ, BAND, then
    // RA and DEC of length 1. Any other order is refused, not guessed.
    let maxis = t.req_int("MAXIS")?;
    if !(2..=7).contains(&maxis) {
        return Err(t.bad_key(
            "MAXIS",
            format!("{maxis}, expected 6 (COMPLEX, STOKES, FREQ, BAND, RA, DEC)"),
        ));
    }
    let expect = ["COMPLEX", "STOKES", "FREQ", "BAND", "RA", "DEC"];
    let mut n_complex = 0;
    for m in 1..=maxis as usize {
        let ctype = t.req_str(&format!("CTYPE{m}"))?;
        let n = t.req_int(&format!("MAXIS{m}"))?;
        let want = expect.get(m - 1).copied().unwrap_or("");
        if !ctype.trim().eq_ignore_ascii_case(want) {
            return Err(t.bad_key(
                &format!("CTYPE{m}"),
                format!("{ctype:?}, expected {want:?}"),
            ));
        }
        let ok = match m {
            1 => {
                n_complex = n as usize;
                n == 2 || n == 3
            }
            2 => n as usize == ns,
            3 => n as usize == nc,
            4 => n as usize == nb,
            _ => n == 1,
        };
        if !ok {
            let why = match m {
                1 => format!("{n}, expected 2 (re, im) or 3 (re, im, weight)"),
                2 => format!("{n} but NO_STKD is {ns}"),
                3 => format!("{n} but NO_CHAN is {nc}"),
                4 => format!("{n} but NO_BAND is {nb}"),
                _ => format!("{n}, expected 1"),
            };
            return Err(t.bad_key(&format!("MAXIS{m}"), why));
        }
    }
    if maxis < 4 && nb != 1 {
        return Err(t.bad_key(
            "MAXIS",
            format!("{maxis}: no BAND axis but NO_BAND is {nb}"),
        ));
    }
    let flux = t.req_col("FLUX")?;
    let want = n_complex * ns * nc * nb;
    if flux.repeat as usize != want {
        return Err(t.bad_col(
            "FLUX",
            format!(
                "{} values per row, expected MAXIS1 × NO_STKD × NO_CHAN × NO_BAND = {n_complex} × {ns} × {nc} × {nb} = {want}",
                flux.repeat
            ),
        ));
    }
    let dims = t
        .fits
        .tdim(flux.num)
        .map_err(|e| t.err("reading TDIM of FLUX", e))?;
    let leading: Vec<i64> = vec![n_complex as i64, ns as i64, nc as i64, nb as i64];
    if dims.len() > 1
        && (dims.len() < 4.min(maxis as usize)
            || dims[..dims.len().min(4)] != leading[..dims.len().min(4)])
    {
        return Err(t.bad_col(
            "FLUX",
            format!("TDIM {dims:?} does not match MAXIS1..4 = {leading:?}"),
        ));
    }
    let source = match t.opt_col("SOURCE_ID")? {
        Some(c) => Some(c.num),
        None => t.opt_col("SOURCE")?.map(|c| c.num),
    };
    let weight = match t.opt_col("WEIGHT")? {
        Some(c) if c.repeat as usize == ns * nb => Some(c.num),
        Some(c) if n_complex == 2 => {
            return Err(t.bad_col(
                "WEIGHT",
                format!(
                    "{} values per row, expected NO_STKD × NO_BAND = {}",
                    c.repeat,
                    ns * nb
                ),
            ))
        }
        _ => None,
    };
    Ok(UvLayout {
        uu: t.col_prefix("UU")?.num,
        vv: t.col_prefix("VV")?.num,
        ww: t.col_prefix("WW")?.num,
        date: t.req_col("DATE")?.num,
        time: t.req_col("TIME")?.num,
        baseline: t.req_col("BASELINE")?.num,
        source,
        freqid: t.opt_col("FREQID")?.map(|c| c.num),
        inttim: t.opt_col("INTTIM")?.map(|c| c.num),
        weight,
        flux: flux.num,
        n_complex,
    })
}

type Geometry = (Vec<IdiAntenna>, [f64; 3], IdiEop, UtcTime, String);

fn read_array_geometry(fits: &mut Fits, path: &Path) -> Result<Geometry, IdiError> {
    let mut t = Table::require(fits, path, "ARRAY_GEOMETRY")?;
    let rdate_text = t.req_str("RDATE")?;
    let ref_date = parse_fits_date(&rdate_text)
        .ok_or_else(|| t.bad_key("RDATE", format!("{rdate_text:?} is not a date YYYY-MM-DD")))?;
    let array_xyz_m = [
        t.req_f64("ARRAYX")?,
        t.req_f64("ARRAYY")?,
        t.req_f64("ARRAYZ")?,
    ];
    let d = IdiEop::default();
    let eop = IdiEop {
        gst_at_0h_deg: t.opt_f64("GSTIA0")?.unwrap_or(d.gst_at_0h_deg),
        earth_rot_deg_per_day: t.opt_f64("DEGPDY")?.unwrap_or(d.earth_rot_deg_per_day),
        ut1_utc_s: t.opt_f64("UT1UTC")?.unwrap_or(d.ut1_utc_s),
        iat_utc_s: t.opt_f64("IATUTC")?.unwrap_or(d.iat_utc_s),
        polar_x_arcsec: t.opt_f64("POLARX")?.unwrap_or(d.polar_x_arcsec),
        polar_y_arcsec: t.opt_f64("POLARY")?.unwrap_or(d.polar_y_arcsec),
    };
    let arrnam = t.opt_str("ARRNAM")?.unwrap_or_default();
    let name_c = t.req_col("ANNAME")?;
    let xyz_c = t.req_col_n("STABXYZ", 3)?;
    let nosta_c = t.req_col("NOSTA")?;
    let der_c = t.opt_col("DERXYZ")?;
    let mnt_c = t.opt_col("MNTSTA")?;
    let axof_c = t.opt_col("STAXOF")?;
    let diam_c = t.opt_col("DIAMETER")?;
    let mut antennas = Vec::new();
    for r in 1..=t.n_rows()? as i64 {
        let id = t.int_1(nosta_c, r)?;
        if !(1..=255).contains(&id) {
            return Err(t.bad_col(
                "NOSTA",
                format!("row {r}: antenna number {id} not in 1..=255"),
            ));
        }
        let xyz = t.f64s(xyz_c, r)?;
        let vel = match der_c {
            Some(c) if c.repeat == 3 => t.f64s(c, r)?,
            _ => vec![0.0; 3],
        };
        let axof = match axof_c {
            Some(c) if c.repeat >= 1 => t.f64s(c, r)?[0],
            _ => 0.0,
        };
        antennas.push(IdiAntenna {
            name: t.string(name_c, r)?,
            id: id as u32,
            xyz_m: [xyz[0], xyz[1], xyz[2]],
            vel_m_s: [vel[0], vel[1], vel[2]],
            mount: match mnt_c {
                Some(c) => Mount::from_code(t.int_1(c, r)? as i32),
                None => Mount::AltAz,
            },
            axis_offset_m: axof,
            diameter_m: match diam_c {
                Some(c) => t.f64_1(c, r)?,
                None => 0.0,
            },
            n_levels: 0,
        });
    }
    Ok((antennas, array_xyz_m, eop, ref_date, arrnam))
}

/// NO_LEVELS from the ANTENNA table, which is optional for reading.
fn read_antenna_levels(
    fits: &mut Fits,
    path: &Path,
    antennas: &mut [IdiAntenna],
) -> Result<(), IdiError> {
    let Some(mut t) = Table::open(fits, path, "ANTENNA")? else {
        return Ok(());
    };
    let (Some(no_c), Some(lev_c)) = (t.opt_col("ANTENNA_NO")?, t.opt_col("NO_LEVELS")?) else {
        return Ok(());
    };
    for r in 1..=t.n_rows()? as i64 {
        let id = t.int_1(no_c, r)?;
        let levels = t.int_1(lev_c, r)?;
        if let Some(a) = antennas.iter_mut().find(|a| a.id as i64 == id) {
            a.n_levels = levels as i32;
        }
    }
    Ok(())
}

fn read_frequency(fits: &mut Fits, path: &Path, nb: usize) -> Result<Vec<IdiBand>, IdiError> {
    // Only FREQID 1 is read: one frequency setup per file.
    let mut t = Table::require(fits, path, "FREQUENCY")?;
    let id_c = t.req_col("FREQID")?;
    let f_c = t.req_col_n("BANDFREQ", nb)?;
    let w_c = t.req_col_n("CH_WIDTH", nb)?;
    let tot_c = t.req_col_n("TOTAL_BANDWIDTH", nb)?;
    let sb_c = t.req_col_n("SIDEBAND", nb)?;
    let n = t.n_rows()? as i64;
    let mut row = None;
    for r in 1..=n {
        if t.int_1(id_c, r)? == 1 {
            row = Some(r);
            break;
        }
    }
    let r = row.ok_or_else(|| t.bad_col("FREQID", "no row with FREQID 1".into()))?;
    let f = t.f64s(f_c, r)?;
    let w = t.f64s(w_c, r)?;
    let tot = t.f64s(tot_c, r)?;
    let sb = t.f64s(sb_c, r)?;
    Ok((0..nb)
        .map(|b| IdiBand {
            freq_offset_hz: f[b],
            sideband: sb[b] as i32,
            total_bw_hz: tot[b],
            chan_bw_hz: w[b],
        })
        .collect())
}

fn read_sources(fits: &mut Fits, path: &Path) -> Result<Vec<IdiSource>, IdiError> {
    let mut t = Table::require(fits, path, "SOURCE")?;
    let id_c = match t.opt_col("SOURCE_ID")? {
        Some(c) => c,
        None => t.req_col("ID_NO.")?,
    };
    let name_c = t.req_col("SOURCE")?;
    let cal_c = t.opt_col("CALCODE")?;
    let ra_c = t.req_col("RAEPO")?;
    let dec_c = t.req_col("DECEPO")?;
    let mut sources = Vec::new();
    for r in 1..=t.n_rows()? as i64 {
        let id = t.int_1(id_c, r)?;
        if id < 1 {
            return Err(t.bad_col("SOURCE_ID", format!("row {r}: {id} is not a positive id")));
        }
        sources.push(IdiSource {
            id: id as u32,
            name: t.string(name_c, r)?,
            calcode: match cal_c {
                Some(c) => t.string(c, r)?,
                None => String::new(),
            },
            ra_deg: t.f64_1(ra_c, r)?,
            dec_deg: t.f64_1(dec_c, r)?,
        });
    }
    Ok(sources)
}

fn read_models(fits: &mut Fits, path: &Path, h: &IdiHeader) -> Result<Vec<ModelRow>, IdiError> {
    let Some(mut t) = Table::open(fits, path, "INTERFEROMETER_MODEL")? else {
        return Ok(Vec::new());
    };
    let nb = h.bands.len();
    let npoly = t.req_count("NPOLY")?;
    let time_c = t.req_col("TIME")?;
    let int_c = t.req_col("TIME_INTERVAL")?;
    let src_c = t.req_col("SOURCE_ID")?;
    let ant_c = t.req_col("ANTENNA_NO")?;
    let fq_c = t.opt_col("FREQID")?;
    let mut poly_cols = Vec::new();
    for name in ["PDELAY_1", "GDELAY_1", "PRATE_1", "GRATE_1"] {
        let c = t.req_col(name)?;
        // Memo 114 gives (NPOLY, NO_BAND); some writers give GDELAY/GRATE as
        // NPOLY only (the same for every band).
        if c.repeat as usize != npoly * nb && c.repeat as usize != npoly {
            return Err(t.bad_col(
                name,
                format!(
                    "{} values per row, expected NPOLY × NO_BAND = {npoly} × {nb}",
                    c.repeat
                ),
            ));
        }
        poly_cols.push(c);
    }
    let disp_c = t.opt_col("DISP_1")?;
    let ddisp_c = t.opt_col("DDISP_1")?;
    let clock_c = t.opt_col("CLOCK_1")?;
    let dclock_c = t.opt_col("DCLOCK_1")?;
    let mut models = Vec::new();
    for r in 1..=t.n_rows()? as i64 {
        let mut polys: Vec<Vec<Vec<f64>>> = Vec::with_capacity(4);
        for c in &poly_cols {
            let v = t.f64s(*c, r)?;
            polys.push(if v.len() == npoly * nb {
                v.chunks(npoly).map(|p| p.to_vec()).collect()
            } else {
                vec![v; nb]
            });
        }
        let opt = |t: &mut Table<'_>, c: Option<ColInfo>| -> Result<f64, IdiError> {
            match c {
                Some(c) => t.f64_1(c, r),
                None => Ok(0.0),
            }
        };
        let ant = t.int_1(ant_c, r)?;
        let src = t.int_1(src_c, r)?;
        if ant < 1 || src < 1 {
            return Err(t.bad_col(
                "ANTENNA_NO",
                format!("row {r}: antenna {ant} / source {src} not positive"),
            ));
        }
        let mut it = polys.into_iter();
        let (time_d, interval_d) = (t.f64_1(time_c, r)?, t.f64_1(int_c, r)?);
        if !(time_d.is_finite() && time_d.abs() <= MAX_DAYS && interval_d.is_finite()) {
            return Err(t.bad_col(
                "TIME",
                format!(
                    "row {r}: TIME {time_d} / TIME_INTERVAL {interval_d} days is not plausible"
                ),
            ));
        }
        models.push(ModelRow {
            time: h.ref_date.add_seconds(time_d * DAY_S),
            interval_s: interval_d * DAY_S,
            antenna: ant as u32,
            source_id: src as u32,
            freq_id: match fq_c {
                Some(c) => t.int_1(c, r)? as u32,
                None => 1,
            },
            pdelay_turns: it.next().unwrap_or_default(),
            gdelay_s: it.next().unwrap_or_default(),
            prate_hz: it.next().unwrap_or_default(),
            grate_s_s: it.next().unwrap_or_default(),
            disp_s: opt(&mut t, disp_c)?,
            ddisp_s_s: opt(&mut t, ddisp_c)?,
            clock_s: opt(&mut t, clock_c)?,
            dclock_s_s: opt(&mut t, dclock_c)?,
        });
    }
    Ok(models)
}

/// emcorr's EMCORR_SCAN table (layout: `write::write_scans`), optional: a
/// file without it has no scans. Rows come back in file order; SOURCE_IDS
/// entries of 0 are padding.
fn read_scans(fits: &mut Fits, path: &Path, h: &IdiHeader) -> Result<Vec<IdiScan>, IdiError> {
    let Some(mut t) = Table::open(fits, path, "EMCORR_SCAN")? else {
        return Ok(Vec::new());
    };
    let name_c = t.req_col("SCAN_NAME")?;
    let time_c = t.req_col("TIME")?;
    let int_c = t.req_col("TIME_INTERVAL")?;
    let src_c = t.req_col("SOURCE_IDS")?;
    // A damaged width must not make us allocate gigabytes per row.
    if !(1..=4096).contains(&src_c.repeat) {
        return Err(t.bad_col(
            "SOURCE_IDS",
            format!("{} elements per row (expected 1..=4096)", src_c.repeat),
        ));
    }
    let mut scans: Vec<IdiScan> = Vec::new();
    for r in 1..=t.n_rows()? as i64 {
        let name = t.string(name_c, r)?;
        if name.is_empty() || scans.iter().any(|s| s.name == name) {
            return Err(t.bad_col(
                "SCAN_NAME",
                format!("row {r}: {name:?} is empty or used twice"),
            ));
        }
        let (time_d, interval_d) = (t.f64_1(time_c, r)?, t.f64_1(int_c, r)?);
        if !(time_d.is_finite()
            && time_d.abs() <= MAX_DAYS
            && interval_d.is_finite()
            && interval_d > 0.0
            && interval_d <= MAX_DAYS)
        {
            return Err(t.bad_col(
                "TIME",
                format!(
                    "row {r}: TIME {time_d} / TIME_INTERVAL {interval_d} days is not a plausible scan"
                ),
            ));
        }
        let ids = t
            .fits
            .read_i64(src_c.num, r, src_c.repeat as usize)
            .map_err(|e| t.err(&format!("reading SOURCE_IDS of row {r}"), e))?;
        let mut source_ids = Vec::new();
        for id in ids.into_iter().filter(|&id| id != 0) {
            if !h.sources.iter().any(|s| s.id as i64 == id) {
                return Err(t.bad_col(
                    "SOURCE_IDS",
                    format!("row {r} ({name}): SOURCE_ID {id} is not in the SOURCE table"),
                ));
            }
            source_ids.push(id as u32);
        }
        if source_ids.is_empty() {
            return Err(t.bad_col("SOURCE_IDS", format!("row {r} ({name}): no SOURCE_ID")));
        }
        scans.push(IdiScan {
            name,
            start: h.ref_date.add_seconds(time_d * DAY_S),
            duration_s: interval_d * DAY_S,
            source_ids,
        });
    }
    Ok(scans)
}

/// Most tones per band accepted in PHASE-CAL (a damaged NO_TABS must not
/// make us allocate gigabytes per row): a 1 MHz comb over 4 GHz.
const MAX_TABS: usize = 4096;

/// The PHASE-CAL table (layout: `write::write_pcal`), optional: a file
/// without it has no rows. Its NO_BAND must be the file's; STATE_n,
/// CABLE_CAL, FREQID and PC_RATE_n may be absent (read as 0, 0, 1, 0).
fn read_pcal_table(fits: &mut Fits, path: &Path, h: &IdiHeader) -> Result<Vec<PcalRow>, IdiError> {
    let Some(mut t) = Table::open(fits, path, "PHASE-CAL")? else {
        return Ok(Vec::new());
    };
    let nb = h.bands.len();
    let np = t.req_count("NO_POL")?;
    if np > 2 {
        return Err(t.bad_key("NO_POL", format!("{np} (must be 1 or 2)")));
    }
    let nt = t.req_count("NO_TABS")?;
    if nt > MAX_TABS {
        return Err(t.bad_key("NO_TABS", format!("{nt} tones (at most {MAX_TABS})")));
    }
    let table_nb = t.req_count("NO_BAND")?;
    if table_nb != nb {
        return Err(t.bad_key("NO_BAND", format!("{table_nb}, UV_DATA has {nb}")));
    }
    let time_c = t.req_col_n("TIME", 1)?;
    let int_c = t.req_col_n("TIME_INTERVAL", 1)?;
    let src_c = t.req_col_n("SOURCE_ID", 1)?;
    let ant_c = t.req_col_n("ANTENNA_NO", 1)?;
    let fq_c = t.opt_col("FREQID")?;
    let cable_c = t.opt_col("CABLE_CAL")?;
    let n = nt * nb;
    struct PolCols {
        state: Option<ColInfo>,
        freq: ColInfo,
        re: ColInfo,
        im: ColInfo,
        rate: Option<ColInfo>,
    }
    let mut pols = Vec::with_capacity(np);
    for p in 1..=np {
        let state = match t.opt_col(&format!("STATE_{p}"))? {
            Some(c) if c.repeat as usize == 4 * nb => Some(c),
            Some(c) => {
                return Err(t.bad_col(
                    &format!("STATE_{p}"),
                    format!(
                        "{} elements per row, expected 4 × NO_BAND = {}",
                        c.repeat,
                        4 * nb
                    ),
                ))
            }
            None => None,
        };
        let shape = |t: &mut Table<'_>, name: String, c: ColInfo| -> Result<ColInfo, IdiError> {
            if c.repeat as usize != n {
                return Err(t.bad_col(
                    &name,
                    format!(
                        "{} elements per row, expected NO_TABS × NO_BAND = {nt} × {nb} = {n}",
                        c.repeat
                    ),
                ));
            }
            Ok(c)
        };
        let freq = t.req_col(&format!("PC_FREQ_{p}"))?;
        let re = t.req_col(&format!("PC_REAL_{p}"))?;
        let im = t.req_col(&format!("PC_IMAG_{p}"))?;
        let rate = t.opt_col(&format!("PC_RATE_{p}"))?;
        pols.push(PolCols {
            state,
            freq: shape(&mut t, format!("PC_FREQ_{p}"), freq)?,
            re: shape(&mut t, format!("PC_REAL_{p}"), re)?,
            im: shape(&mut t, format!("PC_IMAG_{p}"), im)?,
            rate: match rate {
                Some(c) => Some(shape(&mut t, format!("PC_RATE_{p}"), c)?),
                None => None,
            },
        });
    }
    let per_band_f64 =
        |v: Vec<f64>| -> Vec<Vec<f64>> { v.chunks(nt).map(|c| c.to_vec()).collect() };
    let per_band_f32 =
        |v: Vec<f32>| -> Vec<Vec<f32>> { v.chunks(nt).map(|c| c.to_vec()).collect() };
    let mut rows = Vec::new();
    for r in 1..=t.n_rows()? as i64 {
        let (time_d, interval_d) = (t.f64_1(time_c, r)?, t.f64_1(int_c, r)?);
        if !(time_d.is_finite()
            && time_d.abs() <= MAX_DAYS
            && interval_d.is_finite()
            && (0.0..=MAX_DAYS).contains(&interval_d))
        {
            return Err(t.bad_col(
                "TIME",
                format!(
                    "row {r}: TIME {time_d} / TIME_INTERVAL {interval_d} days is not plausible"
                ),
            ));
        }
        let ant = t.int_1(ant_c, r)?;
        if !h.antennas.iter().any(|a| a.id as i64 == ant) {
            return Err(t.bad_col(
                "ANTENNA_NO",
                format!("row {r}: antenna {ant} is not in ARRAY_GEOMETRY"),
            ));
        }
        let src = t.int_1(src_c, r)?;
        if !(0..=i32::MAX as i64).contains(&src) {
            return Err(t.bad_col("SOURCE_ID", format!("row {r}: {src} is negative")));
        }
        let freq_id = match fq_c {
            Some(c) => t.int_1(c, r)?,
            None => 1,
        };
        if !(1..=i32::MAX as i64).contains(&freq_id) {
            return Err(t.bad_col("FREQID", format!("row {r}: {freq_id} (must be >= 1)")));
        }
        let cable_cal_s = match cable_c {
            Some(c) => t.f64_1(c, r)?,
            None => 0.0,
        };
        let mut row = PcalRow {
            time: h.ref_date.add_seconds(time_d * DAY_S),
            time_interval_s: interval_d * DAY_S,
            source_id: src as u32,
            antenna_no: ant as u32,
            freq_id: freq_id as u32,
            cable_cal_s,
            freq_hz: Vec::with_capacity(np),
            re: Vec::with_capacity(np),
            im: Vec::with_capacity(np),
            rate: Vec::with_capacity(np),
            state: Vec::with_capacity(np),
        };
        for (p, c) in pols.iter().enumerate() {
            let read_f32 = |t: &mut Table<'_>, c: ColInfo, what: &str| {
                t.fits
                    .read_f32(c.num, r, c.repeat as usize)
                    .map_err(|e| t.err(&format!("reading {what}_{} of row {r}", p + 1), e))
            };
            let freq = t.f64s(c.freq, r)?;
            if let Some(f) = freq.iter().find(|f| !f.is_finite()) {
                return Err(t.bad_col(
                    &format!("PC_FREQ_{}", p + 1),
                    format!("row {r}: tone frequency {f} Hz is not finite"),
                ));
            }
            row.freq_hz.push(per_band_f64(freq));
            row.re
                .push(per_band_f32(read_f32(&mut t, c.re, "PC_REAL")?));
            row.im
                .push(per_band_f32(read_f32(&mut t, c.im, "PC_IMAG")?));
            row.rate.push(match c.rate {
                Some(rc) => per_band_f32(read_f32(&mut t, rc, "PC_RATE")?),
                None => vec![vec![0.0; nt]; nb],
            });
            row.state.push(match c.state {
                Some(sc) => read_f32(&mut t, sc, "STATE")?
                    .chunks(4)
                    .map(|s| [s[0], s[1], s[2], s[3]])
                    .collect(),
                None => vec![[0.0; 4]; nb],
            });
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
pub(crate) fn swap_baseline_direction_for_tests(vis: &mut [[f32; 3]], stokes: &[i32]) {
    swap_baseline_direction(vis, stokes)
}
