//! `capture_response` keeps the start of a non-2xx body as received, even
//! when the generated client decoded it into a type that has none of its
//! fields; a success keeps none.

use httpmock::prelude::*;
use psg_client::hooks::{ERROR_BODY_COPY_LIMIT, Hooks};
use psg_client::{Client, capture_response};

fn client(server: &MockServer) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new_with_client(&server.url("/beta"), reqwest::Client::new(), Hooks::none())
}

#[tokio::test]
async fn an_error_body_is_kept_raw_and_bounded() {
    let server = MockServer::start_async().await;
    let gateway = r#"{"message":"Internal server error"}"#;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(500).header("content-type", "application/json").body(gateway);
        })
        .await;
    let long = "y".repeat(3 * ERROR_BODY_COPY_LIMIT);
    server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g2");
            then.status(404).header("content-type", "text/plain").body(&long);
        })
        .await;
    let client = client(&server);

    let (result, meta) = capture_response(client.get_password_sync_group("g1")).await;
    // The generated client decodes it as an error body with no ISC field...
    let decoded = result.unwrap_err();
    assert!(
        matches!(&decoded, psg_client::Error::ErrorResponse(rv) if rv.detail_code.is_none()),
        "{decoded:?}"
    );
    // ...and the raw text is still at hand.
    let meta = meta.expect("a response was received");
    assert_eq!((meta.status.as_u16(), &meta.error_body[..]), (500, gateway.as_bytes()));

    let (_, meta) = capture_response(client.get_password_sync_group("g2")).await;
    let meta = meta.unwrap();
    assert_eq!(meta.error_body.len(), ERROR_BODY_COPY_LIMIT);
}

#[tokio::test]
async fn a_success_keeps_no_body_copy_and_decodes_as_before() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/beta/password-sync-groups/g1");
            then.status(200).json_body(serde_json::json!({"id": "g1", "name": "Finance"}));
        })
        .await;
    let (result, meta) = capture_response(client(&server).get_password_sync_group("g1")).await;
    assert_eq!(result.unwrap().into_inner().name.as_deref(), Some("Finance"));
    assert!(meta.unwrap().error_body.is_empty());
}
