//! Whether this process can reach its database, told in the log once per change: one line
//! when it becomes unreachable, a reminder at most every `REMINDER` while it stays so, and one
//! line when it is back. Requests, workers and listeners that fail meanwhile log at debug
//! level, so an outage does not flood the log with a line per request.

use std::fmt::Display;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const REMINDER: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct Outage {
    /// Set while the database is unreachable: the hot path reads only this.
    down: AtomicBool,
    /// Since when it is down, and when it was last said.
    state: Mutex<Option<(Instant, Instant)>>,
    /// Told when the database is reachable again, so work that waits for it resumes at once.
    reachable_again: tokio::sync::Notify,
}

impl Outage {
    /// A connection could not be had, or was lost: the database cannot be reached.
    pub fn failed(&self, error: &dyn Display) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *state {
            None => {
                tracing::error!(%error, "the database is unreachable; answering 503 until it is back");
                *state = Some((now, now));
                self.down.store(true, Ordering::Release);
            }
            Some((since, said)) if now.duration_since(*said) >= REMINDER => {
                tracing::warn!(%error, down_for_secs = since.elapsed().as_secs(), "the database is still unreachable");
                *said = now;
            }
            Some(_) => {}
        }
    }

    /// A connection was had: if the database was unreachable, it is back.
    pub fn succeeded(&self) {
        if !self.down.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((since, _)) = state.take() {
            tracing::info!(
                down_for_ms = since.elapsed().as_millis() as u64,
                "the database is reachable again"
            );
        }
        self.down.store(false, Ordering::Release);
        self.reachable_again.notify_waiters();
    }

    /// Resolves the next time the database becomes reachable after being unreachable.
    pub async fn reachable_again(&self) {
        self.reachable_again.notified().await;
    }
}
