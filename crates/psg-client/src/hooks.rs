//! Hand-written glue between the generated client and the code that wraps it.
//!
//! progenitor has no middleware; its `ClientHooks` trait must be implemented in
//! this crate (orphan rule). The implementation delegates to a [`RequestHook`]
//! that `psg-ext` supplies (bearer token, rate limit), and records the status
//! and headers of every response so that a caller can still see them when the
//! body could not be decoded (see [`capture_response`]).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};

use crate::Client;

/// A boxed future, as returned by [`RequestHook::prepare`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Code run before every request the generated client sends.
pub trait RequestHook: Send + Sync + 'static {
    /// Prepares `request` for operation `operation_id` (e.g. adds the
    /// `Authorization` header, waits for the rate limiter). An `Err` aborts the
    /// request; its text reaches the caller as `Error::Custom`.
    fn prepare<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
        operation_id: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// The generated client's inner state: an optional [`RequestHook`].
#[derive(Clone, Default)]
pub struct Hooks {
    hook: Option<Arc<dyn RequestHook>>,
}

impl Hooks {
    /// Hooks that run `hook` before every request.
    pub fn new(hook: Arc<dyn RequestHook>) -> Self {
        Hooks { hook: Some(hook) }
    }

    /// No hooks: requests go out exactly as generated.
    pub fn none() -> Self {
        Hooks::default()
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").field("installed", &self.hook.is_some()).finish()
    }
}

/// Largest response body read; a longer one is cut off and marked with
/// [`BODY_TOO_LARGE_HEADER`] so that a hostile or broken server cannot make
/// the client buffer without bound. A full page of this API is about 100 KB;
/// with 16 pages in flight the bound keeps a stream under 64 MiB.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Added to a response whose body exceeded [`MAX_BODY_BYTES`] (the body is
/// then empty); its value is the limit.
pub const BODY_TOO_LARGE_HEADER: &str = "x-psg-body-too-large";

/// The header progenitor adds to every request and [`ClientHooks::pre`]
/// removes again: no SailPoint operation declares it.
pub const GENERATED_VERSION_HEADER: &str = "api-version";

/// Most bytes of a non-2xx body that [`ResponseMeta::error_body`] keeps.
pub const ERROR_BODY_COPY_LIMIT: usize = 4096;

/// Status and headers of the last response seen inside [`capture_response`],
/// and the start of its body when it was not a success.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// HTTP status.
    pub status: reqwest::StatusCode,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// For a non-2xx answer, its first [`ERROR_BODY_COPY_LIMIT`] bytes as
    /// received: the raw text stays at hand even when the generated client
    /// decoded the body into a type that has none of its fields (a gateway's
    /// `{"message": …}`, a problem+json, an HTML page). Empty for a success.
    pub error_body: bytes::Bytes,
}

tokio::task_local! {
    static LAST_RESPONSE: RefCell<Option<ResponseMeta>>;
}

/// Runs `call` (one generated operation) and returns its output together with
/// the status and headers of the response it received, if any.
///
/// ```
/// # async fn demo(client: &psg_client::Client) {
/// let (result, meta) = psg_client::capture_response(client.get_password_sync_group("id")).await;
/// if let (Err(_), Some(meta)) = (&result, &meta) {
///     println!("failed with {}", meta.status);
/// }
/// # }
/// ```
pub async fn capture_response<F: Future>(call: F) -> (F::Output, Option<ResponseMeta>) {
    LAST_RESPONSE
        .scope(RefCell::new(None), async move {
            let out = call.await;
            let meta = LAST_RESPONSE.with(|cell| cell.borrow_mut().take());
            (out, meta)
        })
        .await
}

impl ClientHooks<Hooks> for Client {
    async fn pre<E>(&self, request: &mut reqwest::Request, info: &OperationInfo) -> Result<(), Error<E>> {
        // progenitor adds `api-version: <info.version of the spec>` to every
        // request; no operation of SailPoint's specs declares that header, and
        // the one merged spec's version would be wrong on most paths anyway.
        request.headers_mut().remove(GENERATED_VERSION_HEADER);
        match &self.inner().hook {
            Some(hook) => hook.prepare(request, info.operation_id).await.map_err(Error::Custom),
            None => Ok(()),
        }
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let response = read_bounded(self.client().execute(request).await?).await?;
        let (response, error_body) = copy_error_body(response).await?;
        let meta =
            ResponseMeta { status: response.status(), headers: response.headers().clone(), error_body };
        // Outside `capture_response` there is no slot; nothing to record.
        let _ = LAST_RESPONSE.try_with(|cell| *cell.borrow_mut() = Some(meta));
        Ok(response)
    }
}

/// For a non-2xx answer, reads the (already bounded) body and keeps a copy of
/// its start; the response goes on with the same body. A success is untouched.
async fn copy_error_body(response: reqwest::Response) -> reqwest::Result<(reqwest::Response, bytes::Bytes)> {
    if response.status().is_success() {
        return Ok((response, bytes::Bytes::new()));
    }
    use http_body_util::BodyExt;
    let (parts, body) = http::Response::from(response).into_parts();
    let body = body.collect().await?.to_bytes();
    let copy = body.slice(..body.len().min(ERROR_BODY_COPY_LIMIT));
    Ok((http::Response::from_parts(parts, body).into(), copy))
}

/// Reads the whole body, at most [`MAX_BODY_BYTES`] of it; past that the
/// body is dropped and the response marked with [`BODY_TOO_LARGE_HEADER`].
async fn read_bounded(response: reqwest::Response) -> reqwest::Result<reqwest::Response> {
    use http_body_util::{BodyExt, Limited};
    // A declared length is enforced by hyper's framing: within the bound,
    // the response goes on untouched (no extra copy on the common path).
    let declared = response.content_length();
    if declared.is_some_and(|n| n <= MAX_BODY_BYTES as u64) {
        return Ok(response);
    }
    let (parts, body) = http::Response::from(response).into_parts();
    let too_large = |mut parts: http::response::Parts| {
        parts.headers.insert(BODY_TOO_LARGE_HEADER, http::HeaderValue::from(MAX_BODY_BYTES));
        http::Response::from_parts(parts, Vec::<u8>::new()).into()
    };
    if declared.is_some() {
        // Declared larger than the bound: not worth reading.
        return Ok(too_large(parts));
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(http::Response::from_parts(parts, collected.to_bytes()).into()),
        Err(e) => match e.downcast::<reqwest::Error>() {
            Ok(transport) => Err(*transport),
            Err(_too_large) => Ok(too_large(parts)),
        },
    }
}
