//! The one place that decides how a session looks: every message kind and
//! block type becomes an HTML fragment here. The viewer page streams these
//! fragments as its server-rendered HTML, and the live event stream sends the
//! same fragments (`?view=html`), so a reader without JavaScript, a link
//! preview and the live page all see one rendering. viewer.js only places
//! fragments (a result into its call's card, a subagent's work under its
//! Task) and never builds content itself.
//!
//! Everything from a transcript is untrusted: text is escaped, markdown is
//! parsed by pulldown-cmark with raw HTML turned into text and links limited
//! to http(s)/mailto, images to inline base64 of known types. The CSP
//! (no inline script) is the second wall.

use std::collections::{HashMap, HashSet, VecDeque};

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::{Map, Value};

use super::highlight::{diff_lines, highlight, lang_of_path};
use super::store::RawMessage;
use crate::wire::StoredDiff;

/// Escape text for HTML text and double- or single-quoted attributes. CRs
/// are dropped, so fragments travel as Server-Sent Events unchanged.
pub fn esc(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            b'\r' => "",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// What the renderer knows about the session.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Shown paths under it are made relative.
    pub project: Option<String>,
    /// Calls without a result are "running" (live) or have "no result".
    pub live: bool,
}

/// A stored message as the renderer sees it.
#[derive(Debug, Clone)]
pub struct Msg {
    pub index: i64,
    pub role: String,
    pub kind: Option<String>,
    pub timestamp: Option<String>,
    pub agent_id: Option<String>,
    pub parent: Option<String>,
    pub blocks: Vec<Value>,
}

impl Msg {
    /// Read through the message's wire JSON, so fields the store returns
    /// (kind, subagent ids) arrive here as the API shows them.
    pub fn from_raw(m: &RawMessage) -> Msg {
        let v: Value = serde_json::from_str(&super::json::message_json(m)).unwrap_or(Value::Null);
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Msg {
            index: m.message_index,
            role: m.role.clone(),
            kind: s("kind"),
            timestamp: m.timestamp.clone(),
            agent_id: s("agent_id"),
            parent: s("parent_tool_use_id"),
            blocks: match v.get("content_blocks") {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            },
        }
    }

    fn is_sub(&self) -> bool {
        self.agent_id.is_some() || self.parent.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Prompt,
    Response,
    ToolResult,
    Command,
    Injected,
    Compact,
    Local,
}

fn kind_of(m: &Msg) -> Kind {
    match m.kind.as_deref() {
        Some("prompt") => Kind::Prompt,
        Some("response") => Kind::Response,
        Some("tool_result") => Kind::ToolResult,
        Some("command") => Kind::Command,
        Some("injected") => Kind::Injected,
        Some("compact_summary") => Kind::Compact,
        Some("local_output") => Kind::Local,
        // Older messages carry no kind: tell by role and blocks.
        _ if m.role == "assistant" => Kind::Response,
        _ if !m.blocks.is_empty() && m.blocks.iter().all(|b| block_type(b) == "tool_result") => {
            Kind::ToolResult
        }
        _ => Kind::Prompt,
    }
}

fn block_type(b: &Value) -> &str {
    b.get("type").and_then(Value::as_str).unwrap_or("")
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// `2026-11-24 10:00 UTC` (the page's script shows it in the reader's zone).
pub fn time_html(out: &mut String, ts: &str) {
    out.push_str("<time datetime=\"");
    esc(out, ts);
    out.push_str("\">");
    match crate::time::parse_rfc3339(ts) {
        Some(t) => {
            let s = humantime::format_rfc3339_seconds(t).to_string();
            out.push_str(&s[..10]);
            out.push(' ');
            out.push_str(&s[11..16]);
            out.push_str(" UTC");
        }
        None => esc(out, &ts.chars().take(40).collect::<String>()),
    }
    out.push_str("</time>");
}

/// Text longer than this is cut (with a note) in one block.
const MAX_TEXT: usize = 512 * 1024;
/// Markdown longer than this is shown as plain text.
const MAX_MARKDOWN: usize = 256 * 1024;
/// Outputs longer than this many lines show their head and "show all".
const CLAMP_LINES: usize = 12;
/// How far ahead (in messages) the page looks for a call's result.
pub const LOOKAHEAD: usize = 64;

fn cut(text: &str) -> (&str, usize) {
    if text.len() <= MAX_TEXT {
        return (text, 0);
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], text.len() - end)
}

/// Strip terminal colour codes and other control characters but newlines
/// and tabs.
fn strip_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .bytes()
        .any(|b| b == 0x1b || (b < 0x20 && b != b'\n' && b != b'\t' && b != b'\r'))
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                while let Some(&n) = chars.peek() {
                    chars.next();
                    if n.is_ascii_alphabetic() || n == '~' {
                        break;
                    }
                }
            }
            continue;
        }
        if c.is_control() && c != '\n' && c != '\t' && c != '\r' {
            continue;
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

// ---------------------------------------------------------------------------
// markdown

fn safe_url(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    (lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || u.starts_with('#'))
    .then_some(u)
}

fn link_open(url: &str) -> String {
    let mut s = String::from("<a href=\"");
    esc(&mut s, url);
    s.push_str("\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">");
    s
}

/// Bare http(s) URLs in `text` as links (GitHub's autolinks), the rest as
/// text events.
fn autolink<'a>(text: &str, events: &mut Vec<Event<'a>>) {
    let mut rest = text;
    while let Some(p) = rest.find("http") {
        let cand = &rest[p..];
        let scheme = if cand.starts_with("https://") {
            8
        } else if cand.starts_with("http://") {
            7
        } else {
            events.push(Event::Text(rest[..p + 4].to_string().into()));
            rest = &rest[p + 4..];
            continue;
        };
        let before_ok = rest[..p]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let mut end = cand
            .find(|c: char| c.is_whitespace() || "<>\"'`".contains(c))
            .unwrap_or(cand.len());
        while end > scheme && cand[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', ']']) {
            if cand[..end].ends_with(')')
                && cand[..end].matches('(').count() >= cand[..end].matches(')').count()
            {
                break;
            }
            end -= 1;
        }
        if !before_ok || end <= scheme {
            events.push(Event::Text(rest[..p + 4].to_string().into()));
            rest = &rest[p + 4..];
            continue;
        }
        if p > 0 {
            events.push(Event::Text(rest[..p].to_string().into()));
        }
        let url = &cand[..end];
        events.push(Event::Html(link_open(url).into()));
        events.push(Event::Text(url.to_string().into()));
        events.push(Event::Html("</a>".into()));
        rest = &cand[end..];
    }
    if !rest.is_empty() {
        events.push(Event::Text(rest.to_string().into()));
    }
}

fn shift(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// Markdown (CommonMark with GFM tables, task lists, strikethrough and
/// autolinks) as safe HTML in `<div class="md">`.
pub fn markdown(out: &mut String, text: &str) {
    let normalized;
    let text = if text.contains('\r') {
        normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        text
    };
    if text.len() > MAX_MARKDOWN {
        out.push_str("<div class=\"plain\">");
        let (shown, more) = cut(text);
        esc(out, shown);
        cut_note(out, more);
        out.push_str("</div>");
        return;
    }
    let opts = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH;
    let parser = pulldown_cmark::TextMergeStream::new(Parser::new_ext(text, opts));
    let mut events: Vec<Event<'_>> = Vec::new();
    // Per open link or image: whether its tag was written.
    let mut links: Vec<bool> = Vec::new();
    let mut code: Option<(String, String)> = None;
    for ev in parser {
        if let Some((lang, buf)) = code.as_mut() {
            match ev {
                Event::Text(t) => buf.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let mut html = String::from("<pre class=\"code\"");
                    if !lang.is_empty() {
                        html.push_str(" data-lang=\"");
                        esc(&mut html, lang);
                        html.push('"');
                    }
                    html.push_str("><code>");
                    highlight(&mut html, lang, buf.strip_suffix('\n').unwrap_or(buf));
                    html.push_str("</code></pre>");
                    events.push(Event::Html(html.into()));
                    code = None;
                }
                _ => {}
            }
            continue;
        }
        match ev {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => l
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            Event::Start(Tag::HtmlBlock) => events.push(Event::Html("<p class=\"html\">".into())),
            Event::End(TagEnd::HtmlBlock) => events.push(Event::Html("</p>".into())),
            Event::Html(t) | Event::InlineHtml(t) => events.push(Event::Text(t)),
            Event::Start(Tag::Heading { level, .. }) => events.push(Event::Start(Tag::Heading {
                level: shift(level),
                id: None,
                classes: Vec::new(),
                attrs: Vec::new(),
            })),
            Event::End(TagEnd::Heading(level)) => {
                events.push(Event::End(TagEnd::Heading(shift(level))))
            }
            Event::Start(Tag::Link { dest_url, .. }) => match safe_url(&dest_url) {
                Some(url) => {
                    events.push(Event::Html(link_open(url).into()));
                    links.push(true);
                }
                None => links.push(false),
            },
            Event::End(TagEnd::Link) => {
                if links.pop() == Some(true) {
                    events.push(Event::Html("</a>".into()));
                }
            }
            // Images from elsewhere are links (the page loads nothing from
            // other hosts).
            Event::Start(Tag::Image { dest_url, .. }) => match safe_url(&dest_url) {
                Some(url) if !url.starts_with('#') => {
                    let mut html = link_open(url);
                    html.insert_str(2, " class=\"md-img\"");
                    events.push(Event::Html(html.into()));
                    events.push(Event::Text("image: ".into()));
                    links.push(true);
                }
                _ => links.push(false),
            },
            Event::End(TagEnd::Image) => {
                if links.pop() == Some(true) {
                    events.push(Event::Html("</a>".into()));
                }
            }
            Event::Text(t) if links.is_empty() && t.contains("http") => autolink(&t, &mut events),
            other => events.push(other),
        }
    }
    out.push_str("<div class=\"md\">");
    pulldown_cmark::html::push_html(out, events.into_iter());
    out.push_str("</div>");
}

// ---------------------------------------------------------------------------
// small pieces

fn cut_note(out: &mut String, more: usize) {
    if more > 0 {
        out.push_str("<span class=\"cut\">… ");
        out.push_str(&more.to_string());
        out.push_str(" more bytes not shown (the API has the full text)</span>");
    }
}

/// Text in `<pre>`, highlighted for `lang`, its first lines shown and the
/// rest behind "show all" (a `<details>`: no script needed, and the
/// browser's find opens it).
fn clamped_pre(out: &mut String, class: &str, lang: Option<&str>, text: &str, keep: usize) {
    let (text, more) = cut(text);
    let text = text.strip_suffix('\n').unwrap_or(text);
    let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
    let split = if lines > keep + 3 {
        memchr::memchr_iter(b'\n', text.as_bytes()).nth(keep - 1)
    } else {
        None
    };
    let pre = |out: &mut String, extra: &str, body: &str| {
        out.push_str("<pre class=\"");
        out.push_str(class);
        if !extra.is_empty() {
            out.push(' ');
            out.push_str(extra);
        }
        out.push_str("\">");
        match lang {
            Some(l) => highlight(out, l, body),
            None => esc(out, body),
        }
        out.push_str("</pre>");
    };
    match split {
        Some(p) => {
            pre(out, "head-lines", &text[..p]);
            out.push_str("<details class=\"more\"><summary>Show all ");
            out.push_str(&lines.to_string());
            out.push_str(" lines</summary>");
            pre(out, "", &text[p + 1..]);
            out.push_str("</details>");
        }
        None => pre(out, "", text),
    }
    cut_note(out, more);
}

fn image(out: &mut String, block: &Value) {
    let src = block.get("source").unwrap_or(&Value::Null);
    let media = str_field(src, "media_type").unwrap_or("");
    match str_field(src, "type") {
        Some("base64")
            if matches!(
                media,
                "image/png" | "image/jpeg" | "image/gif" | "image/webp"
            ) =>
        {
            let data = str_field(src, "data").unwrap_or("");
            if data
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=\n ".contains(&b))
            {
                out.push_str("<img class=\"image\" alt=\"image from the session\" loading=\"lazy\" src=\"data:");
                out.push_str(media);
                out.push_str(";base64,");
                out.extend(data.chars().filter(|c| !c.is_whitespace()));
                out.push_str("\">");
                return;
            }
        }
        Some("url") => {
            if let Some(url) = str_field(src, "url").and_then(safe_url) {
                out.push_str(&link_open(url).replace("<a ", "<a class=\"image-link\" "));
                out.push_str("image: ");
                esc(out, url);
                out.push_str("</a>");
                return;
            }
        }
        _ => {}
    }
    out.push_str("<div class=\"muted\">[image]</div>");
}

fn other_block(out: &mut String, block: &Value) {
    out.push_str("<details class=\"other\"><summary>");
    esc(
        out,
        block
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown"),
    );
    out.push_str(" block</summary><pre class=\"code\">");
    let json = serde_json::to_string_pretty(block).unwrap_or_default();
    esc(out, cut(&json).0);
    out.push_str("</pre></details>");
}

/// The first line of `text`, at most `max` characters.
fn first_line(text: &str, max: usize) -> String {
    let line = text.trim().lines().next().unwrap_or("");
    let mut s: String = line.chars().take(max).collect();
    if line.chars().count() > max || text.trim().lines().nth(1).is_some() {
        s.push('…');
    }
    s
}

/// Content of `<tag>…</tag>` in `text`.
fn tag_content<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..]
        .find(&format!("</{tag}>"))
        .map_or(text.len(), |e| start + e);
    Some(&text[start..end])
}

/// All text blocks of a message, joined.
fn message_text(m: &Msg) -> String {
    let mut s = String::new();
    for b in &m.blocks {
        if let Some(t) = b.get("text").and_then(Value::as_str) {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(t);
        }
    }
    s
}

// ---------------------------------------------------------------------------
// messages

/// Renders messages; in page mode it looks ahead for results of calls.
struct Renderer<'a> {
    ctx: &'a Ctx,
    ahead: &'a VecDeque<Msg>,
    consumed: &'a mut HashMap<i64, Vec<usize>>,
    anchored: &'a mut HashSet<i64>,
    out: &'a mut String,
}

impl<'a> Renderer<'a> {
    /// ` id="m-<index>"` for the first element a message puts on the page.
    fn anchor(&mut self, index: i64) {
        if self.anchored.insert(index) {
            self.out.push_str(" id=\"m-");
            self.out.push_str(&index.to_string());
            self.out.push('"');
        }
    }

    fn head(&mut self, m: &Msg, who: &str) {
        self.out
            .push_str("<div class=\"head\"><span class=\"who\">");
        self.out.push_str(who);
        self.out.push_str("</span>");
        self.permalink(m);
        self.out.push_str("</div>");
    }

    fn permalink(&mut self, m: &Msg) {
        self.out.push_str("<a class=\"ts\" href=\"#m-");
        self.out.push_str(&m.index.to_string());
        self.out.push_str("\">");
        match &m.timestamp {
            Some(ts) => time_html(self.out, ts),
            None => self.out.push('#'),
        }
        self.out.push_str("</a>");
    }

    fn open(&mut self, m: &Msg, tag: &str, class: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push_str(" class=\"");
        self.out.push_str(class);
        if m.is_sub() {
            self.out.push_str(" sub");
        }
        self.out.push('"');
        self.anchor(m.index);
        self.out.push_str(" data-i=\"");
        self.out.push_str(&m.index.to_string());
        self.out.push_str("\">");
    }

    fn message(&mut self, m: &Msg) {
        let skip = self.consumed.remove(&m.index).unwrap_or_default();
        let blocks: Vec<(usize, &Value)> = m
            .blocks
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .collect();
        if blocks.is_empty() && !skip.is_empty() {
            return; // every block went into a card above
        }
        match kind_of(m) {
            Kind::Prompt => {
                self.open(m, "div", "msg prompt");
                self.head(m, if m.is_sub() { "Task prompt" } else { "You" });
                self.out.push_str("<div class=\"body\">");
                for (_, b) in blocks {
                    match block_type(b) {
                        "text" => {
                            self.out.push_str("<div class=\"prompt-text\">");
                            let (t, more) = cut(str_field(b, "text").unwrap_or(""));
                            esc(self.out, t.trim_end());
                            cut_note(self.out, more);
                            self.out.push_str("</div>");
                        }
                        _ => self.block(m, b),
                    }
                }
                self.out.push_str("</div></div>");
            }
            Kind::Response => {
                self.open(m, "div", "msg resp");
                self.head(m, if m.is_sub() { "Subagent" } else { "Claude" });
                self.out.push_str("<div class=\"body\">");
                for (_, b) in blocks {
                    self.block(m, b);
                }
                self.out.push_str("</div></div>");
            }
            Kind::ToolResult => {
                for (_, b) in blocks {
                    if block_type(b) == "tool_result" {
                        self.result(m.index, b, true);
                    } else {
                        self.open(m, "div", "msg note");
                        self.block(m, b);
                        self.out.push_str("</div>");
                    }
                }
            }
            Kind::Command => {
                let text = message_text(m);
                let name = tag_content(&text, "command-name")
                    .map(str::trim)
                    .unwrap_or_else(|| text.trim());
                let args = tag_content(&text, "command-args")
                    .map(str::trim)
                    .unwrap_or("");
                self.open(m, "div", "msg cmd");
                self.out.push_str("<span class=\"chip\">");
                esc(self.out, &first_line(name, 120));
                if !args.is_empty() {
                    self.out.push(' ');
                    esc(self.out, &first_line(args, 200));
                }
                self.out.push_str("</span>");
                self.permalink(m);
                self.out.push_str("</div>");
            }
            Kind::Local => {
                let text = message_text(m);
                let text = strip_ansi(&text);
                let input = tag_content(&text, "bash-input");
                let output: Vec<&str> = [
                    "bash-stdout",
                    "bash-stderr",
                    "local-command-stdout",
                    "local-command-stderr",
                ]
                .iter()
                .filter_map(|t| tag_content(&text, t))
                .filter(|s| !s.trim().is_empty())
                .collect();
                self.open(m, "details", "msg sys local");
                self.out.push_str("<summary><span class=\"chip\">");
                match input {
                    Some(cmd) => {
                        self.out.push_str("! ");
                        esc(self.out, &first_line(cmd, 160));
                    }
                    None => self.out.push_str("local command output"),
                }
                self.out.push_str("</span>");
                if input.is_some() || !output.is_empty() {
                    self.out.push_str(" <span class=\"preview\">");
                    esc(
                        self.out,
                        &first_line(output.first().copied().unwrap_or(""), 100),
                    );
                    self.out.push_str("</span>");
                }
                self.permalink(m);
                self.out.push_str("</summary>");
                if input.is_none() && output.is_empty() {
                    clamped_pre(self.out, "code", None, &text, CLAMP_LINES);
                }
                for o in output {
                    clamped_pre(self.out, "code", None, o.trim_end(), CLAMP_LINES);
                }
                self.out.push_str("</details>");
            }
            Kind::Injected | Kind::Compact => {
                let compact = kind_of(m) == Kind::Compact;
                let text = message_text(m);
                self.open(
                    m,
                    "details",
                    if compact {
                        "msg sys compact"
                    } else {
                        "msg sys"
                    },
                );
                self.out.push_str("<summary><span class=\"sys-label\">");
                self.out.push_str(if compact {
                    "Conversation compacted"
                } else if m.is_sub() {
                    "Task prompt"
                } else {
                    "Claude Code"
                });
                self.out.push_str("</span> <span class=\"preview\">");
                let preview = text
                    .trim_start()
                    .strip_prefix("<system-reminder>")
                    .unwrap_or(&text);
                esc(self.out, &first_line(preview, 120));
                self.out.push_str("</span>");
                self.permalink(m);
                self.out.push_str("</summary><div class=\"body\">");
                if compact || m.is_sub() {
                    markdown(self.out, &text);
                } else {
                    self.out.push_str("<div class=\"plain\">");
                    let (t, more) = cut(&text);
                    esc(self.out, t);
                    cut_note(self.out, more);
                    self.out.push_str("</div>");
                }
                for b in m.blocks.iter().filter(|b| block_type(b) != "text") {
                    self.block(m, b);
                }
                self.out.push_str("</div></details>");
            }
        }
    }

    fn block(&mut self, m: &Msg, b: &Value) {
        match block_type(b) {
            "text" => {
                let t = str_field(b, "text").unwrap_or("");
                if !t.trim().is_empty() {
                    markdown(self.out, t);
                }
            }
            "thinking" => {
                let t = str_field(b, "thinking").unwrap_or("");
                if !t.trim().is_empty() {
                    self.out
                        .push_str("<details class=\"thinking\"><summary>Thinking</summary>");
                    markdown(self.out, t);
                    self.out.push_str("</details>");
                }
            }
            "redacted_thinking" => self
                .out
                .push_str("<div class=\"thinking redacted\">Thinking (redacted)</div>"),
            "tool_use" | "server_tool_use" => self.tool(m, b),
            "tool_result" => self.result(m.index, b, true),
            "image" => image(self.out, b),
            _ => other_block(self.out, b),
        }
    }

    /// Find the result of call `id` in the messages ahead, taking it.
    fn take_result(&mut self, id: &str) -> Option<(i64, &'a Value)> {
        let ahead = self.ahead;
        for m in ahead {
            for (i, b) in m.blocks.iter().enumerate() {
                if block_type(b) == "tool_result" && str_field(b, "tool_use_id") == Some(id) {
                    let taken = self.consumed.entry(m.index).or_default();
                    if taken.contains(&i) {
                        continue;
                    }
                    taken.push(i);
                    return Some((m.index, b));
                }
            }
        }
        None
    }

    fn tool(&mut self, m: &Msg, b: &Value) {
        let name = str_field(b, "name").unwrap_or("tool");
        let id = str_field(b, "id");
        let input = b.get("input").unwrap_or(&Value::Null);
        let found = id.and_then(|id| self.take_result(id));
        let error = found.is_some_and(|(_, r)| r.get("is_error") == Some(&Value::Bool(true)));
        self.out.push_str("<div class=\"tool");
        if error {
            self.out.push_str(" error");
        }
        self.out.push_str("\" data-tool=\"");
        esc(self.out, name);
        self.out
            .push_str("\"><div class=\"tool-head\"><span class=\"tool-name\">");
        esc(self.out, name);
        let summary = self.summary(name, input);
        self.out
            .push_str("</span><span class=\"tool-sum\" title=\"");
        esc(self.out, &summary);
        self.out.push_str("\">");
        esc(self.out, &summary);
        self.out.push_str("</span></div><div class=\"tool-in\">");
        self.tool_input(name, input);
        self.out.push_str("</div>");
        if matches!(name, "Task" | "Agent") {
            if let Some(id) = id {
                self.out.push_str("<div class=\"agent\" id=\"sub-");
                esc(self.out, id);
                self.out.push_str("\"></div>");
            }
        }
        match (found, id) {
            (Some((index, r)), _) => self.result(index, r, false),
            (None, Some(id)) => {
                self.out.push_str("<div class=\"out pending\" id=\"r-");
                esc(self.out, id);
                self.out.push_str("\">");
                self.out.push_str(if self.ctx.live {
                    "running…"
                } else {
                    "no result"
                });
                self.out.push_str("</div>");
            }
            (None, None) => {}
        }
        self.out.push_str("</div>");
        let _ = m;
    }

    fn path(&self, p: &str) -> String {
        if let Some(root) = self.ctx.project.as_deref().filter(|r| !r.is_empty()) {
            if let Some(rel) = p.strip_prefix(root).and_then(|r| r.strip_prefix('/')) {
                if !rel.is_empty() {
                    return rel.to_string();
                }
            }
        }
        p.to_string()
    }

    fn summary(&self, name: &str, input: &Value) -> String {
        let s = |k: &str| str_field(input, k).unwrap_or("");
        let text = match name {
            "Bash" => {
                if s("description").is_empty() {
                    s("command").to_string()
                } else {
                    s("description").to_string()
                }
            }
            "Read" | "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => self.path(
                str_field(input, "file_path")
                    .or(str_field(input, "notebook_path"))
                    .unwrap_or(""),
            ),
            "Grep" | "Glob" => s("pattern").to_string(),
            "Task" | "Agent" => s("description").to_string(),
            "WebFetch" => s("url").to_string(),
            "WebSearch" => s("query").to_string(),
            "TodoWrite" => {
                let todos = input.get("todos").and_then(Value::as_array);
                let n = todos.map_or(0, Vec::len);
                let done = todos.map_or(0, |t| {
                    t.iter()
                        .filter(|t| str_field(t, "status") == Some("completed"))
                        .count()
                });
                format!("{done}/{n} done")
            }
            _ => [
                "description",
                "command",
                "file_path",
                "path",
                "pattern",
                "url",
                "query",
            ]
            .iter()
            .find_map(|k| str_field(input, k))
            .unwrap_or("")
            .to_string(),
        };
        first_line(&text, 160)
    }

    fn tool_input(&mut self, name: &str, input: &Value) {
        let s = |k: &str| str_field(input, k);
        match name {
            "Bash" if s("command").is_some() => {
                let cmd = s("command").unwrap_or("");
                self.out
                    .push_str("<pre class=\"code sh\"><span class=\"dollar\">$ </span>");
                let (cmd, more) = cut(cmd);
                highlight(self.out, "sh", cmd);
                self.out.push_str("</pre>");
                cut_note(self.out, more);
            }
            // The path is in the card's head.
            "Edit" if s("old_string").is_some() || s("new_string").is_some() => {
                edit_diff(
                    self.out,
                    s("old_string").unwrap_or(""),
                    s("new_string").unwrap_or(""),
                );
            }
            "MultiEdit" if input.get("edits").is_some_and(Value::is_array) => {
                for e in input["edits"].as_array().into_iter().flatten() {
                    edit_diff(
                        self.out,
                        str_field(e, "old_string").unwrap_or(""),
                        str_field(e, "new_string").unwrap_or(""),
                    );
                }
            }
            "Write" if s("content").is_some() => {
                let path = s("file_path").unwrap_or("");
                clamped_pre(
                    self.out,
                    "code",
                    Some(lang_of_path(path)),
                    s("content").unwrap_or(""),
                    CLAMP_LINES,
                );
            }
            "Read" if s("file_path").is_some() => {
                let range: Vec<String> = ["offset", "limit"]
                    .iter()
                    .filter_map(|k| input.get(*k).map(|v| format!("{k} {v}")))
                    .collect();
                if !range.is_empty() {
                    self.out.push_str("<div class=\"kv-inline\">");
                    esc(self.out, &range.join(", "));
                    self.out.push_str("</div>");
                }
            }
            "Grep" | "Glob" if s("pattern").is_some() => {
                let rest: Map<String, Value> = input
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .filter(|(k, _)| *k != "pattern")
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                self.key_values(&rest);
            }
            "Task" | "Agent" if s("prompt").is_some() => {
                if let Some(t) = s("subagent_type") {
                    self.out.push_str("<span class=\"chip\">");
                    esc(self.out, t);
                    self.out.push_str("</span>");
                }
                self.out
                    .push_str("<details class=\"prompt-of\"><summary>Prompt</summary>");
                markdown(self.out, s("prompt").unwrap_or(""));
                self.out.push_str("</details>");
            }
            "TodoWrite" if input.get("todos").is_some_and(Value::is_array) => {
                self.out.push_str("<ul class=\"todos\">");
                for t in input["todos"].as_array().into_iter().flatten() {
                    let status = str_field(t, "status").unwrap_or("pending");
                    self.out.push_str("<li class=\"");
                    self.out.push_str(match status {
                        "completed" => "done",
                        "in_progress" => "doing",
                        _ => "todo",
                    });
                    self.out.push_str("\">");
                    esc(self.out, str_field(t, "content").unwrap_or(""));
                    self.out.push_str("</li>");
                }
                self.out.push_str("</ul>");
            }
            _ => match input.as_object() {
                Some(o) => self.key_values(o),
                None if input.is_null() => {}
                None => {
                    self.out.push_str("<pre class=\"code\">");
                    esc(self.out, &input.to_string());
                    self.out.push_str("</pre>");
                }
            },
        }
    }

    fn key_values(&mut self, o: &Map<String, Value>) {
        if o.is_empty() {
            return;
        }
        self.out.push_str("<dl class=\"kv\">");
        for (k, v) in o {
            self.out.push_str("<dt>");
            esc(self.out, k);
            self.out.push_str("</dt><dd>");
            match v {
                Value::String(s) if s.contains('\n') => clamped_pre(self.out, "code", None, s, 6),
                Value::String(s) => esc(self.out, cut(s).0),
                other => {
                    let json = other.to_string();
                    let (shown, more) = cut(&json);
                    self.out.push_str("<code>");
                    esc(self.out, shown);
                    self.out.push_str("</code>");
                    cut_note(self.out, more);
                }
            }
            self.out.push_str("</dd>");
        }
        self.out.push_str("</dl>");
    }

    /// A tool result: inside its call's card, or on its own in the flow
    /// (`orphan`), where the page's script joins it to its call.
    fn result(&mut self, index: i64, b: &Value, in_flow: bool) {
        let error = b.get("is_error") == Some(&Value::Bool(true));
        let mut text = String::new();
        let mut images = Vec::new();
        match b.get("content") {
            Some(Value::String(s)) => text.push_str(s),
            Some(Value::Array(parts)) => {
                for p in parts {
                    match block_type(p) {
                        "text" => {
                            if !text.is_empty() {
                                text.push('\n');
                            }
                            text.push_str(str_field(p, "text").unwrap_or(""));
                        }
                        "image" => images.push(p),
                        _ => {
                            if !text.is_empty() {
                                text.push('\n');
                            }
                            text.push_str(&p.to_string());
                        }
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(other) => text.push_str(&other.to_string()),
        }
        let text = strip_ansi(&text);
        let empty = text.trim().is_empty() && images.is_empty();
        self.out.push_str("<div class=\"out ");
        self.out.push_str(if error { "err" } else { "ok" });
        if empty {
            self.out.push_str(" empty");
        }
        if in_flow {
            self.out.push_str(" orphan");
        }
        self.out.push('"');
        if let Some(id) = str_field(b, "tool_use_id") {
            self.out.push_str(" data-for=\"");
            esc(self.out, id);
            self.out.push('"');
        }
        self.anchor(index);
        self.out.push('>');
        if error {
            self.out.push_str("<div class=\"out-label\">Error</div>");
        } else if in_flow {
            self.out
                .push_str("<div class=\"out-label\">Tool result</div>");
        }
        if empty {
            self.out.push_str("<span class=\"muted\">no output</span>");
        } else if !text.trim().is_empty() {
            clamped_pre(self.out, "code", None, text.trim_end(), CLAMP_LINES);
        }
        for i in images {
            image(self.out, i);
        }
        self.out.push_str("</div>");
    }
}

/// Old and new text of an edit as a line diff (common lines as context).
fn edit_diff(out: &mut String, old: &str, new: &str) {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let pre = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    // (tag, line): ' ' context, '-' removed, '+' added.
    let mut ops: Vec<(char, &str)> = a[pre.saturating_sub(3)..pre]
        .iter()
        .map(|l| (' ', *l))
        .collect();
    if ma.len() * mb.len() <= 40_000 {
        // Longest common subsequence of the changed middle.
        let (n, m) = (ma.len(), mb.len());
        let mut t = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                t[i * (m + 1) + j] = if ma[i] == mb[j] {
                    t[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                ops.push((' ', ma[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) {
                ops.push(('-', ma[i]));
                i += 1;
            } else {
                ops.push(('+', mb[j]));
                j += 1;
            }
        }
    } else {
        ops.extend(ma.iter().map(|l| ('-', *l)));
        ops.extend(mb.iter().map(|l| ('+', *l)));
    }
    ops.extend(a[a.len() - suf..].iter().take(3).map(|l| (' ', *l)));
    let mut text = String::new();
    for (tag, line) in ops {
        text.push(tag);
        text.push_str(line);
        text.push('\n');
    }
    out.push_str("<pre class=\"diff\">");
    let (shown, more) = cut(&text);
    diff_lines(out, shown.strip_suffix('\n').unwrap_or(shown));
    out.push_str("</pre>");
    cut_note(out, more);
}

// ---------------------------------------------------------------------------
// conversations

/// One message as a fragment of the live stream: no look-ahead (the page's
/// script joins results and subagent work as they come).
pub fn fragment(ctx: &Ctx, m: &Msg) -> String {
    let mut out = String::with_capacity(512);
    let ahead = VecDeque::new();
    let mut consumed = HashMap::new();
    let mut anchored = HashSet::new();
    if m.is_sub() {
        open_subrun(&mut out, m);
    }
    Renderer {
        ctx,
        ahead: &ahead,
        consumed: &mut consumed,
        anchored: &mut anchored,
        out: &mut out,
    }
    .message(m);
    if m.is_sub() {
        out.push_str("</div>");
    }
    out
}

fn open_subrun(out: &mut String, m: &Msg) {
    out.push_str("<div class=\"subrun\"");
    for (k, v) in [("data-agent", &m.agent_id), ("data-parent", &m.parent)] {
        if let Some(v) = v {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            esc(out, v);
            out.push('"');
        }
    }
    out.push('>');
}

/// The page's conversation, rendered as messages are fed in order: each is
/// written once the next [`LOOKAHEAD`] messages are known, so a call's card
/// holds its result. Memory stays bounded by the window.
pub struct Conversation {
    ctx: Ctx,
    ahead: VecDeque<Msg>,
    consumed: HashMap<i64, Vec<usize>>,
    anchored: HashSet<i64>,
    /// (agent, parent) of the open subagent run.
    subrun: Option<(Option<String>, Option<String>)>,
    /// Messages written into the open chunk, if one is open.
    chunk: Option<usize>,
    /// Index after the last message written.
    pub next: i64,
}

/// Messages per `<div class="chunk">`: the page lays out and paints whole
/// chunks as they come into view (CSS content-visibility), so the browser
/// tracks a few hundred boxes instead of one per message.
const CHUNK_MESSAGES: usize = 50;

impl Conversation {
    pub fn new(ctx: Ctx) -> Conversation {
        Conversation {
            ctx,
            ahead: VecDeque::new(),
            consumed: HashMap::new(),
            anchored: HashSet::new(),
            subrun: None,
            chunk: None,
            next: 0,
        }
    }

    /// Feed the next message; writes what is ready to `out`.
    pub fn push(&mut self, m: Msg, out: &mut String) {
        self.ahead.push_back(m);
        while self.ahead.len() > LOOKAHEAD {
            self.write_front(out);
        }
    }

    /// Write everything still held.
    pub fn finish(&mut self, out: &mut String) {
        while !self.ahead.is_empty() {
            self.write_front(out);
        }
        if self.subrun.take().is_some() {
            out.push_str("</div>");
        }
        if self.chunk.take().is_some() {
            out.push_str("</div>");
        }
    }

    fn write_front(&mut self, out: &mut String) {
        let Some(m) = self.ahead.pop_front() else {
            return;
        };
        let run = m.is_sub().then(|| (m.agent_id.clone(), m.parent.clone()));
        let fully_consumed = self
            .consumed
            .get(&m.index)
            .is_some_and(|c| c.len() >= m.blocks.len());
        if fully_consumed {
            // Its results went into cards above: nothing of it is left.
            self.consumed.remove(&m.index);
            self.anchored.remove(&m.index);
            self.next = m.index + 1;
            return;
        }
        let written = match self.chunk {
            Some(n) => n,
            None => {
                out.push_str("<div class=\"chunk\">");
                0
            }
        };
        if run != self.subrun {
            if self.subrun.is_some() {
                out.push_str("</div>");
            }
            if run.is_some() {
                open_subrun(out, &m);
            }
            self.subrun = run;
        }
        Renderer {
            ctx: &self.ctx,
            ahead: &self.ahead,
            consumed: &mut self.consumed,
            anchored: &mut self.anchored,
            out,
        }
        .message(&m);
        self.anchored.remove(&m.index);
        self.next = m.index + 1;
        self.chunk = Some(written + 1);
        if written + 1 >= CHUNK_MESSAGES && self.subrun.is_none() {
            out.push_str("</div>");
            self.chunk = None;
        }
    }
}

// ---------------------------------------------------------------------------
// the session diff

/// Lines of a session diff shown in the page; beyond, files are listed
/// with their counts only.
const MAX_DIFF_LINES: usize = 20_000;

/// The session's diff: a `<details>` per file with its +/- counts.
pub fn diff_html(out: &mut String, d: &StoredDiff) {
    out.push_str("<details class=\"diff-all\" open><summary><span class=\"diff-title\">Changes in this session</span> <span class=\"diff-stats\">");
    out.push_str(&format!(
        "{} {} <span class=\"add\">+{}</span> <span class=\"del\">−{}</span>",
        d.files_changed,
        if d.files_changed == 1 {
            "file"
        } else {
            "files"
        },
        d.additions,
        d.deletions
    ));
    out.push_str("</span></summary><div id=\"diff\" class=\"diff\">");
    let mut files: Vec<(String, &str)> = Vec::new();
    let text = d.diff.as_str();
    let git = text.starts_with("diff --git ") || text.contains("\ndiff --git ");
    let (mut start, mut pos) = (0, 0);
    let (mut name, mut old) = (String::new(), String::new());
    for line in text.split_inclusive('\n') {
        let head = if git {
            line.starts_with("diff --git ")
        } else {
            line.starts_with("--- ")
        };
        if head && pos > start {
            files.push((std::mem::take(&mut name), &text[start..pos]));
            start = pos;
        }
        let path = |p: &str, strip: &str| {
            let p = p.trim_end();
            p.strip_prefix(strip).unwrap_or(p).to_string()
        };
        if let Some(rest) = line.strip_prefix("--- ") {
            old = path(rest, "a/");
        } else if let Some(rest) = line.strip_prefix("+++ ") {
            name = path(rest, "b/");
            if name == "/dev/null" {
                name = old.clone();
            }
        } else if let Some(rest) = line.strip_prefix("diff --git ") {
            name = path(rest.rsplit(" b/").next().unwrap_or(rest), "");
        }
        pos += line.len();
    }
    if pos > start {
        files.push((name, &text[start..pos]));
    }
    let mut shown = 0;
    let many = files.len() > 20 || d.additions + d.deletions > 600;
    for (name, body) in files {
        let (mut add, mut del) = (0, 0);
        for l in body.lines() {
            if l.starts_with('+') && !l.starts_with("+++ ") {
                add += 1;
            } else if l.starts_with('-') && !l.starts_with("--- ") {
                del += 1;
            }
        }
        out.push_str("<details class=\"file-diff\"");
        if !many {
            out.push_str(" open");
        }
        out.push_str("><summary><span class=\"path\">");
        esc(
            out,
            if name.is_empty() || name == "/dev/null" {
                "(file)"
            } else {
                &name
            },
        );
        out.push_str(&format!(
            "</span> <span class=\"add\">+{add}</span> <span class=\"del\">−{del}</span></summary>"
        ));
        let lines = body.lines().count();
        if shown + lines > MAX_DIFF_LINES {
            out.push_str("<p class=\"muted\">Too large to show here; the API has the full diff.</p></details>");
            continue;
        }
        shown += lines;
        out.push_str("<pre class=\"diff\">");
        diff_lines(out, body.strip_suffix('\n').unwrap_or(body));
        out.push_str("</pre></details>");
    }
    out.push_str("</div></details>");
}

/// A short plain-text description of the session for link previews: the
/// first prompt.
pub fn first_prompt(m: &Msg) -> Option<String> {
    if kind_of(m) != Kind::Prompt || m.is_sub() {
        return None;
    }
    let t = message_text(m);
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then(|| {
        let mut s: String = t.chars().take(200).collect();
        if t.chars().count() > 200 {
            s.push('…');
        }
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(index: i64, role: &str, kind: Option<&str>, blocks: Value) -> Msg {
        Msg {
            index,
            role: role.into(),
            kind: kind.map(str::to_string),
            timestamp: Some("2026-11-24T10:00:05.000Z".into()),
            agent_id: None,
            parent: None,
            blocks: blocks.as_array().cloned().unwrap_or_default(),
        }
    }

    fn page(msgs: Vec<Msg>) -> String {
        let mut c = Conversation::new(Ctx {
            project: Some("/home/me/app".into()),
            live: false,
        });
        let mut out = String::new();
        for m in msgs {
            c.push(m, &mut out);
        }
        c.finish(&mut out);
        out
    }

    fn md(text: &str) -> String {
        let mut out = String::new();
        markdown(&mut out, text);
        out
    }

    #[test]
    fn markdown_tables_lists_tasks_and_strikethrough() {
        let out = md("| a | b |\n|---|---|\n| 1 | 2 |\n\n3. three\n4. four\n\n- [x] done\n- [ ] open\n\n~~old~~");
        assert!(
            out.contains("<table>") && out.contains("<td>1</td>"),
            "{out}"
        );
        assert!(out.contains("<ol start=\"3\">"), "{out}");
        assert!(out.contains("checked"), "{out}");
        assert!(out.contains("<del>old</del>"), "{out}");
    }

    #[test]
    fn markdown_never_passes_markup_or_unsafe_links() {
        let out = md("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(2)> [x](javascript:alert(3)) [y](JaVaScRiPt:alert(4)) ![i](javascript:alert(5)) [ok](https://example.com/?a=\"b\") <https://auto.example/> and https://bare.example/x.");
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.to_lowercase().contains("javascript:alert"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(
            out.contains("href=\"https://example.com/?a=%22b%22\"")
                || out.contains("href=\"https://example.com/?a=&quot;b&quot;\""),
            "{out}"
        );
        assert!(out.contains("href=\"https://auto.example/\""), "{out}");
        assert!(out.contains("href=\"https://bare.example/x\""), "{out}");
    }

    #[test]
    fn headings_shift_and_code_is_highlighted() {
        let out = md("## Plan\n\n```rust\nfn main() {}\n```");
        assert!(out.contains("<h4>Plan</h4>"), "{out}");
        assert!(
            out.contains("data-lang=\"rust\"") && out.contains("<span class=\"k\">fn</span>"),
            "{out}"
        );
    }

    #[test]
    fn a_call_holds_its_result_and_the_result_keeps_its_permalink() {
        let out = page(vec![
            msg(
                0,
                "assistant",
                Some("response"),
                json!([
                {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls", "description": "List"}}]),
            ),
            msg(
                1,
                "user",
                Some("tool_result"),
                json!([
                {"type": "tool_result", "tool_use_id": "t1", "content": "a\nb", "is_error": true}]),
            ),
        ]);
        assert!(out.contains("<div class=\"tool error\""), "{out}");
        assert!(
            out.contains("class=\"out err\" data-for=\"t1\" id=\"m-1\""),
            "{out}"
        );
        assert!(!out.contains("orphan"), "{out}");
        assert!(!out.contains("pending"), "{out}");
    }

    #[test]
    fn live_fragments_leave_a_slot_and_an_orphan_for_the_script() {
        let ctx = Ctx {
            project: None,
            live: true,
        };
        let call = fragment(
            &ctx,
            &msg(
                0,
                "assistant",
                None,
                json!([
            {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "/x/y.rs"}}]),
            ),
        );
        assert!(
            call.contains("class=\"out pending\" id=\"r-t1\">running…"),
            "{call}"
        );
        let result = fragment(
            &ctx,
            &msg(
                1,
                "user",
                None,
                json!([
            {"type": "tool_result", "tool_use_id": "t1", "content": ""}]),
            ),
        );
        assert!(
            result.contains("out ok empty orphan") && result.contains("no output"),
            "{result}"
        );
    }

    #[test]
    fn kinds_render_as_what_they_are() {
        let out = page(vec![
            msg(
                0,
                "user",
                Some("command"),
                json!([{"type": "text", "text": "<command-name>/model</command-name>\n<command-args>opus</command-args>"}]),
            ),
            msg(
                1,
                "user",
                Some("injected"),
                json!([{"type": "text", "text": "<system-reminder>be brief</system-reminder>"}]),
            ),
            msg(
                2,
                "user",
                Some("compact_summary"),
                json!([{"type": "text", "text": "We did **things**."}]),
            ),
            msg(
                3,
                "user",
                Some("local_output"),
                json!([{"type": "text", "text": "<bash-input>ls</bash-input>"}]),
            ),
            msg(
                4,
                "assistant",
                Some("response"),
                json!([{"type": "thinking", "thinking": "  "}, {"type": "text", "text": "ok"}]),
            ),
        ]);
        assert!(
            out.contains("<span class=\"chip\">/model opus</span>"),
            "{out}"
        );
        assert!(
            out.contains("<details class=\"msg sys\" id=\"m-1\""),
            "{out}"
        );
        assert!(
            out.contains("msg sys compact") && out.contains("<strong>things</strong>"),
            "{out}"
        );
        assert!(out.contains("! ls"), "{out}");
        assert!(
            !out.contains("Thinking"),
            "empty thinking is left out: {out}"
        );
    }

    #[test]
    fn edits_are_diffs_and_paths_are_relative() {
        let out = page(vec![msg(
            0,
            "assistant",
            None,
            json!([
            {"type": "tool_use", "id": "t", "name": "Edit", "input": {"file_path": "/home/me/app/src/a.rs",
             "old_string": "a\nb\nc", "new_string": "a\nB\nc"}}]),
        )]);
        assert!(
            out.contains("<span class=\"tool-sum\" title=\"src/a.rs\">src/a.rs</span>"),
            "{out}"
        );
        assert!(out.contains("<span class=\"line del\">-b</span>"), "{out}");
        assert!(out.contains("<span class=\"line add\">+B</span>"), "{out}");
    }
}
