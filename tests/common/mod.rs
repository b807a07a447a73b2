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
