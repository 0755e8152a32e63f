//! Frames from samples: the VDIF writer used by the simulator and the tests.

use std::collections::HashMap;
use std::io::Write;

use super::decode::Levels;
use super::encode::{pack_codes, Encoder};
use super::error::VdifError;
use super::header::{ref_epoch_for, ref_epoch_start, SampleFormat, VdifHeader, SUPPORTED_BITS};
use crate::time::UtcTime;

/// What a writer produces: one station, one format, any number of threads.
#[derive(Clone, Debug, PartialEq)]
pub struct WriterConfig {
    pub station_id: u16,
    pub bits: u8,
    pub complex: bool,
    /// Channels per thread (a power of two).
    pub channels: usize,
    /// Samples per channel in one frame.
    pub samples_per_frame: usize,
    pub sample_rate_hz: f64,
    /// Time of the first sample of each thread's first frame (on a frame
    /// boundary: a whole number of frames after a whole second).
    pub start: UtcTime,
    /// Reference epoch of every header; `None`: the latest one at or before
    /// `start`. (A recording keeps its epoch across epoch boundaries.)
    pub ref_epoch: Option<u8>,
    /// 16-byte legacy headers instead of 32-byte ones.
    pub legacy: bool,
    /// Raw words 4–7 of standard headers (byte 3 = extended-data version).
    pub extended: [u8; 16],
}

impl WriterConfig {
    /// A real or complex, `bits`-bit, single-channel configuration with
    /// standard headers, EDV 0 and the epoch chosen from `start`.
    pub fn new(
        station_id: u16,
        bits: u8,
        complex: bool,
        samples_per_frame: usize,
        sample_rate_hz: f64,
        start: UtcTime,
    ) -> Self {
        WriterConfig {
            station_id,
            bits,
            complex,
            channels: 1,
            samples_per_frame,
            sample_rate_hz,
            start,
            ref_epoch: None,
            legacy: false,
            extended: [0; 16],
        }
    }

    pub fn format(&self) -> SampleFormat {
        SampleFormat {
            bits: self.bits,
            complex: self.complex,
            channels: self.channels,
        }
    }
}

/// Writes exact VDIF frames to any `Write` (a file, a FIFO, a `Vec<u8>`).
///
/// Each thread counts its own frames from `start`; the caller interleaves
/// threads by the order of its calls. Values are quantised to the nearest level
/// of [`Levels::standard`], so writing decoded values reproduces their codes.
pub struct VdifWriter<W: Write> {
    out: W,
    cfg: WriterConfig,
    encoder: Encoder,
    frames_per_second: u64,
    /// Frame number of the first frame within `start`'s second.
    first_frame_number: u64,
    epoch_sec: i64,
    template: VdifHeader,
    next_index: HashMap<u16, u64>,
    codes: Vec<u8>,
    frame: Vec<u8>,
    frames_written: u64,
}

impl<W: Write> VdifWriter<W> {
    /// Check the configuration (supported bits, power-of-two channels, whole
    /// frames per second, start on a frame boundary, frame size in range).
    pub fn new(out: W, cfg: WriterConfig) -> Result<Self, VdifError> {
        let bad = |what: String| VdifError::invalid("VDIF writer", what);
        if !SUPPORTED_BITS.contains(&cfg.bits) {
            return Err(bad(format!(
                "{} bits per sample is not supported (1, 2, 4 or 8)",
                cfg.bits
            )));
        }
        if !cfg.channels.is_power_of_two() || cfg.channels > 1 << 16 {
            return Err(bad(format!(
                "{} channels is not a power of two up to 65536",
                cfg.channels
            )));
        }
        if cfg.samples_per_frame == 0 {
            return Err(bad("zero samples per frame".into()));
        }
        let payload_bits = cfg.samples_per_frame * cfg.format().bits_per_complete_sample();
        let header_bytes = if cfg.legacy { 16 } else { 32 };
        if !payload_bits.is_multiple_of(64) {
            return Err(bad(format!(
                "{} samples per frame make a payload of {payload_bits} bits, not a multiple of 8 bytes (VDIF §4)",
                cfg.samples_per_frame
            )));
        }
        let frame_bytes = header_bytes + payload_bits / 8;
        if frame_bytes / 8 >= 1 << 24 {
            return Err(bad(format!(
                "frame of {frame_bytes} bytes is too long for VDIF"
            )));
        }
        let fps = cfg.sample_rate_hz / cfg.samples_per_frame as f64;
        if fps.is_nan()
            || fps < 1.0
            || (fps - fps.round()).abs() > 1e-9 * fps
            || fps.round() > f64::from(1u32 << 24)
        {
            return Err(bad(format!(
                "sample rate {} Hz is not a whole number of {}-sample frames per second",
                cfg.sample_rate_hz, cfg.samples_per_frame
            )));
        }
        let fps = fps.round() as u64;
        let first = cfg.start.frac() * fps as f64;
        if (first - first.round()).abs() > 1e-6 {
            return Err(bad(format!(
                "start {} is not on a frame boundary",
                cfg.start
            )));
        }
        let epoch = cfg.ref_epoch.unwrap_or_else(|| ref_epoch_for(cfg.start));
        if epoch > 63 {
            return Err(bad(format!(
                "reference epoch {epoch} does not fit in 6 bits"
            )));
        }
        let epoch_sec = ref_epoch_start(epoch).sec();
        if cfg.start.sec() < epoch_sec {
            return Err(bad(format!(
                "start {} is before reference epoch {epoch}",
                cfg.start
            )));
        }
        let template = VdifHeader {
            legacy: cfg.legacy,
            ref_epoch: epoch,
            frame_length_8: (frame_bytes / 8) as u32,
            log2_channels: cfg.channels.trailing_zeros() as u8,
            complex: cfg.complex,
            bits_per_sample: cfg.bits,
            station_id: cfg.station_id,
            extended: if cfg.legacy { [0; 16] } else { cfg.extended },
            ..VdifHeader::default()
        };
        Ok(VdifWriter {
            out,
            encoder: Encoder::new(cfg.bits, &Levels::standard()),
            frames_per_second: fps,
            first_frame_number: first.round() as u64,
            epoch_sec,
            template,
            next_index: HashMap::new(),
            codes: Vec::new(),
            frame: Vec::with_capacity(frame_bytes),
            frames_written: 0,
            cfg,
        })
    }

    /// Values in one frame: samples per frame × channels × (2 if complex),
    /// ordered as stored (per instant: channel 0 first; complex: I then Q).
    pub fn values_per_frame(&self) -> usize {
        self.cfg.samples_per_frame * self.cfg.format().components_per_complete_sample()
    }

    pub fn frame_bytes(&self) -> usize {
        self.template.frame_bytes()
    }

    pub fn frames_per_second(&self) -> u64 {
        self.frames_per_second
    }

    pub fn frames_written(&self) -> u64 {
        self.frames_written
    }

    /// The header of `thread`'s frame number `index` (counted from `start`).
    pub fn header_for(
        &self,
        thread: u16,
        index: u64,
        invalid: bool,
    ) -> Result<VdifHeader, VdifError> {
        let n = self.first_frame_number + index;
        let sec = self.cfg.start.sec() + (n / self.frames_per_second) as i64 - self.epoch_sec;
        if sec >= 1 << 30 {
            return Err(VdifError::invalid(
                "VDIF writer",
                "seconds from reference epoch overflow 30 bits",
            ));
        }
        if thread >= 1 << 10 {
            return Err(VdifError::invalid(
                "VDIF writer",
                format!("thread ID {thread} does not fit in 10 bits"),
            ));
        }
        Ok(VdifHeader {
            invalid,
            seconds: sec as u32,
            frame_number: (n % self.frames_per_second) as u32,
            thread_id: thread,
            ..self.template
        })
    }

    /// Write `thread`'s next frame from values (quantised to nearest level).
    pub fn write(&mut self, thread: u16, values: &[f32]) -> Result<(), VdifError> {
        self.write_frame(thread, values, false)
    }

    /// Write `thread`'s next frame, with the invalid bit set if asked (the
    /// payload is written as given: readers must not use it).
    pub fn write_frame(
        &mut self,
        thread: u16,
        values: &[f32],
        invalid: bool,
    ) -> Result<(), VdifError> {
        self.check_len(values.len())?;
        let mut codes = std::mem::take(&mut self.codes);
        codes.clear();
        codes.extend(values.iter().map(|&v| self.encoder.code(v)));
        let r = self.emit(thread, &codes, invalid);
        self.codes = codes;
        r
    }

    /// Write `thread`'s next frame from raw codes (each < 2^bits).
    pub fn write_codes(
        &mut self,
        thread: u16,
        codes: &[u8],
        invalid: bool,
    ) -> Result<(), VdifError> {
        self.check_len(codes.len())?;
        self.emit(thread, codes, invalid)
    }

    /// Leave out `thread`'s next `frames` frames (a gap, for fault injection).
    pub fn skip(&mut self, thread: u16, frames: u64) {
        *self.next_index.entry(thread).or_insert(0) += frames;
    }

    /// Flush and hand back the sink.
    pub fn into_inner(mut self) -> Result<W, VdifError> {
        self.out.flush().map_err(|source| VdifError::Write {
            frame: self.frames_written,
            source,
        })?;
        Ok(self.out)
    }

    fn check_len(&self, n: usize) -> Result<(), VdifError> {
        if n != self.values_per_frame() {
            return Err(VdifError::invalid(
                "VDIF writer",
                format!(
                    "{n} values given for a frame of {}",
                    self.values_per_frame()
                ),
            ));
        }
        Ok(())
    }

    fn emit(&mut self, thread: u16, codes: &[u8], invalid: bool) -> Result<(), VdifError> {
        let index = *self.next_index.get(&thread).unwrap_or(&0);
        let header = self.header_for(thread, index, invalid)?;
        self.frame.clear();
        self.frame.extend_from_slice(&header.to_bytes());
        let h = self.frame.len();
        self.frame.resize(header.frame_bytes(), 0);
        pack_codes(codes, self.cfg.bits, &mut self.frame[h..]);
        self.out
            .write_all(&self.frame)
            .map_err(|source| VdifError::Write {
                frame: self.frames_written,
                source,
            })?;
        self.next_index.insert(thread, index + 1);
        self.frames_written += 1;
        Ok(())
    }
}
