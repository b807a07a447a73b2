//! Viewer benchmark: the real release server and a real headless Chromium
//! (over chromedriver's WebDriver API) on generated sessions of 1,000 to
//! 50,000 messages. Prints, per size, the time to the first screen of
//! messages and to the whole page rendered, the longest main-thread task
//! while it loads, and the latency from an appended message to its paint.
//!
//! Run: `cargo bench --bench viewer` (`-- quick` for 1k/3k only, fewer runs).

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

mod viewer_support;
use viewer_support::{http, poll, Browser, BrowserOptions};

const BIN: &str = env!("CARGO_BIN_EXE_openctl");
const CLIENT: &str = "44444444-4444-4444-8444-444444444444";
/// The original TypeScript viewer, measured on this machine (3,000 messages,
/// headless Chromium): all messages shown after 1.44 s.
const REFERENCE_3K: &str = "1.44 s";

/// Installed before any page script: records long tasks, the first frame
/// whose viewport is filled with messages, and the first frame after the
/// viewer has every message in the page (its `data-ready`).
const PROBE: &str = r#"
window.__perf = { longest: 0, tasks: 0, firstScreen: null, all: null, seen: {} };
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { __perf.tasks++; __perf.longest = Math.max(__perf.longest, e.duration); }
  }).observe({ type: "longtask", buffered: true });
} catch (_) {}
(function frame() {
  const c = document.getElementById("conversation");
  if (__perf.firstScreen === null && c && c.getBoundingClientRect().bottom >= innerHeight) {
    __perf.firstScreen = performance.now();
  }
  if (__perf.all === null && !__perf.done && document.body && document.body.dataset.ready === "1") {
    __perf.done = true;
    setTimeout(finish, 0);
  }
  if (__perf.all === null) requestAnimationFrame(frame);
})();
function finish() {
    const nav = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    __perf.ttfb = nav ? nav.responseStart : null;
    __perf.fcp = fcp ? fcp.startTime : null;
    __perf.run = location.search;
    __perf.all = performance.now();
    if (__perf.firstScreen === null) __perf.firstScreen = __perf.all;
}
document.addEventListener("DOMContentLoaded", () => {
  const c = document.getElementById("conversation");
  if (!c) return;
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      const found = n.id && n.id.startsWith("m-") ? [n] : [...n.querySelectorAll("[id^='m-']")];
      for (const el of found) {
        const i = el.id.slice(2);
        requestAnimationFrame(() => { __perf.seen[i] = performance.timeOrigin + performance.now(); });
      }
    }
  }).observe(c, { childList: true, subtree: true });
});
"#;

struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(BIN)
            .args(["server", "--listen", "127.0.0.1:0", "--db"])
            .arg(dir.path().join("bench.db"))
            .env("OPENCTL_HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn openctl server");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = std::io::BufReader::new(stderr).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("stderr line");
            if let Some(url) = line.strip_prefix("Listening on ") {
                break url.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            url,
            _dir: dir,
        }
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let res = http()
            .post(format!("{}{path}", self.url))
            .header("X-Openctl-Client-ID", CLIENT)
            .json(body)
            .send()
            .expect("request");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().expect("json")
    }

    /// A session of `n` generated messages; complete unless `live`.
    fn session(&self, n: usize, live: bool) -> String {
        let created = self.post(
            "/api/sessions/live",
            &json!({"title": format!("Generated session, {n} messages"),
                    "harness_session_id": format!("bench-{n}-{live}"), "harness": "claude-code",
                    "project_path": "/home/dev/openctl", "model": "claude-opus-4-5",
                    "repo_url": "https://github.com/example/openctl"}),
        );
        let id = created["id"].as_str().expect("id").to_string();
        for chunk in viewer_support::session(n).chunks(1000) {
            self.post(
                &format!("/api/sessions/{id}/messages"),
                &json!({ "messages": chunk }),
            );
        }
        if !live {
            self.post(&format!("/api/sessions/{id}/complete"), &json!({}));
        }
        id
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

struct Load {
    first: f64,
    all: f64,
    longest: f64,
    tasks: i64,
}

/// Load `url` in a new tab (as a reader opening a link: its own renderer,
/// nothing left over from the previous run) and wait for the probe's
/// numbers. The tab stays open; [`close_tab`] closes it.
fn load(browser: &Browser, url: &str) -> Load {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = format!(
        "?run={}",
        RUN.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    browser.new_tab();
    // The probe is per tab.
    browser.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": PROBE }),
    );
    browser.goto(&format!("{url}{run}"));
    let check = format!(
        "return window.__perf && window.__perf.all !== null && window.__perf.run === '{run}' ? window.__perf : null"
    );
    let v = poll("the page to finish", Duration::from_secs(600), || {
        let v = browser.js(&check);
        (!v.is_null()).then_some(v)
    });
    eprintln!(
        "    first byte {:.0} ms, first contentful paint {:.0} ms",
        v["ttfb"].as_f64().unwrap_or(f64::NAN),
        v["fcp"].as_f64().unwrap_or(f64::NAN)
    );
    // The probe sees the frame before it is painted: count the first
    // contentful paint when it came later.
    let first = v["firstScreen"]
        .as_f64()
        .unwrap_or(f64::NAN)
        .max(v["fcp"].as_f64().unwrap_or(0.0));
    Load {
        first,
        all: v["all"].as_f64().unwrap_or(f64::NAN),
        longest: v["longest"].as_f64().unwrap_or(0.0),
        tasks: v["tasks"].as_i64().unwrap_or(0),
    }
}

fn close_tab(browser: &Browser, home: &str) {
    browser.close_window();
    browser.switch_to(home);
}

fn page_bytes(url: &str) -> usize {
    http()
        .get(url)
        .send()
        .and_then(|r| r.bytes())
        .map(|b| b.len())
        .unwrap_or(0)
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Push one message at a time to a live page; the time from the request
/// to the frame that shows it.
fn append_latency(server: &Server, browser: &Browser, runs: usize) -> Vec<f64> {
    let id = server.session(200, true);
    let url = format!("{}/sessions/{id}", server.url);
    load(browser, &url);
    poll("the stream to open", Duration::from_secs(30), || {
        (browser.js("return document.body.dataset.stream") == json!("open")).then_some(())
    });
    let mut out = Vec::new();
    for k in 0..runs {
        let index = 200 + k;
        let sent = now_ms();
        server.post(
            &format!("/api/sessions/{id}/messages"),
            &json!({"messages": [{"role": "assistant", "kind": "response", "uuid": format!("lat-{k}"),
                    "content_blocks": [{"type": "text", "text": format!("Live line {k}.")}]}]}),
        );
        let shown = poll("the message to show", Duration::from_secs(30), || {
            browser
                .js(&format!("return window.__perf.seen['{index}'] || null"))
                .as_f64()
        });
        out.push(shown - sent);
        std::thread::sleep(Duration::from_millis(50));
    }
    out
}

fn uptime() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    if !Browser::available() {
        eprintln!(
            "chromium and chromedriver are needed (apt-get install -y chromium chromium-driver)"
        );
        std::process::exit(1);
    }
    let sizes: &[(usize, usize)] = if quick {
        &[(1_000, 3), (3_000, 3)]
    } else {
        &[(1_000, 5), (3_000, 5), (10_000, 3), (50_000, 2)]
    };
    let started = Instant::now();
    let server = Server::start();
    let browser = Browser::start(BrowserOptions {
        width: 1280,
        height: 900,
        page_load: "none",
        ..BrowserOptions::default()
    });
    let home = browser.handle();
    eprintln!("load average before: {}", uptime());
    let mut rows = Vec::new();
    for &(n, runs) in sizes {
        let t = Instant::now();
        let id = server.session(n, false);
        eprintln!("{n} messages stored in {:.1} s", t.elapsed().as_secs_f64());
        let url = format!("{}/sessions/{id}", server.url);
        let bytes = page_bytes(&format!("{url}?all"));
        load(&browser, &url); // warm-up: assets cached, database pages hot
        close_tab(&browser, &home);
        let (mut first, mut all, mut longest) = (Vec::new(), Vec::new(), Vec::new());
        let mut tasks = 0;
        for _ in 0..runs {
            let l = load(&browser, &url);
            close_tab(&browser, &home);
            eprintln!(
                "  {n}: first screen {:.0} ms, all {:.0} ms, longest task {:.0} ms ({} long tasks)",
                l.first, l.all, l.longest, l.tasks
            );
            first.push(l.first);
            all.push(l.all);
            longest.push(l.longest);
            tasks = tasks.max(l.tasks);
        }
        rows.push((
            n,
            bytes,
            median(&mut first),
            median(&mut all),
            longest.iter().cloned().fold(0.0, f64::max),
            tasks,
        ));
    }
    let mut lat = append_latency(&server, &browser, if quick { 10 } else { 30 });
    let load_after = uptime();

    println!();
    println!("Viewer benchmark: headless Chromium 1280x900, release `openctl server` on 127.0.0.1");
    println!(
        "load average (1/5/15 min) after: {load_after}; took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    println!();
    println!("| messages | whole page (HTML) | first screen | all rendered | longest task | reference (all rendered) |");
    println!("|---|---|---|---|---|---|");
    for (n, bytes, first, all, longest, tasks) in rows {
        let task = if tasks == 0 {
            "< 50 ms (none)".to_string()
        } else {
            format!("{} ({tasks} over 50 ms)", fmt_ms(longest))
        };
        println!(
            "| {n} | {:.1} MB | {} | {} | {task} | {} |",
            bytes as f64 / 1e6,
            fmt_ms(first),
            fmt_ms(all),
            if n == 3_000 { REFERENCE_3K } else { "" }
        );
    }
    let runs = lat.len();
    let med = median(&mut lat);
    let p95 = lat[(lat.len() * 95 / 100).min(lat.len() - 1)];
    let max = lat.iter().cloned().fold(0.0, f64::max);
    println!();
    println!(
        "append → visible (POST of one message to the frame that shows it, {runs} runs): median {}, p95 {}, max {}",
        fmt_ms(med),
        fmt_ms(p95),
        fmt_ms(max)
    );
}
