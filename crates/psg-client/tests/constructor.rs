//! `Client::new` is fallible and speaks `https://` with the default
//! `rustls-ring` feature, without installing any process-wide provider (a
//! user of psg-client alone got a panic: no TLS feature, and an unwrap). One
//! test in its own process, so nothing else installs a provider first.

use psg_client::Client;
use psg_client::hooks::Hooks;
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn new_builds_a_tls_client_without_a_process_provider() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 3];
        conn.read_exact(&mut first).await.unwrap();
        first
    });
    let client =
        Client::new(&format!("https://{addr}/beta"), Hooks::none()).expect("an error, never a panic");
    // The server closes after the first bytes: the call fails, and that is fine.
    let _ = client.get_password_sync_groups(None, Some(1), None).await;
    assert_eq!(server.await.unwrap(), [0x16, 0x03, 0x01], "the server saw a TLS ClientHello");
    assert!(rustls::crypto::CryptoProvider::get_default().is_none(), "nothing installed process-wide");
}
