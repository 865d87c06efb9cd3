//! What an apply says: one line per change as its outcome is established,
//! the summary that counts outcomes, and the `-o json` document.

use serde::Serialize;

use crate::gitops::execute::machine::{Machine, Outcome};
use crate::gitops::plan::{Action, Change};
use crate::gitops::tenant::Failed;

/// `"NAME" (ID)`, or `"NAME"` for a change without an id.
fn target(change: &Change, id: Option<&str>) -> String {
    match id.or(change.id.as_deref()) {
        Some(id) => format!("{:?} ({id})", change.name),
        None => format!("{:?}", change.name),
    }
}

/// The line for a change that reached `outcome`; `None` for a change
/// that was never started (the summary counts those).
pub fn line(change: &Change, outcome: &Outcome) -> Option<String> {
    Some(match outcome {
        Outcome::Applied { id, .. } => match change.action {
            Action::Create => format!("created {:?} ({id})", change.name),
            Action::Update => {
                let renamed =
                    change.renamed_from.as_ref().map(|o| format!(", renamed from {o:?}")).unwrap_or_default();
                format!("updated {:?} ({id}){renamed}", change.name)
            }
            Action::Delete => format!("deleted {:?} ({id})", change.name),
        },
        Outcome::Conflict { detail } => format!("conflict {}: {detail}", target(change, None)),
        Outcome::Failed { error } => {
            let field = error.field.map(|f| format!(" (field {f})")).unwrap_or_default();
            format!("failed {}: {}{field}: {}", target(change, None), change.label(), error.text)
        }
        Outcome::Unknown { why } => {
            let check = match &change.id {
                Some(id) => id.clone(),
                None => format!("--name {:?}", change.name),
            };
            format!("unknown {}: {why}; check with psg groups get {check}", target(change, None))
        }
        Outcome::NotStarted => return None,
    })
}

/// What an apply did, counted from the outcomes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Reviewed changes.
    pub total: usize,
    /// Applied creates.
    pub created: usize,
    /// Applied updates.
    pub updated: usize,
    /// Applied deletes.
    pub deleted: usize,
    /// Changes the tenant no longer allowed as reviewed.
    pub conflicts: usize,
    /// Changes that definitely did not happen.
    pub failed: usize,
    /// Changes whose outcome psg could not establish.
    pub unknown: usize,
    /// Changes never sent.
    pub not_started: usize,
    /// Whether running again may help: an unknown outcome, a change never
    /// started, or a failure that may pass (a 5xx, a 429, no answer).
    pub retry_may_help: bool,
}

impl Report {
    /// Counts the outcomes of a finished run.
    pub fn of(machine: &Machine) -> Report {
        let mut r = Report { total: machine.changes.len(), ..Report::default() };
        for (i, change) in machine.changes.iter().enumerate() {
            match machine.outcome(i) {
                Some(Outcome::Applied { .. }) => match change.action {
                    Action::Create => r.created += 1,
                    Action::Update => r.updated += 1,
                    Action::Delete => r.deleted += 1,
                },
                Some(Outcome::Conflict { .. }) => r.conflicts += 1,
                Some(Outcome::Failed { error }) => {
                    r.failed += 1;
                    r.retry_may_help |= matches!(error.kind, Failed::Transient | Failed::Unknown);
                }
                Some(Outcome::Unknown { .. }) => {
                    r.unknown += 1;
                    r.retry_may_help = true;
                }
                Some(Outcome::NotStarted) | None => {
                    r.not_started += 1;
                    r.retry_may_help = true;
                }
            }
        }
        r
    }

    /// Changes applied.
    pub fn applied(&self) -> usize {
        self.created + self.updated + self.deleted
    }

    /// `Applied: N of M changes (C created, U updated, D deleted); K conflict(s), F failed, X unknown.`
    pub fn summary(&self) -> String {
        format!(
            "Applied: {} of {} changes ({} created, {} updated, {} deleted); {} conflict(s), {} failed, {} unknown.",
            self.applied(),
            self.total,
            self.created,
            self.updated,
            self.deleted,
            self.conflicts,
            self.failed,
            self.unknown
        )
    }
}

/// One change of the `-o json` document.
#[derive(Debug, Serialize)]
struct ChangeDoc<'a> {
    action: &'static str,
    name: &'a str,
    id: Option<&'a str>,
    outcome: &'static str,
    detail: Option<String>,
}

/// The counts of the `-o json` document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryDoc {
    applied: usize,
    conflict: usize,
    failed: usize,
    unknown: usize,
    not_started: usize,
}

/// `psg apply -o json`: `{"changes": [{action, name, id, outcome, detail}], "summary": {…}}`.
pub fn document(machine: &Machine) -> serde_json::Value {
    let changes: Vec<ChangeDoc<'_>> = machine
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let outcome = machine.outcome(i).unwrap_or(&Outcome::NotStarted);
            let (word, id, detail) = match outcome {
                Outcome::Applied { id, detail } => ("applied", Some(id.as_str()), detail.clone()),
                Outcome::Conflict { detail } => ("conflict", c.id.as_deref(), Some(detail.clone())),
                Outcome::Failed { error } => ("failed", c.id.as_deref(), Some(error.text.clone())),
                Outcome::Unknown { why } => ("unknown", c.id.as_deref(), Some(why.clone())),
                Outcome::NotStarted => ("not-started", c.id.as_deref(), None),
            };
            let action = match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Delete => "delete",
            };
            ChangeDoc { action, name: &c.name, id, outcome: word, detail }
        })
        .collect();
    let r = Report::of(machine);
    let summary = SummaryDoc {
        applied: r.applied(),
        conflict: r.conflicts,
        failed: r.failed,
        unknown: r.unknown,
        not_started: r.not_started,
    };
    serde_json::json!({ "changes": changes, "summary": summary })
}

/// Why running again will not help, for the closing message of a run
/// whose misses are all definite: conflicts (the tenant changed since the
/// plan), refusals that will repeat, and updates that each need sources
/// another holds (a cycle that no order of writes can break).
pub fn why_not(machine: &Machine) -> String {
    let refused: Vec<&Change> = machine
        .changes
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(machine.outcome(*i), Some(Outcome::Failed { error }) if error.field == Some("sourceIds")))
        .map(|(_, c)| c)
        .collect();
    let needs = |a: &Change, b: &Change| {
        let wanted = a.after.as_ref().map(|f| f.source_ids.as_slice()).unwrap_or_default();
        let held = b.before.as_ref().map(|f| f.source_ids.as_slice()).unwrap_or_default();
        wanted.iter().any(|s| held.contains(s))
    };
    let cycle = refused.iter().enumerate().find_map(|(k, a)| {
        refused[k + 1..]
            .iter()
            .find(|b| a.action == Action::Update && b.action == Action::Update && needs(a, b) && needs(b, a))
            .map(|b| (a, b))
    });
    let mut why = Vec::new();
    if let Some((a, b)) = cycle {
        why.push(format!(
            "{:?} and {:?} each need a source the other holds, so neither update can go first: move the sources in two applies (first out of one group, then into the other)",
            a.name, b.name
        ));
    }
    let conflicts = (0..machine.changes.len())
        .filter(|&i| matches!(machine.outcome(i), Some(Outcome::Conflict { .. })))
        .count();
    if conflicts > 0 {
        why.push(format!(
            "{conflicts} change(s) met a tenant that changed since the plan: run psg plan to review the tenant as it is now"
        ));
    }
    if why.is_empty() {
        why.push(
            "the server refused the changes above and would refuse them again: fix the file, then psg plan"
                .into(),
        );
    }
    why.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::tenant::{Fields, WriteError};

    fn create(name: &str) -> Change {
        let after =
            Fields { name: name.into(), password_policy_id: "p".into(), source_ids: vec!["s".into()] };
        Change {
            action: Action::Create,
            name: name.into(),
            id: None,
            renamed_from: None,
            before: None,
            after: Some(after),
        }
    }

    #[test]
    fn lines_name_the_outcome_and_how_to_check_an_unknown_one() {
        let c = create("Late one");
        let applied = Outcome::Applied { id: "9".into(), detail: None };
        assert_eq!(line(&c, &applied).unwrap(), "created \"Late one\" (9)");
        let unknown = Outcome::Unknown { why: "no answer".into() };
        assert_eq!(
            line(&c, &unknown).unwrap(),
            "unknown \"Late one\": no answer; check with psg groups get --name \"Late one\""
        );
        let failed = Outcome::Failed { error: WriteError::new(Failed::Refused, "HTTP 400: bad") };
        assert_eq!(line(&c, &failed).unwrap(), "failed \"Late one\": create \"Late one\": HTTP 400: bad");
        assert_eq!(line(&c, &Outcome::NotStarted), None);
    }

    #[test]
    fn the_document_has_one_entry_per_reviewed_change_and_counts_them() {
        let mut m = Machine::new(vec![create("a"), create("b")]);
        m.answered(0, Ok("1".into()));
        m.finish(None);
        let doc = document(&m);
        assert_eq!(doc["changes"][0]["outcome"], "applied");
        assert_eq!(doc["changes"][0]["id"], "1");
        assert_eq!(doc["changes"][1]["outcome"], "not-started");
        assert!(doc["changes"][1]["id"].is_null());
        assert_eq!(
            doc["summary"],
            serde_json::json!({"applied": 1, "conflict": 0, "failed": 0, "unknown": 0, "notStarted": 1})
        );
        assert_eq!(
            Report::of(&m).summary(),
            "Applied: 1 of 2 changes (1 created, 0 updated, 0 deleted); 0 conflict(s), 0 failed, 0 unknown."
        );
    }

    fn update(name: &str, id: &str, before: &[&str], after: &[&str]) -> Change {
        let f = |s: &[&str]| Fields {
            name: name.into(),
            password_policy_id: "p".into(),
            source_ids: s.iter().map(|x| x.to_string()).collect(),
        };
        Change {
            action: Action::Update,
            name: name.into(),
            id: Some(id.into()),
            renamed_from: None,
            before: Some(f(before)),
            after: Some(f(after)),
        }
    }

    #[test]
    fn two_updates_that_each_need_what_the_other_holds_are_named_as_a_cycle() {
        let swap = vec![
            update("A", "1", &["a1", "a2"], &["b1", "a2"]),
            update("B", "2", &["b1", "b2"], &["a1", "b2"]),
        ];
        let mut m = Machine::new(swap);
        let held = |holder: &str| {
            let mut e = WriteError::new(Failed::Refused, format!("HTTP 400: source held by {holder}"));
            e.field = Some("sourceIds");
            e
        };
        m.answered(0, Err(held("B")));
        m.answered(1, Err(held("A")));
        m.finish(None);
        let why = why_not(&m);
        assert!(why.contains("\"A\" and \"B\" each need a source the other holds"), "{why}");
        assert!(!Report::of(&m).retry_may_help, "running again cannot help");

        // One refusal without a cycle says the server would refuse again.
        let mut m = Machine::new(vec![update("A", "1", &["a1", "a2"], &["b1", "a2"])]);
        m.answered(0, Err(held("B")));
        m.finish(None);
        assert!(why_not(&m).contains("would refuse them again"), "{}", why_not(&m));
    }
}
