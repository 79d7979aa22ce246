//! Signup, sessions, the caller, presence and teammates.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::client_addr::ClientAddr;
use super::dto::{List, OperatorDto, SessionDto};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, Caller, SESSION_COOKIE};
use crate::domain::{Availability, Role};
use crate::service::{Credentials, NewTeammate, SignedIn, Signup};

/// Signup, sessions, the caller and teammates (under `/api/v1`, as every path below).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup_status, signup))
        .routes(routes!(login, logout))
        .routes(routes!(me, update_me))
        .routes(routes!(set_availability))
        .routes(routes!(list_operators, add_operator))
}

#[derive(Deserialize, ToSchema)]
pub struct SignupRequest {
    /// 1 to 100 characters once trimmed, no control characters.
    #[schema(min_length = 1)]
    pub workspace_name: String,
    /// 1 to 100 characters once trimmed, no control characters.
    #[schema(min_length = 1)]
    pub name: String,
    /// An address like `ana@example.com`.
    pub email: String,
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The workspace to sign in to; needed only when the same email and password open several
    /// (the 409 `workspace_required` lists them).
    pub workspace_id: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct AvailabilityRequest {
    pub availability: Availability,
    /// With `away`: their open `handed_off` chats are routed again (reason `assignee_away`),
    /// oldest first. Default false.
    #[serde(default)]
    pub hand_back: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct NewOperatorRequest {
    /// 1 to 100 characters once trimmed, no control characters.
    #[schema(min_length = 1)]
    pub name: String,
    /// An address like `ana@example.com`.
    pub email: String,
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    /// Defaults to `operator`.
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::Operator
}

#[derive(Serialize, ToSchema)]
pub struct SignupStatusDto {
    /// `POST /signup` would be accepted.
    pub allowed: bool,
    /// The server has no workspace yet.
    pub first_run: bool,
}

/// Whether signup is open (always while the server has no workspace).
#[utoipa::path(get, path = "/signup", tag = "session", responses((status = 200, body = SignupStatusDto)))]
pub async fn signup_status(State(state): State<AppState>) -> ApiResult<Json<SignupStatusDto>> {
    let (allowed, first_run) = state.service.signup_status().await?;
    Ok(Json(SignupStatusDto { allowed, first_run }))
}

/// Creates a workspace and its owner, and signs the owner in.
#[utoipa::path(post, path = "/signup", tag = "session", request_body = SignupRequest,
    responses((status = 201, body = SessionDto), (status = 400, body = ErrorBody),
              (status = 403, description = "signup is disabled", body = ErrorBody),
              (status = 409, description = "email taken", body = ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<Response> {
    let signed_in = state
        .service
        .signup(Signup {
            workspace_name: req.workspace_name,
            name: req.name,
            email: req.email,
            password: req.password,
        })
        .await?;
    Ok(with_session_cookie(&state, StatusCode::CREATED, &signed_in))
}

/// Signs in; returns a bearer token and also sets an HttpOnly session cookie.
#[utoipa::path(post, path = "/session", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = SessionDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 409, description = "`workspace_required`: the email and password open several workspaces, listed in `error.workspaces`; send one's id as `workspace_id`", body = ErrorBody),
              (status = 429, description = "too many attempts from this address or for this email; see Retry-After",
               body = ErrorBody, headers(("Retry-After" = u64, description = "seconds until the next attempt is allowed")))))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let email_key = req.email.trim().to_lowercase();
    state
        .login_by_ip
        .check(&client.to_string())
        .map_err(ApiError::rate_limited)?;
    state
        .login_by_email
        .check(&email_key)
        .map_err(ApiError::rate_limited)?;
    let signed_in = state
        .service
        .login(Credentials {
            email: req.email,
            password: req.password,
            workspace_id: req.workspace_id,
        })
        .await?;
    Ok(with_session_cookie(&state, StatusCode::OK, &signed_in))
}

/// Signs out: the token and cookie stop working.
#[utoipa::path(delete, path = "/session", tag = "session",
    responses((status = 204), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    state.service.logout(&caller.token).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_static("switchboard_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// The signed-in operator.
#[utoipa::path(get, path = "/me", tag = "operators",
    responses((status = 200, body = OperatorDto), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub async fn me(caller: Caller) -> Json<OperatorDto> {
    Json(OperatorDto::from(&caller.operator))
}

#[derive(Deserialize, ToSchema)]
pub struct ProfileRequest {
    /// 1 to 100 characters once trimmed, no control characters; absent = unchanged.
    #[schema(min_length = 1)]
    pub name: Option<String>,
}

/// Changes the caller's own name.
#[utoipa::path(patch, path = "/me", tag = "operators", request_body = Option<ProfileRequest>,
    responses((status = 200, body = OperatorDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ProfileRequest>,
) -> ApiResult<Json<OperatorDto>> {
    let operator = state.service.update_me(&caller.operator, req.name).await?;
    Ok(Json(OperatorDto::from(&operator)))
}

/// Sets the caller's presence: `available` (auto-routing may choose them) or `away`.
#[utoipa::path(put, path = "/me/availability", tag = "operators", request_body = AvailabilityRequest,
    responses((status = 200, body = OperatorDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn set_availability(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AvailabilityRequest>,
) -> ApiResult<Json<OperatorDto>> {
    let operator = state
        .service
        .set_availability(&caller.operator, req.availability, req.hand_back)
        .await?;
    Ok(Json(OperatorDto::from(&operator)))
}

/// Everyone in the caller's workspace, in join order, with availability and load.
#[utoipa::path(get, path = "/operators", tag = "operators",
    responses((status = 200, body = List<OperatorDto>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_operators(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<OperatorDto>>> {
    let team = state.service.list_operators(&caller.operator).await?;
    Ok(Json(List {
        items: team.iter().map(OperatorDto::from).collect(),
    }))
}

/// An owner or admin adds a teammate (only an owner can add an owner). New teammates start
/// `available`.
#[utoipa::path(post, path = "/operators", tag = "operators", request_body = NewOperatorRequest,
    responses((status = 201, body = OperatorDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "email taken", body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn add_operator(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewOperatorRequest>,
) -> ApiResult<(StatusCode, Json<OperatorDto>)> {
    let teammate = NewTeammate {
        name: req.name,
        email: req.email,
        password: req.password,
        role: req.role,
    };
    let operator = state
        .service
        .add_operator(&caller.operator, teammate)
        .await?;
    Ok((StatusCode::CREATED, Json(OperatorDto::from(&operator))))
}

pub(super) fn with_session_cookie(
    state: &AppState,
    status: StatusCode,
    signed_in: &SignedIn,
) -> Response {
    let max_age = crate::service::SESSION_LIFETIME_MS / 1000;
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}",
        signed_in.token
    );
    let mut response = (status, Json(SessionDto::from(signed_in))).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
