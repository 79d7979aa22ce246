//! Presence (SPEC 4 and 9): the toggle, with its hand-back, and presence that follows the
//! person's inbox tabs. Each change is serialised with routing under the workspace's lock, so a
//! decision sees either the old or the new availability, never a mix.

use super::assignment::move_away;
use super::effects::Effects;
use super::{Service, ServiceError, ServiceResult};
use crate::domain::event::Event;
use crate::domain::{AssignmentReason, Availability, AvailabilityReason, TimerKind};
use crate::store::{Operator, WriteTx, conversations as convs, operators, timers};
use crate::timefmt::now_millis;

/// How long a graceful stop waits for the open inbox streams to count their tabs closed.
const STREAMS_SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

impl Service {
    /// Sets the caller's presence by hand (reason `manual`). Whether it changed is decided
    /// under the lock (not from the caller as read at sign-in), so the last
    /// `availability_changed` event for an operator always matches what is stored, however
    /// toggles race across nodes. Turning Available drains the queue; turning Away with
    /// `hand_back` routes their open `handed_off` chats again (`assignee_away`), oldest first.
    /// Someone who turns Available with no inbox tab open (an API client) stays Available
    /// whatever tabs do, until they open one.
    pub async fn set_availability(
        &self,
        caller: &Operator,
        availability: Availability,
        hand_back: bool,
    ) -> ServiceResult<Operator> {
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        let before = current(&mut tx, caller).await?;
        let had_tab = availability == Availability::Available && before.open_tabs > 0;
        let reason = AvailabilityReason::Manual;
        operators::set_availability(tx.conn(), caller.id, availability, reason, had_tab).await?;
        timers::cancel(tx.conn(), TimerKind::Presence, caller.id).await?;
        let operator = Operator {
            availability,
            availability_reason: reason,
            had_tab: i64::from(had_tab),
            ..before.clone()
        };
        let mut effects = Effects::new(now_millis());
        if (before.availability, before.availability_reason) != (availability, reason) {
            effects
                .events
                .push(Event::availability_changed(&operator, effects.now));
        }
        match availability {
            Availability::Available => effects.drain = true,
            Availability::Away if hand_back => {
                for mut conv in
                    convs::handed_off_assigned_to(tx.conn(), caller.workspace_id, caller.id).await?
                {
                    let cause = AssignmentReason::AssigneeAway;
                    move_away(&mut tx, &mut conv, cause, Some(caller.id), &mut effects).await?;
                }
            }
            Availability::Away => {}
        }
        self.commit(tx, effects).await?;
        Ok(operator)
    }

    /// Held by an open inbox stream until it has counted its tab closed.
    pub fn track_stream(&self) -> tokio_util::task::task_tracker::TaskTrackerToken {
        self.settings.streams.token()
    }

    /// At a graceful stop: waits (a few seconds at most) for the open inbox streams, which the
    /// shutdown signal closes, to count their tabs closed, so that the count stays true.
    pub async fn settle_streams(&self) {
        self.settings.streams.close();
        let _ = tokio::time::timeout(STREAMS_SETTLE, self.settings.streams.wait()).await;
    }

    /// At start-up on SQLite, where this is the only node: tabs counted open are those of a
    /// process that stopped without counting them closed (it died). They are closed now, and
    /// their operators' grace starts.
    pub async fn forget_stale_tabs(&self) -> ServiceResult<()> {
        if self.store.backend() != crate::store::Backend::Sqlite {
            return Ok(());
        }
        let mut tx = self.store.write().await?;
        let due = now_millis() + self.settings.presence_grace.as_millis() as i64;
        operators::forget_open_tabs(tx.conn(), due).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One of the operator's inbox tabs opened (an inbox event stream, on this node). If they
    /// were Away because their last tab had closed, they are Available again.
    pub async fn inbox_tab_opened(&self, caller: &Operator) -> ServiceResult<()> {
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        operators::count_tab(tx.conn(), caller.id, 1).await?;
        timers::cancel(tx.conn(), TimerKind::Presence, caller.id).await?;
        let before = current(&mut tx, caller).await?;
        let mut effects = Effects::new(now_millis());
        if before.is_active()
            && before.availability == Availability::Away
            && before.availability_reason == AvailabilityReason::NoOpenTab
        {
            let (back, reason) = (Availability::Available, AvailabilityReason::Manual);
            operators::set_availability(tx.conn(), caller.id, back, reason, true).await?;
            let after = Operator {
                availability: back,
                availability_reason: reason,
                ..before
            };
            effects
                .events
                .push(Event::availability_changed(&after, effects.now));
            effects.drain = true;
        }
        self.commit(tx, effects).await
    }

    /// One of the operator's inbox tabs closed. When it was their last one, on every node, and
    /// they are Available with a tab opened since, they turn Away (`no_open_tab`) after the
    /// grace period unless a tab opens again meanwhile: a durable deadline.
    pub async fn inbox_tab_closed(&self, caller: &Operator) -> ServiceResult<()> {
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        operators::count_tab(tx.conn(), caller.id, -1).await?;
        let after = current(&mut tx, caller).await?;
        let mut effects = Effects::new(now_millis());
        if after.is_active()
            && after.open_tabs == 0
            && after.had_tab != 0
            && after.availability == Availability::Available
        {
            let due = effects.now + self.settings.presence_grace.as_millis() as i64;
            timers::arm(
                tx.conn(),
                caller.workspace_id,
                TimerKind::Presence,
                caller.id,
                due,
            )
            .await?;
            effects.timers_armed = true;
        }
        self.commit(tx, effects).await
    }
}

async fn current(tx: &mut WriteTx, caller: &Operator) -> ServiceResult<Operator> {
    operators::get(tx.conn(), caller.workspace_id, caller.id)
        .await?
        .ok_or(ServiceError::NotFound("operator"))
}
