//! One route table: the API answers exactly the operations its OpenAPI document describes, and
//! every other path is a page of the inbox (a `GET`) or a JSON 404.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;
use switchboard::http::route_table;

use crate::common::TestServer;
use crate::on_both;

/// A documented path with `1` for each of its parameters.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The router's fallback: no route has this path.
fn is_unrouted(status: u16, body: &Value) -> bool {
    status == 404 && body["error"]["message"] == "route not found"
}

async fn the_router_and_the_document_list_the_same_routes(s: TestServer) {
    let routes: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path))
        .collect();
    let documented = s.documented_operations().await;
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "documented, but not routes: {unrouted:?}"
    );
    assert!(
        routes
            .iter()
            .filter(|(_, path)| path.starts_with("/api/v1/"))
            .count()
            > 30,
        "the table holds the API: {routes:?}"
    );
}

/// Each documented operation is answered by its route (whatever the handler makes of a request
/// without credentials or body), and each other method on a documented path is a 405: the only
/// undocumented method the API answers is the CORS preflight of the public widget endpoints.
async fn each_documented_operation_is_answered_and_nothing_else(s: TestServer) {
    let documented = s.documented_operations().await;
    let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
    for path in paths {
        let url = concrete(path);
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ] {
            let (status, body) = s.call(method.clone(), &url, None, None).await;
            let what = format!("{method} {url}: {status} {body}");
            assert!(!is_unrouted(status, &body), "{what}");
            if documented.contains(&(method.to_string(), path.clone())) {
                assert_ne!(status, 405, "{what}");
            } else if method == Method::OPTIONS && path.starts_with("/api/v1/widget/{key}") {
                assert_eq!(status, 204, "a preflight: {what}");
            } else {
                assert_eq!(status, 405, "{what}");
                assert_eq!(body["error"]["code"], "method_not_allowed", "{what}");
            }
        }
    }
}

/// Unknown API paths are JSON 404s whatever the method; any other unknown `GET` is the inbox's
/// HTML shell (its client router draws the page, or its "not found"); the files stay as they are.
async fn other_paths_are_pages_or_json_404s(s: TestServer) {
    for path in [
        "/api/v1/whatever",
        "/api/v1/widgets/1/whatever",
        "/api/v1",
        "/api/whatever",
        "/api",
    ] {
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            let (status, body) = s.call(method.clone(), path, None, None).await;
            assert_eq!(status, 404, "{method} {path}: {body}");
            assert_eq!(body["error"]["code"], "not_found", "{method} {path}");
            assert!(is_unrouted(status, &body), "{method} {path}: {body}");
        }
    }

    for path in [
        "/",
        "/login",
        "/inbox",
        "/inbox/conversations/5",
        "/settings/notifications",
        "/some/unknown/page",
    ] {
        let response = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{path}"
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self'"), "{path}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"src="/static/app.js""#), "{path}: {html}");
    }

    for (method, path) in [
        (Method::POST, "/some/unknown/page"),
        (Method::PUT, "/inbox"),
        (Method::DELETE, "/"),
    ] {
        let (status, body) = s.call(method.clone(), path, None, None).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{method} {path}");
    }

    for (path, content_type) in [
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/widget.js", "text/javascript; charset=utf-8"),
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/static/app.css", "text/css; charset=utf-8"),
        ("/healthz", "application/json"),
    ] {
        let response = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
    }
    // Every module of the inbox (each file in web/inbox) is served as a script; a name that is
    // not one is a 404.
    let modules = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/inbox")).unwrap();
    for entry in modules {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let response = s
            .client
            .get(format!("{}/static/inbox/{name}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(
            response.headers()["content-type"],
            "text/javascript; charset=utf-8",
            "{name}"
        );
    }
    let (status, body) = s
        .call(Method::GET, "/static/inbox/nope.js", None, None)
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = s.call(Method::POST, "/static/app.js", None, None).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

on_both!(
    the_router_and_the_document_list_the_same_routes,
    each_documented_operation_is_answered_and_nothing_else,
    other_paths_are_pages_or_json_404s,
);
