//! `openctl daemon start|stop|status|logs`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::{DaemonCommand, DaemonLogsArgs, DaemonStartArgs, DaemonStatusArgs};
use crate::daemon::{self, log, status, PairState, Started};
use crate::output;
use crate::paths;

pub fn run(cmd: DaemonCommand) -> Result<()> {
    match cmd {
        DaemonCommand::Start(args) => start(&args),
        DaemonCommand::Stop => stop(),
        DaemonCommand::Status(args) => show_status(&args),
        DaemonCommand::Logs(args) => logs(&args),
    }
}

fn start(args: &DaemonStartArgs) -> Result<()> {
    if args.foreground {
        return daemon::run_foreground_or_exec();
    }
    match daemon::ensure_running()? {
        Started::AlreadyRunning(pid) => eprintln!("The daemon is already running (pid {pid})"),
        Started::Started(pid) => eprintln!(
            "{} Daemon started (pid {pid}); log: {}",
            output::style_ok("✓"),
            log::path(&paths::openctl_home()?).display()
        ),
    }
    Ok(())
}

fn stop() -> Result<()> {
    let home = paths::openctl_home()?;
    match daemon::stop(&home)? {
        Some(pid) => eprintln!("{} Daemon stopped (pid {pid})", output::style_ok("✓")),
        None => eprintln!("The daemon is not running"),
    }
    Ok(())
}

fn show_status(args: &DaemonStatusArgs) -> Result<()> {
    let st = daemon::read_status()?;
    if args.json {
        return output::print_json(&st);
    }
    if !st.running {
        output::println("daemon: not running")?;
        return Ok(());
    }
    let uptime = st
        .uptime_s
        .map(|s| humantime::format_duration(Duration::from_secs(s)).to_string())
        .unwrap_or_else(|| "starting".to_string());
    output::println(format!(
        "daemon: running (pid {}, version {}, up {uptime})",
        st.pid.map_or_else(|| "?".to_string(), |p| p.to_string()),
        st.version.as_deref().unwrap_or("?"),
    ))?;
    if let Some(err) = &st.redaction_error {
        output::println(format!("redaction: {err}"))?;
    }
    for (file, err) in &st.file_errors {
        output::println(format!("problem: {file}: {err}"))?;
    }
    let shared: Vec<&status::PairStatus> = st.sessions.iter().filter(|p| p.shared).collect();
    if shared.is_empty() {
        output::println("no shared sessions")?;
        return Ok(());
    }
    for p in shared {
        let repaired = if p.lines_repaired > 0 {
            format!("  repaired {}", p.lines_repaired)
        } else {
            String::new()
        };
        output::println(format!(
            "{}  {}  {}  sent {}  skipped {}{repaired}  lag {} B  redactions {}{}",
            p.session,
            p.server,
            state_name(p.state),
            p.messages_sent,
            p.lines_skipped,
            p.lag_bytes,
            p.redactions,
            p.url
                .as_deref()
                .map(|u| format!("  {u}"))
                .unwrap_or_default(),
        ))?;
        if let Some(err) = &p.last_error {
            output::println(format!("    last error: {err}"))?;
        }
    }
    Ok(())
}

fn state_name(state: PairState) -> &'static str {
    match state {
        PairState::Starting => "starting",
        PairState::Streaming => "streaming",
        PairState::Retrying => "retrying",
        PairState::Failed => "FAILED",
        PairState::Complete => "complete",
    }
}

fn logs(args: &DaemonLogsArgs) -> Result<()> {
    let home = paths::openctl_home()?;
    let path = log::path(&home);
    if !path.exists() && !args.follow {
        eprintln!("No daemon log yet ({})", path.display());
        return Ok(());
    }
    for line in
        log::tail(&path, args.lines).with_context(|| format!("cannot read {}", path.display()))?
    {
        output::println(line)?;
    }
    if args.follow {
        follow(&home, &path)?;
    }
    Ok(())
}

/// Print what is appended to the log, across rotations, until interrupted.
fn follow(home: &std::path::Path, path: &std::path::Path) -> Result<()> {
    let mut pos = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut id = file_id(path);
    let mut check = || -> Result<Option<()>> {
        let now_id = file_id(path);
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if now_id != id || len < pos {
            id = now_id;
            pos = 0;
        }
        if len > pos {
            let mut f = std::fs::File::open(path)?;
            f.seek(SeekFrom::Start(pos))?;
            let mut buf = Vec::new();
            f.take(len - pos).read_to_end(&mut buf)?;
            pos += buf.len() as u64;
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
        }
        Ok(None)
    };
    loop {
        status::wait_for_change(home, Duration::from_secs(3600), &mut check)?;
    }
}

fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}
