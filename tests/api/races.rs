//! Concurrency is a feature: concurrent handovers never double-assign or read a stale cursor
//! or stale loads, and of simultaneous claims exactly one wins.

use std::collections::HashMap;

use futures_util::future::join_all;
use serde_json::json;

use crate::common::{Api, Chat, Op, TestServer, Widget};
use crate::on_both;

/// Starts `k` AI-handled chats, then asks for a person in all of them at once, spreading the
/// requests over `nodes`. Returns how many each operator got, checking that every chat got
/// exactly one assignment.
pub async fn concurrent_handovers(
    nodes: &[Api],
    viewer: &Op,
    widget: &Widget,
    k: usize,
) -> HashMap<i64, usize> {
    let mut chats: Vec<Chat> = Vec::new();
    for i in 0..k {
        chats.push(nodes[i % nodes.len()].start_chat(widget, "hello").await);
    }
    let requests = chats.iter().enumerate().map(|(i, chat)| {
        let api = nodes[i % nodes.len()].clone();
        let (widget, chat) = (widget.clone(), chat.clone());
        tokio::spawn(async move { api.handover(&widget, &chat).await })
    });
    for result in join_all(requests).await {
        result.expect("handover task");
    }
    let mut counts = HashMap::new();
    for chat in &chats {
        let conv = nodes[0].conversation(viewer, chat.id).await;
        let events = conv["assignment_events"].as_array().unwrap();
        assert_eq!(
            events.len(),
            1,
            "exactly one assignment for {}: {conv}",
            chat.id
        );
        *counts
            .entry(conv["assignee_id"].as_i64().expect("assigned"))
            .or_default() += 1;
    }
    counts
}

/// All `claimers` claim one unassigned chat at once (with `if_assignee_id: null`): exactly
/// one wins and every other is told who did.
pub async fn simultaneous_claims(nodes: &[Api], claimers: &[Op], widget: &Widget) {
    let chat = nodes[0].start_chat(widget, "hello").await;
    nodes[0].handover(widget, &chat).await;
    let requests = claimers.iter().enumerate().map(|(i, op)| {
        let api = nodes[i % nodes.len()].clone();
        let op = op.clone();
        let path = format!("/api/v1/conversations/{}/claim", chat.id);
        tokio::spawn(async move {
            (
                op.id,
                api.post(&op, &path, json!({"if_assignee_id": null})).await,
            )
        })
    });
    let results: Vec<_> = join_all(requests)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<i64> = results
        .iter()
        .filter(|(_, (status, _))| *status == 200)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {results:?}");
    for (_, (status, body)) in results.iter().filter(|(_, (status, _))| *status != 200) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(
            body["error"]["current_assignee_id"], winners[0],
            "losers are told who won"
        );
    }
    let conv = nodes[0].conversation(&claimers[0], chat.id).await;
    assert_eq!(conv["assignee_id"], winners[0]);
    assert_eq!(conv["assignment_events"].as_array().unwrap().len(), 1);
}

/// All `repliers` reply to one unassigned chat at once: every reply lands, exactly one of
/// them becomes the assignee.
pub async fn simultaneous_replies(nodes: &[Api], repliers: &[Op], widget: &Widget) {
    let chat = nodes[0].start_chat(widget, "hello").await;
    nodes[0].handover(widget, &chat).await;
    let requests = repliers.iter().enumerate().map(|(i, op)| {
        let api = nodes[i % nodes.len()].clone();
        let op = op.clone();
        let path = format!("/api/v1/conversations/{}/messages", chat.id);
        tokio::spawn(async move { api.post(&op, &path, json!({"body": "I'm on it"})).await })
    });
    for result in join_all(requests).await {
        assert_eq!(result.unwrap().0, 201);
    }
    let conv = nodes[0].conversation(&repliers[0], chat.id).await;
    let events = conv["assignment_events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "one self-claim: {conv}");
    assert_eq!(events[0]["reason"], "reply");
    assert_eq!(conv["assignee_id"], events[0]["to_operator_id"]);
    let operator_messages = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "operator")
        .count();
    assert_eq!(operator_messages, repliers.len(), "no reply lost");
}

pub async fn team(api: &Api, owner: &Op, n: usize) -> Vec<Op> {
    let mut ops = vec![owner.clone()];
    for i in 1..n {
        ops.push(api.add_operator(owner, &format!("Op{i}")).await);
    }
    ops
}

async fn concurrent_round_robin_handovers_split_exactly(s: TestServer) {
    let owner = s.signup("Acme").await;
    let ops = team(&s, &owner, 3).await;
    let widget = s.widget(&owner, "round_robin", &[]).await;
    let counts = concurrent_handovers(&[(*s).clone()], &owner, &widget, 30).await;
    for op in &ops {
        assert_eq!(counts.get(&op.id), Some(&10), "{counts:?}");
    }
}

async fn concurrent_lightest_load_handovers_stay_level(s: TestServer) {
    let owner = s.signup("Acme").await;
    let ops = team(&s, &owner, 4).await;
    let widget = s.widget(&owner, "lightest_load", &[]).await;
    let counts = concurrent_handovers(&[(*s).clone()], &owner, &widget, 40).await;
    for op in &ops {
        assert_eq!(counts.get(&op.id), Some(&10), "{counts:?}");
    }
}

async fn simultaneous_claims_and_replies_have_one_winner(s: TestServer) {
    let owner = s.signup("Acme").await;
    let ops = team(&s, &owner, 6).await;
    let widget = s.widget(&owner, "manual", &[]).await;
    for _ in 0..5 {
        simultaneous_claims(&[(*s).clone()], &ops, &widget).await;
        simultaneous_replies(&[(*s).clone()], &ops, &widget).await;
    }
}

on_both!(
    concurrent_round_robin_handovers_split_exactly,
    concurrent_lightest_load_handovers_stay_level,
    simultaneous_claims_and_replies_have_one_winner,
);
