//! `emcorr correlate` (placeholder until its issue lands; see the issue list).

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct CorrelateArgs {}

pub fn run(_args: CorrelateArgs) -> Result<(), Failure> {
    Err(Failure::Internal(
        "`emcorr correlate` is not built yet".into(),
    ))
}
