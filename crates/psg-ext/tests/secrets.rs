//! Secrets stay out of logs, errors and Debug output. Alone in its own test
//! binary: `tracing` caches per call site whether anyone listens, so a test
//! that ran earlier without a subscriber could silence these logs.

mod common;
mod hostile;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{SECRET, demo_client};
use futures::TryStreamExt;
use hostile::{Hostile, ISSUED_TOKEN, Mode};
use psg_emulator::Emulator;
use psg_ext::{Client, RetryPolicy};

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_logs_errors_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // The hostile server issues a token the test knows, and makes the client
    // retry (429s) and fail (404), so every log path runs.
    let h = Hostile::start(3, Mode { answer_429: 2, ..Mode::default() }).await;
    let client = Client::builder()
        .base_url(h.base_url())
        .client_credentials("hostile-client", SECRET)
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(1))
                .max_retry_after(Duration::from_millis(5)),
        )
        .rate_limit(None)
        .build()
        .unwrap();
    let groups: Vec<_> = client.list_groups().stream().try_collect().await.unwrap();
    assert_eq!(groups.len(), 3);
    let err = client.get_group("nope").await.unwrap_err();
    let emu = Emulator::builder().ephemeral().rate_limit(None).start().await.unwrap();
    let wrong =
        demo_client(&emu.base_url(), 1).client_credentials("psg-demo", "wrong-secret-value").build().unwrap();
    let auth_err = wrong.get_group("x").await.unwrap_err();
    let userinfo = Client::builder()
        .base_url("https://user:url-password@acme.example")
        .access_token("t")
        .build()
        .unwrap_err();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("psg.operation") && logs.contains("retrying"), "tracing is on: {logs}");
    assert!(!h.token_requests().is_empty(), "a token was issued");
    for text in [
        logs.as_str(),
        &format!("{client:?} {:?}", client.config()),
        &format!("{err:?} {err}"),
        &format!("{auth_err:?} {auth_err}"),
        &format!("{userinfo:?} {userinfo}"),
    ] {
        for secret in [SECRET, ISSUED_TOKEN, "wrong-secret-value", "url-password"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}
