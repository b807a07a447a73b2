//! `~/.openctl/shared-sessions.json`: the allowlist of shared sessions, the
//! only thing the daemon streams. Format (compatible with the original CLI):
//! `{"version": 1, "sessions": {uuid: {"filePath", "servers": [url],
//! "sharedAt", "serverSessions": {url: {"sessionId"}}}}}`. Unknown keys are
//! preserved.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use serde_json::{Map, Value};

use crate::server_url;
use crate::state::JsonFile;

pub const FILE: &str = "shared-sessions.json";

/// One shared session as the daemon and the CLI need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub uuid: String,
    pub file_path: PathBuf,
    pub servers: Vec<String>,
    pub shared_at: Option<String>,
    /// server URL → server session id
    pub server_sessions: BTreeMap<String, String>,
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
        let server_sessions = entry
            .get("serverSessions")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let id = v.get("sessionId")?.as_str()?;
                        Some((server_url::normalize(k).ok()?, id.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            uuid.clone(),
            Share {
                uuid: uuid.clone(),
                file_path: PathBuf::from(file_path),
                servers,
                shared_at: entry
                    .get("sharedAt")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                server_sessions,
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
/// server session `server_session_id`.
pub fn add(
    uuid: &str,
    file_path: &std::path::Path,
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
        entry
            .entry("sharedAt")
            .or_insert_with(|| Value::String(crate::time::now_rfc3339()));
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
            ss.insert(server.to_string(), Value::Object(obj));
        }
        Ok(())
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
