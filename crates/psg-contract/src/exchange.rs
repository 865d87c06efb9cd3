//! Putting a server into a fixture's situation and performing one exchange
//! on the wire: shared by `record` and the emulator conformance tests.

use std::collections::BTreeMap;
use std::time::Duration;

use psg_emulator::{ClientSpec, Emulator, EmulatorHandle, FaultSpec, RateLimit};
use serde_json::Value;

use crate::fixture::{ClientKind, FixtureResponse, Placeholders, Setup, TokenState};

/// Response headers kept in fixtures.
pub const KEPT_HEADERS: [&str; 3] = ["content-type", "x-total-count", "retry-after"];

/// A server ready for one exchange.
pub struct Arranged {
    /// Tenant root.
    pub base_url: String,
    /// Token to send, if the setup sends one.
    pub token: Option<String>,
    /// Concrete values of the placeholders on this server.
    pub placeholders: Placeholders,
    /// Keeps an emulator alive for the exchange.
    pub emulator: Option<EmulatorHandle>,
    /// Groups created for the setup on a live tenant, deleted afterwards.
    pub created: Vec<String>,
}

fn credentials(kind: ClientKind) -> (&'static str, &'static str) {
    match kind {
        ClientKind::Manage => ("psg-demo", "psg-demo-secret"),
        ClientKind::Read => ("psg-reader", "psg-reader-secret"),
        ClientKind::NoScope => ("psg-noscope", "psg-noscope-secret"),
    }
}

/// Gets a token by client credentials.
pub async fn fetch_token(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "token request answered {}", response.status());
    let body: Value = response.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no access_token in the answer"))
}

/// Starts an emulator in the situation `setup` describes.
pub async fn arrange_emulator(setup: &Setup) -> anyhow::Result<Arranged> {
    let mut builder = Emulator::builder()
        .ephemeral()
        .groups(setup.groups)
        .extra_client("psg-reader:psg-reader-secret:read".parse::<ClientSpec>().map_err(anyhow::Error::msg)?)
        .extra_client(
            "psg-noscope:psg-noscope-secret:none".parse::<ClientSpec>().map_err(anyhow::Error::msg)?,
        )
        .rate_limit(setup.rate_limited.then_some(RateLimit { count: 1, window: Duration::from_secs(60) }));
    if setup.token == TokenState::Expired {
        builder = builder.token_ttl(Duration::ZERO);
    }
    if let Some(status) = setup.fault {
        builder = builder.faults(format!("{status}=1").parse::<FaultSpec>().map_err(anyhow::Error::msg)?, 0);
    }
    let emulator = builder.start().await?;
    let base_url = emulator.base_url();
    let http = crate::http_client();
    let (id, secret) = credentials(setup.client);
    let token = fetch_token(&http, &base_url, id, secret).await?;
    if setup.rate_limited {
        // Use up the one request of the window.
        http.get(format!("{base_url}/beta/password-sync-groups?limit=0")).bearer_auth(&token).send().await?;
    }
    let catalog = emulator.catalog();
    let placeholders = Placeholders {
        token: token.clone(),
        groups: emulator.groups().into_iter().map(|g| g.id).collect(),
        new_id: String::new(),
        policies: catalog.password_policy_ids,
        // Every source, password-managed ones first (as `source_ids` lists
        // them), so `{{source:N}}` of a group is the same id as before.
        sources: catalog.sources.into_iter().map(|s| s.id).collect(),
        tracking_id: String::new(),
        timestamp: String::new(),
    };
    let token = (setup.token != TokenState::Missing).then_some(token);
    Ok(Arranged { base_url, token, placeholders, emulator: Some(emulator), created: Vec::new() })
}

/// What came back.
pub struct Captured {
    /// The response, with kept headers only and the JSON body (if any).
    pub response: FixtureResponse,
}

/// Sends one request (templates filled from `arranged`), with `headers`
/// beyond the token.
pub async fn perform(
    arranged: &Arranged,
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> anyhow::Result<Captured> {
    let http = crate::http_client();
    let p = &arranged.placeholders;
    let url = format!("{}{}", arranged.base_url, p.fill(path));
    let method: reqwest::Method = method.parse()?;
    let mut request = http.request(method, url).query(query);
    if let Some(token) = &arranged.token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&p.fill_value(body));
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let mut headers = BTreeMap::new();
    for name in KEPT_HEADERS {
        if let Some(v) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
            headers.insert(name.to_string(), v.to_string());
        }
    }
    let bytes = response.bytes().await?;
    let body = if bytes.is_empty() { None } else { Some(serde_json::from_slice::<Value>(&bytes)?) };
    Ok(Captured { response: FixtureResponse { status, headers, body } })
}
