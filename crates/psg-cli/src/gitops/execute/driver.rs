//! The executor's loop: it performs the reads and writes the
//! [machine](super::machine) asks for, through any [`Tenant`], and feeds
//! the answers back. Rounds of phases (deletes, then updates, then
//! creates, each finished before the next); before a phase its targets are
//! checked against a fresh read; the first write of a run goes alone (a
//! refused credential then costs one request); the rest go a few at a time.

use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use crate::failure::Failure;
use crate::gitops::execute::machine::{Machine, Outcome, State};
use crate::gitops::execute::signals::Stop;
use crate::gitops::plan::{Action, Change};
use crate::gitops::tenant::{Failed, Group, Tenant, WriteError};

/// How a run goes.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Rounds: a change that failed in a way that may pass is tried again
    /// in the next round, up to this many rounds in all.
    pub rounds: u32,
    /// Writes in flight at once.
    pub concurrency: usize,
}

/// Where the executor reports as it goes.
pub trait Sink {
    /// Change `change` reached `outcome` (a create that turns out to be a
    /// duplicate at the end is reported again, as a conflict).
    fn settled(&mut self, change: &Change, outcome: &Outcome);
    /// A detail for `-v`.
    fn note(&mut self, text: &str);
}

/// Phases, in order: deletes free names and sources that updates and
/// creates may need.
const PHASES: [Action; 3] = [Action::Delete, Action::Update, Action::Create];

/// The pause before round `round + 1`.
fn backoff(round: u32) -> Duration {
    Duration::from_millis((250u64 << (round.saturating_sub(1)).min(4)).min(4000))
}

/// Reads the tenant; when `awaited` names creates that may have been
/// committed without an answer, reads again with backoff until each shows
/// up or the tenant's settle window has passed (a server may commit a
/// write after the client stopped waiting).
async fn read<T: Tenant>(
    tenant: &T,
    what: &str,
    awaited: &[String],
    stop: &Stop,
) -> Result<Vec<Group>, (Failure, Failed)> {
    let window = tenant.settle_window();
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let fresh = tenant.list(what).await?;
        let missing = awaited.iter().filter(|n| !fresh.iter().any(|g| &g.fields.name == *n)).count();
        let elapsed = started.elapsed();
        if missing == 0 || elapsed >= window || stop.stopped() {
            return Ok(fresh);
        }
        tracing::info!(target: "psg_cli", "{missing} create(s) without an answer not seen yet; reading again");
        stop.sleep(delay.min(window - elapsed)).await;
        delay = (delay * 2).min(Duration::from_secs(8));
    }
}

/// Sends the write of one reviewed change: its id on success.
async fn write<T: Tenant>(tenant: &T, change: &Change) -> Result<String, WriteError> {
    let after = change.after.clone().unwrap_or_default();
    let id = change.id.clone().unwrap_or_default();
    match change.action {
        Action::Create => tenant.create(&after).await,
        Action::Update => tenant.update(&id, &after).await.map(|()| id),
        Action::Delete => tenant.delete(&id).await.map(|()| id),
    }
}

fn answer(m: &mut Machine, i: usize, result: Result<String, WriteError>, stop: &Stop, sink: &mut dyn Sink) {
    if let Err(e) = &result {
        sink.note(&format!("{}: {}", m.changes[i].label(), e.text));
    }
    let halt = m.answered(i, result);
    if let Some(outcome) = m.outcome(i) {
        sink.settled(&m.changes[i], outcome);
    }
    if let Some(reason) = halt {
        stop.halt(reason);
    }
}

/// Names of the creates among `indices` whose earlier write may have been
/// committed without an answer.
fn awaited(m: &Machine, indices: &[usize]) -> Vec<String> {
    m.awaited_creates(indices).map(String::from).collect()
}

/// Carries out exactly the reviewed `changes`; returns where each ended.
pub async fn run<T: Tenant>(
    tenant: &T,
    changes: Vec<Change>,
    settings: Settings,
    stop: &Stop,
    sink: &mut dyn Sink,
) -> Machine {
    let mut m = Machine::new(changes);
    let mut probed = false;
    let mut round = 1u32;
    loop {
        for action in PHASES {
            if stop.stopped() {
                break;
            }
            let due = m.due(action);
            if due.is_empty() {
                continue;
            }
            let waited = awaited(&m, &due);
            let what = format!("listing the groups to check them before round {round}");
            let fresh = match read(tenant, &what, &waited, stop).await {
                Ok(fresh) => fresh,
                Err((f, kind)) => {
                    if matches!(kind, Failed::Credentials | Failed::Forbidden) {
                        stop.halt(format!(
                            "the credentials were not accepted or lack a scope: {}",
                            f.message
                        ));
                        break;
                    }
                    sink.note(&format!("{}; {} change(s) wait for the next round", f.message, due.len()));
                    for &i in &due {
                        m.unchecked(
                            i,
                            WriteError::new(Failed::Transient, format!("not sent: {}", f.message)),
                        );
                    }
                    break;
                }
            };
            let mut jobs: Vec<(usize, Change)> = Vec::new();
            for i in due {
                if m.check(i, &fresh) {
                    if waited.contains(&m.changes[i].name) {
                        sink.note(&format!(
                            "{} not seen within {:?} of its unanswered create; sending it again",
                            m.changes[i].label(),
                            tenant.settle_window()
                        ));
                    }
                    jobs.push((i, m.changes[i].clone()));
                } else if let Some(outcome) = m.outcome(i) {
                    sink.settled(&m.changes[i], outcome);
                }
            }
            let mut jobs = jobs.into_iter();
            if !probed {
                probed = true;
                if let Some((i, change)) = jobs.next() {
                    let result = write(tenant, &change).await;
                    answer(&mut m, i, result, stop, sink);
                }
            }
            let mut results = futures::stream::iter(jobs)
                .map(|(i, change)| async move {
                    if stop.stopped() {
                        return (i, None);
                    }
                    (i, Some(write(tenant, &change).await))
                })
                .buffer_unordered(settings.concurrency.max(1));
            while let Some((i, result)) = results.next().await {
                if let Some(result) = result {
                    answer(&mut m, i, result, stop, sink);
                }
            }
        }
        if stop.stopped() || !m.next_round(round, settings.rounds) {
            break;
        }
        tracing::info!(target: "psg_cli", "round {round} done; trying what may still succeed again");
        stop.sleep(backoff(round)).await;
        round += 1;
    }
    finish(tenant, &mut m, stop, sink).await;
    m
}

/// Ends the run with one read of the tenant: each change still pending
/// gets its outcome from what the read shows, and a name this run created
/// that is now held by more than one group is reported as a conflict.
async fn finish<T: Tenant>(tenant: &T, m: &mut Machine, stop: &Stop, sink: &mut dyn Sink) {
    let unsettled = m.unsettled();
    let created = !m.created().is_empty();
    let fresh = if unsettled.is_empty() && !created {
        None
    } else {
        let waited = awaited(m, &unsettled);
        match read(tenant, "listing the groups to check the outcomes", &waited, stop).await {
            Ok(fresh) => Some(fresh),
            Err((f, _)) => {
                sink.note(&f.message);
                None
            }
        }
    };
    for i in m.finish(fresh.as_deref()) {
        if let Some(outcome) = m.outcome(i) {
            sink.settled(&m.changes[i], outcome);
        }
    }
    match &fresh {
        Some(fresh) => {
            for i in m.verify_created(fresh) {
                if let Some(outcome) = m.outcome(i) {
                    sink.settled(&m.changes[i], outcome);
                }
            }
        }
        None if created => sink.note("the creates could not be verified: the tenant could not be read"),
        None => {}
    }
    debug_assert!(m.states.iter().all(|s| matches!(s, State::Done(_))));
}
