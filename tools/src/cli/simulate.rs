//! `emcorr simulate` (placeholder until its issue lands; see the issue list).

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {}

pub fn run(_args: SimulateArgs) -> Result<(), Failure> {
    Err(Failure::Internal(
        "`emcorr simulate` is not built yet".into(),
    ))
}
