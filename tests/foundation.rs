//! Foundation (issue 2) gaps: private modes of every file openctl creates,
//! the openctl home tightened, session discovery bounded by the git
//! working tree, fast completion of session UUIDs.

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::common::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every entry under `dir` (recursively) with its mode.
fn modes_under(dir: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        // A file may vanish between listing and stat (temp files, rotation).
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        out.push((
            path.clone(),
            meta.is_dir(),
            meta.permissions().mode() & 0o777,
        ));
        if meta.is_dir() {
            out.extend(modes_under(&path));
        }
    }
    out
}

/// Assert the openctl home is 0700 and everything in it 0600 (dirs 0700).
fn assert_private(home: &Path) {
    assert_eq!(mode(home), 0o700, "{}", home.display());
    let wrong: Vec<String> = modes_under(home)
        .into_iter()
        .filter(|(_, is_dir, m)| *m != if *is_dir { 0o700 } else { 0o600 })
        .map(|(p, _, m)| format!("{} {m:o}", p.display()))
        .collect();
    assert!(wrong.is_empty(), "not private: {wrong:?}");
}

/// A git project with one session of two lines.
fn project_with_session(env: &TestEnv, uuid: &str) -> PathBuf {
    let p = env
        .git_repo("proj", Some("https://github.com/acme/app"))
        .canonicalize()
        .unwrap();
    env.write_session(
        &p,
        uuid,
        &[user_line("u1", &p, "hello"), assistant_line("a1", &p, "hi")],
    );
    p
}

/// `openctl server` with its default database, killed when dropped.
struct ServerProcess(Child);

impl ServerProcess {
    /// Start `openctl server` (no --db) and wait until it listens.
    fn start(env: &TestEnv) -> ServerProcess {
        let mut child = env
            .cmd(&["server", "--listen", "127.0.0.1:0"])
            .env_remove("OPENCTL_SERVER_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("Listening on ") {
                    let _ = tx.send(());
                }
            }
        });
        let server = ServerProcess(child);
        rx.recv_timeout(Duration::from_secs(30))
            .expect("openctl server prints `Listening on` within 30 s");
        server
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_file_in_the_openctl_home_is_private_after_a_share_and_a_server() {
    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let server = TestServer::start(&env);
    let s = "f0f0f0f0-0000-4000-8000-000000000001";
    let p = project_with_session(&env, s);
    let out = env
        .cmd(&["share", s, "--allow-repo", "-s", &server.url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The daemon runs and has written its files.
    for name in [
        "daemon.log",
        "client-id",
        "shared-sessions.json",
        "config.json",
    ] {
        let path = env.openctl_home.join(name);
        wait_for(name, Duration::from_secs(30), || {
            path.exists().then_some(())
        });
    }
    assert_private(&env.openctl_home);

    // The embedded server with its default database in the openctl home:
    // the database and SQLite's -wal and -shm files are private too.
    let _server = ServerProcess::start(&env);
    let db = env.openctl_home.join("server.db");
    for file in [db.clone(), env.openctl_home.join("server.db-wal")] {
        wait_for(
            &format!("{} to exist", file.display()),
            Duration::from_secs(30),
            || file.exists().then_some(()),
        );
    }
    assert_private(&env.openctl_home);
}

#[test]
fn a_world_readable_openctl_home_is_tightened() {
    let env = TestEnv::new();
    // As the TypeScript CLI may have left it: 0755 with a 0644 file.
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::set_permissions(&env.openctl_home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = env.openctl_home.join("config.json");
    std::fs::write(&cfg, r#"{"servers":{}}"#).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A directory that is not the openctl home keeps its mode.
    let other = env.path().join("shared-dir");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();

    let repo = env.git_repo("proj", Some("https://github.com/o/r"));
    env.ok(&["repo", "allow", repo.to_str().unwrap()]);
    assert_private(&env.openctl_home);
    assert_eq!(mode(&other), 0o755);
}
