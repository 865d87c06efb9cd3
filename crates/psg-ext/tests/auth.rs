//! Token caching, refresh before expiry, single flight, refresh on 401.

mod common;

use std::time::Duration;

use common::*;
use httpmock::prelude::*;

#[tokio::test]
async fn token_is_cached_across_calls_and_sent_as_bearer() {
    let server = MockServer::start_async().await;
    let token = mock_token(&server, TOKEN, 749).await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/beta/password-sync-groups/g1")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(group_json("g1", "one"));
        })
        .await;
    let client = client_for(&server.base_url(), 3);
    for _ in 0..5 {
        assert_eq!(client.get_group("g1").await.unwrap().name, "one");
    }
    assert_eq!(token.calls_async().await, 1);
    assert_eq!(get.calls_async().await, 5);
}

#[tokio::test]
async fn token_is_refetched_once_it_expires() {
    let server = MockServer::start_async().await;
    let token = mock_token(&server, TOKEN, 749).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(200).json_body(group_json("g1", "one"));
        })
        .await;
    let client = client_for(&server.base_url(), 3);
    client.get_group("g1").await.unwrap();
    // 749 s lifetime, 60 s margin: at 680 s the token is still used ...
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(680)).await;
    tokio::time::resume();
    client.get_group("g1").await.unwrap();
    assert_eq!(token.calls_async().await, 1);
    // ... past its expiry (750 s) a new one is fetched first. (The refresh
    // in the background between 689 s and 749 s is proven on a paused clock
    // in tests/token_refresh.rs.)
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(70)).await;
    tokio::time::resume();
    client.get_group("g1").await.unwrap();
    assert_eq!(token.calls_async().await, 2);
}

#[tokio::test]
async fn concurrent_requests_share_one_token_request() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .delay(Duration::from_millis(100))
                .json_body(serde_json::json!({"access_token": TOKEN, "expires_in": 749}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(200).json_body(group_json("g1", "one"));
        })
        .await;
    let client = client_for(&server.base_url(), 3);
    let calls = (0..20).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.get_group("g1").await })
    });
    for call in futures::future::join_all(calls).await {
        call.unwrap().unwrap();
    }
    assert_eq!(token.calls_async().await, 1);
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_replays_once() {
    let server = MockServer::start_async().await;
    let first_token = mock_token(&server, "tok-old", 749).await;
    let ok_old = server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1").header("authorization", "Bearer tok-old");
            then.status(200).json_body(group_json("g1", "one"));
        })
        .await;
    let client = client_for(&server.base_url(), 3);
    client.get_group("g1").await.unwrap();
    // The server now rejects the cached token and issues a new one.
    ok_old.delete_async().await;
    first_token.delete_async().await;
    let rejected = server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1").header("authorization", "Bearer tok-old");
            then.status(401).json_body(serde_json::json!({"error": "JWT validation failed: JWT is expired"}));
        })
        .await;
    let new_token = mock_token(&server, "tok-new", 749).await;
    let ok_new = server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1").header("authorization", "Bearer tok-new");
            then.status(200).json_body(group_json("g1", "one"));
        })
        .await;
    client.get_group("g1").await.unwrap();
    assert_eq!(
        (rejected.calls_async().await, new_token.calls_async().await, ok_new.calls_async().await),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_401_that_persists_is_unauthorized_after_one_replay() {
    let server = MockServer::start_async().await;
    let token = mock_token(&server, TOKEN, 749).await;
    let rejected = server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(401)
                .json_body(serde_json::json!({"error": "JWT validation failed: token is not valid"}));
        })
        .await;
    let err = client_for(&server.base_url(), 3).get_group("g1").await.unwrap_err();
    assert!(matches!(err, psg_ext::Error::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("token is not valid"), "{err}");
    assert_eq!((token.calls_async().await, rejected.calls_async().await), (2, 2));
}

#[tokio::test]
async fn refused_credentials_name_the_variables_and_hide_the_secret() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(401).json_body(serde_json::json!({"error": "invalid_client", "echo": SECRET}));
        })
        .await;
    let err = client_for(&server.base_url(), 3).get_group("g1").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, psg_ext::Error::Auth { .. }), "{err:?}");
    assert!(text.contains("HTTP 401") && text.contains("check the client id and secret"), "{text}");
    assert!(!text.contains(SECRET) && !format!("{err:?}").contains(SECRET), "{text}");
}

#[tokio::test]
async fn a_fixed_access_token_is_used_as_is() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/beta/password-sync-groups/g1")
                .header("authorization", "Bearer fixed-token");
            then.status(200).json_body(group_json("g1", "one"));
        })
        .await;
    let client = psg_ext::Client::builder()
        .base_url(server.base_url())
        .access_token("fixed-token")
        .rate_limit(None)
        .build()
        .unwrap();
    client.get_group("g1").await.unwrap();
    assert_eq!(get.calls_async().await, 1);
    assert!(!format!("{client:?}").contains("fixed-token"));
}
