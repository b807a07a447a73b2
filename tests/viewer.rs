//! The session viewer in a real headless Chromium (driven over chromedriver's
//! WebDriver HTTP API), and its server-rendered HTML as a reader without
//! JavaScript (or a link preview) sees it.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{wait_for, TestEnv, TestServer};

#[path = "../benches/viewer_support.rs"]
pub(crate) mod support;

use support::{http, Browser, BrowserOptions};

const CLIENT: &str = "33333333-3333-4333-8333-333333333333";

/// Skip (outside CI) when the browser is not installed.
fn browser_missing() -> bool {
    if Browser::available() {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is required in CI (scripts/test.sh installs it)",
        support::CHROMIUM
    );
    eprintln!("SKIPPED browser test: chromium/chromedriver not installed");
    true
}

/// A test server holding one session (`id`); dropped in field order.
struct Fixture {
    server: TestServer,
    id: String,
    _env: TestEnv,
}

/// A server with a session of `messages`, or None (the test is skipped)
/// when the browser is missing.
fn fixture(claude_id: &str, title: &str, messages: Vec<Value>) -> Option<Fixture> {
    if browser_missing() {
        return None;
    }
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = session_with(&server, claude_id, title, messages);
    Some(Fixture {
        server,
        id,
        _env: env,
    })
}

fn post(server: &TestServer, path: &str, body: Value) -> Value {
    let res = http()
        .post(server.api(path))
        .header("X-Openctl-Client-ID", CLIENT)
        .json(&body)
        .send()
        .expect("request");
    let status = res.status();
    let body: Value = res.json().expect("json");
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// A live session holding `messages`; returns its id.
fn session_with(server: &TestServer, claude_id: &str, title: &str, messages: Vec<Value>) -> String {
    let created = post(
        server,
        "/api/sessions/live",
        json!({"title": title, "harness_session_id": claude_id, "harness": "claude-code",
               "project_path": "/home/dev/openctl", "model": "claude-opus-4-5",
               "repo_url": "https://github.com/example/openctl"}),
    );
    let id = created["id"].as_str().expect("id").to_string();
    for chunk in messages.chunks(500) {
        push(server, &id, chunk.to_vec());
    }
    id
}

fn push(server: &TestServer, id: &str, messages: Vec<Value>) {
    post(
        server,
        &format!("/api/sessions/{id}/messages"),
        json!({ "messages": messages }),
    );
}

fn complete(server: &TestServer, id: &str) {
    post(server, &format!("/api/sessions/{id}/complete"), json!({}));
}

fn put_diff(server: &TestServer, id: &str, diff: &str) {
    let res = http()
        .put(server.api(&format!("/api/sessions/{id}/diff")))
        .header("X-Openctl-Client-ID", CLIENT)
        .body(diff.to_string())
        .send()
        .expect("diff");
    assert!(res.status().is_success());
}

fn page_url(server: &TestServer, id: &str) -> String {
    server.api(&format!("/sessions/{id}"))
}

/// Load a page and wait until its script ran.
fn open(browser: &Browser, url: &str) {
    browser.goto(url);
    wait_ready(browser);
}

fn wait_ready(browser: &Browser) {
    wait_for("the viewer to start", Duration::from_secs(60), || {
        (browser.js("return document.body && document.body.dataset.ready === '1'") == json!(true))
            .then_some(())
    });
}

fn text(browser: &Browser) -> String {
    browser
        .js("return document.body.textContent")
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Screenshots of a long generated session, light and dark: to
/// `docs/` with OPENCTL_UPDATE_SCREENSHOTS=1, else to the target dir.
#[test]
fn screenshots_of_a_long_session() {
    let Some(Fixture { server, id, _env }) = fixture(
        "claude-shots",
        "Fix the parser dropping the last line",
        support::session(400),
    ) else {
        return;
    };
    put_diff(&server, &id, &support::diff());
    complete(&server, &id);
    let dir = if std::env::var_os("OPENCTL_UPDATE_SCREENSHOTS").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).to_path_buf()
    };
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    // Light: the start; dark: further in (an edit, a Task with its
    // subagent's work, the todo list, a table and code).
    for (dark, name, at) in [
        (false, "viewer-light.png", ""),
        (true, "viewer-dark.png", "#m-36"),
    ] {
        let browser = Browser::start(BrowserOptions {
            width: 1200,
            height: 1500,
            dark,
            ..BrowserOptions::default()
        });
        open(&browser, &format!("{}{at}", page_url(&server, &id)));
        // Open the Task's subagent prompt so the picture shows it.
        browser.js("document.querySelectorAll('.agent details.msg.sys').forEach(d => d.open = true); return null");
        let shot = dir.join(name);
        browser.screenshot(&shot);
        eprintln!("screenshot: {}", shot.display());
    }
}

fn streams(server: &TestServer) -> i64 {
    http()
        .get(server.api("/api/stats"))
        .send()
        .and_then(|r| r.json::<Value>())
        .map(|v| v["event_streams"].as_i64().unwrap_or(-1))
        .unwrap_or(-1)
}

fn wait_streams(server: &TestServer, what: &str, ok: impl Fn(i64) -> bool) -> i64 {
    wait_for(what, Duration::from_secs(30), || {
        let n = streams(server);
        ok(n).then_some(n)
    })
}

fn wait_text(browser: &Browser, what: &str, needle: &str) {
    wait_for(what, Duration::from_secs(30), || {
        text(browser).contains(needle).then_some(())
    });
}

/// Wait until `script` (an expression) is true in the page.
fn wait_js(browser: &Browser, what: &str, script: &str) {
    wait_for(what, Duration::from_secs(30), || {
        (browser.js(&format!("return {script}")) == json!(true)).then_some(())
    });
}

/// Push an assistant line and wait until the page shows it.
fn say(server: &TestServer, browser: &Browser, id: &str, uuid: &str, line: &str) {
    push(server, id, vec![says(uuid, "assistant", line)]);
    wait_text(browser, line, line);
}

fn msg(uuid: &str, role: &str, kind: &str, blocks: Value) -> Value {
    json!({"role": role, "kind": kind, "uuid": uuid, "timestamp": "2026-11-24T10:00:00.000Z",
           "content_blocks": blocks})
}

fn says(uuid: &str, role: &str, text: &str) -> Value {
    let kind = if role == "user" { "prompt" } else { "response" };
    msg(uuid, role, kind, json!([{"type": "text", "text": text}]))
}

/// A 1x1 PNG.
const PIXEL: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

fn every_kind() -> Vec<Value> {
    vec![
        msg(
            "c1",
            "user",
            "command",
            json!([{"type": "text", "text": "<command-name>/model</command-name>\n<command-message>model</command-message>\n<command-args>opus</command-args>"}]),
        ),
        msg(
            "l1",
            "user",
            "local_output",
            json!([{"type": "text", "text": "<bash-input>ls -la</bash-input>"}]),
        ),
        msg(
            "l2",
            "user",
            "local_output",
            json!([{"type": "text", "text": "<bash-stdout>total 0\nREADME.md</bash-stdout><bash-stderr></bash-stderr>"}]),
        ),
        msg(
            "p1",
            "user",
            "prompt",
            json!([{"type": "text", "text": "Please fix the flaky test."},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}}]),
        ),
        msg(
            "i1",
            "user",
            "injected",
            json!([{"type": "text", "text": "<system-reminder>Injected reminder text.</system-reminder>"}]),
        ),
        msg(
            "r1",
            "assistant",
            "response",
            json!([
            {"type": "thinking", "thinking": ""},
            {"type": "thinking", "thinking": "Look at the retry loop."},
            {"type": "text", "text": "Running the tests."},
            {"type": "tool_use", "id": "b1", "name": "Bash", "input": {"command": "cargo test flaky", "description": "Run the flaky test"}},
            {"type": "tool_use", "id": "e1", "name": "Edit", "input": {"file_path": "/home/dev/openctl/src/retry.rs", "old_string": "sleep(1)", "new_string": "sleep(backoff)"}},
            {"type": "tool_use", "id": "w1", "name": "Write", "input": {"file_path": "/home/dev/openctl/NOTES.md", "content": "notes"}},
            {"type": "tool_use", "id": "g1", "name": "Glob", "input": {"pattern": "**/*.rs"}},
            {"type": "tool_use", "id": "x1", "name": "WebFetch", "input": {"url": "https://example.com/doc", "prompt": "Summarize"}},
            {"type": "tool_use", "id": "t1", "name": "TodoWrite", "input": {"todos": [{"content": "Fix it", "status": "completed"}, {"content": "Test it", "status": "pending"}]}}]),
        ),
        msg(
            "tr1",
            "user",
            "tool_result",
            json!([
            {"type": "tool_result", "tool_use_id": "b1", "content": "test flaky ... FAILED", "is_error": true},
            {"type": "tool_result", "tool_use_id": "e1", "content": "The file was updated."},
            {"type": "tool_result", "tool_use_id": "w1", "content": ""},
            {"type": "tool_result", "tool_use_id": "g1", "content": [{"type": "text", "text": "src/retry.rs"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}}]},
            {"type": "tool_result", "tool_use_id": "x1", "content": (1..=40).map(|i| format!("line {i}")).collect::<Vec<_>>().join("\n")},
            {"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]),
        ),
        msg(
            "cs1",
            "user",
            "compact_summary",
            json!([{"type": "text", "text": "Summary: we **fixed** the retry loop."}]),
        ),
        says("r2", "assistant", "Done: the test passes."),
        says("r3", "assistant", "And the docs are updated."),
    ]
}

#[test]
fn every_kind_renders_as_what_it_is() {
    let Some(Fixture { server, id, _env }) = fixture("claude-kinds", "Kinds", every_kind()) else {
        return;
    };
    let browser = Browser::start(BrowserOptions::default());
    open(&browser, &page_url(&server, &id));
    let q = |script: &str| browser.js(&format!("return {script}"));
    // The person's words: one prompt; Claude Code's lines are not among them.
    assert_eq!(
        q("document.querySelectorAll('.msg.prompt').length"),
        json!(1)
    );
    let prompt = q("document.querySelector('.msg.prompt').innerText");
    assert!(
        prompt
            .as_str()
            .is_some_and(|p| p.contains("Please fix the flaky test.") && !p.contains("/model")),
        "{prompt}"
    );
    assert_eq!(
        q("document.querySelectorAll('.msg.prompt img.image').length"),
        json!(1)
    );
    // A command is a chip; local output and injected text are small and closed.
    assert_eq!(
        q("document.querySelector('.msg.cmd .chip').textContent"),
        json!("/model opus")
    );
    assert_eq!(
        q("document.querySelector('.msg.sys.local .chip').textContent"),
        json!("! ls -la")
    );
    assert_eq!(
        q("[...document.querySelectorAll('details.msg.sys')].every(d => !d.open)"),
        json!(true)
    );
    assert_eq!(
        q("document.querySelectorAll('details.msg.sys').length"),
        json!(4)
    );
    assert!(
        q("document.querySelector('details.msg.sys.compact').textContent")
            .as_str()
            .is_some_and(|t| t.contains("Conversation compacted"))
    );
    // Thinking: closed, and absent when empty.
    assert_eq!(
        q("document.querySelectorAll('details.thinking').length"),
        json!(1)
    );
    assert_eq!(
        q("document.querySelector('details.thinking').open"),
        json!(false)
    );
    // One card per call, each holding its result; none left on its own.
    assert_eq!(q("document.querySelectorAll('.tool').length"), json!(6));
    assert_eq!(
        q("document.querySelectorAll('.tool > .out:not(.pending)').length"),
        json!(6)
    );
    assert_eq!(q("document.querySelectorAll('.orphan').length"), json!(0));
    // Inputs as what they are.
    assert_eq!(
        q("document.querySelector('.tool[data-tool=Bash] pre.sh').textContent"),
        json!("$ cargo test flaky")
    );
    assert_eq!(
        q("document.querySelector('.tool[data-tool=Bash] .tool-sum').textContent"),
        json!("Run the flaky test")
    );
    assert_eq!(
        q("document.querySelector('.tool[data-tool=Edit] .tool-sum').textContent"),
        json!("src/retry.rs")
    );
    assert_eq!(
        q("[...document.querySelectorAll('.tool[data-tool=Edit] .line')].map(l => l.textContent)"),
        json!(["-sleep(1)", "+sleep(backoff)"])
    );
    assert_eq!(
        q("document.querySelector('.tool[data-tool=Glob] .tool-sum').textContent"),
        json!("**/*.rs")
    );
    assert_eq!(
        q("document.querySelector('.tool[data-tool=WebFetch] .kv dd').textContent"),
        json!("https://example.com/doc")
    );
    assert_eq!(
        q("document.querySelectorAll('.tool[data-tool=TodoWrite] .todos li.done').length"),
        json!(1)
    );
    assert_eq!(q("document.querySelectorAll('.tool pre.code').length > 0 && !document.body.innerText.includes('{\"command\"')"), json!(true));
    // Errors are red, an empty output says so, long output is collapsed.
    assert_eq!(
        q("document.querySelectorAll('.tool.error .out.err').length"),
        json!(1)
    );
    assert_eq!(
        q("document.querySelector('.tool[data-tool=Write] .out').innerText"),
        json!("no output")
    );
    assert_eq!(
        q("document.querySelector('.tool[data-tool=WebFetch] details.more').open"),
        json!(false)
    );
    assert!(q(
        "document.querySelector('.tool[data-tool=WebFetch] details.more summary').textContent"
    )
    .as_str()
    .is_some_and(|t| t.contains("40 lines")));
    assert_eq!(
        q("document.querySelectorAll('.tool[data-tool=Glob] .out img.image').length"),
        json!(1)
    );
    // An assistant turn over several messages reads as one unit: one header.
    let heads = q("[...document.querySelectorAll('.msg.resp > .head')].filter(h => h.offsetParent !== null).length");
    assert_eq!(
        heads,
        json!(2),
        "the response before and the one after the compaction"
    );
    // Times carry a date.
    let when = q("document.querySelector('.msg.prompt time').textContent");
    assert!(when.as_str().is_some_and(|w| w.contains("2026")), "{when}");

    // The same kinds arriving live render the same way.
    let live_id = session_with(&server, "claude-kinds-live", "Kinds live", vec![]);
    open(&browser, &page_url(&server, &live_id));
    push(&server, &live_id, every_kind());
    wait_text(&browser, "the live messages", "And the docs are updated.");
    for check in [
        "document.querySelectorAll('.msg.prompt').length === 1",
        "document.querySelectorAll('.tool > .out:not(.pending)').length === 6",
        "document.querySelectorAll('.orphan').length === 0",
        "document.querySelectorAll('.tool.error .out.err').length === 1",
        "document.querySelectorAll('details.msg.sys').length === 4",
        "document.querySelector('.msg.cmd .chip').textContent === '/model opus'",
    ] {
        wait_for(check, Duration::from_secs(10), || {
            (q(check) == json!(true)).then_some(())
        });
    }
}

#[test]
fn subagent_work_sits_under_its_task() {
    if browser_missing() {
        return;
    }
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let health: Value = http()
        .get(server.api("/api/health"))
        .send()
        .and_then(|r| r.json())
        .expect("health");
    if !health["features"]
        .as_array()
        .is_some_and(|f| f.contains(&json!("subagents")))
    {
        eprintln!("SKIPPED: this server does not store subagent messages yet");
        return;
    }
    let id = session_with(&server, "claude-sub", "Subagents", support::session(60));
    let browser = Browser::start(BrowserOptions::default());
    open(&browser, &page_url(&server, &id));
    let nested = browser.js("return [...document.querySelectorAll('.tool[data-tool=Task] .agent')].map(a => a.querySelectorAll('.msg').length)");
    assert!(
        nested
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|n| n.as_i64() >= Some(2))),
        "{nested}"
    );
    assert_eq!(
        browser.js("return document.querySelectorAll('.subrun').length"),
        json!(0)
    );
}

#[test]
fn markdown_tables_lists_and_code() {
    if browser_missing() {
        return;
    }
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let text = "## Results\n\n| test | result |\n|---|:---:|\n| parses_empty | ok |\n| keeps_last_line | **FAILED** |\n\n3. third\n4. fourth\n5. fifth\n\n- [x] done\n- [ ] open\n\n~~gone~~ and a link to https://example.com/docs.\n\n```rust\nfn main() { let x = 1; }\n```";
    let id = session_with(
        &server,
        "claude-md",
        "Markdown",
        vec![says("m1", "assistant", text)],
    );
    let browser = Browser::start(BrowserOptions::default());
    open(&browser, &page_url(&server, &id));
    let q = |script: &str| browser.js(&format!("return {script}"));
    assert_eq!(
        q("document.querySelector('.md h4').textContent"),
        json!("Results")
    );
    assert_eq!(
        q("document.querySelectorAll('.md table tbody tr').length"),
        json!(2)
    );
    assert_eq!(q("document.querySelector('.md table tbody tr:nth-child(2) td:nth-child(2) strong').textContent"), json!("FAILED"));
    assert_eq!(
        q("[document.querySelector('.md ol').start, document.querySelectorAll('.md ol li').length]"),
        json!([3, 3])
    );
    assert_eq!(
        q("[...document.querySelectorAll('.md input[type=checkbox]')].map(c => c.checked)"),
        json!([true, false])
    );
    assert_eq!(
        q("document.querySelector('.md del').textContent"),
        json!("gone")
    );
    assert_eq!(
        q("document.querySelector('.md a').href"),
        json!("https://example.com/docs")
    );
    assert_eq!(
        q("document.querySelector('.md pre.code').dataset.lang"),
        json!("rust")
    );
    assert_eq!(
        q("[...document.querySelectorAll('.md pre.code .k')].map(k => k.textContent)"),
        json!(["fn", "let"])
    );
}

/// Markup, handlers and script URLs in every place a transcript reaches.
fn hostile() -> Vec<Value> {
    let img = "<img src=x onerror=\"window.__pwned = 'img'\">";
    vec![
        msg(
            "x0",
            "user",
            "prompt",
            json!([{"type": "text", "text": format!("<script>window.__pwned = 'prompt'</script> {img}")}]),
        ),
        msg(
            "x1",
            "assistant",
            "response",
            json!([
            {"type": "text", "text": format!("<script>window.__pwned = 'md'</script>\n\n{img}\n\n<svg onload=\"window.__pwned = 'svg'\"></svg> <iframe src=\"javascript:window.__pwned = 'iframe'\"></iframe>\n\n[click](javascript:window.__pwned='link') [data](data:text/html,<script>alert(1)</script>) [vb](vbscript:msgbox) ![pic](javascript:window.__pwned='pic') <a href=\"javascript:window.__pwned='a'\">raw</a> [ok](https://example.com/\"onmouseover=\"window.__pwned='attr')")},
            {"type": "thinking", "thinking": format!("<script>window.__pwned = 'thinking'</script>{img}")},
            {"type": "tool_use", "id": "\"><img src=x onerror=\"window.__pwned='id'\">", "name": "<b onclick=\"window.__pwned='name'\">Bash</b>",
             "input": {"command": format!("echo '<script>window.__pwned = 1</script>' {img}"), "description": img, "\"><svg onload=alert(1)>": img}},
            {"type": "tool_use", "id": "e\"1", "name": "Edit", "input": {"file_path": format!("/tmp/{img}.rs"), "old_string": img, "new_string": "<script>x</script>"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/svg+xml", "data": "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "\" onerror=\"window.__pwned='b64'"}},
            {"type": "image", "source": {"type": "url", "url": "javascript:window.__pwned='url'"}},
            {"type": format!("weird{img}"), "x": img}]),
        ),
        msg(
            "x2",
            "user",
            "tool_result",
            json!([
            {"type": "tool_result", "tool_use_id": "\"><img src=x onerror=\"window.__pwned='id'\">", "content": format!("<script>window.__pwned = 'out'</script>{img}")},
            {"type": "tool_result", "tool_use_id": "e\"1", "content": [{"type": "text", "text": img}], "is_error": true}]),
        ),
        msg(
            "x3",
            "user",
            "command",
            json!([{"type": "text", "text": format!("<command-name>/x{img}</command-name><command-args>{img}</command-args>")}]),
        ),
        msg(
            "x4",
            "user",
            "injected",
            json!([{"type": "text", "text": format!("<system-reminder>{img}</system-reminder>")}]),
        ),
        msg(
            "x5",
            "user",
            "compact_summary",
            json!([{"type": "text", "text": format!("{img} [x](javascript:window.__pwned='cs')")}]),
        ),
        msg(
            "x6",
            "user",
            "local_output",
            json!([{"type": "text", "text": format!("<bash-input>{img}</bash-input><bash-stdout>{img}</bash-stdout>")}]),
        ),
    ]
}

/// Nothing from the transcript became an element that can run script.
fn assert_inert(browser: &Browser) {
    let q = |script: &str| browser.js(&format!("return {script}"));
    assert_eq!(q("typeof window.__pwned"), json!("undefined"));
    assert_eq!(q("document.scripts.length"), json!(1), "only viewer.js");
    assert_eq!(
        q("document.querySelectorAll('iframe, object, embed, svg, b, script:not([src])').length"),
        json!(0)
    );
    assert_eq!(q("[...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length"), json!(0));
    assert_eq!(q("[...document.querySelectorAll('[href], [src]')].filter(e => /^\\s*(javascript|vbscript|data:text)/i.test(e.getAttribute('href') || e.getAttribute('src') || '')).length"), json!(0));
    assert_eq!(q("[...document.querySelectorAll('img')].every(i => i.classList.contains('image') && /^data:image\\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]*$/.test(i.getAttribute('src')))"), json!(true));
    let shown = text(browser);
    assert!(
        shown.contains("<script>window.__pwned = 'prompt'</script>"),
        "the prompt shows its markup as text"
    );
    assert!(
        shown.contains("onerror=\"window.__pwned = 'img'\""),
        "{shown}"
    );
}

#[test]
fn transcript_markup_stays_inert_on_load_and_live() {
    if browser_missing() {
        return;
    }
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = session_with(
        &server,
        "claude-xss",
        "<script>window.__pwned='title'</script>\"'&",
        hostile(),
    );
    let browser = Browser::start(BrowserOptions::default());
    open(&browser, &page_url(&server, &id));
    assert_inert(&browser);
    assert_eq!(
        browser.js("return document.title"),
        json!("<script>window.__pwned='title'</script>\"'& · openctl")
    );
    // The tool_use id with quotes still joins its result.
    assert_eq!(
        browser.js("return document.querySelectorAll('.orphan').length"),
        json!(0)
    );

    let live = session_with(&server, "claude-xss-live", "live", vec![]);
    open(&browser, &page_url(&server, &live));
    push(&server, &live, hostile());
    wait_text(&browser, "the hostile messages", "window.__pwned = 'out'");
    let res = http()
        .patch(server.api(&format!("/api/sessions/{live}")))
        .header("X-Openctl-Client-ID", CLIENT)
        .json(&json!({"title": "<img src=x onerror=\"window.__pwned='t'\">"}))
        .send()
        .expect("patch");
    assert!(res.status().is_success());
    wait_for("the new title", Duration::from_secs(30), || {
        browser
            .js("return document.getElementById('title').textContent")
            .as_str()
            .filter(|t| t.starts_with("<img"))
            .map(|_| ())
    });
    put_diff(&server, &live, "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-<script>window.__pwned='diff'</script>\n+<img src=x onerror=\"window.__pwned='diff'\">\n");
    wait_for("the diff", Duration::from_secs(30), || {
        (browser.js("return document.querySelectorAll('#diff .line.add').length") == json!(1))
            .then_some(())
    });
    assert_inert(&browser);
}

fn in_view(browser: &Browser, id: &str) -> bool {
    browser.js(&format!(
        "const r = document.getElementById('{id}').getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight"
    )) == json!(true)
}

#[test]
fn permalinks_open_at_their_message_and_a_finished_session_at_the_top() {
    let Some(Fixture { server, id, _env }) =
        fixture("claude-links", "Permalinks", support::session(600))
    else {
        return;
    };
    complete(&server, &id);
    let browser = Browser::start(BrowserOptions::default());
    let url = page_url(&server, &id);
    open(&browser, &url);
    assert_eq!(
        browser.js("return window.scrollY"),
        json!(0),
        "a complete session opens at the top"
    );
    assert_eq!(
        browser.js("return document.getElementById('jump').hidden"),
        json!(true)
    );
    // Every message has its anchor, whether it is a message or a result
    // inside its call's card.
    let missing = browser.js("const m = []; for (let i = 0; i < 600; i++) if (!document.getElementById('m-' + i)) m.push(i); return m");
    assert_eq!(missing, json!([]));
    assert_eq!(
        browser.js("return document.getElementById('m-2').classList.contains('out')"),
        json!(true),
        "a result's permalink is in its card"
    );
    // Opening a permalink shows that message, also deep in a long page.
    for target in ["m-450", "m-2"] {
        open(&browser, &format!("{url}#{target}"));
        wait_for(
            "the linked message in view",
            Duration::from_secs(10),
            || in_view(&browser, target).then_some(()),
        );
    }
    assert!(
        browser.js("return window.scrollY").as_f64() > Some(1000.0) || in_view(&browser, "m-2")
    );
    // The message's time is its permalink.
    assert_eq!(
        browser.js("return document.querySelector('#m-0 a.ts').getAttribute('href')"),
        json!("#m-0")
    );
    browser.js("document.querySelector('#m-598 a.ts, #m-598 .ts') ? document.querySelector('#m-598 .ts').click() : location.hash = '#m-598'; return null");
    wait_for(
        "the hash to follow the click",
        Duration::from_secs(10),
        || (browser.js("return location.hash") == json!("#m-598")).then_some(()),
    );
}

#[test]
fn a_live_session_follows_until_the_reader_scrolls_up_and_jump_brings_it_back() {
    let Some(Fixture { server, id, _env }) =
        fixture("claude-follow", "Follow", support::session(300))
    else {
        return;
    };
    let browser = Browser::start(BrowserOptions::default());
    open(&browser, &page_url(&server, &id));
    let at_bottom = "innerHeight + scrollY >= document.documentElement.scrollHeight - 100";
    let jump_hidden = "document.getElementById('jump').hidden";
    wait_js(
        &browser,
        "the page to open at the latest message",
        at_bottom,
    );
    wait_js(&browser, "no jump button while following", jump_hidden);
    say(&server, &browser, &id, "f1", "First live line.");
    wait_js(&browser, "the page to follow", at_bottom);

    // The reader scrolls up: following stops, the page stays put.
    browser.js("window.scrollTo(0, 200); return null");
    wait_js(&browser, "the jump button", &format!("!{jump_hidden}"));
    say(&server, &browser, &id, "f2", "Second live line.");
    std::thread::sleep(Duration::from_millis(300));
    wait_js(&browser, "the page to stay put", "window.scrollY === 200");

    // "Jump to latest" brings following back.
    browser.js("document.getElementById('jump').click(); return null");
    wait_js(&browser, "the latest message in view", at_bottom);
    wait_js(&browser, "the jump button to go", jump_hidden);
    say(&server, &browser, &id, "f3", "Third live line.");
    wait_js(&browser, "the page to follow again", at_bottom);
    wait_js(
        &browser,
        "the count",
        "document.getElementById('count').textContent === '303'",
    );
}

#[test]
fn twenty_tabs_all_load_and_only_visible_ones_hold_a_stream() {
    if browser_missing() {
        return;
    }
    const TABS: usize = 20;
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let ids: Vec<String> = (0..TABS)
        .map(|i| {
            session_with(
                &server,
                &format!("claude-tab-{i}"),
                &format!("Tab {i}"),
                support::session(40),
            )
        })
        .collect();
    let browser = Browser::start(BrowserOptions::default());
    let mut handles = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            browser.new_tab();
        }
        handles.push(browser.handle());
        // Each page loads while the others (hidden now) hold no connection;
        // without that the 7th page would wait forever for a free one.
        open(&browser, &page_url(&server, id));
        assert_eq!(
            browser.js("return document.querySelectorAll('.msg').length > 10"),
            json!(true),
            "tab {i} loaded"
        );
        assert_eq!(
            browser.js("return document.title"),
            json!(format!("Tab {i} · openctl"))
        );
    }
    // Only the visible tab streams, and it is live.
    wait_streams(&server, "one stream (the visible tab)", |n| n == 1);
    let last = &ids[TABS - 1];
    say(
        &server,
        &browser,
        last,
        "live-1",
        "Live in the visible tab.",
    );

    // A hidden tab misses nothing: shown again, it catches up.
    push(
        &server,
        &ids[4],
        vec![
            says("hidden-1", "assistant", "Written while tab 4 was hidden."),
            says("hidden-2", "user", "And more."),
        ],
    );
    browser.switch_to(&handles[4]);
    wait_text(
        &browser,
        "tab 4 to catch up",
        "Written while tab 4 was hidden.",
    );
    wait_text(&browser, "tab 4 to catch up", "And more.");
    assert_eq!(
        browser.js("return document.getElementById('count').textContent"),
        json!("42")
    );
    wait_streams(&server, "still one stream", |n| n == 1);
    say(&server, &browser, &ids[4], "live-2", "Tab 4 is live again.");
}

#[test]
fn a_page_in_the_back_forward_cache_holds_no_stream_and_catches_up() {
    let Some(Fixture { server, id, _env }) =
        fixture("claude-bfcache", "Back and forth", support::session(30))
    else {
        return;
    };
    let other = session_with(&server, "claude-bfcache-other", "Elsewhere", vec![]);
    complete(&server, &other);
    let browser = Browser::start(BrowserOptions::default());
    open(&browser, &page_url(&server, &id));
    wait_streams(&server, "the page's stream", |n| n == 1);
    browser.js("window.__sameDocument = 7; return null");
    // Away to a page without a stream (the index): the session page is
    // hidden in the back/forward cache (or unloaded) and lets go.
    browser.goto(&server.api("/"));
    wait_streams(&server, "no stream while away", |n| n == 0);
    push(
        &server,
        &id,
        vec![says(
            "bf-1",
            "assistant",
            "Written while the page was away.",
        )],
    );
    browser.back();
    wait_ready(&browser);
    wait_text(
        &browser,
        "the page to catch up",
        "Written while the page was away.",
    );
    let restored = browser.js("return window.__sameDocument === 7");
    eprintln!("restored from the back/forward cache: {restored}");
    wait_streams(&server, "the page streams again", |n| n == 1);
    say(
        &server,
        &browser,
        &id,
        "bf-2",
        "And live after coming back.",
    );
    assert_eq!(
        browser.js("return document.querySelectorAll('#m-30, #m-31').length"),
        json!(2),
        "each message once"
    );
}

fn page_html(server: &TestServer, id: &str) -> (reqwest::header::HeaderMap, String) {
    let res = http().get(page_url(server, id)).send().expect("page");
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    (headers, res.text().expect("html"))
}

/// The `content` of `<meta {attr}="{name}" content="…">`.
fn meta_content(html: &str, attr: &str, name: &str) -> Option<String> {
    let key = format!("<meta {attr}=\"{name}\" content=\"");
    let start = html.find(&key)? + key.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

#[test]
fn without_javascript_the_page_holds_the_whole_conversation() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = session_with(&server, "claude-nojs", "Fix the parser", every_kind());
    let (headers, html) = page_html(&server, &id);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    for needle in [
        "<title>Fix the parser · openctl</title>",
        "class=\"badge live\">Live</span>",
        "Please fix the flaky test.",
        "<span class=\"chip\">/model opus</span>",
        "$ </span>cargo test flaky",
        "<strong>fixed</strong>",
        "And the docs are updated.",
        "id=\"m-0\"",
        "href=\"#m-9\"",
        "<time datetime=\"2026-11-24T10:00:00.000Z\">2026-11-24 10:00 UTC</time>",
        "data-next=\"10\"",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in the page");
    }
    assert!(!html.contains("Loading session"));

    // A long session: the page holds its first messages and a link to the
    // whole page, which streams (no Content-Length) every message.
    let long = session_with(&server, "claude-nojs-long", "Long", support::session(3000));
    complete(&server, &long);
    let (_, html) = page_html(&server, &long);
    assert!(html.contains("id=\"m-0\""));
    assert!(!html.contains("id=\"m-2999\""));
    assert!(html.contains("<a href=\"?all\">Show all 3000 messages</a>"));
    let res = http()
        .get(format!("{}?all", page_url(&server, &long)))
        .send()
        .expect("whole page");
    assert!(
        res.headers().get("content-length").is_none(),
        "the page is streamed"
    );
    let html = res.text().expect("html");
    assert!(html.contains("id=\"m-2999\""));
    assert!(html.contains("data-next=\"3000\""));
    assert!(!html.contains("id=\"more\""));
    assert!(html.contains("class=\"badge complete\">Complete</span>"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn a_long_session_loads_the_rest_in_chunks_and_goes_live() {
    let Some(Fixture { server, id, _env }) = fixture("claude-long", "Long", support::session(3000))
    else {
        return;
    };
    let browser = Browser::start(BrowserOptions::default());
    // A permalink into the part loaded after the first screen.
    open(&browser, &format!("{}#m-2900", page_url(&server, &id)));
    let missing = browser.js("const m = []; for (let i = 0; i < 3000; i++) if (!document.getElementById('m-' + i)) m.push(i); return m");
    assert_eq!(missing, json!([]));
    assert_eq!(
        browser.js("return document.querySelectorAll('.orphan, .subrun, #more').length"),
        json!(0)
    );
    assert_eq!(
        browser.js("return document.querySelectorAll('.out.pending').length"),
        json!(0),
        "every call holds its result, also across the first part's end"
    );
    wait_for(
        "the linked message in view",
        Duration::from_secs(10),
        || in_view(&browser, "m-2900").then_some(()),
    );
    wait_streams(&server, "the page's stream", |n| n == 1);
    say(&server, &browser, &id, "long-1", "After three thousand.");
    assert_eq!(
        browser.js("return document.querySelectorAll('#m-3000').length"),
        json!(1)
    );
}

#[test]
fn links_unfurl_with_title_status_and_the_first_prompt() {
    let env = TestEnv::new();
    let server = TestServer::start(&env);
    let id = session_with(
        &server,
        "claude-unfurl",
        "Fix \"quotes\" & <tags>",
        vec![
            msg(
                "u0",
                "user",
                "injected",
                json!([{"type": "text", "text": "<system-reminder>not this</system-reminder>"}]),
            ),
            says("u1", "user", "Make the retry loop   jittered\nand capped."),
            says("u2", "assistant", "Sure."),
        ],
    );
    let (_, html) = page_html(&server, &id);
    assert_eq!(
        meta_content(&html, "property", "og:title").as_deref(),
        Some("Fix \"quotes\" & <tags>")
    );
    assert_eq!(
        meta_content(&html, "name", "twitter:title").as_deref(),
        Some("Fix \"quotes\" & <tags>")
    );
    let description = meta_content(&html, "property", "og:description").expect("og:description");
    assert!(
        description.starts_with("Make the retry loop jittered and capped."),
        "{description}"
    );
    assert!(
        description.contains("Live Claude Code session, 3 messages"),
        "{description}"
    );
    assert!(
        description.contains("github.com/example/openctl"),
        "{description}"
    );
    assert_eq!(
        meta_content(&html, "name", "description"),
        Some(description)
    );
    assert_eq!(
        meta_content(&html, "property", "og:url"),
        Some(page_url(&server, &id))
    );
    assert_eq!(
        meta_content(&html, "name", "twitter:card").as_deref(),
        Some("summary")
    );
    assert!(html.contains("<title>Fix &quot;quotes&quot; &amp; &lt;tags&gt; · openctl</title>"));
    // A favicon: inline SVG in the page, and /favicon.ico.
    assert!(html.contains("<link rel=\"icon\" type=\"image/svg+xml\" href=\"data:image/svg+xml,"));
    let ico = http()
        .get(server.api("/favicon.ico"))
        .send()
        .expect("favicon");
    assert_eq!(ico.status(), 200);
    assert_eq!(ico.headers()["content-type"], "image/x-icon");
    assert!(ico.bytes().expect("bytes").starts_with(&[0, 0, 1, 0]));
}

/// The real Claude Code transcripts (behind the switch) render in the
/// browser: every message on the page, Claude Code's own lines never as
/// the person's, nothing from them runs.
#[test]
#[ignore = "needs the real transcripts: OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored"]
fn real_transcripts_render_every_message() {
    use openctl::transcript::{parse_line, Line};
    for name in [
        "cc2.1.14-automated-run-task-agent.jsonl",
        "cc2.1.97-redacted-thinking.jsonl",
        "cc2.1.112-hackathon-compact-queue.jsonl",
    ] {
        let path = crate::common::real_transcript(name);
        let text = crate::common::read_text(&path);
        let messages: Vec<Value> = text
            .split_inclusive('\n')
            .filter_map(|l| match parse_line(l.as_bytes()) {
                Line::Message(m) => serde_json::to_value(*m).ok(),
                _ => None,
            })
            .collect();
        let count = messages.len();
        let prompts = messages.iter().filter(|m| m["kind"] == "prompt").count();
        let Some(Fixture { server, id, _env }) = fixture(name, name, messages) else {
            return;
        };
        complete(&server, &id);
        let browser = Browser::start(BrowserOptions::default());
        open(&browser, &format!("{}?all", page_url(&server, &id)));
        wait_for("every message on the page", Duration::from_secs(60), || {
            let n = browser
                .js("return document.querySelectorAll('[id^=\"m-\"]').length")
                .as_u64()?;
            (n as usize == count).then_some(())
        });
        let shown_prompts = browser
            .js("return document.querySelectorAll('.msg.prompt, [data-kind=\"prompt\"]').length")
            .as_u64()
            .unwrap_or(0) as usize;
        assert!(
            shown_prompts <= prompts,
            "{name}: {shown_prompts} shown as prompts, {prompts} typed"
        );
        assert_eq!(
            browser.js("return typeof window.__pwned"),
            json!("undefined"),
            "{name}"
        );
    }
}
