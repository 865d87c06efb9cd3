//! Profile files: `[profiles.NAME]` tables of TOML, read strictly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::builder::{Connection, Names, check_complete};
use super::{ClientBuilder, ConnectionSource};
use crate::error::Error;
use crate::rate_limit::RateLimit;
use crate::secret::Secret;

/// Path of the profile file (default: the platform config dir's `psg/config.toml`).
pub const ENV_CONFIG_FILE: &str = "PSG_CONFIG";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    base_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    access_token: Option<String>,
    /// `COUNT/SECS` or `off`.
    rate_limit: Option<String>,
    timeout_secs: Option<u64>,
    max_attempts: Option<u32>,
    api_version: Option<String>,
}

/// The profile file in force: `$PSG_CONFIG`, else `<config dir>/psg/config.toml`
/// (`~/.config/psg/config.toml` on Linux, `~/Library/Application Support/psg/config.toml`
/// on macOS, `%APPDATA%\psg\config.toml` on Windows).
pub fn profile_file_path() -> Option<PathBuf> {
    std::env::var_os(ENV_CONFIG_FILE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("psg").join("config.toml")))
}

/// Largest profile file read.
const MAX_PROFILE_FILE: u64 = 1 << 20;

fn read_profiles(path: &Path) -> Result<ProfileFile, Error> {
    let cannot = |e: String| {
        Error::config(format!(
            "cannot read profile file {}: {e} (create it, or point {ENV_CONFIG_FILE} at an existing file)",
            path.display()
        ))
    };
    let len = std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?.len();
    if len > MAX_PROFILE_FILE {
        return Err(cannot(format!("it is {len} bytes; a profile file is at most 1 MiB")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| cannot(e.to_string()))?;
    toml::from_str(&text).map_err(|e| {
        let line =
            e.span().and_then(|s| text.get(..s.start)).map(|t| t.matches('\n').count() + 1).unwrap_or(1);
        Error::config(format!("{}:{line}: {}", path.display(), e.message().trim()))
    })
}

impl ClientBuilder {
    /// Profile `name` of the profile file ([`profile_file_path`]): its
    /// connection, and its rate limit, timeout, attempts and API version.
    pub fn from_profile(name: &str) -> Result<Self, Error> {
        let path = profile_file_path().ok_or_else(|| {
            Error::config(format!(
                "no config directory on this platform: set {ENV_CONFIG_FILE} to the profile file"
            ))
        })?;
        Self::from_profile_file(&path, name)
    }

    /// Profile `name` of the TOML file at `path`.
    ///
    /// ```toml
    /// [profiles.prod]
    /// base_url = "https://acme.api.identitynow.com"
    /// client_id = "..."
    /// client_secret = "..."
    /// api_version = "v3"        # beta (default), v3, v2024, v2025, v2026, v1
    /// rate_limit = "100/10"     # or "off"
    /// timeout_secs = 30
    /// max_attempts = 3
    /// ```
    pub fn from_profile_file(path: &Path, name: &str) -> Result<Self, Error> {
        let file = read_profiles(path)?;
        let profile = file.profiles.get(name).ok_or_else(|| {
            let known: Vec<_> = file.profiles.keys().cloned().collect();
            Error::config(format!(
                "profile '{name}' is not in {} (known profiles: {}); add a [profiles.{name}] table",
                path.display(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
        })?;
        Self::from_profile_entry(path, name, profile)
    }

    /// The `default` profile when the file at `path` exists and has one;
    /// `Ok(None)` otherwise. A file that exists but does not parse is an error.
    pub fn from_default_profile(path: &Path) -> Result<Option<Self>, Error> {
        if !path.exists() {
            return Ok(None);
        }
        let file = read_profiles(path)?;
        file.profiles.get("default").map(|p| Self::from_profile_entry(path, "default", p)).transpose()
    }

    fn from_profile_entry(path: &Path, name: &str, p: &Profile) -> Result<Self, Error> {
        let origin = format!("profile '{name}' in {}", path.display());
        let connection = Connection {
            base_url: p.base_url.clone().filter(|v| !v.trim().is_empty()),
            client_id: p.client_id.clone().filter(|v| !v.trim().is_empty()),
            client_secret: p.client_secret.clone().filter(|v| !v.is_empty()).map(Secret::new),
            access_token: p.access_token.clone().filter(|v| !v.is_empty()).map(Secret::new),
        };
        let names = Names {
            base_url: "base_url",
            client_id: "client_id",
            client_secret: "client_secret",
            access_token: "access_token",
            place: &origin,
        };
        check_complete(&connection, &names)?;
        let mut b = ClientBuilder {
            connection,
            source: ConnectionSource::Profile { name: name.to_string(), path: path.to_path_buf() },
            ..Self::default()
        };
        if let Some(r) = &p.rate_limit {
            b.rate_limit = RateLimit::parse_setting(r)
                .map_err(|e| Error::config(format!("{origin}: rate_limit: {e}")))?;
        }
        if let Some(secs) = p.timeout_secs {
            if !(1..=3600).contains(&secs) {
                return Err(Error::config(format!("{origin}: timeout_secs {secs} is out of range 1..=3600")));
            }
            b.request_timeout = Duration::from_secs(secs);
        }
        if let Some(n) = p.max_attempts {
            if !(1..=100).contains(&n) {
                return Err(Error::config(format!("{origin}: max_attempts {n} is out of range 1..=100")));
            }
            b.retry = b.retry.max_attempts(n);
        }
        if let Some(v) = &p.api_version {
            b.api_version = v.parse().map_err(|e| Error::config(format!("{origin}: api_version: {e}")))?;
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Credentials;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn a_profile_supplies_a_whole_connection_and_layered_settings() {
        let (_d, p) = write(
            "good.toml",
            "[profiles.prod]\nbase_url = \"https://prod.example\"\nclient_id = \"file-id\"\nclient_secret = \"file-pw\"\nrate_limit = \"off\"\nmax_attempts = 5\napi_version = \"v3\"\n",
        );
        let c = ClientBuilder::from_profile_file(&p, "prod").unwrap().into_config().unwrap();
        assert_eq!(c.base_url(), "https://prod.example/");
        assert_eq!(c.api_root(), "https://prod.example/v3");
        assert_eq!(c.rate_limit(), None);
        assert_eq!(c.retry().attempts(), 5);
        match c.credentials() {
            Credentials::ClientCredentials { client_id, client_secret } => {
                assert_eq!((client_id.as_str(), client_secret.expose()), ("file-id", "file-pw"));
            }
            other => panic!("{other:?}"),
        }
        // Setting a URL in code drops the profile's credentials entirely.
        let e = ClientBuilder::from_profile_file(&p, "prod")
            .unwrap()
            .base_url("https://elsewhere.example")
            .into_config()
            .unwrap_err()
            .to_string();
        assert!(e.contains("no complete credentials"), "{e}");
    }

    #[test]
    fn bad_profile_files_name_file_and_line() {
        let (_d, p) = write("bad.toml", "[profiles.prod]\nbase_url = \"https://x\"\nclient_id = = 3\n");
        let e = ClientBuilder::from_profile_file(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("bad.toml:3"), "{e}");
        let (_d, p) = write("unknown.toml", "[profiles.prod]\nbase_ur = \"https://x\"\n");
        let e = ClientBuilder::from_profile_file(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("unknown.toml:2") && e.contains("base_ur"), "{e}");
        let (_d, p) = write("other.toml", "[profiles.dev]\n");
        let e = ClientBuilder::from_profile_file(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("'prod'") && e.contains("dev"), "{e}");
        let e = ClientBuilder::from_profile_file(Path::new("/nonexistent/psg.toml"), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/psg.toml") && e.contains(ENV_CONFIG_FILE), "{e}");
        let (_d, p) =
            write("partial.toml", "[profiles.prod]\nbase_url = \"https://x\"\nclient_id = \"id\"\n");
        let e = ClientBuilder::from_profile_file(&p, "prod").unwrap_err().to_string();
        assert!(e.contains("client_secret") && e.contains("'prod'"), "{e}");
        for (key, bad) in [
            ("rate_limit", "\"1/1e300\""),
            ("timeout_secs", "0"),
            ("max_attempts", "0"),
            ("api_version", "\"v9\""),
        ] {
            let (_d, p) = write(
                "r.toml",
                &format!("[profiles.p]\nbase_url = \"https://x\"\naccess_token = \"t\"\n{key} = {bad}\n"),
            );
            let e = ClientBuilder::from_profile_file(&p, "p").unwrap_err().to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
    }
}
