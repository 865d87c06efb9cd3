//! The tenant URL: checked (https, or http on loopback only; no user name or
//! password) and normalised to the tenant root.

use std::net::IpAddr;

use super::ApiVersion;
use crate::error::Error;

/// Whether `url`'s host is loopback (127.0.0.0/8, ::1, `localhost`).
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Checks and normalises a tenant root: https (or http on loopback only), no
/// user name or password in it; a trailing `/` or API version segment equal
/// to `version` is removed (psg adds it itself).
pub(crate) fn normalize_base_url(raw: &str, origin: &str, version: ApiVersion) -> Result<url::Url, Error> {
    let mut url = url::Url::parse(raw.trim()).map_err(|e| {
        Error::config(format!(
            "{origin} is not a URL ({e}): write the tenant API root such as https://acme.api.identitynow.com"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "{origin} contains a user name or password: remove them from the URL (credentials belong in the client id and secret)"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::config(format!(
                "{origin} uses plain http on a non-loopback host: the client secret and tokens would cross the network unencrypted; use https:// (http is accepted only for 127.0.0.0/8, ::1 and localhost)"
            )));
        }
        other => return Err(Error::config(format!("{origin} has scheme '{other}': use https://"))),
    }
    let mut path = url.path().trim_end_matches('/').to_string();
    if let Some((rest, last)) = path.rsplit_once('/') {
        if last.eq_ignore_ascii_case(version.as_str()) {
            path = rest.to_string();
        } else if ApiVersion::ALL.iter().any(|v| v.as_str().eq_ignore_ascii_case(last)) {
            return Err(Error::config(format!(
                "{origin} ends in the API path /{last}: give the tenant root (e.g. https://acme.api.identitynow.com) and choose the API version separately (api_version, --api-version; now {version})"
            )));
        }
    }
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        let v = ApiVersion::Beta;
        for ok in ["http://127.0.0.1:8620", "http://localhost:1/beta", "http://[::1]:80", "http://127.8.9.1"]
        {
            assert!(normalize_base_url(ok, "x", v).is_ok(), "{ok}");
        }
        let e = normalize_base_url("http://acme.api.identitynow.com", "SAIL_BASE_URL", v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("SAIL_BASE_URL") && e.contains("https://") && e.contains("unencrypted"), "{e}");
        assert!(normalize_base_url("ftp://x", "x", v).is_err());
        assert!(normalize_base_url("not a url", "x", v).is_err());
        assert_eq!(
            normalize_base_url("http://localhost:1/beta/", "x", v).unwrap().as_str(),
            "http://localhost:1/"
        );
        let e = normalize_base_url("https://bob:hunter2@acme.example", "SAIL_BASE_URL", v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("user name or password") && !e.contains("hunter2") && !e.contains("bob"), "{e}");
        let e = normalize_base_url("https://acme.example/v3", "SAIL_BASE_URL", v).unwrap_err().to_string();
        assert!(e.contains("/v3") && e.contains("api-version"), "{e}");
        assert_eq!(
            normalize_base_url("https://acme.example/v3", "x", ApiVersion::V3).unwrap().as_str(),
            "https://acme.example/"
        );
    }
}
