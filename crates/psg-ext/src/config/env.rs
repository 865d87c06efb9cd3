//! The connection from the `SAIL_*` environment variables, as SailPoint's SDKs read them.

use super::builder::{Connection, Names, check_complete};
use super::{ClientBuilder, ConnectionSource};
use crate::error::Error;
use crate::secret::Secret;

/// Tenant API root, e.g. `https://acme.api.identitynow.com`.
pub const ENV_BASE_URL: &str = "SAIL_BASE_URL";
/// OAuth client id for the client-credentials flow.
pub const ENV_CLIENT_ID: &str = "SAIL_CLIENT_ID";
/// OAuth client secret.
pub const ENV_CLIENT_SECRET: &str = "SAIL_CLIENT_SECRET";
/// A ready bearer token (used as is, never refreshed).
pub const ENV_ACCESS_TOKEN: &str = "SAIL_ACCESS_TOKEN";

impl ClientBuilder {
    /// The connection from `SAIL_BASE_URL` with `SAIL_CLIENT_ID` and
    /// `SAIL_CLIENT_SECRET` (or `SAIL_ACCESS_TOKEN`). An error names what is
    /// missing when only some are set, or when none are.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_with(|k| std::env::var(k).ok())?.ok_or_else(|| {
            Error::config(format!(
                "no tenant: set {ENV_BASE_URL} (e.g. https://acme.api.identitynow.com) with {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} (or {ENV_ACCESS_TOKEN}), or use a profile"
            ))
        })
    }

    /// The connection from variables read through `get`; `Ok(None)` when
    /// none of the `SAIL_*` connection variables is set.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let connection = Connection {
            base_url: get(ENV_BASE_URL),
            client_id: get(ENV_CLIENT_ID),
            client_secret: get(ENV_CLIENT_SECRET).map(Secret::new),
            access_token: get(ENV_ACCESS_TOKEN).map(Secret::new),
        };
        if connection.base_url.is_none()
            && connection.client_id.is_none()
            && connection.client_secret.is_none()
            && connection.access_token.is_none()
        {
            return Ok(None);
        }
        let names = Names {
            base_url: ENV_BASE_URL,
            client_id: ENV_CLIENT_ID,
            client_secret: ENV_CLIENT_SECRET,
            access_token: ENV_ACCESS_TOKEN,
            place: "the environment",
        };
        check_complete(&connection, &names)?;
        Ok(Some(ClientBuilder { connection, source: ConnectionSource::Environment, ..Self::default() }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::Credentials;

    fn env(pairs: &[(&str, &str)]) -> Result<Option<ClientBuilder>, Error> {
        let map: BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ClientBuilder::from_env_with(|k| map.get(k).cloned())
    }

    #[test]
    fn env_gives_client_credentials_and_beta_root() {
        let b = env(&[
            (ENV_BASE_URL, "https://acme.api.identitynow.com/"),
            (ENV_CLIENT_ID, "id"),
            (ENV_CLIENT_SECRET, "pw"),
        ])
        .unwrap()
        .unwrap();
        let c = b.into_config().unwrap();
        assert_eq!(c.api_root(), "https://acme.api.identitynow.com/beta");
        assert_eq!(c.token_url(), "https://acme.api.identitynow.com/oauth/token");
        assert!(matches!(c.credentials(), Credentials::ClientCredentials { .. }));
        assert_eq!(c.connection_source(), &ConnectionSource::Environment);
        assert!(!format!("{c:?}").contains("pw\""), "secret is redacted in Debug");
    }

    #[test]
    fn a_partial_environment_names_what_is_missing() {
        assert!(env(&[]).unwrap().is_none());
        let e = env(&[(ENV_BASE_URL, "https://a.example")]).err().unwrap().to_string();
        assert!(e.contains(ENV_CLIENT_ID) && e.contains(ENV_CLIENT_SECRET), "{e}");
        let e = env(&[(ENV_BASE_URL, "https://a.example"), (ENV_CLIENT_ID, "x")]).err().unwrap().to_string();
        assert!(e.contains(ENV_CLIENT_SECRET) && !e.contains(ENV_BASE_URL), "{e}");
        let e = env(&[(ENV_CLIENT_ID, "x"), (ENV_CLIENT_SECRET, "y")]).err().unwrap().to_string();
        assert!(e.contains(ENV_BASE_URL), "{e}");
    }
}
