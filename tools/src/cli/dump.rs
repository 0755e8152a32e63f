//! `emcorr dump` (placeholder until its issue lands; see the issue list).

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct DumpArgs {}

pub fn run(_args: DumpArgs) -> Result<(), Failure> {
    Err(Failure::Internal("`emcorr dump` is not built yet".into()))
}
