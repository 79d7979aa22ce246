//! Widgets and their routing settings.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::dto::{DecisionDto, List, WidgetDto};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Caller, PathId, present};
use crate::domain::{Id, RoutingMode};
use crate::service::{RoutingChange, WidgetChange};
use crate::store::widgets::Article;

/// Widgets, their settings and articles (under `/api/v1`, as every path below).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(set_routing))
        .routes(routes!(routing_preview))
        .routes(routes!(set_allowed_origins))
        .routes(routes!(articles, add_article))
        .routes(routes!(update_article, delete_article))
}

#[derive(Deserialize, ToSchema)]
pub struct NewWidgetRequest {
    /// 1 to 100 characters once trimmed, no control characters.
    #[schema(min_length = 1)]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RoutingRequest {
    pub mode: RoutingMode,
    /// Operators of this workspace; empty or absent = everyone.
    #[serde(default)]
    pub eligible_operator_ids: Vec<i64>,
    /// Route a chat again, among teammates not yet given it, when its routed assignee has not
    /// replied after this many seconds (10 to 86,400); null = off; absent = unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable)]
    pub reassign_after_secs: Option<Option<i64>>,
    /// Close a chat nobody wrote in for this many seconds (60 to 2,592,000); null = off;
    /// absent = unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable)]
    pub auto_close_after_secs: Option<Option<i64>>,
}

/// Creates a widget (owner/admin). It starts in `manual` routing.
#[utoipa::path(post, path = "/widgets", tag = "widgets", request_body = NewWidgetRequest,
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
#[utoipa::path(get, path = "/widgets", tag = "widgets",
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

/// One widget. Owners and admins also get its `identity_secret`; other teammates do not.
#[utoipa::path(get, path = "/widgets/{id}", tag = "widgets", params(("id" = i64, Path)),
    responses((status = 200, body = WidgetDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<WidgetDto>> {
    let widget = state.service.get_widget(&caller.operator, id).await?;
    Ok(Json(if caller.operator.role.can_manage() {
        WidgetDto::with_secret(&widget)
    } else {
        WidgetDto::from(&widget)
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct WidgetUpdateRequest {
    /// 1 to 100 characters once trimmed, no control characters.
    pub name: Option<String>,
    /// What the widget says when it opens: 1 to 500 characters once trimmed; `null` puts the
    /// default back.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub greeting: Option<Option<String>>,
}

/// Renames the widget or changes its greeting (owner/admin); fields left out stay as they are.
#[utoipa::path(patch, path = "/widgets/{id}", tag = "widgets", params(("id" = i64, Path)),
    request_body(content = Option<WidgetUpdateRequest>, description = "optional: an empty body changes nothing"),
    responses((status = 200, body = WidgetDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(req): ApiJson<WidgetUpdateRequest>,
) -> ApiResult<Json<WidgetDto>> {
    let change = WidgetChange {
        name: req.name.as_deref(),
        greeting: req.greeting.as_ref().map(Option::as_deref),
    };
    let widget = state
        .service
        .update_widget(&caller.operator, id, change)
        .await?;
    Ok(Json(WidgetDto::from(&widget)))
}

/// Sets the routing mode and eligible teammates (owner/admin). Ids outside the workspace are
/// a 400.
#[utoipa::path(put, path = "/widgets/{id}/routing", tag = "widgets", params(("id" = i64, Path)),
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
    let change = RoutingChange {
        mode: req.mode,
        eligible_operator_ids: &req.eligible_operator_ids,
        reassign_after_secs: req.reassign_after_secs,
        auto_close_after_secs: req.auto_close_after_secs,
    };
    let widget = state
        .service
        .set_routing(&caller.operator, id, change)
        .await?;
    Ok(Json(WidgetDto::from(&widget)))
}

/// Who the widget's next chat would go to now, and why, without changing anything (any
/// operator of the workspace): the same decision the next handover makes if nothing changes in
/// between. `chosen_operator_id` is null when nobody would get it.
#[utoipa::path(get, path = "/widgets/{id}/routing/preview", tag = "widgets", params(("id" = i64, Path)),
    responses((status = 200, body = DecisionDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn routing_preview(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<DecisionDto>> {
    let decision = state.service.routing_preview(&caller.operator, id).await?;
    Ok(Json(DecisionDto::from(&decision)))
}

#[derive(Deserialize, ToSchema)]
pub struct AllowedOriginsRequest {
    /// Origins of the sites that may embed the widget, e.g. `https://shop.example`; empty =
    /// any site.
    pub allowed_origins: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ArticleRequest {
    /// What visitors ask (1 to 500 characters once trimmed).
    #[schema(min_length = 1)]
    pub question: String,
    /// The answer the AI gives (1 to 5,000 characters once trimmed).
    #[schema(min_length = 1)]
    pub answer: String,
}

#[derive(Serialize, ToSchema)]
pub struct ArticleDto {
    pub id: i64,
    pub question: String,
    pub answer: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Article> for ArticleDto {
    fn from(a: &Article) -> ArticleDto {
        ArticleDto {
            id: a.id,
            question: a.question.clone(),
            answer: a.answer.clone(),
            created_at: crate::timefmt::rfc3339::format(a.created_at),
        }
    }
}

/// Sets the sites the widget may be embedded on (owner/admin). Browser requests from any other
/// site are refused.
#[utoipa::path(put, path = "/widgets/{id}/allowed-origins", tag = "widgets", params(("id" = i64, Path)),
    request_body = AllowedOriginsRequest,
    responses((status = 200, body = WidgetDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn set_allowed_origins(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(req): ApiJson<AllowedOriginsRequest>,
) -> ApiResult<Json<WidgetDto>> {
    let widget = state
        .service
        .set_allowed_origins(&caller.operator, id, &req.allowed_origins)
        .await?;
    Ok(Json(WidgetDto::from(&widget)))
}

/// The widget's knowledge base, which the built-in AI answers from.
#[utoipa::path(get, path = "/widgets/{id}/articles", tag = "widgets", params(("id" = i64, Path)),
    responses((status = 200, body = List<ArticleDto>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn articles(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<List<ArticleDto>>> {
    let articles = state.service.articles(&caller.operator, id).await?;
    Ok(Json(List {
        items: articles.iter().map(ArticleDto::from).collect(),
    }))
}

/// Adds a knowledge-base article (owner/admin).
#[utoipa::path(post, path = "/widgets/{id}/articles", tag = "widgets", params(("id" = i64, Path)),
    request_body = ArticleRequest,
    responses((status = 201, body = ArticleDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn add_article(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(req): ApiJson<ArticleRequest>,
) -> ApiResult<(StatusCode, Json<ArticleDto>)> {
    let article = state
        .service
        .save_article(&caller.operator, id, None, &req.question, &req.answer)
        .await?;
    Ok((StatusCode::CREATED, Json(ArticleDto::from(&article))))
}

fn article_path(raw: (String, String)) -> Result<(Id, Id), ApiError> {
    use super::extract::canonical_id;
    match (canonical_id(&raw.0), canonical_id(&raw.1)) {
        (Some(widget), Some(article)) => Ok((widget, article)),
        _ => Err(ApiError::not_found("article")),
    }
}

/// Replaces a knowledge-base article (owner/admin).
#[utoipa::path(put, path = "/widgets/{id}/articles/{article_id}", tag = "widgets",
    params(("id" = i64, Path), ("article_id" = i64, Path)), request_body = ArticleRequest,
    responses((status = 200, body = ArticleDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update_article(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<(String, String)>,
    ApiJson(req): ApiJson<ArticleRequest>,
) -> ApiResult<Json<ArticleDto>> {
    let (widget_id, article_id) = article_path(raw)?;
    let article = state
        .service
        .save_article(
            &caller.operator,
            widget_id,
            Some(article_id),
            &req.question,
            &req.answer,
        )
        .await?;
    Ok(Json(ArticleDto::from(&article)))
}

/// Deletes a knowledge-base article (owner/admin).
#[utoipa::path(delete, path = "/widgets/{id}/articles/{article_id}", tag = "widgets",
    params(("id" = i64, Path), ("article_id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn delete_article(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (widget_id, article_id) = article_path(raw)?;
    state
        .service
        .delete_article(&caller.operator, widget_id, article_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
