//! The working-tree diff a shared session shows: tracked changes against
//! HEAD plus the untracked files the session itself wrote, computed with
//! git2. Binary files are summarized by git ("Binary files ... differ"),
//! never inlined; the whole diff is capped in size with a visible marker.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Largest diff sent (well under the server's 50 MiB, and small enough to
/// ride inside a `complete` JSON body).
pub const MAX_DIFF_BYTES: usize = 8 * 1024 * 1024;

/// The unified diff of the repository at `root`: tracked changes (staged or
/// not) against HEAD, plus untracked files among `touched` (absolute paths).
pub fn working_tree_diff(root: &Path, touched: &BTreeSet<PathBuf>) -> Result<String> {
    let repo = git2::Repository::open(root)
        .with_context(|| format!("cannot open the git repository at {}", root.display()))?;
    let head_tree = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let mut out = Vec::new();

    let mut opts = git2::DiffOptions::new();
    opts.include_untracked(false).context_lines(3);
    let tracked = repo
        .diff_tree_to_workdir_with_index(head_tree.as_ref(), Some(&mut opts))
        .context("cannot diff the working tree")?;
    print(&tracked, &mut out)?;

    let untracked: Vec<String> = touched
        .iter()
        .filter_map(|p| p.strip_prefix(root).ok())
        .filter_map(|rel| rel.to_str().map(str::to_string))
        .filter(|rel| {
            matches!(repo.status_file(Path::new(rel)), Ok(s) if s.contains(git2::Status::WT_NEW))
        })
        .collect();
    if !untracked.is_empty() && out.len() < MAX_DIFF_BYTES {
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(true)
            .show_untracked_content(true)
            .recurse_untracked_dirs(true)
            .disable_pathspec_match(true)
            .context_lines(3);
        for rel in &untracked {
            opts.pathspec(rel);
        }
        let index = repo.index().context("cannot read the git index")?;
        let new_files = repo
            .diff_index_to_workdir(Some(&index), Some(&mut opts))
            .context("cannot diff untracked files")?;
        print(&new_files, &mut out)?;
    }
    Ok(cap(out))
}

fn print(diff: &git2::Diff<'_>, out: &mut Vec<u8>) -> Result<()> {
    diff.print(git2::DiffFormat::Patch, |_delta, _hunk, line| {
        if out.len() > MAX_DIFF_BYTES {
            return false;
        }
        match line.origin() {
            '+' | '-' | ' ' => out.push(line.origin() as u8),
            _ => {}
        }
        out.extend_from_slice(line.content());
        true
    })
    .or_else(|e| {
        // Stopping early (the size cap) reports as a user abort.
        if e.code() == git2::ErrorCode::User {
            Ok(())
        } else {
            Err(e)
        }
    })
    .context("cannot format the diff")
}

fn cap(mut out: Vec<u8>) -> String {
    if out.len() > MAX_DIFF_BYTES {
        out.truncate(MAX_DIFF_BYTES);
        let text = String::from_utf8_lossy(&out).into_owned();
        let cut = text.rfind('\n').map_or(0, |i| i + 1);
        return format!(
            "{}\n[openctl: diff truncated at {} MiB]\n",
            &text[..cut],
            MAX_DIFF_BYTES / (1024 * 1024)
        );
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@e")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@e")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn tracked_changes_and_touched_untracked_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        git(&root, &["init", "-q"]);
        std::fs::write(root.join("a.txt"), "one\n").unwrap();
        std::fs::write(root.join("bin.dat"), [0u8, 1, 2, 3]).unwrap();
        git(&root, &["add", "."]);
        git(&root, &["commit", "-qm", "init"]);
        std::fs::write(root.join("a.txt"), "one\ntwo\n").unwrap();
        std::fs::write(root.join("bin.dat"), [0u8, 9, 9, 9, 0]).unwrap();
        std::fs::write(root.join("new.txt"), "fresh\n").unwrap();
        std::fs::write(root.join("other.txt"), "not touched\n").unwrap();
        let touched: BTreeSet<PathBuf> = [root.join("new.txt")].into_iter().collect();
        let diff = working_tree_diff(&root, &touched).unwrap();
        assert!(diff.contains("+two"), "{diff}");
        assert!(diff.contains("+fresh"), "{diff}");
        assert!(!diff.contains("not touched"), "{diff}");
        assert!(diff.contains("Binary files"), "{diff}");
    }
}
