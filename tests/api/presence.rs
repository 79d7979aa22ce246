//! Presence under racing toggles: the last `operator.availability_changed` an open tab sees
//! always matches the stored availability.

use std::time::Duration;

use serde_json::Value;

use crate::common::TestServer;
use crate::on_both;

async fn the_last_presence_event_matches_the_stored_state(s: TestServer) {
    let owner = s.signup("Acme").await;
    let ana = s.add_operator(&owner, "Ana").await;
    let mut tab = s.inbox_stream(&owner).await;
    // Ana starts Available; the tab has seen nothing of her yet.
    let mut last_seen = "available".to_owned();
    for trial in 0..60 {
        tokio::join!(
            s.set_availability(&ana, "away"),
            s.set_availability(&ana, "available")
        );
        for event in tab.until_quiet(Duration::from_millis(150)).await {
            if event["type"] == "operator.availability_changed" && event["operator_id"] == ana.id {
                last_seen = event["availability"].as_str().unwrap().to_owned();
            }
        }
        let (_, me): (u16, Value) = s.me(&ana).await;
        assert_eq!(
            me["availability"], last_seen,
            "trial {trial}: the tab shows {last_seen} but {me} is stored"
        );
    }
}

on_both!(the_last_presence_event_matches_the_stored_state);
