//! The five operations on password sync groups.

use crate::client::{Client, Op, Operation, Reply};
use crate::config::Resource;
use crate::error::Error;
use crate::model::{Deleted, Group, GroupSpec};
use crate::paginate::ListGroups;
use crate::retry::Idempotency;

/// The five operations, as the retry loop and tracing see them.
const CREATE: Operation = Operation {
    id: "createPasswordSyncGroup",
    resource: Resource::PasswordSyncGroups,
    method: "POST",
    item: false,
    idempotency: Idempotency::NonIdempotent,
};
const GET: Operation = Operation {
    id: "getPasswordSyncGroup",
    resource: Resource::PasswordSyncGroups,
    method: "GET",
    item: true,
    idempotency: Idempotency::Idempotent,
};
const UPDATE: Operation = Operation {
    id: "updatePasswordSyncGroup",
    resource: Resource::PasswordSyncGroups,
    method: "PUT",
    item: true,
    idempotency: Idempotency::Idempotent,
};
const DELETE: Operation = Operation {
    id: "deletePasswordSyncGroup",
    resource: Resource::PasswordSyncGroups,
    method: "DELETE",
    item: true,
    idempotency: Idempotency::Idempotent,
};
const LIST: Operation = Operation {
    id: "getPasswordSyncGroups",
    resource: Resource::PasswordSyncGroups,
    method: "GET",
    item: false,
    idempotency: Idempotency::Idempotent,
};

fn check_id(id: &str) -> Result<(), Error> {
    if id.trim().is_empty() { Err(Error::invalid("id", "the group id must not be empty")) } else { Ok(()) }
}

impl Client {
    /// Creates a group (`POST /password-sync-groups`). Sent again only after
    /// a 429 or when the connection could not be made; when the server may
    /// have acted (the answer was lost or timed out, or it was a 500, 502 or
    /// 504), the result is [`Error::CreateOutcomeUnknown`], which is never
    /// retryable (the group may exist: look it up by name).
    pub async fn create_group(&self, group: &GroupSpec) -> Result<Group, Error> {
        group.validate()?;
        let body = group.to_wire();
        let generated = &self.inner.groups;
        let op = Op { operation: &CREATE, group_id: None, creating: Some(&group.name) };
        let (v1, body) = (self.per_service(), &body);
        let send = move || async move {
            if v1 {
                generated.create_password_sync_group_v1(body).await
            } else {
                generated.create_password_sync_group(body).await
            }
        };
        let reply = self.call(op, send).await?;
        Group::from_wire(reply.into_value(CREATE.id)?.into_inner(), CREATE.id)
    }

    /// Reads one group (`GET /password-sync-groups/{id}`); a missing id is
    /// [`Error::NotFound`].
    pub async fn get_group(&self, id: &str) -> Result<Group, Error> {
        check_id(id)?;
        let generated = &self.inner.groups;
        let op = Op { operation: &GET, group_id: Some(id), creating: None };
        let v1 = self.per_service();
        let send = move || async move {
            if v1 {
                generated.get_password_sync_group_v1(id).await
            } else {
                generated.get_password_sync_group(id).await
            }
        };
        let reply = self.call(op, send).await?;
        Group::from_wire(reply.into_value(GET.id)?.into_inner(), GET.id)
    }

    /// Replaces name, policy and sources of a group (`PUT /password-sync-groups/{id}`).
    pub async fn update_group(&self, id: &str, group: &GroupSpec) -> Result<Group, Error> {
        check_id(id)?;
        group.validate()?;
        let body = group.to_wire();
        let generated = &self.inner.groups;
        let op = Op { operation: &UPDATE, group_id: Some(id), creating: None };
        let (v1, body) = (self.per_service(), &body);
        let send = move || async move {
            if v1 {
                generated.update_password_sync_group_v1(id, body).await
            } else {
                generated.update_password_sync_group(id, body).await
            }
        };
        let reply = self.call(op, send).await?;
        Group::from_wire(reply.into_value(UPDATE.id)?.into_inner(), UPDATE.id)
    }

    /// Deletes a group (`DELETE /password-sync-groups/{id}`). When an
    /// attempt's answer was lost and the retry finds the group gone, the
    /// delete happened: [`Deleted::AlreadyGone`]. A 404 on the first attempt
    /// is [`Error::NotFound`].
    pub async fn delete_group(&self, id: &str) -> Result<Deleted, Error> {
        check_id(id)?;
        let generated = &self.inner.groups;
        let op = Op { operation: &DELETE, group_id: Some(id), creating: None };
        let v1 = self.per_service();
        let send = move || async move {
            if v1 {
                generated.delete_password_sync_group_v1(id).await
            } else {
                generated.delete_password_sync_group(id).await
            }
        };
        match self.call(op, send).await? {
            Reply::Value(_) => Ok(Deleted::Deleted),
            Reply::AlreadyGone => Ok(Deleted::AlreadyGone),
        }
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
    ) -> Result<(Vec<Group>, Option<u64>), Error> {
        let generated = &self.inner.groups;
        let op = Op { operation: &LIST, group_id: None, creating: None };
        let offset_i32 = i32::try_from(offset)
            .map_err(|_| Error::invalid("offset", format!("{offset} is larger than the API accepts")))?;
        let limit_i32 = i32::try_from(limit).unwrap_or(i32::MAX);
        let v1 = self.per_service();
        let response = self
            .call(op, move || async move {
                let (count, limit, offset) = (Some(count), Some(limit_i32), Some(offset_i32));
                if v1 {
                    generated.get_password_sync_groups_v1(count, limit, offset).await
                } else {
                    generated.get_password_sync_groups(count, limit, offset).await
                }
            })
            .await?
            .into_value(LIST.id)?;
        let total = response
            .headers()
            .get("X-Total-Count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let items = response
            .into_inner()
            .into_iter()
            .map(|g| Group::from_wire(g, LIST.id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((items, total))
    }
}
