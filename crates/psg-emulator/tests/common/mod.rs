//! Helpers shared by the emulator's integration tests.
#![allow(dead_code)]

/// A plain reqwest client. In this workspace reqwest is built without a
/// crypto provider of its own (psg-ext picks ring through its features), so
/// one is installed before building a client.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
