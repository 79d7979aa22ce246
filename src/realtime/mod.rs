//! Live events after they are committed: the per-workspace hub that fans them out to this
//! process's open streams, the stream pump itself, and `EventSink`, which appends each
//! transaction's events to the log and delivers them after commit on either backend (through
//! PostgreSQL LISTEN/NOTIFY to every node, on PostgreSQL).

mod event;
mod hub;
mod pg_bridge;
mod sink;
pub mod stream;

pub use hub::{Delivery, Hub, Signal};
pub use sink::EventSink;
