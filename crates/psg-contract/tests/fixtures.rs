//! The fixtures themselves: valid against the fragment, free of secrets,
//! covering every documented operation and status, and reproducible.

use std::collections::BTreeSet;

use psg_contract::fixture::{Fixture, Placeholders, fixture_dir, load_all};
use psg_contract::guard::check_no_secrets;
use psg_contract::schema::Fragment;

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => { $( #[test] fn $name() { validate(stringify!($name)) } )* };
}

mod schema {
    use super::*;
    include!(concat!(env!("OUT_DIR"), "/fixture_tests.rs"));
}

fn all() -> Vec<Fixture> {
    load_all(&fixture_dir()).unwrap()
}

/// The response body matches the fragment's schema for that operation and
/// status, and declared headers parse.
fn validate(name: &str) {
    let f = all().into_iter().find(|f| f.name == name).unwrap();
    let fragment = Fragment::load().unwrap();
    let body = f.response.body.as_ref().map(|b| Placeholders::replay().fill_value(b));
    if let Err(problems) = fragment.validate(&f.operation, f.response.status, body.as_ref()) {
        panic!("fixture {name} does not match the fragment:\n  {}", problems.join("\n  "));
    }
    for header in fragment.declared_headers(&f.operation, f.response.status) {
        if header == "retry-after" {
            assert!(
                f.response.headers.get("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()),
                "{name}: 429 needs Retry-After seconds"
            );
        }
        if let Some(v) = f.response.headers.get(&header) {
            assert!(v.parse::<u64>().is_ok(), "{name}: header {header} is not a whole number: {v}");
        }
    }
}

#[test]
fn no_fixture_contains_a_secret_or_token() {
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        check_no_secrets(&path.display().to_string(), &text).unwrap();
    }
}

#[test]
fn every_documented_operation_and_status_has_a_fixture() {
    let have: BTreeSet<(String, u16)> = all().into_iter().map(|f| (f.operation, f.response.status)).collect();
    let mut missing = Vec::new();
    // fixtures/ covers the Password Sync Groups fragment; the sources and
    // password policies operations have theirs in fixtures-pending/ until the
    // emulator and psg-ext serve them (tests/pending.rs).
    for op in Fragment::load_file(&psg_contract::schema::fragment_path()).unwrap().operations() {
        for status in op.statuses {
            if !have.contains(&(op.id.clone(), status)) {
                missing.push(format!("{} {status}", op.id));
            }
        }
    }
    assert!(missing.is_empty(), "no fixture for: {}", missing.join(", "));
}

#[test]
fn fixtures_cover_the_paging_edges() {
    let all = all();
    let find = |n: &str| all.iter().find(|f| f.name == n).unwrap_or_else(|| panic!("missing {n}"));
    assert!(find("list_200_count").response.headers.contains_key("x-total-count"));
    assert_eq!(find("list_200_offset_past_end").response.body, Some(serde_json::json!([])));
    assert_eq!(find("list_200_limit_0").response.body, Some(serde_json::json!([])));
    assert_eq!(
        find("list_200_full_page").response.body.as_ref().and_then(|b| b.as_array()).map(Vec::len),
        Some(250)
    );
}

#[tokio::test]
async fn recording_against_the_emulator_is_byte_identical() {
    let dir = std::env::temp_dir().join(format!("psg-contract-rerecord-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let summary =
        psg_contract::record::record_all(&psg_contract::record::Target::Emulator, &dir).await.unwrap();
    assert!(summary.changed.is_empty() && summary.skipped.is_empty(), "{summary}");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        let checked_in = std::fs::read_to_string(fixture_dir().join(name))
            .unwrap_or_else(|_| panic!("{name:?} is recorded but not checked in: run cargo xtask record"));
        assert!(
            std::fs::read_to_string(&path).unwrap() == checked_in,
            "{name:?} differs from a fresh recording: run cargo xtask record"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
