//! One error type that carries the process exit code and a hint for the user.
//!
//! Code everywhere returns `anyhow::Result`; where the exit code matters the
//! error is a [`CliError`], which `main` finds again by downcasting.

use std::fmt;

/// Exit codes of the `openctl` binary (DESIGN.md, "CLI conventions").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Not found, or any general failure.
    Failure = 1,
    /// The repository is not allowed for that server.
    RepoNotAllowed = 2,
    /// The daemon failed to start.
    DaemonStart = 3,
    /// Timed out waiting for the share to go live.
    Timeout = 4,
    /// The server could not be reached.
    Unreachable = 5,
    /// Command-line usage error.
    Usage = 64,
}

/// An error with an exit code and an optional hint (what to run instead).
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        CliError::new(Exit::Failure, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError::new(Exit::Usage, message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// The exit code for any error: a [`CliError`] anywhere in the chain decides,
/// else 1.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<CliError>())
        .map(|e| e.exit as i32)
        .unwrap_or(1)
}

/// The hint of the first [`CliError`] in the chain that has one.
pub fn hint(err: &anyhow::Error) -> Option<&str> {
    err.chain()
        .filter_map(|e| e.downcast_ref::<CliError>())
        .find_map(|e| e.hint.as_deref())
}
