//! The one integration-test binary: a module per area.

mod common;

mod cli;
mod completions;
mod daemon;
mod daemon_faults;
mod foundation;
mod hook;
mod plugin;
mod redact;
mod redact_precision;
mod server;
mod share;
mod state;
