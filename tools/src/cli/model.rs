//! `emcorr model` (placeholder until its issue lands; see the issue list).

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct ModelArgs {}

pub fn run(_args: ModelArgs) -> Result<(), Failure> {
    Err(Failure::Internal("`emcorr model` is not built yet".into()))
}
