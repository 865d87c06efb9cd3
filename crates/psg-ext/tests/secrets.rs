//! Secrets stay out of logs, errors and Debug output. Alone in its own test
//! binary: `tracing` caches per call site whether anyone listens, so a test
//! that ran earlier without a subscriber could silence these logs.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::demo_client;
use futures::TryStreamExt;
use psg_emulator::Emulator;

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
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .faults("503=0.3".parse().unwrap(), 3)
        .start()
        .await
        .unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = demo_client(&emu.base_url(), 5).build().unwrap();
    let groups: Vec<_> = client.list_groups().stream().try_collect().await.unwrap();
    assert!(groups.is_empty());
    let err = client.get_group("nope").await.unwrap_err();
    let wrong =
        demo_client(&emu.base_url(), 1).client_credentials("psg-demo", "wrong-secret-value").build().unwrap();
    let auth_err = wrong.get_group("x").await.unwrap_err();

    // The token the emulator issued: fetch one more to learn its shape is hex.
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("psg.operation"), "tracing is on: {logs}");
    for text in [
        logs.as_str(),
        &format!("{client:?}"),
        &format!("{err:?} {err}"),
        &format!("{auth_err:?} {auth_err}"),
    ] {
        assert!(!text.contains("psg-demo-secret"), "secret leaked: {text}");
        assert!(!text.contains("wrong-secret-value"), "secret leaked: {text}");
        assert!(!text.to_lowercase().contains("bearer "), "token leaked: {text}");
    }
}
