//! Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::p256::PublicKey;
use web_push_native::{Auth, WebPushBuilder};

use super::content::Notice;
use crate::store::notifications::PushSubscription;

/// How long a push service may hold the message for an offline browser.
const TTL: Duration = Duration::from_secs(24 * 60 * 60);
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's VAPID identity.
pub struct Vapid {
    key: ES256KeyPair,
    subject: String,
}

impl Vapid {
    /// From the raw 32-byte P-256 private key, base64url-encoded.
    pub fn from_private_key(encoded: &str, subject: String) -> Result<Vapid, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded.trim())
            .map_err(|e| format!("VAPID key is not base64url: {e}"))?;
        let key = ES256KeyPair::from_bytes(&bytes)
            .map_err(|e| format!("VAPID key is not a P-256 private key: {e}"))?;
        Ok(Vapid { key, subject })
    }

    /// A new random private key, base64url-encoded, to store.
    pub fn generate_private_key() -> String {
        URL_SAFE_NO_PAD.encode(ES256KeyPair::generate().to_bytes())
    }

    /// The public key browsers pass to `pushManager.subscribe` as `applicationServerKey`:
    /// the uncompressed point, base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.public_key().public_key().to_bytes_uncompressed())
    }
}

/// How a push attempt ended.
#[derive(Debug)]
pub enum PushOutcome {
    Delivered,
    /// 404/410: the browser unsubscribed; forget the subscription.
    Gone,
    /// Worth retrying later (network error, 429, 5xx).
    Retry(String),
    /// Retrying cannot help (the request itself is refused).
    Rejected(String),
}

pub struct Pusher {
    vapid: Vapid,
    client: reqwest::Client,
}

impl Pusher {
    pub fn new(vapid: Vapid) -> Pusher {
        let client = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Pusher { vapid, client }
    }

    pub fn public_key(&self) -> String {
        self.vapid.public_key()
    }

    pub async fn send(
        &self,
        subscription: &PushSubscription,
        notice: &Notice,
        idempotency_key: &str,
    ) -> PushOutcome {
        let request = match self.encrypt(subscription, notice) {
            Ok(request) => request,
            Err(e) => return PushOutcome::Rejected(e),
        };
        let (parts, body) = request.into_parts();
        let mut builder = self.client.post(parts.uri.to_string()).body(body);
        for (name, value) in &parts.headers {
            builder = builder.header(name, value);
        }
        // A retry of the same notification replaces an undelivered earlier copy at the push
        // service (RFC 8030 section 5.4) instead of showing twice.
        let topic = URL_SAFE_NO_PAD.encode(&Sha256::digest(idempotency_key.as_bytes())[..24]);
        let response = builder
            .header("Topic", topic)
            .header("Urgency", "high")
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => PushOutcome::Delivered,
            Ok(r) if matches!(r.status().as_u16(), 404 | 410) => PushOutcome::Gone,
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                PushOutcome::Retry(format!("push service answered {}", r.status()))
            }
            Ok(r) => PushOutcome::Rejected(format!("push service answered {}", r.status())),
            // Without the URL: a push endpoint is a capability, and this ends up in the log.
            Err(e) => PushOutcome::Retry(format!("push service unreachable: {}", e.without_url())),
        }
    }

    fn encrypt(
        &self,
        subscription: &PushSubscription,
        notice: &Notice,
    ) -> Result<axum::http::Request<Vec<u8>>, String> {
        let keys = SubscriptionKeys::decode(&subscription.p256dh, &subscription.auth)?;
        let endpoint = subscription
            .endpoint
            .parse()
            .map_err(|e| format!("endpoint: {e}"))?;
        WebPushBuilder::new(endpoint, keys.public, keys.auth)
            .with_valid_duration(TTL)
            .with_vapid(&self.vapid.key, &self.vapid.subject)
            .build(notice.push_payload())
            .map_err(|e| format!("encrypting: {e}"))
    }
}

/// A subscription's `keys`, checked.
pub struct SubscriptionKeys {
    pub public: PublicKey,
    pub auth: Auth,
}

impl SubscriptionKeys {
    /// `p256dh` must be an uncompressed P-256 point and `auth` 16 bytes, both base64url (padding
    /// tolerated, as browsers differ).
    pub fn decode(p256dh: &str, auth: &str) -> Result<SubscriptionKeys, String> {
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s.trim().trim_end_matches('='));
        let point = decode(p256dh).map_err(|_| "keys.p256dh is not base64url".to_owned())?;
        let public = PublicKey::from_sec1_bytes(&point)
            .map_err(|_| "keys.p256dh is not a P-256 public key".to_owned())?;
        let auth = decode(auth).map_err(|_| "keys.auth is not base64url".to_owned())?;
        if auth.len() != 16 {
            return Err("keys.auth must be 16 bytes".to_owned());
        }
        Ok(SubscriptionKeys {
            public,
            auth: Auth::clone_from_slice(&auth),
        })
    }
}
