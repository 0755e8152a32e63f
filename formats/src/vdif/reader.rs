//! Memory-mapped VDIF files and walking their frames.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::error::VdifError;
use super::header::{is_unsupported, VdifHeader, LEGACY_HEADER_BYTES};

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
/// Yields an error (a truncated last frame, an impossible header) and then
/// stops; every frame before it was complete and checked.
pub struct Frames<'a> {
    path: &'a Path,
    data: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Frames<'a> {
    pub fn new(path: &'a Path, data: &'a [u8]) -> Self {
        Frames {
            path,
            data,
            offset: 0,
            done: false,
        }
    }

    /// Start at `offset` instead of 0 (a frame boundary).
    pub fn from_offset(path: &'a Path, data: &'a [u8], offset: usize) -> Self {
        Frames {
            path,
            data,
            offset,
            done: false,
        }
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<FrameRef<'a>, VdifError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.offset >= self.data.len() {
            return None;
        }
        match frame_at(self.path, self.data, self.offset) {
            Ok(f) => {
                self.offset += f.bytes.len();
                Some(Ok(f))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A regular VDIF file, memory-mapped (the OS pages it in as it is read).
pub struct VdifFile {
    path: PathBuf,
    map: Mmap,
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
        let f = VdifFile {
            path: path.to_path_buf(),
            map,
        };
        // The first frame must at least be a VDIF header (a truncated first
        // frame is reported as truncation, not as "not VDIF").
        match frame_at(&f.path, &f.map, 0) {
            Err(e @ VdifError::NotVdif { .. }) => Err(e),
            Err(VdifError::Truncated { .. }) if f.map.len() < 32 => Err(VdifError::NotVdif {
                path: path.to_path_buf(),
                offset: 0,
                what: format!("{} bytes is shorter than any VDIF frame", f.map.len()),
            }),
            _ => Ok(f),
        }
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
        Frames::new(&self.path, &self.map)
    }

    /// The frame starting at `offset`, checked.
    pub fn frame_at(&self, offset: usize) -> Result<FrameRef<'_>, VdifError> {
        frame_at(&self.path, &self.map, offset)
    }
}
