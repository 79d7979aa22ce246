//! Presence under racing toggles: the last `operator.availability_changed` an open tab sees
//! always matches the stored availability.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Socket, TestServer};
use crate::on_both;

async fn the_last_presence_event_matches_the_stored_state(s: TestServer) {
    let owner = s.signup("Acme").await;
    let ana = s.add_operator(&owner, "Ana").await;
    let mut tab = Socket::connect(&s.base, "/api/v1/events", Some(&owner.token))
        .await
        .unwrap();
    // Ana starts Available; the tab has seen nothing of her yet.
    let mut last_seen = "available".to_owned();
    for trial in 0..60 {
        let put = |availability: &'static str| {
            let s = &s;
            let ana = &ana;
            async move {
                s.put(
                    ana,
                    "/api/v1/me/availability",
                    json!({ "availability": availability }),
                )
                .await
            }
        };
        let (away, available) = tokio::join!(put("away"), put("available"));
        assert_eq!((away.0, available.0), (200, 200), "trial {trial}");
        for event in tab.until_quiet(Duration::from_millis(150)).await {
            if event["type"] == "operator.availability_changed" && event["operator_id"] == ana.id {
                last_seen = event["availability"].as_str().unwrap().to_owned();
            }
        }
        let (_, me): (u16, Value) = s.get(&ana, "/api/v1/me").await;
        assert_eq!(
            me["availability"], last_seen,
            "trial {trial}: the tab shows {last_seen} but {me} is stored"
        );
    }
}

on_both!(the_last_presence_event_matches_the_stored_state);
