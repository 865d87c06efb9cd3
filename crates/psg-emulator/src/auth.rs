//! Client credentials, issued tokens and scope checks.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use crate::config::{
    ClientSpec, MANAGE_SCOPE, POLICY_MANAGE_SCOPE, POLICY_READ_SCOPE, READ_SCOPE, SOURCES_MANAGE_SCOPE,
    SOURCES_READ_SCOPE,
};

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

/// What an API route works on, which decides the scopes it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Password sync groups: `idn:password-sync-group:read` or `:manage`.
    Groups,
    /// Sources: `idn:sources:read` or `idn:sources:manage`.
    Sources,
    /// Password policies: `idn:password-policy:read` or `:manage`.
    Policies,
}

impl Resource {
    /// The resource of a route template such as `/v3/sources/{id}`.
    pub fn of(route: &str) -> Self {
        if route.contains("/sources") {
            Resource::Sources
        } else if route.contains("/password-policies") {
            Resource::Policies
        } else {
            Resource::Groups
        }
    }

    /// (read scope, manage scope).
    fn scopes(self) -> (&'static str, &'static str) {
        match self {
            Resource::Groups => (READ_SCOPE, MANAGE_SCOPE),
            Resource::Sources => (SOURCES_READ_SCOPE, SOURCES_MANAGE_SCOPE),
            Resource::Policies => (POLICY_READ_SCOPE, POLICY_MANAGE_SCOPE),
        }
    }

    /// The scope a 403 names: the read scope for a read, else the manage scope.
    pub fn needed_scope(self, write: bool) -> &'static str {
        let (read, manage) = self.scopes();
        if write { manage } else { read }
    }
}

/// Whether `scopes` allow a read (`write == false`) or a write of `resource`.
pub fn allows(scopes: &[String], resource: Resource, write: bool) -> bool {
    let (read, manage) = resource.scopes();
    scopes
        .iter()
        .any(|s| s == manage || s == "sp:scopes:all" || (!write && (s == read || s == "sp:scopes:default")))
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
        assert!(allows(&read, Resource::Groups, false) && !allows(&read, Resource::Groups, true));
        let manage = vec![MANAGE_SCOPE.to_string()];
        assert!(allows(&manage, Resource::Groups, false) && allows(&manage, Resource::Groups, true));
        assert!(!allows(&[], Resource::Groups, false));
    }

    #[test]
    fn sources_and_policies_need_their_own_scopes() {
        let groups = vec![MANAGE_SCOPE.to_string()];
        assert!(!allows(&groups, Resource::Sources, false) && !allows(&groups, Resource::Policies, false));
        assert!(allows(&[SOURCES_READ_SCOPE.into()], Resource::Sources, false));
        assert!(allows(&[SOURCES_MANAGE_SCOPE.into()], Resource::Sources, false));
        assert!(allows(&[POLICY_READ_SCOPE.into()], Resource::Policies, false));
        assert!(allows(&["sp:scopes:all".into()], Resource::Policies, false));
        assert_eq!(Resource::of("/v3/sources/{id}"), Resource::Sources);
        assert_eq!(Resource::of("/beta/password-policies"), Resource::Policies);
        assert_eq!(Resource::of("/password-sync-groups/v1/{id}"), Resource::Groups);
        assert_eq!(Resource::Policies.needed_scope(false), "idn:password-policy:read");
    }
}
