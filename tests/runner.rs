//! The one integration-test binary: a module per area.

mod common;

mod cli;
mod state;
