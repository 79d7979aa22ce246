//! Changing teammates: their name, role and capacity; deactivating and reactivating them.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::dto::OperatorDto;
use super::error::{ApiResult, ErrorBody};
use super::extract::{ApiJson, Caller, PathId, present};
use crate::domain::Role;
use crate::service::TeammateChange;

/// Under `/api/v1`, as every path below.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update))
        .routes(routes!(deactivate))
        .routes(routes!(reactivate))
}

#[derive(Deserialize, ToSchema)]
pub struct TeammateChangeRequest {
    /// 1 to 100 characters once trimmed, no control characters; absent = unchanged.
    #[schema(min_length = 1)]
    pub name: Option<String>,
    /// Only an owner makes or unmakes an owner; the last active owner cannot be demoted.
    pub role: Option<Role>,
    /// The most open chats auto-routing may give them, 1 to 1000; `null` = no limit; absent =
    /// unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 1000)]
    pub capacity: Option<Option<i64>>,
}

/// Changes a teammate's name, role or capacity (owner/admin). Fields left out stay as they are.
#[utoipa::path(patch, path = "/operators/{id}", tag = "operators", params(("id" = i64, Path)),
    request_body = Option<TeammateChangeRequest>,
    responses((status = 200, body = OperatorDto),
              (status = 400, description = "a blank or overlong name, an unknown role, a capacity outside 1 to 1000", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "not an owner or admin, or an admin making or unmaking an owner", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "`last_owner`: the workspace's only active owner cannot be demoted", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(req): ApiJson<TeammateChangeRequest>,
) -> ApiResult<Json<OperatorDto>> {
    let change = TeammateChange {
        name: req.name,
        role: req.role,
        capacity: req.capacity,
    };
    let operator = state
        .service
        .update_teammate(&caller.operator, id, change)
        .await?;
    Ok(Json(OperatorDto::from(&operator)))
}

/// Deactivates a teammate (owner/admin; only an owner deactivates an owner; nobody themselves):
/// they can no longer sign in, their sessions end and their open event streams close (code
/// 4003), they turn Away and get no chats, and their open chats are routed again by their
/// widget's mode (reason `assignee_removed`). They stay in history and in `GET /operators`
/// with `"active": false`. Deactivating someone already deactivated changes nothing.
#[utoipa::path(post, path = "/operators/{id}/deactivate", tag = "operators", params(("id" = i64, Path)),
    responses((status = 200, body = OperatorDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "`cannot_deactivate_self`, or `last_owner`: the workspace's only active owner", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<OperatorDto>> {
    let operator = state.service.deactivate(&caller.operator, id).await?;
    Ok(Json(OperatorDto::from(&operator)))
}

/// Reactivates a deactivated teammate (owner/admin; only an owner reactivates an owner): they
/// sign in again with their password, and start Away.
#[utoipa::path(post, path = "/operators/{id}/reactivate", tag = "operators", params(("id" = i64, Path)),
    responses((status = 200, body = OperatorDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<OperatorDto>> {
    let operator = state.service.reactivate(&caller.operator, id).await?;
    Ok(Json(OperatorDto::from(&operator)))
}
