//! The tenant's sources and password policies: what groups may refer to.
//!
//! Sources and policies have ids and names; sources also have features, and
//! only a source with the `PASSWORD` feature may be in a password sync group.
//! The catalog is fixed for the life of an emulator. It comes from
//! `--catalog FILE` (YAML, see [`Catalog::from_yaml`]) or is generated: the
//! default has `--sources N` password-managed sources with realistic names,
//! two sources without `PASSWORD` and `--policies N` policies. `--id-seed`
//! changes every generated id and never a name; seed 0 (the default) gives the
//! same ids as every earlier version.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The feature a source needs to belong to a password sync group.
pub const PASSWORD_FEATURE: &str = "PASSWORD";

/// The largest `--catalog` file read (16 MiB).
pub const MAX_CATALOG_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceEntry {
    /// 32 lowercase hex digits unless the catalog file says otherwise.
    pub id: String,
    /// Display name (not necessarily unique: a catalog may repeat one).
    pub name: String,
    /// ISC source features, e.g. `PROVISIONING`, `PASSWORD`.
    pub features: Vec<String>,
}

impl SourceEntry {
    /// Whether the source may be in a password sync group.
    pub fn is_password_managed(&self) -> bool {
        self.features.iter().any(|f| f == PASSWORD_FEATURE)
    }
}

/// One password policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyEntry {
    /// 32 lowercase hex digits unless the catalog file says otherwise.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// Known sources and password policies. `source_ids` and
/// `password_policy_ids` are the ids a valid group may use (password-managed
/// sources, all policies); `sources` and `password_policies` are the full
/// entries, sources without `PASSWORD` included. `GET /__emulator/catalog`
/// answers this, in camelCase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Ids of the password-managed sources, in catalog order.
    pub source_ids: Vec<String>,
    /// Ids of the password policies, in catalog order.
    pub password_policy_ids: Vec<String>,
    /// Every source, in catalog order.
    pub sources: Vec<SourceEntry>,
    /// Every policy, in catalog order.
    pub password_policies: Vec<PolicyEntry>,
}

/// Realistic names of password-managed sources and their features.
const PASSWORD_SOURCES: [(&str, &[&str]); 8] = [
    (
        "Active Directory",
        &[
            "AUTHENTICATE",
            "DIRECT_PERMISSIONS",
            "ENABLE",
            "MANAGER_LOOKUP",
            "PROVISIONING",
            "PASSWORD",
            "SEARCH",
            "UNLOCK",
        ],
    ),
    ("Corporate LDAP", &["AUTHENTICATE", "ENABLE", "PROVISIONING", "PASSWORD", "SEARCH"]),
    ("Okta Workforce", &["ENABLE", "PROVISIONING", "PASSWORD", "UNLOCK", "SYNC_PROVISIONING"]),
    ("ServiceNow", &["ENABLE", "PROVISIONING", "PASSWORD"]),
    ("Google Workspace", &["ENABLE", "PROVISIONING", "PASSWORD", "GROUP_PROVISIONING"]),
    ("Salesforce", &["ENABLE", "PROVISIONING", "PASSWORD", "CURRENT_PASSWORD"]),
    ("Oracle Database", &["DISCOVER_SCHEMA", "PROVISIONING", "PASSWORD"]),
    ("SAP ERP", &["ENABLE", "PROVISIONING", "PASSWORD", "UNLOCK"]),
];

/// Sources of the default catalog that cannot be in a password sync group.
const OTHER_SOURCES: [(&str, &[&str]); 2] = [
    ("Workday HR", &["NO_RANDOM_ACCESS", "DISCOVER_SCHEMA"]),
    ("Employees CSV", &["NO_RANDOM_ACCESS", "NO_AGGREGATION"]),
];

const POLICY_NAMES: [&str; 6] = [
    "Corporate Password Policy",
    "Privileged Accounts Policy",
    "Contractors Password Policy",
    "Service Accounts Policy",
    "Legacy Systems Policy",
    "Kiosk Password Policy",
];

/// Which kind of object an id is generated for.
#[derive(Clone, Copy)]
enum Kind {
    PasswordSource,
    OtherSource,
    Policy,
}

/// splitmix64's finaliser: a bijective, well-mixed 64-bit hash.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The id of the `index`th object of `kind` under `seed`. Seed 0 keeps the
/// historical ids (`2c918084…500000` for sources, `2c91808d…700000` for policies).
fn generated_id(kind: Kind, index: usize, seed: u64) -> String {
    let (prefix, base) = match kind {
        Kind::PasswordSource => ("2c918084", 0x50_0000u64),
        Kind::OtherSource => ("2c918084", 0x60_0000),
        Kind::Policy => ("2c91808d", 0x70_0000),
    };
    let n = base + index as u64;
    if seed == 0 {
        format!("{prefix}{n:024x}")
    } else {
        let a = mix(seed ^ mix(n));
        let b = mix(a ^ n);
        format!("{a:016x}{b:016x}")
    }
}

impl Catalog {
    /// The default catalog with seed 0: `sources` password-managed sources,
    /// two sources without `PASSWORD`, `policies` policies.
    pub fn new(sources: usize, policies: usize) -> Self {
        Catalog::generated(sources, policies, 0)
    }

    /// The default catalog with ids from `seed` (names never depend on it).
    pub fn generated(sources: usize, policies: usize, seed: u64) -> Self {
        let password = (0..sources).map(|i| {
            let (name, features) = match PASSWORD_SOURCES.get(i) {
                Some((name, features)) => {
                    (name.to_string(), features.iter().map(|f| f.to_string()).collect())
                }
                None => (
                    format!("Password source {:05}", i + 1),
                    vec!["ENABLE".to_string(), "PROVISIONING".to_string(), PASSWORD_FEATURE.to_string()],
                ),
            };
            SourceEntry { id: generated_id(Kind::PasswordSource, i, seed), name, features }
        });
        let others = OTHER_SOURCES.iter().enumerate().map(|(i, (name, features))| SourceEntry {
            id: generated_id(Kind::OtherSource, i, seed),
            name: name.to_string(),
            features: features.iter().map(|f| f.to_string()).collect(),
        });
        let policies = (0..policies).map(|i| PolicyEntry {
            id: generated_id(Kind::Policy, i, seed),
            name: POLICY_NAMES
                .get(i)
                .map_or_else(|| format!("Password policy {:05}", i + 1), |n| n.to_string()),
        });
        Catalog::from_entries(password.chain(others).collect(), policies.collect())
    }

    /// A catalog of exactly these entries.
    pub fn from_entries(sources: Vec<SourceEntry>, password_policies: Vec<PolicyEntry>) -> Self {
        Catalog {
            source_ids: sources.iter().filter(|s| s.is_password_managed()).map(|s| s.id.clone()).collect(),
            password_policy_ids: password_policies.iter().map(|p| p.id.clone()).collect(),
            sources,
            password_policies,
        }
    }

    /// The source with `id`.
    pub fn source(&self, id: &str) -> Option<&SourceEntry> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// The policy with `id`.
    pub fn policy(&self, id: &str) -> Option<&PolicyEntry> {
        self.password_policies.iter().find(|p| p.id == id)
    }

    /// Reads a catalog file (see [`Catalog::from_yaml`]); every problem is
    /// `FILE:LINE: message`.
    pub fn load(path: &Path, seed: u64) -> Result<Self, String> {
        let label = path.display().to_string();
        let size =
            std::fs::metadata(path).map_err(|e| format!("{label}: cannot read the catalog: {e}"))?.len();
        if size > MAX_CATALOG_FILE_BYTES {
            return Err(format!(
                "{label}: the catalog is {size} bytes; the limit is {MAX_CATALOG_FILE_BYTES}"
            ));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{label}: cannot read the catalog: {e}"))?;
        Catalog::from_yaml(&text, &label, seed)
    }

    /// Parses a catalog:
    ///
    /// ```yaml
    /// sources:
    ///   - name: Active Directory
    ///     features: [PROVISIONING, PASSWORD]
    ///     id: 2c9180835d191a86015d28455b4a2329   # optional
    ///   - name: Workday HR                       # no PASSWORD: not for groups
    ///     features: [NO_RANDOM_ACCESS]
    /// passwordPolicies:                          # or `policies`
    ///   - name: Corporate Password Policy
    /// ```
    ///
    /// Missing ids are generated from `seed` and the entry's position.
    /// Names must not be empty and ids must be unique within their list;
    /// names may repeat (a tenant can hold two sources of one name). Errors
    /// read `LABEL:LINE: message`.
    pub fn from_yaml(text: &str, label: &str, seed: u64) -> Result<Self, String> {
        let file: CatalogFile = serde_norway::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            match e.location() {
                Some(at) => format!("{label}:{}: {message}", at.line()),
                None => format!("{label}: {message}"),
            }
        })?;
        let total = file.sources.len() + file.password_policies.len();
        if total > crate::config::MAX_CATALOG * 2 {
            return Err(format!(
                "{label}: the catalog lists {total} entries; the limit is {}",
                crate::config::MAX_CATALOG * 2
            ));
        }
        let sources: Vec<SourceEntry> = file
            .sources
            .into_iter()
            .enumerate()
            .map(|(i, s)| SourceEntry {
                id: s.id.map_or_else(|| generated_id(Kind::PasswordSource, i, seed ^ 0xca7a_1096), |id| id.0),
                name: s.name.0,
                features: s.features.into_iter().map(|f| f.0).collect(),
            })
            .collect();
        let policies: Vec<PolicyEntry> = file
            .password_policies
            .into_iter()
            .enumerate()
            .map(|(i, p)| PolicyEntry {
                id: p.id.map_or_else(|| generated_id(Kind::Policy, i, seed ^ 0xca7a_1096), |id| id.0),
                name: p.name.0,
            })
            .collect();
        duplicate_ids(text, label, "source", sources.iter().map(|s| s.id.as_str()))?;
        duplicate_ids(text, label, "password policy", policies.iter().map(|p| p.id.as_str()))?;
        Ok(Catalog::from_entries(sources, policies))
    }
}

/// Refuses an id listed twice, naming the line of its second mention.
fn duplicate_ids<'a>(
    text: &str,
    label: &str,
    what: &str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<(), String> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            let line = text
                .match_indices(id)
                .nth(1)
                .map(|(at, _)| text[..at].matches('\n').count() + 1)
                .map_or_else(String::new, |l| format!("{l}:"));
            return Err(format!("{label}:{line} the {what} id '{id}' is listed twice; ids must be unique"));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CatalogFile {
    #[serde(default)]
    sources: Vec<SourceSpec>,
    #[serde(default, alias = "policies")]
    password_policies: Vec<PolicySpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceSpec {
    name: Text,
    #[serde(default)]
    features: Vec<Text>,
    id: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicySpec {
    name: Text,
    id: Option<Text>,
}

/// A non-empty string without surrounding blanks or control characters:
/// refused where it stands, so the error carries its line.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        if s.trim() != s || s.chars().any(char::is_control) {
            return Err(serde::de::Error::custom(format!(
                "{s:?} has surrounding blanks or control characters"
            )));
        }
        if s.len() > 256 {
            return Err(serde::de::Error::custom("is longer than 256 bytes"));
        }
        Ok(Text(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog_is_deterministic_and_keeps_historical_ids() {
        let c = Catalog::new(5, 5);
        assert_eq!(c, Catalog::new(5, 5));
        assert_eq!(c.source_ids[0], "2c918084000000000000000000500000");
        assert_eq!(c.password_policy_ids[0], "2c91808d000000000000000000700000");
        assert_eq!(c.source_ids.len(), 5);
        assert_eq!(c.sources.len(), 7, "two sources without PASSWORD");
        assert!(c.sources.iter().filter(|s| !s.is_password_managed()).count() == 2);
        assert!(c.sources.iter().all(|s| s.features.len() >= 2), "realistic feature lists");
        assert_eq!(c.sources[0].name, "Active Directory");
        assert_eq!(c.password_policies[0].name, "Corporate Password Policy");
        let all: HashSet<_> = c.sources.iter().map(|s| &s.id).chain(&c.password_policy_ids).collect();
        assert_eq!(all.len(), 12, "ids are unique");
    }

    #[test]
    fn id_seed_changes_ids_never_names() {
        let (a, b) = (Catalog::generated(12, 9, 0), Catalog::generated(12, 9, 42));
        let names = |c: &Catalog| {
            (
                c.sources.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
                c.password_policies.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(names(&a), names(&b));
        assert!(a.sources.iter().zip(&b.sources).all(|(x, y)| x.id != y.id));
        assert!(b.sources.iter().all(|s| s.id.len() == 32 && s.id.bytes().all(|c| c.is_ascii_hexdigit())));
        assert_eq!(b, Catalog::generated(12, 9, 42));
        assert_eq!(b.sources[10].name, "Password source 00011");
    }

    #[test]
    fn yaml_catalog_reads_entries_and_generates_missing_ids() {
        let text = "sources:\n  - name: AD\n    features: [PROVISIONING, PASSWORD]\n    id: s-ad\n  - name: HR\n    features: [NO_RANDOM_ACCESS]\npolicies:\n  - name: Corp\n";
        let c = Catalog::from_yaml(text, "cat.yaml", 0).unwrap();
        assert_eq!(c.source_ids, vec!["s-ad"]);
        assert_eq!(c.sources[1].name, "HR");
        assert_eq!(c.sources[1].id.len(), 32);
        assert_eq!(c.password_policies[0].name, "Corp");
        assert_ne!(Catalog::from_yaml(text, "cat.yaml", 7).unwrap().sources[1].id, c.sources[1].id);
    }

    #[test]
    fn yaml_catalog_errors_carry_file_and_line() {
        let cases = [
            ("sources:\n  - name: AD\n    features: [PASSWORD]\n  - name: ''\n", "cat.yaml:4:", "empty"),
            ("sources:\n  - name: AD\n    colour: red\n", "cat.yaml:3:", "colour"),
            ("sources:\n  - features: [PASSWORD]\n", "cat.yaml:2:", "name"),
            ("policies:\n  - name: A\n    id: p1\n  - name: B\n    id: p1\n", "cat.yaml:5:", "listed twice"),
            ("sources: [\n", "cat.yaml:2:", "expected"),
            ("groups: []\n", "cat.yaml:1:", "groups"),
        ];
        for (text, prefix, needle) in cases {
            let err = Catalog::from_yaml(text, "cat.yaml", 0).unwrap_err();
            assert!(err.starts_with(prefix) && err.contains(needle), "{text:?}: {err}");
        }
    }

    proptest::proptest! {
        #[test]
        fn yaml_catalog_never_panics(text in "\\PC*") {
            let _ = Catalog::from_yaml(&text, "x", 0);
        }
    }
}
