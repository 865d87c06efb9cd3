//! `psg export`, `psg plan` and `psg apply`: groups as code.

use std::io::Write;
use std::path::Path;

use futures::{StreamExt, TryStreamExt};
use psg_ext::{Client, Deleted, Error, Group, GroupSpec};

use crate::cli::PlanArgs;
use crate::context::Context;
use crate::desired::{self, DesiredGroup};
use crate::failure::Failure;
use crate::groups_cmd::confirm;
use crate::plan::{Change, Plan, plan};

/// Changes applied at once.
const APPLY_CONCURRENCY: usize = 4;

/// Every group of the tenant.
async fn fetch_all(client: &Client) -> Result<Vec<Group>, Failure> {
    Ok(client.list_groups().stream().try_collect().await?)
}

/// Writes `text` to `path` atomically (temp file, then rename).
fn write_atomically(path: &Path, text: &str) -> Result<(), Failure> {
    let tmp = path.with_extension("psg-tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))
}

/// `psg export`.
pub async fn export(client: &Client, file: Option<&Path>, out: &mut impl Write) -> Result<(), Failure> {
    let text = desired::render(&fetch_all(client).await?);
    match file {
        Some(path) => write_atomically(path, &text)?,
        None => write!(out, "{text}")?,
    }
    Ok(())
}

/// Reads the file, then the tenant, and computes the plan.
pub async fn make_plan(client: &Client, args: &PlanArgs) -> Result<Plan, Failure> {
    let desired = desired::load(&args.file)?;
    let actual = fetch_all(client).await?;
    plan(&desired, &actual, args.prune).map_err(|a| {
        Failure::api(format!(
            "the tenant has {} groups named {:?} ({}); rename or delete all but one before applying",
            a.ids.len(),
            a.name,
            a.ids.join(", ")
        ))
    })
}

/// Prints a plan for people.
pub fn print_plan(out: &mut impl Write, plan: &Plan, file: &Path) -> Result<(), Failure> {
    if plan.is_empty() {
        writeln!(out, "No changes: the tenant matches {}.", file.display())?;
    } else {
        for change in &plan.changes {
            writeln!(out, "{change}")?;
        }
        writeln!(out, "Plan: {}.", plan.summary())?;
    }
    Ok(())
}

/// `psg plan`: returns whether anything would change.
pub async fn run_plan(client: &Client, args: &PlanArgs, out: &mut impl Write) -> Result<bool, Failure> {
    let plan = make_plan(client, args).await?;
    print_plan(out, &plan, &args.file)?;
    Ok(!plan.is_empty())
}

/// `psg apply`: returns whether anything changed.
pub async fn run_apply(
    ctx: &Context,
    client: &Client,
    args: &PlanArgs,
    yes: bool,
    out: &mut impl Write,
) -> Result<bool, Failure> {
    let plan = make_plan(client, args).await?;
    print_plan(out, &plan, &args.file)?;
    if plan.is_empty() {
        return Ok(false);
    }
    confirm(yes, "Apply these changes?")?;
    execute(ctx, client, &plan, out).await?;
    Ok(true)
}

/// Applies every change (a few at a time); reports every failure at the end.
pub async fn execute(
    ctx: &Context,
    client: &Client,
    plan: &Plan,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let bar = ctx.progress(plan.changes.len() as u64, "applying");
    let results: Vec<(String, Result<String, Error>)> = futures::stream::iter(&plan.changes)
        .map(|change| {
            let bar = bar.clone();
            async move {
                let label = change.to_string().lines().next().unwrap_or_default().to_string();
                let result = apply_one(client, change).await;
                bar.inc(1);
                (label, result)
            }
        })
        .buffered(APPLY_CONCURRENCY)
        .collect()
        .await;
    bar.finish_and_clear();
    let mut failures = Vec::new();
    for (label, result) in results {
        match result {
            Ok(done) => writeln!(out, "{done}")?,
            Err(e) => failures.push(format!("{label}: {e}")),
        }
    }
    if failures.is_empty() {
        writeln!(out, "Applied: {}.", plan.summary())?;
        Ok(())
    } else {
        Err(Failure::api(format!(
            "{} of {} change(s) failed; run psg apply again to converge:\n  {}",
            failures.len(),
            plan.changes.len(),
            failures.join("\n  ")
        )))
    }
}

fn to_new(d: &DesiredGroup) -> GroupSpec {
    GroupSpec::new(d.name.clone())
        .password_policy(d.password_policy_id.clone())
        .with_sources(d.source_ids.clone())
}

/// Whether a failed create may nevertheless have created the group.
fn outcome_unknown(e: &Error) -> bool {
    match e {
        Error::CreateOutcomeUnknown { .. } | Error::Timeout { .. } | Error::Transport { .. } => true,
        other => other.status().is_some_and(|s| s.is_server_error()),
    }
}

async fn find_by_name(client: &Client, name: &str) -> Result<Option<Group>, Error> {
    let mut stream = client.list_groups().stream();
    while let Some(group) = stream.try_next().await? {
        if group.name == name {
            return Ok(Some(group));
        }
    }
    Ok(None)
}

async fn apply_one(client: &Client, change: &Change) -> Result<String, Error> {
    match change {
        Change::Create(d) => {
            let new = to_new(d);
            let mut last_error = None;
            // As many tries as the client allows per request, at least three.
            for _ in 0..client.config().retry().attempts().max(3) {
                match client.create_group(&new).await {
                    Ok(g) => return Ok(format!("created {:?} ({})", d.name, g.id)),
                    Err(e) if outcome_unknown(&e) => {
                        // The answer was lost: the server may have created it. Look before retrying.
                        if let Some(existing) = find_by_name(client, &d.name).await? {
                            let id = existing.id.clone();
                            if GroupSpec::from(&existing) != new {
                                client.update_group(&id, &new).await?;
                            }
                            return Ok(format!("created {:?} ({id}) (found after a lost answer)", d.name));
                        }
                        last_error = Some(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(last_error.expect("loop ran"))
        }
        Change::Update { id, desired, .. } => {
            client.update_group(id, &to_new(desired)).await?;
            Ok(format!("updated {:?} ({id})", desired.name))
        }
        Change::Delete { id, name } => match client.delete_group(id).await {
            Ok(Deleted::AlreadyGone) => Ok(format!("deleted {name:?} ({id}) (already gone)")),
            Ok(_) => Ok(format!("deleted {name:?} ({id})")),
            Err(e) if e.is_not_found() => Ok(format!("deleted {name:?} ({id}) (already gone)")),
            Err(e) => Err(e),
        },
    }
}
