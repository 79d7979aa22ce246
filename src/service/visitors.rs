//! The visitors' side: starting a chat from a widget, writing, asking for a person, reading
//! their own chat; and the AI's turn after each visitor message.

use super::assignment::{Changes, add_message, hand_over, reopen_for_visitor};
use super::tokens::{hash_token, new_token};
use super::{Service, ServiceError, ServiceResult, validate};
use crate::ai::{AiTurn, Turn};
use crate::domain::{Author, Id, Status};
use crate::realtime::Event;
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

const HANDOVER_NOTE: &str = "A person from the team will take it from here.";

/// The visitor or the AI asked for a person: the note the visitor sees, then the handover.
async fn hand_to_team(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    changes: &mut Changes,
) -> ServiceResult<()> {
    add_message(tx, conv, Author::System, None, HANDOVER_NOTE, changes).await?;
    hand_over(tx, conv, None, changes).await
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
        let mut changes = Changes::new(now);
        changes.events.push(Event::conversation_created(&conv, now));
        add_message(
            &mut tx,
            &mut conv,
            Author::Visitor,
            None,
            body,
            &mut changes,
        )
        .await?;
        self.commit(tx, changes).await?;
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
        let (mut tx, mut conv, mut changes) = self
            .begin_for_visitor(widget_key, visitor_token, id)
            .await?;
        let message = add_message(
            &mut tx,
            &mut conv,
            Author::Visitor,
            None,
            body,
            &mut changes,
        )
        .await?;
        if conv.status == Status::Closed {
            reopen_for_visitor(&mut tx, &mut conv, &mut changes).await?;
        }
        self.commit(tx, changes).await?;
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
        let (mut tx, mut conv, mut changes) = self
            .begin_for_visitor(widget_key, visitor_token, id)
            .await?;
        match conv.status {
            Status::Active => {
                hand_to_team(&mut tx, &mut conv, &mut changes).await?;
            }
            Status::Closed => reopen_for_visitor(&mut tx, &mut conv, &mut changes).await?,
            Status::HandedOff => {}
        }
        self.commit(tx, changes).await?;
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

    /// Lets the AI take its turn in the background: the visitor's request returns at once and
    /// the answer arrives on their stream, however slow the responder is. A turn that fails
    /// (the database, say) hands the chat to the team rather than leave the visitor waiting.
    fn spawn_ai_turn(&self, conv: &Conversation) {
        self.spawn_ai_turn_on(conv.workspace_id, conv.widget_id, conv.id);
    }

    fn spawn_ai_turn_on(&self, workspace_id: Id, widget_id: Id, id: Id) {
        let service = self.clone();
        tokio::spawn(async move {
            if let Err(error) = service.ai_turn(workspace_id, widget_id, id).await {
                tracing::warn!(%error, conversation_id = id, "the AI's turn failed; handing over");
                if let Err(error) = service.hand_over_waiting(workspace_id, id).await {
                    tracing::error!(%error, conversation_id = id, "could not hand over either");
                }
            }
        });
    }

    /// Gives the AI its turn on every chat still waiting for one: the process that owed those
    /// turns may have stopped between the visitor's message and the answer. Run at start-up;
    /// with several nodes each one may run it, and a turn that finds its chat already
    /// answered does nothing.
    pub async fn resume_ai_turns(&self) -> ServiceResult<usize> {
        let waiting = convs::awaiting_ai(&mut *self.store.read().await?).await?;
        for &(workspace_id, widget_id, id) in &waiting {
            self.spawn_ai_turn_on(workspace_id, widget_id, id);
        }
        Ok(waiting.len())
    }

    /// The AI's turn on an `active` conversation: it answers or hands over. Nothing happens if
    /// someone took the chat over while the responder was thinking, or if the transcript moved
    /// on: a newer visitor message has a turn of its own that sees it, and an answer already
    /// given (by another turn or another node) is not given twice.
    async fn ai_turn(&self, workspace_id: Id, widget_id: Id, id: Id) -> ServiceResult<()> {
        let (transcript, articles) = {
            let mut conn = self.store.read().await?;
            (
                convs::messages(&mut conn, id).await?,
                widgets::articles(&mut conn, widget_id).await?,
            )
        };
        let Some(answered) = transcript.last().map(|m| m.id) else {
            return Ok(());
        };
        let turn = self
            .responder
            .respond(Turn {
                transcript: &transcript,
                articles: &articles,
            })
            .await;
        let mut tx = self.lock_workspace(workspace_id).await?;
        let mut conv = convs::get(tx.conn(), workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        if conv.status != Status::Active
            || convs::latest_message_id(tx.conn(), id).await? != answered
        {
            return Ok(());
        }
        let mut changes = Changes::new(now_millis());
        match turn {
            AiTurn::Reply(text) => {
                add_message(&mut tx, &mut conv, Author::Ai, None, &text, &mut changes).await?;
            }
            AiTurn::Handover => {
                hand_to_team(&mut tx, &mut conv, &mut changes).await?;
            }
        }
        self.commit(tx, changes).await
    }

    /// Hands an AI-handled chat to the team without asking the AI.
    async fn hand_over_waiting(&self, workspace_id: Id, id: Id) -> ServiceResult<()> {
        let mut tx = self.lock_workspace(workspace_id).await?;
        let mut conv = convs::get(tx.conn(), workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        if conv.status != Status::Active {
            return Ok(());
        }
        let mut changes = Changes::new(now_millis());
        hand_to_team(&mut tx, &mut conv, &mut changes).await?;
        self.commit(tx, changes).await
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
    ) -> ServiceResult<(WriteTx, Conversation, Changes)> {
        let widget = self.widget_by_key(widget_key).await?;
        let mut tx = self.lock_workspace(widget.workspace_id).await?;
        let conv = convs::get_for_visitor(tx.conn(), widget.id, &hash_token(visitor_token), id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        Ok((tx, conv, Changes::new(now_millis())))
    }
}
