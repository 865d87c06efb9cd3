//! The difference between desired and actual groups: pure, no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use psg_ext::Group;

use crate::desired::DesiredGroup;

/// One field that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// API field name.
    pub field: &'static str,
    /// Human-readable description of the change.
    pub detail: String,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Create a group.
    Create(DesiredGroup),
    /// Replace an existing group.
    Update {
        /// Its id.
        id: String,
        /// What it should become.
        desired: DesiredGroup,
        /// What changes.
        fields: Vec<FieldChange>,
    },
    /// Delete a group the file does not name (only with `--prune`).
    Delete {
        /// Its id.
        id: String,
        /// Its name.
        name: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Create(d) => write!(
                f,
                "+ create {:?} (policy {}, sources {})",
                d.name,
                d.password_policy_id,
                d.source_ids.join(",")
            ),
            Change::Update { id, desired, fields } => {
                write!(f, "~ update {:?} ({id})", desired.name)?;
                for c in fields {
                    write!(f, "\n    {}: {}", c.field, c.detail)?;
                }
                Ok(())
            }
            Change::Delete { id, name } => write!(f, "- delete {name:?} ({id})"),
        }
    }
}

/// The changes that make `actual` match `desired`, creates first, then
/// updates, then deletes, each in name order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The steps.
    pub changes: Vec<Change>,
}

impl Plan {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// `N to create, N to update, N to delete`.
    pub fn summary(&self) -> String {
        let count = |f: fn(&Change) -> bool| self.changes.iter().filter(|c| f(c)).count();
        format!(
            "{} to create, {} to update, {} to delete",
            count(|c| matches!(c, Change::Create(_))),
            count(|c| matches!(c, Change::Update { .. })),
            count(|c| matches!(c, Change::Delete { .. }))
        )
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

fn source_diff(from: &[String], to: &[String]) -> Option<String> {
    let a: BTreeSet<_> = from.iter().collect();
    let b: BTreeSet<_> = to.iter().collect();
    if a == b {
        return None;
    }
    let added: Vec<_> = b.difference(&a).map(|s| format!("+{s}")).collect();
    let removed: Vec<_> = a.difference(&b).map(|s| format!("-{s}")).collect();
    Some(added.into_iter().chain(removed).collect::<Vec<_>>().join(" "))
}

/// Computes the plan. Sources compare as sets (their order has no meaning).
pub fn plan(desired: &[DesiredGroup], actual: &[Group], prune: bool) -> Result<Plan, AmbiguousName> {
    let mut by_name: BTreeMap<&str, Vec<&Group>> = BTreeMap::new();
    for g in actual {
        by_name.entry(g.name.as_str()).or_default().push(g);
    }
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    let mut sorted: Vec<&DesiredGroup> = desired.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for d in sorted {
        match by_name.get(d.name.as_str()).map(Vec::as_slice) {
            None | Some([]) => creates.push(Change::Create(d.clone())),
            Some([current]) => {
                let mut fields = Vec::new();
                let policy = current.password_policy_id.as_str();
                if policy != d.password_policy_id {
                    fields.push(FieldChange {
                        field: "passwordPolicyId",
                        detail: format!("{policy} -> {}", d.password_policy_id),
                    });
                }
                if let Some(detail) = source_diff(&current.source_ids, &d.source_ids) {
                    fields.push(FieldChange { field: "sourceIds", detail });
                }
                if !fields.is_empty() {
                    updates.push(Change::Update { id: current.id.clone(), desired: d.clone(), fields });
                }
            }
            Some(many) => {
                return Err(AmbiguousName {
                    name: d.name.clone(),
                    ids: many.iter().map(|g| g.id.clone()).collect(),
                });
            }
        }
    }
    let mut deletes = Vec::new();
    if prune {
        let wanted: BTreeSet<&str> = desired.iter().map(|d| d.name.as_str()).collect();
        for (name, groups) in &by_name {
            if !wanted.contains(name) {
                for g in groups {
                    deletes.push(Change::Delete { id: g.id.clone(), name: name.to_string() });
                }
            }
        }
    }
    Ok(Plan { changes: creates.into_iter().chain(updates).chain(deletes).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(name: &str, policy: &str, sources: &[&str]) -> DesiredGroup {
        DesiredGroup {
            name: name.into(),
            password_policy_id: policy.into(),
            source_ids: sources.iter().map(|s| s.to_string()).collect(),
            line: 1,
        }
    }

    fn have(id: &str, name: &str, policy: &str, sources: &[&str]) -> Group {
        Group::new(id, name, policy, sources.iter().copied())
    }

    #[test]
    fn creates_updates_and_prunes() {
        let desired =
            [want("new", "p", &["a", "b"]), want("same", "p", &["b", "a"]), want("moved", "q", &["a", "c"])];
        let actual = [
            have("1", "same", "p", &["a", "b"]),
            have("2", "moved", "p", &["a", "b"]),
            have("3", "old", "p", &["a", "b"]),
        ];
        let p = plan(&desired, &actual, false).unwrap();
        assert_eq!(p.summary(), "1 to create, 1 to update, 0 to delete");
        match &p.changes[1] {
            Change::Update { id, fields, .. } => {
                assert_eq!(id, "2");
                assert_eq!(fields[0], FieldChange { field: "passwordPolicyId", detail: "p -> q".into() });
                assert_eq!(fields[1], FieldChange { field: "sourceIds", detail: "+c -b".into() });
            }
            other => panic!("{other:?}"),
        }
        let p = plan(&desired, &actual, true).unwrap();
        assert_eq!(p.changes.last(), Some(&Change::Delete { id: "3".into(), name: "old".into() }));
    }

    #[test]
    fn matching_state_is_an_empty_plan() {
        let p = plan(&[want("a", "p", &["x", "y"])], &[have("1", "a", "p", &["y", "x"])], true).unwrap();
        assert!(p.is_empty());
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
}
