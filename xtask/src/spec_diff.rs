//! `cargo xtask spec-diff <upstream.yaml>`: structural comparison of an
//! upstream SailPoint spec with our fragment.
//!
//! Both documents are reduced to a flat map from a JSON-pointer-like path to a
//! "fact" (a type, a bound, a status, ...), with every `$ref` resolved and
//! descriptions and examples dropped. The two maps are then compared; each
//! difference is classified as breaking or additive for a client of the API,
//! unless `openapi/deviations.yaml` declares it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

use crate::spec::{self, SpecError, escape_pointer};

/// The paths of the Password Sync Groups API.
const PATHS: [&str; 2] = ["/password-sync-groups", "/password-sync-groups/{id}"];
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Entry point of the task.
pub fn run(upstream: &Path) -> ExitCode {
    let root = spec::workspace_root();
    let result = (|| {
        let theirs = spec::read_value(upstream)?;
        let ours = spec::read_value(&root.join(spec::FRAGMENT))?;
        let deviations = read_deviations(&root.join(spec::DEVIATIONS))?;
        let theirs_facts = facts(upstream, &theirs)?;
        let ours_facts = facts(&root.join(spec::FRAGMENT), &ours)?;
        Ok::<_, SpecError>(compare(&theirs_facts, &ours_facts, &deviations))
    })();
    match result {
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Ok(diffs) => {
            let mut counted = 0;
            for d in &diffs {
                println!("{d}");
                if d.kind != Kind::Deviation {
                    counted += 1;
                }
            }
            let deviations = diffs.len() - counted;
            println!("{counted} difference(s), {deviations} declared deviation(s)");
            if counted == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
    }
}

/// How a difference affects an existing client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Breaking,
    Additive,
    Deviation,
}

/// One difference between upstream and our fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: Kind,
    pub path: String,
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.kind {
            Kind::Breaking => "breaking:",
            Kind::Additive => "additive:",
            Kind::Deviation => "deviation:",
        };
        write!(f, "{tag} {} {}", self.path, self.what)
    }
}

fn read_deviations(path: &Path) -> Result<BTreeSet<String>, SpecError> {
    let value = spec::read_value(path)?;
    let list = value.get("deviations").and_then(Value::as_array).ok_or_else(|| {
        SpecError::new(path, "/deviations", "missing list `deviations`", "add `deviations: [{path, reason}]`")
    })?;
    list.iter()
        .enumerate()
        .map(|(i, d)| {
            let p = d.get("path").and_then(Value::as_str);
            let r = d.get("reason").and_then(Value::as_str).filter(|r| !r.trim().is_empty());
            match (p, r) {
                (Some(p), Some(_)) => Ok(p.to_string()),
                _ => Err(SpecError::new(
                    path,
                    format!("/deviations/{i}"),
                    "needs `path` and a non-empty `reason`",
                    "say where and why",
                )),
            }
        })
        .collect()
}

/// Flattens the Password Sync Groups part of an OpenAPI document into facts.
pub fn facts(file: &Path, doc: &Value) -> Result<BTreeMap<String, String>, SpecError> {
    if doc.get("openapi").and_then(Value::as_str).is_none() {
        return Err(SpecError::new(
            file,
            "/openapi",
            "not an OpenAPI document",
            "pass SailPoint's beta spec (YAML or JSON)",
        ));
    }
    let paths = doc.get("paths").and_then(Value::as_object).ok_or_else(|| {
        SpecError::new(file, "/paths", "no `paths` mapping", "pass SailPoint's beta spec (YAML or JSON)")
    })?;
    let mut out = BTreeMap::new();
    let mut found = false;
    for p in PATHS {
        let Some(item) = paths.get(p) else { continue };
        found = true;
        let item = resolve(doc, item);
        let base = format!("/paths/{}", escape_pointer(p));
        let shared_params = item.get("parameters").cloned().unwrap_or(Value::Null);
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let op = resolve(doc, op);
            let at = format!("{base}/{method}");
            out.insert(at.clone(), "operation".into());
            let mut params: Vec<Value> = Vec::new();
            for list in [&shared_params, op.get("parameters").unwrap_or(&Value::Null)] {
                params.extend(list.as_array().into_iter().flatten().map(|p| resolve(doc, p).clone()));
            }
            for param in params {
                let name = param.get("name").and_then(Value::as_str).unwrap_or("?");
                let loc = param.get("in").and_then(Value::as_str).unwrap_or("?");
                let pat = format!("{at}/parameters/{loc}:{}", escape_pointer(name));
                out.insert(pat.clone(), "parameter".into());
                if param.get("required").and_then(Value::as_bool) == Some(true) {
                    out.insert(format!("{pat}/required"), "true".into());
                }
                if let Some(schema) = param.get("schema") {
                    schema_facts(doc, schema, &format!("{pat}/schema"), &mut out, 0);
                }
            }
            if let Some(body) = op.get("requestBody") {
                let body = resolve(doc, body);
                out.insert(format!("{at}/requestBody"), "body".into());
                if body.get("required").and_then(Value::as_bool) == Some(true) {
                    out.insert(format!("{at}/requestBody/required"), "true".into());
                }
                content_facts(doc, body, &format!("{at}/requestBody"), &mut out);
            }
            for (status, resp) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
                let resp = resolve(doc, resp);
                let rat = format!("{at}/responses/{status}");
                out.insert(rat.clone(), "status".into());
                for (name, header) in resp.get("headers").and_then(Value::as_object).into_iter().flatten() {
                    let header = resolve(doc, header);
                    let hat = format!("{rat}/headers/{}", escape_pointer(name));
                    out.insert(hat.clone(), "header".into());
                    if let Some(schema) = header.get("schema") {
                        schema_facts(doc, schema, &format!("{hat}/schema"), &mut out, 0);
                    }
                }
                content_facts(doc, resp, &rat, &mut out);
            }
            let security = op.get("security").or_else(|| doc.get("security"));
            for requirement in security.and_then(Value::as_array).into_iter().flatten() {
                for (scheme, scopes) in requirement.as_object().into_iter().flatten() {
                    for scope in scopes.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        out.insert(
                            format!("{at}/security/{scheme}/{}", escape_pointer(scope)),
                            "scope".into(),
                        );
                    }
                }
            }
        }
    }
    if !found {
        return Err(SpecError::new(
            file,
            "/paths",
            "no /password-sync-groups paths in this document",
            "pass a spec that contains the Password Sync Groups API",
        ));
    }
    Ok(out)
}

fn content_facts(doc: &Value, holder: &Value, at: &str, out: &mut BTreeMap<String, String>) {
    for (media, content) in holder.get("content").and_then(Value::as_object).into_iter().flatten() {
        let cat = format!("{at}/content/{}", escape_pointer(media));
        out.insert(cat.clone(), "media".into());
        if let Some(schema) = content.get("schema") {
            schema_facts(doc, schema, &format!("{cat}/schema"), out, 0);
        }
    }
}

/// Follows local `$ref`s (`#/...`) until a node without one.
fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => match doc.pointer(pointer) {
                Some(target) => node = target,
                None => return node,
            },
            None => return node,
        }
    }
    node
}

const SCHEMA_FACTS: [&str; 10] = [
    "type",
    "format",
    "nullable",
    "minimum",
    "maximum",
    "default",
    "minItems",
    "maxItems",
    "maxLength",
    "pattern",
];

fn schema_facts(doc: &Value, schema: &Value, at: &str, out: &mut BTreeMap<String, String>, depth: usize) {
    if depth > 12 {
        return;
    }
    let schema = resolve(doc, schema);
    for key in SCHEMA_FACTS {
        if let Some(v) = schema.get(key) {
            out.insert(format!("{at}/{key}"), v.to_string());
        }
    }
    if schema.get("readOnly").and_then(Value::as_bool) == Some(true) {
        out.insert(format!("{at}/readOnly"), "true".into());
    }
    for value in schema.get("enum").and_then(Value::as_array).into_iter().flatten() {
        out.insert(format!("{at}/enum/{value}"), "enum value".into());
    }
    for req in
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
    {
        out.insert(format!("{at}/required/{}", escape_pointer(req)), "required".into());
    }
    for (name, prop) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
        let pat = format!("{at}/properties/{}", escape_pointer(name));
        out.insert(pat.clone(), "property".into());
        schema_facts(doc, prop, &pat, out, depth + 1);
    }
    if let Some(items) = schema.get("items") {
        schema_facts(doc, items, &format!("{at}/items"), out, depth + 1);
    }
    for combo in ["allOf", "oneOf", "anyOf"] {
        for (i, sub) in schema.get(combo).and_then(Value::as_array).into_iter().flatten().enumerate() {
            schema_facts(doc, sub, &format!("{at}/{combo}/{i}"), out, depth + 1);
        }
    }
}

/// Compares upstream facts with ours.
pub fn compare(
    theirs: &BTreeMap<String, String>,
    ours: &BTreeMap<String, String>,
    deviations: &BTreeSet<String>,
) -> Vec<Difference> {
    let declared = |path: &str| deviations.iter().any(|d| path == d || path.starts_with(&format!("{d}/")));
    let mut diffs = Vec::new();
    let mut push = |kind: Kind, path: &str, what: String| {
        let kind = if declared(path) { Kind::Deviation } else { kind };
        diffs.push(Difference { kind, path: path.to_string(), what });
    };
    // A removed or added node implies its children: report only the top one.
    let under_reported =
        |reported: &BTreeSet<String>, path: &str| reported.iter().any(|r| path.starts_with(&format!("{r}/")));
    let mut gone = BTreeSet::new();
    let mut new = BTreeSet::new();
    for (path, fact) in theirs {
        match ours.get(path) {
            None if under_reported(&new, path) => {}
            None => {
                let kind = upstream_only_kind(path, fact);
                push(kind, path, format!("upstream has {fact} {} that our fragment lacks", short(fact)));
                new.insert(path.clone());
            }
            Some(mine) if mine != fact => {
                push(changed_kind(path), path, format!("upstream {fact}, ours {mine}"));
            }
            Some(_) => {}
        }
    }
    for (path, fact) in ours {
        if !theirs.contains_key(path) && !under_reported(&gone, path) {
            push(
                ours_only_kind(path, fact),
                path,
                format!("our fragment has {fact} {} that upstream lacks", short(fact)),
            );
            gone.insert(path.clone());
        }
    }
    diffs.sort_by(|a, b| a.path.cmp(&b.path));
    diffs
}

fn short(fact: &str) -> &'static str {
    if fact.starts_with('"') || fact.parse::<f64>().is_ok() || fact == "true" || fact == "false" {
        "value"
    } else {
        "entry"
    }
}

/// Upstream has something we don't: new upstream surface is additive for our
/// users unless it constrains requests (a new required field or parameter).
fn upstream_only_kind(path: &str, _fact: &str) -> Kind {
    if path.contains("/required")
        || path.ends_with("/minimum")
        || path.ends_with("/maximum")
        || path.contains("/enum/") && path.contains("/parameters/")
    {
        Kind::Breaking
    } else {
        Kind::Additive
    }
}

/// We have something upstream doesn't: upstream removed or renamed it, which
/// breaks a client that relies on it.
fn ours_only_kind(path: &str, _fact: &str) -> Kind {
    if path.contains("/required/") || path.ends_with("/minimum") || path.ends_with("/maximum") {
        // Upstream dropped a constraint: wider, not breaking.
        Kind::Additive
    } else {
        Kind::Breaking
    }
}

fn changed_kind(_path: &str) -> Kind {
    // A changed type, format, bound or default changes what a client may send
    // or must accept.
    Kind::Breaking
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Option<Value> {
        let path =
            spec::workspace_root().join("../shared/reference/sailpoint-beta-password-sync-groups.yaml");
        spec::read_value(&path).ok()
    }

    fn diff_against(doc: &Value) -> Vec<Difference> {
        let root = spec::workspace_root();
        let ours = spec::read_value(&root.join(spec::FRAGMENT)).unwrap();
        let dev = read_deviations(&root.join(spec::DEVIATIONS)).unwrap();
        compare(&facts(Path::new("u"), doc).unwrap(), &facts(Path::new("o"), &ours).unwrap(), &dev)
    }

    fn counted(d: &[Difference]) -> Vec<String> {
        d.iter().filter(|d| d.kind != Kind::Deviation).map(|d| d.to_string()).collect()
    }

    #[test]
    fn reference_differs_only_by_declared_deviations() {
        let Some(doc) = reference() else {
            return eprintln!("../shared/reference not present; skipped");
        };
        let diffs = diff_against(&doc);
        assert!(counted(&diffs).is_empty(), "{:#?}", counted(&diffs));
        assert!(diffs.iter().any(|d| d.kind == Kind::Deviation));
    }

    #[test]
    fn removed_property_is_breaking() {
        let Some(mut doc) = reference() else { return };
        doc.pointer_mut("/components/schemas/PasswordSyncGroup/properties")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("sourceIds");
        let c = counted(&diff_against(&doc));
        assert!(
            c.iter().any(|l| l.starts_with("breaking:") && l.contains("/properties/sourceIds")),
            "{c:#?}"
        );
    }

    #[test]
    fn removed_operation_is_breaking() {
        let Some(mut doc) = reference() else { return };
        doc.pointer_mut("/paths/~1password-sync-groups~1{id}")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("delete");
        let c = counted(&diff_against(&doc));
        assert!(
            c.iter().any(|l| l.starts_with("breaking:")
                && l.ends_with("/delete our fragment has operation entry that upstream lacks")),
            "{c:#?}"
        );
        assert_eq!(c.len(), 1, "children of a removed operation are not repeated: {c:#?}");
    }

    #[test]
    fn changed_maximum_is_breaking() {
        let Some(mut doc) = reference() else { return };
        *doc.pointer_mut("/components/parameters/limit/schema/maximum").unwrap() = Value::from(100);
        let c = counted(&diff_against(&doc));
        assert!(
            c.iter().any(|l| l.starts_with("breaking:") && l.contains("query:limit/schema/maximum")),
            "{c:#?}"
        );
    }

    #[test]
    fn new_optional_property_and_enum_value_are_additive() {
        let Some(mut doc) = reference() else { return };
        let props = doc
            .pointer_mut("/components/schemas/PasswordSyncGroup/properties")
            .unwrap()
            .as_object_mut()
            .unwrap();
        props.insert("owner".into(), serde_json::json!({"type": "string"}));
        doc.pointer_mut("/components/schemas/LocaleOrigin/enum")
            .unwrap()
            .as_array_mut()
            .unwrap()
            .push("USER".into());
        let c = counted(&diff_against(&doc));
        assert!(c.iter().all(|l| l.starts_with("additive:")), "{c:#?}");
        assert!(
            c.iter().any(|l| l.contains("properties/owner")) && c.iter().any(|l| l.contains("\"USER\"")),
            "{c:#?}"
        );
    }

    #[test]
    fn document_without_our_paths_is_unreadable() {
        let doc = serde_json::json!({"openapi": "3.0.1", "paths": {"/other": {}}});
        assert!(facts(Path::new("x"), &doc).unwrap_err().to_string().contains("no /password-sync-groups"));
    }
}
