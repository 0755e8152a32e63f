//! Write a small synthetic FITS-IDI file with known station delays, for the
//! CASA check (testdata/casa_check.py) and the astropy check.
//!
//! Stations PT and LA on the Earth and MOON1 on the Moon (~390,000 km), 2 bands
//! of 32 channels, RR and LL, 30 integrations of 2 s. Visibilities follow the
//! project's convention: with the wavefront reaching station s at g + τ_s,
//! X_s(ν) ∝ exp(−2πiντ_s) and V_AB = ⟨X_A conj(X_B)⟩ = exp(−2πiν(τ_A − τ_B)).
//!
//! Usage: cargo run --release -p formats --example fitsidi_synth -- OUT.fits [--session|--session-no-table|--pcal]
//! It prints the injected delays (ns) and rates (ps/s) per station.
//!
//! `--session` makes it a two-scan session with emcorr's scan table
//! (EMCORR_SCAN): scan "No0001" is the 30 integrations above on 0552+398;
//! scan "No0002" follows 60 s later with 30 integrations in which a second
//! phase centre, LANDER (SOURCE_ID 2), has rows at the same times as
//! 0552+398 (same-beam), with the same station delays. `--session-no-table`
//! writes the same rows without the table, so that CASA's import of the two
//! can be compared (testdata/casa_scan_check.py).
//!
//! `--pcal` adds a PHASE-CAL table (written after UV_DATA): per station, 30
//! intervals of 2 s (those of the integrations), RR and LL, 3 tones per band
//! at 1, 6 and 11 MHz above each band's lower edge, with phase
//! −2πν·τ_s + 0.5·(station number) rad (the station's delay plus a constant),
//! amplitude 0.01 (σ units), rate 1e-13 s/s, CABLE_CAL 1 ns × station number;
//! for testdata/casa_pcal_check.py, which compares the same file without
//! `--pcal`.

use std::f64::consts::PI;
use std::path::PathBuf;

use formats::fitsidi::{
    IdiAntenna, IdiBand, IdiEop, IdiHeader, IdiScan, IdiSource, IdiWriter, ModelRow, Mount,
    PcalRow, UvRow,
};
use formats::UtcTime;

/// Injected residual delays (s) and delay rates (s/s) per station, relative to the model.
const DELAY_S: [f64; 3] = [0.0, 25.0e-9, -40.0e-9];
const RATE_S_S: [f64; 3] = [0.0, 0.0, 3.0e-13];

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "synth.idifits".into()),
    );
    let mode = std::env::args().nth(2);
    let session = matches!(mode.as_deref(), Some("--session" | "--session-no-table"));
    let scan_table = mode.as_deref() == Some("--session");
    let pcal = mode.as_deref() == Some("--pcal");
    let n_chan = 32;
    let chan_bw = 0.5e6;
    let ref_date = UtcTime::from_calendar(2026, 3, 14, 0, 0, 0, 0.0);
    let station = |name: &str, id: u32, xyz: [f64; 3], vel: [f64; 3], mount: Mount| IdiAntenna {
        name: name.into(),
        id,
        xyz_m: xyz,
        vel_m_s: vel,
        mount,
        axis_offset_m: 0.0,
        diameter_m: 25.0,
        n_levels: 4,
    };
    let mut header = IdiHeader {
        obscode: "EMSYN".into(),
        telescope: "VLBA".into(),
        correlator: "EMCORR".into(),
        correlator_version: env!("CARGO_PKG_VERSION").into(),
        ref_date,
        ref_freq_hz: 8.4e9,
        n_chan,
        chan_bw_hz: chan_bw,
        ref_pixel: 1.0,
        fx: None,
        bands: (0..2)
            .map(|b| IdiBand {
                freq_offset_hz: b as f64 * 32e6,
                sideband: 1,
                total_bw_hz: n_chan as f64 * chan_bw,
                chan_bw_hz: chan_bw,
            })
            .collect(),
        stokes: vec![-1, -2],
        antennas: vec![
            station(
                "PT",
                1,
                [-1640953.9, -5014816.0, 3575411.8],
                [0.0; 3],
                Mount::AltAz,
            ),
            station(
                "LA",
                2,
                [-1449752.6, -4975298.6, 3709123.8],
                [0.0; 3],
                Mount::AltAz,
            ),
            station(
                "MOON1",
                3,
                [2.1e8, -3.2e8, 0.9e8],
                [23_000.0, 14_000.0, -950.0],
                Mount::Orbiting,
            ),
        ],
        sources: vec![IdiSource {
            id: 1,
            name: "0552+398".into(),
            calcode: "V".into(),
            ra_deg: 88.878_357_8,
            dec_deg: 39.813_657_2,
        }],
        array_xyz_m: [0.0; 3],
        eop: IdiEop::default(),
        scans: Vec::new(),
    };
    let t0 = ref_date.add_seconds(13.0 * 3600.0);
    // Scan 2 starts this long after t0 (a 60 s gap after scan 1's 60 s).
    let scan2_s = 120.0;
    if session {
        header.sources.push(IdiSource {
            id: 2,
            name: "LANDER".into(),
            calcode: String::new(),
            ra_deg: 88.9,
            dec_deg: 39.8,
        });
    }
    if scan_table {
        header.scans = vec![
            IdiScan {
                name: "No0001".into(),
                start: t0,
                duration_s: 60.0,
                source_ids: vec![1],
            },
            IdiScan {
                name: "No0002".into(),
                start: t0.add_seconds(scan2_s),
                duration_s: 60.0,
                source_ids: vec![1, 2],
            },
        ];
    }
    let model_sources: Vec<u32> = header.sources.iter().map(|s| s.id).collect();
    let models: Vec<ModelRow> = model_sources
        .iter()
        .flat_map(|&src| header.antennas.iter().map(move |a| (src, a.id)))
        .map(|(src, ant)| ModelRow {
            time: t0,
            interval_s: if session { 240.0 } else { 120.0 },
            antenna: ant,
            source_id: src,
            freq_id: 1,
            pdelay_turns: vec![vec![0.0, 0.0]; 2],
            gdelay_s: vec![vec![0.0, 0.0]; 2],
            prate_hz: vec![vec![0.0, 0.0]; 2],
            grate_s_s: vec![vec![0.0, 0.0]; 2],
            disp_s: 0.0,
            ddisp_s_s: 0.0,
            clock_s: 0.0,
            dclock_s_s: 0.0,
        })
        .collect();

    let mut w = IdiWriter::create(&out, &header, &models).expect("create");
    let mut seed = 12345u64;
    let mut noise = move || {
        // Small deterministic noise (LCG) so fringe fitting sees a finite SNR.
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.2
    };
    // (integration centre in s since t0, SOURCE_ID) of every integration.
    let mut integrations: Vec<(f64, u32)> = (0..30).map(|k| (1.0 + 2.0 * k as f64, 1)).collect();
    if session {
        for k in 0..30 {
            for src in [1, 2] {
                integrations.push((scan2_s + 1.0 + 2.0 * k as f64, src));
            }
        }
    }
    for (dt, source_id) in integrations {
        let tau = |s: usize| DELAY_S[s] + RATE_S_S[s] * dt;
        for a1 in 1..=3u32 {
            for a2 in a1..=3u32 {
                let (i, j) = (a1 as usize - 1, a2 as usize - 1);
                let mut vis = Vec::with_capacity(2 * n_chan * 2);
                for (b, band) in header.bands.iter().enumerate() {
                    let _ = b;
                    for c in 0..n_chan {
                        let nu = header.ref_freq_hz
                            + band.freq_offset_hz
                            + (c as f64 + 1.0 - header.ref_pixel) * chan_bw;
                        let phase = -2.0 * PI * nu * (tau(i) - tau(j));
                        for _pol in 0..2 {
                            let (re, im) = if a1 == a2 {
                                (1.0, 0.0)
                            } else {
                                (phase.cos() + noise(), phase.sin() + noise())
                            };
                            vis.push([re as f32, im as f32, 1.0]);
                        }
                    }
                }
                let b_m: Vec<f64> = (0..3)
                    .map(|k| header.antennas[j].xyz_m[k] - header.antennas[i].xyz_m[k])
                    .collect();
                w.write_row(&UvRow {
                    time: t0.add_seconds(dt),
                    baseline: (a1, a2),
                    source_id,
                    freq_id: 1,
                    inttim_s: 2.0,
                    // Synthetic: the unprojected baseline over c (fringe fitting ignores UVW).
                    uvw_s: [
                        b_m[0] / 299_792_458.0,
                        b_m[1] / 299_792_458.0,
                        b_m[2] / 299_792_458.0,
                    ],
                    vis,
                })
                .expect("write_row");
            }
        }
    }
    if pcal {
        let mut rows = Vec::new();
        for k in 0..30 {
            let dt = 1.0 + 2.0 * k as f64;
            for (s, a) in header.antennas.iter().enumerate() {
                let tau = DELAY_S[s] + RATE_S_S[s] * dt;
                let freqs: Vec<Vec<f64>> = header
                    .bands
                    .iter()
                    .map(|b| {
                        (0..3)
                            .map(|t| header.ref_freq_hz + b.freq_offset_hz + 1e6 + 5e6 * t as f64)
                            .collect()
                    })
                    .collect();
                let phase = |nu: f64| -2.0 * PI * nu * tau + 0.5 * a.id as f64;
                let part = |f: fn(f64) -> f64| -> Vec<Vec<f32>> {
                    freqs
                        .iter()
                        .map(|b| b.iter().map(|&nu| (0.01 * f(phase(nu))) as f32).collect())
                        .collect()
                };
                rows.push(PcalRow {
                    time: t0.add_seconds(dt),
                    time_interval_s: 2.0,
                    source_id: 1,
                    antenna_no: a.id,
                    freq_id: 1,
                    cable_cal_s: 1e-9 * a.id as f64,
                    freq_hz: vec![freqs.clone(); 2],
                    re: vec![part(f64::cos); 2],
                    im: vec![part(f64::sin); 2],
                    rate: vec![vec![vec![1e-13; 3]; 2]; 2],
                    state: vec![vec![[0.0; 4]; 2]; 2],
                });
            }
        }
        w.add_pcal(rows).expect("add_pcal");
    }
    let path = w.finish().expect("finish");
    println!("wrote {}", path.display());
    for (a, (d, r)) in header.antennas.iter().zip(DELAY_S.iter().zip(RATE_S_S)) {
        println!(
            "injected {} delay_ns {:.3} rate_ps_per_s {:.3}",
            a.name,
            d * 1e9,
            r * 1e12
        );
    }
}
