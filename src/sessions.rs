//! Finding Claude Code sessions on this machine and resolving what the user
//! named (UUID, unique prefix, path, `CLAUDE_SESSION_ID`, or the newest
//! session of the current project).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

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
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<SessionFile> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| SessionFile::from_path(e.path()))
        .collect();
    sort_newest_first(&mut out);
    out
}

fn sort_newest_first(list: &mut [SessionFile]) {
    list.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.uuid.cmp(&b.uuid)));
}

/// Every session of every project, newest first.
pub fn all() -> Vec<SessionFile> {
    let mut out = Vec::new();
    for root in paths::claude_project_roots() {
        let Ok(projects) = std::fs::read_dir(&root) else {
            continue;
        };
        for project in projects.filter_map(|e| e.ok()) {
            if project.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                out.extend(in_project_dir(&project.path()));
            }
        }
    }
    sort_newest_first(&mut out);
    out
}

/// The sessions of the project at `cwd`: found under Claude Code's encoding
/// of the directory and confirmed by the transcripts' `cwd` field. When the
/// directory itself has none, its ancestors are tried (Claude Code may have
/// been started in a parent directory).
pub fn for_project(cwd: &Path) -> Vec<SessionFile> {
    for dir in cwd.ancestors() {
        let Some(dir_str) = dir.to_str() else {
            continue;
        };
        let encoded = paths::encode_project_dir(dir_str);
        let mut found: Vec<SessionFile> = paths::claude_project_roots()
            .into_iter()
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
    if let Ok(id) = std::env::var("CLAUDE_SESSION_ID") {
        let id = id.trim();
        if !id.is_empty() {
            return resolve_named(id);
        }
    }
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::not_found(format!("cannot read the current directory: {e}")))?;
    for_project(&cwd).into_iter().next().ok_or_else(|| {
        CliError::not_found(format!(
            "Session not found: no Claude Code session for this directory ({})",
            cwd.display()
        ))
        .with_hint(format!(
            "searched {} for project '{}'; name a session explicitly (openctl session list --all)",
            searched_roots(),
            paths::encode_project_dir(&cwd.to_string_lossy())
        ))
        .into()
    })
}

fn searched_roots() -> String {
    let roots = paths::claude_project_roots();
    if roots.is_empty() {
        "no Claude Code projects directory exists ($CLAUDE_CONFIG_DIR/projects, ~/.claude/projects, ~/.config/claude/projects)".to_string()
    } else {
        roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
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
    let matches: Vec<SessionFile> = all()
        .into_iter()
        .filter(|s| s.uuid.starts_with(&want))
        .collect();
    let mut uuids: Vec<&str> = matches.iter().map(|s| s.uuid.as_str()).collect();
    uuids.sort();
    uuids.dedup();
    match uuids.len() {
        0 => Err(CliError::not_found(format!("Session not found: {arg}"))
            .with_hint(format!("searched {}", searched_roots()))
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
