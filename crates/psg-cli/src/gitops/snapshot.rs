//! Consistent readings of the tenant: a listing during which the tenant
//! changed is read again, and the fingerprint that ties a saved plan to the
//! tenant, API version and state it was made against.

use std::time::Duration;

use psg_ext::{Client, Error};

use crate::failure::Failure;
use crate::gitops::tenant::{self, Failed, Group};

/// How many times a listing is read again when the tenant changed while
/// psg paged through it.
const RELISTS: u32 = 5;

/// Lists the tenant consistently: a listing during which the total changed
/// is read again (up to [`RELISTS`] times), and a listing that fails is
/// tried as a whole as many times as the client tries each request
/// (`--max-attempts`) and reported as the listing (`what`), never as the
/// change that needed it.
///
/// A group the server sent without a name or policy is kept (read-only
/// commands show it); commands that plan from the listing use
/// [`list_complete`].
pub async fn list_with_retry(client: &Client, what: &str) -> Result<Vec<Group>, Failure> {
    let groups = list_raw(client, what).await.map_err(|(f, _)| f)?;
    Ok(groups.iter().map(Group::from).collect())
}

/// [`list_with_retry`] for export, plan and apply: a group the server sent
/// without a name or policy stops them, naming it (they cannot reason
/// about it).
pub async fn list_complete(client: &Client, what: &str) -> Result<Vec<Group>, Failure> {
    list_classified(client, what).await.map_err(|(f, _)| f)
}

/// [`list_complete`], with what the last failure means (a refused
/// credential stops an apply; other failures may pass).
pub async fn list_classified(client: &Client, what: &str) -> Result<Vec<Group>, (Failure, Failed)> {
    let groups = list_raw(client, what).await?;
    require_complete(&groups).map_err(|f| (f, Failed::Refused))?;
    Ok(groups.iter().map(Group::from).collect())
}

/// One error naming every group that lacks a field psg needs to plan.
pub fn require_complete(groups: &[psg_ext::Group]) -> Result<(), Failure> {
    let incomplete: Vec<String> = groups
        .iter()
        .filter(|g| !g.is_complete())
        .map(|g| {
            let label = if g.name.is_empty() {
                String::new()
            } else {
                format!(" {}", crate::output::quoted(&g.name))
            };
            format!("group {}{label} has no {}", g.id, g.missing_fields().join(" and no "))
        })
        .collect();
    if incomplete.is_empty() {
        return Ok(());
    }
    Err(Failure::api(format!(
        "{}: psg cannot export or plan with a group it cannot read whole; give it the missing field \
         (psg groups update ID --name NAME --policy POLICY, or in the web console) and run again; nothing was written",
        incomplete.join("; ")
    )))
}

/// The listing itself, retried (see [`list_with_retry`]).
async fn list_raw(client: &Client, what: &str) -> Result<Vec<psg_ext::Group>, (Failure, Failed)> {
    let limit = client.config().retry().attempts().max(1);
    let mut tries = 0;
    let mut changed = 0;
    loop {
        tries += 1;
        match tenant::list_all(client).await {
            Ok(groups) => return Ok(groups),
            Err(Error::ListingChanged { .. }) if changed < RELISTS => {
                changed += 1;
                tries -= 1;
                tracing::info!(target: "psg_cli", "{what}: the tenant changed while psg read it; reading again");
            }
            Err(Error::ListingChanged { .. }) => {
                let f = Failure::api(format!(
                    "{what}: the tenant changed while psg was reading it ({} times); run again",
                    changed + 1
                ));
                return Err((f, Failed::Transient));
            }
            Err(e) if tries < limit && worth_retrying(&e) => {
                tracing::info!(target: "psg_cli", "{what}: listing failed ({e}); trying again");
                tokio::time::sleep(Duration::from_millis(250u64 << tries.min(5))).await;
            }
            Err(e) => {
                let kind = tenant::classify(&e);
                let mut f = Failure::from(e);
                f.message = format!(
                    "{what} failed after {tries} tr{}: {}",
                    if tries == 1 { "y" } else { "ies" },
                    f.message
                );
                return Err((f, kind));
            }
        }
    }
}

/// A failure that may pass: no answer, a 5xx, a 429, the token endpoint down.
fn worth_retrying(e: &Error) -> bool {
    matches!(tenant::classify(e), Failed::Unknown | Failed::Transient)
}

/// A short digest of what a plan depends on: the tenant (base URL), the
/// API version, and the state of its groups. Equal inputs, equal
/// fingerprints; group order and source order do not matter, so two empty
/// tenants, or one tenant under two versions, never share a fingerprint.
pub fn fingerprint(base_url: &str, api_version: &str, actual: &[Group]) -> String {
    let mut lines: Vec<String> = actual
        .iter()
        .map(|g| {
            let mut sources: Vec<&str> = g.fields.source_ids.iter().map(String::as_str).collect();
            sources.sort_unstable();
            format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}",
                g.id,
                g.fields.name,
                g.fields.password_policy_id,
                sources.join("\u{1e}")
            )
        })
        .collect();
    lines.sort_unstable();
    let text = format!("{}\u{1d}{api_version}\u{1d}{}", base_url.trim_end_matches('/'), lines.join("\n"));
    // FNV-1a, 64 bits: stable across Rust versions and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{}-{hash:016x}", actual.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::tenant::Fields;

    fn have(id: &str, name: &str, policy: &str, sources: &[&str]) -> Group {
        Group {
            id: id.into(),
            fields: Fields {
                name: name.into(),
                password_policy_id: policy.into(),
                source_ids: sources.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    const URL: &str = "https://acme.api.identitynow.com";

    #[test]
    fn fingerprint_ignores_order_and_sees_every_field() {
        let f = |g: &[Group]| fingerprint(URL, "beta", g);
        let a = [have("1", "a", "p", &["x", "y"]), have("2", "b", "p", &["x", "y"])];
        let b = [have("2", "b", "p", &["y", "x"]), have("1", "a", "p", &["x", "y"])];
        assert_eq!(f(&a), f(&b));
        assert_ne!(f(&a), f(&[have("1", "a", "q", &["x", "y"]), b[0].clone()]));
        assert_ne!(f(&a), f(&a[..1]));
    }

    #[test]
    fn two_empty_tenants_or_two_versions_never_share_a_fingerprint() {
        assert_ne!(
            fingerprint(URL, "beta", &[]),
            fingerprint("https://other.api.identitynow.com", "beta", &[])
        );
        assert_ne!(fingerprint(URL, "beta", &[]), fingerprint(URL, "v3", &[]));
        assert_eq!(fingerprint(URL, "beta", &[]), fingerprint(&format!("{URL}/"), "beta", &[]));
    }
}
