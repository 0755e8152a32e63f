//! Schedule: which work the pipeline does, in which order.
//!
//! A work unit is one whole integration of some of the layout's bands
//! (a band is a frequency channel with all its polarisations, so cross-hand
//! products stay inside one unit). A single process takes every integration
//! in order with all bands at once ([`InOrder`]); under MPI, rank 0 hands out
//! (integration, band) units to whichever rank asks next. Integration k of a
//! band is computed from the same blocks in the same order whichever unit
//! carries it, so the output does not depend on the schedule (bitwise).
//!
//! The pipeline reads and processes chunks of consecutive blocks inside one
//! unit; `ChunkCursor` cuts units into chunks (`cut` says how many
//! blocks a chunk holds and how the workers share it).

use super::error::EngineError;
use super::plan::Layout;
use super::workers::UNIT_BLOCKS;
use crate::job::Job;

/// One integration of some bands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkUnit {
    /// 0-based integration number in the job.
    pub integration: u64,
    /// Indices into [`super::Layout::bands`], ascending.
    pub bands: Vec<usize>,
}

/// Where the pipeline gets its next unit of work.
pub trait Schedule {
    /// The next unit, or `None` when there is no more work. Called once
    /// per unit, one unit ahead of the one being finished (so the reader
    /// can start on it while the workers finish the last).
    fn next_unit(&mut self) -> Result<Option<WorkUnit>, EngineError>;

    /// Whether units come in increasing integration order, so the readers
    /// may let go of data before the current chunk (streams need this).
    /// A schedule that jumps about needs random-access recordings (files).
    fn in_order(&self) -> bool {
        false
    }
}

/// Every integration from `next` in turn, and in each the band groups in
/// turn: a single process. Endless; the pipeline stops at the job's
/// duration (or when the collector says the data have ended). With one
/// group (all bands, as streams need) time only moves forward; with
/// several, each integration is read once per group, which needs files.
#[derive(Debug, Clone)]
pub struct InOrder {
    pub next: u64,
    pub groups: Vec<Vec<usize>>,
    pub group: usize,
}

impl InOrder {
    pub fn new(first_integration: u64, groups: Vec<Vec<usize>>) -> Self {
        InOrder {
            next: first_integration,
            groups,
            group: 0,
        }
    }
}

impl Schedule for InOrder {
    fn in_order(&self) -> bool {
        self.groups.len() == 1
    }

    fn next_unit(&mut self) -> Result<Option<WorkUnit>, EngineError> {
        let u = WorkUnit {
            integration: self.next,
            bands: self.groups[self.group].clone(),
        };
        self.group += 1;
        if self.group == self.groups.len() {
            self.group = 0;
            self.next += 1;
        }
        Ok(Some(u))
    }
}

/// The bands of a work unit, in groups: bands whose subbands lie in the
/// same VDIF threads go together. A thread's frames interleave all its
/// channels, so a rank reading one channel of a frame reads the whole frame;
/// splitting a thread's channels over ranks would make every rank read (and
/// pull over the network) all of it. Bands in different threads (the usual
/// DiFX/SFXC layout of one channel per thread) are separate units.
/// Groups are in order of their first band; bands ascending in each.
pub fn band_groups(job: &Job, layout: &Layout) -> Vec<Vec<usize>> {
    let threads_of = |b: usize| -> Vec<u16> {
        layout.bands[b]
            .subbands
            .iter()
            .map(|&sb| job.subbands[sb].thread)
            .collect()
    };
    // Merge until no two groups share a thread (few bands: quadratic is fine).
    let mut groups: Vec<(Vec<usize>, Vec<u16>)> = (0..layout.bands.len())
        .map(|b| (vec![b], threads_of(b)))
        .collect();
    let mut merged = true;
    while merged {
        merged = false;
        'outer: for i in 0..groups.len() {
            for j in i + 1..groups.len() {
                if groups[i].1.iter().any(|t| groups[j].1.contains(t)) {
                    let (bands, threads) = groups.remove(j);
                    groups[i].0.extend(bands);
                    groups[i].1.extend(threads);
                    merged = true;
                    break 'outer;
                }
            }
        }
    }
    let mut out: Vec<Vec<usize>> = groups
        .into_iter()
        .map(|(mut b, _)| {
            b.sort_unstable();
            b
        })
        .collect();
    out.sort_by_key(|g| g[0]);
    out
}

/// How a run's work is cut: blocks per chunk, and how the workers share
/// a chunk. The output does not depend on either (units are always the
/// same [`UNIT_BLOCKS`] blocks from the integration's start, each summed
/// in block order), only the speed and the memory do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cut {
    /// Blocks per chunk: 1, 2 or 4 (a chunk then lies inside one unit,
    /// whose sums carry over to the next chunk) or a multiple of
    /// [`UNIT_BLOCKS`] (a chunk then starts on a unit boundary). Chunks
    /// start at integration boundaries, so with either kind no unit is
    /// ever split between two chunks except as consecutive pieces.
    pub blocks: usize,
    /// Share a chunk by stage rather than by unit: the workers first
    /// compute the spectra of every (block, station-stage input), then the
    /// baseline stage of every (unit, channel range). See
    /// [`super::workers`].
    pub by_stage: bool,
}

/// The cut for `threads` workers at `fft_length`, with `streams` (phase
/// centres × stations) station-stage inputs per subband.
///
/// Chunks hold ~64 k samples per station and subband and worker (so a
/// chunk stays in the L2/L3 caches between the reader and the workers;
/// more per chunk with more workers, since each chunk ends at a barrier
/// and more work per worker leaves less idle at it: 2 stations on 2
/// threads ran 15–20% faster with twice the blocks, A/B three times).
///
/// While that gives every worker at least two whole units (FFTs up to
/// 4096 points at any thread count), workers take whole units: a unit's
/// spectra stay in the worker's cache from its FFT to its
/// multiply-accumulate. Above that a chunk has too few units to share
/// (an integration of 2^18-point FFTs holds only a handful of blocks), so
/// the stages are shared instead: station-stage tasks are (block, input),
/// at least two per worker (the chunk grows to hold enough blocks), and
/// baseline-stage tasks are (unit, channel range). Splitting the FFT
/// itself was not needed: a job has several inputs per block. One worker
/// always takes whole units (sharing by stage only adds a pass over the
/// spectra through memory).
pub(crate) fn cut(fft_length: usize, threads: usize, streams: usize) -> Cut {
    let t = threads.max(1);
    let budget = ((1usize << 16) / fft_length.max(1)).max(1) * t;
    let whole_units = t == 1 || budget >= 2 * t * UNIT_BLOCKS;
    let blocks = if whole_units {
        budget
    } else {
        budget.max((2 * t).div_ceil(streams.max(1)))
    };
    // 1, 2, 4 or a multiple of UNIT_BLOCKS (see `Cut::blocks`).
    let blocks = if blocks < UNIT_BLOCKS {
        blocks.next_power_of_two()
    } else {
        blocks.div_ceil(UNIT_BLOCKS) * UNIT_BLOCKS
    };
    Cut {
        blocks,
        by_stage: !whole_units,
    }
}

/// Consecutive blocks of one work unit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChunkSpec {
    pub unit: WorkUnit,
    pub first_block: u64,
    pub nblocks: usize,
    pub last_of_integration: bool,
}

/// Cuts the schedule's units into chunks.
pub(crate) struct ChunkCursor<'s> {
    schedule: &'s mut dyn Schedule,
    unit: Option<WorkUnit>,
    offset: u64,
    /// Blocks per integration.
    m: u64,
    chunk_blocks: u64,
    total_blocks: Option<u64>,
}

impl<'s> ChunkCursor<'s> {
    pub fn in_order(&self) -> bool {
        self.schedule.in_order()
    }

    pub fn new(
        schedule: &'s mut dyn Schedule,
        m: u64,
        chunk_blocks: u64,
        total_blocks: Option<u64>,
    ) -> Self {
        ChunkCursor {
            schedule,
            unit: None,
            offset: 0,
            m,
            chunk_blocks,
            total_blocks,
        }
    }

    /// The next chunk, asking the schedule for a unit when the last is done.
    pub fn next_chunk(&mut self) -> Result<Option<ChunkSpec>, EngineError> {
        let unit = match self.unit.take() {
            Some(u) => u,
            None => match self.schedule.next_unit()? {
                Some(u) => u,
                None => return Ok(None),
            },
        };
        let first_of_int = unit.integration * self.m;
        let in_int = match self.total_blocks {
            Some(t) if first_of_int >= t => return Ok(None),
            Some(t) => self.m.min(t - first_of_int),
            None => self.m,
        };
        let nb = self.chunk_blocks.min(in_int - self.offset);
        let spec = ChunkSpec {
            unit: unit.clone(),
            first_block: first_of_int + self.offset,
            nblocks: nb as usize,
            last_of_integration: self.offset + nb == in_int,
        };
        self.offset += nb;
        if self.offset == in_int {
            self.offset = 0;
        } else {
            self.unit = Some(unit);
        }
        Ok(Some(spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn job(subbands: &[(f64, &str, u16, usize)]) -> (Job, Layout) {
        let mut t = String::from(
            "[job]\nname = \"t\"\n[correlation]\nfft_length = 64\nintegration_s = 1.0\n\
             [source]\nname = \"S\"\nra_deg = 1.0\ndec_deg = 2.0\n\
             [[station]]\nname = \"A\"\nfile = \"a.vdif\"\ndelay_poly = { epoch = \"2026-01-01T00:00:00Z\", coeffs_s = [0.0] }\n\
             [[station]]\nname = \"B\"\nfile = \"b.vdif\"\ndelay_poly = { epoch = \"2026-01-01T00:00:00Z\", coeffs_s = [0.0] }\n",
        );
        for (f, pol, th, ch) in subbands {
            t += &format!(
                "[[subband]]\nsky_freq_hz = {f:?}\nbandwidth_hz = 8e6\nsideband = \"U\"\npol = \"{pol}\"\nthread = {th}\nchannel = {ch}\n"
            );
        }
        let job = Job::from_toml_str(&t, Path::new("/tmp/j.toml")).unwrap();
        // The layout's bands as the engine groups them: by frequency.
        let mut freqs: Vec<f64> = Vec::new();
        let mut bands: Vec<crate::engine::Band> = Vec::new();
        for (i, (f, _, _, _)) in subbands.iter().enumerate() {
            match freqs.iter().position(|x| x == f) {
                Some(k) => bands[k].subbands.push(i),
                None => {
                    freqs.push(*f);
                    bands.push(crate::engine::Band {
                        sky_freq_hz: *f,
                        bandwidth_hz: 8e6,
                        sideband: crate::job::Sideband::Upper,
                        subbands: vec![i],
                    });
                }
            }
        }
        let layout = Layout {
            centres: vec!["S".into()],
            stations: vec!["A".into(), "B".into()],
            baselines: vec![(0, 0), (0, 1), (1, 1)],
            bands,
            pols: vec![crate::job::Pol::R],
            products: vec![crate::engine::Product { pol_a: 0, pol_b: 0 }],
            nchan: 32,
            fft_nchan: 32,
            window: Default::default(),
            chan_width_hz: 0.25e6,
            complex: false,
            sample_rate_hz: 16e6,
            fft_length: 64,
            blocks_per_integration: 10,
            integration_s: 1.0,
            station_sample_rate_hz: vec![16e6; 2],
            station_fft_length: vec![64; 2],
            station_recordings: vec![Vec::new(); 2],
            channel_maps: vec![Vec::new(); 2],
            pcal_tones: Vec::new(),
        };
        (job, layout)
    }

    #[test]
    fn bands_sharing_a_thread_form_one_unit_and_separate_threads_separate_units() {
        // One channel per thread: every band its own unit.
        let (j, l) = job(&[(8.4e9, "R", 0, 0), (8.5e9, "R", 1, 0), (8.6e9, "R", 2, 0)]);
        assert_eq!(band_groups(&j, &l), vec![vec![0], vec![1], vec![2]]);
        // Four channels in one thread: one unit.
        let (j, l) = job(&[
            (8.4e9, "R", 0, 0),
            (8.5e9, "R", 0, 1),
            (8.6e9, "R", 0, 2),
            (8.7e9, "R", 0, 3),
        ]);
        assert_eq!(band_groups(&j, &l), vec![vec![0, 1, 2, 3]]);
        // Threads {0: bands 0, 2}, {1: band 1, and band 3 whose L pol is in
        // thread 1 too}: a band spanning two threads joins them.
        let (j, l) = job(&[
            (8.4e9, "R", 0, 0),
            (8.5e9, "R", 1, 0),
            (8.6e9, "R", 0, 1),
            (8.7e9, "R", 2, 0),
            (8.7e9, "L", 1, 1),
            (8.8e9, "R", 3, 0),
        ]);
        assert_eq!(band_groups(&j, &l), vec![vec![0, 2], vec![1, 3], vec![4]]);
    }
}
