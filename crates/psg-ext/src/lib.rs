#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # psg-ext: the client for SailPoint ISC's Password Sync Groups API
//!
//! Built on the generated [`psg_client`], it adds what automation needs:
//!
//! * **Configuration** from `SAIL_BASE_URL`, `SAIL_CLIENT_ID`,
//!   `SAIL_CLIENT_SECRET` (or `SAIL_ACCESS_TOKEN`), profile files, or a
//!   [`ClientBuilder`]. Plain `http://` is refused except on loopback.
//! * **Auth**: client-credentials tokens cached, refreshed before expiry, one
//!   refresh shared by concurrent requests, refreshed and replayed once on a 401.
//! * **Retries** ([`RetryPolicy`]): capped exponential backoff with full
//!   jitter, `Retry-After` honoured up to a cap, a retry budget, and never a
//!   replayed create after the server may have acted.
//! * **Rate limiting** ([`RateLimit`]): at most N requests in any window, by
//!   default ISC's 100 per 10 s; a 429 pauses every task of the client.
//! * **Paging**: [`ListGroups::page`] and [`ListGroups::stream`], which
//!   prefetches pages concurrently and yields in order, each id once.
//! * **Sources and password policies** ([`Client::list_sources`] with a
//!   typed [`SourceFilter`], [`Client::list_password_policies`]): what a
//!   portable group names, resolved in whichever tenant it is applied to.
//! * **Errors**: one [`Error`] enum to `match`, with tracking ids, never secrets.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use psg_ext::{Client, GroupSpec};
//!
//! # async fn run() -> Result<(), psg_ext::Error> {
//! let client = Client::from_env()?;
//!
//! // Create (checked locally first: name, policy, two distinct sources).
//! let created = client
//!     .create_group(
//!         &GroupSpec::new("Finance")
//!             .password_policy("2c91808d744ba0ce01746f93b6204501")
//!             .sources(["2c918084660f45d6016617daa9210584", "2c918084660f45d6016617daa9210500"]),
//!     )
//!     .await?;
//! let id = created.id.clone();
//!
//! // Read, replace, delete.
//! let group = client.get_group(&id).await?;
//! let renamed = GroupSpec::from(&group).name("Finance apps");
//! client.update_group(&id, &renamed).await?;
//! match client.get_group("no-such-id").await {
//!     Err(e) if e.is_not_found() => println!("not there"),
//!     other => println!("{other:?}"),
//! }
//! client.delete_group(&id).await?;
//!
//! // Every group, pages fetched concurrently, items in server order.
//! let mut groups = client.list_groups().stream();
//! while let Some(group) = groups.try_next().await? {
//!     println!("{}", group.name);
//! }
//! # Ok(()) }
//! ```

mod auth;
mod catalog;
mod client;
pub mod config;
mod error;
mod groups;
mod model;
mod paginate;
mod rate_limit;
mod retry;
mod secret;
mod tls;

pub use catalog::{
    ListPasswordPolicies, ListSources, PASSWORD_FEATURE, PasswordPolicy, Source, SourceFilter,
};
pub use client::Client;
pub use config::{ApiVersion, ClientBuilder, Config, ConnectionSource, Credentials};
pub use error::{ApiError, BODY_SNIPPET_LIMIT, Error, TransportError};
pub use model::{Deleted, Group, GroupSpec};
pub use paginate::{ListGroups, MAX_PAGE_SIZE, Page};
pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;
pub use secret::Secret;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
