//! Integration tests: the Claude Code plugin (issue 6). Its JSON files parse
//! and agree with the crate; every `openctl …` command line it contains
//! parses with the current CLI; its SessionEnd hook never fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Parser;
use openctl::cli::Cli;
use serde_json::Value;

use crate::common::{path_with_bin, path_without_bin, stderr, TestEnv};

const UUID: &str = "7f3c2a10-5b6d-4e8f-9a01-23456789abcd";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn plugin_dir() -> PathBuf {
    root().join("plugins/claude-code/openctl")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[test]
fn plugin_and_marketplace_json_match_the_crate() {
    let plugin = read_json(&plugin_dir().join(".claude-plugin/plugin.json"));
    assert_eq!(plugin["name"], "openctl");
    assert_eq!(plugin["version"], env!("CARGO_PKG_VERSION"));
    assert!(plugin["description"].as_str().is_some_and(|d| d.len() > 20));

    let market = read_json(&root().join(".claude-plugin/marketplace.json"));
    assert!(market["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(market["owner"]["name"].as_str().is_some());
    let plugins = market["plugins"].as_array().expect("plugins list");
    let entry = plugins
        .iter()
        .find(|p| p["name"] == "openctl")
        .expect("marketplace lists openctl");
    assert_eq!(entry["source"], "./plugins/claude-code/openctl");
    assert_eq!(entry["version"], env!("CARGO_PKG_VERSION"));
    let source = root().join(entry["source"].as_str().unwrap());
    assert!(
        source.join(".claude-plugin/plugin.json").is_file(),
        "marketplace source {} has no plugin.json",
        source.display()
    );

    let hooks = read_json(&plugin_dir().join("hooks/hooks.json"));
    let cmd = hooks["hooks"]["SessionEnd"][0]["hooks"][0]["command"]
        .as_str()
        .expect("SessionEnd command");
    // Quoted, so a plugin root with a space stays one word (`claude plugin
    // validate --strict` fails on a bare `${CLAUDE_PLUGIN_ROOT}`).
    let script = cmd
        .strip_prefix('"')
        .and_then(|c| c.strip_suffix('"'))
        .unwrap_or_else(|| panic!("SessionEnd command is not one quoted path: {cmd}"))
        .replace("${CLAUDE_PLUGIN_ROOT}", &plugin_dir().to_string_lossy());
    assert!(Path::new(&script).is_file(), "{script} is missing");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&script).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }
}

/// Frontmatter `key: value` pairs of a command file.
fn frontmatter(text: &str) -> Vec<(String, String)> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("---"), "frontmatter must open the file");
    lines
        .take_while(|l| *l != "---")
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn commands_have_the_frontmatter_claude_code_reads() {
    for (name, hint) in [
        ("share", Some("[--allow-repo] [--server URL]")),
        ("unshare", None),
    ] {
        let path = plugin_dir().join(format!("commands/{name}.md"));
        let text = std::fs::read_to_string(&path).unwrap();
        let fm = frontmatter(&text);
        let get = |k: &str| fm.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert!(get("description").is_some_and(|d| !d.is_empty()), "{name}");
        assert_eq!(get("allowed-tools"), Some("Bash(openctl:*)"), "{name}");
        assert_eq!(get("argument-hint"), hint, "{name}");
        // Sharing is the user's decision: the model may not run these itself.
        assert_eq!(get("disable-model-invocation"), Some("true"), "{name}");
        assert!(text.contains("${CLAUDE_SESSION_ID}"), "{name}");
        // openctl runs when the command loads (a `!` line), so the model
        // only reports; a failing `!` line would abort the command and
        // hide openctl's message from the model, hence the `|| echo`.
        let bang: Vec<&str> = text.lines().filter(|l| l.starts_with("!`")).collect();
        assert_eq!(bang.len(), 1, "{name}: {bang:?}");
        assert!(bang[0].contains(" 2>&1 || echo "), "{name}: {}", bang[0]);
        assert!(text.contains("Do not run any command"), "{name}");
    }
    let share = std::fs::read_to_string(plugin_dir().join("commands/share.md")).unwrap();
    // Consent is the user typing `/openctl:share --allow-repo`, never the model.
    assert!(share.contains("$ARGUMENTS 2>&1"));
    assert!(share.contains("/openctl:share --allow-repo"));
    assert!(share.contains("never add `--allow-repo` on your own"));
    assert!(share.contains("cargo install --locked --path"));
}

/// Code in a markdown file: inline spans, `!` lines and fenced blocks.
fn code_snippets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            out.push(line.to_string());
            continue;
        }
        let parts: Vec<&str> = line.split('`').collect();
        out.extend(parts.iter().skip(1).step_by(2).map(|s| s.to_string()));
    }
    out
}

/// Every `openctl …` command in a snippet of shell: split at `;`, `&&`,
/// `||` and `|`, drop redirections, keep segments that start with openctl.
fn openctl_commands(snippet: &str) -> Vec<Vec<String>> {
    let redirection =
        regex::Regex::new(r"\s\d*>&\d+|\s\d*>>?\s*/dev/null|\s<\s*/dev/null").unwrap();
    let snippet = redirection.replace_all(snippet, " ");
    let mut out = Vec::new();
    for segment in snippet.split([';', '|', '&']) {
        let words: Vec<String> = segment
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '\'' || c == '"').to_string())
            .collect();
        // A bare `openctl` names the program in prose, it is no command line.
        if words.len() > 1 && words[0] == "openctl" {
            out.push(words);
        }
    }
    out
}

/// Command lines from every plugin file, with where they came from.
fn plugin_command_lines() -> Vec<(String, Vec<String>)> {
    let mut files = Vec::new();
    collect_files(&plugin_dir(), &mut files);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let snippets: Vec<String> = match file.extension().and_then(|e| e.to_str()) {
            Some("md") => code_snippets(&text),
            Some("json") => {
                let mut strings = Vec::new();
                json_strings(&serde_json::from_str(&text).unwrap(), &mut strings);
                strings
            }
            _ => text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .map(str::to_string)
                .collect(),
        };
        for snippet in snippets {
            // `command -v openctl` is a presence check, not a command line.
            let snippet = snippet.replace("command -v openctl", "command -v");
            for words in openctl_commands(&snippet) {
                out.push((file.display().to_string(), words));
            }
        }
    }
    out
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The `command` strings of a JSON file (hooks), at any depth.
fn json_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|v| json_strings(v, out)),
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::String(s) if k == "command" => out.push(s.clone()),
                    _ => json_strings(v, out),
                }
            }
        }
        _ => {}
    }
}

/// The argument vectors Claude Code would run for `words`: the session id
/// substituted, and `$ARGUMENTS` as each thing `/openctl:share` takes.
fn expansions(words: &[String]) -> Vec<Vec<String>> {
    let mut variants = Vec::new();
    for args in [
        "",
        "--allow-repo",
        "--server http://127.0.0.1:3000",
        "--allow-repo --server http://127.0.0.1:3000",
    ] {
        let mut argv = Vec::new();
        for w in words {
            let w = w
                .replace("${CLAUDE_SESSION_ID}", UUID)
                .replace("$ARGUMENTS", args);
            argv.extend(w.split_whitespace().map(str::to_string));
        }
        variants.push(argv);
    }
    variants
}

#[test]
fn every_plugin_command_line_parses_with_the_current_cli() {
    let lines = plugin_command_lines();
    let joined: Vec<String> = lines.iter().map(|(_, w)| w.join(" ")).collect();
    // The extraction must find the commands the plugin depends on; if it
    // finds nothing, this test would prove nothing.
    for needed in [
        "openctl session share ${CLAUDE_SESSION_ID} $ARGUMENTS",
        "openctl session unshare ${CLAUDE_SESSION_ID}",
        "openctl hook claude-session-end",
    ] {
        assert!(
            joined.iter().any(|j| j == needed),
            "plugin has no `{needed}`; found: {joined:#?}"
        );
    }
    for (file, words) in &lines {
        for argv in expansions(words) {
            if let Err(e) = Cli::try_parse_from(&argv) {
                panic!(
                    "{file}: `{}` does not parse with the current CLI:\n{e}",
                    argv.join(" ")
                );
            }
        }
    }
    // And the session id and what the user typed land where the CLI
    // expects them.
    let variants = expansions(
        &lines
            .iter()
            .find(|(_, w)| w[1] == "session" && w[2] == "share")
            .unwrap()
            .1,
    );
    let share_args = |argv: &[String]| {
        let cli = Cli::try_parse_from(argv).unwrap();
        let openctl::cli::Command::Session(openctl::cli::SessionCommand::Share(args)) = cli.command
        else {
            panic!("not a share: {argv:?}");
        };
        args
    };
    let plain = share_args(&variants[0]);
    assert_eq!(plain.session.as_deref(), Some(UUID));
    assert!(!plain.allow_repo);
    let typed = share_args(&variants[3]);
    assert_eq!(typed.session.as_deref(), Some(UUID));
    assert!(typed.allow_repo);
    assert_eq!(
        typed.server.server.as_deref(),
        Some("http://127.0.0.1:3000")
    );
}

#[test]
fn extraction_rejects_a_drifted_command() {
    // The checker itself must catch drift: a renamed flag fails to parse.
    let words = openctl_commands("openctl session share ${CLAUDE_SESSION_ID} --allow-repository");
    assert_eq!(words.len(), 1);
    assert!(Cli::try_parse_from(&expansions(&words[0])[0]).is_err());
    assert!(openctl_commands("command -v >/dev/null 2>&1 && foo").is_empty());
}

fn run_session_end(env: &TestEnv, path: &str, input: &[u8]) -> std::process::Output {
    let script = plugin_dir().join("hooks/session-end.sh");
    let mut cmd = Command::new(&script);
    env.apply_env(&mut cmd);
    cmd.env("PATH", path)
        .current_dir(env.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run session-end.sh");
    // The hook may exit without reading its input (openctl not installed).
    if let Err(e) = child.stdin.take().unwrap().write_all(input) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

#[test]
fn session_end_hook_reports_a_shared_session_and_never_fails() {
    let env = TestEnv::new();
    let input = serde_json::json!({
        "session_id": UUID, "transcript_path": "/tmp/x.jsonl", "cwd": "/tmp",
        "hook_event_name": "SessionEnd", "reason": "exit"
    })
    .to_string();

    // Not shared: nothing to say.
    let out = run_session_end(&env, &path_with_bin(), input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");

    // Shared: the end is recorded (the daemon completes it at once) and one
    // note says so; nothing else in the entry changes.
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let shared = serde_json::json!({"version": 1, "sessions": {UUID: {
        "filePath": "/tmp/x.jsonl", "servers": ["http://localhost:3000"],
        "sharedAt": "2026-11-24T10:00:00Z",
        "serverSessions": {"http://localhost:3000": {"sessionId": "srv1"}}}}});
    let file = env.openctl_home.join("shared-sessions.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&shared).unwrap()).unwrap();
    let before = std::fs::read(&file).unwrap();
    let out = run_session_end(&env, &path_with_bin(), input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains(UUID) && err.contains("daemon"), "{err}");
    let mut after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let entry = after["sessions"][UUID].as_object_mut().unwrap();
    assert!(entry.remove("endedAt").is_some_and(|v| v.is_string()));
    let before: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(after, before);

    // Garbage, empty input and a corrupt state file: exit 0 with a message.
    for bad in [&b"not json"[..], b"", br#"{"session_id": 5}"#] {
        let out = run_session_end(&env, &path_with_bin(), bad);
        assert_eq!(out.status.code(), Some(0));
        assert!(stderr(&out).contains("openctl:"), "{}", stderr(&out));
    }
    std::fs::write(&file, b"{broken").unwrap();
    let out = run_session_end(&env, &path_with_bin(), input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("shared-sessions.json"),
        "{}",
        stderr(&out)
    );

    // openctl not installed: still exit 0, silently.
    let out = run_session_end(&env, path_without_bin(), input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
}
