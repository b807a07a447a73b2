//! The JSON API of CONTRACT.md §2 and the event stream.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::wire::{
    AppendResponse, CompleteResponse, DiffResponse, ErrorBody, Health, LiveResponse,
    LookupResponse, MessageKind, SessionList, StoredDiff, CLIENT_ID_HEADER, HARNESS_CLAUDE_CODE,
    MAX_DIFF_BYTES, MAX_JSON_BYTES, WRITE_TOKEN_HEADER,
};

use super::body::{
    self, count_blocks, is_object, parse_object, raw_elements, raw_string, read_body, BlockCounter,
    BlocksError, MAX_BLOCKS_PER_MESSAGE, MAX_BLOCKS_PER_REQUEST, MAX_MESSAGES_PER_REQUEST,
};
use super::events::{self, LiveEvent, StreamContext};
use super::json;
use super::store::{diff_stats, NewMessage, NewSession, Store, StoreError};
use super::AppState;

/// An error answer: a status and `{"error": text}`.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    pub(super) fn bad(text: impl Into<String>) -> Self {
        ApiError(StatusCode::BAD_REQUEST, text.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let close = self.0 == StatusCode::REQUEST_TIMEOUT;
        let mut res = (self.0, Json(ErrorBody { error: self.1 })).into_response();
        if close {
            // The rest of the body is not read: this connection is done.
            res.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let status = match e {
            StoreError::NotFound => StatusCode::NOT_FOUND,
            StoreError::Forbidden => StatusCode::FORBIDDEN,
            StoreError::NotLive => StatusCode::CONFLICT,
            StoreError::Backend(ref text) => {
                tracing::error!("{text}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError(status, e.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Run a store call on the blocking pool.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> ApiResult<T> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("task failed: {e}"),
            )
        })?
        .map_err(ApiError::from)
}

/// A struct of the named fields of a JSON object body, each kept as its raw
/// JSON text; other keys are skipped without being kept.
macro_rules! raw_fields {
    ($name:ident { $($field:ident),* $(,)? }) => {
        #[derive(Deserialize, Default)]
        struct $name<'a> {
            $(
                #[serde(borrow)]
                $field: Option<&'a RawValue>,
            )*
        }
    };
}

/// The whole body within `limit` bytes and the server's body timeout.
async fn whole_body(state: &AppState, body: Body, limit: usize) -> ApiResult<Bytes> {
    read_body(body, limit, state.body_timeout, |_| Ok(())).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client id of the request (401 without one).
fn client_id(headers: &HeaderMap) -> ApiResult<String> {
    let unauthorized = |text: &str| ApiError(StatusCode::UNAUTHORIZED, text.to_string());
    let value = headers
        .get(CLIENT_ID_HEADER)
        .ok_or_else(|| unauthorized("the X-Openctl-Client-ID header is required"))?;
    let id = value
        .to_str()
        .map_err(|_| unauthorized("the X-Openctl-Client-ID header must be visible ASCII"))?
        .trim();
    if id.is_empty() || id.len() > 128 {
        return Err(unauthorized(
            "the X-Openctl-Client-ID header must hold 1 to 128 characters",
        ));
    }
    Ok(id.to_string())
}

/// Check the bearer token (when the server has one) and return the client id.
fn writer(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(token) = &state.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
            return Err(ApiError(
                StatusCode::UNAUTHORIZED,
                "this server requires `Authorization: Bearer <token>` for writes; \
                 set it with `openctl config set token <token> --server <url>`"
                    .into(),
            ));
        }
    }
    client_id(headers)
}

/// The client id of a write (or of an owner-only read), proven by its
/// write token once one is bound to it: the first token a client id
/// presents is bound to it, and from then on a request for that id without
/// it is refused. Clients that never present one (the reference client)
/// are identified by the id alone, as by the reference server.
async fn authorize(state: &Arc<AppState>, headers: &HeaderMap) -> ApiResult<String> {
    let client_id = writer(state, headers)?;
    prove(state, headers, client_id).await
}

/// `client_id`, once the request proved it (see [`authorize`]).
async fn prove(state: &Arc<AppState>, headers: &HeaderMap, client_id: String) -> ApiResult<String> {
    let presented = headers
        .get(WRITE_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .map(crate::identity::token_hash);
    let cached = state
        .bound_tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&client_id)
        .cloned();
    let bound = match cached {
        Some(hash) => Some(hash),
        None => {
            let (id, offered, now) = (
                client_id.clone(),
                presented.clone(),
                crate::time::now_rfc3339(),
            );
            let hash = blocking(state, move |s| {
                s.bind_write_token(&id, offered.as_deref(), &now)
            })
            .await?;
            if let Some(h) = &hash {
                state
                    .bound_tokens
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(client_id.clone(), h.clone());
            }
            hash
        }
    };
    match (bound, presented) {
        (None, _) => Ok(client_id),
        (Some(hash), Some(p)) if constant_time_eq(hash.as_bytes(), p.as_bytes()) => Ok(client_id),
        (Some(_), _) => Err(ApiError(
            StatusCode::FORBIDDEN,
            "this client id is bound to a write token that this request did not present: \
             only the machine that first used the id may act as it (the token is in its \
             ~/.openctl/identities.json)"
                .into(),
        )),
    }
}

fn opt_string(raw: Option<&RawValue>, field: &str) -> ApiResult<Option<String>> {
    raw_string(raw).map_err(|()| ApiError::bad(format!("`{field}` must be a string")))
}

/// A required string of at least one character (the reference server's rule:
/// a title of only spaces is still a title).
fn required_string(raw: Option<&RawValue>, field: &str) -> ApiResult<String> {
    match opt_string(raw, field)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(ApiError::bad(format!(
            "`{field}` is required and must be a non-empty string"
        ))),
    }
}

/// A host we are willing to put into a URL: a plain `host[:port]`.
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
}

/// Base URL of this server as the client sees it: --public-url, else the
/// request's Host header (when it is a plain host), else our listen address.
pub(super) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.public_url {
        Some(base) => base.clone(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| plausible_host(h))
                .unwrap_or(&state.local_host);
            format!("http://{host}")
        }
    }
}

/// Absolute URL of a session page.
fn session_url(state: &AppState, headers: &HeaderMap, id: &str) -> String {
    format!("{}/sessions/{id}", base_url(state, headers))
}

/// 200 `{"status": "ok", ...}` while writes can be stored; else 503 with
/// `"status": "unavailable"`, `"storage": "unavailable"` and the reason in
/// `"error"`, so a load balancer stops sending traffic here.
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let health = Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        features: vec![
            crate::wire::FEATURE_KINDS.into(),
            crate::wire::FEATURE_RICH_TOOL_RESULTS.into(),
            crate::wire::FEATURE_SUBAGENTS.into(),
        ],
    };
    match blocking(&state, |s| s.check()).await {
        Ok(()) => Json(health).into_response(),
        Err(ApiError(status, error)) => (
            status,
            Json(json!({
                "status": "unavailable",
                "version": health.version,
                "features": health.features,
                "storage": "unavailable",
                "error": error,
            })),
        )
            .into_response(),
    }
}

raw_fields!(LiveIn {
    title,
    harness_session_id,
    claude_session_id,
    harness,
    project_path,
    model,
    repo_url,
    interactive
});

pub async fn live(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<LiveResponse>> {
    let client_id = authorize(&state, &headers).await?;
    let bytes = whole_body(&state, body, MAX_JSON_BYTES).await?;
    let obj: LiveIn = parse_object(&bytes)?;
    let title = required_string(obj.title, "title")?;
    let harness_session_id = match opt_string(obj.harness_session_id, "harness_session_id")? {
        Some(s) => Some(s),
        None => opt_string(obj.claude_session_id, "claude_session_id")?,
    }
    .filter(|s| !s.trim().is_empty())
    .ok_or_else(|| {
        ApiError::bad("`harness_session_id` (or `claude_session_id`) is required and must be a non-empty string")
    })?;
    let harness = opt_string(obj.harness, "harness")?.unwrap_or_else(|| HARNESS_CLAUDE_CODE.into());
    let interactive = match obj.interactive.map(|r| serde_json::from_str(r.get())) {
        None => false,
        Some(Ok(b)) => b,
        Some(Err(_)) => return Err(ApiError::bad("`interactive` must be a boolean")),
    };
    let new = NewSession {
        client_id,
        title,
        harness,
        harness_session_id,
        project_path: opt_string(obj.project_path, "project_path")?,
        model: opt_string(obj.model, "model")?,
        repo_url: opt_string(obj.repo_url, "repo_url")?,
        interactive,
    };
    let now = crate::time::now_rfc3339();
    let out = blocking(&state, move |s| s.live(new, &now)).await?;
    if out.restored {
        let data = json!({"status": "live", "message_count": out.session.message_count});
        state
            .hub
            .publish(&out.session.id, [LiveEvent::Live(data.to_string())]);
    }
    let url = session_url(&state, &headers, &out.session.id);
    Ok(Json(LiveResponse {
        id: out.session.id,
        url,
        status: out.session.status,
        resumed: out.resumed,
        restored: out.restored,
        message_count: out.session.message_count,
        last_index: out.session.message_count - 1,
        last_uuid: out.last_uuid,
    }))
}

raw_fields!(AppendIn { messages });

raw_fields!(MessageIn {
    role,
    content_blocks,
    timestamp,
    uuid,
    kind,
    agent_id,
    parent_tool_use_id
});

/// Validate one message of an append batch; `blocks` counts the content
/// blocks of the batch so far.
fn parse_message(i: usize, raw: &RawValue, blocks: &mut usize) -> ApiResult<NewMessage> {
    let field = |name: &str| format!("messages[{i}].{name}");
    let obj: MessageIn = Some(raw)
        .filter(|r| is_object(r))
        .and_then(|r| serde_json::from_str(r.get()).ok())
        .ok_or_else(|| ApiError::bad(format!("`messages[{i}]` must be an object")))?;
    let role = match raw_string(obj.role) {
        Ok(Some(r)) if r == "user" || r == "assistant" => r,
        _ => {
            return Err(ApiError::bad(format!(
                "`{}` is required and must be \"user\" or \"assistant\"",
                field("role")
            )))
        }
    };
    let not_array = || {
        ApiError::bad(format!(
            "`{}` is required and must be an array",
            field("content_blocks")
        ))
    };
    let content = obj.content_blocks.ok_or_else(not_array)?;
    match count_blocks(content, MAX_BLOCKS_PER_MESSAGE) {
        Ok(n) => *blocks += n,
        Err(BlocksError::NotArray) => return Err(not_array()),
        Err(BlocksError::NotObject(j)) => {
            return Err(ApiError::bad(format!(
                "`{}[{j}]` must be an object",
                field("content_blocks")
            )))
        }
        Err(BlocksError::TooMany) => return Err(body::too_many_blocks_in_message(i)),
    }
    if *blocks > MAX_BLOCKS_PER_REQUEST {
        return Err(body::too_many_blocks_in_request());
    }
    let opt = |raw: Option<&RawValue>, name: &str| match raw_string(raw) {
        Ok(s) if s.as_ref().is_none_or(|s| s.len() <= 256) => Ok(s),
        _ => Err(ApiError::bad(format!(
            "`{}` must be a string of at most 256 bytes",
            field(name)
        ))),
    };
    Ok(NewMessage {
        role,
        content_blocks: body::compact(content)
            .map_err(|e| ApiError::bad(format!("`{}`: {e}", field("content_blocks"))))?,
        timestamp: opt(obj.timestamp, "timestamp")?,
        uuid: opt(obj.uuid, "uuid")?,
        // A kind this server does not know (a newer client) is stored as
        // none rather than failing the batch.
        kind: opt(obj.kind, "kind")?
            .as_deref()
            .and_then(MessageKind::parse),
        agent_id: opt(obj.agent_id, "agent_id")?,
        parent_tool_use_id: opt(obj.parent_tool_use_id, "parent_tool_use_id")?,
    })
}

pub async fn append(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<AppendResponse>> {
    let client_id = authorize(&state, &headers).await?;
    // Blocks are counted while the body arrives: one of many tiny blocks is
    // refused without being kept.
    let mut counter = BlockCounter::default();
    let bytes = read_body(body, MAX_JSON_BYTES, state.body_timeout, |chunk| {
        counter.feed(chunk)
    })
    .await?;
    let obj: AppendIn = parse_object(&bytes)?;
    let messages = match obj
        .messages
        .map(|m| raw_elements(m, MAX_MESSAGES_PER_REQUEST))
    {
        Some(Ok(Some(m))) if !m.is_empty() => m,
        Some(Err(())) => return Err(body::too_many_messages()),
        _ => {
            return Err(ApiError::bad(
                "`messages` is required and must be a non-empty array",
            ))
        }
    };
    let mut blocks = 0;
    let messages = messages
        .iter()
        .enumerate()
        .map(|(i, m)| parse_message(i, m, &mut blocks))
        .collect::<ApiResult<Vec<_>>>()?;
    drop(bytes);
    let now = crate::time::now_rfc3339();
    let sid = id.clone();
    let out = blocking(&state, move |s| s.append(&sid, &client_id, messages, &now)).await?;
    let appended = out.appended.len() as i64;
    state.hub.publish(
        &id,
        out.appended
            .into_iter()
            .map(|m| LiveEvent::Message(Arc::new(m))),
    );
    Ok(Json(AppendResponse {
        appended,
        message_count: out.message_count,
        last_index: out.message_count - 1,
    }))
}

fn stored_diff(text: String) -> StoredDiff {
    let (files_changed, additions, deletions) = diff_stats(&text);
    StoredDiff {
        diff: text,
        files_changed,
        additions,
        deletions,
        updated_at: crate::time::now_rfc3339(),
    }
}

fn diff_event(d: &StoredDiff) -> LiveEvent {
    LiveEvent::Diff(serde_json::to_string(d).unwrap_or_else(|_| "{}".into()))
}

pub async fn put_diff(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<DiffResponse>> {
    let client_id = authorize(&state, &headers).await?;
    let bytes = whole_body(&state, body, MAX_DIFF_BYTES).await?;
    let diff = stored_diff(String::from_utf8_lossy(&bytes).into_owned());
    let sid = id.clone();
    let (_, diff) = blocking(&state, move |s| s.put_diff(&sid, &client_id, diff)).await?;
    let response = DiffResponse {
        files_changed: diff.files_changed,
        additions: diff.additions,
        deletions: diff.deletions,
    };
    state.hub.publish(&id, [diff_event(&diff)]);
    Ok(Json(response))
}

fn seconds_between(start: &str, end: Option<&str>) -> i64 {
    let (Some(start), Some(end)) = (
        crate::time::parse_rfc3339(start),
        end.and_then(crate::time::parse_rfc3339),
    ) else {
        return 0;
    };
    end.duration_since(start)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

raw_fields!(CompleteIn {
    final_diff,
    summary
});

pub async fn complete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<CompleteResponse>> {
    let client_id = authorize(&state, &headers).await?;
    let bytes = whole_body(&state, body, MAX_DIFF_BYTES).await?;
    let obj: CompleteIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        CompleteIn::default()
    } else {
        parse_object(&bytes)?
    };
    let final_diff = opt_string(obj.final_diff, "final_diff")?.map(stored_diff);
    let summary = opt_string(obj.summary, "summary")?;
    drop(bytes);
    let now = crate::time::now_rfc3339();
    let sid = id.clone();
    let out = blocking(&state, move |s| {
        s.complete(&sid, &client_id, final_diff, summary, &now)
    })
    .await?;
    let info = &out.session;
    let response = CompleteResponse {
        status: info.status.clone(),
        message_count: info.message_count,
        duration_seconds: seconds_between(&info.created_at, info.completed_at.as_deref()),
    };
    let mut events = Vec::new();
    if let Some(d) = &out.diff {
        events.push(diff_event(d));
    }
    if out.changed {
        let data = json!({"status": "complete", "completed_at": info.completed_at,
                          "message_count": info.message_count});
        events.push(LiveEvent::Complete(data.to_string()));
    }
    state.hub.publish(&id, events);
    Ok(Json(response))
}

raw_fields!(PatchIn { title, description });

pub async fn patch(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let client_id = authorize(&state, &headers).await?;
    let bytes = whole_body(&state, body, MAX_JSON_BYTES).await?;
    let obj: PatchIn = parse_object(&bytes)?;
    let title = opt_string(obj.title, "title")?;
    let description = opt_string(obj.description, "description")?;
    if title.is_none() && description.is_none() {
        return Err(ApiError::bad("`title` or `description` is required"));
    }
    if title.as_deref().is_some_and(str::is_empty) {
        return Err(ApiError::bad("`title` must be a non-empty string"));
    }
    let now = crate::time::now_rfc3339();
    let sid = id.clone();
    let new_title = title.is_some();
    let info = blocking(&state, move |s| {
        s.patch(&sid, &client_id, title, description, &now)
    })
    .await?;
    if new_title {
        let data = json!({"title": info.title, "description": info.description});
        state.hub.publish(&id, [LiveEvent::Title(data.to_string())]);
    }
    Ok(Json(json!({
        "updated": true,
        "id": info.id,
        "title": info.title,
        "description": info.description,
    })))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let client_id = authorize(&state, &headers).await?;
    blocking(&state, move |s| s.delete(&id, &client_id)).await?;
    Ok(Json(json!({"success": true})))
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Most sessions one list answer holds.
const MAX_LIST: i64 = 500;

/// `GET /api/sessions`: with `claude_session_id`, the caller's session of
/// that Claude Code session; without, the caller's sessions, newest first
/// (`?limit=` up to 500, default 100, `?offset=`, `?project=`), as the
/// reference server answers its CLI's `session list`. Never another
/// client's.
pub async fn lookup(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let client_id = prove(&state, &headers, client_id(&headers)?).await?;
    let q = query.as_deref();
    let Some(harness_session_id) = query_param(q, "claude_session_id")
        .or_else(|| query_param(q, "harness_session_id"))
        .filter(|s| !s.is_empty())
    else {
        let number = |name: &str, default: i64| -> ApiResult<i64> {
            match query_param(q, name) {
                None => Ok(default),
                Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    ApiError::bad(format!("`{name}` must be a number of at least 0"))
                }),
            }
        };
        let limit = number("limit", 100)?.min(MAX_LIST);
        let offset = number("offset", 0)?;
        let project = query_param(q, "project").filter(|p| !p.is_empty());
        let sessions = blocking(&state, move |s| {
            s.list_owned(&client_id, project.as_deref(), limit, offset)
        })
        .await?;
        return Ok(Json(SessionList {
            sessions,
            limit,
            offset,
        })
        .into_response());
    };
    let harness = query_param(q, "harness").unwrap_or_else(|| HARNESS_CLAUDE_CODE.to_string());
    let session = blocking(&state, move |s| {
        s.lookup(&harness, &harness_session_id, &client_id)
    })
    .await?;
    let url = session
        .as_ref()
        .map(|s| session_url(&state, &headers, &s.id));
    Ok(Json(LookupResponse { session, url }).into_response())
}

/// `POST /api/sessions`: the reference server's upload of a finished
/// session (multipart), which this server does not take.
pub async fn upload() -> ApiError {
    ApiError(
        StatusCode::METHOD_NOT_ALLOWED,
        "this server does not take uploads of finished sessions (multipart POST /api/sessions); \
         share a session live instead: `openctl share` (POST /api/sessions/live, then \
         POST /api/sessions/:id/messages)"
            .into(),
    )
}

pub async fn detail(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let session = blocking(&state, move |s| s.session(&id)).await?;
    let body = json::session_detail_stream(state.store.clone(), &session);
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response())
}

/// Where a viewer's stream starts: `Last-Event-ID` + 1 (a browser's
/// reconnect, newer than the URL), else `?from=N`, else 0.
fn stream_start(query: Option<&str>, headers: &HeaderMap) -> ApiResult<i64> {
    let bad_id = || ApiError::bad("`Last-Event-ID` must be a message index");
    match headers.get("last-event-id").map(|v| v.to_str()) {
        Some(Ok(v)) if !v.trim().is_empty() => {
            return v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0 && *n < i64::MAX)
                .map(|n| n + 1)
                .ok_or_else(bad_id)
        }
        Some(Err(_)) => return Err(bad_id()),
        _ => {}
    }
    match query_param(query, "from") {
        None => Ok(0),
        Some(from) => from
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::bad("`from` must be a non-negative integer")),
    }
}

pub async fn events(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let from = stream_start(query.as_deref(), &headers)?;
    let sid = id.clone();
    let info = blocking(&state, move |s| s.session(&sid)).await?;
    // The viewer page asks for its HTML fragments.
    let view = (query_param(query.as_deref(), "view").as_deref() == Some("html")).then(|| {
        super::render::Ctx {
            project: info.project_path.clone(),
            live: true,
        }
    });
    let ctx = StreamContext {
        store: state.store.clone(),
        hub: state.hub.clone(),
        session_id: id,
        from,
        keep_alive: state.keep_alive,
        shutdown: state.shutdown.clone(),
        view,
    };
    Ok(events::sse(ctx).into_response())
}

/// `GET /api/stats` (ours): how many event streams are open on this server,
/// so an operator (and the viewer's tests) can see that hidden pages hold
/// none.
pub async fn stats(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"event_streams": state.hub.stream_count()}))
}

pub async fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such endpoint".into())
}
