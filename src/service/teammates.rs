//! Changing teammates: name, role and capacity, and deactivating and reactivating them. Owners
//! and admins do it; only owners make, unmake, deactivate or reactivate owners, and the last
//! active owner stays one.

use super::assignment::move_away;
use super::effects::Effects;
use super::sessions::end_sessions;
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::event::Event;
use crate::domain::operator::is_last_owner;
use crate::domain::{AssignmentReason, Availability, Id, Role};
use crate::store::{Operator, WriteTx, conversations as convs, notifications, operators};
use crate::timefmt::now_millis;

/// A change to a teammate's profile; `None` leaves a field as it is. `capacity: Some(None)`
/// removes the limit.
pub struct TeammateChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub capacity: Option<Option<i64>>,
}

impl Service {
    /// Changes a teammate's name, role or capacity (owners and admins).
    pub async fn update_teammate(
        &self,
        caller: &Operator,
        id: Id,
        change: TeammateChange,
    ) -> ServiceResult<Operator> {
        let name = change
            .name
            .map(|name| validate::name("name", &name))
            .transpose()?;
        let capacity = change.capacity.map(validate::capacity).transpose()?;
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        let before = teammate(&mut tx, caller, id).await?;
        if !caller.role.can_manage() {
            return Err(ServiceError::forbidden(
                "Only an owner or admin can change teammates",
            ));
        }
        let role = change.role.unwrap_or(before.role);
        if role != before.role {
            if !caller.role.may_change_role(before.role, role) {
                return Err(ServiceError::forbidden(
                    "Only an owner can make or unmake an owner",
                ));
            }
            refuse_last_owner(&mut tx, &before, "demoted").await?;
        }
        let after = Operator {
            name: name.unwrap_or_else(|| before.name.clone()),
            role,
            capacity: capacity.unwrap_or(before.capacity),
            ..before.clone()
        };
        operators::set_profile(tx.conn(), id, &after.name, after.role, after.capacity).await?;
        let mut effects = Effects::new(now_millis());
        // A higher limit, or none, may make them a candidate for a queued chat.
        effects.drain = after.capacity != before.capacity
            && after
                .capacity
                .is_none_or(|c| before.capacity.is_some_and(|b| c > b));
        if (&after.name, after.role, after.capacity) != (&before.name, before.role, before.capacity)
        {
            effects
                .events
                .push(Event::operator_updated(&after, effects.now));
        }
        self.commit(tx, effects).await?;
        Ok(after)
    }

    /// Deactivates a teammate, at once and everywhere: they can no longer sign in, their
    /// sessions end and their open streams close, they turn Away and are no candidate for
    /// routing, and their open chats move away from them (`assignee_removed`), oldest first.
    /// Their name stays on everything they did. Nobody deactivates themselves.
    pub async fn deactivate(&self, caller: &Operator, id: Id) -> ServiceResult<Operator> {
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        let before = teammate(&mut tx, caller, id).await?;
        refuse_unless_may_deactivate(caller, &before)?;
        if before.id == caller.id {
            return Err(ServiceError::conflict(
                "cannot_deactivate_self",
                "You cannot deactivate yourself: ask another owner or admin",
            ));
        }
        self.deactivate_locked(tx, before, Some(caller.id)).await
    }

    /// Deactivates `before` in `tx`, which holds their workspace's lock; `by` is who did it,
    /// `None` for the server's administrator (`switchboard admin deactivate`).
    pub(super) async fn deactivate_locked(
        &self,
        mut tx: WriteTx,
        before: Operator,
        by: Option<Id>,
    ) -> ServiceResult<Operator> {
        if !before.is_active() {
            return Ok(before);
        }
        refuse_last_owner(&mut tx, &before, "deactivated").await?;
        let mut effects = Effects::new(now_millis());
        let after = Operator {
            deactivated_at: Some(effects.now),
            availability: Availability::Away,
            ..before.clone()
        };
        let id = before.id;
        operators::set_deactivated(tx.conn(), id, after.deactivated_at).await?;
        if before.availability != Availability::Away {
            let reason = crate::domain::AvailabilityReason::Manual;
            operators::set_availability(tx.conn(), id, Availability::Away, reason, false).await?;
            effects
                .events
                .push(Event::availability_changed(&after, effects.now));
        }
        end_sessions(&mut tx, &after, None, &mut effects).await?;
        notifications::cancel_for_operator(tx.conn(), id).await?;
        for mut conv in convs::open_assigned_to(tx.conn(), before.workspace_id, id).await? {
            let cause = AssignmentReason::AssigneeRemoved;
            move_away(&mut tx, &mut conv, cause, by, &mut effects).await?;
        }
        effects
            .events
            .push(Event::operator_updated(&after, effects.now));
        self.commit(tx, effects).await?;
        Ok(after)
    }

    /// Undoes a deactivation: they may sign in again with their password. They come back Away,
    /// so that nothing is routed to them before they are there to take it.
    pub async fn reactivate(&self, caller: &Operator, id: Id) -> ServiceResult<Operator> {
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        let before = teammate(&mut tx, caller, id).await?;
        refuse_unless_may_deactivate(caller, &before)?;
        if before.is_active() {
            return Ok(before);
        }
        operators::set_deactivated(tx.conn(), id, None).await?;
        let after = Operator {
            deactivated_at: None,
            ..before
        };
        let mut effects = Effects::new(now_millis());
        effects
            .events
            .push(Event::operator_updated(&after, effects.now));
        effects.drain = true;
        self.commit(tx, effects).await?;
        Ok(after)
    }
}

/// The teammate with this id in the caller's workspace; 404 for anyone else's, before any
/// question of the caller's role.
async fn teammate(tx: &mut WriteTx, caller: &Operator, id: Id) -> ServiceResult<Operator> {
    operators::get(tx.conn(), caller.workspace_id, id)
        .await?
        .ok_or(ServiceError::NotFound("operator"))
}

fn refuse_unless_may_deactivate(caller: &Operator, target: &Operator) -> ServiceResult<()> {
    if caller.role.may_deactivate(target.role) {
        Ok(())
    } else if caller.role.can_manage() {
        Err(ServiceError::forbidden(
            "Only an owner can deactivate or reactivate an owner",
        ))
    } else {
        Err(ServiceError::forbidden(
            "Only an owner or admin can deactivate or reactivate teammates",
        ))
    }
}

/// 409 when `target` is the workspace's last active owner, who may be neither demoted nor
/// deactivated.
async fn refuse_last_owner(tx: &mut WriteTx, target: &Operator, what: &str) -> ServiceResult<()> {
    let owners = operators::active_owners(tx.conn(), target.workspace_id).await?;
    if is_last_owner(target.role, target.is_active(), owners) {
        return Err(ServiceError::conflict(
            "last_owner",
            format!(
                "{} is the workspace's only owner and cannot be {what}: make someone else an owner first",
                target.name
            ),
        ));
    }
    Ok(())
}
