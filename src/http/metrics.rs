//! Recording each request in the metrics, and the `/metrics` endpoint, which is served on a
//! listener of its own (`--metrics-listen`), never on the main port.

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::time::Instant;

use crate::metrics::{self, Metrics};
use crate::service::Service;

/// Counts the request under its route's template (never the path itself: ids and keys stay
/// out of the labels) and times it.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(metrics::UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// The metrics listener's one route.
pub fn router(service: Service) -> Router {
    Router::new()
        .route("/metrics", get(exposition))
        .with_state(service)
}

async fn exposition(State(service): State<Service>) -> impl IntoResponse {
    let text = service.metrics().exposition(service.store()).await;
    ([(CONTENT_TYPE, metrics::CONTENT_TYPE)], text)
}
