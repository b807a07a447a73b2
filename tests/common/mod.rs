//! Shared test helpers: every test gets its own temporary HOME, OPENCTL_HOME
//! and CLAUDE_CONFIG_DIR, runs the real binary, and waits on conditions with
//! a deadline (never a fixed sleep).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_openctl");

/// One of our own Claude Code transcripts, `tests/fixtures/claude-code/<name>`
/// (what each exercises: the README.md there).
pub fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude-code")
        .join(name);
    assert!(
        path.is_file(),
        "fixture {} is missing: it is committed with the tests (tests/fixtures/claude-code/README.md)",
        path.display()
    );
    path
}

/// The variable naming the directory of the real Claude Code transcripts
/// (third-party files, never committed) for the `#[ignore]`d tests of
/// `real_transcripts.rs`.
pub const REAL_TRANSCRIPTS_VAR: &str = "OPENCTL_REAL_TRANSCRIPTS";

/// A real Claude Code transcript from `$OPENCTL_REAL_TRANSCRIPTS/<name>`;
/// panics saying which path it looked for and how to provide it.
pub fn real_transcript(name: &str) -> PathBuf {
    let how = format!(
        "set {REAL_TRANSCRIPTS_VAR}=<dir with the real Claude Code transcripts>, \
         as .ci/run does with ../shared/fixtures/claude-code"
    );
    let dir = match std::env::var_os(REAL_TRANSCRIPTS_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "{REAL_TRANSCRIPTS_VAR} is not set: looked for ${REAL_TRANSCRIPTS_VAR}/{name}; {how}"
        ),
    };
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "real transcript {} is missing ({REAL_TRANSCRIPTS_VAR}={}); {how}",
        path.display(),
        dir.display()
    );
    path
}

/// A file's bytes; panics naming the path.
pub fn read_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A file's text; panics naming the path.
pub fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// What one of our transcripts must give: the numbers in
/// tests/fixtures/claude-code/README.md.
#[derive(Debug)]
pub struct Expected {
    pub name: &'static str,
    /// Complete lines (`Summary::lines`).
    pub lines: u64,
    /// `user` / `assistant` lines that are messages: complete, with a
    /// `message`, not sidechain.
    pub user: usize,
    pub assistant: usize,
    /// Those messages by kind (wire name, count); kinds not listed: none.
    pub kinds: &'static [(&'static str, usize)],
    /// Lines of them without a `uuid` (keyed by the daemon otherwise).
    pub without_uuid: usize,
    pub cwd: &'static str,
    /// What a person expects: custom title, else AI title, else the first
    /// prompt they typed, cleaned.
    pub title: &'static str,
    /// First model (not `<synthetic>`).
    pub model: Option<&'static str>,
    /// Bytes after the last newline (a line still being written).
    pub incomplete_tail: bool,
}

impl Expected {
    pub fn messages(&self) -> usize {
        self.user + self.assistant
    }
}

/// Our committed transcripts, one per era or structure.
pub const OWN_TRANSCRIPTS: [Expected; 6] = [
    Expected {
        name: "cc1.0-inline-sidechains.jsonl",
        lines: 33,
        user: 10,
        assistant: 15,
        kinds: &[("prompt", 2), ("response", 15), ("tool_result", 8)],
        without_uuid: 0,
        cwd: "/home/dev/inventory-api",
        title: "The /items endpoint returns all 40k rows in one response and the mobile app…",
        model: Some("claude-sonnet-4-20250514"),
        incomplete_tail: false,
    },
    Expected {
        name: "cc2.0-images-commands.jsonl",
        lines: 34,
        user: 19,
        assistant: 14,
        kinds: &[
            ("command", 2),
            ("injected", 4),
            ("local_output", 3),
            ("prompt", 2),
            ("response", 13),
            ("tool_result", 9),
        ],
        without_uuid: 0,
        cwd: "/home/dev/shop-frontend",
        title: "On narrow screens the cart total overlaps the checkout button, see the…",
        model: Some("claude-opus-4-1-20250805"),
        incomplete_tail: false,
    },
    Expected {
        name: "cc2.1.112-compact-queue.jsonl",
        lines: 75,
        user: 22,
        assistant: 26,
        kinds: &[
            ("compact_summary", 1),
            ("prompt", 3),
            ("response", 26),
            ("tool_result", 18),
        ],
        without_uuid: 0,
        cwd: "/home/dev/metrics-dashboard",
        title: "Weekly active users page with CSV export",
        model: Some("claude-opus-4-6"),
        incomplete_tail: false,
    },
    Expected {
        name: "cc2.1.332-new-line-types.jsonl",
        lines: 33,
        user: 7,
        assistant: 9,
        kinds: &[
            ("command", 1),
            ("injected", 1),
            ("prompt", 1),
            ("response", 9),
            ("tool_result", 4),
        ],
        without_uuid: 0,
        cwd: "/home/dev/notes-cli",
        title: "notes: fuzzy search",
        model: Some("claude-opus-4-7"),
        incomplete_tail: false,
    },
    Expected {
        name: "windows-cwd.jsonl",
        lines: 17,
        user: 4,
        assistant: 8,
        kinds: &[("prompt", 1), ("response", 8), ("tool_result", 3)],
        without_uuid: 0,
        cwd: "C:\\Users\\dev\\proj",
        title: "run.ps1 fails with \"cannot be loaded because running scripts is disabled\". Make…",
        model: Some("qwen/qwen3-coder-480b-a35b-instruct"),
        incomplete_tail: false,
    },
    Expected {
        name: "truncated-last-line.jsonl",
        lines: 3,
        user: 2,
        assistant: 1,
        kinds: &[("prompt", 2), ("response", 1)],
        without_uuid: 1,
        cwd: "/home/dev/scratch",
        title: "Write a haiku about log rotation.",
        model: None,
        incomplete_tail: true,
    },
];

/// The transcript [`two_megabyte_transcript`] writes.
pub const TWO_MEGABYTE: Expected = Expected {
    name: "two-megabyte-line.jsonl",
    lines: 4,
    user: 2,
    assistant: 2,
    kinds: &[("prompt", 1), ("response", 2), ("tool_result", 1)],
    without_uuid: 0,
    cwd: "/home/dev/metrics-dashboard",
    title: "Which platform had the most signups in May? The export is in the events table.",
    model: Some("claude-opus-4-7"),
    incomplete_tail: false,
};

/// A 2.1.332-style transcript whose third line is a tool result of more
/// than 2 MB with `type` after `message`, written as `dir/<TWO_MEGABYTE.name>`
/// (generated rather than committed: see tests/fixtures/claude-code/README.md).
pub fn two_megabyte_transcript(dir: &Path) -> PathBuf {
    use serde_json::json;
    let session = "8d0c6c52-3f4e-4c8a-9a57-2b1e0f6d4c31";
    let cwd = TWO_MEGABYTE.cwd;
    let envelope = |mut line: serde_json::Value, uuid: &str, parent: Option<&str>, second: u32| {
        let map = line.as_object_mut().expect("a line is an object");
        map.insert("parentUuid".into(), json!(parent));
        map.insert("uuid".into(), json!(uuid));
        map.insert(
            "timestamp".into(),
            json!(format!("2026-06-19T10:00:{second:02}.000Z")),
        );
        map.insert("cwd".into(), json!(cwd));
        map.insert("sessionId".into(), json!(session));
        map.insert("version".into(), json!("2.1.332"));
        line.to_string()
    };
    let call = "toolu_01Q8mDk3Vb7sX2nLpR4tYw9e";
    let mut rows = String::from("day,event,user,platform\n");
    let platforms = ["web", "ios", "android", "desktop"];
    let mut i = 0u32;
    while rows.len() < 2 << 20 {
        i += 1;
        rows.push_str(&format!(
            "2026-05-{:02},signup,user-{:07},{}\n",
            1 + i % 31,
            i * 7 % 9_999_991,
            platforms[(i * 13 % 4) as usize]
        ));
    }
    let assistant = |id: &str, content: serde_json::Value| {
        json!({"type": "assistant", "message": {"id": id, "type": "message", "role": "assistant",
               "model": "claude-opus-4-7", "content": content, "stop_reason": "end_turn"}})
    };
    let lines = [
        envelope(
            json!({"type": "user", "message": {"role": "user", "content": TWO_MEGABYTE.title}}),
            "b0f7a3e1-0001-4d6e-8c2a-5f9e1b7d3a01",
            None,
            0,
        ),
        envelope(
            assistant(
                "msg_01Hs9Tq2VbN4cX8mLk3RzP7w",
                json!([{"type": "tool_use", "id": call,
                "name": "mcp__postgres__query",
                "input": {"sql": "select day, event, user, platform from events where event = 'signup' and day >= '2026-05-01'"}}]),
            ),
            "b0f7a3e1-0002-4d6e-8c2a-5f9e1b7d3a02",
            Some("b0f7a3e1-0001-4d6e-8c2a-5f9e1b7d3a01"),
            3,
        ),
        // Key order is not stable: here `type` comes after the 2 MB `message`.
        envelope(
            json!({"message": {"role": "user", "content": [
                {"tool_use_id": call, "type": "tool_result", "content": [{"type": "text", "text": rows}]}]},
                "type": "user", "toolUseResult": {"rowCount": i, "truncated": false}}),
            "b0f7a3e1-0003-4d6e-8c2a-5f9e1b7d3a03",
            Some("b0f7a3e1-0002-4d6e-8c2a-5f9e1b7d3a02"),
            9,
        ),
        envelope(
            assistant(
                "msg_01Ln5Wc8XrT3bQ6vJm2KdY4h",
                json!([{"type": "text",
                "text": format!("{i} signups in May; counting them by platform next.")}]),
            ),
            "b0f7a3e1-0004-4d6e-8c2a-5f9e1b7d3a04",
            Some("b0f7a3e1-0003-4d6e-8c2a-5f9e1b7d3a03"),
            14,
        ),
    ];
    let path = dir.join(TWO_MEGABYTE.name);
    let mut text = lines.join("\n");
    text.push('\n');
    assert!(text.len() > 2 << 20, "{} bytes", text.len());
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// Every one of our transcripts with what it must give: the committed
/// ones, then the 2 MB one, written into `dir`.
pub fn own_transcripts(dir: &Path) -> Vec<(PathBuf, &'static Expected)> {
    let mut all: Vec<(PathBuf, &'static Expected)> = OWN_TRANSCRIPTS
        .iter()
        .map(|e| (fixture(e.name), e))
        .collect();
    all.push((two_megabyte_transcript(dir), &TWO_MEGABYTE));
    all
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
