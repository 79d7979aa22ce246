//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::schema::{Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Required};
use utoipa::{Modify, OpenApi};

use super::{accounts, conversations, events, notifications, visitors, widgets};

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Live-chat help desk: conversations, ownership and routing."),
    paths(
        super::health,
        accounts::signup_status, accounts::signup, accounts::login, accounts::logout, accounts::me, accounts::set_availability,
        accounts::list_operators, accounts::add_operator,
        widgets::create, widgets::list, widgets::get, widgets::set_routing, widgets::set_allowed_origins,
        widgets::articles, widgets::add_article, widgets::update_article, widgets::delete_article,
        conversations::list, conversations::counts, conversations::get, conversations::reply, conversations::takeover,
        conversations::claim, conversations::set_assignee, conversations::close, conversations::reopen,
        visitors::start, visitors::get, visitors::message, visitors::handover,
        events::inbox, events::visitor,
        notifications::vapid_public_key, notifications::channels, notifications::set_channels,
        notifications::subscriptions, notifications::subscribe, notifications::unsubscribe,
        document,
    ),
    modifiers(&Security, &OptionalBodies),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
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
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
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
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
