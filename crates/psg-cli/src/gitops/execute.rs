//! Carrying out a plan: phases (deletes, then updates, then creates, each
//! finished before the next), a few changes at a time, each printed as it
//! completes; rounds that re-plan against a fresh listing and retry what
//! failed; Ctrl-C that stops cleanly; a stop after a refused credential.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use psg_ext::{Client, Error};
use tokio::sync::Notify;

use crate::context::Context;
use crate::failure::Failure;
use crate::gitops::desired::DesiredGroup;
use crate::gitops::plan::{Action, Change, Plan, plan};
use crate::gitops::tenant::{self, Failed, Group};

/// Changes applied at once.
const CONCURRENCY: usize = 4;
/// Rounds when `--max-attempts` is not given.
pub const DEFAULT_ROUNDS: u32 = 8;
/// Exit code after Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;
/// The scope a client needs to write groups.
pub const MANAGE_SCOPE: &str = "idn:password-sync-group:manage";

/// Why no new change may start.
#[derive(Default)]
struct Stop {
    interrupted: AtomicBool,
    halted: std::sync::Mutex<Option<String>>,
    notify: Notify,
}

impl Stop {
    fn stopped(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst) || self.halt_reason().is_some()
    }

    fn halt_reason(&self) -> Option<String> {
        self.halted.lock().expect("stop lock").clone()
    }

    fn halt(&self, reason: String) {
        self.halted.lock().expect("stop lock").get_or_insert(reason);
        self.notify.notify_waiters();
    }

    fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Sleeps, unless a stop comes first.
    async fn sleep(&self, delay: Duration) {
        let notified = self.notify.notified();
        if self.stopped() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = notified => {}
        }
    }
}

/// First Ctrl-C: stop starting changes. Second: exit at once.
fn watch_interrupts(stop: Arc<Stop>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut signals) = signal(SignalKind::interrupt()) else { return };
        tokio::spawn(async move {
            if signals.recv().await.is_some() {
                eprintln!(
                    "interrupted: finishing the requests in flight, starting no new change (Ctrl-C again to quit now)"
                );
                stop.interrupt();
            }
            if signals.recv().await.is_some() {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "interrupted: finishing the requests in flight, starting no new change (Ctrl-C again to quit now)"
            );
            stop.interrupt();
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
}

/// Lists the tenant, trying the listing as a whole as many times as the
/// client tries each request (`--max-attempts`): a listing that fails is
/// reported as the listing (`what`), never as the change that needed it.
pub async fn list_with_retry(client: &Client, what: &str) -> Result<Vec<Group>, Failure> {
    let limit = client.config().retry().attempts().max(1);
    let mut tries = 0;
    loop {
        tries += 1;
        match tenant::list_all(client).await {
            Ok(groups) => return Ok(groups),
            Err(e) if tries < limit && worth_retrying(&e) => {
                tracing::info!(target: "psg_cli", "{what}: listing failed ({e}); trying again");
                tokio::time::sleep(Duration::from_millis(250u64 << tries.min(5))).await;
            }
            Err(e) => {
                let mut f = Failure::from(e);
                f.message = format!(
                    "{what} failed after {tries} tr{}: {}",
                    if tries == 1 { "y" } else { "ies" },
                    f.message
                );
                return Err(f);
            }
        }
    }
}

/// A failure that may pass: no answer, a 5xx, a 429, the token endpoint down.
fn worth_retrying(e: &Error) -> bool {
    matches!(tenant::classify(e), Failed::Unknown | Failed::Transient)
}

fn describe(change: &Change, e: &Error) -> String {
    let text = e.to_string();
    match tenant::field_of(e) {
        Some(field) => format!("{} (field {field}): {text}", change.label()),
        None => format!("{}: {text}", change.label()),
    }
}

async fn apply_one(client: &Client, change: &Change) -> Result<String, Error> {
    let id = change.id.as_deref().unwrap_or_default();
    // Saved plans are checked when read: creates and updates carry `after`.
    let after = || change.after.clone().unwrap_or_default();
    match change.action {
        Action::Create => {
            let g = tenant::create(client, &after()).await?;
            Ok(format!("created {:?} ({})", change.name, g.id))
        }
        Action::Update => {
            tenant::update(client, id, &after()).await?;
            let renamed =
                change.renamed_from.as_ref().map(|o| format!(", renamed from {o:?}")).unwrap_or_default();
            Ok(format!("updated {:?} ({id}){renamed}", change.name))
        }
        Action::Delete => {
            tenant::delete(client, id).await?;
            Ok(format!("deleted {:?} ({id})", change.name))
        }
    }
}

struct Pass {
    done: usize,
    failures: Vec<(Change, Error)>,
}

async fn run_phase(
    client: &Client,
    changes: Vec<Change>,
    stop: &Stop,
    bar: &indicatif::ProgressBar,
    out: &mut impl Write,
) -> Result<Pass, Failure> {
    let mut pass = Pass { done: 0, failures: Vec::new() };
    let mut results = futures::stream::iter(changes)
        .map(|change| async move {
            if stop.stopped() {
                return (change, None);
            }
            let result = apply_one(client, &change).await;
            (change, Some(result))
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((change, result)) = results.next().await {
        match result {
            None => {}
            Some(Ok(line)) => {
                pass.done += 1;
                bar.inc(1);
                bar.suspend(|| writeln!(out, "{line}").and_then(|()| out.flush()))?;
            }
            Some(Err(e)) => {
                match tenant::classify(&e) {
                    Failed::Forbidden => stop.halt(format!(
                        "{} was refused with HTTP 403: the API client lacks scope {MANAGE_SCOPE} (grant it, or use a client that has it)",
                        change.label()
                    )),
                    Failed::Credentials => stop.halt(format!(
                        "{} was refused: the credentials were not accepted ({e}); check SAIL_CLIENT_ID and SAIL_CLIENT_SECRET, the access token, or the profile",
                        change.label()
                    )),
                    _ => {}
                }
                tracing::info!(target: "psg_cli", "{}", describe(&change, &e));
                pass.failures.push((change, e));
            }
        }
    }
    Ok(pass)
}

fn interrupted(done: usize, total: usize) -> Failure {
    Failure {
        message: format!(
            "interrupted: {done} of {total} change(s) done, the rest not started; run psg apply again to finish"
        ),
        code: EXIT_INTERRUPTED,
    }
}

/// Applies `first` (computed from `desired`), then re-plans and retries
/// failures for up to `rounds` rounds. Returns how many changes were made.
pub async fn execute(
    ctx: &Context,
    client: &Client,
    desired: &[DesiredGroup],
    prune: bool,
    first: &Plan,
    rounds: u32,
    out: &mut impl Write,
) -> Result<usize, Failure> {
    let stop = Arc::new(Stop::default());
    watch_interrupts(stop.clone());
    let total = first.changes.len();
    let keys: BTreeSet<String> = first.changes.iter().map(Change::key).collect();
    let bar = ctx.progress(total as u64, "applying");
    let mut current = first.clone();
    let mut done = 0usize;
    let mut round = 1u32;
    let mut probed = false;
    loop {
        let mut unknown_creates = false;
        let mut failed: BTreeMap<String, Change> = BTreeMap::new();
        let mut errors: BTreeMap<String, String> = BTreeMap::new();
        let mut progress = false;
        let mut transient = false;
        for action in [Action::Delete, Action::Update, Action::Create] {
            let mut batch: Vec<Change> =
                current.changes.iter().filter(|c| c.action == action).cloned().collect();
            if batch.is_empty() || stop.stopped() {
                continue;
            }
            let mut failures = Vec::new();
            if !probed {
                // The first write goes alone: a refused credential stops the apply after one request.
                probed = true;
                let rest = batch.split_off(1);
                let pass = run_phase(client, batch, &stop, &bar, out).await?;
                done += pass.done;
                progress |= pass.done > 0;
                failures.extend(pass.failures);
                batch = rest;
            }
            let pass = run_phase(client, batch, &stop, &bar, out).await?;
            done += pass.done;
            progress |= pass.done > 0;
            failures.extend(pass.failures);
            for (change, e) in failures {
                let class = tenant::classify(&e);
                transient |= worth_retrying(&e);
                unknown_creates |= change.action == Action::Create && class == Failed::Unknown;
                errors.insert(change.key(), describe(&change, &e));
                failed.insert(change.key(), change);
            }
        }
        if let Some(reason) = stop.halt_reason() {
            bar.abandon();
            return Err(Failure::api(format!(
                "{reason}; stopped: {done} of {total} change(s) done, the rest not attempted"
            )));
        }
        if stop.interrupted.load(Ordering::SeqCst) {
            bar.abandon();
            return Err(interrupted(done, total));
        }
        if errors.is_empty() {
            bar.finish_and_clear();
            return Ok(done);
        }
        let give_up = round >= rounds || (!progress && !transient && !unknown_creates);
        if !give_up {
            stop.sleep(Duration::from_millis((250u64 << (round - 1).min(4)).min(4000))).await;
        }
        // Look again: lost creates show up, freed sources are free, what is left is re-planned.
        let fresh =
            list_with_retry(client, &format!("listing the groups to check round {round}")).await.map_err(|mut f| {
                f.message.push_str(&format!(
                    "; {done} of {total} change(s) done, {} unconfirmed: run psg apply again (it finds by name any group created meanwhile)",
                    errors.len()
                ));
                f
            })?;
        let replanned = plan(desired, &fresh, prune).map_err(|a| {
            Failure::api(format!(
                "the tenant now has {} groups named {:?} ({}); rename or delete all but one, then apply again",
                a.ids.len(),
                a.name,
                a.ids.join(", ")
            ))
        })?;
        let remaining: Vec<Change> =
            replanned.changes.into_iter().filter(|c| keys.contains(&c.key())).collect();
        // A failed change that the fresh listing shows in effect was done (a lost answer).
        let left: BTreeSet<String> = remaining.iter().map(Change::key).collect();
        for (key, change) in &failed {
            if left.contains(key) {
                continue;
            }
            let id = match change.action {
                Action::Create => fresh.iter().find(|g| g.fields.name == change.name).map(|g| g.id.clone()),
                _ => change.id.clone(),
            };
            let past = match change.action {
                Action::Create => "created",
                Action::Update => "updated",
                Action::Delete => "deleted",
            };
            done += 1;
            bar.inc(1);
            bar.suspend(|| {
                writeln!(
                    out,
                    "{past} {:?} ({}) (found in effect after a lost answer)",
                    change.name,
                    id.as_deref().unwrap_or("?")
                )
                .and_then(|()| out.flush())
            })?;
        }
        if remaining.is_empty() {
            bar.finish_and_clear();
            return Ok(done);
        }
        if stop.interrupted.load(Ordering::SeqCst) {
            bar.abandon();
            return Err(interrupted(done, total));
        }
        if give_up {
            bar.abandon();
            let lines: Vec<String> = remaining
                .iter()
                .map(|c| errors.get(&c.key()).cloned().unwrap_or_else(|| format!("{}: not done", c.label())))
                .collect();
            return Err(Failure::api(format!(
                "{} of {total} change(s) not done after {round} round(s); run psg apply again to converge:\n  {}",
                remaining.len(),
                lines.join("\n  ")
            )));
        }
        tracing::info!(target: "psg_cli", "round {round}: {} change(s) left; trying again", remaining.len());
        current = Plan { changes: remaining };
        round += 1;
    }
}
