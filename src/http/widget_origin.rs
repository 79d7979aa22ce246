//! Browsers may call the public widget endpoints from the pages the widget is embedded on:
//! a request carrying an `Origin` the widget does not allow is refused (403), an allowed one
//! gets the CORS headers it needs. Requests without `Origin` (servers, curl) are not browser
//! cross-origin requests and pass.

use axum::extract::{RawPathParams, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::options;
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use super::error::ApiError;

pub async fn check(
    State(state): State<AppState>,
    params: RawPathParams,
    request: Request,
    next: Next,
) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let key = params
        .iter()
        .find(|(name, _)| *name == "key")
        .map(|(_, value)| value.to_owned())
        .unwrap_or_default();
    match state
        .service
        .widget_allows_origin(&key, origin.to_str().unwrap_or(""))
        .await
    {
        // An unknown key is the handler's 404 to give.
        Ok(None) => next.run(request).await,
        Ok(Some(allowed)) => {
            // Preflights pass either way: the refusal comes with the real request, readable by
            // the page (so the widget can say why) and having done nothing.
            let mut response = if request.method() == Method::OPTIONS {
                StatusCode::NO_CONTENT.into_response()
            } else if allowed {
                next.run(request).await
            } else {
                // Addressed to whoever builds the site (the widget shows visitors its own words).
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "origin_not_allowed",
                    "This chat is not enabled on this site; add the site under the widget's allowed origins",
                )
                .into_response()
            };
            allow(response.headers_mut(), origin);
            response
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn allow(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT"),
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

/// Each of the public widget `routes` also answers its CORS preflight (`OPTIONS`; not an API
/// operation, so not in the OpenAPI document).
pub fn with_preflights(routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    let paths: Vec<String> = routes.get_openapi().paths.paths.keys().cloned().collect();
    paths.iter().fold(routes, |routes, path| {
        routes.route(path, options(preflight))
    })
}

/// CORS preflight: answered by `check`; reaching here means no `Origin` was sent.
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}
