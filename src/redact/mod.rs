//! Secret redaction before anything leaves the machine (issue 8).
//!
//! A [`Redactor`] is built once (all regexes compiled) and then applied to
//! every string that is sent: message blocks, tool inputs and results,
//! titles, diffs. Each secret is replaced by a visible marker
//! `[REDACTED:<kind>]` and reported as a [`Redaction`] whose preview is
//! masked: the secret itself is never kept.
//!
//! Matching uses the `regex` crate only, so it is linear in the input: a
//! [`RegexSet`] finds which rules can match a string in one pass, and only
//! those rules then locate their matches. Rules with a check (assignments,
//! high-entropy values, `sk-…`) reject look-alikes found in code and prose.
//!
//! Redacting is idempotent: markers already in the text are never matched
//! again, so redacting twice gives the same text as redacting once.

pub mod labelled;
mod rules;
mod settings;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::Serialize;
use serde_json::Value;

use crate::wire::Message;
use rules::{Check, Rule};

pub use rules::{shannon_entropy, KINDS};
pub use settings::{PatternSpec, RedactConfig, FILE};

/// Start of every marker we write.
const MARKER_PREFIX: &str = "[REDACTED:";

/// Strings up to this size are first matched against all rules at once.
const SET_PREFILTER_MAX_BYTES: usize = 64 * 1024;

/// The marker that replaces a secret of `kind`.
pub fn marker(kind: &str) -> String {
    format!("{MARKER_PREFIX}{kind}]")
}

/// One secret found and replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redaction {
    /// A built-in kind (see [`KINDS`]) or the name of a user pattern.
    pub kind: Cow<'static, str>,
    /// Byte range of the secret in the string it was found in (before
    /// replacement).
    pub start: usize,
    pub end: usize,
    /// Masked preview: a few leading characters, `…` and the length.
    /// Never the secret.
    pub preview: String,
    /// Where the string is inside a message or JSON value, e.g.
    /// `content_blocks[2].input.command`; empty for [`Redactor::redact_str`].
    pub path: String,
}

/// A masked preview of `secret`: up to 4 leading characters (fewer for short
/// secrets, none for very short ones), `…` and the length in characters.
pub fn preview(secret: &str) -> String {
    let n = secret.chars().count();
    let shown = match n {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    };
    let head: String = secret
        .chars()
        .take(shown)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{head}…({n} chars)")
}

/// How many redactions of each kind, e.g. for a log line or a status
/// display (never the secrets).
pub fn count_by_kind(found: &[Redaction]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in found {
        *counts.entry(r.kind.to_string()).or_insert(0) += 1;
    }
    counts
}

/// Compiled detectors, the allowlist, and the regexes for key names.
#[derive(Debug)]
pub struct Redactor {
    rules: Vec<Rule>,
    /// One pass over a string tells which rules can match.
    set: RegexSet,
    allow: Vec<String>,
    /// A whole JSON object key whose string value is a credential.
    assign_key: Regex,
    /// A whole JSON object key next to which random values are secrets.
    entropy_key: Regex,
}

impl Redactor {
    /// The built-in rules only.
    pub fn builtin() -> Result<Redactor> {
        Redactor::with_config(&RedactConfig::default(), Path::new(FILE))
    }

    /// Built-in rules plus `<home>/redact.json` (`home` is the openctl home,
    /// see [`crate::paths::openctl_home`]). A missing file means built-ins
    /// only; a bad file is an error naming it.
    pub fn load(home: &Path) -> Result<Redactor> {
        let config = RedactConfig::load(home)?;
        Redactor::with_config(&config, &RedactConfig::path(home))
    }

    /// Built-in rules plus `config`; `source` names the config in errors.
    pub fn with_config(config: &RedactConfig, source: &Path) -> Result<Redactor> {
        let mut rules = rules::builtin().context("built-in redaction rules do not compile")?;
        for custom in config.compile(source)? {
            rules.push(Rule {
                kind: Cow::Owned(custom.name),
                regex: custom.regex,
                check: Check::Always,
            });
        }
        let set = RegexSetBuilder::new(rules.iter().map(|r| r.regex.as_str()))
            .size_limit(64 * 1024 * 1024)
            .dfa_size_limit(64 * 1024 * 1024)
            .build()
            .context("redaction rules do not compile together")?;
        let assign_key = rules::compile(&format!("^{}$", rules::ASSIGN_KEY))
            .context("built-in key-name regex does not compile")?;
        let entropy_key = rules::compile(&format!("^{}$", rules::ENTROPY_KEY))
            .context("built-in key-name regex does not compile")?;
        Ok(Redactor {
            rules,
            set,
            allow: config.allow.clone(),
            assign_key,
            entropy_key,
        })
    }

    /// Every kind this redactor can report: the built-in ones and the user
    /// patterns' names.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = KINDS.to_vec();
        for r in &self.rules {
            if !kinds.contains(&r.kind.as_ref()) {
                kinds.push(r.kind.as_ref());
            }
        }
        kinds
    }

    /// The secrets in `hay`, sorted, not overlapping, without replacing
    /// anything.
    pub fn find(&self, hay: &str) -> Vec<Redaction> {
        let mut found: Vec<(usize, usize, usize, Cow<'static, str>)> = Vec::new();
        let markers = marker_spans(hay);
        // On short strings one pass of the set rules out (nearly) every
        // rule; on long ones each rule's own search is faster than the set's
        // larger automaton, and most rules match somewhere anyway.
        let candidates: Vec<usize> = if hay.len() <= SET_PREFILTER_MAX_BYTES {
            self.set.matches(hay).into_iter().collect()
        } else {
            (0..self.rules.len()).collect()
        };
        for i in candidates {
            let rule = &self.rules[i];
            let mut keep = |start: usize, end: usize, kind: Cow<'static, str>| {
                if start < end
                    && !overlaps_any(&markers, start, end)
                    && !self.allowed(hay, start, end)
                {
                    found.push((start, end, i, kind));
                }
            };
            if rule.check == Check::Always && rule.regex.captures_len() == 1 {
                for m in rule.regex.find_iter(hay) {
                    keep(m.start(), m.end(), rule.kind.clone());
                }
            } else {
                for caps in rule.regex.captures_iter(hay) {
                    if let Some((start, end, kind)) = rule.judge(&caps) {
                        keep(start, end, kind);
                    }
                }
            }
        }
        found.sort_by_key(|&(start, _, prio, _)| (start, prio));
        let mut out: Vec<Redaction> = Vec::with_capacity(found.len());
        for (start, end, _, kind) in found {
            if let Some(last) = out.last_mut() {
                if start < last.end {
                    // Overlapping detections become one span, named by the
                    // first (leftmost, then highest-priority) rule.
                    last.end = last.end.max(end);
                    continue;
                }
            }
            out.push(Redaction {
                kind,
                start,
                end,
                preview: String::new(),
                path: String::new(),
            });
        }
        for r in &mut out {
            r.preview = preview(&hay[r.start..r.end]);
        }
        out
    }

    /// `hay` with every secret replaced by its marker, and what was
    /// replaced. Borrowed when nothing was found.
    pub fn redact_str<'a>(&self, hay: &'a str) -> (Cow<'a, str>, Vec<Redaction>) {
        let found = self.find(hay);
        if found.is_empty() {
            return (Cow::Borrowed(hay), found);
        }
        (Cow::Owned(apply(hay, &found)), found)
    }

    /// Redact a string in place; returns what was replaced, with `path`
    /// set on each redaction.
    pub fn redact_string(&self, s: &mut String, path: &str) -> Vec<Redaction> {
        let (out, mut found) = self.redact_str(s);
        if let Cow::Owned(new) = out {
            *s = new;
        }
        for r in &mut found {
            r.path = path.to_string();
        }
        found
    }

    /// Redact every string inside a message's content blocks: text,
    /// thinking, tool inputs (values, recursively; object keys are kept),
    /// tool results. Structural fields (`type`, `id`, `tool_use_id`, a tool's
    /// `name`) and base64 image data are left alone.
    pub fn redact_message(&self, message: &mut Message) -> Vec<Redaction> {
        let mut out = Vec::new();
        let mut path = String::new();
        for (i, block) in message.content_blocks.iter_mut().enumerate() {
            path.clear();
            path.push_str(&format!("content_blocks[{i}]"));
            self.walk_block(block, &mut path, &mut out);
        }
        out
    }

    /// One content block whose place is on `path`: every text in it, but
    /// never the identifiers that link blocks, nor the base64 data of an
    /// image (binary: it must survive byte for byte), also inside a tool
    /// result's parts.
    fn walk_block(&self, block: &mut Value, path: &mut String, out: &mut Vec<Redaction>) {
        let Value::Object(map) = block else {
            return self.walk(block, path, out);
        };
        let kind = map.get("type").and_then(Value::as_str).unwrap_or("");
        let (is_image, is_result) = (kind == "image", kind == "tool_result");
        for (key, value) in map.iter_mut() {
            if matches!(key.as_str(), "type" | "id" | "tool_use_id" | "name") && value.is_string() {
                continue;
            }
            let len = path.len();
            push_key(path, key);
            if is_image && key == "source" {
                if let Some(url) = value.get_mut("url") {
                    path.push_str(".url");
                    self.walk(url, path, out);
                }
            } else if let (true, "content", Value::Array(parts)) =
                (is_result, key.as_str(), &mut *value)
            {
                for (j, part) in parts.iter_mut().enumerate() {
                    let at = path.len();
                    path.push_str(&format!("[{j}]"));
                    self.walk_block(part, path, out);
                    path.truncate(at);
                }
            } else {
                self.walk_entry(key, value, path, out);
            }
            path.truncate(len);
        }
    }

    /// Redact every string value inside `value`, recursively. Object keys are
    /// kept; a string under a credential-like key (`"password": "…"`) is
    /// redacted whole.
    pub fn redact_json(&self, value: &mut Value) -> Vec<Redaction> {
        let mut out = Vec::new();
        let mut path = String::new();
        self.walk(value, &mut path, &mut out);
        out
    }

    fn walk(&self, value: &mut Value, path: &mut String, out: &mut Vec<Redaction>) {
        match value {
            Value::String(s) => out.extend(self.redact_string(s, path)),
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    self.walk(item, path, out);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    let len = path.len();
                    push_key(path, key);
                    self.walk_entry(key, item, path, out);
                    path.truncate(len);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// One object entry whose key is already on `path`.
    fn walk_entry(
        &self,
        key: &str,
        value: &mut Value,
        path: &mut String,
        out: &mut Vec<Redaction>,
    ) {
        if let Value::String(s) = value {
            if let Some(kind) = self.key_context_kind(key, s) {
                let r = Redaction {
                    kind: Cow::Borrowed(kind),
                    start: 0,
                    end: s.len(),
                    preview: preview(s),
                    path: path.clone(),
                };
                *s = marker(kind);
                out.push(r);
                return;
            }
        }
        self.walk(value, path, out);
    }

    /// The kind of a whole string value under a credential-like object key,
    /// if it is one.
    fn key_context_kind(&self, key: &str, value: &str) -> Option<&'static str> {
        if value.is_empty() || self.allowed(value, 0, value.len()) {
            return None;
        }
        if self.assign_key.is_match(key) && rules::assignment_value_is_secret(key, ":", value, true)
        {
            return Some(rules::assignment_kind(key));
        }
        if self.entropy_key.is_match(key) && rules::looks_random(key, value) {
            return Some("high_entropy");
        }
        None
    }

    /// Whether `hay[start..end]` lies inside an occurrence of an allowlisted
    /// literal.
    fn allowed(&self, hay: &str, start: usize, end: usize) -> bool {
        let bytes = hay.as_bytes();
        self.allow.iter().any(|lit| {
            let lit = lit.as_bytes();
            if lit.len() < end - start {
                return false;
            }
            // Any occurrence inside this window covers [start, end).
            let from = end.saturating_sub(lit.len());
            let to = (start + lit.len()).min(bytes.len());
            from < to && memchr::memmem::find(&bytes[from..to], lit).is_some()
        })
    }
}

/// Append `.key` to a JSON path.
fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// Replace each redaction's span (sorted, disjoint) by its marker.
fn apply(hay: &str, found: &[Redaction]) -> String {
    let mut out = String::with_capacity(hay.len());
    let mut at = 0;
    for r in found {
        out.push_str(&hay[at..r.start]);
        out.push_str(MARKER_PREFIX);
        out.push_str(&r.kind);
        out.push(']');
        at = r.end;
    }
    out.push_str(&hay[at..]);
    out
}

/// Byte ranges of the markers already in `hay`.
fn marker_spans(hay: &str) -> Vec<(usize, usize)> {
    let bytes = hay.as_bytes();
    let mut spans = Vec::new();
    for start in memchr::memmem::find_iter(bytes, MARKER_PREFIX.as_bytes()) {
        let name_start = start + MARKER_PREFIX.len();
        let name_len = bytes[name_start..]
            .iter()
            .take(65)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
            .count();
        if name_len > 0 && bytes.get(name_start + name_len) == Some(&b']') {
            spans.push((start, name_start + name_len + 1));
        }
    }
    spans
}

/// Whether `[start, end)` overlaps one of `spans` (sorted, disjoint).
fn overlaps_any(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    let first_ending_after = spans.partition_point(|&(_, e)| e <= start);
    spans.get(first_ending_after).is_some_and(|&(s, _)| s < end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::builtin().unwrap()
    }

    #[test]
    fn preview_never_shows_short_secrets() {
        assert_eq!(preview("abc"), "…(3 chars)");
        assert_eq!(preview("hunter22"), "hu…(8 chars)");
        assert_eq!(
            preview("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "ghp_…(40 chars)"
        );
    }

    #[test]
    fn untouched_text_is_borrowed() {
        let (out, found) = r().redact_str("nothing to see here");
        assert!(matches!(out, Cow::Borrowed(_)));
        assert!(found.is_empty());
    }

    #[test]
    fn overlapping_detections_merge() {
        let text = "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789AB";
        let (out, found) = r().redact_str(text);
        assert_eq!(out, "GITHUB_TOKEN=[REDACTED:github_token]");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start, "GITHUB_TOKEN=".len());
        assert_eq!(found[0].end, text.len());
    }

    #[test]
    fn overlap_with_sorted_spans() {
        let spans = [(2, 5), (10, 12)];
        assert!(!overlaps_any(&spans, 0, 2));
        assert!(overlaps_any(&spans, 0, 3));
        assert!(overlaps_any(&spans, 4, 11));
        assert!(!overlaps_any(&spans, 5, 10));
        assert!(overlaps_any(&spans, 11, 20));
        assert!(!overlaps_any(&spans, 12, 20));
        assert!(!overlaps_any(&[], 0, 20));
    }

    #[test]
    fn counts_per_kind() {
        let (_, found) =
            r().redact_str("AKIAZ3MPLEQ7RT5XW2YB AKIAQ4K7N2B8M5V3C6X9 PASSWORD=hunter2x");
        let counts = count_by_kind(&found);
        assert_eq!(counts.get("aws_access_key"), Some(&2));
        assert_eq!(counts.get("password"), Some(&1));
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn markers_found() {
        let s = "a [REDACTED:jwt] b [REDACTED:] [REDACTED:x y]";
        assert_eq!(marker_spans(s), vec![(2, 16)]);
    }

    #[test]
    fn allow_window_at_edges() {
        let config = RedactConfig {
            patterns: vec![],
            allow: vec!["hunter22".into()],
        };
        let red = Redactor::with_config(&config, Path::new("x")).unwrap();
        assert!(red.allowed("hunter22", 0, 8));
        assert!(red.allowed("pw=hunter22", 3, 11));
        assert!(red.allowed("hunter22", 2, 5));
        assert!(!red.allowed("hunter2", 0, 7));
        assert!(!red.allowed("hunter23", 0, 8));
    }
}
