//! Server memory under inputs that used to cost it many times their size:
//! append bodies of millions of empty content blocks, and reads of a
//! session with 200,000 messages, one at a time and six at once. Prints
//! the server's peak RSS above its idle RSS for each (goal: < 64 MB).
//!
//! Run: `cargo bench --bench server_memory` (add `-- quick` for a
//! 20,000-message session). `OPENCTL_BENCH_BIN=/path/to/openctl` measures
//! another build of the server (e.g. an older one, for comparison).
//!
//! The reads come first: a server that stores the many-blocks bodies (as
//! older ones did) would otherwise read a larger session. Each input gets
//! a fresh server process on the same database; its peak
//! is the kernel's high-water mark (`VmHWM`), reset through
//! `/proc/<pid>/clear_refs` once the server is idle.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

const CLIENT: &str = "44444444-4444-4444-8444-444444444444";
const GOAL_MB: f64 = 64.0;

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &str, db: &Path) -> BenchResult<Server> {
        let mut child = Command::new(bin)
            .args(["server", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .env("OPENCTL_HOME", db.parent().ok_or("db dir")?)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(60))?;
        Ok(Server { child, url })
    }

    fn status_kb(&self, field: &str) -> BenchResult<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = text
            .lines()
            .find(|l| l.starts_with(field))
            .ok_or("no such field")?;
        Ok(line.split_whitespace().nth(1).ok_or("no value")?.parse()?)
    }

    /// Idle RSS (kB), after resetting the high-water mark to it.
    fn settle(&self) -> BenchResult<u64> {
        let client = http()?;
        for _ in 0..3 {
            client.get(format!("{}/api/health", self.url)).send()?;
        }
        std::thread::sleep(Duration::from_millis(500));
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")?;
        self.status_kb("VmRSS:")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> BenchResult<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?)
}

fn post(url: &str, path: &str, body: String) -> BenchResult<(u16, String)> {
    let res = http()?
        .post(format!("{url}{path}"))
        .header("X-Openctl-Client-ID", CLIENT)
        .header("Content-Type", "application/json")
        .body(body)
        .send()?;
    let status = res.status().as_u16();
    Ok((status, res.text()?))
}

/// Create the session and fill it with `n` messages of about 500 bytes.
fn populate(url: &str, n: usize) -> BenchResult<String> {
    let body = json!({"title": "big", "harness_session_id": "bench-big"}).to_string();
    let (status, text) = post(url, "/api/sessions/live", body)?;
    if status != 200 {
        return Err(format!("live: {status} {text}").into());
    }
    let id = serde_json::from_str::<serde_json::Value>(&text)?["id"]
        .as_str()
        .ok_or("id")?
        .to_string();
    let filler = "lorem ipsum dolor sit amet ".repeat(18);
    for start in (0..n).step_by(2000) {
        let messages: Vec<_> = (start..(start + 2000).min(n))
            .map(|i| {
                json!({"role": if i % 2 == 0 { "user" } else { "assistant" },
                       "content_blocks": [{"type": "text", "text": format!("{i}: {filler}")}],
                       "uuid": format!("m-{i}"), "kind": "response",
                       "timestamp": "2026-11-24T10:00:00.000Z"})
            })
            .collect();
        let (status, text) = post(
            url,
            &format!("/api/sessions/{id}/messages"),
            json!({ "messages": messages }).to_string(),
        )?;
        if status != 200 {
            return Err(format!("push: {status} {text}").into());
        }
    }
    Ok(id)
}

/// The 9.7 MB append body of 3.4 million empty content blocks.
fn many_blocks_body() -> String {
    let blocks = vec!["{}"; 3_400_000].join(",");
    format!(r#"{{"messages": [{{"role": "user", "content_blocks": [{blocks}]}}]}}"#)
}

/// A valid append body of about 9.7 MB (2,000 messages of 4.8 KB): what a
/// legitimate large batch costs, for comparison.
fn large_valid_body() -> String {
    let text = "x".repeat(4800);
    let messages: Vec<_> = (0..2000)
        .map(|i| {
            json!({"role": "user", "content_blocks": [{"type": "text", "text": text}],
                   "uuid": format!("v-{i}")})
        })
        .collect();
    json!({ "messages": messages }).to_string()
}

/// Read the session, dropping the bytes as they come; (status, bytes).
fn read_session(url: &str, id: &str) -> BenchResult<(u16, u64)> {
    let mut res = http()?.get(format!("{url}/api/sessions/{id}")).send()?;
    let status = res.status().as_u16();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = res.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    Ok((status, total))
}

/// Run `job` `parallel` times at once; the statuses and byte counts.
fn at_once<F>(parallel: usize, job: F) -> BenchResult<Vec<(u16, u64)>>
where
    F: Fn() -> BenchResult<(u16, u64)> + Sync,
{
    let results: Vec<Result<(u16, u64), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parallel)
            .map(|_| scope.spawn(|| job().map_err(|e| e.to_string())))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a request thread panicked".into()))
            })
            .collect()
    });
    results.into_iter().map(|r| Ok(r?)).collect()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() -> BenchResult<()> {
    let quick = std::env::args().any(|a| a == "quick");
    let n_messages = if quick { 20_000 } else { 200_000 };
    let bin = std::env::var("OPENCTL_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_openctl").to_string());
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("server.db");
    println!("server: {bin}");
    println!("load average at start: {}", loadavg());

    let t = Instant::now();
    let id = {
        let server = Server::start(&bin, &db)?;
        populate(&server.url, n_messages)?
    };
    println!(
        "stored {n_messages} messages in {:.1} s ({:.0} MB database)",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&db)?.len() as f64 / 1e6
    );
    let blocks = many_blocks_body();
    let valid = large_valid_body();
    let append = |url: &str, body: &str| {
        let path = format!("/api/sessions/{id}/messages");
        post(url, &path, body.to_string()).map(|(s, _)| (s, body.len() as u64))
    };

    type Job<'a> = Box<dyn Fn(&str) -> BenchResult<(u16, u64)> + Sync + 'a>;
    let rows: Vec<(String, usize, Job)> = vec![
        (
            format!("one read of the {n_messages}-message session"),
            1,
            Box::new(|url: &str| read_session(url, &id)),
        ),
        (
            "6 such reads at once".into(),
            6,
            Box::new(|url: &str| read_session(url, &id)),
        ),
        (
            format!(
                "one {:.1} MB ({:.1} MiB) body of 3.4 M empty blocks",
                blocks.len() as f64 / 1e6,
                blocks.len() as f64 / 1048576.0
            ),
            1,
            Box::new(|url: &str| append(url, &blocks)),
        ),
        (
            "6 such bodies at once".into(),
            6,
            Box::new(|url: &str| append(url, &blocks)),
        ),
        (
            format!(
                "(for comparison) one valid {:.1} MB batch of 2,000 messages",
                valid.len() as f64 / 1e6
            ),
            1,
            Box::new(|url: &str| append(url, &valid)),
        ),
    ];

    println!();
    println!("| input | answers | peak RSS above idle | goal | idle RSS | time |");
    println!("|---|---|---|---|---|---|");
    for (name, parallel, job) in &rows {
        let server = Server::start(&bin, &db)?;
        let idle = server.settle()?;
        let t = Instant::now();
        let results = at_once(*parallel, || job(&server.url))?;
        let elapsed = t.elapsed();
        let peak = server.status_kb("VmHWM:")?;
        let mut statuses: Vec<String> = results
            .iter()
            .map(|(s, n)| format!("{s} ({:.0} MB)", *n as f64 / 1e6))
            .collect();
        statuses.dedup();
        let above = peak.saturating_sub(idle) as f64 / 1024.0;
        let goal = if name.starts_with('(') {
            String::new()
        } else if above < GOAL_MB {
            format!("< {GOAL_MB} MB: met")
        } else {
            format!("< {GOAL_MB} MB: MISSED")
        };
        println!(
            "| {name} | {} | {above:.1} MB | {goal} | {:.1} MB | {:.2} s |",
            statuses.join(", "),
            idle as f64 / 1024.0,
            elapsed.as_secs_f64()
        );
    }
    println!();
    println!("load average at end: {}", loadavg());
    Ok(())
}
