//! The public widget endpoints. No operator auth: the visitor's token scopes them to their own
//! conversations, and anything else is a 404.

use axum::Json;
use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::client_addr::ClientAddr;
use super::dto::{MessageDto, StartedConversationDto, VisitorConversationDto};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, VisitorToken};
use crate::domain::Id;
use crate::service::hash_token;

/// The public widget endpoints (under `/api/v1`, as every path below); `super::widget_public`
/// gives them their origin check and preflights.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(get))
        .routes(routes!(message))
        .routes(routes!(handover))
}

#[derive(Deserialize, ToSchema)]
pub struct StartRequest {
    /// The visitor's first message: up to 10,000 characters, not all blank.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// A returning visitor's token, to keep their chats together.
    pub visitor_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct VisitorMessageRequest {
    /// Up to 10,000 characters, not all blank.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
}

/// Counts a visitor's request against their address and against their token.
fn limit_visitor(state: &AppState, client: IpAddr, token: &str) -> Result<(), ApiError> {
    state.widget_request(&format!("ip:{}", client))?;
    state.widget_request(&format!("visitor:{}", hash_token(token)))
}

fn conversation_id(raw: &str) -> Result<Id, ApiError> {
    super::extract::canonical_id(raw).ok_or_else(|| ApiError::not_found("conversation"))
}

/// Starts a conversation; the AI answers it. Returns the visitor's token.
#[utoipa::path(post, path = "/widget/{key}/conversations", tag = "widget (public)",
    params(("key" = String, Path, description = "the widget's public key")), request_body = StartRequest,
    responses((status = 201, body = StartedConversationDto), (status = 400, body = ErrorBody),
              (status = 401, description = "unknown visitor_token", body = ErrorBody),
              (status = 403, description = "sent from a site the widget is not allowed on", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 429, description = "too many requests from this address", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn start(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
    ApiJson(req): ApiJson<StartRequest>,
) -> ApiResult<(StatusCode, Json<StartedConversationDto>)> {
    state.widget_request(&format!("ip:{}", client))?;
    let started = state
        .service
        .start_conversation(&key, &req.body, req.visitor_token.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StartedConversationDto {
            conversation_id: started.conversation_id,
            visitor_token: started.visitor_token,
        }),
    ))
}

/// The visitor's view of their conversation.
#[utoipa::path(get, path = "/widget/{key}/conversations/{id}", tag = "widget (public)",
    params(("key" = String, Path), ("id" = i64, Path), ("X-Visitor-Token" = String, Header)),
    responses((status = 200, body = VisitorConversationDto),
              (status = 403, description = "sent from a site the widget is not allowed on", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path((key, id)): Path<(String, String)>,
    VisitorToken(token): VisitorToken,
) -> ApiResult<Json<VisitorConversationDto>> {
    let view = state
        .service
        .visitor_conversation(&key, &token, conversation_id(&id)?)
        .await?;
    Ok(Json(VisitorConversationDto::from(&view)))
}

/// A visitor message. Reopens a closed conversation; on an AI-handled one the AI answers.
#[utoipa::path(post, path = "/widget/{key}/conversations/{id}/messages", tag = "widget (public)",
    params(("key" = String, Path), ("id" = i64, Path), ("X-Visitor-Token" = String, Header)),
    request_body = VisitorMessageRequest,
    responses((status = 201, body = MessageDto), (status = 400, body = ErrorBody),
              (status = 403, description = "sent from a site the widget is not allowed on", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 429, description = "too many requests from this address or visitor", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn message(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path((key, id)): Path<(String, String)>,
    VisitorToken(token): VisitorToken,
    ApiJson(req): ApiJson<VisitorMessageRequest>,
) -> ApiResult<(StatusCode, Json<MessageDto>)> {
    limit_visitor(&state, client, &token)?;
    let message = state
        .service
        .visitor_message(&key, &token, conversation_id(&id)?, &req.body)
        .await?;
    Ok((StatusCode::CREATED, Json(MessageDto::from(&message))))
}

/// "Talk to a person": hands the chat to the team and routes it.
#[utoipa::path(post, path = "/widget/{key}/conversations/{id}/handover", tag = "widget (public)",
    params(("key" = String, Path), ("id" = i64, Path), ("X-Visitor-Token" = String, Header)),
    responses((status = 200, body = VisitorConversationDto),
              (status = 403, description = "sent from a site the widget is not allowed on", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 429, description = "too many requests from this address or visitor", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn handover(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path((key, id)): Path<(String, String)>,
    VisitorToken(token): VisitorToken,
) -> ApiResult<Json<VisitorConversationDto>> {
    limit_visitor(&state, client, &token)?;
    let id = conversation_id(&id)?;
    state.service.visitor_handover(&key, &token, id).await?;
    let view = state.service.visitor_conversation(&key, &token, id).await?;
    Ok(Json(VisitorConversationDto::from(&view)))
}
