//! The five operations, and [`NewGroup`], the checked input of create and update.

use psg_client::types::PasswordSyncGroup;

use crate::client::{Client, Op, Operation};
use crate::error::Error;
use crate::paginate::ListGroups;
use crate::retry::Idempotency;

const COLLECTION: &str = "/password-sync-groups";
const ITEM: &str = "/password-sync-groups/{id}";

/// The five operations, as the retry loop and tracing see them.
const CREATE: Operation = Operation {
    id: "createPasswordSyncGroup",
    method: "POST",
    path: COLLECTION,
    idempotency: Idempotency::NonIdempotent,
};
const GET: Operation =
    Operation { id: "getPasswordSyncGroup", method: "GET", path: ITEM, idempotency: Idempotency::Idempotent };
const UPDATE: Operation = Operation {
    id: "updatePasswordSyncGroup",
    method: "PUT",
    path: ITEM,
    idempotency: Idempotency::Idempotent,
};
const DELETE: Operation = Operation {
    id: "deletePasswordSyncGroup",
    method: "DELETE",
    path: ITEM,
    idempotency: Idempotency::Idempotent,
};
const LIST: Operation = Operation {
    id: "getPasswordSyncGroups",
    method: "GET",
    path: COLLECTION,
    idempotency: Idempotency::Idempotent,
};

/// What a caller sets on a group: name, policy and sources, checked locally
/// against the API's documented rules before anything is sent.
///
/// ```
/// let group = psg_ext::NewGroup::new("Finance")
///     .password_policy("2c91808d744ba0ce01746f93b6204501")
///     .source("2c918084660f45d6016617daa9210584")
///     .source("2c918084660f45d6016617daa9210500");
/// assert!(group.validate().is_ok());
/// assert!(psg_ext::NewGroup::new("").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewGroup {
    /// Display name (non-empty).
    pub name: String,
    /// Id of the password policy.
    pub password_policy_id: String,
    /// Ids of two or more distinct password-managed sources.
    pub source_ids: Vec<String>,
}

impl NewGroup {
    /// A group named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        NewGroup { name: name.into(), ..NewGroup::default() }
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

    /// Checks the documented rules: non-empty name, a policy, at least two
    /// distinct non-empty sources.
    pub fn validate(&self) -> Result<(), Error> {
        if self.name.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "name",
                message: "the group name must not be empty".into(),
            });
        }
        if self.password_policy_id.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "passwordPolicyId",
                message: "a password policy id is required".into(),
            });
        }
        if let Some(empty) = self.source_ids.iter().position(|s| s.trim().is_empty()) {
            return Err(Error::InvalidInput {
                field: "sourceIds",
                message: format!("source #{} is empty", empty + 1),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = self.source_ids.iter().find(|s| !seen.insert(s.as_str())) {
            return Err(Error::InvalidInput {
                field: "sourceIds",
                message: format!("source '{dup}' is listed twice"),
            });
        }
        if self.source_ids.len() < 2 {
            return Err(Error::InvalidInput {
                field: "sourceIds",
                message: format!(
                    "a password sync group needs at least two distinct sources, {} given",
                    self.source_ids.len()
                ),
            });
        }
        Ok(())
    }

    fn to_wire(&self) -> PasswordSyncGroup {
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

impl From<&PasswordSyncGroup> for NewGroup {
    fn from(g: &PasswordSyncGroup) -> Self {
        NewGroup {
            name: g.name.clone().unwrap_or_default(),
            password_policy_id: g.password_policy_id.clone().unwrap_or_default(),
            source_ids: g.source_ids.clone(),
        }
    }
}

fn check_id(id: &str) -> Result<(), Error> {
    if id.trim().is_empty() {
        Err(Error::InvalidInput { field: "id", message: "the group id must not be empty".into() })
    } else {
        Ok(())
    }
}

impl Client {
    /// Creates a group (`POST /password-sync-groups`). Replayed only after a
    /// 429 or when the connection failed before sending, never after the
    /// server may have acted.
    pub async fn create_group(&self, group: &NewGroup) -> Result<PasswordSyncGroup, Error> {
        group.validate()?;
        let body = group.to_wire();
        let generated = &self.inner.generated;
        let op = Op { operation: &CREATE, group_id: None };
        Ok(self.call(op, || generated.create_password_sync_group(&body)).await?.into_inner())
    }

    /// Reads one group (`GET /password-sync-groups/{id}`); a missing id is
    /// [`Error::NotFound`].
    pub async fn get_group(&self, id: &str) -> Result<PasswordSyncGroup, Error> {
        check_id(id)?;
        let generated = &self.inner.generated;
        let op = Op { operation: &GET, group_id: Some(id) };
        Ok(self.call(op, || generated.get_password_sync_group(id)).await?.into_inner())
    }

    /// Replaces name, policy and sources of a group (`PUT /password-sync-groups/{id}`).
    pub async fn update_group(&self, id: &str, group: &NewGroup) -> Result<PasswordSyncGroup, Error> {
        check_id(id)?;
        group.validate()?;
        let body = group.to_wire();
        let generated = &self.inner.generated;
        let op = Op { operation: &UPDATE, group_id: Some(id) };
        Ok(self.call(op, || generated.update_password_sync_group(id, &body)).await?.into_inner())
    }

    /// Deletes a group (`DELETE /password-sync-groups/{id}`).
    pub async fn delete_group(&self, id: &str) -> Result<(), Error> {
        check_id(id)?;
        let generated = &self.inner.generated;
        let op = Op { operation: &DELETE, group_id: Some(id) };
        self.call(op, || generated.delete_password_sync_group(id)).await?;
        Ok(())
    }

    /// Lists groups: one page with `.page()`, or every group with `.stream()`.
    ///
    /// ```no_run
    /// # async fn run(client: psg_ext::Client) -> Result<(), psg_ext::Error> {
    /// use futures::TryStreamExt;
    /// let page = client.list_groups().limit(50).page().await?;
    /// println!("{} of {:?}", page.items.len(), page.total);
    /// let all: Vec<_> = client.list_groups().stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_groups(&self) -> ListGroups {
        ListGroups::new(self.clone())
    }

    /// One page, for [`ListGroups`].
    pub(crate) async fn fetch_page(
        &self,
        limit: u32,
        offset: u64,
        count: bool,
    ) -> Result<(Vec<PasswordSyncGroup>, Option<u64>), Error> {
        let generated = &self.inner.generated;
        let op = Op { operation: &LIST, group_id: None };
        let offset_i32 = i32::try_from(offset).map_err(|_| Error::InvalidInput {
            field: "offset",
            message: format!("{offset} is larger than the API accepts"),
        })?;
        let response = self
            .call(op, || {
                generated.get_password_sync_groups(Some(count), Some(limit as i32), Some(offset_i32))
            })
            .await?;
        let total = response
            .headers()
            .get("X-Total-Count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        Ok((response.into_inner(), total))
    }
}
