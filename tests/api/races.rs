//! Concurrency is a feature: concurrent handovers never double-assign or read a stale cursor
//! or stale loads, and of simultaneous claims exactly one wins.

use std::collections::HashMap;

use futures_util::future::join_all;
use futures_util::{StreamExt, stream};

use crate::common::{Api, Chat, IfAssignee, Op, TestServer, Widget};
use crate::on_both;

/// Requests in flight at once while setting up or checking (the races themselves are not
/// throttled).
const SETUP_CONCURRENCY: usize = 32;

/// Starts `k` chats, then asks for a person in all of them at once (the AI may still be
/// answering some: its late turn must not route them again), spreading the requests over
/// `nodes`. Returns how many each operator got, checking that every chat got
/// exactly one assignment.
pub async fn concurrent_handovers(
    nodes: &[Api],
    viewer: &Op,
    widget: &Widget,
    k: usize,
) -> HashMap<i64, usize> {
    let chats: Vec<(Api, Chat)> = stream::iter(0..k)
        .map(|i| {
            let api = nodes[i % nodes.len()].clone();
            async move {
                let chat = api.open_chat(widget, "hello").await;
                (api, chat)
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    // A node sheds what it cannot serve in time with a 503 (`Retry-After`); the client tries
    // again, as a widget does. A shed request changed nothing, so the counts below still hold.
    let requests = chats.iter().map(|(api, chat)| {
        let (api, widget, chat) = (api.clone(), widget.clone(), chat.clone());
        tokio::spawn(async move {
            let mut shed = 0;
            loop {
                let (status, body) = api.try_handover(&widget, &chat).await;
                match status {
                    200 => return shed,
                    503 => shed += 1,
                    _ => panic!("handover: {status} {body}"),
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    });
    let shed: usize = join_all(requests)
        .await
        .into_iter()
        .map(|result| result.expect("handover task"))
        .sum();
    if shed > 0 {
        eprintln!("concurrent handovers: {shed} shed with 503 and tried again");
    }
    let assignees: Vec<i64> = stream::iter(&chats)
        .map(|(_, chat)| async move {
            let conv = nodes[0].conversation(viewer, chat.id).await;
            let events = conv["assignment_events"].as_array().unwrap();
            assert_eq!(
                events.len(),
                1,
                "exactly one assignment for {}: {conv}",
                chat.id
            );
            conv["assignee_id"].as_i64().expect("assigned")
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    let mut counts = HashMap::new();
    for assignee in assignees {
        *counts.entry(assignee).or_default() += 1;
    }
    counts
}

/// The difference between the most and the fewest chats any of `ops` got.
pub fn spread(counts: &HashMap<i64, usize>, ops: &[Op]) -> usize {
    let per_op: Vec<usize> = ops
        .iter()
        .map(|op| counts.get(&op.id).copied().unwrap_or(0))
        .collect();
    per_op.iter().max().unwrap() - per_op.iter().min().unwrap()
}

/// What a racer does to an unassigned chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Claim it, on condition that nobody has (`if_assignee_id: null`).
    Claim,
    /// Reply, which claims it only while nobody has.
    Reply,
}

/// All `racers` act on one unassigned chat at once, spread over `nodes`: exactly one becomes
/// the assignee, every losing claim gets 409 naming the winner, and every reply lands without
/// reassigning the chat.
pub async fn race_for_one_chat(nodes: &[Api], racers: &[(Op, Move)], widget: &Widget) {
    let chat = nodes[0].start_chat(widget, "hello").await;
    nodes[0].handover(widget, &chat).await;
    let requests = racers.iter().enumerate().map(|(i, (op, action))| {
        let api = nodes[i % nodes.len()].clone();
        let (op, action) = (op.clone(), *action);
        let id = chat.id;
        tokio::spawn(async move {
            let answer = match action {
                Move::Claim => api.claim_if(&op, id, IfAssignee::Nobody).await,
                Move::Reply => api.reply(&op, id, "I'm on it").await,
            };
            (op.id, action, answer)
        })
    });
    let results: Vec<_> = join_all(requests)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    let conv = nodes[0].conversation(&racers[0].0, chat.id).await;
    let events = conv["assignment_events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "one assignment: {conv} after {results:?}");
    let winner = events[0]["to_operator_id"].as_i64().unwrap();
    assert_eq!(conv["assignee_id"], winner);
    let (_, winning_move) = racers
        .iter()
        .find(|(op, _)| op.id == winner)
        .expect("a racer won");
    let reason = match winning_move {
        Move::Claim => "claim",
        Move::Reply => "reply",
    };
    assert_eq!(events[0]["reason"], reason, "{conv}");
    for (id, action, (status, body)) in &results {
        match action {
            Move::Claim if *id == winner => assert_eq!(*status, 200, "{body}"),
            Move::Claim => {
                assert_eq!(*status, 409, "{body}");
                assert_eq!(
                    body["error"]["current_assignee_id"], winner,
                    "losers are told who won"
                );
            }
            Move::Reply => assert_eq!(*status, 201, "{body}"),
        }
    }
    let replies = racers.iter().filter(|(_, m)| *m == Move::Reply).count();
    let operator_messages = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "operator")
        .count();
    assert_eq!(operator_messages, replies, "no reply lost");
}

/// `trials` races of 2 to 8 racers of `team` (which has at least 8), all claiming, all
/// replying, or mixed.
pub async fn races_for_chats(nodes: &[Api], team: &[Op], widget: &Widget, trials: usize) {
    for trial in 0..trials {
        let size = 2 + trial % 7;
        let racers: Vec<(Op, Move)> = team[..size]
            .iter()
            .enumerate()
            .map(|(j, op)| {
                let claims = match trial % 3 {
                    0 => true,
                    1 => false,
                    _ => (trial + j) % 2 == 0,
                };
                let action = if claims { Move::Claim } else { Move::Reply };
                (op.clone(), action)
            })
            .collect();
        race_for_one_chat(nodes, &racers, widget).await;
    }
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
    let ops = team(&s, &owner, 8).await;
    let widget = s.widget(&owner, "manual", &[]).await;
    races_for_chats(&[(*s).clone()], &ops, &widget, 21).await;
}

on_both!(
    concurrent_round_robin_handovers_split_exactly,
    concurrent_lightest_load_handovers_stay_level,
    simultaneous_claims_and_replies_have_one_winner,
);
