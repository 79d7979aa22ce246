//! The web inbox: one HTML shell for every page (the script draws the page from the API), its
//! script (an entry module and the ES modules under `web/inbox/`, no build step) and style,
//! and the service worker. All embedded in the binary. The pages are not routes here:
//! `web/inbox/router.js` is their one list.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Embeds the inbox's modules, each served as `/static/inbox/{name}`.
macro_rules! modules {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../web/inbox/", $name)))),*]
    };
}

/// The inbox's ES modules: the API client, DOM helpers, the one form helper, shared state, the
/// router, the frame, the live stream, attention, a dialog, and one module per page.
const MODULES: &[(&str, &str)] = modules![
    "api.js",
    "attention.js",
    "auth.js",
    "conversation.js",
    "dialog.js",
    "decision.js",
    "dom.js",
    "forms.js",
    "inbox.js",
    "layout.js",
    "live.js",
    "reports.js",
    "router.js",
    "settings.js",
    "state.js",
    "teammates.js",
    "visitor.js",
    "widgets.js",
];

/// Pages run only our own script: no inline scripts, no other origins, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Every inbox page: whatever `GET` outside the API no route answers (`super::unrouted`).
pub async fn shell() -> Response {
    let mut response = asset("text/html; charset=utf-8", include_str!("../web/app.html"));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

pub async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../web/app.js"),
    )
}

/// One of the inbox's modules; any other name is a JSON 404.
pub async fn module(Path(name): Path<String>) -> Response {
    match MODULES.iter().find(|(known, _)| *known == name) {
        Some((_, body)) => asset("text/javascript; charset=utf-8", body),
        None => ApiError::not_found("route").into_response(),
    }
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("../web/app.css"))
}

/// The service worker; served from the root so it may control the whole inbox.
pub async fn service_worker() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../web/sw.js"),
    )
}

/// The embeddable widget (`<script src=".../widget.js" data-key="…" async></script>`).
pub async fn widget_script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../web/widget.js"),
    )
}
