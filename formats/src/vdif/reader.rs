//! Memory-mapped VDIF files and walking their frames.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::error::VdifError;
use super::header::{is_unsupported, VdifHeader, HEADER_BYTES, LEGACY_HEADER_BYTES};
use super::resync::{classify, search_all, Expect, Step, FIRST_SEARCH_BYTES};

/// One frame seen in place: where it starts, its header and all its bytes.
#[derive(Clone, Copy, Debug)]
pub struct FrameRef<'a> {
    pub offset: u64,
    pub header: VdifHeader,
    /// The whole frame, header included.
    pub bytes: &'a [u8],
}

impl<'a> FrameRef<'a> {
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.header.header_bytes()..]
    }
}

/// Read and check the header at `offset` of `data` (the start of a frame).
/// The whole frame must be present. Errors name `path` and `offset`; a bad
/// first header (offset 0) means the file is not VDIF at all.
pub fn frame_at<'a>(path: &Path, data: &'a [u8], offset: usize) -> Result<FrameRef<'a>, VdifError> {
    let rest = &data[offset.min(data.len())..];
    let truncated = |need: usize| VdifError::Truncated {
        path: path.to_path_buf(),
        offset: offset as u64,
        have: rest.len() as u64,
        need: need as u64,
    };
    if rest.len() < LEGACY_HEADER_BYTES {
        return Err(truncated(LEGACY_HEADER_BYTES));
    }
    let header = match VdifHeader::parse(rest) {
        Some(h) => h,
        None => return Err(truncated(32)),
    };
    if let Err(what) = header.check() {
        return Err(if offset == 0 && !is_unsupported(&header) {
            VdifError::NotVdif {
                path: path.to_path_buf(),
                offset: 0,
                what: format!("first header is impossible: {what}"),
            }
        } else {
            VdifError::BadHeader {
                path: path.to_path_buf(),
                offset: offset as u64,
                what,
            }
        });
    }
    let n = header.frame_bytes();
    if rest.len() < n {
        // A "frame" that claims more than the whole file at offset 0 is not VDIF.
        if offset == 0 && data.len() < n {
            return Err(VdifError::NotVdif {
                path: path.to_path_buf(),
                offset: 0,
                what: format!(
                    "first header claims a {n}-byte frame but the file has {} bytes",
                    data.len()
                ),
            });
        }
        return Err(truncated(n));
    }
    Ok(FrameRef {
        offset: offset as u64,
        header,
        bytes: &rest[..n],
    })
}

/// Frames of a byte slice in order, each stepped over by its own length.
///
/// Damage does not end the walk: a bad header (or one that does not fit the
/// stream) yields a [`VdifError::Corrupted`] naming the byte range skipped,
/// and the walk goes on at the next frame found (rules in
/// [`super::resync`]). A truncated last frame, or a first header after which
/// no frame can be found, yields its error and ends the walk.
pub struct Frames<'a> {
    path: &'a Path,
    data: &'a [u8],
    offset: usize,
    done: bool,
    expect: Option<Expect>,
    holes: &'a [(usize, usize)],
}

impl<'a> Frames<'a> {
    pub fn new(path: &'a Path, data: &'a [u8]) -> Self {
        Self::from_offset(path, data, 0)
    }

    /// Start at `offset` instead of 0 (a frame boundary).
    pub fn from_offset(path: &'a Path, data: &'a [u8], offset: usize) -> Self {
        Frames {
            path,
            data,
            offset,
            done: false,
            expect: None,
            holes: &[],
        }
    }

    /// Byte ranges known to read as zeros (holes of a sparse file, sorted):
    /// a search skips them without touching their pages.
    pub fn with_holes(mut self, holes: &'a [(usize, usize)]) -> Self {
        self.holes = holes;
        self
    }

    /// Current position (the next frame or damage starts here).
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn corrupted(&self, offset: usize, end: usize, what: String) -> VdifError {
        VdifError::Corrupted {
            path: self.path.to_path_buf(),
            offset: offset as u64,
            end: end as u64,
            to_end: end >= self.data.len(),
            what,
        }
    }
}

/// The first candidate ≥ `c` (absolute) whose header bytes are not all inside
/// one hole.
pub(crate) fn skip_holes(holes: &[(usize, usize)], c: usize) -> usize {
    let i = holes.partition_point(|h| h.0 <= c);
    if i == 0 {
        return c;
    }
    let (_, end) = holes[i - 1];
    if c + HEADER_BYTES <= end {
        end + 1 - HEADER_BYTES
    } else {
        c
    }
}

/// The error for a stream in which no first frame could be found.
pub(crate) fn no_first_frame(
    path: &Path,
    offset: u64,
    what: String,
    unsupported: bool,
    searched: usize,
) -> VdifError {
    if unsupported {
        VdifError::BadHeader {
            path: path.to_path_buf(),
            offset,
            what: what.trim_start_matches("bad VDIF header: ").to_string(),
        }
    } else {
        VdifError::NotVdif {
            path: path.to_path_buf(),
            offset,
            what: format!(
                "{}; no VDIF frame found in the next {} bytes",
                what.replacen("bad VDIF header: ", "first header is impossible: ", 1),
                searched.min(FIRST_SEARCH_BYTES)
            ),
        }
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<FrameRef<'a>, VdifError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.offset >= self.data.len() {
            return None;
        }
        let at = self.offset;
        let view = &self.data[at..];
        let step = classify(view, true, self.expect.as_ref())
            .expect("all data is at hand: classify always decides");
        match step {
            Step::Frame(header) => {
                let n = header.frame_bytes();
                match &mut self.expect {
                    Some(e) => e.note(&header),
                    None => self.expect = Some(Expect::new(&header)),
                }
                self.offset += n;
                Some(Ok(FrameRef {
                    offset: at as u64,
                    header,
                    bytes: &view[..n],
                }))
            }
            Step::Truncated { have, need } => {
                self.done = true;
                Some(Err(VdifError::Truncated {
                    path: self.path.to_path_buf(),
                    offset: at as u64,
                    have: have as u64,
                    need: need as u64,
                }))
            }
            Step::Skip { len, what } => {
                self.offset += len;
                Some(Err(self.corrupted(at, at + len, what)))
            }
            Step::Search { what, unsupported } => {
                let holes = self.holes;
                let skip = |c: usize| skip_holes(holes, c + at) - at;
                match search_all(view, self.expect.as_ref(), &skip) {
                    Some(c) => {
                        self.offset += c;
                        Some(Err(self.corrupted(at, at + c, what)))
                    }
                    None => {
                        self.done = true;
                        Some(Err(if self.expect.is_none() {
                            no_first_frame(self.path, at as u64, what, unsupported, view.len())
                        } else {
                            self.corrupted(at, self.data.len(), what)
                        }))
                    }
                }
            }
        }
    }
}

/// A regular VDIF file, memory-mapped (the OS pages it in as it is read).
pub struct VdifFile {
    path: PathBuf,
    map: Mmap,
    /// Holes of a sparse file (they read as zeros), sorted.
    holes: Vec<(usize, usize)>,
}

impl VdifFile {
    /// Open and map `path`. An empty file is an error; so is one whose first
    /// header is not VDIF.
    pub fn open(path: &Path) -> Result<VdifFile, VdifError> {
        let open_err = |source| VdifError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if meta.is_dir() {
            return Err(open_err(std::io::Error::other("is a directory")));
        }
        if meta.len() == 0 {
            return Err(VdifError::Empty {
                path: path.to_path_buf(),
            });
        }
        // SAFETY: the map is read-only; like every mmap reader we rely on the
        // file not being truncated by another process while we read it.
        let map = unsafe { Mmap::map(&file) }.map_err(open_err)?;
        let holes = holes(&file, meta.len());
        let f = VdifFile {
            path: path.to_path_buf(),
            map,
            holes,
        };
        // There must be a first frame (found by the search of
        // `super::resync` if the first header is damaged); a truncated first
        // frame is reported as truncation, not as "not VDIF".
        match f.frames().next() {
            Some(Err(e @ VdifError::NotVdif { .. })) => Err(e),
            Some(Err(VdifError::Truncated { .. })) if f.map.len() < 32 => Err(VdifError::NotVdif {
                path: path.to_path_buf(),
                offset: 0,
                what: format!("{} bytes is shorter than any VDIF frame", f.map.len()),
            }),
            _ => Ok(f),
        }
    }

    /// The first frame: at byte 0, or after a damaged start (found by the
    /// search of [`super::resync`]). Errors if there is none.
    pub fn first_frame(&self) -> Result<FrameRef<'_>, VdifError> {
        let mut frames = self.frames();
        match frames.next() {
            Some(Ok(f)) => Ok(f),
            Some(Err(VdifError::Corrupted { .. })) => match frames.next() {
                Some(r) => r,
                None => Err(VdifError::NotVdif {
                    path: self.path.clone(),
                    offset: 0,
                    what: "no VDIF frame found".into(),
                }),
            },
            Some(Err(e)) => Err(e),
            None => Err(VdifError::Empty {
                path: self.path.clone(),
            }),
        }
    }

    /// Holes (zero-reading ranges of a sparse file) found when it was opened.
    pub fn holes(&self) -> &[(usize, usize)] {
        &self.holes
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn frames(&self) -> Frames<'_> {
        Frames::new(&self.path, &self.map).with_holes(&self.holes)
    }

    /// The frame starting at `offset`, checked.
    pub fn frame_at(&self, offset: usize) -> Result<FrameRef<'_>, VdifError> {
        frame_at(&self.path, &self.map, offset)
    }
}

/// At most this many holes are listed (beyond, the rest of the file is
/// treated as data: still correct, only slower to search).
const MAX_HOLES: usize = 4096;

/// The holes of a sparse file (`lseek` with `SEEK_DATA`/`SEEK_HOLE`), so a
/// search for the next frame can skip them without paging them in. Empty on
/// file systems that do not report holes.
#[cfg(target_os = "linux")]
fn holes(file: &File, len: u64) -> Vec<(usize, usize)> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let mut out = Vec::new();
    let mut pos: i64 = 0;
    let len = len as i64;
    while pos < len && out.len() < MAX_HOLES {
        // SAFETY: lseek on a file descriptor we own; it only moves the offset.
        let data = unsafe { libc::lseek(fd, pos, libc::SEEK_DATA) };
        if data < 0 {
            // ENXIO: no data after pos; anything else: no hole support.
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO) {
                out.push((pos as usize, len as usize));
            }
            break;
        }
        if data > pos {
            out.push((pos as usize, data as usize));
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        if hole < 0 || hole <= data {
            break;
        }
        pos = hole;
    }
    out
}

#[cfg(not(target_os = "linux"))]
fn holes(_file: &File, _len: u64) -> Vec<(usize, usize)> {
    Vec::new()
}
