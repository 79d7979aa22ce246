//! Tenant isolation: another workspace's ids are always 404 and never appear in lists.

use reqwest::Method;
use serde_json::json;

use crate::common::TestServer;
use crate::on_both;

async fn another_workspace_sees_nothing(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let chat = s.start_chat(&widget, "secret order #123").await;
    s.handover(&widget, &chat).await;

    let eve = s.signup("Evil").await;
    let eve_widget = s.widget(&eve, "manual", &[]).await;
    let c = chat.id;
    let w = widget.id;
    let attempts: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/api/v1/conversations/{c}"), None),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/messages"),
            Some(json!({"body": "hi"})),
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/takeover"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/claim"),
            Some(json!({})),
        ),
        (
            Method::PUT,
            format!("/api/v1/conversations/{c}/assignee"),
            Some(json!({"operator_id": eve.id})),
        ),
        (
            Method::PUT,
            format!("/api/v1/conversations/{c}/assignee"),
            Some(json!({"operator_id": null})),
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/close"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/conversations/{c}/reopen"),
            None,
        ),
        (Method::GET, format!("/api/v1/widgets/{w}"), None),
        (
            Method::PUT,
            format!("/api/v1/widgets/{w}/routing"),
            Some(json!({"mode": "manual", "eligible_operator_ids": []})),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, resp) = s.call(method.clone(), &path, Some(&eve.token), body).await;
        assert_eq!(status, 404, "{method} {path}: {resp}");
        assert!(!resp.to_string().contains("secret"), "{resp}");
    }
    // Assigning one's own chat to another workspace's operator is a 404 too.
    let eve_chat = s.start_chat(&eve_widget, "hi").await;
    let (status, _) = s
        .put(
            &eve,
            &format!("/api/v1/conversations/{}/assignee", eve_chat.id),
            json!({"operator_id": ana.id}),
        )
        .await;
    assert_eq!(status, 404);

    for path in [
        "/api/v1/conversations",
        "/api/v1/conversations?view=unassigned",
        "/api/v1/operators",
        "/api/v1/widgets",
    ] {
        let (status, body) = s.get(&eve, path).await;
        assert_eq!(status, 200);
        let text = body.to_string();
        assert!(
            !text.contains("secret") && !text.contains(&widget.key) && !text.contains("acme"),
            "{path}: {text}"
        );
    }
    let (_, rows) = s.get(&eve, "/api/v1/conversations").await;
    assert_eq!(
        rows["items"].as_array().unwrap().len(),
        1,
        "only Eve's own chat"
    );

    // Nothing Eve tried changed Ana's chat.
    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(conv["assignee_id"], ana.id);
    assert_eq!(conv["status"], "handed_off");
    assert_eq!(conv["assignment_events"].as_array().unwrap().len(), 1);
}

on_both!(another_workspace_sees_nothing);
