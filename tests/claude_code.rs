//! End to end with the real Claude Code CLI: the pinned version from npm,
//! the plugin of this checkout installed into each test's own Claude dir,
//! a stand-in model endpoint (tests/common/model_stub.rs), our embedded
//! server and the daemon. Real `claude -p` runs share a session, talk,
//! call tools and rename it; the server must end up holding what Claude
//! Code wrote to the transcript, message for message.
//!
//! Ignored by default (they install Claude Code from the npm registry):
//! `cargo test --locked --test runner claude_code -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::model_stub::{ModelStub, Reply};
use crate::common::{git, path_with_bin, stderr, wait_for, TestEnv, TestServer};

/// The Claude Code release these tests run; bump it here.
const CLAUDE_CODE_VERSION: &str = "2.1.332";

/// How long one `claude` process may take on a busy machine.
const CLAUDE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the daemon may take to get a change to the server.
const STREAM_TIMEOUT: Duration = Duration::from_secs(20);

const ORIGIN: &str = "https://github.com/example/e2e-project.git";
const REPO_ID: &str = "github.com/example/e2e-project";

// Prompts the model stub knows (see `model_script`).
const RUN_LS: &str = "run ls";
const WRITE_A_FILE: &str = "write a file";
const THINK: &str = "think it over";
/// The text every openctl command file puts before the output of its `!` line.
const OUTPUT_MARK: &str = "Its output:";

// ---- Claude Code, installed once per test process ----

/// `node_modules/.bin/claude` of the pinned version, installed on first use
/// into `<target>/tmp/claude-code/<version>` (kept across runs). A failed
/// install fails every test that needs it, with npm's own error.
fn claude_code() -> &'static Path {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match INSTALLED.get_or_init(install_claude_code) {
        Ok(bin) => bin,
        Err(e) => panic!("{e}"),
    }
}

fn install_claude_code() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("claude-code");
    let dir = root.join(CLAUDE_CODE_VERSION);
    let bin = |d: &Path| d.join("node_modules/.bin/claude");
    if bin(&dir).exists() {
        return Ok(bin(&dir));
    }
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    // Install beside the cache and rename it into place when complete, so a
    // killed install is never taken for a finished one.
    let tmp = tempfile::Builder::new()
        .prefix(".installing-")
        .tempdir_in(&root)
        .map_err(|e| format!("cannot create a temp dir in {}: {e}", root.display()))?;
    let spec = format!("@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}");
    let prefix = tmp.path().to_string_lossy().into_owned();
    let args = [
        "install",
        "--prefix",
        &prefix,
        "--no-audit",
        "--no-fund",
        &spec,
    ];
    let shown = format!("npm {}", args.join(" "));
    let need = "the Claude Code end-to-end tests need npm and the npm registry";
    let out = Command::new("npm")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{shown}` ({need}): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{shown}` failed ({}); {need}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if !bin(tmp.path()).exists() {
        return Err(format!(
            "`{shown}` succeeded but left no {} (its postinstall copies the native binary):\n{}",
            bin(tmp.path()).display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let installed = tmp.keep();
    if let Err(e) = std::fs::rename(&installed, &dir) {
        let _ = std::fs::remove_dir_all(&installed);
        // Another test process may have finished first.
        if !bin(&dir).exists() {
            return Err(format!(
                "cannot move {} to {}: {e}",
                installed.display(),
                dir.display()
            ));
        }
    }
    Ok(bin(&dir))
}

/// Wait until `check` passes; on timeout, panic with its last complaint.
fn settle<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    wait_for(what, timeout + Duration::from_secs(5), || match check() {
        Ok(v) => Some(v),
        Err(e) if Instant::now() > deadline => {
            panic!("timed out after {timeout:?} waiting for {what}: {e}")
        }
        Err(_) => None,
    })
}

// ---- the scene: one user, one repository, one server, one model ----

/// Fields drop in this order: the model and the server stop before the
/// temporary home they live in is removed.
struct Scene {
    model: ModelStub,
    server: TestServer,
    repo: PathBuf,
    env: TestEnv,
}

impl Scene {
    /// A git repository with an origin and one commit, our server as the
    /// default server, and the plugin of this checkout installed.
    fn new() -> Scene {
        let env = TestEnv::new();
        // Claude Code writes into `<encoded cwd>`: every character outside
        // [A-Za-z0-9] becomes `-`.
        let repo = env.git_repo("e2e_project.v2", Some(ORIGIN));
        let repo = repo.canonicalize().expect("repo path");
        std::fs::write(repo.join("README.md"), "# e2e\n").unwrap();
        git(&repo, &["add", "README.md"]);
        git(&repo, &["commit", "-q", "-m", "start"]);
        let server = TestServer::start(&env);
        env.ok(&["config", "set", "server", &server.url]);
        let model = ModelStub::start(model_script(repo.join("notes.txt")));
        let scene = Scene {
            model,
            server,
            repo,
            env,
        };
        let root = env!("CARGO_MANIFEST_DIR");
        scene.claude(&["plugin", "marketplace", "add", root]);
        scene.claude(&["plugin", "install", "openctl@openctl"]);
        scene
    }

    /// Run `claude args` in the repository against the model stub; panics
    /// unless it exits 0. Returns stdout.
    fn claude(&self, args: &[&str]) -> String {
        let mut cmd = claude_cmd(&self.env, args);
        cmd.current_dir(&self.repo)
            .env("ANTHROPIC_BASE_URL", &self.model.url)
            .env("ANTHROPIC_API_KEY", "e2e-test-key");
        run_claude(cmd)
    }

    /// One `claude -p` turn of session `id`: a new session with that id
    /// the first time, `--resume` after. Tools run without asking only
    /// where the prompt needs them (never openctl: the plugin's commands
    /// must work without any extra permission).
    fn turn(&self, id: &str, prompt: &str, extra: &[&str]) -> String {
        let resume = if self.transcript_path(id).exists() {
            "--resume"
        } else {
            "--session-id"
        };
        let mut args = vec!["-p", resume, id, "--allowedTools", "Bash(ls:*) Write Edit"];
        args.extend_from_slice(extra);
        // `--allowedTools` takes several values: `--` ends them.
        args.extend(["--", prompt]);
        self.claude(&args)
    }

    fn transcript_path(&self, id: &str) -> PathBuf {
        self.env.project_dir(&self.repo).join(format!("{id}.jsonl"))
    }

    /// The conversation lines of the transcript Claude Code wrote:
    /// `user`/`assistant` lines with a message, not sidechains.
    fn transcript(&self, id: &str) -> Vec<Value> {
        let path = self.transcript_path(id);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("transcript line is JSON"))
            .filter(|l| matches!(l["type"].as_str(), Some("user" | "assistant")))
            .filter(|l| l["message"].is_object() && l["isSidechain"] != true)
            .collect()
    }

    /// A turn that runs an openctl command (`/openctl:share …`,
    /// `/openctl:unshare`). Returns the expanded prompt the model received
    /// for it and the output of its `!` line in there.
    fn command_turn(&self, id: &str, command: &str) -> (String, String) {
        let before = self.model.message_requests().len();
        self.turn(id, command, &[]);
        let prompt = self.model.message_requests()[before..]
            .iter()
            .map(|r| r.prompt())
            .find(|p| p.contains(OUTPUT_MARK))
            .unwrap_or_else(|| panic!("the model never received the prompt of {command}"));
        let output = command_output(&prompt).expect("command output").to_string();
        (prompt, output)
    }

    fn shares(&self) -> Value {
        let path = self.env.openctl_home.join("shared-sessions.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).expect("shared-sessions.json"),
            Err(_) => json!({}),
        }
    }

    /// `endedAt` of a share: written by the plugin's SessionEnd hook.
    fn ended_at(&self, id: &str) -> Option<String> {
        self.shares()["sessions"][id]["endedAt"]
            .as_str()
            .map(str::to_string)
    }

    /// The server session of Claude session `id`, asked as its owner.
    fn server_session_of(&self, id: &str) -> Option<String> {
        // No identity for the server yet: nothing was ever sent to it.
        let identities = std::fs::read(self.env.openctl_home.join("identities.json")).ok()?;
        let identities: Value = serde_json::from_slice(&identities).expect("identities.json");
        identities["servers"][self.server.url.as_str()].as_object()?;
        let found: Value = crate::common::as_owner(
            &self.env,
            &self.server,
            reqwest::Method::GET,
            &format!("/api/sessions?claude_session_id={id}"),
        )
        .send()
        .expect("lookup")
        .json()
        .expect("lookup json");
        found["session"]["id"].as_str().map(str::to_string)
    }

    /// Nothing of session `id` left the machine and no repository was
    /// allowed: the state after a share that was refused.
    fn assert_nothing_shared(&self, id: &str) {
        assert!(self.shares()["sessions"][id].is_null(), "{}", self.shares());
        assert_eq!(self.server_session_of(id), None);
        let config = self.env.read_json("config.json");
        for (server, settings) in config["servers"].as_object().into_iter().flatten() {
            let allowed = &settings["allowedRepos"];
            assert!(
                allowed.as_array().is_none_or(|a| a.is_empty()),
                "{server} allows {allowed}"
            );
        }
    }

    /// `/openctl:share` in a repository not allowed yet: openctl exits 2,
    /// the model gets its message (what the user types to allow and share)
    /// and nothing is shared.
    fn expect_share_refused(&self, id: &str) {
        let (prompt, output) = self.command_turn(id, "/openctl:share");
        let want = format!(
            "Not shared: repository {REPO_ID} is not allowed for {url}. To allow it for {url} and share this session, type: /openctl:share --allow-repo",
            url = self.server.url
        );
        assert!(
            output.contains(&want),
            "/openctl:share did not report the refusal; openctl's output:\n{output}"
        );
        assert!(!output.contains("re-run"), "{output}");
        assert!(
            output.contains("(openctl exited with an error)"),
            "{output}"
        );
        assert!(prompt.contains("never add `--allow-repo` on your own"));
        // Claude Code hides the exit code of a `!` line: the same command,
        // run as it ran there, exits 2 (repository not allowed).
        let mut cmd = self.env.cmd(&["session", "share", id]);
        let out = cmd.current_dir(&self.repo).env("CLAUDECODE", "1").output();
        let out = out.expect("run openctl");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(&want), "{}", stderr(&out));
        self.assert_nothing_shared(id);
    }

    /// `/openctl:share --allow-repo`, typed by the user: the one act that
    /// allows the repository and shares.
    fn share_allowing_repo(&self, id: &str) -> String {
        self.share(id, "/openctl:share --allow-repo")
    }

    /// A share `command` that must succeed: the model receives the viewer
    /// URL, the repository is allowed, and the server gets the session.
    /// Returns the server session id from that URL.
    fn share(&self, id: &str, command: &str) -> String {
        let before = self.ended_at(id);
        let (_, output) = self.command_turn(id, command);
        let prefix = format!("{}/sessions/", self.server.url);
        let server_id = output
            .lines()
            .find_map(|l| l.trim().strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no viewer URL in openctl's output:\n{output}"))
            .to_string();
        let config = self.env.read_json("config.json");
        assert_eq!(
            config["servers"][&self.server.url]["allowedRepos"],
            json!([REPO_ID])
        );
        assert_eq!(
            self.server_session_of(id).as_deref(),
            Some(server_id.as_str())
        );
        self.assert_streamed_and_ended(id, &server_id, before);
        server_id
    }

    /// The server has every message of the transcript, in order, by uuid,
    /// and (the run having ended) the SessionEnd hook ran again and the
    /// session is complete within seconds, not after the idle timeout (600 s
    /// by default). Returns the session as the server has it.
    fn assert_streamed_and_ended(
        &self,
        id: &str,
        server_id: &str,
        ended_before: Option<String>,
    ) -> Value {
        let ended = self.ended_at(id);
        assert!(
            ended.is_some() && ended != ended_before,
            "the SessionEnd hook did not record the end of {id}: {}",
            self.shares()
        );
        let transcript = self.transcript(id);
        let want: Vec<(String, String)> = transcript
            .iter()
            .map(|l| (uuid_of(l), l["message"]["role"].as_str().unwrap().into()))
            .collect();
        settle(
            "the server to hold the transcript and the session to be complete",
            STREAM_TIMEOUT,
            || {
                let detail = self.server.get_session(server_id);
                let got: Vec<(String, String)> = detail["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| (uuid_of(m), m["role"].as_str().unwrap_or("").into()))
                    .collect();
                if got != want {
                    return Err(format!(
                        "stored (uuid, role):\n{got:#?}\ntranscript:\n{want:#?}"
                    ));
                }
                match detail["session"]["status"].as_str() {
                    Some("complete") => Ok(detail),
                    s => Err(format!("status {s:?}")),
                }
            },
        )
    }

    /// The session's title on the server becomes `title`.
    fn expect_title(&self, server_id: &str, title: &str) {
        settle(&format!("the title {title:?}"), STREAM_TIMEOUT, || {
            let got = self.server.get_session(server_id)["session"]["title"].clone();
            if got == title {
                Ok(())
            } else {
                Err(format!("title is {got}"))
            }
        });
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = self.env.run(&["daemon", "stop"]);
    }
}

/// `claude args` as the user of `env` (its HOME, openctl home and Claude
/// dir): nothing of the test process's environment leaks in (it may itself
/// run inside Claude Code), and the `openctl` on PATH is the build under
/// test.
fn claude_cmd(env: &TestEnv, args: &[&str]) -> Command {
    let mut cmd = Command::new(claude_code());
    cmd.env_clear();
    env.apply_env(&mut cmd);
    cmd.args(args)
        .current_dir(env.path())
        .env("PATH", path_with_bin())
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .stdin(Stdio::null());
    cmd
}

/// Run a `claude` command; panic unless it exits 0 in time. Returns stdout.
fn run_claude(cmd: Command) -> String {
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let out = run_with_deadline(cmd, CLAUDE_TIMEOUT);
    assert!(
        out.status.success(),
        "claude {args:?} ({})\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run `cmd`, capturing its output; kill it and panic after `timeout`.
fn run_with_deadline(mut cmd: Command, timeout: Duration) -> Output {
    let dir = tempfile::tempdir().expect("output dir");
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    cmd.stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let mut child = cmd.spawn().expect("spawn claude");
    let deadline = Instant::now() + timeout;
    let status = wait_for("claude to exit", timeout + Duration::from_secs(5), || {
        let status = child.try_wait().expect("wait for claude");
        if status.is_none() && Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "claude {:?} did not exit within {timeout:?}\nstdout: {}\nstderr: {}",
                cmd.get_args().collect::<Vec<_>>(),
                std::fs::read_to_string(&out_path).unwrap_or_default(),
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        status
    });
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    }
}

fn uuid_of(v: &Value) -> String {
    v["uuid"].as_str().unwrap_or("").to_string()
}

/// The output of an openctl command file's `!` line, in its expanded prompt.
fn command_output(prompt: &str) -> Option<&str> {
    let start = prompt.find(OUTPUT_MARK)? + OUTPUT_MARK.len();
    let rest = &prompt[start..];
    let end = rest.find("\n\nTell the user").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// The model: reports what openctl printed, lists files with Bash, writes
/// then edits `notes`, thinks, and otherwise echoes the prompt.
fn model_script(notes: PathBuf) -> impl Fn(&crate::common::model_stub::ModelRequest) -> Reply {
    move |req| {
        if let Some((tool, _, result)) = req.answered_tool() {
            return match tool.as_str() {
                "Write" => Reply::tool_use(
                    "Edit",
                    json!({"file_path": notes, "old_string": "hello", "new_string": "hello, world"}),
                ),
                _ => Reply::text(format!("{tool} said: {}", result.trim())),
            };
        }
        let prompt = req.prompt();
        if let Some(output) = command_output(&prompt) {
            return Reply::text(format!("openctl said:\n{output}"));
        }
        match prompt.as_str() {
            RUN_LS => Reply::tool_use(
                "Bash",
                json!({"command": "ls", "description": "List files"}),
            ),
            WRITE_A_FILE => {
                Reply::tool_use("Write", json!({"file_path": notes, "content": "hello\n"}))
            }
            THINK => Reply::thinking("Weighing what the user asked.", "Thought it over."),
            other => Reply::text(format!("you said: {other}")),
        }
    }
}

/// The `kind` the server must store for a transcript line.
fn expected_kind(line: &Value) -> &'static str {
    if line["type"] == "assistant" {
        return "response";
    }
    if line["isMeta"] == true {
        return "injected";
    }
    let content = &line["message"]["content"];
    if let Some(blocks) = content.as_array() {
        if !blocks.is_empty() && blocks.iter().all(|b| b["type"] == "tool_result") {
            return "tool_result";
        }
    }
    let text = content.as_str().map(str::to_string).unwrap_or_else(|| {
        content
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b["text"].as_str())
            .collect()
    });
    if text.contains("<command-name>") {
        "command"
    } else {
        "prompt"
    }
}

/// Every stored message has the kind its transcript line calls for; the
/// kinds listed all occur.
fn assert_kinds(stored: &Value, transcript: &[Value], must_occur: &[&str]) {
    let messages = stored["messages"].as_array().unwrap();
    assert_eq!(messages.len(), transcript.len());
    for (m, line) in messages.iter().zip(transcript) {
        assert_eq!(
            m["kind"].as_str(),
            Some(expected_kind(line)),
            "kind of {} ({})",
            uuid_of(line),
            line["message"]["content"]
                .to_string()
                .chars()
                .take(200)
                .collect::<String>()
        );
    }
    for kind in must_occur {
        assert!(
            messages.iter().any(|m| m["kind"] == *kind),
            "no message of kind {kind}"
        );
    }
}

// ---- the tests ----

#[test]
#[ignore = "real Claude Code from npm: cargo test --locked -- --ignored claude_code"]
fn plugin_passes_strict_validation() {
    let env = TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [root.to_path_buf(), root.join("plugins/claude-code/openctl")] {
        let dir = dir.to_string_lossy();
        run_claude(claude_cmd(&env, &["plugin", "validate", "--strict", &dir]));
    }
}

/// A session talks, is refused, shared with one typed command, goes on
/// (tools, a diff, thinking, a rename, resumed every time), ends after
/// each run and is unshared — the server follows each step.
#[test]
#[ignore = "real Claude Code from npm: cargo test --locked -- --ignored claude_code"]
fn a_session_streams_from_consent_to_unshare() {
    let scene = Scene::new();
    let id = uuid::Uuid::new_v4().to_string();

    // Before any share, nothing leaves the machine.
    scene.turn(&id, RUN_LS, &[]);
    scene.assert_nothing_shared(&id);

    // a: refused until the user allows the repository.
    scene.expect_share_refused(&id);

    // b: one typed command allows and shares; what was said before is sent.
    let server_id = scene.share_allowing_repo(&id);

    // b, c, f: later runs resume the same session id and file, and stream
    // under the same server session; each run's end completes it at once.
    let ended = scene.ended_at(&id);
    scene.turn(&id, WRITE_A_FILE, &[]);
    let stored = scene.assert_streamed_and_ended(&id, &server_id, ended);
    settle("the diff of the Write and the Edit", STREAM_TIMEOUT, || {
        let diffs = scene.server.get_session(&server_id)["diffs"].to_string();
        if diffs.contains("notes.txt") && diffs.contains("+hello, world") {
            Ok(())
        } else {
            Err(diffs)
        }
    });
    assert_eq!(stored["session"]["harness_session_id"], id.as_str());
    let files: Vec<_> = std::fs::read_dir(scene.transcript_path(&id).parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(files.len(), 1, "--resume wrote a second transcript");
    assert!(scene
        .transcript(&id)
        .iter()
        .all(|l| l["version"] == CLAUDE_CODE_VERSION));

    // d: a rename (`claude -n`) reaches the server; a thinking block too.
    let ended = scene.ended_at(&id);
    scene.turn(&id, THINK, &["-n", "Renamed by the e2e test"]);
    let stored = scene.assert_streamed_and_ended(&id, &server_id, ended);
    scene.expect_title(&server_id, "Renamed by the e2e test");
    let blocks = stored["messages"].to_string();
    assert!(blocks.contains(r#""type":"thinking""#), "{blocks}");

    // g: every line is stored with the kind of line it is.
    let transcript = scene.transcript(&id);
    assert_kinds(
        &stored,
        &transcript,
        &["prompt", "response", "tool_result", "command", "injected"],
    );

    // e: unshare completes the session; the lines of the unshare run itself
    // are not sent.
    let (_, output) = scene.command_turn(&id, "/openctl:unshare");
    assert!(output.contains(&scene.server.url), "{output}");
    assert!(scene.shares()["sessions"][&id].is_null());
    let detail = scene.server.get_session(&server_id);
    assert_eq!(detail["session"]["status"], "complete");
    assert_eq!(
        detail["messages"].as_array().unwrap().len(),
        transcript.len()
    );
}

/// `/openctl:share` as the very first prompt of a session: Claude Code runs
/// the command's `!` line before it has written any line of the transcript.
/// The refusal must still be the refusal; with the repository allowed, the
/// share must work and stream the lines written after it; and the title
/// must not be the command: "Live Session" until the user types a prompt,
/// then that prompt.
#[test]
#[ignore = "real Claude Code from npm: cargo test --locked -- --ignored claude_code"]
fn share_as_the_first_prompt() {
    let scene = Scene::new();

    let refused = uuid::Uuid::new_v4().to_string();
    scene.expect_share_refused(&refused);

    let repo = scene.repo.to_string_lossy();
    scene
        .env
        .ok(&["repo", "allow", &repo, "-s", &scene.server.url]);
    let id = uuid::Uuid::new_v4().to_string();
    let server_id = scene.share(&id, "/openctl:share");
    scene.expect_title(&server_id, "Live Session");

    let ended = scene.ended_at(&id);
    scene.turn(&id, RUN_LS, &[]);
    let stored = scene.assert_streamed_and_ended(&id, &server_id, ended);
    scene.expect_title(&server_id, RUN_LS);
    assert_kinds(
        &stored,
        &scene.transcript(&id),
        &["command", "injected", "prompt", "response", "tool_result"],
    );
}

/// The stub itself (no Claude Code needed): the prompt is the last user
/// message without its reminders, a tool call streams as SSE ending in
/// `tool_use`, a request without `stream` gets one JSON message.
#[test]
#[ignore = "real Claude Code from npm: cargo test --locked -- --ignored claude_code"]
fn model_stub_answers_the_last_user_message() {
    let model = ModelStub::start(|req| match req.prompt().as_str() {
        "run ls" => Reply::tool_use("Bash", json!({"command": "ls"})),
        p => Reply::thinking("hmm", format!("you said: {p}")),
    });
    let ask = |prompt: &str, stream: bool| {
        let body = json!({"model": "m", "stream": stream, "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>\ncontext\n</system-reminder>"},
                {"type": "text", "text": prompt}]},
            {"role": "system", "content": "environment"}]});
        reqwest::blocking::Client::new()
            .post(format!("{}/v1/messages?beta=true", model.url))
            .json(&body)
            .send()
            .expect("stub answers")
            .text()
            .unwrap()
    };
    let sse = ask("run ls", true);
    assert!(sse.starts_with("event: message_start\n"), "{sse}");
    assert!(
        sse.contains(r#""partial_json":"{\"command\":\"ls\"}""#),
        "{sse}"
    );
    assert!(sse.contains(r#""stop_reason":"tool_use""#), "{sse}");
    assert!(sse.trim_end().ends_with(r#"data: {"type":"message_stop"}"#));
    let whole: Value = serde_json::from_str(&ask("hi", false)).unwrap();
    assert_eq!(whole["content"][0]["type"], "thinking");
    assert_eq!(whole["content"][1]["text"], "you said: hi");
    assert_eq!(whole["stop_reason"], "end_turn");
    let requests = model.message_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/v1/messages?beta=true");
    assert_eq!(requests[1].prompt(), "hi");
}
