//! Reaching a visitor who left (SPEC 10): the email they leave in the widget, and the replies
//! written while they have no widget open, emailed together after a delay unless they come
//! back first (`presence`), with a link to a page where they read and continue that one chat
//! (`chat_links`).

use super::tokens::{hash_token, new_token};
use super::{Service, ServiceResult, validate};
use crate::domain::event::Event;
use crate::domain::notification::OutboxKind;
use crate::domain::{Id, Millis};
use crate::notify::visitor_email::{MissedReply, VisitorRepliesEmail};
use crate::store::notifications::{self, NewNotification};
use crate::store::{
    Conversation, Message, Operator, WriteTx, chat_links, visitor_streams, visitors, workspaces,
};

/// How long a chat's emailed link opens it.
pub const CHAT_LINK_LIFETIME_MS: Millis = 30 * 24 * 60 * 60 * 1000;

impl Service {
    /// Sets the email of the visitor whose conversation this is (their token names it): they
    /// will be emailed the replies they miss. Something that is not an address is a 400;
    /// another visitor's conversation is a 404.
    pub async fn set_visitor_email(
        &self,
        widget_key: &str,
        visitor_token: &str,
        id: Id,
        email: &str,
    ) -> ServiceResult<()> {
        let email = validate::email(email)?;
        let (mut tx, conv, visitor, mut effects) = self
            .begin_for_visitor(widget_key, visitor_token, id)
            .await?;
        visitors::set_email(tx.conn(), visitor.id, &email).await?;
        effects.events.push(Event::visitor_updated(
            conv.workspace_id,
            visitor.id,
            None,
            effects.now,
        ));
        self.commit(tx, effects).await
    }

    /// An operator's reply, inside its transaction: if the visitor left an email and has no
    /// widget open, the reply waits to be emailed, joining the email already waiting for this
    /// chat, if any, or starting one due `--visitor-email-delay-secs` from now with a fresh
    /// link to the chat.
    pub(super) async fn hold_for_absent_visitor(
        &self,
        tx: &mut WriteTx,
        conv: &Conversation,
        reply: &Message,
        author: &Operator,
        now: Millis,
    ) -> ServiceResult<()> {
        if !self.settings.email_enabled {
            return Ok(());
        }
        let Some(visitor) = visitors::of_conversation(tx.conn(), conv.id).await? else {
            return Ok(());
        };
        let Some(address) = visitor.email.as_deref() else {
            return Ok(());
        };
        if visitor_streams::any_open(tx.conn(), visitor.id, conv.id, now).await? {
            return Ok(());
        }
        let missed = MissedReply {
            operator_name: author.name.clone(),
            body: reply.body.clone(),
        };
        let waiting = notifications::pending_visitor_replies(tx.conn(), conv.id, now).await?;
        if let Some((row, payload)) = waiting
            && let Ok(mut email) = serde_json::from_str::<VisitorRepliesEmail>(&payload)
        {
            email.replies.push(missed);
            let payload = serde_json::to_string(&email).unwrap_or_default();
            notifications::set_payload(tx.conn(), row, &payload).await?;
            return Ok(());
        }
        let token = new_token();
        let expires_at = now + CHAT_LINK_LIFETIME_MS;
        chat_links::insert(tx.conn(), &hash_token(&token), conv.id, now, expires_at).await?;
        let team_name = workspaces::get(tx.conn(), conv.workspace_id)
            .await?
            .map(|w| w.name)
            .unwrap_or_default();
        let email = VisitorRepliesEmail {
            visitor_name: visitor.name.clone(),
            team_name,
            link: format!("{}/chat/{token}", self.settings.public_url),
            replies: vec![missed],
        };
        let payload = serde_json::to_string(&email).unwrap_or_default();
        let row = NewNotification {
            operator_id: None,
            email: Some(address),
            kind: OutboxKind::VisitorReplies,
            conversation_id: Some(conv.id),
            channel: "email",
            push_subscription_id: None,
            idempotency_key: &format!("visitor-replies-{}-{}", conv.id, reply.id),
            payload: &payload,
        };
        let due = now + self.settings.visitor_email_delay.as_millis() as Millis;
        notifications::enqueue(tx.conn(), &row, now, due).await?;
        Ok(())
    }
}
