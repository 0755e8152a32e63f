//! Which sky each station's band sees, and how the station samples it.
//!
//! When every station records the job's subbands at their LOs (whatever its
//! sampling: real, complex, complex DSB, its own VDIF numbering), each job
//! subband has its own sky, as it always had: the recordings of scenarios
//! from before stations had setups of their own are unchanged, bit for bit.
//!
//! Otherwise (a station with `[[station.subband]]` tables or an LO offset),
//! each polarisation has one sky over the union of the sky frequencies all
//! stations record, and every station band is cut from it
//! ([`SkyCut::Cut`]): a 32 MHz band and an 8 MHz band inside it hold the
//! same sky in their common 8 MHz. The grid is Δf = 2·B_min/[`SKY_BLOCK`]
//! (B_min the narrowest band), so the narrowest band's sky is made exactly
//! as a band's own sky is (16384-point blocks at 2B) and a band n times as
//! wide uses blocks n times as long, over the same time.

use super::scenario::{Sampling, Scenario, StationBand};
use super::signal::{SkyCut, SubbandSampling, SKY_BLOCK};
use correlator::job::{Pol, Sideband};

/// Sky ids of union skies (one per polarisation), above any subband index.
pub const UNION_SKY: usize = 1 << 23;

/// One sky a pass makes: the id its random stream derives from, and the cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkyDef {
    pub sky_id: usize,
    pub cut: SkyCut,
    /// Its samples per second.
    pub sky_rate_hz: f64,
}

impl SkyDef {
    /// Samples per block.
    pub fn block_len(&self) -> usize {
        match self.cut {
            SkyCut::Own => SKY_BLOCK,
            SkyCut::Cut { n, .. } => n,
        }
    }
}

/// The skies of a scenario and, per station and band, the sky it sees and
/// how it samples it.
#[derive(Debug, Clone, PartialEq)]
pub struct SkyPlan {
    pub skies: Vec<SkyDef>,
    /// `bands[station][band]` = (index into `skies`, sampling).
    pub bands: Vec<Vec<(usize, SubbandSampling)>>,
}

fn pol_index(p: Pol) -> usize {
    match p {
        Pol::R => 0,
        Pol::L => 1,
        Pol::X => 2,
        Pol::Y => 3,
    }
}

impl SkyPlan {
    pub fn new(sc: &Scenario) -> SkyPlan {
        let setups: Vec<_> = sc.sim.stations.iter().map(|s| &s.setup).collect();
        if !setups.iter().any(|s| s.differs_in_sky()) {
            // Each job subband its own sky; station band j is job subband j.
            let skies = sc
                .job
                .subbands
                .iter()
                .enumerate()
                .map(|(k, sb)| SkyDef {
                    sky_id: k,
                    cut: SkyCut::Own,
                    sky_rate_hz: 2.0 * sb.bandwidth_hz,
                })
                .collect();
            let bands = setups
                .iter()
                .map(|setup| {
                    setup
                        .bands
                        .iter()
                        .enumerate()
                        .map(|(k, b)| (k, own_sky_sampling(setup.sampling, b)))
                        .collect()
                })
                .collect();
            return SkyPlan { skies, bands };
        }
        let b_min = setups
            .iter()
            .flat_map(|s| s.bands.iter().map(|b| b.bandwidth_hz))
            .fold(f64::INFINITY, f64::min);
        let df = 2.0 * b_min / SKY_BLOCK as f64;
        // Union of bins per polarisation.
        let mut union: [Option<(i64, i64)>; 4] = [None; 4];
        for s in &setups {
            for b in &s.bands {
                let (lo, hi) = s.sky_range_hz(b);
                let (m_lo, m_hi) = ((lo / df).ceil() as i64, (hi / df).ceil() as i64);
                let u = &mut union[pol_index(b.pol)];
                *u = Some(u.map_or((m_lo, m_hi), |(a, z)| (a.min(m_lo), z.max(m_hi))));
            }
        }
        let mut skies: Vec<SkyDef> = Vec::new();
        let bands = setups
            .iter()
            .map(|s| {
                s.bands
                    .iter()
                    .map(|b| {
                        let (lo_hz, hi_hz) = s.sky_range_hz(b);
                        let (union_lo, union_hi) =
                            union[pol_index(b.pol)].expect("every band's pol has a union");
                        let centre = ((lo_hz + hi_hz) / 2.0 / df).round() as i64;
                        // At least twice the band (the interpolator's passband
                        // is the inner half of the sky's Nyquist range).
                        let n = ((2.0 * b.bandwidth_hz / df).ceil() as usize).next_power_of_two();
                        let cut = SkyCut::Cut {
                            union_lo,
                            union_hi,
                            lo: (lo_hz / df).ceil() as i64,
                            hi: (hi_hz / df).ceil() as i64,
                            centre,
                            n,
                        };
                        let def = SkyDef {
                            sky_id: UNION_SKY | pol_index(b.pol),
                            cut,
                            sky_rate_hz: n as f64 * df,
                        };
                        let idx = skies.iter().position(|d| *d == def).unwrap_or_else(|| {
                            skies.push(def);
                            skies.len() - 1
                        });
                        let lo = s.lo_hz(b);
                        let sampling = SubbandSampling {
                            lo_hz: lo,
                            bandwidth_hz: b.bandwidth_hz,
                            upper_sideband: b.sideband == Sideband::Upper,
                            complex: s.sampling.is_complex(),
                            sky_rate_hz: n as f64 * df,
                            sky_centre_offset_hz: centre as f64 * df - lo,
                        };
                        (idx, sampling)
                    })
                    .collect()
            })
            .collect();
        SkyPlan { skies, bands }
    }
}

/// A band on its own sky (the band's sky range is a job subband's): the LO
/// at its edge, or at its centre for complex DSB.
fn own_sky_sampling(sampling: Sampling, b: &StationBand) -> SubbandSampling {
    let usb = b.sideband == Sideband::Upper;
    match sampling {
        Sampling::ComplexDsb => SubbandSampling {
            lo_hz: b.sky_freq_hz + b.bandwidth_hz / 2.0,
            bandwidth_hz: b.bandwidth_hz,
            upper_sideband: true,
            complex: true,
            sky_rate_hz: 2.0 * b.bandwidth_hz,
            sky_centre_offset_hz: 0.0,
        },
        s => SubbandSampling::band(b.sky_freq_hz, b.bandwidth_hz, usb, s.is_complex()),
    }
}
