//! Fans committed events out to the open streams of this process, one broadcast channel per
//! workspace. A stream that falls more than the channel's capacity behind is told it lagged
//! (and is then closed by its socket task) instead of slowing anyone else down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::domain::Id;
use crate::domain::event::StoredEvent;

/// One event ready to send: its JSON is rendered once per process, not once per socket.
#[derive(Debug)]
pub struct Delivery {
    pub id: Id,
    pub visitor_id: Option<Id>,
    pub conversation_id: Option<Id>,
    pub recipient_id: Option<Id>,
    /// The operator whose sessions ended, for a `SessionsEnded` event (never sent to clients).
    pub sessions_ended_of: Option<Id>,
    pub inbox_json: Utf8Bytes,
    pub visitor_json: Option<Utf8Bytes>,
}

#[derive(Debug, Clone)]
pub enum Signal {
    Event(Arc<Delivery>),
    /// Events may have been missed (e.g. the connection to PostgreSQL dropped): clients should
    /// refetch or reconnect with `since`.
    Resync,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    channels: Mutex<HashMap<Id, broadcast::Sender<Signal>>>,
    /// The process's shutdown signal: open streams close when it fires.
    shutdown: CancellationToken,
}

impl Hub {
    pub fn new(capacity: usize, shutdown: CancellationToken) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                capacity,
                channels: Mutex::new(HashMap::new()),
                shutdown,
            }),
        }
    }

    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<Id, broadcast::Sender<Signal>>> {
        self.inner
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Delivers committed events, in order, to this process's streams of their workspaces.
    pub fn publish(&self, events: Vec<StoredEvent>) {
        let mut channels = self.channels();
        for stored in events {
            let workspace_id = stored.event.workspace_id;
            let Some(sender) = channels.get(&workspace_id) else {
                continue;
            };
            if sender.receiver_count() == 0 {
                channels.remove(&workspace_id);
                continue;
            }
            let delivery = Delivery {
                id: stored.id,
                visitor_id: stored.event.visitor_id,
                conversation_id: stored.event.conversation_id(),
                recipient_id: stored.event.recipient_id,
                sessions_ended_of: stored.event.sessions_ended_of(),
                inbox_json: stored.inbox_json().into(),
                visitor_json: stored.visitor_json().map(Utf8Bytes::from),
            };
            // A send fails only when every receiver has just gone: nothing to do.
            let _ = sender.send(Signal::Event(Arc::new(delivery)));
        }
    }

    /// Tells every stream that events may have been missed.
    pub fn resync_all(&self) {
        for sender in self.channels().values() {
            let _ = sender.send(Signal::Resync);
        }
    }

    pub fn subscribe(&self, workspace_id: Id) -> broadcast::Receiver<Signal> {
        let mut channels = self.channels();
        let capacity = self.inner.capacity;
        channels
            .entry(workspace_id)
            .or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe()
    }

    /// What a stream watches to close when the server shuts down.
    pub fn shutdown(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Open streams of this process, across workspaces.
    pub fn listeners(&self) -> usize {
        self.channels()
            .values()
            .map(broadcast::Sender::receiver_count)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Availability;
    use crate::domain::event::{Event, EventKind};

    fn event(id: Id, workspace_id: Id) -> StoredEvent {
        StoredEvent {
            id,
            event: Event {
                workspace_id,
                visitor_id: None,
                recipient_id: None,
                at: String::new(),
                kind: EventKind::OperatorAvailabilityChanged {
                    operator_id: 1,
                    availability: Availability::Away,
                    availability_reason: crate::domain::AvailabilityReason::Manual,
                },
            },
        }
    }

    #[tokio::test]
    async fn delivers_only_to_the_events_workspace_in_order() {
        let hub = Hub::new(8, CancellationToken::new());
        let mut mine = hub.subscribe(1);
        let mut theirs = hub.subscribe(2);
        hub.publish(vec![event(1, 1), event(2, 1)]);
        for expected in [1, 2] {
            match mine.recv().await.unwrap() {
                Signal::Event(d) => assert_eq!(d.id, expected),
                Signal::Resync => panic!("unexpected resync"),
            }
        }
        assert!(theirs.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_slow_stream_lags_without_blocking_the_publisher() {
        let hub = Hub::new(4, CancellationToken::new());
        let mut slow = hub.subscribe(1);
        hub.publish((1..=10).map(|id| event(id, 1)).collect());
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
    }
}
