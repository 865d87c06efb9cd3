//! The JSON Schema of the desired-state file (`psg schema`), for editors:
//! completion, hover text and errors as one types, before `psg plan` runs.
//!
//! The schema is derived (with `schemars`) from the types below, whose keys
//! are the keys [`crate::gitops::desired`] reads ([`GROUP_KEYS`] and
//! [`TOP_KEYS`] are shared, and a test keeps the schema's properties equal
//! to them). What a derive cannot say is added in [`schema`] and listed
//! there: one of `passwordPolicyId`/`passwordPolicy` and of
//! `sourceIds`/`sources`, non-blank strings, `x-…` top-level keys. The
//! reader stays the authority (it also checks duplicate names and renames
//! across entries, which a schema cannot); the schema never accepts less.

use schemars::JsonSchema;
use serde_json::{Value, json};

/// The keys a group entry may have, as the reader allows them.
pub const GROUP_KEYS: [&str; 6] =
    ["name", "passwordPolicyId", "passwordPolicy", "sourceIds", "sources", "renamedFrom"];

/// The top-level keys (besides `x-…`), as the reader allows them.
pub const TOP_KEYS: [&str; 2] = ["version", "groups"];

/// The file name `psg export` points its `$schema` line at by default, and
/// the one the README suggests for `psg schema --out`.
pub const DEFAULT_SCHEMA_FILE: &str = "psg-desired-state.schema.json";

/// The `yaml-language-server` line `psg export` writes first.
pub fn modeline(reference: &str) -> String {
    format!("# yaml-language-server: $schema={reference}\n")
}

/// Checks `--schema-ref`: one line without spaces or control characters (it
/// ends a YAML comment line, which it must not break).
pub fn reference(reference: &str) -> Result<String, crate::failure::Failure> {
    if reference.is_empty() || reference.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(crate::failure::Failure::usage(format!(
            "--schema-ref {} must be a file name or URL without spaces or control characters",
            crate::output::quoted(reference)
        )));
    }
    Ok(reference.to_string())
}

/// Password sync groups as code: the file `psg export` writes and `psg plan` / `psg apply` read.
/// Groups are matched by name.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "psg desired-state file")]
#[allow(dead_code)] // only its schema is used
struct DesiredStateFile {
    /// The file format version: 1 (optional).
    version: Option<u8>,
    /// The groups the tenant should have, each keyed by its name. With `psg apply --prune`,
    /// groups of the tenant not listed here are deleted.
    groups: Vec<GroupEntry>,
}

/// One password sync group. Give the policy as `passwordPolicyId` or `passwordPolicy` (by name),
/// and the sources as `sourceIds` or `sources` (by name).
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // only its schema is used
struct GroupEntry {
    /// The group's name: the key groups are matched by (unique in the file).
    name: String,
    /// The id of the group's password policy.
    password_policy_id: Option<String>,
    /// The name of the group's password policy, resolved in the tenant the file is applied to
    /// (instead of `passwordPolicyId`).
    password_policy: Option<String>,
    /// The ids of the group's sources: two or more, each once.
    source_ids: Option<Vec<String>>,
    /// The names of the group's sources, resolved in the tenant the file is applied to
    /// (instead of `sourceIds`): two or more, each once.
    sources: Option<Vec<String>>,
    /// The name the group has in the tenant today: it is renamed to `name`, keeping its id.
    renamed_from: Option<String>,
}

/// A string with something other than white space in it. psg reads every
/// scalar as text (`name: 2024` is the name "2024"), so numbers and booleans
/// are allowed too: an editor must not mark what psg accepts.
fn non_blank(schema: &mut Value) {
    schema["type"] = json!(["string", "number", "boolean"]);
    schema["minLength"] = json!(1);
    schema["pattern"] = json!("\\S");
}

/// The JSON Schema (draft 07) of the desired-state file.
pub fn schema() -> Value {
    let settings = schemars::r#gen::SchemaSettings::draft07().with(|s| {
        // An optional key is left out, never null: the reader refuses null.
        s.option_nullable = false;
        s.option_add_null_type = false;
    });
    let root = settings.into_generator().into_root_schema_for::<DesiredStateFile>();
    let mut schema = serde_json::to_value(root).expect("a schema serialises");
    schema["$id"] = json!("https://psg.invalid/schemas/desired-state-v1.json");
    // What the derive cannot say, added here:
    // - `version` is 1, as a number or the string "1" (the reader reads both);
    schema["properties"]["version"] = json!({
        "description": schema["properties"]["version"]["description"],
        "enum": [1, "1"],
    });
    // - `groups: ` (null) is an empty list to the reader;
    schema["properties"]["groups"]["type"] = json!(["array", "null"]);
    // - top-level `x-…` keys hold anchors and are ignored.
    schema["patternProperties"] = json!({ "^x-": {} });
    let group = &mut schema["definitions"]["GroupEntry"];
    for key in ["name", "passwordPolicyId", "passwordPolicy", "renamedFrom"] {
        non_blank(&mut group["properties"][key]);
    }
    for key in ["sourceIds", "sources"] {
        let list = &mut group["properties"][key];
        list["minItems"] = json!(2);
        list["uniqueItems"] = json!(true);
        non_blank(&mut list["items"]);
    }
    // - exactly one form of the policy and one of the sources.
    group["allOf"] = json!([
        { "oneOf": [{ "required": ["passwordPolicyId"] }, { "required": ["passwordPolicy"] }] },
        { "oneOf": [{ "required": ["sourceIds"] }, { "required": ["sources"] }] },
    ]);
    schema
}

/// Checks `-o` for `psg schema`: a JSON Schema is JSON (`-o json` or nothing); anything else is refused.
pub fn format(output: Option<crate::cli::OutputFormat>) -> Result<(), crate::failure::Failure> {
    match output {
        None | Some(crate::cli::OutputFormat::Json) => Ok(()),
        Some(other) => Err(crate::failure::Failure::usage(format!(
            "psg schema writes a JSON Schema: -o json (the default), not -o {}",
            clap::ValueEnum::to_possible_value(&other).map(|v| v.get_name().to_string()).unwrap_or_default()
        ))),
    }
}

/// The schema as `psg schema` prints it: pretty JSON and a newline.
pub fn text() -> String {
    format!("{}\n", serde_json::to_string_pretty(&schema()).expect("plain data"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::desired;

    fn validator() -> jsonschema::Validator {
        jsonschema::validator_for(&schema()).expect("the schema is a valid schema")
    }

    /// The document the editor sees: YAML (or JSON) as data, merge keys applied.
    fn data(text: &str) -> Value {
        let mut value: serde_norway::Value = serde_norway::from_str(text).expect("YAML");
        value.apply_merge().expect("merge keys");
        serde_json::to_value(value).expect("JSON-compatible")
    }

    fn schema_accepts(text: &str) -> bool {
        validator().is_valid(&data(text))
    }

    fn keys(object: &Value) -> Vec<String> {
        let mut keys: Vec<String> = object.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn schema_keys_are_the_readers_keys() {
        let schema = schema();
        assert_eq!(keys(&schema["properties"]), sorted(&TOP_KEYS));
        assert_eq!(keys(&schema["definitions"]["GroupEntry"]["properties"]), sorted(&GROUP_KEYS));
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["definitions"]["GroupEntry"]["additionalProperties"], json!(false));
        assert_eq!(schema["required"], json!(["groups"]));
        assert_eq!(schema["definitions"]["GroupEntry"]["required"], json!(["name"]));
    }

    /// Every desired-state example in the README, the changelog, docs/ and the reader's doc
    /// comment (a fenced block with `groups:`, or the output of `cat` in a console block).
    fn documented_examples() -> Vec<(String, String)> {
        let mut sources = vec![
            ("README.md".to_string(), include_str!("../../../../README.md").to_string()),
            ("CHANGELOG.md".to_string(), include_str!("../../../../CHANGELOG.md").to_string()),
            // The reader's own doc example (`//! ` lines).
            (
                "src/gitops/desired.rs".to_string(),
                include_str!("desired.rs")
                    .lines()
                    .filter_map(|l| l.strip_prefix("//! ").or_else(|| (l == "//!").then_some("")))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ];
        let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs");
        for entry in std::fs::read_dir(docs).expect("docs/") {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                sources.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
        let mut examples = Vec::new();
        for (file, text) in sources {
            let mut lines = text.lines().enumerate();
            while let Some((at, line)) = lines.next() {
                let Some(lang) = line.strip_prefix("```") else { continue };
                let lang = lang.trim().to_string();
                let body: Vec<&str> =
                    lines.by_ref().map(|(_, l)| l).take_while(|l| !l.starts_with("```")).collect();
                let block = match lang.as_str() {
                    "yaml" | "json" => body.join("\n"),
                    // `$ cat groups.yaml` and the lines up to the next prompt.
                    "console" => body
                        .iter()
                        .skip_while(|l| !(l.starts_with("$ cat ") && l.ends_with(".yaml")))
                        .skip(1)
                        .take_while(|l| !l.starts_with("$ "))
                        .copied()
                        .collect::<Vec<_>>()
                        .join("\n"),
                    _ => continue,
                };
                if block.lines().any(|l| l.starts_with("groups:") || l.contains("\"groups\"")) {
                    examples.push((format!("{file}:{}", at + 1), block));
                }
            }
        }
        examples
    }

    #[test]
    fn every_documented_example_is_valid_for_the_reader_and_the_schema() {
        let examples = documented_examples();
        assert!(examples.len() >= 3, "found {examples:?}");
        assert!(examples.iter().any(|(at, _)| at.starts_with("src/gitops/desired.rs")), "{examples:?}");
        let validator = validator();
        for (at, text) in examples {
            assert!(desired::parse(&at, &text).is_ok(), "{at}: {:?}", desired::parse(&at, &text));
            let errors: Vec<String> = validator.iter_errors(&data(&text)).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{at}: {errors:?}\n{text}");
        }
    }

    fn group(id: &str, name: &str, policy: &str, sources: &[&str]) -> crate::gitops::tenant::Group {
        crate::gitops::tenant::Group {
            id: id.into(),
            fields: crate::gitops::tenant::Fields {
                name: name.into(),
                password_policy_id: policy.into(),
                source_ids: sources.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    #[test]
    fn exports_are_valid_for_the_schema_with_their_schema_line() {
        let groups = [
            group("1", "Finance", "p1", &["s1", "s2"]),
            group("2", "12:30", "p2", &["s2", "s3"]),
            group("3", "  y ", "p2", &["s1", "s3"]),
        ];
        let mut names = crate::gitops::resolve::Names::default();
        names.insert_policy("p1", "Corporate");
        names.insert_source("s1", "Active Directory");
        names.insert_source("s2", "Workday");
        let line = modeline(DEFAULT_SCHEMA_FILE);
        let validator = validator();
        for text in [desired::render(&groups), desired::render_portable(&groups, &names)] {
            let text = format!("{line}{text}");
            assert!(desired::parse("x", &text).is_ok());
            let errors: Vec<String> = validator.iter_errors(&data(&text)).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{errors:?}\n{text}");
        }
        for doc in [desired::document(&groups), desired::portable_document(&groups, &names)] {
            assert!(validator.is_valid(&doc), "{doc}");
        }
    }

    /// Files both the reader and the schema refuse.
    const REFUSED: [(&str, &str); 14] = [
        ("unknown key", "groups:\n- name: A\n  passwordPolicyId: p\n  sourceIds: [a, b]\n  colour: red\n"),
        ("unknown top key", "groups: []\nextra: 1\n"),
        ("server field", "groups:\n- id: x\n  name: A\n  passwordPolicyId: p\n  sourceIds: [a, b]\n"),
        (
            "both policy forms",
            "groups:\n- name: A\n  passwordPolicyId: p\n  passwordPolicy: P\n  sourceIds: [a, b]\n",
        ),
        (
            "both source forms",
            "groups:\n- name: A\n  passwordPolicyId: p\n  sourceIds: [a, b]\n  sources: [A, B]\n",
        ),
        ("no policy", "groups:\n- name: A\n  sourceIds: [a, b]\n"),
        ("no sources", "groups:\n- name: A\n  passwordPolicy: P\n"),
        ("no name", "groups:\n- passwordPolicyId: p\n  sourceIds: [a, b]\n"),
        ("a non-string name", "groups:\n- name: [x]\n  passwordPolicyId: p\n  sourceIds: [a, b]\n"),
        ("a blank name", "groups:\n- name: '  '\n  passwordPolicyId: p\n  sourceIds: [a, b]\n"),
        ("one source", "groups:\n- name: A\n  passwordPolicyId: p\n  sourceIds: [a]\n"),
        ("a source twice", "groups:\n- name: A\n  passwordPolicyId: p\n  sources: [a, a]\n"),
        ("version 2", "version: 2\ngroups: []\n"),
        ("no groups", "version: 1\n"),
    ];

    #[test]
    fn the_schema_refuses_what_the_reader_refuses() {
        for (what, text) in REFUSED {
            assert!(desired::parse("f.yaml", text).is_err(), "the reader accepts {what}");
            assert!(!schema_accepts(text), "the schema accepts {what}:\n{text}");
        }
    }

    #[test]
    fn the_schema_accepts_what_the_reader_accepts() {
        for text in [
            "groups: []\n",
            "groups:\n",
            "version: '1'\ngroups: []\n",
            "version: 1\nx-a: &a {passwordPolicy: P}\ngroups:\n- <<: *a\n  name: A\n  sources: [S, T]\n  renamedFrom: B\n",
            "{\"groups\": [{\"name\": \"A\", \"passwordPolicyId\": \"p\", \"sourceIds\": [\"1\", \"2\"]}]}",
            // Scalars are text to psg: a year as a name, numbers as ids.
            "groups:\n- name: 2024\n  passwordPolicyId: 7\n  sourceIds: [1, 2]\n  renamedFrom: true\n",
        ] {
            assert!(desired::parse("f", text).is_ok(), "{text}");
            assert!(schema_accepts(text), "{text}");
        }
    }
}
