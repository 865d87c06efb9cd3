//! The desired-state file: groups keyed by name, as `psg export` writes it
//! and `psg plan`/`apply` read it. Read strictly: one YAML document of at
//! most 16 MiB, UTF-8 (a BOM is fine), `version: 1` optional, top-level
//! `x-…` keys ignored (a place for anchors), merge keys allowed. Every
//! problem is reported at once, once, as `file:line: message`, by line.
//!
//! ```yaml
//! version: 1
//! groups:
//!   - name: Finance applications
//!     passwordPolicyId: 2c91808d744ba0ce01746f93b6204501
//!     sourceIds:
//!       - 2c918084660f45d6016617daa9210584
//!       - 2c918084660f45d6016617daa9210500
//!   - name: HR systems
//!     renamedFrom: Human resources    # renames that group, keeping its id
//!     passwordPolicyId: 2c91808d744ba0ce01746f93b6204501
//!     sourceIds: [2c918084660f45d6016617daa9210501, 2c918084660f45d6016617daa9210502]
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::gitops::tenant::{Fields, Group};
use crate::gitops::yaml::{self, LoadError, Node};

/// Problems printed at most (the count says how many there are).
const MAX_PROBLEMS_SHOWN: usize = 100;

/// Largest desired-state file read.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One group as the file wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DesiredGroup {
    /// The key: groups are matched by name.
    pub name: String,
    /// Password policy id.
    pub password_policy_id: String,
    /// Source ids, in the order written.
    pub source_ids: Vec<String>,
    /// The tenant group of this name becomes this group (a rename).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Line of the entry in the file.
    #[serde(skip)]
    pub line: usize,
    /// `passwordPolicy: NAME` (the portable form): resolved into
    /// `password_policy_id` in the target tenant by [`crate::gitops::resolve`].
    #[serde(skip)]
    pub policy_name: Option<Named>,
    /// `sources: [NAME, ...]` (the portable form): resolved into `source_ids`.
    #[serde(skip)]
    pub source_names: Option<Vec<Named>>,
}

/// A name written in the file, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The name.
    pub name: String,
    /// Its line.
    pub line: usize,
}

impl DesiredGroup {
    /// Name, policy and sources.
    pub fn fields(&self) -> Fields {
        Fields {
            name: self.name.clone(),
            password_policy_id: self.password_policy_id.clone(),
            source_ids: self.source_ids.clone(),
        }
    }
}

/// The allowed group keys, as messages list them (the keys are [`super::schema::GROUP_KEYS`]).
const GROUP_KEYS_TEXT: &str = "name, passwordPolicyId or passwordPolicy, sourceIds or sources, renamedFrom";

/// Problems with their lines, reported once each, sorted by line.
#[derive(Default)]
struct Problems(Vec<(usize, String)>);

impl Problems {
    fn add(&mut self, line: usize, message: impl Into<String>) {
        self.0.push((line, message.into()));
    }

    fn finish(mut self, file: &str) -> Vec<String> {
        self.0.sort();
        self.0.dedup();
        self.0.into_iter().map(|(line, m)| format!("{file}:{line}: {m}")).collect()
    }
}

fn text(node: &Node, what: &str, problems: &mut Problems) -> Option<String> {
    match node.as_str() {
        Some(s) if !s.trim().is_empty() && !node.is_null() => Some(s.to_string()),
        _ => {
            problems.add(node.line, format!("`{what}` must be a non-empty string"));
            None
        }
    }
}

fn group(item: &Node, problems: &mut Problems) -> Option<DesiredGroup> {
    let line = item.line;
    let Some(map) = item.as_map() else {
        problems.add(line, "each group must be a mapping with name, passwordPolicyId and sourceIds");
        return None;
    };
    for (key, _) in map {
        if !super::schema::GROUP_KEYS.contains(&key.text.as_str()) {
            let hint = if ["id", "created", "modified"].contains(&key.text.as_str()) {
                " (server-assigned fields are not part of desired state: remove it)".to_string()
            } else {
                format!(" (allowed: {GROUP_KEYS_TEXT})")
            };
            problems.add(key.line, format!("unknown key `{}`{hint}", key.text));
        }
    }
    let name = match item.get("name") {
        Some(n) => text(n, "name", problems),
        None => {
            problems.add(line, "group has no `name`");
            None
        }
    };
    let label = name.clone().unwrap_or_else(|| "?".into());
    let (policy, policy_name) = match (item.get("passwordPolicyId"), item.get("passwordPolicy")) {
        (Some(_), Some(by_name)) => {
            problems.add(
                by_name.line,
                format!("group `{label}` has both `passwordPolicyId` and `passwordPolicy`: keep one"),
            );
            (None, None)
        }
        (Some(n), None) => (text(n, "passwordPolicyId", problems), None),
        (None, Some(n)) => match text(n, "passwordPolicy", problems) {
            Some(name) => (Some(String::new()), Some(Named { name, line: n.line })),
            None => (None, None),
        },
        (None, None) => {
            problems.add(
                line,
                format!("group `{label}` has no `passwordPolicyId` (or `passwordPolicy` by name)"),
            );
            (None, None)
        }
    };
    let renamed_from =
        item.get("renamedFrom").and_then(|n| text(n, "renamedFrom", problems).map(|t| (t, n.line)));
    if let (Some((old, l)), Some(name)) = (&renamed_from, &name)
        && old == name
    {
        problems.add(*l, format!("`renamedFrom` repeats the group's own name `{name}`: remove it"));
    }
    let (sources, source_names) = match (item.get("sourceIds"), item.get("sources")) {
        (Some(_), Some(by_name)) => {
            problems
                .add(by_name.line, format!("group `{label}` has both `sourceIds` and `sources`: keep one"));
            (None, None)
        }
        (Some(node), None) => (
            string_list(node, "sourceIds", "source id", problems)
                .map(|l| l.into_iter().map(|n| n.name).collect()),
            None,
        ),
        (None, Some(node)) => match string_list(node, "sources", "source name", problems) {
            Some(names) => (Some(Vec::new()), Some(names)),
            None => (None, None),
        },
        (None, None) => {
            problems.add(line, format!("group `{label}` has no `sourceIds` (or `sources` by name)"));
            (None, None)
        }
    };
    Some(DesiredGroup {
        name: name?,
        password_policy_id: policy?,
        source_ids: sources?,
        renamed_from: renamed_from.map(|(t, _)| t),
        line,
        policy_name,
        source_names,
    })
}

/// A list of two or more distinct non-empty strings (`key` in messages).
fn string_list(node: &Node, key: &str, what: &str, problems: &mut Problems) -> Option<Vec<Named>> {
    let Some(seq) = node.as_seq() else {
        problems.add(node.line, format!("`{key}` must be a list"));
        return None;
    };
    let mut items: Vec<Named> = Vec::new();
    let mut distinct: BTreeSet<&str> = BTreeSet::new();
    let mut ok = true;
    for s in seq {
        match s.as_str() {
            Some(text) if !text.trim().is_empty() && !s.is_null() => {
                if !distinct.insert(text) {
                    problems.add(s.line, format!("`{key}` lists source `{text}` twice"));
                    ok = false;
                }
                items.push(Named { name: text.to_string(), line: s.line });
            }
            _ => {
                problems.add(s.line, format!("each {what} must be a non-empty string"));
                ok = false;
            }
        }
    }
    if ok && items.len() < 2 {
        problems.add(
            node.line,
            format!(
                "`{key}` needs at least two sources ({} given): a sync group joins two or more",
                items.len()
            ),
        );
        ok = false;
    }
    ok.then_some(items)
}

/// Parses and checks `text`; the error lists every problem as `file:line: …`,
/// sorted by line.
pub fn parse(file: &str, text: &str) -> Result<Vec<DesiredGroup>, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (root, found) = match yaml::load(text) {
        Ok(loaded) => loaded,
        Err(LoadError::At(line, message)) => return Err(vec![format!("{file}:{line}: {message}")]),
        Err(LoadError::Documents(0)) => {
            return Err(vec![format!("{file}:1: the file is empty; expected a `groups:` list")]);
        }
        Err(LoadError::Documents(n)) => {
            return Err(vec![format!("{file} has {n} YAML documents; psg reads one")]);
        }
    };
    let mut problems = Problems(found);
    let Some(top) = root.as_map() else {
        problems.add(root.line, "expected a mapping with a `groups:` list");
        return Err(problems.finish(file));
    };
    for (key, value) in top {
        match key.text.as_str() {
            k if !super::schema::TOP_KEYS.contains(&k) && !k.starts_with("x-") => problems
                .add(key.line, format!("unknown key `{k}` (allowed: groups, version, and x-… for anchors)")),
            "version" if value.as_str() != Some("1") => problems.add(
                value.line,
                format!(
                    "`version` is {}; this psg reads version 1 (or leave `version` out)",
                    value.as_str().map(|v| format!("`{v}`")).unwrap_or_else(|| "not a number".into())
                ),
            ),
            _ => {}
        }
    }
    let mut groups = Vec::new();
    let mut items: &[Node] = &[];
    match root.get("groups") {
        None => problems.add(root.line, "missing `groups:` list"),
        Some(node) if node.is_null() => {}
        Some(node) => match node.as_seq() {
            None => problems.add(node.line, "`groups` must be a list"),
            Some(list) => {
                items = list;
                groups = list.iter().filter_map(|item| group(item, &mut problems)).collect();
            }
        },
    }
    // Names and renames are checked on every entry, even one with other problems.
    let named = |key: &str| -> Vec<(&str, usize)> {
        items
            .iter()
            .filter_map(|item| Some((item.get(key)?.as_str().filter(|n| !n.trim().is_empty())?, item.line)))
            .collect()
    };
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, line) in named("name") {
        match names.get(name) {
            Some(first) => problems
                .add(line, format!("duplicate name `{name}` (first at line {first}); names must be unique")),
            None => {
                names.insert(name, line);
            }
        }
    }
    let mut renamed: BTreeMap<&str, usize> = BTreeMap::new();
    for (old, line) in named("renamedFrom") {
        if let Some(first) = renamed.get(old) {
            problems.add(line, format!("two groups are renamed from `{old}` (first at line {first})"));
        } else {
            renamed.insert(old, line);
            if let Some(other) = names.get(old).filter(|&&other| other != line) {
                problems.add(
                    line,
                    format!(
                        "`renamedFrom: {old}` names a group that line {other} keeps: rename or keep, not both"
                    ),
                );
            }
        }
    }
    let problems = problems.finish(file);
    if problems.is_empty() { Ok(groups) } else { Err(problems) }
}

/// Reads a file of at most [`MAX_FILE_BYTES`] as UTF-8 text (a UTF-8 BOM is
/// fine; UTF-16 is refused by name).
pub fn read_text(path: &Path) -> Result<String, Failure> {
    let shown = crate::stdio::shown(path);
    let (size, file) =
        crate::stdio::open(path).map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
    let size = size.unwrap_or(0);
    let too_big = || {
        Failure::usage(format!("{shown} is larger than 16 MiB; psg refuses desired-state files that large"))
    };
    if size > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let utf16 = bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0xFE, 0xFF])
        || (bytes.len() >= 2 && (bytes[0] == 0 || bytes[1] == 0));
    if utf16 {
        return Err(Failure::usage(format!("{shown} is UTF-16 encoded; psg reads UTF-8: save it as UTF-8")));
    }
    String::from_utf8(bytes).map_err(|e| {
        Failure::usage(format!(
            "{shown} is not UTF-8 (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Reads and checks a desired-state file.
pub fn load(path: &Path) -> Result<Vec<DesiredGroup>, Failure> {
    let text = read_text(path)?;
    let shown = crate::stdio::shown(path);
    parse(&shown, &text).map_err(|problems| {
        let n = problems.len();
        if let [one] = problems.as_slice() {
            return Failure::usage(format!("{one} (nothing was changed)"));
        }
        let shown = problems.iter().take(MAX_PROBLEMS_SHOWN).cloned().collect::<Vec<_>>().join("\n");
        let more = if n > MAX_PROBLEMS_SHOWN {
            format!("\n… and {} more", n - MAX_PROBLEMS_SHOWN)
        } else {
            String::new()
        };
        Failure::usage(format!(
            "{} has {n} problems; nothing was changed:\n{shown}{more}",
            crate::stdio::shown(path)
        ))
    })
}

#[derive(Serialize)]
struct Document<'a> {
    groups: Vec<&'a DesiredGroup>,
}

/// The header line of an exported file.
pub const HEADER: &str = "# Password sync groups, keyed by name. Apply with: psg apply -f <this file>\n";
/// The header lines of a portable exported file.
pub const PORTABLE_HEADER: &str = "# Password sync groups, keyed by name; policies and sources by name, resolved in the tenant\n# this file is applied to. Apply with: psg apply -f <this file>\n";

/// The desired-state YAML for `groups`: sorted by name, no volatile fields.
pub fn render(groups: &[Group]) -> String {
    format!("{HEADER}{}", super::yaml_out::to_string(&document(groups)))
}

/// The desired-state document for `groups` (what [`render`] writes as YAML).
pub fn document(groups: &[Group]) -> serde_json::Value {
    let mut desired: Vec<DesiredGroup> = groups
        .iter()
        .map(|g| DesiredGroup {
            name: g.fields.name.clone(),
            password_policy_id: g.fields.password_policy_id.clone(),
            source_ids: g.fields.source_ids.clone(),
            renamed_from: None,
            line: 0,
            policy_name: None,
            source_names: None,
        })
        .collect();
    desired.sort_by(|a, b| a.name.cmp(&b.name));
    serde_json::to_value(Document { groups: desired.iter().collect() }).expect("plain data serialises")
}

/// One group in the portable form: names where the tenant has a unique one
/// for the id, the id otherwise.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PortableGroup<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_policy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_policy_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_ids: Option<Vec<&'a str>>,
}

/// The desired-state YAML for `groups` with policies and sources by name
/// (`names` maps ids to unique names; an id without one is written as an id).
pub fn render_portable(groups: &[Group], names: &crate::gitops::resolve::Names) -> String {
    format!("{PORTABLE_HEADER}{}", super::yaml_out::to_string(&portable_document(groups, names)))
}

/// The portable document for `groups` (what [`render_portable`] writes as YAML).
pub fn portable_document(groups: &[Group], names: &crate::gitops::resolve::Names) -> serde_json::Value {
    let mut sorted: Vec<&Group> = groups.iter().collect();
    sorted.sort_by(|a, b| a.fields.name.cmp(&b.fields.name));
    let entries: Vec<PortableGroup<'_>> = sorted
        .into_iter()
        .map(|g| {
            let f = &g.fields;
            let policy = names.policy(&f.password_policy_id);
            let sources: Option<Vec<&str>> = f.source_ids.iter().map(|id| names.source(id)).collect();
            PortableGroup {
                name: &f.name,
                password_policy: policy,
                password_policy_id: policy.is_none().then_some(f.password_policy_id.as_str()),
                source_ids: sources.is_none().then(|| f.source_ids.iter().map(String::as_str).collect()),
                sources,
            }
        })
        .collect();
    #[derive(Serialize)]
    struct PortableDocument<'a> {
        groups: Vec<PortableGroup<'a>>,
    }
    serde_json::to_value(PortableDocument { groups: entries }).expect("plain data serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "\
groups:
  - name: A
    passwordPolicyId: p
    sourceIds: [s1, s2]
  - name: A
    passwordPolicyId: p
    sourceIds: [s1, s3]
    owner: me
  - name: ''
    passwordPolicyId: p
    sourceIds: [s1, s2]
  - name: B
    passwordPolicyId: p
    sourceIds: [s1]
extra: 1
";
        let problems = parse("f.yaml", text).unwrap_err();
        let joined = problems.join("\n");
        for expected in [
            "f.yaml:5: duplicate name `A` (first at line 2)",
            "f.yaml:8: unknown key `owner`",
            "f.yaml:9: `name` must be a non-empty string",
            "f.yaml:14: `sourceIds` needs at least two sources",
            "f.yaml:15: unknown key `extra`",
        ] {
            assert!(joined.contains(expected), "missing {expected:?} in:\n{joined}");
        }
        assert_eq!(problems.len(), 5, "{joined}");
    }

    #[test]
    fn export_round_trips_through_parse() {
        let g = |name: &str| Group {
            id: "x".into(),
            fields: Fields {
                name: name.into(),
                password_policy_id: "p".into(),
                source_ids: vec!["s1".into(), "s2".into()],
            },
        };
        let text = render(&[g("zeta"), g("alpha")]);
        assert!(!text.contains("id: x") && !text.contains("created"));
        let parsed = parse("x", &text).unwrap();
        assert_eq!(parsed.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["alpha", "zeta"]);
    }

    #[test]
    fn json_documents_and_empty_lists_are_accepted() {
        let parsed = parse(
            "x.json",
            r#"{"groups": [{"name": "A", "passwordPolicyId": "p", "sourceIds": ["1", "2"]}]}"#,
        )
        .unwrap();
        assert_eq!(parsed[0].source_ids, ["1", "2"]);
        assert!(parse("x", "groups: []\n").unwrap().is_empty());
        assert!(parse("x", "- a\n").unwrap_err()[0].contains("x:1"));
    }

    fn problems(text: &str) -> Vec<String> {
        parse("f.yaml", text).unwrap_err()
    }

    #[test]
    fn more_than_one_document_is_refused() {
        let text = "groups: []\n---\ngroups:\n  - name: B\n";
        assert_eq!(problems(text), ["f.yaml has 2 YAML documents; psg reads one"]);
    }

    #[test]
    fn anchors_merge_keys_and_x_keys() {
        let text = "\
version: 1
x-common: &common
  passwordPolicyId: p1
  sourceIds: [s1, s2]
groups:
  - <<: *common
    name: A
  - <<: *common
    name: B
    sourceIds: [s3, s4]
";
        let groups = parse("f.yaml", text).unwrap();
        assert_eq!(groups[0].password_policy_id, "p1");
        assert_eq!(groups[0].source_ids, ["s1", "s2"]);
        assert_eq!(groups[1].source_ids, ["s3", "s4"]);
    }

    #[test]
    fn problems_in_anchors_carry_the_anchor_line_once() {
        let text = "\
x-bad: &bad
  passwordPolicyId: p1
  sourceIds: [s1]
groups:
  - <<: *bad
    name: A
  - <<: *bad
    name: B
  - name: C
    passwordPolicyId: p
    sourceIds: [a, b]
    colour: red
";
        assert_eq!(
            problems(text),
            [
                "f.yaml:3: `sourceIds` needs at least two sources (1 given): a sync group joins two or more",
                "f.yaml:12: unknown key `colour` (allowed: name, passwordPolicyId or passwordPolicy, sourceIds or sources, renamedFrom)",
            ]
        );
    }

    #[test]
    fn version_must_be_one_and_bom_is_accepted() {
        assert!(parse("f", "\u{feff}version: 1\ngroups: []\n").is_ok());
        assert_eq!(
            problems("version: 2\ngroups: []\n"),
            ["f.yaml:1: `version` is `2`; this psg reads version 1 (or leave `version` out)"]
        );
    }

    #[test]
    fn renamed_from_is_checked() {
        let text = "\
groups:
  - name: A
    renamedFrom: B
    passwordPolicyId: p
    sourceIds: [a, b]
  - name: B
    passwordPolicyId: p
    sourceIds: [a, b]
";
        assert_eq!(
            problems(text),
            ["f.yaml:2: `renamedFrom: B` names a group that line 6 keeps: rename or keep, not both"]
        );
        let ok = parse("f", &text.replace("- name: B", "- name: C")).unwrap();
        assert_eq!(ok[0].renamed_from.as_deref(), Some("B"));
    }

    #[test]
    fn messages_name_no_internal_types() {
        for text in
            ["groups: 3\n", "groups:\n  - 3\n", "[1]\n", "groups: [\n", "a: *x\n", "groups:\n  - name: [x]\n"]
        {
            for p in problems(text) {
                assert!(p.starts_with("f.yaml:"), "{p}");
                for internal in ["Scalar", "Seq", "Map", "Node", "ScanError", "Marker", "LoadError"] {
                    assert!(!p.contains(internal), "{p}");
                }
            }
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn any_text_gives_groups_or_located_problems(text in "[ -~\n\t\u{e9}\u{feff}]{0,200}") {
                if let Err(problems) = parse("f.yaml", &text) {
                    prop_assert!(!problems.is_empty());
                    for p in problems {
                        prop_assert!(p.starts_with("f.yaml:") || p.starts_with("f.yaml has "), "{}", p);
                    }
                }
            }

            #[test]
            fn export_parses_back_to_the_same_groups(
                groups in prop::collection::btree_map(
                    "[ -~\u{e9}\u{4e2d}]{1,20}".prop_filter("a name", |n| !n.trim().is_empty()),
                    ("[a-z0-9]{1,8}", prop::collection::btree_set("[a-z0-9][a-z0-9:#'\" -]{0,7}", 2..4)),
                    0..6,
                )
            ) {
                let tenant: Vec<Group> = groups
                    .iter()
                    .enumerate()
                    .map(|(i, (name, (policy, sources)))| Group {
                        id: i.to_string(),
                        fields: Fields {
                            name: name.clone(),
                            password_policy_id: policy.clone(),
                            source_ids: sources.iter().cloned().collect(),
                        },
                    })
                    .collect();
                let parsed = parse("x", &render(&tenant));
                prop_assert!(parsed.is_ok(), "{:?}", parsed);
                let parsed = parsed.unwrap_or_default();
                prop_assert_eq!(parsed.len(), tenant.len());
                for d in parsed {
                    let t = tenant.iter().find(|t| t.fields.name == d.name);
                    prop_assert_eq!(t.map(|t| t.fields.clone()), Some(d.fields()));
                }
            }
        }
    }
}
