//! The AI's turns: answering (or handing over) after a visitor's message, in the background;
//! handing the chat to the team when a turn fails, retrying while even that fails; and taking
//! over the turns a stopped process still owed, at start-up and from a periodic sweep.

use std::time::Duration;

use super::assignment::{add_message, hand_to_team};
use super::effects::Effects;
use super::{Service, ServiceError, ServiceResult};
use crate::ai::{AiTurn, Turn};
use crate::domain::{Author, Id, Millis, Status};
use crate::store::{Conversation, conversations as convs, widgets};
use crate::timefmt::now_millis;

/// Between two attempts of a turn that could neither answer nor hand over (or until the
/// database is reachable again, whichever comes first).
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(10);
/// How often each node looks for turns that other nodes owed and did not finish.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

impl Service {
    /// Lets the AI take its turn in the background: the visitor's request returns at once and
    /// the answer arrives on their stream, however slow the responder is.
    pub(super) fn spawn_ai_turn(&self, conv: &Conversation) {
        self.spawn_ai_turn_on(conv.workspace_id, conv.widget_id, conv.id);
    }

    fn spawn_ai_turn_on(&self, workspace_id: Id, widget_id: Id, id: Id) {
        let service = self.clone();
        tokio::spawn(async move { service.take_ai_turn(workspace_id, widget_id, id).await });
    }

    /// Runs the AI's turn until it has answered or handed over. A turn that fails (the
    /// responder, or the database) hands the chat to the team instead; when that fails too
    /// (the database is down), the whole turn is tried again with backoff, and at once when the
    /// database is back, until one of them succeeds or the process stops, so a visitor is
    /// never left without an answer or a person on the way.
    async fn take_ai_turn(&self, workspace_id: Id, widget_id: Id, id: Id) {
        let mut wait = FIRST_RETRY;
        for attempt in 1.. {
            let error = match self.ai_turn(workspace_id, widget_id, id).await {
                Ok(()) => return,
                Err(error) => error,
            };
            // While the database is unreachable the store says so, once; not every chat.
            let quiet = matches!(error, ServiceError::Unavailable(_));
            if attempt == 1 && !quiet {
                tracing::warn!(%error, conversation_id = id, "the AI's turn failed; handing over");
            }
            let error = match self.hand_over_waiting(workspace_id, id).await {
                // Done, or the chat is gone: nothing is owed any more.
                Ok(()) | Err(ServiceError::NotFound(_)) => return,
                Err(error) => error,
            };
            if attempt == 1 && !matches!(error, ServiceError::Unavailable(_)) {
                tracing::warn!(%error, conversation_id = id, "could not hand over either; retrying until it can");
            } else {
                tracing::debug!(%error, conversation_id = id, attempt, "the AI's turn is still owed");
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.store.reachable_again() => {}
                () = self.settings.shutdown.cancelled() => return,
            }
            wait = (wait * 2).min(LAST_RETRY);
        }
    }

    /// Takes over the turns still owed on chats whose last message is older than `before`:
    /// their process stopped (or gave up) between the visitor's message and the answer. Each
    /// is leased first, so of several nodes only one takes it. Returns how many it took.
    async fn take_owed_ai_turns(&self, before: Millis) -> ServiceResult<usize> {
        let now = now_millis();
        let owed = convs::awaiting_ai(&mut self.store.read().await?, before, now).await?;
        let lease_until = now + self.settings.ai_turn_takeover.as_millis() as Millis;
        let mut taken = 0;
        for (workspace_id, widget_id, id) in owed {
            let mut tx = self.store.write().await?;
            let leased = convs::lease_ai_turn(tx.conn(), id, now, lease_until).await?;
            tx.commit().await?;
            if leased {
                self.spawn_ai_turn_on(workspace_id, widget_id, id);
                taken += 1;
            }
        }
        Ok(taken)
    }

    /// At start-up: every turn still owed, however recent (this process owed some of them
    /// before it stopped).
    pub async fn resume_ai_turns(&self) -> ServiceResult<usize> {
        self.take_owed_ai_turns(now_millis() + 1).await
    }

    /// Until shutdown, takes over now and then the turns that some node owed longer than a
    /// turn can take (`ai_turn_takeover`) and did not finish: that node died.
    pub async fn sweep_owed_ai_turns(self) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(SWEEP_EVERY) => {}
                () = self.settings.shutdown.cancelled() => return,
            }
            let before = now_millis() - self.settings.ai_turn_takeover.as_millis() as Millis;
            match self.take_owed_ai_turns(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    conversations = n,
                    "took over the AI's turns that another process owed"
                ),
                Err(error) => {
                    tracing::debug!(%error, "cannot look for owed AI turns; trying again later")
                }
            }
        }
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
