//! Live events for viewers: a broadcast channel per watched session, and the
//! Server-Sent Events stream that replays from the database first.
//!
//! A viewer never misses a message: it subscribes before replaying, then
//! tracks the next `message_index` it expects. A broadcast message from the
//! future (a gap, or a lagging receiver) triggers a replay from the database;
//! one from the past is skipped. So a slow viewer only ever slows itself.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc, watch};

use super::json::message_json;
use super::render;
use super::store::{RawMessage, Store};
use crate::wire::{SessionInfo, StoredDiff};

/// Events buffered per session before a receiver counts as lagging.
const CHANNEL_CAPACITY: usize = 1024;
/// Content bytes of the messages read from the database per replay query.
const REPLAY_PAGE_BYTES: usize = 1024 * 1024;

/// One live change of a session.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    Message(Arc<RawMessage>),
    /// JSON of `{"title": ...}`.
    Title(String),
    /// JSON of the stored diff.
    Diff(String),
    /// JSON of the completion.
    Complete(String),
    /// JSON of `{"status": "live"}`: a completed session was restored.
    Live(String),
}

/// Fan-out of live events to the viewers of each session.
#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<String, broadcast::Sender<LiveEvent>>>,
    /// Event streams open now, over all sessions.
    streams: std::sync::atomic::AtomicUsize,
}

/// Counts one open stream while it lives.
struct StreamGuard(Arc<Hub>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0
            .streams
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Hub {
    /// The channel map (a panic elsewhere while it was held leaves the map
    /// itself intact, so a poisoned lock is used as is).
    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<LiveEvent>>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A receiver for `id`'s events.
    pub fn subscribe(&self, id: &str) -> broadcast::Receiver<LiveEvent> {
        let mut channels = self.channels();
        channels
            .entry(id.to_string())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Forget `id`'s channel once its last viewer is gone (so sessions that
    /// were watched once and never written again hold no memory).
    pub fn release(&self, id: &str) {
        let mut channels = self.channels();
        if channels.get(id).is_some_and(|tx| tx.receiver_count() == 0) {
            channels.remove(id);
        }
    }

    /// Event streams open now.
    pub fn stream_count(&self) -> usize {
        self.streams.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Number of sessions with a channel.
    #[cfg(test)]
    pub fn channel_count(&self) -> usize {
        self.channels().len()
    }

    /// Send to `id`'s viewers, if there are any.
    pub fn publish(&self, id: &str, events: impl IntoIterator<Item = LiveEvent>) {
        let mut channels = self.channels();
        let Some(tx) = channels.get(id) else {
            return;
        };
        if tx.receiver_count() == 0 {
            channels.remove(id);
            return;
        }
        for event in events {
            // An error only means every receiver is gone.
            let _ = tx.send(event);
        }
    }
}

/// Everything one viewer's stream needs.
pub struct StreamContext {
    pub store: Arc<dyn Store>,
    pub hub: Arc<Hub>,
    pub session_id: String,
    pub from: i64,
    pub keep_alive: Duration,
    pub shutdown: watch::Receiver<bool>,
    /// `Some`: the viewer's stream (`?view=html`): messages and the diff as
    /// the page's HTML fragments instead of JSON.
    pub view: Option<render::Ctx>,
}

/// The SSE response for one viewer.
pub fn sse(ctx: StreamContext) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let keep_alive = KeepAlive::new().interval(ctx.keep_alive).text("keep-alive");
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(pump(ctx, tx));
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Sse::new(futures_util::StreamExt::map(stream, Ok)).keep_alive(keep_alive)
}

fn message_event(ctx: &StreamContext, m: &RawMessage) -> Event {
    let data = match &ctx.view {
        Some(view) => render::fragment(view, &render::Msg::from_raw(m)),
        None => message_json(m),
    };
    Event::default()
        .event("message")
        .id(m.message_index.to_string())
        .data(data)
}

/// A `diff` event: the stored diff's JSON, or its HTML for the page.
fn diff_event(ctx: &StreamContext, json: String, diff: Option<&StoredDiff>) -> Event {
    let data = match (&ctx.view, diff) {
        (Some(_), Some(d)) => diff_fragment(d),
        (Some(_), None) => serde_json::from_str::<StoredDiff>(&json)
            .map(|d| diff_fragment(&d))
            .unwrap_or_default(),
        (None, _) => json,
    };
    Event::default().event("diff").data(data)
}

fn diff_fragment(d: &StoredDiff) -> String {
    let mut out = String::new();
    render::diff_html(&mut out, d);
    out
}

/// `complete` or `live`, whichever the session is now.
fn status_event(info: &SessionInfo) -> Event {
    if info.status == "complete" {
        let data = serde_json::json!({"status": "complete", "completed_at": info.completed_at, "message_count": info.message_count});
        Event::default().event("complete").data(data.to_string())
    } else {
        let data = serde_json::json!({"status": "live", "message_count": info.message_count});
        Event::default().event("live").data(data.to_string())
    }
}

/// Read messages `next..` from the database and send them; returns the new
/// `next`, or None when the viewer is gone.
async fn replay(ctx: &StreamContext, tx: &mpsc::Sender<Event>, mut next: i64) -> Option<i64> {
    loop {
        let store = ctx.store.clone();
        let id = ctx.session_id.clone();
        let page = tokio::task::spawn_blocking(move || {
            store.messages_page(&id, next, i64::MAX, REPLAY_PAGE_BYTES)
        })
        .await
        .ok()?;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("replaying {}: {e}", ctx.session_id);
                return None;
            }
        };
        if page.is_empty() {
            return Some(next);
        }
        for m in &page {
            tx.send(message_event(ctx, m)).await.ok()?;
            next = m.message_index + 1;
        }
    }
}

/// Send the current title and diff (after a lag dropped events).
async fn resend_state(ctx: &StreamContext, tx: &mpsc::Sender<Event>) -> Option<()> {
    let store = ctx.store.clone();
    let id = ctx.session_id.clone();
    let (info, diff) = tokio::task::spawn_blocking(move || {
        Some((store.session(&id).ok()?, store.diff(&id).ok()?))
    })
    .await
    .ok()??;
    let title = serde_json::json!({"title": info.title, "description": info.description});
    tx.send(Event::default().event("title").data(title.to_string()))
        .await
        .ok()?;
    tx.send(status_event(&info)).await.ok()?;
    if let Some(d) = diff {
        let data = serde_json::to_string(&d).ok()?;
        tx.send(diff_event(ctx, data, Some(&d))).await.ok()?;
    }
    Some(())
}

/// Feed one viewer until it disconnects or the server shuts down, then drop
/// the session's channel if that was its last viewer.
async fn pump(ctx: StreamContext, tx: mpsc::Sender<Event>) {
    let hub = ctx.hub.clone();
    let id = ctx.session_id.clone();
    hub.streams
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _counted = StreamGuard(hub.clone());
    let rx = hub.subscribe(&id);
    feed(ctx, tx, rx).await;
    hub.release(&id);
}

async fn feed(
    mut ctx: StreamContext,
    tx: mpsc::Sender<Event>,
    mut rx: broadcast::Receiver<LiveEvent>,
) {
    let Some(mut next) = replay(&ctx, &tx, ctx.from.max(0)).await else {
        return;
    };
    let store = ctx.store.clone();
    let id = ctx.session_id.clone();
    if let Ok(Ok(info)) = tokio::task::spawn_blocking(move || store.session(&id)).await {
        // The page may have loaded the session before a change of status:
        // tell it the status as of now.
        if tx.send(status_event(&info)).await.is_err() {
            return;
        }
    }
    loop {
        let received = tokio::select! {
            r = rx.recv() => r,
            _ = tx.closed() => return,
            _ = ctx.shutdown.changed() => return,
        };
        let event = match received {
            Ok(LiveEvent::Message(m)) => {
                if m.message_index < next {
                    continue;
                }
                if m.message_index > next {
                    match replay(&ctx, &tx, next).await {
                        Some(n) => next = n,
                        None => return,
                    }
                    continue;
                }
                next = m.message_index + 1;
                message_event(&ctx, &m)
            }
            Ok(LiveEvent::Title(data)) => Event::default().event("title").data(data),
            Ok(LiveEvent::Diff(data)) => diff_event(&ctx, data, None),
            Ok(LiveEvent::Complete(data)) => Event::default().event("complete").data(data),
            Ok(LiveEvent::Live(data)) => Event::default().event("live").data(data),
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Too slow to keep up: catch up from the database, and
                // resend title and diff in case those events were dropped.
                match replay(&ctx, &tx, next).await {
                    Some(n) => next = n,
                    None => return,
                }
                if resend_state(&ctx, &tx).await.is_none() {
                    return;
                }
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_channel_is_dropped_with_its_last_viewer() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = crate::server::store::test_store(dir.path());
        let hub = Arc::new(Hub::default());
        let (_stop_tx, stop_rx) = watch::channel(false);
        let viewer = || {
            sse(StreamContext {
                store: store.clone(),
                hub: hub.clone(),
                session_id: id.clone(),
                from: 0,
                keep_alive: Duration::from_secs(60),
                shutdown: stop_rx.clone(),
                view: None,
            })
        };
        let (first, second) = (viewer(), viewer());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while hub.channel_count() != 1 {
            assert!(tokio::time::Instant::now() < deadline, "no channel");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(first);
        drop(second);
        while hub.channel_count() != 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the channel outlived its viewers"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
