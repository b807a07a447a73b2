//! The durable cursor of one (session, server) pair: how far the server has
//! acknowledged the transcript. Persisted atomically after every
//! acknowledged batch in `~/.openctl/cursors/`, so a crash at any moment
//! resends at most the batch that was in flight (which the server's uuid
//! idempotency, or the message count of the reference server, absorbs).

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::tail::{FileId, Position};
use crate::state;

/// Most paths remembered as touched by the session (for untracked files in
/// the diff).
const MAX_TOUCHED: usize = 2000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub session: String,
    pub server: String,
    /// The server session the offsets below refer to.
    #[serde(default)]
    pub server_session_id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// Byte offset just after the last acknowledged line.
    #[serde(default)]
    pub offset: u64,
    /// Complete lines before `offset`.
    #[serde(default)]
    pub line_no: u64,
    /// Identity of the transcript `offset` refers to.
    #[serde(default)]
    pub file_id: Option<FileId>,
    /// The newest acknowledged line that has a uuid: its uuid and where it
    /// lies, to check that the file still holds what was sent.
    #[serde(default)]
    pub last_uuid: Option<String>,
    #[serde(default)]
    pub last_uuid_start: u64,
    #[serde(default)]
    pub last_uuid_end: u64,
    /// The server's message count after the last acknowledged batch.
    #[serde(default)]
    pub server_count: i64,
    #[serde(default)]
    pub messages_sent: u64,
    #[serde(default)]
    pub lines_skipped: u64,
    /// Lines kept with U+FFFD for what was not text in them.
    #[serde(default)]
    pub lines_repaired: u64,
    #[serde(default)]
    pub redactions: u64,
    /// A title was PATCHed (cursors written before `sent_title` existed
    /// have only this).
    #[serde(default)]
    pub title_sent: bool,
    /// The title the server has from us (before redaction): a different
    /// one (a rename, Claude Code's own title) is PATCHed again.
    #[serde(default)]
    pub sent_title: Option<String>,
    /// The session was marked complete and nothing was sent since.
    #[serde(default)]
    pub completed: bool,
    /// The share's stamp (see `shared::Share::stamp`) when the session was
    /// completed for being idle or ended; None after an unshare. While the
    /// share keeps this stamp and nothing new is written, a restarted
    /// daemon leaves the session complete instead of restoring it.
    #[serde(default)]
    pub completed_stamp: Option<String>,
    /// The `endedAt` of the share that was acted on (completed).
    #[serde(default)]
    pub ended: Option<String>,
    /// How far each subagent transcript of the session was acknowledged,
    /// by agent id.
    #[serde(default)]
    pub agents: std::collections::BTreeMap<String, AgentCursor>,
    /// Files the session modified (Write/Edit/MultiEdit/NotebookEdit).
    #[serde(default)]
    pub touched: BTreeSet<PathBuf>,
}

/// The acknowledged part of one subagent transcript.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentCursor {
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub line_no: u64,
    #[serde(default)]
    pub file_id: Option<FileId>,
    /// The Task/Agent call that started the subagent, once found.
    #[serde(default)]
    pub parent_tool_use_id: Option<String>,
    /// Times the call was looked for without success (bounded).
    #[serde(default)]
    pub parent_lookups: u32,
}

impl AgentCursor {
    pub fn position(&self) -> Position {
        Position {
            offset: self.offset,
            line_no: self.line_no,
            id: self.file_id,
        }
    }
}

impl Cursor {
    pub fn new(session: &str, server: &str) -> Cursor {
        Cursor {
            session: session.to_string(),
            server: server.to_string(),
            ..Cursor::default()
        }
    }

    pub fn position(&self) -> Position {
        Position {
            offset: self.offset,
            line_no: self.line_no,
            id: self.file_id,
        }
    }

    /// Start over from the beginning of the transcript (keeps the server
    /// session and the counters).
    pub fn rewind(&mut self) {
        // The counters describe the transcript as it is now: re-reading it
        // from the start counts its lines again (the server skips what it
        // already has), so they restart too.
        self.messages_sent = 0;
        self.lines_skipped = 0;
        self.lines_repaired = 0;
        self.redactions = 0;
        self.offset = 0;
        self.line_no = 0;
        self.file_id = None;
        self.last_uuid = None;
        self.last_uuid_start = 0;
        self.last_uuid_end = 0;
        self.agents.clear();
    }

    pub fn touch(&mut self, path: PathBuf) {
        if self.touched.len() < MAX_TOUCHED {
            self.touched.insert(path);
        }
    }
}

/// The cursor file of (session, server).
pub fn path(home: &Path, session: &str, server: &str) -> PathBuf {
    let safe: String = session
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    home.join("cursors")
        .join(format!("{safe}@{:016x}.json", fnv1a(server.as_bytes())))
}

/// A stable 64-bit hash (FNV-1a) to name files after a server URL.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Load the cursor of (session, server). Missing → a fresh cursor. A cursor
/// that does not parse, or belongs to another pair, is reported and
/// replaced by a fresh one: resending is safe, losing is not.
pub fn load(home: &Path, session: &str, server: &str) -> Cursor {
    let file = path(home, session, server);
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Cursor::new(session, server),
        Err(e) => {
            tracing::warn!(path = %file.display(), error = %e, "cannot read cursor; starting from the beginning");
            return Cursor::new(session, server);
        }
    };
    match serde_json::from_slice::<Cursor>(&bytes) {
        Ok(c) if c.session == session && c.server == server => c,
        Ok(_) => {
            tracing::warn!(path = %file.display(), "cursor belongs to another pair; starting from the beginning");
            Cursor::new(session, server)
        }
        Err(e) => {
            tracing::warn!(path = %file.display(), error = %e, "cursor does not parse; starting from the beginning");
            Cursor::new(session, server)
        }
    }
}

/// Persist atomically.
pub fn save(home: &Path, cursor: &Cursor) -> Result<()> {
    let file = path(home, &cursor.session, &cursor.server);
    if let Some(dir) = file.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    let bytes = serde_json::to_vec(cursor).context("cannot encode cursor")?;
    state::write_atomic(&file, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cursor::new("s1", "http://a");
        c.offset = 42;
        c.last_uuid = Some("u".into());
        c.touch(PathBuf::from("/x/y"));
        save(dir.path(), &c).unwrap();
        assert_eq!(load(dir.path(), "s1", "http://a"), c);
        assert_eq!(load(dir.path(), "s1", "http://b").offset, 0);
        std::fs::write(path(dir.path(), "s1", "http://a"), b"{trunc").unwrap();
        assert_eq!(load(dir.path(), "s1", "http://a").offset, 0);
    }

    #[test]
    fn names_differ_per_server() {
        let home = Path::new("/h");
        assert_ne!(path(home, "s", "http://a"), path(home, "s", "http://b"));
        assert_eq!(path(home, "s", "http://a"), path(home, "s", "http://a"));
    }
}
