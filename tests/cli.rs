//! The command tree: parsing, exit codes, help and version.

use crate::common::*;

#[test]
fn version_prints() {
    let env = TestEnv::new();
    let out = env.ok(&["--version"]);
    assert!(out.starts_with("openctl "), "{out}");
}

#[test]
fn usage_errors_exit_64() {
    let env = TestEnv::new();
    assert_eq!(env.run(&["no-such-command"]).status.code(), Some(64));
    assert_eq!(
        env.run(&["session", "share", "--bogus"]).status.code(),
        Some(64)
    );
    assert_eq!(env.run(&[]).status.code(), Some(64));
}
