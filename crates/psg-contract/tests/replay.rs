//! Replay: each fixture primes an httpmock server; psg-ext makes the matching
//! call. Asserted both ways: the request the client sent matched the
//! fixture's (method, path, query, JSON body, auth header, no stray body),
//! and the caller got the typed value or the exact error variant.

use httpmock::prelude::*;
use psg_contract::fixture::{Fixture, Placeholders, fixture_dir, load_all};
use psg_ext::{Client, Error, Group, GroupSpec, RetryPolicy};
use serde_json::Value;

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => { $( #[tokio::test] async fn $name() { replay(stringify!($name)).await } )* };
}
include!(concat!(env!("OUT_DIR"), "/fixture_tests.rs"));

fn load(name: &str) -> Fixture {
    load_all(&fixture_dir()).unwrap().into_iter().find(|f| f.name == name).expect("fixture exists")
}

/// What the call returned.
enum Outcome {
    Group(Group),
    Page(Vec<Group>, Option<u64>),
    Deleted,
    Failed(Error),
}

fn new_group(body: &Value) -> GroupSpec {
    let sources =
        body["sourceIds"].as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string));
    GroupSpec::new(body["name"].as_str().unwrap_or_default())
        .password_policy(body["passwordPolicyId"].as_str().unwrap_or_default())
        .with_sources(sources)
}

async fn call(client: &Client, f: &Fixture, p: &Placeholders) -> Outcome {
    let id = || p.fill(f.request.path.rsplit('/').next().unwrap());
    let body = f.request.body.as_ref().map(|b| p.fill_value(b));
    let q = |k: &str| f.request.query.get(k).map(|v| v.parse::<u64>().unwrap());
    let result = match f.operation.as_str() {
        "createPasswordSyncGroup" => {
            client.create_group(&new_group(body.as_ref().unwrap())).await.map(Outcome::Group)
        }
        "getPasswordSyncGroup" => client.get_group(&id()).await.map(Outcome::Group),
        "updatePasswordSyncGroup" => {
            client.update_group(&id(), &new_group(body.as_ref().unwrap())).await.map(Outcome::Group)
        }
        "deletePasswordSyncGroup" => client.delete_group(&id()).await.map(|_| Outcome::Deleted),
        "getPasswordSyncGroups" => {
            let mut list = client.list_groups();
            if let Some(limit) = q("limit") {
                list = list.limit(limit as u32);
            }
            if let Some(offset) = q("offset") {
                list = list.offset(offset);
            }
            list.page().await.map(|page| Outcome::Page(page.items, page.total))
        }
        other => panic!("unknown operation {other}"),
    };
    result.unwrap_or_else(Outcome::Failed)
}

fn texts(body: &Value, key: &str) -> Vec<String> {
    body[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

async fn replay(name: &str) {
    let f = load(name);
    let p = Placeholders::replay();
    let server = MockServer::start_async().await;
    let path = p.fill(&f.request.path);
    let response_body = f.response.body.as_ref().map(|b| p.fill_value(b));
    let mock = server
        .mock_async(|when, then| {
            let mut when =
                when.method(f.request.method.as_str()).path(path.as_str()).header_exists("authorization");
            for (k, v) in &f.request.query {
                when = when.query_param(k, p.fill(v));
            }
            match &f.request.body {
                Some(body) => {
                    when.json_body(p.fill_value(body));
                }
                // httpmock refuses a body matcher on GET; other methods must send none.
                None if f.request.method != "GET" => {
                    when.body("");
                }
                None => {}
            }
            let mut then = then.status(f.response.status);
            for (k, v) in &f.response.headers {
                then = then.header(k, v);
            }
            if let Some(body) = &response_body {
                then.body(serde_json::to_vec(body).unwrap());
            }
        })
        .await;

    if f.replay_generated {
        return replay_generated(&f, &p, &server, &mock).await;
    }
    let client = Client::builder()
        .base_url(server.base_url())
        .access_token("replay-token")
        .retry_policy(RetryPolicy::never())
        .rate_limit(None)
        .build()
        .unwrap();
    let outcome = call(&client, &f, &p).await;
    assert_eq!(
        mock.calls_async().await,
        1,
        "{name}: the request psg-ext sent does not match the fixture's request"
    );

    let status = f.response.status;
    let body = response_body.unwrap_or(Value::Null);
    match outcome {
        Outcome::Group(group) => {
            assert!(status == 200, "{name}: got a group for status {status}");
            let expected: Group = serde_json::from_value(body).unwrap();
            assert_eq!(group, expected, "{name}");
        }
        Outcome::Page(items, total) => {
            assert_eq!(status, 200, "{name}");
            let expected: Vec<Group> = serde_json::from_value(body).unwrap();
            assert_eq!(items, expected, "{name}");
            let header_total = f.response.headers.get("x-total-count").map(|v| v.parse::<u64>().unwrap());
            assert_eq!(total, header_total, "{name}: total from X-Total-Count");
        }
        Outcome::Deleted => assert_eq!(status, 204, "{name}"),
        Outcome::Failed(error) => check_error(name, &f, &p, status, &body, error),
    }
}

fn check_error(name: &str, f: &Fixture, p: &Placeholders, status: u16, body: &Value, error: Error) {
    assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{name}: {error:?}");
    match (status, error) {
        (401, Error::Unauthorized { message, .. }) => {
            assert_eq!(message.as_deref(), body["error"].as_str(), "{name}")
        }
        (429, Error::RateLimited { retry_after, message, attempts, .. }) => {
            let header = f.response.headers.get("retry-after").map(|v| v.parse::<u64>().unwrap());
            assert_eq!(retry_after.map(|d| d.as_secs()), header, "{name}: Retry-After");
            assert_eq!(message.as_deref(), body["message"].as_str(), "{name}");
            assert_eq!(attempts, 1, "{name}");
        }
        (404, Error::NotFound { id, detail, .. }) => {
            assert_eq!(id, p.fill(f.request.path.rsplit('/').next().unwrap()), "{name}");
            assert_eq!(detail.tracking_id.as_deref(), body["trackingId"].as_str(), "{name}");
        }
        (_, Error::Api(detail)) => {
            assert_eq!(detail.tracking_id.as_deref(), body["trackingId"].as_str(), "{name}");
            assert_eq!(detail.detail_code.as_deref(), body["detailCode"].as_str(), "{name}");
            assert_eq!(detail.messages, texts(body, "messages"), "{name}");
            assert_eq!(detail.causes, texts(body, "causes"), "{name}");
        }
        (_, other) => panic!("{name}: unexpected error variant {other:?}"),
    }
}

async fn replay_generated(f: &Fixture, p: &Placeholders, server: &MockServer, mock: &httpmock::Mock<'_>) {
    let name = &f.name;
    // psg-ext refuses the request locally and sends nothing ...
    let ext = Client::builder()
        .base_url(server.base_url())
        .access_token("replay-token")
        .rate_limit(None)
        .build()
        .unwrap();
    let limit: u32 = f.request.query["limit"].parse().unwrap();
    assert!(
        matches!(
            ext.list_groups().limit(limit).page().await,
            Err(Error::InvalidInput { field: "limit", .. })
        ),
        "{name}"
    );
    assert_eq!(mock.calls_async().await, 0, "{name}: psg-ext must not send it");
    // ... so the generated client proves the wire format.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", "Bearer replay-token".parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    let generated = psg_client::Client::new_with_client(
        &format!("{}/beta", server.base_url()),
        http,
        psg_client::hooks::Hooks::none(),
    );
    let q = |k: &str| f.request.query.get(k).map(|v| v.parse::<i32>().unwrap());
    let result = generated
        .get_password_sync_groups(f.request.query.get("count").map(|c| c == "true"), q("limit"), q("offset"))
        .await;
    assert_eq!(mock.calls_async().await, 1, "{name}: the generated request does not match the fixture's");
    match result {
        Err(psg_client::Error::ErrorResponse(rv)) => {
            assert_eq!(rv.status().as_u16(), f.response.status, "{name}");
            let body = p.fill_value(f.response.body.as_ref().unwrap());
            assert_eq!(rv.into_inner().tracking_id.as_deref(), body["trackingId"].as_str(), "{name}");
        }
        other => panic!("{name}: expected an error response, got {other:?}"),
    }
}
