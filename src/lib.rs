//! openctl: share a Claude Code session live.
//!
//! `run` is the whole program; `main.rs` only calls it. One module per
//! concern: the CLI definitions (`cli`), the command implementations
//! (`commands`), local state (`state`, `config`, `shared`, `client_id`),
//! Claude Code knowledge (`transcript`, `sessions`), repository identity
//! (`repo`), the wire types (`wire`), the server (`server`) and the daemon
//! (`daemon`).

pub mod api_client;
pub mod cli;
pub mod client_id;
pub mod commands;
pub mod complete;
pub mod config;
pub mod daemon;
pub mod error;
pub mod hook;
pub mod identity;
pub mod output;
pub mod paths;
pub mod redact;
pub mod repo;
pub mod server;
pub mod server_url;
pub mod sessions;
pub mod shared;
pub mod state;
pub mod time;
pub mod transcript;
pub mod wire;

use clap::{CommandFactory, Parser};

/// Parse the command line, run the command, and return the exit code.
pub fn run() -> i32 {
    clap_complete::CompleteEnv::with_factory(cli::Cli::command).complete();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
                _ => error::Exit::Usage as i32,
            };
            let _ = e.print();
            return code;
        }
    };
    match commands::dispatch(cli) {
        Ok(()) => 0,
        Err(err) => report(&err),
    }
}

/// The whole `openctl-daemon` program: be the daemon in this process until
/// SIGTERM/SIGINT, reporting errors and exiting like `openctl daemon start
/// --foreground`. Kept free of clap so that binary stays small.
pub fn run_daemon_binary() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        None => {}
        Some("--version" | "-V") if args.len() == 1 => {
            println!("openctl-daemon {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Some("--help" | "-h") if args.len() == 1 => {
            println!(
                "openctl-daemon: the openctl daemon, attached to this terminal \
                 (the same as `openctl daemon start --foreground`)\n\n\
                 Usage: openctl-daemon\n\n\
                 Start it detached with `openctl daemon start`; stop it with `openctl daemon stop`."
            );
            return 0;
        }
        Some(_) => {
            eprintln!(
                "Error: openctl-daemon takes no arguments (got {:?})\n{} run `openctl-daemon`, or `openctl daemon start`",
                args,
                output::style_hint("hint:")
            );
            return error::Exit::Usage as i32;
        }
    }
    match daemon::run_foreground() {
        Ok(()) => 0,
        Err(err) => report(&err),
    }
}

/// Print an error the way every command does and return its exit code.
fn report(err: &anyhow::Error) -> i32 {
    if output::is_broken_pipe(err) {
        return 0;
    }
    let mut text = format!("Error: {err}");
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
    }
    if let Some(hint) = error::hint(err) {
        text.push_str(&format!("\n{} {hint}", output::style_hint("hint:")));
    }
    eprintln!("{text}");
    error::exit_code(err)
}
