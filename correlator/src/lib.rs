//! emcorr's middle layer: the job file, the delay model, and the FX engine.
//!
//! Data flows one way: job → model (time → delay polynomials) → engine
//! (read → align → rotate → FFT → correct → multiply → accumulate) → sink.

pub mod job;
pub mod model;
pub mod session;

pub use job::Job;
pub mod engine;
