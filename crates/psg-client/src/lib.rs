#![forbid(unsafe_code)]
//! Generated client for the SailPoint Identity Security Cloud APIs that psg
//! uses, produced by progenitor from the fragments in `openapi/`:
//!
//! * **Password Sync Groups** (`openapi/password-sync-groups.yaml`): list,
//!   create, get, update, delete;
//! * **Password Policies** (`openapi/password-policies.yaml`): list, get;
//! * **Sources** (`openapi/sources.yaml`): list (with `filters`, `sorters`),
//!   get.
//!
//! and the same operations in SailPoint's per-service layout, from the
//! `*-v1.yaml` fragments (methods ending in `_v1`, paths such as
//! `/password-sync-groups/v1`, the same Rust types).
//!
//! One [`Client`] holds every operation. Paths are relative to the base URL:
//! for the prefixed versions it carries the version
//! (`https://{tenant}.api.identitynow.com/beta`, `.../v3`, ...); for the
//! `_v1` methods it is the tenant root. Every operation runs the same [`hooks`].
//!
//! Most users want `psg-ext`, which adds authentication, retries, rate
//! limiting, paging streams and typed errors on top of this crate.
//!
//! * [`generated`] is written by `cargo xtask generate`; never edit it by hand.
//! * [`hooks`] is the hand-written glue that lets a wrapper add headers and see
//!   response metadata.
//! * [`Client::new`] (hand-written) returns an error instead of panicking, and
//!   sets up TLS per client ([`tls`]): features `rustls-ring` (default),
//!   `rustls-aws-lc`, `native-tls`, as in psg-ext.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = psg_client::Client::new("http://127.0.0.1:8620/beta", psg_client::hooks::Hooks::none())?;
//! let page = client.get_password_sync_groups(Some(true), Some(50), None).await?;
//! println!("{} groups on this page", page.into_inner().len());
//! # Ok(())
//! # }
//! ```

mod construct;
pub mod generated;
pub mod hooks;
pub mod tls;

pub use construct::{BuildError, DEFAULT_TIMEOUT};
pub use generated::*;
pub use hooks::{RequestHook, ResponseMeta, capture_response};

/// Re-exported so that users of this crate name the same `reqwest` version.
pub use reqwest;
