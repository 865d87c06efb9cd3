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
