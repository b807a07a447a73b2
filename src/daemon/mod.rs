//! The daemon (issue 4): watches the share allowlist, tails transcripts,
//! pushes to every server a session is shared with.
//!
//! Lifecycle (this module): exactly one daemon per openctl home, proven by a
//! held lock ([`lock`]); started detached by spawning the small
//! `openctl-daemon` binary next to `openctl` (else `openctl daemon start
//! --foreground`) in a new session (setsid) from the synchronous CLI, before
//! any async runtime exists; umask 077; start-up code trimmed from memory
//! ([`memory`]); a version handshake restarts an older daemon; a status
//! snapshot ([`status`]) tells the CLI when it is
//! ready and how every (session, server) pair is doing.
//!
//! Inside: [`reconcile`] keeps one [`worker`] per (session, server) pair
//! equal to shared-sessions.json; each worker tails its transcript
//! ([`tail`]) from a durable [`cursor`] and delivers batches ([`stream`]).

pub mod agents;
pub mod cursor;
pub mod diff;
pub mod lock;
pub mod log;
pub mod memory;
pub mod reconcile;
pub mod status;
pub mod stream;
pub mod tail;
pub mod watch;
pub mod worker;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};

pub use status::{read_status, wait_until, PairState, PairStatus, Status};

use crate::api_client::Http;
use crate::config::{self, Config};
use crate::error::{CliError, Exit};
use crate::redact::Redactor;
use crate::{paths, shared};

/// How long `start` waits for a spawned daemon to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long `stop` waits for the daemon to flush and exit before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// Log lines shown when the daemon fails to start.
const LOG_TAIL_ON_FAILURE: usize = 20;

/// What every task of the running daemon shares.
pub struct Ctx {
    pub home: PathBuf,
    pub http: Http,
    pub board: status::Board,
    pub files: watch::FileWatch,
    config: Mutex<Config>,
    redactor: tokio::sync::watch::Sender<Rules>,
    /// What each server's health said it takes, asked once per server.
    features: Mutex<std::collections::HashMap<String, stream::Features>>,
}

/// The redaction rules for servers with `redact` on, or why there are none
/// (`redact.json` does not load): then nothing is sent to those servers.
pub type Rules = std::result::Result<Arc<Redactor>, String>;

impl Ctx {
    /// The latest config.json that parsed.
    pub fn config(&self) -> Config {
        self.config
            .lock()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The redactor for servers with `redact` on (the default): the
    /// built-in rules plus `redact.json`; an error while that file does not
    /// load.
    pub fn redactor(&self) -> Rules {
        self.redactor.borrow().clone()
    }

    /// What `server` takes, if it was asked already.
    pub fn known_features(&self, server: &str) -> Option<stream::Features> {
        let map = self.features.lock().unwrap_or_else(|p| p.into_inner());
        map.get(server).copied()
    }

    pub fn learn_features(&self, server: &str, features: stream::Features) {
        let mut map = self.features.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(server.to_string(), features);
    }

    /// Notified whenever the rules are reloaded.
    pub fn redactor_changes(&self) -> tokio::sync::watch::Receiver<Rules> {
        self.redactor.subscribe()
    }

    /// Re-read `redact.json`. A file that does not load replaces the rules
    /// by its error (fail closed: nothing is sent to servers with redaction
    /// on until it is fixed) and is returned.
    pub fn reload_redactor(&self) -> Result<()> {
        match Redactor::load(&self.home) {
            Ok(r) => {
                self.board.set_redaction_error(None);
                drop(self.redactor.send_replace(Ok(Arc::new(r))));
                Ok(())
            }
            Err(e) => {
                let error = format!(
                    "{e:#}; nothing is sent to servers with redaction on until it is fixed"
                );
                self.board.set_redaction_error(Some(error.clone()));
                drop(self.redactor.send_replace(Err(error)));
                Err(e)
            }
        }
    }

    fn set_config(&self, config: Config) {
        match self.config.lock() {
            Ok(mut c) => *c = config,
            Err(p) => *p.into_inner() = config,
        }
    }
}

/// `openctl daemon start --foreground`: be the daemon, in this process,
/// until SIGTERM/SIGINT.
pub fn run_foreground() -> Result<()> {
    // Everything the daemon creates is private to the user.
    // SAFETY: umask only changes this process's file creation mask.
    unsafe {
        libc::umask(0o077);
    }
    // A file size limit must not kill the daemon: a write over it fails
    // (and is counted for the log) instead of raising SIGXFSZ.
    // SAFETY: ignoring a signal changes only this process's disposition.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    memory::keep_heap_small();
    let home = paths::ensure_openctl_home()?;
    let Some(lock) = lock::acquire(&home)? else {
        let pid = lock::holder(&home)?
            .and_then(|h| h.pid)
            .map_or_else(|| "unknown pid".to_string(), |p| format!("pid {p}"));
        return Err(CliError::new(
            Exit::DaemonStart,
            format!(
                "another openctl daemon already runs for {} ({pid})",
                home.display()
            ),
        )
        .with_hint("stop it with `openctl daemon stop`, or leave it running")
        .into());
    };
    log::init(&home)?;
    tracing::info!(
        pid = std::process::id(),
        version = env!("CARGO_PKG_VERSION"),
        home = %home.display(),
        "daemon starting"
    );
    let http = Http::new()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(2)
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve(home.clone(), http));
    match &result {
        Ok(()) => tracing::info!("daemon stopped"),
        Err(e) => tracing::error!("daemon failed: {e:#}"),
    }
    // Leave no stale snapshot claiming sessions stream.
    let _ = std::fs::remove_file(status::status_path(&home));
    drop(runtime);
    drop(lock);
    result
}

async fn serve(home: PathBuf, http: Http) -> Result<()> {
    let home_changed = Arc::new(tokio::sync::Notify::new());
    let files = watch::FileWatch::new(
        &home,
        &[
            shared::FILE,
            shared::ABANDON_FILE,
            config::FILE,
            crate::redact::FILE,
            crate::client_id::FILE,
            crate::identity::FILE,
        ],
        home_changed.clone(),
    )?;
    let ctx = Arc::new(Ctx {
        home: home.clone(),
        http,
        board: status::Board::new(),
        files,
        config: Mutex::new(Config::default()),
        // Loaded by the first reconcile, before any worker starts.
        redactor: tokio::sync::watch::Sender::new(Err(
            "the redaction rules are not loaded yet".to_string()
        )),
        features: Mutex::default(),
    });
    // Before ready: a `stop` right after start must find SIGTERM handled.
    let shutdown = shutdown_signal()?;
    // Ready: the lock is held and the snapshot written.
    ctx.board.write(&home)?;
    // Start-up code never runs again: let it leave the resident set.
    let trimmed = memory::trim_code_pages();
    tracing::debug!(kb = trimmed, "start-up code pages trimmed");
    let writer = tokio::spawn(write_status(ctx.clone()));
    reconcile::supervise(ctx.clone(), home_changed, shutdown).await;
    writer.abort();
    Ok(())
}

/// Write the status snapshot whenever it changes, at most every 5 ms (a
/// burst of changes during a catch-up becomes one write per 5 ms; `share`
/// waits on this file, so a longer pause would be its latency).
async fn write_status(ctx: Arc<Ctx>) {
    loop {
        ctx.board.changed().await;
        if let Err(e) = ctx.board.write(&ctx.home) {
            tracing::warn!("cannot write the status snapshot: {e:#}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    // A detached daemon has no terminal; a hangup must not kill it.
    let mut hup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    Ok(async move {
        loop {
            tokio::select! {
                _ = term.recv() => { tracing::info!("SIGTERM: stopping"); return; }
                _ = int.recv() => { tracing::info!("SIGINT: stopping"); return; }
                _ = hup.recv() => tracing::info!("SIGHUP ignored"),
            }
        }
    })
}

/// The pid of the running daemon, if any.
pub fn running_pid(home: &Path) -> Result<Option<u32>> {
    Ok(lock::holder(home)?.map(|h| h.pid.unwrap_or(0)))
}

/// What [`ensure_running`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// A daemon of this version was already running.
    AlreadyRunning(u32),
    /// A new daemon was started (after stopping an older version if one ran).
    Started(u32),
}

/// Make sure a daemon of this version runs for the openctl home: start one
/// (detached) if none runs, restart one of another version. Failures map to
/// exit 3 with the tail of the daemon's log.
pub fn ensure_running() -> Result<Started> {
    let home = paths::ensure_openctl_home()?;
    if let Some(holder) = lock::holder(&home)? {
        if holder.version.as_deref() == Some(env!("CARGO_PKG_VERSION")) {
            let pid = holder.pid.unwrap_or(0);
            wait_ready(&home, pid, None)?;
            return Ok(Started::AlreadyRunning(pid));
        }
        tracing::info!(old = ?holder.version, "restarting a daemon of another version");
        stop(&home)?;
    }
    start_detached(&home).map(Started::Started)
}

/// The `openctl-daemon` binary installed next to this executable: the
/// daemon without the CLI and the server linked in, so the process that
/// runs all day maps far fewer pages (issue 7).
pub const DAEMON_BINARY: &str = "openctl-daemon";

/// The command that runs the daemon in the foreground: the sibling
/// `openctl-daemon` when it exists, else this executable with `daemon start
/// --foreground` (e.g. when only `openctl` was copied somewhere).
fn daemon_command() -> Result<Command> {
    let exe = std::env::current_exe().context("cannot find the openctl executable")?;
    Ok(match sibling_daemon(&exe) {
        Some(small) => Command::new(small),
        None => foreground_command(exe),
    })
}

/// `<exe> daemon start --foreground`.
fn foreground_command(exe: PathBuf) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(["daemon", "start", "--foreground"]);
    cmd
}

/// `openctl-daemon` in the directory of `exe`, unless `exe` is it already.
fn sibling_daemon(exe: &Path) -> Option<PathBuf> {
    if exe.file_name()? == DAEMON_BINARY {
        return None;
    }
    let small = exe.with_file_name(DAEMON_BINARY);
    let meta = std::fs::metadata(&small).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return None;
        }
    }
    meta.is_file().then_some(small)
}

/// `openctl daemon start --foreground`: run the daemon in this process,
/// replacing it with the sibling `openctl-daemon` when there is one (same
/// pid, so service managers keep tracking it; smaller resident size).
pub fn run_foreground_or_exec() -> Result<()> {
    #[cfg(unix)]
    if let Ok(exe) = std::env::current_exe() {
        if let Some(small) = sibling_daemon(&exe) {
            use std::os::unix::process::CommandExt;
            // exec returns only when it failed (e.g. the file was removed
            // meanwhile); then this process is the daemon, which is as good.
            let _failed = Command::new(&small).exec();
        }
    }
    run_foreground()
}

/// Spawn the daemon ([`daemon_command`]) detached (new session, no
/// terminal, output to the log) and wait until it is ready. A sibling
/// `openctl-daemon` of another version (a stale copy) is stopped and the
/// daemon started from this executable instead.
fn start_detached(home: &Path) -> Result<u32> {
    let (pid, spawned) = spawn_detached(home, daemon_command()?)?;
    // Only the daemon just spawned, with its version read back for sure,
    // counts: the lock file is briefly empty (or still names a killed
    // daemon) while a daemon takes it, and another start may have won.
    let holder = lock::holder(home)?.filter(|h| h.pid == Some(spawned));
    match holder.and_then(|h| h.version) {
        Some(v) if v != env!("CARGO_PKG_VERSION") => {
            tracing::info!(other = %v, "the sibling openctl-daemon has another version; using openctl");
            stop(home)?;
            let exe = std::env::current_exe().context("cannot find the openctl executable")?;
            spawn_detached(home, foreground_command(exe)).map(|(pid, _)| pid)
        }
        _ => Ok(pid),
    }
}

/// Spawn `cmd` detached; returns the pid of the ready daemon and of the
/// spawned process (they differ when a concurrent start won).
fn spawn_detached(home: &Path, mut cmd: Command) -> Result<(u32, u32)> {
    let log_path = log::path(home);
    let mut log_opts = std::fs::OpenOptions::new();
    log_opts.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut log_opts, 0o600);
    let log_file = log_opts
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    cmd.env("OPENCTL_HOME", home)
        .stdin(Stdio::null())
        .stdout(
            log_file
                .try_clone()
                .with_context(|| format!("cannot open {}", log_path.display()))?,
        )
        .stderr(log_file)
        .current_dir("/");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe; nothing else runs between
        // fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| start_failure(home, &format!("cannot spawn the daemon: {e}")))?;
    let pid = child.id();
    wait_ready(home, pid, Some(&mut child)).map(|ready| (ready, pid))
}

/// Wait until the lock holder has written its status snapshot. With
/// `child`, a child that exits first is a failure unless another daemon
/// holds the lock (two starts raced and the other won).
fn wait_ready(home: &Path, pid: u32, mut child: Option<&mut Child>) -> Result<u32> {
    let mut check = || -> Result<Option<u32>> {
        if let Some(holder) = lock::holder(home)? {
            // Between taking the lock and writing its pid, a new daemon's
            // lock file and snapshot may still name a dead predecessor
            // (after a SIGKILL): only a live pid counts.
            if let Some(p) = holder.pid.filter(|p| *p != 0 && process_alive(*p)) {
                if status::snapshot_written_by(home, p) {
                    return Ok(Some(p));
                }
            }
        }
        if let Some(c) = child.as_deref_mut() {
            if let Some(exit) = c.try_wait()? {
                if lock::holder(home)?.is_none() {
                    return Err(start_failure(
                        home,
                        &format!("the daemon (pid {pid}) exited during start-up ({exit})"),
                    ));
                }
            }
        }
        Ok(None)
    };
    match status::wait_for_files(home, status::DAEMON_FILES, START_TIMEOUT, &mut check)? {
        Some(p) => Ok(p),
        None => Err(start_failure(
            home,
            &format!(
                "the daemon (pid {pid}) did not become ready within {}s",
                START_TIMEOUT.as_secs()
            ),
        )),
    }
}

fn start_failure(home: &Path, what: &str) -> anyhow::Error {
    let log_path = log::path(home);
    // Log lines are short; anything else in the file is shown cut.
    let tail: Vec<String> = log::tail(&log_path, LOG_TAIL_ON_FAILURE)
        .unwrap_or_default()
        .into_iter()
        .map(|l| match l.char_indices().nth(300) {
            Some((at, _)) => format!("{}…", &l[..at]),
            None => l,
        })
        .collect();
    let mut message = what.to_string();
    if !tail.is_empty() {
        message.push_str(&format!(
            "\nlast lines of {}:\n  {}",
            log_path.display(),
            tail.join("\n  ")
        ));
    }
    CliError::new(Exit::DaemonStart, message)
        .with_hint(format!(
            "run `openctl daemon start --foreground` to see it fail, or read {}",
            log_path.display()
        ))
        .into()
}

/// Stop the running daemon: SIGTERM (it flushes what it can), wait until
/// the lock is released, SIGKILL if it does not exit in time. Returns the
/// pid that was stopped, `None` when no daemon ran.
pub fn stop(home: &Path) -> Result<Option<u32>> {
    let Some(holder) = lock::holder(home)? else {
        return Ok(None);
    };
    // The pid is written right after the lock is taken: wait for it (or
    // for the lock to be released).
    let pid = match holder.pid {
        Some(p) => Some(p),
        None => status::wait_for_files(
            home,
            status::DAEMON_FILES,
            Duration::from_secs(2),
            &mut || {
                Ok(match lock::holder(home)? {
                    None => Some(None),
                    Some(h) => h.pid.map(Some),
                })
            },
        )?
        .flatten(),
    };
    let Some(pid) = pid.filter(|p| *p > 1) else {
        if lock::holder(home)?.is_none() {
            return Ok(None);
        }
        return Err(CliError::new(
            Exit::Failure,
            format!(
                "a daemon holds {} but did not record its pid",
                lock::lock_path(home).display()
            ),
        )
        .into());
    };
    // A daemon still starting handles SIGTERM only once it is ready (its
    // snapshot is written after the handler is in place): wait for that, so
    // it always stops cleanly.
    status::wait_for_files(home, status::DAEMON_FILES, START_TIMEOUT, &mut || {
        Ok((status::snapshot_written_by(home, pid) || lock::holder(home)?.is_none()).then_some(()))
    })?;
    signal(pid, libc::SIGTERM)?;
    if lock::wait_released(home, STOP_TIMEOUT)? {
        wait_exited(pid, Duration::from_secs(5));
        return Ok(Some(pid));
    }
    signal(pid, libc::SIGKILL)?;
    if lock::wait_released(home, Duration::from_secs(5))? {
        wait_exited(pid, Duration::from_secs(5));
        return Ok(Some(pid));
    }
    Err(CliError::new(
        Exit::Failure,
        format!("the daemon (pid {pid}) did not stop, even after SIGKILL"),
    )
    .into())
}

/// The lock is released just before the process ends: wait (bounded) until
/// it is really gone, or a zombie its adopter has not reaped yet.
fn wait_exited(pid: u32, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline && process_alive(pid) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn process_alive(pid: u32) -> bool {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(raw, 0) } != 0 {
        return false;
    }
    // A zombie has exited; only its exit status is left.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.trim().chars().next());
    !matches!(state, Some('Z') | Some('X'))
}

fn signal(pid: u32, sig: libc::c_int) -> Result<()> {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return Err(anyhow::anyhow!("invalid daemon pid {pid}"));
    };
    // SAFETY: kill has no memory-safety preconditions.
    let rc = unsafe { libc::kill(raw, sig) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        return Ok(()); // already gone
    }
    Err(err).with_context(|| format!("cannot signal the daemon (pid {pid})"))
}
