//! Integration tests: how the CLI behaves towards the person at the
//! terminal. `config` shows the value in effect and where it comes from,
//! and masks secrets; usage errors say what is valid; a signal at a prompt
//! leaves the terminal usable.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

const TOKEN: &str = "abcd1234efgh5678ijkl9012mnop3456qrst7890";
const MASKED: &str = "abcd…(40 chars)";

fn parse(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// What `config get ARGS` must show: `text` on stdout and a note on stderr
/// containing `note`; with `--json`, `value` from `source`. Returns that
/// JSON.
fn expect_get(
    env: &TestEnv,
    args: &[&str],
    text: &str,
    note: &str,
    value: Value,
    source: &str,
) -> Value {
    let mut all = vec!["config", "get"];
    all.extend_from_slice(args);
    let out = env.run(&all);
    assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    assert_eq!(stdout(&out).trim_end(), text, "{all:?}");
    let err = stderr(&out);
    assert!(err.contains(note), "{all:?}: {err}");
    assert!(!err.contains(TOKEN), "{all:?}: {err}");
    all.push("--json");
    let got = parse(&env.ok(&all));
    assert_eq!(got["value"], value, "{all:?}: {got}");
    assert_eq!(got["source"], source, "{all:?}: {got}");
    got
}

/// The line of `config list ARGS` for `key`.
fn list_line(env: &TestEnv, args: &[&str], key: &str) -> String {
    let mut all = vec!["config", "list"];
    all.extend_from_slice(args);
    let out = env.ok(&all);
    out.lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in config list: {out}"))
        .to_string()
}

#[test]
fn config_shows_the_server_in_effect_and_where_it_comes_from() {
    let mut env = TestEnv::new();
    let file = env.openctl_home.join("config.json").display().to_string();

    let default = "http://localhost:3000";
    expect_get(
        &env,
        &["server"],
        default,
        "(default)",
        json!(default),
        "default",
    );
    assert_eq!(
        list_line(&env, &[], "server"),
        format!("server = {default}  (default)")
    );

    env.ok(&["config", "set", "server", "http://from-config:1"]);
    let got = expect_get(
        &env,
        &["server"],
        "http://from-config:1",
        &format!("(from {file})"),
        json!("http://from-config:1"),
        "config",
    );
    assert_eq!(got["origin"], file.as_str());

    // The environment overrides config.json, for config as for every command.
    env.env
        .push(("OPENCTL_SERVER_URL".into(), "http://from-env:2".into()));
    let from_env = "http://from-env:2";
    let got = expect_get(
        &env,
        &["server"],
        from_env,
        "(from $OPENCTL_SERVER_URL)",
        json!(from_env),
        "env",
    );
    assert_eq!(got["origin"], "OPENCTL_SERVER_URL");
    assert_eq!(got["set"], true, "config.json has one too: {got}");
    assert_eq!(
        list_line(&env, &[], "server"),
        format!("server = {from_env}  (from $OPENCTL_SERVER_URL)")
    );
    assert_eq!(parse(&env.ok(&["config", "list", "--json"]))["server"], got);
    // It is the server repo allow uses.
    let repo = env.git_repo("proj", Some("https://github.com/o/r"));
    env.ok(&["repo", "allow", repo.to_str().unwrap()]);
    let cfg = env.read_json("config.json");
    assert_eq!(
        cfg["servers"][from_env]["allowedRepos"][0], "github.com/o/r",
        "{cfg}"
    );
    // Setting config.json's now changes nothing: said so.
    let out = env.run(&["config", "set", "server", "http://mine:3"]);
    assert!(
        stderr(&out).contains("$OPENCTL_SERVER_URL is set: commands use http://from-env:2"),
        "{}",
        stderr(&out)
    );

    // --server overrides both.
    let flag = "http://from-flag:3";
    expect_get(
        &env,
        &["server", "-s", flag],
        flag,
        "(from --server)",
        json!(flag),
        "flag",
    );
    assert_eq!(
        list_line(&env, &["-s", flag], "server"),
        format!("server = {flag}  (from --server)")
    );
}

#[test]
fn config_shows_every_setting_with_its_source() {
    let mut env = TestEnv::new();
    let file = env.openctl_home.join("config.json").display().to_string();
    let from_file = format!("from {file}");
    env.env
        .push(("OPENCTL_SERVER_URL".into(), "http://from-env:2".into()));

    for (key, default) in [("idle_timeout", 600), ("hook_window", 30)] {
        let text = default.to_string();
        expect_get(&env, &[key], &text, "(default)", json!(default), "default");
        env.ok(&["config", "set", key, "45"]);
        expect_get(&env, &[key], "45", &from_file, json!(45), "config");
        assert_eq!(
            list_line(&env, &[], key),
            format!("{key} = 45  ({from_file})")
        );
        let out = env.run(&["config", "unset", key]);
        assert!(
            stderr(&out).contains(&format!("{key} reset: {default} (default)")),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            list_line(&env, &[], key),
            format!("{key} = {default}  (default)")
        );
    }

    // A per-server setting is read for the server in effect, named with
    // where that server comes from.
    let env_server = "for http://from-env:2, server from $OPENCTL_SERVER_URL";
    assert_eq!(
        list_line(&env, &[], "redact"),
        format!("redact = true  (default {env_server})")
    );
    env.ok(&["config", "set", "redact", "false"]);
    let got = expect_get(
        &env,
        &["redact"],
        "false",
        &format!("{from_file} {env_server}"),
        json!(false),
        "config",
    );
    assert_eq!(got["server"], "http://from-env:2");
    assert_eq!(got["server_source"], "env");
    let other = "default for http://other:4, server from --server";
    expect_get(
        &env,
        &["redact", "-s", "http://other:4"],
        "true",
        other,
        json!(true),
        "default",
    );
    expect_get(
        &env,
        &["token"],
        "",
        &format!("not set {env_server}"),
        Value::Null,
        "default",
    );
    assert_eq!(
        list_line(&env, &[], "token"),
        format!("token = -  (not set {env_server})")
    );

    // A global setting does not take --server.
    let out = env.run(&["config", "get", "idle_timeout", "-s", "http://x:1"]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
}

#[test]
fn a_token_is_masked_unless_asked_for() {
    let env = TestEnv::new();
    let server = "https://share.example.com";
    let out = env.run(&["config", "set", "token", TOKEN, "-s", server]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains(TOKEN), "{}", stderr(&out));

    // --json is for scripts: in full, as --help says.
    let masked_note = "masked: --show-secret or --json prints it";
    expect_get(
        &env,
        &["token", "-s", server],
        MASKED,
        masked_note,
        json!(TOKEN),
        "config",
    );
    let shown = ["token", "-s", server, "--show-secret"];
    expect_get(
        &env,
        &shown,
        TOKEN,
        &format!("for {server}"),
        json!(TOKEN),
        "config",
    );
    let help = env.ok(&["config", "get", "--help"]);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("A token is printed in full"), "{help}");
    assert!(help.contains("--show-secret"), "{help}");

    // list masks it, in text and JSON, unless --show-secret.
    let line = list_line(&env, &["-s", server], "token");
    assert!(
        line.starts_with(&format!("token = {MASKED}  (from ")),
        "{line}"
    );
    let listed = env.ok(&["config", "list", "-s", server, "--json"]);
    assert!(!listed.contains(TOKEN), "{listed}");
    assert_eq!(parse(&listed)["token"]["value"], MASKED);
    let listed = env.ok(&["config", "list", "-s", server, "--json", "--show-secret"]);
    assert_eq!(parse(&listed)["token"]["value"], TOKEN);
    let line = list_line(&env, &["-s", server, "--show-secret"], "token");
    assert!(
        line.starts_with(&format!("token = {TOKEN}  (from ")),
        "{line}"
    );
}

#[test]
fn an_unknown_shell_lists_the_supported_ones() {
    let env = TestEnv::new();
    let out = env.run(&["completions", "nosuchshell"]);
    assert_eq!(out.status.code(), Some(64));
    let err = stderr(&out);
    assert!(
        err.contains("[possible values: bash, zsh, fish, powershell, elvish]"),
        "{err}"
    );
    assert!(!err.contains("similar"), "no did-you-mean: {err}");
    assert!(stdout(&out).is_empty());
    // The shells are still what the completion scripts offer.
    let bash = env.ok(&["completions", "bash"]);
    assert!(bash.contains("bash zsh fish powershell elvish"), "{bash}");
}

const S1: &str = "5a5a0001-0000-4000-8000-000000000001";
const SHOW_CURSOR: &str = "\x1b[?25h";
const HIDE_CURSOR: &str = "\x1b[?25l";

/// A git project whose repository is not allowed yet, with one session.
fn unallowed_project(env: &TestEnv) -> PathBuf {
    let p = env.git_repo("proj", Some("git@github.com:Acme/App.git"));
    let p = p.canonicalize().unwrap();
    env.write_session(
        &p,
        S1,
        &[
            user_line("u1", &p, "prompt"),
            assistant_line("a1", &p, "answer"),
        ],
    );
    p
}

/// The process running `BIN` below `ancestor`.
fn openctl_below(ancestor: u32) -> u32 {
    let parent_of = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ppid ...: comm may hold spaces, so after the last ')'.
        stat.rsplit(')')
            .next()?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let bin = std::fs::canonicalize(BIN).unwrap();
    wait_for("openctl under script", Duration::from_secs(10), || {
        std::fs::read_dir("/proc")
            .ok()?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find(|&pid| {
                std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_ref() == Some(&bin) && {
                    let mut p = pid;
                    std::iter::from_fn(|| {
                        p = parent_of(p)?;
                        Some(p)
                    })
                    .take(8)
                    .any(|p| p == ancestor)
                }
            })
    })
}

#[test]
fn ctrl_c_at_the_prompt_shows_the_cursor_again_and_exits_130() {
    let env = TestEnv::new();
    let p = unallowed_project(&env);
    // The server is never contacted: the prompt comes first.
    let cmd = format!("{BIN} share {S1} -s http://127.0.0.1:9");
    let (code, text) = run_in_pty(&env, &p, &cmd, HIDE_CURSOR, |stdin, _| {
        stdin.write_all(b"\x03").unwrap();
        stdin.flush().unwrap();
    });
    assert!(text.contains("Allow it?"), "{text:?}");
    assert_eq!(code, Some(130), "{text:?}");
    assert!(text.ends_with(SHOW_CURSOR), "{text:?}");
    // Nothing was allowed.
    assert!(env.ok(&["repo", "list", "--all"]).trim().is_empty());
}

#[test]
fn sigterm_at_the_prompt_restores_the_terminal_and_exits_143() {
    let env = TestEnv::new();
    let p = unallowed_project(&env);
    let cmd =
        format!("{BIN} share {S1} -s http://127.0.0.1:9; echo \"openctl exited $?\"; stty -a");
    let (code, text) = run_in_pty(&env, &p, &cmd, HIDE_CURSOR, |_, script| {
        let pid = openctl_below(script);
        // The prompt reads keys in raw mode once the cursor is hidden.
        std::thread::sleep(Duration::from_millis(300));
        let killed = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    });
    assert_eq!(code, Some(0), "{text:?}");
    let (prompt, after) = text
        .split_once("openctl exited 143")
        .unwrap_or_else(|| panic!("exit 143 expected: {text:?}"));
    // (the shell then reports "Terminated")
    let hidden = prompt
        .rfind(HIDE_CURSOR)
        .expect("the prompt hides the cursor");
    assert!(
        prompt[hidden..].contains(&format!("\r\n{SHOW_CURSOR}")),
        "{prompt:?}"
    );
    // The terminal is back in line mode, echoing.
    let words: Vec<&str> = after.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig"] {
        assert!(words.contains(&mode), "{mode} is off: {after}");
    }
}
