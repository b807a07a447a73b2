//! The embedded openctl server (issue 3): the HTTP API of CONTRACT.md, SQLite
//! storage, live event streams and the viewer page.
//!
//! In-process users (`openctl demo`, tests) call [`serve`] with their own
//! listener and shutdown future; `openctl server` calls [`run`].

mod api;
mod body;
mod conn;
mod events;
mod highlight;
mod json;
mod pages;
mod render;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::watch;

use crate::error::CliError;
pub use conn::Limits;
use store::{SqliteStore, Store};

/// Content-Security-Policy of every response: only our own scripts, styles
/// and API; images from us or inline data (transcript images).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The SQLite database file.
    pub db_path: PathBuf,
    /// Base of the absolute session URLs (normalized, no trailing slash);
    /// None: from each request's Host header.
    pub public_url: Option<String>,
    /// When set, writes need `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Interval of keep-alive comments on event streams.
    pub keep_alive: Duration,
    /// Connections at once and their timeouts.
    pub limits: Limits,
}

impl ServerOptions {
    pub fn new(db_path: impl Into<PathBuf>) -> ServerOptions {
        ServerOptions {
            db_path: db_path.into(),
            public_url: None,
            token: None,
            keep_alive: Duration::from_secs(15),
            limits: Limits::default(),
        }
    }
}

/// Shared by every handler.
pub(crate) struct AppState {
    store: Arc<dyn Store>,
    hub: Arc<events::Hub>,
    public_url: Option<String>,
    token: Option<String>,
    keep_alive: Duration,
    /// How long a request body may take (`body::read_body`).
    body_timeout: Duration,
    shutdown: watch::Receiver<bool>,
    /// `host:port` we listen on, for URLs when a request has no usable Host.
    local_host: String,
    /// Write-token hashes bound to client ids (bindings never change).
    bound_tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// Open the database, creating its directory (0700) when needed.
pub fn open_store(path: &Path) -> Result<SqliteStore> {
    // Only the database file is created: a directory that does not exist
    // is a mistyped path to report, not one to make.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(CliError::new(
                crate::error::Exit::Failure,
                format!(
                    "the directory {} of the database does not exist",
                    dir.display()
                ),
            )
            .with_hint("create it first, or pass --db with a path in an existing directory")
            .into());
        }
    }
    SqliteStore::open(path).map_err(|e| {
        CliError::new(crate::error::Exit::Failure, format!("{e:#}"))
            .with_hint("pass --db with a path in a writable directory")
            .into()
    })
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/sessions/{id}", get(pages::viewer))
        .route("/sessions/{id}/part", get(pages::part))
        .route("/assets/viewer.js", get(pages::viewer_js))
        .route("/assets/viewer.css", get(pages::viewer_css))
        .route("/favicon.ico", get(pages::favicon))
        .route("/api/stats", get(api::stats))
        .route("/api/health", get(api::health))
        .route("/api/sessions", get(api::lookup).post(api::upload))
        .route("/api/sessions/live", post(api::live))
        .route(
            "/api/sessions/{id}",
            get(api::detail).patch(api::patch).delete(api::delete),
        )
        .route("/api/sessions/{id}/messages", post(api::append))
        .route("/api/sessions/{id}/diff", axum::routing::put(api::put_diff))
        .route("/api/sessions/{id}/complete", post(api::complete))
        .route("/api/sessions/{id}/events", get(api::events))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn(api_errors_as_json))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// CONTRACT.md §2: every API error is `{"error": text}`, also those axum
/// answers by itself (405 for a wrong method, 400 for a path that is not
/// UTF-8).
async fn api_errors_as_json(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let text = match axum::body::to_bytes(res.into_body(), 4096).await {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
        _ => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_ascii_lowercase(),
    };
    let mut out = api::ApiError(status, text).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

/// Headers every response carries.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// Serve on `listener` until `shutdown` resolves: then stop accepting, end
/// the event streams, let in-flight requests finish, and close the database.
pub async fn serve(
    listener: tokio::net::TcpListener,
    opts: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let path = opts.db_path.clone();
    let store: Arc<dyn Store> = Arc::new(
        tokio::task::spawn_blocking(move || open_store(&path))
            .await
            .context("opening the database")??,
    );
    serve_store(listener, opts, store, shutdown).await
}

/// [`serve`] with an already opened store.
pub async fn serve_store(
    listener: tokio::net::TcpListener,
    opts: ServerOptions,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let local = listener
        .local_addr()
        .context("reading the listen address")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = Arc::new(AppState {
        store: store.clone(),
        hub: Arc::new(events::Hub::default()),
        public_url: opts.public_url.clone(),
        token: opts.token.clone().filter(|t| !t.is_empty()),
        keep_alive: opts.keep_alive,
        body_timeout: opts.limits.body_timeout,
        shutdown: stop_rx,
        local_host: local.to_string(),
        bound_tokens: Default::default(),
    });
    let app = router(state);
    conn::serve(listener, app, opts.limits, async move {
        shutdown.await;
        // Event streams never end by themselves: tell them to.
        let _ = stop_tx.send(true);
    })
    .await;
    tokio::task::spawn_blocking(move || store.close())
        .await
        .context("closing the database")?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn signals() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Options from the command line (what `openctl server` runs).
pub struct RunOptions {
    pub listen: String,
    pub db_path: PathBuf,
    pub public_url: Option<String>,
    pub token: Option<String>,
    pub limits: Limits,
}

/// Blocking: bind, open the database, print `Listening on http://ADDR` to
/// stderr, serve until SIGINT/SIGTERM.
pub fn run(opts: RunOptions) -> Result<()> {
    let public_url = opts
        .public_url
        .as_deref()
        .map(crate::server_url::normalize)
        .transpose()?;
    // Problems the server meets while it runs (storage gone, accept
    // errors) go to stderr; OPENCTL_LOG sets the level.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENCTL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("openctl-server")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        // The port first: a server that cannot listen creates nothing.
        let listener = bind(&opts.listen).await?;
        let path = opts.db_path.clone();
        let store: Arc<dyn Store> = Arc::new(
            tokio::task::spawn_blocking(move || open_store(&path))
                .await
                .context("opening the database")??,
        );
        let local = listener
            .local_addr()
            .context("reading the listen address")?;
        let server_opts = ServerOptions {
            db_path: opts.db_path.clone(),
            public_url,
            token: opts.token,
            keep_alive: Duration::from_secs(15),
            limits: opts.limits,
        };
        eprintln!("openctl server {}", env!("CARGO_PKG_VERSION"));
        eprintln!("Database: {}", opts.db_path.display());
        eprintln!("Listening on http://{local}");
        let served = serve_store(listener, server_opts, store, signals()).await;
        eprintln!("Stopped.");
        served
    })
}

async fn bind(listen: &str) -> Result<tokio::net::TcpListener> {
    let addr: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(_) => tokio::net::lookup_host(listen)
            .await
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| {
                CliError::usage(format!("invalid --listen address '{listen}'"))
                    .with_hint("use HOST:PORT, e.g. 127.0.0.1:3000 or 0.0.0.0:8080")
            })?,
    };
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            "another process uses that port: stop it, or pass --listen with another port"
        } else {
            "pass --listen with an address of this machine, e.g. 127.0.0.1:3000"
        };
        CliError::new(
            crate::error::Exit::Failure,
            format!("cannot listen on {addr}: {e}"),
        )
        .with_hint(hint)
        .into()
    })
}
