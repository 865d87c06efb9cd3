//! `psg groups list|get|create|update|delete`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use futures::StreamExt;
use futures::TryStreamExt;
use psg_ext::{Client, GroupSpec};
use serde::Deserialize;

use crate::cli::{GroupsCommand, OutputFormat};
use crate::context::Context;
use crate::failure::Failure;
use crate::gitops::snapshot::list_with_retry;
use crate::{names, output, refs};

/// A group given in a file (JSON or YAML).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GroupFile {
    name: String,
    password_policy_id: String,
    source_ids: Vec<String>,
    // Accepted and ignored, so that `psg groups get -o yaml` output can be edited and fed back.
    #[serde(default, rename = "id")]
    _id: Option<serde_norway::Value>,
    #[serde(default, rename = "created")]
    _created: Option<serde_norway::Value>,
    #[serde(default, rename = "modified")]
    _modified: Option<serde_norway::Value>,
}

fn read_group_file(path: &Path) -> Result<GroupSpec, Failure> {
    let text = crate::gitops::desired::read_text(path)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let parsed: GroupFile = serde_norway::from_str(text).map_err(|e| {
        let at = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
        let shown = crate::stdio::shown(path);
        Failure::usage(format!("{shown}{at}: {e} (expected name, passwordPolicyId and sourceIds)"))
    })?;
    Ok(GroupSpec::new(parsed.name).password_policy(parsed.password_policy_id).with_sources(parsed.source_ids))
}

/// One warning line per group the server sent without a field the spec
/// leaves optional: it is shown with that field empty.
fn warn_incomplete(groups: &[psg_ext::Group]) {
    for g in groups.iter().filter(|g| !g.is_complete()) {
        eprintln!(
            "warning: group {} was sent without {} (shown empty); export, plan and apply stop on it until it has one",
            g.id,
            g.missing_fields().join(" and ")
        );
    }
}

/// Runs a `groups` subcommand.
pub async fn run(ctx: &Context, command: GroupsCommand, out: &mut impl Write) -> Result<(), Failure> {
    let client = ctx.client()?;
    match command {
        GroupsCommand::List { limit, offset, all, sources, policy } => {
            if !sources.is_empty() || policy.is_some() {
                return list_filtered(ctx, &client, offset, policy.as_deref(), &sources, out).await;
            }
            if all {
                if limit == 0 {
                    return Err(Failure::usage("--all needs a page size of 1 to 250 (--limit)"));
                }
                list_all(ctx, &client, limit, offset, out).await
            } else {
                let page = client.list_groups().limit(limit).offset(offset).page().await?;
                warn_incomplete(&page.items);
                let labels = names::labels_for_format(&client, ctx.format, &page.items).await;
                output::print_groups(out, ctx.format, &page.items, &labels)?;
                out.flush()?;
                if let Some(total) = page.total
                    && (page.items.len() as u64) < total
                {
                    eprintln!("{} of {total} groups; --all for every page", page.items.len());
                }
                Ok(())
            }
        }
        GroupsCommand::Get { id, name } => {
            let id = match (id, name) {
                (Some(id), _) => id,
                (None, Some(name)) => id_of_name(&client, &name).await?,
                (None, None) => return Err(Failure::usage("give the group's id, or --name NAME")),
            };
            let group = client.get_group(&id).await?;
            warn_incomplete(std::slice::from_ref(&group));
            let labels = names::labels_for_format(&client, ctx.format, std::slice::from_ref(&group)).await;
            output::print_group(out, ctx.format, &group, &labels)
        }
        GroupsCommand::Create { name, policy, sources, file, allow_duplicate_name } => {
            let new = match file {
                Some(path) => read_group_file(&path)?,
                None => {
                    // The documented rules first (a name or an id counts as one source): no lookup for a bad group.
                    let given = GroupSpec::new(name.unwrap_or_default())
                        .password_policy(policy.clone().unwrap_or_default())
                        .with_sources(sources.clone());
                    given.validate()?;
                    let (policy, sources) = refs::resolve(&client, policy.as_deref(), &sources).await?;
                    given.password_policy(policy.unwrap_or_default()).with_sources(sources)
                }
            };
            if !allow_duplicate_name {
                refuse_taken_name(&client, &new.name, None).await?;
            }
            let created = match client.create_group(&new).await {
                Ok(g) => g,
                Err(e) if crate::settle::settles_nothing(&e) => {
                    crate::settle::settle_create(&client, &new, &e, crate::settle::window_of(ctx)).await?
                }
                Err(e) => return Err(e.into()),
            };
            let labels = names::labels_for_format(&client, ctx.format, std::slice::from_ref(&created)).await;
            output::print_group(out, ctx.format, &created, &labels)
        }
        GroupsCommand::Update { id, name, new_name, policy, sources, file, allow_duplicate_name } => {
            // With an id, --name is the new name; without one, it picks the group.
            let (id, new_name) = match id {
                Some(id) => {
                    if name.is_some() && new_name.is_some() {
                        return Err(Failure::usage(
                            "with an ID, --name is the new name: give --name or --new-name, not both",
                        ));
                    }
                    (id, name.or(new_name))
                }
                None => {
                    let name = name.unwrap_or_default();
                    (id_of_name(&client, &name).await?, new_name)
                }
            };
            let renaming = new_name.is_some() || file.is_some();
            let new = match file {
                Some(path) => read_group_file(&path)?,
                None => {
                    if new_name.is_none() && policy.is_none() && sources.is_empty() {
                        return Err(Failure::usage(
                            "nothing to change: give --name (with an ID) or --new-name, --policy, --source or --file",
                        ));
                    }
                    let (policy, sources) = refs::resolve(&client, policy.as_deref(), &sources).await?;
                    let current = client.get_group(&id).await.map_err(|e| {
                        let mut f = Failure::from(e);
                        f.message = format!("updating group {id}: reading it first failed: {}", f.message);
                        f
                    })?;
                    let mut merged = GroupSpec::from(&current);
                    if let Some(n) = new_name {
                        merged.name = n;
                    }
                    if let Some(p) = policy {
                        merged.password_policy_id = p;
                    }
                    if !sources.is_empty() {
                        merged.source_ids = sources;
                    }
                    merged
                }
            };
            if renaming && !allow_duplicate_name {
                refuse_taken_name(&client, &new.name, Some(&id)).await?;
            }
            let updated = match client.update_group(&id, &new).await {
                Ok(g) => g,
                Err(e) if crate::settle::settles_nothing(&e) => {
                    crate::settle::settle_update(&client, &id, &new, &e, crate::settle::window_of(ctx))
                        .await?
                }
                Err(e) => return Err(e.into()),
            };
            let labels = names::labels_for_format(&client, ctx.format, std::slice::from_ref(&updated)).await;
            output::print_group(out, ctx.format, &updated, &labels)
        }
        GroupsCommand::Delete { ids, names, yes, ignore_not_found } => {
            crate::delete_cmd::run(ctx, &client, ids, names, yes, ignore_not_found, out).await
        }
    }
}

/// The id of the one group named `name`; exit 2 if none or several have it.
pub async fn id_of_name(client: &Client, name: &str) -> Result<String, Failure> {
    let groups = list_with_retry(client, "listing the groups to find the name").await?;
    let ids: Vec<&str> = groups.iter().filter(|g| g.fields.name == name).map(|g| g.id.as_str()).collect();
    match ids.as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Err(Failure::usage(format!(
            "no group is named {}: check the name with psg groups list",
            output::quoted(name)
        ))),
        many => Err(Failure::usage(format!(
            "{} groups are named {} ({}): give the id instead",
            many.len(),
            output::quoted(name),
            many.join(", ")
        ))),
    }
}

/// Refuses `name` when a group other than `except` already has it.
async fn refuse_taken_name(client: &Client, name: &str, except: Option<&str>) -> Result<(), Failure> {
    let groups = list_with_retry(client, "listing the groups to check the name").await?;
    let taken: Vec<&str> = groups
        .iter()
        .filter(|g| g.fields.name == name && Some(g.id.as_str()) != except)
        .map(|g| g.id.as_str())
        .collect();
    if taken.is_empty() {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "a group named {name:?} already exists ({}); names should be unique (plan/apply match groups by name): choose another name, or pass --allow-duplicate-name",
        taken.join(", ")
    )))
}

/// Streams every group in pages of `limit`; NDJSON is written as pages
/// arrive, other formats at the end.
async fn list_all(
    ctx: &Context,
    client: &Client,
    limit: u32,
    offset: u64,
    out: &mut impl Write,
) -> Result<(), Failure> {
    // Lines streamed to the terminal the bar is drawn on would interleave
    // with it: no bar then.
    let streaming_to_terminal = ctx.format == OutputFormat::Ndjson && std::io::stdout().is_terminal();
    let bar = if ctx.progress_enabled() && !streaming_to_terminal {
        let first = client.list_groups().limit(0).offset(offset).page().await?;
        ctx.progress(first.total.unwrap_or(0).saturating_sub(offset), "listing")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut stream = client.list_groups().limit(limit).offset(offset).stream();
    let mut buffered = Vec::new();
    while let Some(item) = stream.next().await {
        let group = item.inspect_err(|_| bar.abandon())?;
        bar.inc(1);
        warn_incomplete(std::slice::from_ref(&group));
        if ctx.format == OutputFormat::Ndjson {
            output::print_ndjson(out, &group)?;
        } else {
            buffered.push(group);
        }
    }
    bar.finish_and_clear();
    if ctx.format != OutputFormat::Ndjson {
        let labels = names::labels_for_format(client, ctx.format, &buffered).await;
        output::print_groups(out, ctx.format, &buffered, &labels)?;
    }
    Ok(())
}

/// `groups list --source/--policy`: the API has no such filter, so every
/// group from `offset` on is read and the matching ones printed, with a note
/// on stderr saying so.
async fn list_filtered(
    ctx: &Context,
    client: &Client,
    offset: u64,
    policy: Option<&str>,
    sources: &[String],
    out: &mut impl Write,
) -> Result<(), Failure> {
    let (policy, sources) = refs::resolve(client, policy, sources).await?;
    let (mut read, mut matched) = (0u64, 0u64);
    let mut kept = Vec::new();
    let mut stream = client.list_groups().offset(offset).stream();
    while let Some(group) = stream.try_next().await? {
        read += 1;
        warn_incomplete(std::slice::from_ref(&group));
        let policy_ok = policy.as_ref().is_none_or(|p| &group.password_policy_id == p);
        if policy_ok && sources.iter().all(|s| group.source_ids.contains(s)) {
            matched += 1;
            if ctx.format == OutputFormat::Ndjson {
                output::print_ndjson(out, &group)?;
            } else {
                kept.push(group);
            }
        }
    }
    if ctx.format != OutputFormat::Ndjson {
        let labels = names::labels_for_format(client, ctx.format, &kept).await;
        output::print_groups(out, ctx.format, &kept, &labels)?;
    }
    out.flush()?;
    eprintln!(
        "note: the API cannot filter groups by policy or source; psg read all {read} groups and kept the {matched} that match"
    );
    Ok(())
}

/// Asks on a terminal; elsewhere demands `--yes`.
pub fn confirm(yes: bool, question: &str) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(format!(
            "{question} Refusing without --yes because stdin is not a terminal"
        )));
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(Failure::usage("cancelled; nothing was changed"))
    }
}
