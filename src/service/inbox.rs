//! The operators' side of conversations: the inbox lists, replies, takeover, claim, picking a
//! teammate, unassigning, closing and reopening.

use std::collections::HashMap;

use super::assignment::{add_message, change_assignee, change_status, hand_over, move_away};
use super::effects::Effects;
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::{AssignmentReason, Author, Id, Millis, Status};
use crate::store::conversations::{self as convs, AssigneeFilter, InboxCounts, ListQuery};
use crate::store::{
    AssignmentEvent, Conversation, Message, Operator, Visitor, WriteTx, operators, visitors,
};
use crate::timefmt::now_millis;

/// A conversation with its assignee's and its visitor's records.
#[derive(Debug, Clone)]
pub struct ConversationView {
    pub conversation: Conversation,
    pub assignee: Option<Operator>,
    pub visitor: Visitor,
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
    Unassigned,
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

pub struct ConversationPage {
    pub items: Vec<ConversationView>,
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
        let mut conn = self.store.read().await?;
        let query = ListQuery {
            workspace_id: caller.workspace_id,
            assignee: match q.view {
                View::Mine => AssigneeFilter::Operator(caller.id),
                View::Unassigned => AssigneeFilter::Unassigned,
                View::All => AssigneeFilter::Everyone,
            },
            statuses: q.statuses,
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
            items.push(ConversationView {
                conversation,
                assignee,
                visitor,
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
            &mut *self.store.read().await?,
            caller.workspace_id,
            caller.id,
            statuses,
        )
        .await?)
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
        let status = conv.status.after_operator_action();
        change_status(&mut tx, &mut conv, status, &mut effects).await?;
        self.finish(tx, conv, effects).await
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
        if operator_id.is_some() {
            let status = conv.status.after_operator_action();
            change_status(&mut tx, &mut conv, status, &mut effects).await?;
        }
        self.finish(tx, conv, effects).await
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
        mut tx: WriteTx,
        conv: Conversation,
        effects: Effects,
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
        self.commit(tx, effects).await?;
        Ok(ConversationView {
            conversation,
            assignee,
            visitor,
        })
    }
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
