//! The TLS set-up of a client, chosen per client with no process-wide side
//! effect: with `rustls-ring`, each client gets its own rustls configuration
//! built on the ring provider (rustls' process default provider is neither
//! read nor installed), verifying servers with the platform's verifier plus
//! any configured root certificates. `rustls-aws-lc` and `native-tls` leave
//! it to reqwest, which installs nothing either.

use crate::error::Error;

/// Parses each configured PEM bundle into its certificates; an unusable
/// bundle, or one without a certificate, is an error naming it.
pub(crate) fn root_certificates(pems: &[Vec<u8>]) -> Result<Vec<reqwest::Certificate>, Error> {
    let mut out = Vec::new();
    for (i, pem) in pems.iter().enumerate() {
        let bad = |why: String| Error::config(format!("root certificate #{} is not usable: {why}", i + 1));
        // A PEM without any CERTIFICATE block would otherwise be accepted and trust nothing.
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no -----BEGIN CERTIFICATE----- block in it".into()));
        }
        out.extend(certs);
    }
    Ok(out)
}

/// Sets the client's TLS: its own ring-based rustls configuration.
#[cfg(feature = "rustls-ring")]
pub(crate) fn configure(
    http: reqwest::ClientBuilder,
    pems: &[Vec<u8>],
) -> Result<reqwest::ClientBuilder, Error> {
    use std::sync::Arc;

    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    root_certificates(pems)?;
    let mut extra: Vec<CertificateDer<'static>> = Vec::new();
    for (i, pem) in pems.iter().enumerate() {
        for cert in CertificateDer::pem_slice_iter(pem) {
            extra.push(
                cert.map_err(|e| Error::config(format!("root certificate #{} is not usable: {e}", i + 1)))?,
            );
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let bad = |e: rustls::Error| Error::config(format!("cannot set up TLS: {e}"));
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
    // psg's reqwest speaks HTTP/1.1 only.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(http.tls_backend_preconfigured(tls))
}

/// Sets the client's TLS: reqwest's own stack, with the configured roots.
#[cfg(not(feature = "rustls-ring"))]
pub(crate) fn configure(
    mut http: reqwest::ClientBuilder,
    pems: &[Vec<u8>],
) -> Result<reqwest::ClientBuilder, Error> {
    for cert in root_certificates(pems)? {
        http = http.add_root_certificate(cert);
    }
    Ok(http)
}
