//! What the API sends: bare objects with an `id`, lists as `{"items": [...]}`, times as
//! RFC 3339 text.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::queue::Place;
use crate::domain::routing::{Decision, Exclusion};
use crate::domain::user_agent;
use crate::domain::{
    AssignmentReason, Author, Availability, AvailabilityReason, Role, RoutingMode, Status,
    WaitingReason,
};
use crate::service::{
    ConversationDetail, ConversationView, CreatedInvitation, Identified, InboxRow,
    InvitationPreview, SignedIn, VisitorConversation, VisitorDetail,
};
use crate::store::{
    AssignmentEvent, Conversation, Invitation, Message, Operator, OperatorWithLoad, Visitor,
    Widget, WidgetWithRouting, Workspace,
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
    /// `no_open_tab` while they are Away because their last inbox tab closed; `manual`
    /// otherwise.
    pub availability_reason: AvailabilityReason,
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
            availability_reason: o.availability_reason,
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
    /// A chat routed to someone who has not replied after this long is routed again among
    /// the teammates not yet given it; null = off.
    pub reassign_after_secs: Option<i64>,
    /// A chat without any message for this long is closed; null = off.
    pub auto_close_after_secs: Option<i64>,
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
    /// The first thing the widget says to a visitor.
    pub greeting: String,
    /// Only on `GET /widgets/{id}`, to owners and admins: the key the embedding site signs its
    /// users' ids with (`user_hash` = hex HMAC-SHA256 of the user id, keyed with this text).
    /// Keep it on your server; never put it in a page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
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
                reassign_after_secs: w.widget.reassign_after_secs,
                auto_close_after_secs: w.widget.auto_close_after_secs,
            },
            allowed_origins: w.widget.allowed_origins(),
            greeting: w.widget.greeting().to_owned(),
            identity_secret: None,
            created_at: time(w.widget.created_at),
        }
    }
}

impl WidgetDto {
    /// The widget with its identity secret, for an owner or admin.
    pub fn with_secret(w: &WidgetWithRouting) -> WidgetDto {
        WidgetDto {
            identity_secret: Some(w.widget.identity_secret.clone()),
            ..WidgetDto::from(w)
        }
    }
}

/// What the widget needs before the visitor writes: public, like its key.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicWidgetDto {
    pub greeting: String,
}

impl From<&Widget> for PublicWidgetDto {
    fn from(w: &Widget) -> PublicWidgetDto {
        PublicWidgetDto {
            greeting: w.greeting().to_owned(),
        }
    }
}

/// Who has a conversation, as shown on inbox rows and in 409s.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssigneeDto {
    pub id: i64,
    pub name: String,
    pub availability: Availability,
    pub availability_reason: AvailabilityReason,
}

impl From<&Operator> for AssigneeDto {
    fn from(o: &Operator) -> AssigneeDto {
        AssigneeDto {
            id: o.id,
            name: o.name.clone(),
            availability: o.availability,
            availability_reason: o.availability_reason,
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
    /// Routing took the chat from the queue, where it waited since `queued_at`.
    pub from_queue: bool,
    #[schema(format = DateTime)]
    pub queued_at: Option<String>,
    /// Why routing chose as it did ("Why?"); null when no routing made the change.
    pub decision: Option<DecisionDto>,
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
            from_queue: e.queued_at.is_some(),
            queued_at: e.queued_at.map(time),
            decision: e.decision().as_ref().map(DecisionDto::from),
        }
    }
}

/// A routing decision and what it was made from (SPEC 10).
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionDto {
    pub mode: RoutingMode,
    /// Null when nobody would get (or got) the chat.
    pub chosen_operator_id: Option<i64>,
    /// What decided, in words: "next after Ben in join order", "fewest open chats (2)", "tie on
    /// load: longest since last assignment".
    pub rule: String,
    /// The teammates who could take it, in join order.
    pub candidates: Vec<CandidateDto>,
    /// The others, with why: `away`, `at_capacity`, `not_eligible` or `already_given`.
    pub excluded: Vec<ExcludedDto>,
    /// The round-robin cursor (the operator last chosen) before and after.
    pub cursor_before: Option<i64>,
    pub cursor_after: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateDto {
    pub operator_id: i64,
    /// Their open chats when the decision was made.
    pub load: u64,
    pub capacity: Option<u64>,
    #[schema(format = DateTime)]
    pub last_assigned_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExcludedDto {
    pub operator_id: i64,
    pub why: Exclusion,
}

impl From<&Decision> for DecisionDto {
    fn from(d: &Decision) -> DecisionDto {
        DecisionDto {
            mode: d.mode,
            chosen_operator_id: d.chosen_operator_id,
            rule: d.rule.clone(),
            candidates: d
                .candidates
                .iter()
                .map(|c| CandidateDto {
                    operator_id: c.operator_id,
                    load: c.load,
                    capacity: c.capacity,
                    last_assigned_at: c.last_assigned_at.map(time),
                })
                .collect(),
            excluded: d
                .excluded
                .iter()
                .map(|e| ExcludedDto {
                    operator_id: e.operator_id,
                    why: e.why,
                })
                .collect(),
            cursor_before: d.cursor_before,
            cursor_after: d.cursor_after,
        }
    }
}

/// Who a conversation is with, as inbox rows and headers show them.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorSummaryDto {
    pub id: i64,
    /// As the embedding site gave it; shown as text, never as markup.
    pub name: Option<String>,
    pub email: Option<String>,
    /// The name, else the email, else a generated name that stays the same ("Amber Otter").
    pub display_name: String,
    /// The embedding site vouched for who they are (a valid `user_hash`).
    pub verified: bool,
}

impl From<&Visitor> for VisitorSummaryDto {
    fn from(v: &Visitor) -> VisitorSummaryDto {
        VisitorSummaryDto {
            id: v.id,
            name: v.name.clone(),
            email: v.email.clone(),
            display_name: v.display_name(),
            verified: v.verified(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationDto {
    pub id: i64,
    pub widget_id: i64,
    pub visitor_id: i64,
    pub visitor: VisitorSummaryDto,
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
    /// Only on inbox rows: the visitor wrote after the newest message the caller has read
    /// (`POST /conversations/{id}/read`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<bool>,
    /// Only on inbox rows: the visitor's first message since the last operator reply, that
    /// is how long they have waited for a person; null when a person answered everything.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime, nullable)]
    pub waiting_since: Option<Option<String>>,
    /// While it waits for a human: since when (SPEC 9).
    #[schema(format = DateTime)]
    pub queued_at: Option<String>,
    /// Only in the answer to a claim or a pick that gave the assignee more open chats than
    /// their capacity: true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub over_capacity: bool,
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
            // The visitor's record, read with the conversation: after a merge it is the record
            // the conversation moved to.
            visitor_id: v.visitor.id,
            visitor: VisitorSummaryDto::from(&v.visitor),
            status: c.status,
            assignee_id: c.assignee_id,
            assignee: v.assignee.as_ref().map(AssigneeDto::from),
            waiting_reason: c.waiting_reason(),
            last_message_preview: c.last_message_preview.clone(),
            created_at: time(c.created_at),
            last_message_at: time(c.last_message_at),
            unread: None,
            waiting_since: None,
            queued_at: c.queued_at.map(time),
            over_capacity: v.over_capacity,
            messages: None,
            assignment_events: None,
        }
    }
}

impl From<&InboxRow> for ConversationDto {
    fn from(row: &InboxRow) -> ConversationDto {
        ConversationDto {
            unread: Some(row.marks.unread),
            waiting_since: Some(row.marks.waiting_since.map(time)),
            ..ConversationDto::from(&row.view)
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
    /// Why a handed-off chat has nobody yet: `manual_mode` (a teammate will pick it up) or
    /// `no_available_operator` (nobody is Available); null otherwise.
    pub waiting_reason: Option<WaitingReason>,
    /// The email the visitor left (or the site gave), where missed replies are sent.
    pub email: Option<String>,
    pub messages: Vec<VisitorMessageDto>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// While the chat waits in line for a person; null otherwise.
    pub queue: Option<QueuePlaceDto>,
}

/// Where a waiting chat stands (SPEC 10).
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePlaceDto {
    /// 1 = next: one more than the chats ahead of it that the same teammates could take.
    pub position: u64,
    /// The median wait of the widget's last 50 routed chats times the position; null while
    /// fewer than 5 chats were routed.
    pub estimated_wait_secs: Option<u64>,
}

impl From<&Place> for QueuePlaceDto {
    fn from(p: &Place) -> QueuePlaceDto {
        QueuePlaceDto {
            position: p.position,
            estimated_wait_secs: p.estimated_wait_secs,
        }
    }
}

impl From<&VisitorConversation> for VisitorConversationDto {
    fn from(v: &VisitorConversation) -> VisitorConversationDto {
        VisitorConversationDto {
            id: v.conversation.id,
            status: v.conversation.status,
            assignee_name: v.assignee_name.clone(),
            waiting_reason: v.conversation.waiting_reason(),
            email: v.visitor_email.clone(),
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
            queue: v.queue.as_ref().map(QueuePlaceDto::from),
        }
    }
}

/// One of a visitor's conversations, in their record.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorChatDto {
    pub id: i64,
    pub widget_id: i64,
    pub status: Status,
    pub assignee_id: Option<i64>,
    pub assignee: Option<AssigneeDto>,
    pub last_message_preview: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_message_at: String,
}

impl VisitorChatDto {
    fn new(c: &Conversation, assignee: Option<&Operator>) -> VisitorChatDto {
        VisitorChatDto {
            id: c.id,
            widget_id: c.widget_id,
            status: c.status,
            assignee_id: c.assignee_id,
            assignee: assignee.map(AssigneeDto::from),
            last_message_preview: c.last_message_preview.clone(),
            created_at: time(c.created_at),
            last_message_at: time(c.last_message_at),
        }
    }
}

/// The visitor record (`GET /visitors/{id}`). Every text in it came from the visitor's
/// browser or the embedding site: show it as text.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorDto {
    pub id: i64,
    pub widget_id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The name, else the email, else a generated name that stays the same.
    pub display_name: String,
    /// The embedding site's user id for them, once it identified them.
    pub external_id: Option<String>,
    /// The site vouched for `external_id` with a valid `user_hash`.
    pub verified: bool,
    /// The page the widget last reported (an http(s) URL).
    pub current_url: Option<String>,
    /// The page of another site that led them there.
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    /// The user agent in a few words, e.g. "Chrome 126 on macOS".
    pub browser: Option<String>,
    #[schema(format = DateTime)]
    pub first_seen_at: String,
    /// When the visitor last made a request (to within a minute).
    #[schema(format = DateTime)]
    pub last_seen_at: String,
    /// Newest activity first.
    pub conversations: Vec<VisitorChatDto>,
}

impl From<&VisitorDetail> for VisitorDto {
    fn from(d: &VisitorDetail) -> VisitorDto {
        let v = &d.visitor;
        VisitorDto {
            id: v.id,
            widget_id: v.widget_id,
            name: v.name.clone(),
            email: v.email.clone(),
            display_name: v.display_name(),
            external_id: v.external_id.clone(),
            verified: v.verified(),
            current_url: v.current_url.clone(),
            referrer: v.referrer.clone(),
            user_agent: v.user_agent.clone(),
            browser: v.user_agent.as_deref().and_then(user_agent::summary),
            first_seen_at: time(v.first_seen_at),
            last_seen_at: time(v.last_seen_at),
            conversations: d
                .conversations
                .iter()
                .map(|(c, assignee)| VisitorChatDto::new(c, assignee.as_ref()))
                .collect(),
        }
    }
}

/// One of the visitor's own chats, as the widget sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnChatDto {
    pub id: i64,
    pub status: Status,
    #[schema(format = DateTime)]
    pub last_message_at: String,
}

/// Who the visitor is now, as the widget may show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifiedDto {
    pub name: Option<String>,
    pub email: Option<String>,
    pub verified: bool,
    /// All their chats, from every browser they were identified on; newest activity first.
    pub conversations: Vec<OwnChatDto>,
}

impl From<&Identified> for IdentifiedDto {
    fn from(i: &Identified) -> IdentifiedDto {
        IdentifiedDto {
            name: i.visitor.name.clone(),
            email: i.visitor.email.clone(),
            verified: i.visitor.verified(),
            conversations: i
                .conversations
                .iter()
                .map(|c| OwnChatDto {
                    id: c.id,
                    status: c.status,
                    last_message_at: time(c.last_message_at),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}
