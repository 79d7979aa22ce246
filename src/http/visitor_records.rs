//! The visitor records operators read (under `/api/v1`).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::dto::VisitorDto;
use super::error::{ApiResult, ErrorBody};
use super::extract::{Caller, PathId};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get))
}

/// A visitor's record (name, email, verified identity, current page, referrer, browser,
/// first and last seen) and their conversations, newest first. Any operator of the workspace;
/// another workspace's visitor is a 404.
#[utoipa::path(get, path = "/visitors/{id}", tag = "visitors", params(("id" = i64, Path)),
    responses((status = 200, body = VisitorDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<VisitorDto>> {
    let detail = state.service.get_visitor(&caller.operator, id).await?;
    Ok(Json(VisitorDto::from(&detail)))
}
