//! Terminal output: stdout for results only, stderr for humans; colour only
//! on a terminal and never with NO_COLOR; a closed stdout pipe is not an error.

use std::io::{IsTerminal, Write};

/// True when stderr is a terminal and colour is allowed.
pub fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// True when stdin and stderr are terminals: only then may we prompt.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn paint(code: &str, text: &str) -> String {
    if color_stderr() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn style_hint(text: &str) -> String {
    paint("1;36", text)
}

pub fn style_ok(text: &str) -> String {
    paint("32", text)
}

pub fn style_warn(text: &str) -> String {
    paint("33", text)
}

pub fn style_dim(text: &str) -> String {
    paint("2", text)
}

/// Write a line to stdout; a closed pipe surfaces as an error that `run`
/// turns into a quiet exit.
pub fn println(line: impl AsRef<str>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_ref().as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Print a JSON value on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println(serde_json::to_string_pretty(value)?)
}

/// A message for humans on stderr (suppressed when `quiet`).
pub fn note(quiet: bool, line: impl AsRef<str>) {
    if !quiet {
        eprintln!("{}", line.as_ref());
    }
}

/// A warning on stderr.
pub fn warn(line: impl AsRef<str>) {
    eprintln!("{} {}", style_warn("warning:"), line.as_ref());
}

/// Is this error a closed stdout pipe?
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A spinner on stderr saying what we wait for; hidden unless stderr is a
/// terminal.
pub fn spinner(message: impl Into<String>) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar.set_message(message.into());
    bar.enable_steady_tick(std::time::Duration::from_millis(80));
    bar
}
