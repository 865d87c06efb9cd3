//! `psg export`, `psg plan` and `psg apply`: groups as code.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use clap::ValueEnum;
use psg_ext::Client;

use crate::cli::{ApplyArgs, OutputFormat, PlanArgs};
use crate::context::Context;
use crate::failure::Failure;
use crate::gitops::desired::{self, DesiredGroup};
use crate::gitops::execute;
use crate::gitops::plan::{Action, Plan, plan};
use crate::gitops::planfile::{self, FORMAT, SavedPlan};
use crate::gitops::resolve::{self, Resolution};
use crate::gitops::snapshot::{fingerprint, list_complete};
use crate::gitops::tenant::Group;
use crate::groups_cmd::confirm;

/// Names held by more than one group: name → ids.
pub fn duplicate_names(groups: &[Group]) -> BTreeMap<&str, Vec<&str>> {
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for g in groups {
        by_name.entry(g.fields.name.as_str()).or_default().push(g.id.as_str());
    }
    by_name.retain(|_, ids| ids.len() > 1);
    by_name
}

/// `psg export`.
pub async fn export(
    client: &Client,
    file: Option<&Path>,
    portable: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let groups = list_complete(client, "listing the groups").await?;
    for (name, ids) in duplicate_names(&groups) {
        eprintln!(
            "warning: {} groups are named {name:?} ({}); the exported file will not plan until each name is unique",
            ids.len(),
            ids.join(", ")
        );
    }
    let text = if portable {
        let names = resolve::names_for(client, &groups).await?;
        desired::render_portable(&groups, &names)
    } else {
        desired::render(&groups)
    };
    match file {
        Some(path) => planfile::write_atomically(path, &text)?,
        None => write!(out, "{text}")?,
    }
    Ok(())
}

fn compute(desired: &[DesiredGroup], actual: &[Group], prune: bool) -> Result<Plan, Failure> {
    plan(desired, actual, prune).map_err(|a| {
        Failure::api(format!(
            "the tenant has {} groups named {:?} ({}); rename or delete all but one before applying",
            a.ids.len(),
            a.name,
            a.ids.join(", ")
        ))
    })
}

/// Prints a plan for people.
pub fn print_plan(out: &mut impl Write, plan: &Plan, file: &str) -> Result<(), Failure> {
    if plan.is_empty() {
        writeln!(out, "No changes: the tenant matches {file}.")?;
    } else {
        let color = crate::output::color_stdout();
        for change in &plan.changes {
            let text = crate::output::escape_keep_lines(&change.to_string());
            let paint = match change.action {
                Action::Create => crate::output::Paint::Green,
                Action::Update => crate::output::Paint::Yellow,
                Action::Delete => crate::output::Paint::Red,
            };
            if color {
                writeln!(out, "{}", crate::output::paint(&text, paint))?;
            } else {
                writeln!(out, "{text}")?;
            }
        }
        writeln!(out, "Plan: {}.", plan.summary())?;
    }
    Ok(())
}

/// The names a portable file used and the ids they resolved to here.
fn print_resolution(out: &mut impl Write, resolution: &Resolution) -> Result<(), Failure> {
    if !resolution.is_empty() {
        writeln!(out, "Names resolved in this tenant:")?;
        for line in resolution.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

/// `plan -o json|yaml|ndjson`: `changes` and `summary`, and for a portable
/// file what the text plan shows above them, `resolved` (names to ids here).
#[derive(serde::Serialize)]
struct PlanOutput<'a> {
    #[serde(flatten)]
    plan: crate::gitops::plan::PlanDocument<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<&'a Resolution>,
}

/// `psg plan`: returns whether anything would change.
pub async fn run_plan(
    ctx: &Context,
    client: &Client,
    args: &PlanArgs,
    out: &mut impl Write,
) -> Result<bool, Failure> {
    let file = crate::stdio::shown(&args.file);
    let mut desired = desired::load(&args.file)?;
    let resolution = resolve::resolve(client, &file, &mut desired).await?;
    let actual = list_complete(client, "listing the groups").await?;
    let plan = compute(&desired, &actual, args.prune)?;
    for note in crate::gitops::notes::notes(&desired, &actual) {
        eprintln!("note: {note}");
    }
    if deletes_every_group(plan.counts().delete, actual.len()) {
        eprintln!(
            "note: this plan deletes every group in the tenant: psg apply will refuse it without --allow-delete-all"
        );
    }
    let document =
        PlanOutput { plan: plan.document(), resolved: (!resolution.is_empty()).then_some(&resolution) };
    match ctx.global.output {
        Some(OutputFormat::Json) => {
            writeln!(out, "{}", serde_json::to_string_pretty(&document).expect("plain data"))?
        }
        Some(OutputFormat::Ndjson) => {
            writeln!(out, "{}", serde_json::to_string(&document).expect("plain data"))?
        }
        Some(OutputFormat::Yaml) => {
            write!(out, "{}", serde_norway::to_string(&document).expect("plain data"))?
        }
        Some(OutputFormat::Table | OutputFormat::Wide) | None => {
            print_resolution(out, &resolution)?;
            print_plan(out, &plan, &file)?
        }
    }
    if let Some(path) = &args.out {
        let saved = SavedPlan {
            psg_plan: FORMAT,
            file: file.clone(),
            prune: args.prune,
            base_url: client.config().base_url().to_string(),
            api_version: client.config().api_version().to_string(),
            fingerprint: fingerprint(
                client.config().base_url(),
                client.config().api_version().as_str(),
                &actual,
            ),
            desired,
            summary: plan.counts(),
            changes: plan.changes.clone(),
        };
        planfile::save(path, &saved)?;
        eprintln!("wrote the plan to {}; apply it with: psg apply --plan {}", path.display(), path.display());
    }
    Ok(!plan.is_empty())
}

/// Refuses a prune that empties the tenant, unless allowed.
fn guard_delete_all(plan: &Plan, actual: &[Group], allowed: bool) -> Result<(), Failure> {
    let deletes = plan.changes.iter().filter(|c| c.action == Action::Delete).count();
    if !allowed && deletes_every_group(deletes, actual.len()) {
        return Err(Failure::usage(format!(
            "this apply would delete every group in the tenant ({deletes}); check the file, or pass --allow-delete-all if that is what you want"
        )));
    }
    Ok(())
}

/// Refuses a saved plan made against another tenant or API version.
fn check_target(path: &Path, saved: &SavedPlan, client: &Client) -> Result<(), Failure> {
    let base = client.config().base_url().trim_end_matches('/');
    let version = client.config().api_version().to_string();
    if saved.base_url.trim_end_matches('/') != base || saved.api_version != version {
        return Err(Failure::usage(format!(
            "{} was made against {} ({}); this run speaks to {base} ({version}): nothing was sent; make the plan against this tenant with psg plan --out",
            path.display(),
            saved.base_url,
            saved.api_version
        )));
    }
    Ok(())
}

/// Checks a saved plan against itself and the fresh listing: its changes
/// must be exactly what planning its desired state against the tenant
/// gives (ids, names, `before` and `after`). A hand-edited plan is refused.
fn check_consistent(path: &Path, saved: &SavedPlan, actual: &[Group]) -> Result<(), Failure> {
    let replanned = plan(&saved.desired, actual, saved.prune).map_err(|a| {
        Failure::usage(format!(
            "{}: its desired state cannot be planned here ({} groups are named {:?}); nothing was sent",
            path.display(),
            a.ids.len(),
            a.name
        ))
    })?;
    let edited = |detail: String| {
        Failure::usage(format!(
            "{}: {detail}; the plan is not what psg plan wrote (edited?): nothing was sent; run psg plan --out again",
            path.display()
        ))
    };
    for (i, (saved_change, fresh)) in saved.changes.iter().zip(&replanned.changes).enumerate() {
        if saved_change != fresh {
            return Err(edited(format!(
                "change #{} ({}) differs from what its desired state plans ({})",
                i + 1,
                saved_change.label(),
                fresh.label()
            )));
        }
    }
    if saved.changes.len() != replanned.changes.len() {
        return Err(edited(format!(
            "it holds {} change(s), its desired state plans {}",
            saved.changes.len(),
            replanned.changes.len()
        )));
    }
    if saved.summary != replanned.counts() {
        return Err(edited("its summary does not count its changes".into()));
    }
    Ok(())
}

/// Whether `deletes` deletes would empty a tenant of `tenant` groups.
fn deletes_every_group(deletes: usize, tenant: usize) -> bool {
    tenant > 0 && deletes >= tenant
}

/// The default of `--max-deletes`: a quarter of the tenant, at least 10.
fn default_max_deletes(tenant: usize) -> usize {
    (tenant / 4).max(10)
}

/// Refuses a plan that deletes more than `--max-deletes` groups (by default
/// a quarter of the tenant, at least 10; `--allow-delete-all` lifts the
/// default, not an explicit `--max-deletes`).
fn guard_max_deletes(
    deletes: usize,
    tenant: usize,
    max: Option<usize>,
    allow_all: bool,
) -> Result<(), Failure> {
    let limit = match max {
        Some(n) => n,
        None if allow_all => return Ok(()),
        None => default_max_deletes(tenant),
    };
    if deletes > limit {
        return Err(Failure::usage(format!(
            "this apply would delete {deletes} of the tenant's {tenant} groups, more than the {limit} --max-deletes allows{}; check the file, or pass --max-deletes {deletes} if that is what you want",
            if max.is_none() { " by default (a quarter of the tenant, at least 10)" } else { "" }
        )));
    }
    Ok(())
}

/// `psg apply`: returns how many changes were made.
pub async fn run_apply(
    ctx: &Context,
    client: &Client,
    args: &ApplyArgs,
    out: &mut impl Write,
) -> Result<usize, Failure> {
    let json = matches!(ctx.global.output, Some(OutputFormat::Json));
    if let Some(other) = ctx.global.output.filter(|f| !matches!(f, OutputFormat::Json | OutputFormat::Table))
    {
        return Err(Failure::usage(format!(
            "psg apply prints text, or one JSON document with -o json; -o {} is not supported",
            other.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
        )));
    }
    let (plan, file) = match (&args.plan, &args.file) {
        (Some(path), _) => {
            let saved = planfile::load(path)?;
            check_target(path, &saved, client)?;
            let actual = list_complete(client, "listing the groups").await?;
            let now =
                fingerprint(client.config().base_url(), client.config().api_version().as_str(), &actual);
            if now != saved.fingerprint {
                return Err(Failure::api(format!(
                    "the tenant changed since {} was made (fingerprint {} now {now}); nothing was written: run psg plan --out again",
                    path.display(),
                    saved.fingerprint,
                )));
            }
            check_consistent(path, &saved, &actual)?;
            let plan = saved.plan();
            guard_delete_all(&plan, &actual, args.allow_delete_all)?;
            guard_max_deletes(plan.counts().delete, actual.len(), args.max_deletes, args.allow_delete_all)?;
            (plan, saved.file)
        }
        (None, Some(path)) => {
            let mut desired = desired::load(path)?;
            let resolution = resolve::resolve(client, &path.display().to_string(), &mut desired).await?;
            let actual = list_complete(client, "listing the groups").await?;
            let plan = compute(&desired, &actual, args.prune)?;
            for note in crate::gitops::notes::notes(&desired, &actual) {
                eprintln!("note: {note}");
            }
            if json {
                print_resolution(&mut std::io::stderr(), &resolution)?;
            } else {
                print_resolution(out, &resolution)?;
            }
            guard_delete_all(&plan, &actual, args.allow_delete_all)?;
            guard_max_deletes(plan.counts().delete, actual.len(), args.max_deletes, args.allow_delete_all)?;
            (plan, crate::stdio::shown(path))
        }
        (None, None) => {
            return Err(Failure::usage(
                "give the desired state with -f FILE, or a saved plan with --plan FILE",
            ));
        }
    };
    // With -o json, stdout carries only the final document.
    if json {
        print_plan(&mut std::io::stderr(), &plan, &file)?;
    } else {
        print_plan(out, &plan, &file)?;
    }
    if plan.is_empty() {
        if json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"changes": [], "summary": {"applied": 0, "conflict": 0, "failed": 0, "unknown": 0, "notStarted": 0}})
            )?;
        }
        return Ok(0);
    }
    out.flush()?;
    confirm(args.yes, "Apply these changes?")?;
    let run = execute::execute(ctx, client, &plan, args.rounds, json, out).await?;
    let report = run.report;
    let missed = report.total - report.applied();
    if missed > 0 {
        let advice = if report.retry_may_help {
            "; run psg apply again (psg plan shows what remains)".to_string()
        } else {
            format!("; {}", execute::report::why_not(&run.machine))
        };
        return Err(Failure::api(format!("{missed} of {} change(s) not applied{advice}", report.total)));
    }
    Ok(report.applied())
}

#[cfg(test)]
mod delete_guard_tests {
    use super::*;

    #[test]
    fn max_deletes_defaults_to_a_quarter_of_the_tenant_and_at_least_ten() {
        assert!(guard_max_deletes(10, 12, None, false).is_ok());
        let e = guard_max_deletes(11, 12, None, false).unwrap_err();
        assert_eq!(e.code, crate::failure::EXIT_USAGE);
        assert!(
            e.message.contains("--max-deletes 11") && e.message.contains("more than the 10"),
            "{}",
            e.message
        );
        assert!(guard_max_deletes(25, 100, None, false).is_ok());
        assert!(guard_max_deletes(26, 100, None, false).is_err());
        // An explicit limit wins, both ways.
        assert!(guard_max_deletes(26, 100, Some(26), false).is_ok());
        assert!(guard_max_deletes(3, 100, Some(2), true).is_err());
        // --allow-delete-all lifts only the default.
        assert!(guard_max_deletes(100, 100, None, true).is_ok());
        assert!(guard_max_deletes(0, 0, Some(0), false).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn the_default_never_refuses_ten_or_a_quarter(tenant in 0usize..1_000_000, deletes in 0usize..1_000_000) {
            let allowed = guard_max_deletes(deletes, tenant, None, false).is_ok();
            proptest::prop_assert_eq!(allowed, deletes <= (tenant / 4).max(10));
        }
    }

    #[test]
    fn every_group_means_a_non_empty_tenant_emptied() {
        assert!(deletes_every_group(3, 3));
        assert!(!deletes_every_group(2, 3));
        assert!(!deletes_every_group(0, 0));
    }
}
