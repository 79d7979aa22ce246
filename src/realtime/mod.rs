//! Live events: what happened, published after the transaction that made it commit.

mod event;
mod hub;

pub use event::{Event, EventKind};
pub use hub::Hub;
