//! TLS set-up per HTTP client, with no process-wide side effect.
//!
//! With `rustls-ring`, [`configure`] gives a `reqwest` builder its own rustls
//! configuration on the ring provider (servers verified by the platform's
//! verifier plus `extra_roots`); rustls' process default provider is neither
//! read nor installed. With `rustls-aws-lc` or `native-tls` (and no
//! `rustls-ring`), it adds `extra_roots` to reqwest's own stack.

use crate::construct::BuildError;

/// A DER-encoded X.509 certificate.
pub type CertificateDer = Vec<u8>;

/// Sets `http`'s TLS as described in the [module docs](self).
#[cfg(feature = "rustls-ring")]
pub fn configure(
    http: reqwest::ClientBuilder,
    extra_roots: Vec<CertificateDer>,
) -> Result<reqwest::ClientBuilder, BuildError> {
    use std::sync::Arc;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let bad = |e: rustls::Error| BuildError::new(format!("cannot set up TLS: {e}"));
    let extra: Vec<_> = extra_roots.into_iter().map(rustls::pki_types::CertificateDer::from).collect();
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone()).map_err(bad)?
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone()).map_err(bad)?
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(bad)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // The reqwest of this workspace speaks HTTP/1.1 only.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(http.tls_backend_preconfigured(tls))
}

/// Sets `http`'s TLS as described in the [module docs](self).
#[cfg(all(not(feature = "rustls-ring"), any(feature = "rustls-aws-lc", feature = "native-tls")))]
pub fn configure(
    mut http: reqwest::ClientBuilder,
    extra_roots: Vec<CertificateDer>,
) -> Result<reqwest::ClientBuilder, BuildError> {
    for der in extra_roots {
        http = http.add_root_certificate(reqwest::Certificate::from_der(&der).map_err(BuildError::new)?);
    }
    Ok(http)
}

/// Without a TLS feature the client speaks plain `http://` only.
#[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc", feature = "native-tls")))]
pub fn configure(
    http: reqwest::ClientBuilder,
    extra_roots: Vec<CertificateDer>,
) -> Result<reqwest::ClientBuilder, BuildError> {
    if extra_roots.is_empty() {
        Ok(http)
    } else {
        Err(BuildError::new(
            "root certificates need a TLS feature (rustls-ring, rustls-aws-lc or native-tls)",
        ))
    }
}
