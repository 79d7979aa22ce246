//! The error model: JSON errors with the right status for bad input, and the OpenAPI document.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::on_both;

async fn bad_input_gets_a_clear_json_error(s: TestServer) {
    let ana = s.signup("Acme").await;
    let send_raw = |method: Method, path: &'static str, body: Vec<u8>| {
        let s = &s;
        let token = ana.token.clone();
        async move {
            let resp = s
                .client
                .request(method, format!("{}{path}", s.base))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.expect("errors are JSON");
            (status, body)
        }
    };
    let (status, body) = send_raw(Method::POST, "/api/v1/widgets", b"{not json".to_vec()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_json");
    let (status, _) = send_raw(
        Method::POST,
        "/api/v1/widgets",
        br#"{"name": ["a"]}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400, "wrong type");
    let (status, body) = send_raw(
        Method::POST,
        "/api/v1/widgets",
        br#"{"name": "ok", "extra": 1}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 201, "unknown fields are ignored: {body}");
    let mut huge = br#"{"name": ""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 300 * 1024));
    huge.extend(br#""}"#);
    let resp = crate::common::client()
        .post(format!("{}/api/v1/widgets", s.base))
        .bearer_auth(&ana.token)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(
        resp.headers()["connection"],
        "close",
        "the unread body ends the connection"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large");
    let (status, _) = s
        .post(
            &ana,
            "/api/v1/widgets",
            json!({"name": "still fine after that"}),
        )
        .await;
    assert_eq!(status, 201);

    for path in [
        "/api/v1/conversations/999999",
        "/api/v1/conversations/abc",
        "/api/v1/widgets/-1",
        "/api/v1/nothing-here",
    ] {
        let (status, body) = s.get(&ana, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let (status, body) = s
        .call(Method::DELETE, "/api/v1/me", Some(&ana.token), None)
        .await;
    assert_eq!(status, 405);
    assert!(body["error"]["message"].is_string());
}

/// What schemathesis found outside the documented shapes (scripts/fuzz-api): a JSON array where
/// an object is documented, a body of blanks, a query string that does not parse, a status list
/// with an empty or padded item. Each is a JSON 400.
async fn inputs_outside_the_documented_shapes_are_json_400s(s: TestServer) {
    let ana = s.signup("Acme").await;
    for (method, path, body) in [
        (Method::POST, "/api/v1/widgets", json!(["Website"])),
        (
            Method::PUT,
            "/api/v1/me/notifications",
            json!([false, false]),
        ),
        (Method::POST, "/api/v1/session", json!("ana@acme.test")),
    ] {
        let (status, reply) = s
            .call(method.clone(), path, Some(&ana.token), Some(body))
            .await;
        assert_eq!(status, 400, "{method} {path}: {reply}");
        assert_eq!(reply["error"]["code"], "invalid_json", "{method} {path}");
    }
    for (body, expected) in [("", 200), ("\t", 400)] {
        let resp = s
            .client
            .put(format!("{}/api/v1/me/notifications", s.base))
            .bearer_auth(&ana.token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            expected,
            "an empty body is {{}}; blanks are not JSON"
        );
    }
    for query in [
        "/api/v1/conversations?limit=ten",
        "/api/v1/conversations?view=theirs",
        "/api/v1/conversations?status=",
        "/api/v1/conversations?status=open,",
        "/api/v1/conversations/counts?status=open,%20closed",
    ] {
        let resp = s
            .client
            .get(format!("{}{query}", s.base))
            .bearer_auth(&ana.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{query}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/json",
            "{query}"
        );
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{query}: {body}");
    }
    let (status, body) = s
        .get(&ana, "/api/v1/conversations/counts?status=open,closed")
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn openapi_and_health(s: TestServer) {
    let (status, health) = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(health, json!({"status": "ok"}));
    let (status, doc) = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/signup", "post"),
        ("/api/v1/session", "post"),
        ("/api/v1/session", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/availability", "put"),
        ("/api/v1/operators", "get"),
        ("/api/v1/operators", "post"),
        ("/api/v1/widgets", "post"),
        ("/api/v1/widgets", "get"),
        ("/api/v1/widgets/{id}", "get"),
        ("/api/v1/widgets/{id}/routing", "put"),
        ("/api/v1/conversations", "get"),
        ("/api/v1/conversations/{id}", "get"),
        ("/api/v1/conversations/{id}/messages", "post"),
        ("/api/v1/conversations/{id}/takeover", "post"),
        ("/api/v1/conversations/{id}/claim", "post"),
        ("/api/v1/conversations/{id}/assignee", "put"),
        ("/api/v1/conversations/{id}/close", "post"),
        ("/api/v1/widget/{key}/conversations", "post"),
        ("/api/v1/widget/{key}/conversations/{id}", "get"),
        ("/api/v1/widget/{key}/conversations/{id}/messages", "post"),
        ("/api/v1/widget/{key}/conversations/{id}/handover", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is documented"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let conversation = &schemas["ConversationDto"]["properties"];
    for field in [
        "id",
        "widget_id",
        "status",
        "assignee_id",
        "created_at",
        "last_message_at",
        "messages",
        "assignment_events",
    ] {
        assert!(conversation.get(field).is_some(), "ConversationDto.{field}");
    }
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(
            schemas.contains_key(name),
            "#/components/schemas/{name} resolves"
        );
    }
}

on_both!(
    bad_input_gets_a_clear_json_error,
    inputs_outside_the_documented_shapes_are_json_400s,
    openapi_and_health
);
