//! Carries events between nodes sharing one PostgreSQL. Each transaction that appends events
//! also sends a NOTIFY with their ids (see `EventSink`); PostgreSQL delivers it at commit, in commit order, to
//! every node's listener, this one included. The listener fetches the events by id (payloads
//! stay small however long a message is) and hands them to the local hub. So every node, the
//! originating one too, delivers the same events in the same order.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::Hub;
use crate::domain::Id;
use crate::store::{Store, events};

/// Listens until `shutdown` fires. `ready` fires once the first LISTEN is in place, so the
/// server can wait for it before taking requests.
pub(super) async fn run(
    database_url: String,
    store: Store,
    hub: Hub,
    ready: oneshot::Sender<()>,
    shutdown: CancellationToken,
) {
    let mut ready = Some(ready);
    // Said once per outage, not at every attempt.
    let mut said_failing = false;
    loop {
        match listen(&database_url).await {
            Ok(mut listener) => {
                said_failing = false;
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                } else {
                    // Reconnected: whatever was committed meanwhile was not delivered here.
                    hub.resync_all();
                }
                tokio::select! {
                    result = pump(&mut listener, &store, &hub) => {
                        tracing::warn!(error = %result, "event listener lost PostgreSQL; reconnecting");
                    }
                    _ = shutdown.cancelled() => return,
                }
            }
            Err(e) if said_failing => {
                tracing::debug!(error = %e, "cannot LISTEN for events; retrying")
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for events; retrying every 500 ms");
                said_failing = true;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn listen(database_url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(database_url).await?;
    listener.listen(events::NOTIFY_CHANNEL).await?;
    Ok(listener)
}

/// Delivers notifications until the connection fails; returns the failure.
async fn pump(listener: &mut PgListener, store: &Store, hub: &Hub) -> String {
    loop {
        let first = match listener.try_recv().await {
            Ok(Some(notification)) => notification,
            // The connection dropped and was re-established: notifications may be lost.
            Ok(None) => {
                hub.resync_all();
                continue;
            }
            Err(e) => return e.to_string(),
        };
        let mut ids = parse_ids(first.payload());
        while let Some(more) = listener.next_buffered() {
            ids.extend(parse_ids(more.payload()));
        }
        let fetched = match store.read().await {
            Ok(mut conn) => events::by_ids(&mut conn, &ids).await,
            Err(e) => Err(e),
        };
        match fetched {
            // `by_ids` returns id order; the batch came in commit order, which for the events
            // of any one workspace is id order too.
            Ok(stored) => hub.publish(stored),
            Err(e) => {
                tracing::warn!(error = %e, "cannot fetch notified events");
                hub.resync_all();
            }
        }
    }
}

fn parse_ids(payload: &str) -> Vec<Id> {
    payload
        .split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn payloads_are_comma_separated_ids() {
        assert_eq!(super::parse_ids("1,2, 30"), vec![1, 2, 30]);
        assert_eq!(super::parse_ids("x,4"), vec![4]);
    }
}
