//! Everyday habits of `gh`, `kubectl` and `terraform` users, through the real
//! `psg` binary: `-` for stdin and stdout, `--name`, multi-id deletes, closed
//! pipes, partial listings, checked values, refused flags.

use std::process::Stdio;

use psg_e2e::*;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Runs `psg ARGS` against `base` with `input` on stdin, in `dir`.
async fn psg_stdin(base: &str, dir: &std::path::Path, args: &[&str], input: &str) -> Run {
    let mut child = psg_command(Some(base))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psg runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    Run::from(child.wait_with_output().await.unwrap())
}

fn no_file_named_dash(dir: &std::path::Path) {
    assert!(!dir.join("-").exists(), "a file named '-' was created in {}", dir.display());
}

#[tokio::test]
async fn dash_reads_stdin_and_export_writes_stdout() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let (p, s) = (&cat.password_policy_ids, &cat.source_ids);
    let dir = temp_dir("dash");

    let group = format!("name: From stdin\npasswordPolicyId: {}\nsourceIds: [{}, {}]\n", p[0], s[0], s[1]);
    let created = psg_stdin(&base, &dir, &["groups", "create", "-f", "-", "-o", "json"], &group).await;
    let id = serde_json::from_str::<Value>(created.ok()).unwrap()["id"].as_str().unwrap().to_string();

    let change =
        format!("name: Renamed via stdin\npasswordPolicyId: {}\nsourceIds: [{}, {}]\n", p[1], s[2], s[3]);
    let updated = psg_stdin(&base, &dir, &["groups", "update", &id, "-f", "-", "-o", "json"], &change).await;
    assert_eq!(serde_json::from_str::<Value>(updated.ok()).unwrap()["name"], "Renamed via stdin");

    // export with no -f and with -f - both print the desired state.
    let plain = psg(Some(&base), &["export"]).await;
    let dash = psg_command(Some(&base)).current_dir(&dir).args(["export", "-f", "-"]).output().await.unwrap();
    let dash = Run::from(dash);
    assert_eq!(plain.ok(), dash.ok());
    assert!(dash.stdout.contains("name: Renamed via stdin"), "{}", dash.stdout);
    assert!(!dash.stderr.contains("wrote"), "{}", dash.stderr);

    let desired = format!(
        "groups:\n  - name: Renamed via stdin\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n  - name: Second\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
        p[1], s[2], s[3], p[0], s[0], s[4]
    );
    let plan = psg_stdin(&base, &dir, &["plan", "-f", "-", "-o", "json"], &desired).await;
    let doc: Value = serde_json::from_str(plan.ok()).unwrap();
    assert_eq!(doc["summary"]["create"], 1, "{doc}");
    let apply = psg_stdin(&base, &dir, &["apply", "-f", "-", "--yes"], &desired).await;
    assert!(apply.ok().contains("created \"Second\""), "{}", apply.stdout);
    assert_eq!(emu.groups().len(), 2);

    // A problem in stdin is located as stdin:LINE.
    let bad = psg_stdin(&base, &dir, &["plan", "-f", "-"], "groups:\n  - name: x\n").await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("stdin:2:"), "{}", bad.stderr);

    let out = psg_stdin(&base, &dir, &["plan", "-f", "-", "--out", "-"], &desired).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    no_file_named_dash(&dir);
}

#[tokio::test]
async fn a_closed_pipe_exits_0_silently() {
    let emu = emulator(|b| b.groups(3000)).await;
    let mut child = psg_command(Some(&emu.base_url()))
        .args(["groups", "list", "--all", "-o", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("one line");
    assert!(first.starts_with('{'));
    drop(lines); // like `head -1`: the reader goes away
    let out = Run::from(child.wait_with_output().await.unwrap());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "", "silent");

    // Help into a closed pipe too.
    let mut child =
        psg_command(None).arg("--help").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = Run::from(child.wait_with_output().await.unwrap());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

/// A command that changes the tenant does not pass for a success when its
/// output goes away: exit 1, saying what happened.
#[tokio::test]
async fn a_closed_pipe_during_apply_is_not_a_success() {
    let emu = emulator(|b| b).await;
    let cat = emu.catalog();
    let dir = temp_dir("closed-apply");
    let file = dir.join("groups.yaml");
    std::fs::write(
        &file,
        format!(
            "groups:\n  - name: A\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
            cat.password_policy_ids[0], cat.source_ids[0], cat.source_ids[1]
        ),
    )
    .unwrap();
    let mut child = psg_command(Some(&emu.base_url()))
        .args(["apply", "-f", file.to_str().unwrap(), "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = Run::from(child.wait_with_output().await.unwrap());
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("stdout was closed"), "{}", out.stderr);
}

#[tokio::test]
async fn values_are_checked_with_their_range() {
    let limit = psg(None, &["groups", "list", "--limit", "-1"]).await;
    assert_eq!(limit.code, 2);
    assert!(
        limit.stderr.starts_with("error: invalid value '-1' for '--limit': 0..250\n"),
        "{}",
        limit.stderr
    );
    for (args, needle) in [
        (&["groups", "list", "--timeout", "0"][..], "'--timeout': 1..3600"),
        (&["groups", "list", "--timeout", "-5"], "'--timeout': 1..3600"),
        (&["groups", "list", "--max-attempts", "0"], "'--max-attempts': 1..100"),
        (&["--max-attempts", "-2", "groups", "list"], "'--max-attempts': 1..100"),
        (&["groups", "list", "--offset", "-1"], "'--offset': 0 or more"),
        (&["groups", "list", "--limit", "lots"], "'--limit': a whole number, 0..250"),
    ] {
        let out = psg(None, args).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
}

#[tokio::test]
async fn commands_without_a_tenant_hide_and_refuse_client_flags() {
    for (cmd, extra) in [("demo", &[][..]), ("completions", &["bash"][..]), ("emulator", &[][..])] {
        let mut help = vec![cmd];
        help.extend_from_slice(extra);
        help.push("--help");
        let text = psg(None, &help).await;
        for flag in ["--base-url", "--profile", "--output", "--timeout", "--max-attempts"] {
            assert!(!text.ok().contains(flag), "psg {cmd} --help shows {flag}");
        }
        for flags in [
            &["--base-url", "https://acme.api.identitynow.com"][..],
            &["--profile", "prod"],
            &["-o", "json"],
            &["--timeout", "5"],
            &["--max-attempts", "3"],
        ] {
            let mut args = vec![cmd];
            args.extend_from_slice(extra);
            args.extend_from_slice(flags);
            let out = psg(None, &args).await;
            assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
            assert!(
                out.stderr
                    .contains(&format!("psg {cmd} does not take {}", flags[0].replace("-o", "--output"))),
                "{args:?}: {}",
                out.stderr
            );
        }
    }
    // Completion scripts offer them only where they are accepted.
    let bash = psg(None, &["completions", "bash"]).await;
    let demo = bash.ok().split("psg__subcmd__demo)").nth(1).and_then(|t| t.lines().nth(1)).unwrap();
    assert!(!demo.contains("--base-url") && !demo.contains("--timeout"), "{demo}");
    let list = bash
        .stdout
        .split("psg__subcmd__groups__subcmd__list)")
        .nth(1)
        .and_then(|t| t.lines().nth(1))
        .unwrap();
    assert!(list.contains("--base-url") && list.contains("--timeout"), "{list}");
    // Still accepted where they matter.
    let out = psg(None, &["groups", "list", "--timeout", "5"]).await;
    assert!(out.stderr.contains("no tenant configured"), "{}", out.stderr);
}

/// Creates a group through the emulator's API (not through psg).
async fn create(base: &str, name: &str, emu: &psg_emulator::EmulatorHandle, n: usize) -> String {
    let cat = emu.catalog();
    let (p, s) = (&cat.password_policy_ids, &cat.source_ids);
    let run = psg(
        Some(base),
        &[
            "groups",
            "create",
            "--name",
            name,
            "--policy",
            &p[n % p.len()],
            "--source",
            &s[n % s.len()],
            "--source",
            &s[(n + 1) % s.len()],
            "--allow-duplicate-name",
            "-o",
            "json",
        ],
    )
    .await;
    serde_json::from_str::<Value>(run.ok()).unwrap()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn name_instead_of_id_for_get_update_delete() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let finance = create(&base, "Finance", &emu, 0).await;
    create(&base, "Twin", &emu, 1).await;
    create(&base, "Twin", &emu, 2).await;

    let got = psg(Some(&base), &["groups", "get", "--name", "Finance", "-o", "json"]).await;
    assert_eq!(serde_json::from_str::<Value>(got.ok()).unwrap()["id"], finance.as_str());

    for args in [&["groups", "get", "--name", "Twin"][..], &["groups", "get", "--name", "Nobody"]] {
        let out = psg(Some(&base), args).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    }
    let twin = psg(Some(&base), &["groups", "get", "--name", "Twin"]).await;
    assert!(twin.stderr.contains("2 groups are named \"Twin\""), "{}", twin.stderr);
    let nobody = psg(Some(&base), &["groups", "get", "--name", "Nobody"]).await;
    assert!(nobody.stderr.contains("no group is named \"Nobody\""), "{}", nobody.stderr);

    let cat = emu.catalog();
    let p = &cat.password_policy_ids;
    let updated = psg(
        Some(&base),
        &[
            "groups",
            "update",
            "--name",
            "Finance",
            "--new-name",
            "Finance apps",
            "--policy",
            &p[3],
            "-o",
            "json",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(updated.ok()).unwrap();
    assert_eq!((v["id"].as_str().unwrap(), v["name"].as_str().unwrap()), (finance.as_str(), "Finance apps"));
    assert_eq!(emu.groups().iter().find(|g| g.id == finance).unwrap().password_policy_id, p[3]);
    let twin = psg(Some(&base), &["groups", "update", "--name", "Twin", "--policy", &p[0]]).await;
    assert_eq!(twin.code, 2, "{}", twin.stderr);
    // The read before an update is reported as part of the update.
    let gone =
        psg(Some(&base), &["groups", "update", "2c9180887d9c0c5e017da4b4f3d20000", "--policy", &p[0]]).await;
    assert_eq!(gone.code, 1, "{}", gone.stderr);
    assert!(
        gone.stderr.starts_with("error: updating group 2c9180887d9c0c5e017da4b4f3d20000:"),
        "{}",
        gone.stderr
    );

    let deleted =
        psg(Some(&base), &["groups", "delete", "--name", "Finance apps", "--yes", "-o", "json"]).await;
    let v: Value = serde_json::from_str(deleted.ok()).unwrap();
    assert_eq!(v["deleted"], serde_json::json!([finance]));
    assert_eq!(emu.groups().len(), 2);
    let twin = psg(Some(&base), &["groups", "delete", "--name", "Twin", "--yes"]).await;
    assert_eq!(twin.code, 2, "{}", twin.stderr);
    assert_eq!(emu.groups().len(), 2, "nothing deleted when the name is ambiguous");
}

#[tokio::test]
async fn delete_tries_every_id_then_reports() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let a = create(&base, "A", &emu, 0).await;
    let b = create(&base, "B", &emu, 1).await;
    let missing = "2c9180887d9c0c5e017da4b4f3d20000";

    // The missing id comes first: the others are still tried.
    let out = psg(Some(&base), &["groups", "delete", missing, &a, "--yes", "-o", "json"]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!({"deleted": [a], "notFound": [missing], "failed": []}));
    assert!(out.stderr.contains("1 not found"), "{}", out.stderr);
    assert_eq!(emu.groups().len(), 1);

    let out =
        psg(Some(&base), &["groups", "delete", missing, &b, "--yes", "--ignore-not-found", "-o", "json"])
            .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!({"deleted": [b], "notFound": [missing], "failed": []}));
    assert!(emu.groups().is_empty());

    // Every request fails: each id is reported with its error, exit 1.
    let broken = emulator(|b| b.groups(2).faults("500=1".parse().unwrap(), 1)).await;
    let ids: Vec<String> = broken.groups().into_iter().map(|g| g.id).collect();
    let out = psg(
        Some(&broken.base_url()),
        // --timeout 1: each unsettled delete is read back for 2 s, not 60.
        &[
            "groups",
            "delete",
            &ids[0],
            &ids[1],
            "--yes",
            "--max-attempts",
            "1",
            "--timeout",
            "1",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{v}");
    assert_eq!(failed[1]["id"], ids[1].as_str());
    assert!(failed[0]["error"].as_str().unwrap().contains("500"), "{v}");
    let requests: u64 = broken
        .stats()
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("DELETE"))
        .flat_map(|(_, s)| s.values())
        .sum();
    assert_eq!(requests, 2, "both were tried");
}

#[tokio::test]
async fn a_partial_listing_says_so_on_stderr_in_every_format() {
    let emu = emulator(|b| b.groups(620)).await;
    let base = emu.base_url();
    for format in ["json", "yaml", "ndjson", "table", "wide"] {
        let out = psg(Some(&base), &["groups", "list", "-o", format]).await;
        out.ok();
        assert!(out.stderr.contains("250 of 620 groups; --all for every page"), "{format}: {}", out.stderr);
    }
    let all = psg(Some(&base), &["groups", "list", "--all", "-o", "ndjson"]).await;
    assert_eq!(all.ok().lines().count(), 620);
    assert!(!all.stderr.contains("of 620"), "{}", all.stderr);
    let whole = psg(Some(&base), &["groups", "list", "--offset", "600", "--limit", "50", "-o", "json"]).await;
    assert!(whole.stderr.contains("20 of 620 groups"), "{}", whole.stderr);
}

#[tokio::test]
async fn all_with_limit_uses_it_as_the_page_size() {
    let emu = emulator(|b| b.groups(30)).await;
    let out = psg(Some(&emu.base_url()), &["groups", "list", "--all", "--limit", "7", "-o", "ndjson"]).await;
    assert_eq!(out.ok().lines().count(), 30);
    let lists: u64 = emu
        .stats()
        .requests
        .iter()
        .filter(|(k, _)| k.starts_with("GET") && k.ends_with("password-sync-groups"))
        .flat_map(|(_, s)| s.values())
        .sum();
    assert!((5..=6).contains(&lists), "30 groups in pages of 7: {lists} list requests");
    let zero = psg(Some(&emu.base_url()), &["groups", "list", "--all", "--limit", "0"]).await;
    assert_eq!(zero.code, 2, "{}", zero.stderr);
}

/// A tiny API on 127.0.0.1 whose writes answer 400 with texts that end in
/// full stops, as ISC's do; reads answer one group. Returns its base URL.
async fn dotted_400_server() -> String {
    api_server("tok").await
}

/// The same small API, issuing `token` from its token endpoint.
async fn api_server(token: &str) -> String {
    canned_api(token, |first| {
        let group = r#"{"id":"g1","name":"Finance","passwordPolicyId":"p1","sourceIds":["s1","s2"]}"#;
        if first.starts_with("GET") && first.contains("password-sync-groups?") {
            ("200 OK", format!("[{group}]"))
        } else if first.starts_with("GET") {
            ("200 OK", group.to_string())
        } else {
            (
                "400 Bad Request",
                r#"{"detailCode":"400.1 Bad Request Content","trackingId":"t123","messages":[{"locale":"en-US","localeOrigin":"DEFAULT","text":"The request was syntactically correct but its content is semantically invalid."}],"causes":[{"locale":"en-US","localeOrigin":"DEFAULT","text":"sourceIds must name password-managed sources."}]}"#.to_string(),
            )
        }
    })
    .await
}

fn no_doubled_punctuation(text: &str) {
    for bad in ["..", ".;", ".)", ". (", ";;", ": :", ".:", "!.", "?."] {
        assert!(!text.contains(bad), "doubled punctuation {bad:?} in {text:?}");
    }
}

#[tokio::test]
async fn texts_of_a_400_have_no_doubled_punctuation_and_update_names_its_operation() {
    let base = dotted_400_server().await;
    let create = psg(
        Some(&base),
        &["groups", "create", "--name", "X", "--policy", "p", "--source", "a", "--source", "b"],
    )
    .await;
    assert_eq!(create.code, 1, "{}", create.stderr);
    assert!(
        create.stderr.contains("semantically invalid") && create.stderr.contains("t123"),
        "{}",
        create.stderr
    );
    no_doubled_punctuation(&create.stderr);

    let update = psg(Some(&base), &["groups", "update", "g1", "--policy", "p2"]).await;
    assert_eq!(update.code, 1, "{}", update.stderr);
    assert!(update.stderr.contains("updatePasswordSyncGroup"), "names the update: {}", update.stderr);
    assert!(!update.stderr.contains("getPasswordSyncGroup"), "{}", update.stderr);
    no_doubled_punctuation(&update.stderr);

    let dir = temp_dir("dotted");
    let file = dir.join("g.yaml");
    std::fs::write(&file, "groups:\n  - name: Finance\n    passwordPolicyId: p9\n    sourceIds: [s1, s2]\n")
        .unwrap();
    let apply =
        psg(Some(&base), &["apply", "-f", file.to_str().unwrap(), "--yes", "--max-attempts", "1"]).await;
    assert_eq!(apply.code, 1, "{}", apply.stderr);
    // Each change's outcome is a line on stdout as it happens.
    let failed =
        apply.stdout.lines().find(|l| l.starts_with("failed \"Finance\" (g1): ")).unwrap_or_default();
    assert!(failed.contains("update \"Finance\""), "names the group: {}\n{}", apply.stdout, apply.stderr);
    no_doubled_punctuation(failed);
    no_doubled_punctuation(&apply.stderr);
}

#[tokio::test]
async fn v_logs_one_line_per_http_request_and_vv_adds_retries_and_tokens() {
    let emu = emulator(|b| b.groups(600).faults("503=0.4".parse().unwrap(), 5)).await;
    let base = emu.base_url();
    let run =
        psg(Some(&base), &["-v", "groups", "list", "--all", "-o", "json", "--max-attempts", "20"]).await;
    run.ok();
    let lines: Vec<&str> = run.stderr.lines().filter(|l| l.contains("http request")).collect();
    let served: u64 = emu
        .stats()
        .requests
        .iter()
        .filter(|(route, _)| !route.contains("oauth"))
        .flat_map(|(_, by_status)| by_status.values())
        .sum();
    assert_eq!(lines.len() as u64, served, "one line per request the server saw:\n{}", run.stderr);
    assert!(emu.stats().faults.values().sum::<u64>() > 0, "some attempts failed");
    for line in &lines {
        for field in ["method=GET", "path=/beta/password-sync-groups?", "status=", "elapsed_ms=", "attempt="]
        {
            assert!(line.contains(field), "{field} missing in {line}");
        }
    }
    assert!(lines.iter().any(|l| l.contains("status=503")) && lines.iter().any(|l| l.contains("attempt=2")));
    assert_eq!(run.stderr.lines().count(), lines.len(), "nothing but request lines at -v:\n{}", run.stderr);

    let vv =
        psg(Some(&base), &["-vv", "groups", "list", "--all", "-o", "json", "--max-attempts", "20"]).await;
    vv.ok();
    for needle in ["http request", "retrying", "wait_ms=", "token request", "token obtained"] {
        assert!(vv.stderr.contains(needle), "-vv lacks {needle:?}:\n{}", vv.stderr);
    }
    for text in [&run.stderr, &vv.stderr] {
        assert!(!text.contains(DEMO_SECRET) && !text.to_lowercase().contains("bearer "), "secret in logs");
    }
}

#[tokio::test]
async fn auth_status_says_where_everything_came_from_and_never_the_secret() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let env = psg(Some(&base), &["auth", "status"]).await;
    let text = env.ok();
    let base_line = format!("Base URL:    {base}");
    for needle in [
        base_line.as_str(),
        "from environment (SAIL_*)",
        "API path:    /beta (from default)",
        "Client id:   psg-demo",
        "opaque (not a JWT)",
        "Status:      authenticated",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    assert!(!text.contains(DEMO_SECRET) && !env.stderr.contains(DEMO_SECRET));

    let v3 = psg(Some(&base), &["auth", "status", "--api-version", "v3", "-o", "json"]).await;
    let v: Value = serde_json::from_str(v3.ok()).unwrap();
    assert_eq!(
        (v["apiPath"].as_str(), v["apiVersionFrom"].as_str()),
        (Some("/v3"), Some("flag --api-version"))
    );
    assert_eq!(v["authenticated"], true);

    let dir = temp_dir("auth");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.dev]\nbase_url = \"{base}\"\nclient_id = \"psg-demo\"\nclient_secret = \"{DEMO_SECRET}\"\napi_version = \"v2025\"\n"),
    )
    .unwrap();
    chmod(&config, 0o600);
    let profile = Run::from(
        psg_command(None)
            .env("PSG_CONFIG", &config)
            .args(["--profile", "dev", "auth", "status"])
            .output()
            .await
            .unwrap(),
    );
    let text = profile.ok();
    assert!(text.contains(&format!("from profile dev ({})", config.display())), "{text}");
    assert!(text.contains("/v2025 (from profile dev"), "{text}");

    let secret = dir.join("secret");
    std::fs::write(&secret, DEMO_SECRET).unwrap();
    let flags = psg(
        None,
        &[
            "auth",
            "status",
            "--base-url",
            &base,
            "--client-id",
            "psg-demo",
            "--client-secret-file",
            secret.to_str().unwrap(),
        ],
    )
    .await;
    assert!(flags.ok().contains("from flags"), "{}", flags.stdout);

    let wrong = Run::from(
        psg_command(Some(&base))
            .env("SAIL_CLIENT_SECRET", "wrong-secret-xyz")
            .args(["auth", "status"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    assert!(
        wrong.stdout.contains("not authenticated") && !wrong.stdout.contains("wrong-secret-xyz"),
        "{}",
        wrong.stdout
    );

    let nothing = psg(None, &["auth", "status"]).await;
    assert_eq!(nothing.code, 1, "{}", nothing.stdout);
    assert!(nothing.stdout.contains("no tenant configured"), "{}", nothing.stdout);
}

#[tokio::test]
async fn auth_status_reads_a_jwt_without_printing_it() {
    use base64::Engine;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 720;
    let claims = format!(
        r#"{{"exp":{exp},"scope":["idn:password-sync-group:read","sp:scopes:default"],"client_id":"psg-demo"}}"#
    );
    let jwt = format!("{}.{}.c2lnbmF0dXJl", e.encode(r#"{"alg":"RS256","typ":"JWT"}"#), e.encode(claims));
    let base = api_server(&jwt).await;
    let run = psg(Some(&base), &["auth", "status"]).await;
    let text = run.ok();
    assert!(
        text.contains("Token:       JWT, expires") && (text.contains("(in 11m") || text.contains("(in 12m")),
        "{text}"
    );
    assert!(text.contains("Scopes:      idn:password-sync-group:read sp:scopes:default"), "{text}");
    let json = psg(Some(&base), &["auth", "status", "-o", "json", "-vv"]).await;
    let v: Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(v["token"]["kind"], "jwt");
    assert_eq!(v["token"]["scopes"][0], "idn:password-sync-group:read");
    for out in [&run.stdout, &run.stderr, &json.stdout, &json.stderr] {
        assert!(!out.contains(&jwt) && !out.contains(&jwt[..20]), "the token was printed: {out}");
        assert!(!out.contains(DEMO_SECRET));
    }
}

fn chmod(path: &std::path::Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

#[cfg(unix)]
#[tokio::test]
async fn a_profile_file_with_secrets_readable_by_others_gets_one_warning() {
    let emu = emulator(|b| b.groups(1)).await;
    let dir = temp_dir("perm");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.dev]\nbase_url = \"{}\"\nclient_id = \"psg-demo\"\nclient_secret = \"{DEMO_SECRET}\"\n",
            emu.base_url()
        ),
    )
    .unwrap();
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        async move { Run::from(psg_command(None).env("PSG_CONFIG", &config).args(args).output().await.unwrap()) }
    };
    for mode in [0o644, 0o640, 0o604] {
        chmod(&config, mode);
        let out = run(&["--profile", "dev", "groups", "list", "-o", "json"]).await;
        out.ok();
        let warnings: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
        assert_eq!(warnings.len(), 1, "mode {mode:o}: {}", out.stderr);
        assert!(
            warnings[0].contains(&format!("chmod 600 {}", config.display()))
                && !warnings[0].contains(DEMO_SECRET),
            "{}",
            warnings[0]
        );
    }
    chmod(&config, 0o600);
    let out = run(&["--profile", "dev", "groups", "list", "-o", "json"]).await;
    out.ok();
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[tokio::test]
async fn a_401_from_the_token_endpoint_names_the_profile_it_came_from() {
    let emu = emulator(|b| b).await;
    let dir = temp_dir("profile-401");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.prod]\nbase_url = \"{}\"\nclient_id = \"psg-demo\"\nclient_secret = \"wrong-secret-xyz\"\n",
            emu.base_url()
        ),
    )
    .unwrap();
    chmod(&config, 0o600);
    let out = Run::from(
        psg_command(None)
            .env("PSG_CONFIG", &config)
            .args(["--profile", "prod", "groups", "list"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("profile 'prod' in {}", config.display()))
            && !out.stderr.contains("SAIL_CLIENT"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong-secret-xyz"));
}

#[tokio::test]
async fn a_base_url_with_an_api_path_gets_a_hint() {
    let emu = emulator(|b| b.groups(1)).await;
    let base = emu.base_url();
    let base = base.trim_end_matches('/');
    for path in ["/v3", "/v2025/", "/V3"] {
        let out = psg(Some(&format!("{base}{path}")), &["groups", "list"]).await;
        assert_eq!(out.code, 2, "{path}: {}", out.stderr);
        assert!(
            out.stderr.contains("ends in the API path") && out.stderr.contains("--api-version"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(emu.stats().tokens_issued, 0, "nothing was sent");
    // The API path of the version in use is simply dropped.
    let out = psg(Some(&format!("{base}/beta")), &["groups", "list", "-o", "json"]).await;
    assert_eq!(serde_json::from_str::<Value>(out.ok()).unwrap().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn demo_works_with_proxy_variables_pointing_at_a_closed_port() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let proxy = format!("http://127.0.0.1:{closed}");
    let out = Run::from(
        psg_command(None)
            .env("HTTP_PROXY", &proxy)
            .env("HTTPS_PROXY", &proxy)
            .env("http_proxy", &proxy)
            .env("https_proxy", &proxy)
            .env("ALL_PROXY", &proxy)
            .arg("demo")
            .output()
            .await
            .unwrap(),
    );
    assert!(out.ok().contains("Done:"), "{}", out.stdout);
    assert!(!out.stderr.contains("proxy"), "{}", out.stderr);
}

#[tokio::test]
async fn a_401_from_the_api_names_where_the_token_came_from() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let dir = temp_dir("api-401");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.stale]\nbase_url = \"{base}\"\naccess_token = \"stale-token-xyz\"\n"),
    )
    .unwrap();
    chmod(&config, 0o644);
    let out = Run::from(
        psg_command(None)
            .env("PSG_CONFIG", &config)
            .args(["--profile", "stale", "groups", "list"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 401"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("access_token of profile 'stale' in {}", config.display())),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("warning:").count(), 1, "the permission warning once: {}", out.stderr);
    assert!(!out.stderr.contains("stale-token-xyz"));

    let env = Run::from(
        psg_command(None)
            .env("SAIL_BASE_URL", &base)
            .env("SAIL_ACCESS_TOKEN", "stale-token-xyz")
            .args(["groups", "list"])
            .output()
            .await
            .unwrap(),
    );
    assert_eq!(env.code, 1, "{}", env.stderr);
    assert!(env.stderr.contains("(they came from SAIL_ACCESS_TOKEN)"), "{}", env.stderr);
}
