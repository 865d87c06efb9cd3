//! The fixtures derived from SailPoint's published examples
//! (`recordedFrom: upstream-example`): how many there are, that they are
//! exactly what the reference specs give today, and that a change of an
//! example's field type in a spec makes the contract fail, naming the field.
//!
//! The tests that read `../shared/reference` are ignored by default (the
//! folder is beside the checkout, not in it); CI runs them with
//! `cargo test -p psg-contract --test upstream -- --ignored`.

use std::collections::BTreeMap;
use std::path::Path;

use psg_contract::fixture::{Fixture, Placeholders, RecordedFrom, fixture_dir, load_all};
use psg_contract::schema::Fragment;
use psg_contract::upstream::{REFERENCES, derive, derive_all, reference_dir};
use serde_json::Value;

fn checked_in() -> Vec<Fixture> {
    load_all(&fixture_dir()).unwrap()
}

/// Every problem of `fixtures` against the fragments in `openapi/`.
fn contract_problems(fixtures: &[Fixture]) -> Vec<String> {
    let mut out = Vec::new();
    for f in fixtures {
        let (_, fragment) = Fragment::for_operation(&f.operation).unwrap();
        let body = f.response.body.as_ref().map(|b| Placeholders::replay().fill_value(b));
        if let Err(problems) = fragment.validate(&f.operation, f.response.status, body.as_ref()) {
            out.extend(problems.into_iter().map(|p| format!("{}: {p}", f.name)));
        }
    }
    out
}

/// The counts CI prints: where the fixtures come from, and that every
/// reference spec psg speaks gave some.
#[test]
fn fixtures_are_counted_by_origin_and_every_reference_spec_contributes() {
    let all = checked_in();
    let mut by_origin = BTreeMap::<&str, usize>::new();
    for f in &all {
        let origin = match f.recorded_from {
            RecordedFrom::Emulator => "regression snapshots (recorded from the emulator)",
            RecordedFrom::UpstreamExample => "derived from SailPoint's published examples",
            RecordedFrom::Tenant => "recorded from a tenant",
            RecordedFrom::HandWritten => "hand-written",
        };
        *by_origin.entry(origin).or_default() += 1;
    }
    println!("{} contract fixtures:", all.len());
    for (origin, n) in &by_origin {
        println!("  {n:>4} {origin}");
    }
    let upstream: Vec<&Fixture> =
        all.iter().filter(|f| f.recorded_from == RecordedFrom::UpstreamExample).collect();
    for file in REFERENCES {
        let from_file =
            upstream.iter().filter(|f| f.note.as_deref().is_some_and(|n| n.contains(file))).count();
        println!("  {from_file:>4} from {file}");
        assert!(from_file >= 10, "{file} gave {from_file} fixtures: every operation documents 5+ statuses");
    }
    // Each derived fixture names its origin truthfully: file, operation, status.
    for f in &upstream {
        let note = f.note.as_deref().unwrap_or_default();
        assert!(note.starts_with("Derived from sailpoint-"), "{}: {note}", f.name);
        assert!(note.contains(&format!(" {},", f.response.status)), "{}: {note}", f.name);
    }
}

#[test]
#[ignore = "needs ../shared/reference"]
fn checked_in_upstream_fixtures_are_what_the_reference_specs_give() {
    let derived = derive_all(&reference_dir(), "0000-00-00").unwrap();
    let mut have: BTreeMap<String, Fixture> = checked_in()
        .into_iter()
        .filter(|f| f.recorded_from == RecordedFrom::UpstreamExample)
        .map(|f| (f.name.clone(), f))
        .collect();
    let mut problems = Vec::new();
    for mut fresh in derived {
        match have.remove(&fresh.name) {
            Some(old) => {
                fresh.recorded = old.recorded.clone();
                if fresh != old {
                    problems.push(format!("{} differs from its example", fresh.name));
                }
            }
            None => problems.push(format!("{} is not checked in", fresh.name)),
        }
    }
    problems.extend(have.keys().map(|n| format!("{n} comes from no example any more")));
    assert!(
        problems.is_empty(),
        "run `cargo xtask record --upstream ../shared/reference`:\n  {}",
        problems.join("\n  ")
    );
}

/// Rewrites one example in a copy of a reference spec (as JSON, which is
/// YAML) and derives fixtures from the copy.
fn derive_mutated(file: &str, pointer: &str, value: Value) -> Vec<Fixture> {
    let mut spec = psg_contract::upstream::read_spec(&reference_dir().join(file)).unwrap();
    *spec.pointer_mut(pointer).unwrap_or_else(|| panic!("{file} has no {pointer}")) = value;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(file);
    std::fs::write(&copy, serde_json::to_vec(&spec).unwrap()).unwrap();
    derive(Path::new(&copy), "0000-00-00").unwrap()
}

#[test]
#[ignore = "needs ../shared/reference"]
fn the_unchanged_reference_specs_pass_the_contract() {
    let problems = contract_problems(&derive_all(&reference_dir(), "0000-00-00").unwrap());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
#[ignore = "needs ../shared/reference"]
fn an_example_whose_field_changes_type_fails_the_contract_naming_the_field() {
    // A group's name becomes a number in the beta get example.
    let fixtures = derive_mutated(
        "sailpoint-beta-password-sync-groups.yaml",
        "/paths/~1password-sync-groups~1{id}/get/responses/200/content/application~1json/example/name",
        Value::from(42),
    );
    let problems = contract_problems(&fixtures);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("upstream_beta_get_password_sync_group_200: at /name:"), "{problems:?}");

    // A source's features become a string in the v1 schema's example
    // (the listing has no example of its own: its body comes from these).
    let fixtures = derive_mutated(
        "sailpoint-v1-sources.yaml",
        "/components/schemas/sourcefeature/example",
        Value::from("PASSWORD"),
    );
    let problems = contract_problems(&fixtures);
    assert!(!problems.is_empty(), "a string for features passed");
    assert!(problems.iter().all(|p| p.contains("/features")), "{problems:#?}");
    assert!(
        problems.iter().any(|p| p.starts_with("upstream_v1_list_sources_200: at /0/features")),
        "{problems:#?}"
    );

    // A policy's minimum length becomes text in the v2025 listing example.
    let fixtures = derive_mutated(
        "sailpoint-v2025-password-policies.yaml",
        "/paths/~1password-policies/get/responses/200/content/application~1json/example/0/minLength",
        Value::from("8"),
    );
    let problems = contract_problems(&fixtures);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("upstream_v2025_list_password_policies_200: at /0/minLength"),
        "{problems:?}"
    );
}
