//! The API's one error shape: `{"error": {"code", "message"}}` with the matching status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{AssigneeDto, WorkspaceDto};
use crate::service::ServiceError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Boxed: errors travel through every handler's `Result`, which should stay small.
    pub body: Box<ErrorBody>,
    pub retry_after_secs: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `not_found`, `assignee_changed`.
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// With `assignee_changed` (409): who has the conversation now (null = unassigned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_assignee_id: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_assignee: Option<Option<AssigneeDto>>,
    /// With `workspace_required` (409): the workspaces the email and password open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspaces: Option<Vec<WorkspaceDto>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: Box::new(ErrorBody {
                error: ErrorDetail {
                    code: code.to_owned(),
                    message: message.into(),
                    current_assignee_id: None,
                    current_assignee: None,
                    workspaces: None,
                },
            }),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("Too many attempts; try again in {retry_after_secs} s"),
            )
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        let message = e.to_string();
        match e {
            ServiceError::Invalid { code, .. } => ApiError::bad_request(code, message),
            ServiceError::Unauthenticated(_) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
            }
            ServiceError::Forbidden { code, .. } => {
                ApiError::new(StatusCode::FORBIDDEN, code, message)
            }
            ServiceError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            ServiceError::InvalidLink(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "invalid_link", message)
            }
            ServiceError::Conflict { code, .. } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            ServiceError::AssigneeChanged { current } => {
                let mut error = ApiError::new(StatusCode::CONFLICT, "assignee_changed", message);
                error.body.error.current_assignee_id = Some(current.as_ref().map(|o| o.id));
                error.body.error.current_assignee = Some(current.as_deref().map(AssigneeDto::from));
                error
            }
            ServiceError::WorkspaceRequired { workspaces } => {
                let mut error = ApiError::new(StatusCode::CONFLICT, "workspace_required", message);
                error.body.error.workspaces =
                    Some(workspaces.iter().map(WorkspaceDto::from).collect());
                error
            }
            ServiceError::Unavailable(source) => {
                // The store says once that the database is unreachable; not once per request.
                tracing::debug!(error = %source, "database unavailable");
                ApiError {
                    retry_after_secs: Some(5),
                    ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
                }
            }
            ServiceError::Internal(source) => {
                tracing::error!(error = %source, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(*self.body)).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is left unread, so this connection cannot carry another
            // request: say so, rather than let the client reuse it and fail.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
