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

/// Sets the client's TLS: its own ring-based rustls configuration
/// ([`psg_client::tls::configure`], shared with psg-client's constructor).
#[cfg(feature = "rustls-ring")]
pub(crate) fn configure(
    http: reqwest::ClientBuilder,
    pems: &[Vec<u8>],
) -> Result<reqwest::ClientBuilder, Error> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    root_certificates(pems)?;
    let mut extra = Vec::new();
    for (i, pem) in pems.iter().enumerate() {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert =
                cert.map_err(|e| Error::config(format!("root certificate #{} is not usable: {e}", i + 1)))?;
            extra.push(cert.to_vec());
        }
    }
    psg_client::tls::configure(http, extra).map_err(|e| Error::config(e.to_string()))
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
