//! [`ApiVersion`], [`Layout`] and [`Resource`]: the one place that decides
//! where each operation is sent (its root and path) and which headers a
//! version needs.

use std::fmt;

use crate::error::Error;

/// Which version of the API to call. The Password Sync Groups API is the
/// same under each; what differs is where its paths are ([`Layout`]).
///
/// Which to choose: [`ApiVersion::V1`] is SailPoint's current layout (the
/// one its current SDKs call); [`ApiVersion::Beta`] stays the default so
/// that existing profiles and saved plans keep working; the GA versions
/// (`v3`, `v2024`–`v2026`) for tenants whose policy is to avoid beta paths.
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
    /// SailPoint's per-service layout, `/password-sync-groups/v1`,
    /// `/sources/v1`, `/password-policies/v1`: the version follows the
    /// resource ([`Layout::PerService`]).
    V1,
}

/// Where a version puts its paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layout {
    /// The version is the first path segment: `/beta/password-sync-groups`.
    Prefixed,
    /// The version follows the resource: `/password-sync-groups/v1`, from
    /// the tenant root.
    PerService,
}

/// What an operation works on: each has its own path prefix and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
    /// Password sync groups: `password-sync-groups`.
    PasswordSyncGroups,
    /// `/sources`.
    Sources,
    /// `/password-policies`.
    PasswordPolicies,
}

impl Resource {
    /// The path segment that names the resource: `password-sync-groups`,
    /// `sources`, `password-policies`.
    pub fn segment(&self) -> &'static str {
        match self {
            Resource::PasswordSyncGroups => "password-sync-groups",
            Resource::Sources => "sources",
            Resource::PasswordPolicies => "password-policies",
        }
    }

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
    pub const ALL: &'static [ApiVersion] = &[
        ApiVersion::Beta,
        ApiVersion::V3,
        ApiVersion::V2024,
        ApiVersion::V2025,
        ApiVersion::V2026,
        ApiVersion::V1,
    ];

    /// The path segment: `beta`, `v3`, `v2024`, ...
    pub fn as_str(&self) -> &'static str {
        match self {
            ApiVersion::Beta => "beta",
            ApiVersion::V3 => "v3",
            ApiVersion::V2024 => "v2024",
            ApiVersion::V2025 => "v2025",
            ApiVersion::V2026 => "v2026",
            ApiVersion::V1 => "v1",
        }
    }

    /// Where this version puts its paths.
    pub fn layout(&self) -> Layout {
        match self {
            ApiVersion::V1 => Layout::PerService,
            _ => Layout::Prefixed,
        }
    }

    /// The path of `resource`'s collection (`item == false`) or of one of its
    /// items (`item == true`, with `{id}`), from the tenant root, as sent:
    ///
    /// ```
    /// use psg_ext::{ApiVersion, config::Resource};
    /// assert_eq!(ApiVersion::Beta.path(Resource::PasswordSyncGroups, false), "/beta/password-sync-groups");
    /// assert_eq!(ApiVersion::Beta.path(Resource::Sources, true), "/v3/sources/{id}");
    /// assert_eq!(ApiVersion::V1.path(Resource::PasswordSyncGroups, true), "/password-sync-groups/v1/{id}");
    /// ```
    pub fn path(&self, resource: Resource, item: bool) -> String {
        let version = self.for_resource(resource);
        let collection = match version.layout() {
            Layout::Prefixed => format!("/{}/{}", version.as_str(), resource.segment()),
            Layout::PerService => format!("/{}/{}", resource.segment(), version.as_str()),
        };
        if item { format!("{collection}/{{id}}") } else { collection }
    }

    /// The version to suggest when this one is not served by a tenant: the
    /// other layout.
    pub fn alternative(&self) -> ApiVersion {
        match self.layout() {
            Layout::Prefixed => ApiVersion::V1,
            Layout::PerService => ApiVersion::Beta,
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
    /// when the client is set to beta; empty in the per-service layout (its
    /// operations start at the tenant root).
    ///
    /// ```
    /// use psg_ext::{ApiVersion, config::Resource};
    /// assert_eq!(ApiVersion::Beta.prefix(Resource::PasswordSyncGroups), "/beta");
    /// assert_eq!(ApiVersion::Beta.prefix(Resource::Sources), "/v3");
    /// assert_eq!(ApiVersion::V1.prefix(Resource::Sources), "");
    /// ```
    pub fn prefix(&self, resource: Resource) -> String {
        let version = self.for_resource(resource);
        match version.layout() {
            Layout::Prefixed => format!("/{}", version.as_str()),
            Layout::PerService => String::new(),
        }
    }

    /// Headers SailPoint's spec of this version declares required on every
    /// operation of `resource` (beyond `Authorization`): on v2024–v2026 and
    /// v1 password policies, `X-SailPoint-Experimental: true`.
    ///
    /// ```
    /// use psg_ext::{ApiVersion, config::Resource};
    /// assert_eq!(ApiVersion::V2025.headers(Resource::PasswordPolicies), &[("X-SailPoint-Experimental", "true")]);
    /// assert!(ApiVersion::V3.headers(Resource::PasswordPolicies).is_empty());
    /// ```
    pub fn headers(&self, resource: Resource) -> &'static [(&'static str, &'static str)] {
        match (self.for_resource(resource), resource) {
            (
                ApiVersion::V2024 | ApiVersion::V2025 | ApiVersion::V2026 | ApiVersion::V1,
                Resource::PasswordPolicies,
            ) => EXPERIMENTAL,
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
                let want =
                    matches!(v, ApiVersion::V2024 | ApiVersion::V2025 | ApiVersion::V2026 | ApiVersion::V1)
                        && *r == Resource::PasswordPolicies;
                assert_eq!(!v.headers(*r).is_empty(), want, "{v} {r:?}");
            }
        }
        assert_eq!(ApiVersion::Beta.prefix(Resource::PasswordPolicies), "/v3");
        assert_eq!(ApiVersion::V2025.prefix(Resource::Sources), "/v2025");
    }

    #[test]
    fn every_path_names_its_version_once_and_its_resource() {
        for v in ApiVersion::ALL {
            for r in Resource::ALL {
                let path = v.path(*r, false);
                let called = v.for_resource(*r).as_str();
                let segments: Vec<_> = path.trim_start_matches('/').split('/').collect();
                assert_eq!(segments.len(), 2, "{path}");
                assert!(segments.contains(&called) && segments.contains(&r.segment()), "{path}");
                assert_eq!(v.path(*r, true), format!("{path}/{{id}}"));
                assert!(path.starts_with(&v.prefix(*r)), "{path}");
            }
            assert_ne!(v.alternative().layout(), v.layout());
        }
        assert_eq!(ApiVersion::V1.path(Resource::PasswordPolicies, false), "/password-policies/v1");
    }
}
