//! Every routing rule of SPEC section 3, over HTTP.

use serde_json::json;

use crate::common::{Op, TestServer, Widget};
use crate::on_both;

async fn assignee_after_handover(s: &TestServer, viewer: &Op, widget: &Widget) -> Option<i64> {
    let chat = s.start_chat(widget, "hello").await;
    s.handover(widget, &chat).await;
    s.conversation(viewer, chat.id).await["assignee_id"].as_i64()
}

async fn manual_mode_waits_in_the_unassigned_queue(s: TestServer) {
    let owner = s.signup("Acme").await;
    let widget = s.widget(&owner, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    s.handover(&widget, &chat).await;
    let conv = s.conversation(&owner, chat.id).await;
    assert_eq!(conv["status"], "handed_off");
    assert_eq!(conv["assignee_id"], json!(null));
    assert_eq!(conv["waiting_reason"], "manual_mode");
    assert_eq!(conv["assignment_events"], json!([]));
    let (_, list) = s.conversations(&owner, "?view=unassigned").await;
    assert_eq!(list["items"][0]["id"], chat.id);
    let last = conv["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["author"], "system",
        "the handover is noted in the chat"
    );
    assert_eq!(
        list["items"][0]["last_message_preview"], conv["messages"][0]["body"],
        "the row previews what the visitor said, not the AI's answer or the system note"
    );
}

async fn round_robin_rotates_in_join_order_skips_away_and_wraps(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let cy = s.add_operator(&ana, "Cy").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(assignee_after_handover(&s, &ana, &widget).await.unwrap());
    }
    assert_eq!(
        got,
        vec![ana.id, bob.id, cy.id, ana.id],
        "join order, wrapping"
    );

    s.set_availability(&bob, "away").await;
    let next = assignee_after_handover(&s, &ana, &widget).await.unwrap();
    assert_eq!(next, cy.id, "Bob is away and skipped");
    s.set_availability(&bob, "available").await;
    let next = assignee_after_handover(&s, &ana, &widget).await.unwrap();
    assert_eq!(next, ana.id, "rotation carries on from the cursor (Cy)");
    let next = assignee_after_handover(&s, &ana, &widget).await.unwrap();
    assert_eq!(next, bob.id, "Bob is back in rotation");

    let conv_events = s.conversation(&ana, 1).await;
    assert_eq!(conv_events["assignment_events"][0]["reason"], "round_robin");
    assert_eq!(
        conv_events["assignment_events"][0]["actor_id"],
        json!(null),
        "the system decided"
    );
}

async fn round_robin_cursor_is_per_widget_and_respects_eligibility(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let cy = s.add_operator(&ana, "Cy").await;
    let pinned = s.widget(&ana, "round_robin", &[bob.id, cy.id]).await;
    let open = s.widget(&ana, "round_robin", &[]).await;
    assert_eq!(
        assignee_after_handover(&s, &ana, &pinned).await,
        Some(bob.id)
    );
    assert_eq!(
        assignee_after_handover(&s, &ana, &open).await,
        Some(ana.id),
        "own cursor"
    );
    assert_eq!(
        assignee_after_handover(&s, &ana, &pinned).await,
        Some(cy.id)
    );
    assert_eq!(
        assignee_after_handover(&s, &ana, &pinned).await,
        Some(bob.id),
        "Ana is not eligible"
    );
}

async fn no_candidate_leaves_the_chat_waiting(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "round_robin", &[bob.id]).await;
    s.set_availability(&bob, "away").await;
    let chat = s.start_chat(&widget, "hi").await;
    s.handover(&widget, &chat).await;
    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(conv["assignee_id"], json!(null));
    assert_eq!(conv["waiting_reason"], "no_available_operator");

    let lightest = s.widget(&ana, "lightest_load", &[bob.id]).await;
    assert_eq!(assignee_after_handover(&s, &ana, &lightest).await, None);
}

async fn lightest_load_picks_the_least_loaded_then_least_recent_then_lowest_id(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let cy = s.add_operator(&ana, "Cy").await;
    let manual = s.widget(&ana, "manual", &[]).await;
    let widget = s.widget(&ana, "lightest_load", &[]).await;

    // Give Ana two open chats and Bob one, on another widget: load counts across the workspace.
    for (op, n) in [(&ana, 2), (&bob, 1)] {
        for _ in 0..n {
            let chat = s.start_chat(&manual, "x").await;
            let (status, _) = s.claim(op, chat.id).await;
            assert_eq!(status, 200);
        }
    }
    assert_eq!(
        assignee_after_handover(&s, &ana, &widget).await,
        Some(cy.id),
        "Cy has no load"
    );
    // Now Bob 1, Cy 1, Ana 2: Bob was assigned before Cy, so he is least recent.
    assert_eq!(
        assignee_after_handover(&s, &ana, &widget).await,
        Some(bob.id)
    );
    // Bob 2, Cy 1, Ana 2.
    assert_eq!(
        assignee_after_handover(&s, &ana, &widget).await,
        Some(cy.id)
    );

    // Closed chats do not count: close Ana's two, and she is the lightest.
    let (_, mine) = s.conversations(&ana, "?view=mine").await;
    for item in mine["items"].as_array().unwrap() {
        let (status, _) = s.close(&ana, item["id"].as_i64().unwrap()).await;
        assert_eq!(status, 200);
    }
    assert_eq!(
        assignee_after_handover(&s, &ana, &widget).await,
        Some(ana.id)
    );

    let (_, ops) = s.operators(&ana).await;
    let loads: Vec<(i64, i64)> = ops["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_i64().unwrap(), o["load"].as_i64().unwrap()))
        .collect();
    assert_eq!(loads, vec![(ana.id, 1), (bob.id, 2), (cy.id, 2)]);
}

async fn lightest_load_tie_goes_to_never_assigned_then_lowest_id(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "lightest_load", &[]).await;
    assert_eq!(
        assignee_after_handover(&s, &ana, &widget).await,
        Some(ana.id),
        "both never assigned: lowest id"
    );
    let manual = s.widget(&ana, "manual", &[]).await;
    // Bob claims and closes a chat: load back to 0 but he was assigned more recently than Ana.
    let chat = s.start_chat(&manual, "x").await;
    s.claim(&bob, chat.id).await;
    s.close(&bob, chat.id).await;
    let (_, first) = s.conversations(&ana, "?view=mine").await;
    s.close(&ana, first["items"][0]["id"].as_i64().unwrap())
        .await;
    assert_eq!(
        assignee_after_handover(&s, &ana, &widget).await,
        Some(ana.id),
        "Ana assigned least recently"
    );

    // A newcomer who was never assigned beats both at equal load.
    let cy = s.add_operator(&ana, "Cy").await;
    let (_, mine) = s.conversations(&ana, "?view=mine&status=open").await;
    s.close(&ana, mine["items"][0]["id"].as_i64().unwrap())
        .await;
    assert_eq!(
        assignee_after_handover(&s, &ana, &widget).await,
        Some(cy.id),
        "never assigned first"
    );
}

async fn routing_runs_only_on_handover_and_takeover(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let chat = s.start_chat(&widget, "What are your opening hours?").await;
    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(conv["status"], "active", "the AI has it");
    assert_eq!(conv["assignee_id"], json!(null));
    assert_eq!(conv["messages"][1]["author"], "ai");

    let (status, conv) = s.takeover(&ana, chat.id).await;
    assert_eq!(status, 200, "{conv}");
    assert_eq!(conv["status"], "handed_off");
    assert_eq!(conv["assignee_id"], ana.id);
    let detail = s.conversation(&ana, chat.id).await;
    let routed = &detail["assignment_events"][0];
    assert_eq!(routed["reason"], "round_robin");
    assert_eq!(
        routed["actor_id"], ana.id,
        "the operator who took over is the actor, so she is not notified of her own action"
    );
    let (status, body) = s.takeover(&ana, chat.id).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "already_handed_off");

    // A message asking for a human is an AI handover.
    let chat = s.start_chat(&widget, "hello").await;
    let (status, _) = s
        .visitor_says(&widget, &chat, "Can I talk to a real person?")
        .await;
    assert_eq!(status, 201);
    s.visitor_view_until(&widget, &chat, "the AI's handover", |v| {
        v["status"] == "handed_off"
    })
    .await;
    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(conv["status"], "handed_off");
    assert_eq!(conv["assignee_id"], ana.id);
}

async fn routing_settings_are_validated(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let other = s.signup("Other").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let (status, body) = s
        .set_routing(&ana, widget.id, "round_robin", &[other.id])
        .await;
    assert_eq!(status, 400, "another workspace's operator: {body}");
    let (status, _) = s
        .set_routing(&ana, widget.id, "round_robin", &[9_999_999])
        .await;
    assert_eq!(status, 400);
    let (status, _) = s.set_routing(&ana, widget.id, "fastest", &[]).await;
    assert_eq!(status, 400);
    let (status, _) = s.set_routing(&bob, widget.id, "manual", &[]).await;
    assert_eq!(status, 403, "operators cannot change routing");
    let (status, body) = s
        .set_routing(&ana, widget.id, "lightest_load", &[bob.id, bob.id])
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["routing"],
        json!({"mode": "lightest_load", "eligible_operator_ids": [bob.id],
               "reassign_after_secs": null, "auto_close_after_secs": null})
    );
    let (_, fetched) = s.get_widget(&ana, widget.id).await;
    assert_eq!(fetched["routing"], body["routing"]);
    assert!(fetched["key"].as_str().is_some_and(|k| !k.is_empty()));
}

on_both!(
    manual_mode_waits_in_the_unassigned_queue,
    round_robin_rotates_in_join_order_skips_away_and_wraps,
    round_robin_cursor_is_per_widget_and_respects_eligibility,
    no_candidate_leaves_the_chat_waiting,
    lightest_load_picks_the_least_loaded_then_least_recent_then_lowest_id,
    lightest_load_tie_goes_to_never_assigned_then_lowest_id,
    routing_runs_only_on_handover_and_takeover,
    routing_settings_are_validated,
);
