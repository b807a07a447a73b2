//! `openctl demo`: a live share on this machine for a first run.

use anyhow::Result;

use crate::cli::DemoArgs;
use crate::error::not_built;

pub fn run(_args: &DemoArgs) -> Result<()> {
    Err(not_built("demo"))
}
