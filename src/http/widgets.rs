//! Widgets and their routing settings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::dto::{List, WidgetDto};
use super::error::{ApiResult, ErrorBody};
use super::extract::{ApiJson, Caller, PathId};
use crate::domain::RoutingMode;

#[derive(Deserialize, ToSchema)]
pub struct NewWidgetRequest {
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RoutingRequest {
    pub mode: RoutingMode,
    /// Operators of this workspace; empty or absent = everyone.
    #[serde(default)]
    pub eligible_operator_ids: Vec<i64>,
}

/// Creates a widget (owner/admin). It starts in `manual` routing.
#[utoipa::path(post, path = "/api/v1/widgets", tag = "widgets", request_body = NewWidgetRequest,
    responses((status = 201, body = WidgetDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewWidgetRequest>,
) -> ApiResult<(StatusCode, Json<WidgetDto>)> {
    let widget = state
        .service
        .create_widget(&caller.operator, &req.name)
        .await?;
    Ok((StatusCode::CREATED, Json(WidgetDto::from(&widget))))
}

/// The workspace's widgets, each with its key and routing.
#[utoipa::path(get, path = "/api/v1/widgets", tag = "widgets",
    responses((status = 200, body = List<WidgetDto>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<WidgetDto>>> {
    let widgets = state.service.list_widgets(&caller.operator).await?;
    Ok(Json(List {
        items: widgets.iter().map(WidgetDto::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/widgets/{id}", tag = "widgets", params(("id" = i64, Path)),
    responses((status = 200, body = WidgetDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<WidgetDto>> {
    let widget = state.service.get_widget(&caller.operator, id).await?;
    Ok(Json(WidgetDto::from(&widget)))
}

/// Sets the routing mode and eligible teammates (owner/admin). Ids outside the workspace are
/// a 400.
#[utoipa::path(put, path = "/api/v1/widgets/{id}/routing", tag = "widgets", params(("id" = i64, Path)),
    request_body = RoutingRequest,
    responses((status = 200, body = WidgetDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn set_routing(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(req): ApiJson<RoutingRequest>,
) -> ApiResult<Json<WidgetDto>> {
    let widget = state
        .service
        .set_routing(&caller.operator, id, req.mode, &req.eligible_operator_ids)
        .await?;
    Ok(Json(WidgetDto::from(&widget)))
}
