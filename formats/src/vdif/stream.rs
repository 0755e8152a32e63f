//! Frames from a byte stream (pipe, FIFO, stdin) with bounded memory.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::error::VdifError;
use super::header::{is_unsupported, VdifHeader, HEADER_BYTES, LEGACY_HEADER_BYTES};

/// One frame read from a stream, owning its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedFrame {
    /// Byte offset of the frame in its stream.
    pub offset: u64,
    pub header: VdifHeader,
    /// The whole frame, header included.
    pub bytes: Vec<u8>,
}

impl OwnedFrame {
    pub fn payload(&self) -> &[u8] {
        &self.bytes[self.header.header_bytes()..]
    }
}

/// Reads frames one at a time from any `Read`, holding one frame in memory.
/// Yields the same frames and offsets as [`super::reader::Frames`] on
/// the same bytes.
pub struct FrameReader<R: Read> {
    path: PathBuf,
    inner: R,
    offset: u64,
    done: bool,
}

impl<R: Read> FrameReader<R> {
    /// `path` names the stream in messages (`-` for stdin).
    pub fn new(path: &Path, inner: R) -> Self {
        FrameReader {
            path: path.to_path_buf(),
            inner,
            offset: 0,
            done: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Fill `buf` as far as the stream allows; returns the bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, VdifError> {
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(VdifError::Io {
                        path: self.path.clone(),
                        offset: self.offset + got as u64,
                        source,
                    })
                }
            }
        }
        Ok(got)
    }

    fn read_frame(&mut self) -> Result<Option<OwnedFrame>, VdifError> {
        let start = self.offset;
        let truncated = |have: usize, need: usize, path: &Path| VdifError::Truncated {
            path: path.to_path_buf(),
            offset: start,
            have: have as u64,
            need: need as u64,
        };
        let mut head = [0u8; HEADER_BYTES];
        let got = self.fill(&mut head[..LEGACY_HEADER_BYTES])?;
        if got == 0 {
            return Ok(None);
        }
        if got < LEGACY_HEADER_BYTES {
            return Err(truncated(got, LEGACY_HEADER_BYTES, &self.path));
        }
        let legacy = head[3] & 0x40 != 0;
        let mut have = LEGACY_HEADER_BYTES;
        if !legacy {
            have += self.fill(&mut head[LEGACY_HEADER_BYTES..])?;
            if have < HEADER_BYTES {
                return Err(truncated(have, HEADER_BYTES, &self.path));
            }
        }
        let header = VdifHeader::parse(&head[..have]).expect("enough bytes for the header");
        if let Err(what) = header.check() {
            return Err(if start == 0 && !is_unsupported(&header) {
                VdifError::NotVdif {
                    path: self.path.clone(),
                    offset: 0,
                    what: format!("first header is impossible: {what}"),
                }
            } else {
                VdifError::BadHeader {
                    path: self.path.clone(),
                    offset: start,
                    what,
                }
            });
        }
        let n = header.frame_bytes();
        let mut bytes = vec![0u8; n];
        bytes[..have].copy_from_slice(&head[..have]);
        let got = self.fill(&mut bytes[have..])?;
        if have + got < n {
            return Err(truncated(have + got, n, &self.path));
        }
        self.offset += n as u64;
        Ok(Some(OwnedFrame {
            offset: start,
            header,
            bytes,
        }))
    }
}

impl<R: Read> Iterator for FrameReader<R> {
    type Item = Result<OwnedFrame, VdifError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_frame() {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
