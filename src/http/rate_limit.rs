//! In-process token buckets for endpoints worth guessing at (sign-in).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Allows `burst` attempts per key at once, refilled at one per `every`.
pub struct RateLimiter {
    burst: f64,
    every: Duration,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Above this many keys, idle full buckets are dropped so memory stays bounded.
const MAX_KEYS: usize = 10_000;

impl RateLimiter {
    pub fn new(burst: u32, every: Duration) -> RateLimiter {
        RateLimiter {
            burst: f64::from(burst),
            every,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `key`; `Err(seconds)` says how long until the next is allowed.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let per_sec = 1.0 / self.every.as_secs_f64();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > MAX_KEYS {
            let (burst, every) = (self.burst, self.every);
            buckets.retain(|_, (_, at)| now.duration_since(*at) < every.mul_f64(burst));
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_sec).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_sec).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refuses_with_a_wait() {
        let limiter = RateLimiter::new(3, Duration::from_secs(10));
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!((1..=10).contains(&wait), "{wait}");
        assert!(limiter.check("b").is_ok(), "keys are independent");
    }
}
