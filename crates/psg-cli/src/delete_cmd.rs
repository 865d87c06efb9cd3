//! `psg groups delete ID... [--name NAME]...`: try every group, then report
//! what was deleted, what was not found and what failed.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use psg_ext::Client;
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::failure::Failure;
use crate::gitops::snapshot::list_with_retry;
use crate::groups_cmd::{confirm, id_of_name};
use crate::output::quoted;

/// One delete that failed.
#[derive(Debug, Serialize)]
struct FailedDelete {
    id: String,
    error: String,
}

/// The outcome of every delete, printed by `-o json` exactly as is.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    deleted: Vec<String>,
    not_found: Vec<String>,
    failed: Vec<FailedDelete>,
}

/// The confirmation question, naming each group when the tenant can say.
async fn question(client: &Client, ids: &[String]) -> Result<String, Failure> {
    let names: BTreeMap<String, String> = list_with_retry(client, "listing the groups to name them")
        .await?
        .into_iter()
        .map(|g| (g.id, g.fields.name))
        .collect();
    let lines: Vec<String> = ids
        .iter()
        .map(|id| match names.get(id) {
            Some(name) => format!("  {} ({id})", quoted(name)),
            None => format!("  {id} (no such group)"),
        })
        .collect();
    Ok(format!("Delete {} group(s)?\n{}\n", ids.len(), lines.join("\n")))
}

/// Runs the deletes and prints the report in the context's format.
pub async fn run(
    ctx: &Context,
    client: &Client,
    ids: Vec<String>,
    names: Vec<String>,
    yes: bool,
    ignore_not_found: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let mut targets: Vec<String> = Vec::new();
    for name in &names {
        targets.push(id_of_name(client, name).await?);
    }
    for id in ids {
        if !targets.contains(&id) {
            targets.push(id);
        }
    }
    if !yes {
        let text = if std::io::stdin().is_terminal() {
            question(client, &targets).await?
        } else {
            format!("Delete {} group(s): {}?", targets.len(), targets.join(", "))
        };
        confirm(false, text.trim_end())?;
    }
    let table = matches!(ctx.format, OutputFormat::Table | OutputFormat::Wide);
    let mut report = Report::default();
    for id in &targets {
        match client.delete_group(id).await {
            Ok(_) => {
                if table {
                    writeln!(out, "deleted {}", crate::output::escape(id))?;
                    out.flush()?;
                }
                report.deleted.push(id.clone());
            }
            Err(e) if e.is_not_found() => {
                if table {
                    eprintln!("not found: {}", crate::output::escape(id));
                }
                report.not_found.push(id.clone());
            }
            Err(e) if crate::settle::settles_nothing(&e) => {
                match crate::settle::settle_delete(client, id, &e, crate::settle::window_of(ctx)).await {
                    crate::settle::DeleteOutcome::Deleted => {
                        if table {
                            writeln!(out, "deleted {}", crate::output::escape(id))?;
                            out.flush()?;
                        }
                        report.deleted.push(id.clone());
                    }
                    crate::settle::DeleteOutcome::StillThere(error)
                    | crate::settle::DeleteOutcome::Unknown(error) => {
                        if table {
                            eprintln!(
                                "failed: {}: {}",
                                crate::output::escape(id),
                                crate::output::escape(&error)
                            );
                        }
                        report.failed.push(FailedDelete { id: id.clone(), error });
                    }
                }
            }
            Err(e) => {
                let error = Failure::from(e).message;
                if table {
                    eprintln!("failed: {}: {}", crate::output::escape(id), crate::output::escape(&error));
                }
                report.failed.push(FailedDelete { id: id.clone(), error });
            }
        }
    }
    match ctx.format {
        OutputFormat::Table | OutputFormat::Wide => {}
        OutputFormat::Ndjson => {
            for id in &report.deleted {
                writeln!(out, "{}", serde_json::json!({ "deleted": id }))?;
            }
            for id in &report.not_found {
                writeln!(out, "{}", serde_json::json!({ "notFound": id }))?;
            }
            for f in &report.failed {
                writeln!(out, "{}", serde_json::json!({ "failed": f }))?;
            }
        }
        OutputFormat::Yaml => write!(out, "{}", serde_norway::to_string(&report).expect("plain data"))?,
        _ => writeln!(out, "{}", serde_json::to_string_pretty(&report).expect("plain data"))?,
    }
    out.flush()?;
    let missing = if ignore_not_found { 0 } else { report.not_found.len() };
    if report.failed.is_empty() && missing == 0 {
        return Ok(());
    }
    let mut parts = Vec::new();
    if !report.failed.is_empty() {
        parts.push(format!("{} failed", report.failed.len()));
    }
    if missing > 0 {
        parts.push(format!("{missing} not found (--ignore-not-found counts those as done)"));
    }
    Err(Failure::api(format!(
        "{} of {} group(s) deleted; {}",
        report.deleted.len(),
        targets.len(),
        parts.join(", ")
    )))
}
