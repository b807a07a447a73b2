//! Foundation (issue 2) gaps: private modes of every file openctl creates,
//! the openctl home tightened, session discovery bounded by the git
//! working tree, fast completion of session UUIDs.

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::common::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every entry under `dir` (recursively) with its mode.
fn modes_under(dir: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        // A file may vanish between listing and stat (temp files, rotation).
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        out.push((
            path.clone(),
            meta.is_dir(),
            meta.permissions().mode() & 0o777,
        ));
        if meta.is_dir() {
            out.extend(modes_under(&path));
        }
    }
    out
}

/// Assert the openctl home is 0700 and everything in it 0600 (dirs 0700).
fn assert_private(home: &Path) {
    assert_eq!(mode(home), 0o700, "{}", home.display());
    let wrong: Vec<String> = modes_under(home)
        .into_iter()
        .filter(|(_, is_dir, m)| *m != if *is_dir { 0o700 } else { 0o600 })
        .map(|(p, _, m)| format!("{} {m:o}", p.display()))
        .collect();
    assert!(wrong.is_empty(), "not private: {wrong:?}");
}

/// A git project with one session of two lines.
fn project_with_session(env: &TestEnv, uuid: &str) -> PathBuf {
    let p = env
        .git_repo("proj", Some("https://github.com/acme/app"))
        .canonicalize()
        .unwrap();
    env.write_session(
        &p,
        uuid,
        &[user_line("u1", &p, "hello"), assistant_line("a1", &p, "hi")],
    );
    p
}

/// `openctl server` with its default database, killed when dropped.
struct ServerProcess(Child);

impl ServerProcess {
    /// Start `openctl server` (no --db) and wait until it listens.
    fn start(env: &TestEnv) -> ServerProcess {
        let mut child = env
            .cmd(&["server", "--listen", "127.0.0.1:0"])
            .env_remove("OPENCTL_SERVER_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("Listening on ") {
                    let _ = tx.send(());
                }
            }
        });
        let server = ServerProcess(child);
        rx.recv_timeout(Duration::from_secs(30))
            .expect("openctl server prints `Listening on` within 30 s");
        server
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_file_in_the_openctl_home_is_private_after_a_share_and_a_server() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let s = "f0f0f0f0-0000-4000-8000-000000000001";
    let p = project_with_session(&env, s);
    let out = env
        .cmd(&["share", s, "--allow-repo", "-s", &server.url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The daemon runs and has written its files.
    for name in [
        "daemon.log",
        "daemon.lock",
        "daemon.pid",
        "daemon-status.json",
        "identities.json",
        "shared-sessions.json",
        "config.json",
    ] {
        let path = env.openctl_home.join(name);
        wait_for(name, Duration::from_secs(30), || {
            path.exists().then_some(())
        });
    }
    assert_private(&env.openctl_home);

    // The embedded server with its default database in the openctl home:
    // the database and SQLite's -wal and -shm files are private too.
    let _server = ServerProcess::start(&env);
    let db = env.openctl_home.join("server.db");
    for file in [db.clone(), env.openctl_home.join("server.db-wal")] {
        wait_for(
            &format!("{} to exist", file.display()),
            Duration::from_secs(30),
            || file.exists().then_some(()),
        );
    }
    assert_private(&env.openctl_home);
}

#[test]
fn a_world_readable_openctl_home_is_tightened() {
    let env = TestEnv::new();
    // As the TypeScript CLI may have left it: 0755 with a 0644 file.
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::set_permissions(&env.openctl_home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = env.openctl_home.join("config.json");
    std::fs::write(&cfg, r#"{"servers":{}}"#).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A directory that is not the openctl home keeps its mode.
    let other = env.path().join("shared-dir");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();

    let repo = env.git_repo("proj", Some("https://github.com/o/r"));
    env.ok(&["repo", "allow", repo.to_str().unwrap()]);
    assert_private(&env.openctl_home);
    assert_eq!(mode(&other), 0o755);
}

/// `share --dry-run --allow-repo --json` in `dir`: the session it picks,
/// or the error.
fn default_session(env: &TestEnv, dir: &Path) -> Result<String, String> {
    let out = env
        .cmd(&["share", "--dry-run", "--allow-repo", "--json"])
        .current_dir(dir)
        .output()
        .unwrap();
    if out.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        Ok(v["session"].as_str().unwrap().to_string())
    } else {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        Err(stderr(&out))
    }
}

/// The UUIDs `session list --json` shows in `dir`.
fn listed(env: &TestEnv, dir: &Path) -> Vec<String> {
    let out = env
        .cmd(&["session", "list", "--json"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["uuid"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn default_session_is_never_taken_from_outside_the_git_working_tree() {
    let env = TestEnv::new();
    let anc = env.git_repo("anc", None).canonicalize().unwrap();
    let s = "a0a0a0a0-0000-4000-8000-000000000001";
    env.write_session(&anc, s, &[user_line("u1", &anc, "parent work")]);

    // A nested repository of its own, with no session: not the parent's.
    let newproj = env.git_repo("anc/newproj", None).canonicalize().unwrap();
    let err = default_session(&env, &newproj).unwrap_err();
    assert!(err.contains("Session not found"), "{err}");
    assert!(err.contains(newproj.to_str().unwrap()), "{err}");
    assert!(
        err.contains(&openctl::paths::encode_project_dir(
            newproj.to_str().unwrap()
        )),
        "the hint names the searched project directory: {err}"
    );
    assert!(!err.contains(s), "{err}");
    assert!(listed(&env, &newproj).is_empty());

    // A plain directory (no git) does not look at its parents at all.
    let plain = env.path().join("plain/inner");
    std::fs::create_dir_all(&plain).unwrap();
    let plain = plain.canonicalize().unwrap();
    let outer = plain.parent().unwrap();
    env.write_session(
        outer,
        "b0b0b0b0-0000-4000-8000-000000000002",
        &[user_line("u2", outer, "outer")],
    );
    let err = default_session(&env, &plain).unwrap_err();
    assert!(err.contains(plain.to_str().unwrap()), "{err}");
    assert!(listed(&env, &plain).is_empty());
}

#[test]
fn a_subdirectory_of_a_repository_finds_the_session_started_at_its_root() {
    let env = TestEnv::new();
    let anc = env.git_repo("anc", None).canonicalize().unwrap();
    let s = "a0a0a0a0-0000-4000-8000-000000000001";
    env.write_session(&anc, s, &[user_line("u1", &anc, "root work")]);
    let deep = anc.join("src/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    assert_eq!(default_session(&env, &deep).unwrap(), s);
    assert_eq!(listed(&env, &deep), vec![s.to_string()]);
    // The nearest directory with sessions wins over the root.
    let src = anc.join("src");
    let t = "c0c0c0c0-0000-4000-8000-000000000003";
    env.write_session(&src, t, &[user_line("u2", &src, "src work")]);
    assert_eq!(default_session(&env, &deep).unwrap(), t);
}

fn set_mtime(path: &Path, secs_ago: u64) {
    let t = std::time::SystemTime::now() - Duration::from_secs(secs_ago);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// `COMPLETE=fish openctl -- openctl <words>`: one candidate per line.
fn fish_complete(env: &TestEnv, words: &[&str]) -> Vec<String> {
    let mut cmd = env.cmd(&[]);
    cmd.env("COMPLETE", "fish")
        .args(["--", "openctl"])
        .args(words);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut got: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    got.sort();
    got
}

#[test]
fn session_completion_filters_by_prefix_before_anything_else() {
    let env = TestEnv::new();
    let p = env.path().join("proj");
    let a = "7f3c2a10-5b6d-4e8f-9a01-23456789abcd";
    let b = "7f9e0000-5b6d-4e8f-9a01-23456789abcd";
    let pa = env.write_session(&p, a, &[user_line("u1", &p, "Fix the login bug")]);
    // Only the head is read for the title: the first prompt, not a title
    // set later in the transcript.
    let pb = env.write_session(
        &p,
        b,
        &[
            user_line("u1", &p, "Add dark mode"),
            r#"{"type":"custom-title","customTitle":"renamed later"}"#.to_string(),
        ],
    );
    set_mtime(&pa, 3600);
    set_mtime(&pb, 3600);
    // Many newer sessions that do not match: the prefix is applied before
    // any cut to the newest N, so the older matches are still offered.
    for i in 0..250 {
        let uuid = format!("00000000-0000-4000-8000-{i:012}");
        env.write_session(&p, &uuid, &[user_line("u", &p, "other")]);
    }
    assert_eq!(
        fish_complete(&env, &["session", "share", "7f"]),
        vec![
            format!("{a}\tFix the login bug"),
            format!("{b}\tAdd dark mode")
        ]
    );
    assert_eq!(
        fish_complete(&env, &["share", "7F3C"]),
        vec![format!("{a}\tFix the login bug")]
    );
    assert!(fish_complete(&env, &["share", "ffff"]).is_empty());
}

/// Replace config.json atomically, as the CLI does.
fn replace_config(env: &TestEnv, value: serde_json::Value) {
    let tmp = env.openctl_home.join(".tmp-foundation-config");
    std::fs::write(&tmp, value.to_string()).unwrap();
    std::fs::rename(&tmp, env.openctl_home.join("config.json")).unwrap();
}

#[test]
fn the_daemon_keeps_its_settings_when_config_gets_a_bad_value() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let repo = env
        .git_repo("proj", Some("https://github.com/acme/proj.git"))
        .canonicalize()
        .unwrap();
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let config = |redact: serde_json::Value| {
        serde_json::json!({"servers": {&server.url: {
            "allowedRepos": ["github.com/acme/proj"], "redact": redact}}})
    };
    // Redaction off for this server: the secret travels as written.
    replace_config(&env, config(false.into()));
    let secret = "AKIAZ3MPLEQ7RT5XW2YB";
    let session = "d0d0d0d0-0000-4000-8000-000000000001";
    let path = env.write_session(
        &repo,
        session,
        &[user_line("m0", &repo, &format!("key {secret}"))],
    );
    write_shares(&env, &[(session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = wait_for("the server session", Duration::from_secs(30), || {
        daemon_pair(&env, session, &server.url)?["server_session_id"]
            .as_str()
            .map(str::to_string)
    });
    let message = |uuid: &str| {
        wait_for(
            &format!("message {uuid} on the server"),
            Duration::from_secs(30),
            || {
                server.get_session(&id)["messages"]
                    .as_array()?
                    .iter()
                    .find(|m| m["uuid"] == uuid)
                    .map(|m| m.to_string())
            },
        )
    };
    assert!(message("m0").contains(secret));

    // A bad value (not a bool): reported in the log, the previous settings
    // stay (redaction stays off rather than falling back to the default),
    // and streaming goes on.
    replace_config(&env, config("off".into()));
    let log = env.openctl_home.join("daemon.log");
    let reported = wait_for(
        "the log to report the bad value",
        Duration::from_secs(30),
        || {
            let text = std::fs::read_to_string(&log).ok()?;
            text.lines()
                .find(|l| l.contains("redact") && l.contains("keeping the previous settings"))
                .map(str::to_string)
        },
    );
    assert!(reported.contains("config.json"), "{reported}");
    append(&path, &[user_line("m1", &repo, &format!("again {secret}"))]);
    assert!(message("m1").contains(secret));
}

#[test]
fn unknown_keys_in_shared_sessions_survive_share_and_unshare() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let s = "e0e0e0e0-0000-4000-8000-000000000001";
    let other = "e0e0e0e0-0000-4000-8000-000000000002";
    let p = project_with_session(&env, s);
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    // As another (newer or older) openctl may have written it.
    std::fs::write(
        env.openctl_home.join("shared-sessions.json"),
        serde_json::json!({
            "version": 1,
            "futureTop": {"x": [1, 2]},
            "sessions": {
                other: {"filePath": "/nowhere/x.jsonl", "servers": [],
                        "sharedAt": "2026-01-01T00:00:00.000Z", "serverSessions": {},
                        "futureEntry": "kept"},
                s: {"filePath": env.project_dir(&p).join(format!("{s}.jsonl")),
                    "servers": [], "serverSessions": {}, "note": "mine"}
            }
        })
        .to_string(),
    )
    .unwrap();
    let out = env
        .cmd(&["share", s, "--allow-repo", "-s", &server.url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let after_share = env.read_json("shared-sessions.json");
    assert_eq!(after_share["futureTop"]["x"][1], 2, "{after_share}");
    assert_eq!(after_share["sessions"][other]["futureEntry"], "kept");
    assert_eq!(after_share["sessions"][s]["note"], "mine");
    assert_eq!(
        after_share["sessions"][s]["servers"][0],
        server.url.as_str()
    );

    env.ok(&["session", "unshare", s]);
    let after_unshare = env.read_json("shared-sessions.json");
    assert_eq!(after_unshare["futureTop"]["x"][1], 2, "{after_unshare}");
    assert_eq!(after_unshare["sessions"][other]["futureEntry"], "kept");
    let servers = after_unshare["sessions"]
        .get(s)
        .and_then(|e| e["servers"].as_array().cloned())
        .unwrap_or_default();
    assert!(servers.is_empty(), "{after_unshare}");
}
