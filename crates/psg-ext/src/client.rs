//! [`Client`]: construction, and the one loop every operation goes through
//! (token and rate-limit slot → send → classify → retry or return).

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use psg_client::hooks::{BODY_TOO_LARGE_HEADER, BoxFuture, Hooks, RequestHook};
use psg_client::types::ApiErrorBody;
use psg_client::{ResponseMeta, ResponseValue, capture_response};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::Auth;
use crate::config::{ClientBuilder, Config, Resource, is_loopback};
use crate::error::{Error, FailedResponse, TransportError, TransportKind, parse_retry_after, snippet};
use crate::rate_limit::RateLimiter;
use crate::retry::{Decision, Idempotency, Outcome, RetryBudget};
use crate::secret::Secret;

/// What the request hook did for the attempt running in this task.
#[derive(Default)]
struct AttemptSlot {
    /// The path and query it was sent to (for the `-v` log line).
    path: Option<String>,
    /// The token it sent.
    token: Option<Secret>,
    /// Why it could not get one.
    auth_error: Option<Error>,
    /// Whether the hook refused the attempt because the client was stopped.
    stopped: bool,
}

tokio::task_local! {
    static ATTEMPT: RefCell<AttemptSlot>;
}

/// Text of the hook's refusal when the token could not be had (the typed
/// error travels in [`AttemptSlot::auth_error`]).
const NO_TOKEN: &str = "no access token";
/// Text of the hook's refusal after [`Client::stop_new_requests`].
const STOPPED: &str = "the client was stopped";

/// Closed by [`Client::stop_new_requests`]: from then on no request attempt
/// of the client (or its clones) starts.
#[derive(Default)]
struct Gate {
    closed: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl Gate {
    fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves once the gate is closed.
    async fn closed(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

/// Runs right before a request is written. It waits until the rate limit
/// would let a request through, then gets the token (from the cache, or by
/// fetching one), then takes the slot at that instant if it is still free
/// (else waits again). So a slot is stamped as late as possible, after the
/// token is at hand, and the token sent is never older than the wait.
struct SendHook {
    gate: Arc<Gate>,
    limiter: Arc<RateLimiter>,
    auth: Arc<Auth>,
    /// Headers the configured version requires on this hook's resource
    /// ([`ApiVersion::headers`]).
    headers: &'static [(&'static str, &'static str)],
}

impl RequestHook for SendHook {
    fn prepare<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
        _op: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let started = Instant::now();
            let stopped = || {
                let _ = ATTEMPT.try_with(|slot| slot.borrow_mut().stopped = true);
                Err(STOPPED.to_string())
            };
            // A place in line (FIFO); dropped with this future if it is cancelled.
            let mut ticket = self.limiter.join();
            let token = loop {
                tokio::select! {
                    biased;
                    () = self.gate.closed() => return stopped(),
                    () = ticket.wait_ready() => {}
                }
                let token = match self.auth.bearer().await {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = ATTEMPT.try_with(|slot| slot.borrow_mut().auth_error = Some(e));
                        return Err(NO_TOKEN.to_string());
                    }
                };
                if self.gate.is_closed() {
                    return stopped();
                }
                if ticket.try_take() {
                    break token;
                }
            };
            let waited = started.elapsed();
            if !waited.is_zero() {
                tracing::debug!(
                    waited_ms = waited.as_millis() as u64,
                    "waited for the rate limit or a token"
                );
            }
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| "the access token contains characters not allowed in a header".to_string())?;
            value.set_sensitive(true);
            let headers = request.headers_mut();
            headers.insert(AUTHORIZATION, value);
            for (name, value) in self.headers {
                headers.insert(*name, HeaderValue::from_static(value));
            }
            let path = match request.url().query() {
                Some(q) => format!("{}?{q}", request.url().path()),
                None => request.url().path().to_string(),
            };
            let _ = ATTEMPT.try_with(|slot| {
                let mut slot = slot.borrow_mut();
                slot.token = Some(token);
                slot.path = Some(path);
            });
            Ok(())
        })
    }
}

/// A client of the Password Sync Groups API. Cheap to clone; clones share
/// the token cache, the rate limiter and the retry budget.
///
/// ```no_run
/// # async fn run() -> Result<(), psg_ext::Error> {
/// let client = psg_ext::Client::from_env()?; // SAIL_BASE_URL, SAIL_CLIENT_ID, SAIL_CLIENT_SECRET
/// let group = client.get_group("2c9180887d9c0c5e017da4b4f3d2004c").await?;
/// println!("{:?} has {} sources", group.name, group.source_ids.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    /// The generated client rooted where password sync groups live.
    pub(crate) groups: psg_client::Client,
    /// ... where sources are read.
    pub(crate) sources: psg_client::Client,
    /// ... where password policies are read.
    pub(crate) policies: psg_client::Client,
    auth: Arc<Auth>,
    limiter: Arc<RateLimiter>,
    gate: Arc<Gate>,
    budget: RetryBudget,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api_root", &self.inner.config.api_root())
            .field("rate_limit", &self.inner.config.rate_limit())
            .field("max_attempts", &self.inner.config.retry().attempts())
            .finish_non_exhaustive()
    }
}

/// One API operation, as the retry loop and tracing see it.
pub(crate) struct Operation {
    pub id: &'static str,
    /// What it works on: decides its path prefix, headers and scope.
    pub resource: Resource,
    pub method: &'static str,
    /// On one item (`{id}` in the path) rather than the collection; the path
    /// itself comes from [`crate::ApiVersion::path`].
    pub item: bool,
    pub idempotency: Idempotency,
}

impl Operation {
    /// The OAuth scope this operation needs: its resource's read scope for a
    /// GET, its write scope otherwise.
    pub(crate) fn scope(&self) -> &'static str {
        match self.method {
            "GET" => self.resource.read_scope(),
            _ => self.resource.write_scope(),
        }
    }
}

/// One call of an operation: which one, and what it is about.
pub(crate) struct Op<'a> {
    pub operation: &'static Operation,
    /// The id in the path, if any.
    pub group_id: Option<&'a str>,
    /// For a create: the name of what is created (for a lost answer).
    pub creating: Option<&'a str>,
}

/// What a call returned.
pub(crate) enum Reply<T> {
    /// The response.
    Value(ResponseValue<T>),
    /// A DELETE whose earlier attempt may have acted got 404 on a retry.
    AlreadyGone,
}

impl<T> Reply<T> {
    /// The response, for operations that never answer `AlreadyGone`.
    pub(crate) fn into_value(self, operation: &'static str) -> Result<ResponseValue<T>, Error> {
        match self {
            Reply::Value(v) => Ok(v),
            Reply::AlreadyGone => Err(Error::Decode {
                operation,
                status: reqwest::StatusCode::NOT_FOUND,
                message: "the resource is gone".into(),
                cause: None,
            }),
        }
    }
}

/// Why an attempt failed, before it becomes an [`Error`].
enum AttemptFailure {
    Response(Box<FailedResponse>),
    Transport(TransportError),
    Decode(reqwest::StatusCode, String, Option<Box<dyn std::error::Error + Send + Sync>>),
    Refused(String),
    /// The body passed psg-client's bound (never retried: it would again).
    TooLarge(reqwest::StatusCode),
}

impl Client {
    /// A builder to set everything in code.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// From `SAIL_BASE_URL` with `SAIL_CLIENT_ID` and `SAIL_CLIENT_SECRET`
    /// (or `SAIL_ACCESS_TOKEN`), like SailPoint's SDKs. The whole connection
    /// comes from the environment; a partial set is an error naming what is missing.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// From profile `name` of the profile file (`$PSG_CONFIG`, else
    /// `<config dir>/psg/config.toml`). The whole connection comes from the
    /// profile; `SAIL_*` variables are not consulted.
    pub fn from_profile(name: &str) -> Result<Self, Error> {
        ClientBuilder::from_profile(name)?.build()
    }

    /// From a validated [`Config`].
    pub fn from_config(config: Config) -> Result<Self, Error> {
        let mut http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout())
            .timeout(config.request_timeout())
            .user_agent(config.user_agent())
            // An API client never follows a redirect: a 302 would turn a POST into a GET.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true);
        if let Some(proxy) = config.proxy() {
            // reqwest accepts almost any string here and fails only when sending;
            // check the URL now so the error names the setting.
            let bad = |why: String| Error::config(format!("proxy URL '{proxy}' is not valid: {why}"));
            let parsed = url::Url::parse(proxy).map_err(|e| bad(e.to_string()))?;
            if !matches!(parsed.scheme(), "http" | "https" | "socks5" | "socks5h") || parsed.host().is_none()
            {
                return Err(bad(
                    "write it as http://HOST:PORT, https://HOST:PORT or socks5://HOST:PORT".into()
                ));
            }
            let proxy = reqwest::Proxy::all(proxy).map_err(|e| bad(e.to_string()))?;
            http = http.proxy(proxy);
        }
        let mut http = crate::tls::configure(http, config.root_certificates())?;
        let loopback = url::Url::parse(config.base_url()).is_ok_and(|u| is_loopback(&u));
        if loopback && config.proxy().is_none() {
            // A local emulator is never reached through HTTP(S)_PROXY.
            http = http.no_proxy();
        }
        let http = http.build().map_err(|e| {
            Error::config(format!("cannot build the HTTP client: {}", crate::error::cause_chain(&e)))
        })?;
        let limiter = Arc::new(RateLimiter::new(config.rate_limit()));
        let auth = Arc::new(Auth::new(&config, http.clone()));
        let gate = Arc::new(Gate::default());
        // One generated client per resource: its root and its headers are
        // decided in one place, `ApiVersion::prefix` and `ApiVersion::headers`.
        let client_for = |resource: Resource| {
            let hook = SendHook {
                gate: gate.clone(),
                limiter: limiter.clone(),
                auth: auth.clone(),
                headers: config.api_version().headers(resource),
            };
            psg_client::Client::new_with_client(
                &config.root_for(resource),
                http.clone(),
                Hooks::new(Arc::new(hook)),
            )
        };
        let groups = client_for(Resource::PasswordSyncGroups);
        let sources = client_for(Resource::Sources);
        let policies = client_for(Resource::PasswordPolicies);
        let inner = Inner {
            auth,
            limiter,
            gate,
            budget: RetryBudget::new(config.retry().budget_capacity()),
            groups,
            sources,
            policies,
            config,
        };
        Ok(Client { inner: Arc::new(inner) })
    }

    /// Stops the client (and its clones) from starting requests: a call
    /// waiting for a rate-limit slot or a token, and any later call or
    /// retry, ends with [`Error::Stopped`] without sending; requests
    /// already sent finish. For a clean Ctrl-C. There is no way back: build
    /// another client.
    pub fn stop_new_requests(&self) {
        self.inner.gate.close();
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The bearer token the client would send now: the cached or a freshly
    /// fetched one for client credentials, the fixed one otherwise. For
    /// diagnostics such as `psg auth status`; it is a secret: never print it.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        self.inner.auth.bearer().await
    }

    /// Runs one operation with rate limiting, auth and retries.
    /// Whether operations go to the per-service layout's `…_v1` methods.
    pub(crate) fn per_service(&self) -> bool {
        self.inner.config.api_version().layout() == crate::config::Layout::PerService
    }

    pub(crate) async fn call<T, F, Fut>(&self, op: Op<'_>, send: F) -> Result<Reply<T>, Error>
    where
        T: serde::de::DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, psg_client::Error<ApiErrorBody>>>,
    {
        let Operation { id, method, resource, item, .. } = op.operation;
        let path = self.inner.config.api_version().path(*resource, *item);
        // Shown from -vv on (debug); -v has one line per request without it.
        let span = tracing::debug_span!("psg.operation", op = id, ?resource, method = method, path = %path);
        self.call_inner(&op, send).instrument(span).await
    }

    async fn call_inner<T, F, Fut>(&self, op: &Op<'_>, send: F) -> Result<Reply<T>, Error>
    where
        T: serde::de::DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, psg_client::Error<ApiErrorBody>>>,
    {
        let inner = &self.inner;
        let mut attempt = 0u32;
        let mut refreshed_after_401 = false;
        // Whether an earlier attempt may have reached the server and acted.
        let mut may_have_acted = false;
        loop {
            attempt += 1;
            // Token and rate-limit slot are taken in the request hook, right
            // before sending (see `SendHook`).
            let started = Instant::now();
            let ((result, slot), meta) = capture_response(ATTEMPT.scope(RefCell::default(), async {
                let result = send().await;
                (result, ATTEMPT.with(|s| s.take()))
            }))
            .await;
            if let Some(e) = slot.auth_error {
                return Err(e);
            }
            if slot.stopped {
                return Err(Error::Stopped { operation: op.operation.id.to_string(), may_have_acted });
            }
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let method = op.operation.method;
            let path = match &slot.path {
                Some(sent) => sent.clone(),
                None => inner.config.api_version().path(op.operation.resource, op.operation.item),
            };
            let failure = match result {
                Ok(value) => {
                    inner.budget.on_success();
                    let status = value.status().as_u16();
                    tracing::info!(%method, %path, status, elapsed_ms, attempt, "http request");
                    return Ok(Reply::Value(value));
                }
                Err(e) => classify::<T>(e, meta).await,
            };
            let status = match &failure {
                AttemptFailure::Response(r) => Some(r.status.as_u16().to_string()),
                AttemptFailure::Transport(e) => Some(
                    match e.kind() {
                        TransportKind::Connect => "connect-failed",
                        TransportKind::Timeout => "timed-out",
                        TransportKind::Lost => "connection-lost",
                    }
                    .to_string(),
                ),
                AttemptFailure::Decode(..) => Some("undecodable-body".to_string()),
                AttemptFailure::TooLarge(_) => Some("body-too-large".to_string()),
                // Refused before sending: no HTTP request to log.
                AttemptFailure::Refused(_) => None,
            };
            if let Some(status) = status {
                tracing::info!(%method, %path, %status, elapsed_ms, attempt, "http request");
            }
            let outcome = match &failure {
                AttemptFailure::Response(r) => {
                    Outcome::Status { code: r.status.as_u16(), retry_after: parse_retry_after(&r.headers) }
                }
                AttemptFailure::Transport(e) => match e.kind() {
                    TransportKind::Connect => Outcome::ConnectFailed,
                    TransportKind::Timeout => Outcome::TimedOut,
                    TransportKind::Lost => Outcome::ConnectionLost,
                },
                AttemptFailure::Decode(..) | AttemptFailure::Refused(_) | AttemptFailure::TooLarge(_) => {
                    return Err(into_error(failure, op, attempt, &inner.config));
                }
            };
            if let Outcome::Status { code: 404, .. } = outcome
                && may_have_acted
                && op.operation.method == "DELETE"
            {
                tracing::debug!(attempt, "404 after an attempt whose answer was lost: the delete happened");
                return Ok(Reply::AlreadyGone);
            }
            may_have_acted |= match outcome {
                Outcome::TimedOut | Outcome::ConnectionLost => true,
                Outcome::Status { code, .. } => status_may_follow_action(code),
                Outcome::ConnectFailed => false,
            };
            let tracking_id = if let AttemptFailure::Response(r) = &failure {
                r.body.as_ref().and_then(|b| b.tracking_id.clone())
            } else {
                None
            };
            if let Outcome::Status { code: 401, .. } = outcome
                && inner.auth.can_refresh()
                && !refreshed_after_401
            {
                tracing::debug!(attempt, elapsed_ms, "401: refreshing the token and replaying once");
                if let Some(token) = &slot.token {
                    inner.auth.invalidate(token);
                }
                refreshed_after_401 = true;
                attempt -= 1;
                continue;
            }
            let decision = inner.config.retry().decide(
                attempt,
                outcome,
                op.operation.idempotency,
                &inner.budget,
                fastrand::f64(),
            );
            if let Outcome::Status { code: 429, retry_after } = outcome {
                let pause = match decision {
                    Decision::RetryAfter(wait) => wait,
                    Decision::GiveUp(_) => {
                        retry_after.unwrap_or_default().min(inner.config.retry().retry_after_cap())
                    }
                };
                inner.limiter.pause_for(pause);
            }
            match decision {
                Decision::RetryAfter(wait) => {
                    tracing::debug!(
                        attempt,
                        ?outcome,
                        tracking_id,
                        elapsed_ms,
                        wait_ms = wait.as_millis() as u64,
                        "attempt failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
                Decision::GiveUp(reason) => {
                    tracing::debug!(
                        attempt,
                        ?outcome,
                        ?reason,
                        tracking_id,
                        elapsed_ms,
                        "attempt failed; giving up"
                    );
                    return Err(into_error(failure, op, attempt, &inner.config));
                }
            }
        }
    }
}

/// Where in a body decoding as `T` fails, e.g. `` at `[3].sourceIds[0]` ``;
/// empty when the failure is not inside a field (not JSON at all, a list
/// where an object belongs). The generated client's error says only line and
/// column; the field is what a user can act on.
fn decode_path<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> String {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) if e.path().iter().next().is_some() => format!(" at `{}`", e.path()),
        _ => String::new(),
    }
}

async fn classify<T: serde::de::DeserializeOwned>(
    error: psg_client::Error<ApiErrorBody>,
    meta: Option<ResponseMeta>,
) -> AttemptFailure {
    use psg_client::Error as E;
    if let Some(meta) = meta.as_ref().filter(|m| m.headers.contains_key(BODY_TOO_LARGE_HEADER)) {
        return AttemptFailure::TooLarge(meta.status);
    }
    // The raw start of a non-2xx body, whatever the generated client made of it.
    let raw = meta.as_ref().map(|m| snippet(&m.error_body)).unwrap_or_default();
    match error {
        E::ErrorResponse(rv) => {
            let status = rv.status();
            let headers = rv.headers().clone();
            AttemptFailure::Response(Box::new(FailedResponse {
                status,
                headers,
                body: Some(rv.into_inner()),
                snippet: raw,
            }))
        }
        E::UnexpectedResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.bytes().await.unwrap_or_default();
            let body = serde_json::from_slice::<ApiErrorBody>(&bytes).ok();
            AttemptFailure::Response(Box::new(FailedResponse {
                status,
                headers,
                body,
                snippet: snippet(&bytes),
            }))
        }
        E::InvalidResponsePayload(bytes, e) => match meta {
            Some(meta) if !meta.status.is_success() => AttemptFailure::Response(Box::new(FailedResponse {
                status: meta.status,
                headers: meta.headers,
                body: None,
                snippet: snippet(&bytes),
            })),
            Some(meta) => {
                let at = decode_path::<T>(&bytes);
                AttemptFailure::Decode(
                    meta.status,
                    format!("{e}{at} in {}", snippet(&bytes)),
                    Some(Box::new(e)),
                )
            }
            None => AttemptFailure::Decode(reqwest::StatusCode::OK, e.to_string(), Some(Box::new(e))),
        },
        E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
            AttemptFailure::Transport(TransportError::from_reqwest(e))
        }
        E::InvalidRequest(m) | E::Custom(m) => AttemptFailure::Refused(m),
    }
}

fn into_error(failure: AttemptFailure, op: &Op<'_>, attempts: u32, config: &Config) -> Error {
    let operation = op.operation.id;
    // Whether the server may have carried out this failed attempt.
    let may_have_acted = match &failure {
        AttemptFailure::Response(r) => status_may_follow_action(r.status.as_u16()),
        AttemptFailure::Transport(e) => matches!(e.kind(), TransportKind::Timeout | TransportKind::Lost),
        // A body too large to read still came with a status: a success says the server acted.
        AttemptFailure::TooLarge(s) => s.is_success() || status_may_follow_action(s.as_u16()),
        AttemptFailure::Decode(..) | AttemptFailure::Refused(_) => false,
    };
    let status = match &failure {
        AttemptFailure::Response(r) => Some(r.status),
        _ => None,
    };
    let error = match failure {
        AttemptFailure::Response(r) => match r.into_error(operation, op.group_id, attempts) {
            Error::Unauthorized { operation, message, .. } => {
                Error::Unauthorized { operation, message, credentials: config.credentials_origin() }
            }
            Error::Api(mut detail) if detail.status == reqwest::StatusCode::FORBIDDEN => {
                detail.required_scope = Some(op.operation.scope());
                Error::Api(detail)
            }
            other => other,
        },
        AttemptFailure::Transport(e) => match e.kind() {
            TransportKind::Timeout => Error::Timeout { operation, attempts, cause: Box::new(e) },
            _ => Error::Transport { operation, attempts, cause: Box::new(e) },
        },
        AttemptFailure::Decode(status, message, source) => {
            Error::Decode { operation, status, message, cause: source }
        }
        AttemptFailure::Refused(message) => Error::InvalidInput { field: "request", message },
        AttemptFailure::TooLarge(status) => {
            Error::BodyTooLarge { operation, status, limit: psg_client::hooks::MAX_BODY_BYTES }
        }
    };
    // A 404 on a collection says nothing about an id: the path is not served.
    if status == Some(reqwest::StatusCode::NOT_FOUND) && !op.operation.item {
        let version = config.api_version();
        return Error::VersionNotServed {
            operation,
            path: version.path(op.operation.resource, false),
            version,
            suggestion: version.alternative(),
            cause: Box::new(error),
        };
    }
    match op.creating {
        // A create the server may have carried out: its outcome is unknown,
        // whatever the error says, and it must not look retryable.
        Some(name) if may_have_acted => {
            Error::CreateOutcomeUnknown { name: name.to_string(), attempts, status, cause: Box::new(error) }
        }
        _ => error,
    }
}

/// Whether an answer with HTTP `status` may come after the server acted on
/// the request: 500 and 502/504 (a gateway that lost or gave up on the
/// upstream answer). 503 and 429 say the request was not taken on.
fn status_may_follow_action(status: u16) -> bool {
    matches!(status, 500 | 502 | 504)
}
