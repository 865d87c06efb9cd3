//! `--policy` and `--source` values that are a name or an id, resolved to ids
//! with the batched lookups of portable files (one policy listing; sources by
//! `id in (...)`, then by `name in (...)`).
//!
//! A value that is an existing id is that id; anything else must be the exact
//! name of one policy or source. Every problem (a name two sources share, a
//! name nobody has, with the closest names) is reported at once, exit 2,
//! before anything is written. When the lookup itself fails (a client without
//! `idn:sources:read` or `idn:password-policy:read`, say), the values are
//! used as ids, as before names were accepted, with a warning.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use psg_ext::{Client, PasswordPolicy, Source, SourceFilter};

use crate::failure::Failure;
use crate::gitops::resolve::{fetch_sources, fetch_sources_by_id};
use crate::output::quoted;

/// Whether `value` has the shape of an ISC id: 32 hexadecimal digits.
pub fn id_shaped(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Most names suggested for a value that matches none.
const SUGGESTIONS: usize = 3;

/// The names in `known` closest to `wanted` (case-insensitive Jaro-Winkler, or one containing the other).
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let w = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .filter_map(|name| {
            let n = name.to_lowercase();
            let score = strsim::jaro_winkler(&w, &n);
            // Containment counts from three characters on (one letter is in most names).
            let related =
                (w.chars().count() >= 3 && n.contains(&w)) || (n.chars().count() >= 3 && w.contains(&n));
            (score >= 0.8 || related).then_some((if related { score.max(0.9) } else { score }, name))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let mut out: Vec<&str> = scored.into_iter().map(|(_, n)| n).collect();
    out.dedup();
    out.truncate(SUGGESTIONS);
    out
}

fn suggestion(kind: &str, wanted: &str, known: Vec<&str>, list: &str) -> String {
    let near = closest(wanted, known);
    if near.is_empty() {
        format!("no {kind} has this id or name ({list} shows them all)")
    } else {
        let names: Vec<String> = near.iter().map(|n| quoted(n)).collect();
        format!("no {kind} has this id or name; closest: {} ({list} shows them all)", names.join(", "))
    }
}

/// Resolves `--policy` (when given) and `--source` values to ids, in order.
pub async fn resolve(
    client: &Client,
    policy: Option<&str>,
    sources: &[String],
) -> Result<(Option<String>, Vec<String>), Failure> {
    let mut problems = Vec::new();
    let policy = match policy {
        None => None,
        Some(value) => Some(match client.list_password_policies().stream().try_collect::<Vec<_>>().await {
            Ok(all) => match policy_id(&all, value) {
                Ok(id) => id,
                Err(problem) => {
                    problems.push(format!("--policy {}: {problem}", quoted(value)));
                    value.to_string()
                }
            },
            Err(e) => {
                unchecked("--policy", &e.to_string());
                value.to_string()
            }
        }),
    };
    let sources = if sources.is_empty() {
        Vec::new()
    } else {
        match source_ids(client, sources).await {
            Ok(resolved) => resolved
                .into_iter()
                .zip(sources)
                .map(|(r, value)| {
                    r.unwrap_or_else(|problem| {
                        problems.push(format!("--source {}: {problem}", quoted(value)));
                        value.clone()
                    })
                })
                .collect(),
            Err(f) => {
                unchecked("--source", &f.message);
                sources.to_vec()
            }
        }
    };
    if problems.is_empty() {
        return Ok((policy, sources));
    }
    Err(Failure::usage(format!("{}\nnothing was changed", problems.join("\n"))))
}

fn unchecked(flag: &str, why: &str) {
    eprintln!(
        "warning: cannot look up {flag} values in this tenant ({}); using them as ids",
        crate::output::escape(why.trim_end_matches('.'))
    );
}

/// The id of the policy `value` names: an existing id, or the one policy of that exact name.
pub fn policy_id(all: &[PasswordPolicy], value: &str) -> Result<String, String> {
    if all.iter().any(|p| p.id == value) {
        return Ok(value.to_string());
    }
    let named: Vec<&PasswordPolicy> = all.iter().filter(|p| p.name == value).collect();
    match named.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(suggestion(
            "password policy",
            value,
            all.iter().map(|p| p.name.as_str()).collect(),
            "psg policies list",
        )),
        many => Err(format!(
            "{} password policies have this name (ids {}): give one id instead",
            many.len(),
            many.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Each value's source id, or why it has none. Errs only when a lookup fails.
async fn source_ids(client: &Client, values: &[String]) -> Result<Vec<Result<String, String>>, Failure> {
    let shaped: BTreeSet<String> = values.iter().filter(|v| id_shaped(v)).cloned().collect();
    let mut by_id: Vec<Source> =
        if shaped.is_empty() { Vec::new() } else { fetch_sources_by_id(client, &shaped).await? };
    let unknown = |by_id: &[Source]| -> BTreeSet<String> {
        values.iter().filter(|v| !by_id.iter().any(|s| &&s.id == v)).cloned().collect()
    };
    let names = unknown(&by_id);
    let by_name: Vec<Source> = if names.is_empty() {
        Vec::new()
    } else {
        fetch_sources(client, &names.iter().map(String::as_str).collect()).await?
    };
    // Ids of another shape (a catalog's own) are tried too, but only when nothing else matched.
    let rest: BTreeSet<String> = unknown(&by_id)
        .into_iter()
        .filter(|v| !id_shaped(v) && !by_name.iter().any(|s| &s.name == v))
        .collect();
    if !rest.is_empty() {
        by_id.extend(fetch_sources_by_id(client, &rest).await?);
    }
    let mut results = Vec::new();
    let mut missing = false;
    for value in values {
        if by_id.iter().any(|s| &s.id == value) {
            results.push(Ok(value.clone()));
            continue;
        }
        let named: Vec<&Source> = by_name.iter().filter(|s| &s.name == value).collect();
        results.push(match named.as_slice() {
            [one] if one.is_password_managed() => Ok(one.id.clone()),
            [one] => Err(format!(
                "source {} lacks the PASSWORD feature, so it cannot join a password sync group",
                one.id
            )),
            [] => {
                missing = true;
                Err(String::new())
            }
            many => Err(format!(
                "{} sources have this name (ids {}): give one id instead",
                many.len(),
                many.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        });
    }
    if missing {
        // Only on this failure path: the password-managed sources, for suggestions.
        let candidates: Vec<Source> =
            client.list_sources().filter(SourceFilter::password_managed()).stream().try_collect().await?;
        for (r, value) in results.iter_mut().zip(values) {
            if matches!(r, Err(m) if m.is_empty()) {
                *r = Err(suggestion(
                    "source",
                    value,
                    candidates.iter().map(|s| s.name.as_str()).collect(),
                    "psg sources list --password-managed",
                ));
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(id: &str, name: &str) -> PasswordPolicy {
        serde_json::from_value(
            serde_json::json!({"id": id, "name": name, "sourceIds": [], "defaultPolicy": false}),
        )
        .unwrap()
    }

    #[test]
    fn ids_win_then_exact_names_then_suggestions() {
        let all = [
            policy("p1", "Corporate"),
            policy("p2", "Contractors"),
            policy("p3", "Twin"),
            policy("p4", "Twin"),
        ];
        assert_eq!(policy_id(&all, "p2"), Ok("p2".into()));
        assert_eq!(policy_id(&all, "Corporate"), Ok("p1".into()));
        let twin = policy_id(&all, "Twin").unwrap_err();
        assert!(twin.contains("2 password policies") && twin.contains("p3, p4"), "{twin}");
        let near = policy_id(&all, "corporat").unwrap_err();
        assert!(near.contains("closest: \"Corporate\""), "{near}");
        let none = policy_id(&all, "zzzz").unwrap_err();
        assert!(!none.contains("closest") && none.contains("psg policies list"), "{none}");
        assert!(policy_id(&all, "corporate").is_err(), "names are exact");
    }

    #[test]
    fn id_shape_is_32_hex_digits() {
        assert!(id_shaped("2c9180887d9c0c5e017da4b4f3d2004c"));
        assert!(!id_shaped("2c9180887d9c0c5e017da4b4f3d2004"));
        assert!(!id_shaped("Active Directory"));
        assert_eq!(closest("Wrokday", ["Workday", "Workday EU", "LDAP"]), ["Workday", "Workday EU"]);
    }
}
