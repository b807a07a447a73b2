//! `openctl hook install|uninstall|status|post-commit`: the optional git
//! post-commit reminder.

use anyhow::Result;

use crate::cli::HookCommand;
use crate::error::not_built;

pub fn run(cmd: HookCommand) -> Result<()> {
    match cmd {
        HookCommand::Install(_) => Err(not_built("hook install")),
        HookCommand::Uninstall => Err(not_built("hook uninstall")),
        HookCommand::Status => Err(not_built("hook status")),
        HookCommand::PostCommit => Err(not_built("hook post-commit")),
        HookCommand::ClaudeSessionEnd => Err(not_built("hook claude-session-end")),
    }
}
