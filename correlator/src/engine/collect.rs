//! Collect: finished work units back into whole integrations, written to the
//! sink in integration order.
//!
//! Units may arrive in any order (under MPI, from whichever rank finished
//! first); an integration is written once every band of it and every
//! integration before it are in. The collector also decides where data
//! end for a job without a duration (the first integration in which some
//! station has no valid block), and keeps what the run summary reports.

use super::accumulate::Integration;
use super::error::EngineError;
use super::plan::Layout;
use super::schedule::WorkUnit;
use super::sink::Sink;
use super::Summary;
use crate::job::Job;
use formats::UtcTime;
use std::collections::BTreeMap;

/// One finished work unit.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitResult {
    pub unit: WorkUnit,
    /// Full-size integration; only the unit's bands are filled.
    pub integration: Integration,
    /// Per station: whether any of its subbands in the unit had a used block.
    pub station_has_data: Vec<bool>,
}

/// Whether the pipeline should go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The data have ended: later units are not wanted.
    Stop,
}

struct Pending {
    integration: Integration,
    bands_in: Vec<bool>,
    station_has_data: Vec<bool>,
}

/// Assembles units into integrations and writes them in order.
pub struct Collector<'s> {
    sink: &'s mut dyn Sink,
    layout: Layout,
    nstations: usize,
    /// Whether the job's duration bounds the run (else data end it).
    bounded: bool,
    first_integration: u64,
    /// Next integration to write.
    next: u64,
    pending: BTreeMap<u64, Pending>,
    stopped: bool,
    written: u64,
    /// Per station: integrations with any used block.
    station_ints: Vec<u64>,
    /// Per phase centre and layout baseline: sum over integrations of the
    /// mean weight.
    weight_sums: Vec<f64>,
    /// The last integration written with phase-cal tones (their rate is
    /// the change from it).
    last_pcal: Option<Integration>,
}

impl<'s> Collector<'s> {
    /// A collector for a run whose sink has had `begin`; integrations
    /// before `first_integration` are already in the output. The phase-cal
    /// rows of those the sink replayed ([`Sink::replayed`]) are given to it
    /// here, as an uninterrupted run would have given them (a checkpoint
    /// keeps integrations, tones included, not rows).
    pub fn new(
        sink: &'s mut dyn Sink,
        layout: &Layout,
        nstations: usize,
        bounded: bool,
        first_integration: u64,
    ) -> Result<Self, EngineError> {
        let mut last_pcal = None;
        let mut rows = Vec::new();
        for i in sink.replayed() {
            let r = super::pcal::rows(layout, i, last_pcal.as_ref());
            if !r.is_empty() {
                rows.extend(r);
                last_pcal = Some(pcal_only(i));
            }
        }
        if !rows.is_empty() {
            sink.pcal(rows)?;
        }
        Ok(Collector {
            sink,
            layout: layout.clone(),
            nstations,
            bounded,
            first_integration,
            next: first_integration,
            pending: BTreeMap::new(),
            stopped: false,
            written: 0,
            station_ints: vec![0; nstations],
            weight_sums: vec![0.0; layout.centres.len() * layout.baselines.len()],
            last_pcal,
        })
    }

    /// Integrations written by this run.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The next integration the output is waiting for.
    pub fn next_integration(&self) -> u64 {
        self.next
    }

    /// Whether the data have ended (nothing more will be written).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Take one finished unit; write whatever integrations it completes.
    pub fn accept(&mut self, r: UnitResult) -> Result<Flow, EngineError> {
        if self.stopped {
            return Ok(Flow::Stop);
        }
        let k = r.unit.integration;
        if k < self.next {
            return Err(EngineError::Sink(format!(
                "integration {k} arrived twice (internal error)"
            )));
        }
        let nb = self.layout.bands.len();
        match self.pending.get_mut(&k) {
            None => {
                let mut bands_in = vec![false; nb];
                for &b in &r.unit.bands {
                    bands_in[b] = true;
                }
                self.pending.insert(
                    k,
                    Pending {
                        integration: r.integration,
                        bands_in,
                        station_has_data: r.station_has_data,
                    },
                );
            }
            Some(p) => {
                merge_bands(
                    &self.layout,
                    &mut p.integration,
                    &r.integration,
                    &r.unit.bands,
                );
                for &b in &r.unit.bands {
                    if std::mem::replace(&mut p.bands_in[b], true) {
                        return Err(EngineError::Sink(format!(
                            "integration {k} band {b} arrived twice (internal error)"
                        )));
                    }
                }
                for (h, x) in p.station_has_data.iter_mut().zip(&r.station_has_data) {
                    *h |= *x;
                }
            }
        }
        while let Some(p) = self.pending.get(&self.next) {
            if !p.bands_in.iter().all(|&b| b) {
                break;
            }
            let p = self.pending.remove(&self.next).expect("present");
            // Without a duration the data end at the first integration in
            // which some station has nothing.
            if !self.bounded && p.station_has_data.iter().any(|&h| !h) {
                self.stopped = true;
                self.pending.clear();
                return Ok(Flow::Stop);
            }
            for (s, c) in self.station_ints.iter_mut().enumerate() {
                if p.station_has_data[s] {
                    *c += 1;
                }
            }
            let per_bl = nb * self.layout.products.len();
            // [centre][baseline], as the weights are laid out.
            for (bl, ws) in self.weight_sums.iter_mut().enumerate() {
                *ws += p.integration.weights[bl * per_bl..(bl + 1) * per_bl]
                    .iter()
                    .map(|&w| w as f64)
                    .sum::<f64>()
                    / per_bl as f64;
            }
            self.sink.write(&self.layout, &p.integration)?;
            let rows = super::pcal::rows(&self.layout, &p.integration, self.last_pcal.as_ref());
            if !rows.is_empty() {
                self.sink.pcal(rows)?;
                self.last_pcal = Some(pcal_only(&p.integration));
            }
            self.written += 1;
            self.next += 1;
        }
        Ok(Flow::Continue)
    }

    /// After the last unit: check every station contributed, finish the
    /// sink and summarise.
    pub fn finish(
        self,
        job: &Job,
        start: UtcTime,
        total_blocks: Option<u64>,
        warnings: Vec<String>,
        wall_s: f64,
    ) -> Result<Summary, EngineError> {
        let layout = &self.layout;
        if let Some(s) = self
            .station_ints
            .iter()
            .position(|&c| c == 0)
            .filter(|_| self.first_integration == 0)
        {
            return Err(EngineError::bad(format!(
                "station {}: no valid data in the job span (start {start}{})",
                job.stations[s].name,
                match job.duration_s {
                    Some(d) => format!(", {d} s"),
                    None => String::new(),
                }
            )));
        }
        self.sink.finish()?;
        let written = self.written;
        let data_s = written as f64 * layout.integration_s;
        let data_s = match total_blocks {
            Some(b) => (b as f64 * layout.block_s()).min(data_s),
            None => data_s,
        };
        let names = &layout.stations;
        // A one-station job has no cross baselines: report its
        // autocorrelation's weight instead, so the summary shows how much
        // data was used.
        let one_station = self.nstations == 1;
        // With several phase centres, per centre: "A-B@SOURCE".
        let several = layout.centres.len() > 1;
        let baseline_weights = layout
            .centres
            .iter()
            .flat_map(|c| layout.baselines.iter().map(move |bl| (c, bl)))
            .zip(&self.weight_sums)
            .filter(|((_, (a, b)), _)| a != b || one_station)
            .map(|((centre, &(a, b)), w)| {
                let at = if several {
                    format!("@{centre}")
                } else {
                    String::new()
                };
                (
                    format!("{}-{}{at}", names[a], names[b]),
                    w / written.max(1) as f64,
                )
            })
            .collect();
        let nst = self.nstations;
        Ok(Summary {
            centres: layout.centres.clone(),
            stations: names.clone(),
            baselines: nst * (nst - 1) / 2,
            bands: layout.bands.len(),
            products: (0..layout.products.len())
                .map(|p| layout.product_name(p))
                .collect(),
            nchan: layout.nchan,
            fft_nchan: layout.fft_nchan,
            chan_width_hz: layout.chan_width_hz,
            fft_lengths: layout.station_fft_length.clone(),
            window: layout.window,
            integrations: written,
            integration_s: layout.integration_s,
            start,
            data_s,
            wall_s,
            speed_x_realtime: if written == 0 {
                0.0
            } else {
                data_s / wall_s.max(1e-9)
            },
            baseline_weights: if written == 0 {
                Vec::new()
            } else {
                baseline_weights
            },
            warnings,
        })
    }
}

/// What the next integration's PC_RATE needs of `i` (not its visibilities).
fn pcal_only(i: &Integration) -> Integration {
    Integration {
        index: i.index,
        time: i.time,
        inttim_s: i.inttim_s,
        vis: Vec::new(),
        weights: Vec::new(),
        pcal: i.pcal.clone(),
        pcal_valid: i.pcal_valid.clone(),
    }
}

/// Copy `bands` of `from` into `into` (visibilities and weights, every
/// phase centre).
pub fn merge_bands(layout: &Layout, into: &mut Integration, from: &Integration, bands: &[usize]) {
    let npr = layout.products.len();
    let span = layout.nchan * npr;
    for c in 0..layout.centres.len() {
        for bl in 0..layout.baselines.len() {
            for &b in bands {
                let v = layout.vis_index(c, bl, b, 0, 0);
                into.vis[v..v + span].copy_from_slice(&from.vis[v..v + span]);
                let w = layout.weight_index(c, bl, b, 0);
                into.weights[w..w + npr].copy_from_slice(&from.weights[w..w + npr]);
            }
        }
    }
    // Phase-cal: each (station, subband) from the unit holding its band.
    let nst = layout.stations.len();
    let slots = layout.pcal_slots();
    if !from.pcal_valid.is_empty() {
        let nsub = from.pcal_valid.len() / nst.max(1);
        into.pcal.resize(from.pcal.len(), Default::default());
        into.pcal_valid.resize(from.pcal_valid.len(), 0.0);
        for &b in bands {
            for &sb in &layout.bands[b].subbands {
                for s in 0..nst {
                    let i = s * nsub + sb;
                    into.pcal_valid[i] = from.pcal_valid[i];
                    into.pcal[i * slots..(i + 1) * slots]
                        .copy_from_slice(&from.pcal[i * slots..(i + 1) * slots]);
                }
            }
        }
    }
}
