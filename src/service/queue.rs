//! The queue after each change (SPEC 9 and 10): it drains when a candidate may have appeared,
//! and visitors whose place in line moved are told, both inside the transaction that caused it.

use std::collections::HashMap;

use super::ServiceResult;
use super::assignment::drain_queue;
use super::effects::Effects;
use crate::domain::event::Event;
use crate::domain::queue::{self, InLine, Place};
use crate::domain::{Id, Millis};
use crate::store::conversations::{self as convs, InLineRow};
use crate::store::{Db, OperatorWithLoad, WriteTx, operators, widgets};

/// How many of a widget's last routed chats the wait estimate is made from.
const ESTIMATE_SAMPLE: u32 = 50;

/// Runs before every commit of a locked workspace transaction: drains the queue if a candidate
/// may have appeared, then tells visitors their new places.
pub(super) async fn settle(tx: &mut WriteTx, effects: &mut Effects) -> ServiceResult<()> {
    let Some(workspace_id) = tx.locked_workspace() else {
        return Ok(());
    };
    if effects.drain {
        drain_queue(tx, workspace_id, effects).await?;
    }
    if effects.drain || effects.queue_changed {
        tell_places(tx, workspace_id, effects).await?;
    }
    Ok(())
}

/// Each visitor whose place in line differs from what they were told is told the new one
/// (`queue.changed`), or that they are out of the queue.
async fn tell_places(
    tx: &mut WriteTx,
    workspace_id: Id,
    effects: &mut Effects,
) -> ServiceResult<()> {
    let rows = convs::in_line(tx.conn(), workspace_id).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let places = places(tx.conn(), workspace_id, &rows).await?;
    for row in &rows {
        let place = places.get(&row.id).copied();
        let position = place.map(|p| p.position as i64);
        if position != row.queue_position {
            convs::set_queue_position(tx.conn(), row.id, position).await?;
            effects.events.push(Event::queue_changed(
                workspace_id,
                row.visitor_id,
                row.id,
                place,
                effects.now,
            ));
        }
    }
    Ok(())
}

/// The place of every queued conversation among `rows`.
async fn places(
    conn: &mut Db,
    workspace_id: Id,
    rows: &[InLineRow],
) -> ServiceResult<HashMap<Id, Place>> {
    let members = operators::list_with_loads(conn, workspace_id).await?;
    let eligible: HashMap<Id, Vec<Id>> = widgets::list(conn, workspace_id)
        .await?
        .into_iter()
        .map(|w| (w.widget.id, w.eligible_operator_ids))
        .collect();
    let line: Vec<InLine> = rows
        .iter()
        .filter_map(|r| {
            Some(InLine {
                conversation_id: r.id,
                queued_at: r.queued_at?,
                team: eligible_team(&members, eligible.get(&r.widget_id)),
            })
        })
        .collect();
    let mut waits: HashMap<Id, Vec<Millis>> = HashMap::new();
    let mut out = HashMap::new();
    for chat in &line {
        let Some(widget_id) = rows
            .iter()
            .find(|r| r.id == chat.conversation_id)
            .map(|r| r.widget_id)
        else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = waits.entry(widget_id) {
            slot.insert(convs::recent_waits(conn, widget_id, ESTIMATE_SAMPLE).await?);
        }
        let position = queue::position(chat, &line);
        let estimated_wait_secs = queue::estimated_wait_secs(&waits[&widget_id], position);
        out.insert(
            chat.conversation_id,
            Place {
                position,
                estimated_wait_secs,
            },
        );
    }
    Ok(out)
}

/// The active teammates a widget's chat may go to (its eligible list; empty = everyone).
fn eligible_team(members: &[OperatorWithLoad], eligible: Option<&Vec<Id>>) -> Vec<Id> {
    members
        .iter()
        .filter(|m| m.operator.is_active())
        .map(|m| m.operator.id)
        .filter(|id| eligible.is_none_or(|e| e.is_empty() || e.contains(id)))
        .collect()
}

/// Where the conversation stands in line now, if it is queued.
pub(super) async fn place_in_line(
    conn: &mut Db,
    workspace_id: Id,
    conversation_id: Id,
) -> ServiceResult<Option<Place>> {
    let rows = convs::in_line(conn, workspace_id).await?;
    if !rows
        .iter()
        .any(|r| r.id == conversation_id && r.queued_at.is_some())
    {
        return Ok(None);
    }
    let places = places(conn, workspace_id, &rows).await?;
    Ok(places.get(&conversation_id).copied())
}
