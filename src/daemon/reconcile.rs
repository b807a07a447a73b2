//! Keeping the running workers equal to what shared-sessions.json names.
//!
//! Reconciles on every change of shared-sessions.json or config.json in the
//! openctl home (a directory watch: writers replace the files by rename),
//! coalesced, plus a periodic re-check as a fallback for missed events. A
//! file that does not parse is never taken for an empty one: the current
//! workers keep running and the error is logged.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::worker::{self, Desired, Marks, Outcome, PairSpec};
use super::Ctx;
use crate::config::{self, Config};
use crate::shared;
use crate::state::JsonFile;

/// Re-read the allowlist this often even without a file event.
const PERIODIC: Duration = Duration::from_secs(30);
/// Coalesce a burst of events (a write is create + write + rename).
const DEBOUNCE: Duration = Duration::from_millis(3);
/// How long stopping waits for workers to flush.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

type Key = (String, String);

struct Handle {
    control: watch::Sender<Desired>,
    marks: watch::Sender<Marks>,
    task: JoinHandle<()>,
    outcome: Arc<Mutex<Option<Outcome>>>,
    /// Fingerprint of the state files when the worker started.
    generation: u64,
    /// The transcript it tails.
    file: std::path::PathBuf,
}

impl Handle {
    fn outcome(&self) -> Option<Outcome> {
        if !self.task.is_finished() {
            return None;
        }
        self.outcome
            .lock()
            .ok()
            .and_then(|o| o.clone())
            .or(Some(Outcome::Failed))
    }
}

struct Supervisor {
    ctx: Arc<Ctx>,
    workers: HashMap<Key, Handle>,
    /// The error last logged for each file (config, shares, abandon), so
    /// one that persists is logged once, not on every re-check.
    reported: HashMap<&'static str, String>,
    /// Fingerprint of the redact.json the rules were last loaded from (None
    /// before the first load): its regexes are compiled only when it changes.
    redact_generation: Option<u64>,
    /// Wakes the supervisor: file events, and a worker that ended (so a
    /// pair shared again while its old worker was finishing restarts at
    /// once).
    wake: Arc<Notify>,
    /// The last content seen of the identity files, to write back one
    /// removed while the daemon runs.
    identity_files: HashMap<&'static str, Vec<u8>>,
}

/// Run until `shutdown` resolves, then stop every worker (each flushes what
/// it can quickly).
pub async fn supervise(
    ctx: Arc<Ctx>,
    home_changed: Arc<Notify>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut sup = Supervisor {
        ctx,
        workers: HashMap::new(),
        reported: HashMap::new(),
        redact_generation: None,
        wake: home_changed.clone(),
        identity_files: HashMap::new(),
    };
    tokio::pin!(shutdown);
    sup.reconcile();
    loop {
        tokio::select! {
            _ = home_changed.notified() => {
                tokio::time::sleep(DEBOUNCE).await;
                sup.reconcile();
            }
            _ = tokio::time::sleep(PERIODIC) => {
                if !super::lock::lock_path(&sup.ctx.home).exists() {
                    tracing::error!(home = %sup.ctx.home.display(), "the openctl home or its lock file is gone; stopping");
                    break;
                }
                sup.reconcile();
            }
            _ = &mut shutdown => break,
        }
    }
    sup.shutdown().await;
}

impl Supervisor {
    fn reconcile(&mut self) {
        let home = self.ctx.home.clone();
        self.keep_identity_files(&home);
        let (config, config_bytes) = match read_config(&home) {
            Ok(c) => {
                self.fixed(config::FILE);
                c
            }
            Err(e) => {
                self.report(
                    config::FILE,
                    format!("{e:#}; keeping the previous settings"),
                );
                (self.ctx.config(), Vec::new())
            }
        };
        self.ctx.set_config(config);
        self.reload_redaction_rules();
        let shares_file = JsonFile::new(home.join(shared::FILE));
        let shares = match shares_file.read() {
            Ok(map) => shared::parse(&map),
            Err(e) => {
                self.report(shared::FILE, format!("{e:#}; the shares stay as they were"));
                return;
            }
        };
        self.fixed(shared::FILE);
        // What the user changes (not the server session ids the daemon
        // itself records): a failed pair is tried again when this changes.
        let shares_text: String = shares
            .values()
            .map(|s| {
                format!(
                    "{}\0{}\0{:?}\0{:?}\0{:?}\0{:?}\0{:?}\n",
                    s.uuid,
                    s.file_path.display(),
                    s.servers,
                    s.shared_at,
                    s.server_shared_at,
                    s.ended_at,
                    s.project_path
                )
            })
            .collect();
        let generation = fingerprint(&[shares_text.as_bytes(), &config_bytes]);

        let mut desired: BTreeMap<Key, (PairSpec, Marks)> = BTreeMap::new();
        for share in shares.values() {
            for server in &share.servers {
                desired.insert(
                    (share.uuid.clone(), server.clone()),
                    (
                        PairSpec {
                            session: share.uuid.clone(),
                            server: server.clone(),
                            file: share.file_path.clone(),
                            server_session_id: share.server_sessions.get(server).cloned(),
                            project_path: share.project_path.clone(),
                        },
                        Marks {
                            stamp: share.stamp(server),
                            ended_at: share.ended_at.clone(),
                        },
                    ),
                );
            }
        }
        let abandoned = self.read_abandoned();

        // Pairs no longer shared: flush and complete (or stop at once when
        // `unshare --delete` asked to abandon them).
        let board = &self.ctx.board;
        self.workers.retain(|key, handle| {
            if desired.contains_key(key) {
                return true;
            }
            if handle.task.is_finished() {
                // A worker that had failed: `unshare` waits for this.
                board.update(&key.0, &key.1, |p| p.shared = false);
                return false;
            }
            let now = *handle.control.borrow();
            if now == Desired::Active {
                tracing::info!(session = %key.0, server = %key.1, "unshared; flushing and completing");
                let _ = handle.control.send(Desired::Finish);
            }
            if abandoned.contains(key) && !now.stops() {
                tracing::info!(session = %key.0, server = %key.1, "unshared to be deleted; stopping without flushing");
                let _ = handle.control.send(Desired::Abandon);
            }
            true
        });

        for (key, (spec, marks)) in desired {
            let restart = match self.workers.get(&key) {
                None => true,
                Some(h) => match h.outcome() {
                    // Stopping to follow a moved transcript: started again
                    // (from its cursor) once it has ended, which wakes us.
                    None if *h.control.borrow() == Desired::Shutdown => false,
                    None if h.file != spec.file => {
                        tracing::info!(session = %key.0, server = %key.1, file = %spec.file.display(),
                            "the transcript moved; restarting the pair on the new file");
                        let _ = h.control.send(Desired::Shutdown);
                        false
                    }
                    None => {
                        if *h.control.borrow() != Desired::Active {
                            tracing::info!(session = %key.0, server = %key.1, "shared again");
                            let _ = h.control.send(Desired::Active);
                        }
                        h.marks.send_if_modified(|m| {
                            let changed = *m != marks;
                            *m = marks.clone();
                            changed
                        });
                        false
                    }
                    Some(Outcome::Failed) => h.generation != generation,
                    Some(_) => true,
                },
            };
            if restart {
                self.spawn(key, spec, marks, generation);
            }
        }
    }

    /// Load `redact.json` again when it changed (also when it is missing,
    /// unreadable or invalid: each of those is a state of its own). A file
    /// that does not load is logged once per content and pauses every pair
    /// with redaction on (see `worker`), until it is fixed.
    fn reload_redaction_rules(&mut self) {
        let path = self.ctx.home.join(crate::redact::FILE);
        let content = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => b"\0missing".to_vec(),
            Err(e) => format!("\0unreadable: {e}").into_bytes(),
        };
        let generation = fingerprint(&[&content]);
        if self.redact_generation == Some(generation) {
            return;
        }
        let was_broken = self.ctx.redactor().is_err() && self.redact_generation.is_some();
        self.redact_generation = Some(generation);
        match self.ctx.reload_redactor() {
            Ok(()) if was_broken => {
                tracing::info!(path = %path.display(), "redaction rules load again; paused sessions resume")
            }
            Ok(()) => {}
            Err(e) => tracing::error!(
                "{e:#}; nothing is sent to servers with redaction on until it is fixed"
            ),
        }
    }

    /// The pairs `unshare --delete` asked to abandon (none when the file is
    /// missing or does not parse: then every unshare flushes first, which
    /// is the safe default).
    fn read_abandoned(&mut self) -> std::collections::BTreeSet<Key> {
        let file = JsonFile::new(self.ctx.home.join(shared::ABANDON_FILE));
        match file.read() {
            Ok(map) => {
                self.fixed(shared::ABANDON_FILE);
                shared::abandoned(&map)
            }
            Err(e) => {
                self.report(
                    shared::ABANDON_FILE,
                    format!("{e:#}; unshared sessions are flushed first"),
                );
                Default::default()
            }
        }
    }

    fn spawn(&mut self, key: Key, spec: PairSpec, marks: Marks, generation: u64) {
        tracing::info!(session = %key.0, server = %key.1, file = %spec.file.display(), "starting to stream");
        let (tx, rx) = watch::channel(Desired::Active);
        let (marks_tx, marks_rx) = watch::channel(marks);
        let outcome = Arc::new(Mutex::new(None));
        let wake = self.wake.clone();
        let file = spec.file.clone();
        let run = worker::run(self.ctx.clone(), spec, rx, marks_rx, outcome.clone());
        let task = tokio::spawn(async move {
            run.await;
            wake.notify_one();
        });
        self.workers.insert(
            key,
            Handle {
                control: tx,
                marks: marks_tx,
                task,
                outcome,
                generation,
                file,
            },
        );
    }

    /// Log an error about `file` once (not on every periodic re-check).
    /// The identities this machine shows servers must stay on disk: one
    /// removed while the daemon runs is written back (the next `share`
    /// would otherwise mint a new identity and lose control of the
    /// sessions shared so far).
    fn keep_identity_files(&mut self, home: &Path) {
        for name in [crate::client_id::FILE, crate::identity::FILE] {
            let path = home.join(name);
            match std::fs::read(&path) {
                Ok(bytes) if !bytes.is_empty() => {
                    self.identity_files.insert(name, bytes);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let Some(bytes) = self.identity_files.get(name).cloned() else {
                        continue;
                    };
                    match crate::state::write_atomic(&path, &bytes) {
                        Ok(()) => {
                            tracing::warn!(path = %path.display(), "removed while the daemon runs; written back");
                            self.fixed(name);
                        }
                        Err(e) => self.report(
                            name,
                            format!(
                                "{} is missing and cannot be written back: {e:#}",
                                path.display()
                            ),
                        ),
                    }
                }
                _ => {}
            }
        }
    }

    /// Say once what is wrong with `file` (in the log and in `daemon
    /// status`), until it is fixed.
    fn report(&mut self, file: &'static str, message: String) {
        if self.reported.get(file) != Some(&message) {
            tracing::error!("{message}");
            self.ctx.board.set_file_error(file, Some(message.clone()));
            self.reported.insert(file, message);
        }
    }

    fn fixed(&mut self, file: &'static str) {
        if self.reported.remove(file).is_some() {
            self.ctx.board.set_file_error(file, None);
        }
    }

    async fn shutdown(self) {
        for handle in self.workers.values() {
            let _ = handle.control.send(Desired::Shutdown);
        }
        let tasks: Vec<JoinHandle<()>> = self.workers.into_values().map(|h| h.task).collect();
        let all = futures_util::future::join_all(tasks);
        if tokio::time::timeout(SHUTDOWN_WAIT, all).await.is_err() {
            tracing::warn!("some sessions did not finish flushing in time");
        }
    }
}

fn read_config(home: &Path) -> anyhow::Result<(Config, Vec<u8>)> {
    let file = JsonFile::new(home.join(config::FILE));
    let map = file.read()?;
    let bytes = std::fs::read(file.path()).unwrap_or_default();
    // A known key with a wrong value is an error too: the caller keeps the
    // previous settings rather than falling back to defaults.
    Ok((Config::parse(map, file.path())?, bytes))
}

fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(b"\0") {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
