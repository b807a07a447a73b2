//! `openctl hook install|uninstall|status|post-commit`: the optional git
//! post-commit reminder; `openctl hook claude-session-end` (hidden): the
//! Claude Code plugin's SessionEnd hook.
//!
//! `post-commit` and `claude-session-end` run inside other programs' hooks:
//! they never fail (exit 0 whatever happens).

use std::io::Read;
use std::time::SystemTime;

use anyhow::Result;

use crate::cli::{HookCommand, HookInstallArgs};
use crate::hook::{self, Installed, Status, Uninstalled};
use crate::output;

pub fn run(cmd: HookCommand) -> Result<()> {
    match cmd {
        HookCommand::Install(args) => install(&args),
        HookCommand::Uninstall => uninstall(),
        HookCommand::Status => status(),
        HookCommand::PostCommit => {
            post_commit();
            Ok(())
        }
        HookCommand::ClaudeSessionEnd => {
            claude_session_end();
            Ok(())
        }
    }
}

fn install(args: &HookInstallArgs) -> Result<()> {
    let cwd = std::env::current_dir()?;
    match hook::install(&cwd, args.force)? {
        Installed::Written { path, chained } => {
            output::note(
                false,
                format!("{} {}", output::style_ok("Installed"), path.display()),
            );
            if chained {
                output::note(
                    false,
                    format!(
                        "The post-commit hook that was there is kept as {} and still runs first.",
                        path.with_file_name(hook::BACKUP).display()
                    ),
                );
            }
        }
        Installed::AlreadyCurrent { path } => {
            output::note(false, format!("Already installed: {}", path.display()));
        }
        Installed::Updated { path } => {
            output::note(
                false,
                format!("{} {}", output::style_ok("Updated"), path.display()),
            );
        }
        Installed::Managed { runner, dir } => {
            // Not an error: the user's hook runner stays in charge and we
            // say exactly what to add to it.
            output::note(
                false,
                format!(
                    "The hooks in {} are managed by {runner}; openctl did not change them.",
                    dir.display()
                ),
            );
            let place = match runner {
                "lefthook" => "the post-commit section of lefthook.yml (as a command's `run:`)",
                _ => ".husky/post-commit",
            };
            output::note(false, format!("Add this line to {place}:"));
            output::println(hook::HOOK_LINE)?;
            output::note(
                false,
                "(or run `openctl hook install --force` to install openctl's hook anyway; the existing one is kept and chained)",
            );
        }
    }
    Ok(())
}

fn uninstall() -> Result<()> {
    let cwd = std::env::current_dir()?;
    for outcome in hook::uninstall(&cwd)? {
        match outcome {
            Uninstalled::Removed { path, restored } => {
                let what = if restored {
                    "restored the hook it replaced"
                } else {
                    "no previous hook to restore"
                };
                output::note(false, format!("Removed {} ({what})", path.display()));
            }
            Uninstalled::NotInstalled { dir } => {
                output::note(
                    false,
                    format!(
                        "openctl's post-commit hook is not installed in {}",
                        dir.display()
                    ),
                );
            }
        }
    }
    Ok(())
}

fn status() -> Result<()> {
    let cwd = std::env::current_dir()?;
    match hook::status(&cwd)? {
        Status::Installed { path, chained } => {
            output::println("installed")?;
            let chain = if chained {
                format!(", calling {} first", hook::BACKUP)
            } else {
                String::new()
            };
            output::note(false, format!("{}{chain}", path.display()));
        }
        Status::NotInstalled { dir } => {
            output::println("not installed")?;
            output::note(
                false,
                format!(
                    "no openctl hook in {}; run `openctl hook install`",
                    dir.display()
                ),
            );
        }
        Status::Bypassed { path, hooks_path } => {
            output::println("bypassed")?;
            output::note(
                false,
                format!(
                    "installed in {} but git runs hooks from core.hooksPath ({hooks_path}); run `openctl hook install` to install it there",
                    path.display()
                ),
            );
        }
    }
    Ok(())
}

/// The reminder: one line on stderr or nothing; never an error.
fn post_commit() {
    if hook::silenced() {
        return;
    }
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    if let Some(line) = hook::reminder(&cwd, SystemTime::now()) {
        eprintln!("{}", output::style_hint(&line));
    }
}

/// Claude Code's SessionEnd hook: reads the hook JSON and, for a shared
/// session, records the end so the daemon completes it at once. Changes
/// nothing for a session that is not shared, and never fails (a hook must
/// not break Claude Code).
fn claude_session_end() {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin()
        .take(hook::MAX_HOOK_INPUT)
        .read_to_end(&mut input)
    {
        eprintln!("openctl: cannot read the SessionEnd hook input: {e}");
        return;
    }
    let end = match hook::parse_session_end(&input) {
        Ok(end) => end,
        Err(e) => {
            eprintln!("openctl: {e:#}; nothing to do");
            return;
        }
    };
    match hook::session_end(&end) {
        Ok(Some(note)) => eprintln!("{note}"),
        Ok(None) => {}
        Err(e) => eprintln!("openctl: cannot record the end of the shared session: {e:#}"),
    }
}
