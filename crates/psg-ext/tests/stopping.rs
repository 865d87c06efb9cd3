//! `Client::stop_new_requests`: a call waiting for a rate-limit slot ends
//! without sending, later calls are not sent, and the server sees only what
//! went out before the stop.

mod common;

use std::time::Duration;

use common::{SECRET, TOKEN, fast_retries, group_json, mock_token};
use httpmock::prelude::*;
use psg_ext::{Client, Error, RateLimit};

#[tokio::test]
async fn a_call_waiting_for_a_rate_limit_slot_is_never_sent_after_the_stop() {
    let server = MockServer::start_async().await;
    mock_token(&server, TOKEN, 3600).await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(200).header("content-type", "application/json").json_body(group_json("g1", "one"));
        })
        .await;
    // One request a minute: the second call waits for a slot.
    let client = Client::builder()
        .base_url(server.base_url())
        .client_credentials("test-client", SECRET)
        .retry_policy(fast_retries(3))
        .rate_limit(Some(RateLimit::new(1, Duration::from_secs(60)).unwrap()))
        .build()
        .unwrap();
    client.get_group("g1").await.unwrap();
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { client.get_group("g1").await }
    });
    client.stop_new_requests();
    let result =
        tokio::time::timeout(Duration::from_secs(20), waiting).await.expect("not held for the window");
    let err = result.unwrap().unwrap_err();
    assert!(matches!(err, Error::Stopped { may_have_acted: false, .. }), "{err:?}");
    assert!(err.to_string().contains("was not sent"), "{err}");
    let later = client.get_group("g1").await.unwrap_err();
    assert!(matches!(later, Error::Stopped { .. }), "{later:?}");
    get.assert_calls_async(1).await;
}
