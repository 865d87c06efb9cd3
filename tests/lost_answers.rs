//! Single commands tell the truth after answers that settle nothing (issue
//! 20): through the real `psg` binary against an emulator that drops answers
//! (`lost`) or commits writes after the client gave up (`late`), asserting
//! what the server holds and what psg printed.

use std::time::Duration;

use psg_e2e::*;
use psg_emulator::{EmulatorHandle, FaultSpec};
use serde_json::Value;

/// A group file for `groups create -f` with the emulator's catalog.
fn group_file(emu: &EmulatorHandle, dir: &std::path::Path, name: &str) -> String {
    let cat = emu.catalog();
    let path = dir.join(format!("{}.yaml", name.replace(' ', "-")));
    let text = format!(
        "name: {name}\npasswordPolicyId: {}\nsourceIds: [{}, {}]\n",
        cat.password_policy_ids[0], cat.source_ids[0], cat.source_ids[1]
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn named(emu: &EmulatorHandle, name: &str) -> usize {
    emu.groups().iter().filter(|g| g.name == name).count()
}

fn never_claims_unreachable(run: &Run) {
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains("could not reach the server"), "a sent request is not 'unreachable': {all}");
}

#[tokio::test]
async fn a_create_committed_after_the_timeout_is_found_and_reported_created_once() {
    let emu = emulator(|b| {
        b.late_delay(Duration::from_millis(1500)).faults("late=1".parse::<FaultSpec>().unwrap(), 1)
    })
    .await;
    let dir = temp_dir("late-create");
    let file = group_file(&emu, &dir, "Late one");
    let run = psg(
        Some(&emu.base_url()),
        &["groups", "create", "-f", &file, "--timeout", "1", "--max-attempts", "1", "-o", "json"],
    )
    .await;
    let created: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(created["name"], "Late one");
    assert_eq!(named(&emu, "Late one"), 1, "exactly one group, the one psg reports");
    assert_eq!(emu.groups()[0].id, created["id"].as_str().unwrap());
    let posts: u64 = emu
        .stats()
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("POST "))
        .flat_map(|(_, v)| v.values())
        .sum();
    assert_eq!(posts, 1, "the create was sent once: {:?}", emu.stats().requests);
    assert!(run.stderr.contains("the group was created"), "{}", run.stderr);
    never_claims_unreachable(&run);
}

#[tokio::test]
async fn a_create_whose_answers_and_look_ups_are_all_lost_says_the_outcome_is_unknown() {
    let emu = emulator(|b| b.faults("lost=1".parse::<FaultSpec>().unwrap(), 1)).await;
    let dir = temp_dir("lost-create");
    let file = group_file(&emu, &dir, "Lost one");
    let run = psg(
        Some(&emu.base_url()),
        &["groups", "create", "-f", &file, "--allow-duplicate-name", "--timeout", "1", "--max-attempts", "1"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("the outcome is unknown: "), "{}", run.stderr);
    assert!(run.stderr.contains(r#"check with psg groups get --name "Lost one""#), "{}", run.stderr);
    assert_eq!(named(&emu, "Lost one"), 1, "the server did create it: psg must not say it did not");
    never_claims_unreachable(&run);
}

#[tokio::test]
async fn a_delete_committed_after_the_timeout_is_verified_and_reported_deleted() {
    let emu = emulator(|b| {
        b.groups(1).late_delay(Duration::from_millis(1500)).faults("late=1".parse::<FaultSpec>().unwrap(), 1)
    })
    .await;
    let id = emu.groups()[0].id.clone();
    let run = psg(
        Some(&emu.base_url()),
        &["groups", "delete", &id, "--yes", "--timeout", "1", "--max-attempts", "1"],
    )
    .await;
    let report: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(report["deleted"], serde_json::json!([id]), "{}", run.stderr);
    assert!(emu.groups().is_empty());
    never_claims_unreachable(&run);
}

#[tokio::test]
async fn a_delete_whose_answers_are_lost_half_the_time_reports_what_the_server_holds() {
    for seed in 0..6 {
        let emu = emulator(|b| b.groups(1).faults("lost=0.5".parse::<FaultSpec>().unwrap(), seed)).await;
        let id = emu.groups()[0].id.clone();
        let run = psg(Some(&emu.base_url()), &["groups", "delete", &id, "--yes", "--timeout", "1"]).await;
        never_claims_unreachable(&run);
        let gone = emu.groups().is_empty();
        if run.code == 0 {
            assert!(gone, "seed {seed}: psg said deleted but the group is there");
            let report: Value = serde_json::from_str(&run.stdout).unwrap();
            assert_eq!(report["deleted"], serde_json::json!([id]), "seed {seed}");
        } else {
            assert_eq!(run.code, 1, "seed {seed}: {}", run.stderr);
            if gone {
                assert!(run.stderr.contains("the outcome is unknown"), "seed {seed}: {}", run.stderr);
            } else {
                assert!(
                    run.stderr.contains("not deleted") || run.stderr.contains("the outcome is unknown"),
                    "seed {seed}: {}",
                    run.stderr
                );
            }
        }
    }
}

#[tokio::test]
async fn an_update_committed_after_the_timeout_is_read_back_and_reported() {
    let emu = emulator(|b| {
        b.groups(1).late_delay(Duration::from_millis(1500)).faults("late=1".parse::<FaultSpec>().unwrap(), 1)
    })
    .await;
    let id = emu.groups()[0].id.clone();
    let run = psg(
        Some(&emu.base_url()),
        &[
            "groups",
            "update",
            &id,
            "--new-name",
            "Renamed late",
            "--timeout",
            "1",
            "--max-attempts",
            "1",
            "-o",
            "json",
        ],
    )
    .await;
    let updated: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(updated["name"], "Renamed late");
    assert_eq!(emu.groups()[0].name, "Renamed late");
    never_claims_unreachable(&run);
}

#[tokio::test]
async fn an_update_whose_answers_and_reads_are_lost_says_the_outcome_is_unknown() {
    let emu = emulator(|b| b.groups(1)).await;
    let id = emu.groups()[0].id.clone();
    let dir = temp_dir("lost-update");
    let file = group_file(&emu, &dir, "Renamed lost");
    // Faults from the start would also break the token-free reads before the
    // PUT; a second emulator is not needed: `-f` sends the PUT first thing.
    drop(emu);
    let emu = emulator(|b| b.groups(1).faults("lost=1".parse::<FaultSpec>().unwrap(), 1)).await;
    let id2 = emu.groups()[0].id.clone();
    assert_eq!(id, id2, "generated ids are seeded");
    let run = psg(
        Some(&emu.base_url()),
        &[
            "groups",
            "update",
            &id,
            "-f",
            &file,
            "--allow-duplicate-name",
            "--timeout",
            "1",
            "--max-attempts",
            "1",
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("the outcome is unknown: "), "{}", run.stderr);
    assert!(run.stderr.contains(r#"check with psg groups get --name "Renamed lost""#), "{}", run.stderr);
    assert_eq!(emu.groups()[0].name, "Renamed lost", "the server did apply it");
    never_claims_unreachable(&run);
}

/// An update whose first answer was lost (the server carried it out) and
/// whose retry met a 503: the 503 settles nothing, because the first attempt
/// may have acted; psg reads the group back and reports it updated.
#[tokio::test]
async fn a_503_after_a_lost_update_is_read_back_not_taken_for_a_refusal() {
    let emu = emulator(|b| b.groups(1)).await;
    let id = emu.groups()[0].id.clone();
    let dir = temp_dir("lost-then-503");
    let file = group_file(&emu, &dir, "Renamed after a loss");
    // psg reads the groups first; the faults wait for the PUTs.
    emu.inject_on("PUT", psg_emulator::Fault::Lost).unwrap();
    emu.inject_on("PUT", psg_emulator::Fault::Status(503)).unwrap();
    let run = psg(
        Some(&emu.base_url()),
        &["groups", "update", &id, "-f", &file, "--timeout", "1", "--max-attempts", "2", "-o", "json"],
    )
    .await;
    assert_eq!(named(&emu, "Renamed after a loss"), 1, "the lost attempt was carried out");
    let puts: Vec<u16> = emu.requests().iter().filter(|r| r.method == "PUT").map(|r| r.status).collect();
    let all: Vec<String> =
        emu.requests().iter().map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect();
    assert_eq!(puts.len(), 2, "one lost attempt and one 503: {puts:?} {all:#?} {}", run.stderr);
    assert!(puts.contains(&503), "{puts:?}");
    let updated: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(updated["name"], "Renamed after a loss");
    assert!(!run.stderr.contains("not updated"), "{}", run.stderr);
}
