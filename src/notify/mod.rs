//! Personal "assigned to you" notifications, the emails about someone's account
//! (invitations, password resets) and the replies a visitor missed, delivered durably: rows are queued in the notification
//! outbox in the same transaction as the change that causes them (see `service`), and this
//! worker leases due rows, delivers them by email or web push, and records the outcome,
//! retrying with backoff while a channel fails. It survives restarts (the outbox is the
//! state) and runs on every node: leases keep two nodes off the same row.

pub mod account_email;
pub mod content;
pub mod email;
pub mod push;
pub mod visitor_email;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::Notify;
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;

use self::account_email::{InvitationEmail, PasswordResetEmail};
use self::content::Notice;
use self::email::{Mail, Mailer};
use self::push::{PushOutcome, Pusher};
use self::visitor_email::VisitorRepliesEmail;
use crate::domain::Millis;
use crate::domain::notification::{OutboxKind, gives_up, retry_delay};
use crate::metrics::Metrics;
use crate::store::notifications::{self, OutboxRow};
use crate::store::reads;
use crate::store::{Store, StoreResult};
use crate::timefmt::now_millis;

/// Rows leased per round.
const BATCH: u32 = 20;
/// How often the outbox is looked at without a wake-up (retries, other nodes' rows).
const POLL: Duration = Duration::from_secs(1);
/// How often recording an outcome is tried again while the database is unreachable.
const RECORD_RETRY: Duration = Duration::from_secs(1);

pub struct Worker {
    pub store: Store,
    pub mailer: Option<Arc<Mailer>>,
    pub pusher: Arc<Pusher>,
    pub wake: Arc<Notify>,
    pub max_backoff: Duration,
    /// How long a leased row stays off other workers; a delivery attempt gets two thirds of
    /// it, so the outcome is recorded before anyone else may take the row.
    pub lease: Duration,
    /// The process's shutdown signal, watched while the worker waits for due rows: a round
    /// under way is finished and recorded first.
    pub shutdown: CancellationToken,
    pub metrics: Arc<Metrics>,
}

/// The rows of one lease: the `locked_until` they were given, and when (on this node's
/// clock, counted from before the lease was taken) it runs out.
struct Lease {
    until: Millis,
    deadline: Instant,
}

enum Outcome {
    Sent,
    Retry(String),
    Failed(String),
    /// The push subscription is gone: delete it (and its queued rows).
    SubscriptionGone(i64),
    /// Not to be sent any more; closed like a failure, with this reason.
    NotNeeded(&'static str),
}

impl Worker {
    pub async fn run(self) {
        loop {
            // Taken before the lease is: deadlines counted from here end before the lease does.
            let leased_at = Instant::now();
            let (rows, lease_until) = match self.lease().await {
                Ok(leased) => leased,
                Err(e) => {
                    if e.is_unavailable() {
                        tracing::debug!(error = %e, "cannot read the notification outbox; retrying");
                    } else {
                        tracing::warn!(error = %e, "cannot read the notification outbox; retrying");
                    }
                    (Vec::new(), 0)
                }
            };
            if rows.is_empty() {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = self.shutdown.cancelled() => return,
                }
                continue;
            }
            let lease = Lease {
                until: lease_until,
                deadline: leased_at + self.lease,
            };
            join_all(rows.iter().map(|row| self.deliver_and_record(row, &lease))).await;
        }
    }

    /// Leases due rows; returns them and when their lease ends.
    async fn lease(&self) -> StoreResult<(Vec<OutboxRow>, Millis)> {
        let mut tx = self.store.write().await?;
        let now = now_millis();
        let until = now + self.lease.as_millis() as Millis;
        let backend = tx.backend();
        let rows = notifications::lease_due(tx.conn(), backend, now, until, BATCH).await?;
        tx.commit().await?;
        Ok((rows, until))
    }

    /// Records each outcome as soon as it is known: a crash after a send and before its
    /// record repeats that send, so the gap is kept as short as it can be. While the database
    /// cannot take the record, it is tried again for as long as the lease holds; after that the
    /// row is another worker's to take.
    async fn deliver_and_record(&self, row: &OutboxRow, lease: &Lease) {
        let delivery_deadline = lease.deadline - self.lease / 3;
        let outcome = match timeout_at(delivery_deadline, self.deliver(row)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Retry("delivery timed out".to_owned()),
        };
        loop {
            let error = match timeout_at(lease.deadline, self.record(row, lease, &outcome)).await {
                Ok(Ok(true)) => return,
                Ok(Ok(false)) => {
                    tracing::warn!(
                        id = row.id,
                        "a notification's outcome was not recorded: its lease ran out (another worker has it), or it was cancelled, or its subscription was removed"
                    );
                    return;
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "the lease ran out".to_owned(),
            };
            if Instant::now() + RECORD_RETRY >= lease.deadline {
                tracing::warn!(%error, id = row.id, "cannot record a notification outcome; its lease will run out");
                return;
            }
            // Only while the database is unreachable, which the store reports once.
            tracing::debug!(%error, id = row.id, "cannot record a notification outcome; retrying");
            tokio::time::sleep(RECORD_RETRY).await;
        }
    }

    async fn deliver(&self, row: &OutboxRow) -> Outcome {
        match row.channel.as_str() {
            "email" if self.opened_while_waiting(row).await => {
                Outcome::NotNeeded("the conversation was opened before the email was due")
            }
            "email" => match mail(row) {
                Ok(mail) => self.send_email(&mail, &row.idempotency_key).await,
                Err(e) => Outcome::Failed(format!("unreadable payload: {e}")),
            },
            "push" => self.push(row).await,
            other => Outcome::Failed(format!("unknown channel {other:?}")),
        }
    }

    /// Whether a delayed "assigned to you" email's chat was opened by its recipient while it
    /// waited. When the database cannot say, the email is sent: one too many beats none.
    async fn opened_while_waiting(&self, row: &OutboxRow) -> bool {
        let (OutboxKind::Assignment, Some(operator_id)) = (row.kind, row.operator_id) else {
            return false;
        };
        let Ok(Notice {
            conversation_id,
            unless_opened_since: Some(since),
            ..
        }) = serde_json::from_str::<Notice>(&row.payload)
        else {
            return false;
        };
        match self.store.read().await {
            Ok(mut conn) => reads::opened_since(&mut conn, operator_id, conversation_id, since)
                .await
                .unwrap_or(false),
            Err(_) => false,
        }
    }

    async fn send_email(&self, mail: &Mail, idempotency_key: &str) -> Outcome {
        match &self.mailer {
            Some(mailer) => match mailer.send(mail, idempotency_key).await {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Retry(e),
            },
            None => Outcome::Retry("email is not configured (--smtp-url)".to_owned()),
        }
    }

    async fn push(&self, row: &OutboxRow) -> Outcome {
        let notice: Notice = match serde_json::from_str(&row.payload) {
            Ok(notice) => notice,
            Err(e) => return Outcome::Failed(format!("unreadable payload: {e}")),
        };
        let Some(subscription_id) = row.push_subscription_id else {
            return Outcome::Failed("push row without a subscription".to_owned());
        };
        let subscription = match self.store.read().await {
            Ok(mut conn) => notifications::subscription(&mut conn, subscription_id).await,
            Err(e) => Err(e),
        };
        match subscription {
            Ok(Some(subscription)) => match self
                .pusher
                .send(&subscription, &notice, &row.idempotency_key)
                .await
            {
                PushOutcome::Delivered => Outcome::Sent,
                PushOutcome::Gone => Outcome::SubscriptionGone(subscription_id),
                PushOutcome::Retry(e) => Outcome::Retry(e),
                PushOutcome::Rejected(e) => Outcome::Failed(e),
            },
            Ok(None) => Outcome::Failed("the browser unsubscribed".to_owned()),
            Err(e) => Outcome::Retry(format!("database: {e}")),
        }
    }

    /// Records the outcome; false when the lease no longer held the row.
    async fn record(&self, row: &OutboxRow, lease: &Lease, outcome: &Outcome) -> StoreResult<bool> {
        let mut tx = self.store.write().await?;
        let now = now_millis();
        let (id, until) = (row.id, lease.until);
        let forget = row.kind.holds_a_link();
        let held = match outcome {
            Outcome::Sent => notifications::mark_sent(tx.conn(), id, until, now, forget).await?,
            Outcome::Retry(error) if gives_up(row.created_at, now) => {
                tracing::warn!(id, channel = %row.channel, %error, "giving up on a notification");
                notifications::mark_failed(tx.conn(), id, until, now, error, forget).await?
            }
            Outcome::Retry(error) => {
                let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
                let next = now + retry_delay(attempts, self.max_backoff).as_millis() as Millis;
                tracing::info!(id, channel = %row.channel, attempts, %error, "notification will be retried");
                notifications::schedule_retry(tx.conn(), id, until, next, error).await?
            }
            Outcome::Failed(error) => {
                tracing::warn!(id, channel = %row.channel, %error, "notification failed for good");
                notifications::mark_failed(tx.conn(), id, until, now, error, forget).await?
            }
            Outcome::NotNeeded(why) => {
                tracing::info!(id, channel = %row.channel, why, "notification not needed");
                notifications::mark_failed(tx.conn(), id, until, now, why, forget).await?
            }
            Outcome::SubscriptionGone(subscription) => {
                notifications::delete_subscription_by_id(tx.conn(), *subscription).await?;
                true
            }
        };
        tx.commit().await?;
        if held && matches!(outcome, Outcome::Sent) {
            let waited = Duration::from_millis((now - row.created_at).max(0) as u64);
            self.metrics.notification_delivered(&row.channel, waited);
        }
        Ok(held)
    }
}

/// The email an email row asks for, written from its payload. Rows for an address carry it in
/// `email`; an "assigned to you" notice carries its recipient's.
fn mail(row: &OutboxRow) -> Result<Mail, serde_json::Error> {
    let to = row.email.as_deref().unwrap_or_default();
    Ok(match row.kind {
        OutboxKind::Assignment => serde_json::from_str::<Notice>(&row.payload)?.email(),
        OutboxKind::Invitation => serde_json::from_str::<InvitationEmail>(&row.payload)?.email(to),
        OutboxKind::PasswordReset => {
            serde_json::from_str::<PasswordResetEmail>(&row.payload)?.email(to)
        }
        OutboxKind::VisitorReplies => {
            serde_json::from_str::<VisitorRepliesEmail>(&row.payload)?.email(to)
        }
    })
}
