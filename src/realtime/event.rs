use serde::Serialize;

use crate::domain::{AssignmentReason, Availability, Id, Millis, Status};
use crate::store::{Conversation, Message};
use crate::timefmt::rfc3339;

/// One live event of a workspace, serialised as a flat JSON object with `type`,
/// `workspace_id`, `at` and the subject's fields.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub workspace_id: Id,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub at: Millis,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Serialize)]
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
    },
    #[serde(rename = "message.created")]
    MessageCreated {
        conversation_id: Id,
        message_id: Id,
        author: crate::domain::Author,
        operator_id: Option<Id>,
        body: String,
    },
    #[serde(rename = "operator.availability_changed")]
    OperatorAvailabilityChanged {
        operator_id: Id,
        availability: Availability,
    },
}

impl Event {
    pub fn conversation_created(c: &Conversation, at: Millis) -> Event {
        Event {
            workspace_id: c.workspace_id,
            at,
            kind: EventKind::ConversationCreated {
                conversation_id: c.id,
                widget_id: c.widget_id,
                status: c.status,
            },
        }
    }

    pub fn message_created(workspace_id: Id, m: &Message) -> Event {
        Event {
            workspace_id,
            at: m.created_at,
            kind: EventKind::MessageCreated {
                conversation_id: m.conversation_id,
                message_id: m.id,
                author: m.author,
                operator_id: m.operator_id,
                body: m.body.clone(),
            },
        }
    }
}
