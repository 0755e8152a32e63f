//! emcorr's byte layer: baseband and visibility file formats, and precise time.
//!
//! Knows bytes and files, nothing about delays. Data flows out of here as decoded
//! samples with validity (VDIF) and into here as visibilities (FITS-IDI); VEX
//! schedules are read here too.

pub mod cancel;
pub mod fitsidi;
pub mod output;
pub mod time;
pub mod vdif;
pub mod vex;

pub use cancel::Cancel;
pub use time::UtcTime;
