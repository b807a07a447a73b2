//! `docs/cli.md`, the command-line reference, generated from the clap
//! definitions in [`crate::cli`]: every command with its usage, arguments
//! and flags, their help, defaults and accepted values. A test keeps the
//! checked-in file current (tests/completions.rs).

use std::fmt::Write as _;

use clap::{Arg, Command, CommandFactory};

use crate::cli::Cli;

/// The whole reference, as Markdown.
pub fn markdown() -> String {
    let mut cli = Cli::command();
    cli.build();
    let mut out = String::new();
    let _ = writeln!(out, "# openctl command-line reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated from src/cli.rs by openctl::cli_reference::markdown(); do not edit.\n     \
         OPENCTL_UPDATE_DOCS=1 cargo test --test runner completions regenerates it. -->\n"
    );
    if let Some(about) = cli.get_about() {
        let _ = writeln!(out, "{}\n", text(&about.to_string()));
    }
    let _ = writeln!(out, "```\n{}\n```\n", usage(&mut cli));
    if let Some(after) = cli.get_after_help() {
        let _ = writeln!(out, "{}\n", text(&after.to_string()));
    }
    let _ = writeln!(
        out,
        "Every command also takes `-h`/`--help`, and `-V`/`--version`.\n"
    );

    let _ = writeln!(out, "| command | what it does |\n|---|---|");
    for (path, cmd) in commands(&cli, "openctl") {
        if cmd.has_subcommands() {
            continue;
        }
        let _ = writeln!(
            out,
            "| [`{path}`](#{}) | {} |",
            path.replace(' ', "-"),
            cell(&about(cmd))
        );
    }
    out.push('\n');

    let mut subcommands: Vec<Command> = visible(&cli).cloned().collect();
    for cmd in &mut subcommands {
        section(&mut out, cmd, "openctl", 2);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The visible subcommands of `cmd` (not `help`, not hidden ones).
fn visible(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

/// Every visible command below `cmd`, depth first, with its full name.
fn commands<'a>(cmd: &'a Command, prefix: &str) -> Vec<(String, &'a Command)> {
    let mut all = Vec::new();
    for sub in visible(cmd) {
        let path = format!("{prefix} {}", sub.get_name());
        all.push((path.clone(), sub));
        all.extend(commands(sub, &path));
    }
    all
}

/// One command's section, then its subcommands' one level deeper.
fn section(out: &mut String, cmd: &mut Command, prefix: &str, level: usize) {
    let path = format!("{prefix} {}", cmd.get_name());
    let _ = writeln!(out, "{} `{path}`\n", "#".repeat(level.min(6)));
    let _ = writeln!(out, "{}\n", text(&about(cmd)));
    let _ = writeln!(out, "```\n{}\n```\n", usage(cmd));
    // Arguments first, then flags, each in definition order.
    let (mut args, flags): (Vec<&Arg>, Vec<&Arg>) = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
        .partition(|a| a.is_positional());
    args.extend(flags);
    if !args.is_empty() {
        let _ = writeln!(out, "| argument or flag | meaning |\n|---|---|");
        for arg in args {
            let _ = writeln!(out, "| `{}` | {} |", name(arg), cell(&describe(arg)));
        }
        out.push('\n');
    }
    let mut subcommands: Vec<Command> = visible(cmd).cloned().collect();
    if !subcommands.is_empty() {
        let names: Vec<String> = subcommands
            .iter()
            .map(|c| format!("`{}`", c.get_name()))
            .collect();
        let _ = writeln!(out, "Subcommands: {}.\n", names.join(", "));
    }
    for sub in &mut subcommands {
        section(out, sub, &path, level + 1);
    }
}

/// The usage line clap prints, without its `Usage: `.
fn usage(cmd: &mut Command) -> String {
    let usage = cmd.render_usage().to_string();
    usage.trim().trim_start_matches("Usage:").trim().to_string()
}

fn about(cmd: &Command) -> String {
    cmd.get_long_about()
        .or(cmd.get_about())
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// `<SESSION>`, `[SESSION]`, `-s, --server <URL>`, `--json`.
fn name(arg: &Arg) -> String {
    let values = arg
        .get_value_names()
        .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|| vec![arg.get_id().as_str().to_uppercase()]);
    if arg.is_positional() {
        let value = values.join(" ");
        return if arg.is_required_set() {
            format!("<{value}>")
        } else {
            format!("[{value}]")
        };
    }
    let mut name = String::new();
    if let Some(short) = arg.get_short() {
        name.push_str(&format!("-{short}"));
    }
    if let Some(long) = arg.get_long() {
        if !name.is_empty() {
            name.push_str(", ");
        }
        name.push_str(&format!("--{long}"));
    }
    if arg.get_action().takes_values() {
        for value in values {
            name.push_str(&format!(" <{value}>"));
        }
    }
    name
}

/// An argument's help, with its default, environment variable and
/// accepted values as `--help` shows them.
fn describe(arg: &Arg) -> String {
    let mut text = arg
        .get_long_help()
        .or(arg.get_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut extra = Vec::new();
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && !arg.is_hide_default_value_set() && arg.get_action().takes_values() {
        extra.push(format!("default: `{}`", defaults.join(" ")));
    }
    if let Some(env) = arg.get_env() {
        if !arg.is_hide_env_set() {
            extra.push(format!("environment: `{}`", env.to_string_lossy()));
        }
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if !values.is_empty() && !arg.is_hide_possible_values_set() && arg.get_action().takes_values() {
        extra.push(format!("one of {}", values.join(", ")));
    }
    if !extra.is_empty() {
        text.push_str(&format!(" ({})", extra.join("; ")));
    }
    text
}

/// Help text as one paragraph of Markdown.
fn text(help: &str) -> String {
    help.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Help text for a table cell: one line, `|` escaped.
fn cell(help: &str) -> String {
    text(help).replace('|', "\\|")
}
