//! HTTP client for the server API (CONTRACT.md), shared by the CLI and the daemon.
//!
//! One [`Http`] (a reused `reqwest::Client` plus this machine's client id) is
//! made per process; a [`ServerApi`] binds it to one server URL and that
//! server's optional bearer token. Every call returns an [`ApiError`] that
//! tells "the server could not be reached" (CLI exit 5) from "the server
//! answered with an error status" (CLI exit 1), carrying the server's
//! `{"error"}` text.
//!
//! The daemon awaits the async methods on its own runtime; the CLI wraps a
//! call in [`block_on`], which runs it on a small current-thread runtime.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{CliError, Exit};
use crate::identity::Identity;
use crate::wire::{
    self, AppendResponse, CompleteRequest, CompleteResponse, DiffResponse, Health, LiveRequest,
    LiveResponse, LookupResponse, Message, PatchRequest, SessionDetail,
};

/// How long establishing a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole request may take (a 10 MiB batch on a slow link).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a small request may take before it is retried.
const SMALL_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest error text kept from a server answer.
const MAX_ERROR_TEXT: usize = 500;

/// Why a request failed.
#[derive(Debug)]
pub enum ApiError {
    /// No HTTP answer: DNS, connect, TLS, timeout or a connection cut
    /// mid-request (the request may or may not have been processed).
    Unreachable { url: String, reason: String },
    /// The server answered with a non-2xx status.
    Status {
        url: String,
        status: u16,
        message: String,
        /// How long the server asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// A 2xx answer whose body is not what the contract says.
    BadResponse { url: String, reason: String },
}

impl ApiError {
    /// The wait a server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when retrying later may succeed (CONTRACT.md §3: network
    /// failures, 408, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Unreachable { .. } | ApiError::BadResponse { .. } => true,
            ApiError::Status { status, .. } => {
                *status == 408 || *status == 429 || (500..600).contains(status)
            }
        }
    }

    /// The error as the CLI reports it: exit 5 when the server could not be
    /// reached, else exit 1 with the server's message.
    pub fn into_cli(self) -> anyhow::Error {
        match &self {
            ApiError::Unreachable { .. } => CliError::new(Exit::Unreachable, self.to_string())
                .with_hint("check that the server is running and the URL is right (--server)")
                .into(),
            _ => CliError::new(Exit::Failure, self.to_string()).into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable { url, reason } => {
                write!(f, "cannot reach {url}: {reason}")
            }
            ApiError::Status {
                url,
                status,
                message,
                ..
            } => write!(f, "{url} answered {status}: {message}"),
            ApiError::BadResponse { url, reason } => {
                write!(f, "unexpected answer from {url}: {reason}")
            }
        }
    }
}

impl std::error::Error for ApiError {}

/// The answer of `POST /api/sessions/live` plus what it tells about the server.
#[derive(Debug, Clone)]
pub struct Live {
    pub response: LiveResponse,
    /// The server reports `last_uuid`, so it skips messages whose `uuid` it
    /// already stored (ours); the reference server appends blindly.
    pub idempotent: bool,
    /// `response.url` made absolute against the server URL.
    pub url: String,
}

/// A reusable HTTP client (connection pool); the identity is per server.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> anyhow::Result<Http> {
        let mut headers = HeaderMap::new();
        let ua = HeaderValue::from_str(&wire::user_agent()).context("invalid user agent")?;
        headers.insert(USER_AGENT, ua);
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(2)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Http { client })
    }

    /// Bind to `server` (a normalized URL) with an optional bearer token,
    /// as this machine's identity for that server (made on first use).
    pub fn server(&self, server: &str, token: Option<String>) -> anyhow::Result<ServerApi> {
        let home = crate::paths::ensure_openctl_home()?;
        let (identity, made) = crate::identity::for_server_in(&home, server)?;
        let mut api = self.server_as(server, token, identity);
        api.new_identity = made;
        Ok(api)
    }

    /// Bind to `server` as `identity`.
    pub fn server_as(&self, server: &str, token: Option<String>, identity: Identity) -> ServerApi {
        ServerApi {
            http: self.clone(),
            base: server.trim_end_matches('/').to_string(),
            token,
            identity,
            new_identity: false,
        }
    }
}

/// The API of one server.
#[derive(Clone)]
pub struct ServerApi {
    http: Http,
    base: String,
    token: Option<String>,
    identity: Identity,
    /// The identity was made for this use: a server that never answers
    /// must not keep it (see [`ServerApi::forget_if_never_answered`]).
    new_identity: bool,
}

impl ServerApi {
    /// The server URL this client talks to.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// After `err` on the first request to a server met for the first
    /// time: a server that never answered keeps no identity.
    pub fn forget_if_never_answered(&self, err: &ApiError) {
        if self.new_identity && matches!(err, ApiError::Unreachable { .. }) {
            let _ = crate::identity::forget(&self.base, &self.identity);
        }
    }

    /// The client id this machine shows this server.
    pub fn client_id(&self) -> &str {
        &self.identity.client_id
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .client
            .request(method, url)
            .header(wire::CLIENT_ID_HEADER, &self.identity.client_id)
            .header(wire::WRITE_TOKEN_HEADER, &self.identity.write_token);
        if let Some(token) = &self.token {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        req
    }

    /// Send `req` and return the raw body of a 2xx answer.
    async fn send(&self, url: &str, req: reqwest::RequestBuilder) -> Result<Vec<u8>, ApiError> {
        let resp = req.send().await.map_err(|e| unreachable(url, &e))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = resp.bytes().await.map_err(|e| unreachable(url, &e))?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        Err(ApiError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            message: error_message(status, &body),
            retry_after,
        })
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        url: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let body = self.send(url, req).await?;
        serde_json::from_slice(&body).map_err(|e| ApiError::BadResponse {
            url: url.to_string(),
            reason: format!("invalid JSON ({e})"),
        })
    }

    fn json_body<B: Serialize>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: &B,
    ) -> Result<reqwest::RequestBuilder, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::BadResponse {
            url: url.to_string(),
            reason: format!("cannot encode the request ({e})"),
        })?;
        Ok(self
            .request(method, url)
            .header(CONTENT_TYPE, "application/json")
            .timeout(timeout_for(bytes.len()))
            .body(bytes))
    }

    /// `GET /api/health`.
    pub async fn health(&self) -> Result<Health, ApiError> {
        let url = self.url("/api/health");
        self.send_json(&url, self.request(reqwest::Method::GET, &url))
            .await
    }

    /// `POST /api/sessions/live`: create, resume or restore.
    pub async fn create_live(&self, req: &LiveRequest) -> Result<Live, ApiError> {
        let url = self.url("/api/sessions/live");
        let builder = self.json_body(reqwest::Method::POST, &url, req)?;
        let raw: Value = self.send_json(&url, builder).await?;
        let idempotent = raw.get("last_uuid").is_some();
        let response: LiveResponse =
            serde_json::from_value(raw).map_err(|e| ApiError::BadResponse {
                url: url.clone(),
                reason: format!("not a live-session answer ({e})"),
            })?;
        let url = crate::server_url::absolute(&self.base, &response.url);
        Ok(Live {
            response,
            idempotent,
            url,
        })
    }

    /// `POST /api/sessions/:id/messages` with an already encoded
    /// `{"messages": [...]}` body.
    pub async fn append_json(&self, id: &str, body: Vec<u8>) -> Result<AppendResponse, ApiError> {
        let url = self.url(&format!("/api/sessions/{}/messages", path_segment(id)));
        let req = self
            .request(reqwest::Method::POST, &url)
            .header(CONTENT_TYPE, "application/json")
            .timeout(timeout_for(body.len()))
            .body(body);
        self.send_json(&url, req).await
    }

    /// `POST /api/sessions/:id/messages`.
    pub async fn append(&self, id: &str, messages: &[Message]) -> Result<AppendResponse, ApiError> {
        let body = encode_messages(messages).map_err(|e| ApiError::BadResponse {
            url: self.base.clone(),
            reason: format!("cannot encode messages ({e})"),
        })?;
        self.append_json(id, body).await
    }

    /// `PUT /api/sessions/:id/diff`.
    pub async fn put_diff(&self, id: &str, diff: String) -> Result<DiffResponse, ApiError> {
        let url = self.url(&format!("/api/sessions/{}/diff", path_segment(id)));
        let req = self
            .request(reqwest::Method::PUT, &url)
            .header(CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(diff);
        self.send_json(&url, req).await
    }

    /// `POST /api/sessions/:id/complete`.
    pub async fn complete(
        &self,
        id: &str,
        req: &CompleteRequest,
    ) -> Result<CompleteResponse, ApiError> {
        let url = self.url(&format!("/api/sessions/{}/complete", path_segment(id)));
        let builder = self.json_body(reqwest::Method::POST, &url, req)?;
        self.send_json(&url, builder).await
    }

    /// `PATCH /api/sessions/:id`.
    pub async fn patch(&self, id: &str, req: &PatchRequest) -> Result<Value, ApiError> {
        let url = self.url(&format!("/api/sessions/{}", path_segment(id)));
        let builder = self.json_body(reqwest::Method::PATCH, &url, req)?;
        self.send_json(&url, builder).await
    }

    /// `DELETE /api/sessions/:id`.
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        let url = self.url(&format!("/api/sessions/{}", path_segment(id)));
        self.send(&url, self.request(reqwest::Method::DELETE, &url))
            .await
            .map(|_| ())
    }

    /// `GET /api/sessions?claude_session_id=`.
    pub async fn lookup(&self, claude_session_id: &str) -> Result<LookupResponse, ApiError> {
        let url = self.url("/api/sessions");
        let req = self
            .request(reqwest::Method::GET, &url)
            .query(&[("claude_session_id", claude_session_id)]);
        self.send_json(&url, req).await
    }

    /// `GET /api/sessions/:id`.
    pub async fn get_session(&self, id: &str) -> Result<SessionDetail, ApiError> {
        let url = self.url(&format!("/api/sessions/{}", path_segment(id)));
        self.send_json(&url, self.request(reqwest::Method::GET, &url))
            .await
    }
}

/// Encode `{"messages": [...]}`.
pub fn encode_messages(messages: &[Message]) -> serde_json::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Body<'a> {
        messages: &'a [Message],
    }
    serde_json::to_vec(&Body { messages })
}

/// Server ids are opaque: keep them to one URL path segment.
fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn unreachable(url: &str, e: &reqwest::Error) -> ApiError {
    let reason = if e.is_timeout() {
        "the request timed out".to_string()
    } else if e.is_connect() {
        format!("connection failed ({})", root_cause(e))
    } else {
        root_cause(e)
    };
    ApiError::Unreachable {
        url: url.to_string(),
        reason,
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The `{"error"}` text of an error answer, else its status line.
/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// How long a request with a body of `len` bytes may take: a small push
/// must not hold its session for a minute when an answer never comes, a
/// full batch on a slow link gets more.
pub fn timeout_for(len: usize) -> Duration {
    let per_100k = Duration::from_secs((len / (100 * 1024)) as u64);
    (SMALL_REQUEST_TIMEOUT + per_100k).min(REQUEST_TIMEOUT)
}

fn error_message(status: StatusCode, body: &[u8]) -> String {
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.get("error")
            .and_then(Value::as_str)
            .map(|s| s.chars().take(MAX_ERROR_TEXT).collect::<String>())
    });
    from_json.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_ERROR_TEXT || text.starts_with('<') {
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_ascii_lowercase()
        } else {
            text.to_string()
        }
    })
}

/// Run one future to completion on a fresh current-thread runtime: how the
/// (synchronous) CLI calls the async API.
pub fn block_on<F: Future>(fut: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(rt.block_on(fut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_prefers_json_error() {
        assert_eq!(
            error_message(StatusCode::BAD_REQUEST, br#"{"error":"title required"}"#),
            "title required"
        );
        assert_eq!(
            error_message(StatusCode::NOT_FOUND, b"<html>nope</html>"),
            "not found"
        );
        assert_eq!(error_message(StatusCode::CONFLICT, b"busy"), "busy");
    }

    #[test]
    fn retry_after_and_timeouts() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(timeout_for(2_000), SMALL_REQUEST_TIMEOUT);
        assert_eq!(timeout_for(9 * 1024 * 1024), REQUEST_TIMEOUT);
    }

    #[test]
    fn transient_statuses() {
        let st = |status| ApiError::Status {
            url: "u".into(),
            status,
            message: String::new(),
            retry_after: None,
        };
        assert!(st(503).is_transient());
        assert!(st(429).is_transient());
        assert!(st(408).is_transient());
        assert!(!st(400).is_transient());
        assert!(!st(409).is_transient());
        assert!(ApiError::Unreachable {
            url: "u".into(),
            reason: "r".into()
        }
        .is_transient());
    }

    #[test]
    fn unreachable_maps_to_exit_5() {
        let err = ApiError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            reason: "refused".into(),
        }
        .into_cli();
        assert_eq!(crate::error::exit_code(&err), 5);
        let err = ApiError::Status {
            url: "u".into(),
            status: 403,
            message: "not yours".into(),
            retry_after: None,
        }
        .into_cli();
        assert_eq!(crate::error::exit_code(&err), 1);
        assert!(err.to_string().contains("not yours"));
    }

    #[test]
    fn refused_connection_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let identity = Identity {
            client_id: uuid::Uuid::new_v4().to_string(),
            write_token: "t".into(),
        };
        let api =
            Http::new()
                .unwrap()
                .server_as(&format!("http://127.0.0.1:{port}"), None, identity);
        let err = block_on(api.health()).unwrap().unwrap_err();
        assert!(matches!(err, ApiError::Unreachable { .. }), "{err}");
    }
}
