//! The real `psg` binary against emulators started by the test.

use psg_e2e::*;
use serde_json::Value;

#[tokio::test]
async fn demo_walks_through_everything_and_exits_0() {
    let run = psg(None, &["demo"]).await;
    let out = run.ok();
    for needle in [
        "== 1. Create",
        "Plan: 1 to create, 1 to update, 1 to delete.",
        "No changes: the tenant matches",
        "Done:",
        "0 rate-limited",
    ] {
        assert!(out.contains(needle), "demo output lacks {needle:?}:\n{out}");
    }
    assert!(!out.contains(DEMO_SECRET) && !run.stderr.contains(DEMO_SECRET));
}

#[tokio::test]
async fn create_get_update_delete_in_every_format() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let (p, s) = (&cat.password_policy_ids, &cat.source_ids);
    let run = psg(
        Some(&base),
        &["groups", "create", "--name", "Finance", "--policy", &p[0], "--source", &s[0], "--source", &s[1]],
    )
    .await;
    let created: Value = serde_json::from_str(run.ok()).expect("json when stdout is not a terminal");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["passwordPolicyId"], p[0].as_str());

    let yaml = psg(Some(&base), &["groups", "get", &id, "-o", "yaml"]).await;
    assert!(yaml.ok().contains("name: Finance") && yaml.stdout.contains("passwordPolicyId:"));
    // Global flags before the subcommand too.
    let table = psg(Some(&base), &["-o", "table", "groups", "get", &id]).await;
    let lines: Vec<_> = table.ok().lines().collect();
    assert!(lines[0].contains("NAME") && lines[1].contains("Finance"), "{}", table.stdout);
    let policy_name = &cat.password_policies[0].name;
    assert_eq!(
        lines[0].find("POLICY"),
        lines[1].find(policy_name.as_str()),
        "aligned columns:\n{}",
        table.stdout
    );

    let run = psg(
        Some(&base),
        &["groups", "update", &id, "--name", "Finance apps", "--source", &s[0], "--source", &s[2]],
    )
    .await;
    let updated: Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(updated["name"], "Finance apps");
    assert_eq!(updated["passwordPolicyId"], p[0].as_str(), "merged: policy kept");
    assert_eq!(updated["sourceIds"], serde_json::json!([s[0], s[2]]));

    let file = temp_dir("update").join("g.yaml");
    std::fs::write(
        &file,
        format!("name: From file\npasswordPolicyId: {}\nsourceIds: [{}, {}]\n", p[1], s[3], s[4]),
    )
    .unwrap();
    let run =
        psg(Some(&base), &["groups", "update", &id, "--file", file.to_str().unwrap(), "-o", "ndjson"]).await;
    assert_eq!(run.ok().lines().count(), 1);
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap()["name"], "From file");

    let list = psg(Some(&base), &["groups", "list", "-o", "json"]).await;
    assert_eq!(serde_json::from_str::<Value>(list.ok()).unwrap().as_array().unwrap().len(), 1);

    let refused = psg(Some(&base), &["groups", "delete", &id]).await;
    assert_eq!(refused.code, 2, "no --yes and no terminal: {}", refused.stderr);
    assert!(refused.stderr.contains("--yes"));
    assert_eq!(emu.groups().len(), 1);
    let deleted = psg(Some(&base), &["groups", "delete", &id, "--yes", "-o", "table"]).await;
    assert!(deleted.ok().contains(&format!("deleted {id}")));
    assert!(emu.groups().is_empty());

    let missing = psg(Some(&base), &["groups", "get", &id]).await;
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains(&id) && missing.stderr.contains("404"), "{}", missing.stderr);
    assert_eq!(missing.stderr.lines().count(), 1, "one line: {}", missing.stderr);
}

#[tokio::test]
async fn errors_are_one_line_with_the_right_exit_code() {
    let no_creds = psg(None, &["groups", "list"]).await;
    assert_eq!(no_creds.code, 2);
    assert!(no_creds.stderr.contains("SAIL_BASE_URL"), "{}", no_creds.stderr);

    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    // Past psg's own checks (an existing source without PASSWORD, given by id), the server's 400.
    let cat = emu.catalog();
    let unmanaged = cat.sources.iter().find(|s| !s.features.iter().any(|f| f == "PASSWORD")).unwrap();
    let bad = psg(
        Some(&base),
        &[
            "groups",
            "create",
            "--name",
            "x",
            "--policy",
            &cat.password_policy_ids[0],
            "--source",
            &cat.source_ids[0],
            "--source",
            &unmanaged.id,
        ],
    )
    .await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("HTTP 400") && bad.stderr.contains("tracking id"), "{}", bad.stderr);

    let local =
        psg(Some(&base), &["groups", "create", "--name", "x", "--policy", "p", "--source", "a"]).await;
    assert_eq!(local.code, 2, "{}", local.stderr);
    assert!(local.stderr.contains("at least two"), "{}", local.stderr);

    let wrong = psg_command(Some(&base))
        .env("SAIL_CLIENT_SECRET", "wrong-secret-xyz")
        .args(["groups", "list"])
        .output()
        .await
        .unwrap();
    let wrong = Run::from(wrong);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("SAIL_CLIENT_SECRET") && !wrong.stderr.contains("wrong-secret-xyz"),
        "{}",
        wrong.stderr
    );

    let http = psg(Some("http://example.com"), &["groups", "list"]).await;
    assert_eq!(http.code, 2);
    assert!(http.stderr.contains("https://"), "{}", http.stderr);
}

#[tokio::test]
async fn read_only_client_gets_403_naming_the_scope() {
    let emu = emulator(|b| b.client("reader:pw:read".parse().unwrap())).await;
    let cat = emu.catalog();
    let run = psg_command(Some(&emu.base_url()))
        .env("SAIL_CLIENT_ID", "reader")
        .env("SAIL_CLIENT_SECRET", "pw")
        .args(["groups", "create", "--name", "x", "--policy", &cat.password_policy_ids[0]])
        .args(["--source", &cat.source_ids[0], "--source", &cat.source_ids[1]])
        .output()
        .await
        .unwrap();
    let run = Run::from(run);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("idn:password-sync-group:manage"), "{}", run.stderr);
}

/// Reproduction: `psg sources list` and `psg policies list` refused with 403
/// told the user to add `idn:password-sync-group:manage`. The hint names the
/// scope of the operation the server refused.
#[tokio::test]
async fn a_403_on_sources_or_policies_names_their_scope() {
    let emu = emulator(|b| {
        b.extra_client("groups-only:pw:idn:password-sync-group:manage".parse().unwrap())
            .extra_client("sources-only:pw:idn:sources:read".parse().unwrap())
    })
    .await;
    let cases = [
        ("groups-only", "sources", "GET /v3/sources", "idn:sources:read"),
        ("sources-only", "policies", "GET /v3/password-policies", "idn:password-policy:read"),
    ];
    for (client, command, route, scope) in cases {
        let run = psg_command(Some(&emu.base_url()))
            .env("SAIL_CLIENT_ID", client)
            .env("SAIL_CLIENT_SECRET", "pw")
            .args([command, "list"])
            .output()
            .await
            .unwrap();
        let run = Run::from(run);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains(scope), "{command}: {}", run.stderr);
        assert!(!run.stderr.contains("password-sync-group"), "{command}: {}", run.stderr);
        let refused = emu.stats().requests.get(route).and_then(|s| s.get(&403).copied());
        assert_eq!(refused, Some(1), "{command}: the server refused it once: {:?}", emu.stats().requests);
    }
}

#[tokio::test]
async fn list_all_streams_every_group_exactly_once_through_faults() {
    let emu =
        emulator(|b| b.groups(1000).faults("500=0.1,503=0.1,429=0.1,reset=0.05".parse().unwrap(), 7)).await;
    let run =
        psg(Some(&emu.base_url()), &["groups", "list", "--all", "-o", "ndjson", "--max-attempts", "10"])
            .await;
    let ids: Vec<String> = run
        .ok()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = emu.groups().into_iter().map(|g| g.id).collect();
    assert_eq!(ids, expected, "every group once, in server order");
    let faults: u64 = emu.stats().faults.values().sum();
    assert!(faults > 0, "faults were injected");
}

#[tokio::test]
async fn no_secret_in_any_output_at_vv() {
    let emu = emulator(|b| b.groups(3).faults("503=0.3".parse().unwrap(), 1)).await;
    let run = psg(Some(&emu.base_url()), &["-vv", "groups", "list", "--all", "-o", "json"]).await;
    run.ok();
    assert!(
        run.stderr.contains("psg.operation") || run.stderr.contains("attempt"),
        "-vv logs requests: {}",
        run.stderr
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(DEMO_SECRET), "secret leaked");
        assert!(!text.to_lowercase().contains("bearer "), "token leaked: {text}");
        assert!(!text.contains("access_token"), "token response leaked");
    }
}

#[tokio::test]
async fn completions_are_printed() {
    let run = psg(None, &["completions", "bash"]).await;
    assert!(run.ok().contains("_psg"), "{}", &run.stdout[..200.min(run.stdout.len())]);
    // --api-version completes to every version, the per-service v1 included.
    assert!(run.stdout.contains("beta v3 v2024 v2025 v2026 v1"), "versions offered for --api-version");
}

#[tokio::test]
async fn profiles_supply_credentials_and_bad_files_name_the_line() {
    let emu = emulator(|b| b.groups(2)).await;
    let dir = temp_dir("profiles");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.dev]\nbase_url = \"{}\"\nclient_id = \"psg-demo\"\nclient_secret = \"{DEMO_SECRET}\"\n",
            emu.base_url()
        ),
    )
    .unwrap();
    let run = psg_command(None)
        .env("PSG_CONFIG", &config)
        .args(["--profile", "dev", "groups", "list", "-o", "json"])
        .output()
        .await
        .unwrap();
    let run = Run::from(run);
    assert_eq!(serde_json::from_str::<Value>(run.ok()).unwrap().as_array().unwrap().len(), 2);

    let unknown = Run::from(
        psg_command(None)
            .env("PSG_CONFIG", &config)
            .args(["--profile", "prod", "groups", "list"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("'prod'") && unknown.stderr.contains("dev"), "{}", unknown.stderr);

    std::fs::write(&config, "[profiles.dev]\nbase_url = = 1\n").unwrap();
    let broken = Run::from(
        psg_command(None)
            .env("PSG_CONFIG", &config)
            .args(["--profile", "dev", "groups", "list"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(broken.code, 2);
    assert!(broken.stderr.contains(&format!("{}:2", config.display())), "{}", broken.stderr);
    assert!(!broken.stderr.contains(DEMO_SECRET));
}

#[tokio::test]
async fn timeout_flag_bounds_each_request() {
    let emu = emulator(|b| b.groups(1).latency("3000".parse().unwrap())).await;
    let run = psg(Some(&emu.base_url()), &["groups", "list", "--timeout", "1", "--max-attempts", "1"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("timed out") && run.stderr.contains("--timeout"), "{}", run.stderr);
}

/// A loopback server answering every request with `status` and `body`
/// (no `Retry-After`); counts the requests it answered.
async fn answer_every_request(
    status: &'static str,
    body: &'static str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (base, count)
}

/// Reproduction: a 429 without `Retry-After` was reported as "waited as the
/// server asked", and its body's message was dropped.
#[tokio::test]
async fn a_429_without_retry_after_is_not_reported_as_waited_as_asked() {
    let (base, count) =
        answer_every_request("429 Too Many Requests", r#"{"message":"Rate Limit Exceeded"}"#).await;
    let run = psg_command(None)
        .env("SAIL_BASE_URL", &base)
        .env("SAIL_ACCESS_TOKEN", "fixed-token-for-test")
        .args(["groups", "list", "--max-attempts", "2"])
        .output()
        .await
        .unwrap();
    let run = Run::from(run);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("Rate Limit Exceeded"), "{}", run.stderr);
    assert!(!run.stderr.contains("waited as the server asked"), "{}", run.stderr);
    assert!(run.stderr.contains("no Retry-After"), "{}", run.stderr);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2, "two attempts reached the server");
}
