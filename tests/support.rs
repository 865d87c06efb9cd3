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
