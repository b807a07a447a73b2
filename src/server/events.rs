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
use super::store::{RawMessage, Store};

/// Events buffered per session before a receiver counts as lagging.
const CHANNEL_CAPACITY: usize = 1024;
/// Messages read from the database per replay query.
const REPLAY_PAGE: i64 = 500;

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
}

/// Fan-out of live events to the viewers of each session.
#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<String, broadcast::Sender<LiveEvent>>>,
}

impl Hub {
    /// A receiver for `id`'s events.
    pub fn subscribe(&self, id: &str) -> broadcast::Receiver<LiveEvent> {
        let mut channels = match self.channels.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        channels
            .entry(id.to_string())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Send to `id`'s viewers, if there are any.
    pub fn publish(&self, id: &str, events: impl IntoIterator<Item = LiveEvent>) {
        let mut channels = match self.channels.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
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
}

/// The SSE response for one viewer.
pub fn sse(ctx: StreamContext) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let keep_alive = KeepAlive::new().interval(ctx.keep_alive).text("keep-alive");
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(pump(ctx, tx));
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Sse::new(futures_util::StreamExt::map(stream, Ok)).keep_alive(keep_alive)
}

fn message_event(m: &RawMessage) -> Event {
    Event::default()
        .event("message")
        .id(m.message_index.to_string())
        .data(message_json(m))
}

/// Read messages `next..` from the database and send them; returns the new
/// `next`, or None when the viewer is gone.
async fn replay(ctx: &StreamContext, tx: &mpsc::Sender<Event>, mut next: i64) -> Option<i64> {
    loop {
        let store = ctx.store.clone();
        let id = ctx.session_id.clone();
        let page = tokio::task::spawn_blocking(move || store.messages(&id, next, REPLAY_PAGE))
            .await
            .ok()?;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("replaying {}: {e}", ctx.session_id);
                return None;
            }
        };
        let n = page.len() as i64;
        for m in &page {
            tx.send(message_event(m)).await.ok()?;
            next = m.message_index + 1;
        }
        if n < REPLAY_PAGE {
            return Some(next);
        }
    }
}

/// Feed one viewer until it disconnects or the server shuts down.
async fn pump(mut ctx: StreamContext, tx: mpsc::Sender<Event>) {
    let mut rx = ctx.hub.subscribe(&ctx.session_id);
    let Some(mut next) = replay(&ctx, &tx, ctx.from.max(0)).await else {
        return;
    };
    let store = ctx.store.clone();
    let id = ctx.session_id.clone();
    if let Ok(Ok(info)) = tokio::task::spawn_blocking(move || store.session(&id)).await {
        if info.status == "complete" {
            let data = serde_json::json!({"status": "complete", "completed_at": info.completed_at, "message_count": info.message_count});
            if tx
                .send(Event::default().event("complete").data(data.to_string()))
                .await
                .is_err()
            {
                return;
            }
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
                message_event(&m)
            }
            Ok(LiveEvent::Title(data)) => Event::default().event("title").data(data),
            Ok(LiveEvent::Diff(data)) => Event::default().event("diff").data(data),
            Ok(LiveEvent::Complete(data)) => Event::default().event("complete").data(data),
            Err(broadcast::error::RecvError::Lagged(_)) => {
                match replay(&ctx, &tx, next).await {
                    Some(n) => next = n,
                    None => return,
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
