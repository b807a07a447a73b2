//! The same checks as the fixture tests of `cli`, `daemon` and `redact`, on
//! real Claude Code transcripts: third-party files that are never in the
//! repository (see ../shared/fixtures/claude-code/README.md beside the
//! checkout on the project's machines). CI runs them through `.ci/run`:
//!
//!     OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored
//!
//! Expected counts (user / assistant lines that are not sidechain, i.e. the
//! messages a share must deliver): 2.1.14: 41 / 55; 2.1.97: 3 / 6; 2.1.112:
//! 224 / 312; the truncated file's half-written last line is not a line yet.

use std::path::PathBuf;

use crate::common::{read_text, real_transcript};

const TRUNCATED: &str = "fixture-truncated-last-line.jsonl";
const COMPACT_QUEUE: &str = "cc2.1.112-hackathon-compact-queue.jsonl";

/// The three complete real transcripts with their message counts.
fn counted() -> Vec<(PathBuf, usize)> {
    vec![
        (
            real_transcript("cc2.1.14-automated-run-task-agent.jsonl"),
            41 + 55,
        ),
        (real_transcript("cc2.1.97-redacted-thinking.jsonl"), 3 + 6),
        (real_transcript(COMPACT_QUEUE), 224 + 312),
    ]
}

/// All four real transcripts.
fn all() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = counted().into_iter().map(|(p, _)| p).collect();
    paths.push(real_transcript(TRUNCATED));
    paths
}

#[test]
#[ignore = "needs the real transcripts: OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored"]
fn map_to_the_expected_messages() {
    crate::cli::assert_message_counts(&counted());
    crate::cli::assert_last_line_incomplete(&real_transcript(TRUNCATED));
}

#[test]
#[ignore = "needs the real transcripts: OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored"]
fn titles_and_summaries() {
    let path = real_transcript(COMPACT_QUEUE);
    let s = openctl::transcript::summarize(&path)
        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
    assert_eq!(s.lines, 1338);
    assert!(s.cwd.is_some());
    let title = s.title_text().expect("a title");
    assert!(
        !title.is_empty() && title.chars().count() <= 81 && !title.contains('<'),
        "{title}"
    );
}

#[test]
#[ignore = "needs the real transcripts: OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored"]
fn arrive_complete_through_the_daemon() {
    let mut cases: Vec<(PathBuf, Option<usize>)> =
        counted().into_iter().map(|(p, n)| (p, Some(n))).collect();
    // Its lines have no uuid and no documented count: every complete line
    // that is a message must arrive, keyed by the daemon.
    cases.push((real_transcript(TRUNCATED), None));
    crate::daemon::transcripts_arrive_complete(&cases);
}

#[test]
#[ignore = "needs the real transcripts: OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored"]
fn ordinary_content_is_unchanged_by_redaction() {
    // The real transcripts hold UUIDs, commit hashes, paths, code and one
    // already-masked token (`Token: gho_*****…` in the 2.1.112 transcript):
    // none of it is a secret.
    let (messages, blocks) = crate::redact::assert_messages_unchanged(&all());
    assert!(messages >= 96 + 9 + 536, "{messages}");
    assert!(blocks > 600, "{blocks}");
}

#[test]
#[ignore = "needs the real transcripts: OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored"]
fn raw_text_has_no_false_positives() {
    let paths: Vec<PathBuf> = counted().into_iter().map(|(p, _)| p).collect();
    crate::redact::assert_raw_text_clean(&paths);
}

#[test]
#[ignore = "needs the real transcripts: OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored"]
fn ten_megabytes_with_planted_secrets() {
    crate::redact::assert_ten_megabytes_with_planted_secrets(&read_text(&real_transcript(
        COMPACT_QUEUE,
    )));
}

/// Every compaction summary, meta line and command line of the real
/// transcripts arrives with its kind, never as a prompt.
#[test]
#[ignore = "needs the real transcripts: OPENCTL_REAL_TRANSCRIPTS=<dir> cargo test --locked -- --ignored"]
fn claude_codes_own_lines_have_their_kind() {
    use openctl::transcript::{parse_line, Line};
    use openctl::wire::MessageKind;
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for path in all() {
        let text = read_text(&path);
        for (n, line) in text.split_inclusive('\n').enumerate() {
            if !line.ends_with('\n') {
                continue;
            }
            let Line::Message(m) = parse_line(line.as_bytes()) else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(line).expect("a message line is JSON");
            let typed =
                openctl::transcript::plain_text(v.as_object().expect("object")).unwrap_or_default();
            let start = typed.trim_start();
            let want = if v["isCompactSummary"] == true {
                Some((MessageKind::CompactSummary, "compact summary"))
            } else if v["isMeta"] == true
                && v["type"] == "user"
                && m.kind != Some(MessageKind::ToolResult)
            {
                Some((MessageKind::Injected, "meta line"))
            } else if start.starts_with("<command-name>") || start.starts_with("<command-message>")
            {
                Some((MessageKind::Command, "command line"))
            } else {
                None
            };
            if let Some((kind, what)) = want {
                assert_eq!(m.kind, Some(kind), "{}:{}: {what}", path.display(), n + 1);
                *seen.entry(what).or_default() += 1;
            }
        }
    }
    // The real files hold each of these (a compaction, meta lines, commands).
    for what in ["compact summary", "meta line"] {
        assert!(
            seen.get(what).copied().unwrap_or(0) > 0,
            "no {what} in the real transcripts: {seen:?}"
        );
    }
}
