//! Whether a visitor is there: their widget streams, open on any node (`store::visitor_streams`).
//! A reply to a visitor who is not there is emailed later (`missed_replies`); a visitor who
//! opens a stream is back, and the emails still waiting for them are dropped.
//!
//! Each process is a node with a random id that beats every `BEAT` to stay alive for `ALIVE`;
//! a crashed node's streams stop counting within `ALIVE`.

use std::time::Duration;

use super::{Service, ServiceResult};
use crate::domain::{Id, Millis};
use crate::store::{Store, StoreResult, notifications, visitor_streams};
use crate::timefmt::now_millis;

const BEAT: Duration = Duration::from_secs(10);
const ALIVE: Duration = Duration::from_secs(30);

/// A visitor's open stream, recorded until this is dropped (when the stream ends, or its
/// upgrade fails).
pub struct VisitorPresence {
    service: Service,
    id: Id,
}

impl Drop for VisitorPresence {
    fn drop(&mut self) {
        let (service, id) = (self.service.clone(), self.id);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { service.close_visitor_stream(id).await });
        }
    }
}

/// A fresh node id: 128 random bits in hex.
pub fn new_node_id() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Marks the node alive for `ALIVE` from now.
pub async fn beat(store: &Store, node_id: &str) -> StoreResult<()> {
    let now = now_millis();
    let mut tx = store.write().await?;
    let until = now + ALIVE.as_millis() as Millis;
    visitor_streams::heartbeat(tx.conn(), node_id, until, now).await?;
    tx.commit().await?;
    Ok(())
}

impl Service {
    /// Records the visitor's new stream, following all their chats (the widget) or one
    /// (`conversation_id`, a chat link's page), and drops the emails of replies still waiting
    /// for what it follows, in the workspace's lock: a reply committed before is dropped, one
    /// committed after sees the stream, so a visitor who is back is never emailed what they can
    /// read.
    pub(super) async fn visitor_is_here(
        &self,
        workspace_id: Id,
        visitor_id: Id,
        conversation_id: Option<Id>,
    ) -> ServiceResult<VisitorPresence> {
        let mut tx = self.lock_workspace(workspace_id).await?;
        let now = now_millis();
        let node = &self.settings.node_id;
        let id = visitor_streams::open(tx.conn(), visitor_id, conversation_id, node, now).await?;
        notifications::cancel_visitor_replies(tx.conn(), visitor_id, conversation_id).await?;
        tx.commit().await?;
        Ok(VisitorPresence {
            service: self.clone(),
            id,
        })
    }

    /// Forgets an ended stream; one that cannot be forgotten now (the database is down) is
    /// retried with the next beat.
    async fn close_visitor_stream(&self, id: Id) {
        let closed = async {
            let mut tx = self.store.write().await?;
            visitor_streams::close(tx.conn(), id).await?;
            tx.commit().await?;
            Ok::<(), crate::store::StoreError>(())
        };
        if let Err(e) = closed.await {
            tracing::debug!(error = %e, "cannot record the end of a visitor stream; retrying");
            if let Ok(mut unclosed) = self.settings.unclosed_streams.lock() {
                unclosed.push(id);
            }
        }
    }

    /// Keeps this node alive until shutdown, and retries forgetting the streams that ended
    /// while the database was unreachable.
    pub async fn keep_node_alive(self) {
        let mut ticks = tokio::time::interval(BEAT);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = self.settings.shutdown.cancelled() => return,
            }
            if let Err(e) = beat(&self.store, &self.settings.node_id).await {
                tracing::debug!(error = %e, "cannot mark this node alive; retrying");
            }
            let unclosed = match self.settings.unclosed_streams.lock() {
                Ok(mut unclosed) => std::mem::take(&mut *unclosed),
                Err(_) => Vec::new(),
            };
            for id in unclosed {
                self.close_visitor_stream(id).await;
            }
        }
    }
}
