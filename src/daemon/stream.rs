//! From transcript lines to request bodies: parsing each line once, the
//! redaction hook, batch bounds, splitting, truncation of a message no
//! server would accept, and the retry backoff.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::tail::RawLine;
use crate::redact::Redactor;
use crate::transcript::{self, AgentRef, Shapes, Title};
use crate::wire::Message;

/// Most lines read (and so sent) in one batch.
pub const MAX_BATCH_LINES: usize = 2000;
/// Most transcript bytes read for one batch.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Largest request body sent: safely under the servers' 10 MiB.
pub const MAX_BODY_BYTES: usize = 9 * 1024 * 1024;

/// One transcript line, parsed once.
#[derive(Debug, Clone)]
pub struct Item {
    pub line_no: u64,
    pub start: u64,
    pub end: u64,
    /// The line's `uuid`, if it has one.
    pub uuid: Option<String>,
    /// The message to deliver, if the line is one.
    pub msg: Option<Message>,
    /// Not JSON, or too long: skipped and counted.
    pub malformed: bool,
    /// Read with U+FFFD in place of bytes or escapes that are not text
    /// (invalid UTF-8, a lone surrogate): kept, and counted.
    pub repaired: bool,
    /// A title candidate this line carries (explicit or first prompt).
    pub title: Option<Title>,
    /// Files a tool call on this line modifies.
    pub modified: Vec<PathBuf>,
}

/// What a server takes beyond the reference server's shapes (its
/// health's `features`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    pub shapes: Shapes,
    /// Messages of subagents.
    pub subagents: bool,
}

impl Features {
    pub fn of(features: &[String]) -> Features {
        let has = |f: &str| features.iter().any(|x| x == f);
        Features {
            shapes: if has(crate::wire::FEATURE_RICH_TOOL_RESULTS) {
                Shapes::Rich
            } else {
                Shapes::Reference
            },
            subagents: has(crate::wire::FEATURE_SUBAGENTS),
        }
    }
}

/// Parse the lines of a chunk.
/// `session` names the transcript (with the subagent, for theirs) in the
/// keys given to lines that have no uuid of their own.
pub fn parse(lines: Vec<RawLine>, shapes: Shapes, session: &str) -> Vec<Item> {
    lines
        .into_iter()
        .map(|l| parse_one(l, shapes, None, session))
        .collect()
}

/// Parse the lines of a chunk of a subagent's transcript.
pub fn parse_agent(
    lines: Vec<RawLine>,
    shapes: Shapes,
    agent: &AgentRef,
    session: &str,
) -> Vec<Item> {
    let scope = format!("{session}/{}", agent.agent_id);
    lines
        .into_iter()
        .map(|l| parse_one(l, shapes, Some(agent), &scope))
        .collect()
}

/// The idempotency key of a message whose line has no uuid (old or foreign
/// transcripts): the same line at the same place always gets the same key,
/// so a batch resent after a lost answer is stored once.
pub fn derived_key(scope: &str, start: u64, line: &[u8]) -> String {
    // FNV-1a, 128 bits: stable across versions and machines.
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013B;
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in scope
        .as_bytes()
        .iter()
        .chain(&[0])
        .chain(&start.to_le_bytes())
        .chain(line)
    {
        h ^= u128::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    format!("openctl-line-{start}-{h:032x}")
}

fn parse_one(line: RawLine, shapes: Shapes, agent: Option<&AgentRef>, scope: &str) -> Item {
    let mut item = Item {
        line_no: line.line_no,
        start: line.start,
        end: line.end,
        uuid: None,
        msg: None,
        malformed: false,
        repaired: false,
        title: None,
        modified: Vec::new(),
    };
    if line.oversized {
        item.malformed = true;
        return item;
    }
    let bytes = line.bytes.strip_suffix(b"\r").unwrap_or(&line.bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return item;
    }
    let obj = match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => {
            item.malformed = true;
            return item;
        }
        Err(_) => match transcript::repair_line(bytes) {
            Some(obj) => {
                item.repaired = true;
                obj
            }
            None => {
                item.malformed = true;
                return item;
            }
        },
    };
    item.uuid = obj.get("uuid").and_then(Value::as_str).map(str::to_string);
    match agent {
        Some(agent) => item.msg = transcript::agent_message(&obj, shapes, agent),
        None => {
            item.title = transcript::line_title(&obj);
            item.msg = transcript::message_from_line_for(&obj, shapes);
        }
    }
    if let Some(m) = item.msg.as_mut().filter(|m| m.uuid.is_none()) {
        m.uuid = Some(derived_key(scope, line.start, bytes));
    }
    if item.msg.is_some() {
        if let Some(Value::Array(blocks)) = obj.get("message").and_then(|m| m.get("content")) {
            item.modified = blocks
                .iter()
                .filter_map(transcript::modified_path)
                .map(PathBuf::from)
                .collect();
        }
    }
    item
}

/// Every message passes through here right before it is encoded for a
/// server: with that server's redactor (None when `redact` is off for it)
/// secrets are replaced by `[REDACTED:<kind>]`. Returns the message to send
/// and how many secrets were replaced (shown per pair in `daemon status`).
pub fn prepare_for_send(mut msg: Message, redactor: Option<&Redactor>) -> (Message, u64) {
    let Some(r) = redactor else {
        return (msg, 0);
    };
    let found = r.redact_message(&mut msg);
    (msg, found.len() as u64)
}

/// Encode `{"messages": [...]}`.
pub fn encode(messages: &[&Message]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 * messages.len());
    out.extend_from_slice(b"{\"messages\":[");
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Serializing plain JSON values into a Vec cannot fail.
        if serde_json::to_writer(&mut out, m).is_err() {
            out.extend_from_slice(b"null");
        }
    }
    out.extend_from_slice(b"]}");
    out
}

/// The marker appended where content was cut.
pub fn truncation_marker(cut: usize) -> String {
    format!("\n[openctl: {cut} bytes truncated to fit the server's size limit]")
}

/// Shrink one message so it encodes to at most `budget` bytes: long strings
/// are cut (with a visible marker), inline images replaced by a note. When
/// even that does not fit, the content becomes one text block saying so.
pub fn truncate_message(msg: &Message, budget: usize) -> Message {
    let size = |m: &Message| serde_json::to_vec(m).map(|v| v.len()).unwrap_or(usize::MAX);
    let mut cap = budget / 2;
    while cap >= 1024 {
        let mut m = msg.clone();
        for block in &mut m.content_blocks {
            shrink(block, cap);
        }
        if size(&m) <= budget {
            return m;
        }
        cap /= 2;
    }
    Message {
        content_blocks: vec![json!({
            "type": "text",
            "text": "[openctl: this message was too large for the server and was left out]",
        })],
        ..msg.clone()
    }
}

fn shrink(block: &mut Value, cap: usize) {
    if block.get("type").and_then(Value::as_str) == Some("image") {
        let data_len = block
            .pointer("/source/data")
            .and_then(Value::as_str)
            .map_or(0, str::len);
        if data_len > cap {
            *block = json!({"type": "text", "text": format!("[openctl: image of {data_len} bytes left out: too large for the server]")});
        }
        return;
    }
    shrink_strings(block, cap);
}

fn shrink_strings(v: &mut Value, cap: usize) {
    match v {
        Value::String(s) if s.len() > cap => {
            let mut at = cap;
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            let cut = s.len() - at;
            s.truncate(at);
            s.push_str(&truncation_marker(cut));
        }
        Value::Array(items) => items.iter_mut().for_each(|i| shrink_strings(i, cap)),
        Value::Object(map) => map.values_mut().for_each(|i| shrink_strings(i, cap)),
        _ => {}
    }
}

/// The shortest wait before a retry.
pub const MIN_BACKOFF: Duration = Duration::from_millis(250);

/// Full-jitter exponential backoff: a random wait between 250 ms and
/// min(10 s, 250 ms × 2^attempt).
pub fn backoff(attempt: u32) -> Duration {
    let base = MIN_BACKOFF.as_millis() as u64;
    let upper = base
        .saturating_mul(1u64 << attempt.min(16))
        .min(10_000)
        .max(base);
    Duration::from_millis(fastrand::u64(base..=upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(no: u64, text: &str) -> RawLine {
        RawLine {
            start: 0,
            end: text.len() as u64 + 1,
            line_no: no,
            bytes: text.as_bytes().to_vec(),
            oversized: false,
        }
    }

    #[test]
    fn parses_messages_titles_and_modified_files() {
        let items = parse(
            vec![
                raw(
                    1,
                    r#"{"type":"user","uuid":"a","message":{"role":"user","content":"fix the bug"}}"#,
                ),
                raw(
                    2,
                    r#"{"type":"assistant","uuid":"b","message":{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"Write","input":{"file_path":"/r/x.rs","content":"x"}}]}}"#,
                ),
                raw(3, "{broken"),
                raw(4, r#"{"type":"custom-title","customTitle":" Mine "}"#),
                raw(5, ""),
            ],
            Shapes::Reference,
            "s",
        );
        assert_eq!(items[0].title, Some(Title::Prompt("fix the bug".into())));
        assert_eq!(items[0].uuid.as_deref(), Some("a"));
        assert_eq!(items[1].modified, vec![PathBuf::from("/r/x.rs")]);
        assert!(items[2].malformed && items[2].msg.is_none());
        assert_eq!(items[3].title, Some(Title::Custom("Mine".into())));
        assert!(items[3].msg.is_none() && !items[3].malformed);
        assert!(!items[4].malformed && items[4].msg.is_none());
    }

    #[test]
    fn lines_without_a_uuid_get_a_stable_key() {
        let line = r#"{"type":"user","message":{"role":"user","content":"old format"}}"#;
        let parsed = |start: u64, scope: &str| {
            let mut l = raw(1, line);
            l.start = start;
            parse(vec![l], Shapes::Reference, scope)[0]
                .msg
                .clone()
                .and_then(|m| m.uuid)
                .expect("a key")
        };
        assert_eq!(parsed(10, "s"), parsed(10, "s"));
        assert_ne!(parsed(10, "s"), parsed(11, "s"));
        assert_ne!(parsed(10, "s"), parsed(10, "t"));
        assert!(parsed(10, "s").starts_with("openctl-line-10-"));
    }

    #[test]
    fn encodes_a_body() {
        let m = Message {
            role: "user".into(),
            content_blocks: vec![json!({"type":"text","text":"hi"})],
            timestamp: None,
            uuid: Some("u".into()),
            kind: None,
            agent_id: None,
            parent_tool_use_id: None,
        };
        let body: Value = serde_json::from_slice(&encode(&[&m, &m])).unwrap();
        assert_eq!(body["messages"].as_array().unwrap().len(), 2);
        assert_eq!(body["messages"][1]["uuid"], "u");
    }

    #[test]
    fn truncation_fits_and_is_visible() {
        let big = "é".repeat(300_000);
        let m = Message {
            role: "assistant".into(),
            content_blocks: vec![
                json!({"type":"text","text": big}),
                json!({"type":"image","source":{"type":"base64","media_type":"image/png","data":"A".repeat(500_000)}}),
            ],
            timestamp: None,
            uuid: Some("u".into()),
            kind: None,
            agent_id: None,
            parent_tool_use_id: None,
        };
        let t = truncate_message(&m, 100_000);
        let size = serde_json::to_vec(&t).unwrap().len();
        assert!(size <= 100_000, "{size}");
        let text = t.content_blocks[0]["text"].as_str().unwrap();
        assert!(
            text.contains("truncated to fit"),
            "{}",
            &text[text.len() - 80..]
        );
        assert_eq!(t.content_blocks[1]["type"], "text");
        assert_eq!(t.uuid.as_deref(), Some("u"));
        let tiny = truncate_message(&m, 10);
        assert!(tiny.content_blocks[0]["text"]
            .as_str()
            .unwrap()
            .contains("too large"));
    }

    #[test]
    fn backoff_stays_in_bounds() {
        for attempt in 0..40 {
            let d = backoff(attempt);
            assert!(d >= Duration::from_millis(250) && d <= Duration::from_secs(10));
        }
    }
}
