//! Settings → Notifications: channels, this browser's push subscription, the VAPID public key
//! and the service worker that shows the notifications.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::dto::List;
use super::error::{ApiResult, ErrorBody};
use super::extract::{ApiJson, Caller};
use crate::store::notifications::{Channels, PushSubscription};
use crate::timefmt::rfc3339;

/// Notification settings and push subscriptions (under `/api/v1`, as every path below).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vapid_public_key))
        .routes(routes!(channels, set_channels))
        .routes(routes!(subscriptions, subscribe, unsubscribe))
}

#[derive(Serialize, ToSchema)]
pub struct VapidKeyDto {
    /// Pass to `pushManager.subscribe({applicationServerKey})` (uncompressed P-256 point,
    /// base64url).
    pub public_key: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChannelsDto {
    /// Web push to each subscribed browser.
    pub push: bool,
    /// Email with a link to the conversation (sent only when the server has SMTP configured).
    pub email: bool,
    /// How long the email waits first; it is not sent if the chat is opened meanwhile
    /// (`POST /conversations/{id}/read`). 0 = at once (the default), at most 86,400.
    #[schema(minimum = 0, maximum = 86400)]
    pub email_delay_secs: i64,
}

impl From<Channels> for ChannelsDto {
    fn from(c: Channels) -> ChannelsDto {
        ChannelsDto {
            push: c.push,
            email: c.email,
            email_delay_secs: c.email_delay_secs,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ChannelsRequest {
    pub push: Option<bool>,
    pub email: Option<bool>,
    /// 0 (at once) to 86,400.
    #[schema(minimum = 0, maximum = 86400)]
    pub email_delay_secs: Option<i64>,
}

/// The browser's `PushSubscription.toJSON()`.
#[derive(Deserialize, ToSchema)]
pub struct SubscriptionRequest {
    pub endpoint: String,
    pub keys: SubscriptionKeysDto,
}

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionKeysDto {
    pub p256dh: String,
    pub auth: String,
}

#[derive(Deserialize, ToSchema)]
pub struct UnsubscribeRequest {
    pub endpoint: String,
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionDto {
    pub id: i64,
    pub endpoint: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&PushSubscription> for SubscriptionDto {
    fn from(s: &PushSubscription) -> SubscriptionDto {
        SubscriptionDto {
            id: s.id,
            endpoint: s.endpoint.clone(),
            created_at: rfc3339::format(s.created_at),
        }
    }
}

/// The server's VAPID public key.
#[utoipa::path(get, path = "/push/vapid-public-key", tag = "notifications",
    responses((status = 200, body = VapidKeyDto)))]
pub async fn vapid_public_key(State(state): State<AppState>) -> Json<VapidKeyDto> {
    Json(VapidKeyDto {
        public_key: state.service.vapid_public_key().to_owned(),
    })
}

/// The caller's notification channels (both on by default).
#[utoipa::path(get, path = "/me/notifications", tag = "notifications",
    responses((status = 200, body = ChannelsDto), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn channels(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ChannelsDto>> {
    Ok(Json(
        state
            .service
            .notification_channels(&caller.operator)
            .await?
            .into(),
    ))
}

/// Turns the caller's channels on or off; an absent field is left as it is.
#[utoipa::path(put, path = "/me/notifications", tag = "notifications", request_body = Option<ChannelsRequest>,
    responses((status = 200, body = ChannelsDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn set_channels(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ChannelsRequest>,
) -> ApiResult<Json<ChannelsDto>> {
    let channels = state
        .service
        .set_notification_channels(&caller.operator, req.push, req.email, req.email_delay_secs)
        .await?;
    Ok(Json(channels.into()))
}

/// The caller's subscribed browsers.
#[utoipa::path(get, path = "/me/push-subscriptions", tag = "notifications",
    responses((status = 200, body = List<SubscriptionDto>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn subscriptions(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<SubscriptionDto>>> {
    let items = state.service.push_subscriptions(&caller.operator).await?;
    Ok(Json(List {
        items: items.iter().map(SubscriptionDto::from).collect(),
    }))
}

/// Subscribes this browser to the caller's push notifications.
#[utoipa::path(post, path = "/me/push-subscriptions", tag = "notifications", request_body = SubscriptionRequest,
    responses((status = 201, body = SubscriptionDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 409, description = "`push_endpoint_in_use`: the endpoint is subscribed for another account", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SubscriptionRequest>,
) -> ApiResult<(StatusCode, Json<SubscriptionDto>)> {
    let saved = state
        .service
        .subscribe_push(
            &caller.operator,
            &req.endpoint,
            &req.keys.p256dh,
            &req.keys.auth,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(SubscriptionDto::from(&saved))))
}

/// Unsubscribes a browser of the caller's.
#[utoipa::path(delete, path = "/me/push-subscriptions", tag = "notifications", request_body = UnsubscribeRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UnsubscribeRequest>,
) -> ApiResult<StatusCode> {
    state
        .service
        .unsubscribe_push(&caller.operator, &req.endpoint)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
