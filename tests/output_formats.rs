//! Every `-o` value of every command, through the real binary: honoured
//! (the output parses as what it says) or refused before anything is sent.
//! Names with bidi controls, zero-width and no-break spaces are escaped in
//! text and exact in JSON.

use psg_e2e::*;
use serde_json::Value;

fn parses_as(format: &str, text: &str, what: &str) {
    match format {
        "json" => {
            serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
        }
        "ndjson" => {
            assert!(!text.trim().is_empty(), "{what}: no line");
            for line in text.lines() {
                serde_json::from_str::<Value>(line)
                    .unwrap_or_else(|e| panic!("{what}: not one JSON line ({e}): {line:?}"));
            }
        }
        "yaml" => {
            serde_norway::from_str::<serde_norway::Value>(text)
                .unwrap_or_else(|e| panic!("{what}: not YAML ({e}): {text}"));
            assert!(
                serde_json::from_str::<Value>(text).is_err() || text.trim() == "[]",
                "{what}: JSON, not YAML: {text}"
            );
        }
        _ => {
            assert!(
                text.lines().next().unwrap_or_default().starts_with("ID") || !text.starts_with('{'),
                "{what}: {text}"
            );
            assert!(serde_json::from_str::<Value>(text).is_err(), "{what}: JSON, not a table: {text}");
        }
    }
}

#[tokio::test]
async fn every_output_format_of_every_listing_command_is_what_it_says() {
    let emu = emulator(|b| b.groups(3)).await;
    let base = emu.base_url();
    let id = emu.groups()[0].id.clone();
    let commands: [&[&str]; 5] = [
        &["groups", "list"],
        &["groups", "get", &id],
        &["policies", "list"],
        &["sources", "list"],
        &["auth", "status"],
    ];
    for args in commands {
        for format in ["table", "wide", "json", "yaml", "ndjson"] {
            let mut all = args.to_vec();
            all.extend(["-o", format]);
            let run = psg(Some(&base), &all).await;
            let what = all.join(" ");
            parses_as(format, run.ok(), &what);
            if format == "ndjson" && args[0] == "auth" {
                assert_eq!(
                    run.stdout.lines().count(),
                    1,
                    "auth status -o ndjson is one line: {}",
                    run.stdout
                );
            }
        }
    }
}

#[tokio::test]
async fn export_writes_json_with_o_json_and_refuses_formats_it_cannot_write() {
    let emu = emulator(|b| b.groups(2)).await;
    let base = emu.base_url();
    let json = psg(Some(&base), &["export", "-o", "json"]).await;
    let doc: Value = serde_json::from_str(json.ok()).expect("export -o json writes JSON");
    assert_eq!(doc["groups"].as_array().unwrap().len(), 2, "{doc}");
    // The JSON file plans as the tenant: nothing to change.
    let file = temp_dir("export-json").join("groups.json");
    psg(Some(&base), &["export", "-o", "json", "-f", file.to_str().unwrap()]).await.ok();
    let plan = psg(Some(&base), &["plan", "-f", file.to_str().unwrap(), "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let portable = psg(Some(&base), &["export", "--portable", "-o", "json"]).await;
    let doc: Value = serde_json::from_str(portable.ok()).unwrap();
    assert!(doc["groups"][0]["passwordPolicy"].is_string(), "{doc}");

    let yaml = psg(Some(&base), &["export", "-o", "yaml"]).await;
    assert!(
        yaml.ok().starts_with(
            "# yaml-language-server: $schema=psg-desired-state.schema.json\n# Password sync groups"
        ) && yaml.stdout.contains("\ngroups:\n"),
        "{}",
        yaml.stdout
    );
    let before = emu.stats().requests.values().flat_map(|s| s.values()).sum::<u64>();
    for format in ["table", "wide", "ndjson"] {
        let run = psg(Some(&base), &["export", "-o", format]).await;
        assert_eq!(run.code, 2, "{format}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("-o yaml (the default) or -o json, not -o {format}")),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    let after = emu.stats().requests.values().flat_map(|s| s.values()).sum::<u64>();
    assert_eq!(before, after, "refused before anything was sent");
}

#[tokio::test]
async fn invisible_characters_in_names_are_escaped_in_text_and_exact_in_json() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let name = "Pay\u{202e}roll\u{200b} EU\u{a0}1\u{2066}x\u{2069}";
    let created = psg(
        Some(&base),
        &[
            "groups",
            "create",
            "--name",
            name,
            "--policy",
            &cat.password_policy_ids[0],
            "--source",
            &cat.source_ids[0],
            "--source",
            &cat.source_ids[1],
        ],
    )
    .await;
    created.ok();
    let table = psg(Some(&base), &["groups", "list", "-o", "table"]).await;
    let text = table.ok();
    assert!(text.contains("Pay\\u{202e}roll\\u{200b} EU\\u{a0}1\\u{2066}x\\u{2069}"), "{text}");
    for c in ['\u{202e}', '\u{200b}', '\u{a0}', '\u{2066}', '\u{2069}'] {
        assert!(!text.contains(c), "{:?} reached the terminal: {text:?}", c);
    }
    let json: Value =
        serde_json::from_str(psg(Some(&base), &["groups", "list", "-o", "json"]).await.ok()).unwrap();
    assert_eq!(json[0]["name"], name);
    // The exported YAML shows them escaped too, and reads back exactly.
    let file = temp_dir("invisible").join("groups.yaml");
    psg(Some(&base), &["export", "-f", file.to_str().unwrap()]).await.ok();
    let yaml = std::fs::read_to_string(&file).unwrap();
    assert!(yaml.contains("\\u202e") && !yaml.contains('\u{202e}'), "{yaml}");
    let plan = psg(Some(&base), &["plan", "-f", file.to_str().unwrap(), "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

/// Names that YAML 1.1 readers (PyYAML, Ansible, older yq) take for a time,
/// a date, a boolean or a merge key are written quoted by `export`, read back
/// exactly by psg (the plan of the export is empty) and, where the machine
/// has PyYAML, by PyYAML as the same strings.
#[tokio::test]
async fn export_quotes_what_yaml_1_1_would_misread() {
    let emu = emulator(|b| b).await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let names = ["12:30", "2001-01-01", "y", "N", "<<", "on", "0755", "1e3", "~"];
    for (i, name) in names.iter().enumerate() {
        let (a, b) = (&cat.source_ids[i % 3], &cat.source_ids[3]);
        let policy = &cat.password_policy_ids[0];
        let args = ["groups", "create", "--name", name, "--policy", policy, "--source", a, "--source", b];
        psg(Some(&base), &args).await.ok();
    }
    let file = temp_dir("yaml11").join("groups.yaml");
    psg(Some(&base), &["export", "-f", file.to_str().unwrap()]).await.ok();
    let yaml = std::fs::read_to_string(&file).unwrap();
    for name in names {
        assert!(yaml.contains(&format!("name: \"{name}\"\n")), "{name:?} is not quoted:\n{yaml}");
    }
    let plan = psg(Some(&base), &["plan", "-f", file.to_str().unwrap(), "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    let has_pyyaml = std::process::Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pyyaml {
        eprintln!("no python3 with PyYAML here: the YAML 1.1 read-back was not run");
        return;
    }
    // A name PyYAML misread is a date or a number, or (`<<`) makes the
    // document fail: repr() shows what it became; any failure fails the test.
    let script = "import json, sys, yaml\nprint(json.dumps([g['name'] for g in yaml.safe_load(open(sys.argv[1]))['groups']], default=repr))";
    let out = std::process::Command::new("python3").args(["-c", script]).arg(&file).output().unwrap();
    assert!(out.status.success(), "PyYAML cannot read the export: {}", String::from_utf8_lossy(&out.stderr));
    let mut read: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut want: Vec<Value> = names.iter().map(|s| Value::from(*s)).collect();
    read.sort_by_key(|v| v.to_string());
    want.sort_by_key(|v| v.to_string());
    assert_eq!(read, want, "PyYAML reads other names");
}

/// `plan`, `apply` and `schema` honour each `-o` they document and refuse
/// the others (exit 2) before anything is sent or written.
#[tokio::test]
async fn plan_apply_and_schema_honour_or_refuse_every_format() {
    let emu = emulator(|b| b.groups(1)).await;
    let base = emu.base_url();
    let cat = emu.catalog();
    let file = temp_dir("formats-plan").join("groups.yaml");
    let desired = format!(
        "groups:\n  - name: Formats\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
        cat.password_policy_ids[0], cat.source_ids[0], cat.source_ids[1]
    );
    std::fs::write(&file, desired).unwrap();
    let f = file.to_str().unwrap();
    for format in ["table", "wide", "json", "yaml", "ndjson"] {
        let run = psg(Some(&base), &["plan", "-f", f, "-o", format]).await;
        let text = run.ok();
        match format {
            "json" => assert!(serde_json::from_str::<Value>(text).unwrap()["changes"].is_array(), "{text}"),
            "ndjson" => {
                assert_eq!(text.lines().count(), 1, "{text}");
                assert!(serde_json::from_str::<Value>(text).unwrap()["changes"].is_array(), "{text}");
            }
            "yaml" => {
                let doc: serde_norway::Value = serde_norway::from_str(text).unwrap();
                assert!(doc.get("changes").is_some_and(|p| p.is_sequence()), "{text}");
            }
            _ => {
                assert!(
                    serde_json::from_str::<Value>(text).is_err(),
                    "plan -o {format} printed JSON: {text}"
                );
                assert!(text.contains("Formats"), "{text}");
            }
        }
    }
    let groups_before = emu.groups().len();
    for format in ["wide", "yaml", "ndjson"] {
        let run = psg(Some(&base), &["apply", "-f", f, "--yes", "-o", format]).await;
        assert_eq!(run.code, 2, "apply -o {format}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(&format!("-o {format} is not supported")), "{}", run.stderr);
    }
    assert_eq!(emu.groups().len(), groups_before, "a refused apply wrote nothing");
    let json = psg(Some(&base), &["apply", "-f", f, "--yes", "-o", "json"]).await;
    serde_json::from_str::<Value>(json.ok())
        .unwrap_or_else(|e| panic!("apply -o json: {e}: {}", json.stdout));
    assert_eq!(emu.groups().len(), groups_before + 1, "apply -o json created the group");
    let table = psg(Some(&base), &["apply", "-f", f, "--yes", "-o", "table"]).await;
    assert!(
        serde_json::from_str::<Value>(table.ok()).is_err(),
        "apply -o table printed JSON: {}",
        table.stdout
    );
    assert!(!table.stdout.trim().is_empty(), "apply -o table says what it did");

    let schema = psg(None, &["schema", "-o", "json"]).await;
    assert!(serde_json::from_str::<Value>(schema.ok()).unwrap()["$schema"].is_string());
    for format in ["table", "wide", "yaml", "ndjson"] {
        let run = psg(None, &["schema", "-o", format]).await;
        assert_eq!(run.code, 2, "schema -o {format}: {}", run.stderr);
        assert!(run.stderr.contains(&format!("not -o {format}")), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}
