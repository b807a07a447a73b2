//! The HTTP API between the CLI/daemon and a server (CONTRACT.md), defined
//! once for client and server.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Header that carries the client's identity.
pub const CLIENT_ID_HEADER: &str = "x-openctl-client-id";
/// Ours: the secret that proves the client id on writes (see
/// [`crate::identity`]); the reference server ignores it.
pub const WRITE_TOKEN_HEADER: &str = "x-openctl-write-token";
/// The only harness this version sends.
pub const HARNESS_CLAUDE_CODE: &str = "claude-code";
/// Title sent until one is derived from the transcript.
pub const DEFAULT_TITLE: &str = "Live Session";
/// Largest JSON body a server accepts (bytes actually read).
pub const MAX_JSON_BYTES: usize = 10 * 1024 * 1024;
/// Largest diff body a server accepts.
pub const MAX_DIFF_BYTES: usize = 50 * 1024 * 1024;

/// `User-Agent` of every request we send.
pub fn user_agent() -> String {
    format!("openctl/{}", env!("CARGO_PKG_VERSION"))
}

/// Health feature: messages keep their `kind`.
pub const FEATURE_KINDS: &str = "kinds";
/// Health feature: tool results may be arrays of text and image blocks.
pub const FEATURE_RICH_TOOL_RESULTS: &str = "rich_tool_results";
/// Health feature: messages of subagents (`agent_id`, `parent_tool_use_id`).
pub const FEATURE_SUBAGENTS: &str = "subagents";

/// `GET /api/health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Ours: what this server takes beyond the reference server's shapes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

/// `POST /api/sessions/live` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveRequest {
    pub title: String,
    #[serde(alias = "claude_session_id")]
    pub harness_session_id: String,
    #[serde(default = "default_harness")]
    pub harness: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<bool>,
}

fn default_harness() -> String {
    HARNESS_CLAUDE_CODE.to_string()
}

/// `POST /api/sessions/live` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveResponse {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub resumed: bool,
    #[serde(default)]
    pub restored: bool,
    #[serde(default)]
    pub message_count: i64,
    #[serde(default = "minus_one")]
    pub last_index: i64,
    /// Ours only: idempotency key of the newest stored message.
    #[serde(default)]
    pub last_uuid: Option<String>,
}

fn minus_one() -> i64 {
    -1
}

/// What a message is, decided once from its transcript line
/// ([`crate::transcript::classify`]) so a viewer can tell what a person
/// typed from what Claude Code or a hook put in. Sent as the extra `kind`
/// field of a message: the reference server drops unknown keys, ours stores
/// and returns it. A kind only changes how a message is shown; nothing is
/// dropped because of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Typed by the person.
    Prompt,
    /// The assistant's answer (text, thinking, tool calls).
    Response,
    /// Output of tool calls, sent back to the model.
    ToolResult,
    /// A slash command and its arguments (`/model`, `/openctl:share`).
    Command,
    /// Text Claude Code or a hook put in: expanded command prompts, skill
    /// bodies, reminders, caveats, interruptions, messages it made itself.
    Injected,
    /// The summary Claude Code wrote when it compacted the conversation.
    CompactSummary,
    /// A local command run from the prompt (`!ls`) and its output.
    LocalOutput,
}

impl MessageKind {
    pub const ALL: [MessageKind; 7] = [
        MessageKind::Prompt,
        MessageKind::Response,
        MessageKind::ToolResult,
        MessageKind::Command,
        MessageKind::Injected,
        MessageKind::CompactSummary,
        MessageKind::LocalOutput,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Prompt => "prompt",
            MessageKind::Response => "response",
            MessageKind::ToolResult => "tool_result",
            MessageKind::Command => "command",
            MessageKind::Injected => "injected",
            MessageKind::CompactSummary => "compact_summary",
            MessageKind::LocalOutput => "local_output",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A kind this version does not know (sent by a newer client) is read as
/// none, never as a reason to reject the message.
fn lenient_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<MessageKind>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.as_ref()
        .and_then(Value::as_str)
        .and_then(MessageKind::parse))
}

/// One message as pushed by the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    /// Blocks as JSON: the daemon sends only the types the reference server
    /// accepts (see [`crate::transcript`]); our server stores any object.
    pub content_blocks: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Ours: the transcript line's uuid, the idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Ours: what the message is (see [`MessageKind`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_kind"
    )]
    pub kind: Option<MessageKind>,
    /// Ours: the subagent whose transcript this message comes from (none
    /// for the session's own conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Ours: the tool call (Task/Agent) that started that subagent, when
    /// known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_tool_use_id: Option<String>,
}

/// `POST /api/sessions/:id/messages` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppendRequest {
    pub messages: Vec<Message>,
}

/// `POST /api/sessions/:id/messages` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppendResponse {
    pub appended: i64,
    pub message_count: i64,
    pub last_index: i64,
}

/// `PUT /api/sessions/:id/diff` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiffResponse {
    pub files_changed: i64,
    pub additions: i64,
    pub deletions: i64,
}

/// `POST /api/sessions/:id/complete` request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CompleteRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_diff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// `POST /api/sessions/:id/complete` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompleteResponse {
    pub status: String,
    pub message_count: i64,
    pub duration_seconds: i64,
}

/// `PATCH /api/sessions/:id` request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PatchRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Error body of every non-2xx answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// A session as the server describes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub status: String,
    #[serde(default)]
    pub harness: String,
    #[serde(default)]
    pub harness_session_id: String,
    #[serde(default)]
    pub project_path: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub repo_url: Option<String>,
    #[serde(default)]
    pub interactive: bool,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub message_count: i64,
    /// The summary sent with complete, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// A stored message as the server returns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMessage {
    pub message_index: i64,
    pub role: String,
    pub content_blocks: Vec<Value>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    /// Absent on messages stored before kinds existed, or sent without one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_kind"
    )]
    pub kind: Option<MessageKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_tool_use_id: Option<String>,
}

/// A stored diff as the server returns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDiff {
    pub diff: String,
    pub files_changed: i64,
    pub additions: i64,
    pub deletions: i64,
    #[serde(default)]
    pub updated_at: String,
}

/// `GET /api/sessions/:id` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionDetail {
    pub session: SessionInfo,
    pub messages: Vec<StoredMessage>,
    pub diffs: Vec<StoredDiff>,
}

/// `GET /api/sessions?claude_session_id=` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupResponse {
    pub session: Option<SessionInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}
