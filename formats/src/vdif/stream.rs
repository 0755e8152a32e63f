//! Frames from a byte stream (pipe, FIFO, stdin) with bounded memory.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::error::VdifError;
use super::header::{VdifHeader, LEGACY_HEADER_BYTES};
use super::reader::no_first_frame;
use super::resync::{byte_search, classify, step_search, Expect, Found, Step, FIRST_SEARCH_BYTES};

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

/// Reads frames one at a time from any `Read`, holding about one frame in
/// memory (plus a bounded search window after damage). Yields the same
/// frames, offsets and [`VdifError::Corrupted`] ranges as
/// [`super::reader::Frames`] on the same bytes: both decide with
/// [`super::resync`].
pub struct FrameReader<R: Read> {
    path: PathBuf,
    inner: R,
    /// Stream offset of `buf[pos]`.
    offset: u64,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    done: bool,
    expect: Option<Expect>,
}

/// Bytes read ahead at a time while searching.
const CHUNK: usize = 64 * 1024;

impl<R: Read> FrameReader<R> {
    /// `path` names the stream in messages (`-` for stdin).
    pub fn new(path: &Path, inner: R) -> Self {
        FrameReader {
            path: path.to_path_buf(),
            inner,
            offset: 0,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            done: false,
            expect: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes consumed so far (frames yielded and ranges skipped).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn view(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.pos);
        self.pos += n;
        self.offset += n as u64;
    }

    /// Make at least `n` unconsumed bytes available unless the stream ends
    /// first; returns how many are.
    fn ensure(&mut self, n: usize) -> Result<usize, VdifError> {
        if self.buf.len() - self.pos >= n || self.eof {
            return Ok(self.buf.len() - self.pos);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut have = self.buf.len();
        while have < n {
            // Grow geometrically towards n, never by more than what is
            // already held (or a chunk): a damaged header claiming a huge
            // frame near the end of a stream costs memory only for the bytes
            // that really arrive.
            let target = n.min(have + have.max(CHUNK));
            if self.buf.len() < target {
                self.buf.resize(target, 0);
            }
            match self.inner.read(&mut self.buf[have..target]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => have += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    self.buf.truncate(have);
                    return Err(VdifError::Io {
                        path: self.path.clone(),
                        offset: self.offset + have as u64,
                        source,
                    });
                }
            }
        }
        self.buf.truncate(have);
        Ok(have)
    }

    fn corrupted(&self, start: u64, what: String) -> VdifError {
        let to_end = self.eof && self.pos >= self.buf.len();
        VdifError::Corrupted {
            path: self.path.clone(),
            offset: start,
            end: self.offset,
            to_end,
            what,
        }
    }

    fn read_frame(&mut self) -> Result<Option<OwnedFrame>, VdifError> {
        if self.ensure(LEGACY_HEADER_BYTES)? == 0 {
            return Ok(None);
        }
        let step = loop {
            match classify(self.view(), self.eof, self.expect.as_ref()) {
                Ok(s) => break s,
                Err(need) => {
                    self.ensure(need)?;
                }
            }
        };
        let start = self.offset;
        match step {
            Step::Frame(header) => {
                let n = header.frame_bytes();
                let bytes = self.view()[..n].to_vec();
                self.consume(n);
                match &mut self.expect {
                    Some(e) => e.note(&header),
                    None => self.expect = Some(Expect::new(&header)),
                }
                Ok(Some(OwnedFrame {
                    offset: start,
                    header,
                    bytes,
                }))
            }
            Step::Truncated { have, need } => {
                // Not consumed: `offset()` stays at the last complete frame.
                self.done = true;
                Err(VdifError::Truncated {
                    path: self.path.clone(),
                    offset: start,
                    have: have as u64,
                    need: need as u64,
                })
            }
            Step::Skip { len, what } => {
                self.consume(len);
                Err(self.corrupted(start, what))
            }
            Step::Search { what, unsupported } => match self.search()? {
                true => Err(self.corrupted(start, what)),
                false if self.expect.is_none() => {
                    self.done = true;
                    let searched = (self.offset - start) as usize;
                    Err(no_first_frame(
                        &self.path,
                        start,
                        what,
                        unsupported,
                        searched,
                    ))
                }
                false => Err(self.corrupted(start, what)),
            },
        }
    }

    /// From a bad header at the current position, consume up to the next
    /// frame (true) or, if there is none, to the end of the search (false).
    /// Memory stays within a search window: rejected bytes are let go.
    fn search(&mut self) -> Result<bool, VdifError> {
        if let Some(e) = self.expect.clone() {
            loop {
                match step_search(self.view(), &e, self.eof) {
                    Found::At(c) => {
                        self.consume(c);
                        return Ok(true);
                    }
                    Found::Nothing => break,
                    Found::NeedMore { need, .. } => {
                        self.ensure(need)?;
                    }
                }
            }
        }
        let mut limit = if self.expect.is_some() {
            usize::MAX
        } else {
            FIRST_SEARCH_BYTES
        };
        let mut from = 1;
        loop {
            let found = byte_search(
                self.view(),
                from,
                limit,
                self.expect.as_ref(),
                self.eof,
                &|c| c,
            );
            match found {
                Found::At(c) => {
                    self.consume(c);
                    return Ok(true);
                }
                Found::Nothing => {
                    let rest = self.view().len().min(limit);
                    self.consume(rest);
                    return Ok(false);
                }
                Found::NeedMore { from: c, need } => {
                    // Nothing before c can start a frame: let it go.
                    self.consume(c);
                    limit = limit.saturating_sub(c);
                    from = 0;
                    self.ensure(need - c + CHUNK)?;
                }
            }
        }
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
                // Damage is skipped and reading goes on; anything else ends it.
                self.done |= !matches!(e, VdifError::Corrupted { .. });
                Some(Err(e))
            }
        }
    }
}
