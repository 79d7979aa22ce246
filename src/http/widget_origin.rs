//! Browsers may call the public widget endpoints from the pages the widget is embedded on:
//! a request carrying an `Origin` the widget does not allow is refused (403), an allowed one
//! gets the CORS headers it needs. Requests without `Origin` (servers, curl) are not browser
//! cross-origin requests and pass.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let key = request
        .uri()
        .path()
        .strip_prefix("/api/v1/widget/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("")
        .to_owned();
    match state.service.widget_allows_origin(&key, origin.to_str().unwrap_or("")).await {
        // An unknown key is the handler's 404 to give.
        Ok(None) => next.run(request).await,
        Ok(Some(true)) => {
            let preflight = request.method() == Method::OPTIONS;
            let mut response =
                if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(request).await };
            allow(response.headers_mut(), origin);
            response
        }
        Ok(Some(false)) => ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "This widget is not enabled on this site; add the site under the widget's allowed origins",
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn allow(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, x-visitor-token"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}

/// CORS preflight: answered by `check`; reaching here means no `Origin` was sent.
pub async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}
