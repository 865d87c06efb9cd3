//! The executor against a model tenant: in memory, it loses answers (before
//! or after committing), commits late, refuses, fails listings, answers
//! after random delays, and lets "another administrator" rename, delete,
//! change or create groups at random steps. For every run:
//!
//! (a) every write the tenant received belongs to a reviewed change (same
//!     action, same target, same fields);
//! (b) every `applied` outcome holds in the final tenant (unless the other
//!     administrator touched that target);
//! (b') every write is checked first: the last read psg made before it
//!     shows the target as reviewed (the name free, for a create);
//! (c) with no interference: no conflict, every change that definitely did
//!     not happen is not in effect, and with no faults either the final
//!     tenant is exactly the desired state.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use crate::failure::Failure;
use crate::gitops::execute::driver::{self, Settings, Sink};
use crate::gitops::execute::machine::{Machine, Outcome};
use crate::gitops::execute::signals::Stop;
use crate::gitops::plan::{Action, Change};
use crate::gitops::tenant::{Failed, Fields, Group, Tenant, WriteError};

/// Probabilities of what the model does to one request.
#[derive(Debug, Clone, Copy)]
struct Faults {
    /// The request is lost before the server acts.
    lose_before: f64,
    /// The server acts, the answer is lost.
    lose_after: f64,
    /// The server acts later (within half the settle window), the client
    /// times out.
    late: f64,
    /// A 400 (nothing happens).
    refuse: f64,
    /// A listing fails.
    fail_list: f64,
    /// The other administrator changes something before this request.
    interfere: f64,
}

/// A write as the tenant received it.
#[derive(Debug, Clone)]
struct Received {
    /// When the tenant received it (a step of the model).
    step: u64,
    action: Action,
    id: Option<String>,
    fields: Option<Fields>,
}

struct World {
    groups: BTreeMap<String, Fields>,
    next_id: u64,
    rng: fastrand::Rng,
    faults: Faults,
    received: Vec<Received>,
    /// Ids and names the other administrator touched.
    touched: BTreeSet<String>,
    /// Steps of the model: one per request.
    step: u64,
    /// Listings answered: when, and what they showed.
    snapshots: Vec<(u64, BTreeMap<String, Fields>)>,
    /// Commits due later: when, and the write.
    late: Vec<(Instant, Received, String)>,
    /// Names the desired state creates (the other administrator may take one).
    wanted_names: Vec<String>,
}

impl World {
    fn commit(&mut self, w: &Received, new_id: &str) {
        match w.action {
            Action::Create => {
                self.groups.insert(new_id.to_string(), w.fields.clone().unwrap_or_default());
            }
            Action::Update => {
                let id = w.id.clone().unwrap_or_default();
                if self.groups.contains_key(&id) {
                    self.groups.insert(id, w.fields.clone().unwrap_or_default());
                }
            }
            Action::Delete => {
                self.groups.remove(w.id.as_deref().unwrap_or_default());
            }
        }
    }

    fn due_commits(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.late).into_iter().partition(|(t, ..)| *t <= now);
        self.late = later;
        for (_, w, id) in due {
            self.commit(&w, &id);
        }
    }

    /// The other administrator, at a random step.
    fn interfere(&mut self) {
        if !self.rng.bool() && !self.wanted_names.is_empty() {
            let name = self.wanted_names[self.rng.usize(..self.wanted_names.len())].clone();
            let id = format!("other-{}", self.next_id);
            self.next_id += 1;
            let fields = Fields {
                name: name.clone(),
                password_policy_id: "p-other".into(),
                source_ids: vec!["s9".into()],
            };
            self.groups.insert(id.clone(), fields);
            self.touched.extend([id, name]);
            return;
        }
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        if ids.is_empty() {
            return;
        }
        let id = ids[self.rng.usize(..ids.len())].clone();
        let name = self.groups[&id].name.clone();
        self.touched.extend([id.clone(), name.clone()]);
        match self.rng.u8(..3) {
            0 => {
                self.groups.remove(&id);
            }
            1 => {
                let renamed = format!("{name} (renamed elsewhere)");
                self.touched.insert(renamed.clone());
                if let Some(g) = self.groups.get_mut(&id) {
                    g.name = renamed;
                }
            }
            _ => {
                if let Some(g) = self.groups.get_mut(&id) {
                    g.password_policy_id = "p-elsewhere".into();
                }
            }
        }
    }
}

struct Model {
    world: Mutex<World>,
    window: Duration,
}

impl Model {
    fn lock(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// The server's delay before it answers.
    async fn latency(&self) {
        let ms = self.lock().rng.u64(0..40);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    async fn write(&self, mut w: Received) -> Result<String, WriteError> {
        self.latency().await;
        let mut world = self.lock();
        world.step += 1;
        w.step = world.step;
        world.due_commits();
        if world.rng.f64() < world.faults.interfere {
            world.interfere();
        }
        world.received.push(w.clone());
        let id = match w.action {
            Action::Create => {
                world.next_id += 1;
                format!("g{}", world.next_id)
            }
            _ => w.id.clone().unwrap_or_default(),
        };
        let f = world.faults;
        let roll = world.rng.f64();
        let lost = || WriteError::new(Failed::Unknown, "no answer");
        if roll < f.lose_before {
            return Err(lost());
        }
        if roll < f.lose_before + f.refuse {
            return Err(WriteError::new(Failed::Refused, "HTTP 400"));
        }
        if w.action != Action::Create && !world.groups.contains_key(&id) {
            return Err(WriteError::new(Failed::Gone, "HTTP 404"));
        }
        if roll < f.lose_before + f.refuse + f.late {
            let delay = Duration::from_millis(world.rng.u64(0..=self.window.as_millis() as u64 / 2));
            world.late.push((Instant::now() + delay, w, id));
            return Err(lost());
        }
        world.commit(&w, &id);
        if roll < f.lose_before + f.refuse + f.late + f.lose_after {
            return Err(lost());
        }
        Ok(id)
    }
}

impl Tenant for Model {
    async fn list(&self, _what: &str) -> Result<Vec<Group>, (Failure, Failed)> {
        self.latency().await;
        let mut world = self.lock();
        world.step += 1;
        world.due_commits();
        if world.rng.f64() < world.faults.interfere {
            world.interfere();
        }
        if world.rng.f64() < world.faults.fail_list {
            return Err((Failure::api("listing failed"), Failed::Transient));
        }
        let shown = (world.step, world.groups.clone());
        world.snapshots.push(shown);
        Ok(world.groups.iter().map(|(id, f)| Group { id: id.clone(), fields: f.clone() }).collect())
    }

    async fn create(&self, fields: &Fields) -> Result<String, WriteError> {
        self.write(Received { step: 0, action: Action::Create, id: None, fields: Some(fields.clone()) }).await
    }

    async fn update(&self, id: &str, fields: &Fields) -> Result<(), WriteError> {
        self.write(Received {
            step: 0,
            action: Action::Update,
            id: Some(id.into()),
            fields: Some(fields.clone()),
        })
        .await
        .map(|_| ())
    }

    async fn delete(&self, id: &str) -> Result<(), WriteError> {
        self.write(Received { step: 0, action: Action::Delete, id: Some(id.into()), fields: None })
            .await
            .map(|_| ())
    }

    fn settle_window(&self) -> Duration {
        self.window
    }
}

#[derive(Default)]
struct Collect(Vec<String>);

impl Sink for Collect {
    fn settled(&mut self, change: &Change, outcome: &Outcome) {
        self.0.extend(super::report::line(change, outcome));
    }

    fn note(&mut self, _text: &str) {}
}

fn same(a: &Fields, b: &Fields) -> bool {
    let set = |f: &Fields| f.source_ids.iter().cloned().collect::<BTreeSet<_>>();
    a.name == b.name && a.password_policy_id == b.password_policy_id && set(a) == set(b)
}

fn fields(name: &str, policy: &str) -> Fields {
    Fields {
        name: name.into(),
        password_policy_id: policy.into(),
        source_ids: vec!["s1".into(), "s2".into()],
    }
}

/// A tenant of `n` groups, and reviewed changes: for each group, keep (0),
/// update (1) or delete (2); then `creates` new groups.
fn scenario(kinds: &[u8], creates: usize) -> (BTreeMap<String, Fields>, Vec<Change>) {
    let mut tenant = BTreeMap::new();
    let mut changes = Vec::new();
    for (k, kind) in kinds.iter().enumerate() {
        let id = format!("t{k}");
        let before = fields(&format!("group {k}"), "p1");
        tenant.insert(id.clone(), before.clone());
        let change = |action, after: Option<Fields>| Change {
            action,
            name: before.name.clone(),
            id: Some(id.clone()),
            renamed_from: None,
            before: Some(before.clone()),
            after,
        };
        match kind {
            1 => changes.push(change(Action::Update, Some(fields(&before.name, "p2")))),
            2 => changes.push(change(Action::Delete, None)),
            _ => {}
        }
    }
    for c in 0..creates {
        let name = format!("new {c}");
        changes.push(Change {
            action: Action::Create,
            name: name.clone(),
            id: None,
            renamed_from: None,
            before: None,
            after: Some(fields(&name, "p3")),
        });
    }
    (tenant, changes)
}

struct Ran {
    machine: Machine,
    world: World,
    initial: BTreeMap<String, Fields>,
}

fn run(kinds: &[u8], creates: usize, faults: Faults, seed: u64, rounds: u32) -> Ran {
    let (initial, changes) = scenario(kinds, creates);
    let wanted_names =
        changes.iter().filter(|c| c.action == Action::Create).map(|c| c.name.clone()).collect();
    let model = Model {
        world: Mutex::new(World {
            groups: initial.clone(),
            next_id: 0,
            rng: fastrand::Rng::with_seed(seed),
            faults,
            received: Vec::new(),
            touched: BTreeSet::new(),
            step: 0,
            snapshots: Vec::new(),
            late: Vec::new(),
            wanted_names,
        }),
        window: Duration::from_secs(4),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    let machine = rt.block_on(async {
        let stop = Stop::default();
        let mut sink = Collect::default();
        let m = driver::run(&model, changes, Settings { rounds, concurrency: 4 }, &stop, &mut sink).await;
        // Let every late commit land before the final tenant is judged.
        tokio::time::sleep(model.window).await;
        model.lock().due_commits();
        m
    });
    let world = model.world.into_inner().unwrap();
    Ran { machine, world, initial }
}

fn check(ran: &Ran, interfering: bool, faulty: bool) -> Result<(), TestCaseError> {
    let Ran { machine: m, world, initial } = ran;
    // (a) every write belongs to a reviewed change.
    for w in &world.received {
        let reviewed = m.changes.iter().any(|c| {
            c.action == w.action
                && match w.action {
                    Action::Create => {
                        w.fields.as_ref().zip(c.after.as_ref()).is_some_and(|(a, b)| same(a, b))
                    }
                    Action::Update => {
                        c.id == w.id
                            && w.fields.as_ref().zip(c.after.as_ref()).is_some_and(|(a, b)| same(a, b))
                    }
                    Action::Delete => c.id == w.id,
                }
        });
        prop_assert!(reviewed, "unreviewed write {w:?}");
    }
    // (b') every write was checked against the last read before it.
    for w in &world.received {
        let last = world.snapshots.iter().rev().find(|(step, _)| *step < w.step);
        prop_assert!(last.is_some(), "write {w:?} without a read before it");
        let (_, shown) = last.unwrap();
        match w.action {
            Action::Create => {
                let name = w.fields.as_ref().map(|f| f.name.as_str()).unwrap_or_default();
                prop_assert!(
                    !shown.values().any(|g| g.name == name),
                    "{w:?} sent over a name taken in the last read"
                );
            }
            _ => {
                let id = w.id.clone().unwrap_or_default();
                let change = m.changes.iter().find(|c| c.action == w.action && c.id == w.id);
                let reviewed = change.and_then(|c| c.before.as_ref());
                let now = shown.get(&id);
                prop_assert!(
                    now.zip(reviewed).is_some_and(|(a, b)| same(a, b)),
                    "{w:?} sent although the last read showed {now:?}"
                );
            }
        }
    }
    // (b) every applied outcome holds.
    for (i, c) in m.changes.iter().enumerate() {
        let outcome = m.outcome(i);
        prop_assert!(outcome.is_some(), "{} has no outcome", c.label());
        let Some(Outcome::Applied { id, .. }) = outcome else { continue };
        if world.touched.contains(id) || world.touched.contains(&c.name) {
            continue;
        }
        match c.action {
            Action::Delete => {
                prop_assert!(!world.groups.contains_key(id), "{} applied but {id} exists", c.label())
            }
            _ => {
                let now = world.groups.get(id);
                prop_assert!(
                    now.zip(c.after.as_ref()).is_some_and(|(a, b)| same(a, b)),
                    "{} applied but {id} is {now:?}",
                    c.label()
                );
            }
        }
    }
    if interfering {
        return Ok(());
    }
    // (c) without interference.
    for (i, c) in m.changes.iter().enumerate() {
        match m.outcome(i) {
            Some(Outcome::Conflict { detail }) => {
                prop_assert!(false, "{} is a conflict without interference: {detail}", c.label())
            }
            Some(Outcome::Failed { .. } | Outcome::NotStarted) => match c.action {
                Action::Create => {
                    prop_assert!(
                        !world.groups.values().any(|g| g.name == c.name),
                        "{} failed but exists",
                        c.label()
                    )
                }
                _ => {
                    let id = c.id.clone().unwrap_or_default();
                    prop_assert_eq!(
                        world.groups.get(&id),
                        initial.get(&id),
                        "{} failed but changed",
                        c.label()
                    )
                }
            },
            _ => {}
        }
        if c.action == Action::Create {
            let held = world.groups.values().filter(|g| g.name == c.name).count();
            prop_assert!(held <= 1, "{} made {held} groups", c.label());
        }
    }
    if !faulty {
        let mut desired = initial.clone();
        for c in &m.changes {
            match c.action {
                Action::Delete => {
                    desired.remove(c.id.as_deref().unwrap_or_default());
                }
                Action::Update => {
                    desired.insert(c.id.clone().unwrap_or_default(), c.after.clone().unwrap_or_default());
                }
                Action::Create => {}
            }
        }
        let mut want: Vec<Fields> = desired.into_values().collect();
        want.extend(m.changes.iter().filter(|c| c.action == Action::Create).filter_map(|c| c.after.clone()));
        let mut have: Vec<Fields> = world.groups.values().cloned().collect();
        want.sort_by(|a, b| a.name.cmp(&b.name));
        have.sort_by(|a, b| a.name.cmp(&b.name));
        prop_assert_eq!(have, want);
    }
    Ok(())
}

fn faults() -> impl Strategy<Value = Faults> {
    (0.0..0.3f64, 0.0..0.3f64, 0.0..0.3f64, 0.0..0.15f64, 0.0..0.2f64).prop_map(
        |(lb, la, late, refuse, fl)| Faults {
            lose_before: lb,
            lose_after: la,
            late,
            refuse,
            fail_list: fl,
            interfere: 0.0,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn lossy_late_tenant_without_interference(
        kinds in proptest::collection::vec(0u8..3, 0..6),
        creates in 0usize..5,
        faults in faults(),
        seed in any::<u64>(),
        rounds in 1u32..5,
    ) {
        let ran = run(&kinds, creates, faults, seed, rounds);
        check(&ran, false, true)?;
    }

    #[test]
    fn a_fault_free_tenant_ends_exactly_in_the_desired_state(
        kinds in proptest::collection::vec(0u8..3, 0..6),
        creates in 0usize..5,
        seed in any::<u64>(),
    ) {
        let none = Faults { lose_before: 0.0, lose_after: 0.0, late: 0.0, refuse: 0.0, fail_list: 0.0, interfere: 0.0 };
        let ran = run(&kinds, creates, none, seed, 1);
        check(&ran, false, false)?;
        prop_assert_eq!(ran.world.received.len(), ran.machine.changes.len(), "one write per change");
    }

    #[test]
    fn another_administrator_never_makes_psg_write_unreviewed_or_claim_falsely(
        kinds in proptest::collection::vec(0u8..3, 1..6),
        creates in 0usize..5,
        faults in faults(),
        interfere in 0.05..0.5f64,
        seed in any::<u64>(),
        rounds in 1u32..5,
    ) {
        let ran = run(&kinds, creates, Faults { interfere, ..faults }, seed, rounds);
        check(&ran, true, true)?;
    }
}

#[test]
fn a_late_commit_within_the_window_is_found_and_never_sent_twice() {
    let late =
        Faults { lose_before: 0.0, lose_after: 0.0, late: 1.0, refuse: 0.0, fail_list: 0.0, interfere: 0.0 };
    let ran = run(&[], 3, late, 7, 3);
    let posts = ran.world.received.iter().filter(|w| w.action == Action::Create).count();
    assert_eq!(posts, 3, "one create per name");
    for i in 0..3 {
        assert!(
            matches!(ran.machine.outcome(i), Some(Outcome::Applied { .. })),
            "{:?}",
            ran.machine.outcome(i)
        );
    }
}
