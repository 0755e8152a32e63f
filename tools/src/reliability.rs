//! Process-level reliability for unattended runs: signals (SIGINT/SIGTERM end
//! a correlation cleanly and resumably; SIGBUS from a memory-mapped input
//! that shrank is reported instead of killing the process silently), the
//! checkpoint journal behind `emcorr correlate --resume`, and the memory
//! budget (`--max-memory`).

use std::ffi::CString;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use correlator::engine::Integration;
use formats::{Cancel, UtcTime};
use num_complex::Complex32;

// ---------------------------------------------------------------------------
// Signals

/// The signal that asked us to stop (0: none yet).
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

/// Set with [`INTERRUPTED`]: wakes every wait on a stream (see
/// `formats::cancel`), so a signal ends a run that is blocked on a FIFO
/// without writer or a stalled stream as well as one that is computing.
static CANCEL: OnceLock<Cancel> = OnceLock::new();

/// Input files and their sizes when opened, for the SIGBUS report.
static INPUTS: OnceLock<Vec<(CString, u64)>> = OnceLock::new();

extern "C" fn on_stop(sig: libc::c_int) {
    INTERRUPTED.store(sig, Ordering::SeqCst);
    // Initialised before the handler is installed, so `get` only loads;
    // `cancel` is an atomic store.
    if let Some(c) = CANCEL.get() {
        c.cancel();
    }
    // A second signal ends the process at once (the default action).
    // SAFETY: signal() is async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// write(2) of a byte string, ignoring errors (async-signal-safe).
fn raw_write(bytes: &[u8]) {
    // SAFETY: writing a valid buffer to fd 2.
    unsafe {
        libc::write(2, bytes.as_ptr().cast(), bytes.len());
    }
}

/// Decimal digits of `n` into `buf`, returning the used tail (no allocation).
fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

extern "C" fn on_sigbus(_sig: libc::c_int) {
    // Only async-signal-safe calls: stat, write, _exit.
    let mut named = false;
    if let Some(inputs) = INPUTS.get() {
        for (path, size) in inputs {
            // SAFETY: stat into a zeroed struct; path is NUL-terminated.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            let r = unsafe { libc::stat(path.as_ptr(), &mut st) };
            let now = if r == 0 { st.st_size as u64 } else { 0 };
            if now < *size {
                let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
                raw_write(b"emcorr: ");
                raw_write(path.as_bytes());
                raw_write(b": input file truncated while being read (was ");
                raw_write(digits(*size, &mut a));
                raw_write(b" bytes, now ");
                raw_write(digits(now, &mut b));
                raw_write(b")\n");
                named = true;
                break;
            }
        }
    }
    if !named {
        raw_write(
            b"emcorr: a memory-mapped input file changed while being read (SIGBUS): input truncated?\n",
        );
    }
    // SAFETY: _exit is async-signal-safe; 3 is the documented I/O exit code.
    unsafe { libc::_exit(3) };
}

/// Install the SIGINT/SIGTERM and SIGBUS handlers (once per process).
pub fn install_handlers() {
    CANCEL.get_or_init(Cancel::new);
    // SAFETY: the handlers only touch an atomic and async-signal-safe calls.
    unsafe {
        libc::signal(libc::SIGINT, on_stop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_stop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGBUS, on_sigbus as *const () as libc::sighandler_t);
    }
}

/// Remember the input files (and their sizes now) so that a SIGBUS can name
/// the one that shrank.
pub fn register_inputs(paths: &[PathBuf]) {
    let list = paths
        .iter()
        .filter_map(|p| {
            let size = std::fs::metadata(p).ok().filter(|m| m.is_file())?.len();
            Some((CString::new(p.as_os_str().as_encoded_bytes()).ok()?, size))
        })
        .collect();
    let _ = INPUTS.set(list);
}

/// The process's stop request, set by SIGINT/SIGTERM once
/// [`install_handlers`] ran: hand it to whatever may block.
pub fn cancel_token() -> Cancel {
    CANCEL.get_or_init(Cancel::new).clone()
}

/// The signal that interrupted the run, if one did.
pub fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

// ---------------------------------------------------------------------------
// Checkpoint journal

const MAGIC: &[u8] = b"EMCORR-CHECKPOINT 1\n";

/// FNV-1a, 64 bit (a fingerprint, not security).
pub fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `<output>.checkpoint`.
pub fn checkpoint_path(output: &Path) -> PathBuf {
    let mut s = output.as_os_str().to_owned();
    s.push(".checkpoint");
    PathBuf::from(s)
}

fn encode(i: &Integration) -> Vec<u8> {
    let mut b = Vec::with_capacity(48 + 8 * i.vis.len() + 4 * i.weights.len());
    b.extend_from_slice(&i.index.to_le_bytes());
    b.extend_from_slice(&i.time.sec().to_le_bytes());
    b.extend_from_slice(&i.time.frac().to_bits().to_le_bytes());
    b.extend_from_slice(&i.inttim_s.to_bits().to_le_bytes());
    b.extend_from_slice(&(i.vis.len() as u64).to_le_bytes());
    for v in &i.vis {
        b.extend_from_slice(&v.re.to_bits().to_le_bytes());
        b.extend_from_slice(&v.im.to_bits().to_le_bytes());
    }
    b.extend_from_slice(&(i.weights.len() as u64).to_le_bytes());
    for w in &i.weights {
        b.extend_from_slice(&w.to_bits().to_le_bytes());
    }
    // Phase-cal tones, when the run extracts them.
    if !i.pcal.is_empty() || !i.pcal_valid.is_empty() {
        b.extend_from_slice(&(i.pcal.len() as u64).to_le_bytes());
        for v in &i.pcal {
            b.extend_from_slice(&v.re.to_bits().to_le_bytes());
            b.extend_from_slice(&v.im.to_bits().to_le_bytes());
        }
        b.extend_from_slice(&(i.pcal_valid.len() as u64).to_le_bytes());
        for w in &i.pcal_valid {
            b.extend_from_slice(&w.to_bits().to_le_bytes());
        }
    }
    b
}

fn decode(b: &[u8]) -> Option<Integration> {
    let mut at = 0usize;
    let mut u64_ = || -> Option<u64> {
        let v = u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?);
        at += 8;
        Some(v)
    };
    let index = u64_()?;
    let sec = u64_()? as i64;
    let frac = f64::from_bits(u64_()?);
    let inttim_s = f64::from_bits(u64_()?);
    let nvis = usize::try_from(u64_()?).ok()?;
    let f32s = |n: usize, at: &mut usize| -> Option<Vec<f32>> {
        let bytes = b.get(*at..at.checked_add(n.checked_mul(4)?)?)?;
        *at += 4 * n;
        Some(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_bits(u32::from_le_bytes(c.try_into().unwrap())))
                .collect(),
        )
    };
    let mut at2 = 40;
    let flat = f32s(nvis.checked_mul(2)?, &mut at2)?;
    let vis = flat
        .chunks_exact(2)
        .map(|c| Complex32::new(c[0], c[1]))
        .collect();
    let nw = usize::try_from(u64::from_le_bytes(b.get(at2..at2 + 8)?.try_into().ok()?)).ok()?;
    at2 += 8;
    let weights = f32s(nw, &mut at2)?;
    let (mut pcal, mut pcal_valid) = (Vec::new(), Vec::new());
    if at2 < b.len() {
        let np = usize::try_from(u64::from_le_bytes(b.get(at2..at2 + 8)?.try_into().ok()?)).ok()?;
        at2 += 8;
        pcal = f32s(np.checked_mul(2)?, &mut at2)?
            .chunks_exact(2)
            .map(|c| Complex32::new(c[0], c[1]))
            .collect();
        let nv = usize::try_from(u64::from_le_bytes(b.get(at2..at2 + 8)?.try_into().ok()?)).ok()?;
        at2 += 8;
        pcal_valid = f32s(nv, &mut at2)?;
    }
    if at2 != b.len() || !(0.0..1.0).contains(&frac) {
        return None;
    }
    Some(Integration {
        index,
        time: UtcTime::new(sec, frac),
        inttim_s,
        vis,
        weights,
        pcal,
        pcal_valid,
    })
}

/// Appends each finished integration to `<output>.checkpoint`, flushed to
/// the OS before the next one starts; a resumed run replays them.
pub struct Journal {
    path: PathBuf,
    out: BufWriter<std::fs::File>,
}

impl Journal {
    /// Start a new journal for a job with `fingerprint`.
    pub fn create(path: &Path, fingerprint: u64) -> std::io::Result<Journal> {
        let f = std::fs::File::create(path)?;
        let mut out = BufWriter::new(f);
        out.write_all(MAGIC)?;
        out.write_all(&fingerprint.to_le_bytes())?;
        out.flush()?;
        Ok(Journal {
            path: path.to_path_buf(),
            out,
        })
    }

    /// Read a journal: the integrations it holds (a torn last record is
    /// dropped and cut off), and the journal reopened for appending.
    pub fn resume(path: &Path, fingerprint: u64) -> Result<(Journal, Vec<Integration>), String> {
        let show = path.display();
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| format!("{show}: cannot read the checkpoint to resume from: {e}"))?;
        if !bytes.starts_with(MAGIC) || bytes.len() < MAGIC.len() + 8 {
            return Err(format!("{show}: not an emcorr checkpoint"));
        }
        let fp = u64::from_le_bytes(bytes[MAGIC.len()..MAGIC.len() + 8].try_into().unwrap());
        if fp != fingerprint {
            return Err(format!(
                "{show}: checkpoint was written for another job file or emcorr version: refusing to resume (delete it to start over)"
            ));
        }
        let mut at = MAGIC.len() + 8;
        let mut done = Vec::new();
        while let Some(len) = bytes
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize)
        {
            let Some(end) = at.checked_add(8 + len + 8).filter(|&e| e <= bytes.len()) else {
                break;
            };
            let payload = &bytes[at + 8..at + 8 + len];
            let sum = u64::from_le_bytes(bytes[at + 8 + len..end].try_into().unwrap());
            if sum != fnv64(&[payload]) {
                break;
            }
            match decode(payload) {
                Some(i) if i.index == done.len() as u64 => done.push(i),
                _ => break,
            }
            at = end;
        }
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| {
                f.set_len(at as u64)?;
                Ok(f)
            })
            .map_err(|e| format!("{show}: cannot reopen the checkpoint: {e}"))?;
        let mut out = BufWriter::new(f);
        use std::io::Seek;
        out.seek(std::io::SeekFrom::End(0))
            .map_err(|e| format!("{show}: {e}"))?;
        Ok((
            Journal {
                path: path.to_path_buf(),
                out,
            },
            done,
        ))
    }

    pub fn append(&mut self, i: &Integration) -> std::io::Result<()> {
        let payload = encode(i);
        self.out.write_all(&(payload.len() as u64).to_le_bytes())?;
        self.out.write_all(&payload)?;
        self.out.write_all(&fnv64(&[&payload]).to_le_bytes())?;
        self.out.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

// ---------------------------------------------------------------------------
// Memory budget

/// Physical memory in bytes (Linux: /proc/meminfo), if known.
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Parse a byte count: a number with an optional K, M, G or T (powers of
/// 1024; a trailing `B`/`iB` is allowed).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        Some('T' | 't') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let x: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a byte count (e.g. 512M, 4G)"))?;
    if !(x.is_finite() && x > 0.0) {
        return Err(format!("{text:?} is not a positive byte count"));
    }
    Ok((x * mult as f64) as u64)
}

pub fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1u64 << 20) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integ(k: u64) -> Integration {
        Integration {
            index: k,
            time: UtcTime::new(800_000_000 + k as i64, 0.25 + k as f64 * 1e-3),
            inttim_s: 0.1,
            vis: (0..6)
                .map(|i| Complex32::new(i as f32 * 0.5 + k as f32, -(i as f32)))
                .collect(),
            weights: vec![1.0, 0.5, 0.0],
            pcal: if k % 2 == 1 {
                vec![Complex32::new(0.25, -1.5)]
            } else {
                Vec::new()
            },
            pcal_valid: if k % 2 == 1 { vec![0.5] } else { Vec::new() },
        }
    }

    #[test]
    fn journal_round_trips_exactly_and_drops_a_torn_record() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.checkpoint");
        let mut j = Journal::create(&p, 42).unwrap();
        for k in 0..3 {
            j.append(&integ(k)).unwrap();
        }
        drop(j);
        let (_, got) = Journal::resume(&p, 42).unwrap();
        assert_eq!(got, (0..3).map(integ).collect::<Vec<_>>());
        // Power lost in the middle of the third record.
        let len = std::fs::metadata(&p).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(len - 5)
            .unwrap();
        let (mut j, got) = Journal::resume(&p, 42).unwrap();
        assert_eq!(got.len(), 2);
        // Appending goes on after the last whole record.
        j.append(&integ(2)).unwrap();
        drop(j);
        assert_eq!(Journal::resume(&p, 42).unwrap().1.len(), 3);
        // Another job's fingerprint is refused.
        assert!(Journal::resume(&p, 43).is_err());
    }

    #[test]
    fn a_two_centre_integration_round_trips_exactly() {
        // [centre][baseline]…: twice the visibilities and weights of one
        // centre, the second centre's values distinct bit patterns.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.checkpoint");
        let mut two = integ(0);
        let second: Vec<Complex32> = two
            .vis
            .iter()
            .map(|v| Complex32::new(f32::from_bits(v.re.to_bits() ^ 1), -v.im))
            .collect();
        two.vis.extend(second);
        two.weights.extend([0.25, 1.0, 0.125]);
        let mut j = Journal::create(&p, 7).unwrap();
        j.append(&two).unwrap();
        drop(j);
        assert_eq!(Journal::resume(&p, 7).unwrap().1, vec![two]);
    }

    #[test]
    fn byte_counts_parse() {
        assert_eq!(parse_bytes("512M").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("4G").unwrap(), 4 << 30);
        assert_eq!(parse_bytes("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("1000").unwrap(), 1000);
        for bad in ["", "x", "-1M", "0", "NaNG"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }
}
