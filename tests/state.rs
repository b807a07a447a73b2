//! Local state: config.json, shared-sessions.json, repository allowlists.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use crate::common::*;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn repo_allow_list_deny_round_trip() {
    let env = TestEnv::new();
    let repo = env.git_repo("proj", Some("git@github.com:Org/Repo.git"));
    let sub = repo.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    env.ok(&["repo", "allow", sub.to_str().unwrap()]);
    assert_eq!(env.ok(&["repo", "list"]).trim(), "github.com/Org/Repo");

    let cfg = env.read_json("config.json");
    assert_eq!(
        cfg["servers"]["http://localhost:3000"]["allowedRepos"][0],
        "github.com/Org/Repo"
    );
    assert_eq!(mode(&env.openctl_home), 0o700);
    assert_eq!(mode(&env.openctl_home.join("config.json")), 0o600);

    // Allowing twice keeps one entry.
    env.ok(&["repo", "allow", repo.to_str().unwrap()]);
    let cfg = env.read_json("config.json");
    assert_eq!(
        cfg["servers"]["http://localhost:3000"]["allowedRepos"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Deny by repo id (as tab completion offers it).
    env.ok(&["repo", "deny", "github.com/Org/Repo"]);
    assert_eq!(env.ok(&["repo", "list"]).trim(), "");
}

#[test]
fn server_urls_are_normalized_keys() {
    let env = TestEnv::new();
    let repo = env.git_repo("proj", Some("https://GitHub.com/Org/Repo.git"));
    env.ok(&[
        "repo",
        "allow",
        repo.to_str().unwrap(),
        "-s",
        "HTTP://Example.COM:80/",
    ]);
    let out = env.ok(&["repo", "list", "-s", "http://example.com", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["http://example.com"][0], "github.com/Org/Repo");
    let all = env.ok(&["repo", "list", "--all"]);
    assert!(all.contains("http://example.com:"), "{all}");
}

#[test]
fn repo_without_remote_is_its_root_path_and_odd_paths_work() {
    let env = TestEnv::new();
    let repo = env.git_repo("my repo #1 (ü)~x", None);
    std::fs::create_dir_all(repo.join("a b")).unwrap();
    env.ok(&["repo", "allow", repo.join("a b").to_str().unwrap()]);
    let root = repo.canonicalize().unwrap();
    assert_eq!(env.ok(&["repo", "list"]).trim(), root.to_str().unwrap());
}

#[test]
fn linked_worktree_shares_identity_with_main_repo() {
    let env = TestEnv::new();
    let repo = env.git_repo("main-repo", None);
    std::fs::write(repo.join("f"), "x").unwrap();
    git(&repo, &["add", "f"]);
    git(&repo, &["commit", "-qm", "init"]);
    let wt = env.path().join("linked");
    git(&repo, &["worktree", "add", "-q", wt.to_str().unwrap()]);
    env.ok(&["repo", "allow", wt.to_str().unwrap()]);
    assert_eq!(
        env.ok(&["repo", "list"]).trim(),
        repo.canonicalize().unwrap().to_str().unwrap()
    );
}

#[test]
fn not_a_repo_is_a_clear_error() {
    let env = TestEnv::new();
    let dir = env.path().join("plain");
    std::fs::create_dir_all(&dir).unwrap();
    let out = env.run(&["repo", "allow", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not inside a git repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn concurrent_allows_all_land() {
    let env = TestEnv::new();
    let repos: Vec<_> = (0..24)
        .map(|i| {
            env.git_repo(
                &format!("r{i}"),
                Some(&format!("https://github.com/o/r{i}")),
            )
        })
        .collect();
    let children: Vec<_> = repos
        .iter()
        .map(|r| {
            env.cmd(&["repo", "allow", r.to_str().unwrap()])
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let listed = env.ok(&["repo", "list"]);
    for i in 0..24 {
        assert!(
            listed.lines().any(|l| l == format!("github.com/o/r{i}")),
            "r{i} missing from:\n{listed}"
        );
    }
    assert_eq!(listed.lines().count(), 24);
}

#[test]
fn corrupt_config_is_never_overwritten() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let path = env.openctl_home.join("config.json");
    std::fs::write(&path, "{\"servers\": {").unwrap();
    let repo = env.git_repo("proj", Some("https://github.com/o/r"));
    let out = env.run(&["repo", "allow", repo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(path.to_str().unwrap()), "{err}");
    assert!(err.contains("not valid JSON"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"servers\": {");
    // Reading commands fail the same way instead of pretending it is empty.
    assert_eq!(env.run(&["repo", "list"]).status.code(), Some(1));
    assert_eq!(env.run(&["config", "list"]).status.code(), Some(1));
}

#[test]
fn corrupt_shared_sessions_is_reported() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let path = env.openctl_home.join("shared-sessions.json");
    std::fs::write(&path, "not json").unwrap();
    let out = env.run(&["session", "list", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("shared-sessions.json"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not json");
}

#[test]
fn unknown_config_keys_are_preserved() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::write(
        env.openctl_home.join("config.json"),
        r#"{"server":"http://localhost:3000","futureKey":{"x":[1,2]},"servers":{"http://localhost:3000":{"allowedRepos":[],"extra":true}}}"#,
    )
    .unwrap();
    let repo = env.git_repo("proj", Some("https://github.com/o/r"));
    env.ok(&["repo", "allow", repo.to_str().unwrap()]);
    env.ok(&["config", "set", "idle_timeout", "120"]);
    let cfg = env.read_json("config.json");
    assert_eq!(cfg["futureKey"]["x"][1], 2);
    assert_eq!(cfg["servers"]["http://localhost:3000"]["extra"], true);
    assert_eq!(
        cfg["servers"]["http://localhost:3000"]["allowedRepos"][0],
        "github.com/o/r"
    );
    assert_eq!(cfg["idleTimeoutSeconds"], 120);
}

#[test]
fn config_get_set_unset_list() {
    let env = TestEnv::new();
    assert_eq!(
        env.ok(&["config", "get", "server"]).trim(),
        "http://localhost:3000"
    );
    env.ok(&["config", "set", "server", "https://Share.Example.com/"]);
    assert_eq!(
        env.ok(&["config", "get", "server"]).trim(),
        "https://share.example.com"
    );
    env.ok(&[
        "config",
        "set",
        "redact",
        "false",
        "-s",
        "http://localhost:3000",
    ]);
    assert_eq!(
        env.ok(&["config", "get", "redact", "-s", "http://localhost:3000"])
            .trim(),
        "false"
    );
    // Per-server default applies to the default server.
    assert_eq!(env.ok(&["config", "get", "redact"]).trim(), "true");
    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["config", "list", "--json"])).unwrap();
    assert_eq!(list["server"]["value"], "https://share.example.com");
    assert_eq!(list["idle_timeout"]["set"], false);
    env.ok(&["config", "unset", "server"]);
    assert_eq!(
        env.ok(&["config", "get", "server"]).trim(),
        "http://localhost:3000"
    );

    let out = env.run(&["config", "set", "colour", "blue"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        stderr(&out).contains("known keys: server, idle_timeout"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["config", "set", "idle_timeout", "soon"]);
    assert_eq!(out.status.code(), Some(64));
    let out = env.run(&["config", "set", "server", "ftp://x"]);
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn server_resolution_order() {
    let mut env = TestEnv::new();
    let repo = env.git_repo("proj", Some("https://github.com/o/r"));
    env.ok(&["config", "set", "server", "http://from-config:1"]);
    env.env
        .push(("OPENCTL_SERVER_URL".into(), "http://from-env:2".into()));
    env.ok(&["repo", "allow", repo.to_str().unwrap()]);
    env.ok(&[
        "repo",
        "allow",
        repo.to_str().unwrap(),
        "-s",
        "http://from-flag:3",
    ]);
    let cfg = env.read_json("config.json");
    assert!(cfg["servers"]["http://from-env:2"].is_object());
    assert!(cfg["servers"]["http://from-flag:3"].is_object());
    assert!(cfg["servers"].get("http://from-config:1").is_none());
}

#[test]
fn a_repository_git_cannot_open_is_not_called_missing() {
    let env = TestEnv::new();
    let repo = env.git_repo("future", None);
    let config = repo.join(".git/config");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("repositoryformatversion = 0"), "{text}");
    std::fs::write(
        &config,
        text.replace(
            "repositoryformatversion = 0",
            "repositoryformatversion = 99",
        ),
    )
    .unwrap();
    let out = env.run(&["repo", "allow", repo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(!err.contains("not inside a git repository"), "{err}");
    assert!(err.contains(repo.to_str().unwrap()), "{err}");
    assert!(err.contains("unsupported repository version"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

/// Write config.json as given (a test of what users may have in the file).
fn write_raw_config(env: &TestEnv, text: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let path = env.openctl_home.join("config.json");
    std::fs::write(&path, text).unwrap();
    path
}

/// Assert `args` fails with exit 1 naming the file, the key and the problem.
fn fails_naming(env: &TestEnv, args: &[&str], path: &std::path::Path, key: &str, what: &str) {
    let out = env.run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.contains(path.to_str().unwrap()), "{args:?}: {err}");
    assert!(err.contains(&format!("'{key}'")), "{args:?}: {err}");
    assert!(err.contains(what), "{args:?}: {err}");
}

#[test]
fn a_bad_server_value_is_an_error_not_the_default() {
    let env = TestEnv::new();
    let text = r#"{"server":"ftp://share.example.com"}"#;
    let path = write_raw_config(&env, text);
    let repo = env.git_repo("proj", Some("https://github.com/o/r"));
    let r = repo.to_str().unwrap();
    for args in [
        &["repo", "allow", r][..],
        &["repo", "list"],
        &["config", "get", "server"],
        &["config", "list"],
        &["config", "get", "redact"],
    ] {
        fails_naming(
            &env,
            args,
            &path,
            "server",
            "the scheme must be http or https",
        );
    }
    let out = env
        .cmd(&["share", "--dry-run"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("'server'"), "{}", stderr(&out));
    // Nothing was written, and nothing was allowed for the default server.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    // config set can repair it.
    env.ok(&["config", "set", "server", "https://share.example.com"]);
    env.ok(&["repo", "allow", r]);
    assert_eq!(env.ok(&["repo", "list"]).trim(), "github.com/o/r");
    let cfg = env.read_json("config.json");
    assert!(
        cfg["servers"]["https://share.example.com"].is_object(),
        "{cfg}"
    );
}

#[test]
fn wrong_types_in_config_are_errors_naming_the_key() {
    let env = TestEnv::new();
    let cases = [
        (
            r#"{"idleTimeoutSeconds":"soon"}"#,
            "idleTimeoutSeconds",
            "must be a whole number of seconds",
        ),
        (
            r#"{"hookWindowMinutes":0}"#,
            "hookWindowMinutes",
            "at least 1",
        ),
        (r#"{"server":42}"#, "server", "must be a server URL"),
        (r#"{"servers":[]}"#, "servers", "must be an object"),
        (
            r#"{"servers":{"ftp://x.example":{}}}"#,
            "servers[\"ftp://x.example\"]",
            "is not a server URL",
        ),
        (
            r#"{"servers":{"http://localhost:3000":"yes"}}"#,
            "servers[\"http://localhost:3000\"]",
            "must be an object",
        ),
        (
            r#"{"servers":{"http://localhost:3000":{"allowedRepos":"github.com/o/r"}}}"#,
            "servers[\"http://localhost:3000\"].allowedRepos",
            "must be a list of repository ids",
        ),
        (
            r#"{"servers":{"http://localhost:3000":{"redact":"no"}}}"#,
            "servers[\"http://localhost:3000\"].redact",
            "must be true or false",
        ),
        (
            r#"{"servers":{"http://localhost:3000":{"token":7}}}"#,
            "servers[\"http://localhost:3000\"].token",
            "must be a string",
        ),
    ];
    for (text, key, what) in cases {
        let path = write_raw_config(&env, text);
        fails_naming(&env, &["repo", "list", "--all"], &path, key, what);
        fails_naming(&env, &["config", "list"], &path, key, what);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
    // The hint says how to repair a value config set knows.
    write_raw_config(&env, r#"{"idleTimeoutSeconds":"soon"}"#);
    let err = stderr(&env.run(&["config", "list"]));
    assert!(err.contains("openctl config set idle_timeout"), "{err}");
    env.ok(&["config", "unset", "idle_timeout"]);
    env.ok(&["config", "list"]);
}

#[test]
fn config_get_set_unset_print_json() {
    let env = TestEnv::new();
    let json =
        |args: &[&str]| -> serde_json::Value { serde_json::from_str(&env.ok(args)).unwrap() };
    assert_eq!(
        json(&["config", "get", "server", "--json"]),
        "http://localhost:3000"
    );
    assert_eq!(json(&["config", "get", "idle_timeout", "--json"]), 600);
    assert_eq!(json(&["config", "get", "redact", "--json"]), true);
    assert_eq!(
        json(&["config", "get", "token", "--json"]),
        serde_json::Value::Null
    );
    assert_eq!(
        json(&["config", "set", "idle_timeout", "120", "--json"]),
        120
    );
    assert_eq!(json(&["config", "get", "idle_timeout", "--json"]), 120);
    assert_eq!(
        json(&["config", "set", "server", "HTTPS://X.example/", "--json"]),
        "https://x.example"
    );
    assert_eq!(
        json(&[
            "config",
            "set",
            "redact",
            "off",
            "-s",
            "https://x.example",
            "--json"
        ]),
        false
    );
    assert_eq!(json(&["config", "get", "redact", "--json"]), false);
    // After unset: the default now in effect.
    assert_eq!(json(&["config", "unset", "idle_timeout", "--json"]), 600);
    assert_eq!(
        json(&["config", "unset", "server", "--json"]),
        "http://localhost:3000"
    );
    assert_eq!(
        json(&[
            "config",
            "unset",
            "redact",
            "-s",
            "https://x.example",
            "--json"
        ]),
        true
    );
}

#[test]
fn ssh_and_git_remotes_have_the_same_identity() {
    let env = TestEnv::new();
    let ssh = env.git_repo("ssh", Some("ssh://git@GitHub.com:22/Org/Repo.git"));
    let git_url = env.git_repo("git", Some("git://github.com/Org/Repo/"));
    env.ok(&["repo", "allow", ssh.to_str().unwrap()]);
    assert_eq!(env.ok(&["repo", "list"]).trim(), "github.com/Org/Repo");
    // The git:// clone is the same repository: already allowed.
    let out = env.run(&["repo", "allow", git_url.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("already allowed"), "{}", stderr(&out));
    assert_eq!(env.ok(&["repo", "list"]).trim(), "github.com/Org/Repo");
    // And denying from the git:// clone removes it.
    env.ok(&["repo", "deny", git_url.to_str().unwrap()]);
    assert_eq!(env.ok(&["repo", "list"]).trim(), "");
}

#[test]
fn repo_deny_all_clears_one_server_only() {
    let env = TestEnv::new();
    for i in 0..3 {
        let r = env.git_repo(
            &format!("r{i}"),
            Some(&format!("https://github.com/o/r{i}")),
        );
        env.ok(&["repo", "allow", r.to_str().unwrap()]);
    }
    let keep = env.git_repo("keep", Some("https://github.com/o/keep"));
    env.ok(&[
        "repo",
        "allow",
        keep.to_str().unwrap(),
        "-s",
        "https://other.example",
    ]);
    assert_eq!(env.ok(&["repo", "list"]).lines().count(), 3);

    let out = env.run(&["repo", "deny", "--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Denied 3 repositories for http://localhost:3000"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.ok(&["repo", "list"]).trim(), "");
    assert_eq!(
        env.ok(&["repo", "list", "-s", "https://other.example"])
            .trim(),
        "github.com/o/keep"
    );
    // Denying all again is not an error.
    env.ok(&["repo", "deny", "--all"]);
}

#[test]
fn a_malformed_client_id_is_an_error_never_replaced() {
    let env = TestEnv::new();
    let p = env
        .git_repo("proj", Some("https://github.com/o/r"))
        .canonicalize()
        .unwrap();
    let s = "c1c1c1c1-0000-4000-8000-000000000001";
    env.write_session(&p, s, &[user_line("u1", &p, "hello")]);
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let path = env.openctl_home.join("client-id");
    std::fs::write(&path, "not-a-uuid\n").unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = env
        .cmd(&["share", s, "--allow-repo", "-s", &url])
        .current_dir(&p)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(path.to_str().unwrap()), "{err}");
    assert!(err.contains("does not hold a valid client id"), "{err}");
    assert!(err.contains("not-a-uuid"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not-a-uuid\n");
    assert!(stdout(&out).is_empty());
}

#[test]
fn the_identity_for_a_server_is_created_once_as_a_private_uuid_and_token() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let _daemon = DaemonGuard { env: &env };
    let p = env
        .git_repo("proj", Some("https://github.com/o/r"))
        .canonicalize()
        .unwrap();
    let s = "c2c2c2c2-0000-4000-8000-000000000001";
    env.write_session(&p, s, &[user_line("u1", &p, "hello")]);
    let out = env
        .cmd(&["share", s, "--allow-repo", "-s", &server.url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let path = env.openctl_home.join("identities.json");
    let (id, token) = identity(&env, &server.url);
    let parsed = uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(token.len(), 64);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&env.openctl_home.join("shared-sessions.json")), 0o600);
    // A new machine has no legacy client-id: none is made.
    assert!(!env.openctl_home.join("client-id").exists());
    // Used again, never rewritten.
    let before = std::fs::read(&path).unwrap();
    let out = env
        .cmd(&["share", s, "-s", &server.url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn each_server_sees_its_own_identity_and_a_bound_id_needs_its_token() {
    let env = TestEnv::new();
    // Two servers, two databases.
    let a = TestServer::start_with(&env, &env.path().join("a.db"), &[]);
    let b = TestServer::start_with(&env, &env.path().join("b.db"), &[]);
    let p = env
        .git_repo("proj", Some("https://github.com/o/r"))
        .canonicalize()
        .unwrap();
    let s = "c2c2c2c2-0000-4000-8000-000000000002";
    env.write_session(&p, s, &[user_line("u1", &p, "hello")]);
    for server in [&a, &b] {
        let out = env
            .cmd(&["share", s, "--allow-repo", "-s", &server.url])
            .current_dir(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let _daemon = DaemonGuard { env: &env };
    let (id_a, token_a) = identity(&env, &a.url);
    let (id_b, _) = identity(&env, &b.url);
    assert_ne!(id_a, id_b, "one identity per server");

    // Server A's operator knows id_a: without the token it acts as no one.
    let lookup = |id: &str, token: Option<&str>| {
        let mut req = reqwest::blocking::Client::new()
            .get(a.api(&format!("/api/sessions?claude_session_id={s}")))
            .header("x-openctl-client-id", id);
        if let Some(t) = token {
            req = req.header("x-openctl-write-token", t);
        }
        let res = req.send().unwrap();
        (res.status().as_u16(), res.text().unwrap())
    };
    let (status, body) = lookup(&id_a, Some(&token_a));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(s), "{body}");
    let (status, body) = lookup(&id_a, None);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("write token"), "{body}");
    assert_eq!(lookup(&id_a, Some("wrong")).0, 403);
    // The id server B knows is worth nothing on A.
    let (status, body) = lookup(&id_b, None);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("another client"), "{body}");

    // A client that never sends a token (the original openctl CLI) still
    // works with its id alone.
    let reference_id = uuid::Uuid::new_v4().to_string();
    let res = reqwest::blocking::Client::new()
        .post(a.api("/api/sessions/live"))
        .header("x-openctl-client-id", &reference_id)
        .json(&serde_json::json!({"title": "t", "harness_session_id": "ref-1"}))
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let id = res.json::<serde_json::Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = reqwest::blocking::Client::new()
        .post(a.api(&format!("/api/sessions/{id}/complete")))
        .header("x-openctl-client-id", &reference_id)
        .json(&serde_json::json!({}))
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[test]
fn an_existing_machine_keeps_its_client_id_for_the_servers_it_used() {
    let env = TestEnv::new();
    let old = TestServer::start_with(&env, &env.path().join("old.db"), &[]);
    let new = TestServer::start_with(&env, &env.path().join("new.db"), &[]);
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let legacy = uuid::Uuid::new_v4().to_string();
    std::fs::write(env.openctl_home.join("client-id"), &legacy).unwrap();
    let p = env
        .git_repo("proj", Some("https://github.com/o/r"))
        .canonicalize()
        .unwrap();
    let s = "c2c2c2c2-0000-4000-8000-000000000003";
    let path = env.write_session(&p, s, &[user_line("u1", &p, "hello")]);
    // Shared with `old` before identities were per server.
    write_shares(&env, &[(s, &path, &[&old.url])]);
    env.ok(&["repo", "allow", p.to_str().unwrap(), "-s", &old.url]);
    let _daemon = DaemonGuard { env: &env };
    for (server, allow) in [(&old, None), (&new, Some("--allow-repo"))] {
        let mut args = vec!["share", s, "-s", &server.url];
        args.extend(allow);
        let out = env.cmd(&args).current_dir(&p).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(
        identity(&env, &old.url).0,
        legacy,
        "kept for the server that knows it"
    );
    assert_ne!(
        identity(&env, &new.url).0,
        legacy,
        "a new one for a new server"
    );
}
