//! The visitors' side: starting a chat from a widget, writing, asking for a person, reading
//! their own chat, and telling where they are. Every such request is a sighting of the
//! visitor (`Service::note_sighting`, or `record_sighting` inside a write of theirs). Who
//! they are (identity from the embedding site) is in `identity`; the AI's turn that follows
//! a visitor's message is in `ai_turns`.

use super::assignment::{add_message, hand_to_team, reopen_for_visitor};
use super::effects::Effects;
use super::identity::Identity;
use super::queue::place_in_line;
use super::tokens::{hash_token, new_token};
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::event::Event;
use crate::domain::sighting::{Page, Sighting};
use crate::domain::{Author, Id, Millis, Status};
use crate::store::conversations as convs;
use crate::store::{
    Conversation, Db, Message, Visitor, Widget, WriteTx, timers, visitors, widgets,
};
use crate::timefmt::now_millis;

pub struct StartedConversation {
    pub conversation_id: Id,
    pub visitor_token: String,
}

/// A visitor's first message and what comes with it.
pub struct NewChat<'a> {
    pub body: &'a str,
    /// A returning visitor's token; a new visitor gets one.
    pub visitor_token: Option<&'a str>,
    /// Who the embedding site says the visitor is (checked against the widget's secret).
    pub identity: Option<Identity<'a>>,
    /// "Talk to a person" before the first message: the chat goes to the team at once and the
    /// AI does not answer it.
    pub handover: bool,
}

/// What a visitor sees of their chat: no teammate emails, only display names.
pub struct VisitorConversation {
    pub conversation: Conversation,
    pub assignee_name: Option<String>,
    pub messages: Vec<VisitorMessage>,
    /// Where it stands in line, while it is queued.
    pub queue: Option<crate::domain::queue::Place>,
    /// The email the visitor gave (or the embedding site did), to be told of missed replies.
    pub visitor_email: Option<String>,
}

pub struct VisitorMessage {
    pub message: Message,
    pub operator_name: Option<String>,
}

/// Checks what a visitor request says about where the visitor is: the page the widget reports
/// (`url`, and `referrer` when it came from another site) and the browser's `User-Agent`.
pub fn sighting(
    page: Option<(&str, Option<&str>)>,
    user_agent: Option<&str>,
) -> ServiceResult<Sighting> {
    let page = match page {
        Some((url, referrer)) => Some(Page {
            url: validate::page_url("page.url", url)?,
            referrer: match referrer.filter(|r| !r.is_empty()) {
                Some(referrer) => Some(validate::page_url("page.referrer", referrer)?),
                None => None,
            },
        }),
        None => None,
    };
    Ok(Sighting {
        page,
        user_agent: user_agent.and_then(validate::user_agent),
    })
}

impl Service {
    /// Starts a conversation on the widget with the given public key. A returning visitor
    /// passes their token to keep all their chats under one identity; a new one gets a token.
    /// With an identity, the visitor is identified first (a wrong hash is a 403 and nothing
    /// is created). The AI's answer follows on the visitor's stream, unless the visitor asked
    /// for a person from the start.
    pub async fn start_conversation(
        &self,
        widget_key: &str,
        chat: NewChat<'_>,
        sighting: &Sighting,
    ) -> ServiceResult<StartedConversation> {
        validate::message_body(chat.body)?;
        let widget = self.widget_by_key(widget_key).await?;
        if let Some(identity) = &chat.identity {
            identity.verify(&widget)?;
        }
        let now = now_millis();
        let mut effects = Effects::new(now);
        let mut tx = self.lock_workspace(widget.workspace_id).await?;
        let (token, visitor) = match chat.visitor_token {
            Some(token) => {
                let visitor = visitors::by_token(tx.conn(), widget.id, &hash_token(token))
                    .await?
                    .ok_or(unknown_token())?;
                (token.to_owned(), visitor)
            }
            None => {
                let token = new_token();
                let visitor = visitors::insert(tx.conn(), widget.id, sighting, now).await?;
                visitors::assign_token(tx.conn(), &hash_token(&token), visitor.id, now).await?;
                (token, visitor)
            }
        };
        let visitor = match &chat.identity {
            Some(identity) => {
                identity
                    .apply(&mut tx, &widget, visitor, &hash_token(&token), &mut effects)
                    .await?
            }
            None => visitor,
        };
        record_sighting(&mut tx, &visitor, sighting, now).await?;
        let mut conv =
            convs::insert(tx.conn(), widget.workspace_id, widget.id, visitor.id, now).await?;
        effects.events.push(Event::conversation_created(&conv, now));
        if widget.auto_close_after_secs.is_some() {
            timers::arm_auto_close(tx.conn(), conv.id).await?;
            effects.timers_armed = true;
        }
        add_message(
            &mut tx,
            &mut conv,
            Author::Visitor,
            None,
            chat.body,
            &mut effects,
        )
        .await?;
        if chat.handover {
            hand_to_team(&mut tx, &mut conv, &mut effects).await?;
        }
        self.commit(tx, effects).await?;
        if conv.status == Status::Active {
            self.spawn_ai_turn(&conv);
        }
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
        sighting: &Sighting,
    ) -> ServiceResult<Message> {
        validate::message_body(body)?;
        let (mut tx, conv, visitor, effects) = self
            .begin_for_visitor(widget_key, visitor_token, id)
            .await?;
        record_sighting(&mut tx, &visitor, sighting, effects.now).await?;
        let (_, message) = self.write_as_visitor(tx, conv, effects, body).await?;
        Ok(message)
    }

    /// The visitor's message in their locked conversation, committed; then the AI's turn if
    /// the AI has the chat.
    pub(super) async fn write_as_visitor(
        &self,
        mut tx: WriteTx,
        mut conv: Conversation,
        mut effects: Effects,
        body: &str,
    ) -> ServiceResult<(Conversation, Message)> {
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
        Ok((conv, message))
    }

    /// "Talk to a person": an AI handover requested by the visitor. Idempotent on a chat the
    /// team already has; on a closed chat it reopens it like a new message would. Answers
    /// with what the visitor sees of the chat once it is committed.
    pub async fn visitor_handover(
        &self,
        widget_key: &str,
        visitor_token: &str,
        id: Id,
        sighting: &Sighting,
    ) -> ServiceResult<VisitorConversation> {
        let (mut tx, mut conv, visitor, mut effects) = self
            .begin_for_visitor(widget_key, visitor_token, id)
            .await?;
        record_sighting(&mut tx, &visitor, sighting, effects.now).await?;
        match conv.status {
            Status::Active => {
                hand_to_team(&mut tx, &mut conv, &mut effects).await?;
            }
            Status::Closed => reopen_for_visitor(&mut tx, &mut conv, &mut effects).await?,
            Status::HandedOff => {}
        }
        self.commit(tx, effects).await?;
        let mut conn = self.store.read().await?;
        let conversation = convs::get(&mut conn, conv.workspace_id, conv.id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        view_of(&mut conn, conversation).await
    }

    pub async fn visitor_conversation(
        &self,
        widget_key: &str,
        visitor_token: &str,
        id: Id,
        sighting: &Sighting,
    ) -> ServiceResult<VisitorConversation> {
        let widget = self.widget_by_key(widget_key).await?;
        let mut conn = self.store.read().await?;
        let conversation =
            convs::get_for_visitor(&mut conn, widget.id, &hash_token(visitor_token), id)
                .await?
                .ok_or(ServiceError::NotFound("conversation"))?;
        let view = view_of(&mut conn, conversation).await?;
        drop(conn);
        self.note_sighting_of(widget.id, visitor_token, sighting)
            .await?;
        Ok(view)
    }

    /// The widget tells where the visitor is now (a page load, a new page of a single-page
    /// site). An unknown token is a 401.
    pub async fn visitor_seen(
        &self,
        widget_key: &str,
        visitor_token: &str,
        sighting: &Sighting,
    ) -> ServiceResult<()> {
        let visitor = self.visitor_by_token(widget_key, visitor_token).await?.1;
        self.note_sighting(&visitor, sighting).await
    }

    /// The widget's public face, for the widget before any chat: its greeting.
    pub async fn public_widget(&self, widget_key: &str) -> ServiceResult<Widget> {
        self.widget_by_key(widget_key).await
    }

    pub(super) async fn widget_by_key(&self, key: &str) -> ServiceResult<Widget> {
        widget_by_key_on(&mut self.store.read().await?, key).await
    }

    /// The widget with this key and its visitor holding this token; an unknown token is a 401.
    pub(super) async fn visitor_by_token(
        &self,
        widget_key: &str,
        visitor_token: &str,
    ) -> ServiceResult<(Widget, Visitor)> {
        let widget = self.widget_by_key(widget_key).await?;
        let visitor = visitors::by_token(
            &mut self.store.read().await?,
            widget.id,
            &hash_token(visitor_token),
        )
        .await?
        .ok_or(unknown_token())?;
        Ok((widget, visitor))
    }

    /// Records a sighting of the visitor holding this token, if any (see `note_sighting`).
    async fn note_sighting_of(
        &self,
        widget_id: Id,
        visitor_token: &str,
        sighting: &Sighting,
    ) -> ServiceResult<()> {
        let visitor = visitors::by_token(
            &mut self.store.read().await?,
            widget_id,
            &hash_token(visitor_token),
        )
        .await?;
        match visitor {
            Some(visitor) => self.note_sighting(&visitor, sighting).await,
            None => Ok(()),
        }
    }

    /// Records a sighting outside any other write, and only when it changes something
    /// (`Sighting::worth_recording`): a widget that reads its chat again and again writes
    /// the visitor's row at most once a minute. A read does not take the workspace's lock,
    /// which every assignment of the workspace waits for, just to record it.
    pub(super) async fn note_sighting(
        &self,
        visitor: &Visitor,
        sighting: &Sighting,
    ) -> ServiceResult<()> {
        let now = now_millis();
        if !sighting.worth_recording(visitor.last_seen(), now) {
            return Ok(());
        }
        let mut tx = self.store.write().await?;
        visitors::record_sighting(tx.conn(), visitor.id, sighting, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reads the widget and the visitor holding the token, then locks the widget's workspace
    /// and loads the visitor's own conversation: any other conversation, or a wrong token, is
    /// a 404. The visitor's record comes with it, read before the lock, so that the write can
    /// record the sighting in its own transaction (`record_sighting`) instead of another one.
    pub(super) async fn begin_for_visitor(
        &self,
        widget_key: &str,
        visitor_token: &str,
        id: Id,
    ) -> ServiceResult<(WriteTx, Conversation, Visitor, Effects)> {
        let token_hash = hash_token(visitor_token);
        let mut conn = self.store.read().await?;
        let widget = widget_by_key_on(&mut conn, widget_key).await?;
        let visitor = visitors::by_token(&mut conn, widget.id, &token_hash)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        drop(conn);
        let mut tx = self.lock_workspace(widget.workspace_id).await?;
        let conv = convs::get_for_visitor(tx.conn(), widget.id, &token_hash, id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        Ok((tx, conv, visitor, Effects::new(now_millis())))
    }
}

/// The widget with this public key, read on `conn`; an unknown key is a 404.
async fn widget_by_key_on(conn: &mut Db, key: &str) -> ServiceResult<Widget> {
    widgets::by_key(conn, key)
        .await?
        .ok_or(ServiceError::NotFound("widget"))
}

/// What the visitor sees of their conversation: its messages with the teammates' names, who
/// answers, why it waits and where it stands in line, and the email they left.
pub(super) async fn view_of(
    conn: &mut Db,
    conversation: Conversation,
) -> ServiceResult<VisitorConversation> {
    let view = convs::visitor_view(conn, conversation.id, conversation.assignee_id).await?;
    let messages = view
        .messages
        .into_iter()
        .map(|(message, operator_name)| VisitorMessage {
            message,
            operator_name,
        })
        .collect();
    // A chat never queued, or out of the queue, has no place; the line is not read for it.
    let queue = match conversation.queued_at {
        Some(_) => place_in_line(conn, conversation.workspace_id, conversation.id).await?,
        None => None,
    };
    Ok(VisitorConversation {
        assignee_name: view.assignee_name,
        conversation,
        messages,
        queue,
        visitor_email: view.visitor_email,
    })
}

/// Records a sighting inside a write that has the visitor's record anyway (starting a chat,
/// identifying, writing to or handing over their chat), when it changes something.
pub(super) async fn record_sighting(
    tx: &mut WriteTx,
    visitor: &Visitor,
    sighting: &Sighting,
    now: Millis,
) -> ServiceResult<()> {
    if sighting.worth_recording(visitor.last_seen(), now) {
        visitors::record_sighting(tx.conn(), visitor.id, sighting, now).await?;
    }
    Ok(())
}

pub(super) fn unknown_token() -> ServiceError {
    ServiceError::Unauthenticated("Unknown visitor token for this widget")
}
