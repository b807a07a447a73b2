//! JSON output built from stored text: message content is stored as JSON and
//! written out as-is, so a session with many messages is never re-parsed.

use crate::wire::{SessionInfo, StoredDiff};

use super::store::RawMessage;

fn push_str_value(out: &mut String, s: &str) {
    // Serializing a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

fn push_opt(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_str_value(out, s),
        None => out.push_str("null"),
    }
}

/// Append one stored message (the wire's `StoredMessage` shape) to `out`.
pub fn push_message(out: &mut String, m: &RawMessage) {
    out.push_str("{\"message_index\":");
    out.push_str(&m.message_index.to_string());
    out.push_str(",\"role\":");
    push_str_value(out, &m.role);
    out.push_str(",\"content_blocks\":");
    out.push_str(&m.content_blocks);
    out.push_str(",\"timestamp\":");
    push_opt(out, m.timestamp.as_deref());
    out.push_str(",\"uuid\":");
    push_opt(out, m.uuid.as_deref());
    if let Some(kind) = m.kind {
        out.push_str(",\"kind\":\"");
        out.push_str(kind.as_str());
        out.push('"');
    }
    for (key, value) in [
        ("agent_id", &m.agent_id),
        ("parent_tool_use_id", &m.parent_tool_use_id),
    ] {
        if let Some(v) = value {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            push_str_value(out, v);
        }
    }
    out.push('}');
}

/// One stored message as JSON text.
pub fn message_json(m: &RawMessage) -> String {
    let mut out = String::with_capacity(m.content_blocks.len() + 128);
    push_message(&mut out, m);
    out
}

/// The body of `GET /api/sessions/:id` (the wire's `SessionDetail`).
pub fn session_detail(
    session: &SessionInfo,
    messages: &[RawMessage],
    diff: Option<&StoredDiff>,
) -> String {
    let size: usize = messages.iter().map(|m| m.content_blocks.len() + 128).sum();
    let mut out = String::with_capacity(size + 1024);
    out.push_str("{\"session\":");
    out.push_str(&serde_json::to_string(session).unwrap_or_else(|_| "null".into()));
    out.push_str(",\"messages\":[");
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_message(&mut out, m);
    }
    out.push_str("],\"diffs\":");
    let diffs: Vec<&StoredDiff> = diff.into_iter().collect();
    out.push_str(&serde_json::to_string(&diffs).unwrap_or_else(|_| "[]".into()));
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_json_round_trips_into_the_wire_type() {
        let m = RawMessage {
            message_index: 3,
            role: "assistant".into(),
            content_blocks: r#"[{"type":"text","text":"a \"quoted\" <script>"}]"#.into(),
            timestamp: None,
            uuid: Some("u-1".into()),
            kind: Some(crate::wire::MessageKind::Command),
            agent_id: Some("a1b2".into()),
            parent_tool_use_id: None,
        };
        let parsed: crate::wire::StoredMessage =
            serde_json::from_str(&message_json(&m)).expect("valid json");
        assert_eq!(parsed.message_index, 3);
        assert_eq!(parsed.uuid.as_deref(), Some("u-1"));
        assert_eq!(parsed.kind, Some(crate::wire::MessageKind::Command));
        assert_eq!(parsed.agent_id.as_deref(), Some("a1b2"));
        assert_eq!(parsed.parent_tool_use_id, None);
        assert_eq!(parsed.content_blocks[0]["text"], "a \"quoted\" <script>");
    }
}
