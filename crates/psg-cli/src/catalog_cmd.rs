//! `psg policies list` and `psg sources list`: what a portable group names.

use std::io::Write;

use futures::TryStreamExt;
use psg_ext::{PasswordPolicy, Source, SourceFilter};
use serde::Serialize;

use crate::cli::{OutputFormat, PoliciesCommand, SourcesCommand};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::escape;
use crate::table::{Column, Fit};

/// Runs a `policies` subcommand.
pub async fn policies(ctx: &Context, command: PoliciesCommand, out: &mut impl Write) -> Result<(), Failure> {
    let PoliciesCommand::List = command;
    let client = ctx.client()?;
    let policies: Vec<PasswordPolicy> = client.list_password_policies().stream().try_collect().await?;
    for p in policies.iter().filter(|p| !p.missing_fields().is_empty()) {
        eprintln!(
            "warning: password policy {} was sent without {} (shown empty); portable files cannot name it",
            p.id,
            p.missing_fields().join(" and ")
        );
    }
    let wide = ctx.format == OutputFormat::Wide;
    let mut columns = vec![
        Column::new("ID", Fit::Whole),
        Column::new("NAME", Fit::Name),
        Column::new("DEFAULT", Fit::Cut),
        Column::new("SOURCES", Fit::Drop),
    ];
    if wide {
        columns.push(Column::new("DESCRIPTION", Fit::Cut));
    }
    let rows = policies
        .iter()
        .map(|p| {
            let mut row = vec![
                escape(&p.id),
                escape(&p.name),
                if p.default_policy { "yes".into() } else { String::new() },
                p.source_ids.len().to_string(),
            ];
            if wide {
                row.push(escape(p.description.as_deref().unwrap_or_default()));
            }
            row
        })
        .collect();
    print(out, ctx.format, &policies, &columns, rows)
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
    let wide = ctx.format == OutputFormat::Wide;
    let mut columns = vec![
        Column::new("ID", Fit::Whole),
        Column::new("NAME", Fit::Name),
        Column::new("CONNECTOR", Fit::Cut),
        Column::new("PASSWORD", Fit::Whole),
    ];
    if wide {
        columns.push(Column::new("FEATURES", Fit::Cut));
    }
    let rows = sources
        .iter()
        .map(|s| {
            let mut row = vec![
                escape(&s.id),
                escape(&s.name),
                escape(&s.connector),
                if s.is_password_managed() { "yes".into() } else { "no".into() },
            ];
            if wide {
                row.push(escape(&s.features.join(",")));
            }
            row
        })
        .collect();
    print(out, ctx.format, &sources, &columns, rows)
}

/// Prints `items` in `format`; tables show `rows` under `columns` (the
/// table fitted to the width, wide never cut).
fn print<T: Serialize>(
    out: &mut impl Write,
    format: OutputFormat,
    items: &[T],
    columns: &[Column],
    rows: Vec<Vec<String>>,
) -> Result<(), Failure> {
    match format {
        OutputFormat::Table => {
            write!(out, "{}", crate::table::render(columns, &rows, crate::table::width()))?
        }
        OutputFormat::Wide => write!(out, "{}", crate::table::render(columns, &rows, None))?,
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
