//! Shared by the viewer benchmark (`benches/viewer.rs`) and the viewer's
//! browser tests (`tests/viewer.rs`): a WebDriver client for headless
//! Chromium over chromedriver's HTTP API, and a generated Claude Code
//! session (no third-party transcript anywhere).

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http client")
}

/// Poll `f` until it returns Some, at most `timeout`.
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// chromedriver plus one browser session; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

pub struct BrowserOptions {
    pub width: u32,
    pub height: u32,
    pub dark: bool,
    /// WebDriver page load strategy: "normal" waits for the load event,
    /// "none" returns at once (for timing a page as it streams in).
    pub page_load: &'static str,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        BrowserOptions {
            width: 1280,
            height: 1000,
            dark: false,
            page_load: "normal",
        }
    }
}

impl Browser {
    pub fn available() -> bool {
        Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()
    }

    pub fn start(opts: BrowserOptions) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            _profile: tempfile::tempdir().expect("profile dir"),
        };
        poll("chromedriver to be ready", Duration::from_secs(30), || {
            http()
                .get(format!("{}/status", browser.base))
                .send()
                .ok()?
                .json::<Value>()
                .ok()
                .filter(|v| v["value"]["ready"] == true)
        });
        let profile = browser._profile.path().display().to_string();
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            format!("--window-size={},{}", opts.width, opts.height),
            format!("--user-data-dir={profile}"),
        ];
        if opts.dark {
            args.push("--blink-settings=preferredColorScheme=0".into());
            args.push("--force-dark-mode".into());
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": opts.page_load,
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}
        }}});
        let created = browser.call("POST", "/session", Some(caps));
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_string();
        browser
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = http().request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().expect("WebDriver request");
        let status = res.status();
        let value: Value = res.json().expect("WebDriver json");
        assert!(status.is_success(), "WebDriver {path}: {value}");
        value.get("value").cloned().unwrap_or(Value::Null)
    }

    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.path("/url"), Some(json!({ "url": url })));
    }

    pub fn back(&self) {
        self.call("POST", &self.path("/back"), Some(json!({})));
    }

    pub fn forward(&self) {
        self.call("POST", &self.path("/forward"), Some(json!({})));
    }

    pub fn js(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.path("/execute/sync"),
            Some(json!({"script": script, "args": []})),
        )
    }

    /// A Chrome DevTools Protocol command.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(
            "POST",
            &self.path("/goog/cdp/execute"),
            Some(json!({"cmd": cmd, "params": params})),
        )
    }

    /// Open a new tab and switch to it; returns its handle.
    pub fn new_tab(&self) -> String {
        let h = self.call(
            "POST",
            &self.path("/window/new"),
            Some(json!({"type": "tab"})),
        )["handle"]
            .as_str()
            .expect("window handle")
            .to_string();
        self.switch_to(&h);
        h
    }

    /// Close the current window or tab.
    pub fn close_window(&self) {
        self.call("DELETE", &self.path("/window"), None);
    }

    pub fn switch_to(&self, handle: &str) {
        self.call(
            "POST",
            &self.path("/window"),
            Some(json!({ "handle": handle })),
        );
    }

    pub fn handle(&self) -> String {
        self.call("GET", &self.path("/window"), None)
            .as_str()
            .expect("handle")
            .to_string()
    }

    pub fn screenshot(&self, to: &Path) {
        let b64 = self.call("GET", &self.path("/screenshot"), None);
        let png = base64_decode(b64.as_str().expect("base64 screenshot"));
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        std::fs::write(to, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http()
                .delete(format!("{}/session/{}", self.base, self.session))
                .send();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

pub fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, d)| acc | d << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    out
}

// ---------------------------------------------------------------------------
// a generated session

/// A message as the daemon pushes it.
fn message(i: usize, role: &str, kind: &str, blocks: Value, agent: Option<(&str, &str)>) -> Value {
    let secs = 36_000 + i as u64 * 7;
    let mut m = json!({
        "role": role,
        "kind": kind,
        "uuid": format!("gen-{i:06}"),
        "timestamp": format!("2026-11-24T{:02}:{:02}:{:02}.000Z", (secs / 3600) % 24, secs / 60 % 60, secs % 60),
        "content_blocks": blocks,
    });
    if let Some((agent, parent)) = agent {
        m["agent_id"] = json!(agent);
        m["parent_tool_use_id"] = json!(parent);
    }
    m
}

const PROMPTS: &[&str] = &[
    "The parser drops the last line when the input has no trailing newline. Can you fix it and add a test?",
    "Add a `--json` flag to `openctl session list` that prints one object per session.",
    "Why does the daemon use 100% CPU after the laptop wakes up? Look at the watcher.",
    "Rename `Store::detail` to `Store::snapshot` everywhere and update the docs.",
    "Make the retry backoff jittered (full jitter, cap 10 s) and explain the choice.",
];

const FILES: &[&str] = &[
    "src/parser.rs",
    "src/daemon/watch.rs",
    "src/server/store.rs",
    "src/cli.rs",
    "tests/parser.rs",
];

const CODE: &str = "pub fn parse_lines(rest: &str) -> Vec<Line> {\n    let mut out = Vec::new();\n    // One line per newline; a last line without one still counts.\n    for line in rest.split_inclusive('\\n') {\n        out.push(Line::new(line.trim_end_matches('\\n')));\n    }\n    out\n}\n";

fn file_listing(path: &str, lines: usize) -> String {
    (1..=lines)
        .map(|n| match n % 6 {
            0 => format!("{n:>6}→}}"),
            1 => format!("{n:>6}→pub fn step_{n}(input: &str) -> Result<usize, Error> {{"),
            2 => format!("{n:>6}→    let trimmed = input.trim(); // from {path}"),
            3 => format!("{n:>6}→    if trimmed.is_empty() {{ return Err(Error::Empty); }}"),
            4 => format!("{n:>6}→    Ok(trimmed.len() + {n})"),
            _ => format!("{n:>6}→"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// (role, kind, blocks, (agent id, parent call id) of a subagent's message).
type Planned = (String, String, Value, Option<(String, String)>);

/// A realistic session of exactly `n` messages: prompts, answers with
/// markdown, thinking, tool calls of the common tools with their results
/// (some errors), Claude Code's own lines, and a subagent.
pub fn session(n: usize) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(n);
    let mut turn = 0usize;
    while out.len() < n {
        let t = turn;
        let file = FILES[t % FILES.len()];
        let abs = format!("/home/dev/openctl/{file}");
        let mut turn_msgs: Vec<Planned> = Vec::new();
        let mut push = |role: &str, kind: &str, blocks: Value| {
            turn_msgs.push((role.into(), kind.into(), blocks, None));
        };
        if t % 7 == 3 {
            push(
                "user",
                "command",
                json!([{"type": "text", "text": "<command-name>/model</command-name>\n<command-message>model</command-message>\n<command-args>opus</command-args>"}]),
            );
            push(
                "user",
                "local_output",
                json!([{"type": "text", "text": "<local-command-stdout>Set model to \u{1b}[1mopus\u{1b}[22m</local-command-stdout>"}]),
            );
        }
        push(
            "user",
            "prompt",
            json!([{"type": "text", "text": format!("{} (step {})", PROMPTS[t % PROMPTS.len()], t + 1)}]),
        );
        push(
            "assistant",
            "response",
            json!([
                {"type": "thinking", "thinking": format!("The bug is probably in `{file}`: the loop stops before a line without a trailing newline. Read it first, then run the tests.")},
                {"type": "text", "text": format!("I'll start with **{file}** and the tests around it:\n\n1. read the parser\n2. run `cargo test parser`\n3. fix the loop and add a test")},
                {"type": "tool_use", "id": format!("read-{t}"), "name": "Read", "input": {"file_path": abs}}
            ]),
        );
        push(
            "user",
            "tool_result",
            json!([{"type": "tool_result", "tool_use_id": format!("read-{t}"), "content": file_listing(file, 40)}]),
        );
        push(
            "assistant",
            "response",
            json!([{"type": "tool_use", "id": format!("grep-{t}"), "name": "Grep", "input": {"pattern": "fn parse_lines", "path": "src", "output_mode": "content", "-n": true}}]),
        );
        push(
            "user",
            "tool_result",
            json!([{"type": "tool_result", "tool_use_id": format!("grep-{t}"), "content": format!("{file}:10:pub fn parse_lines(rest: &str) -> Vec<Line> {{\ntests/parser.rs:4:use openctl::parse_lines;")}]),
        );
        push(
            "assistant",
            "response",
            json!([{"type": "tool_use", "id": format!("bash-{t}"), "name": "Bash", "input": {"command": "cargo test parser 2>&1 | tail -20", "description": "Run the parser tests"}}]),
        );
        push(
            "user",
            "tool_result",
            json!([{"type": "tool_result", "tool_use_id": format!("bash-{t}"), "is_error": t.is_multiple_of(2),
                "content": "running 3 tests\ntest parses_empty ... ok\ntest parses_two_lines ... ok\ntest keeps_last_line ... FAILED\n\nfailures:\n\n---- keeps_last_line stdout ----\nassertion `left == right` failed\n  left: 1\n right: 2\n\ntest result: FAILED. 2 passed; 1 failed; 0 ignored"}]),
        );
        if t % 5 == 1 {
            push(
                "user",
                "injected",
                json!([{"type": "text", "text": "<system-reminder>The TodoWrite tool hasn't been used recently. If you're working on tasks that would benefit from tracking progress, consider using it.</system-reminder>"}]),
            );
        }
        push(
            "assistant",
            "response",
            json!([
                {"type": "text", "text": "One failure, as expected. The loop uses `find('\\n')`, so the last line is lost. Fixing it:"},
                {"type": "tool_use", "id": format!("edit-{t}"), "name": "Edit", "input": {"file_path": abs,
                    "old_string": "    let mut out = Vec::new();\n    while let Some(i) = rest.find('\\n') {\n        out.push(Line::new(&rest[..i]));\n        rest = &rest[i + 1..];\n    }\n    out",
                    "new_string": "    let mut out = Vec::new();\n    for line in rest.split_inclusive('\\n') {\n        out.push(Line::new(line.trim_end_matches('\\n')));\n    }\n    out"}}
            ]),
        );
        push(
            "user",
            "tool_result",
            json!([{"type": "tool_result", "tool_use_id": format!("edit-{t}"), "content": format!("The file {abs} has been updated.")}]),
        );
        if t % 3 == 2 {
            let task = format!("task-{t}");
            push(
                "assistant",
                "response",
                json!([{"type": "tool_use", "id": task, "name": "Task", "input": {"description": "Find other callers of parse_lines", "subagent_type": "general-purpose",
                    "prompt": "Search the repository for every caller of `parse_lines` and report whether any relies on the old behaviour (dropping the last line)."}}]),
            );
            let agent = format!("agent{t}");
            turn_msgs.push((
                "user".into(),
                "injected".into(),
                json!([{"type": "text", "text": "Search the repository for every caller of `parse_lines` and report whether any relies on the old behaviour."}]),
                Some((agent.clone(), task.clone())),
            ));
            turn_msgs.push((
                "assistant".into(),
                "response".into(),
                json!([{"type": "tool_use", "id": format!("sub-grep-{t}"), "name": "Grep", "input": {"pattern": "parse_lines\\(", "output_mode": "files_with_matches"}}]),
                Some((agent.clone(), task.clone())),
            ));
            turn_msgs.push((
                "user".into(),
                "tool_result".into(),
                json!([{"type": "tool_result", "tool_use_id": format!("sub-grep-{t}"), "content": "src/parser.rs\nsrc/daemon/stream.rs\ntests/parser.rs"}]),
                Some((agent.clone(), task.clone())),
            ));
            turn_msgs.push((
                "assistant".into(),
                "response".into(),
                json!([{"type": "text", "text": "Two callers, neither relies on the last line being dropped."}]),
                Some((agent, task.clone())),
            ));
            turn_msgs.push((
                "user".into(),
                "tool_result".into(),
                json!([{"type": "tool_result", "tool_use_id": task, "content": "Two callers (src/daemon/stream.rs, tests/parser.rs); neither relies on the old behaviour."}]),
                None,
            ));
        }
        let mut push = |role: &str, kind: &str, blocks: Value| {
            turn_msgs.push((role.into(), kind.into(), blocks, None));
        };
        push(
            "assistant",
            "response",
            json!([
                {"type": "tool_use", "id": format!("todo-{t}"), "name": "TodoWrite", "input": {"todos": [
                    {"content": "Read the parser", "status": "completed", "activeForm": "Reading"},
                    {"content": "Fix the loop", "status": "completed", "activeForm": "Fixing"},
                    {"content": "Add a regression test", "status": "in_progress", "activeForm": "Adding a test"}]}}
            ]),
        );
        push(
            "user",
            "tool_result",
            json!([{"type": "tool_result", "tool_use_id": format!("todo-{t}"), "content": "Todos have been modified successfully."}]),
        );
        push(
            "assistant",
            "response",
            json!([{"type": "tool_use", "id": format!("bash2-{t}"), "name": "Bash", "input": {"command": "cargo test parser", "description": "Run the parser tests again"}}]),
        );
        push(
            "user",
            "tool_result",
            json!([{"type": "tool_result", "tool_use_id": format!("bash2-{t}"), "content": "running 3 tests\ntest parses_empty ... ok\ntest parses_two_lines ... ok\ntest keeps_last_line ... ok\n\ntest result: ok. 3 passed; 0 failed; 0 ignored"}]),
        );
        push(
            "assistant",
            "response",
            json!([{"type": "text", "text": format!("All **3 tests** pass now. What changed:\n\n| file | change |\n|---|---|\n| `{file}` | `split_inclusive` keeps the last line |\n| `tests/parser.rs` | `keeps_last_line` covers it |\n\n```rust\n{CODE}```\n\n- [x] fix the loop\n- [x] run the tests\n- [ ] update the changelog")}]),
        );
        for (role, kind, blocks, agent) in turn_msgs {
            if out.len() >= n {
                break;
            }
            let i = out.len();
            out.push(message(
                i,
                &role,
                &kind,
                blocks,
                agent.as_ref().map(|(a, p)| (a.as_str(), p.as_str())),
            ));
        }
        turn += 1;
    }
    out
}

/// A unified diff of the session's changes.
pub fn diff() -> String {
    "diff --git a/src/parser.rs b/src/parser.rs\nindex 1c2d3e4..5f6a7b8 100644\n--- a/src/parser.rs\n+++ b/src/parser.rs\n@@ -10,9 +10,7 @@ pub fn parse_lines(rest: &str) -> Vec<Line> {\n     let mut out = Vec::new();\n-    while let Some(i) = rest.find('\\n') {\n-        out.push(Line::new(&rest[..i]));\n-        rest = &rest[i + 1..];\n+    for line in rest.split_inclusive('\\n') {\n+        out.push(Line::new(line.trim_end_matches('\\n')));\n     }\n     out\n }\ndiff --git a/tests/parser.rs b/tests/parser.rs\nindex 0a1b2c3..4d5e6f7 100644\n--- a/tests/parser.rs\n+++ b/tests/parser.rs\n@@ -20,3 +20,9 @@ fn parses_two_lines() {\n     assert_eq!(parse_lines(\"a\\nb\\n\").len(), 2);\n }\n+\n+#[test]\n+fn keeps_last_line() {\n+    assert_eq!(parse_lines(\"a\\nb\").len(), 2);\n+}\n".to_string()
}
