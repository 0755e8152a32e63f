//! VDIF (VLBI Data Interchange Format, VDIF 1.0 specification, vlbi.org 2009):
//! headers, lookup-table decoding, encoding, memory-mapped and streaming
//! readers, the [`SampleSource`] the correlator reads through, and a writer.
//!
//! Data flow: bytes → [`header::VdifHeader`] + payload → [`decode::Decoder`]
//! (256-entry tables, one byte → several samples) → `f32` samples with a
//! validity mask per sample ([`SampleSource::read`]).

pub mod decode;
pub mod encode;
pub mod error;
pub mod header;
pub mod reader;
pub mod resync;
pub mod source;
pub mod stream;
pub mod summary;
pub mod writer;

#[cfg(test)]
mod reliability_tests;
#[cfg(test)]
mod tests;

pub use decode::{Decoder, Levels, OPTIMAL_2BIT_HIGH};
pub use encode::Encoder;
pub use error::VdifError;
pub use header::{ref_epoch_for, ref_epoch_start, SampleFormat, VdifHeader};
pub use reader::{FrameRef, Frames, VdifFile};
pub use source::{
    open_source, open_sources, FileSource, OpenOptions, PendingStream, SampleSource, StreamInfo,
    StreamSource,
};
pub use stream::{FrameReader, OwnedFrame};
pub use summary::{scan, FileSummary, Gap, ThreadSummary};
pub use writer::{VdifWriter, WriterConfig};
