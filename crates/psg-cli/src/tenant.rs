//! The one place where groups-as-code meets `psg_ext`: plain owned groups,
//! the four calls `apply` makes, and what a failed call means for it.

use futures::TryStreamExt;
use psg_ext::{Client, Error, NewGroup, PasswordSyncGroup};
use serde::{Deserialize, Serialize};

/// What a group is made of, as the file states it and the API stores it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fields {
    /// Display name.
    pub name: String,
    /// Password policy id.
    pub password_policy_id: String,
    /// Source ids.
    pub source_ids: Vec<String>,
}

/// A group of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Server-assigned id.
    pub id: String,
    /// Name, policy and sources.
    #[serde(flatten)]
    pub fields: Fields,
}

impl From<&PasswordSyncGroup> for Group {
    fn from(g: &PasswordSyncGroup) -> Self {
        Group {
            id: g.id.clone().unwrap_or_default(),
            fields: Fields {
                name: g.name.clone().unwrap_or_default(),
                password_policy_id: g.password_policy_id.clone().unwrap_or_default(),
                source_ids: g.source_ids.clone(),
            },
        }
    }
}

fn spec(f: &Fields) -> NewGroup {
    NewGroup {
        name: f.name.clone(),
        password_policy_id: f.password_policy_id.clone(),
        source_ids: f.source_ids.clone(),
    }
}

/// Every group of the tenant (one listing, the client's own retries).
pub async fn list_all(client: &Client) -> Result<Vec<Group>, Error> {
    let all: Vec<PasswordSyncGroup> = client.list_groups().stream().try_collect().await?;
    Ok(all.iter().map(Group::from).collect())
}

/// Creates a group.
pub async fn create(client: &Client, fields: &Fields) -> Result<Group, Error> {
    Ok(Group::from(&client.create_group(&spec(fields)).await?))
}

/// Replaces a group.
pub async fn update(client: &Client, id: &str, fields: &Fields) -> Result<Group, Error> {
    Ok(Group::from(&client.update_group(id, &spec(fields)).await?))
}

/// Deletes a group; one that is already gone counts as deleted.
pub async fn delete(client: &Client, id: &str) -> Result<(), Error> {
    match client.delete_group(id).await {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// What a failed write means for the rest of an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// 401 or a refused token: the credentials are wrong; stop.
    Credentials,
    /// 403: the client lacks the manage scope; stop.
    Forbidden,
    /// The server may have carried it out (lost answer, 5xx, timeout).
    Unknown,
    /// Refused and nothing happened (400, 404, 409, 429 after waiting...).
    Refused,
}

/// Classifies a failed write.
pub fn classify(e: &Error) -> Failed {
    match e {
        Error::Unauthorized { .. } | Error::Auth { .. } => Failed::Credentials,
        Error::Timeout { .. } | Error::Transport { .. } => Failed::Unknown,
        other => match other.status().map(|s| s.as_u16()) {
            Some(401) => Failed::Credentials,
            Some(403) => Failed::Forbidden,
            Some(s) if s >= 500 => Failed::Unknown,
            _ => Failed::Refused,
        },
    }
}

/// The field a 400 answer is about, when its text names one.
pub fn field_of(e: &Error) -> Option<&'static str> {
    if e.status().map(|s| s.as_u16()) != Some(400) {
        return None;
    }
    let text = e.to_string();
    ["sourceIds", "passwordPolicyId", "name"].into_iter().find(|f| text.contains(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_for_apply() {
        let unauthorized = Error::Unauthorized { operation: "createPasswordSyncGroup", message: None };
        assert_eq!(classify(&unauthorized), Failed::Credentials);
        assert_eq!(classify(&Error::Auth { status: None, message: "x".into() }), Failed::Credentials);
        assert_eq!(
            classify(&Error::Timeout { operation: "createPasswordSyncGroup", attempts: 1 }),
            Failed::Unknown
        );
        assert_eq!(classify(&Error::Config("x".into())), Failed::Refused);
        assert_eq!(field_of(&unauthorized), None);
    }
}
