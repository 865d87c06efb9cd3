//! Helpers for the end-to-end tests: find the built binaries, run `psg` with
//! a clean environment pointed at an emulator, and collect what it printed.

use std::path::PathBuf;
use std::process::Output;

use psg_emulator::{Emulator, EmulatorBuilder, EmulatorHandle};

/// The demo client's secret: must never appear in any output.
pub const DEMO_SECRET: &str = "psg-demo-secret";

/// Path of a binary of this workspace, built by `cargo test --workspace`
/// (psg-cli and psg-emulator have integration tests, so cargo builds them).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p psg-cli -p psg-emulator` (cargo test --workspace builds it)",
        path.display()
    );
    path
}

/// An emulator on a free loopback port, without a rate limit unless asked.
pub async fn emulator(configure: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> EmulatorHandle {
    configure(Emulator::builder().ephemeral().rate_limit(None)).start().await.expect("emulator starts")
}

/// What a run of `psg` printed.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "psg failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        &self.stdout
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// `psg` with an environment holding only what the test sets: the demo
/// client's credentials for `base` (if given), no profile file.
pub fn psg_command(base: Option<&str>) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(binary("psg"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PSG_CONFIG", "/nonexistent/psg-config.toml")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(base) = base {
        cmd.env("SAIL_BASE_URL", base)
            .env("SAIL_CLIENT_ID", "psg-demo")
            .env("SAIL_CLIENT_SECRET", DEMO_SECRET);
    }
    cmd
}

/// Runs `psg ARGS` against `base` and waits for it.
pub async fn psg(base: Option<&str>, args: &[&str]) -> Run {
    psg_command(base).args(args).output().await.expect("psg runs").into()
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("psg-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// What a [`canned_api`] answers to one request line (`GET /beta/... HTTP/1.1`):
/// status line (`200 OK`) and JSON body.
pub type Answer = (&'static str, String);

/// A tiny API on a free loopback port: the token endpoint issues `token`,
/// every other request is answered by `respond` from its request line (with
/// `X-Total-Count: 1`). For answers the emulator never gives.
pub async fn canned_api(token: &str, respond: impl Fn(&str) -> Answer + Send + Sync + 'static) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let token_body = format!(r#"{{"access_token":"{token}","token_type":"bearer","expires_in":3600}}"#);
    let respond = std::sync::Arc::new(respond);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let (token_body, respond) = (token_body.clone(), respond.clone());
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let (mut first, mut line, mut length) = (String::new(), String::new(), 0usize);
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if first.is_empty() {
                            first = line.clone();
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let (status, text) = if first.contains("/oauth/token") {
                        ("200 OK", token_body.clone())
                    } else {
                        respond(&first)
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nx-total-count: 1\r\ncontent-length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    if write.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    base
}
