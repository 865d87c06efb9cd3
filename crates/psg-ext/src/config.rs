//! Configuration: the [`ClientBuilder`], and where a connection (tenant URL
//! plus credentials) comes from: code, the `SAIL_*` environment variables
//! (the same as SailPoint's SDKs), or a profile file.
//!
//! A connection always comes whole from one place: a URL from one source is
//! never paired with a secret from another. Settings that carry no secret
//! (timeouts, rate limit, attempts, API version) may be layered on top.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// Tenant API root, e.g. `https://acme.api.identitynow.com`.
pub const ENV_BASE_URL: &str = "SAIL_BASE_URL";
/// OAuth client id for the client-credentials flow.
pub const ENV_CLIENT_ID: &str = "SAIL_CLIENT_ID";
/// OAuth client secret.
pub const ENV_CLIENT_SECRET: &str = "SAIL_CLIENT_SECRET";
/// A ready bearer token (used as is, never refreshed).
pub const ENV_ACCESS_TOKEN: &str = "SAIL_ACCESS_TOKEN";
/// Path of the profile file (default: the platform config dir's `psg/config.toml`).
pub const ENV_CONFIG_FILE: &str = "PSG_CONFIG";

/// Largest page concurrency a builder accepts.
pub const MAX_PAGE_CONCURRENCY: usize = 64;

/// Which version of the API to call: the path segment after the tenant root.
/// The Password Sync Groups API is the same under each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `/beta` (the default, where the API started).
    #[default]
    Beta,
    /// `/v3`, the first GA version.
    V3,
    /// `/v2024`.
    V2024,
    /// `/v2025`.
    V2025,
    /// `/v2026`.
    V2026,
}

impl ApiVersion {
    /// Every version, oldest path first.
    pub const ALL: [ApiVersion; 5] =
        [ApiVersion::Beta, ApiVersion::V3, ApiVersion::V2024, ApiVersion::V2025, ApiVersion::V2026];

    /// The path segment: `beta`, `v3`, `v2024`, ...
    pub fn as_str(&self) -> &'static str {
        match self {
            ApiVersion::Beta => "beta",
            ApiVersion::V3 => "v3",
            ApiVersion::V2024 => "v2024",
            ApiVersion::V2025 => "v2025",
            ApiVersion::V2026 => "v2026",
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let wanted = s.trim().trim_start_matches('/');
        ApiVersion::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(wanted)).ok_or_else(|| {
            Error::config(format!("unknown API version {s:?}: use one of beta, v3, v2024, v2025, v2026"))
        })
    }
}

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

impl fmt::Display for ConnectionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionSource::Code => f.write_str("code"),
            ConnectionSource::Environment => f.write_str("environment (SAIL_*)"),
            ConnectionSource::Profile { name, path } => write!(f, "profile '{name}' in {}", path.display()),
        }
    }
}

/// A connection as given, before validation.
#[derive(Debug, Clone, Default)]
struct Connection {
    base_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    access_token: Option<Secret>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    base_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    access_token: Option<String>,
    /// `COUNT/SECS` or `off`.
    rate_limit: Option<String>,
    timeout_secs: Option<u64>,
    max_attempts: Option<u32>,
    api_version: Option<String>,
}

/// The profile file in force: `$PSG_CONFIG`, else `<config dir>/psg/config.toml`
/// (`~/.config/psg/config.toml` on Linux, `~/Library/Application Support/psg/config.toml`
/// on macOS, `%APPDATA%\psg\config.toml` on Windows).
pub fn profile_file_path() -> Option<PathBuf> {
    std::env::var_os(ENV_CONFIG_FILE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("psg").join("config.toml")))
}

/// Largest profile file read.
const MAX_PROFILE_FILE: u64 = 1 << 20;

fn read_profiles(path: &Path) -> Result<ProfileFile, Error> {
    let cannot = |e: String| {
        Error::config(format!(
            "cannot read profile file {}: {e} (create it, or point {ENV_CONFIG_FILE} at an existing file)",
            path.display()
        ))
    };
    let len = std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?.len();
    if len > MAX_PROFILE_FILE {
        return Err(cannot(format!("it is {len} bytes; a profile file is at most 1 MiB")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| cannot(e.to_string()))?;
    toml::from_str(&text).map_err(|e| {
        let line =
            e.span().and_then(|s| text.get(..s.start)).map(|t| t.matches('\n').count() + 1).unwrap_or(1);
        Error::config(format!("{}:{line}: {}", path.display(), e.message().trim()))
    })
}

/// Whether a profile file readable by group or others holds a secret: the
/// warning text to show, if so (as ssh and the AWS CLI warn).
pub fn profile_permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o077 == 0 {
            return None;
        }
        let file = read_profiles(path).ok()?;
        let has_secret =
            file.profiles.values().any(|p| p.client_secret.is_some() || p.access_token.is_some());
        has_secret.then(|| {
            format!(
                "{} holds secrets and is readable by others (mode {:o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Checks and normalises a tenant root: https (or http on loopback only), no
/// user name or password in it; a trailing `/` or API version segment equal
/// to `version` is removed (psg adds it itself).
fn normalize_base_url(raw: &str, origin: &str, version: ApiVersion) -> Result<url::Url, Error> {
    let mut url = url::Url::parse(raw.trim()).map_err(|e| {
        Error::config(format!(
            "{origin} is not a URL ({e}): write the tenant API root such as https://acme.api.identitynow.com"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "{origin} contains a user name or password: remove them from the URL (credentials belong in the client id and secret)"
        )));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(format!(
                "{origin} uses plain http on a non-loopback host: the client secret and tokens would cross the network unencrypted; use https:// (http is accepted only for 127.0.0.0/8, ::1 and localhost)"
            )));
        }
        other => return Err(Error::config(format!("{origin} has scheme '{other}': use https://"))),
    }
    let mut path = url.path().trim_end_matches('/').to_string();
    if let Some((rest, last)) = path.rsplit_once('/') {
        if last.eq_ignore_ascii_case(version.as_str()) {
            path = rest.to_string();
        } else if ApiVersion::ALL.iter().any(|v| v.as_str().eq_ignore_ascii_case(last)) {
            return Err(Error::config(format!(
                "{origin} ends in the API path /{last}: give the tenant root (e.g. https://acme.api.identitynow.com) and choose the API version separately (api_version, --api-version; now {version})"
            )));
        }
    }
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Everything a [`crate::Client`] needs, validated: made only by
/// [`ClientBuilder::into_config`].
#[derive(Debug, Clone)]
pub struct Config {
    base_url: url::Url,
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
    /// The API root: `{base}/{version}`.
    pub fn api_root(&self) -> String {
        format!("{}/{}", self.base_url.as_str().trim_end_matches('/'), self.api_version)
    }
    /// Where sources and password policies are read: `{base}/v3` for the
    /// beta API (they are GA there), else the API root.
    pub fn catalog_root(&self) -> String {
        let version = if self.api_version == ApiVersion::Beta { ApiVersion::V3 } else { self.api_version };
        format!("{}/{}", self.base_url.as_str().trim_end_matches('/'), version)
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
            ConnectionSource::Environment if token => Some(ENV_ACCESS_TOKEN.to_string()),
            ConnectionSource::Environment => Some(format!("{ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}")),
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
    connection: Connection,
    source: ConnectionSource,
    api_version: ApiVersion,
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
    /// The connection from `SAIL_BASE_URL` with `SAIL_CLIENT_ID` and
    /// `SAIL_CLIENT_SECRET` (or `SAIL_ACCESS_TOKEN`). An error names what is
    /// missing when only some are set, or when none are.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_with(|k| std::env::var(k).ok())?.ok_or_else(|| {
            Error::config(format!(
                "no tenant: set {ENV_BASE_URL} (e.g. https://acme.api.identitynow.com) with {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} (or {ENV_ACCESS_TOKEN}), or use a profile"
            ))
        })
    }

    /// The connection from variables read through `get`; `Ok(None)` when
    /// none of the `SAIL_*` connection variables is set.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let connection = Connection {
            base_url: get(ENV_BASE_URL),
            client_id: get(ENV_CLIENT_ID),
            client_secret: get(ENV_CLIENT_SECRET).map(Secret::new),
            access_token: get(ENV_ACCESS_TOKEN).map(Secret::new),
        };
        if connection.base_url.is_none()
            && connection.client_id.is_none()
            && connection.client_secret.is_none()
            && connection.access_token.is_none()
        {
            return Ok(None);
        }
        let names = Names {
            base_url: ENV_BASE_URL,
            client_id: ENV_CLIENT_ID,
            client_secret: ENV_CLIENT_SECRET,
            access_token: ENV_ACCESS_TOKEN,
            place: "the environment",
        };
        check_complete(&connection, &names)?;
        Ok(Some(ClientBuilder { connection, source: ConnectionSource::Environment, ..Self::default() }))
    }

    /// Profile `name` of the profile file ([`profile_file_path`]): its
    /// connection, and its rate limit, timeout, attempts and API version.
    pub fn from_profile(name: &str) -> Result<Self, Error> {
        let path = profile_file_path().ok_or_else(|| {
            Error::config(format!(
                "no config directory on this platform: set {ENV_CONFIG_FILE} to the profile file"
            ))
        })?;
        Self::from_profile_file(&path, name)
    }

    /// Profile `name` of the TOML file at `path`.
    ///
    /// ```toml
    /// [profiles.prod]
    /// base_url = "https://acme.api.identitynow.com"
    /// client_id = "..."
    /// client_secret = "..."
    /// api_version = "v3"        # beta (default), v3, v2024, v2025, v2026
    /// rate_limit = "100/10"     # or "off"
    /// timeout_secs = 30
    /// max_attempts = 3
    /// ```
    pub fn from_profile_file(path: &Path, name: &str) -> Result<Self, Error> {
        let file = read_profiles(path)?;
        let profile = file.profiles.get(name).ok_or_else(|| {
            let known: Vec<_> = file.profiles.keys().cloned().collect();
            Error::config(format!(
                "profile '{name}' is not in {} (known profiles: {}); add a [profiles.{name}] table",
                path.display(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
        })?;
        Self::from_profile_entry(path, name, profile)
    }

    /// The `default` profile when the file at `path` exists and has one;
    /// `Ok(None)` otherwise. A file that exists but does not parse is an error.
    pub fn from_default_profile(path: &Path) -> Result<Option<Self>, Error> {
        if !path.exists() {
            return Ok(None);
        }
        let file = read_profiles(path)?;
        file.profiles.get("default").map(|p| Self::from_profile_entry(path, "default", p)).transpose()
    }

    fn from_profile_entry(path: &Path, name: &str, p: &Profile) -> Result<Self, Error> {
        let origin = format!("profile '{name}' in {}", path.display());
        let connection = Connection {
            base_url: p.base_url.clone().filter(|v| !v.trim().is_empty()),
            client_id: p.client_id.clone().filter(|v| !v.trim().is_empty()),
            client_secret: p.client_secret.clone().filter(|v| !v.is_empty()).map(Secret::new),
            access_token: p.access_token.clone().filter(|v| !v.is_empty()).map(Secret::new),
        };
        let names = Names {
            base_url: "base_url",
            client_id: "client_id",
            client_secret: "client_secret",
            access_token: "access_token",
            place: &origin,
        };
        check_complete(&connection, &names)?;
        let mut b = ClientBuilder {
            connection,
            source: ConnectionSource::Profile { name: name.to_string(), path: path.to_path_buf() },
            ..Self::default()
        };
        if let Some(r) = &p.rate_limit {
            b.rate_limit = RateLimit::parse_setting(r)
                .map_err(|e| Error::config(format!("{origin}: rate_limit: {e}")))?;
        }
        if let Some(secs) = p.timeout_secs {
            if !(1..=3600).contains(&secs) {
                return Err(Error::config(format!("{origin}: timeout_secs {secs} is out of range 1..=3600")));
            }
            b.request_timeout = Duration::from_secs(secs);
        }
        if let Some(n) = p.max_attempts {
            if !(1..=100).contains(&n) {
                return Err(Error::config(format!("{origin}: max_attempts {n} is out of range 1..=100")));
            }
            b.retry = b.retry.max_attempts(n);
        }
        if let Some(v) = &p.api_version {
            b.api_version = v.parse().map_err(|e| Error::config(format!("{origin}: api_version: {e}")))?;
        }
        Ok(b)
    }

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
            other => format!("base_url of {other}"),
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
                    self.source
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
struct Names<'a> {
    base_url: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    access_token: &'a str,
    place: &'a str,
}

/// A connection from one source must be whole: a URL and either a client id
/// with its secret or an access token.
fn check_complete(c: &Connection, n: &Names<'_>) -> Result<(), Error> {
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

    fn env(pairs: &[(&str, &str)]) -> Result<Option<ClientBuilder>, Error> {
        let map: BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ClientBuilder::from_env_with(|k| map.get(k).cloned())
    }

    #[test]
    fn env_gives_client_credentials_and_beta_root() {
        let b = env(&[
            (ENV_BASE_URL, "https://acme.api.identitynow.com/"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "pw"),
        ])
        .unwrap()
        .unwrap();
        let c = b.into_config().unwrap();
        assert_eq!(c.api_root(), "https://acme.api.identitynow.com/beta");
        assert_eq!(c.token_url(), "https://acme.api.identitynow.com/oauth/token");
        assert!(matches!(c.credentials(), Credentials::ClientCredentials { .. }));
        assert_eq!(c.connection_source(), &ConnectionSource::Environment);
        assert!(!format!("{c:?}").contains("pw\""), "secret is redacted in Debug");
    }

    #[test]
    fn a_partial_environment_names_what_is_missing() {
        assert!(env(&[]).unwrap().is_none());
        let e = env(&[(ENV_BASE_URL, "https://a.example")]).err().unwrap().to_string();
        assert!(e.contains(ENV_CLIENT_ID) && e.contains(ENV_CLIENT_SECRET), "{e}");
        let e = env(&[(ENV_BASE_URL, "https://a.example"), (ENV_CLIENT_ID, "x")]).err().unwrap().to_string();
        assert!(e.contains(ENV_CLIENT_SECRET) && !e.contains(ENV_BASE_URL), "{e}");
        let e = env(&[(ENV_CLIENT_ID, "x"), (ENV_CLIENT_SECRET, "y")]).err().unwrap().to_string();
        assert!(e.contains(ENV_BASE_URL), "{e}");
    }

    #[test]
    fn base_urls_are_checked() {
        let v = ApiVersion::Beta;
        for ok in ["http://127.0.0.1:8620", "http://localhost:1/beta", "http://[::1]:80", "http://127.8.9.1"]
        {
            assert!(normalize_base_url(ok, "x", v).is_ok(), "{ok}");
        }
        let e = normalize_base_url("http://acme.api.identitynow.com", "SAIL_BASE_URL", v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("SAIL_BASE_URL") && e.contains("https://") && e.contains("unencrypted"), "{e}");
        assert!(normalize_base_url("ftp://x", "x", v).is_err());
        assert!(normalize_base_url("not a url", "x", v).is_err());
        assert_eq!(
            normalize_base_url("http://localhost:1/beta/", "x", v).unwrap().as_str(),
            "http://localhost:1/"
        );
        let e = normalize_base_url("https://bob:hunter2@acme.example", "SAIL_BASE_URL", v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("user name or password") && !e.contains("hunter2") && !e.contains("bob"), "{e}");
        let e = normalize_base_url("https://acme.example/v3", "SAIL_BASE_URL", v).unwrap_err().to_string();
        assert!(e.contains("/v3") && e.contains("api-version"), "{e}");
        assert_eq!(
            normalize_base_url("https://acme.example/v3", "x", ApiVersion::V3).unwrap().as_str(),
            "https://acme.example/"
        );
    }

    #[test]
    fn api_versions_parse_and_build_the_root() {
        for v in ApiVersion::ALL {
            assert_eq!(v.as_str().parse::<ApiVersion>().unwrap(), v);
        }
        assert!("v4".parse::<ApiVersion>().is_err());
        let c = Client_builder().api_version(ApiVersion::V2025).into_config().unwrap();
        assert_eq!(c.api_root(), "https://acme.example/v2025");
    }

    #[allow(non_snake_case)]
    fn Client_builder() -> ClientBuilder {
        ClientBuilder::default().base_url("https://acme.example").client_credentials("id", "pw")
    }

    #[test]
    fn builder_values_are_validated() {
        assert!(Client_builder().page_concurrency(0).into_config().is_err());
        assert!(Client_builder().page_concurrency(65).into_config().is_err());
        assert!(Client_builder().request_timeout(Duration::ZERO).into_config().is_err());
        assert!(ClientBuilder::default().base_url("https://a.example").into_config().is_err());
    }

    fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn a_profile_supplies_a_whole_connection_and_layered_settings() {
        let (_d, p) = write(
            "good.toml",
            "[profiles.prod]\nbase_url = \"https://prod.example\"\nclient_id = \"file-id\"\nclient_secret = \"file-pw\"\nrate_limit = \"off\"\nmax_attempts = 5\napi_version = \"v3\"\n",
        );
        let c = ClientBuilder::from_profile_file(&p, "prod").unwrap().into_config().unwrap();
        assert_eq!(c.base_url(), "https://prod.example/");
        assert_eq!(c.api_root(), "https://prod.example/v3");
        assert_eq!(c.rate_limit(), None);
        assert_eq!(c.retry().attempts(), 5);
        match c.credentials() {
            Credentials::ClientCredentials { client_id, client_secret } => {
                assert_eq!((client_id.as_str(), client_secret.expose()), ("file-id", "file-pw"));
            }
            other => panic!("{other:?}"),
        }
        // Setting a URL in code drops the profile's credentials entirely.
        let e = ClientBuilder::from_profile_file(&p, "prod")
            .unwrap()
            .base_url("https://elsewhere.example")
            .into_config()
            .unwrap_err()
            .to_string();
        assert!(e.contains("no complete credentials"), "{e}");
    }

    #[test]
    fn bad_profile_files_name_file_and_line() {
        let (_d, p) = write("bad.toml", "[profiles.prod]\nbase_url = \"https://x\"\nclient_id = = 3\n");
        let e = ClientBuilder::from_profile_file(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("bad.toml:3"), "{e}");
        let (_d, p) = write("unknown.toml", "[profiles.prod]\nbase_ur = \"https://x\"\n");
        let e = ClientBuilder::from_profile_file(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("unknown.toml:2") && e.contains("base_ur"), "{e}");
        let (_d, p) = write("other.toml", "[profiles.dev]\n");
        let e = ClientBuilder::from_profile_file(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("'prod'") && e.contains("dev"), "{e}");
        let e = ClientBuilder::from_profile_file(Path::new("/nonexistent/psg.toml"), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/psg.toml") && e.contains(ENV_CONFIG_FILE), "{e}");
        let (_d, p) =
            write("partial.toml", "[profiles.prod]\nbase_url = \"https://x\"\nclient_id = \"id\"\n");
        let e = ClientBuilder::from_profile_file(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("client_secret") && e.contains("'prod'"), "{e}");
        for (key, bad) in [
            ("rate_limit", "\"1/1e300\""),
            ("timeout_secs", "0"),
            ("max_attempts", "0"),
            ("api_version", "\"v9\""),
        ] {
            let (_d, p) = write(
                "r.toml",
                &format!("[profiles.p]\nbase_url = \"https://x\"\naccess_token = \"t\"\n{key} = {bad}\n"),
            );
            let e = ClientBuilder::from_profile_file(&p, "p").unwrap_err().to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_profile_with_secrets_gets_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, p) = write(
            "c.toml",
            "[profiles.p]\nbase_url = \"https://x\"\nclient_id = \"i\"\nclient_secret = \"s\"\n",
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let w = profile_permission_warning(&p).unwrap();
        assert!(w.contains("chmod 600") && !w.contains("\"s\""), "{w}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(profile_permission_warning(&p), None);
    }
}
