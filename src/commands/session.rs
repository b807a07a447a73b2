//! `openctl session share|unshare|list|redactions` (and `openctl share`).

use anyhow::{Context, Result};
use serde_json::json;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api_client::{self, Http};
use crate::cli::{ListArgs, RedactionsArgs, ShareArgs, UnshareArgs};
use crate::config::{self, Config};
use crate::daemon::{self, PairState};
use crate::error::{CliError, Exit};
use crate::output;
use crate::redact::Redactor;
use crate::repo::{self, RepoIdentity};
use crate::sessions::{self, SessionFile};
use crate::shared::{self, Share};
use crate::transcript::{self, Line, Summary};
use crate::wire::{CompleteRequest, LiveRequest, HARNESS_CLAUDE_CODE};
use crate::{server_url, time};

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
            .title_text()
            .unwrap_or(crate::wire::DEFAULT_TITLE)
    }
}

/// Steps 1 and 2 of the share flow: resolve the session and check (or ask
/// for) the repository permission for the target server. A permission
/// given here is written only once the share succeeded (see [`share`]): a
/// share that fails changes nothing.
fn prepare(
    session_arg: Option<&str>,
    server_flag: Option<&str>,
    allow_repo: bool,
) -> Result<(Prepared, bool)> {
    let prepared = resolve_target(session_arg, server_flag)?;
    let Prepared { repo, server, .. } = &prepared;
    if Config::load()?.is_repo_allowed(server, &repo.id) {
        return Ok((prepared, false));
    }
    if allow_repo {
        return Ok((prepared, true));
    }
    if !output::can_prompt() {
        return Err(not_allowed(repo, server, server_flag));
    }
    let yes = dialoguer::Confirm::new()
        .with_prompt(format!(
            "This repository ({}) hasn't been allowed for sharing with {server}. Allow it?",
            repo.id
        ))
        .default(false)
        .interact()
        .map_err(|e| CliError::new(Exit::RepoNotAllowed, format!("no answer: {e}")))?;
    if !yes {
        // The person decided: no hint on how to get around it.
        return Err(CliError::new(Exit::RepoNotAllowed, "Not shared.").into());
    }
    Ok((prepared, true))
}

/// Step 1 of the share flow, reading only: the session, its summary and
/// repository, and the target server.
fn resolve_target(session_arg: Option<&str>, server_flag: Option<&str>) -> Result<Prepared> {
    let cfg = Config::load()?;
    let server = config::resolve_server(server_flag, &cfg)?;
    let session = sessions::resolve(session_arg)?;
    let cwd = sessions::session_cwd(&session.path, sessions::CWD_WAIT).ok_or_else(|| {
        CliError::not_found(format!(
            "{} has no working directory yet (no line with a cwd after {} s), so its repository is unknown",
            session.path.display(),
            sessions::CWD_WAIT.as_secs()
        ))
        .with_hint("send a first prompt in that Claude Code session, then share again")
    })?;
    let mut summary = if session.path.exists() {
        transcript::summarize(&session.path)?
    } else {
        Summary::default()
    };
    summary.cwd.get_or_insert_with(|| cwd.clone());
    if std::path::Path::new(&cwd).exists()
        && !repo::is_inside_repository(std::path::Path::new(&cwd))
    {
        // Deliberately no allowing by path: a directory that is not a
        // repository (a home directory, /tmp) has no identity a teammate
        // would recognize, and is where sharing by accident is likeliest.
        return Err(CliError::new(
            Exit::RepoNotAllowed,
            format!(
                "Not shared: the session ran in {cwd}, which is not inside a git repository, and openctl allows sharing per repository"
            ),
        )
        .with_hint(format!(
            "to share sessions of that directory, make it a repository (`git init` in {cwd}), then share again: you will be asked to allow it"
        ))
        .into());
    }
    let repo = repo::identify(std::path::Path::new(&cwd)).map_err(|e| {
        CliError::not_found(format!(
            "the session's project {cwd} is not a git repository you can share from ({e})"
        ))
    })?;
    Ok(Prepared {
        session,
        summary,
        repo,
        server,
    })
}

fn not_allowed(repo: &RepoIdentity, server: &str, server_flag: Option<&str>) -> anyhow::Error {
    // A model reads this inside Claude Code: consent must come from the
    // person, so the way out is a command they type, never a flag a model
    // could add on its own.
    if sessions::inside_claude_code() {
        let server_arg = server_flag
            .map(|s| format!(" --server {}", shell_quote(s)))
            .unwrap_or_default();
        return CliError::new(
            Exit::RepoNotAllowed,
            format!(
                "Not shared: repository {} is not allowed for {server}. To allow it for {server} and share this session, type: /openctl:share --allow-repo{server_arg}",
                repo.id
            ),
        )
        .into();
    }
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
    if args.dry_run {
        return dry_run(args);
    }
    let (prepared, allow) = prepare(
        args.session.as_deref(),
        args.server.server.as_deref(),
        args.allow_repo,
    )?;
    let Prepared {
        session,
        summary,
        repo,
        server,
    } = &prepared;
    if server_url::is_insecure_remote(server) {
        output::warn(format!(
            "{server} is plain http and not on this machine: the session would travel unencrypted"
        ));
    }
    // Every local precondition before the first request: a state file
    // that does not read, or redaction rules that do not load, must not
    // leave a session on the server that nothing will stream.
    shared::load()?;
    let cfg = Config::load()?;
    let redactor = if cfg.redact(server) {
        Some(Redactor::load(&crate::paths::openctl_home()?)?)
    } else {
        None
    };
    let quiet = args.quiet;
    output::note(
        quiet,
        format!("Sharing \"{}\" with {server}…", prepared.title()),
    );

    // Step 3: create (or resume) the session on the server.
    let http = Http::new()?;
    let api = http.server(server, cfg.token(server))?;
    let mut title = prepared.title().to_string();
    if let Some(r) = &redactor {
        r.redact_string(&mut title, "title");
    }
    let request = LiveRequest {
        title,
        harness_session_id: session.uuid.clone(),
        harness: HARNESS_CLAUDE_CODE.to_string(),
        project_path: summary.cwd.clone(),
        model: summary.model.clone(),
        repo_url: repo.https_url.clone(),
        interactive: Some(false),
    };
    let live = api_client::block_on(api.create_live(&request))?.map_err(|e| {
        api.forget_if_never_answered(&e);
        e.into_cli()
    })?;
    let server_session_id = live.response.id.clone();

    // Step 4: record it (and the permission just given); from here on the
    // daemon streams it.
    if allow {
        config::allow_repo(server, &repo.id)?;
        output::note(quiet, format!("Allowed {} for {server}", repo.id));
    }
    let project = summary.cwd.as_deref().unwrap_or_default();
    shared::add(&session.uuid, &session.path, project, server, &server_session_id).with_context(|| {
        format!(
            "the session was created on {server} ({}) but the share cannot be recorded, so nothing streams it (share again once this is fixed)",
            live.url
        )
    })?;

    // Step 5: the daemon runs and reports this pair as streaming.
    let spinner = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        output::spinner("Starting the openctl daemon…")
    };
    if let Err(e) = daemon::ensure_running() {
        spinner.finish_and_clear();
        // Whatever stopped it (a spawn, a file, a lock), the share is
        // recorded but nothing streams it: that is exit 3.
        if crate::error::exit_code(&e) == Exit::DaemonStart as i32 {
            return Err(e);
        }
        return Err(CliError::new(
            Exit::DaemonStart,
            format!("the daemon could not start: {e:#}"),
        )
        .with_hint("run `openctl daemon start --foreground` to see why")
        .into());
    }
    spinner.set_message(format!("Waiting for the daemon to stream to {server}…"));
    let waited = daemon::wait_until(
        |status| {
            status.pair(&session.uuid, server).is_some_and(|p| {
                p.shared && (p.state != PairState::Starting && p.state != PairState::Retrying)
            })
        },
        Duration::from_secs(args.timeout),
    );
    spinner.finish_and_clear();
    let status = waited?.ok_or_else(|| timed_out(&session.uuid, server, args.timeout))?;
    if let Some(pair) = status.pair(&session.uuid, server) {
        if pair.state == PairState::Failed {
            return Err(CliError::new(
                Exit::Failure,
                format!(
                    "the daemon cannot stream this session to {server}: {}",
                    pair.last_error.as_deref().unwrap_or("unknown error")
                ),
            )
            .with_hint("see `openctl daemon status` and `openctl daemon logs`")
            .into());
        }
    }

    // Step 6: the URL, and only the URL, on stdout.
    if args.json {
        output::print_json(&json!({
            "url": live.url,
            "session": session.uuid,
            "server": server,
            "server_session_id": server_session_id,
            "resumed": live.response.resumed,
        }))?;
    } else {
        output::println(&live.url)?;
    }
    output::note(quiet, format!("{} Session shared", output::style_ok("✓")));
    Ok(())
}

fn timed_out(session: &str, server: &str, secs: u64) -> anyhow::Error {
    let last = daemon::read_status()
        .ok()
        .and_then(|s| s.pair(session, server).and_then(|p| p.last_error.clone()));
    let mut message =
        format!("the daemon did not start streaming {session} to {server} within {secs}s");
    if let Some(last) = last {
        message.push_str(&format!(" (last error: {last})"));
    }
    CliError::new(Exit::Timeout, message)
        .with_hint("the share is recorded and the daemon keeps trying; check `openctl daemon status`, or raise --timeout")
        .into()
}

/// What sharing a transcript with a server sends: message count,
/// malformed lines, and every redaction (kind, line, masked preview).
#[derive(Debug, serde::Serialize)]
struct UploadReport {
    messages: u64,
    /// Messages per kind (see `MessageKind`).
    kinds: BTreeMap<&'static str, u64>,
    malformed_lines: Vec<u64>,
    redact: bool,
    redactions: Vec<FoundSecret>,
}

#[derive(Debug, serde::Serialize)]
struct FoundSecret {
    line: u64,
    kind: String,
    preview: String,
    field: String,
}

fn upload_report(path: &std::path::Path, server: &str) -> Result<UploadReport> {
    let cfg = Config::load()?;
    let redact = cfg.redact(server);
    let redactor = if redact {
        Some(Redactor::load(&crate::paths::openctl_home()?)?)
    } else {
        None
    };
    let mut report = UploadReport {
        messages: 0,
        kinds: BTreeMap::new(),
        malformed_lines: Vec::new(),
        redact,
        redactions: Vec::new(),
    };
    transcript::for_each_line(path, |n, line| match line {
        Line::Message(mut m) => {
            report.messages += 1;
            if let Some(kind) = m.kind {
                *report.kinds.entry(kind.as_str()).or_default() += 1;
            }
            if let Some(r) = &redactor {
                for found in r.redact_message(&mut m) {
                    report.redactions.push(FoundSecret {
                        line: n,
                        kind: found.kind.into_owned(),
                        preview: found.preview,
                        field: found.path,
                    });
                }
            }
        }
        Line::Malformed => report.malformed_lines.push(n),
        Line::Other => {}
    })?;
    Ok(report)
}

/// `not_allowed`: why sharing would stop at the repository permission, if
/// it would (`share --dry-run` only).
fn print_report(
    p: &Prepared,
    report: &UploadReport,
    not_allowed: Option<&str>,
    json_out: bool,
) -> Result<()> {
    if json_out {
        return output::print_json(&json!({
            "session": p.session.uuid,
            "path": p.session.path,
            "title": p.title(),
            "server": p.server,
            "repository": p.repo.id,
            "repository_allowed": not_allowed.is_none(),
            "repository_note": not_allowed,
            "messages": report.messages,
            "kinds": report.kinds,
            "malformed_lines": report.malformed_lines,
            "redact": report.redact,
            "redactions": report.redactions,
        }));
    }
    output::println(format!("Session:     {} ({})", p.title(), p.session.uuid))?;
    output::println(format!("Transcript:  {}", p.session.path.display()))?;
    output::println(format!("Server:      {}", p.server))?;
    output::println(format!("Repository:  {}", p.repo.id))?;
    if let Some(note) = not_allowed {
        output::println(format!("Allowed:     no: {note}"))?;
    }
    output::println(format!("Messages:    {}", report.messages))?;
    if !report.kinds.is_empty() {
        // The order a reader meets them in a session.
        let kinds: Vec<String> = crate::wire::MessageKind::ALL
            .iter()
            .filter_map(|k| Some(format!("{} {}", report.kinds.get(k.as_str())?, k.as_str())))
            .collect();
        output::println(format!("Kinds:       {}", kinds.join(", ")))?;
    }
    if !report.malformed_lines.is_empty() {
        output::println(format!(
            "Skipped:     {} malformed line(s): {:?}",
            report.malformed_lines.len(),
            report.malformed_lines
        ))?;
    }
    if !report.redact {
        output::println(format!(
            "Redaction:   OFF for {} (openctl config set redact true -s {})",
            p.server, p.server
        ))?;
        return Ok(());
    }
    output::println(format!("Redactions:  {}", report.redactions.len()))?;
    for r in &report.redactions {
        output::println(format!(
            "  line {:>6}  {:<16} {:<22} {}",
            r.line, r.kind, r.preview, r.field
        ))?;
    }
    Ok(())
}

/// `share --dry-run`: what would be uploaded. Nothing is sent and no state
/// is written (no allowlist change, no share, no client id): a repository
/// not allowed yet is only reported.
fn dry_run(args: &ShareArgs) -> Result<()> {
    let p = resolve_target(args.session.as_deref(), args.server.server.as_deref())?;
    if server_url::is_insecure_remote(&p.server) {
        output::warn(format!(
            "{} is plain http and not on this machine: the session would travel unencrypted",
            p.server
        ));
    }
    let not_allowed = (!Config::load()?.is_repo_allowed(&p.server, &p.repo.id)).then(|| {
        let would = if args.allow_repo {
            "sharing with --allow-repo would allow it"
        } else {
            "sharing would ask, or need --allow-repo"
        };
        format!(
            "repository {} is not allowed for {} ({would})",
            p.repo.id, p.server
        )
    });
    let report = upload_report(&p.session.path, &p.server)?;
    print_report(&p, &report, not_allowed.as_deref(), args.json)?;
    eprintln!("Dry run: nothing was sent.");
    Ok(())
}

/// One line of an unshare report: `✓ server: outcome`, or `!` when it did
/// not go as asked.
fn report_server(quiet: bool, ok: bool, server: &str, outcome: &str) {
    let mark = if ok {
        output::style_ok("✓")
    } else {
        output::style_warn("!")
    };
    output::note(quiet, format!("{mark} {server}: {outcome}"));
}

/// The error of an unshare that ended a session with messages missing.
fn incomplete(message: String, uuid: &str, server: &str) -> anyhow::Error {
    CliError::new(Exit::Failure, message)
        .with_hint(format!(
            "messages may be missing there; see `openctl daemon status` and `openctl daemon logs`, fix the cause, then `openctl session share {uuid} -s {server}` sends the rest"
        ))
        .into()
}

pub fn unshare(args: &UnshareArgs) -> Result<()> {
    let quiet = args.quiet;
    let shares = shared::load()?;
    let uuid = resolve_shared(args.session.as_deref(), &shares)?;
    let server = args
        .server
        .as_deref()
        .map(server_url::normalize)
        .transpose()?;
    let removed = shared::remove(&uuid, server.as_deref())?;
    if removed.is_empty() && args.delete {
        // Not shared (any more): an earlier `--delete` may have failed after
        // the share was removed. Find the session on the server and delete it.
        return delete_unshared(&uuid, server, args);
    }
    if removed.is_empty() {
        let with = server.map(|s| format!(" with {s}")).unwrap_or_default();
        output::note(
            quiet,
            format!("Session {uuid} is not shared{with}; nothing to do."),
        );
        if args.json {
            output::print_json(&json!({"session": uuid, "servers": []}))?;
        }
        return Ok(());
    }

    // The daemon flushes what is unsent and completes each removed pair.
    let servers: Vec<String> = removed.iter().map(|(s, _)| s.clone()).collect();
    let status = wait_for_daemon(&uuid, &servers, args, quiet)?;

    let cfg = Config::load()?;
    let http = Http::new()?;
    let mut report = Vec::new();
    let mut failure: Option<anyhow::Error> = None;
    for (server, server_session_id) in &removed {
        // The first failure is the error printed last: not said twice.
        let had_failure = failure.is_some();
        let waiting = status
            .as_ref()
            .and_then(|s| s.pair(&uuid, server))
            .filter(|p| !args.delete && p.state == PairState::Retrying && p.server_unavailable);
        if let Some(p) = waiting {
            // One message, saying what was done and what happens next.
            let why = p.last_error.as_deref().unwrap_or("no answer");
            let message = format!(
                "Stopped sharing {uuid} here; {server} does not answer ({why}): the daemon completes the session there once it answers"
            );
            failure.get_or_insert_with(|| {
                CliError::new(Exit::Unreachable, message.clone())
                    .with_hint("`openctl daemon status` shows when it is done")
                    .into()
            });
            report.push(json!({"server": server, "server_session_id": server_session_id, "outcome": message}));
            continue;
        }
        let pair = status
            .as_ref()
            .and_then(|s| s.pair(&uuid, server))
            .filter(|p| pair_done(Some(p)));
        let api = http.server(server, cfg.token(server))?;
        let (ok, outcome) = if args.delete {
            let streamed = status
                .as_ref()
                .and_then(|s| s.pair(&uuid, server))
                .and_then(|p| p.server_session_id.clone());
            let known: Vec<&str> = server_session_id
                .iter()
                .chain(streamed.iter())
                .map(String::as_str)
                .collect();
            delete_on_server(&api, &uuid, &known, &mut failure)?
        } else {
            match pair {
                Some(p) if p.state == PairState::Complete && p.last_error.is_none() => {
                    (true, "completed".to_string())
                }
                Some(p) if p.state == PairState::Complete => {
                    // Completed, but with lines held back (e.g. redact.json
                    // does not load): nothing more to do on the server.
                    let why = p
                        .last_error
                        .clone()
                        .unwrap_or_else(|| "unknown error".to_string());
                    failure.get_or_insert_with(|| {
                        incomplete(
                            format!("{uuid} was completed on {server} without everything: {why}"),
                            &uuid,
                            server,
                        )
                    });
                    (false, format!("completed, but {why}"))
                }
                Some(p) => {
                    // The daemon had stopped streaming it: what it could not
                    // send is missing. Still end it for the viewers.
                    let why = p
                        .last_error
                        .clone()
                        .unwrap_or_else(|| "unknown error".to_string());
                    let (_, done) =
                        complete_on_server(&api, server_session_id.as_deref(), &mut failure)?;
                    failure.get_or_insert_with(|| {
                        incomplete(
                            format!("the daemon had stopped streaming {uuid} to {server}: {why}"),
                            &uuid,
                            server,
                        )
                    });
                    (
                        false,
                        format!("{done}, but the daemon had stopped streaming it: {why}"),
                    )
                }
                // No daemon did it (none runs, or it did not finish in
                // time): complete it here so the viewers see the end.
                None => complete_on_server(&api, server_session_id.as_deref(), &mut failure)?,
            }
        };
        if ok || had_failure {
            report_server(quiet, ok, server, &outcome);
        }
        report.push(
            json!({"server": server, "server_session_id": server_session_id, "outcome": outcome}),
        );
    }
    if args.delete {
        // The daemon let go of these pairs; the requests are done.
        let _ = shared::clear_abandon(&uuid, Some(&servers));
    }
    if args.json {
        output::print_json(&json!({"session": uuid, "servers": report}))?;
    }
    match failure {
        Some(e) => Err(e),
        None => {
            output::note(quiet, format!("Stopped sharing {uuid}"));
            Ok(())
        }
    }
}

/// `unshare --delete` of a session that is not shared: look it up on the
/// server (`-s`, else the default) by its Claude session id and delete it,
/// so a deletion that failed before (server down) can simply be run again.
fn delete_unshared(uuid: &str, server: Option<String>, args: &UnshareArgs) -> Result<()> {
    let cfg = Config::load()?;
    let server = match server {
        Some(s) => s,
        None => config::resolve_server(None, &cfg)?,
    };
    let http = Http::new()?;
    let api = http.server(&server, cfg.token(&server))?;
    let found = api_client::block_on(api.lookup(uuid))?.map_err(|e| e.into_cli())?;
    let mut failure = None;
    let (ok, outcome, id) = match found.session {
        Some(info) => {
            let (ok, outcome) = delete_on_server(&api, uuid, &[&info.id], &mut failure)?;
            (ok, outcome, Some(info.id))
        }
        None => (true, "not shared, and not on this server".to_string(), None),
    };
    report_server(args.quiet, ok, &server, &outcome);
    if args.json {
        output::print_json(&json!({"session": uuid, "servers": [
            {"server": server, "server_session_id": id, "outcome": outcome}
        ]}))?;
    }
    failure.map_or(Ok(()), Err)
}

/// How long `unshare --delete` waits for the daemon to let go of a pair it
/// was told to abandon (it gives an in-flight request 2 s).
const ABANDON_WAIT: Duration = Duration::from_secs(10);

/// Whether the daemon is done with a removed pair: not listed (it never
/// streamed it), or no longer shared and complete or failed.
fn pair_done(pair: Option<&daemon::PairStatus>) -> bool {
    pair.is_none_or(|p| !p.shared && matches!(p.state, PairState::Complete | PairState::Failed))
}

/// Wait (bounded by `--timeout`) until the daemon is done with every
/// removed pair. With `--delete`, pairs still streaming after that are
/// abandoned (the daemon stops them without flushing) before anything is
/// deleted, so it never re-creates what was deleted. `None` when no daemon
/// runs.
fn wait_for_daemon(
    uuid: &str,
    servers: &[String],
    args: &UnshareArgs,
    quiet: bool,
) -> Result<Option<daemon::Status>> {
    if !daemon::read_status().map(|s| s.running).unwrap_or(false) {
        return Ok(None);
    }
    let spinner = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        output::spinner("Waiting for the daemon to flush and complete the session…")
    };
    let all_done =
        |status: &daemon::Status| servers.iter().all(|s| pair_done(status.pair(uuid, s)));
    // A server that does not answer will not answer sooner for waiting:
    // the daemon completes the session there when it does.
    let settled = |status: &daemon::Status| {
        servers.iter().all(|s| {
            let pair = status.pair(uuid, s);
            pair_done(pair)
                || (!args.delete
                    && pair.is_some_and(|p| p.state == PairState::Retrying && p.server_unavailable))
        })
    };
    let mut finished = daemon::wait_until(settled, Duration::from_secs(args.timeout))?;
    if finished.is_none() && args.delete {
        spinner.set_message("Stopping the daemon's upload before deleting…");
        match shared::request_abandon(uuid, servers) {
            Ok(()) => finished = daemon::wait_until(all_done, ABANDON_WAIT)?,
            // The daemon cannot be told; deleting is still safe (after an
            // unshare it never re-creates a session the server lost).
            Err(e) => output::warn(format!(
                "{e:#}; deleting without waiting for the daemon to stop its upload"
            )),
        }
    }
    spinner.finish_and_clear();
    Ok(finished.or_else(|| daemon::read_status().ok()))
}

/// `POST complete` from the CLI. Returns (ok, what happened).
fn complete_on_server(
    api: &api_client::ServerApi,
    server_session_id: Option<&str>,
    failure: &mut Option<anyhow::Error>,
) -> Result<(bool, String)> {
    let Some(id) = server_session_id else {
        return Ok((true, "removed (no server session recorded)".to_string()));
    };
    Ok(
        match api_client::block_on(api.complete(id, &CompleteRequest::default()))? {
            Ok(_) => (true, "completed".to_string()),
            Err(e) => {
                let text = format!("not completed: {e}");
                let context = format!(
                    "{}: the share was removed here, but the session was not completed there: {e}",
                    api.base()
                );
                failure.get_or_insert(e.into_cli().context(context));
                (false, text)
            }
        },
    )
}

/// Delete session `uuid` on a server: every copy known to exist there —
/// the id the share recorded, the one the daemon streams to (it re-creates
/// a session that was lost), and the one the server finds by the Claude
/// session id — so "deleted" is never said while a copy stays readable.
fn delete_on_server(
    api: &api_client::ServerApi,
    uuid: &str,
    known: &[&str],
    failure: &mut Option<anyhow::Error>,
) -> Result<(bool, String)> {
    let retry = "once the server answers, run the same `openctl session unshare --delete` again";
    let mut ids: Vec<String> = known.iter().map(|s| s.to_string()).collect();
    match api_client::block_on(api.lookup(uuid))? {
        Ok(found) => ids.extend(found.session.map(|s| s.id)),
        // Another identity's session of the same id is not ours to delete.
        Err(e) if matches!(e.status(), Some(403 | 404)) => {}
        Err(e) => {
            let text = format!("not deleted: {e} ({retry})");
            let context = format!("{}: {text}", api.base());
            failure.get_or_insert(e.into_cli().context(context));
            return Ok((false, text));
        }
    }
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok((
            true,
            "removed; nothing to delete (not on the server)".to_string(),
        ));
    }
    let mut deleted = 0;
    for id in &ids {
        match api_client::block_on(api.delete(id))? {
            Ok(()) => deleted += 1,
            Err(e) if e.status() == Some(404) => {}
            Err(e) => {
                let text = format!("not deleted: {e} ({retry})");
                let context = format!("{}: {text}", api.base());
                failure.get_or_insert(e.into_cli().context(context));
                return Ok((false, text));
            }
        }
    }
    Ok(if deleted > 0 {
        (true, "deleted".to_string())
    } else {
        (true, "deleted (it was already gone)".to_string())
    })
}

/// The session to unshare: a shared session named by UUID or prefix (even
/// when its transcript is gone), else the usual resolution.
fn resolve_shared(arg: Option<&str>, shares: &BTreeMap<String, Share>) -> Result<String> {
    if let Some(arg) = arg {
        let want = arg.to_ascii_lowercase();
        let hits: Vec<&String> = shares.keys().filter(|k| k.starts_with(&want)).collect();
        if hits.len() == 1 {
            return Ok(hits[0].clone());
        }
    }
    Ok(sessions::resolve(arg)?.uuid)
}

/// `session redactions`: what redaction changes in a session, for the
/// servers it is shared with (or the one named).
pub fn redactions(args: &RedactionsArgs) -> Result<()> {
    let session = sessions::resolve(Some(&args.session))?;
    let cfg = Config::load()?;
    let shares = shared::load()?;
    let servers: Vec<String> = match (&args.server.server, shares.get(&session.uuid)) {
        (Some(flag), _) => vec![server_url::normalize(flag)?],
        (None, Some(share)) => share.servers.clone(),
        (None, None) => vec![config::resolve_server(None, &cfg)?],
    };
    let summary = transcript::summarize(&session.path)?;
    let repo_id = summary
        .cwd
        .as_deref()
        .and_then(|cwd| repo::identify(std::path::Path::new(cwd)).ok());
    let mut all = Vec::new();
    for server in servers {
        let report = upload_report(&session.path, &server)?;
        let prepared = Prepared {
            session: session.clone(),
            summary: summary.clone(),
            repo: repo_id.clone().unwrap_or_else(|| RepoIdentity {
                id: "(not a git repository)".into(),
                root: std::path::PathBuf::new(),
                https_url: None,
            }),
            server,
        };
        if args.json {
            all.push(
                json!({"server": prepared.server, "messages": report.messages,
                            "redact": report.redact, "redactions": report.redactions}),
            );
        } else {
            print_report(&prepared, &report, None, false)?;
        }
    }
    if args.json {
        output::print_json(&json!({"session": session.uuid, "servers": all}))?;
    }
    Ok(())
}

pub fn list(args: &ListArgs) -> Result<()> {
    let files: Vec<SessionFile> = if args.all {
        sessions::all()
    } else {
        sessions::for_project(&std::env::current_dir()?)
    };
    let shares = shared::load()?;
    let status = daemon::read_status().ok();
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
                    "title": s.title_text(),
                    "project": s.cwd,
                    "lines": s.lines,
                    "shared": share.is_some(),
                    "servers": share.map(|sh| share_states(sh, &status)).unwrap_or_default(),
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
        let title = s.title_text().unwrap_or("(no prompt yet)").to_string();
        let shared_with = match share {
            Some(sh) => share_states(sh, &status)
                .iter()
                .map(|v| {
                    let state = v["state"].as_str().unwrap_or("");
                    let error = v["last_error"]
                        .as_str()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default();
                    format!(
                        "\n    shared: {} ({state}{error})",
                        v["url"]
                            .as_str()
                            .unwrap_or_else(|| v["server"].as_str().unwrap_or(""))
                    )
                })
                .collect::<String>(),
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

/// Per server of a share: URL and what the daemon says about it.
fn share_states(share: &Share, status: &Option<daemon::Status>) -> Vec<serde_json::Value> {
    share
        .servers
        .iter()
        .map(|server| {
            let pair = status
                .as_ref()
                .filter(|s| s.running)
                .and_then(|s| s.pair(&share.uuid, server));
            let id = share.server_sessions.get(server);
            let url = pair
                .and_then(|p| p.url.clone())
                .or_else(|| id.map(|id| format!("{server}/sessions/{id}")));
            let state = match pair {
                Some(p) => serde_json::to_value(p.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                None if status.as_ref().is_some_and(|s| s.running) => "pending".to_string(),
                None => "daemon not running".to_string(),
            };
            json!({
                "server": server,
                "server_session_id": id,
                "url": url,
                "state": state,
                "last_error": pair.and_then(|p| p.last_error.clone()),
            })
        })
        .collect()
}
