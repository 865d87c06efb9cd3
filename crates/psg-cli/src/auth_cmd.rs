//! `psg auth status`: which tenant, which client, where each came from, and
//! whether a token can be had (its expiry and scopes when it is a JWT); then
//! one cheap request per permission psg may need (read groups, change groups,
//! read sources, read policies) and a line each. Exit 1 when groups cannot be
//! read (nothing psg does works then), 0 otherwise, with a warning line per
//! missing permission. Never prints the secret or the token.

use std::io::Write;

use base64::Engine;
use psg_ext::config::Resource;
use psg_ext::{ApiVersion, Client, ConnectionSource, Credentials, GroupSpec};
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::context::Context;
use crate::failure::{EXIT_API, Failure};
use crate::output::escape;

/// What a token says about itself.
#[derive(Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// `jwt` or `opaque`.
    pub kind: &'static str,
    /// `exp`, as RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Seconds until `exp` (negative: expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
    /// `scope` (or `scp`), split into single scopes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// Reads the claims of a JWT; anything else is `opaque`. Never fails.
pub fn inspect(token: &str, now: chrono::DateTime<chrono::Utc>) -> TokenInfo {
    let opaque = TokenInfo { kind: "opaque", ..TokenInfo::default() };
    let parts: Vec<&str> = token.split('.').collect();
    let [_, payload, _] = parts.as_slice() else { return opaque };
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Ok(bytes) = engine.decode(payload.trim_end_matches('=')) else { return opaque };
    let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return opaque;
    };
    let mut info = TokenInfo { kind: "jwt", ..TokenInfo::default() };
    if let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_i64)
        && let Some(at) = chrono::DateTime::<chrono::Utc>::from_timestamp(exp, 0)
    {
        info.expires_at = Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        info.expires_in_seconds = Some((at - now).num_seconds());
    }
    for key in ["scope", "scp"] {
        match claims.get(key) {
            Some(serde_json::Value::String(s)) => {
                info.scopes.extend(s.split_whitespace().map(str::to_string))
            }
            Some(serde_json::Value::Array(list)) => {
                info.scopes.extend(list.iter().filter_map(|v| v.as_str()).map(str::to_string))
            }
            _ => {}
        }
    }
    info
}

/// The report, as `-o json` prints it.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    authenticated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credentials: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    /// Where the base URL and credentials came from (one source for both).
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_from: Option<String>,
    /// The API version in use (`beta`, `v3`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    /// Where each resource is read from with that version (`/beta`, `/v3`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    api_paths: Option<std::collections::BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<TokenInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups_access: Option<String>,
    /// One entry per permission checked, in [`PERMISSIONS`] order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    permissions: Vec<PermissionCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A permission psg may need and what is lost without it.
#[derive(Debug, Clone, Copy)]
struct Permission {
    /// The label of its line (`groups`, `group changes`, ...).
    label: &'static str,
    /// What it works on.
    resource: Resource,
    /// Whether it is the write permission.
    write: bool,
    /// What does not work without it (after ` — `).
    without: &'static str,
}

/// Every permission `auth status` checks, in the order it prints them.
const PERMISSIONS: [Permission; 4] = [
    Permission {
        label: "groups",
        resource: Resource::PasswordSyncGroups,
        write: false,
        without: "nothing psg does will work",
    },
    Permission {
        label: "group changes",
        resource: Resource::PasswordSyncGroups,
        write: true,
        without: "create, update, delete and apply will be refused",
    },
    Permission {
        label: "sources",
        resource: Resource::Sources,
        write: false,
        without: "portable files will not work",
    },
    Permission {
        label: "policies",
        resource: Resource::PasswordPolicies,
        write: false,
        without: "portable files will not work",
    },
];

impl Permission {
    fn scope(&self) -> &'static str {
        if self.write { self.resource.write_scope() } else { self.resource.read_scope() }
    }
}

/// What one request said about one permission.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PermissionCheck {
    /// `groups`, `group changes`, `sources` or `policies`.
    permission: &'static str,
    /// The scope it takes.
    scope: &'static str,
    /// `granted`, `missing` or `unknown` (the request failed otherwise).
    result: &'static str,
    /// The line `auth status` prints for it.
    line: String,
}

/// The id the write probe sends: never a real group's (those are 32 hex digits).
const PROBE_ID: &str = "psg-auth-status-probe";

/// A PUT of an id no group has: 404 (or 400) when the client may change
/// groups, 403 when it may not. Nothing can be changed by it.
async fn probe_write(client: &Client) -> Result<(), psg_ext::Error> {
    let spec = GroupSpec::new("psg auth status probe")
        .password_policy(PROBE_ID)
        .sources([format!("{PROBE_ID}-1"), format!("{PROBE_ID}-2")]);
    match client.update_group(PROBE_ID, &spec).await {
        Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(400 | 404 | 409 | 422)) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// One cheap request for `permission` (reading groups is asked by [`probe`] first).
async fn check(client: &Client, permission: Permission) -> PermissionCheck {
    let outcome = match (permission.resource, permission.write) {
        (Resource::PasswordSyncGroups, false) => client.list_groups().limit(0).page().await.map(|_| ()),
        (Resource::PasswordSyncGroups, true) => probe_write(client).await,
        (Resource::Sources, _) => client.list_sources().limit(1).page().await.map(|_| ()),
        (_, _) => client.list_password_policies().limit(1).page().await.map(|_| ()),
    };
    verdict(permission, outcome.as_ref().map(|_| ()))
}

/// The result and line of `permission` for what its request answered.
fn verdict(permission: Permission, outcome: Result<(), &psg_ext::Error>) -> PermissionCheck {
    let scope = permission.scope();
    let label = permission.label;
    let (result, line) = match outcome {
        Ok(()) => ("granted", format!("{label}: ok ({scope})")),
        Err(e) if e.status().map(|s| s.as_u16()) == Some(403) => {
            ("missing", format!("{label}: missing {scope} — {}", permission.without))
        }
        Err(e) => ("unknown", format!("{label}: could not be checked ({scope}): {e}")),
    };
    PermissionCheck { permission: label, scope, result, line }
}

fn source_text(source: &ConnectionSource) -> String {
    match source {
        // In psg, a connection set "in code" is the command-line flags.
        ConnectionSource::Code => "flags (--base-url with credential flags)".to_string(),
        ConnectionSource::Environment => "environment (SAIL_*)".to_string(),
        ConnectionSource::Profile { name, path, .. } => format!("profile {name} ({})", path.display()),
        other => format!("{other:?}"),
    }
}

fn duration_text(secs: i64) -> String {
    let (sign, s) = if secs < 0 { ("expired ", -secs) } else { ("in ", secs) };
    let text = match s {
        s if s >= 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    };
    if secs < 0 { format!("{sign}{text} ago") } else { format!("{sign}{text}") }
}

/// Fills in what the client can tell: the token, then one request per permission.
async fn probe(client: &Client, status: &mut Status) {
    let token = match client.access_token().await {
        Ok(t) => t,
        Err(e) => {
            status.error = Some(e.to_string());
            return;
        }
    };
    let info = inspect(token.expose(), chrono::Utc::now());
    drop(token);
    status.token = Some(info);
    // Reading groups first: a 401 there means the token is refused, and nothing else is asked.
    let groups = client.list_groups().limit(0).page().await;
    match groups {
        Err(e) if e.status().map(|s| s.as_u16()) != Some(403) => {
            status.error = Some(e.to_string());
            return;
        }
        Err(_) => {
            // The token was accepted; the client just may not read groups.
            status.authenticated = true;
            status.groups_access = Some(format!(
                "HTTP 403: the client lacks scope {} (or {})",
                Resource::PasswordSyncGroups.read_scope(),
                Resource::PasswordSyncGroups.write_scope()
            ));
        }
        Ok(_) => {
            status.authenticated = true;
            status.groups_access = Some("readable".to_string());
        }
    }
    status.permissions.push(verdict(PERMISSIONS[0], groups.as_ref().map(|_| ())));
    for permission in &PERMISSIONS[1..] {
        status.permissions.push(check(client, *permission).await);
    }
}

/// Whether every request psg makes may work: groups can be read.
fn groups_readable(status: &Status) -> bool {
    status.permissions.first().is_some_and(|p| p.result == "granted")
}

fn print_human(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    let row = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "{k:<13}{}", escape(v));
    let from = s.connection_from.as_deref().map(|f| format!(" (from {f})")).unwrap_or_default();
    if let Some(v) = &s.base_url {
        row(out, "Base URL:", &format!("{v}{from}"))?;
    }
    if let Some(v) = &s.api_path {
        row(out, "API path:", &format!("{v} (from {})", s.api_version_from.as_deref().unwrap_or("default")))?;
    }
    if let (Some(version), Some(paths)) = (&s.api_version, &s.api_paths) {
        let paths: Vec<String> = paths.iter().map(|(what, path)| format!("{what} {path}")).collect();
        row(out, "API version:", &format!("{version} ({})", paths.join(", ")))?;
    }
    if let Some(v) = s.credentials {
        row(out, "Credentials:", &format!("{v}{from}"))?;
    }
    if let Some(v) = &s.client_id {
        row(out, "Client id:", &format!("{v}{from}"))?;
    }
    if let Some(t) = &s.token {
        let text = match (t.kind, &t.expires_at, t.expires_in_seconds) {
            ("jwt", Some(at), Some(secs)) => format!("JWT, expires {at} ({})", duration_text(secs)),
            ("jwt", _, _) => "JWT without an expiry claim".to_string(),
            _ => "opaque (not a JWT): its expiry and scopes cannot be read".to_string(),
        };
        row(out, "Token:", &text)?;
        if t.kind == "jwt" {
            let scopes =
                if t.scopes.is_empty() { "(none in the token)".to_string() } else { t.scopes.join(" ") };
            row(out, "Scopes:", &scopes)?;
        }
    }
    row(out, "Status:", if s.authenticated { "authenticated" } else { "not authenticated" })?;
    if let Some(e) = &s.error {
        row(out, "Error:", e)?;
    }
    for p in &s.permissions {
        writeln!(out, "{}", escape(&p.line))?;
    }
    Ok(())
}

/// Runs `psg auth status`: exit 0 when authenticated and groups can be read, 1 otherwise.
pub async fn status(ctx: &Context, out: &mut impl Write) -> Result<std::process::ExitCode, Failure> {
    let mut status = Status::default();
    match ctx.builder().and_then(|b| b.build().map_err(Failure::from)) {
        Err(f) => status.error = Some(f.message),
        Ok(client) => {
            let config = client.config();
            status.base_url = Some(config.base_url().to_string());
            let version = config.api_version();
            // `/beta`, `/v3`, ...; in the per-service layout, the groups' path.
            let groups = Resource::PasswordSyncGroups;
            let prefix = version.prefix(groups);
            status.api_path = Some(if prefix.is_empty() { version.path(groups, false) } else { prefix });
            status.api_version = Some(version.to_string());
            status.api_paths = Some(
                Resource::ALL
                    .iter()
                    .map(|r| {
                        let what = match r {
                            Resource::PasswordSyncGroups => "groups",
                            Resource::Sources => "sources",
                            Resource::PasswordPolicies => "policies",
                            _ => "other",
                        };
                        (what, version.path(*r, false))
                    })
                    .collect(),
            );
            status.api_version_from = Some(if ctx.global.api_version.is_some() {
                "flag --api-version".to_string()
            } else if config.api_version() != ApiVersion::Beta {
                source_text(config.connection_source())
            } else {
                "default".to_string()
            });
            let (kind, id) = match config.credentials() {
                Credentials::ClientCredentials { client_id, .. } => {
                    ("client credentials", Some(client_id.clone()))
                }
                Credentials::AccessToken(_) => ("access token", None),
                _ => ("other", None),
            };
            status.credentials = Some(kind);
            status.client_id = id;
            status.connection_from = Some(source_text(config.connection_source()));
            probe(&client, &mut status).await;
        }
    }
    match ctx.global.output {
        Some(OutputFormat::Json) => {
            writeln!(out, "{}", serde_json::to_string_pretty(&status).expect("plain data"))?
        }
        // One line, as every NDJSON output.
        Some(OutputFormat::Ndjson) => {
            writeln!(out, "{}", serde_json::to_string(&status).expect("plain data"))?
        }
        Some(OutputFormat::Yaml) => write!(out, "{}", serde_norway::to_string(&status).expect("plain data"))?,
        _ => print_human(out, &status)?,
    }
    out.flush()?;
    Ok(if status.authenticated && groups_readable(&status) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(EXIT_API)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", e.encode(r#"{"alg":"none"}"#), e.encode(claims))
    }

    #[test]
    fn jwt_claims_are_read_and_anything_else_is_opaque() {
        let now = chrono::DateTime::<chrono::Utc>::from_timestamp(1_000, 0).unwrap();
        let info = inspect(&jwt(r#"{"exp":1600,"scope":["sp:scopes:all","idn:x"]}"#), now);
        assert_eq!(info.kind, "jwt");
        assert_eq!(info.expires_in_seconds, Some(600));
        assert_eq!(info.scopes, ["sp:scopes:all", "idn:x"]);
        let info = inspect(&jwt(r#"{"scp":"a b"}"#), now);
        assert_eq!((info.scopes.len(), info.expires_at), (2, None));
        for token in ["opaque-token", "a.b.c", "", "..", &jwt("[1]"), &jwt(r#"{"exp":1e300}"#)] {
            let info = inspect(token, now);
            assert!(info.kind == "opaque" || info.expires_at.is_none(), "{token}");
        }
    }

    proptest::proptest! {
        #[test]
        fn inspect_never_panics(s in ".*") {
            let _ = inspect(&s, chrono::Utc::now());
        }
    }
}
