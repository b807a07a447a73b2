//! `~/.openctl/shared-sessions.json`: the allowlist of shared sessions, the
//! only thing the daemon streams. Format (compatible with the original CLI):
//! `{"version": 1, "sessions": {uuid: {"filePath", "servers": [url],
//! "sharedAt", "serverSessions": {url: {"sessionId"}}}}}`. Unknown keys are
//! preserved, and openctl adds two of its own (which the original CLI
//! ignores): `serverSessions[url].sharedAt`, when the session was last
//! shared with that server (a re-share changes it, which tells the daemon
//! that the session is live again there), and `endedAt`, when Claude Code
//! ended the session (the daemon completes it once everything is sent).
//!
//! Also `~/.openctl/unshare-abandon.json` ([`ABANDON_FILE`]): pairs that
//! `unshare --delete` asked the daemon to stop streaming at once, without
//! flushing, because they are about to be deleted on the server.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use serde_json::{Map, Value};

use crate::server_url;
use crate::state::JsonFile;

pub const FILE: &str = "shared-sessions.json";
/// Pairs the daemon must stop streaming without flushing (see the module
/// docs): `{"version": 1, "pairs": {uuid: {server url: requested at}}}`.
pub const ABANDON_FILE: &str = "unshare-abandon.json";

/// One shared session as the daemon and the CLI need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub uuid: String,
    pub file_path: PathBuf,
    pub servers: Vec<String>,
    pub shared_at: Option<String>,
    /// server URL → server session id
    pub server_sessions: BTreeMap<String, String>,
    /// server URL → when the session was last shared with it.
    pub server_shared_at: BTreeMap<String, String>,
    /// When Claude Code ended the session (its SessionEnd hook), if it did
    /// after the last share.
    pub ended_at: Option<String>,
    /// The project directory `share` checked the repository of, for a
    /// transcript that did not name it yet (`projectPath`).
    pub project_path: Option<String>,
}

impl Share {
    /// What changes whenever the session is shared (again) with `server`.
    pub fn stamp(&self, server: &str) -> Option<String> {
        self.server_shared_at
            .get(server)
            .or(self.shared_at.as_ref())
            .cloned()
    }
}

pub fn file() -> Result<JsonFile> {
    JsonFile::in_home(FILE)
}

/// Every share, keyed by session uuid. Entries without a usable `filePath`
/// are left out (and left in the file).
pub fn load() -> Result<BTreeMap<String, Share>> {
    Ok(parse(&file()?.read()?))
}

pub fn parse(map: &Map<String, Value>) -> BTreeMap<String, Share> {
    let mut out = BTreeMap::new();
    let Some(sessions) = map.get("sessions").and_then(Value::as_object) else {
        return out;
    };
    for (uuid, entry) in sessions {
        let Some(entry) = entry.as_object() else {
            continue;
        };
        let Some(file_path) = entry.get("filePath").and_then(Value::as_str) else {
            continue;
        };
        let mut servers: Vec<String> = entry
            .get("servers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter_map(|s| server_url::normalize(s).ok())
                    .collect()
            })
            .unwrap_or_default();
        servers.dedup();
        let server_object = |key: &str| -> BTreeMap<String, String> {
            entry
                .get("serverSessions")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| {
                            let value = v.get(key)?.as_str()?;
                            Some((server_url::normalize(k).ok()?, value.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
        out.insert(
            uuid.clone(),
            Share {
                uuid: uuid.clone(),
                file_path: PathBuf::from(file_path),
                servers,
                shared_at: text("sharedAt"),
                server_sessions: server_object("sessionId"),
                server_shared_at: server_object("sharedAt"),
                ended_at: text("endedAt"),
                project_path: text("projectPath"),
            },
        );
    }
    out
}

fn sessions_mut(map: &mut Map<String, Value>) -> Result<&mut Map<String, Value>> {
    map.entry("version").or_insert(Value::from(1));
    map.entry("sessions")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("{FILE}: 'sessions' is not an object; fix it by hand"))
}

/// Record that `uuid` (transcript `file_path`) is shared with `server` as
/// server session `server_session_id`. Sharing again stamps the share anew
/// (the daemon takes the session as live again on that server) and forgets
/// that Claude Code had ended it; an `unshare --delete` that was abandoning
/// the pair is forgotten too.
pub fn add(
    uuid: &str,
    file_path: &std::path::Path,
    project_path: &str,
    server: &str,
    server_session_id: &str,
) -> Result<()> {
    file()?.update(|map| {
        let sessions = sessions_mut(map)?;
        let entry = sessions
            .entry(uuid.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(entry) = entry else {
            unreachable!("just made an object")
        };
        entry.insert(
            "filePath".into(),
            Value::String(file_path.to_string_lossy().into_owned()),
        );
        entry.insert("projectPath".into(), Value::String(project_path.into()));
        let servers = entry
            .entry("servers")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !servers.is_array() {
            *servers = Value::Array(Vec::new());
        }
        if let Value::Array(list) = servers {
            let present = list.iter().any(|s| {
                s.as_str()
                    .and_then(|s| server_url::normalize(s).ok())
                    .as_deref()
                    == Some(server)
            });
            if !present {
                list.push(Value::String(server.to_string()));
            }
        }
        let now = crate::time::now_rfc3339();
        entry
            .entry("sharedAt")
            .or_insert_with(|| Value::String(now.clone()));
        entry.remove("endedAt");
        let ss = entry
            .entry("serverSessions")
            .or_insert_with(|| Value::Object(Map::new()));
        if !ss.is_object() {
            *ss = Value::Object(Map::new());
        }
        if let Value::Object(ss) = ss {
            let mut obj = ss
                .get(server)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            obj.insert(
                "sessionId".into(),
                Value::String(server_session_id.to_string()),
            );
            obj.insert("sharedAt".into(), Value::String(now));
            ss.insert(server.to_string(), Value::Object(obj));
        }
        Ok(())
    })?;
    // A corrupt abandon file is ignored by the daemon as well: not a
    // reason to fail the share.
    let _ = clear_abandon(uuid, Some(&[server.to_string()]));
    Ok(())
}

/// The daemon re-created session `uuid` on `server` (the old one was gone)
/// under `server_session_id`: record it, so `unshare --delete` deletes the
/// copy that exists. Nothing is written when the share is no longer there.
pub fn record_server_session(uuid: &str, server: &str, server_session_id: &str) -> Result<()> {
    file()?.update(|map| {
        let shared_with = parse(map)
            .get(uuid)
            .is_some_and(|s| s.servers.iter().any(|x| x == server));
        if !shared_with {
            return Ok(());
        }
        let sessions = sessions_mut(map)?;
        let Some(Value::Object(entry)) = sessions.get_mut(uuid) else {
            return Ok(());
        };
        let ss = entry
            .entry("serverSessions")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(ss) = ss {
            // The key as written (maybe not normalized), else the URL.
            let key = ss
                .keys()
                .find(|k| server_url::normalize(k).ok().as_deref() == Some(server))
                .cloned()
                .unwrap_or_else(|| server.to_string());
            let slot = ss.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(slot) = slot {
                slot.insert(
                    "sessionId".into(),
                    Value::String(server_session_id.to_string()),
                );
            }
        }
        Ok(())
    })
}

/// Claude Code ended session `uuid`: when it is shared, record `endedAt`
/// (the daemon completes it on every server once everything is sent) and
/// return the share. A session that is not shared is left alone: nothing
/// is written, not even an empty file.
pub fn end(uuid: &str) -> Result<Option<Share>> {
    if !load()?.contains_key(uuid) {
        return Ok(None);
    }
    file()?.update(|map| {
        if !parse(map).contains_key(uuid) {
            return Ok(None);
        }
        let sessions = sessions_mut(map)?;
        if let Some(Value::Object(entry)) = sessions.get_mut(uuid) {
            entry.insert("endedAt".into(), Value::String(crate::time::now_rfc3339()));
        }
        Ok(parse(map).remove(uuid))
    })
}

/// Remove the share of `uuid` with `server` (or with every server when
/// `None`). Returns the servers removed with their server session ids; the
/// entry disappears once no server is left.
pub fn remove(uuid: &str, server: Option<&str>) -> Result<Vec<(String, Option<String>)>> {
    file()?.update(|map| {
        let current = parse(map);
        let Some(share) = current.get(uuid) else {
            return Ok(Vec::new());
        };
        let removed: Vec<(String, Option<String>)> = share
            .servers
            .iter()
            .filter(|s| server.is_none_or(|want| want == s.as_str()))
            .map(|s| (s.clone(), share.server_sessions.get(s).cloned()))
            .collect();
        if removed.is_empty() {
            return Ok(removed);
        }
        let remaining = share.servers.len() - removed.len();
        let sessions = sessions_mut(map)?;
        if remaining == 0 {
            sessions.remove(uuid);
        } else if let Some(Value::Object(entry)) = sessions.get_mut(uuid) {
            let gone = |v: &Value| {
                v.as_str()
                    .and_then(|s| server_url::normalize(s).ok())
                    .is_some_and(|s| removed.iter().any(|(r, _)| *r == s))
            };
            if let Some(Value::Array(list)) = entry.get_mut("servers") {
                list.retain(|v| !gone(v));
            }
            if let Some(Value::Object(ss)) = entry.get_mut("serverSessions") {
                ss.retain(|k, _| !gone(&Value::String(k.clone())));
            }
        }
        Ok(removed)
    })
}

fn abandon_file() -> Result<JsonFile> {
    JsonFile::in_home(ABANDON_FILE)
}

/// Ask the daemon to stop streaming (`uuid`, each of `servers`) at once,
/// without flushing: they were unshared and are about to be deleted.
pub fn request_abandon(uuid: &str, servers: &[String]) -> Result<()> {
    let now = crate::time::now_rfc3339();
    abandon_file()?.update(|map| {
        map.entry("version").or_insert(Value::from(1));
        let pairs = map
            .entry("pairs")
            .or_insert_with(|| Value::Object(Map::new()));
        if !pairs.is_object() {
            *pairs = Value::Object(Map::new());
        }
        if let Value::Object(pairs) = pairs {
            let entry = pairs
                .entry(uuid.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(entry) = entry {
                for server in servers {
                    entry.insert(server.clone(), Value::String(now.clone()));
                }
            }
        }
        Ok(())
    })
}

/// Forget the abandon requests of `uuid` (for `servers`, or all). Writes
/// nothing when there is nothing to forget.
pub fn clear_abandon(uuid: &str, servers: Option<&[String]>) -> Result<()> {
    let file = abandon_file()?;
    let listed = abandoned(&file.read()?)
        .iter()
        .any(|(s, server)| s == uuid && servers.is_none_or(|list| list.contains(server)));
    if !listed {
        return Ok(());
    }
    file.update(|map| {
        let Some(Value::Object(pairs)) = map.get_mut("pairs") else {
            return Ok(());
        };
        let empty = match pairs.get_mut(uuid) {
            Some(Value::Object(entry)) => {
                entry.retain(|server, _| {
                    let server = server_url::normalize(server).unwrap_or_default();
                    servers.is_some_and(|list| !list.contains(&server))
                });
                entry.is_empty()
            }
            _ => true,
        };
        if empty {
            pairs.remove(uuid);
        }
        Ok(())
    })
}

/// The (session, server) pairs listed in the abandon file's content.
pub fn abandoned(map: &Map<String, Value>) -> std::collections::BTreeSet<(String, String)> {
    let mut out = std::collections::BTreeSet::new();
    let Some(pairs) = map.get("pairs").and_then(Value::as_object) else {
        return out;
    };
    for (uuid, servers) in pairs {
        for server in servers.as_object().into_iter().flat_map(|m| m.keys()) {
            if let Ok(server) = server_url::normalize(server) {
                out.insert((uuid.clone(), server));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_stamps_openctl_adds_and_falls_back_to_shared_at() {
        let map = json!({"version": 1, "sessions": {
            "a": {"filePath": "/a.jsonl", "servers": ["http://one", "http://Two/"],
                  "sharedAt": "t0", "endedAt": "t9", "futureKey": [1],
                  "serverSessions": {"http://one": {"sessionId": "s1", "sharedAt": "t1"},
                                     "http://two": {"sessionId": "s2"}}},
            "b": {"filePath": "/b.jsonl", "servers": ["http://one"]}
        }});
        let shares = parse(map.as_object().unwrap());
        let a = &shares["a"];
        assert_eq!(a.servers, vec!["http://one", "http://two"]);
        assert_eq!(a.stamp("http://one").as_deref(), Some("t1"));
        assert_eq!(a.stamp("http://two").as_deref(), Some("t0"));
        assert_eq!(a.ended_at.as_deref(), Some("t9"));
        assert_eq!(a.server_sessions["http://two"], "s2");
        let b = &shares["b"];
        assert_eq!((b.stamp("http://one"), b.ended_at.clone()), (None, None));
    }

    #[test]
    fn abandon_lists_pairs_with_normalized_servers() {
        let map = json!({"version": 1, "pairs": {
            "a": {"HTTP://One/": "t", "http://two": "t"}, "b": "junk"}});
        let got = abandoned(map.as_object().unwrap());
        let want: Vec<(String, String)> = vec![
            ("a".into(), "http://one".into()),
            ("a".into(), "http://two".into()),
        ];
        assert_eq!(got.into_iter().collect::<Vec<_>>(), want);
    }
}
