//! HTML pages and the viewer's assets, embedded in the binary (no build step,
//! no CDN).
//!
//! The session page is rendered here, streamed: the head (title, status,
//! link-preview meta) and the first screen go out at once, then the rest of
//! the conversation in chunks read page by page from the store, so a
//! 50,000-message session never sits in memory as one string and the browser
//! paints while it parses. viewer.js then follows the event stream, which
//! sends the same fragments (see [`super::render`]).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tokio::sync::mpsc;

use super::render::{self, esc, time_html, Conversation, Ctx, Msg};
use super::store::{RawMessage, Store, StoreError};
use super::AppState;
use crate::wire::SessionInfo;

const VIEWER_JS: &str = include_str!("assets/viewer.js");
const VIEWER_CSS: &str = include_str!("assets/viewer.css");
const INDEX_HTML: &str = include_str!("assets/index.html");
const FAVICON_ICO: &[u8] = include_bytes!("assets/favicon.ico");

/// The favicon as an inline SVG (the same mark as favicon.ico).
pub const FAVICON_SVG_LINK: &str = "<link rel=\"icon\" type=\"image/svg+xml\" href=\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%23c2562f'/%3E%3Cpath d='M9 9l7.5 7L9 23M19 23h5' stroke='%23fff' stroke-width='3.6' fill='none' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E\">";

/// Revalidate assets on every load so an upgraded server is picked up.
const ASSET_CACHE: &str = "no-cache";

/// A session longer than this is sent as its first [`HEAD_MESSAGES`] and a
/// link to the whole page (`?all`); the page's script loads the rest from
/// `/sessions/:id/part` and inserts it a chunk per task, so the browser
/// never parses megabytes of HTML in one go (long tasks) and the first
/// screen does not wait behind them.
const SPLIT_ABOVE: i64 = 2500;
const HEAD_MESSAGES: i64 = 200;
/// Messages read from the store per query while streaming a page.
const PAGE: i64 = 256;
/// The first chunk (head and first screen) goes out at this size, later
/// ones at [`CHUNK`].
const FIRST_CHUNK: usize = 24 * 1024;
const CHUNK: usize = 16 * 1024;

pub async fn index(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Html<String> {
    let url = super::api::base_url(&state, &headers);
    let url = html_escape::encode_text(&url);
    Html(
        INDEX_HTML
            .replace("{{SERVER_URL}}", &url)
            .replace("{{VERSION}}", env!("CARGO_PKG_VERSION"))
            .replace("{{FAVICON}}", FAVICON_SVG_LINK),
    )
}

/// What the head of the page needs, read before anything is sent.
struct First {
    info: SessionInfo,
    page: Vec<RawMessage>,
    last_timestamp: Option<String>,
}

fn read_first(store: &dyn Store, id: &str) -> Result<First, StoreError> {
    let info = store.session(id)?;
    let page = store.messages(id, 0, PAGE)?;
    let last_timestamp = if info.message_count > page.len() as i64 {
        store
            .messages(id, info.message_count - 1, 1)?
            .pop()
            .and_then(|m| m.timestamp)
    } else {
        page.last().and_then(|m| m.timestamp.clone())
    };
    Ok(First {
        info,
        page,
        last_timestamp,
    })
}

pub async fn viewer(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let all = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == "all" || p.starts_with("all=")));
    let store = state.store.clone();
    let sid = id.clone();
    let found = tokio::task::spawn_blocking(move || read_first(store.as_ref(), &sid)).await;
    let first = match found {
        Ok(Ok(first)) => first,
        Ok(Err(StoreError::NotFound)) => {
            return (
                StatusCode::NOT_FOUND,
                Html(format!(
                    "<!doctype html><meta charset=utf-8><title>Session not found</title>{FAVICON_SVG_LINK}\
                     <link rel=stylesheet href=/assets/viewer.css>\
                     <main class=notice><h1>Session not found</h1>\
                     <p>This session does not exist on this server, or it was deleted.</p></main>"
                )),
            )
                .into_response()
        }
        _ => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><meta charset=utf-8><title>Error</title><p>The server could not read this session; see its log."),
            )
                .into_response()
        }
    };
    let url = format!("{}/sessions/{id}", super::api::base_url(&state, &headers));
    let head = page_head(&first, &url);
    let limit = (!all && first.info.message_count > SPLIT_ABOVE).then_some(HEAD_MESSAGES);
    let plan = Plan {
        from: 0,
        limit,
        page: Some((head, first.info.message_count)),
    };
    let ctx = Ctx {
        project: first.info.project_path.clone(),
        live: first.info.status == "live",
    };
    html_stream(&state, id, ctx, first.page, plan)
}

/// `GET /sessions/:id/part?from=N`: the conversation from message N to the
/// end, as the page's chunks (what the page's script loads after the head
/// of a long session).
pub async fn part(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let from = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("from=")))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .unwrap_or(0);
    let store = state.store.clone();
    let sid = id.clone();
    let found = tokio::task::spawn_blocking(move || {
        let info = store.session(&sid)?;
        Ok::<_, StoreError>((info, store.messages(&sid, from, PAGE)?))
    })
    .await;
    let Ok(Ok((info, page))) = found else {
        return (StatusCode::NOT_FOUND, "no such session").into_response();
    };
    let ctx = Ctx {
        project: info.project_path.clone(),
        live: info.status == "live",
    };
    let plan = Plan {
        from,
        limit: None,
        page: None,
    };
    html_stream(&state, id, ctx, page, plan)
}

/// What a [`PageWriter`] writes.
struct Plan {
    /// Index of the first message.
    from: i64,
    /// Stop after this many messages (the head of a long page).
    limit: Option<i64>,
    /// A whole page: its head, and the message count when it was read.
    page: Option<(String, i64)>,
}

fn html_stream(
    state: &AppState,
    id: String,
    ctx: Ctx,
    first: Vec<RawMessage>,
    plan: Plan,
) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(4);
    let writer = PageWriter::new(id, ctx, first, plan);
    tokio::spawn(drive(state.store.clone(), writer, tx));
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Render on the blocking pool a store page at a time, and send the chunks
/// from here: a reader that stops reading holds no thread, only this task
/// (until the connection's idle timeout closes it).
async fn drive(
    store: Arc<dyn Store>,
    mut writer: PageWriter,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
) {
    loop {
        let s = store.clone();
        let step = tokio::task::spawn_blocking(move || {
            let chunks = writer.step(s.as_ref());
            (writer, chunks)
        })
        .await;
        let Ok((back, chunks)) = step else {
            return;
        };
        writer = back;
        for chunk in chunks {
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
        }
        if writer.done {
            return;
        }
    }
}

/// A page (or part) being rendered: the conversation so far and where the
/// next store page starts.
struct PageWriter {
    id: String,
    conv: Conversation,
    out: String,
    /// Size at which `out` becomes a chunk.
    limit: usize,
    /// Messages read and not rendered yet.
    page: Vec<RawMessage>,
    next: i64,
    end: i64,
    plan: Plan,
    started: bool,
    failed: bool,
    done: bool,
}

impl PageWriter {
    fn new(id: String, ctx: Ctx, page: Vec<RawMessage>, plan: Plan) -> PageWriter {
        PageWriter {
            id,
            conv: Conversation::new(ctx),
            out: String::new(),
            limit: FIRST_CHUNK,
            page,
            next: plan.from,
            end: plan.limit.map_or(i64::MAX, |n| plan.from + n),
            plan,
            started: false,
            failed: false,
            done: false,
        }
    }

    /// The chunks of the next step: first the page's head alone (the browser
    /// fetches the style sheet and script while the first screen is
    /// rendered), then a store page of messages each, then the end.
    fn step(&mut self, store: &dyn Store) -> Vec<String> {
        if !self.started {
            self.started = true;
            if let Some((head, _)) = &self.plan.page {
                return vec![head.clone()];
            }
        }
        let mut chunks = Vec::new();
        let page = std::mem::take(&mut self.page);
        let full = page.len() as i64 == PAGE;
        for m in &page {
            if m.message_index >= self.end {
                break;
            }
            self.next = m.message_index + 1;
            self.conv.push(Msg::from_raw(m), &mut self.out);
            if self.out.len() >= self.limit {
                chunks.push(std::mem::take(&mut self.out));
                self.limit = CHUNK;
            }
        }
        if full && self.next < self.end {
            match store.messages(&self.id, self.next, PAGE) {
                Ok(p) => {
                    self.page = p;
                    return chunks;
                }
                Err(e) => {
                    tracing::warn!("rendering {}: {e}", self.id);
                    self.failed = true;
                }
            }
        }
        self.finish(store);
        chunks.push(std::mem::take(&mut self.out));
        self.done = true;
        chunks
    }

    /// The end: of a part, where the event stream starts; of a page, the
    /// link to the rest, the diff and the closing tags.
    fn finish(&mut self, store: &dyn Store) {
        let out = &mut self.out;
        let next = self.next;
        self.conv.finish(out);
        let Some((_, total)) = self.plan.page else {
            out.push_str("<div class=\"part-end\" data-next=\"");
            out.push_str(&next.to_string());
            out.push_str("\"></div>");
            return;
        };
        out.push_str("</div>");
        if next < total && !self.failed {
            out.push_str("<div id=\"more\" class=\"more-note\" data-from=\"");
            out.push_str(&next.to_string());
            out.push_str("\"><a href=\"?all\">Show all ");
            out.push_str(&total.to_string());
            out.push_str(" messages</a></div>");
        }
        if self.failed {
            out.push_str("<p class=\"status error\">The server could not read the rest of this session; reload to try again.</p>");
        }
        out.push_str("<div id=\"end\" hidden data-next=\"");
        out.push_str(&next.to_string());
        out.push_str("\"></div>");
        let diff = store.diff(&self.id).ok().flatten();
        out.push_str("<section id=\"diff-section\" class=\"diff-section\"");
        match &diff {
            Some(d) if !d.diff.is_empty() => {
                out.push('>');
                render::diff_html(out, d);
            }
            _ => out.push_str(" hidden>"),
        }
        out.push_str(
            "</section></main>\
             <button id=\"jump\" class=\"jump\" type=\"button\" hidden>Jump to latest ↓</button>\
             </body></html>\n",
        );
    }
}

fn meta_item(out: &mut String, label: &str, value_html: &str) {
    out.push_str("<span class=\"meta-item\"><span class=\"meta-label\">");
    out.push_str(label);
    out.push_str("</span>");
    out.push_str(value_html);
    out.push_str("</span>");
}

/// `2h 05m`, `12m`, `40s`.
pub fn duration_text(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        _ => format!("{}h {:02}m", secs / 3600, secs / 60 % 60),
    }
}

fn secs_between(a: &str, b: &str) -> Option<u64> {
    let (a, b) = (
        crate::time::parse_rfc3339(a)?,
        crate::time::parse_rfc3339(b)?,
    );
    b.duration_since(a).ok().map(|d| d.as_secs())
}

/// Everything before the first message: head with title and link-preview
/// meta, and the header (title, repository, model, status, start,
/// duration, count).
fn page_head(first: &First, url: &str) -> String {
    let info = &first.info;
    let live = info.status == "live";
    let title = if info.title.trim().is_empty() {
        "Untitled session"
    } else {
        info.title.as_str()
    };
    let msgs: Vec<Msg> = first.page.iter().take(50).map(Msg::from_raw).collect();
    let prompt = msgs.iter().find_map(render::first_prompt);
    let started = first.page.iter().find_map(|m| m.timestamp.clone());
    let status = if live { "Live" } else { "Complete" };
    let mut description = match &prompt {
        Some(p) => format!("{p} — "),
        None => String::new(),
    };
    description.push_str(&format!(
        "{status} Claude Code session, {} messages",
        info.message_count
    ));
    if let Some(repo) = info.repo_url.as_deref() {
        description.push_str(&format!(", {}", repo.trim_start_matches("https://")));
    }

    let mut out = String::with_capacity(FIRST_CHUNK + 4096);
    out.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
        <meta name=\"referrer\" content=\"no-referrer\"><meta name=\"color-scheme\" content=\"light dark\"><title>");
    esc(&mut out, title);
    out.push_str(" · openctl</title>");
    let mut meta = |attr: &str, name: &str, value: &str| {
        out.push_str("<meta ");
        out.push_str(attr);
        out.push_str("=\"");
        out.push_str(name);
        out.push_str("\" content=\"");
        esc(&mut out, value);
        out.push_str("\">");
    };
    meta("name", "description", &description);
    meta("property", "og:type", "article");
    meta("property", "og:site_name", "openctl");
    meta("property", "og:title", title);
    meta("property", "og:description", &description);
    meta("property", "og:url", url);
    meta("name", "twitter:card", "summary");
    meta("name", "twitter:title", title);
    meta("name", "twitter:description", &description);
    out.push_str("<link rel=\"icon\" href=\"/favicon.ico\" sizes=\"32x32\">");
    out.push_str(FAVICON_SVG_LINK);
    out.push_str(
        "<link rel=\"stylesheet\" href=\"/assets/viewer.css\">\
        <script src=\"/assets/viewer.js\" defer></script></head>",
    );
    out.push_str("<body data-session=\"");
    esc(&mut out, &info.id);
    out.push_str("\" data-status=\"");
    out.push_str(if live { "live" } else { "complete" });
    out.push_str("\"><header class=\"top\"><div class=\"top-inner\"><a class=\"brand\" href=\"/\">openctl</a><div class=\"head-main\"><h1 id=\"title\">");
    esc(&mut out, title);
    out.push_str("</h1><div class=\"meta\" id=\"meta\">");
    let mut v = String::new();
    if let Some(p) = info.project_path.as_deref().filter(|p| !p.is_empty()) {
        v.clear();
        v.push_str("<span class=\"meta-value\" title=\"");
        esc(&mut v, p);
        v.push_str("\">");
        esc(
            &mut v,
            p.trim_end_matches('/').rsplit('/').next().unwrap_or(p),
        );
        v.push_str("</span>");
        meta_item(&mut out, "project", &v);
    }
    if let Some(repo) = info.repo_url.as_deref().filter(|r| !r.is_empty()) {
        v.clear();
        let shown = repo
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        if repo.starts_with("https://") || repo.starts_with("http://") {
            v.push_str("<a href=\"");
            esc(&mut v, repo);
            v.push_str("\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">");
            esc(&mut v, shown);
            v.push_str("</a>");
        } else {
            v.push_str("<span class=\"meta-value\">");
            esc(&mut v, shown);
            v.push_str("</span>");
        }
        meta_item(&mut out, "repo", &v);
    }
    if let Some(model) = info.model.as_deref().filter(|m| !m.is_empty()) {
        v.clear();
        v.push_str("<span class=\"meta-value\">");
        esc(&mut v, model);
        v.push_str("</span>");
        meta_item(&mut out, "model", &v);
    }
    if let Some(start) = &started {
        v.clear();
        v.push_str("<span class=\"meta-value\" id=\"started\">");
        time_html(&mut v, start);
        v.push_str("</span>");
        meta_item(&mut out, "started", &v);
        let end = if live {
            Some(crate::time::now_rfc3339())
        } else {
            first.last_timestamp.clone()
        };
        if let Some(secs) = end.as_deref().and_then(|e| secs_between(start, e)) {
            v.clear();
            v.push_str("<span class=\"meta-value\" id=\"duration\" data-start=\"");
            esc(&mut v, start);
            v.push_str("\">");
            v.push_str(&duration_text(secs));
            v.push_str("</span>");
            meta_item(&mut out, "duration", &v);
        }
    }
    v.clear();
    v.push_str("<span class=\"meta-value\" id=\"count\">");
    v.push_str(&info.message_count.to_string());
    v.push_str("</span>");
    meta_item(&mut out, "messages", &v);
    if let Some(d) = info.description.as_deref().filter(|d| !d.is_empty()) {
        out.push_str("<span class=\"meta-item desc\">");
        esc(&mut out, d);
        out.push_str("</span>");
    }
    out.push_str("</div></div><span id=\"badge\" class=\"badge ");
    out.push_str(if live {
        "live\">Live"
    } else {
        "complete\">Complete"
    });
    out.push_str("</span></div></header><main class=\"page\"><p id=\"status\" class=\"status\" role=\"status\"></p>");
    if info.message_count == 0 {
        out.push_str(
            "<p id=\"empty\" class=\"muted empty\">No messages yet. They appear here as they happen.</p>",
        );
    }
    out.push_str("<div id=\"conversation\" class=\"conversation\">");
    out
}

pub async fn viewer_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, ASSET_CACHE),
        ],
        VIEWER_JS,
    )
        .into_response()
}

pub async fn viewer_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, ASSET_CACHE),
        ],
        VIEWER_CSS,
    )
        .into_response()
}

pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON_ICO,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(42), "42s");
        assert_eq!(duration_text(12 * 60 + 5), "12m");
        assert_eq!(duration_text(2 * 3600 + 5 * 60), "2h 05m");
    }
}
