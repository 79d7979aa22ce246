//! Carries events between nodes sharing one PostgreSQL. Each transaction that appends events
//! also sends a NOTIFY for each (see `EventSink`); PostgreSQL delivers them at commit, in
//! commit order, to every node's listener, this one included. A NOTIFY carries its event
//! whole, or only its id when the event is too long for a payload, and the listener fetches
//! those; it hands them all to the local hub. So every node, the originating one too,
//! delivers the same events in the same order, and a commit costs no query of its own.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::Hub;
use crate::store::Store;
use crate::store::events::{self, Notified};

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
        let mut carried = Vec::new();
        let mut to_fetch = Vec::new();
        let mut unreadable = 0;
        let mut take = |payload: &str| match Notified::parse(payload) {
            Some(Notified::Event(stored)) => carried.push(stored),
            Some(Notified::Id(id)) => to_fetch.push(id),
            None => unreadable += 1,
        };
        take(first.payload());
        while let Some(more) = listener.next_buffered() {
            take(more.payload());
        }
        if unreadable > 0 {
            // An event this node cannot read (one of a newer version, say): its streams would
            // miss it, so they resync. The payload is chat content, kept out of the log.
            tracing::warn!(unreadable, "unreadable event notifications; streams resync");
            hub.resync_all();
        }
        let fetched = if to_fetch.is_empty() {
            Ok(Vec::new())
        } else {
            match store.read().await {
                Ok(mut conn) => events::by_ids(&mut conn, &to_fetch).await,
                Err(e) => Err(e),
            }
        };
        match fetched {
            // The batch came in commit order, which for the events of any one workspace is id
            // order too: id order puts the fetched ones back in their places.
            Ok(fetched) => {
                carried.extend(fetched);
                carried.sort_by_key(|stored| stored.id);
                hub.publish(carried);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot fetch notified events");
                hub.resync_all();
            }
        }
    }
}
