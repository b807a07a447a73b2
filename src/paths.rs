//! Where openctl and Claude Code keep their files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The user's home directory (`$HOME`).
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `$OPENCTL_HOME`, else `~/.openctl`.
pub fn openctl_home() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("OPENCTL_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = home_dir().context("neither OPENCTL_HOME nor HOME is set; set one of them")?;
    Ok(home.join(".openctl"))
}

/// Create the openctl home (mode 0700) if it does not exist and return it.
pub fn ensure_openctl_home() -> Result<PathBuf> {
    let dir = openctl_home()?;
    ensure_private_dir(&dir)?;
    Ok(dir)
}

/// Create `dir` with mode 0700 (and its parents as needed). When `dir` is
/// the openctl home and already exists with group or other permissions
/// (e.g. left 0755 by the TypeScript CLI), it is restricted to 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        if is_openctl_home(dir) {
            restrict_to_owner(dir);
        }
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))
}

/// Whether `dir` is the openctl home (the same directory, however named).
fn is_openctl_home(dir: &Path) -> bool {
    let Ok(home) = openctl_home() else {
        return false;
    };
    if home == dir {
        return true;
    }
    match (std::fs::canonicalize(&home), std::fs::canonicalize(dir)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// chmod an existing directory to 0700 when group or others have any
/// permission on it. A failure is reported, not fatal: the files inside
/// are 0600 regardless.
fn restrict_to_owner(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(dir) else {
            return;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 == 0 {
            return;
        }
        if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
            eprintln!(
                "warning: {} is accessible to other users (mode {mode:o}) and could not be restricted: {e}. Run: chmod 700 {}",
                dir.display(),
                dir.display()
            );
        }
    }
}

/// Claude Code configuration directories that may hold `projects/`, in
/// order: `$CLAUDE_CONFIG_DIR`, `~/.claude`, `~/.config/claude`. Only the ones
/// that exist, without duplicates.
pub fn claude_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(home) = home_dir() {
        dirs.push(home.join(".claude"));
        dirs.push(home.join(".config").join("claude"));
    }
    let mut seen = Vec::new();
    for dir in dirs {
        let canon = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if dir.is_dir() && !seen.contains(&canon) {
            seen.push(canon);
        }
    }
    seen
}

/// The `projects/` directories of every Claude config dir that has one.
pub fn claude_project_roots() -> Vec<PathBuf> {
    claude_dirs()
        .into_iter()
        .map(|d| d.join("projects"))
        .filter(|p| p.is_dir())
        .collect()
}

/// Claude Code's encoding of a working directory into a project directory
/// name: every character outside `[A-Za-z0-9]` becomes `-`.
pub fn encode_project_dir(cwd: &str) -> String {
    cwd.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_non_alphanumeric() {
        assert_eq!(
            encode_project_dir("/home/me/my_app.v2"),
            "-home-me-my-app-v2"
        );
        assert_eq!(
            encode_project_dir("C:\\Windows\\System32"),
            "C--Windows-System32"
        );
        assert_eq!(encode_project_dir("/tmp/é x"), "-tmp---x");
    }
}
