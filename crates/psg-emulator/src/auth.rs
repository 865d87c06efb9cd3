//! Client credentials, issued tokens and scope checks.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use crate::config::{ClientSpec, MANAGE_SCOPE, READ_SCOPE};

/// What an issued token grants.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// The client it was issued to.
    pub client_id: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it stops working.
    pub expires: Instant,
}

/// Why a bearer token was refused (the text goes into the 401 `{error}` body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>`.
    Malformed,
    /// Never issued (or issued before a restart).
    Unknown,
    /// Past its lifetime.
    Expired,
}

impl TokenProblem {
    /// The 401 body text.
    pub fn message(self) -> &'static str {
        match self {
            TokenProblem::Missing => "Authorization header is missing",
            TokenProblem::Malformed => "Authorization header is not a bearer token",
            TokenProblem::Unknown => "JWT validation failed: token is not valid",
            TokenProblem::Expired => "JWT validation failed: JWT is expired",
        }
    }
}

/// Issued tokens.
#[derive(Debug, Default)]
pub struct TokenStore {
    tokens: HashMap<String, TokenInfo>,
}

impl TokenStore {
    /// Issues a fresh opaque token to `client` valid for `ttl` from `now`.
    pub fn issue(&mut self, client: &ClientSpec, ttl: Duration, now: Instant) -> String {
        let bytes: [u8; 24] = rand::rng().random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.tokens.retain(|_, info| info.expires > now);
        self.tokens.insert(
            token.clone(),
            TokenInfo {
                client_id: client.id.clone(),
                scopes: client.scopes.clone(),
                // Config validation bounds the lifetime; saturate all the same.
                expires: now
                    .checked_add(ttl)
                    .unwrap_or(now + Duration::from_secs(crate::config::MAX_TOKEN_TTL_SECS)),
            },
        );
        token
    }

    /// Checks an `Authorization` header value at `now`.
    pub fn verify(&self, header: Option<&str>, now: Instant) -> Result<&TokenInfo, TokenProblem> {
        let header = header.ok_or(TokenProblem::Missing)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TokenProblem::Malformed)?;
        let info = self.tokens.get(token).ok_or(TokenProblem::Unknown)?;
        if now >= info.expires { Err(TokenProblem::Expired) } else { Ok(info) }
    }
}

/// Finds the client with this id and secret.
pub fn authenticate<'a>(clients: &'a [ClientSpec], id: &str, secret: &str) -> Option<&'a ClientSpec> {
    clients.iter().find(|c| c.id == id && c.secret == secret)
}

/// Whether `scopes` allow a read (`write == false`) or a write.
pub fn allows(scopes: &[String], write: bool) -> bool {
    scopes.iter().any(|s| {
        s == MANAGE_SCOPE || s == "sp:scopes:all" || (!write && (s == READ_SCOPE || s == "sp:scopes:default"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_problems_are_told_apart() {
        let mut store = TokenStore::default();
        let t0 = Instant::now();
        let token = store.issue(&ClientSpec::demo(), Duration::from_secs(749), t0);
        let header = format!("Bearer {token}");
        assert_eq!(store.verify(Some(&header), t0).unwrap().client_id, "psg-demo");
        assert_eq!(
            store.verify(Some(&header), t0 + Duration::from_secs(749)).unwrap_err(),
            TokenProblem::Expired
        );
        assert_eq!(store.verify(None, t0).unwrap_err(), TokenProblem::Missing);
        assert_eq!(store.verify(Some("Basic abc"), t0).unwrap_err(), TokenProblem::Malformed);
        assert_eq!(store.verify(Some("Bearer nope"), t0).unwrap_err(), TokenProblem::Unknown);
    }

    #[test]
    fn read_scope_cannot_write() {
        let read = vec![READ_SCOPE.to_string()];
        assert!(allows(&read, false) && !allows(&read, true));
        let manage = vec![MANAGE_SCOPE.to_string()];
        assert!(allows(&manage, false) && allows(&manage, true));
        assert!(!allows(&[], false));
    }
}
