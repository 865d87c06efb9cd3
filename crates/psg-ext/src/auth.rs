//! Access tokens: a fixed token, or client credentials with a cached token
//! that is refreshed before it expires.
//!
//! A token is refreshed `margin` before it expires. From then until it really
//! expires, callers keep getting the cached token while one refresh runs in
//! the background; only a caller that finds no valid token waits, and it
//! waits on that same refresh (single flight). A failing token endpoint
//! therefore fails no call while the cached token is valid. A failure is
//! remembered for [`FAILURE_MEMORY`], so a storm of calls does not hammer a
//! failing token endpoint. The refresh runs as its own task that holds no
//! reference to the cache: dropping every client aborts it, and waiters that
//! give up leave nothing behind.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use reqwest::StatusCode;
use serde::Deserialize;
use tokio::task::AbortHandle;
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
    /// From here on a refresh is started (in the background).
    refresh_at: Instant,
    /// From here on the token is not sent any more.
    expires_at: Instant,
}

/// A failed fetch, shareable between waiters.
#[derive(Clone, Debug)]
struct FetchFailure {
    status: Option<StatusCode>,
    message: String,
    /// The transport failure of the last attempt, when there was one.
    source: Option<TransportError>,
}

impl From<FetchFailure> for Error {
    fn from(f: FetchFailure) -> Error {
        Error::Auth { status: f.status, message: f.message, cause: f.source.map(Box::new) }
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

/// The refresh running now.
struct Inflight {
    /// Which refresh it is, so a late finisher does not clear a newer one.
    id: u64,
    /// Its result, for every caller that waits on it.
    result: Shared<BoxFuture<'static, FetchResult>>,
    /// Its task, aborted when the cache is dropped.
    task: AbortHandle,
}

#[derive(Default)]
struct CacheState {
    token: Option<CachedToken>,
    inflight: Option<Inflight>,
    failed: Option<(Instant, FetchFailure)>,
    refreshes: u64,
}

/// What a refresh needs, shared with its task (which must not keep the
/// cache itself alive).
struct TokenEndpoint {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: Secret,
    /// Where the credentials came from, for the refusal message.
    credentials_hint: String,
    retry: RetryPolicy,
}

struct TokenCache {
    endpoint: Arc<TokenEndpoint>,
    margin: Duration,
    state: Mutex<CacheState>,
}

impl Drop for TokenCache {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(inflight) = state.inflight.take() {
            inflight.task.abort();
        }
    }
}

impl Auth {
    pub(crate) fn new(config: &Config, http: reqwest::Client) -> Self {
        let kind = match config.credentials() {
            Credentials::AccessToken(t) => AuthKind::Fixed(t.clone()),
            Credentials::ClientCredentials { client_id, client_secret } => {
                AuthKind::ClientCredentials(Arc::new(TokenCache {
                    endpoint: Arc::new(TokenEndpoint {
                        http,
                        token_url: config.token_url(),
                        client_id: client_id.clone(),
                        client_secret: client_secret.clone(),
                        credentials_hint: config
                            .credentials_origin()
                            .unwrap_or_else(|| "the client id and secret".to_string()),
                        retry: config.retry().clone(),
                    }),
                    margin: config.token_refresh_margin(),
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

    /// A valid bearer token: the cached one while it is valid (starting a
    /// background refresh once it is due), else the result of the one
    /// refresh in flight.
    pub(crate) async fn bearer(&self) -> Result<Secret, Error> {
        match &self.kind {
            AuthKind::Fixed(t) => Ok(t.clone()),
            AuthKind::ClientCredentials(tc) => {
                let wait = {
                    let mut state = tc.state.lock().unwrap_or_else(|p| p.into_inner());
                    let now = Instant::now();
                    // A refresh whose task ended without storing (its runtime shut down).
                    if state.inflight.as_ref().is_some_and(|i| i.task.is_finished()) {
                        state.inflight = None;
                    }
                    let recently_failed = state.failed.as_ref().is_some_and(|(until, _)| now < *until);
                    if let Some(c) = state.token.as_ref().filter(|c| now < c.expires_at) {
                        let token = c.token.clone();
                        if now >= c.refresh_at && state.inflight.is_none() && !recently_failed {
                            tracing::debug!("token due: refreshing in the background");
                            // Nobody waits on it: callers keep the cached token.
                            drop(TokenCache::start_refresh(tc, &mut state));
                        }
                        return Ok(token);
                    }
                    if let Some((_, failure)) = state.failed.as_ref().filter(|_| recently_failed) {
                        return Err(failure.clone().into());
                    }
                    match &state.inflight {
                        Some(i) => i.result.clone(),
                        None => TokenCache::start_refresh(tc, &mut state),
                    }
                };
                wait.await.map_err(Error::from)
            }
        }
    }

    /// Drops `token` from the cache after the API refused it, so the next
    /// [`Auth::bearer`] fetches a new one (unless another task already did).
    pub(crate) fn invalidate(&self, token: &Secret) {
        if let AuthKind::ClientCredentials(tc) = &self.kind {
            let mut state = tc.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.token.as_ref().is_some_and(|c| &c.token == token) {
                state.token = None;
            }
        }
    }
}

impl TokenCache {
    /// Starts the one refresh as its own task and returns its shared result.
    /// The task holds the cache only weakly: dropping the client aborts it.
    fn start_refresh(
        this: &Arc<TokenCache>,
        state: &mut CacheState,
    ) -> Shared<BoxFuture<'static, FetchResult>> {
        state.refreshes += 1;
        let id = state.refreshes;
        let (tx, rx) = tokio::sync::oneshot::channel::<FetchResult>();
        let endpoint = this.endpoint.clone();
        let cache: Weak<TokenCache> = Arc::downgrade(this);
        let task = tokio::spawn(async move {
            let fetched = endpoint.fetch().await;
            let result = match cache.upgrade() {
                Some(cache) => cache.store(id, fetched),
                None => fetched.map(|(token, ..)| token),
            };
            let _ = tx.send(result);
        });
        let cancelled = FetchFailure {
            status: None,
            message: "the token request was cancelled (its runtime shut down); try again".into(),
            source: None,
        };
        let result = rx.map(move |r| r.unwrap_or(Err(cancelled))).boxed().shared();
        state.inflight = Some(Inflight { id, result: result.clone(), task: task.abort_handle() });
        result
    }

    /// Records the result of refresh `id` before anyone sees it.
    fn store(&self, id: u64, fetched: Result<(Secret, Duration, Instant), FetchFailure>) -> FetchResult {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.inflight.as_ref().is_some_and(|i| i.id == id) {
            state.inflight = None;
        }
        let now = Instant::now();
        match fetched {
            Ok((token, lifetime, sent_at)) => {
                // Counted from when the request was sent: the server issued
                // the token after that. Refresh `margin` early, but never
                // sooner than half the lifetime.
                let early = self.margin.min(lifetime / 2);
                state.token = Some(CachedToken {
                    token: token.clone(),
                    refresh_at: sent_at + (lifetime - early),
                    expires_at: sent_at + lifetime,
                });
                state.failed = None;
                Ok(token)
            }
            Err(failure) => {
                if let Some(c) = state.token.as_ref().filter(|c| now < c.expires_at) {
                    tracing::info!(
                        valid_for_s = (c.expires_at - now).as_secs(),
                        error = %failure.message,
                        "token refresh failed; the cached token is still used"
                    );
                }
                state.failed = Some((now + FAILURE_MEMORY, failure.clone()));
                Err(failure)
            }
        }
    }
}

impl TokenEndpoint {
    /// Asks the token endpoint, retrying transient failures like a GET.
    /// Returns the token, its lifetime and when the answered request was sent.
    async fn fetch(&self) -> Result<(Secret, Duration, Instant), FetchFailure> {
        let TokenEndpoint { http, token_url, client_id, client_secret, .. } = self;
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
            let sent_at = Instant::now();
            let sent = http.post(token_url).form(&form).send().await;
            let (outcome, what, status, transport) = match sent {
                Ok(response) if response.status().is_success() => {
                    let status = response.status();
                    let bytes = match read_capped(response).await {
                        Ok(b) => b,
                        Err(e) => {
                            let e = TransportError::from_reqwest(e);
                            let outcome =
                                if e.is_timeout() { Outcome::TimedOut } else { Outcome::ConnectionLost };
                            let what = e.to_string();
                            self.wait_or_give_up(attempt, outcome, &budget, &what, Some(status), Some(e))
                                .await?;
                            continue;
                        }
                    };
                    let body: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| FetchFailure {
                        status: Some(status),
                        message: format!("{token_url} answered a body without a usable access_token: {e}"),
                        source: None,
                    })?;
                    let lifetime = token_lifetime(body.expires_in.as_ref());
                    tracing::debug!(expires_in = lifetime.as_secs(), "token obtained");
                    return Ok((Secret::new(body.access_token), lifetime, sent_at));
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
                            source: None,
                        });
                    }
                    (Outcome::Status { code, retry_after }, format!("HTTP {code}"), Some(status), None)
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
                    (outcome, e.to_string(), None, Some(e))
                }
            };
            self.wait_or_give_up(attempt, outcome, &budget, &what, status, transport).await?;
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
        transport: Option<TransportError>,
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
                source: transport,
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

    /// Reproduction: the shared fetch held the cache, and the cache held the
    /// fetch; when every waiter gave up mid-fetch and the client was dropped,
    /// both stayed alive and the token request stayed open for ever.
    #[cfg(feature = "rustls-ring")]
    #[tokio::test]
    async fn a_fetch_abandoned_by_every_waiter_ends_with_the_client() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (got_request, request_seen) = tokio::sync::oneshot::channel();
        // Reads the token request, never answers, and reports when the
        // client closes the connection.
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let n = conn.read(&mut buf).await.unwrap();
            let _ = got_request.send(n);
            conn.read(&mut buf).await.map(|n| n == 0).unwrap_or(true)
        });
        let config = crate::ClientBuilder::default()
            .base_url(format!("http://{addr}"))
            .client_credentials("id", "pw")
            .request_timeout(Duration::from_secs(3600))
            .into_config()
            .unwrap();
        let tls =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
        let http = reqwest::Client::builder().tls_backend_preconfigured(tls).build().unwrap();
        let auth = Arc::new(Auth::new(&config, http));
        let AuthKind::ClientCredentials(cache) = &auth.kind else { unreachable!() };
        let cache = Arc::downgrade(cache);
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let auth = auth.clone();
                tokio::spawn(async move { auth.bearer().await.is_ok() })
            })
            .collect();
        assert!(request_seen.await.unwrap() > 0, "the server got the token request");
        for w in &waiters {
            w.abort();
        }
        for w in waiters {
            assert!(w.await.unwrap_err().is_cancelled());
        }
        drop(auth);
        assert!(cache.upgrade().is_none(), "the token cache outlived its client");
        let closed = tokio::time::timeout(Duration::from_secs(30), server).await;
        assert!(matches!(closed, Ok(Ok(true))), "the token request was left open: {closed:?}");
    }

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
