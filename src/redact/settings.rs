//! `~/.openctl/redact.json`: extra patterns and an allowlist.
//!
//! ```json
//! {
//!   "patterns": [{"name": "internal_host", "regex": "[a-z0-9-]+\\.corp\\.example\\.com"}],
//!   "allow": ["AKIAIOSFODNN7EXAMPLE"]
//! }
//! ```
//!
//! A pattern's match is replaced by `[REDACTED:<name>]`; when the regex has
//! a group named `value`, only that group is replaced. An allowlisted
//! literal is never redacted, whichever rule finds it. JSON rather than
//! TOML keeps the dependency tree as it is; both keys are optional and
//! unknown keys are an error (a typo must not silently disable a rule).

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use anyhow::Result;
use regex::Regex;
use serde::Deserialize;

use super::rules;
use crate::error::{CliError, Exit};

/// File name in the openctl home.
pub const FILE: &str = "redact.json";

/// Larger files are refused: a redaction config is a handful of lines.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A user-defined pattern as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSpec {
    pub name: String,
    pub regex: String,
}

/// The content of `redact.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactConfig {
    #[serde(default)]
    pub patterns: Vec<PatternSpec>,
    #[serde(default)]
    pub allow: Vec<String>,
}

/// A checked, compiled user pattern.
#[derive(Debug)]
pub(crate) struct CustomPattern {
    pub name: String,
    pub regex: Regex,
}

impl RedactConfig {
    /// The path of the file in `home` (the openctl home).
    pub fn path(home: &Path) -> PathBuf {
        home.join(FILE)
    }

    /// Read `<home>/redact.json`; a missing file is an empty config.
    pub fn load(home: &Path) -> Result<RedactConfig> {
        let path = RedactConfig::path(home);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(RedactConfig::default()),
            Err(e) => return Err(bad(&path, format!("cannot read it: {e}")).into()),
        };
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(&path, format!("cannot read it: {e}")))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(bad(&path, format!("larger than {MAX_FILE_BYTES} bytes")).into());
        }
        RedactConfig::parse(&path, &bytes)
    }

    /// Parse the file's bytes; `path` only names the file in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<RedactConfig> {
        serde_json::from_slice(bytes).map_err(|e| {
            bad(
                path,
                format!(
                    "not valid: {e}; expected {{\"patterns\": [{{\"name\": \"...\", \"regex\": \"...\"}}], \"allow\": [\"...\"]}}"
                ),
            )
            .into()
        })
    }

    /// Check names and literals and compile the patterns; `path` only names
    /// the file in errors.
    pub(crate) fn compile(&self, path: &Path) -> Result<Vec<CustomPattern>> {
        for (i, lit) in self.allow.iter().enumerate() {
            if lit.is_empty() {
                return Err(bad(path, format!("allow entry #{} is empty", i + 1)).into());
            }
        }
        let mut out: Vec<CustomPattern> = Vec::with_capacity(self.patterns.len());
        for (i, spec) in self.patterns.iter().enumerate() {
            if !valid_name(&spec.name) {
                return Err(bad(
                    path,
                    format!(
                        "pattern #{} has an invalid name {:?}: use 1-64 letters, digits, '_' or '-'",
                        i + 1,
                        spec.name
                    ),
                )
                .into());
            }
            if out.iter().any(|p| p.name == spec.name) {
                return Err(bad(path, format!("pattern {:?} is defined twice", spec.name)).into());
            }
            let regex = rules::compile(&spec.regex).map_err(|e| {
                bad(
                    path,
                    format!("pattern {:?} has an invalid regex: {e}", spec.name),
                )
            })?;
            if regex.is_match("") {
                return Err(bad(
                    path,
                    format!(
                        "pattern {:?} matches the empty string; it must match at least one character",
                        spec.name
                    ),
                )
                .into());
            }
            out.push(CustomPattern {
                name: spec.name.clone(),
                regex,
            });
        }
        Ok(out)
    }
}

/// Kind names end up inside `[REDACTED:<name>]` markers.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn bad(path: &Path, what: String) -> CliError {
    CliError::new(Exit::Failure, format!("{}: {what}", path.display())).with_hint(format!(
        "fix or remove {} (format: {{\"patterns\": [{{\"name\", \"regex\"}}], \"allow\": [..]}})",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Result<Vec<CustomPattern>> {
        let path = Path::new("/h/redact.json");
        RedactConfig::parse(path, text.as_bytes())?.compile(path)
    }

    #[test]
    fn empty_and_minimal() {
        assert!(cfg("{}").unwrap().is_empty());
        let p = cfg(r#"{"patterns":[{"name":"host","regex":"corp\\.example"}]}"#).unwrap();
        assert_eq!(p[0].name, "host");
    }

    #[test]
    fn errors_name_file_and_pattern() {
        let e = cfg(r#"{"patterns":[{"name":"broken","regex":"(unclosed"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/h/redact.json") && e.contains("broken"), "{e}");
        let e = cfg(r#"{"allowlist":[]}"#).unwrap_err().to_string();
        assert!(
            e.contains("/h/redact.json") && e.contains("allowlist"),
            "{e}"
        );
        let e = cfg(r#"{"patterns":[{"name":"a b","regex":"x"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid name"), "{e}");
        let e = cfg(r#"{"patterns":[{"name":"e","regex":"x*"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty string"), "{e}");
        let e = cfg(r#"{"allow":[""]}"#).unwrap_err().to_string();
        assert!(e.contains("allow entry #1"), "{e}");
        let e = cfg(r#"{"patterns":[{"name":"d","regex":"x"},{"name":"d","regex":"y"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            RedactConfig::load(dir.path()).unwrap(),
            RedactConfig::default()
        );
    }
}
