//! `emcorr fringe` (placeholder until its issue lands; see the issue list).

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct FringeArgs {}

pub fn run(_args: FringeArgs) -> Result<(), Failure> {
    Err(Failure::Internal("`emcorr fringe` is not built yet".into()))
}
