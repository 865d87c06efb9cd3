//! Groups as code end to end: export, plan, apply, idempotence, bad files,
//! interrupted and lossy applies.

use psg_e2e::*;

fn desired(cat: &psg_emulator::Catalog, names: &[&str]) -> String {
    let mut text = String::from("groups:\n");
    for (i, name) in names.iter().enumerate() {
        let s = &cat.source_ids;
        text.push_str(&format!(
            "  - name: {name}\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
            cat.password_policy_ids[i % cat.password_policy_ids.len()],
            s[i % s.len()],
            s[(i + 1) % s.len()]
        ));
    }
    text
}

#[tokio::test]
async fn plan_and_apply_are_idempotent_with_detailed_exit_codes() {
    let emu = emulator(|b| b.groups(2)).await;
    let base = emu.base_url();
    let file = temp_dir("idem").join("groups.yaml");
    std::fs::write(&file, desired(&emu.catalog(), &["Alpha", "Beta", "Sync group 00001"])).unwrap();
    let f = file.to_str().unwrap();

    let plan = psg(Some(&base), &["plan", "-f", f, "--prune", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "changes pending: {}", plan.stderr);
    assert!(
        plan.stdout.contains("+ create \"Alpha\"") && plan.stdout.contains("- delete \"Sync group 00002\""),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("~ update \"Sync group 00001\""), "{}", plan.stdout);
    assert_eq!(emu.stats().writes, 0, "plan writes nothing");

    let apply = psg(Some(&base), &["apply", "-f", f, "--prune", "--yes"]).await;
    assert!(
        apply.ok().contains(
            "Applied: 4 of 4 changes (2 created, 1 updated, 1 deleted); 0 conflict(s), 0 failed, 0 unknown."
        ),
        "{}",
        apply.stdout
    );
    let mut names: Vec<_> = emu.groups().into_iter().map(|g| g.name).collect();
    names.sort();
    assert_eq!(names, ["Alpha", "Beta", "Sync group 00001"]);

    let again = psg(Some(&base), &["apply", "-f", f, "--prune", "--yes"]).await;
    assert!(again.ok().contains("No changes"), "{}", again.stdout);
    let plan = psg(Some(&base), &["plan", "-f", f, "--prune", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stdout);

    // export then apply of the export: no changes.
    let exported = file.with_file_name("exported.yaml");
    psg(Some(&base), &["export", "--file", exported.to_str().unwrap()]).await.ok();
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(!text.contains("created") && !text.contains("id:"), "no volatile fields:\n{text}");
    let names_in_order: Vec<_> = text.lines().filter_map(|l| l.strip_prefix("- name: ")).collect();
    assert_eq!(names_in_order, ["Alpha", "Beta", "Sync group 00001"], "sorted by name");
    let plan =
        psg(Some(&base), &["plan", "-f", exported.to_str().unwrap(), "--prune", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stdout);
}

#[tokio::test]
async fn apply_refuses_a_bad_file_and_writes_nothing() {
    let emu = emulator(|b| b.groups(1)).await;
    let file = temp_dir("bad").join("groups.yaml");
    std::fs::write(
        &file,
        "groups:\n  - name: A\n    passwordPolicyId: p\n    sourceIds: [a]\n  - name: A\n    passwordPolicyId: p\n    sourceIds: [a, b]\n    colour: red\n  - name: ''\n    passwordPolicyId: p\n    sourceIds: [a, b]\n",
    )
    .unwrap();
    let run = psg(Some(&emu.base_url()), &["apply", "-f", file.to_str().unwrap(), "--prune", "--yes"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let f = file.display().to_string();
    for needle in [
        format!("{f}:4:"),
        format!("{f}:5: duplicate name"),
        format!("{f}:8: unknown key `colour`"),
        format!("{f}:9:"),
    ] {
        assert!(run.stderr.contains(&needle), "missing {needle:?}:\n{}", run.stderr);
    }
    assert_eq!(emu.stats().writes, 0);
    assert_eq!(emu.groups().len(), 1);
}

#[tokio::test]
async fn an_interrupted_apply_converges_on_rerun_without_duplicates() {
    let emu = emulator(|b| b.latency("40".parse().unwrap())).await;
    let file = temp_dir("interrupted").join("groups.yaml");
    let names: Vec<String> = (0..16).map(|i| format!("Group {i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    std::fs::write(&file, desired(&emu.catalog(), &refs)).unwrap();

    // Kill psg once a few groups exist: an apply interrupted half-way.
    let mut child = psg_command(Some(&emu.base_url()))
        .args(["apply", "-f", file.to_str().unwrap(), "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let waited = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while emu.groups().len() < 4 {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "apply started creating");
    child.kill().await.unwrap();
    let done = emu.groups().len();
    assert!((4..16).contains(&done), "interrupted half-way: {done}");

    let rerun = psg(Some(&emu.base_url()), &["apply", "-f", file.to_str().unwrap(), "--yes"]).await;
    rerun.ok();
    let mut got: Vec<_> = emu.groups().into_iter().map(|g| g.name).collect();
    got.sort();
    assert_eq!(got, names, "every group exactly once");
    let again =
        psg(Some(&emu.base_url()), &["plan", "-f", file.to_str().unwrap(), "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[tokio::test]
async fn creates_that_fail_with_500_are_checked_by_name_and_retried() {
    let emu = emulator(|b| b.faults("500=0.2".parse().unwrap(), 9)).await;
    let file = temp_dir("flaky").join("groups.yaml");
    let names: Vec<String> = (0..12).map(|i| format!("Flaky {i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    std::fs::write(&file, desired(&emu.catalog(), &refs)).unwrap();
    let run = psg(
        Some(&emu.base_url()),
        &["--timeout", "3", "apply", "-f", file.to_str().unwrap(), "--yes", "--max-attempts", "6"],
    )
    .await;
    run.ok();
    let mut got: Vec<_> = emu.groups().into_iter().map(|g| g.name).collect();
    got.sort();
    assert_eq!(got, names);
    assert!(emu.stats().faults["500"] > 0);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_by_name() {
    let emu = emulator(|b| b.faults("lost=0.5".parse().unwrap(), 3)).await;
    let file = temp_dir("lost").join("groups.yaml");
    let names: Vec<String> = (0..8).map(|i| format!("Lost {i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    std::fs::write(&file, desired(&emu.catalog(), &refs)).unwrap();
    let mut converged = false;
    for _ in 0..5 {
        let run = psg(
            Some(&emu.base_url()),
            &["apply", "-f", file.to_str().unwrap(), "--yes", "--max-attempts", "6"],
        )
        .await;
        if run.code == 0 {
            converged = true;
            break;
        }
    }
    assert!(converged, "apply converges");
    let mut got: Vec<_> = emu.groups().into_iter().map(|g| g.name).collect();
    got.sort();
    assert_eq!(got, names, "no duplicates although answers were lost");
    assert!(emu.stats().faults.get("lost").copied().unwrap_or(0) > 0);
}
