//! What the API sends: bare objects with an `id`, lists as `{"items": [...]}`, times as
//! RFC 3339 text.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{
    AssignmentReason, Author, Availability, Role, RoutingMode, Status, WaitingReason,
};
use crate::service::{
    ConversationDetail, ConversationView, CreatedInvitation, InvitationPreview, SignedIn,
    VisitorConversation,
};
use crate::store::{
    AssignmentEvent, Invitation, Message, Operator, OperatorWithLoad, WidgetWithRouting, Workspace,
};
use crate::timefmt::rfc3339::format as time;

#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorDto {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub availability: Availability,
    /// Open conversations assigned to them (in lists of teammates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<u64>,
    /// The most open chats auto-routing may give them (1 to 1000); null = no limit.
    pub capacity: Option<i64>,
    /// False once deactivated: they cannot sign in and get no chats, but stay in history.
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Operator> for OperatorDto {
    fn from(o: &Operator) -> OperatorDto {
        OperatorDto {
            id: o.id,
            name: o.name.clone(),
            email: o.email.clone(),
            role: o.role,
            availability: o.availability,
            load: None,
            capacity: o.capacity,
            active: o.is_active(),
            created_at: time(o.created_at),
        }
    }
}

impl From<&OperatorWithLoad> for OperatorDto {
    fn from(o: &OperatorWithLoad) -> OperatorDto {
        OperatorDto {
            load: Some(o.load),
            ..OperatorDto::from(&o.operator)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceDto {
    pub id: i64,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Workspace> for WorkspaceDto {
    fn from(w: &Workspace) -> WorkspaceDto {
        WorkspaceDto {
            id: w.id,
            name: w.name.clone(),
            created_at: time(w.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub operator: OperatorDto,
    pub workspace: WorkspaceDto,
}

impl From<&SignedIn> for SessionDto {
    fn from(s: &SignedIn) -> SessionDto {
        SessionDto {
            token: s.token.clone(),
            operator: OperatorDto::from(&s.operator),
            workspace: WorkspaceDto::from(&s.workspace),
        }
    }
}

/// A pending invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationDto {
    pub id: i64,
    pub email: String,
    /// The name they were invited under; they may change it when they join.
    pub name: String,
    pub role: Role,
    /// Who invited them; null if that teammate is gone.
    pub invited_by_id: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl From<&Invitation> for InvitationDto {
    fn from(i: &Invitation) -> InvitationDto {
        InvitationDto {
            id: i.id,
            email: i.email.clone(),
            name: i.name.clone(),
            role: i.role,
            invited_by_id: i.invited_by,
            created_at: time(i.created_at),
            expires_at: time(i.expires_at),
        }
    }
}

/// A new invitation, with its link: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInvitationDto {
    #[serde(flatten)]
    pub invitation: InvitationDto,
    /// `{public_url}/invite/{token}`: emailed to them when the server sends email; pass it on
    /// yourself otherwise. It is not shown again.
    pub link: String,
    /// Whether the link was queued to be emailed (the server has `--smtp-url`).
    pub emailed: bool,
}

impl From<&CreatedInvitation> for CreatedInvitationDto {
    fn from(c: &CreatedInvitation) -> CreatedInvitationDto {
        CreatedInvitationDto {
            invitation: InvitationDto::from(&c.invitation),
            link: c.link.clone(),
            emailed: c.emailed,
        }
    }
}

/// What an invitation link is for, for the page that accepts it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPreviewDto {
    pub workspace_name: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl From<&InvitationPreview> for InvitationPreviewDto {
    fn from(p: &InvitationPreview) -> InvitationPreviewDto {
        InvitationPreviewDto {
            workspace_name: p.workspace.name.clone(),
            email: p.invitation.email.clone(),
            name: p.invitation.name.clone(),
            role: p.invitation.role,
            expires_at: time(p.invitation.expires_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingDto {
    pub mode: RoutingMode,
    /// Empty = everyone in the workspace.
    pub eligible_operator_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetDto {
    pub id: i64,
    pub name: String,
    /// The public key the embed script uses.
    pub key: String,
    pub routing: RoutingDto,
    /// Sites that may embed the widget; empty = any.
    pub allowed_origins: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&WidgetWithRouting> for WidgetDto {
    fn from(w: &WidgetWithRouting) -> WidgetDto {
        WidgetDto {
            id: w.widget.id,
            name: w.widget.name.clone(),
            key: w.widget.public_key.clone(),
            routing: RoutingDto {
                mode: w.widget.routing_mode,
                eligible_operator_ids: w.eligible_operator_ids.clone(),
            },
            allowed_origins: w.widget.allowed_origins(),
            created_at: time(w.widget.created_at),
        }
    }
}

/// Who has a conversation, as shown on inbox rows and in 409s.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssigneeDto {
    pub id: i64,
    pub name: String,
    pub availability: Availability,
}

impl From<&Operator> for AssigneeDto {
    fn from(o: &Operator) -> AssigneeDto {
        AssigneeDto {
            id: o.id,
            name: o.name.clone(),
            availability: o.availability,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDto {
    pub id: i64,
    pub conversation_id: i64,
    pub author: Author,
    /// Set when `author` is `operator`.
    pub operator_id: Option<i64>,
    pub body: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Message> for MessageDto {
    fn from(m: &Message) -> MessageDto {
        MessageDto {
            id: m.id,
            conversation_id: m.conversation_id,
            author: m.author,
            operator_id: m.operator_id,
            body: m.body.clone(),
            created_at: time(m.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentEventDto {
    pub id: i64,
    pub from_operator_id: Option<i64>,
    pub to_operator_id: Option<i64>,
    pub reason: AssignmentReason,
    /// The operator who made the change; null when the system did (routing).
    pub actor_id: Option<i64>,
    #[schema(format = DateTime)]
    pub at: String,
}

impl From<&AssignmentEvent> for AssignmentEventDto {
    fn from(e: &AssignmentEvent) -> AssignmentEventDto {
        AssignmentEventDto {
            id: e.id,
            from_operator_id: e.from_operator_id,
            to_operator_id: e.to_operator_id,
            reason: e.reason,
            actor_id: e.actor_id,
            at: time(e.at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationDto {
    pub id: i64,
    pub widget_id: i64,
    pub status: Status,
    pub assignee_id: Option<i64>,
    pub assignee: Option<AssigneeDto>,
    /// Why a handed-off conversation has nobody yet.
    pub waiting_reason: Option<WaitingReason>,
    pub last_message_preview: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_message_at: String,
    /// Only on `GET /conversations/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageDto>>,
    /// Only on `GET /conversations/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_events: Option<Vec<AssignmentEventDto>>,
}

impl From<&ConversationView> for ConversationDto {
    fn from(v: &ConversationView) -> ConversationDto {
        let c = &v.conversation;
        ConversationDto {
            id: c.id,
            widget_id: c.widget_id,
            status: c.status,
            assignee_id: c.assignee_id,
            assignee: v.assignee.as_ref().map(AssigneeDto::from),
            waiting_reason: c.waiting_reason(),
            last_message_preview: c.last_message_preview.clone(),
            created_at: time(c.created_at),
            last_message_at: time(c.last_message_at),
            messages: None,
            assignment_events: None,
        }
    }
}

impl From<&ConversationDetail> for ConversationDto {
    fn from(d: &ConversationDetail) -> ConversationDto {
        ConversationDto {
            messages: Some(d.messages.iter().map(MessageDto::from).collect()),
            assignment_events: Some(
                d.assignment_events
                    .iter()
                    .map(AssignmentEventDto::from)
                    .collect(),
            ),
            ..ConversationDto::from(&d.view)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationListDto {
    pub items: Vec<ConversationDto>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StartedConversationDto {
    pub conversation_id: i64,
    /// Keep it: it is the visitor's key to their conversations (`X-Visitor-Token`).
    pub visitor_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorMessageDto {
    pub id: i64,
    pub author: Author,
    /// The teammate's display name on operator messages.
    pub operator_name: Option<String>,
    pub body: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorConversationDto {
    pub id: i64,
    pub status: Status,
    /// The display name of the teammate answering; null while the AI or the queue has it.
    pub assignee_name: Option<String>,
    pub messages: Vec<VisitorMessageDto>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&VisitorConversation> for VisitorConversationDto {
    fn from(v: &VisitorConversation) -> VisitorConversationDto {
        VisitorConversationDto {
            id: v.conversation.id,
            status: v.conversation.status,
            assignee_name: v.assignee_name.clone(),
            messages: v
                .messages
                .iter()
                .map(|m| VisitorMessageDto {
                    id: m.message.id,
                    author: m.message.author,
                    operator_name: m.operator_name.clone(),
                    body: m.message.body.clone(),
                    created_at: time(m.message.created_at),
                })
                .collect(),
            created_at: time(v.conversation.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}
