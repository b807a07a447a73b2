//! The optional git post-commit reminder and the Claude Code hook helper.
//!
//! `install` puts `hooks/post-commit` (embedded below) into the directory git
//! really runs hooks from: `core.hooksPath` when set, else the common git
//! dir's `hooks/` (shared by every linked worktree). A post-commit hook that
//! was already there is renamed to `post-commit.openctl-backup` (so its bytes
//! and mode are kept exactly) and our script calls it first; `uninstall`
//! renames it back. Hooks directories managed by husky or lefthook are left
//! alone: the user gets the one line to add instead.
//!
//! `reminder` is what the hook prints: it reads only local files (config,
//! file modification times, the shared list, the first lines of the newest
//! unshared transcripts until one belongs to this project, and that one's
//! head and tail for a title), never the network, and every failure means
//! "say nothing".

use std::io::{IsTerminal, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::config::{self, Config};
use crate::error::CliError;
use crate::{paths, repo, sessions, shared, transcript};

/// The hook script, installed verbatim.
pub const SCRIPT: &str = include_str!("../hooks/post-commit");

/// The line that marks a post-commit hook as openctl's.
const MARKER: &str = "# openctl post-commit hook";

/// Name of the previous hook, kept beside ours and called by it.
pub const BACKUP: &str = "post-commit.openctl-backup";

/// The line to add to a hook runner's post-commit hook instead.
pub const HOOK_LINE: &str =
    "command -v openctl >/dev/null 2>&1 && openctl hook post-commit >/dev/null || true";

/// Where git runs hooks for the repository containing `cwd`.
#[derive(Debug, Clone)]
pub struct HookDirs {
    /// The directory git uses: `core.hooksPath` or `default`.
    pub effective: PathBuf,
    /// The common git dir's `hooks/`.
    pub default: PathBuf,
    /// The raw `core.hooksPath` value, when set.
    pub hooks_path: Option<String>,
    /// The working tree root of this worktree.
    pub workdir: Option<PathBuf>,
}

impl HookDirs {
    /// Find the hooks directories with git2 (no `git` process).
    pub fn discover(cwd: &Path) -> Result<HookDirs> {
        let repo = git2::Repository::discover(cwd).map_err(|_| {
            CliError::not_found(format!("{} is not inside a git repository", cwd.display()))
                .with_hint("run `openctl hook` inside the repository you want the reminder in")
        })?;
        let default = repo.commondir().join("hooks");
        let workdir = repo.workdir().map(Path::to_path_buf);
        let hooks_path = repo
            .config()
            .ok()
            .and_then(|c| c.get_string("core.hooksPath").ok())
            .filter(|s| !s.trim().is_empty());
        let effective = match &hooks_path {
            Some(raw) => {
                let expanded = expand_home(raw);
                if expanded.is_absolute() {
                    expanded
                } else {
                    // git runs hooks from the top of the working tree (the
                    // git dir for a bare repository).
                    workdir
                        .clone()
                        .unwrap_or_else(|| repo.path().to_path_buf())
                        .join(expanded)
                }
            }
            None => default.clone(),
        };
        Ok(HookDirs {
            effective,
            default,
            hooks_path,
            workdir,
        })
    }
}

fn expand_home(raw: &str) -> PathBuf {
    match (raw.strip_prefix("~/"), paths::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(raw),
    }
}

/// Is the file at `path` openctl's hook script (any version)?
pub fn is_ours(path: &Path) -> bool {
    std::fs::read(path)
        .map(|bytes| {
            String::from_utf8_lossy(&bytes[..bytes.len().min(4096)])
                .lines()
                .any(|l| l.starts_with(MARKER))
        })
        .unwrap_or(false)
}

/// The hook runner that manages `dir`, if any: husky or lefthook.
pub fn managed_by(dir: &Path, workdir: Option<&Path>) -> Option<&'static str> {
    if dir.components().any(|c| c.as_os_str() == ".husky") {
        return Some("husky");
    }
    if let Some(root) = workdir {
        for name in [
            "lefthook.yml",
            "lefthook.yaml",
            ".lefthook.yml",
            ".lefthook.yaml",
        ] {
            if root.join(name).is_file() {
                return Some("lefthook");
            }
        }
    }
    let existing = std::fs::read(dir.join("post-commit")).unwrap_or_default();
    let text = String::from_utf8_lossy(&existing[..existing.len().min(64 * 1024)]);
    if text.contains("lefthook") {
        Some("lefthook")
    } else if text.contains("husky") {
        Some("husky")
    } else {
        None
    }
}

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// Written fresh; `chained` when an existing hook was kept and is called first.
    Written { path: PathBuf, chained: bool },
    /// Our current script was already there.
    AlreadyCurrent { path: PathBuf },
    /// An older openctl script was replaced by the current one.
    Updated { path: PathBuf },
    /// A hook runner manages the directory: nothing was written.
    Managed { runner: &'static str, dir: PathBuf },
}

/// Install the post-commit hook for the repository containing `cwd`.
pub fn install(cwd: &Path, force: bool) -> Result<Installed> {
    let dirs = HookDirs::discover(cwd)?;
    let dir = &dirs.effective;
    let hook = dir.join("post-commit");
    let backup = dir.join(BACKUP);
    if is_ours(&hook) {
        let current = std::fs::read(&hook).unwrap_or_default();
        if current == SCRIPT.as_bytes() {
            return Ok(Installed::AlreadyCurrent { path: hook });
        }
        write_script(&hook)?;
        return Ok(Installed::Updated { path: hook });
    }
    if !force {
        if let Some(runner) = managed_by(dir, dirs.workdir.as_deref()) {
            return Ok(Installed::Managed {
                runner,
                dir: dir.clone(),
            });
        }
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the hooks directory {}", dir.display()))?;
    let exists = std::fs::symlink_metadata(&hook).is_ok();
    if exists {
        if std::fs::symlink_metadata(&backup).is_ok() {
            return Err(CliError::new(
                crate::error::Exit::Failure,
                format!(
                    "{} exists and so does {}: openctl will not overwrite either",
                    hook.display(),
                    backup.display()
                ),
            )
            .with_hint(format!(
                "move {} somewhere safe, then run `openctl hook install` again",
                backup.display()
            ))
            .into());
        }
        std::fs::rename(&hook, &backup).with_context(|| {
            format!(
                "cannot move the existing hook {} to {}",
                hook.display(),
                backup.display()
            )
        })?;
    }
    if let Err(e) = write_script(&hook) {
        if exists {
            // Put the user's hook back rather than leave no hook at all.
            let _ = std::fs::rename(&backup, &hook);
        }
        return Err(e);
    }
    Ok(Installed::Written {
        path: hook,
        chained: exists,
    })
}

fn write_script(hook: &Path) -> Result<()> {
    let dir = hook.parent().context("hook path has no parent")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".post-commit.openctl-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, SCRIPT.as_bytes())
        .with_context(|| format!("cannot write {}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", hook.display()))?;
    }
    tmp.persist(hook)
        .with_context(|| format!("cannot write {}", hook.display()))?;
    Ok(())
}

/// What `uninstall` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uninstalled {
    /// Our hook was removed; `restored` when the previous hook is back.
    Removed { path: PathBuf, restored: bool },
    /// No openctl hook in the hooks directory.
    NotInstalled { dir: PathBuf },
}

/// Remove our hook from the effective hooks directory (and from the default
/// one when `core.hooksPath` bypasses it), restoring any hook it replaced.
pub fn uninstall(cwd: &Path) -> Result<Vec<Uninstalled>> {
    let dirs = HookDirs::discover(cwd)?;
    let mut out = vec![uninstall_in(&dirs.effective)?];
    if dirs.effective != dirs.default && is_ours(&dirs.default.join("post-commit")) {
        out.push(uninstall_in(&dirs.default)?);
    }
    Ok(out)
}

fn uninstall_in(dir: &Path) -> Result<Uninstalled> {
    let hook = dir.join("post-commit");
    let backup = dir.join(BACKUP);
    if !is_ours(&hook) {
        return Ok(Uninstalled::NotInstalled {
            dir: dir.to_path_buf(),
        });
    }
    if std::fs::symlink_metadata(&backup).is_ok() {
        // A rename keeps the original's bytes, mode and inode.
        std::fs::rename(&backup, &hook).with_context(|| {
            format!("cannot restore {} to {}", backup.display(), hook.display())
        })?;
        return Ok(Uninstalled::Removed {
            path: hook,
            restored: true,
        });
    }
    std::fs::remove_file(&hook).with_context(|| format!("cannot remove {}", hook.display()))?;
    Ok(Uninstalled::Removed {
        path: hook,
        restored: false,
    })
}

/// The state `status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Installed {
        path: PathBuf,
        chained: bool,
    },
    NotInstalled {
        dir: PathBuf,
    },
    /// Installed in the default hooks dir, which `core.hooksPath` bypasses.
    Bypassed {
        path: PathBuf,
        hooks_path: String,
    },
}

pub fn status(cwd: &Path) -> Result<Status> {
    let dirs = HookDirs::discover(cwd)?;
    let hook = dirs.effective.join("post-commit");
    if is_ours(&hook) {
        return Ok(Status::Installed {
            chained: dirs.effective.join(BACKUP).exists(),
            path: hook,
        });
    }
    let default_hook = dirs.default.join("post-commit");
    if let Some(hooks_path) = dirs.hooks_path {
        if dirs.effective != dirs.default && is_ours(&default_hook) {
            return Ok(Status::Bypassed {
                path: default_hook,
                hooks_path,
            });
        }
    }
    Ok(Status::NotInstalled {
        dir: dirs.effective,
    })
}

// ---------------------------------------------------------------------------
// The reminder

/// Should the reminder stay silent no matter what (CI, no terminal)?
pub fn silenced() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty()) || !std::io::stderr().is_terminal()
}

/// The one-line reminder for the repository containing `cwd`, or `None`
/// when there is nothing to say (or anything fails).
pub fn reminder(cwd: &Path, now: SystemTime) -> Option<String> {
    let cfg = Config::load().ok()?;
    let server = config::resolve_server(None, &cfg).ok()?;
    let identity = repo::identify(cwd).ok()?;
    if !cfg.is_repo_allowed(&server, &identity.id) {
        return None;
    }
    let window = Duration::from_secs(cfg.hook_window_minutes().saturating_mul(60));
    let session = newest_unshared_session(&project_dirs(cwd, &identity.root), now, window)?;
    let title = quick_title(&session.path)
        .map(|t| format!("\"{}\"", printable(&t)))
        .unwrap_or_else(|| session.uuid[..8].to_string());
    Some(format!(
        "Claude Code session {title} is not shared — run: openctl session share {}",
        session.uuid
    ))
}

/// The directories a Claude Code session of this repository was started in:
/// `cwd` and its ancestors up to the working tree root, and the main root.
fn project_dirs(cwd: &Path, main_root: &Path) -> Vec<PathBuf> {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let top = git2::Repository::discover(&cwd)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
        .map(|w| w.canonicalize().unwrap_or(w));
    let mut dirs = Vec::new();
    for dir in cwd.ancestors() {
        dirs.push(dir.to_path_buf());
        match &top {
            Some(top) if dir == top.as_path() => break,
            Some(_) => {}
            None => break,
        }
    }
    if !dirs.iter().any(|d| d == main_root) {
        dirs.push(main_root.to_path_buf());
    }
    dirs
}

/// The most recently modified session of `dirs` active within `window` of
/// `now` that is not shared. Candidates are found by file modification time
/// alone; the shared list is read only when there is one, and a candidate's
/// first `cwd` (the encoding of project dirs is lossy) is read only once it
/// is known to be unshared, newest first, stopping at the first match.
fn newest_unshared_session(
    dirs: &[PathBuf],
    now: SystemTime,
    window: Duration,
) -> Option<sessions::SessionFile> {
    let active = active_sessions(dirs, now, window);
    if active.is_empty() {
        return None;
    }
    let shares = shared::load().ok()?;
    active
        .into_iter()
        .filter(|(s, _)| !shares.contains_key(&s.uuid))
        .find(|(s, dir)| match transcript::first_cwd(&s.path) {
            Some(cwd) => Path::new(&cwd) == *dir,
            None => true,
        })
        .map(|(s, _)| s)
}

/// The sessions of `dirs` modified within `window` of `now`, newest first,
/// each with the directory whose encoding it was found under.
fn active_sessions(
    dirs: &[PathBuf],
    now: SystemTime,
    window: Duration,
) -> Vec<(sessions::SessionFile, &Path)> {
    let roots = paths::claude_project_roots();
    let mut active: Vec<(sessions::SessionFile, &Path)> = Vec::new();
    for dir in dirs {
        let Some(dir_str) = dir.to_str() else {
            continue;
        };
        let encoded = paths::encode_project_dir(dir_str);
        for root in &roots {
            for s in sessions::in_project_dir(&root.join(&encoded)) {
                let recent = now
                    .duration_since(s.modified)
                    .map(|age| age <= window)
                    .unwrap_or(true);
                if recent && !active.iter().any(|(a, _)| a.path == s.path) {
                    active.push((s, dir.as_path()));
                }
            }
        }
    }
    active.sort_by(|a, b| {
        b.0.modified
            .cmp(&a.0.modified)
            .then(a.0.uuid.cmp(&b.0.uuid))
    });
    active
}

/// How much of a transcript's head and tail the reminder reads for a title.
const TITLE_HEAD: u64 = 512 * 1024;
const TITLE_TAIL: u64 = 256 * 1024;

/// A title without reading the whole transcript: the newest custom or AI
/// title in the tail, else the first real prompt in the head.
pub fn quick_title(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let tail_start = len.saturating_sub(TITLE_TAIL);
    file.seek(SeekFrom::Start(tail_start)).ok()?;
    let mut tail = Vec::new();
    (&mut file).take(TITLE_TAIL).read_to_end(&mut tail).ok()?;
    let mut custom = None;
    let mut ai = None;
    for line in tail.split(|b| *b == b'\n') {
        if memchr::memmem::find(line, b"-title\"").is_none() {
            continue;
        }
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        let pick = |key: &str| {
            obj.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        match obj.get("type").and_then(Value::as_str) {
            Some("custom-title") => custom = pick("customTitle").or(custom),
            Some("ai-title") => ai = pick("aiTitle").or(ai),
            _ => {}
        }
    }
    if let Some(t) = custom.or(ai) {
        return Some(t);
    }
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut head = Vec::new();
    file.take(TITLE_HEAD).read_to_end(&mut head).ok()?;
    head.split(|b| *b == b'\n')
        .find_map(|line| match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(obj)) => transcript::user_text_title(&obj),
            _ => None,
        })
}

/// `text` safe to print on a terminal: control characters (escape
/// sequences included) become spaces.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

// ---------------------------------------------------------------------------
// Claude Code SessionEnd

/// The SessionEnd hook input fields openctl uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    pub session_id: String,
    pub transcript_path: Option<String>,
    pub reason: Option<String>,
}

/// Largest hook input read from stdin.
pub const MAX_HOOK_INPUT: u64 = 1024 * 1024;

/// Parse Claude Code's hook JSON.
pub fn parse_session_end(bytes: &[u8]) -> Result<SessionEnd> {
    let value: Value =
        serde_json::from_slice(bytes).context("the hook input on stdin is not JSON")?;
    let field = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    let session_id = field("session_id")
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .context("the hook input has no valid session_id")?;
    Ok(SessionEnd {
        session_id: session_id.to_ascii_lowercase(),
        transcript_path: field("transcript_path"),
        reason: field("reason"),
    })
}

/// Claude Code ended a session. When it is shared, record that in
/// shared-sessions.json (`endedAt`): the daemon sends what is left and
/// completes it on every server at once, instead of after its idle timeout
/// (new lines, e.g. `claude --resume`, make it live again). Returns what to
/// tell the user; a session that is not shared is left alone (`None`,
/// nothing written).
pub fn session_end(end: &SessionEnd) -> Result<Option<String>> {
    let Some(share) = shared::end(&end.session_id)? else {
        return Ok(None);
    };
    let running = crate::daemon::read_status()
        .map(|s| s.running)
        .unwrap_or(false);
    let how = if running {
        "the openctl daemon completes it there once everything is sent".to_string()
    } else {
        "the openctl daemon is not running: start it (openctl daemon start) to send the rest and complete it".to_string()
    };
    Ok(Some(format!(
        "openctl: session {} ended; it is shared with {}: {how}",
        share.uuid,
        share.servers.join(", "),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_carries_marker_and_never_fails() {
        assert!(SCRIPT.starts_with("#!/bin/sh\n"));
        assert!(SCRIPT.lines().any(|l| l.starts_with(MARKER)));
        assert!(SCRIPT.trim_end().ends_with("exit 0"));
        assert!(SCRIPT.contains(BACKUP));
    }

    #[test]
    fn session_end_input_parses_or_fails_cleanly() {
        let end = parse_session_end(
            br#"{"session_id":"7F3C2A10-0000-4000-8000-000000000001","transcript_path":"/t.jsonl","reason":"exit","hook_event_name":"SessionEnd"}"#,
        )
        .unwrap();
        assert_eq!(end.session_id, "7f3c2a10-0000-4000-8000-000000000001");
        assert_eq!(end.reason.as_deref(), Some("exit"));
        assert!(parse_session_end(b"").is_err());
        assert!(parse_session_end(b"{\"session_id\": \"../../etc\"}").is_err());
        assert!(parse_session_end(b"[1]").is_err());
    }

    #[test]
    fn printable_strips_escapes() {
        assert_eq!(printable("a\x1b[31mb\nc"), "a [31mb c");
    }
}
