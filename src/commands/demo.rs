//! `openctl demo`: a live share on this machine for someone who just
//! installed openctl. It starts the embedded server in-process (or uses the
//! configured one when it is local and answers), writes a short realistic
//! session into a temporary Claude projects dir, shares it through the normal
//! path (allowlist, daemon, server), prints the URL and keeps the session
//! growing so the viewer visibly updates. It never touches the user's real
//! `~/.openctl` or `~/.claude`: everything lives in a temporary directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::cli::DemoArgs;
use crate::config::{self, Config};
use crate::error::{CliError, Exit};
use crate::output;

/// The files of one demo run, removed when it ends.
struct Sandbox {
    dir: tempfile::TempDir,
    openctl_home: PathBuf,
    claude_dir: PathBuf,
    project: PathBuf,
}

impl Sandbox {
    fn new() -> Result<Sandbox> {
        let dir = tempfile::Builder::new()
            .prefix("openctl-demo-")
            .tempdir()
            .context("cannot create a temporary directory for the demo")?;
        let openctl_home = dir.path().join("openctl");
        let claude_dir = dir.path().join("claude");
        let project = dir.path().join("todo-app");
        crate::paths::ensure_private_dir(&openctl_home)?;
        std::fs::create_dir_all(&project)
            .with_context(|| format!("cannot create {}", project.display()))?;
        Ok(Sandbox {
            dir,
            openctl_home,
            claude_dir,
            project,
        })
    }

    /// An `openctl` child process confined to the sandbox.
    fn openctl(&self, args: &[&str]) -> Result<Command> {
        let exe = std::env::current_exe().context("cannot find the openctl executable")?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env("OPENCTL_HOME", &self.openctl_home)
            .env("CLAUDE_CONFIG_DIR", &self.claude_dir)
            .env_remove("OPENCTL_SERVER_URL")
            .env_remove("CLAUDE_SESSION_ID")
            .stdin(Stdio::null());
        Ok(cmd)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The demo's own daemon: stop it before its files disappear.
        if let Ok(mut cmd) = self.openctl(&["daemon", "stop"]) {
            let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
    }
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let sandbox = Sandbox::new()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (server, server_task) = match local_configured_server(&runtime) {
        Some(url) if args.port.is_none() => {
            output::note(false, format!("Using the server at {url}"));
            (url, None)
        }
        _ => {
            let port = args.port.unwrap_or(0);
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
                .map_err(|e| {
                    CliError::new(
                        Exit::Failure,
                        format!("cannot listen on 127.0.0.1:{port}: {e}"),
                    )
                    .with_hint("pick another port with --port, or omit it for a free one")
                })?;
            let addr = listener.local_addr()?;
            let opts = crate::server::ServerOptions::new(sandbox.dir.path().join("demo.db"));
            let task = runtime.spawn(crate::server::serve(listener, opts, async move {
                let _ = stop_rx.await;
            }));
            let url = format!("http://{addr}");
            output::note(false, format!("Started the embedded server on {url}"));
            (url, Some(task))
        }
    };

    let session = SampleSession::create(&sandbox)?;
    session.append(0..OPENING)?;
    output::note(
        false,
        format!(
            "Wrote a sample Claude Code session: {}",
            session.path.display()
        ),
    );

    let url = share(&sandbox, &session.path, &server)?;
    output::println(&url)?;
    output::note(
        false,
        format!(
            "{} Shared. Open {url} — the session keeps growing for {} s.",
            output::style_ok("✓"),
            args.duration
        ),
    );

    let steps = STEPS.len() - OPENING;
    let pause = Duration::from_millis(args.duration * 1000 / steps.max(1) as u64);
    for i in OPENING..STEPS.len() {
        if ctrl_c_pressed(&runtime, pause) {
            return finish(runtime, stop_tx, server_task);
        }
        session.append(i..i + 1)?;
    }
    output::note(false, "The sample session is complete.");
    if args.once {
        // Let the daemon deliver the last lines before everything stops.
        wait_delivered(&sandbox, &runtime)?;
        return finish(runtime, stop_tx, server_task);
    }
    output::note(false, "Still serving; press Ctrl-C to stop.");
    runtime.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    finish(runtime, stop_tx, server_task)
}

/// The configured server, when it is on this machine and answers.
fn local_configured_server(runtime: &tokio::runtime::Runtime) -> Option<String> {
    let cfg = Config::load().ok()?;
    let server = config::resolve_server(None, &cfg).ok()?;
    let host = url::Url::parse(&server).ok()?.host_str()?.to_string();
    let local = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !local {
        return None;
    }
    let health = format!("{server}/api/health");
    let ok = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .ok()?;
        let resp = client.get(&health).send().await.ok()?;
        let body: Value = resp.json().await.ok()?;
        Some(body.get("status").and_then(Value::as_str) == Some("ok"))
    });
    ok.unwrap_or(false).then_some(server)
}

/// Share through the normal path: a real `openctl session share` in the
/// sandbox (allowlist, server, daemon).
fn share(sandbox: &Sandbox, transcript: &Path, server: &str) -> Result<String> {
    let path = transcript.to_string_lossy();
    let mut cmd = sandbox.openctl(&[
        "session",
        "share",
        &path,
        "--allow-repo",
        "--server",
        server,
        "--json",
        "-q",
    ])?;
    let spinner = output::spinner("Sharing the sample session…");
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .context("cannot run openctl session share")?;
    spinner.finish_and_clear();
    if !out.status.success() {
        return Err(CliError::new(
            Exit::Failure,
            format!(
                "the demo share failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )
        .into());
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("share printed no JSON")?;
    v.get("url")
        .and_then(Value::as_str)
        .map(str::to_string)
        .context("share printed no URL")
}

/// True when Ctrl-C was pressed within `pause`.
fn ctrl_c_pressed(runtime: &tokio::runtime::Runtime, pause: Duration) -> bool {
    runtime.block_on(async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => true,
            _ = tokio::time::sleep(pause) => false,
        }
    })
}

/// Wait (bounded) until the daemon has sent every line of the sample.
fn wait_delivered(sandbox: &Sandbox, runtime: &tokio::runtime::Runtime) -> Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let out = sandbox
            .openctl(&["daemon", "status", "--json"])?
            .stderr(Stdio::null())
            .output()?;
        let status: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let caught_up = status["sessions"].as_array().is_some_and(|pairs| {
            !pairs.is_empty() && pairs.iter().all(|p| p["lag_bytes"].as_u64() == Some(0))
        });
        if caught_up {
            return Ok(());
        }
        runtime.block_on(tokio::time::sleep(Duration::from_millis(100)));
    }
    Err(CliError::new(
        Exit::Timeout,
        "the daemon did not deliver the sample session in 30 s",
    )
    .into())
}

fn finish(
    runtime: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
    server: Option<tokio::task::JoinHandle<Result<()>>>,
) -> Result<()> {
    let _ = stop.send(());
    if let Some(task) = server {
        runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        });
    }
    output::note(false, "Demo stopped; its temporary files are removed.");
    Ok(())
}

/// Lines written before the share; the rest arrive while the viewer watches.
const OPENING: usize = 4;

/// What the sample session does, step by step.
enum Step {
    User(&'static str),
    Thinking(&'static str),
    Text(&'static str),
    Tool {
        name: &'static str,
        input: fn(&Path) -> Value,
        result: &'static str,
        /// File content written when the tool runs (path relative to the project).
        writes: Option<(&'static str, &'static str)>,
    },
}

const MAIN_BEFORE: &str = "fn main() {\n    let todos = vec![\"write docs\", \"ship it\"];\n    for t in &todos {\n        println!(\"{t}\");\n    }\n}\n";
const MAIN_AFTER: &str = "fn main() {\n    let todos = vec![\"write docs\", \"ship it\"];\n    for (i, t) in todos.iter().enumerate() {\n        println!(\"{}. {t}\", i + 1);\n    }\n}\n";

const STEPS: &[Step] = &[
    Step::User("Number the items when the todo app prints its list."),
    Step::Thinking("The list is printed in src/main.rs; enumerate() gives the index."),
    Step::Text("Let me look at how the list is printed."),
    Step::Tool {
        name: "Read",
        input: |p| json!({"file_path": p.join("src/main.rs")}),
        result: MAIN_BEFORE,
        writes: None,
    },
    Step::Text("I'll switch the loop to `enumerate()` and print a **1-based** number before each item."),
    Step::Tool {
        name: "Edit",
        input: |p| {
            json!({"file_path": p.join("src/main.rs"),
                   "old_string": "    for t in &todos {\n        println!(\"{t}\");",
                   "new_string": "    for (i, t) in todos.iter().enumerate() {\n        println!(\"{}. {t}\", i + 1);"})
        },
        result: "The file src/main.rs has been updated.",
        writes: Some(("src/main.rs", MAIN_AFTER)),
    },
    Step::Tool {
        name: "Bash",
        input: |_| json!({"command": "cargo run -q", "description": "Run the app"}),
        result: "1. write docs\n2. ship it",
        writes: None,
    },
    Step::Text("Done: the list now prints as\n\n```\n1. write docs\n2. ship it\n```\n\nThe change is a two-line edit in `src/main.rs`."),
    Step::User("Thanks! Can you add a test for it?"),
    Step::Text("Sure — I'll extract the formatting into a function so it can be tested."),
    Step::Tool {
        name: "Write",
        input: |p| json!({"file_path": p.join("src/format.rs"), "content": FORMAT_RS}),
        result: "File created successfully at: src/format.rs",
        writes: Some(("src/format.rs", FORMAT_RS)),
    },
    Step::Tool {
        name: "Bash",
        input: |_| json!({"command": "cargo test -q", "description": "Run the tests"}),
        result: "running 1 test\n.\ntest result: ok. 1 passed; 0 failed",
        writes: None,
    },
    Step::Text("Added `src/format.rs` with `numbered()` and a test; `cargo test` passes."),
];

const FORMAT_RS: &str = "pub fn numbered(items: &[&str]) -> Vec<String> {\n    items.iter().enumerate().map(|(i, t)| format!(\"{}. {t}\", i + 1)).collect()\n}\n\n#[test]\nfn numbers_from_one() {\n    assert_eq!(numbered(&[\"a\"]), vec![\"1. a\"]);\n}\n";

/// The sample transcript being written.
struct SampleSession {
    path: PathBuf,
    project: PathBuf,
    session_id: String,
}

impl SampleSession {
    fn create(sandbox: &Sandbox) -> Result<SampleSession> {
        let project = sandbox.project.canonicalize()?;
        init_project(&project)?;
        let session_id = uuid::Uuid::new_v4().to_string();
        let dir = sandbox
            .claude_dir
            .join("projects")
            .join(crate::paths::encode_project_dir(&project.to_string_lossy()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(SampleSession {
            path: dir.join(format!("{session_id}.jsonl")),
            project,
            session_id,
        })
    }

    /// Append the lines of `steps` (complete lines, one write each).
    fn append(&self, steps: std::ops::Range<usize>) -> Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        for (i, step) in STEPS[steps.clone()].iter().enumerate() {
            let n = steps.start + i;
            for line in self.lines(n, step)? {
                file.write_all(format!("{line}\n").as_bytes())
                    .with_context(|| format!("cannot write {}", self.path.display()))?;
            }
        }
        Ok(())
    }

    fn envelope(&self, n: usize, part: usize, kind: &str, message: Value) -> Value {
        json!({
            "parentUuid": null,
            "isSidechain": false,
            "userType": "external",
            "cwd": self.project,
            "sessionId": self.session_id,
            "version": "2.1.112",
            "gitBranch": "main",
            "type": kind,
            "message": message,
            "uuid": format!("00000000-0000-4000-8000-{:08}{:04}", n, part),
            "timestamp": crate::time::now_rfc3339(),
        })
    }

    fn assistant(&self, n: usize, part: usize, content: Value) -> Value {
        self.envelope(
            n,
            part,
            "assistant",
            json!({"role": "assistant", "model": "claude-sonnet-4-5", "id": format!("msg_demo_{n}"),
                   "type": "message", "content": [content], "stop_reason": null}),
        )
    }

    fn lines(&self, n: usize, step: &Step) -> Result<Vec<Value>> {
        Ok(match step {
            Step::User(text) => {
                vec![self.envelope(n, 0, "user", json!({"role": "user", "content": text}))]
            }
            Step::Thinking(text) => vec![self.assistant(
                n,
                0,
                json!({"type": "thinking", "thinking": text, "signature": "demo"}),
            )],
            Step::Text(text) => vec![self.assistant(n, 0, json!({"type": "text", "text": text}))],
            Step::Tool {
                name,
                input,
                result,
                writes,
            } => {
                if let Some((rel, content)) = writes {
                    let target = self.project.join(rel);
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(&target, content)
                        .with_context(|| format!("cannot write {}", target.display()))?;
                }
                let id = format!("toolu_demo_{n}");
                vec![
                    self.assistant(
                        n,
                        0,
                        json!({"type": "tool_use", "id": id, "name": name, "input": input(&self.project)}),
                    ),
                    self.envelope(
                        n,
                        1,
                        "user",
                        json!({"role": "user", "content": [
                            {"type": "tool_result", "tool_use_id": id, "content": result}]}),
                    ),
                ]
            }
        })
    }
}

/// A small git repository with one commit, so the session has a diff.
fn init_project(project: &Path) -> Result<()> {
    let repo = git2::Repository::init(project)
        .with_context(|| format!("cannot create a git repository in {}", project.display()))?;
    std::fs::create_dir_all(project.join("src"))?;
    std::fs::write(project.join("src/main.rs"), MAIN_BEFORE)?;
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"todo-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    let mut index = repo.index()?;
    index.add_path(Path::new("src/main.rs"))?;
    index.add_path(Path::new("Cargo.toml"))?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = git2::Signature::now("openctl demo", "demo@localhost")?;
    repo.commit(Some("HEAD"), &sig, &sig, "A todo app", &tree, &[])?;
    Ok(())
}
