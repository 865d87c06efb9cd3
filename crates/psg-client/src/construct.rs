//! The fallible [`Client::new`], written by hand: progenitor's own unwraps
//! the `reqwest` client it builds (`cargo xtask generate` leaves it out).

use std::fmt;
use std::time::Duration;

use crate::Client;
use crate::hooks::Hooks;

/// Why [`Client::new`] could not build its HTTP client (for example, no TLS
/// set-up could be made).
#[derive(Debug)]
pub struct BuildError {
    message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot build the HTTP client: {}", self.message)
    }
}

impl std::error::Error for BuildError {}

impl BuildError {
    pub(crate) fn new(message: impl fmt::Display) -> Self {
        BuildError { message: message.to_string() }
    }
}

/// The connect and request timeout of [`Client::new`]'s HTTP client.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

impl Client {
    /// A client of `baseurl` (scheme, host, port and path stem, e.g.
    /// `https://acme.api.identitynow.com/beta`) with its own HTTP client:
    /// 15 s timeouts and the TLS stack of the enabled feature (with
    /// `rustls-ring`, a rustls configuration of its own on ring; nothing
    /// process-wide is installed). An error instead of a panic when that
    /// client cannot be built. For more control, [`Client::new_with_client`].
    pub fn new(baseurl: &str, inner: Hooks) -> Result<Self, BuildError> {
        let http = reqwest::Client::builder().connect_timeout(DEFAULT_TIMEOUT).timeout(DEFAULT_TIMEOUT);
        let http = crate::tls::configure(http, Vec::new())?.build().map_err(BuildError::new)?;
        Ok(Self::new_with_client(baseurl, http, inner))
    }
}
