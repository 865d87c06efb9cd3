//! Reports that walk `source()` (`anyhow`, `eyre`) print each cause once:
//! a variant either shows its cause in its message or returns it as
//! `source()`, never both. Each failure is produced by a real exchange with
//! a server started by the test on 127.0.0.1.

mod hostile;

use std::time::Duration;

use hostile::{Hostile, Mode};
use psg_ext::{Client, ClientBuilder, Error, GroupSpec, RetryPolicy};

fn retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
        .max_attempts(attempts)
}

fn with_token(base: &str) -> ClientBuilder {
    Client::builder()
        .base_url(base)
        .access_token("fixed-token-for-chain-test")
        .retry_policy(retries(1))
        .rate_limit(None)
        .request_timeout(Duration::from_millis(300))
}

/// Every message of the chain `source()` walks, top first.
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        out.push(s.to_string());
        next = s.source();
    }
    out
}

/// `needle` (a text of the cause) appears exactly once in the anyhow
/// report, and no message of the chain repeats an earlier one.
fn printed_once(err: Error, needle: &str) {
    let links = chain(&err);
    for (i, later) in links.iter().enumerate().skip(1) {
        for earlier in &links[..i] {
            assert!(!earlier.contains(later.as_str()), "{later:?} is printed twice in {links:?}");
        }
    }
    let report = format!("{:#}", anyhow::Error::from(err));
    assert_eq!(report.matches(needle).count(), 1, "{needle:?} in: {report}");
}

#[tokio::test]
async fn a_refused_connection_is_printed_once() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = with_token(&base).build().unwrap().list_groups().page().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    printed_once(err, "os error");
}

#[tokio::test]
async fn a_timeout_is_printed_once() {
    // Accepts and never answers; the server saw the connection.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let (conn, _) = silent.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(conn);
    });
    let err = with_token(&base).build().unwrap().list_groups().page().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    printed_once(err, "operation timed out");
    held.abort();
}

#[tokio::test]
async fn a_token_endpoint_timeout_is_printed_once() {
    let h = Hostile::start(0, Mode { token_delay: Duration::from_secs(5), ..Mode::default() }).await;
    let err = Client::builder()
        .base_url(h.base_url())
        .client_credentials("hostile-client", "hostile-secret")
        .retry_policy(retries(1))
        .rate_limit(None)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .list_groups()
        .page()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }) && err.is_timeout(), "{err:?}");
    assert_eq!(h.token_requests().len(), 1, "the token endpoint was asked");
    assert!(h.api_requests().is_empty());
    printed_once(err, "operation timed out");
}

#[tokio::test]
async fn a_lost_create_is_printed_once() {
    let h = Hostile::start(0, Mode { lose_answers: 1, ..Mode::default() }).await;
    let err = Client::builder()
        .base_url(h.base_url())
        .client_credentials("hostile-client", "hostile-secret")
        .retry_policy(retries(3))
        .rate_limit(None)
        .build()
        .unwrap()
        .create_group(&GroupSpec::new("Payroll").password_policy("p1").sources(["s1", "s2"]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CreateOutcomeUnknown { .. }), "{err:?}");
    assert_eq!(h.api_requests().len(), 1, "sent once");
    printed_once(err, "was lost");
}
