//! The one [`Error`] type of psg-ext, and [`TransportError`], the boxed cause
//! of a failed exchange. No other crate's error type appears in either.

use std::fmt;
use std::time::Duration;

use psg_client::types::{ApiErrorBody, ErrorMessageDto};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};

/// Largest part of an unexpected body that an error keeps.
pub const BODY_SNIPPET_LIMIT: usize = 512;

/// Details of an `ErrorResponseDto` answer (400, 403, 404, 500, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `detailCode`, e.g. `400.1 Bad Request Content`.
    pub detail_code: Option<String>,
    /// `trackingId`: quote it to SailPoint support.
    pub tracking_id: Option<String>,
    /// Texts of `messages[]`.
    pub messages: Vec<String>,
    /// Texts of `causes[]`.
    pub causes: Vec<String>,
    /// Operation that failed, e.g. `createPasswordSyncGroup`.
    pub operation: &'static str,
    /// How many attempts were made.
    pub attempts: u32,
    /// For a 403: the OAuth scope the refused operation needs (e.g.
    /// `idn:sources:read` for a source listing), named in the message.
    pub required_scope: Option<&'static str>,
}

impl ApiError {
    /// Messages and causes as one clause each: the server's closing
    /// punctuation is dropped so that no `.;` or `.)` appears when joined.
    fn summary(&self) -> String {
        fn clauses(list: &[String]) -> Vec<&str> {
            list.iter()
                .map(|m| m.trim().trim_end_matches(['.', ';', ':', ',', ' ']))
                .filter(|m| !m.is_empty())
                .collect()
        }
        let messages = clauses(&self.messages);
        let mut text = if messages.is_empty() {
            self.status.canonical_reason().unwrap_or("error").to_string()
        } else {
            messages.join("; ")
        };
        let causes = clauses(&self.causes);
        if !causes.is_empty() {
            text.push_str(&format!(" (causes: {})", causes.join("; ")));
        }
        if let Some(t) = &self.tracking_id {
            text.push_str(&format!(" [tracking id {t}]"));
        }
        if let Some(scope) = self.required_scope {
            text.push_str(&format!("; the API client needs scope {scope} for {}", self.operation));
        }
        text
    }
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportKind {
    /// No connection could be made; nothing was sent.
    Connect,
    /// The request or the answer took longer than the timeout.
    Timeout,
    /// The connection broke after the request may have been sent.
    Lost,
}

/// A failed exchange below HTTP: refused connection, TLS, proxy, timeout, or a
/// connection that broke. `Display` shows the whole cause chain in one line,
/// so `source()` is `None`: a report that walks the chain (`anyhow`, `eyre`)
/// prints each cause once. Cheap to clone.
#[derive(Clone)]
pub struct TransportError {
    kind: TransportKind,
    chain: String,
}

impl TransportError {
    pub(crate) fn new(kind: TransportKind, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        TransportError { kind, chain: cause_chain(&source) }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        let kind = if e.is_connect() {
            TransportKind::Connect
        } else if e.is_timeout() {
            TransportKind::Timeout
        } else {
            TransportKind::Lost
        };
        TransportError::new(kind, e.without_url())
    }

    pub(crate) fn kind(&self) -> TransportKind {
        self.kind
    }

    /// True when no connection could be made (the request was never sent).
    pub fn is_connect(&self) -> bool {
        self.kind == TransportKind::Connect
    }

    /// True when the exchange timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportKind::Timeout
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError").field("kind", &self.kind).field("cause", &self.chain).finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.chain)
    }
}

/// No `source()`: the message already holds the whole chain.
impl std::error::Error for TransportError {}

/// Joins an error and its sources into one line, skipping repeats (hyper and
/// reqwest often wrap a cause with the same text) and the generic
/// "error sending request" that says nothing on its own.
pub(crate) fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        let text = text.trim();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(text)) {
            parts.push(text.to_string());
        }
        next = err.source();
    }
    if parts.len() > 1 {
        parts.retain(|p| !p.starts_with("error sending request") && p != "client error (Connect)");
    }
    if parts.is_empty() { "unknown transport error".into() } else { parts.join(": ") }
}

/// Everything that can go wrong. `Display` is one sentence and never contains
/// a secret. It includes the cause, so no variant also returns it as
/// `source()`: `anyhow`/`eyre` reports print each cause once. Match on
/// variants with `..`: variants and payloads may gain
/// fields in minor releases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an `ErrorResponseDto` (400, 403, 500, ...).
    #[error("{} failed with HTTP {}: {}", .0.operation, .0.status.as_u16(), .0.summary())]
    Api(Box<ApiError>),

    /// 404: no group (or source, or policy) has the id.
    #[error("{} found nothing with id '{id}' (HTTP 404){}", .detail.operation, .detail.tracking_id.as_ref().map(|t| format!(" [tracking id {t}]")).unwrap_or_default())]
    #[non_exhaustive]
    NotFound {
        /// The id that was asked for.
        id: String,
        /// The error body.
        detail: Box<ApiError>,
    },

    /// 401 from the API: the token was missing, malformed or expired.
    #[error("{operation} was refused with HTTP 401 ({}): check the client id and secret, or the access token{}", message.as_deref().map(one_line).unwrap_or_else(|| "unauthorized".into()), credentials.as_ref().map(|c| format!(" (they came from {c})")).unwrap_or_default())]
    #[non_exhaustive]
    Unauthorized {
        /// Operation that failed.
        operation: &'static str,
        /// The `error` text of the body.
        message: Option<String>,
        /// Where the refused credentials came from (e.g. `SAIL_ACCESS_TOKEN`,
        /// or a profile and its file), when known.
        credentials: Option<String>,
    },

    /// 429 after every allowed attempt.
    #[error("{operation} was rate limited (HTTP 429{}) and gave up after {attempts} attempt(s){}", message.as_deref().map(|m| format!(": {}", one_line(m))).unwrap_or_default(), match retry_after { Some(d) => format!("; the server asked to wait {}s", d.as_secs()), None => "; the server did not say how long to wait (no Retry-After), so psg backed off on its own".into() })]
    #[non_exhaustive]
    RateLimited {
        /// Operation that failed.
        operation: &'static str,
        /// The last `Retry-After`.
        retry_after: Option<Duration>,
        /// The `message` of the body.
        message: Option<String>,
        /// How many attempts were made.
        attempts: u32,
    },

    /// A status or body the API does not document (e.g. an HTML 502 page, or
    /// a redirect, which psg never follows).
    #[error("{operation} got an unexpected HTTP {} response: {}", status.as_u16(), describe_unexpected(*status, headers, body_snippet))]
    #[non_exhaustive]
    UnexpectedResponse {
        /// Operation that failed.
        operation: &'static str,
        /// HTTP status.
        status: StatusCode,
        /// Response headers.
        headers: Box<HeaderMap>,
        /// Up to [`BODY_SNIPPET_LIMIT`] bytes of the body, lossily decoded.
        body_snippet: String,
        /// How many attempts were made.
        attempts: u32,
    },

    /// The request timed out.
    #[error(
        "{operation} timed out after {attempts} attempt(s) ({cause}); raise the timeout or check the network"
    )]
    #[non_exhaustive]
    Timeout {
        /// Operation that failed.
        operation: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying failure (shown in the message, so not also
        /// returned as `source()`).
        cause: Box<TransportError>,
    },

    /// The connection could not be made or broke (refused, TLS, proxy, reset).
    #[error("{operation} could not reach the server after {attempts} attempt(s): {cause}")]
    #[non_exhaustive]
    Transport {
        /// Operation that failed.
        operation: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying failure with its cause chain (shown in the
        /// message, so not also returned as `source()`).
        cause: Box<TransportError>,
    },

    /// A create was sent and the server may have acted on it, but the client
    /// cannot know whether the group exists: the answer was lost or timed
    /// out, or the server answered 500, 502 or 504 (a failure after the work
    /// may have been done). It was not sent again, since that could create
    /// the group twice, and [`Error::is_retryable`] is false: look the group
    /// up by name before creating it again.
    #[error("{}: the group may exist; check by name before creating it again", describe_unknown_create(name, *status, cause))]
    #[non_exhaustive]
    CreateOutcomeUnknown {
        /// Name of the group that was being created.
        name: String,
        /// How many attempts were made.
        attempts: u32,
        /// The HTTP status of the last answer (500, 502 or 504), when the
        /// server answered; `None` when the answer was lost or timed out.
        status: Option<StatusCode>,
        /// What the last attempt ended in: the server's error answer
        /// ([`Error::Api`], [`Error::UnexpectedResponse`]) or the transport
        /// failure ([`Error::Timeout`], [`Error::Transport`]). Shown in the
        /// message, so not also returned as `source()`.
        cause: Box<Error>,
    },

    /// 404 on a collection path (a list or a create, not an id): the tenant
    /// does not serve this API version's path, e.g. a tenant without
    /// `/beta/password-sync-groups`. The message names the path and the
    /// version to try instead, and keeps the server's answer (`cause`).
    #[error("this tenant does not serve {path}; try --api-version {suggestion} ({cause})")]
    #[non_exhaustive]
    VersionNotServed {
        /// Operation that failed.
        operation: &'static str,
        /// The path that answered 404, from the tenant root, e.g.
        /// `/beta/password-sync-groups`.
        path: String,
        /// The version the client was set to.
        version: crate::ApiVersion,
        /// The version of the other layout, to try instead.
        suggestion: crate::ApiVersion,
        /// The 404 as the server gave it ([`Error::Api`] or
        /// [`Error::UnexpectedResponse`]). Shown in the message, so not
        /// also returned as `source()`.
        cause: Box<Error>,
    },

    /// A success response whose body did not decode.
    #[error("{operation} answered HTTP {} with a body psg cannot decode: {message}", status.as_u16())]
    #[non_exhaustive]
    Decode {
        /// Operation that failed.
        operation: &'static str,
        /// HTTP status.
        status: StatusCode,
        /// What was wrong, with a snippet of the body.
        message: String,
        /// The decoder's error, when there is one (its text is part of
        /// `message`, so it is not also returned as `source()`).
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The response body was larger than psg reads ([`Error::BodyTooLarge`]'s
    /// `limit`, a few MiB where a real page is about 100 KB): a broken or
    /// hostile server. Not retried.
    #[error("{operation} got an HTTP {} response whose body is larger than the {} MiB psg reads; check the base URL and any proxy in between", status.as_u16(), limit >> 20)]
    #[non_exhaustive]
    BodyTooLarge {
        /// Operation that failed.
        operation: &'static str,
        /// HTTP status of the response.
        status: StatusCode,
        /// The bound, in bytes.
        limit: usize,
    },

    /// The token endpoint refused or failed.
    #[error("getting an access token failed: {message}")]
    #[non_exhaustive]
    Auth {
        /// HTTP status of the token endpoint, if it answered.
        status: Option<StatusCode>,
        /// What was wrong and what to do.
        message: String,
        /// The transport failure of the last attempt (timeout, refused
        /// connection, ...), when the endpoint did not answer. Its text is
        /// part of `message`, so it is not also returned as `source()`.
        cause: Option<Box<TransportError>>,
    },

    /// Missing or invalid configuration; names the variable, file or setting.
    #[error("configuration error: {message}")]
    #[non_exhaustive]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A value was refused before anything was sent.
    #[error("invalid {field}: {message}")]
    #[non_exhaustive]
    InvalidInput {
        /// The offending field.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The listing changed while a stream paged through it (the total at the
    /// end differs from the total at the start), so offset paging may have
    /// missed groups. Only returned when asked for with
    /// [`crate::ListGroups::fail_on_change`].
    #[error(
        "the listing changed while paging (total {before} at the start, {after} at the end): offset paging may have missed items; list again"
    )]
    #[non_exhaustive]
    ListingChanged {
        /// Total reported by the first page.
        before: u64,
        /// Total reported at the end.
        after: u64,
    },

    /// The request was not sent (again): [`crate::Client::stop_new_requests`]
    /// was called while it waited for a rate-limit slot or a token.
    #[error("{operation} was not sent: the client was stopped{}", if *.may_have_acted { " (an earlier attempt may have been carried out)" } else { "" })]
    #[non_exhaustive]
    Stopped {
        /// The operation, e.g. `createPasswordSyncGroup`.
        operation: String,
        /// Whether an earlier attempt of this call may have reached the
        /// server and acted (its answer was lost, or a 5xx).
        may_have_acted: bool,
    },
}

fn describe_unexpected(status: StatusCode, headers: &HeaderMap, body: &str) -> String {
    if status.is_redirection() {
        let to = headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("(no Location header)");
        return format!(
            "a redirect to {to}; psg does not follow redirects: check the base URL (it should be the tenant API root)"
        );
    }
    if body.is_empty() { "(empty body)".into() } else { body.to_string() }
}

/// The first clause of [`Error::CreateOutcomeUnknown`]'s message.
fn describe_unknown_create(name: &str, status: Option<StatusCode>, cause: &Error) -> String {
    match (status, cause) {
        (Some(status), cause) => {
            format!(
                "creating group '{name}' ended in HTTP {} after the server may have acted ({cause})",
                status.as_u16()
            )
        }
        (None, Error::Timeout { cause, .. } | Error::Transport { cause, .. }) => {
            format!("the answer to creating group '{name}' was lost ({cause})")
        }
        (None, cause) => format!("the answer to creating group '{name}' was lost ({cause})"),
    }
}

impl Error {
    /// True for a 404 on an id. A 404 on a collection path is
    /// [`Error::VersionNotServed`] instead ([`Error::is_version_not_served`]).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// True when the tenant does not serve the path of the version the
    /// client was set to ([`Error::VersionNotServed`]).
    pub fn is_version_not_served(&self) -> bool {
        matches!(self, Error::VersionNotServed { .. })
    }

    /// True when the request timed out.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::CreateOutcomeUnknown { cause, .. } => cause.is_timeout(),
            Error::Auth { cause: Some(cause), .. } => cause.is_timeout(),
            _ => false,
        }
    }

    /// True when no connection could be made.
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Transport { cause, .. } | Error::Auth { cause: Some(cause), .. } if cause.is_connect())
    }

    /// True when trying the same call later may succeed (429, 5xx, timeouts,
    /// transport failures). A [`Error::CreateOutcomeUnknown`] never is, whatever
    /// its status: the group may exist, so look it up first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::CreateOutcomeUnknown { .. } => false,
            Error::RateLimited { .. } | Error::Timeout { .. } | Error::Transport { .. } => true,
            Error::Auth { status, .. } => status.is_none_or(|s| s.is_server_error() || s.as_u16() == 429),
            _ => self.status().is_some_and(|s| matches!(s.as_u16(), 500 | 502 | 503 | 504)),
        }
    }

    /// The HTTP status the API answered, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::NotFound { detail, .. } => Some(detail.status),
            Error::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            Error::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::UnexpectedResponse { status, .. }
            | Error::Decode { status, .. }
            | Error::BodyTooLarge { status, .. } => Some(*status),
            Error::Auth { status, .. } => *status,
            Error::CreateOutcomeUnknown { status, .. } => *status,
            Error::VersionNotServed { .. } => Some(StatusCode::NOT_FOUND),
            _ => None,
        }
    }

    /// The server's last `Retry-After`, for a 429.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            Error::UnexpectedResponse { headers, .. } => parse_retry_after(headers),
            _ => None,
        }
    }

    /// The `trackingId` of the error body, if any.
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.tracking_id.as_deref(),
            Error::NotFound { detail, .. } => detail.tracking_id.as_deref(),
            Error::CreateOutcomeUnknown { cause, .. } | Error::VersionNotServed { cause, .. } => {
                cause.tracking_id()
            }
            _ => None,
        }
    }

    /// For a 403: the OAuth scope the refused operation needs, e.g.
    /// `idn:password-sync-group:manage` for a create, `idn:sources:read` for
    /// a source listing.
    pub fn required_scope(&self) -> Option<&'static str> {
        match self {
            Error::Api(e) => e.required_scope,
            Error::CreateOutcomeUnknown { cause, .. } => cause.required_scope(),
            _ => None,
        }
    }

    /// The API's error details (`ErrorResponseDto`), if it sent them.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::NotFound { detail, .. } => Some(detail),
            Error::CreateOutcomeUnknown { cause, .. } | Error::VersionNotServed { cause, .. } => {
                cause.api_error()
            }
            _ => None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config { message: message.into() }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput { field, message: message.into() }
    }
}

fn texts(list: &[ErrorMessageDto]) -> Vec<String> {
    list.iter().filter_map(|m| m.text.clone()).collect()
}

/// Everything known about a failed HTTP exchange, before it becomes an [`Error`].
#[derive(Debug)]
pub(crate) struct FailedResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Option<ApiErrorBody>,
    pub snippet: String,
}

/// Largest `Retry-After` parsed; longer values are clamped (a policy caps the
/// wait much lower anyway).
const RETRY_AFTER_CEILING: Duration = Duration::from_secs(24 * 3600);

/// Parses `Retry-After` as seconds or an HTTP date, clamped to a day.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after_value(headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?)
}

/// Parses one `Retry-After` value: whole seconds or an HTTP date.
pub(crate) fn parse_retry_after_value(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(RETRY_AFTER_CEILING));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO).min(RETRY_AFTER_CEILING))
}

/// Keeps at most [`BODY_SNIPPET_LIMIT`] bytes, lossily decoded, on one line:
/// runs of whitespace become one space and other control characters are
/// shown escaped (`\u{1b}`), so a page cannot break or colour the message.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_SNIPPET_LIMIT)]);
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            if c.is_control() {
                out.extend(c.escape_unicode());
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// The snippet, or `None` when the body was empty.
fn non_empty(snippet: &str) -> Option<String> {
    (!snippet.is_empty()).then(|| snippet.to_string())
}

fn json_text(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
}

/// A server's text as one bounded line, for a one-line message.
fn one_line(text: &str) -> String {
    snippet(text.as_bytes())
}

impl FailedResponse {
    pub(crate) fn into_error(self, operation: &'static str, id: Option<&str>, attempts: u32) -> Error {
        let status = self.status;
        let body = self.body.unwrap_or_default();
        match status.as_u16() {
            // ISC's 401 body is `{error}`, its 429 body `{message}`; a gateway's
            // may be either, or no JSON at all: then its raw text is the message.
            401 => Error::Unauthorized {
                operation,
                message: json_text(&body.error)
                    .or_else(|| json_text(&body.message))
                    .or_else(|| non_empty(&self.snippet)),
                credentials: None,
            },
            429 => Error::RateLimited {
                operation,
                retry_after: parse_retry_after(&self.headers),
                message: json_text(&body.message)
                    .or_else(|| json_text(&body.error))
                    .or_else(|| non_empty(&self.snippet)),
                attempts,
            },
            _ if body.detail_code.is_some() || body.tracking_id.is_some() || !body.messages.is_empty() => {
                let detail = Box::new(ApiError {
                    status,
                    detail_code: body.detail_code.clone(),
                    tracking_id: body.tracking_id.clone(),
                    messages: texts(&body.messages),
                    causes: texts(&body.causes),
                    operation,
                    attempts,
                    required_scope: None,
                });
                match (status, id) {
                    (StatusCode::NOT_FOUND, Some(id)) => Error::NotFound { id: id.to_string(), detail },
                    _ => Error::Api(detail),
                }
            }
            _ => Error::UnexpectedResponse {
                operation,
                status,
                headers: Box::new(self.headers),
                body_snippet: self.snippet,
                attempts,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use proptest::prelude::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    use super::*;

    fn with_retry_after(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn retry_after_in_seconds_and_as_an_http_date() {
        assert_eq!(parse_retry_after(&with_retry_after("7")), Some(Duration::from_secs(7)));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let wait = parse_retry_after(&with_retry_after(&future)).unwrap();
        assert!(wait > Duration::from_secs(27) && wait <= Duration::from_secs(30), "{wait:?}");
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&with_retry_after(&past)), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&with_retry_after("soon")), None);
        assert_eq!(parse_retry_after(&HeaderMap::new()), None);
        // Huge values are clamped, not an overflow later.
        assert_eq!(parse_retry_after(&with_retry_after("18446744073709551615")), Some(RETRY_AFTER_CEILING));
    }

    proptest! {
        #[test]
        fn retry_after_never_panics_and_stays_bounded(value in ".{0,64}") {
            if let Some(d) = parse_retry_after_value(&value) {
                prop_assert!(d <= RETRY_AFTER_CEILING);
            }
        }
    }

    #[test]
    fn unexpected_bodies_keep_a_bounded_snippet() {
        let big = vec![b'x'; 10_000];
        assert_eq!(snippet(&big).len(), BODY_SNIPPET_LIMIT);
        let failed = FailedResponse {
            status: StatusCode::BAD_GATEWAY,
            headers: HeaderMap::new(),
            body: None,
            snippet: snippet(b"<html>bad gateway</html>"),
        };
        let e = failed.into_error("getPasswordSyncGroup", Some("g1"), 3);
        assert_eq!(e.status(), Some(StatusCode::BAD_GATEWAY));
        assert!(e.is_retryable());
        assert!(e.to_string().contains("<html>bad gateway</html>"), "{e}");
    }

    #[test]
    fn a_redirect_names_status_and_location() {
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_static("https://login.example/sso"));
        let failed =
            FailedResponse { status: StatusCode::FOUND, headers, body: None, snippet: String::new() };
        let e = failed.into_error("createPasswordSyncGroup", None, 1).to_string();
        assert!(e.contains("HTTP 302") && e.contains("https://login.example/sso"), "{e}");
    }

    #[test]
    fn cause_chain_is_one_line_without_repeats() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl fmt::Display for E {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let e = E(
            "error sending request",
            Some(Box::new(E(
                "tcp connect error",
                Some(Box::new(E("Connection refused (os error 111)", None))),
            ))),
        );
        assert_eq!(cause_chain(&e), "tcp connect error: Connection refused (os error 111)");
    }
}
