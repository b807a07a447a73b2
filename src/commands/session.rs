//! `openctl session share|unshare|list|redactions` (and `openctl share`).

use anyhow::Result;
use serde_json::json;

use crate::cli::{ListArgs, RedactionsArgs, ShareArgs, UnshareArgs};
use crate::config::{self, Config};
use crate::error::{not_built, CliError, Exit};
use crate::output;
use crate::repo::{self, RepoIdentity};
use crate::sessions::{self, SessionFile};
use crate::transcript::{self, Line, Summary};
use crate::{shared, time};

/// What a share is about, before anything is sent.
struct Prepared {
    session: SessionFile,
    summary: Summary,
    repo: RepoIdentity,
    server: String,
}

impl Prepared {
    fn title(&self) -> &str {
        self.summary
            .title
            .as_deref()
            .unwrap_or(crate::wire::DEFAULT_TITLE)
    }
}

/// Steps 1 and 2 of the share flow: resolve the session and check (or ask
/// for) the repository permission for the target server.
fn prepare(
    session_arg: Option<&str>,
    server_flag: Option<&str>,
    allow_repo: bool,
) -> Result<Prepared> {
    let cfg = Config::load()?;
    let server = config::resolve_server(server_flag, &cfg)?;
    let session = sessions::resolve(session_arg)?;
    let summary = transcript::summarize(&session.path)?;
    let cwd = summary.cwd.clone().ok_or_else(|| {
        CliError::not_found(format!(
            "{} has no working directory yet (no line with a cwd), so its repository is unknown",
            session.path.display()
        ))
        .with_hint("send a first prompt in that Claude Code session, then share again")
    })?;
    let repo = repo::identify(std::path::Path::new(&cwd)).map_err(|e| {
        CliError::not_found(format!(
            "the session's project {cwd} is not a git repository you can share from ({e})"
        ))
    })?;
    if !cfg.is_repo_allowed(&server, &repo.id) {
        let decided = if allow_repo {
            true
        } else if output::can_prompt() {
            dialoguer::Confirm::new()
                .with_prompt(format!(
                    "This repository ({}) hasn't been allowed for sharing with {server}. Allow it?",
                    repo.id
                ))
                .default(false)
                .interact()
                .map_err(|e| CliError::new(Exit::RepoNotAllowed, format!("no answer: {e}")))?
        } else {
            return Err(not_allowed(&repo, &server));
        };
        if !decided {
            return Err(not_allowed(&repo, &server));
        }
        config::allow_repo(&server, &repo.id)?;
    }
    Ok(Prepared {
        session,
        summary,
        repo,
        server,
    })
}

fn not_allowed(repo: &RepoIdentity, server: &str) -> anyhow::Error {
    CliError::new(
        Exit::RepoNotAllowed,
        format!(
            "Repository {} is not allowed for {server}. Run: openctl repo allow {} -s {server}",
            repo.id,
            shell_quote(&repo.root.to_string_lossy())
        ),
    )
    .with_hint("or re-run the share with --allow-repo")
    .into()
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

pub fn share(args: &ShareArgs) -> Result<()> {
    let prepared = prepare(
        args.session.as_deref(),
        args.server.server.as_deref(),
        args.allow_repo,
    )?;
    if args.dry_run {
        return dry_run(&prepared, args.json);
    }
    Err(not_built("session share"))
}

/// What a share would upload: counts, and nothing is sent.
fn dry_run(p: &Prepared, json_out: bool) -> Result<()> {
    let mut messages = 0u64;
    let mut malformed = Vec::new();
    transcript::for_each_line(&p.session.path, |n, line| match line {
        Line::Message(_) => messages += 1,
        Line::Malformed => malformed.push(n),
        Line::Other => {}
    })?;
    if json_out {
        return output::print_json(&json!({
            "session": p.session.uuid,
            "path": p.session.path,
            "title": p.title(),
            "server": p.server,
            "repository": p.repo.id,
            "messages": messages,
            "malformed_lines": malformed,
        }));
    }
    output::println(format!("Session:     {} ({})", p.title(), p.session.uuid))?;
    output::println(format!("Transcript:  {}", p.session.path.display()))?;
    output::println(format!("Server:      {}", p.server))?;
    output::println(format!("Repository:  {}", p.repo.id))?;
    output::println(format!("Messages:    {messages}"))?;
    if !malformed.is_empty() {
        output::println(format!(
            "Skipped:     {} malformed line(s): {:?}",
            malformed.len(),
            malformed
        ))?;
    }
    eprintln!("Dry run: nothing was sent.");
    Ok(())
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
    let summaries = summarize_all(&files);
    let rows: Vec<_> = files
        .iter()
        .zip(summaries)
        .map(|(f, s)| (f, s, shares.get(&f.uuid)))
        .collect();
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

/// Summaries of many transcripts, read in parallel (the work is reading
/// whole files to count lines, so it scales with the cores).
fn summarize_all(files: &[SessionFile]) -> Vec<Summary> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if files.len() < 2 || workers == 1 {
        return files
            .iter()
            .map(|f| transcript::summarize(&f.path).unwrap_or_default())
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Summary> = vec![Summary::default(); files.len()];
    let results = std::sync::Mutex::new(&mut out);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let s = transcript::summarize(&f.path).unwrap_or_default();
                if let Ok(mut r) = results.lock() {
                    r[i] = s;
                }
            });
        }
    });
    out
}
