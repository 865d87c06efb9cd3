//! Tables through the real binary against an emulator whose catalog has long,
//! CJK and duplicate names: they fit 80 and 120 columns (via `COLUMNS`), keep
//! every id whole and copyable, and name policies and sources with one batched
//! lookup per command; JSON stays the API's objects.

use psg_e2e::*;
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

const CATALOG: &str = "\
sources:
  - name: Active Directory
    features: [PROVISIONING, PASSWORD]
  - name: 東京本社人事部門同期対象システム
    features: [PASSWORD]
  - name: Workday
    features: [PASSWORD]
  - name: Workday
    features: [PASSWORD]
  - name: Lightweight Directory Access Protocol (corporate, EMEA and APAC)
    features: [PASSWORD]
  - name: HR feed
    features: [NO_RANDOM_ACCESS]
passwordPolicies:
  - name: Corporate Password Policy for every employee
  - name: Contractors
";

/// An emulator with [`CATALOG`] and six groups made through `psg groups create`.
async fn tenant(name: &str) -> psg_emulator::EmulatorHandle {
    let dir = temp_dir(name);
    let file = dir.join("catalog.yaml");
    std::fs::write(&file, CATALOG).unwrap();
    let emu = emulator(|b| b.catalog_file(&file)).await;
    let cat = emu.catalog();
    let (p, s) = (&cat.password_policy_ids, &cat.source_ids);
    let names = [
        "Finance",
        "人事システム同期グループ",
        "A rather long group name that an administrator once typed",
        "HR",
        "Sales EMEA",
        "Ops",
    ];
    for (i, n) in names.iter().enumerate() {
        let mut args = vec!["groups", "create", "--name", n, "--policy", &p[i % 2], "-o", "json"];
        for id in s.iter().skip(i % 3).take(2 + i % 3) {
            args.extend(["--source", id.as_str()]);
        }
        psg(Some(&emu.base_url()), &args).await.ok();
    }
    emu
}

async fn list_at(base: &str, cols: &str, args: &[&str]) -> Run {
    psg_command(Some(base)).env("COLUMNS", cols).args(args).output().await.expect("psg runs").into()
}

fn requests(emu: &psg_emulator::EmulatorHandle, route: &str) -> u64 {
    emu.stats().requests.get(route).map(|by_status| by_status.values().sum()).unwrap_or(0)
}

#[tokio::test]
async fn tables_fit_80_and_120_columns_and_every_id_stays_whole() {
    let emu = tenant("widths").await;
    let base = emu.base_url();
    let ids: Vec<String> = emu.groups().into_iter().map(|g| g.id).collect();
    for cols in [80usize, 120] {
        let run = list_at(&base, &cols.to_string(), &["groups", "list", "-o", "table"]).await;
        let lines: Vec<&str> = run.ok().lines().collect();
        assert_eq!(lines.len(), ids.len() + 1, "{}", run.stdout);
        assert!(lines[0].starts_with("ID ") && lines[0].contains("NAME"), "{}", run.stdout);
        for line in &lines {
            assert!(line.width() <= cols, "wider than {cols}: {line:?}");
        }
        for line in &lines[1..] {
            // The first word is a whole id, ready to copy into `psg groups get`.
            let first = line.split_whitespace().next().unwrap();
            assert!(ids.iter().any(|id| id == first), "{first:?} is not a whole id at {cols} columns");
            let got = psg(Some(&base), &["groups", "get", first, "-o", "json"]).await;
            got.ok();
        }
        if cols == 80 {
            assert!(!lines[0].contains("MODIFIED"), "MODIFIED gives way first: {}", run.stdout);
        }
        // Short names stay whole.
        assert!(lines.iter().any(|l| l.contains("  Finance")), "{}", run.stdout);
        assert!(lines.iter().any(|l| l.contains("  人事システム同期グループ")), "{}", run.stdout);
    }
    for what in ["sources", "policies"] {
        let run = list_at(&base, "60", &[what, "list", "-o", "table"]).await;
        for line in run.ok().lines() {
            assert!(line.width() <= 60, "{what} wider than 60: {line:?}");
            assert!(
                line.starts_with("ID ") || line.split_whitespace().next().unwrap().len() == 32,
                "{line:?}"
            );
        }
    }
}

#[tokio::test]
async fn tables_name_policies_and_sources_with_one_lookup_per_command() {
    let emu = tenant("names-out").await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let (policies, sources) =
        (requests(&emu, "GET /v3/password-policies"), requests(&emu, "GET /v3/sources"));
    let wide = list_at(&base, "400", &["groups", "list", "-o", "wide"]).await;
    let text = wide.ok();
    assert!(
        text.contains("Corporate Password Policy for every employee") && text.contains("Contractors"),
        "{text}"
    );
    assert!(text.contains("東京本社人事部門同期対象システム") && text.contains("Workday"), "{text}");
    assert!(
        text.contains("POLICY ID") && text.contains(&cat.password_policy_ids[0]),
        "wide shows ids too: {text}"
    );
    assert!(text.contains(&cat.source_ids[0]), "{text}");
    assert_eq!(
        requests(&emu, "GET /v3/password-policies") - policies,
        1,
        "one policy listing for six groups"
    );
    assert_eq!(requests(&emu, "GET /v3/sources") - sources, 1, "one batched source lookup for six groups");

    let table = list_at(&base, "400", &["groups", "list", "-o", "table"]).await;
    assert!(table.ok().contains("Active Directory, 東京本社人事部門同期対象システム"), "{}", table.stdout);
    assert!(!table.stdout.contains(&cat.source_ids[0]), "names, not ids: {}", table.stdout);

    let id = emu.groups()[0].id.clone();
    let get = list_at(&base, "400", &["groups", "get", &id, "-o", "table"]).await;
    assert!(get.ok().contains("Corporate Password Policy for every employee"), "{}", get.stdout);

    // JSON, YAML and NDJSON are the API's objects, and need no lookup.
    let (policies, sources) =
        (requests(&emu, "GET /v3/password-policies"), requests(&emu, "GET /v3/sources"));
    let json: Value =
        serde_json::from_str(psg(Some(&base), &["groups", "list", "-o", "json"]).await.ok()).unwrap();
    let first = &json[0];
    let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["created", "id", "modified", "name", "passwordPolicyId", "sourceIds"], "{first}");
    assert_eq!(first["passwordPolicyId"], cat.password_policy_ids[0].as_str());
    psg(Some(&base), &["groups", "list", "-o", "ndjson"]).await.ok();
    psg(Some(&base), &["groups", "get", &id, "-o", "yaml"]).await.ok();
    assert_eq!(requests(&emu, "GET /v3/password-policies"), policies);
    assert_eq!(requests(&emu, "GET /v3/sources"), sources);
}

#[tokio::test]
async fn a_client_that_cannot_read_sources_still_gets_its_table_with_ids() {
    let emu =
        emulator(|b| b.groups(2).client("groups-only:pw:idn:password-sync-group:read".parse().unwrap()))
            .await;
    let run: Run = psg_command(Some(&emu.base_url()))
        .env("SAIL_CLIENT_ID", "groups-only")
        .env("SAIL_CLIENT_SECRET", "pw")
        .args(["groups", "list", "-o", "table"])
        .output()
        .await
        .unwrap()
        .into();
    let text = run.ok();
    assert!(text.contains(&emu.groups()[0].source_ids[0]), "ids shown: {text}");
    assert!(run.stderr.contains("warning: cannot read source names"), "{}", run.stderr);
}

#[tokio::test]
async fn create_update_and_filter_by_names_as_the_server_sees_them() {
    let emu = tenant("names-in").await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let id_of = |name: &str| cat.sources.iter().find(|s| s.name == name).unwrap().id.clone();
    let ad = id_of("Active Directory");
    let tokyo = id_of("東京本社人事部門同期対象システム");
    let sources_before = requests(&emu, "GET /v3/sources");
    let run = psg(
        Some(&base),
        &[
            "groups",
            "create",
            "--name",
            "By name",
            "--policy",
            "Contractors",
            "--source",
            "Active Directory",
            "--source",
            "東京本社人事部門同期対象システム",
            "--source",
            &cat.source_ids[4],
        ],
    )
    .await;
    run.ok();
    // One batch by id (the id-shaped value), one by name (the two names).
    assert_eq!(requests(&emu, "GET /v3/sources") - sources_before, 2, "batched lookups");
    let stored = emu.groups().into_iter().find(|g| g.name == "By name").expect("created");
    assert_eq!(stored.password_policy_id, cat.password_policies[1].id);
    assert_eq!(stored.source_ids, [ad.clone(), tokyo.clone(), cat.source_ids[4].clone()]);

    psg(
        Some(&base),
        &[
            "groups",
            "update",
            "--name",
            "By name",
            "--policy",
            "Corporate Password Policy for every employee",
        ],
    )
    .await
    .ok();
    let stored = emu.groups().into_iter().find(|g| g.name == "By name").unwrap();
    assert_eq!(stored.password_policy_id, cat.password_policies[0].id);

    // Ambiguous and missing names: refused before anything is written, every problem at once.
    let writes = emu.stats().writes;
    let twins: Vec<String> =
        cat.sources.iter().filter(|s| s.name == "Workday").map(|s| s.id.clone()).collect();
    let bad = psg(
        Some(&base),
        &["groups", "update", &stored.id, "--source", "Workday", "--source", "Active Directroy"],
    )
    .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains(&format!("2 sources have this name (ids {}, {})", twins[0], twins[1])),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains(
            "--source \"Active Directroy\": no source has this id or name; closest: \"Active Directory\""
        ),
        "{}",
        bad.stderr
    );
    let unmanaged =
        psg(Some(&base), &["groups", "update", &stored.id, "--source", "HR feed", "--source", &ad]).await;
    assert_eq!(unmanaged.code, 2, "{}", unmanaged.stderr);
    assert!(unmanaged.stderr.contains("lacks the PASSWORD feature"), "{}", unmanaged.stderr);
    assert_eq!(emu.stats().writes, writes, "nothing was written");

    // Filters by name, done by psg, with a note.
    let listed =
        psg(Some(&base), &["groups", "list", "--source", "東京本社人事部門同期対象システム", "-o", "json"])
            .await;
    let groups: Value = serde_json::from_str(listed.ok()).unwrap();
    let expected = emu.groups().iter().filter(|g| g.source_ids.contains(&tokyo)).count();
    assert!(expected > 0 && groups.as_array().unwrap().len() == expected, "{groups}");
    for g in groups.as_array().unwrap() {
        assert!(g["sourceIds"].as_array().unwrap().iter().any(|s| s == tokyo.as_str()), "{g}");
    }
    assert!(
        listed.stderr.contains("note: the API cannot filter groups")
            && listed.stderr.contains(&format!("kept the {expected}")),
        "{}",
        listed.stderr
    );
    let by_policy = psg(Some(&base), &["groups", "list", "--policy", "Contractors", "-o", "json"]).await;
    let groups: Value = serde_json::from_str(by_policy.ok()).unwrap();
    for g in groups.as_array().unwrap() {
        assert_eq!(g["passwordPolicyId"], cat.password_policies[1].id.as_str(), "{g}");
    }
    let twin = psg(Some(&base), &["groups", "list", "--source", "Workday"]).await;
    assert_eq!(twin.code, 2, "{}", twin.stderr);
}

#[tokio::test]
async fn names_that_differ_only_in_case_or_normalisation_get_a_plan_note() {
    let emu = emulator(|b| b.groups(2)).await;
    let base = emu.base_url();
    let groups = emu.groups();
    let (first, second) = (&groups[0], &groups[1]);
    let dir = temp_dir("case-notes");
    let file = dir.join("groups.yaml");
    let entry = |name: &str, extra: &str| {
        format!(
            "- name: '{name}'\n{extra}  passwordPolicyId: {}\n  sourceIds: [{}]\n",
            first.password_policy_id,
            first.source_ids.join(", ")
        )
    };
    std::fs::write(
        &file,
        format!(
            "groups:\n{}{}",
            entry(&first.name.to_uppercase(), ""),
            entry("Finance", "  renamedFrom: No such group\n")
        ),
    )
    .unwrap();
    let plan = psg(Some(&base), &["plan", "-f", file.to_str().unwrap()]).await;
    plan.ok();
    let expected = format!(
        "note: \"{}\" in the file and \"{}\" in the tenant ({}): names differ only in case: use renamedFrom to keep the id",
        first.name.to_uppercase(),
        first.name,
        first.id
    );
    assert!(plan.stderr.lines().any(|l| l == expected), "{expected:?} not in:\n{}", plan.stderr);
    assert!(
        plan.stderr.contains(
            "note: \"Finance\": renamedFrom \"No such group\" is ignored: the tenant has no group named \"No such group\""
        ),
        "{}",
        plan.stderr
    );
    assert!(!plan.stderr.contains(&second.id), "only the look-alike is named: {}", plan.stderr);
    // The notes go to stderr: -o json stays one document.
    let json = psg(Some(&base), &["plan", "-f", file.to_str().unwrap(), "-o", "json"]).await;
    let _: Value = serde_json::from_str(json.ok()).expect("JSON");
    assert!(json.stderr.contains("names differ only in case"), "{}", json.stderr);
}
