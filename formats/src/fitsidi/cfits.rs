//! A small, safe layer over the bundled cfitsio (through `fitsio::sys`).
//!
//! Why not the high-level `fitsio` API: in 0.21 it writes vector cells by
//! counting elements as rows, panics when the current HDU is not a table and
//! on single vector cells (`unimplemented!`), and cannot write logical keywords
//! or column units. FITS-IDI needs all of these, and our readers must turn every
//! problem into an error, never a panic. So this module wraps only the few
//! cfitsio calls we need, each checked, with all `unsafe` kept here.
//!
//! Files are opened with the "disk file" entry points (`ffdkinit`, `ffdkopn`),
//! which take the path literally: cfitsio's extended file-name syntax
//! (`file.fits[1]`, `!file`, `.gz`) would otherwise reinterpret odd paths.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::path::Path;
use std::ptr;

use fitsio::sys;

/// A cfitsio failure: status code and cfitsio's own text for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CfError {
    pub status: i32,
    pub text: String,
}

impl std::fmt::Display for CfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (cfitsio status {})", self.text, self.status)
    }
}

pub(crate) type CfResult<T> = Result<T, CfError>;

// cfitsio status codes we treat as answers rather than failures.
const KEY_NO_EXIST: c_int = 202;
const COL_NOT_FOUND: c_int = 219;
const BAD_HDU_NUM: c_int = 301;

fn status_text(status: c_int) -> String {
    let mut buf = [0 as c_char; 32];
    // SAFETY: ffgerr writes at most 30 characters plus NUL into the buffer.
    unsafe { sys::ffgerr(status, buf.as_mut_ptr()) };
    // SAFETY: the buffer was zeroed and ffgerr NUL-terminates.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
    text.to_string_lossy().trim().to_string()
}

fn check(status: c_int) -> CfResult<()> {
    if status == 0 {
        Ok(())
    } else {
        // Drop cfitsio's per-thread message stack so it does not grow.
        // SAFETY: no arguments; clears the error message stack.
        unsafe { sys::ffcmsg() };
        Err(CfError {
            status,
            text: status_text(status),
        })
    }
}

fn cstring(s: &str) -> CfResult<CString> {
    CString::new(s).map_err(|_| CfError {
        status: -1,
        text: format!("string {s:?} contains a NUL byte"),
    })
}

/// Column number (1-based), cfitsio type code and repeat count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ColInfo {
    pub num: i32,
    pub typecode: i32,
    pub repeat: i64,
}

/// An open FITS file, closed on drop.
pub(crate) struct Fits {
    ptr: *mut sys::fitsfile,
}

// SAFETY: the bundled cfitsio is built reentrant (fitsio-sys enables it), and a
// `Fits` owns its handle exclusively, so moving it to another thread is sound.
unsafe impl Send for Fits {}

impl Drop for Fits {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            let mut status = 0;
            // SAFETY: ptr is a live handle from ffdkinit/ffdkopn, closed once.
            unsafe { sys::ffclos(self.ptr, &mut status) };
            self.ptr = ptr::null_mut();
            if status != 0 {
                // SAFETY: no arguments.
                unsafe { sys::ffcmsg() };
            }
        }
    }
}

impl Fits {
    /// Create a new file (the path must not exist).
    pub fn create(path: &Path) -> CfResult<Fits> {
        let name = cstring(&path.to_string_lossy())?;
        let mut ptr = ptr::null_mut();
        let mut status = 0;
        // SAFETY: name is NUL-terminated; ptr receives the new handle.
        unsafe { sys::ffdkinit(&mut ptr, name.as_ptr(), &mut status) };
        check(status)?;
        Ok(Fits { ptr })
    }

    /// Open an existing file read-only.
    pub fn open(path: &Path) -> CfResult<Fits> {
        let name = cstring(&path.to_string_lossy())?;
        let mut ptr = ptr::null_mut();
        let mut status = 0;
        // SAFETY: as in create; iomode 0 = READONLY.
        unsafe { sys::ffdkopn(&mut ptr, name.as_ptr(), 0, &mut status) };
        check(status)?;
        Ok(Fits { ptr })
    }

    /// Close, reporting any error from the final flush.
    pub fn close(mut self) -> CfResult<()> {
        let mut status = 0;
        // SAFETY: live handle, nulled so Drop does not close it again.
        unsafe { sys::ffclos(self.ptr, &mut status) };
        self.ptr = ptr::null_mut();
        check(status)
    }

    /// Primary HDU with no data (BITPIX 8, NAXIS 0), as Memo 114 §3 wants.
    pub fn create_empty_primary(&mut self) -> CfResult<()> {
        let mut status = 0;
        // SAFETY: naxis 0, so naxes is not read.
        unsafe { sys::ffcrim(self.ptr, 8, 0, ptr::null_mut(), &mut status) };
        check(status)
    }

    /// Append a binary table with columns (name, TFORM, TUNIT) and no rows.
    pub fn create_bintable(
        &mut self,
        extname: &str,
        cols: &[(&str, String, &str)],
    ) -> CfResult<()> {
        let names: Vec<CString> = cols.iter().map(|c| cstring(c.0)).collect::<CfResult<_>>()?;
        let forms: Vec<CString> = cols
            .iter()
            .map(|c| cstring(&c.1))
            .collect::<CfResult<_>>()?;
        let units: Vec<CString> = cols.iter().map(|c| cstring(c.2)).collect::<CfResult<_>>()?;
        let mut pn: Vec<*mut c_char> = names.iter().map(|s| s.as_ptr() as *mut c_char).collect();
        let mut pf: Vec<*mut c_char> = forms.iter().map(|s| s.as_ptr() as *mut c_char).collect();
        let mut pu: Vec<*mut c_char> = units.iter().map(|s| s.as_ptr() as *mut c_char).collect();
        let ext = cstring(extname)?;
        let mut status = 0;
        // SAFETY: three arrays of cols.len() valid C strings outliving the call;
        // cfitsio only reads them.
        unsafe {
            sys::ffcrtb(
                self.ptr,
                sys::BINARY_TBL as c_int,
                0,
                cols.len() as c_int,
                pn.as_mut_ptr(),
                pf.as_mut_ptr(),
                pu.as_mut_ptr(),
                ext.as_ptr(),
                &mut status,
            )
        };
        check(status)
    }

    pub fn key_str(&mut self, name: &str, value: &str, comment: &str) -> CfResult<()> {
        let (n, v, c) = (cstring(name)?, cstring(value)?, cstring(comment)?);
        let mut status = 0;
        // SAFETY: NUL-terminated strings, read only.
        unsafe { sys::ffukys(self.ptr, n.as_ptr(), v.as_ptr(), c.as_ptr(), &mut status) };
        check(status)
    }

    pub fn key_int(&mut self, name: &str, value: i64, comment: &str) -> CfResult<()> {
        let (n, c) = (cstring(name)?, cstring(comment)?);
        let mut status = 0;
        // SAFETY: as above.
        unsafe { sys::ffukyj(self.ptr, n.as_ptr(), value, c.as_ptr(), &mut status) };
        check(status)
    }

    /// A double keyword with 17 significant digits (round-trips exactly).
    pub fn key_f64(&mut self, name: &str, value: f64, comment: &str) -> CfResult<()> {
        let (n, c) = (cstring(name)?, cstring(comment)?);
        let mut status = 0;
        // SAFETY: as above; decim -17 = 17 significant digits, E format.
        unsafe { sys::ffukyd(self.ptr, n.as_ptr(), value, -17, c.as_ptr(), &mut status) };
        check(status)
    }

    pub fn key_bool(&mut self, name: &str, value: bool, comment: &str) -> CfResult<()> {
        let (n, c) = (cstring(name)?, cstring(comment)?);
        let mut status = 0;
        // SAFETY: as above.
        unsafe {
            sys::ffukyl(
                self.ptr,
                n.as_ptr(),
                value as c_int,
                c.as_ptr(),
                &mut status,
            )
        };
        check(status)
    }

    pub fn history(&mut self, text: &str) -> CfResult<()> {
        let t = cstring(text)?;
        let mut status = 0;
        // SAFETY: as above.
        unsafe { sys::ffphis(self.ptr, t.as_ptr(), &mut status) };
        check(status)
    }

    /// Move to the binary table with this EXTNAME; `Ok(false)` if there is none.
    pub fn move_to_table(&mut self, extname: &str) -> CfResult<bool> {
        let n = cstring(extname)?;
        let mut status = 0;
        // SAFETY: ffmnhd only reads the name despite the *mut signature.
        unsafe {
            sys::ffmnhd(
                self.ptr,
                sys::BINARY_TBL as c_int,
                n.as_ptr() as *mut c_char,
                0,
                &mut status,
            )
        };
        if status == BAD_HDU_NUM {
            // SAFETY: no arguments.
            unsafe { sys::ffcmsg() };
            return Ok(false);
        }
        check(status).map(|_| true)
    }

    pub fn num_rows(&mut self) -> CfResult<i64> {
        let mut n = 0;
        let mut status = 0;
        // SAFETY: n receives the row count.
        unsafe { sys::ffgnrwll(self.ptr, &mut n, &mut status) };
        check(status).map(|_| n)
    }

    /// The column with exactly this name (case-insensitive), if any.
    pub fn column(&mut self, name: &str) -> CfResult<Option<ColInfo>> {
        // cfitsio treats * ? # as wildcards; our names never contain them, and
        // refusing them keeps a lookup from matching a different column.
        if name.contains(['*', '?', '#']) {
            return Ok(None);
        }
        let n = cstring(name)?;
        let mut num = 0;
        let mut status = 0;
        // SAFETY: the template is only read; casesen 0 = case-insensitive.
        unsafe {
            sys::ffgcno(
                self.ptr,
                0,
                n.as_ptr() as *mut c_char,
                &mut num,
                &mut status,
            )
        };
        if status == COL_NOT_FOUND {
            // SAFETY: no arguments.
            unsafe { sys::ffcmsg() };
            return Ok(None);
        }
        check(status)?;
        let mut typecode = 0;
        let mut repeat = 0;
        let mut width = 0;
        // SAFETY: outputs are plain integers.
        unsafe {
            sys::ffgtclll(
                self.ptr,
                num,
                &mut typecode,
                &mut repeat,
                &mut width,
                &mut status,
            )
        };
        check(status)?;
        // A zero-width field (TFORM such as `8A0`) makes cfitsio divide by
        // zero when the column is read (SIGFPE, found by fuzzing): refuse it
        // here, where it is still an error and not a crash.
        if width <= 0 || repeat < 0 {
            return Err(CfError {
                status: -1,
                text: format!(
                    "column {name}: TFORM gives an impossible field (repeat {repeat}, width {width})"
                ),
            });
        }
        Ok(Some(ColInfo {
            num,
            typecode,
            repeat,
        }))
    }

    /// All column names of the current table, in order.
    pub fn column_names(&mut self) -> CfResult<Vec<String>> {
        let mut ncols = 0;
        let mut status = 0;
        // SAFETY: ncols receives the count.
        unsafe { sys::ffgncl(self.ptr, &mut ncols, &mut status) };
        check(status)?;
        (1..=ncols)
            .map(|i| Ok(self.read_key_str(&format!("TTYPE{i}"))?.unwrap_or_default()))
            .collect()
    }

    /// The TDIM of a column (FITS order, fastest axis first).
    pub fn tdim(&mut self, colnum: i32) -> CfResult<Vec<i64>> {
        let mut naxes = [0i64; 16];
        let mut naxis = 0;
        let mut status = 0;
        // SAFETY: room for 16 axes is passed as maxdim.
        unsafe {
            sys::ffgtdmll(
                self.ptr,
                colnum,
                16,
                &mut naxis,
                naxes.as_mut_ptr(),
                &mut status,
            )
        };
        check(status)?;
        Ok(naxes[..(naxis.clamp(0, 16) as usize)].to_vec())
    }

    fn read_key_raw(&mut self, name: &str) -> CfResult<Option<String>> {
        let n = cstring(name)?;
        let mut value = [0 as c_char; 80];
        let mut status = 0;
        // SAFETY: value has room for a full card value (FLEN_VALUE = 71); the
        // comment pointer may be null.
        unsafe {
            sys::ffgkey(
                self.ptr,
                n.as_ptr(),
                value.as_mut_ptr(),
                ptr::null_mut(),
                &mut status,
            )
        };
        if status == KEY_NO_EXIST {
            // SAFETY: no arguments.
            unsafe { sys::ffcmsg() };
            return Ok(None);
        }
        check(status)?;
        // SAFETY: NUL-terminated by cfitsio within the buffer.
        let s = unsafe { CStr::from_ptr(value.as_ptr()) };
        Ok(Some(s.to_string_lossy().trim().to_string()))
    }

    /// A string keyword (quotes removed, trailing blanks trimmed); `None` if absent.
    /// A non-string value is returned as its literal text.
    pub fn read_key_str(&mut self, name: &str) -> CfResult<Option<String>> {
        Ok(self.read_key_raw(name)?.map(|v| {
            if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
                v[1..v.len() - 1].replace("''", "'").trim_end().to_string()
            } else {
                v
            }
        }))
    }

    /// A numeric keyword as text, for the caller to parse; `None` if absent.
    pub fn read_key_value(&mut self, name: &str) -> CfResult<Option<String>> {
        self.read_key_raw(name)
    }

    fn write_cells(
        &mut self,
        datatype: u32,
        colnum: i32,
        row: i64,
        data: *mut c_void,
        n: usize,
    ) -> CfResult<()> {
        let mut status = 0;
        // SAFETY: data points at n elements of the C type matching datatype
        // (callers below guarantee it); cfitsio reads them only.
        unsafe {
            sys::ffpcl(
                self.ptr,
                datatype as c_int,
                colnum,
                row,
                1,
                n as i64,
                data,
                &mut status,
            )
        };
        check(status)
    }

    /// Write `data` into one row (1-based) of a column, starting at its first element.
    pub fn write_f64(&mut self, colnum: i32, row: i64, data: &[f64]) -> CfResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.write_cells(
            sys::TDOUBLE,
            colnum,
            row,
            data.as_ptr() as *mut c_void,
            data.len(),
        )
    }

    pub fn write_f32(&mut self, colnum: i32, row: i64, data: &[f32]) -> CfResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.write_cells(
            sys::TFLOAT,
            colnum,
            row,
            data.as_ptr() as *mut c_void,
            data.len(),
        )
    }

    pub fn write_i32(&mut self, colnum: i32, row: i64, data: &[i32]) -> CfResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.write_cells(
            sys::TINT,
            colnum,
            row,
            data.as_ptr() as *mut c_void,
            data.len(),
        )
    }

    pub fn write_str(&mut self, colnum: i32, row: i64, value: &str) -> CfResult<()> {
        let v = cstring(value)?;
        let mut arr = [v.as_ptr() as *mut c_char];
        let mut status = 0;
        // SAFETY: one valid C string, only read.
        unsafe { sys::ffpcls(self.ptr, colnum, row, 1, 1, arr.as_mut_ptr(), &mut status) };
        check(status)
    }

    fn read_cells(
        &mut self,
        datatype: u32,
        colnum: i32,
        row: i64,
        out: *mut c_void,
        n: usize,
    ) -> CfResult<()> {
        let mut status = 0;
        let mut anynul = 0;
        // SAFETY: out has room for n elements of the C type of datatype; a null
        // nulval means "no null checking".
        unsafe {
            sys::ffgcv(
                self.ptr,
                datatype as c_int,
                colnum,
                row,
                1,
                n as i64,
                ptr::null_mut(),
                out,
                &mut anynul,
                &mut status,
            )
        };
        check(status)
    }

    /// Read `n` elements of one row, converted to f64 whatever the column type.
    pub fn read_f64(&mut self, colnum: i32, row: i64, n: usize) -> CfResult<Vec<f64>> {
        let mut out = vec![0f64; n];
        if n > 0 {
            self.read_cells(
                sys::TDOUBLE,
                colnum,
                row,
                out.as_mut_ptr() as *mut c_void,
                n,
            )?;
        }
        Ok(out)
    }

    pub fn read_f32(&mut self, colnum: i32, row: i64, n: usize) -> CfResult<Vec<f32>> {
        let mut out = vec![0f32; n];
        if n > 0 {
            self.read_cells(sys::TFLOAT, colnum, row, out.as_mut_ptr() as *mut c_void, n)?;
        }
        Ok(out)
    }

    pub fn read_i64(&mut self, colnum: i32, row: i64, n: usize) -> CfResult<Vec<i64>> {
        let mut out = vec![0i64; n];
        if n > 0 {
            self.read_cells(
                sys::TLONGLONG,
                colnum,
                row,
                out.as_mut_ptr() as *mut c_void,
                n,
            )?;
        }
        Ok(out)
    }

    /// Read a string cell (trailing blanks removed). `width` is the column's repeat.
    pub fn read_str(&mut self, colnum: i32, row: i64, width: usize) -> CfResult<String> {
        let mut buf = vec![0 as c_char; width.max(1) + 1];
        let mut arr = [buf.as_mut_ptr()];
        let mut nul = [0 as c_char; 1];
        let mut anynul = 0;
        let mut status = 0;
        // SAFETY: buf has room for the cell plus NUL; one string is read.
        unsafe {
            sys::ffgcvs(
                self.ptr,
                colnum,
                row,
                1,
                1,
                nul.as_mut_ptr(),
                arr.as_mut_ptr(),
                &mut anynul,
                &mut status,
            )
        };
        check(status)?;
        // SAFETY: cfitsio NUL-terminates within width + 1.
        let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
        Ok(s.to_string_lossy().trim_end().to_string())
    }
}
