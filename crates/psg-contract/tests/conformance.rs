//! Emulator conformance: each fixture's request goes to a fresh emulator in
//! the fixture's situation; the answer must match the fixture's status,
//! headers and body shape (and, for recorded fixtures, the normalised body).

use psg_contract::exchange::{arrange_emulator, perform};
use psg_contract::fixture::{Fixture, RecordedFrom, fixture_dir, load_all};
use psg_contract::schema::Fragment;
use psg_contract::upstream::shape_problems;
use serde_json::Value;

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => { $( #[tokio::test] async fn $name() { conform(stringify!($name)).await } )* };
}
include!(concat!(env!("OUT_DIR"), "/fixture_tests.rs"));

fn load(name: &str) -> Fixture {
    load_all(&fixture_dir()).unwrap().into_iter().find(|f| f.name == name).expect("fixture exists")
}

/// The JSON structure without the values: object keys and value kinds.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

async fn conform(name: &str) {
    let f = load(name);
    if f.recorded_from == RecordedFrom::UpstreamExample {
        return conform_upstream(&f).await;
    }
    if let Some(reason) = &f.conformance {
        assert!(
            reason.starts_with("skip: ") && reason.len() > 10,
            "{name}: conformance must be `skip: <reason>`"
        );
        return;
    }
    let arranged = arrange_emulator(&f.setup).await.unwrap();
    let captured = perform(
        &arranged,
        &f.request.method,
        &f.request.path,
        &f.request.query,
        f.request.body.as_ref(),
        &[],
    )
    .await
    .unwrap();
    let actual = captured.response;
    assert_eq!(actual.status, f.response.status, "{name}: status");
    for (k, v) in &f.response.headers {
        let got = actual.headers.get(k);
        if k == "retry-after" {
            assert!(
                got.and_then(|g| g.parse::<u64>().ok()).is_some(),
                "{name}: Retry-After missing or not seconds"
            );
        } else {
            assert_eq!(got, Some(v), "{name}: header {k}");
        }
    }
    for k in actual.headers.keys() {
        assert!(f.response.headers.contains_key(k), "{name}: the emulator sent {k}, the fixture has none");
    }
    let normalised = actual.body.as_ref().map(|b| arranged.placeholders.normalise_value(b));
    assert_eq!(normalised.as_ref().map(shape), f.response.body.as_ref().map(shape), "{name}: body shape");
    if !f.hand_written {
        assert_eq!(normalised, f.response.body, "{name}: normalised body");
    }
}

/// The regression snapshot that puts the emulator in the situation of
/// SailPoint's example: same operation (either layout), same status, and a
/// situation the emulator can be put in. `None` when there is none (e.g. a
/// 400 on DELETE, which no request provokes).
fn situation_for(upstream: &Fixture, all: &[Fixture]) -> Option<Fixture> {
    let base = |op: &str| op.strip_suffix("V1").unwrap_or(op).to_string();
    all.iter()
        .filter(|s| s.recorded_from != RecordedFrom::UpstreamExample && s.conformance.is_none())
        .find(|s| {
            base(&s.operation) == base(&upstream.operation) && s.response.status == upstream.response.status
        })
        .cloned()
}

/// `snapshot`'s path moved into the layout of `upstream`'s path:
/// `/beta/password-sync-groups/{{group:0}}` becomes
/// `/v3/password-sync-groups/{{group:0}}` or
/// `/password-sync-groups/v1/{{group:0}}`.
fn relayout(snapshot: &str, upstream: &str) -> String {
    let segments: Vec<&str> = upstream.trim_start_matches('/').split('/').collect();
    let rest = snapshot.trim_start_matches('/').split_once('/').map_or("", |(_, rest)| rest);
    let (resource, tail) = rest.split_once('/').map_or((rest, String::new()), |(r, t)| (r, format!("/{t}")));
    match segments.get(1) {
        Some(&"v1") => format!("/{resource}/v1{tail}"),
        _ => format!("/{}/{resource}{tail}", segments[0]),
    }
}

/// An upstream example against the emulator: the emulator, put in the same
/// situation by the regression snapshot of that operation and status, on the
/// example's layout and with its headers, answers the same status and a body
/// of the example's shape (every key of the example, same kinds).
async fn conform_upstream(f: &Fixture) {
    let name = &f.name;
    let all = load_all(&fixture_dir()).unwrap();
    let Some(snapshot) = situation_for(f, &all) else {
        // The statuses ISC documents that no request provokes from the
        // emulator (their snapshots are hand-written with a `skip`).
        let base = f.operation.strip_suffix("V1").unwrap_or(&f.operation);
        let without_situation = [
            ("deletePasswordSyncGroup", 400),
            ("getPasswordSyncGroup", 400),
            ("getSource", 400),
            ("getPasswordPolicyById", 400),
            ("listSources", 404),
        ];
        assert!(
            without_situation.contains(&(base, f.response.status)),
            "{name}: no regression snapshot puts the emulator in this situation"
        );
        return;
    };
    let arranged = arrange_emulator(&snapshot.setup).await.unwrap();
    let path = relayout(&snapshot.request.path, &f.request.path);
    let headers: Vec<(&str, &str)> = f
        .request
        .headers
        .iter()
        .filter(|(k, _)| *k != "authorization")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = snapshot.request.body.as_ref();
    let captured =
        perform(&arranged, &snapshot.request.method, &path, &snapshot.request.query, body, &headers)
            .await
            .unwrap();
    let actual = captured.response;
    assert_eq!(actual.status, f.response.status, "{name}: status of {} {path}", snapshot.request.method);
    match (&f.response.body, &actual.body) {
        (Some(example), Some(got)) => {
            let (_, fragment) = Fragment::for_operation(&f.operation).unwrap();
            let schema = fragment.response_schema(&f.operation, f.response.status).unwrap();
            let mut problems = shape_problems(example, got, schema, fragment.doc());
            if let Err(invalid) = fragment.validate(&f.operation, f.response.status, Some(got)) {
                problems.extend(invalid);
            }
            assert!(
                problems.is_empty(),
                "{name}: the emulator's answer differs from SailPoint's example:\n  {}",
                problems.join("\n  ")
            );
        }
        (None, None) => {}
        (want, got) => panic!("{name}: body {want:?} in SailPoint's example, the emulator answered {got:?}"),
    }
}

#[test]
fn relayout_moves_the_version() {
    assert_eq!(
        relayout("/beta/password-sync-groups/{{group:0}}", "/v3/password-sync-groups/x"),
        "/v3/password-sync-groups/{{group:0}}"
    );
    assert_eq!(relayout("/v3/sources", "/sources/v1/abc"), "/sources/v1");
    assert_eq!(
        relayout("/v3/password-policies/{{policy:0}}", "/v2024/password-policies/p"),
        "/v2024/password-policies/{{policy:0}}"
    );
}
