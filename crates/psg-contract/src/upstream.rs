//! Fixtures derived mechanically from the examples in SailPoint's published
//! specifications (`recordedFrom: upstream-example`).
//!
//! For every operation of every reference spec psg speaks (the slices in
//! `../shared/reference`, see [`REFERENCES`]) and every status it documents,
//! [`derive`] writes one fixture per example body:
//!
//! * the response's `example`, or each of its named `examples`;
//! * when the response has neither, a body put together from the examples of
//!   its schema's properties (recursively; a property without one is left
//!   out), which is how SailPoint's own docs render it;
//! * no body for a response without content (`204`).
//!
//! The request is built the same way: the path parameter's `example` as the
//! id, the request body's `example`, and every required header parameter
//! with its default (as a string: upstream declares the experimental header
//! with a boolean default). Nothing is edited by hand; `cargo xtask record
//! --upstream DIR` rewrites them and a test (needing the reference folder)
//! fails when the checked-in ones are stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Map, Value};

use crate::fixture::{Fixture, FixtureRequest, FixtureResponse, RecordedFrom, Setup};

/// The reference specs fixtures are derived from: every version psg claims.
pub const REFERENCES: &[&str] = &[
    "sailpoint-beta-password-sync-groups.yaml",
    "sailpoint-v3-password-sync-groups.yaml",
    "sailpoint-v3-sources.yaml",
    "sailpoint-v3-password-policies.yaml",
    "sailpoint-v2024-password-policies.yaml",
    "sailpoint-v2025-password-policies.yaml",
    "sailpoint-v2026-password-policies.yaml",
    "sailpoint-v1-password-sync-groups.yaml",
    "sailpoint-v1-sources.yaml",
    "sailpoint-v1-password-policies.yaml",
];

/// The operations of a path item this derivation reads.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The other keys a path item may have.
const PATH_KEYS: [&str; 4] = ["parameters", "summary", "description", "servers"];

/// Name prefix of every derived fixture.
pub const PREFIX: &str = "upstream_";

/// `../shared/reference` beside the checkout.
pub fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference")
}

/// How deep [`synthesize`] follows nested schemas (upstream's are shallow;
/// this only stops a recursive `$ref`).
const MAX_DEPTH: usize = 12;

/// Reads a reference spec (YAML) as JSON.
pub fn read_spec(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Follows local `$ref`s (`#/components/...`).
fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..MAX_DEPTH {
        let Some(target) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|r| doc.pointer(r))
        else {
            break;
        };
        node = target;
    }
    node
}

/// A value for `schema` made of the examples its parts declare, or `None`
/// when nothing in it has one.
pub fn synthesize(doc: &Value, schema: &Value) -> Option<Value> {
    synthesize_at(doc, schema, 0)
}

fn synthesize_at(doc: &Value, schema: &Value, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let schema = resolve(doc, schema);
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        let Some(parts) = schema.get(key).and_then(Value::as_array) else { continue };
        let values = parts.iter().filter_map(|p| synthesize_at(doc, p, depth + 1));
        if key != "allOf" {
            return values.into_iter().next();
        }
        let mut merged = Map::new();
        let mut last = None;
        for value in values {
            match value {
                Value::Object(map) => merged.extend(map),
                other => last = Some(other),
            }
        }
        return if merged.is_empty() { last } else { Some(Value::Object(merged)) };
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let object: Map<String, Value> = properties
            .iter()
            .filter_map(|(k, v)| synthesize_at(doc, v, depth + 1).map(|v| (k.clone(), v)))
            .collect();
        return (!object.is_empty()).then_some(Value::Object(object));
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        let item = schema.get("items").and_then(|items| synthesize_at(doc, items, depth + 1));
        return item.map(|item| Value::Array(vec![item]));
    }
    None
}

/// Each example body of a response or request body (`content` of
/// `application/json`), named (`""` for the only one), and how it was found.
/// Fails rather than leaving out an example it cannot read (an external
/// `$ref`, an `externalValue`) or a JSON body it can make nothing of.
fn bodies(
    doc: &Value,
    content: Option<&Value>,
) -> anyhow::Result<Vec<(String, Option<Value>, &'static str)>> {
    let Some(content) = content else {
        return Ok(vec![(String::new(), None, "no content")]);
    };
    let Some(json) = content.get("application/json") else {
        let types: Vec<&String> = content.as_object().map(|c| c.keys().collect()).unwrap_or_default();
        anyhow::bail!("no application/json content (only {types:?})");
    };
    if let Some(example) = json.get("example") {
        return Ok(vec![(String::new(), Some(example.clone()), "example")]);
    }
    if let Some(examples) = json.get("examples").and_then(Value::as_object) {
        let mut named = Vec::new();
        for (key, entry) in examples {
            let value = resolve(doc, entry)
                .get("value")
                .ok_or_else(|| anyhow::anyhow!("example {key:?} has no value here (external?)"))?;
            named.push((key.clone(), Some(value.clone()), "examples"));
        }
        if !named.is_empty() {
            return Ok(named);
        }
    }
    match json.get("schema").and_then(|s| synthesize(doc, s)) {
        Some(value) => Ok(vec![(String::new(), Some(value), "the examples of its schema's properties")]),
        None => anyhow::bail!("a JSON body with no example, and none in its schema"),
    }
}

/// The path prefix of the spec's first server (`/beta`, `/v3`, or empty for
/// the per-service layout, whose paths carry the version).
fn server_prefix(doc: &Value) -> String {
    let url = doc.pointer("/servers/0/url").and_then(Value::as_str).unwrap_or_default();
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map_or(String::new(), |i| after_scheme[i..].trim_end_matches('/').to_string())
}

/// `getPasswordSyncGroupsV1` → `get_password_sync_groups` (the layout is in
/// the fixture's version part already).
fn snake(operation: &str) -> String {
    let base = operation.strip_suffix("V1").unwrap_or(operation);
    let mut out = String::new();
    for c in base.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        }
    }
    out
}

fn snake_word(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

/// The version word of a reference file: `sailpoint-v2024-password-policies.yaml` → `v2024`.
fn version_word(file: &str) -> String {
    file.strip_prefix("sailpoint-").unwrap_or(file).split('-').next().unwrap_or_default().to_string()
}

/// A header parameter's value as sent: its default, else its example, as text.
fn header_value(param: &Value) -> Option<String> {
    let value = param.pointer("/schema/default").or_else(|| param.get("example"))?;
    Some(match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Every fixture derived from the spec at `path` (file name as in
/// [`REFERENCES`]), dated `recorded`.
pub fn derive(path: &Path, recorded: &str) -> anyhow::Result<Vec<Fixture>> {
    let doc = read_spec(path)?;
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_string();
    let version = version_word(&file);
    let prefix = server_prefix(&doc);
    let mut out = Vec::new();
    let paths =
        doc.get("paths").and_then(Value::as_object).ok_or_else(|| anyhow::anyhow!("{file}: no paths"))?;
    for (template, item) in paths {
        let mut keys = item.as_object().into_iter().flat_map(|m| m.keys());
        if let Some(other) = keys.find(|k| !METHODS.contains(&k.as_str()) && !PATH_KEYS.contains(&k.as_str()))
        {
            anyhow::bail!("{file}: {template} has {other:?}, which this derivation does not read");
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let operation = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow::anyhow!("{file}: {method} {template} has no operationId"))?;
            // The operation's parameters first: they override the path's.
            let params: Vec<&Value> = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .chain(item.get("parameters").and_then(Value::as_array))
                .flatten()
                .map(|p| resolve(&doc, p))
                .collect();
            let mut request_path = format!("{prefix}{template}");
            let mut headers = BTreeMap::from([("authorization".to_string(), "Bearer {{token}}".to_string())]);
            for param in &params {
                let name = param.get("name").and_then(Value::as_str).unwrap_or_default();
                match param.get("in").and_then(Value::as_str) {
                    Some("path") => {
                        let example = param.get("example").and_then(Value::as_str).ok_or_else(|| {
                            anyhow::anyhow!("{file}: {operation}: path parameter {name} has no example")
                        })?;
                        request_path = request_path.replace(&format!("{{{name}}}"), example);
                    }
                    Some("header") if param.get("required") == Some(&Value::Bool(true)) => {
                        let value = header_value(param).ok_or_else(|| {
                            anyhow::anyhow!(
                                "{file}: {operation}: required header {name} has no default or example"
                            )
                        })?;
                        headers.entry(name.to_ascii_lowercase()).or_insert(value);
                    }
                    _ => {}
                }
            }
            let context = |what: &str| format!("{file}: {} {template} {what}", method.to_ascii_uppercase());
            let request_body = match op.get("requestBody").map(|b| resolve(&doc, b)) {
                Some(b) => {
                    let mut found =
                        bodies(&doc, b.get("content")).with_context(|| context("request body"))?;
                    anyhow::ensure!(
                        found.len() == 1,
                        "{}: {} examples, one expected",
                        context("request body"),
                        found.len()
                    );
                    found.remove(0).1
                }
                None => None,
            };
            let responses = op.get("responses").and_then(Value::as_object).into_iter().flatten();
            for (status_text, response) in responses {
                let status = status_text.parse::<u16>().map_err(|_| {
                    anyhow::anyhow!(
                        "{}: response {status_text:?} is not a status this derivation reads",
                        context("")
                    )
                })?;
                let response = resolve(&doc, response);
                let found = bodies(&doc, response.get("content")).with_context(|| context(status_text))?;
                let several = found.len() > 1;
                for (key, body, how) in found {
                    let mut name =
                        format!("{PREFIX}{version}_{}_{status}", snake(operation).trim_start_matches('_'));
                    if several {
                        name = format!("{name}_{}", snake_word(&key));
                    }
                    let mut response_headers = BTreeMap::new();
                    if body.is_some() {
                        response_headers.insert("content-type".to_string(), "application/json".to_string());
                    }
                    let example = if key.is_empty() { String::new() } else { format!(" {key:?}") };
                    out.push(Fixture {
                        name,
                        operation: operation.to_string(),
                        note: Some(format!(
                            "Derived from {file}: {} {template} {status}, from {how}{example}.",
                            method.to_ascii_uppercase()
                        )),
                        recorded_from: RecordedFrom::UpstreamExample,
                        recorded: recorded.to_string(),
                        setup: Setup::default(),
                        request: FixtureRequest {
                            method: method.to_ascii_uppercase(),
                            path: request_path.clone(),
                            query: BTreeMap::new(),
                            headers: headers.clone(),
                            body: request_body.clone(),
                        },
                        response: FixtureResponse { status, headers: response_headers, body },
                        hand_written: false,
                        conformance: None,
                        replay_generated: false,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Every fixture derived from every spec of [`REFERENCES`] in `dir`.
pub fn derive_all(dir: &Path, recorded: &str) -> anyhow::Result<Vec<Fixture>> {
    let mut out = Vec::new();
    for file in REFERENCES {
        out.extend(derive(&dir.join(file), recorded)?);
    }
    let mut names: Vec<&str> = out.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        anyhow::bail!("two derived fixtures are named {}", pair[0]);
    }
    Ok(out)
}

/// Whether `actual` has the shape of SailPoint's `example`, as far as
/// `schema` (of the fragment `doc`) declares it: every declared key the
/// example has is there, with a value of the same JSON kind, and every item
/// of an array looks like the example's first item. Not compared: keys the
/// example leaves out (examples are partial), nulls on either side (whether
/// null is allowed is the schema's to say: validate `actual` against it
/// too), contents of free-form objects, and kinds where the schema allows
/// several (`oneOf`). Each problem names its JSON pointer.
pub fn shape_problems(example: &Value, actual: &Value, schema: &Value, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    compare(example, actual, schema, doc, String::new(), &mut out);
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `schema` with `$ref`s followed and `allOf: [$ref, {nullable}]` reduced to its typed part.
fn typed<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let schema = resolve(doc, schema);
    match schema.get("allOf").and_then(Value::as_array).and_then(|parts| parts.first()) {
        Some(first) => resolve(doc, first),
        None => schema,
    }
}

fn compare(example: &Value, actual: &Value, schema: &Value, doc: &Value, at: String, out: &mut Vec<String>) {
    let schema = typed(doc, schema);
    if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() {
        return;
    }
    match (example, actual) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(want), Value::Object(got)) => {
            let Some(declared) = schema.get("properties").and_then(Value::as_object) else { return };
            for (k, v) in want {
                let Some(field) = declared.get(k) else { continue };
                match got.get(k) {
                    Some(g) => compare(v, g, field, doc, format!("{at}/{k}"), out),
                    None => out.push(format!("{at}/{k}: in SailPoint's example, missing")),
                }
            }
        }
        (Value::Array(want), Value::Array(got)) => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            if let Some(first) = want.first() {
                for (i, g) in got.iter().enumerate() {
                    compare(first, g, items, doc, format!("{at}/{i}"), out);
                }
            }
        }
        (want, got) if kind(want) == kind(got) => {}
        (want, got) => {
            out.push(format!("{at}: SailPoint's example has {}, this has {}", kind(want), kind(got)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn synthesis_uses_property_examples_through_refs() {
        let doc = json!({"components": {"schemas": {
            "Msg": {"type": "object", "properties": {"text": {"type": "string", "example": "hi"}, "n": {"type": "integer"}}},
            "Err": {"type": "object", "properties": {"messages": {"type": "array", "items": {"$ref": "#/components/schemas/Msg"}},
                                                    "code": {"allOf": [{"$ref": "#/components/schemas/Msg"}, {"nullable": true}]}}}
        }}});
        let schema = json!({"$ref": "#/components/schemas/Err"});
        assert_eq!(
            synthesize(&doc, &schema),
            Some(json!({"messages": [{"text": "hi"}], "code": {"text": "hi"}}))
        );
        assert_eq!(synthesize(&doc, &json!({"type": "integer"})), None);
        let looped = json!({"components": {"schemas": {"A": {"properties": {"a": {"$ref": "#/components/schemas/A"}}}}}});
        assert_eq!(synthesize(&looped, &json!({"$ref": "#/components/schemas/A"})), None);
    }

    #[test]
    fn names_and_prefixes() {
        assert_eq!(snake("getPasswordSyncGroupsV1"), "get_password_sync_groups");
        assert_eq!(version_word("sailpoint-v2024-password-policies.yaml"), "v2024");
        assert_eq!(
            server_prefix(&json!({"servers": [{"url": "https://{tenant}.api.identitynow.com/beta"}]})),
            "/beta"
        );
        assert_eq!(server_prefix(&json!({"servers": [{"url": "https://{tenant}.api.identitynow.com"}]})), "");
        assert_eq!(
            header_value(&json!({"schema": {"type": "string", "default": true}})),
            Some("true".into())
        );
    }

    #[test]
    fn shapes_compare_declared_kinds_not_values() {
        let doc = json!({"components": {"schemas": {"Msg": {"properties": {"text": {"type": "string"}}}}}});
        let schema = json!({"type": "object", "properties": {
            "id": {"type": "string"}, "lastUpdated": {"type": "integer"}, "owner": {"type": "object"},
            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Msg"}},
            "attrs": {"type": "object"}, "when": {"oneOf": [{"type": "integer"}, {"type": "string"}]}
        }});
        let example = json!({"id": "a", "lastUpdated": 1, "messages": [{"text": "x"}], "owner": null,
                             "attrs": {"k": 1}, "when": 5, "undeclared": 1});
        let fine = json!({"id": "b", "lastUpdated": null, "messages": [], "owner": {}, "attrs": {}, "when": "x", "more": 1});
        assert_eq!(shape_problems(&example, &fine, &schema, &doc), Vec::<String>::new());
        let wrong =
            json!({"lastUpdated": "2024", "messages": [{"text": 3}], "owner": 1, "attrs": {}, "when": 1});
        let problems = shape_problems(&example, &wrong, &schema, &doc);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("/id: "), "{problems:?}");
        assert!(problems[1].contains("/lastUpdated: SailPoint's example has a number"), "{problems:?}");
        assert!(problems[2].starts_with("/messages/0/text"), "{problems:?}");
    }
}
