//! Contract fixtures for the APIs psg uses: Password Sync Groups (beta) and
//! the v3 Sources and Password Policies reads.
//!
//! One JSON file per exchange lives in `fixtures/` (format: [`fixture`]).
//! The tests of this crate check every fixture three ways:
//!
//! * its response body against the schema its fragment in `openapi/`
//!   declares (`schema`),
//! * replayed with httpmock against `psg-ext` (`tests/replay.rs`): the request
//!   the client sends and the value or error the caller gets,
//! * sent to a fresh emulator (`tests/conformance.rs`): the emulator must
//!   answer the same status, headers and body shape.
//!
//! `cargo xtask record` rewrites the recorded fixtures ([`record`]).

pub mod exchange;
pub mod fixture;
pub mod guard;
pub mod record;
pub mod scenario;
pub mod schema;

/// A plain reqwest client. reqwest is built without a crypto provider of its
/// own in this workspace (psg-ext picks ring), so one is installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
