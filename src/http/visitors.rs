//! The public widget endpoints. No operator auth: the visitor's token scopes them to their own
//! conversations, and anything else is a 404. Each request with a token is a sighting of the
//! visitor (their browser's `User-Agent`, and the page when the widget reports it).

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
use super::dto::{
    IdentifiedDto, MessageDto, PublicWidgetDto, StartedConversationDto, VisitorConversationDto,
};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, UserAgent, VisitorToken};
use crate::domain::Id;
use crate::domain::sighting::Sighting;
use crate::service::{Identity, NewChat, hash_token, sighting};

/// The public widget endpoints (under `/api/v1`, as every path below); `super::widget_public`
/// gives them their origin check and preflights.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(widget))
        .routes(routes!(start))
        .routes(routes!(get))
        .routes(routes!(message))
        .routes(routes!(handover))
        .routes(routes!(leave_email))
        .routes(routes!(seen))
        .routes(routes!(identify))
}

/// The page the widget runs on.
#[derive(Deserialize, ToSchema)]
pub struct PageRequest {
    /// `location.href`: an http(s) URL of at most 2,048 characters.
    #[schema(max_length = 2048)]
    pub url: String,
    /// The page of another site that led here (`document.referrer` when it is another
    /// site's), same rules; null or empty keeps the one already known.
    #[schema(max_length = 2048)]
    pub referrer: Option<String>,
}

/// Who the embedding site says its signed-in user is.
#[derive(Deserialize, ToSchema)]
pub struct IdentityRequest {
    /// The site's own id for the user, exactly as it signed it (1 to 255 characters).
    #[schema(min_length = 1, max_length = 255)]
    pub user_id: String,
    /// Hex HMAC-SHA256 of `user_id`, keyed with the UTF-8 text of the widget's
    /// `identity_secret`, computed on the site's server.
    pub user_hash: String,
    /// 1 to 100 characters once trimmed; replaces the stored name.
    pub name: Option<String>,
    /// Replaces the stored email.
    pub email: Option<String>,
}

impl IdentityRequest {
    fn identity(&self) -> Result<Identity<'_>, ApiError> {
        Ok(Identity::new(
            &self.user_id,
            &self.user_hash,
            self.name.as_deref(),
            self.email.as_deref(),
        )?)
    }
}

#[derive(Deserialize, ToSchema)]
pub struct StartRequest {
    /// The visitor's first message: up to 10,000 characters, not all blank.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// A returning visitor's token, to keep their chats together.
    pub visitor_token: Option<String>,
    /// The signed-in user of the embedding site: a wrong `user_hash` is a 403 and nothing is
    /// created.
    pub visitor: Option<IdentityRequest>,
    /// Where the visitor is.
    pub page: Option<PageRequest>,
    /// "Talk to a person" before the first message: the chat goes straight to the team and
    /// the AI does not answer it. Default false.
    #[serde(default)]
    pub handover: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct SeenRequest {
    pub page: PageRequest,
}

#[derive(Deserialize, ToSchema)]
pub struct IdentifyRequest {
    #[serde(flatten)]
    pub visitor: IdentityRequest,
    /// Where the visitor is.
    pub page: Option<PageRequest>,
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

/// What this request says about where the visitor is; a malformed page is a 400.
fn seen_from(page: Option<&PageRequest>, UserAgent(agent): &UserAgent) -> ApiResult<Sighting> {
    let page = page.map(|p| (p.url.as_str(), p.referrer.as_deref()));
    Ok(sighting(page, agent.as_deref())?)
}

/// Where the token is all a request names, a missing one is refused like an unknown one.
fn required(token: Option<VisitorToken>) -> ApiResult<String> {
    token.map(|VisitorToken(t)| t).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Unknown visitor token for this widget",
        )
    })
}

/// What the widget needs before the visitor writes: its greeting.
#[utoipa::path(get, path = "/widget/{key}", tag = "widget (public)",
    params(("key" = String, Path, description = "the widget's public key")),
    responses((status = 200, body = PublicWidgetDto),
              (status = 403, description = "sent from a site the widget is not allowed on", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 429, description = "too many requests from this address", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn widget(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
) -> ApiResult<Json<PublicWidgetDto>> {
    state.widget_request(&format!("ip:{}", client))?;
    let widget = state.service.public_widget(&key).await?;
    Ok(Json(PublicWidgetDto::from(&widget)))
}

/// Starts a conversation; the AI answers it. Returns the visitor's token.
#[utoipa::path(post, path = "/widget/{key}/conversations", tag = "widget (public)",
    params(("key" = String, Path, description = "the widget's public key")), request_body = StartRequest,
    responses((status = 201, body = StartedConversationDto), (status = 400, body = ErrorBody),
              (status = 401, description = "unknown visitor_token", body = ErrorBody),
              (status = 403, description = "sent from a site the widget is not allowed on, or a `visitor.user_hash` that does not match", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 429, description = "too many requests from this address", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn start(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
    agent: UserAgent,
    ApiJson(req): ApiJson<StartRequest>,
) -> ApiResult<(StatusCode, Json<StartedConversationDto>)> {
    state.widget_request(&format!("ip:{}", client))?;
    let seen = seen_from(req.page.as_ref(), &agent)?;
    let chat = NewChat {
        body: &req.body,
        visitor_token: req.visitor_token.as_deref(),
        identity: req
            .visitor
            .as_ref()
            .map(IdentityRequest::identity)
            .transpose()?,
        handover: req.handover,
    };
    let started = state.service.start_conversation(&key, chat, &seen).await?;
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
    agent: UserAgent,
) -> ApiResult<Json<VisitorConversationDto>> {
    let seen = seen_from(None, &agent)?;
    let view = state
        .service
        .visitor_conversation(&key, &token, conversation_id(&id)?, &seen)
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
    agent: UserAgent,
    ApiJson(req): ApiJson<VisitorMessageRequest>,
) -> ApiResult<(StatusCode, Json<MessageDto>)> {
    limit_visitor(&state, client, &token)?;
    let seen = seen_from(None, &agent)?;
    let message = state
        .service
        .visitor_message(&key, &token, conversation_id(&id)?, &req.body, &seen)
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
    agent: UserAgent,
) -> ApiResult<Json<VisitorConversationDto>> {
    limit_visitor(&state, client, &token)?;
    let id = conversation_id(&id)?;
    let seen = seen_from(None, &agent)?;
    let view = state
        .service
        .visitor_handover(&key, &token, id, &seen)
        .await?;
    Ok(Json(VisitorConversationDto::from(&view)))
}

#[derive(Deserialize, ToSchema)]
pub struct VisitorEmailRequest {
    /// Where to email the replies the visitor misses, like `dana@example.com`.
    pub email: String,
}

/// The visitor leaves an email while they wait: replies written while they have no widget
/// open are emailed to it (after `--visitor-email-delay-secs`, unless they come back), with a
/// link to the chat. It becomes their record's email.
#[utoipa::path(put, path = "/widget/{key}/conversations/{id}/visitor", tag = "widget (public)",
    params(("key" = String, Path), ("id" = i64, Path), ("X-Visitor-Token" = String, Header)),
    request_body = VisitorEmailRequest,
    responses((status = 204, description = "saved"),
              (status = 400, description = "not an email address", body = ErrorBody),
              (status = 403, description = "sent from a site the widget is not allowed on", body = ErrorBody),
              (status = 404, description = "not a conversation of this visitor", body = ErrorBody),
              (status = 413, body = ErrorBody),
              (status = 429, description = "too many requests from this address or visitor", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn leave_email(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path((key, id)): Path<(String, String)>,
    VisitorToken(token): VisitorToken,
    ApiJson(req): ApiJson<VisitorEmailRequest>,
) -> ApiResult<StatusCode> {
    limit_visitor(&state, client, &token)?;
    let id = conversation_id(&id)?;
    state
        .service
        .set_visitor_email(&key, &token, id, &req.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where the visitor is now: the widget reports each page it loads on.
#[utoipa::path(put, path = "/widget/{key}/visitor", tag = "widget (public)",
    params(("key" = String, Path), ("X-Visitor-Token" = String, Header)), request_body = SeenRequest,
    responses((status = 204, description = "recorded"), (status = 400, body = ErrorBody),
              (status = 401, description = "unknown visitor token", body = ErrorBody),
              (status = 403, description = "sent from a site the widget is not allowed on", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 429, description = "too many requests from this address or visitor", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn seen(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
    token: Option<VisitorToken>,
    agent: UserAgent,
    ApiJson(req): ApiJson<SeenRequest>,
) -> ApiResult<StatusCode> {
    let token = required(token)?;
    limit_visitor(&state, client, &token)?;
    let seen = seen_from(Some(&req.page), &agent)?;
    state.service.visitor_seen(&key, &token, &seen).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Identifies the visitor as the embedding site's signed-in user. A valid `user_hash` marks
/// them verified and joins their chats from every browser under one record; a wrong one is a
/// 403 and changes nothing.
#[utoipa::path(post, path = "/widget/{key}/identify", tag = "widget (public)",
    params(("key" = String, Path), ("X-Visitor-Token" = String, Header)), request_body = IdentifyRequest,
    responses((status = 200, body = IdentifiedDto), (status = 400, body = ErrorBody),
              (status = 401, description = "unknown visitor token", body = ErrorBody),
              (status = 403, description = "a `user_hash` that does not match, or a site the widget is not allowed on", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 429, description = "too many requests from this address or visitor", body = ErrorBody,
               headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn identify(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
    token: Option<VisitorToken>,
    agent: UserAgent,
    ApiJson(req): ApiJson<IdentifyRequest>,
) -> ApiResult<Json<IdentifiedDto>> {
    let token = required(token)?;
    limit_visitor(&state, client, &token)?;
    let seen = seen_from(req.page.as_ref(), &agent)?;
    let identity = req.visitor.identity()?;
    let identified = state
        .service
        .identify(&key, &token, &identity, &seen)
        .await?;
    Ok(Json(IdentifiedDto::from(&identified)))
}
