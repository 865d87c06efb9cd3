//! Sources and password policies, read-only: what a portable group names.
//!
//! Both are read from the GA API (`/v3`, or the version the client is set
//! to when that is v3 or later or v1; with the default `beta`, `/v3`).

use std::fmt;
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use psg_client::types::{PasswordPolicyV3Dto, PolicyTimestamp};
use serde::{Deserialize, Serialize};

use crate::client::{Client, Op, Operation};
use crate::config::Resource;
use crate::error::Error;
use crate::paginate::{FetchPage, MAX_PAGE_SIZE, Page, Pager, pager_stream};
use crate::retry::Idempotency;

const LIST_SOURCES: Operation = Operation {
    id: "listSources",
    resource: Resource::Sources,
    method: "GET",
    item: false,
    idempotency: Idempotency::Idempotent,
};
const GET_SOURCE: Operation = Operation {
    id: "getSource",
    resource: Resource::Sources,
    method: "GET",
    item: true,
    idempotency: Idempotency::Idempotent,
};
const LIST_POLICIES: Operation = Operation {
    id: "listPasswordPolicies",
    resource: Resource::PasswordPolicies,
    method: "GET",
    item: false,
    idempotency: Idempotency::Idempotent,
};
const GET_POLICY: Operation = Operation {
    id: "getPasswordPolicyById",
    resource: Resource::PasswordPolicies,
    method: "GET",
    item: true,
    idempotency: Idempotency::Idempotent,
};

/// The value of `X-SailPoint-Experimental` that the per-service layout's
/// policy operations require (the request hook sends the same header, from
/// [`crate::ApiVersion::headers`], on every version that needs it).
const EXPERIMENTAL: &str = "true";

/// The feature a source needs to join a password sync group.
pub const PASSWORD_FEATURE: &str = "PASSWORD";

/// A source (a connected system) as far as password sync groups care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Source {
    /// The source's id.
    pub id: String,
    /// Its name, unique in a tenant.
    pub name: String,
    /// Its features, e.g. `PASSWORD`, `PROVISIONING` (the list grows upstream).
    pub features: Vec<String>,
    /// Connector type, e.g. `active-directory`.
    pub connector: String,
    /// Description, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Source {
    /// Whether passwords of this source can be managed (it has `PASSWORD`).
    pub fn is_password_managed(&self) -> bool {
        self.features.iter().any(|f| f == PASSWORD_FEATURE)
    }

    fn from_wire(s: psg_client::types::Source, operation: &'static str) -> Result<Source, Error> {
        let id = s.id.filter(|i| !i.is_empty()).ok_or_else(|| Error::Decode {
            operation,
            status: reqwest::StatusCode::OK,
            message: format!("source '{}' has no `id`", s.name),
            cause: None,
        })?;
        Ok(Source {
            id,
            name: s.name,
            features: s.features.map(|f| f.0).unwrap_or_default(),
            connector: s.connector,
            description: s.description,
        })
    }
}

/// A password policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PasswordPolicy {
    /// The policy's id.
    pub id: String,
    /// Its name (empty when the server sent none: see
    /// [`PasswordPolicy::missing_fields`]).
    pub name: String,
    /// Description, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Ids of the sources it applies to.
    pub source_ids: Vec<String>,
    /// Whether it is the tenant's default policy.
    pub default_policy: bool,
    /// When it was last changed, in epoch milliseconds, if the server said
    /// (upstream sends a number although it declares a date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_ms: Option<i64>,
    /// API names of the fields the server left out (the spec leaves `name` optional).
    #[serde(skip)]
    missing: Vec<&'static str>,
}

impl PasswordPolicy {
    /// API names of the fields the server left out (`name`), empty for a
    /// complete policy: such a policy is listed, and cannot be found by name.
    pub fn missing_fields(&self) -> &[&'static str] {
        &self.missing
    }

    fn from_wire(p: PasswordPolicyV3Dto, operation: &'static str) -> Result<PasswordPolicy, Error> {
        let missing = |field: &str| Error::Decode {
            operation,
            status: reqwest::StatusCode::OK,
            message: format!("a password policy without `{field}`"),
            cause: None,
        };
        Ok(PasswordPolicy {
            id: p.id.filter(|i| !i.is_empty()).ok_or_else(|| missing("id"))?,
            missing: if p.name.is_none() { vec!["name"] } else { Vec::new() },
            name: p.name.unwrap_or_default(),
            description: p.description,
            source_ids: p.source_ids,
            default_policy: p.default_policy,
            last_updated_ms: p.last_updated.and_then(|t| match t {
                PolicyTimestamp::Int64(ms) => Some(ms),
                PolicyTimestamp::String(text) => chrono::DateTime::parse_from_rfc3339(&text)
                    .ok()
                    .map(|d| d.timestamp_millis())
                    .or_else(|| text.trim().parse().ok()),
            }),
        })
    }
}

/// A filter on sources in ISC's filter syntax, built from typed parts.
///
/// ```
/// use psg_ext::SourceFilter;
/// let f = SourceFilter::name_in(["Active Directory", "Workday \"EU\""]).and(SourceFilter::password_managed());
/// assert_eq!(
///     f.to_string(),
///     r#"name in ("Active Directory", "Workday \"EU\"") and features ca ("PASSWORD")"#
/// );
/// ```
///
/// An expression given as text ([`SourceFilter::raw`]) is kept whole when
/// combined: it is put in parentheses, so `and` cannot bind to a part of it.
///
/// ```
/// use psg_ext::SourceFilter;
/// let f = SourceFilter::raw(r#"name eq "A" or name eq "B""#).and(SourceFilter::password_managed());
/// assert_eq!(f.to_string(), r#"(name eq "A" or name eq "B") and features ca ("PASSWORD")"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFilter {
    terms: Vec<Term>,
}

/// One part of a [`SourceFilter`]: a condition psg built, or a caller's text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Built(String),
    Raw(String),
}

/// A quoted filter string: `"` and `\` escaped with a backslash.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn list<I: IntoIterator<Item = S>, S: AsRef<str>>(values: I) -> String {
    let quoted: Vec<_> = values.into_iter().map(|v| quote(v.as_ref())).collect();
    format!("({})", quoted.join(", "))
}

impl SourceFilter {
    fn term(text: String) -> Self {
        SourceFilter { terms: vec![Term::Built(text)] }
    }
    /// An ISC filter expression as written (e.g. from a command line); not
    /// checked locally: the server answers 400 to what it cannot parse.
    /// Combined with another filter, it is parenthesized.
    pub fn raw(expression: impl Into<String>) -> Self {
        SourceFilter { terms: vec![Term::Raw(expression.into())] }
    }
    /// `name eq "NAME"`.
    pub fn name_eq(name: &str) -> Self {
        Self::term(format!("name eq {}", quote(name)))
    }
    /// `name in ("A", "B")`.
    pub fn name_in<I: IntoIterator<Item = S>, S: AsRef<str>>(names: I) -> Self {
        Self::term(format!("name in {}", list(names)))
    }
    /// `name sw "PREFIX"`.
    pub fn name_starts_with(prefix: &str) -> Self {
        Self::term(format!("name sw {}", quote(prefix)))
    }
    /// `name co "TEXT"`.
    pub fn name_contains(text: &str) -> Self {
        Self::term(format!("name co {}", quote(text)))
    }
    /// `id eq "ID"`.
    pub fn id_eq(id: &str) -> Self {
        Self::term(format!("id eq {}", quote(id)))
    }
    /// `id in ("A", "B")`.
    pub fn id_in<I: IntoIterator<Item = S>, S: AsRef<str>>(ids: I) -> Self {
        Self::term(format!("id in {}", list(ids)))
    }
    /// `features ca ("F1", "F2")`: has every listed feature.
    pub fn has_features<I: IntoIterator<Item = S>, S: AsRef<str>>(features: I) -> Self {
        Self::term(format!("features ca {}", list(features)))
    }
    /// Sources whose passwords can be managed: `features ca ("PASSWORD")`.
    pub fn password_managed() -> Self {
        Self::has_features([PASSWORD_FEATURE])
    }
    /// Both filters must hold.
    pub fn and(mut self, other: SourceFilter) -> Self {
        self.terms.extend(other.terms);
        self
    }
}

impl fmt::Display for SourceFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alone = self.terms.len() == 1;
        let parts: Vec<std::borrow::Cow<'_, str>> = self
            .terms
            .iter()
            .filter(|t| !matches!(t, Term::Raw(text) if text.trim().is_empty()) || alone)
            .map(|t| match t {
                Term::Built(text) => text.as_str().into(),
                Term::Raw(text) if alone => text.as_str().into(),
                Term::Raw(text) => format!("({})", text.trim()).into(),
            })
            .collect();
        f.write_str(&parts.join(" and "))
    }
}

/// A list request for sources; see [`Client::list_sources`].
#[derive(Debug, Clone)]
#[must_use = "call .page() or .stream()"]
pub struct ListSources {
    client: Client,
    filter: Option<String>,
    limit: u32,
    offset: u64,
}

impl ListSources {
    /// Only sources matching `filter`.
    pub fn filter(mut self, filter: SourceFilter) -> Self {
        self.filter = Some(filter.to_string());
        self
    }
    /// Page size, 1 to 250 (default 250).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
    /// Items to skip (default 0).
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// One page with its total.
    pub async fn page(self) -> Result<Page<Source>, Error> {
        check_limit(self.limit)?;
        let (items, total) = self.client.fetch_sources(self.filter.clone(), self.limit, self.offset).await?;
        Ok(Page { items, total, offset: self.offset, limit: self.limit })
    }

    /// Every matching source, in server order, each once.
    pub fn stream(self) -> BoxStream<'static, Result<Source, Error>> {
        let (client, filter) = (self.client.clone(), self.filter.clone());
        let fetch: FetchPage<Source> = Arc::new(move |limit, offset| {
            let (client, filter) = (client.clone(), filter.clone());
            Box::pin(async move { client.fetch_sources(filter, limit, offset).await })
        });
        checked_stream(&self.client, self.limit, self.offset, fetch, |s: &Source| s.id.as_str())
    }
}

/// A list request for password policies; see [`Client::list_password_policies`].
#[derive(Debug, Clone)]
#[must_use = "call .page() or .stream()"]
pub struct ListPasswordPolicies {
    client: Client,
    limit: u32,
    offset: u64,
}

impl ListPasswordPolicies {
    /// Page size, 1 to 250 (default 250).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
    /// Items to skip (default 0).
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
    /// One page with its total.
    pub async fn page(self) -> Result<Page<PasswordPolicy>, Error> {
        check_limit(self.limit)?;
        let (items, total) = self.client.fetch_policies(self.limit, self.offset).await?;
        Ok(Page { items, total, offset: self.offset, limit: self.limit })
    }
    /// Every policy, in server order, each once.
    pub fn stream(self) -> BoxStream<'static, Result<PasswordPolicy, Error>> {
        let client = self.client.clone();
        let fetch: FetchPage<PasswordPolicy> = Arc::new(move |limit, offset| {
            let client = client.clone();
            Box::pin(async move { client.fetch_policies(limit, offset).await })
        });
        checked_stream(&self.client, self.limit, self.offset, fetch, |p: &PasswordPolicy| p.id.as_str())
    }
}

/// A paging stream over `fetch` after the limit is checked (the same
/// machine as groups: in order, each id once, stops at a short page).
fn checked_stream<T: Send + 'static>(
    client: &Client,
    limit: u32,
    offset: u64,
    fetch: FetchPage<T>,
    id_of: fn(&T) -> &str,
) -> BoxStream<'static, Result<T, Error>> {
    if let Err(e) = check_limit(limit) {
        return stream::once(async move { Err(e) }).boxed();
    }
    let concurrency = client.config().page_concurrency();
    pager_stream(Pager::new(fetch, id_of, limit, offset, concurrency, false))
}

fn check_limit(limit: u32) -> Result<(), Error> {
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(Error::invalid("limit", format!("{limit} is outside 1..={MAX_PAGE_SIZE}")));
    }
    Ok(())
}

fn paging(limit: u32, offset: u64) -> Result<(i32, i32), Error> {
    let offset = i32::try_from(offset)
        .map_err(|_| Error::invalid("offset", format!("{offset} is larger than the API accepts")))?;
    Ok((i32::try_from(limit).unwrap_or(i32::MAX), offset))
}

fn total_of(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers.get("X-Total-Count").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

impl Client {
    /// Lists sources: `.filter(SourceFilter::...)`, then `.page()` or `.stream()`.
    ///
    /// ```no_run
    /// # async fn run(client: psg_ext::Client) -> Result<(), psg_ext::Error> {
    /// use futures::TryStreamExt;
    /// use psg_ext::SourceFilter;
    /// let managed: Vec<_> = client
    ///     .list_sources()
    ///     .filter(SourceFilter::name_in(["Active Directory", "Workday"]).and(SourceFilter::password_managed()))
    ///     .stream()
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list_sources(&self) -> ListSources {
        ListSources { client: self.clone(), filter: None, limit: MAX_PAGE_SIZE, offset: 0 }
    }

    /// Reads one source; a missing id is [`Error::NotFound`].
    pub async fn get_source(&self, id: &str) -> Result<Source, Error> {
        if id.trim().is_empty() {
            return Err(Error::invalid("id", "the source id must not be empty"));
        }
        let generated = &self.inner.sources;
        let op = Op { operation: &GET_SOURCE, group_id: Some(id), creating: None };
        let v1 = self.per_service();
        let send = move || async move {
            if v1 { generated.get_source_v1(id).await } else { generated.get_source(id).await }
        };
        let reply = self.call(op, send).await?;
        Source::from_wire(reply.into_value(GET_SOURCE.id)?.into_inner(), GET_SOURCE.id)
    }

    /// Lists password policies: `.page()` or `.stream()`.
    pub fn list_password_policies(&self) -> ListPasswordPolicies {
        ListPasswordPolicies { client: self.clone(), limit: MAX_PAGE_SIZE, offset: 0 }
    }

    /// Reads one password policy; a missing id is [`Error::NotFound`].
    pub async fn get_password_policy(&self, id: &str) -> Result<PasswordPolicy, Error> {
        if id.trim().is_empty() {
            return Err(Error::invalid("id", "the policy id must not be empty"));
        }
        let generated = &self.inner.policies;
        let op = Op { operation: &GET_POLICY, group_id: Some(id), creating: None };
        let v1 = self.per_service();
        let send = move || async move {
            if v1 {
                generated.get_password_policy_by_id_v1(id, EXPERIMENTAL).await
            } else {
                generated.get_password_policy_by_id(id).await
            }
        };
        let reply = self.call(op, send).await?;
        PasswordPolicy::from_wire(reply.into_value(GET_POLICY.id)?.into_inner(), GET_POLICY.id)
    }

    async fn fetch_sources(
        &self,
        filter: Option<String>,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<Source>, Option<u64>), Error> {
        let (limit, offset) = paging(limit, offset)?;
        let generated = &self.inner.sources;
        let op = Op { operation: &LIST_SOURCES, group_id: None, creating: None };
        let (v1, filter) = (self.per_service(), filter.as_deref());
        let response = self
            .call(op, move || async move {
                let (count, limit, offset) = (Some(true), Some(limit), Some(offset));
                if v1 {
                    generated.list_sources_v1(count, filter, None, None, limit, offset, None).await
                } else {
                    generated.list_sources(count, filter, None, None, limit, offset, None).await
                }
            })
            .await?
            .into_value(LIST_SOURCES.id)?;
        let total = total_of(response.headers());
        let items = response
            .into_inner()
            .into_iter()
            .map(|s| Source::from_wire(s, LIST_SOURCES.id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((items, total))
    }

    async fn fetch_policies(
        &self,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<PasswordPolicy>, Option<u64>), Error> {
        let (limit, offset) = paging(limit, offset)?;
        let generated = &self.inner.policies;
        let op = Op { operation: &LIST_POLICIES, group_id: None, creating: None };
        let v1 = self.per_service();
        let response = self
            .call(op, move || async move {
                let (count, limit, offset) = (Some(true), Some(limit), Some(offset));
                if v1 {
                    generated.list_password_policies_v1(count, limit, offset, EXPERIMENTAL).await
                } else {
                    generated.list_password_policies(count, limit, offset).await
                }
            })
            .await?
            .into_value(LIST_POLICIES.id)?;
        let total = total_of(response.headers());
        let items = response
            .into_inner()
            .into_iter()
            .map(|p| PasswordPolicy::from_wire(p, LIST_POLICIES.id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((items, total))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_raw_expression_is_parenthesized_when_combined() {
        let or = r#"name eq "A" or name eq "B""#;
        assert_eq!(SourceFilter::raw(or).to_string(), or, "alone it is sent as written");
        assert_eq!(
            SourceFilter::raw(or).and(SourceFilter::password_managed()).to_string(),
            r#"(name eq "A" or name eq "B") and features ca ("PASSWORD")"#
        );
        assert_eq!(
            SourceFilter::password_managed().and(SourceFilter::raw(" ")).to_string(),
            r#"features ca ("PASSWORD")"#,
            "a blank expression adds nothing"
        );
    }

    #[test]
    fn filters_quote_and_join() {
        assert_eq!(SourceFilter::name_eq("A").to_string(), r#"name eq "A""#);
        assert_eq!(SourceFilter::name_eq(r"back\slash").to_string(), r#"name eq "back\\slash""#);
        assert_eq!(
            SourceFilter::id_in(["1", "2"]).and(SourceFilter::name_starts_with("W")).to_string(),
            r#"id in ("1", "2") and name sw "W""#
        );
    }

    proptest! {
        /// Every quoted value reads back as itself: no way to break out of the string.
        #[test]
        fn quoting_is_reversible(value in ".{0,30}") {
            let q = quote(&value);
            prop_assert!(q.starts_with('"') && q.ends_with('"') && q.len() >= 2);
            let inner = &q[1..q.len() - 1];
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(chars.next().unwrap()),
                    '"' => prop_assert!(false, "an unescaped quote in {}", q),
                    c => out.push(c),
                }
            }
            prop_assert_eq!(out, value);
        }
    }
}
