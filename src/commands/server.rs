//! `openctl server`: the embedded server.

use anyhow::Result;

use crate::cli::ServerArgs;
use crate::error::not_built;

pub fn run(_args: &ServerArgs) -> Result<()> {
    Err(not_built("server"))
}
