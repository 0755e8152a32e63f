//! Where integrations go. FITS-IDI is one implementation (in the CLI layer,
//! through `formats`); [`MemorySink`] keeps them for tests and tools.

use super::accumulate::Integration;
use super::error::EngineError;
use super::plan::Layout;
use crate::job::Job;
use crate::model::DelayTrack;
use formats::UtcTime;

/// What a sink is told before the first integration.
#[derive(Debug, Clone)]
pub struct RunHeader<'a> {
    pub job: &'a Job,
    pub layout: &'a Layout,
    /// Geocentric UTC of the first block's start.
    pub start: UtcTime,
    /// The delay model used, per station (for FITS-IDI model tables).
    pub tracks: &'a [DelayTrack],
}

/// A consumer of correlator output.
pub trait Sink {
    fn begin(&mut self, header: &RunHeader) -> Result<(), EngineError>;
    fn write(&mut self, layout: &Layout, integration: &Integration) -> Result<(), EngineError>;
    /// Called once after the last integration (not after an error).
    fn finish(&mut self) -> Result<(), EngineError>;
}

/// Keeps everything in memory.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    pub layout: Option<Layout>,
    pub start: Option<UtcTime>,
    pub integrations: Vec<Integration>,
    pub finished: bool,
}

impl Sink for MemorySink {
    fn begin(&mut self, header: &RunHeader) -> Result<(), EngineError> {
        self.layout = Some(header.layout.clone());
        self.start = Some(header.start);
        Ok(())
    }

    fn write(&mut self, _layout: &Layout, integration: &Integration) -> Result<(), EngineError> {
        self.integrations.push(integration.clone());
        Ok(())
    }

    fn finish(&mut self) -> Result<(), EngineError> {
        self.finished = true;
        Ok(())
    }
}
