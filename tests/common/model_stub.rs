//! A stand-in for the Anthropic Messages API, so the real Claude Code CLI
//! runs offline in tests: point it at `ANTHROPIC_BASE_URL=<stub.url>`.
//!
//! It answers `POST /v1/messages` (with `stream: true` as Server-Sent Events:
//! `message_start`, per block `content_block_start` / `content_block_delta`
//! (`text_delta`, `thinking_delta` + `signature_delta`, `input_json_delta`) /
//! `content_block_stop`, then `message_delta` with the stop reason and
//! `message_stop`; else as one JSON message), `POST
//! /v1/messages/count_tokens`, and 404 to anything else (Claude Code probes
//! `HEAD /`). What it answers is a function of the
//! request, written by the test; every request is recorded.
//!
//!     let model = ModelStub::start(|req| match req.prompt().as_str() {
//!         "run ls" => Reply::tool_use("Bash", json!({"command": "ls"})),
//!         p => Reply::text(format!("you said: {p}")),
//!     });

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{json, Value};

/// One request Claude Code made.
#[derive(Clone, Debug)]
pub struct ModelRequest {
    pub method: String,
    /// Path and query, e.g. `/v1/messages?beta=true`.
    pub path: String,
    /// The JSON body (`Null` when there was none or it was not JSON).
    pub body: Value,
}

impl ModelRequest {
    /// A Messages API call (not `count_tokens`, not a probe).
    pub fn is_messages(&self) -> bool {
        self.method == "POST" && self.path.split('?').next() == Some("/v1/messages")
    }

    fn messages(&self) -> &[Value] {
        self.body["messages"].as_array().map_or(&[], Vec::as_slice)
    }

    /// The last `role: "user"` message: what the model answers. (Claude
    /// Code 2.1.3xx often sends a `role: "system"` message after it.)
    pub fn last_user(&self) -> Option<&Value> {
        self.messages().iter().rev().find(|m| m["role"] == "user")
    }

    /// What the user (or a command's expanded prompt) said in the last user
    /// message: its text blocks without the `<system-reminder>`s Claude Code
    /// puts in front, joined by newlines.
    pub fn prompt(&self) -> String {
        let Some(msg) = self.last_user() else {
            return String::new();
        };
        let texts: Vec<String> = match &msg["content"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(blocks) => blocks
                .iter()
                .filter(|b| b["type"] == "text")
                .filter_map(|b| b["text"].as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        texts
            .iter()
            .map(|t| strip_reminders(t))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The tool call the last user message answers, with its result:
    /// `(tool name, tool input, result text)`.
    pub fn answered_tool(&self) -> Option<(String, Value, String)> {
        let result = self.last_user()?["content"]
            .as_array()?
            .iter()
            .find(|b| b["type"] == "tool_result")?;
        let id = result["tool_use_id"].as_str()?;
        let call = self
            .messages()
            .iter()
            .filter(|m| m["role"] == "assistant")
            .filter_map(|m| m["content"].as_array())
            .flatten()
            .find(|b| b["type"] == "tool_use" && b["id"] == id)?;
        let mut text = String::new();
        collect_strings(&result["content"], &mut text);
        Some((
            call["name"].as_str()?.to_string(),
            call["input"].clone(),
            text,
        ))
    }
}

fn strip_reminders(text: &str) -> String {
    let mut rest = text;
    let mut out = String::new();
    while let Some(start) = rest.find("<system-reminder>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</system-reminder>") {
            Some(end) => rest = &rest[start + end + "</system-reminder>".len()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

fn collect_strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(m) => m.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// One content block of a reply.
#[derive(Clone, Debug)]
pub enum Block {
    Text(String),
    /// A thinking block (sent with a made-up signature).
    Thinking(String),
    ToolUse {
        name: String,
        input: Value,
    },
}

/// The assistant message the stub streams back. Its stop reason is
/// `tool_use` when it calls a tool, else `end_turn`.
#[derive(Clone, Debug)]
pub struct Reply {
    pub blocks: Vec<Block>,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Reply {
        Reply {
            blocks: vec![Block::Text(text.into())],
        }
    }

    pub fn tool_use(name: &str, input: Value) -> Reply {
        Reply {
            blocks: vec![Block::ToolUse {
                name: name.to_string(),
                input,
            }],
        }
    }

    /// A thinking block, then text.
    pub fn thinking(thought: impl Into<String>, text: impl Into<String>) -> Reply {
        Reply {
            blocks: vec![Block::Thinking(thought.into()), Block::Text(text.into())],
        }
    }
}

type Script = dyn Fn(&ModelRequest) -> Reply + Send + Sync;

struct Shared {
    script: Box<Script>,
    requests: Mutex<Vec<ModelRequest>>,
    ids: AtomicU64,
}

/// The stub, listening on `127.0.0.1:<free port>` until dropped.
pub struct ModelStub {
    /// e.g. `http://127.0.0.1:41234`: Claude Code's `ANTHROPIC_BASE_URL`.
    pub url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ModelStub {
    pub fn start(script: impl Fn(&ModelRequest) -> Reply + Send + Sync + 'static) -> ModelStub {
        let shared = Arc::new(Shared {
            script: Box::new(script),
            requests: Mutex::new(Vec::new()),
            ids: AtomicU64::new(1),
        });
        // Bound here, before the thread starts: no port race.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the model stub");
        listener.set_nonblocking(true).expect("non-blocking");
        let url = format!("http://{}", listener.local_addr().expect("stub address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/messages/count_tokens", post(count_tokens))
            .fallback(not_found)
            .with_state(shared.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("stub runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("stub listener");
                tokio::select! {
                    r = axum::serve(listener, app) => r.expect("model stub serves"),
                    _ = stopped => {}
                }
            });
        });
        ModelStub {
            url,
            shared,
            stop: Some(stop),
        }
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The Messages API calls so far.
    pub fn message_requests(&self) -> Vec<ModelRequest> {
        self.requests()
            .into_iter()
            .filter(ModelRequest::is_messages)
            .collect()
    }
}

impl Drop for ModelStub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type State = axum::extract::State<Arc<Shared>>;

fn record(shared: &Shared, method: &Method, uri: &Uri, body: &[u8]) -> ModelRequest {
    let req = ModelRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or(uri.path().to_string(), |p| p.to_string()),
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    };
    shared
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(req.clone());
    req
}

async fn not_found(
    axum::extract::State(shared): State,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> StatusCode {
    record(&shared, &method, &uri, &body);
    StatusCode::NOT_FOUND
}

async fn count_tokens(
    axum::extract::State(shared): State,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    record(&shared, &method, &uri, &body);
    axum::Json(json!({"input_tokens": body.len() / 4 + 1})).into_response()
}

async fn messages(
    axum::extract::State(shared): State,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let req = record(&shared, &method, &uri, &body);
    let reply = (shared.script)(&req);
    let n = shared.ids.fetch_add(1, Ordering::Relaxed);
    let model = req.body["model"].as_str().unwrap_or("claude-stub");
    let message = Message::new(&reply, n, model);
    if req.body["stream"] != true {
        return axum::Json(message.whole()).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        message.events(),
    )
        .into_response()
}

/// A reply as the Messages API sends it.
struct Message {
    /// The message without content, as `message_start` carries it.
    head: Value,
    /// Each block: whole, as it starts streaming, and its deltas.
    blocks: Vec<(Value, Value, Vec<Value>)>,
    stop_reason: &'static str,
}

impl Message {
    fn new(reply: &Reply, n: u64, model: &str) -> Message {
        let head = json!({
            "id": format!("msg_stub_{n}"), "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 1}});
        let mut stop_reason = "end_turn";
        let blocks = reply
            .blocks
            .iter()
            .enumerate()
            .map(|(index, block)| match block {
                Block::Text(text) => (
                    json!({"type": "text", "text": text}),
                    json!({"type": "text", "text": ""}),
                    vec![json!({"type": "text_delta", "text": text})],
                ),
                Block::Thinking(thought) => {
                    let signature = format!("stub-signature-{n}");
                    (
                        json!({"type": "thinking", "thinking": thought, "signature": signature}),
                        json!({"type": "thinking", "thinking": "", "signature": ""}),
                        vec![
                            json!({"type": "thinking_delta", "thinking": thought}),
                            json!({"type": "signature_delta", "signature": signature}),
                        ],
                    )
                }
                Block::ToolUse { name, input } => {
                    stop_reason = "tool_use";
                    let id = format!("toolu_stub_{n}_{index}");
                    (
                        json!({"type": "tool_use", "id": id, "name": name, "input": input}),
                        json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                        vec![
                            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
                        ],
                    )
                }
            })
            .collect();
        Message {
            head,
            blocks,
            stop_reason,
        }
    }

    /// The whole message (a request without `stream: true`).
    fn whole(&self) -> Value {
        let mut message = self.head.clone();
        message["content"] = self.blocks.iter().map(|(b, _, _)| b.clone()).collect();
        message["stop_reason"] = self.stop_reason.into();
        message["usage"]["output_tokens"] = 5.into();
        message
    }

    /// The stream of Server-Sent Events.
    fn events(&self) -> String {
        let mut out = String::new();
        let mut event = |name: &str, data: Value| {
            out.push_str(&format!("event: {name}\ndata: {data}\n\n"));
        };
        event(
            "message_start",
            json!({"type": "message_start", "message": self.head}),
        );
        for (index, (_, start, deltas)) in self.blocks.iter().enumerate() {
            event(
                "content_block_start",
                json!({"type": "content_block_start", "index": index, "content_block": start}),
            );
            for delta in deltas {
                event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": delta}),
                );
            }
            event(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            );
        }
        event(
            "message_delta",
            json!({"type": "message_delta",
                   "delta": {"stop_reason": self.stop_reason, "stop_sequence": null},
                   "usage": {"output_tokens": 5}}),
        );
        event("message_stop", json!({"type": "message_stop"}));
        out
    }
}
