//! Integration tests: `openctl server` under conditions that used to hurt
//! it: its database deleted while it runs.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{TestEnv, TestServer};

const CLIENT: &str = "33333333-3333-4333-8333-333333333333";

/// A client whose every request must be answered within `timeout`.
fn http(timeout: Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .build()
        .expect("http client")
}

/// POST JSON to `base` + `path` as CLIENT: (status, JSON or text as a string).
fn post(client: &reqwest::blocking::Client, base: &str, path: &str, body: String) -> (u16, Value) {
    let res = client
        .post(format!("{base}{path}"))
        .header("X-Openctl-Client-ID", CLIENT)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = res.status().as_u16();
    let text = res.text().expect("body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Create the live session of Claude session `claude_id`; its id.
fn live(base: &str, claude_id: &str) -> String {
    let body = json!({"title": "Live Session", "harness_session_id": claude_id});
    let (status, body) = post(
        &http(Duration::from_secs(30)),
        base,
        "/api/sessions/live",
        body.to_string(),
    );
    assert_eq!(status, 200, "live: {body}");
    body["id"].as_str().expect("id").to_string()
}

fn text_message(uuid: &str, text: &str) -> Value {
    json!({"role": "user", "content_blocks": [{"type": "text", "text": text}], "uuid": uuid})
}

/// Push `messages` to session `id`.
fn push(base: &str, id: &str, messages: &[Value]) -> (u16, Value) {
    post(
        &http(Duration::from_secs(60)),
        base,
        &format!("/api/sessions/{id}/messages"),
        json!({ "messages": messages }).to_string(),
    )
}

fn error_text(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("")
}

#[test]
fn a_deleted_database_fails_writes_with_503_and_health_says_so() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = live(&server.url, "claude-deleted-db");
    assert_eq!(push(&server.url, &id, &[text_message("m1", "kept")]).0, 200);

    for suffix in ["", "-wal", "-shm"] {
        let mut path = server.db.clone().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
    // Writes would go into the deleted file and be lost: 503, which the
    // daemon retries for ever, instead of 200.
    let (status, body) = push(&server.url, &id, &[text_message("m2", "lost?")]);
    assert_eq!(status, 503, "{body}");
    assert!(
        error_text(&body).contains("storage is unavailable"),
        "{body}"
    );
    let (status, body) = post(
        &http(Duration::from_secs(30)),
        &server.url,
        "/api/sessions/live",
        json!({"title": "t", "harness_session_id": "claude-new"}).to_string(),
    );
    assert_eq!(status, 503, "{body}");

    // Health tells a load balancer to stop sending traffic here.
    let res = http(Duration::from_secs(30))
        .get(server.api("/api/health"))
        .send()
        .expect("health");
    assert_eq!(res.status().as_u16(), 503);
    let health: Value = res.json().expect("health json");
    assert_ne!(health["status"], "ok", "{health}");
    assert_eq!(health["storage"], "unavailable", "{health}");
    assert!(
        error_text(&health).contains("storage is unavailable")
            && error_text(&health).contains("deleted"),
        "{health}"
    );

    // A new, empty file at the same path is not the database we opened.
    std::fs::write(&server.db, b"").expect("new file");
    let (status, body) = push(&server.url, &id, &[text_message("m3", "lost?")]);
    assert_eq!(status, 503, "{body}");
    assert!(error_text(&body).contains("replaced"), "{body}");
    assert!(
        server.log().contains("storage is unavailable"),
        "the server says so on stderr:\n{}",
        server.log()
    );
}
