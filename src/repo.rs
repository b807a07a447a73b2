//! Repository identity, read with git2 (no shelling out to git): the
//! normalized `origin` remote (`github.com/Org/Repo`), else the absolute
//! path of the repository root for a repository with no remote.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::CliError;

/// A repository as openctl identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoIdentity {
    /// The allowlist key: `host/path` of origin, or the root's absolute path.
    pub id: String,
    /// The working tree root (of the main worktree for a linked worktree).
    pub root: PathBuf,
    /// `https://host/path` when origin is a network remote.
    pub https_url: Option<String>,
}

/// Whether `path` is inside a git repository (of any state).
pub fn is_inside_repository(path: &Path) -> bool {
    !matches!(git2::Repository::discover(path), Err(e) if e.code() == git2::ErrorCode::NotFound)
}

/// Identify the repository containing `path`.
pub fn identify(path: &Path) -> Result<RepoIdentity> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    if !abs.exists() {
        return Err(CliError::not_found(format!("{} does not exist", abs.display())).into());
    }
    let repo = git2::Repository::discover(&abs).map_err(|e| discover_error(&abs, &e))?;
    let root = main_root(&repo).ok_or_else(|| {
        CliError::not_found(format!(
            "the repository at {} has no working tree (bare repositories cannot be shared)",
            repo.path().display()
        ))
    })?;
    let remote = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().map(str::to_string))
        .and_then(|u| normalize_remote(&u));
    Ok(match remote {
        Some(id) => RepoIdentity {
            https_url: Some(format!("https://{id}")),
            id,
            root,
        },
        None => RepoIdentity {
            id: root.to_string_lossy().into_owned(),
            root,
            https_url: None,
        },
    })
}

/// What failed when no repository could be opened at `path`: "not inside a
/// git repository" only when there is none; otherwise git's own reason
/// (e.g. a repository owned by another user) and what to do about it.
fn discover_error(path: &Path, err: &git2::Error) -> CliError {
    // Shown as the user would write it: `/a/b/.` is `/a/b`.
    let path: std::path::PathBuf = path.components().collect();
    let path = path.as_path();
    if err.code() == git2::ErrorCode::NotFound {
        return CliError::not_found(format!("{} is not inside a git repository", path.display()))
            .with_hint("run the command inside a git repository, or pass a path to one");
    }
    let message = CliError::not_found(format!(
        "cannot open the git repository containing {}: {}",
        path.display(),
        err.message()
    ));
    if err.code() == git2::ErrorCode::Owner {
        let root = git2::Repository::discover_path(path, std::iter::empty::<&str>())
            .ok()
            .map(|git_dir| {
                let root = if git_dir.file_name().is_some_and(|n| n == ".git") {
                    git_dir.parent().map(Path::to_path_buf).unwrap_or(git_dir)
                } else {
                    git_dir
                };
                root.to_string_lossy().trim_end_matches('/').to_string()
            })
            .unwrap_or_else(|| "<repository root>".to_string());
        return message.with_hint(format!(
            "the repository belongs to another user; if you trust it, run: git config --global --add safe.directory '{root}'"
        ));
    }
    message.with_hint("check the repository there with `git status` and repair it")
}

/// The root of the main working tree: for a linked worktree the directory
/// that holds the common git dir, so every worktree shares one identity.
fn main_root(repo: &git2::Repository) -> Option<PathBuf> {
    let common = repo.commondir();
    let common = common
        .canonicalize()
        .unwrap_or_else(|_| common.to_path_buf());
    if common.file_name().is_some_and(|n| n == ".git") {
        if let Some(parent) = common.parent() {
            return Some(parent.to_path_buf());
        }
    }
    let workdir = repo.workdir()?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    Some(strip_trailing_sep(workdir))
}

fn strip_trailing_sep(p: PathBuf) -> PathBuf {
    let s = p.to_string_lossy();
    if s.len() > 1 && s.ends_with('/') {
        PathBuf::from(s.trim_end_matches('/'))
    } else {
        p
    }
}

/// Normalize a remote URL to `host/path`: scheme, user, port, `.git` and
/// trailing `/` dropped, host lowercased, path case kept. Local remotes
/// (paths, `file://`) have no network identity: `None`.
pub fn normalize_remote(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (host, path) = if let Some(idx) = raw.find("://") {
        let scheme = &raw[..idx];
        if scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        let rest = &raw[idx + 3..];
        let (authority, path) = rest.split_once('/')?;
        (authority, path)
    } else if let Some((authority, path)) = raw.split_once(':') {
        // scp-like: [user@]host:path (but not a Windows drive or a local path)
        if authority.contains('/') || authority.len() <= 1 {
            return None;
        }
        (authority, path)
    } else {
        return None;
    };
    let host = host.rsplit('@').next()?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?.to_string(),
        None => host.split(':').next()?.to_string(),
    }
    .to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    Some(format!("{host}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::normalize_remote as n;
    use super::*;

    #[test]
    fn only_a_missing_repository_is_called_not_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        let missing = git2::Error::new(
            git2::ErrorCode::NotFound,
            git2::ErrorClass::Repository,
            "could not find repository",
        );
        let e = discover_error(dir.path(), &missing);
        assert!(e.message.ends_with("is not inside a git repository"), "{e}");

        let owner = git2::Error::new(
            git2::ErrorCode::Owner,
            git2::ErrorClass::Config,
            "repository path '/srv/repo/' is not owned by current user",
        );
        let e = discover_error(Path::new("/srv/repo/src"), &owner);
        assert!(!e.message.contains("not inside a git repository"), "{e}");
        assert!(e.message.contains("/srv/repo/src"), "{e}");
        assert!(e.message.contains("is not owned by current user"), "{e}");
        assert!(
            e.hint.as_deref().unwrap().contains("safe.directory"),
            "{:?}",
            e.hint
        );

        let corrupt = git2::Error::new(
            git2::ErrorCode::GenericError,
            git2::ErrorClass::Odb,
            "object database is corrupt",
        );
        let e = discover_error(Path::new("/srv/repo"), &corrupt);
        assert!(e.message.contains("object database is corrupt"), "{e}");
        assert!(e.hint.as_deref().unwrap().contains("git status"), "{e}");
    }

    #[test]
    fn remotes_normalize() {
        let want = Some("github.com/Org/Repo".to_string());
        assert_eq!(n("git@github.com:Org/Repo.git"), want);
        assert_eq!(n("https://GitHub.com/Org/Repo.git"), want);
        assert_eq!(n("https://GitHub.com/Org/Repo/"), want);
        assert_eq!(n("ssh://git@github.com/Org/Repo.git"), want);
        assert_eq!(n("ssh://git@github.com:2222/Org/Repo.git"), want);
        assert_eq!(n("git://github.com/Org/Repo"), want);
        assert_eq!(n("https://user:pw@github.com/Org/Repo"), want);
        assert_eq!(n("/srv/git/repo.git"), None);
        assert_eq!(n("file:///srv/git/repo.git"), None);
        assert_eq!(n("C:\\repos\\x"), None);
    }
}
