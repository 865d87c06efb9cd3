//! Emulator conformance: each fixture's request goes to a fresh emulator in
//! the fixture's situation; the answer must match the fixture's status,
//! headers and body shape (and, for recorded fixtures, the normalised body).

use psg_contract::exchange::{arrange_emulator, perform};
use psg_contract::fixture::{Fixture, fixture_dir, load_all};
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
    if let Some(reason) = &f.conformance {
        assert!(
            reason.starts_with("skip: ") && reason.len() > 10,
            "{name}: conformance must be `skip: <reason>`"
        );
        return;
    }
    let arranged = arrange_emulator(&f.setup).await.unwrap();
    let captured =
        perform(&arranged, &f.request.method, &f.request.path, &f.request.query, f.request.body.as_ref())
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
