//! `apply --prune` stops before a mass delete (issue 23): more than
//! `--max-deletes` (default a quarter of the tenant, at least 10) is refused
//! naming the flag, and `plan --prune` says when apply would refuse a plan
//! that deletes every group. Through the real binary; the server's request
//! counts show that nothing was deleted.

use psg_e2e::*;
use psg_emulator::EmulatorHandle;

fn deletes_seen(emu: &EmulatorHandle) -> u64 {
    emu.stats().requests.iter().filter(|(k, _)| k.starts_with("DELETE ")).flat_map(|(_, v)| v.values()).sum()
}

/// A desired-state file keeping only the first `keep` groups of the tenant.
fn keep_first(emu: &EmulatorHandle, dir: &std::path::Path, keep: usize) -> String {
    let groups: Vec<serde_json::Value> = emu
        .groups()
        .iter()
        .take(keep)
        .map(|g| serde_json::json!({"name": g.name, "passwordPolicyId": g.password_policy_id, "sourceIds": g.source_ids}))
        .collect();
    let path = dir.join(format!("keep-{keep}.yaml"));
    std::fs::write(&path, serde_json::json!({ "groups": groups }).to_string()).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn a_prune_deleting_more_than_max_deletes_is_refused_naming_the_flag() {
    let emu = emulator(|b| b.groups(12)).await;
    let base = emu.base_url();
    let dir = temp_dir("max-deletes");
    let file = keep_first(&emu, &dir, 1);
    let refused = psg(Some(&base), &["apply", "-f", &file, "--prune", "--yes"]).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--max-deletes 11"), "{}", refused.stderr);
    assert_eq!(deletes_seen(&emu), 0);
    assert_eq!(emu.groups().len(), 12);

    let lower = psg(Some(&base), &["apply", "-f", &file, "--prune", "--yes", "--max-deletes", "3"]).await;
    assert_eq!(lower.code, 2, "{}", lower.stderr);
    assert_eq!(deletes_seen(&emu), 0);

    let file = keep_first(&emu, &dir, 2);
    psg(Some(&base), &["apply", "-f", &file, "--prune", "--yes"]).await.ok();
    assert_eq!(deletes_seen(&emu), 10, "ten deletes are within the default");
    assert_eq!(emu.groups().len(), 2);
}

#[tokio::test]
async fn plan_prune_of_a_file_deleting_every_group_says_apply_will_refuse() {
    let emu = emulator(|b| b.groups(3)).await;
    let base = emu.base_url();
    let dir = temp_dir("delete-all-note");
    let file = keep_first(&emu, &dir, 0);
    let plan = psg(Some(&base), &["plan", "-f", &file, "--prune"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stderr.contains("psg apply will refuse it without --allow-delete-all"), "{}", plan.stderr);
    let partial = keep_first(&emu, &dir, 1);
    let plan = psg(Some(&base), &["plan", "-f", &partial, "--prune"]).await;
    assert!(!plan.stderr.contains("--allow-delete-all"), "{}", plan.stderr);
    let apply = psg(Some(&base), &["apply", "-f", &file, "--prune", "--yes"]).await;
    assert_eq!(apply.code, 2, "{}", apply.stderr);
    assert_eq!(deletes_seen(&emu), 0);
}
