//! Client-side rate limiting that never trips a server counting requests over
//! a sliding window.
//!
//! # What is promised
//! At most `count` API requests of one [`crate::Client`] (and its clones) are
//! *sent* in any interval of `window`, and the limiter keeps an extra margin
//! ([`RateLimit::margin`]) so that network and scheduling jitter do not make
//! them *arrive* closer together. Every attempt counts: first tries, retries,
//! the replay after a token refresh, every page of a stream.
//!
//! A slot is taken at the last moment, right before the request is written to
//! the connection, after the access token is at hand (so a slow token
//! endpoint cannot bunch requests up). Waiting requests queue in arrival
//! order (FIFO): only the first in line watches the clock, and when it has
//! taken its slot (or given up) it wakes the next one, so a free slot never
//! wakes every waiter at once. A request waiting for a slot holds only its
//! place in line: when its future is dropped, the place is freed and nothing
//! is left reserved. A 429 pauses every task ([`RateLimiter::pause_for`]);
//! the first in line re-checks both the window and the pause before it sends.
//!
//! # What is not counted
//! Requests to the token endpoint (`/oauth/token`), which ISC limits
//! separately; requests of other clients or other processes using the same
//! credentials (the server's 429 and [`RateLimiter::pause_for`] cover those).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::error::Error;

/// `count` requests per `window`. Build with [`RateLimit::new`] or parse
/// `COUNT/SECS` with [`str::parse`].
///
/// ```
/// use std::time::Duration;
/// let limit: psg_ext::RateLimit = "100/10".parse()?;
/// assert_eq!(limit, psg_ext::RateLimit::new(100, Duration::from_secs(10))?);
/// assert!(psg_ext::RateLimit::new(0, Duration::from_secs(1)).is_err());
/// # Ok::<(), psg_ext::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    count: u32,
    window: Duration,
}

impl RateLimit {
    /// ISC's documented limit per client id: 100 requests per 10 seconds.
    pub const ISC_DEFAULT: RateLimit = RateLimit { count: 100, window: Duration::from_secs(10) };

    /// Longest window accepted.
    pub const MAX_WINDOW: Duration = Duration::from_secs(24 * 3600);

    /// Largest count accepted.
    pub const MAX_COUNT: u32 = 1_000_000;

    /// `count` requests per `window`: count in `1..=1_000_000`, window in
    /// `(0, 24 h]`.
    pub fn new(count: u32, window: Duration) -> Result<Self, Error> {
        if count == 0 || count > Self::MAX_COUNT {
            return Err(Error::config(format!(
                "rate limit count {count} is out of range: use 1..={}",
                Self::MAX_COUNT
            )));
        }
        if window.is_zero() || window > Self::MAX_WINDOW {
            return Err(Error::config(format!(
                "rate limit window {window:?} is out of range: use more than 0 s and at most 86400 s"
            )));
        }
        Ok(RateLimit { count, window })
    }

    /// Requests allowed in any window.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The safety margin added to each window: 2 % of it, at least 50 ms,
    /// to absorb network and scheduling jitter between our send and the
    /// server's count.
    pub fn margin(&self) -> Duration {
        (self.window / 50).max(Duration::from_millis(50))
    }

    /// Parses `COUNT/SECS` (e.g. `100/10`, `5/0.5`) or `off` (`None`).
    pub fn parse_setting(text: &str) -> Result<Option<RateLimit>, Error> {
        if text.trim().eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        text.parse().map(Some)
    }
}

impl std::str::FromStr for RateLimit {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let err = |why: &str| {
            Error::config(format!(
                "invalid rate limit {s:?}: {why}; write COUNT/SECS such as 100/10 (or off where allowed)"
            ))
        };
        let (count, secs) = s.split_once('/').ok_or_else(|| err("no '/'"))?;
        let count: u32 = count.trim().parse().map_err(|_| err("COUNT is not a whole number"))?;
        let secs: f64 = secs.trim().parse().map_err(|_| err("SECS is not a number"))?;
        if !(secs.is_finite() && secs > 0.0 && secs <= Self::MAX_WINDOW.as_secs_f64()) {
            return Err(err("SECS must be more than 0 and at most 86400"));
        }
        let window = Duration::try_from_secs_f64(secs).map_err(|_| err("SECS is out of range"))?;
        RateLimit::new(count, window).map_err(|_| err("COUNT must be 1..=1000000 and SECS at most 86400"))
    }
}

#[derive(Debug, Default)]
struct State {
    /// Send times of the last `count` requests, oldest first.
    recent: VecDeque<Instant>,
    /// Nobody sends before this (set by a 429).
    paused_until: Option<Instant>,
    /// Requests waiting for a slot, in arrival order: their ticket and
    /// what wakes them when they become first.
    line: VecDeque<(u64, Arc<Notify>)>,
    /// The next ticket number.
    next_ticket: u64,
}

impl State {
    /// Wakes whoever is first in line now.
    fn wake_first(&self) {
        if let Some((_, notify)) = self.line.front() {
            notify.notify_one();
        }
    }
}

/// What a caller must do before sending.
enum Verdict {
    /// The slot is taken at this instant: send now.
    Go,
    /// Try again at this instant.
    WaitUntil(Instant),
}

/// A limiter shared by all clones of a client.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: Option<RateLimit>,
    state: Mutex<State>,
    /// How many times a waiter looked at the line (tests count wake-ups).
    #[cfg(test)]
    looks: std::sync::atomic::AtomicUsize,
}

impl RateLimiter {
    /// A limiter for `limit`; `None` only honours 429 pauses.
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        RateLimiter {
            limit,
            state: Mutex::new(State::default()),
            #[cfg(test)]
            looks: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while holding it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a slot at `now` if the window and any pause allow it.
    fn take_at(&self, state: &mut State, now: Instant, take: bool) -> Verdict {
        if let Some(until) = state.paused_until {
            if now < until {
                return Verdict::WaitUntil(until);
            }
            state.paused_until = None;
        }
        let Some(limit) = self.limit else { return Verdict::Go };
        let span = limit.window + limit.margin();
        while state.recent.front().is_some_and(|&t| now.saturating_duration_since(t) >= span) {
            state.recent.pop_front();
        }
        if state.recent.len() >= limit.count as usize
            && let Some(&oldest) = state.recent.front()
        {
            return Verdict::WaitUntil(oldest + span);
        }
        if take {
            state.recent.push_back(now);
        }
        Verdict::Go
    }

    /// A place at the end of the line of requests waiting for a slot.
    pub(crate) fn join(self: &Arc<Self>) -> Ticket {
        let notify = Arc::new(Notify::new());
        let mut state = self.lock();
        let id = state.next_ticket;
        state.next_ticket += 1;
        state.line.push_back((id, notify.clone()));
        Ticket { limiter: self.clone(), id, notify, done: false }
    }

    /// Waits until a request may be sent and takes its slot, as the request
    /// hook does (without the token fetch in between); returns how long it
    /// waited. Dropping the future while it waits takes nothing.
    #[cfg(test)]
    pub(crate) async fn acquire(self: &Arc<Self>) -> Duration {
        let start = Instant::now();
        let mut ticket = self.join();
        loop {
            ticket.wait_ready().await;
            if ticket.try_take() {
                return start.elapsed();
            }
        }
    }

    /// Holds back every request of this client for `wait` (after a 429).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let now = Instant::now();
        let until = now.checked_add(wait).unwrap_or(now + RateLimit::MAX_WINDOW);
        let mut state = self.lock();
        state.paused_until = Some(state.paused_until.map_or(until, |u| u.max(until)));
    }
}

/// A request's place in the line for a slot. Dropping it (the request was
/// cancelled) frees the place and wakes the next in line.
pub(crate) struct Ticket {
    limiter: Arc<RateLimiter>,
    id: u64,
    notify: Arc<Notify>,
    /// The slot was taken and the place left.
    done: bool,
}

/// What the first in line must do, or that this ticket is not first.
enum Turn {
    NotFirst,
    Now(Verdict),
}

impl Ticket {
    fn turn(&self, take: bool) -> Turn {
        #[cfg(test)]
        self.limiter.looks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut state = self.limiter.lock();
        if state.line.front().map(|(id, _)| *id) != Some(self.id) {
            return Turn::NotFirst;
        }
        Turn::Now(self.limiter.take_at(&mut state, Instant::now(), take))
    }

    /// Waits until this request is first in line and a slot would be free,
    /// taking nothing. Only the first in line watches the clock; the others
    /// sleep until it wakes them.
    pub(crate) async fn wait_ready(&self) {
        loop {
            match self.turn(false) {
                Turn::NotFirst => self.notify.notified().await,
                Turn::Now(Verdict::Go) => return,
                Turn::Now(Verdict::WaitUntil(at)) => tokio::time::sleep_until(at).await,
            }
        }
    }

    /// Takes a slot now if this request is first in line and one is free;
    /// then leaves the line and wakes the next.
    pub(crate) fn try_take(&mut self) -> bool {
        let mut state = self.limiter.lock();
        if self.done || state.line.front().map(|(id, _)| *id) != Some(self.id) {
            return false;
        }
        if !matches!(self.limiter.take_at(&mut state, Instant::now(), true), Verdict::Go) {
            return false;
        }
        state.line.pop_front();
        self.done = true;
        state.wake_first();
        true
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut state = self.limiter.lock();
        let was_first = state.line.front().map(|(id, _)| *id) == Some(self.id);
        state.line.retain(|(id, _)| *id != self.id);
        if was_first {
            state.wake_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;

    /// Largest number of send times inside any half-open interval of `len`.
    fn max_in_window(times: &[Instant], len: Duration) -> usize {
        let mut sorted = times.to_vec();
        sorted.sort();
        (0..sorted.len())
            .map(|i| sorted[i..].iter().take_while(|t| **t < sorted[i] + len).count())
            .max()
            .unwrap_or(0)
    }

    fn limit(count: u32, ms: u64) -> RateLimit {
        RateLimit::new(count, Duration::from_millis(ms)).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_task_and_a_longer_pause_wins() {
        let limiter = Arc::new(RateLimiter::new(None));
        let start = Instant::now();
        limiter.pause_for(Duration::from_secs(5));
        let l = limiter.clone();
        let other = tokio::spawn(async move { l.acquire().await });
        let waited = limiter.acquire().await;
        assert_eq!(waited, Duration::from_secs(5));
        assert_eq!(other.await.unwrap(), Duration::from_secs(5));
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
        limiter.pause_for(Duration::from_secs(3));
        limiter.pause_for(Duration::from_secs(1));
        assert_eq!(limiter.acquire().await, Duration::from_secs(3));
        limiter.pause_for(Duration::MAX); // no overflow
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_set_while_a_task_waits_for_the_window_is_honoured() {
        let limiter = Arc::new(RateLimiter::new(Some(limit(1, 1000))));
        limiter.acquire().await;
        let l = limiter.clone();
        let waiter = tokio::spawn(async move {
            l.acquire().await;
            Instant::now()
        });
        tokio::task::yield_now().await;
        let start = Instant::now();
        limiter.pause_for(Duration::from_secs(30));
        let sent = waiter.await.unwrap();
        assert!(sent >= start + Duration::from_secs(30), "sent {:?} after the pause began", sent - start);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_wait_leaves_nothing_reserved() {
        let limiter = Arc::new(RateLimiter::new(Some(limit(2, 1000))));
        limiter.acquire().await;
        limiter.acquire().await;
        // Ten waiters give up before their turn.
        for _ in 0..10 {
            let l = limiter.clone();
            let t = tokio::spawn(async move { l.acquire().await });
            tokio::task::yield_now().await;
            t.abort();
        }
        let start = Instant::now();
        // The next one waits only for the window, not behind phantom reservations.
        let waited = limiter.acquire().await;
        assert_eq!(waited, Duration::from_millis(1000) + limit(2, 1000).margin());
        assert_eq!(Instant::now() - start, waited);
    }

    #[derive(Debug, Clone)]
    struct Arrival {
        at_ms: u64,
        cancel_after_ms: Option<u64>,
    }

    fn arrivals() -> impl Strategy<Value = Vec<Arrival>> {
        proptest::collection::vec(
            (0u64..3000, proptest::option::weighted(0.3, 0u64..1500))
                .prop_map(|(at_ms, cancel_after_ms)| Arrival { at_ms, cancel_after_ms }),
            1..60,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// For arbitrary arrivals, cancellations and 429 pauses, the instants
        /// at which slots are granted never hold more than `count` in any
        /// window, and every request that was not cancelled gets a slot.
        #[test]
        fn never_more_than_count_in_any_window(
            count in 1u32..8,
            window_ms in 50u64..2000,
            arrivals in arrivals(),
            pauses in proptest::collection::vec((0u64..3000, 0u64..2000), 0..3),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
            let (granted, expected) = rt.block_on(async move {
                let limit = RateLimit::new(count, Duration::from_millis(window_ms)).unwrap();
                let limiter = Arc::new(RateLimiter::new(Some(limit)));
                let start = Instant::now();
                let granted = Arc::new(Mutex::new(Vec::new()));
                let mut tasks = Vec::new();
                let mut expected = 0usize;
                for a in arrivals {
                    let (l, g) = (limiter.clone(), granted.clone());
                    let task = async move {
                        tokio::time::sleep_until(start + Duration::from_millis(a.at_ms)).await;
                        let wait = l.acquire();
                        let got = match a.cancel_after_ms {
                            Some(ms) => tokio::time::timeout(Duration::from_millis(ms), wait).await.is_ok(),
                            None => { wait.await; true }
                        };
                        if got { g.lock().unwrap().push(Instant::now()); }
                    };
                    if a.cancel_after_ms.is_none() { expected += 1; }
                    tasks.push(tokio::spawn(task));
                }
                for (at, len) in pauses {
                    let l = limiter.clone();
                    tasks.push(tokio::spawn(async move {
                        tokio::time::sleep_until(start + Duration::from_millis(at)).await;
                        l.pause_for(Duration::from_millis(len));
                    }));
                }
                for t in tasks { t.await.unwrap(); }
                let g = granted.lock().unwrap().clone();
                (g, (expected, limit))
            });
            let (expected, limit) = expected;
            prop_assert!(max_in_window(&granted, limit.window() + limit.margin()) <= count as usize);
            prop_assert!(granted.len() >= expected);
        }
    }

    /// Waiters get their slots in the order they asked, and a free slot
    /// wakes only the first in line: with a thundering herd, 30 waiters
    /// behind a 1-per-100-ms limit look at the line about 30 * 30 / 2 times.
    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_order_and_woken_one_at_a_time() {
        let limiter = Arc::new(RateLimiter::new(Some(limit(1, 100))));
        limiter.acquire().await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..30 {
            let (l, o) = (limiter.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                l.acquire().await;
                o.lock().unwrap().push(i);
            }));
            // Each one asks before the next.
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..30).collect::<Vec<_>>());
        let looks = limiter.looks.load(std::sync::atomic::Ordering::Relaxed);
        assert!(looks <= 30 * 4, "{looks} looks at the line for 30 waiters");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// For arbitrary distinct arrival times, cancellations and pauses,
        /// slots are granted in arrival order (FIFO).
        #[test]
        fn slots_are_granted_in_arrival_order(
            count in 1u32..5,
            window_ms in 50u64..1000,
            times in proptest::collection::btree_set(0u64..3000, 1..40),
            cancels in proptest::collection::vec(proptest::option::weighted(0.3, 0u64..1500), 40),
            pauses in proptest::collection::vec((0u64..3000, 0u64..2000), 0..3),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
            let granted = rt.block_on(async move {
                let limiter = Arc::new(RateLimiter::new(Some(RateLimit::new(count, Duration::from_millis(window_ms)).unwrap())));
                let start = Instant::now();
                let granted = Arc::new(Mutex::new(Vec::new()));
                let mut tasks = Vec::new();
                for (i, at_ms) in times.into_iter().enumerate() {
                    let (l, g, cancel) = (limiter.clone(), granted.clone(), cancels[i]);
                    tasks.push(tokio::spawn(async move {
                        tokio::time::sleep_until(start + Duration::from_millis(at_ms)).await;
                        let got = match cancel {
                            Some(ms) => tokio::time::timeout(Duration::from_millis(ms), l.acquire()).await.is_ok(),
                            None => { l.acquire().await; true }
                        };
                        if got { g.lock().unwrap().push(i); }
                    }));
                }
                for (at, len) in pauses {
                    let l = limiter.clone();
                    tasks.push(tokio::spawn(async move {
                        tokio::time::sleep_until(start + Duration::from_millis(at)).await;
                        l.pause_for(Duration::from_millis(len));
                    }));
                }
                for t in tasks { t.await.unwrap(); }
                granted.lock().unwrap().clone()
            });
            prop_assert!(granted.windows(2).all(|w| w[0] < w[1]), "granted out of order: {:?}", granted);
        }
    }

    #[test]
    fn limits_are_validated() {
        assert!(RateLimit::new(0, Duration::from_secs(1)).is_err());
        assert!(RateLimit::new(1, Duration::ZERO).is_err());
        assert!(RateLimit::new(1, Duration::from_secs(86_401)).is_err());
        assert!(RateLimit::new(u32::MAX, Duration::from_secs(1)).is_err());
        for bad in
            ["1/1e300", "1/1e19", "0/1", "1/0", "1/-1", "1/nan", "1/inf", "x/1", "1", "", "4294967296/1"]
        {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
        assert_eq!("5/0.5".parse::<RateLimit>().unwrap(), limit(5, 500));
        assert_eq!(RateLimit::parse_setting(" OFF ").unwrap(), None);
        assert_eq!(RateLimit::ISC_DEFAULT.margin(), Duration::from_millis(200));
        assert_eq!(limit(5, 100).margin(), Duration::from_millis(50));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in ".{0,40}") {
            if let Ok(l) = text.parse::<RateLimit>() {
                prop_assert!(l.count() >= 1 && !l.window().is_zero() && l.window() <= RateLimit::MAX_WINDOW);
            }
        }

        #[test]
        fn parsing_numbers_never_panics(count in any::<u64>(), secs in any::<f64>()) {
            let _ = format!("{count}/{secs}").parse::<RateLimit>();
            let _ = format!("{count}/{secs:e}").parse::<RateLimit>();
        }
    }
}
