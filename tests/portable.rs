//! Portable groups through the real binary: exported by name from one
//! emulator ("sandbox"), applied to another whose ids differ ("prod").

use psg_e2e::{Run, emulator, psg, temp_dir};
use serde_json::Value;

#[tokio::test]
async fn groups_travel_between_tenants_by_name() {
    let sandbox = emulator(|b| b.groups(3).id_seed(1)).await;
    let prod = emulator(|b| b.id_seed(2)).await;
    let (s_cat, p_cat) = (sandbox.catalog(), prod.catalog());
    assert_ne!(s_cat.source_ids, p_cat.source_ids, "the tenants' ids differ");

    let dir = temp_dir("portable");
    let file = dir.join("groups.yaml");
    let path = file.to_str().unwrap();
    psg(Some(&sandbox.base_url()), &["export", "--portable", "-f", path]).await.ok();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("passwordPolicy:") && text.contains("sources:"), "{text}");
    assert!(!text.contains("passwordPolicyId") && !text.contains("sourceIds"), "{text}");
    for id in s_cat.source_ids.iter().chain(&s_cat.password_policy_ids) {
        assert!(!text.contains(id.as_str()), "an id leaked into the portable file: {text}");
    }

    let plan = psg(Some(&prod.base_url()), &["plan", "-f", path]).await;
    let shown = plan.ok();
    assert!(shown.contains("Names resolved in this tenant:") && shown.contains("3 to create"), "{shown}");
    assert!(
        shown.contains(&p_cat.source_ids[0]) || shown.contains(&p_cat.source_ids[1]),
        "resolved ids shown: {shown}"
    );

    psg(Some(&prod.base_url()), &["apply", "-f", path, "--yes"]).await.ok();
    let again = psg(Some(&prod.base_url()), &["plan", "-f", path, "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "second plan is empty: {}", again.stdout);

    // Same names and shapes; prod's own ids.
    let listed: Value =
        serde_json::from_str(psg(Some(&prod.base_url()), &["groups", "list", "-o", "json"]).await.ok())
            .unwrap();
    let groups = listed.as_array().unwrap();
    assert_eq!(groups.len(), 3);
    for g in groups {
        assert!(p_cat.password_policy_ids.iter().any(|p| g["passwordPolicyId"] == p.as_str()), "{g}");
        for s in g["sourceIds"].as_array().unwrap() {
            assert!(p_cat.source_ids.iter().any(|id| s == id.as_str()), "{g}");
        }
    }
    let s_names: Vec<String> = sandbox.groups().into_iter().map(|g| g.name).collect();
    let mut p_names: Vec<String> = prod.groups().into_iter().map(|g| g.name).collect();
    p_names.sort();
    let mut s_sorted = s_names.clone();
    s_sorted.sort();
    assert_eq!(p_names, s_sorted);
}

#[tokio::test]
async fn names_that_do_not_resolve_are_all_reported_and_nothing_is_written() {
    let prod = emulator(|b| b.groups(1)).await;
    let cat = prod.catalog();
    let unmanaged = cat.sources.iter().find(|s| !s.features.iter().any(|f| f == "PASSWORD")).unwrap();
    let managed = cat.sources.iter().find(|s| s.features.iter().any(|f| f == "PASSWORD")).unwrap();
    let dir = temp_dir("portable-bad");
    let file = dir.join("groups.yaml");
    std::fs::write(
        &file,
        format!(
            "groups:\n  - name: A\n    passwordPolicy: No Such Policy\n    sources:\n      - {}\n      - Nowhere\n      - {}\n",
            managed.name, unmanaged.name
        ),
    )
    .unwrap();
    let before = prod.stats().writes;
    let run: Run = psg(Some(&prod.base_url()), &["apply", "-f", file.to_str().unwrap(), "--yes"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let f = file.display().to_string();
    for expected in [
        format!("{f}:3: no password policy is named `No Such Policy`"),
        format!("{f}:6: no source is named `Nowhere`"),
        format!("{f}:7: source `{}`", unmanaged.name),
    ] {
        assert!(run.stderr.contains(&expected), "missing {expected:?} in {}", run.stderr);
    }
    assert_eq!(prod.stats().writes, before, "nothing was written");
}

#[tokio::test]
async fn policies_and_sources_are_listed() {
    let emu = emulator(|b| b).await;
    let cat = emu.catalog();
    let policies: Value =
        serde_json::from_str(psg(Some(&emu.base_url()), &["policies", "list", "-o", "json"]).await.ok())
            .unwrap();
    assert_eq!(policies.as_array().unwrap().len(), cat.password_policies.len());
    let all: Value =
        serde_json::from_str(psg(Some(&emu.base_url()), &["sources", "list", "-o", "json"]).await.ok())
            .unwrap();
    assert_eq!(all.as_array().unwrap().len(), cat.sources.len());
    let managed: Value = serde_json::from_str(
        psg(Some(&emu.base_url()), &["sources", "list", "--password-managed", "-o", "json"]).await.ok(),
    )
    .unwrap();
    assert_eq!(managed.as_array().unwrap().len(), cat.source_ids.len());
    let name = &cat.sources[0].name;
    let filter = format!("name eq \"{name}\"");
    let one: Value = serde_json::from_str(
        psg(Some(&emu.base_url()), &["sources", "list", "--filter", &filter, "-o", "json"]).await.ok(),
    )
    .unwrap();
    assert_eq!(one.as_array().unwrap().len(), 1);
    let bad = psg(Some(&emu.base_url()), &["sources", "list", "--filter", "owner eq \"x\""]).await;
    assert_eq!(bad.code, 1, "the server's 400: {}", bad.stderr);
    assert!(bad.stderr.contains("400"), "{}", bad.stderr);
}

#[tokio::test]
async fn a_callers_or_filter_stays_whole_next_to_password_managed() {
    let emu = emulator(|b| b).await;
    let cat = emu.catalog();
    let unmanaged = cat.sources.iter().find(|s| !s.features.iter().any(|f| f == "PASSWORD")).unwrap();
    let managed = cat.sources.iter().find(|s| s.features.iter().any(|f| f == "PASSWORD")).unwrap();
    let filter = format!("name eq \"{}\" or name eq \"{}\"", unmanaged.name, managed.name);
    let both: Value = serde_json::from_str(
        psg(Some(&emu.base_url()), &["sources", "list", "--filter", &filter, "-o", "json"]).await.ok(),
    )
    .unwrap();
    assert_eq!(both.as_array().unwrap().len(), 2, "the emulator honours `or`: {both}");
    // Joined by plain text, `A or B and features ca (...)` would read as
    // `A or (B and ...)` and list the unmanaged source.
    let run = psg(
        Some(&emu.base_url()),
        &["sources", "list", "--filter", &filter, "--password-managed", "-o", "json"],
    )
    .await;
    let listed: Value = serde_json::from_str(run.ok()).unwrap();
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [managed.id.as_str()], "only the managed source of the two");
}

#[tokio::test]
async fn plan_json_carries_the_resolved_names_for_a_portable_file_only() {
    let sandbox = emulator(|b| b.groups(2).id_seed(1)).await;
    let prod = emulator(|b| b.id_seed(2)).await;
    let p_cat = prod.catalog();
    let dir = temp_dir("portable-json");
    let file = dir.join("groups.yaml");
    let path = file.to_str().unwrap();
    psg(Some(&sandbox.base_url()), &["export", "--portable", "-f", path]).await.ok();
    let exported = std::fs::read_to_string(&file).unwrap();

    for format in ["json", "yaml", "ndjson"] {
        let run = psg(Some(&prod.base_url()), &["plan", "-f", path, "-o", format]).await;
        let doc: Value = if format == "yaml" {
            serde_norway::from_str(run.ok()).unwrap()
        } else {
            serde_json::from_str(run.ok()).unwrap()
        };
        let mut keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["changes", "resolved", "summary"], "{format}: {doc}");
        let policies = doc["resolved"]["policies"].as_object().unwrap();
        let sources = doc["resolved"]["sources"].as_object().unwrap();
        assert!(!policies.is_empty() && sources.len() >= 2, "{doc}");
        // Every name the file gives maps to prod's id of that name.
        for (name, id) in policies {
            assert!(exported.contains(name.as_str()), "{name} is not in the file");
            let entry = p_cat.password_policies.iter().find(|p| &p.name == name).unwrap();
            assert_eq!(id, entry.id.as_str(), "{name}");
        }
        for (name, id) in sources {
            assert!(exported.contains(name.as_str()), "{name} is not in the file");
            let entry = p_cat.sources.iter().find(|s| &s.name == name).unwrap();
            assert_eq!(id, entry.id.as_str(), "{name}");
        }
    }

    // A file of ids resolves nothing: exactly `changes` and `summary`.
    let ids = dir.join("ids.yaml");
    psg(Some(&prod.base_url()), &["export", "-f", ids.to_str().unwrap()]).await.ok();
    let doc: Value = serde_json::from_str(
        psg(Some(&prod.base_url()), &["plan", "-f", ids.to_str().unwrap(), "-o", "json"]).await.ok(),
    )
    .unwrap();
    let mut keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["changes", "summary"], "{doc}");
}
