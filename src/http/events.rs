//! The live event streams (WebSocket). Credentials are checked before the upgrade: a bad or
//! missing one is an ordinary JSON 401.

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiQuery, Caller, UserAgent};
use crate::domain::Id;
use crate::metrics::StreamKind;
use crate::realtime::stream;
use crate::service::{ServiceError, sighting};

/// The operators' stream (under `/api/v1`, as every path below).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inbox))
}

/// The visitor's stream, a public widget endpoint: `super::widget_public` gives it the origin
/// check and preflights.
pub fn widget_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(visitor))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Resume after this event id (the `id` of the last event received); events still in the
    /// log (24 h) are replayed first. Without it the stream starts with new events.
    #[param(value_type = Option<i64>)]
    since: Option<Id>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitorStreamParams {
    /// The visitor's token.
    visitor_token: String,
    /// Resume after this event id.
    #[param(value_type = Option<i64>)]
    since: Option<Id>,
}

/// The workspace's live events as JSON text frames: `conversation.created`,
/// `conversation.status_changed`, `conversation.assigned`, `message.created`,
/// `operator.availability_changed`, each with `id`, `type`, `workspace_id` and `at`. A
/// `{"type":"resync"}` frame means events may have been missed: refetch. A client that falls
/// too far behind is closed with code 4001 and can reconnect with `since`; one whose session
/// ended (its operator was deactivated, or changed or reset their password elsewhere) is
/// closed with code 4003 and must sign in again.
#[utoipa::path(get, path = "/events", tag = "events", params(StreamParams),
    responses((status = 101, description = "WebSocket stream"), (status = 400, body = ErrorBody, description = "not a WebSocket request, or a malformed `since`"), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn inbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<StreamParams>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = websocket(upgrade)?;
    let stream = state
        .service
        .inbox_stream(&caller.operator, &caller.token, params.since)
        .await?;
    let open = state.service.metrics().stream_opened(StreamKind::Inbox);
    let (service, operator) = (state.service.clone(), caller.operator);
    // An open inbox stream is an open tab: presence follows it (SPEC 9). Counted from the
    // upgrade to the stream's end, so a failed upgrade counts no tab.
    let tracked = service.track_stream();
    Ok(lean(upgrade).on_upgrade(move |socket| async move {
        let _tracked = tracked;
        if let Err(e) = service.inbox_tab_opened(&operator).await {
            uncounted(&e, operator.id, "opened");
        }
        stream::run(socket, stream).await;
        drop(open);
        if let Err(e) = service.inbox_tab_closed(&operator).await {
            uncounted(&e, operator.id, "closed");
        }
    }))
}

/// The visitor's live stream: `message.created` (replies in their conversations),
/// `conversation.status_changed` and `conversation.assigned` (with the answering teammate's
/// name).
#[utoipa::path(get, path = "/widget/{key}/events", tag = "widget (public)",
    params(("key" = String, Path), VisitorStreamParams),
    responses((status = 101, description = "WebSocket stream"), (status = 400, body = ErrorBody, description = "not a WebSocket request"), (status = 401, body = ErrorBody),
               (status = 403, description = "sent from a site the widget is not allowed on", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn visitor(
    State(state): State<AppState>,
    Path(key): Path<String>,
    params: Result<Query<VisitorStreamParams>, QueryRejection>,
    UserAgent(agent): UserAgent,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let Query(params) = params.map_err(|_| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "visitor_token is required (and since, if given, is an event id)",
        )
    })?;
    let upgrade = websocket(upgrade)?;
    let seen = sighting(None, agent.as_deref())?;
    let (stream, presence) = state
        .service
        .visitor_stream(&key, &params.visitor_token, params.since, &seen)
        .await?;
    let open = state.service.metrics().stream_opened(StreamKind::Visitor);
    Ok(run(upgrade, stream, (open, presence)))
}

/// Runs the stream once the connection is upgraded; it counts as open (`open`: the metric, and
/// for visitors their presence) from the answer until it ends (or until the upgrade fails).
pub(super) fn run<Open: Send + 'static>(
    upgrade: WebSocketUpgrade,
    stream: stream::Stream,
    open: Open,
) -> Response {
    lean(upgrade).on_upgrade(move |socket| async move {
        stream::run(socket, stream).await;
        drop(open);
    })
}

/// A tab whose opening or closing could not be counted. During an outage (which the store
/// tells once) that is expected; anything else is worth a warning.
fn uncounted(e: &ServiceError, operator_id: Id, what: &str) {
    if matches!(e, ServiceError::Unavailable(_)) {
        tracing::debug!(error = %e, operator_id, "could not count an inbox tab {what}");
    } else {
        tracing::warn!(error = %e, operator_id, "could not count an inbox tab {what}");
    }
}

/// A plain HTTP request to a stream gets the JSON error model like every other endpoint.
pub(super) fn websocket(
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<WebSocketUpgrade> {
    upgrade.map_err(|e| {
        ApiError::new(
            e.status(),
            "websocket_required",
            format!("this endpoint is a WebSocket: {}", e.body_text()),
        )
    })
}

/// Clients only ever send pings and a close, so each socket reads through a small buffer
/// instead of the 128 KiB default: with 2,000 tabs open that default alone is 250 MiB.
fn lean(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(4 * 1024)
        .max_message_size(16 * 1024)
        .max_frame_size(16 * 1024)
}
