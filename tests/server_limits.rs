//! Integration tests: `openctl server` under conditions that used to hurt
//! it: its database deleted while it runs, slow or idle clients holding
//! connections, bodies of many tiny blocks, and reads of large sessions.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{wait_for, TestEnv, TestServer, BIN};

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

/// `openctl server` with at most `nofile` open files and extra arguments;
/// (process, base URL).
fn spawn_with_nofile(env: &TestEnv, nofile: u64, args: &[&str]) -> (Child, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(BIN);
    cmd.args(["server", "--listen", "127.0.0.1:0", "--db"])
        .arg(env.path().join("limited.db"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    env.apply_env(&mut cmd);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the hook.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: nofile,
                rlim_max: nofile,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn openctl server");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr"))
        .lines()
        .map_while(Result::ok);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let url = lines.find_map(|l| Some(l.strip_prefix("Listening on ")?.trim().to_string()));
        let _ = tx.send(url);
        lines.for_each(drop);
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .ok()
        .flatten()
        .expect("the server prints `Listening on`");
    (child, url)
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the server closed `s` (end of stream or reset); `s` is
/// non-blocking.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut byte = [0u8; 64];
    match s.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

#[test]
fn slow_clients_cannot_starve_the_server() {
    let env = TestEnv::new();
    let (child, url) = spawn_with_nofile(&env, 256, &["--header-timeout", "3"]);
    let _server = Kill(child);
    let addr = url.trim_start_matches("http://").to_string();
    let id = live(&url, "claude-slow-clients");

    // 300 clients that send their headers one byte every two seconds: more
    // than the server has file descriptors for.
    let head = b"GET /api/health HTTP/1.1\r\nHost: slow\r\nX-Slow: 1\r\n";
    let mut slow: Vec<TcpStream> = (0..300)
        .map(|_| {
            let s = TcpStream::connect(&addr).expect("connect");
            s.set_nonblocking(true).expect("nonblocking");
            s
        })
        .collect();
    let started = Instant::now();
    let mut closed_at: Vec<Option<Duration>> = vec![None; slow.len()];
    let mut sent = 0;
    let mut next_byte = Instant::now();
    let mut checks = 0;
    while closed_at.iter().any(Option::is_none) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} slow connections still open after 60 s",
            closed_at.iter().filter(|c| c.is_none()).count()
        );
        if Instant::now() >= next_byte && sent < head.len() {
            for (s, closed) in slow.iter_mut().zip(&closed_at) {
                if closed.is_none() {
                    let _ = s.write(&head[sent..sent + 1]);
                }
            }
            sent += 1;
            next_byte = Instant::now() + Duration::from_secs(2);
        }
        // While they hold on, everyone else is still served, at once.
        if checks < 3 && started.elapsed() >= Duration::from_secs(checks) {
            checks += 1;
            let quick = http(Duration::from_secs(1));
            let t = Instant::now();
            let res = quick
                .get(format!("{url}/api/health"))
                .send()
                .unwrap_or_else(|e| panic!("health during the slow clients: {e}"));
            assert_eq!(res.status().as_u16(), 200);
            let (status, body) = post(
                &quick,
                &url,
                &format!("/api/sessions/{id}/messages"),
                json!({"messages": [text_message(&format!("during-{checks}"), "hi")]}).to_string(),
            );
            assert_eq!(status, 200, "{body}");
            assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        }
        for (s, closed) in slow.iter_mut().zip(closed_at.iter_mut()) {
            if closed.is_none() && closed_by_server(s) {
                *closed = Some(started.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let last = closed_at.iter().flatten().max().expect("closed");
    assert!(*last < Duration::from_secs(60), "{last:?}");
    // And the server is fine afterwards.
    let res = http(Duration::from_secs(1))
        .get(format!("{url}/api/health"))
        .send()
        .expect("health after");
    assert_eq!(res.status().as_u16(), 200);
}

/// Send raw bytes on a new connection to `addr`.
fn raw(addr: &str, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(bytes).expect("write");
    s
}

/// Everything the server sends until it closes the connection.
fn read_to_close(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .expect("the server closes the connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_trickling_body_gets_408_and_idle_connections_are_closed() {
    let env = TestEnv::new();
    let server = TestServer::start_with(
        &env,
        &env.path().join("server.db"),
        &["--body-timeout", "2", "--idle-timeout", "2"],
    );
    let id = live(&server.url, "claude-trickle");
    let mut s = raw(
        &server.addr,
        format!(
            "POST /api/sessions/{id}/messages HTTP/1.1\r\nHost: x\r\n\
             X-Openctl-Client-ID: {CLIENT}\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\n\r\n{{"
        )
        .as_bytes(),
    );
    let t = Instant::now();
    let writer = s.try_clone().expect("clone");
    std::thread::spawn(move || {
        let mut w = writer;
        for _ in 0..100 {
            std::thread::sleep(Duration::from_millis(500));
            if w.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let answer = read_to_close(&mut s);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());

    // A kept-alive connection with no next request is closed.
    let mut s = raw(&server.addr, b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    let t = Instant::now();
    let answer = read_to_close(&mut s);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

#[test]
fn event_streams_outlive_the_timeouts() {
    let env = TestEnv::new();
    let server = TestServer::start_with(
        &env,
        &env.path().join("server.db"),
        &[
            "--header-timeout",
            "1",
            "--idle-timeout",
            "1",
            "--body-timeout",
            "1",
        ],
    );
    let id = live(&server.url, "claude-stream");
    let res = http(Duration::from_secs(60))
        .get(server.api(&format!("/api/sessions/{id}/events")))
        .send()
        .expect("events");
    assert_eq!(res.status().as_u16(), 200);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(res).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
        let _ = tx.send("<closed>".into());
    });
    wait_for("the stream's first event", Duration::from_secs(20), || {
        rx.try_recv().ok().filter(|l| l.starts_with("event:"))
    });
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        push(&server.url, &id, &[text_message("late", "still here")]).0,
        200
    );
    let line = wait_for("the message event", Duration::from_secs(20), || {
        rx.try_recv()
            .ok()
            .filter(|l| l == "event: message" || l == "<closed>")
    });
    assert_eq!(line, "event: message");
}

/// `n` empty blocks.
fn blocks(n: usize) -> String {
    vec!["{}"; n].join(",")
}

#[test]
fn too_many_blocks_or_messages_are_refused_with_413() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = live(&server.url, "claude-blocks");
    let path = format!("/api/sessions/{id}/messages");
    let client = http(Duration::from_secs(60));
    let message = |n: usize| format!(r#"{{"role": "user", "content_blocks": [{}]}}"#, blocks(n));

    // At the limit: stored.
    let (status, body) = post(
        &client,
        &server.url,
        &path,
        format!(r#"{{"messages": [{}]}}"#, message(4096)),
    );
    assert_eq!(status, 200, "{body}");
    let too_many = [
        // One more block in a message.
        (
            vec![message(1), message(4097)],
            "`messages[1].content_blocks` has more than 4096 blocks",
        ),
        // Too many blocks in the request, each message within its limit.
        (vec![message(4000); 26], "more than 100000 content blocks"),
        (vec![message(0); 10_001], "more than 10000 messages"),
    ];
    for (messages, error) in too_many {
        let body = format!(r#"{{"messages": [{}]}}"#, messages.join(","));
        let (status, body) = post(&client, &server.url, &path, body);
        assert_eq!(status, 413, "{body}");
        assert!(error_text(&body).contains(error), "{body}");
    }

    // The 9.7 MB body of 3.4 million empty blocks, a few at once: refused,
    // and the server stays healthy.
    let huge = format!(
        r#"{{"messages": [{{"role": "user", "content_blocks": [{}]}}]}}"#,
        blocks(3_400_000)
    );
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let (status, body) = post(&client, &server.url, &path, huge.clone());
                assert_eq!(status, 413, "{body}");
                assert!(error_text(&body).contains("4096 blocks"), "{body}");
            });
        }
    });
    let detail = server.get_session(&id);
    assert_eq!(detail["session"]["message_count"], 1);
}

#[test]
fn a_large_session_reads_back_byte_identical_through_the_stream() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = live(&server.url, "claude-large");
    let kinds = ["prompt", "response", "tool_result", "injected"];
    let mut sent = Vec::new();
    for batch in 0..6 {
        let messages: Vec<Value> = (0..2000)
            .map(|j| {
                let i = batch * 2000 + j;
                let mut m = json!({
                    "role": if i % 2 == 0 { "user" } else { "assistant" },
                    "content_blocks": [
                        {"type": "text", "text": format!("message {i} \"é\" \\ <b>\u{2028}{}", "x".repeat(i % 13 * 97))},
                        {"type": "tool_use", "id": format!("t{i}"), "name": "Bash", "input": {"command": "ls", "n": i, "f": 1.5}}
                    ],
                    "uuid": format!("u-{i}"),
                    "kind": kinds[i % kinds.len()],
                });
                if i % 3 == 0 {
                    m["timestamp"] = json!("2026-11-24T10:00:00.000Z");
                }
                if i % 7 == 0 {
                    m["agent_id"] = json!("a1");
                    m["parent_tool_use_id"] = json!(format!("t{}", i + 1));
                }
                m
            })
            .collect();
        let (status, body) = push(&server.url, &id, &messages);
        assert_eq!(status, 200, "{body}");
        sent.extend(messages);
    }
    let res = http(Duration::from_secs(60))
        .put(server.api(&format!("/api/sessions/{id}/diff")))
        .header("X-Openctl-Client-ID", CLIENT)
        .header("Content-Type", "text/plain")
        .body("diff --git a/f b/f\n--- a/f\n+++ b/f\n+\"new\"\n")
        .send()
        .expect("diff");
    assert_eq!(res.status().as_u16(), 200);

    let res = http(Duration::from_secs(60))
        .get(server.api(&format!("/api/sessions/{id}")))
        .send()
        .expect("GET session");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let body = res.text().expect("body");
    let detail: Value = serde_json::from_str(&body).expect("the streamed body is JSON");
    // Compact JSON in the order the server always wrote: parsing and
    // writing it again (keys keep their order) gives the same bytes.
    assert!(
        serde_json::to_string(&detail).expect("json") == body,
        "the body is not the canonical compact JSON"
    );
    let keys: Vec<&String> = detail.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["session", "messages", "diffs"]);
    assert_eq!(detail["session"]["message_count"], 12_000);
    let messages = detail["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 12_000);
    for (i, (got, want)) in messages.iter().zip(&sent).enumerate() {
        assert_eq!(got["message_index"], i as i64);
        for field in [
            "role",
            "content_blocks",
            "uuid",
            "kind",
            "agent_id",
            "parent_tool_use_id",
        ] {
            assert_eq!(got.get(field), want.get(field), "message {i}, {field}");
        }
        assert_eq!(
            got["timestamp"],
            want.get("timestamp").cloned().unwrap_or(Value::Null)
        );
        let order: Vec<&String> = got.as_object().expect("message").keys().collect();
        assert_eq!(
            &order[..5],
            [
                "message_index",
                "role",
                "content_blocks",
                "timestamp",
                "uuid"
            ]
        );
    }
    assert_eq!(detail["diffs"][0]["additions"], 1);
    assert!(detail["diffs"][0]["diff"]
        .as_str()
        .is_some_and(|d| d.contains("\"new\"")));
}
