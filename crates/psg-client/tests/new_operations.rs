//! The operations added from the Sources and Password Policies fragments go
//! through the same hooks as the group operations (request hook, response
//! capture) and decode what tenants actually send.

use std::sync::Arc;

use httpmock::prelude::*;
use psg_client::hooks::{BoxFuture, Hooks, RequestHook};
use psg_client::types::PolicyTimestamp;
use psg_client::{Client, capture_response};
use serde_json::json;

/// A plain reqwest client. In this workspace reqwest is built without a
/// crypto provider of its own (psg-ext picks ring), so one is installed first.
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Adds a bearer token and remembers which operations it prepared.
struct Token(std::sync::Mutex<Vec<String>>);

impl RequestHook for Token {
    fn prepare<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
        operation_id: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.0.lock().unwrap().push(operation_id.to_string());
            request.headers_mut().insert("authorization", "Bearer t0k3n".parse().unwrap());
            Ok(())
        })
    }
}

fn client(server: &MockServer, base: &str) -> (Client, Arc<Token>) {
    let token = Arc::new(Token(Default::default()));
    let client = Client::new_with_client(&server.url(base), http(), Hooks::new(token.clone()));
    (client, token)
}

fn policy(id: &str) -> serde_json::Value {
    json!({
        "id": id, "name": "Corporate", "description": null,
        "dateCreated": 1639056206564_i64, "lastUpdated": null,
        "firstExpirationReminder": null, "minLength": 8, "sourceIds": ["s1"],
        "defaultPolicy": true
    })
}

fn source(id: &str, name: &str) -> serde_json::Value {
    json!({
        "id": id, "name": name, "owner": null, "connector": "active-directory",
        "features": ["PROVISIONING", "PASSWORD", "A_FEATURE_ADDED_LATER"],
        "status": "SOURCE_STATE_ADDED_LATER",
        "managerCorrelationMapping": null,
        "created": "2022-02-08T14:50:03.827Z",
        "connectorAttributes": {"healthCheckTimeout": 30}
    })
}

#[tokio::test]
async fn list_sources_sends_filters_under_the_base_path_with_the_hook_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v3/sources")
                .header("authorization", "Bearer t0k3n")
                .query_param("filters", r#"name in ("HR AD", "Payroll")"#)
                .query_param("sorters", "name")
                .query_param("limit", "2")
                .query_param("offset", "4")
                .query_param("count", "true");
            then.status(200)
                .header("x-total-count", "7")
                .json_body(json!([source("s1", "HR AD"), source("s2", "Payroll")]));
        })
        .await;
    let (client, token) = client(&server, "/v3");
    let (result, meta) = capture_response(client.list_sources(
        Some(true),
        Some(r#"name in ("HR AD", "Payroll")"#),
        None,
        None,
        Some(2),
        Some(4),
        Some("name"),
    ))
    .await;
    mock.assert_async().await;
    let sources = result.expect("decodes").into_inner();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0].name, "HR AD");
    assert_eq!(sources[0].owner, None, "a null owner decodes");
    let features = sources[0].features.as_ref().expect("features present");
    assert!(features.0.iter().any(|f| f == "PASSWORD"));
    assert!(features.0.iter().any(|f| f == "A_FEATURE_ADDED_LATER"), "unknown features still decode");
    assert_eq!(sources[0].status.as_deref(), Some("SOURCE_STATE_ADDED_LATER"));
    let meta = meta.expect("the response was captured");
    assert_eq!(meta.headers["x-total-count"], "7");
    assert_eq!(*token.0.lock().unwrap(), ["list_sources"]);
}

#[tokio::test]
async fn get_source_and_policies_go_through_the_same_hook() {
    let server = MockServer::start_async().await;
    let get_source = server
        .mock_async(|when, then| {
            when.method(GET).path("/v3/sources/s%201").header("authorization", "Bearer t0k3n");
            then.status(200).json_body(source("s 1", "HR AD"));
        })
        .await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET).path("/v3/password-policies").header("authorization", "Bearer t0k3n");
            then.status(200)
                .json_body(json!([policy("p1"), {"id": "p2", "dateCreated": "2024-01-02T03:04:05Z"}]));
        })
        .await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET).path("/v3/password-policies/p1").header("authorization", "Bearer t0k3n");
            then.status(200).json_body(policy("p1"));
        })
        .await;
    let (client, token) = client(&server, "/v3");

    let s = client.get_source("s 1").await.expect("source decodes").into_inner();
    assert_eq!(s.id.as_deref(), Some("s 1"));
    let policies =
        client.list_password_policies(None, None, None).await.expect("policies decode").into_inner();
    assert_eq!(policies[0].date_created, Some(PolicyTimestamp::Int64(1639056206564)));
    assert_eq!(policies[0].last_updated, None);
    assert_eq!(policies[0].first_expiration_reminder, None);
    assert_eq!(policies[1].date_created, Some(PolicyTimestamp::String("2024-01-02T03:04:05Z".into())));
    let (p, meta) = capture_response(client.get_password_policy_by_id("p1")).await;
    assert_eq!(p.expect("policy decodes").into_inner().source_ids, ["s1"]);
    assert_eq!(meta.map(|m| m.status.as_u16()), Some(200));

    get_source.assert_async().await;
    list.assert_async().await;
    get.assert_async().await;
    assert_eq!(
        *token.0.lock().unwrap(),
        ["get_source", "list_password_policies", "get_password_policy_by_id"]
    );
}

#[tokio::test]
async fn errors_of_new_operations_decode_as_the_shared_error_body() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v3/sources");
            then.status(400).json_body(json!({
                "detailCode": "400.1.0 Required data missing or empty",
                "trackingId": "abc",
                "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": "bad filter"}]
            }));
        })
        .await;
    let (client, _) = client(&server, "/v3");
    let (result, meta) =
        capture_response(client.list_sources(None, Some("name xx \"A\""), None, None, None, None, None))
            .await;
    match result {
        Err(psg_client::Error::ErrorResponse(body)) => {
            assert_eq!(body.status().as_u16(), 400);
            assert_eq!(body.tracking_id.as_deref(), Some("abc"));
        }
        other => panic!("expected an error response, got {other:?}"),
    }
    assert_eq!(meta.map(|m| m.status.as_u16()), Some(400));
}

#[test]
fn a_source_without_its_required_name_is_a_decode_error() {
    let err = serde_json::from_value::<psg_client::types::Source>(json!({"owner": null, "connector": "x"}))
        .unwrap_err();
    assert!(err.to_string().contains("name"), "{err}");
}
