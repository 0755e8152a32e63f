//! `emcorr demo` (placeholder until its issue lands; see the issue list).

use crate::failure::Failure;

#[derive(clap::Args, Debug)]
pub struct DemoArgs {}

pub fn run(_args: DemoArgs) -> Result<(), Failure> {
    Err(Failure::Internal("`emcorr demo` is not built yet".into()))
}
