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
/// Reads sources (`GET /sources`), as in ISC.
pub const SOURCES_READ_SCOPE: &str = "idn:sources:read";
/// Manages sources; enough to read them too.
pub const SOURCES_MANAGE_SCOPE: &str = "idn:sources:manage";
/// Reads password policies (`GET /password-policies`), as in ISC.
pub const POLICY_READ_SCOPE: &str = "idn:password-policy:read";
/// Manages password policies; enough to read them too.
pub const POLICY_MANAGE_SCOPE: &str = "idn:password-policy:manage";

/// `manage` (and no scopes at all): manage groups, read sources and policies.
fn manage_scopes() -> Vec<String> {
    vec![MANAGE_SCOPE.into(), SOURCES_READ_SCOPE.into(), POLICY_READ_SCOPE.into()]
}

/// `read`: read groups, sources and policies.
fn read_scopes() -> Vec<String> {
    vec![READ_SCOPE.into(), SOURCES_READ_SCOPE.into(), POLICY_READ_SCOPE.into()]
}

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
    /// The default demo client: `psg-demo` / `psg-demo-secret`; it manages
    /// groups and reads sources and password policies.
    pub fn demo() -> Self {
        ClientSpec { id: "psg-demo".into(), secret: "psg-demo-secret".into(), scopes: manage_scopes() }
    }
}

impl FromStr for ClientSpec {
    type Err = String;
    /// `ID:SECRET[:SCOPES]`, scopes separated by commas or spaces. `manage`
    /// (the default) stands for `idn:password-sync-group:manage`,
    /// `idn:sources:read` and `idn:password-policy:read`; `read` for the
    /// three read scopes; any other word is taken as a full scope name.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, ':');
        let id = parts.next().unwrap_or_default();
        let secret = parts.next().unwrap_or_default();
        if id.is_empty() || secret.is_empty() {
            return Err("expected ID:SECRET[:SCOPES], e.g. ci-bot:s3cret:read".into());
        }
        let scopes = match parts.next() {
            None | Some("") => manage_scopes(),
            Some(list) => {
                let mut scopes: Vec<String> = Vec::new();
                for word in list.split([',', ' ']).filter(|s| !s.is_empty()) {
                    let expanded = match word {
                        "read" => read_scopes(),
                        "manage" => manage_scopes(),
                        other => vec![other.to_string()],
                    };
                    for scope in expanded {
                        if !scopes.contains(&scope) {
                            scopes.push(scope);
                        }
                    }
                }
                scopes
            }
        };
        Ok(ClientSpec { id: id.into(), secret: secret.into(), scopes })
    }
}

/// The most groups `--groups` may seed (each costs a few hundred bytes).
pub const MAX_GROUPS: usize = 1_000_000;
/// The most sources or policies `--sources`/`--policies` may generate.
pub const MAX_CATALOG: usize = 100_000;
/// The longest token lifetime, in seconds (24 hours).
pub const MAX_TOKEN_TTL_SECS: u64 = 86_400;
/// The longest rate-limit window (24 hours).
pub const MAX_WINDOW: Duration = Duration::from_secs(86_400);
/// The longest added latency, in milliseconds (one hour).
pub const MAX_LATENCY_MS: u64 = 3_600_000;

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

    /// Checks that `count` is at least 1 and the window is longer than zero
    /// and at most [`MAX_WINDOW`].
    pub fn validate(&self) -> Result<(), String> {
        if self.count == 0 {
            return Err("rate limit count must be at least 1 (use `off` for no limit)".into());
        }
        if self.window.is_zero() || self.window > MAX_WINDOW {
            return Err(format!(
                "rate limit window must be more than 0 and at most {} seconds (24 hours), not {:?}",
                MAX_WINDOW.as_secs(),
                self.window
            ));
        }
        Ok(())
    }
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
    let err = || {
        format!(
            "invalid rate limit {s:?}: expected COUNT/SECS with COUNT from 1 to {} and SECS more than 0 \
             and at most {} (24 hours), such as 100/10, or off",
            u32::MAX,
            MAX_WINDOW.as_secs()
        )
    };
    let (count, secs) = s.split_once('/').ok_or_else(err)?;
    let count: u32 = count.trim().parse().map_err(|_| err())?;
    let secs: f64 = secs.trim().parse().map_err(|_| err())?;
    if count == 0 || !(secs > 0.0 && secs <= MAX_WINDOW.as_secs_f64()) {
        return Err(err());
    }
    let window = Duration::try_from_secs_f64(secs).map_err(|_| err())?;
    let limit = RateLimit { count, window };
    limit.validate().map_err(|_| err())?;
    Ok(Some(limit))
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
        let err = || {
            format!(
                "invalid latency {s:?}: expected MS or MS..MS with MS from 0 to {MAX_LATENCY_MS} (one hour), e.g. 50 or 20..80"
            )
        };
        let ms = |t: &str| {
            t.trim()
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms <= MAX_LATENCY_MS)
                .map(Duration::from_millis)
                .ok_or_else(err)
        };
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
    /// How long a `late` fault holds a write before committing it.
    pub late_delay: Duration,
    /// Where to persist groups, if anywhere.
    pub state_file: Option<PathBuf>,
    /// A source may belong to at most one group: a create or update that
    /// takes a source another group holds is refused with 400.
    pub exclusive_sources: bool,
    /// Sources and policies from this YAML file instead of the generated
    /// catalog (`sources` and `policies` are then ignored).
    pub catalog_file: Option<PathBuf>,
    /// Seed of generated ids (catalog and groups); 0 keeps the historical ids.
    pub id_seed: u64,
    /// Answer a group listing at an offset at or past the end (other than 0)
    /// with `400 "Specified offset is invalid."`, as ISC does on some lists.
    pub refuse_offset_past_end: bool,
    /// The API versions served (of [`crate::API_VERSIONS`] and
    /// [`crate::PER_SERVICE_VERSIONS`]); any other version's paths answer
    /// 404, as on a tenant that does not serve them. Default: all.
    pub api_versions: Vec<String>,
}

/// Every version the emulator can serve, prefixed ones first.
pub fn known_versions() -> Vec<&'static str> {
    crate::API_VERSIONS.iter().chain(crate::PER_SERVICE_VERSIONS.iter()).copied().collect()
}

/// `--api-versions`: a comma-separated list of known versions.
fn api_version_list(s: &str) -> Result<ApiVersions, String> {
    let known = known_versions();
    let mut list = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let wanted = part.trim_start_matches('/').to_ascii_lowercase();
        let Some(version) = known.iter().find(|k| **k == wanted) else {
            return Err(format!(
                "unknown API version {part:?}: use a comma-separated list of {}",
                known.join(", ")
            ));
        };
        if !list.iter().any(|v: &String| v == version) {
            list.push(version.to_string());
        }
    }
    if list.is_empty() {
        return Err(format!("name at least one API version of {}", known.join(", ")));
    }
    Ok(ApiVersions(list))
}

/// A parsed `--api-versions` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersions(pub Vec<String>);

impl Config {
    /// Whether `version` (e.g. `beta`, `v1`) is served.
    pub fn serves(&self, version: &str) -> bool {
        self.api_versions.iter().any(|v| v == version)
    }

    /// Checks every bound a flag or builder call could break: the counts
    /// against [`MAX_GROUPS`] and [`MAX_CATALOG`], the token lifetime against
    /// [`MAX_TOKEN_TTL_SECS`], the rate limit and the latency.
    pub fn validate(&self) -> Result<(), String> {
        let known = known_versions();
        if let Some(bad) = self.api_versions.iter().find(|v| !known.contains(&v.as_str())) {
            return Err(format!("unknown API version {bad:?}: use one of {}", known.join(", ")));
        }
        if self.api_versions.is_empty() {
            return Err(format!("serve at least one API version of {}", known.join(", ")));
        }
        if self.groups > MAX_GROUPS {
            return Err(format!("--groups must be from 0 to {MAX_GROUPS}, not {}", self.groups));
        }
        for (flag, n) in [("--sources", self.sources), ("--policies", self.policies)] {
            if n > MAX_CATALOG {
                return Err(format!("{flag} must be from 0 to {MAX_CATALOG}, not {n}"));
            }
        }
        if self.token_ttl > Duration::from_secs(MAX_TOKEN_TTL_SECS) {
            return Err(format!(
                "--token-ttl must be from 0 to {MAX_TOKEN_TTL_SECS} seconds (24 hours), not {}",
                self.token_ttl.as_secs()
            ));
        }
        if let Some(limit) = &self.rate_limit {
            limit.validate().map_err(|e| format!("--rate-limit: {e}"))?;
        }
        let max_latency = Duration::from_millis(MAX_LATENCY_MS);
        if self.latency.min > self.latency.max || self.latency.max > max_latency {
            return Err(format!(
                "--latency must be MS or MS..MS with MIN <= MAX <= {MAX_LATENCY_MS} ms, not {:?}..{:?}",
                self.latency.min, self.latency.max
            ));
        }
        Ok(())
    }
}

/// A count flag bounded by `max`, with the range in the error.
fn bounded(s: &str, max: usize) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| format!("expected a whole number from 0 to {max}, not {s:?}"))
}

/// The default hold of a `late` fault, in milliseconds.
pub const DEFAULT_LATE_MS: u64 = 3000;

fn late_ms(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= MAX_LATENCY_MS)
        .ok_or_else(|| format!("expected milliseconds from 0 to {MAX_LATENCY_MS} (one hour), not {s:?}"))
}

fn groups_count(s: &str) -> Result<usize, String> {
    bounded(s, MAX_GROUPS)
}

fn catalog_count(s: &str) -> Result<usize, String> {
    bounded(s, MAX_CATALOG)
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
            late_delay: Duration::from_millis(DEFAULT_LATE_MS),
            state_file: None,
            exclusive_sources: false,
            catalog_file: None,
            id_seed: 0,
            refuse_offset_past_end: false,
            api_versions: known_versions().into_iter().map(String::from).collect(),
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
    /// Accepted client as `ID:SECRET[:SCOPES]` (repeatable). SCOPES: comma-separated full names, or
    /// `manage` (the default: manage groups, read sources and policies) or `read` (read all three).
    /// Default client: psg-demo:psg-demo-secret:manage.
    #[arg(long = "client", value_name = "ID:SECRET[:SCOPES]")]
    pub clients: Vec<ClientSpec>,
    /// Lifetime of issued access tokens, in seconds (0 to 86400).
    #[arg(long, default_value_t = 749, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(0..=MAX_TOKEN_TTL_SECS))]
    pub token_ttl: u64,
    /// Number of password-managed sources in the generated catalog, 0 to 100000 (two sources
    /// without the PASSWORD feature are always added; see GET /__emulator/catalog).
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = catalog_count, conflicts_with = "catalog")]
    pub sources: usize,
    /// Number of password policies in the generated catalog, 0 to 100000.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = catalog_count, conflicts_with = "catalog")]
    pub policies: usize,
    /// Sources and password policies from a YAML file instead of the generated catalog:
    /// `sources: [{name, features: [..], id?}]`, `passwordPolicies: [{name, id?}]`.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Seed of generated ids (sources, policies, groups); never changes names. 0 is the default set.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub id_seed: u64,
    /// Number of valid groups to create at start, 0 to 1000000.
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = groups_count)]
    pub groups: usize,
    /// Per-client limit over a sliding window: COUNT/SECS (COUNT ≥ 1, 0 < SECS ≤ 86400), or `off`.
    #[arg(long, default_value = "100/10", value_name = "COUNT/SECS|off")]
    pub rate_limit: RateLimitSetting,
    /// Latency added to every API response: `MS` or `MS..MS` (at most 3600000).
    #[arg(long, value_name = "MS[..MS]")]
    pub latency: Option<Latency>,
    /// Faults to inject, e.g. 500=0.05,503=0.05,429=0.05,reset=0.02,slow=0.01; lost=P acts, then drops the answer; late=P holds a write for --late-ms, then commits it; token500=P hits /oauth/token.
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<FaultSpec>,
    /// Seed of the fault generator: the same seed and request order give the same faults.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub fault_seed: u64,
    /// How long a `late` fault holds a write (create, update, delete) before committing it,
    /// whether or not the client still waits; at most 3600000.
    #[arg(long, default_value_t = DEFAULT_LATE_MS, value_name = "MS", value_parser = late_ms)]
    pub late_ms: u64,
    /// Load groups from FILE at start and save them there (atomically) before every change takes
    /// effect; a failed save answers 500 and changes nothing. The path must be writable.
    #[arg(long = "state", value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// A source may belong to at most one group: a create or update that takes a source held by
    /// another group is refused with 400 naming that group.
    #[arg(long)]
    pub exclusive_sources: bool,
    /// Serve only these API versions, comma-separated (default: all of beta, v3, v2024, v2025,
    /// v2026 and v1); the paths of any other answer 404, as on a tenant that does not serve them.
    #[arg(long, value_name = "LIST", value_parser = api_version_list)]
    pub api_versions: Option<ApiVersions>,
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
            late_delay: Duration::from_millis(self.late_ms),
            state_file: self.state_file,
            exclusive_sources: self.exclusive_sources,
            catalog_file: self.catalog,
            id_seed: self.id_seed,
            refuse_offset_past_end: defaults.refuse_offset_past_end,
            api_versions: self.api_versions.map_or(defaults.api_versions, |l| l.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_spec_parses_and_expands_scopes() {
        let c: ClientSpec = "bot:pw:read".parse().unwrap();
        assert_eq!((c.id.as_str(), c.secret.as_str(), c.scopes), ("bot", "pw", read_scopes()));
        let c: ClientSpec = "bot:pw".parse().unwrap();
        assert_eq!(c.scopes, vec![MANAGE_SCOPE, SOURCES_READ_SCOPE, POLICY_READ_SCOPE]);
        assert_eq!(c.scopes, ClientSpec::demo().scopes);
        let c: ClientSpec = "bot:pw:idn:sources:read".parse().unwrap();
        assert_eq!(c.scopes, vec!["idn:sources:read"], "a full name with colons stays whole");
        let c: ClientSpec = "bot:pw:read,manage".parse().unwrap();
        assert_eq!(c.scopes.len(), 4, "no duplicates: {:?}", c.scopes);
        assert!("bot".parse::<ClientSpec>().is_err());
        assert!(!format!("{c:?}").contains("pw\""), "secret must not appear in Debug");
    }

    #[test]
    fn api_version_lists_parse_or_name_the_known_ones() {
        assert_eq!(api_version_list("v1").unwrap().0, ["v1"]);
        assert_eq!(api_version_list(" beta, /V3 ,beta").unwrap().0, ["beta", "v3"]);
        for bad in ["", " , ", "v4", "beta,v0"] {
            let e = api_version_list(bad).unwrap_err();
            assert!(e.contains("v2026") && e.contains("v1"), "{bad}: {e}");
        }
        let served = Config { api_versions: vec!["v1".into()], ..Config::default() };
        assert!(served.serves("v1") && !served.serves("beta"));
        assert!(Config { api_versions: vec![], ..Config::default() }.validate().is_err());
        assert!(Config { api_versions: vec!["v9".into()], ..Config::default() }.validate().is_err());
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn rate_limits_out_of_range_are_errors_not_panics() {
        for bad in ["1/1e300", "1/1e19", "0/10", "1/0", "1/-1", "1/86401", "1/inf", "1/NaN", "4294967296/1"] {
            let err = parse_rate_limit(bad).unwrap_err();
            assert!(err.contains("86400"), "{bad}: {err}");
        }
        assert_eq!(parse_rate_limit("1/86400").unwrap().unwrap().window, MAX_WINDOW);
        assert!(RateLimit { count: 0, window: Duration::from_secs(1) }.validate().is_err());
        assert!(RateLimit { count: 1, window: Duration::ZERO }.validate().is_err());
        assert!(RateLimit { count: 1, window: MAX_WINDOW + Duration::from_nanos(1) }.validate().is_err());
    }

    #[test]
    fn config_validation_names_the_flag_and_its_range() {
        let check = |c: Config| c.validate().unwrap_err();
        let e = check(Config { groups: MAX_GROUPS + 1, ..Config::default() });
        assert!(e.contains("--groups") && e.contains("1000000"), "{e}");
        let e = check(Config { sources: MAX_CATALOG + 1, ..Config::default() });
        assert!(e.contains("--sources") && e.contains("100000"), "{e}");
        let e = check(Config { policies: usize::MAX, ..Config::default() });
        assert!(e.contains("--policies"), "{e}");
        let e = check(Config { token_ttl: Duration::MAX, ..Config::default() });
        assert!(e.contains("--token-ttl") && e.contains("86400"), "{e}");
        let e = check(Config {
            rate_limit: Some(RateLimit { count: 0, window: Duration::from_secs(1) }),
            ..Config::default()
        });
        assert!(e.contains("--rate-limit"), "{e}");
        let e = check(Config {
            latency: Latency { min: Duration::ZERO, max: Duration::from_secs(7200) },
            ..Config::default()
        });
        assert!(e.contains("--latency"), "{e}");
        assert!(Config::default().validate().is_ok());
        assert!(Config { groups: MAX_GROUPS, ..Config::default() }.validate().is_ok());
        assert!(groups_count("1000001").unwrap_err().contains("0 to 1000000"));
        assert_eq!(groups_count("1000000"), Ok(MAX_GROUPS));
        assert!(catalog_count("-1").is_err() && catalog_count("99999999999999999999999").is_err());
    }

    proptest::proptest! {
        #[test]
        fn flag_parsers_never_panic(s in "\\PC*") {
            let _ = parse_rate_limit(&s);
            let _ = s.parse::<Latency>();
            let _ = s.parse::<ClientSpec>();
            let _ = s.parse::<crate::faults::FaultSpec>();
            let _ = groups_count(&s);
        }

        #[test]
        fn number_shaped_inputs_never_panic(count in proptest::num::u64::ANY, secs in proptest::num::f64::ANY,
                                            a in proptest::num::u64::ANY, b in proptest::num::u64::ANY) {
            let _ = parse_rate_limit(&format!("{count}/{secs}"));
            let _ = parse_rate_limit(&format!("{count}/{secs:e}"));
            let _ = format!("{a}..{b}").parse::<Latency>();
            let _ = format!("500={secs},reset={secs:e}").parse::<crate::faults::FaultSpec>();
        }

        #[test]
        fn valid_rate_limits_round_trip(count in 1u32.., millis in 1u64..=86_400_000) {
            let text = format!("{count}/{}", millis as f64 / 1000.0);
            let limit = parse_rate_limit(&text).unwrap().unwrap();
            proptest::prop_assert_eq!(limit.count, count);
            proptest::prop_assert!(limit.window.as_millis().abs_diff(u128::from(millis)) <= 1, "{} -> {:?}", text, limit.window);
        }

        #[test]
        fn valid_latencies_and_clients_round_trip(a in 0..=MAX_LATENCY_MS, b in 0..=MAX_LATENCY_MS,
                                                   id in "[a-zA-Z0-9_.-]{1,20}", secret in "[a-zA-Z0-9_.-]{1,20}") {
            let (min, max) = (a.min(b), a.max(b));
            let l: Latency = format!("{min}..{max}").parse().unwrap();
            proptest::prop_assert_eq!((l.min, l.max), (Duration::from_millis(min), Duration::from_millis(max)));
            let c: ClientSpec = format!("{id}:{secret}:read").parse().unwrap();
            proptest::prop_assert_eq!((c.id, c.secret, c.scopes), (id, secret, read_scopes()));
        }
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

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    #[test]
    fn late_ms_defaults_to_three_seconds_and_is_bounded() {
        use clap::Parser;
        let config = Cli::try_parse_from(["e"]).unwrap().args.into_config();
        assert_eq!(config.late_delay, Duration::from_secs(3));
        let config = Cli::try_parse_from(["e", "--faults", "late=0.5", "--late-ms", "250"])
            .unwrap()
            .args
            .into_config();
        assert_eq!(config.late_delay, Duration::from_millis(250));
        assert_eq!(config.faults.api, vec![(crate::faults::Fault::Late, 0.5)]);
        let e = Cli::try_parse_from(["e", "--late-ms", "3600001"]).err().unwrap().to_string();
        assert!(e.contains("from 0 to 3600000"), "{e}");
    }
}
