//! Integration tests: redact. The engine on planted secrets of every kind,
//! on our own transcripts (nothing ordinary may change), on a 10 MB text,
//! and with a user `redact.json`.

use std::path::{Path, PathBuf};

use openctl::redact::{marker, Redaction, Redactor, KINDS};
use openctl::transcript::{parse_line, Line};
use openctl::wire::Message;
use serde_json::json;

use crate::common::{fixture, own_transcripts, read_bytes, read_text, OWN_TRANSCRIPTS};

fn redactor() -> Redactor {
    Redactor::builtin().expect("built-in rules")
}

/// A fake secret of every built-in kind: (kind, text around it, the secret
/// itself as it must disappear). Shapes follow the real formats; none of
/// them is a live credential.
fn planted() -> Vec<(&'static str, String, String)> {
    let mut v: Vec<(&'static str, String, String)> = Vec::new();
    let mut add = |kind: &'static str, before: &str, secret: &str, after: &str| {
        v.push((kind, format!("{before}{secret}{after}"), secret.to_string()));
    };
    // Formats that once reached a server verbatim.
    add(
        "gitlab_token",
        "git clone https://oauth2:",
        "glpat-JRftKdoahYAl0kGthaqd",
        "@gitlab.com/g/p",
    );
    add(
        "huggingface_token",
        "login with ",
        "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",
        " then pull",
    );
    add(
        "npm_token",
        "//registry.npmjs.org/:_authToken=",
        "npm_SL5Ech5ClV7NxwZ3UsELtOmTK0G8MGnzQoeC",
        "\n",
    );
    add(
        "sendgrid_key",
        "mail key ",
        "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",
        " set",
    );
    add(
        "telegram_bot_token",
        "bot ",
        "5097895728:AA-T1YSGz1CjaMiybkyLnlfHZ399ApWeI40",
        " ready",
    );
    add(
        "session_cookie",
        "Cookie: connect.sid=",
        "s%3ASNuDw_Zx3uS3XRuq6jVP8Yj0Wl9tERRr.5ELtr6w6j8EDLh5APElL62QXgtPWY0IB4LN0%2BRp9H47",
        "",
    );
    add(
        "aws_access_key",
        "aws configure: key ",
        "AKIAZ3MPLEQ7RT5XW2YB",
        " done",
    );
    add(
        "aws_access_key",
        "temporary: ",
        "ASIAQ4K7N2B8M5V3C6X9",
        "\n",
    );
    add(
        "aws_secret_key",
        "aws_secret_access_key = ",
        "q8Zr3mK1vT5nB7yX2cW4pL6dF9gH0jS1aE3uR5tY",
        "\n",
    );
    add(
        "github_token",
        "git remote set-url origin https://x:",
        "ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0nlyAbCdEf",
        "@github.com/o/r",
    );
    add(
        "github_token",
        "export GH=",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV",
        "",
    );
    add(
        "github_token",
        "oauth ",
        "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        ".",
    );
    add(
        "anthropic_key",
        "ANTHROPIC_KEY_USED ",
        "sk-ant-api03-Xy7_Qw3-Er5Ty8Ui1Op4As6Df9Gh2Jk5Lz8Xc1Vb4Nm7Qw0Er3Ty6Ui9Op2As5Df8Gh1Jk4Lz7Xc0Vb3Nm6QwAA",
        " in the request",
    );
    add(
        "openai_key",
        "client = OpenAI(api_key=\"",
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8x",
        "\")",
    );
    add(
        "openai_key",
        "old key ",
        "sk-Ab3dEf6hIj9kLm2nOp5qRs8tT3BlbkFJUv1wXy4zAb7cDe0fGh3iJk",
        " revoked",
    );
    add(
        "slack_token",
        "SLACK: ",
        "xoxb-2718281828-3141592653589-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2",
        "\n",
    );
    add(
        "slack_token",
        "curl -X POST https://hooks.slack.com/services/",
        "T0AB1CD2E/B0FG3HI4J/Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2",
        " -d '{}'",
    );
    add(
        "stripe_key",
        "stripe.api_key = ",
        "sk_live_51HxYzAbCdEfGhIjKlMnOpQrSt",
        "\n",
    );
    add(
        "stripe_key",
        "test mode ",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "",
    );
    add(
        "google_api_key",
        "maps?key=",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        "&q=x",
    );
    add(
        "jwt",
        "Authorization: ",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "\n",
    );
    add(
        "private_key",
        "$ cat id_rsa\n",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----",
        "\n$ ",
    );
    add(
        "private_key",
        "{\"private_key\": \"",
        "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END PRIVATE KEY-----\\n",
        "\"}",
    );
    add("password", "DB_PASSWORD=", "Tr0ub4dor&3", "\nDB_HOST=db");
    add("password", "  password: ", "hunter2!", "\n");
    add(
        "secret",
        "{\"client_secret\": \"",
        "my client secret value",
        "\"}",
    );
    add("token", "token = \"", "f00b4rb4zqux", "\"\n");
    add(
        "api_key",
        "X_API_KEY=",
        "Qm9vTXlTZWNyZXRLZXkxMjM0NTY3OA",
        "\n",
    );
    add(
        "url_credentials",
        "DATABASE_URL_X: postgres://admin:",
        "s3cr3tP4ss",
        "@db.example.com:5432/app",
    );
    add(
        "high_entropy",
        "SESSION_COOKIE_VALUE=",
        "Zq8vN3kLp0Wx7TbR2mYcQ4sD",
        "\n",
    );
    add(
        "high_entropy",
        "curl -H 'Authorization: Bearer ",
        "Zq8vN3kLp0Wx7TbR2mYcQ4sD9fG",
        "' https://api.example.com",
    );
    // Hex keys: all-hex values next to key-like names.
    add(
        "high_entropy",
        "ENCRYPTION_KEY=",
        "d22bc083a7279b0b2455f0dae2d7df539fd077a29effe3c2b668c80ea616813c",
        "\n",
    );
    add(
        "high_entropy",
        "SECRET_KEY_BASE=",
        "9060ded6a87f5a72887836694ccbea0f5d4fb482edb138511958d92b6f3a752a8b1af1d3e40bd03b810d15b5b41c366e9314cdb1d39f5446f7d5597399c76270",
        "\n",
    );
    add(
        "high_entropy",
        "  HMAC_SIGNING_KEY: '",
        "52dc37e6df4ab2db304f93b7224a494c",
        "'\n",
    );
    v
}

#[test]
fn every_planted_kind_is_replaced_by_its_marker() {
    let red = redactor();
    let mut seen: Vec<&str> = Vec::new();
    for (kind, text, secret) in planted() {
        let (out, found) = red.redact_str(&text);
        assert!(
            out.contains(&marker(kind)),
            "{kind}: no marker in {out:?} (found {found:?})"
        );
        assert!(!out.contains(&secret), "{kind}: secret survived in {out:?}");
        assert_eq!(found.len(), 1, "{kind}: {found:?}");
        let r = &found[0];
        assert_eq!(r.kind, kind);
        assert_eq!(&text[r.start..r.end], secret, "{kind}: span");
        assert!(!r.preview.contains(&secret), "{kind}: preview leaks");
        assert!(r.preview.contains('…'));
        // Exactly the secret is replaced: everything around it is kept.
        let expected = text.replacen(&secret, &marker(kind), 1);
        assert_eq!(out, expected, "{kind}");
        seen.push(kind);
    }
    for kind in KINDS {
        assert!(seen.contains(kind), "no planted secret of kind {kind}");
    }
}

#[test]
fn key_names_and_url_parts_are_kept() {
    let red = redactor();
    let cases = [
        ("DB_PASSWORD=Tr0ub4dor&3", "DB_PASSWORD=[REDACTED:password]"),
        ("password: hunter2!", "password: [REDACTED:password]"),
        (
            r#"{"secret": "value that is secret"}"#,
            r#"{"secret": "[REDACTED:secret]"}"#,
        ),
        ("token = 'f00b4rb4z'", "token = '[REDACTED:token]'"),
        (
            "export API_KEY=abcd1234efgh",
            "export API_KEY=[REDACTED:api_key]",
        ),
        (
            "--password=letmein99 --user bob",
            "--password=[REDACTED:password] --user bob",
        ),
        (
            "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1lMTIz",
            "Authorization: Basic [REDACTED:high_entropy]",
        ),
        (
            "redis://default:pa55word@cache.internal:6379",
            "redis://default:[REDACTED:url_credentials]@cache.internal:6379",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(red.redact_str(input).0, want, "{input}");
    }
}

#[test]
fn code_prose_and_placeholders_are_not_secrets() {
    let red = redactor();
    for text in [
        "token = self.next_token()",
        "let token: &str = input;",
        "password: str",
        "def login(password: str, token: Optional[str] = None):",
        "max_tokens = 4096",
        "tokenizer = AutoTokenizer.from_pretrained(name)",
        "client = Client(api_key=api_key)",
        "PASSWORD=$DB_PASSWORD",
        "password: ${{ secrets.DB_PASSWORD }}",
        "token: <your-token-here>",
        "API_KEY=your_api_key_here",
        "export OPENAI_API_KEY=\"your-key\"",
        "SECRET_TOKEN=put_token_here",
        "Token: gho_************************************",
        "token: Guide a developer through launching a token",
        "secret = os.environ[\"SECRET\"]",
        "if token == expected:",
        "commit 0123456789abcdef0123456789abcdef01234567",
        "session_id: 550e8400-e29b-41d4-a716-446655440000",
        "cache_key: src/commands/session.rs",
        "git@github.com:openctl/openctl.git",
        "https://user@example.com/path",
        "ask-me-anything-about-risk-management-please",
        "see docs/the-token-lifecycle-and-refresh.md",
        "-----BEGIN PUBLIC KEY-----",
        "if pem.starts_with(\"-----BEGIN PRIVATE KEY-----\") {",
        // Hex that is not a secret: UUIDs, commit hashes, checksums.
        "api_key_id: 550e8400-e29b-41d4-a716-446655440000",
        "session: 4e1243bd22c66e76c2ba9eddc1f91394e57f9f83",
        "auth_commit=4e1243bd22c66e76c2ba9eddc1f91394e57f9f83",
        "signing_key_sha256: d22bc083a7279b0b2455f0dae2d7df539fd077a29effe3c2b668c80ea616813c",
        "token_checksum = \"d22bc083a7279b0b2455f0dae2d7df539fd077a29effe3c2b668c80ea616813c\"",
        "SECRET_DIGEST=d22bc083a7279b0b2455f0dae2d7df539fd077a29effe3c2b668c80ea616813c",
        "cookie-etag: 52dc37e6df4ab2db304f93b7224a494c52dc37e6df4ab2db",
        "auth_rev: 4e1243bd22c66e76c2ba9eddc1f91394e57f9f83",
        "cache_key: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        let (out, found) = red.redact_str(text);
        assert!(found.is_empty(), "false positive in {text:?}: {found:?}");
        assert_eq!(out, text);
    }
}

#[test]
fn redacting_twice_is_redacting_once() {
    let red = redactor();
    let all: String = planted()
        .into_iter()
        .map(|(_, text, _)| text)
        .collect::<Vec<_>>()
        .join("\n");
    let (once, found) = red.redact_str(&all);
    assert!(found.len() >= KINDS.len());
    let (twice, again) = red.redact_str(&once);
    assert!(again.is_empty(), "markers re-redacted: {again:?}");
    assert_eq!(once, twice);

    let mut msg = message_with_secrets();
    assert!(!red.redact_message(&mut msg).is_empty());
    let snapshot = msg.clone();
    assert!(red.redact_message(&mut msg).is_empty());
    assert_eq!(msg, snapshot);
}

fn message_with_secrets() -> Message {
    Message {
        role: "assistant".into(),
        content_blocks: vec![
            json!({"type": "text", "text": "key AKIAZ3MPLEQ7RT5XW2YB"}),
            json!({"type": "thinking", "thinking": "the token is ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0nlyAbCdEf"}),
            json!({"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {
                "command": "psql postgres://admin:s3cr3tP4ss@db/app",
                "env": {"password": "plain words here", "nested": ["xoxb-2718281828-3141592653589-Zx9Yw8Vu7Ts6"]},
                "description": "connect"
            }}),
            json!({"type": "tool_result", "tool_use_id": "toolu_01", "content": "STRIPE=sk_live_51HxYzAbCdEfGhIjKlMnOpQrSt\n"}),
            json!({"type": "image", "source": {"type": "base64", "media_type": "image/png",
                "data": "iVBORw0KGgoAAAANSUhEUgAIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6QAKIAZ3MPLEQ7RT5XW2YB"}}),
        ],
        timestamp: Some("2025-01-01T00:00:00Z".into()),
        kind: None,
        agent_id: None,
        parent_tool_use_id: None,
        uuid: Some("6f1f0a8e-7c52-4d49-9a0c-8d0f1d0f3a11".into()),
    }
}

#[test]
fn message_blocks_are_walked_and_structure_kept() {
    let red = redactor();
    let mut msg = message_with_secrets();
    let found = red.redact_message(&mut msg);
    let where_kind: Vec<(&str, &str)> = found
        .iter()
        .map(|r| (r.path.as_str(), r.kind.as_ref()))
        .collect();
    assert_eq!(
        where_kind,
        vec![
            ("content_blocks[0].text", "aws_access_key"),
            ("content_blocks[1].thinking", "github_token"),
            ("content_blocks[2].input.command", "url_credentials"),
            ("content_blocks[2].input.env.password", "password"),
            ("content_blocks[2].input.env.nested[0]", "slack_token"),
            ("content_blocks[3].content", "stripe_key"),
        ]
    );
    let b = &msg.content_blocks;
    assert_eq!(b[0]["text"], "key [REDACTED:aws_access_key]");
    assert_eq!(b[1]["thinking"], "the token is [REDACTED:github_token]");
    assert_eq!(b[2]["id"], "toolu_01");
    assert_eq!(b[2]["name"], "Bash");
    assert_eq!(
        b[2]["input"]["command"],
        "psql postgres://admin:[REDACTED:url_credentials]@db/app"
    );
    // Keys are kept, values redacted.
    assert_eq!(b[2]["input"]["env"]["password"], "[REDACTED:password]");
    assert_eq!(b[2]["input"]["env"]["nested"][0], "[REDACTED:slack_token]");
    assert_eq!(b[2]["input"]["description"], "connect");
    assert_eq!(b[3]["tool_use_id"], "toolu_01");
    assert_eq!(b[3]["content"], "STRIPE=[REDACTED:stripe_key]\n");
    // Base64 image data is binary: never touched, even when it happens to
    // contain key-shaped runs.
    assert_eq!(b[4], message_with_secrets().content_blocks[4]);
    assert_eq!(msg.uuid, message_with_secrets().uuid);
}

#[test]
fn redact_json_keeps_keys_and_redacts_values() {
    let red = redactor();
    let mut v = json!({
        "api_key": "Qm9vTXlTZWNyZXRLZXkxMjM0NTY3OA",
        "signing_salt": "Zq8vN3kLp0Wx7TbR2mYcQ4sD",
        "ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0nlyAbCdEf": "keys are never changed",
        "list": [1, true, null, "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
        "max_tokens": "4096",
        "session": "550e8400-e29b-41d4-a716-446655440000"
    });
    let found = red.redact_json(&mut v);
    assert_eq!(
        v,
        json!({
            "api_key": "[REDACTED:api_key]",
            "signing_salt": "[REDACTED:high_entropy]",
            "ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0nlyAbCdEf": "keys are never changed",
            "list": [1, true, null, "jwt [REDACTED:jwt]"],
            "max_tokens": "4096",
            "session": "550e8400-e29b-41d4-a716-446655440000"
        })
    );
    let paths: Vec<&str> = found.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, vec!["api_key", "signing_salt", "list[3]"]);
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("redact.json"), text).expect("write redact.json");
}

#[test]
fn allowlist_and_custom_patterns_from_redact_json() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        r#"{
          "patterns": [
            {"name": "internal_host", "regex": "[a-z0-9-]+\\.corp\\.example\\.com"},
            {"name": "employee_id", "regex": "EMP-(?P<value>[0-9]{6})"}
          ],
          "allow": ["AKIAIOSFODNN7EXAMPLE", "postgres://dev:devpass@localhost", "changeme-local"]
        }"#,
    );
    let red = Redactor::load(dir.path()).expect("load");
    assert!(red.kinds().contains(&"internal_host"));
    let text = "docs key AKIAIOSFODNN7EXAMPLE, real key AKIAZ3MPLEQ7RT5XW2YB; \
                local postgres://dev:devpass@localhost/db; \
                host build-01.corp.example.com; badge EMP-123456";
    let (out, found) = red.redact_str(text);
    assert_eq!(
        out,
        "docs key AKIAIOSFODNN7EXAMPLE, real key [REDACTED:aws_access_key]; \
         local postgres://dev:devpass@localhost/db; \
         host [REDACTED:internal_host]; badge EMP-[REDACTED:employee_id]"
    );
    let kinds: Vec<&str> = found.iter().map(|r| r.kind.as_ref()).collect();
    assert_eq!(
        kinds,
        vec!["aws_access_key", "internal_host", "employee_id"]
    );

    // The allowlist also protects whole values under credential-like keys.
    let mut v = json!({"password": "changeme-local", "db_password": "changeme-local2"});
    let found = red.redact_json(&mut v);
    assert_eq!(v["password"], "changeme-local");
    assert_eq!(v["db_password"], "[REDACTED:password]");
    assert_eq!(found.len(), 1);

    // Without the file: built-ins only, and the example key is redacted.
    let empty = tempfile::tempdir().unwrap();
    let plain = Redactor::load(empty.path()).expect("load without file");
    assert!(plain
        .redact_str("AKIAIOSFODNN7EXAMPLE")
        .0
        .contains("[REDACTED:aws_access_key]"));
}

#[test]
fn bad_redact_json_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("redact.json");
    let cases = [
        (
            r#"{"patterns": [{"name": "broken", "regex": "a(b"}]}"#,
            "broken",
        ),
        (r#"{"patterns": [{"name": "x"}]}"#, "regex"),
        (r#"{"allowlist": ["x"]}"#, "allowlist"),
        ("not json", "expected"),
        (
            r#"{"patterns": [{"name": "[bad]", "regex": "x"}]}"#,
            "invalid name",
        ),
    ];
    for (text, needle) in cases {
        write_config(dir.path(), text);
        let err = Redactor::load(dir.path()).expect_err(text);
        let msg = format!("{err:#}");
        assert!(msg.contains(&file.display().to_string()), "{msg}");
        assert!(msg.contains(needle), "{needle} not in {msg}");
    }
}

/// Every message of every transcript, as the daemon would send it, with
/// its file and line number.
fn transcript_messages(paths: &[PathBuf]) -> Vec<(String, usize, Message)> {
    let mut out = Vec::new();
    for path in paths {
        let bytes = read_bytes(path);
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if let Line::Message(m) = parse_line(line) {
                out.push((path.display().to_string(), i + 1, *m));
            }
        }
    }
    out
}

/// Redacting every message of the transcripts changes nothing. Returns
/// (messages, content blocks) seen.
pub(crate) fn assert_messages_unchanged(paths: &[PathBuf]) -> (usize, usize) {
    let red = redactor();
    let messages = transcript_messages(paths);
    let mut changed: Vec<(String, usize, Redaction)> = Vec::new();
    let mut blocks = 0usize;
    for (file, line, original) in &messages {
        let mut m = original.clone();
        for r in red.redact_message(&mut m) {
            changed.push((file.clone(), *line, r));
        }
        if changed.is_empty() {
            assert_eq!(&m, original, "{file}:{line} changed without a redaction");
        }
        blocks += m.content_blocks.len();
    }
    assert!(
        changed.is_empty(),
        "false positives: {:#?}",
        changed
            .iter()
            .map(|(f, l, r)| format!("{f}:{l} {} {} {}", r.path, r.kind, r.preview))
            .collect::<Vec<_>>()
    );
    (messages.len(), blocks)
}

/// The raw text of each transcript (bookkeeping lines too) holds nothing
/// that looks like a secret.
pub(crate) fn assert_raw_text_clean(paths: &[PathBuf]) {
    let red = redactor();
    for path in paths {
        let text = read_text(path);
        let found = red.find(&text);
        let shown: Vec<String> = found
            .iter()
            .map(|r| {
                let from = r.start.saturating_sub(40);
                let from = (0..=from)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                format!("{} {} near {:?}", r.kind, r.preview, &text[from..r.start])
            })
            .collect();
        assert!(found.is_empty(), "{}: {shown:#?}", path.display());
    }
}

/// 10 MB made of the first 64 KB of `base` again and again, with a secret
/// of every kind planted in turn between the copies: the output must be
/// exactly the input with each secret replaced.
pub(crate) fn assert_ten_megabytes_with_planted_secrets(base: &str) {
    let red = redactor();
    let chunk = &base[..base
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i >= 64 * 1024)
        .unwrap_or(base.len())];
    assert!(
        chunk.len() >= 64 * 1024,
        "{} bytes of base text",
        base.len()
    );
    let planted = planted();
    let mut input = String::with_capacity(11 << 20);
    let mut expected = String::with_capacity(11 << 20);
    let mut n = 0usize;
    while input.len() < 10 << 20 {
        input.push_str(chunk);
        expected.push_str(chunk);
        let (kind, text, secret) = &planted[n % planted.len()];
        input.push('\n');
        expected.push('\n');
        input.push_str(text);
        expected.push_str(&text.replacen(secret.as_str(), &marker(kind), 1));
        input.push('\n');
        expected.push('\n');
        n += 1;
    }
    assert!(n >= 150);
    let (out, found) = red.redact_str(&input);
    assert_eq!(found.len(), n);
    assert!(
        out == expected,
        "10 MB output differs from the expected text"
    );
    for (_, _, secret) in &planted {
        assert!(!out.contains(secret.as_str()));
    }
}

#[test]
fn fixtures_ordinary_content_is_unchanged() {
    let env = crate::common::TestEnv::new();
    let own = own_transcripts(env.path());
    let paths: Vec<PathBuf> = own.iter().map(|(p, _)| p.clone()).collect();
    let (messages, blocks) = assert_messages_unchanged(&paths);
    // Every message of every file (the truncated file's complete lines
    // too), among them code, paths, UUIDs, commit hashes, thinking
    // signatures, redacted thinking, base64 PNGs and a 2 MB CSV.
    let want: usize = own.iter().map(|(_, e)| e.messages()).sum();
    assert_eq!(messages, want);
    assert!(blocks >= want, "{blocks} content blocks");
}

#[test]
fn raw_fixture_text_has_no_false_positives() {
    let env = crate::common::TestEnv::new();
    let paths: Vec<PathBuf> = own_transcripts(env.path())
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_raw_text_clean(&paths);
}

/// 10 MB of our transcripts' text with secrets planted at known places.
#[test]
fn ten_megabytes_with_planted_secrets() {
    let base: String = OWN_TRANSCRIPTS
        .iter()
        .map(|e| read_text(&fixture(e.name)))
        .collect();
    assert_ten_megabytes_with_planted_secrets(&base);
}

#[test]
fn private_keys_cut_off_or_quoted() {
    let red = redactor();
    // `head -3 key.pem`: no END line, the body is still a secret.
    let cut = "$ head -3 key.pem\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDxYz3mHq4kP9rT2uW5vX8yZ1aB3cD4eF6gH7iJ8kL9mA==\n$ ";
    let (out, found) = red.redact_str(cut);
    assert_eq!(out, "$ head -3 key.pem\n[REDACTED:private_key]\n$ ");
    assert_eq!(found.len(), 1);
    // A header quoted in code must not swallow everything up to a later END.
    let code = "if pem.starts_with(\"-----BEGIN PRIVATE KEY-----\") { parse(pem) }\n\
                lots of ordinary code in between\n\
                const FOOTER: &str = \"-----END PRIVATE KEY-----\";";
    let (out, found) = red.redact_str(code);
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(out, code);
}

/// Short strings go through the RegexSet prefilter, long ones (> 64 KB)
/// through each rule directly: both must find the same secrets.
#[test]
fn long_and_short_strings_agree() {
    let red = redactor();
    let padding = "ordinary words and code(); ".repeat(4000);
    assert!(padding.len() > 64 * 1024);
    for (kind, text, secret) in planted() {
        let long = format!("{padding}{text}{padding}");
        let (out, found) = red.redact_str(&long);
        assert_eq!(found.len(), 1, "{kind}");
        assert_eq!(found[0].kind, kind);
        assert_eq!(found[0].start, padding.len() + text.find(&secret).unwrap());
        assert!(!out.contains(&secret), "{kind}");
    }
}

/// End to end through the real CLI, daemon and server: planted secrets of
/// every kind never reach the server (checked on the stored JSON), their
/// markers do, also in the title; with `redact` off for a server they pass.
#[test]
fn planted_secrets_never_reach_the_server() {
    use crate::common::*;
    use std::time::Duration;

    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let guarded = TestServer::start(&env);
    let open = TestServer::start_with(&env, &env.path().join("open.db"), &[]);
    let p = env.git_repo("proj", Some("https://github.com/Acme/App"));
    let p = p.canonicalize().unwrap();
    let planted = planted();
    let session = "5ec7e700-0000-4000-8000-000000000001";
    let (_, first_text, first_secret) = &planted[0];
    let mut lines = vec![user_line("u0", &p, first_text)];
    for (i, (_, text, _)) in planted.iter().enumerate() {
        lines.push(match i % 3 {
            0 => assistant_line(&format!("a{i}"), &p, text),
            1 => serde_json::json!({
                "type": "assistant", "uuid": format!("t{i}"), "cwd": p,
                "message": {"role": "assistant", "content": [
                    {"type": "tool_use", "id": format!("toolu_{i}"), "name": "Bash",
                     "input": {"command": text}}]}})
            .to_string(),
            _ => serde_json::json!({
                "type": "user", "uuid": format!("r{i}"), "cwd": p,
                "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": format!("toolu_{i}"),
                     "content": [{"type": "text", "text": text}]}]}})
            .to_string(),
        });
    }
    env.write_session(&p, session, &lines);
    env.ok(&["config", "set", "redact", "false", "-s", &open.url]);

    let mut ids = Vec::new();
    for server in [&guarded, &open] {
        let out = env
            .cmd(&[
                "share",
                session,
                "--allow-repo",
                "-s",
                &server.url,
                "--json",
            ])
            .current_dir(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.push(v["server_session_id"].as_str().unwrap().to_string());
    }
    // Even the title sent by `share` itself, before the daemon runs.
    let first_title = guarded.get_session(&ids[0])["session"]["title"].to_string();
    assert!(
        !first_title.contains(first_secret.as_str()),
        "{first_title}"
    );
    assert!(first_title.contains(&marker(planted[0].0)), "{first_title}");
    let stored = |server: &TestServer, id: &str| -> String {
        wait_for("every message stored", Duration::from_secs(30), || {
            let v = server.get_session(id);
            (v["messages"].as_array().unwrap().len() == lines.len()).then(|| v.to_string())
        })
    };
    let safe = stored(&guarded, &ids[0]);
    for (kind, _, secret) in &planted {
        assert!(
            !safe.contains(secret.as_str()),
            "{kind} reached the server: {secret}"
        );
        assert!(
            safe.contains(&marker(kind)),
            "no {kind} marker on the server"
        );
    }
    let title = wait_for("title patched", Duration::from_secs(30), || {
        let t = guarded.get_session(&ids[0])["session"]["title"]
            .as_str()
            .unwrap()
            .to_string();
        (t != "Live Session").then_some(t)
    });
    assert!(!title.contains(first_secret.as_str()), "{title}");
    let pair = daemon_pair(&env, session, &guarded.url).unwrap();
    assert!(
        pair["redactions"].as_u64().unwrap() >= planted.len() as u64,
        "{pair}"
    );

    // The log tells how many secrets were redacted per session, never them.
    let log = std::fs::read_to_string(env.openctl_home.join("daemon.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("session={session}")) && l.contains("redactions=")),
        "{log}"
    );
    for (kind, _, secret) in &planted {
        assert!(
            !log.contains(secret.as_str()),
            "{kind} secret in the daemon log"
        );
    }

    let raw = stored(&open, &ids[1]);
    assert!(
        raw.contains(first_secret.as_str()),
        "redact off sends the text as is"
    );
}

// ---- base64 images ----------------------------------------------------------

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= n {
                out.push(ALPHABET[(v >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes a base64 text without padding (a multiple of 4 characters)
/// encodes.
fn unbase64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    assert_eq!(text.len() % 4, 0);
    let mut out = Vec::new();
    for group in text.as_bytes().chunks(4) {
        let v = group
            .iter()
            .fold(0u32, |acc, &c| (acc << 6) | u32::from(value(c)));
        out.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Runs that look like secrets to the rules when they are read as text
/// (word-bounded AWS and Google key shapes), placed at 3-byte-aligned
/// offsets so the PNG's base64 contains them verbatim. Random base64 holds
/// such runs by chance; these make it certain.
const KEY_SHAPED_RUNS: [&str; 2] = [
    "+AKIAZ3MPLEQ7RT5XW2YB/xy",
    "/AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q+Zz",
];

/// A real PNG (signature, IHDR, one IDAT, IEND, valid CRCs) of `size`
/// bytes: a 1280x800 screenshot whose compressed pixel stream is noise.
fn screenshot_png(size: usize) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&1280u32.to_be_bytes());
    ihdr.extend_from_slice(&800u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA
    png_chunk(&mut png, b"IHDR", &ihdr);
    let idat_start = png.len() + 8;
    let mut rng = fastrand::Rng::with_seed(0x5c4ee9);
    let mut idat: Vec<u8> = vec![0x78, 0x9c];
    idat.extend((0..size).map(|_| rng.u8(..)));
    for (i, run) in KEY_SHAPED_RUNS.iter().enumerate() {
        let padded = format!("{run}{}", "A".repeat((4 - run.len() % 4) % 4));
        let bytes = unbase64(&padded);
        let at = (size / 3 * (i + 1)).next_multiple_of(3);
        let offset = at - idat_start;
        idat[offset..offset + bytes.len()].copy_from_slice(&bytes);
    }
    png_chunk(&mut png, b"IDAT", &idat);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A screenshot pasted into Claude Code is a base64 PNG block of the user's
/// message: binary data that must reach the server byte for byte, however
/// many key-shaped runs it happens to contain, while the text next to it is
/// still redacted. (Screenshots inside tool results become `[image]` text
/// in the wire format: see the transcript module.)
#[test]
fn large_base64_png_screenshots_survive_untouched() {
    let red = redactor();
    let png = screenshot_png(1536 * 1024);
    let data = base64(&png);
    assert!(data.starts_with("iVBORw0KGgo"), "a PNG's base64");
    assert!(data.len() > 2_000_000);
    for run in KEY_SHAPED_RUNS {
        assert!(data.contains(run), "{run} not in the image data");
    }
    // Read as text, the data would be redacted: the test can fail.
    assert!(red.find(&data).len() >= 2);

    let image = json!({"type": "image", "source": {
        "type": "base64", "media_type": "image/png", "data": data}});
    let pasted = json!({
        "type": "user", "uuid": "11111111-2222-4333-8444-555555555555", "cwd": "/p",
        "timestamp": "2026-11-24T10:00:00.000Z",
        "message": {"role": "user", "content": [
            image,
            {"type": "text", "text": "why does login fail? the key is AKIAZ3MPLEQ7RT5XW2YB"},
            image]}
    });
    let Line::Message(original) = parse_line(pasted.to_string().as_bytes()) else {
        panic!("not a message");
    };
    let mut check = (*original).clone();
    let found = red.redact_message(&mut check);
    assert_eq!(found.len(), 1, "only the secret in the text: {found:?}");
    assert_eq!(found[0].path, "content_blocks[1].text");
    let (sent, n) = openctl::daemon::stream::prepare_for_send((*original).clone(), Some(&red));
    assert_eq!(n, 1);
    assert_eq!(sent, check);
    assert_eq!(
        sent.content_blocks[1]["text"],
        "why does login fail? the key is [REDACTED:aws_access_key]"
    );
    for i in [0, 2] {
        assert_eq!(sent.content_blocks[i], image, "image block {i} changed");
        assert_eq!(sent.content_blocks[i]["source"]["data"], data.as_str());
    }
}

// ---- end to end: dry run, a bad redact.json, diffs, counts, the log --------

const E2E_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Every file under `dir` with its bytes (an empty list when it is missing).
fn tree(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

/// `share --dry-run` never writes state and never talks to a server, also
/// for a repository not allowed yet (reported instead of asked for, with
/// or without `--allow-repo`, off a terminal too).
#[test]
fn dry_run_writes_no_state_and_contacts_no_server() {
    use crate::common::*;

    let env = TestEnv::new();
    // A "server" that only records whether anyone connected.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let p = env.git_repo("proj", Some("https://github.com/Acme/App"));
    let p = p.canonicalize().unwrap();
    let session = "d7a10000-0000-4000-8000-000000000001";
    let token = "ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0nlyAbCdEf";
    env.write_session(
        &p,
        session,
        &[
            user_line("u1", &p, "deploy it"),
            assistant_line("a1", &p, &format!("export GITHUB_TOKEN={token}")),
        ],
    );
    let note = format!(
        "repository github.com/Acme/App is not allowed for {url} (sharing would ask, or need --allow-repo)"
    );
    let dry_run = |extra: &[&str]| -> std::process::Output {
        let mut args = vec!["share", session, "--dry-run", "-s", &url];
        args.extend_from_slice(extra);
        let out = env.cmd(&args).current_dir(&p).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("nothing was sent"),
            "{}",
            stderr(&out)
        );
        out
    };

    // A fresh machine: not even the openctl home is created.
    let out = dry_run(&[]);
    assert!(
        stdout(&out).contains(&format!("Allowed:     no: {note}")),
        "{}",
        stdout(&out)
    );
    assert!(!env.openctl_home.exists(), "{:?}", tree(&env.openctl_home));

    // Existing state, laid out as no rewrite would keep it.
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::write(
        env.openctl_home.join("config.json"),
        "{\n    \"servers\": {\"http://other.example\": {\"allowedRepos\": [\"github.com/acme/other\"]}},\n    \"futureKey\": [1, 2]\n}\n",
    )
    .unwrap();
    std::fs::write(
        env.openctl_home.join("shared-sessions.json"),
        r#"{"version": 1, "sessions": {"0a0a0a0a-0000-4000-8000-000000000000": {"filePath": "/x.jsonl", "servers": ["http://other.example"], "sharedAt": "2026-11-24T10:00:00.000Z", "serverSessions": {}}}, "extra": true}"#,
    )
    .unwrap();
    let before = tree(&env.openctl_home);
    let text = stdout(&dry_run(&[]));
    assert!(text.contains(&note), "{text}");
    assert!(text.contains("Messages:    2"), "{text}");
    assert!(text.contains("github_token"), "{text}");
    assert!(!text.contains(token), "{text}");
    let text = stdout(&dry_run(&["--allow-repo"]));
    assert!(
        text.contains(&format!(
            "repository github.com/Acme/App is not allowed for {url} (sharing with --allow-repo would allow it)"
        )),
        "{text}"
    );
    for extra in [&["--json"][..], &["--json", "--allow-repo"][..]] {
        let v: serde_json::Value = serde_json::from_slice(&dry_run(extra).stdout).unwrap();
        assert_eq!(v["session"], session);
        assert_eq!(v["server"], url.as_str());
        assert_eq!(v["repository"], "github.com/Acme/App");
        assert_eq!(v["repository_allowed"], false);
        assert!(
            v["repository_note"].as_str().unwrap().starts_with(&format!(
                "repository github.com/Acme/App is not allowed for {url} ("
            )),
            "{v}"
        );
        assert_eq!(v["messages"], 2);
        assert_eq!(v["redactions"][0]["kind"], "github_token");
        assert!(!v.to_string().contains(token));
    }
    assert_eq!(
        tree(&env.openctl_home),
        before,
        "a dry run changed the openctl home"
    );
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a dry run connected to the server: {other:?}"),
    }

    // Once allowed, no note.
    env.ok(&["repo", "allow", p.to_str().unwrap(), "-s", &url]);
    let v: serde_json::Value = serde_json::from_slice(&dry_run(&["--json"]).stdout).unwrap();
    assert_eq!(v["repository_allowed"], true);
    assert!(v["repository_note"].is_null());
    assert!(!stdout(&dry_run(&[])).contains("Allowed:"));
}

fn stored_messages(server: &crate::common::TestServer, id: &str) -> (usize, String) {
    let v = server.get_session(id);
    (v["messages"].as_array().map_or(0, Vec::len), v.to_string())
}

fn wait_stored(server: &crate::common::TestServer, id: &str, n: usize) -> String {
    crate::common::wait_for(&format!("{n} messages stored"), E2E_WAIT, || {
        let (count, text) = stored_messages(server, id);
        (count >= n).then_some(text)
    })
}

/// Fail closed: while redact.json does not load (at daemon start or edited
/// while it runs), nothing is sent to servers with redaction on, the error
/// names the file and the mistake in `daemon status`, servers with
/// `redact false` go on, and once the file is fixed what waited is sent,
/// redacted by the user's patterns.
#[test]
fn a_bad_redact_json_pauses_redacted_servers_until_fixed() {
    use crate::common::*;

    let env = TestEnv::new();
    let _daemon = DaemonGuard { env: &env };
    let guarded = TestServer::start(&env);
    let open = TestServer::start_with(&env, &env.path().join("open.db"), &[]);
    let p = env.git_repo("proj", Some("https://github.com/Acme/App"));
    let p = p.canonicalize().unwrap();
    let redact_json = env.openctl_home.join("redact.json");
    let good = r#"{"patterns": [{"name": "codename", "regex": "Project-[A-Z]{6}"}]}"#;
    std::fs::create_dir_all(&env.openctl_home).unwrap();
    std::fs::write(&redact_json, good).unwrap();
    let session = "bad0c0f0-0000-4000-8000-000000000001";
    let path = env.write_session(
        &p,
        session,
        &[
            user_line("u0", &p, "prepare the release"),
            assistant_line("a0", &p, "codename Project-ALPHAX"),
        ],
    );
    env.ok(&["config", "set", "redact", "false", "-s", &open.url]);
    let mut ids = Vec::new();
    for server in [&guarded, &open] {
        let out = env
            .cmd(&[
                "share",
                session,
                "--allow-repo",
                "-s",
                &server.url,
                "--json",
            ])
            .current_dir(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.push(v["server_session_id"].as_str().unwrap().to_string());
    }
    let (gid, oid) = (&ids[0], &ids[1]);
    let text = wait_stored(&guarded, gid, 2);
    assert!(!text.contains("Project-ALPHAX") && text.contains("[REDACTED:codename]"));
    assert!(wait_stored(&open, oid, 2).contains("Project-ALPHAX"));

    // A typo while the daemon is stopped; it starts with the bad file.
    env.ok(&["daemon", "stop"]);
    std::fs::write(
        &redact_json,
        r#"{"patterns": [{"name": "codename", "regex": "Project-[A-Z]{6}"}], "alow": ["x"]}"#,
    )
    .unwrap();
    env.ok(&["daemon", "start"]);
    let file = redact_json.display().to_string();
    wait_for("daemon status to show the bad file", E2E_WAIT, || {
        let err = daemon_status(&env)["redaction_error"].as_str()?.to_string();
        (err.contains(&file) && err.contains("alow")).then_some(())
    });
    let secret_line = "next: Project-BRAVOX with AKIAZ3MPLEQ7RT5XW2YB";
    append(&path, &[assistant_line("a1", &p, secret_line)]);
    assert!(
        wait_stored(&open, oid, 3).contains("Project-BRAVOX"),
        "redact false goes on"
    );
    let pair = wait_for("the redacted pair to pause", E2E_WAIT, || {
        let pair = daemon_pair(&env, session, &guarded.url)?;
        let err = pair["last_error"].as_str()?;
        (pair["state"] == "retrying" && err.contains(&file) && err.contains("alow")).then_some(pair)
    });
    assert!(
        pair["last_error"]
            .as_str()
            .unwrap()
            .contains("nothing is sent"),
        "{pair}"
    );
    assert!(pair["lag_bytes"].as_u64().unwrap() > 0, "{pair}");
    let (count, text) = stored_messages(&guarded, gid);
    assert_eq!(count, 2, "nothing was sent while paused");
    assert!(!text.contains("Project-BRAVOX") && !text.contains("AKIAZ3MPLEQ7RT5XW2YB"));
    let shown = env.ok(&["daemon", "status"]);
    assert!(
        shown.contains("redaction: ") && shown.contains("alow"),
        "{shown}"
    );
    assert!(
        shown.contains("retrying") && shown.contains("last error:"),
        "{shown}"
    );

    // Fixed: what waited is sent from the cursor, with the user's pattern.
    std::fs::write(&redact_json, good).unwrap();
    let text = wait_stored(&guarded, gid, 3);
    assert!(!text.contains("Project-BRAVOX") && !text.contains("AKIAZ3MPLEQ7RT5XW2YB"));
    assert!(
        text.contains("next: [REDACTED:codename] with [REDACTED:aws_access_key]"),
        "{text}"
    );
    wait_for("the pair to stream again", E2E_WAIT, || {
        let st = daemon_status(&env);
        let pair = daemon_pair(&env, session, &guarded.url)?;
        (st["redaction_error"].is_null()
            && pair["state"] == "streaming"
            && pair["last_error"].is_null())
        .then_some(())
    });

    // Broken while the daemon runs: paused again at once.
    std::fs::write(
        &redact_json,
        r#"{"patterns": [{"name": "codename", "regex": "Project-([A-Z]{6}"}]}"#,
    )
    .unwrap();
    wait_for("the regex error in daemon status", E2E_WAIT, || {
        let err = daemon_status(&env)["redaction_error"].as_str()?.to_string();
        err.contains("invalid regex").then_some(())
    });
    append(&path, &[assistant_line("a2", &p, "then Project-CHARLI")]);
    assert!(wait_stored(&open, oid, 4).contains("Project-CHARLI"));
    wait_for("the redacted pair to pause again", E2E_WAIT, || {
        let pair = daemon_pair(&env, session, &guarded.url)?;
        (pair["state"] == "retrying" && pair["last_error"].as_str()?.contains("invalid regex"))
            .then_some(())
    });
    assert_eq!(stored_messages(&guarded, gid).0, 3);
    std::fs::write(&redact_json, good).unwrap();
    let text = wait_stored(&guarded, gid, 4);
    assert!(!text.contains("Project-CHARLI") && text.contains("then [REDACTED:codename]"));

    // Unshared while paused: completed without the held lines, and unshare
    // says so (exit 1) instead of a plain "completed"; sharing again once
    // the file is fixed sends the rest.
    std::fs::write(&redact_json, r#"{"alow": []}"#).unwrap();
    wait_for("the daemon to see the bad file", E2E_WAIT, || {
        let err = daemon_status(&env)["redaction_error"].as_str()?.to_string();
        err.contains("alow").then_some(())
    });
    append(&path, &[assistant_line("a3", &p, "last: Project-DELTAX")]);
    wait_for(
        "the redacted pair to pause before the unshare",
        E2E_WAIT,
        || {
            let pair = daemon_pair(&env, session, &guarded.url)?;
            (pair["state"] == "retrying" && pair["lag_bytes"].as_u64()? > 0).then_some(())
        },
    );
    let out = env
        .cmd(&["session", "unshare", session, "-s", &guarded.url])
        .current_dir(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("were not sent")
            && err.contains("alow")
            && err.contains("openctl session share"),
        "{err}"
    );
    let detail = guarded.get_session(gid);
    assert_eq!(detail["session"]["status"], "complete");
    assert_eq!(detail["messages"].as_array().map_or(0, Vec::len), 4);
    std::fs::write(&redact_json, good).unwrap();
    let out = env
        .cmd(&["share", session, "-s", &guarded.url, "-q"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = wait_stored(&guarded, gid, 5);
    assert!(!text.contains("Project-DELTAX") && text.contains("last: [REDACTED:codename]"));

    let log = std::fs::read_to_string(env.openctl_home.join("daemon.log")).unwrap();
    assert!(log.contains(&file) && log.contains("alow"), "{log}");
    for secret in [
        "Project-ALPHAX",
        "Project-BRAVOX",
        "Project-CHARLI",
        "Project-DELTAX",
        "AKIAZ3MPLEQ7RT5XW2YB",
    ] {
        assert!(!log.contains(secret), "{secret} in the daemon log");
    }
}

/// A secret in a file the session edits reaches the server only through
/// the diff: there it is replaced by its marker. Title and diff redactions
/// count in `daemon status`, and the log has the counts, never the secrets.
#[test]
fn secrets_in_an_edited_file_are_redacted_from_the_diff() {
    use crate::common::*;

    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let repo = env.git_repo("proj", Some("https://github.com/acme/proj.git"));
    write_config(&env, &[&server.url], "github.com/acme/proj", json!({}));
    let session = "d1ff0000-0000-4000-8000-000000000001";
    let password = "Tr0ub4dor&3x";
    let token = "ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0nlyAbCdEf";
    let aws = "AKIAZ3MPLEQ7RT5XW2YB";
    let file = repo.join("app.env");
    std::fs::write(
        &file,
        format!("DB_HOST=db.internal\nDB_PASSWORD={password}\nGITHUB_TOKEN={token}\n"),
    )
    .unwrap();
    // The tool call itself holds no secret: only the file on disk does.
    let edit = json!({
        "type": "assistant", "uuid": "a1", "cwd": repo,
        "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "Edit",
             "input": {"file_path": file, "old_string": "DB_HOST=localhost",
                       "new_string": "DB_HOST=db.internal"}}]}
    })
    .to_string();
    let path = env.write_session(
        &repo,
        session,
        &[user_line("u0", &repo, &format!("use key {aws}")), edit],
    );
    write_shares(&env, &[(session, &path, &[&server.url])]);
    let _daemon = DaemonGuard::start(&env);
    let id = wait_for("the server session", E2E_WAIT, || {
        daemon_pair(&env, session, &server.url)?["server_session_id"]
            .as_str()
            .map(str::to_string)
    });
    let diff = wait_for("the diff on the server", E2E_WAIT, || {
        server.get_session(&id)["diffs"].as_array()?.first()?["diff"]
            .as_str()
            .map(str::to_string)
    });
    assert!(diff.contains("+DB_HOST=db.internal"), "{diff}");
    assert!(diff.contains("+DB_PASSWORD=[REDACTED:password]"), "{diff}");
    assert!(
        diff.contains("+GITHUB_TOKEN=[REDACTED:github_token]"),
        "{diff}"
    );
    let title = wait_for("the title", E2E_WAIT, || {
        let t = server.get_session(&id)["session"]["title"]
            .as_str()?
            .to_string();
        (t != "Live Session").then_some(t)
    });
    assert_eq!(title, "use key [REDACTED:aws_access_key]");
    let stored = server.get_session(&id).to_string();
    for secret in [password, token, aws] {
        assert!(!stored.contains(secret), "{secret} reached the server");
    }
    // 1 in the prompt, 1 in the title, 2 in the diff.
    let pair = wait_for("4 redactions counted", E2E_WAIT, || {
        daemon_pair(&env, session, &server.url).filter(|p| p["redactions"] == 4)
    });
    assert_eq!(pair["messages_sent"], 2, "{pair}");
    assert!(env.ok(&["daemon", "status"]).contains("redactions 4"));

    let log = std::fs::read_to_string(env.openctl_home.join("daemon.log")).unwrap();
    let counted: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&format!("session={session}")) && l.contains("redactions="))
        .collect();
    for what in ["before sending", "from the title", "from the diff"] {
        assert!(
            counted.iter().any(|l| l.contains(what)),
            "no count {what} in the log:\n{log}"
        );
    }
    assert!(
        counted.iter().any(|l| l.contains("redactions=2")),
        "{counted:#?}"
    );
    for secret in [password, token, aws] {
        assert!(!log.contains(secret), "{secret} in the daemon log");
    }
}
