//! Names of policies and sources for tables: one listing of policies and the
//! groups' source ids in batched `id in (...)` lookups (the same batches as
//! portable files), once per command, never per row.

use std::collections::{BTreeSet, HashMap};

use futures::TryStreamExt;
use psg_ext::{Client, Group, PasswordPolicy};

use crate::gitops::resolve::fetch_sources_by_id;

/// Display names by id; an id without one is shown as the id.
#[derive(Debug, Default, Clone)]
pub struct Labels {
    policies: HashMap<String, String>,
    sources: HashMap<String, String>,
}

impl Labels {
    /// The name of policy `id`, if known.
    pub fn policy(&self, id: &str) -> Option<&str> {
        self.policies.get(id).map(String::as_str)
    }

    /// The name of source `id`, if known.
    pub fn source(&self, id: &str) -> Option<&str> {
        self.sources.get(id).map(String::as_str)
    }

    /// Labels from known pairs.
    #[cfg(test)]
    pub fn from_pairs(
        policies: impl IntoIterator<Item = (String, String)>,
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Labels { policies: policies.into_iter().collect(), sources: sources.into_iter().collect() }
    }
}

/// The names of every policy and source `groups` use. A lookup that fails
/// (e.g. a client without `idn:sources:read`) leaves those ids as ids, with
/// one warning on stderr: the table is still printed.
pub async fn labels(client: &Client, groups: &[Group]) -> Labels {
    let mut labels = Labels::default();
    if groups.is_empty() {
        return labels;
    }
    match client.list_password_policies().stream().try_collect::<Vec<PasswordPolicy>>().await {
        Ok(policies) => labels.policies = policies.into_iter().map(|p| (p.id, p.name)).collect(),
        Err(e) => warn("policy", &e.to_string()),
    }
    let ids: BTreeSet<String> = groups.iter().flat_map(|g| g.source_ids.iter().cloned()).collect();
    match fetch_sources_by_id(client, &ids).await {
        Ok(sources) => labels.sources = sources.into_iter().map(|s| (s.id, s.name)).collect(),
        Err(f) => warn("source", &f.message),
    }
    labels
}

fn warn(what: &str, why: &str) {
    eprintln!("warning: cannot read {what} names ({}); showing {what} ids", crate::output::escape(why));
}

/// [`labels`] when `format` is a table; JSON, YAML and NDJSON print the API's
/// objects as they are, so nothing is looked up for them.
pub async fn labels_for_format(
    client: &Client,
    format: crate::cli::OutputFormat,
    groups: &[Group],
) -> Labels {
    use crate::cli::OutputFormat;
    match format {
        OutputFormat::Table | OutputFormat::Wide => labels(client, groups).await,
        _ => Labels::default(),
    }
}
