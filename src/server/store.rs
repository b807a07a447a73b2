//! Storage behind a small trait, so a Postgres backend can be added later
//! without touching the routes. The one implementation is SQLite: WAL mode,
//! versioned migrations, one writer connection (writes are serialized, each in
//! one transaction) and a small pool of reader connections.
//!
//! The trait is synchronous: routes call it from `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::wire::{MessageKind, SessionInfo, StoredDiff};

/// Why a store operation did not happen: each maps to one HTTP status.
#[derive(Debug)]
pub enum StoreError {
    /// No such session (404).
    NotFound,
    /// The session belongs to another client (403).
    Forbidden,
    /// The session is not live (409).
    NotLive,
    /// The backend failed (500); the text says what.
    Backend(String),
    /// Nothing can be stored any more, e.g. the database file was deleted
    /// under the server (503: clients retry); the text says why.
    Unavailable(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(format!("database error: {e}"))
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("session not found"),
            StoreError::Forbidden => f.write_str("this session belongs to another client"),
            StoreError::NotLive => f.write_str("session is not live"),
            StoreError::Backend(e) | StoreError::Unavailable(e) => f.write_str(e),
        }
    }
}

pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// Fields of a new live session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub client_id: String,
    pub title: String,
    pub harness: String,
    pub harness_session_id: String,
    pub project_path: Option<String>,
    pub model: Option<String>,
    pub repo_url: Option<String>,
    pub interactive: bool,
}

/// Outcome of create / resume / restore.
#[derive(Debug, Clone)]
pub struct LiveOutcome {
    pub session: SessionInfo,
    pub resumed: bool,
    pub restored: bool,
    pub last_uuid: Option<String>,
}

/// A message to append; `content_blocks` is the JSON text of the array.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub role: String,
    pub content_blocks: String,
    pub timestamp: Option<String>,
    pub uuid: Option<String>,
    pub kind: Option<MessageKind>,
    pub agent_id: Option<String>,
    pub parent_tool_use_id: Option<String>,
}

/// A stored message with its content kept as JSON text, so pages and event
/// streams never re-parse it.
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub message_index: i64,
    pub role: String,
    pub content_blocks: String,
    pub timestamp: Option<String>,
    pub uuid: Option<String>,
    pub kind: Option<MessageKind>,
    pub agent_id: Option<String>,
    pub parent_tool_use_id: Option<String>,
}

/// Result of an append: what was new (in order) and the session's totals.
#[derive(Debug, Clone)]
pub struct AppendOutcome {
    pub appended: Vec<RawMessage>,
    pub message_count: i64,
}

/// Result of complete.
#[derive(Debug, Clone)]
pub struct CompleteOutcome {
    pub session: SessionInfo,
    pub diff: Option<StoredDiff>,
    /// False when the session was already complete.
    pub changed: bool,
}

/// Everything the server stores. Ownership (`client_id`) is checked inside
/// each write so the check and the write are one transaction.
pub trait Store: Send + Sync {
    /// Create, resume or restore the session keyed by (harness, harness session id).
    fn live(&self, new: NewSession, now: &str) -> StoreResult<LiveOutcome>;
    /// Append messages, skipping uuids already stored; indexes are dense from 0.
    fn append(
        &self,
        id: &str,
        client_id: &str,
        messages: Vec<NewMessage>,
        now: &str,
    ) -> StoreResult<AppendOutcome>;
    /// Replace the session's diff.
    fn put_diff(
        &self,
        id: &str,
        client_id: &str,
        diff: StoredDiff,
    ) -> StoreResult<(SessionInfo, StoredDiff)>;
    /// Mark complete (idempotent), storing a final diff and summary if given.
    fn complete(
        &self,
        id: &str,
        client_id: &str,
        final_diff: Option<StoredDiff>,
        summary: Option<String>,
        now: &str,
    ) -> StoreResult<CompleteOutcome>;
    /// Change title and/or description.
    fn patch(
        &self,
        id: &str,
        client_id: &str,
        title: Option<String>,
        description: Option<String>,
        now: &str,
    ) -> StoreResult<SessionInfo>;
    /// Delete a session with its messages and diff.
    fn delete(&self, id: &str, client_id: &str) -> StoreResult<()>;
    /// The session of (harness, harness session id) if `client_id` owns it.
    fn lookup(
        &self,
        harness: &str,
        harness_session_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<SessionInfo>>;
    /// One session.
    fn session(&self, id: &str) -> StoreResult<SessionInfo>;
    /// Messages with `message_index >= from`, at most `limit`, in order.
    fn messages(&self, id: &str, from: i64, limit: i64) -> StoreResult<Vec<RawMessage>>;
    /// The stored diff, if any.
    fn diff(&self, id: &str) -> StoreResult<Option<StoredDiff>>;
    /// Session, all messages and diff, read from one consistent snapshot.
    fn detail(&self, id: &str) -> StoreResult<(SessionInfo, Vec<RawMessage>, Option<StoredDiff>)>;
    /// The hash of the write token bound to `client_id`; when none is and
    /// `presented` is given, `presented` is bound first (trust on first
    /// use). None: this client id proves nothing (no token was ever
    /// presented for it).
    fn bind_write_token(
        &self,
        client_id: &str,
        presented: Option<&str>,
        now: &str,
    ) -> StoreResult<Option<String>>;
    /// Messages with `from <= message_index < until`, in order: as many as
    /// fit in about `max_bytes` of content (at least one), so a reader of a
    /// huge session holds one page at a time.
    fn messages_page(
        &self,
        id: &str,
        from: i64,
        until: i64,
        max_bytes: usize,
    ) -> StoreResult<Vec<RawMessage>>;
    /// Whether writes can still be stored (`Unavailable` says why not).
    fn check(&self) -> StoreResult<()> {
        Ok(())
    }
    /// Close every connection (the server calls it once after shutdown).
    fn close(&self);
}

/// A store in `dir` with one live session of client "c": (store, its id).
#[cfg(test)]
pub fn test_store(dir: &Path) -> (std::sync::Arc<dyn Store>, String) {
    let store = std::sync::Arc::new(SqliteStore::open(&dir.join("db")).expect("open"));
    let new = NewSession {
        client_id: "c".into(),
        title: "t \"quoted\" ☃".into(),
        harness: "claude-code".into(),
        harness_session_id: "h".into(),
        project_path: Some("/p".into()),
        model: None,
        repo_url: None,
        interactive: false,
    };
    let id = store.live(new, "2026-01-01T00:00:00Z").expect("live");
    (store, id.session.id)
}

/// Schema migrations, applied in order; `PRAGMA user_version` is the number
/// applied. Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: sessions, messages, diffs.
    "CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        harness TEXT NOT NULL,
        harness_session_id TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT,
        summary TEXT,
        status TEXT NOT NULL,
        project_path TEXT,
        model TEXT,
        repo_url TEXT,
        interactive INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        completed_at TEXT,
        message_count INTEGER NOT NULL DEFAULT 0,
        last_uuid TEXT
    );
    CREATE UNIQUE INDEX sessions_by_harness ON sessions(harness, harness_session_id);
    CREATE TABLE messages (
        session_id TEXT NOT NULL,
        message_index INTEGER NOT NULL,
        role TEXT NOT NULL,
        content_blocks TEXT NOT NULL,
        timestamp TEXT,
        uuid TEXT,
        PRIMARY KEY (session_id, message_index)
    );
    CREATE UNIQUE INDEX messages_by_uuid ON messages(session_id, uuid) WHERE uuid IS NOT NULL;
    CREATE TABLE diffs (
        session_id TEXT PRIMARY KEY,
        diff TEXT NOT NULL,
        files_changed INTEGER NOT NULL,
        additions INTEGER NOT NULL,
        deletions INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );",
    // 2: what each message is (wire `kind`); NULL for older rows.
    "ALTER TABLE messages ADD COLUMN kind TEXT;",
    // 3: messages of subagents and the call that started each.
    "ALTER TABLE messages ADD COLUMN agent_id TEXT;
     ALTER TABLE messages ADD COLUMN parent_tool_use_id TEXT;",
    // 4: the write token each client id is bound to (its SHA-256).
    "CREATE TABLE client_tokens (
        client_id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );",
];

const SESSION_COLUMNS: &str = "id, title, description, status, harness, harness_session_id, \
     project_path, model, repo_url, interactive, created_at, updated_at, completed_at, \
     message_count, client_id, last_uuid, summary";

/// Readers kept open for reuse.
const READER_POOL: usize = 4;
/// Reader connections open at once (each holds file descriptors and a page
/// cache): more concurrent reads wait for one.
const MAX_READERS: usize = 16;
/// Page cache of a reader connection, KiB (SQLite's default is 2,000).
const READER_CACHE_KIB: i64 = 256;
/// Rows of one `messages_page` at most, whatever their size.
const MAX_PAGE_ROWS: i64 = 2048;

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Option<Connection>>,
    readers: Mutex<Readers>,
    reader_freed: Condvar,
    closed: AtomicBool,
    /// The files we opened (the database and its WAL), to notice when
    /// they are deleted or replaced under us.
    files: Vec<(PathBuf, FileId)>,
    /// Whether the last check found them gone (to log the change once).
    gone: AtomicBool,
}

#[derive(Default)]
struct Readers {
    idle: Vec<Connection>,
    /// Reader connections that exist, idle or in use.
    open: usize,
}

/// What identifies a file: a path deleted and created again, or replaced
/// by a rename, is another file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

fn file_id(path: &Path) -> std::io::Result<FileId> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(FileId { dev: 0, ino: 0 })
    }
}

/// The WAL file SQLite keeps beside `db`.
fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_os_string();
    name.push("-wal");
    PathBuf::from(name)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Create a missing database file with mode 0600 before SQLite opens it:
/// SQLite creates files with the umask's mode, and gives its `-wal` and
/// `-shm` files the mode of the database, so they all stay private. An
/// existing file keeps its mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and migrate it.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let hint = "pass --db with a path in a writable directory";
        create_private(path)
            .with_context(|| format!("cannot create database {} ({hint})", path.display()))?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open database {} ({hint})", path.display()))?;
        configure(&conn)
            .and_then(|()| {
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            })
            .and_then(|_| conn.pragma_update(None, "synchronous", "NORMAL"))
            .with_context(|| format!("cannot use database {} ({hint})", path.display()))?;
        let mut conn = conn;
        migrate(&mut conn)
            .with_context(|| format!("cannot set up database {} ({hint})", path.display()))?;
        // The WAL exists once the database was written (the migrations
        // did); it stays while our writer connection is open.
        let files = [path.to_path_buf(), wal_path(path)]
            .into_iter()
            .filter_map(|p| file_id(&p).ok().map(|id| (p, id)))
            .collect();
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(Some(conn)),
            readers: Mutex::new(Readers::default()),
            reader_freed: Condvar::new(),
            closed: AtomicBool::new(false),
            files,
            gone: AtomicBool::new(false),
        })
    }

    /// `Unavailable` when a file we opened was deleted or replaced: SQLite
    /// keeps writing into the open (deleted) file, so every write would
    /// answer "stored" and be lost.
    fn check_files(&self) -> StoreResult<()> {
        let problem = self
            .files
            .iter()
            .find_map(|(path, id)| match file_id(path) {
                Ok(now) if now == *id => None,
                Ok(_) => Some(format!("{} was replaced by another file", path.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Some(format!("{} was deleted", path.display()))
                }
                Err(e) => Some(format!("{} cannot be checked: {e}", path.display())),
            });
        let was_gone = self.gone.swap(problem.is_some(), Ordering::SeqCst);
        match problem {
            None => {
                if was_gone {
                    tracing::warn!("the database files are back; storing again");
                }
                Ok(())
            }
            Some(what) => {
                let text = format!(
                    "storage is unavailable: the database file {what} while the server was \
                     running, so nothing can be stored; restart `openctl server`"
                );
                if !was_gone {
                    tracing::error!("{text}");
                }
                Err(StoreError::Unavailable(text))
            }
        }
    }

    /// A failed database call is `Unavailable` when the files are gone.
    fn explain(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Backend(_) => self.check_files().err().unwrap_or(e),
            e => e,
        }
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        self.check_files()?;
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| StoreError::Backend("database writer poisoned".into()))?;
        let conn = guard
            .as_mut()
            .ok_or_else(|| StoreError::Backend("database is closed".into()))?;
        let run = || -> StoreResult<T> {
            let tx = conn.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e| self.explain(e))
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("database is closed".into()));
        }
        self.check_files()?;
        let conn = self.reader()?;
        let out = f(&conn).map_err(|e| self.explain(e));
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.idle.len() < READER_POOL && !self.closed.load(Ordering::SeqCst) {
            pool.idle.push(conn);
        } else {
            pool.open -= 1;
        }
        drop(pool);
        self.reader_freed.notify_one();
        out
    }

    /// A reader connection: a pooled one, a new one while fewer than
    /// MAX_READERS exist, else the next one released.
    fn reader(&self) -> StoreResult<Connection> {
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(c) = pool.idle.pop() {
                return Ok(c);
            }
            if pool.open < MAX_READERS {
                pool.open += 1;
                break;
            }
            pool = self
                .reader_freed
                .wait(pool)
                .unwrap_or_else(|p| p.into_inner());
        }
        drop(pool);
        let opened = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|c| {
            configure(&c)?;
            // Reads go through the OS page cache; a small cache per reader
            // keeps many concurrent reads of large sessions small.
            c.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
            Ok(c)
        });
        opened.map_err(|e| {
            self.readers.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
            self.reader_freed.notify_one();
            self.explain(e.into())
        })
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        anyhow::bail!(
            "the database schema is version {version}, newer than this openctl knows ({known}); upgrade openctl"
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("migration {} failed", i + 1))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(SessionInfo, String, Option<String>)> {
    let info = SessionInfo {
        id: r.get(0)?,
        title: r.get(1)?,
        description: r.get(2)?,
        status: r.get(3)?,
        harness: r.get(4)?,
        harness_session_id: r.get(5)?,
        project_path: r.get(6)?,
        model: r.get(7)?,
        repo_url: r.get(8)?,
        interactive: r.get::<_, i64>(9)? != 0,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        completed_at: r.get(12)?,
        message_count: r.get(13)?,
        summary: r.get(16)?,
    };
    Ok((info, r.get(14)?, r.get(15)?))
}

/// (session, owner, last uuid) by id.
fn load(conn: &Connection, id: &str) -> StoreResult<(SessionInfo, String, Option<String>)> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"
    ))?;
    stmt.query_row([id], session_row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// The session if `client_id` owns it.
fn owned(conn: &Connection, id: &str, client_id: &str) -> StoreResult<SessionInfo> {
    let (info, owner, _) = load(conn, id)?;
    if owner != client_id {
        return Err(StoreError::Forbidden);
    }
    Ok(info)
}

fn store_diff(conn: &Connection, id: &str, d: &StoredDiff) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO diffs (session_id, diff, files_changed, additions, deletions, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(session_id) DO UPDATE SET diff = excluded.diff,
           files_changed = excluded.files_changed, additions = excluded.additions,
           deletions = excluded.deletions, updated_at = excluded.updated_at",
    )?;
    stmt.execute(params![
        id,
        d.diff,
        d.files_changed,
        d.additions,
        d.deletions,
        d.updated_at
    ])?;
    Ok(())
}

fn touch(conn: &Connection, id: &str, now: &str) -> StoreResult<()> {
    conn.prepare_cached("UPDATE sessions SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

impl Store for SqliteStore {
    fn live(&self, new: NewSession, now: &str) -> StoreResult<LiveOutcome> {
        self.write(|tx| {
            let existing: Option<String> = tx
                .prepare_cached("SELECT id FROM sessions WHERE harness = ?1 AND harness_session_id = ?2")?
                .query_row(params![new.harness, new.harness_session_id], |r| r.get(0))
                .optional()?;
            if let Some(id) = existing {
                let (info, owner, _) = load(tx, &id)?;
                if owner != new.client_id {
                    return Err(StoreError::Forbidden);
                }
                let restored = info.status != "live";
                if restored {
                    tx.prepare_cached(
                        "UPDATE sessions SET status = 'live', completed_at = NULL, updated_at = ?2 WHERE id = ?1",
                    )?
                    .execute(params![id, now])?;
                }
                let (session, _, last_uuid) = load(tx, &id)?;
                return Ok(LiveOutcome {
                    session,
                    resumed: true,
                    restored,
                    last_uuid,
                });
            }
            let id = uuid::Uuid::new_v4().to_string();
            tx.prepare_cached(
                "INSERT INTO sessions (id, client_id, harness, harness_session_id, title, status,
                   project_path, model, repo_url, interactive, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'live', ?6, ?7, ?8, ?9, ?10, ?10)",
            )?
            .execute(params![
                id,
                new.client_id,
                new.harness,
                new.harness_session_id,
                new.title,
                new.project_path,
                new.model,
                new.repo_url,
                new.interactive as i64,
                now
            ])?;
            let (session, _, _) = load(tx, &id)?;
            Ok(LiveOutcome {
                session,
                resumed: false,
                restored: false,
                last_uuid: None,
            })
        })
    }

    fn append(
        &self,
        id: &str,
        client_id: &str,
        messages: Vec<NewMessage>,
        now: &str,
    ) -> StoreResult<AppendOutcome> {
        self.write(|tx| {
            let info = owned(tx, id, client_id)?;
            if info.status != "live" {
                return Err(StoreError::NotLive);
            }
            let mut next = info.message_count;
            let mut appended = Vec::new();
            let mut last_uuid = None;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO messages (session_id, message_index, role, content_blocks, timestamp, uuid, kind, agent_id, parent_tool_use_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for m in messages {
                    let changed = insert.execute(params![
                        id,
                        next,
                        m.role,
                        m.content_blocks,
                        m.timestamp,
                        m.uuid,
                        m.kind.map(MessageKind::as_str),
                        m.agent_id,
                        m.parent_tool_use_id
                    ])?;
                    if changed == 0 {
                        continue;
                    }
                    if m.uuid.is_some() {
                        last_uuid.clone_from(&m.uuid);
                    }
                    appended.push(RawMessage {
                        message_index: next,
                        role: m.role,
                        content_blocks: m.content_blocks,
                        timestamp: m.timestamp,
                        uuid: m.uuid,
                        kind: m.kind,
                        agent_id: m.agent_id,
                        parent_tool_use_id: m.parent_tool_use_id,
                    });
                    next += 1;
                }
            }
            if !appended.is_empty() {
                tx.prepare_cached(
                    "UPDATE sessions SET message_count = ?2, updated_at = ?3,
                       last_uuid = COALESCE(?4, last_uuid) WHERE id = ?1",
                )?
                .execute(params![id, next, now, last_uuid])?;
            }
            Ok(AppendOutcome {
                appended,
                message_count: next,
            })
        })
    }

    fn put_diff(
        &self,
        id: &str,
        client_id: &str,
        diff: StoredDiff,
    ) -> StoreResult<(SessionInfo, StoredDiff)> {
        self.write(|tx| {
            let info = owned(tx, id, client_id)?;
            store_diff(tx, id, &diff)?;
            touch(tx, id, &diff.updated_at)?;
            Ok((info, diff))
        })
    }

    fn complete(
        &self,
        id: &str,
        client_id: &str,
        final_diff: Option<StoredDiff>,
        summary: Option<String>,
        now: &str,
    ) -> StoreResult<CompleteOutcome> {
        self.write(|tx| {
            let info = owned(tx, id, client_id)?;
            if let Some(d) = &final_diff {
                store_diff(tx, id, d)?;
            }
            let changed = info.status != "complete";
            tx.prepare_cached(
                "UPDATE sessions SET status = 'complete',
                   completed_at = COALESCE(completed_at, ?2), updated_at = ?2,
                   summary = COALESCE(?3, summary) WHERE id = ?1",
            )?
            .execute(params![id, now, summary])?;
            let (session, _, _) = load(tx, id)?;
            Ok(CompleteOutcome {
                session,
                diff: final_diff,
                changed,
            })
        })
    }

    fn patch(
        &self,
        id: &str,
        client_id: &str,
        title: Option<String>,
        description: Option<String>,
        now: &str,
    ) -> StoreResult<SessionInfo> {
        self.write(|tx| {
            owned(tx, id, client_id)?;
            tx.prepare_cached(
                "UPDATE sessions SET title = COALESCE(?2, title),
                   description = COALESCE(?3, description), updated_at = ?4 WHERE id = ?1",
            )?
            .execute(params![id, title, description, now])?;
            let (session, _, _) = load(tx, id)?;
            Ok(session)
        })
    }

    fn delete(&self, id: &str, client_id: &str) -> StoreResult<()> {
        self.write(|tx| {
            owned(tx, id, client_id)?;
            for sql in [
                "DELETE FROM messages WHERE session_id = ?1",
                "DELETE FROM diffs WHERE session_id = ?1",
                "DELETE FROM sessions WHERE id = ?1",
            ] {
                tx.prepare_cached(sql)?.execute([id])?;
            }
            Ok(())
        })
    }

    fn bind_write_token(
        &self,
        client_id: &str,
        presented: Option<&str>,
        now: &str,
    ) -> StoreResult<Option<String>> {
        let bound = |conn: &Connection| -> StoreResult<Option<String>> {
            Ok(conn
                .prepare_cached("SELECT token_hash FROM client_tokens WHERE client_id = ?1")?
                .query_row(params![client_id], |r| r.get(0))
                .optional()?)
        };
        if let Some(hash) = self.read(bound)? {
            return Ok(Some(hash));
        }
        let Some(presented) = presented else {
            return Ok(None);
        };
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO client_tokens (client_id, token_hash, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![client_id, presented, now])?;
            bound(tx)
        })
    }

    fn lookup(
        &self,
        harness: &str,
        harness_session_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<SessionInfo>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE harness = ?1 AND harness_session_id = ?2"
            ))?;
            let Some((info, owner, _)) = stmt
                .query_row(params![harness, harness_session_id], session_row)
                .optional()?
            else {
                return Ok(None);
            };
            if owner != client_id {
                return Err(StoreError::Forbidden);
            }
            Ok(Some(info))
        })
    }

    fn session(&self, id: &str) -> StoreResult<SessionInfo> {
        self.read(|conn| Ok(load(conn, id)?.0))
    }

    fn messages(&self, id: &str, from: i64, limit: i64) -> StoreResult<Vec<RawMessage>> {
        self.read(|conn| read_messages(conn, id, from, limit))
    }

    fn diff(&self, id: &str) -> StoreResult<Option<StoredDiff>> {
        self.read(|conn| read_diff(conn, id))
    }

    fn detail(&self, id: &str) -> StoreResult<(SessionInfo, Vec<RawMessage>, Option<StoredDiff>)> {
        self.read(|conn| {
            let tx = conn.unchecked_transaction()?;
            let (info, _, _) = load(&tx, id)?;
            let messages = read_messages(&tx, id, 0, i64::MAX)?;
            let diff = read_diff(&tx, id)?;
            tx.finish()?;
            Ok((info, messages, diff))
        })
    }

    fn messages_page(
        &self,
        id: &str,
        from: i64,
        until: i64,
        max_bytes: usize,
    ) -> StoreResult<Vec<RawMessage>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT message_index, role, content_blocks, timestamp, uuid, kind, agent_id, parent_tool_use_id FROM messages
                 WHERE session_id = ?1 AND message_index >= ?2 AND message_index < ?3
                 ORDER BY message_index LIMIT ?4",
            )?;
            let mut rows = stmt.query(params![id, from, until, MAX_PAGE_ROWS])?;
            let mut page = Vec::new();
            let mut bytes = 0;
            while let Some(row) = rows.next()? {
                let m = raw_message(row)?;
                bytes += m.content_blocks.len();
                page.push(m);
                if bytes >= max_bytes {
                    break;
                }
            }
            Ok(page)
        })
    }

    fn check(&self) -> StoreResult<()> {
        self.check_files()
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut pool) = self.readers.lock() {
            pool.open -= pool.idle.len();
            pool.idle.clear();
        }
        if let Ok(mut writer) = self.writer.lock() {
            if let Some(conn) = writer.take() {
                let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
                if let Err((_, e)) = conn.close() {
                    tracing::warn!("closing {}: {e}", self.path.display());
                }
            }
        }
    }
}

fn read_messages(
    conn: &Connection,
    id: &str,
    from: i64,
    limit: i64,
) -> StoreResult<Vec<RawMessage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_index, role, content_blocks, timestamp, uuid, kind, agent_id, parent_tool_use_id FROM messages
                 WHERE session_id = ?1 AND message_index >= ?2 ORDER BY message_index LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![id, from, limit], raw_message)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// A row of `SELECT message_index, role, content_blocks, timestamp, uuid,
/// kind, agent_id, parent_tool_use_id`.
fn raw_message(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawMessage> {
    Ok(RawMessage {
        message_index: r.get(0)?,
        role: r.get(1)?,
        content_blocks: r.get(2)?,
        timestamp: r.get(3)?,
        uuid: r.get(4)?,
        kind: r
            .get::<_, Option<String>>(5)?
            .as_deref()
            .and_then(MessageKind::parse),
        agent_id: r.get(6)?,
        parent_tool_use_id: r.get(7)?,
    })
}

fn read_diff(conn: &Connection, id: &str) -> StoreResult<Option<StoredDiff>> {
    let mut stmt = conn.prepare_cached(
                "SELECT diff, files_changed, additions, deletions, updated_at FROM diffs WHERE session_id = ?1",
            )?;
    Ok(stmt
        .query_row([id], |r| {
            Ok(StoredDiff {
                diff: r.get(0)?,
                files_changed: r.get(1)?,
                additions: r.get(2)?,
                deletions: r.get(3)?,
                updated_at: r.get(4)?,
            })
        })
        .optional()?)
}

/// Line counts of a unified diff: (files changed, additions, deletions).
pub fn diff_stats(diff: &str) -> (i64, i64, i64) {
    let (mut files, mut plus_files, mut add, mut del) = (0, 0, 0, 0);
    for line in diff.lines() {
        if line.starts_with("diff --git ") {
            files += 1;
        } else if line.starts_with("+++ ") {
            plus_files += 1;
        } else if line.starts_with("--- ") {
        } else if line.starts_with('+') {
            add += 1;
        } else if line.starts_with('-') {
            del += 1;
        }
    }
    (if files > 0 { files } else { plus_files }, add, del)
}
