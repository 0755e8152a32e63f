//! What ranks say to each other: tagged byte messages, point to point only
//! (no collectives, so a rank that fails early cannot leave the others
//! waiting in one). Integers and floats little-endian; floats by their bits,
//! so visibilities cross exactly.
//!
//! | tag | direction | payload |
//! |-----|-----------|---------|
//! | HELLO   | worker → 0 | plan fingerprint u64, host name |
//! | REQUEST | worker → 0 | (none): "give me a unit" |
//! | UNIT    | 0 → worker | integration u64, band count u32, bands u32… |
//! | STOP    | 0 → worker | (none): no more work |
//! | RESULT  | worker → 0 | a finished unit, every phase centre ([`encode_result`]) |
//! | FAILED  | worker → 0 | exit code u8, one-line message |
//! | STATS   | worker → 0 | [`RankStats`] |
//! | RELEASE | 0 → failed worker | (none): rank 0 has kept what was done, exit now |

use correlator::engine::{Integration, Layout, UnitResult, WorkUnit};
use formats::UtcTime;
use num_complex::Complex32;

pub const HELLO: i32 = 1;
pub const REQUEST: i32 = 2;
pub const UNIT: i32 = 3;
pub const STOP: i32 = 4;
pub const RESULT: i32 = 5;
pub const FAILED: i32 = 6;
pub const STATS: i32 = 7;
pub const RELEASE: i32 = 8;
/// Rank 0 → workers between a session's scan runs: payload `[1]` = prepare
/// the next scan's run, `[0]` = the session stopped, finish.
pub const NEXT: i32 = 9;

/// Reads little-endian fields off a message; `None` when it is too short.
struct Fields<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(b: &'a [u8]) -> Self {
        Fields { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn f32(&mut self) -> Option<f32> {
        Some(f32::from_bits(self.u32()?))
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_bits(self.u64()?))
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.at.min(self.b.len())..];
        self.at = self.b.len();
        s
    }
    fn done(&self) -> bool {
        self.at == self.b.len()
    }
}

pub fn encode_unit(u: &WorkUnit) -> Vec<u8> {
    let mut b = Vec::with_capacity(12 + 4 * u.bands.len());
    b.extend_from_slice(&u.integration.to_le_bytes());
    b.extend_from_slice(&(u.bands.len() as u32).to_le_bytes());
    for &x in &u.bands {
        b.extend_from_slice(&(x as u32).to_le_bytes());
    }
    b
}

pub fn decode_unit(b: &[u8]) -> Option<WorkUnit> {
    let mut f = Fields::new(b);
    let integration = f.u64()?;
    let n = f.u32()? as usize;
    let bands = (0..n.min(b.len())).map(|_| f.u32().map(|x| x as usize));
    let bands = bands.collect::<Option<Vec<_>>>()?;
    (bands.len() == n && f.done()).then_some(WorkUnit { integration, bands })
}

/// A finished unit: only its own bands' visibilities and weights travel,
/// of every phase centre (`[centre][baseline][band]`, as they are laid out).
pub fn encode_result(layout: &Layout, r: &UnitResult) -> Vec<u8> {
    let i = &r.integration;
    let npr = layout.products.len();
    let span = layout.nchan * npr;
    let rows = layout.centres.len() * layout.baselines.len();
    let mut b = encode_unit(&r.unit);
    b.reserve(40 + r.station_has_data.len() + rows * r.unit.bands.len() * (8 * span + 4 * npr));
    b.extend_from_slice(&i.index.to_le_bytes());
    b.extend_from_slice(&i.time.sec().to_le_bytes());
    b.extend_from_slice(&i.time.frac().to_bits().to_le_bytes());
    b.extend_from_slice(&i.inttim_s.to_bits().to_le_bytes());
    b.extend_from_slice(&(r.station_has_data.len() as u32).to_le_bytes());
    b.extend(r.station_has_data.iter().map(|&h| h as u8));
    for c in 0..layout.centres.len() {
        for bl in 0..layout.baselines.len() {
            for &band in &r.unit.bands {
                let v = layout.vis_index(c, bl, band, 0, 0);
                for z in &i.vis[v..v + span] {
                    b.extend_from_slice(&z.re.to_bits().to_le_bytes());
                    b.extend_from_slice(&z.im.to_bits().to_le_bytes());
                }
                let w = layout.weight_index(c, bl, band, 0);
                for x in &i.weights[w..w + npr] {
                    b.extend_from_slice(&x.to_bits().to_le_bytes());
                }
            }
        }
    }
    // Phase-cal tones (every station and subband: a unit's own folds).
    b.extend_from_slice(&(i.pcal.len() as u32).to_le_bytes());
    for z in &i.pcal {
        b.extend_from_slice(&z.re.to_bits().to_le_bytes());
        b.extend_from_slice(&z.im.to_bits().to_le_bytes());
    }
    b.extend_from_slice(&(i.pcal_valid.len() as u32).to_le_bytes());
    for x in &i.pcal_valid {
        b.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    b
}

/// The inverse of [`encode_result`], into a full-size integration (the
/// other bands zero). `None` for a message that does not fit `layout`.
pub fn decode_result(layout: &Layout, b: &[u8]) -> Option<UnitResult> {
    let mut f = Fields::new(b);
    let integration = f.u64()?;
    let n = f.u32()? as usize;
    let nb = layout.bands.len();
    if n == 0 || n > nb {
        return None;
    }
    let bands = (0..n)
        .map(|_| f.u32().map(|x| x as usize).filter(|&x| x < nb))
        .collect::<Option<Vec<_>>>()?;
    let index = f.u64()?;
    let sec = f.u64()? as i64;
    let frac = f.f64()?;
    let inttim_s = f.f64()?;
    let nst = f.u32()? as usize;
    if nst != layout.stations.len() || index != integration || !(0.0..1.0).contains(&frac) {
        return None;
    }
    let station_has_data = f.take(nst)?.iter().map(|&x| x != 0).collect();
    let npr = layout.products.len();
    let nc = layout.centres.len();
    let mut vis = vec![Complex32::new(0.0, 0.0); nc * layout.vis_per_centre()];
    let mut weights = vec![0.0f32; nc * layout.weights_per_centre()];
    for c in 0..nc {
        for bl in 0..layout.baselines.len() {
            for &band in &bands {
                let v = layout.vis_index(c, bl, band, 0, 0);
                for z in &mut vis[v..v + layout.nchan * npr] {
                    *z = Complex32::new(f.f32()?, f.f32()?);
                }
                let w = layout.weight_index(c, bl, band, 0);
                for x in &mut weights[w..w + npr] {
                    *x = f.f32()?;
                }
            }
        }
    }
    let np = f.u32()? as usize;
    let pcal = (0..np)
        .map(|_| Some(Complex32::new(f.f32()?, f.f32()?)))
        .collect::<Option<Vec<_>>>()?;
    let nv = f.u32()? as usize;
    let pcal_valid = (0..nv).map(|_| f.f32()).collect::<Option<Vec<_>>>()?;
    if !f.done() {
        return None;
    }
    Some(UnitResult {
        unit: WorkUnit { integration, bands },
        integration: Integration {
            index,
            time: UtcTime::new(sec, frac),
            inttim_s,
            vis,
            weights,
            pcal,
            pcal_valid,
        },
        station_has_data,
    })
}

pub fn encode_failure(code: u8, message: &str) -> Vec<u8> {
    let mut b = vec![code];
    b.extend_from_slice(message.as_bytes());
    b
}

pub fn decode_failure(b: &[u8]) -> (u8, String) {
    let mut f = Fields::new(b);
    let code = f.u8().unwrap_or(1);
    (code, String::from_utf8_lossy(f.rest()).into_owned())
}

pub fn encode_hello(fingerprint: u64, host: &str) -> Vec<u8> {
    let mut b = fingerprint.to_le_bytes().to_vec();
    b.extend_from_slice(host.as_bytes());
    b
}

pub fn decode_hello(b: &[u8]) -> Option<(u64, String)> {
    let mut f = Fields::new(b);
    let fp = f.u64()?;
    Some((fp, String::from_utf8_lossy(f.rest()).into_owned()))
}

/// What one rank did, for the summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankStats {
    pub rank: usize,
    pub host: String,
    pub units: u64,
    /// Seconds of all-band data correlated: a unit of k of K bands over an
    /// integration of T seconds counts k·T/K.
    pub data_s: f64,
    /// Wall seconds from its first unit to its last result.
    pub busy_s: f64,
    /// Bytes of recordings read (samples × bits / 8, the subbands read).
    pub input_bytes: u64,
    /// Message payload bytes sent and received over MPI.
    pub sent_bytes: u64,
    pub received_bytes: u64,
    /// What its readers noticed (damage met mid-run), one line each.
    pub warnings: Vec<String>,
}

pub fn encode_stats(s: &RankStats) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&s.units.to_le_bytes());
    b.extend_from_slice(&s.data_s.to_bits().to_le_bytes());
    b.extend_from_slice(&s.busy_s.to_bits().to_le_bytes());
    b.extend_from_slice(&s.input_bytes.to_le_bytes());
    b.extend_from_slice(&s.sent_bytes.to_le_bytes());
    b.extend_from_slice(&s.received_bytes.to_le_bytes());
    let text = s.warnings.join("\n");
    b.extend_from_slice(&(text.len() as u64).to_le_bytes());
    b.extend_from_slice(text.as_bytes());
    b.extend_from_slice(s.host.as_bytes());
    b
}

pub fn decode_stats(rank: usize, b: &[u8]) -> Option<RankStats> {
    let mut f = Fields::new(b);
    let units = f.u64()?;
    let data_s = f.f64()?;
    let busy_s = f.f64()?;
    let input_bytes = f.u64()?;
    let sent_bytes = f.u64()?;
    let received_bytes = f.u64()?;
    let n = usize::try_from(f.u64()?).ok()?;
    let text = String::from_utf8_lossy(f.take(n)?).into_owned();
    let host = String::from_utf8_lossy(f.rest()).into_owned();
    Some(RankStats {
        rank,
        host,
        units,
        data_s,
        busy_s,
        input_bytes,
        sent_bytes,
        received_bytes,
        warnings: text.lines().map(str::to_string).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use correlator::engine::{Band, Product};
    use correlator::job::Sideband;

    fn layout(centres: &[&str]) -> Layout {
        let band = |f: f64, s: usize| Band {
            sky_freq_hz: f,
            bandwidth_hz: 8e6,
            sideband: Sideband::Upper,
            subbands: vec![s],
        };
        Layout {
            centres: centres.iter().map(|c| c.to_string()).collect(),
            stations: vec!["A".into(), "B".into(), "C".into()],
            baselines: vec![(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)],
            bands: vec![band(8.4e9, 0), band(8.5e9, 1), band(8.6e9, 2)],
            pols: vec![correlator::job::Pol::R],
            products: vec![Product { pol_a: 0, pol_b: 0 }],
            nchan: 16,
            fft_nchan: 16,
            window: Default::default(),
            chan_width_hz: 0.5e6,
            complex: false,
            sample_rate_hz: 16e6,
            fft_length: 32,
            blocks_per_integration: 10,
            integration_s: 2e-5,
            station_sample_rate_hz: vec![16e6; 3],
            station_fft_length: vec![32; 3],
            station_recordings: vec![Vec::new(); 3],
            channel_maps: vec![Vec::new(); 3],
            pcal_tones: Vec::new(),
        }
    }

    #[test]
    fn a_result_crosses_bit_for_bit_with_only_its_bands_and_every_centre() {
        for centres in [&["Q"][..], &["Q", "LANDER"][..]] {
            let l = layout(centres);
            let nc = centres.len();
            let nv = nc * l.vis_per_centre();
            let mut vis: Vec<Complex32> = (0..nv)
                .map(|k| {
                    Complex32::new(
                        k as f32 * 0.37 - 1.0,
                        f32::from_bits(0x3f80_0001 + k as u32),
                    )
                })
                .collect();
            let mut weights: Vec<f32> = (0..nc * l.weights_per_centre())
                .map(|k| k as f32 / 7.0)
                .collect();
            // Band 1 is not in the unit: zero it, as the engine leaves it.
            for c in 0..nc {
                for bl in 0..l.baselines.len() {
                    let v = l.vis_index(c, bl, 1, 0, 0);
                    vis[v..v + l.nchan].fill(Complex32::new(0.0, 0.0));
                    weights[l.weight_index(c, bl, 1, 0)] = 0.0;
                }
            }
            let r = UnitResult {
                unit: WorkUnit {
                    integration: 41,
                    bands: vec![0, 2],
                },
                integration: Integration {
                    index: 41,
                    time: UtcTime::new(836_000_000, 0.123_456_789),
                    inttim_s: 2e-5,
                    vis,
                    weights,
                    pcal: vec![Complex32::new(0.5, -0.25)],
                    pcal_valid: vec![0.75],
                },
                station_has_data: vec![true, false, true],
            };
            let b = encode_result(&l, &r);
            // Unit (integration, count, 2 bands), index, time (2 words),
            // inttim, station count and flags; then centres × 6 baselines ×
            // 2 bands × (16 complex + 1 weight); then the phase-cal values
            // (count, 1 complex) and valid fractions (count, 1).
            assert_eq!(
                b.len(),
                8 + 4 + 2 * 4 + 8 + 16 + 8 + 4 + 3 + nc * 6 * 2 * (16 * 8 + 4) + 4 + 8 + 4 + 4
            );
            assert_eq!(decode_result(&l, &b), Some(r));
            // Cut short or padded: refused, not misread.
            assert_eq!(decode_result(&l, &b[..b.len() - 1]), None);
            let mut longer = b.clone();
            longer.push(0);
            assert_eq!(decode_result(&l, &longer), None);
        }
    }

    #[test]
    fn units_stats_and_failures_round_trip() {
        let u = WorkUnit {
            integration: u64::MAX - 3,
            bands: vec![3, 1],
        };
        assert_eq!(decode_unit(&encode_unit(&u)), Some(u));
        assert_eq!(decode_unit(&[1, 2, 3]), None);
        let s = RankStats {
            rank: 2,
            host: "node-7".into(),
            units: 12,
            data_s: 1.25,
            busy_s: 0.5,
            input_bytes: 1 << 40,
            sent_bytes: 99,
            received_bytes: 7,
            warnings: vec!["a".into(), "b c".into()],
        };
        assert_eq!(decode_stats(2, &encode_stats(&s)), Some(s));
        assert_eq!(
            decode_failure(&encode_failure(3, "station X: gone")),
            (3, "station X: gone".to_string())
        );
        assert_eq!(decode_hello(&encode_hello(5, "h")), Some((5, "h".into())));
    }
}
