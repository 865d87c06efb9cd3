//! Configuration: environment variables (the same as SailPoint's SDKs),
//! profile files, and the [`ClientBuilder`] that sets everything in code.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// Tenant API root, e.g. `https://acme.api.identitynow.com` (psg adds `/beta`).
pub const ENV_BASE_URL: &str = "SAIL_BASE_URL";
/// OAuth client id for the client-credentials flow.
pub const ENV_CLIENT_ID: &str = "SAIL_CLIENT_ID";
/// OAuth client secret.
pub const ENV_CLIENT_SECRET: &str = "SAIL_CLIENT_SECRET";
/// A ready bearer token (used as is, never refreshed).
pub const ENV_ACCESS_TOKEN: &str = "SAIL_ACCESS_TOKEN";
/// Path of the profile file (default: the platform config dir's `psg/config.toml`).
pub const ENV_CONFIG_FILE: &str = "PSG_CONFIG";

/// How the client authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Client credentials: tokens fetched from `/oauth/token`, cached and refreshed.
    ClientCredentials {
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: Secret,
    },
    /// A ready bearer token, used until it fails.
    AccessToken(Secret),
}

/// Settings gathered from a profile and the environment, before validation.
/// Each value remembers where it came from, for error messages.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `(value, origin)` of the base URL.
    pub base_url: Option<(String, String)>,
    /// Client id.
    pub client_id: Option<String>,
    /// Client secret.
    pub client_secret: Option<Secret>,
    /// Access token.
    pub access_token: Option<Secret>,
    /// Rate limit (`None` inside: off).
    pub rate_limit: Option<Option<RateLimit>>,
    /// Per-request timeout.
    pub timeout: Option<Duration>,
    /// Attempts per operation.
    pub max_attempts: Option<u32>,
}

impl Settings {
    /// Reads the `SAIL_*` variables through `get` (so tests need not touch the
    /// process environment).
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        Settings {
            base_url: get(ENV_BASE_URL).map(|v| (v, ENV_BASE_URL.to_string())),
            client_id: get(ENV_CLIENT_ID),
            client_secret: get(ENV_CLIENT_SECRET).map(Secret::new),
            access_token: get(ENV_ACCESS_TOKEN).map(Secret::new),
            ..Settings::default()
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// Values of `over` replace ours where set.
    pub fn overlay(mut self, over: Settings) -> Self {
        self.base_url = over.base_url.or(self.base_url);
        if over.client_id.is_some() || over.client_secret.is_some() || over.access_token.is_some() {
            self.client_id = over.client_id.or(self.client_id);
            self.client_secret = over.client_secret.or(self.client_secret);
            self.access_token = over.access_token.or(self.access_token);
        }
        self.rate_limit = over.rate_limit.or(self.rate_limit);
        self.timeout = over.timeout.or(self.timeout);
        self.max_attempts = over.max_attempts.or(self.max_attempts);
        self
    }
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
}

/// The profile file in force: `$PSG_CONFIG`, else `<config dir>/psg/config.toml`.
pub fn profile_file_path() -> Option<PathBuf> {
    std::env::var_os(ENV_CONFIG_FILE)
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("psg").join("config.toml")))
}

/// Parses `COUNT/SECS` or `off`.
pub fn parse_rate_limit(s: &str) -> Result<Option<RateLimit>, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let err = || format!("invalid rate limit {s:?}: write COUNT/SECS such as 100/10, or off");
    let (count, secs) = s.split_once('/').ok_or_else(err)?;
    let count: u32 = count.trim().parse().map_err(|_| err())?;
    let secs: f64 = secs.trim().parse().map_err(|_| err())?;
    if count == 0 || !(secs > 0.0 && secs.is_finite()) {
        return Err(err());
    }
    Ok(Some(RateLimit { count, window: Duration::from_secs_f64(secs) }))
}

fn read_profiles(path: &Path) -> Result<ProfileFile, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!(
            "cannot read profile file {}: {e} (create it, or point {ENV_CONFIG_FILE} at an existing file)",
            path.display()
        ))
    })?;
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1).unwrap_or(1);
        Error::config(format!("{}:{line}: {}", path.display(), e.message()))
    })
}

/// Reads profile `name` from the TOML file at `path`.
///
/// ```toml
/// [profiles.prod]
/// base_url = "https://acme.api.identitynow.com"
/// client_id = "..."
/// client_secret = "..."
/// rate_limit = "100/10"   # or "off"
/// ```
pub fn load_profile(path: &Path, name: &str) -> Result<Settings, Error> {
    let file = read_profiles(path)?;
    let profile = file.profiles.get(name).ok_or_else(|| {
        let known: Vec<_> = file.profiles.keys().cloned().collect();
        Error::config(format!(
            "profile '{name}' is not in {} (known profiles: {}); add a [profiles.{name}] table",
            path.display(),
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ))
    })?;
    profile_settings(path, name, profile)
}

/// The `default` profile when the file exists and has one; `None` otherwise.
/// A file that exists but does not parse is still an error.
pub fn load_default_profile(path: &Path) -> Result<Option<Settings>, Error> {
    if !path.exists() {
        return Ok(None);
    }
    let file = read_profiles(path)?;
    file.profiles.get("default").map(|p| profile_settings(path, "default", p)).transpose()
}

fn profile_settings(path: &Path, name: &str, profile: &Profile) -> Result<Settings, Error> {
    let origin = format!("profile '{name}' in {}", path.display());
    let rate_limit = profile
        .rate_limit
        .as_deref()
        .map(|r| parse_rate_limit(r).map_err(|e| Error::config(format!("{origin}: rate_limit: {e}"))))
        .transpose()?;
    Ok(Settings {
        base_url: profile.base_url.clone().map(|b| (b, origin.clone())),
        client_id: profile.client_id.clone(),
        client_secret: profile.client_secret.clone().map(Secret::new),
        access_token: profile.access_token.clone().map(Secret::new),
        rate_limit,
        timeout: profile.timeout_secs.map(Duration::from_secs),
        max_attempts: profile.max_attempts,
    })
}

/// Checks and normalises a tenant root: https, or http on loopback only; a
/// trailing `/` or `/beta` is removed (psg adds `/beta` itself).
pub fn normalize_base_url(raw: &str, origin: &str) -> Result<url::Url, Error> {
    let mut url = url::Url::parse(raw.trim()).map_err(|e| {
        Error::config(format!(
            "{origin} is not a URL ({e}): write the tenant API root such as https://acme.api.identitynow.com"
        ))
    })?;
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
    let path = url.path().trim_end_matches('/').trim_end_matches("/beta").trim_end_matches('/').to_string();
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// Everything a [`crate::Client`] needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Tenant root without `/beta`.
    pub base_url: url::Url,
    /// How to authenticate.
    pub credentials: Credentials,
    /// TCP connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Whole-request timeout. Default 30 s.
    pub request_timeout: Duration,
    /// `User-Agent` header. Default `psg/<version>`.
    pub user_agent: String,
    /// Explicit proxy; otherwise reqwest honours `HTTPS_PROXY`/`NO_PROXY`.
    pub proxy: Option<String>,
    /// Extra trusted root certificates (PEM).
    pub root_certificates: Vec<Vec<u8>>,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Client-side rate limit. Default ISC's 100 per 10 s; `None` is off.
    pub rate_limit: Option<RateLimit>,
    /// Pages fetched at once by list streams. Default 4.
    pub page_concurrency: usize,
    /// Refresh a token this long before it expires. Default 60 s.
    pub token_refresh_margin: Duration,
}

impl Config {
    /// The API root: `{base}/beta`.
    pub fn api_root(&self) -> String {
        format!("{}/beta", self.base_url.as_str().trim_end_matches('/'))
    }

    /// The token endpoint: `{base}/oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base_url.as_str().trim_end_matches('/'))
    }
}

/// Builds a [`crate::Client`] in code.
///
/// ```no_run
/// # async fn run() -> Result<(), psg_ext::Error> {
/// use std::time::Duration;
/// let client = psg_ext::Client::builder()
///     .base_url("https://acme.api.identitynow.com")
///     .client_credentials("my-client-id", "my-client-secret")
///     .request_timeout(Duration::from_secs(20))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    settings: Settings,
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
            settings: Settings::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: format!("psg/{}", env!("CARGO_PKG_VERSION")),
            proxy: None,
            root_certificates: Vec::new(),
            retry: RetryPolicy::default(),
            rate_limit: Some(RateLimit::ISC_DEFAULT),
            page_concurrency: 4,
            token_refresh_margin: Duration::from_secs(60),
        }
    }
}

impl ClientBuilder {
    /// Starts from gathered [`Settings`] (profile and environment).
    pub fn from_settings(settings: Settings) -> Self {
        let mut b = ClientBuilder::default();
        if let Some(limit) = settings.rate_limit {
            b.rate_limit = limit;
        }
        if let Some(t) = settings.timeout {
            b.request_timeout = t;
        }
        if let Some(a) = settings.max_attempts {
            b.retry = b.retry.with_max_attempts(a);
        }
        b.settings = settings;
        b
    }

    /// The tenant API root, e.g. `https://acme.api.identitynow.com`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.settings.base_url = Some((url.into(), "the configured base URL".into()));
        self
    }
    /// Client-credentials flow.
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.settings.client_id = Some(client_id.into());
        self.settings.client_secret = Some(Secret::new(client_secret));
        self.settings.access_token = None;
        self
    }
    /// A ready bearer token (never refreshed).
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.settings.access_token = Some(Secret::new(token));
        self.settings.client_id = None;
        self.settings.client_secret = None;
        self
    }
    /// TCP connect timeout.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// Whole-request timeout (each attempt).
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }
    /// `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// Send everything through this proxy URL.
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
    /// Client-side rate limit; `None` turns it off.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }
    /// Pages a list stream fetches at once (at least 1).
    pub fn page_concurrency(mut self, n: usize) -> Self {
        self.page_concurrency = n.max(1);
        self
    }
    /// Refresh tokens this long before they expire.
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// Validates everything into a [`Config`].
    pub fn into_config(self) -> Result<Config, Error> {
        let (raw, origin) = self.settings.base_url.clone().ok_or_else(|| {
            Error::config(format!(
                "no tenant URL: set {ENV_BASE_URL} (e.g. https://acme.api.identitynow.com), pass --base-url, or use a profile"
            ))
        })?;
        let base_url = normalize_base_url(&raw, &origin)?;
        let credentials = match (
            &self.settings.access_token,
            &self.settings.client_id,
            &self.settings.client_secret,
        ) {
            (Some(token), _, _) => Credentials::AccessToken(token.clone()),
            (None, Some(id), Some(secret)) => {
                Credentials::ClientCredentials { client_id: id.clone(), client_secret: secret.clone() }
            }
            (None, Some(_), None) => {
                return Err(Error::config(format!(
                    "{ENV_CLIENT_ID} is set but {ENV_CLIENT_SECRET} is not: set both"
                )));
            }
            (None, None, Some(_)) => {
                return Err(Error::config(format!(
                    "{ENV_CLIENT_SECRET} is set but {ENV_CLIENT_ID} is not: set both"
                )));
            }
            (None, None, None) => {
                return Err(Error::config(format!(
                    "no credentials: set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} (or {ENV_ACCESS_TOKEN}), or use a profile"
                )));
            }
        };
        Ok(Config {
            base_url,
            credentials,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            user_agent: self.user_agent,
            proxy: self.proxy,
            root_certificates: self.root_certificates,
            retry: self.retry,
            rate_limit: self.rate_limit,
            page_concurrency: self.page_concurrency,
            token_refresh_margin: self.token_refresh_margin,
        })
    }

    /// Builds the client.
    pub fn build(self) -> Result<crate::Client, Error> {
        crate::Client::from_config(self.into_config()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Settings {
        let map: BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_env_with(|k| map.get(k).cloned())
    }

    #[test]
    fn env_gives_client_credentials_and_beta_root() {
        let s = env(&[
            (ENV_BASE_URL, "https://acme.api.identitynow.com/"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "pw"),
        ]);
        let c = ClientBuilder::from_settings(s).into_config().unwrap();
        assert_eq!(c.api_root(), "https://acme.api.identitynow.com/beta");
        assert_eq!(c.token_url(), "https://acme.api.identitynow.com/oauth/token");
        assert!(matches!(c.credentials, Credentials::ClientCredentials { .. }));
        assert!(!format!("{c:?}").contains("pw\""), "secret is redacted in Debug");
    }

    #[test]
    fn missing_values_name_the_variable() {
        let e = ClientBuilder::from_settings(env(&[])).into_config().unwrap_err().to_string();
        assert!(e.contains(ENV_BASE_URL), "{e}");
        let e = ClientBuilder::from_settings(env(&[(ENV_BASE_URL, "https://a.example")]))
            .into_config()
            .unwrap_err()
            .to_string();
        assert!(e.contains(ENV_CLIENT_ID) && e.contains(ENV_CLIENT_SECRET), "{e}");
        let e =
            ClientBuilder::from_settings(env(&[(ENV_BASE_URL, "https://a.example"), (ENV_CLIENT_ID, "x")]))
                .into_config()
                .unwrap_err()
                .to_string();
        assert!(e.contains(ENV_CLIENT_SECRET), "{e}");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in ["http://127.0.0.1:8620", "http://localhost:1/beta", "http://[::1]:80", "http://127.8.9.1"]
        {
            assert!(normalize_base_url(ok, "x").is_ok(), "{ok}");
        }
        let e =
            normalize_base_url("http://acme.api.identitynow.com", "SAIL_BASE_URL").unwrap_err().to_string();
        assert!(e.contains("SAIL_BASE_URL") && e.contains("https://") && e.contains("unencrypted"), "{e}");
        assert!(normalize_base_url("ftp://x", "x").is_err());
        assert!(normalize_base_url("not a url", "x").is_err());
        assert_eq!(
            normalize_base_url("http://localhost:1/beta/", "x").unwrap().as_str(),
            "http://localhost:1/"
        );
    }

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("psg-ext-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn profiles_load_and_env_overrides_file() {
        let p = write(
            "good.toml",
            "[profiles.prod]\nbase_url = \"https://prod.example\"\nclient_id = \"file-id\"\nclient_secret = \"file-pw\"\nrate_limit = \"off\"\nmax_attempts = 5\n",
        );
        let file = load_profile(&p, "prod").unwrap();
        let merged = file.overlay(env(&[(ENV_CLIENT_ID, "env-id"), (ENV_CLIENT_SECRET, "env-pw")]));
        let b = ClientBuilder::from_settings(merged);
        let c = b.into_config().unwrap();
        assert_eq!(c.base_url.as_str(), "https://prod.example/");
        assert_eq!(c.rate_limit, None);
        assert_eq!(c.retry.max_attempts, 5);
        match c.credentials {
            Credentials::ClientCredentials { client_id, client_secret } => {
                assert_eq!((client_id.as_str(), client_secret.expose()), ("env-id", "env-pw"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_profile_files_name_file_and_line() {
        let p = write("bad.toml", "[profiles.prod]\nbase_url = \"https://x\"\nclient_id = = 3\n");
        let e = load_profile(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("bad.toml:3"), "{e}");
        let p = write("unknown.toml", "[profiles.prod]\nbase_ur = \"https://x\"\n");
        let e = load_profile(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("unknown.toml:2") && e.contains("base_ur"), "{e}");
        let p = write("other.toml", "[profiles.dev]\n");
        let e = load_profile(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("'prod'") && e.contains("dev"), "{e}");
        let e = load_profile(Path::new("/nonexistent/psg.toml"), "x").unwrap_err().to_string();
        assert!(e.contains("/nonexistent/psg.toml") && e.contains(ENV_CONFIG_FILE), "{e}");
    }
}
