//! The desired-state file: groups keyed by name, as `psg export` writes it
//! and `psg plan`/`apply` read it. Every problem is reported at once, each
//! with file and line.
//!
//! ```yaml
//! groups:
//!   - name: Finance applications
//!     passwordPolicyId: 2c91808d744ba0ce01746f93b6204501
//!     sourceIds:
//!       - 2c918084660f45d6016617daa9210584
//!       - 2c918084660f45d6016617daa9210500
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use marked_yaml::{LoaderOptions, Node};
use psg_ext::Group;
use serde::Serialize;

use crate::failure::Failure;

/// One group as the file wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesiredGroup {
    /// The key: groups are matched by name.
    pub name: String,
    /// Password policy id.
    pub password_policy_id: String,
    /// Source ids, in the order written.
    pub source_ids: Vec<String>,
    /// Line of the entry in the file.
    #[serde(skip)]
    pub line: usize,
}

const TOP_KEYS: [&str; 2] = ["groups", "version"];
const GROUP_KEYS: [&str; 3] = ["name", "passwordPolicyId", "sourceIds"];

fn line_of(node: &Node) -> usize {
    node.span().start().map(|m| m.line()).unwrap_or(1)
}

fn scalar(node: &Node) -> Option<&str> {
    node.as_scalar().map(|s| s.as_str())
}

/// Parses and checks `text`; the error lists every problem as `file:line: …`.
pub fn parse(file: &str, text: &str) -> Result<Vec<DesiredGroup>, Vec<String>> {
    let options = LoaderOptions::default().error_on_duplicate_keys(true).prevent_coercion(true);
    let root = marked_yaml::parse_yaml_with_options(0, text, options).map_err(|e| {
        let at = match &e {
            marked_yaml::LoadError::TopLevelMustBeMapping(m) => m.line().to_string(),
            _ => e.to_string().split(':').next().unwrap_or("1").trim().to_string(),
        };
        vec![format!("{file}:{at}: not a valid desired-state document: {e}")]
    })?;
    let mut problems = Vec::new();
    let Some(top) = root.as_mapping() else {
        return Err(vec![format!("{file}:1: expected a mapping with a `groups:` list")]);
    };
    for (key, value) in top.iter() {
        if !TOP_KEYS.contains(&key.as_str()) {
            problems.push(format!(
                "{file}:{}: unknown key `{}` (allowed: groups, version)",
                line_of(value),
                key.as_str()
            ));
        }
    }
    let Some(groups_node) = top.get_node("groups") else {
        problems.push(format!("{file}:1: missing `groups:` list"));
        return Err(problems);
    };
    let Some(items) = groups_node.as_sequence() else {
        if scalar(groups_node).is_some_and(|s| s.is_empty() || s == "~" || s == "null") {
            return if problems.is_empty() { Ok(Vec::new()) } else { Err(problems) };
        }
        problems.push(format!("{file}:{}: `groups` must be a list", line_of(groups_node)));
        return Err(problems);
    };
    let mut groups = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for item in items.iter() {
        let line = line_of(item);
        let Some(map) = item.as_mapping() else {
            problems.push(format!(
                "{file}:{line}: each group must be a mapping with name, passwordPolicyId and sourceIds"
            ));
            continue;
        };
        for (key, value) in map.iter() {
            if !GROUP_KEYS.contains(&key.as_str()) {
                let hint = if ["id", "created", "modified"].contains(&key.as_str()) {
                    " (server-assigned fields are not part of desired state: remove it)"
                } else {
                    " (allowed: name, passwordPolicyId, sourceIds)"
                };
                problems.push(format!("{file}:{}: unknown key `{}`{hint}", line_of(value), key.as_str()));
            }
        }
        let name = match map.get_node("name").map(|n| (scalar(n), line_of(n))) {
            Some((Some(n), _)) if !n.trim().is_empty() => Some(n.to_string()),
            Some((_, l)) => {
                problems.push(format!("{file}:{l}: `name` must be a non-empty string"));
                None
            }
            None => {
                problems.push(format!("{file}:{line}: group has no `name`"));
                None
            }
        };
        if let Some(name) = &name {
            if let Some(first) = seen.get(name) {
                problems.push(format!(
                    "{file}:{line}: duplicate name `{name}` (first at line {first}); names must be unique"
                ));
            } else {
                seen.insert(name.clone(), line);
            }
        }
        let policy = match map.get_node("passwordPolicyId").map(|n| (scalar(n), line_of(n))) {
            Some((Some(p), _)) if !p.trim().is_empty() => Some(p.to_string()),
            Some((_, l)) => {
                problems.push(format!("{file}:{l}: `passwordPolicyId` must be a non-empty string"));
                None
            }
            None => {
                problems.push(format!(
                    "{file}:{line}: group `{}` has no `passwordPolicyId`",
                    name.as_deref().unwrap_or("?")
                ));
                None
            }
        };
        let sources = match map.get_node("sourceIds") {
            Some(node) => match node.as_sequence() {
                Some(seq) => {
                    let mut ids = Vec::new();
                    let mut ok = true;
                    for s in seq.iter() {
                        match scalar(s) {
                            Some(id) if !id.trim().is_empty() => ids.push(id.to_string()),
                            _ => {
                                problems.push(format!(
                                    "{file}:{}: each source id must be a non-empty string",
                                    line_of(s)
                                ));
                                ok = false;
                            }
                        }
                    }
                    let distinct: BTreeSet<_> = ids.iter().collect();
                    if distinct.len() != ids.len() {
                        problems.push(format!("{file}:{}: `sourceIds` lists a source twice", line_of(node)));
                        ok = false;
                    } else if ok && ids.len() < 2 {
                        problems.push(format!(
                            "{file}:{}: `sourceIds` needs at least two sources ({} given): a sync group joins two or more",
                            line_of(node),
                            ids.len()
                        ));
                        ok = false;
                    }
                    ok.then_some(ids)
                }
                None => {
                    problems.push(format!("{file}:{}: `sourceIds` must be a list", line_of(node)));
                    None
                }
            },
            None => {
                problems.push(format!(
                    "{file}:{line}: group `{}` has no `sourceIds`",
                    name.as_deref().unwrap_or("?")
                ));
                None
            }
        };
        if let (Some(name), Some(password_policy_id), Some(source_ids)) = (name, policy, sources) {
            groups.push(DesiredGroup { name, password_policy_id, source_ids, line });
        }
    }
    if problems.is_empty() { Ok(groups) } else { Err(problems) }
}

/// Reads and checks a desired-state file.
pub fn load(path: &Path) -> Result<Vec<DesiredGroup>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    parse(&path.display().to_string(), &text).map_err(|problems| {
        let n = problems.len();
        Failure::usage(format!(
            "{}\n{n} problem(s) in {}; nothing was changed",
            problems.join("\n"),
            path.display()
        ))
    })
}

#[derive(Serialize)]
struct Document<'a> {
    groups: Vec<&'a DesiredGroup>,
}

/// The desired-state YAML for `groups`: sorted by name, no volatile fields.
pub fn render(groups: &[Group]) -> String {
    let mut desired: Vec<DesiredGroup> = groups
        .iter()
        .map(|g| DesiredGroup {
            name: g.name.clone(),
            password_policy_id: g.password_policy_id.clone(),
            source_ids: g.source_ids.clone(),
            line: 0,
        })
        .collect();
    desired.sort_by(|a, b| a.name.cmp(&b.name));
    let body = serde_norway::to_string(&Document { groups: desired.iter().collect() })
        .expect("plain data serialises");
    format!("# Password sync groups, keyed by name. Apply with: psg apply -f <this file>\n{body}")
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
        let g = |name: &str| Group::new("x", name, "p", ["s1", "s2"]);
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
}
