//! The API of the page an emailed link opens (`/chat/{token}`, under `/api/v1`): the one
//! conversation the link names, read, answered and followed live. Public: the link's token is
//! the credential, and anything it does not name is a 404.

use axum::Json;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::client_addr::ClientAddr;
use super::dto::{MessageDto, VisitorConversationDto};
use super::error::{ApiResult, ErrorBody};
use super::events::{run, websocket};
use super::extract::{ApiJson, ApiQuery};
use super::visitors::VisitorMessageRequest;
use crate::domain::Id;
use crate::metrics::StreamKind;
use crate::service::LinkedChat;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get))
        .routes(routes!(message))
        .routes(routes!(events))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedChatDto {
    /// Whom the chat is with: the workspace's name.
    pub team_name: String,
    pub conversation: VisitorConversationDto,
}

impl From<&LinkedChat> for LinkedChatDto {
    fn from(c: &LinkedChat) -> LinkedChatDto {
        LinkedChatDto {
            team_name: c.team_name.clone(),
            conversation: VisitorConversationDto::from(&c.view),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkStreamParams {
    /// Resume after this event id.
    #[param(value_type = Option<i64>)]
    since: Option<Id>,
}

/// The conversation the link opens, as its visitor sees it.
#[utoipa::path(get, path = "/chat/{token}", tag = "chat links (public)",
    params(("token" = String, Path, description = "the token of the emailed link")),
    responses((status = 200, body = LinkedChatDto),
              (status = 404, description = "an unknown or expired link", body = ErrorBody),
              (status = 429, description = "too many requests from this address", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn get(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(token): Path<String>,
) -> ApiResult<Json<LinkedChatDto>> {
    state.widget_request(&format!("ip:{client}"))?;
    let chat = state.service.chat_by_link(&token).await?;
    Ok(Json(LinkedChatDto::from(&chat)))
}

/// The visitor answers from the link's page, as from the widget (a closed chat reopens).
#[utoipa::path(post, path = "/chat/{token}/messages", tag = "chat links (public)",
    params(("token" = String, Path, description = "the token of the emailed link")),
    request_body = VisitorMessageRequest,
    responses((status = 201, body = MessageDto), (status = 400, body = ErrorBody),
              (status = 404, description = "an unknown or expired link", body = ErrorBody),
              (status = 413, body = ErrorBody),
              (status = 429, description = "too many requests from this address", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn message(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<VisitorMessageRequest>,
) -> ApiResult<(StatusCode, Json<MessageDto>)> {
    state.widget_request(&format!("ip:{client}"))?;
    let message = state.service.message_by_link(&token, &req.body).await?;
    Ok((StatusCode::CREATED, Json(MessageDto::from(&message))))
}

/// The conversation's live events as its visitor receives them (`message.created`,
/// `conversation.status_changed`, `conversation.assigned`); while open, the visitor is there
/// and is not emailed the replies.
#[utoipa::path(get, path = "/chat/{token}/events", tag = "chat links (public)",
    params(("token" = String, Path, description = "the token of the emailed link"), LinkStreamParams),
    responses((status = 101, description = "WebSocket stream"),
              (status = 400, body = ErrorBody, description = "not a WebSocket request, or a malformed `since`"),
              (status = 404, description = "an unknown or expired link", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiQuery(params): ApiQuery<LinkStreamParams>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = websocket(upgrade)?;
    let (stream, presence) = state.service.stream_by_link(&token, params.since).await?;
    let open = state.service.metrics().stream_opened(StreamKind::Visitor);
    Ok(run(upgrade, stream, (open, presence)))
}
