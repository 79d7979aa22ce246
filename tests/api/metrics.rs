//! `/metrics` (SPEC 13), read with the Prometheus project's own text-format parser (its Python
//! client's): the series move when a handover is routed, label routes by template, and are
//! served on their own listener only.

use std::io::Write;
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::common::{Db, TestServer, free_port};

/// Parses the exposition into its samples; prints what the parser rejects.
const PARSER: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps([
    [s.name, s.labels, s.value]
    for family in text_string_to_metric_families(sys.stdin.read())
    for s in family.samples
]))
"#;

#[derive(Deserialize)]
struct Sample(String, std::collections::HashMap<String, String>, f64);

/// Whether the parser is installed; outside CI a test without it is skipped with the reason
/// printed, in CI it fails.
fn parser_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import prometheus_client.parser"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI needs Python's prometheus_client (pip install prometheus_client)");
        }
        eprintln!(
            "SKIPPED: Python's prometheus_client is not installed (pip install prometheus_client)"
        );
    }
    found
}

fn parse(text: &str) -> Vec<Sample> {
    let mut python = Command::new("python3")
        .args(["-c", PARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    python
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not the Prometheus text format:\n{text}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A server with `--metrics-listen` on a port of its own, and that port's `/metrics` URL.
async fn server(db: Db) -> Option<(TestServer, String)> {
    if !parser_available() {
        return None;
    }
    let port = free_port();
    let address = format!("127.0.0.1:{port}").parse().unwrap();
    let server = TestServer::start_with(db, |config| config.metrics_listen = Some(address)).await?;
    Some((server, format!("http://127.0.0.1:{port}/metrics")))
}

async fn scrape(s: &TestServer, url: &str) -> Vec<Sample> {
    let resp = s.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    parse(&resp.text().await.unwrap())
}

/// The sum of the samples `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|Sample(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|Sample(_, _, v)| v)
        .sum()
}

/// Whether a sample `name` has the label `key` = `value`.
fn has(samples: &[Sample], name: &str, key: &str, value: &str) -> bool {
    samples
        .iter()
        .any(|Sample(n, l, _)| n == name && l.get(key).map(String::as_str) == Some(value))
}

/// Whether any `route` label contains `part`.
fn any_route_contains(samples: &[Sample], part: &str) -> bool {
    samples
        .iter()
        .any(|Sample(_, l, _)| l.get("route").is_some_and(|r| r.contains(part)))
}

async fn metrics_move_when_a_handover_is_routed(db: Db) {
    let Some((s, metrics_url)) = server(db).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let before = scrape(&s, &metrics_url).await;
    let assigned = [("mode", "round_robin"), ("outcome", "assigned")];
    let queued = [("mode", "round_robin"), ("outcome", "queued")];
    let decisions = "switchboard_routing_decisions_total";
    assert_eq!(value(&before, decisions, &assigned), 0.0);
    assert_eq!(value(&before, "switchboard_queue_length", &[]), 0.0);

    let chat = s.start_chat(&widget, "hello").await;
    s.handover(&widget, &chat).await;
    s.set_availability(&ana, "away").await;
    let waiting = s.start_chat(&widget, "anyone?").await;
    s.handover(&widget, &waiting).await;
    let inbox = s.inbox_stream(&ana).await;

    let after = scrape(&s, &metrics_url).await;
    assert_eq!(
        value(&after, decisions, &assigned),
        1.0,
        "the first handover was assigned"
    );
    assert_eq!(
        value(&after, decisions, &queued),
        1.0,
        "the second waits: Ana is away"
    );
    assert_eq!(value(&after, "switchboard_queue_length", &[]), 1.0);
    assert!(value(&after, "switchboard_queue_oldest_wait_seconds", &[]) >= 0.0);
    assert_eq!(
        value(&after, "switchboard_streams_open", &[("kind", "inbox")]),
        1.0
    );
    let chats_route = "/api/v1/widget/{key}/conversations";
    assert_eq!(
        value(
            &after,
            "switchboard_http_requests_total",
            &[("route", chats_route), ("status", "201")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &after,
            "switchboard_http_request_duration_seconds_count",
            &[("route", chats_route)]
        ),
        2.0,
        "each request is timed under its template"
    );
    assert!(
        !any_route_contains(&after, &widget.key),
        "no route label carries a key"
    );
    for channel in ["email", "push"] {
        assert!(has(
            &after,
            "switchboard_notifications_pending",
            "channel",
            channel
        ));
    }
    for state in ["idle", "in_use"] {
        assert!(has(&after, "switchboard_db_connections", "state", state));
    }

    // A path no route matches counts under one label, whatever it is.
    s.client.get(s.url("/some/page/42")).send().await.unwrap();
    drop(inbox);
    let last = scrape(&s, &metrics_url).await;
    assert!(
        value(
            &last,
            "switchboard_http_requests_total",
            &[("route", "unmatched")]
        ) >= 1.0
    );
    assert!(!any_route_contains(&last, "/some/page"));
}

async fn the_main_port_does_not_serve_metrics(db: Db) {
    let Some((s, _)) = server(db).await else {
        return;
    };
    let body = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("switchboard_http_requests"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_when_a_handover_is_routed_sqlite() {
    metrics_move_when_a_handover_is_routed(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_when_a_handover_is_routed_postgres() {
    metrics_move_when_a_handover_is_routed(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_port_does_not_serve_metrics_sqlite() {
    the_main_port_does_not_serve_metrics(Db::Sqlite).await;
}
