//! A small FITS-IDI file with known truth for the CLI tests: stations EF, WB
//! (Earth) and MOON, two scans of 40 × 1 s on two sources, two 16 MHz bands
//! of 32 channels at 8.4 and 8.464 GHz, RR and LL, the noise of 2-bit data
//! after quantisation correction (σ = 1/(0.8825·sqrt(2·Δν·t)) per component),
//! autocorrelations with a bandpass.
//!
//! [`write_session_file`]: a session of three named scans, the last a
//! same-beam scan of two phase centres (`tools::fringe::synth_session`,
//! whose constants are the truth).

#![allow(dead_code)]

pub mod small_job;

use formats::fitsidi::{
    IdiAntenna, IdiBand, IdiEop, IdiHeader, IdiSource, IdiWriter, ModelRow, Mount, UvRow,
};
use formats::UtcTime;
use num_complex::Complex64;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::f64::consts::PI;
use std::path::Path;

pub const NAMES: [&str; 3] = ["EF", "WB", "MOON"];
/// Residual delay (s) and rate (s/s) per station at the middle of each scan.
pub const RES_DELAY_S: [f64; 3] = [0.0, 30e-9, -0.28e-6];
pub const RES_RATE: [f64; 3] = [0.0, 1e-13, 5e-12];
/// A-priori model per station: τ = c0 + c1·(g − model start) (TT s).
pub const MODEL: [[f64; 2]; 3] = [[0.0125, 1.1e-7], [-0.0071, -2.0e-7], [1.2834, 2.1e-6]];
pub const RHO: f64 = 2e-3;
/// All stations record 2 bits (NO_LEVELS 4): after the correlator's
/// quantisation correction the noise is 1/g² = 1/0.8825 times the radiometer
/// σ, so the expected SNR is 0.8825·ρ·sqrt(2BT) (TMS Table 8.1).
pub const TWO_BIT_EFFICIENCY: f64 = 0.8825;
pub const N_CHAN: usize = 32;
pub const CHAN_BW: f64 = 0.5e6;
pub const N_AP: usize = 40;
/// Scan starts, seconds after T0.
pub const SCAN_START_S: [f64; 2] = [0.0, 100.0];

pub fn t0() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 14, 13, 0, 0, 0.0)
}

pub fn ref_freq() -> f64 {
    8.4e9
}

/// Model delay of station `s` at geocentre time `g`, and its rate.
pub fn model(s: usize, g: UtcTime) -> (f64, f64) {
    let dt = g.seconds_since(t0());
    (MODEL[s][0] + MODEL[s][1] * dt, MODEL[s][1])
}

/// Residual delay of baseline a-b (0-based stations) at `g` in scan `scan` (0-based).
pub fn residual(a: usize, b: usize, scan: usize, g: UtcTime) -> f64 {
    let mid = t0().add_seconds(SCAN_START_S[scan] + N_AP as f64 / 2.0);
    let dt = g.seconds_since(mid);
    (RES_DELAY_S[b] + RES_RATE[b] * dt) - (RES_DELAY_S[a] + RES_RATE[a] * dt)
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// Amplitude an FX correlator keeps of baseline a-b: the sinc of the fringe
/// winding in a 1 s period (rate at frequency `nu`) times the overlap of the
/// stations' FFT blocks (1/CHAN_BW long, no window) at residual delay `tau`.
pub fn smearing(a: usize, b: usize, nu: f64, tau: f64) -> f64 {
    sinc(nu * (RES_RATE[b] - RES_RATE[a]) * 1.0) * (1.0 - (CHAN_BW * tau).abs())
}

pub fn write_file(path: &Path) {
    let antenna = |i: usize| IdiAntenna {
        name: NAMES[i].into(),
        id: i as u32 + 1,
        xyz_m: [
            [4033947.2, 486990.8, 4900431.0],
            [3828750.7, 442589.2, 5064921.6],
            [2.1e8, -3.2e8, 0.9e8],
        ][i],
        vel_m_s: [0.0; 3],
        mount: if i == 2 {
            Mount::Orbiting
        } else {
            Mount::AltAz
        },
        axis_offset_m: 0.0,
        diameter_m: 25.0,
        n_levels: 4,
    };
    let header = IdiHeader {
        obscode: "EMTEST".into(),
        telescope: "VLBA".into(),
        correlator: "EMCORR".into(),
        correlator_version: "test".into(),
        ref_date: UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0),
        ref_freq_hz: ref_freq(),
        n_chan: N_CHAN,
        chan_bw_hz: CHAN_BW,
        ref_pixel: 1.0,
        fx: None,
        bands: (0..2)
            .map(|b| IdiBand {
                freq_offset_hz: b as f64 * 64e6,
                sideband: 1,
                total_bw_hz: N_CHAN as f64 * CHAN_BW,
                chan_bw_hz: CHAN_BW,
            })
            .collect(),
        stokes: vec![-1, -2],
        antennas: (0..3).map(antenna).collect(),
        sources: vec![
            IdiSource {
                id: 1,
                name: "0552+398".into(),
                calcode: "V".into(),
                ra_deg: 88.878,
                dec_deg: 39.814,
            },
            IdiSource {
                id: 2,
                name: "1741-038".into(),
                calcode: "V".into(),
                ra_deg: 265.995,
                dec_deg: -3.835,
            },
        ],
        array_xyz_m: [0.0; 3],
        eop: IdiEop::default(),
        scans: Vec::new(),
    };
    let models: Vec<ModelRow> = (0..3)
        .map(|s| ModelRow {
            time: t0(),
            interval_s: 300.0,
            antenna: s as u32 + 1,
            source_id: 1,
            freq_id: 1,
            pdelay_turns: vec![vec![0.0, 0.0]; 2],
            gdelay_s: vec![MODEL[s].to_vec(); 2],
            prate_hz: vec![vec![0.0, 0.0]; 2],
            grate_s_s: vec![vec![MODEL[s][1], 0.0]; 2],
            disp_s: 0.0,
            ddisp_s_s: 0.0,
            clock_s: 0.0,
            dclock_s_s: 0.0,
        })
        .collect();
    let mut w = IdiWriter::create(path, &header, &models).expect("create");
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let noise = Normal::new(
        0.0,
        1.0 / (TWO_BIT_EFFICIENCY * (2.0 * CHAN_BW * 1.0f64).sqrt()),
    )
    .unwrap();
    for (scan, &start) in SCAN_START_S.iter().enumerate() {
        for i in 0..N_AP {
            let g = t0().add_seconds(start + i as f64 + 0.5);
            for a in 0..3 {
                for b in a..3 {
                    let mut vis = Vec::new();
                    for band in &header.bands {
                        for k in 0..N_CHAN {
                            let nu = ref_freq() + band.freq_offset_hz + k as f64 * CHAN_BW;
                            for _pol in 0..2 {
                                let v = if a == b {
                                    // Bandpass: a raised-cosine roll-off at the band edges.
                                    let x = (k as f64 + 0.5) / N_CHAN as f64;
                                    Complex64::new(1.0 - 0.6 * (2.0 * x - 1.0).powi(8), 0.0)
                                } else {
                                    // V_AB ∝ exp(+2πiν·residual_AB) (README, Conventions).
                                    // As an FX correlator accumulates it (`smearing`).
                                    let tau = residual(a, b, scan, g);
                                    let amp = RHO * smearing(a, b, nu, tau);
                                    Complex64::from_polar(amp, 2.0 * PI * nu * tau + 0.3)
                                        + Complex64::new(
                                            noise.sample(&mut rng),
                                            noise.sample(&mut rng),
                                        )
                                };
                                vis.push([v.re as f32, v.im as f32, 1.0]);
                            }
                        }
                    }
                    w.write_row(&UvRow {
                        time: g,
                        baseline: (a as u32 + 1, b as u32 + 1),
                        source_id: scan as u32 + 1,
                        freq_id: 1,
                        inttim_s: 1.0,
                        uvw_s: [0.0; 3],
                        vis,
                    })
                    .expect("write_row");
                }
            }
        }
    }
    w.finish().expect("finish");
}

/// Write `tools::fringe::synth_session`'s session (seed, with or without the
/// EMCORR_SCAN table) to `path`.
pub fn write_session_file(path: &Path, seed: u64, scan_table: bool) {
    let file = tools::fringe::synth_session::session_file(seed, scan_table);
    let mut w = IdiWriter::create(path, &file.header, &file.models).expect("create");
    for r in &file.rows {
        w.write_row(r).expect("write_row");
    }
    w.finish().expect("finish");
}
