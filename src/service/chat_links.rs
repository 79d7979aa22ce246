//! The page an emailed link opens (`{public_url}/chat/{token}`): the visitor reads, answers and
//! follows that one conversation, and nothing else. The link's token is its only credential: an
//! unknown or expired one is a 404, like a conversation that is not theirs.

use super::effects::Effects;
use super::tokens::hash_token;
use super::visitor_presence::VisitorPresence;
use super::visitors::{VisitorConversation, view_of};
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::Id;
use crate::realtime::stream::{Audience, Stream};
use crate::store::{Conversation, Message, WriteTx, chat_links, workspaces};
use crate::timefmt::now_millis;

/// A conversation as its link shows it: the visitor's view and whom it is with.
pub struct LinkedChat {
    pub team_name: String,
    pub view: VisitorConversation,
}

fn unknown_link() -> ServiceError {
    ServiceError::NotFound("conversation")
}

impl Service {
    pub async fn chat_by_link(&self, token: &str) -> ServiceResult<LinkedChat> {
        let mut conn = self.store.read().await?;
        let conversation = chat_links::conversation(&mut conn, &hash_token(token), now_millis())
            .await?
            .ok_or_else(unknown_link)?;
        let team_name = workspaces::get(&mut conn, conversation.workspace_id)
            .await?
            .map(|w| w.name)
            .unwrap_or_default();
        let view = view_of(&mut conn, conversation).await?;
        Ok(LinkedChat { team_name, view })
    }

    /// Whether the link opens a conversation (a page answered with a 404 says it does not; the
    /// database being unreachable is left for the page's own requests to tell).
    pub async fn chat_link_opens(&self, token: &str) -> bool {
        !matches!(
            self.chat_by_link(token).await,
            Err(ServiceError::NotFound(_))
        )
    }

    /// The visitor writes from the link's page, as from the widget.
    pub async fn message_by_link(&self, token: &str, body: &str) -> ServiceResult<Message> {
        validate::message_body(body)?;
        let (tx, conv) = self.begin_for_link(token).await?;
        let effects = Effects::new(now_millis());
        Ok(self.write_as_visitor(tx, conv, effects, body).await?.1)
    }

    /// The conversation's live events, as its visitor receives them; open, it counts as the
    /// visitor being there.
    pub async fn stream_by_link(
        &self,
        token: &str,
        since: Option<Id>,
    ) -> ServiceResult<(Stream, VisitorPresence)> {
        let conversation = {
            let mut conn = self.store.read().await?;
            chat_links::conversation(&mut conn, &hash_token(token), now_millis())
                .await?
                .ok_or_else(unknown_link)?
        };
        let audience = Audience::VisitorChat(conversation.id);
        let stream = self
            .open_stream(conversation.workspace_id, audience, since)
            .await?;
        let presence = self
            .visitor_is_here(
                conversation.workspace_id,
                conversation.visitor_id,
                Some(conversation.id),
            )
            .await?;
        Ok((stream, presence))
    }

    /// Locks the workspace of the link's conversation and loads it.
    async fn begin_for_link(&self, token: &str) -> ServiceResult<(WriteTx, Conversation)> {
        let workspace_id = chat_links::conversation(
            &mut self.store.read().await?,
            &hash_token(token),
            now_millis(),
        )
        .await?
        .ok_or_else(unknown_link)?
        .workspace_id;
        let mut tx = self.lock_workspace(workspace_id).await?;
        let conversation = chat_links::conversation(tx.conn(), &hash_token(token), now_millis())
            .await?
            .ok_or_else(unknown_link)?;
        Ok((tx, conversation))
    }
}
