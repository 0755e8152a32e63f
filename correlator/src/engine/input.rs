//! Where the engine's samples come from.
//!
//! TEMPORARY: `StreamInfo`, `SampleSource`, `VdifError` below copy the agreed
//! contract of `formats::vdif` (branch `vdif`) so the engine can be built and
//! tested before that branch is merged. Once it is, these three items are
//! replaced by `pub use formats::vdif::{SampleSource, StreamInfo, VdifError}`.
//! [`MemorySource`] (an in-memory recording for tests and benchmarks) stays.

use formats::UtcTime;

/// TEMPORARY (to be replaced by `formats::vdif::StreamInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    pub station_id: u16,
    pub threads: Vec<u16>,
    pub channels: usize,
    pub bits: u8,
    pub complex: bool,
    pub frame_bytes: usize,
    pub samples_per_frame: usize,
    pub sample_rate_hz: f64,
    pub sample_rate_inferred: bool,
}

/// TEMPORARY (to be replaced by `formats::vdif::VdifError`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct VdifError(pub String);

/// TEMPORARY (to be replaced by `formats::vdif::SampleSource`).
pub trait SampleSource: Send {
    fn info(&self) -> &StreamInfo;
    /// Whole UTC second that sample index 0 belongs to: sample n is at
    /// origin + n / sample_rate_hz exactly.
    fn origin(&self) -> UtcTime;
    /// Decode samples [first, first+n) of (thread, channel). Real:
    /// out.len()==n; complex: 2n (I,Q). valid[i]=false where
    /// invalid/missing/outside the recording (out 0 there).
    fn read(
        &mut self,
        thread: u16,
        channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError>;
    fn discard_before(&mut self, first: i64);
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
            return Err(VdifError(format!(
                "sample {first} was already discarded (window starts at {})",
                self.discarded_before
            )));
        }
        let Some(i) = self
            .data
            .iter()
            .position(|(t, c, _)| *t == thread && *c == channel)
        else {
            return Err(VdifError(format!(
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
}
