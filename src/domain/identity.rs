//! Identity from the embedding site: the site signs its signed-in user's id with the widget's
//! identity secret (`user_hash` = hex HMAC-SHA256 of the user id, keyed with the secret's UTF-8
//! text), so a visitor cannot claim to be someone else by editing the page.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Whether `user_hash` (hex, either case) is the HMAC of `user_id` under `secret`, compared in
/// constant time. An empty secret vouches for nobody.
pub fn user_hash_matches(secret: &str, user_id: &str, user_hash: &str) -> bool {
    let Some(claimed) = decode_hex(user_hash) else {
        return false;
    };
    match mac(secret, user_id) {
        Some(mac) => mac.verify_slice(&claimed).is_ok(),
        None => false,
    }
}

/// The `user_hash` the site computes for `user_id` (lower-case hex); `None` for an empty
/// secret.
pub fn user_hash(secret: &str, user_id: &str) -> Option<String> {
    let digest = mac(secret, user_id)?.finalize().into_bytes();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn mac(secret: &str, user_id: &str) -> Option<HmacSha256> {
    if secret.is_empty() {
        return None;
    }
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(user_id.as_bytes());
    Some(mac)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_hmac() {
        // RFC 4231, test case 2.
        let hash = user_hash("Jefe", "what do ya want for nothing?").unwrap();
        assert_eq!(
            hash,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(user_hash_matches(
            "Jefe",
            "what do ya want for nothing?",
            &hash
        ));
        assert!(user_hash_matches(
            "Jefe",
            "what do ya want for nothing?",
            &hash.to_uppercase()
        ));
    }

    #[test]
    fn anything_else_is_refused() {
        let hash = user_hash("secret", "user-1").unwrap();
        assert!(!user_hash_matches("secret", "user-2", &hash));
        assert!(!user_hash_matches("other", "user-1", &hash));
        assert!(!user_hash_matches("secret", "user-1", &hash[..62]));
        assert!(!user_hash_matches("secret", "user-1", "zz"));
        assert!(!user_hash_matches("secret", "user-1", "é"));
        assert!(!user_hash_matches("secret", "user-1", ""));
        assert_eq!(user_hash("", "user-1"), None);
        assert!(!user_hash_matches("", "user-1", &hash));
    }
}
