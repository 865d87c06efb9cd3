//! `psg export`: the desired-state document as YAML (the default) or, with
//! `-o json`, as JSON (which `plan` and `apply` read too). `-o table`,
//! `wide` and `ndjson` are refused before anything is sent: a desired-state
//! file is one document, not a listing. The YAML's first line points editors at the
//! schema `psg schema --out` writes (JSON has no comments: editors map it by name).

use std::io::Write;
use std::path::Path;

use psg_ext::Client;

use crate::apply::duplicate_names;
use crate::cli::OutputFormat;
use crate::failure::Failure;
use crate::gitops::desired;
use crate::gitops::snapshot::list_complete;
use crate::gitops::{planfile, resolve, schema};

/// The format `export` writes for `-o` (`None`: not given): YAML or JSON; anything else is refused.
pub fn format(output: Option<OutputFormat>) -> Result<OutputFormat, Failure> {
    match output {
        None | Some(OutputFormat::Yaml) => Ok(OutputFormat::Yaml),
        Some(OutputFormat::Json) => Ok(OutputFormat::Json),
        Some(other) => Err(Failure::usage(format!(
            "psg export writes a desired-state document: -o yaml (the default) or -o json, not -o {}",
            clap::ValueEnum::to_possible_value(&other).map(|v| v.get_name().to_string()).unwrap_or_default()
        ))),
    }
}

/// Runs `psg export` in `format` (from [`format`]), to `file` or `out`.
pub async fn run(
    client: &Client,
    file: Option<&Path>,
    portable: bool,
    format: OutputFormat,
    schema_ref: &str,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let groups = list_complete(client, "listing the groups").await?;
    for (name, ids) in duplicate_names(&groups) {
        eprintln!(
            "warning: {} groups are named {} ({}); the exported file will not plan until each name is unique",
            ids.len(),
            crate::output::quoted(name),
            ids.join(", ")
        );
    }
    let text = match (portable, format) {
        (true, OutputFormat::Json) => {
            let names = resolve::names_for(client, &groups).await?;
            json(&desired::portable_document(&groups, &names))
        }
        (true, _) => {
            let names = resolve::names_for(client, &groups).await?;
            format!("{}{}", schema::modeline(schema_ref), desired::render_portable(&groups, &names))
        }
        (false, OutputFormat::Json) => json(&desired::document(&groups)),
        (false, _) => format!("{}{}", schema::modeline(schema_ref), desired::render(&groups)),
    };
    match file {
        Some(path) => planfile::write_atomically(path, &text)?,
        None => write!(out, "{text}")?,
    }
    Ok(())
}

fn json(doc: &serde_json::Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(doc).expect("plain data serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_is_the_default_and_listing_formats_are_refused() {
        assert_eq!(format(None).unwrap(), OutputFormat::Yaml);
        assert_eq!(format(Some(OutputFormat::Json)).unwrap(), OutputFormat::Json);
        for refused in [OutputFormat::Table, OutputFormat::Wide, OutputFormat::Ndjson] {
            let f = format(Some(refused)).unwrap_err();
            assert_eq!(f.code, crate::failure::EXIT_USAGE);
            assert!(f.message.contains("-o yaml (the default) or -o json"), "{}", f.message);
        }
    }
}
