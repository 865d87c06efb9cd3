//! SailPoint's per-service layout (`--api-version v1`) through the real
//! binary against the emulator: every job psg does, asserting on the paths
//! the emulator saw; a tenant that serves only v1; portable files from a
//! beta sandbox applied over v1.

use psg_e2e::{emulator, psg, temp_dir};
use psg_emulator::EmulatorHandle;
use serde_json::Value;

/// Every API request the emulator saw (not the token endpoint): (method, path, status).
fn api_requests(emu: &EmulatorHandle) -> Vec<(String, String, u16)> {
    emu.requests()
        .into_iter()
        .filter(|r| r.path != "/oauth/token")
        .map(|r| (r.method, r.path, r.status))
        .collect()
}

/// The per-service paths, written out: the version follows the resource.
fn is_v1_path(path: &str) -> bool {
    ["/password-sync-groups/v1", "/sources/v1", "/password-policies/v1"]
        .iter()
        .any(|root| path == *root || path.starts_with(&format!("{root}/")))
}

#[tokio::test]
async fn every_job_runs_on_v1_and_the_emulator_sees_only_v1_paths() {
    let emu = emulator(|b| b.groups(2)).await;
    let base = emu.base_url();
    let v1 = |args: &[&str]| {
        let mut all = vec!["--api-version", "v1"];
        all.extend_from_slice(args);
        all.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let base = base.clone();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            psg(Some(&base), &refs).await
        }
    };
    let c = emu.catalog();
    let (policy, s0, s1) = (&c.password_policy_ids[0], &c.source_ids[0], &c.source_ids[1]);

    let created: Value = serde_json::from_str(
        run(v1(&[
            "groups", "create", "--name", "On v1", "--policy", policy, "--source", s0, "--source", s1, "-o",
            "json",
        ]))
        .await
        .ok(),
    )
    .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let listed: Value = serde_json::from_str(run(v1(&["groups", "list", "-o", "json"])).await.ok()).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let got: Value = serde_json::from_str(run(v1(&["groups", "get", &id, "-o", "json"])).await.ok()).unwrap();
    assert_eq!(got["name"], "On v1");
    run(v1(&["groups", "update", &id, "--name", "Renamed on v1"])).await.ok();
    assert!(emu.groups().iter().any(|g| g.name == "Renamed on v1"));
    let policies: Value =
        serde_json::from_str(run(v1(&["policies", "list", "-o", "json"])).await.ok()).unwrap();
    assert_eq!(policies.as_array().unwrap().len(), c.password_policies.len());
    let managed: Value =
        serde_json::from_str(run(v1(&["sources", "list", "--password-managed", "-o", "json"])).await.ok())
            .unwrap();
    assert_eq!(managed.as_array().unwrap().len(), c.source_ids.len());

    // Groups as code: export by name, rename one in the file, plan and apply
    // with --prune (groups are matched by name: one create, one delete).
    let dir = temp_dir("v1-jobs");
    let file = dir.join("groups.yaml");
    let path = file.to_str().unwrap();
    run(v1(&["export", "--portable", "-f", path])).await.ok();
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("Renamed on v1", "Applied on v1")).unwrap();
    let plan = run(v1(&["plan", "--prune", "-f", path])).await;
    assert!(plan.ok().contains("Plan: 1 to create, 0 to update, 1 to delete."), "{}", plan.stdout);
    run(v1(&["apply", "--prune", "-f", path, "--yes"])).await.ok();
    let applied = emu.groups().into_iter().find(|g| g.name == "Applied on v1").expect("created");
    assert!(emu.groups().iter().all(|g| g.id != id), "the renamed group was pruned");
    let again = run(v1(&["plan", "--prune", "-f", path, "--detailed-exitcode"])).await;
    assert_eq!(again.code, 0, "nothing left to do: {}", again.stdout);
    run(v1(&["groups", "delete", &applied.id, "--yes"])).await.ok();
    assert_eq!(emu.groups().len(), 2);

    // What the emulator saw: only v1 paths, every one answered with success,
    // so every policies request carried X-SailPoint-Experimental (the
    // emulator answers 400 without it).
    let seen = api_requests(&emu);
    let wrong: Vec<_> = seen.iter().filter(|(_, p, _)| !is_v1_path(p)).collect();
    assert!(wrong.is_empty(), "requests outside the v1 layout: {wrong:?}");
    let failed: Vec<_> = seen.iter().filter(|(_, _, s)| *s >= 300).collect();
    assert!(failed.is_empty(), "{failed:?}");
    let policy_reads = seen.iter().filter(|(_, p, _)| p.starts_with("/password-policies/v1")).count();
    assert!(policy_reads >= 2, "policies list and the portable lookups: {seen:?}");
    for method in ["GET", "POST", "PUT", "DELETE"] {
        assert!(
            seen.iter().any(|(m, p, _)| m == method && p.starts_with("/password-sync-groups/v1")),
            "{method}"
        );
    }
}

#[tokio::test]
async fn a_tenant_that_serves_only_v1_gets_the_hint_and_v1_works() {
    let emu = emulator(|b| b.groups(1).api_versions(["v1"])).await;
    let base = emu.base_url();
    let beta = psg(Some(&base), &["groups", "list"]).await;
    assert_eq!(beta.code, 1, "{}", beta.stderr);
    assert!(
        beta.stderr.contains("this tenant does not serve /beta/password-sync-groups; try --api-version v1"),
        "{}",
        beta.stderr
    );
    let listed: Value = serde_json::from_str(
        psg(Some(&base), &["--api-version", "v1", "groups", "list", "-o", "json"]).await.ok(),
    )
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // A missing id is still "not found", not a version problem.
    let missing =
        psg(Some(&base), &["--api-version", "v1", "groups", "get", "00000000000000000000000000000404"]).await;
    assert_ne!(missing.code, 0);
    assert!(!missing.stderr.contains("does not serve"), "{}", missing.stderr);
}

#[tokio::test]
async fn a_portable_file_from_a_beta_sandbox_applies_over_v1_to_production() {
    let sandbox = emulator(|b| b.groups(3).id_seed(1)).await;
    let prod = emulator(|b| b.id_seed(2).api_versions(["v1"])).await;
    let dir = temp_dir("beta-to-v1");
    let file = dir.join("groups.yaml");
    let path = file.to_str().unwrap();
    psg(Some(&sandbox.base_url()), &["export", "--portable", "-f", path]).await.ok();
    let prod_url = prod.base_url();
    let v1 = |args: &[&'static str]| {
        let mut all = vec!["--api-version", "v1"];
        all.extend_from_slice(args);
        all
    };
    let mut apply = v1(&["apply", "--yes", "-f"]);
    apply.push(path);
    psg(Some(&prod_url), &apply).await.ok();
    let mut plan = v1(&["plan", "--detailed-exitcode", "-f"]);
    plan.push(path);
    let again = psg(Some(&prod_url), &plan).await;
    assert_eq!(again.code, 0, "a second plan shows no changes: {}", again.stdout);
    let mut names: Vec<_> = prod.groups().into_iter().map(|g| g.name).collect();
    let mut want: Vec<_> = sandbox.groups().into_iter().map(|g| g.name).collect();
    names.sort();
    want.sort();
    assert_eq!(names, want);
    let p_cat = prod.catalog();
    for g in prod.groups() {
        assert!(p_cat.password_policy_ids.contains(&g.password_policy_id), "prod's own policy id: {g:?}");
    }
    assert!(api_requests(&prod).iter().all(|(_, p, _)| is_v1_path(p)));
}

/// Issue 21 item 1: v2024–v2026 and v1 require `X-SailPoint-Experimental`
/// on password policies and the emulator refuses a request without it (400),
/// so `policies list` succeeding on each is the header reaching the server.
#[tokio::test]
async fn policies_are_listed_on_every_version_including_those_requiring_the_header() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let count = emu.catalog().password_policies.len();
    for (version, path) in [
        ("beta", "/v3/password-policies"),
        ("v3", "/v3/password-policies"),
        ("v2024", "/v2024/password-policies"),
        ("v2025", "/v2025/password-policies"),
        ("v2026", "/v2026/password-policies"),
        ("v1", "/password-policies/v1"),
    ] {
        let out = psg(Some(&base), &["--api-version", version, "policies", "list", "-o", "json"]).await;
        let listed: Value = serde_json::from_str(out.ok()).unwrap();
        assert_eq!(listed.as_array().map(Vec::len), Some(count), "{version}");
        let seen = api_requests(&emu);
        assert!(seen.iter().any(|(m, p, s)| m == "GET" && p == path && *s == 200), "{version}: {seen:?}");
        assert!(seen.iter().all(|(_, _, s)| *s == 200), "{version}: {seen:?}");
    }
}

/// `api_version = "v1"` in a profile: used without a flag, named by `auth status`.
#[tokio::test]
async fn a_profile_can_choose_v1() {
    let emu = emulator(|b| b.groups(1).api_versions(["v1"])).await;
    let dir = temp_dir("v1-profile");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.prod]\nbase_url = \"{}\"\nclient_id = \"psg-demo\"\nclient_secret = \"{}\"\napi_version = \"v1\"\n",
            emu.base_url(),
            psg_e2e::DEMO_SECRET
        ),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&config).unwrap().permissions(),
        0o600,
    );
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        async move {
            let out =
                psg_e2e::psg_command(None).env("PSG_CONFIG", &config).args(args).output().await.unwrap();
            psg_e2e::Run::from(out)
        }
    };
    let listed: Value =
        serde_json::from_str(run(&["--profile", "prod", "groups", "list", "-o", "json"]).await.ok()).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let status = run(&["--profile", "prod", "auth", "status"]).await;
    assert!(status.ok().contains("/password-sync-groups/v1"), "{}", status.stdout);
    assert!(
        // 404: auth status's write probe, a PUT of an id no group has.
        api_requests(&emu)
            .iter()
            .all(|(m, p, s)| is_v1_path(p)
                && (*s == 200 || (m == "PUT" && *s == 404 && p.ends_with("-probe")))),
        "{:?}",
        api_requests(&emu)
    );
}
