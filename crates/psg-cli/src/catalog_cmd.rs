//! `psg policies list` and `psg sources list`: what a portable group names.

use std::io::Write;

use comfy_table::{ContentArrangement, Table, presets};
use futures::TryStreamExt;
use psg_ext::{PasswordPolicy, Source, SourceFilter};
use serde::Serialize;

use crate::cli::{OutputFormat, PoliciesCommand, SourcesCommand};
use crate::context::Context;
use crate::failure::Failure;

/// Runs a `policies` subcommand.
pub async fn policies(ctx: &Context, command: PoliciesCommand, out: &mut impl Write) -> Result<(), Failure> {
    let PoliciesCommand::List = command;
    let client = ctx.client()?;
    let policies: Vec<PasswordPolicy> = client.list_password_policies().stream().try_collect().await?;
    print(out, ctx.format, &policies, |t| {
        t.set_header(["ID", "NAME", "DEFAULT", "SOURCES"]);
        for p in &policies {
            t.add_row([
                p.id.clone(),
                p.name.clone(),
                if p.default_policy { "yes".into() } else { String::new() },
                p.source_ids.len().to_string(),
            ]);
        }
    })
}

/// Runs a `sources` subcommand.
pub async fn sources(ctx: &Context, command: SourcesCommand, out: &mut impl Write) -> Result<(), Failure> {
    let SourcesCommand::List { filter, password_managed } = command;
    let client = ctx.client()?;
    let mut wanted: Option<SourceFilter> = filter.map(SourceFilter::raw);
    if password_managed {
        wanted = Some(match wanted {
            Some(f) => f.and(SourceFilter::password_managed()),
            None => SourceFilter::password_managed(),
        });
    }
    let mut list = client.list_sources();
    if let Some(f) = wanted {
        list = list.filter(f);
    }
    let sources: Vec<Source> = list.stream().try_collect().await?;
    print(out, ctx.format, &sources, |t| {
        t.set_header(["ID", "NAME", "CONNECTOR", "PASSWORD"]);
        for s in &sources {
            t.add_row([
                s.id.clone(),
                s.name.clone(),
                s.connector.clone(),
                if s.is_password_managed() { "yes".into() } else { "no".into() },
            ]);
        }
    })
}

/// Prints `items` in `format`; `rows` fills the table.
fn print<T: Serialize>(
    out: &mut impl Write,
    format: OutputFormat,
    items: &[T],
    rows: impl FnOnce(&mut Table),
) -> Result<(), Failure> {
    match format {
        OutputFormat::Table | OutputFormat::Wide => {
            let mut t = Table::new();
            t.load_preset(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
            rows(&mut t);
            let text = t.to_string().lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
            writeln!(out, "{text}")?;
        }
        OutputFormat::Json => writeln!(out, "{}", crate::output::to_json(&items))?,
        OutputFormat::Yaml => {
            write!(out, "{}", serde_norway::to_string(&items).expect("plain data serialises"))?
        }
        OutputFormat::Ndjson => {
            for item in items {
                writeln!(out, "{}", serde_json::to_string(item).expect("plain data serialises"))?;
            }
        }
    }
    Ok(())
}
