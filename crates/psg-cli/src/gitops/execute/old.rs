//! Carrying out a plan: phases (deletes, then updates, then creates, each
//! finished before the next), a few changes at a time, each printed as it
//! completes; rounds that re-plan against a fresh listing and retry what
//! failed; Ctrl-C that stops cleanly; a stop after a refused credential.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use psg_ext::{Client, Error};
use tokio::sync::Notify;

use crate::context::Context;
use crate::failure::Failure;
use crate::gitops::plan::{Action, Change, Plan};
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

/// How many times a listing is read again when the tenant changed while
/// psg paged through it.
const RELISTS: u32 = 5;

/// Lists the tenant consistently: a listing during which the total changed
/// is read again (up to [`RELISTS`] times), and a listing that fails is
/// tried as a whole as many times as the client tries each request
/// (`--max-attempts`) and reported as the listing (`what`), never as the
/// change that needed it.
pub async fn list_with_retry(client: &Client, what: &str) -> Result<Vec<Group>, Failure> {
    let limit = client.config().retry().attempts().max(1);
    let mut tries = 0;
    let mut changed = 0;
    loop {
        tries += 1;
        match tenant::list_all(client).await {
            Ok(groups) => return Ok(groups),
            Err(Error::ListingChanged { .. }) if changed < RELISTS => {
                changed += 1;
                tries -= 1;
                tracing::info!(target: "psg_cli", "{what}: the tenant changed while psg read it; reading again");
            }
            Err(Error::ListingChanged { .. }) => {
                return Err(Failure::api(format!(
                    "{what}: the tenant changed while psg was reading it ({} times); run again",
                    changed + 1
                )));
            }
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
            Ok(applied_line(change, &g.id))
        }
        Action::Update => {
            tenant::update(client, id, &after()).await?;
            Ok(applied_line(change, id))
        }
        Action::Delete => {
            tenant::delete(client, id).await?;
            Ok(applied_line(change, id))
        }
    }
}

struct Pass {
    done: usize,
    /// Applied (creates, updates, deletes).
    counts: (usize, usize, usize),
    /// Names of the groups created.
    created: Vec<String>,
    failures: Vec<(Change, Error)>,
}

async fn run_phase(
    client: &Client,
    changes: Vec<Change>,
    stop: &Stop,
    bar: &indicatif::ProgressBar,
    out: &mut impl Write,
) -> Result<Pass, Failure> {
    let mut pass = Pass { done: 0, counts: (0, 0, 0), created: Vec::new(), failures: Vec::new() };
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
                match change.action {
                    Action::Create => {
                        pass.counts.0 += 1;
                        pass.created.push(change.name.clone());
                    }
                    Action::Update => pass.counts.1 += 1,
                    Action::Delete => pass.counts.2 += 1,
                }
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

/// What a read of the tenant shows about a reviewed change whose write
/// failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The change is in effect and psg's write may have made it: `id` is the group's.
    Applied(String),
    /// The tenant changed since the plan in a way the change did not review.
    Conflict(String),
    /// The target is still as reviewed: the same change may be sent again.
    Retry,
}

fn same_fields(a: &super::tenant::Fields, b: &super::tenant::Fields) -> bool {
    let set = |f: &super::tenant::Fields| f.source_ids.iter().cloned().collect::<BTreeSet<String>>();
    a.name == b.name && a.password_policy_id == b.password_policy_id && set(a) == set(b)
}

fn what_changed(before: &super::tenant::Fields, now: &super::tenant::Fields) -> String {
    if before.name != now.name {
        return format!("renamed to {:?} since the plan", now.name);
    }
    let sources = |f: &super::tenant::Fields| f.source_ids.iter().cloned().collect::<BTreeSet<String>>();
    let mut fields = Vec::new();
    if before.password_policy_id != now.password_policy_id {
        fields.push("passwordPolicyId");
    }
    if sources(before) != sources(now) {
        fields.push("sourceIds");
    }
    format!("{} changed since the plan", fields.join(" and "))
}

/// Decides a failed change from a fresh listing (pure). `may_have_acted`
/// says whether the failed answer leaves open that the server carried the
/// write out (a lost answer, a timeout, a 5xx): only then does a target in
/// the desired state count as psg's own change.
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
            Some(g) if same_fields(&g.fields, &reviewed) => Verdict::Retry,
            Some(g) => Verdict::Conflict(what_changed(&reviewed, &g.fields)),
        },
        Action::Delete => match by_id {
            None if may_have_acted => Verdict::Applied(change.id.clone().unwrap_or_default()),
            None => Verdict::Conflict("deleted since the plan".into()),
            Some(g) if same_fields(&g.fields, &reviewed) => Verdict::Retry,
            Some(g) => Verdict::Conflict(what_changed(&reviewed, &g.fields)),
        },
        Action::Create => {
            let named: Vec<&Group> = fresh.iter().filter(|g| g.fields.name == change.name).collect();
            match named.as_slice() {
                [] => Verdict::Retry,
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

/// What an apply did, change by change, counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Reviewed changes.
    pub total: usize,
    /// Applied creates, updates and deletes.
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
    /// Whether running again may help (transient failures, unknown outcomes).
    pub retry_may_help: bool,
}

impl Report {
    /// Changes applied.
    pub fn applied(&self) -> usize {
        self.created + self.updated + self.deleted
    }

    fn count(&mut self, action: Action) {
        match action {
            Action::Create => self.created += 1,
            Action::Update => self.updated += 1,
            Action::Delete => self.deleted += 1,
        }
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

/// `NAME (ID)` or `NAME` for a change without an id.
fn target(change: &Change, id: Option<&str>) -> String {
    match id.or(change.id.as_deref()) {
        Some(id) => format!("{:?} ({id})", change.name),
        None => format!("{:?}", change.name),
    }
}

fn applied_line(change: &Change, id: &str) -> String {
    match change.action {
        Action::Create => format!("created {:?} ({id})", change.name),
        Action::Update => {
            let renamed =
                change.renamed_from.as_ref().map(|o| format!(", renamed from {o:?}")).unwrap_or_default();
            format!("updated {:?} ({id}){renamed}", change.name)
        }
        Action::Delete => format!("deleted {:?} ({id})", change.name),
    }
}

/// One read after a run that created groups: a name that another writer
/// (a second psg, another administrator) created at the same time is now
/// held by more than one group, and that create is a conflict, not a success.
async fn verify_created(
    client: &Client,
    created: &[String],
    report: &mut Report,
    out: &mut impl Write,
) -> Result<(), Failure> {
    if created.is_empty() {
        return Ok(());
    }
    let fresh = list_with_retry(client, "listing the groups to verify the creates").await?;
    for name in created {
        let ids: Vec<&str> = fresh.iter().filter(|g| &g.fields.name == name).map(|g| g.id.as_str()).collect();
        if ids.len() > 1 {
            report.created -= 1;
            report.conflicts += 1;
            writeln!(
                out,
                "conflict {name:?}: another writer created {name:?} at the same time ({})",
                ids.join(", ")
            )?;
        }
    }
    Ok(())
}

/// Reads the tenant until every create whose answer settled nothing shows
/// up, or the settle window (twice the per-request timeout) has passed: a
/// server may commit a create after the client stopped waiting for it.
async fn settle(
    client: &Client,
    stop: &Stop,
    pending: &[&Change],
    round: u32,
) -> Result<Vec<Group>, Failure> {
    let window = client.config().request_timeout().saturating_mul(2);
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let fresh = list_with_retry(client, &format!("listing the groups to check round {round}")).await?;
        let missing = pending.iter().filter(|c| !fresh.iter().any(|g| g.fields.name == c.name)).count();
        let elapsed = started.elapsed();
        if missing == 0 || elapsed >= window || stop.stopped() {
            return Ok(fresh);
        }
        tracing::info!(target: "psg_cli", "{missing} create(s) without an answer not seen yet; reading again");
        stop.sleep(delay.min(window - elapsed)).await;
        delay = (delay * 2).min(Duration::from_secs(8));
    }
}

/// Applies exactly the reviewed changes of `first`: a later round retries a
/// failed change only when a fresh read shows its target still as
/// reviewed; it never re-plans, so it never adds, drops or turns one change
/// into another. Each outcome is printed as it is established.
pub async fn execute(
    ctx: &Context,
    client: &Client,
    first: &Plan,
    rounds: u32,
    out: &mut impl Write,
) -> Result<Report, Failure> {
    let stop = Arc::new(Stop::default());
    watch_interrupts(stop.clone());
    let mut report = Report { total: first.changes.len(), ..Report::default() };
    let bar = ctx.progress(report.total as u64, "applying");
    let mut current = first.changes.clone();
    let mut round = 1u32;
    let mut probed = false;
    let mut created: Vec<String> = Vec::new();
    let emit = |out: &mut dyn Write, line: String| -> Result<(), Failure> {
        bar.suspend(|| writeln!(out, "{line}").and_then(|()| out.flush()))?;
        Ok(())
    };
    loop {
        let mut failed: Vec<(Change, Error)> = Vec::new();
        let mut progress = false;
        for action in [Action::Delete, Action::Update, Action::Create] {
            let mut batch: Vec<Change> = current.iter().filter(|c| c.action == action).cloned().collect();
            if batch.is_empty() || stop.stopped() {
                continue;
            }
            // The first write goes alone: a refused credential stops the apply after one request.
            let rest = if probed { Vec::new() } else { batch.split_off(1) };
            probed = true;
            for part in [batch, rest] {
                if part.is_empty() {
                    continue;
                }
                let pass = run_phase(client, part, &stop, &bar, out).await?;
                progress |= pass.done > 0;
                report.created += pass.counts.0;
                report.updated += pass.counts.1;
                report.deleted += pass.counts.2;
                created.extend(pass.created);
                failed.extend(pass.failures);
            }
        }
        if let Some(reason) = stop.halt_reason() {
            bar.abandon();
            writeln!(out, "{}", report.summary())?;
            return Err(Failure::api(format!(
                "{reason}; stopped: {} of {} change(s) done, the rest not attempted",
                report.applied(),
                report.total
            )));
        }
        if stop.interrupted.load(Ordering::SeqCst) {
            bar.abandon();
            writeln!(out, "{}", report.summary())?;
            return Err(interrupted(report.applied(), report.total));
        }
        if failed.is_empty() {
            bar.finish_and_clear();
            verify_created(client, &created, &mut report, out).await?;
            return Ok(report);
        }
        let give_up = round >= rounds;
        if !give_up {
            stop.sleep(Duration::from_millis((250u64 << (round - 1).min(4)).min(4000))).await;
        }
        // Read the tenant: what each failed change's target is now decides it.
        let unsettled: Vec<&Change> = failed
            .iter()
            .filter(|(c, e)| c.action == Action::Create && tenant::classify(e) == Failed::Unknown)
            .map(|(c, _)| c)
            .collect();
        let fresh = match settle(client, &stop, &unsettled, round).await {
            Ok(fresh) => fresh,
            Err(f) => {
                bar.abandon();
                for (change, e) in &failed {
                    let line = if tenant::classify(e) == Failed::Unknown {
                        report.unknown += 1;
                        format!(
                            "unknown {}: {} and the tenant could not be read to check; check with psg groups get {}",
                            target(change, None),
                            describe(change, e),
                            change.id.clone().unwrap_or_else(|| format!("--name {:?}", change.name))
                        )
                    } else {
                        report.failed += 1;
                        format!("failed {}: {}", target(change, None), describe(change, e))
                    };
                    emit(out, line)?;
                }
                writeln!(out, "{}", report.summary())?;
                return Err(Failure::api(format!("{}; run psg apply again", f.message)));
            }
        };
        let mut retry = Vec::new();
        let mut last_errors = Vec::new();
        for (change, e) in failed {
            let acted = tenant::classify(&e) == Failed::Unknown;
            match judge(&change, acted, &fresh) {
                Verdict::Applied(id) => {
                    report.count(change.action);
                    if change.action == Action::Create {
                        created.push(change.name.clone());
                    }
                    progress = true;
                    bar.inc(1);
                    emit(out, applied_line(&change, &id))?;
                }
                Verdict::Conflict(detail) => {
                    report.conflicts += 1;
                    bar.inc(1);
                    emit(out, format!("conflict {}: {detail}", target(&change, None)))?;
                }
                Verdict::Retry => {
                    last_errors.push((change.clone(), e));
                    retry.push(change);
                }
            }
        }
        if retry.is_empty() {
            bar.finish_and_clear();
            verify_created(client, &created, &mut report, out).await?;
            return Ok(report);
        }
        // A round that made no progress and met only refusals will meet them again.
        let only_refusals = last_errors.iter().all(|(_, e)| tenant::classify(e) == Failed::Refused);
        if give_up || (!progress && only_refusals) || stop.stopped() {
            bar.abandon();
            for (change, e) in &last_errors {
                report.failed += 1;
                report.retry_may_help |= tenant::classify(e) != Failed::Refused;
                emit(out, format!("failed {}: {}", target(change, None), describe(change, e)))?;
            }
            if stop.interrupted.load(Ordering::SeqCst) {
                writeln!(out, "{}", report.summary())?;
                return Err(interrupted(report.applied(), report.total));
            }
            verify_created(client, &created, &mut report, out).await?;
            return Ok(report);
        }
        tracing::info!(target: "psg_cli", "round {round}: {} change(s) left; trying again", retry.len());
        current = retry;
        round += 1;
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

    #[test]
    fn an_update_whose_group_was_deleted_meanwhile_is_a_conflict_never_applied() {
        let c = change(
            Action::Update,
            Some("1"),
            Some(fields("g", "p", &["a", "b"])),
            Some(fields("g", "q", &["a", "b"])),
        );
        for acted in [false, true] {
            assert_eq!(judge(&c, acted, &[]), Verdict::Conflict("deleted since the plan".into()));
        }
    }

    #[test]
    fn a_target_renamed_elsewhere_is_a_conflict_and_nothing_else_is_done() {
        let c = change(
            Action::Update,
            Some("1"),
            Some(fields("g", "p", &["a", "b"])),
            Some(fields("g", "q", &["a", "b"])),
        );
        let fresh = [group("1", fields("g (renamed elsewhere)", "p", &["a", "b"]))];
        assert_eq!(
            judge(&c, true, &fresh),
            Verdict::Conflict("renamed to \"g (renamed elsewhere)\" since the plan".into())
        );
        let d = change(Action::Delete, Some("1"), Some(fields("g", "p", &["a", "b"])), None);
        assert!(matches!(judge(&d, true, &fresh), Verdict::Conflict(_)));
    }

    #[test]
    fn the_desired_state_counts_as_applied_only_when_psg_may_have_written_it() {
        let want = fields("g", "q", &["b", "a"]);
        let c = change(Action::Update, Some("1"), Some(fields("g", "p", &["a", "b"])), Some(want.clone()));
        let fresh = [group("1", fields("g", "q", &["a", "b"]))];
        assert_eq!(judge(&c, true, &fresh), Verdict::Applied("1".into()));
        assert!(matches!(judge(&c, false, &fresh), Verdict::Conflict(_)));
        let untouched = [group("1", fields("g", "p", &["a", "b"]))];
        assert_eq!(judge(&c, true, &untouched), Verdict::Retry);
        let moved = [group("1", fields("g", "p", &["a", "c"]))];
        assert_eq!(judge(&c, true, &moved), Verdict::Conflict("sourceIds changed since the plan".into()));
    }

    #[test]
    fn deletes_are_applied_when_gone_after_an_unsettled_answer_and_retried_when_untouched() {
        let before = fields("g", "p", &["a", "b"]);
        let d = change(Action::Delete, Some("1"), Some(before.clone()), None);
        assert_eq!(judge(&d, true, &[]), Verdict::Applied("1".into()));
        assert_eq!(judge(&d, false, &[]), Verdict::Conflict("deleted since the plan".into()));
        assert_eq!(judge(&d, true, &[group("1", before)]), Verdict::Retry);
    }

    #[test]
    fn creates_are_found_by_name_once_and_duplicates_are_reported() {
        let want = fields("Late one", "p", &["a", "b"]);
        let c = change(Action::Create, None, None, Some(want.clone()));
        assert_eq!(judge(&c, true, &[]), Verdict::Retry);
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
    fn the_summary_counts_what_happened() {
        let r = Report {
            total: 5,
            created: 1,
            updated: 1,
            deleted: 0,
            conflicts: 2,
            failed: 1,
            unknown: 0,
            retry_may_help: false,
        };
        assert_eq!(
            r.summary(),
            "Applied: 2 of 5 changes (1 created, 1 updated, 0 deleted); 2 conflict(s), 1 failed, 0 unknown."
        );
    }
}
