//! The live events of a workspace, as the event log stores them and the streams send them.
//! Plain data shared by the store (which appends and reads the log) and the realtime layer
//! (which delivers it); building events from store records and rendering them for each
//! audience is `realtime`'s job.

use serde::{Deserialize, Serialize};

use super::queue::Place;
use super::routing::Decision;
use super::{AssignmentReason, Author, Availability, AvailabilityReason, Id, Status};

/// One event of a workspace: a flat JSON object with `type`, `workspace_id`, `at` and the
/// subject's fields (plus `id`, its position in the log, once stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub workspace_id: Id,
    /// The visitor whose conversation this concerns; routes it to their stream too.
    #[serde(skip)]
    pub visitor_id: Option<Id>,
    /// Set on personal events: only this operator's streams receive it.
    #[serde(skip)]
    pub recipient_id: Option<Id>,
    pub at: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventKind {
    #[serde(rename = "conversation.created")]
    ConversationCreated {
        conversation_id: Id,
        widget_id: Id,
        status: Status,
    },
    #[serde(rename = "conversation.status_changed")]
    ConversationStatusChanged {
        conversation_id: Id,
        status: Status,
        previous_status: Status,
    },
    /// Any change of assignee, unassign included.
    #[serde(rename = "conversation.assigned")]
    ConversationAssigned {
        conversation_id: Id,
        assignee_id: Option<Id>,
        previous_assignee_id: Option<Id>,
        reason: AssignmentReason,
        actor_id: Option<Id>,
        assignee_name: Option<String>,
        /// Routing took the chat from the queue (SPEC 9).
        #[serde(default)]
        from_queue: bool,
        /// Why routing chose as it did (SPEC 10); absent when no routing made the change.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<Box<Decision>>,
    },
    #[serde(rename = "message.created")]
    MessageCreated {
        conversation_id: Id,
        message: EventMessage,
    },
    #[serde(rename = "operator.availability_changed")]
    OperatorAvailabilityChanged {
        operator_id: Id,
        availability: Availability,
        #[serde(default = "manual")]
        availability_reason: AvailabilityReason,
    },
    /// A teammate joined, or their name, role, capacity or active state changed: refetch the
    /// team.
    #[serde(rename = "operator.updated")]
    OperatorUpdated { operator_id: Id },
    /// Personal, to that operator's streams only, and never sent to a client: some of their
    /// sessions were ended (deactivation, a password change or reset). Each of their streams
    /// checks its own session and closes if it is one of them.
    #[serde(rename = "operator.sessions_ended")]
    SessionsEnded { operator_id: Id },
    /// A visitor record changed: the embedding site identified the visitor (name, email,
    /// verified), and `merged_visitor_id`'s chats, if set, are now this record's.
    #[serde(rename = "visitor.updated")]
    VisitorUpdated {
        visitor_id: Id,
        merged_visitor_id: Option<Id>,
    },
    /// The visitor's place in line changed (SPEC 10); `queue` is null once the chat is no
    /// longer queued.
    #[serde(rename = "queue.changed")]
    QueueChanged {
        conversation_id: Id,
        queue: Option<Place>,
    },
    /// Personal, to the new assignee only: someone or something else assigned them a chat.
    #[serde(rename = "widget.conversation_assigned")]
    AssignedToYou {
        conversation_id: Id,
        widget_id: Id,
        reason: AssignmentReason,
        actor_id: Option<Id>,
    },
}

/// Events logged before availability had a reason were all set by hand.
fn manual() -> AvailabilityReason {
    AvailabilityReason::Manual
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMessage {
    pub id: Id,
    pub author: Author,
    pub operator_id: Option<Id>,
    pub operator_name: Option<String>,
    pub body: String,
    pub created_at: String,
}

impl Event {
    /// The conversation the event is about, if it is about one.
    pub fn conversation_id(&self) -> Option<Id> {
        match &self.kind {
            EventKind::ConversationCreated {
                conversation_id, ..
            }
            | EventKind::ConversationStatusChanged {
                conversation_id, ..
            }
            | EventKind::ConversationAssigned {
                conversation_id, ..
            }
            | EventKind::MessageCreated {
                conversation_id, ..
            }
            | EventKind::AssignedToYou {
                conversation_id, ..
            }
            | EventKind::QueueChanged {
                conversation_id, ..
            } => Some(*conversation_id),
            EventKind::OperatorAvailabilityChanged { .. }
            | EventKind::OperatorUpdated { .. }
            | EventKind::SessionsEnded { .. }
            | EventKind::VisitorUpdated { .. } => None,
        }
    }

    /// The operator whose streams must check that their session still holds, for a
    /// `SessionsEnded` event.
    pub fn sessions_ended_of(&self) -> Option<Id> {
        match self.kind {
            EventKind::SessionsEnded { operator_id } => Some(operator_id),
            _ => None,
        }
    }
}

/// An event as it sits in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: Id,
    pub event: Event,
}
