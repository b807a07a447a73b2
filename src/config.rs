//! `~/.openctl/config.json`: the default server, per-server repository
//! allowlists and settings. Compatible with the original TypeScript CLI:
//! `{"server": url, "servers": {url: {"allowedRepos": [..]}}}`; keys this
//! version does not know are preserved.

use anyhow::Result;
use serde_json::{Map, Value};

use crate::error::CliError;
use crate::server_url;
use crate::state::JsonFile;

pub const FILE: &str = "config.json";

/// Where a setting lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Top level of config.json.
    Global,
    /// Under `servers.<url>`.
    PerServer,
}

/// The type of a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Url,
    Bool,
    Seconds,
    Minutes,
    Secret,
}

/// A setting users may get, set and unset.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub json: &'static str,
    pub scope: Scope,
    pub kind: Kind,
    pub default: &'static str,
    pub help: &'static str,
}

/// Every known setting.
pub const KEYS: &[Key] = &[
    Key {
        name: "server",
        json: "server",
        scope: Scope::Global,
        kind: Kind::Url,
        default: server_url::DEFAULT_SERVER,
        help: "default server URL for share, repo and session commands",
    },
    Key {
        name: "idle_timeout",
        json: "idleTimeoutSeconds",
        scope: Scope::Global,
        kind: Kind::Seconds,
        default: "600",
        help: "seconds without new transcript lines before a shared session is marked complete",
    },
    Key {
        name: "hook_window",
        json: "hookWindowMinutes",
        scope: Scope::Global,
        kind: Kind::Minutes,
        default: "30",
        help: "minutes a Claude Code session counts as active for the post-commit reminder",
    },
    Key {
        name: "redact",
        json: "redact",
        scope: Scope::PerServer,
        kind: Kind::Bool,
        default: "true",
        help: "redact secrets before anything is sent to this server",
    },
    Key {
        name: "token",
        json: "token",
        scope: Scope::PerServer,
        kind: Kind::Secret,
        default: "",
        help: "bearer token sent to this server",
    },
];

/// Look up a setting by its user-facing name.
pub fn key(name: &str) -> Result<&'static Key> {
    KEYS.iter().find(|k| k.name == name).ok_or_else(|| {
        let known: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        CliError::usage(format!(
            "unknown config key '{name}'; known keys: {}",
            known.join(", ")
        ))
        .into()
    })
}

/// Check and convert a user-supplied value into the JSON stored for `key`.
pub fn parse_value(key: &Key, raw: &str) -> Result<Value> {
    let bad = |what: &str| -> anyhow::Error {
        CliError::usage(format!("invalid value '{raw}' for {}: {what}", key.name)).into()
    };
    Ok(match key.kind {
        Kind::Url => Value::String(server_url::normalize(raw)?),
        Kind::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Value::Bool(true),
            "false" | "off" | "no" | "0" => Value::Bool(false),
            _ => return Err(bad("expected true or false")),
        },
        Kind::Seconds | Kind::Minutes => {
            let n: u64 = raw.parse().map_err(|_| bad("expected a whole number"))?;
            if n == 0 {
                return Err(bad("must be at least 1"));
            }
            Value::from(n)
        }
        Kind::Secret => {
            if raw.is_empty() {
                return Err(bad("must not be empty"));
            }
            Value::String(raw.to_string())
        }
    })
}

/// A snapshot of config.json.
#[derive(Debug, Clone, Default)]
pub struct Config {
    map: Map<String, Value>,
}

impl Config {
    pub fn file() -> Result<JsonFile> {
        JsonFile::in_home(FILE)
    }

    /// Read config.json (missing → empty; corrupt → error naming the file).
    pub fn load() -> Result<Config> {
        Ok(Config {
            map: Config::file()?.read()?,
        })
    }

    pub fn from_map(map: Map<String, Value>) -> Config {
        Config { map }
    }

    /// The `server` setting, normalized, if set and valid.
    pub fn default_server(&self) -> Option<String> {
        self.map
            .get("server")
            .and_then(Value::as_str)
            .and_then(|s| server_url::normalize(s).ok())
    }

    /// Server URLs named in `servers`, normalized.
    pub fn servers(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .map
            .get("servers")
            .and_then(Value::as_object)
            .map(|m| {
                m.keys()
                    .filter_map(|k| server_url::normalize(k).ok())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(s) = self.default_server() {
            out.push(s);
        }
        out.sort();
        out.dedup();
        out
    }

    fn server_entry(&self, server: &str) -> Option<&Map<String, Value>> {
        let servers = self.map.get("servers")?.as_object()?;
        servers
            .iter()
            .find(|(k, _)| server_url::normalize(k).ok().as_deref() == Some(server))
            .and_then(|(_, v)| v.as_object())
    }

    /// The repositories allowed for `server` (normalized URL).
    pub fn allowed_repos(&self, server: &str) -> Vec<String> {
        self.server_entry(server)
            .and_then(|e| e.get("allowedRepos"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_repo_allowed(&self, server: &str, repo_id: &str) -> bool {
        self.allowed_repos(server).iter().any(|r| r == repo_id)
    }

    /// The raw stored value of a setting (`server` is needed for per-server keys).
    pub fn get(&self, key: &Key, server: &str) -> Option<&Value> {
        match key.scope {
            Scope::Global => self.map.get(key.json),
            Scope::PerServer => self.server_entry(server)?.get(key.json),
        }
    }

    fn get_u64(&self, name: &str) -> Option<u64> {
        let k = key(name).ok()?;
        self.get(k, "").and_then(Value::as_u64).filter(|n| *n > 0)
    }

    /// Seconds without new lines before a session is marked complete.
    pub fn idle_timeout_secs(&self) -> u64 {
        self.get_u64("idle_timeout").unwrap_or(600)
    }

    /// Minutes a session counts as active for the post-commit reminder.
    pub fn hook_window_minutes(&self) -> u64 {
        self.get_u64("hook_window").unwrap_or(30)
    }

    /// Whether secrets are redacted before sending to `server` (default on).
    pub fn redact(&self, server: &str) -> bool {
        self.server_entry(server)
            .and_then(|e| e.get("redact"))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    /// The bearer token configured for `server`.
    pub fn token(&self, server: &str) -> Option<String> {
        self.server_entry(server)
            .and_then(|e| e.get("token"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

/// The server to use: `--server`, else `OPENCTL_SERVER_URL`, else config
/// `server`, else `http://localhost:3000`. Always normalized.
pub fn resolve_server(flag: Option<&str>, config: &Config) -> Result<String> {
    if let Some(s) = flag {
        return server_url::normalize(s);
    }
    if let Ok(s) = std::env::var("OPENCTL_SERVER_URL") {
        if !s.trim().is_empty() {
            return server_url::normalize(&s);
        }
    }
    Ok(config
        .default_server()
        .unwrap_or_else(|| server_url::DEFAULT_SERVER.to_string()))
}

/// The object for `server` under `servers`, created if missing. An existing
/// key that normalizes to the same URL is reused.
pub fn server_entry_mut<'a>(
    map: &'a mut Map<String, Value>,
    server: &str,
) -> Result<&'a mut Map<String, Value>> {
    let servers = map
        .entry("servers")
        .or_insert_with(|| Value::Object(Map::new()));
    let servers = servers.as_object_mut().ok_or_else(|| {
        anyhow::anyhow!("config.json: 'servers' is not an object; fix it by hand")
    })?;
    let existing = servers
        .keys()
        .find(|k| server_url::normalize(k).ok().as_deref() == Some(server))
        .cloned();
    let name = existing.unwrap_or_else(|| server.to_string());
    let entry = servers
        .entry(name.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    entry.as_object_mut().ok_or_else(|| {
        anyhow::anyhow!("config.json: servers['{name}'] is not an object; fix it by hand")
    })
}

/// Add `repo_id` to the allowlist of `server`. Returns false if it was there.
pub fn allow_repo(server: &str, repo_id: &str) -> Result<bool> {
    Config::file()?.update(|map| {
        let entry = server_entry_mut(map, server)?;
        let repos = entry
            .entry("allowedRepos")
            .or_insert_with(|| Value::Array(Vec::new()));
        let repos = repos.as_array_mut().ok_or_else(|| {
            anyhow::anyhow!("config.json: allowedRepos of {server} is not a list; fix it by hand")
        })?;
        if repos.iter().any(|r| r.as_str() == Some(repo_id)) {
            return Ok(false);
        }
        repos.push(Value::String(repo_id.to_string()));
        Ok(true)
    })
}

/// Remove `repo_id` from the allowlist of `server`. Returns false if absent.
pub fn deny_repo(server: &str, repo_id: &str) -> Result<bool> {
    Config::file()?.update(|map| {
        let entry = server_entry_mut(map, server)?;
        let Some(repos) = entry.get_mut("allowedRepos").and_then(Value::as_array_mut) else {
            return Ok(false);
        };
        let before = repos.len();
        repos.retain(|r| r.as_str() != Some(repo_id));
        Ok(repos.len() != before)
    })
}
