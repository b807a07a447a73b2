//! Finding Claude Code sessions on this machine and resolving what the user
//! named (UUID, unique prefix, path, `CLAUDE_SESSION_ID`, or the newest
//! session of the current project).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Result;

use crate::error::CliError;
use crate::paths;
use crate::transcript;

/// A transcript file that is a session (not a subagent or spill file).
#[derive(Debug, Clone)]
pub struct SessionFile {
    pub uuid: String,
    pub path: PathBuf,
    pub modified: SystemTime,
}

impl SessionFile {
    fn from_path(path: PathBuf) -> Option<SessionFile> {
        let uuid = session_uuid(&path)?;
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Some(SessionFile {
            uuid,
            path,
            modified,
        })
    }
}

/// The session UUID a transcript path names: `<uuid>.jsonl`. Subagent files
/// (`agent-*.jsonl`) and anything else are not sessions.
pub fn session_uuid(path: &Path) -> Option<String> {
    if path.extension()? != "jsonl" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    uuid::Uuid::parse_str(stem)
        .ok()
        .filter(|_| stem.len() == 36)
        .map(|_| stem.to_ascii_lowercase())
}

/// Session transcripts directly inside one project directory, newest first.
pub fn in_project_dir(dir: &Path) -> Vec<SessionFile> {
    let mut out = scan_project_dir(dir, "");
    sort_newest_first(&mut out);
    out
}

/// The sessions in `dir` whose UUID starts with `prefix` (lowercase). Names
/// are filtered before any file is looked at.
fn scan_project_dir(dir: &Path, prefix: &str) -> Vec<SessionFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| name_has_prefix(&e.file_name(), prefix))
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| SessionFile::from_path(e.path()))
        .collect()
}

fn name_has_prefix(name: &std::ffi::OsStr, prefix: &str) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    name.len() >= prefix.len()
        && name.is_char_boundary(prefix.len())
        && name[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn sort_newest_first(list: &mut [SessionFile]) {
    list.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.uuid.cmp(&b.uuid)));
}

/// Every session of every project, newest first.
pub fn all() -> Vec<SessionFile> {
    with_prefix("")
}

/// The sessions of every project whose UUID starts with `prefix`
/// (case-insensitive), newest first. Only matching names are looked at.
pub fn with_prefix(prefix: &str) -> Vec<SessionFile> {
    let mut out = Vec::new();
    for root in paths::claude_project_roots() {
        let Ok(projects) = std::fs::read_dir(&root) else {
            continue;
        };
        for project in projects.filter_map(|e| e.ok()) {
            if project.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                out.extend(scan_project_dir(&project.path(), prefix));
            }
        }
    }
    sort_newest_first(&mut out);
    out
}

/// Where the sessions of the project at a working directory may have been
/// started: the directory itself and, inside a git working tree, its
/// parents up to the root of that working tree (Claude Code is often
/// started at the repository root and the user then works in a
/// subdirectory). Never above the working tree: a session of an enclosing
/// directory (a parent repository, a dotfiles repository in `~`) belongs
/// to another project.
#[derive(Debug, Clone)]
pub struct ProjectScope {
    /// Deepest first: the working directory, then its parents.
    pub dirs: Vec<PathBuf>,
    /// The root of the git working tree containing the directory.
    pub repo_root: Option<PathBuf>,
}

impl ProjectScope {
    pub fn of(cwd: &Path) -> ProjectScope {
        let repo_root = worktree_root(cwd).filter(|root| cwd.starts_with(root));
        let dirs = match &repo_root {
            Some(root) => cwd
                .ancestors()
                .take_while(|d| d.starts_with(root))
                .map(Path::to_path_buf)
                .collect(),
            None => vec![cwd.to_path_buf()],
        };
        ProjectScope { dirs, repo_root }
    }

    /// The searched directories in words, for messages.
    pub fn describe(&self) -> String {
        let cwd = self.dirs[0].display();
        match &self.repo_root {
            Some(root) if self.dirs.len() > 1 => format!(
                "{cwd} or its parents up to the repository root {}",
                root.display()
            ),
            _ => cwd.to_string(),
        }
    }

    /// Claude Code's project directory names for the searched directories.
    pub fn encoded(&self) -> Vec<String> {
        self.dirs
            .iter()
            .map(|d| paths::encode_project_dir(&d.to_string_lossy()))
            .collect()
    }
}

/// The root of the git working tree containing `dir` (the linked worktree
/// itself for a linked worktree), if any.
fn worktree_root(dir: &Path) -> Option<PathBuf> {
    let repo = git2::Repository::discover(dir).ok()?;
    let workdir = repo.workdir()?;
    let root = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let text = root.to_string_lossy();
    Some(if text.len() > 1 && text.ends_with('/') {
        PathBuf::from(text.trim_end_matches('/'))
    } else {
        root
    })
}

/// The sessions of the project at `cwd`: found under Claude Code's encoding
/// of the directory and confirmed by the transcripts' `cwd` field. When the
/// directory itself has none, its parents within the same git working tree
/// are tried ([`ProjectScope`]), nearest first.
pub fn for_project(cwd: &Path) -> Vec<SessionFile> {
    for_scope(&ProjectScope::of(cwd))
}

fn for_scope(scope: &ProjectScope) -> Vec<SessionFile> {
    let roots = paths::claude_project_roots();
    for dir in &scope.dirs {
        let Some(dir_str) = dir.to_str() else {
            continue;
        };
        let encoded = paths::encode_project_dir(dir_str);
        let mut found: Vec<SessionFile> = roots
            .iter()
            .flat_map(|root| in_project_dir(&root.join(&encoded)))
            .filter(|s| transcript_cwd_matches(&s.path, dir))
            .collect();
        if !found.is_empty() {
            sort_newest_first(&mut found);
            return found;
        }
    }
    Vec::new()
}

/// How much of a transcript [`head_title`] reads at most.
const TITLE_HEAD_BUDGET: u64 = 256 * 1024;

/// A session's title from the head of its transcript only (for tab
/// completion, where reading whole transcripts is too slow): a custom or AI
/// title seen before the first prompt, else the first real prompt. Reads
/// at most [`TITLE_HEAD_BUDGET`] bytes and stops at the first prompt.
pub fn head_title(path: &Path) -> Option<String> {
    use std::io::{BufRead, Read};
    let file = std::fs::File::open(path).ok()?;
    let mut reader = std::io::BufReader::new(file.take(TITLE_HEAD_BUDGET));
    let mut explicit: Option<transcript::Title> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 || !line.ends_with(b"\n") {
            break;
        }
        let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice(&line) else {
            continue;
        };
        match transcript::line_title(&obj) {
            Some(t @ transcript::Title::Prompt(_)) => {
                return Some(explicit.unwrap_or(t).text().to_string())
            }
            Some(t) if t.replaces(explicit.as_ref()) => explicit = Some(t),
            _ => {}
        }
    }
    explicit.map(|t| t.text().to_string())
}

/// How long `share` waits for a just-started session to name its working
/// directory: an interactive Claude Code writes its first lines a few tens
/// of milliseconds after it runs a command.
pub const CWD_WAIT: Duration = Duration::from_secs(3);

/// The working directory of a session: the `cwd` of its transcript's first
/// line that has one, waiting up to `wait` for such a line (woken by
/// changes to the file, not by polling). When none comes, this process's
/// own working directory, but only when it encodes to the transcript's
/// project directory name (the check Claude Code's own layout allows);
/// never a guess that fails it.
pub fn session_cwd(path: &Path, wait: Duration) -> Option<String> {
    let found = match (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        // Not written at all yet: it cannot be while the command that
        // needs it runs (see `not_written_yet`).
        _ if !path.exists() => None,
        (Some(dir), Some(name)) => {
            crate::daemon::status::wait_for_files(dir, &[name], wait, &mut || {
                Ok(transcript::first_cwd(path))
            })
            .ok()
            .flatten()
        }
        _ => transcript::first_cwd(path),
    };
    if found.is_some() {
        return found;
    }
    let own = std::env::current_dir().ok()?;
    let own = own.to_str()?;
    let project = path.parent()?.file_name()?.to_str()?;
    (paths::encode_project_dir(own) == project).then(|| own.to_string())
}

fn transcript_cwd_matches(path: &Path, dir: &Path) -> bool {
    match transcript::first_cwd(path) {
        Some(cwd) => Path::new(&cwd) == dir,
        // A transcript with no cwd yet (just started): trust the encoding.
        None => true,
    }
}

/// Resolve what the user named, or the default session.
pub fn resolve(arg: Option<&str>) -> Result<SessionFile> {
    if let Some(arg) = arg {
        return resolve_named(arg);
    }
    // Claude Code 2.1.3xx gives its Bash tool and command lines
    // CLAUDE_CODE_SESSION_ID.
    for var in ["CLAUDE_SESSION_ID", "CLAUDE_CODE_SESSION_ID"] {
        if let Ok(id) = std::env::var(var) {
            let id = id.trim();
            if !id.is_empty() {
                return resolve_named(id);
            }
        }
    }
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::not_found(format!("cannot read the current directory: {e}")))?;
    let scope = ProjectScope::of(&cwd);
    for_scope(&scope).into_iter().next().ok_or_else(|| {
        CliError::not_found(format!(
            "Session not found: no Claude Code session was started in {}",
            scope.describe()
        ))
        .with_hint(format!(
            "looked in {} for the project folder{} Claude Code names {}; to share another session, name it (`openctl session list --all` shows them all)",
            searched_roots(),
            if scope.encoded().len() > 1 { "s" } else { "" },
            scope
                .encoded()
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()
    })
}

fn searched_roots() -> String {
    let roots = paths::claude_project_roots();
    if roots.is_empty() {
        "nothing (none of $CLAUDE_CONFIG_DIR/projects, ~/.claude/projects, ~/.config/claude/projects exists)".to_string()
    } else {
        roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether this runs inside Claude Code (its Bash tool, or a command's
/// `!` line), where a model reads the output.
pub fn inside_claude_code() -> bool {
    std::env::var_os("CLAUDECODE").is_some_and(|v| !v.is_empty())
}

/// Inside Claude Code, a session named by its full UUID that has no
/// transcript yet: a command's `!` line (`/openctl:share` as the first
/// prompt) runs before Claude Code writes a new session's first line. Its
/// transcript will be `<claude dir>/projects/<this directory>/<uuid>.jsonl`,
/// since Claude Code runs the line in the session's project.
fn not_written_yet(arg: &str) -> Option<SessionFile> {
    if !inside_claude_code() || arg.len() != 36 {
        return None;
    }
    let uuid = uuid::Uuid::parse_str(arg).ok()?.hyphenated().to_string();
    let claude_dir = match std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => paths::home_dir()?.join(".claude"),
    };
    let cwd = std::env::current_dir().ok()?;
    let project = paths::encode_project_dir(cwd.to_str()?);
    Some(SessionFile {
        path: claude_dir
            .join("projects")
            .join(project)
            .join(format!("{uuid}.jsonl")),
        uuid,
        modified: SystemTime::now(),
    })
}

fn looks_like_path(arg: &str) -> bool {
    arg.contains(std::path::MAIN_SEPARATOR) || arg.ends_with(".jsonl") || arg.starts_with('.')
}

fn resolve_named(arg: &str) -> Result<SessionFile> {
    if looks_like_path(arg) {
        let path = PathBuf::from(arg);
        if path.is_file() {
            let abs = path.canonicalize().unwrap_or(path);
            let uuid = session_uuid(&abs).ok_or_else(|| {
                CliError::not_found(format!(
                    "{} is not a Claude Code session transcript (expected <uuid>.jsonl)",
                    abs.display()
                ))
            })?;
            let modified = std::fs::metadata(&abs)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            return Ok(SessionFile {
                uuid,
                path: abs,
                modified,
            });
        }
        return Err(CliError::not_found(format!("Session not found: {arg}"))
            .with_hint("the path does not exist or is not a file")
            .into());
    }
    let want = arg.to_ascii_lowercase();
    // The same session may appear under several Claude dirs: `all()` is
    // newest first, so the first match of a uuid is the one to use.
    let matches: Vec<SessionFile> = with_prefix(&want);
    let mut uuids: Vec<&str> = matches.iter().map(|s| s.uuid.as_str()).collect();
    uuids.sort();
    uuids.dedup();
    if uuids.is_empty() {
        if let Some(new) = not_written_yet(arg) {
            return Ok(new);
        }
    }
    match uuids.len() {
        0 => Err(CliError::not_found(format!("Session not found: {arg}"))
            .with_hint(format!(
                "searched {}; `openctl session list --all` shows every session",
                searched_roots()
            ))
            .into()),
        1 => Ok(matches[0].clone()),
        _ => Err(CliError::not_found(format!(
            "'{arg}' matches {} sessions: {}",
            uuids.len(),
            uuids.join(", ")
        ))
        .with_hint("type more of the UUID")
        .into()),
    }
}
