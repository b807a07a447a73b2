//! Redaction speed (issue 8: a 10 MB transcript in < 200 ms).
//!
//! `cargo bench --bench redact [-- RUNS]` builds ~10 MB from the real
//! transcripts in `../shared/fixtures/claude-code/` with a planted secret
//! every 64 KB, then times, over RUNS runs (default 20):
//!
//! - `redact_str`: the raw transcript text as one string;
//! - `redact_message`: every message of the same text, already parsed into
//!   wire messages (what the daemon does before a push);
//! - `parse+redact`: parsing each line with `transcript::parse_line` and
//!   redacting its message, for scale.
//!
//! Prints median / p95 / max per case, and MB/s at the median; then
//! precision and recall on the labelled sets in `tests/fixtures/redact/`
//! (synthetic secrets of every kind, and code and prose that only look
//! like secrets).

use std::path::Path;
use std::time::{Duration, Instant};

use openctl::redact::labelled::{Labelled, Score};
use openctl::redact::Redactor;
use openctl::transcript::{parse_line, Line};
use openctl::wire::Message;

const TARGET_BYTES: usize = 10 << 20;

const SECRETS: &[&str] = &[
    "export AWS_ACCESS_KEY_ID=AKIAZ3MPLEQ7RT5XW2YB",
    "token ghp_R4nd0mT0k3nV4lu3F0rT3st1ng0nlyAbCdEf",
    "DB_PASSWORD=Tr0ub4dor&3",
    "psql postgres://admin:s3cr3tP4ss@db.example.com/app",
    "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
];

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20)
        .max(1);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/claude-code");
    let mut base = String::new();
    for name in [
        "cc2.1.112-hackathon-compact-queue.jsonl",
        "cc2.1.14-automated-run-task-agent.jsonl",
        "cc2.1.97-redacted-thinking.jsonl",
    ] {
        let path = fixtures.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => base.push_str(&text),
            Err(e) => {
                eprintln!("cannot read fixture {}: {e}", path.display());
                std::process::exit(1);
            }
        }
    }
    let lines: Vec<&str> = base.lines().collect();
    let mut text = String::with_capacity(TARGET_BYTES + (1 << 20));
    let mut since_secret = 0usize;
    let mut planted = 0usize;
    'fill: loop {
        for line in &lines {
            if text.len() >= TARGET_BYTES {
                break 'fill;
            }
            text.push_str(line);
            text.push('\n');
            since_secret += line.len() + 1;
            if since_secret >= 64 * 1024 {
                // A user message carrying a secret, as a transcript line.
                let secret = SECRETS[planted % SECRETS.len()];
                let line = serde_json::json!({
                    "type": "user",
                    "uuid": format!("00000000-0000-4000-8000-{planted:012}"),
                    "message": {"role": "user", "content": secret},
                });
                text.push_str(&line.to_string());
                text.push('\n');
                since_secret = 0;
                planted += 1;
            }
        }
    }
    let messages: Vec<Message> = text
        .lines()
        .filter_map(|l| match parse_line(l.as_bytes()) {
            Line::Message(m) => Some(*m),
            _ => None,
        })
        .collect();

    let build = Instant::now();
    let red = match Redactor::builtin() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot build the redactor: {e:#}");
            std::process::exit(1);
        }
    };
    let build_time = build.elapsed();
    let mb = text.len() as f64 / (1024.0 * 1024.0);
    println!(
        "input: {mb:.1} MB, {} lines, {} messages, {planted} planted secrets; Redactor::builtin() {:.1} ms; {runs} runs",
        text.lines().count(),
        messages.len(),
        ms(build_time)
    );

    let mut table = Vec::new();
    let mut found = 0;
    table.push(time("redact_str", runs, || {
        found = red.redact_str(&text).1.len();
    }));
    let str_found = found;
    let mut msg_found = 0;
    table.push(time("redact_message", runs, || {
        // Cloning is part of what the daemon does anyway (it owns the
        // message it sends); clone outside the timed region would need a
        // pool of copies per run.
        let mut batch = messages.clone();
        msg_found = batch.iter_mut().map(|m| red.redact_message(m).len()).sum();
    }));
    table.push(time("parse+redact", runs, || {
        let mut n = 0;
        for l in text.lines() {
            if let Line::Message(mut m) = parse_line(l.as_bytes()) {
                n += red.redact_message(&mut m).len();
            }
        }
        std::hint::black_box(n);
    }));
    let clone = time("(clone only)", runs, || {
        std::hint::black_box(messages.clone());
    });
    table.push(clone);

    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10}",
        "case", "median ms", "p95 ms", "max ms", "MB/s"
    );
    for (name, mut samples) in table {
        samples.sort();
        let median = samples[samples.len() / 2];
        let p95 = samples[((samples.len() * 95).div_ceil(100)).saturating_sub(1)];
        let max = samples[samples.len() - 1];
        println!(
            "{name:<16} {:>10.1} {:>10.1} {:>10.1} {:>10.0}",
            ms(median),
            ms(p95),
            ms(max),
            mb / median.as_secs_f64()
        );
    }
    println!("redactions: redact_str {str_found}, redact_message {msg_found} (planted {planted})");
    labelled(&red);
}

/// Precision and recall on the labelled sets.
fn labelled(red: &Redactor) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redact");
    let set = match Labelled::load(&dir) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("cannot read the labelled sets: {e:#}");
            std::process::exit(1);
        }
    };
    let score = Score::of(red, &set);
    let gone = score.secrets.iter().filter(|o| o.gone).count();
    let marked = score.secrets.iter().filter(|o| o.gone && o.marked).count();
    let touched = score.not_secrets.iter().filter(|f| !f.is_empty()).count();
    println!(
        "labelled: recall {:.1} % ({gone} of {} secrets gone, {marked} marked with their kind); \
         precision {:.1} % ({} false positives: {touched} of {} non-secrets changed, {} stray in secret texts)",
        100.0 * score.recall(),
        set.secrets.len(),
        100.0 * score.precision(),
        score.false_positives(),
        set.not_secrets.len(),
        score.false_positives() - score.not_secrets.iter().map(Vec::len).sum::<usize>(),
    );
}

fn time(name: &'static str, runs: usize, mut f: impl FnMut()) -> (&'static str, Vec<Duration>) {
    f(); // warm-up
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    (name, samples)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
