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
//! unit; [`ChunkCursor`] cuts units into chunks.

use super::error::EngineError;
use super::workers::UNIT_BLOCKS;

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

/// Every integration from `first`, all bands at once: a single process.
/// Endless; the pipeline stops at the job's duration (or when the
/// collector says the data have ended).
#[derive(Debug, Clone)]
pub struct InOrder {
    pub next: u64,
    pub bands: Vec<usize>,
}

impl Schedule for InOrder {
    fn in_order(&self) -> bool {
        true
    }

    fn next_unit(&mut self) -> Result<Option<WorkUnit>, EngineError> {
        let u = WorkUnit {
            integration: self.next,
            bands: self.bands.clone(),
        };
        self.next += 1;
        Ok(Some(u))
    }
}

/// Blocks per chunk: ~64 k samples per station and subband (so a chunk
/// stays in the L2/L3 caches between the reader and the workers), whole units.
pub(crate) fn chunk_blocks(fft_length: usize) -> usize {
    let b = ((1usize << 16) / fft_length).max(1);
    b.div_ceil(UNIT_BLOCKS) * UNIT_BLOCKS
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
