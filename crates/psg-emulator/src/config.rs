//! Emulator settings: the builder's fields, the command-line options that set
//! them (shared by `psg-emulator` and `psg emulator`), and their parsers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::faults::FaultSpec;

/// The scope that allows every operation.
pub const MANAGE_SCOPE: &str = "idn:password-sync-group:manage";
/// The scope that allows reading only.
pub const READ_SCOPE: &str = "idn:password-sync-group:read";

/// An API client the emulator accepts at `/oauth/token`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSpec {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: String,
    /// Scopes granted to its tokens.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ClientSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSpec")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl ClientSpec {
    /// The default demo client: `psg-demo` / `psg-demo-secret`, manage scope.
    pub fn demo() -> Self {
        ClientSpec {
            id: "psg-demo".into(),
            secret: "psg-demo-secret".into(),
            scopes: vec![MANAGE_SCOPE.into()],
        }
    }
}

impl FromStr for ClientSpec {
    type Err = String;
    /// `ID:SECRET[:SCOPES]`, scopes separated by commas or spaces; a scope
    /// given as `read` or `manage` is expanded to the full scope name.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, ':');
        let id = parts.next().unwrap_or_default();
        let secret = parts.next().unwrap_or_default();
        if id.is_empty() || secret.is_empty() {
            return Err("expected ID:SECRET[:SCOPES], e.g. ci-bot:s3cret:read".into());
        }
        let scopes = match parts.next() {
            None | Some("") => vec![MANAGE_SCOPE.to_string()],
            Some(list) => list
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| match s {
                    "read" => READ_SCOPE.to_string(),
                    "manage" => MANAGE_SCOPE.to_string(),
                    other => other.to_string(),
                })
                .collect(),
        };
        Ok(ClientSpec { id: id.into(), secret: secret.into(), scopes })
    }
}

/// `COUNT/SECS` requests per client over a sliding window, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in any window.
    pub count: u32,
    /// Length of the window.
    pub window: Duration,
}

impl RateLimit {
    /// ISC's documented limit: 100 requests per 10 seconds.
    pub const ISC: RateLimit = RateLimit { count: 100, window: Duration::from_secs(10) };
}

/// A parsed `--rate-limit` value: `None` means off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSetting(pub Option<RateLimit>);

impl FromStr for RateLimitSetting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_rate_limit(s).map(RateLimitSetting)
    }
}

/// Parses `COUNT/SECS` or `off` (`None`).
pub fn parse_rate_limit(s: &str) -> Result<Option<RateLimit>, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let err = || format!("invalid rate limit {s:?}: expected COUNT/SECS such as 100/10, or off");
    let (count, secs) = s.split_once('/').ok_or_else(err)?;
    let count: u32 = count.trim().parse().map_err(|_| err())?;
    let secs: f64 = secs.trim().parse().map_err(|_| err())?;
    if count == 0 || !(secs > 0.0 && secs.is_finite()) {
        return Err(err());
    }
    Ok(Some(RateLimit { count, window: Duration::from_secs_f64(secs) }))
}

/// Added latency: `MS` or `MS..MS` (uniform in the range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Latency {
    /// Smallest delay.
    pub min: Duration,
    /// Largest delay.
    pub max: Duration,
}

impl FromStr for Latency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let err = || format!("invalid latency {s:?}: expected MS or MS..MS, e.g. 50 or 20..80");
        let ms = |t: &str| t.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| err());
        let (min, max) = match s.split_once("..") {
            Some((a, b)) => (ms(a)?, ms(b)?),
            None => (ms(s)?, ms(s)?),
        };
        if min > max {
            return Err(err());
        }
        Ok(Latency { min, max })
    }
}

/// Everything the emulator can be told; see [`crate::Emulator::builder`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Accepted API clients.
    pub clients: Vec<ClientSpec>,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Number of known password-managed sources.
    pub sources: usize,
    /// Number of known password policies.
    pub policies: usize,
    /// Number of valid groups created at start (when no state file has any).
    pub groups: usize,
    /// Per-client limit, `None` for no limit.
    pub rate_limit: Option<RateLimit>,
    /// Latency added to every API response.
    pub latency: Latency,
    /// Faults to inject.
    pub faults: FaultSpec,
    /// Seed of the fault and latency generators.
    pub fault_seed: u64,
    /// How long a `slow` fault stalls before answering.
    pub slow_delay: Duration,
    /// Where to persist groups, if anywhere.
    pub state_file: Option<PathBuf>,
    /// A source may belong to at most one group: a create or update that
    /// takes a source another group holds is refused with 400.
    pub exclusive_sources: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8620)),
            clients: vec![ClientSpec::demo()],
            token_ttl: Duration::from_secs(749),
            sources: 5,
            policies: 5,
            groups: 0,
            rate_limit: Some(RateLimit::ISC),
            latency: Latency::default(),
            faults: FaultSpec::default(),
            fault_seed: 0,
            slow_delay: Duration::from_secs(60),
            state_file: None,
            exclusive_sources: false,
        }
    }
}

/// Command-line options of the emulator, shared by `psg-emulator` and
/// `psg emulator`.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8620")]
    pub bind: SocketAddr,
    /// Accepted client as `ID:SECRET[:SCOPES]` (repeatable; scopes `read`, `manage` or full names).
    /// Default: psg-demo:psg-demo-secret:manage.
    #[arg(long = "client", value_name = "ID:SECRET[:SCOPES]")]
    pub clients: Vec<ClientSpec>,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 749, value_name = "SECS")]
    pub token_ttl: u64,
    /// Number of known password-managed sources (ids listed by GET /__emulator/catalog).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub sources: usize,
    /// Number of known password policies.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub policies: usize,
    /// Number of valid groups to create at start.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub groups: usize,
    /// Per-client limit over a sliding window: COUNT/SECS, or `off`.
    #[arg(long, default_value = "100/10", value_name = "COUNT/SECS|off")]
    pub rate_limit: RateLimitSetting,
    /// Latency added to every API response: `MS` or `MS..MS`.
    #[arg(long, value_name = "MS[..MS]")]
    pub latency: Option<Latency>,
    /// Faults to inject, e.g. 500=0.05,503=0.05,429=0.05,reset=0.02,slow=0.01; lost=P acts, then drops the answer; token500=P hits /oauth/token.
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<FaultSpec>,
    /// Seed of the fault generator: the same seed and request order give the same faults.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub fault_seed: u64,
    /// Load groups from FILE at start and save them there after every change (atomically).
    #[arg(long = "state", value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// A source may belong to at most one group: a create or update that takes a source held by
    /// another group is refused with 400 naming that group.
    #[arg(long)]
    pub exclusive_sources: bool,
}

impl EmulatorArgs {
    /// The configuration these options describe.
    pub fn into_config(self) -> Config {
        let defaults = Config::default();
        Config {
            bind: self.bind,
            clients: if self.clients.is_empty() { defaults.clients } else { self.clients },
            token_ttl: Duration::from_secs(self.token_ttl),
            sources: self.sources,
            policies: self.policies,
            groups: self.groups,
            rate_limit: self.rate_limit.0,
            latency: self.latency.unwrap_or_default(),
            faults: self.faults.unwrap_or_default(),
            fault_seed: self.fault_seed,
            slow_delay: defaults.slow_delay,
            state_file: self.state_file,
            exclusive_sources: self.exclusive_sources,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_spec_parses_and_expands_scopes() {
        let c: ClientSpec = "bot:pw:read".parse().unwrap();
        assert_eq!((c.id.as_str(), c.secret.as_str(), c.scopes), ("bot", "pw", vec![READ_SCOPE.to_string()]));
        let c: ClientSpec = "bot:pw".parse().unwrap();
        assert_eq!(c.scopes, vec![MANAGE_SCOPE.to_string()]);
        assert!("bot".parse::<ClientSpec>().is_err());
        assert!(!format!("{c:?}").contains("pw\""), "secret must not appear in Debug");
    }

    #[test]
    fn rate_limit_and_latency_parse() {
        assert_eq!(parse_rate_limit("100/10").unwrap(), Some(RateLimit::ISC));
        assert_eq!(parse_rate_limit("off").unwrap(), None);
        assert!(parse_rate_limit("0/10").is_err() && parse_rate_limit("10").is_err());
        let l: Latency = "20..80".parse().unwrap();
        assert_eq!((l.min, l.max), (Duration::from_millis(20), Duration::from_millis(80)));
        assert!("80..20".parse::<Latency>().is_err());
    }
}
