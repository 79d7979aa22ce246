//! The AI's turns: answering (or handing over) after a visitor's message, in the background;
//! handing the chat to the team when a turn fails; and, at start-up, the turns a stopped
//! process still owed.

use super::assignment::{add_message, hand_to_team};
use super::effects::Effects;
use super::{Service, ServiceError, ServiceResult};
use crate::ai::{AiTurn, Turn};
use crate::domain::{Author, Id, Status};
use crate::store::{Conversation, conversations as convs, widgets};
use crate::timefmt::now_millis;

impl Service {
    /// Lets the AI take its turn in the background: the visitor's request returns at once and
    /// the answer arrives on their stream, however slow the responder is. A turn that fails
    /// (the database, say) hands the chat to the team rather than leave the visitor waiting.
    pub(super) fn spawn_ai_turn(&self, conv: &Conversation) {
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
        let mut effects = Effects::new(now_millis());
        match turn {
            AiTurn::Reply(text) => {
                add_message(&mut tx, &mut conv, Author::Ai, None, &text, &mut effects).await?;
            }
            AiTurn::Handover => {
                hand_to_team(&mut tx, &mut conv, &mut effects).await?;
            }
        }
        self.commit(tx, effects).await
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
        let mut effects = Effects::new(now_millis());
        hand_to_team(&mut tx, &mut conv, &mut effects).await?;
        self.commit(tx, effects).await
    }
}
