//! Access tokens: a fixed token, or client credentials with a cached token
//! that is refreshed before it expires. Concurrent callers share one refresh
//! (single flight): the cache lock is held while fetching, so the others wait
//! and then find the fresh token.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::{Config, Credentials};
use crate::error::{Error, snippet};
use crate::retry::{Decision, Idempotency, Outcome, RetryBudget, RetryPolicy};
use crate::secret::Secret;

#[derive(Clone)]
struct CachedToken {
    token: Secret,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Where bearer tokens come from.
pub(crate) struct Auth {
    kind: AuthKind,
}

enum AuthKind {
    Fixed(Secret),
    ClientCredentials(Box<TokenCache>),
}

struct TokenCache {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: Secret,
    margin: Duration,
    retry: RetryPolicy,
    cache: Mutex<Option<CachedToken>>,
}

impl Auth {
    pub(crate) fn new(config: &Config, http: reqwest::Client) -> Self {
        let kind = match &config.credentials {
            Credentials::AccessToken(t) => AuthKind::Fixed(t.clone()),
            Credentials::ClientCredentials { client_id, client_secret } => {
                AuthKind::ClientCredentials(Box::new(TokenCache {
                    http,
                    token_url: config.token_url(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    margin: config.token_refresh_margin,
                    retry: config.retry.clone(),
                    cache: Mutex::new(None),
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
                let (cache, margin) = (&tc.cache, &tc.margin);
                let mut cached = cache.lock().await;
                if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.refresh_at) {
                    return Ok(c.token.clone());
                }
                let (token, expires_in) = tc.fetch().await?;
                // Refresh `margin` early, but never sooner than half the lifetime.
                let early = (*margin).min(expires_in / 2);
                *cached = Some(CachedToken {
                    token: token.clone(),
                    refresh_at: Instant::now() + expires_in - early,
                });
                Ok(token)
            }
        }
    }

    /// Drops `token` from the cache after the API refused it, so the next
    /// [`Auth::bearer`] fetches a new one (unless another task already did).
    pub(crate) async fn invalidate(&self, token: &Secret) {
        if let AuthKind::ClientCredentials(tc) = &self.kind {
            let mut cached = tc.cache.lock().await;
            if cached.as_ref().is_some_and(|c| &c.token == token) {
                *cached = None;
            }
        }
    }
}

impl TokenCache {
    /// Asks the token endpoint, retrying transient failures like a GET.
    async fn fetch(&self) -> Result<(Secret, Duration), Error> {
        let TokenCache { http, token_url, client_id, client_secret, retry, .. } = self;
        let budget = RetryBudget::new(0);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                ("client_secret", client_secret.expose()),
            ];
            let sent = http.post(token_url).form(&form).send().await;
            tracing::debug!(attempt, url = %token_url, "token request");
            let outcome = match sent {
                Ok(response) if response.status().is_success() => {
                    let status = response.status();
                    let body: TokenResponse = response.json().await.map_err(|e| Error::Auth {
                        status: Some(status),
                        message: format!("the token endpoint answered a body without access_token: {e}"),
                    })?;
                    let ttl = Duration::from_secs(body.expires_in.unwrap_or(300).max(1));
                    tracing::debug!(expires_in = ttl.as_secs(), "token obtained");
                    return Ok((Secret::new(body.access_token), ttl));
                }
                Ok(response) => {
                    let status = response.status();
                    let retry_after = crate::error::parse_retry_after(response.headers());
                    let code = status.as_u16();
                    if matches!(code, 400 | 401 | 403) {
                        let text = snippet(&response.bytes().await.unwrap_or_default());
                        let text = scrub(&text, client_secret);
                        return Err(Error::Auth {
                            status: Some(status),
                            message: format!(
                                "{token_url} refused the client credentials (HTTP {code}: {text}); check SAIL_CLIENT_ID and SAIL_CLIENT_SECRET"
                            ),
                        });
                    }
                    (Outcome::Status { code, retry_after }, format!("HTTP {code}"), Some(status))
                }
                Err(e) if e.is_connect() => (Outcome::ConnectFailed, e.to_string(), None),
                Err(e) if e.is_timeout() => (Outcome::TimedOut, e.to_string(), None),
                Err(e) => (Outcome::ConnectionLost, e.to_string(), None),
            };
            let (outcome, what, status) = outcome;
            // Fetching a token has no side effect: retry like a GET.
            match retry.decide(attempt, outcome, Idempotency::Idempotent, &budget, rand::random()) {
                Decision::RetryAfter(wait) => {
                    tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %what, "retrying token request");
                    tokio::time::sleep(wait).await;
                }
                Decision::GiveUp(_) => {
                    return Err(Error::Auth {
                        status,
                        message: format!("{token_url} failed after {attempt} attempt(s): {what}"),
                    });
                }
            }
        }
    }
}

/// Removes the secret from text that echoes the request.
fn scrub(text: &str, secret: &Secret) -> String {
    if secret.expose().is_empty() { text.to_string() } else { text.replace(secret.expose(), "[redacted]") }
}
