//! The steps that change a conversation's owner, status or transcript inside an already-locked
//! workspace transaction. They update the conversation in place and collect the events and
//! notifications it causes in the transaction's `Effects`.

use super::ServiceResult;
use super::effects::{Effects, PendingNotice};
use crate::domain::conversation::{AssigneeOnReopen, assignee_on_reopen};
use crate::domain::event::{Event, EventKind};
use crate::domain::notification::recipient_of_assignment;
use crate::domain::routing::{self, Decision, Teammate, WidgetRouting};
use crate::domain::{AssignmentReason, Author, Id, Millis, RoutingMode, Status, TimerKind};
use crate::metrics::RoutingOutcome;
use crate::store::conversations::{self as convs, NewAssignmentEvent};
use crate::store::notifications::Reach;
use crate::store::operators::RoutingInputs;
use crate::store::{
    Conversation, Db, Operator, OperatorWithLoad, Widget, WriteTx, operators, timers, widgets,
};

/// What routing decided about a change of assignee, when routing made it.
pub(super) struct Routed<'a> {
    pub decision: &'a Decision,
    /// The drain took it from the queue.
    pub from_queue: bool,
    /// It answers a handover (at once or from the queue), so its wait counts in the
    /// estimates visitors are given; a move away from an assignee does not.
    pub answers_handover: bool,
    /// The widget's `reassign_after_secs`: a routed assignment arms the reassign deadline.
    pub reassign_after_secs: Option<i64>,
    /// How the one chosen can be reached, read with the team (None when nobody is chosen).
    pub reach: Option<Reach>,
}

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
    record_change(tx, conv, assignee, reason, actor_id, None, effects).await
}

/// `change_assignee`, with the decision when routing made the change. Keeps the queue and the
/// reassign deadline in step: an assigned chat leaves the queue, one left without anyone while
/// it needs a human joins it (unless unassigned by hand); any change of assignee ends the old deadline and a routed one
/// starts the widget's. A chat taken from someone frees a place: the queue drains.
pub(super) async fn record_change(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    assignee: Option<&Operator>,
    reason: AssignmentReason,
    actor_id: Option<Id>,
    routed: Option<Routed<'_>>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    let to = assignee.map(|a| a.id);
    if conv.assignee_id == to {
        return Ok(());
    }
    let previous = conv.assignee_id;
    convs::set_assignee(tx.conn(), conv.id, to).await?;
    let from_queue = routed
        .as_ref()
        .is_some_and(|r| r.from_queue && to.is_some());
    let event = NewAssignmentEvent {
        conversation_id: conv.id,
        from_operator_id: previous,
        to_operator_id: to,
        reason,
        actor_id,
        at: effects.now,
        decision: routed
            .as_ref()
            .and_then(|r| serde_json::to_string(r.decision).ok()),
        queued_at: conv.queued_at.filter(|_| from_queue),
        wait_ms: routed
            .as_ref()
            .filter(|r| r.answers_handover && to.is_some())
            .map(|_| conv.queued_at.map_or(0, |q| (effects.now - q).max(0))),
    };
    convs::insert_assignment_event(tx.conn(), &event).await?;
    if let Some(operator_id) = to {
        operators::set_last_assigned(tx.conn(), operator_id, effects.now).await?;
    }
    conv.assignee_id = to;
    // Unassigned by hand, a chat waits for a person to claim it: the drain giving it straight
    // back out would undo the unassign. Left by its assignee for any other cause, it queues.
    let queued_at = match to {
        None if conv.status == Status::HandedOff && reason != AssignmentReason::Unassign => {
            Some(effects.now)
        }
        _ => None,
    };
    set_queued(tx, conv, queued_at, effects).await?;
    timers::cancel(tx.conn(), TimerKind::Reassign, conv.id).await?;
    if let (Some(_), Some(after)) = (to, routed.as_ref().and_then(|r| r.reassign_after_secs)) {
        let due = effects.now + after * 1000;
        timers::arm(
            tx.conn(),
            conv.workspace_id,
            TimerKind::Reassign,
            conv.id,
            due,
        )
        .await?;
        effects.timers_armed = true;
    }
    if previous.is_some() {
        effects.drain = true;
    }
    let mut assigned = Event::assigned(conv, assignee, previous, reason, actor_id, effects.now);
    if let EventKind::ConversationAssigned {
        from_queue: queued,
        decision,
        ..
    } = &mut assigned.kind
    {
        *queued = from_queue;
        *decision = routed.as_ref().map(|r| Box::new(r.decision.clone()));
    }
    effects.events.push(assigned);
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
            at: effects.now,
            reason,
            reach: routed.as_ref().and_then(|r| r.reach),
        });
    }
    Ok(())
}

/// Puts the conversation in the queue or takes it out; one already queued keeps its place.
async fn set_queued(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    queued_at: Option<Millis>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    let queued_at = match (queued_at, conv.queued_at) {
        (Some(_), Some(already)) => Some(already),
        (wanted, _) => wanted,
    };
    if queued_at != conv.queued_at {
        convs::set_queued_at(tx.conn(), conv.id, queued_at).await?;
        conv.queued_at = queued_at;
        effects.queue_changed = true;
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
    match status {
        Status::Closed => {
            set_queued(tx, conv, None, effects).await?;
            timers::cancel(tx.conn(), TimerKind::Reassign, conv.id).await?;
            if conv.assignee_id.is_some() {
                effects.drain = true;
            }
        }
        Status::HandedOff | Status::Active => {}
    }
    if previous == Status::Closed {
        timers::arm_auto_close(tx.conn(), conv.id).await?;
        effects.timers_armed = true;
    }
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
/// cannot be assigned keeps the reason it waits, in the queue. `actor_id` is the operator whose
/// action started the routing (a Take over), None when the visitor or the AI did.
pub(super) async fn route(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    actor_id: Option<Id>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    if conv.assignee_id.is_some() {
        return Ok(());
    }
    apply_routing(tx, conv, Move::Fresh, actor_id, effects).await
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
        apply_routing(tx, conv, Move::Away(cause), actor_id, effects).await
    } else {
        change_assignee(tx, conv, None, cause, actor_id, effects).await
    }
}

/// The routed chat was not answered in time (SPEC 9): it moves to a candidate it was not yet
/// given to (reason `unanswered`), or stays where it is if there is none.
pub(super) async fn reassign_unanswered(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    effects: &mut Effects,
) -> ServiceResult<()> {
    apply_routing(tx, conv, Move::Unanswered, None, effects).await
}

/// What a routing decision is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Move {
    /// An unassigned chat: the reason is the widget's mode.
    Fresh,
    /// Away from its assignee for this cause; to nobody if nobody can take it.
    Away(AssignmentReason),
    /// Away from an assignee who did not answer, to someone not yet given it; else it stays.
    Unanswered,
}

/// Routing's view of the team.
pub(super) fn teammates(members: &[OperatorWithLoad]) -> Vec<Teammate> {
    members
        .iter()
        .map(|o| Teammate {
            position: o.operator.position(),
            name: o.operator.name.clone(),
            active: o.operator.is_active(),
            availability: o.operator.availability,
            load: o.load,
            capacity: o.operator.capacity.map(|c| c.max(0) as u64),
            last_assigned_at: o.operator.last_assigned_at,
        })
        .collect()
}

/// A widget's routing settings as the rules read them.
pub(super) fn widget_routing(widget: &Widget, eligible: Vec<Id>) -> WidgetRouting {
    WidgetRouting {
        widget_id: widget.id,
        mode: widget.routing_mode,
        eligible,
        cursor: widget.rr_cursor(),
    }
}

/// The decision for the next chat of the widget, from the state this connection reads: what
/// routing would do now (the preview), and what it does inside a locked transaction. The
/// widget not in the workspace is a 404.
pub(super) async fn decide(
    conn: &mut Db,
    workspace_id: Id,
    widget_id: Id,
    already_given: &[Id],
) -> ServiceResult<(Decision, RoutingInputs)> {
    let inputs = operators::routing_inputs(conn, workspace_id, widget_id)
        .await?
        .ok_or(super::ServiceError::NotFound("widget"))?;
    let decision = routing::route(&inputs.routing, &teammates(&inputs.members), already_given);
    Ok((decision, inputs))
}

/// The routing decision for `conv`, written with the assignment it makes (see `Move`).
async fn apply_routing(
    tx: &mut WriteTx,
    conv: &mut Conversation,
    purpose: Move,
    actor_id: Option<Id>,
    effects: &mut Effects,
) -> ServiceResult<()> {
    let already_given = match purpose {
        Move::Unanswered => convs::given_to(tx.conn(), conv.id).await?,
        Move::Fresh | Move::Away(_) => Vec::new(),
    };
    let (decision, inputs) =
        decide(tx.conn(), conv.workspace_id, conv.widget_id, &already_given).await?;
    let members = &inputs.members;
    let outcome = match (purpose, decision.chosen_operator_id) {
        (Move::Unanswered, Some(_)) => RoutingOutcome::Reassigned,
        (Move::Unanswered, None) => RoutingOutcome::Kept,
        _ => RoutingOutcome::of(&decision),
    };
    effects.decisions.push((inputs.routing.mode, outcome));
    let chosen = decision
        .chosen_operator_id
        .and_then(|id| members.iter().find(|m| m.operator.id == id));
    let reason = match purpose {
        Move::Fresh => decision.reason(),
        Move::Away(cause) => cause,
        Move::Unanswered => AssignmentReason::Unanswered,
    };
    let routed = Routed {
        decision: &decision,
        from_queue: false,
        answers_handover: purpose == Move::Fresh,
        reassign_after_secs: inputs.reassign_after_secs,
        reach: chosen.map(|m| m.reach),
    };
    match chosen.map(|m| &m.operator) {
        Some(chosen) => {
            record_change(
                tx,
                conv,
                Some(chosen),
                reason,
                actor_id,
                Some(routed),
                effects,
            )
            .await?;
            if decision.mode == RoutingMode::RoundRobin {
                widgets::set_rr_cursor(tx.conn(), conv.widget_id, chosen.position()).await?;
            }
        }
        None if purpose == Move::Unanswered => {}
        None => {
            if matches!(purpose, Move::Away(_)) {
                record_change(tx, conv, None, reason, actor_id, Some(routed), effects).await?;
            }
            // Nobody took it: it waits in the queue from now (or keeps its place).
            set_queued(tx, conv, Some(effects.now), effects).await?;
            convs::set_waiting_reason(tx.conn(), conv.id, decision.waiting_reason()).await?
        }
    }
    Ok(())
}

/// Drains the workspace's queue (SPEC 9): queued chats are routed oldest first, each by its
/// widget's mode, until none has a candidate (`routing::drain`). Runs inside the workspace's
/// locked transaction, so it is serialised with every other routing decision of the
/// workspace, on this node and on every other.
pub(super) async fn drain_queue(
    tx: &mut WriteTx,
    workspace_id: Id,
    effects: &mut Effects,
) -> ServiceResult<()> {
    let queue = convs::queued(tx.conn(), workspace_id).await?;
    if queue.is_empty() {
        return Ok(());
    }
    let members = operators::list_with_loads(tx.conn(), workspace_id).await?;
    let mut team = teammates(&members);
    let all = widgets::list(tx.conn(), workspace_id).await?;
    let mut routings: Vec<WidgetRouting> = all
        .iter()
        .filter(|w| queue.iter().any(|c| c.widget_id == w.widget.id))
        .map(|w| widget_routing(&w.widget, w.eligible_operator_ids.clone()))
        .collect();
    let routed = routing::drain(&queue, &mut routings, &mut team, effects.now);
    for (conversation_id, decision) in &routed {
        let (Some(mut conv), Some(chosen)) = (
            convs::get(tx.conn(), workspace_id, *conversation_id).await?,
            decision
                .chosen_operator_id
                .and_then(|id| members.iter().find(|m| m.operator.id == id)),
        ) else {
            continue;
        };
        let widget = all.iter().find(|w| w.widget.id == conv.widget_id);
        let routed = Routed {
            decision,
            from_queue: true,
            answers_handover: true,
            reassign_after_secs: widget.and_then(|w| w.widget.reassign_after_secs),
            reach: Some(chosen.reach),
        };
        let reason = decision.reason();
        record_change(
            tx,
            &mut conv,
            Some(&chosen.operator),
            reason,
            None,
            Some(routed),
            effects,
        )
        .await?;
        effects
            .decisions
            .push((decision.mode, RoutingOutcome::Drained));
    }
    for routing in routings
        .iter()
        .filter(|r| r.mode == RoutingMode::RoundRobin)
    {
        let before = all
            .iter()
            .find(|w| w.widget.id == routing.widget_id)
            .and_then(|w| w.widget.rr_cursor());
        if let Some(cursor) = routing.cursor.filter(|c| Some(*c) != before) {
            widgets::set_rr_cursor(tx.conn(), routing.widget_id, cursor).await?;
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
