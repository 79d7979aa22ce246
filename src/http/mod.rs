//! The JSON API under `/api/v1`, `/healthz` and the OpenAPI document. Handlers are thin:
//! extract, call one use case, shape the answer.

mod accounts;
mod client_addr;
pub mod connections;
mod conversations;
pub mod dto;
pub mod error;
mod events;
mod extract;
mod notifications;
mod nul;
mod openapi;
mod pages;
mod rate_limit;
mod visitors;
mod widget_origin;
mod widgets;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};

pub use client_addr::{TrustedProxies, parse_network};
pub use openapi::ApiDoc;

use self::error::ApiError;
use self::rate_limit::RateLimiter;
use crate::service::Service;

/// Largest request body accepted, in bytes: room for a 10,000-character message in any
/// script, with JSON escaping.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    /// Mark the session cookie `Secure` (the server is reached over https).
    pub secure_cookies: bool,
    login_by_email: Arc<RateLimiter>,
    login_by_ip: Arc<RateLimiter>,
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
            service,
            secure_cookies,
            widget_limiter,
            trusted_proxies: Arc::new(trusted_proxies),
            login_by_email: Arc::new(RateLimiter::new(10, Duration::from_secs(6))),
            login_by_ip: Arc::new(RateLimiter::new(30, Duration::from_secs(2))),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi::document))
        .route(
            "/signup",
            get(accounts::signup_status).post(accounts::signup),
        )
        .route("/session", post(accounts::login).delete(accounts::logout))
        .route("/me", get(accounts::me))
        .route("/me/availability", put(accounts::set_availability))
        .route(
            "/operators",
            get(accounts::list_operators).post(accounts::add_operator),
        )
        .route("/widgets", get(widgets::list).post(widgets::create))
        .route("/widgets/{id}", get(widgets::get))
        .route("/widgets/{id}/routing", put(widgets::set_routing))
        .route("/conversations", get(conversations::list))
        .route("/conversations/counts", get(conversations::counts))
        .route("/conversations/{id}", get(conversations::get))
        .route("/conversations/{id}/messages", post(conversations::reply))
        .route(
            "/conversations/{id}/takeover",
            post(conversations::takeover),
        )
        .route("/conversations/{id}/claim", post(conversations::claim))
        .route(
            "/conversations/{id}/assignee",
            put(conversations::set_assignee),
        )
        .route("/conversations/{id}/close", post(conversations::close))
        .route("/conversations/{id}/reopen", post(conversations::reopen))
        .route("/events", get(events::inbox))
        .route(
            "/push/vapid-public-key",
            get(notifications::vapid_public_key),
        )
        .route(
            "/me/notifications",
            get(notifications::channels).put(notifications::set_channels),
        )
        .route(
            "/me/push-subscriptions",
            get(notifications::subscriptions)
                .post(notifications::subscribe)
                .delete(notifications::unsubscribe),
        )
        .route(
            "/widgets/{id}/allowed-origins",
            put(widgets::set_allowed_origins),
        )
        .route(
            "/widgets/{id}/articles",
            get(widgets::articles).post(widgets::add_article),
        )
        .route(
            "/widgets/{id}/articles/{article_id}",
            put(widgets::update_article).delete(widgets::delete_article),
        )
        .nest("/widget/{key}", widget_public(state.clone()));

    Router::new()
        .route("/healthz", get(health))
        .route("/sw.js", get(pages::service_worker))
        .route("/widget.js", get(pages::widget_script))
        .route("/static/app.js", get(pages::script))
        .route("/static/app.css", get(pages::style))
        .route("/", get(pages::shell))
        .route("/login", get(pages::shell))
        .route("/signup", get(pages::shell))
        .route("/inbox", get(pages::shell))
        .route("/inbox/conversations/{id}", get(pages::shell))
        .route("/widgets", get(pages::shell))
        .route("/widgets/{id}", get(pages::shell))
        .route("/teammates", get(pages::shell))
        .route("/settings", get(pages::shell))
        .route("/settings/notifications", get(pages::shell))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "This method is not allowed here")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let client = req.extensions().get::<client_addr::ClientAddr>().map(|c| c.0);
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), client = ?client)
                })
                .on_failure(log_failure),
        )
        .layer(axum::middleware::from_fn_with_state(state.clone(), client_addr::resolve))
        .layer(axum::middleware::from_fn(nul::reject_in_uri))
        .layer(axum::middleware::from_fn(connections::track))
        .with_state(state)
}

/// The public widget endpoints, answerable from the pages a widget is embedded on (CORS,
/// restricted to the widget's allowed origins).
fn widget_public(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/events",
            get(events::visitor).options(widget_origin::preflight),
        )
        .route(
            "/conversations",
            post(visitors::start).options(widget_origin::preflight),
        )
        .route(
            "/conversations/{id}",
            get(visitors::get).options(widget_origin::preflight),
        )
        .route(
            "/conversations/{id}/messages",
            post(visitors::message).options(widget_origin::preflight),
        )
        .route(
            "/conversations/{id}/handover",
            post(visitors::handover).options(widget_origin::preflight),
        )
        .layer(axum::middleware::from_fn_with_state(
            state,
            widget_origin::check,
        ))
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
