//! The one place where groups-as-code meets `psg_ext`: plain owned groups,
//! the four calls `apply` makes, what a failed call means for it, and the
//! [`Tenant`] seam the executor writes through (the live client here, an
//! in-memory tenant in the executor's model tests).

use std::future::Future;
use std::time::Duration;

use futures::TryStreamExt;
use psg_ext::{Client, Error, GroupSpec};
use serde::{Deserialize, Serialize};

use crate::failure::Failure;

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

impl From<&psg_ext::Group> for Group {
    fn from(g: &psg_ext::Group) -> Self {
        Group {
            id: g.id.clone(),
            fields: Fields {
                name: g.name.clone(),
                password_policy_id: g.password_policy_id.clone(),
                source_ids: g.source_ids.clone(),
            },
        }
    }
}

fn spec(f: &Fields) -> GroupSpec {
    GroupSpec::new(f.name.clone())
        .password_policy(f.password_policy_id.clone())
        .with_sources(f.source_ids.clone())
}

/// Every group of the tenant (one listing, the client's own retries). A
/// listing during which the total changed ends with
/// [`Error::ListingChanged`]: offset paging may have missed a group.
pub async fn list_all(client: &Client) -> Result<Vec<psg_ext::Group>, Error> {
    client.list_groups().fail_on_change(true).stream().try_collect().await
}

/// Creates a group.
pub async fn create(client: &Client, fields: &Fields) -> Result<Group, Error> {
    Ok(Group::from(&client.create_group(&spec(fields)).await?))
}

/// Replaces a group.
pub async fn update(client: &Client, id: &str, fields: &Fields) -> Result<Group, Error> {
    Ok(Group::from(&client.update_group(id, &spec(fields)).await?))
}

/// Deletes a group. A 404 on the first attempt is an error (someone else
/// deleted it); a 404 on a retry after a lost answer is psg's own delete
/// (psg-ext reports it as done).
pub async fn delete(client: &Client, id: &str) -> Result<(), Error> {
    client.delete_group(id).await.map(|_| ())
}

/// What a failed write means for the rest of an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// 401, or the token endpoint refused the client: stop.
    Credentials,
    /// 403: the client lacks the manage scope; stop.
    Forbidden,
    /// The server may have carried it out (lost answer, 5xx, timeout).
    Unknown,
    /// Nothing happened, and trying later may work (429, token endpoint down).
    Transient,
    /// Not sent: the run was stopped while the request waited its turn.
    NotSent,
    /// 404: the target does not exist (someone deleted it).
    Gone,
    /// Refused and nothing happened (400, 409...).
    Refused,
}

/// A failed write, as the executor sees it: what it means, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteError {
    /// What the failure means for the change.
    pub kind: Failed,
    /// The error, one line.
    pub text: String,
    /// The field a 400 answer named, if any.
    pub field: Option<&'static str>,
}

impl WriteError {
    /// A failure of kind `kind` with this text.
    pub fn new(kind: Failed, text: impl Into<String>) -> Self {
        WriteError { kind, text: text.into(), field: None }
    }

    /// Whether the server may have carried the write out.
    pub fn may_have_acted(&self) -> bool {
        self.kind == Failed::Unknown
    }
}

impl From<&Error> for WriteError {
    fn from(e: &Error) -> Self {
        WriteError { kind: classify(e), text: e.to_string(), field: field_of(e) }
    }
}

/// What the executor needs from a tenant: a consistent listing and the
/// three writes. Implemented by [`Live`] over `psg_ext`, and by an
/// in-memory tenant in the executor's model tests.
pub trait Tenant {
    /// Every group, read consistently (see [`crate::gitops::snapshot`]);
    /// `what` names the listing in errors.
    /// A failed listing says what its failure means (a refused credential
    /// stops the apply).
    fn list(&self, what: &str) -> impl Future<Output = Result<Vec<Group>, (Failure, Failed)>>;
    /// Creates a group; its id on success.
    fn create(&self, fields: &Fields) -> impl Future<Output = Result<String, WriteError>>;
    /// Replaces the group `id`.
    fn update(&self, id: &str, fields: &Fields) -> impl Future<Output = Result<(), WriteError>>;
    /// Deletes the group `id`.
    fn delete(&self, id: &str) -> impl Future<Output = Result<(), WriteError>>;
    /// How long a write the client gave up on may still be committed by the
    /// server: creates without an answer are looked for this long.
    fn settle_window(&self) -> Duration;
}

/// The tenant behind a `psg_ext` client.
pub struct Live<'a>(pub &'a Client);

impl Tenant for Live<'_> {
    async fn list(&self, what: &str) -> Result<Vec<Group>, (Failure, Failed)> {
        crate::gitops::snapshot::list_classified(self.0, what).await
    }

    async fn create(&self, fields: &Fields) -> Result<String, WriteError> {
        create(self.0, fields).await.map(|g| g.id).map_err(|e| WriteError::from(&e))
    }

    async fn update(&self, id: &str, fields: &Fields) -> Result<(), WriteError> {
        update(self.0, id, fields).await.map(|_| ()).map_err(|e| WriteError::from(&e))
    }

    async fn delete(&self, id: &str) -> Result<(), WriteError> {
        delete(self.0, id).await.map_err(|e| WriteError::from(&e))
    }

    fn settle_window(&self) -> Duration {
        self.0.config().request_timeout().saturating_mul(2)
    }
}

/// Classifies a failed write. Any 5xx or transport failure may follow an
/// earlier attempt of the same request that was carried out without an
/// answer (psg-ext retries updates and deletes), so it leaves open whether
/// the write happened, even a 503 or a refused connection.
pub fn classify(e: &Error) -> Failed {
    match e {
        Error::CreateOutcomeUnknown { .. } | Error::Timeout { .. } | Error::Transport { .. } => {
            Failed::Unknown
        }
        Error::Auth { status, .. } => match status.map(|s| s.as_u16()) {
            Some(400 | 401 | 403) => Failed::Credentials,
            _ => Failed::Transient,
        },
        Error::Unauthorized { .. } => Failed::Credentials,
        Error::Stopped { may_have_acted: true, .. } => Failed::Unknown,
        Error::Stopped { .. } => Failed::NotSent,
        other => match other.status().map(|s| s.as_u16()) {
            Some(401) => Failed::Credentials,
            Some(403) => Failed::Forbidden,
            Some(404) => Failed::Gone,
            Some(429) => Failed::Transient,
            Some(s) if s >= 500 => Failed::Unknown,
            _ if other.is_retryable() => Failed::Transient,
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
