//! The fixture format: one JSON file per exchange under `fixtures/`.
//!
//! ```json
//! {
//!   "name": "get_404",
//!   "operation": "getPasswordSyncGroup",
//!   "setup": {"groups": 0, "client": "manage", "token": "valid"},
//!   "request": {"method": "GET", "path": "/beta/password-sync-groups/{{group:0}}",
//!               "query": {}, "headers": {"authorization": "Bearer {{token}}"}, "body": null},
//!   "response": {"status": 404, "headers": {"content-type": "application/json"}, "body": {...}}
//! }
//! ```
//!
//! Volatile and secret values are placeholders: `{{token}}`, `{{group:N}}`
//! (the N-th group of the setup), `{{new-id}}` (an id the server assigned
//! during the exchange), `{{policy:N}}`, `{{source:N}}` (catalog ids; the
//! sources in catalog order, password-managed ones first),
//! `{{tracking-id}}`, `{{timestamp}}`. [`Placeholders::replay`] gives each a
//! fixed concrete value for replay.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which API client the exchange uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum ClientKind {
    /// Scope `idn:password-sync-group:manage`.
    #[default]
    Manage,
    /// Scope `idn:password-sync-group:read`.
    Read,
    /// No scope of this API.
    NoScope,
}

/// The state of the bearer token sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum TokenState {
    /// A valid token.
    #[default]
    Valid,
    /// No `Authorization` header.
    Missing,
    /// A token past its lifetime.
    Expired,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Where a fixture's response came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordedFrom {
    /// Recorded against psg-emulator: a regression snapshot, not evidence of SailPoint's behaviour.
    Emulator,
    /// Derived from an example in SailPoint's published specification.
    UpstreamExample,
    /// Recorded against a real tenant.
    Tenant,
    /// Written by hand from ISC's documented behaviour, for a situation no
    /// server here can be put in (`handWritten: true`); neither recorded nor
    /// derived mechanically.
    HandWritten,
}

/// What the server must hold before the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Setup {
    /// Valid groups that exist before the request (`{{group:N}}`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub groups: usize,
    /// The client.
    #[serde(default, skip_serializing_if = "is_default")]
    pub client: ClientKind,
    /// The token.
    #[serde(default, skip_serializing_if = "is_default")]
    pub token: TokenState,
    /// The client has used up its rate limit (60 s window).
    #[serde(default, skip_serializing_if = "is_default")]
    pub rate_limited: bool,
    /// The server fails the request with this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<u16>,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixtureRequest {
    /// HTTP method.
    pub method: String,
    /// Path from the tenant root, with placeholders.
    pub path: String,
    /// Query parameters.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Headers that matter (lowercase names).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body, if any.
    #[serde(default)]
    pub body: Option<Value>,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixtureResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers that matter (lowercase names): content-type, x-total-count, retry-after.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body, if any.
    #[serde(default)]
    pub body: Option<Value>,
}

/// One exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fixture {
    /// File stem and test name.
    pub name: String,
    /// The operationId of the fragment.
    pub operation: String,
    /// Why this exchange exists, when it is not obvious.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the response came from.
    pub recorded_from: RecordedFrom,
    /// The day it was recorded (`YYYY-MM-DD`, UTC).
    pub recorded: String,
    /// Server state needed.
    #[serde(default)]
    pub setup: Setup,
    /// What the client sends.
    pub request: FixtureRequest,
    /// What the server answers.
    pub response: FixtureResponse,
    /// Written by hand (not produced by `record`, which leaves it alone).
    #[serde(default, skip_serializing_if = "is_default")]
    pub hand_written: bool,
    /// `skip: <reason>` when the emulator cannot be put in this situation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conformance: Option<String>,
    /// Replay through the generated client instead of psg-ext (for requests
    /// that psg-ext refuses locally, e.g. a limit above 250, or cannot
    /// express, e.g. a filter its typed builder never produces).
    #[serde(default, skip_serializing_if = "is_default")]
    pub replay_generated: bool,
}

/// The checked-in fixture directory.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Reads every fixture of `dir`, sorted by name.
pub fn load_all(dir: &Path) -> anyhow::Result<Vec<Fixture>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let fixture: Fixture = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: line {}: {e}", path.display(), e.line()))?;
        anyhow::ensure!(
            path.file_stem().and_then(|s| s.to_str()) == Some(fixture.name.as_str()),
            "{}: name {:?} differs from the file name",
            path.display(),
            fixture.name
        );
        out.push(fixture);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The text a fixture is saved as: pretty JSON and a final newline.
pub fn to_text(fixture: &Fixture) -> String {
    let mut text = serde_json::to_string_pretty(fixture).expect("fixtures serialise");
    text.push('\n');
    text
}

/// Concrete values for the placeholders.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    /// `{{token}}`.
    pub token: String,
    /// `{{group:N}}`.
    pub groups: Vec<String>,
    /// `{{new-id}}`.
    pub new_id: String,
    /// `{{policy:N}}`.
    pub policies: Vec<String>,
    /// `{{source:N}}`.
    pub sources: Vec<String>,
    /// `{{tracking-id}}`.
    pub tracking_id: String,
    /// `{{timestamp}}`.
    pub timestamp: String,
}

impl Placeholders {
    /// Fixed values used when replaying against a mock server.
    pub fn replay() -> Self {
        Placeholders {
            token: "replay-token".into(),
            groups: (0..300).map(|i| format!("{:032x}", 0x6000_0000u64 + i)).collect(),
            new_id: "ce11ce11ce11ce11ce11ce11ce11ce11".into(),
            policies: (0..5).map(|i| format!("{:032x}", 0x7000_0000u64 + i)).collect(),
            sources: (0..20).map(|i| format!("{:032x}", 0x5000_0000u64 + i)).collect(),
            tracking_id: "7e57ab1e7e57ab1e7e57ab1e7e57ab1e".into(),
            timestamp: "2024-01-02T03:04:05.123Z".into(),
        }
    }

    /// Replaces every placeholder in `text`.
    pub fn fill(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find("}}") else {
                out.push_str(&rest[start..]);
                return out;
            };
            let key = &rest[start + 2..start + end];
            let indexed = |prefix: &str, list: &[String]| {
                key.strip_prefix(prefix)
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| list.get(n).cloned())
            };
            let value = match key {
                "token" => Some(self.token.clone()),
                "new-id" => Some(self.new_id.clone()),
                "tracking-id" => Some(self.tracking_id.clone()),
                "timestamp" => Some(self.timestamp.clone()),
                _ => indexed("group:", &self.groups)
                    .or_else(|| indexed("policy:", &self.policies))
                    .or_else(|| indexed("source:", &self.sources)),
            };
            match value {
                Some(v) => out.push_str(&v),
                None => out.push_str(&rest[start..start + end + 2]),
            }
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Replaces placeholders in every string of a JSON value.
    pub fn fill_value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.fill(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.fill_value(v)).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.fill_value(v))).collect())
            }
            other => other.clone(),
        }
    }

    /// The reverse of [`Placeholders::fill`] for values seen on the wire:
    /// known ids, tracking ids and timestamps become placeholders.
    pub fn normalise_str(&self, s: &str) -> String {
        let mut out = s.to_string();
        let lists: [(&str, &[String]); 3] =
            [("group", &self.groups), ("policy", &self.policies), ("source", &self.sources)];
        for (prefix, list) in lists {
            for (i, id) in list.iter().enumerate() {
                if !id.is_empty() && out.contains(id.as_str()) {
                    out = out.replace(id.as_str(), &format!("{{{{{prefix}:{i}}}}}"));
                }
            }
        }
        out
    }

    /// Whether `id` is one of the ids the placeholders stand for.
    fn is_known(&self, id: &str) -> bool {
        [&self.groups, &self.policies, &self.sources].iter().any(|list| list.iter().any(|k| k == id))
    }

    /// Normalises a response or request body: known ids become their
    /// placeholders, `trackingId` and string `created`/`modified` become
    /// `{{tracking-id}}`/`{{timestamp}}`, and an unknown `id` of a top-level
    /// object (the body, or an item of a body that is a list) becomes
    /// `{{new-id}}`. Unknown ids deeper down (a source's owner, its schemas)
    /// stay as they are.
    pub fn normalise_value(&self, value: &Value) -> Value {
        self.normalise_at(value, 0)
    }

    fn normalise_at(&self, value: &Value, depth: usize) -> Value {
        match value {
            Value::String(s) => Value::String(self.normalise_str(s)),
            Value::Array(items) => Value::Array(
                items.iter().map(|v| self.normalise_at(v, if depth == 0 { 0 } else { depth + 1 })).collect(),
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = match (k.as_str(), v) {
                            ("trackingId", Value::String(_)) => Value::String("{{tracking-id}}".into()),
                            ("created" | "modified", Value::String(_)) => {
                                Value::String("{{timestamp}}".into())
                            }
                            ("id", Value::String(s)) if depth == 0 && !self.is_known(s) => {
                                Value::String("{{new-id}}".into())
                            }
                            _ => self.normalise_at(v, depth + 1),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_and_normalise_are_inverse_for_ids() {
        let p = Placeholders::replay();
        let path = "/beta/password-sync-groups/{{group:2}}";
        let filled = p.fill(path);
        assert!(!filled.contains("{{"));
        assert_eq!(p.normalise_str(&filled), path);
        assert_eq!(p.fill("{{unknown}} x"), "{{unknown}} x");
        let body = serde_json::json!({"id": "zzz", "trackingId": "abc", "created": "2020", "sourceIds": [p.sources[1]]});
        assert_eq!(
            p.normalise_value(&body),
            serde_json::json!({"id": "{{new-id}}", "trackingId": "{{tracking-id}}", "created": "{{timestamp}}", "sourceIds": ["{{source:1}}"]})
        );
    }

    #[test]
    fn only_top_level_unknown_ids_become_new_id() {
        let p = Placeholders::replay();
        let source = serde_json::json!({
            "id": p.sources[6], "owner": {"id": "2c9180a46faadee4016fb4e018c20639"},
            "passwordPolicies": [{"id": p.policies[0]}]
        });
        let expected = serde_json::json!({
            "id": "{{source:6}}", "owner": {"id": "2c9180a46faadee4016fb4e018c20639"},
            "passwordPolicies": [{"id": "{{policy:0}}"}]
        });
        assert_eq!(p.normalise_value(&source), expected);
        assert_eq!(p.normalise_value(&serde_json::json!([source])), serde_json::json!([expected]));
        assert_eq!(
            p.normalise_value(&serde_json::json!([{"id": "fresh", "owner": {"id": "kept"}}])),
            serde_json::json!([{"id": "{{new-id}}", "owner": {"id": "kept"}}])
        );
    }
}
