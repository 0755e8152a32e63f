//! `emcorr plot` (placeholder until its issue lands; see the issue list).

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct PlotArgs {}

pub fn run(_args: PlotArgs) -> Result<(), Failure> {
    Err(Failure::Internal("`emcorr plot` is not built yet".into()))
}
