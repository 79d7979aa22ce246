//! "Assigned to you" notifications: each operator's channels, their browsers' push
//! subscriptions, and queueing notices in the transaction of the assignment.

use super::effects::{PendingMail, PendingNotice};
use super::{Service, ServiceError, ServiceResult};
use crate::domain::Millis;
use crate::domain::notification::OutboxKind;
use crate::notify::content::Notice;
use crate::notify::push::SubscriptionKeys;
use crate::store::notifications::{
    self, Channels, NewNotification, NoticeSubject, PushSubscription,
};
use crate::store::{Operator, WriteTx};
use crate::timefmt::now_millis;

/// Longest push endpoint accepted.
const MAX_ENDPOINT_LEN: usize = 2048;
/// Longest an "assigned to you" email may wait for the chat to be opened: a day.
pub const MAX_EMAIL_DELAY_SECS: i64 = 86_400;

impl Service {
    pub fn vapid_public_key(&self) -> &str {
        &self.settings.vapid_public_key
    }

    pub async fn notification_channels(&self, caller: &Operator) -> ServiceResult<Channels> {
        Ok(notifications::channels(&mut self.store.read().await?, caller.id).await?)
    }

    /// Turns channels on or off and sets the email's delay; `None` leaves one as it is.
    pub async fn set_notification_channels(
        &self,
        caller: &Operator,
        push: Option<bool>,
        email: Option<bool>,
        email_delay_secs: Option<i64>,
    ) -> ServiceResult<Channels> {
        if email_delay_secs.is_some_and(|d| !(0..=MAX_EMAIL_DELAY_SECS).contains(&d)) {
            return Err(ServiceError::invalid(
                "invalid_email_delay",
                format!("email_delay_secs must be 0 (at once) to {MAX_EMAIL_DELAY_SECS} (a day)"),
            ));
        }
        let mut tx = self.store.write().await?;
        let current = notifications::channels(tx.conn(), caller.id).await?;
        let wanted = Channels {
            push: push.unwrap_or(current.push),
            email: email.unwrap_or(current.email),
            email_delay_secs: email_delay_secs.unwrap_or(current.email_delay_secs),
        };
        notifications::set_channels(tx.conn(), caller.id, wanted).await?;
        tx.commit().await?;
        Ok(wanted)
    }

    /// Saves this browser's push subscription for the caller.
    pub async fn subscribe_push(
        &self,
        caller: &Operator,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> ServiceResult<PushSubscription> {
        let endpoint = endpoint.trim();
        let secure = endpoint.starts_with("https://");
        let allowed = secure || (self.settings.push_allow_http && endpoint.starts_with("http://"));
        let host_present = endpoint
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
        if !allowed
            || !host_present
            || endpoint.len() > MAX_ENDPOINT_LEN
            || endpoint.parse::<axum::http::Uri>().is_err()
        {
            return Err(ServiceError::invalid(
                "invalid_endpoint",
                "endpoint must be the https:// URL of a push service",
            ));
        }
        SubscriptionKeys::decode(p256dh, auth)
            .map_err(|message| ServiceError::invalid("invalid_keys", message))?;
        let mut tx = self.store.write().await?;
        let saved = notifications::upsert_subscription(
            tx.conn(),
            caller.id,
            endpoint,
            p256dh.trim(),
            auth.trim(),
            now_millis(),
        )
        .await?
        .ok_or_else(|| {
            ServiceError::conflict(
                "push_endpoint_in_use",
                "This browser's push subscription belongs to another account: sign that account \
                 out in this browser, or turn its push off, then try again",
            )
        })?;
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn unsubscribe_push(&self, caller: &Operator, endpoint: &str) -> ServiceResult<()> {
        let mut tx = self.store.write().await?;
        let deleted =
            notifications::delete_subscription(tx.conn(), caller.id, endpoint.trim()).await?;
        tx.commit().await?;
        if deleted {
            Ok(())
        } else {
            Err(ServiceError::NotFound("push subscription"))
        }
    }

    pub async fn push_subscriptions(
        &self,
        caller: &Operator,
    ) -> ServiceResult<Vec<PushSubscription>> {
        Ok(notifications::subscriptions(&mut self.store.read().await?, caller.id).await?)
    }

    /// Queues the notifications of one transaction's assignments in that transaction: an email
    /// (when SMTP is configured and the recipient wants email) and one push per subscribed
    /// browser (when they want push). Each is keyed by the assignment (the chat, the recipient
    /// and the moment), so it is queued at most once. Returns how many were queued.
    pub(super) async fn queue_notices(
        &self,
        tx: &mut WriteTx,
        notices: &[PendingNotice],
        now: Millis,
    ) -> ServiceResult<usize> {
        let mut queued = 0;
        let email_enabled = self.settings.email_enabled;
        for pending in notices {
            if pending.reach.is_some_and(|r| !r.anywhere(email_enabled)) {
                continue;
            }
            let recipient = &pending.recipient;
            let (channels, subscriptions) = notifications::reach(tx.conn(), recipient.id).await?;
            let email = channels.email && email_enabled;
            if !email && subscriptions.is_empty() {
                continue;
            }
            let about = notifications::notice_subject(tx.conn(), pending.conversation_id)
                .await?
                .ok_or(ServiceError::NotFound("conversation"))?;
            let notice = self.notice(pending, about);
            let payload = serde_json::to_string(&notice).unwrap_or_default();
            // One assignment of a chat to someone per millisecond: a second one within it (given
            // away and back again) would be the same news.
            let key = format!(
                "assignment-{}-to-{}-at-{}",
                pending.conversation_id, recipient.id, pending.at
            );
            if email {
                // A delayed email is dropped if the chat is opened before it is due: the
                // notice says since when.
                let delay = channels.email_delay_secs * 1000;
                let email_notice = Notice {
                    unless_opened_since: (delay > 0).then_some(now),
                    ..notice.clone()
                };
                let email_payload = serde_json::to_string(&email_notice).unwrap_or_default();
                let row = NewNotification {
                    operator_id: Some(recipient.id),
                    email: None,
                    kind: OutboxKind::Assignment,
                    conversation_id: None,
                    channel: "email",
                    push_subscription_id: None,
                    idempotency_key: &format!("{key}-email"),
                    payload: &email_payload,
                };
                notifications::enqueue(tx.conn(), &row, now, now + delay).await?;
                queued += 1;
            }
            for subscription in &subscriptions {
                let row = NewNotification {
                    operator_id: Some(recipient.id),
                    email: None,
                    kind: OutboxKind::Assignment,
                    conversation_id: None,
                    channel: "push",
                    push_subscription_id: Some(*subscription),
                    idempotency_key: &format!("{key}-push-{subscription}"),
                    payload: &payload,
                };
                notifications::enqueue(tx.conn(), &row, now, now).await?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Queues the emails about accounts of one transaction in that transaction; returns how
    /// many. The use cases queue them only when SMTP is configured.
    pub(super) async fn queue_mails(
        &self,
        tx: &mut WriteTx,
        mails: &[PendingMail],
        now: Millis,
    ) -> ServiceResult<usize> {
        for mail in mails {
            let row = NewNotification {
                operator_id: mail.operator_id,
                email: Some(&mail.to),
                kind: mail.kind,
                conversation_id: None,
                channel: "email",
                push_subscription_id: None,
                idempotency_key: &mail.idempotency_key,
                payload: &mail.payload,
            };
            notifications::enqueue(tx.conn(), &row, now, now).await?;
        }
        Ok(mails.len())
    }

    fn notice(&self, pending: &PendingNotice, about: NoticeSubject) -> Notice {
        Notice {
            conversation_id: pending.conversation_id,
            recipient_name: pending.recipient.name.clone(),
            recipient_email: pending.recipient.email.clone(),
            visitor_label: about.visitor_label.unwrap_or_default(),
            widget_name: about.widget_name,
            preview: about.preview.unwrap_or_default(),
            link: format!(
                "{}/inbox/conversations/{}",
                self.settings.public_url, pending.conversation_id
            ),
            reason: pending.reason,
            unless_opened_since: None,
        }
    }
}
