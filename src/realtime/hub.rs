use tokio::sync::broadcast;

use super::Event;

/// Fans events out to everyone listening in this process.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Event>,
}

impl Hub {
    pub fn new(capacity: usize) -> Hub {
        Hub {
            sender: broadcast::channel(capacity).0,
        }
    }

    /// Publishes events of one committed transaction, in order.
    pub fn publish(&self, events: Vec<Event>) {
        for event in events {
            // No receiver is not an error: nobody has a tab open.
            let _ = self.sender.send(event);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
