//! The seam between the two backends' event delivery: the only place that knows how events
//! committed on this node reach the open streams of every node.

use tokio::sync::oneshot;

use super::{Hub, pg_bridge};
use crate::domain::Millis;
use crate::domain::event::Event;
use crate::store::{Backend, Store, StoreResult, WriteTx, events};

/// Appends a transaction's events to the event log and delivers them once it has committed.
/// Chosen once, at start-up, for the store's backend; cheap to clone.
#[derive(Clone)]
pub struct EventSink {
    hub: Hub,
    route: Route,
}

#[derive(Debug, Clone, Copy)]
enum Route {
    /// SQLite: one node, so this process publishes to its own hub right after the commit.
    Local,
    /// PostgreSQL: the transaction sends a NOTIFY, which every node's LISTEN bridge, this
    /// one's included, turns into deliveries to its hub.
    Notify,
}

impl EventSink {
    /// The sink for `store`'s backend. On PostgreSQL it starts this node's LISTEN bridge
    /// (running until the hub's shutdown signal fires) and returns once it listens, so the
    /// server takes no request whose events it would miss.
    pub async fn start(store: &Store, database_url: &str, hub: Hub) -> EventSink {
        let route = match store.backend() {
            Backend::Sqlite => Route::Local,
            Backend::Postgres => {
                let (ready, listening) = oneshot::channel();
                tokio::spawn(pg_bridge::run(
                    database_url.to_owned(),
                    store.clone(),
                    hub.clone(),
                    ready,
                    hub.shutdown(),
                ));
                let _ = listening.await;
                Route::Notify
            }
        };
        EventSink { hub, route }
    }

    /// A sink for a command that changes the database beside running servers (`switchboard
    /// admin`): it appends to the event log and, on PostgreSQL, notifies every server, but
    /// listens to nothing itself. A SQLite server in another process is not reached: its
    /// streams see the change when they reconnect.
    pub fn publisher(store: &Store, hub: Hub) -> EventSink {
        let route = match store.backend() {
            Backend::Sqlite => Route::Local,
            Backend::Postgres => Route::Notify,
        };
        EventSink { hub, route }
    }

    /// Where this node's streams subscribe.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Appends `events` to the log in `tx`, commits it, then delivers them: never before the
    /// commit, and not at all if it fails. Deliveries follow commit order: on SQLite because
    /// the hub is published to in commit order, after the COMMIT (`WriteTx::commit_then`); on
    /// PostgreSQL because it delivers each commit's NOTIFY in commit order.
    pub async fn commit(
        &self,
        mut tx: WriteTx,
        events: Vec<Event>,
        now: Millis,
    ) -> StoreResult<()> {
        match self.route {
            Route::Local => {
                let stored = events::append(tx.conn(), events, now).await?;
                let hub = self.hub.clone();
                tx.commit_then(move || hub.publish(stored)).await?;
            }
            Route::Notify => {
                // The ids are only for the NOTIFY, which the database makes itself, so
                // appending costs no round trip: it goes with the COMMIT.
                events::append_and_notify(tx.conn(), &events, now).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
