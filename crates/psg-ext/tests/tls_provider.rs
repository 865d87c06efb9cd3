//! Building and using a client leaves rustls' process-wide default crypto
//! provider alone: an application that installs its own afterwards with
//! `.expect()` does not panic. One test in its own process (this file), so
//! that nothing else installs a provider first.

use std::time::Duration;

use psg_ext::{Client, RetryPolicy};
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn a_client_installs_no_process_default_crypto_provider() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none(), "nothing installed at start");

    // A loopback server that records the first bytes it receives.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 3];
        conn.read_exact(&mut first).await.unwrap();
        first
    });
    let client = Client::builder()
        .base_url(format!("https://{addr}"))
        .access_token("fixed-token-for-tls-test")
        .retry_policy(RetryPolicy::never())
        .rate_limit(None)
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    // The handshake goes nowhere (the server never answers), but it is made.
    let err = client.list_groups().page().await.unwrap_err();
    assert!(err.is_timeout() || err.is_connect() || err.to_string().contains("could not reach"), "{err}");
    let first = server.await.unwrap();
    assert_eq!(first[..3], [0x16, 0x03, 0x01], "the server saw a TLS ClientHello: {first:02x?}");

    assert!(
        rustls::crypto::CryptoProvider::get_default().is_none(),
        "building and using a client installed a process default provider"
    );
    // The application's own choice, made afterwards, succeeds.
    rustls::crypto::ring::default_provider()
        .install_default()
        .expect("the application installs its provider after building a psg client");
}
