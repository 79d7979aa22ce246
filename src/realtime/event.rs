//! Events built from the store's records, and what each audience receives of one: the whole
//! event for inbox tabs, a narrower view for visitors. The types are `domain::event`'s.

use serde::Serialize;

use crate::domain::event::{Event, EventKind, EventMessage, StoredEvent};
use crate::domain::queue::Place;
use crate::domain::{AssignmentReason, Author, Id, Millis, Status};
use crate::store::{Conversation, Message, Operator};
use crate::timefmt::rfc3339;

impl Event {
    fn about(conv: &Conversation, at: Millis, kind: EventKind) -> Event {
        Event {
            workspace_id: conv.workspace_id,
            visitor_id: Some(conv.visitor_id),
            recipient_id: None,
            at: rfc3339::format(at),
            kind,
        }
    }

    pub fn conversation_created(conv: &Conversation, at: Millis) -> Event {
        let kind = EventKind::ConversationCreated {
            conversation_id: conv.id,
            widget_id: conv.widget_id,
            status: conv.status,
        };
        Event::about(conv, at, kind)
    }

    pub fn status_changed(conv: &Conversation, previous_status: Status, at: Millis) -> Event {
        let kind = EventKind::ConversationStatusChanged {
            conversation_id: conv.id,
            status: conv.status,
            previous_status,
        };
        Event::about(conv, at, kind)
    }

    pub fn assigned(
        conv: &Conversation,
        assignee: Option<&Operator>,
        previous_assignee_id: Option<Id>,
        reason: AssignmentReason,
        actor_id: Option<Id>,
        at: Millis,
    ) -> Event {
        let kind = EventKind::ConversationAssigned {
            conversation_id: conv.id,
            assignee_id: assignee.map(|a| a.id),
            previous_assignee_id,
            reason,
            actor_id,
            assignee_name: assignee.map(|a| a.name.clone()),
            from_queue: false,
            decision: None,
        };
        Event::about(conv, at, kind)
    }

    /// The chat's place in line changed; `None` once it is out of the queue.
    pub fn queue_changed(
        workspace_id: Id,
        visitor_id: Id,
        conversation_id: Id,
        queue: Option<Place>,
        at: Millis,
    ) -> Event {
        Event {
            workspace_id,
            visitor_id: Some(visitor_id),
            recipient_id: None,
            at: rfc3339::format(at),
            kind: EventKind::QueueChanged {
                conversation_id,
                queue,
            },
        }
    }

    pub fn message_created(conv: &Conversation, m: &Message, operator_name: Option<&str>) -> Event {
        let message = EventMessage {
            id: m.id,
            author: m.author,
            operator_id: m.operator_id,
            operator_name: operator_name.map(str::to_owned),
            body: m.body.clone(),
            created_at: rfc3339::format(m.created_at),
        };
        Event::about(
            conv,
            m.created_at,
            EventKind::MessageCreated {
                conversation_id: conv.id,
                message,
            },
        )
    }

    /// The personal notice to `recipient` that they were given this chat by someone else.
    pub fn assigned_to_you(
        conv: &Conversation,
        recipient: Id,
        reason: AssignmentReason,
        actor_id: Option<Id>,
        at: Millis,
    ) -> Event {
        let kind = EventKind::AssignedToYou {
            conversation_id: conv.id,
            widget_id: conv.widget_id,
            reason,
            actor_id,
        };
        Event {
            recipient_id: Some(recipient),
            visitor_id: None,
            ..Event::about(conv, at, kind)
        }
    }

    /// A teammate joined, or their profile or active state changed.
    pub fn operator_updated(operator: &Operator, at: Millis) -> Event {
        Event {
            workspace_id: operator.workspace_id,
            visitor_id: None,
            recipient_id: None,
            at: rfc3339::format(at),
            kind: EventKind::OperatorUpdated {
                operator_id: operator.id,
            },
        }
    }

    /// Some of the operator's sessions ended: their streams check theirs (see
    /// `realtime::stream`).
    pub fn sessions_ended(operator: &Operator, at: Millis) -> Event {
        Event {
            workspace_id: operator.workspace_id,
            visitor_id: None,
            recipient_id: Some(operator.id),
            at: rfc3339::format(at),
            kind: EventKind::SessionsEnded {
                operator_id: operator.id,
            },
        }
    }

    /// For inbox tabs only: visitors see nothing of their own record's bookkeeping.
    pub fn visitor_updated(
        workspace_id: Id,
        visitor_id: Id,
        merged_visitor_id: Option<Id>,
        at: Millis,
    ) -> Event {
        Event {
            workspace_id,
            visitor_id: None,
            recipient_id: None,
            at: rfc3339::format(at),
            kind: EventKind::VisitorUpdated {
                visitor_id,
                merged_visitor_id,
            },
        }
    }

    pub fn availability_changed(operator: &Operator, at: Millis) -> Event {
        Event {
            workspace_id: operator.workspace_id,
            visitor_id: None,
            recipient_id: None,
            at: rfc3339::format(at),
            kind: EventKind::OperatorAvailabilityChanged {
                operator_id: operator.id,
                availability: operator.availability,
                availability_reason: operator.availability_reason,
            },
        }
    }
}

#[derive(Serialize)]
struct Numbered<'a, T> {
    id: Id,
    #[serde(flatten)]
    body: &'a T,
}

/// What a visitor may see: replies and status changes of their own chat, and the name of who
/// answers. No operator ids or emails.
#[derive(Serialize)]
#[serde(tag = "type")]
enum VisitorView<'a> {
    #[serde(rename = "message.created")]
    MessageCreated {
        conversation_id: Id,
        at: &'a str,
        message: VisitorMessage<'a>,
    },
    #[serde(rename = "conversation.status_changed")]
    StatusChanged {
        conversation_id: Id,
        at: &'a str,
        status: Status,
    },
    #[serde(rename = "conversation.assigned")]
    Assigned {
        conversation_id: Id,
        at: &'a str,
        assignee_name: Option<&'a str>,
    },
    #[serde(rename = "queue.changed")]
    QueueChanged {
        conversation_id: Id,
        at: &'a str,
        queue: Option<Place>,
    },
}

#[derive(Serialize)]
struct VisitorMessage<'a> {
    id: Id,
    author: Author,
    operator_name: Option<&'a str>,
    body: &'a str,
    created_at: &'a str,
}

impl StoredEvent {
    /// The JSON text inbox tabs receive.
    pub fn inbox_json(&self) -> String {
        serde_json::to_string(&Numbered {
            id: self.id,
            body: &self.event,
        })
        .unwrap_or_default()
    }

    /// The JSON text the event's visitor receives, if it is one they see.
    pub fn visitor_json(&self) -> Option<String> {
        let at = self.event.at.as_str();
        let view = match &self.event.kind {
            EventKind::MessageCreated {
                conversation_id,
                message,
            } => VisitorView::MessageCreated {
                conversation_id: *conversation_id,
                at,
                message: VisitorMessage {
                    id: message.id,
                    author: message.author,
                    operator_name: message.operator_name.as_deref(),
                    body: &message.body,
                    created_at: &message.created_at,
                },
            },
            EventKind::ConversationStatusChanged {
                conversation_id,
                status,
                ..
            } => VisitorView::StatusChanged {
                conversation_id: *conversation_id,
                at,
                status: *status,
            },
            EventKind::ConversationAssigned {
                conversation_id,
                assignee_name,
                ..
            } => VisitorView::Assigned {
                conversation_id: *conversation_id,
                at,
                assignee_name: assignee_name.as_deref(),
            },
            EventKind::QueueChanged {
                conversation_id,
                queue,
            } => VisitorView::QueueChanged {
                conversation_id: *conversation_id,
                at,
                queue: *queue,
            },
            EventKind::ConversationCreated { .. }
            | EventKind::OperatorAvailabilityChanged { .. }
            | EventKind::OperatorUpdated { .. }
            | EventKind::SessionsEnded { .. }
            | EventKind::VisitorUpdated { .. }
            | EventKind::AssignedToYou { .. } => return None,
        };
        self.event.visitor_id?;
        serde_json::to_string(&Numbered {
            id: self.id,
            body: &view,
        })
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(kind: EventKind) -> StoredEvent {
        StoredEvent {
            id: 7,
            event: Event {
                workspace_id: 1,
                visitor_id: Some(3),
                recipient_id: None,
                at: "2026-01-01T00:00:00.000Z".into(),
                kind,
            },
        }
    }

    #[test]
    fn inbox_json_is_flat_with_type_and_id_and_round_trips() {
        let e = stored(EventKind::ConversationAssigned {
            conversation_id: 5,
            assignee_id: Some(2),
            previous_assignee_id: None,
            reason: AssignmentReason::RoundRobin,
            actor_id: None,
            assignee_name: Some("Ana".into()),
            from_queue: false,
            decision: None,
        });
        let json: serde_json::Value = serde_json::from_str(&e.inbox_json()).unwrap();
        assert_eq!(json["type"], "conversation.assigned");
        assert_eq!(json["id"], 7);
        assert_eq!(json["workspace_id"], 1);
        assert_eq!(json["assignee_id"], 2);
        assert_eq!(json["previous_assignee_id"], serde_json::Value::Null);
        assert_eq!(json["reason"], "round_robin");
        let back: Event = serde_json::from_str(&serde_json::to_string(&e.event).unwrap()).unwrap();
        assert_eq!(back.kind, e.event.kind);
    }

    #[test]
    fn visitors_see_replies_and_status_but_no_operator_ids() {
        let message = stored(EventKind::MessageCreated {
            conversation_id: 5,
            message: EventMessage {
                id: 9,
                author: Author::Operator,
                operator_id: Some(2),
                operator_name: Some("Ana".into()),
                body: "<b>hi</b>".into(),
                created_at: "2026-01-01T00:00:00.000Z".into(),
            },
        });
        let json: serde_json::Value =
            serde_json::from_str(&message.visitor_json().unwrap()).unwrap();
        assert_eq!(json["message"]["operator_name"], "Ana");
        assert_eq!(json["message"]["body"], "<b>hi</b>");
        assert!(json["message"].get("operator_id").is_none() && json.get("workspace_id").is_none());
        let created = stored(EventKind::ConversationCreated {
            conversation_id: 5,
            widget_id: 1,
            status: Status::Active,
        });
        assert_eq!(created.visitor_json(), None);
    }
}
