//! The fragments as JSON Schemas: which operations and statuses they
//! document, and validation of fixture bodies against them (with the
//! `jsonschema` crate, after turning OpenAPI 3.0's `nullable` into JSON
//! Schema).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The fragment, read once.
pub struct Fragment {
    doc: Value,
    components: Value,
}

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// operationId.
    pub id: String,
    /// Documented statuses.
    pub statuses: Vec<u16>,
}

/// Path of the checked-in Password Sync Groups fragment.
pub fn fragment_path() -> PathBuf {
    fragments_dir().join("password-sync-groups.yaml")
}

/// The folder of checked-in fragments (`openapi/`).
pub fn fragments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi")
}

/// Every fragment of [`fragments_dir`] (`*.yaml` except `deviations.yaml`), sorted.
pub fn fragment_paths() -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fragments_dir())? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.ends_with(".yaml") && name != "deviations.yaml" {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn read_yaml(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Unites the `paths` and `components` of several fragments. `cargo xtask
/// generate` refuses fragments whose shared components differ, so the first
/// definition of a component stands for all.
fn unite(docs: Vec<Value>) -> Value {
    let mut paths = Map::new();
    let mut components: Map<String, Value> = Map::new();
    for doc in docs {
        for (k, v) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
            paths.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (section, entries) in doc.get("components").and_then(Value::as_object).into_iter().flatten() {
            let merged = components.entry(section.clone()).or_insert_with(|| json!({}));
            for (name, v) in entries.as_object().into_iter().flatten() {
                if let Some(m) = merged.as_object_mut() {
                    m.entry(name.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    json!({"paths": paths, "components": components})
}

/// OpenAPI 3.0 schema → JSON Schema: `nullable` becomes `anyOf [.., null]`.
fn convert(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                match k.as_str() {
                    "nullable" | "example" | "description" | "title" => {}
                    "properties" => {
                        let props = v
                            .as_object()
                            .map(|p| p.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
                            .unwrap_or_default();
                        out.insert(k.clone(), Value::Object(props));
                    }
                    _ => {
                        out.insert(k.clone(), convert(v));
                    }
                }
            }
            // `allOf: [$ref, {nullable: true}]` (upstream's way of making a
            // referenced object nullable) makes the whole schema nullable.
            let nullable_part = map
                .get("allOf")
                .and_then(Value::as_array)
                .is_some_and(|parts| parts.iter().any(|p| p.get("nullable") == Some(&Value::Bool(true))));
            if map.get("nullable") == Some(&Value::Bool(true)) || nullable_part {
                json!({"anyOf": [Value::Object(out), {"type": "null"}]})
            } else {
                Value::Object(out)
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
        other => other.clone(),
    }
}

impl Fragment {
    /// Reads every checked-in fragment (their operations have unique ids).
    pub fn load() -> anyhow::Result<Self> {
        let docs = fragment_paths()?.iter().map(|p| read_yaml(p)).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self::from_doc(unite(docs)))
    }

    /// Reads one fragment.
    pub fn load_file(path: &Path) -> anyhow::Result<Self> {
        Ok(Self::from_doc(read_yaml(path)?))
    }

    /// The fragment of `openapi/` that documents operation `op`, with its path.
    pub fn for_operation(op: &str) -> anyhow::Result<(PathBuf, Self)> {
        for path in fragment_paths()? {
            let fragment = Self::load_file(&path)?;
            if fragment.operation(op).is_some() {
                return Ok((path, fragment));
            }
        }
        anyhow::bail!("no fragment in {} documents the operation {op}", fragments_dir().display())
    }

    fn from_doc(doc: Value) -> Self {
        let mut schemas = convert(&doc.pointer("/components/schemas").cloned().unwrap_or_default());
        // LocaleOrigin is open upstream ("values may be added without notice"):
        // accept any string or null, as the generated client does.
        if let Some(origin) = schemas.get_mut("LocaleOrigin") {
            *origin = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        }
        let components = json!({"schemas": schemas});
        Fragment { doc, components }
    }

    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        while let Some(r) = node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            match self.doc.pointer(r) {
                Some(target)
                    if r.starts_with("/components/responses")
                        || r.starts_with("/components/parameters")
                        || r.starts_with("/components/headers") =>
                {
                    node = target
                }
                _ => break,
            }
        }
        node
    }

    fn operation(&self, id: &str) -> Option<&Value> {
        self.doc
            .get("paths")?
            .as_object()?
            .values()
            .flat_map(|item| item.as_object().into_iter().flat_map(|m| m.values()))
            .find(|op| op.get("operationId").and_then(Value::as_str) == Some(id))
    }

    /// Every operation with its documented statuses.
    pub fn operations(&self) -> Vec<Operation> {
        let mut out = Vec::new();
        for item in self.doc.get("paths").and_then(Value::as_object).into_iter().flat_map(|p| p.values()) {
            for op in item.as_object().into_iter().flat_map(|m| m.values()) {
                let Some(id) = op.get("operationId").and_then(Value::as_str) else { continue };
                let statuses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|r| r.keys().filter_map(|k| k.parse().ok()).collect())
                    .unwrap_or_default();
                out.push(Operation { id: id.to_string(), statuses });
            }
        }
        out
    }

    fn response(&self, op: &str, status: u16) -> Option<&Value> {
        let r = self.operation(op)?.get("responses")?.get(status.to_string())?;
        Some(self.resolve(r))
    }

    /// The fragment as read (YAML as JSON), e.g. to follow a `$ref` of
    /// [`Fragment::response_schema`].
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// The schema of `op`'s JSON body for `status`, as written (with its `$ref`s).
    pub fn response_schema(&self, op: &str, status: u16) -> Option<&Value> {
        self.response(op, status)?.pointer("/content/application~1json/schema")
    }

    /// Headers the fragment declares for `op` answering `status`.
    pub fn declared_headers(&self, op: &str, status: u16) -> Vec<String> {
        self.response(op, status)
            .and_then(|r| r.get("headers"))
            .and_then(Value::as_object)
            .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
            .unwrap_or_default()
    }

    /// Checks `body` against the schema of `op`/`status`; each problem names
    /// its JSON pointer.
    pub fn validate(&self, op: &str, status: u16, body: Option<&Value>) -> Result<(), Vec<String>> {
        let response = self
            .response(op, status)
            .ok_or_else(|| vec![format!("the fragment documents no {status} for {op}")])?;
        let schema = response.pointer("/content/application~1json/schema");
        match (schema, body) {
            (None, None) => Ok(()),
            (None, Some(_)) => {
                Err(vec![format!("{op} {status} has no body in the fragment, but the fixture has one")])
            }
            (Some(_), None) => {
                Err(vec![format!("{op} {status} has a JSON body in the fragment, but the fixture has none")])
            }
            (Some(schema), Some(body)) => {
                let mut root = convert(schema);
                if let Value::Object(map) = &mut root {
                    map.insert("components".into(), self.components.clone());
                }
                let validator = jsonschema::validator_for(&root)
                    .map_err(|e| vec![format!("schema of {op} {status}: {e}")])?;
                let errors: Vec<String> =
                    validator.iter_errors(body).map(|e| format!("at {}: {e}", e.instance_path())).collect();
                if errors.is_empty() { Ok(()) } else { Err(errors) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_pointer() {
        let f = Fragment::load().unwrap();
        assert!(
            f.validate(
                "getPasswordSyncGroup",
                200,
                Some(&json!({"id": "x", "sourceIds": ["a"], "created": null}))
            )
            .is_ok()
        );
        let errors =
            f.validate("getPasswordSyncGroup", 200, Some(&json!({"sourceIds": "not a list"}))).unwrap_err();
        assert!(errors[0].contains("/sourceIds"), "{errors:?}");
        let errors = f.validate("getPasswordSyncGroups", 200, Some(&json!([{"name": 3}]))).unwrap_err();
        assert!(errors[0].contains("/0/name"), "{errors:?}");
        assert!(f.validate("deletePasswordSyncGroup", 204, None).is_ok());
        assert_eq!(f.declared_headers("getPasswordSyncGroups", 200), ["x-total-count"]);
        assert_eq!(f.declared_headers("createPasswordSyncGroup", 429), ["retry-after"]);
    }

    #[test]
    fn each_operation_is_found_in_its_own_fragment() {
        for (op, file) in [
            ("getPasswordSyncGroups", "password-sync-groups.yaml"),
            ("listSources", "sources.yaml"),
            ("getSource", "sources.yaml"),
            ("listPasswordPolicies", "password-policies.yaml"),
            ("getPasswordPolicyById", "password-policies.yaml"),
        ] {
            let (path, fragment) = Fragment::for_operation(op).unwrap();
            assert!(path.ends_with(file), "{op}: {}", path.display());
            assert!(fragment.operations().iter().any(|o| o.id == op));
        }
        let Err(e) = Fragment::for_operation("noSuchOperation") else { panic!("found an unknown operation") };
        assert!(e.to_string().contains("noSuchOperation"), "{e}");
    }

    #[test]
    fn only_the_group_fragment_when_asked() {
        let f = Fragment::load_file(&fragment_path()).unwrap();
        let ids: Vec<String> = f.operations().into_iter().map(|o| o.id).collect();
        assert_eq!(ids.len(), 5, "{ids:?}");
        assert!(ids.iter().all(|id| id.contains("PasswordSyncGroup")), "{ids:?}");
    }

    #[test]
    fn sources_are_validated_tolerantly_but_not_blindly() {
        let f = Fragment::load().unwrap();
        let source = json!({
            "id": "s1", "name": "HR AD", "owner": null, "connector": "active-directory",
            "features": ["PASSWORD", "A_FEATURE_ADDED_LATER"], "status": "SOURCE_STATE_ADDED_LATER",
            "managerCorrelationMapping": null, "category": null
        });
        assert_eq!(f.validate("getSource", 200, Some(&source)), Ok(()));
        assert_eq!(f.validate("listSources", 200, Some(&json!([source]))), Ok(()));
        let errors =
            f.validate("getSource", 200, Some(&json!({"owner": null, "connector": "x"}))).unwrap_err();
        assert!(errors.iter().any(|e| e.contains("name")), "{errors:?}");
        let errors =
            f.validate("listSources", 200, Some(&json!([{"name": "x", "connector": "x"}]))).unwrap_err();
        assert!(errors.iter().any(|e| e.contains("owner")), "owner is required (null is fine): {errors:?}");
        let errors = f
            .validate(
                "getSource",
                200,
                Some(&json!({"name": "x", "owner": null, "connector": "x", "features": "PASSWORD"})),
            )
            .unwrap_err();
        assert!(errors[0].contains("/features"), "{errors:?}");
        assert_eq!(f.declared_headers("listSources", 200), ["x-total-count"]);
        assert_eq!(f.declared_headers("getSource", 429), ["retry-after"]);
    }

    #[test]
    fn policies_accept_epoch_milliseconds_strings_and_null() {
        let f = Fragment::load().unwrap();
        let policy = json!({
            "id": "p1", "name": "Corporate", "dateCreated": 1639056206564_i64, "lastUpdated": null,
            "firstExpirationReminder": null, "description": null, "sourceIds": []
        });
        assert_eq!(f.validate("getPasswordPolicyById", 200, Some(&policy)), Ok(()));
        let text_dates = json!([{"dateCreated": "2024-01-02T03:04:05Z", "lastUpdated": 1662385430753_i64}]);
        assert_eq!(f.validate("listPasswordPolicies", 200, Some(&text_dates)), Ok(()));
        let errors =
            f.validate("getPasswordPolicyById", 200, Some(&json!({"dateCreated": true}))).unwrap_err();
        assert!(errors[0].contains("/dateCreated"), "{errors:?}");
        let errors = f.validate("getPasswordPolicyById", 200, Some(&json!({"minLength": "8"}))).unwrap_err();
        assert!(errors[0].contains("/minLength"), "{errors:?}");
    }
}
