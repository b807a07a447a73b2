//! `~/.openctl/config.json`: the default server, per-server repository
//! allowlists and settings. Compatible with the original TypeScript CLI:
//! `{"server": url, "servers": {url: {"allowedRepos": [..]}}}`; keys this
//! version does not know are preserved.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::{Map, Value};

use crate::error::{CliError, Exit};
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
        default: "600", // DEFAULT_IDLE_TIMEOUT_SECS
        help: "seconds without new transcript lines before a shared session is marked complete",
    },
    Key {
        name: "hook_window",
        json: "hookWindowMinutes",
        scope: Scope::Global,
        kind: Kind::Minutes,
        default: "30", // DEFAULT_HOOK_WINDOW_MINUTES
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
    /// Where it was read from, for messages.
    path: Option<PathBuf>,
}

impl Config {
    pub fn file() -> Result<JsonFile> {
        JsonFile::in_home(FILE)
    }

    /// Read config.json (missing → empty) and check every value openctl
    /// uses: a file that does not parse, or a known key with a wrong value,
    /// is an error naming the file and the key (exit 1), never defaults.
    pub fn load() -> Result<Config> {
        let cfg = Config::load_unchecked()?;
        cfg.check()?;
        Ok(cfg)
    }

    /// Read config.json without checking its values: for `config set` and
    /// `unset`, which must be able to repair a bad value.
    pub fn load_unchecked() -> Result<Config> {
        let file = Config::file()?;
        Ok(Config {
            map: file.read()?,
            path: Some(file.path().to_path_buf()),
        })
    }

    /// A config from an already parsed object, unchecked.
    pub fn from_map(map: Map<String, Value>) -> Config {
        Config { map, path: None }
    }

    /// A config from the parsed object of the file at `path`, checked as
    /// [`Config::load`] does.
    pub fn parse(map: Map<String, Value>, path: &Path) -> Result<Config> {
        let cfg = Config {
            map,
            path: Some(path.to_path_buf()),
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// Check every known value; the first bad one is the error.
    pub fn check(&self) -> Result<()> {
        self.default_server()?;
        for key in KEYS.iter().filter(|k| k.scope == Scope::Global) {
            if let Some(v) = self.map.get(key.json) {
                check_value(key, v)
                    .map_err(|what| self.bad(key.json, &what, &fix_hint(key, None)))?;
            }
        }
        let Some(servers) = self.map.get("servers") else {
            return Ok(());
        };
        let servers = servers.as_object().ok_or_else(|| {
            self.bad(
                "servers",
                &format!(
                    "must be an object of server URLs and their settings, not {}",
                    describe(servers)
                ),
                "edit the file by hand",
            )
        })?;
        for (url, entry) in servers {
            let at = format!("servers[\"{url}\"]");
            let normalized = server_url::normalize(url).map_err(|e| {
                self.bad(
                    &at,
                    &format!("is not a server URL ({e})"),
                    "edit the file by hand",
                )
            })?;
            let entry = entry.as_object().ok_or_else(|| {
                self.bad(
                    &at,
                    &format!("must be an object of settings, not {}", describe(entry)),
                    "edit the file by hand",
                )
            })?;
            if let Some(repos) = entry.get("allowedRepos") {
                let ok = repos
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string));
                if !ok {
                    return Err(self.bad(
                        &format!("{at}.allowedRepos"),
                        &format!(
                            "must be a list of repository ids (strings), not {}",
                            describe(repos)
                        ),
                        "edit the file by hand: a list such as [\"github.com/org/repo\"]",
                    ));
                }
            }
            for key in KEYS.iter().filter(|k| k.scope == Scope::PerServer) {
                if let Some(v) = entry.get(key.json) {
                    check_value(key, v).map_err(|what| {
                        self.bad(
                            &format!("{at}.{}", key.json),
                            &what,
                            &fix_hint(key, Some(&normalized)),
                        )
                    })?;
                }
            }
        }
        Ok(())
    }

    /// A wrong value in the file: exit 1, naming the file, the key and what
    /// is wrong, as for a file that does not parse.
    fn bad(&self, key: &str, what: &str, hint: &str) -> anyhow::Error {
        let path = self
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| FILE.to_string());
        CliError::new(
            Exit::Failure,
            format!("{path}: '{key}' {what}. The file was left untouched."),
        )
        .with_hint(hint.to_string())
        .into()
    }

    /// The `server` setting, normalized, if set. A value that is not a
    /// server URL is an error, not a silent fall back to the default.
    pub fn default_server(&self) -> Result<Option<String>> {
        let Some(v) = self.map.get("server") else {
            return Ok(None);
        };
        let key = key("server")?;
        let Some(s) = v.as_str() else {
            return Err(self.bad(
                "server",
                &format!("must be a server URL (a string), not {}", describe(v)),
                &fix_hint(key, None),
            ));
        };
        server_url::normalize(s).map(Some).map_err(|e| {
            self.bad(
                "server",
                &format!("is not a valid server URL ({e})"),
                &fix_hint(key, None),
            )
        })
    }

    /// Server URLs named in `servers` and `server`, normalized. Entries
    /// that are not server URLs are skipped ([`Config::load`] rejects them).
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
        if let Ok(Some(s)) = self.default_server() {
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

    /// The source naming this file (or `config.json` for a config not
    /// read from a file).
    fn file_source(&self) -> Source {
        Source::File(self.path.clone().unwrap_or_else(|| PathBuf::from(FILE)))
    }

    /// A global whole-number setting: the stored value (when it is a whole
    /// number of at least 1), else `default`.
    fn global_count(&self, name: &str, default: u64) -> Resolved<u64> {
        let stored = key(name)
            .ok()
            .and_then(|k| self.get(k, ""))
            .and_then(Value::as_u64)
            .filter(|n| *n > 0);
        match stored {
            Some(n) => Resolved::new(n, self.file_source()),
            None => Resolved::new(default, Source::Default),
        }
    }

    /// The server to use and where it comes from: `--server`, else
    /// `OPENCTL_SERVER_URL`, else config `server`, else
    /// `http://localhost:3000`. Always normalized.
    pub fn server(&self, flag: Option<&str>) -> Result<Resolved<String>> {
        if let Some(s) = flag {
            return Ok(Resolved::new(server_url::normalize(s)?, Source::Flag));
        }
        if let Ok(s) = std::env::var(SERVER_ENV) {
            if !s.trim().is_empty() {
                return Ok(Resolved::new(
                    server_url::normalize(&s)?,
                    Source::Env(SERVER_ENV),
                ));
            }
        }
        Ok(match self.default_server()? {
            Some(s) => Resolved::new(s, self.file_source()),
            None => Resolved::new(server_url::DEFAULT_SERVER.to_string(), Source::Default),
        })
    }

    /// Seconds without new lines before a session is marked complete, and
    /// where that comes from.
    pub fn idle_timeout(&self) -> Resolved<u64> {
        self.global_count("idle_timeout", DEFAULT_IDLE_TIMEOUT_SECS)
    }

    /// Seconds without new lines before a session is marked complete.
    pub fn idle_timeout_secs(&self) -> u64 {
        self.idle_timeout().value
    }

    /// Minutes a session counts as active for the post-commit reminder, and
    /// where that comes from.
    pub fn hook_window(&self) -> Resolved<u64> {
        self.global_count("hook_window", DEFAULT_HOOK_WINDOW_MINUTES)
    }

    /// Minutes a session counts as active for the post-commit reminder.
    pub fn hook_window_minutes(&self) -> u64 {
        self.hook_window().value
    }

    /// Whether secrets are redacted before sending to `server` (default
    /// on), and where that comes from.
    pub fn redact_setting(&self, server: &str) -> Resolved<bool> {
        match self
            .server_entry(server)
            .and_then(|e| e.get("redact"))
            .and_then(Value::as_bool)
        {
            Some(on) => Resolved::new(on, self.file_source()),
            None => Resolved::new(true, Source::Default),
        }
    }

    /// Whether secrets are redacted before sending to `server` (default on).
    pub fn redact(&self, server: &str) -> bool {
        self.redact_setting(server).value
    }

    /// The bearer token configured for `server` (none by default), and
    /// where that comes from.
    pub fn token_setting(&self, server: &str) -> Resolved<Option<String>> {
        match self
            .server_entry(server)
            .and_then(|e| e.get("token"))
            .and_then(Value::as_str)
        {
            Some(t) => Resolved::new(Some(t.to_string()), self.file_source()),
            None => Resolved::new(None, Source::Default),
        }
    }

    /// The bearer token configured for `server`.
    pub fn token(&self, server: &str) -> Option<String> {
        self.token_setting(server).value
    }

    /// Any setting in effect, as JSON, with its source: what `config get`
    /// and `config list` show, from the same functions every command uses.
    /// `server_flag` is `--server`: the value of `server`, and the server
    /// a per-server setting is read for.
    pub fn setting(&self, key: &'static Key, server_flag: Option<&str>) -> Result<Setting> {
        let server = match key.scope {
            Scope::PerServer => Some(self.server(server_flag)?),
            Scope::Global => None,
        };
        let on = server
            .as_ref()
            .map(|s| s.value.as_str())
            .unwrap_or_default();
        let Resolved { value, source } = match key.name {
            "server" => self.server(server_flag)?.map(Value::String),
            "idle_timeout" => self.idle_timeout().map(Value::from),
            "hook_window" => self.hook_window().map(Value::from),
            "redact" => self.redact_setting(on).map(Value::Bool),
            "token" => self
                .token_setting(on)
                .map(|t| t.map(Value::String).unwrap_or(Value::Null)),
            other => anyhow::bail!("config key '{other}' has no resolution"),
        };
        Ok(Setting {
            key,
            value,
            source,
            stored: self.get(key, on).is_some(),
            server,
        })
    }
}

/// The environment variable naming the default server.
pub const SERVER_ENV: &str = "OPENCTL_SERVER_URL";

/// `idle_timeout` when config.json does not set it.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 600;

/// `hook_window` when config.json does not set it.
pub const DEFAULT_HOOK_WINDOW_MINUTES: u64 = 30;

/// Where the value in effect of a setting comes from, in order of
/// precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--server`/`-s` on the command line.
    Flag,
    /// An environment variable.
    Env(&'static str),
    /// config.json, at this path.
    File(PathBuf),
    /// Built in.
    Default,
}

impl Source {
    /// One word for `--json`: `flag`, `env`, `config` or `default`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env(_) => "env",
            Source::File(_) => "config",
            Source::Default => "default",
        }
    }

    /// Exactly where: `--server`, the variable's name, the file's path, or
    /// `default`.
    pub fn origin(&self) -> String {
        match self {
            Source::Flag => "--server".to_string(),
            Source::Env(var) => (*var).to_string(),
            Source::File(path) => path.display().to_string(),
            Source::Default => "default".to_string(),
        }
    }

    /// For people: `from --server`, `from $OPENCTL_SERVER_URL`, `from
    /// <path>`, or `default`.
    pub fn describe(&self) -> String {
        match self {
            Source::Default => "default".to_string(),
            Source::Env(var) => format!("from ${var}"),
            other => format!("from {}", other.origin()),
        }
    }
}

/// A value and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Resolved<T> {
    pub fn new(value: T, source: Source) -> Self {
        Resolved { value, source }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Resolved<U> {
        Resolved {
            value: f(self.value),
            source: self.source,
        }
    }
}

/// A setting in effect, as `config get` and `config list` show it.
#[derive(Debug, Clone)]
pub struct Setting {
    pub key: &'static Key,
    /// The value in effect; `null` when not set and there is no default
    /// (`token`).
    pub value: Value,
    pub source: Source,
    /// Whether config.json has a value for it (which a flag or the
    /// environment may override).
    pub stored: bool,
    /// For a per-server setting: the server it is read for, and where
    /// that choice comes from.
    pub server: Option<Resolved<String>>,
}

/// Whether a stored value fits `key`; the problem in words if not.
fn check_value(key: &Key, v: &Value) -> std::result::Result<(), String> {
    let ok = match key.kind {
        Kind::Url => v.as_str().is_some_and(|s| server_url::normalize(s).is_ok()),
        Kind::Bool => v.is_boolean(),
        Kind::Seconds | Kind::Minutes => v.as_u64().is_some_and(|n| n > 0),
        Kind::Secret => v.is_string(),
    };
    if ok {
        return Ok(());
    }
    let want = match key.kind {
        Kind::Url => "a server URL",
        Kind::Bool => "true or false",
        Kind::Seconds => "a whole number of seconds, at least 1",
        Kind::Minutes => "a whole number of minutes, at least 1",
        Kind::Secret => "a string",
    };
    Err(format!("must be {want}, not {}", describe(v)))
}

/// How to repair a bad value of `key`.
fn fix_hint(key: &Key, server: Option<&str>) -> String {
    let on = server.map(|s| format!(" -s {s}")).unwrap_or_default();
    let value = match key.kind {
        Kind::Url => "URL",
        Kind::Bool => "true|false",
        Kind::Seconds => "SECONDS",
        Kind::Minutes => "MINUTES",
        Kind::Secret => "TOKEN",
    };
    format!(
        "run: openctl config set {0} {value}{on} (or openctl config unset {0}{on}), or edit the file by hand",
        key.name
    )
}

/// A JSON value for a message, shortened.
fn describe(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// The server to use: `--server`, else `OPENCTL_SERVER_URL`, else config
/// `server`, else `http://localhost:3000`. Always normalized. Where it
/// comes from: [`Config::server`].
pub fn resolve_server(flag: Option<&str>, config: &Config) -> Result<String> {
    Ok(config.server(flag)?.value)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_resolves_with_its_default() {
        let cfg = Config::from_map(Map::new());
        for key in KEYS {
            let setting = cfg.setting(key, Some("http://example.test")).unwrap();
            let shown = match &setting.value {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                v => v.to_string(),
            };
            if key.name == "server" {
                assert_eq!(setting.source, Source::Flag);
                assert_eq!(shown, "http://example.test");
            } else {
                assert_eq!(setting.source, Source::Default, "{}", key.name);
                assert_eq!(shown, key.default, "{}", key.name);
            }
            assert!(!setting.stored);
        }
    }

    #[test]
    fn stored_values_come_from_the_file() {
        let map = serde_json::json!({"idleTimeoutSeconds": 120,
            "servers": {"https://a.example/": {"redact": false, "token": "t0k3n"}}});
        let Value::Object(map) = map else {
            unreachable!()
        };
        let cfg = Config::parse(map, Path::new("/h/.openctl/config.json")).unwrap();
        let file = Source::File(PathBuf::from("/h/.openctl/config.json"));
        assert_eq!(cfg.idle_timeout(), Resolved::new(120, file.clone()));
        assert_eq!(cfg.hook_window(), Resolved::new(30, Source::Default));
        assert_eq!(
            cfg.redact_setting("https://a.example"),
            Resolved::new(false, file.clone())
        );
        assert_eq!(
            cfg.token_setting("https://a.example"),
            Resolved::new(Some("t0k3n".to_string()), file)
        );
        assert!(cfg.redact("http://other.example"));
        assert_eq!(
            Source::File(PathBuf::from("/h/.openctl/config.json")).describe(),
            "from /h/.openctl/config.json"
        );
        assert_eq!(
            Source::Env(SERVER_ENV).describe(),
            "from $OPENCTL_SERVER_URL"
        );
    }
}
