//! `cargo xtask spec-diff <upstream.yaml>`: structural comparison of an
//! upstream SailPoint spec with the fragment(s) of `openapi/` that hold its
//! paths.
//!
//! The fragment is found by its paths: every fragment that defines at least
//! one path of the upstream document is compared with it, on those
//! fragment's paths only (so a slice, a whole spec or another API version of
//! the same paths all work). Servers are not compared: the API version is
//! the client's base URL, so `/beta` against `/v3` is not a difference.
//!
//! Both documents are reduced to a flat map from a JSON-pointer-like path to a
//! "fact" (a type, a bound, a status, ...), with every `$ref` resolved and
//! descriptions and examples dropped. The two maps are then compared; each
//! difference is classified as breaking or additive for a client of the API,
//! unless `openapi/deviations.yaml` declares it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use crate::spec::{self, SpecError, escape_pointer};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The result of comparing upstream with one fragment.
pub struct Comparison {
    /// The fragment, relative to the workspace root.
    pub fragment: String,
    /// Differences, sorted by path; declared deviations merged per entry.
    pub differences: Vec<Difference>,
}

/// Entry point of the task.
pub fn run(upstream: &Path) -> ExitCode {
    match diff_file(upstream, &spec::workspace_root()) {
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Ok(comparisons) => {
            let mut counted = 0;
            let mut deviations = 0;
            for c in &comparisons {
                println!("fragment: {}", c.fragment);
                for d in &c.differences {
                    println!("{d}");
                    if d.kind == Kind::Deviation {
                        deviations += 1;
                    } else {
                        counted += 1;
                    }
                }
            }
            println!("{counted} difference(s), {deviations} declared deviation(s)");
            if counted == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
    }
}

/// Compares the document at `upstream` with every fragment under `root` that
/// holds some of its paths.
pub fn diff_file(upstream: &Path, root: &Path) -> Result<Vec<Comparison>, SpecError> {
    let theirs = spec::read_value(upstream)?;
    diff_value(upstream, &theirs, root)
}

/// As [`diff_file`], for an upstream document already read.
pub fn diff_value(upstream: &Path, theirs: &Value, root: &Path) -> Result<Vec<Comparison>, SpecError> {
    check_document(upstream, theirs)?;
    let deviations = read_deviations(&root.join(spec::DEVIATIONS))?;
    let their_paths: BTreeSet<&str> = path_names(theirs).collect();
    let mut out = Vec::new();
    for file in spec::fragments(&root.join(spec::FRAGMENTS_DIR))? {
        let ours = spec::read_value(&file)?;
        check_document(&file, &ours)?;
        let paths: Vec<String> = path_names(&ours).map(str::to_string).collect();
        if !paths.iter().any(|p| their_paths.contains(p.as_str())) {
            continue;
        }
        let theirs_facts = facts(theirs, &paths);
        let ours_facts = facts(&ours, &paths);
        out.push(Comparison {
            fragment: relative(&file, root),
            differences: compare(&theirs_facts, &ours_facts, &deviations),
        });
    }
    if out.is_empty() {
        let sample: Vec<&str> = their_paths.iter().take(3).copied().collect();
        return Err(SpecError::new(
            upstream,
            "/paths",
            format!(
                "no fragment in {}/ defines any of these paths ({})",
                spec::FRAGMENTS_DIR,
                sample.join(", ")
            ),
            "pass a SailPoint spec of an API that psg has a fragment for",
        ));
    }
    Ok(out)
}

fn relative(file: &Path, root: &Path) -> String {
    file.strip_prefix(root).map(PathBuf::from).unwrap_or_else(|_| file.to_path_buf()).display().to_string()
}

fn path_names(doc: &Value) -> impl Iterator<Item = &str> {
    doc.get("paths").and_then(Value::as_object).into_iter().flat_map(|m| m.keys().map(String::as_str))
}

fn check_document(file: &Path, doc: &Value) -> Result<(), SpecError> {
    if doc.get("openapi").and_then(Value::as_str).is_none() {
        return Err(SpecError::new(
            file,
            "/openapi",
            "not an OpenAPI document",
            "pass a SailPoint OpenAPI spec (YAML or JSON)",
        ));
    }
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err(SpecError::new(
            file,
            "/paths",
            "no `paths` mapping",
            "pass a SailPoint OpenAPI spec (YAML or JSON)",
        ));
    }
    Ok(())
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

/// Flattens the part of an OpenAPI document under `only` (path names) into
/// facts. Paths absent from `doc` contribute nothing.
pub fn facts(doc: &Value, only: &[String]) -> BTreeMap<String, String> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else { return BTreeMap::new() };
    let mut out = BTreeMap::new();
    for p in only {
        let Some(item) = paths.get(p) else { continue };
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
    out
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
    let declared = |path: &str| declaration(deviations, path).is_some();
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
                // A new parameter or body that upstream requires breaks every
                // existing call, though its `required` fact is not reported
                // on its own (it lies beneath).
                let required = theirs.contains_key(&format!("{path}/required"));
                let kind = if required { Kind::Breaking } else { upstream_only_kind(path, fact) };
                let what = if required { format!("required {fact}") } else { fact.clone() };
                push(kind, path, format!("upstream has {what} {} that our fragment lacks", short(fact)));
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
    merge_deviations(group_enum_values(diffs), deviations)
}

/// The declared deviation that covers `path` (the entry itself or an
/// ancestor), the most specific one if several do.
fn declaration<'a>(deviations: &'a BTreeSet<String>, path: &str) -> Option<&'a str> {
    deviations
        .iter()
        .filter(|d| path == d.as_str() || path.starts_with(&format!("{d}/")))
        .max_by_key(|d| d.len())
        .map(String::as_str)
}

/// Enum values missing on one side become one difference per enum (a closed
/// upstream enum read as open text would otherwise be one line per value).
fn group_enum_values(diffs: Vec<Difference>) -> Vec<Difference> {
    /// (enum path, kind, upstream side, values)
    type Group = (String, Kind, bool, Vec<String>);
    let finish = |out: &mut Vec<Difference>, group: &mut Option<Group>| {
        if let Some((path, kind, upstream_side, values)) = group.take() {
            let what = if upstream_side {
                format!("upstream has enum value(s) {} that our fragment lacks", values.join(", "))
            } else {
                format!("our fragment has enum value(s) {} that upstream lacks", values.join(", "))
            };
            out.push(Difference { kind, path, what });
        }
    };
    let mut out = Vec::new();
    let mut group: Option<Group> = None;
    for d in diffs {
        let upstream_side = d.what.starts_with("upstream has");
        let one_sided = upstream_side || d.what.starts_with("our fragment has");
        let split = d.path.rfind("/enum/").filter(|_| one_sided);
        let Some(at) = split else {
            finish(&mut out, &mut group);
            out.push(d);
            continue;
        };
        let (parent, value) = (&d.path[..at + 5], &d.path[at + 6..]);
        match &mut group {
            Some((path, kind, side, values))
                if path == parent && *kind == d.kind && *side == upstream_side =>
            {
                values.push(value.to_string())
            }
            _ => {
                finish(&mut out, &mut group);
                group = Some((parent.to_string(), d.kind, upstream_side, vec![value.to_string()]));
            }
        }
    }
    finish(&mut out, &mut group);
    out
}

/// Differences covered by one declared deviation are reported as one line,
/// at the declared path, listing what differs beneath it.
fn merge_deviations(diffs: Vec<Difference>, deviations: &BTreeSet<String>) -> Vec<Difference> {
    let mut out: Vec<Difference> = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let finish = |out: &mut Vec<Difference>, current: &mut Option<(String, Vec<String>)>| {
        if let Some((path, parts)) = current.take() {
            out.push(Difference { kind: Kind::Deviation, path, what: parts.join("; ") });
        }
    };
    for d in diffs {
        let entry = if d.kind == Kind::Deviation { declaration(deviations, &d.path) } else { None };
        let Some(entry) = entry else {
            finish(&mut out, &mut current);
            out.push(d);
            continue;
        };
        let part = match &d.path[entry.len()..] {
            "" => d.what.clone(),
            rest => format!("{rest}: {}", d.what),
        };
        match &mut current {
            Some((path, parts)) if path == entry => parts.push(part),
            _ => {
                finish(&mut out, &mut current);
                current = Some((entry.to_string(), vec![part]));
            }
        }
    }
    finish(&mut out, &mut current);
    out
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

    const NEEDS: &str = "needs ../shared/reference";

    /// A reference spec beside the checkout. Tests that call this are
    /// `#[ignore]`d and run with `--ignored` by `.ci/run` when the folder
    /// exists; run without it they fail instead of passing vacuously.
    fn reference(name: &str) -> Value {
        let path = spec::workspace_root().join("../shared/reference").join(name);
        spec::read_value(&path).unwrap_or_else(|e| panic!("{NEEDS}: {e}"))
    }

    /// Our own fragment, to be mutated into a hypothetical upstream.
    fn ours(file: &str) -> Value {
        spec::read_value(&spec::workspace_root().join(spec::FRAGMENTS_DIR).join(file)).unwrap()
    }

    fn diff_against(doc: &Value) -> Vec<Comparison> {
        diff_value(Path::new("upstream.yaml"), doc, &spec::workspace_root()).unwrap()
    }

    fn only(doc: &Value, fragment: &str) -> Vec<Difference> {
        let mut c = diff_against(doc);
        assert_eq!(c.len(), 1, "one fragment holds these paths");
        assert_eq!(c[0].fragment, format!("openapi/{fragment}"));
        c.remove(0).differences
    }

    fn counted(d: &[Difference]) -> Vec<String> {
        d.iter().filter(|d| d.kind != Kind::Deviation).map(|d| d.to_string()).collect()
    }

    fn assert_only_deviations(reference_file: &str, fragment: &str) -> Vec<Difference> {
        let diffs = only(&reference(reference_file), fragment);
        assert!(counted(&diffs).is_empty(), "{:#?}", counted(&diffs));
        assert!(diffs.iter().any(|d| d.kind == Kind::Deviation));
        diffs
    }

    #[test]
    #[ignore = "needs ../shared/reference"]
    fn beta_groups_reference_differs_only_by_declared_deviations() {
        assert_only_deviations("sailpoint-beta-password-sync-groups.yaml", "password-sync-groups.yaml");
    }

    #[test]
    #[ignore = "needs ../shared/reference"]
    fn v3_groups_reference_differs_only_by_declared_deviations_and_like_beta() {
        let v3 =
            assert_only_deviations("sailpoint-v3-password-sync-groups.yaml", "password-sync-groups.yaml");
        // Another base path (servers /v3 instead of /beta) is no difference.
        let beta = only(&reference("sailpoint-beta-password-sync-groups.yaml"), "password-sync-groups.yaml");
        assert_eq!(v3, beta);
    }

    #[test]
    #[ignore = "needs ../shared/reference"]
    fn v3_sources_reference_differs_only_by_declared_deviations() {
        let diffs = assert_only_deviations("sailpoint-v3-sources.yaml", "sources.yaml");
        let features = "/paths/~1sources~1{id}/get/responses/200/content/application~1json/schema/properties/features/items/enum";
        assert!(diffs.iter().any(|d| d.path == features && d.what.contains("\"PASSWORD\"")), "{diffs:#?}");
    }

    #[test]
    #[ignore = "needs ../shared/reference"]
    fn v3_policies_reference_differs_only_by_declared_deviations() {
        let diffs = assert_only_deviations("sailpoint-v3-password-policies.yaml", "password-policies.yaml");
        assert!(diffs.iter().any(|d| d.path.ends_with("/properties/dateCreated")), "{diffs:#?}");
    }

    #[test]
    #[ignore = "needs ../shared/reference"]
    fn v1_references_differ_only_by_declared_deviations_and_v1_groups_like_beta() {
        let v1 =
            assert_only_deviations("sailpoint-v1-password-sync-groups.yaml", "password-sync-groups-v1.yaml");
        // The same facts as beta's, under the v1 paths.
        let beta = only(&reference("sailpoint-beta-password-sync-groups.yaml"), "password-sync-groups.yaml");
        let strip = |d: &[Difference], from: &str| -> Vec<String> {
            d.iter().map(|d| d.to_string().replace(from, "~1password-sync-groups")).collect()
        };
        assert_eq!(strip(&v1, "~1password-sync-groups~1v1"), strip(&beta, "~1password-sync-groups"));
        assert_only_deviations("sailpoint-v1-sources.yaml", "sources-v1.yaml");
        let policies =
            assert_only_deviations("sailpoint-v1-password-policies.yaml", "password-policies-v1.yaml");
        assert!(policies.iter().any(|d| d.path.contains("X-SailPoint-Experimental")), "{policies:#?}");
    }

    #[test]
    fn each_fragment_agrees_with_itself() {
        for file in [
            "password-sync-groups.yaml",
            "sources.yaml",
            "password-policies.yaml",
            "password-sync-groups-v1.yaml",
            "sources-v1.yaml",
            "password-policies-v1.yaml",
        ] {
            assert_eq!(only(&ours(file), file), [], "{file}");
        }
    }

    #[test]
    fn a_whole_spec_is_compared_with_every_fragment_it_holds() {
        let mut whole = ours("password-sync-groups.yaml");
        let sources = ours("sources.yaml");
        for (k, v) in sources["paths"].as_object().unwrap() {
            whole["paths"][k] = v.clone();
        }
        for (k, v) in sources["components"]["schemas"].as_object().unwrap() {
            whole["components"]["schemas"][k] = v.clone();
        }
        whole["components"]["parameters"]["sourceId"] =
            sources["components"]["parameters"]["sourceId"].clone();
        whole["paths"]["/unrelated"] = serde_json::json!({});
        let c = diff_against(&whole);
        let names: Vec<&str> = c.iter().map(|c| c.fragment.as_str()).collect();
        assert_eq!(names, ["openapi/password-sync-groups.yaml", "openapi/sources.yaml"]);
        assert!(c.iter().all(|c| c.differences.is_empty()), "{:#?}", c[1].differences);
    }

    #[test]
    fn removed_property_is_breaking() {
        let mut doc = ours("password-sync-groups.yaml");
        doc.pointer_mut("/components/schemas/PasswordSyncGroup/properties")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("sourceIds");
        let c = counted(&only(&doc, "password-sync-groups.yaml"));
        assert!(
            c.iter().any(|l| l.starts_with("breaking:") && l.contains("/properties/sourceIds")),
            "{c:#?}"
        );
    }

    #[test]
    fn removed_operation_is_breaking() {
        let mut doc = ours("password-sync-groups.yaml");
        doc.pointer_mut("/paths/~1password-sync-groups~1{id}")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("delete");
        let c = counted(&only(&doc, "password-sync-groups.yaml"));
        assert!(
            c.iter().any(|l| l.starts_with("breaking:")
                && l.ends_with("/delete our fragment has operation entry that upstream lacks")),
            "{c:#?}"
        );
        assert_eq!(c.len(), 1, "children of a removed operation are not repeated: {c:#?}");
    }

    #[test]
    fn changed_maximum_is_breaking() {
        let mut doc = ours("password-sync-groups.yaml");
        *doc.pointer_mut("/components/parameters/limit/schema/maximum").unwrap() = Value::from(100);
        let c = counted(&only(&doc, "password-sync-groups.yaml"));
        assert!(
            c.iter().any(|l| l.starts_with("breaking:") && l.contains("query:limit/schema/maximum")),
            "{c:#?}"
        );
    }

    #[test]
    fn new_optional_property_and_enum_values_are_additive_one_line_per_enum() {
        let mut doc = ours("password-sync-groups.yaml");
        let props = doc
            .pointer_mut("/components/schemas/PasswordSyncGroup/properties")
            .unwrap()
            .as_object_mut()
            .unwrap();
        props.insert("owner".into(), serde_json::json!({"type": "string"}));
        let values =
            doc.pointer_mut("/components/schemas/LocaleOrigin/enum").unwrap().as_array_mut().unwrap();
        values.push("USER".into());
        values.push("TENANT".into());
        let c = counted(&only(&doc, "password-sync-groups.yaml"));
        assert!(c.iter().all(|l| l.starts_with("additive:")), "{c:#?}");
        assert!(c.iter().any(|l| l.contains("properties/owner")), "{c:#?}");
        let enum_lines: Vec<&String> = c.iter().filter(|l| l.contains("/localeOrigin/enum ")).collect();
        // Six error operations × their error statuses, one line each, both values on it.
        assert!(!enum_lines.is_empty(), "{c:#?}");
        assert!(enum_lines.iter().all(|l| l.contains("\"TENANT\", \"USER\"")), "{enum_lines:#?}");
    }

    #[test]
    fn breaking_changes_to_the_sources_fragment_are_found() {
        let mut doc = ours("sources.yaml");
        // Upstream drops `features` from Source and caps `limit` lower.
        doc.pointer_mut("/components/schemas/Source/properties")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("features");
        *doc.pointer_mut("/components/parameters/limit/schema/maximum").unwrap() = Value::from(100);
        // ...and makes a new query parameter required.
        doc.pointer_mut("/paths/~1sources/get/parameters").unwrap().as_array_mut().unwrap().push(
            serde_json::json!({"in": "query", "name": "tenantScope", "required": true, "schema": {"type": "string"}}),
        );
        let c = counted(&only(&doc, "sources.yaml"));
        for (needle, path) in [
            (
                "~1sources/get/responses/200/content/application~1json/schema/items/properties/features ",
                "list",
            ),
            (
                "~1sources~1{id}/get/responses/200/content/application~1json/schema/properties/features ",
                "get",
            ),
            ("~1sources/get/parameters/query:limit/schema/maximum ", "limit"),
            (
                "~1sources/get/parameters/query:tenantScope upstream has required parameter",
                "required parameter",
            ),
        ] {
            assert!(c.iter().any(|l| l.starts_with("breaking:") && l.contains(needle)), "{path}: {c:#?}");
        }
    }

    #[test]
    fn a_declared_deviation_is_one_line_and_not_counted() {
        // Upstream's closed features enum and string dates: what the
        // references hold, reproduced on our own fragments.
        let mut sources = ours("sources.yaml");
        sources["components"]["schemas"]["SourceFeature"]["items"]["enum"] =
            serde_json::json!(["PASSWORD", "ENABLE"]);
        let d = only(&sources, "sources.yaml");
        assert!(counted(&d).is_empty(), "{d:#?}");
        assert_eq!(d.iter().filter(|d| d.path.ends_with("/features/items/enum")).count(), 2, "{d:#?}");
        let mut policies = ours("password-policies.yaml");
        policies["components"]["schemas"]["PolicyTimestamp"] =
            serde_json::json!({"type": "string", "format": "date-time"});
        let d = only(&policies, "password-policies.yaml");
        assert!(counted(&d).is_empty(), "{d:#?}");
        assert_eq!(d.iter().filter(|d| d.path.ends_with("/dateCreated")).count(), 2, "{d:#?}");
    }

    #[test]
    fn document_without_our_paths_is_refused() {
        let doc = serde_json::json!({"openapi": "3.0.1", "paths": {"/other": {}}});
        let err = diff_value(Path::new("x"), &doc, &spec::workspace_root()).err().unwrap().to_string();
        assert!(err.contains("no fragment in openapi/ defines any of these paths (/other)"), "{err}");
    }
}
