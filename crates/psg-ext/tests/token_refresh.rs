//! Token refresh against a hostile token endpoint, on tokio's paused clock:
//! a due token is served while one refresh runs, a failing endpoint fails no
//! call while the cached token is valid, and callers wait only once it has
//! expired. Assertions are about what the server saw.

mod hostile;

use std::time::Duration;

use hostile::{Hostile, ISSUED_TOKEN, Mode};
use psg_ext::{Client, Error, RetryPolicy};
use tokio::time::{Instant, sleep};

fn client(h: &Hostile) -> Client {
    Client::builder()
        .base_url(h.base_url())
        .client_credentials("hostile-client", "hostile-secret")
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(100))
                .max_delay(Duration::from_millis(100))
                .max_attempts(3),
        )
        .request_timeout(Duration::from_secs(30))
        .token_refresh_margin(Duration::from_secs(60))
        .rate_limit(None)
        .build()
        .unwrap()
}

/// Reproduction: at each refresh every call waited on the token endpoint,
/// and a failing endpoint failed calls while the cached token was valid.
#[tokio::test(start_paused = true)]
async fn a_due_token_is_served_while_a_slow_failing_refresh_runs() {
    // 120 s tokens, refreshed 60 s early.
    let h = Hostile::start(1, Mode { token_expires_in: "120".into(), ..Mode::default() }).await;
    let id = h.ids()[0].clone();
    let client = client(&h);
    let t0 = Instant::now();
    client.get_group(&id).await.unwrap();
    assert_eq!(h.token_requests().len(), 1);

    // Past the refresh point, the endpoint becomes slow (20 s) and fails.
    sleep(Duration::from_secs(70)).await;
    h.set(|m| {
        m.token_delay = Duration::from_secs(20);
        m.token_fails = true;
    });
    let due = Instant::now();
    let calls: Vec<_> = (0..10).map(|_| client.get_group(&id)).collect();
    for r in futures::future::join_all(calls).await {
        r.expect("a valid cached token serves the call");
    }
    let tokens = h.token_requests();
    assert_eq!(tokens.len(), 2, "one refresh for ten due calls: {tokens:?}");
    let api = h.api_requests();
    assert_eq!(api.len(), 11);
    for seen in &api[1..] {
        assert_eq!(seen.header("authorization"), Some(format!("Bearer {ISSUED_TOKEN}").as_str()));
        assert!(seen.at < due + Duration::from_secs(1), "a call waited on the token endpoint: {seen:?}");
    }

    // The refresh keeps failing (20 s per attempt); calls still succeed until
    // the token really expires at 120 s.
    sleep(Duration::from_secs(40)).await;
    // Attempts at 70 s and 90 s have failed; a third is under way.
    assert!(h.token_requests().len() >= 3, "the refresh failed and was retried");
    client.get_group(&id).await.expect("still valid at 110 s");
    let at_110 = h.api_requests().last().unwrap().at;
    assert!(at_110 < t0 + Duration::from_secs(120));

    // Expired, endpoint still failing: the call fails with the endpoint's
    // error, and the expired token never reaches the API.
    sleep_until_after(t0 + Duration::from_secs(121)).await;
    let sent = h.api_requests().len();
    let err = client.get_group(&id).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert_eq!(h.api_requests().len(), sent, "nothing sent with an expired token");
    assert!(h.api_requests().iter().all(|s| s.at < t0 + Duration::from_secs(120)));
}

/// Once the token has expired, callers wait, and all wait on one request.
#[tokio::test(start_paused = true)]
async fn callers_wait_only_once_the_token_has_expired_and_share_one_refresh() {
    let h = Hostile::start(1, Mode { token_expires_in: "120".into(), ..Mode::default() }).await;
    let id = h.ids()[0].clone();
    let client = client(&h);
    client.get_group(&id).await.unwrap();
    // The background refresh at 60 s is refused; by 130 s the token is gone.
    h.set(|m| m.token_fails = true);
    sleep(Duration::from_secs(61)).await;
    client.get_group(&id).await.unwrap();
    sleep(Duration::from_secs(69)).await;
    h.set(|m| {
        m.token_fails = false;
        m.token_delay = Duration::from_secs(5);
    });
    let before = h.token_requests().len();
    let expired = Instant::now();
    let calls: Vec<_> = (0..5).map(|_| client.get_group(&id)).collect();
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(h.token_requests().len(), before + 1, "one token request for five callers");
    let waited: Vec<_> = h.api_requests().into_iter().filter(|s| s.at >= expired).collect();
    assert_eq!(waited.len(), 5);
    assert!(
        waited.iter().all(|s| s.at >= expired + Duration::from_secs(5)),
        "a call went out before the new token arrived"
    );
}

/// A token endpoint that cannot be reached or answers too late gives errors
/// that say so (`is_connect`, `is_timeout`), with their cause (kept in
/// `cause` and shown in the message, not also returned as `source()`).
#[tokio::test]
async fn token_endpoint_transport_failures_keep_their_kind() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let c = Client::builder()
        .base_url(format!("http://{closed}"))
        .client_credentials("id", "secret")
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let err = c.get_group("g").await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }) && err.is_connect() && !err.is_timeout(), "{err:?}");
    assert!(matches!(&err, Error::Auth { cause: Some(c), .. } if c.is_connect()), "{err:?}");
    assert!(err.to_string().contains("refused"), "{err}");

    let slow = Hostile::start(0, Mode { token_delay: Duration::from_secs(3), ..Mode::default() }).await;
    let c = Client::builder()
        .base_url(slow.base_url())
        .client_credentials("id", "secret")
        .retry_policy(RetryPolicy::never())
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = c.get_group("g").await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }) && err.is_timeout() && !err.is_connect(), "{err:?}");
    assert_eq!(slow.token_requests().len(), 1);
}

async fn sleep_until_after(at: Instant) {
    tokio::time::sleep_until(at).await;
}
