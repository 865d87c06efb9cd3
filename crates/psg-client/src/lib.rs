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
//! One [`Client`] holds every operation. Paths are relative: the API version
//! is chosen by the base URL it is given (`https://{tenant}.api.identitynow.com/beta`,
//! `.../v3`, ...). Every operation runs the same [`hooks`].
//!
//! Most users want `psg-ext`, which adds authentication, retries, rate
//! limiting, paging streams and typed errors on top of this crate.
//!
//! * [`generated`] is written by `cargo xtask generate`; never edit it by hand.
//! * [`hooks`] is the hand-written glue that lets a wrapper add headers and see
//!   response metadata.
//!
//! ```no_run
//! # async fn run() -> Result<(), psg_client::Error<psg_client::types::ApiErrorBody>> {
//! let client = psg_client::Client::new_with_client(
//!     "http://127.0.0.1:8620/beta",
//!     reqwest::Client::new(),
//!     psg_client::hooks::Hooks::none(),
//! );
//! let page = client.get_password_sync_groups(Some(true), Some(50), None).await?;
//! println!("{} groups on this page", page.into_inner().len());
//! # Ok(())
//! # }
//! ```

pub mod generated;
pub mod hooks;

pub use generated::*;
pub use hooks::{RequestHook, ResponseMeta, capture_response};

/// Re-exported so that users of this crate name the same `reqwest` version.
pub use reqwest;
