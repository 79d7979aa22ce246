//! Live events: written to the event log with the change that caused them, delivered after
//! commit to every open stream of the workspace, on this node and (through PostgreSQL
//! LISTEN/NOTIFY) on every other node.

mod event;
mod hub;
pub mod pg_bridge;
pub mod stream;

pub use event::{Event, EventKind, EventMessage, StoredEvent};
pub use hub::{Delivery, Hub, Signal};

/// Resolves once the server is shutting down (at once if it already is).
pub async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // An error means the hub is gone, which is a shutdown too.
    let _ = shutdown.wait_for(|stop| *stop).await;
}
