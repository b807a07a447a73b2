//! `openctl demo`: a live share on this machine for someone who just
//! installed openctl. It starts the embedded server in-process (or uses the
//! configured one when it is local and answers), writes a short realistic
//! session into a temporary Claude projects dir, shares it through the normal
//! path (allowlist, daemon, server), prints the URL and keeps the session
//! growing so the viewer visibly updates. It never touches the user's real
//! `~/.openctl` or `~/.claude`: everything lives in a temporary directory.
//!
//! SIGINT and SIGTERM are caught before anything is created, and every phase
//! races them: however early the demo is interrupted, its daemon is stopped
//! and its temporary directory removed. Before the URL is printed that is an
//! interruption (exit 128 + the signal number: 130 for Ctrl-C); once the
//! demo runs, Ctrl-C is the normal way to stop it (exit 0). The `openctl`
//! children run in their own process group, so a Ctrl-C at the terminal
//! reaches only the demo, which decides what happens to them.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::cli::DemoArgs;
use crate::config::{self, Config};
use crate::error::{CliError, Exit};
use crate::output;

pub fn run(args: &DemoArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Before anything exists that an interruption would leave behind.
    let interrupt = Interrupt::install(&runtime)?;
    let mut sandbox = Sandbox::new()?;
    let mut server = None;
    let outcome = demo(args, &runtime, &interrupt, &mut sandbox, &mut server);
    // The daemon first (it may still be sending to the server), then the
    // server, then the files. A demo that ran ends its session first.
    if outcome.is_ok() {
        sandbox.complete_shares();
    }
    let stopped = sandbox.stop_daemon();
    if let Some(server) = server {
        server.stop(&runtime);
    }
    let removed = sandbox.remove();
    runtime.shutdown_timeout(Duration::from_secs(2));
    let cleaned = stopped.and(removed);
    match outcome {
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            let signal = interrupt.received().unwrap_or(libc::SIGINT);
            match cleaned {
                Ok(()) => output::warn(
                    "Interrupted: the demo stopped its daemon and removed its temporary files.",
                ),
                Err(e) => output::warn(format!("Interrupted; cleaning up failed: {e:#}")),
            }
            std::process::exit(128 + signal);
        }
        Err(e) => Err(e),
        Ok(()) => {
            cleaned?;
            output::note(false, "Demo stopped; its temporary files are removed.");
            Ok(())
        }
    }
}

/// The demo itself; returns [`Interrupted`] when a signal came before the
/// URL was printed, `Ok` when it ran (to the end, or until Ctrl-C).
fn demo(
    args: &DemoArgs,
    runtime: &Runtime,
    interrupt: &Interrupt,
    sandbox: &mut Sandbox,
    server_slot: &mut Option<EmbeddedServer>,
) -> Result<()> {
    // Futures (timers, sockets) are created here and driven by `race`.
    let _rt = runtime.enter();
    let configured = interrupt.race(runtime, local_configured_server())?;
    let server = match configured {
        Some(url) if args.port.is_none() => {
            output::note(false, format!("Using the server at {url}"));
            url
        }
        _ => {
            let port = args.port.unwrap_or(0);
            let listener = interrupt
                .race(runtime, tokio::net::TcpListener::bind(("127.0.0.1", port)))?
                .map_err(|e| {
                    CliError::new(
                        Exit::Failure,
                        format!("cannot listen on 127.0.0.1:{port}: {e}"),
                    )
                    .with_hint("pick another port with --port, or omit it for a free one")
                })?;
            let addr = listener.local_addr()?;
            let opts = crate::server::ServerOptions::new(sandbox.root.join("demo.db"));
            let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let task = runtime.spawn(crate::server::serve(listener, opts, async move {
                let _ = stop_rx.await;
            }));
            *server_slot = Some(EmbeddedServer { stop, task });
            let url = format!("http://{addr}");
            output::note(false, format!("Started the embedded server on {url}"));
            url
        }
    };

    let session = SampleSession::create(sandbox)?;
    session.append(0..OPENING)?;
    interrupt.check()?;
    output::note(
        false,
        format!(
            "Wrote a sample Claude Code session: {}",
            session.path.display()
        ),
    );

    let spinner = output::spinner("Sharing the sample session…");
    let shared = share(sandbox, runtime, interrupt, &session.path, &server);
    spinner.finish_and_clear();
    let url = shared?;
    output::println(&url)?;
    output::note(
        false,
        format!(
            "{} Shared. Open {url} — the session keeps growing for {} s.",
            output::style_ok("✓"),
            args.duration
        ),
    );

    // From here on a signal is the normal way to stop the demo.
    let steps = STEPS.len() - OPENING;
    let pause = Duration::from_millis(args.duration * 1000 / steps.max(1) as u64);
    for i in OPENING..STEPS.len() {
        if interrupt.race(runtime, tokio::time::sleep(pause)).is_err() {
            return Ok(());
        }
        session.append(i..i + 1)?;
    }
    output::note(false, "The sample session has stopped growing.");
    if args.once {
        // Let the daemon deliver the last lines before everything stops.
        return match wait_delivered(sandbox, runtime, interrupt) {
            Err(e) if e.downcast_ref::<Interrupted>().is_some() => Ok(()),
            other => other,
        };
    }
    output::note(false, "Still serving; press Ctrl-C to stop.");
    let _ = interrupt.race(runtime, std::future::pending::<()>());
    Ok(())
}

/// The configured server, when it is on this machine and answers.
async fn local_configured_server() -> Option<String> {
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
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .ok()?;
    let resp = client
        .get(format!("{server}/api/health"))
        .send()
        .await
        .ok()?;
    let body: Value = resp.json().await.ok()?;
    (body.get("status").and_then(Value::as_str) == Some("ok")).then_some(server)
}

/// Share through the normal path: the sandbox's daemon, then a real
/// `openctl session share` (allowlist, server, daemon). The daemon is
/// started on its own first, and that start is never cut short: stopped
/// half-way, a starting daemon could outlive the demo unnoticed.
fn share(
    sandbox: &mut Sandbox,
    runtime: &Runtime,
    interrupt: &Interrupt,
    transcript: &Path,
    server: &str,
) -> Result<String> {
    sandbox.daemon_may_run = true;
    let started = sandbox.run(runtime, interrupt, &["daemon", "start"], true)?;
    if !started.status.success() {
        return Err(CliError::new(
            Exit::DaemonStart,
            format!(
                "the demo could not start its daemon: {}",
                String::from_utf8_lossy(&started.stderr).trim()
            ),
        )
        .into());
    }
    let path = transcript.to_string_lossy();
    let args = [
        "session",
        "share",
        &path,
        "--allow-repo",
        "--server",
        server,
        "--json",
        "-q",
    ];
    let out = sandbox.run(runtime, interrupt, &args, false)?;
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

/// Wait (bounded) until the daemon has sent every line of the sample.
fn wait_delivered(sandbox: &Sandbox, runtime: &Runtime, interrupt: &Interrupt) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let out = sandbox.run(runtime, interrupt, &["daemon", "status", "--json"], false)?;
        let status: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let caught_up = status["sessions"].as_array().is_some_and(|pairs| {
            !pairs.is_empty() && pairs.iter().all(|p| p["lag_bytes"].as_u64() == Some(0))
        });
        if caught_up {
            return Ok(());
        }
        interrupt.race(runtime, tokio::time::sleep(Duration::from_millis(100)))?;
    }
    Err(CliError::new(
        Exit::Timeout,
        "the daemon did not deliver the sample session in 30 s",
    )
    .into())
}

/// The in-process server and how to stop it.
struct EmbeddedServer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl EmbeddedServer {
    fn stop(self, runtime: &Runtime) {
        let _ = self.stop.send(());
        runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        });
    }
}

// ---------------------------------------------------------------------------
// Signals

/// The demo was interrupted by a signal before it was running.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// SIGINT and SIGTERM, caught for the whole life of the demo (the handlers
/// stay installed until the process exits, so a second Ctrl-C cannot cut
/// the clean-up short either).
struct Interrupt {
    received: tokio::sync::watch::Receiver<Option<i32>>,
}

impl Interrupt {
    fn install(runtime: &Runtime) -> Result<Interrupt> {
        let _rt = runtime.enter();
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let (tx, received) = tokio::sync::watch::channel(None);
        runtime.spawn(async move {
            let signal = tokio::select! {
                _ = int.recv() => libc::SIGINT,
                _ = term.recv() => libc::SIGTERM,
            };
            let _ = tx.send(Some(signal));
        });
        Ok(Interrupt { received })
    }

    /// The signal received so far, if any.
    fn received(&self) -> Option<i32> {
        *self.received.borrow()
    }

    fn error(&self) -> anyhow::Error {
        Interrupted.into()
    }

    /// `Err(Interrupted)` once a signal came.
    fn check(&self) -> Result<()> {
        match self.received() {
            Some(_) => Err(self.error()),
            None => Ok(()),
        }
    }

    /// Until a signal comes (forever when none can come any more).
    async fn wait(&self) {
        let mut rx = self.received.clone();
        if rx.wait_for(Option::is_some).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Run `fut` to completion unless a signal comes first.
    fn race<T>(&self, runtime: &Runtime, fut: impl std::future::Future<Output = T>) -> Result<T> {
        self.check()?;
        runtime.block_on(async {
            tokio::select! {
                biased;
                _ = self.wait() => Err(self.error()),
                value = fut => Ok(value),
            }
        })
    }
}

/// Until `child` exits; woken by SIGCHLD (`exits` was registered before
/// the child was spawned).
async fn exited(child: &mut Child, exits: &mut Signal) -> std::io::Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        exits.recv().await;
    }
}

/// What a child wrote to `file`, up to 1 MiB.
fn read_back(file: &mut File) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.take(1024 * 1024).read_to_end(&mut bytes)?;
    Ok(bytes)
}

// ---------------------------------------------------------------------------
// The sandbox

/// The files of one demo run, removed when it ends.
struct Sandbox {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    openctl_home: PathBuf,
    claude_dir: PathBuf,
    project: PathBuf,
    /// Set before anything may start a daemon in `openctl_home`.
    daemon_may_run: bool,
}

impl Sandbox {
    fn new() -> Result<Sandbox> {
        let dir = tempfile::Builder::new()
            .prefix("openctl-demo-")
            .tempdir()
            .context("cannot create a temporary directory for the demo")?;
        let root = dir.path().to_path_buf();
        let sandbox = Sandbox {
            openctl_home: root.join("openctl"),
            claude_dir: root.join("claude"),
            project: root.join("todo-app"),
            root,
            dir: Some(dir),
            daemon_may_run: false,
        };
        crate::paths::ensure_private_dir(&sandbox.openctl_home)?;
        std::fs::create_dir_all(&sandbox.project)
            .with_context(|| format!("cannot create {}", sandbox.project.display()))?;
        Ok(sandbox)
    }

    /// An `openctl` child process confined to the sandbox, in its own
    /// process group.
    fn openctl(&self, args: &[&str]) -> Result<Command> {
        let exe = std::env::current_exe().context("cannot find the openctl executable")?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .env("OPENCTL_HOME", &self.openctl_home)
            .env("CLAUDE_CONFIG_DIR", &self.claude_dir)
            .env_remove("OPENCTL_SERVER_URL")
            .env_remove("CLAUDE_SESSION_ID")
            .stdin(Stdio::null())
            .process_group(0);
        Ok(cmd)
    }

    /// Run `openctl args` in the sandbox unless a signal comes first. The
    /// output goes to unnamed files in the sandbox (no pipe fills up while
    /// the child is waited for). On a signal the child is killed or, with
    /// `finish`, left to end on its own (it is bounded by its own timeouts).
    fn run(
        &self,
        runtime: &Runtime,
        interrupt: &Interrupt,
        args: &[&str],
        finish: bool,
    ) -> Result<Output> {
        interrupt.check()?;
        let capture = || {
            tempfile::tempfile_in(&self.root)
                .with_context(|| format!("cannot create a file in {}", self.root.display()))
        };
        let (mut out, mut err) = (capture()?, capture()?);
        let mut cmd = self.openctl(args)?;
        cmd.stdout(out.try_clone()?).stderr(err.try_clone()?);
        let mut exits = {
            let _rt = runtime.enter();
            signal(SignalKind::child()).context("cannot watch child processes")?
        };
        let what = format!("openctl {}", args.join(" "));
        let mut child = cmd.spawn().with_context(|| format!("cannot run {what}"))?;
        let status = runtime.block_on(async {
            tokio::select! {
                biased;
                _ = interrupt.wait() => None,
                status = exited(&mut child, &mut exits) => Some(status),
            }
        });
        let Some(status) = status else {
            if !finish {
                let _ = child.kill();
            }
            let _ = child.wait();
            return Err(interrupt.error());
        };
        Ok(Output {
            status: status.with_context(|| format!("cannot wait for {what}"))?,
            stdout: read_back(&mut out)?,
            stderr: read_back(&mut err)?,
        })
    }

    /// Stop the demo's daemon (if one may have started), waiting until it
    /// has exited. Runs in its own process group: a second Ctrl-C does not
    /// cut it short.
    fn stop_daemon(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.daemon_may_run) {
            return Ok(());
        }
        let out = self
            .openctl(&["daemon", "stop"])?
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("cannot run openctl daemon stop")?;
        if !out.status.success() {
            anyhow::bail!(
                "cannot stop the demo's daemon (OPENCTL_HOME={}): {}",
                self.openctl_home.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// Unshare what the demo shared, so the session ends as "complete" on
    /// the server (which may be the user's own, when one was configured)
    /// instead of staying live there. Best effort: a failure is a warning.
    fn complete_shares(&self) {
        let file = self.openctl_home.join(crate::shared::FILE);
        let Ok(text) = std::fs::read_to_string(&file) else {
            return;
        };
        let uuids: Vec<String> = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("sessions")?
                    .as_object()
                    .map(|m| m.keys().cloned().collect())
            })
            .unwrap_or_default();
        for uuid in uuids {
            let done = self
                .openctl(&["session", "unshare", &uuid, "-q", "--timeout", "5"])
                .and_then(|mut c| {
                    c.stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .context("cannot run openctl session unshare")
                });
            if !done.is_ok_and(|s| s.success()) {
                output::warn(format!(
                    "could not mark the demo session {uuid} complete on its server"
                ));
            }
        }
    }

    /// Remove the temporary directory.
    fn remove(&mut self) -> Result<()> {
        match self.dir.take() {
            Some(dir) => dir
                .close()
                .with_context(|| format!("cannot remove {}", self.root.display())),
            None => Ok(()),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Only on a path that skipped the clean-up (a panic): the daemon
        // before its files disappear.
        let _ = self.stop_daemon();
    }
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
