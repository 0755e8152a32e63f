//! Finding frames again after corrupted bytes. VDIF has no sync word: a frame
//! start is recognised only by a header that makes sense where one is
//! expected. The memory-mapped reader ([`super::reader::Frames`]) and the
//! streaming reader ([`super::stream::FrameReader`]) decide with the functions
//! here on the same bytes, so they yield the same frames and report the same
//! corrupted byte ranges.
//!
//! Rules (the *reference* is the stream's first good frame: station, frame
//! size, sample format, legacy mode; plus the latest UTC second and the
//! threads seen since):
//!
//! * The first frame must be confirmed: its header passes
//!   [`VdifHeader::check`] and a header one to [`MAX_STEPS`] frames later agrees
//!   with it (station, size, format, legacy mode, within [`MAX_CLOCK_STEP_S`]),
//!   or the data ends right after it. Otherwise the first [`FIRST_SEARCH_BYTES`] are searched
//!   byte by byte for a confirmed frame.
//! * A header that passes the check and matches the reference is a frame,
//!   stepped over by its length.
//! * A header that passes the check but differs from the reference (another
//!   size, station or format) is an odd frame if a header matching the
//!   reference follows after its own length (or the data ends there); else, if
//!   one follows one reference frame later, that reference-sized span is
//!   reported as corrupted; else a search starts.
//! * A search after a bad header at byte b tries frame-size steps b + j·F
//!   (j = 1..=[`MAX_STEPS`], not beyond [`STEP_BYTES`] unless j = 1), then every
//!   byte from b + 1 to the end of the data. A candidate is accepted when its
//!   header is *plausible* — passes the check, matches the reference, lies
//!   within [`MAX_CLOCK_STEP_S`] of the last good frame and belongs to a thread
//!   already seen — and so is the header one frame later, or the data ends
//!   inside that frame. Everything from b to the accepted frame is one
//!   corrupted range.
//!
//! A header of random bytes passes all that with probability far below 2⁻⁶⁰
//! (16-bit station, 24-bit length, format and time fields, twice), so a search
//! through a long damaged stretch does not lock onto payload bytes.

use super::header::{VdifHeader, HEADER_BYTES, LEGACY_HEADER_BYTES};

/// Largest clock difference (seconds) between a resynchronisation candidate
/// and the last good frame, and between the two headers that confirm a first
/// frame.
pub const MAX_CLOCK_STEP_S: i64 = 86_400;
/// Without a reference (the first header is bad) only this many bytes are
/// searched before the data is declared not VDIF.
pub const FIRST_SEARCH_BYTES: usize = 1 << 20;
/// Frame-size steps tried before the byte-by-byte search.
pub const MAX_STEPS: usize = 16;
/// Frame-size steps go no further than this (the first step always counts).
pub const STEP_BYTES: usize = 1 << 20;
/// An odd-size frame is stepped over by its own length only if it is no
/// longer than this or four reference frames, whichever is more (so a
/// corrupted length field cannot make a stream reader buffer 128 MiB).
pub const MAX_ODD_FRAME_BYTES: usize = 1 << 20;
const MAX_THREADS: usize = 1024;

/// What the stream's frames look like: the reference for deciding whether a
/// header belongs to it.
#[derive(Clone, Debug)]
pub struct Expect {
    header: VdifHeader,
    second: i64,
    threads: Vec<u16>,
}

impl Expect {
    pub fn new(h: &VdifHeader) -> Self {
        Expect {
            header: *h,
            second: h.second(),
            threads: vec![h.thread_id],
        }
    }

    /// The reference of a recording whose threads are known, positioned at
    /// the frame `at` (for checking one frame found by computing its offset).
    pub fn at_frame(first: &VdifHeader, threads: &[u16], at: &VdifHeader) -> Self {
        Expect {
            header: *first,
            second: at.second(),
            threads: threads.to_vec(),
        }
    }

    pub fn frame_bytes(&self) -> usize {
        self.header.frame_bytes()
    }

    /// Same station, frame size, sample format and legacy mode.
    pub fn matches(&self, h: &VdifHeader) -> bool {
        mismatch(&self.header, h).is_none()
    }

    /// Remember a frame that was accepted (its time and thread).
    pub fn note(&mut self, h: &VdifHeader) {
        if self.matches(h) {
            self.second = h.second();
            if !self.threads.contains(&h.thread_id) && self.threads.len() < MAX_THREADS {
                self.threads.push(h.thread_id);
            }
        }
    }

    /// A header that can continue the stream at a frame boundary.
    fn plausible(&self, h: &VdifHeader) -> bool {
        h.check().is_ok() && self.matches(h) && (h.second() - self.second).abs() <= MAX_CLOCK_STEP_S
    }

    /// A header found by the byte-by-byte search must also be of a thread
    /// already seen.
    fn plausible_found(&self, h: &VdifHeader) -> bool {
        self.plausible(h) && self.threads.contains(&h.thread_id)
    }

    /// How `h` differs from the reference, for messages.
    pub fn describe_mismatch(&self, h: &VdifHeader) -> String {
        mismatch(&self.header, h).unwrap_or_else(|| "matches the stream".into())
    }
}

fn mismatch(r: &VdifHeader, h: &VdifHeader) -> Option<String> {
    if h.station_id != r.station_id {
        Some(format!(
            "station ID {} differs from the stream's {}",
            h.station_id, r.station_id
        ))
    } else if h.frame_bytes() != r.frame_bytes() {
        Some(format!(
            "frame size {} bytes differs from the stream's {}",
            h.frame_bytes(),
            r.frame_bytes()
        ))
    } else if h.sample_format() != r.sample_format() {
        Some(format!(
            "sample format ({} bits, {}, {} channels) differs from the stream's ({} bits, {}, {} channels)",
            h.bits_per_sample,
            if h.complex { "complex" } else { "real" },
            h.channels(),
            r.bits_per_sample,
            if r.complex { "complex" } else { "real" },
            r.channels()
        ))
    } else if h.legacy != r.legacy {
        Some("legacy-header flag differs from the stream's".into())
    } else {
        None
    }
}

fn header_at(view: &[u8], at: usize) -> Option<VdifHeader> {
    view.get(at..).and_then(VdifHeader::parse)
}

/// Two headers that agree as consecutive frames of one stream without a
/// reference (confirming a first frame).
fn agree(a: &VdifHeader, b: &VdifHeader) -> bool {
    b.check().is_ok()
        && mismatch(a, b).is_none()
        && (a.second() - b.second()).abs() <= MAX_CLOCK_STEP_S
}

/// A three-way answer: yes, no, or "give me at least this many bytes".
#[derive(Debug, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    NeedMore(usize),
}

/// Is there a frame starting at `c` of `view`? (See the module rules.)
fn accept(view: &[u8], c: usize, expect: Option<&Expect>, at_eof: bool, found: bool) -> Tri {
    let Some(h) = header_at(view, c) else {
        return if at_eof {
            Tri::No
        } else {
            Tri::NeedMore(c + HEADER_BYTES)
        };
    };
    let Some(e) = expect else {
        return confirm_first(view, c, &h, at_eof);
    };
    if !(if found {
        e.plausible_found(&h)
    } else {
        e.plausible(&h)
    }) {
        return Tri::No;
    }
    let next = c + h.frame_bytes();
    match header_at(view, next) {
        Some(n) if e.plausible(&n) => Tri::Yes,
        Some(_) => Tri::No,
        None if !at_eof => Tri::NeedMore(next + HEADER_BYTES),
        // The data ends within the frame or its successor's header: the
        // plausible header is taken (a truncated tail is reported as such).
        None => Tri::Yes,
    }
}

/// Without a reference: a header that passes the check, confirmed by one of
/// the headers at frame-size steps after it (so one damaged successor does
/// not cost a good first frame), or by the data ending right after it.
fn confirm_first(view: &[u8], c: usize, h: &VdifHeader, at_eof: bool) -> Tri {
    if h.check().is_err() {
        return Tri::No;
    }
    let f = h.frame_bytes();
    for j in 1..=MAX_STEPS {
        if j > 1 && j * f > STEP_BYTES {
            break;
        }
        let next = c + j * f;
        match header_at(view, next) {
            Some(n) if agree(h, &n) => return Tri::Yes,
            Some(_) => {}
            None if !at_eof => return Tri::NeedMore(next + HEADER_BYTES),
            None => {
                return if j == 1 && view.len() >= next {
                    Tri::Yes
                } else {
                    Tri::No
                }
            }
        }
    }
    Tri::No
}

/// What the reader does at a frame boundary.
#[derive(Debug)]
pub enum Step {
    /// A frame (consistent with the reference, or an odd frame confirmed by
    /// what follows it): yield it and step over `header.frame_bytes()`.
    Frame(VdifHeader),
    /// `len` bytes are corrupted (one reference frame whose header does not
    /// match); a frame follows.
    Skip { len: usize, what: String },
    /// The header here is bad: search for the next frame. `unsupported`: the
    /// header is well formed but of a bit width not decoded (for the
    /// message when no frame is found at all).
    Search { what: String, unsupported: bool },
    /// The data ends inside a frame whose header is good.
    Truncated { have: usize, need: usize },
}

/// Decide what starts at `view[0]`. `Err(n)`: at least `n` bytes are needed
/// to decide (never when `at_eof`).
pub fn classify(view: &[u8], at_eof: bool, expect: Option<&Expect>) -> Result<Step, usize> {
    if view.len() < LEGACY_HEADER_BYTES {
        return if at_eof {
            Ok(Step::Truncated {
                have: view.len(),
                need: LEGACY_HEADER_BYTES,
            })
        } else {
            Err(LEGACY_HEADER_BYTES)
        };
    }
    let Some(h) = VdifHeader::parse(view) else {
        return if at_eof {
            Ok(Step::Truncated {
                have: view.len(),
                need: HEADER_BYTES,
            })
        } else {
            Err(HEADER_BYTES)
        };
    };
    if let Err(what) = h.check() {
        return Ok(Step::Search {
            what: format!("bad VDIF header: {what}"),
            unsupported: super::header::is_unsupported(&h),
        });
    }
    let n = h.frame_bytes();
    let Some(e) = expect else {
        // The first frame: it must be confirmed.
        return match accept(view, 0, None, at_eof, false) {
            Tri::Yes => Ok(Step::Frame(h)),
            Tri::NeedMore(m) => Err(m),
            Tri::No => Ok(Step::Search {
                what: if view.len() < n {
                    format!(
                        "first header claims a {n}-byte frame but only {} bytes follow",
                        view.len()
                    )
                } else {
                    format!("no header in the {MAX_STEPS} frame-size steps after the first continues it")
                },
                unsupported: false,
            }),
        };
    };
    if e.matches(&h) {
        if view.len() < n {
            return if at_eof {
                Ok(Step::Truncated {
                    have: view.len(),
                    need: n,
                })
            } else {
                Err(n)
            };
        }
        return check_successor(view, h, e, at_eof);
    }
    // A good header that does not match the stream: an odd frame, or damage?
    let what = format!(
        "header inconsistent with the stream: {}",
        e.describe_mismatch(&h)
    );
    let f = e.frame_bytes();
    if n <= MAX_ODD_FRAME_BYTES.max(4 * f) {
        match header_at(view, n) {
            Some(next) if e.plausible(&next) => return Ok(Step::Frame(h)),
            Some(_) => {}
            None if !at_eof => return Err(n + HEADER_BYTES),
            None if view.len() == n => return Ok(Step::Frame(h)),
            None => {}
        }
    }
    match header_at(view, f) {
        Some(next) if e.plausible(&next) => Ok(Step::Skip { len: f, what }),
        Some(_) => Ok(Step::Search {
            what,
            unsupported: false,
        }),
        None if !at_eof => Err(f + HEADER_BYTES),
        None => Ok(Step::Skip {
            len: f.min(view.len()),
            what,
        }),
    }
}

/// A frame whose header matches the stream is used only if what follows it
/// does not say its bytes are damaged. When the next header is bad (and not
/// zero padding), the frame is dropped (reported as corrupted) if another
/// frame's header starts inside it (bytes were lost from it), or if the next
/// frame found within [`STEP_BYTES`] is not a whole number of frames on, or
/// there is none (bytes were lost or inserted at an unknown place, possibly
/// inside it).
fn check_successor(view: &[u8], h: VdifHeader, e: &Expect, at_eof: bool) -> Result<Step, usize> {
    let n = h.frame_bytes();
    match header_at(view, n) {
        Some(next) if e.plausible(&next) => return Ok(Step::Frame(h)),
        // An odd frame (another size) confirmed by what follows it.
        Some(next)
            if next.check().is_ok() && next.frame_bytes() <= MAX_ODD_FRAME_BYTES.max(4 * n) =>
        {
            let m = n + next.frame_bytes();
            match header_at(view, m) {
                Some(x) if e.plausible(&x) => return Ok(Step::Frame(h)),
                Some(_) => {}
                None if !at_eof => return Err(m + HEADER_BYTES),
                None if view.len() == m => return Ok(Step::Frame(h)),
                None => {}
            }
        }
        // Zeros: the padding of a preallocated or cut-short file, not the
        // tail of a frame pushed on by inserted bytes (32 zero bytes are
        // 128 lowest-level 2-bit samples in a row: not recorded noise).
        Some(_)
            if view
                .get(n..n + HEADER_BYTES)
                .is_some_and(|z| z.iter().all(|&b| b == 0)) =>
        {
            return Ok(Step::Frame(h))
        }
        Some(_) => {}
        None if at_eof => return Ok(Step::Frame(h)),
        None => return Err(n + HEADER_BYTES),
    }
    match byte_search(view, 1, n, Some(e), at_eof, &|c| c) {
        Found::At(c) => {
            return Ok(Step::Skip {
                len: c,
                what: format!("frame cut short: another frame's header starts {c} bytes into it"),
            })
        }
        Found::NeedMore { need, .. } => return Err(need),
        Found::Nothing => {}
    }
    let after = &view[n..];
    match step_search(after, e, at_eof) {
        Found::At(_) => return Ok(Step::Frame(h)),
        Found::NeedMore { need, .. } => return Err(n + need),
        Found::Nothing => {}
    }
    match byte_search(after, 1, STEP_BYTES, Some(e), at_eof, &|c| c) {
        Found::At(c) => Ok(Step::Skip {
            len: n,
            what: format!(
                "frame followed by damage after which the next frame is {} bytes on, not a whole number of frames: bytes were lost or inserted, possibly in this frame",
                n + c
            ),
        }),
        Found::NeedMore { need, .. } => Err(n + need),
        Found::Nothing => Ok(Step::Skip {
            len: n,
            what: format!(
                "frame followed by damage and no frame within {STEP_BYTES} bytes after it: bytes may have been inserted into it"
            ),
        }),
    }
}

/// Result of a search.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// A frame starts here.
    At(usize),
    /// No frame anywhere in the searched range.
    Nothing,
    /// Candidates before `from` were all rejected; `need` bytes of the view
    /// are needed to decide the one at `from`.
    NeedMore { from: usize, need: usize },
}

/// Frame-size steps after the bad header at `view[0]`.
pub fn step_search(view: &[u8], e: &Expect, at_eof: bool) -> Found {
    let f = e.frame_bytes();
    for j in 1..=MAX_STEPS {
        let c = j * f;
        if j > 1 && c > STEP_BYTES {
            break;
        }
        match accept(view, c, Some(e), at_eof, false) {
            Tri::Yes => return Found::At(c),
            Tri::No => {}
            Tri::NeedMore(need) => return Found::NeedMore { from: 1, need },
        }
    }
    Found::Nothing
}

/// Byte-by-byte search of candidates `from..limit`. `skip(c)` returns the
/// first candidate ≥ c that can hold a header (the mmap reader skips holes
/// of sparse files, which read as zeros and never hold one).
pub fn byte_search(
    view: &[u8],
    from: usize,
    limit: usize,
    expect: Option<&Expect>,
    at_eof: bool,
    skip: &dyn Fn(usize) -> usize,
) -> Found {
    // Cheap filter on the raw words when the reference is known: word 2's
    // length field and word 3's station ID (same places in legacy headers).
    let filter = expect.map(|e| ((e.frame_bytes() / 8) as u32, e.header.station_id));
    let mut c = from;
    while c < limit {
        let s = skip(c);
        if s > c {
            c = s;
            continue;
        }
        if c + LEGACY_HEADER_BYTES > view.len() {
            return if at_eof {
                Found::Nothing
            } else {
                Found::NeedMore {
                    from: c,
                    need: c + HEADER_BYTES,
                }
            };
        }
        if let Some((len8, station)) = filter {
            let w = |i: usize| u32::from_le_bytes([view[i], view[i + 1], view[i + 2], view[i + 3]]);
            if w(c + 8) & 0x00ff_ffff != len8 || (w(c + 12) & 0xffff) as u16 != station {
                c += 1;
                continue;
            }
        }
        match accept(view, c, expect, at_eof, true) {
            Tri::Yes => return Found::At(c),
            Tri::No => c += 1,
            Tri::NeedMore(need) => return Found::NeedMore { from: c, need },
        }
    }
    Found::Nothing
}

/// The whole search after a bad header at `view[0]` when all data is at hand
/// (memory-mapped files): steps, then bytes. `limit` bounds the byte search.
pub fn search_all(
    view: &[u8],
    expect: Option<&Expect>,
    skip: &dyn Fn(usize) -> usize,
) -> Option<usize> {
    if let Some(e) = expect {
        if let Found::At(c) = step_search(view, e, true) {
            return Some(c);
        }
    }
    let limit = if expect.is_some() {
        usize::MAX
    } else {
        FIRST_SEARCH_BYTES
    };
    match byte_search(view, 1, limit, expect, true, skip) {
        Found::At(c) => Some(c),
        _ => None,
    }
}
