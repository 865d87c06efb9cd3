//! Items the server sends without a field the spec leaves optional (a group
//! without `passwordPolicyId`, a policy without `name`): read-only commands
//! show them with a warning; export, plan and apply stop, naming them, and
//! write nothing.

use psg_e2e::*;
use serde_json::Value;

const COMPLETE: &str = r#"{"id":"g1","name":"Finance","passwordPolicyId":"p1","sourceIds":["s1","s2"]}"#;
const NO_POLICY: &str = r#"{"id":"g2","name":"Payroll","sourceIds":["s1","s2"]}"#;

/// A tenant whose second group has no policy; every write is answered 400
/// (the tests assert none is sent).
async fn tenant(writes: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> String {
    canned_api("tok", move |first| {
        if first.starts_with("GET") && first.contains("password-sync-groups?") {
            ("200 OK", format!("[{COMPLETE},{NO_POLICY}]"))
        } else if first.starts_with("GET") && first.contains("password-policies") {
            ("200 OK", r#"[{"id":"p1","sourceIds":[],"defaultPolicy":false}]"#.to_string())
        } else if first.starts_with("GET") && first.contains("/g2") {
            ("200 OK", NO_POLICY.to_string())
        } else if first.starts_with("GET") {
            ("200 OK", COMPLETE.to_string())
        } else {
            writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ("400 Bad Request", r#"{"messages":[{"text":"no writes expected"}]}"#.to_string())
        }
    })
    .await
}

#[tokio::test]
async fn listings_show_an_incomplete_group_with_a_warning() {
    let base = tenant(Default::default()).await;
    let run = psg(Some(&base), &["groups", "list"]).await;
    let table = run.ok();
    assert!(table.contains("g2") && table.contains("Payroll"), "{table}");
    assert!(
        run.stderr.contains("warning: group g2 was sent without passwordPolicyId (shown empty)"),
        "{}",
        run.stderr
    );
    let json: Value =
        serde_json::from_str(psg(Some(&base), &["groups", "list", "-o", "json"]).await.ok()).unwrap();
    assert_eq!(
        json[1],
        serde_json::from_str::<Value>(NO_POLICY).unwrap(),
        "the API's object, field left out"
    );
    let one = psg(Some(&base), &["groups", "get", "g2", "-o", "json"]).await;
    assert_eq!(serde_json::from_str::<Value>(one.ok()).unwrap()["name"], "Payroll");
    assert!(one.stderr.contains("g2 was sent without passwordPolicyId"), "{}", one.stderr);
    let policies = psg(Some(&base), &["policies", "list"]).await;
    assert!(policies.ok().contains("p1"));
    assert!(policies.stderr.contains("password policy p1 was sent without name"), "{}", policies.stderr);
}

#[tokio::test]
async fn export_plan_and_apply_stop_naming_it_and_write_nothing() {
    let writes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let base = tenant(writes.clone()).await;
    let dir = temp_dir("incomplete");
    let out = dir.join("groups.yaml");
    let export = psg(Some(&base), &["export", "-f", out.to_str().unwrap()]).await;
    assert_eq!(export.code, 1, "{}", export.stderr);
    assert!(export.stderr.contains(r#"group g2 "Payroll" has no passwordPolicyId"#), "{}", export.stderr);
    assert!(!out.exists(), "no file was written");
    let file = dir.join("desired.yaml");
    std::fs::write(&file, "groups:\n  - name: Finance\n    passwordPolicyId: p1\n    sourceIds: [s1, s2]\n")
        .unwrap();
    for args in [vec!["plan", "-f"], vec!["apply", "--yes", "--prune", "-f"]] {
        let mut args = args.clone();
        args.push(file.to_str().unwrap());
        let run = psg(Some(&base), &args).await;
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("g2") && run.stderr.contains("passwordPolicyId"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(writes.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was sent to change the tenant");
}
