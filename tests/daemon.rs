//! Integration tests: the daemon (issue 4), with the real `openctl daemon`
//! streaming to the real `openctl server` on 127.0.0.1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{
    append, assistant_line, daemon_pair, daemon_status, own_transcripts, read_bytes, read_text,
    user_line, wait_for, write_config, write_shares, DaemonGuard, TestEnv, TestServer,
};

const LONG: Duration = Duration::from_secs(30);
const REPO_ID: &str = "github.com/acme/proj";

/// A test environment with a git repository (origin github.com/acme/proj)
/// that sessions run in.
fn setup() -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let repo = env.git_repo("proj", Some("https://github.com/acme/proj.git"));
    (env, repo)
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `n` alternating user/assistant lines for `session`, uuids `<session>-<i>`.
fn lines(session: &str, cwd: &Path, from: usize, n: usize) -> Vec<String> {
    (from..from + n)
        .map(|i| {
            let id = format!("{session}-{i}");
            if i % 2 == 0 {
                user_line(&id, cwd, &format!("prompt {i}"))
            } else {
                assistant_line(&id, cwd, &format!("answer {i}"))
            }
        })
        .collect()
}

/// A new session of `n` lines in `repo`, shared with `server` (the repo
/// allowed for it), and the daemon running: (session, transcript, guard).
fn stream_new_session<'a>(
    env: &'a TestEnv,
    repo: &Path,
    server: &TestServer,
    n: usize,
) -> (String, PathBuf, DaemonGuard<'a>) {
    write_config(env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let path = env.write_session(repo, &session, &lines(&session, repo, 0, n));
    write_shares(env, &[(&session, &path, &[&server.url])]);
    (session, path, DaemonGuard::start(env))
}

fn server_id(env: &TestEnv, session: &str, server: &str) -> String {
    wait_for("the daemon to create the server session", LONG, || {
        daemon_pair(env, session, server)?["server_session_id"]
            .as_str()
            .map(str::to_string)
    })
}

fn stored(server: &TestServer, id: &str) -> Vec<Value> {
    server.get_session(id)["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn uuids(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["uuid"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Wait until the server holds at least `expected.len()` messages and the
/// daemon has nothing left to send for the pair; then the stored uuids
/// must equal `expected` exactly (in order, each once).
fn assert_stored_exactly(
    env: &TestEnv,
    server: &TestServer,
    session: &str,
    id: &str,
    expected: &[String],
) -> Vec<Value> {
    assert_stored_with_lag(env, server, session, id, expected, 0)
}

/// Like [`assert_stored_exactly`] for a transcript that ends in an
/// incomplete line of `lag` bytes (which must stay unsent).
fn assert_stored_with_lag(
    env: &TestEnv,
    server: &TestServer,
    session: &str,
    id: &str,
    expected: &[String],
    lag: u64,
) -> Vec<Value> {
    wait_for(
        &format!("{} messages on {}", expected.len(), server.url),
        LONG,
        || (stored(server, id).len() >= expected.len()).then_some(()),
    );
    wait_for("the daemon to have no lag", LONG, || {
        let p = daemon_pair(env, session, &server.url)?;
        (p["lag_bytes"] == lag && p["state"] == "streaming").then_some(())
    });
    let msgs = stored(server, id);
    assert_eq!(uuids(&msgs), expected, "stored messages differ");
    msgs
}

fn ids(session: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{session}-{i}")).collect()
}

#[test]
fn streams_a_300_line_transcript_in_order_then_each_new_line_fast() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let mut all = lines(&session, &repo, 0, 300);
    // Bookkeeping and sidechain lines are not messages.
    all.insert(
        10,
        json!({"type": "file-history-snapshot", "messageId": "x", "snapshot": {}}).to_string(),
    );
    all.insert(
        20,
        json!({"type": "user", "uuid": "side", "isSidechain": true, "cwd": repo,
               "message": {"role": "user", "content": "subagent"}})
        .to_string(),
    );
    let path = env.write_session(&repo, &session, &all);
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);

    let id = server_id(&env, &session, &server.url);
    let msgs = assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..300));
    assert_eq!(msgs[0]["role"], "user");
    assert_eq!(msgs[0]["content_blocks"][0]["text"], "prompt 0");
    assert_eq!(msgs[299]["role"], "assistant");
    assert_eq!(msgs[299]["content_blocks"][0]["text"], "answer 299");
    let detail = server.get_session(&id);
    assert_eq!(
        detail["session"]["title"], "prompt 0",
        "title derived and PATCHed"
    );
    assert_eq!(detail["session"]["status"], "live");
    // The status snapshot trails the server's answers by a few ms.
    let pair = wait_for("the status to count 300 sent", LONG, || {
        daemon_pair(&env, &session, &server.url).filter(|p| p["messages_sent"] == 300)
    });
    assert_eq!(pair["lines_skipped"], 0);
    assert!(pair["url"].as_str().unwrap_or("").contains(&id));

    // One appended line: each reaches the server quickly (a sanity bound;
    // latency is measured properly by the benchmark).
    let mut took = Vec::new();
    for i in 300..305 {
        let start = Instant::now();
        append(&path, &lines(&session, &repo, i, 1));
        wait_for("the appended line", LONG, || {
            (stored(&server, &id).len() == i + 1).then_some(())
        });
        took.push(start.elapsed());
    }
    took.sort();
    assert!(
        took[2] < Duration::from_secs(1),
        "median latency of one appended line: {:?}",
        took[2]
    );
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..305));
}

#[test]
fn sigkill_while_appending_then_restart_delivers_every_message_once() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    let (session, path, _daemon) = stream_new_session(&env, &repo, &server, 20);
    let id = server_id(&env, &session, &server.url);

    let total = 300;
    let writer = {
        let (path, repo, session) = (path.clone(), repo.clone(), session.clone());
        std::thread::spawn(move || {
            for i in 20..total {
                append(&path, &lines(&session, &repo, i, 1));
                // Pace the writer so the kill lands mid-stream.
                std::thread::yield_now();
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    wait_for("some appended lines to arrive", LONG, || {
        (stored(&server, &id).len() >= 60).then_some(())
    });
    let pid = daemon_status(&env)["pid"].as_u64().expect("daemon pid") as i32;
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    wait_for("the killed daemon to be gone", LONG, || {
        (daemon_status(&env)["running"] == false).then_some(())
    });
    writer.join().expect("writer");
    env.ok(&["daemon", "start"]);
    let new_pid = daemon_status(&env)["pid"].as_u64().expect("pid");
    assert_ne!(new_pid as i32, pid);
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..total));
}

#[test]
fn server_outage_with_a_malformed_line_loses_and_duplicates_nothing() {
    let (env, repo) = setup();
    let mut server = TestServer::start(&env);
    let (session, path, _daemon) = stream_new_session(&env, &repo, &server, 10);
    let id = server_id(&env, &session, &server.url);
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..10));

    server.stop();
    append(&path, &lines(&session, &repo, 10, 5));
    append(
        &path,
        &["{\"type\": \"user\", \"message\": oops".to_string()],
    );
    append(&path, &lines(&session, &repo, 15, 5));
    wait_for("the daemon to notice the outage", LONG, || {
        let p = daemon_pair(&env, &session, &server.url)?;
        (p["state"] == "retrying").then_some(())
    });
    server.restart();
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..20));
    let pair = wait_for("the status to count 20 sent", LONG, || {
        daemon_pair(&env, &session, &server.url).filter(|p| p["messages_sent"] == 20)
    });
    assert_eq!(pair["lines_skipped"], 1, "{pair}");
    let log = std::fs::read_to_string(env.openctl_home.join("daemon.log")).expect("log");
    assert!(
        log.contains("line=16"),
        "the malformed line is logged with its number:\n{log}"
    );
}

#[test]
fn a_line_written_in_two_parts_arrives_once_whole() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    let (session, path, _daemon) = stream_new_session(&env, &repo, &server, 2);
    let id = server_id(&env, &session, &server.url);
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..2));

    let line = user_line(
        &format!("{session}-2"),
        &repo,
        "a prompt written in two parts",
    );
    let (first, second) = line.split_at(line.len() / 2);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(first.as_bytes()).expect("first half");
    // The daemon has seen the half line (it counts as lag) and sent nothing.
    wait_for("the daemon to see the half line", LONG, || {
        let p = daemon_pair(&env, &session, &server.url)?;
        (p["lag_bytes"] == first.len()).then_some(())
    });
    assert_eq!(stored(&server, &id).len(), 2);
    f.write_all(format!("{second}\n").as_bytes())
        .expect("second half");
    let msgs = assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..3));
    assert_eq!(
        msgs[2]["content_blocks"][0]["text"],
        "a prompt written in two parts"
    );
}

#[test]
fn unsharing_completes_and_sharing_again_resumes_the_same_server_session() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    let (session, path, _daemon) = stream_new_session(&env, &repo, &server, 4);
    let id = server_id(&env, &session, &server.url);
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..4));

    // Lines written just before the unshare are flushed before complete.
    append(&path, &lines(&session, &repo, 4, 2));
    write_shares(&env, &[]);
    wait_for("the session to complete on the server", LONG, || {
        (server.get_session(&id)["session"]["status"] == "complete").then_some(())
    });
    assert_eq!(uuids(&stored(&server, &id)), ids(&session, 0..6));
    wait_for(
        "the pair to be reported unshared and complete",
        LONG,
        || {
            let p = daemon_pair(&env, &session, &server.url)?;
            (p["shared"] == false && p["state"] == "complete").then_some(())
        },
    );
    // Not shared: new lines stay on this machine.
    append(&path, &lines(&session, &repo, 6, 1));

    write_shares(&env, &[(&session, &path, &[&server.url])]);
    wait_for("the session to be live again", LONG, || {
        (server.get_session(&id)["session"]["status"] == "live").then_some(())
    });
    assert_eq!(
        server_id(&env, &session, &server.url),
        id,
        "same server session"
    );
    append(&path, &lines(&session, &repo, 7, 1));
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..8));
}

#[test]
fn two_servers_both_receive_everything_and_one_down_does_not_slow_the_other() {
    let (env, repo) = setup();
    let a = TestServer::start(&env);
    let mut b = TestServer::start_with(&env, &env.path().join("b.db"), &[]);
    write_config(&env, &[&a.url, &b.url], REPO_ID, json!({}));
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0, 50));
    write_shares(&env, &[(&session, &path, &[&a.url, &b.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id_a = server_id(&env, &session, &a.url);
    let id_b = server_id(&env, &session, &b.url);
    assert_stored_exactly(&env, &a, &session, &id_a, &ids(&session, 0..50));
    assert_stored_exactly(&env, &b, &session, &id_b, &ids(&session, 0..50));

    b.stop();
    for i in 50..60 {
        let start = Instant::now();
        append(&path, &lines(&session, &repo, i, 1));
        wait_for("server A to get the line while B is down", LONG, || {
            (stored(&a, &id_a).len() == i + 1).then_some(())
        });
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "server A waited {:?} for a line while B was down",
            start.elapsed()
        );
    }
    wait_for("B's pair to be retrying", LONG, || {
        (daemon_pair(&env, &session, &b.url)?["state"] == "retrying").then_some(())
    });
    assert_eq!(
        daemon_pair(&env, &session, &a.url).expect("a")["state"],
        "streaming"
    );
    b.restart();
    assert_stored_exactly(&env, &b, &session, &id_b, &ids(&session, 0..60));
    assert_stored_exactly(&env, &a, &session, &id_a, &ids(&session, 0..60));
}

#[test]
fn start_twice_is_one_daemon_and_stop_ends_it() {
    let env = TestEnv::new();
    let out = env.run(&["daemon", "stop"]);
    assert!(out.status.success(), "stop with no daemon exits 0");
    let _daemon = DaemonGuard::start(&env);
    let first = daemon_status(&env);
    assert_eq!(first["running"], true);
    assert_eq!(first["version"], env!("CARGO_PKG_VERSION"));
    let pid = first["pid"].as_u64().expect("pid");
    let out = env.run(&["daemon", "start"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already running"),
        "{out:?}"
    );
    assert_eq!(daemon_status(&env)["pid"].as_u64(), Some(pid));
    let pid_file = std::fs::read_to_string(env.openctl_home.join("daemon.pid")).expect("pid");
    assert_eq!(pid_file.trim(), pid.to_string());
    // A second foreground daemon refuses to run next to it (exit 3).
    let out = env.run(&["daemon", "start", "--foreground"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");

    env.ok(&["daemon", "stop"]);
    assert_eq!(daemon_status(&env)["running"], false);
    // Gone, or a zombie waiting for a reaper (the detached daemon's parent
    // is whatever adopts orphans here): not running either way.
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|r| r.trim().chars().next()))
        .flatten();
    assert!(
        state.is_none() || state == Some('Z'),
        "daemon process {pid} still runs after stop (state {state:?})"
    );
    assert!(!env.openctl_home.join("daemon.pid").exists());
    let human = env.ok(&["daemon", "status"]);
    assert!(human.contains("not running"), "{human}");
}

#[test]
fn a_stale_pid_file_with_a_reused_pid_does_not_prevent_start() {
    for stale in [1, std::process::id()] {
        let env = TestEnv::new();
        std::fs::create_dir_all(&env.openctl_home).expect("home");
        std::fs::write(env.openctl_home.join("daemon.pid"), format!("{stale}\n")).expect("pid");
        std::fs::write(
            env.openctl_home.join("daemon.lock"),
            format!("{stale} 0.0.1\n"),
        )
        .expect("lock");
        assert_eq!(daemon_status(&env)["running"], false);
        let _daemon = DaemonGuard::start(&env);
        let st = daemon_status(&env);
        assert_eq!(st["running"], true);
        let pid = st["pid"].as_u64().expect("pid");
        assert_ne!(pid, u64::from(stale));
    }
}

#[test]
fn an_unshared_session_of_an_allowed_repo_never_reaches_the_server() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let shared = new_uuid();
    let private = new_uuid();
    let shared_path = env.write_session(&repo, &shared, &lines(&shared, &repo, 0, 3));
    let private_path = env.write_session(&repo, &private, &lines(&private, &repo, 0, 3));
    write_shares(&env, &[(&shared, &shared_path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = server_id(&env, &shared, &server.url);
    append(&private_path, &lines(&private, &repo, 3, 2));
    append(&shared_path, &lines(&shared, &repo, 3, 2));
    assert_stored_exactly(&env, &server, &shared, &id, &ids(&shared, 0..5));

    let res = crate::common::as_owner(
        &env,
        &server,
        reqwest::Method::GET,
        &format!("/api/sessions?claude_session_id={private}"),
    )
    .send()
    .expect("lookup");
    let body: Value = res.json().expect("lookup json");
    assert_eq!(body["session"], Value::Null, "{body}");
    assert!(daemon_pair(&env, &private, &server.url).is_none());
}

#[test]
fn a_session_whose_repo_is_not_allowed_fails_visibly_and_sends_nothing() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], "github.com/acme/other", json!({}));
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0, 3));
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let pair = wait_for("the pair to fail", LONG, || {
        daemon_pair(&env, &session, &server.url).filter(|p| p["state"] == "failed")
    });
    let err = pair["last_error"].as_str().unwrap_or("");
    assert!(
        err.contains("not allowed") && err.contains(REPO_ID),
        "{pair}"
    );
    assert_eq!(pair["server_session_id"], Value::Null);
    let human = env.ok(&["daemon", "status"]);
    assert!(human.contains("FAILED"), "{human}");
}

#[test]
fn idle_sessions_complete_and_new_lines_make_them_live_again() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(
        &env,
        &[&server.url],
        REPO_ID,
        json!({"idleTimeoutSeconds": 1}),
    );
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0, 2));
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = server_id(&env, &session, &server.url);
    wait_for("the idle session to complete", LONG, || {
        (server.get_session(&id)["session"]["status"] == "complete").then_some(())
    });
    // The status snapshot follows the server's answer within moments.
    wait_for("the pair to show complete", LONG, || {
        (daemon_pair(&env, &session, &server.url)?["state"] == "complete").then_some(())
    });
    append(&path, &lines(&session, &repo, 2, 1));
    wait_for("the new line on the live session", LONG, || {
        let d = server.get_session(&id);
        (d["messages"].as_array().map_or(0, Vec::len) == 3).then_some(())
    });
    assert_eq!(uuids(&stored(&server, &id)), ids(&session, 0..3));
}

#[test]
fn a_file_modifying_tool_call_sends_the_diff() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let file = repo.join("hello.txt");
    std::fs::write(&file, "hello from the session\n").expect("file");
    let write_call = json!({
        "type": "assistant", "uuid": format!("{session}-1"), "cwd": repo,
        "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t1", "name": "Write",
             "input": {"file_path": file, "content": "hello from the session\n"}}]}
    })
    .to_string();
    let path = env.write_session(
        &repo,
        &session,
        &[
            user_line(&format!("{session}-0"), &repo, "write a file"),
            write_call,
        ],
    );
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = server_id(&env, &session, &server.url);
    let diff = wait_for("the diff on the server", LONG, || {
        let d = server.get_session(&id);
        d["diffs"].as_array()?.first()?["diff"]
            .as_str()
            .map(str::to_string)
    });
    assert!(diff.contains("+hello from the session"), "{diff}");
}

/// Non-sidechain user/assistant uuids of complete lines, in order.
fn expected_uuids(session: &str, path: &Path) -> Vec<String> {
    let text = read_text(path);
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    // A line without a uuid is keyed by the session, its offset and bytes.
    let mut start = 0;
    complete
        .split_inclusive('\n')
        .filter_map(|l| {
            let at = start;
            start += l.len();
            let line = l.trim_end_matches('\n');
            let v = serde_json::from_str::<Value>(line).ok()?;
            let message = matches!(v["type"].as_str(), Some("user" | "assistant"))
                && v["isSidechain"] != true
                && v["message"].is_object();
            message.then(|| match v["uuid"].as_str() {
                Some(u) => u.to_string(),
                None => openctl::daemon::stream::derived_key(session, at as u64, line.as_bytes()),
            })
        })
        .collect()
}

/// Each transcript, shared as it is (after one bookkeeping line naming a
/// working directory that exists here: their own cwds do not), reaches the
/// server complete: every message once, in order, normalized, nothing
/// skipped; a line still being written stays as lag. `count`, when given,
/// is the number of messages the file must hold.
pub(crate) fn transcripts_arrive_complete(cases: &[(PathBuf, Option<usize>)]) {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let mut shares = Vec::new();
    for (source, _) in cases {
        let session = new_uuid();
        let mut bytes = json!({"type": "permission-mode", "cwd": repo}).to_string();
        bytes.push('\n');
        let mut bytes = bytes.into_bytes();
        bytes.extend(read_bytes(source));
        let path = env.project_dir(&repo).join(format!("{session}.jsonl"));
        std::fs::write(&path, bytes)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", source.display(), path.display()));
        shares.push((session, path));
    }
    let servers = [server.url.as_str()];
    let list: Vec<(&str, &Path, &[&str])> = shares
        .iter()
        .map(|(s, p)| (s.as_str(), p.as_path(), &servers[..]))
        .collect();
    write_shares(&env, &list);
    let _daemon = DaemonGuard::start(&env);
    for ((source, count), (session, path)) in cases.iter().zip(&shares) {
        let name = source.display();
        let want = expected_uuids(session, path);
        if let Some(n) = count {
            assert_eq!(want.len(), *n, "{name}: messages in the file");
        }
        let id = server_id(&env, session, &server.url);
        let text = read_bytes(path);
        let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let lag = (text.len() - complete) as u64;
        let msgs = assert_stored_with_lag(&env, &server, session, &id, &want, lag);
        for m in &msgs {
            for b in m["content_blocks"].as_array().expect("blocks") {
                let t = b["type"].as_str().unwrap_or("");
                assert!(
                    ["text", "thinking", "tool_use", "tool_result", "image"].contains(&t),
                    "{name}: block type {t} not normalized"
                );
            }
        }
        let pair = daemon_pair(&env, session, &server.url).expect("pair");
        assert_eq!(pair["lines_skipped"], 0, "{name}: {pair}");
    }
}

#[test]
fn fixtures_arrive_complete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: Vec<(PathBuf, Option<usize>)> = own_transcripts(dir.path())
        .into_iter()
        .map(|(path, want)| (path, Some(want.messages())))
        .collect();
    transcripts_arrive_complete(&cases);
}

/// After an upgrade, the CLI finds a daemon of another version holding the
/// lock and replaces it with one of its own version.
#[test]
fn an_older_daemon_version_is_restarted() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let lock = env.openctl_home.join("daemon.lock");
    // A stand-in for the old daemon: a process holding the lock (flock(1)
    // uses flock(2), like the daemon) that announced version 0.0.1.
    // -o: the lock stays with flock itself, not with its child; the child
    // (`cat` on a pipe we hold) ends with this test.
    let mut old = std::process::Command::new("flock")
        .arg("-o")
        .arg(&lock)
        .arg("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("flock (util-linux)");
    std::fs::write(&lock, format!("{} 0.0.1\n", old.id())).unwrap();
    wait_for(
        "the stand-in holds the lock",
        Duration::from_secs(10),
        || (daemon_status(&env)["running"] == true).then_some(()),
    );
    assert_eq!(daemon_status(&env)["version"], "0.0.1");

    env.ok(&["daemon", "start"]);
    let status = daemon_status(&env);
    assert_eq!(status["running"], true);
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_ne!(status["pid"], old.id());
    // The old one was asked to stop (SIGTERM) and is gone.
    let exit = wait_for("the old daemon exits", Duration::from_secs(30), || {
        old.try_wait().unwrap()
    });
    assert!(!exit.success());
}

// ---------------------------------------------------------------- the openctl-daemon binary (issue 7)

/// The executable a process runs.
fn exe_of(pid: u64) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/exe")).expect("daemon exe")
}

/// The running daemon's pid, once it reports running.
fn running_pid(env: &TestEnv) -> u64 {
    wait_for("the daemon to run", LONG, || {
        let st = daemon_status(env);
        (st["running"] == true)
            .then(|| st["pid"].as_u64())
            .flatten()
    })
}

#[test]
fn start_runs_the_small_openctl_daemon_binary_of_the_same_version() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard::start(&env);
    let st = daemon_status(&env);
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    let pid = st["pid"].as_u64().expect("pid");
    let exe = exe_of(pid);
    assert_eq!(
        exe.file_name().and_then(|n| n.to_str()),
        Some("openctl-daemon"),
        "{exe:?}"
    );
    assert_eq!(
        exe.parent(),
        Path::new(crate::common::BIN).parent(),
        "the sibling of openctl"
    );
    // It takes no arguments (usage error, exit 64) and runs no second daemon.
    let mut cmd = Command::new(&exe);
    env.apply_env(&mut cmd);
    let out = cmd
        .arg("--frobnicate")
        .output()
        .expect("run openctl-daemon");
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let mut cmd = Command::new(&exe);
    env.apply_env(&mut cmd);
    let out = cmd.output().expect("run openctl-daemon");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(daemon_status(&env)["pid"].as_u64(), Some(pid));
}

#[test]
fn openctl_copied_alone_runs_the_daemon_itself() {
    let env = TestEnv::new();
    let bin_dir = env.path().join("bin");
    std::fs::create_dir_all(&bin_dir).expect("bin dir");
    let alone = bin_dir.join("openctl");
    std::fs::copy(crate::common::BIN, &alone).expect("copy openctl");
    // Another test thread forking while the copy was open for writing may
    // briefly hold it open: "text file busy" is retried.
    let out = wait_for("the copied openctl to run", LONG, || {
        let mut cmd = Command::new(&alone);
        env.apply_env(&mut cmd);
        match cmd.args(["daemon", "start"]).output() {
            Ok(out) => Some(out),
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => None,
            Err(e) => panic!("run {}: {e}", alone.display()),
        }
    });
    let _daemon = DaemonGuard { env: &env };
    assert!(out.status.success(), "{out:?}");
    let pid = running_pid(&env);
    assert_eq!(exe_of(pid), alone.canonicalize().expect("canonical"));
    assert_eq!(daemon_status(&env)["version"], env!("CARGO_PKG_VERSION"));
}

/// Kills the foreground daemon if the test ends early.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn foreground_start_becomes_openctl_daemon_in_the_same_process() {
    let env = TestEnv::new();
    let child = env
        .cmd(&["daemon", "start", "--foreground"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn openctl daemon start --foreground");
    let mut child = ChildGuard(child);
    let pid = running_pid(&env);
    // Same pid, so a service manager keeps tracking it.
    assert_eq!(pid, u64::from(child.0.id()));
    assert_eq!(
        exe_of(pid).file_name().and_then(|n| n.to_str()),
        Some("openctl-daemon")
    );
    env.ok(&["daemon", "stop"]);
    let status = wait_for("the foreground daemon to exit", LONG, || {
        child.0.try_wait().expect("wait")
    });
    assert!(status.success(), "{status:?}");
}

#[test]
fn sharing_again_after_an_idle_complete_is_live_until_idle_again() {
    let (env, repo) = setup();
    let repo = repo.canonicalize().unwrap();
    let server = TestServer::start(&env);
    write_config(
        &env,
        &[&server.url],
        REPO_ID,
        json!({"idleTimeoutSeconds": 1}),
    );
    let session = new_uuid();
    env.write_session(&repo, &session, &lines(&session, &repo, 0, 2));
    let _daemon = DaemonGuard { env: &env };
    let share = |what: &str| -> Value {
        let out = env
            .cmd(&["share", &session, "-s", &server.url, "--json", "-q"])
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let stamp = || {
        env.read_json("shared-sessions.json")["sessions"][&session]["serverSessions"][&server.url]
            ["sharedAt"]
            .clone()
    };
    let first = share("first share");
    let id = first["server_session_id"].as_str().unwrap().to_string();
    let is_complete = || server.get_session(&id)["session"]["status"] == "complete";
    wait_for("the idle session to complete", LONG, || {
        is_complete().then_some(())
    });
    wait_for("the pair to show complete", LONG, || {
        (daemon_pair(&env, &session, &server.url)?["state"] == "complete").then_some(())
    });
    let stamped = stamp();
    assert!(stamped.is_string(), "{stamped}");

    // Sharing again restores it on the server (the CLI's /live) and tells
    // the daemon, which takes it as live and completes it after the idle
    // timeout again (it used to stay live for good).
    let second = share("second share");
    assert_eq!(second["server_session_id"], first["server_session_id"]);
    assert_eq!(second["resumed"], true);
    assert_ne!(stamp(), stamped, "the share entry changes on a re-share");
    let log = env.openctl_home.join("daemon.log");
    wait_for("the daemon to take it as live again", LONG, || {
        std::fs::read_to_string(&log)
            .ok()?
            .contains("shared again; the session is live again")
            .then_some(())
    });
    wait_for("the session to complete again after idle", LONG, || {
        is_complete().then_some(())
    });
    wait_for("the pair to show complete again", LONG, || {
        (daemon_pair(&env, &session, &server.url)?["state"] == "complete").then_some(())
    });
    let completes = std::fs::read_to_string(&log)
        .unwrap()
        .matches("marking the session complete")
        .count();
    assert_eq!(completes, 2, "idle-completed twice");
}

#[test]
fn a_file_the_daemon_cannot_read_is_logged_once_not_on_every_reconcile() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::write(env.openctl_home.join("unshare-abandon.json"), "{").unwrap();
    let _daemon = DaemonGuard::start(&env);
    // Three reconciles, each proven by a new pair streaming.
    let servers = [server.url.as_str()];
    let mut shares: Vec<(String, PathBuf)> = Vec::new();
    for _ in 0..3 {
        let session = new_uuid();
        let path = env.write_session(&repo, &session, &lines(&session, &repo, 0, 2));
        shares.push((session.clone(), path));
        let listed: Vec<(&str, &Path, &[&str])> = shares
            .iter()
            .map(|(s, p)| (s.as_str(), p.as_path(), &servers[..]))
            .collect();
        write_shares(&env, &listed);
        wait_for("the new pair to stream", LONG, || {
            let pair = daemon_pair(&env, &session, &server.url)?;
            (pair["messages_sent"] == 2).then_some(())
        });
    }
    let log = std::fs::read_to_string(env.openctl_home.join("daemon.log")).unwrap();
    let reported = log
        .lines()
        .filter(|l| l.contains("unshare-abandon.json") && l.contains("ERROR"))
        .count();
    assert_eq!(reported, 1, "{log}");
}

#[test]
fn status_shows_the_lag_of_lines_waiting_while_the_server_is_down() {
    let (env, repo) = setup();
    let mut server = TestServer::start(&env);
    let (session, path, _daemon) = stream_new_session(&env, &repo, &server, 2);
    wait_for("the first lines to be sent", LONG, || {
        (daemon_pair(&env, &session, &server.url)?["messages_sent"] == 2).then_some(())
    });
    server.stop();
    let before = std::fs::metadata(&path).unwrap().len();
    append(&path, &lines(&session, &repo, 2, 2));
    let waiting = std::fs::metadata(&path).unwrap().len() - before;
    let pair = wait_for("the pair to retry with its lag shown", LONG, || {
        let pair = daemon_pair(&env, &session, &server.url)?;
        (pair["state"] == "retrying" && pair["lag_bytes"].as_u64()? == waiting).then_some(pair)
    });
    assert_eq!(pair["messages_sent"], 2, "{pair}");
    server.restart();
    wait_for("everything sent once the server is back", LONG, || {
        let pair = daemon_pair(&env, &session, &server.url)?;
        (pair["messages_sent"] == 4 && pair["lag_bytes"] == 0).then_some(())
    });
}

#[test]
fn a_moved_transcript_is_followed_without_duplicates() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let first = env.write_session(&repo, &session, &lines(&session, &repo, 0, 4));
    write_shares(&env, &[(&session, &first, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = server_id(&env, &session, &server.url);
    wait_for("the first lines stored", LONG, || {
        (stored(&server, &id).len() == 4).then_some(())
    });
    // The transcript now lives elsewhere (a copy that goes on growing);
    // the share names the new file.
    let moved_dir = env.path().join("moved");
    std::fs::create_dir_all(&moved_dir).unwrap();
    let moved = moved_dir.join(format!("{session}.jsonl"));
    std::fs::copy(&first, &moved).unwrap();
    append(&moved, &lines(&session, &repo, 4, 2));
    write_shares(&env, &[(&session, &moved, &[&server.url])]);
    wait_for("the new file's lines stored", LONG, || {
        (stored(&server, &id).len() == 6).then_some(())
    });
    append(&moved, &lines(&session, &repo, 6, 2));
    let all = wait_for("lines appended to the new file stored", LONG, || {
        let m = stored(&server, &id);
        (m.len() == 8).then_some(m)
    });
    let expected: Vec<String> = (0..8).map(|i| format!("{session}-{i}")).collect();
    assert_eq!(uuids(&all), expected, "every message once, in order");
}

/// A user line with `extra` envelope keys and `content` (a string or
/// blocks).
fn user_line_with(uuid: &str, cwd: &Path, extra: Value, content: Value) -> String {
    let mut line = json!({
        "type": "user", "uuid": uuid, "sessionId": "s", "cwd": cwd,
        "timestamp": "2026-11-24T10:00:00.000Z",
        "message": {"role": "user", "content": content}
    });
    if let (Some(line), Value::Object(extra)) = (line.as_object_mut(), extra) {
        line.extend(extra);
    }
    line.to_string()
}

#[test]
fn each_kind_of_line_is_stored_with_its_kind() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let none = json!({});
    let cases: Vec<(String, &str)> = vec![
        (
            user_line_with("k-cmd", &repo, none.clone(), json!("<command-message>openctl:share</command-message>\n<command-name>/openctl:share</command-name>\n<command-args></command-args>")),
            "command",
        ),
        (
            user_line_with("k-meta", &repo, json!({"isMeta": true}), json!([{"type": "text", "text": "Share this Claude Code session live with openctl"}])),
            "injected",
        ),
        (user_line("k-prompt", &repo, "list the files"), "prompt"),
        (assistant_line("k-resp", &repo, "Here they are."), "response"),
        (
            user_line_with("k-tool", &repo, none.clone(), json!([{"type": "tool_result", "tool_use_id": "t1", "content": "a.txt"}])),
            "tool_result",
        ),
        (
            user_line_with("k-bash", &repo, none.clone(), json!("<bash-input>git status</bash-input>")),
            "local_output",
        ),
        (
            user_line_with("k-out", &repo, none.clone(), json!("<local-command-stdout>\u{1b}[1mclean\u{1b}[22m</local-command-stdout>")),
            "local_output",
        ),
        (
            user_line_with("k-caveat", &repo, none.clone(), json!("<local-command-caveat>Caveat: The messages below were generated by the user while running local commands.</local-command-caveat>")),
            "injected",
        ),
        (
            user_line_with("k-summary", &repo, json!({"isCompactSummary": true}), json!("This session is being continued from a previous conversation that ran out of context.")),
            "compact_summary",
        ),
        (
            user_line_with("k-remind", &repo, none.clone(), json!("<system-reminder>Use the todo list.</system-reminder>")),
            "injected",
        ),
        (
            user_line_with("k-hook", &repo, none, json!("Stop hook feedback:\n- run the tests")),
            "injected",
        ),
    ];
    let lines: Vec<String> = cases.iter().map(|(l, _)| l.clone()).collect();
    let path = env.write_session(&repo, &session, &lines);
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = server_id(&env, &session, &server.url);
    let want: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["uuid"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let msgs = assert_stored_exactly(&env, &server, &session, &id, &want);
    let kinds: Vec<&str> = msgs
        .iter()
        .map(|m| m["kind"].as_str().unwrap_or(""))
        .collect();
    let expected: Vec<&str> = cases.iter().map(|(_, k)| *k).collect();
    assert_eq!(kinds, expected);
    // Nothing is dropped for its kind: the command line keeps its text.
    assert!(msgs[0]["content_blocks"][0]["text"]
        .as_str()
        .unwrap()
        .contains("/openctl:share"));
    // The title is the typed prompt, not the command or the injected text.
    wait_for("the derived title", LONG, || {
        (server.get_session(&id)["session"]["title"] == "list the files").then_some(())
    });
}

fn title_line(kind: &str, title: &str) -> String {
    let key = if kind == "custom-title" {
        "customTitle"
    } else {
        "aiTitle"
    };
    json!({"type": kind, key: title, "sessionId": "s"}).to_string()
}

#[test]
fn the_title_follows_renames_live_and_after_a_daemon_restart() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let ide = json!([
        {"type": "text", "text": "<ide_opened_file>The user opened the file /src/a.rs in the IDE.</ide_opened_file>"},
        {"type": "text", "text": "why does the parser panic?"}
    ]);
    let path = env.write_session(
        &repo,
        &session,
        &[
            user_line_with(
                "t0",
                &repo,
                json!({}),
                json!("<command-name>/model</command-name>\n<command-args>opus</command-args>"),
            ),
            user_line_with("t1", &repo, json!({}), ide),
            assistant_line("t2", &repo, "Let me look."),
        ],
    );
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    let title_is = |want: &str| {
        wait_for(&format!("the title {want:?}"), LONG, || {
            (server.get_session(&id_of(&env, &session, &server))["session"]["title"] == want)
                .then_some(())
        })
    };
    let mut daemon = Some(DaemonGuard::start(&env));
    title_is("why does the parser panic?");
    append(
        &path,
        &[title_line("ai-title", "Parser panic on empty input")],
    );
    title_is("Parser panic on empty input");
    append(&path, &[title_line("custom-title", "Fix the parser")]);
    title_is("Fix the parser");
    // Claude Code's own title never replaces the user's; a later prompt
    // never replaces any.
    append(
        &path,
        &[
            title_line("ai-title", "Something else"),
            user_line("t3", &repo, "and add a test"),
        ],
    );
    let id = id_of(&env, &session, &server);
    assert_stored_exactly(
        &env,
        &server,
        &session,
        &id,
        &["t0", "t1", "t2", "t3"].map(String::from),
    );
    assert_eq!(
        server.get_session(&id)["session"]["title"],
        "Fix the parser"
    );
    // Renamed while the daemon is down: the restarted daemon sends it.
    drop(daemon.take());
    append(&path, &[title_line("custom-title", "Parser: empty input")]);
    daemon = Some(DaemonGuard::start(&env));
    title_is("Parser: empty input");
    assert!(daemon.is_some());
}

fn id_of(env: &TestEnv, session: &str, server: &TestServer) -> String {
    server_id(env, session, &server.url)
}

/// A subagent transcript line (all its lines are sidechain lines).
fn agent_line(uuid: &str, session: &str, cwd: &Path, role: &str, text: &str) -> String {
    json!({
        "type": role, "uuid": uuid, "sessionId": session, "cwd": cwd, "isSidechain": true,
        "agentId": "x", "timestamp": "2026-11-24T10:00:02.000Z",
        "message": {"role": role, "content": [{"type": "text", "text": text}]}
    })
    .to_string()
}

#[test]
fn subagent_transcripts_stream_with_their_session_marked_with_their_call() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let task = json!({
        "type": "assistant", "uuid": "call", "sessionId": session, "cwd": repo,
        "message": {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_task",
            "name": "Task", "input": {"description": "Find it", "prompt": "Find the parser", "subagent_type": "Explore"}}]}
    })
    .to_string();
    let path = env.write_session(
        &repo,
        &session,
        &[user_line("p0", &repo, "where is the parser?"), task],
    );
    // A 2.0.x-style subagent of another session beside it: never sent.
    let project = path.parent().unwrap().to_path_buf();
    std::fs::write(
        project.join("agent-other.jsonl"),
        agent_line("o1", "another-session", &repo, "user", "Not ours") + "\n",
    )
    .unwrap();
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = server_id(&env, &session, &server.url);
    assert_stored_exactly(
        &env,
        &server,
        &session,
        &id,
        &["p0", "call"].map(String::from),
    );

    // The subagent starts while the session is streaming (2.1.x layout).
    let sub = project.join(&session).join("subagents");
    std::fs::create_dir_all(&sub).unwrap();
    let agent_file = sub.join("agent-a1b2.jsonl");
    std::fs::write(
        &agent_file,
        agent_line("s1", &session, &repo, "user", "Find the parser") + "\n",
    )
    .unwrap();
    wait_for("the subagent's prompt", LONG, || {
        (stored(&server, &id).len() == 3).then_some(())
    });
    append(
        &agent_file,
        &[agent_line(
            "s2",
            &session,
            &repo,
            "assistant",
            "It is in src/parser.rs",
        )],
    );
    // A 2.0.x-style subagent of this session, beside the transcript.
    std::fs::write(
        project.join("agent-old9.jsonl"),
        agent_line("s3", &session, &repo, "assistant", "Old layout") + "\n",
    )
    .unwrap();
    append(&path, &[assistant_line("done", &repo, "Found it.")]);
    let msgs = wait_for("every message", LONG, || {
        let m = stored(&server, &id);
        (m.len() == 6).then_some(m)
    });
    let by_uuid = |u: &str| {
        msgs.iter()
            .find(|m| m["uuid"] == u)
            .unwrap_or_else(|| panic!("{u} not stored: {msgs:?}"))
            .clone()
    };
    for u in ["s1", "s2"] {
        let m = by_uuid(u);
        assert_eq!(m["agent_id"], "a1b2", "{m}");
        assert_eq!(m["parent_tool_use_id"], "toolu_task", "{m}");
    }
    assert_eq!(
        by_uuid("s1")["kind"],
        "injected",
        "a prompt from the agent, not the person"
    );
    assert_eq!(by_uuid("s2")["kind"], "response");
    assert_eq!(by_uuid("s3")["agent_id"], "old9");
    assert!(by_uuid("p0").get("agent_id").is_none());
    assert!(!msgs.iter().any(|m| m["uuid"] == "o1"));
    // Each once, and the subagent's lines in their order.
    let order = uuids(&msgs);
    let pos = |u: &str| order.iter().position(|x| x == u).unwrap();
    assert!(pos("s1") < pos("s2"));
    let mut unique = order.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), order.len(), "{order:?}");
}

#[test]
fn lines_with_bytes_that_are_not_text_are_kept_and_counted() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &[user_line("ok-0", &repo, "fine")]);
    let cwd = repo.to_string_lossy().replace('\\', "\\\\");
    let mut raw = format!(r#"{{"type":"assistant","uuid":"bad-byte","cwd":"{cwd}","message":{{"role":"assistant","content":"caf"#).into_bytes();
    raw.push(0xE9);
    raw.extend_from_slice(b" au lait\"}}\n");
    raw.extend_from_slice(
        format!(r#"{{"type":"user","uuid":"lone","cwd":"{cwd}","message":{{"role":"user","content":"smile \ud83d please"}}}}"#)
            .as_bytes(),
    );
    raw.push(b'\n');
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(&raw))
        .expect("append raw lines");
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = server_id(&env, &session, &server.url);
    let msgs = assert_stored_exactly(
        &env,
        &server,
        &session,
        &id,
        &["ok-0", "bad-byte", "lone"].map(String::from),
    );
    assert_eq!(msgs[1]["content_blocks"][0]["text"], "caf\u{FFFD} au lait");
    assert_eq!(
        msgs[2]["content_blocks"][0]["text"],
        "smile \u{FFFD} please"
    );
    wait_for("two repaired lines in daemon status", LONG, || {
        let p = daemon_pair(&env, &session, &server.url)?;
        (p["lines_repaired"] == 2 && p["lines_skipped"] == 0).then_some(())
    });
}

#[test]
fn a_transcript_rewritten_in_place_with_longer_content_is_read_again() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    let (session, path, _daemon) = stream_new_session(&env, &repo, &server, 30);
    let id = server_id(&env, &session, &server.url);
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..30));
    // 61 other lines, written over the file from its start: it never gets
    // shorter and keeps its identity.
    let rewritten: Vec<String> = (0..61)
        .map(|i| {
            let id = format!("{session}-r{i}");
            let text = format!("rewritten {i} {}", "x".repeat(40));
            if i % 2 == 0 {
                user_line(&id, &repo, &text)
            } else {
                assistant_line(&id, &repo, &text)
            }
        })
        .collect();
    let bytes: String = rewritten.iter().map(|l| format!("{l}\n")).collect();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(bytes.as_bytes()))
        .expect("rewrite in place");
    let mut expected = ids(&session, 0..30);
    expected.extend((0..61).map(|i| format!("{session}-r{i}")));
    assert_stored_exactly(&env, &server, &session, &id, &expected);
}

#[test]
fn daemon_status_shows_a_shares_file_it_cannot_read() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    let (session, _path, _daemon) = stream_new_session(&env, &repo, &server, 2);
    server_id(&env, &session, &server.url);
    std::fs::write(env.openctl_home.join("shared-sessions.json"), "{ not json").unwrap();
    let errors = wait_for("the problem in daemon status", LONG, || {
        let st = daemon_status(&env);
        let e = st["file_errors"]["shared-sessions.json"]
            .as_str()?
            .to_string();
        Some(e)
    });
    assert!(errors.contains("shared-sessions.json"), "{errors}");
    let text = env.ok(&["daemon", "status"]);
    assert!(text.contains("problem: shared-sessions.json:"), "{text}");
    // Still streaming what it had.
    assert_eq!(
        daemon_pair(&env, &session, &server.url).unwrap()["state"],
        "streaming"
    );
}

#[test]
fn identities_removed_while_the_daemon_runs_are_written_back_and_never_replaced() {
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    let (session, path, daemon) = stream_new_session(&env, &repo, &server, 2);
    server_id(&env, &session, &server.url);
    let file = env.openctl_home.join("identities.json");
    let before = std::fs::read(&file).expect("identities.json");
    std::fs::remove_file(&file).unwrap();
    let back = wait_for("the daemon to write the identities back", LONG, || {
        std::fs::read(&file).ok()
    });
    assert_eq!(back, before);

    // Without a daemon, a missing identity for a server that holds this
    // machine's sessions is an error, not a first run.
    drop(daemon);
    std::fs::remove_file(&file).unwrap();
    let out = env
        .cmd(&["session", "share", &session, "-s", &server.url])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        crate::common::stderr(&out)
    );
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("has no identity for") && err.contains("1 session(s)"),
        "{err}"
    );
    assert!(!file.exists(), "no new identity was minted");
    assert!(path.exists());
}

#[test]
fn a_log_that_cannot_be_written_never_stops_the_daemon() {
    // A file size limit stands in for a full disk (no root needed): every
    // write to the full log fails, as on a full disk.
    const LIMIT: u64 = 256 * 1024;
    let (env, repo) = setup();
    let server = TestServer::start(&env);
    write_config(&env, &[&server.url], REPO_ID, json!({}));
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0, 2));
    write_shares(&env, &[(&session, &path, &[&server.url])]);
    std::fs::write(
        env.openctl_home.join("daemon.log"),
        vec![b'#'; LIMIT as usize],
    )
    .unwrap();
    let mut start = env.cmd(&["daemon", "start"]);
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe.
        unsafe {
            start.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: LIMIT,
                    rlim_max: LIMIT,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let out = start.output().unwrap();
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let _daemon = DaemonGuard { env: &env };
    let id = server_id(&env, &session, &server.url);
    append(&path, &lines(&session, &repo, 2, 3));
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..5));
    let why = wait_for("the dropped log lines in daemon status", LONG, || {
        let st = daemon_status(&env);
        (st["running"] == true)
            .then(|| st["file_errors"]["daemon.log"].as_str().map(str::to_string))
            .flatten()
    });
    assert!(why.contains("could not be written"), "{why}");
    assert_eq!(
        std::fs::metadata(env.openctl_home.join("daemon.log"))
            .unwrap()
            .len(),
        LIMIT,
        "nothing more was written to the full log"
    );
}

#[test]
fn without_inotify_the_daemon_polls_says_so_and_still_stops() {
    let (mut env, repo) = setup();
    // As where inotify is exhausted or a file system sends no events.
    env.env.push(("OPENCTL_WATCH".into(), "poll".into()));
    let server = TestServer::start(&env);
    let (session, path, daemon) = stream_new_session(&env, &repo, &server, 2);
    let id = server_id(&env, &session, &server.url);
    append(&path, &lines(&session, &repo, 2, 2));
    assert_stored_exactly(&env, &server, &session, &id, &ids(&session, 0..4));
    let why = daemon_status(&env)["file_errors"]["file watching"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(why.contains("polled"), "{why}");
    assert!(env
        .ok(&["daemon", "status"])
        .contains("problem: file watching:"));
    drop(daemon);
    assert_eq!(daemon_status(&env)["running"], false, "stop works");
}
