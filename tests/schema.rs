//! `psg schema` through the real binary: the schema it writes validates every
//! file `psg export` writes (with an independent validator, the `jsonschema`
//! crate), each export's first line points at it, and a wrong file is refused
//! by the schema and by `psg plan` alike.

use psg_e2e::{emulator, psg, temp_dir};
use serde_json::Value;

/// The document an editor sees in a YAML file: its data as JSON.
fn data(text: &str) -> Value {
    let mut value: serde_norway::Value = serde_norway::from_str(text).expect("YAML");
    value.apply_merge().expect("merge keys");
    serde_json::to_value(value).expect("JSON-compatible")
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[tokio::test]
async fn every_export_validates_against_the_written_schema_and_wrong_files_are_refused_by_both() {
    let emu = emulator(|b| b.groups(4)).await;
    let base = emu.base_url();
    let dir = temp_dir("schema");
    let schema_file = dir.join("psg-desired-state.schema.json");
    let written = psg(None, &["schema", "--out", schema_file.to_str().unwrap()]).await;
    written.ok();
    assert!(written.stderr.contains("wrote "), "{}", written.stderr);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&schema_file).unwrap()).unwrap();
    // stdout and --out are the same schema.
    let printed: Value = serde_json::from_str(psg(None, &["schema"]).await.ok()).unwrap();
    assert_eq!(printed, schema);
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    // -o json is the schema; other formats are refused before anything is written.
    let json: Value = serde_json::from_str(psg(None, &["schema", "-o", "json"]).await.ok()).unwrap();
    assert_eq!(json, schema);
    for format in ["yaml", "table", "wide", "ndjson"] {
        let run = psg(None, &["schema", "-o", format]).await;
        assert_eq!(run.code, 2, "{format}: {}", run.stdout);
        assert!(run.stderr.contains(&format!("-o json (the default), not -o {format}")), "{}", run.stderr);
    }

    for (args, file) in [
        (&["export"][..], "ids.yaml"),
        (&["export", "--portable"][..], "portable.yaml"),
        (&["export", "-o", "json"][..], "ids.json"),
        (&["export", "--portable", "-o", "json"][..], "portable.json"),
    ] {
        let path = dir.join(file);
        let mut all = args.to_vec();
        all.extend(["--file", path.to_str().unwrap()]);
        psg(Some(&base), &all).await.ok();
        let text = std::fs::read_to_string(&path).unwrap();
        if file.ends_with(".yaml") {
            assert_eq!(
                text.lines().next(),
                Some("# yaml-language-server: $schema=psg-desired-state.schema.json"),
                "{file}"
            );
        }
        let doc = data(&text);
        assert_eq!(doc["groups"].as_array().map(Vec::len), Some(4), "{file}: {text}");
        let found = errors(&validator, &doc);
        assert!(found.is_empty(), "{file}: {found:?}\n{text}");
        // And psg reads it back: nothing to change.
        let plan = psg(Some(&base), &["plan", "-f", path.to_str().unwrap(), "--detailed-exitcode"]).await;
        assert_eq!(plan.code, 0, "{file}: {}{}", plan.stdout, plan.stderr);
    }

    // --schema-ref names another file (or a URL); one that would break the comment line is refused.
    let out = psg(Some(&base), &["export", "--schema-ref", "https://example.invalid/psg.json"]).await;
    assert!(out.ok().starts_with("# yaml-language-server: $schema=https://example.invalid/psg.json\n"));
    let bad = psg(Some(&base), &["export", "--schema-ref", "a b"]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--schema-ref"), "{}", bad.stderr);

    // Files the reader refuses, the schema refuses too.
    let exported = std::fs::read_to_string(dir.join("ids.yaml")).unwrap();
    let portable = std::fs::read_to_string(dir.join("portable.yaml")).unwrap();
    let wrong = [
        ("unknown key", exported.replacen("  passwordPolicyId:", "  colour: red\n  passwordPolicyId:", 1)),
        (
            "both policy forms",
            exported.replacen("  passwordPolicyId:", "  passwordPolicy: Corporate\n  passwordPolicyId:", 1),
        ),
        ("a non-string name", portable.replacen("- name: ", "- name: [x]\n  renamedFrom: ", 1)),
    ];
    for (what, text) in wrong {
        assert!(!errors(&validator, &data(&text)).is_empty(), "the schema accepts {what}:\n{text}");
        let path = dir.join("wrong.yaml");
        std::fs::write(&path, &text).unwrap();
        let plan = psg(Some(&base), &["plan", "-f", path.to_str().unwrap()]).await;
        assert_eq!(plan.code, 2, "psg reads {what}: {}{}", plan.stdout, plan.stderr);
        assert!(plan.stderr.contains("wrong.yaml:"), "{what}: {}", plan.stderr);
    }
}
