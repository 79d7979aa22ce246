//! The NUL character is refused everywhere a client can put text: PostgreSQL's text cannot
//! hold it and SQLite's is cut at it, so the same request gets the same clear 400 on both
//! backends and data moves between them unchanged.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;

const ENCODED_NUL: &str = "%00";

fn refused(field: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_input",
        format!("{field} must not contain the NUL character"),
    )
}

/// Refuses a request whose path or query string carries an encoded NUL, naming the query
/// parameter it is in.
pub async fn reject_in_uri(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if uri.path().contains(ENCODED_NUL) {
        return refused("the path").into_response();
    }
    if let Some(query) = uri.query() {
        let parameter = query
            .split('&')
            .find(|pair| pair.contains(ENCODED_NUL))
            .map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name));
        if let Some(name) = parameter {
            return refused(&format!("the query parameter `{name}`")).into_response();
        }
    }
    next.run(request).await
}

/// Checks a JSON body, naming the first field whose name or text holds a NUL.
pub fn check_json(body: &[u8]) -> Result<(), ApiError> {
    // In JSON a NUL can only be written as the escape `\u0000`: most bodies have none.
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => match field_with_nul(&value, String::new()) {
            Some(field) => Err(refused(&format!("`{field}`"))),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

fn field_with_nul(value: &Value, at: String) -> Option<String> {
    let here = || {
        if at.is_empty() {
            "the body".to_owned()
        } else {
            at.clone()
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => Some(here()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| field_with_nul(item, format!("{}[{i}]", here()))),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            let path = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            if name.contains('\0') {
                Some(path.replace('\0', "\\u0000"))
            } else {
                field_with_nul(item, path)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(body: &str) -> Option<String> {
        check_json(body.as_bytes())
            .err()
            .map(|e| e.body.error.message.clone())
    }

    #[test]
    fn names_the_field_holding_a_nul() {
        assert_eq!(field(r#"{"body":"hi"}"#), None);
        assert_eq!(
            field(r#"{"body":"a\\u0000b"}"#),
            None,
            "an escaped backslash is text"
        );
        assert_eq!(
            field(r#"{"body":"a\u0000b"}"#).as_deref(),
            Some("`body` must not contain the NUL character")
        );
        assert_eq!(
            field(r#"{"visitor":{"name":"x","email":"\u0000"}}"#).as_deref(),
            Some("`visitor.email` must not contain the NUL character")
        );
        assert_eq!(
            field(r#"{"ids":["a","\u0000"]}"#).as_deref(),
            Some("`ids[1]` must not contain the NUL character")
        );
    }
}
