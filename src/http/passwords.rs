//! Passwords: changing one's own, and setting a new one with a reset link sent by email.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::accounts::with_session_cookie;
use super::client_addr::ClientAddr;
use super::dto::SessionDto;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Caller};

/// Under `/api/v1`, as every path below.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(change))
        .routes(routes!(request_reset))
        .routes(routes!(reset))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    /// The address the account signs in with.
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
pub struct NewPasswordRequest {
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

/// Changes the caller's password. Their other sessions end (their streams close with code
/// 4003); this one stays signed in.
#[utoipa::path(put, path = "/me/password", tag = "operators", request_body = PasswordChangeRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "`wrong_password`: the current password is not right", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PasswordChangeRequest>,
) -> ApiResult<StatusCode> {
    state
        .service
        .change_password(
            &caller.operator,
            &caller.token,
            req.current_password,
            req.new_password,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgotten password: always `202`, at once, whether the address belongs to anyone or not.
/// Each active operator with this email (one per workspace) is mailed a link to
/// `{public_url}/reset/{token}`, valid for one hour and once. Needs the server to send email.
#[utoipa::path(post, path = "/password-reset", tag = "session", request_body = ResetRequest,
    responses((status = 202, description = "a link is on its way if the address has an account"),
              (status = 400, description = "not an email address", body = ErrorBody),
              (status = 429, description = "too many requests from this address or for this email; see Retry-After",
               body = ErrorBody, headers(("Retry-After" = u64, description = "seconds until the next request is allowed")))))]
pub async fn request_reset(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(req): ApiJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    state
        .reset_by_ip
        .check(&client.to_string())
        .map_err(ApiError::rate_limited)?;
    state
        .reset_by_email
        .check(&req.email.trim().to_lowercase())
        .map_err(ApiError::rate_limited)?;
    state.service.request_password_reset(&req.email)?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the token from a reset link, which then stops working. Every
/// session of the account ends (its streams close with code 4003), and it is signed in afresh,
/// like `POST /session`.
#[utoipa::path(post, path = "/password-reset/{token}", tag = "session",
    params(("token" = String, Path, description = "the token from the reset link")),
    request_body = NewPasswordRequest,
    responses((status = 200, body = SessionDto), (status = 400, body = ErrorBody),
              (status = 404, description = "`invalid_link`: unknown, used or expired", body = ErrorBody)))]
pub async fn reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<NewPasswordRequest>,
) -> ApiResult<Response> {
    let signed_in = state.service.reset_password(&token, req.password).await?;
    Ok(with_session_cookie(&state, StatusCode::OK, &signed_in))
}
