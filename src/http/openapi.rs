//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
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
    modifiers(&Security),
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

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
