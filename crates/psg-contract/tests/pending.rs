//! Fixtures for the Sources and Password Policies operations (issue 15),
//! kept in `fixtures-pending/` until the emulator serves these APIs
//! (conformance) and psg-ext calls them (replay). Until then they are checked
//! here against their fragments only: each body against the schema of its
//! operation and status, declared headers, no secrets, and the exchanges the
//! contract needs are all present.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use psg_contract::fixture::{Fixture, Placeholders, fixture_dir, load_all};
use psg_contract::guard::check_no_secrets;
use psg_contract::schema::Fragment;

fn pending_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures-pending")
}

fn pending() -> Vec<Fixture> {
    load_all(&pending_dir()).unwrap()
}

#[test]
fn every_pending_fixture_matches_its_fragment() {
    let fragment = Fragment::load().unwrap();
    let mut problems = Vec::new();
    for f in pending() {
        let body = f.response.body.as_ref().map(|b| Placeholders::replay().fill_value(b));
        if let Err(p) = fragment.validate(&f.operation, f.response.status, body.as_ref()) {
            problems.push(format!("{}: {}", f.name, p.join("; ")));
        }
        for header in fragment.declared_headers(&f.operation, f.response.status) {
            if header == "retry-after"
                && f.response.headers.get("retry-after").is_none_or(|v| v.parse::<u64>().is_err())
            {
                problems.push(format!("{}: 429 needs Retry-After seconds", f.name));
            }
            if let Some(v) = f.response.headers.get(&header).filter(|v| v.parse::<u64>().is_err()) {
                problems.push(format!("{}: header {header} is not a whole number: {v}", f.name));
            }
        }
        if !f.request.path.starts_with("/v3/") {
            problems.push(format!("{}: these APIs are v3: {}", f.name, f.request.path));
        }
    }
    assert!(
        problems.is_empty(),
        "pending fixtures that do not match the fragments:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn a_broken_pending_fixture_is_caught() {
    // The check above can fail: a Source without its required `name`.
    let fragment = Fragment::load().unwrap();
    let mut f = pending().into_iter().find(|f| f.name == "sources_get_200").unwrap();
    let body = f.response.body.as_mut().and_then(|b| b.as_object_mut()).unwrap();
    body.remove("name");
    let body = Placeholders::replay().fill_value(f.response.body.as_ref().unwrap());
    assert!(fragment.validate(&f.operation, 200, Some(&body)).is_err());
}

#[test]
fn no_pending_fixture_contains_a_secret_or_token() {
    for entry in std::fs::read_dir(pending_dir()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        check_no_secrets(&path.display().to_string(), &text).unwrap();
    }
}

#[test]
fn pending_names_do_not_clash_with_fixtures() {
    let ready: BTreeSet<String> = load_all(&fixture_dir()).unwrap().into_iter().map(|f| f.name).collect();
    let clash: Vec<String> = pending().into_iter().map(|f| f.name).filter(|n| ready.contains(n)).collect();
    assert!(clash.is_empty(), "{clash:?}");
}

/// The exchanges issue 15 asks for: list/get sources including a filter,
/// list/get policies, a 400 for a bad filter, and 401/403/429/500 for each
/// operation (404 for each get).
#[test]
fn the_contract_exchanges_are_all_there() {
    let all = pending();
    let have: BTreeSet<(String, u16)> =
        all.iter().map(|f| (f.operation.clone(), f.response.status)).collect();
    let mut missing = Vec::new();
    for op in ["listSources", "getSource", "listPasswordPolicies", "getPasswordPolicyById"] {
        let mut statuses = vec![200, 401, 403, 429, 500];
        if op.starts_with("get") {
            statuses.push(404);
        }
        if op == "listSources" {
            statuses.push(400);
        }
        for status in statuses {
            if !have.contains(&(op.to_string(), status)) {
                missing.push(format!("{op} {status}"));
            }
        }
    }
    assert!(missing.is_empty(), "no pending fixture for: {}", missing.join(", "));
    let filtered = |status: u16| {
        all.iter().any(|f| {
            f.operation == "listSources"
                && f.response.status == status
                && f.request.query.contains_key("filters")
        })
    };
    assert!(filtered(200) && filtered(400), "listSources needs a filtered 200 and a 400 for a bad filter");
    let name_in = all.iter().find(|f| f.name == "sources_list_200_filter_name_in").unwrap();
    assert_eq!(name_in.request.query["filters"], r#"name in ("Active Directory", "Workday")"#);
}

/// What psg-ext will decode once it calls these operations: every pending
/// body decodes with the generated client's types.
#[test]
fn the_generated_client_decodes_every_pending_body() {
    use psg_client::types::{ApiErrorBody, PasswordPolicyV3Dto, Source};
    let mut problems = Vec::new();
    for f in pending() {
        let Some(body) = f.response.body.as_ref().map(|b| Placeholders::replay().fill_value(b)) else {
            continue;
        };
        let decoded = match (f.operation.as_str(), f.response.status) {
            ("listSources", 200) => serde_json::from_value::<Vec<Source>>(body).map(drop),
            ("getSource", 200) => serde_json::from_value::<Source>(body).map(drop),
            ("listPasswordPolicies", 200) => {
                serde_json::from_value::<Vec<PasswordPolicyV3Dto>>(body).map(drop)
            }
            ("getPasswordPolicyById", 200) => serde_json::from_value::<PasswordPolicyV3Dto>(body).map(drop),
            _ => serde_json::from_value::<ApiErrorBody>(body).map(drop),
        };
        if let Err(e) = decoded {
            problems.push(format!("{}: {e}", f.name));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
