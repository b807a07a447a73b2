//! Integration tests: shell completions (issue 6). The static scripts in
//! `shell/` are what `openctl completions <shell>` prints today; dynamic
//! completion (`COMPLETE=<shell> openctl`) offers local session UUIDs with
//! their titles, configured servers and allowed repositories. The CLI
//! reference `docs/cli.md` is generated from the same definitions and kept
//! current the same way.

use std::path::{Path, PathBuf};
use std::process::Command;

use openctl::cli::Shell;
use openctl::commands::completions::script;

use crate::common::{stderr, stdout, user_line, TestEnv};

/// Each shell and the file its static script is shipped as.
const SCRIPTS: &[(Shell, &str, &str)] = &[
    (Shell::Bash, "bash", "openctl.bash"),
    (Shell::Zsh, "zsh", "_openctl"),
    (Shell::Fish, "fish", "openctl.fish"),
    (Shell::Powershell, "powershell", "_openctl.ps1"),
    (Shell::Elvish, "elvish", "openctl.elv"),
];

fn shell_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("shell")
}

#[test]
fn shipped_completion_scripts_are_current() {
    let update = std::env::var_os("OPENCTL_UPDATE_SHELL").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (shell, _, file) in SCRIPTS {
        let path = shell_dir().join(file);
        let want = script(*shell);
        if update {
            std::fs::create_dir_all(shell_dir()).unwrap();
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        if std::fs::read(&path).ok().as_deref() != Some(want.as_slice()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "completion scripts out of date: {}\nregenerate them with: OPENCTL_UPDATE_SHELL=1 cargo test --test runner completions",
        stale.join(", ")
    );
}

#[test]
fn the_completions_command_prints_the_shipped_scripts() {
    let env = TestEnv::new();
    for (shell, name, file) in SCRIPTS {
        let out = env.ok(&["completions", name]);
        assert_eq!(out.as_bytes(), script(*shell).as_slice(), "{name}");
        assert!(out.contains("openctl"), "{file}");
    }
}

#[test]
fn static_scripts_are_valid_shell_where_a_shell_is_installed() {
    // bash is always here; zsh and fish are checked when installed.
    for (name, file, check) in [
        ("bash", "openctl.bash", "-n"),
        ("zsh", "_openctl", "-n"),
        ("fish", "openctl.fish", "--no-execute"),
    ] {
        let Ok(out) = Command::new(name)
            .arg(check)
            .arg(shell_dir().join(file))
            .output()
        else {
            assert_ne!(name, "bash", "bash must be installed");
            continue;
        };
        assert!(out.status.success(), "{name} {file}: {}", stderr(&out));
    }
}

const A: &str = "7f3c2a10-5b6d-4e8f-9a01-23456789abcd";
const B: &str = "7f9e0000-5b6d-4e8f-9a01-23456789abcd";
const C: &str = "1a2b2a10-5b6d-4e8f-9a01-23456789abcd";

/// Two sessions starting `7f`, one not; config with two servers and an
/// allowed repository.
fn completion_env() -> TestEnv {
    let env = TestEnv::new();
    let project = env.path().join("proj");
    for (uuid, title) in [(A, "Fix the login bug"), (B, "Add dark mode"), (C, "Other")] {
        env.write_session(&project, uuid, &[user_line("u1", &project, title)]);
    }
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::write(
        env.openctl_home.join("config.json"),
        serde_json::json!({"server": "http://localhost:3000", "servers": {
            "https://openctl.example.com": {"allowedRepos": ["github.com/acme/app"]},
            "http://127.0.0.1:4000": {"allowedRepos": ["/srv/local-only"]}}})
        .to_string(),
    )
    .unwrap();
    env
}

/// What the shell would offer for the command line `words` (the last word
/// is the one being completed), via clap_complete's env protocol.
fn complete(env: &TestEnv, shell: &str, words: &[&str]) -> Vec<String> {
    let mut cmd = env.cmd(&[]);
    cmd.env("COMPLETE", shell)
        .arg("--")
        .arg("openctl")
        .args(words);
    if shell == "bash" || shell == "zsh" || shell == "elvish" {
        cmd.env("_CLAP_COMPLETE_INDEX", words.len().to_string());
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let sep = if shell == "bash" { '\u{b}' } else { '\n' };
    stdout(&out)
        .split(sep)
        .map(|s| s.trim_end_matches('\n').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn session_uuids_complete_by_prefix_with_their_titles() {
    let env = completion_env();
    let got = complete(&env, "fish", &["session", "share", "7f3"]);
    assert_eq!(got, vec![format!("{A}\tFix the login bug")]);

    let mut got = complete(&env, "fish", &["session", "share", "7f"]);
    got.sort();
    assert_eq!(
        got,
        vec![
            format!("{A}\tFix the login bug"),
            format!("{B}\tAdd dark mode")
        ]
    );
    // The top-level alias and bash's protocol agree.
    assert_eq!(
        complete(&env, "fish", &["share", "1a"]),
        vec![format!("{C}\tOther")]
    );
    assert_eq!(
        complete(&env, "bash", &["session", "share", "7f3"]),
        vec![A.to_string()]
    );
}

#[test]
fn servers_and_allowed_repos_complete_from_config() {
    let env = completion_env();
    let servers = vec![
        "http://127.0.0.1:4000".to_string(),
        "http://localhost:3000".to_string(),
        "https://openctl.example.com".to_string(),
    ];
    assert_eq!(
        complete(&env, "fish", &["session", "share", "-s", ""]),
        servers
    );
    assert_eq!(
        complete(&env, "fish", &["repo", "list", "--server", ""]),
        servers
    );
    assert_eq!(
        complete(&env, "fish", &["repo", "list", "--server", "https"]),
        vec!["https://openctl.example.com".to_string()]
    );

    let repos: Vec<String> = complete(&env, "fish", &["repo", "deny", ""])
        .into_iter()
        .filter(|c| !c.starts_with('-'))
        .collect();
    assert_eq!(
        repos,
        vec![
            "/srv/local-only\thttp://127.0.0.1:4000".to_string(),
            "github.com/acme/app\thttps://openctl.example.com".to_string(),
        ]
    );
}

#[test]
fn dynamic_registration_scripts_are_printed() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = env.cmd(&[]).env("COMPLETE", shell).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("COMPLETE"), "{shell} registration: {text}");
    }
    // A broken config never breaks completion: it just offers nothing.
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::write(env.openctl_home.join("config.json"), "{broken").unwrap();
    assert!(complete(&env, "fish", &["repo", "deny", "g"]).is_empty());
}

fn cli_reference_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md")
}

/// The lines that differ between `old` and `new`, `-`/`+` with line
/// numbers (at most `limit` of them).
fn line_diff(old: &str, new: &str, limit: usize) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // Longest common subsequence, from the end.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            (i, j) = (i + 1, j + 1);
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            out.push(format!("+{:>5} {}", j + 1, b[j]));
            j += 1;
        } else {
            out.push(format!("-{:>5} {}", i + 1, a[i]));
            i += 1;
        }
    }
    let more = out.len().saturating_sub(limit);
    out.truncate(limit);
    if more > 0 {
        out.push(format!("… and {more} more changed lines"));
    }
    out.join("\n")
}

#[test]
fn cli_reference_is_current() {
    let path = cli_reference_path();
    let want = openctl::cli_reference::markdown();
    if std::env::var_os("OPENCTL_UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date with src/cli.rs (- in the file, + generated now):\n{}\n\
         regenerate it with: OPENCTL_UPDATE_DOCS=1 cargo test --test runner completions",
        path.display(),
        line_diff(&have, &want, 40)
    );
}

#[test]
fn the_reference_covers_every_command_and_flag() {
    let reference = openctl::cli_reference::markdown();
    for needle in [
        "## `openctl session`",
        "### `openctl session share`",
        "### `openctl session unshare`",
        "## `openctl completions`",
        "`--timeout <SECS>`",
        "`-q, --quiet`",
        "`--show-secret`",
        "one of `bash`, `zsh`, `fish`, `powershell`, `elvish`",
        "environment: `OPENCTL_SERVER_TOKEN`",
        "default: `30`",
    ] {
        assert!(reference.contains(needle), "{needle} missing:\n{reference}");
    }
    // Hidden commands stay hidden.
    assert!(!reference.contains("claude-session-end"));
}

#[test]
fn the_readme_lists_every_command_and_links_the_reference() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## Commands\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has a ## Commands section");
    assert!(section.contains("(docs/cli.md)"), "{section}");
    // Each link goes to a heading of the reference.
    let reference = openctl::cli_reference::markdown();
    let anchors: Vec<String> = reference
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .replace('`', "")
                .replace(' ', "-")
        })
        .collect();
    for link in section.split("(docs/cli.md#").skip(1) {
        let anchor = link.split(')').next().unwrap();
        assert!(
            anchors.iter().any(|a| a == anchor),
            "no heading for #{anchor} in docs/cli.md"
        );
    }
    let cli = <openctl::cli::Cli as clap::CommandFactory>::command();
    for cmd in cli.get_subcommands().filter(|c| !c.is_hide_set()) {
        let name = format!("`openctl {}", cmd.get_name());
        assert!(
            section.contains(&name),
            "{name} is not in README's Commands:\n{section}"
        );
    }
}
