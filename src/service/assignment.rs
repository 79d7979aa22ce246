//! The steps that change a conversation's owner, status or transcript inside an already-locked
//! workspace transaction. They update the conversation in place and collect the events and
//! notifications it causes in the transaction's `Effects`.

use super::ServiceResult;
use super::effects::{Effects, PendingNotice};
use crate::domain::conversation::{AssigneeOnReopen, assignee_on_reopen};
use crate::domain::event::Event;
use crate::domain::notification::recipient_of_assignment;
use crate::domain::routing::{self, Decision, Teammate};
use crate::domain::{AssignmentReason, Author, Id, Status};
use crate::metrics::RoutingOutcome;
use crate::store::conversations::{self as convs, NewAssignmentEvent};
use crate::store::{Conversation, Operator, WriteTx, operators, widgets};

/// Sets the assignee (None = unassign) and records the assignment event. A no-op when the
/// assignee does not change.
pub(super) async fn change_assignee(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    assignee: Option<&Operator>,
    reason: AssignmentReason,
    actor_id: Option<Id>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    let to = assignee.map(|a| a.id);
    if conv.assignee_id == to {
        return Ok(());
    }
    let previous = conv.assignee_id;
    convs::set_assignee(tx.conn(), conv.id, to).await?;
    let event = NewAssignmentEvent {
        conversation_id: conv.id,
        from_operator_id: previous,
        to_operator_id: to,
        reason,
        actor_id,
        at: effects.now,
    };
    let recorded = convs::insert_assignment_event(tx.conn(), &event).await?;
    if let Some(operator_id) = to {
        operators::set_last_assigned(tx.conn(), operator_id, effects.now).await?;
    }
    conv.assignee_id = to;
    effects.events.push(Event::assigned(
        conv,
        assignee,
        previous,
        reason,
        actor_id,
        effects.now,
    ));
    if let Some(recipient) =
        assignee.filter(|a| recipient_of_assignment(Some(a.id), actor_id).is_some())
    {
        effects.events.push(Event::assigned_to_you(
            conv,
            recipient.id,
            reason,
            actor_id,
            effects.now,
        ));
        effects.notices.push(PendingNotice {
            recipient: recipient.clone(),
            conversation_id: conv.id,
            assignment_event_id: recorded.id,
            reason,
        });
    }
    Ok(())
}

/// Moves the conversation to `status`; a no-op when it is already there.
pub(super) async fn change_status(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    status: Status,
    effects: &mut Effects,
) -> ServiceResult<()> {
    if conv.status == status {
        return Ok(());
    }
    let previous = conv.status;
    convs::set_status(tx.conn(), conv.id, status, effects.now).await?;
    conv.status = status;
    effects
        .events
        .push(Event::status_changed(conv, previous, effects.now));
    Ok(())
}

/// Appends a message; `operator` is the author of an operator reply.
pub(super) async fn add_message(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    author: Author,
    operator: Option<&Operator>,
    body: &str,
    effects: &mut Effects,
) -> ServiceResult<crate::store::Message> {
    let operator_id = operator.map(|o| o.id);
    let message =
        convs::insert_message(tx.conn(), conv.id, author, operator_id, body, effects.now).await?;
    conv.last_message_at = effects.now;
    effects.events.push(Event::message_created(
        conv,
        &message,
        operator.map(|o| o.name.as_str()),
    ));
    Ok(message)
}

/// Applies the widget's routing mode to an unassigned conversation: reads the team, loads and
/// cursor inside this transaction (so no concurrent decision can see the same ones), lets the
/// pure rules decide, and writes the decision and the moved cursor back. A conversation that
/// cannot be assigned keeps the reason it waits. `actor_id` is the operator whose action
/// started the routing (a Take over), None when the visitor or the AI did.
pub(super) async fn route(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    actor_id: Option<Id>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    if conv.assignee_id.is_some() {
        return Ok(());
    }
    apply_routing(tx, conv, None, actor_id, effects).await
}

/// Moves a conversation away from its assignee in one decision (SPEC 9, "Reasons on the
/// timeline"): a `handed_off` chat is routed by the widget's mode among the candidates, who no
/// longer include the assignee, and one assignment event from them to whoever is chosen, or to
/// nobody, carries `cause` as its reason. A chat the AI still handles is only unassigned.
pub(super) async fn move_away(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    cause: AssignmentReason,
    actor_id: Option<Id>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    if conv.status == Status::HandedOff {
        apply_routing(tx, conv, Some(cause), actor_id, effects).await
    } else {
        change_assignee(tx, conv, None, cause, actor_id, effects).await
    }
}

/// The routing decision for `conv`, written: the assignment is recorded with the mode's reason,
/// or with `cause` when the chat moves away from its assignee (who is then unassigned if
/// nobody can take it).
async fn apply_routing(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    cause: Option<AssignmentReason>,
    actor_id: Option<Id>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    let widget = widgets::get(tx.conn(), conv.workspace_id, conv.widget_id)
        .await?
        .ok_or(super::ServiceError::NotFound("widget"))?;
    let eligible = widgets::eligible_operator_ids(tx.conn(), widget.id).await?;
    let members = operators::list_with_loads(tx.conn(), conv.workspace_id).await?;
    let team: Vec<Teammate> = members
        .iter()
        .map(|o| Teammate {
            position: o.operator.position(),
            active: o.operator.is_active(),
            availability: o.operator.availability,
            load: o.load,
            last_assigned_at: o.operator.last_assigned_at,
        })
        .collect();
    let decision = routing::route(widget.routing_mode, &team, &eligible, widget.rr_cursor());
    effects
        .decisions
        .push((widget.routing_mode, RoutingOutcome::of(&decision)));
    match decision {
        Decision::Assign {
            operator_id,
            reason,
        } => {
            let chosen = members
                .iter()
                .map(|m| &m.operator)
                .find(|o| o.id == operator_id)
                .ok_or(super::ServiceError::NotFound("operator"))?;
            let recorded = cause.unwrap_or(reason);
            change_assignee(tx, conv, Some(chosen), recorded, actor_id, effects).await?;
            if reason == AssignmentReason::RoundRobin {
                widgets::set_rr_cursor(tx.conn(), widget.id, chosen.position()).await?;
            }
        }
        Decision::Wait(reason) => {
            if let Some(cause) = cause {
                change_assignee(tx, conv, None, cause, actor_id, effects).await?;
            }
            convs::set_waiting_reason(tx.conn(), conv.id, Some(reason)).await?
        }
    }
    Ok(())
}

/// A human is needed (AI handover, visitor's button, or an operator's Take over): the chat
/// becomes `handed_off` and, if nobody has it, is routed. An operator who takes a chat over
/// is the actor of the routing, so they are not notified of a chat routed to themselves.
pub(super) async fn hand_over(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    actor_id: Option<Id>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    change_status(tx, conv, Status::HandedOff, effects).await?;
    route(tx, conv, actor_id, effects).await
}

const HANDOVER_NOTE: &str = "A person from the team will take it from here.";

/// The visitor or the AI asked for a person, or the AI's turn failed: the note the visitor
/// sees, then the handover.
pub(super) async fn hand_to_team(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    effects: &mut Effects,
) -> ServiceResult<()> {
    add_message(tx, conv, Author::System, None, HANDOVER_NOTE, effects).await?;
    hand_over(tx, conv, None, effects).await
}

/// The visitor came back to a closed chat: it reopens as `handed_off`; an available assignee
/// keeps it, an away one loses it to routing, and a deactivated one has it moved away
/// (`assignee_removed`).
pub(super) async fn reopen_for_visitor(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    effects: &mut Effects,
) -> ServiceResult<()> {
    change_status(tx, conv, Status::HandedOff, effects).await?;
    let assignee = match conv.assignee_id {
        Some(id) => operators::get(tx.conn(), conv.workspace_id, id).await?,
        None => None,
    };
    if assignee.as_ref().is_some_and(|a| !a.is_active()) {
        return move_away(tx, conv, AssignmentReason::AssigneeRemoved, None, effects).await;
    }
    match assignee_on_reopen(assignee.map(|a| a.availability)) {
        AssigneeOnReopen::Keep => Ok(()),
        AssigneeOnReopen::UnassignThenRoute => {
            change_assignee(
                tx,
                conv,
                None,
                AssignmentReason::AssigneeAway,
                None,
                effects,
            )
            .await?;
            route(tx, conv, None, effects).await
        }
        AssigneeOnReopen::Route => route(tx, conv, None, effects).await,
    }
}
