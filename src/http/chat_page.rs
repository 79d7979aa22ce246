//! The page an emailed link opens, `/chat/{token}`: the visitor reads and continues that one
//! chat (`web/chat.*`, a small script of its own over `chat_links`' API). Served with the same
//! strict Content-Security-Policy as the inbox, and told to keep the link out of referrers.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat/{token}", get(page))
        .route("/static/chat.js", get(script))
        .route("/static/chat.css", get(style))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The page, or the same page answered 404 for a link that opens nothing (its script then says
/// so in the visitor's words).
async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let mut response = asset("text/html; charset=utf-8", include_str!("../web/chat.html"));
    if !state.service.chat_link_opens(&token).await {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The path is the credential: no other site may see it.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../web/chat.js"),
    )
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("../web/chat.css"))
}
