//! Each retry rule against a mock server on 127.0.0.1.

mod common;

use std::time::Duration;

use common::*;
use httpmock::prelude::*;
use psg_ext::{Client, Error, GroupSpec};

fn new_group() -> GroupSpec {
    GroupSpec::new("Finance").password_policy("p1").sources(["s1", "s2"])
}

#[tokio::test]
async fn get_is_retried_on_503_until_attempts_run_out() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(503).header("content-type", "text/html").body("<html>down for maintenance</html>");
        })
        .await;
    let err = client_for(&server.base_url(), 3).get_group("g1").await.unwrap_err();
    assert_eq!(m.calls_async().await, 3);
    match &err {
        Error::UnexpectedResponse { status, body_snippet, attempts, .. } => {
            assert_eq!((status.as_u16(), *attempts), (503, 3));
            assert!(body_snippet.contains("down for maintenance"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn each_transient_status_is_retried_for_reads() {
    for status in [500u16, 502, 504] {
        let server = MockServer::start_async().await;
        mock_token(&server, TOKEN, 749).await;
        let m = server
            .mock_async(|when, then| {
                when.method(GET).path("/beta/password-sync-groups/g1");
                then.status(status)
                    .json_body(serde_json::json!({"detailCode": "x", "trackingId": "t1", "messages": []}));
            })
            .await;
        let err = client_for(&server.base_url(), 2).get_group("g1").await.unwrap_err();
        assert_eq!(m.calls_async().await, 2, "{status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
    }
}

#[tokio::test]
async fn create_is_not_replayed_after_a_500() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/beta/password-sync-groups");
            then.status(500).json_body(serde_json::json!({
                "detailCode": "500.0 Internal Fault", "trackingId": "abc123",
                "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": "An internal fault occurred."}]
            }));
        })
        .await;
    let err = client_for(&server.base_url(), 5).create_group(&new_group()).await.unwrap_err();
    assert_eq!(m.calls_async().await, 1);
    assert_eq!(err.tracking_id(), Some("abc123"));
    // The server may have created it before failing: unknown, not retryable.
    assert!(
        matches!(&err, Error::CreateOutcomeUnknown { status: Some(s), attempts: 1, .. } if *s == 500),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn create_is_not_replayed_after_a_timeout() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    let slow = server
        .mock_async(|when, then| {
            when.method(POST).path("/beta/password-sync-groups").json_body_includes(r#"{"name": "slow"}"#);
            then.status(200).delay(Duration::from_secs(3)).json_body(group_json("g", "slow"));
        })
        .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .client_credentials("test-client", SECRET)
        .retry_policy(fast_retries(5))
        .request_timeout(Duration::from_millis(200))
        .rate_limit(None)
        .build()
        .unwrap();
    let err = client.create_group(&new_group().name("slow")).await.unwrap_err();
    // The server may have acted: not replayed, and said so.
    assert!(
        matches!(&err, Error::CreateOutcomeUnknown { attempts: 1, name, .. } if name == "slow"),
        "{err:?}"
    );
    assert!(err.is_timeout() && err.to_string().contains("may exist"), "{err}");
    assert_eq!(slow.calls_async().await, 1);
}

#[tokio::test]
async fn create_is_replayed_on_429_honouring_retry_after() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST).path("/beta/password-sync-groups");
            then.status(429)
                .header("Retry-After", "0")
                .json_body(serde_json::json!({"message": " Rate Limit Exceeded "}));
        })
        .await;
    let err = client_for(&server.base_url(), 3).create_group(&new_group()).await.unwrap_err();
    assert_eq!(m.calls_async().await, 3);
    match err {
        Error::RateLimited { attempts, retry_after, message, .. } => {
            assert_eq!((attempts, retry_after), (3, Some(Duration::ZERO)));
            assert_eq!(message.as_deref(), Some(" Rate Limit Exceeded "));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn create_is_replayed_when_the_connection_was_refused() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .access_token("t")
        .retry_policy(fast_retries(3))
        .rate_limit(None)
        .build()
        .unwrap();
    let err = client.create_group(&new_group()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { attempts: 3, .. }), "{err:?}");
}

#[tokio::test]
async fn a_long_retry_after_is_capped() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(503).header("Retry-After", "3600");
        })
        .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .client_credentials("test-client", SECRET)
        .retry_policy(fast_retries(3).max_retry_after(Duration::from_millis(10)))
        .rate_limit(None)
        .build()
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(20), client.get_group("g1")).await;
    assert!(result.expect("a capped Retry-After does not wait an hour").is_err());
    assert_eq!(m.calls_async().await, 3);
}

#[tokio::test]
async fn the_retry_budget_stops_a_retry_storm() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(503);
        })
        .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .client_credentials("test-client", SECRET)
        .retry_policy(fast_retries(3).budget(10))
        .rate_limit(None)
        .build()
        .unwrap();
    for _ in 0..5 {
        assert!(client.get_group("g1").await.is_err());
    }
    // The first call spends the budget on its two retries; the rest try once.
    assert_eq!(m.calls_async().await, 3 + 4);
}

#[tokio::test]
async fn errors_are_typed_from_the_body() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/missing");
            then.status(404).json_body(serde_json::json!({
                "detailCode": "404 Not found", "trackingId": "t404",
                "messages": [{"locale": "en-US", "localeOrigin": "SOMETHING_NEW", "text": "No such group"}]
            }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(PUT).path("/beta/password-sync-groups/g1");
            then.status(400).json_body(serde_json::json!({
                "detailCode": "400.1 Bad Request Content", "trackingId": "t400",
                "messages": [{"locale": null, "localeOrigin": null, "text": "sourceIds must list two sources"}],
                "causes": [{"text": "only one given"}]
            }));
        })
        .await;
    let client = client_for(&server.base_url(), 3);
    let err = client.get_group("missing").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.tracking_id(), Some("t404"));
    assert!(err.to_string().contains("missing") && err.to_string().contains("t404"), "{err}");
    let err = client.update_group("g1", &new_group()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("HTTP 400")
            && text.contains("sourceIds must list two sources")
            && text.contains("only one given")
            && text.contains("t400"),
        "{text}"
    );
}

#[tokio::test]
async fn local_validation_sends_nothing() {
    let server = MockServer::start_async().await;
    let token = mock_token(&server, TOKEN, 749).await;
    let client = client_for(&server.base_url(), 3);
    for (group, field) in [
        (GroupSpec::new(" ").password_policy("p").sources(["a", "b"]), "name"),
        (GroupSpec::new("n").sources(["a", "b"]), "passwordPolicyId"),
        (GroupSpec::new("n").password_policy("p").sources(["a"]), "sourceIds"),
        (GroupSpec::new("n").password_policy("p").sources(["a", "a"]), "sourceIds"),
    ] {
        match client.create_group(&group).await.unwrap_err() {
            Error::InvalidInput { field: f, .. } => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(client.get_group("").await, Err(Error::InvalidInput { field: "id", .. })));
    assert_eq!(token.calls_async().await, 0);
}

#[tokio::test]
async fn unknown_fields_and_enum_values_decode_and_empty_pages_are_ok() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    let mut g = group_json("g1", "one");
    g["ownerId"] = serde_json::json!("someone");
    g["futureThing"] = serde_json::json!({"nested": [1, 2]});
    let body = serde_json::json!([g]);
    server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups").query_param("offset", "0");
            then.status(200).header("X-Total-Count", "1").json_body(body);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups").query_param("offset", "500");
            then.status(200).header("X-Total-Count", "1").json_body(serde_json::json!([]));
        })
        .await;
    let client = client_for(&server.base_url(), 3);
    let page = client.list_groups().page().await.unwrap();
    assert_eq!((page.items.len(), page.total), (1, Some(1)));
    assert_eq!(page.items[0].name, "one");
    let past = client.list_groups().offset(500).page().await.unwrap();
    assert!(past.items.is_empty());
}

#[tokio::test]
async fn page_without_count_does_not_ask_for_the_total() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 749).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/beta/password-sync-groups")
                .query_param("count", "false")
                .query_param("limit", "10");
            then.status(200).json_body(serde_json::json!([]));
        })
        .await;
    let page = client_for(&server.base_url(), 1).list_groups().limit(10).count(false).page().await.unwrap();
    assert_eq!((page.items.len(), page.total), (0, None));
    assert_eq!(m.calls_async().await, 1);
}

#[test]
fn a_bad_proxy_or_certificate_is_a_config_error_naming_it() {
    let base = || Client::builder().base_url("https://acme.example").access_token("t");
    let err = base().proxy("::not a url::").build().unwrap_err();
    assert!(
        matches!(&err, Error::Config { message: m, .. } if m.contains("proxy URL '::not a url::'")),
        "{err}"
    );
    let err = base().add_root_certificate_pem("not a certificate").build().unwrap_err();
    assert!(matches!(&err, Error::Config { message: m, .. } if m.contains("root certificate #1")), "{err}");
    assert!(base().proxy("http://127.0.0.1:3128").build().is_ok());
    // A real (self-signed, test-only) certificate is accepted.
    let pem = include_bytes!("data/test-root.pem");
    assert!(base().add_root_certificate_pem(pem.to_vec()).build().is_ok());
}
