//! One module per command group; `dispatch` routes a parsed command line.

use anyhow::Result;

use crate::cli::{Cli, Command, SessionCommand};

pub mod completions;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod hook;
pub mod repo;
pub mod server;
pub mod session;

pub fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Session(cmd) => match cmd {
            SessionCommand::Share(args) => session::share(&args),
            SessionCommand::Unshare(args) => session::unshare(&args),
            SessionCommand::List(args) => session::list(&args),
            SessionCommand::Redactions(args) => session::redactions(&args),
        },
        Command::Share(args) => session::share(&args),
        Command::Repo(cmd) => repo::run(cmd),
        Command::Daemon(cmd) => daemon::run(cmd),
        Command::Config(cmd) => config::run(cmd),
        Command::Completions(args) => completions::run(&args),
        Command::Hook(cmd) => hook::run(cmd),
        Command::Server(args) => server::run(&args),
        Command::Demo(args) => demo::run(&args),
    }
}
