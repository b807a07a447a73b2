//! Integration tests: redaction precision. The labelled sets in
//! `tests/fixtures/redact/` (synthetic secrets of every kind in the places
//! they occur, and code and prose that only look like secrets) must come
//! out with every secret replaced and every non-secret untouched; the
//! false positives and misses seen on real transcripts are named cases; a
//! secret reaches no field of what is sent (prompt, thinking, tool input,
//! tool result, title, diff), each field redacted as the daemon does.

use std::path::{Path, PathBuf};

use openctl::redact::labelled::{Labelled, Score, Secret};
use openctl::redact::{Redactor, KINDS};
use openctl::transcript::{clean_title, parse_line, Line};
use serde_json::json;

fn redactor() -> Redactor {
    Redactor::builtin().expect("built-in rules")
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redact")
}

fn labelled() -> Labelled {
    Labelled::load(&fixtures_dir()).expect("labelled sets")
}

/// Short, single-line rendering of a case for failure lists.
fn shown(text: &str) -> String {
    let one_line = text.replace('\n', "⏎");
    match one_line.char_indices().nth(140) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

/// Fail listing every failure, out of `total` cases.
fn assert_none(failures: &[String], total: usize, what: &str) {
    assert!(
        failures.is_empty(),
        "{} of {total} {what}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn labelled_sets_are_large_and_cover_every_kind_and_place() {
    let set = labelled();
    assert!(set.secrets.len() >= 200, "{} secrets", set.secrets.len());
    assert!(
        set.not_secrets.len() >= 200,
        "{} non-secrets",
        set.not_secrets.len()
    );
    for kind in KINDS {
        assert!(
            set.secrets.iter().any(|s| s.kind == *kind),
            "no labelled secret of kind {kind}"
        );
    }
    for s in &set.secrets {
        assert!(KINDS.contains(&s.kind.as_str()), "unknown kind {}", s.kind);
    }
    for place in [
        "env", "shell", "header", "url", "json", "yaml", "compose", "k8s", "thinking", "title",
        "diff", "prose",
    ] {
        assert!(
            set.secrets.iter().any(|s| s.place == place),
            "no labelled secret in {place}"
        );
    }
    for why in [
        "real_false_positive",
        "property_access",
        "error_string",
        "type_or_function",
        "placeholder",
        "env_reference",
        "hash",
        "uuid",
        "image",
        "minified",
        "i18n",
        "test_fixture",
    ] {
        assert!(
            set.not_secrets.iter().any(|n| n.why == why),
            "no labelled non-secret for {why}"
        );
    }
}

/// Recall 100 %: every planted secret is gone, replaced by a marker of its
/// kind, and nothing around it is redacted.
#[test]
fn every_labelled_secret_is_redacted() {
    let set = labelled();
    let score = Score::of(&redactor(), &set);
    let failures: Vec<String> = set
        .secrets
        .iter()
        .zip(&score.secrets)
        .filter(|(_, o)| !o.gone || !o.marked || !o.stray.is_empty())
        .map(|(s, o)| {
            let what = if !o.gone {
                "survived"
            } else if !o.marked {
                "wrong kind"
            } else {
                "stray redaction"
            };
            format!("{what} [{} in {}]: {}", s.kind, s.place, shown(&o.output))
        })
        .collect();
    assert_none(&failures, set.secrets.len(), "secrets");
    assert_eq!(score.recall(), 1.0);
}

/// No false positives: every non-secret text comes out byte for byte.
#[test]
fn no_labelled_non_secret_is_touched() {
    let set = labelled();
    let red = redactor();
    let failures: Vec<String> = set
        .not_secrets
        .iter()
        .filter_map(|n| {
            let (out, found) = red.redact_str(&n.text);
            (out != n.text).then(|| {
                let kinds: Vec<&str> = found.iter().map(|r| r.kind.as_ref()).collect();
                format!("[{}] {kinds:?}: {}", n.why, shown(&out))
            })
        })
        .collect();
    assert_none(&failures, set.not_secrets.len(), "non-secrets changed");
    assert_eq!(Score::of(&red, &set).precision(), 1.0);
}

/// The three redactions of code seen in real transcripts, and the lines
/// around them, are labelled `real_false_positive`: all are left alone.
#[test]
fn code_seen_redacted_in_real_transcripts_is_left_alone() {
    let set = labelled();
    let real: Vec<&str> = set
        .not_secrets
        .iter()
        .filter(|n| n.why == "real_false_positive")
        .map(|n| n.text.as_str())
        .collect();
    for named in [
        "privateKey: this.#privateKey",
        "correlationToken = *details.CorrelationToken",
        "'Password is required'",
    ] {
        assert!(real.contains(&named), "{named:?} is not labelled");
    }
    let red = redactor();
    let changed: Vec<String> = real
        .iter()
        .filter(|code| red.redact_str(code).0 != **code)
        .map(|code| shown(code))
        .collect();
    assert_none(&changed, real.len(), "redacted");
}

/// Secrets seen reaching a server verbatim, each with the exact text that
/// must be sent instead.
#[test]
fn secrets_seen_sent_verbatim_are_redacted() {
    let red = redactor();
    for (text, expected) in [
        ("DB_PASS=q7Lp2Vx9Rb", "DB_PASS=[REDACTED:password]"),
        (
            "REDIS_PASS=Nimbus-4417-cactus",
            "REDIS_PASS=[REDACTED:password]",
        ),
        (
            "mysql -h db -u app -pT4ngo!velvet app",
            "mysql -h db -u app -p[REDACTED:password] app",
        ),
        (
            "mysql -u root -pS3cret",
            "mysql -u root -p[REDACTED:password]",
        ),
        (
            "curl -u user:Quartz81!copper https://ci.acme.dev/api/json",
            "curl -u user:[REDACTED:password] https://ci.acme.dev/api/json",
        ),
        (
            "sshpass -p 'Harbor#2291' ssh ops@10.0.4.21",
            "sshpass -p '[REDACTED:password]' ssh ops@10.0.4.21",
        ),
        (
            "GITLAB_TOKEN=glpat-Zq8vN3kLp0Wx7TbR2mYc",
            "GITLAB_TOKEN=[REDACTED:gitlab_token]",
        ),
        (
            "huggingface-cli login --token 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",
            "huggingface-cli login --token [REDACTED:huggingface_token]",
        ),
        (
            "//registry.npmjs.org/:_authToken=npm_Zq8vN3kLp0Wx7TbR2mYcQ4sD9fG1hJ2kL3mN",
            "//registry.npmjs.org/:_authToken=[REDACTED:npm_token]",
        ),
        (
            "SENDGRID_API_KEY=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",
            "SENDGRID_API_KEY=[REDACTED:sendgrid_key]",
        ),
        (
            "https://api.telegram.org/bot7123456789:AAHk3Zq8vN3kLp0Wx7TbR2mYcQ4sD9fG1hJ/getMe",
            "https://api.telegram.org/bot[REDACTED:telegram_bot_token]/getMe",
        ),
        (
            "Cookie: connect.sid=s%3AZq8vN3kLp0Wx7TbR2mYcQ4sD9fG1hJ2k.Lm3Nb4Vc5Xz6As7Df8Gh9Jk0Lq1Wq2Er3Ty4Ui5Op6As7D",
            "Cookie: connect.sid=[REDACTED:session_cookie]",
        ),
        (
            "my password is hunter2-Blue!7, log in as admin",
            "my password is [REDACTED:password], log in as admin",
        ),
    ] {
        let (out, _) = red.redact_str(text);
        assert_eq!(out, expected, "from {text:?}");
    }
    // The prose password of a first prompt is also gone from its title.
    let title = clean_title("my password is hunter2-Blue!7, log in as admin");
    let (out, _) = red.redact_str(&title);
    assert_eq!(out, "my password is [REDACTED:password], log in as admin");
}

/// `text` as the lines a file gains in a unified diff.
fn as_added_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut diff = format!(
        "diff --git a/app.cfg b/app.cfg\n--- a/app.cfg\n+++ b/app.cfg\n@@ -0,0 +1,{} @@\n",
        lines.len()
    );
    for l in lines {
        diff.push('+');
        diff.push_str(l);
        diff.push('\n');
    }
    diff
}

/// Transcript lines carrying `text` as a prompt, in a thinking block, as a
/// tool input and as a tool result.
fn transcript_lines(text: &str) -> Vec<String> {
    let envelope = |uuid: &str, role: &str, content: serde_json::Value| {
        json!({"type": role, "uuid": uuid, "sessionId": "s", "cwd": "/work/app",
               "timestamp": "2026-11-24T10:00:00.000Z",
               "message": {"role": role, "content": content}})
        .to_string()
    };
    vec![
        envelope("u1", "user", json!(text)),
        envelope(
            "a1",
            "assistant",
            json!([{"type": "thinking", "thinking": text, "signature": "c2ln"}]),
        ),
        envelope(
            "a2",
            "assistant",
            json!([{"type": "tool_use", "id": "toolu_1", "name": "Bash",
                    "input": {"command": text, "description": "run it"}}]),
        ),
        envelope(
            "u2",
            "user",
            json!([{"type": "tool_result", "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": text}]}]),
        ),
    ]
}

/// Fail listing what `leaks` finds for any labelled secret.
fn assert_no_leaks(what: &str, leaks: impl Fn(&Redactor, &Secret) -> Vec<String>) {
    let red = redactor();
    let set = labelled();
    let found: Vec<String> = set.secrets.iter().flat_map(|s| leaks(&red, s)).collect();
    assert_none(&found, set.secrets.len(), what);
}

/// Every labelled secret, planted in a prompt, a thinking block, a tool
/// input, a tool result, a title and a diff, reaches none of them.
#[test]
fn a_secret_reaches_no_field_that_is_sent() {
    assert_no_leaks("secrets leaked", |red, s| {
        let mut leaks = Vec::new();
        for (i, line) in transcript_lines(&s.text).iter().enumerate() {
            let Line::Message(mut m) = parse_line(line.as_bytes()) else {
                panic!("line {i} is not a message: {line}");
            };
            red.redact_message(&mut m);
            let sent = serde_json::to_string(&m.content_blocks).unwrap();
            // JSON escapes newlines and quotes: compare the escaped secret.
            let escaped = serde_json::to_string(&s.secret).unwrap();
            if sent.contains(escaped.trim_matches('"')) {
                let field = ["prompt", "thinking", "tool input", "tool result"][i];
                leaks.push(format!("{} in the {field}: {}", s.kind, shown(&s.text)));
            }
        }
        let mut title = s.text.clone();
        red.redact_string(&mut title, "title");
        if title.contains(&s.secret) {
            leaks.push(format!("{} in a title: {}", s.kind, shown(&s.text)));
        }
        let diff = red.redact_str(&as_added_lines(&s.text)).0.into_owned();
        if diff.contains(&s.secret.replace('\n', "\n+")) {
            leaks.push(format!("{} in a diff: {}", s.kind, shown(&s.text)));
        }
        leaks
    });
}

/// A title is cut near 80 characters before it is redacted: no part of a
/// secret that the cut leaves in a title may survive.
#[test]
fn titles_cut_from_first_prompts_keep_no_part_of_a_secret() {
    assert_no_leaks("titles keep part of a secret", |red, s| {
        let title = clean_title(&s.text);
        let (out, _) = red.redact_str(&title);
        // The longest start of the secret the title still holds; a private
        // key's `-----BEGIN … KEY-----` line alone reveals nothing.
        let body = match s.secret.match_indices("-----").nth(1) {
            Some((at, dashes)) if s.secret.starts_with("-----BEGIN") => {
                &s.secret[at + dashes.len()..]
            }
            _ => s.secret.as_str(),
        };
        let secret = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let kept = (1..=secret.len())
            .rev()
            .filter(|&n| secret.is_char_boundary(n))
            .map(|n| &secret[..n])
            .find(|head| title.contains(head))
            .unwrap_or("");
        if kept.chars().count() >= 6 && out.contains(kept) {
            vec![format!("{}: {out}", s.kind)]
        } else {
            Vec::new()
        }
    });
}
