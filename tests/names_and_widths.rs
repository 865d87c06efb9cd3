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
