//! The one integration-test binary: a module per area.

mod common;

mod claude_code;
mod cli;
mod cli_manners;
mod completions;
mod daemon;
mod daemon_faults;
mod foundation;
mod hook;
mod plugin;
mod real_transcripts;
mod redact;
mod redact_precision;
mod server;
mod server_limits;
mod share;
mod state;
mod viewer;
