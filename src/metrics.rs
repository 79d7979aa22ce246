//! The process's Prometheus metrics (SPEC 13). One `Metrics`, made at start-up, is handed to
//! what records into it: the HTTP middleware, the service (routing decisions, counted when
//! their transaction commits), the notification worker and the event streams. What the
//! database knows (the queue, the outbox, the pool) is read when the metrics are scraped. The
//! registry is the process's own, not a global one, so tests can run several servers in one
//! process.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode_registry;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::RoutingMode;
use crate::domain::routing::{Decision, WaitingReason};
use crate::store::{Store, gauges};
use crate::timefmt::now_millis;

/// The content type of the exposition: Prometheus's text format 0.0.4. The encoder writes the
/// OpenMetrics text lines without the closing `# EOF`, which Prometheus's text parser reads.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The route of a request no route matched (the inbox's pages, unknown paths), so that
/// arbitrary paths cannot each make a series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The notification channels, each reported even while nothing is pending on it.
const CHANNELS: [&str; 2] = ["email", "push"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    mode: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// What routing made of a conversation, as the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingOutcome {
    /// Given to a teammate.
    Assigned,
    /// No eligible teammate could take it: it waits in the queue.
    Queued,
    /// The widget routes manually: it waits for someone to claim it.
    Unassigned,
    /// Taken from the queue and given to a teammate when one could take it.
    Drained,
    /// Unanswered, moved to a teammate not yet given it.
    Reassigned,
    /// Unanswered, but nobody else could take it: it stays with its assignee.
    Kept,
}

impl RoutingOutcome {
    pub fn of(decision: &Decision) -> RoutingOutcome {
        match decision.waiting_reason() {
            None => RoutingOutcome::Assigned,
            Some(WaitingReason::NoAvailableOperator) => RoutingOutcome::Queued,
            Some(WaitingReason::ManualMode) => RoutingOutcome::Unassigned,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            RoutingOutcome::Assigned => "assigned",
            RoutingOutcome::Queued => "queued",
            RoutingOutcome::Unassigned => "unassigned",
            RoutingOutcome::Drained => "drained",
            RoutingOutcome::Reassigned => "reassigned",
            RoutingOutcome::Kept => "kept",
        }
    }
}

/// The two kinds of live stream, as the `kind` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Inbox,
    Visitor,
}

impl StreamKind {
    fn as_str(self) -> &'static str {
        match self {
            StreamKind::Inbox => "inbox",
            StreamKind::Visitor => "visitor",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: HistogramFamily<RouteLabels>,
    routing_decisions: Family<DecisionLabels, Counter>,
    queue_length: Gauge,
    queue_oldest_wait: Gauge<f64, AtomicU64>,
    notifications_pending: Family<ChannelLabels, Gauge>,
    notification_delivery: HistogramFamily<ChannelLabels>,
    streams_open: Family<KindLabels, Gauge>,
    db_connections: Family<StateLabels, Gauge>,
}

/// Counts one open stream for as long as it is held.
pub struct OpenStream {
    gauge: Gauge,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

fn request_buckets() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn delivery_buckets() -> Histogram {
    // 50 ms to about 7 min: a delivery retried with backoff takes minutes.
    Histogram::new(exponential_buckets(0.05, 2.0, 14))
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let metrics = Metrics {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(request_buckets),
            routing_decisions: Family::default(),
            queue_length: Gauge::default(),
            queue_oldest_wait: Gauge::default(),
            notifications_pending: Family::default(),
            notification_delivery: Family::new_with_constructor(delivery_buckets),
            streams_open: Family::default(),
            db_connections: Family::default(),
        };
        Arc::new(metrics.registered())
    }

    fn registered(mut self) -> Metrics {
        let r = &mut self.registry;
        // Counters are named without `_total`: the encoder adds it.
        r.register(
            "switchboard_http_requests",
            "HTTP requests answered, by route template and status",
            self.http_requests.clone(),
        );
        r.register(
            "switchboard_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            self.http_duration.clone(),
        );
        r.register(
            "switchboard_routing_decisions",
            "Routing decisions committed, by the widget's mode and what became of the chat",
            self.routing_decisions.clone(),
        );
        r.register(
            "switchboard_queue_length",
            "Chats handed to the team, unassigned, on widgets that route automatically",
            self.queue_length.clone(),
        );
        r.register(
            "switchboard_queue_oldest_wait_seconds",
            "How long the oldest queued chat has waited since it joined the queue (0 when it is empty)",
            self.queue_oldest_wait.clone(),
        );
        r.register(
            "switchboard_notifications_pending",
            "Notifications queued and neither delivered nor given up, by channel",
            self.notifications_pending.clone(),
        );
        r.register(
            "switchboard_notification_delivery_seconds",
            "Time from queueing a notification to its delivery, by channel",
            self.notification_delivery.clone(),
        );
        r.register(
            "switchboard_streams_open",
            "Live event streams open on this process, by kind",
            self.streams_open.clone(),
        );
        r.register(
            "switchboard_db_connections",
            "This process's database connections, by state",
            self.db_connections.clone(),
        );
        self
    }

    /// One answered request; `route` is the route's template or `UNMATCHED_ROUTE`.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        self.http_requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// One committed routing decision.
    pub fn routing_decision(&self, mode: RoutingMode, outcome: RoutingOutcome) {
        self.routing_decisions
            .get_or_create(&DecisionLabels {
                mode: mode.as_str(),
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// A notification delivered `took` after it was queued.
    pub fn notification_delivered(&self, channel: &str, took: Duration) {
        self.notification_delivery
            .get_or_create(&ChannelLabels {
                channel: channel.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// A stream opened; it counts until the returned guard is dropped.
    pub fn stream_opened(&self, kind: StreamKind) -> OpenStream {
        let gauge = self.streams_open.get_or_create_owned(&KindLabels {
            kind: kind.as_str(),
        });
        gauge.inc();
        OpenStream { gauge }
    }

    /// The exposition: first the gauges the database knows are read, then everything is
    /// encoded. While the database cannot be reached they keep their last values, and the rest
    /// is still served.
    pub async fn exposition(&self, store: &Store) -> String {
        if let Err(e) = self.read_database(store).await {
            tracing::debug!(error = %e, "metrics: the database gauges keep their last values");
        }
        let mut text = String::new();
        encode_registry(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }

    async fn read_database(&self, store: &Store) -> crate::store::StoreResult<()> {
        let pool = store.pool_connections();
        self.db_connections
            .get_or_create(&StateLabels { state: "in_use" })
            .set(pool.in_use.into());
        self.db_connections
            .get_or_create(&StateLabels { state: "idle" })
            .set(pool.idle.into());
        let mut conn = store.read().await?;
        let queue = gauges::queue(&mut conn).await?;
        self.queue_length.set(queue.length);
        let oldest_wait = queue
            .oldest_since
            .map_or(0.0, |since| (now_millis() - since).max(0) as f64 / 1000.0);
        self.queue_oldest_wait.set(oldest_wait);
        let pending = gauges::notifications_pending(&mut conn).await?;
        for channel in CHANNELS {
            let count = pending
                .iter()
                .find(|(c, _)| c == channel)
                .map_or(0, |(_, n)| *n);
            self.notifications_pending
                .get_or_create(&ChannelLabels {
                    channel: channel.to_owned(),
                })
                .set(count);
        }
        Ok(())
    }
}
