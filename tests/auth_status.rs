//! `psg auth status` checks each permission with one cheap request, through
//! the real binary: against the emulator with clients lacking each scope, and
//! against a hostile server that refuses some scopes and fails others.

use psg_e2e::{Run, canned_api, emulator, psg_command};
use psg_emulator::ClientSpec;
use serde_json::Value;

const GROUPS_READ: &str = "groups: ok (idn:password-sync-group:read)";
const NO_WRITES: &str = "group changes: missing idn:password-sync-group:manage — create, update, delete and apply will be refused";
const NO_SOURCES: &str = "sources: missing idn:sources:read — portable files will not work";
const NO_POLICIES: &str = "policies: missing idn:password-policy:read — portable files will not work";
const NO_GROUPS: &str = "groups: missing idn:password-sync-group:read — nothing psg does will work";

async fn status(base: &str, id: &str, secret: &str, args: &[&str]) -> Run {
    psg_command(None)
        .env("SAIL_BASE_URL", base)
        .env("SAIL_CLIENT_ID", id)
        .env("SAIL_CLIENT_SECRET", secret)
        .args(["auth", "status"])
        .args(args)
        .output()
        .await
        .expect("psg runs")
        .into()
}

fn lines(run: &Run) -> Vec<&str> {
    run.stdout.lines().collect()
}

#[tokio::test]
async fn each_missing_scope_is_one_line_and_only_unreadable_groups_fail() {
    let client = |id: &str, scopes: &str| format!("{id}:{id}-secret:{scopes}").parse::<ClientSpec>().unwrap();
    let emu = emulator(|b| {
        b.groups(2)
            .extra_client(client("reader", "idn:password-sync-group:read"))
            .extra_client(client("no-sources", "idn:password-sync-group:manage,idn:password-policy:read"))
            .extra_client(client("catalog-only", "idn:sources:read,idn:password-policy:read"))
    })
    .await;
    let base = emu.base_url();
    let before = emu.stats();

    let full = status(&base, "psg-demo", "psg-demo-secret", &[]).await;
    let text = full.ok();
    for line in [
        GROUPS_READ,
        "group changes: ok (idn:password-sync-group:manage)",
        "sources: ok (idn:sources:read)",
        "policies: ok (idn:password-policy:read)",
        "API version: beta (groups /beta/password-sync-groups, policies /v3/password-policies, sources /v3/sources)",
    ] {
        assert!(lines(&full).contains(&line), "{line:?} missing:\n{text}");
    }

    let reader = status(&base, "reader", "reader-secret", &[]).await;
    assert_eq!(reader.code, 0, "{}{}", reader.stdout, reader.stderr);
    for line in [GROUPS_READ, NO_WRITES, NO_SOURCES, NO_POLICIES] {
        assert!(lines(&reader).contains(&line), "{line:?} missing:\n{}", reader.stdout);
    }

    let no_sources = status(&base, "no-sources", "no-sources-secret", &[]).await;
    assert_eq!(no_sources.code, 0, "{}", no_sources.stdout);
    assert!(lines(&no_sources).contains(&NO_SOURCES), "{}", no_sources.stdout);
    assert!(!no_sources.stdout.contains("missing idn:password"), "{}", no_sources.stdout);

    let catalog_only = status(&base, "catalog-only", "catalog-only-secret", &[]).await;
    assert_eq!(catalog_only.code, 1, "groups cannot be read: {}", catalog_only.stdout);
    assert!(lines(&catalog_only).contains(&NO_GROUPS), "{}", catalog_only.stdout);
    assert!(lines(&catalog_only).contains(&NO_WRITES), "{}", catalog_only.stdout);
    assert!(lines(&catalog_only).contains(&"sources: ok (idn:sources:read)"), "{}", catalog_only.stdout);

    // What the server saw: one request per permission and run, and nothing changed.
    let after = emu.stats();
    assert_eq!(after.writes, before.writes, "auth status changed the tenant");
    let count = |route: &str| -> u64 {
        let was = before.requests.get(route).map(|s| s.values().sum::<u64>()).unwrap_or(0);
        after.requests.get(route).map(|s| s.values().sum::<u64>()).unwrap_or(0) - was
    };
    let runs = 4;
    assert_eq!(count("GET /beta/password-sync-groups"), runs, "{:?}", after.requests);
    assert_eq!(count("PUT /beta/password-sync-groups/{id}"), runs, "{:?}", after.requests);
    assert_eq!(count("GET /v3/sources"), runs, "{:?}", after.requests);
    assert_eq!(count("GET /v3/password-policies"), runs, "{:?}", after.requests);
    assert_eq!(emu.groups().len(), 2);

    // Every -o is what it says, with the same verdicts.
    let json: Value =
        serde_json::from_str(&status(&base, "reader", "reader-secret", &["-o", "json"]).await.stdout)
            .unwrap();
    assert_eq!(json["apiVersion"], "beta");
    let results: Vec<(&str, &str)> = json["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["permission"].as_str().unwrap(), p["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [
            ("groups", "granted"),
            ("group changes", "missing"),
            ("sources", "missing"),
            ("policies", "missing")
        ]
    );
    let ndjson = status(&base, "reader", "reader-secret", &["-o", "ndjson"]).await;
    assert_eq!(ndjson.stdout.lines().count(), 1, "{}", ndjson.stdout);
    let one: Value = serde_json::from_str(&ndjson.stdout).unwrap();
    assert_eq!(one["permissions"], json["permissions"]);
    let yaml = status(&base, "reader", "reader-secret", &["-o", "yaml"]).await;
    let yaml: Value = serde_norway::from_str(&yaml.stdout).unwrap();
    assert_eq!(yaml["permissions"], json["permissions"]);
    let v2025 = status(&base, "psg-demo", "psg-demo-secret", &["--api-version", "v2025", "-o", "json"]).await;
    let v: Value = serde_json::from_str(v2025.ok()).unwrap();
    assert_eq!(v["apiVersion"], "v2025");
    assert_eq!(v["apiPaths"]["sources"], "/v2025/sources");
    let v1 = status(&base, "psg-demo", "psg-demo-secret", &["--api-version", "v1", "-o", "json"]).await;
    let v: Value = serde_json::from_str(v1.ok()).unwrap();
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(v["apiPaths"]["groups"], "/password-sync-groups/v1");
    assert_eq!(v["apiPaths"]["policies"], "/password-policies/v1");
    assert!(v["permissions"].as_array().unwrap().iter().all(|p| p["result"] == "granted"), "{v}");
}

#[tokio::test]
async fn a_hostile_server_gets_a_line_per_permission_and_no_panic() {
    // Groups readable; a write is refused; sources 403; policies answer garbage.
    let base = canned_api("opaque-token", |first| {
        if first.starts_with("GET") && first.contains("/password-sync-groups") {
            ("200 OK", "[]".to_string())
        } else if first.starts_with("PUT") {
            ("403 Forbidden", r#"{"messages":[{"text":"scope idn:password-sync-group:manage"}]}"#.to_string())
        } else if first.contains("/sources") {
            ("403 Forbidden", "{}".to_string())
        } else {
            ("200 OK", "{not json".to_string())
        }
    })
    .await;
    let run = status(&base, "anyone", "anything", &[]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for line in [GROUPS_READ, NO_WRITES, NO_SOURCES] {
        assert!(lines(&run).contains(&line), "{line:?} missing:\n{}", run.stdout);
    }
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("policies: could not be checked (idn:password-policy:read)")),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    // Groups refused: exit 1, and the other lines still say what the client may do.
    let refused = canned_api("opaque-token", |first| {
        if first.contains("/password-sync-groups") {
            ("403 Forbidden", "{}".to_string())
        } else {
            ("200 OK", "[]".to_string())
        }
    })
    .await;
    let run = status(&refused, "anyone", "anything", &["-o", "ndjson"]).await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["permissions"][0]["line"], NO_GROUPS);
    assert_eq!(v["permissions"][2]["result"], "granted");
}
