//! The OpenAPI document. Its operations come with their routes (each resource module's
//! `routes()`); here are its info, the security schemes and the adjustments the assembled
//! operations need.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use utoipa::Modify;
use utoipa::openapi::schema::{Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Required};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// The document's info; the routes bring its operations and schemas.
#[derive(utoipa::OpenApi)]
#[openapi(info(
    title = "Switchboard API",
    description = "Live-chat help desk: conversations, ownership and routing."
))]
pub struct ApiDoc;

/// The served document, from the operations of the assembled routes. The modifiers run here
/// rather than in `ApiDoc`: that one has no operations yet.
pub fn finish(mut document: OpenApi) -> OpenApi {
    Security.modify(&mut document);
    OptionalBodies.modify(&mut document);
    document
}

/// Under `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document))
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::extract::SESSION_COOKIE,
            ))),
        );
    }
}

/// `request_body = Option<T>` documents a body that may be left out (an empty body reads as
/// `{}`), but utoipa also lets it be a JSON `null`, which is a 400: the schema stays just `T`.
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut OpenApi) {
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
        });
        let bodies = operations
            .filter_map(|operation| operation.request_body.as_mut())
            .filter(|body| body.required != Some(Required::True));
        for content in bodies.flat_map(|body| body.content.values_mut()) {
            if let Some(RefOr::T(Schema::OneOf(one_of))) = &mut content.schema {
                one_of.items.retain(|item| !is_null(item));
                if one_of.items.len() == 1 {
                    content.schema = one_of.items.pop();
                }
            }
        }
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(object))
        if object.schema_type == utoipa::openapi::schema::SchemaType::Type(Type::Null))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn document(Extension(document): Extension<Arc<OpenApi>>) -> Response {
    Json(document.as_ref()).into_response()
}
