//! HTML pages and the viewer's assets, embedded in the binary (no build step,
//! no CDN). The viewer page is static: its script reads the session id from
//! the URL, loads the session from the API and follows its event stream.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

const VIEWER_HTML: &str = include_str!("assets/viewer.html");
const VIEWER_JS: &str = include_str!("assets/viewer.js");
const VIEWER_CSS: &str = include_str!("assets/viewer.css");
const INDEX_HTML: &str = include_str!("assets/index.html");

/// Revalidate assets on every load so an upgraded server is picked up.
const ASSET_CACHE: &str = "no-cache";

pub async fn index(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Html<String> {
    let url = super::api::base_url(&state, &headers);
    let url = html_escape::encode_text(&url);
    Html(
        INDEX_HTML
            .replace("{{SERVER_URL}}", &url)
            .replace("{{VERSION}}", env!("CARGO_PKG_VERSION")),
    )
}

pub async fn viewer(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let store = state.store.clone();
    let found = tokio::task::spawn_blocking(move || store.session(&id)).await;
    match found {
        Ok(Ok(_)) => (
            [(header::CACHE_CONTROL, "no-store")],
            Html(VIEWER_HTML),
        )
            .into_response(),
        Ok(Err(super::store::StoreError::NotFound)) => (
            StatusCode::NOT_FOUND,
            Html(
                "<!doctype html><meta charset=utf-8><title>Session not found</title>\
                 <link rel=stylesheet href=/assets/viewer.css>\
                 <main class=notice><h1>Session not found</h1>\
                 <p>This session does not exist on this server, or it was deleted.</p></main>",
            ),
        )
            .into_response(),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html("<!doctype html><meta charset=utf-8><title>Error</title><p>The server could not read this session; see its log."),
        )
            .into_response(),
    }
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
