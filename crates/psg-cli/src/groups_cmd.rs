//! `psg groups list|get|create|update|delete`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use futures::StreamExt;
use futures::TryStreamExt;
use psg_ext::{Client, Error, Group, GroupSpec};
use serde::Deserialize;

use crate::cli::{GroupsCommand, OutputFormat};
use crate::context::Context;
use crate::execute::list_with_retry;
use crate::failure::Failure;
use crate::output;

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
    let text = crate::desired::read_text(path)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let parsed: GroupFile = serde_norway::from_str(text).map_err(|e| {
        let at = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
        let shown = crate::stdio::shown(path);
        Failure::usage(format!("{shown}{at}: {e} (expected name, passwordPolicyId and sourceIds)"))
    })?;
    Ok(GroupSpec::new(parsed.name).password_policy(parsed.password_policy_id).with_sources(parsed.source_ids))
}

/// After a create whose answer was lost: the group exists if exactly one
/// group has its name; otherwise the original error stands.
async fn recover_lost_create(client: &Client, spec: &GroupSpec, lost: Error) -> Result<Group, Failure> {
    eprintln!("warning: {lost}; looking it up by name");
    let mut found = Vec::new();
    let mut stream = client.list_groups().stream();
    while let Some(g) = stream.try_next().await? {
        if g.name == spec.name {
            found.push(g);
        }
    }
    match found.len() {
        1 => {
            let g = found.remove(0);
            eprintln!("the group was created: {} ({})", g.name, g.id);
            Ok(g)
        }
        0 => Err(Failure::api(format!(
            "{lost}; no group named {:?} exists, so it was not created: try again",
            spec.name
        ))),
        n => Err(Failure::api(format!("{lost}; {n} groups are named {:?} now: check them", spec.name))),
    }
}

/// Runs a `groups` subcommand.
pub async fn run(ctx: &Context, command: GroupsCommand, out: &mut impl Write) -> Result<(), Failure> {
    let client = ctx.client()?;
    match command {
        GroupsCommand::List { limit, offset, all } => {
            if all {
                list_all(ctx, &client, offset, out).await
            } else {
                let page = client.list_groups().limit(limit).offset(offset).page().await?;
                output::print_groups(out, ctx.format, &page.items)?;
                if ctx.format == OutputFormat::Table
                    && let Some(total) = page.total
                {
                    eprintln!("{} of {total} group(s) from offset {offset}", page.items.len());
                }
                Ok(())
            }
        }
        GroupsCommand::Get { id } => {
            let group = client.get_group(&id).await?;
            output::print_group(out, ctx.format, &group)
        }
        GroupsCommand::Create { name, policy, sources, file, allow_duplicate_name } => {
            let new = match file {
                Some(path) => read_group_file(&path)?,
                None => GroupSpec::new(name.unwrap_or_default())
                    .password_policy(policy.unwrap_or_default())
                    .with_sources(sources),
            };
            if !allow_duplicate_name {
                refuse_taken_name(&client, &new.name, None).await?;
            }
            let created = match client.create_group(&new).await {
                Ok(g) => g,
                Err(e @ Error::CreateOutcomeUnknown { .. }) => recover_lost_create(&client, &new, e).await?,
                Err(e) => return Err(e.into()),
            };
            output::print_group(out, ctx.format, &created)
        }
        GroupsCommand::Update { id, name, policy, sources, file, allow_duplicate_name } => {
            let renaming = name.is_some() || file.is_some();
            let new = match file {
                Some(path) => read_group_file(&path)?,
                None => {
                    if name.is_none() && policy.is_none() && sources.is_empty() {
                        return Err(Failure::usage(
                            "nothing to change: give --name, --policy, --source or --file",
                        ));
                    }
                    let current = client.get_group(&id).await?;
                    let mut merged = GroupSpec::from(&current);
                    if let Some(n) = name {
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
            let updated = client.update_group(&id, &new).await?;
            output::print_group(out, ctx.format, &updated)
        }
        GroupsCommand::Delete { ids, yes } => {
            confirm(yes, &format!("Delete {} group(s): {}?", ids.len(), ids.join(", ")))?;
            let mut deleted = Vec::new();
            for id in &ids {
                client.delete_group(id).await?;
                deleted.push(id.clone());
                if ctx.format == OutputFormat::Table {
                    writeln!(out, "deleted {id}")?;
                }
            }
            match ctx.format {
                OutputFormat::Table => {}
                OutputFormat::Ndjson => {
                    for id in &deleted {
                        writeln!(out, "{}", serde_json::json!({"deleted": id}))?;
                    }
                }
                OutputFormat::Json => writeln!(out, "{}", serde_json::json!({"deleted": deleted}))?,
                OutputFormat::Yaml => write!(
                    out,
                    "{}",
                    serde_norway::to_string(&serde_json::json!({"deleted": deleted})).expect("plain data")
                )?,
            }
            Ok(())
        }
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

/// Streams every group; NDJSON is written as pages arrive, other formats at the end.
async fn list_all(ctx: &Context, client: &Client, offset: u64, out: &mut impl Write) -> Result<(), Failure> {
    let bar = if ctx.progress_enabled() {
        let first = client.list_groups().limit(0).offset(offset).page().await?;
        ctx.progress(first.total.unwrap_or(0).saturating_sub(offset), "listing")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut stream = client.list_groups().offset(offset).stream();
    let mut buffered = Vec::new();
    while let Some(item) = stream.next().await {
        let group = item.inspect_err(|_| bar.abandon())?;
        bar.inc(1);
        if ctx.format == OutputFormat::Ndjson {
            output::print_ndjson(out, &group)?;
        } else {
            buffered.push(group);
        }
    }
    bar.finish_and_clear();
    if ctx.format != OutputFormat::Ndjson {
        output::print_groups(out, ctx.format, &buffered)?;
    }
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
