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
/// terminal. It never hides the cursor, and however it ends (finished,
/// dropped on an early error return) its line is cleared; a signal meanwhile
/// is [`restore_terminal_on_signal`]'s.
pub fn spinner(message: impl Into<String>) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::new_spinner().with_finish(indicatif::ProgressFinish::AndClear);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar.set_message(message.into());
    bar.enable_steady_tick(std::time::Duration::from_millis(80));
    bar
}

/// Make SIGINT and SIGTERM leave the terminal as they found it; `main`
/// calls it once, first.
///
/// A prompt (dialoguer) hides the cursor and reads keys in raw mode; a
/// signal there used to end the process with the cursor hidden. The
/// handler shows the cursor (`\x1b[?25h` on stderr, when it is a
/// terminal), puts back the terminal mode of stdin as it was at start-up,
/// and ends the process by the signal itself, so the shell sees 130 or 143
/// and a script or loop stops as on any Ctrl-C. A signal the process was
/// started with ignored stays ignored. Where a command handles the signal
/// itself (the daemon, the server, the demo register theirs later, and
/// chain to this one) it only shows the cursor and leaves the rest to them.
pub fn restore_terminal_on_signal() {
    terminal_restore::install();
}

mod terminal_restore {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

    static STDERR_IS_TERMINAL: AtomicBool = AtomicBool::new(false);
    static STDIN_MODE: OnceLock<libc::termios> = OnceLock::new();

    pub(super) fn install() {
        // SAFETY: plain libc calls on valid pointers to locals and statics;
        // the handler only makes async-signal-safe calls.
        unsafe {
            STDERR_IS_TERMINAL.store(libc::isatty(2) == 1, Ordering::Relaxed);
            if libc::isatty(0) == 1 {
                let mut mode: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(0, &mut mode) == 0 {
                    let _ = STDIN_MODE.set(mode);
                }
            }
            for sig in [libc::SIGINT, libc::SIGTERM] {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                    || old.sa_sigaction != libc::SIG_DFL
                {
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
    }

    extern "C" fn on_signal(sig: libc::c_int) {
        // SAFETY: only async-signal-safe calls (sigaction, write, tcgetpgrp,
        // getpgrp, tcsetattr, signal, sigprocmask, raise, _exit) and reads
        // of statics written before the handler was installed.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            let ours = libc::sigaction(sig, std::ptr::null(), &mut current) == 0
                && current.sa_sigaction
                    == on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            if STDERR_IS_TERMINAL.load(Ordering::Relaxed) {
                // Ending the process: leave the prompt's or spinner's line.
                if ours {
                    libc::write(2, b"\n".as_ptr().cast(), 1);
                }
                libc::write(2, SHOW_CURSOR.as_ptr().cast(), SHOW_CURSOR.len());
            }
            if !ours {
                return;
            }
            // Only from the foreground: a background process changing the
            // terminal's mode would be stopped (SIGTTOU).
            if let Some(mode) = STDIN_MODE.get() {
                if libc::tcgetpgrp(0) == libc::getpgrp() {
                    libc::tcsetattr(0, libc::TCSANOW, mode);
                }
            }
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
            libc::_exit(128 + sig);
        }
    }
}
