//! The operators' side of conversations: the inbox lists, replies, takeover, claim, picking a
//! teammate, unassigning, closing and reopening.

use std::collections::HashMap;

use super::assignment::{add_message, change_assignee, change_status, hand_over, move_away};
use super::effects::Effects;
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::{AssignmentReason, Author, Id, Millis, Status, TimerKind};
use crate::store::conversations::{self as convs, AssigneeFilter, InboxCounts, ListQuery};
use crate::store::reads::RowMarks;
use crate::store::{
    AssignmentEvent, Conversation, Message, Operator, Visitor, WriteTx, operators, reads, timers,
    visitors,
};
use crate::timefmt::now_millis;

/// A conversation with its assignee's and its visitor's records.
#[derive(Debug, Clone)]
pub struct ConversationView {
    pub conversation: Conversation,
    pub assignee: Option<Operator>,
    pub visitor: Visitor,
    /// A claim or pick gave the assignee more open chats than their capacity (SPEC 9).
    pub over_capacity: bool,
}

#[derive(Debug, Clone)]
pub struct ConversationDetail {
    pub view: ConversationView,
    pub messages: Vec<Message>,
    pub assignment_events: Vec<AssignmentEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Mine,
    /// Waiting for a human with nobody assigned: not the chats the AI still handles.
    Unassigned,
    /// The chats the AI still handles (`active`).
    Ai,
    All,
}

#[derive(Debug, Clone)]
pub struct InboxQuery {
    pub view: View,
    /// Empty = any status.
    pub statuses: Vec<Status>,
    /// Continue after this `(last_message_at, id)`.
    pub after: Option<(Millis, Id)>,
    pub limit: u32,
}

/// An inbox row: the conversation, and what it shows the operator who asked.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub view: ConversationView,
    pub marks: RowMarks,
}

pub struct ConversationPage {
    pub items: Vec<InboxRow>,
    /// Where the next page starts, when there may be one.
    pub next: Option<(Millis, Id)>,
}

impl Service {
    /// Inbox rows, newest activity first, each with its assignee.
    pub async fn list_conversations(
        &self,
        caller: &Operator,
        q: InboxQuery,
    ) -> ServiceResult<ConversationPage> {
        let Some(statuses) = view_statuses(q.view, q.statuses) else {
            return Ok(ConversationPage {
                items: Vec::new(),
                next: None,
            });
        };
        let mut conn = self.store.read().await?;
        let query = ListQuery {
            workspace_id: caller.workspace_id,
            assignee: match q.view {
                View::Mine => AssigneeFilter::Operator(caller.id),
                View::Unassigned => AssigneeFilter::Unassigned,
                View::Ai | View::All => AssigneeFilter::Everyone,
            },
            statuses,
            after: q.after,
            limit: q.limit,
        };
        let rows = convs::list(&mut conn, &query).await?;
        let team: HashMap<Id, Operator> =
            operators::list_with_loads(&mut conn, caller.workspace_id)
                .await?
                .into_iter()
                .map(|o| (o.operator.id, o.operator))
                .collect();
        let next = (rows.len() == q.limit as usize)
            .then(|| rows.last().map(|c| (c.last_message_at, c.id)))
            .flatten();
        let mut visitor_ids: Vec<Id> = rows.iter().map(|c| c.visitor_id).collect();
        visitor_ids.sort_unstable();
        visitor_ids.dedup();
        let mut people: HashMap<Id, Visitor> = visitors::by_ids(&mut conn, &visitor_ids)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        let ids: Vec<Id> = rows.iter().map(|c| c.id).collect();
        let marks = reads::row_marks(&mut conn, caller.id, &ids).await?;
        let mut items = Vec::with_capacity(rows.len());
        for conversation in rows {
            let visitor = match people.get(&conversation.visitor_id) {
                Some(visitor) => visitor.clone(),
                // Merged into another record since the list was read: ask the conversation.
                None => match visitors::of_conversation(&mut conn, conversation.id).await? {
                    Some(visitor) => people.entry(visitor.id).or_insert(visitor).clone(),
                    None => continue,
                },
            };
            let assignee = conversation
                .assignee_id
                .and_then(|id| team.get(&id).cloned());
            items.push(InboxRow {
                marks: marks.get(&conversation.id).copied().unwrap_or_default(),
                view: ConversationView {
                    conversation,
                    assignee,
                    visitor,
                    over_capacity: false,
                },
            });
        }
        Ok(ConversationPage { items, next })
    }

    /// How many conversations with these statuses (empty = any) each view holds.
    pub async fn conversation_counts(
        &self,
        caller: &Operator,
        statuses: &[Status],
    ) -> ServiceResult<InboxCounts> {
        Ok(convs::counts(
            &mut self.store.read().await?,
            caller.workspace_id,
            caller.id,
            statuses,
        )
        .await?)
    }

    /// Marks the conversation read by the caller up to its newest message (404 outside their
    /// workspace). Personal, so it takes no workspace lock.
    pub async fn mark_read(&self, caller: &Operator, id: Id) -> ServiceResult<()> {
        let mut tx = self.store.write().await?;
        convs::get(tx.conn(), caller.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        reads::mark_read(tx.conn(), caller.id, id, now_millis()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_conversation(
        &self,
        caller: &Operator,
        id: Id,
    ) -> ServiceResult<ConversationDetail> {
        let mut conn = self.store.read().await?;
        let conversation = convs::get(&mut conn, caller.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let assignee = match conversation.assignee_id {
            Some(a) => operators::get(&mut conn, caller.workspace_id, a).await?,
            None => None,
        };
        let visitor = visitors::of_conversation(&mut conn, id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        Ok(ConversationDetail {
            messages: convs::messages(&mut conn, id).await?,
            assignment_events: convs::assignment_events(&mut conn, id).await?,
            view: ConversationView {
                conversation,
                assignee,
                visitor,
                over_capacity: false,
            },
        })
    }

    /// An operator's reply. Replying to an unassigned conversation makes the caller its
    /// assignee (reason `reply`); replying to someone else's does not change it. Any reply
    /// stops the AI. Of concurrent replies to one unassigned chat exactly one claims it.
    pub async fn reply(&self, caller: &Operator, id: Id, body: &str) -> ServiceResult<Message> {
        validate::message_body(body)?;
        let (mut tx, mut conv, mut effects) = self.begin_on(caller, id).await?;
        let message = add_message(
            &mut tx,
            &mut conv,
            Author::Operator,
            Some(caller),
            body,
            &mut effects,
        )
        .await?;
        if conv.assignee_id.is_none() {
            change_assignee(
                &mut tx,
                &mut conv,
                Some(caller),
                AssignmentReason::Reply,
                Some(caller.id),
                &mut effects,
            )
            .await?;
        }
        // Answered: the chat no longer moves on for want of a reply (SPEC 9).
        timers::cancel(tx.conn(), TimerKind::Reassign, conv.id).await?;
        let status = conv.status.after_operator_action();
        change_status(&mut tx, &mut conv, status, &mut effects).await?;
        convs::note_first_reply(tx.conn(), conv.id, caller.id, effects.now).await?;
        self.hold_for_absent_visitor(&mut tx, &conv, &message, caller, effects.now)
            .await?;
        self.commit(tx, effects).await?;
        Ok(message)
    }

    /// Manual takeover of an AI-handled chat: `handed_off`, then the widget's routing.
    pub async fn takeover(&self, caller: &Operator, id: Id) -> ServiceResult<ConversationView> {
        let (mut tx, mut conv, mut effects) = self.begin_on(caller, id).await?;
        match conv.status {
            Status::Active => {}
            Status::HandedOff => {
                return Err(ServiceError::conflict(
                    "already_handed_off",
                    "The team already has this conversation",
                ));
            }
            Status::Closed => {
                return Err(ServiceError::conflict(
                    "conversation_closed",
                    "This conversation is closed",
                ));
            }
        }
        let note = format!("{} handed this chat to the team", caller.name);
        add_message(
            &mut tx,
            &mut conv,
            Author::System,
            None,
            &note,
            &mut effects,
        )
        .await?;
        hand_over(&mut tx, &mut conv, Some(caller.id), &mut effects).await?;
        self.finish(tx, conv, effects).await
    }

    /// Assigns the conversation to the caller (reason `claim`), stopping the AI.
    pub async fn claim(
        &self,
        caller: &Operator,
        id: Id,
        if_assignee_id: Option<Option<Id>>,
    ) -> ServiceResult<ConversationView> {
        let (mut tx, mut conv, mut effects) = self.begin_on(caller, id).await?;
        check_precondition(&mut tx, &conv, if_assignee_id).await?;
        change_assignee(
            &mut tx,
            &mut conv,
            Some(caller),
            AssignmentReason::Claim,
            Some(caller.id),
            &mut effects,
        )
        .await?;
        timers::cancel(tx.conn(), TimerKind::Reassign, conv.id).await?;
        let status = conv.status.after_operator_action();
        change_status(&mut tx, &mut conv, status, &mut effects).await?;
        self.finish_assignment(tx, conv, effects).await
    }

    /// Picks a teammate (anyone in the workspace, Available or Away; reason `manual`), or
    /// unassigns with `None` (reason `unassign`).
    pub async fn set_assignee(
        &self,
        caller: &Operator,
        id: Id,
        operator_id: Option<Id>,
        if_assignee_id: Option<Option<Id>>,
    ) -> ServiceResult<ConversationView> {
        let (mut tx, mut conv, mut effects) = self.begin_on(caller, id).await?;
        let target = match operator_id {
            Some(target) => Some(
                operators::get(tx.conn(), caller.workspace_id, target)
                    .await?
                    .ok_or(ServiceError::NotFound("operator"))?,
            ),
            None => None,
        };
        if let Some(deactivated) = target.as_ref().filter(|t| !t.is_active()) {
            return Err(ServiceError::conflict(
                "operator_deactivated",
                format!(
                    "{} is deactivated: reactivate them under Teammates first",
                    deactivated.name
                ),
            ));
        }
        check_precondition(&mut tx, &conv, if_assignee_id).await?;
        let reason = if operator_id.is_some() {
            AssignmentReason::Manual
        } else {
            AssignmentReason::Unassign
        };
        change_assignee(
            &mut tx,
            &mut conv,
            target.as_ref(),
            reason,
            Some(caller.id),
            &mut effects,
        )
        .await?;
        timers::cancel(tx.conn(), TimerKind::Reassign, conv.id).await?;
        if operator_id.is_some() {
            let status = conv.status.after_operator_action();
            change_status(&mut tx, &mut conv, status, &mut effects).await?;
        }
        self.finish_assignment(tx, conv, effects).await
    }

    pub async fn close(&self, caller: &Operator, id: Id) -> ServiceResult<ConversationView> {
        let (mut tx, mut conv, mut effects) = self.begin_on(caller, id).await?;
        change_status(&mut tx, &mut conv, Status::Closed, &mut effects).await?;
        self.finish(tx, conv, effects).await
    }

    /// Reopens a closed conversation as `handed_off`, keeping its assignee: an operator
    /// reopening a chat means to follow it up. A deactivated assignee cannot, so the chat is
    /// moved away from them (`assignee_removed`).
    pub async fn reopen(&self, caller: &Operator, id: Id) -> ServiceResult<ConversationView> {
        let (mut tx, mut conv, mut effects) = self.begin_on(caller, id).await?;
        if conv.status == Status::Closed {
            change_status(&mut tx, &mut conv, Status::HandedOff, &mut effects).await?;
            let assignee = match conv.assignee_id {
                Some(a) => operators::get(tx.conn(), conv.workspace_id, a).await?,
                None => None,
            };
            if assignee.is_some_and(|a| !a.is_active()) {
                let cause = AssignmentReason::AssigneeRemoved;
                move_away(&mut tx, &mut conv, cause, Some(caller.id), &mut effects).await?;
            }
        }
        self.finish(tx, conv, effects).await
    }

    /// Locks the caller's workspace and loads the conversation (404 outside the workspace).
    async fn begin_on(
        &self,
        caller: &Operator,
        id: Id,
    ) -> ServiceResult<(WriteTx, Conversation, Effects)> {
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        let conv = convs::get(tx.conn(), caller.workspace_id, id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        Ok((tx, conv, Effects::new(now_millis())))
    }

    /// Reads the assignee, commits and publishes.
    async fn finish(
        &self,
        tx: WriteTx,
        conv: Conversation,
        effects: Effects,
    ) -> ServiceResult<ConversationView> {
        self.finish_with(tx, conv, effects, false).await
    }

    /// `finish` for a claim or a pick, which may go over the assignee's capacity: the answer
    /// says when it did (routing never does).
    async fn finish_assignment(
        &self,
        tx: WriteTx,
        conv: Conversation,
        effects: Effects,
    ) -> ServiceResult<ConversationView> {
        self.finish_with(tx, conv, effects, true).await
    }

    async fn finish_with(
        &self,
        mut tx: WriteTx,
        conv: Conversation,
        effects: Effects,
        check_capacity: bool,
    ) -> ServiceResult<ConversationView> {
        let assignee = match conv.assignee_id {
            Some(a) => operators::get(tx.conn(), conv.workspace_id, a).await?,
            None => None,
        };
        let conversation = convs::get(tx.conn(), conv.workspace_id, conv.id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let visitor = visitors::of_conversation(tx.conn(), conv.id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let over_capacity = match assignee
            .as_ref()
            .and_then(|a| a.capacity.map(|c| (a.id, c)))
        {
            Some((id, capacity)) if check_capacity => {
                let team = operators::list_with_loads(tx.conn(), conv.workspace_id).await?;
                let load = team
                    .iter()
                    .find(|o| o.operator.id == id)
                    .map_or(0, |o| o.load);
                load as i64 > capacity
            }
            _ => false,
        };
        self.commit(tx, effects).await?;
        Ok(ConversationView {
            conversation,
            assignee,
            visitor,
            over_capacity,
        })
    }
}

/// The statuses a view lists, given those asked for (empty = any): Unassigned leaves out the
/// AI's chats, the AI view holds only them. `None` when nothing can match.
fn view_statuses(view: View, asked: Vec<Status>) -> Option<Vec<Status>> {
    let any = [Status::Active, Status::HandedOff, Status::Closed];
    let asked = if asked.is_empty() {
        any.to_vec()
    } else {
        asked
    };
    let keep: Vec<Status> = match view {
        View::Unassigned => asked.into_iter().filter(|s| *s != Status::Active).collect(),
        View::Ai => asked.into_iter().filter(|s| *s == Status::Active).collect(),
        View::Mine | View::All => asked,
    };
    (!keep.is_empty()).then_some(keep)
}

/// `if_assignee_id`: absent = no precondition; `Some(None)` = must be unassigned;
/// `Some(Some(id))` = must be assigned to `id`. Otherwise 409 with who has it now.
async fn check_precondition(
    tx: &mut WriteTx,
    conv: &Conversation,
    if_assignee_id: Option<Option<Id>>,
) -> ServiceResult<()> {
    match if_assignee_id {
        Some(expected) if expected != conv.assignee_id => {
            let current = match conv.assignee_id {
                Some(id) => operators::get(tx.conn(), conv.workspace_id, id).await?,
                None => None,
            };
            Err(ServiceError::AssigneeChanged {
                current: current.map(Box::new),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever statuses are asked for, Unassigned and the AI view split them: no chat is in
        /// both, together they hold all of them, and the AI view holds only the AI's.
        #[test]
        fn unassigned_and_ai_split_any_status_filter(asked in proptest::sample::subsequence(
            vec![Status::Active, Status::HandedOff, Status::Closed], 0..=3)) {
            let unassigned = view_statuses(View::Unassigned, asked.clone()).unwrap_or_default();
            let ai = view_statuses(View::Ai, asked.clone()).unwrap_or_default();
            let all = view_statuses(View::All, asked.clone()).unwrap_or_default();
            prop_assert!(unassigned.iter().all(|s| !ai.contains(s)));
            prop_assert!(ai.iter().all(|s| *s == Status::Active));
            let mut both: Vec<&str> = unassigned.iter().chain(&ai).map(|s| s.as_str()).collect();
            let mut every: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
            both.sort_unstable();
            every.sort_unstable();
            prop_assert_eq!(both, every);
        }
    }

    #[test]
    fn unassigned_leaves_the_ai_out_and_the_ai_view_holds_only_its_chats() {
        use Status::*;
        assert_eq!(
            view_statuses(View::Unassigned, vec![]),
            Some(vec![HandedOff, Closed])
        );
        assert_eq!(
            view_statuses(View::Unassigned, vec![Active, HandedOff]),
            Some(vec![HandedOff])
        );
        assert_eq!(
            view_statuses(View::Ai, vec![Active, HandedOff]),
            Some(vec![Active])
        );
        assert_eq!(view_statuses(View::Ai, vec![Closed]), None);
        assert_eq!(view_statuses(View::Unassigned, vec![Active]), None);
        assert_eq!(
            view_statuses(View::All, vec![]),
            Some(vec![Active, HandedOff, Closed])
        );
    }
}
