//! Configuration: the [`ClientBuilder`], and where a connection (tenant URL
//! plus credentials) comes from: code, the `SAIL_*` environment variables
//! (the same as SailPoint's SDKs), or a profile file.
//!
//! A connection always comes whole from one place: a URL from one source is
//! never paired with a secret from another. Settings that carry no secret
//! (timeouts, rate limit, attempts, API version) may be layered on top.
//!
//! * [`builder`](ClientBuilder): settings in code, validated into a [`Config`];
//! * environment: [`ClientBuilder::from_env`] and the `SAIL_*` constants;
//! * profile file: [`ClientBuilder::from_profile`], [`profile_file_path`];
//! * [`ApiVersion`] and [`Resource`]: each operation's path prefix and the
//!   headers its version requires.

use std::path::PathBuf;
use std::time::Duration;

use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::secret::Secret;

mod builder;
mod env;
mod profile;
mod url;
mod version;

pub use builder::{ClientBuilder, MAX_PAGE_CONCURRENCY};
pub use env::{ENV_ACCESS_TOKEN, ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET};
pub use profile::{ENV_CONFIG_FILE, profile_file_path};
pub(crate) use url::is_loopback;
pub use version::{ApiVersion, Layout, Resource};

/// How the client authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// Client credentials: tokens fetched from `/oauth/token`, cached and refreshed.
    #[non_exhaustive]
    ClientCredentials {
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: Secret,
    },
    /// A ready bearer token, used until it fails.
    AccessToken(Secret),
}

/// Where a builder's connection (URL and credentials) came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionSource {
    /// Set in code ([`ClientBuilder::base_url`] and a credentials method).
    Code,
    /// The `SAIL_*` environment variables.
    Environment,
    /// A profile of a profile file.
    #[non_exhaustive]
    Profile {
        /// Profile name.
        name: String,
        /// The file.
        path: PathBuf,
    },
}

impl ConnectionSource {
    /// How messages of this crate name the source.
    pub(crate) fn describe(&self) -> String {
        match self {
            ConnectionSource::Code => "code".to_string(),
            ConnectionSource::Environment => "the environment (SAIL_*)".to_string(),
            ConnectionSource::Profile { name, path } => format!("profile '{name}' in {}", path.display()),
        }
    }
}

/// Everything a [`crate::Client`] needs, validated: made only by
/// [`ClientBuilder::into_config`].
#[derive(Debug, Clone)]
pub struct Config {
    base_url: ::url::Url,
    api_version: ApiVersion,
    credentials: Credentials,
    connection_source: ConnectionSource,
    connect_timeout: Duration,
    request_timeout: Duration,
    user_agent: String,
    proxy: Option<String>,
    root_certificates: Vec<Vec<u8>>,
    retry: RetryPolicy,
    rate_limit: Option<RateLimit>,
    page_concurrency: usize,
    token_refresh_margin: Duration,
}

impl Config {
    /// Tenant root, without the API version.
    pub fn base_url(&self) -> &str {
        self.base_url.as_str()
    }
    /// The API version called.
    pub fn api_version(&self) -> ApiVersion {
        self.api_version
    }
    /// The API root of password sync groups: `{base}/{version}`.
    pub fn api_root(&self) -> String {
        self.root_for(Resource::PasswordSyncGroups)
    }
    /// Where `resource`'s operations are sent: the tenant root and
    /// [`ApiVersion::prefix`] (sources and password policies are read from
    /// `/v3` when the client is set to beta).
    pub fn root_for(&self, resource: Resource) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), self.api_version.prefix(resource))
    }
    /// The token endpoint: `{base}/oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base_url.as_str().trim_end_matches('/'))
    }
    /// How the client authenticates.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
    /// Where the connection came from.
    pub fn connection_source(&self) -> &ConnectionSource {
        &self.connection_source
    }
    /// The settings that hold the credentials, for messages: e.g.
    /// `SAIL_ACCESS_TOKEN`, or `client_id and client_secret of profile 'prod'
    /// in PATH`; `None` when they were set in code.
    pub(crate) fn credentials_origin(&self) -> Option<String> {
        let token = matches!(self.credentials, Credentials::AccessToken(_));
        match &self.connection_source {
            ConnectionSource::Environment if token => Some(env::ENV_ACCESS_TOKEN.to_string()),
            ConnectionSource::Environment => {
                Some(format!("{} and {}", env::ENV_CLIENT_ID, env::ENV_CLIENT_SECRET))
            }
            ConnectionSource::Profile { name, path } => {
                let keys = if token { "access_token" } else { "client_id and client_secret" };
                Some(format!("{keys} of profile '{name}' in {}", path.display()))
            }
            ConnectionSource::Code => None,
        }
    }
    /// TCP connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Per-attempt timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
    /// Retry settings.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }
    /// Client-side rate limit (`None`: off).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }
    /// Pages a list stream fetches at once.
    pub fn page_concurrency(&self) -> usize {
        self.page_concurrency
    }
    pub(crate) fn user_agent(&self) -> &str {
        &self.user_agent
    }
    pub(crate) fn proxy(&self) -> Option<&str> {
        self.proxy.as_deref()
    }
    pub(crate) fn root_certificates(&self) -> &[Vec<u8>] {
        &self.root_certificates
    }
    pub(crate) fn token_refresh_margin(&self) -> Duration {
        self.token_refresh_margin
    }
}
