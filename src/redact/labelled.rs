//! Labelled look-alike sets for measuring the rules: secrets that must be
//! redacted and code or prose that must be left alone
//! (`tests/fixtures/redact/`, synthetic). Used by the precision tests and
//! by `cargo bench --bench redact`, so both count the same way.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::{marker, Redaction, Redactor};

/// File of the secret set in the fixtures directory.
pub const SECRETS_FILE: &str = "secrets.jsonl";
/// File of the non-secret set.
pub const NOT_SECRETS_FILE: &str = "not_secrets.jsonl";

/// A text holding one planted secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    pub text: String,
    /// The substring of `text` that must disappear.
    pub secret: String,
    /// The kind its marker must name.
    pub kind: String,
    /// Where such text occurs: `env`, `shell`, `header`, `diff`, `title`…
    #[serde(rename = "where")]
    pub place: String,
}

/// A text that holds no secret and must come out byte for byte.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotSecret {
    pub text: String,
    /// Why it looks like a secret: `property_access`, `placeholder`…
    pub why: String,
}

/// Both sets.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub secrets: Vec<Secret>,
    pub not_secrets: Vec<NotSecret>,
}

impl Labelled {
    /// Read `secrets.jsonl` and `not_secrets.jsonl` from `dir`; every
    /// secret must occur in its text.
    pub fn load(dir: &Path) -> Result<Labelled> {
        let secrets: Vec<Secret> = read_jsonl(&dir.join(SECRETS_FILE))?;
        for (i, s) in secrets.iter().enumerate() {
            anyhow::ensure!(
                !s.secret.is_empty() && s.text.contains(&s.secret),
                "{SECRETS_FILE}:{}: the secret is not in the text",
                i + 1
            );
        }
        let not_secrets = read_jsonl(&dir.join(NOT_SECRETS_FILE))?;
        Ok(Labelled {
            secrets,
            not_secrets,
        })
    }
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1))
        })
        .collect()
}

/// What the redactor did to one labelled secret.
#[derive(Debug, Clone)]
pub struct SecretOutcome {
    /// The redacted text.
    pub output: String,
    /// The secret no longer occurs in the output.
    pub gone: bool,
    /// The output holds a marker of the labelled kind.
    pub marked: bool,
    /// Redactions that do not touch the secret (false positives).
    pub stray: Vec<Redaction>,
}

/// How the rules did on both sets.
#[derive(Debug, Clone)]
pub struct Score {
    pub secrets: Vec<SecretOutcome>,
    /// Per non-secret text: the redactions made in it (all false).
    pub not_secrets: Vec<Vec<Redaction>>,
}

impl Score {
    /// Run `red` over both sets.
    pub fn of(red: &Redactor, set: &Labelled) -> Score {
        let secrets = set
            .secrets
            .iter()
            .map(|s| {
                let (out, found) = red.redact_str(&s.text);
                let spans: Vec<(usize, usize)> = s
                    .text
                    .match_indices(s.secret.as_str())
                    .map(|(at, m)| (at, at + m.len()))
                    .collect();
                let stray = found
                    .into_iter()
                    .filter(|r| !spans.iter().any(|&(a, b)| r.start < b && a < r.end))
                    .collect();
                SecretOutcome {
                    gone: !out.contains(s.secret.as_str()),
                    marked: out.contains(&marker(&s.kind)),
                    output: out.into_owned(),
                    stray,
                }
            })
            .collect();
        let not_secrets = set.not_secrets.iter().map(|n| red.find(&n.text)).collect();
        Score {
            secrets,
            not_secrets,
        }
    }

    /// Redactions of text that is not a secret, in either set.
    pub fn false_positives(&self) -> usize {
        self.not_secrets.iter().map(Vec::len).sum::<usize>()
            + self.secrets.iter().map(|o| o.stray.len()).sum::<usize>()
    }

    /// Share of the redactions that hit a secret, counting each secret
    /// that is gone once (1 when nothing was redacted).
    pub fn precision(&self) -> f64 {
        let tp = self.secrets.iter().filter(|o| o.gone).count();
        ratio(tp, tp + self.false_positives())
    }

    /// Share of the planted secrets that are gone from the output.
    pub fn recall(&self) -> f64 {
        ratio(
            self.secrets.iter().filter(|o| o.gone).count(),
            self.secrets.len(),
        )
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}
