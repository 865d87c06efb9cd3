//! Helpers shared by psg-ext's integration tests.
#![allow(dead_code)]

use std::time::Duration;

use httpmock::prelude::*;
use psg_ext::{Client, RetryPolicy};

pub const SECRET: &str = "s3cr3t-never-printed";
pub const TOKEN: &str = "tok-0123456789abcdef";

/// Retries that do not make tests slow: 1 ms base backoff.
pub fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
        .max_attempts(attempts)
}

/// A client of `server` with client credentials and fast retries, no limiter.
pub fn client_for(base: &str, attempts: u32) -> Client {
    Client::builder()
        .base_url(base)
        .client_credentials("test-client", SECRET)
        .retry_policy(fast_retries(attempts))
        .rate_limit(None)
        .build()
        .unwrap()
}

/// A builder for the emulator's demo client with fast retries and no limiter.
pub fn demo_client(base: &str, attempts: u32) -> psg_ext::ClientBuilder {
    Client::builder()
        .base_url(base)
        .client_credentials("psg-demo", "psg-demo-secret")
        .retry_policy(fast_retries(attempts))
        .rate_limit(None)
}

/// Mocks the token endpoint answering `token` valid for `ttl` seconds.
pub async fn mock_token<'a>(server: &'a MockServer, token: &str, ttl: u64) -> httpmock::Mock<'a> {
    let body = serde_json::json!({"access_token": token, "token_type": "bearer", "expires_in": ttl});
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "client_credentials")
                .form_urlencoded_tuple("client_id", "test-client")
                .form_urlencoded_tuple("client_secret", SECRET);
            then.status(200).header("content-type", "application/json").json_body(body);
        })
        .await
}

pub fn group_json(id: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "name": name, "passwordPolicyId": "p1", "sourceIds": ["s1", "s2"],
        "created": "2024-01-02T03:04:05.123Z", "modified": "2024-01-02T03:04:05.123Z"
    })
}
