//! The difference between desired and actual groups: pure, no I/O. A plan
//! lists deletes, then updates, then creates (the order `apply` runs them
//! in), each in name order.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::gitops::desired::DesiredGroup;
use crate::gitops::tenant::{Fields, Group};

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Remove a group (only with `--prune`).
    Delete,
    /// Replace a group, keeping its id (renames included).
    Update,
    /// Add a group.
    Create,
}

/// One step of a plan, as `plan -o json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// create, update or delete.
    pub action: Action,
    /// The group's name (its new name for a rename).
    pub name: String,
    /// The tenant id, when the group exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For a rename: the name the group has now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// The group as it is (none for a create).
    pub before: Option<Fields>,
    /// The group as it will be (none for a delete).
    pub after: Option<Fields>,
}

impl Change {
    /// `create "NAME"`, used in messages.
    pub fn label(&self) -> String {
        let verb = match self.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        };
        format!("{verb} {:?}", self.name)
    }
}

fn set(ids: &[String]) -> BTreeSet<&str> {
    ids.iter().map(String::as_str).collect()
}

fn source_diff(from: &[String], to: &[String]) -> Option<String> {
    let (a, b) = (set(from), set(to));
    if a == b {
        return None;
    }
    let added = b.difference(&a).map(|s| format!("+{s}"));
    let removed = a.difference(&b).map(|s| format!("-{s}"));
    Some(added.chain(removed).collect::<Vec<_>>().join(" "))
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id.as_deref().unwrap_or("?");
        match (self.action, &self.before, &self.after) {
            (Action::Create, _, Some(a)) => write!(
                f,
                "+ create {:?} (policy {}, sources {})",
                self.name,
                a.password_policy_id,
                a.source_ids.join(",")
            ),
            (Action::Update, Some(b), Some(a)) => {
                write!(f, "~ update {:?} ({id})", self.name)?;
                if b.name != a.name {
                    write!(f, "\n    name: {:?} -> {:?}", b.name, a.name)?;
                }
                if b.password_policy_id != a.password_policy_id {
                    write!(
                        f,
                        "\n    passwordPolicyId: {} -> {}",
                        b.password_policy_id, a.password_policy_id
                    )?;
                }
                if let Some(d) = source_diff(&b.source_ids, &a.source_ids) {
                    write!(f, "\n    sourceIds: {d}")?;
                }
                Ok(())
            }
            _ => write!(f, "- delete {:?} ({id})", self.name),
        }
    }
}

/// How many changes of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Groups to create.
    pub create: usize,
    /// Groups to update.
    pub update: usize,
    /// Groups to delete.
    pub delete: usize,
}

/// The changes that make the tenant match the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Deletes, then updates, then creates.
    pub changes: Vec<Change>,
}

/// `plan -o json`: exactly `changes` and `summary`.
#[derive(Serialize)]
pub struct PlanDocument<'a> {
    /// The steps.
    pub changes: &'a [Change],
    /// Their counts.
    pub summary: Summary,
}

impl Plan {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Counts per action.
    pub fn counts(&self) -> Summary {
        let n = |a: Action| self.changes.iter().filter(|c| c.action == a).count();
        Summary { create: n(Action::Create), update: n(Action::Update), delete: n(Action::Delete) }
    }

    /// `N to create, N to update, N to delete`.
    pub fn summary(&self) -> String {
        let s = self.counts();
        format!("{} to create, {} to update, {} to delete", s.create, s.update, s.delete)
    }

    /// The machine-readable form.
    pub fn document(&self) -> PlanDocument<'_> {
        PlanDocument { changes: &self.changes, summary: self.counts() }
    }
}

/// Two tenant groups share a name the file uses: apply cannot tell which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbiguousName {
    /// The name.
    pub name: String,
    /// Ids of the groups that carry it.
    pub ids: Vec<String>,
}

fn one<'a>(by_name: &BTreeMap<&str, Vec<&'a Group>>, name: &str) -> Result<Option<&'a Group>, AmbiguousName> {
    match by_name.get(name).map(Vec::as_slice) {
        None | Some([]) => Ok(None),
        Some([g]) => Ok(Some(g)),
        Some(many) => {
            Err(AmbiguousName { name: name.to_string(), ids: many.iter().map(|g| g.id.clone()).collect() })
        }
    }
}

fn same(a: &Fields, b: &Fields) -> bool {
    a.name == b.name
        && a.password_policy_id == b.password_policy_id
        && set(&a.source_ids) == set(&b.source_ids)
}

/// Computes the plan. Sources compare as sets (their order has no meaning).
/// A group with `renamedFrom` takes over the tenant group of the old name,
/// unless a group of the new name already exists.
pub fn plan(desired: &[DesiredGroup], actual: &[Group], prune: bool) -> Result<Plan, AmbiguousName> {
    let mut by_name: BTreeMap<&str, Vec<&Group>> = BTreeMap::new();
    for g in actual {
        by_name.entry(g.fields.name.as_str()).or_default().push(g);
    }
    let mut claimed: BTreeSet<&str> = BTreeSet::new();
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    let mut sorted: Vec<&DesiredGroup> = desired.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for d in sorted {
        let after = d.fields();
        let (current, renamed_from) = match one(&by_name, &d.name)? {
            Some(g) => (Some(g), None),
            None => match &d.renamed_from {
                Some(old) => match one(&by_name, old)? {
                    Some(g) => (Some(g), Some(old.clone())),
                    None => (None, None),
                },
                None => (None, None),
            },
        };
        match current {
            None => creates.push(Change {
                action: Action::Create,
                name: d.name.clone(),
                id: None,
                renamed_from: None,
                before: None,
                after: Some(after),
            }),
            Some(g) => {
                claimed.insert(g.fields.name.as_str());
                if !same(&g.fields, &after) {
                    updates.push(Change {
                        action: Action::Update,
                        name: d.name.clone(),
                        id: Some(g.id.clone()),
                        renamed_from,
                        before: Some(g.fields.clone()),
                        after: Some(after),
                    });
                }
            }
        }
    }
    let mut deletes = Vec::new();
    if prune {
        for (name, groups) in &by_name {
            if !claimed.contains(name) {
                for g in groups {
                    deletes.push(Change {
                        action: Action::Delete,
                        name: name.to_string(),
                        id: Some(g.id.clone()),
                        renamed_from: None,
                        before: Some(g.fields.clone()),
                        after: None,
                    });
                }
            }
        }
    }
    Ok(Plan { changes: deletes.into_iter().chain(updates).chain(creates).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(name: &str, policy: &str, sources: &[&str]) -> DesiredGroup {
        DesiredGroup {
            name: name.into(),
            password_policy_id: policy.into(),
            source_ids: sources.iter().map(|s| s.to_string()).collect(),
            renamed_from: None,
            line: 1,
            policy_name: None,
            source_names: None,
        }
    }

    fn have(id: &str, name: &str, policy: &str, sources: &[&str]) -> Group {
        Group {
            id: id.into(),
            fields: Fields {
                name: name.into(),
                password_policy_id: policy.into(),
                source_ids: sources.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    #[test]
    fn deletes_then_updates_then_creates() {
        let desired =
            [want("new", "p", &["a", "b"]), want("same", "p", &["b", "a"]), want("moved", "q", &["a", "c"])];
        let actual = [
            have("1", "same", "p", &["a", "b"]),
            have("2", "moved", "p", &["a", "b"]),
            have("3", "old", "p", &["a", "b"]),
        ];
        let p = plan(&desired, &actual, false).unwrap();
        assert_eq!(p.summary(), "1 to create, 1 to update, 0 to delete");
        assert_eq!(
            p.changes[0].to_string(),
            "~ update \"moved\" (2)\n    passwordPolicyId: p -> q\n    sourceIds: +c -b"
        );
        let p = plan(&desired, &actual, true).unwrap();
        let actions: Vec<_> = p.changes.iter().map(|c| c.action).collect();
        assert_eq!(actions, [Action::Delete, Action::Update, Action::Create]);
        assert_eq!(p.changes[0].id.as_deref(), Some("3"));
    }

    #[test]
    fn a_rename_is_one_update_that_keeps_the_id() {
        let mut d = want("New", "p", &["a", "b"]);
        d.renamed_from = Some("Old".into());
        let p = plan(&[d], &[have("7", "Old", "p", &["a", "b"])], true).unwrap();
        assert_eq!(p.changes.len(), 1);
        let c = &p.changes[0];
        assert_eq!(
            (c.action, c.id.as_deref(), c.renamed_from.as_deref()),
            (Action::Update, Some("7"), Some("Old"))
        );
        assert_eq!(c.to_string(), "~ update \"New\" (7)\n    name: \"Old\" -> \"New\"");
    }

    #[test]
    fn json_has_exactly_changes_and_summary() {
        let p = plan(&[want("a", "p", &["x", "y"])], &[have("1", "b", "p", &["x", "y"])], true).unwrap();
        let v = serde_json::to_value(p.document()).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["changes", "summary"]);
        assert_eq!(v["summary"], serde_json::json!({"create": 1, "update": 0, "delete": 1}));
        assert_eq!(v["changes"][0]["action"], "delete");
        assert_eq!(v["changes"][0]["id"], "1");
        assert_eq!(v["changes"][0]["before"]["name"], "b");
        assert_eq!(v["changes"][1]["after"]["sourceIds"], serde_json::json!(["x", "y"]));
        assert!(v["changes"][1].get("id").is_none());
    }

    #[test]
    fn duplicate_names_in_the_tenant_are_ambiguous() {
        let err = plan(
            &[want("a", "p", &["x", "y"])],
            &[have("1", "a", "p", &["x", "y"]), have("2", "a", "p", &["x", "y"])],
            false,
        )
        .unwrap_err();
        assert_eq!(err.ids, ["1", "2"]);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Applies a plan to a model of the tenant.
        fn apply_model(actual: &[Group], plan: &Plan) -> Vec<Group> {
            let mut state: Vec<Group> = actual.to_vec();
            let mut next = 0;
            for c in &plan.changes {
                match c.action {
                    Action::Delete => state.retain(|g| Some(&g.id) != c.id.as_ref()),
                    Action::Update => {
                        let g = state
                            .iter_mut()
                            .find(|g| Some(&g.id) == c.id.as_ref())
                            .expect("updates a known id");
                        g.fields = c.after.clone().expect("update has after");
                    }
                    Action::Create => {
                        next += 1;
                        state.push(Group {
                            id: format!("new{next}"),
                            fields: c.after.clone().expect("create has after"),
                        })
                    }
                }
            }
            state
        }

        fn canon(f: &Fields) -> (String, String, BTreeSet<String>) {
            (f.name.clone(), f.password_policy_id.clone(), f.source_ids.iter().cloned().collect())
        }

        const NAMES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

        fn fields() -> impl Strategy<Value = (String, Vec<String>)> {
            (
                prop::sample::select(vec!["p", "q"]),
                prop::sample::subsequence(vec!["s1", "s2", "s3", "s4"], 2..=4),
            )
                .prop_map(|(p, s)| (p.to_string(), s.into_iter().map(String::from).collect()))
        }

        prop_compose! {
            fn states()(
                actual_names in prop::sample::subsequence(NAMES.to_vec(), 0..=8),
                actual_fields in prop::collection::vec(fields(), 8),
                desired_names in prop::sample::subsequence(NAMES.to_vec(), 0..=8),
                desired_fields in prop::collection::vec(fields(), 8),
                renames in prop::collection::vec(prop::option::of(prop::sample::select(NAMES.to_vec())), 8),
                prune in any::<bool>(),
            ) -> (Vec<DesiredGroup>, Vec<Group>, bool) {
                let actual: Vec<Group> = actual_names.iter().zip(&actual_fields).enumerate().map(|(i, (n, (p, s)))| Group {
                    id: format!("id{i}"),
                    fields: Fields { name: n.to_string(), password_policy_id: p.clone(), source_ids: s.clone() },
                }).collect();
                let mut used_old: BTreeSet<&str> = BTreeSet::new();
                let desired = desired_names.iter().zip(&desired_fields).zip(&renames).map(|((n, (p, s)), r)| {
                    // A valid file: renamedFrom names no kept group, differs from the name, is unique.
                    let renamed_from = r.filter(|old| old != n && !desired_names.contains(old) && used_old.insert(old));
                    DesiredGroup {
                        name: n.to_string(),
                        password_policy_id: p.clone(),
                        source_ids: s.clone(),
                        renamed_from: renamed_from.map(String::from),
                        line: 1,
                        policy_name: None,
                        source_names: None,
                    }
                }).collect();
                (desired, actual, prune)
            }
        }

        proptest! {
            #[test]
            fn applying_the_plan_reaches_the_desired_state((desired, actual, prune) in states()) {
                let p = plan(&desired, &actual, prune).unwrap();
                let after = apply_model(&actual, &p);
                let mut want: Vec<_> = desired.iter().map(|d| canon(&d.fields())).collect();
                want.sort();
                if prune {
                    let mut got: Vec<_> = after.iter().map(|g| canon(&g.fields)).collect();
                    got.sort();
                    prop_assert_eq!(got, want);
                } else {
                    for w in &want {
                        prop_assert!(after.iter().any(|g| &canon(&g.fields) == w), "{:?} missing", w);
                    }
                    prop_assert!(p.changes.iter().all(|c| c.action != Action::Delete));
                    prop_assert!(actual.iter().all(|a| after.iter().any(|g| g.id == a.id)), "nothing deleted");
                }
                prop_assert!(plan(&desired, &after, prune).unwrap().is_empty(), "planning again is empty");
            }

            #[test]
            fn renames_never_create((desired, actual, prune) in states()) {
                let p = plan(&desired, &actual, prune).unwrap();
                for d in desired.iter().filter(|d| d.renamed_from.is_some()) {
                    let old = d.renamed_from.as_deref().unwrap_or_default();
                    let old_exists = actual.iter().any(|g| g.fields.name == old);
                    if old_exists {
                        prop_assert!(!p.changes.iter().any(|c| c.action == Action::Create && c.name == d.name));
                    }
                }
                // Every id that survives keeps its identity: updates never change ids.
                let ids: BTreeSet<_> = actual.iter().map(|g| g.id.clone()).collect();
                for c in p.changes.iter().filter(|c| c.action == Action::Update) {
                    prop_assert!(ids.contains(c.id.as_deref().unwrap_or_default()));
                }
            }
        }
    }
}
