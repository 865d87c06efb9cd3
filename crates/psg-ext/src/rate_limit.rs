//! Client-side rate limiting that never trips a server counting requests over
//! a sliding window.
//!
//! A token bucket with burst N lets about 2N requests through in one window
//! (a full bucket, then a refill). Here every request gets a send time such
//! that the N-th previous one was at least `window + margin` earlier, so no
//! window of that length ever holds more than N sends. When a 429 arrives
//! anyway, [`RateLimiter::pause_for`] holds back every task until it expires.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// `count` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in any window.
    pub count: u32,
    /// The window.
    pub window: Duration,
}

impl RateLimit {
    /// ISC's documented limit per client id: 100 requests per 10 seconds.
    pub const ISC_DEFAULT: RateLimit = RateLimit { count: 100, window: Duration::from_secs(10) };

    /// The safety margin added to each window: 2 % of it, at least 50 ms,
    /// to absorb network and scheduling jitter between our send and the
    /// server's count.
    pub fn margin(&self) -> Duration {
        (self.window / 50).max(Duration::from_millis(50))
    }
}

#[derive(Debug)]
struct State {
    /// Send times of the last `count` requests, oldest first.
    recent: VecDeque<Instant>,
    /// Nobody sends before this (set by a 429).
    paused_until: Option<Instant>,
}

/// A limiter shared by all clones of a client.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    state: Mutex<State>,
}

impl RateLimiter {
    /// A limiter for `limit`; `None` only honours 429 pauses.
    pub fn new(limit: Option<RateLimit>) -> Self {
        RateLimiter { limit, state: Mutex::new(State { recent: VecDeque::new(), paused_until: None }) }
    }

    /// The configured limit.
    pub fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Reserves the earliest allowed send time at or after `now`.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut state = self.state.lock().expect("limiter lock");
        let mut at = now;
        if let Some(until) = state.paused_until {
            at = at.max(until);
        }
        let Some(limit) = self.limit else { return at };
        if let Some(&last) = state.recent.back() {
            at = at.max(last);
        }
        if state.recent.len() >= limit.count as usize {
            let nth_previous = state.recent[state.recent.len() - limit.count as usize];
            at = at.max(nth_previous + limit.window + limit.margin());
        }
        state.recent.push_back(at);
        while state.recent.len() > limit.count as usize {
            state.recent.pop_front();
        }
        at
    }

    /// Waits until this request may be sent; returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let now = Instant::now();
        let at = self.reserve(now);
        if at > now {
            tokio::time::sleep_until(at).await;
        }
        at - now
    }

    /// Holds back every request of this client for `wait` (after a 429).
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut state = self.state.lock().expect("limiter lock");
        state.paused_until = Some(state.paused_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Largest number of send times inside any half-open window of `len`.
    fn max_in_window(times: &[Instant], len: Duration) -> usize {
        let mut sorted = times.to_vec();
        sorted.sort();
        (0..sorted.len())
            .map(|i| sorted[i..].iter().take_while(|t| **t < sorted[i] + len).count())
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_n_in_any_window_unlike_a_token_bucket() {
        let limit = RateLimit { count: 10, window: Duration::from_secs(1) };
        let limiter = Arc::new(RateLimiter::new(Some(limit)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..45 {
            let l = limiter.clone();
            tasks.push(tokio::spawn(async move {
                l.acquire().await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        assert_eq!(max_in_window(&times, limit.window), 10);
        // The first 10 go at once, then 10 per window plus margin: 4 more windows.
        let elapsed = times.iter().max().unwrap().duration_since(start);
        assert_eq!(elapsed, (limit.window + limit.margin()) * 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_task() {
        let limiter = Arc::new(RateLimiter::new(None));
        let start = Instant::now();
        limiter.pause_for(Duration::from_secs(5));
        let l = limiter.clone();
        let other = tokio::spawn(async move { l.acquire().await });
        let waited = limiter.acquire().await;
        assert_eq!(waited, Duration::from_secs(5));
        assert_eq!(other.await.unwrap(), Duration::from_secs(5));
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
        // A shorter pause does not shorten a longer one.
        limiter.pause_for(Duration::from_secs(3));
        limiter.pause_for(Duration::from_secs(1));
        assert_eq!(limiter.acquire().await, Duration::from_secs(3));
    }

    #[test]
    fn margin_scales_with_window() {
        assert_eq!(RateLimit::ISC_DEFAULT.margin(), Duration::from_millis(200));
        assert_eq!(
            RateLimit { count: 5, window: Duration::from_millis(100) }.margin(),
            Duration::from_millis(50)
        );
    }
}
