//! A small hostile server for psg-ext's promises: it speaks just enough of
//! the token endpoint and the groups API, misbehaves on request (slow or
//! failing tokens, lying totals, capped pages, inserts while listing, lost
//! answers, redirects) and records what it saw, so tests assert what the
//! *server* observed.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// The token the server issues; tests assert it never leaks.
pub const ISSUED_TOKEN: &str = "hostile-issued-token-7f3a9c";

/// How the server misbehaves. Change it between requests through [`Hostile::set`].
#[derive(Clone, Debug)]
pub struct Mode {
    /// Delay before the token endpoint answers.
    pub token_delay: Duration,
    /// `expires_in` of issued tokens (as JSON text, so it can be absurd).
    pub token_expires_in: String,
    /// Token endpoint answers 500.
    pub token_fails: bool,
    /// `X-Total-Count` to claim instead of the truth.
    pub lying_total: Option<u64>,
    /// Items served at most per page, whatever `limit` asks.
    pub page_cap: Option<usize>,
    /// Groups inserted at the front after each list request.
    pub insert_per_list: usize,
    /// Serve only empty pages after the first.
    pub empty_after_first: bool,
    /// Carry out POST/DELETE, then drop the connection unanswered (this many times).
    pub lose_answers: usize,
    /// Answer 429 (Retry-After 1) to this many API requests.
    pub answer_429: usize,
    /// Answer every API request with a 302 to this location.
    pub redirect_to: Option<String>,
    /// Send no `X-Total-Count`.
    pub no_total: bool,
    /// Answer an offset at or past the end (but not 0) with ISC's
    /// `400 "Specified offset is invalid."`.
    pub offset_invalid_at_end: bool,
    /// Answer list requests with a body that never ends.
    pub endless_body: bool,
    /// Answer token requests with a body that never ends.
    pub endless_token_body: bool,
    /// Answer list requests with a 5 MiB body of declared length.
    pub huge_body: bool,
    /// Answers given, in order, to the next API requests instead of the
    /// normal one (see [`Canned`]).
    pub canned: Vec<Canned>,
    /// Delay before answering a list request at an offset past 0.
    pub later_pages_delay: Duration,
    /// The only path where groups are served (see [`GROUP_PATHS`]); any
    /// other answers 404. `None`: any version prefix.
    pub groups_path: Option<&'static str>,
}

/// One answer the server gives instead of the normal one.
#[derive(Clone, Debug)]
pub struct Canned {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<&'static str>,
    /// `Retry-After`, if any.
    pub retry_after: Option<&'static str>,
    /// The body, sent as is.
    pub body: String,
    /// Carry the request out first (a create stores the group), then answer
    /// this instead of the success: a server that acted, then failed.
    pub act_first: bool,
}

impl Canned {
    /// `status` with `body` of type `content_type`, without acting.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Canned {
        Canned {
            status,
            content_type: Some(content_type),
            retry_after: None,
            body: body.into(),
            act_first: false,
        }
    }

    /// The same answer after carrying the request out.
    pub fn after_acting(mut self) -> Canned {
        self.act_first = true;
        self
    }

    fn response(&self) -> Response<Body> {
        let mut r = Response::new(full(self.body.clone()));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap();
        if let Some(t) = self.content_type {
            r.headers_mut().insert("content-type", t.parse().unwrap());
        }
        if let Some(after) = self.retry_after {
            r.headers_mut().insert("retry-after", after.parse().unwrap());
        }
        r
    }
}

impl Default for Mode {
    fn default() -> Self {
        Mode {
            token_delay: Duration::ZERO,
            token_expires_in: "749".into(),
            token_fails: false,
            lying_total: None,
            page_cap: None,
            insert_per_list: 0,
            empty_after_first: false,
            lose_answers: 0,
            answer_429: 0,
            redirect_to: None,
            no_total: false,
            offset_invalid_at_end: false,
            endless_body: false,
            endless_token_body: false,
            huge_body: false,
            canned: Vec::new(),
            later_pages_delay: Duration::ZERO,
            groups_path: None,
        }
    }
}

/// Where each API version keeps password sync groups, written out here
/// rather than asked of psg-ext, so that a wrong path in psg-ext is a 404.
pub const GROUP_PATHS: &[(psg_ext::ApiVersion, &str)] = &[
    (psg_ext::ApiVersion::Beta, "/beta/password-sync-groups"),
    (psg_ext::ApiVersion::V3, "/v3/password-sync-groups"),
    (psg_ext::ApiVersion::V2024, "/v2024/password-sync-groups"),
    (psg_ext::ApiVersion::V2025, "/v2025/password-sync-groups"),
    (psg_ext::ApiVersion::V2026, "/v2026/password-sync-groups"),
    (psg_ext::ApiVersion::V1, "/password-sync-groups/v1"),
];

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub method: Method,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// Request headers (Authorization included: tests check it never leaks elsewhere).
    pub headers: hyper::HeaderMap,
}

impl Seen {
    /// The value of header `name`, if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct State {
    mode: Mode,
    groups: Vec<(String, String)>,
    next_id: u64,
    seen: Vec<Seen>,
    tokens: Vec<Instant>,
    lists: usize,
}

/// A running hostile server.
#[derive(Clone)]
pub struct Hostile {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    version: Option<psg_ext::ApiVersion>,
}

impl Hostile {
    /// Starts on 127.0.0.1 with `groups` groups and `mode`.
    pub async fn start(groups: usize, mode: Mode) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State { mode, ..State::default() }));
        {
            let mut s = state.lock().unwrap();
            for _ in 0..groups {
                let id = s.new_id();
                let name = format!("group {id}");
                s.groups.push((id, name));
            }
        }
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Hostile { addr, state, version: None }
    }

    /// Starts like [`Hostile::start`], serving groups only where `version`
    /// keeps them ([`GROUP_PATHS`]); [`Hostile::version`] gives it back.
    pub async fn start_for(version: psg_ext::ApiVersion, groups: usize, mode: Mode) -> Hostile {
        let path = GROUP_PATHS.iter().find(|(v, _)| *v == version).map(|(_, p)| *p);
        let path = path.unwrap_or_else(|| panic!("GROUP_PATHS lacks {version}: add it"));
        let mut h = Hostile::start(groups, Mode { groups_path: Some(path), ..mode }).await;
        h.version = Some(version);
        h
    }

    /// The version given to [`Hostile::start_for`].
    pub fn version(&self) -> Option<psg_ext::ApiVersion> {
        self.version
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the mode.
    pub fn set(&self, f: impl FnOnce(&mut Mode)) {
        f(&mut self.state.lock().unwrap().mode);
    }

    /// API requests seen (not token requests), in arrival order.
    pub fn api_requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Arrival times of token requests.
    pub fn token_requests(&self) -> Vec<Instant> {
        self.state.lock().unwrap().tokens.clone()
    }

    /// Ids the server holds now, in order.
    pub fn ids(&self) -> Vec<String> {
        self.state.lock().unwrap().groups.iter().map(|(id, _)| id.clone()).collect()
    }

    /// Names the server holds now.
    pub fn names(&self) -> Vec<String> {
        self.state.lock().unwrap().groups.iter().map(|(_, n)| n.clone()).collect()
    }
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:032x}", self.next_id)
    }
}

/// Largest number of instants inside any half-open interval of `len`.
pub fn max_in_window(times: &[Instant], len: Duration) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    (0..sorted.len())
        .map(|i| sorted[i..].iter().take_while(|t| **t < sorted[i] + len).count())
        .max()
        .unwrap_or(0)
}

/// Response bodies: fixed or endless.
type Body = BoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

/// `[` followed by spaces for ever, 64 KiB at a time.
fn endless() -> Body {
    let chunk = Bytes::from(vec![b' '; 64 * 1024]);
    let first = futures::stream::once(async {
        Ok::<_, std::io::Error>(hyper::body::Frame::data(Bytes::from_static(b"[")))
    });
    let rest = futures::stream::repeat_with(move || Ok(hyper::body::Frame::data(chunk.clone())));
    BodyExt::boxed(StreamBody::new(first.chain(rest)))
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut r = Response::new(full(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", "application/json".parse().unwrap());
    r
}

fn group_json(id: &str, name: &str) -> serde_json::Value {
    json!({"id": id, "name": name, "passwordPolicyId": "p1", "sourceIds": ["s1", "s2"]})
}

fn query_value(query: &str, key: &str) -> Option<u64> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')).and_then(|v| v.parse().ok()))
}

/// `Err` makes hyper drop the connection without an answer.
async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Response<Body>, std::io::Error> {
    let at = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let query = req.uri().query().unwrap_or_default().to_string();
    let headers = req.headers().clone();
    if path == "/oauth/token" {
        let mode = {
            let mut s = state.lock().unwrap();
            s.tokens.push(at);
            s.mode.clone()
        };
        let _ = req.into_body().collect().await;
        if !mode.token_delay.is_zero() {
            tokio::time::sleep(mode.token_delay).await;
        }
        if mode.endless_token_body {
            let mut r = Response::new(endless());
            r.headers_mut().insert("content-type", "application/json".parse().unwrap());
            return Ok(r);
        }
        if mode.token_fails {
            return Ok(reply(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "boom"})));
        }
        let body = format!(
            r#"{{"access_token":"{ISSUED_TOKEN}","token_type":"bearer","expires_in":{}}}"#,
            mode.token_expires_in
        );
        let mut r = Response::new(full(body));
        r.headers_mut().insert("content-type", "application/json".parse().unwrap());
        return Ok(r);
    }
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let delay = state.lock().unwrap().mode.later_pages_delay;
    if !delay.is_zero() && method == Method::GET && query_value(&query, "offset").unwrap_or(0) > 0 {
        tokio::time::sleep(delay).await;
    }
    let mut s = state.lock().unwrap();
    let record = |status: u16, s: &mut State| {
        s.seen.push(Seen {
            at,
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            status,
            headers: headers.clone(),
        });
    };
    if let Some(to) = s.mode.redirect_to.clone() {
        record(302, &mut s);
        let mut r = reply(StatusCode::FOUND, json!({}));
        r.headers_mut().insert("location", to.parse().unwrap());
        return Ok(r);
    }
    if s.mode.answer_429 > 0 {
        s.mode.answer_429 -= 1;
        record(429, &mut s);
        let mut r = reply(StatusCode::TOO_MANY_REQUESTS, json!({"message": "slow down"}));
        r.headers_mut().insert("retry-after", "1".parse().unwrap());
        return Ok(r);
    }
    let canned = if s.mode.canned.is_empty() { None } else { Some(s.mode.canned.remove(0)) };
    if let Some(c) = canned.as_ref().filter(|c| !c.act_first) {
        record(c.status, &mut s);
        return Ok(c.response());
    }
    // The version's own path when one was given, else any version prefix:
    // `/beta`, `/v3`, `/v2025`, ...
    let collection_path = match (s.mode.groups_path, path.find("/password-sync-groups")) {
        (Some(only), _) => only.to_string(),
        (None, Some(i)) => format!("{}/password-sync-groups", &path[..i]),
        (None, None) => "/beta/password-sync-groups".to_string(),
    };
    let collection = collection_path.as_str();
    let lose = |s: &mut State| {
        if s.mode.lose_answers > 0 {
            s.mode.lose_answers -= 1;
            true
        } else {
            false
        }
    };
    let normal = match (&method, path.as_str()) {
        (&Method::GET, p) if p == collection && s.mode.huge_body => {
            record(200, &mut s);
            let mut r = Response::new(full(vec![b' '; 5 * 1024 * 1024]));
            r.headers_mut().insert("content-type", "application/json".parse().unwrap());
            Ok(r)
        }
        (&Method::GET, p) if p == collection && s.mode.endless_body => {
            record(200, &mut s);
            let mut r = Response::new(endless());
            r.headers_mut().insert("content-type", "application/json".parse().unwrap());
            Ok(r)
        }
        (&Method::GET, p) if p == collection => {
            s.lists += 1;
            let limit = query_value(&query, "limit").unwrap_or(250) as usize;
            let offset = query_value(&query, "offset").unwrap_or(0) as usize;
            if s.mode.offset_invalid_at_end && offset > 0 && offset >= s.groups.len() {
                record(400, &mut s);
                return Ok(reply(
                    StatusCode::BAD_REQUEST,
                    json!({"detailCode": "400.1 Bad Request Content", "trackingId": "t400",
                           "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": "Specified offset is invalid."}]}),
                ));
            }
            let cap = s.mode.page_cap.unwrap_or(usize::MAX).min(limit);
            let items: Vec<_> = if s.mode.empty_after_first && s.lists > 1 {
                Vec::new()
            } else {
                s.groups.iter().skip(offset).take(cap).map(|(id, n)| group_json(id, n)).collect()
            };
            let total = s.mode.lying_total.unwrap_or(s.groups.len() as u64);
            for _ in 0..s.mode.insert_per_list {
                let id = s.new_id();
                let name = format!("inserted {id}");
                s.groups.insert(0, (id, name));
            }
            record(200, &mut s);
            let mut r = reply(StatusCode::OK, json!(items));
            if !s.mode.no_total {
                r.headers_mut().insert("x-total-count", total.to_string().parse().unwrap());
            }
            Ok(r)
        }
        (&Method::POST, p) if p == collection => {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let name = v["name"].as_str().unwrap_or_default().to_string();
            let id = s.new_id();
            s.groups.push((id.clone(), name.clone()));
            if lose(&mut s) {
                record(0, &mut s);
                return Err(std::io::Error::other("answer lost on purpose"));
            }
            record(200, &mut s);
            Ok(reply(StatusCode::OK, group_json(&id, &name)))
        }
        (&Method::DELETE, p) if p.starts_with(&format!("{collection}/")) => {
            let id = p.rsplit('/').next().unwrap_or_default().to_string();
            let before = s.groups.len();
            s.groups.retain(|(g, _)| *g != id);
            if before == s.groups.len() {
                record(404, &mut s);
                return Ok(reply(
                    StatusCode::NOT_FOUND,
                    json!({"detailCode": "404 Not found", "trackingId": "t404", "messages": [{"text": "no such group"}]}),
                ));
            }
            if lose(&mut s) {
                record(0, &mut s);
                return Err(std::io::Error::other("answer lost on purpose"));
            }
            record(204, &mut s);
            let mut r = Response::new(full(Bytes::new()));
            *r.status_mut() = StatusCode::NO_CONTENT;
            Ok(r)
        }
        (&Method::GET, p) if p.starts_with(&format!("{collection}/")) => {
            let id = p.rsplit('/').next().unwrap_or_default();
            let found = s.groups.iter().find(|(g, _)| g == id).cloned();
            record(if found.is_some() { 200 } else { 404 }, &mut s);
            Ok(match found {
                Some((id, name)) => reply(StatusCode::OK, group_json(&id, &name)),
                None => reply(
                    StatusCode::NOT_FOUND,
                    json!({"trackingId": "t404", "messages": [{"text": "no such group"}]}),
                ),
            })
        }
        (&Method::GET, p)
            if ["/password-policies", "/sources"]
                .iter()
                .any(|r| p.ends_with(r) || p.ends_with(&format!("{r}/v1"))) =>
        {
            record(200, &mut s);
            let mut r = reply(StatusCode::OK, json!([]));
            r.headers_mut().insert("x-total-count", "0".parse().unwrap());
            Ok(r)
        }
        _ => {
            record(404, &mut s);
            Ok(reply(StatusCode::NOT_FOUND, json!({"messages": [{"text": "no route"}]})))
        }
    };
    match canned {
        // Acted: now answer the canned failure instead.
        Some(c) => {
            if let Some(last) = s.seen.last_mut() {
                last.status = c.status;
            }
            Ok(c.response())
        }
        None => normal,
    }
}
