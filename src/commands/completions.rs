//! `openctl completions <shell>`: static scripts generated from the CLI.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::aot::{generate, Shell as AotShell};

use crate::cli::{Cli, CompletionsArgs, Shell};

/// The static completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let aot = match shell {
        Shell::Bash => AotShell::Bash,
        Shell::Zsh => AotShell::Zsh,
        Shell::Fish => AotShell::Fish,
        Shell::Powershell => AotShell::PowerShell,
        Shell::Elvish => AotShell::Elvish,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    generate(aot, &mut cmd, "openctl", &mut out);
    out
}

pub fn run(args: &CompletionsArgs) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script(args.shell))?;
    stdout.flush()?;
    Ok(())
}
