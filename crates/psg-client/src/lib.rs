//! Generated client for the SailPoint Identity Security Cloud beta **Password
//! Sync Groups** API, produced by progenitor from `openapi/password-sync-groups.yaml`.
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
