//! The library API a user's test relies on: credentials, the record of
//! requests, scripted faults, reset, an in-memory catalog, and ISC's
//! strictness about read-only fields, all over real HTTP on 127.0.0.1.

mod common;

use common::http_client;
use psg_emulator::{Catalog, Emulator, EmulatorHandle, Fault, PolicyEntry, SourceEntry};
use serde_json::{Value, json};

async fn token(emu: &EmulatorHandle) -> String {
    let r = http_client()
        .post(format!("{}/oauth/token", emu.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", emu.client_id()),
            ("client_secret", emu.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

fn entries() -> Catalog {
    let source = |id: &str, name: &str| SourceEntry {
        id: id.into(),
        name: name.into(),
        features: vec!["PASSWORD".into()],
    };
    Catalog::from_entries(
        vec![source("src-ad", "Active Directory"), source("src-wd", "Workday")],
        vec![PolicyEntry { id: "pol-1".into(), name: "Corporate".into() }],
    )
}

#[tokio::test]
async fn requests_are_recorded_faults_scripted_and_reset_clears_both() {
    let emu =
        Emulator::builder().ephemeral().rate_limit(None).catalog(entries()).groups(1).start().await.unwrap();
    assert_eq!(emu.catalog().source_ids, ["src-ad", "src-wd"]);
    let token = token(&emu).await;
    let http = http_client();
    let list = format!("{}/beta/password-sync-groups?limit=5", emu.base_url());

    emu.inject(Fault::Status(503));
    let first = http.get(&list).bearer_auth(&token).send().await.unwrap();
    let second = http.get(&list).bearer_auth(&token).send().await.unwrap();
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (503, 200));
    let groups: Value = second.json().await.unwrap();
    assert_eq!(groups[0]["sourceIds"], json!(["src-ad", "src-wd"]));

    let seen = emu.requests();
    let summary: Vec<_> = seen.iter().map(|r| (r.method.as_str(), r.path.as_str(), r.status)).collect();
    assert_eq!(
        summary,
        [
            ("POST", "/oauth/token", 200),
            ("GET", "/beta/password-sync-groups", 503),
            ("GET", "/beta/password-sync-groups", 200)
        ]
    );
    assert_eq!(seen[1].query.as_deref(), Some("limit=5"));
    assert!(!seen[0].is_api() && seen[1].is_api());
    assert!(seen.windows(2).all(|w| w[0].at <= w[1].at), "{seen:?}");
    assert_eq!(emu.stats().faults.get("503"), Some(&1));

    // A queued fault survives requests refused before the fault stage.
    emu.inject(Fault::Status(500));
    let refused = http.get(&list).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    emu.reset().unwrap();
    assert!(emu.requests().is_empty());
    assert_eq!(emu.stats().faults.len(), 0);
    assert_eq!(emu.groups().len(), 1, "reset keeps the seeded groups");
    let after = http.get(&list).bearer_auth(&token).send().await.unwrap();
    assert_eq!(after.status(), 200, "reset drops queued faults; tokens stay valid");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_replace_with_a_mistyped_read_only_field_is_refused_and_changes_nothing() {
    let emu = Emulator::builder().ephemeral().rate_limit(None).groups(1).start().await.unwrap();
    let token = token(&emu).await;
    let before = emu.groups().remove(0);
    let url = format!("{}/beta/password-sync-groups/{}", emu.base_url(), before.id);
    let body = |field: &str, value: Value| {
        let mut b = json!({"name": "Renamed", "passwordPolicyId": before.password_policy_id,
            "sourceIds": before.source_ids, "id": before.id, "created": before.created, "modified": before.modified});
        b[field] = value;
        b
    };
    for (field, value) in [("modified", json!("AAA")), ("created", json!(12)), ("id", json!(false))] {
        let r = http_client().put(&url).bearer_auth(&token).json(&body(field, value)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{field}");
        let dto: Value = r.json().await.unwrap();
        assert_eq!(dto["detailCode"], "400.1 Bad Request Content");
        let text = dto["messages"][0]["text"].as_str().unwrap();
        assert!(text.contains(&format!("'{field}'")), "{text}");
    }
    assert_eq!(emu.groups()[0], before, "a refused replace changes nothing");
    let ok = http_client()
        .put(&url)
        .bearer_auth(&token)
        .json(&body("name", json!("Renamed")))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "the group's own dates are accepted back");
    emu.shutdown().await;
}
