//! Integration tests: the daemon's failure handling (CONTRACT.md §3) and its
//! behaviour against the reference server. The real daemon binary streams to
//! an in-test fake server (axum on its own tokio runtime, 127.0.0.1:0) that
//! records every request and fails on cue: poison messages (400), size
//! limits (413), sessions completed (409) or deleted (404) behind the
//! daemon's back, identity refusals (401/403), transient errors, cut
//! connections and lost responses. In reference mode the fake behaves like
//! the original server: no `last_uuid` in `/live`, blind appends.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};

use crate::common::{
    append, assistant_line, daemon_pair, daemon_status, stderr, stdout, user_line, wait_for,
    write_config, write_shares, DaemonGuard, TestEnv, TestServer,
};

const LONG: Duration = Duration::from_secs(30);
const REPO_ID: &str = "github.com/acme/proj";

// ---------------------------------------------------------------------------
// The fake server

/// What the fake does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Behave like a server.
    Serve,
    /// Answer this status without processing the request.
    Fail(u16),
    /// Answer this status with `Retry-After: <secs>`, without processing.
    FailRetryAfter(u16, u64),
    /// Cut the connection without processing the request.
    Drop,
    /// Process the request, then cut the connection: the client cannot
    /// know that it was stored.
    LoseResponse,
    /// Process the request, then answer only once released.
    Hold,
}

/// Which endpoint a request hit.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Live,
    Append(String),
    Complete(String),
    Patch(String),
    Diff(String),
    Delete(String),
    Other,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
struct Request {
    kind: Kind,
    /// The Claude session the request concerns, when known.
    harness: Option<String>,
    body_len: usize,
    /// The messages of an append.
    messages: Vec<Value>,
    action: Action,
    /// The status answered; 0 when the connection was cut or never answered.
    status: u16,
    /// The `/live` answer.
    live: Option<Value>,
}

impl Request {
    fn is_append(&self) -> bool {
        matches!(self.kind, Kind::Append(_))
    }

    fn texts(&self) -> Vec<String> {
        self.messages.iter().map(text).collect()
    }
}

struct FakeSession {
    id: String,
    harness: String,
    live: bool,
    messages: Vec<Value>,
    uuids: HashSet<String>,
}

type Rule = Box<dyn FnMut(&Request) -> Action + Send>;

struct Inner {
    /// Ours (skips known uuids, reports `last_uuid`) or the reference server.
    idempotent: bool,
    sessions: Vec<FakeSession>,
    requests: Vec<Request>,
    rule: Rule,
    released: bool,
    next_id: u64,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(inner: &Shared) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

struct FakeServer {
    url: String,
    inner: Shared,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FakeServer {
    /// Our server's semantics (uuid idempotency, `last_uuid`).
    fn ours() -> FakeServer {
        FakeServer::start(true)
    }

    /// The reference server's semantics (blind appends, no `last_uuid`).
    fn reference() -> FakeServer {
        FakeServer::start(false)
    }

    fn start(idempotent: bool) -> FakeServer {
        let inner: Shared = Arc::new(Mutex::new(Inner {
            idempotent,
            sessions: Vec::new(),
            requests: Vec::new(),
            rule: Box::new(|_| Action::Serve),
            released: false,
            next_id: 1,
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("fake server runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the fake server");
        let addr = listener.local_addr().expect("fake server address");
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
            .with_state(inner.clone());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeServer {
            url: format!("http://{addr}"),
            inner,
            runtime: Some(runtime),
        }
    }

    /// Decide what to do with every request from now on.
    /// Hold every message push (until released); serve everything else.
    fn hold_appends(&self) {
        self.set_rule(|r| {
            if r.is_append() {
                Action::Hold
            } else {
                Action::Serve
            }
        });
    }

    fn set_rule(&self, rule: impl FnMut(&Request) -> Action + Send + 'static) {
        lock(&self.inner).rule = Box::new(rule);
    }

    fn requests(&self) -> Vec<Request> {
        lock(&self.inner).requests.clone()
    }

    /// Requests concerning `harness`.
    fn requests_for(&self, harness: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.harness.as_deref() == Some(harness))
            .collect()
    }

    /// What the newest server session of `harness` stores.
    fn messages(&self, harness: &str) -> Vec<Value> {
        lock(&self.inner)
            .sessions
            .iter()
            .rev()
            .find(|s| s.harness == harness)
            .map(|s| s.messages.clone())
            .unwrap_or_default()
    }

    /// Server session ids ever created for `harness`, oldest first.
    fn session_ids(&self, harness: &str) -> Vec<String> {
        lock(&self.inner)
            .sessions
            .iter()
            .filter(|s| s.harness == harness)
            .map(|s| s.id.clone())
            .collect()
    }

    fn is_live(&self, harness: &str) -> bool {
        lock(&self.inner)
            .sessions
            .iter()
            .any(|s| s.harness == harness && s.live)
    }

    /// Mark the session complete, as if another client or an admin had.
    fn complete_session(&self, harness: &str) {
        for s in lock(&self.inner).sessions.iter_mut() {
            if s.harness == harness {
                s.live = false;
            }
        }
    }

    /// Delete the session and its messages.
    fn delete_session(&self, harness: &str) {
        lock(&self.inner).sessions.retain(|s| s.harness != harness);
    }

    /// Let held requests answer.
    fn release(&self) {
        lock(&self.inner).released = true;
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn classify(method: &Method, path: &str) -> Kind {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["api", "sessions", "live"]) => Kind::Live,
        ("POST", ["api", "sessions", id, "messages"]) => Kind::Append(id.to_string()),
        ("POST", ["api", "sessions", id, "complete"]) => Kind::Complete(id.to_string()),
        ("PUT", ["api", "sessions", id, "diff"]) => Kind::Diff(id.to_string()),
        ("PATCH", ["api", "sessions", id]) => Kind::Patch(id.to_string()),
        ("DELETE", ["api", "sessions", id]) => Kind::Delete(id.to_string()),
        _ => Kind::Other,
    }
}

async fn handle(State(inner): State<Shared>, method: Method, uri: Uri, body: Bytes) -> Response {
    let kind = classify(&method, uri.path());
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (action, index) = {
        let mut st = lock(&inner);
        let harness = match &kind {
            Kind::Live => parsed["harness_session_id"]
                .as_str()
                .or(parsed["claude_session_id"].as_str())
                .map(str::to_string),
            Kind::Append(id)
            | Kind::Complete(id)
            | Kind::Patch(id)
            | Kind::Diff(id)
            | Kind::Delete(id) => st
                .sessions
                .iter()
                .find(|s| &s.id == id)
                .map(|s| s.harness.clone()),
            Kind::Other => None,
        };
        let mut req = Request {
            kind: kind.clone(),
            harness,
            body_len: body.len(),
            messages: if matches!(kind, Kind::Append(_)) {
                parsed["messages"].as_array().cloned().unwrap_or_default()
            } else {
                Vec::new()
            },
            action: Action::Serve,
            status: 0,
            live: None,
        };
        req.action = (st.rule)(&req);
        st.requests.push(req);
        (
            st.requests.last().map_or(Action::Serve, |r| r.action),
            st.requests.len() - 1,
        )
    };
    let (status, answer) = match action {
        Action::Drop => return cut(),
        Action::Fail(code) | Action::FailRetryAfter(code, _) => {
            (code, json!({"error": format!("injected {code}")}))
        }
        Action::Serve | Action::LoseResponse | Action::Hold => {
            let mut st = lock(&inner);
            let (status, answer) = serve(&mut st, &kind, &parsed);
            if let Some(req) = st.requests.get_mut(index) {
                if kind == Kind::Live && status == 200 {
                    req.live = Some(answer.clone());
                }
            }
            (status, answer)
        }
    };
    if action == Action::LoseResponse {
        return cut();
    }
    if action == Action::Hold {
        while !lock(&inner).released {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    if let Some(req) = lock(&inner).requests.get_mut(index) {
        req.status = status;
    }
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json");
    if let Action::FailRetryAfter(_, secs) = action {
        response = response.header("retry-after", secs.to_string());
    }
    response
        .body(Body::from(answer.to_string()))
        .expect("response")
}

/// A response whose body fails at once: hyper aborts the connection, so
/// the client sees it cut without an answer.
fn cut() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("cut by the fake server"))
    });
    Response::builder()
        .status(200)
        .body(Body::from_stream(stream))
        .expect("cut response")
}

fn error(status: u16, text: &str) -> (u16, Value) {
    (status, json!({ "error": text }))
}

/// The server logic of CONTRACT.md §2, as far as the daemon uses it.
fn serve(st: &mut Inner, kind: &Kind, body: &Value) -> (u16, Value) {
    let idempotent = st.idempotent;
    let find = |st: &mut Inner, id: &str| st.sessions.iter().position(|s| s.id == id);
    match kind {
        Kind::Live => {
            let Some(harness) = body["harness_session_id"].as_str() else {
                return error(400, "harness_session_id required");
            };
            if body["title"].as_str().is_none_or(str::is_empty) {
                return error(400, "title required");
            }
            let (i, resumed, restored) = match st.sessions.iter().position(|s| s.harness == harness)
            {
                Some(i) => {
                    let restored = !st.sessions[i].live;
                    st.sessions[i].live = true;
                    (i, true, restored)
                }
                None => {
                    let id = format!("fake-{}", st.next_id);
                    st.next_id += 1;
                    st.sessions.push(FakeSession {
                        id,
                        harness: harness.to_string(),
                        live: true,
                        messages: Vec::new(),
                        uuids: HashSet::new(),
                    });
                    (st.sessions.len() - 1, false, false)
                }
            };
            let s = &st.sessions[i];
            let count = s.messages.len() as i64;
            let mut answer = json!({
                "id": s.id, "url": format!("/sessions/{}", s.id), "status": "live",
                "resumed": resumed, "restored": restored,
                "message_count": count, "last_index": count - 1,
            });
            if idempotent {
                answer["last_uuid"] = s
                    .messages
                    .last()
                    .and_then(|m| m.get("uuid").cloned())
                    .unwrap_or(Value::Null);
            }
            (200, answer)
        }
        Kind::Append(id) => {
            let Some(i) = find(st, id) else {
                return error(404, "session not found");
            };
            if !st.sessions[i].live {
                return error(409, "session is not live");
            }
            let Some(messages) = body["messages"].as_array().filter(|m| !m.is_empty()) else {
                return error(400, "messages required");
            };
            if let Some(bad) = messages.iter().find_map(invalid) {
                return error(400, &bad);
            }
            let s = &mut st.sessions[i];
            let mut appended = 0;
            for m in messages {
                let uuid = m.get("uuid").and_then(Value::as_str).map(str::to_string);
                if idempotent {
                    if let Some(u) = &uuid {
                        if !s.uuids.insert(u.clone()) {
                            continue;
                        }
                    }
                }
                s.messages.push(m.clone());
                appended += 1;
            }
            let count = s.messages.len() as i64;
            (
                200,
                json!({"appended": appended, "message_count": count, "last_index": count - 1}),
            )
        }
        Kind::Complete(id) => {
            let Some(i) = find(st, id) else {
                return error(404, "session not found");
            };
            st.sessions[i].live = false;
            let count = st.sessions[i].messages.len();
            (
                200,
                json!({"status": "complete", "message_count": count, "duration_seconds": 0}),
            )
        }
        Kind::Patch(id) => match find(st, id) {
            Some(_) => (200, json!({"updated": true})),
            None => error(404, "session not found"),
        },
        Kind::Diff(id) => match find(st, id) {
            Some(_) => (
                200,
                json!({"files_changed": 0, "additions": 0, "deletions": 0}),
            ),
            None => error(404, "session not found"),
        },
        Kind::Delete(id) => match find(st, id) {
            Some(i) => {
                st.sessions.remove(i);
                (200, json!({"success": true}))
            }
            None => error(404, "session not found"),
        },
        Kind::Other => error(404, "not found"),
    }
}

/// Why the reference server would reject this message, if it would.
fn invalid(m: &Value) -> Option<String> {
    if !matches!(m["role"].as_str(), Some("user" | "assistant")) {
        return Some(format!("bad role in {m}"));
    }
    let blocks = m["content_blocks"].as_array()?;
    blocks.iter().find_map(|b| {
        let ok = match b["type"].as_str() {
            Some("text") => b["text"].is_string(),
            Some("thinking") => b["thinking"].is_string(),
            Some("tool_use") => b["id"].is_string() && b["input"].is_object(),
            Some("tool_result") => b["tool_use_id"].is_string() && b["content"].is_string(),
            Some("image") => b["source"].is_object(),
            _ => false,
        };
        (!ok).then(|| format!("invalid block {b}"))
    })
}

// ---------------------------------------------------------------------------
// Helpers

fn setup(fake: &FakeServer) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let repo = env.git_repo("proj", Some("https://github.com/acme/proj.git"));
    write_config(&env, &[&fake.url], REPO_ID, json!({}));
    (env, repo)
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The line `i` of `session`: uuid `<session>-<i>`, text `prompt i` or
/// `answer i`.
fn line(session: &str, cwd: &Path, i: usize) -> String {
    let id = format!("{session}-{i}");
    if i.is_multiple_of(2) {
        user_line(&id, cwd, &format!("prompt {i}"))
    } else {
        assistant_line(&id, cwd, &format!("answer {i}"))
    }
}

fn lines(session: &str, cwd: &Path, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| line(session, cwd, i)).collect()
}

fn ids(session: &str, range: impl IntoIterator<Item = usize>) -> Vec<String> {
    range
        .into_iter()
        .map(|i| format!("{session}-{i}"))
        .collect()
}

fn uuids(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["uuid"].as_str().unwrap_or("").to_string())
        .collect()
}

fn text(m: &Value) -> String {
    m["content_blocks"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Share `session` (transcript `path`) with the fake server.
fn share(env: &TestEnv, fake: &FakeServer, session: &str, path: &Path) {
    write_shares(env, &[(session, path, &[&fake.url])]);
}

/// Wait until the fake holds at least `expected.len()` messages for
/// `session` and the daemon has nothing left to send; then the stored uuids
/// must equal `expected` exactly (in order, each once).
fn settle(env: &TestEnv, fake: &FakeServer, session: &str, expected: &[String]) -> Vec<Value> {
    wait_for(
        &format!("{} messages on the fake server", expected.len()),
        LONG,
        || (fake.messages(session).len() >= expected.len()).then_some(()),
    );
    wait_for("the daemon to have sent everything", LONG, || {
        let p = daemon_pair(env, session, &fake.url)?;
        (p["lag_bytes"] == 0 && p["state"] == "streaming").then_some(())
    });
    let msgs = fake.messages(session);
    assert_eq!(uuids(&msgs), expected, "stored messages differ");
    msgs
}

fn pair(env: &TestEnv, session: &str, fake: &FakeServer) -> Value {
    daemon_pair(env, session, &fake.url).expect("the pair is in daemon status")
}

/// Wait until the pair's status satisfies `ok` (the daemon writes its
/// snapshot a few ms after a change); panics with the last status seen.
fn wait_pair(
    env: &TestEnv,
    session: &str,
    fake: &FakeServer,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + LONG;
    loop {
        let p = daemon_pair(env, session, &fake.url);
        if let Some(p) = p.as_ref().filter(|p| ok(p)) {
            return p.clone();
        }
        if Instant::now() > deadline {
            panic!("timed out after {LONG:?} waiting for {what}; last status: {p:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn daemon_log(env: &TestEnv) -> String {
    std::fs::read_to_string(env.openctl_home.join("daemon.log")).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// 400: bisect, skip the poison message, never stall

#[test]
fn a_rejected_message_is_isolated_skipped_and_logged_and_the_stream_goes_on() {
    let fake = FakeServer::reference();
    fake.set_rule(|r| {
        if r.is_append() && r.texts().iter().any(|t| t.contains("POISON")) {
            Action::Fail(400)
        } else {
            Action::Serve
        }
    });
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let mut all = lines(&session, &repo, 0..40);
    // Line 17 of the file.
    all[16] = user_line(&format!("{session}-16"), &repo, "this one is POISON");
    let path = env.write_session(&repo, &session, &all);
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);

    let expected: Vec<String> = ids(&session, (0..40).filter(|&i| i != 16));
    let msgs = settle(&env, &fake, &session, &expected);
    assert_eq!(text(&msgs[15]), "answer 15");
    assert_eq!(text(&msgs[16]), "answer 17");
    let p = wait_pair(&env, &session, &fake, "39 sent, 1 skipped", |p| {
        p["lines_skipped"] == 1 && p["messages_sent"] == 39
    });
    let err = p["last_error"].as_str().unwrap_or("");
    assert!(err.contains("line 17") && err.contains("400"), "{p}");

    // Bisection, not one request per message: the first batch held all 40.
    let appends: Vec<Request> = fake
        .requests_for(&session)
        .into_iter()
        .filter(Request::is_append)
        .collect();
    assert_eq!(appends[0].messages.len(), 40);
    assert!(
        appends.len() <= 2 * 6 + 1,
        "{} append requests to isolate one message in 40",
        appends.len()
    );
    let alone = appends
        .iter()
        .filter(|r| r.messages.len() == 1 && r.texts()[0].contains("POISON"))
        .count();
    assert_eq!(alone, 1, "the poison message is tried alone exactly once");

    let log = daemon_log(&env);
    assert!(
        log.lines()
            .any(|l| l.contains("line=17") && l.contains("rejected")),
        "the rejected line is logged with its number:\n{log}"
    );

    // Not stalled: a line written afterwards arrives.
    append(&path, &lines(&session, &repo, 40..41));
    let mut expected = expected;
    expected.push(format!("{session}-40"));
    settle(&env, &fake, &session, &expected);
    wait_pair(&env, &session, &fake, "40 sent, 1 skipped", |p| {
        p["lines_skipped"] == 1 && p["messages_sent"] == 40
    });
}

// ---------------------------------------------------------------------------
// 413: halve batches, truncate a single oversized message visibly

#[test]
fn too_large_batches_are_halved_and_an_oversized_message_is_truncated_visibly() {
    const LIMIT: usize = 64 * 1024;
    let fake = FakeServer::reference();
    fake.set_rule(|r| {
        if r.is_append() && r.body_len > LIMIT {
            Action::Fail(413)
        } else {
            Action::Serve
        }
    });
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let filler = |i: usize, words: usize| {
        let mut t = format!("message {i}:");
        for w in 0..words {
            t.push_str(&format!(" word{}", (w * 7 + i) % 1000));
        }
        t
    };
    let texts: Vec<String> = (0..41)
        .map(|i| filler(i, if i == 20 { 30_000 } else { 500 }))
        .collect();
    assert!(texts[20].len() > 3 * LIMIT && texts[0].len() > 3000);
    let all: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let id = format!("{session}-{i}");
            if i.is_multiple_of(2) {
                user_line(&id, &repo, t)
            } else {
                assistant_line(&id, &repo, t)
            }
        })
        .collect();
    let path = env.write_session(&repo, &session, &all);
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);

    let msgs = settle(&env, &fake, &session, &ids(&session, 0..41));
    for (i, m) in msgs.iter().enumerate() {
        if i != 20 {
            assert_eq!(text(m), texts[i], "message {i} arrived unchanged");
        }
    }
    // The oversized one: its beginning, then the visible marker saying how
    // much was cut.
    let big = text(&msgs[20]);
    let at = big.rfind("\n[openctl: ").expect("truncation marker");
    let cut: usize = big[at + "\n[openctl: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("cut size in the marker");
    assert_eq!(cut, texts[20].len() - at, "{}", &big[at..]);
    assert_eq!(&big[..at], &texts[20][..at]);
    assert_eq!(
        &big[at..],
        openctl::daemon::stream::truncation_marker(cut),
        "marker"
    );
    assert!(at > 1024, "kept a useful prefix ({at} bytes)");

    let reqs = fake.requests_for(&session);
    assert!(reqs.iter().any(|r| r.status == 413), "the limit was hit");
    assert!(
        reqs.iter()
            .filter(|r| r.status == 200 && r.is_append())
            .all(|r| r.body_len <= LIMIT),
        "nothing over the limit was stored"
    );
    wait_pair(&env, &session, &fake, "41 sent, none skipped", |p| {
        p["lines_skipped"] == 0 && p["messages_sent"] == 41
    });
}

#[test]
fn a_passing_413_on_small_messages_is_retried_and_loses_nothing() {
    // A proxy that refuses even tiny requests for a while: not proof that
    // a message is too large.
    let fake = FakeServer::reference();
    let refusals = Arc::new(Mutex::new(4u32));
    let left = refusals.clone();
    fake.set_rule(move |r| {
        let mut left = left.lock().unwrap_or_else(|p| p.into_inner());
        if r.is_append() && *left > 0 {
            *left -= 1;
            Action::Fail(413)
        } else {
            Action::Serve
        }
    });
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..1));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    let p = wait_pair(&env, &session, &fake, "the 413 shown while retrying", |p| {
        p["state"] == "retrying" && p["last_error"].as_str().is_some_and(|e| e.contains("413"))
    });
    assert_eq!(p["messages_sent"], 0, "{p}");
    append(&path, &lines(&session, &repo, 1..54));
    settle(&env, &fake, &session, &ids(&session, 0..54));
    wait_pair(&env, &session, &fake, "54 sent, none skipped", |p| {
        p["lines_skipped"] == 0 && p["messages_sent"] == 54
    });
    assert_eq!(*refusals.lock().unwrap(), 0);
}

#[test]
fn a_push_that_never_gets_an_answer_is_retried_well_before_a_minute() {
    // The first push is stored but never answered: the daemon gives up on
    // it after the timeout for a small request, asks the server what it
    // has, and goes on without duplicating anything.
    let fake = FakeServer::reference();
    let first = Arc::new(Mutex::new(true));
    let gate = first.clone();
    fake.set_rule(move |r| {
        let mut first = gate.lock().unwrap_or_else(|p| p.into_inner());
        if r.is_append() && *first {
            *first = false;
            Action::Hold
        } else {
            Action::Serve
        }
    });
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..3));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    // LONG (30 s) is half the old one-minute stall.
    settle(&env, &fake, &session, &ids(&session, 0..3));
}

#[test]
fn lines_without_a_uuid_are_stored_once_after_lost_responses() {
    let fake = FakeServer::ours();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let mut appends = 0;
    fake.set_rule(move |r| {
        if !r.is_append() {
            return Action::Serve;
        }
        appends += 1;
        if appends % 2 == 1 && appends < 8 {
            Action::LoseResponse
        } else {
            Action::Serve
        }
    });
    // An old transcript: no uuid on any line.
    let text = |i: usize| format!("old line {i}");
    let no_uuid = |i: usize| {
        let role = if i.is_multiple_of(2) {
            "user"
        } else {
            "assistant"
        };
        json!({"type": role, "cwd": repo, "message": {"role": role, "content": text(i)}})
            .to_string()
    };
    let path = env.write_session(&repo, &session, &(0..5).map(no_uuid).collect::<Vec<_>>());
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    for i in 5..31 {
        append(&path, &[no_uuid(i)]);
    }
    let stored = wait_for("31 messages", LONG, || {
        let m = fake.messages(&session);
        (m.len() >= 31).then_some(m)
    });
    wait_pair(&env, &session, &fake, "nothing left to send", |p| {
        p["lag_bytes"] == 0 && p["state"] == "streaming"
    });
    let stored = fake.messages(&session).len().max(stored.len());
    assert_eq!(stored, 31, "each line once");
    let texts: Vec<String> = fake
        .messages(&session)
        .iter()
        .map(|m| {
            m["content_blocks"][0]["text"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(texts, (0..31).map(text).collect::<Vec<_>>());
}

#[test]
fn retry_after_is_honoured() {
    let fake = FakeServer::reference();
    let seen: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let times = seen.clone();
    fake.set_rule(move |r| {
        if !r.is_append() {
            return Action::Serve;
        }
        let mut times = times.lock().unwrap_or_else(|p| p.into_inner());
        times.push(Instant::now());
        if times.len() == 1 {
            Action::FailRetryAfter(429, 2)
        } else {
            Action::Serve
        }
    });
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..3));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    settle(&env, &fake, &session, &ids(&session, 0..3));
    let times = seen.lock().unwrap().clone();
    assert!(times.len() >= 2, "{times:?}");
    let waited = times[1] - times[0];
    assert!(
        waited >= Duration::from_millis(1900),
        "retried after {waited:?}, asked for 2 s"
    );
}

// ---------------------------------------------------------------------------
// 409: restore via /live, retry

#[test]
fn a_session_completed_on_the_server_is_restored_and_the_batch_retried() {
    let fake = FakeServer::reference();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..10));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    settle(&env, &fake, &session, &ids(&session, 0..10));
    let id = pair(&env, &session, &fake)["server_session_id"].clone();

    fake.complete_session(&session);
    append(&path, &lines(&session, &repo, 10..12));
    settle(&env, &fake, &session, &ids(&session, 0..12));

    let reqs = fake.requests_for(&session);
    let conflict = reqs
        .iter()
        .position(|r| r.is_append() && r.status == 409)
        .expect("an append answered 409");
    let restore = reqs[conflict..]
        .iter()
        .find(|r| r.kind == Kind::Live)
        .and_then(|r| r.live.clone())
        .expect("a /live after the 409");
    assert_eq!(restore["restored"], true, "{restore}");
    let retried = reqs[conflict + 1..]
        .iter()
        .find(|r| r.is_append())
        .expect("the retried append");
    assert_eq!(retried.status, 200);
    assert_eq!(uuids(&retried.messages), ids(&session, 10..12));
    assert!(fake.is_live(&session));
    assert_eq!(fake.session_ids(&session).len(), 1);
    wait_pair(&env, &session, &fake, "12 sent to the same session", |p| {
        p["server_session_id"] == id && p["messages_sent"] == 12
    });
}

// ---------------------------------------------------------------------------
// 404: re-create, resend from the start

#[test]
fn a_session_deleted_on_the_server_is_recreated_and_gets_everything() {
    let fake = FakeServer::reference();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..10));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    settle(&env, &fake, &session, &ids(&session, 0..10));
    let old = fake.session_ids(&session);
    assert_eq!(old.len(), 1);

    fake.delete_session(&session);
    append(&path, &lines(&session, &repo, 10..12));
    let new_id = wait_for("a new server session", LONG, || {
        fake.session_ids(&session)
            .first()
            .filter(|id| **id != old[0])
            .cloned()
    });
    settle(&env, &fake, &session, &ids(&session, 0..12));
    assert_eq!(fake.session_ids(&session), vec![new_id.clone()]);
    let reqs = fake.requests();
    assert!(
        reqs.iter()
            .any(|r| r.kind == Kind::Append(old[0].clone()) && r.status == 404),
        "an append answered 404"
    );
    // The status names the new session and counts what it holds.
    let p = wait_pair(&env, &session, &fake, "the new session, 12 sent", |p| {
        p["server_session_id"] == new_id.as_str() && p["messages_sent"] == 12
    });
    assert!(p["url"].as_str().unwrap_or("").ends_with(&new_id), "{p}");

    // And it keeps streaming to the new one.
    append(&path, &lines(&session, &repo, 12..13));
    settle(&env, &fake, &session, &ids(&session, 0..13));
}

// ---------------------------------------------------------------------------
// 401/403: stop the pair, show it, stop sending

#[test]
fn an_identity_refusal_fails_the_pair_visibly_and_stops_requests() {
    let fake = FakeServer::ours();
    let (env, repo) = setup(&fake);
    let refused = new_uuid(); // 401 on /live
    let forbidden = new_uuid(); // 403 on append
    let healthy = new_uuid();
    {
        let (refused, forbidden) = (refused.clone(), forbidden.clone());
        fake.set_rule(move |r| match (&r.kind, r.harness.as_deref()) {
            (Kind::Live, Some(h)) if h == refused => Action::Fail(401),
            (Kind::Append(_), Some(h)) if h == forbidden => Action::Fail(403),
            _ => Action::Serve,
        });
    }
    let paths: Vec<PathBuf> = [&refused, &forbidden, &healthy]
        .iter()
        .map(|s| env.write_session(&repo, s, &lines(s, &repo, 0..3)))
        .collect();
    let servers = [fake.url.as_str()];
    let shares: Vec<(&str, &Path, &[&str])> = vec![
        (&refused, &paths[0], &servers),
        (&forbidden, &paths[1], &servers),
        (&healthy, &paths[2], &servers),
    ];
    write_shares(&env, &shares);
    let _daemon = DaemonGuard::start(&env);

    for (session, status) in [(&refused, "401"), (&forbidden, "403")] {
        let p = wait_for("the pair to fail", LONG, || {
            daemon_pair(&env, session, &fake.url).filter(|p| p["state"] == "failed")
        });
        let err = p["last_error"].as_str().unwrap_or("");
        assert!(err.contains(status), "{p}");
    }
    let human = env.ok(&["daemon", "status"]);
    assert!(human.contains("FAILED"), "{human}");
    settle(&env, &fake, &healthy, &ids(&healthy, 0..3));

    // Exactly one refused request each: no retries.
    let count = |s: &str| fake.requests_for(s).len();
    assert_eq!(count(&refused), 1, "{:?}", fake.requests_for(&refused));
    assert_eq!(count(&forbidden), 2, "{:?}", fake.requests_for(&forbidden));
    assert!(fake.session_ids(&refused).is_empty());
    assert!(fake.messages(&forbidden).is_empty());

    // New lines in every transcript and a rewrite of the (unchanged) shares
    // wake the daemon; only the healthy pair sends. Watched for a while,
    // failing at once if a refused pair sends anything.
    append(&paths[0], &lines(&refused, &repo, 3..4));
    append(&paths[1], &lines(&forbidden, &repo, 3..4));
    write_shares(&env, &shares);
    let start = Instant::now();
    let mut next = 3;
    while start.elapsed() < Duration::from_secs(5) {
        append(&paths[2], &lines(&healthy, &repo, next..next + 1));
        next += 1;
        wait_for("the healthy pair to send its line", LONG, || {
            (fake.messages(&healthy).len() == next).then_some(())
        });
        assert_eq!(count(&refused), 1, "the 401 pair sent again");
        assert_eq!(count(&forbidden), 2, "the 403 pair sent again");
    }
    assert_eq!(uuids(&fake.messages(&healthy)), ids(&healthy, 0..next));
    for session in [&refused, &forbidden] {
        assert_eq!(pair(&env, session, &fake)["state"], "failed");
    }
}

// ---------------------------------------------------------------------------
// Transient failures: retry, never drop, never duplicate

#[test]
fn transient_errors_cut_connections_and_lost_responses_lose_and_duplicate_nothing() {
    let fake = FakeServer::ours();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let (mut lives, mut appends) = (0, 0);
    fake.set_rule(move |r| match r.kind {
        Kind::Live => {
            lives += 1;
            match lives {
                1 => Action::Fail(503),
                2 => Action::Drop,
                _ => Action::Serve,
            }
        }
        Kind::Append(_) => {
            appends += 1;
            match appends {
                1 => Action::Fail(500),
                2 => Action::Fail(429),
                3 => Action::LoseResponse,
                4 => Action::Drop,
                6 => Action::Fail(502),
                7 => Action::Fail(408),
                8 => Action::LoseResponse,
                _ => Action::Serve,
            }
        }
        _ => Action::Serve,
    });
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..20));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);

    wait_for("the first failed append", LONG, || {
        fake.requests()
            .iter()
            .any(|r| r.is_append() && r.status == 500)
            .then_some(())
    });
    // Written while the server fails.
    append(&path, &lines(&session, &repo, 20..30));
    settle(&env, &fake, &session, &ids(&session, 0..30));

    let reqs = fake.requests_for(&session);
    let appends: Vec<&Request> = reqs.iter().filter(|r| r.is_append()).collect();
    assert!(appends.len() >= 9, "{} appends", appends.len());
    // What a lost-response request stored was sent again (the daemon
    // cannot know it arrived) and not stored twice (settle checked that).
    let lost: Vec<usize> = (0..appends.len())
        .filter(|&i| appends[i].action == Action::LoseResponse)
        .collect();
    assert_eq!(lost.len(), 2);
    for i in lost {
        let again = appends[i + 1..]
            .iter()
            .find(|r| r.status == 200)
            .expect("a later stored append");
        assert_eq!(
            uuids(&again.messages).first(),
            uuids(&appends[i].messages).first()
        );
    }
    let live_failures = fake
        .requests()
        .iter()
        .filter(|r| r.kind == Kind::Live && r.status != 200)
        .count();
    assert_eq!(live_failures, 2, "/live failed twice before it worked");
    wait_pair(&env, &session, &fake, "recovered with 30 sent", |p| {
        p["messages_sent"] == 30 && p["last_error"].is_null() && p["state"] == "streaming"
    });

    append(&path, &lines(&session, &repo, 30..31));
    settle(&env, &fake, &session, &ids(&session, 0..31));
    // Each cut connection reached the daemon as a network failure.
    let log = daemon_log(&env);
    assert_eq!(log.matches("cannot reach").count(), 4, "{log}");
}

// ---------------------------------------------------------------------------
// The reference server: no idempotency, `message_count` decides

#[test]
fn reference_server_lost_responses_are_not_resent() {
    let fake = FakeServer::reference();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let mut appends = 0;
    fake.set_rule(move |r| match r.kind {
        Kind::Append(_) => {
            appends += 1;
            match appends {
                1 => Action::LoseResponse,
                2 => Action::Fail(503),
                4 => Action::LoseResponse,
                5 => Action::Drop,
                _ => Action::Serve,
            }
        }
        _ => Action::Serve,
    });
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..10));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    settle(&env, &fake, &session, &ids(&session, 0..10));
    append(&path, &lines(&session, &repo, 10..15));
    settle(&env, &fake, &session, &ids(&session, 0..15));
    append(&path, &lines(&session, &repo, 15..20));
    settle(&env, &fake, &session, &ids(&session, 0..20));
    let lost = fake
        .requests_for(&session)
        .iter()
        .filter(|r| r.action == Action::LoseResponse)
        .count();
    assert_eq!(lost, 2);
    wait_pair(&env, &session, &fake, "20 sent", |p| {
        p["messages_sent"] == 20
    });
}

#[test]
fn reference_server_sigkill_after_a_stored_batch_resends_nothing_it_has() {
    let fake = FakeServer::reference();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..20));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    settle(&env, &fake, &session, &ids(&session, 0..20));

    // The next append is stored but never answered: the daemon is killed
    // while it waits, so its cursor does not know the server has it.
    fake.hold_appends();
    append(&path, &lines(&session, &repo, 20..25));
    wait_for("the held batch to be stored", LONG, || {
        (fake.messages(&session).len() == 25).then_some(())
    });
    let pid = daemon_status(&env)["pid"].as_u64().expect("daemon pid") as i32;
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    wait_for("the killed daemon to be gone", LONG, || {
        (daemon_status(&env)["running"] == false).then_some(())
    });
    fake.set_rule(|_| Action::Serve);
    fake.release();
    // Written while no daemon runs.
    append(&path, &lines(&session, &repo, 25..30));
    let before = fake.requests_for(&session).len();
    env.ok(&["daemon", "start"]);
    settle(&env, &fake, &session, &ids(&session, 0..30));

    let after = fake.requests_for(&session);
    let live = after[before..]
        .iter()
        .find(|r| r.kind == Kind::Live)
        .and_then(|r| r.live.clone())
        .expect("the restarted daemon asked /live");
    assert_eq!(live["message_count"], 25, "{live}");
    assert!(live.get("last_uuid").is_none(), "reference mode: {live}");
    let first = after[before..]
        .iter()
        .find(|r| r.is_append())
        .expect("an append after the restart");
    assert_eq!(
        uuids(&first.messages).first(),
        Some(&format!("{session}-25")),
        "the restarted daemon skips what the server already stored"
    );
    assert_eq!(fake.session_ids(&session).len(), 1);
}

// ---------------------------------------------------------------------------
// share / unshare (the CLI) against the fake: timeouts, in-flight requests,
// deletion, a pair the daemon gave up on

/// Run the real CLI in the session's project.
fn cli(env: &TestEnv, repo: &Path, args: &[&str]) -> std::process::Output {
    env.cmd(args)
        .current_dir(repo)
        .output()
        .expect("run openctl")
}

/// Spawn the real CLI with its output captured.
fn spawn_cli(env: &TestEnv, repo: &Path, args: &[&str]) -> std::process::Child {
    env.cmd(args)
        .current_dir(repo)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn openctl")
}

/// Reap `child` and return its exit code and the CPU time (user + system)
/// it used, read from the kernel's accounting of exactly that process.
fn wait_with_cpu(child: &mut std::process::Child) -> (Option<i32>, Duration) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, time(usage.ru_utime) + time(usage.ru_stime))
}

fn read_all(pipe: Option<impl std::io::Read>) -> String {
    let mut text = String::new();
    if let Some(mut p) = pipe {
        let _ = p.read_to_string(&mut text);
    }
    text
}

fn appends_in_flight(fake: &FakeServer, session: &str) -> bool {
    fake.requests_for(session)
        .iter()
        .any(|r| r.is_append() && r.status == 0)
}

#[test]
fn share_times_out_with_exit_4_and_the_last_error_and_waits_without_spinning() {
    // The share's own /live succeeds; after that the server fails: the
    // daemon never gets to stream.
    let fake = FakeServer::ours();
    let mut lives = 0;
    fake.set_rule(move |r| {
        if r.kind == Kind::Live {
            lives += 1;
            if lives == 1 {
                return Action::Serve;
            }
        }
        Action::Fail(503)
    });
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    env.write_session(&repo, &session, &lines(&session, &repo, 0..2));
    let _daemon = DaemonGuard { env: &env };
    let started = Instant::now();
    let mut child = spawn_cli(
        &env,
        &repo,
        &["share", &session, "-s", &fake.url, "--timeout", "3"],
    );
    let (code, cpu) = wait_with_cpu(&mut child);
    let took = started.elapsed();
    let (out, err) = (read_all(child.stdout.take()), read_all(child.stderr.take()));
    assert_eq!(code, Some(4), "{err}");
    assert!(out.is_empty(), "no URL on a timeout: {out}");
    assert!(err.contains("within 3s"), "{err}");
    assert!(
        err.contains("last error") && err.contains("503"),
        "the last error is named: {err}"
    );
    assert!(
        took >= Duration::from_secs(3),
        "waited the timeout: {took:?}"
    );
    // Waiting is sleeping on file events, not re-reading the status in a
    // loop (it had used 1.6 s of CPU for these 3 s).
    assert!(
        cpu < Duration::from_millis(500),
        "share used {cpu:?} of CPU while waiting {took:?}"
    );
    assert!(env.read_json("shared-sessions.json")["sessions"][&session].is_object());
}

#[test]
fn an_unshare_during_an_in_flight_request_completes_once_it_is_answered() {
    let fake = FakeServer::ours();
    fake.hold_appends();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    env.write_session(&repo, &session, &lines(&session, &repo, 0..6));
    let _daemon = DaemonGuard { env: &env };
    let out = cli(&env, &repo, &["share", &session, "-s", &fake.url, "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_for("the catch-up to be in flight", LONG, || {
        appends_in_flight(&fake, &session).then_some(())
    });

    let unshare = spawn_cli(
        &env,
        &repo,
        &["session", "unshare", &session, "--timeout", "25"],
    );
    wait_for("the daemon to take the unshare", LONG, || {
        daemon_log(&env)
            .contains("unshared; flushing and completing")
            .then_some(())
    });
    let released = Instant::now();
    fake.release();
    let out = unshare.wait_with_output().unwrap();
    let took = released.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("✓ {}: completed", fake.url)),
        "{}",
        stderr(&out)
    );
    // It had waited for the next file event or the 30 s re-check.
    assert!(
        took < Duration::from_secs(10),
        "unshare took {took:?} after the request in flight was answered"
    );
    assert!(!fake.is_live(&session));
    assert_eq!(uuids(&fake.messages(&session)), ids(&session, 0..6));
    let completes = fake
        .requests_for(&session)
        .iter()
        .filter(|r| matches!(r.kind, Kind::Complete(_)))
        .count();
    assert_eq!(completes, 1, "completed by the daemon, once");
}

#[test]
fn unshare_delete_without_waiting_stops_the_upload_and_nothing_comes_back() {
    let fake = FakeServer::ours();
    fake.hold_appends();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..6));
    let _daemon = DaemonGuard { env: &env };
    let out = cli(&env, &repo, &["share", &session, "-s", &fake.url, "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_for("the catch-up to be in flight", LONG, || {
        appends_in_flight(&fake, &session).then_some(())
    });
    // More to send once the request in flight is answered.
    append(&path, &lines(&session, &repo, 6..12));

    let out = cli(
        &env,
        &repo,
        &["session", "unshare", &session, "--delete", "--timeout", "0"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("✓ {}: deleted", fake.url)),
        "{}",
        stderr(&out)
    );
    // Deleted only once the daemon had let go of the pair.
    let p = pair(&env, &session, &fake);
    assert_eq!(p["shared"], false, "{p}");
    assert!(fake.session_ids(&session).is_empty());

    // The request that was in flight may still be answered; the daemon
    // (stopped gracefully, so it is done with everything) must neither send
    // the rest nor re-create the session.
    fake.release();
    env.ok(&["daemon", "stop"]);
    assert!(fake.session_ids(&session).is_empty(), "re-created");
    let requests = fake.requests_for(&session);
    let deleted_at = requests
        .iter()
        .position(|r| matches!(r.kind, Kind::Delete(_)))
        .expect("a DELETE");
    assert!(
        requests[deleted_at + 1..].is_empty(),
        "requests after the DELETE: {:?}",
        &requests[deleted_at + 1..]
    );
    let abandon =
        std::fs::read_to_string(env.openctl_home.join("unshare-abandon.json")).unwrap_or_default();
    assert!(
        !abandon.contains(&session),
        "request left behind: {abandon}"
    );
}

#[test]
fn unsharing_a_pair_the_daemon_gave_up_on_warns_and_exits_1() {
    let fake = FakeServer::ours();
    fake.set_rule(|r| {
        if r.is_append() {
            Action::Fail(403)
        } else {
            Action::Serve
        }
    });
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    env.write_session(&repo, &session, &lines(&session, &repo, 0..3));
    let _daemon = DaemonGuard { env: &env };
    // The share may see the pair streaming or already failed.
    let out = cli(&env, &repo, &["share", &session, "-s", &fake.url, "-q"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    wait_pair(&env, &session, &fake, "the pair to fail", |p| {
        p["state"] == "failed"
    });

    let started = Instant::now();
    let out = cli(
        &env,
        &repo,
        &["session", "unshare", &session, "--timeout", "25"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // Said once, as the error.
    assert!(
        err.contains("the daemon had stopped streaming") && err.contains(&fake.url),
        "{err}"
    );
    assert_eq!(err.matches("had stopped streaming").count(), 1, "{err}");
    assert!(err.contains("403"), "{err}");
    assert!(err.contains("openctl daemon logs"), "what to do: {err}");
    assert!(!err.contains('✓'), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it did not wait for the whole timeout"
    );
    assert!(stdout(&out).is_empty());
    assert!(!fake.is_live(&session), "ended for the viewers");
}

#[test]
fn a_session_deleted_on_the_server_while_unsharing_is_not_recreated() {
    let fake = FakeServer::ours();
    let (env, repo) = setup(&fake);
    write_config(
        &env,
        &[&fake.url],
        REPO_ID,
        json!({"idleTimeoutSeconds": 1}),
    );
    let session = new_uuid();
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..4));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    wait_pair(&env, &session, &fake, "the idle pair complete", |p| {
        p["state"] == "complete"
    });
    assert_eq!(fake.session_ids(&session).len(), 1);

    // A new line while the server refuses /live: the daemon retries.
    fake.set_rule(|r| {
        if r.kind == Kind::Live {
            Action::Fail(503)
        } else {
            Action::Serve
        }
    });
    append(&path, &lines(&session, &repo, 4..5));
    wait_pair(&env, &session, &fake, "the pair retrying", |p| {
        p["state"] == "retrying"
    });
    // Meanwhile it is unshared and deleted on the server.
    fake.delete_session(&session);
    write_shares(&env, &[]);
    wait_for("the daemon to take the unshare", LONG, || {
        daemon_log(&env)
            .contains("unshared; flushing and completing")
            .then_some(())
    });
    fake.set_rule(|_| Action::Serve);

    // Its next /live re-creates the session: the daemon removes it again
    // and stops, instead of re-uploading the transcript there.
    let p = wait_pair(&env, &session, &fake, "the pair to end", |p| {
        p["shared"] == false
    });
    assert_eq!(p["state"], "complete", "{p}");
    assert_eq!(p["last_error"], "deleted on the server", "{p}");
    assert!(fake.session_ids(&session).is_empty(), "left re-created");
    let requests = fake.requests_for(&session);
    let live_at = requests
        .iter()
        .rposition(|r| r.kind == Kind::Live && r.status == 200)
        .expect("the /live that re-created it");
    let after: Vec<&Kind> = requests[live_at + 1..].iter().map(|r| &r.kind).collect();
    assert!(
        matches!(after.as_slice(), [Kind::Delete(_)]),
        "only the removal after the re-creating /live: {after:?}"
    );
}

#[test]
fn a_flush_after_unshare_that_finds_the_session_deleted_stops_there() {
    let fake = FakeServer::ours();
    fake.hold_appends();
    let (env, repo) = setup(&fake);
    let session = new_uuid();
    // More than one batch (2000 lines): something is left after the first.
    let path = env.write_session(&repo, &session, &lines(&session, &repo, 0..2500));
    share(&env, &fake, &session, &path);
    let _daemon = DaemonGuard::start(&env);
    wait_for("the first batch in flight", LONG, || {
        appends_in_flight(&fake, &session).then_some(())
    });
    write_shares(&env, &[]);
    wait_for("the daemon to take the unshare", LONG, || {
        daemon_log(&env)
            .contains("unshared; flushing and completing")
            .then_some(())
    });
    // Deleted on the server (e.g. by `unshare --delete` of the original
    // CLI) while the daemon flushes.
    fake.delete_session(&session);
    fake.release();

    let p = wait_pair(&env, &session, &fake, "the pair to end", |p| {
        p["shared"] == false
    });
    assert_eq!(p["last_error"], "deleted on the server", "{p}");
    assert!(fake.session_ids(&session).is_empty(), "re-created");
    let lives = fake
        .requests_for(&session)
        .iter()
        .filter(|r| r.kind == Kind::Live)
        .count();
    assert_eq!(lives, 1, "no /live after the 404");
}

#[test]
fn pictures_and_subagents_reach_a_server_that_stores_them_and_the_reference_shapes_go_elsewhere() {
    // One session shared with our server (its health lists
    // rich_tool_results) and a reference-like server (no health): each gets
    // the shape it takes.
    let fake = FakeServer::reference();
    let env = TestEnv::new();
    let repo = env.git_repo("proj", Some("https://github.com/acme/proj.git"));
    let ours = TestServer::start(&env);
    write_config(&env, &[&fake.url, &ours.url], REPO_ID, json!({}));
    let session = new_uuid();
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    let screenshot = json!({
        "type": "user", "uuid": format!("{session}-1"), "cwd": repo,
        "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
            "content": [{"type": "text", "text": "screenshot taken"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}}]}]}
    })
    .to_string();
    let path = env.write_session(&repo, &session, &[line(&session, &repo, 0), screenshot]);
    // A subagent's transcript: only a server whose health lists
    // `subagents` gets its lines.
    let agent = path.with_extension("").join("subagents/agent-f00d.jsonl");
    std::fs::create_dir_all(agent.parent().unwrap()).unwrap();
    let agent_line = json!({"type": "assistant", "uuid": "sub-1", "sessionId": session,
        "isSidechain": true, "cwd": repo,
        "message": {"role": "assistant", "content": [{"type": "text", "text": "from the subagent"}]}});
    std::fs::write(&agent, format!("{agent_line}\n")).unwrap();
    write_shares(&env, &[(&session, &path, &[&fake.url, &ours.url])]);
    let _daemon = DaemonGuard::start(&env);
    let expected = ids(&session, 0..2);
    let flat = settle(&env, &fake, &session, &expected);
    assert_eq!(invalid(&flat[1]), None, "{}", flat[1]);
    assert_eq!(
        flat[1]["content_blocks"][0]["content"],
        "screenshot taken\n[image]"
    );
    let id = wait_for("our server's session", LONG, || {
        daemon_pair(&env, &session, &ours.url)?["server_session_id"]
            .as_str()
            .map(str::to_string)
    });
    let stored = wait_for("all three messages on our server", LONG, || {
        let m = ours.get_session(&id)["messages"].as_array()?.clone();
        (m.len() == 3).then_some(m)
    });
    assert_eq!(stored[2]["agent_id"], "f00d");
    assert!(
        !fake.messages(&session).iter().any(|m| m["uuid"] == "sub-1"),
        "no subagent line for a server that does not take them"
    );
    let parts = &stored[1]["content_blocks"][0]["content"];
    assert_eq!(
        parts[0],
        json!({"type": "text", "text": "screenshot taken"})
    );
    assert_eq!(parts[1]["type"], "image");
    assert_eq!(
        parts[1]["source"]["data"], png,
        "the picture, byte for byte"
    );
    assert_eq!(stored[1]["kind"], "tool_result");
}
