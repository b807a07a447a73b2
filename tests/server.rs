//! Integration tests: `openctl server` (issue 3), against the real binary on
//! 127.0.0.1.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{wait_for, TestEnv, TestServer};

const CLIENT: &str = "11111111-1111-4111-8111-111111111111";
const OTHER: &str = "22222222-2222-4222-8222-222222222222";

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// Send `method path` with an optional client id and JSON-ish body; returns
/// (status, parsed JSON or the text as a JSON string).
fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    client: Option<&str>,
    body: Option<String>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http().request(method, server.api(path));
    if let Some(c) = client {
        req = req.header("X-Openctl-Client-ID", c);
    }
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b);
    }
    let res = req.send().expect("request");
    let status = res.status().as_u16();
    let text = res.text().expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn post(server: &TestServer, path: &str, client: Option<&str>, body: Value) -> (u16, Value) {
    send(server, "POST", path, client, Some(body.to_string()))
}

/// Create (or resume) the live session of Claude session `claude_id`.
fn live(server: &TestServer, client: &str, claude_id: &str) -> Value {
    let (status, body) = post(
        server,
        "/api/sessions/live",
        Some(client),
        json!({"title": "Live Session", "harness_session_id": claude_id, "harness": "claude-code",
               "project_path": "/home/me/app", "model": "claude-test",
               "repo_url": "https://github.com/acme/app"}),
    );
    assert_eq!(status, 200, "live: {body}");
    body
}

fn text_message(uuid: &str, role: &str, text: &str) -> Value {
    json!({"role": role, "content_blocks": [{"type": "text", "text": text}],
           "timestamp": "2026-11-24T10:00:00.000Z", "uuid": uuid})
}

fn push(server: &TestServer, id: &str, client: &str, messages: Vec<Value>) -> (u16, Value) {
    post(
        server,
        &format!("/api/sessions/{id}/messages"),
        Some(client),
        json!({ "messages": messages }),
    )
}

#[test]
fn health_index_and_security_headers() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let res = http()
        .get(server.api("/api/health"))
        .send()
        .expect("health");
    assert_eq!(res.status().as_u16(), 200);
    let csp = res
        .headers()
        .get("content-security-policy")
        .expect("CSP header")
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let health: Value = res.json().expect("json");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));

    let page = http().get(server.api("/")).send().expect("index");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().expect("html");
    assert!(html.contains("openctl server"), "{html}");
    assert!(
        html.contains(&format!("openctl config set server {}", server.url)),
        "index must say how to share here: {html}"
    );
    let (status, body) = send(&server, "GET", "/api/nope", None, None);
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
}

#[test]
fn restart_on_the_same_database_keeps_everything() {
    let env = TestEnv::new();
    let mut server = TestServer::start(&env);
    let session = live(&server, CLIENT, "restart-1");
    let id = session["id"].as_str().expect("id").to_string();
    let (status, _) = push(
        &server,
        &id,
        CLIENT,
        vec![
            text_message("u1", "user", "hello"),
            text_message("u2", "assistant", "hi"),
        ],
    );
    assert_eq!(status, 200);
    let url_before = server.url.clone();
    server.restart();
    assert_eq!(server.url, url_before, "restart keeps the port");
    assert!(server.log().contains("Stopped."), "{}", server.log());
    let detail = server.get_session(&id);
    assert_eq!(detail["messages"].as_array().expect("messages").len(), 2);
    assert_eq!(detail["messages"][1]["content_blocks"][0]["text"], "hi");
    // The idempotency keys survived too: a retry appends nothing.
    let (status, body) = push(
        &server,
        &id,
        CLIENT,
        vec![text_message("u2", "assistant", "hi")],
    );
    assert_eq!(status, 200);
    assert_eq!(body["appended"], 0);
    let resumed = live(&server, CLIENT, "restart-1");
    assert_eq!(resumed["id"], id.as_str());
    assert_eq!(resumed["last_uuid"], "u2");
    assert_eq!(resumed["last_index"], 1);
    // Ownership survived: another client may not resume it.
    let (status, _) = post(
        &server,
        "/api/sessions/live",
        Some(OTHER),
        json!({"title": "x", "harness_session_id": "restart-1"}),
    );
    assert_eq!(status, 403);
    wait_for("server still healthy", Duration::from_secs(20), || {
        http()
            .get(server.api("/api/health"))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    });
}
