//! Claude Code transcripts: turning lines into wire messages, deriving
//! titles, and summarizing a file cheaply. The format is internal to Claude
//! Code and changes between releases: unknown line types, block types and
//! fields are normal, never an error (see shared/claude-code.md).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

use crate::wire::Message;

/// What one complete transcript line is.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A user or assistant message to deliver.
    Message(Box<Message>),
    /// Valid JSON that is not a message (bookkeeping, sidechain, ...).
    Other,
    /// Not a JSON object: skipped and counted.
    Malformed,
}

/// Parse one complete line (without or with its trailing newline).
pub fn parse_line(bytes: &[u8]) -> Line {
    let bytes = trim_newline(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Line::Other;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(obj)) => match message_from_line(&obj) {
            Some(m) => Line::Message(Box::new(m)),
            None => Line::Other,
        },
        _ => Line::Malformed,
    }
}

fn trim_newline(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// The wire message of a parsed line, if it is a deliverable message:
/// `user`/`assistant` with a `message` object, not a sidechain.
pub fn message_from_line(obj: &Map<String, Value>) -> Option<Message> {
    let kind = obj.get("type")?.as_str()?;
    if kind != "user" && kind != "assistant" {
        return None;
    }
    if obj.get("isSidechain").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let message = obj.get("message")?.as_object()?;
    let role = match message.get("role").and_then(Value::as_str) {
        Some(r @ ("user" | "assistant")) => r,
        _ => kind,
    };
    let content_blocks = match message.get("content") {
        Some(Value::String(s)) => vec![text_block(s)],
        Some(Value::Array(blocks)) => blocks.iter().map(normalize_block).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![text_block(&other.to_string())],
    };
    let content_blocks = if content_blocks.is_empty() {
        vec![text_block("")]
    } else {
        content_blocks
    };
    Some(Message {
        role: role.to_string(),
        content_blocks,
        timestamp: obj
            .get("timestamp")
            .and_then(Value::as_str)
            .map(str::to_string),
        uuid: obj.get("uuid").and_then(Value::as_str).map(str::to_string),
    })
}

fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn str_field<'a>(block: &'a Map<String, Value>, key: &str) -> &'a str {
    block.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Normalize one content block to the set the reference server accepts
/// (CONTRACT.md §2); anything else becomes a text block saying what was
/// left out.
pub fn normalize_block(block: &Value) -> Value {
    let Some(b) = block.as_object() else {
        return match block {
            Value::String(s) => text_block(s),
            other => text_block(&format!("[unrecognized content: {other}]")),
        };
    };
    let kind = str_field(b, "type");
    match kind {
        "text" => text_block(str_field(b, "text")),
        "thinking" => json!({"type": "thinking", "thinking": str_field(b, "thinking")}),
        "tool_use" => {
            let input = match b.get("input") {
                Some(Value::Object(o)) => Value::Object(o.clone()),
                Some(Value::Null) | None => json!({}),
                Some(other) => json!({ "value": other }),
            };
            json!({"type": "tool_use", "id": str_field(b, "id"), "name": str_field(b, "name"), "input": input})
        }
        "tool_result" => {
            let mut out = json!({
                "type": "tool_result",
                "tool_use_id": str_field(b, "tool_use_id"),
                "content": flatten_tool_content(b.get("content")),
            });
            if let Some(is_error) = b.get("is_error").and_then(Value::as_bool) {
                out["is_error"] = Value::Bool(is_error);
            }
            out
        }
        "image" => match image_source(b.get("source")) {
            Some(source) => json!({"type": "image", "source": source}),
            None => text_block("[image omitted: unsupported source]"),
        },
        "redacted_thinking" => text_block("[redacted thinking omitted]"),
        "document" => {
            let title = b.get("title").and_then(Value::as_str).unwrap_or("");
            if title.is_empty() {
                text_block("[document omitted]")
            } else {
                text_block(&format!("[document omitted: {title}]"))
            }
        }
        "" => text_block("[content block without a type omitted]"),
        other => text_block(&format!("[{other} block omitted]")),
    }
}

fn image_source(source: Option<&Value>) -> Option<Value> {
    let s = source?.as_object()?;
    match s.get("type")?.as_str()? {
        "base64" => Some(json!({
            "type": "base64",
            "media_type": s.get("media_type").and_then(Value::as_str).unwrap_or("image/png"),
            "data": s.get("data")?.as_str()?,
        })),
        "url" => Some(json!({"type": "url", "url": s.get("url")?.as_str()?})),
        _ => None,
    }
}

/// A tool result's content as one string: text parts joined by newlines,
/// other parts named.
pub fn flatten_tool_content(content: Option<&Value>) -> String {
    match content {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => {
            let pieces: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    Value::Object(o) => match str_field(o, "type") {
                        "text" => str_field(o, "text").to_string(),
                        "image" => "[image]".to_string(),
                        "tool_reference" => {
                            let name = o
                                .get("tool_name")
                                .or_else(|| o.get("name"))
                                .and_then(Value::as_str)
                                .unwrap_or("?");
                            format!("[tool reference: {name}]")
                        }
                        other => format!("[{other}]"),
                    },
                    other => other.to_string(),
                })
                .collect();
            pieces.join("\n")
        }
        Some(other) => other.to_string(),
    }
}

/// The path a file-modifying tool call (`Write`, `Edit`, `MultiEdit`,
/// `NotebookEdit`) touches.
pub fn modified_path(block: &Value) -> Option<&str> {
    if block.get("type")?.as_str()? != "tool_use" {
        return None;
    }
    let input = block.get("input")?;
    match block.get("name")?.as_str()? {
        "Write" | "Edit" | "MultiEdit" => input.get("file_path")?.as_str(),
        "NotebookEdit" => input.get("notebook_path")?.as_str(),
        _ => None,
    }
}

/// Tags whose whole element is noise for a title.
const NOISE_ELEMENTS: &[&str] = &[
    "system-reminder",
    "local-command-stdout",
    "local-command-stderr",
    "local-command-caveat",
    "command-message",
    "command-args",
];

/// The title candidate of a user line: its real typed text (not `isMeta`,
/// not a tool result, not a compaction summary), cleaned.
pub fn user_text_title(obj: &Map<String, Value>) -> Option<String> {
    if obj.get("type").and_then(Value::as_str) != Some("user")
        || obj.get("isMeta").and_then(Value::as_bool) == Some(true)
        || obj.get("isCompactSummary").and_then(Value::as_bool) == Some(true)
        || obj.get("isSidechain").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    let content = obj.get("message")?.get("content")?;
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            texts.join(" ")
        }
        _ => return None,
    };
    let cleaned = clean_title(&text);
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Strip noise elements and remaining tags, collapse whitespace, cut at a
/// word boundary near 80 characters.
pub fn clean_title(text: &str) -> String {
    let mut s = text.to_string();
    for tag in NOISE_ELEMENTS {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        while let Some(start) = s.find(&open) {
            match s[start..].find(&close) {
                Some(end) => s.replace_range(start..start + end + close.len(), " "),
                None => s.replace_range(start.., " "),
            }
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' if !in_tag => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    cut_at_word(&collapsed, 80)
}

fn cut_at_word(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let at = cut
        .rfind(' ')
        .filter(|&i| i >= max / 2)
        .unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end())
}

/// The explicit title a `custom-title` or `ai-title` line sets.
fn explicit_title(obj: &Map<String, Value>) -> Option<(bool, String)> {
    match obj.get("type")?.as_str()? {
        "custom-title" => Some((true, obj.get("customTitle")?.as_str()?.trim().to_string())),
        "ai-title" => Some((false, obj.get("aiTitle")?.as_str()?.trim().to_string())),
        _ => None,
    }
    .filter(|(_, t)| !t.is_empty())
}

/// What `session list` and `share` need to know about a transcript.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The project directory (`cwd` of the first line that has one).
    pub cwd: Option<String>,
    /// Newest custom title, else newest AI title, else the first real prompt.
    pub title: Option<String>,
    /// Complete lines.
    pub lines: u64,
    /// First model seen (not `<synthetic>`).
    pub model: Option<String>,
}

/// How much of a file's head is parsed for cwd, model and the first prompt.
const HEAD_BUDGET: usize = 8 * 1024 * 1024;

/// Summarize a transcript reading it once, in chunks: lines are counted with
/// memchr, only the head and title lines are parsed.
pub fn summarize(path: &Path) -> Result<Summary> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut summary = Summary::default();
    let mut derived: Option<String> = None;
    let mut custom: Option<String> = None;
    let mut ai: Option<String> = None;
    let mut head_done = false;
    let mut head_bytes = 0usize;
    let finder = memchr::memmem::Finder::new(b"-title\"");
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut chunk)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(last_nl) = memchr::memrchr(b'\n', &buf) else {
            continue;
        };
        let complete = &buf[..=last_nl];
        summary.lines += memchr::memchr_iter(b'\n', complete).count() as u64;
        let mut scan_from = 0;
        if !head_done {
            for line in complete.split_inclusive(|b| *b == b'\n') {
                scan_from += line.len();
                head_bytes += line.len();
                let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(line) else {
                    continue;
                };
                note_head(&obj, &mut summary, &mut derived);
                if let Some((is_custom, t)) = explicit_title(&obj) {
                    *if is_custom { &mut custom } else { &mut ai } = Some(t);
                }
                if (summary.cwd.is_some() && derived.is_some() && summary.model.is_some())
                    || head_bytes > HEAD_BUDGET
                {
                    head_done = true;
                    break;
                }
            }
        }
        scan_titles(&complete[scan_from..], &finder, &mut custom, &mut ai);
        buf.drain(..=last_nl);
    }
    summary.title = custom.or(ai).or(derived);
    Ok(summary)
}

fn note_head(obj: &Map<String, Value>, summary: &mut Summary, derived: &mut Option<String>) {
    if summary.cwd.is_none() {
        if let Some(cwd) = obj.get("cwd").and_then(Value::as_str) {
            summary.cwd = Some(cwd.to_string());
        }
    }
    if derived.is_none() {
        *derived = user_text_title(obj);
    }
    if summary.model.is_none() && obj.get("type").and_then(Value::as_str) == Some("assistant") {
        if let Some(model) = obj
            .get("message")
            .and_then(|m| m.get("model"))
            .and_then(Value::as_str)
        {
            if model != "<synthetic>" && !model.is_empty() {
                summary.model = Some(model.to_string());
            }
        }
    }
}

fn scan_titles(
    region: &[u8],
    finder: &memchr::memmem::Finder<'_>,
    custom: &mut Option<String>,
    ai: &mut Option<String>,
) {
    let mut from = 0;
    while let Some(hit) = finder.find(&region[from..]) {
        let at = from + hit;
        let start = memchr::memrchr(b'\n', &region[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &region[at..]).map_or(region.len(), |i| at + i);
        if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&region[start..end]) {
            if let Some((is_custom, t)) = explicit_title(&obj) {
                if is_custom {
                    *custom = Some(t);
                } else {
                    *ai = Some(t);
                }
            }
        }
        from = end.max(at + 1);
        if from >= region.len() {
            break;
        }
    }
}

/// The `cwd` of the first line that has one (reads only the head).
pub fn first_cwd(path: &Path) -> Option<String> {
    use std::io::BufRead;
    let file = File::open(path).ok()?;
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    let mut read = 0usize;
    while read < HEAD_BUDGET {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).ok()?;
        if n == 0 || !line.ends_with(b"\n") {
            return None;
        }
        read += n;
        if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&line) {
            if let Some(cwd) = obj.get("cwd").and_then(Value::as_str) {
                return Some(cwd.to_string());
            }
        }
    }
    None
}

/// Visit every complete line of a transcript with its 1-based line number,
/// streaming the file (a half-written last line is not visited).
pub fn for_each_line(path: &Path, mut visit: impl FnMut(u64, Line)) -> Result<()> {
    use std::io::BufRead;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 || !line.ends_with(b"\n") {
            return Ok(());
        }
        number += 1;
        visit(number, parse_line(&line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_blocks_normalize() {
        let line = br#"{"type":"user","uuid":"u1","timestamp":"t","message":{"role":"user","content":"hi"}}"#;
        let Line::Message(m) = parse_line(line) else {
            panic!("not a message")
        };
        assert_eq!(m.content_blocks, vec![json!({"type":"text","text":"hi"})]);
        assert_eq!(m.uuid.as_deref(), Some("u1"));

        let b = normalize_block(
            &json!({"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":"a"},{"type":"image","source":{}}]}),
        );
        assert_eq!(b["content"], "a\n[image]");
        assert_eq!(
            normalize_block(&json!({"type":"redacted_thinking","data":"x"}))["type"],
            "text"
        );
        assert_eq!(
            normalize_block(&json!({"type":"tool_use","id":"1","name":"Bash","input":"ls"}))
                ["input"]["value"],
            "ls"
        );
    }

    #[test]
    fn sidechain_and_bookkeeping_are_not_messages() {
        assert_eq!(
            parse_line(
                br#"{"type":"user","isSidechain":true,"message":{"role":"user","content":"x"}}"#
            ),
            Line::Other
        );
        assert_eq!(
            parse_line(br#"{"type":"summary","summary":"s"}"#),
            Line::Other
        );
        assert_eq!(parse_line(b"{not json"), Line::Malformed);
        assert_eq!(parse_line(b"[1,2]"), Line::Malformed);
    }

    #[test]
    fn titles_are_cleaned() {
        assert_eq!(
            clean_title("<command-message>x</command-message>\n<command-name>/review</command-name>  fix   the bug"),
            "/review fix the bug"
        );
        let long = "word ".repeat(40);
        let t = clean_title(&long);
        assert!(t.chars().count() <= 81, "{t}");
        assert!(t.ends_with('…'));
    }
}
