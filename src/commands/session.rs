//! `openctl session share|unshare|list|redactions` (and `openctl share`).

use anyhow::Result;
use serde_json::json;

use crate::cli::{ListArgs, RedactionsArgs, ShareArgs, UnshareArgs};
use crate::error::not_built;
use crate::output;
use crate::sessions::{self, SessionFile};
use crate::{shared, time, transcript};

pub fn share(_args: &ShareArgs) -> Result<()> {
    Err(not_built("session share"))
}

pub fn unshare(_args: &UnshareArgs) -> Result<()> {
    Err(not_built("session unshare"))
}

pub fn redactions(_args: &RedactionsArgs) -> Result<()> {
    Err(not_built("session redactions"))
}

pub fn list(args: &ListArgs) -> Result<()> {
    let files: Vec<SessionFile> = if args.all {
        sessions::all()
    } else {
        sessions::for_project(&std::env::current_dir()?)
    };
    let shares = shared::load()?;
    let mut rows = Vec::with_capacity(files.len());
    for f in &files {
        let summary = transcript::summarize(&f.path).unwrap_or_default();
        let share = shares.get(&f.uuid);
        rows.push((f, summary, share));
    }
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(f, s, share)| {
                json!({
                    "uuid": f.uuid,
                    "path": f.path,
                    "last_activity": time::rfc3339(f.modified),
                    "title": s.title,
                    "project": s.cwd,
                    "lines": s.lines,
                    "shared": share.is_some(),
                    "servers": share.map(|sh| sh.servers.clone()).unwrap_or_default(),
                })
            })
            .collect();
        return output::print_json(&list);
    }
    if rows.is_empty() {
        let where_ = if args.all {
            "on this machine".to_string()
        } else {
            format!("for {} (try --all)", std::env::current_dir()?.display())
        };
        eprintln!("No Claude Code sessions {where_}");
        return Ok(());
    }
    for (f, s, share) in rows {
        let title = s.title.unwrap_or_else(|| "(no prompt yet)".to_string());
        let shared_with = match share {
            Some(sh) => format!("  shared: {}", sh.servers.join(", ")),
            None => String::new(),
        };
        let project = if args.all {
            format!("  {}", s.cwd.unwrap_or_default())
        } else {
            String::new()
        };
        output::println(format!(
            "{}  {:>8}  {:>6} lines  {}{}{}",
            f.uuid,
            time::ago(f.modified),
            s.lines,
            title,
            project,
            shared_with
        ))?;
    }
    Ok(())
}
