//! Dynamic completion candidates (clap_complete's `CompleteEnv`): local
//! session UUIDs with their titles, configured servers, allowed repos,
//! config keys. Completion must never fail: errors give no candidates.

use std::ffi::OsStr;

use clap_complete::engine::CompletionCandidate;

use crate::config::{self, Config};
use crate::{sessions, shared};

/// At most this many session candidates (newest first).
const MAX_SESSIONS: usize = 200;

/// Local sessions whose UUID starts with what was typed, newest first, with
/// their title as help. File names are filtered before anything is read,
/// and only the head of each matching transcript is read for its title.
pub fn sessions(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(prefix) = current.to_str() else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    sessions::with_prefix(prefix)
        .into_iter()
        .filter(|s| seen.insert(s.uuid.clone()))
        .take(MAX_SESSIONS)
        .map(|s| {
            let title = sessions::head_title(&s.path).unwrap_or_default();
            CompletionCandidate::new(s.uuid).help(Some(title.into()))
        })
        .collect()
}

/// Shared sessions only.
pub fn shared_sessions() -> Vec<CompletionCandidate> {
    shared::load()
        .map(|m| {
            m.into_values()
                .map(|s| CompletionCandidate::new(s.uuid).help(Some(s.servers.join(", ").into())))
                .collect()
        })
        .unwrap_or_default()
}

/// Servers named in config.json.
pub fn servers() -> Vec<CompletionCandidate> {
    Config::load()
        .map(|c| c.servers())
        .unwrap_or_default()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// Repositories allowed for any server.
pub fn allowed_repos() -> Vec<CompletionCandidate> {
    let Ok(cfg) = Config::load() else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for server in cfg.servers() {
        for repo in cfg.allowed_repos(&server) {
            out.push((repo, server.clone()));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out.into_iter()
        .map(|(repo, server)| CompletionCandidate::new(repo).help(Some(server.into())))
        .collect()
}

/// Known config keys with their help.
pub fn config_keys() -> Vec<CompletionCandidate> {
    config::KEYS
        .iter()
        .map(|k| CompletionCandidate::new(k.name).help(Some(k.help.into())))
        .collect()
}
