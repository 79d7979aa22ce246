//! Opening live streams: an operator's inbox tab, or a visitor's widget.

use super::tokens::hash_token;
use super::visitor_presence::VisitorPresence;
use super::{Service, ServiceError, ServiceResult};
use crate::domain::Id;
use crate::domain::sighting::Sighting;
use crate::realtime::stream::{Audience, SessionCheck, Stream};
use crate::store::{Operator, events, sessions};
use crate::timefmt::now_millis;

/// Most events replayed to a reconnecting stream; further back, the client refetches.
const MAX_BACKLOG: u32 = 1000;
/// How long the event log keeps events for `since`.
pub const EVENT_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

impl Service {
    /// Every event of the caller's workspace, after `since` if given. The stream closes when
    /// the session it was opened with (`session_token`) ends.
    pub async fn inbox_stream(
        &self,
        caller: &Operator,
        session_token: &str,
        since: Option<Id>,
    ) -> ServiceResult<Stream> {
        let audience = Audience::Inbox {
            operator_id: caller.id,
        };
        let mut stream = self
            .open_stream(caller.workspace_id, audience, since)
            .await?;
        let check = self.session_check(hash_token(session_token));
        // The session was checked before the stream subscribed: one that ended in between
        // would send its `SessionsEnded` event to nobody. Checked again now, nothing is missed.
        if check().await != Some(true) {
            return Err(ServiceError::Unauthenticated(
                "Sign in first: the session is missing, expired or ended",
            ));
        }
        stream.session = Some(check);
        Ok(stream)
    }

    /// Whether the session with this token hash still holds (see `realtime::stream`).
    fn session_check(&self, token_hash: String) -> SessionCheck {
        let store = self.store.clone();
        Box::new(move || {
            let (store, token_hash) = (store.clone(), token_hash.clone());
            Box::pin(async move {
                let mut conn = store.read().await.ok()?;
                let holder = sessions::operator(&mut conn, &token_hash, now_millis()).await;
                holder.ok().map(|operator| operator.is_some())
            })
        })
    }

    /// The visitor's replies and status effects, after `since` if given. An unknown token is
    /// a 401. Opening it is a sighting of the visitor, and while it is open they are there
    /// (`presence`).
    pub async fn visitor_stream(
        &self,
        widget_key: &str,
        visitor_token: &str,
        since: Option<Id>,
        sighting: &Sighting,
    ) -> ServiceResult<(Stream, VisitorPresence)> {
        let (widget, visitor) = self.visitor_by_token(widget_key, visitor_token).await?;
        self.note_sighting(&visitor, sighting).await?;
        let stream = self
            .open_stream(widget.workspace_id, Audience::Visitor(visitor.id), since)
            .await?;
        let presence = self
            .visitor_is_here(widget.workspace_id, visitor.id, None)
            .await?;
        Ok((stream, presence))
    }

    pub(super) async fn open_stream(
        &self,
        workspace_id: Id,
        audience: Audience,
        since: Option<Id>,
    ) -> ServiceResult<Stream> {
        // Subscribe first: an event committed while the backlog is read is then in both, and
        // the stream skips the copy by id.
        let live = self.events.hub().subscribe(workspace_id);
        let mut conn = self.store.read().await?;
        // Within a workspace, event ids follow commit order: everything up to the newest id
        // now was committed before this stream opened.
        let latest = events::latest_id(&mut conn, workspace_id).await?;
        let (start_after, backlog, backlog_truncated) = match since {
            None => (latest, Vec::new(), false),
            Some(since)
                if since > 0 && !events::retained(&mut conn, workspace_id, since).await? =>
            {
                (latest, Vec::new(), true)
            }
            Some(since) => {
                let backlog = events::after(&mut conn, workspace_id, since, MAX_BACKLOG).await?;
                if backlog.len() == MAX_BACKLOG as usize {
                    (latest, Vec::new(), true)
                } else {
                    (since, backlog, false)
                }
            }
        };
        Ok(Stream {
            audience,
            live,
            start_after,
            backlog,
            backlog_truncated,
            session: None,
            shutdown: self.events.hub().shutdown(),
        })
    }

    /// Forgets events too old to replay; returns how many.
    pub async fn prune_events(&self) -> ServiceResult<u64> {
        let mut tx = self.store.write().await?;
        let pruned = events::prune(tx.conn(), now_millis() - EVENT_RETENTION_MS).await?;
        tx.commit().await?;
        Ok(pruned)
    }
}
