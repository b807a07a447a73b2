//! Integration tests: `openctl session share` / `unshare` end to end, with
//! the real server, daemon and CLI.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::common::*;

const S1: &str = "5a5a0001-0000-4000-8000-000000000001";

/// A git project with `sessions` transcripts of `n` user/assistant pairs.
fn project(env: &TestEnv, sessions: &[&str], pairs: usize) -> PathBuf {
    let p = env.git_repo("proj", Some("git@github.com:Acme/App.git"));
    let p = p.canonicalize().unwrap();
    for s in sessions {
        let mut lines = Vec::new();
        for i in 0..pairs {
            lines.push(user_line(&format!("{s}-u{i}"), &p, &format!("prompt {i}")));
            lines.push(assistant_line(
                &format!("{s}-a{i}"),
                &p,
                &format!("answer {i}"),
            ));
        }
        env.write_session(&p, s, &lines);
    }
    p
}

fn share_cmd(env: &TestEnv, p: &Path, server: &TestServer, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["session", "share", "-s", &server.url];
    args.extend_from_slice(extra);
    env.cmd(&args).current_dir(p).output().unwrap()
}

fn messages(server: &TestServer, id: &str) -> Vec<String> {
    server.get_session(id)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["uuid"].as_str().unwrap_or("").to_string())
        .collect()
}

fn id_of(url: &str) -> String {
    url.trim().rsplit('/').next().unwrap().to_string()
}

/// S1 of a new project shared with a new server, which then stops:
/// (server, project, server session id).
fn shared_then_server_down(env: &TestEnv) -> (TestServer, PathBuf, String) {
    let mut server = TestServer::start(env);
    let p = project(env, &[S1], 1);
    let id = id_of(&stdout(&share_cmd(env, &p, &server, &[S1, "--allow-repo"])));
    server.stop();
    (server, p, id)
}

#[test]
fn cold_and_warm_shares_print_only_the_url_and_stream_everything() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let s2 = "5a5a0002-0000-4000-8000-000000000002";
    let p = project(&env, &[S1, s2], 5);

    for (session, label) in [(S1, "cold"), (s2, "warm")] {
        let out = share_cmd(&env, &p, &server, &[session, "--allow-repo"]);
        assert!(out.status.success(), "{label}: {}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(
            text.lines().count(),
            1,
            "{label}: stdout is one line: {text:?}"
        );
        let url = text.trim();
        assert!(
            url.starts_with(&format!("{}/sessions/", server.url)),
            "{url}"
        );
        let err = stderr(&out);
        assert!(err.contains("Sharing \"prompt 0\" with"), "{err}");
        assert!(err.contains("✓ Session shared"), "{err}");
        // The URL opens.
        let page = reqwest::blocking::get(url).unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let id = id_of(url);
        let got = wait_for(
            &format!("{label}: all messages"),
            Duration::from_secs(30),
            || {
                let m = messages(&server, &id);
                (m.len() >= 10).then_some(m)
            },
        );
        let want: Vec<String> = (0..5)
            .flat_map(|i| [format!("{session}-u{i}"), format!("{session}-a{i}")])
            .collect();
        assert_eq!(got, want, "{label}");
    }
    // Both pairs are streaming in the daemon, which was started once.
    let status = daemon_status(&env);
    assert_eq!(status["sessions"].as_array().unwrap().len(), 2, "{status}");
    let recorded = env.read_json("shared-sessions.json");
    assert!(recorded["sessions"][S1]["serverSessions"][&server.url]["sessionId"].is_string());
}

#[test]
fn reshare_returns_the_same_url_and_json_describes_it() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 2);
    let first = share_cmd(&env, &p, &server, &[S1, "--allow-repo", "--json", "-q"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).is_empty(), "-q: {}", stderr(&first));
    let a: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(a["resumed"], false);
    assert_eq!(a["session"], S1);
    assert_eq!(a["server"], server.url.as_str());
    let second = share_cmd(&env, &p, &server, &[S1, "--json"]);
    assert!(second.status.success(), "{}", stderr(&second));
    let b: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(a["url"], b["url"]);
    assert_eq!(a["server_session_id"], b["server_session_id"]);
    assert_eq!(b["resumed"], true);
    // One server session for the claude session.
    let lookup: serde_json::Value = as_owner(
        &env,
        &server,
        reqwest::Method::GET,
        &format!("/api/sessions?claude_session_id={S1}"),
    )
    .send()
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(lookup["session"]["id"], a["server_session_id"]);
}

#[test]
fn denied_repo_uploads_nothing_and_allow_repo_shares() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 1);
    let out = share_cmd(&env, &p, &server, &[S1]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "Repository github.com/Acme/App is not allowed for {}",
            server.url
        )),
        "{err}"
    );
    assert!(err.contains("openctl repo allow"), "{err}");
    assert!(stdout(&out).is_empty());
    // Nothing was sent: not even an identity for that server was made.
    assert!(!env.openctl_home.join("identities.json").exists());
    assert!(!env.openctl_home.join("shared-sessions.json").exists());

    let out = share_cmd(&env, &p, &server, &[S1, "--allow-repo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let repos = env.ok(&["repo", "list", "-s", &server.url]);
    assert_eq!(repos.trim(), "github.com/Acme/App");
}

#[test]
fn inside_claude_code_consent_is_a_command_the_person_types() {
    // A model reads this output: it must not learn to add --allow-repo
    // itself, only what the person can type.
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 1);
    let out = env
        .cmd(&["session", "share", S1, "--server", &server.url])
        .env("CLAUDECODE", "1")
        .current_dir(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "type: /openctl:share --allow-repo --server {}",
            server.url
        )),
        "{err}"
    );
    assert!(err.contains("Not shared"), "{err}");
    assert!(!err.contains("re-run"), "{err}");
    assert!(!err.contains("openctl repo allow"), "{err}");
    assert!(stdout(&out).is_empty());
    assert!(!env.openctl_home.join("shared-sessions.json").exists());
}

/// The first lines an interactive Claude Code writes for a new session,
/// before any line that names its working directory.
fn bookkeeping_only(session: &str) -> Vec<String> {
    [
        "permission-mode",
        "file-history-snapshot",
        "queue-operation",
        "last-prompt",
    ]
    .iter()
    .map(|t| serde_json::json!({"type": t, "sessionId": session}).to_string())
    .collect()
}

/// Whether process `pid` holds an inotify instance (it waits on a file).
fn watches_a_file(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy().contains("inotify"))
            })
        })
        .unwrap_or(false)
}

#[test]
fn a_share_right_after_the_first_prompt_waits_for_the_working_directory() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let p = project(&env, &[], 0);
    let path = env.write_session(&p, S1, &bookkeeping_only(S1));
    // Run from elsewhere, so only the transcript can name the project.
    let mut child = env
        .cmd(&[
            "session",
            "share",
            S1,
            "--server",
            &server.url,
            "--allow-repo",
        ])
        .current_dir(env.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_for(
        "share to wait on the transcript",
        Duration::from_secs(10),
        || watches_a_file(pid).then_some(()),
    );
    append(
        &path,
        &[
            user_line("u0", &p, "share this please"),
            assistant_line("a0", &p, "ok"),
        ],
    );
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{err}");
    assert!(out.trim().starts_with(&server.url), "{out}");
    let id = id_of(&out);
    wait_for("both messages", Duration::from_secs(30), || {
        (messages(&server, &id) == ["u0", "a0"]).then_some(())
    });
}

#[test]
fn inside_claude_code_a_session_with_no_transcript_yet_is_shared_and_streams_once_written() {
    // `/openctl:share` as the first prompt: Claude Code runs the command's
    // line in the project before it writes anything of the new session.
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let p = project(&env, &[], 0);
    let dir = env.project_dir(&p);
    std::fs::remove_dir(&dir).unwrap();
    let out = env
        .cmd(&[
            "session",
            "share",
            S1,
            "--server",
            &server.url,
            "--allow-repo",
        ])
        .env("CLAUDECODE", "1")
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let id = id_of(&stdout(&out));
    let recorded = env.read_json("shared-sessions.json");
    let file = dir.join(format!("{S1}.jsonl"));
    assert_eq!(
        recorded["sessions"][S1]["filePath"],
        file.to_str().unwrap(),
        "the file Claude Code will write"
    );
    // Claude Code writes the session.
    env.write_session(
        &p,
        S1,
        &[
            user_line("first", &p, "/openctl:share"),
            assistant_line("reply", &p, "Shared."),
        ],
    );
    wait_for("the session's lines", Duration::from_secs(30), || {
        (messages(&server, &id) == ["first", "reply"]).then_some(())
    });
    // Outside Claude Code, a UUID with no transcript is not found.
    let other = "5a5a0009-0000-4000-8000-000000000009";
    let out = env
        .cmd(&["session", "share", other, "--server", &server.url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Session not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn with_no_working_directory_in_the_file_the_share_uses_its_own_only_when_it_matches() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let p = project(&env, &[], 0);
    env.write_session(&p, S1, &bookkeeping_only(S1));
    // From a directory that is not the session's project: no guess, an
    // error that names the file, nothing on the server.
    let out = env
        .cmd(&[
            "session",
            "share",
            S1,
            "--server",
            &server.url,
            "--allow-repo",
        ])
        .current_dir(env.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no working directory yet"),
        "{}",
        stderr(&out)
    );
    assert!(!env.openctl_home.join("shared-sessions.json").exists());
    // From the project itself (it encodes to the transcript's directory):
    // shared.
    let out = share_cmd(&env, &p, &server, &[S1, "--allow-repo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).trim().starts_with(&server.url));
}

#[test]
fn a_share_that_fails_changes_nothing() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 1);
    // A mistyped server: exit 5, and neither the server nor the
    // repository is remembered.
    let typo = format!("http://127.0.0.1:{}", free_port());
    let out = env
        .cmd(&["share", S1, "-s", &typo, "--allow-repo"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let config = std::fs::read_to_string(env.openctl_home.join("config.json")).unwrap_or_default();
    assert!(!config.contains(&typo), "{config}");
    let identities =
        std::fs::read_to_string(env.openctl_home.join("identities.json")).unwrap_or_default();
    assert!(!identities.contains(&typo), "{identities}");
    assert!(!env.openctl_home.join("shared-sessions.json").exists());

    // A corrupt shares file is found before anything is created on the
    // server.
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::write(env.openctl_home.join("shared-sessions.json"), "{ broken").unwrap();
    let out = env
        .cmd(&["share", S1, "-s", &server.url, "--allow-repo"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("shared-sessions.json"),
        "{}",
        stderr(&out)
    );
    let (id, token) = match std::fs::read_to_string(env.openctl_home.join("identities.json")) {
        Ok(_) if env.read_json("identities.json")["servers"][&server.url].is_object() => {
            identity(&env, &server.url)
        }
        _ => (uuid::Uuid::new_v4().to_string(), String::new()),
    };
    let lookup: serde_json::Value = reqwest::blocking::Client::new()
        .get(server.api(&format!("/api/sessions?claude_session_id={S1}")))
        .header("x-openctl-client-id", id)
        .header("x-openctl-write-token", token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        lookup["session"].is_null(),
        "nothing on the server: {lookup}"
    );
    assert_eq!(
        std::fs::read_to_string(env.openctl_home.join("shared-sessions.json")).unwrap(),
        "{ broken",
        "never overwritten"
    );
    let repos = env.ok(&["repo", "list", "-s", &server.url]);
    assert!(repos.trim().is_empty(), "{repos}");
}

#[test]
fn unshare_with_the_server_down_says_once_what_was_done_and_the_daemon_finishes_later() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let (mut server, p, id) = shared_then_server_down(&env);
    // A line written while the server is down: the daemon starts retrying.
    let path = env.project_dir(&p).join(format!("{S1}.jsonl"));
    append(&path, &[user_line("late", &p, "one more")]);
    wait_for("the daemon to retry", Duration::from_secs(30), || {
        (daemon_pair(&env, S1, &server.url)?["state"] == "retrying").then_some(())
    });
    let out = env
        .cmd(&["session", "unshare", S1, "--timeout", "20"])
        .current_dir(&p)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("Stopped sharing"), "{err}");
    assert!(
        err.contains("completes the session there once it answers"),
        "{err}"
    );
    assert_eq!(
        err.matches("does not answer").count(),
        1,
        "one message: {err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("Error")).count(),
        1,
        "{err}"
    );
    assert!(env.read_json("shared-sessions.json")["sessions"]
        .get(S1)
        .is_none());
    // The server comes back: the daemon sends the rest and completes it.
    server.restart();
    wait_for(
        "the session complete with every line",
        Duration::from_secs(60),
        || {
            let d = server.get_session(&id);
            (d["session"]["status"] == "complete" && d["messages"].as_array()?.len() == 3)
                .then_some(())
        },
    );
}

#[test]
fn a_session_outside_any_repository_is_not_shared_and_says_what_to_do() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let dir = env.path().join("scratch");
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.canonicalize().unwrap();
    env.write_session(&dir, S1, &[user_line("u1", &dir, "hello")]);
    let out = env
        .cmd(&["share", S1, "-s", &server.url, "--allow-repo"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not inside a git repository"), "{err}");
    assert!(err.contains("per repository"), "{err}");
    assert!(err.contains("git init"), "{err}");
    assert!(!env.openctl_home.join("shared-sessions.json").exists());
    // And when no session is found, the message is readable.
    let out = env
        .cmd(&["share", "-s", &server.url])
        .current_dir(env.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains("project folder Claude Code names `-"), "{err}");
}

#[test]
fn unreachable_server_exits_5_quickly() {
    let env = TestEnv::new();
    let p = project(&env, &[S1], 1);
    // A port nothing listens on.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let start = std::time::Instant::now();
    let out = env
        .cmd(&["share", S1, "--allow-repo", "-s", &url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("127.0.0.1:{port}")),
        "{}",
        stderr(&out)
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!env.openctl_home.join("shared-sessions.json").exists());
}

#[test]
fn daemon_that_cannot_start_exits_3() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 1);
    // The daemon cannot open its log: a directory stands where the file goes.
    std::fs::create_dir_all(env.openctl_home.join("daemon.log")).unwrap();
    let out = share_cmd(&env, &p, &server, &[S1, "--allow-repo"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("daemon.log"), "{}", stderr(&out));
}

#[test]
fn twelve_concurrent_shares_all_recorded_and_streaming() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let ids: Vec<String> = (0..12)
        .map(|i| format!("5a5a1000-0000-4000-8000-{i:012}"))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let p = project(&env, &refs, 2);
    env.ok(&["repo", "allow", p.to_str().unwrap(), "-s", &server.url]);
    let children: Vec<_> = ids
        .iter()
        .map(|id| {
            env.cmd(&["share", id, "-s", &server.url, "-q"])
                .current_dir(&p)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut urls = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        urls.push(stdout(&out).trim().to_string());
    }
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), 12);
    let recorded = env.read_json("shared-sessions.json");
    assert_eq!(recorded["sessions"].as_object().unwrap().len(), 12);
    let status = daemon_status(&env);
    let pairs = status["sessions"].as_array().unwrap();
    assert_eq!(pairs.len(), 12, "{status}");
    for url in &urls {
        let id = id_of(url);
        wait_for("every session delivered", Duration::from_secs(30), || {
            (messages(&server, &id).len() == 4).then_some(())
        });
    }
}

#[test]
fn unshare_completes_and_delete_removes() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let s2 = "5a5a0002-0000-4000-8000-000000000002";
    let p = project(&env, &[S1, s2], 2);
    let url1 = stdout(&share_cmd(&env, &p, &server, &[S1, "--allow-repo"]));
    let url2 = stdout(&share_cmd(&env, &p, &server, &[s2]));
    let (id1, id2) = (id_of(&url1), id_of(&url2));

    let out = env
        .cmd(&["session", "unshare", S1])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("completed"), "{}", stderr(&out));
    assert_eq!(server.get_session(&id1)["session"]["status"], "complete");
    assert_eq!(messages(&server, &id1).len(), 4);
    let recorded = env.read_json("shared-sessions.json");
    assert!(recorded["sessions"].get(S1).is_none());

    let out = env
        .cmd(&["session", "unshare", &s2[..8], "--delete"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let gone = reqwest::blocking::get(server.api(&format!("/api/sessions/{id2}"))).unwrap();
    assert_eq!(gone.status().as_u16(), 404);

    // Not shared: exit 0 with a note.
    let out = env
        .cmd(&["session", "unshare", S1])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stderr(&out).contains("is not shared"), "{}", stderr(&out));
}

#[test]
fn delete_after_the_daemon_recreated_a_lost_session_deletes_the_copy_that_exists() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 1);
    let first = id_of(&stdout(&share_cmd(
        &env,
        &p,
        &server,
        &[S1, "--allow-repo"],
    )));
    // The server loses the session; the next line makes the daemon
    // re-create it under a new id.
    let res = as_owner(
        &env,
        &server,
        reqwest::Method::DELETE,
        &format!("/api/sessions/{first}"),
    )
    .send()
    .unwrap();
    assert!(res.status().is_success());
    let path = env.project_dir(&p).join(format!("{S1}.jsonl"));
    append(&path, &[user_line("again", &p, "one more")]);
    let second = wait_for(
        "the share to name the re-created session",
        Duration::from_secs(30),
        || {
            let v = env.read_json("shared-sessions.json");
            v["sessions"][S1]["serverSessions"][server.url.as_str()]["sessionId"]
                .as_str()
                .filter(|id| *id != first)
                .map(str::to_string)
        },
    );
    wait_for(
        "the copy to hold every line",
        Duration::from_secs(30),
        || (messages(&server, &second).len() == 3).then_some(()),
    );
    let out = env
        .cmd(&["session", "unshare", S1, "--delete"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("deleted") && !err.contains("already gone"),
        "{err}"
    );
    let gone = reqwest::blocking::get(server.api(&format!("/api/sessions/{second}"))).unwrap();
    assert_eq!(gone.status().as_u16(), 404, "no copy stays readable");
}

#[test]
fn session_list_shows_url_and_state() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 1);
    let url = stdout(&share_cmd(&env, &p, &server, &[S1, "--allow-repo"]));
    let out = env
        .cmd(&["session", "list", "--json"])
        .current_dir(&p)
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["servers"][0]["url"], url.trim());
    assert_eq!(list[0]["servers"][0]["state"], "streaming");
    let text = env
        .cmd(&["session", "list"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(stdout(&text).contains(&format!("shared: {} (streaming)", url.trim())));
}

/// Run `args` in a pseudo-terminal (util-linux `script`), answer the
/// repository prompt with `answer` once it shows, return (exit code, output).
fn in_pty(env: &TestEnv, cwd: &Path, args: &str, answer: &str) -> (Option<i32>, String) {
    run_in_pty(
        env,
        cwd,
        &format!("{BIN} {args}"),
        "Allow it?",
        |stdin, _| {
            stdin.write_all(answer.as_bytes()).unwrap();
            stdin.flush().unwrap();
        },
    )
}

#[test]
fn terminal_prompt_yes_shares_no_exits_2() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 1);
    let args = format!("share {S1} -s {}", server.url);
    let (code, text) = in_pty(&env, &p, &args, "n");
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&format!(
        "This repository (github.com/Acme/App) hasn't been allowed for sharing with {}",
        server.url
    )));
    // The person said no: "not shared", and no hint on getting around it.
    assert!(text.contains("Not shared."), "{text}");
    assert!(
        !text.contains("hint:") && !text.contains("--allow-repo"),
        "{text}"
    );
    assert!(env
        .ok(&["repo", "list", "-s", &server.url])
        .trim()
        .is_empty());

    let (code, text) = in_pty(&env, &p, &args, "y");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("Allowed github.com/Acme/App for {}", server.url)),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}/sessions/", server.url)),
        "{text}"
    );
    assert_eq!(
        env.ok(&["repo", "list", "-s", &server.url]).trim(),
        "github.com/Acme/App"
    );
}

#[test]
fn demo_shares_a_growing_session_without_touching_the_real_home() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    // The configured local server answers, so the demo uses it (and we can
    // look at what arrived after the demo is gone).
    env.ok(&["config", "set", "server", &server.url]);
    let before: Vec<_> = std::fs::read_dir(&env.openctl_home)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let out = env.run(&["demo", "--duration", "2", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = stdout(&out);
    assert_eq!(url.lines().count(), 1, "{url}");
    assert!(
        url.starts_with(&format!("{}/sessions/", server.url)),
        "{url}"
    );
    let detail = server.get_session(&id_of(&url));
    let msgs = detail["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 18, "every sample line arrives");
    // The demo ended its session on the user's server: nothing stays live.
    assert_eq!(detail["session"]["status"], "complete", "{detail}");
    assert_eq!(
        msgs[0]["content_blocks"][0]["text"],
        "Number the items when the todo app prints its list."
    );
    // Nothing new in the real openctl home; no ~/.claude created.
    let after: Vec<_> = std::fs::read_dir(&env.openctl_home)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
    assert!(!env.home.join(".claude").exists());
    assert!(std::fs::read_dir(env.claude_dir.join("projects"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn demo_starts_its_own_server_when_none_answers() {
    let env = TestEnv::new();
    // The default server (localhost:3000) is not this test's; point the
    // config at a port nothing listens on.
    let port = free_port();
    env.ok(&[
        "config",
        "set",
        "server",
        &format!("http://127.0.0.1:{port}"),
    ]);
    let out = env.run(&["demo", "--duration", "1", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = stdout(&out);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.contains("/sessions/"),
        "{url}"
    );
    assert!(
        stderr(&out).contains("Started the embedded server"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn dry_run_shows_redactions_and_sends_nothing() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let p = env.git_repo("proj", Some("https://github.com/Acme/App"));
    let p = p.canonicalize().unwrap();
    let token = format!("ghp_{}", "aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ2b4C");
    env.write_session(
        &p,
        S1,
        &[
            user_line("u1", &p, "deploy please"),
            assistant_line("a1", &p, &format!("export GITHUB_TOKEN={token}")),
            "{broken".to_string(),
        ],
    );
    env.ok(&["repo", "allow", p.to_str().unwrap(), "-s", &server.url]);
    let out = env
        .cmd(&["share", S1, "--dry-run", "-s", &server.url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Messages:    2"), "{text}");
    assert!(text.contains("Kinds:       1 prompt, 1 response"), "{text}");
    assert!(text.contains("malformed line(s): [3]"), "{text}");
    assert!(text.contains("line      2  github_token"), "{text}");
    assert!(!text.contains(&token), "the secret itself is never printed");
    assert!(stderr(&out).contains("nothing was sent"));
    assert!(!env.openctl_home.join("shared-sessions.json").exists());
    assert!(
        !env.openctl_home.join("client-id").exists(),
        "no request was made"
    );

    // The same report for a session, and redaction off per server.
    let out = env.ok(&["session", "redactions", S1, "-s", &server.url, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["servers"][0]["redactions"][0]["kind"], "github_token");
    assert_eq!(v["servers"][0]["redactions"][0]["line"], 2);
    env.ok(&["config", "set", "redact", "false", "-s", &server.url]);
    let out = env.ok(&["session", "redactions", S1, "-s", &server.url]);
    assert!(out.contains("Redaction:   OFF"), "{out}");

    // Plain http to another machine is warned about; loopback is not.
    assert!(!stderr(
        &env.cmd(&["share", S1, "--dry-run", "-s", &server.url])
            .current_dir(&p)
            .output()
            .unwrap()
    )
    .contains("unencrypted"));
    let out = env
        .cmd(&[
            "share",
            S1,
            "--dry-run",
            "--allow-repo",
            "-s",
            "http://share.example.com",
        ])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: http://share.example.com is plain http"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------
// demo: interrupted at any moment, it leaves no daemon and no files behind.
// Each run gets its own TMPDIR, so "left behind" is exact: any directory in
// it, any live process whose OPENCTL_HOME is under it.

/// A running `openctl demo`, in its own process group (as a terminal's
/// foreground job), killed with its group when dropped.
struct DemoRun {
    child: std::process::Child,
    tmp: PathBuf,
    out: PathBuf,
    err: PathBuf,
}

impl DemoRun {
    fn start(env: &TestEnv, name: &str) -> DemoRun {
        use std::os::unix::process::CommandExt;
        let tmp = env.path().join(format!("tmp-{name}"));
        std::fs::create_dir_all(&tmp).unwrap();
        let out = env.path().join(format!("{name}.out"));
        let err = env.path().join(format!("{name}.err"));
        let child = env
            .cmd(&["demo", "--duration", "30"])
            .env("TMPDIR", &tmp)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .process_group(0)
            .spawn()
            .unwrap();
        DemoRun {
            child,
            tmp,
            out,
            err,
        }
    }

    /// Ctrl-C at a terminal: the signal goes to the whole process group.
    fn signal_group(&self, signal: i32) {
        let pgid = self.child.id() as i32;
        assert_eq!(unsafe { libc::kill(-pgid, signal) }, 0, "kill -{signal}");
    }

    /// Wait until `cond` holds on the demo's TMPDIR; the demo must still be
    /// running meanwhile.
    fn wait_until(&mut self, what: &str, cond: impl Fn(&Path) -> bool) {
        let tmp = self.tmp.clone();
        wait_for(what, Duration::from_secs(30), || {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the demo exited ({status}) before {what}: {}",
                    std::fs::read_to_string(&self.err).unwrap_or_default()
                );
            }
            cond(&tmp).then_some(())
        });
    }

    /// Wait for the exit; returns (exit code or -signal, stdout, stderr).
    fn finish(mut self) -> (i32, String, String) {
        use std::os::unix::process::ExitStatusExt;
        let status = self.child.wait().unwrap();
        let code = status
            .code()
            .or_else(|| status.signal().map(|s| -s))
            .unwrap();
        let out = std::fs::read_to_string(&self.out).unwrap();
        let err = std::fs::read_to_string(&self.err).unwrap();
        (code, out, err)
    }
}

impl Drop for DemoRun {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
            let _ = self.child.wait();
        }
    }
}

/// The demo's temporary directories in `tmp`.
fn demo_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("openctl-demo-")
        })
        .collect()
}

/// Live processes (zombies have exited) whose OPENCTL_HOME is under `tmp`:
/// the demo's daemon, or any openctl child of the demo.
fn demo_processes(tmp: &Path) -> Vec<String> {
    let prefix = format!("OPENCTL_HOME={}/", tmp.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if !environ
            .split(|b| *b == 0)
            .any(|var| var.starts_with(prefix.as_bytes()))
        {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let state = stat
            .rsplit(") ")
            .next()
            .and_then(|rest| rest.chars().next());
        if !matches!(state, Some('Z') | None) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            found.push(format!(
                "{pid}: {}",
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            ));
        }
    }
    found
}

/// The sample transcript exists (the demo is about to share it).
fn sample_written(tmp: &Path) -> bool {
    demo_dirs(tmp).iter().any(|d| {
        std::fs::read_dir(d.join("claude/projects"))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .any(|p| std::fs::read_dir(p.path()).is_ok_and(|mut f| f.next().is_some()))
    })
}

/// After the demo exited: nothing of it is left.
fn assert_nothing_left(tmp: &Path, what: &str) {
    assert_eq!(
        demo_dirs(tmp),
        Vec::<PathBuf>::new(),
        "{what}: demo dir left"
    );
    assert_eq!(
        demo_processes(tmp),
        Vec::<String>::new(),
        "{what}: demo processes left"
    );
}

const INTERRUPTED: &str =
    "Interrupted: the demo stopped its daemon and removed its temporary files.";

#[test]
fn demo_interrupted_early_leaves_no_daemon_and_no_files() {
    let env = TestEnv::new();

    // Right after the spawn: the signal may even come before the handler
    // exists (then the default action ends it, before anything was made).
    let run = DemoRun::start(&env, "at-once");
    run.signal_group(libc::SIGINT);
    let tmp = run.tmp.clone();
    let (code, out, err) = run.finish();
    assert!(code == 130 || code == -libc::SIGINT, "{code}: {err}");
    assert_eq!(out, "");
    assert_nothing_left(&tmp, "at once");

    // As soon as its temporary directory exists.
    let mut run = DemoRun::start(&env, "dir");
    run.wait_until("the demo dir", |tmp| !demo_dirs(tmp).is_empty());
    run.signal_group(libc::SIGINT);
    let tmp = run.tmp.clone();
    let (code, out, err) = run.finish();
    // On a slow machine the demo may be running already: then Ctrl-C is
    // its normal stop.
    if out.is_empty() {
        assert_eq!(code, 130, "{err}");
        assert!(err.trim_end().ends_with(INTERRUPTED), "{err}");
    } else {
        assert_eq!(code, 0, "{err}");
    }
    assert_nothing_left(&tmp, "dir");

    // While it shares (the sample is written, the daemon starting or
    // started, `session share` running).
    let mut run = DemoRun::start(&env, "share");
    run.wait_until("the sample transcript", sample_written);
    run.signal_group(libc::SIGINT);
    let tmp = run.tmp.clone();
    let (code, out, err) = run.finish();
    if out.is_empty() {
        assert_eq!(code, 130, "{err}");
        assert!(err.contains(INTERRUPTED), "{err}");
    } else {
        assert_eq!(code, 0, "{err}");
    }
    assert_nothing_left(&tmp, "share");

    // SIGTERM is handled the same way (exit 128 + 15).
    let mut run = DemoRun::start(&env, "term");
    run.wait_until("the demo dir", |tmp| !demo_dirs(tmp).is_empty());
    run.signal_group(libc::SIGTERM);
    let tmp = run.tmp.clone();
    let (code, out, err) = run.finish();
    assert_eq!(code, if out.is_empty() { 143 } else { 0 }, "{err}");
    assert_nothing_left(&tmp, "SIGTERM");
}

#[test]
fn demo_stopped_with_ctrl_c_while_running_cleans_up() {
    let env = TestEnv::new();
    let mut run = DemoRun::start(&env, "running");
    let out = run.out.clone();
    run.wait_until("the URL", |_| {
        std::fs::read_to_string(&out).is_ok_and(|s| s.ends_with('\n'))
    });
    // The demo's daemon is up while it runs.
    assert!(
        demo_processes(&run.tmp)
            .iter()
            .any(|p| p.contains("daemon")),
        "{:?}",
        demo_processes(&run.tmp)
    );
    run.signal_group(libc::SIGINT);
    let tmp = run.tmp.clone();
    let (code, out, err) = run.finish();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/sessions/"), "{out}");
    assert!(err.contains("Demo stopped"), "{err}");
    assert_nothing_left(&tmp, "running");
}

#[test]
fn a_share_that_cannot_be_recorded_says_which_file_and_that_it_exists_on_the_server() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let p = project(&env, &[S1], 1);
    // The lock of shared-sessions.json cannot be opened (a directory is in
    // its place), as on a read-only home: /live has succeeded by then.
    let lock = env.openctl_home.join(".shared-sessions.json.lock");
    std::fs::create_dir_all(&lock).unwrap();
    let out = share_cmd(&env, &p, &server, &[S1, "--allow-repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(lock.to_str().unwrap()),
        "names the path: {err}"
    );
    assert!(err.contains("cannot be recorded"), "{err}");
    assert!(err.contains(&format!("{}/sessions/", server.url)), "{err}");
    assert!(stdout(&out).is_empty());
    assert!(!env.openctl_home.join("shared-sessions.json").exists());
}

#[test]
fn a_delete_that_failed_because_the_server_was_down_can_be_run_again() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let (mut server, p, id) = shared_then_server_down(&env);
    let url = server.url.clone();
    let unshare = |extra: &[&str]| {
        let mut args = vec!["session", "unshare", S1, "--delete", "-s", &url];
        args.extend_from_slice(extra);
        env.cmd(&args).current_dir(&p).output().unwrap()
    };
    let out = unshare(&["--timeout", "0"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("not deleted"), "{}", stderr(&out));
    assert!(stderr(&out).contains("again"), "{}", stderr(&out));

    // The share is gone locally; running the same command once the server
    // is back finds the session there and deletes it.
    server.restart();
    let out = unshare(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("deleted"), "{}", stderr(&out));
    let gone = reqwest::blocking::get(server.api(&format!("/api/sessions/{id}"))).unwrap();
    assert_eq!(gone.status().as_u16(), 404);
    // Nothing left anywhere: a third run says so and succeeds.
    let out = unshare(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not on this server"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_server_that_cannot_start_creates_nothing() {
    let env = TestEnv::new();
    // A database in a directory that does not exist: said, not created.
    let missing = env.path().join("no/such/dir/x.db");
    let out = env
        .cmd(&[
            "server",
            "--db",
            missing.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!env.path().join("no").exists());
    // A busy port: no database file either.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let db = env.path().join("busy.db");
    let out = env
        .cmd(&["server", "--db", db.to_str().unwrap(), "--listen", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot listen"), "{}", stderr(&out));
    assert!(!db.exists(), "the database was not created");
}

#[test]
fn the_original_cli_lists_its_own_sessions_and_openctl_lists_what_it_shared() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let s2 = "5a5a0002-0000-4000-8000-000000000002";
    let p = project(&env, &[S1, s2], 1);
    let first = id_of(&stdout(&share_cmd(
        &env,
        &p,
        &server,
        &[S1, "--allow-repo"],
    )));
    let second = id_of(&stdout(&share_cmd(&env, &p, &server, &[s2])));
    // Another client's session on the same server.
    let other = uuid::Uuid::new_v4().to_string();
    let res = reqwest::blocking::Client::new()
        .post(server.api("/api/sessions/live"))
        .header("x-openctl-client-id", &other)
        .json(&serde_json::json!({"title": "not yours", "harness_session_id": "x-1"}))
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    // The original CLI's `session list`: GET /api/sessions, no query.
    let list: serde_json::Value = as_owner(&env, &server, reqwest::Method::GET, "/api/sessions")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "only this machine's: {list}");
    assert!(ids.contains(&first.as_str()) && ids.contains(&second.as_str()));
    let paged: serde_json::Value =
        as_owner(&env, &server, reqwest::Method::GET, "/api/sessions?limit=1")
            .send()
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(paged["sessions"].as_array().unwrap().len(), 1);

    // Its upload of a finished session: a clear error naming what works.
    let res = reqwest::blocking::Client::new()
        .post(server.api("/api/sessions"))
        .header("x-openctl-client-id", &other)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x--\r\n")
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    let body: serde_json::Value = res.json().unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("/api/sessions/live"),
        "{body}"
    );

    // `openctl session list --remote`: also a session whose transcript is
    // gone.
    std::fs::remove_file(env.project_dir(&p).join(format!("{S1}.jsonl"))).unwrap();
    let out = env.ok(&["session", "list", "--remote", "-s", &server.url]);
    assert!(out.contains(S1) && out.contains(s2), "{out}");
    assert!(out.contains(&format!("/sessions/{first}")), "{out}");
    assert!(!out.contains("not yours"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "session",
        "list",
        "--remote",
        "-s",
        &server.url,
        "--json",
    ]))
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
}
