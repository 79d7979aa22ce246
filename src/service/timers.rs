//! The durable deadlines firing (SPEC 9): reassigning unanswered chats, closing silent ones,
//! and turning Away operators whose last inbox tab closed. Each deadline is a row
//! (`store::timers`); the task below sleeps until the earliest one, and is woken when a
//! transaction of this node arms one. Other nodes' deadlines, and ones whose node died, are
//! found by a short safety re-check; ones that came due while every node was down fire as soon
//! as a node starts.

use std::time::Duration;

use super::assignment::{add_message, change_status, reassign_unanswered};
use super::effects::Effects;
use super::{Service, ServiceError, ServiceResult};
use crate::domain::event::Event;
use crate::domain::timer::{auto_close_due, auto_close_note};
use crate::domain::{Author, Availability, AvailabilityReason, Millis, Status, TimerKind};
use crate::store::timers::{self, Timer};
use crate::store::{conversations as convs, operators, widgets};
use crate::timefmt::now_millis;

/// How long the task sleeps at most before looking at the deadlines again: for those armed on
/// other nodes, or left by a node that died. Deadlines this node arms wake it at once.
const SAFETY_RECHECK: Duration = Duration::from_secs(5);
/// Deadlines fired per batch.
const BATCH: u32 = 100;
/// After a failure (the database is down), the wait before trying again.
const RETRY: Duration = Duration::from_secs(1);

impl Service {
    /// Fires deadlines as they come due, until shutdown.
    pub async fn run_timers(self) {
        let wake = self.settings.timer_wake.clone();
        let shutdown = self.settings.shutdown.clone();
        loop {
            let pause = match self.fire_due_timers().await {
                Ok(()) => match self.next_deadline().await {
                    Ok(Some(due)) => Duration::from_millis((due - now_millis()).max(0) as u64),
                    Ok(None) => SAFETY_RECHECK,
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot read the next deadline");
                        RETRY
                    }
                },
                // An outage is told once, by the store; the deadlines wait for it to end.
                Err(e @ ServiceError::Unavailable(_)) => {
                    tracing::debug!(error = %e, "firing deadlines failed; retrying");
                    RETRY
                }
                Err(e) => {
                    tracing::warn!(error = %e, "firing deadlines failed; retrying");
                    RETRY
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause.min(SAFETY_RECHECK)) => {}
                _ = wake.notified() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// Fires every deadline due now.
    pub async fn fire_due_timers(&self) -> ServiceResult<()> {
        loop {
            let due = timers::due(&mut self.store.read().await?, now_millis(), BATCH).await?;
            let full = due.len() == BATCH as usize;
            for timer in due {
                self.fire(timer).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    async fn next_deadline(&self) -> ServiceResult<Option<Millis>> {
        Ok(timers::next_due(&mut self.store.read().await?).await?)
    }

    /// Fires one deadline, exactly once across nodes: its row is deleted in the workspace's
    /// locked transaction that acts on it, so a node that finds it gone does nothing, and a
    /// transaction that fails leaves it to fire again.
    async fn fire(&self, timer: Timer) -> ServiceResult<()> {
        let mut tx = self.lock_workspace(timer.workspace_id).await?;
        let mut effects = Effects::new(now_millis());
        if !timers::take(tx.conn(), timer.id, effects.now).await? {
            return Ok(());
        }
        let ws = timer.workspace_id;
        match timer.kind {
            TimerKind::Reassign => {
                if let Some(mut conv) = convs::get(tx.conn(), ws, timer.subject_id).await?
                    && conv.status == Status::HandedOff
                    && conv.assignee_id.is_some()
                {
                    reassign_unanswered(&mut tx, &mut conv, &mut effects).await?;
                }
            }
            TimerKind::AutoClose => {
                if let Some(mut conv) = convs::get(tx.conn(), ws, timer.subject_id).await?
                    && conv.status != Status::Closed
                    && let Some(widget) = widgets::get(tx.conn(), ws, conv.widget_id).await?
                    && let Some(after) = widget.auto_close_after_secs
                {
                    let due = auto_close_due(conv.last_message_at, after);
                    if due > effects.now {
                        // Someone wrote since it was armed: the silence starts again.
                        timers::arm(tx.conn(), ws, TimerKind::AutoClose, conv.id, due).await?;
                        effects.timers_armed = true;
                    } else {
                        let note = auto_close_note(after);
                        add_message(
                            &mut tx,
                            &mut conv,
                            Author::System,
                            None,
                            &note,
                            &mut effects,
                        )
                        .await?;
                        change_status(&mut tx, &mut conv, Status::Closed, &mut effects).await?;
                    }
                }
            }
            TimerKind::Presence => {
                if let Some(operator) = operators::get(tx.conn(), ws, timer.subject_id).await?
                    && operator.is_active()
                    && operator.open_tabs == 0
                    && operator.had_tab != 0
                    && operator.availability == Availability::Available
                {
                    let (away, reason) = (Availability::Away, AvailabilityReason::NoOpenTab);
                    operators::set_availability(tx.conn(), operator.id, away, reason, true).await?;
                    let after = crate::store::Operator {
                        availability: away,
                        availability_reason: reason,
                        ..operator
                    };
                    effects
                        .events
                        .push(Event::availability_changed(&after, effects.now));
                }
            }
        }
        self.commit(tx, effects).await
    }
}
