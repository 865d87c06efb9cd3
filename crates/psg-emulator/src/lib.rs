//! A local, in-memory server of SailPoint ISC's **Password Sync Groups** API,
//! with the read side of **Sources** and **Password Policies**, for tests,
//! demos and benchmarks: OAuth client credentials, the documented domain rules
//! and error bodies, ISC's sliding-window rate limit, seeded fault injection
//! and an optional state file.
//!
//! # What it serves
//!
//! Under each of `/beta`, `/v3`, `/v2024`, `/v2025` and `/v2026` (identical
//! behaviour, see [`API_VERSIONS`]), and in SailPoint's current per-service
//! layout `v1`, where the version follows the resource
//! (`/password-sync-groups/v1`, `/sources/v1`, `/password-policies/v1`, see
//! [`PER_SERVICE_VERSIONS`]). `--api-versions LIST` serves only some, so
//! that a client can be tested against a tenant without the others. As
//! SailPoint's specs require, the password-policy routes of v2024–v2026 and
//! v1 answer 400 without `X-SailPoint-Experimental: true`
//! ([`EXPERIMENTAL_POLICY_VERSIONS`]):
//!
//! | route | scopes (any of; `sp:scopes:all` always works) |
//! |---|---|
//! | `GET /password-sync-groups`, `GET …/{id}` | `idn:password-sync-group:read`, `:manage` |
//! | `POST /password-sync-groups`, `PUT`/`DELETE …/{id}` | `idn:password-sync-group:manage` |
//! | `GET /sources`, `GET /sources/{id}` | `idn:sources:read`, `idn:sources:manage` |
//! | `GET /password-policies`, `GET /password-policies/{id}` | `idn:password-policy:read`, `:manage` |
//!
//! Lists take `limit` (0–250), `offset` and `count=true` (`X-Total-Count`);
//! `/sources` also takes `filters` (see [`filters`]: `eq`, `in`, `sw`, `co` on
//! `name` and `id`, `ca` on `features`, combined with `and`, `or`, `not` and
//! parentheses) and `sorters`
//! (`name`, `-name`, `id`, `-id`). A source is a v3 `Source`, a policy a
//! `PasswordPolicyV3Dto` with epoch-millisecond dates.
//!
//! The [`Catalog`] of sources and policies is generated (`--sources`,
//! `--policies`; two sources without `PASSWORD` are always added) or read from
//! `--catalog FILE`; `--id-seed` changes generated ids and never names. A
//! group must name an existing policy and at least two existing sources with
//! the `PASSWORD` feature; with `--exclusive-sources` a source belongs to at
//! most one group. The default client `psg-demo`/`psg-demo-secret` manages
//! groups and reads sources and policies.
//!
//! With `--state FILE` every change is saved (atomically, with `psg_fs`)
//! before it takes effect: a failed save answers 500 and changes nothing.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use psg_emulator::Emulator;
//!
//! let emulator = Emulator::builder().bind("127.0.0.1:0".parse().unwrap()).groups(3).start().await?;
//! let catalog = emulator.catalog();
//! assert_eq!(catalog.source_ids.len(), 5);
//! println!("API root: {}/beta", emulator.base_url());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! In a test, the [`EmulatorHandle`] gives the credentials to connect with
//! ([`client_id`](EmulatorHandle::client_id),
//! [`client_secret`](EmulatorHandle::client_secret)), fails the next API
//! requests on demand ([`inject`](EmulatorHandle::inject)), tells what it saw
//! ([`requests`](EmulatorHandle::requests), [`stats`](EmulatorHandle::stats),
//! [`groups`](EmulatorHandle::groups)) and starts over
//! ([`reset`](EmulatorHandle::reset)); the crate's README has a complete test.
//!
//! The same server runs as the binary `psg-emulator` (and `psg emulator`).
//!
//! # Bounds
//!
//! Every setting is checked before anything is allocated, by the flag parsers
//! and again by [`Config::validate`] when a builder starts (an error, exit 2 for
//! the binary, never a panic): `--groups` at most [`config::MAX_GROUPS`]
//! (a million groups take about 0.5 GB and a few seconds to seed),
//! `--sources`/`--policies` at most [`config::MAX_CATALOG`], `--token-ttl` at most
//! 24 hours, `--rate-limit` COUNT ≥ 1 over a window of more than 0 and at most
//! 24 hours, `--latency` at most one hour. SIGINT and SIGTERM are answered
//! during start-up too: seeding stops and the process exits 0 without serving.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub mod admin;
pub mod auth;
pub mod catalog;
mod catalog_api;
pub mod config;
pub mod faults;
pub mod filters;
pub mod limits;
pub mod observe;
mod routes;
pub mod rules;
mod server;
pub mod state;

pub use admin::Stats;
pub use catalog::{Catalog, PolicyEntry, SourceEntry};
pub use config::{
    ClientSpec, Config, EmulatorArgs, Latency, MANAGE_SCOPE, POLICY_MANAGE_SCOPE, POLICY_READ_SCOPE,
    READ_SCOPE, RateLimit, SOURCES_MANAGE_SCOPE, SOURCES_READ_SCOPE,
};
pub use faults::{Fault, FaultSpec};
pub use observe::SeenRequest;
pub use routes::{API_VERSIONS, EXPERIMENTAL_HEADER, EXPERIMENTAL_POLICY_VERSIONS, PER_SERVICE_VERSIONS};
pub use state::Group;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) catalog: Catalog,
    pub(crate) store: Mutex<state::Store>,
    pub(crate) tokens: Mutex<auth::TokenStore>,
    pub(crate) windows: Mutex<HashMap<String, limits::SlidingWindow>>,
    pub(crate) faults: Mutex<faults::FaultInjector>,
    pub(crate) latency_rng: Mutex<ChaCha8Rng>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) log: Mutex<observe::RequestLog>,
    pub(crate) script: observe::Script,
}

impl Shared {
    /// Validates `config`, loads the state file and seeds groups. Seeding
    /// checks `stop` as it goes and gives up with `Interrupted` once it is set.
    fn new(config: Config, catalog: Option<Catalog>, stop: &AtomicBool) -> io::Result<Self> {
        let invalid = |text: String| io::Error::new(io::ErrorKind::InvalidInput, text);
        config.validate().map_err(invalid)?;
        let catalog = match (catalog, &config.catalog_file) {
            (Some(catalog), _) => catalog,
            (None, Some(path)) => Catalog::load(path, config.id_seed).map_err(invalid)?,
            (None, None) => Catalog::generated(config.sources, config.policies, config.id_seed),
        };
        let (sources, policies) = (catalog.source_ids.len(), catalog.password_policy_ids.len());
        if config.groups > 0 && (sources < 2 || policies < 1) {
            return Err(invalid(format!(
                "--groups needs at least 2 password-managed --sources and 1 --policies to create valid groups; the catalog has {sources} and {policies}"
            )));
        }
        if config.exclusive_sources && config.groups.saturating_mul(2) > sources {
            return Err(invalid(
                "--exclusive-sources with --groups N needs at least 2×N password-managed --sources (each seeded group takes two of its own)".into(),
            ));
        }
        let store =
            state::Store::open(config.state_file.as_deref(), config.id_seed).map_err(io::Error::other)?;
        let shared = Shared {
            catalog,
            store: Mutex::new(store),
            tokens: Mutex::default(),
            windows: Mutex::default(),
            faults: Mutex::new(faults::FaultInjector::new(config.faults.clone(), config.fault_seed)),
            latency_rng: Mutex::new(ChaCha8Rng::seed_from_u64(config.fault_seed ^ 0x5eed)),
            stats: Mutex::default(),
            log: Mutex::new(observe::RequestLog::new()),
            script: observe::Script::default(),
            config,
        };
        if shared.store.lock().expect("store lock").groups().is_empty() {
            shared.seed_groups(stop)?;
        }
        Ok(shared)
    }

    /// The `--groups` seed groups, generated lazily.
    fn seed_inputs(&self) -> impl Iterator<Item = state::GroupInput> + '_ {
        let (sources, policies) = (&self.catalog.source_ids, &self.catalog.password_policy_ids);
        let exclusive = self.config.exclusive_sources;
        (0..self.config.groups).map(move |i| state::GroupInput {
            name: format!("Sync group {:05}", i + 1),
            password_policy_id: policies[i % policies.len()].clone(),
            source_ids: if exclusive {
                vec![sources[2 * i].clone(), sources[2 * i + 1].clone()]
            } else {
                vec![sources[i % sources.len()].clone(), sources[(i + 1) % sources.len()].clone()]
            },
        })
    }

    /// Creates the `--groups` seed groups in one step (one save), unless
    /// `stop` is set first.
    fn seed_groups(&self, stop: &AtomicBool) -> io::Result<()> {
        let done = self
            .store
            .lock()
            .expect("store lock")
            .seed(self.seed_inputs(), || stop.load(Ordering::Relaxed))
            .map_err(io::Error::other)?;
        if done {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::Interrupted, "stopped by a signal while seeding groups"))
        }
    }

    /// Back to the initial state: seeded groups (replacing every group in one
    /// save), zero counters, empty windows, no recorded requests and no
    /// scripted faults.
    pub(crate) fn reset(&self) -> Result<(), String> {
        self.store.lock().expect("store lock").reseed(self.seed_inputs())?;
        *self.stats.lock().expect("stats lock") = Stats::default();
        self.windows.lock().expect("windows lock").clear();
        self.log.lock().expect("log lock").clear();
        self.script.clear();
        Ok(())
    }
}

/// Entry point: `Emulator::builder()...start().await`.
pub struct Emulator;

impl Emulator {
    /// A builder with the defaults of the `psg-emulator` binary.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder { config: Config::default(), catalog: None }
    }
}

/// Sets up an emulator; every command-line option has a method here.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    config: Config,
    catalog: Option<Catalog>,
}

impl EmulatorBuilder {
    /// A builder from a complete configuration.
    pub fn from_config(config: Config) -> Self {
        EmulatorBuilder { config, catalog: None }
    }
    /// Address to listen on (port 0 picks a free one). Default `127.0.0.1:8620`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.config.bind = addr;
        self
    }
    /// Listen on a free loopback port: what tests want.
    pub fn ephemeral(self) -> Self {
        self.bind(SocketAddr::from(([127, 0, 0, 1], 0)))
    }
    /// Adds an accepted client (the first call replaces the default demo client).
    pub fn client(mut self, client: ClientSpec) -> Self {
        if self.config.clients == vec![ClientSpec::demo()] {
            self.config.clients.clear();
        }
        self.config.clients.push(client);
        self
    }
    /// Keeps the demo client and adds another.
    pub fn extra_client(mut self, client: ClientSpec) -> Self {
        self.config.clients.push(client);
        self
    }
    /// Lifetime of issued tokens. Default 749 s.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.config.token_ttl = ttl;
        self
    }
    /// Number of known sources. Default 5.
    pub fn sources(mut self, n: usize) -> Self {
        self.config.sources = n;
        self
    }
    /// Number of known policies. Default 5.
    pub fn policies(mut self, n: usize) -> Self {
        self.config.policies = n;
        self
    }
    /// Groups to create at start. Default 0.
    pub fn groups(mut self, n: usize) -> Self {
        self.config.groups = n;
        self
    }
    /// Per-client limit; `None` turns it off. Default 100/10 s.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.config.rate_limit = limit;
        self
    }
    /// Latency added to every API response.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.config.latency = latency;
        self
    }
    /// Faults to inject, and the seed that makes them repeatable.
    pub fn faults(mut self, faults: FaultSpec, seed: u64) -> Self {
        self.config.faults = faults;
        self.config.fault_seed = seed;
        self
    }
    /// How long a `slow` fault stalls. Default 60 s.
    pub fn slow_delay(mut self, delay: Duration) -> Self {
        self.config.slow_delay = delay;
        self
    }
    /// How long a `late` fault holds a write before committing it. Default 3 s.
    pub fn late_delay(mut self, delay: Duration) -> Self {
        self.config.late_delay = delay;
        self
    }
    /// Persist groups in `file` (loaded at start, saved after each change).
    pub fn state_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.config.state_file = Some(file.into());
        self
    }

    /// Sources and policies from a YAML catalog file (see
    /// [`Catalog::from_yaml`]) instead of the generated ones.
    pub fn catalog_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.config.catalog_file = Some(file.into());
        self
    }
    /// These sources and policies (e.g. [`Catalog::from_entries`]) instead
    /// of generated ones or a catalog file.
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }
    /// Seed of generated ids (sources, policies, groups); names never change.
    /// Default 0, the historical ids.
    pub fn id_seed(mut self, seed: u64) -> Self {
        self.config.id_seed = seed;
        self
    }
    /// Whether a source may belong to at most one group (`--exclusive-sources`).
    /// Default off, as in ISC.
    pub fn exclusive_sources(mut self, on: bool) -> Self {
        self.config.exclusive_sources = on;
        self
    }

    /// Whether a group listing at an offset at or past the end (other than
    /// 0) is answered `400 "Specified offset is invalid."`, as ISC answers on
    /// some lists (default off: an empty page).
    pub fn refuse_offset_past_end(mut self, on: bool) -> Self {
        self.config.refuse_offset_past_end = on;
        self
    }

    /// Serve only these API versions (e.g. `["v1"]`); the paths of any other
    /// answer 404. Default: every version of [`API_VERSIONS`] and
    /// [`PER_SERVICE_VERSIONS`].
    pub fn api_versions<I, S>(mut self, versions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.api_versions = versions.into_iter().map(Into::into).collect();
        self
    }

    /// Binds and starts serving in the background of the current runtime.
    pub async fn start(self) -> io::Result<EmulatorHandle> {
        self.start_unless(Arc::new(AtomicBool::new(false))).await
    }

    /// Like [`start`](Self::start), but gives up with `Interrupted` when
    /// `stop` is set while seeding (the work runs on a blocking thread so
    /// the runtime keeps answering signals).
    async fn start_unless(self, stop: Arc<AtomicBool>) -> io::Result<EmulatorHandle> {
        let (config, catalog) = (self.config, self.catalog);
        let shared = tokio::task::spawn_blocking(move || Shared::new(config, catalog, &stop))
            .await
            .map_err(io::Error::other)??;
        let shared = Arc::new(shared);
        let listener = TcpListener::bind(shared.config.bind).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = watch::channel(false);
        let app = routes::router(shared.clone());
        let task = tokio::spawn(server::serve(listener, app, rx));
        Ok(EmulatorHandle { addr, shared, shutdown: tx, task: Some(task) })
    }
}

/// A running emulator. Dropping it stops accepting connections.
pub struct EmulatorHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// `http://HOST:PORT`, the tenant root (the API is under `/beta`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The id of the first accepted client (`psg-demo` unless
    /// [`EmulatorBuilder::client`] replaced it); empty if none is configured.
    pub fn client_id(&self) -> &str {
        self.shared.config.clients.first().map_or("", |c| c.id.as_str())
    }
    /// The secret of that client.
    pub fn client_secret(&self) -> &str {
        self.shared.config.clients.first().map_or("", |c| c.secret.as_str())
    }
    /// The requests answered so far, oldest first (the newest
    /// [`observe::MAX_RECORDED_REQUESTS`]): API calls, token requests and
    /// admin routes alike (see [`SeenRequest::is_api`]).
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.log.lock().expect("log lock").snapshot()
    }
    /// How many old requests [`requests`](Self::requests) no longer holds.
    pub fn requests_dropped(&self) -> u64 {
        self.shared.log.lock().expect("log lock").dropped()
    }
    /// The next API request that passes auth, scope and rate limit gets
    /// `fault` instead of the seeded draw; calls queue up in order. Counted in
    /// [`Stats::faults`] like any injected fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.script.push(None, fault);
    }
    /// Like [`inject`](Self::inject), for the next API request of `method`
    /// (`"PUT"`, `"DELETE"`...) only: requests of other methods pass it by.
    /// Fails on a method that is not an HTTP token.
    pub fn inject_on(&self, method: &str, fault: Fault) -> Result<(), String> {
        let method = axum::http::Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("{method:?} is not an HTTP method"))?;
        self.shared.script.push(Some(method), fault);
        Ok(())
    }
    /// Back to the state at start: the seeded groups, zero counters, empty
    /// rate-limit windows, no recorded requests, no queued faults. Tokens
    /// stay valid. Fails only when the state file cannot be saved.
    pub fn reset(&self) -> io::Result<()> {
        self.shared.reset().map_err(io::Error::other)
    }
    /// Known source and policy ids.
    pub fn catalog(&self) -> Catalog {
        self.shared.catalog.clone()
    }
    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats.lock().expect("stats lock").clone()
    }
    /// The stored groups in creation order.
    pub fn groups(&self) -> Vec<Group> {
        self.shared.store.lock().expect("store lock").groups().to_vec()
    }
    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }
    /// Stops accepting, lets open requests finish (up to 5 s) and returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Runs an emulator until SIGINT or SIGTERM: prints exactly
/// `listening on http://HOST:PORT` as the first line on stdout (flushed).
/// Used by the `psg-emulator` binary and by `psg emulator`.
pub async fn run_foreground(config: Config) -> io::Result<()> {
    use std::io::Write;
    // Listen for signals before announcing the address: a supervisor may
    // send SIGTERM as soon as it reads the first line.
    let stop = stop_signal()?;
    tokio::pin!(stop);
    let cancel = Arc::new(AtomicBool::new(false));
    if config.groups > 0 {
        tracing::info!(groups = config.groups, "seeding groups");
    }
    let starting = EmulatorBuilder::from_config(config).start_unless(cancel.clone());
    tokio::pin!(starting);
    let handle = tokio::select! {
        started = &mut starting => started?,
        () = &mut stop => {
            // Stop seeding and leave without serving.
            cancel.store(true, Ordering::Relaxed);
            tracing::info!("stopped during start-up");
            return match starting.await {
                Ok(handle) => {
                    handle.shutdown().await;
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
                Err(e) => Err(e),
            };
        }
    };
    {
        let mut out = io::stdout().lock();
        writeln!(out, "listening on {}", handle.base_url())?;
        out.flush()?;
    }
    stop.await;
    tracing::info!("shutting down");
    handle.shutdown().await;
    Ok(())
}

/// A future that completes on SIGINT or SIGTERM; the handlers are installed
/// when this returns.
#[cfg(unix)]
fn stop_signal() -> io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
