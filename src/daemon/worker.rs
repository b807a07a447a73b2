//! One task per (session, server) pair: check the repository allowlist,
//! create or resume the session on the server, then tail the transcript from
//! the durable cursor and deliver every message exactly once, following
//! CONTRACT.md §3 on failure. The transcript on disk is the buffer: nothing
//! is ever dropped, only malformed lines and messages the server rejects
//! one by one are skipped (counted and logged with their line numbers).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{watch, Notify};

use super::cursor::{self, Cursor};
use super::status::PairState;
use super::stream::{self, Features, Item};
use super::watch::Subscription;
use super::{agents, diff, tail, Ctx};
use crate::api_client::{ApiError, ServerApi};
use crate::repo::RepoIdentity;
use crate::transcript;
use crate::transcript::{AgentRef, Shapes, Title};
use crate::wire::{self, CompleteRequest, LiveRequest, Message, PatchRequest};

/// Re-check the transcript about this often even without a file event
/// (a fallback: notify reports changes at once).
const RECHECK: Duration = Duration::from_secs(30);
/// Wait this long after a file-modifying tool call before sending the diff.
const DIFF_DEBOUNCE: Duration = Duration::from_secs(2);
/// How long an in-flight request may finish once the daemon stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// While redact.json does not load, re-read the `redact` setting this often
/// (a reload of the rules wakes the pair at once).
const RULES_RECHECK: Duration = Duration::from_secs(2);

/// What reconcile wants from a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Desired {
    /// Stream.
    Active,
    /// The pair was unshared: flush what is pending, complete, exit.
    Finish,
    /// The daemon stops: send what can be sent quickly, exit.
    Shutdown,
    /// Unshared and about to be deleted on the server (`unshare --delete`
    /// did not want to wait for the flush): stop at once, send nothing more.
    Abandon,
}

impl Desired {
    /// Whether the worker must stop without flushing.
    pub fn stops(self) -> bool {
        matches!(self, Desired::Shutdown | Desired::Abandon)
    }
}

/// What the share entry says beyond "stream this" (see `shared::Share`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// Changes with every share of the session with this server: the CLI
    /// made the session live again on the server.
    pub stamp: Option<String>,
    /// Claude Code ended the session: complete it once everything is sent.
    pub ended_at: Option<String>,
}

/// How a worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Unshared, flushed and completed.
    Finished,
    /// Stopped for good; see the status.
    Failed,
    /// The daemon is stopping.
    Shutdown,
}

/// What a worker streams.
#[derive(Debug, Clone)]
pub struct PairSpec {
    pub session: String,
    pub server: String,
    pub file: PathBuf,
    /// The server session the CLI recorded when sharing, if any.
    pub server_session_id: Option<String>,
    /// The project directory the CLI recorded, for a transcript that does
    /// not name it yet.
    pub project_path: Option<String>,
}

/// Why an operation stopped early.
enum Stop {
    Fatal(String),
    /// The daemon stops, or the pair was abandoned.
    Shutdown,
    /// Unshared, and the session is gone on the server (deleted): nothing
    /// left to complete, and it must not be re-created.
    Gone,
}

/// Which event woke an idle worker.
enum Wake {
    File,
    Idle,
    Diff,
    Control,
    Marks,
}

struct Live {
    id: String,
    idempotent: bool,
}

/// What the redaction settings allow for this server right now.
enum Redaction {
    /// `redact` is off for this server: sent as is.
    Off,
    /// Redacted with these rules.
    On(Arc<crate::redact::Redactor>),
    /// Redaction is on but `redact.json` does not load (the error): nothing
    /// may be sent.
    Invalid(String),
}

struct Worker {
    ctx: Arc<Ctx>,
    spec: PairSpec,
    control: watch::Receiver<Desired>,
    marks: watch::Receiver<Marks>,
    /// The share stamp this worker has acted on.
    stamp: Option<String>,
    api: ServerApi,
    cursor: Cursor,
    live: Option<Live>,
    repo: Option<RepoIdentity>,
    cwd: Option<String>,
    model: Option<String>,
    title: Option<Title>,
    /// Messages the reference server already stored beyond our cursor.
    skip: u64,
    attempt: u32,
    last_activity: Instant,
    diff_due: Option<Instant>,
    last_diff: Option<u64>,
    changed: Arc<Notify>,
    sub: Subscription,
    project_sub: Option<Subscription>,
    /// The session's subagent transcripts, and the watches that notice
    /// them and their changes.
    agents: agents::Agents,
    agent_subs: Vec<Subscription>,
    agent_files: HashMap<String, Subscription>,
    /// Which transcript the batch being delivered comes from.
    source: Source,
}

/// The redactor a batch is sent with; None when redaction is off.
type SendWith = Option<Arc<crate::redact::Redactor>>;

/// The transcript a batch was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Main,
    Agent(String),
}

/// The longest remembered line read again to check that the transcript
/// was not rewritten.
const MAX_CHECKED_LINE: u64 = 1024 * 1024;

/// The longest wait a server's `Retry-After` gets.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// A message this small that a server refuses as too large (413) is not
/// too large: the refusal is taken as transient.
const MIN_TRUNCATED_BYTES: usize = 1024;

/// How often the call that started a subagent is looked for.
const MAX_PARENT_LOOKUPS: u32 = 3;

/// Run the pair until it is unshared, fails for good, or the daemon stops.
pub async fn run(
    ctx: Arc<Ctx>,
    spec: PairSpec,
    control: watch::Receiver<Desired>,
    marks: watch::Receiver<Marks>,
    outcome: Arc<Mutex<Option<Outcome>>>,
) {
    ctx.board.start_pair(&spec.session, &spec.server);
    let changed = Arc::new(Notify::new());
    let sub = ctx.files.subscribe(&spec.file, changed.clone());
    // A session shared before Claude Code wrote anything may have no
    // project directory yet: its creation wakes the pair too.
    let project_sub = spec
        .file
        .parent()
        .filter(|dir| !dir.exists())
        .map(|dir| ctx.files.subscribe_creation(dir, changed.clone()));
    let agents = agents::Agents::new(&spec.file, &spec.session);
    let agent_subs = agents
        .dirs()
        .iter()
        .map(|d| ctx.files.subscribe_dir(d, changed.clone()))
        .collect();
    let config = ctx.config();
    let api = match ctx.http.server(
        &spec.server,
        config.token(&spec.server).filter(|t| !t.is_empty()),
    ) {
        Ok(api) => api,
        Err(e) => {
            let reason = format!("no identity for this server: {e:#}");
            tracing::error!(session = %spec.session, server = %spec.server, "stopped streaming: {reason}");
            ctx.board.update(&spec.session, &spec.server, |p| {
                p.state = PairState::Failed;
                p.last_error = Some(reason);
            });
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(Outcome::Failed);
            }
            return;
        }
    };
    let mut worker = Worker {
        cursor: Cursor::new(&spec.session, &spec.server),
        ctx,
        spec,
        control,
        marks,
        stamp: None,
        api,
        live: None,
        repo: None,
        cwd: None,
        model: None,
        title: None,
        skip: 0,
        attempt: 0,
        last_activity: Instant::now(),
        diff_due: None,
        last_diff: None,
        changed,
        sub,
        project_sub,
        agents,
        agent_subs,
        agent_files: HashMap::new(),
        source: Source::Main,
    };
    let result = worker.run().await;
    let unshared = worker.unshared();
    let end = match result {
        Ok(o) => o,
        Err(Stop::Shutdown) if worker.desired() == Desired::Abandon => {
            tracing::info!(session = %worker.spec.session, server = %worker.spec.server,
                "unshared to be deleted; stopped without flushing");
            worker.status(|p| {
                p.shared = false;
                p.state = PairState::Complete;
                p.last_error = Some("stopped without flushing: unshared to be deleted".into());
            });
            Outcome::Finished
        }
        Err(Stop::Shutdown) => Outcome::Shutdown,
        Err(Stop::Gone) => {
            tracing::info!(session = %worker.spec.session, server = %worker.spec.server,
                "unshared and gone on the server (deleted); not re-creating it");
            worker.status(|p| {
                p.shared = false;
                p.state = PairState::Complete;
                p.last_error = Some("deleted on the server".into());
            });
            Outcome::Finished
        }
        Err(Stop::Fatal(reason)) => {
            tracing::error!(session = %worker.spec.session, server = %worker.spec.server, "stopped streaming: {reason}");
            worker.status(|p| {
                p.state = PairState::Failed;
                p.last_error = Some(reason);
                // Unshared meanwhile: `unshare` must not wait for more.
                p.shared = p.shared && !unshared;
            });
            Outcome::Failed
        }
    };
    if let Ok(mut slot) = outcome.lock() {
        *slot = Some(end);
    }
}

impl Worker {
    fn status(&self, f: impl FnOnce(&mut super::status::PairStatus)) {
        self.ctx
            .board
            .update(&self.spec.session, &self.spec.server, f);
    }

    fn desired(&self) -> Desired {
        *self.control.borrow()
    }

    /// The pair was removed from the shares (flushing, or abandoned).
    fn unshared(&self) -> bool {
        matches!(self.desired(), Desired::Finish | Desired::Abandon)
    }

    async fn run(&mut self) -> Result<Outcome, Stop> {
        if !self.prepare().await? {
            // Unshared before streaming ever started.
            self.status(|p| {
                p.shared = false;
                p.state = PairState::Complete;
            });
            return Ok(Outcome::Finished);
        }
        let marks = self.marks.borrow_and_update().clone();
        self.stamp = marks.stamp.clone();
        if self.still_complete() {
            self.resume_complete();
        } else {
            self.connect().await?;
        }
        loop {
            match self.desired() {
                Desired::Shutdown => {
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.pump()).await;
                    return Ok(Outcome::Shutdown);
                }
                Desired::Abandon => return Err(Stop::Shutdown),
                Desired::Finish => {
                    if self.finish().await? {
                        return Ok(Outcome::Finished);
                    }
                    continue;
                }
                Desired::Active => {}
            }
            self.pump().await?;
            self.patch_title().await?;
            self.apply_marks().await?;
            match self.wait().await {
                Wake::File | Wake::Control | Wake::Marks => {}
                Wake::Idle => self.complete_idle().await?,
                Wake::Diff => self.send_diff().await?,
            }
        }
    }

    /// Wait for the transcript to name its working directory, check the
    /// repository allowlist, load the cursor. False when unshared meanwhile.
    async fn prepare(&mut self) -> Result<bool, Stop> {
        let cwd = loop {
            if let Some(cwd) = transcript::first_cwd(&self.spec.file) {
                break cwd;
            }
            if let Some(dir) = self.recorded_project() {
                break dir;
            }
            let msg = format!(
                "waiting for {} to name its working directory",
                self.spec.file.display()
            );
            self.status(|p| p.last_error = Some(msg));
            loop {
                match self.wait_for_file().await {
                    Desired::Shutdown => return Err(Stop::Shutdown),
                    Desired::Finish | Desired::Abandon => return Ok(false),
                    Desired::Active => {}
                }
                if self.spec.file.exists() {
                    break;
                }
            }
        };
        let repo = crate::repo::identify(std::path::Path::new(&cwd)).map_err(|e| {
            Stop::Fatal(format!(
                "cannot identify the repository of {cwd}: {e}; nothing is sent"
            ))
        })?;
        if !self
            .ctx
            .config()
            .is_repo_allowed(&self.spec.server, &repo.id)
        {
            return Err(Stop::Fatal(format!(
                "repository {} is not allowed for {}; nothing is sent (run `openctl repo allow --server {}` in it, then share again)",
                repo.id, self.spec.server, self.spec.server
            )));
        }
        self.repo = Some(repo);
        self.cwd = Some(cwd);
        self.cursor = cursor::load(&self.ctx.home, &self.spec.session, &self.spec.server);
        self.check_cursor();
        // The title in effect for the whole file so far (the lines after
        // the cursor are seen again as they are delivered): a prompt read
        // after a restart must not pass for the first one.
        let file = self.spec.file.clone();
        if let Ok(Ok(summary)) =
            tokio::task::spawn_blocking(move || transcript::summarize(&file)).await
        {
            self.model = summary.model;
            self.title = summary.title;
        }
        self.last_activity = last_modified(&self.spec.file);
        self.publish_counters();
        Ok(true)
    }

    /// The project directory the share recorded, when it is the one the
    /// transcript's own directory name encodes (never a guess).
    fn recorded_project(&self) -> Option<String> {
        let dir = self
            .spec
            .project_path
            .as_deref()
            .filter(|d| !d.is_empty())?;
        let project = self.spec.file.parent()?.file_name()?.to_str()?;
        (crate::paths::encode_project_dir(dir) == project).then(|| dir.to_string())
    }

    /// Make sure the cursor still describes this file: same identity and
    /// the uuid it remembers still at the same place. Else start over
    /// (the server's idempotency makes resending safe).
    fn check_cursor(&mut self) {
        let c = &self.cursor;
        if c.offset == 0 {
            return;
        }
        let meta = std::fs::metadata(&self.spec.file).ok();
        let same_file = match (&meta, c.file_id) {
            (Some(m), Some(id)) => tail::FileId::of(m) == id && m.len() >= c.offset,
            _ => false,
        };
        if !(same_file && self.remembered_line_intact()) {
            tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                "transcript changed since the cursor was saved; re-reading it from the start");
            self.cursor.rewind();
        }
    }

    /// Whether the newest acknowledged line with a uuid is still where the
    /// cursor remembers it: a transcript rewritten in place, even into a
    /// longer one, is noticed by this, not by its size.
    fn remembered_line_intact(&self) -> bool {
        let c = &self.cursor;
        let Some(uuid) = &c.last_uuid else {
            return true;
        };
        if c.last_uuid_end.saturating_sub(c.last_uuid_start) > MAX_CHECKED_LINE {
            // Too costly to re-read on every change; size and identity
            // checks still apply.
            return true;
        }
        tail::line_at(&self.spec.file, c.last_uuid_start, c.last_uuid_end)
            .ok()
            .flatten()
            .and_then(|l| serde_json::from_slice::<serde_json::Value>(&l).ok())
            .and_then(|v| v.get("uuid").and_then(|u| u.as_str()).map(str::to_string))
            .is_some_and(|u| u == *uuid)
    }

    /// POST /live until it succeeds (transient failures retried forever).
    async fn connect(&mut self) -> Result<(), Stop> {
        loop {
            let title = match &self.title {
                Some(t) if self.cursor.title_sent => t.text().to_string(),
                _ => wire::DEFAULT_TITLE.to_string(),
            };
            let req = LiveRequest {
                // While the rules do not load, the default title (a resumed
                // session keeps the title it has).
                title: self
                    .redact_text(title)
                    .map_or_else(|| wire::DEFAULT_TITLE.to_string(), |(t, _)| t),
                harness_session_id: self.spec.session.clone(),
                harness: wire::HARNESS_CLAUDE_CODE.to_string(),
                project_path: self.cwd.clone(),
                model: self.model.clone(),
                repo_url: self.repo.as_ref().and_then(|r| r.https_url.clone()),
                interactive: Some(false),
            };
            let res = with_shutdown(&mut self.control, self.api.create_live(&req)).await?;
            match res {
                Ok(live) => {
                    self.check_not_recreated(&live.response.id).await?;
                    self.apply_live(live);
                    return Ok(());
                }
                Err(e) if e.is_transient() => self.backoff(&e).await?,
                Err(e) => return Err(Stop::Fatal(format!("cannot create the session: {e}"))),
            }
        }
    }

    /// What this pair's server takes beyond the reference shapes: asked
    /// once per server (`GET /api/health`; a server without it, like the
    /// reference server, takes the reference shapes only). Unreachable:
    /// retried like any request.
    async fn features(&mut self) -> Result<Features, Stop> {
        if let Some(known) = self.ctx.known_features(&self.spec.server) {
            return Ok(known);
        }
        let features = loop {
            match with_shutdown(&mut self.control, self.api.health()).await? {
                Ok(health) => break Features::of(&health.features),
                Err(e @ ApiError::Unreachable { .. }) => self.backoff(&e).await?,
                Err(e) if e.status().is_some() && e.is_transient() => self.backoff(&e).await?,
                Err(_) => break Features::default(),
            }
        };
        self.ctx.learn_features(&self.spec.server, features);
        Ok(features)
    }

    /// After an unshare, a `/live` that answers with another session than
    /// the one we knew has just re-created a session that was deleted (e.g.
    /// by `unshare --delete`): delete it again and stop.
    async fn check_not_recreated(&mut self, id: &str) -> Result<(), Stop> {
        if !self.unshared() {
            return Ok(());
        }
        let known = self
            .cursor
            .server_session_id
            .clone()
            .or_else(|| self.spec.server_session_id.clone())
            .filter(|k| !k.is_empty());
        if known.is_none_or(|k| k == id) {
            return Ok(());
        }
        tracing::warn!(session = %self.spec.session, server = %self.spec.server, id,
            "unshared while gone on the server; removing the session just re-created");
        // Even when abandoned: this one is ours to remove (bounded).
        let failed = match tokio::time::timeout(SHUTDOWN_GRACE, self.api.delete(id)).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("no answer within {SHUTDOWN_GRACE:?}")),
        };
        if let Some(e) = failed {
            tracing::warn!(session = %self.spec.session, server = %self.spec.server, id,
                "cannot remove the re-created session: {e}");
        }
        Err(Stop::Gone)
    }

    /// At start: the session was completed (idle or ended) under the same
    /// share stamp and nothing was written since, so it stays complete on
    /// the server instead of being restored until the next idle timeout.
    fn still_complete(&self) -> bool {
        let c = &self.cursor;
        c.completed
            && c.completed_stamp.is_some()
            && c.completed_stamp == self.stamp
            && c.server_session_id
                .as_deref()
                .is_some_and(|id| !id.is_empty())
            && std::fs::metadata(&self.spec.file).is_ok_and(|m| m.len() <= c.offset)
    }

    /// Report a [`Self::still_complete`] pair as it is: complete, with its
    /// server session. New lines (or a re-share) make it live again.
    fn resume_complete(&mut self) {
        tracing::info!(session = %self.spec.session, server = %self.spec.server,
            "complete, and nothing new since; leaving it complete");
        let (id, url) = (
            self.cursor.server_session_id.clone(),
            self.cursor.url.clone(),
        );
        self.status(|p| {
            p.server_session_id = id;
            p.url = url;
            p.state = PairState::Complete;
            p.last_error = None;
        });
    }

    /// Act on what the share entry says (see [`Marks`]); called with the
    /// transcript sent up to its end.
    async fn apply_marks(&mut self) -> Result<(), Stop> {
        let marks = self.marks.borrow_and_update().clone();
        if marks.stamp != self.stamp {
            self.stamp = marks.stamp.clone();
            // Shared again: the CLI made the session live on the server.
            // It completes again after the idle timeout from now.
            self.last_activity = Instant::now();
            if self.cursor.completed || self.live.is_none() {
                tracing::info!(session = %self.spec.session, server = %self.spec.server,
                    "shared again; the session is live again");
                self.connect().await?;
            }
        }
        let Some(ended) = marks.ended_at else {
            return Ok(());
        };
        if self.cursor.ended.as_deref() == Some(ended.as_str()) {
            return Ok(());
        }
        if !self.cursor.completed {
            tracing::info!(session = %self.spec.session, server = %self.spec.server,
                "Claude Code ended the session and everything is sent; completing it");
            self.complete().await?;
        }
        self.cursor.ended = Some(ended);
        self.save_cursor();
        Ok(())
    }

    fn apply_live(&mut self, live: crate::api_client::Live) {
        let id = live.response.id.clone();
        if self.cursor.server_session_id.as_deref() != Some(id.as_str()) {
            if self.cursor.server_session_id.is_some() {
                tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                    new_id = %id, "the server session changed; sending the transcript from the start");
            }
            if self.spec.server_session_id.as_deref() != Some(id.as_str()) {
                // The share names the session that exists now (an unshare
                // --delete must delete this one).
                if let Err(e) =
                    crate::shared::record_server_session(&self.spec.session, &self.spec.server, &id)
                {
                    tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                        "cannot record the new server session in shared-sessions.json: {e:#}");
                }
            }
            self.cursor.rewind();
            self.cursor.server_count = 0;
            self.cursor.title_sent = false;
            self.cursor.sent_title = None;
            self.cursor.server_session_id = Some(id.clone());
            // Everything is sent again to the new session: count afresh, or
            // `daemon status` would report each message twice.
            self.cursor.messages_sent = 0;
            self.cursor.lines_skipped = 0;
            self.cursor.redactions = 0;
            self.publish_counters();
        }
        self.skip = 0;
        if !live.idempotent {
            let extra = live.response.message_count - self.cursor.server_count;
            if extra > 0 {
                tracing::info!(session = %self.spec.session, server = %self.spec.server,
                    "server already holds {extra} messages past the cursor; not resending them");
                self.skip = extra as u64;
            }
        }
        self.cursor.url = Some(live.url.clone());
        self.cursor.completed = false;
        self.save_cursor();
        self.live = Some(Live {
            id: id.clone(),
            idempotent: live.idempotent,
        });
        self.attempt = 0;
        tracing::info!(session = %self.spec.session, server = %self.spec.server, id = %id,
            resumed = live.response.resumed, restored = live.response.restored, "streaming");
        let url = live.url;
        self.status(|p| {
            p.server_session_id = Some(id);
            p.url = Some(url);
            p.state = PairState::Streaming;
            p.last_error = None;
            p.server_unavailable = false;
        });
    }

    fn save_cursor(&self) {
        if let Err(e) = cursor::save(&self.ctx.home, &self.cursor) {
            tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                "cannot save the cursor (will resend after a restart): {e:#}");
        }
    }

    fn publish_counters(&self) {
        let c = &self.cursor;
        let (sent, skipped, redactions) = (c.messages_sent, c.lines_skipped, c.redactions);
        let repaired = c.lines_repaired;
        let lag = std::fs::metadata(&self.spec.file)
            .map(|m| m.len().saturating_sub(c.offset))
            .unwrap_or(0);
        self.status(|p| {
            p.messages_sent = sent;
            p.lines_skipped = skipped;
            p.lines_repaired = repaired;
            p.redactions = redactions;
            p.lag_bytes = lag;
        });
    }

    /// Read the transcript again from its start; a server without uuid
    /// idempotency is not sent again what it already counts.
    fn rewind(&mut self) {
        self.cursor.rewind();
        if self.live.as_ref().is_some_and(|l| !l.idempotent) {
            self.skip = self.cursor.server_count.max(0) as u64;
        }
    }

    /// Read and deliver everything complete in the transcript.
    async fn pump(&mut self) -> Result<(), Stop> {
        if self.cursor.offset > 0 && !self.remembered_line_intact() {
            tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                "the transcript was rewritten; re-reading it from the start");
            self.rewind();
        }
        loop {
            let chunk = match tail::read_lines(
                &self.spec.file,
                self.cursor.position(),
                stream::MAX_BATCH_LINES,
                stream::MAX_BATCH_BYTES,
            ) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(path = %self.spec.file.display(), "cannot read the transcript: {e}");
                    return Ok(());
                }
            };
            if chunk.reset {
                tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                    "the transcript was truncated or replaced; re-reading it from the start");
                self.rewind();
            }
            if self.cursor.file_id != chunk.id {
                self.cursor.file_id = chunk.id;
                self.save_cursor();
            }
            if chunk.lines.is_empty() {
                self.publish_counters();
                return self.pump_agents().await;
            }
            let Some(redactor) = self.ready_to_send().await? else {
                return Ok(());
            };
            let shapes = self.features().await?.shapes;
            let items = stream::parse(chunk.lines, shapes, &self.spec.session);
            self.deliver(items, redactor).await?;
        }
    }

    /// New lines are about to be sent: the session is active, the server
    /// session live. The redactor to send with (None when redaction is
    /// off for this server); None when nothing may be sent (unshared while
    /// the rules do not load).
    async fn ready_to_send(&mut self) -> Result<Option<SendWith>, Stop> {
        self.last_activity = Instant::now();
        let redactor = match self.rules_for_sending().await? {
            Redaction::Off => None,
            Redaction::On(r) => Some(r),
            Redaction::Invalid(_) => return Ok(None),
        };
        if self.cursor.completed || self.live.is_none() {
            self.connect().await?;
        }
        Ok(Some(redactor))
    }

    /// Read and deliver what is new in the session's subagent transcripts,
    /// for a server that takes them.
    async fn pump_agents(&mut self) -> Result<(), Stop> {
        if self.live.is_none() && self.cursor.offset == 0 {
            // The session itself has sent nothing yet.
            return Ok(());
        }
        let features = self.features().await?;
        if !features.subagents {
            return Ok(());
        }
        self.agent_subs.iter_mut().for_each(|s| {
            s.ensure_watching();
        });
        for (id, path) in self.agents.discover() {
            if !self.agent_files.contains_key(&id) {
                let sub = self.ctx.files.subscribe(&path, self.changed.clone());
                self.agent_files.insert(id.clone(), sub);
            }
            let result = self.pump_agent(&id, &path, features.shapes).await;
            self.source = Source::Main;
            result?;
        }
        Ok(())
    }

    async fn pump_agent(
        &mut self,
        id: &str,
        path: &std::path::Path,
        shapes: Shapes,
    ) -> Result<(), Stop> {
        loop {
            let at = self.cursor.agents.get(id).cloned().unwrap_or_default();
            let chunk = match tail::read_lines(
                path,
                at.position(),
                stream::MAX_BATCH_LINES,
                stream::MAX_BATCH_BYTES,
            ) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(path = %path.display(), "cannot read the subagent transcript: {e}");
                    return Ok(());
                }
            };
            let entry = self.cursor.agents.entry(id.to_string()).or_default();
            if chunk.reset {
                entry.offset = 0;
                entry.line_no = 0;
            }
            entry.file_id = chunk.id;
            if chunk.lines.is_empty() {
                return Ok(());
            }
            if entry.parent_tool_use_id.is_none() && entry.parent_lookups < MAX_PARENT_LOOKUPS {
                entry.parent_lookups += 1;
                let (main, agent) = (self.spec.file.clone(), path.to_path_buf());
                let found = tokio::task::spawn_blocking(move || agents::parent_call(&main, &agent))
                    .await
                    .ok()
                    .flatten();
                if let Some(entry) = self.cursor.agents.get_mut(id) {
                    entry.parent_tool_use_id = found;
                }
            }
            let agent = AgentRef {
                agent_id: id.to_string(),
                parent_tool_use_id: self
                    .cursor
                    .agents
                    .get(id)
                    .and_then(|a| a.parent_tool_use_id.clone()),
            };
            let Some(redactor) = self.ready_to_send().await? else {
                return Ok(());
            };
            let items = stream::parse_agent(chunk.lines, shapes, &agent, &self.spec.session);
            self.source = Source::Agent(id.to_string());
            self.deliver(items, redactor).await?;
        }
    }

    /// Deliver one batch, splitting it as the server's answers require.
    async fn deliver(
        &mut self,
        mut items: Vec<Item>,
        redactor: Option<Arc<crate::redact::Redactor>>,
    ) -> Result<(), Stop> {
        for item in &items {
            if let Some(t) = &item.title {
                if t.replaces(self.title.as_ref()) {
                    self.title = Some(t.clone());
                }
            }
            if !item.modified.is_empty() {
                self.diff_due = Some(Instant::now() + DIFF_DEBOUNCE);
            }
        }
        let mut redactions = 0;
        for item in &mut items {
            if let Some(m) = item.msg.take() {
                let (m, n) = stream::prepare_for_send(m, redactor.as_deref());
                redactions += n;
                item.msg = Some(m);
            }
        }
        self.cursor.redactions += redactions;
        if redactions > 0 {
            // Counts only: never what was redacted.
            tracing::info!(session = %self.spec.session, server = %self.spec.server,
                redactions, total = self.cursor.redactions, "secrets redacted before sending");
        }
        let mut queue: VecDeque<(usize, usize)> = VecDeque::from([(0, items.len())]);
        while let Some((lo, hi)) = queue.pop_front() {
            self.skip_stored(&mut items[lo..hi]);
            let idx: Vec<usize> = (lo..hi).filter(|&i| items[i].msg.is_some()).collect();
            if idx.is_empty() {
                self.advance(&items[lo..hi], None);
                continue;
            }
            let body = {
                let msgs: Vec<&Message> =
                    idx.iter().filter_map(|&i| items[i].msg.as_ref()).collect();
                stream::encode(&msgs)
            };
            if body.len() > stream::MAX_BODY_BYTES {
                if idx.len() > 1 {
                    let mid = idx[idx.len() / 2];
                    queue.push_front((mid, hi));
                    queue.push_front((lo, mid));
                } else {
                    self.shrink(&mut items[idx[0]], stream::MAX_BODY_BYTES / 2);
                    queue.push_front((lo, hi));
                }
                continue;
            }
            let Some(id) = self.live.as_ref().map(|l| l.id.clone()) else {
                self.connect().await?;
                queue.push_front((lo, hi));
                continue;
            };
            let res = with_shutdown(&mut self.control, self.api.append_json(&id, body)).await?;
            match res {
                Ok(resp) => {
                    self.attempt = 0;
                    self.advance(&items[lo..hi], Some(resp.message_count));
                    self.status(|p| {
                        p.server_unavailable = false;
                        if p.state == PairState::Retrying {
                            p.state = PairState::Streaming;
                            p.last_error = None;
                        }
                    });
                }
                Err(e) => {
                    match e.status() {
                        Some(400) if idx.len() > 1 => {
                            let mid = idx[idx.len() / 2];
                            queue.push_front((mid, hi));
                            queue.push_front((lo, mid));
                        }
                        Some(400) => {
                            let bad = &mut items[idx[0]];
                            tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                            line = bad.line_no, "the server rejected the message on line {}; skipped: {e}", bad.line_no);
                            bad.msg = None;
                            bad.malformed = true;
                            self.status(|p| {
                                p.last_error = Some(format!("line {} rejected: {e}", bad.line_no))
                            });
                            queue.push_front((lo, hi));
                        }
                        Some(413) if idx.len() > 1 => {
                            let mid = idx[idx.len() / 2];
                            queue.push_front((mid, hi));
                            queue.push_front((lo, mid));
                        }
                        Some(413) => {
                            let size = serde_json::to_vec(&items[idx[0]].msg)
                                .map(|v| v.len())
                                .unwrap_or(0);
                            if size <= MIN_TRUNCATED_BYTES {
                                // Too small to be too large: a proxy or a
                                // server in trouble. Wait and retry as for
                                // 5xx; the line is never skipped.
                                self.backoff(&e).await?;
                            } else {
                                self.shrink(&mut items[idx[0]], size / 2);
                            }
                            queue.push_front((lo, hi));
                        }
                        Some(409) => {
                            tracing::info!(session = %self.spec.session, server = %self.spec.server,
                            "session not live on the server (409); restoring it");
                            self.connect().await?;
                            queue.push_front((lo, hi));
                        }
                        Some(404) if self.unshared() => {
                            // Unshared (maybe to be deleted): never re-create.
                            return Err(Stop::Gone);
                        }
                        Some(404) => {
                            tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                            "session gone on the server (404); re-creating it and resending from the start");
                            self.cursor.server_session_id = Some(String::new());
                            self.live = None;
                            self.connect().await?;
                            return Ok(());
                        }
                        Some(401) | Some(403) => {
                            return Err(Stop::Fatal(format!(
                                "the server refused our identity: {e}"
                            )))
                        }
                        _ => {
                            self.backoff(&e).await?;
                            if self.live.as_ref().is_some_and(|l| !l.idempotent) {
                                // The batch may have been stored: ask how many
                                // messages the server holds before resending.
                                self.connect().await?;
                            }
                            queue.push_front((lo, hi));
                        }
                    }
                }
            }
        }
        self.publish_counters();
        Ok(())
    }

    /// Drop the first messages the reference server already stored.
    fn skip_stored(&mut self, items: &mut [Item]) {
        for item in items.iter_mut() {
            if self.skip == 0 {
                return;
            }
            if item.msg.take().is_some() {
                self.skip -= 1;
                self.cursor.server_count += 1;
                self.cursor.messages_sent += 1;
            }
        }
    }

    fn shrink(&self, item: &mut Item, budget: usize) {
        if let Some(m) = &item.msg {
            tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                line = item.line_no, "message on line {} is too large; truncating it", item.line_no);
            item.msg = Some(stream::truncate_message(m, budget));
        }
    }

    /// The server acknowledged `items`: move the cursor past them.
    fn advance(&mut self, items: &[Item], server_count: Option<i64>) {
        let Some(last) = items.last() else {
            return;
        };
        for item in items {
            if item.repaired && item.msg.is_some() {
                self.cursor.lines_repaired += 1;
                tracing::warn!(session = %self.spec.session, line = item.line_no,
                    "line {} holds bytes that are not text; sent with U+FFFD in their place", item.line_no);
            }
            if item.malformed {
                self.cursor.lines_skipped += 1;
                if item.msg.is_none() {
                    tracing::warn!(session = %self.spec.session, path = %self.spec.file.display(),
                        line = item.line_no, "skipped line {} (not valid JSON, or rejected)", item.line_no);
                }
            } else if item.msg.is_some() {
                self.cursor.messages_sent += 1;
            }
            if let (Some(uuid), Source::Main) = (&item.uuid, &self.source) {
                self.cursor.last_uuid = Some(uuid.clone());
                self.cursor.last_uuid_start = item.start;
                self.cursor.last_uuid_end = item.end;
            }
            for path in &item.modified {
                self.cursor.touch(path.clone());
            }
        }
        match &self.source {
            Source::Main => {
                self.cursor.offset = last.end;
                self.cursor.line_no = last.line_no;
            }
            Source::Agent(id) => {
                let at = self.cursor.agents.entry(id.clone()).or_default();
                at.offset = last.end;
                at.line_no = last.line_no;
            }
        }
        if let Some(count) = server_count {
            self.cursor.server_count = count;
        }
        self.save_cursor();
        self.publish_counters();
    }

    /// Record a transient failure and wait (full jitter) before retrying.
    async fn backoff(&mut self, err: &ApiError) -> Result<(), Stop> {
        self.attempt = self.attempt.saturating_add(1);
        // A server that says when to come back is believed, within bounds.
        let delay = match err.retry_after() {
            Some(asked) => asked.clamp(stream::MIN_BACKOFF, MAX_RETRY_AFTER),
            None => stream::backoff(self.attempt),
        };
        tracing::warn!(session = %self.spec.session, server = %self.spec.server,
            attempt = self.attempt, "{err}; retrying in {delay:?}");
        let text = err.to_string();
        let unavailable = err.is_transient();
        self.status(|p| {
            p.state = PairState::Retrying;
            p.last_error = Some(text);
            p.server_unavailable = unavailable;
        });
        // The lag shown while retrying includes what was written meanwhile.
        self.publish_counters();
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return Ok(()),
                r = self.control.changed() => {
                    if r.is_err() || self.control.borrow().stops() {
                        return Err(Stop::Shutdown);
                    }
                }
            }
        }
    }

    /// What redaction allows for this server (the `redact` setting is read
    /// at every batch, so `openctl config set redact` applies at once).
    fn redaction(&self) -> Redaction {
        if !self.ctx.config().redact(&self.spec.server) {
            return Redaction::Off;
        }
        match self.ctx.redactor() {
            Ok(r) => Redaction::On(r),
            Err(e) => Redaction::Invalid(e),
        }
    }

    /// The rules for the next batch. Fails closed: while redaction is on
    /// and redact.json does not load, nothing is sent; the pair shows the
    /// error (state retrying) and waits until the file is fixed, redaction
    /// is turned off for this server, or the daemon stops. What is unsent
    /// stays in the transcript and follows from the cursor. `Invalid` only
    /// when the pair was unshared meanwhile: then nothing more is sent.
    async fn rules_for_sending(&mut self) -> Result<Redaction, Stop> {
        let mut changes = self.ctx.redactor_changes();
        let mut paused_from: Option<PairState> = None;
        let mut shown: Option<String> = None;
        loop {
            let rules = self.redaction();
            let Redaction::Invalid(error) = &rules else {
                if let Some(state) = paused_from {
                    tracing::info!(session = %self.spec.session, server = %self.spec.server,
                        "the redaction rules load again; sending resumes");
                    self.status(|p| {
                        p.state = state;
                        p.last_error = None;
                    });
                }
                return Ok(rules);
            };
            match self.desired() {
                Desired::Shutdown | Desired::Abandon => return Err(Stop::Shutdown),
                Desired::Finish => {
                    tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                        "unshared while the redaction rules do not load: the lines not sent yet stay unsent");
                    return Ok(rules);
                }
                Desired::Active => {}
            }
            if shown.as_deref() != Some(error.as_str()) {
                tracing::warn!(session = %self.spec.session, server = %self.spec.server,
                    "sending paused: {error}");
                let shown = shown.insert(error.clone()).clone();
                let mut before = PairState::Streaming;
                self.status(|p| {
                    before = p.state;
                    p.state = PairState::Retrying;
                    p.last_error = Some(shown);
                    p.server_unavailable = false;
                });
                paused_from.get_or_insert(before);
                self.publish_counters();
            }
            tokio::select! {
                r = changes.changed() => if r.is_err() { return Err(Stop::Shutdown) },
                r = self.control.changed() => if r.is_err() { return Err(Stop::Shutdown) },
                _ = tokio::time::sleep(RULES_RECHECK) => {}
            }
        }
    }

    /// A title or diff as it may leave the machine, and how many secrets
    /// were replaced; None while the rules do not load (it must not be sent).
    fn redact_text(&self, mut text: String) -> Option<(String, u64)> {
        match self.redaction() {
            Redaction::Off => Some((text, 0)),
            Redaction::On(r) => {
                let n = r.redact_string(&mut text, "").len() as u64;
                Some((text, n))
            }
            Redaction::Invalid(_) => None,
        }
    }

    /// Add the redactions of a title or diff the server accepted to the
    /// pair's count (shown by `daemon status`), and log the number.
    fn count_redactions(&mut self, n: u64, what: &str) {
        if n == 0 {
            return;
        }
        self.cursor.redactions += n;
        // Counts only: never what was redacted.
        tracing::info!(session = %self.spec.session, server = %self.spec.server,
            redactions = n, total = self.cursor.redactions, "secrets redacted from the {what}");
        self.save_cursor();
        self.publish_counters();
    }

    /// PATCH the title when the server does not have it yet: the first
    /// prompt's, then each rename (`custom-title`) or title Claude Code gives
    /// the session (`ai-title`).
    async fn patch_title(&mut self) -> Result<(), Stop> {
        let (Some(title), Some(live)) = (&self.title, &self.live) else {
            return Ok(());
        };
        let title = title.text().to_string();
        let known = match &self.cursor.sent_title {
            Some(sent) => *sent == title,
            // A cursor from before renames were followed: its title was
            // the first prompt's, which a derived title never replaces.
            None => self.cursor.title_sent && matches!(self.title, Some(Title::Prompt(_))),
        };
        if known {
            return Ok(());
        }
        let Some((redacted, redactions)) = self.redact_text(title.clone()) else {
            // The rules do not load: sent once they do.
            return Ok(());
        };
        let req = PatchRequest {
            title: Some(redacted),
            description: None,
        };
        let id = live.id.clone();
        match with_shutdown(&mut self.control, self.api.patch(&id, &req)).await? {
            Ok(_) => {
                self.cursor.title_sent = true;
                self.cursor.sent_title = Some(title);
                self.save_cursor();
                self.count_redactions(redactions, "title");
            }
            Err(e) if e.is_transient() => {
                tracing::debug!("title not set yet: {e}");
            }
            Err(e) => {
                tracing::warn!(session = %self.spec.session, server = %self.spec.server, "cannot set the title: {e}");
                self.cursor.title_sent = true;
                self.cursor.sent_title = Some(title);
                self.save_cursor();
            }
        }
        Ok(())
    }

    /// Sleep until the file changes, a periodic re-check, the idle timeout,
    /// a due diff, or a control change.
    async fn wait(&mut self) -> Wake {
        // An unshare (or stop) seen while a request was in flight is
        // already marked seen: act on it now, not at the next event.
        if self.desired() != Desired::Active {
            return Wake::Control;
        }
        let idle_after = Duration::from_secs(self.ctx.config().idle_timeout_secs());
        let idle_at = (!self.cursor.completed && self.live.is_some())
            .then(|| self.last_activity + idle_after);
        let far = Instant::now() + Duration::from_secs(86_400);
        let diff_at = self.diff_due;
        let changed = self.changed.clone();
        tokio::select! {
            _ = changed.notified() => {
                self.watch_new_dirs();
                Wake::File
            }
            _ = tokio::time::sleep(recheck()) => {
                self.sub.ensure_watching();
                Wake::File
            }
            _ = tokio::time::sleep_until(idle_at.unwrap_or(far).into()), if idle_at.is_some() => Wake::Idle,
            _ = tokio::time::sleep_until(diff_at.unwrap_or(far).into()), if diff_at.is_some() => Wake::Diff,
            _ = self.control.changed() => Wake::Control,
            Ok(()) = self.marks.changed() => Wake::Marks,
        }
    }

    /// A directory that was missing may exist now: watch it.
    fn watch_new_dirs(&mut self) {
        if self.sub.ensure_watching() {
            self.project_sub = None;
        }
    }

    /// Before streaming starts: wait for a file change or a control change.
    async fn wait_for_file(&mut self) -> Desired {
        let changed = self.changed.clone();
        tokio::select! {
            _ = changed.notified() => self.watch_new_dirs(),
            _ = tokio::time::sleep(recheck()) => { self.sub.ensure_watching(); }
            r = self.control.changed() => if r.is_err() { return Desired::Shutdown; },
        }
        self.desired()
    }

    async fn send_diff(&mut self) -> Result<(), Stop> {
        self.diff_due = None;
        let Some(diff) = self.compute_diff().await else {
            return Ok(());
        };
        let hash = fnv(&diff);
        if self.last_diff == Some(hash) {
            return Ok(());
        }
        let Some(id) = self.live.as_ref().map(|l| l.id.clone()) else {
            return Ok(());
        };
        let Some((diff, redactions)) = self.redact_text(diff) else {
            // The rules do not load: try again later.
            self.diff_due = Some(Instant::now() + RULES_RECHECK);
            return Ok(());
        };
        match with_shutdown(&mut self.control, self.api.put_diff(&id, diff)).await? {
            Ok(_) => {
                self.last_diff = Some(hash);
                self.count_redactions(redactions, "diff");
            }
            Err(e) => {
                tracing::warn!(session = %self.spec.session, server = %self.spec.server, "cannot send the diff: {e}");
                if e.is_transient() {
                    self.diff_due = Some(Instant::now() + stream::backoff(4));
                }
            }
        }
        Ok(())
    }

    async fn compute_diff(&self) -> Option<String> {
        let root = self.repo.as_ref()?.root.clone();
        let touched = self.cursor.touched.clone();
        match tokio::task::spawn_blocking(move || diff::working_tree_diff(&root, &touched)).await {
            Ok(Ok(d)) => Some(d),
            Ok(Err(e)) => {
                tracing::warn!(session = %self.spec.session, "cannot compute the diff: {e:#}");
                None
            }
            Err(_) => None,
        }
    }

    /// POST complete (with the final diff), retrying transient failures.
    async fn complete(&mut self) -> Result<(), Stop> {
        let Some(id) = self.live.as_ref().map(|l| l.id.clone()) else {
            return Ok(());
        };
        // Without a diff while the rules do not load.
        let final_diff = self
            .compute_diff()
            .await
            .filter(|d| !d.is_empty())
            .and_then(|d| {
                let fresh = self.last_diff != Some(fnv(&d));
                self.redact_text(d)
                    .map(|(d, n)| (d, if fresh { n } else { 0 }))
            });
        let redactions = final_diff.as_ref().map_or(0, |(_, n)| *n);
        let req = CompleteRequest {
            final_diff: final_diff.map(|(d, _)| d),
            summary: None,
        };
        loop {
            match with_shutdown(&mut self.control, self.api.complete(&id, &req)).await? {
                Ok(_) => {
                    self.count_redactions(redactions, "final diff");
                    break;
                }
                Err(e) if e.is_transient() => self.backoff(&e).await?,
                Err(e) if e.status() == Some(404) => break,
                Err(e) if matches!(e.status(), Some(401 | 403)) => {
                    return Err(Stop::Fatal(format!("the server refused our identity: {e}")))
                }
                Err(e) => {
                    tracing::warn!(session = %self.spec.session, server = %self.spec.server, "cannot complete: {e}");
                    break;
                }
            }
        }
        self.cursor.completed = true;
        self.cursor.completed_stamp = self.stamp.clone();
        self.save_cursor();
        tracing::info!(session = %self.spec.session, server = %self.spec.server, "completed");
        self.status(|p| {
            p.state = PairState::Complete;
            p.last_error = None;
        });
        Ok(())
    }

    async fn complete_idle(&mut self) -> Result<(), Stop> {
        self.pump().await?;
        let idle_after = Duration::from_secs(self.ctx.config().idle_timeout_secs());
        if self.last_activity.elapsed() < idle_after || self.cursor.completed {
            return Ok(());
        }
        tracing::info!(session = %self.spec.session, server = %self.spec.server,
            "no new lines for {}s; marking the session complete", idle_after.as_secs());
        self.complete().await
    }

    /// Unshared: flush, complete, and report. False when the pair was
    /// shared again meanwhile (keep streaming).
    async fn finish(&mut self) -> Result<bool, Stop> {
        self.pump().await?;
        if self.desired() == Desired::Active {
            return Ok(false);
        }
        if !self.cursor.completed {
            self.complete().await?;
        }
        // Completed by the unshare: sharing again must make it live again.
        self.cursor.completed_stamp = None;
        self.save_cursor();
        if self.desired() == Desired::Active {
            self.ctx
                .board
                .start_pair(&self.spec.session, &self.spec.server);
            self.connect().await?;
            return Ok(false);
        }
        // Lines left unsent (redaction rules that do not load hold them
        // back): completed, but the report must say what is missing.
        let unsent = std::fs::metadata(&self.spec.file)
            .map(|m| m.len().saturating_sub(self.cursor.offset))
            .unwrap_or(0);
        let missing = match self.redaction() {
            Redaction::Invalid(error) if unsent > 0 => Some(format!(
                "{unsent} bytes of the transcript were not sent: {error}"
            )),
            _ => None,
        };
        self.status(|p| {
            p.shared = false;
            p.state = PairState::Complete;
            p.lag_bytes = unsent;
            p.last_error = missing;
        });
        Ok(true)
    }
}

/// Await `fut`, but once the daemon is told to stop (or the pair to be
/// abandoned) give it only [`SHUTDOWN_GRACE`] more; abandoned before it
/// starts, it is not sent at all.
async fn with_shutdown<F: std::future::Future>(
    control: &mut watch::Receiver<Desired>,
    fut: F,
) -> Result<F::Output, Stop> {
    tokio::pin!(fut);
    let desired = *control.borrow();
    match desired {
        // Abandoned: send nothing more.
        Desired::Abandon => return Err(Stop::Shutdown),
        Desired::Shutdown => {
            return tokio::time::timeout(SHUTDOWN_GRACE, fut)
                .await
                .map_err(|_| Stop::Shutdown)
        }
        Desired::Active | Desired::Finish => {}
    }
    loop {
        tokio::select! {
            out = &mut fut => return Ok(out),
            r = control.changed() => {
                if r.is_err() || control.borrow().stops() {
                    return tokio::time::timeout(SHUTDOWN_GRACE, &mut fut)
                        .await
                        .map_err(|_| Stop::Shutdown);
                }
            }
        }
    }
}

/// The periodic re-check interval, jittered so many workers do not wake
/// together.
fn recheck() -> Duration {
    RECHECK + Duration::from_millis(fastrand::u64(0..2000))
}

/// When the transcript was last written, as an `Instant` (now if unknown).
fn last_modified(path: &std::path::Path) -> Instant {
    let age = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .unwrap_or(Duration::ZERO);
    Instant::now().checked_sub(age).unwrap_or_else(Instant::now)
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
