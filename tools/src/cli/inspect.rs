//! `emcorr inspect` (placeholder until its issue lands; see the issue list).

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct InspectArgs {}

pub fn run(_args: InspectArgs) -> Result<(), Failure> {
    Err(Failure::Internal(
        "`emcorr inspect` is not built yet".into(),
    ))
}
