//! When to try again, and how long to wait: a small, pure policy object in the
//! spirit of the AWS SDKs' standard mode (capped exponential backoff with full
//! jitter, a retry budget), plus the rules of this API.

use std::sync::Mutex;
use std::time::Duration;

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The server answered with this status (`Retry-After` if it sent one).
    Status {
        /// HTTP status code.
        code: u16,
        /// Parsed `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// No connection could be made: the request was never sent.
    ConnectFailed,
    /// The request timed out: the server may have acted on it.
    TimedOut,
    /// The connection broke after the request may have been sent.
    ConnectionLost,
}

/// Whether an operation may be repeated safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// GET, PUT, DELETE: repeating has the same effect.
    Idempotent,
    /// POST (create): repeating may create twice.
    NonIdempotent,
}

/// The decision for a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Give up and return the error.
    GiveUp(GiveUpReason),
}

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GiveUpReason {
    /// The failure is not transient (e.g. 400, 404).
    NotRetryable,
    /// Repeating a create could duplicate it.
    UnsafeToRepeat,
    /// All attempts are used.
    AttemptsExhausted,
    /// The retry budget is empty: the server is failing a lot.
    BudgetExhausted,
}

/// Retry settings. Defaults: 3 attempts, backoff base 200 ms doubling to a
/// 20 s cap with full jitter, `Retry-After` honoured up to 60 s, a budget of
/// 500 tokens (a retry costs 5, after a timeout 10; a success refunds 1).
///
/// What is retried: 429, 500, 502, 503 and 504, timeouts and broken
/// connections, for reads, updates and deletes. A create is sent again only
/// after a 429 or when the connection could not be made (nothing was sent).
///
/// ```
/// use std::time::Duration;
/// let policy = psg_ext::RetryPolicy::default()
///     .max_attempts(5)
///     .max_delay(Duration::from_secs(5));
/// assert_eq!(policy.attempts(), 5);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
    budget_capacity: u32,
    retry_cost: u32,
    timeout_retry_cost: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            budget_capacity: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
        }
    }
}

/// Longest wait any setting may ask for.
const MAX_WAIT: Duration = Duration::from_secs(3600);

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// Attempts in all, including the first (at least 1, at most 100).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.clamp(1, 100);
        self
    }

    /// Backoff of the first retry before jitter (at most 1 h).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay.min(MAX_WAIT);
        self
    }

    /// Largest backoff (at most 1 h).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay.min(MAX_WAIT);
        self
    }

    /// Largest `Retry-After` honoured; a longer one is shortened to this (at most 1 h).
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait.min(MAX_WAIT);
        self
    }

    /// Size of the retry budget shared by a client's requests; 0 for no budget.
    pub fn budget(mut self, tokens: u32) -> Self {
        self.budget_capacity = tokens;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Largest `Retry-After` honoured.
    pub fn retry_after_cap(&self) -> Duration {
        self.max_retry_after
    }

    pub(crate) fn budget_capacity(&self) -> u32 {
        self.budget_capacity
    }

    /// Whether `outcome` is worth another attempt for this kind of operation.
    pub(crate) fn is_retryable(outcome: Outcome, idempotency: Idempotency) -> Result<(), GiveUpReason> {
        let transient = match outcome {
            Outcome::Status { code: 429, .. } | Outcome::ConnectFailed => return Ok(()),
            Outcome::Status { code, .. } => matches!(code, 500 | 502 | 503 | 504),
            Outcome::TimedOut | Outcome::ConnectionLost => true,
        };
        match (transient, idempotency) {
            (false, _) => Err(GiveUpReason::NotRetryable),
            (true, Idempotency::NonIdempotent) => Err(GiveUpReason::UnsafeToRepeat),
            (true, Idempotency::Idempotent) => Ok(()),
        }
    }

    /// Backoff before retry number `retry` (1 for the first retry), given a
    /// uniform random `unit` in `[0, 1)` for full jitter.
    pub(crate) fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let exp = self.base_delay.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(30)));
        exp.min(self.max_delay).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// The decision after attempt number `attempt` (1-based) ended in `outcome`.
    /// `unit` is the jitter draw; `budget` is charged when retrying.
    pub(crate) fn decide(
        &self,
        attempt: u32,
        outcome: Outcome,
        idempotency: Idempotency,
        budget: &RetryBudget,
        unit: f64,
    ) -> Decision {
        if let Err(reason) = Self::is_retryable(outcome, idempotency) {
            return Decision::GiveUp(reason);
        }
        if attempt >= self.max_attempts {
            return Decision::GiveUp(GiveUpReason::AttemptsExhausted);
        }
        let cost = if outcome == Outcome::TimedOut { self.timeout_retry_cost } else { self.retry_cost };
        if !budget.try_withdraw(cost) {
            return Decision::GiveUp(GiveUpReason::BudgetExhausted);
        }
        let wait = match outcome {
            Outcome::Status { code: 429 | 503, retry_after: Some(after) } => after.min(self.max_retry_after),
            _ => self.backoff(attempt, unit),
        };
        Decision::RetryAfter(wait)
    }
}

/// A token bucket of retries shared by all requests of a client: retries
/// spend tokens, successes put one back. When a server fails most requests
/// the bucket empties and the client stops multiplying the load.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    capacity: u32,
    tokens: Mutex<u32>,
}

impl RetryBudget {
    /// A full budget of `capacity` tokens; 0 means unlimited.
    pub(crate) fn new(capacity: u32) -> Self {
        RetryBudget { capacity, tokens: Mutex::new(capacity) }
    }

    /// Takes `cost` tokens if there are enough.
    pub(crate) fn try_withdraw(&self, cost: u32) -> bool {
        if self.capacity == 0 {
            return true;
        }
        let mut tokens = self.tokens.lock().expect("budget lock");
        if *tokens >= cost {
            *tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Refunds one token after a success.
    pub(crate) fn on_success(&self) {
        let mut tokens = self.tokens.lock().expect("budget lock");
        *tokens = tokens.saturating_add(1).min(self.capacity);
    }

    /// Tokens left.
    #[cfg(test)]
    pub(crate) fn available(&self) -> u32 {
        *self.tokens.lock().expect("budget lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Idempotency::*;

    fn status(code: u16) -> Outcome {
        Outcome::Status { code, retry_after: None }
    }

    #[test]
    fn retryable_statuses_and_transport_failures() {
        for o in [
            status(429),
            status(500),
            status(502),
            status(503),
            status(504),
            Outcome::TimedOut,
            Outcome::ConnectFailed,
            Outcome::ConnectionLost,
        ] {
            assert_eq!(RetryPolicy::is_retryable(o, Idempotent), Ok(()), "{o:?}");
        }
        for code in [400, 401, 403, 404, 409] {
            assert_eq!(RetryPolicy::is_retryable(status(code), Idempotent), Err(GiveUpReason::NotRetryable));
        }
    }

    #[test]
    fn create_is_replayed_only_on_429_or_when_never_sent() {
        assert_eq!(RetryPolicy::is_retryable(status(429), NonIdempotent), Ok(()));
        assert_eq!(RetryPolicy::is_retryable(Outcome::ConnectFailed, NonIdempotent), Ok(()));
        for o in
            [status(500), status(502), status(503), status(504), Outcome::TimedOut, Outcome::ConnectionLost]
        {
            assert_eq!(
                RetryPolicy::is_retryable(o, NonIdempotent),
                Err(GiveUpReason::UnsafeToRepeat),
                "{o:?}"
            );
        }
    }

    #[test]
    fn backoff_is_capped_exponential_full_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(400));
        assert_eq!(p.backoff(4, 0.5), Duration::from_millis(800));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(20));
        assert_eq!(p.backoff(3, 0.0), Duration::ZERO);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default().max_retry_after(Duration::from_secs(30));
        let budget = RetryBudget::new(500);
        let o = Outcome::Status { code: 429, retry_after: Some(Duration::from_secs(7)) };
        assert_eq!(p.decide(1, o, Idempotent, &budget, 0.9), Decision::RetryAfter(Duration::from_secs(7)));
        let o = Outcome::Status { code: 503, retry_after: Some(Duration::from_secs(3600)) };
        assert_eq!(p.decide(1, o, Idempotent, &budget, 0.9), Decision::RetryAfter(Duration::from_secs(30)));
        // Without Retry-After: backoff.
        assert_eq!(
            p.decide(2, status(429), Idempotent, &budget, 1.0),
            Decision::RetryAfter(Duration::from_millis(400))
        );
    }

    #[test]
    fn attempts_and_budget_bound_retries() {
        let p = RetryPolicy::default();
        let budget = RetryBudget::new(500);
        assert_eq!(
            p.decide(3, status(503), Idempotent, &budget, 0.5),
            Decision::GiveUp(GiveUpReason::AttemptsExhausted)
        );
        let small = RetryBudget::new(12);
        assert!(matches!(p.decide(1, status(503), Idempotent, &small, 0.5), Decision::RetryAfter(_)));
        assert!(matches!(p.decide(1, status(503), Idempotent, &small, 0.5), Decision::RetryAfter(_)));
        assert_eq!(small.available(), 2);
        assert_eq!(
            p.decide(1, status(503), Idempotent, &small, 0.5),
            Decision::GiveUp(GiveUpReason::BudgetExhausted)
        );
        small.on_success();
        small.on_success();
        small.on_success();
        assert!(matches!(p.decide(1, status(503), Idempotent, &small, 0.5), Decision::RetryAfter(_)));
        // A timeout costs more.
        let b = RetryBudget::new(9);
        assert_eq!(
            p.decide(1, Outcome::TimedOut, Idempotent, &b, 0.5),
            Decision::GiveUp(GiveUpReason::BudgetExhausted)
        );
    }

    fn outcomes() -> impl proptest::strategy::Strategy<Value = Outcome> {
        use proptest::prelude::*;
        prop_oneof![
            (100u16..600, proptest::option::of(0u64..100_000))
                .prop_map(|(code, s)| Outcome::Status { code, retry_after: s.map(Duration::from_secs) }),
            Just(Outcome::ConnectFailed),
            Just(Outcome::TimedOut),
            Just(Outcome::ConnectionLost),
        ]
    }

    proptest::proptest! {
        #[test]
        fn policy_invariants(
            steps in proptest::collection::vec((outcomes(), proptest::bool::ANY, 0.0f64..1.0, 1u32..10), 1..80),
            attempts in 1u32..8,
            capacity in proptest::prop_oneof![proptest::strategy::Just(u32::MAX), 0u32..200],
        ) {
            let p = RetryPolicy::default().max_attempts(attempts).budget(capacity);
            let budget = RetryBudget::new(p.budget_capacity());
            for (outcome, create, unit, attempt) in steps {
                let idem = if create { NonIdempotent } else { Idempotent };
                let before = budget.available();
                let decision = p.decide(attempt, outcome, idem, &budget, unit);
                proptest::prop_assert!(budget.available() <= capacity);
                if let Decision::RetryAfter(wait) = decision {
                    // Never a replayed create unless nothing was done.
                    if create {
                        proptest::prop_assert!(matches!(
                            outcome,
                            Outcome::Status { code: 429, .. } | Outcome::ConnectFailed
                        ), "create replayed after {:?}", outcome);
                    }
                    proptest::prop_assert!(attempt < p.attempts());
                    proptest::prop_assert!(wait <= p.max_delay.max(p.max_retry_after), "{:?}", wait);
                    if capacity > 0 {
                        proptest::prop_assert!(budget.available() < before);
                    }
                } else {
                    proptest::prop_assert_eq!(budget.available(), before);
                }
                if unit < 0.5 { budget.on_success(); }
            }
        }
    }
}
