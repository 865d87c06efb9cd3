//! The executor's pure core: where each reviewed change stands, and how an
//! answer or a read of the tenant moves it. No I/O and no clock: the
//! [driver](super::driver) performs the writes and reads and feeds their
//! results in. Every state belongs to one reviewed change; nothing here can
//! add a change, drop one, or turn one into another.
//!
//! ```text
//! Pending ──check(read)──▶ send ──answered──▶ Applied
//!    ▲   ╲                               ╲──▶ Failed (credentials, 403)
//!    │    ╲─▶ Applied | Conflict          ╲─▶ Pending (the answer settled nothing,
//!    └──────────── next round ◀────────────    or a refusal that progress may lift)
//! finish(read): Pending ─▶ Applied | Conflict | Failed | Unknown | NotStarted
//! ```

use std::collections::BTreeSet;

use crate::gitops::plan::{Action, Change};
use crate::gitops::tenant::{Failed, Fields, Group, WriteError};

/// The scope a client needs to write groups.
pub const MANAGE_SCOPE: &str = "idn:password-sync-group:manage";

/// How a change ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// In effect; `id` is the group's. `detail` says how psg knows when
    /// no answer said so.
    Applied { id: String, detail: Option<String> },
    /// The tenant changed since the plan in a way the change did not review.
    Conflict { detail: String },
    /// Definitely not in effect.
    Failed { error: WriteError },
    /// psg could not establish the outcome.
    Unknown { why: String },
    /// Never sent (stopped first).
    NotStarted,
}

/// Where a change stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not finished: sent `sent` times so far; `acted` when one of those
    /// writes may have been carried out without an answer saying so;
    /// `last` is the last failed answer.
    Pending { sent: u32, acted: bool, last: Option<WriteError> },
    /// Finished.
    Done(Outcome),
}

/// What a read of the tenant shows about a change (pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// In effect, and psg's own earlier write may have made it: `id` is the group's.
    Applied(String),
    /// The tenant changed since the plan in a way the change did not review.
    Conflict(String),
    /// The target is still as reviewed: the change may be sent (again).
    Send,
}

fn source_set(f: &Fields) -> BTreeSet<&str> {
    f.source_ids.iter().map(String::as_str).collect()
}

fn same_fields(a: &Fields, b: &Fields) -> bool {
    a.name == b.name && a.password_policy_id == b.password_policy_id && source_set(a) == source_set(b)
}

fn what_changed(before: &Fields, now: &Fields) -> String {
    if before.name != now.name {
        return format!("renamed to {:?} since the plan", now.name);
    }
    let mut fields = Vec::new();
    if before.password_policy_id != now.password_policy_id {
        fields.push("passwordPolicyId");
    }
    if source_set(before) != source_set(now) {
        fields.push("sourceIds");
    }
    format!("{} changed since the plan", fields.join(" and "))
}

/// Decides a change from a fresh listing. `may_have_acted` says whether an
/// earlier write of this change may have been carried out without an
/// answer saying so: only then does a target in the desired state count as
/// psg's own change.
pub fn judge(change: &Change, may_have_acted: bool, fresh: &[Group]) -> Verdict {
    let by_id = change.id.as_ref().and_then(|id| fresh.iter().find(|g| &g.id == id));
    let reviewed = change.before.clone().unwrap_or_default();
    let desired = change.after.clone().unwrap_or_default();
    match change.action {
        Action::Update => match by_id {
            None => Verdict::Conflict("deleted since the plan".into()),
            Some(g) if same_fields(&g.fields, &desired) && may_have_acted => Verdict::Applied(g.id.clone()),
            Some(g) if same_fields(&g.fields, &desired) => {
                Verdict::Conflict("changed since the plan to what the file wants, by someone else".into())
            }
            Some(g) if same_fields(&g.fields, &reviewed) => Verdict::Send,
            Some(g) => Verdict::Conflict(what_changed(&reviewed, &g.fields)),
        },
        Action::Delete => match by_id {
            None if may_have_acted => Verdict::Applied(change.id.clone().unwrap_or_default()),
            None => Verdict::Conflict("deleted since the plan".into()),
            Some(g) if same_fields(&g.fields, &reviewed) => Verdict::Send,
            Some(g) => Verdict::Conflict(what_changed(&reviewed, &g.fields)),
        },
        Action::Create => {
            let named: Vec<&Group> = fresh.iter().filter(|g| g.fields.name == change.name).collect();
            match named.as_slice() {
                [] => Verdict::Send,
                [g] if may_have_acted && same_fields(&g.fields, &desired) => Verdict::Applied(g.id.clone()),
                [g] => {
                    Verdict::Conflict(format!("a group of this name was created since the plan ({})", g.id))
                }
                many => Verdict::Conflict(format!(
                    "another writer created {:?} at the same time ({})",
                    change.name,
                    many.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(", ")
                )),
            }
        }
    }
}

/// Why a whole apply must stop after this answer, if it must.
fn halt_reason(change: &Change, e: &WriteError) -> Option<String> {
    match e.kind {
        Failed::Forbidden => Some(format!(
            "{} was refused with HTTP 403: the API client lacks scope {MANAGE_SCOPE} (grant it, or use a client that has it)",
            change.label()
        )),
        Failed::Credentials => Some(format!(
            "{} was refused: the credentials were not accepted ({}); check SAIL_CLIENT_ID and SAIL_CLIENT_SECRET, the access token, or the profile",
            change.label(),
            e.text
        )),
        _ => None,
    }
}

/// The reviewed changes and where each stands.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The reviewed changes, in plan order (never altered).
    pub changes: Vec<Change>,
    /// One state per change.
    pub states: Vec<State>,
    /// Whether a change was applied during the current round.
    progress: bool,
    /// Whether the previous round applied a change (a refusal is tried again only then).
    progressed_before: bool,
}

impl Machine {
    /// Every change pending, nothing sent.
    pub fn new(changes: Vec<Change>) -> Self {
        let states = changes.iter().map(|_| State::Pending { sent: 0, acted: false, last: None }).collect();
        Machine { changes, states, progress: false, progressed_before: true }
    }

    /// Pending changes of `action` that this round may send: all of them,
    /// except refusals when the previous round applied nothing (they would
    /// be refused again).
    pub fn due(&self, action: Action) -> Vec<usize> {
        (0..self.changes.len())
            .filter(|&i| self.changes[i].action == action)
            .filter(|&i| match &self.states[i] {
                State::Pending { last: Some(e), .. } if e.kind == Failed::Refused => self.progressed_before,
                State::Pending { .. } => true,
                State::Done(_) => false,
            })
            .collect()
    }

    fn settle(&mut self, i: usize, outcome: Outcome) {
        if matches!(outcome, Outcome::Applied { .. }) {
            self.progress = true;
        }
        self.states[i] = State::Done(outcome);
    }

    /// Checks change `i` against a read taken right before sending it:
    /// returns whether to send it. A target that is no longer as reviewed
    /// ends the change (conflict, or applied when psg's own earlier write
    /// shows up), so it is never sent.
    pub fn check(&mut self, i: usize, fresh: &[Group]) -> bool {
        let State::Pending { acted, .. } = self.states[i] else { return false };
        match judge(&self.changes[i], acted, fresh) {
            Verdict::Send => true,
            Verdict::Applied(id) => {
                let detail = Some("found in effect after an unanswered request".to_string());
                self.settle(i, Outcome::Applied { id, detail });
                false
            }
            Verdict::Conflict(detail) => {
                self.settle(i, Outcome::Conflict { detail });
                false
            }
        }
    }

    /// Records the answer to a write of change `i` (its id on success).
    /// Returns why the whole apply must stop, when the answer says so.
    pub fn answered(&mut self, i: usize, answer: Result<String, WriteError>) -> Option<String> {
        let State::Pending { sent, acted, .. } = self.states[i].clone() else { return None };
        match answer {
            Ok(id) => {
                self.settle(i, Outcome::Applied { id, detail: None });
                None
            }
            // Stopped before it was sent: where it stood before.
            Err(e) if e.kind == Failed::NotSent => None,
            // psg's own earlier delete, whose answer was lost, landed.
            Err(e) if e.kind == Failed::Gone && acted && self.changes[i].action == Action::Delete => {
                let id = self.changes[i].id.clone().unwrap_or_default();
                let detail = Some("gone after an earlier unanswered delete".to_string());
                self.settle(i, Outcome::Applied { id, detail });
                None
            }
            Err(e) if e.kind == Failed::Gone && self.changes[i].action != Action::Create => {
                self.settle(i, Outcome::Conflict { detail: "deleted since the plan".into() });
                None
            }
            Err(e) => {
                if let Some(reason) = halt_reason(&self.changes[i], &e) {
                    self.settle(i, Outcome::Failed { error: e });
                    return Some(reason);
                }
                let acted = acted || e.may_have_acted();
                self.states[i] = State::Pending { sent: sent + 1, acted, last: Some(e) };
                None
            }
        }
    }

    /// Records that change `i` could not be checked before sending (the
    /// read failed): it stays pending, not sent, and if the run ends so it
    /// definitely did not happen, for this reason.
    pub fn unchecked(&mut self, i: usize, why: WriteError) {
        if let State::Pending { last, .. } = &mut self.states[i]
            && last.is_none()
        {
            *last = Some(why);
        }
    }

    /// Ends a round: whether another round may make progress (`round` of
    /// `rounds`).
    pub fn next_round(&mut self, round: u32, rounds: u32) -> bool {
        self.progressed_before = std::mem::take(&mut self.progress);
        round < rounds
            && [Action::Delete, Action::Update, Action::Create].iter().any(|&a| !self.due(a).is_empty())
    }

    /// Pending changes that were sent and not settled: a last read decides them.
    pub fn unsettled(&self) -> Vec<usize> {
        (0..self.states.len())
            .filter(|&i| matches!(self.states[i], State::Pending { last: Some(_), .. }))
            .collect()
    }

    /// Creates whose earlier write may have been carried out without an
    /// answer (among `indices`): a read for them waits for late commits.
    pub fn awaited_creates<'a>(&'a self, indices: &'a [usize]) -> impl Iterator<Item = &'a str> + 'a {
        indices.iter().filter_map(|&i| match self.states[i] {
            State::Pending { acted: true, .. } if self.changes[i].action == Action::Create => {
                Some(self.changes[i].name.as_str())
            }
            _ => None,
        })
    }

    /// Ends the run: every pending change gets its outcome from a last read
    /// (`None` when the tenant could not be read). Returns the changes that
    /// ended here.
    pub fn finish(&mut self, fresh: Option<&[Group]>) -> Vec<usize> {
        let mut ended = Vec::new();
        for i in 0..self.states.len() {
            let State::Pending { acted, last, .. } = self.states[i].clone() else { continue };
            let outcome = match (last, fresh) {
                (None, _) => Outcome::NotStarted,
                (Some(e), None) if acted => {
                    Outcome::Unknown { why: format!("{}, and the tenant could not be read to check", e.text) }
                }
                (Some(e), None) => Outcome::Failed { error: e },
                (Some(e), Some(fresh)) => match judge(&self.changes[i], acted, fresh) {
                    Verdict::Applied(id) => Outcome::Applied {
                        id,
                        detail: Some("found in effect after an unanswered request".into()),
                    },
                    Verdict::Conflict(detail) => Outcome::Conflict { detail },
                    Verdict::Send if acted && self.changes[i].action == Action::Create => Outcome::Unknown {
                        why: format!("{}, and the group was not seen after waiting for it", e.text),
                    },
                    // The read shows the reviewed state, but the server may
                    // still carry out a write it has not answered.
                    Verdict::Send if acted => Outcome::Unknown {
                        why: format!(
                            "{}, and the group still showed its reviewed state; the write may yet land",
                            e.text
                        ),
                    },
                    Verdict::Send => Outcome::Failed { error: e },
                },
            };
            self.settle(i, outcome);
            ended.push(i);
        }
        ended
    }

    /// Names of the groups this run created.
    pub fn created(&self) -> Vec<usize> {
        (0..self.states.len())
            .filter(|&i| {
                self.changes[i].action == Action::Create
                    && matches!(self.states[i], State::Done(Outcome::Applied { .. }))
            })
            .collect()
    }

    /// After a run that created groups: a name now held by more than one
    /// group was created by another writer at the same time, and that
    /// create is a conflict. Returns the changes that became conflicts.
    pub fn verify_created(&mut self, fresh: &[Group]) -> Vec<usize> {
        let mut turned = Vec::new();
        for i in self.created() {
            let name = &self.changes[i].name;
            let ids: Vec<&str> =
                fresh.iter().filter(|g| &g.fields.name == name).map(|g| g.id.as_str()).collect();
            if ids.len() > 1 {
                let detail = format!("another writer created {name:?} at the same time ({})", ids.join(", "));
                self.states[i] = State::Done(Outcome::Conflict { detail });
                turned.push(i);
            }
        }
        turned
    }

    /// The outcome of change `i`, once finished.
    pub fn outcome(&self, i: usize) -> Option<&Outcome> {
        match &self.states[i] {
            State::Done(o) => Some(o),
            State::Pending { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::tenant::Fields;

    fn fields(name: &str, policy: &str, sources: &[&str]) -> Fields {
        Fields {
            name: name.into(),
            password_policy_id: policy.into(),
            source_ids: sources.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn group(id: &str, f: Fields) -> Group {
        Group { id: id.into(), fields: f }
    }

    fn change(action: Action, id: Option<&str>, before: Option<Fields>, after: Option<Fields>) -> Change {
        let name = after.as_ref().or(before.as_ref()).map(|f| f.name.clone()).unwrap_or_default();
        Change { action, name, id: id.map(String::from), renamed_from: None, before, after }
    }

    fn lost() -> WriteError {
        WriteError::new(Failed::Unknown, "no answer")
    }

    #[test]
    fn an_update_whose_group_was_deleted_meanwhile_is_a_conflict_never_applied() {
        let c =
            change(Action::Update, Some("1"), Some(fields("g", "p", &["a"])), Some(fields("g", "q", &["a"])));
        for acted in [false, true] {
            assert_eq!(judge(&c, acted, &[]), Verdict::Conflict("deleted since the plan".into()));
        }
    }

    #[test]
    fn a_target_renamed_elsewhere_is_a_conflict_and_nothing_else_is_done() {
        let c =
            change(Action::Update, Some("1"), Some(fields("g", "p", &["a"])), Some(fields("g", "q", &["a"])));
        let fresh = [group("1", fields("g (renamed elsewhere)", "p", &["a"]))];
        assert_eq!(
            judge(&c, true, &fresh),
            Verdict::Conflict("renamed to \"g (renamed elsewhere)\" since the plan".into())
        );
        let d = change(Action::Delete, Some("1"), Some(fields("g", "p", &["a"])), None);
        assert!(matches!(judge(&d, true, &fresh), Verdict::Conflict(_)));
    }

    #[test]
    fn the_desired_state_counts_as_applied_only_when_psg_may_have_written_it() {
        let want = fields("g", "q", &["b", "a"]);
        let c = change(Action::Update, Some("1"), Some(fields("g", "p", &["a", "b"])), Some(want));
        let fresh = [group("1", fields("g", "q", &["a", "b"]))];
        assert_eq!(judge(&c, true, &fresh), Verdict::Applied("1".into()));
        assert!(matches!(judge(&c, false, &fresh), Verdict::Conflict(_)));
        assert_eq!(judge(&c, true, &[group("1", fields("g", "p", &["a", "b"]))]), Verdict::Send);
        assert_eq!(
            judge(&c, true, &[group("1", fields("g", "p", &["a", "c"]))]),
            Verdict::Conflict("sourceIds changed since the plan".into())
        );
    }

    #[test]
    fn deletes_are_applied_when_gone_after_an_unsettled_answer_and_sent_again_when_untouched() {
        let before = fields("g", "p", &["a", "b"]);
        let d = change(Action::Delete, Some("1"), Some(before.clone()), None);
        assert_eq!(judge(&d, true, &[]), Verdict::Applied("1".into()));
        assert_eq!(judge(&d, false, &[]), Verdict::Conflict("deleted since the plan".into()));
        assert_eq!(judge(&d, true, &[group("1", before)]), Verdict::Send);
    }

    #[test]
    fn creates_are_found_by_name_once_and_duplicates_are_reported() {
        let want = fields("Late one", "p", &["a", "b"]);
        let c = change(Action::Create, None, None, Some(want.clone()));
        assert_eq!(judge(&c, true, &[]), Verdict::Send);
        assert_eq!(judge(&c, true, &[group("9", want.clone())]), Verdict::Applied("9".into()));
        assert!(matches!(judge(&c, false, &[group("9", want.clone())]), Verdict::Conflict(_)));
        match judge(&c, true, &[group("9", want.clone()), group("8", want)]) {
            Verdict::Conflict(text) => {
                assert!(text.contains("another writer created") && text.contains("9, 8"), "{text}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_create_whose_name_was_taken_before_it_was_sent_is_never_sent() {
        let c = change(Action::Create, None, None, Some(fields("n", "p", &["a"])));
        let mut m = Machine::new(vec![c]);
        assert!(!m.check(0, &[group("7", fields("n", "other", &["b"]))]));
        assert!(matches!(m.outcome(0), Some(Outcome::Conflict { .. })));
        assert!(m.due(Action::Create).is_empty());
    }

    #[test]
    fn a_refused_change_is_sent_again_only_after_a_round_that_made_progress() {
        let a = change(Action::Create, None, None, Some(fields("a", "p", &["x"])));
        let b = change(Action::Create, None, None, Some(fields("b", "p", &["y"])));
        let mut m = Machine::new(vec![a, b]);
        m.answered(0, Err(WriteError::new(Failed::Refused, "HTTP 400")));
        m.answered(1, Ok("id-b".into()));
        assert!(m.next_round(1, 3));
        assert_eq!(m.due(Action::Create), [0]);
        m.answered(0, Err(WriteError::new(Failed::Refused, "HTTP 400")));
        assert!(!m.next_round(2, 3), "no progress: the refusal would repeat");
        let ended = m.finish(Some(&[group("id-b", fields("b", "p", &["y"]))]));
        assert_eq!(ended, [0]);
        assert!(matches!(m.outcome(0), Some(Outcome::Failed { .. })));
    }

    #[test]
    fn credentials_refused_halt_and_the_rest_is_not_started() {
        let a = change(Action::Delete, Some("1"), Some(fields("a", "p", &["x"])), None);
        let b = change(Action::Delete, Some("2"), Some(fields("b", "p", &["y"])), None);
        let mut m = Machine::new(vec![a, b]);
        let halt = m.answered(0, Err(WriteError::new(Failed::Forbidden, "HTTP 403")));
        assert!(halt.unwrap().contains(MANAGE_SCOPE));
        m.finish(None);
        assert_eq!(m.outcome(1), Some(&Outcome::NotStarted));
    }

    #[test]
    fn a_lost_create_not_seen_after_the_window_and_a_lost_update_still_as_reviewed_are_unknown() {
        let c = change(Action::Create, None, None, Some(fields("n", "p", &["a"])));
        let before = fields("u", "p", &["a"]);
        let u = change(Action::Update, Some("1"), Some(before.clone()), Some(fields("u", "q", &["a"])));
        let mut m = Machine::new(vec![c, u.clone()]);
        m.answered(0, Err(lost()));
        m.answered(1, Err(lost()));
        m.finish(Some(&[group("1", before.clone())]));
        assert!(matches!(m.outcome(0), Some(Outcome::Unknown { .. })));
        assert!(matches!(m.outcome(1), Some(Outcome::Unknown { .. })));
        // Refused and never acted on: definitely not in effect.
        let mut m = Machine::new(vec![u]);
        m.answered(0, Err(WriteError::new(Failed::Refused, "HTTP 400")));
        m.finish(Some(&[group("1", before)]));
        assert!(matches!(m.outcome(0), Some(Outcome::Failed { .. })));
    }

    #[test]
    fn a_create_held_twice_at_the_end_turns_into_a_conflict() {
        let want = fields("n", "p", &["a"]);
        let mut m = Machine::new(vec![change(Action::Create, None, None, Some(want.clone()))]);
        m.answered(0, Ok("1".into()));
        assert_eq!(m.verify_created(&[group("1", want.clone()), group("2", want)]), [0]);
        assert!(matches!(m.outcome(0), Some(Outcome::Conflict { detail }) if detail.contains("1, 2")));
    }
}
