//! JSON output built from stored text: message content is stored as JSON and
//! written out as-is, so a session with many messages is never re-parsed.

use std::sync::Arc;

use axum::body::Bytes;
use futures_util::Stream;

use crate::wire::{SessionInfo, StoredDiff};

use super::store::{RawMessage, Store};

/// Content bytes of the messages read (and sent) at once by
/// [`session_detail_stream`].
const PAGE_BYTES: usize = 256 * 1024;

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

/// The body of `GET /api/sessions/:id` (the wire's `SessionDetail`) all at
/// once: what [`session_detail_stream`] sends in pieces.
#[cfg(test)]
pub fn session_detail(
    session: &SessionInfo,
    messages: &[RawMessage],
    diff: Option<&StoredDiff>,
) -> String {
    let mut out = detail_head(session);
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_message(&mut out, m);
    }
    out.push_str(&detail_tail(diff));
    out
}

/// `{"session":{...},"messages":[`
fn detail_head(session: &SessionInfo) -> String {
    let mut out = String::from("{\"session\":");
    out.push_str(&serde_json::to_string(session).unwrap_or_else(|_| "null".into()));
    out.push_str(",\"messages\":[");
    out
}

/// `],"diffs":[...]}`
fn detail_tail(diff: Option<&StoredDiff>) -> String {
    let diffs: Vec<&StoredDiff> = diff.into_iter().collect();
    let mut out = String::from("],\"diffs\":");
    out.push_str(&serde_json::to_string(&diffs).unwrap_or_else(|_| "[]".into()));
    out.push('}');
    out
}

enum Stage {
    Head(String),
    /// The next message index, and whether one was written already.
    Messages(i64, bool),
}

/// The body of `GET /api/sessions/:id` for `session` as read just before,
/// written a page of messages at a time, so the memory a read costs does
/// not grow with the session: its first `message_count` messages (stored
/// messages never change), then the diff. When the messages cannot all be
/// read (the session was deleted meanwhile, the database failed) the body
/// ends in an error, so the client sees a failed read rather than a short
/// list.
pub fn session_detail_stream(
    store: Arc<dyn Store>,
    session: &SessionInfo,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let until = session.message_count;
    let id = session.id.clone();
    let first = Stage::Head(detail_head(session));
    futures_util::stream::try_unfold(Some(first), move |stage| {
        let store = store.clone();
        let id = id.clone();
        async move {
            let fail = |e: String| std::io::Error::other(format!("reading session {id}: {e}"));
            let (out, next) = match stage {
                None => return Ok(None),
                Some(Stage::Head(head)) => (head, Some(Stage::Messages(0, false))),
                Some(Stage::Messages(from, mut wrote)) if from < until => {
                    let sid = id.clone();
                    let page = tokio::task::spawn_blocking(move || {
                        store.messages_page(&sid, from, until, PAGE_BYTES)
                    })
                    .await
                    .map_err(|e| fail(e.to_string()))?
                    .map_err(|e| fail(e.to_string()))?;
                    let Some(last) = page.last() else {
                        return Err(fail("its messages are gone".into()));
                    };
                    let next = last.message_index + 1;
                    let size = page.iter().map(|m| m.content_blocks.len() + 160).sum();
                    let mut out = String::with_capacity(size);
                    for m in &page {
                        if wrote {
                            out.push(',');
                        }
                        push_message(&mut out, m);
                        wrote = true;
                    }
                    (out, Some(Stage::Messages(next, wrote)))
                }
                Some(Stage::Messages(..)) => {
                    let sid = id.clone();
                    let diff = tokio::task::spawn_blocking(move || store.diff(&sid))
                        .await
                        .map_err(|e| fail(e.to_string()))?
                        .map_err(|e| fail(e.to_string()))?;
                    (detail_tail(diff.as_ref()), None)
                }
            };
            Ok(Some((Bytes::from(out), next)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::{test_store, NewMessage};

    #[tokio::test]
    async fn the_streamed_detail_is_byte_identical_to_the_whole_one() {
        use futures_util::TryStreamExt;
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = test_store(dir.path());
        let now = "2026-01-01T00:00:00Z";
        // Several pages: messages of up to 40 KB, some empty, some with
        // every optional field.
        let messages: Vec<NewMessage> = (0..3000)
            .map(|i| NewMessage {
                role: if i % 2 == 0 { "user" } else { "assistant" }.into(),
                content_blocks:
                    serde_json::json!([{"type": "text", "text": "é\n<".repeat(i % 7 * 2000)}])
                        .to_string(),
                timestamp: (i % 3 == 0).then(|| now.to_string()),
                uuid: Some(format!("u{i}")),
                kind: (i % 5 == 0).then_some(crate::wire::MessageKind::Prompt),
                agent_id: (i % 11 == 0).then(|| "a".to_string()),
                parent_tool_use_id: None,
            })
            .collect();
        store.append(&id, "c", messages, now).unwrap();
        let diff = StoredDiff {
            diff: "+x\n".into(),
            files_changed: 1,
            additions: 1,
            deletions: 0,
            updated_at: now.into(),
        };
        store.put_diff(&id, "c", diff).unwrap();
        let (info, all, diff) = store.detail(&id).unwrap();
        let whole = session_detail(&info, &all, diff.as_ref());
        let chunks: Vec<Bytes> = session_detail_stream(store.clone(), &info)
            .try_collect()
            .await
            .unwrap();
        assert!(chunks.len() > 4, "{} chunks", chunks.len());
        assert!(chunks.iter().all(|c| c.len() < 2 * PAGE_BYTES));
        assert!(chunks.concat() == whole.as_bytes(), "streamed body differs");

        // Deleted while being read: the body fails instead of ending short.
        let mut stream = Box::pin(session_detail_stream(store.clone(), &info));
        use futures_util::StreamExt;
        stream.next().await.unwrap().unwrap();
        store.delete(&id, "c").unwrap();
        assert!(stream.next().await.unwrap().is_err());
    }

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
