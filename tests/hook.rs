//! Integration tests: the git post-commit reminder (issue 6). Real
//! repositories, real `git commit`, the real binary on PATH; the reminder is
//! checked on a pseudo-terminal (util-linux `script`) and off one.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{
    assistant_line, git, path_with_bin, path_without_bin, stderr, stdout, user_line, TestEnv,
};

const SESSION: &str = "5e55a0aa-1111-4222-8333-444455556666";
const ORIGIN: &str = "git@github.com:Acme/App.git";
const REPO_ID: &str = "github.com/Acme/App";

fn script_source() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/post-commit")).unwrap()
}

/// A command in `dir` with the test environment, git identity and this
/// build of openctl on PATH.
fn command(env: &TestEnv, program: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    env.apply_env(&mut cmd);
    cmd.current_dir(dir)
        .env("PATH", path_with_bin())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("SHELL", "/bin/sh")
        .env_remove("CI");
    cmd
}

fn openctl(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    command(env, crate::common::BIN, dir)
        .args(args)
        .output()
        .unwrap()
}

fn openctl_ok(env: &TestEnv, dir: &Path, args: &[&str]) -> (String, String) {
    let out = openctl(env, dir, args);
    assert!(
        out.status.success(),
        "openctl {args:?}: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    (stdout(&out), stderr(&out))
}

/// `git commit` of a new file; the commit must succeed.
fn commit(env: &TestEnv, dir: &Path, name: &str) -> Output {
    std::fs::write(dir.join(name), name).unwrap();
    git(dir, &["add", name]);
    let out = command(env, "git", dir)
        .args(["commit", "-q", "-m", name])
        .output()
        .unwrap();
    assert!(out.status.success(), "git commit: {}", stderr(&out));
    out
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn install_is_idempotent_and_commits_still_work() {
    let env = TestEnv::new();
    let repo = env.git_repo("plain", None);
    let hook = repo.join(".git/hooks/post-commit");

    assert_eq!(
        openctl_ok(&env, &repo, &["hook", "status"]).0,
        "not installed\n"
    );
    let (_, err) = openctl_ok(&env, &repo, &["hook", "install"]);
    assert!(err.contains("Installed"), "{err}");
    assert_eq!(std::fs::read(&hook).unwrap(), script_source());
    assert_eq!(mode(&hook), 0o755);
    assert_eq!(
        openctl_ok(&env, &repo, &["hook", "status"]).0,
        "installed\n"
    );

    let (_, err) = openctl_ok(&env, &repo, &["hook", "install"]);
    assert!(err.contains("Already installed"), "{err}");
    assert_eq!(std::fs::read(&hook).unwrap(), script_source());
    let names: Vec<_> = std::fs::read_dir(repo.join(".git/hooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("openctl") || n == "post-commit")
        .collect();
    assert_eq!(names, vec!["post-commit"], "no backup of our own hook");

    // The hook runs on commit (off a terminal: silent) and never fails it,
    // with or without openctl on PATH.
    let out = commit(&env, &repo, "a.txt");
    assert_eq!(stderr(&out), "");
    std::fs::write(repo.join("b.txt"), "b").unwrap();
    git(&repo, &["add", "b.txt"]);
    let out = command(&env, "git", &repo)
        .env("PATH", path_without_bin())
        .args(["commit", "-q", "-m", "b"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // An older openctl script is replaced in place.
    std::fs::write(
        &hook,
        "#!/bin/sh\n# openctl post-commit hook (old)\nexit 0\n",
    )
    .unwrap();
    let (_, err) = openctl_ok(&env, &repo, &["hook", "install"]);
    assert!(err.contains("Updated"), "{err}");
    assert_eq!(std::fs::read(&hook).unwrap(), script_source());

    let (_, err) = openctl_ok(&env, &repo, &["hook", "uninstall"]);
    assert!(err.contains("Removed"), "{err}");
    assert!(!hook.exists());
    assert_eq!(
        openctl_ok(&env, &repo, &["hook", "status"]).0,
        "not installed\n"
    );
}

#[test]
fn a_foreign_hook_is_chained_and_restored_byte_for_byte() {
    let env = TestEnv::new();
    let repo = env.git_repo("chained", None);
    let hook = repo.join(".git/hooks/post-commit");
    let log = env.path().join("foreign.log");
    // Odd bytes on purpose: a tab, non-UTF-8 bytes in comments, no
    // trailing newline, and a failing exit status.
    let mut original: Vec<u8> = b"#!/bin/sh\n# \t foreign hook \xe9\n".to_vec();
    original.extend_from_slice(
        format!(
            "echo \"foreign ran with $# args: $*\" >> '{}'\n",
            log.display()
        )
        .as_bytes(),
    );
    original.extend_from_slice(b"exit 3\n# \xff end");
    std::fs::write(&hook, &original).unwrap();
    set_mode(&hook, 0o750);

    let (_, err) = openctl_ok(&env, &repo, &["hook", "install"]);
    assert!(err.contains("still runs first"), "{err}");
    let backup = repo.join(".git/hooks/post-commit.openctl-backup");
    assert_eq!(std::fs::read(&backup).unwrap(), original);
    assert_eq!(std::fs::read(&hook).unwrap(), script_source());
    assert_eq!(
        openctl_ok(&env, &repo, &["hook", "status"]).0,
        "installed\n"
    );

    // A real commit runs the foreign hook (which fails) and still succeeds.
    commit(&env, &repo, "a.txt");
    let ran = std::fs::read_to_string(&log).unwrap();
    assert_eq!(ran, "foreign ran with 0 args: \n");

    // Called with arguments, ours passes the same ones on and exits 0.
    let out = command(&env, hook.to_str().unwrap(), &repo)
        .args(["one", "two words"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let ran = std::fs::read_to_string(&log).unwrap();
    assert!(
        ran.ends_with("foreign ran with 2 args: one two words\n"),
        "{ran}"
    );

    // Re-install keeps the chain as it is.
    openctl_ok(&env, &repo, &["hook", "install"]);
    assert_eq!(std::fs::read(&backup).unwrap(), original);

    let (_, err) = openctl_ok(&env, &repo, &["hook", "uninstall"]);
    assert!(err.contains("restored"), "{err}");
    assert_eq!(std::fs::read(&hook).unwrap(), original);
    assert_eq!(mode(&hook), 0o750);
    assert!(!backup.exists());

    // A stray backup next to a foreign hook is never overwritten.
    std::fs::write(&backup, "keep me").unwrap();
    let out = openctl(&env, &repo, &["hook", "install"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("will not overwrite"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&hook).unwrap(), original);
    assert_eq!(std::fs::read(&backup).unwrap(), b"keep me");
}

#[test]
fn core_hooks_path_is_used_and_a_bypassed_install_is_reported() {
    let env = TestEnv::new();
    let repo = env.git_repo("hookspath", None);
    // Installed in .git/hooks first, then core.hooksPath takes over.
    openctl_ok(&env, &repo, &["hook", "install"]);
    git(&repo, &["config", "core.hooksPath", ".githooks"]);
    let (out, err) = openctl_ok(&env, &repo, &["hook", "status"]);
    assert_eq!(out, "bypassed\n");
    assert!(err.contains("core.hooksPath (.githooks)"), "{err}");

    openctl_ok(&env, &repo, &["hook", "install"]);
    let hook = repo.join(".githooks/post-commit");
    assert_eq!(std::fs::read(&hook).unwrap(), script_source());
    assert_eq!(
        openctl_ok(&env, &repo, &["hook", "status"]).0,
        "installed\n"
    );

    // git really runs it from there: prove it with a chained hook.
    openctl_ok(&env, &repo, &["hook", "uninstall"]);
    assert!(
        !repo.join(".git/hooks/post-commit").exists(),
        "both removed"
    );
    let marker = env.path().join("ran");
    std::fs::write(&hook, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
    set_mode(&hook, 0o755);
    openctl_ok(&env, &repo, &["hook", "install"]);
    commit(&env, &repo, "a.txt");
    assert!(marker.exists(), "chained hook ran via core.hooksPath");
}

#[test]
fn a_linked_worktree_installs_into_the_common_hooks_dir() {
    let env = TestEnv::new();
    let repo = env.git_repo("main", None);
    commit(&env, &repo, "first.txt");
    let wt = env.path().join("linked");
    git(&repo, &["worktree", "add", "-q", wt.to_str().unwrap()]);

    let marker = env.path().join("ran-from-worktree");
    let common_hook = repo.join(".git/hooks/post-commit");
    std::fs::write(
        &common_hook,
        format!("#!/bin/sh\npwd > '{}'\n", marker.display()),
    )
    .unwrap();
    set_mode(&common_hook, 0o755);

    openctl_ok(&env, &wt, &["hook", "install"]);
    assert_eq!(std::fs::read(&common_hook).unwrap(), script_source());
    assert!(!repo.join(".git/worktrees/linked/hooks").exists());
    assert_eq!(
        openctl_ok(&env, &repo, &["hook", "status"]).0,
        "installed\n"
    );
    assert_eq!(openctl_ok(&env, &wt, &["hook", "status"]).0, "installed\n");

    commit(&env, &wt, "second.txt");
    let ran_in = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(
        PathBuf::from(ran_in.trim()).canonicalize().unwrap(),
        wt.canonicalize().unwrap()
    );
}

#[test]
fn husky_and_lefthook_are_not_clobbered() {
    let env = TestEnv::new();
    let repo = env.git_repo("husky", None);
    std::fs::create_dir_all(repo.join(".husky/_")).unwrap();
    std::fs::write(
        repo.join(".husky/_/post-commit"),
        "#!/bin/sh\n. \"$(dirname \"$0\")/h\"\n",
    )
    .unwrap();
    git(&repo, &["config", "core.hooksPath", ".husky/_"]);
    let before = std::fs::read(repo.join(".husky/_/post-commit")).unwrap();
    let (out, err) = openctl_ok(&env, &repo, &["hook", "install"]);
    assert!(err.contains("managed by husky"), "{err}");
    assert!(err.contains(".husky/post-commit"), "{err}");
    assert_eq!(out.trim(), openctl::hook::HOOK_LINE);
    assert_eq!(
        std::fs::read(repo.join(".husky/_/post-commit")).unwrap(),
        before
    );
    assert_eq!(
        openctl_ok(&env, &repo, &["hook", "status"]).0,
        "not installed\n"
    );
    // The printed line is valid shell that never fails.
    let sh = command(&env, "sh", &repo)
        .args(["-c", openctl::hook::HOOK_LINE])
        .env("PATH", path_without_bin())
        .output()
        .unwrap();
    assert_eq!(sh.status.code(), Some(0));

    // --force installs anyway and keeps husky's hook chained.
    openctl_ok(&env, &repo, &["hook", "install", "--force"]);
    assert_eq!(
        std::fs::read(repo.join(".husky/_/post-commit.openctl-backup")).unwrap(),
        before
    );
    openctl_ok(&env, &repo, &["hook", "uninstall"]);
    assert_eq!(
        std::fs::read(repo.join(".husky/_/post-commit")).unwrap(),
        before
    );

    let lefty = env.git_repo("lefthook", None);
    std::fs::write(lefty.join("lefthook.yml"), "post-commit:\n  commands: {}\n").unwrap();
    let (_, err) = openctl_ok(&env, &lefty, &["hook", "install"]);
    assert!(err.contains("managed by lefthook"), "{err}");
    assert!(!lefty.join(".git/hooks/post-commit").exists());

    let outside = env.path().join("not-a-repo");
    std::fs::create_dir_all(&outside).unwrap();
    let out = openctl(&env, &outside, &["hook", "install"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not inside a git repository"));
}

// ---------------------------------------------------------------------------
// The reminder

/// A repository with origin, allowed for the default server, and a Claude
/// Code session of it that was just active.
fn reminder_setup(env: &TestEnv) -> PathBuf {
    let repo = env.git_repo("app", Some(ORIGIN));
    let repo = repo.canonicalize().unwrap();
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::write(
        env.openctl_home.join("config.json"),
        serde_json::json!({"servers": {"http://localhost:3000": {"allowedRepos": [REPO_ID]}}})
            .to_string(),
    )
    .unwrap();
    env.write_session(
        &repo,
        SESSION,
        &[
            user_line(
                "u1",
                &repo,
                "Fix the \u{1b}[31mlogin\u{1b}[0m redirect loop",
            ),
            assistant_line("a1", &repo, "Looking at it."),
        ],
    );
    repo
}

/// Run `cmdline` on a pseudo-terminal; returns what the terminal showed.
fn on_tty(env: &TestEnv, dir: &Path, cmdline: &str, extra: &[(&str, &str)]) -> String {
    let mut cmd = command(env, "script", dir);
    cmd.args(["-q", "-e", "-c", cmdline, "/dev/null"]);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("util-linux script");
    assert!(out.status.success(), "{cmdline}: {}", stderr(&out));
    stdout(&out).replace('\r', "")
}

fn reminder_text() -> String {
    format!(
        "Claude Code session \"Fix the  [31mlogin [0m redirect loop\" is not shared — run: openctl session share {SESSION}"
    )
}

#[test]
fn the_reminder_shows_on_a_terminal_only() {
    let env = TestEnv::new();
    let repo = reminder_setup(&env);
    let shown = on_tty(&env, &repo, "openctl hook post-commit", &[]);
    assert_eq!(
        shown.trim(),
        reminder_text(),
        "escape sequences neutralized"
    );
    assert!(!shown.contains('\u{1b}'));

    // Through a real commit with the hook installed.
    openctl_ok(&env, &repo, &["hook", "install"]);
    std::fs::write(repo.join("x.txt"), "x").unwrap();
    git(&repo, &["add", "x.txt"]);
    let shown = on_tty(&env, &repo, "git commit -q -m x", &[]);
    assert!(shown.contains(&reminder_text()), "{shown}");
    assert_eq!(shown.matches("is not shared").count(), 1, "{shown}");

    // From a subdirectory too.
    std::fs::create_dir_all(repo.join("src")).unwrap();
    let shown = on_tty(&env, &repo.join("src"), "openctl hook post-commit", &[]);
    assert!(shown.contains(SESSION), "{shown}");

    // Off a terminal, or with CI set: silent, exit 0.
    let out = openctl(&env, &repo, &["hook", "post-commit"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()));
    let shown = on_tty(&env, &repo, "openctl hook post-commit", &[("CI", "true")]);
    assert_eq!(shown, "");
    let out = commit(&env, &repo, "y.txt");
    assert_eq!(stderr(&out), "");
}

#[test]
fn the_reminder_stays_silent_when_there_is_nothing_to_remind() {
    let env = TestEnv::new();
    let repo = reminder_setup(&env);
    assert!(!on_tty(&env, &repo, "openctl hook post-commit", &[]).is_empty());

    // Shared already.
    let shared = env.openctl_home.join("shared-sessions.json");
    std::fs::write(
        &shared,
        serde_json::json!({"version": 1, "sessions": {SESSION: {
            "filePath": "/x.jsonl", "servers": ["http://localhost:3000"]}}})
        .to_string(),
    )
    .unwrap();
    assert_eq!(on_tty(&env, &repo, "openctl hook post-commit", &[]), "");
    std::fs::remove_file(&shared).unwrap();

    // Not active within the window (config hook_window, 30 min default).
    let transcript = env.project_dir(&repo).join(format!("{SESSION}.jsonl"));
    let touched = command(&env, "touch", &repo)
        .args(["-d", "45 minutes ago", transcript.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(touched.success());
    assert_eq!(on_tty(&env, &repo, "openctl hook post-commit", &[]), "");
    std::fs::write(
        env.openctl_home.join("config.json"),
        serde_json::json!({"hookWindowMinutes": 60,
            "servers": {"http://localhost:3000": {"allowedRepos": [REPO_ID]}}})
        .to_string(),
    )
    .unwrap();
    assert!(on_tty(&env, &repo, "openctl hook post-commit", &[]).contains(SESSION));

    // Repository not allowed for the default server.
    let elsewhere = [("OPENCTL_SERVER_URL", "https://other.example.com")];
    assert_eq!(
        on_tty(&env, &repo, "openctl hook post-commit", &elsewhere),
        ""
    );

    // Broken config: silent, exit 0 (on_tty asserts success).
    std::fs::write(env.openctl_home.join("config.json"), "{oops").unwrap();
    assert_eq!(on_tty(&env, &repo, "openctl hook post-commit", &[]), "");

    // Outside any repository: silent.
    let outside = env.path().join("nowhere");
    std::fs::create_dir_all(&outside).unwrap();
    assert_eq!(on_tty(&env, &outside, "openctl hook post-commit", &[]), "");
}

/// Set a transcript's modification time to `minutes` ago.
fn age_minutes(path: &Path, minutes: u64) {
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(minutes * 60);
    std::fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[test]
fn the_reminder_names_the_newest_session_that_is_not_shared() {
    let env = TestEnv::new();
    let repo = reminder_setup(&env);
    // SESSION (from the setup) is the oldest active one, 20 minutes ago.
    age_minutes(&env.project_dir(&repo).join(format!("{SESSION}.jsonl")), 20);
    let session = |uuid: &str, title: &str, minutes: u64| {
        let path = env.write_session(
            &repo,
            uuid,
            &[
                user_line(&format!("{uuid}-u"), &repo, title),
                assistant_line(&format!("{uuid}-a"), &repo, "On it."),
            ],
        );
        age_minutes(&path, minutes);
    };
    const NEWEST: &str = "5e55a0aa-0000-4000-8000-000000000003";
    const MIDDLE: &str = "5e55a0aa-0000-4000-8000-000000000002";
    const STALE: &str = "5e55a0aa-0000-4000-8000-000000000009";
    session(NEWEST, "Newest but shared", 1);
    session(MIDDLE, "Middle and not shared", 5);
    session(STALE, "Outside the window", 45);
    let share = |uuids: &[&str]| {
        let sessions: serde_json::Map<String, serde_json::Value> = uuids
            .iter()
            .map(|u| {
                (
                    u.to_string(),
                    serde_json::json!({"filePath": "/x.jsonl",
                        "servers": ["http://localhost:3000"]}),
                )
            })
            .collect();
        std::fs::write(
            env.openctl_home.join("shared-sessions.json"),
            serde_json::json!({"version": 1, "sessions": sessions}).to_string(),
        )
        .unwrap();
    };

    // Nothing shared: the newest active session.
    let shown = on_tty(&env, &repo, "openctl hook post-commit", &[]);
    assert!(shown.contains(NEWEST), "{shown}");

    // The newest is shared: the next newest unshared one, and only it.
    share(&[NEWEST]);
    let shown = on_tty(&env, &repo, "openctl hook post-commit", &[]);
    assert_eq!(
        shown.trim(),
        format!(
            "Claude Code session \"Middle and not shared\" is not shared — run: openctl session share {MIDDLE}"
        )
    );

    // Both newer ones shared: the oldest active one.
    share(&[NEWEST, MIDDLE]);
    let shown = on_tty(&env, &repo, "openctl hook post-commit", &[]);
    assert_eq!(shown.trim(), reminder_text());

    // Every active session shared: silent, even though an older session
    // outside the window is not shared.
    share(&[NEWEST, MIDDLE, SESSION]);
    assert_eq!(on_tty(&env, &repo, "openctl hook post-commit", &[]), "");
}

// ---------------------------------------------------------------------------
// Claude Code SessionEnd (`openctl hook claude-session-end`)

/// Pipe a SessionEnd hook input for `session` to the real binary.
fn session_end(env: &TestEnv, dir: &Path, session: &str) -> Output {
    use std::io::Write;
    let input = serde_json::json!({
        "session_id": session, "transcript_path": "/ignored.jsonl", "cwd": dir,
        "hook_event_name": "SessionEnd", "reason": "exit"
    })
    .to_string();
    let mut child = command(env, crate::common::BIN, dir)
        .args(["hook", "claude-session-end"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out
}

fn server_status(server: &crate::common::TestServer, id: &str) -> String {
    server.get_session(id)["session"]["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn server_messages(server: &crate::common::TestServer, id: &str) -> usize {
    server.get_session(id)["messages"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn session_end_completes_a_shared_session_at_once_and_new_lines_make_it_live_again() {
    use crate::common::{append, daemon_pair, wait_for, DaemonGuard, TestServer};
    use std::time::Duration;
    const LONG: Duration = Duration::from_secs(30);

    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let repo = env.git_repo("app", Some(ORIGIN)).canonicalize().unwrap();
    let line = |i: usize| {
        let id = format!("{SESSION}-{i}");
        if i.is_multiple_of(2) {
            user_line(&id, &repo, &format!("prompt {i}"))
        } else {
            assistant_line(&id, &repo, &format!("answer {i}"))
        }
    };
    let path = env.write_session(&repo, SESSION, &(0..4).map(line).collect::<Vec<_>>());
    let _daemon = DaemonGuard { env: &env };
    // The default idle timeout (10 min) stays in force: only the end
    // completes it in this test.
    let (url, _) = openctl_ok(
        &env,
        &repo,
        &["share", SESSION, "-s", &server.url, "--allow-repo", "-q"],
    );
    let id = url.trim().rsplit('/').next().unwrap().to_string();
    wait_for("the transcript on the server", LONG, || {
        (server_messages(&server, &id) == 4).then_some(())
    });

    // Claude Code exits, with a last line written just before.
    append(&path, &[line(4)]);
    let out = session_end(&env, &repo, SESSION);
    let note = stderr(&out);
    assert!(
        note.contains(SESSION) && note.contains("ended") && note.contains(&server.url),
        "{note}"
    );
    wait_for("the ended session to complete", LONG, || {
        (server_status(&server, &id) == "complete").then_some(())
    });
    assert_eq!(server_messages(&server, &id), 5, "flushed before complete");
    let shares = env.read_json("shared-sessions.json");
    assert!(
        shares["sessions"][SESSION]["endedAt"].is_string(),
        "{shares}"
    );
    wait_for("the daemon to report it complete", LONG, || {
        (daemon_pair(&env, SESSION, &server.url)?["state"] == "complete").then_some(())
    });

    // `claude --resume`: new lines make it live again.
    append(&path, &[line(5)]);
    wait_for("the resumed session live with its new line", LONG, || {
        (server_messages(&server, &id) == 6 && server_status(&server, &id) == "live").then_some(())
    });
    session_end(&env, &repo, SESSION);
    wait_for("the resumed session to complete when it ends", LONG, || {
        (server_status(&server, &id) == "complete").then_some(())
    });

    // A restarted daemon leaves it complete (it does not restore it until
    // the idle timeout).
    openctl_ok(&env, &repo, &["daemon", "stop"]);
    openctl_ok(&env, &repo, &["daemon", "start"]);
    wait_for("the restarted daemon to report it complete", LONG, || {
        (daemon_pair(&env, SESSION, &server.url)?["state"] == "complete").then_some(())
    });
    assert_eq!(server_status(&server, &id), "complete");
    assert_eq!(server_messages(&server, &id), 6);
}

#[test]
fn session_end_of_a_session_that_is_not_shared_changes_nothing() {
    let env = TestEnv::new();
    let dir = env.path().to_path_buf();
    // No shares file: none is created.
    let out = session_end(&env, &dir, SESSION);
    assert_eq!(stderr(&out), "");
    assert!(!env.openctl_home.join("shared-sessions.json").exists());

    // Another session is shared: the file stays byte for byte.
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    let file = env.openctl_home.join("shared-sessions.json");
    let other = "5e55a0aa-1111-4222-8333-000000000000";
    let text = serde_json::json!({"version": 1, "sessions": {other: {
        "filePath": "/x.jsonl", "servers": ["http://localhost:3000"]}}})
    .to_string();
    std::fs::write(&file, &text).unwrap();
    let out = session_end(&env, &dir, SESSION);
    assert_eq!(stderr(&out), "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}
