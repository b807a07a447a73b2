//! `~/.openctl/client-id`: this machine's identity towards servers
//! (CONTRACT.md §1). Created on first use; a malformed file is an error,
//! never silently replaced (that would orphan every session the user owns).

use std::io::ErrorKind;

use anyhow::{Context, Result};

use crate::error::CliError;
use crate::paths;
use crate::state;

pub const FILE: &str = "client-id";

/// Read the client id, creating it (UUID v4, mode 0600) if missing.
pub fn get_or_create() -> Result<String> {
    get_or_create_in(&paths::ensure_openctl_home()?)
}

/// [`get_or_create`] in an explicit openctl home.
pub fn get_or_create_in(home: &std::path::Path) -> Result<String> {
    let path = home.join(FILE);
    if let Some(id) = read_existing(&path)? {
        return Ok(id);
    }
    let _lock = state::lock_exclusive(&home.join(".client-id.lock"))?;
    if let Some(id) = read_existing(&path)? {
        return Ok(id);
    }
    refuse_a_new_identity_in_use(home, &path)?;
    let id = uuid::Uuid::new_v4().to_string();
    state::write_atomic(&path, id.as_bytes())?;
    Ok(id)
}

/// A missing client-id is a first run only when nothing was shared from
/// this home: with sessions recorded as created on a server, or a daemon
/// running, a new identity would orphan every session shared so far.
fn refuse_a_new_identity_in_use(home: &std::path::Path, path: &std::path::Path) -> Result<()> {
    // Shares that exist on a server (a server session recorded): made with
    // the identity that is gone.
    let shares = std::fs::read(home.join(crate::shared::FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&b).ok())
        .map(|map| {
            crate::shared::parse(&map)
                .values()
                .filter(|s| !s.server_sessions.is_empty())
                .count()
        })
        .unwrap_or(0);
    // Another process: a daemon starting for the first time holds the lock
    // itself while it creates the identity.
    let daemon = crate::daemon::lock::holder(home)
        .ok()
        .flatten()
        .is_some_and(|h| h.pid != Some(std::process::id()));
    if shares == 0 && !daemon {
        return Ok(());
    }
    let why = if daemon {
        "the openctl daemon runs with the old identity".to_string()
    } else {
        format!(
            "{shares} session(s) are recorded as shared in {}",
            crate::shared::FILE
        )
    };
    Err(CliError::not_found(format!(
        "{} is missing, but {why}: a new identity would lose control of them",
        path.display()
    ))
    .with_hint(
        "restore the file from a backup (a running daemon writes it back by itself within moments);          to start over with a new identity on purpose, unshare everything first (openctl session unshare),          stop the daemon, then run the command again",
    )
    .into())
}

fn read_existing(path: &std::path::Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let id = text.trim();
            match uuid::Uuid::parse_str(id) {
                Ok(u) if id.len() == 36 => Ok(Some(u.hyphenated().to_string())),
                _ => Err(CliError::not_found(format!(
                    "{} does not hold a valid client id (expected a UUID, found {:?})",
                    path.display(),
                    truncate(id, 60)
                ))
                .with_hint(
                    "restore the file from a backup; removing it creates a new identity \
                     and you lose control of sessions shared so far",
                )
                .into()),
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = get_or_create_in(dir.path()).unwrap();
        let b = get_or_create_in(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 4);
        let raw = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(raw, a, "bare uuid, no newline");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn malformed_is_an_error_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "not-a-uuid").unwrap();
        let err = get_or_create_in(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("does not hold a valid client id"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(FILE)).unwrap(),
            "not-a-uuid"
        );
    }
}
