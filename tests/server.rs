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

    // Errors axum produces itself are `{"error": ...}` too (CONTRACT.md §2).
    let (status, body) = send(&server, "POST", "/api/health", Some(CLIENT), None);
    assert_eq!(status, 405);
    assert_eq!(body["error"], "method not allowed", "{body}");
    let (status, body) = send(&server, "PUT", "/api/sessions/live", Some(CLIENT), None);
    assert_eq!(status, 405);
    assert!(body["error"].is_string(), "{body}");
    let (status, body) = send(&server, "GET", "/api/sessions/%FF", None, None);
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("UTF-8")),
        "{body}"
    );
}

#[test]
fn a_title_of_spaces_is_still_a_title() {
    // The reference server only asks for at least one character.
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let (status, body) = post(
        &server,
        "/api/sessions/live",
        Some(CLIENT),
        json!({"title": " ", "harness_session_id": "claude-spaces"}),
    );
    assert_eq!(status, 200, "{body}");
    let id = id_of(&body);
    let path = format!("/api/sessions/{id}");
    let patch = |title: &str| {
        send(
            &server,
            "PATCH",
            &path,
            Some(CLIENT),
            Some(json!({ "title": title }).to_string()),
        )
    };
    assert_eq!(patch("  ").0, 200);
    assert_eq!(server.get_session(&id)["session"]["title"], "  ");
    assert_eq!(patch("").0, 400);
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

fn id_of(session: &Value) -> String {
    session["id"].as_str().expect("session id").to_string()
}

#[test]
fn live_creates_resumes_restores_and_checks_ownership() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let created = live(&server, CLIENT, "claude-1");
    let id = id_of(&created);
    assert_eq!(created["status"], "live");
    assert_eq!(created["resumed"], false);
    assert_eq!(created["restored"], false);
    assert_eq!(created["message_count"], 0);
    assert_eq!(created["last_index"], -1);
    assert_eq!(created["url"], format!("{}/sessions/{id}", server.url));

    let resumed = live(&server, CLIENT, "claude-1");
    assert_eq!(resumed["id"], id.as_str());
    assert_eq!(
        (resumed["resumed"].clone(), resumed["restored"].clone()),
        (json!(true), json!(false))
    );

    let (status, _) = post(
        &server,
        &format!("/api/sessions/{id}/complete"),
        Some(CLIENT),
        json!({}),
    );
    assert_eq!(status, 200);
    let restored = live(&server, CLIENT, "claude-1");
    assert_eq!(restored["id"], id.as_str());
    assert_eq!(restored["resumed"], true);
    assert_eq!(restored["restored"], true);
    assert_eq!(restored["status"], "live");
    assert_eq!(server.get_session(&id)["session"]["status"], "live");

    // The reference client's field name is an alias.
    let (status, alias) = post(
        &server,
        "/api/sessions/live",
        Some(CLIENT),
        json!({"title": "t", "claude_session_id": "claude-1", "unknown_field": [1, 2]}),
    );
    assert_eq!((status, alias["id"].clone()), (200, json!(id)));

    let body = json!({"title": "t", "harness_session_id": "claude-1"});
    let (status, err) = post(&server, "/api/sessions/live", Some(OTHER), body.clone());
    assert_eq!(status, 403, "{err}");
    assert!(err["error"]
        .as_str()
        .expect("error")
        .contains("another client"));
    let (status, err) = post(&server, "/api/sessions/live", None, body);
    assert_eq!(status, 401);
    assert!(err["error"]
        .as_str()
        .expect("error")
        .contains("X-Openctl-Client-ID"));

    for (body, field) in [
        (json!({"harness_session_id": "x"}), "title"),
        (json!({"title": "", "harness_session_id": "x"}), "title"),
        (json!({"title": "t"}), "harness_session_id"),
        (
            json!({"title": "t", "harness_session_id": 5}),
            "harness_session_id",
        ),
        (
            json!({"title": "t", "harness_session_id": "x", "interactive": "yes"}),
            "interactive",
        ),
        (
            json!({"title": "t", "harness_session_id": "x", "model": {}}),
            "model",
        ),
    ] {
        let (status, err) = post(&server, "/api/sessions/live", Some(CLIENT), body.clone());
        assert_eq!(status, 400, "{body}");
        assert!(
            err["error"].as_str().expect("error").contains(field),
            "{body} -> {err}"
        );
    }
    let (status, err) = send(
        &server,
        "POST",
        "/api/sessions/live",
        Some(CLIENT),
        Some("{nope".into()),
    );
    assert_eq!(status, 400);
    assert!(
        err["error"].as_str().expect("error").contains("JSON"),
        "{err}"
    );

    // The URL follows the Host the client used.
    let res = http()
        .post(server.api("/api/sessions/live"))
        .header("Host", "viewer.example.test:8080")
        .header("X-Openctl-Client-ID", CLIENT)
        .body(json!({"title": "t", "harness_session_id": "claude-2"}).to_string())
        .send()
        .expect("live");
    let body: Value = res.json().expect("json");
    assert_eq!(
        body["url"],
        format!("http://viewer.example.test:8080/sessions/{}", id_of(&body))
    );
}

#[test]
fn public_url_and_token() {
    let env = TestEnv::new();
    let db = env.path().join("tok.db");
    let server = TestServer::start_with(
        &env,
        &db,
        &[
            "--public-url",
            "https://openctl.example.com/",
            "--token",
            "s3cret",
        ],
    );
    let body = json!({"title": "t", "harness_session_id": "c"}).to_string();
    let attempt = |auth: Option<&str>| {
        let mut req = http()
            .post(server.api("/api/sessions/live"))
            .header("X-Openctl-Client-ID", CLIENT)
            .body(body.clone());
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let res = req.send().expect("live");
        (res.status().as_u16(), res.json::<Value>().expect("json"))
    };
    let (status, err) = attempt(None);
    assert_eq!(status, 401);
    assert!(err["error"].as_str().expect("error").contains("Bearer"));
    assert_eq!(attempt(Some("Bearer wrong")).0, 401);
    let (status, ok) = attempt(Some("Bearer s3cret"));
    assert_eq!(status, 200, "{ok}");
    let id = id_of(&ok);
    assert_eq!(
        ok["url"],
        format!("https://openctl.example.com/sessions/{id}")
    );
    // Reading needs no token.
    assert_eq!(server.get_session(&id)["session"]["id"], id.as_str());
    let (status, _) = push(&server, &id, CLIENT, vec![text_message("u", "user", "x")]);
    assert_eq!(status, 401, "writes need the token");
}

#[test]
fn append_is_idempotent_ordered_and_dense() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = id_of(&live(&server, CLIENT, "claude-append"));
    let batch = vec![
        text_message("a", "user", "first"),
        text_message("b", "assistant", "second"),
        text_message("c", "user", "third"),
    ];
    let (status, body) = push(&server, &id, CLIENT, batch.clone());
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"appended": 3, "message_count": 3, "last_index": 2})
    );
    // A retried batch appends nothing; an overlapping one only the new part.
    let (_, body) = push(&server, &id, CLIENT, batch);
    assert_eq!(
        body,
        json!({"appended": 0, "message_count": 3, "last_index": 2})
    );
    let mut overlap = vec![
        text_message("c", "user", "third"),
        text_message("d", "assistant", "fourth"),
    ];
    // A duplicate inside one batch is stored once.
    overlap.push(text_message("d", "assistant", "fourth"));
    // Messages without uuid are always appended; any block type is stored as-is.
    overlap.push(json!({"role": "assistant", "content_blocks": [
        {"type": "redacted_thinking", "data": "xyz"},
        {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"q": "rust"}},
        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}
    ], "extra": true}));
    let (_, body) = push(&server, &id, CLIENT, overlap);
    assert_eq!(
        body,
        json!({"appended": 2, "message_count": 5, "last_index": 4})
    );

    let detail = server.get_session(&id);
    let messages = detail["messages"].as_array().expect("messages");
    let indexes: Vec<i64> = messages
        .iter()
        .map(|m| m["message_index"].as_i64().expect("index"))
        .collect();
    assert_eq!(indexes, vec![0, 1, 2, 3, 4]);
    let uuids: Vec<Value> = messages.iter().map(|m| m["uuid"].clone()).collect();
    assert_eq!(
        uuids,
        vec![json!("a"), json!("b"), json!("c"), json!("d"), Value::Null]
    );
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["timestamp"], "2026-11-24T10:00:00.000Z");
    assert_eq!(
        messages[4]["content_blocks"][0],
        json!({"type": "redacted_thinking", "data": "xyz"})
    );
    assert_eq!(messages[4]["content_blocks"][1]["input"]["q"], "rust");
    assert_eq!(detail["session"]["message_count"], 5);
    assert_eq!(detail["session"]["project_path"], "/home/me/app");
    assert_eq!(detail["session"]["repo_url"], "https://github.com/acme/app");
    let resumed = live(&server, CLIENT, "claude-append");
    assert_eq!(
        (
            resumed["message_count"].clone(),
            resumed["last_uuid"].clone()
        ),
        (json!(5), json!("d"))
    );
}

#[test]
fn append_status_codes() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = id_of(&live(&server, CLIENT, "claude-codes"));
    let one = || vec![text_message("x", "user", "hi")];
    assert_eq!(push(&server, &id, OTHER, one()).0, 403);
    assert_eq!(push(&server, "no-such-session", CLIENT, one()).0, 404);
    let (status, _) = send(
        &server,
        "POST",
        &format!("/api/sessions/{id}/messages"),
        None,
        Some(json!({"messages": one()}).to_string()),
    );
    assert_eq!(status, 401);
    for (body, field) in [
        (json!({}), "messages"),
        (json!({"messages": []}), "messages"),
        (json!({"messages": "x"}), "messages"),
        (json!({"messages": [5]}), "messages[0]"),
        (
            json!({"messages": [{"content_blocks": []}]}),
            "messages[0].role",
        ),
        (
            json!({"messages": [{"role": "system", "content_blocks": []}]}),
            "messages[0].role",
        ),
        (
            json!({"messages": [{"role": "user"}]}),
            "messages[0].content_blocks",
        ),
        (
            json!({"messages": [{"role": "user", "content_blocks": {}}]}),
            "messages[0].content_blocks",
        ),
        (
            json!({"messages": [{"role": "user", "content_blocks": ["text"]}]}),
            "content_blocks[0]",
        ),
        (
            json!({"messages": [{"role": "user", "content_blocks": [], "uuid": 7}]}),
            "messages[0].uuid",
        ),
        (json!([1, 2]), "object"),
    ] {
        let (status, err) = post(
            &server,
            &format!("/api/sessions/{id}/messages"),
            Some(CLIENT),
            body.clone(),
        );
        assert_eq!(status, 400, "{body}");
        assert!(
            err["error"].as_str().expect("error").contains(field),
            "{body} -> {err}"
        );
    }
    // A rejected batch stored nothing.
    assert_eq!(server.get_session(&id)["session"]["message_count"], 0);
    let (status, _) = post(
        &server,
        &format!("/api/sessions/{id}/complete"),
        Some(CLIENT),
        json!({}),
    );
    assert_eq!(status, 200);
    let (status, err) = push(&server, &id, CLIENT, one());
    assert_eq!(status, 409, "{err}");
}

#[test]
fn body_limits_count_the_bytes_actually_read() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = id_of(&live(&server, CLIENT, "claude-limits"));
    let big = "x".repeat(openctl::wire::MAX_JSON_BYTES);
    let body = json!({"messages": [text_message("big", "user", &big)]}).to_string();
    let (status, err) = send(
        &server,
        "POST",
        &format!("/api/sessions/{id}/messages"),
        Some(CLIENT),
        Some(body.clone()),
    );
    assert_eq!(status, 413, "{err}");
    assert!(err["error"].as_str().expect("error").contains("limit"));
    // Streamed without a Content-Length, the limit still holds.
    let res = http()
        .post(server.api(&format!("/api/sessions/{id}/messages")))
        .header("X-Openctl-Client-ID", CLIENT)
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(
            body.into_bytes(),
        )))
        .send()
        .expect("chunked post");
    assert_eq!(res.status().as_u16(), 413);
    // Just under the limit is fine.
    let fits = "y".repeat(openctl::wire::MAX_JSON_BYTES - 1024);
    let (status, _) = push(
        &server,
        &id,
        CLIENT,
        vec![text_message("fits", "user", &fits)],
    );
    assert_eq!(status, 200);

    let diff = format!(
        "diff --git a/f b/f\n--- a/f\n+++ b/f\n+{}\n",
        "z".repeat(openctl::wire::MAX_DIFF_BYTES)
    );
    let res = http()
        .put(server.api(&format!("/api/sessions/{id}/diff")))
        .header("X-Openctl-Client-ID", CLIENT)
        .header("Content-Type", "text/plain")
        .body(diff)
        .send()
        .expect("put diff");
    assert_eq!(res.status().as_u16(), 413);
    wait_for(
        "server healthy after big bodies",
        Duration::from_secs(20),
        || {
            http()
                .get(server.api("/api/health"))
                .send()
                .ok()
                .filter(|r| r.status().is_success())
        },
    );
}

#[test]
fn diff_complete_patch_lookup_delete() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = id_of(&live(&server, CLIENT, "claude-life"));
    let diff = "diff --git a/src/a.rs b/src/a.rs\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,2 +1,2 @@\n-old\n+new\n+more\ndiff --git a/b b/b\n--- a/b\n+++ b/b\n@@ -1 +0,0 @@\n-gone\n";
    let put = |client: &str, body: &str| {
        let res = http()
            .put(server.api(&format!("/api/sessions/{id}/diff")))
            .header("X-Openctl-Client-ID", client)
            .header("Content-Type", "text/plain")
            .body(body.to_string())
            .send()
            .expect("put diff");
        (res.status().as_u16(), res.json::<Value>().expect("json"))
    };
    let (status, stats) = put(CLIENT, diff);
    assert_eq!(status, 200, "{stats}");
    let anonymous = http()
        .put(server.api(&format!("/api/sessions/{id}/diff")))
        .body(diff)
        .send()
        .expect("put diff without a client id");
    assert_eq!(anonymous.status().as_u16(), 401);
    let unknown = http()
        .put(server.api("/api/sessions/nope/diff"))
        .header("X-Openctl-Client-ID", CLIENT)
        .body(diff)
        .send()
        .expect("put diff to an unknown session");
    assert_eq!(unknown.status().as_u16(), 404);
    assert!(unknown.json::<Value>().expect("json")["error"].is_string());
    assert_eq!(
        stats,
        json!({"files_changed": 2, "additions": 2, "deletions": 2})
    );
    assert_eq!(put(OTHER, diff).0, 403);
    let detail = server.get_session(&id);
    assert_eq!(detail["diffs"][0]["diff"], diff);
    assert_eq!(detail["diffs"][0]["files_changed"], 2);

    // PATCH
    let path = format!("/api/sessions/{id}");
    let (status, body) = send(
        &server,
        "PATCH",
        &path,
        Some(CLIENT),
        Some(json!({"title": "Fix the parser"}).to_string()),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["updated"], true);
    assert_eq!(
        server.get_session(&id)["session"]["title"],
        "Fix the parser"
    );
    let (status, err) = send(&server, "PATCH", &path, Some(CLIENT), Some("{}".into()));
    assert_eq!(status, 400);
    assert!(err["error"].as_str().expect("error").contains("title"));
    assert_eq!(
        send(
            &server,
            "PATCH",
            &path,
            Some(OTHER),
            Some(json!({"title": "x"}).to_string())
        )
        .0,
        403
    );
    assert_eq!(
        send(
            &server,
            "PATCH",
            &path,
            None,
            Some(json!({"title": "x"}).to_string())
        )
        .0,
        401
    );
    assert_eq!(
        send(
            &server,
            "PATCH",
            "/api/sessions/nope",
            Some(CLIENT),
            Some(json!({"title": "x"}).to_string())
        )
        .0,
        404
    );

    // Lookup by Claude session id: owner only.
    let (status, found) = send(
        &server,
        "GET",
        "/api/sessions?claude_session_id=claude-life",
        Some(CLIENT),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(found["session"]["id"], id.as_str());
    assert_eq!(found["url"], format!("{}/sessions/{id}", server.url));
    assert_eq!(
        send(
            &server,
            "GET",
            "/api/sessions?claude_session_id=claude-life",
            Some(OTHER),
            None
        )
        .0,
        403
    );
    assert_eq!(
        send(
            &server,
            "GET",
            "/api/sessions?claude_session_id=claude-life",
            None,
            None
        )
        .0,
        401
    );
    let (status, none) = send(
        &server,
        "GET",
        "/api/sessions?claude_session_id=unknown",
        Some(CLIENT),
        None,
    );
    assert_eq!((status, none["session"].clone()), (200, Value::Null));
    // Without a session id: the caller's own sessions (as the original
    // server answers its CLI's `session list`).
    let (status, list) = send(&server, "GET", "/api/sessions", Some(CLIENT), None);
    assert_eq!(status, 200, "{list}");
    assert!(list["sessions"].is_array(), "{list}");
    assert_eq!(
        send(&server, "GET", "/api/sessions?limit=x", Some(CLIENT), None).0,
        400
    );

    // Complete with a final diff and summary; idempotent.
    let complete = format!("/api/sessions/{id}/complete");
    assert_eq!(post(&server, &complete, Some(OTHER), json!({})).0, 403);
    assert_eq!(post(&server, &complete, None, json!({})).0, 401);
    let (status, err) = post(
        &server,
        "/api/sessions/nope/complete",
        Some(CLIENT),
        json!({}),
    );
    assert_eq!(status, 404);
    assert!(err["error"].is_string(), "{err}");
    let (status, done) = post(
        &server,
        &complete,
        Some(CLIENT),
        json!({"final_diff": "--- a/x\n+++ b/x\n+1\n", "summary": "done"}),
    );
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "complete");
    assert_eq!(done["message_count"], 0);
    assert!(done["duration_seconds"].as_i64().expect("duration") >= 0);
    let (status, again) = send(
        &server,
        "POST",
        &complete,
        Some(CLIENT),
        Some(String::new()),
    );
    assert_eq!((status, again["status"].clone()), (200, json!("complete")));
    let detail = server.get_session(&id);
    assert_eq!(detail["session"]["status"], "complete");
    assert!(detail["session"]["completed_at"].is_string());
    assert_eq!(detail["diffs"][0]["additions"], 1);
    assert_eq!(
        post(&server, &complete, Some(CLIENT), json!({"summary": 3})).0,
        400
    );

    // DELETE
    assert_eq!(send(&server, "DELETE", &path, Some(OTHER), None).0, 403);
    assert_eq!(send(&server, "DELETE", &path, None, None).0, 401);
    let (status, body) = send(&server, "DELETE", &path, Some(CLIENT), None);
    assert_eq!((status, body), (200, json!({"success": true})));
    assert_eq!(send(&server, "GET", &path, None, None).0, 404);
    assert_eq!(send(&server, "DELETE", &path, Some(CLIENT), None).0, 404);
    let page = http()
        .get(server.api(&format!("/sessions/{id}")))
        .send()
        .expect("page");
    assert_eq!(page.status().as_u16(), 404);
}

#[test]
fn fuzzed_message_bodies_never_cause_a_server_error() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = id_of(&live(&server, CLIENT, "claude-fuzz"));
    let path = format!("/api/sessions/{id}/messages");
    let mut rng = fastrand::Rng::with_seed(0x0e7c_7100);
    let valid = json!({"messages": [text_message("v", "user", "hello"),
        {"role": "assistant", "content_blocks": [{"type": "tool_use", "id": "t", "name": "Bash", "input": {"command": "ls"}}]}]})
    .to_string();
    let pieces = [
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "null",
        "true",
        "1e999",
        "-0",
        "\"role\"",
        "\"messages\"",
        "\"content_blocks\"",
        "\"user\"",
        "\\u0000",
        "\\ud800",
        "\u{feff}",
        "𝄞",
        "\n",
    ];
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..400 {
        let body: Vec<u8> = match round % 5 {
            0 => (0..rng.usize(0..300)).map(|_| rng.u8(..)).collect(),
            1 => {
                let mut b = valid.clone().into_bytes();
                for _ in 0..rng.usize(1..8) {
                    let at = rng.usize(0..b.len());
                    b[at] = rng.u8(..);
                }
                b
            }
            2 => {
                let mut b = valid.clone().into_bytes();
                b.truncate(rng.usize(0..b.len()));
                b
            }
            3 => (0..rng.usize(1..40))
                .map(|_| pieces[rng.usize(0..pieces.len())])
                .collect::<String>()
                .into_bytes(),
            _ => {
                // Structurally valid JSON with odd values everywhere.
                let odd = [
                    json!(null),
                    json!(1),
                    json!("s"),
                    json!([]),
                    json!({}),
                    json!(-1.5),
                    json!([{"type": 5}]),
                    json!("x".repeat(300)),
                    json!({"type": "image", "source": {"data": []}}),
                ];
                let pick = |rng: &mut fastrand::Rng| odd[rng.usize(0..odd.len())].clone();
                let depth = rng.usize(0..200);
                let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
                let mut m = json!({"role": pick(&mut rng), "content_blocks": pick(&mut rng), "uuid": pick(&mut rng), "timestamp": pick(&mut rng)});
                if rng.bool() {
                    m["role"] = json!("user");
                }
                if rng.bool() {
                    m["content_blocks"] = json!([{"type": "text", "text": pick(&mut rng)}, {"nested": serde_json::from_str::<Value>(&nested).unwrap_or(Value::Null)}]);
                }
                json!({"messages": [m]}).to_string().into_bytes()
            }
        };
        let res = http()
            .post(server.api(&path))
            .header("X-Openctl-Client-ID", CLIENT)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .expect("fuzz request");
        let status = res.status().as_u16();
        assert!(
            status < 500,
            "round {round}: {status} for {:?}",
            String::from_utf8_lossy(&body)
        );
        if status != 200 {
            let err: Value = res.json().expect("error bodies are JSON");
            assert!(err["error"].is_string(), "round {round}: {err}");
        }
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert!(statuses.contains_key(&400), "{statuses:?}");
    assert!(statuses.contains_key(&200), "{statuses:?}");
    // Still healthy, and what was stored is valid and dense.
    let detail = server.get_session(&id);
    let messages = detail["messages"].as_array().expect("messages");
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(m["message_index"], i as i64);
        assert!(m["content_blocks"].is_array());
    }
}

#[test]
fn startup_errors_exit_1_with_a_clear_message() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let out = env
        .cmd(&["server", "--listen", &server.addr, "--db"])
        .arg(env.path().join("second.db"))
        .output()
        .expect("run server");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        crate::common::stderr(&out)
    );
    let err = crate::common::stderr(&out);
    assert!(
        err.contains(&format!("cannot listen on {}", server.addr)),
        "{err}"
    );
    assert!(err.contains("--listen"), "{err}");

    let blocker = env.path().join("not-a-dir");
    std::fs::write(&blocker, "file").expect("write");
    let out = env
        .cmd(&["server", "--listen", "127.0.0.1:0", "--db"])
        .arg(blocker.join("server.db"))
        .output()
        .expect("run server");
    assert_eq!(out.status.code(), Some(1));
    let err = crate::common::stderr(&out);
    assert!(err.contains("not-a-dir") && err.contains("--db"), "{err}");
    assert!(!err.contains("Listening on"), "{err}");
}

/// `openctl server` on a free port, with the URL its `Listening on` line
/// names.
fn spawn_server_on_a_free_port(env: &TestEnv) -> (std::process::Child, String) {
    let mut child = env
        .cmd(&["server", "--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let url = wait_for("Listening line", Duration::from_secs(30), || {
        rx.try_recv()
            .ok()
            .and_then(|l| l.strip_prefix("Listening on ").map(str::to_string))
    });
    (child, url)
}

#[test]
fn default_database_lives_in_openctl_home_and_sigterm_is_clean() {
    let env = TestEnv::new();
    let (mut child, url) = spawn_server_on_a_free_port(&env);
    assert!(http()
        .get(format!("{url}/api/health"))
        .send()
        .expect("health")
        .status()
        .is_success());
    let db = env.openctl_home.join("server.db");
    assert!(db.is_file(), "default db at {}", db.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env.openctl_home)
            .expect("home")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = wait_for("exit after SIGTERM", Duration::from_secs(30), || {
        child.try_wait().expect("wait")
    });
    assert!(status.success(), "{status}");
    // Closed cleanly: the WAL was checkpointed away.
    let wal = env.openctl_home.join("server.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).expect("wal").len() == 0);
}

#[test]
fn sigint_lets_an_in_flight_request_finish_and_keeps_it() {
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let (mut child, url) = spawn_server_on_a_free_port(&env);
    let addr = url.trim_start_matches("http://").to_string();

    // A request in flight when SIGINT arrives: the server asked for its
    // body (100 Continue), which only the handler reading it does.
    let body = json!({"title": "In flight", "harness_session_id": "claude-in-flight"}).to_string();
    let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
    write!(
        conn,
        "POST /api/sessions/live HTTP/1.1\r\nHost: {addr}\r\nX-Openctl-Client-ID: {CLIENT}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("send the headers");
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        conn.read_exact(&mut byte).expect("read 100 Continue");
        interim.push(byte[0]);
    }
    assert!(interim.starts_with(b"HTTP/1.1 100"), "{interim:?}");
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    // Shutting down: no new connections are accepted...
    wait_for("the listener to close", Duration::from_secs(30), || {
        std::net::TcpStream::connect(&addr).is_err().then_some(())
    });
    // ...but the request in flight completes.
    conn.write_all(body.as_bytes()).expect("send the body");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let json_start = response.find("\r\n\r\n").expect("headers end") + 4;
    let created: Value = serde_json::from_str(&response[json_start..]).expect("json body");
    let status = wait_for("exit after SIGINT", Duration::from_secs(30), || {
        child.try_wait().expect("wait")
    });
    assert!(status.success(), "{status}");

    // It was stored: the next server on the same database has it.
    let server = TestServer::start_with(&env, &env.openctl_home.join("server.db"), &[]);
    let detail = server.get_session(created["id"].as_str().expect("id"));
    assert_eq!(detail["session"]["title"], "In flight");
}

/// One Server-Sent Event as a viewer sees it.
#[derive(Debug, Clone, Default)]
struct Sse {
    event: String,
    id: Option<String>,
    data: String,
}

/// Follow `path` in a thread; every event (and `:` comment, as event
/// "comment") arrives on the returned channel.
fn follow(
    server: &TestServer,
    path: &str,
    last_event_id: Option<&str>,
) -> std::sync::mpsc::Receiver<Sse> {
    let client = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .expect("client");
    let mut req = client
        .get(server.api(path))
        .header("Accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let res = req.send().expect("open event stream");
    assert_eq!(res.status().as_u16(), 200, "GET {path}");
    let ctype = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ctype.starts_with("text/event-stream"), "{ctype}");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut current = Sse::default();
        for line in std::io::BufReader::new(res).lines() {
            let Ok(line) = line else { return };
            if line.is_empty() {
                if (!current.event.is_empty() || !current.data.is_empty())
                    && tx.send(std::mem::take(&mut current)).is_err()
                {
                    return;
                }
            } else if let Some(c) = line.strip_prefix(':') {
                let _ = tx.send(Sse {
                    event: "comment".into(),
                    id: None,
                    data: c.trim().into(),
                });
            } else if let Some(v) = line.strip_prefix("event:") {
                current.event = v.trim().into();
            } else if let Some(v) = line.strip_prefix("id:") {
                current.id = Some(v.trim().into());
            } else if let Some(v) = line.strip_prefix("data:") {
                current.data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
    });
    rx
}

fn next_event(rx: &std::sync::mpsc::Receiver<Sse>, kind: &str) -> Sse {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ev = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no `{kind}` event within 30 s"));
        if ev.event == kind {
            return ev;
        }
    }
}

#[test]
fn event_stream_replays_then_follows_live() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = id_of(&live(&server, CLIENT, "claude-sse"));
    push(
        &server,
        &id,
        CLIENT,
        vec![
            text_message("a", "user", "zero"),
            text_message("b", "assistant", "one"),
        ],
    );
    let events = format!("/api/sessions/{id}/events");

    // A late viewer gets everything from the start, then live updates.
    let rx = follow(&server, &events, None);
    for i in 0..2 {
        let ev = next_event(&rx, "message");
        assert_eq!(ev.id.as_deref(), Some(i.to_string().as_str()));
        let m: Value = serde_json::from_str(&ev.data).expect("message json");
        assert_eq!(m["message_index"], i);
    }
    push(&server, &id, CLIENT, vec![text_message("c", "user", "two")]);
    let ev = next_event(&rx, "message");
    assert_eq!(ev.id.as_deref(), Some("2"));
    let m: Value = serde_json::from_str(&ev.data).expect("json");
    assert_eq!(m["content_blocks"][0]["text"], "two");
    assert_eq!(m["uuid"], "c");

    send(
        &server,
        "PATCH",
        &format!("/api/sessions/{id}"),
        Some(CLIENT),
        Some(json!({"title": "New title"}).to_string()),
    );
    let ev = next_event(&rx, "title");
    assert_eq!(
        serde_json::from_str::<Value>(&ev.data).expect("json")["title"],
        "New title"
    );
    http()
        .put(server.api(&format!("/api/sessions/{id}/diff")))
        .header("X-Openctl-Client-ID", CLIENT)
        .body("--- a/f\n+++ b/f\n+x\n")
        .send()
        .expect("diff");
    let ev = next_event(&rx, "diff");
    assert_eq!(
        serde_json::from_str::<Value>(&ev.data).expect("json")["additions"],
        1
    );

    // Reconnects resume after Last-Event-ID, or at ?from=.
    let resumed = follow(&server, &events, Some("1"));
    assert_eq!(next_event(&resumed, "message").id.as_deref(), Some("2"));
    let from = follow(&server, &format!("{events}?from=1"), None);
    assert_eq!(next_event(&from, "message").id.as_deref(), Some("1"));

    post(
        &server,
        &format!("/api/sessions/{id}/complete"),
        Some(CLIENT),
        json!({}),
    );
    let ev = next_event(&rx, "complete");
    assert_eq!(
        serde_json::from_str::<Value>(&ev.data).expect("json")["status"],
        "complete"
    );
    // A viewer of a completed session is told so after the replay.
    let late = follow(&server, &events, None);
    next_event(&late, "complete");

    // Restoring it (new lines after completion) turns every viewer live again.
    let restored = live(&server, CLIENT, "claude-sse");
    assert_eq!(restored["restored"], true, "{restored}");
    for viewer in [&rx, &late] {
        let ev = next_event(viewer, "live");
        assert_eq!(
            serde_json::from_str::<Value>(&ev.data).expect("json")["status"],
            "live"
        );
    }

    assert_eq!(
        send(&server, "GET", "/api/sessions/nope/events", None, None).0,
        404
    );
    assert_eq!(
        send(&server, "GET", &format!("{events}?from=x"), None, None).0,
        400
    );
}

#[test]
fn event_stream_sends_keep_alive_comments() {
    // In-process, through the library entry point, with a short interval.
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut opts = openctl::server::ServerOptions::new(dir.path().join("s.db"));
    opts.keep_alive = Duration::from_millis(200);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = runtime.spawn(openctl::server::serve(listener, opts, async {
        let _ = stop_rx.await;
    }));
    let base = format!("http://{addr}");
    let created: Value = http()
        .post(format!("{base}/api/sessions/live"))
        .header("X-Openctl-Client-ID", CLIENT)
        .body(json!({"title": "t", "harness_session_id": "ka"}).to_string())
        .send()
        .expect("live")
        .json()
        .expect("json");
    let client = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .expect("client");
    let res = client
        .get(format!("{base}/api/sessions/{}/events", id_of(&created)))
        .send()
        .expect("events");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(res).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
        let _ = tx.send("<closed>".to_string());
    });
    let line = wait_for("a keep-alive comment", Duration::from_secs(20), || {
        rx.try_recv().ok().filter(|l| l.starts_with(':'))
    });
    assert_eq!(line, ": keep-alive");
    // Shutdown ends open streams and returns cleanly.
    stop_tx.send(()).expect("stop");
    let served = runtime.block_on(handle).expect("join");
    assert!(served.is_ok(), "{served:?}");
    wait_for(
        "the stream to close on shutdown",
        Duration::from_secs(20),
        || rx.try_recv().ok().filter(|l| l == "<closed>"),
    );
}

#[test]
fn twenty_writers_and_fifty_viewers_lose_nothing() {
    const WRITERS: usize = 20;
    const VIEWERS: usize = 50;
    const BATCHES: usize = 20;
    const PER_BATCH: usize = 5;
    let total = (BATCHES * PER_BATCH) as i64;
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let ids: Vec<String> = (0..WRITERS)
        .map(|w| id_of(&live(&server, CLIENT, &format!("load-{w}"))))
        .collect();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<(usize, i64)>();
    let mut viewer_of = Vec::new();
    for v in 0..VIEWERS {
        let session = v % WRITERS;
        viewer_of.push(session);
        // Half the viewers join before the writers start, half replay later.
        if v % 2 == 0 {
            let rx = follow(
                &server,
                &format!("/api/sessions/{}/events", ids[session]),
                None,
            );
            let tx = seen_tx.clone();
            std::thread::spawn(move || {
                while let Ok(ev) = rx.recv() {
                    if ev.event == "message" {
                        let idx = ev.id.and_then(|i| i.parse().ok()).unwrap_or(-1);
                        if tx.send((v, idx)).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    }
    let started = std::time::Instant::now();
    let writers: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(w, id)| {
            let url = server.api(&format!("/api/sessions/{id}/messages"));
            std::thread::spawn(move || {
                let client = http();
                for b in 0..BATCHES {
                    let messages: Vec<Value> = (0..PER_BATCH)
                        .map(|k| {
                            text_message(
                                &format!("w{w}-{b}-{k}"),
                                if k % 2 == 0 { "user" } else { "assistant" },
                                &format!("{w}/{b}/{k}"),
                            )
                        })
                        .collect();
                    let body = json!({ "messages": messages }).to_string();
                    // Every batch is sent twice: the retry must add nothing.
                    for _ in 0..2 {
                        let res = client
                            .post(&url)
                            .header("X-Openctl-Client-ID", CLIENT)
                            .body(body.clone())
                            .send()
                            .expect("push");
                        assert_eq!(res.status().as_u16(), 200);
                    }
                }
            })
        })
        .collect();
    for v in (0..VIEWERS).filter(|v| v % 2 == 1) {
        let rx = follow(
            &server,
            &format!("/api/sessions/{}/events", ids[viewer_of[v]]),
            None,
        );
        let tx = seen_tx.clone();
        std::thread::spawn(move || {
            while let Ok(ev) = rx.recv() {
                if ev.event == "message" {
                    let idx = ev.id.and_then(|i| i.parse().ok()).unwrap_or(-1);
                    if tx.send((v, idx)).is_err() {
                        return;
                    }
                }
            }
        });
    }
    for w in writers {
        w.join().expect("writer thread");
    }
    let elapsed = started.elapsed();
    let mut seen: Vec<Vec<i64>> = vec![Vec::new(); VIEWERS];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while seen.iter().any(|s| (s.len() as i64) < total) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match seen_rx.recv_timeout(left) {
            Ok((v, idx)) => seen[v].push(idx),
            Err(_) => panic!(
                "viewers incomplete: {:?}",
                seen.iter().map(Vec::len).collect::<Vec<_>>()
            ),
        }
    }
    let expected: Vec<i64> = (0..total).collect();
    for (v, s) in seen.iter().enumerate() {
        assert_eq!(s, &expected, "viewer {v} saw every message once, in order");
    }
    for id in &ids {
        let detail = server.get_session(id);
        assert_eq!(detail["session"]["message_count"], total);
    }
    eprintln!(
        "{WRITERS} writers x {} messages (each batch sent twice) with {VIEWERS} viewers: {elapsed:?}",
        total
    );
}

/// The viewer page in a real headless Chromium, driven over chromedriver's
/// plain HTTP WebDriver protocol.
mod browser {
    use std::path::Path;
    use std::time::Duration;

    use serde_json::{json, Value};

    use super::{http, id_of, live, post, push, text_message, CLIENT};
    use crate::common::{wait_for, TestEnv, TestServer};
    use crate::viewer::support::{Browser, BrowserOptions, CHROMIUM};

    /// A 1x1 PNG.
    const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

    fn transcript() -> Vec<Value> {
        vec![
            json!({"role": "user", "uuid": "m0", "timestamp": "2026-11-24T10:00:00.000Z",
                   "content_blocks": [{"type": "text", "text": "The parser drops the last line. Can you fix it? <script>window.__pwned = 1</script>"}]}),
            json!({"role": "assistant", "uuid": "m1", "timestamp": "2026-11-24T10:00:05.000Z",
            "content_blocks": [
                {"type": "thinking", "thinking": "The loop probably stops before a line without a trailing newline."},
                {"type": "text", "text": "## Plan\nI'll look at `parse_lines` first:\n\n- read **src/parser.rs**\n- run the tests\n\n<img src=x onerror=\"window.__pwned = 2\">"},
                {"type": "tool_use", "id": "tool-1", "name": "Bash", "input": {"command": "cargo test parser", "description": "Run the parser tests"}}
            ]}),
            json!({"role": "user", "uuid": "m2", "timestamp": "2026-11-24T10:00:09.000Z",
                   "content_blocks": [{"type": "tool_result", "tool_use_id": "tool-1",
                       "content": "running 3 tests\ntest parses_empty ... ok\ntest keeps_last_line ... FAILED\n\ntest result: FAILED. 2 passed; 1 failed", "is_error": true}]}),
            json!({"role": "assistant", "uuid": "m3", "timestamp": "2026-11-24T10:00:12.000Z",
            "content_blocks": [
                {"type": "text", "text": "One failure, as expected. Fixing the loop:"},
                {"type": "tool_use", "id": "tool-2", "name": "Edit", "input": {"file_path": "/home/me/app/src/parser.rs",
                    "old_string": "while let Some(i) = rest.find('\\n') {", "new_string": "for line in rest.split_inclusive('\\n') {"}}
            ]}),
            json!({"role": "user", "uuid": "m4", "timestamp": "2026-11-24T10:00:13.000Z",
                   "content_blocks": [{"type": "tool_result", "tool_use_id": "tool-2", "content": "The file /home/me/app/src/parser.rs has been updated."}]}),
            json!({"role": "user", "uuid": "m5", "timestamp": "2026-11-24T10:00:20.000Z",
                   "content_blocks": [{"type": "text", "text": "Here is the screenshot of the output:"},
                                      {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}}]}),
        ]
    }

    #[test]
    fn viewer_renders_safely_and_updates_live() {
        if !Path::new(CHROMIUM).exists() && std::env::var_os("CI").is_none() {
            eprintln!("SKIPPED browser test: {CHROMIUM} is not installed (apt-get install -y chromium chromium-driver); in CI it must run");
            return;
        }
        let env = TestEnv::new();
        let mut server = TestServer::start(&env);
        let id = id_of(&live(&server, CLIENT, "claude-browser"));
        let (status, body) = push(&server, &id, CLIENT, transcript());
        assert_eq!(status, 200, "{body}");
        let (status, _) = super::send(
            &server,
            "PATCH",
            &format!("/api/sessions/{id}"),
            Some(CLIENT),
            Some(json!({"title": "Fix the parser dropping the last line"}).to_string()),
        );
        assert_eq!(status, 200);
        let diff = "diff --git a/src/parser.rs b/src/parser.rs\nindex 1c2d3e4..5f6a7b8 100644\n--- a/src/parser.rs\n+++ b/src/parser.rs\n@@ -10,7 +10,6 @@ pub fn parse_lines(rest: &str) -> Vec<Line> {\n     let mut out = Vec::new();\n-    while let Some(i) = rest.find('\\n') {\n-        out.push(Line::new(&rest[..i]));\n+    for line in rest.split_inclusive('\\n') {\n+        out.push(Line::new(line.trim_end_matches('\\n')));\n     }\n     out\n }\n";
        let res = http()
            .put(server.api(&format!("/api/sessions/{id}/diff")))
            .header("X-Openctl-Client-ID", CLIENT)
            .body(diff)
            .send()
            .expect("diff");
        assert!(res.status().is_success());

        let browser = Browser::start(BrowserOptions {
            height: 1800,
            ..BrowserOptions::default()
        });
        browser.goto(&server.api(&format!("/sessions/{id}")));
        let count = "return document.querySelectorAll('.msg').length";
        let rendered = wait_for("the viewer to load", Duration::from_secs(30), || {
            let n = browser.js(count).as_i64().unwrap_or(0);
            (n > 0
                || browser.js("return document.querySelector('#status').textContent") != json!(""))
            .then_some(n)
        });
        // Six messages, four bubbles: the two tool results join their calls.
        assert_eq!(
            rendered,
            4,
            "page: {}",
            browser.js("return document.body.innerText")
        );
        // Tool results sit beside their calls instead of as user messages.
        assert_eq!(
            browser.js("return document.querySelectorAll('.tool').length"),
            json!(2)
        );
        assert_eq!(
            browser.js("return document.querySelectorAll('.tool.error .out.err').length"),
            json!(1)
        );
        assert_eq!(
            browser.js("return document.querySelector('details.thinking').open"),
            json!(false)
        );
        assert_eq!(browser.js("return document.querySelector('.md h4') && document.querySelector('.md h4').textContent"), json!("Plan"));
        assert_eq!(
            browser.js("return document.querySelectorAll('img.image').length"),
            json!(1)
        );
        assert_eq!(
            browser.js("return document.querySelector('#badge').textContent"),
            json!("Live")
        );
        assert_eq!(
            browser.js("return document.querySelector('#title').textContent"),
            json!("Fix the parser dropping the last line")
        );
        let meta = browser.js("return document.querySelector('#meta').textContent");
        assert!(
            meta.as_str()
                .is_some_and(|m| m.contains("app") && m.contains("github.com/acme/app")),
            "{meta}"
        );
        assert_eq!(
            browser.js("return document.querySelectorAll('#diff .line.add').length"),
            json!(2)
        );
        // Transcript markup is text: nothing ran, no element was created.
        let text = browser.js("return document.body.innerText");
        let text = text.as_str().expect("text");
        assert!(
            text.contains("<script>window.__pwned = 1</script>"),
            "{text}"
        );
        assert!(text.contains("<img src=x onerror="), "{text}");
        assert_eq!(
            browser.js("return typeof window.__pwned"),
            json!("undefined")
        );
        assert_eq!(browser.js("return document.scripts.length"), json!(1));

        // Live: a pushed message appears without a reload.
        browser.js("window.__sameDocument = 42; return null");
        let (status, _) = push(
            &server,
            &id,
            CLIENT,
            vec![text_message("m6", "assistant", "All **3 tests** pass now.")],
        );
        assert_eq!(status, 200);
        wait_for(
            "the pushed message to appear",
            Duration::from_secs(30),
            || {
                browser
                    .js("return document.body.innerText")
                    .as_str()
                    .filter(|t| t.contains("All 3 tests pass now."))
                    .map(|_| ())
            },
        );
        assert_eq!(
            browser.js("return window.__sameDocument"),
            json!(42),
            "no reload happened"
        );
        assert_eq!(browser.js(count), json!(5));

        // A result written before its call joins the call when it arrives.
        let (status, _) = push(
            &server,
            &id,
            CLIENT,
            vec![
                json!({"role": "user", "uuid": "early-result", "content_blocks": [
                    {"type": "tool_result", "tool_use_id": "tool-9", "content": "early output"}]}),
                json!({"role": "assistant", "uuid": "late-call", "content_blocks": [
                    {"type": "tool_use", "id": "tool-9", "name": "Bash", "input": {"command": "echo early"}}]}),
            ],
        );
        assert_eq!(status, 200);
        wait_for(
            "the late call with its result",
            Duration::from_secs(30),
            || {
                let joined = browser.js(
                "return [...document.querySelectorAll('.tool')].some(t => t.innerText.includes('echo early') && t.querySelector('.out').innerText.includes('early output'))",
            );
                (joined == json!(true)).then_some(())
            },
        );
        assert_eq!(
            browser.js("return document.querySelectorAll('.orphan').length"),
            json!(0),
            "no result left on its own"
        );

        let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-viewer.png");
        browser.screenshot(&shot);
        eprintln!("viewer screenshot: {}", shot.display());

        let (status, _) = post(
            &server,
            &format!("/api/sessions/{id}/complete"),
            Some(CLIENT),
            json!({}),
        );
        assert_eq!(status, 200);
        wait_for("the badge to say Complete", Duration::from_secs(30), || {
            (browser.js("return document.querySelector('#badge').textContent") == json!("Complete"))
                .then_some(())
        });
        assert_eq!(browser.js("return window.__sameDocument"), json!(42));

        // The server restarts under the open page; the session is restored
        // (new lines after completion): the page reconnects by itself, turns
        // Live again and shows what comes next.
        server.restart();
        let restored = live(&server, CLIENT, "claude-browser");
        assert_eq!(restored["restored"], json!(true), "{restored}");
        let (status, _) = push(
            &server,
            &id,
            CLIENT,
            vec![text_message(
                "m7",
                "user",
                "One more thing after the restart.",
            )],
        );
        assert_eq!(status, 200);
        wait_for(
            "the page to reconnect, turn Live and show the new message",
            Duration::from_secs(60),
            || {
                let badge = browser.js("return document.querySelector('#badge').textContent");
                let text = browser.js("return document.body.innerText");
                (badge == json!("Live")
                    && text
                        .as_str()
                        .is_some_and(|t| t.contains("One more thing after the restart.")))
                .then_some(())
            },
        );
        // The late call is one more bubble; its early result holds none.
        assert_eq!(browser.js(count), json!(7));
        assert_eq!(browser.js("return window.__sameDocument"), json!(42));
    }
}

#[test]
fn a_viewer_that_stops_reading_holds_back_nobody_and_later_gets_everything() {
    const BATCHES: usize = 15;
    const PER_BATCH: usize = 100;
    let total = BATCHES * PER_BATCH;
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = id_of(&live(&server, CLIENT, "claude-slow-viewer"));
    let events = format!("/api/sessions/{id}/events");

    // The slow viewer: connected, but reading nothing until the end.
    let mut slow = std::net::TcpStream::connect(&server.addr).expect("connect");
    {
        use std::io::Write;
        write!(
            slow,
            "GET {events} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            server.addr
        )
        .expect("request");
    }
    let fast = follow(&server, &events, None);

    // ~12 MB of messages: far more than socket buffers and the per-session
    // event buffer hold for a viewer that does not read.
    let filler = "x".repeat(8 * 1024);
    for b in 0..BATCHES {
        let messages = (0..PER_BATCH)
            .map(|k| {
                text_message(
                    &format!("m{b}-{k}"),
                    "assistant",
                    &format!("{b}/{k} {filler}"),
                )
            })
            .collect();
        assert_eq!(push(&server, &id, CLIENT, messages).0, 200);
    }
    for i in 0..total {
        let ev = next_event(&fast, "message");
        assert_eq!(ev.id, Some(i.to_string()), "the fast viewer, in order");
    }

    // Now the slow viewer reads: every message, once, in order.
    slow.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut raw = Vec::new();
    let mut ids: Vec<usize> = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while ids.len() < total {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow viewer got {} of {total} messages",
            ids.len()
        );
        use std::io::Read;
        match slow.read(&mut buf) {
            Ok(0) => panic!("the server closed the slow viewer's stream"),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("reading the slow viewer's stream: {e}"),
        }
        // Events are whole chunks, so `id:` lines are never split.
        ids = String::from_utf8_lossy(&raw)
            .lines()
            .filter_map(|l| l.strip_prefix("id:"))
            .filter_map(|v| v.trim().parse().ok())
            .collect();
    }
    assert_eq!(ids, (0..total).collect::<Vec<_>>());
}
