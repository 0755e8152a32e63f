//! Where the engine's samples come from: `formats::vdif`'s [`SampleSource`]
//! (memory-mapped files, or FIFOs/stdin through a bounded read-ahead), and
//! [`MemorySource`], an in-memory recording for tests and benchmarks.

pub use formats::vdif::{
    open_source, open_sources, OpenOptions, SampleSource, StreamInfo, VdifError,
};
use formats::UtcTime;

fn refused(what: String) -> VdifError {
    VdifError::Invalid {
        context: "memory source".into(),
        what,
    }
}

/// An in-memory recording: one sample vector per (thread, channel), sample 0
/// at `origin`, plus an optional validity mask. Behaves like a bounded
/// stream: reading before the last `discard_before` is an error, which lets
/// tests check that the engine streams.
#[derive(Debug, Clone)]
pub struct MemorySource {
    pub info: StreamInfo,
    pub origin: UtcTime,
    /// `(thread, channel, samples)`; complex data interleaved I,Q.
    pub data: Vec<(u16, usize, Vec<f32>)>,
    /// Per sample validity (same length as samples / (1 or 2)); `None` = all valid.
    pub valid: Vec<Option<Vec<bool>>>,
    /// First sample index of the recording (earlier indices read as invalid).
    pub first_index: i64,
    discarded_before: i64,
}

impl MemorySource {
    /// A recording of `data` whose sample 0 lies at `origin` (a whole second)
    /// plus `first_index` samples.
    pub fn new(info: StreamInfo, origin: UtcTime, first_index: i64) -> Self {
        MemorySource {
            info,
            origin,
            data: Vec::new(),
            valid: Vec::new(),
            first_index,
            discarded_before: i64::MIN,
        }
    }

    /// Add the samples of (thread, channel) with an optional validity mask.
    pub fn with_channel(
        mut self,
        thread: u16,
        channel: usize,
        samples: Vec<f32>,
        valid: Option<Vec<bool>>,
    ) -> Self {
        self.data.push((thread, channel, samples));
        self.valid.push(valid);
        self
    }
}

impl SampleSource for MemorySource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn origin(&self) -> UtcTime {
        self.origin
    }

    fn read(
        &mut self,
        thread: u16,
        channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError> {
        if first < self.discarded_before {
            return Err(refused(format!(
                "sample {first} was already discarded (window starts at {})",
                self.discarded_before
            )));
        }
        let Some(i) = self
            .data
            .iter()
            .position(|(t, c, _)| *t == thread && *c == channel)
        else {
            return Err(refused(format!(
                "no thread {thread} channel {channel} in the recording"
            )));
        };
        let w = if self.info.complex { 2 } else { 1 };
        let samples = &self.data[i].2;
        let mask = self.valid[i].as_deref();
        let len = (samples.len() / w) as i64;
        for (k, v) in valid.iter_mut().enumerate() {
            let n = first + k as i64 - self.first_index;
            let ok = (0..len).contains(&n) && mask.is_none_or(|m| m[n as usize]);
            *v = ok;
            for q in 0..w {
                out[k * w + q] = if ok { samples[n as usize * w + q] } else { 0.0 };
            }
        }
        Ok(())
    }

    fn discard_before(&mut self, first: i64) {
        self.discarded_before = self.discarded_before.max(first);
    }

    fn first_sample(&self) -> i64 {
        self.first_index
    }

    fn end_sample(&self) -> Option<i64> {
        let w = if self.info.complex { 2 } else { 1 };
        let len = self.data.iter().map(|d| d.2.len() / w).max().unwrap_or(0);
        Some(self.first_index + len as i64)
    }
}
