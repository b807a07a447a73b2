//! The daemon's status snapshot: what `openctl daemon status` prints and
//! what `session share`/`unshare` wait on.
//!
//! The daemon keeps a [`Board`] in memory and writes it atomically to
//! `~/.openctl/daemon-status.json` whenever something changes (coalesced).
//! Readers combine the file with the lock: only a held lock proves the
//! daemon runs, a stale snapshot never does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::lock;
use crate::paths;

pub const FILE: &str = "daemon-status.json";

/// How many pairs that stopped being shared stay listed (so `unshare` can
/// see that they completed).
const MAX_UNSHARED_KEPT: usize = 200;

/// The state of one (session, server) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairState {
    /// Checking the repository and creating the session on the server.
    Starting,
    /// Connected: new lines are sent as they are written.
    Streaming,
    /// The server failed transiently; retrying with backoff.
    Retrying,
    /// Stopped for good (repository not allowed, 401/403, ...): see `last_error`.
    Failed,
    /// Marked complete on the server (idle, or no longer shared).
    Complete,
}

/// One (session, server) pair in the status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairStatus {
    pub session: String,
    pub server: String,
    pub server_session_id: Option<String>,
    pub url: Option<String>,
    pub state: PairState,
    /// Still listed in shared-sessions.json. False once the pair was
    /// removed and its worker finished (flushed and completed).
    pub shared: bool,
    pub messages_sent: u64,
    pub lines_skipped: u64,
    /// Lines kept with U+FFFD for invalid UTF-8 or a lone surrogate.
    #[serde(default)]
    pub lines_repaired: u64,
    pub last_error: Option<String>,
    /// Transcript bytes not yet acknowledged by the server.
    pub lag_bytes: u64,
    /// Retrying because the server does not answer (or answers 5xx, 408,
    /// 429): the daemon sends the rest once it does.
    #[serde(default)]
    pub server_unavailable: bool,
    pub redactions: u64,
}

impl PairStatus {
    pub fn new(session: &str, server: &str) -> PairStatus {
        PairStatus {
            session: session.to_string(),
            server: server.to_string(),
            server_session_id: None,
            url: None,
            state: PairState::Starting,
            shared: true,
            messages_sent: 0,
            lines_skipped: 0,
            lines_repaired: 0,
            last_error: None,
            lag_bytes: 0,
            server_unavailable: false,
            redactions: 0,
        }
    }
}

/// `openctl daemon status --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub running: bool,
    pub pid: Option<u32>,
    pub version: Option<String>,
    pub uptime_s: Option<u64>,
    /// Why `redact.json` does not load, while it does not: nothing is sent
    /// to servers with redaction on meanwhile.
    #[serde(default)]
    pub redaction_error: Option<String>,
    /// Files of the openctl home the daemon cannot use as they are (a
    /// `shared-sessions.json` that does not parse, a log it cannot
    /// write), with why.
    #[serde(default)]
    pub file_errors: BTreeMap<String, String>,
    pub sessions: Vec<PairStatus>,
}

impl Status {
    /// The pair (session, server), if listed.
    pub fn pair(&self, session: &str, server: &str) -> Option<&PairStatus> {
        self.sessions
            .iter()
            .find(|p| p.session == session && p.server == server)
    }
}

/// What the daemon writes to [`FILE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Snapshot {
    pid: u32,
    version: String,
    /// Seconds since the Unix epoch when the daemon started.
    started_at: u64,
    #[serde(default)]
    redaction_error: Option<String>,
    #[serde(default)]
    file_errors: BTreeMap<String, String>,
    sessions: Vec<PairStatus>,
}

/// The daemon's live status, shared by its tasks.
#[derive(Clone)]
pub struct Board {
    inner: Arc<Mutex<Inner>>,
    dirty: Arc<tokio::sync::Notify>,
}

struct Inner {
    pid: u32,
    started_at: u64,
    redaction_error: Option<String>,
    file_errors: BTreeMap<String, String>,
    pairs: BTreeMap<(String, String), PairStatus>,
    /// Order in which pairs stopped being shared, oldest first.
    unshared: Vec<(String, String)>,
}

impl Board {
    pub fn new() -> Board {
        let started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Board {
            inner: Arc::new(Mutex::new(Inner {
                pid: std::process::id(),
                started_at,
                redaction_error: None,
                file_errors: BTreeMap::new(),
                pairs: BTreeMap::new(),
                unshared: Vec::new(),
            })),
            dirty: Arc::new(tokio::sync::Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Change the pair's entry (created if missing) and schedule a write.
    /// Nothing is written when `f` changes nothing (idle re-checks stay
    /// free).
    pub fn update(&self, session: &str, server: &str, f: impl FnOnce(&mut PairStatus)) {
        {
            let mut inner = self.lock();
            let key = (session.to_string(), server.to_string());
            let created = !inner.pairs.contains_key(&key);
            let entry = inner
                .pairs
                .entry(key.clone())
                .or_insert_with(|| PairStatus::new(session, server));
            let before = entry.clone();
            f(entry);
            if *entry == before && !created {
                return;
            }
            let was_shared = before.shared;
            let now_shared = entry.shared;
            if was_shared && !now_shared {
                inner.unshared.push(key);
                while inner.unshared.len() > MAX_UNSHARED_KEPT {
                    let old = inner.unshared.remove(0);
                    if inner.pairs.get(&old).is_some_and(|p| !p.shared) {
                        inner.pairs.remove(&old);
                    }
                }
            } else if !was_shared && now_shared {
                inner.unshared.retain(|k| *k != key);
            }
        }
        self.dirty.notify_one();
    }

    /// A pair starts (again): fresh entry, keeping its counters.
    pub fn start_pair(&self, session: &str, server: &str) {
        self.update(session, server, |p| {
            p.shared = true;
            p.state = PairState::Starting;
            p.last_error = None;
        });
    }

    /// Set (or clear) why the redaction rules do not load.
    pub fn set_redaction_error(&self, error: Option<String>) {
        {
            let mut inner = self.lock();
            if inner.redaction_error == error {
                return;
            }
            inner.redaction_error = error;
        }
        self.dirty.notify_one();
    }

    /// Set (or clear) what is wrong with `file` of the openctl home.
    pub fn set_file_error(&self, file: &str, error: Option<String>) {
        {
            let mut inner = self.lock();
            if inner.file_errors.get(file) == error.as_ref() {
                return;
            }
            match error {
                Some(e) => inner.file_errors.insert(file.to_string(), e),
                None => inner.file_errors.remove(file),
            };
        }
        self.dirty.notify_one();
    }

    /// Wait until something changed since the last write.
    pub async fn changed(&self) {
        self.dirty.notified().await;
    }

    fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        Snapshot {
            pid: inner.pid,
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: inner.started_at,
            redaction_error: inner.redaction_error.clone(),
            file_errors: {
                let mut errors = inner.file_errors.clone();
                if let Some(why) = super::watch::degraded() {
                    errors.insert("file watching".to_string(), why);
                }
                let dropped = super::log::dropped();
                if dropped > 0 {
                    errors.insert(
                        super::log::FILE.to_string(),
                        format!("{dropped} log line(s) could not be written (disk full or over a file size limit); streaming goes on"),
                    );
                }
                errors
            },
            sessions: inner.pairs.values().cloned().collect(),
        }
    }

    /// Write the snapshot atomically to `home`.
    pub fn write(&self, home: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(&self.snapshot())?;
        crate::state::replace_snapshot(&home.join(FILE), &bytes)
    }
}

impl Default for Board {
    fn default() -> Self {
        Board::new()
    }
}

/// The status as the CLI sees it: running only if the lock is held; the
/// snapshot only if the lock holder wrote it.
pub fn read_status() -> Result<Status> {
    read_status_in(&paths::openctl_home()?)
}

pub fn read_status_in(home: &Path) -> Result<Status> {
    let Some(holder) = lock::holder(home)? else {
        return Ok(Status {
            running: false,
            pid: None,
            version: None,
            uptime_s: None,
            redaction_error: None,
            file_errors: BTreeMap::new(),
            sessions: Vec::new(),
        });
    };
    let snapshot = read_snapshot(home)?.filter(|s| Some(s.pid) == holder.pid);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(match snapshot {
        Some(s) => Status {
            running: true,
            pid: Some(s.pid),
            version: Some(s.version),
            uptime_s: Some(now.saturating_sub(s.started_at)),
            redaction_error: s.redaction_error,
            file_errors: s.file_errors,
            sessions: s.sessions,
        },
        None => Status {
            running: true,
            pid: holder.pid,
            version: holder.version,
            uptime_s: None,
            redaction_error: None,
            file_errors: BTreeMap::new(),
            sessions: Vec::new(),
        },
    })
}

/// True when the running daemon (the lock holder) has written its snapshot.
pub fn snapshot_written_by(home: &Path, pid: u32) -> bool {
    matches!(read_snapshot(home), Ok(Some(s)) if s.pid == pid)
}

fn read_snapshot(home: &Path) -> Result<Option<Snapshot>> {
    let path = home.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Wait until `pred` holds for the status, re-reading it whenever the lock
/// or the snapshot changes (a directory watch, so the snapshot's atomic
/// replacement is seen). Returns the status that satisfied `pred`, or
/// `None` after `timeout`.
pub fn wait_until(
    mut pred: impl FnMut(&Status) -> bool,
    timeout: Duration,
) -> Result<Option<Status>> {
    let home = paths::openctl_home()?;
    let mut check = || -> Result<Option<Status>> {
        let status = read_status_in(&home)?;
        Ok(pred(&status).then_some(status))
    };
    wait_for_files(&home, DAEMON_FILES, timeout, &mut check)
}

/// The files in the openctl home that tell whether the daemon runs and how
/// it is doing: what status waits react to.
pub const DAEMON_FILES: &[&str] = &[lock::LOCK_FILE, FILE];

/// Call `check` now and after every change in `dir` (and at least every
/// 250 ms, in case an event is missed) until it returns `Some` or `timeout`
/// passes.
pub fn wait_for_change<T>(
    dir: &Path,
    timeout: Duration,
    check: &mut dyn FnMut() -> Result<Option<T>>,
) -> Result<Option<T>> {
    wait_for_files(dir, &[], timeout, check)
}

/// Like [`wait_for_change`], but only changes of the files named in `names`
/// (in `dir`) wake it; an empty list means every file.
pub fn wait_for_files<T>(
    dir: &Path,
    names: &[&str],
    timeout: Duration,
    check: &mut dyn FnMut() -> Result<Option<T>>,
) -> Result<Option<T>> {
    use notify::Watcher;
    let deadline = Instant::now() + timeout;
    let (tx, rx) = std::sync::mpsc::channel();
    let names: Vec<std::ffi::OsString> = names.iter().map(std::ffi::OsString::from).collect();
    // Without a watch (no inotify left, a directory that does not exist
    // yet) the wait still works: it re-checks every 250 ms.
    let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if wakes(&ev, &names) {
            let _ = tx.send(());
        }
    })
    .and_then(|mut w| {
        w.watch(dir, notify::RecursiveMode::NonRecursive)
            .map(|()| w)
    })
    .ok();
    loop {
        if let Some(v) = check()? {
            return Ok(Some(v));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        let wait = (deadline - now).min(Duration::from_millis(250));
        if watcher.is_none() {
            std::thread::sleep(wait);
        } else if rx.recv_timeout(wait).is_ok() {
            // Drain the burst an atomic write causes before re-checking.
            while rx.try_recv().is_ok() {}
        }
    }
}

/// Whether a watch event is worth a re-check: a change (not a mere open,
/// read or close: the check itself opens the files it reads, and reacting
/// to that would spin) of one of `names` (any file when empty). A watch
/// error wakes too, so nothing is missed.
fn wakes(ev: &notify::Result<notify::Event>, names: &[std::ffi::OsString]) -> bool {
    let Ok(ev) = ev else {
        return true;
    };
    if ev.kind.is_access() {
        return false;
    }
    names.is_empty()
        || ev.paths.is_empty()
        || ev
            .paths
            .iter()
            .any(|p| p.file_name().is_some_and(|n| names.iter().any(|x| x == n)))
}

/// Where the daemon's files live.
pub fn status_path(home: &Path) -> PathBuf {
    home.join(FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshared_pairs_are_capped() {
        let board = Board::new();
        for i in 0..(MAX_UNSHARED_KEPT + 10) {
            let s = format!("s{i}");
            board.update(&s, "http://a", |p| p.state = PairState::Streaming);
            board.update(&s, "http://a", |p| {
                p.shared = false;
                p.state = PairState::Complete;
            });
        }
        board.update("live", "http://a", |p| p.state = PairState::Streaming);
        let snap = board.snapshot();
        assert_eq!(snap.sessions.len(), MAX_UNSHARED_KEPT + 1);
        assert!(snap.sessions.iter().any(|p| p.session == "live"));
        assert!(!snap.sessions.iter().any(|p| p.session == "s0"));
    }

    #[test]
    fn no_lock_means_not_running_despite_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let board = Board::new();
        board.update("s", "http://a", |p| p.state = PairState::Streaming);
        board.write(dir.path()).unwrap();
        let st = read_status_in(dir.path()).unwrap();
        assert!(!st.running);
        assert!(st.sessions.is_empty());
    }

    #[test]
    fn only_changes_of_the_named_files_wake_a_wait() {
        use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
        use notify::{Event, EventKind};
        let names: Vec<std::ffi::OsString> = DAEMON_FILES.iter().map(Into::into).collect();
        let home = Path::new("/h");
        let ev = |kind: EventKind, files: &[&str]| -> notify::Result<Event> {
            let mut e = Event::new(kind);
            for f in files {
                e = e.add_path(home.join(f));
            }
            Ok(e)
        };
        let open = EventKind::Access(AccessKind::Open(AccessMode::Any));
        let closed = EventKind::Access(AccessKind::Close(AccessMode::Read));
        let renamed = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        let written = EventKind::Modify(ModifyKind::Data(notify::event::DataChange::Any));
        // What a status check does itself: open and read the lock and snapshot.
        assert!(!wakes(&ev(open, &[lock::LOCK_FILE]), &names));
        assert!(!wakes(&ev(closed, &[FILE]), &names));
        // Other files in the home.
        assert!(!wakes(&ev(written, &["daemon.log"]), &names));
        assert!(!wakes(
            &ev(EventKind::Create(CreateKind::File), &[".tmp-x"]),
            &names
        ));
        // The snapshot replaced by rename, the lock rewritten.
        assert!(wakes(&ev(renamed, &[".tmp-x", FILE]), &names));
        assert!(wakes(&ev(written, &[lock::LOCK_FILE]), &names));
        // No filter: any change, still never an access.
        assert!(wakes(&ev(written, &["daemon.log"]), &[]));
        assert!(!wakes(&ev(open, &["daemon.log"]), &[]));
        assert!(wakes(&Err(notify::Error::generic("overflow")), &names));
    }

    #[test]
    fn state_serializes_lowercase() {
        let v = serde_json::to_value(PairStatus::new("s", "u")).unwrap();
        assert_eq!(v["state"], "starting");
        assert_eq!(v["shared"], true);
    }
}
