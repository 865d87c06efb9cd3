//! Portable desired state: policy and source *names* resolved to ids in the
//! tenant a file is applied to, so one file travels from a sandbox tenant to
//! production. One listing of policies; sources fetched with `name in (...)`
//! filters in batches, through the client (so within its rate limit).
//!
//! Every problem (an unknown name, a name shared by two sources or
//! policies, a source without the `PASSWORD` feature) is reported at once as
//! `file:line: message`, and nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};
use psg_ext::{Client, PasswordPolicy, Source, SourceFilter};

use crate::failure::Failure;
use crate::gitops::desired::DesiredGroup;

/// Source names asked for in one `name in (...)` filter.
const NAMES_PER_REQUEST: usize = 50;

/// Most bytes one percent-encoded filter may take, well under the documented 8192-byte URL
/// limit so the rest of the URL (host, path, paging) always fits.
const FILTER_BYTES_PER_REQUEST: usize = 4096;

/// Source batches fetched at once.
const CONCURRENT_BATCHES: usize = 4;

/// What was resolved, for the plan's display: `(kind, name, id)` sorted;
/// `plan -o json` carries it as `"resolved": {"policies": {NAME: ID}, "sources": {NAME: ID}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolution {
    /// Policies by name.
    pub policies: BTreeMap<String, String>,
    /// Sources by name.
    pub sources: BTreeMap<String, String>,
}

impl Resolution {
    /// Whether nothing needed resolving.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty() && self.sources.is_empty()
    }

    /// Lines such as `policy "Default" = 2c91…` for people.
    pub fn lines(&self) -> Vec<String> {
        let p = self.policies.iter().map(|(n, id)| format!("policy {n:?} = {id}"));
        let s = self.sources.iter().map(|(n, id)| format!("source {n:?} = {id}"));
        p.chain(s).collect()
    }
}

/// Resolves every name in `groups` in the tenant behind `client`, filling
/// in the ids. Makes no request when the file uses ids only.
pub async fn resolve(
    client: &Client,
    file: &str,
    groups: &mut [DesiredGroup],
) -> Result<Resolution, Failure> {
    let policy_names: BTreeSet<&str> =
        groups.iter().filter_map(|g| g.policy_name.as_ref()).map(|n| n.name.as_str()).collect();
    let source_names: BTreeSet<&str> =
        groups.iter().flat_map(|g| g.source_names.iter().flatten()).map(|n| n.name.as_str()).collect();
    if policy_names.is_empty() && source_names.is_empty() {
        return Ok(Resolution::default());
    }
    let policies: Vec<PasswordPolicy> = if policy_names.is_empty() {
        Vec::new()
    } else {
        client.list_password_policies().stream().try_collect().await?
    };
    let sources = fetch_sources(client, &source_names).await?;
    let (resolution, problems) = match_names(file, groups, &policies, &sources);
    if problems.is_empty() {
        return Ok(resolution);
    }
    let n = problems.len();
    let text = problems.join("\n");
    Err(Failure::usage(if n == 1 {
        format!("{text} (nothing was changed)")
    } else {
        format!("{file}: {n} names do not resolve in this tenant; nothing was changed:\n{text}")
    }))
}

/// Sources whose names are in `names`, in batches of `name in (...)`.
pub async fn fetch_sources(client: &Client, names: &BTreeSet<&str>) -> Result<Vec<Source>, Failure> {
    let batches = batches(names.iter().map(|n| n.to_string()));
    let found: Vec<Vec<Source>> = futures::stream::iter(batches)
        .map(|batch| {
            client.list_sources().filter(SourceFilter::name_in(&batch)).stream().try_collect::<Vec<_>>()
        })
        .buffered(CONCURRENT_BATCHES)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// Sources whose ids are in `ids`, in batches of `id in (...)` (by count and encoded length).
pub async fn fetch_sources_by_id(client: &Client, ids: &BTreeSet<String>) -> Result<Vec<Source>, Failure> {
    let found: Vec<Vec<Source>> = futures::stream::iter(batches(ids.iter().cloned()))
        .map(|batch| {
            client.list_sources().filter(SourceFilter::id_in(&batch)).stream().try_collect::<Vec<_>>()
        })
        .buffered(CONCURRENT_BATCHES)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// Names of policies and sources by id, for `psg export --portable`: only
/// names unique in the tenant are kept (an ambiguous one would not resolve).
#[derive(Debug, Default)]
pub struct Names {
    policies: BTreeMap<String, String>,
    sources: BTreeMap<String, String>,
}

impl Names {
    /// The unique name of policy `id`.
    pub fn policy(&self, id: &str) -> Option<&str> {
        self.policies.get(id).map(String::as_str)
    }
    /// The unique name of source `id`.
    pub fn source(&self, id: &str) -> Option<&str> {
        self.sources.get(id).map(String::as_str)
    }
    /// Records `name` as policy `id`'s (tests).
    #[cfg(test)]
    pub fn insert_policy(&mut self, id: &str, name: &str) {
        self.policies.insert(id.into(), name.into());
    }
    /// Records `name` as source `id`'s (tests).
    #[cfg(test)]
    pub fn insert_source(&mut self, id: &str, name: &str) {
        self.sources.insert(id.into(), name.into());
    }
}

/// Looks up the names of every policy and source `groups` use. Warns (on
/// stderr) about ids that have no unique name; those stay ids in the file.
pub async fn names_for(client: &Client, groups: &[crate::gitops::tenant::Group]) -> Result<Names, Failure> {
    let policies: Vec<PasswordPolicy> = client.list_password_policies().stream().try_collect().await?;
    let wanted: BTreeSet<String> = groups.iter().flat_map(|g| g.fields.source_ids.iter().cloned()).collect();
    let sources = fetch_sources_by_id(client, &wanted).await?;
    let mut names = Names::default();
    let policy_counts = count(policies.iter().map(|p| p.name.as_str()));
    for p in &policies {
        // A policy the server sent without a name cannot be named in a file.
        if p.missing_fields().is_empty() && policy_counts.get(p.name.as_str()) == Some(&1) {
            names.policies.insert(p.id.clone(), p.name.clone());
        }
    }
    // Source names must be unique tenant-wide, not only among those used.
    let used_names: Vec<String> =
        sources.iter().map(|s| s.name.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let same_name: Vec<Source> =
        fetch_sources(client, &used_names.iter().map(String::as_str).collect()).await?;
    let source_counts = count(same_name.iter().map(|s| s.name.as_str()));
    for s in &sources {
        if source_counts.get(s.name.as_str()).copied().unwrap_or(1) == 1 {
            names.sources.insert(s.id.clone(), s.name.clone());
        }
    }
    for g in groups {
        let f = &g.fields;
        if names.policy(&f.password_policy_id).is_none() {
            eprintln!(
                "warning: group {:?}: policy {} has no unique name in this tenant; kept as passwordPolicyId",
                f.name, f.password_policy_id
            );
        }
        for id in f.source_ids.iter().filter(|id| names.source(id).is_none()) {
            eprintln!(
                "warning: group {:?}: source {id} has no unique name in this tenant; kept as sourceIds",
                f.name
            );
        }
    }
    Ok(names)
}

/// The pure part: names to ids, or every problem with its line.
pub fn match_names(
    file: &str,
    groups: &mut [DesiredGroup],
    policies: &[PasswordPolicy],
    sources: &[Source],
) -> (Resolution, Vec<String>) {
    let mut policies_by_name: BTreeMap<&str, Vec<&PasswordPolicy>> = BTreeMap::new();
    for p in policies.iter().filter(|p| p.missing_fields().is_empty()) {
        policies_by_name.entry(p.name.as_str()).or_default().push(p);
    }
    let mut sources_by_name: BTreeMap<&str, Vec<&Source>> = BTreeMap::new();
    for s in sources {
        sources_by_name.entry(s.name.as_str()).or_default().push(s);
    }
    let mut problems: Vec<(usize, String)> = Vec::new();
    let mut resolution = Resolution::default();
    for g in groups.iter_mut() {
        if let Some(named) = &g.policy_name {
            match policies_by_name.get(named.name.as_str()).map(Vec::as_slice) {
                Some([one]) => {
                    g.password_policy_id = one.id.clone();
                    resolution.policies.insert(named.name.clone(), one.id.clone());
                }
                Some(many) => problems.push((
                    named.line,
                    format!(
                        "{} password policies are named `{}` in this tenant (ids {}): use passwordPolicyId",
                        many.len(),
                        named.name,
                        ids(many.iter().map(|p| p.id.as_str()))
                    ),
                )),
                None => problems.push((
                    named.line,
                    format!("no password policy is named `{}` in this tenant", named.name),
                )),
            }
        }
        if let Some(names) = &g.source_names {
            let mut resolved = Vec::new();
            for named in names {
                match sources_by_name.get(named.name.as_str()).map(Vec::as_slice) {
                    Some([one]) if one.is_password_managed() => {
                        resolved.push(one.id.clone());
                        resolution.sources.insert(named.name.clone(), one.id.clone());
                    }
                    Some([one]) => problems.push((
                        named.line,
                        format!(
                            "source `{}` ({}) cannot join a password sync group: it lacks the PASSWORD feature",
                            named.name, one.id
                        ),
                    )),
                    Some(many) => problems.push((
                        named.line,
                        format!(
                            "{} sources are named `{}` in this tenant (ids {}): use sourceIds",
                            many.len(),
                            named.name,
                            ids(many.iter().map(|s| s.id.as_str()))
                        ),
                    )),
                    None => problems.push((named.line, format!("no source is named `{}` in this tenant", named.name))),
                }
            }
            g.source_ids = resolved;
        }
    }
    problems.sort();
    problems.dedup();
    (resolution, problems.into_iter().map(|(line, m)| format!("{file}:{line}: {m}")).collect())
}

/// How often each name occurs.
/// Splits `values` into `in (...)` batches of at most [`NAMES_PER_REQUEST`] values whose
/// percent-encoded filter stays within [`FILTER_BYTES_PER_REQUEST`] (long or CJK names take
/// nine bytes a character once encoded).
fn batches(values: impl Iterator<Item = String>) -> Vec<Vec<String>> {
    // `name in (` / `)` plus, per value, its quotes and the `, ` separator, all encoded.
    const FRAME: usize = 32;
    const PER_VALUE: usize = 12;
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut used = FRAME;
    for v in values {
        let cost = encoded_len(&v) + PER_VALUE;
        let full =
            out.last().is_none_or(|b| b.len() >= NAMES_PER_REQUEST || used + cost > FILTER_BYTES_PER_REQUEST);
        if full {
            out.push(Vec::new());
            used = FRAME;
        }
        used += cost;
        out.last_mut().expect("pushed above").push(v);
    }
    out
}

/// Upper bound of `s`'s length in a query string: unreserved ASCII stays, every other byte
/// becomes `%XX`.
fn encoded_len(s: &str) -> usize {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { 1 } else { 3 }).sum()
}

fn count<'a>(all: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for name in all {
        *n.entry(name).or_default() += 1;
    }
    n
}

fn ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    ids.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {

    #[test]
    fn batches_of_long_cjk_names_stay_under_the_url_limit() {
        let names: Vec<String> =
            (0..50).map(|i| format!("東京本社人事部門同期対象{i:02}").repeat(8)).collect();
        let got = batches(names.iter().cloned());
        assert!(
            got.len() > 1,
            "one batch of {} bytes would exceed the limit",
            names.iter().map(|n| encoded_len(n)).sum::<usize>()
        );
        for b in &got {
            let filter = SourceFilter::name_in(b).to_string();
            let encoded: usize = encoded_len(&filter);
            assert!(encoded <= FILTER_BYTES_PER_REQUEST, "{encoded} bytes in one filter");
        }
        assert_eq!(got.concat(), names);
    }

    #[test]
    fn short_ids_batch_by_count() {
        let ids: Vec<String> = (0..120).map(|i| format!("{i:032x}")).collect();
        let got = batches(ids.iter().cloned());
        assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), vec![50, 50, 20]);
        assert_eq!(got.concat(), ids);
    }

    use super::*;
    use crate::gitops::desired::parse;

    fn source(id: &str, name: &str, password: bool) -> Source {
        let features = if password { "[\"PASSWORD\"]" } else { "[]" };
        serde_json::from_str(&format!(
            r#"{{"id":"{id}","name":"{name}","features":{features},"connector":"x"}}"#
        ))
        .unwrap()
    }

    fn policy(id: &str, name: &str) -> PasswordPolicy {
        serde_json::from_str(&format!(
            r#"{{"id":"{id}","name":"{name}","sourceIds":[],"defaultPolicy":false}}"#
        ))
        .unwrap()
    }

    const FILE: &str = "\
groups:
  - name: Finance
    passwordPolicy: Strong
    sources:
      - Active Directory
      - Workday
  - name: HR
    passwordPolicyId: p-direct
    sources: [Active Directory, LDAP]
";

    #[test]
    fn names_resolve_to_ids_and_ids_stay() {
        let mut groups = parse("f.yaml", FILE).unwrap();
        let (resolution, problems) = match_names(
            "f.yaml",
            &mut groups,
            &[policy("p1", "Strong"), policy("p2", "Weak")],
            &[
                source("s1", "Active Directory", true),
                source("s2", "Workday", true),
                source("s3", "LDAP", true),
            ],
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(groups[0].password_policy_id, "p1");
        assert_eq!(groups[0].source_ids, ["s1", "s2"]);
        assert_eq!(groups[1].password_policy_id, "p-direct");
        assert_eq!(groups[1].source_ids, ["s1", "s3"]);
        assert_eq!(resolution.lines()[0], r#"policy "Strong" = p1"#);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let mut groups = parse("f.yaml", FILE).unwrap();
        let (_, problems) = match_names(
            "f.yaml",
            &mut groups,
            &[policy("p1", "Strong"), policy("p9", "Strong")],
            &[source("s1", "Active Directory", true), source("s2", "Workday", false)],
        );
        assert_eq!(
            problems,
            [
                "f.yaml:3: 2 password policies are named `Strong` in this tenant (ids p1, p9): use passwordPolicyId",
                "f.yaml:6: source `Workday` (s2) cannot join a password sync group: it lacks the PASSWORD feature",
                "f.yaml:9: no source is named `LDAP` in this tenant",
            ]
        );
    }

    #[test]
    fn one_entry_cannot_mix_forms_for_one_field() {
        let text = "groups:\n  - name: A\n    passwordPolicyId: p\n    passwordPolicy: P\n    sourceIds: [a, b]\n    sources: [c, d]\n";
        let problems = parse("f.yaml", text).unwrap_err().join("\n");
        assert!(problems.contains("f.yaml:4:") && problems.contains("keep one"), "{problems}");
        assert!(problems.contains("f.yaml:6:"), "{problems}");
    }
}
