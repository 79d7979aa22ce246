//! Invitations: owners and admins invite by email; the invited person opens the link, chooses
//! a password and joins, signed in.
//!
//! The public operations name an invitation by the token from its link, the others by its id;
//! as the router needs one name per place in a path, both are `{invitation}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::accounts::with_session_cookie;
use super::dto::{CreatedInvitationDto, InvitationDto, InvitationPreviewDto, List, SessionDto};
use super::error::{ApiResult, ErrorBody};
use super::extract::{ApiJson, Caller, PathId};
use crate::domain::Role;
use crate::service::NewInvitation;

/// Under `/api/v1`, as every path below.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, invite))
        .routes(routes!(preview, revoke))
        .routes(routes!(accept))
}

#[derive(Deserialize, ToSchema)]
pub struct InvitationRequest {
    /// An address like `bob@example.com`, not yet in the workspace.
    pub email: String,
    /// How to greet them; 1 to 100 characters once trimmed. They may change it when they join.
    #[schema(min_length = 1)]
    pub name: String,
    /// Defaults to `operator`; only an owner invites an owner.
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::Operator
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptRequest {
    /// The password they choose: 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    /// The name to join under, if not the one they were invited under.
    #[schema(min_length = 1)]
    pub name: Option<String>,
}

/// Invites someone by email (owner/admin; only an owner invites an owner). The email holds a
/// link to `{public_url}/invite/{token}` that works once, for 7 days. Inviting an address
/// that has a pending invitation replaces it: the old link stops working.
#[utoipa::path(post, path = "/invitations", tag = "invitations", request_body = InvitationRequest,
    responses((status = 201, body = CreatedInvitationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody),
              (status = 409, description = "`email_taken`: someone in the workspace already has this email", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<InvitationRequest>,
) -> ApiResult<(StatusCode, Json<CreatedInvitationDto>)> {
    let input = NewInvitation {
        email: req.email,
        name: req.name,
        role: req.role,
    };
    let created = state.service.invite(&caller.operator, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitationDto::from(&created)),
    ))
}

/// The pending invitations (not accepted, revoked or expired), oldest first (owner/admin).
#[utoipa::path(get, path = "/invitations", tag = "invitations",
    responses((status = 200, body = List<InvitationDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<InvitationDto>>> {
    let pending = state.service.invitations(&caller.operator).await?;
    Ok(Json(List {
        items: pending.iter().map(InvitationDto::from).collect(),
    }))
}

/// Revokes a pending invitation (owner/admin): its link stops working.
#[utoipa::path(delete, path = "/invitations/{invitation}", tag = "invitations",
    params(("invitation" = i64, Path, description = "the invitation's id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "no pending invitation with this id in the workspace", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    state
        .service
        .revoke_invitation(&caller.operator, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invitation link is for (public: the token is the credential), for the page that
/// accepts it.
#[utoipa::path(get, path = "/invitations/{invitation}", tag = "invitations",
    params(("invitation" = String, Path, description = "the token from the invitation's link")),
    responses((status = 200, body = InvitationPreviewDto),
              (status = 404, description = "`invalid_link`: unknown, used, revoked, replaced or expired", body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<InvitationPreviewDto>> {
    let preview = state.service.invitation_preview(&token).await?;
    Ok(Json(InvitationPreviewDto::from(&preview)))
}

/// Joins the workspace with the chosen password (public: the token is the credential); signs
/// the new teammate in like `POST /session`, session cookie included. The link then stops
/// working.
#[utoipa::path(post, path = "/invitations/{invitation}/accept", tag = "invitations",
    params(("invitation" = String, Path, description = "the token from the invitation's link")),
    request_body = AcceptRequest,
    responses((status = 201, body = SessionDto), (status = 400, body = ErrorBody),
              (status = 404, description = "`invalid_link`: unknown, used, revoked, replaced or expired", body = ErrorBody),
              (status = 409, description = "`email_taken`: the email joined the workspace meanwhile", body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> ApiResult<Response> {
    let signed_in = state
        .service
        .accept_invitation(&token, req.password, req.name)
        .await?;
    Ok(with_session_cookie(&state, StatusCode::CREATED, &signed_in))
}
