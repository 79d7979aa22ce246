//! The API's paths, each spelled once: the typed requests use them, and so do the tests that
//! send a request of their own making (odd headers, no answer expected, a stream refused).

pub const HEALTHZ: &str = "/healthz";
pub const OPENAPI: &str = "/api/v1/openapi.json";
pub const SIGNUP: &str = "/api/v1/signup";
pub const SESSION: &str = "/api/v1/session";
pub const ME: &str = "/api/v1/me";
pub const AVAILABILITY: &str = "/api/v1/me/availability";
pub const PASSWORD: &str = "/api/v1/me/password";
pub const PASSWORD_RESET: &str = "/api/v1/password-reset";
pub const INVITATIONS: &str = "/api/v1/invitations";
pub const NOTIFICATIONS: &str = "/api/v1/me/notifications";
pub const PUSH_SUBSCRIPTIONS: &str = "/api/v1/me/push-subscriptions";
pub const VAPID_PUBLIC_KEY: &str = "/api/v1/push/vapid-public-key";
pub const OPERATORS: &str = "/api/v1/operators";
pub const WIDGETS: &str = "/api/v1/widgets";
pub const CONVERSATIONS: &str = "/api/v1/conversations";
pub const CONVERSATION_COUNTS: &str = "/api/v1/conversations/counts";
pub const VISITORS: &str = "/api/v1/visitors";
pub const EVENTS: &str = "/api/v1/events";
pub const ROUTING_REPORT: &str = "/api/v1/reports/routing";

/// One teammate.
pub fn operator(id: i64) -> String {
    format!("{OPERATORS}/{id}")
}

/// `deactivate` or `reactivate` a teammate.
pub fn operator_action(id: i64, action: &str) -> String {
    format!("{}/{action}", operator(id))
}

/// An invitation by id (to revoke it) or by the token of its link (to read it).
pub fn invitation(id_or_token: &str) -> String {
    format!("{INVITATIONS}/{id_or_token}")
}

pub fn accept_invitation(token: &str) -> String {
    format!("{}/accept", invitation(token))
}

pub fn password_reset(token: &str) -> String {
    format!("{PASSWORD_RESET}/{token}")
}

pub fn widget(id: i64) -> String {
    format!("{WIDGETS}/{id}")
}

pub fn routing(widget_id: i64) -> String {
    format!("{}/routing", widget(widget_id))
}

/// What routing would do with the widget's next chat.
pub fn routing_preview(widget_id: i64) -> String {
    format!("{}/preview", routing(widget_id))
}

pub fn allowed_origins(widget_id: i64) -> String {
    format!("{}/allowed-origins", widget(widget_id))
}

pub fn articles(widget_id: i64) -> String {
    format!("{}/articles", widget(widget_id))
}

pub fn article(widget_id: i64, article: i64) -> String {
    format!("{}/{article}", articles(widget_id))
}

pub fn conversation(id: i64) -> String {
    format!("{CONVERSATIONS}/{id}")
}

/// One of the operator's actions on a conversation: `messages`, `read`, `takeover`, `claim`,
/// `assignee`, `close` or `reopen`.
pub fn conversation_action(id: i64, action: &str) -> String {
    format!("{}/{action}", conversation(id))
}

/// The inbox stream, replaying what came after event `since`.
pub fn events_since(since: i64) -> String {
    format!("{EVENTS}?since={since}")
}

/// A visitor's record.
pub fn visitor(id: i64) -> String {
    format!("{VISITORS}/{id}")
}

/// The public endpoints of the widget with this key; itself, what the widget shows before a
/// chat (its greeting).
pub fn public_widget(key: &str) -> String {
    format!("/api/v1/widget/{key}")
}

/// Where the widget reports the visitor's page.
pub fn visitor_seen(key: &str) -> String {
    format!("{}/visitor", public_widget(key))
}

/// Where the embedding site's user is identified.
pub fn identify(key: &str) -> String {
    format!("{}/identify", public_widget(key))
}

/// Where a visitor starts chats.
pub fn visitor_chats(key: &str) -> String {
    format!("{}/conversations", public_widget(key))
}

pub fn visitor_chat(key: &str, conversation: i64) -> String {
    format!("{}/{conversation}", visitor_chats(key))
}

/// Where the visitor leaves the email that missed replies go to.
pub fn visitor_email(key: &str, conversation: i64) -> String {
    format!("{}/visitor", visitor_chat(key, conversation))
}

/// The routing report of the window `from`..`to` (query values as given).
pub fn routing_report(from: &str, to: &str) -> String {
    format!("{ROUTING_REPORT}?from={from}&to={to}")
}

/// The API of the page a chat's emailed link opens.
pub fn chat_link(token: &str) -> String {
    format!("/api/v1/chat/{token}")
}

/// The page itself.
pub fn chat_page(token: &str) -> String {
    format!("/chat/{token}")
}

/// The visitor stream, without a token.
pub fn widget_events(key: &str) -> String {
    format!("{}/events", public_widget(key))
}

/// The visitor stream of the visitor holding `token`.
pub fn visitor_events(key: &str, token: &str) -> String {
    format!("{}?visitor_token={token}", widget_events(key))
}
