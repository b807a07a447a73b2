//! Shared test helpers: every test gets its own temporary HOME, OPENCTL_HOME
//! and CLAUDE_CONFIG_DIR, runs the real binary, and waits on conditions with
//! a deadline (never a fixed sleep).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_openctl");

/// The real Claude Code transcripts kept for tests.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/claude-code")
        .join(name)
}

/// An isolated environment: its own home, openctl home and Claude dir.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub openctl_home: PathBuf,
    pub claude_dir: PathBuf,
    /// Extra environment for every command.
    pub env: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("openctl-test-")
            .tempdir()
            .expect("temp dir");
        let home = dir.path().join("home");
        let openctl_home = home.join(".openctl");
        let claude_dir = dir.path().join("claude");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(claude_dir.join("projects")).expect("claude dir");
        TestEnv {
            dir,
            home,
            openctl_home,
            claude_dir,
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command for the real binary in this environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        self.apply_env(&mut cmd);
        cmd.current_dir(self.path());
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Apply this environment's variables to any command.
    pub fn apply_env(&self, cmd: &mut Command) {
        for var in [
            "OPENCTL_SERVER_URL",
            "CLAUDE_SESSION_ID",
            "CLAUDECODE",
            "COMPLETE",
            "OPENCTL_LOG",
            "XDG_CONFIG_HOME",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("OPENCTL_HOME", &self.openctl_home)
            .env("CLAUDE_CONFIG_DIR", &self.claude_dir)
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
    }

    /// Run and capture.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run openctl")
    }

    /// Run, assert exit 0, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "openctl {args:?} failed ({:?})\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A git repository (with an optional origin) under the temp dir.
    pub fn git_repo(&self, name: &str, origin: Option<&str>) -> PathBuf {
        let dir = self.path().join(name);
        std::fs::create_dir_all(&dir).expect("repo dir");
        git(&dir, &["init", "-q", "-b", "main"]);
        if let Some(o) = origin {
            git(&dir, &["remote", "add", "origin", o]);
        }
        dir
    }

    /// The Claude projects dir for `cwd`, created.
    pub fn project_dir(&self, cwd: &Path) -> PathBuf {
        let encoded: String = cwd
            .to_string_lossy()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = self.claude_dir.join("projects").join(encoded);
        std::fs::create_dir_all(&dir).expect("project dir");
        dir
    }

    /// Write a transcript for session `uuid` in project `cwd` with `lines`.
    pub fn write_session(&self, cwd: &Path, uuid: &str, lines: &[String]) -> PathBuf {
        let path = self.project_dir(cwd).join(format!("{uuid}.jsonl"));
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write transcript");
        path
    }

    pub fn read_json(&self, name: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.openctl_home.join(name)).expect("read state");
        serde_json::from_str(&text).expect("state json")
    }
}

pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The identity this machine shows `server`: (client id, write token),
/// from `identities.json`.
pub fn identity(env: &TestEnv, server: &str) -> (String, String) {
    let v = env.read_json("identities.json");
    let entry = &v["servers"][server];
    let field = |k: &str| {
        entry[k]
            .as_str()
            .unwrap_or_else(|| panic!("no {k} for {server} in identities.json: {v}"))
            .to_string()
    };
    (field("clientId"), field("writeToken"))
}

/// A request to `server` as this machine's identity for it.
pub fn as_owner(
    env: &TestEnv,
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
) -> reqwest::blocking::RequestBuilder {
    let (id, token) = identity(env, &server.url);
    reqwest::blocking::Client::new()
        .request(method, server.api(path))
        .header("x-openctl-client-id", id)
        .header("x-openctl-write-token", token)
}

/// A user line of a transcript.
pub fn user_line(uuid: &str, cwd: &Path, text: &str) -> String {
    serde_json::json!({
        "type": "user", "uuid": uuid, "sessionId": "s", "cwd": cwd,
        "timestamp": "2026-11-24T10:00:00.000Z",
        "message": {"role": "user", "content": text}
    })
    .to_string()
}

/// An assistant line of a transcript.
pub fn assistant_line(uuid: &str, cwd: &Path, text: &str) -> String {
    serde_json::json!({
        "type": "assistant", "uuid": uuid, "sessionId": "s", "cwd": cwd,
        "timestamp": "2026-11-24T10:00:01.000Z",
        "message": {"role": "assistant", "model": "claude-test", "id": format!("msg_{uuid}"),
                    "content": [{"type": "text", "text": text}]}
    })
    .to_string()
}

/// Wait until `cond` returns Some, or panic after `timeout` naming `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = cond() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Append complete lines to a transcript in one write, as Claude Code does.
pub fn append(path: &Path, lines: &[String]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open transcript");
    let mut text = String::new();
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    f.write_all(text.as_bytes()).expect("append");
}

/// A loopback port nothing listens on (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---- hook / plugin / completions (issue 6) helpers ----

/// PATH with the directory of the binary under test first, so scripts that
/// call `openctl` run this build.
pub fn path_with_bin() -> String {
    let bin_dir = Path::new(BIN).parent().expect("binary dir");
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display())
}

/// PATH without any openctl binary.
pub fn path_without_bin() -> &'static str {
    "/usr/local/bin:/usr/bin:/bin"
}

// --- server helpers ---
//
// `TestServer` runs the real `openctl server` for a test: on a free port of
// 127.0.0.1 (`--listen 127.0.0.1:0`; the bound address is read from the
// `Listening on http://ADDR` line on stderr, so there is no port race), with
// a database in the test's temp dir and the TestEnv's environment. It is
// killed when dropped. `restart` stops it gracefully and starts it again on
// the same database and the same port, so URLs handed out stay valid.
//
//     let env = TestEnv::new();
//     let server = TestServer::start(&env);
//     let detail = server.get_session(&id); // GET /api/sessions/:id as JSON

use std::ffi::OsString;
use std::io::BufRead;
use std::process::Child;
use std::sync::{Arc, Mutex};

pub struct TestServer {
    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub url: String,
    /// The bound `127.0.0.1:PORT`.
    pub addr: String,
    /// The SQLite database file.
    pub db: PathBuf,
    extra_args: Vec<String>,
    envs: Vec<(OsString, Option<OsString>)>,
    cwd: PathBuf,
    child: Option<Child>,
    log: Arc<Mutex<String>>,
}

impl TestServer {
    /// Start a server with its database at `<env>/server.db`.
    pub fn start(env: &TestEnv) -> TestServer {
        TestServer::start_with(env, &env.path().join("server.db"), &[])
    }

    /// Start a server on `db` with extra arguments (e.g. `["--token", "t"]`).
    pub fn start_with(env: &TestEnv, db: &Path, extra_args: &[&str]) -> TestServer {
        let cmd = env.cmd(&[]);
        let envs = cmd
            .get_envs()
            .map(|(k, v)| (k.to_os_string(), v.map(|v| v.to_os_string())))
            .collect();
        let mut server = TestServer {
            url: String::new(),
            addr: "127.0.0.1:0".into(),
            db: db.to_path_buf(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            envs,
            cwd: env.path().to_path_buf(),
            child: None,
            log: Arc::new(Mutex::new(String::new())),
        };
        server.launch(Duration::from_secs(30));
        server
    }

    fn launch(&mut self, timeout: Duration) {
        let mut cmd = Command::new(BIN);
        cmd.args(["server", "--listen", &self.addr, "--db"])
            .arg(&self.db)
            .args(&self.extra_args)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.env_remove("OPENCTL_SERVER_TOKEN");
        for (k, v) in &self.envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let mut child = cmd.spawn().expect("spawn openctl server");
        let stderr = child.stderr.take().expect("server stderr");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("Listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
                let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(50)) {
                self.addr = url.trim_start_matches("http://").to_string();
                self.url = url;
                self.child = Some(child);
                return;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "openctl server exited ({status}) before listening:\n{}",
                    self.log()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "openctl server did not print `Listening on` within {timeout:?}:\n{}",
                    self.log()
                );
            }
        }
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Send SIGTERM and wait (up to 30 s) for a clean exit; returns the status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server is running");
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        wait_for(
            "openctl server to exit after SIGTERM",
            Duration::from_secs(30),
            || child.try_wait().expect("wait for server"),
        )
    }

    /// Stop gracefully and start again on the same database and port.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            let status = self.stop();
            assert!(status.success(), "server exit: {status}\n{}", self.log());
        }
        // The port was just ours; retry briefly in case the OS is slow to free it.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let addr = self.addr.clone();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.launch(Duration::from_secs(30))
            }));
            match result {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => std::panic::resume_unwind(e),
                Err(_) => {
                    self.addr = addr;
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// Any path on this server, e.g. `api("/api/health")`.
    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `GET /api/sessions/:id` as JSON (panics unless 200).
    pub fn get_session(&self, id: &str) -> serde_json::Value {
        let res =
            reqwest::blocking::get(self.api(&format!("/api/sessions/{id}"))).expect("GET session");
        let status = res.status();
        let text = res.text().expect("session body");
        assert_eq!(status.as_u16(), 200, "GET /api/sessions/{id}: {text}");
        serde_json::from_str(&text).expect("session json")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// daemon (issue 4) helpers
//
// `DaemonGuard` stops the daemon of a TestEnv when dropped (through the real
// `openctl daemon stop`, which only signals the process holding the lock).
// `write_shares` / `write_config` replace shared-sessions.json and
// config.json atomically (temp file + rename), as the CLI does, and
// `daemon_status` reads `openctl daemon status --json`.

pub struct DaemonGuard<'a> {
    pub env: &'a TestEnv,
}

impl<'a> DaemonGuard<'a> {
    /// `openctl daemon start` (asserting success).
    pub fn start(env: &'a TestEnv) -> DaemonGuard<'a> {
        env.ok(&["daemon", "start"]);
        DaemonGuard { env }
    }
}

impl Drop for DaemonGuard<'_> {
    fn drop(&mut self) {
        let _ = self.env.run(&["daemon", "stop"]);
    }
}

fn replace_file(path: &Path, text: &str) {
    let dir = path.parent().expect("parent");
    std::fs::create_dir_all(dir).expect("dir");
    let tmp = dir.join(format!(".tmp-test-{}", uuid::Uuid::new_v4().as_simple()));
    std::fs::write(&tmp, text).expect("write temp");
    std::fs::rename(&tmp, path).expect("rename");
}

/// Replace shared-sessions.json: `(session uuid, transcript, [server urls])`.
pub fn write_shares(env: &TestEnv, shares: &[(&str, &Path, &[&str])]) {
    let mut sessions = serde_json::Map::new();
    for (uuid, path, servers) in shares {
        sessions.insert(
            uuid.to_string(),
            serde_json::json!({
                "filePath": path, "servers": servers,
                "sharedAt": "2026-11-24T10:00:00.000Z", "serverSessions": {}
            }),
        );
    }
    let text = serde_json::json!({"version": 1, "sessions": sessions}).to_string();
    replace_file(&env.openctl_home.join("shared-sessions.json"), &text);
}

/// Replace config.json: every server in `servers` allows `repo_id`; plus
/// extra top-level settings.
pub fn write_config(env: &TestEnv, servers: &[&str], repo_id: &str, extra: serde_json::Value) {
    let mut map = serde_json::Map::new();
    for s in servers {
        map.insert(
            s.to_string(),
            serde_json::json!({"allowedRepos": [repo_id]}),
        );
    }
    let mut cfg = serde_json::json!({"servers": map});
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            cfg[k] = v;
        }
    }
    replace_file(&env.openctl_home.join("config.json"), &cfg.to_string());
}

/// `openctl daemon status --json`.
pub fn daemon_status(env: &TestEnv) -> serde_json::Value {
    serde_json::from_str(&env.ok(&["daemon", "status", "--json"])).expect("status json")
}

/// The status entry of (session, server), if listed.
pub fn daemon_pair(env: &TestEnv, session: &str, server: &str) -> Option<serde_json::Value> {
    daemon_status(env)["sessions"]
        .as_array()?
        .iter()
        .find(|p| p["session"] == session && p["server"] == server)
        .cloned()
}

// A stand-in for the Anthropic Messages API, for the real Claude Code CLI
// (tests/claude_code.rs).
pub mod model_stub;
