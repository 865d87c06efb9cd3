//! Single commands after a write whose answer settled nothing (lost answer,
//! timeout, 500/502/504): read the target, patiently, to learn what happened
//! instead of guessing. The reads have a small budget of their own (a settle
//! window of at least twice the per-request timeout), not the request's
//! attempts.

use std::time::Duration;

use futures::TryStreamExt;
use psg_ext::{Client, Error, Group, GroupSpec};

use crate::failure::Failure;
use crate::output;

/// The most reads one look-up makes.
const MAX_READS: usize = 8;
/// The first pause between two reads; each later pause doubles.
const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// The shortest settle window, whatever the timeout.
const MIN_WINDOW: Duration = Duration::from_secs(2);

/// The settle window for a per-request timeout: twice the timeout, at least
/// [`MIN_WINDOW`].
pub fn window(request_timeout: Duration) -> Duration {
    request_timeout.saturating_mul(2).max(MIN_WINDOW)
}

/// The settle window of a command: from `--timeout`, else psg-ext's default
/// per-request timeout of 30 s.
pub fn window_of(ctx: &crate::context::Context) -> Duration {
    window(Duration::from_secs(ctx.global.timeout.unwrap_or(30)))
}

/// The pauses before each read of a look-up over `window`: none before the
/// first, then doubling, the last one stretched so that the reads span at
/// least the whole window; at most [`MAX_READS`] reads.
pub fn pauses(window: Duration) -> Vec<Duration> {
    let mut out = vec![Duration::ZERO];
    let mut spent = Duration::ZERO;
    let mut next = FIRST_PAUSE;
    while spent < window && out.len() < MAX_READS {
        let left = window - spent;
        // The last allowed read waits for whatever is left of the window.
        let pause = if out.len() + 1 == MAX_READS { left } else { next.min(left) };
        out.push(pause);
        spent += pause;
        next = next.saturating_mul(2);
    }
    out
}

/// Whether `e` leaves open whether a write that was sent took effect: the
/// answer was lost or timed out, or the server failed after it may have
/// acted (500, 502, 504). A refused connection (nothing sent), a 503 or a
/// 4xx settle it, but only on the first attempt: after a retry, an earlier
/// attempt may have been carried out without an answer (psg-ext retries
/// updates and deletes).
pub fn settles_nothing(e: &Error) -> bool {
    match e {
        Error::CreateOutcomeUnknown { .. } | Error::Timeout { .. } => true,
        Error::Transport { cause, attempts, .. } => !cause.is_connect() || *attempts > 1,
        Error::Api(detail) if detail.attempts > 1 && detail.status.is_server_error() => true,
        _ => e.status().is_some_and(|s| matches!(s.as_u16(), 500 | 502 | 504)),
    }
}

/// Whether `group` holds what `spec` asked for (sources in any order).
pub fn holds(group: &Group, spec: &GroupSpec) -> bool {
    let sorted = |ids: &[String]| {
        let mut ids = ids.to_vec();
        ids.sort();
        ids
    };
    group.name == spec.name
        && group.password_policy_id == spec.password_policy_id
        && sorted(&group.source_ids) == sorted(&spec.source_ids)
}

/// One line saying what went wrong with a write whose outcome is open,
/// without claiming the server could not be reached.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Transport { operation, attempts, cause: source, .. } => {
            format!("{operation} was sent but no answer came back after {attempts} attempt(s) ({source})")
        }
        other => other.to_string(),
    }
}

/// The failure of a write psg could not settle.
fn unknown(what: &str, how_to_check: &str) -> Failure {
    Failure::api(format!("the outcome is unknown: {what}; check with {how_to_check}"))
}

/// A create whose outcome is open: look the name up until exactly one group
/// has it (with the asked-for fields) or the window passes.
pub async fn settle_create(
    client: &Client,
    spec: &GroupSpec,
    error: &Error,
    window: Duration,
) -> Result<Group, Failure> {
    let cause = describe(error);
    let check = format!("psg groups get --name {}", output::quoted(&spec.name));
    eprintln!("warning: {}; looking the name up for up to {}s", output::escape(&cause), window.as_secs());
    let mut last_read: Option<Vec<Group>> = None;
    let mut last_error = None;
    for pause in pauses(window) {
        tokio::time::sleep(pause).await;
        let read: Result<Vec<Group>, Error> = async {
            let mut named = Vec::new();
            let mut stream = client.list_groups().fail_on_change(true).stream();
            while let Some(g) = stream.try_next().await? {
                if g.name == spec.name {
                    named.push(g);
                }
            }
            Ok(named)
        }
        .await;
        match read {
            Ok(mut named) => {
                if named.len() == 1 && holds(&named[0], spec) {
                    let g = named.remove(0);
                    eprintln!(
                        "the group was created: {} ({})",
                        output::quoted(&g.name),
                        output::escape(&g.id)
                    );
                    return Ok(g);
                }
                if named.len() > 1 {
                    let ids: Vec<String> = named.iter().map(|g| g.id.clone()).collect();
                    return Err(Failure::api(format!(
                        "{cause}; {} groups are named {} now ({}): another writer may have created one; check them",
                        named.len(),
                        output::quoted(&spec.name),
                        ids.join(", ")
                    )));
                }
                last_read = Some(named);
            }
            Err(e) => last_error = Some(e),
        }
    }
    match last_read {
        Some(named) if named.is_empty() => Err(Failure::api(format!(
            "{cause}; no group was named {} after {}s of looking, so it was not created: run the command again",
            output::quoted(&spec.name),
            window.as_secs()
        ))),
        Some(named) => Err(unknown(
            &format!(
                "{cause}; a group named {} exists ({}) but holds other fields than asked",
                output::quoted(&spec.name),
                named[0].id
            ),
            &check,
        )),
        None => Err(unknown(
            &format!(
                "{cause}; looking the name up failed too ({})",
                last_error.map(|e| describe(&e)).unwrap_or_default()
            ),
            &check,
        )),
    }
}

/// An update whose outcome is open: read the id until it holds the asked-for
/// fields, is gone, or the window passes.
pub async fn settle_update(
    client: &Client,
    id: &str,
    spec: &GroupSpec,
    error: &Error,
    window: Duration,
) -> Result<Group, Failure> {
    let cause = describe(error);
    let check = format!("psg groups get --name {}", output::quoted(&spec.name));
    eprintln!("warning: {}; reading the group for up to {}s", output::escape(&cause), window.as_secs());
    let mut last_seen: Option<Group> = None;
    let mut last_error = None;
    for pause in pauses(window) {
        tokio::time::sleep(pause).await;
        match client.get_group(id).await {
            Ok(g) if holds(&g, spec) => {
                eprintln!("the update took effect: {} ({})", output::quoted(&g.name), output::escape(&g.id));
                return Ok(g);
            }
            Ok(g) => last_seen = Some(g),
            Err(e) if e.is_not_found() => {
                return Err(Failure::api(format!(
                    "{cause}; group {id} no longer exists: someone deleted it, so it was not updated"
                )));
            }
            Err(e) => last_error = Some(e),
        }
    }
    match last_seen {
        Some(_) => Err(Failure::api(format!(
            "{cause}; group {id} still did not hold the change after {}s, so it was not updated: run the command again",
            window.as_secs()
        ))),
        None => Err(unknown(
            &format!(
                "{cause}; reading group {id} failed too ({})",
                last_error.map(|e| describe(&e)).unwrap_or_default()
            ),
            &check,
        )),
    }
}

/// What reading a group after a delete with an open outcome found.
pub enum DeleteOutcome {
    /// The group is gone: the delete happened.
    Deleted,
    /// The group is still there after the window: the delete did not happen.
    StillThere(String),
    /// No read answered.
    Unknown(String),
}

/// A delete whose outcome is open: read the id until it is gone or the window
/// passes.
pub async fn settle_delete(client: &Client, id: &str, error: &Error, window: Duration) -> DeleteOutcome {
    let cause = describe(error);
    let mut seen = false;
    let mut last_error = None;
    for pause in pauses(window) {
        tokio::time::sleep(pause).await;
        match client.get_group(id).await {
            Err(e) if e.is_not_found() => return DeleteOutcome::Deleted,
            Ok(_) => seen = true,
            Err(e) => last_error = Some(e),
        }
    }
    if seen {
        DeleteOutcome::StillThere(format!(
            "{cause}; the group still existed after {}s, so it was not deleted: run the command again",
            window.as_secs()
        ))
    } else {
        DeleteOutcome::Unknown(format!(
            "the outcome is unknown: {cause}; reading the group failed too ({}); check with psg groups get {id}",
            last_error.map(|e| describe(&e)).unwrap_or_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_twice_the_timeout_and_never_short() {
        assert_eq!(window(Duration::from_secs(30)), Duration::from_secs(60));
        assert_eq!(window(Duration::from_millis(100)), MIN_WINDOW);
        assert_eq!(window(Duration::MAX), Duration::MAX);
    }

    proptest::proptest! {
        #[test]
        fn pauses_span_the_window_with_few_reads(ms in 0u64..10_000_000) {
            let w = Duration::from_millis(ms);
            let p = pauses(w);
            proptest::prop_assert_eq!(p[0], Duration::ZERO);
            proptest::prop_assert!(p.len() <= MAX_READS);
            proptest::prop_assert_eq!(p.iter().sum::<Duration>(), w);
            // Pauses never shrink except the last, which takes what is left.
            for pair in p[1..p.len().saturating_sub(1).max(1)].windows(2) {
                proptest::prop_assert!(pair[0] <= pair[1]);
            }
        }
    }
}
