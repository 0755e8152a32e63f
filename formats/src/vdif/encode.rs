//! Samples to codes (nearest level of the decode table) and codes to payload
//! bytes, in the bit order of VDIF 1.0 §5 (low bits first within each byte of
//! the little-endian 32-bit words).

use super::decode::Levels;
use super::header::SUPPORTED_BITS;

/// Maps values to the code of the nearest decode level, so that encoding a
/// decoded value gives back its code exactly (the write→read round trip).
///
/// A simulator that quantises Gaussian noise of r.m.s. σ should scale it so that
/// the thresholds (midpoints between levels) sit where it wants them: for 2 bits
/// the threshold between codes 2 and 3 is (1 + H)/2 ≈ 2.168, so scaling by
/// 2.168/0.9816 puts it at the optimal 0.9816σ.
#[derive(Clone, Debug)]
pub struct Encoder {
    bits: u8,
    /// Midpoints between consecutive levels (levels increase with code).
    thresholds: Vec<f32>,
}

impl Encoder {
    /// `bits` must be 1, 2, 4 or 8.
    pub fn new(bits: u8, levels: &Levels) -> Encoder {
        assert!(SUPPORTED_BITS.contains(&bits), "unsupported bits {bits}");
        let t = levels.table(bits);
        let thresholds = t.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
        Encoder { bits, thresholds }
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Code of the nearest level (ties go up; NaN gives code 0).
    #[inline]
    pub fn code(&self, x: f32) -> u8 {
        self.thresholds.partition_point(|&t| t <= x) as u8
    }
}

/// Pack codes (each < 2^bits) into `out`, components in stream order, low bits
/// first. `out.len() * 8 == codes.len() * bits`.
pub fn pack_codes(codes: &[u8], bits: u8, out: &mut [u8]) {
    let k = 8 / usize::from(bits);
    let mask = ((1u16 << bits) - 1) as u8;
    for (byte, chunk) in out.iter_mut().zip(codes.chunks(k)) {
        let mut b = 0u8;
        for (i, &c) in chunk.iter().enumerate() {
            b |= (c & mask) << (i * usize::from(bits));
        }
        *byte = b;
    }
}
