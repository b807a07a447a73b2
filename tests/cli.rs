//! The command tree: parsing, exit codes, help and version.

use crate::common::*;

#[test]
fn version_prints() {
    let env = TestEnv::new();
    let out = env.ok(&["--version"]);
    assert!(out.starts_with("openctl "), "{out}");
}

#[test]
fn usage_errors_exit_64() {
    let env = TestEnv::new();
    assert_eq!(env.run(&["no-such-command"]).status.code(), Some(64));
    assert_eq!(
        env.run(&["session", "share", "--bogus"]).status.code(),
        Some(64)
    );
    assert_eq!(env.run(&[]).status.code(), Some(64));
    // --all lists every server: naming one as well is a usage error.
    let out = env.run(&["repo", "list", "--all", "-s", "http://example.com"]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        env.run(&["repo", "deny", "--all", "some/repo"])
            .status
            .code(),
        Some(64)
    );
}

#[test]
fn every_command_has_help() {
    let env = TestEnv::new();
    let groups: &[&[&str]] = &[
        &["session", "share"],
        &["session", "unshare"],
        &["session", "list"],
        &["session", "redactions"],
        &["share"],
        &["repo", "allow"],
        &["repo", "deny"],
        &["repo", "list"],
        &["daemon", "start"],
        &["daemon", "stop"],
        &["daemon", "status"],
        &["daemon", "logs"],
        &["config", "get"],
        &["config", "set"],
        &["config", "unset"],
        &["config", "list"],
        &["completions"],
        &["hook", "install"],
        &["hook", "uninstall"],
        &["hook", "status"],
        &["hook", "post-commit"],
        &["server"],
        &["demo"],
    ];
    for g in groups {
        let mut args = g.to_vec();
        args.push("--help");
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("Usage: openctl"), "{args:?}");
    }
}

const A: &str = "7f3a1c2e-0000-4000-8000-000000000001";
const B: &str = "7f3b9d4e-0000-4000-8000-000000000002";
const C: &str = "0c0c0c0c-0000-4000-8000-000000000003";

fn project(env: &TestEnv) -> std::path::PathBuf {
    let p = env.path().join("work/my_app.v2");
    std::fs::create_dir_all(&p).unwrap();
    git(&p, &["init", "-q"]);
    p.canonicalize().unwrap()
}

fn set_mtime(path: &std::path::Path, secs_ago: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

fn three_sessions(env: &TestEnv) -> std::path::PathBuf {
    let p = project(env);
    let a = env.write_session(
        &p,
        A,
        &[
            // A slash command is not a title; the first typed prompt is.
            user_line(
                "u0",
                &p,
                "<command-message>init</command-message>\n<command-name>/init</command-name>",
            ),
            user_line("u1", &p, "Fix   the login bug"),
        ],
    );
    let b = env.write_session(&p, B, &[user_line("u2", &p, "Second session")]);
    let other = env.path().join("elsewhere");
    std::fs::create_dir_all(&other).unwrap();
    let c = env.write_session(&other, C, &[user_line("u3", &other, "Other project")]);
    set_mtime(&a, 300);
    set_mtime(&b, 100);
    set_mtime(&c, 10);
    // Not sessions: subagent transcripts and spill files.
    let dir = env.project_dir(&p);
    std::fs::write(
        dir.join("agent-1234.jsonl"),
        user_line("x", &p, "sub") + "\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join(A).join("subagents")).unwrap();
    std::fs::write(
        dir.join(A).join("subagents/agent-9.jsonl"),
        user_line("y", &p, "sub") + "\n",
    )
    .unwrap();
    p
}

#[test]
fn session_list_current_project_newest_first() {
    let env = TestEnv::new();
    let p = three_sessions(&env);
    let out = env
        .cmd(&["session", "list", "--json"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["uuid"], B);
    assert_eq!(list[1]["uuid"], A);
    assert_eq!(list[1]["title"], "Fix the login bug");
    assert_eq!(list[1]["lines"], 2);
    assert_eq!(list[1]["shared"], false);

    let all = env.ok(&["session", "list", "--all"]);
    let order: Vec<&str> = all.lines().map(|l| &l[..36]).collect();
    assert_eq!(order, vec![C, B, A]);

    // From a subdirectory the project is still found.
    let sub = p.join("src");
    std::fs::create_dir_all(&sub).unwrap();
    let out = env
        .cmd(&["session", "list"])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stderr(&out));
}

#[test]
fn session_names_resolve() {
    let env = TestEnv::new();
    let p = three_sessions(&env);
    let resolve = |args: &[&str]| {
        let mut all = vec!["session", "share", "--dry-run", "--allow-repo", "--json"];
        all.extend_from_slice(args);
        env.cmd(&all).current_dir(&p).output().unwrap()
    };
    let session_of = |out: std::process::Output| -> String {
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["session"].as_str().unwrap().to_string()
    };
    assert_eq!(session_of(resolve(&["7f3a"])), A);
    assert_eq!(session_of(resolve(&[B])), B);
    let path = env.project_dir(&p).join(format!("{A}.jsonl"));
    assert_eq!(session_of(resolve(&[path.to_str().unwrap()])), A);
    // Default: the newest session of this directory's project (not C,
    // which is newer but belongs to another project).
    assert_eq!(session_of(resolve(&[])), B);
    // CLAUDE_SESSION_ID wins over the project default.
    let out = env
        .cmd(&["share", "--dry-run", "--json"])
        .current_dir(&p)
        .env("CLAUDE_SESSION_ID", A)
        .output()
        .unwrap();
    assert_eq!(session_of(out), A);

    let out = resolve(&["7f3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(A) && err.contains(B) && err.contains("matches 2 sessions"),
        "{err}"
    );
    let out = resolve(&["0000dead"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Session not found: 0000dead"),
        "{}",
        stderr(&out)
    );
    let missing = env.path().join("nope.jsonl");
    let out = resolve(&[missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Session not found"),
        "{}",
        stderr(&out)
    );
    let empty = env.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = env
        .cmd(&["share", "--dry-run"])
        .current_dir(&empty)
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
fn share_denied_repo_without_tty_exits_2_with_hint() {
    let env = TestEnv::new();
    let p = three_sessions(&env);
    let out = env.cmd(&["share", A]).current_dir(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("is not allowed for http://localhost:3000"),
        "{err}"
    );
    assert!(err.contains("Run: openctl repo allow"), "{err}");
    assert!(err.contains("--allow-repo"), "{err}");
    assert!(stdout(&out).is_empty());
}

/// The messages of every complete line of a transcript, checked as any
/// transcript must be: no malformed line, only the block types the
/// reference server takes, tool results flattened to a string.
pub(crate) fn mapped_messages(path: &std::path::Path) -> Vec<openctl::wire::Message> {
    use openctl::transcript::{for_each_line, Line};
    let name = path.display();
    let allowed = ["text", "thinking", "tool_use", "tool_result", "image"];
    let mut messages = Vec::new();
    let mut malformed = 0;
    for_each_line(path, |_, line| match line {
        Line::Message(m) => {
            for b in &m.content_blocks {
                let t = b["type"].as_str().unwrap_or("<none>");
                assert!(
                    allowed.contains(&t),
                    "{name}: block type {t} not normalized"
                );
                if t == "tool_result" {
                    assert!(
                        b["content"].is_string(),
                        "{name}: tool_result not flattened"
                    );
                }
            }
            messages.push(*m);
        }
        Line::Malformed => malformed += 1,
        Line::Other => {}
    })
    .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    assert_eq!(malformed, 0, "{name}: malformed lines");
    messages
}

/// Each transcript gives `want` messages, every one with its line's uuid.
pub(crate) fn assert_message_counts(files: &[(std::path::PathBuf, usize)]) {
    for (path, want) in files {
        let messages = mapped_messages(path);
        assert_eq!(messages.len(), *want, "{}", path.display());
        let keyless = messages.iter().filter(|m| m.uuid.is_none()).count();
        assert_eq!(keyless, 0, "{}: messages without uuid", path.display());
    }
}

/// A transcript whose last line is still being written: that line is not
/// a line yet, every other one is.
pub(crate) fn assert_last_line_incomplete(path: &std::path::Path) {
    let mut lines = 0;
    openctl::transcript::for_each_line(path, |_, _| lines += 1)
        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    let raw = read_bytes(path);
    assert!(
        !raw.ends_with(b"\n"),
        "{}: ends with a newline",
        path.display()
    );
    let complete = raw.iter().filter(|b| **b == b'\n').count();
    assert_eq!(lines, complete, "{}", path.display());
}

#[test]
fn fixtures_map_to_the_expected_messages() {
    let env = TestEnv::new();
    for (path, want) in own_transcripts(env.path()) {
        let messages = mapped_messages(&path);
        let name = want.name;
        let count = |role: &str| messages.iter().filter(|m| m.role == role).count();
        assert_eq!(
            (count("user"), count("assistant")),
            (want.user, want.assistant),
            "{name}: user / assistant messages"
        );
        let mut kinds = std::collections::BTreeMap::new();
        for m in &messages {
            let kind = m.kind.map_or("<none>", |k| k.as_str());
            *kinds.entry(kind).or_insert(0usize) += 1;
        }
        let want_kinds: std::collections::BTreeMap<&str, usize> =
            want.kinds.iter().copied().collect();
        assert_eq!(kinds, want_kinds, "{name}: messages by kind");
        let keyless = messages.iter().filter(|m| m.uuid.is_none()).count();
        assert_eq!(keyless, want.without_uuid, "{name}: messages without uuid");
        if want.incomplete_tail {
            assert_last_line_incomplete(&path);
        } else {
            assert!(read_bytes(&path).ends_with(b"\n"), "{name}");
        }
    }
}

#[test]
fn fixture_titles_and_summaries() {
    let env = TestEnv::new();
    for (path, want) in own_transcripts(env.path()) {
        let name = want.name;
        let s = openctl::transcript::summarize(&path)
            .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        assert_eq!(s.lines, want.lines, "{name}: complete lines");
        assert_eq!(s.cwd.as_deref(), Some(want.cwd), "{name}: cwd");
        assert_eq!(s.title_text(), Some(want.title), "{name}: title");
        assert_eq!(s.model.as_deref(), want.model, "{name}: model");
    }
}

/// A git project at `rel` (created) with its canonical path.
fn git_dir(env: &TestEnv, rel: &str) -> std::path::PathBuf {
    env.git_repo(rel, None).canonicalize().unwrap()
}

/// Write a transcript for `cwd` under a Claude projects root.
fn write_under(
    root: &std::path::Path,
    cwd: &std::path::Path,
    uuid: &str,
    text: &str,
) -> std::path::PathBuf {
    let dir = root.join(openctl::paths::encode_project_dir(cwd.to_str().unwrap()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{uuid}.jsonl"));
    std::fs::write(&path, user_line("u1", cwd, text) + "\n").unwrap();
    path
}

#[test]
fn sessions_are_found_under_home_claude_dirs_without_claude_config_dir() {
    let env = TestEnv::new();
    let p = git_dir(&env, "proj");
    let a = "d1d1d1d1-0000-4000-8000-000000000001";
    let b = "d2d2d2d2-0000-4000-8000-000000000002";
    let pa = write_under(&env.home.join(".claude/projects"), &p, a, "in dot claude");
    write_under(
        &env.home.join(".config/claude/projects"),
        &p,
        b,
        "in config claude",
    );
    set_mtime(&pa, 600);
    let run = |args: &[&str]| {
        let out = env
            .cmd(args)
            .env_remove("CLAUDE_CONFIG_DIR")
            .current_dir(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let list = run(&["session", "list", "--all", "--json"]);
    let uuids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids, vec![b, a]);
    assert_eq!(list[1]["title"], "in dot claude");
    assert_eq!(
        run(&["session", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Named by prefix from either directory; the newest is the default.
    let share = ["share", "--dry-run", "--allow-repo", "--json"];
    assert_eq!(run(&[&share[..], &["d1d1"]].concat())["session"], a);
    assert_eq!(run(&[&share[..], &["d2d2"]].concat())["session"], b);
    assert_eq!(run(&share)["session"], b);
}

#[test]
fn the_transcript_cwd_decides_between_directories_that_encode_alike() {
    let env = TestEnv::new();
    // `a_b` and `a-b` are both `...-a-b` in Claude Code's encoding.
    let underscore = git_dir(&env, "a_b");
    let dash = git_dir(&env, "a-b");
    assert_eq!(
        openctl::paths::encode_project_dir(underscore.to_str().unwrap()),
        openctl::paths::encode_project_dir(dash.to_str().unwrap())
    );
    let u = "e1e1e1e1-0000-4000-8000-000000000001";
    let d = "e2e2e2e2-0000-4000-8000-000000000002";
    let pu = env.write_session(
        &underscore,
        u,
        &[user_line("u1", &underscore, "underscore")],
    );
    env.write_session(&dash, d, &[user_line("u2", &dash, "dash")]);
    // The other project's session is the newer one in the shared directory.
    set_mtime(&pu, 600);
    for (dir, want) in [(&underscore, u), (&dash, d)] {
        let out = env
            .cmd(&["share", "--dry-run", "--allow-repo", "--json"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["session"], want, "from {}", dir.display());
        let out = env
            .cmd(&["session", "list", "--json"])
            .current_dir(dir)
            .output()
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let uuids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["uuid"].as_str().unwrap())
            .collect();
        assert_eq!(uuids, vec![want], "from {}", dir.display());
        assert_eq!(list[0]["project"], dir.to_str().unwrap());
    }
}
