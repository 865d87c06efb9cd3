//! Contract fixtures for the APIs psg uses: Password Sync Groups, Sources and
//! Password Policies, in every version psg speaks.
//!
//! One JSON file per exchange lives in `fixtures/` (format: [`fixture`]),
//! each saying where it came from (`recordedFrom`):
//!
//! * `upstream-example` (`upstream_*.json`): derived mechanically from every
//!   example of every operation in SailPoint's published specs
//!   ([`upstream`]): the evidence of SailPoint's behaviour;
//! * `emulator`: regression snapshots, recorded from psg-emulator
//!   ([`record`]): they catch changes in psg, not errors against ISC;
//! * `hand-written`: situations no server here can be put in.
//!
//! The tests of this crate check every fixture three ways:
//!
//! * its response body against the schema its fragment in `openapi/`
//!   declares (`schema`),
//! * replayed with httpmock against `psg-ext` (`tests/replay.rs`): the request
//!   the client sends and the value or error the caller gets,
//! * against a fresh emulator (`tests/conformance.rs`): a snapshot's request
//!   must get the same status, headers and body; for an upstream example, the
//!   emulator put in the same situation (by the snapshot of that operation and
//!   status, on the example's layout) must answer its status with a body of
//!   the example's shape.
//!
//! `cargo xtask record` rewrites the snapshots ([`record`]); `cargo xtask
//! record --upstream ../shared/reference` the upstream examples.

pub mod exchange;
pub mod fixture;
pub mod guard;
pub mod record;
pub mod scenario;
pub mod schema;
pub mod upstream;

/// A plain reqwest client. reqwest is built without a crypto provider of its
/// own in this workspace (psg-ext picks ring), so one is installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
