//! Claude Code transcripts: turning lines into wire messages, deriving
//! titles, and summarizing a file cheaply. The format is internal to Claude
//! Code and changes between releases: unknown line types, block types and
//! fields are normal, never an error (see shared/claude-code.md).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

use crate::wire::{Message, MessageKind};

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

/// A line that is not valid JSON only because of what is not text in it
/// (an invalid UTF-8 byte, a lone surrogate escape such as `\ud83d`),
/// parsed with U+FFFD in their place. None for anything else.
pub fn repair_line(bytes: &[u8]) -> Option<Map<String, Value>> {
    let text = String::from_utf8_lossy(bytes);
    let fixed = replace_lone_surrogates(&text);
    match serde_json::from_str::<Value>(&fixed) {
        Ok(Value::Object(obj)) => Some(obj),
        _ => None,
    }
}

/// `\uD800`–`\uDFFF` escapes that do not form a pair, as `\uFFFD`.
fn replace_lone_surrogates(text: &str) -> String {
    let hex = |s: &str| u16::from_str_radix(s, 16).ok();
    let escape_at = |s: &str, i: usize| -> Option<u16> {
        s.get(i..i + 2)
            .filter(|p| *p == "\\u")
            .and_then(|_| s.get(i + 2..i + 6))
            .and_then(hex)
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let Some(rest) = text.get(i..) else { break };
        if rest.starts_with("\\\\") {
            out.push_str("\\\\");
            i += 2;
            continue;
        }
        if let Some(unit) = escape_at(text, i) {
            let high = (0xD800..0xDC00).contains(&unit);
            let low = (0xDC00..0xE000).contains(&unit);
            let paired =
                high && escape_at(text, i + 6).is_some_and(|n| (0xDC00..0xE000).contains(&n));
            if paired {
                out.push_str(&text[i..i + 12]);
                i += 12;
            } else if high || low {
                out.push_str("\\uFFFD");
                i += 6;
            } else {
                out.push_str(&text[i..i + 6]);
                i += 6;
            }
            continue;
        }
        let c = rest.chars().next().unwrap_or('\0');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Parse one complete line (without or with its trailing newline).
pub fn parse_line(bytes: &[u8]) -> Line {
    let bytes = trim_newline(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Line::Other;
    }
    let obj = match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => return Line::Malformed,
        Err(_) => match repair_line(bytes) {
            Some(obj) => obj,
            None => return Line::Malformed,
        },
    };
    match message_from_line(&obj) {
        Some(m) => Line::Message(Box::new(m)),
        None => Line::Other,
    }
}

fn trim_newline(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// Which content shapes the receiving server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shapes {
    /// What the reference server accepts (CONTRACT.md §2): tool results
    /// as one string.
    #[default]
    Reference,
    /// A server whose health lists `rich_tool_results`: tool results keep
    /// their text and image blocks.
    Rich,
}

/// The wire message of a parsed line in the reference shapes.
pub fn message_from_line(obj: &Map<String, Value>) -> Option<Message> {
    message_from_line_for(obj, Shapes::Reference)
}

/// The wire message of a parsed line, if it is a deliverable message:
/// `user`/`assistant` with a `message` object, not a sidechain.
pub fn message_from_line_for(obj: &Map<String, Value>, shapes: Shapes) -> Option<Message> {
    if flag(obj, "isSidechain") {
        return None;
    }
    line_message(obj, shapes)
}

/// Which subagent a transcript belongs to, and the call that started it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentRef {
    pub agent_id: String,
    pub parent_tool_use_id: Option<String>,
}

/// The wire message of a line of a subagent's transcript (all its lines
/// are sidechain lines), marked with the subagent. Its user text comes
/// from the session's own agent, not from the person: never a `prompt`.
pub fn agent_message(
    obj: &Map<String, Value>,
    shapes: Shapes,
    agent: &AgentRef,
) -> Option<Message> {
    let mut m = line_message(obj, shapes)?;
    if m.kind == Some(MessageKind::Prompt) {
        m.kind = Some(MessageKind::Injected);
    }
    m.agent_id = Some(agent.agent_id.clone());
    m.parent_tool_use_id.clone_from(&agent.parent_tool_use_id);
    Some(m)
}

fn line_message(obj: &Map<String, Value>, shapes: Shapes) -> Option<Message> {
    let kind = obj.get("type")?.as_str()?;
    if kind != "user" && kind != "assistant" {
        return None;
    }
    let message = obj.get("message")?.as_object()?;
    let role = match message.get("role").and_then(Value::as_str) {
        Some(r @ ("user" | "assistant")) => r,
        _ => kind,
    };
    let content_blocks = match message.get("content") {
        Some(Value::String(s)) => vec![text_block(s)],
        Some(Value::Array(blocks)) => blocks.iter().map(|b| normalize_block(b, shapes)).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![text_block(&other.to_string())],
    };
    let content_blocks = if content_blocks.is_empty() {
        vec![text_block("")]
    } else {
        content_blocks
    };
    let kind = classify(obj, role, message);
    Some(Message {
        role: role.to_string(),
        content_blocks,
        timestamp: obj
            .get("timestamp")
            .and_then(Value::as_str)
            .map(str::to_string),
        uuid: obj.get("uuid").and_then(Value::as_str).map(str::to_string),
        kind: Some(kind),
        agent_id: None,
        parent_tool_use_id: None,
    })
}

fn flag(obj: &Map<String, Value>, key: &str) -> bool {
    obj.get(key).and_then(Value::as_bool) == Some(true)
}

/// The text a person could have typed in a message: a string content, or
/// its text blocks joined.
fn typed_text(message: &Map<String, Value>) -> Option<String> {
    match message.get("content")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            Some(texts.join("\n"))
        }
        _ => None,
    }
}

/// Elements Claude Code or an IDE wraps around what it adds to a prompt:
/// never the person's words, never a title.
const INJECTED_ELEMENTS: &[&str] = &[
    "system-reminder",
    "ide_opened_file",
    "ide_selection",
    "ide_diagnostics",
    "user-prompt-submit-hook",
    "task-notification",
];

/// Leading tags of the lines that carry a local command (`!ls`, `/cost`)
/// and its output.
const LOCAL_OUTPUT_TAGS: &[&str] = &[
    "<bash-input>",
    "<bash-stdout>",
    "<bash-stderr>",
    "<local-command-stdout>",
    "<local-command-stderr>",
];

/// Starts of texts Claude Code writes as if the user had said them.
const INJECTED_STARTS: &[&str] = &[
    "<local-command-caveat>",
    "[Request interrupted by user",
    "Caveat: The messages below were generated by the user",
];

/// What a `user`/`assistant` line is: the one place this is decided (see
/// [`MessageKind`]). `role` is the message's role, `message` its `message`.
pub fn classify(obj: &Map<String, Value>, role: &str, message: &Map<String, Value>) -> MessageKind {
    if role == "assistant" {
        return if message.get("model").and_then(Value::as_str) == Some("<synthetic>") {
            MessageKind::Injected
        } else {
            MessageKind::Response
        };
    }
    if flag(obj, "isCompactSummary") {
        return MessageKind::CompactSummary;
    }
    if let Some(Value::Array(blocks)) = message.get("content") {
        if blocks
            .iter()
            .any(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
        {
            return MessageKind::ToolResult;
        }
    }
    if flag(obj, "isMeta") {
        return MessageKind::Injected;
    }
    let text = typed_text(message).unwrap_or_default();
    let start = text.trim_start();
    if start.starts_with("<command-name>")
        || start.starts_with("<command-message>")
        || start.contains("<command-name>/")
    {
        return MessageKind::Command;
    }
    if LOCAL_OUTPUT_TAGS.iter().any(|t| start.starts_with(t)) {
        return MessageKind::LocalOutput;
    }
    if INJECTED_STARTS.iter().any(|t| start.starts_with(t)) || is_hook_feedback(start) {
        return MessageKind::Injected;
    }
    if start.starts_with("This session is being continued from a previous conversation") {
        return MessageKind::CompactSummary;
    }
    let has_image = matches!(message.get("content"), Some(Value::Array(blocks))
        if blocks.iter().any(|b| b.get("type").and_then(Value::as_str) == Some("image")));
    if !has_image && strip_elements(&text, INJECTED_ELEMENTS).trim().is_empty() && !start.is_empty()
    {
        return MessageKind::Injected;
    }
    MessageKind::Prompt
}

/// `Stop hook feedback:`, `PreToolUse:Bash hook feedback:` and the like.
fn is_hook_feedback(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    first
        .find("hook feedback:")
        .is_some_and(|at| first[..at].split_whitespace().count() <= 2)
}

/// `text` without the named elements (an unclosed one runs to the end).
fn strip_elements(text: &str, tags: &[&str]) -> String {
    let mut s = text.to_string();
    for tag in tags {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut from = 0;
        while let Some(at) = s[from..].find(&open) {
            let start = from + at;
            match s[start..].find(&close) {
                Some(end) => s.replace_range(start..start + end + close.len(), " "),
                None => s.replace_range(start.., " "),
            }
            from = start;
        }
    }
    s
}

fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn str_field<'a>(block: &'a Map<String, Value>, key: &str) -> &'a str {
    block.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Normalize one content block to the set the reference server accepts
/// (CONTRACT.md §2); anything else becomes a text block saying what was
/// left out. With [`Shapes::Rich`] a tool result keeps its parts.
pub fn normalize_block(block: &Value, shapes: Shapes) -> Value {
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
            let content = match (shapes, b.get("content")) {
                (Shapes::Rich, Some(Value::Array(parts))) => {
                    Value::Array(parts.iter().map(rich_tool_part).collect())
                }
                (_, content) => Value::String(flatten_tool_content(content)),
            };
            let mut out = json!({
                "type": "tool_result",
                "tool_use_id": str_field(b, "tool_use_id"),
                "content": content,
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

/// One part of a tool result for a server that stores them: text and
/// images as they are, anything else named in a text block.
fn rich_tool_part(part: &Value) -> Value {
    match part.get("type").and_then(Value::as_str) {
        Some("text") | Some("image") => normalize_block(part, Shapes::Rich),
        _ => text_block(&flatten_tool_content(Some(&Value::Array(vec![
            part.clone()
        ])))),
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

/// The user text of a line: its string content, or its text blocks joined.
pub fn plain_text(obj: &Map<String, Value>) -> Option<String> {
    typed_text(obj.get("message")?.as_object()?)
}

/// A call that starts a subagent (`Task`, named `Agent` in newer
/// versions): its id and prompt.
pub fn agent_call(block: &Value) -> Option<(&str, &str)> {
    if block.get("type")?.as_str()? != "tool_use" {
        return None;
    }
    if !matches!(block.get("name")?.as_str()?, "Task" | "Agent") {
        return None;
    }
    Some((
        block.get("id")?.as_str()?,
        block.get("input")?.get("prompt")?.as_str()?,
    ))
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

/// Tags whose whole element is noise for a title, beyond
/// [`INJECTED_ELEMENTS`].
const NOISE_ELEMENTS: &[&str] = &[
    "local-command-stdout",
    "local-command-stderr",
    "local-command-caveat",
    "command-message",
    "command-args",
    "command-name",
];

/// The title candidate of a line: the text of a message the person typed
/// (kind [`MessageKind::Prompt`]), cleaned. Slash commands, injected text,
/// IDE notes, tool results and compaction summaries are never a title.
pub fn user_text_title(obj: &Map<String, Value>) -> Option<String> {
    if obj.get("type").and_then(Value::as_str) != Some("user") || flag(obj, "isSidechain") {
        return None;
    }
    let message = obj.get("message")?.as_object()?;
    let role = message
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("user");
    if role != "user" || classify(obj, role, message) != MessageKind::Prompt {
        return None;
    }
    let cleaned = clean_title(&typed_text(message)?);
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Strip noise elements and remaining tags, collapse whitespace, cut at a
/// word boundary near 80 characters.
pub fn clean_title(text: &str) -> String {
    let s = strip_elements(&strip_elements(text, INJECTED_ELEMENTS), NOISE_ELEMENTS);
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

/// A session's title and where it comes from. A name the user gave
/// (`custom-title`) beats Claude Code's own (`ai-title`), which beats one
/// derived from the first prompt; among equals the newest wins, and a title
/// never goes back to a derived one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Title {
    Custom(String),
    Ai(String),
    Prompt(String),
}

impl Title {
    pub fn text(&self) -> &str {
        match self {
            Title::Custom(t) | Title::Ai(t) | Title::Prompt(t) => t,
        }
    }

    /// Whether this title, seen after `current`, takes its place.
    pub fn replaces(&self, current: Option<&Title>) -> bool {
        matches!(
            (self, current),
            (_, None)
                | (Title::Custom(_), _)
                | (Title::Ai(_), Some(Title::Ai(_) | Title::Prompt(_)))
        )
    }
}

/// Longest title kept from a `custom-title` or `ai-title` line.
const MAX_EXPLICIT_TITLE: usize = 200;

/// The title a `custom-title` or `ai-title` line sets.
pub fn explicit_title(obj: &Map<String, Value>) -> Option<Title> {
    let (key, make): (&str, fn(String) -> Title) = match obj.get("type")?.as_str()? {
        "custom-title" => ("customTitle", Title::Custom),
        "ai-title" => ("aiTitle", Title::Ai),
        _ => return None,
    };
    let t = obj.get(key)?.as_str()?.trim();
    (!t.is_empty()).then(|| make(t.chars().take(MAX_EXPLICIT_TITLE).collect()))
}

/// The title a line carries: an explicit one, or the first prompt's.
pub fn line_title(obj: &Map<String, Value>) -> Option<Title> {
    explicit_title(obj).or_else(|| user_text_title(obj).map(Title::Prompt))
}

/// What `session list` and `share` need to know about a transcript.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The project directory (`cwd` of the first line that has one).
    pub cwd: Option<String>,
    /// Newest custom title, else newest AI title, else the first real prompt.
    pub title: Option<Title>,
    /// Complete lines.
    pub lines: u64,
    /// First model seen (not `<synthetic>`).
    pub model: Option<String>,
}

impl Summary {
    pub fn title_text(&self) -> Option<&str> {
        self.title.as_ref().map(Title::text)
    }
}

/// How much of a file's head is parsed for cwd, model and the first prompt.
const HEAD_BUDGET: usize = 8 * 1024 * 1024;

/// Summarize a transcript reading it once, in chunks: lines are counted with
/// memchr, only the head and title lines are parsed.
pub fn summarize(path: &Path) -> Result<Summary> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut summary = Summary::default();
    let mut derived: Option<String> = None;
    let mut explicit: Option<Title> = None;
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
                note_explicit(&obj, &mut explicit);
                if (summary.cwd.is_some() && derived.is_some() && summary.model.is_some())
                    || head_bytes > HEAD_BUDGET
                {
                    head_done = true;
                    break;
                }
            }
        }
        scan_titles(&complete[scan_from..], &finder, &mut explicit);
        buf.drain(..=last_nl);
    }
    summary.title = explicit.or(derived.map(Title::Prompt));
    Ok(summary)
}

fn note_explicit(obj: &Map<String, Value>, explicit: &mut Option<Title>) {
    if let Some(t) = explicit_title(obj) {
        if t.replaces(explicit.as_ref()) {
            *explicit = Some(t);
        }
    }
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

fn scan_titles(region: &[u8], finder: &memchr::memmem::Finder<'_>, explicit: &mut Option<Title>) {
    let mut from = 0;
    while let Some(hit) = finder.find(&region[from..]) {
        let at = from + hit;
        let start = memchr::memrchr(b'\n', &region[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &region[at..]).map_or(region.len(), |i| at + i);
        if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&region[start..end]) {
            note_explicit(&obj, explicit);
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

        let result = json!({"type":"tool_result","tool_use_id":"x","content":[
            {"type":"text","text":"a"},
            {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}},
            {"type":"tool_reference","tool_name":"Grep"}]});
        let b = normalize_block(&result, Shapes::Reference);
        assert_eq!(b["content"], "a\n[image]\n[tool reference: Grep]");
        let rich = normalize_block(&result, Shapes::Rich);
        assert_eq!(
            rich["content"],
            json!([
                {"type":"text","text":"a"},
                {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}},
                {"type":"text","text":"[tool reference: Grep]"}
            ])
        );
        assert_eq!(
            normalize_block(
                &json!({"type":"redacted_thinking","data":"x"}),
                Shapes::Reference
            )["type"],
            "text"
        );
        assert_eq!(
            normalize_block(
                &json!({"type":"tool_use","id":"1","name":"Bash","input":"ls"}),
                Shapes::Reference
            )["input"]["value"],
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
    fn lines_with_what_is_not_text_are_kept_with_replacement_characters() {
        let mut bad = br#"{"type":"user","message":{"role":"user","content":"caf"#.to_vec();
        bad.push(0xE9);
        bad.extend_from_slice(br#" ok"}}"#);
        let obj = repair_line(&bad).expect("repaired");
        assert_eq!(obj["message"]["content"], "caf\u{FFFD} ok");
        let lone = br#"{"type":"user","message":{"role":"user","content":"a \ud83d b \ud83d\ude00 c \\ud83d \udc00"}}"#;
        assert!(serde_json::from_slice::<Value>(lone).is_err());
        let obj = repair_line(lone).expect("repaired");
        assert_eq!(
            obj["message"]["content"],
            "a \u{FFFD} b \u{1F600} c \\ud83d \u{FFFD}"
        );
        assert!(repair_line(b"{not json").is_none());
    }

    #[test]
    fn titles_are_cleaned() {
        assert_eq!(
            clean_title("<ide_opened_file>The user opened the file /a/b.rs in the IDE.</ide_opened_file>  fix   the bug"),
            "fix the bug"
        );
        let long = "word ".repeat(40);
        let t = clean_title(&long);
        assert!(t.chars().count() <= 81, "{t}");
        assert!(t.ends_with('…'));
    }

    fn kind_of(line: &str) -> Option<MessageKind> {
        match parse_line(line.as_bytes()) {
            Line::Message(m) => m.kind,
            other => panic!("not a message: {other:?} from {line}"),
        }
    }

    fn user(extra: &str, content: Value) -> String {
        let mut line =
            json!({"type": "user", "uuid": "u", "message": {"role": "user", "content": content}});
        if !extra.is_empty() {
            let extra: Map<String, Value> = serde_json::from_str(extra).unwrap();
            line.as_object_mut().unwrap().extend(extra);
        }
        line.to_string()
    }

    #[test]
    fn every_kind_is_told_apart() {
        use MessageKind::*;
        let cases: Vec<(String, MessageKind)> = vec![
            (user("", json!("fix the login bug")), Prompt),
            (user("", json!([{"type": "text", "text": "<ide_opened_file>The user opened the file /a.rs in the IDE.</ide_opened_file>"}, {"type": "text", "text": "why does this panic?"}])), Prompt),
            (user("", json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}])), Prompt),
            (user("", json!([{"type": "tool_result", "tool_use_id": "t", "content": "ok"}])), ToolResult),
            (user(r#"{"isMeta": true}"#, json!("Share this Claude Code session live with openctl")), Injected),
            (user(r#"{"isCompactSummary": true}"#, json!("This session is being continued from a previous conversation that ran out of context.")), CompactSummary),
            (user("", json!("<command-message>openctl:share</command-message>\n<command-name>/openctl:share</command-name>\n<command-args></command-args>")), Command),
            (user("", json!("<command-name>/model</command-name>\n            <command-message>model</command-message>\n            <command-args>opus</command-args>")), Command),
            (user("", json!("<local-command-stdout>Set model to \u{1b}[1mopus\u{1b}[22m</local-command-stdout>")), LocalOutput),
            (user("", json!("<bash-input>ls -la</bash-input>")), LocalOutput),
            (user("", json!("<bash-stdout>total 0</bash-stdout><bash-stderr></bash-stderr>")), LocalOutput),
            (user("", json!("<local-command-caveat>Caveat: The messages below were generated by the user while running local commands.</local-command-caveat>")), Injected),
            (user("", json!([{"type": "text", "text": "[Request interrupted by user for tool use]"}])), Injected),
            (user("", json!("Stop hook feedback:\n- run the tests first")), Injected),
            (user("", json!("<system-reminder>The TodoWrite tool hasn't been used recently.</system-reminder>")), Injected),
            (json!({"type": "assistant", "uuid": "a", "message": {"role": "assistant", "model": "claude-opus-4-1", "content": [{"type": "text", "text": "Done."}]}}).to_string(), Response),
            (json!({"type": "assistant", "uuid": "a", "message": {"role": "assistant", "model": "<synthetic>", "content": [{"type": "text", "text": "No response requested."}]}}).to_string(), Injected),
        ];
        for (line, want) in cases {
            assert_eq!(kind_of(&line), Some(want), "{line}");
        }
    }

    #[test]
    fn only_typed_prompts_make_titles() {
        let title = |line: String| {
            let obj: Map<String, Value> = serde_json::from_str(&line).unwrap();
            user_text_title(&obj)
        };
        assert_eq!(title(user("", json!("<command-message>openctl:share</command-message>\n<command-name>/openctl:share</command-name>"))), None);
        assert_eq!(
            title(user(r#"{"isMeta": true}"#, json!("Share this session"))),
            None
        );
        assert_eq!(
            title(user("", json!("<system-reminder>x</system-reminder>"))),
            None
        );
        assert_eq!(
            title(user(
                "",
                json!([{"type": "text", "text": "<ide_opened_file>The user opened the file /a.rs in the IDE.</ide_opened_file>"}, {"type": "text", "text": "why does   this panic?"}])
            )),
            Some("why does this panic?".to_string())
        );
    }

    #[test]
    fn titles_rank_custom_then_ai_then_prompt() {
        let (c, a, p) = (
            Title::Custom("c".into()),
            Title::Ai("a".into()),
            Title::Prompt("p".into()),
        );
        assert!(p.replaces(None));
        assert!(!p.replaces(Some(&Title::Prompt("first".into()))));
        assert!(a.replaces(Some(&p)) && a.replaces(Some(&Title::Ai("old".into()))));
        assert!(!a.replaces(Some(&c)));
        assert!(c.replaces(Some(&a)) && c.replaces(Some(&Title::Custom("old".into()))));
        assert!(!p.replaces(Some(&c)) && !p.replaces(Some(&a)));
    }
}
