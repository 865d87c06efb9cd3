//! Per-client rate limit over a sliding window, as ISC counts it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// At most `limit` accepted requests in any window of `window`.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    accepted: VecDeque<Instant>,
}

impl SlidingWindow {
    /// A window allowing `limit` requests per `window` (a limit of 0 counts as 1).
    pub fn new(limit: u32, window: Duration) -> Self {
        SlidingWindow { limit: limit.max(1) as usize, window, accepted: VecDeque::new() }
    }

    /// Accepts a request at `now`, or says how long until a slot frees.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        while let Some(&oldest) = self.accepted.front() {
            if now.duration_since(oldest) >= self.window {
                self.accepted.pop_front();
            } else {
                break;
            }
        }
        if self.accepted.len() < self.limit {
            self.accepted.push_back(now);
            Ok(())
        } else {
            let oldest = *self.accepted.front().expect("limit is at least one");
            Err(self.window - now.duration_since(oldest))
        }
    }
}

/// `Retry-After` in whole seconds, rounded up and at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_limit_in_any_window() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::new(3, Duration::from_secs(10));
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(w.try_acquire(at(0)).is_ok());
        assert!(w.try_acquire(at(4000)).is_ok());
        assert!(w.try_acquire(at(9000)).is_ok());
        // Full: the oldest (t=0) frees its slot at t=10 s.
        assert_eq!(w.try_acquire(at(9500)), Err(Duration::from_millis(500)));
        assert!(w.try_acquire(at(10_000)).is_ok());
        // Now holds 4 s, 9 s, 10 s: next slot at 14 s.
        assert_eq!(w.try_acquire(at(12_000)), Err(Duration::from_secs(2)));
        assert!(w.try_acquire(at(14_000)).is_ok());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
