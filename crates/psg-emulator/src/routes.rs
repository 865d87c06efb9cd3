//! HTTP only: the API routes, the token endpoint, the gate that every API
//! request passes (auth, scope, rate limit, faults, latency) and the error
//! bodies in the shapes the spec documents.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use rand::Rng;
use serde_json::json;
use tokio::time::Instant;

use crate::Shared;
use crate::auth::{Resource, allows, authenticate};
use crate::catalog_api;
use crate::faults::Fault;
use crate::limits::retry_after_secs;
use crate::rules::{Violation, check_exclusive, validate_group};

/// Marks a response whose connection must be closed without answering.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for ResetConnection {}

/// The prefixed versions: the API is served under `/{version}/…`, each alike.
pub const API_VERSIONS: [&str; 5] = ["beta", "v3", "v2024", "v2025", "v2026"];

/// The per-service versions: the version follows the resource,
/// `/password-sync-groups/v1`, `/sources/v1`, `/password-policies/v1`.
pub const PER_SERVICE_VERSIONS: [&str; 1] = ["v1"];

/// Versions whose password-policy operations require
/// `X-SailPoint-Experimental: true`, as SailPoint's specs declare.
pub const EXPERIMENTAL_POLICY_VERSIONS: [&str; 4] = ["v2024", "v2025", "v2026", "v1"];

/// The header the experimental operations require.
pub const EXPERIMENTAL_HEADER: &str = "X-SailPoint-Experimental";

/// The whole application.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let served = |version: &str| shared.config.serves(version);
    // The policy routes of `version` at `path` (relative to where they are
    // nested), with the header check where the version requires it.
    let policies = |version: &str, path: &str| {
        let routes = Router::new()
            .route(path, get(catalog_api::list_policies))
            .route(&format!("{path}/{{id}}"), get(catalog_api::get_policy));
        if EXPERIMENTAL_POLICY_VERSIONS.contains(&version) {
            routes.route_layer(middleware::from_fn(require_experimental))
        } else {
            routes
        }
    };
    let prefixed = |version: &str| {
        Router::new()
            .route("/password-sync-groups", get(list).post(create))
            .route("/password-sync-groups/{id}", get(get_one).put(replace).delete(delete))
            .route("/sources", get(catalog_api::list_sources))
            .route("/sources/{id}", get(catalog_api::get_source))
            .merge(policies(version, "/password-policies"))
    };
    let mut api_routes = Router::new();
    for version in API_VERSIONS.into_iter().filter(|v| served(v)) {
        api_routes = api_routes.nest(&format!("/{version}"), prefixed(version));
    }
    for version in PER_SERVICE_VERSIONS.into_iter().filter(|v| served(v)) {
        api_routes = api_routes
            .route(&format!("/password-sync-groups/{version}"), get(list).post(create))
            .route(
                &format!("/password-sync-groups/{version}/{{id}}"),
                get(get_one).put(replace).delete(delete),
            )
            .route(&format!("/sources/{version}"), get(catalog_api::list_sources))
            .route(&format!("/sources/{version}/{{id}}"), get(catalog_api::get_source))
            .merge(policies(version, &format!("/password-policies/{version}")));
    }
    let api = api_routes.route_layer(middleware::from_fn_with_state(shared.clone(), api_gate));
    Router::new()
        .merge(api)
        .route("/oauth/token", post(token))
        .nest("/__emulator", crate::admin::routes())
        .fallback(unknown_path)
        .layer(middleware::from_fn_with_state(shared.clone(), count_request))
        .with_state(shared)
}

/// Refuses a request without `X-SailPoint-Experimental: true` with 400
/// naming the header (after authentication and the rate limit, as on ISC).
async fn require_experimental(req: Request, next: Next) -> Response {
    let sent = req.headers().get(EXPERIMENTAL_HEADER).and_then(|v| v.to_str().ok());
    if sent.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return next.run(req).await;
    }
    bad_request(&[format!(
        "This API is experimental in this version: send the header {EXPERIMENTAL_HEADER}: true to use it."
    )])
}

fn tracking_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An `ErrorResponseDto` answer.
pub(crate) fn error_dto(status: StatusCode, detail_code: &str, texts: &[String]) -> Response {
    let messages: Vec<_> =
        texts.iter().map(|t| json!({"locale": "en-US", "localeOrigin": "DEFAULT", "text": t})).collect();
    let body =
        json!({"detailCode": detail_code, "trackingId": tracking_id(), "messages": messages, "causes": []});
    (status, Json(body)).into_response()
}

pub(crate) fn bad_request(texts: &[String]) -> Response {
    error_dto(StatusCode::BAD_REQUEST, "400.1 Bad Request Content", texts)
}

fn violations(v: Vec<Violation>) -> Response {
    bad_request(&v.into_iter().map(|v| v.text).collect::<Vec<_>>())
}

fn not_found(id: &str) -> Response {
    error_dto(StatusCode::NOT_FOUND, "404 Not found", &[format!("No password sync group has the id '{id}'.")])
}

fn too_many(retry_after: u64) -> Response {
    let mut r =
        (StatusCode::TOO_MANY_REQUESTS, Json(json!({"message": " Rate Limit Exceeded "}))).into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    r
}

async fn unknown_path() -> Response {
    error_dto(
        StatusCode::NOT_FOUND,
        "404 Not found",
        &["The server did not find a current representation for the target resource.".into()],
    )
}

/// Counts every request by matched route and status.
async fn count_request(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let key = format!("{} {}", req.method(), route.as_deref().unwrap_or("(unmatched)"));
    let started = Instant::now();
    let at = s.log.lock().expect("log lock").now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    tracing::info!(%method, %uri, status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
    *s.stats.lock().expect("stats lock").requests.entry(key).or_default().entry(status).or_default() += 1;
    s.log.lock().expect("log lock").push(crate::observe::SeenRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        status,
        at,
    });
    response
}

/// Auth, scope, rate limit, faults and latency, in that order, for API routes.
async fn api_gate(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let now = Instant::now();
    let write = req.method() != Method::GET;
    let header = req.headers().get(header::AUTHORIZATION).and_then(|h| h.to_str().ok());
    let verified = s.tokens.lock().expect("tokens lock").verify(header, now).cloned();
    let info = match verified {
        Ok(info) => info,
        Err(problem) => {
            return (StatusCode::UNAUTHORIZED, Json(json!({"error": problem.message()}))).into_response();
        }
    };
    let resource = Resource::of(req.extensions().get::<MatchedPath>().map_or("", |p| p.as_str()));
    if !allows(&info.scopes, resource, write) {
        let needed = resource.needed_scope(write);
        return error_dto(
            StatusCode::FORBIDDEN,
            "403 Forbidden",
            &[format!(
                "The server understood the request but refuses to authorize it: scope {needed} is required."
            )],
        );
    }
    if let Some(limit) = s.config.rate_limit {
        let verdict = s
            .windows
            .lock()
            .expect("windows lock")
            .entry(info.client_id.clone())
            .or_insert_with(|| crate::limits::SlidingWindow::new(limit.count, limit.window))
            .try_acquire(now);
        if let Err(wait) = verdict {
            s.stats.lock().expect("stats lock").rate_limited += 1;
            return too_many(retry_after_secs(wait));
        }
    }
    let fault = s.script.next(req.method()).or_else(|| s.faults.lock().expect("faults lock").next_api());
    // `late` concerns writes only; a read that draws it passes untouched.
    let fault = fault.filter(|f| write || *f != Fault::Late);
    if let Some(fault) = fault {
        *s.stats.lock().expect("stats lock").faults.entry(fault.name()).or_default() += 1;
        match fault {
            Fault::Status(429) => return too_many(1),
            Fault::Status(code) => {
                let status = StatusCode::from_u16(code).expect("listed code");
                return error_dto(
                    status,
                    &format!("{code} Injected Fault"),
                    &["An internal fault occurred (injected by the emulator).".into()],
                );
            }
            Fault::Reset => {
                let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                r.extensions_mut().insert(ResetConnection);
                return r;
            }
            Fault::Slow => tokio::time::sleep(s.config.slow_delay).await,
            Fault::Lost => {
                let mut r = next.run(req).await;
                r.extensions_mut().insert(ResetConnection);
                return r;
            }
            Fault::Late => return commit_late(s.config.late_delay, req, next).await,
        }
    }
    let latency = s.config.latency;
    if !latency.max.is_zero() {
        let wait = if latency.min == latency.max {
            latency.min
        } else {
            let ms = s
                .latency_rng
                .lock()
                .expect("rng lock")
                .random_range(latency.min.as_millis()..=latency.max.as_millis());
            std::time::Duration::from_millis(ms as u64)
        };
        tokio::time::sleep(wait).await;
    }
    next.run(req).await
}

/// Holds a write for `delay`, then carries it out in a task of its own, so the
/// write is committed even when the client gave up and its connection (and
/// with it this handler) was dropped meanwhile.
async fn commit_late(delay: std::time::Duration, req: Request, next: Next) -> Response {
    let held = tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        next.run(req).await
    });
    match held.await {
        Ok(response) => response,
        Err(_) => error_dto(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
            &["The held write did not complete.".into()],
        ),
    }
}

/// Query parameters of the list operations.
pub(crate) struct ListQuery {
    pub(crate) limit: usize,
    pub(crate) offset: usize,
    pub(crate) count: bool,
    /// `filters`, for the operations that read it.
    pub(crate) filters: Option<String>,
    /// `sorters`, for the operations that read it.
    pub(crate) sorters: Option<String>,
}

pub(crate) fn parse_list_query(raw: Option<&str>) -> Result<ListQuery, Vec<String>> {
    let mut q = ListQuery { limit: 250, offset: 0, count: false, filters: None, sorters: None };
    let mut errors = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "limit" => match value.parse::<i64>() {
                Ok(n) if (0..=250).contains(&n) => q.limit = n as usize,
                _ => errors.push(format!(
                    "The query parameter 'limit' must be an integer from 0 to 250, not '{value}'."
                )),
            },
            "offset" => match value.parse::<i64>() {
                Ok(n) if n >= 0 && n <= i32::MAX as i64 => q.offset = n as usize,
                _ => errors.push(format!(
                    "The query parameter 'offset' must be an integer of at least 0, not '{value}'."
                )),
            },
            "count" => match value.as_ref() {
                "true" => q.count = true,
                "false" => q.count = false,
                _ => {
                    errors.push(format!("The query parameter 'count' must be true or false, not '{value}'."))
                }
            },
            "filters" => q.filters = Some(value.into_owned()),
            "sorters" => q.sorters = Some(value.into_owned()),
            _ => {}
        }
    }
    if errors.is_empty() { Ok(q) } else { Err(errors) }
}

async fn list(State(s): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let q = match parse_list_query(raw.as_deref()) {
        Ok(q) => q,
        Err(errors) => return bad_request(&errors),
    };
    let store = s.store.lock().expect("store lock");
    let all = store.groups();
    if s.config.refuse_offset_past_end && q.offset > 0 && q.offset >= all.len() {
        return bad_request(&["Specified offset is invalid.".to_string()]);
    }
    let page: Vec<_> = all.iter().skip(q.offset).take(q.limit).collect();
    let mut response = Json(page).into_response();
    if q.count {
        response.headers_mut().insert("X-Total-Count", HeaderValue::from(all.len()));
    }
    response
}

async fn create(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let input = match validate_group(&body, &s.catalog) {
        Ok(input) => input,
        Err(v) => return violations(v),
    };
    let created = {
        let mut store = s.store.lock().expect("store lock");
        if s.config.exclusive_sources
            && let Err(v) = check_exclusive(store.groups(), &input, None)
        {
            return violations(v);
        }
        store.create(input)
    };
    match created {
        Ok(group) => {
            s.stats.lock().expect("stats lock").writes += 1;
            Json(group).into_response()
        }
        Err(e) => error_dto(StatusCode::INTERNAL_SERVER_ERROR, "500.0 Internal Fault", &[e]),
    }
}

async fn get_one(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match s.store.lock().expect("store lock").get(&id) {
        Some(group) => Json(group).into_response(),
        None => not_found(&id),
    }
}

async fn replace(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    if s.store.lock().expect("store lock").get(&id).is_none() {
        return not_found(&id);
    }
    let input = match validate_group(&body, &s.catalog) {
        Ok(input) => input,
        Err(v) => return violations(v),
    };
    let replaced = {
        let mut store = s.store.lock().expect("store lock");
        if s.config.exclusive_sources
            && let Err(v) = check_exclusive(store.groups(), &input, Some(&id))
        {
            return violations(v);
        }
        store.replace(&id, input)
    };
    match replaced {
        Ok(Some(group)) => {
            s.stats.lock().expect("stats lock").writes += 1;
            Json(group).into_response()
        }
        Ok(None) => not_found(&id),
        Err(e) => error_dto(StatusCode::INTERNAL_SERVER_ERROR, "500.0 Internal Fault", &[e]),
    }
}

async fn delete(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let deleted = s.store.lock().expect("store lock").delete(&id);
    match deleted {
        Ok(true) => {
            s.stats.lock().expect("stats lock").writes += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => not_found(&id),
        Err(e) => error_dto(StatusCode::INTERNAL_SERVER_ERROR, "500.0 Internal Fault", &[e]),
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

/// Credentials and grant type from a token request in any accepted encoding.
#[derive(Default)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

impl TokenRequest {
    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        match key {
            "grant_type" => Some(&mut self.grant_type),
            "client_id" => Some(&mut self.client_id),
            "client_secret" => Some(&mut self.client_secret),
            _ => None,
        }
    }

    fn set(&mut self, key: &str, value: String) {
        if let Some(slot) = self.slot(key) {
            *slot = Some(value);
        }
    }

    fn set_if_missing(&mut self, key: &str, value: String) {
        if let Some(slot) = self.slot(key) {
            slot.get_or_insert(value);
        }
    }
}

async fn read_token_request(headers: &HeaderMap, req: Request) -> Result<TokenRequest, Box<Response>> {
    let mut out = TokenRequest::default();
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    if content_type.starts_with("multipart/form-data") {
        let mut form = axum::extract::Multipart::from_request(req, &())
            .await
            .map_err(|e| Box::new(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.body_text())))?;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| Box::new(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e.body_text())))?
        {
            let name = field.name().unwrap_or_default().to_string();
            let value = field.text().await.unwrap_or_default();
            out.set(&name, value);
        }
    } else {
        let body = axum::body::to_bytes(req.into_body(), 64 * 1024).await.map_err(|_| {
            Box::new(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "body too large"))
        })?;
        for (k, v) in form_urlencoded::parse(&body) {
            out.set(&k, v.into_owned());
        }
    }
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).unwrap_or_default();
        if let Some((id, secret)) = String::from_utf8_lossy(&decoded).split_once(':') {
            out.client_id = Some(id.to_string());
            out.client_secret = Some(secret.to_string());
        }
    }
    Ok(out)
}

async fn token(State(s): State<Arc<Shared>>, RawQuery(query): RawQuery, req: Request) -> Response {
    let headers = req.headers().clone();
    let mut request = match read_token_request(&headers, req).await {
        Ok(r) => r,
        Err(response) => return *response,
    };
    // Some clients send the parameters in the query string: the body wins.
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        request.set_if_missing(&k, v.into_owned());
    }
    if s.faults.lock().expect("faults lock").next_token_fails() {
        *s.stats.lock().expect("stats lock").faults.entry("token500".into()).or_default() += 1;
        return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "injected fault");
    }
    if request.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        );
    }
    let (Some(id), Some(secret)) = (request.client_id, request.client_secret) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id and client_secret are required",
        );
    };
    let Some(client) = authenticate(&s.config.clients, &id, &secret) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Bad credentials");
    };
    let ttl = s.config.token_ttl;
    let token = s.tokens.lock().expect("tokens lock").issue(client, ttl, Instant::now());
    s.stats.lock().expect("stats lock").tokens_issued += 1;
    Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ttl.as_secs(),
        "scope": client.scopes.join(" "),
        "tenant_id": "emulator",
        "pod": "local",
        "strong_auth_supported": false,
        "org": "emulator",
        "identity_id": null,
        "user_name": null,
        "strong_auth": false,
        "jti": tracking_id(),
    }))
    .into_response()
}
