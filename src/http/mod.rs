//! The JSON API under `/api/v1`, `/healthz`, the OpenAPI document and the inbox pages.
//! Handlers are thin: extract, call one use case, shape the answer.

mod accounts;
mod chat_links;
mod chat_page;
mod client_addr;
pub mod connections;
mod conversations;
pub mod dto;
pub mod error;
mod events;
mod extract;
mod invitations;
pub mod metrics;
mod notifications;
mod nul;
mod openapi;
mod pages;
mod passwords;
mod rate_limit;
mod reports;
mod team;
mod visitor_records;
mod visitors;
mod widget_origin;
mod widgets;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use client_addr::{TrustedProxies, parse_network};

use self::error::ApiError;
use self::openapi::ApiDoc;
use self::rate_limit::RateLimiter;
use crate::service::Service;

/// Largest request body accepted, in bytes: room for a 10,000-character message in any
/// script, with JSON escaping.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

#[derive(Clone)]
pub struct AppState {
    /// Shared, not copied: axum clones the state for every request, and a `Service` is a
    /// dozen handles and strings (its clone and drop were 3 % of a handover's time).
    pub service: Arc<Service>,
    /// Mark the session cookie `Secure` (the server is reached over https).
    pub secure_cookies: bool,
    login_by_email: Arc<RateLimiter>,
    login_by_ip: Arc<RateLimiter>,
    /// Password reset requests: each one may send mail, so fewer per email than sign-ins.
    reset_by_email: Arc<RateLimiter>,
    reset_by_ip: Arc<RateLimiter>,
    /// Public widget requests per client address and per visitor; None = unlimited.
    widget_limiter: Option<Arc<RateLimiter>>,
    trusted_proxies: Arc<TrustedProxies>,
}

impl AppState {
    /// Counts one public widget request against `key` (a client address or a visitor).
    pub fn widget_request(&self, key: &str) -> Result<(), ApiError> {
        match &self.widget_limiter {
            Some(limiter) => limiter.check(key).map_err(ApiError::rate_limited),
            None => Ok(()),
        }
    }

    pub fn new(
        service: Service,
        secure_cookies: bool,
        widget_requests_per_minute: u32,
        trusted_proxies: TrustedProxies,
    ) -> AppState {
        let widget_limiter = (widget_requests_per_minute > 0).then(|| {
            Arc::new(RateLimiter::new(
                widget_requests_per_minute,
                Duration::from_secs(60) / widget_requests_per_minute,
            ))
        });
        AppState {
            service: Arc::new(service),
            secure_cookies,
            widget_limiter,
            trusted_proxies: Arc::new(trusted_proxies),
            login_by_email: Arc::new(RateLimiter::new(10, Duration::from_secs(6))),
            login_by_ip: Arc::new(RateLimiter::new(30, Duration::from_secs(2))),
            reset_by_email: Arc::new(RateLimiter::new(3, Duration::from_secs(60))),
            reset_by_ip: Arc::new(RateLimiter::new(10, Duration::from_secs(6))),
        }
    }
}

/// The server's routes and middleware. `record_requests` adds the per-request metrics, kept
/// off when nothing serves `/metrics`.
pub fn router(state: AppState, record_requests: bool) -> Router {
    let origin_check = axum::middleware::from_fn_with_state(state.clone(), widget_origin::check);
    let (routes, document) =
        all_routes(|widget_public| widget_public.layer(origin_check)).split_for_parts();
    let app = Router::new()
        .route("/sw.js", get(pages::service_worker))
        .route("/widget.js", get(pages::widget_script))
        .route("/static/app.js", get(pages::script))
        .route("/static/inbox/{name}", get(pages::module))
        .route("/static/app.css", get(pages::style))
        .merge(chat_page::routes())
        .merge(routes)
        .fallback(unrouted)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This method is not allowed here",
            )
        })
        // The document of the very routes it is served by.
        .layer(Extension(Arc::new(openapi::finish(document))))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let app = if record_requests {
        app.layer(axum::middleware::from_fn_with_state(
            state.service.metrics().clone(),
            metrics::record,
        ))
    } else {
        app
    };
    app.layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let client = req.extensions().get::<client_addr::ClientAddr>().map(|c| c.0);
                    tracing::info_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()), client = ?client)
                })
                .on_failure(log_failure),
        )
        .layer(axum::middleware::from_fn_with_state(state.clone(), client_addr::resolve))
        .layer(axum::middleware::from_fn(nul::reject_in_uri))
        .layer(axum::middleware::from_fn(connections::track))
        .with_state(state)
}

/// The one route table: `/healthz` and the API under `/api/v1`, each resource module's
/// `routes()` declaring its routes together with their OpenAPI operations. `guard_widget` wraps
/// the public widget routes, as browsers on the sites embedding a widget call them; their origin
/// check needs the state, which the table of routes and the document do not.
fn all_routes(
    guard_widget: impl FnOnce(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let widget_public = visitors::routes().merge(events::widget_routes());
    let api = OpenApiRouter::new()
        .merge(openapi::routes())
        .merge(accounts::routes())
        .merge(team::routes())
        .merge(invitations::routes())
        .merge(passwords::routes())
        .merge(widgets::routes())
        .merge(conversations::routes())
        .merge(visitor_records::routes())
        .merge(events::routes())
        .merge(notifications::routes())
        .merge(reports::routes())
        .merge(chat_links::routes())
        .merge(guard_widget(widget_origin::with_preflights(widget_public)));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .nest("/api/v1", api)
}

/// The method and path of every route the server answers, except the static files and the
/// widget's CORS preflights. axum cannot list a router's routes; it need not, as `routes!` registers
/// each route together with its operation: the assembled operations are the routes.
pub fn route_table() -> Vec<(Method, String)> {
    let document = all_routes(std::convert::identity).into_openapi();
    document
        .paths
        .paths
        .into_iter()
        .flat_map(|(path, item)| {
            [
                (Method::GET, item.get),
                (Method::PUT, item.put),
                (Method::POST, item.post),
                (Method::DELETE, item.delete),
                (Method::OPTIONS, item.options),
                (Method::HEAD, item.head),
                (Method::PATCH, item.patch),
                (Method::TRACE, item.trace),
            ]
            .into_iter()
            .filter(|(_, operation)| operation.is_some())
            .map(move |(method, _)| (method, path.clone()))
        })
        .collect()
}

/// What no route answers: any other `GET` outside the API is a page of the inbox, which the
/// client router in `web/app.js` draws (its own "not found" included); the rest is a JSON 404.
async fn unrouted(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let api = path == "/api" || path.starts_with("/api/");
    if (method == Method::GET || method == Method::HEAD) && !api {
        pages::shell().await
    } else {
        ApiError::not_found("route").into_response()
    }
}

/// A request's path as it may be logged: the token of a link (an invitation, a password reset
/// or a chat's emailed link, in the API or as a page) is a credential, so it is replaced.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    const BEFORE_A_TOKEN: [&str; 6] = [
        "/api/v1/invitations/",
        "/api/v1/password-reset/",
        "/api/v1/chat/",
        "/invite/",
        "/reset/",
        "/chat/",
    ];
    for prefix in BEFORE_A_TOKEN {
        if let Some(rest) = path.strip_prefix(prefix) {
            let (token, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            // Invitations are also named by id, which is no secret.
            if !token.is_empty() && extract::canonical_id(token).is_none() {
                return format!("{prefix}<token>{tail}").into();
            }
        }
    }
    path.into()
}

/// A 500 is a bug, logged as an error (its cause is logged where it happened); a 503 is the
/// database being unreachable, which the store reports once for the whole outage.
fn log_failure(
    class: tower_http::classify::ServerErrorsFailureClass,
    latency: Duration,
    _span: &tracing::Span,
) {
    use tower_http::classify::ServerErrorsFailureClass;
    match class {
        ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE) => {
            tracing::debug!(?latency, "answered 503");
        }
        class => tracing::error!(%class, ?latency, "request failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn tokens_of_one_time_links_are_not_logged() {
        for (path, logged) in [
            (
                "/api/v1/invitations/abc-DEF_123",
                "/api/v1/invitations/<token>",
            ),
            (
                "/api/v1/invitations/abc/accept",
                "/api/v1/invitations/<token>/accept",
            ),
            ("/api/v1/invitations/42", "/api/v1/invitations/42"),
            ("/api/v1/invitations", "/api/v1/invitations"),
            (
                "/api/v1/password-reset/abc",
                "/api/v1/password-reset/<token>",
            ),
            ("/api/v1/password-reset", "/api/v1/password-reset"),
            ("/invite/abc", "/invite/<token>"),
            ("/reset/abc", "/reset/<token>"),
            ("/chat/abc", "/chat/<token>"),
            ("/api/v1/chat/abc/events", "/api/v1/chat/<token>/events"),
            ("/inbox/conversations/7", "/inbox/conversations/7"),
        ] {
            assert_eq!(loggable_path(path), logged, "{path}");
        }
    }
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, body = dto::Health), (status = 503, body = error::ErrorBody)))]
async fn health(State(state): State<AppState>) -> Result<axum::Json<dto::Health>, ApiError> {
    state
        .service
        .store()
        .ping()
        .await
        .map_err(crate::service::ServiceError::Unavailable)?;
    Ok(axum::Json(dto::Health { status: "ok" }))
}
