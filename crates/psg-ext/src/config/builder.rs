//! [`ClientBuilder`]: every setting in code, validated into a [`Config`].

use std::time::Duration;

use super::env::ENV_BASE_URL;
use super::url::normalize_base_url;
use super::{ApiVersion, Config, ConnectionSource, Credentials};
use crate::error::Error;
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// Largest page concurrency a builder accepts.
pub const MAX_PAGE_CONCURRENCY: usize = 64;

/// A connection as given, before validation.
#[derive(Debug, Clone, Default)]
pub(super) struct Connection {
    pub(super) base_url: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<Secret>,
    pub(super) access_token: Option<Secret>,
}

/// Builds a [`crate::Client`] in code, from the environment, or from a profile.
///
/// ```no_run
/// # async fn run() -> Result<(), psg_ext::Error> {
/// use std::time::Duration;
/// let client = psg_ext::Client::builder()
///     .base_url("https://acme.api.identitynow.com")
///     .client_credentials("my-client-id", "my-client-secret")
///     .api_version(psg_ext::ApiVersion::V3)
///     .request_timeout(Duration::from_secs(20))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    pub(super) connection: Connection,
    pub(super) source: ConnectionSource,
    pub(super) api_version: ApiVersion,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) user_agent: String,
    pub(super) proxy: Option<String>,
    pub(super) root_certificates: Vec<Vec<u8>>,
    pub(super) retry: RetryPolicy,
    pub(super) rate_limit: Option<RateLimit>,
    pub(super) page_concurrency: usize,
    pub(super) token_refresh_margin: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            connection: Connection::default(),
            source: ConnectionSource::Code,
            api_version: ApiVersion::Beta,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: format!("psg/{}", env!("CARGO_PKG_VERSION")),
            proxy: None,
            root_certificates: Vec::new(),
            retry: RetryPolicy::default(),
            rate_limit: Some(RateLimit::ISC_DEFAULT),
            page_concurrency: 16,
            token_refresh_margin: Duration::from_secs(60),
        }
    }
}

impl ClientBuilder {
    /// Where the connection came from.
    pub fn connection_source(&self) -> &ConnectionSource {
        &self.source
    }

    /// The tenant API root, e.g. `https://acme.api.identitynow.com`. Setting
    /// it in code makes the whole connection come from code: set the
    /// credentials too.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.take_connection_from_code();
        self.connection.base_url = Some(url.into());
        self
    }
    /// Client-credentials flow.
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.take_connection_from_code();
        self.connection.client_id = Some(client_id.into());
        self.connection.client_secret = Some(Secret::new(client_secret));
        self.connection.access_token = None;
        self
    }
    /// A ready bearer token (never refreshed).
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.take_connection_from_code();
        self.connection.access_token = Some(Secret::new(token));
        self.connection.client_id = None;
        self.connection.client_secret = None;
        self
    }
    fn take_connection_from_code(&mut self) {
        if self.source != ConnectionSource::Code {
            self.connection = Connection::default();
            self.source = ConnectionSource::Code;
        }
    }
    /// The API version to call (default [`ApiVersion::Beta`]).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }
    /// TCP connect timeout (more than 0).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// Timeout of each attempt (more than 0).
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }
    /// `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// Send everything through this proxy URL (otherwise `HTTPS_PROXY` and
    /// `NO_PROXY` are honoured; loopback addresses never use a proxy).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }
    /// Trust an extra root certificate (PEM), e.g. a corporate TLS proxy's.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }
    /// Retry settings.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// Attempts per operation, including the first (1 to 100).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry = self.retry.max_attempts(attempts);
        self
    }
    /// Client-side rate limit; `None` turns it off.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }
    /// Pages a list stream fetches at once once the total is known (1 to 64,
    /// default 16; the rate limit still bounds what is sent). Memory grows
    /// with it (each page in flight is held until its turn). 10,000 groups
    /// (40 pages) take 4 round trips at 16, 2 at 40 or more.
    pub fn page_concurrency(mut self, n: usize) -> Self {
        self.page_concurrency = n;
        self
    }
    /// Refresh tokens this long before they expire.
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Validates everything into a [`Config`].
    pub fn into_config(self) -> Result<Config, Error> {
        let origin = match &self.source {
            ConnectionSource::Code => "the base URL".to_string(),
            ConnectionSource::Environment => ENV_BASE_URL.to_string(),
            other => format!("base_url of {}", other.describe()),
        };
        let raw = self.connection.base_url.as_deref().ok_or_else(|| {
            Error::config(format!(
                "no tenant URL: set {ENV_BASE_URL} (e.g. https://acme.api.identitynow.com) with its credentials, or use a profile"
            ))
        })?;
        let base_url = normalize_base_url(raw, &origin, self.api_version)?;
        let credentials = match (
            &self.connection.client_id,
            &self.connection.client_secret,
            &self.connection.access_token,
        ) {
            (Some(id), Some(secret), _) => {
                Credentials::ClientCredentials { client_id: id.clone(), client_secret: secret.clone() }
            }
            (None, None, Some(token)) => Credentials::AccessToken(token.clone()),
            _ => {
                return Err(Error::config(format!(
                    "{} has a tenant URL but no complete credentials: give a client id and secret, or an access token",
                    self.source.describe()
                )));
            }
        };
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            return Err(Error::config("timeouts must be more than 0"));
        }
        if !(1..=MAX_PAGE_CONCURRENCY).contains(&self.page_concurrency) {
            return Err(Error::config(format!(
                "page concurrency {} is out of range 1..={MAX_PAGE_CONCURRENCY}",
                self.page_concurrency
            )));
        }
        Ok(Config {
            base_url,
            api_version: self.api_version,
            credentials,
            connection_source: self.source,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            user_agent: self.user_agent,
            proxy: self.proxy,
            root_certificates: self.root_certificates,
            retry: self.retry,
            rate_limit: self.rate_limit,
            page_concurrency: self.page_concurrency,
            token_refresh_margin: self.token_refresh_margin.min(Duration::from_secs(24 * 3600)),
        })
    }

    /// Builds the client.
    pub fn build(self) -> Result<crate::Client, Error> {
        crate::Client::from_config(self.into_config()?)
    }
}
/// How the parts of a connection are called in one source, for messages.
pub(super) struct Names<'a> {
    pub(super) base_url: &'a str,
    pub(super) client_id: &'a str,
    pub(super) client_secret: &'a str,
    pub(super) access_token: &'a str,
    pub(super) place: &'a str,
}

/// A connection from one source must be whole: a URL and either a client id
/// with its secret or an access token.
pub(super) fn check_complete(c: &Connection, n: &Names<'_>) -> Result<(), Error> {
    let mut missing = Vec::new();
    if c.base_url.is_none() {
        missing.push(n.base_url.to_string());
    }
    match (&c.client_id, &c.client_secret, &c.access_token) {
        (Some(_), Some(_), _) | (None, None, Some(_)) => {}
        (Some(_), None, _) => missing.push(n.client_secret.to_string()),
        (None, Some(_), _) => missing.push(n.client_id.to_string()),
        (None, None, None) => {
            missing.push(format!("{} and {} (or {})", n.client_id, n.client_secret, n.access_token))
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::config(format!(
        "{} has only part of a connection: {} missing; psg never combines a URL from one place with credentials from another",
        n.place,
        missing.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_builder() -> ClientBuilder {
        ClientBuilder::default().base_url("https://acme.example").client_credentials("id", "pw")
    }

    #[test]
    fn versions_build_their_roots() {
        let c = client_builder().api_version(ApiVersion::V2025).into_config().unwrap();
        assert_eq!(c.api_root(), "https://acme.example/v2025");
        let c = client_builder().into_config().unwrap();
        assert_eq!(c.root_for(super::super::Resource::Sources), "https://acme.example/v3");
    }

    #[test]
    fn builder_values_are_validated() {
        assert!(client_builder().page_concurrency(0).into_config().is_err());
        assert!(client_builder().page_concurrency(65).into_config().is_err());
        assert!(client_builder().request_timeout(Duration::ZERO).into_config().is_err());
        assert!(ClientBuilder::default().base_url("https://a.example").into_config().is_err());
    }
}
