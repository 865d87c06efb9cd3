//! [`ApiVersion`] and [`Resource`]: the one place that decides where each
//! operation is sent (its path prefix) and which headers a version needs.

use std::fmt;

use crate::error::Error;

/// Which version of the API to call: the path segment after the tenant root.
/// The Password Sync Groups API is the same under each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `/beta` (the default, where the API started).
    #[default]
    Beta,
    /// `/v3`, the first GA version.
    V3,
    /// `/v2024`.
    V2024,
    /// `/v2025`.
    V2025,
    /// `/v2026`.
    V2026,
}

/// What an operation works on: each has its own path prefix and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
    /// `/password-sync-groups`.
    PasswordSyncGroups,
    /// `/sources`.
    Sources,
    /// `/password-policies`.
    PasswordPolicies,
}

impl Resource {
    /// Every resource psg calls.
    pub const ALL: &'static [Resource] =
        &[Resource::PasswordSyncGroups, Resource::Sources, Resource::PasswordPolicies];

    /// The OAuth scope an API client needs to read this resource.
    pub fn read_scope(&self) -> &'static str {
        match self {
            Resource::PasswordSyncGroups => "idn:password-sync-group:read",
            Resource::Sources => "idn:sources:read",
            Resource::PasswordPolicies => "idn:password-policy:read",
        }
    }

    /// The OAuth scope an API client needs to change this resource (psg only
    /// changes password sync groups; the others are read-only to psg).
    pub fn write_scope(&self) -> &'static str {
        match self {
            Resource::PasswordSyncGroups => "idn:password-sync-group:manage",
            Resource::Sources => "idn:sources:manage",
            Resource::PasswordPolicies => "idn:password-policy:manage",
        }
    }
}

/// `X-SailPoint-Experimental: true`, which SailPoint's specs declare required
/// on some operations of the dated versions.
const EXPERIMENTAL: &[(&str, &str)] = &[("X-SailPoint-Experimental", "true")];

impl ApiVersion {
    /// Every version, oldest path first. A slice: versions are added in minor releases.
    pub const ALL: &'static [ApiVersion] =
        &[ApiVersion::Beta, ApiVersion::V3, ApiVersion::V2024, ApiVersion::V2025, ApiVersion::V2026];

    /// The path segment: `beta`, `v3`, `v2024`, ...
    pub fn as_str(&self) -> &'static str {
        match self {
            ApiVersion::Beta => "beta",
            ApiVersion::V3 => "v3",
            ApiVersion::V2024 => "v2024",
            ApiVersion::V2025 => "v2025",
            ApiVersion::V2026 => "v2026",
        }
    }

    /// The version actually called for `resource`: sources and password
    /// policies are GA, so with [`ApiVersion::Beta`] they are read from `/v3`.
    pub fn for_resource(&self, resource: Resource) -> ApiVersion {
        match (self, resource) {
            (ApiVersion::Beta, Resource::Sources | Resource::PasswordPolicies) => ApiVersion::V3,
            (v, _) => *v,
        }
    }

    /// The path prefix of `resource`'s operations, e.g. `/v3` for sources
    /// when the client is set to beta.
    ///
    /// ```
    /// use psg_ext::{ApiVersion, config::Resource};
    /// assert_eq!(ApiVersion::Beta.prefix(Resource::PasswordSyncGroups), "/beta");
    /// assert_eq!(ApiVersion::Beta.prefix(Resource::Sources), "/v3");
    /// ```
    pub fn prefix(&self, resource: Resource) -> String {
        format!("/{}", self.for_resource(resource).as_str())
    }

    /// Headers SailPoint's spec of this version declares required on every
    /// operation of `resource` (beyond `Authorization`): on v2024–v2026
    /// password policies, `X-SailPoint-Experimental: true`.
    ///
    /// ```
    /// use psg_ext::{ApiVersion, config::Resource};
    /// assert_eq!(ApiVersion::V2025.headers(Resource::PasswordPolicies), &[("X-SailPoint-Experimental", "true")]);
    /// assert!(ApiVersion::V3.headers(Resource::PasswordPolicies).is_empty());
    /// ```
    pub fn headers(&self, resource: Resource) -> &'static [(&'static str, &'static str)] {
        match (self.for_resource(resource), resource) {
            (ApiVersion::V2024 | ApiVersion::V2025 | ApiVersion::V2026, Resource::PasswordPolicies) => {
                EXPERIMENTAL
            }
            _ => &[],
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let wanted = s.trim().trim_start_matches('/');
        ApiVersion::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(wanted)).ok_or_else(|| {
            let known: Vec<_> = ApiVersion::ALL.iter().map(|v| v.as_str()).collect();
            Error::config(format!("unknown API version {s:?}: use one of {}", known.join(", ")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_parse_back() {
        for v in ApiVersion::ALL {
            assert_eq!(v.as_str().parse::<ApiVersion>().unwrap(), *v);
        }
        let e = "v4".parse::<ApiVersion>().unwrap_err().to_string();
        assert!(e.contains("v2026") && e.contains("beta"), "{e}");
    }

    #[test]
    fn only_dated_policies_need_the_experimental_header() {
        for v in ApiVersion::ALL {
            for r in Resource::ALL {
                let want = matches!(v, ApiVersion::V2024 | ApiVersion::V2025 | ApiVersion::V2026)
                    && *r == Resource::PasswordPolicies;
                assert_eq!(!v.headers(*r).is_empty(), want, "{v} {r:?}");
            }
        }
        assert_eq!(ApiVersion::Beta.prefix(Resource::PasswordPolicies), "/v3");
        assert_eq!(ApiVersion::V2025.prefix(Resource::Sources), "/v2025");
    }
}
