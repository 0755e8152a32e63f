//! emcorr's top layer: the command-line tool and the tools around correlation
//! (simulation, inspection, fringe fitting, plotting, the demo).
//!
//! `cli/` holds one thin module per subcommand; the work is done in library
//! modules beside it so tests and other programs can call it directly.

pub mod cli;
pub mod cluster;
pub mod correlate;
pub mod demo;
pub mod export;
pub mod failure;
pub mod fringe;
pub mod pcal;
pub mod plot;
pub mod reliability;
pub mod simulate;
pub mod solve;
