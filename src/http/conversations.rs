//! The inbox: lists, one conversation, replies and every change of owner or status.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::dto::{ConversationDto, ConversationListDto, MessageDto};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Caller, PathId, present};
use crate::domain::{Id, Status};
use crate::service::{InboxQuery, View};
use crate::store::conversations::InboxCounts;

/// The inbox (under `/api/v1`, as every path below).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(counts))
        .routes(routes!(get))
        .routes(routes!(mark_read))
        .routes(routes!(reply))
        .routes(routes!(takeover))
        .routes(routes!(claim))
        .routes(routes!(set_assignee))
        .routes(routes!(close))
        .routes(routes!(reopen))
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Default `all`.
    #[param(inline)]
    view: Option<InboxView>,
    /// Comma-separated statuses: `active`, `handed_off`, `closed`, or `open` (= active and
    /// handed_off). Leave it out for any.
    #[param(inline, value_type = Option<Vec<StatusFilter>>, style = Form, explode = false)]
    status: Option<String>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// Which conversations an inbox list holds.
#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxView {
    /// Assigned to the caller.
    Mine,
    /// Waiting for a human (handed off or closed) with nobody assigned: not the AI's chats.
    Unassigned,
    /// The AI is still handling them (`active`).
    Ai,
    All,
}

/// A status to list: one of a conversation's, or `open` (= `active` and `handed_off`).
#[derive(Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum StatusFilter {
    Active,
    HandedOff,
    Closed,
    Open,
}

impl StatusFilter {
    fn parse(text: &str) -> Option<StatusFilter> {
        Some(match text {
            "active" => StatusFilter::Active,
            "handed_off" => StatusFilter::HandedOff,
            "closed" => StatusFilter::Closed,
            "open" => StatusFilter::Open,
            _ => return None,
        })
    }

    fn statuses(self) -> &'static [Status] {
        match self {
            StatusFilter::Active => &[Status::Active],
            StatusFilter::HandedOff => &[Status::HandedOff],
            StatusFilter::Closed => &[Status::Closed],
            StatusFilter::Open => &[Status::Active, Status::HandedOff],
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// Up to 10,000 characters, not all blank; shown as text, never as markup.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ClaimRequest {
    /// Precondition: claim only if this is the current assignee (`null` = unassigned).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable)]
    pub if_assignee_id: Option<Option<Id>>,
}

#[derive(Deserialize, ToSchema)]
pub struct AssigneeRequest {
    /// The teammate to assign; `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable, required = true)]
    pub operator_id: Option<Option<Id>>,
    /// Precondition: change only if this is the current assignee (`null` = unassigned).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable)]
    pub if_assignee_id: Option<Option<Id>>,
}

/// Inbox rows, newest activity first, each with its assignee.
#[utoipa::path(get, path = "/conversations", tag = "conversations", params(ListParams),
    responses((status = 200, body = ConversationListDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<ConversationListDto>> {
    let query = parse_list_params(params)?;
    let page = state
        .service
        .list_conversations(&caller.operator, query)
        .await?;
    Ok(Json(ConversationListDto {
        items: page.items.iter().map(ConversationDto::from).collect(),
        next_cursor: page.next.map(|(at, id)| format!("{at}.{id}")),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountParams {
    /// As for the list: comma-separated statuses, or `open`. Leave it out for any.
    #[param(inline, value_type = Option<Vec<StatusFilter>>, style = Form, explode = false)]
    status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CountsDto {
    pub mine: u64,
    /// Waiting for a human with nobody assigned; the AI's chats are in `ai`, not here.
    pub unassigned: u64,
    /// The AI is still handling them.
    pub ai: u64,
    pub all: u64,
}

impl From<InboxCounts> for CountsDto {
    fn from(c: InboxCounts) -> CountsDto {
        CountsDto {
            mine: c.mine,
            unassigned: c.unassigned,
            ai: c.ai,
            all: c.all,
        }
    }
}

/// How many conversations each inbox view (`mine`, `unassigned`, `ai`, `all`) holds.
#[utoipa::path(get, path = "/conversations/counts", tag = "conversations", params(CountParams),
    responses((status = 200, body = CountsDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<CountParams>,
) -> ApiResult<Json<CountsDto>> {
    let statuses = parse_statuses(params.status.as_deref())?;
    let counts = state
        .service
        .conversation_counts(&caller.operator, &statuses)
        .await?;
    Ok(Json(CountsDto::from(counts)))
}

/// Exactly the documented form, so that what the OpenAPI document calls invalid is refused:
/// no spaces, no empty items, and no parameter at all for "any".
fn parse_statuses(param: Option<&str>) -> Result<Vec<Status>, ApiError> {
    let Some(param) = param else {
        return Ok(Vec::new());
    };
    let mut statuses = Vec::new();
    for part in param.split(',') {
        let filter = StatusFilter::parse(part).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_status",
                format!("status {part:?} is not one of active, handed_off, closed, open"),
            )
        })?;
        statuses.extend(filter.statuses());
    }
    Ok(statuses)
}

fn parse_list_params(params: ListParams) -> Result<InboxQuery, ApiError> {
    let view = match params.view.unwrap_or(InboxView::All) {
        InboxView::Mine => View::Mine,
        InboxView::Unassigned => View::Unassigned,
        InboxView::Ai => View::Ai,
        InboxView::All => View::All,
    };
    let statuses = parse_statuses(params.status.as_deref())?;
    let after = match params.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(
            cursor
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse().ok()?, id.parse().ok()?)))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_cursor",
                        "cursor must be a next_cursor from a previous page",
                    )
                })?,
        ),
    };
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be 1 to {MAX_PAGE}"),
        ));
    }
    Ok(InboxQuery {
        view,
        statuses,
        after,
        limit,
    })
}

/// One conversation with its messages and assignment events.
#[utoipa::path(get, path = "/conversations/{id}", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<ConversationDto>> {
    let detail = state.service.get_conversation(&caller.operator, id).await?;
    Ok(Json(ConversationDto::from(&detail)))
}

/// Marks everything in the conversation so far as read by the caller: its row is no longer
/// `unread` for them, and an "assigned to you" email still waiting (`email_delay_secs`) is not
/// sent.
#[utoipa::path(post, path = "/conversations/{id}/read", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 204, description = "read"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    state.service.mark_read(&caller.operator, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An operator's reply. Replying to an unassigned conversation makes the caller its assignee
/// (reason `reply`); any reply stops the AI.
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "conversations", params(("id" = i64, Path)),
    request_body = ReplyRequest,
    responses((status = 201, body = MessageDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(req): ApiJson<ReplyRequest>,
) -> ApiResult<(StatusCode, Json<MessageDto>)> {
    let message = state.service.reply(&caller.operator, id, &req.body).await?;
    Ok((StatusCode::CREATED, Json(MessageDto::from(&message))))
}

/// Manual takeover of an AI-handled (`active`) chat: `handed_off`, then the widget's routing.
#[utoipa::path(post, path = "/conversations/{id}/takeover", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "not AI-handled (already handed off, or closed)", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn takeover(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<ConversationDto>> {
    let view = state.service.takeover(&caller.operator, id).await?;
    Ok(Json(ConversationDto::from(&view)))
}

/// Assigns the conversation to the caller (reason `claim`).
#[utoipa::path(post, path = "/conversations/{id}/claim", tag = "conversations", params(("id" = i64, Path)),
    request_body(content = Option<ClaimRequest>, description = "optional"),
    responses((status = 200, body = ConversationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "`if_assignee_id` did not match; carries the current assignee", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> ApiResult<Json<ConversationDto>> {
    let view = state
        .service
        .claim(&caller.operator, id, req.if_assignee_id)
        .await?;
    Ok(Json(ConversationDto::from(&view)))
}

/// Picks a teammate (reason `manual`; Away teammates too) or unassigns with `operator_id: null`
/// (reason `unassign`).
#[utoipa::path(put, path = "/conversations/{id}/assignee", tag = "conversations", params(("id" = i64, Path)),
    request_body = AssigneeRequest,
    responses((status = 200, body = ConversationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, description = "no such conversation or teammate in this workspace", body = ErrorBody),
              (status = 409, description = "`if_assignee_id` did not match; carries the current assignee", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn set_assignee(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(req): ApiJson<AssigneeRequest>,
) -> ApiResult<Json<ConversationDto>> {
    let operator_id = req.operator_id.ok_or_else(|| {
        ApiError::bad_request(
            "invalid_operator",
            "operator_id is required (null to unassign)",
        )
    })?;
    let view = state
        .service
        .set_assignee(&caller.operator, id, operator_id, req.if_assignee_id)
        .await?;
    Ok(Json(ConversationDto::from(&view)))
}

/// Closes the conversation. A later visitor message reopens it.
#[utoipa::path(post, path = "/conversations/{id}/close", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<ConversationDto>> {
    let view = state.service.close(&caller.operator, id).await?;
    Ok(Json(ConversationDto::from(&view)))
}

/// Reopens a closed conversation as `handed_off`, keeping its assignee.
#[utoipa::path(post, path = "/conversations/{id}/reopen", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = ConversationDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<ConversationDto>> {
    let view = state.service.reopen(&caller.operator, id).await?;
    Ok(Json(ConversationDto::from(&view)))
}
