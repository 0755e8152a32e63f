//! A synthetic session as a FITS-IDI file in memory, with known truth: three
//! named scans, the last a same-beam scan of two phase centres at the same
//! times, station clock terms common to every source and source-specific
//! residuals on top. The truth the scan segmentation, the per-source fits
//! and `--differential` are checked against (fringe tests and
//! tools/tests/fringe_cli.rs).
//!
//! Stations EF, WB (Earth) and MOON; two 16 MHz USB bands of 32 channels at
//! 8.4 and 8.464 GHz, RR only; 1 s integrations; unquantised noise of the
//! radiometer σ = 1/sqrt(2·Δν·t) per component (NO_LEVELS 0: no quantisation
//! correction). Scans, seconds after [`t0`]:
//!
//! | scan   | span (s)  | sources |
//! |--------|-----------|---------|
//! | No0001 | [0, 30)   | 0552+398 |
//! | No0002 | [30, 60)  | 0552+398 (straight after No0001: only the scan table tells them apart) |
//! | No0003 | [80, 110) | LANDER and J0555+3948 at the same times (same-beam) |
//!
//! Residual delay of station s for source k at geocentre time g
//! (sign as README, Conventions: V_AB ∝ exp(+2πiν·(τ_B − τ_A))):
//! τ_s,k(g) = `CLOCK_S[s]` + `CLOCK_RATE[s]·(g` − t0) + `SRC_DELAY_S[k][s]` +
//! `SRC_RATE[k][s]·(g` − t0), plus a phase `INST_PHASE_RAD[s]` (common to all
//! sources) + `SRC_PHASE_RAD[k][s]`. Clocks and instrumental phases are the
//! "common station terms" same-beam differencing removes; the SRC_ terms
//! stand for what it measures (position, structure). The two phase centres
//! of No0003 get independent noise, as phase centres far apart (many fringe
//! spacings) do.

use super::data::FxChannels;
use super::fit::{fx_delay_loss, sinc};
use formats::fitsidi::{
    IdiAntenna, IdiBand, IdiEop, IdiFile, IdiHeader, IdiScan, IdiSource, ModelRow, Mount, UvRow,
};
use formats::UtcTime;
use num_complex::Complex64;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::f64::consts::PI;

pub const STATIONS: [&str; 3] = ["EF", "WB", "MOON"];
/// SOURCE table names; SOURCE_ID = index + 1.
pub const SOURCES: [&str; 3] = ["0552+398", "LANDER", "J0555+3948"];
/// Scans: name, start (s after [`t0`]), integrations, SOURCE_IDs.
pub const SCANS: [(&str, f64, usize, &[u32]); 3] = [
    ("No0001", 0.0, 30, &[1]),
    ("No0002", 30.0, 30, &[1]),
    ("No0003", 80.0, 30, &[2, 3]),
];
/// Station clock offsets (s) and rates (s/s): large, common to all sources.
pub const CLOCK_S: [f64; 3] = [0.0, 40e-9, 180e-9];
pub const CLOCK_RATE: [f64; 3] = [0.0, 2e-13, -1.5e-12];
/// Instrumental phase per station (rad), common to all sources.
pub const INST_PHASE_RAD: [f64; 3] = [0.0, 0.7, -2.1];
/// Source-specific residual delay (s), rate (s/s) and phase (rad) per
/// source (SOURCE_ID − 1) and station.
pub const SRC_DELAY_S: [[f64; 3]; 3] = [[0.0; 3], [0.0, 0.4e-9, 2.5e-9], [0.0, -0.3e-9, 0.8e-9]];
pub const SRC_RATE: [[f64; 3]; 3] = [[0.0; 3], [0.0, 0.0, 3e-13], [0.0, 0.0, -1e-13]];
pub const SRC_PHASE_RAD: [[f64; 3]; 3] = [[0.0; 3], [0.0, 0.3, 1.1], [0.0, -0.5, 0.2]];
/// Correlation coefficient of each source.
pub const RHO: [f64; 3] = [2e-3, 1.2e-3, 1.5e-3];
/// A-priori model per source and station: τ = c0 + c1·(g − t0) (TT s).
pub const MODEL: [[[f64; 2]; 3]; 3] = [
    [[0.0125, 1.1e-7], [-0.0071, -2.0e-7], [1.2834, 2.1e-6]],
    [[0.0126, 1.2e-7], [-0.0072, -2.1e-7], [1.2837, 2.2e-6]],
    [[0.0124, 1.0e-7], [-0.0070, -1.9e-7], [1.2831, 2.0e-6]],
];
pub const N_CHAN: usize = 32;
pub const CHAN_BW_HZ: f64 = 0.5e6;
pub const REF_FREQ_HZ: f64 = 8.4e9;
/// Band offsets from REF_FREQ (Hz).
pub const BAND_OFFSET_HZ: [f64; 2] = [0.0, 64e6];

/// Start of the session (geocentre UTC).
pub fn t0() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 14, 13, 0, 0, 0.0)
}

/// Residual delay (s) of station `s` (0-based) for SOURCE_ID `source` at `g`.
pub fn station_delay(s: usize, source: u32, g: UtcTime) -> f64 {
    let k = source as usize - 1;
    let dt = g.seconds_since(t0());
    CLOCK_S[s] + CLOCK_RATE[s] * dt + SRC_DELAY_S[k][s] + SRC_RATE[k][s] * dt
}

/// Injected residual delay (s), rate (s/s) and fringe phase at
/// [`REF_FREQ_HZ`] (rad, wrapped) of baseline a-b (0-based stations) for
/// SOURCE_ID `source` at `g`.
pub fn residual(a: usize, b: usize, source: u32, g: UtcTime) -> (f64, f64, f64) {
    let k = source as usize - 1;
    let tau = station_delay(b, source, g) - station_delay(a, source, g);
    let rate = (CLOCK_RATE[b] + SRC_RATE[k][b]) - (CLOCK_RATE[a] + SRC_RATE[k][a]);
    let phase = 2.0 * PI * REF_FREQ_HZ * tau + extra_phase(a, b, k);
    (tau, rate, super::fit::wrap_pi(phase))
}

/// The phase not due to delay, (B − A) of instrumental + source terms.
fn extra_phase(a: usize, b: usize, k: usize) -> f64 {
    (INST_PHASE_RAD[b] + SRC_PHASE_RAD[k][b]) - (INST_PHASE_RAD[a] + SRC_PHASE_RAD[k][a])
}

/// Model delay of station `s` for SOURCE_ID `source` at `g`, and its rate.
pub fn model(s: usize, source: u32, g: UtcTime) -> (f64, f64) {
    let m = MODEL[source as usize - 1][s];
    (m[0] + m[1] * g.seconds_since(t0()), m[1])
}

/// The session's FITS-IDI header; `scan_table` adds the EMCORR_SCAN rows.
pub fn header(scan_table: bool) -> IdiHeader {
    let antenna = |i: usize| IdiAntenna {
        name: STATIONS[i].into(),
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
        n_levels: 0,
    };
    IdiHeader {
        obscode: "EMSESS".into(),
        telescope: "VLBA".into(),
        correlator: "EMCORR".into(),
        correlator_version: "test".into(),
        ref_date: UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0),
        ref_freq_hz: REF_FREQ_HZ,
        n_chan: N_CHAN,
        chan_bw_hz: CHAN_BW_HZ,
        ref_pixel: 1.0,
        fx: None,
        bands: BAND_OFFSET_HZ
            .iter()
            .map(|&f| IdiBand {
                freq_offset_hz: f,
                sideband: 1,
                total_bw_hz: N_CHAN as f64 * CHAN_BW_HZ,
                chan_bw_hz: CHAN_BW_HZ,
            })
            .collect(),
        stokes: vec![-1],
        antennas: (0..3).map(antenna).collect(),
        sources: SOURCES
            .iter()
            .enumerate()
            .map(|(i, name)| IdiSource {
                id: i as u32 + 1,
                name: name.to_string(),
                calcode: String::new(),
                ra_deg: 88.878 + 0.01 * i as f64,
                dec_deg: 39.814,
            })
            .collect(),
        array_xyz_m: [0.0; 3],
        eop: IdiEop::default(),
        scans: if scan_table {
            SCANS
                .iter()
                .map(|&(name, start, n, ids)| IdiScan {
                    name: name.into(),
                    start: t0().add_seconds(start),
                    duration_s: n as f64,
                    source_ids: ids.to_vec(),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// INTERFEROMETER_MODEL rows: one per source and station over the session.
pub fn models() -> Vec<ModelRow> {
    let mut out = Vec::new();
    for (k, per_station) in MODEL.iter().enumerate() {
        for (s, &m) in per_station.iter().enumerate() {
            out.push(ModelRow {
                time: t0(),
                interval_s: 300.0,
                antenna: s as u32 + 1,
                source_id: k as u32 + 1,
                freq_id: 1,
                pdelay_turns: vec![vec![0.0, 0.0]; 2],
                gdelay_s: vec![m.to_vec(); 2],
                prate_hz: vec![vec![0.0, 0.0]; 2],
                grate_s_s: vec![vec![m[1], 0.0]; 2],
                disp_s: 0.0,
                ddisp_s_s: 0.0,
                clock_s: 0.0,
                dclock_s_s: 0.0,
            });
        }
    }
    out
}

/// The whole session: header, model and UV_DATA rows (cross-correlations
/// only, time order, sources of one integration in SOURCE_ID order).
pub fn session_file(seed: u64, scan_table: bool) -> IdiFile {
    let header = header(scan_table);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 1.0 / (2.0 * CHAN_BW_HZ * 1.0f64).sqrt()).expect("finite σ");
    let mut rows = Vec::new();
    for &(_, start, n_int, ids) in &SCANS {
        for i in 0..n_int {
            let g = t0().add_seconds(start + i as f64 + 0.5);
            for &src in ids {
                let k = src as usize - 1;
                for (a, b) in [(0, 1), (0, 2), (1, 2)] {
                    let (tau, rate, _) = residual(a, b, src, g);
                    let mut vis = Vec::with_capacity(2 * N_CHAN);
                    for off in BAND_OFFSET_HZ {
                        for c in 0..N_CHAN {
                            let nu = REF_FREQ_HZ + off + c as f64 * CHAN_BW_HZ;
                            // The fringe averaged over the 1 s period, with
                            // the FFT blocks' overlap at the residual delay,
                            // as an FX correlator accumulates it.
                            let amp = RHO[k]
                                * sinc(nu * rate)
                                * fx_delay_loss(tau, CHAN_BW_HZ, FxChannels::default());
                            let v =
                                Complex64::from_polar(
                                    amp,
                                    2.0 * PI * nu * tau + extra_phase(a, b, k),
                                ) + Complex64::new(noise.sample(&mut rng), noise.sample(&mut rng));
                            vis.push([v.re as f32, v.im as f32, 1.0]);
                        }
                    }
                    rows.push(UvRow {
                        time: g,
                        baseline: (a as u32 + 1, b as u32 + 1),
                        source_id: src,
                        freq_id: 1,
                        inttim_s: 1.0,
                        uvw_s: [0.0; 3],
                        vis,
                    });
                }
            }
        }
    }
    IdiFile {
        header,
        rows,
        models: models(),
    }
}
