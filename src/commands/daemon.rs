//! `openctl daemon start|stop|status|logs`.

use anyhow::Result;

use crate::cli::DaemonCommand;
use crate::error::not_built;

pub fn run(cmd: DaemonCommand) -> Result<()> {
    match cmd {
        DaemonCommand::Start(_) => Err(not_built("daemon start")),
        DaemonCommand::Stop => Err(not_built("daemon stop")),
        DaemonCommand::Status(_) => Err(not_built("daemon status")),
        DaemonCommand::Logs(_) => Err(not_built("daemon logs")),
    }
}
