//! VDIF frame headers (VDIF 1.0 specification, vlbi.org, 2009; §4 "Data Frame
//! Header"): eight little-endian 32-bit words, or the first four only in legacy
//! mode.
//!
//! | word | bits  | field |
//! |------|-------|-------|
//! | 0    | 0–29  | seconds from reference epoch |
//! | 0    | 30    | legacy mode (1 = 16-byte header) |
//! | 0    | 31    | invalid data |
//! | 1    | 0–23  | data frame number within the second |
//! | 1    | 24–29 | reference epoch (half-years since 2000-01-01) |
//! | 1    | 30–31 | unassigned (kept as read) |
//! | 2    | 0–23  | data frame length in units of 8 bytes, header included |
//! | 2    | 24–28 | log2(number of channels) |
//! | 2    | 29–31 | VDIF version |
//! | 3    | 0–15  | station ID |
//! | 3    | 16–25 | thread ID |
//! | 3    | 26–30 | bits per sample − 1 |
//! | 3    | 31    | data type (0 real, 1 complex) |
//! | 4–7  |       | extended user data; word 4 bits 24–31 = extended-data version |

use crate::time::UtcTime;

/// Bytes in a standard header.
pub const HEADER_BYTES: usize = 32;
/// Bytes in a legacy-mode header (words 0–3 only).
pub const LEGACY_HEADER_BYTES: usize = 16;
/// Bit widths this crate decodes and encodes (VDIF allows 1–32).
pub const SUPPORTED_BITS: [u8; 4] = [1, 2, 4, 8];

/// Every field of a VDIF frame header, as stored (no interpretation beyond
/// the `bits − 1` offset of the bits-per-sample field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct VdifHeader {
    pub invalid: bool,
    pub legacy: bool,
    /// Seconds since the reference epoch (30 bits).
    pub seconds: u32,
    /// Reference epoch: half-years since 2000-01-01 (6 bits).
    pub ref_epoch: u8,
    /// Frame number within the second, from 0 (24 bits).
    pub frame_number: u32,
    /// Unassigned bits 30–31 of word 1, kept so a header round-trips.
    pub unassigned: u8,
    /// VDIF version (3 bits; 0 for VDIF 1.0; some writers put 1).
    pub version: u8,
    /// log2 of the number of channels (5 bits).
    pub log2_channels: u8,
    /// Frame length in units of 8 bytes, header included (24 bits).
    pub frame_length_8: u32,
    pub complex: bool,
    /// Bits per sample (per I or Q component for complex data), 1..=32.
    pub bits_per_sample: u8,
    /// Thread ID (10 bits).
    pub thread_id: u16,
    /// Station ID (16 bits): two ASCII characters or a number.
    pub station_id: u16,
    /// Words 4–7 as raw bytes (absent, all zero, in legacy mode). Byte 3 is the
    /// extended-data version.
    pub extended: [u8; 16],
}

impl VdifHeader {
    /// Parse the header at the start of `bytes` (needs 16 bytes, 32 unless the
    /// legacy bit is set). Values are not checked: see [`VdifHeader::check`].
    /// Returns `None` when `bytes` is too short.
    pub fn parse(bytes: &[u8]) -> Option<VdifHeader> {
        if bytes.len() < LEGACY_HEADER_BYTES {
            return None;
        }
        let w = |i: usize| {
            u32::from_le_bytes([
                bytes[4 * i],
                bytes[4 * i + 1],
                bytes[4 * i + 2],
                bytes[4 * i + 3],
            ])
        };
        let (w0, w1, w2, w3) = (w(0), w(1), w(2), w(3));
        let legacy = (w0 >> 30) & 1 == 1;
        let mut extended = [0u8; 16];
        if !legacy {
            if bytes.len() < HEADER_BYTES {
                return None;
            }
            extended.copy_from_slice(&bytes[16..32]);
        }
        Some(VdifHeader {
            invalid: w0 >> 31 == 1,
            legacy,
            seconds: w0 & 0x3fff_ffff,
            frame_number: w1 & 0x00ff_ffff,
            ref_epoch: ((w1 >> 24) & 0x3f) as u8,
            unassigned: (w1 >> 30) as u8,
            frame_length_8: w2 & 0x00ff_ffff,
            log2_channels: ((w2 >> 24) & 0x1f) as u8,
            version: (w2 >> 29) as u8,
            station_id: (w3 & 0xffff) as u16,
            thread_id: ((w3 >> 16) & 0x3ff) as u16,
            bits_per_sample: (((w3 >> 26) & 0x1f) + 1) as u8,
            complex: w3 >> 31 == 1,
            extended,
        })
    }

    /// The header as bytes (16 or 32, per the legacy bit). Fields wider than
    /// their bit width are masked.
    pub fn to_bytes(&self) -> Vec<u8> {
        let w0 = (self.seconds & 0x3fff_ffff)
            | (u32::from(self.legacy) << 30)
            | (u32::from(self.invalid) << 31);
        let w1 = (self.frame_number & 0x00ff_ffff)
            | ((u32::from(self.ref_epoch) & 0x3f) << 24)
            | ((u32::from(self.unassigned) & 3) << 30);
        let w2 = (self.frame_length_8 & 0x00ff_ffff)
            | ((u32::from(self.log2_channels) & 0x1f) << 24)
            | ((u32::from(self.version) & 7) << 29);
        let w3 = u32::from(self.station_id)
            | ((u32::from(self.thread_id) & 0x3ff) << 16)
            | ((u32::from(self.bits_per_sample.wrapping_sub(1)) & 0x1f) << 26)
            | (u32::from(self.complex) << 31);
        let mut out = Vec::with_capacity(HEADER_BYTES);
        for w in [w0, w1, w2, w3] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        if !self.legacy {
            out.extend_from_slice(&self.extended);
        }
        out
    }

    /// Extended-data version (word 4, bits 24–31); 0 in legacy mode.
    pub fn edv(&self) -> u8 {
        self.extended[3]
    }

    pub fn header_bytes(&self) -> usize {
        if self.legacy {
            LEGACY_HEADER_BYTES
        } else {
            HEADER_BYTES
        }
    }

    /// Whole frame in bytes, header included.
    pub fn frame_bytes(&self) -> usize {
        self.frame_length_8 as usize * 8
    }

    pub fn payload_bytes(&self) -> usize {
        self.frame_bytes().saturating_sub(self.header_bytes())
    }

    pub fn channels(&self) -> usize {
        1usize << self.log2_channels
    }

    /// The sample layout this header declares.
    pub fn sample_format(&self) -> SampleFormat {
        SampleFormat {
            bits: self.bits_per_sample,
            complex: self.complex,
            channels: self.channels(),
        }
    }

    /// Samples per channel in one frame (valid after [`VdifHeader::check`]).
    pub fn samples_per_frame(&self) -> usize {
        let per = self.sample_format().bits_per_complete_sample();
        (self.payload_bytes() * 8).checked_div(per).unwrap_or(0)
    }

    /// Why this header cannot describe a frame we can read, if it cannot: a
    /// frame shorter than its header, a payload that is not a whole number of
    /// complete samples (§5: samples fill the payload's 32-bit words), or a
    /// bit width we do not decode (checked last: [`is_unsupported`] tells it
    /// apart from impossible values).
    pub fn check(&self) -> Result<(), String> {
        if self.frame_bytes() <= self.header_bytes() {
            return Err(format!(
                "frame length {} bytes is not longer than the {}-byte header",
                self.frame_bytes(),
                self.header_bytes()
            ));
        }
        if self.log2_channels > 16 {
            return Err(format!("2^{} channels is impossible", self.log2_channels));
        }
        let per = self.sample_format().bits_per_complete_sample();
        let payload_bits = self.payload_bytes() * 8;
        if !payload_bits.is_multiple_of(per) || payload_bits < per {
            return Err(format!(
                "payload of {} bytes is not a whole number of {}-bit samples ({} channels, {} bits, {})",
                self.payload_bytes(),
                per,
                self.channels(),
                self.bits_per_sample,
                if self.complex { "complex" } else { "real" }
            ));
        }
        if !SUPPORTED_BITS.contains(&self.bits_per_sample) {
            return Err(format!(
                "{} bits per sample is not supported (1, 2, 4 or 8)",
                self.bits_per_sample
            ));
        }
        Ok(())
    }

    /// Whole UTC second of this frame: reference epoch start + seconds.
    pub fn second(&self) -> i64 {
        ref_epoch_start(self.ref_epoch).sec() + i64::from(self.seconds)
    }

    /// Time of sample `index` (within this frame, per channel) at
    /// `sample_rate_hz`; see [`sample_time`].
    pub fn sample_time(&self, index: u64, sample_rate_hz: f64) -> UtcTime {
        sample_time(
            self.second(),
            u64::from(self.frame_number),
            self.samples_per_frame(),
            index,
            sample_rate_hz,
        )
    }
}

/// Time of sample `index` of the frame numbered `frame_number` in UTC second
/// `second`: second + (frame_number × samples_per_frame + index) / rate. The
/// sample count is formed exactly in integers and meets floating point in one
/// division, so the error is ~1e-16 s, far below a nanosecond.
pub fn sample_time(
    second: i64,
    frame_number: u64,
    samples_per_frame: usize,
    index: u64,
    sample_rate_hz: f64,
) -> UtcTime {
    let n = frame_number * samples_per_frame as u64 + index;
    // Whole seconds are split off exactly (they occur only when a frame number
    // runs past one second: malformed data or a wrong rate).
    let whole = (n as f64 / sample_rate_hz).floor();
    let rem = n as f64 - whole * sample_rate_hz;
    UtcTime::new(second + whole as i64, rem / sample_rate_hz)
}

/// True when a header is well formed but uses a bit width we do not decode
/// (a real VDIF file we cannot read, not garbage).
pub fn is_unsupported(h: &VdifHeader) -> bool {
    let per = h.sample_format().bits_per_complete_sample();
    let payload_bits = h.payload_bytes() * 8;
    !SUPPORTED_BITS.contains(&h.bits_per_sample)
        && h.frame_bytes() > h.header_bytes()
        && h.log2_channels <= 16
        && payload_bits >= per
        && payload_bits.is_multiple_of(per)
}

/// First instant of a VDIF reference epoch: epoch `e` starts on 1 January
/// (even `e`) or 1 July (odd `e`) of year 2000 + e/2, 00:00 UTC (§4, word 1).
pub fn ref_epoch_start(epoch: u8) -> UtcTime {
    let year = 2000 + i32::from(epoch / 2);
    let month = if epoch.is_multiple_of(2) { 1 } else { 7 };
    UtcTime::from_calendar(year, month, 1, 0, 0, 0, 0.0)
}

/// The latest reference epoch that starts at or before `t` (clamped to 0..=63).
pub fn ref_epoch_for(t: UtcTime) -> u8 {
    let (y, m, ..) = t.calendar();
    let e = (i64::from(y) - 2000) * 2 + i64::from(m >= 7);
    e.clamp(0, 63) as u8
}

/// How samples are laid out in a payload: bits per component, real or
/// complex, and the number of channels interleaved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleFormat {
    pub bits: u8,
    pub complex: bool,
    pub channels: usize,
}

impl SampleFormat {
    /// Components per channel sample: 2 (I, Q) for complex, else 1.
    pub fn components(&self) -> usize {
        if self.complex {
            2
        } else {
            1
        }
    }

    /// Components in one complete sample (all channels at one instant).
    pub fn components_per_complete_sample(&self) -> usize {
        self.channels * self.components()
    }

    pub fn bits_per_complete_sample(&self) -> usize {
        self.components_per_complete_sample() * usize::from(self.bits)
    }
}
