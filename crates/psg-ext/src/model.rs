//! The crate's own model types, and the one place where they are converted
//! from and to the generated ones. Regenerating `psg-client` can break this
//! file, never the types users see.

use std::time::SystemTime;

use psg_client::types::PasswordSyncGroup;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A password sync group as the tenant holds it.
///
/// Serializes with the API's field names (`passwordPolicyId`, `sourceIds`,
/// timestamps as RFC 3339), so JSON written by psg reads like the API's.
///
/// The spec leaves `name` and `passwordPolicyId` optional: a group the
/// server sent without one is still listed, with the field empty and named
/// by [`Group::missing_fields`] (and left out again when serialized), so a
/// caller can show it and refuse to reason about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "GroupJson", into = "GroupJson")]
#[non_exhaustive]
pub struct Group {
    /// The group's id.
    pub id: String,
    /// Display name (empty when the server sent none: see [`Group::missing_fields`]).
    pub name: String,
    /// Id of the password policy (empty when the server sent none).
    pub password_policy_id: String,
    /// Ids of the sources whose passwords are kept in sync.
    pub source_ids: Vec<String>,
    /// When the group was created, if the server said.
    pub created: Option<SystemTime>,
    /// When the group was last changed, if the server said.
    pub modified: Option<SystemTime>,
    /// API names of the fields the server left out.
    missing: Vec<&'static str>,
}

/// [`Group`] on the wire: optional fields as the spec has them.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupJson {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_policy_id: Option<String>,
    #[serde(default)]
    source_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339")]
    created: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339")]
    modified: Option<SystemTime>,
}

impl From<GroupJson> for Group {
    fn from(j: GroupJson) -> Self {
        let mut missing = Vec::new();
        let mut take = |value: Option<String>, field: &'static str| {
            value.unwrap_or_else(|| {
                missing.push(field);
                String::new()
            })
        };
        let name = take(j.name, "name");
        let password_policy_id = take(j.password_policy_id, "passwordPolicyId");
        Group {
            id: j.id,
            name,
            password_policy_id,
            source_ids: j.source_ids,
            created: j.created,
            modified: j.modified,
            missing,
        }
    }
}

impl From<Group> for GroupJson {
    fn from(g: Group) -> Self {
        let keep = |value: String, field: &str| (!g.missing.contains(&field)).then_some(value);
        GroupJson {
            name: keep(g.name.clone(), "name"),
            password_policy_id: keep(g.password_policy_id.clone(), "passwordPolicyId"),
            id: g.id,
            source_ids: g.source_ids,
            created: g.created,
            modified: g.modified,
        }
    }
}

impl Group {
    /// A group with these values and no timestamps, e.g. for tests and mocks.
    ///
    /// ```
    /// let g = psg_ext::Group::new("g1", "Finance", "policy-1", ["s1", "s2"]);
    /// assert_eq!(g.source_ids.len(), 2);
    /// ```
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(
        id: impl Into<String>,
        name: impl Into<String>,
        password_policy_id: impl Into<String>,
        source_ids: I,
    ) -> Self {
        Group {
            id: id.into(),
            name: name.into(),
            password_policy_id: password_policy_id.into(),
            source_ids: source_ids.into_iter().map(Into::into).collect(),
            created: None,
            modified: None,
            missing: Vec::new(),
        }
    }

    /// API names of the fields the server left out (`name`,
    /// `passwordPolicyId`), empty for a complete group. Such a group is
    /// listed so that it can be shown; do not plan changes from it.
    ///
    /// ```
    /// let g: psg_ext::Group = serde_json::from_str(r#"{"id":"g1","name":"A","sourceIds":[]}"#).unwrap();
    /// assert_eq!(g.missing_fields(), ["passwordPolicyId"]);
    /// assert_eq!(serde_json::to_string(&g).unwrap(), r#"{"id":"g1","name":"A","sourceIds":[]}"#);
    /// ```
    pub fn missing_fields(&self) -> &[&'static str] {
        &self.missing
    }

    /// Whether the server sent every field ([`Group::missing_fields`] is empty).
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// Converts a group the server sent. Without an id it cannot be told
    /// apart from any other: a decode error naming the field (`operation` is
    /// the operation that returned it). Other missing fields are recorded
    /// in [`Group::missing_fields`].
    pub(crate) fn from_wire(wire: PasswordSyncGroup, operation: &'static str) -> Result<Group, Error> {
        let id = wire.id.filter(|s| !s.is_empty()).ok_or_else(|| Error::Decode {
            operation,
            status: reqwest::StatusCode::OK,
            message: format!(
                "a password sync group without `id` (named {:?})",
                wire.name.as_deref().unwrap_or_default()
            ),
            cause: None,
        })?;
        Ok(Group::from(GroupJson {
            id,
            name: wire.name,
            password_policy_id: wire.password_policy_id,
            source_ids: wire.source_ids,
            created: wire.created.map(SystemTime::from),
            modified: wire.modified.map(SystemTime::from),
        }))
    }
}

/// What a caller sets on a group, for both create and update: name, policy
/// and sources, checked locally against the API's documented rules before
/// anything is sent.
///
/// ```
/// let spec = psg_ext::GroupSpec::new("Finance")
///     .password_policy("2c91808d744ba0ce01746f93b6204501")
///     .source("2c918084660f45d6016617daa9210584")
///     .source("2c918084660f45d6016617daa9210500");
/// assert!(spec.validate().is_ok());
/// assert!(psg_ext::GroupSpec::new("").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupSpec {
    /// Display name (non-empty).
    pub name: String,
    /// Id of the password policy.
    pub password_policy_id: String,
    /// Ids of two or more distinct password-managed sources.
    pub source_ids: Vec<String>,
}

impl GroupSpec {
    /// A group named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        GroupSpec { name: name.into(), ..GroupSpec::default() }
    }
    /// Replaces the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// Sets the password policy.
    pub fn password_policy(mut self, id: impl Into<String>) -> Self {
        self.password_policy_id = id.into();
        self
    }
    /// Adds a source.
    pub fn source(mut self, id: impl Into<String>) -> Self {
        self.source_ids.push(id.into());
        self
    }
    /// Adds several sources.
    pub fn sources<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.source_ids.extend(ids.into_iter().map(Into::into));
        self
    }
    /// Replaces the sources.
    pub fn with_sources<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.source_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Checks the documented rules: non-empty name, a policy, at least two
    /// distinct non-empty sources.
    pub fn validate(&self) -> Result<(), Error> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid("name", "the group name must not be empty"));
        }
        if self.password_policy_id.trim().is_empty() {
            return Err(Error::invalid("passwordPolicyId", "a password policy id is required"));
        }
        if let Some(empty) = self.source_ids.iter().position(|s| s.trim().is_empty()) {
            return Err(Error::invalid("sourceIds", format!("source #{} is empty", empty + 1)));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = self.source_ids.iter().find(|s| !seen.insert(s.as_str())) {
            return Err(Error::invalid("sourceIds", format!("source '{dup}' is listed twice")));
        }
        if self.source_ids.len() < 2 {
            return Err(Error::invalid(
                "sourceIds",
                format!(
                    "a password sync group needs at least two distinct sources, {} given",
                    self.source_ids.len()
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn to_wire(&self) -> PasswordSyncGroup {
        PasswordSyncGroup {
            id: None,
            name: Some(self.name.clone()),
            password_policy_id: Some(self.password_policy_id.clone()),
            source_ids: self.source_ids.clone(),
            created: None,
            modified: None,
        }
    }
}

impl From<&Group> for GroupSpec {
    fn from(g: &Group) -> Self {
        GroupSpec {
            name: g.name.clone(),
            password_policy_id: g.password_policy_id.clone(),
            source_ids: g.source_ids.clone(),
        }
    }
}

/// What a delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deleted {
    /// The group was deleted by this call.
    Deleted,
    /// An earlier attempt's answer was lost and the retry found the group
    /// gone: it was deleted, most likely by that attempt.
    AlreadyGone,
}

/// RFC 3339 text for optional timestamps, through chrono (kept private).
mod rfc3339 {
    use std::time::SystemTime;

    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => {
                s.serialize_str(&DateTime::<Utc>::from(*t).to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| DateTime::parse_from_rfc3339(&t).map(SystemTime::from).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_without_optional_fields_is_kept_and_says_which() {
        let wire = PasswordSyncGroup {
            id: Some("g1".into()),
            name: None,
            password_policy_id: None,
            source_ids: vec!["s1".into()],
            created: None,
            modified: None,
        };
        let g = Group::from_wire(wire.clone(), "getPasswordSyncGroup").unwrap();
        assert_eq!(g.missing_fields(), ["name", "passwordPolicyId"]);
        assert!(!g.is_complete());
        assert_eq!((g.name.as_str(), g.password_policy_id.as_str()), ("", ""));
        assert_eq!(serde_json::to_string(&g).unwrap(), r#"{"id":"g1","sourceIds":["s1"]}"#);
        let e = Group::from_wire(PasswordSyncGroup { id: None, ..wire }, "getPasswordSyncGroup")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`id`") && e.contains("getPasswordSyncGroup"), "{e}");
        assert!(Group::new("g", "A", "p", ["s1", "s2"]).is_complete());
    }

    #[test]
    fn groups_round_trip_through_json_with_api_names() {
        let json = r#"{"id":"g1","name":"A","passwordPolicyId":"p","sourceIds":["s1","s2"],"created":"2024-01-02T03:04:05Z"}"#;
        let g: Group = serde_json::from_str(json).unwrap();
        assert_eq!(g.source_ids, ["s1", "s2"]);
        assert_eq!(serde_json::to_string(&g).unwrap(), json);
    }
}
