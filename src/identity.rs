//! The identity openctl shows each server (CONTRACT.md §1): its own client
//! id and a write token per server, in `~/.openctl/identities.json`
//! (0600). One id for every server would let the operator of any server
//! (or anyone reading plain-http traffic to it) act as this machine on all
//! the others.
//!
//! Migration from one `client-id` for all: a server this machine already
//! shared with, or configured (`shared-sessions.json`, `config.json`),
//! keeps that id, so nothing it owns there is orphaned; every other server
//! gets a new one. The write token is sent with every request
//! (`X-Openctl-Write-Token`); `openctl server` binds it to the client id
//! the first time it sees both, and from then on refuses writes for that
//! id without it. The reference server ignores the header.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

use crate::state::JsonFile;
use crate::{client_id, config, paths, shared};

pub const FILE: &str = "identities.json";

/// What this machine sends one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub client_id: String,
    pub write_token: String,
}

/// The identity for `server` (a normalized URL), created on first use.
pub fn for_server(server: &str) -> Result<Identity> {
    Ok(for_server_in(&paths::ensure_openctl_home()?, server)?.0)
}

/// The identity for `server`, and whether this call made it.
pub fn for_server_in(home: &Path, server: &str) -> Result<(Identity, bool)> {
    let file = JsonFile::new(home.join(FILE));
    if let Some(found) = lookup(&file.read()?, server) {
        return Ok((found, false));
    }
    if !home.join(client_id::FILE).exists() && sessions_recorded_on(home, server) > 0 {
        // Sessions were created there with an identity that is not here
        // any more: a new one would lose control of them.
        return Err(crate::error::CliError::not_found(format!(
            "{} has no identity for {server}, but {} session(s) are recorded as shared with it: a new identity would lose control of them",
            home.join(FILE).display(),
            sessions_recorded_on(home, server)
        ))
        .with_hint(
            "restore identities.json from a backup (a running daemon writes it back by itself within moments); \
             if that identity is lost for good, stop the daemon (openctl daemon stop) and move shared-sessions.json \
             aside, then run the command again: the sessions shared so far stay on their servers as they are",
        )
        .into());
    }
    // The one-time move from a single client-id: every server that may
    // know it (named in the shares or the config now) keeps it; servers
    // met later get their own.
    let legacy_servers = if home.join(client_id::FILE).exists() && !home.join(FILE).exists() {
        let id = client_id::get_or_create_in(home)?;
        legacy_servers(home)
            .into_iter()
            .map(|s| Ok((s, id.clone(), new_token()?)))
            .collect::<Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    let token = new_token()?;
    file.update(|map| {
        map.entry("version").or_insert(json!(1));
        let servers = map
            .entry("servers")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(servers) = servers else {
            anyhow::bail!(
                "{}: 'servers' is not an object; fix it by hand",
                home.join(FILE).display()
            );
        };
        for (url, id, token) in legacy_servers {
            servers
                .entry(url)
                .or_insert_with(|| json!({"clientId": id, "writeToken": token}));
        }
        let mut made = false;
        servers.entry(server.to_string()).or_insert_with(|| {
            made = true;
            json!({"clientId": uuid::Uuid::new_v4().to_string(), "writeToken": token})
        });
        let found = lookup(map, server).with_context(|| {
            format!(
                "{}: the entry for {server} is not valid; fix it by hand",
                home.join(FILE).display()
            )
        })?;
        Ok((found, made))
    })
}

/// Forget the identity just made for `server` (a URL that never answered:
/// a failed command leaves nothing behind). One that changed meanwhile is
/// kept.
pub fn forget(server: &str, identity: &Identity) -> Result<()> {
    let file = JsonFile::new(paths::openctl_home()?.join(FILE));
    file.update(|map| {
        if lookup(map, server).as_ref() == Some(identity) {
            if let Some(Value::Object(servers)) = map.get_mut("servers") {
                servers.remove(server);
            }
        }
        Ok(())
    })
}

fn lookup(map: &Map<String, Value>, server: &str) -> Option<Identity> {
    let entry = map.get("servers")?.get(server)?;
    let client_id = entry.get("clientId")?.as_str()?;
    let write_token = entry.get("writeToken")?.as_str()?;
    (uuid::Uuid::parse_str(client_id).is_ok() && !write_token.is_empty()).then(|| Identity {
        client_id: client_id.to_string(),
        write_token: write_token.to_string(),
    })
}

/// The servers that may know this machine's one legacy client id: those
/// named in the shares or the config.
fn legacy_servers(home: &Path) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    if let Ok(map) = JsonFile::new(home.join(shared::FILE)).read() {
        for share in shared::parse(&map).values() {
            out.extend(share.servers.iter().cloned());
            out.extend(share.server_sessions.keys().cloned());
        }
    }
    if let Ok(map) = JsonFile::new(home.join(config::FILE)).read() {
        let servers = map.get("servers").and_then(Value::as_object);
        for key in servers.into_iter().flat_map(|s| s.keys()) {
            out.extend(crate::server_url::normalize(key).ok());
        }
    }
    out
}

/// Shares with a session recorded as created on `server`.
fn sessions_recorded_on(home: &Path, server: &str) -> usize {
    JsonFile::new(home.join(shared::FILE))
        .read()
        .map(|map| {
            shared::parse(&map)
                .values()
                .filter(|s| s.server_sessions.contains_key(server))
                .count()
        })
        .unwrap_or(0)
}

/// 32 random bytes, hex.
fn new_token() -> Result<String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system's random generator failed"))
        .context("cannot make a write token")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The hash a server keeps of a write token (never the token itself).
pub fn token_hash(token: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_gets_its_own_identity_and_known_ones_keep_the_old_id() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        let legacy = client_id::get_or_create_in(home).unwrap();
        std::fs::write(
            home.join(shared::FILE),
            json!({"version": 1, "sessions": {"s1": {"filePath": "/t/s1.jsonl",
                "servers": ["https://old.example"], "serverSessions": {}}}})
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            home.join(config::FILE),
            json!({"servers": {"https://Configured.example/": {"allowedRepos": []}}}).to_string(),
        )
        .unwrap();
        let get = |server: &str| for_server_in(home, server).unwrap().0;
        let old = get("https://old.example");
        // Named in the config only after the move: a new identity.
        std::fs::write(
            home.join(config::FILE),
            json!({"servers": {"https://Configured.example/": {"allowedRepos": []},
                               "https://later.example": {"allowedRepos": []}}})
            .to_string(),
        )
        .unwrap();
        let configured = get("https://configured.example");
        let later = get("https://later.example");
        assert_ne!(later.client_id, legacy);
        let new_a = get("https://a.example");
        let new_b = get("https://b.example");
        assert_eq!(old.client_id, legacy);
        assert_eq!(configured.client_id, legacy);
        assert_ne!(new_a.client_id, legacy);
        assert_ne!(new_a.client_id, new_b.client_id);
        assert_ne!(old.write_token, configured.write_token);
        assert_eq!(new_a.write_token.len(), 64);
        // Stable, and kept in a private file.
        assert_eq!(get("https://a.example"), new_a);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(token_hash("x").len(), 64);
    }
}
