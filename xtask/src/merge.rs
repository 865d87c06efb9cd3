//! Several fragments → one OpenAPI document, so that one generated client
//! (one `Client`, one `types` module, one set of hooks) covers every API.
//!
//! Rules: paths and operation ids must be unique across fragments; a
//! component (schema, parameter, header, response, security scheme) defined in
//! more than one fragment must be defined identically in each (shared error
//! bodies, paging parameters); `info`, `servers` and `security` come from the
//! first fragment, tags are the union. Every violation is an error naming both
//! files and the JSON pointer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

#[cfg(test)]
use crate::spec;
use crate::spec::{SpecError, escape_pointer};

/// Reads and merges `paths` (in that order; see [`crate::spec::fragments`]).
#[cfg(test)]
pub fn merge_files(paths: &[PathBuf]) -> Result<Value, SpecError> {
    let docs =
        paths.iter().map(|p| spec::read_value(p).map(|v| (p.clone(), v))).collect::<Result<Vec<_>, _>>()?;
    merge(&docs)
}

/// Merges already-read fragments; the first one leads.
pub fn merge(docs: &[(PathBuf, Value)]) -> Result<Value, SpecError> {
    let Some((first_path, first)) = docs.first() else {
        return Err(SpecError::new(Path::new("openapi"), "", "no fragment to merge", "add a fragment"));
    };
    if docs.len() == 1 {
        return Ok(first.clone());
    }
    let mut out = Map::new();
    for key in ["openapi", "info", "servers", "security"] {
        if let Some(v) = first.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    let mut paths = Map::new();
    let mut path_owner: BTreeMap<String, &Path> = BTreeMap::new();
    let mut op_owner: BTreeMap<String, (&Path, String)> = BTreeMap::new();
    let mut components: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut component_owner: BTreeMap<String, &Path> = BTreeMap::new();
    let mut tags: Vec<Value> = Vec::new();

    for (file, doc) in docs {
        if doc.get("openapi") != first.get("openapi") {
            return Err(SpecError::new(
                file,
                "/openapi",
                format!("OpenAPI version differs from {}", first_path.display()),
                "write every fragment with the same `openapi:` version",
            ));
        }
        for (name, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
            let pointer = format!("/paths/{}", escape_pointer(name));
            if let Some(other) = path_owner.insert(name.clone(), file) {
                return Err(SpecError::new(
                    file,
                    pointer,
                    format!("path also defined in {}", other.display()),
                    "keep each path in exactly one fragment",
                ));
            }
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(id) = op.get("operationId").and_then(Value::as_str) else { continue };
                let here = format!("{pointer}/{method}/operationId");
                if let Some((other, at)) = op_owner.insert(id.to_string(), (file, here.clone())) {
                    return Err(SpecError::new(
                        file,
                        here,
                        format!("operationId {id:?} also used in {} at {at}", other.display()),
                        "give every operation a unique operationId",
                    ));
                }
            }
            paths.insert(name.clone(), item.clone());
        }
        for (section, entries) in doc.get("components").and_then(Value::as_object).into_iter().flatten() {
            let merged = components.entry(section.clone()).or_default();
            for (name, value) in entries.as_object().into_iter().flatten() {
                let pointer = format!("/components/{}/{}", escape_pointer(section), escape_pointer(name));
                match merged.get(name) {
                    Some(existing) if existing != value => {
                        let other = component_owner
                            .get(&pointer)
                            .map_or_else(String::new, |p| p.display().to_string());
                        return Err(SpecError::new(
                            file,
                            pointer,
                            format!("defined differently in {other}"),
                            "make both definitions identical (wording included) or rename one",
                        ));
                    }
                    Some(_) => {}
                    None => {
                        merged.insert(name.clone(), value.clone());
                        component_owner.insert(pointer, file);
                    }
                }
            }
        }
        for tag in doc.get("tags").and_then(Value::as_array).into_iter().flatten() {
            if !tags.iter().any(|t| t.get("name") == tag.get("name")) {
                tags.push(tag.clone());
            }
        }
    }
    if !tags.is_empty() {
        out.insert("tags".into(), Value::Array(tags));
    }
    out.insert("paths".into(), Value::Object(paths));
    let components: Map<String, Value> = components.into_iter().map(|(k, v)| (k, Value::Object(v))).collect();
    out.insert("components".into(), Value::Object(components));
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(path: &str, op: &str, error_text: &str) -> Value {
        json!({
            "openapi": "3.0.1",
            "info": {"title": path, "version": "1"},
            "tags": [{"name": "T"}],
            "paths": {path: {"get": {"operationId": op, "responses": {"200": {"description": "ok"}}}}},
            "components": {"schemas": {"Err": {"type": "object", "description": error_text}}}
        })
    }

    #[test]
    fn paths_and_components_are_united_and_the_first_leads() {
        let merged = merge(&[
            ("a.yaml".into(), doc("/a", "getA", "same")),
            ("b.yaml".into(), doc("/b", "getB", "same")),
        ])
        .unwrap();
        assert_eq!(merged.pointer("/info/title"), Some(&json!("/a")));
        assert!(merged.pointer("/paths/~1a/get").is_some() && merged.pointer("/paths/~1b/get").is_some());
        assert_eq!(merged["tags"].as_array().map(Vec::len), Some(1));
        assert!(merged.pointer("/components/schemas/Err").is_some());
    }

    #[test]
    fn a_component_defined_differently_names_both_files() {
        let err = merge(&[
            ("a.yaml".into(), doc("/a", "getA", "one")),
            ("b.yaml".into(), doc("/b", "getB", "two")),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("b.yaml at /components/schemas/Err") && err.contains("a.yaml"), "{err}");
    }

    #[test]
    fn a_path_or_operation_id_in_two_fragments_is_refused() {
        let err =
            merge(&[("a.yaml".into(), doc("/a", "getA", "x")), ("b.yaml".into(), doc("/a", "getB", "x"))])
                .unwrap_err()
                .to_string();
        assert!(err.contains("/paths/~1a") && err.contains("a.yaml"), "{err}");
        let err =
            merge(&[("a.yaml".into(), doc("/a", "get", "x")), ("b.yaml".into(), doc("/b", "get", "x"))])
                .unwrap_err()
                .to_string();
        assert!(err.contains("operationId \"get\"") && err.contains("/paths/~1b/get/operationId"), "{err}");
    }

    #[test]
    fn the_checked_in_fragments_merge() {
        let dir = spec::workspace_root().join(spec::FRAGMENTS_DIR);
        let files = spec::fragments(&dir).unwrap();
        assert!(files[0].ends_with(spec::FRAGMENT), "{files:?}");
        let merged = merge_files(&files).unwrap();
        for p in ["/password-sync-groups", "/password-policies/{id}", "/sources"] {
            assert!(merged["paths"].get(p).is_some(), "{p}");
        }
    }
}
