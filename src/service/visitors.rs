//! The visitors' side: starting a chat from a widget, writing, asking for a person, reading
//! their own chat. The AI's turn that follows a visitor's message is in `ai_turns`.

use super::assignment::{add_message, hand_to_team, reopen_for_visitor};
use super::effects::Effects;
use super::tokens::{hash_token, new_token};
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::event::Event;
use crate::domain::{Author, Id, Status};
use crate::store::conversations as convs;
use crate::store::{Conversation, Message, Widget, WriteTx, operators, widgets};
use crate::timefmt::now_millis;

pub struct StartedConversation {
    pub conversation_id: Id,
    pub visitor_token: String,
}

/// What a visitor sees of their chat: no teammate emails, only display names.
pub struct VisitorConversation {
    pub conversation: Conversation,
    pub assignee_name: Option<String>,
    pub messages: Vec<VisitorMessage>,
}

pub struct VisitorMessage {
    pub message: Message,
    pub operator_name: Option<String>,
}

impl Service {
    /// Starts a conversation on the widget with the given public key. A returning visitor
    /// passes their token to keep all their chats under one identity; a new one gets a token.
    /// The AI's answer follows on the visitor's stream.
    pub async fn start_conversation(
        &self,
        widget_key: &str,
        body: &str,
        visitor_token: Option<&str>,
    ) -> ServiceResult<StartedConversation> {
        validate::message_body(body)?;
        let widget = self.widget_by_key(widget_key).await?;
        let now = now_millis();
        let mut tx = self.lock_workspace(widget.workspace_id).await?;
        let (visitor_id, token) = match visitor_token {
            Some(token) => {
                let id = convs::visitor_by_token(tx.conn(), widget.id, &hash_token(token))
                    .await?
                    .ok_or(ServiceError::Unauthenticated(
                        "Unknown visitor token for this widget",
                    ))?;
                (id, token.to_owned())
            }
            None => {
                let token = new_token();
                (
                    convs::insert_visitor(tx.conn(), widget.id, &hash_token(&token), now).await?,
                    token,
                )
            }
        };
        let mut conv =
            convs::insert(tx.conn(), widget.workspace_id, widget.id, visitor_id, now).await?;
        let mut effects = Effects::new(now);
        effects.events.push(Event::conversation_created(&conv, now));
        add_message(
            &mut tx,
            &mut conv,
            Author::Visitor,
            None,
            body,
            &mut effects,
        )
        .await?;
        self.commit(tx, effects).await?;
        self.spawn_ai_turn(&conv);
        Ok(StartedConversation {
            conversation_id: conv.id,
            visitor_token: token,
        })
    }

    /// A visitor's message. On a closed chat it reopens it (see `reopen_for_visitor`); on an
    /// AI-handled chat the AI's answer follows on the visitor's stream.
    pub async fn visitor_message(
        &self,
        widget_key: &str,
        visitor_token: &str,
        id: Id,
        body: &str,
    ) -> ServiceResult<Message> {
        validate::message_body(body)?;
        let (mut tx, mut conv, mut effects) = self
            .begin_for_visitor(widget_key, visitor_token, id)
            .await?;
        let message = add_message(
            &mut tx,
            &mut conv,
            Author::Visitor,
            None,
            body,
            &mut effects,
        )
        .await?;
        if conv.status == Status::Closed {
            reopen_for_visitor(&mut tx, &mut conv, &mut effects).await?;
        }
        self.commit(tx, effects).await?;
        if conv.status == Status::Active {
            self.spawn_ai_turn(&conv);
        }
        Ok(message)
    }

    /// "Talk to a person": an AI handover requested by the visitor. Idempotent on a chat the
    /// team already has; on a closed chat it reopens it like a new message would.
    pub async fn visitor_handover(
        &self,
        widget_key: &str,
        visitor_token: &str,
        id: Id,
    ) -> ServiceResult<Conversation> {
        let (mut tx, mut conv, mut effects) = self
            .begin_for_visitor(widget_key, visitor_token, id)
            .await?;
        match conv.status {
            Status::Active => {
                hand_to_team(&mut tx, &mut conv, &mut effects).await?;
            }
            Status::Closed => reopen_for_visitor(&mut tx, &mut conv, &mut effects).await?,
            Status::HandedOff => {}
        }
        self.commit(tx, effects).await?;
        Ok(conv)
    }

    pub async fn visitor_conversation(
        &self,
        widget_key: &str,
        visitor_token: &str,
        id: Id,
    ) -> ServiceResult<VisitorConversation> {
        let widget = self.widget_by_key(widget_key).await?;
        let mut conn = self.store.read().await?;
        let conversation =
            convs::get_for_visitor(&mut conn, widget.id, &hash_token(visitor_token), id)
                .await?
                .ok_or(ServiceError::NotFound("conversation"))?;
        let team = operators::list_with_loads(&mut conn, widget.workspace_id).await?;
        let name_of = |id: Option<Id>| {
            id.and_then(|id| team.iter().find(|o| o.operator.id == id))
                .map(|o| o.operator.name.clone())
        };
        let messages = convs::messages(&mut conn, id)
            .await?
            .into_iter()
            .map(|message| VisitorMessage {
                operator_name: name_of(message.operator_id),
                message,
            })
            .collect();
        Ok(VisitorConversation {
            assignee_name: name_of(conversation.assignee_id),
            conversation,
            messages,
        })
    }

    pub(super) async fn widget_by_key(&self, key: &str) -> ServiceResult<Widget> {
        widgets::by_key(&mut *self.store.read().await?, key)
            .await?
            .ok_or(ServiceError::NotFound("widget"))
    }

    /// Locks the widget's workspace and loads the visitor's own conversation: any other
    /// conversation, or a wrong token, is a 404.
    async fn begin_for_visitor(
        &self,
        widget_key: &str,
        visitor_token: &str,
        id: Id,
    ) -> ServiceResult<(WriteTx, Conversation, Effects)> {
        let widget = self.widget_by_key(widget_key).await?;
        let mut tx = self.lock_workspace(widget.workspace_id).await?;
        let conv = convs::get_for_visitor(tx.conn(), widget.id, &hash_token(visitor_token), id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        Ok((tx, conv, Effects::new(now_millis())))
    }
}
