//! The one [`Error`] type of psg.

use std::time::Duration;

use psg_client::types::{ApiErrorBody, ErrorMessageDto};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// Largest part of an unexpected body that an error keeps.
pub const BODY_SNIPPET_LIMIT: usize = 512;

/// Details of an `ErrorResponseDto` answer (400, 403, 404, 500, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl ApiError {
    fn summary(&self) -> String {
        let mut text = if self.messages.is_empty() {
            self.status.canonical_reason().unwrap_or("error").to_string()
        } else {
            self.messages.join("; ")
        };
        if !self.causes.is_empty() {
            text.push_str(&format!(" (causes: {})", self.causes.join("; ")));
        }
        if let Some(t) = &self.tracking_id {
            text.push_str(&format!(" [tracking id {t}]"));
        }
        text
    }
}

/// Everything that can go wrong. `Display` is one sentence and never contains
/// a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an `ErrorResponseDto` (400, 403, 500, ...).
    #[error("{} failed with HTTP {}: {}", .0.operation, .0.status.as_u16(), .0.summary())]
    Api(Box<ApiError>),

    /// 404: no group has the id.
    #[error("{} found no password sync group '{id}' (HTTP 404){}", .detail.operation, .detail.tracking_id.as_ref().map(|t| format!(" [tracking id {t}]")).unwrap_or_default())]
    NotFound {
        /// The id that was asked for, if the operation had one.
        id: String,
        /// The error body.
        detail: Box<ApiError>,
    },

    /// 401 from the API: the token was missing, malformed or expired.
    #[error("{operation} was refused with HTTP 401 ({}): check the client id and secret, or the access token", message.as_deref().unwrap_or("unauthorized"))]
    Unauthorized {
        /// Operation that failed.
        operation: &'static str,
        /// The `error` text of the body.
        message: Option<String>,
    },

    /// 429 after every allowed attempt.
    #[error("{operation} was rate limited (HTTP 429) and gave up after {attempts} attempt(s){}", retry_after.map(|d| format!("; the server asked to wait {}s", d.as_secs())).unwrap_or_default())]
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

    /// A status or body the API does not document (e.g. an HTML 502 page).
    #[error("{operation} got an unexpected HTTP {} response: {}", status.as_u16(), if body_snippet.is_empty() { "(empty body)" } else { body_snippet.as_str() })]
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
    #[error("{operation} timed out after {attempts} attempt(s); raise the timeout or check the network")]
    Timeout {
        /// Operation that failed.
        operation: &'static str,
        /// How many attempts were made.
        attempts: u32,
    },

    /// The connection failed or broke.
    #[error("{operation} could not reach the server after {attempts} attempt(s): {source}")]
    Transport {
        /// Operation that failed.
        operation: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// A success response whose body did not decode.
    #[error("{operation} answered HTTP {} with a body psg cannot decode: {message}", status.as_u16())]
    Decode {
        /// Operation that failed.
        operation: &'static str,
        /// HTTP status.
        status: StatusCode,
        /// What was wrong.
        message: String,
    },

    /// The token endpoint refused or failed.
    #[error("getting an access token failed: {message}")]
    Auth {
        /// HTTP status of the token endpoint, if it answered.
        status: Option<StatusCode>,
        /// What was wrong and what to do.
        message: String,
    },

    /// Missing or invalid configuration; names the variable or file.
    #[error("configuration error: {0}")]
    Config(String),

    /// A value was refused before anything was sent.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The offending field.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl Error {
    /// True for a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// The HTTP status the API answered, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::NotFound { detail, .. } => Some(detail.status),
            Error::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            Error::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::UnexpectedResponse { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::Auth { status, .. } => *status,
            _ => None,
        }
    }

    /// The `trackingId` of the error body, if any.
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.tracking_id.as_deref(),
            Error::NotFound { detail, .. } => detail.tracking_id.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
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

/// Parses `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Keeps at most [`BODY_SNIPPET_LIMIT`] bytes, cut at a character boundary.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_SNIPPET_LIMIT)]).into_owned();
    text.trim().to_string()
}

impl FailedResponse {
    pub(crate) fn into_error(self, operation: &'static str, id: Option<&str>, attempts: u32) -> Error {
        let status = self.status;
        let body = self.body.unwrap_or_default();
        match status.as_u16() {
            401 => Error::Unauthorized {
                operation,
                message: body
                    .error
                    .as_ref()
                    .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())),
            },
            429 => Error::RateLimited {
                operation,
                retry_after: parse_retry_after(&self.headers),
                message: body
                    .message
                    .as_ref()
                    .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())),
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
        assert!(e.to_string().contains("<html>bad gateway</html>"), "{e}");
    }
}
