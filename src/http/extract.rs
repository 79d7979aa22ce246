//! Request extractors whose failures are API errors: JSON bodies, query strings, path ids, the
//! signed-in operator and the visitor's token.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use futures_util::StreamExt;

use super::error::ApiError;
use super::{AppState, MAX_BODY_BYTES};
use crate::domain::Id;
use crate::store::Operator;

pub const SESSION_COOKIE: &str = "switchboard_session";

/// A JSON object body. Any content type is read as JSON (so `curl -d` works), an empty body
/// reads as `{}`, unknown fields are ignored; malformed JSON, wrong types or anything but an
/// object are a 400 naming the problem, and a body over `MAX_BODY_BYTES` is a 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = read_limited(req).await?;
        let text: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        // serde reads a JSON array into a struct field by field, in order: `["x"]` would pass
        // for `{"name": "x"}`. Every request body is an object.
        if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request(
                "invalid_json",
                "Invalid JSON body: expected an object",
            ));
        }
        let value = serde_json::from_slice(text).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("Invalid JSON body: {e}"))
        })?;
        super::nul::check_json(text)?;
        Ok(ApiJson(value))
    }
}

/// For a body field that may be absent, `null` or a value: tells an absent field (`None`, with
/// `#[serde(default)]`) from an explicit `null` (`Some(None)`).
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A query string. One that does not parse into `T` (a wrong type, a value outside an
/// enumeration) is a JSON 400 like every other bad input, not axum's plain-text rejection.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|e: axum::extract::rejection::QueryRejection| {
                ApiError::bad_request("invalid_query", e.body_text())
            })
    }
}

/// Past the limit, a body is still read (and thrown away) up to this size, for up to
/// `DRAIN_TIME`, before the 413 is sent, so that a client still writing it gets to read the
/// answer instead of a connection reset. A body declared larger is refused at once.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

async fn read_limited(req: Request) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "The request body is too large",
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(too_large());
    }
    let mut stream = req.into_body().into_data_stream();
    let mut body = Vec::new();
    let mut seen = 0usize;
    let mut drain_until = None;
    loop {
        let next = match drain_until {
            None => stream.next().await,
            Some(deadline) => match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(next) => next,
                Err(_) => break,
            },
        };
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("invalid_body", format!("Could not read the body: {e}"))
        })?;
        seen += chunk.len();
        if seen > DRAIN_LIMIT {
            break;
        }
        if seen <= MAX_BODY_BYTES {
            body.extend_from_slice(&chunk);
        } else if drain_until.is_none() {
            drain_until = Some(tokio::time::Instant::now() + DRAIN_TIME);
            body = Vec::new();
        }
    }
    if seen > MAX_BODY_BYTES {
        Err(too_large())
    } else {
        Ok(Bytes::from(body))
    }
}

/// A numeric id from the path, written as the server writes ids (`5`, not `+5` or `005`).
/// Anything else names nothing here: 404.
pub struct PathId(pub Id);

/// Parses an id written the one way the server writes it; `None` for anything else.
pub fn canonical_id(raw: &str) -> Option<Id> {
    raw.parse::<Id>()
        .ok()
        .filter(|id| *id > 0 && id.to_string() == raw)
}

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw): axum::extract::Path<String> =
            axum::extract::Path::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found("resource"))?;
        canonical_id(&raw)
            .map(PathId)
            .ok_or_else(|| ApiError::not_found("resource"))
    }
}

/// The signed-in operator, from `Authorization: Bearer <token>` or the session cookie.
pub struct Caller {
    pub operator: Operator,
    pub token: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        let (token, from_cookie) = match bearer_token(parts) {
            Some(token) => (token, false),
            None => match session_cookie(parts) {
                Some(token) => (token, true),
                None => {
                    return Err(ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthenticated",
                        "Sign in first: send Authorization: Bearer <token> or the session cookie",
                    ));
                }
            },
        };
        let changes_or_streams =
            !is_safe(&parts.method) || parts.headers.contains_key(header::UPGRADE);
        if from_cookie && changes_or_streams && !same_origin(parts) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "Cookie-authenticated changes and streams must come from this server's own pages",
            ));
        }
        let operator = state.service.authenticate(&token).await?;
        Ok(Caller { operator, token })
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Browsers send `Origin` on cross-site requests; a cookie-authenticated change is accepted
/// only without one or from this host. SameSite=Lax on the cookie is the first line; this is
/// the second.
fn same_origin(parts: &Parts) -> bool {
    let Some(origin) = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// The visitor's token from `X-Visitor-Token` (or `?visitor_token=`). Without it, nothing of
/// theirs can be found: 404. Where the token is all a request names (`Option<VisitorToken>`),
/// the handler says what a missing one means.
pub struct VisitorToken(pub String);

impl VisitorToken {
    fn find(parts: &Parts) -> Option<VisitorToken> {
        let from_header = parts
            .headers
            .get("x-visitor-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let from_query = || {
            parts.uri.query().and_then(|q| {
                q.split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| *k == "visitor_token")
                    .map(|(_, v)| v.to_owned())
            })
        };
        from_header
            .or_else(from_query)
            .filter(|t| !t.is_empty())
            .map(VisitorToken)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VisitorToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        VisitorToken::find(parts).ok_or_else(|| ApiError::not_found("conversation"))
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for VisitorToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(VisitorToken::find(parts))
    }
}

/// The `User-Agent` a visitor's browser sent, if any (and if it is plain text).
pub struct UserAgent(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(UserAgent(value))
    }
}
