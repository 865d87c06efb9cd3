//! Access tokens: a fixed token, or client credentials with a cached token
//! that is refreshed before it expires.
//!
//! Concurrent callers share one fetch cycle (single flight), whatever its
//! result: the first caller starts it, the others await the same shared
//! future. A failure is remembered for [`FAILURE_MEMORY`], so a storm of
//! calls does not hammer a failing token endpoint. A valid cached token is
//! read under a short synchronous lock that a fetch never holds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use reqwest::StatusCode;
use serde::Deserialize;
use tokio::time::Instant;

use crate::config::{Config, Credentials};
use crate::error::Error;
use crate::error::{TransportError, snippet};
use crate::retry::{Decision, Idempotency, Outcome, RetryBudget, RetryPolicy};
use crate::secret::Secret;

/// How long a failed fetch is remembered before the next call tries again.
pub(crate) const FAILURE_MEMORY: Duration = Duration::from_secs(2);

/// Longest token lifetime believed; `expires_in` beyond it is clamped.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Lifetime assumed when the token endpoint does not say.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Clone)]
struct CachedToken {
    token: Secret,
    refresh_at: Instant,
}

/// A failed fetch, shareable between waiters.
#[derive(Clone, Debug)]
struct FetchFailure {
    status: Option<StatusCode>,
    message: String,
}

impl From<FetchFailure> for Error {
    fn from(f: FetchFailure) -> Error {
        Error::Auth { status: f.status, message: f.message }
    }
}

type FetchResult = Result<Secret, FetchFailure>;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// Where bearer tokens come from.
pub(crate) struct Auth {
    kind: AuthKind,
}

enum AuthKind {
    Fixed(Secret),
    ClientCredentials(Arc<TokenCache>),
}

#[derive(Default)]
struct CacheState {
    token: Option<CachedToken>,
    inflight: Option<Shared<BoxFuture<'static, FetchResult>>>,
    failed: Option<(Instant, FetchFailure)>,
}

struct TokenCache {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: Secret,
    /// Where the credentials came from, for the refusal message.
    credentials_hint: String,
    margin: Duration,
    retry: RetryPolicy,
    state: Mutex<CacheState>,
}

impl Auth {
    pub(crate) fn new(config: &Config, http: reqwest::Client) -> Self {
        let kind = match config.credentials() {
            Credentials::AccessToken(t) => AuthKind::Fixed(t.clone()),
            Credentials::ClientCredentials { client_id, client_secret } => {
                AuthKind::ClientCredentials(Arc::new(TokenCache {
                    http,
                    token_url: config.token_url(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    credentials_hint: config
                        .credentials_origin()
                        .unwrap_or_else(|| "the client id and secret".to_string()),
                    margin: config.token_refresh_margin(),
                    retry: config.retry().clone(),
                    state: Mutex::default(),
                }))
            }
        };
        Auth { kind }
    }

    /// Whether a 401 can be cured by fetching a new token.
    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self.kind, AuthKind::ClientCredentials(_))
    }

    /// A valid bearer token, fetching one if the cache is empty or due.
    pub(crate) async fn bearer(&self) -> Result<Secret, Error> {
        match &self.kind {
            AuthKind::Fixed(t) => Ok(t.clone()),
            AuthKind::ClientCredentials(tc) => {
                let fetch = {
                    let mut state = tc.state.lock().expect("token cache lock");
                    let now = Instant::now();
                    if let Some(c) = state.token.as_ref().filter(|c| now < c.refresh_at) {
                        return Ok(c.token.clone());
                    }
                    if let Some((until, failure)) = &state.failed
                        && now < *until
                    {
                        return Err(failure.clone().into());
                    }
                    match &state.inflight {
                        Some(f) => f.clone(),
                        None => {
                            let f = TokenCache::fetch_and_store(tc.clone()).boxed().shared();
                            state.inflight = Some(f.clone());
                            f
                        }
                    }
                };
                fetch.await.map_err(Error::from)
            }
        }
    }

    /// Drops `token` from the cache after the API refused it, so the next
    /// [`Auth::bearer`] fetches a new one (unless another task already did).
    pub(crate) fn invalidate(&self, token: &Secret) {
        if let AuthKind::ClientCredentials(tc) = &self.kind {
            let mut state = tc.state.lock().expect("token cache lock");
            if state.token.as_ref().is_some_and(|c| &c.token == token) {
                state.token = None;
            }
        }
    }
}

impl TokenCache {
    /// One fetch cycle whose result every waiter shares; it records the
    /// result in the cache before anyone sees it.
    async fn fetch_and_store(self: Arc<Self>) -> FetchResult {
        let result = self.fetch().await;
        let mut state = self.state.lock().expect("token cache lock");
        state.inflight = None;
        let now = Instant::now();
        match result {
            Ok((token, lifetime)) => {
                // Refresh `margin` early, but never sooner than half the lifetime.
                let early = self.margin.min(lifetime / 2);
                state.token =
                    Some(CachedToken { token: token.clone(), refresh_at: now + (lifetime - early) });
                state.failed = None;
                Ok(token)
            }
            Err(failure) => {
                state.failed = Some((now + FAILURE_MEMORY, failure.clone()));
                Err(failure)
            }
        }
    }

    /// Asks the token endpoint, retrying transient failures like a GET.
    async fn fetch(&self) -> Result<(Secret, Duration), FetchFailure> {
        let TokenCache { http, token_url, client_id, client_secret, .. } = self;
        let budget = RetryBudget::new(0);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.expose()),
            ];
            tracing::debug!(attempt, url = %token_url, "token request");
            let sent = http.post(token_url).form(&form).send().await;
            let (outcome, what, status) = match sent {
                Ok(response) if response.status().is_success() => {
                    let status = response.status();
                    let bytes = match read_capped(response).await {
                        Ok(b) => b,
                        Err(e) => {
                            let e = TransportError::from_reqwest(e);
                            let outcome =
                                if e.is_timeout() { Outcome::TimedOut } else { Outcome::ConnectionLost };
                            self.wait_or_give_up(attempt, outcome, &budget, &e.to_string(), Some(status))
                                .await?;
                            continue;
                        }
                    };
                    let body: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| FetchFailure {
                        status: Some(status),
                        message: format!("{token_url} answered a body without a usable access_token: {e}"),
                    })?;
                    let lifetime = token_lifetime(body.expires_in.as_ref());
                    tracing::debug!(expires_in = lifetime.as_secs(), "token obtained");
                    return Ok((Secret::new(body.access_token), lifetime));
                }
                Ok(response) => {
                    let status = response.status();
                    let retry_after = crate::error::parse_retry_after(response.headers());
                    let code = status.as_u16();
                    if matches!(code, 400 | 401 | 403) {
                        let text = snippet(&read_capped(response).await.unwrap_or_default());
                        let text = scrub(&text, client_secret);
                        return Err(FetchFailure {
                            status: Some(status),
                            message: format!(
                                "{token_url} refused the client credentials (HTTP {code}: {text}); check {}",
                                self.credentials_hint
                            ),
                        });
                    }
                    (Outcome::Status { code, retry_after }, format!("HTTP {code}"), Some(status))
                }
                Err(e) => {
                    let e = TransportError::from_reqwest(e);
                    let outcome = if e.is_connect() {
                        Outcome::ConnectFailed
                    } else if e.is_timeout() {
                        Outcome::TimedOut
                    } else {
                        Outcome::ConnectionLost
                    };
                    (outcome, e.to_string(), None)
                }
            };
            self.wait_or_give_up(attempt, outcome, &budget, &what, status).await?;
        }
    }

    /// Sleeps before the next attempt, or gives up with what went wrong.
    async fn wait_or_give_up(
        &self,
        attempt: u32,
        outcome: Outcome,
        budget: &RetryBudget,
        what: &str,
        status: Option<StatusCode>,
    ) -> Result<(), FetchFailure> {
        // Fetching a token has no side effect: retry like a GET.
        match self.retry.decide(attempt, outcome, Idempotency::Idempotent, budget, fastrand::f64()) {
            Decision::RetryAfter(wait) => {
                tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %what, "retrying token request");
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Decision::GiveUp(_) => Err(FetchFailure {
                status,
                message: format!("{} failed after {attempt} attempt(s): {what}", self.token_url),
            }),
        }
    }
}

/// Largest token-endpoint body read (a token answer is a few KiB).
const MAX_TOKEN_BODY: usize = 1 << 20;

/// The body, or as much as [`MAX_TOKEN_BODY`] of it: a token endpoint that
/// streams without end cannot make the client buffer without bound.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_TOKEN_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_TOKEN_BODY {
            break;
        }
    }
    Ok(body)
}

/// The lifetime of a token from `expires_in` (seconds, as a number or a
/// numeric string), clamped to `[1 s, 24 h]`; 300 s when missing or unusable.
fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Duration {
    let secs = match expires_in {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match secs {
        Some(s) if s.is_finite() && s > 0.0 => {
            Duration::from_secs_f64(s.min(MAX_TOKEN_LIFETIME.as_secs_f64())).max(Duration::from_secs(1))
        }
        _ => DEFAULT_TOKEN_LIFETIME,
    }
}

/// Removes the secret from text that echoes the request.
fn scrub(text: &str, secret: &Secret) -> String {
    if secret.expose().is_empty() { text.to_string() } else { text.replace(secret.expose(), "[redacted]") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetimes_are_clamped() {
        let v = |j: &str| serde_json::from_str::<serde_json::Value>(j).unwrap();
        assert_eq!(token_lifetime(Some(&v("18446744073709551615"))), MAX_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(&v("1e300"))), MAX_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(&v("0"))), DEFAULT_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(&v("-5"))), DEFAULT_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(&v("0.2"))), Duration::from_secs(1));
        assert_eq!(token_lifetime(Some(&v("\"600\""))), Duration::from_secs(600));
        assert_eq!(token_lifetime(None), DEFAULT_TOKEN_LIFETIME);
        assert_eq!(token_lifetime(Some(&v("799"))), Duration::from_secs(799));
    }
}
